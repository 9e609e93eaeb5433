"""Build the package's compact copy of the official R4 definitions it needs at run time.

Reads ``../shared/data/fhir-r4/search-parameters.json`` and
``compartmentdefinition-patient.json`` (HL7 FHIR R4 4.0.1, CC0) and writes
``src/chartkeeper/fhir/data/search-parameters.json`` and ``patient-compartment.json``.
The product never reads ``../shared`` at run time; rerun this only to refresh the copy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "fhir-r4"
SOURCE_NOTE = "HL7 FHIR R4 4.0.1 search-parameters.json (CC0)"
TARGET = ROOT / "src" / "chartkeeper" / "fhir" / "data"


def compact(resource: dict) -> dict:
    out = {
        "url": resource["url"],
        "code": resource["code"],
        "type": resource["type"],
        "base": resource["base"],
        "expression": resource.get("expression"),
    }
    for key in ("target", "modifier", "comparator", "multipleOr", "multipleAnd"):
        if key in resource:
            out[key] = resource[key]
    if "component" in resource:
        out["component"] = [
            {"definition": c["definition"], "expression": c["expression"]}
            for c in resource["component"]
        ]
    return out


def main() -> int:
    bundle = json.loads((SOURCE / "search-parameters.json").read_text())
    params = [compact(e["resource"]) for e in bundle["entry"]]
    TARGET.mkdir(parents=True, exist_ok=True)
    (TARGET / "search-parameters.json").write_text(
        json.dumps(
            {"source": SOURCE_NOTE, "parameters": params},
            separators=(",", ":"),
        )
    )
    compartment = json.loads((SOURCE / "compartmentdefinition-patient.json").read_text())
    links = {r["code"]: r.get("param", []) for r in compartment["resource"]}
    (TARGET / "patient-compartment.json").write_text(
        json.dumps(
            {"source": "HL7 FHIR R4 4.0.1 CompartmentDefinition/patient (CC0)", "resources": links},
            indent=0,
            sort_keys=True,
        )
    )
    print(f"wrote {len(params)} search parameters, {len(links)} compartment entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
