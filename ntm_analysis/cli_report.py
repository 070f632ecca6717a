"""Click commands ``ntm run`` and ``ntm report``; the ``ntm`` group in ``cli.py`` adds them.

Each command parses its arguments, calls one library function and prints where the result is.
Errors are raised as :class:`~ntm_analysis.errors.NtmError` subclasses; the group turns them into
messages and exit codes.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ntm_analysis.run import build_report, run_notebook

logger = logging.getLogger(__name__)


def _collect(pairs: tuple[tuple[str, str], ...]) -> dict[str, object]:
    """Turn repeated ``-p NAME VALUE`` pairs into a dict; a repeated name gives a list."""
    out: dict[str, object] = {}
    for name, value in pairs:
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[name] = value
    return out


#: Paths on the command line are relative to the working directory (library paths are relative
#: to the project root), so they are made absolute here.
CWD_DIR = click.Path(file_okay=False, path_type=Path, resolve_path=True)
CWD_EXISTING = click.Path(exists=True, path_type=Path, resolve_path=True)


@click.command("run")
@click.argument("notebook")
@click.option("-p", "--parameter", "parameters", type=(str, str), multiple=True,
              metavar="NAME VALUE",
              help="Set a notebook parameter (repeatable; a repeated name makes a list).")
@click.option("--out", "out_dir", type=CWD_DIR,
              help="Run folder (default: outputs/<year>/<commune>/ or outputs/<notebook>/).")
@click.option("--kernel", "kernel_name", default="python3", show_default=True,
              help="Jupyter kernel to run the notebook with.")
@click.option("--progress/--no-progress", default=False, help="Show a progress bar per cell.")
@click.option("--cell-timeout", type=click.IntRange(min=1), default=None, metavar="SECONDS",
              help="Fail the run when a cell runs longer than this (default: no limit).")
def run_command(notebook: str, parameters: tuple[tuple[str, str], ...], out_dir: Path | None,
                kernel_name: str, progress: bool, cell_timeout: int | None) -> None:
    """Run NOTEBOOK of the suite (a path or a name like 10_readiness) with papermill.

    Writes the executed notebook, its HTML, figures/, tables/ and manifest.json into the run
    folder, then prints the path of the HTML.

    \b
    Example:
        ntm run 10_readiness -p year 2024 -p commune "Kim Phượng" --out outputs/2024/kim-phuong
    """
    result = run_notebook(notebook, parameters=_collect(parameters), out_dir=out_dir,
                          kernel_name=kernel_name, progress=progress, timeout=cell_timeout)
    click.echo(str(result.html_path or result.notebook_path))


@click.command("report")
@click.argument("paths", nargs=-1, required=True,
                type=CWD_EXISTING)
@click.option("--out", "out_dir", required=True,
              type=CWD_DIR, help="Run folder to write.")
@click.option("--year", type=int, help="Year of the report (default: the notebook's).")
@click.option("--commune", default=None,
              help="The report's commune when the workbooks hold several (accents and case "
                   "aside).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the report.")
@click.option("--kernel", "kernel_name", default="python3", show_default=True,
              help="Jupyter kernel to run the notebook with.")
@click.option("--progress/--no-progress", default=False, help="Show a progress bar per cell.")
def report_command(paths: tuple[Path, ...], out_dir: Path, year: int | None,
                   commune: str | None, lang: str, kernel_name: str, progress: bool) -> None:
    """Build the yearly readiness report for the workbooks in PATHS (files or folders).

    Writes the HTML report, Excel tables, PNG figures and manifest.json into --out and prints
    the path of the HTML.

    \b
    Examples:
        ntm report data/raw/kim_phuong_2024_xa.xlsx data/raw/hamlets/ --out outputs/kp --year 2024
        ntm report data/raw --commune "Kim Phượng" --out outputs/kp
    """
    result = build_report(paths, out_dir=out_dir, year=year, lang=lang,
                          kernel_name=kernel_name, progress=progress, commune=commune)
    click.echo(str(result.html_path or result.notebook_path))


#: Commands for the ``ntm`` group: ``for c in COMMANDS: cli.add_command(c)``.
COMMANDS = [run_command, report_command]
