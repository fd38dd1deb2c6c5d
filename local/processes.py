"""Start and stop the local services (emulators, redis-server, functions) as real processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    """A started process; `stop()` ends its whole process group (gcloud starts java as a child)."""

    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class StartError(RuntimeError):
    pass


def start(
    name: str,
    command: Sequence[str],
    url: str,
    *,
    env: Mapping[str, str] | None = None,
    ready: str | None = None,
    log_dir: Path | None = None,
    timeout: float = 60.0,
    cwd: Path | None = None,
) -> Service:
    """Start `command` (in `cwd`, the repo by default), wait until `ready` (a URL) answers or the port of
    `url` accepts, return it."""
    log_path = (
        log_dir or Path(os.environ.get("TMPDIR", "/tmp"))
    ) / f"{name}-{os.getpid()}-{time.time_ns()}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd or REPO,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    service = Service(name, process, url, log_path, dict(env or {}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartError(f"{name} exited with {process.returncode}:\n{service.log_tail()}")
        if _is_ready(ready or url, by_http=ready is not None):
            return service
        time.sleep(0.05)
    service.stop()
    raise StartError(f"{name} did not become ready in {timeout:.0f}s:\n{service.log_tail()}")


def _is_ready(target: str, *, by_http: bool) -> bool:
    if by_http:
        try:
            return httpx.get(target, timeout=1.0).status_code < 500
        except httpx.HTTPError:
            return False
    host_port = target.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def firestore_emulator_available() -> bool:
    gcloud = shutil.which("gcloud")
    if not gcloud or not shutil.which("java"):
        return False
    sdk_root = Path(os.path.realpath(gcloud)).parent.parent
    return (sdk_root / "platform" / "cloud-firestore-emulator").is_dir()


def start_firestore_emulator(port: int | None = None, log_dir: Path | None = None) -> Service:
    port = port or free_port()
    host = f"127.0.0.1:{port}"
    service = start(
        "firestore-emulator",
        ["gcloud", "emulators", "firestore", "start", f"--host-port={host}", "--quiet"],
        f"http://{host}",
        ready=f"http://{host}/",
        log_dir=log_dir,
        timeout=90,
    )
    service.env = {"FIRESTORE_EMULATOR_HOST": host}
    return service


def start_redis_server(port: int | None = None, log_dir: Path | None = None) -> Service:
    port = port or free_port()
    service = start(
        "redis-server",
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        f"redis://127.0.0.1:{port}",
        log_dir=log_dir,
    )
    service.env = {"REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    return service


def start_function(
    name: str,
    env: Mapping[str, str],
    port: int | None = None,
    log_dir: Path | None = None,
    *,
    source: Path | None = None,
    executable: Path | None = None,
) -> Service:
    """A function as Cloud Functions runs it: functions-framework with the folder name as target.

    By default the repo's `functions/<name>/main.py` in the project's environment; an unpacked archive
    passes its `main.py` as `source` (the process then runs in its folder) and its venv's `executable`.
    """
    port = port or free_port()
    if executable is None:
        # The one beside this interpreter, so the function runs in the project's environment.
        framework = Path(sys.executable).parent / "functions-framework"
        executable = framework if framework.exists() else Path("functions-framework")
    return start(
        name,
        [
            str(executable),
            "--source",
            str(source or REPO / "functions" / name / "main.py"),
            "--target",
            name,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        f"http://127.0.0.1:{port}",
        env={"PYTHONUNBUFFERED": "1", **env},
        log_dir=log_dir,
        cwd=source.parent if source else None,
    )
