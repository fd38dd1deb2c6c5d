"""infra/terraform against the google provider's schema, read from @cdktf/provider-google
(local/tf_schema.py): every resource type exists, every argument and block is where the provider has it,
nothing required is missing. The negative cases show the check catches each kind of mistake."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from local import tf_schema
from tests.conftest import require


@pytest.fixture(scope="module")
def schema_dir() -> Path:
    if not (tf_schema.SCHEMA_DIR / "package.json").exists():
        require(shutil.which("npm") is not None, "npm (to fetch @cdktf/provider-google)")
        tf_schema.fetch()
    return tf_schema.SCHEMA_DIR


def test_the_package_is_the_provider_version_versions_tf_allows(schema_dir: Path) -> None:
    assert tf_schema.provider_version(schema_dir) == tf_schema.PROVIDER_VERSION
    versions = (tf_schema.TF_DIR / "versions.tf").read_text()
    # The lower bound is the version checked: a newer 6.x only adds to the schema.
    assert re.search(rf'version\s*=\s*">= {re.escape(tf_schema.PROVIDER_VERSION)}, < 7', versions), versions


def test_every_resource_matches_the_providers_schema(schema_dir: Path) -> None:
    assert tf_schema.check(root=schema_dir) == []
    checked = {address.split(".")[0] for _, _, address, _ in tf_schema.configuration()}
    assert {"google_cloudfunctions2_function", "google_cloud_tasks_queue"} <= checked


def test_the_schema_reads_nesting_and_required_fields(schema_dir: Path) -> None:
    function = tf_schema.load("google_cloudfunctions2_function", root=schema_dir)
    assert function is not None
    assert function.arguments["name"] is True and function.arguments["description"] is False
    build, _ = function.blocks["build_config"]
    source, _ = build.blocks["source"]
    storage, _ = source.blocks["storage_source"]
    assert {"bucket", "object"} <= set(storage.arguments)
    assert "environment_variables" in build.arguments  # a map is an argument, not a block
    queue = tf_schema.load("google_cloud_tasks_queue", root=schema_dir)
    assert queue is not None and "max_dispatches_per_second" in queue.blocks["rate_limits"][0].arguments
    assert tf_schema.load("google_cloud_tasks_queues", root=schema_dir) is None


def _broken(tmp_path: Path, old: str, new: str) -> list[str]:
    """The configuration with one edit in functions.tf, checked."""
    for path in tf_schema.TF_DIR.glob("*.tf"):
        text = path.read_text()
        if path.name == "functions.tf":
            assert old in text, old
            text = text.replace(old, new, 1)
        (tmp_path / path.name).write_text(text)
    return tf_schema.check(tmp_path, root=tf_schema.SCHEMA_DIR)


def test_a_misspelled_argument_fails(schema_dir: Path, tmp_path: Path) -> None:
    problems = _broken(tmp_path, "max_instance_count", "max_instances_count")
    where = "functions.tf: google_cloudfunctions2_function.fn.service_config"
    assert problems == [f"{where}: no argument `max_instances_count` here"]


def test_a_block_at_the_wrong_level_fails(schema_dir: Path, tmp_path: Path) -> None:
    # storage_source belongs inside build_config.source, not directly in build_config
    problems = _broken(
        tmp_path, "    source {\n      storage_source {", "    storage_source {\n      source {"
    )
    assert any("build_config: no block `storage_source` here" in p for p in problems), problems


def test_a_missing_required_argument_fails(schema_dir: Path, tmp_path: Path) -> None:
    problems = _broken(tmp_path, "  location    = var.region\n", "")
    assert problems == [
        "functions.tf: google_cloudfunctions2_function.fn: the required argument `location` is not set"
    ]


def test_an_unknown_resource_type_fails(schema_dir: Path, tmp_path: Path) -> None:
    problems = _broken(
        tmp_path, 'resource "google_cloudfunctions2_function"', 'resource "google_cloudfunction2_function"'
    )
    assert any("no resource type `google_cloudfunction2_function`" in p for p in problems), problems
