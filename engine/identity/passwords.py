"""Password rules and argon2id hashing. A password is never stored, returned or logged: only its hash."""

from __future__ import annotations

import os
import secrets
from functools import cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from engine.identity.errors import IdentityInvalid

MIN_LENGTH = 8
# Hashing cost grows with the input; a cap keeps a megabyte "password" from tying up a worker.
MAX_LENGTH = 1024

# argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, 64 MiB, 3 passes).
# A hasher holds only those parameters, so one shared instance carries no state between callers.
_HASHER = PasswordHasher()
# A test suite signs thousands of people in: with this set, argon2-cffi's profile made for tests
# (argon2id at minimal cost). Never set it where real passwords are kept.
CHEAP_HASHES_FOR_TESTS = "LOOM_TEST_CHEAP_PASSWORD_HASHES"
_CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)


def _hasher() -> PasswordHasher:
    return _CHEAP_HASHER if os.environ.get(CHEAP_HASHES_FOR_TESTS) == "1" else _HASHER


def check_password_rules(password: object) -> str:
    """The password if it is acceptable; otherwise IdentityInvalid saying what is wrong (never echoing it)."""
    if not isinstance(password, str):
        raise IdentityInvalid("the password must be text")
    if len(password) < MIN_LENGTH:
        raise IdentityInvalid(
            f"the password must be at least {MIN_LENGTH} characters long (it has {len(password)})"
        )
    if len(password) > MAX_LENGTH:
        raise IdentityInvalid(f"the password must be at most {MAX_LENGTH} characters long")
    if not password.strip():
        raise IdentityInvalid("the password must not be only spaces")
    return password


def hash_password(password: str, *, check_rules: bool = True) -> str:
    """An argon2id hash of a password, checked against the rules first.

    Rehashing at sign-in skips the rules: a password set before they were tightened must
    keep working (and gain the stronger hash) rather than lock its owner out.
    """
    return _hasher().hash(check_password_rules(password) if check_rules else password)


def verify_password(stored_hash: str | None, password: object) -> bool:
    """Whether the password matches the stored hash; a missing or malformed hash matches nothing.

    Without a hash (an unknown user, or one who has no password) a dummy hash is checked
    instead, so the answer takes as long as for a real user and timing does not reveal which
    usernames exist.
    """
    if not isinstance(password, str) or len(password) > MAX_LENGTH:
        password = ""
    try:
        matched = _hasher().verify(stored_hash or _dummy_hash(_hasher()), password)
    except (VerificationError, InvalidHashError):
        return False
    return matched and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    """Whether a hash was made with weaker parameters than today's and should be replaced at sign-in."""
    try:
        return _hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(16))
