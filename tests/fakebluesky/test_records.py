"""Post records: created at a chosen key once, validated as the PDS does, read and deleted."""

import pytest
import requests

RKEY = "3jzfcijpj2z2a"


def test_a_post_is_created_at_the_key_the_client_chose(bsky, xrpc, alice):
    answer = xrpc.create_post(alice, "Hello", rkey=RKEY)
    assert answer.status_code == 200
    body = answer.json()
    assert body["uri"] == f"at://{alice.did}/app.bsky.feed.post/{RKEY}"
    assert body["cid"].startswith("bafyrei")
    assert body["validationStatus"] == "valid"
    assert bsky.control.posts_created(alice.did, "Hello") == 1


def test_a_second_create_at_the_same_key_fails_as_the_pds_does(bsky, xrpc, alice):
    xrpc.create_post(alice, "Once", rkey=RKEY)
    again = xrpc.create_post(alice, "Once", rkey=RKEY)
    assert again.status_code == 500
    assert again.json() == {"error": "InternalServerError", "message": "Internal Server Error"}
    assert bsky.control.posts_created(alice.did, "Once") == 1
    assert bsky.control.existing_record_refusals(alice.did, "Once") == 1


def test_a_key_that_is_no_tid_is_refused(xrpc, alice):
    answer = xrpc.create_post(alice, rkey="not-a-tid")
    assert (answer.status_code, answer.json()["error"]) == (400, "InvalidRequest")


@pytest.mark.parametrize(
    ("text", "extra", "words"),
    [
        ("👩‍👩‍👧" * 301, {}, "must not be longer than 300 graphemes"),
        ("a" * 300, {"facets": [{"index": {"byteStart": 290, "byteEnd": 301}}]}, "facets/0"),
        ("hi", {"langs": ["en", "fr", "de", "es"]}, "langs"),
    ],
)
def test_records_the_lexicon_refuses(xrpc, alice, text, extra, words):
    answer = xrpc.create_post(alice, text, **extra)
    assert answer.status_code == 400
    assert answer.json()["error"] == "InvalidRequest"
    assert answer.json()["message"].startswith("Invalid app.bsky.feed.post record: ")
    assert words in answer.json()["message"]


def test_text_is_measured_in_graphemes_and_bytes(xrpc, alice):
    # An e and a combining accent: two code points, one grapheme, three bytes.
    assert xrpc.create_post(alice, "e\u0301" * 300).status_code == 200
    # 150 family emoji are 150 graphemes but 2,700 bytes; 167 pass 3,000.
    too_many_bytes = xrpc.create_post(alice, "👩‍👩‍👧" * 167).json()["message"]
    assert "must not be longer than 3000" in too_many_bytes


def test_images_are_uploaded_as_blobs_and_embedded(bsky, xrpc, alice):
    uploaded = xrpc.post(
        "com.atproto.repo.uploadBlob",
        account=alice,
        data=b"\xff\xd8 jpeg",
        headers={"Content-Type": "image/jpeg"},
    ).json()["blob"]
    assert uploaded["mimeType"] == "image/jpeg" and uploaded["size"] == 7
    embed = {"$type": "app.bsky.embed.images", "images": [{"image": uploaded, "alt": "A cat"}]}
    assert xrpc.create_post(alice, "Look", embed=embed).status_code == 200
    five = {**embed, "images": embed["images"] * 5}
    assert "must not have more than 4" in xrpc.create_post(alice, embed=five).json()["message"]


def test_an_image_over_a_million_bytes_is_refused_at_posting(xrpc, alice):
    big = xrpc.post(
        "com.atproto.repo.uploadBlob",
        account=alice,
        data=b"x" * 1_000_001,
        headers={"Content-Type": "image/png"},
    ).json()["blob"]
    embed = {"$type": "app.bsky.embed.images", "images": [{"image": big, "alt": ""}]}
    assert "file too large" in xrpc.create_post(alice, embed=embed).json()["message"]


def test_get_record_finds_a_post_by_key_or_says_it_is_not_there(xrpc, alice):
    xrpc.create_post(alice, "Here", rkey=RKEY)
    query = {"repo": alice.did, "collection": "app.bsky.feed.post"}
    found = xrpc.get("com.atproto.repo.getRecord", **query, rkey=RKEY)
    assert found.json()["value"]["text"] == "Here"
    missing = xrpc.get("com.atproto.repo.getRecord", **query, rkey="3jzfcijpj2z2b")
    assert (missing.status_code, missing.json()["error"]) == (400, "RecordNotFound")


def test_deleting_succeeds_whether_or_not_the_post_is_there(bsky, xrpc, alice):
    xrpc.create_post(alice, "Bye", rkey=RKEY)
    body = {"repo": alice.did, "collection": "app.bsky.feed.post", "rkey": RKEY}
    for _ in range(2):
        answer = xrpc.post("com.atproto.repo.deleteRecord", body, account=alice)
        assert answer.status_code == 200 and "commit" in answer.json()
    assert bsky.control.posts(did=alice.did) == []


def test_get_posts_counts_and_leaves_out_what_is_gone(bsky, xrpc, alice):
    uri = xrpc.create_post(alice, "Counted").json()["uri"]
    bsky.control.set_post_metrics(uri, likeCount=7, repostCount=2)
    # A key that differs from ours in its last character: a post that is not there.
    gone = uri[:-1] + ("3" if uri.endswith("2") else "2")
    answer = xrpc.get("app.bsky.feed.getPosts", uris=[uri, gone]).json()
    [post] = answer["posts"]
    assert (post["likeCount"], post["repostCount"], post["replyCount"]) == (7, 2, 0)


def test_profiles_and_handles_are_public_reads(bsky, xrpc, alice):
    bsky.control.update_account(alice.did, display_name="Alice", followers_count=12)
    assert xrpc.get("com.atproto.identity.resolveHandle", handle=alice.handle).json() == {
        "did": alice.did
    }
    profile = xrpc.get("app.bsky.actor.getProfile", actor=alice.did).json()
    assert (profile["displayName"], profile["followersCount"]) == ("Alice", 12)
    unknown = xrpc.get("com.atproto.identity.resolveHandle", handle="nobody.bsky.social")
    assert unknown.status_code == 400


def upload_video(bsky, xrpc, account, data=b"\x00\x00\x00\x18ftypmp42"):
    token = requests.get(
        f"{bsky.url}/xrpc/com.atproto.server.getServiceAuth",
        params={"aud": "did:web:bsky.social", "lxm": "com.atproto.repo.uploadBlob"},
        headers={"Authorization": f"Bearer {account.access_jwt}"},
        timeout=5,
    ).json()["token"]
    return requests.post(
        f"{bsky.url}/xrpc/app.bsky.video.uploadVideo",
        params={"did": account.did, "name": "clip.mp4"},
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "video/mp4"},
        timeout=5,
    )


def test_a_video_is_processed_then_embedded(bsky, xrpc):
    alice = bsky.control.create_signed_in_account(handle="alice.bsky.social", email="a@x.org")
    bsky.control.set_video_processing(seconds=60)
    job = upload_video(bsky, xrpc, alice).json()
    assert job["state"] == "JOB_STATE_ENCODING"
    bsky.control.advance_time(61)
    status = xrpc.get("app.bsky.video.getJobStatus", jobId=job["jobId"]).json()["jobStatus"]
    assert status["state"] == "JOB_STATE_COMPLETED"
    embed = {"$type": "app.bsky.embed.video", "video": status["blob"], "alt": "A clip"}
    assert xrpc.create_post(alice, "Watch", embed=embed).status_code == 200


def test_a_video_needs_a_confirmed_email_and_may_fail(bsky, xrpc, alice):
    refused = upload_video(bsky, xrpc, alice)
    assert (refused.status_code, refused.json()["error"]) == (403, "Forbidden")
    bsky.control.update_account(alice.did, email="alice@example.com")
    bsky.control.set_video_processing(outcome="failed")
    job = upload_video(bsky, xrpc, alice).json()
    assert (job["state"], job["failureCode"]) == ("JOB_STATE_FAILED", "encoding_failure")
