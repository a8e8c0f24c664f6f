"""`manage.py rotate_credentials_key`: every row re-encrypted with the first key, in batches."""

import json
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.crypto import CredentialsUnreadable
from accounts.models import NetworkApp, SocialAccount, WebhookEndpoint
from accounts.services import (
    network_app_keep,
    network_app_keys,
    social_account_connect,
    social_account_credentials,
    webhook_secret_new,
    webhook_secret_read,
)
from tests.factories import SandboxAccountFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def x_accounts(count: int) -> list[SocialAccount]:
    workspace = WorkspaceFactory()
    return [
        social_account_connect(
            network="x",
            workspace=workspace,
            external_id=str(1000 + n),
            handle=f"brand{n}",
            credentials={"access_token": f"access-{n}", "refresh_token": f"refresh-{n}"},
        )
        for n in range(count)
    ]


def rotate(*, batch_size: int = 200) -> str:
    out = StringIO()
    call_command("rotate_credentials_key", batch_size=batch_size, stdout=out)
    return out.getvalue()


def test_every_row_is_re_encrypted_and_then_needs_only_the_new_key(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [OLD]
    accounts = x_accounts(4)
    SandboxAccountFactory()  # no credentials: nothing to do
    legacy = accounts[3]
    SocialAccount.objects.filter(pk=legacy.pk).update(
        credentials=json.dumps({"access_token": "access-3", "refresh_token": "refresh-3"})
    )
    settings.KAIROS_CREDENTIALS_KEYS = [NEW, OLD]

    output = rotate(batch_size=3)

    assert output.splitlines()[:2] == ["3/4", "4/4"]
    assert (
        "Re-encrypted the credentials of 4 account(s), the secrets of 0 webhook endpoint(s) "
        "and of 0 network app(s)." in output
    )
    settings.KAIROS_CREDENTIALS_KEYS = [NEW]
    for n, account in enumerate(SocialAccount.objects.filter(network="x").order_by("pk")):
        assert Fernet(NEW).decrypt(account.credentials.encode())
        assert social_account_credentials(account=account) == {
            "access_token": f"access-{n}",
            "refresh_token": f"refresh-{n}",
        }
    settings.KAIROS_CREDENTIALS_KEYS = [OLD]
    with pytest.raises(CredentialsUnreadable):
        social_account_credentials(account=SocialAccount.objects.filter(network="x").first())


def test_a_row_no_key_reads_stops_the_run_and_says_which(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [OLD]
    first, second = x_accounts(2)
    settings.KAIROS_CREDENTIALS_KEYS = [NEW]  # OLD removed too early
    SocialAccount.objects.filter(pk=first.pk).update(
        credentials=Fernet(NEW).encrypt(b'{"access_token": "a", "refresh_token": "r"}').decode()
    )

    with pytest.raises(CommandError, match=f"Account {second.pk}: No key"):
        rotate(batch_size=1)

    settings.KAIROS_CREDENTIALS_KEYS = [NEW, OLD]
    assert "2/2" in rotate()


def test_running_it_twice_changes_nothing_readable(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [NEW]
    (account,) = x_accounts(1)
    rotate()
    rotate()
    account.refresh_from_db()
    assert social_account_credentials(account=account)["access_token"] == "access-0"


def test_webhook_signing_secrets_are_re_encrypted_too(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [OLD]
    secret, stored = webhook_secret_new()
    WebhookEndpoint.objects.create(
        workspace=WorkspaceFactory(), url="https://hooks.example.com/", secret=stored
    )
    settings.KAIROS_CREDENTIALS_KEYS = [NEW, OLD]

    assert "the secrets of 1 webhook endpoint(s)" in rotate()

    settings.KAIROS_CREDENTIALS_KEYS = [NEW]
    assert webhook_secret_read(WebhookEndpoint.objects.get().secret) == secret


def test_network_apps_client_secrets_are_re_encrypted_too(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [OLD]
    network_app_keep(
        network="mastodon", server="https://social.example", client_id="app", client_secret="s3"
    )
    settings.KAIROS_CREDENTIALS_KEYS = [NEW, OLD]

    assert "and of 1 network app(s)" in rotate()

    settings.KAIROS_CREDENTIALS_KEYS = [NEW]
    assert Fernet(NEW).decrypt(NetworkApp.objects.get().client_secret.encode())
    assert network_app_keys(network="mastodon", server="https://social.example") == ("app", "s3")


def test_an_app_no_key_reads_stops_the_run_and_says_which(settings):
    settings.KAIROS_CREDENTIALS_KEYS = [OLD]
    network_app_keep(
        network="mastodon", server="https://social.example", client_id="app", client_secret="s3"
    )
    settings.KAIROS_CREDENTIALS_KEYS = [NEW]  # OLD removed too early

    with pytest.raises(CommandError, match=f"App {NetworkApp.objects.get().pk}: No key"):
        rotate()
