"""`Idempotency-Key` on the API's POSTs that create or act (accounts/idempotency.py
holds the rules; this is the HTTP face of them).

Decorate a view method with `@idempotent`: with the header, the first answer is kept
a day per caller and key; the same request again gets it back (with
`Idempotent-Replayed: true`), another request with that key 422, and one sent while
the first is still being done 409.
"""

from __future__ import annotations

import functools
import hashlib
import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from accounts.idempotency import idempotency_claim, idempotency_release, idempotency_store
from accounts.principals import ApiKeyPrincipal

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Any unique text (a UUID) of up to 255 characters: sending the same request "
    "again with it within 24 hours returns the first answer instead of doing it twice.",
)


# What a POST taking an Idempotency-Key may answer because of it.
IDEMPOTENCY_REFUSED = {
    409: OpenApiResponse(description="A request with this Idempotency-Key is still being done."),
    422: OpenApiResponse(description="This Idempotency-Key was used for another request."),
}


class IdempotencyKeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was used for another request in the last 24 hours; use a new "
        "key for a new request."
    )
    default_code = "idempotency_key_reused"


class IdempotencyInProgress(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_in_progress"


class IdempotencyKeyInvalid(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters."
    default_code = "idempotency_key_invalid"


def idempotent(handler):
    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not 0 < len(key) <= MAX_KEY_LENGTH:
            raise IdempotencyKeyInvalid()
        user = request.user
        claim = idempotency_claim(
            caller=_caller(user),
            key=key,
            fingerprint=_fingerprint(request),
            workspace_id=user.workspace_id if isinstance(user, ApiKeyPrincipal) else None,
        )
        if claim.reused:
            raise IdempotencyKeyReused()
        if claim.conflict:
            raise IdempotencyInProgress(claim.conflict)
        if claim.replay is not None:
            code, body = claim.replay
            return Response(body, status=code, headers={"Idempotent-Replayed": "true"})
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:
            try:
                response = view.handle_exception(exc)
            except Exception:
                idempotency_release(row=claim.row)
                raise
        idempotency_store(row=claim.row, status=response.status_code, body=response.data)
        return response

    return wrapper


def _caller(user) -> str:
    if isinstance(user, ApiKeyPrincipal):
        return f"key:{user.key.prefix}"
    return f"user:{user.pk}"


def _fingerprint(request) -> str:
    """The method, path and body, read as parsed (a file by its name, size and bytes)."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    data = request.data
    items = data.lists() if hasattr(data, "lists") else None
    if items is None:
        digest.update(json.dumps(data, sort_keys=True, default=str).encode())
    else:
        for name, values in sorted(items):
            digest.update(json.dumps([name, [str(value) for value in values]]).encode())
    for name, files in sorted(request.FILES.lists()):
        for upload in files:
            digest.update(f"{name}:{upload.name}:{upload.size}".encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return digest.hexdigest()
