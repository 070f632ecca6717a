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

from typing import TYPE_CHECKING, Any

#: Where each public name lives; imported on first use (PEP 562), so that importing any part
#: of the package (a batch worker's runner, the command line) does not import pandas for it.
_EXPORTS = {
    "compute_attainment": "ntm_analysis.attainment",
    "list_discrepancies": "ntm_analysis.attainment",
    "list_gaps": "ntm_analysis.attainment",
    "summarise_attainment": "ntm_analysis.attainment",
    "summarise_criteria": "ntm_analysis.attainment",
    "load_catalogue": "ntm_analysis.catalogue",
    "NtmError": "ntm_analysis.errors",
    "LoadResult": "ntm_analysis.load",
    "load_workbook": "ntm_analysis.load",
    "load_workbooks": "ntm_analysis.load",
}

if TYPE_CHECKING:
    from ntm_analysis.attainment import (
        compute_attainment,
        list_discrepancies,
        list_gaps,
        summarise_attainment,
        summarise_criteria,
    )
    from ntm_analysis.catalogue import load_catalogue
    from ntm_analysis.errors import NtmError
    from ntm_analysis.load import LoadResult, load_workbook, load_workbooks


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ntm_analysis' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup is a plain one
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


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
