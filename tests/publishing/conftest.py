import pytest

from accounts.services import social_account_connect
from publishing import dispatch
from tests.factories import WorkspaceFactory


@pytest.fixture
def tick(django_capture_on_commit_callbacks):
    """One dispatch tick, with its after-commit sends run as a real commit would."""

    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return dispatch.tick(**kwargs)

    return run


@pytest.fixture
def toot(mastodon):
    """A Mastodon account connected to the fake instance (stored, as connecting leaves
    it), and its user there."""
    user = mastodon.control.create_connected_account(
        username="kairos_brand",
        scopes=["write:statuses", "write:media", "read:statuses", "profile"],
    )
    account = social_account_connect(
        network="mastodon",
        workspace=WorkspaceFactory(slug="brand"),
        external_id=user.id,
        handle="kairos_brand@127.0.0.1",
        credentials={"instance_url": mastodon.url, "access_token": user.access_token},
    )
    return account, user
