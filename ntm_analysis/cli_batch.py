"""The ``ntm batch`` command: run a notebook for every commune and year, in parallel.

A ``click.Command`` that the main group registers (``cli.add_command(batch)``); errors are the
suite's ``NtmError`` subclasses, turned into messages by the group.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ntm_analysis.errors import EXIT_INTERRUPTED, ParameterError

if TYPE_CHECKING:
    from ntm_analysis.batch import RunCheck, UnreadFile


def _parse_params(items: tuple[str, ...]) -> dict[str, object]:
    import yaml

    out: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"--param expects NAME=VALUE, got {item!r}")
        out[name.strip()] = yaml.safe_load(value) if value else ""
    return out


#: Exit code of a batch stopped by SIGTERM: 128 + its number, as a shell reports a program it
#: ended (after Ctrl-C: ``EXIT_INTERRUPTED``, 130).
EXIT_TERMINATED = 128 + signal.SIGTERM


@contextlib.contextmanager
def _stopping_signals(received: list[int]) -> Iterator[None]:
    """While the command runs, the first Ctrl-C or SIGTERM (a service manager's or a
    scheduler's stop, ``timeout``) stops the batch, its summary written; later ones only ask to
    wait. ``received`` gets the signals' numbers. Once one came, both are ignored after the
    block: the process only exits then, and a Ctrl-C must not break its exit (a traceback, or
    death by SIGINT once Python has reset its handlers)."""

    def interrupt(signum: int, frame: object) -> None:
        received.append(signum)
        if len(received) == 1:
            raise KeyboardInterrupt
        click.echo("stopping: the batch's summary is being written", err=True)

    if threading.current_thread() is not threading.main_thread():  # no signals there
        yield
        return
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if received else handler)


def _print_checks(checks: list[RunCheck]) -> None:
    """Print the runs a batch would run, with why, and the count of each kind."""
    width = max((len(c.run.run_id) for c in checks), default=0)
    for check in checks:
        if check.reason is not None:
            click.echo(f"would run  {check.run.run_id:<{width}}  {check.reason}")
    todo = sum(c.reason is not None for c in checks)
    click.echo(f"{len(checks)} run(s): {todo} would run, {len(checks) - todo} unchanged "
               "(dry run: nothing was run or written)")


def _print_unread(unread: list[UnreadFile]) -> None:
    """Print the workbooks of the raw folder that no run reads (they make the exit code 1)."""
    for item in unread:
        click.echo(f"error: {item.file}: {item.problem} (no report reads this workbook)",
                   err=True)


#: Paths on the command line are relative to the working directory (library paths are relative
#: to the project root), so they are made absolute here.
CWD_PATH = click.Path(path_type=Path, resolve_path=True)


@click.command()
@click.argument("notebook", required=False, default="10_readiness")
@click.option("--raw", "raw_dir", default="data/raw", show_default=True,
              type=CWD_PATH, help="Run every commune found in this folder.")
@click.option("--list", "listing", type=CWD_PATH, default=None,
              help="A YAML list of runs instead of --raw (see ntm_analysis.batch).")
@click.option("--processed", "processed_dir", default="data/processed", show_default=True,
              type=CWD_PATH, help="Parquet cache of the loaded workbooks.")
@click.option("--out", "out_dir", default="outputs/batch", show_default=True,
              type=CWD_PATH, help="Folder of the run folders and the index.")
@click.option("--year", "years", type=int, multiple=True, help="Only these years (repeatable).")
@click.option("--parent", default=None, help="Parent unit of the communes (e.g. the district).")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A notebook parameter for every run (repeatable; values read as YAML).")
@click.option("-j", "--workers", type=int, default=None,
              help="Worker processes (default: the number of cores).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run on a Dask distributed cluster (needs the [dask] extra).")
@click.option("--kernel", "kernel_name", default="python3", show_default=True)
@click.option("--cell-timeout", type=click.IntRange(min=1), default=None, metavar="SECONDS",
              help="Fail a run whose cell runs longer than this (default: no limit); the "
                   "other runs go on.")
@click.option("--no-resume", is_flag=True, help="Run again even when nothing changed.")
@click.option("--dry-run", is_flag=True,
              help="Only say which runs would run, and why, and which are unchanged; run and "
                   "write nothing.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the index page.")
@click.option("--no-fork-kernels", is_flag=True,
              help="Start every kernel as a new interpreter instead of forking it from the "
                   "worker's warm template process.")
def batch(notebook: str, raw_dir: Path, listing: Path | None, processed_dir: Path,
          out_dir: Path, years: tuple[int, ...], parent: str | None, params: tuple[str, ...],
          workers: int | None, scheduler: str | None, kernel_name: str,
          cell_timeout: int | None, no_resume: bool, dry_run: bool, lang: str,
          no_fork_kernels: bool) -> None:
    """Run NOTEBOOK (default: the readiness report 10_readiness) once per commune and year, in
    parallel, with a summary table and an index page.

    A failed run is reported and the others go on; runs whose inputs and parameters are
    unchanged since their last successful run are skipped. The output folder is locked while
    the batch runs: a second batch on it stops with a message naming the first (exit code 7).
    The exit code is 1 when a run failed, or when a workbook of the raw folder gave no commune
    (unreadable: no report reads it; listed on the index page too). Ctrl-C (or SIGTERM) stops
    the workers and their kernels, writes the summary and index of what is done and exits
    with 130 (143); the same command then goes on where it stopped. --dry-run exits as the
    batch would for unread workbooks, and 0 otherwise.

    \b
    Examples:
      ntm batch --raw data/raw --out outputs/batch
      ntm batch notebooks/10_readiness.ipynb --raw data/raw --out outputs/batch
      ntm batch notebooks/10_readiness.ipynb --list communes.yaml -j 2 -p lang=en
      ntm batch notebooks/10_readiness.ipynb --scheduler tcp://127.0.0.1:8786
      ntm batch --raw data/raw --dry-run
    """
    from ntm_analysis.batch import (
        BatchInterrupted,
        check_batch,
        dask_executor,
        plan_from_raw_dir,
        plan_from_yaml,
        run_batch,
    )
    from ntm_analysis.paths import check_outside

    if workers is not None and workers < 1:
        raise ParameterError(f"--workers must be at least 1, got {workers}")
    extra = _parse_params(params)
    received: list[int] = []
    with _stopping_signals(received):  # up to the last line: later ones wait
        try:
            if listing is not None:
                plan = plan_from_yaml(listing)
                if extra:
                    plan.runs = [replace(run, parameters={**run.parameters, **extra})
                                 for run in plan.runs]
            else:
                check_outside(out_dir, [raw_dir], what="batch's output folder")  # before reading
                plan = plan_from_raw_dir(raw_dir, processed_dir=processed_dir,
                                         years=years or None, parameters=extra, parent=parent)
            if dry_run:
                _print_checks(check_batch(plan, notebook=notebook, out_dir=out_dir,
                                          kernel_name=kernel_name, resume=not no_resume))
                _print_unread(plan.unread)
                if plan.unread:
                    raise click.exceptions.Exit(1)
                return
            executor = dask_executor(scheduler) if scheduler else None
            result = run_batch(plan, notebook=notebook, out_dir=out_dir, workers=workers,
                               executor=executor, kernel_name=kernel_name,
                               timeout=cell_timeout, resume=not no_resume, progress=True,
                               lang=lang, fork_kernels=not no_fork_kernels)
        except KeyboardInterrupt as stopped:
            if isinstance(stopped, BatchInterrupted):
                for outcome in stopped.result.failed:
                    click.echo(f"failed: {outcome.run_id}: {outcome.error}", err=True)
                click.echo(f"error: {stopped}", err=True)
            else:
                click.echo("error: interrupted; run the batch again to go on (the runs that "
                           "ended are skipped)", err=True)
            code = EXIT_TERMINATED if received[:1] == [signal.SIGTERM] else EXIT_INTERRUPTED
            raise click.exceptions.Exit(code) from None
        for outcome in result.failed:
            click.echo(f"failed: {outcome.run_id}: {outcome.error}", err=True)
        click.echo(f"{len(result.outcomes)} run(s): " +
                   ", ".join(f"{n} {s}" for s, n in result.counts().items()))
        click.echo(f"index: {result.index_path}")
        _print_unread(result.unread)
        if result.failed or result.unread:
            raise click.exceptions.Exit(1)
