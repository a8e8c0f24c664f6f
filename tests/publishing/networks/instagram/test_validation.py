"""What Instagram refuses, as a pure function: no call, no store."""

from publishing.networks.base import Account, MediaFile, MediaKind, PartContent
from publishing.networks.instagram import InstagramAdapter

ACCOUNT = Account(id=2, network="instagram", handle="bakery")
PHOTO = MediaFile(asset_id=1, kind=MediaKind.IMAGE, mime_type="image/jpeg", size_bytes=1000)


def problems(*parts):
    return InstagramAdapter().validate(account=ACCOUNT, parts=parts)


def test_a_photo_with_a_caption_is_fine():
    assert problems(PartContent("Sourdough", media=(PHOTO,))) == []


def test_instagram_needs_media():
    [problem] = problems(PartContent("Words alone"))

    assert "need a photo or a video" in problem


def test_the_caption_is_at_most_2200_characters():
    [problem] = problems(PartContent("a" * 2201, media=(PHOTO,)))

    assert "2,200" in problem and "Shorten it by 1" in problem


def test_hashtags_and_mentions_are_counted():
    tags = " ".join(f"#tag{i}" for i in range(31))
    mentions = " ".join(f"@user{i}" for i in range(21))

    assert "30 hashtags" in problems(PartContent(tags, media=(PHOTO,)))[0]
    assert "20 @mentions" in problems(PartContent(mentions, media=(PHOTO,)))[0]


def test_a_carousel_holds_at_most_ten():
    files = tuple(MediaFile(i, MediaKind.IMAGE, "image/jpeg", 1000) for i in range(11))

    assert "Remove 1" in problems(PartContent("x", media=files))[0]


def test_only_jpeg_photos_and_short_enough_reels():
    png = MediaFile(1, MediaKind.IMAGE, "image/png", 1000)
    gif = MediaFile(2, MediaKind.GIF, "image/gif", 1000)
    long_reel = MediaFile(3, MediaKind.VIDEO, "video/mp4", 1000, duration_ms=16 * 60 * 1000)

    assert "JPEG" in problems(PartContent("x", media=(png,)))[0]
    assert "JPEG" in problems(PartContent("x", media=(gif,)))[0]
    assert "3 seconds to 15 minutes" in problems(PartContent("x", media=(long_reel,)))[0]


def test_a_thread_is_refused():
    assert "one caption" in problems(PartContent("a", media=(PHOTO,)), PartContent("b"))[0]
