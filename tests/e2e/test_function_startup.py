"""A function refuses to start on a bad configuration, with one line naming the variable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local.processes import StartError, start_function

BASE = {"APP_ENV": "local", "GOOGLE_CLOUD_PROJECT": "demo", "EMAIL_CHAIN_URL": "http://127.0.0.1:1/"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "tilda_webhook: configuration error: TILDA_SECRET is required by tilda_webhook"),
        (
            {"TILDA_SECRET": "s", "SHEETS_RETRIES": "lots"},
            "tilda_webhook: configuration error: SHEETS_RETRIES:",
        ),
    ],
)
def test_bad_configuration_stops_the_function(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in list(os.environ):
        if name.startswith(("TILDA_", "SHEETS_")):
            monkeypatch.delenv(name)
    with pytest.raises(StartError) as failure:
        start_function("tilda_webhook", {**BASE, **env}, log_dir=tmp_path)
    lines = [line for line in str(failure.value).splitlines() if "configuration error" in line]
    assert len(lines) == 1 and lines[0].startswith(expected)
