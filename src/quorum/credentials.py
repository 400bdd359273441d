"""Secrets Quorum hands out and passwords it keeps, the same way for every kind of account.

API keys, worker and staff sessions, invitations and model owners' tokens are random strings
shown once and stored only as SHA-256 digests (they carry enough entropy that a fast hash is
safe); passwords are stored as argon2 hashes.
"""

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


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
