"""Media through the API: multipart upload, read from the bytes, scoped by workspace."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from posts.models import MediaAsset
from tests.api.conftest import key_client
from tests.factories import SandboxAccountFactory, WorkspaceFactory
from tests.media_files import image_upload

pytestmark = pytest.mark.django_db


def test_an_upload_is_read_from_its_bytes_and_used_in_a_post(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    workspace = WorkspaceFactory()
    account = SandboxAccountFactory(workspace=workspace)
    client = key_client(workspace, "write")
    answer = client.post(
        "/api/v1/media/",
        {"file": image_upload(size=(64, 48)), "alt_text": "A chart"},
        format="multipart",
    )
    assert answer.status_code == 201, answer.json()
    asset = answer.json()
    assert (asset["kind"], asset["mime_type"], asset["width"], asset["height"]) == (
        "image",
        "image/png",
        64,
        48,
    )
    assert asset["alt_text"] == "A chart"
    body = {
        "parts": [{"text": "With a chart", "media": [asset["id"]]}],
        "targets": [{"account": account.pk}],
    }
    post = client.post("/api/v1/posts/", body, format="json").json()
    assert post["parts"][0]["media"] == [asset["id"]]


def test_a_file_that_is_not_media_is_refused_with_a_reason(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = key_client(WorkspaceFactory(), "write")
    text = SimpleUploadedFile("notes.png", b"not an image at all", content_type="image/png")
    answer = client.post("/api/v1/media/", {"file": text}, format="multipart")
    assert answer.status_code == 400
    assert answer.json()["non_field_errors"]
    assert not MediaAsset.objects.exists()


def test_a_parts_files_are_read_back_in_the_order_given(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    workspace = WorkspaceFactory()
    account = SandboxAccountFactory(workspace=workspace)
    client = key_client(workspace, "write")
    first, second, third = (
        client.post("/api/v1/media/", {"file": image_upload()}, format="multipart").json()["id"]
        for _ in range(3)
    )
    order = [third, first, second]  # not the order they were made in
    body = {"parts": [{"text": "Three", "media": order}], "targets": [{"account": account.pk}]}

    made = client.post("/api/v1/posts/", body, format="json").json()

    assert made["parts"][0]["media"] == order
    assert client.get(f"/api/v1/posts/{made['id']}/").json()["parts"][0]["media"] == order
    assert client.get("/api/v1/posts/").json()["results"][0]["parts"][0]["media"] == order
