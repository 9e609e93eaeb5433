"""What the structure check reports: a finding names the element, the rule broken and why.

Each finding carries the name of the rule it breaks, so that a test can tell the rules on which
we agree with the fhir.resources models from those where we deliberately follow the R4
specification instead (the ``SPEC_*`` rules below: there fhir.resources accepts, or crashes on,
a resource that the specification calls invalid).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- rules on which the check agrees with fhir.resources -----------------------------------

#: A JSON value of the wrong kind: an object, array or primitive where another is expected.
TYPE = "type"
#: A primitive value of the right JSON type that breaks its datatype's format.
FORMAT = "format"
#: A property that is not an element of the type.
UNKNOWN = "unknown-element"
#: A mandatory element (minimum cardinality 1) is missing.
REQUIRED = "required"
#: Two values of one choice element (``value[x]``), or none of a mandatory one.
CHOICE = "choice"
#: ``null`` inside an array of complex elements or resources.
NULL_IN_ARRAY = "null-in-array"
#: An extension object of a primitive (``_birthDate``) with neither an id nor extensions.
EMPTY_PRIMITIVE_EXTENSION = "empty-primitive-extension"
#: Objects nested deeper than ``structure_check.MAX_DEPTH``. fhir.resources has no fixed
#: limit: with deep nesting it accepts, refuses or hits Python's recursion limit depending on
#: how much stack is left, so the two may differ there.
DEPTH = "depth"

# --- rules where we follow the specification rather than fhir.resources ---------------------

#: json.html fixes the JSON type of each primitive; pydantic's lax mode takes "true" and 1 for
#: a boolean, "12" and 1.0 for an integer, "1.5" for a decimal, numbers (as timestamps) for
#: dates, times and instants, and a string holding JSON for a complex element.
SPEC_JSON_TYPE = "spec-json-type"
#: ele-1 / json.html: a primitive value is never the empty string; fhir.resources takes "" for
#: uri, url, canonical, markdown, xhtml and base64Binary.
SPEC_EMPTY_STRING = "spec-empty-string"
#: datatypes.html#uri: ``\S*``; fhir.resources searches rather than matches that pattern, so
#: any string passes, and a url that is not a string at all makes it raise AttributeError.
SPEC_URI_WHITESPACE = "spec-uri-whitespace"
#: datatypes.html#uuid: ``urn:uuid:`` and a lower-case UUID; fhir.resources takes UUID4 text
#: (bare, braced, upper case) and refuses other UUID versions.
SPEC_UUID = "spec-uuid"
#: datatypes.html#base64Binary; fhir.resources decodes leniently (drops foreign characters).
SPEC_BASE64 = "spec-base64"
#: datatypes.html#id: at most 64 characters; fhir_core allows 255.
SPEC_ID_LENGTH = "spec-id-length"
#: Properties that are not FHIR elements but that the pydantic models accept: ``resourceType``
#: and ``resource_type`` inside a datatype, Python field names (``class_fhir``,
#: ``birthDate__ext``) and the DSTU2 ``fhir_comments``.
SPEC_NOT_AN_ELEMENT = "spec-not-an-element"
#: A mandatory element given as ``null`` or ``[]`` is missing; fhir.resources takes both for
#: complex elements and ``[]`` for primitive arrays.
SPEC_REQUIRED_EMPTY = "spec-required-empty"
#: A resource inside another (contained, Bundle.entry.resource, Parameters) must name a
#: concrete R4 type; fhir.resources validates one without resourceType as the abstract
#: Resource, and raises KeyError for an unknown type.
SPEC_RESOURCE_TYPE = "spec-resource-type"

#: Every rule where the check is deliberately stricter than fhir.resources.
SPEC_RULES = frozenset(
    {
        SPEC_JSON_TYPE,
        SPEC_EMPTY_STRING,
        SPEC_URI_WHITESPACE,
        SPEC_UUID,
        SPEC_BASE64,
        SPEC_ID_LENGTH,
        SPEC_NOT_AN_ELEMENT,
        SPEC_REQUIRED_EMPTY,
        SPEC_RESOURCE_TYPE,
    }
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One structural problem: the FHIRPath of the element, the rule broken and a message that
    never quotes the value."""

    path: str
    rule: str
    message: str
