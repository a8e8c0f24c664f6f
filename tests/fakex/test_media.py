"""v2 media upload: chunked and one-shot, processing on the fake clock, attaching to posts."""

from __future__ import annotations

import base64
import os

import pytest
import requests

from fakex.control import ConnectedUser, RunningFakeX
from fakex.media import parse_multipart


@pytest.fixture(autouse=True)
def fresh_fake(fake_x: RunningFakeX) -> None:
    fake_x.control.reset()


@pytest.fixture
def alice(fake_x: RunningFakeX) -> ConnectedUser:
    return fake_x.control.create_connected_user(username="alice")


def initialize(fake_x: RunningFakeX, user: ConnectedUser, **body) -> requests.Response:
    return requests.post(
        f"{fake_x.url}/2/media/upload/initialize", json=body, headers=user.headers, timeout=5
    )


def append(
    fake_x: RunningFakeX, user: ConnectedUser, media_id: str, chunk: bytes, index: int | str
):
    return requests.post(
        f"{fake_x.url}/2/media/upload/{media_id}/append",
        files={"media": ("blob", chunk, "application/octet-stream")},
        data={"segment_index": str(index)},
        headers=user.headers,
        timeout=5,
    )


def finalize(fake_x: RunningFakeX, user: ConnectedUser, media_id: str) -> requests.Response:
    return requests.post(
        f"{fake_x.url}/2/media/upload/{media_id}/finalize", headers=user.headers, timeout=5
    )


def status(fake_x: RunningFakeX, user: ConnectedUser, media_id: str) -> requests.Response:
    params = {"command": "STATUS", "media_id": media_id}
    return requests.get(
        f"{fake_x.url}/2/media/upload", params=params, headers=user.headers, timeout=5
    )


def upload(
    fake_x: RunningFakeX, user: ConnectedUser, *, category: str, media_type: str, size: int
) -> dict:
    """Initialize, append in two chunks and finalize; returns the finalize data."""
    media_id = initialize(
        fake_x, user, media_type=media_type, total_bytes=size, media_category=category
    ).json()["data"]["id"]
    half = size // 2
    append(fake_x, user, media_id, b"x" * half, 0)
    append(fake_x, user, media_id, b"y" * (size - half), 1)
    return finalize(fake_x, user, media_id).json()["data"]


def post_with_media(
    fake_x: RunningFakeX, user: ConnectedUser, media_ids: list[str]
) -> requests.Response:
    body = {"text": "look", "media": {"media_ids": media_ids}}
    return requests.post(f"{fake_x.url}/2/tweets", json=body, headers=user.headers, timeout=5)


def test_initialize_answers_id_key_and_expiry(fake_x, alice):
    response = initialize(
        fake_x, alice, media_type="video/mp4", total_bytes=1024, media_category="amplify_video"
    )

    assert response.status_code == 200
    data = response.json()["data"]
    assert list(data) == ["id", "media_key", "expires_after_secs"]
    assert data["media_key"] == f"13_{data['id']}"
    assert data["expires_after_secs"] == 1295999


def test_an_image_needs_no_processing_and_attaches_at_once(fake_x, alice):
    data = upload(fake_x, alice, category="tweet_image", media_type="image/png", size=1000)

    assert data["size"] == 1000
    assert data["media_key"] == f"3_{data['id']}"
    assert "processing_info" not in data
    assert post_with_media(fake_x, alice, [data["id"]]).status_code == 201
    assert fake_x.control.stats()["media"] == {
        "initialized": 1,
        "segments_appended": 2,
        "finalized": 1,
    }


def test_video_processing_goes_pending_in_progress_succeeded_on_the_fake_clock(fake_x, alice):
    fake_x.control.set_media_processing(seconds=8)
    data = upload(fake_x, alice, category="tweet_video", media_type="video/mp4", size=4000)
    assert data["processing_info"] == {"state": "pending", "check_after_secs": 1}
    assert post_with_media(fake_x, alice, [data["id"]]).status_code == 400

    fake_x.control.advance_time(4)
    info = status(fake_x, alice, data["id"]).json()["data"]["processing_info"]
    assert info["state"] == "in_progress"
    assert info["check_after_secs"] == 4
    assert 0 < info["progress_percent"] < 100

    fake_x.control.advance_time(4)
    info = status(fake_x, alice, data["id"]).json()["data"]["processing_info"]
    assert info == {"state": "succeeded", "progress_percent": 100}
    assert post_with_media(fake_x, alice, [data["id"]]).status_code == 201


def test_processing_can_be_told_to_fail(fake_x, alice):
    fake_x.control.set_media_processing(seconds=0, outcome="failed")

    data = upload(fake_x, alice, category="tweet_gif", media_type="image/gif", size=100)

    assert data["processing_info"]["state"] == "failed"
    assert data["processing_info"]["error"]["name"] == "InvalidMedia"
    assert post_with_media(fake_x, alice, [data["id"]]).status_code == 400


@pytest.mark.parametrize(
    ("category", "media_type", "limit"),
    [
        ("tweet_image", "image/jpeg", 5 * 1024 * 1024),
        ("tweet_gif", "image/gif", 15 * 1024 * 1024),
        ("tweet_video", "video/mp4", 512 * 1024 * 1024),
    ],
)
def test_size_limits_per_category(fake_x, alice, category, media_type, limit):
    fits = initialize(
        fake_x, alice, media_type=media_type, total_bytes=limit, media_category=category
    )
    too_big = initialize(
        fake_x, alice, media_type=media_type, total_bytes=limit + 1, media_category=category
    )

    assert fits.status_code == 200
    assert too_big.status_code == 400
    assert too_big.json()["title"] == "Invalid Request"


def test_finalize_refuses_bytes_that_do_not_add_up(fake_x, alice):
    media_id = initialize(fake_x, alice, media_type="image/png", total_bytes=10).json()["data"][
        "id"
    ]
    append(fake_x, alice, media_id, b"12345", 0)

    response = finalize(fake_x, alice, media_id)

    assert response.status_code == 400
    assert "add up" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("index", [-1, 1000, "one"])
def test_segment_index_is_0_to_999(fake_x, alice, index):
    media_id = initialize(fake_x, alice, media_type="image/png", total_bytes=10).json()["data"][
        "id"
    ]

    assert append(fake_x, alice, media_id, b"1", index).status_code == 400


def test_appending_to_someone_elses_upload_is_refused(fake_x, alice):
    bob = fake_x.control.create_connected_user(username="bob")
    media_id = initialize(fake_x, alice, media_type="image/png", total_bytes=10).json()["data"][
        "id"
    ]

    assert append(fake_x, bob, media_id, b"1", 0).status_code == 400


def test_a_post_may_not_use_someone_elses_media(fake_x, alice):
    bob = fake_x.control.create_connected_user(username="bob")
    data = upload(fake_x, bob, category="tweet_image", media_type="image/png", size=10)

    response = post_with_media(fake_x, alice, [data["id"]])

    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Your media IDs are invalid."


def test_media_expires_a_day_after_finalize(fake_x, alice):
    data = upload(fake_x, alice, category="tweet_image", media_type="image/png", size=10)
    fake_x.control.advance_time(86_401)
    fresh = fake_x.control.issue_tokens(alice.id)["access_token"]

    response = requests.post(
        f"{fake_x.url}/2/tweets",
        json={"text": "late", "media": {"media_ids": [data["id"]]}},
        headers={"Authorization": f"Bearer {fresh}"},
        timeout=5,
    )

    assert response.status_code == 400


def test_four_images_or_one_video(fake_x, alice):
    fake_x.control.set_media_processing(seconds=0)
    images = [
        upload(fake_x, alice, category="tweet_image", media_type="image/png", size=10)["id"]
        for _ in range(4)
    ]
    video = upload(fake_x, alice, category="tweet_video", media_type="video/mp4", size=10)["id"]

    assert post_with_media(fake_x, alice, images).status_code == 201
    assert post_with_media(fake_x, alice, [images[0], video]).status_code == 400


def test_one_shot_upload_of_an_image(fake_x, alice):
    response = requests.post(
        f"{fake_x.url}/2/media/upload",
        files={"media": ("a.png", b"\x89PNG" + os.urandom(60), "image/png")},
        data={"media_category": "tweet_image"},
        headers=alice.headers,
        timeout=5,
    )

    assert response.status_code == 200
    assert response.json()["data"]["size"] == 64
    assert post_with_media(fake_x, alice, [response.json()["data"]["id"]]).status_code == 201


def test_one_shot_upload_accepts_base64_json(fake_x, alice):
    body = {"media": base64.b64encode(b"abc").decode(), "media_category": "tweet_image"}

    response = requests.post(
        f"{fake_x.url}/2/media/upload", json=body, headers=alice.headers, timeout=5
    )

    assert response.json()["data"]["size"] == 3


def test_one_shot_upload_is_for_images_only(fake_x, alice):
    body = {"media": base64.b64encode(b"abc").decode(), "media_category": "tweet_video"}

    response = requests.post(
        f"{fake_x.url}/2/media/upload", json=body, headers=alice.headers, timeout=5
    )

    assert response.status_code == 400


def test_media_endpoints_need_the_media_write_scope(fake_x, alice):
    token = fake_x.control.issue_tokens(
        alice.id, scopes=["tweet.read", "tweet.write", "users.read"]
    )
    headers = {"Authorization": f"Bearer {token['access_token']}"}

    response = requests.post(
        f"{fake_x.url}/2/media/upload/initialize",
        json={"media_type": "image/png", "total_bytes": 10},
        headers=headers,
        timeout=5,
    )

    assert response.status_code == 403


def test_multipart_parsing_keeps_binary_content_exact():
    chunk = os.urandom(4096) + b"\r\n--almost-a-boundary\r\n" + b"\r"
    prepared = requests.Request(
        "POST", "http://fake", files={"media": ("blob", chunk)}, data={"segment_index": "7"}
    ).prepare()

    fields = parse_multipart(prepared.headers["Content-Type"], prepared.body)

    assert fields == {"segment_index": b"7", "media": chunk}


def test_a_body_that_is_not_multipart_is_refused():
    with pytest.raises(ValueError):
        parse_multipart("application/octet-stream", b"raw")


def create_metadata(fake_x: RunningFakeX, user: ConnectedUser, body: dict) -> requests.Response:
    return requests.post(
        f"{fake_x.url}/2/media/metadata", json=body, headers=user.headers, timeout=5
    )


def test_alt_text_is_kept_and_echoed_as_associated_metadata(fake_x, alice):
    data = upload(fake_x, alice, category="tweet_image", media_type="image/png", size=10)

    response = create_metadata(
        fake_x, alice, {"id": data["id"], "metadata": {"alt_text": {"text": "A dancing cat"}}}
    )

    assert response.status_code == 200
    assert response.json() == {
        "data": {"associated_metadata": {"alt_text": {"text": "A dancing cat"}}, "id": data["id"]}
    }
    assert [item["alt_text"] for item in fake_x.control.media(user_id=alice.id)] == [
        "A dancing cat"
    ]
    assert fake_x.control.stats()["media"]["metadata_created"] == 1


def test_alt_text_is_at_most_1000_characters(fake_x, alice):
    data = upload(fake_x, alice, category="tweet_image", media_type="image/png", size=10)

    response = create_metadata(
        fake_x, alice, {"id": data["id"], "metadata": {"alt_text": {"text": "a" * 1001}}}
    )

    assert response.status_code == 400
    assert "1000" in response.json()["errors"][0]["message"]


def test_alt_text_only_for_ones_own_unexpired_media(fake_x, alice):
    bob = fake_x.control.create_connected_user(username="bob")
    data = upload(fake_x, bob, category="tweet_image", media_type="image/png", size=10)
    body = {"id": data["id"], "metadata": {"alt_text": {"text": "not mine"}}}

    assert create_metadata(fake_x, alice, body).status_code == 400
    fake_x.control.advance_time(86_401)
    fresh = fake_x.control.issue_tokens(bob.id)["access_token"]
    expired = requests.post(
        f"{fake_x.url}/2/media/metadata",
        json=body,
        headers={"Authorization": f"Bearer {fresh}"},
        timeout=5,
    )
    assert expired.status_code == 400


def test_metadata_fields_outside_the_schema_are_refused(fake_x, alice):
    data = upload(fake_x, alice, category="tweet_image", media_type="image/png", size=10)

    response = create_metadata(fake_x, alice, {"id": data["id"], "alt_text": {"text": "v1.1"}})

    assert response.status_code == 400
    assert response.json()["title"] == "Invalid Request"
