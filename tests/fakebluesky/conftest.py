import pytest
import requests


class Xrpc:
    """Calls to the fake Bluesky as a client makes them."""

    def __init__(self, url: str) -> None:
        self.url = url

    def post(self, nsid: str, body=None, *, account=None, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if account is not None or token is not None:
            headers["Authorization"] = f"Bearer {token or account.access_jwt}"
        return requests.post(
            f"{self.url}/xrpc/{nsid}", json=body, headers=headers, timeout=5, **kwargs
        )

    def get(self, nsid: str, **params):
        return requests.get(f"{self.url}/xrpc/{nsid}", params=params, timeout=5)

    def create_post(self, account, text="hi", *, rkey=None, **record):
        body = {
            "repo": account.did,
            "collection": "app.bsky.feed.post",
            "record": {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": "2026-12-03T10:00:00.000Z",
                **record,
            },
        }
        if rkey:
            body["rkey"] = rkey
        return self.post("com.atproto.repo.createRecord", body, account=account)


@pytest.fixture
def xrpc(bsky):
    return Xrpc(bsky.url)


@pytest.fixture
def alice(bsky):
    return bsky.control.create_signed_in_account(handle="alice.bsky.social")
