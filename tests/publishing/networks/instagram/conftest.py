import pytest

from publishing.networks.base import Account
from tests.meta_media import media_host
from tests.networks import MemoryStore


@pytest.fixture(scope="module")
def host():
    with media_host() as running:
        yield running


@pytest.fixture
def scene(meta, settings):
    """A person managing a Page with an Instagram professional account linked to it; video
    containers take a fifth of a second to prepare, and Kairos asks every 50 ms."""
    meta.control.set_meta_settings(video_processing_seconds=0.2)
    settings.INSTAGRAM_CONTAINER_POLL = 0.05
    return meta.control.create_page_scene(page_name="Bakery", instagram_username="kairos.bakery")


@pytest.fixture
def account(scene):
    """The Instagram account as an adapter sees it: its Page's token in its sign-in."""
    return Account(
        id=2,
        network="instagram",
        handle="kairos.bakery",
        external_id=scene.instagram_id,
        name="@kairos.bakery (Instagram)",
        credentials={"access_token": scene.page_token, "page_id": scene.page_id},
    )


@pytest.fixture
def store(account):
    return MemoryStore(account)
