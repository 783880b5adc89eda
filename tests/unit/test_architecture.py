"""The layering rules, checked on every test run."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "src" / "core"


def test_import_linter_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_core_source_imports_only_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"core", "__future__"}
    offenders = []
    for path in CORE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] not in allowed]
    assert offenders == []


def test_core_imports_in_a_bare_virtual_environment(tmp_path):
    """Other services `import core` with nothing else installed."""
    env_dir = tmp_path / "bare"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    modules = sorted(
        ".".join(p.relative_to(ROOT / "src").with_suffix("").parts).removesuffix(".__init__")
        for p in CORE.rglob("*.py")
    )
    script = "import importlib, sys\n" + "".join(
        f"importlib.import_module({m!r})\n" for m in modules
    )
    script += "assert not {'sqlalchemy', 'litestar'} & {m.split('.')[0] for m in sys.modules}\n"
    result = subprocess.run(
        [
            str(python),
            "-I",
            "-c",
            f"import sys; sys.path.insert(0, {str(ROOT / 'src')!r})\n{script}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
