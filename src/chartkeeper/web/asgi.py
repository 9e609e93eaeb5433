"""ASGI factory for servers (``uvicorn chartkeeper.web.asgi:app_factory --factory``)."""

from __future__ import annotations

from starlette.applications import Starlette

from chartkeeper.app import build_services
from chartkeeper.core.settings import load_settings
from chartkeeper.web.app import create_app


def app_factory() -> Starlette:
    """The app over settings from the environment (each worker builds its own services)."""
    return create_app(build_services(load_settings()))
