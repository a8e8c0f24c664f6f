"""The slice of JSON Schema that X's request bodies use, with X's validator wording.

X validates v2 bodies with networknt json-schema-validator; its messages look like
`$.reply.in_reply_to_tweet_id: does not match the regex pattern ^[0-9]{1,19}$`. The exact
wording per keyword is [inf]; the envelope around it is [obs] (see problems.py).
"""

from __future__ import annotations

import re
from typing import Any

from fakex.problems import parameter_error

ID_PATTERN = "^[0-9]{1,19}$"
ID = {"type": "string", "pattern": ID_PATTERN}


def id_parameter_errors(parameter: str, value: str) -> list[dict[str, Any]]:
    """A path or query id that is not 1 to 19 digits, in X's query-parameter wording."""
    if _full_match(ID_PATTERN, value):
        return []
    message = f"The `{parameter}` query parameter value [{value}] does not match {ID_PATTERN}"
    return [parameter_error(parameter, value, message)]


def _found_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def schema_errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[dict[str, Any]]:
    """Every violation, as `errors[]` entries of an invalid-request answer."""
    expected = schema.get("type")
    if expected and _found_type(value) != expected:
        return [_error(path, value, f"{_found_type(value)} found, {expected} expected")]
    if expected == "object":
        return _object_errors(value, schema, path)
    if expected == "array":
        return _array_errors(value, schema, path)
    return _scalar_errors(value, schema, path)


def _object_errors(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[dict]:
    properties = schema.get("properties", {})
    errors = [
        _error(f"{path}.{name}", None, "is missing but it is required")
        for name in schema.get("required", ())
        if name not in value
    ]
    for name, item in value.items():
        if name in properties:
            errors += schema_errors(item, properties[name], f"{path}.{name}")
        elif schema.get("additionalProperties") is False:
            errors.append(
                _error(
                    f"{path}.{name}",
                    item,
                    "is not defined in the schema and the schema does not allow additional "
                    "properties",
                )
            )
    return errors


def _array_errors(value: list[Any], schema: dict[str, Any], path: str) -> list[dict]:
    errors = []
    if len(value) < schema.get("minItems", 0):
        errors.append(
            _error(
                path, value, f"there must be a minimum of {schema['minItems']} items in the array"
            )
        )
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append(
            _error(
                path, value, f"there must be a maximum of {schema['maxItems']} items in the array"
            )
        )
    for index, item in enumerate(value):
        errors += schema_errors(item, schema.get("items", {}), f"{path}[{index}]")
    return errors


def _scalar_errors(value: Any, schema: dict[str, Any], path: str) -> list[dict]:
    messages = []
    if "pattern" in schema and not _full_match(schema["pattern"], value):
        messages.append(f"does not match the regex pattern {schema['pattern']}")
    if "enum" in schema and value not in schema["enum"]:
        messages.append(f"does not have a value in the enumeration [{', '.join(schema['enum'])}]")
    if "minLength" in schema and len(value) < schema["minLength"]:
        messages.append(f"must be at least {schema['minLength']} characters long")
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        messages.append(f"may only be {schema['maxLength']} characters long")
    if "minimum" in schema and value < schema["minimum"]:
        messages.append(f"must have a minimum value of {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        messages.append(f"must have a maximum value of {schema['maximum']}")
    return [_error(path, value, message) for message in messages]


def _full_match(anchored_pattern: str, value: str) -> bool:
    """`$` would also accept a trailing newline, so match the unanchored body in full."""
    return re.fullmatch(anchored_pattern.removeprefix("^").removesuffix("$"), value) is not None


def _error(path: str, value: Any, message: str) -> dict[str, Any]:
    return parameter_error(
        path.removeprefix("$."), "" if value is None else value, f"{path}: {message}"
    )
