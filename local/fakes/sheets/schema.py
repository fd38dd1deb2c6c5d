"""A batchUpdate request checked against the Sheets API's own schema (googleapiclient's discovery
document): an unknown field, a value of the wrong type or an enum value the API does not know is refused
with the real service's "Invalid JSON payload received" error, and the batch changes nothing."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from local.fakes.sheets.api import SheetsApiError

_TYPE_NAMES = {
    "integer": "TYPE_INT32",
    "number": "TYPE_DOUBLE",
    "boolean": "TYPE_BOOL",
    "string": "TYPE_STRING",
}


@cache
def _schemas() -> dict[str, Any]:
    import googleapiclient

    path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "sheets.v4.json"
    return dict(json.loads(path.read_text())["schemas"])


def check_request(kind: str, spec: Any, index: int) -> None:
    """Refuse `requests[index].<kind>` unless every field in it is one the API defines, typed as it says."""
    prop = _schemas()["Request"]["properties"].get(kind)
    if prop is not None:
        _value(prop, spec, f"requests[{index}].{_snake(kind)}")


def _object(ref: str, value: Any, path: str) -> None:
    schema = _schemas()[ref]
    if not isinstance(value, dict):
        raise SheetsApiError(400, f"Invalid JSON payload received. Invalid value at '{path}': not an object.")
    props = schema.get("properties", {})
    for key, item in value.items():
        if key not in props:
            raise SheetsApiError(
                400, f"Invalid JSON payload received. Unknown name \"{key}\" at '{path}': Cannot find field."
            )
        _value(props[key], item, f"{path}.{_snake(key)}")


def _value(prop: dict[str, Any], value: Any, path: str) -> None:
    if "$ref" in prop:
        _object(prop["$ref"], value, path)
        return
    kind = prop.get("type")
    if kind == "array":
        if not isinstance(value, list):
            raise SheetsApiError(
                400, f"Invalid JSON payload received. Invalid value at '{path}': not a list."
            )
        for i, item in enumerate(value):
            _value(prop.get("items", {}), item, f"{path}[{i}]")
        return
    if kind == "object":
        return  # a map (additionalProperties): any keys
    if "enum" in prop:
        if value not in prop["enum"]:
            raise SheetsApiError(400, f"Invalid value at '{path}' (TYPE_ENUM), {json.dumps(value)}")
        return
    ok = {
        "integer": isinstance(value, int)
        and not isinstance(value, bool)
        or isinstance(value, str)
        and value.lstrip("-").isdigit(),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "string": isinstance(value, str),
    }.get(str(kind), True)
    if not ok:
        name = _TYPE_NAMES.get(str(kind), str(kind))
        raise SheetsApiError(400, f"Invalid value at '{path}' ({name}), {json.dumps(value)}")


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)
