"""pyx12 as the independent validator: run its x12n_document and collect its error messages."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pyx12.params
import pyx12.x12n_document

logging.getLogger("pyx12").setLevel(logging.CRITICAL)
_PARAMS = pyx12.params.params()


def pyx12_errors(text: str) -> list[str]:
    """Every error pyx12 reports for ``text`` (empty when it validates)."""
    out = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(_PARAMS, io.StringIO(text), None, None, fd_json=out)
    errors: list[str] = []
    _collect(json.loads(out.getvalue()) if out.getvalue() else {}, errors)
    if not ok and not errors:
        errors.append("pyx12 rejected the document without a message")
    return errors


def _collect(node: Any, errors: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "errors" and isinstance(value, list):
                errors.extend(str(item.get("err_str", item)) for item in value)
            else:
                _collect(value, errors)
    elif isinstance(node, list):
        for item in node:
            _collect(item, errors)
