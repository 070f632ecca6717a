"""Refuse to start a batch's worker processes from a script's unguarded top-level code.

The batch's own workers are started by ``multiprocessing``'s "forkserver" (or "spawn") method,
which begins every worker by importing the program's main module again (as ``__mp_main__``), so
that functions defined there can be unpickled. A script that calls :func:`ntm_analysis.batch.
run_batch` at its top level, not under ``if __name__ == "__main__":``, would therefore start the
batch again inside each worker while it starts: the workers die, and every run failed with
``BrokenProcessPool`` and a traceback from inside the worker's start, which says nothing of the
cause. Python's own check (``multiprocessing.spawn``) only fires once a worker tries to start
processes of its own, after it has re-run whatever the script does first (reading every
workbook, for instance).

:func:`check_main_guard` finds the cause before any worker starts: it looks for the main
module's top-level statement that the call comes from and, in the script's source, for an ``if``
on ``__name__`` around it. It only raises when it is sure: a script without a source to read,
an interactive session or a notebook (no main file to re-run), or an ``if`` on ``__name__``
anywhere before the call (``if __name__ != "__main__": sys.exit()``) leave the batch to run.
Inside a worker that is re-running the main module as it starts it always raises, whatever
the executor, and names that cause (the call there would start a batch inside a worker).
"""

from __future__ import annotations

import ast
import multiprocessing
import sys
from dataclasses import dataclass
from types import FrameType, ModuleType

from ntm_analysis.errors import UsageError


@dataclass(frozen=True)
class CallSite:
    """A top-level statement of the main script that a worker would run again."""

    path: str
    line: int


def reruns_main(main: ModuleType | None) -> bool:
    """Whether a "spawn" or "forkserver" worker re-runs ``main`` when it starts.

    As ``multiprocessing.spawn.get_preparation_data`` decides: a module run with ``python -m``
    is imported again by name, a script by its path; a session without either (the interactive
    interpreter, ``python -c``, a Jupyter kernel) has nothing to re-run.

    >>> import types
    >>> reruns_main(types.ModuleType("__main__"))
    False
    >>> script = types.ModuleType("__main__"); script.__file__ = "report.py"
    >>> reruns_main(script)
    True
    """
    if main is None:
        return False
    if getattr(getattr(main, "__spec__", None), "name", None) is not None:
        return True
    return getattr(main, "__file__", None) is not None


def unguarded_call_site(frame: FrameType | None,
                        main: ModuleType | None = None) -> CallSite | None:
    """Return the main module's top-level statement that ``frame`` was called from, when a
    worker re-running the main module would run it again; else None.

    ``frame`` is any frame of the call (its callers are searched for the main module's
    top-level code); ``main`` defaults to ``sys.modules["__main__"]``. The statement is left
    out (None) when it is inside an ``if`` that tests ``__name__``, when an ``if`` on
    ``__name__`` comes before it at the top level (the script may stop there), or when the
    script's source cannot be read or parsed.
    """
    if main is None:
        main = sys.modules.get("__main__")
    if not reruns_main(main):
        return None
    namespace = vars(main)
    while frame is not None:
        if frame.f_globals is namespace and frame.f_code.co_name == "<module>":
            break
        frame = frame.f_back
    if frame is None:
        return None
    path, line = frame.f_code.co_filename, frame.f_lineno
    try:
        with open(path, "rb") as handle:
            tree = ast.parse(handle.read(), filename=path)
    except (OSError, SyntaxError, ValueError):
        return None
    for statement in tree.body:
        end = statement.end_lineno or statement.lineno
        if statement.lineno <= line <= end:
            guarded = any(isinstance(node, ast.If) and _tests_name(node.test)
                          and node.lineno <= line <= (node.end_lineno or node.lineno)
                          for node in ast.walk(statement))
            return None if guarded else CallSite(path, line)
        if isinstance(statement, ast.If) and _tests_name(statement.test):
            return None  # e.g. `if __name__ != "__main__": sys.exit()`: the script may stop
    return None


def _tests_name(test: ast.expr) -> bool:
    return any(isinstance(node, ast.Name) and node.id == "__name__" for node in ast.walk(test))


def check_main_guard(*, own_workers: bool = True) -> None:
    """Raise :class:`~ntm_analysis.errors.UsageError` if this call of ``run_batch`` runs in a
    worker process that is re-running the main module as it starts, or (``own_workers``: the
    batch is about to start "forkserver" or "spawn" workers) if such workers would run it
    again (see the module's documentation)."""
    advice = ('Put the call under `if __name__ == "__main__":` (see "Safe importing of main '
              'module" in the documentation of multiprocessing), or use `ntm batch`.')
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise UsageError("run_batch was called while a worker process re-ran the main module "
                         "as it started: the main module starts the batch at its top level. "
                         + advice)
    site = unguarded_call_site(sys._getframe(1)) if own_workers else None
    if site is not None:
        raise UsageError(
            f"run_batch was called from the top level of {site.path} (line {site.line}), "
            f'outside `if __name__ == "__main__":`. The batch\'s worker processes start by running '
            f"that script again, so each would start the batch again. {advice}")
