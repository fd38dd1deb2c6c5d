"""Email through the resend SDK, with an idempotency key per lead and step."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from shared.ports import EmailMessage, MailerError

log = logging.getLogger(__name__)
# Resend answers these for problems on its side or ours that a later try can fix.
_TRANSIENT = {408, 409, 429, 500, 502, 503, 504}


class ResendMailer:
    def __init__(
        self,
        api_key: str,
        sender: str,
        *,
        api_url: str,
        retries: int = 2,
        backoff_seconds: float = 1.0,
        timeout_seconds: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_key = api_key
        self._sender = sender
        self._api_url = api_url
        self._retries = retries
        self._backoff = backoff_seconds
        self._timeout = timeout_seconds
        self._sleep = sleep

    def send(self, message: EmailMessage) -> str:
        import resend  # the SDK reads its settings from module globals
        from resend.exceptions import ResendError

        resend.api_key = self._api_key
        resend.api_url = self._api_url
        # The SDK waits 30 s by default: three attempts of a hanging Resend would hold the task 90 s.
        if getattr(resend.default_http_client, "_timeout", None) != self._timeout:
            resend.default_http_client = resend.RequestsClient(timeout=self._timeout)  # type: ignore[arg-type]
        params: resend.Emails.SendParams = {
            "from": self._sender,
            "to": [message.to],
            "subject": message.subject,
            "html": message.html,
            "text": message.text,
            "tags": [{"name": k, "value": v} for k, v in message.tags.items()],
        }
        failure: MailerError | None = None
        for attempt in range(self._retries + 1):
            try:
                sent = resend.Emails.send(params, options={"idempotency_key": message.idempotency_key})
                return str(sent["id"])
            except ResendError as exc:
                code = int(getattr(exc, "code", 0) or 0)
                failure = MailerError(
                    f"resend {code}: {getattr(exc, 'error_type', '')}", transient=code in _TRANSIENT
                )
            except Exception as exc:  # connection errors and timeouts surface as the HTTP client's own types
                failure = MailerError(f"resend unreachable: {type(exc).__name__}", transient=True)
            if not failure.transient:
                break
            if attempt < self._retries:
                log.warning(
                    "email send failed, retrying", extra={"reason": str(failure), "attempt": attempt + 1}
                )
                self._sleep(self._backoff * 2**attempt)
        assert failure is not None
        raise failure
