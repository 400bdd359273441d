"""Secrets Quorum hands out and passwords it keeps, the same way for every kind of account.

API keys, worker and staff sessions, invitations and model owners' tokens are random strings
shown once and stored only as SHA-256 digests (they carry enough entropy that a fast hash is
safe); passwords are stored as argon2 hashes.
"""

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Longer "passwords" are refused before hashing: argon2 over megabytes is a cheap way to burn CPU.
MAX_PASSWORD_LENGTH = 1024


def new_secret(prefix: str, nbytes: int = 20) -> str:
    """A fresh secret, prefixed so that a leaked one says what it is (``wk_``, ``st_``…)."""
    return f"{prefix}{secrets.token_hex(nbytes)}"


def digest(secret: str) -> str:
    """What is stored of a secret, and looked up when it comes back."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str, password: str) -> str | None:
    """The hash to keep if ``password`` is right (a fresh one when argon2's parameters have
    changed since it was made, else ``stored_hash``); None if it is wrong."""
    try:
        _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return _hasher.hash(password) if _hasher.check_needs_rehash(stored_hash) else stored_hash


@cache
def _dummy_hash() -> str:
    """A hash of a random password nobody knows, made with the current parameters."""
    return _hasher.hash(secrets.token_hex(16))


def verify_login(stored_hash: str | None, password: str) -> str | None:
    """``check_password`` for a sign-in, taking as long whether or not the account exists.

    An unknown account (or one without a password yet) passes ``None``: the password is still
    verified, against a dummy hash, so the answer's timing does not tell which emails exist."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    if stored_hash is None:
        check_password(_dummy_hash(), password)
        return None
    return check_password(stored_hash, password)
