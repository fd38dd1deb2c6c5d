"""local/docker-compose.yml and local/Dockerfile against the runner of `make dev` (local/run.py).

No Docker engine runs on these machines, so the compose file is parsed and held against the runner itself:
`start_stack` runs for real with the process starters replaced by recorders, in the same configurations
`make dev` uses (the arguments are read from `local.run.main`), so every expectation here (services,
commands, ports, variables, readiness checks, start order) comes from the runner's code, not from a second
copy of it. The readiness probes of the compose file are also run against the real fakes, Cloud Tasks
emulator and a functions-framework app, and its one-shot webhook registration against the Telegram fake.

Each check returns its problems as text; the negative tests feed it mutated copies of the compose file.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import yaml
from packaging.specifiers import SpecifierSet
from pydantic import SecretStr

import local.processes
import local.run
from local.cloud_tasks_emulator import build_parser as tasks_parser
from local.cloud_tasks_emulator import emulator_from_args
from local.console.__main__ import parse_args as console_parse_args
from local.console.app import Console
from local.fakes.__main__ import parse_args as fakes_parse_args
from local.fakes.runner import start_fakes
from local.httpserver import ServerThread
from local.processes import REPO, Service, free_port
from local.run import FUNCTIONS, LOCAL_DEFAULTS, Ports
from shared.config import ConfigError, Settings, load_settings

COMPOSE_FILE = REPO / "local" / "docker-compose.yml"
DOTENV = REPO / ".env"  # the developer's own file; read by the runner and, optionally, by compose
DOCKERIGNORE = REPO / ".dockerignore"
LOOPBACK, ALL_INTERFACES = "127.0.0.1", "0.0.0.0"
ONE_SHOT_CONDITION = "service_completed_successfully"
HEALTHY = "service_healthy"

Json = dict[str, Any]


# --------------------------------------------------------------------------------------------------
# The runner, as `make dev` starts it (nothing is started: the starters only record)


@dataclass(frozen=True)
class Started:
    key: str  # the runner's name for it: its key in Stack.services
    command: list[str]
    url: str
    env: dict[str, str]
    ready: str | None


@dataclass
class RunnerRun:
    store: str
    overrides: dict[str, str]  # what .env held
    services: dict[str, Started]  # in start order
    webhook_posts: list[tuple[str, Json]] = field(default_factory=list)


class _Exited:
    def poll(self) -> int:
        return 0


class _Captured(Exception):
    pass


def make_dev_arguments() -> dict[str, Any]:
    """The keyword arguments `python -m local.run` (make dev) gives `start_stack`, without a .env file."""
    captured: dict[str, Any] = {}

    def capture(*args: Any, **kwargs: Any) -> None:
        assert not args, "start_stack takes keyword arguments"
        captured.update(kwargs)
        raise _Captured

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local.run, "start_stack", capture)
        patch.setattr(sys, "argv", ["local.run", "--env-file", str(REPO / "local" / "no-such.env")])
        with pytest.raises(_Captured):
            local.run.main()
    return captured


def run_runner(store: str, overrides: Mapping[str, str] | None = None) -> RunnerRun:
    """`start_stack` as make dev calls it, every process start recorded instead of run."""
    arguments = {**make_dev_arguments(), "store": store, "overrides": dict(overrides or {}), "log_dir": None}
    by_name: dict[str, tuple[list[str], str, dict[str, str], str | None]] = {}
    posts: list[tuple[str, Json]] = []

    def start(name: str, command: list[str], url: str, **kwargs: Any) -> Service:
        env = dict(kwargs.get("env") or {})
        by_name[name] = (list(command), url, env, kwargs.get("ready"))
        return Service(name, _Exited(), url, None, env)  # type: ignore[arg-type]

    def post(url: str, **kwargs: Any) -> httpx.Response:
        posts.append((url, kwargs.get("json") or {}))
        return httpx.Response(200, json={"ok": True, "result": True}, request=httpx.Request("POST", url))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local.processes, "start", start)
        patch.setattr(local.run, "start", start)
        patch.setattr(httpx, "post", post)
        stack = local.run.start_stack(**arguments)
    services = {}
    for key, service in stack.services.items():
        command, url, env, ready = by_name[service.name]
        services[key] = Started(key, command, url, env, ready)
    return RunnerRun(stack.store, dict(overrides or {}), services, posts)


def runner_ports() -> dict[str, int]:
    return {name: getattr(Ports(), name) for name in Ports.__dataclass_fields__}


def _port(url: str) -> int | None:
    return urlsplit(url).port


def listening_ports(run: RunnerRun, key: str) -> set[int]:
    """The ports a runner service listens on: in its command, and its URL's unless an earlier one has it."""
    started = run.services[key]
    known = set(runner_ports().values())
    ports = set()
    for token in started.command:
        match = re.fullmatch(rf"(?:.*{re.escape(LOOPBACK)}:)?(\d+)", token)
        if match and int(match[1]) in known:
            ports.add(int(match[1]))
    earlier = list(run.services)[: list(run.services).index(key)]
    url_port = _port(started.url)
    if url_port is not None and all(_port(run.services[other].url) != url_port for other in earlier):
        ports.add(url_port)
    return ports


# --------------------------------------------------------------------------------------------------
# The compose file


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<default>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_]\w*))"
)


def interpolate(text: str, shell: Mapping[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$`, from `shell` only."""

    def value(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        found = shell.get(name)
        if match["op"] == ":-":
            return found if found else match["default"]
        if match["op"] == "-":
            return found if found is not None else match["default"]
        if match["op"] in (":?", "?") and not found:
            raise ValueError(f"{name} is required: {match['default']}")
        return found or ""

    return _VARIABLE.sub(value, text)


def _interpolated(node: Any, shell: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, shell)
    if isinstance(node, list):
        return [_interpolated(item, shell) for item in node]
    if isinstance(node, dict):
        return {key: _interpolated(value, shell) for key, value in node.items()}
    return node


def load_compose() -> Json:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@dataclass
class Compose:
    """A parsed compose file, interpolated with `shell` (the variables of the shell running compose)."""

    data: Json
    shell: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.services: dict[str, Json] = _interpolated(self.data.get("services") or {}, self.shell)

    def command(self, name: str) -> list[str]:
        command = self.services[name].get("command") or []
        return shlex.split(command) if isinstance(command, str) else [str(token) for token in command]

    def published(self, name: str) -> list[tuple[str, int, int]]:
        """(host ip, host port, container port) of each published port."""
        ports = []
        for entry in self.services[name].get("ports") or []:
            if isinstance(entry, dict):
                ports.append(
                    (str(entry.get("host_ip", "")), int(entry.get("published", 0)), int(entry["target"]))
                )
                continue
            parts = str(entry).split("/")[0].split(":")
            if len(parts) == 1:
                ports.append(("", 0, int(parts[0])))  # a random host port
            else:
                ports.append((":".join(parts[:-2]), int(parts[-2]), int(parts[-1])))
        return ports

    def port_owner(self) -> dict[int, str]:
        return {host: name for name in self.services for _, host, _ in self.published(name)}

    def depends_on(self, name: str) -> dict[str, str]:
        depends = self.services[name].get("depends_on") or {}
        if isinstance(depends, list):
            return dict.fromkeys(depends, "service_started")
        return {other: (spec or {}).get("condition", "service_started") for other, spec in depends.items()}

    def requires(self, name: str) -> set[str]:
        """Every service `name` waits for, directly or not."""
        seen: set[str] = set()
        todo = list(self.depends_on(name))
        while todo:
            other = todo.pop()
            if other not in seen and other in self.services:
                seen.add(other)
                todo += list(self.depends_on(other))
        return seen

    def env_files(self, name: str) -> list[tuple[Path, bool]]:
        entries = self.services[name].get("env_file") or []
        if isinstance(entries, str | dict):
            entries = [entries]
        files = []
        for entry in entries:
            path, required = (
                (entry, True) if isinstance(entry, str) else (entry["path"], entry.get("required", True))
            )
            files.append(((COMPOSE_FILE.parent / path).resolve(), bool(required)))
        return files

    def environment(self, name: str) -> dict[str, str]:
        environment = self.services[name].get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
        return {key: "" if value is None else str(value) for key, value in environment.items()}

    def builds_app_image(self, name: str) -> bool:
        build = self.services[name].get("build")
        if not isinstance(build, dict):
            return False
        context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
        return context == REPO and (
            context / build.get("dockerfile", "Dockerfile")
        ).resolve() == dockerfile_path(self)

    def effective_env(self, name: str, dotenv: Mapping[str, str] | None = None) -> dict[str, str]:
        """What the process sees: the image's ENV, then env_file in order (the repository's .env is
        `dotenv`, absent when None), then `environment`."""
        from dotenv import dotenv_values

        env = dict(dockerfile_env()) if self.builds_app_image(name) else {}
        for path, required in self.env_files(name):
            if path == DOTENV.resolve():
                if dotenv is not None:
                    env.update(dotenv)
                elif required:
                    raise AssertionError(f"{name}: {path} is required, but make dev runs without it")
                continue
            env.update({key: value or "" for key, value in dotenv_values(path).items()})
        env.update(self.environment(name))
        return env

    def healthcheck(self, name: str) -> list[str]:
        test = (self.services[name].get("healthcheck") or {}).get("test") or []
        return shlex.split(test) if isinstance(test, str) else [str(token) for token in test]

    def one_shot(self, name: str) -> bool:
        return str(self.services[name].get("restart", "")).strip() == "no"


def dockerfile_path(compose: Compose | None = None) -> Path:
    """The Dockerfile the app services build (all of them must use one)."""
    compose = compose or Compose(load_compose())
    paths = set()
    for spec in compose.services.values():
        build = spec.get("build")
        if isinstance(build, dict):
            context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
            paths.add((context / build.get("dockerfile", "Dockerfile")).resolve())
    assert len(paths) == 1, f"one image for every app service, found Dockerfiles {paths}"
    return paths.pop()


# --------------------------------------------------------------------------------------------------
# The Dockerfile and .dockerignore


def dockerfile_instructions() -> list[tuple[str, str]]:
    instructions, pending = [], ""
    for raw in dockerfile_path().read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            tokens = shlex.split(rest)
            if tokens and "=" not in tokens[0]:
                env[tokens[0]] = " ".join(tokens[1:])
            else:
                env.update(token.split("=", 1) for token in tokens)
    return env


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    destination: str  # absolute, in the image
    into_directory: bool  # `COPY a b/` or `COPY a ./`: the sources go into the destination
    index: int


def dockerfile_copies() -> list[Copy]:
    copies, workdir = [], "/"
    for index, (keyword, rest) in enumerate(dockerfile_instructions()):
        if keyword == "WORKDIR":
            workdir = os.path.normpath(os.path.join(workdir, rest))
        elif keyword in ("COPY", "ADD"):
            tokens = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
            tokens = [token for token in tokens if not token.startswith("--")]
            destination = os.path.normpath(os.path.join(workdir, tokens[-1]))
            into = tokens[-1].endswith("/") or tokens[-1] in (".", "..") or len(tokens) > 2
            copies.append(Copy(tuple(tokens[:-1]), destination, into, index))
    return copies


def dockerfile_workdir() -> str:
    workdir = "/"
    for keyword, rest in dockerfile_instructions():
        if keyword == "WORKDIR":
            workdir = os.path.normpath(os.path.join(workdir, rest))
    return workdir


def image_path_source(path: str) -> Path | None:
    """The repository file an absolute image path was copied from (None: not copied)."""
    best: tuple[int, Path] | None = None
    for copy_ in dockerfile_copies():
        for source in copy_.sources:
            # a directory's contents go to the destination; a file goes into it or becomes it
            into = copy_.into_directory and not (REPO / source).is_dir()
            target = os.path.join(copy_.destination, Path(source).name) if into else copy_.destination
            if path == target or path.startswith(target.rstrip("/") + "/"):
                if best is None or len(target) > best[0]:
                    best = (len(target), REPO / source / os.path.relpath(path, target))
    return best[1].resolve() if best else None


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's .dockerignore matching: `*` and `?` stay within a path segment, `**` crosses them."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[" and "]" in pattern[i:]:
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(relative: str) -> bool:
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    parts = relative.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _pattern_regex(os.path.normpath(pattern.lstrip("!").strip("/")))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


# --------------------------------------------------------------------------------------------------
# From runner values to compose values


def to_compose(value: str, compose: Compose, *, service: str | None = None, own: str | None = None) -> str:
    """A runner value as the compose `service` must have it: `127.0.0.1:PORT` becomes the host name of the
    service publishing PORT, or `own` for the service's own ports (0.0.0.0 to listen, 127.0.0.1 to probe);
    a bare 127.0.0.1 becomes `own`; repository paths become paths relative to the image's workdir."""
    owners = compose.port_owner()

    def address(match: re.Match[str]) -> str:
        port = int(match[1])
        host = own if own and owners.get(port) == service else owners.get(port, f"<no service on {port}>")
        return f"{host}:{port}"

    if own and value == LOOPBACK:
        return own
    if value.startswith(str(REPO) + os.sep):
        return os.path.relpath(value, REPO)
    return re.sub(rf"{re.escape(LOOPBACK)}:(\d+)", address, value)


def _program(command: list[str]) -> str:
    if not command:
        return ""
    executable = Path(command[0]).name
    if command[0] == sys.executable or executable.startswith("python"):
        return f"python -m {command[2]}" if len(command) > 2 and command[1] == "-m" else "python"
    return executable


def _arguments(command: list[str]) -> list[str]:
    return command[3:] if _program(command).startswith("python -m ") else command[1:]


def _functions_framework(arguments: list[str]) -> dict[str, Any]:
    from functions_framework._cli import _cli

    return dict(_cli.make_context("functions-framework", list(arguments)).params)


PARSERS: dict[str, Callable[[list[str]], dict[str, Any]]] = {
    "python -m local.fakes": lambda arguments: vars(fakes_parse_args(arguments)),
    "python -m local.cloud_tasks_emulator": lambda arguments: vars(tasks_parser().parse_args(arguments)),
    "functions-framework": _functions_framework,
}


def command_problems(compose: Compose, name: str, started: Started) -> list[str]:
    expected = [to_compose(token, compose, service=name, own=ALL_INTERFACES) for token in started.command]
    actual = compose.command(name)
    program = _program(expected)
    if _program(actual) != program:
        return [f"{name}: runs {_program(actual)!r}, the runner runs {program!r}"]
    parse = PARSERS.get(program)
    if parse is None:
        return [] if actual[1:] == expected[1:] else [f"{name}: command {actual}, expected {expected}"]
    try:
        got = parse(_arguments(actual))
    except (SystemExit, Exception) as exc:  # argparse exits, click raises
        return [f"{name}: {program} refuses {_arguments(actual)}: {exc!r}"]
    want = parse(_arguments(expected))
    if want.get("host") == LOOPBACK:
        want["host"] = ALL_INTERFACES  # inside a container, listen where the published port arrives
    return [
        f"{name}: {program} {key}={got.get(key)!r}, the runner's means {value!r}"
        for key, value in want.items()
        if got.get(key) != value
    ]


# --------------------------------------------------------------------------------------------------
# The checks


def as_run(compose: Compose, run: RunnerRun) -> Compose:
    """The compose file as started for `run`'s store: make dev's `--store` is the shell's STATE_BACKEND
    (unset: Firestore, make dev's first choice)."""
    backend = run.services[FUNCTIONS[0]].env.get("STATE_BACKEND", "firestore")
    return Compose(compose.data, {} if backend == "firestore" else {"STATE_BACKEND": backend})


def counterpart(compose: Compose, run: RunnerRun, key: str) -> str | None:
    if key in compose.services:
        return key
    port = _port(run.services[key].url)
    return compose.port_owner().get(port) if port is not None else None


def check_counterparts(compose: Compose, run: RunnerRun, *, commands: bool = True) -> list[str]:
    """Every service the runner starts has a compose service: same ports, command, variables, readiness
    check and start order."""
    problems = []
    compose = as_run(compose, run)
    keys = list(run.services)
    for position, key in enumerate(keys):
        started = run.services[key]
        name = counterpart(compose, run, key)
        if name is None:
            problems.append(f"no compose service for the runner's {key!r} ({started.url})")
            continue
        # ports: the same on the host as in make dev, and the same inside the container
        wanted = listening_ports(run, key)
        published = {(host, target) for _, host, target in compose.published(name)}
        for port in wanted:
            if (port, port) not in published:
                problems.append(
                    f"{name}: must publish {port}:{port} (make dev's port), has {sorted(published)}"
                )
        if commands:
            problems += command_problems(compose, name, started)
        # variables
        if started.env:
            actual = compose.effective_env(name, dotenv=run.overrides)
            keep = (
                started.env
                if key in FUNCTIONS
                else {k: started.env[k] for k in LOCAL_DEFAULTS if k in started.env}
            )
            for variable, value in keep.items():
                expected = to_compose(value, compose)
                if actual.get(variable) != expected:
                    problems.append(
                        f"{name}: {variable}={actual.get(variable)!r}, the runner gives {expected!r}"
                    )
        # readiness: the runner's check, from inside the container
        test = " ".join(compose.healthcheck(name))
        if not test:
            problems.append(f"{name}: no healthcheck")
        elif started.ready:
            probe = to_compose(started.ready, compose, service=name, own=LOOPBACK)
            if probe not in compose.healthcheck(name):
                problems.append(
                    f"{name}: healthcheck {test!r} does not check {probe} (the runner's readiness)"
                )
        else:
            port = _port(started.url)
            if port is not None and not re.search(rf"(?<!\d){port}(?!\d)", test):
                problems.append(f"{name}: healthcheck {test!r} does not check port {port}")
        # start order: a function needs everything started before it; anyone needs the owner of its URL
        needs = set()
        if key in FUNCTIONS:
            needs |= {counterpart(compose, run, other) for other in keys[:position] if other not in FUNCTIONS}
        owner = compose.port_owner().get(_port(started.url) or -1)
        if owner and owner != name:
            needs.add(owner)
        for other in sorted(n for n in needs if n):
            if other not in compose.requires(name):
                problems.append(f"{name}: must wait for {other} (make dev starts it first)")
    return problems


def check_function_services(compose: Compose) -> list[str]:
    """Every function folder with a main.py: one service, from the repository's Dockerfile, right target."""
    problems = []
    functions: dict[str, dict[str, Any]] = {}
    for name in compose.services:
        if _program(compose.command(name)) == "functions-framework":
            try:
                functions[name] = _functions_framework(_arguments(compose.command(name)))
            except Exception as exc:  # click's usage errors
                problems.append(f"{name}: functions-framework refuses {compose.command(name)}: {exc!r}")
    for main in sorted(REPO.glob("functions/*/main.py")):
        target = main.parent.name
        services = [name for name, params in functions.items() if params.get("target") == target]
        if len(services) != 1:
            problems.append(f"functions/{target}: {len(services)} compose services run target {target!r}")
            continue
        name = services[0]
        params = functions[name]
        if params.get("source") != os.path.relpath(main, REPO):
            problems.append(
                f"{name}: --source {params.get('source')!r}, expected {os.path.relpath(main, REPO)}"
            )
        if not compose.builds_app_image(name):
            problems.append(f"{name}: not built from the repository's Dockerfile")
        if params.get("host") != ALL_INTERFACES:
            problems.append(f"{name}: --host {params.get('host')!r} is unreachable from the other containers")
    return problems


def check_ports(compose: Compose) -> list[str]:
    """Every default port of the runner is published by one service, host port = container port, on the
    loopback interface only (the local dummies are not for the network)."""
    problems = []
    published: dict[int, list[str]] = {}
    for name in compose.services:
        for host_ip, host, target in compose.published(name):
            published.setdefault(host, []).append(name)
            if host != target:
                problems.append(f"{name}: {host}:{target}, the ports must be the same inside and out")
            if host_ip != LOOPBACK:
                problems.append(f"{name}: port {host} is published on {host_ip or 'every interface'}")
    for what, port in runner_ports().items():
        if len(published.get(port, [])) != 1:
            problems.append(f"Ports.{what}={port}: published by {published.get(port, [])}")
    extra = set(published) - set(runner_ports().values())
    if extra:
        problems.append(f"published ports the runner does not use: {sorted(extra)}")
    return problems


def check_health_and_dependencies(compose: Compose) -> list[str]:
    problems = []
    for name, spec in compose.services.items():
        if not compose.one_shot(name) and not compose.healthcheck(name):
            problems.append(f"{name}: no healthcheck")
        if compose.healthcheck(name) and compose.healthcheck(name)[0] not in ("CMD", "CMD-SHELL"):
            problems.append(f"{name}: healthcheck test must start with CMD or CMD-SHELL")
        for other, condition in compose.depends_on(name).items():
            if other not in compose.services:
                problems.append(f"{name}: depends on {other!r}, which is not a service")
            elif condition != (ONE_SHOT_CONDITION if compose.one_shot(other) else HEALTHY):
                problems.append(f"{name}: depends on {other} with condition {condition!r}")
            elif set(compose.services[other].get("profiles") or []) - set(spec.get("profiles") or []):
                problems.append(f"{name}: depends on {other}, which runs only under a profile")
        if name in compose.requires(name):
            problems.append(f"{name}: depends on itself")
    return problems


def check_function_settings(compose: Compose, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each function's variables pass the function's own start-up validation (shared.config), with either
    store, and cover shared.config.REQUIRED for it."""
    from shared.config import REQUIRED

    problems = []
    for target in FUNCTIONS:
        if target not in compose.services:
            problems.append(f"no service {target}")
            continue
        for backend in ("firestore", "redis"):
            env = Compose(compose.data, {"STATE_BACKEND": backend}).effective_env(target)
            missing = [variable.upper() for variable in REQUIRED[target] if not env.get(variable.upper())]
            if missing:
                problems.append(f"{target}: REQUIRED variables unset: {missing}")
            with monkeypatch.context() as patch:
                for variable in list(os.environ):
                    if variable.lower() in Settings.model_fields:
                        patch.delenv(variable)
                for variable, value in env.items():
                    patch.setenv(variable, value)
                try:
                    settings = load_settings(target)
                except ConfigError as exc:
                    problems.append(f"{target} ({backend}): {exc}")
                    continue
            if settings.state_backend != backend:
                problems.append(
                    f"{target}: STATE_BACKEND={backend} in the shell gives {settings.state_backend}"
                )
    return problems


def secret_variables() -> set[str]:
    secrets = {"GOOGLE_APPLICATION_CREDENTIALS"}
    for name, info in Settings.model_fields.items():
        if info.annotation is SecretStr or SecretStr in typing.get_args(info.annotation):
            secrets.add(name.upper())
    return secrets


def check_secrets(compose: Compose) -> list[str]:
    """No secret values in the files, only the runner's local dummies, and no secret on a command line."""
    problems = []
    secrets = secret_variables()
    dummies = {LOCAL_DEFAULTS[name] for name in secrets if name in LOCAL_DEFAULTS}
    for name in compose.services:
        env = compose.effective_env(name)
        for variable in secrets & set(env):
            if variable not in LOCAL_DEFAULTS or env[variable] != LOCAL_DEFAULTS[variable]:
                problems.append(f"{name}: {variable} is set to something else than the runner's local dummy")
        for token in compose.command(name) + compose.healthcheck(name):
            if any(dummy in token for dummy in dummies):
                problems.append(f"{name}: a secret on the command line: {token!r}")
    for variable in secrets & set(dockerfile_env()):
        problems.append(f"the Dockerfile sets {variable}")
    return problems


def check_env_files(compose: Compose) -> list[str]:
    """Every app service reads the repository's .env, optional (make dev runs without one), last (so that
    it overrides the defaults, as the runner's `overrides`)."""
    problems = []
    for name in compose.services:
        if not compose.builds_app_image(name):
            continue
        files = compose.env_files(name)
        if (DOTENV.resolve(), False) not in files:
            problems.append(
                f"{name}: needs env_file {os.path.relpath(DOTENV, COMPOSE_FILE.parent)} (required: false)"
            )
        elif files[-1][0] != DOTENV.resolve():
            problems.append(f"{name}: the .env env_file must come last, to override the defaults")
        for path, _ in files:
            if path != DOTENV.resolve() and not path.is_file():
                problems.append(f"{name}: env_file {path} does not exist")
    return problems


def check_dotenv_layers(compose: Compose, offline: RunnerRun, with_dotenv: RunnerRun) -> list[str]:
    """A value in .env wins over a default and loses to what the runner always sets (the store and the
    Cloud Tasks addresses), in compose as in make dev: `with_dotenv` ran with every variable of `offline`'s
    functions set in .env to a marker."""
    problems = []
    # `docker compose --env-file .env`: the commands the runner builds from .env's values follow them
    interpolated = Compose(compose.data, with_dotenv.overrides)
    for key, started in with_dotenv.services.items():
        if key not in FUNCTIONS and counterpart(compose, with_dotenv, key) in interpolated.services:
            name = counterpart(compose, with_dotenv, key)
            if name and _program(interpolated.command(name)) == _program(started.command):
                problems += [
                    f"with --env-file .env: {p}" for p in command_problems(interpolated, name, started)
                ]
    layered = as_run(compose, offline)
    for key in FUNCTIONS:
        if key not in compose.services:
            continue
        actual = layered.effective_env(key, dotenv=with_dotenv.overrides)
        for variable, value in with_dotenv.services[key].env.items():
            expected = to_compose(value, compose)
            if actual.get(variable) != expected:
                where = "from .env" if expected == with_dotenv.overrides.get(variable) else "fixed"
                problems.append(
                    f"{key}: {variable} must be {where} ({expected!r}), is {actual.get(variable)!r}"
                )
    return problems


def check_no_unset_interpolation(text: str) -> list[str]:
    """`docker compose up` from a fresh checkout: every variable the file interpolates has a default."""
    return [
        f"${{{match['braced'] or match['bare']}}} has no default"
        for match in _VARIABLE.finditer(text)
        if not match["escaped"] and match["op"] not in (":-", "-")
    ]


# --------------------------------------------------------------------------------------------------
# Fixtures


SCENARIOS = {
    # make dev on a machine with the Firestore emulator (the default), with redis-server, with neither
    "firestore": ("firestore", {}),
    "redis": ("redis", {}),
    "embedded-redis": ("embedded-redis", {}),
    # a real bot token in .env
    "real-telegram": ("firestore", {"TELEGRAM_BOT_TOKEN": "987654321:AAE-not-a-local-dummy"}),
}


@pytest.fixture(scope="module")
def runs() -> dict[str, RunnerRun]:
    runs = {name: run_runner(store, overrides) for name, (store, overrides) in SCENARIOS.items()}
    for store in ("firestore", "redis"):
        names = sorted({variable for key in FUNCTIONS for variable in runs[store].services[key].env})
        dotenv = {name: f"from-dotenv-{name.lower()}" for name in names}
        dotenv["EFFECTS_HORIZON_HOURS"] = "30"  # the queues' retry duration: read by the runner when set
        runs[f"{store}+dotenv"] = run_runner(store, dotenv)
    return runs


@pytest.fixture
def compose() -> Compose:
    return Compose(load_compose())


# --------------------------------------------------------------------------------------------------
# The compose file matches the runner


def test_the_runner_was_captured_as_make_dev_runs_it(runs: dict[str, RunnerRun]) -> None:
    """Guards the capture itself: a recorder that saw nothing would make every check below pass."""
    default = runs["firestore"]
    assert {"store", "fakes", *FUNCTIONS} <= set(default.services)
    assert default.services["store"].ready and default.webhook_posts
    assert make_dev_arguments().get("auto_dispatch") is True


@pytest.mark.parametrize("scenario", ["firestore", "redis", "real-telegram"])
def test_every_runner_service_has_its_compose_service(
    compose: Compose, runs: dict[str, RunnerRun], scenario: str
) -> None:
    assert check_counterparts(compose, runs[scenario]) == []


def test_embedded_redis_is_served_by_the_redis_service(compose: Compose, runs: dict[str, RunnerRun]) -> None:
    """make dev's last resort (fakeredis's TCP server) is not needed in containers: the redis image takes
    its port and address."""
    assert check_counterparts(compose, runs["embedded-redis"], commands=False) == []


def test_every_function_folder_has_a_service(compose: Compose) -> None:
    assert check_function_services(compose) == []
    assert {main.parent.name for main in REPO.glob("functions/*/main.py")} <= set(FUNCTIONS)


def test_the_runners_ports_are_published(compose: Compose) -> None:
    assert check_ports(compose) == []


def test_healthchecks_and_dependencies(compose: Compose) -> None:
    assert check_health_and_dependencies(compose) == []


def test_each_function_starts_with_its_variables(compose: Compose, monkeypatch: pytest.MonkeyPatch) -> None:
    assert check_function_settings(compose, monkeypatch) == []


@pytest.mark.parametrize("store", ["firestore", "redis"])
def test_dotenv_overrides_what_it_overrides_in_make_dev(
    compose: Compose, runs: dict[str, RunnerRun], store: str
) -> None:
    assert check_dotenv_layers(compose, runs[store], runs[f"{store}+dotenv"]) == []


def test_services_only_real_credentials_start_are_behind_a_profile(
    compose: Compose, runs: dict[str, RunnerRun]
) -> None:
    default = {counterpart(compose, runs["firestore"], key) for key in runs["firestore"].services}
    for key in set(runs["real-telegram"].services) - set(runs["firestore"].services):
        name = counterpart(compose, runs["real-telegram"], key)
        assert name and compose.services[name].get("profiles"), f"{name} must not start by default"
    for name in default:
        assert name and not compose.services[name].get("profiles"), f"{name} must start by default"


def test_the_fakes_and_the_functions_agree_on_credentials(compose: Compose) -> None:
    """The fakes accept what the functions send (bot token, API keys): one set of variables for both."""
    fakes = compose.effective_env("fakes")
    for key in FUNCTIONS:
        env = compose.effective_env(key)
        for variable in LOCAL_DEFAULTS:
            assert fakes.get(variable) == env.get(variable) == LOCAL_DEFAULTS[variable], (key, variable)


def test_dotenv_is_optional_and_read_by_every_app_service(compose: Compose) -> None:
    assert check_env_files(compose) == []
    assert check_no_unset_interpolation(COMPOSE_FILE.read_text()) == []


def test_no_secrets_beyond_the_local_dummies(compose: Compose) -> None:
    assert check_secrets(compose) == []


def test_the_webhook_is_registered_on_the_telegram_fake(compose: Compose, runs: dict[str, RunnerRun]) -> None:
    """The one-shot service does what the runner's setWebhook does: run here against a real Telegram fake."""
    from local.telegram_webhook import main as telegram_webhook

    [(post_url, body)] = runs["firestore"].webhook_posts
    one_shots = [
        name
        for name in compose.services
        if compose.command(name)[:5] == ["python", "-m", "local.telegram_webhook", "set", "--url"]
    ]
    assert len(one_shots) == 1
    [name] = one_shots
    assert compose.one_shot(name)
    assert not any(name in compose.depends_on(other) for other in compose.services)
    # TELEGRAM_API_URL is fixed in `environment`, where .env cannot point it at the real Telegram
    fake_root = to_compose(post_url.split("/bot", 1)[0], compose)
    assert compose.environment(name).get("TELEGRAM_API_URL") == fake_root
    tg_webhook = counterpart(compose, runs["firestore"], "tg_webhook")
    assert tg_webhook in compose.requires(name) and "fakes" in compose.requires(name)

    env = compose.effective_env(name)
    with start_fakes(env) as fakes, pytest.MonkeyPatch.context() as patch:
        for variable, value in env.items():
            patch.setenv(variable, value)
        patch.setenv("TELEGRAM_API_URL", fakes.telegram_url)  # fakes:8088 is this fake
        telegram_webhook(compose.command(name)[3:])
        assert fakes.telegram.webhook.url == to_compose(body["url"], compose)
        assert fakes.telegram.webhook.secret_token == body["secret_token"]


# --------------------------------------------------------------------------------------------------
# The readiness probes, run against the real servers


@dataclass
class LocalServers:
    """Compose port → a local server of the same kind: the fakes, the emulator, a functions-framework app
    whose function answers 500 (so a probe that reached the function would fail)."""

    ports: dict[int, int]


@pytest.fixture(scope="module")
def local_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServers]:
    import functions_framework

    compose = Compose(load_compose())
    source = tmp_path_factory.mktemp("function") / "probe_target.py"
    source.write_text(
        "import functions_framework\n\n\n@functions_framework.http\ndef probe_target(request):\n"
        "    return 'the probe must not reach the function', 500\n"
    )
    app = functions_framework.create_app("probe_target", str(source))
    fakes_args = fakes_parse_args(_arguments(compose.command("fakes")))
    tasks_args = tasks_parser().parse_args(_arguments(compose.command("cloud-tasks")))
    tasks_args.auto_dispatch = False
    emulator = emulator_from_args(tasks_args)
    with (
        start_fakes(LOCAL_DEFAULTS, calendar_port=0, zoom_port=0, openai_port=0) as fakes,
        ServerThread(emulator.wsgi_app) as tasks,
        ServerThread(app) as function,
    ):
        ports = {
            fakes_args.sheets_port: fakes.sheets_server.port,
            fakes_args.resend_port: fakes.resend_server.port,
            fakes_args.telegram_port: fakes.telegram_server.port,
            tasks_args.port: tasks.port,
        }
        for name, server in (
            ("calendar_port", fakes.calendar_server),
            ("zoom_port", fakes.zoom_server),
            ("openai_port", fakes.openai_server),
        ):
            assert server is not None
            ports[getattr(fakes_args, name)] = server.port
        for key in FUNCTIONS:
            ports[getattr(Ports(), key)] = function.port
        # The console as compose runs it, its fakes and emulator moved to the servers above.
        console_args = console_parse_args(_arguments(compose.command("console")))
        moved = {
            name: f"http://{LOOPBACK}:{ports[int(url.rsplit(':', 1)[1])]}"
            for name, url in console_args.fakes.items()
        }
        tasks_url = f"http://{LOOPBACK}:{ports[int(console_args.tasks.rsplit(':', 1)[1])]}"
        with ServerThread(Console(fakes=moved, tasks=tasks_url, env=dict(LOCAL_DEFAULTS))) as console:
            ports[console_args.port] = console.port
            yield LocalServers(ports)
    emulator.close()


def run_probe(test: list[str], ports: Mapping[int, int]) -> int:
    """Run a `CMD python -c SCRIPT URL...` healthcheck here, its URLs moved to the local servers."""
    assert test[:3] == ["CMD", "python", "-c"], test
    urls = []
    for url in test[4:]:
        parts = urlsplit(url)
        assert parts.port is not None, url
        urls.append(urlunsplit(parts._replace(netloc=f"{LOOPBACK}:{ports.get(parts.port, parts.port)}")))
    return subprocess.run([sys.executable, "-c", test[3], *urls], capture_output=True, timeout=60).returncode


def python_probes(compose: Compose) -> dict[str, list[str]]:
    return {
        name: compose.healthcheck(name)
        for name in compose.services
        if compose.healthcheck(name)[1:2] == ["python"]
    }


def test_the_python_probes_pass_against_running_servers(
    compose: Compose, local_servers: LocalServers
) -> None:
    probes = python_probes(compose)
    assert {"fakes", "cloud-tasks", "console", *FUNCTIONS} <= set(probes)
    for name, test in probes.items():
        assert run_probe(test, local_servers.ports) == 0, name


def test_the_python_probes_fail_without_a_server_or_with_a_server_error(compose: Compose) -> None:
    test = python_probes(compose)["tg_webhook"]
    closed = free_port()
    assert run_probe([*test[:4], f"http://{LOOPBACK}:{closed}/robots.txt"], {}) != 0

    def failing(environ: Any, start_response: Any) -> list[bytes]:
        start_response("503 Service Unavailable", [("Content-Length", "0")])
        return []

    with ServerThread(failing) as server:
        assert run_probe([*test[:4], f"http://{LOOPBACK}:{server.port}/robots.txt"], {}) == 1


# --------------------------------------------------------------------------------------------------
# The Dockerfile and what it is given


def test_the_dockerfile_builds_the_project_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    base = next(rest for keyword, rest in instructions if keyword == "FROM")
    match = re.fullmatch(r"python:(\d+\.\d+)-slim(?:-\w+)?", base)
    assert match, base
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert match[1] + ".0" in SpecifierSet(pyproject["project"]["requires-python"])
    users = [rest.split(":")[0] for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    # `pip install .` (no dev extras) after every package pyproject.toml installs has been copied in
    installs = [
        index
        for index, (keyword, rest) in enumerate(instructions)
        if keyword == "RUN" and re.search(r"pip install[^&|;]*\s\.(\s|$)", rest)
    ]
    assert installs, "the image installs the project with pip install ."
    assert not any("[dev]" in rest for keyword, rest in instructions if keyword == "RUN")
    copied = {
        source.rstrip("/")
        for copy_ in dockerfile_copies()
        if copy_.index < installs[-1]
        for source in copy_.sources
    }
    assert "pyproject.toml" in copied
    for include in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        packages = {
            path.name for path in REPO.glob(include.rstrip("*") + "*") if (path / "__init__.py").exists()
        }
        assert packages and packages <= copied, include
    assert "functions" in {s.rstrip("/") for copy_ in dockerfile_copies() for s in copy_.sources}


def _paths_in_command(command: list[str]) -> list[str]:
    """The files a command runs, relative to the workdir: `x/y.py` arguments, the module of `python -m`."""
    paths = [token for token in command if re.fullmatch(r"[\w./-]+\.py", token)]
    if _program(command).startswith("python -m "):
        module = command[2].replace(".", "/")
        paths.append(f"{module}/__main__.py" if (REPO / module).is_dir() else f"{module}.py")
    return paths


def check_command_paths(compose: Compose) -> list[str]:
    """Every file a command of an app service (or the Dockerfile's CMD / ENTRYPOINT) runs is in the image."""
    commands = {name: compose.command(name) for name in compose.services if compose.builds_app_image(name)}
    for keyword, rest in dockerfile_instructions():
        if keyword in ("CMD", "ENTRYPOINT"):
            commands[f"Dockerfile {keyword}"] = (
                json.loads(rest) if rest.startswith("[") else shlex.split(rest)
            )
    problems = []
    workdir = dockerfile_workdir()
    for name, command in commands.items():
        for path in _paths_in_command(command):
            source = image_path_source(os.path.normpath(os.path.join(workdir, path)))
            if source is None or not source.is_file():
                problems.append(f"{name}: {path} is not in the image")
            elif dockerignored(os.path.relpath(source, REPO)):
                problems.append(f"{name}: {path} is left out by .dockerignore")
    return problems


def test_the_image_holds_what_the_commands_run(compose: Compose) -> None:
    assert check_command_paths(compose) == []
    for copy_ in dockerfile_copies():
        for source in copy_.sources:
            assert (REPO / source).exists(), source
            assert not dockerignored(source.rstrip("/")), f"COPY {source}: left out by .dockerignore"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    for path in (
        ".env",
        "local/.env",
        ".git/HEAD",
        ".venv/bin/python",
        ".local-data/logs/x.log",
        "dist/a.zip",
    ):
        assert dockerignored(path), path
    needed = ["pyproject.toml"] + [
        os.path.relpath(path, REPO)
        for top in ("functions", "shared", "local")
        for path in (REPO / top).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]
    assert [path for path in needed if dockerignored(path)] == []


# --------------------------------------------------------------------------------------------------
# The checks can fail


def _mutated(mutate: Callable[[Json], None]) -> Compose:
    data = copy.deepcopy(load_compose())
    mutate(data["services"])
    return Compose(data)


MUTATIONS: dict[str, tuple[Callable[[Json], None], str]] = {
    "a function is missing": (lambda s: s.pop("email_chain"), "email_chain"),
    "a port moved": (lambda s: s["fakes"].__setitem__("ports", ["127.0.0.1:9999:8088"]), "8088"),
    "published on every interface": (
        lambda s: s["reminders"].__setitem__("ports", ["8084:8084"]),
        "interface",
    ),
    "the fakes listen on loopback": (
        lambda s: s["fakes"].__setitem__(
            "command", [t for t in s["fakes"]["command"] if t not in ("--host", "0.0.0.0")]
        ),
        "host",
    ),
    "a fake's URL on 127.0.0.1": (
        lambda s: (
            s["tg_webhook"]
            .setdefault("environment", {})
            .__setitem__("TELEGRAM_API_URL", "http://127.0.0.1:8088")
        ),
        "TELEGRAM_API_URL",
    ),
    "a wrong target": (
        lambda s: s["reminders"].__setitem__(
            "command", ["email_chain" if t == "reminders" else t for t in s["reminders"]["command"]]
        ),
        "reminders",
    ),
    "no healthcheck": (lambda s: s["cloud-tasks"].pop("healthcheck"), "healthcheck"),
    "the wrong readiness URL": (
        lambda s: s["cloud-tasks"]["healthcheck"].__setitem__(
            "test", ["CMD", "python", "-c", "pass", "http://127.0.0.1:8123/"]
        ),
        "_emulator/now",
    ),
    "started, not healthy": (
        lambda s: s["tilda_webhook"]["depends_on"]["fakes"].__setitem__("condition", "service_started"),
        "condition",
    ),
    "a dependency that does not exist": (
        lambda s: s["tilda_webhook"]["depends_on"].__setitem__("pubsub", {"condition": "service_healthy"}),
        "pubsub",
    ),
    "no wait for the store": (lambda s: s["tg_webhook"]["depends_on"].pop("firestore"), "firestore"),
    "auto-dispatch off": (
        lambda s: s["cloud-tasks"].__setitem__(
            "command", [t for t in s["cloud-tasks"]["command"] if t != "--auto-dispatch"]
        ),
        "auto_dispatch",
    ),
    "a real secret": (
        lambda s: (
            s["email_chain"].setdefault("environment", {}).__setitem__("RESEND_API_KEY", "re_live_0123456789")
        ),
        "RESEND_API_KEY",
    ),
    "a default out of .env's reach": (
        lambda s: s["email_chain"]["environment"].__setitem__("TILDA_SECRET", LOCAL_DEFAULTS["TILDA_SECRET"]),
        "TILDA_SECRET",
    ),
    "a runner-set address left to .env": (
        lambda s: s["email_chain"].__setitem__(
            "environment", {k: v for k, v in s["email_chain"]["environment"].items() if k != "REMINDERS_URL"}
        ),
        "REMINDERS_URL",
    ),
    "a module the image lacks": (
        lambda s: s["telegram-webhook"].__setitem__(
            "command", ["python", "-m", "local.no_such_module", *s["telegram-webhook"]["command"][3:]]
        ),
        "no_such_module",
    ),
    "fixed queues": (
        lambda s: s["cloud-tasks"].__setitem__(
            "command",
            [
                t.replace("${GOOGLE_CLOUD_PROJECT:-demo-allin-local}", "demo-allin-local")
                for t in s["cloud-tasks"]["command"]
            ],
        ),
        "queue",
    ),
    ".env required": (lambda s: s["fakes"]["env_file"][-1].__setitem__("required", True), ".env"),
}


def run_all_checks(
    compose: Compose, runs: dict[str, RunnerRun], monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    problems = check_env_files(compose)
    if problems:
        return problems  # the rest reads the files
    problems += (
        check_command_paths(compose)
        + check_function_services(compose)
        + check_ports(compose)
        + check_health_and_dependencies(compose)
        + check_secrets(compose)
        + check_function_settings(compose, monkeypatch)
    )
    for scenario in ("firestore", "redis", "real-telegram"):
        problems += check_counterparts(compose, runs[scenario])
    for store in ("firestore", "redis"):
        problems += check_dotenv_layers(compose, runs[store], runs[f"{store}+dotenv"])
    return problems


def test_all_checks_pass_on_the_real_file(
    compose: Compose, runs: dict[str, RunnerRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_all_checks(compose, runs, monkeypatch) == []


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_a_broken_compose_file_is_caught(
    mutation: str, runs: dict[str, RunnerRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    mutate, mentioned = MUTATIONS[mutation]
    problems = run_all_checks(_mutated(mutate), runs, monkeypatch)
    assert problems, mutation
    assert any(mentioned in problem for problem in problems), problems


def test_a_value_shell_set_store_reaches_the_functions(compose: Compose) -> None:
    redis = Compose(compose.data, {"STATE_BACKEND": "redis"})
    assert {redis.effective_env(key)["STATE_BACKEND"] for key in FUNCTIONS} == {"redis"}
    assert {compose.effective_env(key)["STATE_BACKEND"] for key in FUNCTIONS} == {"firestore"}


def test_an_unset_interpolation_is_caught() -> None:
    assert check_no_unset_interpolation("x: ${STATE_BACKEND}") != []
    assert check_no_unset_interpolation("x: ${STATE_BACKEND:-firestore} $$HOME") == []


def test_dockerignore_matching_follows_docker() -> None:
    assert _pattern_regex("**/__pycache__").fullmatch("local/fakes/__pycache__")
    assert _pattern_regex("**/__pycache__").fullmatch("__pycache__")
    assert not _pattern_regex("*.py").fullmatch("local/run.py")
