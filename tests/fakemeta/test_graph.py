"""The fake Graph API answers as Meta's does: sign-in, Pages, posts, containers, the
quota, the error envelope, the usage headers and the injected faults."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from fakemeta.control import APP_ID, APP_SECRET, FakeMetaProcess, fake_meta_server
from tests.meta_media import media_host

V = "/v27.0"


@pytest.fixture(scope="module")
def server():
    with fake_meta_server() as running:
        yield running


@pytest.fixture(scope="module")
def host():
    with media_host() as running:
        yield running


@pytest.fixture
def fm(server):
    server.control.reset()
    return server


def graph(fm, method, path, token=None, **params):
    if token:
        params["access_token"] = token
    return requests.request(method, f"{fm.url}{V}{path}", data=params, timeout=10)


def test_the_dialog_and_the_exchanges_give_a_long_lived_token_and_page_tokens(fm):
    someone = fm.control.create_person(name="Bea")
    page = fm.control.create_page(user_id=someone["id"], name="Bakery")
    fm.control.log_in(someone["id"])
    redirect = "https://kairos.example/accounts/facebook/callback/"

    consent = requests.get(
        f"{fm.url}{V}/dialog/oauth",
        params={"client_id": APP_ID, "redirect_uri": redirect, "state": "s1", "scope": "a,b"},
        allow_redirects=False,
        timeout=5,
    )
    back = parse_qs(urlsplit(consent.headers["location"]).query)
    app = {"client_id": APP_ID, "client_secret": APP_SECRET}
    short = requests.get(
        f"{fm.url}{V}/oauth/access_token",
        params={**app, "redirect_uri": redirect, "code": back["code"][0]},
        timeout=5,
    ).json()
    long = requests.get(
        f"{fm.url}{V}/oauth/access_token",
        params={
            **app,
            "grant_type": "fb_exchange_token",
            "fb_exchange_token": short["access_token"],
        },
        timeout=5,
    ).json()
    pages = requests.get(
        f"{fm.url}{V}/me/accounts",
        params={"fields": "id,name,access_token", "access_token": long["access_token"]},
        timeout=5,
    ).json()

    assert consent.status_code == 302 and back["state"] == ["s1"]
    assert short["expires_in"] <= 3600 and long["expires_in"] > 59 * 86400
    assert [(p["id"], p["name"]) for p in pages["data"]] == [(page["id"], "Bakery")]
    assert pages["data"][0]["access_token"]


def test_a_code_is_single_use_and_bound_to_its_redirect(fm):
    someone = fm.control.create_person()
    fm.control.log_in(someone["id"])
    consent = requests.get(
        f"{fm.url}{V}/dialog/oauth",
        params={"client_id": APP_ID, "redirect_uri": "https://a.example/cb", "state": "s"},
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(consent.headers["location"]).query)["code"][0]
    app = {"client_id": APP_ID, "client_secret": APP_SECRET, "code": code}

    wrong = requests.get(
        f"{fm.url}{V}/oauth/access_token",
        params={**app, "redirect_uri": "https://b.example/cb"},
        timeout=5,
    )
    again = requests.get(
        f"{fm.url}{V}/oauth/access_token",
        params={**app, "redirect_uri": "https://a.example/cb"},
        timeout=5,
    )

    assert wrong.status_code == 400 and wrong.json()["error"]["error_subcode"] == 36008
    assert again.status_code == 400


def test_me_accounts_pages_through_many_pages(fm):
    someone = fm.control.create_person()
    for number in range(5):
        fm.control.create_page(user_id=someone["id"], name=f"Page {number}")
    token = fm.control.issue_token(someone["id"])

    first = requests.get(
        f"{fm.url}{V}/me/accounts", params={"limit": 2, "access_token": token}, timeout=5
    ).json()
    names = [page["name"] for page in first["data"]]
    following = first["paging"]["next"]
    while following:
        answer = requests.get(following, timeout=5).json()
        names += [page["name"] for page in answer["data"]]
        following = (answer.get("paging") or {}).get("next")

    assert names == [f"Page {number}" for number in range(5)]


def test_errors_come_in_the_graph_envelope(fm):
    answer = graph(fm, "POST", "/123/feed", token="nonsense", message="hi")

    error = answer.json()["error"]
    assert answer.status_code == 400
    assert (error["code"], error["type"]) == (190, "OAuthException")
    assert error["fbtrace_id"]


def test_an_expired_token_is_190_463(fm):
    scene = fm.control.create_page_scene()
    fm.control.expire_tokens(scene.user_id)

    error = graph(fm, "POST", f"/{scene.page_id}/feed", scene.page_token, message="x").json()

    assert (error["error"]["code"], error["error"]["error_subcode"]) == (190, 463)


def test_usage_headers_report_the_share_spent_and_throttle_past_it(fm):
    fm.control.set_meta_settings(object_calls_per_hour=2)
    scene = fm.control.create_page_scene()

    answers = [graph(fm, "GET", f"/{scene.page_id}/posts", scene.page_token) for _ in range(3)]

    usage = json.loads(answers[1].headers["x-business-use-case-usage"])[scene.page_id][0]
    assert usage["type"] == "pages" and usage["call_count"] == 100
    assert "call_count" in json.loads(answers[0].headers["x-app-usage"])
    throttled = answers[2]
    assert throttled.json()["error"]["code"] == 32
    spent = json.loads(throttled.headers["x-business-use-case-usage"])[scene.page_id][0]
    assert spent["estimated_time_to_regain_access"] >= 1


def test_the_same_message_twice_is_506_and_counted(fm):
    scene = fm.control.create_page_scene()
    graph(fm, "POST", f"/{scene.page_id}/feed", scene.page_token, message="Once")

    again = graph(fm, "POST", f"/{scene.page_id}/feed", scene.page_token, message="Once")

    assert again.json()["error"]["code"] == 506
    assert fm.control.posts_created(scene.page_id, "Once") == 1
    assert fm.control.stats()["duplicate_refusals"][0]["count"] == 1


def test_a_container_is_prepared_then_published_once_within_the_quota(fm, host):
    fm.control.set_meta_settings(quota_total=1)
    scene = fm.control.create_page_scene(instagram_username="bakery")
    ig, token = scene.instagram_id, scene.page_token
    first = graph(fm, "POST", f"/{ig}/media", token, image_url=host.media(1).url, caption="A")
    container = first.json()["id"]

    status = graph(fm, "GET", f"/{container}", token, fields="status_code").json()
    published = graph(fm, "POST", f"/{ig}/media_publish", token, creation_id=container)
    again = graph(fm, "POST", f"/{ig}/media_publish", token, creation_id=container)
    second = graph(fm, "POST", f"/{ig}/media", token, image_url=host.media(2).url).json()["id"]
    over = graph(fm, "POST", f"/{ig}/media_publish", token, creation_id=second)
    limit = graph(fm, "GET", f"/{ig}/content_publishing_limit", token).json()["data"][0]

    assert status["status_code"] == "FINISHED"
    assert published.status_code == 200
    assert again.status_code == 400
    assert (over.json()["error"]["code"], over.json()["error"]["error_subcode"]) == (9, 2207042)
    assert limit == {"quota_usage": 1, "config": {"quota_total": 1, "quota_duration": 86400}}


def test_a_video_container_is_in_progress_until_prepared(fm, host):
    fm.control.set_meta_settings(video_processing_seconds=60)
    scene = fm.control.create_page_scene(instagram_username="bakery")
    ig, token = scene.instagram_id, scene.page_token
    video = host.media(3, mime_type="video/mp4")
    container = graph(
        fm, "POST", f"/{ig}/media", token, media_type="REELS", video_url=video.url
    ).json()["id"]

    early = graph(fm, "POST", f"/{ig}/media_publish", token, creation_id=container)
    fm.control.advance_time(61)
    status = graph(fm, "GET", f"/{container}", token, fields="status_code").json()

    assert (early.json()["error"]["code"], early.json()["error"]["error_subcode"]) == (
        9007,
        2207027,
    )
    assert status["status_code"] == "FINISHED"


def test_media_meta_cannot_download_is_refused_at_the_container(fm, host):
    scene = fm.control.create_page_scene(instagram_username="bakery")
    missing = host.media(4, served=False)

    answer = graph(
        fm, "POST", f"/{scene.instagram_id}/media", scene.page_token, image_url=missing.url
    )

    error = answer.json()["error"]
    assert (error["code"], error["error_subcode"]) == (9004, 2207052)


def test_injected_faults_answer_as_meta_would(fm):
    scene = fm.control.create_page_scene()
    fm.control.add_fault("status", status=503)
    fm.control.add_fault("status", status=429)

    unavailable = graph(fm, "GET", f"/{scene.page_id}/posts", scene.page_token)
    throttled = graph(fm, "GET", f"/{scene.page_id}/posts", scene.page_token)

    assert unavailable.status_code == 503 and unavailable.json()["error"]["is_transient"]
    assert throttled.json()["error"]["code"] == 4
    assert json.loads(throttled.headers["x-app-usage"])["call_count"] == 100


def test_accept_then_drop_makes_the_post_and_closes_the_connection(fm):
    scene = fm.control.create_page_scene()
    fm.control.add_fault("accept_then_drop", method="POST")

    with pytest.raises(requests.ConnectionError):
        graph(fm, "POST", f"/{scene.page_id}/feed", scene.page_token, message="Dropped")

    assert fm.control.posts_created(scene.page_id, "Dropped") == 1


def test_another_pages_token_may_not_post(fm):
    mine = fm.control.create_page_scene(page_name="Mine")
    theirs = fm.control.create_page_scene(page_name="Theirs")

    answer = graph(fm, "POST", f"/{theirs.page_id}/feed", mine.page_token, message="x")

    assert (answer.status_code, answer.json()["error"]["code"]) == (403, 200)


def test_a_deleted_post_is_gone(fm):
    scene = fm.control.create_page_scene()
    post = graph(fm, "POST", f"/{scene.page_id}/feed", scene.page_token, message="x").json()

    deleted = graph(fm, "DELETE", f"/{post['id']}", scene.page_token)
    again = graph(fm, "DELETE", f"/{post['id']}", scene.page_token)

    assert deleted.json() == {"success": True}
    assert again.json()["error"]["error_subcode"] == 33


def test_the_fake_runs_as_its_own_process():
    with FakeMetaProcess() as process:
        scene = process.control.create_page_scene()
        answer = requests.post(
            f"{process.url}{V}/{scene.page_id}/feed",
            data={"message": "From a process", "access_token": scene.page_token},
            timeout=5,
        )
        assert answer.status_code == 200
        assert process.control.posts_created(scene.page_id, "From a process") == 1


def test_a_resumable_video_upload_starts_transfers_from_the_named_offset_and_finishes_once(fm):
    fm.control.set_meta_settings(video_chunk_bytes=1000)
    scene = fm.control.create_page_scene()
    videos = f"{fm.url}{V}/{scene.page_id}/videos"
    token = {"access_token": scene.page_token}

    def transfer(session, start, size):
        fields = {**token, "upload_phase": "transfer", "upload_session_id": session}
        fields["start_offset"] = str(start)
        files = {"video_file_chunk": ("clip.mp4", b"v" * size, "video/mp4")}
        return requests.post(videos, data=fields, files=files, timeout=10)

    def phase(**fields):
        return requests.post(videos, data={**token, **fields}, timeout=10)

    started = phase(upload_phase="start", file_size=1500).json()
    session = started["upload_session_id"]
    assert (started["start_offset"], started["end_offset"]) == ("0", "1000")
    assert transfer(session, 500, 1000).json()["error"]["code"] == 6001
    assert transfer(session, 0, 1000).json() == {"start_offset": "1000", "end_offset": "1500"}
    early = phase(upload_phase="finish", upload_session_id=session, description="Bake")
    assert early.status_code == 400 and early.json()["error"]["code"] == 6000
    assert transfer(session, 1000, 500).json() == {"start_offset": "1500", "end_offset": "1500"}

    for _ in range(2):
        finished = phase(upload_phase="finish", upload_session_id=session, description="Bake")
        assert finished.json() == {"success": True}

    [post] = fm.control.graph_posts(owner_id=scene.page_id)
    assert (post["id"], post["kind"], post["message"]) == (started["video_id"], "video", "Bake")


def test_a_multi_id_read_answers_each_object_by_its_id_and_fails_whole_on_a_missing_one(fm):
    scene = fm.control.create_page_scene()
    made = [
        graph(fm, "POST", f"/{scene.page_id}/feed", scene.page_token, message=text).json()["id"]
        for text in ("One", "Two")
    ]
    fm.control.set_counts(made[1], likes=4, views=30)
    ids = ",".join(made)

    counts = graph(fm, "GET", "/", scene.page_token, ids=ids, fields="reactions").json()
    insights = graph(fm, "GET", "/insights", scene.page_token, ids=ids, metric="post_media_view")
    missing = graph(fm, "GET", "/", scene.page_token, ids=f"{made[0]},404404", fields="shares")
    too_many = graph(fm, "GET", "/", scene.page_token, ids=",".join(made * 26), fields="shares")

    assert set(counts) == set(made)
    assert counts[made[1]]["reactions"]["summary"]["total_count"] == 4
    assert insights.json()[made[1]]["data"][0]["values"] == [{"value": 30}]
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == 803
    assert missing.json()["error"]["message"].endswith("do not exist: 404404")
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (400, 100)
    # One request each for the statistics, though each id counts against the limits.
    assert fm.control.stats()["requests"]["GET /"] == {"200": 1, "404": 1, "400": 1}
