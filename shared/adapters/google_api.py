"""Google API clients (google-api-python-client) built cheaply, once per instance.

The bundled discovery documents describe every request and response schema; the client library does not
validate bodies against them, it only pretty-prints them into each method's docstring. For Sheets that
costs ~70 MB and ~150 ms per `spreadsheets()` resource, so the schemas are replaced by stubs first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from googleapiclient.errors import HttpError

    from shared.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


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


RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def call_with_retries(
    operation: Callable[[], T],
    *,
    label: str,
    retries: int,
    backoff_seconds: float,
    sleep: Callable[[float], None],
    lock: AbstractContextManager[Any],
    retryable: Callable[[HttpError], bool],
    refused: Callable[[HttpError], Exception],
    unavailable: Callable[[str], Exception],
) -> T:
    """Run `operation` (a whole read-then-write, so a retry re-reads) with exponential backoff.

    An HttpError that `retryable` accepts, a timeout or a connection error is retried `retries` times and
    then raised as `unavailable(...)`; any other HttpError is raised at once as `refused(exc)`. `lock` is
    held per attempt (httplib2 connections are not thread-safe), never while sleeping.
    """
    import httplib2
    from googleapiclient.errors import HttpError

    reason = ""
    for attempt in range(retries + 1):
        try:
            with lock:
                return operation()
        except HttpError as exc:
            if not retryable(exc):
                raise refused(exc) from exc
            reason = f"HTTP {exc.resp.status}"
        except (TimeoutError, ConnectionError, httplib2.HttpLib2Error, OSError) as exc:
            reason = type(exc).__name__  # httplib2 closes the failed connection itself
        if attempt < retries:
            delay = backoff_seconds * 2**attempt
            log.warning(
                "google api call failed, retrying",
                extra={"operation": label, "reason": reason, "attempt": attempt + 1, "delay_s": delay},
            )
            sleep(delay)
    raise unavailable(f"{label} failed {retries + 1} times: {reason}")


SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"


def build_sheets_service(settings: Settings) -> Any:
    """The Sheets API client the CRM adapter calls (`SheetsCrm`'s service factory)."""
    return build_google_service(
        "sheets",
        "v4",
        api_url=settings.sheets_api_url,
        timeout=settings.sheets_timeout_seconds,
        scopes=[SHEETS_SCOPE],
    )
