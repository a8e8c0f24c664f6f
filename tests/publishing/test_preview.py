"""publishing/preview.py and the adapters' text_length / text_limit: the composer's count
is the one each network's validate holds against its limit."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from publishing.networks import adapters
from publishing.networks.base import Account, PartContent
from publishing.preview import DraftPart, draft_preview
from tests.factories import SandboxAccountFactory

# Counted differently by each network: a link (23 on X and Mastodon), an emoji
# (2 on X, 1 grapheme elsewhere), an accented letter typed as two code points.
SAMPLE = "Café\u0301 🎉 https://example.com/a/long/path/to/the/launch/page"


@pytest.mark.parametrize("adapter", adapters(), ids=lambda adapter: adapter.network)
def test_each_networks_count_is_the_one_its_validator_holds_to_its_limit(adapter):
    account = Account(id=1, network=adapter.network, handle="brand")
    limit = adapter.text_limit(account=account)
    if limit is None:
        pytest.skip(f"{adapter.label} names no limit")
    length = adapter.text_length(account=account, text=SAMPLE)
    # After a space, so the letters do not lengthen the link.
    at_limit = f"{SAMPLE} " + "a" * (limit - length - 1)
    over = at_limit + "a"

    assert adapter.text_length(account=account, text=at_limit) == limit
    assert adapter.text_length(account=account, text=over) == limit + 1

    def problems(text: str) -> set[str]:
        return set(adapter.validate(account=account, parts=(PartContent(text=text),)))

    # Whatever else the network asks of a post (Instagram: a photo), the length adds
    # nothing at the limit and a problem one past it.
    assert problems(at_limit) == problems("a")
    assert problems(over) - problems("a")


@pytest.mark.django_db
def test_a_draft_is_previewed_with_its_first_occurrences_variables_filled_in():
    account = SandboxAccountFactory()
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)

    (preview,) = draft_preview(
        accounts=[account],
        parts=[DraftPart(text="Day {n}: {weekday}"), DraftPart(text="More")],
        own_texts={},
        variants=["Other words"],
        zone=ZoneInfo("Asia/Tokyo"),
        now=now,
    )

    assert [part.text for part in preview.parts] == ["Day 1: Monday", "More"]
    assert (preview.limit, preview.over_limit, preview.problems) == (5000, False, ())
