"""Where things live: the project root, data folders and the per-run output folder.

Notebook parameters hold paths relative to the project root (``data/raw``), so a notebook runs the
same from JupyterLab (whose working directory is ``notebooks/``), from papermill and from the CLI.
"""

from __future__ import annotations

import os
from pathlib import Path

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
