"""The field-encryption keyring: AES-256 data keys (one active) and the blind-index key.

One JSON file, ``<data_dir>/keys/field-encryption.keys`` (directory 0700, file 0600), made on
first run (not ``.json``: ``chartkeeper import`` of a data directory must not pick it up). Every
worker of one deployment reads the same file. Changes (a new active key, retiring old ones) are
made under an exclusive lock and land atomically (written aside, fsynced, renamed into place),
so no process ever reads half a keyring. A running server notices a changed file:
it re-reads it before encrypting when the file changed, and when it meets a key id it does not
know. Key material is never logged and never part of a ``repr``.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartkeeper.core.errors import ChartkeeperError

log = logging.getLogger("chartkeeper.encryption")

KEYS_DIR = "keys"
KEYRING_FILE = "field-encryption.keys"
LOCK_FILE = ".field-encryption.lock"
FORMAT = "chartkeeper-field-keys/1"
KEY_BYTES = 32  # AES-256, HMAC-SHA-256


class FieldKeyError(ChartkeeperError):
    """A designated identifier cannot be encrypted or decrypted: its key is missing from the
    keyring, or the stored value was altered. A 500 to a client, exit 70 in the CLI; the
    message names the record and the key id, never the value."""


@dataclass(frozen=True)
class DataKey:
    """One AES-256-GCM data key and its id (the id travels in every value it encrypts)."""

    id: str
    created: str
    key: bytes = field(repr=False)


@dataclass(frozen=True)
class KeyringState:
    """The keyring's content at one moment."""

    active: str
    data_keys: tuple[DataKey, ...]
    blind_index_id: str
    blind_index_created: str
    blind_index_key: bytes = field(repr=False)

    def data_key(self, key_id: str) -> DataKey | None:
        """The data key with ``key_id``, if the ring holds it."""
        return next((k for k in self.data_keys if k.id == key_id), None)

    @property
    def active_key(self) -> DataKey:
        found = self.data_key(self.active)
        if found is None:
            raise FieldKeyError(f"the keyring's active data key {self.active} is not in it")
        return found


def keyring_path(data_dir: Path) -> Path:
    """Where the keyring of a data directory lives."""
    return Path(data_dir) / KEYS_DIR / KEYRING_FILE


def has_keyring(data_dir: Path) -> bool:
    """True when the data directory already holds a keyring."""
    return keyring_path(data_dir).is_file()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _new_key_id(taken: set[str]) -> str:
    while True:
        key_id = secrets.token_hex(4)
        if key_id not in taken:
            return key_id


def new_state(created: str) -> KeyringState:
    """A fresh keyring: one active data key and a blind-index key."""
    first = DataKey(_new_key_id(set()), created, secrets.token_bytes(KEY_BYTES))
    blind_id = _new_key_id({first.id})
    return KeyringState(first.id, (first,), blind_id, created, secrets.token_bytes(KEY_BYTES))


def encode_state(state: KeyringState) -> bytes:
    """The keyring file's bytes."""
    document = {
        "format": FORMAT,
        "active": state.active,
        "data_keys": [
            {"id": k.id, "created": k.created, "key": _b64(k.key)} for k in state.data_keys
        ],
        "blind_index_key": {
            "id": state.blind_index_id,
            "created": state.blind_index_created,
            "key": _b64(state.blind_index_key),
        },
    }
    return json.dumps(document, indent=2).encode("utf-8") + b"\n"


def decode_state(data: bytes, path: Path) -> KeyringState:
    """Parse a keyring file (refusing anything malformed)."""
    try:
        document: dict[str, Any] = json.loads(data)
        if document.get("format") != FORMAT:
            raise ValueError("unknown format")
        keys = tuple(
            DataKey(str(k["id"]), str(k["created"]), base64.b64decode(k["key"], validate=True))
            for k in document["data_keys"]
        )
        blind = document["blind_index_key"]
        state = KeyringState(
            str(document["active"]),
            keys,
            str(blind["id"]),
            str(blind["created"]),
            base64.b64decode(blind["key"], validate=True),
        )
    except (ValueError, KeyError, TypeError) as error:
        raise FieldKeyError(f"{path} is not a valid field-encryption keyring") from error
    if any(len(k.key) != KEY_BYTES for k in keys) or len(state.blind_index_key) != KEY_BYTES:
        raise FieldKeyError(f"{path} holds a key of the wrong length (AES-256 needs 32 bytes)")
    _ = state.active_key  # raises when the active key is missing
    return state


def _file_stamp(path: Path) -> tuple[int, int, int]:
    info = path.stat()
    return (info.st_ino, info.st_mtime_ns, info.st_size)


class FieldKeyring:
    """The keyring of one data directory (see the module docstring)."""

    def __init__(self, path: Path, state: KeyringState, stamp: tuple[int, int, int]) -> None:
        self.path = path
        self._state = state
        self._stamp = stamp

    @property
    def state(self) -> KeyringState:
        """The content as last read."""
        return self._state

    def refresh(self) -> KeyringState:
        """Re-read the file if it changed since it was last read."""
        try:
            stamp = _file_stamp(self.path)
        except FileNotFoundError as error:
            raise FieldKeyError(f"the keyring {self.path} has disappeared") from error
        if stamp != self._stamp:
            self._state = decode_state(_read_private(self.path), self.path)
            self._stamp = stamp
        return self._state

    def active_key(self) -> DataKey:
        """The key new values are encrypted with (the file is checked for a newer one)."""
        return self.refresh().active_key

    def data_key(self, key_id: str) -> DataKey:
        """The data key ``key_id``; re-reads the file once before giving up."""
        found = self._state.data_key(key_id) or self.refresh().data_key(key_id)
        if found is None:
            raise FieldKeyError(
                f"data key {key_id} is not in the keyring {self.path}; restore the keyring "
                "from backup (a value encrypted with a lost key cannot be read)"
            )
        return found

    @property
    def blind_index_key(self) -> bytes:
        return self._state.blind_index_key

    def add_data_key(self, created: str) -> DataKey:
        """Make a new data key the active one; the old ones stay to decrypt what they wrote."""
        with self._locked() as state:
            new = DataKey(
                _new_key_id({k.id for k in state.data_keys} | {state.blind_index_id}),
                created,
                secrets.token_bytes(KEY_BYTES),
            )
            changed = KeyringState(
                new.id,
                (*state.data_keys, new),
                state.blind_index_id,
                state.blind_index_created,
                state.blind_index_key,
            )
            self._write(changed)
        log.info("encryption: data key %s created and made active", new.id)
        return new

    def retire(self, key_ids: set[str]) -> list[str]:
        """Remove data keys from the ring (never the active one); returns those removed."""
        with self._locked() as state:
            gone = [k.id for k in state.data_keys if k.id in key_ids and k.id != state.active]
            kept = tuple(k for k in state.data_keys if k.id not in gone)
            changed = KeyringState(
                state.active,
                kept,
                state.blind_index_id,
                state.blind_index_created,
                state.blind_index_key,
            )
            if gone:
                self._write(changed)
        for key_id in gone:
            log.info("encryption: data key %s retired", key_id)
        return gone

    @contextmanager
    def _locked(self) -> Iterator[KeyringState]:
        with _exclusive(self.path.parent):
            self._stamp = (-1, -1, -1)  # force a re-read under the lock
            yield self.refresh()

    def _write(self, state: KeyringState) -> None:
        _write_atomically(self.path, encode_state(state))
        self._state = state
        self._stamp = _file_stamp(self.path)


def load_keyring(data_dir: Path, created: str) -> FieldKeyring:
    """The keyring of ``data_dir``, generated there on first use (``created``: now, ISO)."""
    path = keyring_path(data_dir)
    directory = path.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)  # whatever the umask
    if not path.exists():
        with _exclusive(directory):
            if not path.exists():
                _write_atomically(path, encode_state(new_state(created)))
                log.info("encryption: generated a new field-encryption keyring in %s", path)
    stamp = _file_stamp(path)
    return FieldKeyring(path, decode_state(_read_private(path), path), stamp)


@contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """An exclusive advisory lock on the keys directory (one keyring writer at a time)."""
    descriptor = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` (0600) so that readers see the old file or the new one, never a mix."""
    aside = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(aside, path)
    finally:
        aside.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _read_private(path: Path) -> bytes:
    for item in (path, path.parent):
        mode = item.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("encryption: %s is accessible to other users (mode %o)", item, mode)
    return path.read_bytes()
