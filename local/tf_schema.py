"""infra/terraform checked against the google provider's own schema, offline.

The provider cannot be downloaded on the build machines, so `terraform validate` cannot run there. HashiCorp
publishes every resource's schema in generated form: the npm package @cdktf/provider-google is built from
one provider version (its package.json, `cdktf.provider.version`). In its `lib/<resource>/index.js`, each
`…ToTerraform(struct)` function maps a block's fields to their Terraform names (a nested block is another
such function), and `index.d.ts` marks the optional fields with `?`. From those this reads, per resource
type, the arguments and nested blocks at every level and which are required, then checks each resource
and data source of a configuration: the type exists, every argument and block used exists where it is
used, and every required one is set.

    python -m local.tf_schema fetch     # the package into .venv-tools (npm pack; cached)
    python -m local.tf_schema check     # infra/terraform against it; exit 1 on a problem
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TF_DIR = REPO / "infra" / "terraform"
PACKAGE, VERSION = "@cdktf/provider-google", "16.12.1"
PROVIDER_VERSION = "6.50.0"  # what that package was generated from (its package.json says so; checked)
SCHEMA_DIR = REPO / ".venv-tools" / f"cdktf-provider-google-{VERSION}"
# Arguments and blocks Terraform itself gives every resource, whatever the provider says.
META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "provider"})
META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})


@dataclass
class Block:
    """One level of a resource's schema: its arguments and nested blocks, each with whether it is required."""

    arguments: dict[str, bool] = field(default_factory=dict)
    blocks: dict[str, tuple[Block, bool]] = field(default_factory=dict)


class SchemaMissing(RuntimeError):
    """The package has not been fetched (`python -m local.tf_schema fetch`)."""


# ---- fetching ------------------------------------------------------------------------------------------
def fetch(target: Path = SCHEMA_DIR) -> Path:
    """npm pack the pinned package and keep what the check reads (each resource's index.js and index.d.ts,
    and package.json); once: a second call finds it there."""
    if (target / "package.json").exists():
        return target
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            ["npm", "pack", "--silent", f"{PACKAGE}@{VERSION}", "--pack-destination", scratch],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        [archive] = Path(scratch).glob("*.tgz")
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(archive) as tar:
            wanted = [
                member
                for member in tar.getmembers()
                if member.isfile()
                and (
                    member.name == "package/package.json"
                    or re.fullmatch(r"package/lib/[a-z0-9-]+/index\.(js|d\.ts)", member.name)
                )
            ]
            tar.extractall(partial, members=wanted, filter="data")
        (partial / "package").rename(target)
        partial.rmdir()
    return target


def provider_version(root: Path = SCHEMA_DIR) -> str:
    import json

    return str(json.loads((root / "package.json").read_text())["cdktf"]["provider"]["version"])


# ---- reading the schema ----------------------------------------------------------------------------
_FUNCTION = re.compile(r"^function (\w+)ToTerraform\(struct\) \{\n(.*?)\n\}$", re.M | re.S)
_SYNTHESIZE = re.compile(
    r"^    synthesizeAttributes\(\) \{\n        return \{\n(.*?)\n        \};", re.M | re.S
)
_FIELD = re.compile(r"^\s+(\w+): (.*?),?$", re.M)
_NESTED = re.compile(r"(?<![.\w])(\w+)ToTerraform\b")
_PROPERTY = re.compile(r"(?:struct!?|this)\.(?:_)?(\w+)")
_INTERFACE = re.compile(r"^export interface (\w+)(?: extends [\w.]+)? \{\n(.*?)^\}", re.M | re.S)
_READONLY = re.compile(r"^    readonly (\w+)(\?)?:", re.M)
_CLASS = re.compile(r"^export declare class (\w+) extends cdktf\.Terraform(?:Resource|DataSource) ", re.M)


def directory_for(kind: str, data: bool = False) -> str:
    """google_cloud_tasks_queue → cloud-tasks-queue (a data source: data-google-…)."""
    name = kind.removeprefix("google_").replace("_", "-")
    return f"data-google-{name}" if data else name


@cache
def load(kind: str, data: bool = False, root: Path = SCHEMA_DIR) -> Block | None:
    """The schema of a resource (or data source) type; None when the provider has no such type."""
    if not (root / "package.json").exists():
        raise SchemaMissing(f"{root} is missing: run `python -m local.tf_schema fetch`")
    folder = root / "lib" / directory_for(kind, data)
    if not folder.is_dir():
        return None
    script, typings = (folder / "index.js").read_text(), (folder / "index.d.ts").read_text()
    optional = {
        name: {prop: bool(mark) for prop, mark in _READONLY.findall(body)}
        for name, body in _INTERFACE.findall(typings)
    }
    functions = dict(_FUNCTION.findall(script))
    [class_name] = _CLASS.findall(typings)
    [top] = _SYNTHESIZE.findall(script)

    def block(fields: str, interface: str, seen: tuple[str, ...]) -> Block:
        result = Block()
        props = optional.get(interface, {})
        for name, expression in _FIELD.findall(fields):
            prop = next(iter(_PROPERTY.findall(expression)), "")
            required = props.get(prop) is False  # declared without `?`
            nested = [n for n in _NESTED.findall(expression) if n in functions]
            if nested and nested[0] not in seen:
                body = functions[nested[0]]
                inner = body[body.index("return {") :]
                child_interface = nested[0][0].upper() + nested[0][1:]
                result.blocks[name] = (block(inner, child_interface, (*seen, nested[0])), required)
            else:
                result.arguments[name] = required
        return result

    return block(top, f"{class_name}Config", ())


# ---- checking a configuration ----------------------------------------------------------------------------
def configuration(directory: Path = TF_DIR) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(file, "resource" or "data", "type.name", body) of every resource and data source."""
    import hcl2
    from hcl2 import SerializationOptions

    options = SerializationOptions(with_comments=False, explicit_blocks=True, strip_string_quotes=True)
    found = []
    for path in sorted(directory.glob("*.tf")):
        parsed = hcl2.loads(path.read_text(), serialization_options=options)
        for section in ("resource", "data"):
            for entry in parsed.get(section, []):
                for kind, named in entry.items():
                    for name, body in named.items():
                        found.append((path.name, section, f"{kind}.{name}", body))
    return found


def _is_block(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
    )


def check_body(schema: Block, body: dict[str, Any], where: str, *, top: bool = False) -> list[str]:
    """What in `body` the schema does not allow, and what it requires that `body` lacks."""
    problems: list[str] = []
    present: set[str] = set()
    for name, value in body.items():
        if name == "__is_block__" or (top and name in META_ARGUMENTS):
            continue
        if name == "dynamic" and isinstance(value, list):  # [{label: {for_each, content: [body]}}]
            for dynamic in value:
                for inner_name, spec in dynamic.items():
                    if inner_name == "__is_block__":
                        continue
                    present.add(inner_name)
                    contents = spec.get("content", []) if isinstance(spec, dict) else []
                    problems += _check_block(schema, inner_name, contents, where)
            continue
        present.add(name)
        if _is_block(value):
            if top and name in META_BLOCKS:
                continue
            problems += _check_block(schema, name, value, where)
        elif name not in schema.arguments:
            hint = " (it is a block there)" if name in schema.blocks else ""
            problems.append(f"{where}: no argument `{name}` here{hint}")
    for name, required in schema.arguments.items():
        if required and name not in present:
            problems.append(f"{where}: the required argument `{name}` is not set")
    for name, (_, required) in schema.blocks.items():
        if required and name not in present:
            problems.append(f"{where}: the required block `{name}` is missing")
    return problems


def _check_block(schema: Block, name: str, bodies: list[dict[str, Any]], where: str) -> list[str]:
    if name not in schema.blocks:
        hint = " (it is an argument there)" if name in schema.arguments else ""
        return [f"{where}: no block `{name}` here{hint}"]
    inner, _ = schema.blocks[name]
    return [problem for body in bodies for problem in check_body(inner, body, f"{where}.{name}")]


def check(directory: Path = TF_DIR, root: Path = SCHEMA_DIR) -> list[str]:
    """Every problem of the configuration in `directory`, as "file: type.name.block: what"."""
    problems = []
    for file, section, address, body in configuration(directory):
        kind = address.split(".")[0]
        if not kind.startswith("google_"):
            continue  # terraform_data and other built-ins are not the provider's
        schema = load(kind, section == "data", root)
        if schema is None:
            problems.append(f"{file}: {address}: the google provider has no {section} type `{kind}`")
            continue
        problems += check_body(schema, body, f"{file}: {address}", top=True)
    return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.tf_schema", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["fetch", "check"])
    args = parser.parse_args(argv)
    if args.command == "fetch":
        sys.stdout.write(f"{fetch()} (google provider {provider_version()})\n")
        return
    problems = check()
    sys.stdout.write("".join(f"{problem}\n" for problem in problems) or "no problems\n")
    raise SystemExit(1 if problems else 0)


if __name__ == "__main__":
    main()
