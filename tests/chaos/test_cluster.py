"""The chaos cluster's choices before anything starts: one fake per company, and a web
process only for networks that download media from Kairos."""

import dataclasses
from pathlib import Path

import pytest

from chaos.cluster import Cluster
from chaos.networks import NETWORKS


def _cluster(*names: str, networks=None) -> Cluster:
    chosen = [NETWORKS[name] for name in names] if networks is None else networks
    return Cluster(Path("/nonexistent"), workers=1, concurrency=1, beats=1, networks=chosen)


def test_facebook_and_instagram_share_meta_and_only_instagram_needs_the_web():
    assert NETWORKS["facebook"].fake_name == NETWORKS["instagram"].fake_name == "meta"
    assert [name for name, net in NETWORKS.items() if net.downloads_media] == ["instagram"]
    assert {net.fake_name for net in NETWORKS.values()} == {
        "x",
        "mastodon",
        "bluesky",
        "meta",
        "linkedin",
    }


def test_networks_sharing_a_fake_must_fault_the_same_calls():
    odd = dataclasses.replace(NETWORKS["instagram"], create_path="/media_publish")

    with pytest.raises(ValueError, match="shares the fake 'meta'"):
        _cluster(networks=[NETWORKS["facebook"], odd])
