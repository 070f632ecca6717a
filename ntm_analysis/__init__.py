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


def files_digest(root: str) -> str:
    """SHA-256 (hex) of the files under ``root`` — their paths relative to it and their bytes —
    leaving out ``__pycache__`` folders and compiled files.

    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "load.py").write_text("x = 1")
    >>> before = files_digest(str(folder))
    >>> (folder / "__pycache__").mkdir()
    >>> _ = (folder / "__pycache__" / "load.cpython-311.pyc").write_bytes(b"\0")
    >>> files_digest(str(folder)) == before
    True
    >>> _ = (folder / "load.py").write_text("x = 2")
    >>> files_digest(str(folder)) == before
    False
    """
    import hashlib
    import os

    digest = hashlib.sha256()
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(folder, name)
            with open(path, "rb") as file:
                content = hashlib.sha256(file.read()).digest()
            digest.update(os.path.relpath(path, root).encode() + b"\0" + content)
    return digest.hexdigest()


_BUILD: list[str] = []


def build_id() -> str:
    """``__version__`` with a digest of the package's own files (code, data, templates):
    ``"0.1.0+3f2a9c1e5b7d"`` (a PEP 440 local version).

    Caches (``ntm ingest``'s tables, the money tables) and run fingerprints (a batch's resume)
    are keyed by it, not by the version number alone: a checkout of another commit, or an
    edited loader, carries the same ``__version__`` but reads workbooks differently, and must
    never be served the tables an older reader made. Computed once per process (a few ms).
    """
    if not _BUILD:
        import os

        _BUILD.append(f"{__version__}+{files_digest(os.path.dirname(__file__))[:12]}")
    return _BUILD[0]


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "LoadResult",
    "NtmError",
    "__version__",
    "build_id",
    "compute_attainment",
    "list_discrepancies",
    "list_gaps",
    "load_catalogue",
    "load_workbook",
    "load_workbooks",
    "summarise_attainment",
    "summarise_criteria",
]
