"""Encryption at rest of designated identifiers (SSN, driver's licence) and their blind index.

Public API (docs/security.md, "Encryption of designated identifiers", says what is protected
and from whom)::

    keyring = load_keyring(data_dir, created=now)   # <data_dir>/keys/field-encryption.keys
    cipher = FieldCipher(keyring)                   # AES-256-GCM tokens, HMAC blind index
    repository = EncryptedRepository(sql_repository, cipher)   # what the guard wraps

    pass_ = Reencryption(sql_repository, cipher)    # after keyring.add_data_key(now)
    report = pass_.run(progress)                    # batches, one transaction each
    removed, in_use = retire_unused(keyring, key_usage(connection))
"""

from __future__ import annotations

from chartkeeper.privacy.encryption.cipher import FieldCipher, is_token
from chartkeeper.privacy.encryption.identifiers import DESIGNATED_TYPES, is_designated
from chartkeeper.privacy.encryption.keyring import (
    FieldKeyError,
    FieldKeyring,
    has_keyring,
    keyring_path,
    load_keyring,
)
from chartkeeper.privacy.encryption.repository import EncryptedRepository
from chartkeeper.privacy.encryption.rotation import (
    KeyUsage,
    Reencryption,
    RotationReport,
    key_usage,
    record,
    retire_unused,
)

__all__ = [
    "DESIGNATED_TYPES",
    "EncryptedRepository",
    "FieldCipher",
    "FieldKeyError",
    "FieldKeyring",
    "KeyUsage",
    "Reencryption",
    "RotationReport",
    "has_keyring",
    "is_designated",
    "is_token",
    "key_usage",
    "keyring_path",
    "load_keyring",
    "record",
    "retire_unused",
]
