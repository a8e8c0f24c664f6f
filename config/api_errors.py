"""One shape for every error the API answers (README, "The API: errors").

- A request refused for its content: 400 with a map of each field to what to change,
  `{"parts": ["…"], "schedule": ["timezone: …"]}`; what concerns no one field is
  under `non_field_errors`.
- Anything else (401, 403, 404, 405, 409, 413, 415, 429, 5xx): `{"detail": "…"}`.
- A feature switched off by this Kairos's configuration: 403
  `{"detail": "…", "setting": "X_CLIENT_ID"}`, naming what an operator sets (`FeatureOff`).

Services refuse with Django's `ValidationError`, as they do for the admin; it is
answered here in the same shape as DRF's own.
"""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.views import exception_handler

from config.api_parsers import BodyTooLarge


class FeatureOff(exceptions.PermissionDenied):
    """What was asked is switched off on this Kairos until an operator sets `setting`: not
    the caller's fault nor a server fault, so neither a 400 nor a 5xx."""

    default_code = "feature_off"

    def __init__(self, detail: str, *, setting: str) -> None:
        super().__init__(detail)
        self.setting = setting


FEATURE_OFF_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "setting": {
            "type": "string",
            "description": "When a feature is off: the setting an operator sets to turn it on.",
        },
    },
    "required": ["detail"],
}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_field_map(exc))
    elif isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        exc = BodyTooLarge(f"{exc} Send less, or upload files to /api/v1/media/.")
    response = exception_handler(exc, context)
    if isinstance(exc, FeatureOff):
        response.data["setting"] = exc.setting
    return response


@csrf_exempt
def api_not_found(request, rest: str = "") -> JsonResponse:
    """Any path under /api/ that names no endpoint (or a malformed id): a JSON 404, for any
    method (without csrf_exempt, a POST with a session cookie was Django's HTML 403)."""
    detail = f"No endpoint at {request.path}; the endpoints are listed at /api/schema/."
    if not request.path.endswith("/"):
        try:
            resolve(request.path + "/")
        except Resolver404:
            pass
        else:
            detail = f"No endpoint at {request.path}; did you mean {request.path}/ ?"
    return JsonResponse({"detail": detail}, status=404)


def _field_map(error: DjangoValidationError) -> dict[str, list[str]]:
    if not hasattr(error, "error_dict"):
        return {"non_field_errors": error.messages}
    return {
        "non_field_errors" if name == "__all__" else name: messages
        for name, messages in error.message_dict.items()
    }
