"""An import killed with SIGKILL midway leaves each transaction wholly stored or absent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

BUNDLES = 60
OBSERVATIONS = 150


def _bundle(n: int) -> dict[str, Any]:
    patient_url = f"urn:uuid:00000000-0000-4000-8000-{n:012d}"
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": patient_url,
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": "urn:b", "value": str(n)}],
            },
            "request": {"method": "POST", "url": "Patient"},
        }
    ]
    for i in range(OBSERVATIONS):
        entries.append(
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                    "subject": {"reference": patient_url},
                    "valueQuantity": {"value": 60 + i % 40, "unit": "/min"},
                },
                "request": {"method": "POST", "url": "Observation"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _counts(database_url: str) -> list[tuple[int, int]]:
    """(observations, patients) per bundle number found in the store."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT t.code, count(DISTINCT o.res_id) FROM idx_token t "
                "LEFT JOIN idx_reference o ON o.target_id = t.res_id "
                "AND o.res_type = 'Observation' AND o.param = 'subject' "
                "WHERE t.res_type = 'Patient' AND t.param = 'identifier' "
                "GROUP BY t.code"
            )
        ).all()
        # one statement, so one snapshot even under READ COMMITTED
        history, current = conn.execute(
            text("SELECT (SELECT count(*) FROM history), (SELECT count(*) FROM resources)")
        ).one()
    engine.dispose()
    assert history == current
    return [(int(count), 1) for _code, count in rows]


def test_sigkill_during_import_leaves_whole_transactions_or_none(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(BUNDLES):
        (folder / f"b{n:03d}.json").write_text(json.dumps(_bundle(n)))
    env = {
        **os.environ,
        "CHARTKEEPER_DATA_DIR": str(tmp_path),
        "CHARTKEEPER_DATABASE_URL": database_url,
    }
    # migrate first so the kill lands in the middle of the import itself
    subprocess.run(
        [sys.executable, "-m", "chartkeeper", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "chartkeeper", "import", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
        if len(_counts(database_url)) >= 3:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    counts = _counts(database_url)
    assert 3 <= len(counts) < BUNDLES, "the kill should land midway"
    assert all(observations == OBSERVATIONS for observations, _ in counts)
