"""The sandbox's simulated numbers: the same for the same post and age, growing with age."""

import itertools
from datetime import timedelta

from publishing.networks.sandbox.metrics import sandbox_metrics


def test_the_same_post_at_the_same_age_has_the_same_numbers():
    assert sandbox_metrics(post_id="17", age=timedelta(hours=5)) == sandbox_metrics(
        post_id="17", age=timedelta(hours=5)
    )


def test_posts_differ_by_their_id():
    impressions = {
        sandbox_metrics(post_id=str(n), age=timedelta(days=2)).impressions for n in range(20)
    }
    assert len(impressions) > 10


def test_numbers_grow_with_age_and_start_at_nothing():
    ages = [
        timedelta(0),
        timedelta(hours=1),
        timedelta(hours=6),
        timedelta(days=1),
        timedelta(days=7),
    ]
    readings = [sandbox_metrics(post_id="42", age=age) for age in ages]
    assert readings[0].impressions == 0 and readings[0].likes == 0
    for earlier, later in itertools.pairwise(readings):
        assert later.impressions >= earlier.impressions
        assert later.likes >= earlier.likes
        assert later.engagements >= earlier.engagements
    assert readings[-1].impressions > readings[1].impressions


def test_they_are_labelled_simulated():
    assert sandbox_metrics(post_id="1", age=timedelta(hours=3)).raw == {"simulated": True}
