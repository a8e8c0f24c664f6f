"""Request bodies the API reads: a malformed or oversized one is a JSON 4xx, never a 500.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE guards `request.body` and form fields, but DRF
reads JSON from the stream, past that guard; and Python's `json` answers a deeply
nested document with a RecursionError. Both are answered here with the shape of
every other error (config/api_errors.py).
"""

import json

from django.conf import settings
from rest_framework import exceptions, parsers, status


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


class GuardedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request else 0
        if limit is not None and declared > limit:
            raise BodyTooLarge(_too_large(limit))
        raw = stream.read(limit + 1) if limit is not None else stream.read()
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge(_too_large(limit))
        try:
            return json.loads(raw.decode(settings.DEFAULT_CHARSET) or "null")
        except RecursionError:
            raise exceptions.ParseError("JSON nested too deeply; flatten the body.") from None
        except (ValueError, UnicodeDecodeError) as error:
            raise exceptions.ParseError(f"JSON parse error: {error}") from None


def _too_large(limit: int) -> str:
    return (
        f"The body is larger than {limit} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE); send less, "
        "or upload files to /api/v1/media/ as multipart."
    )
