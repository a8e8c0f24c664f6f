"""OAuth 2.0 Authorization Code with PKCE, refresh-token rotation and revocation."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from fakex.control import RunningFakeX

REDIRECT_URI = "https://kairos.example/oauth/x/callback"
SCOPES = "tweet.read tweet.write users.read offline.access media.write"
CLIENT_ID, CLIENT_SECRET = "kairos-web", "s3cret"
PUBLIC_CLIENT_ID = "kairos-cli"
INVALID_TOKEN = {
    "error": "invalid_request",
    "error_description": "Value passed for the token was invalid.",
}
MISSING_BASIC = {
    "error": "unauthorized_client",
    "error_description": "Missing valid authorization header",
}


@pytest.fixture(autouse=True)
def scene(fake_x: RunningFakeX) -> dict:
    control = fake_x.control
    control.reset()
    control.register_client(CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[REDIRECT_URI])
    control.register_client(PUBLIC_CLIENT_ID, redirect_uris=[REDIRECT_URI])
    return control.create_user(username="alice")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(96)[:128]
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    )
    return verifier, challenge


def authorize(fake_x: RunningFakeX, **overrides: str) -> requests.Response:
    params = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES,
        "state": "xyz",
        "code_challenge": "challenge",
        "code_challenge_method": "plain",
        **overrides,
    }
    return requests.get(
        f"{fake_x.url}/i/oauth2/authorize", params=params, allow_redirects=False, timeout=5
    )


def redirect_parameters(response: requests.Response) -> dict[str, str]:
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def token_request(
    fake_x: RunningFakeX, form: dict[str, str], *, client_secret: str | None = CLIENT_SECRET
) -> requests.Response:
    auth = (form.get("client_id", CLIENT_ID), client_secret) if client_secret else None
    return requests.post(f"{fake_x.url}/2/oauth2/token", data=form, auth=auth, timeout=5)


def code_for(
    fake_x: RunningFakeX, *, client_id: str = CLIENT_ID, scope: str = SCOPES
) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    response = authorize(
        fake_x,
        client_id=client_id,
        scope=scope,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    return redirect_parameters(response)["code"], verifier


def exchange(fake_x: RunningFakeX, code: str, verifier: str, **form: str) -> requests.Response:
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    return token_request(fake_x, {**body, **form})


def test_authorize_redirects_with_state_and_code(fake_x):
    response = authorize(fake_x)

    assert response.status_code == 302
    parameters = redirect_parameters(response)
    assert parameters["state"] == "xyz"
    assert parameters["code"]
    assert response.headers["location"].index("state=") < response.headers["location"].index(
        "code="
    )


def test_the_full_flow_yields_a_working_token_pair(fake_x, scene):
    code, verifier = code_for(fake_x)

    response = exchange(fake_x, code, verifier)

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["token_type", "expires_in", "access_token", "scope", "refresh_token"]
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7200
    assert body["scope"] == SCOPES
    me = requests.get(
        f"{fake_x.url}/2/users/me",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=5,
    )
    assert me.json()["data"]["id"] == scene["id"]
    assert fake_x.control.stats()["token_exchanges"] == {"authorization_code": 1}


def test_consent_comes_from_the_logged_in_user(fake_x):
    bob = fake_x.control.create_user(username="bob")
    fake_x.control.log_in(bob["id"])
    code, verifier = code_for(fake_x)

    token = exchange(fake_x, code, verifier).json()["access_token"]

    me = requests.get(
        f"{fake_x.url}/2/users/me", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert me.json()["data"]["username"] == "bob"


def test_no_refresh_token_without_offline_access(fake_x):
    code, verifier = code_for(fake_x, scope="tweet.read tweet.write users.read")

    body = exchange(fake_x, code, verifier).json()

    assert "refresh_token" not in body


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "tweet.read telepathy"}, "invalid_scope"),
        ({"state": "s" * 501}, "invalid_request"),
        ({"state": ""}, "invalid_request"),
        ({"code_challenge_method": "S512"}, "invalid_request"),
        ({"code_challenge": ""}, "invalid_request"),
    ],
)
def test_bad_authorize_parameters_go_back_as_errors(fake_x, overrides, error):
    response = authorize(fake_x, **overrides)

    assert response.status_code == 302
    assert redirect_parameters(response)["error"] == error


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "stranger"},
        {"redirect_uri": REDIRECT_URI + "/"},
        {"redirect_uri": "https://evil.example"},
    ],
)
def test_unknown_client_or_redirect_uri_is_never_redirected_to(fake_x, overrides):
    response = authorize(fake_x, **overrides)

    assert response.status_code == 400
    assert "location" not in response.headers


def test_a_pkce_mismatch_is_refused(fake_x):
    code, _ = code_for(fake_x)

    response = exchange(fake_x, code, "not-the-verifier")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert fake_x.control.stats()["token_refusals"] == {"authorization_code": 1}


def test_plain_pkce_compares_the_verifier_itself(fake_x):
    code = redirect_parameters(authorize(fake_x, code_challenge="plain-verifier"))["code"]

    assert exchange(fake_x, code, "plain-verifier").status_code == 200


def test_a_code_works_only_once(fake_x):
    code, verifier = code_for(fake_x)
    assert exchange(fake_x, code, verifier).status_code == 200

    replay = exchange(fake_x, code, verifier)

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_request"


def test_a_code_expires_after_30_seconds(fake_x):
    code, verifier = code_for(fake_x)
    fake_x.control.advance_time(31)

    assert exchange(fake_x, code, verifier).status_code == 400


def test_the_redirect_uri_must_match_the_authorize_request(fake_x):
    code, verifier = code_for(fake_x)

    assert (
        exchange(fake_x, code, verifier, redirect_uri="https://kairos.example/other").status_code
        == 400
    )


def test_a_confidential_client_without_basic_auth_is_refused(fake_x):
    code, verifier = code_for(fake_x)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": CLIENT_ID,
    }

    response = token_request(fake_x, form, client_secret=None)

    assert response.status_code == 401
    assert response.json() == MISSING_BASIC


def test_a_wrong_client_secret_is_refused(fake_x):
    code, verifier = code_for(fake_x)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }

    assert token_request(fake_x, form, client_secret="guess").status_code == 401


def test_a_public_client_names_itself_in_the_body(fake_x):
    code, verifier = code_for(fake_x, client_id=PUBLIC_CLIENT_ID)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": PUBLIC_CLIENT_ID,
    }

    assert token_request(fake_x, form, client_secret=None).status_code == 200


def test_refresh_rotates_and_the_old_refresh_token_stops_working(fake_x):
    code, verifier = code_for(fake_x)
    first = exchange(fake_x, code, verifier).json()

    refreshed = token_request(
        fake_x, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )

    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    reused = token_request(
        fake_x, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 400
    assert reused.json() == INVALID_TOKEN
    again = token_request(
        fake_x, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
    )
    assert again.status_code == 200
    assert fake_x.control.stats()["token_exchanges"] == {
        "authorization_code": 1,
        "refresh_token": 2,
    }


def test_tokens_issued_by_control_refresh_through_their_client(fake_x, scene):
    tokens = fake_x.control.issue_tokens(scene["id"], client_id=CLIENT_ID)

    response = token_request(
        fake_x, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )

    assert response.status_code == 200


def test_another_client_cannot_use_the_refresh_token(fake_x):
    code, verifier = code_for(fake_x)
    refresh_token = exchange(fake_x, code, verifier).json()["refresh_token"]
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": PUBLIC_CLIENT_ID,
    }

    assert token_request(fake_x, form, client_secret=None).json() == INVALID_TOKEN


def test_revoking_the_refresh_token_ends_the_grant(fake_x):
    code, verifier = code_for(fake_x)
    tokens = exchange(fake_x, code, verifier).json()

    revoked = requests.post(
        f"{fake_x.url}/2/oauth2/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=5,
    )

    assert revoked.json() == {"revoked": True}
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(f"{fake_x.url}/2/users/me", headers=headers, timeout=5).status_code == 401
    refresh = token_request(
        fake_x, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert refresh.status_code == 400


def test_an_unknown_grant_type_is_refused(fake_x):
    response = token_request(fake_x, {"grant_type": "password"})

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"
