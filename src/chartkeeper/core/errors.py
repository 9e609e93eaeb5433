"""One error currency for the whole system.

Each category fixes, together, the HTTP status, the OperationOutcome ``issue.code`` and the CLI
exit code, so a refusal means the same thing on every edge::

    ChartkeeperError
    ├── InvalidError            400  invalid      exit 65
    │   └── NotSupportedError   400  not-supported
    ├── UnauthorizedError       401  login        exit 77
    ├── ForbiddenError          403  forbidden    exit 77
    ├── NotFoundError           404  not-found    exit 66
    ├── MethodNotAllowedError   405  not-supported exit 64
    ├── NotAcceptableError      406  not-supported exit 64
    ├── ConflictError           409  conflict     exit 75
    ├── GoneError               410  deleted      exit 66
    ├── PreconditionFailedError 412  conflict     exit 75
    ├── TooLargeError           413  too-long     exit 65
    ├── UnsupportedMediaError   415  not-supported exit 65
    ├── UnprocessableError      422  processing   exit 65
    └── BusyError               503  transient    exit 75

Messages name resources and elements (``Patient/123``, ``entry[3].resource.birthDate``) and
never carry patient data. Exit codes follow BSD ``sysexits.h`` and are never reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    """One problem found, in OperationOutcome terms."""

    diagnostics: str
    expression: tuple[str, ...] = ()
    severity: str = "error"
    code: str | None = None


@dataclass
class ChartkeeperError(Exception):
    """Base of every error the system raises on purpose."""

    message: str
    expression: tuple[str, ...] = ()
    issues: list[Issue] = field(default_factory=list)

    status = 500
    issue_code = "exception"
    exit_code = 70

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def all_issues(self) -> list[Issue]:
        """The issues to report: the explicit list, or one made from the message."""
        if self.issues:
            return self.issues
        return [Issue(self.message, self.expression, "error", self.issue_code)]


class InvalidError(ChartkeeperError):
    """The request or resource is malformed or breaks a rule of the spec."""

    status = 400
    issue_code = "invalid"
    exit_code = 65


class NotSupportedError(InvalidError):
    """A valid FHIR request that this server does not implement."""

    issue_code = "not-supported"


class UnauthorizedError(ChartkeeperError):
    """No valid credentials were given."""

    status = 401
    issue_code = "login"
    exit_code = 77


class ForbiddenError(ChartkeeperError):
    """The caller is known but may not do this."""

    status = 403
    issue_code = "forbidden"
    exit_code = 77


class NotFoundError(ChartkeeperError):
    """No such resource, type or route."""

    status = 404
    issue_code = "not-found"
    exit_code = 66


class MethodNotAllowedError(ChartkeeperError):
    """The interaction is not defined on this URL."""

    status = 405
    issue_code = "not-supported"
    exit_code = 64


class NotAcceptableError(ChartkeeperError):
    """The client asked for a format this server does not produce."""

    status = 406
    issue_code = "not-supported"
    exit_code = 64


class ConflictError(ChartkeeperError):
    """The request conflicts with the current state (e.g. several conditional matches)."""

    status = 409
    issue_code = "conflict"
    exit_code = 75


class GoneError(ChartkeeperError):
    """The resource existed and was deleted."""

    status = 410
    issue_code = "deleted"
    exit_code = 66


class PreconditionFailedError(ChartkeeperError):
    """An ``If-Match`` or conditional precondition did not hold."""

    status = 412
    issue_code = "conflict"
    exit_code = 75


class TooLargeError(ChartkeeperError):
    """The request body is larger than the configured limit."""

    status = 413
    issue_code = "too-long"
    exit_code = 65


class UnsupportedMediaError(ChartkeeperError):
    """The request body is not in a media type this server reads."""

    status = 415
    issue_code = "not-supported"
    exit_code = 65


class UnprocessableError(ChartkeeperError):
    """Well-formed but not processable (e.g. a business rule refused it)."""

    status = 422
    issue_code = "processing"
    exit_code = 65


class BusyError(ChartkeeperError):
    """The store is busy; the client may retry."""

    status = 503
    issue_code = "transient"
    exit_code = 75
