import pytest

from accounts.services import social_account_connect
from publishing.networks.base import Account
from tests.factories import WorkspaceFactory
from tests.networks import MemoryStore


@pytest.fixture
def brand(mastodon):
    """A user of the fake instance, with a token allowing what Kairos asks for."""
    return mastodon.control.create_connected_account(
        username="kairos_brand",
        scopes=["write:statuses", "write:media", "read:statuses", "profile"],
    )


@pytest.fixture
def account(mastodon, brand):
    """The Mastodon account as an adapter sees it: no database, its instance in its sign-in."""
    return Account(
        id=1,
        network="mastodon",
        handle="kairos_brand@127.0.0.1",
        external_id=brand.id,
        name="@kairos_brand@127.0.0.1 (Mastodon)",
        credentials={"instance_url": mastodon.url, "access_token": brand.access_token},
    )


@pytest.fixture
def store(account):
    return MemoryStore(account)


@pytest.fixture
def stored_account(mastodon, brand):
    """The same account kept in the database, as connecting it leaves it."""
    return social_account_connect(
        network="mastodon",
        workspace=WorkspaceFactory(),
        external_id=brand.id,
        handle="kairos_brand@127.0.0.1",
        credentials={"instance_url": mastodon.url, "access_token": brand.access_token},
    )
