"""The chaos run's scene: posts dealt round the accounts, with the run's photo on the
networks that download media, a photo that network's own rules accept."""

import pytest

from accounts.services import social_account_connect
from chaos.scene import photo_create, posts_schedule
from posts.models import PartMedia, PostPart
from publishing.networks import adapter_for
from publishing.networks.base import PartContent
from publishing.stores import account_snapshot, media_file
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def library(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _account(workspace, network: str, external_id: str):
    return social_account_connect(
        workspace=workspace,
        network=network,
        external_id=external_id,
        handle=f"chaos{external_id}",
        credentials={"access_token": "token", "page_id": "1"},
    )


def test_only_the_posts_of_networks_that_download_media_carry_the_photo():
    workspace = WorkspaceFactory()
    accounts = [_account(workspace, "instagram", "11"), _account(workspace, "facebook", "12")]

    scheduled = posts_schedule(accounts=accounts, count=4, with_photo={"instagram"})

    photographed = {
        part.post_id: [asset.mime_type for asset in part.media.all()]
        for part in PostPart.objects.all()
    }
    assert {post.network: photographed[post.post_id] for post in scheduled} == {
        "instagram": ["image/jpeg"],
        "facebook": [],
    }
    # One file in the library serves every photographed post.
    assert PartMedia.objects.values("asset").distinct().count() == 1


def test_the_photo_is_one_instagram_takes():
    workspace = WorkspaceFactory()
    account = _account(workspace, "instagram", "21")
    photo = photo_create(workspace_id=workspace.pk)
    part = PartContent(text="chaos #1 of 1", media=(media_file(photo),))

    problems = adapter_for("instagram").validate(account=account_snapshot(account), parts=(part,))

    assert problems == []
    assert photo.kind == "image" and photo.width == photo.height
