"""Signed checkpoints: Ed25519 over ``seq || entry_hash``, stored and exported off the machine.

Someone holding the HMAC key and the database can rewrite the whole chain consistently; they
cannot rewrite a checkpoint already copied elsewhere. The signed message is the 8-byte
big-endian ``seq`` followed by the 32 raw bytes of ``entry_hash``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, insert, select

from chartkeeper.core.errors import InvalidError, NotFoundError
from chartkeeper.privacy.audit.head import read_head
from chartkeeper.privacy.audit.keys import AuditKeys, key_id
from chartkeeper.store.audit_schema import audit_checkpoints

FILE_FORMAT = "chartkeeper-audit-checkpoints"
FILE_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    """A signature over the chain up to ``seq``."""

    seq: int
    entry_hash: str
    signed_at: int  # epoch microseconds UTC
    signature: str  # hex
    public_key_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "entryHash": self.entry_hash,
            "signedAt": self.signed_at,
            "signature": self.signature,
            "publicKeyId": self.public_key_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Checkpoint:
        return cls(
            int(data["seq"]),
            str(data["entryHash"]),
            int(data["signedAt"]),
            str(data["signature"]),
            str(data["publicKeyId"]),
        )


@dataclass(frozen=True)
class CheckpointFile:
    """An exported file: the public keys that signed, and the checkpoints."""

    public_keys: dict[str, str]  # key id -> raw Ed25519 public key, hex
    checkpoints: list[Checkpoint]


def signed_message(seq: int, entry_hash: str) -> bytes:
    return seq.to_bytes(8, "big") + bytes.fromhex(entry_hash)


def is_signature_valid(checkpoint: Checkpoint, public_key_hex: str) -> bool:
    """True when ``checkpoint`` was signed by the key whose raw bytes are ``public_key_hex``."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        message = signed_message(checkpoint.seq, checkpoint.entry_hash)
        key.verify(bytes.fromhex(checkpoint.signature), message)
    except (InvalidSignature, ValueError, OverflowError):
        return False
    return True


def make_checkpoint(connection: Connection, keys: AuditKeys, signed_at: int) -> Checkpoint:
    """Sign the current head and store it (the existing checkpoint if the head has one)."""
    seq, entry_hash, _ = read_head(connection, lock=True)
    existing = connection.execute(
        select(audit_checkpoints).where(audit_checkpoints.c.seq == seq)
    ).first()
    if existing is not None:
        return _from_row(existing)
    signature = keys.sign(signed_message(seq, entry_hash)).hex()
    checkpoint = Checkpoint(seq, entry_hash, signed_at, signature, keys.public_key_id)
    connection.execute(
        insert(audit_checkpoints).values(
            seq=seq,
            entry_hash=entry_hash,
            signed_at=signed_at,
            signature=signature,
            public_key_id=checkpoint.public_key_id,
        )
    )
    return checkpoint


def stored_checkpoints(connection: Connection) -> list[Checkpoint]:
    rows = connection.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.seq))
    return [_from_row(row) for row in rows]


def _from_row(row: Any) -> Checkpoint:
    return Checkpoint(
        int(row.seq), row.entry_hash, int(row.signed_at), row.signature, row.public_key_id
    )


def export_checkpoints(connection: Connection, keys: AuditKeys, path: Path) -> int:
    """Write every stored checkpoint and the public key to ``path``; returns how many."""
    checkpoints = stored_checkpoints(connection)
    document = {
        "format": FILE_FORMAT,
        "version": FILE_VERSION,
        "publicKeys": {keys.public_key_id: keys.public_key_hex},
        "checkpoints": [checkpoint.to_json() for checkpoint in checkpoints],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return len(checkpoints)


def read_checkpoint_file(path: Path) -> CheckpointFile:
    """Load an exported file; a file that is not one is an ``InvalidError``."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        if document.get("format") != FILE_FORMAT or document.get("version") != FILE_VERSION:
            raise ValueError("not a chartkeeper checkpoint file")
        public_keys = {str(k): str(v) for k, v in document["publicKeys"].items()}
        checkpoints = [Checkpoint.from_json(item) for item in document["checkpoints"]]
    except FileNotFoundError as error:
        raise NotFoundError(f"no checkpoint file {path}") from error
    except OSError as error:
        raise InvalidError(f"cannot read checkpoint file {path}: {error.strerror}") from error
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InvalidError(f"{path} is not a chartkeeper checkpoint file") from error
    for found_id, public_key_hex in public_keys.items():
        if _fingerprint(public_key_hex) != found_id:
            raise InvalidError(f"{path}: public key {found_id} does not match its id")
    return CheckpointFile(public_keys, checkpoints)


def _fingerprint(public_key_hex: str) -> str | None:
    try:
        return key_id(bytes.fromhex(public_key_hex))
    except ValueError:
        return None
