"""The Tilda form's wire names in one place: which field of the POST becomes which part of a lead.

Pure and import-light: `shared.config` takes its defaults from here, so every function may import it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Fields Tilda adds to every submission itself (not configurable in the form block).
TRANID = "tranid"  # "<project>:<submission>": the same on Tilda's retries of one submission
FORMID = "formid"
COOKIES = "COOKIES"  # the visitor's cookies; UTM tags arrive in TILDAUTM (or as plain utm_* cookies)
UTM_COOKIE = "TILDAUTM"
UTM_COOKIE_SEPARATOR = "|||"
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign")  # also accepted as plain form fields
# "Check the webhook" when the URL is connected in Tilda: `test=test` and nothing useful besides.
TEST_PING_FIELD = "test"
TEST_PING_VALUE = "test"


@dataclass(frozen=True)
class TildaFields:
    """The form's own field names as set in Tilda's form block; each is configurable (TILDA_FIELD_*)."""

    name: str = "Name"
    phone: str = "Phone"
    email: str = "Email"
    child_age: str = "child_age"
    language: str = "lang"  # "en…" → English, anything else → Russian


DEFAULT_FIELDS = TildaFields()
