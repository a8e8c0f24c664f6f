"""Network credentials at rest: Fernet, with keys that rotate without downtime.

KAIROS_CREDENTIALS_KEYS lists Fernet keys; the first encrypts, every one decrypts.
Rotating: put a new key first, deploy, run `manage.py rotate_credentials_key`,
then drop the old key. Workers keep reading every row throughout.

With no keys set (the embedded default), one key is derived from SECRET_KEY, so
a fresh machine needs no configuration; changing SECRET_KEY then makes stored
credentials unreadable (accounts must be reconnected). That derived key also
stays last among the decrypting keys once keys are set, so moving off the
default is: set KAIROS_CREDENTIALS_KEYS, run `rotate_credentials_key`.

Only accounts.services calls this module; nothing else sees plaintext credentials.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialsUnreadable(Exception):
    """No configured key decrypts a stored value."""


UNREADABLE = (
    "No key in KAIROS_CREDENTIALS_KEYS decrypts these credentials: was a key removed "
    "before `manage.py rotate_credentials_key` ran, or SECRET_KEY changed while no keys "
    "were set? Put the key back, or reconnect the account."
)


def credentials_encrypt(credentials: dict) -> str:
    return _fernet().encrypt(json.dumps(credentials).encode()).decode()


def credentials_decrypt(stored: str) -> dict:
    if stored.startswith("{"):
        # Written before credentials were encrypted; rotate_credentials_key (or the
        # next save) encrypts it.
        return json.loads(stored)
    try:
        return json.loads(_fernet().decrypt(stored.encode()))
    except InvalidToken:
        raise CredentialsUnreadable(UNREADABLE) from None


def credentials_rotate(stored: str) -> str:
    """The same credentials, encrypted afresh with the first key."""
    if stored.startswith("{"):
        return credentials_encrypt(json.loads(stored))
    try:
        return _fernet().rotate(stored.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable(UNREADABLE) from None


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(settings.KAIROS_CREDENTIALS_KEYS), settings.SECRET_KEY)


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    fernets = []
    for number, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except ValueError:
            # The key itself is never repeated in a message.
            raise ImproperlyConfigured(
                f"KAIROS_CREDENTIALS_KEYS: key {number} is not a Fernet key (32 url-safe "
                "base64-encoded bytes). Make one with: python -c 'from cryptography.fernet "
                "import Fernet; print(Fernet.generate_key().decode())'"
            ) from None
    fernets.append(Fernet(_key_from_secret_key(secret_key)))
    return MultiFernet(fernets)


def _key_from_secret_key(secret_key: str) -> bytes:
    # HKDF with its own label, so this key is not SECRET_KEY's signing key in disguise.
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"kairos.credentials"
    ).derive(secret_key.encode())
    return base64.urlsafe_b64encode(derived)
