"""Connecting Mastodon accounts: Kairos's app on each instance, then the sign-in
(OAuth 2.0 authorization code with PKCE, Mastodon 4.3+), then who signed in.

What Mastodon does (reference/networks.md):

* Every instance keeps its own apps. The first time an account on an instance is
  connected, Kairos registers itself there (POST /api/v1/apps) and keeps the keys
  for every later sign-in on that instance (the caller's AppRegistry).
* The token never expires and comes with no refresh token; it ends only when the
  person removes Kairos from their authorized apps.
* The sign-in's secret (kept by the caller with the `state`) is the instance and
  the PKCE verifier together: the callback must know which instance to ask.

requests (not urllib3) as for X's sign-in: a connect is one person's click, not a
hot path.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings

from publishing.networks.base import (
    AppKeys,
    AppRegistry,
    ConnectError,
    Connection,
    Credentials,
    Profile,
)
from publishing.networks.mastodon.validation import CONFIGURATION_KEY, InstanceLimits

SCOPES = ("write:statuses", "write:media", "read:statuses", "profile")
VERIFIER_BYTES = 64


def mastodon_instance(address: str) -> str:
    """The instance's base URL from what a person typed: "mastodon.social",
    "https://mastodon.social/", "@kairos@mastodon.social". Raises `ConnectError`."""
    typed = address.strip()
    if typed.startswith("@") or ("@" in typed and "://" not in typed):
        typed = typed.rsplit("@", 1)[-1]
    if "://" not in typed:
        typed = f"https://{typed}"
    parts = urlsplit(typed)
    host = parts.hostname or ""
    if not host or ("." not in host and host != "localhost"):
        raise ConnectError(
            f"“{address}” is not the address of a Mastodon instance; type its address, "
            "such as mastodon.social."
        )
    # Plain HTTP only to this machine (a test instance): a token must not cross a network
    # in the clear.
    if parts.scheme != "https" and not _loopback(host):
        raise ConnectError(
            f"Kairos connects to Mastodon instances over HTTPS only; use https://{host}."
        )
    return f"{parts.scheme}://{parts.netloc}".lower()


def mastodon_connect_start(
    *, state_for: Callable[[str], str], server: str, apps: AppRegistry | None
) -> str:
    """The instance's address where the person signs in and allows Kairos (PKCE, S256)."""
    if apps is None:
        raise ConnectError("Connecting a Mastodon account needs a place to keep Kairos's app.")
    instance = mastodon_instance(server)
    keys = apps.app_keys(server=instance, register=lambda: _app_register(instance))
    verifier = secrets.token_urlsafe(VERIFIER_BYTES)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state = state_for(json.dumps({"instance": instance, "verifier": verifier}))
    query = {
        "response_type": "code",
        "client_id": keys.client_id,
        "redirect_uri": settings.MASTODON_REDIRECT_URI,
        "scope": " ".join(SCOPES),
        "state": state,
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    return f"{instance}/oauth/authorize?{urlencode(query)}"


def mastodon_connect_finish(*, code: str, secret: str, apps: AppRegistry | None) -> Connection:
    """Trade the code the instance sent back for the account's token; ask who signed in
    and what the instance accepts."""
    flow = json.loads(secret)
    instance = flow["instance"]
    if apps is None:
        raise ConnectError("Connecting a Mastodon account needs a place to keep Kairos's app.")
    keys = apps.app_keys(server=instance, register=lambda: _app_missing(instance))
    answer = _ask(
        instance,
        "POST",
        "/oauth/token",
        doing="finish the sign-in",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": keys.client_id,
            "client_secret": keys.client_secret,
            "redirect_uri": settings.MASTODON_REDIRECT_URI,
            "code_verifier": flow["verifier"],
        },
    )
    token = answer["access_token"]
    me = _ask(
        instance,
        "GET",
        "/api/v1/accounts/verify_credentials",
        doing="say which account signed in",
        headers={"Authorization": f"Bearer {token}"},
    )
    limits = InstanceLimits.from_instance(
        _ask(instance, "GET", "/api/v2/instance", doing="say what it accepts")
    )
    return Connection(
        credentials=Credentials(
            values={
                "instance_url": instance,
                "access_token": token,
                CONFIGURATION_KEY: limits.stored(),
            },
            # Mastodon's tokens do not expire.
            expires_at=None,
        ),
        profile=mastodon_profile_from_answer(me, instance=instance),
    )


def mastodon_profile_from_answer(answer: dict[str, Any], *, instance: str) -> Profile:
    """A Profile from GET /api/v1/accounts/verify_credentials. The handle is the full
    address people use across instances: name@instance."""
    return Profile(
        external_id=str(answer["id"]),
        handle=f"{answer['username']}@{urlsplit(instance).hostname}",
        display_name=answer.get("display_name", ""),
        avatar_url=answer.get("avatar", ""),
        followers_count=answer.get("followers_count"),
    )


def _app_register(instance: str) -> AppKeys:
    answer = _ask(
        instance,
        "POST",
        "/api/v1/apps",
        doing="register Kairos as an app",
        json={
            "client_name": settings.MASTODON_CLIENT_NAME,
            "redirect_uris": [settings.MASTODON_REDIRECT_URI],
            "scopes": " ".join(SCOPES),
            "website": settings.KAIROS_PUBLIC_URL,
        },
    )
    return AppKeys(client_id=answer["client_id"], client_secret=answer["client_secret"])


def _app_missing(instance: str) -> AppKeys:
    raise ConnectError(
        f"Kairos has no app on {instance} any more, so the sign-in cannot finish; connect the "
        "account again."
    )


def _ask(instance: str, method: str, path: str, *, doing: str, **kwargs: Any) -> Any:
    try:
        response = requests.request(
            method,
            f"{instance}{path}",
            timeout=(settings.MASTODON_CONNECT_TIMEOUT, settings.MASTODON_READ_TIMEOUT),
            allow_redirects=False,
            **kwargs,
        )
    except requests.RequestException as exc:
        raise ConnectError(
            f"{instance} did not answer when asked to {doing} ({type(exc).__name__}); check "
            "its address, or connect again in a moment."
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != 200 or not isinstance(body, dict | list):
        said = body.get("error_description") or body.get("error") if isinstance(body, dict) else ""
        raise ConnectError(
            f"{instance} refused to {doing} (it answered {response.status_code}"
            f"{': ' + said if said else ''}). Is it a Mastodon instance, version 4.3 or later? "
            "Connect the account again."
        )
    return body


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
