"""Simulated engagement for sandbox posts, so demos have numbers to chart.

Made up, and labelled so (`raw["simulated"]`, and the adapter's `metrics_simulated`,
which analytics uses to keep these numbers apart from real networks'). Deterministic:
a post's numbers depend only on its id and its age, so every reading of the same post
at the same age agrees, and the numbers only grow as the post ages.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

from publishing.networks.base import PostMetrics

# Hours after which a post has reached about 63 % of the audience it will ever reach.
GROWTH_HOURS = 6.0


def sandbox_metrics(*, post_id: str, age: timedelta) -> PostMetrics:
    """The simulated numbers of sandbox post `post_id` at `age` after it was made."""
    seed = random.Random(f"kairos-sandbox-metrics:{post_id}")
    reach = seed.randint(300, 6000)
    rates = {
        "likes": seed.uniform(0.01, 0.06),
        "replies": seed.uniform(0.001, 0.008),
        "reposts": seed.uniform(0.002, 0.015),
        "quotes": seed.uniform(0.0, 0.003),
        "bookmarks": seed.uniform(0.0, 0.005),
        "link_clicks": seed.uniform(0.002, 0.02),
        "profile_clicks": seed.uniform(0.001, 0.01),
    }
    hours = max(age.total_seconds(), 0) / 3600
    impressions = math.floor(reach * (1 - math.exp(-hours / GROWTH_HOURS)))
    counts = {name: math.floor(impressions * rate) for name, rate in rates.items()}
    return PostMetrics(
        impressions=impressions,
        engagements=sum(counts.values()),
        raw={"simulated": True},
        **counts,
    )
