"""Errors of the org model and of signing in; all are LoomErrors, so the runtime maps them by code."""

from __future__ import annotations

import datetime as dt

from engine.base.errors import LoomError


class IdentityInvalid(LoomError):
    """A user, department, token or share could not be saved as asked; nothing was changed."""

    code = "invalid_identity"


class UsernameTaken(IdentityInvalid):
    code = "conflict"

    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"the username {username!r} is already taken (usernames ignore case)")


class UserNotFound(LoomError):
    code = "not_found"

    def __init__(self, key: object) -> None:
        self.key = key
        what = f"with id {key}" if isinstance(key, int) else f"named {key!r}"
        super().__init__(f"there is no user {what}")


class DepartmentNotFound(LoomError):
    code = "not_found"

    def __init__(self, key: object) -> None:
        self.key = key
        what = f"with id {key}" if isinstance(key, int) else f"named {key!r}"
        super().__init__(f"there is no department {what}")


class TokenNotFound(LoomError):
    code = "not_found"

    def __init__(self, token_id: int) -> None:
        self.token_id = token_id
        super().__init__(f"there is no API token with id {token_id}")


class UserDisabled(LoomError):
    """The user exists but is disabled: they cannot act, sign in, or receive records."""

    code = "user_disabled"

    def __init__(self, username: str, doing: str) -> None:
        self.username = username
        super().__init__(f"user {username!r} is disabled and cannot {doing}; enable the user first")


class AuthenticationFailed(LoomError):
    """Signing in or a bearer token failed.

    Every cause (unknown user, wrong password, disabled user, revoked token) gives the same
    message, so a caller cannot learn which usernames exist or which tokens once did.
    """

    code = "unauthenticated"


class LoginThrottled(LoomError):
    """Too many failed sign-ins for a username or from an address; refused until `retry_at`."""

    code = "throttled"

    def __init__(self, retry_at: dt.datetime, now: dt.datetime, zone: dt.tzinfo) -> None:
        self.retry_at = retry_at  # naive UTC, like every stored moment
        #: Whole seconds to wait, for an HTTP Retry-After header.
        self.retry_after = max(1, int((retry_at - now).total_seconds() + 0.999))
        local = retry_at.replace(tzinfo=dt.UTC).astimezone(zone)
        super().__init__(
            f"too many failed sign-in attempts; try again after {local:%Y-%m-%d %H:%M:%S} ({zone})"
        )
