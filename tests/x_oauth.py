"""Kairos set up as an app of the fake X, and accounts connected the way staff do it.

The fake X runs in this process (fakex.control.fake_x_server); requests-oauthlib
refuses plain HTTP, so the tests allow it for the fake's 127.0.0.1 address.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import SocialAccount, Workspace
from accounts.services import social_account_connect
from fakex.control import RunningFakeX

CLIENT_ID = "kairos-app"
CLIENT_SECRET = "kairos-app-secret"
REDIRECT_URI = "http://testserver/accounts/x/callback/"


def x_app_configure(fx: RunningFakeX, settings, monkeypatch, *, confidential: bool = True) -> None:
    """Register Kairos with the fake X and point the settings at it."""
    fx.control.reset()
    fx.control.register_client(
        CLIENT_ID,
        redirect_uris=[REDIRECT_URI],
        client_secret=CLIENT_SECRET if confidential else None,
    )
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    settings.X_API_BASE_URL = fx.url
    settings.X_AUTHORIZE_URL = f"{fx.url}/i/oauth2/authorize"
    settings.X_TOKEN_URL = f"{fx.url}/2/oauth2/token"
    settings.X_REDIRECT_URI = REDIRECT_URI
    settings.X_CLIENT_ID = CLIENT_ID
    settings.X_CLIENT_SECRET = CLIENT_SECRET if confidential else ""


def x_sign_in(client: Client, *, workspace: Workspace) -> str:
    """Press “Connect X account” and agree on X (as the fake's logged-in user); return
    the callback address X sends the browser back to, not yet visited."""
    start = client.post(reverse("accounts:x-connect"), {"workspace": workspace.pk})
    assert start.status_code == 302, start.content
    consent = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["location"])
    return f"{back.path}?{back.query}"


def x_connect(client: Client, *, workspace: Workspace) -> SocialAccount:
    """The whole connect flow, through the admin and the fake X, ending on the account."""
    response = client.get(x_sign_in(client, workspace=workspace))
    assert response.status_code == 302, response.content
    return SocialAccount.objects.get(pk=response["Location"].rstrip("/").split("/")[-2])


def x_account_with_fresh_tokens(fx: RunningFakeX, *, workspace: Workspace, username: str):
    """An account whose tokens the fake issued to Kairos's app just now (valid 2 hours)."""
    user = fx.control.create_user(username=username)
    tokens = fx.control.issue_tokens(user["id"], client_id=CLIENT_ID)
    return social_account_connect(
        network="x",
        workspace=workspace,
        external_id=user["id"],
        handle=username,
        credentials={
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
        },
        expires_at=timezone.now() + timedelta(seconds=tokens["expires_in"]),
    )
