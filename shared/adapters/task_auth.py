"""Who may call the task handlers: Cloud Tasks and Cloud Scheduler, as the tasks invoker.

Each call carries a Google-signed OIDC token for the invoker's service account. Cloud Run's IAM checks it
in production; the handlers check it again in code (signature against the issuer's certificates, expiry,
issuer, audience = the handler's URL, email = the invoker), so a caller that gets past the platform, or
a local one, is refused with nothing done. Locally the Cloud Tasks emulator signs with its own key and
publishes its certificate: the same check runs in every test (TASKS_OIDC_CERTS_URL).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

import httpx
from google.auth import exceptions, jwt

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
ISSUERS = ("https://accounts.google.com", "accounts.google.com")
_CERTS_KEPT_SECONDS = 3600.0
_REFETCH_AFTER_SECONDS = 60.0


class CertificatesUnavailable(Exception):
    """The issuer's certificates could not be fetched: the caller cannot be checked now (try again)."""


class TaskAuth:
    def __init__(
        self, *, certs_url: str, invoker: str, audiences: Iterable[str], timeout: float = 5.0
    ) -> None:
        self._certs_url = certs_url
        self._invoker = invoker
        # A function's URL with and without its trailing slash: Cloud Tasks and Cloud Scheduler use it as
        # the audience whatever the path (email_chain's /reconcile included).
        given = [a for a in audiences if a]
        self._audiences = sorted({a.rstrip("/") for a in given} | {a.rstrip("/") + "/" for a in given})
        self._timeout = timeout
        self._lock = threading.Lock()
        self._certs: dict[str, str] = {}
        self._fetched_at: float | None = None  # monotonic time of the last fetch (None: never)

    def refusal(self, authorization: str | None, request_url: str) -> str | None:
        """None when the call is the tasks invoker's; else why it is refused (for the log, no secrets).
        CertificatesUnavailable when that cannot be told now."""
        if not self._invoker:
            return "no tasks invoker configured"
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "no bearer token"
        audiences = [*self._audiences, request_url.rstrip("/"), request_url]
        try:
            claims = jwt.decode(token.strip(), certs=self._certificates(token.strip()), audience=audiences)
        except (ValueError, exceptions.GoogleAuthError) as exc:
            return f"token refused: {str(exc)[:120]}"
        if claims.get("iss") not in ISSUERS:
            return "token from another issuer"
        if claims.get("email") != self._invoker or claims.get("email_verified") is not True:
            return "token of another account"
        return None

    def _certificates(self, token: str) -> dict[str, str]:
        """The issuer's certificates, kept an hour and fetched again for a key id not seen yet (rotation)."""
        try:
            key_id = jwt.decode_header(token).get("kid")
        except (ValueError, TypeError):
            key_id = None
        with self._lock:
            if self._fetched_at is not None:
                age = time.monotonic() - self._fetched_at
                # An unknown key id fetches again, but not more than once a minute (a forger's tokens must
                # not make every request a fetch).
                if age < _CERTS_KEPT_SECONDS and (key_id in self._certs or age < _REFETCH_AFTER_SECONDS):
                    return self._certs
        try:
            response = httpx.get(self._certs_url, timeout=self._timeout)
            response.raise_for_status()
            certs = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise CertificatesUnavailable(f"{type(exc).__name__} from {self._certs_url}") from None
        if not isinstance(certs, dict):
            raise CertificatesUnavailable(
                f"{self._certs_url} did not answer a {{key id: certificate}} object"
            )
        with self._lock:
            self._certs, self._fetched_at = {str(k): str(v) for k, v in certs.items()}, time.monotonic()
            return self._certs
