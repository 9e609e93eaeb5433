"""AES-256-GCM value tokens and the keyed blind index of designated identifiers.

A value becomes ``ckenc1.<key id>.<base64url(nonce | ciphertext | tag)>``: a random 96-bit
nonce per value (NIST SP 800-38D §8.2.2), and associated data naming the record and the field
(``Patient/p1``, ``identifier.value``, the identifier's system), so a token copied into another
record, or under another system, fails to decrypt instead of showing the wrong number.

The blind index is ``bi1.`` + base64url(HMAC-SHA-256(blind-index key, normalized value)): the
same value always gives the same index, so an exact search works without the value itself
being stored; only a holder of the key can compute it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from chartkeeper.privacy.encryption.keyring import DataKey, FieldKeyError, FieldKeyring

TOKEN_PREFIX = "ckenc1."  # noqa: S105 - the mark of an encrypted value, not a secret
BLIND_PREFIX = "bi1."
NONCE_BYTES = 12
_TOKEN = re.compile(r"ckenc1\.([0-9a-f]{8})\.([A-Za-z0-9_-]+)")
_AD_LABEL = b"chartkeeper identifier v1"
_BLIND_LABEL = b"chartkeeper blind index v1\x00"
#: separators people type inside SSNs and licence numbers (``999-12-3456``, ``S 999 432``)
_SEPARATORS = re.compile(r"[\s\-./]+")


def is_token(value: object) -> bool:
    """True for a string that has the form of an encrypted value."""
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def token_key_id(value: str) -> str | None:
    """The id of the data key a token was made with (None when it is not a token)."""
    found = _TOKEN.fullmatch(value)
    return found.group(1) if found else None


def associated_data(resource_type: str, resource_id: str, system: str | None) -> bytes:
    """What a value is bound to: the record, the field, and the identifier's system."""
    parts = (_AD_LABEL, f"{resource_type}/{resource_id}".encode(), b"identifier.value")
    return b"\x00".join((*parts, (system or "").encode()))


def normalize_identifier(value: str) -> str:
    """The form the blind index hashes: NFKC, separators dropped, upper case."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class FieldCipher:
    """Encrypts and decrypts designated values with the keyring's keys."""

    def __init__(self, keyring: FieldKeyring) -> None:
        self.keyring = keyring
        self._aeads: dict[tuple[str, bytes], AESGCM] = {}

    def _aead(self, key: DataKey) -> AESGCM:
        aead = self._aeads.get((key.id, key.key))
        if aead is None:
            aead = self._aeads[(key.id, key.key)] = AESGCM(key.key)
        return aead

    @property
    def active_key_id(self) -> str:
        return self.keyring.active_key().id

    def encrypt(self, value: str, context: bytes, key: DataKey | None = None) -> str:
        """A token for ``value`` under the active key (or ``key``), bound to ``context``."""
        key = key or self.keyring.active_key()
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead(key).encrypt(nonce, value.encode("utf-8"), context)
        return f"{TOKEN_PREFIX}{key.id}.{_b64(nonce + sealed)}"

    def decrypt(self, token: str, context: bytes, where: str) -> str:
        """The value of ``token``; ``where`` (``Patient/p1``) names the record in errors."""
        found = _TOKEN.fullmatch(token)
        if found is None:
            raise FieldKeyError(f"{where}: an encrypted identifier is malformed")
        key = self.keyring.data_key(found.group(1))
        try:
            data = _unb64(found.group(2))
            plain = self._aead(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], context)
            return plain.decode("utf-8")
        except (InvalidTag, ValueError, binascii.Error) as error:
            raise FieldKeyError(
                f"{where}: an encrypted identifier does not decrypt with data key {key.id} "
                "(altered, or moved from another record)"
            ) from error

    def blind_index(self, value: str) -> str:
        """The keyed blind index of ``value`` (what ``idx_token.code`` holds instead)."""
        message = _BLIND_LABEL + normalize_identifier(value).encode("utf-8")
        digest = hmac.new(self.keyring.blind_index_key, message, hashlib.sha256).digest()
        return BLIND_PREFIX + _b64(digest)
