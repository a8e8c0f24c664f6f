import pytest

from accounts.services import social_account_connect
from tests.factories import WorkspaceFactory


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
