"""Shared inputs for the runner, export and CLI tests: a project folder and a hamlet workbook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import openpyxl
import pytest
from nbformat.v4 import new_code_cell, new_notebook

#: Fixture notebooks committed with the tests.
NOTEBOOKS = Path(__file__).parent / "data" / "notebooks"
CHART_TABLE = NOTEBOOKS / "chart_table.ipynb"
FAILING = NOTEBOOKS / "failing.ipynb"
#: The file ``batch_fixture.ipynb``'s held run (``hold_for``) is midway through writing while
#: it waits, named as ``atomic_path`` names its files: renamed into place when the hold ends,
#: left behind when the run is stopped.
HELD_WRITE = ".held.txt.cut.tmp"

#: Workbook text an attacker (or a careless copy-paste) could put in a cell.
SCRIPT_TEXT = "<script>document.documentElement.setAttribute('data-pwned','1')</script>"
IMG_TEXT = "<img src=x onerror=\"document.title='PWNED'\">"
#: Rows of the hamlet workbook: name, value, status.
HAMLET_ROWS = [
    ("Xóm Ao Sen", 80.5, "met"),
    (SCRIPT_TEXT, 1250.5, "not_met"),
    (IMG_TEXT, 3, "unknown"),
    ("Xóm Đồng Nhân", 42.25, "not_met"),
]


def make_project(root: Path) -> Path:
    """Create an empty project layout (``data/``, ``notebooks/``) under ``root``."""
    (root / "data" / "raw").mkdir(parents=True, exist_ok=True)
    (root / "notebooks").mkdir(exist_ok=True)
    return root


def write_hamlets(path: Path, rows: list[tuple[str, float, str]] = HAMLET_ROWS) -> Path:
    """Write the hamlet workbook (header row then ``rows``) with openpyxl."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Xóm"
    ws.append(["name", "value", "status"])
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def code_notebook(path: Path, *sources: str) -> Path:
    """Write a notebook of code cells ``sources`` (Python 3 kernel) to ``path``; return it."""
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def merge_streams(outputs: list) -> list:
    """Return a cell's ``outputs`` with each run of adjacent stream outputs of one name (stdout,
    stderr) joined into one, as a notebook front end shows them.

    A kernel sends what a cell prints in chunks that a timer of its I/O thread cuts (every
    0.2 s): ``print('a')`` is one output ``'a\\n'`` on an idle machine, but two (``'a'``, then
    ``'\\n'``) when the kernel is held up for longer than that between the two writes of the
    print, as on a loaded machine. The text is what a test checks, not where the timer cut it.
    """
    merged: list = []
    for out in outputs:
        last = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and last is not None
                and last.get("output_type") == "stream" and last.get("name") == out.get("name")):
            merged[-1] = {**last, "text": last["text"] + out["text"]}
        else:
            merged.append(out)
    return merged


def hamlet_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Make a project under ``tmp_path/proj``, point ``NTM_PROJECT_ROOT`` at it and write the
    hamlet workbook in its ``data/raw/``; return the project folder and the workbook."""
    root = make_project(tmp_path / "proj")
    monkeypatch.setenv("NTM_PROJECT_ROOT", str(root))
    return root, write_hamlets(root / "data" / "raw" / "xom.xlsx")
