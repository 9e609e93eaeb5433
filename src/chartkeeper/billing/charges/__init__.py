"""Charge capture and claim building: from what the chart says was done to a FHIR Claim.

Public API:

- ``master.ChargeMaster`` / ``master.RegistryChargeMaster``: the charge description master
  (code set kind ``cdm``) by service, in the version in force on the date of service;
- ``capture.capture_encounter``: an encounter's services as billable ChargeItems (idempotent);
- ``claim_build.build_claim`` / ``claim_for_encounter``: the encounter's Claim, stored, its
  ChargeItems marked as claimed;
- ``control.control_number_for``: the 20-character patient control number of a Claim;
- ``demo_cdm_path``: the demo hospital's CDM.
"""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def demo_cdm_path() -> Path:
    """The shipped CDM of the demo hospital (synthetic prices, HCPCS Level II codes only)."""
    return DATA / "demo-cdm.csv"
