"""chartkeeper's app with auditing off: the baseline of the audited-reads-over-HTTP benchmark.

The same services as ``chartkeeper.web.asgi:app_factory`` (same store, guard, encryption and
routes) with the audit ledger replaced by ``NullLedger``, so the guard builds and records no
AuditEvents. A benchmark baseline only: chartkeeper itself has no way to turn auditing off.
"""

from __future__ import annotations

from dataclasses import replace

from starlette.applications import Starlette

from chartkeeper.app import build_services
from chartkeeper.core.settings import load_settings
from chartkeeper.privacy.audit import NullLedger
from chartkeeper.web.app import create_app


def app_factory() -> Starlette:
    """The app over settings from the environment, recording nothing."""
    services = build_services(load_settings())
    services.ledger.close()
    return create_app(replace(services, ledger=NullLedger(services.clock)))
