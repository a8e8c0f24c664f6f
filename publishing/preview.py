"""What a post being composed will look like on each account, counted and judged as the
worker will: the composer's live counter and preview (posts/admin.py asks as the person
types).

Nothing here is a second rule. The parts an account receives come from
`services.content_render` (its own text for part 1, the occurrence's variables filled
in), the worker's function; their length is the adapter's `text_length` held against its
`text_limit`, and what the network would refuse is the adapter's `validate`, whose
sentences name the rule. A network added later is previewed through the same interface.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from accounts.models import SocialAccount
from publishing.networks import adapter_for
from publishing.networks.base import MediaFile
from publishing.services import Occurrence, content_render
from publishing.stores import account_snapshot


@dataclass(frozen=True)
class DraftPart:
    """A part as the composer holds it: its text and the library files chosen for it."""

    text: str
    media: tuple[MediaFile, ...] = ()


@dataclass(frozen=True)
class PartPreview:
    text: str
    # As the network counts it (X: weighted, links 23, emoji 2).
    length: int
    media: tuple[MediaFile, ...]


@dataclass(frozen=True)
class AccountPreview:
    account_id: int
    name: str
    handle: str
    display_name: str
    network: str
    network_label: str
    # The most a part may count on this account; None when the network sets none known.
    limit: int | None
    own_text: bool
    parts: tuple[PartPreview, ...]
    problems: tuple[str, ...]

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and any(part.length > self.limit for part in self.parts)


def draft_preview(
    *,
    accounts: Sequence[SocialAccount],
    parts: Sequence[DraftPart],
    own_texts: Mapping[int, str],
    variants: Sequence[str],
    zone: ZoneInfo,
    now: datetime,
) -> list[AccountPreview]:
    """Each account's view of the draft as its first occurrence would send it `now`."""
    occurrence = Occurrence(at=now, number=1, zone=zone)
    previews = []
    for account in accounts:
        adapter = adapter_for(account.network)
        snapshot = account_snapshot(account)
        own_text = own_texts.get(account.pk, "").strip()
        content = content_render(
            texts=[part.text for part in parts],
            media=[part.media for part in parts],
            own_text=own_text,
            variants=variants,
            occurrence=occurrence,
        )
        previews.append(
            AccountPreview(
                account_id=account.pk,
                name=str(account),
                handle=account.handle,
                display_name=account.display_name,
                network=account.network,
                network_label=adapter.label,
                limit=adapter.text_limit(account=snapshot),
                own_text=bool(own_text),
                parts=tuple(
                    PartPreview(
                        text=part.text,
                        length=adapter.text_length(account=snapshot, text=part.text),
                        media=part.media,
                    )
                    for part in content
                ),
                problems=tuple(adapter.validate(account=snapshot, parts=content)),
            )
        )
    return previews
