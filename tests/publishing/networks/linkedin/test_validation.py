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


def test_one_part_with_words_or_an_image_and_no_video():
    video = MediaFile(asset_id=9, kind=MediaKind.VIDEO, mime_type="video/mp4", size_bytes=10)
    assert linkedin_content_problems((PartContent(""),)) == [
        "A LinkedIn post needs words or an image."
    ]
    assert "one part" in linkedin_content_problems((PartContent("a"), PartContent("b")))[0]
    assert "not videos" in linkedin_content_problems((PartContent("a", (video,)),))[0]
