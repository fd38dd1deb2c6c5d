"""Tilda form submissions: parsing and validating what the landing page POSTs. Pure."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote

from pydantic import BaseModel

from shared.domain.leads import InvalidContact, normalise_email, normalise_phone
from shared.domain.tilda_form import (
    COOKIES,
    FORMID,
    TEST_PING_FIELD,
    TEST_PING_VALUE,
    TRANID,
    UTM_COOKIE,
    UTM_COOKIE_SEPARATOR,
    UTM_KEYS,
    TildaFields,
)

__all__ = [
    "InvalidSubmission",
    "TildaFields",
    "TildaSubmission",
    "form_from_body",
    "is_test_ping",
    "parse_submission",
]

_MAX_NAME = 200
_MAX_SHORT = 100


class InvalidSubmission(ValueError):
    """The form cannot become a lead; the message says which field and why (safe to return to Tilda)."""


class TildaSubmission(BaseModel):
    name: str
    phone: str | None
    email: str | None
    child_age: str | None
    language: str
    tranid: str | None
    formid: str | None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None

    def dedupe_key(self) -> str:
        """Same `tranid` (Tilda's retry) or, without one, the same payload → the same key."""
        if self.tranid:
            return f"tilda-tranid-{_digest(self.tranid)}"
        return f"tilda-payload-{_digest(json.dumps(self.model_dump(), sort_keys=True))}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def is_test_ping(form: Mapping[str, object]) -> bool:
    """Tilda's "check the webhook" request when the URL is connected: `test=test` and nothing else useful."""
    return form.get(TEST_PING_FIELD) == TEST_PING_VALUE


def _typed(form: Mapping[str, object], *, text: tuple[str, ...], numeric: tuple[str, ...]) -> dict[str, str]:
    """The fields read, as text: a number where `numeric` allows one (12345 -> "12345"); any other value
    that is not text (a list, an object, true) makes the submission invalid, naming the field. Fields
    nobody reads are left out, whatever they hold."""
    typed: dict[str, str] = {}
    for key in (*text, *numeric):
        value = form.get(key)
        if value is None or isinstance(value, str):
            if value is not None:
                typed[key] = value
        elif key in numeric and isinstance(value, int | float) and not isinstance(value, bool):
            typed[key] = str(int(value)) if float(value).is_integer() else str(value)
        else:
            raise InvalidSubmission(f"{key} must be {'text or a number' if key in numeric else 'text'}")
    return typed


def _text(value: str | None, limit: int, field: str) -> str | None:
    if value is None:
        return None
    # Control characters have no place in a name and break the sheet and Telegram messages.
    cleaned = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C").strip()
    cleaned = re.sub(r"\s+", " ", cleaned)
    if len(cleaned) > limit:
        raise InvalidSubmission(f"{field} is longer than {limit} characters")
    return cleaned or None


def _utm_from_cookies(cookies: str) -> dict[str, str]:
    """Tilda puts UTM tags into COOKIES as `TILDAUTM=utm_source%3Dx%7C%7C%7Cutm_medium%3Dy...`."""
    found: dict[str, str] = {}
    for part in cookies.split(";"):
        key, _, value = part.strip().partition("=")
        if key == UTM_COOKIE:
            for pair in unquote(value).split(UTM_COOKIE_SEPARATOR):
                name, _, tag = pair.partition("=")
                if name in UTM_KEYS and tag:
                    found[name] = tag
        elif key in UTM_KEYS and value:
            found[key] = unquote(value)
    return found


def parse_submission(form: Mapping[str, object], fields: TildaFields, phone_region: str) -> TildaSubmission:
    """Validate a submission: a name and at least one usable contact; bad values are refused, not dropped.

    A JSON body's values are typed: a number is taken where one makes sense (phone, age, Tilda's ids),
    anything else that is not text (a list, an object, true) is refused naming the field."""
    form = _typed(
        form,
        text=(fields.name, fields.email, fields.language, COOKIES, *UTM_KEYS),
        numeric=(fields.phone, fields.child_age, TRANID, FORMID),
    )
    name = _text(form.get(fields.name), _MAX_NAME, fields.name)
    if not name:
        raise InvalidSubmission(f"{fields.name} is required")
    raw_phone = _text(form.get(fields.phone), _MAX_SHORT, fields.phone)
    raw_email = _text(form.get(fields.email), 254, fields.email)
    if not raw_phone and not raw_email:
        raise InvalidSubmission(f"{fields.phone} or {fields.email} is required")
    try:
        phone = normalise_phone(raw_phone, phone_region) if raw_phone else None
    except InvalidContact as exc:
        raise InvalidSubmission(f"{fields.phone}: {exc}") from None
    try:
        email = normalise_email(raw_email) if raw_email else None
    except InvalidContact as exc:
        raise InvalidSubmission(f"{fields.email}: {exc}") from None
    language_raw = (form.get(fields.language) or "").strip().lower()
    utm = _utm_from_cookies(form.get(COOKIES, ""))
    for key in UTM_KEYS:
        if form.get(key):
            utm[key] = form[key]
    return TildaSubmission(
        name=name,
        phone=phone,
        email=email,
        child_age=_text(form.get(fields.child_age), _MAX_SHORT, fields.child_age),
        language="en" if language_raw.startswith("en") else "ru",
        tranid=_text(form.get(TRANID), _MAX_SHORT, TRANID),
        formid=_text(form.get(FORMID), _MAX_SHORT, FORMID),
        **{key: _text(value, _MAX_SHORT, key) for key, value in utm.items()},
    )


def form_from_body(content_type: str, body: bytes) -> dict[str, object]:
    """Decode a urlencoded (Tilda's default) or JSON body into its fields: text, or a JSON body's values
    as they came (parse_submission decides what each field may be)."""
    if "json" in content_type:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidSubmission("body is not valid JSON") from None
        if not isinstance(data, dict):
            raise InvalidSubmission("JSON body must be an object")
        return {str(k): v for k, v in data.items() if v is not None}
    if content_type.startswith("application/x-www-form-urlencoded") or not content_type:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidSubmission("body is not UTF-8") from None
        return dict(parse_qsl(text, keep_blank_values=True))
    raise InvalidSubmission(f"unsupported content type {content_type.split(';')[0]}")
