"""Apps and sign-ins on the fake instance: register, authorize with PKCE, exchange, revoke."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

REDIRECT_URI = "https://kairos.example/accounts/mastodon/callback/"
VERIFIER = "v" * 64
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode()


@pytest.fixture
def app(mastodon):
    response = requests.post(
        f"{mastodon.url}/api/v1/apps",
        json={
            "client_name": "Kairos",
            "redirect_uris": [REDIRECT_URI],
            "scopes": "write:statuses write:media read:statuses profile",
        },
        timeout=5,
    )
    assert response.status_code == 200
    return response.json()


def authorize(mastodon, app, *, scope="write:statuses profile", state="s1"):
    response = requests.get(
        f"{mastodon.url}/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": app["client_id"],
            "redirect_uri": REDIRECT_URI,
            "scope": scope,
            "state": state,
            "code_challenge": CHALLENGE.rstrip("="),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302
    return parse_qs(urlsplit(response.headers["location"]).query)


def exchange(mastodon, app, code, *, verifier=VERIFIER):
    return requests.post(
        f"{mastodon.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        timeout=5,
    )


def test_an_app_is_registered_with_its_keys(app):
    assert app["client_secret_expires_at"] == 0
    assert app["redirect_uris"] == [REDIRECT_URI]
    assert app["scopes"] == ["write:statuses", "write:media", "read:statuses", "profile"]


def test_the_whole_sign_in_gives_a_token_that_never_expires(mastodon, app):
    account = mastodon.control.create_account(username="brand", display_name="The Brand")
    answer = authorize(mastodon, app)
    assert answer["state"] == ["s1"]
    token = exchange(mastodon, app, answer["code"][0]).json()
    assert token["token_type"] == "Bearer"
    assert "expires_in" not in token and "refresh_token" not in token
    me = requests.get(
        f"{mastodon.url}/api/v1/accounts/verify_credentials",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=5,
    ).json()
    assert (me["id"], me["username"], me["display_name"]) == (account["id"], "brand", "The Brand")


def test_a_wrong_verifier_or_a_spent_code_is_an_invalid_grant(mastodon, app):
    mastodon.control.create_account(username="brand")
    code = authorize(mastodon, app)["code"][0]
    refused = exchange(mastodon, app, code, verifier="w" * 64)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_grant")
    assert exchange(mastodon, app, code).json()["error"] == "invalid_grant"


def test_a_scope_beyond_the_apps_goes_back_as_an_error(mastodon, app):
    mastodon.control.create_account(username="brand")
    assert authorize(mastodon, app, scope="admin:read")["error"] == ["invalid_scope"]


def test_a_token_without_the_scope_is_forbidden_and_a_revoked_one_invalid(mastodon):
    reader = mastodon.control.create_connected_account(username="brand", scopes=["read"])
    post = lambda: requests.post(  # noqa: E731
        f"{mastodon.url}/api/v1/statuses", json={"status": "x"}, headers=reader.headers, timeout=5
    )
    assert (post().status_code, post().json()) == (
        403,
        {"error": "This action is outside the authorized scopes"},
    )
    mastodon.control.revoke_tokens(reader.id)
    assert (post().status_code, post().json()) == (401, {"error": "The access token is invalid"})
