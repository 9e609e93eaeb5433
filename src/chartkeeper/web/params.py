"""Operation parameters shared by the API modules: a Parameters body, an integer query value."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from chartkeeper.core.errors import InvalidError


def parameters(body: Any) -> dict[str, Any]:
    """name → value[x] of a Parameters resource (``resource`` for a resource part)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidError("The body must be a Parameters resource", ("resourceType",))
    values: dict[str, Any] = {}
    items = body.get("parameter") or []
    if not isinstance(items, list):
        raise InvalidError("Parameters.parameter must be a list", ("Parameters.parameter",))
    for index, item in enumerate(items):
        where = f"Parameters.parameter[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidError("Each parameter must be an object with a name", (where,))
        value = [v for k, v in item.items() if k.startswith("value") or k == "resource"]
        if len(value) != 1:
            raise InvalidError(f"Parameter '{item['name']}' needs exactly one value", (where,))
        values[item["name"]] = value[0]
    return values


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter, clamped to ``low..high``; 400 when it is not an integer."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidError(f"{name} must be an integer, not {raw!r}", (name,)) from None
    return max(low, min(high, value))
