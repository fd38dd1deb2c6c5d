"""Factories for realistic inputs."""

from __future__ import annotations

from urllib.parse import urlencode


def tilda_form(**overrides: str | None) -> dict[str, str]:
    """A submission as Tilda posts it (form fields + tranid/formid + COOKIES with UTM tags)."""
    form: dict[str, str | None] = {
        "Name": "Анна Петрова",
        "Phone": "+7 (916) 123-45-67",
        "Email": "Anna.Petrova@Example.com",
        "child_age": "8",
        "tranid": "8765432:1234567890",
        "formid": "form123456789",
        "COOKIES": (
            "_ga=GA1.2.3; TILDAUTM=utm_source%3Dinstagram%7C%7C%7Cutm_medium%3Dcpc"
            "%7C%7C%7Cutm_campaign%3Dautumn%7C%7C%7C"
        ),
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def urlencoded(form: dict[str, str]) -> bytes:
    return urlencode(form).encode()
