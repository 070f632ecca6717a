"""House-style gates that run with the tests: ruff (lint) and mypy (types) on the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (it comes with the [dev] extra)")
    return found


def test_ruff_is_clean() -> None:
    proc = subprocess.run([_tool("ruff"), "check", "ntm_analysis", "tests", "scripts"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    proc = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _declared(requirements: list[str]) -> set[str]:
    """Distribution names of ``requirements``; an extra counts as the package it brings
    (``dask[distributed]``: dask and distributed)."""
    import re

    names = set()
    for requirement in requirements:
        found = re.match(r"([A-Za-z0-9_.-]+)(?:\[([^\]]*)\])?", requirement)
        assert found, requirement
        names.add(found[1])
        names.update(x.strip() for x in (found[2] or "").split(",") if x.strip())
    return {n.lower().replace("_", "-") for n in names}


def _imported_modules(files: list[Path]) -> dict[str, list[str]]:
    """Top-level modules each file imports (``import x.y``, ``from x import y``; not relative)."""
    import ast

    found: dict[str, list[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and not node.level else [])
            for name in names:
                found.setdefault(name.split(".")[0], []).append(path.name)
    return found


def test_every_package_the_library_imports_is_a_declared_dependency() -> None:
    # a module imported by ntm_analysis that only arrives with another package (psutil came
    # with IPython) would break the day that package drops it
    import importlib.metadata as md
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = _declared(project["dependencies"])
    optional = _declared(project["optional-dependencies"]["dask"])
    providers = md.packages_distributions()
    undeclared = {}
    for module, files in _imported_modules(sorted((ROOT / "ntm_analysis").glob("*.py"))).items():
        if module in sys.stdlib_module_names or module in ("ntm_analysis", "__future__"):
            continue
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
        if not dists & (base | optional):
            undeclared[module] = sorted(set(files))
    assert undeclared == {}


def test_no_statement_follows_a_return_raise_break_or_continue() -> None:
    # a finding's older copy was left after the `return` that replaced it (ruff's unreachable
    # code rule is still a preview); code that cannot run only misleads its reader
    import ast
    import itertools

    found = []
    files = [*ROOT.glob("ntm_analysis/*.py"), *ROOT.glob("tests/*.py"),
             ROOT / "benchmarks" / "run.py"]
    for path in sorted(files):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for field in ("body", "orelse", "finalbody"):
                block = getattr(node, field, None)
                if not isinstance(block, list):
                    continue
                for statement, after in itertools.pairwise(block):
                    if isinstance(statement, ast.Return | ast.Raise | ast.Break | ast.Continue):
                        found.append(f"{path.relative_to(ROOT)}:{after.lineno}")
    assert found == []
