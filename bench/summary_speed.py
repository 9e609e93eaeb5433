"""Emergency summary latency: ``Patient/{id}/$summary`` on a store of 500,000 resources.

Standalone: `.venv/bin/python bench/summary_speed.py [--quick] [--requests N]`; `run()` returns
the ``summary`` Section for bench/run.py. Targets (issue 6): p50 <= 30 ms and p99 <= 100 ms for
a patient with 2,000 resources in a store of at least 500,000.

The store is built once and cached under ``bench/out/cache/`` (SQLite): 8,300 synthetic
patients of 60 resources each (Observations, Conditions, medications, encounters, procedures,
immunizations, an allergy) and one patient of 2,000 (1,500 Observations of vital signs and
labs, 80 DiagnosticReports, 150 Encounters, 120 MedicationRequests, 60 Conditions, 40
Procedures, 30 Immunizations, allergies, care plans, a code status). Resources are written
through the repository's own writer (index rows computed by ``chartkeeper.fhir.indexing``,
designated identifiers encrypted), without validation or audit: loading is not what is
measured. A physician linked to a Practitioner on the big patient's CareTeam (a treatment
relationship) then asks for ``$summary`` through the real ASGI app in process
(``httpx.ASGITransport``): token check, access decision, audit, build and JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from common import BENCH, Row, Section, fmt, median, percentile

from chartkeeper.app import Services, build_services
from chartkeeper.core import heap
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.write import persist
from chartkeeper.privacy.actor import Actor
from chartkeeper.web.app import create_app

TARGET_P50_MS = 30.0
TARGET_P99_MS = 100.0
CACHE = BENCH / "out" / "cache" / "summary-store-v1"
BIG_PATIENT = "ips-bench-big"
PRACTITIONER = "ips-bench-doc"
DOCTOR = "ips-bench-doctor"
PASSWORD = "correct horse battery staple"
BACKGROUND_PATIENTS = 8_300
PER_BACKGROUND = 60
REQUESTS = 400
WARMUP = 20
BATCH = 5_000
SEED = 11
START = datetime(2015, 1, 1, tzinfo=UTC)

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#: (code, display, unit, low, high): vital signs, then laboratory results.
VITALS = [
    ("8867-4", "Heart rate", "/min", 50, 120),
    ("9279-1", "Respiratory rate", "/min", 10, 28),
    ("8310-5", "Body temperature", "Cel", 36, 39),
    ("59408-5", "Oxygen saturation", "%", 88, 100),
    ("29463-7", "Body weight", "kg", 60, 95),
    ("8302-2", "Body height", "cm", 160, 190),
    ("39156-5", "Body mass index", "kg/m2", 19, 35),
    ("8480-6", "Systolic blood pressure", "mm[Hg]", 95, 170),
]
LABS = [
    ("2345-7", "Glucose", "mg/dL", 60, 220),
    ("2160-0", "Creatinine", "mg/dL", 0.5, 2.5),
    ("2951-2", "Sodium", "mmol/L", 128, 148),
    ("2823-3", "Potassium", "mmol/L", 3.0, 5.8),
    ("718-7", "Hemoglobin", "g/dL", 8, 17),
    ("6690-2", "Leukocytes", "10*3/uL", 3, 16),
    ("777-3", "Platelets", "10*3/uL", 120, 450),
    ("4548-4", "Hemoglobin A1c", "%", 5, 10),
    ("2093-3", "Cholesterol", "mg/dL", 140, 280),
    ("3094-0", "Urea nitrogen", "mg/dL", 6, 40),
    ("1742-6", "ALT", "U/L", 7, 90),
    ("33914-3", "eGFR", "mL/min", 25, 110),
]
CONDITIONS = [
    ("44054006", "Diabetes mellitus type 2"),
    ("38341003", "Hypertensive disorder"),
    ("195967001", "Asthma"),
    ("49436004", "Atrial fibrillation"),
    ("13645005", "Chronic obstructive lung disease"),
    ("431855005", "Chronic kidney disease stage 1"),
    ("444814009", "Viral sinusitis"),
    ("10509002", "Acute bronchitis"),
]
MEDICATIONS = [
    ("860975", "Metformin 500 MG Oral Tablet", "500 mg by mouth twice daily"),
    ("314076", "Lisinopril 10 MG Oral Tablet", "10 mg by mouth once daily"),
    ("855332", "Warfarin Sodium 5 MG Oral Tablet", "5 mg by mouth in the evening"),
    ("745752", "Albuterol 0.09 MG/ACTUAT inhaler", "2 puffs every 4 hours as needed"),
    ("197361", "Amlodipine 5 MG Oral Tablet", "5 mg by mouth once daily"),
]


def _when(rng: random.Random) -> str:
    moment = START + timedelta(minutes=rng.randrange(0, 11 * 365 * 24 * 60))
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _concept(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _observation(rng: random.Random, pid: str, ident: str, vital: bool) -> dict[str, Any]:
    code, display, unit, low, high = rng.choice(VITALS if vital else LABS)
    value = round(rng.uniform(low, high), 1)
    kind = "vital-signs" if vital else "laboratory"
    span = high - low
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": kind}]}],
        "code": _concept(LOINC, code, display),
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": _when(rng),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }
    if value > high - span / 8 or value < low + span / 8:
        flag = "H" if value > high - span / 8 else "L"
        resource["interpretation"] = [{"coding": [{"system": INTERPRETATION, "code": flag}]}]
    return resource


def _condition(rng: random.Random, pid: str, ident: str, active: bool) -> dict[str, Any]:
    code, display = rng.choice(CONDITIONS)
    status = "active" if active else "resolved"
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": ident,
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": status}]},
        "code": _concept(SNOMED, code, display),
        "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": _when(rng),
    }
    if not active:
        resource["abatementDateTime"] = _when(rng)
    return resource


def _medication(rng: random.Random, pid: str, ident: str, active: bool) -> dict[str, Any]:
    code, display, sig = rng.choice(MEDICATIONS)
    return {
        "resourceType": "MedicationRequest",
        "id": ident,
        "status": "active" if active else "completed",
        "intent": "order",
        "medicationCodeableConcept": _concept(RXNORM, code, display),
        "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": _when(rng),
        "dosageInstruction": [{"text": sig}],
    }


def _simple(kind: str, rng: random.Random, pid: str, ident: str) -> dict[str, Any]:
    subject = {"reference": f"Patient/{pid}"}
    when = _when(rng)
    if kind == "Encounter":
        klass = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}
        period = {"start": when, "end": when}
        return {
            "resourceType": kind,
            "id": ident,
            "status": "finished",
            "class": klass,
            "subject": subject,
            "period": period,
        }
    if kind == "Procedure":
        code = _concept(SNOMED, "73761001", "Colonoscopy")
        return {
            "resourceType": kind,
            "id": ident,
            "status": "completed",
            "code": code,
            "subject": subject,
            "performedDateTime": when,
        }
    if kind == "Immunization":
        vaccine = _concept("http://hl7.org/fhir/sid/cvx", "140", "Influenza, seasonal")
        return {
            "resourceType": kind,
            "id": ident,
            "status": "completed",
            "vaccineCode": vaccine,
            "patient": subject,
            "occurrenceDateTime": when,
        }
    reaction = [{"manifestation": [_concept(SNOMED, "247472004", "Hives")]}]
    return {
        "resourceType": "AllergyIntolerance",
        "id": ident,
        "patient": subject,
        "code": _concept(SNOMED, "91936005", "Penicillin"),
        "criticality": "high",
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
        "reaction": reaction,
    }


def _person(pid: str, rng: random.Random) -> dict[str, Any]:
    family = rng.choice(["Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad"])
    given = rng.choice(["Ada", "Ben", "Chidi", "Dora", "Emil", "Farah", "Goran", "Hana"])
    birth = f"{rng.randrange(1930, 2015)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    return {
        "resourceType": "Patient",
        "id": pid,
        "name": [{"family": family, "given": [given]}],
        "gender": rng.choice(["female", "male"]),
        "birthDate": birth,
    }


def background_patient(n: int, rng: random.Random) -> list[dict[str, Any]]:
    """One ordinary patient of ``PER_BACKGROUND`` resources."""
    pid = f"bg-{n}"
    out = [_person(pid, rng)]
    for i in range(40):
        out.append(_observation(rng, pid, f"{pid}-o{i}", vital=i % 2 == 0))
    out += [_condition(rng, pid, f"{pid}-c{i}", active=i < 3) for i in range(5)]
    out += [_medication(rng, pid, f"{pid}-m{i}", active=i < 2) for i in range(5)]
    out += [_simple("Encounter", rng, pid, f"{pid}-e{i}") for i in range(4)]
    out += [_simple("Procedure", rng, pid, f"{pid}-p{i}") for i in range(2)]
    out += [_simple("Immunization", rng, pid, f"{pid}-i{i}") for i in range(2)]
    out.append(_simple("AllergyIntolerance", rng, pid, f"{pid}-a0"))
    return out


def _report(rng: random.Random, pid: str, ident: str, results: list[str]) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": ident,
        "status": "final",
        "category": [{"coding": [{"system": V2_0074, "code": "LAB"}]}],
        "code": _concept(LOINC, "24323-8", "Comprehensive metabolic panel"),
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": _when(rng),
        "result": [{"reference": f"Observation/{r}"} for r in results],
    }


def big_patient(rng: random.Random) -> list[dict[str, Any]]:
    """The measured patient: 2,000 resources in the compartment."""
    pid = BIG_PATIENT
    person = _person(pid, rng)
    out = [person]
    observations = [_observation(rng, pid, f"{pid}-o{i}", vital=i % 3 == 0) for i in range(1_508)]
    out += observations
    code_status = _concept(LOINC, "100822-6", "Cardiopulmonary resuscitation orders")
    out.append(
        {
            "resourceType": "Observation",
            "id": f"{pid}-dnr",
            "status": "final",
            "code": code_status,
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": "2025-06-01T10:00:00Z",
            "valueCodeableConcept": _concept(SNOMED, "304253006", "Not for resuscitation"),
        }
    )
    smoking = _concept(LOINC, "72166-2", "Tobacco smoking status")
    out.append(
        {
            "resourceType": "Observation",
            "id": f"{pid}-smoke",
            "status": "final",
            "code": smoking,
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": "2024-03-01T10:00:00Z",
            "valueCodeableConcept": _concept(SNOMED, "8517006", "Ex-smoker"),
        }
    )
    labs = [o["id"] for o in observations if o["category"][0]["coding"][0]["code"] == "laboratory"]
    out += [_report(rng, pid, f"{pid}-r{i}", labs[i * 5 : i * 5 + 5]) for i in range(80)]
    out += [_condition(rng, pid, f"{pid}-c{i}", active=i < 40) for i in range(60)]
    out += [_medication(rng, pid, f"{pid}-m{i}", active=i < 30) for i in range(120)]
    out += [_simple("Encounter", rng, pid, f"{pid}-e{i}") for i in range(150)]
    out += [_simple("Procedure", rng, pid, f"{pid}-p{i}") for i in range(40)]
    out += [_simple("Immunization", rng, pid, f"{pid}-i{i}") for i in range(30)]
    out += [_simple("AllergyIntolerance", rng, pid, f"{pid}-a{i}") for i in range(5)]
    plan = {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": f"Patient/{pid}"},
        "title": "Diabetes follow-up",
    }
    out += [{**plan, "id": f"{pid}-cp{i}"} for i in range(3)]
    team = {
        "resourceType": "CareTeam",
        "id": f"{pid}-team",
        "status": "active",
        "subject": {"reference": f"Patient/{pid}"},
        "participant": [{"member": {"reference": f"Practitioner/{PRACTITIONER}"}}],
    }
    out.append(team)
    return out


def _services(data_dir: Path) -> Services:
    return build_services(load_settings({"data_dir": str(data_dir)}, environ={}))


def _loader(services: Services) -> FhirContext:
    """The bare writer: the encrypting repository (what the guard wraps), no validation."""
    options = replace(services.options, validate_on_write=False)
    return FhirContext(repository=services.encrypted, clock=services.clock, options=options)


def _write(ctx: FhirContext, resources: list[dict[str, Any]]) -> None:
    with ctx.repository.transaction() as tx:
        for resource in resources:
            persist(ctx, tx, resource, None, "PUT")


def build_store(data_dir: Path, patients: int = BACKGROUND_PATIENTS) -> dict[str, Any]:
    """Write the store into ``data_dir`` (once); the counts and how long it took."""
    marker = data_dir / "built.json"
    if marker.exists():
        built: dict[str, Any] = json.loads(marker.read_text())
        return built
    data_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    started = time.perf_counter()
    services = _services(data_dir)
    try:
        ctx = _loader(services)
        big = big_patient(rng)
        _write(ctx, [{"resourceType": "Practitioner", "id": PRACTITIONER}, *big])
        total, pending = len(big) + 1, []
        for n in range(patients):
            pending += background_patient(n, rng)
            if len(pending) >= BATCH or n == patients - 1:
                _write(ctx, pending)
                total += len(pending)
                pending = []
                if n % 1000 < BATCH // PER_BACKGROUND:
                    rate = total / (time.perf_counter() - started)
                    print(f"summary: {total:,} resources written ({rate:,.0f}/s)", flush=True)
        services.security.identity.add_user(
            DOCTOR, "physician", PASSWORD, practitioner_id=PRACTITIONER
        )
    finally:
        services.close()
    built = {
        "resources": total,
        "big_patient_resources": len(big),
        "seconds": round(time.perf_counter() - started, 1),
    }
    marker.write_text(json.dumps(built))
    return built


def _doctor_headers(services: Services) -> dict[str, str]:
    actor = services.security.identity.user_actor(DOCTOR)
    scopes = frozenset({"user/*.rs"})
    token = services.security.tokens.issue_access_token(
        Actor(**{**actor.__dict__, "scopes": scopes}), scopes, ttl=timedelta(hours=2)
    )
    return {"Authorization": f"Bearer {token}"}


async def _time_requests(services: Services, requests: int) -> tuple[list[float], dict[str, Any]]:
    app = create_app(services)
    headers = _doctor_headers(services)
    url = f"/fhir/Patient/{BIG_PATIENT}/$summary"
    transport = httpx.ASGITransport(app=app)
    timings: list[float] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        first = await client.get(url, headers=headers)
        if first.status_code != 200:
            raise SystemExit(f"summary: $summary answered {first.status_code}: {first.text[:300]}")
        for _ in range(WARMUP):
            await client.get(url, headers=headers)
        heap.settle()  # what the server's lifespan does at start (ASGITransport runs none)
        for _ in range(requests):
            began = time.perf_counter()
            response = await client.get(url, headers=headers)
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200
    return timings, first.json()


def measure(quick: bool = False, requests: int = REQUESTS) -> dict[str, Any]:
    """Build (or reuse) the store, then time ``$summary`` for the big patient."""
    data_dir = CACHE if not quick else CACHE.with_name(CACHE.name + "-quick")
    built = build_store(data_dir, BACKGROUND_PATIENTS if not quick else 800)
    services = _services(data_dir)
    try:
        timings, document = asyncio.run(_time_requests(services, requests if not quick else 100))
        services.ledger.buffered().flush()
    finally:
        services.close()
    sections = document["entry"][0]["resource"]["section"]
    return {
        **built,
        "requests": len(timings),
        "p50_ms": round(median(timings), 2),
        "p90_ms": round(percentile(timings, 90), 2),
        "p99_ms": round(percentile(timings, 99), 2),
        "max_ms": round(max(timings), 2),
        "entries": len(document["entry"]),
        "sections": [s["title"] for s in sections],
        "bytes": len(json.dumps(document)),
    }


def run(quick: bool = False) -> Section:
    """The benchmark as the ``summary`` section of bench/RESULTS.md."""
    r = measure(quick)
    size = f"{r['resources']:,} resources, patient of {r['big_patient_resources']:,}"
    section = Section("summary", "Emergency summary: Patient/$summary (issue 6)")
    section.rows += [
        Row(
            f"$summary p50 ({size})",
            f"<= {TARGET_P50_MS:.0f} ms",
            f"{r['p50_ms']:.1f} ms",
            passed=r["p50_ms"] <= TARGET_P50_MS,
        ),
        Row(
            f"$summary p99 ({size})",
            f"<= {TARGET_P99_MS:.0f} ms",
            f"{r['p99_ms']:.1f} ms",
            passed=r["p99_ms"] <= TARGET_P99_MS,
        ),
    ]
    section.notes += [
        f"{r['requests']} sequential requests after {WARMUP} warm-up ones, in process through "
        "the ASGI app (httpx.ASGITransport) on SQLite, as a physician with a treatment "
        "relationship (CareTeam): token, access decision, audit entry, build, JSON. p90 "
        f"{r['p90_ms']:.1f} ms, slowest {r['max_ms']:.1f} ms.",
        f"The document: {r['entries']} entries, {fmt(r['bytes'])} bytes of JSON, sections "
        f"{', '.join(r['sections'])}.",
        f"Store built once by this benchmark in {fmt(r['seconds'])} s and cached in "
        "bench/out/cache/ (written through the repository's writer without validation or audit).",
        "2 cores shared with other work; the numbers move with the load average.",
    ]
    return section


def main() -> None:
    """Print the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    if args.build_only:
        patients = 800 if args.quick else BACKGROUND_PATIENTS
        directory = CACHE.with_name(CACHE.name + "-quick") if args.quick else CACHE
        print(json.dumps(build_store(directory, patients), indent=2))
        return
    print(json.dumps(measure(args.quick, args.requests), indent=2))


if __name__ == "__main__":
    main()
