"""Settings: a registry of named settings, loaded once into a frozen object and passed down.

Order of precedence: defaults → ``chartkeeper.toml`` in the data directory → ``CHARTKEEPER_*``
environment variables → explicit overrides (CLI flags). There is no global getter.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from chartkeeper.core.errors import InvalidError


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./var", "Directory for the embedded database, keys and exports."),
    Setting(
        "database_url",
        "",
        "SQLAlchemy URL of the store; empty means an SQLite file `chartkeeper.db` in data_dir. "
        "For PostgreSQL use `postgresql+psycopg://user:pass@host/db`.",
    ),
    Setting("base_url", "http://127.0.0.1:8000", "Public base URL, used in links and Location."),
    Setting("max_body_bytes", 50 * 1024 * 1024, "Largest request body accepted (413 above)."),
    Setting("default_page_size", 20, "Search page size when `_count` is not given."),
    Setting("max_page_size", 1000, "Largest `_count` honoured; larger values are capped."),
    Setting("validate_on_write", True, "Validate resources against the R4 models on write."),
    Setting("host", "127.0.0.1", "Address `chartkeeper serve` listens on."),
    Setting("port", 8000, "Port `chartkeeper serve` listens on."),
    Setting(
        "mpi_review_threshold",
        0.5,
        "Match probability from which a pair of patients goes to the duplicate review queue "
        "(and is reported at registration).",
    ),
    Setting(
        "mpi_auto_link_threshold",
        0.995,
        "Match probability from which batch de-duplication links two patients on its own "
        "(Patient.link `seealso`, no merge); set above 1 to turn automatic linking off.",
    ),
    Setting(
        "mpi_leads",
        "",
        "Comma-separated user names of HIM leads: they may override a merge refused because "
        "the patients' hard identifiers (SSN, driver's licence) disagree.",
    ),
    Setting(
        "billing_submitter_id",
        "CHARTKEEPER",
        "Our id as the submitter of 837 claim files (ISA06, loop 1000A), given by the "
        "clearinghouse or payer.",
    ),
    Setting(
        "billing_receiver_id",
        "CLEARINGHOUSE",
        "The receiver of 837 claim files (ISA08, loop 1000B): the clearinghouse or payer id.",
    ),
    Setting(
        "billing_timely_filing_days",
        365,
        "Days after the date of service within which a claim must be filed, unless "
        "`billing_timely_filing` names a payer's own limit (Medicare: 12 months).",
    ),
    Setting(
        "billing_timely_filing",
        "",
        "Per-payer filing limits as `PAYERID=DAYS` pairs separated by commas, e.g. "
        "`DEMOACME1=90,DEMOBVM01=180`.",
    ),
    Setting(
        "billing_charge_ceiling",
        100000.0,
        "Charge per unit above which the scrubber holds a line as implausible (dollars).",
    ),
    Setting("billing_office_name", "Patient Billing Office", "Who patients call (statements)."),
    Setting("billing_office_phone", "555-555-0199", "Billing office phone on statements."),
    Setting(
        "billing_office_hours",
        "Monday to Friday, 8 am to 5 pm",
        "Billing office hours on statements.",
    ),
)


@dataclass(frozen=True)
class Settings:
    """The loaded settings; see ``SETTINGS`` for what each means."""

    data_dir: str = "./var"
    database_url: str = ""
    base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 50 * 1024 * 1024
    default_page_size: int = 20
    max_page_size: int = 1000
    validate_on_write: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    mpi_review_threshold: float = 0.5
    mpi_auto_link_threshold: float = 0.995
    mpi_leads: str = ""
    billing_submitter_id: str = "CHARTKEEPER"
    billing_receiver_id: str = "CLEARINGHOUSE"
    billing_timely_filing_days: int = 365
    billing_timely_filing: str = ""
    billing_charge_ceiling: float = 100000.0
    billing_office_name: str = "Patient Billing Office"
    billing_office_phone: str = "555-555-0199"
    billing_office_hours: str = "Monday to Friday, 8 am to 5 pm"

    @property
    def resolved_database_url(self) -> str:
        """The store URL, defaulting to the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        path = Path(self.data_dir).resolve() / "chartkeeper.db"
        return f"sqlite:///{path}"


def _coerce(name: str, default: Any, raw: Any) -> Any:
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise InvalidError(f"Setting {name} must be true or false, not {raw!r}")
    if isinstance(default, float):
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise InvalidError(f"Setting {name} must be a number, not {raw!r}") from None
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise InvalidError(f"Setting {name} must be an integer, not {raw!r}") from None
    return str(raw)


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Load settings from defaults, the data directory's toml file, environment and overrides."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    data_dir = overrides.get("data_dir") or env.get("CHARTKEEPER_DATA_DIR") or values["data_dir"]
    toml_path = Path(str(data_dir)) / "chartkeeper.toml"
    if toml_path.is_file():
        with toml_path.open("rb") as handle:
            values.update(tomllib.load(handle))
    for setting in SETTINGS:
        key = "CHARTKEEPER_" + setting.name.upper()
        if key in env:
            values[setting.name] = env[key]
    values.update(overrides)
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InvalidError(f"Unknown setting(s): {', '.join(unknown)}")
    coerced = {s.name: _coerce(s.name, s.default, values[s.name]) for s in SETTINGS}
    return Settings(**coerced)
