"""What X accepts: weighted length, media per post, and the same words on two accounts.

Length follows twitter-text config v3 (platforms.md §4) through `parse_tweet`,
which NFC-normalizes first, counts each URL as 23 and each emoji sequence and
CJK character as 2. Media rules are platforms.md §3.2. Sizes are in binary
megabytes, as X's own refusal counts them ("File size exceeds 5242880 bytes").
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.db.models import Q
from twitter_text import parse_tweet
from twitter_text.has_invalid_characters import has_invalid_characters

from accounts.models import SocialAccount
from posts.models import MediaAsset, Post
from publishing.models import JobStatus, PublishJob
from publishing.networks.base import PartContent
from scheduling.models import Schedule

STANDARD_MAX_WEIGHTED_LENGTH = 280
# Posts up to 25,000 characters can be made through the API by subscribers
# (changelog Aug 2024; that it is subscribers only is inferred, platforms.md §4).
LONG_POST_MAX_WEIGHTED_LENGTH = 25_000
LONG_POST_SUBSCRIPTIONS = frozenset({"Premium", "PremiumPlus"})

MB = 1024 * 1024
MAX_IMAGES = 4
MAX_BYTES = {
    MediaAsset.Kind.IMAGE: 5 * MB,
    MediaAsset.Kind.GIF: 15 * MB,
    MediaAsset.Kind.VIDEO: 512 * MB,
}
MEDIA_TYPES = {
    MediaAsset.Kind.IMAGE: frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
    MediaAsset.Kind.GIF: frozenset({"image/gif"}),
    MediaAsset.Kind.VIDEO: frozenset({"video/mp4", "video/quicktime"}),
}
ALT_TEXT_MAX_LENGTH = 1000

# X's automation rules forbid posting the same content from several accounts, and
# its spam filter is not documented, so "at the same time" is our choice: five
# minutes either side covers dispatch lag and a job's first two retries (1 and 2
# minutes of backoff), while the same announcement an hour apart stays allowed.
IDENTICAL_TEXT_WINDOW = timedelta(minutes=5)
# When a job's post goes (or went) out: a queued or running job is going out now,
# which is when it was last moved.
_JOB_INSTANTS = {
    JobStatus.PENDING: "next_attempt_at",
    JobStatus.QUEUED: "updated_at",
    JobStatus.RUNNING: "updated_at",
    JobStatus.PUBLISHED: "published_at",
}


def max_weighted_length(account: SocialAccount) -> int:
    if account.subscription_type in LONG_POST_SUBSCRIPTIONS:
        return LONG_POST_MAX_WEIGHTED_LENGTH
    return STANDARD_MAX_WEIGHTED_LENGTH


def x_content_problems(*, account: SocialAccount, parts: tuple[PartContent, ...]) -> list[str]:
    """What X would refuse in these parts for this account, as sentences saying what to change."""
    limit = max_weighted_length(account)
    problems = []
    for number, part in enumerate(parts, start=1):
        if not part.text.strip() and not part.media:
            problems.append(f"Part {number} is empty; X needs text or media.")
        if part.text:
            problems += _text_problems(number, part.text, limit=limit)
        problems += _media_problems(number, part.media)
    return problems


def _text_problems(number: int, text: str, *, limit: int) -> list[str]:
    problems = []
    weighted = parse_tweet(text).weightedLength
    if weighted > limit:
        problems.append(
            f"Part {number} counts {weighted:,} of X's {limit:,} characters (links count 23, "
            f"emoji and CJK count 2); shorten it by {weighted - limit:,} or split it into a "
            "thread."
        )
    if has_invalid_characters(unicodedata.normalize("NFC", text)):
        problems.append(
            f"Part {number} contains an invisible character X refuses (U+FEFF, U+FFFE or "
            "U+FFFF, often pasted from another program); retype the text around it."
        )
    return problems


def _media_problems(number: int, media: tuple[MediaAsset, ...]) -> list[str]:
    problems = []
    kinds = [asset.kind for asset in media]
    singles = [kind for kind in kinds if kind != MediaAsset.Kind.IMAGE]
    if singles and len(media) > 1:
        problems.append(
            f"Part {number} has a {MediaAsset.Kind(singles[0]).label.lower()} and "
            f"{len(media) - 1} other file(s); X takes one GIF alone, one video alone, or up to "
            f"{MAX_IMAGES} images. Move the others to another part."
        )
    elif len(media) > MAX_IMAGES:
        problems.append(
            f"Part {number} has {len(media)} images; X takes at most {MAX_IMAGES}. Move "
            f"{len(media) - MAX_IMAGES} to another part."
        )
    for asset in media:
        kind = MediaAsset.Kind(asset.kind)
        name = f"Part {number}'s {kind.label.lower()} {asset}"
        if asset.size_bytes > MAX_BYTES[kind]:
            problems.append(
                f"{name} is {_megabytes(asset.size_bytes)} MB; X takes {kind.label.lower()}s up to "
                f"{MAX_BYTES[kind] // MB} MB. Compress it or choose a smaller file."
            )
        if asset.mime_type not in MEDIA_TYPES[kind]:
            accepted = ", ".join(sorted(MEDIA_TYPES[kind]))
            problems.append(
                f"{name} is {asset.mime_type}; X takes {kind.label.lower()}s as {accepted}. "
                "Convert it."
            )
        if len(asset.alt_text) > ALT_TEXT_MAX_LENGTH:
            problems.append(
                f"{name} has {len(asset.alt_text):,} characters of alt text; X takes up to "
                f"{ALT_TEXT_MAX_LENGTH:,}. Shorten it."
            )
    return problems


def _megabytes(size: int) -> str:
    # Rounded up, so a file just over the limit never reads as the limit itself.
    return f"{math.ceil(size * 10 / MB) / 10:.1f}"


# --- The same words from two X accounts ------------------------------------------------


def x_identical_text_conflicts(*, post: Post, at: datetime) -> list[str]:
    """Other X accounts set to publish any of this post's texts within minutes of `at`.

    Looks at every workspace of this Kairos, because X judges the accounts, not our
    workspaces: other posts' schedules and jobs waiting or published near `at`, and
    this post's own X accounts among themselves. One account repeating itself is X's
    duplicate rule, checked elsewhere. Accounts of other workspaces are not named.
    """
    ours = dict(_rendered_for_x(post=post, at=at))
    problems = []
    accounts = list(ours)
    for position, account in enumerate(accounts):
        for other in accounts[position + 1 :]:
            if ours[account] & ours[other]:
                problems.append(
                    f"{account} and {other} would publish the same text at the same time; X "
                    "forbids identical posts from several accounts. Give one of them its own "
                    "text."
                )
    for other_post, other_account, when, texts in _x_planned_near(post=post, at=at):
        for account, our_texts in ours.items():
            if account.pk == other_account.pk or not our_texts & texts:
                continue
            if other_account.workspace_id == post.workspace_id:
                whom = f"{other_account} (post #{other_post.pk} at {when:%H:%M} UTC)"
            else:
                whom = "an X account of another workspace"
            problems.append(
                f"{account} would publish the same text as {whom}, less than "
                f"{IDENTICAL_TEXT_WINDOW.seconds // 60} minutes apart; X forbids identical "
                "posts from several accounts. Change the text or move the time."
            )
    return problems


def _comparable(parts: tuple[PartContent, ...]) -> frozenset[str]:
    return frozenset(
        " ".join(unicodedata.normalize("NFC", part.text).split())
        for part in parts
        if part.text.strip()
    )


def _rendered_for_x(
    *, post: Post, at: datetime, number: int | None = None
) -> Iterator[tuple[SocialAccount, frozenset[str]]]:
    # publishing.services imports the adapters, and through them this module.
    from publishing.services import Occurrence, post_content_for, post_zone

    if number is None:
        schedule = Schedule.objects.filter(post=post).only("occurrence_count").first()
        number = schedule.occurrence_count + 1 if schedule else 1
    occurrence = Occurrence(at=at, number=number, zone=post_zone(post=post))
    for target in post.targets.filter(account__network=SocialAccount.Network.X).select_related(
        "account"
    ):
        content = post_content_for(post=post, target=target, occurrence=occurrence)
        yield target.account, _comparable(content)


def _x_planned_near(
    *, post: Post, at: datetime
) -> Iterator[tuple[Post, SocialAccount, datetime, frozenset[str]]]:
    """Other posts going to (or just gone to) X accounts within the window of `at`."""
    around = (at - IDENTICAL_TEXT_WINDOW, at + IDENTICAL_TEXT_WINDOW)
    schedules = Schedule.objects.filter(
        status=Schedule.Status.ACTIVE,
        next_occurrence_at__range=around,
        post__deleted_at__isnull=True,
        post__targets__account__network=SocialAccount.Network.X,
    ).exclude(post=post)
    for schedule in schedules.select_related("post").distinct():
        when = schedule.next_occurrence_at
        for account, texts in _rendered_for_x(
            post=schedule.post, at=when, number=schedule.occurrence_count + 1
        ):
            yield schedule.post, account, when, texts

    timed = Q()
    for status, field in _JOB_INSTANTS.items():
        timed |= Q(status=status, **{f"{field}__range": around})
    jobs = (
        PublishJob.objects.filter(timed, account__network=SocialAccount.Network.X)
        .exclude(post=post)
        .select_related("post", "account")
    )
    for job in jobs:
        rendered = dict(
            _rendered_for_x(post=job.post, at=job.occurrence_at, number=job.occurrence_number)
        )
        if job.account in rendered:
            when = getattr(job, _JOB_INSTANTS[job.status])
            yield job.post, job.account, when, rendered[job.account]
