"""Signed, short-lived addresses of library files, for networks that fetch a file
themselves (Instagram and Facebook download it from the URL Kairos gives them).

The address names the file by a signed token (django.core.signing, its own salt),
valid for KAIROS_MEDIA_URL_MAX_AGE seconds: whoever holds it may download that one
file, without signing in, until it lapses. It never names the workspace or the path.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from posts.models import MediaAsset

_SALT = "kairos.posts.media-url"


def media_asset_signed_url(asset: MediaAsset) -> str:
    """The file's public address on KAIROS_PUBLIC_URL, valid for a short while."""
    token = signing.dumps({"asset": asset.pk}, salt=_SALT, compress=True)
    return f"{settings.KAIROS_PUBLIC_URL}{reverse('media-signed', args=[token])}"


def media_asset_for_token(token: str) -> MediaAsset | None:
    """The file a signed address names, or None when the token was altered or has lapsed."""
    try:
        value = signing.loads(token, salt=_SALT, max_age=settings.KAIROS_MEDIA_URL_MAX_AGE)
    except signing.BadSignature:
        return None
    return MediaAsset.objects.filter(pk=value.get("asset")).first()
