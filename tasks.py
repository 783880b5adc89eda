#!/usr/bin/env python3
"""Set up and run Chorus with nothing but Python >= 3.11.

    python3 tasks.py dev     # install (first time), then run Chorus on http://127.0.0.1:8000
    python3 tasks.py test    # install (first time), then lint, type-check and run every test
    python3 tasks.py freeze  # rewrite constraints.txt from the virtual environment

The virtual environment lives in ./.venv and is reinstalled whenever pyproject.toml or
constraints.txt change.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
STAMP = VENV / ".chorus-installed"
INSTALL_INPUTS = ("pyproject.toml", "constraints.txt")


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in INSTALL_INPUTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def _run(*command: str | Path, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(part) for part in command), flush=True)
    return subprocess.call([str(part) for part in command], cwd=ROOT, env=env)


def ensure_environment() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on any python3
        sys.exit(f"Chorus needs Python >= 3.11 (this is {sys.version.split()[0]}).")
    if not PYTHON.exists():
        print(f"Creating virtual environment in {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    wanted = _fingerprint()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("Installing Chorus and its pinned dependencies …", flush=True)
    status = _run(
        PYTHON,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        "-c",
        "constraints.txt",
        "-e",
        ".[dev]",
    )
    if status != 0:
        sys.exit(status)
    STAMP.write_text(wanted)


def dev(args: list[str]) -> int:
    env = {**os.environ, "CHORUS_ENV": os.environ.get("CHORUS_ENV", "development")}
    return _run(BIN / "chorus", "dev", *args, env=env)


def test(args: list[str]) -> int:
    """Quality gates first (fast), then the unit and integration suites."""
    gates = [
        ("ruff lint", [BIN / "ruff", "check", "src", "tests", "bench", "tasks.py"]),
        ("ruff format", [BIN / "ruff", "format", "--check", "src", "tests", "bench", "tasks.py"]),
        ("mypy", [BIN / "mypy"]),
    ]
    failed = [name for name, command in gates if _run(*command) != 0]
    pytest_args = args or ["tests/unit", "tests/integration"]
    status = _run(PYTHON, "-m", "pytest", *pytest_args)
    if status != 0:
        failed.append("pytest")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def freeze(_: list[str]) -> int:
    frozen = subprocess.run(
        [str(PYTHON), "-m", "pip", "freeze", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    pins = sorted((line for line in frozen if not line.lower().startswith("chorus")), key=str.lower)
    header = [
        "# Exact versions of every package Chorus installs (direct and transitive).",
        "# Used as: pip install -c constraints.txt -e '.[dev]'  — regenerate with: "
        "python3 tasks.py freeze",
    ]
    (ROOT / "constraints.txt").write_text("\n".join(header + pins) + "\n")
    return 0


COMMANDS = {"dev": dev, "test": test, "freeze": freeze}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    ensure_environment()
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
