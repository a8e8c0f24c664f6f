import pytest

from publishing.networks.base import Account
from tests.meta_media import media_host
from tests.networks import MemoryStore


@pytest.fixture(scope="module")
def host():
    with media_host() as running:
        yield running


@pytest.fixture
def scene(meta):
    """A person managing one Page, and the Page's token with what Kairos asks for."""
    return meta.control.create_page_scene(page_name="Kairos Bakery")


@pytest.fixture
def account(scene):
    """The Page as an adapter sees it: no database, its Page token in its sign-in."""
    return Account(
        id=1,
        network="facebook",
        handle="Kairos Bakery",
        external_id=scene.page_id,
        name="Kairos Bakery (Facebook)",
        credentials={"access_token": scene.page_token, "page_id": scene.page_id},
    )


@pytest.fixture
def store(account):
    return MemoryStore(account)
