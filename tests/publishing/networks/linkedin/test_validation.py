"""What LinkedIn refuses, said before anything is sent; and the commentary's escaping."""

from publishing.networks.base import MediaFile, MediaKind, PartContent
from publishing.networks.linkedin.validation import linkedin_content_problems, little_text


def image(n=1, mime="image/png"):
    return MediaFile(asset_id=n, kind=MediaKind.IMAGE, mime_type=mime, size_bytes=1000)


def test_reserved_characters_are_escaped_and_hashtags_kept():
    assert little_text("Sale (today) #bread @ 9_00 & more") == (
        r"Sale \(today\) #bread \@ 9\_00 & more"
    )
    assert little_text("back\\slash # alone") == r"back\\slash \# alone"


def test_three_thousand_characters_count_the_escapes():
    assert linkedin_content_problems((PartContent("x" * 3000),)) == []
    [problem] = linkedin_content_problems((PartContent("x" * 2999 + "()"),))
    assert "3,003" in problem and "backslashes" in problem


def test_up_to_twenty_images_of_the_kinds_linkedin_takes():
    assert linkedin_content_problems((PartContent("hi", tuple(image(n) for n in range(20))),)) == []
    [too_many] = linkedin_content_problems((PartContent("hi", tuple(image(n) for n in range(21))),))
    [webp] = linkedin_content_problems((PartContent("hi", (image(mime="image/webp"),)),))
    assert "at most 20" in too_many and "image/webp" in webp


def video(n=9, *, mime="video/mp4", size=200_000, seconds=12.0):
    return MediaFile(
        asset_id=n,
        kind=MediaKind.VIDEO,
        mime_type=mime,
        size_bytes=size,
        duration_ms=int(seconds * 1000),
    )


def test_one_part_with_words_an_image_or_a_video():
    assert linkedin_content_problems((PartContent(""),)) == [
        "A LinkedIn post needs words, an image or a video."
    ]
    assert "one part" in linkedin_content_problems((PartContent("a"), PartContent("b")))[0]
    assert linkedin_content_problems((PartContent("", (video(),)),)) == []


def test_one_mp4_video_alone_within_linkedins_sizes_and_lengths():
    def problems(*media):
        return linkedin_content_problems((PartContent("clip", media),))

    assert "one video alone" in problems(video(), image())[0]
    assert "one video alone" in problems(video(1), video(2))[0]
    assert "MP4" in problems(video(mime="video/quicktime"))[0]
    assert "75 KB" in problems(video(size=70 * 1024))[0]
    assert "500 MB" in problems(video(size=500 * 1024 * 1024 + 1))[0]
    assert "3 s or more" in problems(video(seconds=2.5))[0]
    assert "30 minutes" in problems(video(seconds=30 * 60 + 1))[0]
    assert problems(video(size=500 * 1024 * 1024, seconds=30 * 60)) == []
