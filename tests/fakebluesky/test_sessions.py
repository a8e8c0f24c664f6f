"""Signing in with an app password, renewing the session, and the session's refusals."""

import base64
import json

import pytest

from fakebluesky.state import ACCESS_JWT_LIFETIME, REFRESH_GRACE


def claims(jwt: str) -> dict:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_an_app_password_opens_a_session_of_two_jwts(bsky, xrpc):
    account = bsky.control.create_account(handle="brand.bsky.social", email="b@example.com")
    answer = xrpc.post(
        "com.atproto.server.createSession",
        {"identifier": "@Brand.bsky.social", "password": account["app_password"]},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["did"], body["handle"]) == (account["did"], "brand.bsky.social")
    access = claims(body["accessJwt"])
    assert (access["sub"], access["scope"]) == (account["did"], "com.atproto.access")
    assert access["exp"] - access["iat"] == ACCESS_JWT_LIFETIME
    assert answer.headers["RateLimit-Policy"] == "30;w=300"


def test_a_wrong_password_is_refused(bsky, xrpc):
    bsky.control.create_account(handle="brand.bsky.social")
    answer = xrpc.post(
        "com.atproto.server.createSession",
        {"identifier": "brand.bsky.social", "password": "aaaa-bbbb-cccc-dddd"},
    )
    assert answer.status_code == 401
    assert answer.json() == {
        "error": "AuthenticationRequired",
        "message": "Invalid identifier or password",
    }


def test_a_refresh_rotates_the_refresh_jwt_with_a_grace_period(bsky, xrpc, alice):
    renewed = xrpc.post("com.atproto.server.refreshSession", token=alice.refresh_jwt)
    assert renewed.status_code == 200
    assert renewed.json()["refreshJwt"] != alice.refresh_jwt
    # Within two hours the used JWT still works, and gives a refresh JWT of the same id.
    again = xrpc.post("com.atproto.server.refreshSession", token=alice.refresh_jwt)
    assert again.status_code == 200
    assert claims(again.json()["refreshJwt"])["jti"] == claims(renewed.json()["refreshJwt"])["jti"]
    bsky.control.advance_time(REFRESH_GRACE + 1)
    late = xrpc.post("com.atproto.server.refreshSession", token=alice.refresh_jwt)
    assert (late.status_code, late.json()["error"]) == (400, "ExpiredToken")
    latest = xrpc.post("com.atproto.server.refreshSession", token=again.json()["refreshJwt"])
    assert latest.status_code == 200


def test_an_access_jwt_is_not_a_refresh_jwt(xrpc, alice):
    answer = xrpc.post("com.atproto.server.refreshSession", token=alice.access_jwt)
    assert answer.json() == {"error": "InvalidToken", "message": "Bad token scope"}


def test_an_access_jwt_expires_after_two_hours(bsky, xrpc, alice):
    bsky.control.advance_time(ACCESS_JWT_LIFETIME + 1)
    answer = xrpc.create_post(alice)
    assert answer.status_code == 400
    assert answer.json() == {"error": "ExpiredToken", "message": "Token has expired"}


@pytest.mark.parametrize(
    ("token", "status", "error"),
    [(None, 401, "AuthMissing"), ("not-a-token", 400, "InvalidToken")],
)
def test_calls_without_a_live_session_are_refused(xrpc, alice, token, status, error):
    body = {"repo": alice.did, "collection": "app.bsky.feed.post", "record": {}}
    answer = xrpc.post("com.atproto.repo.createRecord", body, token=token)
    assert (answer.status_code, answer.json()["error"]) == (status, error)


def test_ended_sessions_and_taken_down_accounts_are_refused(bsky, xrpc, alice):
    bsky.control.update_account(alice.did, status="takendown")
    assert xrpc.create_post(alice).json()["error"] == "AccountTakedown"
    bsky.control.end_sessions(alice.did)
    assert xrpc.create_post(alice).json()["error"] == "InvalidToken"
