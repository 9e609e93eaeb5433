"""The server's token signing key: one ES256 key, made on first run, kept in <data_dir>/keys.

The private key is a PKCS #8 PEM file readable by its owner only (0600, directory 0700). Every
worker of one deployment reads the same file; the first to start creates it atomically
(written aside, then hard-linked into place, so no worker ever reads half a key). Replacing the
file rotates the key: every token signed with the old one stops verifying at once. Its ``kid``
is the RFC 7638 JWK thumbprint, so the same key always has the same id.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import stat
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chartkeeper.core.errors import InvalidError

log = logging.getLogger("chartkeeper.keys")

KEY_DIRECTORY = "keys"
KEY_FILE = "jwt-es256.pem"


def key_path(data_dir: Path) -> Path:
    """Where the signing key of a data directory lives."""
    return data_dir / KEY_DIRECTORY / KEY_FILE


def load_or_create_signing_key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The deployment's ES256 private key, generated on first use."""
    path = key_path(data_dir)
    if not path.exists():
        _create(path)
    _warn_if_readable_by_others(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise InvalidError(f"{path} must hold an EC P-256 private key (ES256)")
    return key


def _create(path: Path) -> None:
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)  # whatever the umask
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    aside = directory / f".{KEY_FILE}.{os.getpid()}.tmp"
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(aside, path)  # atomic; fails if another process won the race
        log.info("Generated a new token signing key in %s", path)
    except FileExistsError:
        pass
    finally:
        aside.unlink(missing_ok=True)


def _warn_if_readable_by_others(path: Path) -> None:
    for item in (path, path.parent):
        mode = item.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("%s is accessible to other users (mode %o); use 0700/0600", item, mode)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, Any]:
    """The public key as a JWK (RFC 7518 §6.2) with ``kid``, ``use`` and ``alg``."""
    numbers = public_key.public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }
    return {**members, "kid": thumbprint(members), "use": "sig", "alg": "ES256"}


def thumbprint(members: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of an EC key's required members."""
    canonical = json.dumps(
        {name: members[name] for name in ("crv", "kty", "x", "y")},
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64(hashlib.sha256(canonical.encode("ascii")).digest())
