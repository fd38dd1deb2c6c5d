from __future__ import annotations

import io
import json
import logging

import pytest

from shared.config import ConfigError, load_settings
from shared.logs import JsonFormatter, scrub


class TestSettings:
    def test_missing_variable_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("TILDA_SECRET", raising=False)
        with pytest.raises(
            ConfigError, match="^configuration error: TILDA_SECRET is required by tilda_webhook$"
        ):
            load_settings("tilda_webhook", email_chain_url="http://x", google_cloud_project="p")

    def test_malformed_variable_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("SHEETS_RETRIES", "many")
        with pytest.raises(ConfigError, match="SHEETS_RETRIES"):
            load_settings()

    def test_placeholder_secret_refused_in_production_only(self) -> None:
        values = {
            "tilda_secret": "changeme",
            "email_chain_url": "http://x",
            "google_cloud_project": "p",
            "tasks_invoker_service_account": "invoker@p.iam.gserviceaccount.com",
        }
        with pytest.raises(ConfigError, match="TILDA_SECRET holds a placeholder"):
            load_settings("tilda_webhook", app_env="production", **values)
        assert load_settings("tilda_webhook", app_env="local", **values).secret("tilda_secret") == "changeme"

    def test_production_tasks_need_an_invoker_account(self) -> None:
        values = {"tilda_secret": "s3cret-value", "email_chain_url": "https://x", "google_cloud_project": "p"}
        with pytest.raises(ConfigError, match="TASKS_INVOKER_SERVICE_ACCOUNT"):
            load_settings("tilda_webhook", app_env="production", **values)
        account = "tasks-invoker@p.iam.gserviceaccount.com"
        assert load_settings(
            "tilda_webhook", app_env="production", tasks_invoker_service_account=account, **values
        )

    def test_redis_backend_needs_its_url(self) -> None:
        values = {"tilda_secret": "s3cret-value", "email_chain_url": "http://x", "google_cloud_project": "p"}
        with pytest.raises(ConfigError, match="REDIS_URL"):
            load_settings("tilda_webhook", state_backend="redis", redis_url=None, **values)

    def test_the_bot_needs_an_openai_key_and_link_hosts_come_from_its_links(self) -> None:
        from shared.config import link_hosts

        values = {
            "telegram_bot_token": "1:x",
            "telegram_webhook_secret": "s",
            "manager_link": "https://t.me/allin_manager",
            "email_chain_url": "http://x",
            "reminders_url": "http://y",
            "google_calendar_id": "c",
            "zoom_account_id": "a",
            "zoom_client_id": "i",
            "zoom_client_secret": "z",
            "google_cloud_project": "p",
        }
        with pytest.raises(
            ConfigError, match="^configuration error: OPENAI_API_KEY is required by tg_webhook$"
        ):
            load_settings("tg_webhook", app_env="local", **values)
        settings = load_settings(
            "tg_webhook",
            app_env="local",
            openai_api_key="sk-x",
            ai_link_hosts=" AllInAcademy.example, https://blog.allinacademy.example/posts ,",
            **values,
        )
        # (the privacy policy's default site is allinacademy.example too; the manager's t.me is not a site)
        assert link_hosts(settings) == {"allinacademy.example", "blog.allinacademy.example"}


class TestLogs:
    def test_personal_data_is_masked(self) -> None:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
        logger = logging.getLogger("test.masking")
        logger.addHandler(handler)
        logger.propagate = False
        logger.warning(
            "lead anna.petrova@example.com called from +7 916 123-45-67",
            extra={"email": "anna@example.com", "lead_id": "abc123", "detail": "phone 79161234567"},
        )
        entry = json.loads(stream.getvalue())
        text = stream.getvalue()
        assert entry["severity"] == "WARNING"
        assert entry["lead_id"] == "abc123"
        assert entry["email"] == "***"
        for secret in ("anna.petrova", "anna@example.com", "123-45-67", "79161234567"):
            assert secret not in text
        assert "a***@example.com" in entry["message"]

    def test_fields_are_masked_by_what_they_are_not_by_their_shape(self) -> None:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
        logger = logging.getLogger("test.masking.by_field")
        logger.addHandler(handler)
        logger.propagate = False
        lead_id = "12345678abcdef0123456789"  # a lead id that starts with eight digits
        logger.warning(
            "booking failed",
            extra={
                "lead_id": lead_id,
                "task": "crm-12345678abcdef-booked",
                "chat_id": 987654321,
                "reason": "parent wrote 8 916 123 45 67",
                "phone": "+79161234567",
            },
        )
        entry = json.loads(stream.getvalue())
        assert entry["lead_id"] == lead_id
        assert entry["task"] == "crm-12345678abcdef-booked"
        assert entry["chat_id"] == "***321"
        assert "123 45 67" not in entry["reason"] and entry["reason"].startswith("parent wrote ***")
        assert entry["phone"] == "***"

    def test_free_text_keeps_ids_and_masks_contacts(self) -> None:
        text = "step email1 for lead 12345678abcdef failed"
        assert scrub(text) == text
        assert scrub("to anna@example.com, tel. 8 (916) 123-45-67.") == "to a***@example.com, tel. ***567."

    def test_scrub_keeps_ordinary_text(self) -> None:
        assert scrub("step email1 failed: HTTP 500") == "step email1 failed: HTTP 500"
