import pytest

from publishing.networks.base import Account
from tests.networks import MemoryStore


@pytest.fixture
def scene(linkedin):
    """A member administering one organization, with a token of every scope Kairos asks."""
    return linkedin.control.create_scene(name="Ada Lovelace", organization="Kairos Bakery")


def account_for(scene, *, organization: bool, **changes) -> Account:
    author = scene.organization_urn if organization else scene.member_urn
    credentials = {"access_token": scene.access_token, "author": author}
    if scene.refresh_token:
        credentials["refresh_token"] = scene.refresh_token
    return Account(
        id=2 if organization else 1,
        network="linkedin",
        handle="Kairos Bakery" if organization else "Ada Lovelace",
        external_id=author,
        name="Kairos Bakery (LinkedIn)" if organization else "Ada Lovelace (LinkedIn)",
        credentials=credentials,
        **changes,
    )


@pytest.fixture
def member(scene):
    return account_for(scene, organization=False)


@pytest.fixture
def organization(scene):
    return account_for(scene, organization=True)


@pytest.fixture
def store(member, organization):
    return MemoryStore(member, organization)
