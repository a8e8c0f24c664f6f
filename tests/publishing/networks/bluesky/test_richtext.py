"""Links, mentions and tags as facets over UTF-8 byte offsets."""

from publishing.networks.bluesky.richtext import facets, graphemes, handles


def spans_of(text, dids=None):
    encoded = text.encode()
    return [
        (
            encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(),
            f["features"][0]["$type"].rsplit("#", 1)[-1],
        )
        for f in facets(text, dids=dids or {})
    ]


def test_offsets_are_bytes_not_characters():
    text = "✨ Ünïcode https://example.com"
    [facet] = facets(text, dids={})
    # The link starts at character 10 and at byte 14: ✨ takes 3 bytes, Ü and ï 2 each.
    assert text.index("https") == 10
    assert facet["index"] == {"byteStart": 14, "byteEnd": 33}


def test_sentence_punctuation_is_not_part_of_a_link_or_tag():
    text = "See (https://example.com/a?b=1), then #launch! Or #2026."
    assert spans_of(text) == [("https://example.com/a?b=1", "link"), ("#launch", "tag")]


def test_a_mention_needs_a_handle_that_resolved():
    text = "Thanks @alice.bsky.social and @bob.example, not me@mail.com"
    assert handles(text) == {"alice.bsky.social", "bob.example"}
    assert spans_of(text, {"alice.bsky.social": "did:plc:alice"}) == [
        ("@alice.bsky.social", "mention")
    ]


def test_graphemes_count_what_people_see():
    assert graphemes("👩‍👩‍👧🇫🇷e\u0301") == 3
