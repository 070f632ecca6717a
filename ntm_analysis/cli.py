"""The ``ntm`` command line: a thin layer over the library.

Each command parses its arguments, calls one library function and turns ``NtmError`` into a
one- or two-line message on stderr with a non-zero exit code (``--debug`` keeps the traceback).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ntm_analysis import __version__
from ntm_analysis.errors import (
    EXIT_INTERRUPTED,
    InputError,
    Location,
    NtmError,
    ValidationError,
    format_issue,
)
from ntm_analysis.vocab import Severity

if TYPE_CHECKING:
    import pandas as pd

# pandas and the tables' schema are imported by the commands that use them: ``ntm --help``,
# and a batch's workers (which import the program that started them), do without

log = logging.getLogger(__name__)

#: How many warnings are printed before "... and N more".
MAX_WARNINGS = 20


class NtmGroup(click.Group):
    """A click group that turns the suite's errors into short messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NtmError as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            _print_error(error)
            ctx.exit(error.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:  # Ctrl-C: what the command wrote so far says where it stopped
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo("error: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:  # the reader stopped reading (`ntm summary data/raw | head`)
            _drop_stdout()
            ctx.exit(EXIT_BROKEN_PIPE)
        except OSError as error:  # the system refused a file: no permission, disk full, ...
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {describe_os_error(error)}", err=True)
            ctx.exit(EXIT_OS_ERROR)
        except Exception as error:  # noqa: BLE001 - last resort: still no traceback
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: unexpected {type(error).__name__}: {error}", err=True)
            click.echo("(run with --debug for the traceback)", err=True)
            ctx.exit(1)


#: Exit code when the system refused a file or folder (:func:`describe_os_error`).
EXIT_OS_ERROR = 6


def describe_os_error(error: OSError) -> str:
    """The file or folder an ``OSError`` is about and the system's reason, without Python's
    ``[Errno N]``, and what to do about the common ones.

    Examples
    --------
    >>> describe_os_error(NotADirectoryError(20, "Not a directory", "out/cache"))
    'out/cache: Not a directory (expected a folder there, found a file in its path)'
    >>> describe_os_error(OSError(28, "No space left on device", "outputs/kp/10_readiness.html"))
    'outputs/kp/10_readiness.html: No space left on device (free some space and run again)'
    >>> describe_os_error(OSError(18, "Invalid cross-device link", "a.tmp", None, "b.html"))
    'a.tmp -> b.html: Invalid cross-device link'
    """
    where = " -> ".join(os.fspath(f) for f in (error.filename, error.filename2) if f is not None)
    reason = error.strerror or str(error)
    hint = _OS_ERROR_HINTS.get(error.errno or 0)
    text = f"{where}: {reason}" if where else reason
    return f"{text} ({hint})" if hint else text


_PERMISSION = "this user may not read or write it: check its permissions"
_OS_ERROR_HINTS = {
    errno.ENOTDIR: "expected a folder there, found a file in its path",
    errno.EISDIR: "expected a file there, found a folder",
    errno.EACCES: _PERMISSION,
    errno.EPERM: _PERMISSION,
    errno.ENOSPC: "free some space and run again",
    errno.EROFS: "the file system is read-only: choose another output folder",
}


#: Exit code when the output's reader went away: a program ended by SIGPIPE (128 + 13) in a shell.
EXIT_BROKEN_PIPE = 141


def _drop_stdout() -> None:
    """Point standard output at the null device, so that nothing more (nor the interpreter's
    final flush) fails on the closed pipe (the "Note on SIGPIPE" of Python's ``signal`` docs)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _print_error(error: NtmError) -> None:
    from ntm_analysis.schema import Iss

    if isinstance(error, ValidationError) and len(error.issues):
        errors = error.issues[error.issues[Iss.severity] == Severity.error]
        for _, row in errors.head(MAX_WARNINGS).iterrows():
            click.echo(f"error: {format_issue(row)}", err=True)
        if len(errors) > MAX_WARNINGS:
            click.echo(f"error: ... and {len(errors) - MAX_WARNINGS} more", err=True)
    else:
        click.echo(f"error: {error}", err=True)


def print_warnings(issues: pd.DataFrame, *, limit: int = MAX_WARNINGS) -> None:
    """Print warning rows of an issues table to stderr (info rows are not printed)."""
    from ntm_analysis.schema import Iss

    warnings = issues[issues[Iss.severity] == Severity.warning]
    for _, row in warnings.head(limit).iterrows():
        click.echo(f"warning: {format_issue(row)}", err=True)
    if len(warnings) > limit:
        click.echo(f"warning: ... and {len(warnings) - limit} more (see the issues table)",
                   err=True)


@click.group(cls=NtmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ntm")
@click.option("--debug", is_flag=True, help="Show Python tracebacks on errors.")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int) -> None:
    """ntm-analysis: NTM appendix workbooks to tidy tables, attainment and reports.

    \b
    Example:
      ntm summary data/raw/*.xlsx
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _summary_records(summary: pd.DataFrame) -> list[dict[str, Any]]:
    import pandas as pd

    from ntm_analysis.schema import Summ

    keys = [Summ.unit, Summ.level, Summ.criteria_set, Summ.year, Summ.criteria_met,
            Summ.criteria_total, Summ.indicators_met, Summ.indicators_total,
            Summ.indicators_unknown, Summ.discrepancies, Summ.source_file, Summ.commune]
    out = []
    for rec in summary[keys].to_dict("records"):
        out.append({k: (None if v is pd.NA or (isinstance(v, float) and v != v) else
                        (int(v) if hasattr(v, "__int__") and not isinstance(v, str) else v))
                    for k, v in rec.items()})
    return out


def _shown(value: object, missing: str = "?") -> str:
    """Text of a table cell for the terminal; ``missing`` for NA (a unit with no name found)."""
    import pandas as pd

    return missing if value is None or value is pd.NA or (
        isinstance(value, float) and value != value) else str(value)


def _format_summary(summary: pd.DataFrame) -> str:
    if summary.empty:
        return "no units found"
    rows = [("unit", "level", "year", "criteria", "indicators", "unknown", "disc.", "set")]
    for r in summary.itertuples():
        rows.append((_shown(r.unit), _shown(r.level), _shown(r.year, ""),
                     f"{r.criteria_met}/{r.criteria_total}",
                     f"{r.indicators_met}/{r.indicators_total}", str(r.indicators_unknown),
                     str(r.discrepancies), _shown(r.criteria_set)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per unit.")
@click.option("--year", type=int, default=None, help="Year to use where a workbook names none.")
@click.option("--strict", is_flag=True, help="Exit non-zero on warnings too.")
def summary(paths: tuple[Path, ...], as_json: bool, year: int | None, strict: bool) -> None:
    """Criteria and indicators met per unit, read from appendix workbooks.

    PATHS are workbooks or folders (a folder gives the workbooks under it).

    \b
    Examples:
      ntm summary data/raw
      ntm summary data/raw/kim_phuong_2024_xa_kieu_mau.xlsx --json
    """
    from ntm_analysis.attainment import compute_attainment, summarise_attainment
    from ntm_analysis.load import load_workbooks
    from ntm_analysis.paths import require_workbooks
    from ntm_analysis.schema import Iss

    files = require_workbooks(paths)
    result = load_workbooks(files, year=year)
    print_warnings(result.issues)
    result.raise_for_errors()
    if result.indicators.empty:
        other_tables = ["budget_sheet", "income_sheet", "criteria_summary"]
        others = result.issues[result.issues[Iss.code].isin(other_tables)]
        hint = "; ".join(f"{r.source_file}, sheet '{r.source_sheet}': {r.problem}"
                         for r in others.head(3).itertuples())
        raise InputError(Location(file=", ".join(p.name for p in files)),
                         "no indicator table found (expected an appendix with 'Nội dung' and "
                         "'Hiện trạng' or 'Đánh giá' columns)" + (f"; {hint}" if hint else ""))
    table = summarise_attainment(compute_attainment(result.indicators))
    if as_json:
        click.echo(json.dumps(_summary_records(table), ensure_ascii=False, indent=2))
    else:
        click.echo(_format_summary(table))
    if strict and (result.issues[Iss.severity] == Severity.warning).any():
        sys.exit(1)


@cli.command()
@click.argument("raw_dir", required=False, default="data/raw",
                type=click.Path(path_type=Path))
@click.option("--out", "processed_dir", default="data/processed", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Where the Parquet tables go.")
@click.option("--year", type=int, default=None, help="Year to use where a workbook names none.")
def ingest(raw_dir: Path, processed_dir: Path, year: int | None) -> None:
    """Load every workbook under RAW_DIR into Parquet tables, skipping unchanged files.

    Unchanged workbooks are read from the parse cache in OUT/cache/, which each run prunes
    (workbooks changed or gone) and, once it is fragmented, compacts.

    \b
    Example:
      ntm ingest data/raw --out data/processed
    """
    from ntm_analysis.ingest import CACHE_DIR, load_raw_dir

    report = load_raw_dir(raw_dir, processed_dir=processed_dir, year=year, progress=True)
    print_warnings(report.result.issues)
    errors = report.result.errors
    click.echo(f"read {len(report.parsed)} workbook(s), {len(report.cached)} unchanged; "
               f"{len(report.result.indicators)} indicator rows, "
               f"{len(report.result.issues)} issue(s) ({len(errors)} error(s))")
    for path in report.written:
        click.echo(f"wrote {path}")
    if report.pruned:
        click.echo(f"removed {len(report.pruned)} outdated cache file(s) from "
                   f"{processed_dir / CACHE_DIR}")
    if report.compacted:
        click.echo(f"compacted the cache: {len(report.compacted)} small or partly outdated "
                   f"pack(s) replaced by {len(report.compacted_into)}")
    report.result.raise_for_errors()


@cli.command()
@click.option("--raw", "raw_dir", default="data/raw", show_default=True,
              type=click.Path(path_type=Path))
@click.option("--processed", "processed_dir", default="data/processed", show_default=True,
              type=click.Path(path_type=Path))
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def demo(raw_dir: Path, processed_dir: Path, lang: str) -> None:
    """Run the main job on the bundled sample data (what `make demo` calls).

    Ingests RAW into PROCESSED, prints the attainment summary, then runs the readiness report of
    each commune found and prints the path of its HTML.

    \b
    Example:
      ntm demo
    """
    from ntm_analysis.attainment import compute_attainment, summarise_attainment
    from ntm_analysis.ingest import load_raw_dir
    from ntm_analysis.run import default_run_dir, run_notebook
    from ntm_analysis.schema import Summ

    report = load_raw_dir(raw_dir, processed_dir=processed_dir)
    print_warnings(report.result.issues)
    report.result.raise_for_errors()
    table = summarise_attainment(compute_attainment(report.result.indicators))
    click.echo(_format_summary(table))
    communes = table[[Summ.commune, Summ.year]].dropna().drop_duplicates()
    for commune, year in communes.itertuples(index=False):
        parameters = {"year": int(year), "commune": str(commune), "raw_dir": str(raw_dir),
                      "processed_dir": str(processed_dir), "lang": lang}
        out_dir = default_run_dir("10_readiness", parameters)
        click.echo(f"running the readiness report for {commune} {year} ...")
        result = run_notebook("10_readiness", parameters=parameters, out_dir=out_dir)
        click.echo(f"readiness report: {result.html_path}")


def _register() -> None:
    from ntm_analysis.cli_batch import batch
    from ntm_analysis.cli_money import funding, income
    from ntm_analysis.cli_report import COMMANDS as REPORT_COMMANDS

    for command in [*REPORT_COMMANDS, funding, income, batch]:
        cli.add_command(command)


_register()


def main() -> None:
    """Entry point of the ``ntm`` script."""
    cli(prog_name="ntm")
