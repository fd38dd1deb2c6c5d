"""Small helpers shared by the functions' HTTP entry points."""

from __future__ import annotations

import json
from typing import Any

from flask import Response


def json_response(http_status: int, /, **body: Any) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status=http_status, mimetype="application/json")
