"""Shared fixtures: real local services (redis-server, the Firestore emulator), started once per session."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest

from local.processes import (
    Service,
    firestore_emulator_available,
    start_firestore_emulator,
    start_redis_server,
)

IN_CI = os.environ.get("CI", "").lower() == "true"


def require(available: bool, what: str) -> None:
    """Skip on a laptop without the service; in CI a missing service is a failure, never a skip."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Service]:
    require(shutil.which("redis-server") is not None, "redis-server (apt-get install redis-server)")
    service = start_redis_server()
    yield service
    service.stop()


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[Service]:
    require(
        firestore_emulator_available(),
        "the Firestore emulator (gcloud components install cloud-firestore-emulator)",
    )
    service = start_firestore_emulator()
    yield service
    service.stop()


@pytest.fixture
def namespace() -> str:
    """A fresh key prefix per test, so tests sharing one store never see each other's data."""
    return f"t{uuid.uuid4().hex[:10]}_"
