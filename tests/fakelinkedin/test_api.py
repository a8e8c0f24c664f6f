"""The fake LinkedIn answers as LinkedIn does: sign-in, roles, versioned posts in the
"little" text format, images, listings, social actions, the error bodies and the
injected faults."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from fakelinkedin.api import little_accepted
from fakelinkedin.control import (
    CLIENT_ID,
    CLIENT_SECRET,
    FakeLinkedInProcess,
    fake_linkedin_server,
)

# The current month's version is always active.
VERSION = datetime.now(UTC).strftime("%Y%m")
CALLBACK = "https://kairos.example/accounts/linkedin/callback/"


@pytest.fixture(scope="module")
def server():
    with fake_linkedin_server() as running:
        yield running


@pytest.fixture
def fl(server):
    server.control.reset()
    return server


def rest(fl, method, path, token, *, version=VERSION, **kwargs):
    headers = {"Authorization": f"Bearer {token}", "X-Restli-Protocol-Version": "2.0.0"}
    if version:
        headers["LinkedIn-Version"] = version
    return requests.request(method, f"{fl.url}{path}", headers=headers, timeout=10, **kwargs)


def post_body(author, commentary, **extra):
    return {
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": []},
        "lifecycleState": "PUBLISHED",
        **extra,
    }


def test_sign_in_gives_a_sixty_day_token_and_no_refresh_token_without_partnership(fl):
    member = fl.control.create_member(name="Ada Lovelace")
    fl.control.log_in(member["id"])

    consent = requests.get(
        f"{fl.url}/oauth/v2/authorization",
        params={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": CALLBACK,
            "state": "s1",
            "scope": "openid profile w_member_social",
        },
        allow_redirects=False,
        timeout=5,
    )
    back = parse_qs(urlsplit(consent.headers["location"]).query)
    assert back["state"] == ["s1"]
    token = requests.post(
        f"{fl.url}/oauth/v2/accessToken",
        data={
            "grant_type": "authorization_code",
            "code": back["code"][0],
            "redirect_uri": CALLBACK,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        timeout=5,
    ).json()

    assert token["expires_in"] == 5_184_000 and "refresh_token" not in token
    me = requests.get(
        f"{fl.url}/v2/userinfo",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    ).json()
    assert (me["sub"], me["name"]) == (member["id"], "Ada Lovelace")
    # A code is good once.
    again = requests.post(
        f"{fl.url}/oauth/v2/accessToken",
        data={
            "grant_type": "authorization_code",
            "code": back["code"][0],
            "redirect_uri": CALLBACK,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
        timeout=5,
    )
    assert again.status_code == 400


def test_refresh_only_for_partner_apps(fl):
    scene = fl.control.create_scene()
    assert scene.refresh_token is None
    fl.control.set_linkedin_settings(refresh_tokens=True)
    partner = fl.control.create_scene(name="Grace Hopper")
    app = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}

    renewed = requests.post(
        f"{fl.url}/oauth/v2/accessToken",
        data={**app, "grant_type": "refresh_token", "refresh_token": partner.refresh_token},
        timeout=5,
    )

    assert renewed.status_code == 200 and renewed.json()["access_token"] != partner.access_token
    fl.control.set_linkedin_settings(refresh_tokens=False)
    refused = requests.post(
        f"{fl.url}/oauth/v2/accessToken",
        data={**app, "grant_type": "refresh_token", "refresh_token": partner.refresh_token},
        timeout=5,
    )
    assert refused.status_code == 400


def test_roles_list_the_organizations_the_member_administers(fl):
    scene = fl.control.create_scene(organization="Kairos Bakery")
    fl.control.create_organization(name="Not mine")

    roles = rest(
        fl,
        "GET",
        "/v2/organizationalEntityAcls?q=roleAssignee&state=APPROVED",
        scene.access_token,
        version="",
    ).json()

    [element] = roles["elements"]
    assert element["organizationalTarget"] == scene.organization_urn
    assert element["organizationalTarget~"]["localizedName"] == "Kairos Bakery"


def test_a_post_is_201_with_no_body_and_its_urn_in_x_restli_id(fl):
    scene = fl.control.create_scene()

    made = rest(
        fl, "POST", "/rest/posts", scene.access_token, json=post_body(scene.member_urn, "Hi")
    )

    assert made.status_code == 201 and made.content == b""
    urn = made.headers["x-restli-id"]
    assert urn.startswith("urn:li:share:")
    read = rest(fl, "GET", f"/rest/posts/{quote(urn, safe='')}", scene.access_token)
    assert read.json()["commentary"] == "Hi"
    assert fl.control.posts_created(scene.member_urn, "Hi") == 1


def test_the_version_header_is_required_and_must_be_active(fl):
    scene = fl.control.create_scene()
    body = post_body(scene.member_urn, "Hi")

    missing = rest(fl, "POST", "/rest/posts", scene.access_token, version="", json=body)
    sunset = rest(fl, "POST", "/rest/posts", scene.access_token, version="202401", json=body)

    assert missing.status_code == 400
    assert sunset.status_code == 426 and sunset.json()["code"] == "NONEXISTENT_VERSION"
    assert fl.control.stats()["posts_created_total"] == 0


def test_versions_are_judged_as_of_a_month_set_or_the_clocks(fl):
    scene = fl.control.create_scene()
    fl.control.set_linkedin_settings(versions_as_of="202607")
    answers = {
        version: rest(
            fl,
            "POST",
            "/rest/posts",
            scene.access_token,
            version=version,
            json=post_body(scene.member_urn, f"Sent with {version}"),
        )
        for version in ("202506", "202507", "202607", "202608")
    }
    assert {version: answer.status_code for version, answer in answers.items()} == {
        "202506": 426,  # 13 months before: retired
        "202507": 201,
        "202607": 201,
        "202608": 426,  # not released yet
    }
    fl.control.set_linkedin_settings(versions_as_of="")
    body = post_body(scene.member_urn, "Sent with this month's")
    assert rest(fl, "POST", "/rest/posts", scene.access_token, json=body).status_code == 201


def test_unescaped_reserved_characters_cut_the_commentary():
    assert little_accepted("Sale (today only)") == "Sale "
    assert little_accepted(r"Sale \(today only\)") == r"Sale \(today only\)"
    assert little_accepted("Hello #kairos friends") == "Hello #kairos friends"
    assert little_accepted("Thanks @[Ada](urn:li:person:abc) and a_b") == (
        "Thanks @[Ada](urn:li:person:abc) and a"
    )


def test_the_fake_keeps_only_what_linkedin_would(fl):
    scene = fl.control.create_scene()

    rest(fl, "POST", "/rest/posts", scene.access_token, json=post_body(scene.member_urn, "a (b)"))

    [post] = fl.control.linkedin_posts(author=scene.member_urn)
    assert post["commentary"] == "a " and fl.control.stats()["truncated_posts"] == 1


def test_too_long_duplicate_and_errors_have_linkedins_bodies(fl):
    scene = fl.control.create_scene()
    token = scene.access_token

    long = rest(fl, "POST", "/rest/posts", token, json=post_body(scene.member_urn, "x" * 3001))
    first = rest(fl, "POST", "/rest/posts", token, json=post_body(scene.member_urn, "Same"))
    again = rest(fl, "POST", "/rest/posts", token, json=post_body(scene.member_urn, "Same"))
    no_author = rest(fl, "POST", "/rest/posts", token, json={"commentary": "x"})

    assert long.status_code == 400 and "3000 characters" in long.json()["message"]
    assert again.status_code == 422
    assert again.json()["errorDetails"]["inputErrors"][0]["code"] == "DUPLICATE_POST"
    assert first.headers["x-restli-id"] in again.json()["message"]
    assert no_author.status_code == 422 and "/author" in no_author.json()["message"]


def test_tokens_expired_revoked_invalid_and_missing_permissions(fl):
    scene = fl.control.create_scene(scopes=["openid", "profile"])
    other = fl.control.create_scene(name="Grace")
    body = post_body(scene.member_urn, "Hi")

    denied = rest(fl, "POST", "/rest/posts", scene.access_token, json=body)
    as_someone_else = rest(fl, "POST", "/rest/posts", other.access_token, json=body)
    invalid = rest(fl, "POST", "/rest/posts", "nonsense", json=body)
    fl.control.expire_tokens(other.member_id)
    expired = rest(fl, "GET", "/v2/userinfo", other.access_token)
    fl.control.revoke_tokens(scene.member_id)
    revoked = rest(fl, "GET", "/v2/userinfo", scene.access_token)

    assert denied.status_code == 403 and denied.json()["code"] == "ACCESS_DENIED"
    assert as_someone_else.status_code == 403
    assert invalid.json()["serviceErrorCode"] == 65600
    assert expired.json()["serviceErrorCode"] == 65602
    assert revoked.json()["serviceErrorCode"] == 65601


def upload_image(fl, token, owner, data=b"\x89PNG fake"):
    started = rest(
        fl,
        "POST",
        "/rest/images?action=initializeUpload",
        token,
        json={"initializeUploadRequest": {"owner": owner}},
    ).json()["value"]
    put = requests.put(
        started["uploadUrl"], data=data, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert put.status_code == 201
    return started["image"]


def test_images_are_uploaded_then_posted_alone_or_several(fl):
    scene = fl.control.create_scene(organization="Bakery")
    token, org = scene.access_token, scene.organization_urn
    images = [upload_image(fl, token, org) for _ in range(3)]

    status = rest(fl, "GET", f"/rest/images/{quote(images[0], safe='')}", token).json()
    one = rest(
        fl,
        "POST",
        "/rest/posts",
        token,
        json=post_body(org, "One", content={"media": {"id": images[0]}}),
    )
    several = rest(
        fl,
        "POST",
        "/rest/posts",
        token,
        json=post_body(
            org, "Several", content={"multiImage": {"images": [{"id": i} for i in images]}}
        ),
    )
    lonely = rest(
        fl,
        "POST",
        "/rest/posts",
        token,
        json=post_body(org, "Too few", content={"multiImage": {"images": [{"id": images[0]}]}}),
    )

    assert status["status"] == "AVAILABLE"
    assert (one.status_code, several.status_code, lonely.status_code) == (201, 201, 400)
    member_image = upload_image(fl, token, scene.member_urn)
    assert rest(fl, "GET", f"/rest/images/{quote(member_image, safe='')}", token).status_code == 403


def test_listing_by_author_only_for_organizations(fl):
    scene = fl.control.create_scene(organization="Bakery")
    token = scene.access_token
    for text in ("one", "two"):
        rest(fl, "POST", "/rest/posts", token, json=post_body(scene.organization_urn, text))

    listed = rest(
        fl, "GET", f"/rest/posts?q=author&author={quote(scene.organization_urn)}&count=10", token
    ).json()
    member = rest(fl, "GET", f"/rest/posts?q=author&author={quote(scene.member_urn)}", token)

    assert [post["commentary"] for post in listed["elements"]] == ["two", "one"]
    assert member.status_code == 403


def test_social_actions_statistics_and_delete(fl):
    scene = fl.control.create_scene(organization="Bakery")
    token = scene.access_token
    urn = rest(
        fl, "POST", "/rest/posts", token, json=post_body(scene.organization_urn, "Counted")
    ).headers["x-restli-id"]
    fl.control.set_counts(urn, likes=4, comments=2, impressions=100, shares=1)
    encoded = quote(urn, safe="")

    actions = rest(fl, "GET", f"/rest/socialActions/{encoded}", token).json()
    stats = rest(
        fl,
        "GET",
        "/rest/organizationalEntityShareStatistics?q=organizationalEntity"
        f"&organizationalEntity={quote(scene.organization_urn)}&shares=List({encoded})",
        token,
    ).json()
    deleted = rest(fl, "DELETE", f"/rest/posts/{encoded}", token)
    again = rest(fl, "DELETE", f"/rest/posts/{encoded}", token)

    assert actions["likesSummary"]["totalLikes"] == 4
    assert actions["commentsSummary"]["totalFirstLevelComments"] == 2
    assert stats["elements"][0]["totalShareStatistics"]["impressionCount"] == 100
    assert (deleted.status_code, again.status_code) == (204, 404)


def test_faults_answer_429_and_accept_then_drop_still_creates(fl):
    scene = fl.control.create_scene()
    fl.control.add_fault("status", status=429, path_prefix="/rest/posts", count=1)
    throttled = rest(
        fl, "POST", "/rest/posts", scene.access_token, json=post_body(scene.member_urn, "a")
    )
    fl.control.add_fault("accept_then_drop", path_prefix="/rest/posts", count=1)

    with pytest.raises(requests.ConnectionError):
        rest(fl, "POST", "/rest/posts", scene.access_token, json=post_body(scene.member_urn, "b"))

    assert throttled.status_code == 429 and throttled.json()["serviceErrorCode"] == 101
    assert fl.control.posts_created(scene.member_urn, "b") == 1
    assert fl.control.posts_created(scene.member_urn, "a") == 0


def test_the_fake_runs_as_a_process():
    with FakeLinkedInProcess() as fl:
        scene = fl.control.create_scene()
        made = rest(
            fl, "POST", "/rest/posts", scene.access_token, json=post_body(scene.member_urn, "p")
        )
        assert made.status_code == 201


def initialize_video(fl, scene, size):
    return rest(
        fl,
        "POST",
        "/rest/videos?action=initializeUpload",
        scene.access_token,
        json={"initializeUploadRequest": {"owner": scene.member_urn, "fileSizeBytes": size}},
    )


def test_a_video_is_initialized_in_parts_put_with_etags_finalized_and_processed(fl):
    fl.control.set_linkedin_settings(video_part_bytes=1000, video_processing_seconds=30)
    scene = fl.control.create_scene()
    value = initialize_video(fl, scene, 2500).json()["value"]
    urn, token = value["video"], value["uploadToken"]
    spans = [(part["firstByte"], part["lastByte"]) for part in value["uploadInstructions"]]
    assert spans == [(0, 999), (1000, 1999), (2000, 2499)] and token

    def put(index, size):
        url = value["uploadInstructions"][index]["uploadUrl"]
        headers = {"Authorization": f"Bearer {scene.access_token}"}
        return requests.put(url, data=b"v" * size, headers=headers, timeout=10)

    assert put(2, 400).status_code == 400  # not the part's length
    etags = [put(index, size).headers["etag"] for index, size in ((0, 1000), (1, 1000), (2, 500))]

    def finalize(part_ids):
        body = {"video": urn, "uploadToken": token, "uploadedPartIds": part_ids}
        return rest(
            fl,
            "POST",
            "/rest/videos?action=finalizeUpload",
            scene.access_token,
            json={"finalizeUploadRequest": body},
        )

    def status():
        path = f"/rest/videos/{quote(urn, safe='')}"
        return rest(fl, "GET", path, scene.access_token).json()["status"]

    assert status() == "WAITING_UPLOAD"
    stranger = fl.control.create_scene(name="Grace Hopper")
    path = f"/rest/videos/{quote(urn, safe='')}"
    refused = rest(fl, "GET", path, stranger.access_token)
    assert refused.status_code == 403 and "video resource is forbidden" in refused.json()["message"]
    assert finalize(etags[::-1]).status_code == 400
    assert finalize(etags).status_code == 200 and status() == "PROCESSING"

    def post():
        body = post_body(scene.member_urn, "v", content={"media": {"id": urn}})
        return rest(fl, "POST", "/rest/posts", scene.access_token, json=body)

    early = post()
    assert early.status_code == 422 and "not ready (PROCESSING)" in early.json()["message"]
    fl.control.advance_time(30)
    assert status() == "AVAILABLE"
    made = post()
    assert made.status_code == 201 and made.headers["x-restli-id"].startswith("urn:li:share:")


def test_a_small_video_is_one_part_without_an_upload_token(fl):
    scene = fl.control.create_scene()

    value = initialize_video(fl, scene, 80_000).json()["value"]

    assert value["uploadToken"] == "" and len(value["uploadInstructions"]) == 1


def test_a_posts_id_holds_when_it_was_made(fl):
    scene = fl.control.create_scene()
    answer = rest(
        fl, "POST", "/rest/posts", scene.access_token, json=post_body(scene.member_urn, "when")
    )

    made_ms = int(answer.headers["x-restli-id"].rsplit(":", 1)[1]) >> 22

    assert abs(made_ms / 1000 - datetime.now(UTC).timestamp()) < 5


def test_member_post_analytics_one_count_per_call_for_the_author_only(fl):
    scene = fl.control.create_scene()
    other = fl.control.create_scene(name="Grace Hopper")
    urn = rest(
        fl, "POST", "/rest/posts", scene.access_token, json=post_body(scene.member_urn, "seen")
    ).headers["x-restli-id"]
    fl.control.set_counts(urn, impressions=321, shares=4)
    query = f"q=entity&entity=(share:{quote(urn, safe='')})&aggregation=TOTAL&queryType="

    def read(token, metric):
        return rest(fl, "GET", f"/rest/memberCreatorPostAnalytics?{query}{metric}", token)

    [element] = read(scene.access_token, "IMPRESSION").json()["elements"]
    assert (element["count"], element["metricType"]) == (321, "IMPRESSION")
    assert read(scene.access_token, "RESHARE").json()["elements"][0]["count"] == 4
    assert read(other.access_token, "IMPRESSION").status_code == 403
    narrow = fl.control.issue_token(scene.member_id, scopes=["w_member_social"])["access_token"]
    assert read(narrow, "IMPRESSION").status_code == 403
