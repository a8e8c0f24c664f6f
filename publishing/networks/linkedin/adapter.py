"""LinkedIn: publish a post (text, one image, several images, a video) as a member or as
an organization they administer, delete it, find it again for reconciliation, read its
numbers.

What LinkedIn's answers mean is decided in client.py; the sign-in in oauth.py; what a
post may hold, and the "little" text format of its commentary, in validation.py; how
images and videos are uploaded, in media.py. This module says what to ask
(reference/networks.md, LinkedIn): POST /rest/posts with the author's URN and the
escaped commentary, and `content.media` (one image or a video) or `content.multiImage`
(2 to 20 images); LinkedIn answers 201 with no body and the post's URN in
`x-restli-id`.

LinkedIn takes no idempotency key. An attempt interrupted after its request may have
been accepted is reconciled (`find_part`):

* for an organization, by listing its posts made since the attempt began;
* for a member, whose posts cannot be listed without a scope only partners get
  (r_member_social): by default not at all, UNKNOWN, for staff to check (a person sees the
  member's profile; Kairos cannot). An operator who accepts the risk below may set
  LINKEDIN_MEMBER_DUPLICATE_PROBE, and Kairos then sends the same post again, soon after:
  LinkedIn refuses a
  repeat of an author's recent commentary with 422 DUPLICATE_POST naming the post it
  repeats. Named post made since the attempt began (its id holds when it was made):
  FOUND, that post. Made before: the attempt was refused as its duplicate too, ABSENT
  (the retry then fails as a duplicate). 201: the attempt had not made it and the probe
  just did, FOUND, the new post, once.

What stays UNKNOWN, for staff to decide (the job's page says what to check): a member's
post without words (LinkedIn's duplicate check is of the commentary), a probe later
than DUPLICATE_PROBE_WINDOW after the attempt (how long LinkedIn remembers a
commentary is not documented: past it a probe could post twice), a probe LinkedIn did
not answer, and a named post whose id does not read as a time. The probe rests on
LinkedIn refusing every repeat within that window; if it ever let one through, the
member would have the post twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from publishing.networks.base import (
    ACCOUNT_NEEDS_REAUTH,
    Account,
    AccountStore,
    AppRegistry,
    Connection,
    CredentialsRefused,
    ErrorKind,
    Lookup,
    MediaFile,
    MediaKind,
    MediaUploaded,
    MetricsReading,
    NetworkAdapter,
    PartContent,
    PartPublished,
    PostMetrics,
    Presence,
    Profile,
    PublishError,
    PublishRequest,
    PublishResult,
)
from publishing.networks.linkedin.client import (
    DUPLICATE_OF,
    RECONNECT,
    LinkedInClient,
    urn_path,
)
from publishing.networks.linkedin.media import LinkedInMedia
from publishing.networks.linkedin.oauth import (
    MEMBER_PREFIX,
    authorization_url,
    code_exchange,
    connections_of,
    organizations_administered,
    renewal_if_expiring,
)
from publishing.networks.linkedin.validation import (
    COMMENTARY_LIMIT,
    commentary_length,
    linkedin_content_problems,
    little_text,
)

# Renew a partner app's access this long before it lapses.
REFRESH_BEFORE = timedelta(days=7)
LOOKUP_LIMIT = 50
# LinkedIn's clocks and ours may differ a little: a look-up reads from a little earlier.
CLOCK_SKEW = timedelta(minutes=5)
# How soon after the attempt a member's post may be sent again to learn, from LinkedIn's
# DUPLICATE_POST, whether the attempt made it [inf]: reconciliation asks within minutes.
DUPLICATE_PROBE_WINDOW = timedelta(hours=1)
# A post's id holds the milliseconds of its making above its lowest 22 bits [i]
# (urn:li:share:7141138937766391808 was made on 2023-12-14); older than LinkedIn's posts
# API, a time read from an id is not one.
ID_TIME_SHIFT = 22
ID_TIME_FLOOR = datetime(2015, 1, 1, tzinfo=UTC)
MEMBER_LOOKUP_REASON = (
    "LinkedIn lists a member's posts only to partner apps (the r_member_social scope), and "
    "{why}, so Kairos cannot tell whether this post went out: look at the member's profile, "
    "then mark the job published or send it again."
)


class LinkedInAdapter(NetworkAdapter):
    network = "linkedin"
    label = "LinkedIn"
    has_metrics = True
    has_profile = True
    connects = True
    offers_choices = True
    refresh_before = REFRESH_BEFORE

    def __init__(self) -> None:
        self.client = LinkedInClient()
        self.media = LinkedInMedia(self.client)

    def validate(self, *, account: Account, parts: tuple[PartContent, ...]) -> list[str]:
        return linkedin_content_problems(parts)

    def text_length(self, *, account: Account, text: str) -> int:
        return commentary_length(text)

    def text_limit(self, *, account: Account) -> int | None:
        return COMMENTARY_LIMIT

    def publish(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_part_published: PartPublished,
        on_media_uploaded: MediaUploaded | None = None,
    ) -> PublishResult:
        account = request.account
        if request.published_part_ids:
            urn = request.published_part_ids[0]
        else:
            urn = self._post(request, store=store, on_media_uploaded=on_media_uploaded)
            on_part_published(0, urn)
        return PublishResult(
            external_id=urn, url=self.post_url(account=account, external_id=urn), part_ids=(urn,)
        )

    def delete(self, *, account: Account, external_id: str, store: AccountStore) -> None:
        """DELETE /rest/posts/{urn}; a post already gone (404) counts as deleted."""
        self.client.call(
            "DELETE",
            f"/rest/posts/{urn_path(external_id)}",
            account=account,
            store=store,
            needs=_write_scope(account),
            accept=frozenset({404}),
        )

    def find_part(
        self, request: PublishRequest, *, index: int, since: datetime, store: AccountStore
    ) -> Lookup:
        """An organization's posts made since the attempt began, newest first, searched for
        the part's commentary; for a member, the post sent again (the module's docstring)."""
        account = request.account
        author = _author(account)
        if author.startswith(MEMBER_PREFIX):
            return self._member_lookup(request, since=since, store=store)
        start = since - CLOCK_SKEW
        try:
            answer = self.client.call(
                "GET",
                "/rest/posts",
                account=account,
                store=store,
                params={
                    "q": "author",
                    "author": author,
                    "count": LOOKUP_LIMIT,
                    "sortBy": "CREATED",
                },
                needs="r_organization_social",
            )
        except PublishError as error:
            return Lookup(presence=Presence.UNKNOWN, reason=f"LinkedIn answered: {error.message}")
        posts = (answer.body or {}).get("elements", [])
        wanted = little_text(request.parts[index].text)
        for post in posts:
            if _made_at(post) >= start and post.get("commentary", "") == wanted:
                return Lookup(presence=Presence.FOUND, external_id=str(post["id"]))
        if len(posts) < LOOKUP_LIMIT or (posts and _made_at(posts[-1]) < start):
            return Lookup(presence=Presence.ABSENT)
        return Lookup(
            presence=Presence.UNKNOWN,
            reason=f"the organization posted more than {LOOKUP_LIMIT} times since the attempt",
        )

    def _member_lookup(
        self, request: PublishRequest, *, since: datetime, store: AccountStore
    ) -> Lookup:
        """Send the member's post again and read LinkedIn's answer (see the docstring)."""

        def unknown(why: str) -> Lookup:
            return Lookup(presence=Presence.UNKNOWN, reason=MEMBER_LOOKUP_REASON.format(why=why))

        if not settings.LINKEDIN_MEMBER_DUPLICATE_PROBE:
            return unknown(
                "LINKEDIN_MEMBER_DUPLICATE_PROBE is off (sending the post again to ask "
                "LinkedIn's duplicate check is the operator's choice)"
            )
        if not little_text(request.parts[0].text).strip():
            return unknown("LinkedIn's duplicate check, which Kairos asks instead, is of words")
        if datetime.now(UTC) - since > DUPLICATE_PROBE_WINDOW:
            return unknown(
                "it is too long since the attempt to ask LinkedIn's duplicate check safely"
            )
        try:
            made = self._post(request, store=store, on_media_uploaded=None)
        except PublishError as error:
            repeated = (
                error.details.get(DUPLICATE_OF, "") if error.kind is ErrorKind.DUPLICATE else ""
            )
            if not repeated:
                return unknown(f"LinkedIn's answer to the post sent again was “{error.message}”")
            made_at = made_at_of(repeated)
            if made_at is None:
                return unknown(f"the post {repeated} it names does not say when it was made")
            if made_at >= since - CLOCK_SKEW:
                return Lookup(presence=Presence.FOUND, external_id=repeated)
            return Lookup(presence=Presence.ABSENT)
        return Lookup(presence=Presence.FOUND, external_id=made)

    def post_url(self, *, account: Account, external_id: str) -> str:
        return f"https://www.linkedin.com/feed/update/{external_id}/"

    def metrics_fetch(
        self, *, account: Account, external_ids: Sequence[str], store: AccountStore
    ) -> MetricsReading:
        """Likes and comments of each post (socialActions); also its impressions and
        reposts where LinkedIn gives them: an organization's share statistics (with
        clicks), a member's post analytics."""
        counts: dict[str, dict[str, Any]] = {}
        gone = set()
        for urn in external_ids:
            answer = self.client.call(
                "GET",
                f"/rest/socialActions/{urn_path(urn)}",
                account=account,
                store=store,
                needs=_read_scope(account),
                accept=frozenset({404}),
            )
            if answer.status == 404:
                gone.add(urn)
            else:
                counts[urn] = answer.body or {}
        if _author(account).startswith(MEMBER_PREFIX):
            statistics = self._member_analytics(account=account, store=store, urns=list(counts))
        else:
            statistics = self._share_statistics(account=account, store=store, urns=list(counts))
        metrics = {}
        for urn, actions in counts.items():
            shared = statistics.get(urn, {})
            metrics[urn] = PostMetrics(
                likes=(actions.get("likesSummary") or {}).get("totalLikes"),
                replies=(actions.get("commentsSummary") or {}).get("totalFirstLevelComments"),
                impressions=shared.get("impressionCount"),
                reposts=shared.get("shareCount"),
                link_clicks=shared.get("clickCount"),
                raw={"social_actions": actions, "share_statistics": shared},
            )
        return MetricsReading(metrics=metrics, gone=frozenset(gone))

    def _member_analytics(
        self, *, account: Account, store: AccountStore, urns: list[str]
    ) -> dict[str, dict[str, Any]]:
        """A member's impressions, members reached and reposts per post
        (memberCreatorPostAnalytics, one count per call), under the names an
        organization's share statistics use; nothing when LinkedIn will not say (the
        sign-in lacks r_member_postAnalytics)."""
        statistics: dict[str, dict[str, Any]] = {}
        for urn in urns:
            kind = "ugc" if urn.startswith("urn:li:ugcPost:") else "share"
            counts = statistics[urn] = {}
            for metric, name in MEMBER_ANALYTICS.items():
                query = urlencode({"q": "entity", "queryType": metric, "aggregation": "TOTAL"})
                try:
                    answer = self.client.call(
                        "GET",
                        f"/rest/memberCreatorPostAnalytics?{query}&entity=({kind}:{urn_path(urn)})",
                        account=account,
                        store=store,
                        needs="r_member_postAnalytics",
                    )
                except PublishError as error:
                    if error.kind.retryable:
                        raise
                    return {}
                elements = (answer.body or {}).get("elements") or [{}]
                counts[name] = elements[0].get("count")
        return statistics

    def profile_fetch(self, *, account: Account, store: AccountStore) -> Profile:
        author = _author(account)
        if author.startswith(MEMBER_PREFIX):
            me = self.client.call("GET", "/v2/userinfo", account=account, store=store).body or {}
            return Profile(
                external_id=author,
                handle=me.get("name", ""),
                display_name=me.get("name", ""),
                avatar_url=me.get("picture", "") or "",
            )
        for profile in organizations_administered(account.credentials.get("access_token", "")):
            if profile.external_id == author:
                return profile
        raise PublishError(
            kind=ErrorKind.FORBIDDEN,
            message=f"The member who connected {account} no longer administers it on LinkedIn; "
            f"reconnect it ({RECONNECT}) as one of its administrators.",
        )

    def sign_in_renewable(self, account: Account) -> bool:
        """Only partner apps get refresh tokens: other sign-ins end after their 60 days."""
        return bool(account.credentials.get("refresh_token"))

    def credentials_fresh(self, *, account: Account, store: AccountStore) -> None:
        """Renew a partner app's access before it lapses; without a refresh token there is
        nothing to do before then (staff are told when to reconnect)."""
        if not account.credentials.get("refresh_token"):
            return
        try:
            store.credentials_renew(account=account, renew=renewal_if_expiring(REFRESH_BEFORE))
        except CredentialsRefused:
            raise PublishError(
                kind=ErrorKind.AUTH_EXPIRED,
                message=f"LinkedIn would not renew the sign-in of {account}; reconnect it "
                f"({RECONNECT}).",
                details={ACCOUNT_NEEDS_REAUTH: True},
            ) from None

    def connect_start(
        self, *, state_for: Callable[[str], str], server: str = "", apps: AppRegistry | None = None
    ) -> str:
        # No PKCE verifier to keep: LinkedIn's code exchange is authenticated by the secret.
        return authorization_url(state=state_for(""))

    def connect_choices(self, *, code: str, verifier: str) -> tuple[Connection, ...]:
        """The member, and each organization they may post for."""
        return connections_of(code_exchange(code=code))

    # --- Steps --------------------------------------------------------------------

    def _post(
        self,
        request: PublishRequest,
        *,
        store: AccountStore,
        on_media_uploaded: MediaUploaded | None,
    ) -> str:
        account = request.account
        part = request.parts[0]
        files = [
            (
                self.media.urn(
                    request,
                    media,
                    author=_author(account),
                    write_scope=_write_scope(account),
                    store=store,
                    on_uploaded=on_media_uploaded,
                ),
                media,
            )
            for media in part.media
        ]
        body: dict[str, Any] = {
            "author": _author(account),
            "commentary": little_text(part.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        shown = [_media_entry(urn, media) for urn, media in files]
        if len(shown) == 1:
            body["content"] = {"media": shown[0]}
        elif shown:
            body["content"] = {"multiImage": {"images": shown}}
        answer = self.client.call(
            "POST",
            "/rest/posts",
            account=account,
            store=store,
            body=body,
            needs=_write_scope(account),
            creates_post=True,
        )
        urn = answer.headers.get("x-restli-id", "")
        if not urn:
            raise PublishError(
                kind=ErrorKind.SERVER,
                message=f"LinkedIn answered {answer.status} without naming the post it made.",
                http_status=answer.status,
                maybe_accepted=True,
            )
        return urn

    def _share_statistics(
        self, *, account: Account, store: AccountStore, urns: list[str]
    ) -> dict[str, dict[str, Any]]:
        """An organization's totals per post; nothing for a member, or when LinkedIn will
        not say (the app lacks rw_organization_admin)."""
        author = _author(account)
        if author.startswith(MEMBER_PREFIX) or not urns:
            return {}
        try:
            answer = self.client.call(
                "GET",
                "/rest/organizationalEntityShareStatistics",
                account=account,
                store=store,
                params={
                    "q": "organizationalEntity",
                    "organizationalEntity": author,
                    "shares": f"List({','.join(urns)})",
                },
                needs="rw_organization_admin",
            )
        except PublishError as error:
            if error.kind.retryable:
                raise
            return {}
        return {
            element["share"]: element.get("totalShareStatistics") or {}
            for element in (answer.body or {}).get("elements", [])
            if "share" in element
        }


# What a member's post analytics are asked for (queryType), under the names of an
# organization's share statistics.
MEMBER_ANALYTICS = {
    "IMPRESSION": "impressionCount",
    "MEMBERS_REACHED": "uniqueImpressionsCount",
    "RESHARE": "shareCount",
}


def _author(account: Account) -> str:
    return account.credentials.get("author") or account.external_id


def _write_scope(account: Account) -> str:
    member = _author(account).startswith(MEMBER_PREFIX)
    return (
        "w_member_social (Share on LinkedIn)"
        if member
        else ("w_organization_social (Community Management API)")
    )


def _read_scope(account: Account) -> str:
    member = _author(account).startswith(MEMBER_PREFIX)
    return "w_member_social" if member else "r_organization_social"


def _media_entry(urn: str, media: MediaFile) -> dict[str, str]:
    entry = {"id": urn}
    if media.alt_text and media.kind is not MediaKind.VIDEO:
        entry["altText"] = media.alt_text
    return entry


def _made_at(post: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(post.get("createdAt", 0)) / 1000, UTC)


def made_at_of(urn: str) -> datetime | None:
    """When the post `urn` was made, from its id; None when the id does not say."""
    number = urn.rsplit(":", 1)[-1]
    if not number.isdigit():
        return None
    milliseconds = int(number) >> ID_TIME_SHIFT
    latest = datetime.now(UTC) + CLOCK_SKEW
    if not ID_TIME_FLOOR.timestamp() * 1000 <= milliseconds <= latest.timestamp() * 1000:
        return None
    return datetime.fromtimestamp(milliseconds / 1000, UTC)
