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

__all__ = ["__version__"]
