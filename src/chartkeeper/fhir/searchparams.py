"""The registry of R4 search parameters, from the official definitions shipped with the package.

Source: http://hl7.org/fhir/R4/searchparameter-registry.html (``search-parameters.json``,
CC0). A parameter defined on ``Resource`` or ``DomainResource`` applies to every type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources as package_files


@dataclass(frozen=True)
class ComponentDef:
    """One component of a composite parameter: the component parameter's code and path.

    ``code`` is the last ``-`` segment of the definition url (lossy); ``definition`` is the
    full url of the component's own SearchParameter, for ``SearchParamRegistry.by_url``.
    """

    code: str
    expression: str
    definition: str = ""


@dataclass(frozen=True)
class SearchParamDef:
    """One search parameter as it applies to one resource type."""

    url: str
    code: str
    type: str  # number date string token reference composite quantity uri special
    base: tuple[str, ...]
    expression: str | None
    target: tuple[str, ...] = ()
    modifier: tuple[str, ...] = ()
    comparator: tuple[str, ...] = ()
    component: tuple[ComponentDef, ...] = ()


#: Parameters every resource type answers, whatever the definitions list.
COMMON_BASES = ("Resource", "DomainResource")


class SearchParamRegistry:
    """Look up search parameters by resource type and code."""

    def __init__(self, definitions: list[SearchParamDef]) -> None:
        self._by_type: dict[str, dict[str, SearchParamDef]] = {}
        self._common: dict[str, SearchParamDef] = {}
        self._by_url = {d.url: d for d in definitions}
        for definition in definitions:
            for base in definition.base:
                if base in COMMON_BASES:
                    self._common[definition.code] = definition
                else:
                    self._by_type.setdefault(base, {})[definition.code] = definition

    def lookup(self, resource_type: str, code: str) -> SearchParamDef | None:
        """The parameter ``code`` of ``resource_type``, or None when it has none."""
        found = self._by_type.get(resource_type, {}).get(code)
        return found or self._common.get(code)

    def for_type(self, resource_type: str) -> dict[str, SearchParamDef]:
        """Every parameter that applies to ``resource_type``, common ones included."""
        merged = dict(self._common)
        merged.update(self._by_type.get(resource_type, {}))
        return merged

    def by_url(self, url: str) -> SearchParamDef | None:
        """The parameter with canonical ``url`` (composite components name theirs by url)."""
        return self._by_url.get(url)

    def resource_types(self) -> list[str]:
        """The resource types that have type-specific parameters."""
        return sorted(self._by_type)


def _from_json(raw: dict[str, object]) -> SearchParamDef:
    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key) or []
        assert isinstance(value, list)
        return tuple(str(v) for v in value)

    components = raw.get("component") or []
    assert isinstance(components, list)
    return SearchParamDef(
        url=str(raw["url"]),
        code=str(raw["code"]),
        type=str(raw["type"]),
        base=strings("base"),
        expression=str(raw["expression"]) if raw.get("expression") else None,
        target=strings("target"),
        modifier=strings("modifier"),
        comparator=strings("comparator"),
        component=tuple(
            ComponentDef(
                code=str(c["definition"]).rsplit("-", 1)[-1],
                expression=c["expression"],
                definition=str(c["definition"]),
            )
            for c in components
        ),
    )


@cache
def load_registry() -> SearchParamRegistry:
    """The registry built from the package's copy of the R4 definitions (loaded once)."""
    text = package_files.files("chartkeeper.fhir").joinpath("data/search-parameters.json")
    data = json.loads(text.read_text(encoding="utf-8"))
    return SearchParamRegistry([_from_json(p) for p in data["parameters"]])


@cache
def patient_compartment() -> dict[str, tuple[str, ...]]:
    """For each resource type, the parameters linking it to the Patient compartment."""
    text = package_files.files("chartkeeper.fhir").joinpath("data/patient-compartment.json")
    data = json.loads(text.read_text(encoding="utf-8"))
    return {k: tuple(v) for k, v in data["resources"].items() if v}


@cache
def all_resource_types() -> tuple[str, ...]:
    """Every R4 resource type, as listed by the R4 Patient CompartmentDefinition."""
    text = package_files.files("chartkeeper.fhir").joinpath("data/patient-compartment.json")
    data = json.loads(text.read_text(encoding="utf-8"))
    return tuple(sorted(data["resources"]))
