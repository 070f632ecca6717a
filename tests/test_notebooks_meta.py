"""Meta-tests of the suite's notebooks: thin, documented parameters, committed without outputs."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
SUITE = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))

#: ``name: type = default  # help`` with a non-empty help text.
PARAMETER_LINE = re.compile(r"^[A-Za-z_]\w*: [^=#]+? = .+?  # \S.*$")
#: What a thin notebook must not contain (logic belongs in the library).
FORBIDDEN = {
    "def": re.compile(r"^\s*(?:async\s+)?def\s", re.MULTILINE),
    "class": re.compile(r"^\s*class\s", re.MULTILINE),
    "pd.read_": re.compile(r"\bpd\.read_"),
    "for loop": re.compile(r"\bfor\s"),
}


def notebook_problems(nb: nbformat.NotebookNode) -> list[str]:
    """Return what makes ``nb`` break the house rules for notebooks (empty when it is fine)."""
    problems: list[str] = []
    cells = nb.cells
    first = cells[0] if cells else None
    if first is None or first.cell_type != "markdown" or not first.source.lstrip().startswith("#"):
        problems.append("first cell is not a markdown title")
    tagged = [i for i, c in enumerate(cells)
              if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        problems.append(f"expected exactly one cell tagged 'parameters', found {len(tagged)}")
    for i in tagged:
        if cells[i].cell_type != "code":
            problems.append(f"cell {i}: the parameters cell is not a code cell")
        for n, line in enumerate(cells[i].source.splitlines(), start=1):
            if not PARAMETER_LINE.match(line):
                problems.append(f"cell {i}, line {n}: expected 'name: type = default  # help', "
                                f"got {line!r}")
    for i, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"cell {i}: outputs are stored")
        if cell.get("execution_count") is not None:
            problems.append(f"cell {i}: an execution count is stored")
        for what, pattern in FORBIDDEN.items():
            if pattern.search(cell.source):
                problems.append(f"cell {i}: contains {what}")
    return problems


def test_checker_accepts_a_thin_notebook() -> None:
    params = new_code_cell('year: int = 2024  # năm báo cáo\nlang: str = "vi"  # vi or en')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell("# Báo cáo"), params,
                             new_code_cell("from ntm_analysis import run")])
    assert notebook_problems(nb) == []


def test_checker_finds_every_kind_of_problem() -> None:
    params = new_code_cell("year = 2024\nlang: str = 'vi'  # vi or en")
    params.metadata["tags"] = ["parameters"]
    second = new_code_cell("hamlet: str = 'Ao Sen'  # xóm")
    second.metadata["tags"] = ["parameters"]
    ran = new_code_cell("def f():\n    pass\nclass A: ...\ndf = pd.read_excel('x.xlsx')\n"
                        "for row in df: print(row)", execution_count=3,
                        outputs=[new_output("stream", name="stdout", text="x")])
    nb = new_notebook(cells=[new_code_cell("import pandas"), params, second, ran])
    problems = notebook_problems(nb)
    assert problems == [
        "first cell is not a markdown title",
        "expected exactly one cell tagged 'parameters', found 2",
        "cell 1, line 1: expected 'name: type = default  # help', got 'year = 2024'",
        "cell 3: outputs are stored",
        "cell 3: an execution count is stored",
        "cell 3: contains def",
        "cell 3: contains class",
        "cell 3: contains pd.read_",
        "cell 3: contains for loop",
    ]


@pytest.mark.skipif(not SUITE, reason=f"no notebooks in {NOTEBOOKS_DIR} yet")
@pytest.mark.parametrize("path", SUITE, ids=[p.name for p in SUITE])
def test_suite_notebook_is_thin_and_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert notebook_problems(nb) == []
