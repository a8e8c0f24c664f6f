"""What X accepts: weighted length (twitter-text v3) and media per post, with no database."""

import pytest
from twitter_text import parse_tweet

from publishing.networks.base import Account, MediaFile, MediaKind, PartContent
from publishing.networks.x import XAdapter
from publishing.networks.x.validation import x_content_problems

MB = 1024 * 1024
POEM = (
    "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。"
    "旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。"
    "泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。"
    "遥知兄弟登高处，遍插茱萸少一人。"
)
FAMILY = "👨\u200d👩\u200d👧\u200d👦"
KANA = "あいうえおかきくけこ"
PUNCTUATION = (
    "This is a tweet with general punctuation characters: \u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u200b ‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷"
)
ENGLAND = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"

# twitter-text conformance/validate.yml, WeightedTweetsWithDiscountedEmojiCounterTest (v3)
# and UnicodeDirectionalMarkerCounterTest: (text, weighted length, valid).
CONFORMANCE = {
    "regular tweet with url": ("Hi http://test.co", 26, True),
    "just url": ("http://test.co", 23, True),
    "long tweet, overflow at 280": ("285 chars-" + "xxxxxxxxxx-" * 25, 285, False),
    "url in the middle": (
        "285 chars- http://www.twitter.com/jack " + "xxxxxxxxxx-" * 24,
        299,
        False,
    ),
    "url at the end": ("xxxxxxxxxx-" * 24 + " http://www.twitter.com/jack ", 289, False),
    "10 urls": ("https://www.twitter.com/aloha " * 10, 240, True),
    "160 CJK": (POEM, 320, False),
    "160 emoji": ("😷" * 160, 320, False),
    "3 latin + 160 CJK": ("the" + POEM, 323, False),
    "Á is normalized into 1 char": ("A\u0301B", 2, True),
    "שּׁ is normalized into 3 chars": ("A\ufb2c", 4, True),
    "mix of single and double word characters": ("H🐱☺" + FAMILY, 7, True),
    "emoji inside the BMP": ("😷👾😡🔥💩", 10, True),
    "skin tone and ZWJ sequences": ("🙋🏽👨\u200d🎤", 4, True),
    "general punctuation": (PUNCTUATION, 110, True),
    "64-character domain": ("randomurl" * 7 + "s.com", 68, True),
    "punycode host over 63": (f"{KANA * 12} http://{KANA * 5}あいう.com", 358, False),
    "punycode host under 63": (f"{KANA * 12} http://{KANA * 5}あい.com", 264, True),
    "140 family emoji": (FAMILY * 140, 280, True),
    "Unicode 10.0 emoji": (f"Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; {ENGLAND}", 34, True),
    "Unicode 9.0 emoji": ("Unicode 9.0 emoji: 🤠; 💃; 💃🏾", 29, True),
    "invalid characters": ("ABC\u202a\uffffABC\ufffe", 12, False),
    "directional characters": ("\u2066\u202ahttp://foobar.پاکستان/\u202c\u2069", 31, True),
}

# Our own, written from the v3 rules (platforms.md §4).
RULES = {
    "280 latin letters": ("x" * 280, 280),
    "a bare domain with a path is a link": ("example.com/x", 23),
    "two links with and without scheme": (
        "Test https://test.com test https://test.com test.com test",
        86,
    ),
    "an ftp address is not a link": ("ftp://www.example.com/", 22),
    "decomposed accents are composed first (NFC)": ("e\u0301" * 280, 280),
    "Latin-1 letters weigh 1": ("ü" * 280, 280),
    "a CJK ideograph weighs 2": ("一", 2),
    "Hangul syllables weigh 2": ("저찀", 4),
    "an emoji with a skin tone weighs 2": ("👍🏽", 2),
    "a flag weighs 2": ("🇯🇵", 2),
    "an en dash is in the light punctuation range": ("–", 1),
    "an ellipsis is outside it": ("…", 2),
    "CRLF counts as one line break": ("a\r\nb", 3),
    "hashtags and mentions are plain text": ("#hashtag @mention", 17),
}


def x_account(subscription_type: str = "") -> Account:
    return Account(
        id=1, network="x", handle="brand", name="@brand (X)", subscription_type=subscription_type
    )


def problems(*parts: PartContent, subscription_type: str = "") -> list[str]:
    return x_content_problems(account=x_account(subscription_type), parts=parts)


def asset(kind=MediaKind.IMAGE, *, size=1000, mime="image/png", alt="", name="photo.png"):
    return MediaFile(
        asset_id=1, kind=kind, size_bytes=size, mime_type=mime, alt_text=alt, name=name
    )


# --- Weighted length ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "weighted", "valid"), CONFORMANCE.values(), ids=CONFORMANCE)
def test_conformance_vectors(text, weighted, valid):
    result = parse_tweet(text)
    assert (result.weightedLength, result.valid) == (weighted, valid)
    assert (problems(PartContent(text=text)) == []) is valid


@pytest.mark.parametrize(("text", "weighted"), RULES.values(), ids=RULES)
def test_weights_from_the_rules(text, weighted):
    assert parse_tweet(text).weightedLength == weighted


def test_one_over_the_limit_says_by_how_much():
    assert problems(PartContent(text="x" * 280)) == []
    assert problems(PartContent(text="字" * 141)) == [
        "Part 1 counts 282 of X's 280 characters (links count 23, emoji and CJK count 2); "
        "shorten it by 2 or split it into a thread."
    ]


def test_each_part_of_a_thread_is_counted_on_its_own():
    found = problems(PartContent(text="fine"), PartContent(text="😷" * 141))
    assert found == [
        "Part 2 counts 282 of X's 280 characters (links count 23, emoji and CJK count 2); "
        "shorten it by 2 or split it into a thread."
    ]


@pytest.mark.parametrize("subscription_type", ["Premium", "PremiumPlus"])
def test_subscribers_may_post_25000_characters(subscription_type):
    assert problems(PartContent(text="x" * 25_000), subscription_type=subscription_type) == []
    assert problems(PartContent(text="x" * 25_001), subscription_type=subscription_type) == [
        "Part 1 counts 25,001 of X's 25,000 characters (links count 23, emoji and CJK count 2); "
        "shorten it by 1 or split it into a thread."
    ]


@pytest.mark.parametrize("subscription_type", ["", "None", "Basic"])
def test_everyone_else_has_280(subscription_type):
    assert problems(PartContent(text="x" * 281), subscription_type=subscription_type)


def test_an_invisible_character_x_refuses_is_pointed_out():
    assert problems(PartContent(text="Hello\ufeff world")) == [
        "Part 1 contains an invisible character X refuses (U+FEFF, U+FFFE or U+FFFF, often "
        "pasted from another program); retype the text around it."
    ]


def test_a_part_needs_text_or_media():
    assert problems(PartContent(text="  ")) == ["Part 1 is empty; X needs text or media."]
    assert problems(PartContent(text="", media=(asset(),))) == []


def test_the_adapter_validates_with_these_rules():
    parts = (PartContent(text="字" * 141),)
    assert XAdapter().validate(account=x_account(), parts=parts) == problems(*parts)


# --- Media ----------------------------------------------------------------------------


def test_up_to_four_images():
    four = tuple(asset(name=f"{n}.png") for n in range(4))
    assert problems(PartContent(text="look", media=four)) == []
    five = (*four, asset(name="4.png"))
    assert problems(PartContent(text="look", media=five)) == [
        "Part 1 has 5 images; X takes at most 4. Move 1 to another part."
    ]


@pytest.mark.parametrize(
    ("single", "mime"),
    [(MediaKind.GIF, "image/gif"), (MediaKind.VIDEO, "video/mp4")],
)
def test_a_gif_or_a_video_goes_alone(single, mime):
    alone = asset(single, mime=mime, name="clip")
    assert problems(PartContent(text="look", media=(alone,))) == []
    found = problems(PartContent(text="look", media=(alone, asset())))
    assert found == [
        f"Part 1 has a {single.label.lower()} and 1 other file(s); X takes one GIF alone, one "
        "video alone, or up to 4 images. Move the others to another part."
    ]


@pytest.mark.parametrize(
    ("kind", "mime", "limit_mb"),
    [
        (MediaKind.IMAGE, "image/jpeg", 5),
        (MediaKind.GIF, "image/gif", 15),
        (MediaKind.VIDEO, "video/mp4", 512),
    ],
)
def test_size_limits_in_binary_megabytes(kind, mime, limit_mb):
    fits = asset(kind, size=limit_mb * MB, mime=mime, name="file")
    assert problems(PartContent(text="look", media=(fits,))) == []
    too_big = asset(kind, size=limit_mb * MB + 1, mime=mime, name="file")
    assert problems(PartContent(text="look", media=(too_big,))) == [
        f"Part 1's {kind.label.lower()} file is {limit_mb + 0.1:.1f} MB; X takes "
        f"{kind.label.lower()}s up to {limit_mb} MB. Compress it or choose a smaller file."
    ]


def test_a_file_type_x_does_not_take():
    found = problems(PartContent(text="look", media=(asset(mime="image/tiff", name="scan"),)))
    assert found == [
        "Part 1's image scan is image/tiff; X takes images as image/gif, image/jpeg, "
        "image/png, image/webp. Convert it."
    ]


def test_alt_text_is_at_most_1000_characters():
    assert problems(PartContent(text="look", media=(asset(alt="a" * 1000),))) == []
    found = problems(PartContent(text="look", media=(asset(alt="a" * 1001, name="cat"),)))
    assert found == [
        "Part 1's image cat has 1,001 characters of alt text; X takes up to 1,000. Shorten it."
    ]
