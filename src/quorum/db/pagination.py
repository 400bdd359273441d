"""Opaque keyset cursors: the client hands back ``next_token``, we resume after that id."""

import base64
import binascii

from quorum.errors import Invalid


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> str:
    padded = token + "=" * (-len(token) % 4)
    try:
        value = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid("next_token is not a token this server issued") from None
    if len(value) != 24 or any(c not in "0123456789abcdef" for c in value):
        raise Invalid("next_token is not a token this server issued")
    return value
