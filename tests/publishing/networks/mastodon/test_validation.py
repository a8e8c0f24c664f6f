"""What a Mastodon instance accepts, from the limits kept with the account's sign-in."""

from __future__ import annotations

from dataclasses import replace

from publishing.networks.base import MediaFile, MediaKind, PartContent
from publishing.networks.mastodon import MastodonAdapter
from publishing.networks.mastodon.validation import (
    CONFIGURATION_KEY,
    InstanceLimits,
    status_length,
)

MB = 1024 * 1024


def problems(account, *parts):
    return MastodonAdapter().validate(account=account, parts=tuple(parts))


def on_instance(account, **limits):
    stored = replace(InstanceLimits(), **limits).stored()
    return replace(account, credentials={**account.credentials, CONFIGURATION_KEY: stored})


def image(asset_id=1, *, size=MB, mime_type="image/png", alt_text=""):
    return MediaFile(
        asset_id=asset_id,
        kind=MediaKind.IMAGE,
        mime_type=mime_type,
        size_bytes=size,
        name=f"chart{asset_id}.png",
        alt_text=alt_text,
    )


def video(asset_id=9):
    return MediaFile(
        asset_id=asset_id,
        kind=MediaKind.VIDEO,
        mime_type="video/mp4",
        size_bytes=MB,
        name="clip.mp4",
    )


def test_length_counts_graphemes_links_as_23_and_remote_mentions_by_name():
    assert status_length("👩‍👩‍👧‍👦é", characters_per_url=23) == 2
    assert status_length("see https://example.com/" + "x" * 80, characters_per_url=23) == 27
    assert status_length("hi @alice@mastodon.social", characters_per_url=23) == 9


def test_the_instances_own_limit_applies(account):
    assert problems(account, PartContent(text="a" * 500)) == []
    assert problems(account, PartContent(text="a" * 501)) == [
        "Part 1 counts 501 of the instance's 500 characters (links count 23); shorten it by 1 "
        "or split it into a thread."
    ]
    assert problems(on_instance(account, max_characters=5000), PartContent(text="a" * 501)) == []


def test_an_empty_part_is_refused(account):
    assert problems(account, PartContent(text="  ")) == [
        "Part 1 is empty; Mastodon needs text or media."
    ]


def test_a_video_goes_alone_and_images_up_to_the_instances_count(account):
    assert problems(account, PartContent(text="", media=(video(), image()))) == [
        "Part 1 has a video and 1 other file(s); Mastodon takes a video or GIF alone. Move the "
        "others to another part."
    ]
    five = tuple(image(number) for number in range(5))
    assert problems(account, PartContent(text="", media=five)) == [
        "Part 1 has 5 files; the instance takes at most 4. Move 1 to another part."
    ]


def test_files_are_checked_against_the_instances_sizes_types_and_alt_text(account):
    limited = on_instance(account, image_size_limit=2 * MB, description_limit=10)
    found = problems(
        limited,
        PartContent(text="", media=(image(size=3 * MB, mime_type="image/bmp", alt_text="x" * 11),)),
    )
    assert found == [
        "Part 1's image chart1.png is 3.0 MB; the instance takes images up to 2.0 MB. Compress "
        "it or choose a smaller file.",
        "Part 1's image chart1.png is image/bmp, which the instance does not take. Convert it to "
        "JPEG, PNG or WebP (images) or MP4 (video).",
        "Part 1's image chart1.png has 11 characters of alt text; the instance takes up to 10. "
        "Shorten it.",
    ]


def test_limits_are_read_from_the_instances_configuration():
    answer = {
        "configuration": {
            "statuses": {"max_characters": 11000, "characters_reserved_per_url": 23},
            "media_attachments": {"supported_mime_types": ["image/png"], "image_size_limit": 5},
            "polls": {"max_options": 4},
        }
    }
    limits = InstanceLimits.from_instance(answer)
    assert (limits.max_characters, limits.image_size_limit) == (11000, 5)
    assert limits.supported_mime_types == ("image/png",)
    assert limits.max_media_attachments == 4
