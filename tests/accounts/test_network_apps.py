"""Kairos's apps on a network's servers (accounts.services: network_app_keys, network_app_keep)."""

import pytest

from accounts.models import NetworkApp
from accounts.services import network_app_keep, network_app_keys

pytestmark = pytest.mark.django_db

SERVER = "https://mastodon.example"


def keep(client_id, secret):
    return network_app_keep(
        network="mastodon", server=SERVER, client_id=client_id, client_secret=secret
    )


def test_an_app_is_kept_with_its_secret_encrypted():
    assert network_app_keys(network="mastodon", server=SERVER) is None
    assert keep("id-1", "secret-1") == ("id-1", "secret-1")
    assert network_app_keys(network="mastodon", server=SERVER) == ("id-1", "secret-1")
    assert "secret-1" not in NetworkApp.objects.get().client_secret


def test_of_two_registrations_at_once_the_first_kept_is_used_by_both():
    keep("id-1", "secret-1")
    assert keep("id-2", "secret-2") == ("id-1", "secret-1")
    assert NetworkApp.objects.count() == 1


def test_an_app_whose_secret_no_longer_decrypts_is_replaced():
    keep("id-1", "secret-1")
    NetworkApp.objects.update(client_secret="not-a-fernet-token")
    assert network_app_keys(network="mastodon", server=SERVER) is None
    assert keep("id-2", "secret-2") == ("id-2", "secret-2")
    assert network_app_keys(network="mastodon", server=SERVER) == ("id-2", "secret-2")
