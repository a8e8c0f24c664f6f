"""The OpenAPI schema states every status an operation can answer (config/api_errors.py):
this hook adds the statuses every operation may answer to each one that does not state
them, with the error shape. `SchemaView` serves it, refusing what it does not offer."""

from django.conf import settings
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

ERROR = {
    "type": "object",
    "description": "`detail` for most errors; for a 400, a map of each field to what to "
    "change (`non_field_errors` for the rest).",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
COMMON = {
    "400": "The request was refused: the body names each field and what to change.",
    "401": "No credentials, or a key that is unknown, revoked or expired.",
    "403": "The caller's role or key scopes do not allow it.",
    "404": "No such thing in the caller's workspaces (or no such path).",
    "405": "The method is not allowed here.",
    "406": "The requested answer format is not offered.",
    "413": "The body is over DATA_UPLOAD_MAX_MEMORY_SIZE.",
    "415": "The body's media type is not accepted.",
    "429": "Too many requests, or too many wrong passwords: see Retry-After.",
}


def errors_documented(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for code, description in COMMON.items():
                operation["responses"].setdefault(
                    code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result


class SchemaView(SpectacularAPIView):
    """drf-spectacular's schema view, but an unknown `lang` is a 400 (it would serve the
    schema untranslated, as if asked nothing), and errors are JSON like the API's, not
    YAML in the schema's media type."""

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        lang = request.GET.get("lang")
        if lang is not None and lang not in dict(settings.LANGUAGES):
            raise ValidationError(
                {"lang": [f"{lang!r} is not a language code; use one of the schema's lang values."]}
            )

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
