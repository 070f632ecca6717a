"""The papermill engine that saves the output notebook once, at the end."""

from __future__ import annotations

import contextlib
from pathlib import Path

import nbformat
import papermill as pm
import pytest
from notebook_fixtures import code_notebook, merge_streams

from ntm_analysis.engine import ENGINE_NAME, register_engine


def test_output_written_once_at_the_end(tmp_path: Path) -> None:
    out = tmp_path / "out.ipynb"
    # the second cell looks for the output notebook while the run is under way
    nb = code_notebook(tmp_path / "in.ipynb", "x = 6 * 7\nprint(x)",
                   f"import os\nprint('exists' if os.path.exists({str(out)!r}) else 'absent')")
    assert register_engine() == ENGINE_NAME == register_engine()  # idempotent
    pm.execute_notebook(str(nb), str(out), engine_name=ENGINE_NAME, kernel_name="python3",
                        progress_bar=False)
    cells = nbformat.read(out, as_version=4).cells
    assert merge_streams(cells[0].outputs)[0]["text"] == "42\n"
    assert merge_streams(cells[1].outputs)[0]["text"] == "absent\n"  # no save after the first cell
    assert all(c.metadata["papermill"]["status"] == "completed" for c in cells)

    # papermill's own engine saves after each cell, so the same cell sees the file
    default = tmp_path / "default.ipynb"
    nb2 = code_notebook(tmp_path / "in2.ipynb",
                    f"import os\nprint('exists' if os.path.exists({str(default)!r}) else "
                    "'absent')")
    pm.execute_notebook(str(nb2), str(default), kernel_name="python3", progress_bar=False)
    first = nbformat.read(default, as_version=4).cells[0]
    assert merge_streams(first.outputs)[0]["text"] == "exists\n"


def test_partial_notebook_kept_when_the_kernel_dies(tmp_path: Path) -> None:
    out = tmp_path / "out.ipynb"
    nb = code_notebook(tmp_path / "in.ipynb", "print('before')", "import os\nos._exit(3)",
                   "print('never')")
    with pytest.raises(Exception, match="(?i)dead|died|kernel"):
        pm.execute_notebook(str(nb), str(out), engine_name=register_engine(),
                            kernel_name="python3", progress_bar=False)
    cells = nbformat.read(out, as_version=4).cells
    assert merge_streams(cells[0].outputs)[0]["text"] == "before\n"
    assert cells[2].outputs == []


def test_cell_error_keeps_outputs_before_it(tmp_path: Path) -> None:
    out = tmp_path / "out.ipynb"
    nb = code_notebook(tmp_path / "in.ipynb", "print('ok')", "1 / 0", "print('never')")
    with pytest.raises(pm.PapermillExecutionError, match="ZeroDivisionError"):
        pm.execute_notebook(str(nb), str(out), engine_name=register_engine(),
                            kernel_name="python3", progress_bar=False)
    cells = {c.source: c for c in nbformat.read(out, as_version=4).cells
             if c.cell_type == "code"}  # papermill adds an error marker cell on top
    assert merge_streams(cells["print('ok')"].outputs)[0]["text"] == "ok\n"
    assert cells["1 / 0"].metadata["papermill"]["exception"] is True
    assert cells["print('never')"].outputs == []


def test_each_run_writes_its_notebook_once(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Papermill writes the notebook when the engine returns (with error markers if a cell
    failed); the engine writes it only when the execution itself fails (kernel died)."""
    from papermill import engines, execute, iorw

    written: list[str] = []
    real = iorw.write_ipynb

    def counted(nb, path, **kwargs):  # type: ignore[no-untyped-def]
        written.append(str(path))
        return real(nb, path, **kwargs)

    for module in (engines, execute, iorw):
        monkeypatch.setattr(module, "write_ipynb", counted)
    cases = {"ok": ("print('ok')",), "raises": ("print('ok')", "1 / 0"),
             "dies": ("print('ok')", "import os\nos._exit(3)")}
    for name, sources in cases.items():
        out = tmp_path / f"{name}.ipynb"
        nb = code_notebook(tmp_path / f"in_{name}.ipynb", *sources)
        with pytest.raises(Exception) if name != "ok" else contextlib.nullcontext():
            pm.execute_notebook(str(nb), str(out), engine_name=register_engine(),
                                kernel_name="python3", progress_bar=False)
        assert written == [str(out)], name
        kept = nbformat.read(out, as_version=4)
        first = next(c for c in kept.cells if c.source == "print('ok')")
        assert merge_streams(first.outputs)[0]["text"] == "ok\n"
        assert kept.metadata["papermill"]["end_time"]
        written.clear()
