"""Local users and service clients: who may sign in, in which role, and how they prove it.

Sign-in refusals all carry one message, whatever the reason (unknown name, wrong password,
locked, disabled), and take the time of one password check, so neither the answer nor its
timing tells an attacker which names exist. After ``LOCKOUT_THRESHOLD`` wrong passwords in a row
an account is locked for ``LOCKOUT_DURATION`` (NIST SP 800-63B §5.2.2 rate limiting); attempts
while locked are refused without being counted. Both are constants for now, documented in
docs/security.md.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, select, update
from sqlalchemy.exc import IntegrityError

from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import ConflictError, InvalidError, NotFoundError, UnauthorizedError
from chartkeeper.core.ids import is_valid_id
from chartkeeper.fhir.dates import from_micros, to_micros
from chartkeeper.privacy.actor import CLINICAL_ROLES, ROLES, Actor
from chartkeeper.privacy.clients import ClientRecord, ClientRegistry, NewClient
from chartkeeper.privacy.credentials import SecretHasher, check_new_password
from chartkeeper.privacy.database import IdentityDatabase
from chartkeeper.store.identity_schema import users

log = logging.getLogger("chartkeeper.identity")

LOCKOUT_THRESHOLD = 5
LOCKOUT_DURATION = timedelta(minutes=15)
SIGN_IN_REFUSED = "Sign-in refused: wrong name or password, or the account cannot sign in now"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")


@dataclass(frozen=True)
class UserRecord:
    """A local user as the operator sees it (never the password hash)."""

    name: str
    role: str
    patient_id: str | None
    practitioner_id: str | None
    organization: str | None
    disabled: bool
    failed_attempts: int
    locked_until: datetime | None
    created: datetime
    updated: datetime


def _record(row: Row[Any]) -> UserRecord:
    locked = from_micros(row.locked_until) if row.locked_until is not None else None
    return UserRecord(
        row.name,
        row.role,
        row.patient_id,
        row.practitioner_id,
        row.organization,
        bool(row.disabled),
        row.failed_attempts,
        locked,
        from_micros(row.created),
        from_micros(row.updated),
    )


def _actor(row: Row[Any]) -> Actor:
    return Actor(
        kind="user",
        name=row.name,
        role=row.role,
        patient_id=row.patient_id,
        practitioner_id=row.practitioner_id,
        organization=row.organization,
    )


def check_links(role: str, patient_id: str | None, practitioner_id: str | None) -> None:
    """Refuse a role that does not exist, or resource links that do not fit the role."""
    if role not in ROLES:
        raise InvalidError(f"Unknown role {role!r}; roles are {', '.join(ROLES)}")
    if role == "patient" and not patient_id:
        raise InvalidError("A user with role patient needs --patient Patient/ID")
    if role != "patient" and patient_id:
        raise InvalidError(f"Only users with role patient are linked to a Patient, not {role}")
    if practitioner_id and role not in CLINICAL_ROLES:
        raise InvalidError(f"Only clinical roles are linked to a Practitioner, not {role}")
    for value in (patient_id, practitioner_id):
        if value is not None and not is_valid_id(value):
            raise InvalidError(f"{value!r} is not a valid FHIR id")


class IdentityStore:
    """Users and service clients in the store's database."""

    def __init__(self, engine: Engine, clock: Clock, hasher: SecretHasher | None = None) -> None:
        self._db = IdentityDatabase(engine)
        self._clock = clock
        self._hasher = hasher or SecretHasher()
        self.clients = ClientRegistry(self._db, clock, self._hasher)

    # --- users -------------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        role: str,
        password: str,
        *,
        patient_id: str | None = None,
        practitioner_id: str | None = None,
        organization: str | None = None,
    ) -> UserRecord:
        """Create a user; refuses a taken name, a bad role or link, or a short password."""
        if not _NAME.fullmatch(name):
            raise InvalidError(
                "User names are 1-128 letters, digits and . _ @ -, starting with a letter or digit"
            )
        check_links(role, patient_id, practitioner_id)
        check_new_password(password)
        now = to_micros(self._clock.now())
        values = {
            "name": name,
            "role": role,
            "patient_id": patient_id,
            "practitioner_id": practitioner_id,
            "organization": organization,
            "password_hash": self._hasher.hash(password),
            "failed_attempts": 0,
            "locked_until": None,
            "disabled": False,
            "created": now,
            "updated": now,
        }
        try:
            with self._db.write() as conn:
                conn.execute(users.insert().values(**values))
        except IntegrityError:
            raise ConflictError(f"User {name} already exists") from None
        log.info("User %s added with role %s", name, role)
        return self.get_user(name)

    def get_user(self, name: str) -> UserRecord:
        """One user; ``NotFoundError`` when there is none by that name."""
        row = self._row(name)
        if row is None:
            raise NotFoundError(f"No user named {name}")
        return _record(row)

    def list_users(self) -> list[UserRecord]:
        """Every user, by name."""
        with self._db.read() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
        return [_record(row) for row in rows]

    def disable_user(self, name: str) -> None:
        """Stop a user from signing in (and from refreshing tokens)."""
        self._update(name, disabled=True)
        log.info("User %s disabled", name)

    def enable_user(self, name: str) -> None:
        """Let a disabled or locked-out user sign in again."""
        self._update(name, disabled=False, failed_attempts=0, locked_until=None)
        log.info("User %s enabled", name)

    def set_role(self, name: str, role: str, patient_id: str | None = None) -> UserRecord:
        """Change a user's role; links that no longer fit the role are dropped."""
        current = self.get_user(name)
        patient = patient_id or (current.patient_id if role == "patient" else None)
        practitioner = current.practitioner_id if role in CLINICAL_ROLES else None
        check_links(role, patient, practitioner)
        self._update(name, role=role, patient_id=patient, practitioner_id=practitioner)
        log.info("User %s now has role %s", name, role)
        return self.get_user(name)

    def set_password(self, name: str, password: str) -> None:
        """Replace a user's password (and clear a lockout)."""
        check_new_password(password)
        hashed = self._hasher.hash(password)
        self._update(name, password_hash=hashed, failed_attempts=0, locked_until=None)

    def user_actor(self, name: str) -> Actor:
        """The actor of an active user now (for refresh and for ``chartkeeper token``)."""
        row = self._row(name)
        if row is None or row.disabled:
            raise UnauthorizedError(f"User {name} does not exist or is disabled")
        return _actor(row)

    # --- sign-in -----------------------------------------------------------------------------

    def authenticate(self, name: str, password: str, now: datetime) -> Actor:
        """The actor of a user signing in with the right password; one generic refusal else."""
        row = self._row(name)
        if row is None or row.disabled or _is_locked(row, now):
            self._hasher.burn(password)
            reason = "unknown name" if row is None else "disabled or locked"
            log.info("Sign-in refused (%s)", reason)
            raise UnauthorizedError(SIGN_IN_REFUSED)
        if not self._hasher.verify(row.password_hash, password):
            self._count_failure(name, now)
            log.info("Sign-in refused for user %s (wrong password)", name)
            raise UnauthorizedError(SIGN_IN_REFUSED)
        self._count_success(row, password, now)
        return _actor(row)

    def _count_failure(self, name: str, now: datetime) -> None:
        moment = to_micros(now)
        with self._db.write() as conn:
            counted = users.c.failed_attempts + 1
            conn.execute(
                update(users)
                .where(users.c.name == name)
                .values(failed_attempts=counted, updated=moment)
            )
            attempts = conn.execute(
                select(users.c.failed_attempts).where(users.c.name == name)
            ).scalar_one()
            if attempts >= LOCKOUT_THRESHOLD:
                until = to_micros(now + LOCKOUT_DURATION)
                conn.execute(
                    update(users)
                    .where(users.c.name == name)
                    .values(failed_attempts=0, locked_until=until)
                )
                log.warning("User %s locked out after %d failed sign-ins", name, attempts)

    def _count_success(self, row: Row[Any], password: str, now: datetime) -> None:
        values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
        if self._hasher.needs_rehash(row.password_hash):
            values["password_hash"] = self._hasher.hash(password)
        if row.failed_attempts or row.locked_until is not None or len(values) > 2:
            values["updated"] = to_micros(now)
            with self._db.write() as conn:
                conn.execute(update(users).where(users.c.name == row.name).values(**values))

    # --- service clients ---------------------------------------------------------------------

    def add_client(
        self,
        name: str,
        scopes: str,
        *,
        secret: str | None = None,
        jwks: dict[str, Any] | None = None,
        redirect_uris: tuple[str, ...] = (),
        public: bool = False,
        role: str | None = None,
    ) -> NewClient:
        """Register a service client; ``NewClient.secret`` holds a generated secret, once."""
        return self.clients.add(
            name,
            scopes,
            secret=secret,
            jwks=jwks,
            redirect_uris=redirect_uris,
            public=public,
            role=role,
        )

    def get_client(self, client_id: str) -> ClientRecord | None:
        """A registered client, or None."""
        return self.clients.get(client_id)

    def authenticate_client_secret(self, client_id: str, secret: str) -> ClientRecord:
        """The client whose secret this is; one generic refusal otherwise."""
        return self.clients.authenticate_secret(client_id, secret)

    def client_public_key(self, client_id: str, kid: str | None) -> dict[str, Any] | None:
        """The registered public JWK of a ``private_key_jwt`` client matching ``kid``."""
        return self.clients.public_key(client_id, kid)

    # --- helpers -----------------------------------------------------------------------------

    def _row(self, name: str) -> Row[Any] | None:
        if not _NAME.fullmatch(name):
            return None  # never a user's name; and PostgreSQL refuses NUL in text
        with self._db.read() as conn:
            return conn.execute(select(users).where(users.c.name == name)).first()

    def _update(self, name: str, **values: Any) -> None:
        if not _NAME.fullmatch(name):
            raise NotFoundError(f"No user named {name!r}")
        values["updated"] = to_micros(self._clock.now())
        with self._db.write() as conn:
            result = conn.execute(update(users).where(users.c.name == name).values(**values))
            if result.rowcount == 0:
                raise NotFoundError(f"No user named {name}")


def _is_locked(row: Row[Any], now: datetime) -> bool:
    return row.locked_until is not None and row.locked_until > to_micros(now)
