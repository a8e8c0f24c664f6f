"""Credentials at rest: Fernet under rotating keys, and a key of its own by default."""

import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from accounts.crypto import (
    CredentialsUnreadable,
    credentials_decrypt,
    credentials_encrypt,
    credentials_rotate,
)

TOKENS = {"access_token": "access-abc123", "refresh_token": "refresh-def456"}
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_credentials_are_stored_encrypted_and_read_back(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [NEW]
    stored = credentials_encrypt(TOKENS)
    assert "access-abc123" not in stored and "refresh-def456" not in stored
    assert Fernet(NEW).decrypt(stored.encode())
    assert credentials_decrypt(stored) == TOKENS


def test_the_first_key_encrypts_and_every_key_decrypts(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [OLD]
    written_before = credentials_encrypt(TOKENS)
    settings.KAIROS_CREDENTIALS_KEYS = [NEW, OLD]
    written_after = credentials_encrypt(TOKENS)

    assert credentials_decrypt(written_before) == TOKENS
    assert Fernet(NEW).decrypt(written_after.encode())
    assert Fernet(NEW).decrypt(credentials_rotate(written_before).encode())


def test_without_the_key_nothing_is_read_and_the_error_says_what_to_do(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [OLD]
    stored = credentials_encrypt(TOKENS)
    settings.KAIROS_CREDENTIALS_KEYS = [NEW]
    with pytest.raises(CredentialsUnreadable, match="rotate_credentials_key") as caught:
        credentials_decrypt(stored)
    assert "abc123" not in str(caught.value)


def test_with_no_keys_a_key_comes_from_the_secret_key(settings):
    settings.KAIROS_CREDENTIALS_KEYS = []
    stored = credentials_encrypt(TOKENS)
    assert credentials_decrypt(stored) == TOKENS
    settings.SECRET_KEY = "another secret key entirely, as after a reinstall"
    with pytest.raises(CredentialsUnreadable):
        credentials_decrypt(stored)


def test_moving_off_the_default_key_keeps_everything_readable(settings):
    settings.KAIROS_CREDENTIALS_KEYS = []
    stored = credentials_encrypt(TOKENS)
    settings.KAIROS_CREDENTIALS_KEYS = [NEW]
    assert credentials_decrypt(stored) == TOKENS
    assert Fernet(NEW).decrypt(credentials_rotate(stored).encode())


def test_a_malformed_key_is_a_configuration_error_that_does_not_repeat_it(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [NEW, "not-a-fernet-key-at-all"]
    with pytest.raises(ImproperlyConfigured, match="key 2 is not a Fernet key") as caught:
        credentials_encrypt(TOKENS)
    assert "not-a-fernet-key-at-all" not in str(caught.value)


def test_credentials_written_before_encryption_are_read_and_then_encrypted(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [NEW]
    legacy = json.dumps(TOKENS)
    assert credentials_decrypt(legacy) == TOKENS
    assert json.loads(Fernet(NEW).decrypt(credentials_rotate(legacy).encode())) == TOKENS
