"""One deployable archive per function: `dist/<function>.zip`, exactly what Terraform uploads.

Each archive holds, at its root, the function's `main.py`, the `shared/` library (its .py files and the
data files pyproject.toml declares as package data) and a `requirements.txt` pinning the complete
dependency closure of that function, so `pip install --no-deps -r requirements.txt` is enough. The pins
are the versions installed in the environment this runs in (the one the tests passed in), resolved for
the functions' runtime (CPython 3.11 on Linux), each with its files' hashes from requirements.lock (the
environment was installed from it), so pip installs them in hash-checking mode. Archives are
reproducible: sorted entries, fixed timestamps and modes, so their hash changes only when the code or
the pins change.

    python -m local.package [--out dist] [names...]       # build, print each archive's size and hash
    python -m local.package --markdown [--installed]      # also the "Function archives" section
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import venv
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements.lock"
FUNCTIONS = ("tilda_webhook", "tg_webhook", "email_chain", "reminders")
TARGET_PYTHON = (3, 11)  # the functions' runtime (python311)

# What every function imports, whatever its path (functions/<name>/main.py, shared.config, shared.bootstrap).
_COMMON = (
    "functions-framework",  # main.py: @functions_framework.http, and the server Cloud Functions runs
    "flask",  # main.py and shared.entrypoints: Request/Response (functions-framework's own web framework)
    "pydantic",  # shared.config, shared.domain.*, the task payloads of shared.entrypoints
    "phonenumbers",  # shared.domain.leads.normalise_phone (imported on first use)
    "email-validator",  # shared.domain.leads.normalise_email (imported on first use)
    "google-cloud-firestore",  # Container.store: the production state backend (STATE_BACKEND=firestore)
    "google-api-core",  # shared.adapters.store_firestore imports its exceptions and datetime helpers
    "redis",  # Container.store when STATE_BACKEND=redis, a supported setting for every function
    "httpx",  # EmulatorClock (local runs); the Telegram notifier, Zoom and Telegram files adapters
    "tzdata",  # zoneinfo's fallback where the image has no system time zone files (ACADEMY_TIMEZONE)
)
_CLOUD_TASKS = ("google-cloud-tasks", "google-auth")  # Container.scheduler (shared.adapters.cloud_tasks)
# Container.crm (Sheets) and Container.calendar, built by shared.adapters.google_api.
_GOOGLE_API = ("google-api-python-client", "google-auth", "google-auth-httplib2", "httplib2")

# The top-level requirements of each function: what its code paths import, as reached from the
# Container properties its entry point uses. Their closure is resolved by `pins()`.
REQUIREMENTS: dict[str, tuple[str, ...]] = {
    # store, leads, scheduler (the sync and email1 tasks), clock
    "tilda_webhook": (*_COMMON, *_CLOUD_TASKS),
    # the email chain: store, CRM (Sheets), mailer (Resend), notifier (httpx), scheduler (email2, call alert)
    "email_chain": (*_COMMON, *_CLOUD_TASKS, *_GOOGLE_API, "resend"),
    # the bot (python-telegram-bot), onboarding and booking (Calendar, Zoom over httpx, the scheduler for
    # the chain and the reminders), the assistant and voice notes (OpenAI)
    "tg_webhook": (*_COMMON, *_CLOUD_TASKS, *_GOOGLE_API, "python-telegram-bot", "openai"),
    # store, leads, outbox (Telegram over httpx), the scheduler: the −5 h reminder asks email_chain to
    # tell the managers of an unconfirmed lesson, a nudge moves itself on, a waitlist hold ends on time
    "reminders": (*_COMMON, *_CLOUD_TASKS),
}

# Fixed metadata of every entry, so the same files give the same bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16


class PackagingError(RuntimeError):
    """The archive cannot be built as promised (a requirement not installed, a wrong interpreter)."""


@dataclass(frozen=True)
class Pin:
    name: str  # canonical distribution name
    version: str

    def __str__(self) -> str:
        return f"{self.name}=={self.version}"


def target_environment() -> dict[str, str]:
    """Marker variables of the runtime the pins are for: CPython 3.11 on Linux x86_64."""
    if sys.version_info[:2] != TARGET_PYTHON:
        raise PackagingError(
            f"build with Python {'.'.join(map(str, TARGET_PYTHON))}, the functions' runtime: the pins come "
            f"from the installed distributions, resolved here for Python {platform.python_version()}"
        )
    env: dict[str, str] = {key: str(value) for key, value in default_environment().items()}
    env.update(
        os_name="posix",
        sys_platform="linux",
        platform_system="Linux",
        platform_machine="x86_64",
        platform_python_implementation="CPython",
        implementation_name="cpython",
        python_version="{}.{}".format(*TARGET_PYTHON),
        python_full_version=platform.python_version(),
    )
    return env


def pins(requirements: Iterable[str], environment: Mapping[str, str] | None = None) -> list[Pin]:
    """The closure of `requirements` over the installed distributions' metadata, pinned to what is installed.

    Every requirement's markers are evaluated for the target environment (with the extras asked of its
    distribution), and every installed version must satisfy every specifier that reaches it.
    """
    env = dict(environment or target_environment())
    found: dict[str, Pin] = {}
    extras_done: dict[str, set[str]] = {}
    queue = [(Requirement(text), "the function") for text in requirements]
    while queue:
        requirement, wanted_by = queue.pop()
        name = canonicalize_name(requirement.name)
        try:
            distribution = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            raise PackagingError(f"{requirement} (needed by {wanted_by}) is not installed here") from None
        version = distribution.version
        if not requirement.specifier.contains(version, prereleases=True):
            raise PackagingError(f"{wanted_by} needs {requirement}, but {name} {version} is installed")
        extras = {canonicalize_name(extra) for extra in requirement.extras}
        if name in found and extras <= extras_done[name]:
            continue
        found[name] = Pin(name, version)
        extras_done.setdefault(name, set()).update(extras)
        for text in distribution.requires or []:
            dependency = Requirement(text)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({**env, "extra": extra}) for extra in {"", *extras}):
                queue.append((dependency, f"{name} {version}"))
    return sorted(found.values(), key=lambda pin: pin.name)


def locked_hashes(lock: Path = LOCK) -> dict[Pin, list[str]]:
    """Each pin of requirements.lock (pip-compile's format) with its files' hashes."""
    hashes: dict[Pin, list[str]] = {}
    current: list[str] = []
    for line in lock.read_text().splitlines():
        if found := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line):
            current = hashes.setdefault(Pin(canonicalize_name(found[1]), found[2]), [])
        elif found := re.match(r"^\s+--hash=(sha256:[0-9a-f]{64})", line):
            current.append(found[1])
    return hashes


def requirements_txt(function: str, lock: Path = LOCK) -> str:
    """Every pin with the hashes requirements.lock has for it: pip installs them in hash-checking mode,
    so the function runs on exactly the files the tests ran on."""
    hashes = locked_hashes(lock)
    lines = [
        f"# {function}: the complete dependency closure, pinned by `python -m local.package` from the",
        "# build environment for CPython {}.{} on Linux, with the hashes of requirements.lock.".format(
            *TARGET_PYTHON
        ),
        "# Generated: do not edit. Top level: " + ", ".join(sorted(set(REQUIREMENTS[function]))),
        "# Install with: pip install --no-deps --require-hashes -r requirements.txt",
    ]
    for pin in pins(REQUIREMENTS[function]):
        if not hashes.get(pin):
            raise PackagingError(
                f"{pin} is installed but not in {lock.name}: run `make lock`, then reinstall"
            )
        lines.append(" \\\n".join([str(pin), *(f"    --hash={digest}" for digest in hashes[pin])]))
    return "\n".join(lines) + "\n"


def library_files(root: Path = REPO) -> list[Path]:
    """shared/'s .py files and its declared package data (pyproject.toml), no caches, no tests."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["shared"]
    library = root / "shared"
    files = set(library.rglob("*.py"))
    for pattern in patterns:
        files.update(library.glob(pattern))
    return sorted(
        path
        for path in files
        if path.is_file()
        and "__pycache__" not in path.parts
        and not any(part.startswith(("test_", "tests", ".")) for part in path.relative_to(library).parts)
    )


def build(function: str, out_dir: Path, *, root: Path = REPO) -> Path:
    """Write `out_dir/<function>.zip` (replacing it atomically) and return its path."""
    if function not in REQUIREMENTS:
        raise PackagingError(f"unknown function {function!r}: one of {', '.join(FUNCTIONS)}")
    entries: dict[str, bytes] = {
        "main.py": (root / "functions" / function / "main.py").read_bytes(),
        "requirements.txt": requirements_txt(function).encode(),
    }
    for path in library_files(root):
        entries[path.relative_to(root).as_posix()] = path.read_bytes()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{function}.zip"
    with tempfile.NamedTemporaryFile(dir=out_dir, prefix=f".{function}.", delete=False) as handle:
        partial = Path(handle.name)
        try:
            with zipfile.ZipFile(handle, "w") as archive:
                for name in sorted(entries):
                    info = zipfile.ZipInfo(name, date_time=_EPOCH)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.create_system = 3  # Unix, whatever machine builds it
                    info.external_attr = _FILE_MODE
                    archive.writestr(info, entries[name], compresslevel=9)
        except BaseException:
            partial.unlink()
            raise
    partial.chmod(0o644)
    os.replace(partial, target)
    return target


@dataclass(frozen=True)
class Installed:
    """An archive unpacked into `source` with its requirements in the fresh virtual environment `venv`."""

    function: str
    source: Path
    venv: Path
    seconds: float

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def framework(self) -> Path:
        return self.venv / "bin" / "functions-framework"

    def site_packages_bytes(self) -> int:
        return tree_bytes(next((self.venv / "lib").glob("python3*/site-packages")))


def install(archive: Path, workdir: Path) -> Installed:
    """Unpack `archive` into `workdir/src` and install its requirements.txt, and only that, into a fresh
    venv `workdir/venv` (created without pip: the build environment's pip installs into it)."""
    started = time.monotonic()
    function = archive.stem
    source, environment = workdir / "src", workdir / "venv"
    source.mkdir(parents=True)
    with zipfile.ZipFile(archive) as unpacking:
        unpacking.extractall(source)
    venv.EnvBuilder(with_pip=False, clear=True).create(environment)
    python = environment / "bin" / "python"
    command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    command += ["--disable-pip-version-check", "--no-deps", "--no-compile", "--require-hashes"]
    command += ["-r", "requirements.txt"]
    result = subprocess.run(command, cwd=source, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackagingError(f"installing {archive.name}'s requirements failed:\n{result.stderr[-4000:]}")
    return Installed(function, source, environment, time.monotonic() - started)


def install_all(archives: Sequence[Path], workdir: Path) -> dict[str, Installed]:
    """`install` each archive into `workdir/<function>`, in parallel (pip mostly waits on the disk)."""
    with ThreadPoolExecutor(max_workers=max(1, len(archives))) as pool:
        done = list(pool.map(lambda archive: install(archive, workdir / archive.stem), archives))
    return {item.function: item for item in done}


def measure(out_dir: Path, *, installed: bool = True) -> tuple[list[Path], dict[str, int]]:
    """Build every archive into `out_dir`; with `installed`, the site-packages bytes of each one's venv."""
    archives = [build(name, out_dir) for name in FUNCTIONS]
    sizes: dict[str, int] = {}
    if installed:
        with tempfile.TemporaryDirectory(prefix="package-") as scratch:
            sizes = {
                n: item.site_packages_bytes() for n, item in install_all(archives, Path(scratch)).items()
            }
    return archives, sizes


def tree_bytes(path: Path) -> int:
    return sum(
        entry.stat().st_size for entry in path.rglob("*") if entry.is_file() and not entry.is_symlink()
    )


def sizes_table(archives: Sequence[Path], installed_bytes: Mapping[str, int] | None = None) -> str:
    """The "Function archives" section of BENCHMARKS.md; installed sizes where `installed_bytes` has them."""
    lines = [
        "## Function archives",
        "",
        "`make package` → `dist/<function>.zip` (main.py, shared/, pinned requirements.txt). Installed: the",
        "site-packages of a fresh venv after `pip install --no-deps --no-compile --require-hashes -r",
        "requirements.txt`.",
        "",
        "| function | archive | sha256 (first 12) | pinned packages | installed requirements |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    for archive in archives:
        data = archive.read_bytes()
        with zipfile.ZipFile(archive) as opened:
            text = opened.read("requirements.txt").decode()
        count = sum(1 for line in text.splitlines() if line and not line.startswith(("#", " ")))
        size = (installed_bytes or {}).get(archive.stem)
        lines.append(
            f"| {archive.stem} | {len(data) / 1e3:.1f} kB ({len(data)} B) | "
            f"`{hashlib.sha256(data).hexdigest()[:12]}` | {count} | "
            + (f"{size / 1e6:.1f} MB |" if size is not None else "not measured |")
        )
    return "\n".join(lines) + "\n"


def figure_lines(archives: Sequence[Path], installed_bytes: Mapping[str, int] | None = None) -> list[str]:
    """The `bench <subject>.<figure> <value> <unit>` lines of BENCHMARKS.md's "Figures for scripts"."""
    lines = []
    for archive in archives:
        lines.append(f"bench {archive.stem}.archive_size {archive.stat().st_size / 1e3:.1f} kB")
        if installed_bytes and archive.stem in installed_bytes:
            lines.append(f"bench {archive.stem}.installed_size {installed_bytes[archive.stem] / 1e6:.1f} MB")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "names", nargs="*", metavar="function", help=f"default: all of {', '.join(FUNCTIONS)}"
    )
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    parser.add_argument(
        "--markdown", action="store_true", help="build all four and print the BENCHMARKS.md section"
    )
    parser.add_argument(
        "--installed", action="store_true", help="with --markdown: install each archive to measure it (slow)"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(FUNCTIONS))
    if unknown:
        parser.error(f"unknown function(s) {', '.join(unknown)}: choose from {', '.join(FUNCTIONS)}")
    try:
        if args.markdown:
            archives, installed_bytes = measure(args.out, installed=args.installed)
        else:
            archives = [build(name, args.out) for name in args.names or FUNCTIONS]
    except PackagingError as exc:
        sys.exit(f"package: {exc}")
    if args.markdown:
        print(sizes_table(archives, installed_bytes))  # noqa: T201
        print("\n".join(figure_lines(archives, installed_bytes)))  # noqa: T201
        return
    for archive in archives:
        data = archive.read_bytes()
        print(f"{archive}  {len(data):>9} bytes  sha256 {hashlib.sha256(data).hexdigest()}")  # noqa: T201


if __name__ == "__main__":
    main()
