"""One run of a batch, as a worker executes it: the run, its outcome and :func:`execute_run`.

Batch workers import this module (with the runner, the export and the kernel pool) and not
:mod:`ntm_analysis.batch`, which plans batches and summarises them with pandas: a worker only
drives a notebook's kernel and writes its report, and without pandas its process starts in
about 0.35 s less CPU, at the batch's start, when every core is busy warming up.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ntm_analysis.errors import NtmError
from ntm_analysis.fsio import pid_alive
from ntm_analysis.run import STATUS_FAILED, STATUS_OK

#: Modules a batch worker runs with: imported once by the workers' fork server (through
#: :mod:`ntm_analysis.worker_warm`), from which the batch's own workers are forked, instead of
#: once in every worker (the program's main module, which multiprocessing imports in every
#: worker, is imported by the server first).
WORKER_MODULES = (
    "ntm_analysis.batch_worker", "ntm_analysis.run", "ntm_analysis.engine",
    "ntm_analysis.export", "ntm_analysis.kernels", "ntm_analysis.forkserver", "papermill",
    "papermill.engines", "papermill.clientwrap", "nbclient", "nbformat", "nbconvert",
    "jupyter_client.manager", "jupyter_client.asynchronous",
)


@dataclass(frozen=True)
class BatchRun:
    """One run of the batch: a unit and year, the notebook's parameters and its input files."""

    run_id: str
    unit: str
    year: int | None
    parameters: Mapping[str, Any]
    inputs: tuple[str, ...]
    parent: str | None = None
    #: The hamlet of a hamlet notebook's run (one run per hamlet of the commune ``unit``).
    hamlet: str | None = None


@dataclass
class RunOutcome:
    """What became of one run: ``ok``, ``failed`` or ``skipped`` (unchanged since last time)."""

    run_id: str
    status: str
    seconds: float
    out_dir: str
    report: str | None = None
    error: str | None = None


#: Parameters a plan fills in for every run; left out for a notebook that does not declare them.
PLANNED_PARAMS = ("commune", "year", "paths", "processed_dir", "hamlet")


def run_parameters(run: BatchRun, declared: Mapping[str, Any]) -> dict[str, Any]:
    """The run's parameters for a notebook declaring ``declared`` (planned ones it lacks left
    out; any other name is kept, so that the runner rejects it by name)."""
    return {k: v for k, v in run.parameters.items()
            if k in declared or k not in PLANNED_PARAMS}


def _run_extra(run: BatchRun) -> dict[str, Any]:
    extra = {"run_id": run.run_id, "unit": run.unit, "year": run.year, "parent": run.parent}
    if run.hamlet is not None:
        extra["hamlet"] = run.hamlet
    return extra


def execute_run(run: BatchRun, notebook: str, out_dir: str, kernel_name: str = "python3",
                timeout: int | None = None, html_report: bool = True,
                root: str | None = None, warm_kernel: bool = True,
                spare_next: bool = True, fork_kernel: bool = True,
                fork_socket: str | None = None) -> RunOutcome:
    """Execute one run with :func:`ntm_analysis.run.run_notebook`; never raises for a failed run.

    It runs in a worker process (or on a Dask worker), so it takes and returns plain values.
    The run folder and its manifest are the runner's (one format for ``ntm run`` and batches);
    a failure is returned as an outcome with status ``failed`` and the error text. With
    ``warm_kernel`` the run uses the worker's spare kernel (:mod:`ntm_analysis.kernels`),
    started while the worker's previous run executed; ``spare_next`` false starts no spare
    after it (the batch's last runs, one per worker). With ``fork_kernel`` the kernels are
    forked from a warm template (:mod:`ntm_analysis.forkserver`): the batch's, listening at
    ``fork_socket``, or else one the worker starts.
    """
    from ntm_analysis.run import notebook_parameters, run_notebook

    start = time.perf_counter()
    try:
        declared = notebook_parameters(notebook)
        result = run_notebook(notebook, parameters=run_parameters(run, declared),
                              out_dir=out_dir, kernel_name=kernel_name, inputs=run.inputs,
                              export=html_report, timeout=timeout,
                              root=root, extra=_run_extra(run), warm_kernel=warm_kernel,
                              spare_next=spare_next, fork_kernel=fork_kernel,
                              fork_socket=fork_socket)
    except Exception as exc:  # noqa: BLE001 - a failed run is recorded, the batch goes on
        return RunOutcome(run.run_id, STATUS_FAILED, time.perf_counter() - start, out_dir,
                          None, error_text(exc))
    report = str(result.html_path) if result.html_path else None
    return RunOutcome(run.run_id, STATUS_OK, time.perf_counter() - start, out_dir, report)


def init_worker(batch_pid: int | None = None) -> None:
    """Initializer of the batch's own workers: they ignore SIGINT and end with the batch.

    A terminal's Ctrl-C reaches every process of its group, the workers too; the batch's
    process alone acts on it, stopping the workers itself and recording what they ran
    (:class:`ntm_analysis.batch.BatchInterrupted`), so a worker neither leaves a half-told
    run nor takes the next one meanwhile. Kernels set their own handlers.

    With ``batch_pid`` (the batch's process), a thread of the worker waits for that process to
    end, however it ends (SIGKILL, the out-of-memory killer), and then kills the worker, whose
    kernel ends with it: otherwise a worker would finish its run unseen, past the batch's lock,
    and then wait for more forever (its task queue's other end is held by the other workers,
    and its parent, ``multiprocessing``'s fork server, lives as long as any worker does).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if batch_pid is not None:
        threading.Thread(target=_end_with, args=(batch_pid,), name="ntm-end-with-batch",
                         daemon=True).start()


def _end_with(pid: int) -> None:
    """Wait for process ``pid`` to end (a pidfd where Linux has one, else a check a second),
    then kill this process."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux 5.3+, or already gone
        while pid_alive(pid):  # (a zombie counts as ended)
            time.sleep(1.0)
    else:
        select.select([fd], [], [])  # readable once the process has ended
    os.kill(os.getpid(), signal.SIGKILL)


def error_text(exc: BaseException) -> str:
    """One line (at most 500 characters) saying what went wrong, for the summary and index."""
    text = str(exc).strip() or type(exc).__name__
    if not isinstance(exc, NtmError):
        text = f"{type(exc).__name__}: {text}"
    return text.splitlines()[0][:500]
