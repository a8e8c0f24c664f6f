"""Uploads on the fake instance: images ready at once, videos processed, types sniffed."""

from __future__ import annotations

import pytest
import requests

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


@pytest.fixture
def alice(mastodon):
    return mastodon.control.create_connected_account(username="alice")


def upload(mastodon, account, data, description=""):
    return requests.post(
        f"{mastodon.url}/api/v2/media",
        files={"file": ("file", data, "application/octet-stream")},
        data={"description": description} if description else None,
        headers=account.headers,
        timeout=5,
    )


def test_an_image_is_ready_at_once_with_its_description(mastodon, alice):
    response = upload(mastodon, alice, PNG, description="A chart")
    body = response.json()
    assert response.status_code == 200
    assert (body["type"], body["description"]) == ("image", "A chart")
    assert body["url"].endswith(".png")


def test_a_video_is_processed_after_the_answer(mastodon, alice):
    mastodon.control.set_media_processing(seconds=30)
    response = upload(mastodon, alice, MP4)
    assert (response.status_code, response.json()["url"]) == (202, None)
    media_id = response.json()["id"]
    status_url = f"{mastodon.url}/api/v1/media/{media_id}"
    assert requests.get(status_url, headers=alice.headers, timeout=5).status_code == 206
    early = requests.post(
        f"{mastodon.url}/api/v1/statuses",
        json={"status": "clip", "media_ids": [media_id]},
        headers=alice.headers,
        timeout=5,
    )
    assert early.status_code == 422
    assert "finished processing" in early.json()["error"]
    mastodon.control.advance_time(31)
    assert requests.get(status_url, headers=alice.headers, timeout=5).status_code == 200


def test_bytes_that_are_no_known_type_are_refused(mastodon, alice):
    response = upload(mastodon, alice, b"hello")
    assert response.status_code == 422
    assert response.json() == {
        "error": "Validation failed: File content type is invalid, File is invalid"
    }


@pytest.mark.parametrize("files", [(PNG, MP4), (MP4, MP4)], ids=["with-image", "two-videos"])
def test_a_video_goes_alone(mastodon, alice, files):
    mastodon.control.set_media_processing(seconds=0)
    ids = [upload(mastodon, alice, data).json()["id"] for data in files]
    response = requests.post(
        f"{mastodon.url}/api/v1/statuses",
        json={"status": "both", "media_ids": ids},
        headers=alice.headers,
        timeout=5,
    )
    assert response.status_code == 422
    assert response.json()["error"] == (
        "Cannot attach a video to a post that already contains images"
    )
