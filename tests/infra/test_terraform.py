"""Offline checks of infra/terraform: `terraform fmt`, checkov, and the wiring between Terraform and the code.

The google provider cannot be downloaded on the build machines, so `terraform validate` and `plan` run
where it can (`make tf-validate`). Here the HCL is parsed with python-hcl2 and held against
`shared.config` and the handlers: every function deployed with its entry point, every setting it requires
provided (secrets only as secret environment variables), task handlers callable only by the tasks
invoker, queue names, URLs and max attempts matching what the code reads. Each checker returns a list of
problems, so the negative tests feed it a broken copy of the configuration and watch it complain.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import flask
import hcl2
import pytest
from hcl2 import SerializationOptions
from pydantic import SecretStr

from local import run
from local.cloud_tasks_emulator import build_parser, emulator_from_args
from local.package import TARGET_PYTHON
from shared.config import _SECRETS, REQUIRED, FunctionName, Settings
from shared.entrypoints import tg
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
TF_DIR = ROOT / "infra" / "terraform"
_HCL = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)

PUBLIC = {"tilda_webhook", "tg_webhook"}  # called by Tilda and Telegram, which check their own secrets
TASK_HANDLERS = {"email_chain", "reminders"}  # called by Cloud Tasks only
TASKS_INVOKER_EMAIL = "${google_service_account.tasks_invoker.email}"
FUNCTION_URL = "https://${var.region}-${var.project_id}.cloudfunctions.net/"
# The only runtime the archives fit: local/package.py pins every function's requirements for this Python.
RUNTIME = "python{}{}".format(*TARGET_PYTHON)
# Secrets whose sender keeps the value it was given (Telegram's secret token, Tilda's header): a function
# reading "latest" would refuse the sender as soon as a version is added, so they are pinned to numbers.
PINNED_SECRETS = ("TELEGRAM_WEBHOOK_SECRET", "TILDA_SECRET")
VERSION_NUMBER = "^[1-9][0-9]*$"
# The short Cloud Run service name (what log entries carry in resource.labels.service_name) from
# service_config[0].service, which is projects/{project}/locations/{region}/services/{service}.
SHORT_SERVICE_NAME = (
    'reverse(split("/", fn.service_config[0].service))[0]',
    'element(split("/", fn.service_config[0].service), 5)',
)


QUEUE_RETRY_FIELDS = ("max_attempts", "max_retry_duration", "min_backoff", "max_backoff", "max_doublings")


def queue_settings() -> dict[str, Any]:
    """infra/terraform/queues.json: each queue's rates and retries, read by Terraform and the emulator."""
    return dict(json.loads((TF_DIR / "queues.json").read_text()))


def _type_args(annotation: Any) -> tuple[Any, ...]:
    return (annotation, *getattr(annotation, "__args__", ()))


SECRET_FIELDS = {
    name for name, info in Settings.model_fields.items() if SecretStr in _type_args(info.annotation)
}
SETTINGS_FIELDS = {name.upper() for name in Settings.model_fields}
# Settings whose values Terraform must never hold: every SecretStr field.
SECRET_VARIABLES = {name.upper() for name in SECRET_FIELDS}


# ---- Loading ---------------------------------------------------------------------------------------------


@dataclass
class Stack:
    """The parsed configuration: blocks by kind, and each file's text."""

    resources: dict[str, dict[str, dict[str, Any]]]
    variables: dict[str, dict[str, Any]]
    locals: dict[str, Any]
    outputs: dict[str, dict[str, Any]]
    texts: dict[str, str]


def load_stack(directory: Path = TF_DIR) -> Stack:
    stack = Stack({}, {}, {}, {}, {})
    for path in sorted(directory.glob("*.tf")):
        text = path.read_text()
        stack.texts[path.name] = text
        parsed = hcl2.loads(text, serialization_options=_HCL)
        for entry in parsed.get("resource", []):
            for kind, named in entry.items():
                for name, body in named.items():
                    assert name not in stack.resources.setdefault(kind, {}), f"{kind}.{name} declared twice"
                    stack.resources[kind][name] = body
        for entry in parsed.get("variable", []):
            stack.variables.update(entry)
        for entry in parsed.get("locals", []):
            stack.locals.update(entry)
        for entry in parsed.get("output", []):
            stack.outputs.update(entry)
    return stack


def block(body: dict[str, Any], *path: str) -> dict[str, Any]:
    """A nested block (python-hcl2 gives each block as a one-element list)."""
    for name in path:
        value = body.get(name)
        body = value[0] if isinstance(value, list) and value else value or {}
    return body


def resource(stack: Stack, kind: str, name: str) -> dict[str, Any]:
    return stack.resources.get(kind, {}).get(name, {})


_LOCAL_REF = re.compile(r"\$\{local\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+|\[\"[^\"]+\"\])*)\}")


def _lookup_local(stack: Stack, path: str) -> Any:
    parts = re.findall(r"[A-Za-z0-9_]+|\[\"[^\"]+\"\]", path)
    value: Any = stack.locals
    for part in parts:
        key = part[2:-2] if part.startswith("[") else part
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def resolve(stack: Stack, value: Any) -> Any:
    """Follows references to locals (`${local.a.b}`, `${local.a["b"]}`); `var.` and resources stay."""
    if not isinstance(value, str):
        return value
    whole = _LOCAL_REF.fullmatch(value)
    if whole:
        target = _lookup_local(stack, whole.group(1))
        return value if target is None else resolve(stack, target)

    def substitute(match: re.Match[str]) -> str:
        target = resolve(stack, _lookup_local(stack, match.group(1)))
        return target if isinstance(target, str) else match.group(0)

    return _LOCAL_REF.sub(substitute, value)


def variable_default(stack: Stack, reference: Any) -> tuple[bool, Any]:
    """(has a default, the default) of a `${var.name}` reference."""
    match = re.fullmatch(r"\$\{(?:tostring\()?var\.([a-z0-9_]+)\)?\}", str(reference))
    if not match or match.group(1) not in stack.variables:
        return False, None
    body = stack.variables[match.group(1)]
    return "default" in body, body.get("default")


# ---- What the configuration deploys ----------------------------------------------------------------------


def functions(stack: Stack) -> dict[str, dict[str, Any]]:
    return stack.locals.get("functions") or {}


def plain_env(stack: Stack, name: str) -> dict[str, Any]:
    """The plain environment of a function: local.common_env overlaid with local.env[name]."""
    common = stack.locals.get("common_env") or {}
    own = (stack.locals.get("env") or {}).get(name) or {}
    return {key: resolve(stack, value) for key, value in {**common, **own}.items()}


def secret_env(stack: Stack, name: str) -> set[str]:
    return set((functions(stack).get(name) or {}).get("secrets") or [])


def validation_conditions(stack: Stack, variable: str) -> list[str]:
    return [
        str(rule.get("condition")) for rule in (stack.variables.get(variable) or {}).get("validation") or []
    ]


# ---- Checkers: each returns the problems it finds --------------------------------------------------------


def check_deployed_functions(stack: Stack, folders: set[str]) -> list[str]:
    """One function per functions/<name>/main.py, named after it, its entry point the same name."""
    problems = []
    deployed = set(functions(stack))
    if deployed != folders:
        problems.append(f"deployed functions {sorted(deployed)} != folders with a main.py {sorted(folders)}")
    fn = resource(stack, "google_cloudfunctions2_function", "fn")
    expected = {
        "for_each": "${local.functions}",
        "name": "${each.key}",
        "location": "${var.region}",
        "project": "${var.project_id}",
    }
    for key, value in expected.items():
        if fn.get(key) != value:
            problems.append(
                f"google_cloudfunctions2_function.fn: {key} = {fn.get(key)!r}, expected {value!r}"
            )
    build = block(fn, "build_config")
    if build.get("entry_point") != "${each.key}":
        problems.append(f"entry_point = {build.get('entry_point')!r}, expected the function's name")
    runtime = build.get("runtime")
    if str(runtime).startswith("${var."):
        runtime = variable_default(stack, runtime)[1]
    if runtime != RUNTIME:
        problems.append(
            f"runtime {runtime!r} is not {RUNTIME!r}, the Python local/package.py pins the requirements for"
        )
    allowed = {
        found
        for condition in validation_conditions(stack, "python_runtime")
        for found in re.findall(r"python3\d+", condition)
    }
    if allowed != {RUNTIME}:
        problems.append(f"var.python_runtime accepts {sorted(allowed)}, not only {RUNTIME!r}")
    if (
        block(build, "source", "storage_source").get("object")
        != "${google_storage_bucket_object.source[each.key].name}"
    ):
        problems.append("the function's source is not its uploaded archive")
    service = block(fn, "service_config")
    if service.get("service_account_email") != "${google_service_account.runtime[each.key].email}":
        problems.append("a function does not run as its own runtime service account")
    for setting, key in (
        ("available_memory", "memory"),
        ("timeout_seconds", "timeout"),
        ("max_instance_count", "max_instances"),
    ):
        if service.get(setting) != f"${{each.value.{key}}}":
            problems.append(f"service_config.{setting} is not set per function from local.functions")
        missing = [name for name, spec in functions(stack).items() if not spec.get(key)]
        if missing:
            problems.append(f"no {key} for {missing}")

    archive = resource(stack, "google_storage_bucket_object", "source")
    if not re.search(
        r"\$\{file(sha256|md5)\(local\.artifact_paths\[each\.key\]\)\}", str(archive.get("name"))
    ):
        problems.append("the archive's object name does not include its content hash")
    if archive.get("source") != "${local.artifact_paths[each.key]}":
        problems.append("the uploaded archive is not local.artifact_paths[each.key]")
    if "${local.artifacts_dir}/${name}.zip" not in str(stack.locals.get("artifact_paths")):
        problems.append("local.artifact_paths is not <artifacts_dir>/<function>.zip")
    if variable_default(stack, "${var.artifacts_dir}")[1] != "../../dist":
        problems.append("var.artifacts_dir does not default to ../../dist (make package's output)")
    return problems


def check_settings(stack: Stack) -> list[str]:
    """Each function gets every setting load_settings requires of it; secrets only from Secret Manager."""
    problems = []
    fn = resource(stack, "google_cloudfunctions2_function", "fn")
    service = block(fn, "service_config")
    if service.get("environment_variables") != "${local.environment[each.key]}":
        problems.append("environment_variables is not local.environment[each.key]")
    if not re.search(r"merge\(.*local\.common_env, env\)", str(stack.locals.get("environment"))):
        problems.append(
            "local.environment does not end with merge(..., local.common_env, env): wiring may be overridden"
        )
    dynamic = block(service, "dynamic").get("secret_environment_variables") or {}
    content = block(dynamic, "content")
    if (
        dynamic.get("for_each") != "${toset(each.value.secrets)}"
        or content.get("key") != "${secret_environment_variables.value}"
    ):
        problems.append(
            "secret environment variables are not local.functions[*].secrets, each under its own name"
        )
    if (
        content.get("secret")
        != "${google_secret_manager_secret.secret[secret_environment_variables.value].secret_id}"
    ):
        problems.append("a secret environment variable does not read the Secret Manager secret of its name")

    secret_resource = resource(stack, "google_secret_manager_secret", "secret")
    if secret_resource.get("for_each") != "${local.secret_names}":
        problems.append("the Secret Manager secrets are not local.secret_names")
    provisioned = {s for spec in functions(stack).values() for s in spec.get("secrets") or []}
    if provisioned != SECRET_VARIABLES:
        problems.append(
            f"secrets provisioned {sorted(provisioned)} != SecretStr settings {sorted(SECRET_VARIABLES)}"
        )
    if SECRET_VARIABLES != {name.upper() for name in _SECRETS}:
        problems.append("shared.config._SECRETS and the SecretStr fields of Settings disagree")

    for name in functions(stack):
        plain, secrets = plain_env(stack, name), secret_env(stack, name)
        needed = list(REQUIRED[FunctionName(name)])
        if name in ("tilda_webhook", "email_chain", "tg_webhook"):
            needed.append("tasks_invoker_service_account")  # load_settings: required outside local runs
        for field in needed:
            variable = field.upper()
            if variable not in plain and variable not in secrets:
                problems.append(f"{name}: {variable} is required (shared/config.py) but not provided")
            elif variable in plain:
                has_default, default = variable_default(stack, plain[variable])
                if has_default and default in (None, ""):
                    problems.append(
                        f"{name}: {variable} is required but comes from a variable that may be empty"
                    )
        wanted_secrets = {field.upper() for field in REQUIRED[FunctionName(name)] if field in SECRET_FIELDS}
        if secrets != wanted_secrets:
            problems.append(
                f"{name}: secrets {sorted(secrets)} != the secrets it requires {sorted(wanted_secrets)}"
            )
        for variable in sorted(secrets - SECRET_VARIABLES):
            problems.append(f"{name}: {variable} is handed as a secret but is not a SecretStr setting")
        for variable in sorted(set(plain) & SECRET_VARIABLES):
            problems.append(f"{name}: {variable} is a secret but given as a plain environment variable")
        for variable in sorted(set(plain) - SETTINGS_FIELDS):
            problems.append(f"{name}: plain variable {variable} is not a field of Settings (a typo?)")
        if plain.get("APP_ENV") != "production":
            problems.append(f"{name}: APP_ENV is {plain.get('APP_ENV')!r}, not production")
        if plain.get("GOOGLE_CLOUD_PROJECT") != "${var.project_id}":
            problems.append(f"{name}: GOOGLE_CLOUD_PROJECT is not var.project_id")
        if plain.get("STATE_BACKEND", "firestore") != "firestore":
            problems.append(f"{name}: the state backend is not Firestore")
    extra_default = variable_default(stack, "${var.extra_env}")[1]
    if extra_default:
        problems.append("var.extra_env must default to no extra settings")
    return problems


def check_invokers(stack: Stack) -> list[str]:
    """Webhooks open to anyone; task handlers only to the tasks invoker; allUsers nowhere else."""
    problems = []
    public = {name for name, spec in functions(stack).items() if spec.get("public") is True}
    if public != PUBLIC:
        problems.append(f"public functions {sorted(public)} != {sorted(PUBLIC)}")
    queue_targets = set(queue_settings())
    for name in sorted(queue_targets & public):
        problems.append(f"{name} is a Cloud Tasks target but callable by anyone")
    if queue_targets != TASK_HANDLERS:
        problems.append(f"queue targets {sorted(queue_targets)} != task handlers {sorted(TASK_HANDLERS)}")

    webhooks = resource(stack, "google_cloud_run_v2_service_iam_member", "public_webhook")
    handlers = resource(stack, "google_cloud_run_v2_service_iam_member", "task_handler_invoker")
    expected_service = "${google_cloudfunctions2_function.fn[each.key].service_config[0].service}"
    for label, binding, selector, member in (
        ("public_webhook", webhooks, r"if fn\.public\}\}$", "allUsers"),
        ("task_handler_invoker", handlers, r"if !fn\.public\}\}$", f"serviceAccount:{TASKS_INVOKER_EMAIL}"),
    ):
        if not re.search(
            r"^\$\{\{for name, fn in local\.functions : name => fn " + selector, str(binding.get("for_each"))
        ):
            problems.append(f"{label} does not select the functions by local.functions[*].public")
        if binding.get("member") != member or binding.get("role") != "roles/run.invoker":
            problems.append(
                f"{label}: {binding.get('role')} for {binding.get('member')!r}, not invoker for {member!r}"
            )
        if binding.get("name") != expected_service:
            problems.append(f"{label} is not bound to the function's Cloud Run service")

    for kind, named in stack.resources.items():
        for label, body in named.items():
            members = body.get("members") or [body.get("member")]
            if {"allUsers", "allAuthenticatedUsers"} & set(members) and (kind, label) != (
                "google_cloud_run_v2_service_iam_member",
                "public_webhook",
            ):
                problems.append(f"{kind}.{label} grants a role to everyone")

    for name in functions(stack):
        invoker = plain_env(stack, name).get("TASKS_INVOKER_SERVICE_ACCOUNT")
        if invoker is not None and invoker != TASKS_INVOKER_EMAIL:
            problems.append(
                f"{name}: TASKS_INVOKER_SERVICE_ACCOUNT is not the account the task handlers accept"
            )
    return problems


def check_queues(stack: Stack) -> list[str]:
    """Queue names, location, target URLs and max attempts given to the code match the queues."""
    problems = []
    settings = Settings()
    queue = resource(stack, "google_cloud_tasks_queue", "queue")
    if queue.get("for_each") != "${local.queues}" or queue.get("name") != "${each.value.name}":
        problems.append("google_cloud_tasks_queue.queue is not one queue per local.queues entry")
    if queue.get("location") != "${var.region}":
        problems.append("the queues are not in var.region")
    retry = block(queue, "retry_config")
    for field in QUEUE_RETRY_FIELDS:
        if retry.get(field) != f"${{each.value.{field}}}":
            problems.append(f"the queues' {field} is {retry.get(field)!r}, not each.value.{field}")
    if stack.locals.get("queue_settings") != '${jsondecode(file("${path.module}/queues.json"))}':
        problems.append("local.queue_settings is not read from queues.json (the emulator reads that file)")
    horizon = "${var.effects_horizon_hours * 3600}s"
    if horizon not in str(stack.locals.get("queues")):
        problems.append("the queues do not retry for the effects horizon (max_retry_duration)")

    for target, setting in (("email_chain", "email_chain_queue"), ("reminders", "reminders_queue")):
        spec = queue_settings().get(target) or {}
        if f"var.{setting}" not in str(stack.locals.get("queues")):
            problems.append(f"the {target} queue is not named by var.{setting}")
        elif variable_default(stack, f"${{var.{setting}}}")[1] != getattr(settings, setting):
            problems.append(f"var.{setting} does not default to Settings' {setting.upper()}")
        handler = functions(stack).get(target) or {}
        concurrency = (spec.get("rate_limits") or {}).get("max_concurrent_dispatches") or 0
        if (handler.get("max_instances") or 0) < concurrency:
            problems.append(
                f"{target}: max_instances below its queue's max_concurrent_dispatches (429s cost attempts)"
            )

    urls = stack.locals.get("function_urls") or {}
    if set(urls) != set(functions(stack)):
        problems.append("local.function_urls does not list every function")
    for name in urls:
        if resolve(stack, urls[name]) != FUNCTION_URL + name:
            problems.append(f"local.function_urls.{name} is not {FUNCTION_URL}{name}")

    for name in functions(stack):
        env = plain_env(stack, name)
        for variable, target in (("EMAIL_CHAIN_URL", "email_chain"), ("REMINDERS_URL", "reminders")):
            if variable in env and env[variable] != FUNCTION_URL + target:
                problems.append(f"{name}: {variable} = {env[variable]!r} is not {target}'s URL")
        for variable, target in (("EMAIL_CHAIN_QUEUE", "email_chain"), ("REMINDERS_QUEUE", "reminders")):
            if variable in env and env[variable] != f'${{google_cloud_tasks_queue.queue["{target}"].name}}':
                problems.append(f"{name}: {variable} is not the name of the {target} queue")
        location = env.get("TASKS_LOCATION")
        if location is not None and not re.fullmatch(
            r'\$\{(var\.region|google_cloud_tasks_queue\.queue\["[a-z_]+"\]\.location)\}', str(location)
        ):
            problems.append(f"{name}: TASKS_LOCATION is not the queues' location")
    if "EFFECTS_HORIZON_HOURS" not in plain_env(stack, "email_chain"):
        problems.append("email_chain: EFFECTS_HORIZON_HOURS missing (an email step gives up at the horizon)")

    grants = stack.locals.get("queue_grants") or {}
    for name in functions(stack):
        env = plain_env(stack, name)
        for variable, target in (("EMAIL_CHAIN_QUEUE", "email_chain"), ("REMINDERS_QUEUE", "reminders")):
            if variable in env and not any(
                g == {"function": name, "queue": target, "role": "roles/cloudtasks.enqueuer"}
                for g in grants.values()
            ):
                problems.append(f"{name} is given {variable} but may not enqueue there")
    return problems


def collections_with_ttl(root: Path = ROOT / "shared") -> set[str]:
    """Collections the code writes with an expiry, found in its source: `create`/`put(..., ttl=...)`,
    `compare_and_set(..., ttl=...)`, `update_document(..., ttl=...)`, `hold_locks(store, collection)`,
    `RateLimiter(store, collection)`."""
    trees = {path: ast.parse(path.read_text()) for path in root.rglob("*.py")}
    # Module-level string constants (SLOT_CLAIMS = "slot_claims"), per module; imported ones by name.
    constants: dict[Path, dict[str, str]] = {
        path: {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for path, tree in trees.items()
    }
    anywhere = {name: value for module in constants.values() for name, value in module.items()}
    found: set[str] = set()
    for path, tree in trees.items():
        for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            has_ttl = any(
                k.arg == "ttl" and not (isinstance(k.value, ast.Constant) and k.value.value is None)
                for k in call.keywords
            )
            position = (
                {"create": 0, "put": 0, "compare_and_set": 0, "update_document": 1}.get(name)
                if has_ttl
                else None
            )
            if name in ("hold_locks", "RateLimiter", "take_lease"):  # always with an expiry (lease, window)
                position = 1
            if position is None or len(call.args) <= position:
                continue
            argument = call.args[position]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.add(argument.value)
            elif isinstance(argument, ast.Name):
                value = constants[path].get(argument.id, anywhere.get(argument.id))
                if value is not None:
                    found.add(value)
    return found


def check_ttl(stack: Stack, expected: set[str]) -> list[str]:
    problems = []
    declared = set(stack.locals.get("ttl_collections") or [])
    if declared != expected:
        problems.append(
            f"TTL policies on {sorted(declared)} != collections written with a ttl {sorted(expected)}"
        )
    field = resource(stack, "google_firestore_field", "expires_at")
    if field.get("for_each") != "${toset(local.ttl_collections)}" or field.get("field") != "expires_at":
        problems.append("google_firestore_field.expires_at is not one expires_at policy per TTL collection")
    if field.get("collection") != "${var.state_namespace}${each.key}":
        problems.append("the TTL policies ignore STATE_NAMESPACE")
    if "ttl_config" not in field:
        problems.append("google_firestore_field.expires_at has no ttl_config")
    return problems


def check_documented(stack: Stack) -> list[str]:
    problems = [
        f"variable {name} has no type" for name, body in stack.variables.items() if not body.get("type")
    ]
    problems += [
        f"variable {name} has no description"
        for name, body in stack.variables.items()
        if not str(body.get("description") or "").strip()
    ]
    problems += [
        f"output {name} has no description"
        for name, body in stack.outputs.items()
        if not str(body.get("description") or "").strip()
    ]
    return problems


SECRET_LOOKING = {
    "Telegram bot token": re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b"),
    "OpenAI key": re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),
    "Resend key": re.compile(r"\bre_[A-Za-z0-9]{16,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "literal service account": re.compile(r"[a-z0-9-]+@[a-z][a-z0-9-]+\.iam\.gserviceaccount\.com"),
    "literal project path": re.compile(r"projects/[a-z][a-z0-9-]{4,}"),
}


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [
            item for key, inner in value.items() for item in _walk(inner, f"{path}.{key}" if path else key)
        ]
    if isinstance(value, list):
        return [item for inner in value for item in _walk(inner, path)]
    return [(path, value)]


def check_no_literals(stack: Stack) -> list[str]:
    """No secret, project id or project-bound account written into the configuration."""
    problems = [
        f"{filename}: looks like a {what}"
        for filename, text in stack.texts.items()
        for what, pattern in SECRET_LOOKING.items()
        if pattern.search(text)
    ]
    if "default" in stack.variables.get("project_id", {}):
        problems.append("var.project_id has a default: the project would be hard-coded")
    for kind, named in stack.resources.items():
        for label, body in named.items():
            for path, value in _walk(body):
                if path.split(".")[-1] in ("project", "project_id") and value != "${var.project_id}":
                    problems.append(f"{kind}.{label}.{path} = {value!r}, not var.project_id")
    return problems


def check_webhook_registration(stack: Stack) -> list[str]:
    problems = []
    registration = resource(stack, "terraform_data", "telegram_webhook")
    triggers = registration.get("triggers_replace") or []
    if '${google_cloudfunctions2_function.fn["tg_webhook"].url}' not in triggers:
        problems.append("the webhook is not registered again when tg_webhook's URL changes")
    if '${local.secret_versions["TELEGRAM_WEBHOOK_SECRET"]}' not in triggers:
        problems.append("the webhook is not registered again when the webhook secret's version changes")
    command = block(registration, "provisioner", "local-exec")
    if "-m local.telegram_webhook set --url" not in str(command.get("command")):
        problems.append("the registration does not run `python -m local.telegram_webhook set --url`")
    if resolve(stack, (command.get("environment") or {}).get("WEBHOOK_URL")) != FUNCTION_URL + "tg_webhook":
        problems.append("the registered URL is not tg_webhook's")
    return problems


def check_secret_pins(stack: Stack) -> list[str]:
    """The webhook and Tilda secrets are read at a pinned version number, so a rotation is rolled out by a
    new pin: new revisions of the functions and, for the webhook secret, a new registration."""
    problems = []
    body = stack.variables.get("secret_versions") or {}
    default = body.get("default") or {}
    conditions = validation_conditions(stack, "secret_versions")
    for name in PINNED_SECRETS:
        if not re.fullmatch(VERSION_NUMBER, str(default.get(name))):
            problems.append(f"var.secret_versions does not pin {name} to a version number by default")
        if not any(name in condition and f'"{VERSION_NUMBER}"' in condition for condition in conditions):
            problems.append(f"no validation of var.secret_versions requires a version number for {name}")
    if "var.secret_versions" not in str(stack.locals.get("secret_versions")):
        problems.append("local.secret_versions does not read var.secret_versions")
    service = block(resource(stack, "google_cloudfunctions2_function", "fn"), "service_config")
    content = block(block(service, "dynamic").get("secret_environment_variables") or {}, "content")
    if content.get("version") != "${local.secret_versions[secret_environment_variables.value]}":
        problems.append("the functions do not read the secret versions of local.secret_versions")
    return problems


def check_monitoring(stack: Stack) -> list[str]:
    """The ERROR-log alert matches the functions' Cloud Run services by the names log entries carry; the
    uptime check probes tg_webhook's URL."""
    problems = []
    alert = resource(stack, "google_monitoring_alert_policy", "error_logs")
    log_filter = str(block(alert, "conditions", "condition_matched_log").get("filter"))
    for part in (
        'resource.type=\\"cloud_run_revision\\"',
        "severity>=ERROR",
        'resource.labels.service_name=(${join(" OR ", [for service in local.function_services :',
    ):
        if part not in log_filter:
            problems.append(f"the ERROR-log alert's filter lacks {part!r}")
    services = re.fullmatch(
        r"\$\{\[for fn in google_cloudfunctions2_function\.fn : (.+)\]\}",
        str(stack.locals.get("function_services")),
    )
    if not services or services.group(1) not in SHORT_SERVICE_NAME:
        problems.append(
            "local.function_services is not the services' short names (resource.labels.service_name of "
            "their logs): service_config[0].service is the full projects/.../services/<name>"
        )

    uptime = resource(stack, "google_monitoring_uptime_check_config", "tg_webhook")
    check = block(uptime, "http_check")
    host = resolve(stack, (block(uptime, "monitored_resource").get("labels") or {}).get("host"))
    probed = f"https://{host}{check.get('path')}"
    if probed != FUNCTION_URL + "tg_webhook" or probed != resolve(
        stack, (stack.locals.get("function_urls") or {}).get("tg_webhook")
    ):
        problems.append(f"the uptime check probes {probed!r}, not tg_webhook's URL")
    if check.get("use_ssl") is not True or check.get("port") != 443:
        problems.append("the uptime check does not use HTTPS on port 443")
    down = resource(stack, "google_monitoring_alert_policy", "tg_webhook_down")
    if "${google_monitoring_uptime_check_config.tg_webhook.uptime_check_id}" not in str(
        block(down, "conditions", "condition_threshold").get("filter")
    ):
        problems.append("the tg_webhook_down alert does not watch the tg_webhook uptime check")
    return problems


def check_skip_reasons(stack: Stack) -> list[str]:
    """Every checkov skip names its check and says why, in place."""
    problems = []
    for filename, text in stack.texts.items():
        for match in re.finditer(r"checkov:skip=([^\s:]*)(?::(.*))?", text):
            check, reason = match.group(1), (match.group(2) or "").strip()
            if not re.fullmatch(r"CKV2?_[A-Z]+_\d+", check):
                problems.append(f"{filename}: skip of {check!r} names no check")
            if len(reason.split()) < 5:
                problems.append(f"{filename}: skip of {check} gives no reason")
    return problems


# ---- Tests: the configuration as it is ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Stack:
    return load_stack()


def function_folders() -> set[str]:
    return {path.parent.name for path in (ROOT / "functions").glob("*/main.py")}


class TestWiring:
    def test_every_function_folder_is_deployed_with_its_entry_point(self, stack: Stack) -> None:
        assert check_deployed_functions(stack, function_folders()) == []

    def test_every_required_setting_is_provided_and_secrets_only_as_secrets(self, stack: Stack) -> None:
        assert check_settings(stack) == []

    def test_task_handlers_are_private_and_webhooks_public(self, stack: Stack) -> None:
        assert check_invokers(stack) == []

    def test_queue_names_urls_and_attempts_match_the_code(self, stack: Stack) -> None:
        assert check_queues(stack) == []

    def test_every_expiring_collection_has_a_ttl_policy(self, stack: Stack) -> None:
        assert check_ttl(stack, collections_with_ttl()) == []

    def test_variables_and_outputs_are_typed_and_described(self, stack: Stack) -> None:
        assert check_documented(stack) == []

    def test_no_secret_or_project_is_written_in(self, stack: Stack) -> None:
        assert check_no_literals(stack) == []

    def test_the_telegram_webhook_is_registered_with_its_secret(self, stack: Stack) -> None:
        assert check_webhook_registration(stack) == []

    def test_secrets_shared_with_telegram_and_tilda_are_pinned(self, stack: Stack) -> None:
        assert check_secret_pins(stack) == []

    def test_alerts_watch_the_functions_services_and_tg_webhooks_url(self, stack: Stack) -> None:
        assert check_monitoring(stack) == []

    def test_checkov_skips_say_why(self, stack: Stack) -> None:
        assert check_skip_reasons(stack) == []

    def test_the_tfvars_example_sets_every_required_variable_and_nothing_else(self, stack: Stack) -> None:
        example = hcl2.loads((TF_DIR / "terraform.tfvars.example").read_text(), serialization_options=_HCL)
        required = {name for name, body in stack.variables.items() if "default" not in body}
        assert set(example) - set(stack.variables) == set()
        assert required - set(example) == set()
        assert not SECRET_VARIABLES & {key.upper() for key in example}
        text = (TF_DIR / "terraform.tfvars.example").read_text()
        assert [what for what, pattern in SECRET_LOOKING.items() if pattern.search(text)] == []

    def test_the_uptime_check_accepts_what_tg_webhook_answers_a_get(self, stack: Stack) -> None:
        check = block(resource(stack, "google_monitoring_uptime_check_config", "tg_webhook"), "http_check")
        accepted = block(check, "accepted_response_status_codes").get("status_value")
        with flask.Flask(__name__).test_request_context("/tg_webhook", method=check.get("request_method")):
            answer = tg.handle(flask.request, SimpleNamespace(settings=None))  # type: ignore[arg-type]
        assert check.get("path") == "/tg_webhook"
        assert answer.status_code == accepted == 405

    def test_the_code_writes_expiring_documents_where_the_scanner_looks(self) -> None:
        # The TTL scanner must keep finding what it is meant to find, or the TTL test would pass vacuously.
        assert {"once", "lead_locks", "slot_claims", "ai_history", "ai_rate"} <= collections_with_ttl()
        # DATA_RETENTION_DAYS: a parent's lead, its index and chat session expire too.
        assert {"leads", "lead_index", "sessions"} <= collections_with_ttl()


# ---- Tests: the checkers catch a broken configuration ----------------------------------------------------


def _edit(path: list[str], value: Any) -> Callable[[Stack], None]:
    def apply(stack: Stack) -> None:
        target: Any = stack
        for key in path[:-1]:
            target = getattr(target, key) if isinstance(target, Stack) else target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return apply


_DELETE = object()

BROKEN = {
    "email_chain public": (
        _edit(["locals", "functions", "email_chain", "public"], True),
        check_invokers,
        "email_chain is a Cloud Tasks target but callable by anyone",
    ),
    "reminders open to allUsers": (
        _edit(
            ["resources", "google_cloud_run_v2_service_iam_member", "task_handler_invoker", "member"],
            "allUsers",
        ),
        check_invokers,
        "task_handler_invoker grants a role to everyone",
    ),
    "tasks invoker mismatch": (
        _edit(
            ["locals", "env", "tg_webhook", "TASKS_INVOKER_SERVICE_ACCOUNT"],
            "${google_service_account.build.email}",
        ),
        check_invokers,
        "tg_webhook: TASKS_INVOKER_SERVICE_ACCOUNT",
    ),
    "required setting missing": (
        _edit(["locals", "env", "tg_webhook", "MANAGER_LINK"], _DELETE),
        check_settings,
        "tg_webhook: MANAGER_LINK is required",
    ),
    "required setting from a nullable variable": (
        _edit(["locals", "env", "email_chain", "EMAIL_FROM"], "${var.dev_chat_id}"),
        check_settings,
        "email_chain: EMAIL_FROM is required but comes from a variable that may be empty",
    ),
    "secret as plain variable": (
        _edit(["locals", "common_env", "TILDA_SECRET"], "${var.tilda_secret}"),
        check_settings,
        "TILDA_SECRET is a secret but given as a plain environment variable",
    ),
    "secret handed to a function that does not need it": (
        _edit(["locals", "functions", "reminders", "secrets"], ["TELEGRAM_BOT_TOKEN", "OPENAI_API_KEY"]),
        check_settings,
        "reminders: secrets",
    ),
    "typo in a plain variable": (
        _edit(["locals", "env", "reminders", "MANAGER_CHAT_DI"], "${var.manager_chat_id}"),
        check_settings,
        "MANAGER_CHAT_DI is not a field of Settings",
    ),
    "email chain URL pointing at reminders": (
        _edit(["locals", "env", "tilda_webhook", "EMAIL_CHAIN_URL"], "${local.function_urls.reminders}"),
        check_queues,
        "tilda_webhook: EMAIL_CHAIN_URL",
    ),
    "queue name literal": (
        _edit(["locals", "env", "email_chain", "EMAIL_CHAIN_QUEUE"], "email-chain"),
        check_queues,
        "email_chain: EMAIL_CHAIN_QUEUE is not the name of the email_chain queue",
    ),
    "max attempts drift": (
        _edit(["resources", "google_cloud_tasks_queue", "queue", "retry_config"], [{"max_attempts": 3}]),
        check_queues,
        "the queues' max_attempts is 3",
    ),
    "queue settings not from the shared file": (
        _edit(["locals", "queue_settings"], '${jsondecode(file("${path.module}/other.json"))}'),
        check_queues,
        "local.queue_settings is not read from queues.json",
    ),
    "queue default drift": (
        _edit(["variables", "reminders_queue", "default"], "reminder"),
        check_queues,
        "var.reminders_queue does not default to Settings' REMINDERS_QUEUE",
    ),
    "entry point": (
        _edit(
            ["resources", "google_cloudfunctions2_function", "fn", "build_config"], [{"entry_point": "main"}]
        ),
        lambda stack: check_deployed_functions(stack, function_folders()),
        "entry_point = 'main'",
    ),
    "undocumented variable": (
        _edit(["variables", "region", "description"], ""),
        check_documented,
        "variable region has no description",
    ),
    "hard-coded project": (
        _edit(["resources", "google_storage_bucket", "artifacts", "project"], "allin-prod-123"),
        check_no_literals,
        "google_storage_bucket.artifacts.project = 'allin-prod-123'",
    ),
    "literal bot token": (
        _edit(["texts", "telegram.tf"], 'token = "123456789:AAHk2mLq-8sZp3Vb9xWc1YtRr0QeUuIoPa4"'),
        check_no_literals,
        "looks like a Telegram bot token",
    ),
    "skip without reason": (
        _edit(["texts", "artifacts.tf"], "  #checkov:skip=CKV_GCP_62\n"),
        check_skip_reasons,
        "skip of CKV_GCP_62 gives no reason",
    ),
    "webhook not re-registered on secret rotation": (
        _edit(["resources", "terraform_data", "telegram_webhook", "triggers_replace"], []),
        check_webhook_registration,
        "when the webhook secret's version changes",
    ),
    "error-log alert on the services' full names": (
        _edit(
            ["locals", "function_services"],
            "${[for fn in google_cloudfunctions2_function.fn : fn.service_config[0].service]}",
        ),
        check_monitoring,
        "local.function_services is not the services' short names",
    ),
    "uptime check on another path": (
        _edit(
            ["resources", "google_monitoring_uptime_check_config", "tg_webhook", "http_check"],
            [{"path": "/tg-webhook", "port": 443, "use_ssl": True}],
        ),
        check_monitoring,
        "not tg_webhook's URL",
    ),
    "webhook secret read at latest": (
        _edit(["variables", "secret_versions", "default"], {"TILDA_SECRET": "1"}),
        check_secret_pins,
        "does not pin TELEGRAM_WEBHOOK_SECRET to a version number",
    ),
    "pin validation dropped": (
        lambda stack: stack.variables["secret_versions"]["validation"].pop(),
        check_secret_pins,
        "no validation of var.secret_versions requires a version number for TILDA_SECRET",
    ),
    "runtime the archives are not built for": (
        _edit(["variables", "python_runtime", "default"], "python312"),
        lambda stack: check_deployed_functions(stack, function_folders()),
        "runtime 'python312' is not 'python311'",
    ),
    "runtime validation allowing another Python": (
        _edit(
            ["variables", "python_runtime", "validation"],
            [{"condition": '${contains(["python311", "python313"], var.python_runtime)}'}],
        ),
        lambda stack: check_deployed_functions(stack, function_folders()),
        "var.python_runtime accepts ['python311', 'python313']",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_a_broken_configuration_is_caught(stack: Stack, case: str) -> None:
    mutate, checker, expected = BROKEN[case]
    broken = copy.deepcopy(stack)
    mutate(broken)
    problems = checker(broken)
    assert any(expected in problem for problem in problems), problems


def test_a_missing_ttl_policy_is_caught(stack: Stack) -> None:
    expected = collections_with_ttl() | {"new_cache"}
    assert any("new_cache" in problem for problem in check_ttl(stack, expected))


def test_a_new_function_folder_is_caught(stack: Stack) -> None:
    problems = check_deployed_functions(stack, function_folders() | {"payments_webhook"})
    assert any("payments_webhook" in problem for problem in problems)


# ---- Tools: terraform fmt and checkov ----------------------------------------------------------------------


def _terraform() -> str:
    path = shutil.which("terraform")
    require(path is not None, "terraform (https://developer.hashicorp.com/terraform/install)")
    assert path is not None
    return path


def _fmt_check(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_terraform(), "fmt", "-check", "-recursive", "-diff"],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )


class TestTools:
    def test_terraform_fmt(self, tmp_path: Path) -> None:
        result = _fmt_check(TF_DIR)
        assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"
        # fmt skips *.tfvars.example: check it under a name it reads.
        shutil.copy(TF_DIR / "terraform.tfvars.example", tmp_path / "example.tfvars")
        result = _fmt_check(tmp_path)
        assert result.returncode == 0, f"terraform fmt would change the example:\n{result.stdout}"

    def test_terraform_fmt_notices_bad_formatting(self, tmp_path: Path) -> None:
        (tmp_path / "bad.tf").write_text('variable "x" {\ntype = string\n  description="x"\n}\n')
        assert _fmt_check(tmp_path).returncode != 0

    def test_the_error_log_filter_names_the_cloud_run_services(self, stack: Stack, tmp_path: Path) -> None:
        # Terraform computes the alert's filter for functions deployed the way the API reports them: the
        # service is projects/.../services/<name>, <name> being the function's name in lower case with
        # "-" for "_"; log entries carry that short name in resource.labels.service_name.
        names = sorted(functions(stack))
        deployed = ", ".join(
            f'{name} = {{ name = "{name}", service_config = [{{ service = '
            f'"projects/allin-test/locations/europe-west1/services/{name.lower().replace("_", "-")}" }}] }}'
            for name in names
        )
        services = _expression(stack.locals["function_services"]).replace(
            "google_cloudfunctions2_function.fn", "local.deployed"
        )
        alert = resource(stack, "google_monitoring_alert_policy", "error_logs")
        log_filter = _expression(block(alert, "conditions", "condition_matched_log")["filter"])
        (tmp_path / "main.tf").write_text(
            f"locals {{\n  deployed = {{ {deployed} }}\n  function_services = {services}\n"
            f"  filter = {log_filter}\n}}\n"
        )
        computed = _terraform_console(tmp_path, "local.filter")
        assert computed == (
            'resource.type="cloud_run_revision" AND resource.labels.service_name=('
            '"email-chain" OR "reminders" OR "tg-webhook" OR "tilda-webhook") AND severity>=ERROR'
        )

    def test_the_queues_are_deployed_as_the_emulator_runs_them(self, stack: Stack, tmp_path: Path) -> None:
        # Terraform computes each queue's settings from queues.json and the horizon; the local emulator
        # gets the same file (local/run.py) and the horizon as its default maxRetryDuration.
        shutil.copy(TF_DIR / "queues.json", tmp_path / "queues.json")
        defaults = {
            name: json.dumps(variable_default(stack, f"${{var.{name}}}")[1])
            for name in ("email_chain_queue", "reminders_queue", "effects_horizon_hours")
        }
        variables = "".join(f'variable "{n}" {{\n  default = {d}\n}}\n' for n, d in defaults.items())
        (tmp_path / "main.tf").write_text(
            f"{variables}locals {{\n  queue_settings = {_expression(stack.locals['queue_settings'])}\n"
            f"  queues = {_expression(stack.locals['queues'])}\n}}\n"
        )
        computed = _terraform_console(tmp_path, "local.queues")
        settings = Settings()
        horizon = f"{settings.effects_horizon_hours * 3600}s"
        assert computed == {
            target: {
                **spec["rate_limits"],
                **spec["retry_config"],
                "name": getattr(settings, f"{target}_queue"),
                "max_retry_duration": horizon,
            }
            for target, spec in queue_settings().items()
        }
        assert run.EFFECTS_HORIZON_HOURS == str(settings.effects_horizon_hours)
        emulator = emulator_from_args(
            build_parser().parse_args(
                [
                    "--queue",
                    "projects/p/locations/l/queues/q=email_chain",
                    "--queue-settings",
                    str(run.QUEUE_SETTINGS),
                ]
                + ["--max-retry-duration", str(settings.effects_horizon_hours * 3600)]
            )
        )
        with emulator:
            queue = emulator.get_queue("projects/p/locations/l/queues/q")
        email_chain = computed["email_chain"]
        assert queue["rateLimits"]["maxDispatchesPerSecond"] == email_chain["max_dispatches_per_second"]
        assert queue["rateLimits"]["maxConcurrentDispatches"] == email_chain["max_concurrent_dispatches"]
        assert queue["retryConfig"] == {
            "maxAttempts": email_chain["max_attempts"],
            "minBackoff": email_chain["min_backoff"],
            "maxBackoff": email_chain["max_backoff"],
            "maxDoublings": email_chain["max_doublings"],
            "maxRetryDuration": horizon,
        }

    @pytest.mark.parametrize(
        ("settings", "refusal"),
        [
            ({}, None),
            ({"secret_versions": {"TELEGRAM_WEBHOOK_SECRET": "3", "TILDA_SECRET": "2"}}, None),
            (
                {
                    "secret_versions": {
                        "TELEGRAM_WEBHOOK_SECRET": "1",
                        "TILDA_SECRET": "1",
                        "OPENAI_API_KEY": "latest",
                    }
                },
                None,
            ),
            ({"python_runtime": "python312"}, "python_runtime must be python311"),
            (
                {"secret_versions": {"TELEGRAM_WEBHOOK_SECRET": "latest", "TILDA_SECRET": "1"}},
                "must pin TELEGRAM_WEBHOOK_SECRET and TILDA_SECRET",
            ),
            (
                {"secret_versions": {"TELEGRAM_WEBHOOK_SECRET": "2"}},
                "must pin TELEGRAM_WEBHOOK_SECRET and TILDA_SECRET",
            ),
            (
                {"secret_versions": {"TELEGRAM_BOT_TOKEN": "3"}},
                "must pin TELEGRAM_WEBHOOK_SECRET and TILDA_SECRET",
            ),
            (
                {
                    "secret_versions": {
                        "TELEGRAM_WEBHOOK_SECRET": "1",
                        "TILDA_SECRET": "1",
                        "SMTP_PASSWORD": "1",
                    }
                },
                "keys must be secrets of the configuration contract",
            ),
        ],
        ids=[
            "defaults",
            "bumped pins",
            "latest for another secret",
            "python312",
            "webhook secret at latest",
            "Tilda secret not pinned",
            "neither pinned",
            "unknown secret",
        ],
    )
    def test_variable_validations(
        self, stack: Stack, tmp_path: Path, settings: dict[str, Any], refusal: str | None
    ) -> None:
        # variables.tf alone needs no provider, so Terraform itself checks its validations: the required
        # settings from the example, then the case's own.
        example = hcl2.loads((TF_DIR / "terraform.tfvars.example").read_text(), serialization_options=_HCL)
        required = {name: example[name] for name, body in stack.variables.items() if "default" not in body}
        shutil.copy(TF_DIR / "variables.tf", tmp_path / "variables.tf")
        (tmp_path / "settings.tfvars.json").write_text(json.dumps({**required, **settings}))
        result = subprocess.run(
            [
                _terraform(),
                "plan",
                "-input=false",
                "-no-color",
                "-lock=false",
                "-var-file=settings.tfvars.json",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        output = " ".join((result.stdout + result.stderr).replace("│", " ").split())
        if refusal is None:
            assert result.returncode == 0, output
        else:
            assert result.returncode != 0 and "Invalid value for variable" in output, output
            assert refusal in output, output

    def test_the_example_settings_pass_the_validations(self, tmp_path: Path) -> None:
        shutil.copy(TF_DIR / "variables.tf", tmp_path / "variables.tf")
        shutil.copy(TF_DIR / "terraform.tfvars.example", tmp_path / "terraform.tfvars")
        result = subprocess.run(
            [_terraform(), "plan", "-input=false", "-no-color", "-lock=false"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def test_checkov_finds_nothing_unjustified(self) -> None:
        report = _checkov(TF_DIR)
        summary = report["summary"]
        assert summary["parsing_errors"] == 0
        assert summary["passed"] > 0 and summary["resource_count"] > 0  # it did look at the resources
        failed = [
            f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
            for c in report["results"]["failed_checks"]
        ]
        assert failed == [], "checkov failed checks (fix them or skip in place with a reason):\n" + "\n".join(
            failed
        )
        unexplained = [
            f"{c['check_id']} {c['resource']}"
            for c in report["results"]["skipped_checks"]
            if len((c["check_result"].get("suppress_comment") or "").split()) < 5
        ]
        assert unexplained == []

    def test_checkov_notices_an_insecure_resource(self, tmp_path: Path) -> None:
        (tmp_path / "bucket.tf").write_text(
            'resource "google_storage_bucket" "open" {\n  name     = "open"\n  location = "EU"\n}\n'
        )
        assert _checkov(tmp_path)["summary"]["failed"] > 0


def _expression(value: Any) -> str:
    """The HCL expression of a `${...}` value as python-hcl2 gives it."""
    match = re.fullmatch(r"\$\{(.*)\}", str(value), re.DOTALL)
    assert match, f"not an expression: {value!r}"
    return match.group(1)


def _terraform_console(directory: Path, expression: str) -> Any:
    """The value of an expression, computed by `terraform console` (no provider needed for locals)."""
    result = subprocess.run(
        [_terraform(), "console"],
        input=f"jsonencode({expression})\n",
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(json.loads(result.stdout.strip().splitlines()[-1]))


def _checkov(directory: Path) -> dict[str, Any]:
    configured = os.environ.get("CHECKOV") or shutil.which("checkov") or ""
    binary = Path(configured) if Path(configured).is_absolute() else ROOT / configured
    require(bool(configured) and binary.is_file(), "checkov (make test installs it in .venv-tools)")
    # --skip-download: the build machines are offline, and nothing here needs Prisma Cloud.
    result = subprocess.run(
        [
            str(binary),
            "-d",
            str(directory),
            "--framework",
            "terraform",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.strip(), (
        f"checkov printed nothing (exit {result.returncode}): {result.stderr[-2000:]}"
    )
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    if "results" not in report:  # checkov's shape when it found no resource at all
        report = {"summary": report, "results": {"failed_checks": [], "skipped_checks": []}}
    return report
