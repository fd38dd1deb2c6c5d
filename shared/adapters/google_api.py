"""Google API clients (google-api-python-client) built cheaply, once per instance.

The bundled discovery documents describe every request and response schema; the client library does not
validate bodies against them, it only pretty-prints them into each method's docstring. For Sheets that
costs ~70 MB and ~150 ms per `spreadsheets()` resource, so the schemas are replaced by stubs first.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any


@cache
def _discovery_document(name: str, version: str) -> dict[str, Any]:
    from importlib.resources import files

    text = (
        files("googleapiclient.discovery_cache").joinpath("documents", f"{name}.{version}.json").read_text()
    )
    document = json.loads(text)
    document["schemas"] = {schema: {"id": schema, "type": "object"} for schema in document.get("schemas", {})}
    return document


def build_google_service(
    name: str, version: str, *, api_url: str | None, timeout: float, scopes: list[str]
) -> Any:
    """The API client; with `api_url` (a local fake) a static bearer token instead of Google credentials."""
    import google_auth_httplib2
    import httplib2
    from googleapiclient.discovery import build_from_document

    if api_url:
        from google.oauth2.credentials import Credentials

        # A fake checks that a bearer token is sent, as Google does; any static token passes it.
        credentials: Any = Credentials(token="local-token")
    else:
        import google.auth

        credentials, _ = google.auth.default(scopes=scopes)
    return build_from_document(
        _discovery_document(name, version),
        http=google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout)),
        client_options={"api_endpoint": api_url} if api_url else None,
    )
