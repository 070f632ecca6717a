"""ntm-analysis: analytics for Vietnam's New Rural Development programme (Nông thôn mới).

The library reads the Excel appendix tables ("phụ biểu") that commune and hamlet offices keep,
turns them into one tidy table with provenance, and computes criterion attainment.

Examples
--------
>>> from ntm_analysis import load_workbooks, compute_attainment, summarise_attainment
>>> # result = load_workbooks(["data/raw/kim_phuong_2024_xa.xlsx"])
>>> # summary = summarise_attainment(compute_attainment(result.indicators))
"""

from __future__ import annotations

__version__ = "0.1.0"

from ntm_analysis.attainment import (  # noqa: E402
    compute_attainment,
    list_discrepancies,
    list_gaps,
    summarise_attainment,
    summarise_criteria,
)
from ntm_analysis.catalogue import load_catalogue  # noqa: E402
from ntm_analysis.errors import NtmError  # noqa: E402
from ntm_analysis.load import LoadResult, load_workbook, load_workbooks  # noqa: E402

__all__ = [
    "LoadResult",
    "NtmError",
    "__version__",
    "compute_attainment",
    "list_discrepancies",
    "list_gaps",
    "load_catalogue",
    "load_workbook",
    "load_workbooks",
    "summarise_attainment",
    "summarise_criteria",
]
