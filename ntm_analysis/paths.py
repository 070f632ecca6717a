"""Where things live: the project root, data folders and the per-run output folder.

Notebook parameters hold paths relative to the project root (``data/raw``), so a notebook runs the
same from JupyterLab (whose working directory is ``notebooks/``), from papermill and from the CLI.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ntm_analysis.errors import InputError, Location, ParameterError

#: Environment variable that pins the project root (set by the runner for notebook kernels).
ROOT_ENV = "NTM_PROJECT_ROOT"


def project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """Return the project root: ``$NTM_PROJECT_ROOT``, else the nearest folder holding ``data/``
    and ``notebooks/`` above ``start`` (default: the working directory), else the checkout this
    package was installed from (so ``ntm report`` finds the suite's notebooks from any folder),
    else ``start`` itself.
    """
    env = os.environ.get(ROOT_ENV)
    if env:
        return Path(env).resolve()
    here = Path(start or os.getcwd()).resolve()
    for candidate in (here, *here.parents):
        if _is_root(candidate):
            return candidate
    suite = Path(__file__).resolve().parents[1]
    if _is_root(suite):
        return suite
    return here


def _is_root(folder: Path) -> bool:
    return (folder / "data").is_dir() and (folder / "notebooks").is_dir()


def resolve(path: str | os.PathLike[str], *, root: Path | None = None) -> Path:
    """Resolve ``path`` against the project root unless it is absolute.

    Examples
    --------
    >>> resolve("/tmp/x").as_posix()
    '/tmp/x'
    """
    p = Path(path).expanduser()
    return p if p.is_absolute() else (root or project_root()) / p


#: File endings of the workbooks a folder gives.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")


def is_workbook(path: Path) -> bool:
    """Return True for a workbook file a folder gives: a workbook ending, neither hidden (an
    interrupted write's temporary) nor an Excel lock file (``~$NAME.xlsx``)."""
    return (path.suffix.lower() in WORKBOOK_SUFFIXES and not path.name.startswith((".", "~$"))
            and path.is_file())


def find_workbooks(folder: str | os.PathLike[str]) -> list[Path]:
    """Return the workbooks under ``folder`` (recursively, sorted; see :func:`is_workbook`)."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(Location(file=os.fspath(folder)), "folder not found")
    return sorted(p for p in root.rglob("*") if is_workbook(p))


def workbooks_in(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Return the workbooks named by ``paths``: a folder gives those under it, any other path
    is kept as given (the loader says what is wrong with it); each file once, in order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("b.xlsx", "a.xlsx", "~$a.xlsx", "notes.txt"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [p.name for p in workbooks_in([folder, folder / "a.xlsx", folder / "notes.txt"])]
    ['a.xlsx', 'b.xlsx', 'notes.txt']
    """
    found: dict[Path, Path] = {}
    for item in paths:
        path = Path(item).expanduser()
        for workbook in find_workbooks(path) if path.is_dir() else [path]:
            found.setdefault(workbook.resolve(), workbook)
    return list(found.values())


def require_workbooks(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """:func:`workbooks_in`, raising :class:`InputError` (naming ``paths``) when it finds none:
    the workbooks of a command's ``PATHS`` argument."""
    paths = list(paths)
    found = workbooks_in(paths)
    if not found:
        raise InputError(Location(file=", ".join(os.fspath(p) for p in paths)),
                         f"no workbook found (looked for {', '.join(WORKBOOK_SUFFIXES)})")
    return found


def check_outside(out: str | os.PathLike[str], folders: Iterable[str | os.PathLike[str]], *,
                  what: str = "output folder") -> None:
    """Raise :class:`ParameterError` when ``out`` is one of ``folders`` (the folders workbooks
    are read from) or inside one: raw data is never written, and a report's Excel tables left
    among the workbooks would be read as workbooks the next time.

    Examples
    --------
    >>> check_outside("outputs/kp", ["data/raw"])
    >>> check_outside("data/raw/bao-cao", ["data/raw"])
    Traceback (most recent call last):
    ...
    ntm_analysis.errors.ParameterError: data/raw/bao-cao: the output folder is inside data/raw, \
which workbooks are read from; raw data is never written (and the report's tables would be read \
as workbooks next time): choose a folder outside it, such as outputs/
    """
    target = Path(out).expanduser().resolve()
    for folder in folders:
        source = Path(folder).expanduser().resolve()
        if target == source or source in target.parents:
            raise ParameterError(
                f"{os.fspath(out)}: the {what} is inside {os.fspath(folder)}, which workbooks are "
                "read from; raw data is never written (and the report's tables would be read as "
                "workbooks next time): choose a folder outside it, such as outputs/")
