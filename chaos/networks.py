"""The networks a chaos run spreads its accounts over, each with a fake in a subprocess
(Facebook and Instagram share Meta's, as they share Meta's address).

Each network says how to start its fake, how to make it misbehave the same way
(no pacing, no duplicate refusal of its own, a share of creations accepted and
then dropped without a word), how to connect an account of it, and how to read
back what really reached it: creations per (account, text), and when each was
first created there. Accounts are named `<network>:<id>` in what the report reads,
so the same id on two fakes can never be mistaken for one account.

Connecting accounts uses Kairos's models: call `account_connect` only after
`django.setup()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chaos.report import UserText
from fakebluesky.control import FakeBlueskyControl, FakeBlueskyProcess
from fakelinkedin.control import FakeLinkedInControl, FakeLinkedInProcess
from fakemastodon.control import FakeMastodonControl, FakeMastodonProcess
from fakemeta.control import FakeMetaControl, FakeMetaProcess
from fakex.control import FakeXControl, FakeXProcess

if TYPE_CHECKING:
    from accounts.models import SocialAccount, Workspace

# The fake answers this share of its create calls by creating the post and closing
# the connection without a word: the case that tempts a double post.
ACCEPT_THEN_DROP_RATE = 0.02
# Far above anything the run can reach: this run is about crashes, not pacing.
UNREACHABLE_LIMIT = 10_000_000


def qualified(network: str, account_id: str) -> str:
    """An account's name in the report: its network and its id there."""
    return f"{network}:{account_id}"


@dataclass(frozen=True)
class ChaosNetwork:
    """What a chaos run needs of one network; subclasses fill in the network's own ways."""

    name: str
    # The create call as the fake counts it, and the path accept-then-drop faults fire
    # on (None: every POST of the run's posts, where the path holds an account's id).
    create_endpoint: str
    create_path: str | None
    # The look-up reconciliation reads (its answers other than 200 count as failed).
    lookup_endpoint: str
    # Networks of one company share its fake (Facebook and Instagram: Meta's Graph API,
    # one address for both); empty: a fake of its own, named as the network.
    fake: str = ""
    # Its posts carry a photo that the network downloads from Kairos's signed address, so
    # the run serves Kairos's web too.
    downloads_media: bool = False

    @property
    def fake_name(self) -> str:
        return self.fake or self.name

    def process(self) -> FakeXProcess:
        raise NotImplementedError

    def env(self, url: str) -> dict[str, str]:
        """Settings that point Kairos's processes at this fake."""
        return {}

    def prepare(self, control: Any, *, seed: int) -> None:
        self._limits_lift(control)
        control.set_fault_rates(
            {"accept_then_drop": ACCEPT_THEN_DROP_RATE},
            seed=seed,
            method="POST",
            path_prefix=self.create_path,
        )

    def account_connect(
        self, control: Any, *, url: str, workspace: Workspace, number: int
    ) -> SocialAccount:
        raise NotImplementedError

    def creations(self, control: Any) -> dict[UserText, int]:
        """How many times the fake created each (qualified account, submitted text)."""
        raise NotImplementedError

    def first_created(self, control: Any) -> dict[UserText, float]:
        """When the fake first created each (qualified account, submitted text), epoch s."""
        raise NotImplementedError

    def stats_read(self, control: Any) -> NetworkStats:
        lookups = control.stats()["requests"].get(self.lookup_endpoint, {})
        return NetworkStats(
            creations=self.creations(control),
            first_created_at=self.first_created(control),
            failed_lookups=sum(n for outcome, n in lookups.items() if outcome != "200"),
        )

    def _limits_lift(self, control: Any) -> None:
        for window in control.rate_limits()["limits"]:
            control.set_rate_limit(window, limit=UNREACHABLE_LIMIT)

    def _counts(self, entries: list[Mapping[str, Any]], account_field: str) -> dict[UserText, int]:
        return {
            (qualified(self.name, entry[account_field]), entry["text"]): entry["count"]
            for entry in entries
        }

    def _earliest(self, created: list[tuple[str, str, float]]) -> dict[UserText, float]:
        first: dict[UserText, float] = {}
        for account_id, text, at in created:
            key = (qualified(self.name, account_id), text)
            first[key] = min(first.get(key, at), at)
        return first


@dataclass(frozen=True)
class RunningNetwork:
    """A network of the run with its fake's address and control client."""

    network: ChaosNetwork
    url: str
    control: Any


@dataclass(frozen=True)
class NetworkStats:
    creations: dict[UserText, int]
    first_created_at: dict[UserText, float]
    failed_lookups: int


def accept_then_drop_fired(control: Any) -> int:
    """How many creations a fake accepted and then dropped, over all the networks it serves
    (a fake counts its faults by kind only)."""
    return control.stats()["faults"].get("accept_then_drop", 0)


class XNetwork(ChaosNetwork):
    def process(self) -> FakeXProcess:
        return FakeXProcess()

    def env(self, url: str) -> dict[str, str]:
        return {"X_API_BASE_URL": url}

    def prepare(self, control: FakeXControl, *, seed: int) -> None:
        # X refuses the same text twice in a row; off, so that a double post shows as two.
        control.set_duplicate_detection(False)
        super().prepare(control, seed=seed)

    def account_connect(
        self, control: FakeXControl, *, url: str, workspace: Workspace, number: int
    ) -> SocialAccount:
        from accounts.services import social_account_connect

        user = control.create_connected_user(username=f"chaos{number:03d}")
        return social_account_connect(
            network="x",
            workspace=workspace,
            external_id=user.id,
            handle=user.username,
            credentials={"access_token": user.access_token, "refresh_token": user.refresh_token},
        )

    def creations(self, control: FakeXControl) -> dict[UserText, int]:
        return self._counts(control.stats()["posts_created"], "user_id")

    def first_created(self, control: FakeXControl) -> dict[UserText, float]:
        posts = control.posts(include_deleted=True)
        return self._earliest(
            [(p["author_id"], p["submitted_text"], p["created_at"]) for p in posts]
        )


class MastodonNetwork(ChaosNetwork):
    def process(self) -> FakeXProcess:
        return FakeMastodonProcess()

    def account_connect(
        self, control: FakeMastodonControl, *, url: str, workspace: Workspace, number: int
    ) -> SocialAccount:
        from accounts.services import social_account_connect

        user = control.create_connected_account(
            username=f"chaos{number:03d}",
            scopes=["write:statuses", "write:media", "read:statuses", "profile"],
        )
        host = url.split("://", 1)[1]
        return social_account_connect(
            network="mastodon",
            workspace=workspace,
            external_id=user.id,
            handle=f"{user.username}@{host}",
            credentials={"instance_url": url, "access_token": user.access_token},
        )

    def creations(self, control: FakeMastodonControl) -> dict[UserText, int]:
        # Replays of an Idempotency-Key are answered with the first status, not counted.
        return self._counts(control.stats()["statuses_created"], "account_id")

    def first_created(self, control: FakeMastodonControl) -> dict[UserText, float]:
        statuses = control.statuses(include_deleted=True)
        return self._earliest([(s["account_id"], s["text"], s["created_at"]) for s in statuses])


class MetaNetwork(ChaosNetwork):
    """A network of Meta's Graph API: Facebook and Instagram share one fake, as they share
    one address (META_GRAPH_URL), so what is read back is sorted by the network it was on."""

    def process(self) -> FakeXProcess:
        return FakeMetaProcess()

    def env(self, url: str) -> dict[str, str]:
        return {"META_GRAPH_URL": url}

    def _limits_lift(self, control: FakeMetaControl) -> None:
        # No duplicate window either: a double post must show as two.
        control.set_meta_settings(
            duplicate_window_seconds=0,
            object_calls_per_hour=UNREACHABLE_LIMIT,
            app_calls_per_hour=UNREACHABLE_LIMIT,
            quota_total=UNREACHABLE_LIMIT,
        )

    def creations(self, control: FakeMetaControl) -> dict[UserText, int]:
        owners = {post["owner_id"] for post in self._posts(control)}
        entries = [e for e in control.stats()["posts_created"] if e["owner_id"] in owners]
        return self._counts(entries, "owner_id")

    def first_created(self, control: FakeMetaControl) -> dict[UserText, float]:
        return self._earliest(
            [(p["owner_id"], p["message"], p["created_time"]) for p in self._posts(control)]
        )

    def _posts(self, control: FakeMetaControl) -> list[dict[str, Any]]:
        """Every post the fake made on this network, deleted or not."""
        return [p for p in control.graph_posts(include_deleted=True) if p["network"] == self.name]


class FacebookNetwork(MetaNetwork):
    """Facebook Pages, each a Page of its own person, posting text."""

    def account_connect(
        self, control: FakeMetaControl, *, url: str, workspace: Workspace, number: int
    ) -> SocialAccount:
        from accounts.services import social_account_connect

        scene = control.create_page_scene(page_name=f"Chaos {number:03d}")
        return social_account_connect(
            network="facebook",
            workspace=workspace,
            external_id=scene.page_id,
            handle=f"Chaos {number:03d}",
            credentials={"access_token": scene.page_token, "page_id": scene.page_id},
        )


class InstagramNetwork(MetaNetwork):
    """Instagram professional accounts, each linked to a Page of its own person, posting a
    photo with a caption through the container flow: Meta downloads the photo from the
    run's Kairos web process."""

    def account_connect(
        self, control: FakeMetaControl, *, url: str, workspace: Workspace, number: int
    ) -> SocialAccount:
        from accounts.services import social_account_connect

        username = f"chaos{number:03d}"
        scene = control.create_page_scene(
            page_name=f"Chaos {number:03d}", instagram_username=username
        )
        if scene.instagram_id is None:
            raise RuntimeError(f"the fake Graph API linked no Instagram account to {username}")
        return social_account_connect(
            network="instagram",
            workspace=workspace,
            external_id=scene.instagram_id,
            handle=username,
            credentials={"access_token": scene.page_token, "page_id": scene.page_id},
        )


class BlueskyNetwork(ChaosNetwork):
    def process(self) -> FakeXProcess:
        return FakeBlueskyProcess()

    def env(self, url: str) -> dict[str, str]:
        return {"BLUESKY_PDS_URL": url, "BLUESKY_APPVIEW_URL": url, "BLUESKY_VIDEO_URL": url}

    def account_connect(
        self, control: FakeBlueskyControl, *, url: str, workspace: Workspace, number: int
    ) -> SocialAccount:
        from accounts.services import social_account_connect
        from publishing.networks.bluesky.session import credentials_from

        user = control.create_signed_in_account(handle=f"chaos{number:03d}.bsky.social")
        # What connecting with an app password keeps: the session's JWTs, DID and PDS.
        session = {"accessJwt": user.access_jwt, "refreshJwt": user.refresh_jwt, "did": user.did}
        credentials = credentials_from(session, pds=url)
        return social_account_connect(
            network="bluesky",
            workspace=workspace,
            external_id=user.did,
            handle=user.handle,
            credentials=dict(credentials.values),
            expires_at=credentials.expires_at,
        )

    def creations(self, control: FakeBlueskyControl) -> dict[UserText, int]:
        return self._counts(control.stats()["posts_created"], "did")

    def first_created(self, control: FakeBlueskyControl) -> dict[UserText, float]:
        records = control.posts()
        return self._earliest(
            [(r["did"], r["value"].get("text", ""), r["indexed_at"]) for r in records]
        )


# A backslash Kairos put before one of LinkedIn's reserved characters (the "little"
# text format): the fake counts the commentary as sent, the run the text as written.
LITTLE_ESCAPE = re.compile(r"\\(.)")


class LinkedInNetwork(ChaosNetwork):
    """Organization accounts: LinkedIn lists an organization's posts, so reconciliation can
    settle every interrupted attempt (a member's cannot be listed)."""

    def process(self) -> FakeXProcess:
        return FakeLinkedInProcess()

    def env(self, url: str) -> dict[str, str]:
        return {"LINKEDIN_API_BASE_URL": url, "LINKEDIN_OAUTH_URL": url}

    def account_connect(
        self, control: FakeLinkedInControl, *, url: str, workspace: Workspace, number: int
    ) -> SocialAccount:
        from accounts.services import social_account_connect

        scene = control.create_scene(
            name=f"Chaos Admin {number:03d}", organization=f"Chaos {number:03d}"
        )
        return social_account_connect(
            network="linkedin",
            workspace=workspace,
            external_id=scene.organization_urn,
            handle=f"Chaos {number:03d}",
            credentials={"access_token": scene.access_token, "author": scene.organization_urn},
            expires_at=datetime.now(UTC) + timedelta(days=60),
        )

    def creations(self, control: FakeLinkedInControl) -> dict[UserText, int]:
        counts: dict[UserText, int] = {}
        for entry in control.stats()["posts_created"]:
            key = (qualified(self.name, entry["author"]), _written(entry["text"]))
            counts[key] = counts.get(key, 0) + entry["count"]
        return counts

    def first_created(self, control: FakeLinkedInControl) -> dict[UserText, float]:
        posts = control.linkedin_posts(include_deleted=True)
        return self._earliest(
            [(p["author"], _written(p["sent_commentary"]), p["created_at"]) for p in posts]
        )

    def _limits_lift(self, control: FakeLinkedInControl) -> None:
        from django.conf import settings

        # LinkedIn's own refusal of the same words (DUPLICATE_POST) is off too, so that a
        # double post shows as two.
        control.set_linkedin_settings(
            daily_post_limit=UNREACHABLE_LIMIT,
            duplicate_window_seconds=0,
            # The run is not about the version's age: the one Kairos sends is current.
            versions_as_of=settings.LINKEDIN_VERSION,
        )


def _written(sent: str) -> str:
    return LITTLE_ESCAPE.sub(r"\1", sent)


NETWORKS: dict[str, ChaosNetwork] = {
    network.name: network
    for network in (
        XNetwork(
            "x",
            create_endpoint="POST /2/tweets",
            create_path="/2/tweets",
            lookup_endpoint="GET /2/users/:id/tweets",
        ),
        MastodonNetwork(
            "mastodon",
            create_endpoint="POST /api/v1/statuses",
            create_path="/api/v1/statuses",
            lookup_endpoint="GET /api/v1/accounts/:id/statuses",
        ),
        BlueskyNetwork(
            "bluesky",
            create_endpoint="POST /xrpc/com.atproto.repo.createRecord",
            create_path="/xrpc/com.atproto.repo.createRecord",
            lookup_endpoint="GET /xrpc/com.atproto.repo.getRecord",
        ),
        FacebookNetwork(
            "facebook",
            create_endpoint="POST /{id}/feed",
            create_path=None,
            lookup_endpoint="GET /{id}/posts",
            fake="meta",
        ),
        # The container's publication is the creation; faults fire on every POST of the
        # shared fake (one set of rates), so a container made and its answer dropped is
        # also in the run: nothing is posted, and Kairos makes another.
        InstagramNetwork(
            "instagram",
            create_endpoint="POST /{id}/media_publish",
            create_path=None,
            lookup_endpoint="GET /{id}/media",
            fake="meta",
            downloads_media=True,
        ),
        LinkedInNetwork(
            "linkedin",
            create_endpoint="POST /rest/posts",
            create_path="/rest/posts",
            lookup_endpoint="GET /rest/posts",
        ),
    )
}
