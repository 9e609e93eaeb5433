"""The ledger's secrets: an HMAC key for the chain and an Ed25519 key for checkpoints.

Both are generated on first use into ``<data_dir>/keys/`` (directory 0700, files 0600) and
loaded thereafter. Every server writing the same ledger must share this directory. Key material
is never logged and never part of a ``repr``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from chartkeeper.core.errors import ChartkeeperError

log = logging.getLogger(__name__)

KEYS_DIR = "keys"
HMAC_KEY_FILE = "audit-hmac.key"
SIGNING_KEY_FILE = "audit-signing.pem"
HMAC_KEY_BYTES = 32


@dataclass(frozen=True)
class AuditKeys:
    """The HMAC key that chains entries and the Ed25519 key that signs checkpoints."""

    hmac_key: bytes = field(repr=False)
    signing_key: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> AuditKeys:
        """Fresh keys held only in memory (tests, benchmarks)."""
        return cls(secrets.token_bytes(HMAC_KEY_BYTES), Ed25519PrivateKey.generate())

    @property
    def hmac_key_id(self) -> str:
        """A fingerprint of the HMAC key that reveals nothing of it (recorded in the head)."""
        return hmac.new(self.hmac_key, b"chartkeeper audit key id", hashlib.sha256).hexdigest()[:16]

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.signing_key.public_key()

    @property
    def public_key_hex(self) -> str:
        """The raw 32-byte public key in hex: what an exported checkpoint file carries."""
        return public_key_bytes(self.public_key).hex()

    @property
    def public_key_id(self) -> str:
        """A short fingerprint of the public key (first 16 hex digits of its SHA-256)."""
        return key_id(public_key_bytes(self.public_key))

    def sign(self, message: bytes) -> bytes:
        return self.signing_key.sign(message)


class AuditKeyMismatchError(ChartkeeperError):
    """The HMAC key in use is not the one that wrote this ledger.

    Appending with it would fork the chain, so the ledger refuses: every server writing one
    ledger must share the same ``<data_dir>/keys/`` (a 500 to a client; exit 70 in the CLI).
    """


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(raw_public_key: bytes) -> str:
    return hashlib.sha256(raw_public_key).hexdigest()[:16]


def has_keys(data_dir: Path) -> bool:
    """True when ``<data_dir>/keys/`` holds both keys (verify must not invent new ones)."""
    directory = Path(data_dir) / KEYS_DIR
    return (directory / HMAC_KEY_FILE).is_file() and (directory / SIGNING_KEY_FILE).is_file()


def load_keys(data_dir: Path) -> AuditKeys:
    """The keys in ``<data_dir>/keys/``, generated there on first use."""
    directory = Path(data_dir) / KEYS_DIR
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    hmac_path = directory / HMAC_KEY_FILE
    signing_path = directory / SIGNING_KEY_FILE
    _create_once(hmac_path, lambda: secrets.token_bytes(HMAC_KEY_BYTES).hex().encode() + b"\n")
    _create_once(signing_path, _new_signing_pem)
    hmac_key = bytes.fromhex(_read_private(hmac_path).decode().strip())
    signing_key = serialization.load_pem_private_key(_read_private(signing_path), password=None)
    if not isinstance(signing_key, Ed25519PrivateKey):
        raise ValueError(f"{signing_path} does not hold an Ed25519 private key")
    return AuditKeys(hmac_key, signing_key)


def _new_signing_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _create_once(path: Path, make: Callable[[], bytes]) -> None:
    """Write ``path`` (0600) unless it exists; safe when several processes start together.

    The content goes to a private temporary file that is then hard-linked into place, which
    fails if another process got there first: nobody ever reads a half-written key.
    """
    if path.exists():
        return
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(make())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
            log.info("audit: generated %s", path)
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)


def _read_private(path: Path) -> bytes:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("audit: %s is readable by others (mode %o); it should be 0600", path, mode)
    return path.read_bytes()
