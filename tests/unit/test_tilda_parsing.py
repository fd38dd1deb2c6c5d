from __future__ import annotations

import pytest

from shared.config import load_settings
from shared.domain.tilda import (
    InvalidSubmission,
    TildaFields,
    form_from_body,
    is_test_ping,
    parse_submission,
)
from tests.factories import tilda_form, urlencoded

FIELDS = TildaFields()


def parse(**overrides: str | None):
    return parse_submission(tilda_form(**overrides), FIELDS, "RU")


class TestParseSubmission:
    def test_normalises_contacts_and_keeps_tilda_metadata(self) -> None:
        submission = parse()
        assert submission.phone == "+79161234567"
        assert submission.email == "anna.petrova@example.com"
        assert submission.name == "Анна Петрова"
        assert submission.tranid == "8765432:1234567890"
        assert (submission.utm_source, submission.utm_medium, submission.utm_campaign) == (
            "instagram",
            "cpc",
            "autumn",
        )
        assert submission.language == "ru"

    def test_plain_utm_fields_override_cookies(self) -> None:
        assert parse(utm_source="google").utm_source == "google"

    def test_english_form(self) -> None:
        assert parse(lang="EN").language == "en"

    @pytest.mark.parametrize("phone", ["12345", "not a phone", "+7 (000) 000-00-00", "+1 555"])
    def test_invalid_phone_is_refused(self, phone: str) -> None:
        with pytest.raises(InvalidSubmission, match="Phone"):
            parse(Phone=phone)

    @pytest.mark.parametrize("email", ["anna@", "anna.example.com", "a@b", "anna@exa mple.com"])
    def test_invalid_email_is_refused(self, email: str) -> None:
        with pytest.raises(InvalidSubmission, match="Email"):
            parse(Email=email)

    def test_name_is_required(self) -> None:
        with pytest.raises(InvalidSubmission, match="Name is required"):
            parse(Name="   ")

    def test_one_contact_is_enough(self) -> None:
        assert parse(Phone=None).phone is None
        assert parse(Email=None).email is None
        with pytest.raises(InvalidSubmission, match="Phone or Email is required"):
            parse(Phone=None, Email="")

    def test_formula_name_is_kept_as_text(self) -> None:
        assert parse(Name='=HYPERLINK("http://x","y")').name == '=HYPERLINK("http://x","y")'

    def test_control_characters_are_removed_and_long_names_refused(self) -> None:
        assert parse(Name="Ан\x00на\u202e").name == "Анна"
        with pytest.raises(InvalidSubmission, match="longer than 200"):
            parse(Name="A" * 201)

    def test_configured_field_names(self) -> None:
        fields = TildaFields(name="parent", phone="tel", email="mail")
        submission = parse_submission(
            {"parent": "Ivan", "tel": "+37120000000", "mail": "i@example.lv"}, fields, "LV"
        )
        assert (submission.name, submission.phone, submission.email) == (
            "Ivan",
            "+37120000000",
            "i@example.lv",
        )

    def test_field_names_come_from_the_configuration_with_one_set_of_defaults(self) -> None:
        assert load_settings().tilda_fields() == TildaFields()
        configured = load_settings(tilda_field_name="parent", tilda_field_language="locale").tilda_fields()
        assert (configured.name, configured.language, configured.phone) == ("parent", "locale", "Phone")
        submission = parse_submission(
            {"parent": "Ivan", "Phone": "+37120000000", "locale": "en-GB"}, configured, "LV"
        )
        assert (submission.name, submission.language) == ("Ivan", "en")

    def test_same_tranid_same_key_and_payload_key_without_it(self) -> None:
        assert parse().dedupe_key() == parse(Name="Other").dedupe_key()
        assert parse(tranid=None).dedupe_key() == parse(tranid=None).dedupe_key()
        assert parse(tranid=None).dedupe_key() != parse(tranid=None, Name="Other").dedupe_key()


class TestBodies:
    def test_urlencoded_and_json(self) -> None:
        assert form_from_body("application/x-www-form-urlencoded", urlencoded({"a": "б"})) == {"a": "б"}
        assert form_from_body("application/json", b'{"a": "x", "n": 5, "z": null}') == {"a": "x", "n": 5}

    def test_json_numbers_are_taken_where_they_make_sense(self) -> None:
        body = b'{"Name": "Anna", "Phone": 79161234567, "child_age": 8, "tranid": 123456, "extra": [1, 2]}'
        submission = parse_submission(form_from_body("application/json", body), FIELDS, "RU")
        assert (submission.phone, submission.child_age, submission.tranid) == ("+79161234567", "8", "123456")

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("Name", ["a", "b"], "Name must be text"),
            ("Name", True, "Name must be text"),
            ("Name", 12345, "Name must be text"),
            ("Email", {"a": 1}, "Email must be text"),
            ("Phone", False, "Phone must be text or a number"),
            ("Phone", [79161234567], "Phone must be text or a number"),
            ("child_age", {"years": 8}, "child_age must be text or a number"),
            ("utm_source", 5, "utm_source must be text"),
        ],
    )
    def test_other_json_values_are_refused_naming_the_field(
        self, field: str, value: object, message: str
    ) -> None:
        form: dict[str, object] = {"Name": "Anna", "Phone": "+79161234567", field: value}
        with pytest.raises(InvalidSubmission, match=message):
            parse_submission(form, FIELDS, "RU")

    @pytest.mark.parametrize(
        ("content_type", "body", "message"),
        [
            ("application/json", b"{not json", "not valid JSON"),
            ("application/json", b"[1, 2]", "must be an object"),
            ("application/x-www-form-urlencoded", b"\xff\xfe", "not UTF-8"),
            ("text/xml", b"<a/>", "unsupported content type"),
        ],
    )
    def test_malformed_bodies(self, content_type: str, body: bytes, message: str) -> None:
        with pytest.raises(InvalidSubmission, match=message):
            form_from_body(content_type, body)

    def test_test_ping(self) -> None:
        assert is_test_ping({"test": "test"})
        assert not is_test_ping(tilda_form())
