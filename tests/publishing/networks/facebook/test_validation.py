"""What a Facebook Page refuses, as a pure function: no call, no store."""

from publishing.networks.base import Account, MediaFile, MediaKind, PartContent
from publishing.networks.facebook import FacebookAdapter

ACCOUNT = Account(id=1, network="facebook", handle="Bakery")


def problems(*parts):
    return FacebookAdapter().validate(account=ACCOUNT, parts=parts)


def media(asset_id, kind=MediaKind.IMAGE, mime_type="image/jpeg", size=1000):
    return MediaFile(asset_id=asset_id, kind=kind, mime_type=mime_type, size_bytes=size)


def test_words_alone_are_fine():
    assert problems(PartContent("Fresh bread")) == []


def test_an_empty_post_is_refused():
    assert problems(PartContent("  ")) == ["A Facebook post needs words, a photo or a video."]


def test_text_over_the_limit_says_by_how_much():
    [problem] = problems(PartContent("a" * 63_210))

    assert "Shorten it by 4" in problem


def test_a_thread_is_refused():
    [problem] = problems(PartContent("one"), PartContent("two"))

    assert "one part" in problem


def test_photos_and_a_video_do_not_mix_and_photos_are_counted():
    video = media(1, MediaKind.VIDEO, "video/mp4")
    assert "one video alone" in problems(PartContent("x", media=(video, media(2))))[0]
    [too_many] = problems(PartContent("x", media=tuple(media(i) for i in range(11))))
    assert "Remove 1" in too_many


def test_kinds_and_sizes_are_checked():
    assert problems(PartContent("x", media=(media(1, mime_type="image/webp"),)))
    assert problems(PartContent("x", media=(media(1, size=11 * 1024 * 1024),)))
    assert problems(PartContent("x", media=(media(1, MediaKind.VIDEO, "video/webm"),)))


def test_a_video_is_taken_up_to_ten_gigabytes_and_240_minutes():
    gigabyte = 1024 * 1024 * 1024

    def video(size, minutes=10):
        return MediaFile(
            asset_id=1,
            kind=MediaKind.VIDEO,
            mime_type="video/mp4",
            size_bytes=size,
            duration_ms=minutes * 60_000,
        )

    assert problems(PartContent("x", media=(video(10 * gigabyte, minutes=240),))) == []
    [too_large] = problems(PartContent("x", media=(video(10 * gigabyte + 1),)))
    [too_long] = problems(PartContent("x", media=(video(gigabyte, minutes=241),)))
    assert "10 GB" in too_large and "240 minutes" in too_long
