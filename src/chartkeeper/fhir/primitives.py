"""Checks of FHIR R4 primitive values as they appear in JSON (datatypes.html, json.html).

One function per primitive type, each answering ``None`` for a valid value or a ``(rule,
message)`` pair; the message names the rule broken, never the value (it may be PHI).

Why not call the fhir_core pydantic types: building a pydantic validator per value costs more
than the whole check here, and the write path validates every value of every resource (see
``structure_check``). The rules are those fhir_core applies, with its own compiled patterns
reused where it matches with Python's ``re`` (time, decimal, oid; date, dateTime and instant
restated for speed).
Patterns that fhir_core hands to pydantic run on pydantic-core's Rust regex engine, whose
``\\s`` is Unicode White_Space (Python's also takes U+001C..U+001F) and whose ``$`` is the end
of the text (Python's also matches before a final newline), so those are restated below with an
explicit class and ``fullmatch``.

Where fhir.resources is more lenient than the R4 specification we follow the specification;
every such rule carries a ``findings.SPEC_*`` rule name (see ``findings`` for the list).
"""

from __future__ import annotations

import binascii
import math
import re
from collections.abc import Callable
from typing import Any

from fhir_core import types as core_types

from chartkeeper.fhir.findings import (
    FORMAT,
    SPEC_BASE64,
    SPEC_EMPTY_STRING,
    SPEC_ID_LENGTH,
    SPEC_JSON_TYPE,
    SPEC_URI_WHITESPACE,
    SPEC_UUID,
    TYPE,
)

#: A failed check: (rule, message).
Problem = tuple[str, str]
Check = Callable[[Any], Problem | None]

#: Unicode White_Space, as pydantic-core's Rust regex ``\s`` reads it.
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WHITESPACE = re.compile(f"[{_WS}]")
#: string: fhir_core's ``[ \r\n\t\S]+``, searched (pydantic patterns are searches), holds if
#: one character is not White_Space other than space, CR, LF and tab; ``str.strip`` of those
#: characters tells the same at a fraction of the cost.
_NOT_STRING = "".join(
    c for c in map(chr, range(0x3001)) if _WHITESPACE.fullmatch(c) and c not in " \r\n\t"
)
#: code: ``^[^\s]+(\s[^\s]+)*$``: no leading, trailing or doubled whitespace.
_CODE = re.compile(f"[^{_WS}]+(?:[{_WS}][^{_WS}]+)*")
#: id: ``[A-Za-z0-9\-.]``; fhir_core allows 255 characters, R4 allows 64.
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_ID_FHIR_CORE = re.compile(r"[A-Za-z0-9\-.]{1,255}")
#: uuid: datatypes.html#uuid (fhir_core takes any UUID4 text instead, bare or braced).
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_OID = core_types.Oid.pattern
_TIME = core_types.Time.pattern
_DECIMAL = core_types.Decimal.pattern
#: fhir_core's Date, DateTime and Instant patterns (also used with ``fullmatch`` there),
#: restated without capturing groups, which makes them half again as fast; the year
#: alternatives of fhir_core say "four digits but 0000". tests/unit/test_validation_plan.py
#: checks that they match the same strings.
_YEAR = "(?!0000)[0-9]{4}"
_MONTH_DAY = "-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
_TIME_ZONE = (
    "T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\\.[0-9]+)?"
    "(?:Z|[+\\-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
_DATE = re.compile(f"{_YEAR}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01]))?)?")
_DATETIME = re.compile(
    f"{_YEAR}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01])(?:{_TIME_ZONE})?)?)?"
)
_INSTANT = re.compile(f"{_YEAR}{_MONTH_DAY}{_TIME_ZONE}")
_INT_MIN, _INT_MAX = -2147483648, 2147483647
_LAX_BOOLEANS = frozenset({"0", "off", "f", "false", "n", "no", "1", "on", "t", "true", "y", "yes"})
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _not_text(what: str) -> Problem:
    return TYPE, f"must be a JSON string ({what})"


def _empty(what: str) -> Problem:
    return SPEC_EMPTY_STRING, f"must not be an empty string ({what})"


def _real_day(text: str) -> bool:
    """The YYYY-MM-DD at the start of ``text`` (its format already checked) is a real day,
    as the date parser of pydantic (speedate) requires."""
    if len(text) < 10 or text[8:10] < "29":
        return True
    year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
    if month == 2 and day == 29:
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= _DAYS[month - 1]


# Each check accepts the common valid value on its first line; the rest says what is wrong.


def check_boolean(value: Any) -> Problem | None:
    if value is True or value is False:
        return None
    lax = (isinstance(value, int | float) and value in (0, 1)) or (
        isinstance(value, str) and value.lower() in _LAX_BOOLEANS
    )
    return (SPEC_JSON_TYPE if lax else TYPE), "must be a JSON boolean (true or false)"


def _lax_int(value: Any) -> int | None:
    """The integer pydantic's lax mode would make of ``value`` (only to name the rule)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _integer(low: int, what: str) -> Check:
    def check(value: Any) -> Problem | None:
        if type(value) is int and low <= value <= _INT_MAX:
            return None
        if type(value) is int:
            return FORMAT, f"must be {what} in the range {low}..{_INT_MAX}"
        lax = _lax_int(value)
        rule = SPEC_JSON_TYPE if lax is not None and low <= lax <= _INT_MAX else TYPE
        return rule, f"must be a JSON number without a fraction ({what})"

    return check


def check_decimal(value: Any) -> Problem | None:
    if (type(value) is int or type(value) is float) and math.isfinite(value):
        return None
    if type(value) is int or type(value) is float:
        return FORMAT, "must be a finite number (decimal)"
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return SPEC_JSON_TYPE, "must be a JSON number (decimal)"
    return TYPE, "must be a JSON number (decimal)"


def check_string(value: Any) -> Problem | None:
    if type(value) is str and value.strip(_NOT_STRING):
        return None
    if type(value) is not str:
        return _not_text("string")
    return FORMAT, "must hold a character other than whitespace (string)"


def check_markdown(value: Any) -> Problem | None:
    if type(value) is str and value:
        return None
    return _not_text("markdown") if type(value) is not str else _empty("markdown")


def check_xhtml(value: Any) -> Problem | None:
    if type(value) is str and value:
        return None
    return _not_text("xhtml") if type(value) is not str else _empty("xhtml")


def check_code(value: Any) -> Problem | None:
    # isprintable: no White_Space but the space, whose place the other tests check
    if type(value) is str and value.isprintable():
        if value and value[0] != " " and value[-1] != " " and "  " not in value:
            return None
    elif type(value) is str and _CODE.fullmatch(value):
        return None
    if type(value) is not str:
        return _not_text("code")
    return FORMAT, "must be a code: no leading, trailing or repeated whitespace"


def check_id(value: Any) -> Problem | None:
    if type(value) is str and _ID.fullmatch(value):
        return None
    if type(value) is not str:
        return _not_text("id")
    if _ID_FHIR_CORE.fullmatch(value):
        return SPEC_ID_LENGTH, "must be at most 64 characters (id)"
    return FORMAT, "must be 1-64 characters of A-Z a-z 0-9 - . (id)"


def _uri(what: str) -> Check:
    def check(value: Any) -> Problem | None:
        # isprintable: no White_Space but the space, which the second test rules out
        if type(value) is str and value.isprintable() and value and " " not in value:
            return None
        if type(value) is not str:
            return _not_text(what)
        if not value:
            return _empty(what)
        if _WHITESPACE.search(value):
            return SPEC_URI_WHITESPACE, f"must not contain whitespace ({what})"
        return None

    return check


def check_oid(value: Any) -> Problem | None:
    if type(value) is str and _OID.fullmatch(value):
        return None
    if type(value) is not str:
        return _not_text("oid")
    return FORMAT, "must be an OID as a URI, urn:oid:1.2.3 (oid)"


def check_uuid(value: Any) -> Problem | None:
    if type(value) is str and _UUID.fullmatch(value):
        return None
    if type(value) is not str:
        return _not_text("uuid")
    return SPEC_UUID, "must be urn:uuid: and a lower-case UUID (uuid)"


def check_base64(value: Any) -> Problem | None:
    """RFC 4648 base64, whitespace allowed between characters (datatypes.html#base64Binary).

    fhir.resources decodes with Python's lenient decoder, which drops characters outside the
    alphabet ("2020-02-30" passes) and takes the empty string.
    """
    if type(value) is not str:
        return _not_text("base64Binary")
    if not value:
        return _empty("base64Binary")
    compact = "".join(value.split()) if _WHITESPACE.search(value) else value
    try:
        binascii.a2b_base64(compact, strict_mode=True)
    except (binascii.Error, ValueError):
        return SPEC_BASE64, "must be base64 encoded (base64Binary)"
    return None


def _not_a_moment(value: Any, what: str) -> Problem:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return SPEC_JSON_TYPE, f"must be a JSON string ({what})"  # pydantic: a timestamp
    return _not_text(what)


def check_date(value: Any) -> Problem | None:
    if type(value) is str and _DATE.fullmatch(value) and _real_day(value):
        return None
    if type(value) is not str:
        return _not_a_moment(value, "date")
    return FORMAT, "must be a valid date: YYYY, YYYY-MM or YYYY-MM-DD (date)"


def check_datetime(value: Any) -> Problem | None:
    if type(value) is str and _DATETIME.fullmatch(value) and _real_day(value):
        return None
    if type(value) is not str:
        return _not_a_moment(value, "dateTime")
    return FORMAT, "must be a valid dateTime: YYYY, YYYY-MM, YYYY-MM-DD or a time with a zone"


def check_instant(value: Any) -> Problem | None:
    if type(value) is str and _INSTANT.fullmatch(value) and _real_day(value):
        return None
    if type(value) is not str:
        return _not_a_moment(value, "instant")
    return FORMAT, "must be a valid instant: YYYY-MM-DDThh:mm:ss with a time zone (instant)"


def check_time(value: Any) -> Problem | None:
    if type(value) is str and _TIME.fullmatch(value):
        return None
    if type(value) is not str:
        return _not_a_moment(value, "time")
    return FORMAT, "must be a valid time: hh:mm:ss (time)"


#: FHIR primitive type name -> its check.
CHECKS: dict[str, Check] = {
    "boolean": check_boolean,
    "integer": _integer(_INT_MIN, "an integer"),
    "unsignedInt": _integer(0, "an unsignedInt"),
    "positiveInt": _integer(1, "a positiveInt"),
    "decimal": check_decimal,
    "string": check_string,
    "markdown": check_markdown,
    "xhtml": check_xhtml,
    "code": check_code,
    "id": check_id,
    "uri": _uri("uri"),
    "url": _uri("url"),
    "canonical": _uri("canonical"),
    "oid": check_oid,
    "uuid": check_uuid,
    "base64Binary": check_base64,
    "date": check_date,
    "dateTime": check_datetime,
    "instant": check_instant,
    "time": check_time,
}
