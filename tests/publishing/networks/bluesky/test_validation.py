"""What Bluesky refuses, said before sending: pure, no network."""

from dataclasses import replace

from publishing.networks.base import Account, MediaFile, MediaKind, PartContent
from publishing.networks.bluesky import BlueskyAdapter

ACCOUNT = Account(id=1, network="bluesky", handle="brand.bsky.social")


def problems(*parts):
    return BlueskyAdapter().validate(account=ACCOUNT, parts=tuple(parts))


def media(kind=MediaKind.IMAGE, mime_type="image/jpeg", size=500_000, asset_id=1):
    return MediaFile(asset_id=asset_id, kind=kind, mime_type=mime_type, size_bytes=size)


def test_300_graphemes_pass_and_301_do_not():
    # A family emoji is five code points and one grapheme; an e with its accent, two.
    assert problems(PartContent(text="👩‍👩‍👧" * 100 + "e\u0301" * 200)) == []
    assert problems(PartContent(text="a" * 301)) == [
        "Part 1 has 301 of Bluesky's 300 characters; shorten it by 1 or split it into a thread."
    ]


def test_the_byte_limit_counts_utf8():
    [problem] = problems(PartContent(text="👩‍👩‍👧" * 170))
    assert problem.startswith("Part 1 takes 3060 of Bluesky's 3000 bytes")


def test_an_empty_part_needs_text_or_an_image():
    assert problems(PartContent(text=" ")) == [
        "Part 1 is empty; write something or attach an image."
    ]
    assert problems(PartContent(text="", media=(media(),))) == []


def test_up_to_four_images_of_a_million_bytes():
    four = tuple(media(asset_id=n) for n in range(4))
    assert problems(PartContent(text="ok", media=four)) == []
    [too_many] = problems(PartContent(text="ok", media=(*four, media(asset_id=5))))
    assert "Bluesky takes at most 4" in too_many
    [too_big] = problems(PartContent(text="ok", media=(media(size=1_000_001),)))
    assert "1,000,001 bytes" in too_big and "at most 1,000,000" in too_big


def test_one_mp4_video_alone_and_no_gif():
    video = media(kind=MediaKind.VIDEO, mime_type="video/mp4", size=50_000_000)
    assert problems(PartContent(text="", media=(video,))) == []
    found = problems(
        PartContent(text="", media=(video, media(asset_id=2))),
        PartContent(text="", media=(replace(video, mime_type="video/quicktime"),)),
        PartContent(text="", media=(replace(video, size_bytes=100_000_001),)),
        PartContent(text="", media=(media(kind=MediaKind.GIF, mime_type="image/gif"),)),
        PartContent(text="", media=(media(mime_type="image/heic"),)),
    )
    assert [problem.split(":")[0].split(" has")[0] for problem in found] == [
        f"Part {n}" for n in range(1, 6)
    ]
    assert "one video alone" in found[0]
    assert "takes MP4 videos" in found[1]
    assert "at most 100,000,000" in found[2]
    assert "cannot post a GIF" in found[3]
    assert "convert it" in found[4]
