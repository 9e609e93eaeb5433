"""Open orders, referrals and advance directives: what the clinician summary calls pending.

Patients with chronic problems have their monitoring labs ordered for the next visit
(ServiceRequest, status active), cardiac and behavioral patients an open referral to the
specialist, and most patients of 65 and over an advance directive on file (Consent, scope
``adr``). A separate random stream keeps the rest of the generated record unchanged.
"""

from __future__ import annotations

import random
from datetime import timedelta

from .admin import BEHAVIORAL, CARDIAC
from .chart import Chart
from .fhirdata import LOINC, SNOMED, Resource, concept, day, hl7_concept, ref

#: Chronic problem → the monitoring lab ordered for the next visit (LOINC code, display).
MONITORING = {
    "dm2": ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
    "dm1": ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"),
    "hld": ("57698-3", "Lipid panel with direct LDL - Serum or Plasma"),
    "ckd": ("24362-6", "Renal function 2000 panel - Serum or Plasma"),
    "hypothyroid": ("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma"),
    "anemia": ("58410-2", "CBC panel - Blood by Automated count"),
}
LAB_CATEGORY = ("108252007", "Laboratory procedure")
REFERRAL_CATEGORY = ("3457005", "Patient referral")
REFERRALS = {
    "cardiology": (CARDIAC, ("183519002", "Referral to cardiology service")),
    "behavioral_health": (BEHAVIORAL, ("390866009", "Referral to mental health team")),
}
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"


def _request(chart: Chart, category: tuple[str, str], code: Resource) -> Resource:
    pcp = chart.person.pcp
    return {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "category": [concept(SNOMED, *category)],
        "code": code,
        "subject": chart.subject,
        "authoredOn": day(chart.today - timedelta(days=14)),
        "requester": ref("Practitioner", pcp.id, pcp.display),
    }


def add_pending_orders(chart: Chart, died: bool) -> None:
    """Monitoring labs due at the next visit and open specialist referrals."""
    if died:
        return
    rng = random.Random(f"orders-{chart.seed}-{chart.patient_id}")
    keys = {p.cond.key for p in chart.problems.values() if p.cond.chronic}
    ordered: set[str] = set()
    for key in sorted(keys & set(MONITORING)):
        loinc, display = MONITORING[key]
        if loinc in ordered or rng.random() < 0.3:
            continue
        ordered.add(loinc)
        order = _request(chart, LAB_CATEGORY, concept(LOINC, loinc, display))
        order["occurrenceDateTime"] = day(chart.today + timedelta(days=rng.randint(7, 60)))
        chart.add(order)
    for department, (needed, code) in REFERRALS.items():
        if not keys & needed or rng.random() < 0.5:
            continue
        staff = chart.hospital.staff(department)
        doc = staff[chart.person.index % len(staff)]
        referral = _request(chart, REFERRAL_CATEGORY, concept(SNOMED, *code))
        referral["performer"] = [ref("Practitioner", doc.id, doc.display)]
        referral["reasonReference"] = [
            ref("Condition", p.id) for p in chart.problems.values() if p.cond.key in needed
        ]
        chart.add(referral)


def add_advance_directive(chart: Chart) -> None:
    """Most patients of 65 and over have an advance directive on file."""
    rng = random.Random(f"adr-{chart.seed}-{chart.patient_id}")
    if chart.person.age_on(chart.today) < 65 or rng.random() < 0.3:
        return
    chart.add(
        {
            "resourceType": "Consent",
            "status": "active",
            "scope": hl7_concept("consentscope", "adr", "Advanced Care Directive"),
            "category": [concept(LOINC, "75320-2", "Advance directive")],
            "patient": chart.subject,
            "dateTime": day(chart.today - timedelta(days=rng.randint(30, 900))),
            "policyRule": hl7_concept("v3-ActCode", "OPTIN", "opt-in"),
        }
    )
