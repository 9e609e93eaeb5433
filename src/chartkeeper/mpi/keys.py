"""The key that hashes designated identifiers (SSN, driver's licence) in the match features.

The MPI compares identifiers, typos included, from keyed hashes only (see
``matching.features``), so its tables never hold the plaintext that field encryption protects.
The key is made on first use, 32 random bytes in ``<data_dir>/keys/mpi-identifiers.key``
(mode 0600). Replacing it makes every stored identifier hash stale: run
``chartkeeper mpi reindex`` afterwards.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE = "mpi-identifiers.key"


def load_identifier_key(data_dir: Path) -> bytes:
    """The deployment's identifier-hashing key, created atomically on first use."""
    directory = data_dir / "keys"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / KEY_FILE
    if not path.exists():
        aside = directory / f".{KEY_FILE}.{os.getpid()}"
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        try:
            os.link(aside, path)  # the first worker to get here wins; the others read its key
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(f"{path} must hold 32 bytes, not {len(key)}")
    return key
