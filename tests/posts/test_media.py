"""What a file is comes from the file; the library and the composer keep it."""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditEvent
from posts.media import media_asset_create, media_facts_read
from posts.models import MediaAsset, Post
from publishing.plans import schedule_once
from publishing.services import post_content_for
from tests.factories import MembershipFactory, PostFactory, SandboxAccountFactory
from tests.media_files import image_upload, video_upload
from tests.posts.test_admin import composer_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_an_image_is_read_from_its_bytes_not_from_its_name_or_claimed_type():
    upload = image_upload("holiday.gif", size=(640, 480), image_format="JPEG", claimed="image/gif")
    facts = media_facts_read(file=upload)
    assert (facts.kind, facts.mime_type) == (MediaAsset.Kind.IMAGE, "image/jpeg")
    assert (facts.width, facts.height, facts.size_bytes) == (640, 480, upload.size)


def test_an_animated_gif_is_a_gif():
    facts = media_facts_read(file=image_upload("loop.gif", image_format="GIF", frames=3))
    assert (facts.kind, facts.mime_type) == (MediaAsset.Kind.GIF, "image/gif")


def test_a_video_has_its_duration_and_dimensions():
    facts = media_facts_read(file=video_upload(width=1920, height=1080, seconds=31.25))
    assert (facts.kind, facts.mime_type) == (MediaAsset.Kind.VIDEO, "video/mp4")
    assert (facts.width, facts.height, facts.duration_ms) == (1920, 1080, 31250)


def test_a_file_that_is_no_media_is_refused_by_name():
    with pytest.raises(ValidationError, match=r"notes\.png is neither an image"):
        media_facts_read(file=SimpleUploadedFile("notes.png", b"just some text"))


def test_the_library_keeps_a_file_with_what_was_read_and_records_it():
    member = MembershipFactory()
    asset = media_asset_create(
        workspace=member.workspace, file=image_upload(), actor=member.user, alt_text=" A cat "
    )
    assert (asset.kind, asset.width, asset.height, asset.alt_text) == ("image", 64, 48, "A cat")
    assert asset.size_bytes == asset.file.size
    assert AuditEvent.objects.filter(action="media.added").count() == 1


def test_the_composer_uploads_a_file_into_a_part_with_its_alt_text(admin_client):
    member = MembershipFactory()
    account = SandboxAccountFactory(workspace=member.workspace)
    data = composer_data(workspace=member.workspace, accounts=[account], texts=["Look", "Also"])
    data["parts-0-uploads"] = [image_upload("cat.png"), image_upload("dog.png")]
    data["parts-0-alt_texts"] = "A cat asleep\nA dog awake"
    response = admin_client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 302
    post = Post.objects.get()
    first, second = post.parts.all()
    # In the order uploaded, each with its line of alt text, read as images.
    content = post_content_for(post=post, target=post.targets.get())
    assert [(m.name.rsplit("/", 1)[-1][:3], m.alt_text, m.kind) for m in content[0].media] == [
        ("cat", "A cat asleep", "image"),
        ("dog", "A dog awake", "image"),
    ]
    assert content[1].media == ()
    # The library offers it to the next part; choosing it attaches the same file.
    second_data = {
        **data,
        "parts-INITIAL_FORMS": 2,
        "parts-0-id": first.pk,
        "parts-1-id": second.pk,
        "parts-0-uploads": [],
        "parts-0-alt_texts": "",
        "parts-0-files": [a.pk for a in first.media.all()],
        "parts-1-files": [first.media.first().pk],
    }
    admin_client.post(reverse("admin:posts_post_change", args=[post.pk]), second_data)
    assert list(second.media.all()) == [first.media.first()]
    assert MediaAsset.objects.count() == 2


def test_an_upload_that_is_no_media_is_refused_on_its_part_and_nothing_is_saved(admin_client):
    member = MembershipFactory()
    data = composer_data(workspace=member.workspace, accounts=[], texts=["Look"])
    data["parts-0-uploads"] = [SimpleUploadedFile("virus.exe", b"MZ\x90\x00")]
    response = admin_client.post(reverse("admin:posts_post_add"), data)
    assert response.status_code == 200
    assert "virus.exe is neither an image" in response.content.decode()
    assert not Post.objects.exists() and not MediaAsset.objects.exists()


def test_a_library_file_is_served_to_its_workspace_only(client):
    member = MembershipFactory()
    asset = media_asset_create(workspace=member.workspace, file=image_upload(), actor=None)
    stranger = MembershipFactory()
    client.force_login(stranger.user)
    assert client.get(reverse("media-file", args=[asset.pk])).status_code == 404
    client.force_login(member.user)
    served = client.get(reverse("media-file", args=[asset.pk]))
    assert (served.status_code, served["Content-Type"]) == (200, "image/png")


def test_a_file_x_refuses_is_refused_when_scheduling_with_the_rule_named():
    post = PostFactory()
    asset = media_asset_create(
        workspace=post.workspace, file=image_upload(size=(2000, 2000)), actor=None
    )
    MediaAsset.objects.filter(pk=asset.pk).update(size_bytes=6 * 1024 * 1024)
    post.parts.get().media.add(asset)
    x_account = post.workspace.accounts.create(network="x", handle="brand", external_id="1")
    post.targets.create(account=x_account)
    with pytest.raises(ValidationError) as refused:
        schedule_once(
            post=post,
            local_date=date(2030, 1, 1),
            local_time=time(9, 0),
            timezone_name="UTC",
            actor=None,
        )
    assert "X takes images up to 5 MB" in " ".join(refused.value.messages)


def test_the_files_of_a_part_go_in_the_order_the_page_put_them(admin_client):
    member = MembershipFactory()
    account = SandboxAccountFactory(workspace=member.workspace)
    cat, dog, owl = (
        media_asset_create(workspace=member.workspace, file=image_upload(f"{n}.png"), actor=None)
        for n in ("cat", "dog", "owl")
    )
    data = composer_data(workspace=member.workspace, accounts=[account], texts=["Look"])
    data["parts-0-files"] = [cat.pk, dog.pk, owl.pk]
    data["parts-0-media_order"] = f"{owl.pk},{cat.pk},{dog.pk}"
    admin_client.post(reverse("admin:posts_post_add"), data)
    post = Post.objects.get()
    part = post.parts.get()
    assert list(part.media.order_by("partmedia__position")) == [owl, cat, dog]
    # Moved again (dog up, owl unticked): the order is the page's, the change recorded.
    change = {
        **data,
        "parts-INITIAL_FORMS": 1,
        "parts-0-id": part.pk,
        "parts-0-files": [cat.pk, dog.pk],
        "parts-0-media_order": f"{dog.pk},{cat.pk}",
    }
    admin_client.post(reverse("admin:posts_post_change", args=[post.pk]), change)
    assert list(part.media.order_by("partmedia__position")) == [dog, cat]
    event = AuditEvent.objects.filter(action="post.media_changed").latest("pk")
    assert [len(names) for names in event.data["media"]] == [3, 2]
    # The form offers the part's files in their order for the page to show first.
    page = admin_client.get(reverse("admin:posts_post_change", args=[post.pk])).content.decode()
    assert f'name="parts-0-media_order" value="{dog.pk},{cat.pk}"' in page
