"""``chartkeeper claims``, ``remit post`` and ``statement`` on a billed demo hospital, on SQLite
and PostgreSQL: the worklist, the scrubber's findings, 837 export, 835 posting, statements."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from chartkeeper.app import Services, build_services
from chartkeeper.billing.charges.claim_build import claim_for_encounter
from chartkeeper.billing.claims.lines import service_lines
from chartkeeper.billing.remit import simulate
from chartkeeper.billing.x12.envelope import Envelope, SequentialControlNumbers
from chartkeeper.billing.x12.scrub import scrub as pyx12_scrub
from chartkeeper.billing.x12.write835 import write_835
from chartkeeper.cli.main import cli
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.interactions.search import run_search
from chartkeeper.fhir.search_parser import parse_search
from chartkeeper.privacy.actor import SYSTEM
from chartkeeper.store.billing_schema import billing_postings, billing_remittances

#: The demo's deliberate mistakes (the label it prints) and the rule that must hold each.
MISTAKE_RULES = {
    "header diagnosis code": "code-validity",
    "diagnosis code that does not exist": "code-validity",
    "diagnosis pointer to nothing": "diagnosis-pointers",
    "zero charge on a line": "charges",
    "the same bill as": "duplicates",
    "filed long after the date of service": "timely-filing",
}
DEMO_LINE = re.compile(
    r"^Billing: (\d+) claims \((\d+) held by the scrubber\), (\d+) sent in one 837, "
    r"(\d+) paid or denied by the simulated payer \((\d+) denials to work\)$",
    re.MULTILINE,
)


@dataclass
class Store:
    """A demo hospital billed by ``chartkeeper demo``: where it is and what the demo printed."""

    database_url: str
    data_dir: Path
    demo: Result
    services: Services


def _run(store: Store, *args: str) -> Result:
    command = ["--data-dir", str(store.data_dir), "--database-url", store.database_url, *args]
    return CliRunner().invoke(cli, command)


@pytest.fixture(scope="module")
def store(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """``chartkeeper demo --patients 30``: charts, code sets, claims, one 837, remittances."""
    data_dir = tmp_path_factory.mktemp("billing-cli")
    command = ["--data-dir", str(data_dir), "--database-url", module_database_url]
    demo = CliRunner().invoke(cli, [*command, "demo", "--patients", "30"])
    assert demo.exit_code == 0, demo.output
    settings = load_settings({"data_dir": str(data_dir), "database_url": module_database_url}, {})
    services = build_services(settings)
    yield Store(module_database_url, data_dir, demo, services)
    services.close()


def _scrub_blocks(output: str) -> dict[str, list[list[str]]]:
    """``claims scrub`` output as claim id → findings, each [severity, rule, where, message,
    fix] (fix "" when there is none)."""
    blocks: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for line in output.splitlines():
        if line.startswith("Claim/"):
            current = blocks.setdefault(line.split()[0].removeprefix("Claim/"), [])
        elif line.startswith("  ") and not line.startswith("      "):
            current.append([*line.split(maxsplit=2), "", ""])
        elif line.startswith("      fix: "):
            current[-1][4] = line.removeprefix("      fix: ")
        elif line.startswith("      "):
            current[-1][3] = line.strip()
    return blocks


def _unbilled_encounters(services: Services) -> list[str]:
    """Finished ambulatory encounters older than the demo billed, well inside the filing limit
    and the shipped ICD-10-CM version, that are on no claim yet."""
    today = services.billing.today()
    request = parse_search(
        "Encounter",
        [
            ("status", "finished"),
            ("class", "AMB"),
            ("date", f"ge{today - timedelta(days=235)}"),
            ("date", f"lt{today - timedelta(days=125)}"),
            ("_sort", "-date"),
        ],
    )
    found = [m.resource()["id"] for m in run_search(services.fhir, request).matches]
    return [e for e in found if claim_for_encounter(services.fhir, e) is None]


def _remittance(services: Services, claim_ids: list[str], outcome: str, trace: str) -> str:
    """An 835 from the simulated payer answering ``claim_ids``, as the demo's payer writes it."""
    payments, payer_id, npi = [], "", ""
    for number, claim_id in enumerate(claim_ids):
        row = services.billing.worklist.get(claim_id)
        assert row is not None
        with services.fhir.repository.reading() as tx:
            claim = tx.read("Claim", claim_id)
        assert claim is not None
        lines = service_lines(claim.resource())[0]
        payments.append(simulate.adjudicate(row.control_number, lines, outcome, f"T{number:06d}"))
        payer_id, npi = row.payer_id, row.billing_npi
    remittance = simulate.remittance(
        payments,
        trace,
        services.billing.today(),
        payer=(f"TEST PAYER {payer_id}", payer_id),
        payee=("RIVERSIDE GENERAL HOSPITAL", npi),
    )
    envelope = Envelope(
        payer_id, services.settings.billing_submitter_id, services.billing.clock.now()
    )
    return write_835([remittance], SequentialControlNumbers(), envelope)


def _count(services: Services, table: Any) -> int:
    with services.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture(scope="module")
def released(store: Store) -> str:
    """One more claim built, scrubbed clean and released (through the services, as a biller
    would in the workbench), for the payer to answer."""
    services = store.services
    encounter = _unbilled_encounters(services)[-1]
    services.billing.capture(SYSTEM, encounter)
    claim_id = str(services.billing.build_claim(SYSTEM, encounter).claim["id"])
    assert services.billing.scrub(SYSTEM, claim_id).status == "clean"
    services.billing.release(SYSTEM, [claim_id])
    return claim_id


# -- the demo -----------------------------------------------------------------------------------


def test_the_demo_holds_every_deliberate_mistake_with_its_rule(store: Store) -> None:
    summary = DEMO_LINE.search(store.demo.stdout)
    assert summary is not None, store.demo.stdout
    claims, held, sent, answered, denials = (int(n) for n in summary.groups())
    counts = store.services.billing.worklist.counts()
    assert held >= 6
    assert claims == held + sent
    assert sent == answered > 0
    assert denials >= 1
    assert counts["held"] >= held  # later tests may only add to the held ones
    broken = re.findall(r"^  Claim/(\S+): (.+)$", store.demo.stderr, re.MULTILINE)
    assert len(broken) == len(MISTAKE_RULES), store.demo.stderr
    for claim_id, label in broken:
        rule = next(r for words, r in MISTAKE_RULES.items() if label.startswith(words))
        row = store.services.billing.worklist.get(claim_id)
        assert row is not None, label
        assert row.status == "held", label
        errors = {f["rule"] for f in row.findings if f["severity"] == "error"}
        assert errors == {rule}, f"{label}: {row.findings}"


# -- the worklist and the scrubber --------------------------------------------------------------


def test_claims_list_held_prints_the_held_claims(store: Store) -> None:
    listed = _run(store, "claims", "list", "--status", "held", "--as", "biller")
    assert listed.exit_code == 0, listed.output
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["claim", "number", "status", "from", "total", "errors"]
    held, total = store.services.billing.worklist.items("held", 1000, 0)
    assert sorted(row.split()[0] for row in rows) == sorted(c.control_number for c in held)
    assert all(row.split()[1] == "held" and int(row.split()[-1]) >= 1 for row in rows)
    assert listed.stderr == f"({total} claims)\n"


def test_scrubbing_the_held_claims_prints_each_finding_and_exits_1(store: Store) -> None:
    scrubbed = _run(store, "claims", "scrub", "--held", "--as", "biller")
    assert scrubbed.exit_code == 1, scrubbed.output
    blocks = _scrub_blocks(scrubbed.stdout)
    held, _ = store.services.billing.worklist.items("held", 1000, 0)
    assert set(blocks) == {row.claim_id for row in held}
    header = next(
        finding
        for findings in blocks.values()
        for finding in findings
        if finding[1] == "code-validity" and finding[3].startswith("E11 ")
    )
    assert header == [
        "error",
        "code-validity",
        "Claim.diagnosis[0].diagnosisCodeableConcept",
        "E11 is a header, not a billable code",
        header[4],
    ]
    assert header[4].startswith("Code to the highest specificity, e.g. E11.")
    pointer = next(f for fs in blocks.values() for f in fs if f[1] == "diagnosis-pointers")
    assert pointer[:3] == ["error", "diagnosis-pointers", "Claim.item[0].diagnosisSequence"]
    assert pointer[3] and pointer[4]
    assert all(f[3] for fs in blocks.values() for f in fs), "a finding without a message"


def test_a_coder_builds_a_claim_a_biller_scrubs_and_exports_it(
    store: Store, tmp_path: Path
) -> None:
    encounter = _unbilled_encounters(store.services)[0]
    built = _run(store, "claims", "build", f"Encounter/{encounter}", "--as", "coder")
    assert built.exit_code == 0, built.output
    found = re.fullmatch(r"Claim/(\S+)  clean  (\d+) finding\(s\)\n", built.stdout)
    assert found is not None, built.output
    claim_id = found.group(1)
    row = store.services.billing.worklist.get(claim_id)
    assert row is not None and row.status == "clean"
    assert claim_for_encounter(store.services.fhir, encounter) is not None

    scrubbed = _run(store, "claims", "scrub", claim_id, "--as", "biller")
    assert scrubbed.exit_code == 0, scrubbed.output
    assert scrubbed.stdout.splitlines()[0] == f"Claim/{claim_id}  clean"

    out = tmp_path / "claims.837"
    exported = _run(store, "claims", "export", "--format", "x12", str(out), "--as", "biller")
    assert exported.exit_code == 0, exported.output
    assert re.fullmatch(
        r"x12: 1 claim\(s\), \$[\d,.]+, interchange \d{9}, batch \S+\n", exported.stderr
    ), exported.stderr
    text = out.read_text()
    assert text.startswith("ISA*")
    assert f"CLM*{row.control_number}*" in text
    assert pyx12_scrub(text) == []
    after = store.services.billing.worklist.get(claim_id)
    assert after is not None and after.status == "released"

    again = _run(store, "claims", "export", "--format", "x12", str(tmp_path / "b.837"))
    assert again.exit_code == 65
    assert again.output == "error: There are no clean claims to release\n"
    assert not (tmp_path / "b.837").exists()


def test_export_to_a_folder_that_is_not_there_releases_nothing(
    store: Store, tmp_path: Path
) -> None:
    before = store.services.billing.worklist.counts()
    refused = _run(store, "claims", "export", str(tmp_path / "none" / "x.837"), "--as", "biller")
    assert refused.exit_code == 1
    assert "Traceback" not in refused.output
    assert "is not a folder this user can write to" in refused.output
    assert store.services.billing.worklist.counts() == before


# -- remittances --------------------------------------------------------------------------------


def test_posting_an_835_prints_the_summary_and_posting_it_again_changes_nothing(
    store: Store, released: str, tmp_path: Path
) -> None:
    services = store.services
    row = services.billing.worklist.get(released)
    assert row is not None and row.status == "released"
    path = tmp_path / "payer.835"
    path.write_text(_remittance(services, [released], "paid", "TRACE-CLI-1"))
    posted = _run(store, "remit", "post", str(path), "--as", "biller")
    assert posted.exit_code == 0, posted.output
    lines = posted.stdout.splitlines()
    assert lines[:3] == [
        "Source: payer.835",
        "Remittances posted: 1",
        "Already posted (skipped): 0",
    ]
    assert "Claims matched: 1" in lines
    assert any(line.startswith(f"{row.control_number}: CLP02 1: paid, $") for line in lines)
    paid = services.billing.worklist.get(released)
    assert paid is not None and paid.status == "paid"
    remittances, postings = (
        _count(services, billing_remittances),
        _count(services, billing_postings),
    )

    again = _run(store, "remit", "post", str(path), "--as", "biller")
    assert again.exit_code == 0, again.output
    assert "Remittances posted: 0" in again.stdout
    assert "Already posted (skipped): 1" in again.stdout
    assert again.stdout.endswith(
        "Every remittance in the file was already posted: nothing changed.\n"
    )
    assert _count(services, billing_remittances) == remittances
    assert _count(services, billing_postings) == postings


def test_a_malformed_835_exits_65_naming_the_segment_and_posts_nothing(
    store: Store, released: str, tmp_path: Path
) -> None:
    services = store.services
    text = _remittance(services, [released], "denied", "TRACE-CLI-BAD")
    segments = re.findall(r"SE\*(\d+)\*", text)
    assert len(segments) == 1
    broken = text.replace(f"SE*{segments[0]}*", f"SE*{int(segments[0]) + 2}*")
    path = tmp_path / "broken.835"
    path.write_text(broken)
    remittances, postings = (
        _count(services, billing_remittances),
        _count(services, billing_postings),
    )
    status = services.billing.worklist.get(released)

    refused = _run(store, "remit", "post", str(path), "--as", "biller")
    assert refused.exit_code == 65
    assert refused.stdout == ""
    assert re.fullmatch(
        rf"error: SE segment at position \d+: SE01 is '{int(segments[0]) + 2}', "
        rf"counted {segments[0]}\n",
        refused.stderr,
    ), refused.stderr
    assert _count(services, billing_remittances) == remittances
    assert _count(services, billing_postings) == postings
    assert services.billing.worklist.get(released) == status

    binary = tmp_path / "binary.835"
    binary.write_bytes(b"ISA*00*\xff\xfe")
    unreadable = _run(store, "remit", "post", str(binary), "--as", "biller")
    assert unreadable.exit_code == 65
    assert unreadable.output == "error: binary.835 is not an X12 text file (byte 7)\n"


# -- statements and who may ---------------------------------------------------------------------


def _answered_patient(services: Services) -> str:
    rows, _ = services.billing.worklist.items("paid", 1000, 0)
    assert rows, "the demo's payer paid no claim"
    return rows[0].patient_id


def test_a_statement_is_written_as_pdf_and_as_html(store: Store, tmp_path: Path) -> None:
    patient = _answered_patient(store.services)
    pdf = tmp_path / "statement.pdf"
    written = _run(
        store,
        "statement",
        f"Patient/{patient}",
        "--format",
        "pdf",
        "--out",
        str(pdf),
        "--as",
        "biller",
    )
    assert written.exit_code == 0, written.output
    assert pdf.read_bytes().startswith(b"%PDF")
    html = tmp_path / "statement.html"
    page = _run(
        store, "statement", patient, "--format", "html", "--out", str(html), "--as", "biller"
    )
    assert page.exit_code == 0, page.output
    text = html.read_text()
    assert text.lstrip().lower().startswith("<!doctype html>")
    biller = store.services.security.identity.user_actor("biller")
    balance = store.services.billing.account(biller, patient).balance
    assert balance >= 0
    assert "Amount you owe" in text
    assert f"${balance:,.2f}" in text


def test_a_physician_may_not_print_statements_and_is_told_why(store: Store, tmp_path: Path) -> None:
    patient = _answered_patient(store.services)
    out = tmp_path / "s.pdf"
    refused = _run(store, "statement", patient, "--out", str(out), "--as", "physician")
    assert refused.exit_code == 77
    assert refused.output == "error: Only biller users may see patient statements\n"
    assert not out.exists()
    nobody = _run(store, "statement", patient, "--out", str(out), "--as", "nobody")
    assert nobody.exit_code == 77
    assert nobody.output == "error: User nobody does not exist or is disabled\n"
    posting = _run(store, "claims", "list", "--as", "physician")
    assert posting.exit_code == 77
    assert posting.output == "error: Only biller or coder users may see the claim worklist\n"


def test_a_control_character_in_an_835_is_refused_not_stored(
    store: Store, released: str, tmp_path: Path
) -> None:
    services = store.services
    text = _remittance(services, [released], "paid", "TRACE-CLI-NUL")
    path = tmp_path / "nul.835"
    path.write_text(text.replace("TEST PAYER", "TEST\x00PAYER"))
    remittances = _count(services, billing_remittances)
    refused = _run(store, "remit", "post", str(path), "--as", "biller")
    assert refused.exit_code == 65, refused.output
    offset = text.index("TEST PAYER") + 4
    assert refused.output == f"error: nul.835 holds a NUL character at offset {offset}\n"
    assert _count(services, billing_remittances) == remittances


def test_scrubbing_the_held_claims_when_none_are_held_says_so(
    database_url: str, tmp_path: Path
) -> None:
    command = ["--data-dir", str(tmp_path), "--database-url", database_url]
    scrubbed = CliRunner().invoke(cli, [*command, "claims", "scrub", "--held"])
    assert scrubbed.exit_code == 0, scrubbed.output
    assert scrubbed.output == "No claims are held.\n"
    nothing = CliRunner().invoke(cli, [*command, "claims", "scrub"])
    assert nothing.exit_code == 2
    assert "Name at least one claim, or use --held" in nothing.output
