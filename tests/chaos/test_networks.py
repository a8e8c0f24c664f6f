"""Each chaos network against its fake over real HTTP: Kairos's adapter publishes to an
account the network connected, and the network reads the creation back under the
account's qualified name. Instagram's photo is fetched by the fake from Kairos's own signed
address, served by a live server as the run's web process serves it."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from chaos.networks import NETWORKS, UNREACHABLE_LIMIT, accept_then_drop_fired, qualified
from chaos.scene import photo_create
from publishing.networks import adapter_for
from publishing.networks.base import MediaFile, PartContent, PublishRequest
from publishing.stores import media_file
from tests.factories import WorkspaceFactory
from tests.networks import adapter_args

pytestmark = pytest.mark.django_db


FIXTURES = {
    "x": "x",
    "mastodon": "mastodon",
    "bluesky": "bsky",
    "facebook": "meta",
    "instagram": "meta",
    "linkedin": "linkedin",
}


@pytest.fixture(params=sorted(FIXTURES))
def network(request, settings):
    """A chaos network with its fake running, reset, and Kairos pointed at it as the
    run's environment would point it (with Kairos served live where the network
    downloads media from it)."""
    fake = request.getfixturevalue(FIXTURES[request.param])
    chaos_network = NETWORKS[request.param]
    for name, value in chaos_network.env(fake.url).items():
        setattr(settings, name, value)
    if chaos_network.downloads_media:
        settings.KAIROS_PUBLIC_URL = request.getfixturevalue("live_server").url
        settings.MEDIA_ROOT = request.getfixturevalue("tmp_path")
    return chaos_network, fake


def _publish_and_look_up(account, text: str) -> None:
    """Publish as a worker does (with the run's photo where the network needs one), then
    look the part up as reconciliation does."""
    snapshot, store = adapter_args(account)
    media: tuple[MediaFile, ...] = ()
    if NETWORKS[account.network].downloads_media:
        media = (media_file(photo_create(workspace_id=account.workspace_id)),)
    request = PublishRequest(
        account=snapshot,
        parts=(PartContent(text=text, media=media),),
        idempotency_key=f"chaos-{text}",
    )
    adapter = adapter_for(account.network)
    since = timezone.now() - timedelta(minutes=1)
    adapter.publish(request, store=store, on_part_published=lambda *a: None)
    adapter.find_part(request, index=0, since=since, store=store)


def test_a_post_made_through_kairos_is_read_back_under_the_qualified_account(network):
    chaos_network, fake = network
    account = chaos_network.account_connect(
        fake.control, url=fake.url, workspace=WorkspaceFactory(), number=7
    )
    assert account.network == chaos_network.name
    before = time.time()

    _publish_and_look_up(account, "chaos #1 of 1")

    key = (qualified(account.network, account.external_id), "chaos #1 of 1")
    stats = chaos_network.stats_read(fake.control)
    assert stats.creations == {key: 1}
    assert before - 1 <= stats.first_created_at[key] <= time.time() + 1
    assert accept_then_drop_fired(fake.control) == 0
    # The faults fire on the call that creates, and failed look-ups are read off the
    # call reconciliation makes.
    requests = fake.control.stats()["requests"]
    assert chaos_network.create_endpoint in requests
    assert requests[chaos_network.lookup_endpoint] == {"200": 1}


@pytest.mark.parametrize(
    "network", ["x", "mastodon", "bluesky", "facebook", "instagram"], indirect=True
)
def test_prepare_lifts_the_limits_and_drops_a_share_of_creations(network):
    chaos_network, fake = network
    chaos_network.prepare(fake.control, seed=3)

    assert fake.control.faults()["rates"]["probabilities"] == {"accept_then_drop": 0.02}
    if chaos_network.fake_name == "meta":
        # Graph has no windows to read, only hourly call allowances, a duplicate window
        # and Instagram's publishing quota.
        settings = fake.control.set_meta_settings()
        assert settings["object_calls_per_hour"] == UNREACHABLE_LIMIT
        assert settings["quota_total"] == UNREACHABLE_LIMIT
        assert settings["duplicate_window_seconds"] == 0
        return
    limits = fake.control.rate_limits()["limits"]
    assert limits
    assert all(window["limit"] == UNREACHABLE_LIMIT for window in limits.values())


@pytest.mark.parametrize("network", ["linkedin"], indirect=True)
def test_linkedin_is_prepared_without_its_daily_limit_or_duplicate_refusal(network):
    chaos_network, fake = network
    chaos_network.prepare(fake.control, seed=3)

    assert fake.control.faults()["rates"]["probabilities"] == {"accept_then_drop": 0.02}
    settings = fake.control.set_linkedin_settings()
    assert settings["daily_post_limit"] == UNREACHABLE_LIMIT
    assert settings["duplicate_window_seconds"] == 0


@pytest.mark.parametrize("network", ["linkedin"], indirect=True)
def test_linkedin_counts_the_text_as_written_not_as_escaped(network):
    chaos_network, fake = network
    account = chaos_network.account_connect(
        fake.control, url=fake.url, workspace=WorkspaceFactory(), number=1
    )
    text = "chaos #2 of 60 (run ab12): once, on time."

    _publish_and_look_up(account, text)

    key = (qualified("linkedin", account.external_id), text)
    assert chaos_network.stats_read(fake.control).creations == {key: 1}


def test_facebook_and_instagram_on_one_fake_each_read_back_only_their_own(
    meta, live_server, settings, tmp_path
):
    settings.KAIROS_PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path
    facebook, instagram = NETWORKS["facebook"], NETWORKS["instagram"]
    assert facebook.fake_name == instagram.fake_name
    workspace = WorkspaceFactory()
    page = facebook.account_connect(meta.control, url=meta.url, workspace=workspace, number=1)
    photographed = instagram.account_connect(
        meta.control, url=meta.url, workspace=workspace, number=2
    )

    _publish_and_look_up(page, "chaos #1 of 2")
    _publish_and_look_up(photographed, "chaos #2 of 2")

    assert facebook.stats_read(meta.control).creations == {
        (qualified("facebook", page.external_id), "chaos #1 of 2"): 1
    }
    assert instagram.stats_read(meta.control).creations == {
        (qualified("instagram", photographed.external_id), "chaos #2 of 2"): 1
    }
    # Meta downloaded the photo from Kairos's signed address, once.
    assert list(meta.control.stats()["media_fetches"].values()) == [1]
