"""Saving figures and tables: the one place where charts and tables reach the disk.

Files are written to a temporary name in the destination folder and renamed into place, so a
reader never sees a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

FIGURES = "figures"
TABLES = "tables"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    On error the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def save_figure(fig: Figure, name: str, *, out_dir: str | os.PathLike[str]) -> Path:
    """Save ``fig`` as ``OUT_DIR/figures/NAME.png`` (atomically) and return the path."""
    path = Path(out_dir) / FIGURES / f"{name}.png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def save_table(df: pd.DataFrame, name: str, *, out_dir: str | os.PathLike[str]) -> Path:
    """Save ``df`` as a formatted workbook ``OUT_DIR/tables/NAME.xlsx`` and return the path."""
    from ntm_analysis import excel

    path = Path(out_dir) / TABLES / f"{name}.xlsx"
    with atomic_path(path) as tmp:
        excel.write_table(df, tmp, sheet_name=name[:31])
    return path
