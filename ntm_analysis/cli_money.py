"""The ``ntm funding`` and ``ntm income`` commands (registered by ``ntm_analysis.cli``).

Each command parses its arguments, calls one library function and prints. Errors are
``NtmError`` subclasses, left for the ``ntm`` group to turn into messages and exit codes.
"""

from __future__ import annotations

import json
import math
import sys
from typing import TYPE_CHECKING

import click

from ntm_analysis.errors import ValidationError, format_issue
from ntm_analysis.export import format_money, format_number
from ntm_analysis.i18n import t, term
from ntm_analysis.paths import require_workbooks
from ntm_analysis.text import nfc

if TYPE_CHECKING:
    import pandas as pd

# the money modules (and pandas) are imported by the commands themselves: any other ``ntm``
# command, and a batch's workers, do without


def _clean(value: object) -> object:
    """JSON-ready scalar: NA/NaN → None, numpy numbers → Python numbers."""
    import pandas as pd

    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _report_issues(issues: pd.DataFrame) -> None:
    """Print the errors and warnings on standard error (after the output, JSON or text, which
    they never mix with) and leave with exit code 3 when there are errors: the figures are
    printed (each line is counted once, whatever a wrong subtotal says), but a script sees
    that a workbook needs mending."""
    shown = issues[issues["severity"].isin(["error", "warning"])]
    for _, issue in shown.iterrows():
        click.echo(f"{issue['severity']}: {format_issue(issue)}", err=True)
    if (shown["severity"] == "error").any():
        sys.exit(ValidationError.exit_code)


@click.command("funding")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the text output.")
@click.option("--commune", default="",
              help="Use only this commune's budget tables (the commune their title names, "
                   "without accents or case mattering); default: the one commune named.")
def funding(paths: tuple[str, ...], as_json: bool, lang: str, commune: str) -> None:
    """Split a budget (million VND) by level and source; check subtotals.

    Reads every budget table in PATHS (workbooks or folders; other sheets are skipped). When
    the tables name several communes, choose one with --commune.

    Example: ntm funding data/raw --commune "Kim Phượng" --json
    """
    from ntm_analysis import funding as funding_lib
    from ntm_analysis.budget import load_budget

    result = load_budget(require_workbooks(paths), commune=nfc(commune))
    summary = funding_lib.summarise_funding(result.lines)
    if as_json:
        data = summary.as_dict()
        errors = result.issues[result.issues["severity"] == "error"]
        data["issues"] = [
            {k: _clean(v) for k, v in row.items()} for row in errors.to_dict("records")]
        data["by_level_detail"] = [
            {k: _clean(v) for k, v in row.items()}
            for row in funding_lib.split_by_level(result.lines).to_dict("records")]
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        _report_issues(result.issues)
        return
    click.echo(f"{t('funding.total', lang)}: {format_money(summary.total_million_vnd, lang)} "
               f"{t('funding.million', lang)} ({t('funding.lines', lang, lines=summary.lines)})")
    for level, amount in summary.by_level.items():
        click.echo(f"  {term('funding.level', level, lang)}: {format_money(amount, lang)}")
    for group, amount in summary.by_source_group.items():
        click.echo(f"  {term('funding.source', group, lang)}: {format_money(amount, lang)}")
    for key, given in (("funding.committed", summary.committed_million_vnd),
                       ("funding.shortfall", summary.shortfall_million_vnd)):
        if given is not None:  # a funding-gap table's columns
            click.echo(f"  {t(key, lang)}: {format_money(given, lang)}")
    _report_issues(result.issues)


@click.command("income")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array, one object per unit.")
@click.option("--direction", type=click.Choice(["positive", "negative"]), default="positive",
              show_default=True, help="Which way is better (income: positive).")
@click.option("--base-year", type=int, default=None, help="First year of the observed growth.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the text output.")
@click.option("--commune", default=None,
              help="Keep only this commune and its hamlets; default: every unit.")
def income(paths: tuple[str, ...], as_json: bool, direction: str, base_year: int | None,
           lang: str, commune: str | None) -> None:
    """Income per person per unit: observed and required growth, Open SDG progress status.

    Reads every income table in PATHS (workbooks or folders; wide "Năm 2019 … | Mục tiêu năm
    2024" or tall). Units of several communes are listed together unless --commune keeps one.

    Example: ntm income data/raw --commune "Kim Phượng" --json
    """
    import pandas as pd

    from ntm_analysis import income as income_lib
    from ntm_analysis.budget import communes_of

    result = income_lib.load_income(require_workbooks(paths),
                                    commune=None if commune is None else nfc(commune))
    if commune is None:
        several = communes_of(result.series)
        if len(several) > 1:
            click.echo(f"warning: income tables of {len(several)} communes "
                       f"({', '.join(several)}); units are listed by name only: use --commune "
                       "to keep one commune and its hamlets", err=True)
    progress = income_lib.compute_progress(result.series, direction=direction,
                                           base_year=base_year)
    if as_json:
        records = [{k: _clean(v) for k, v in row.items()}
                   for row in progress.to_dict("records")]
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        _report_issues(result.issues)
        return
    for _, p in progress.iterrows():
        latest = income_lib.income_text(p["latest_value"], lang)
        line = f"{p['unit']}: {latest} ({p['latest_year']})"
        if pd.notna(p["target_value"]):
            trend = pd.notna(p["observed_annual_growth"])
            line += t("income.cli_target" if trend else "income.cli_target_no_trend", lang,
                      target=format_number(p["target_value"], lang=lang),
                      target_year=p["target_year"],
                      required=income_lib.percent_text(p["required_annual_growth"], lang),
                      observed=income_lib.percent_text(p["observed_annual_growth"], lang))
        line += f" · {term('income.status', p['progress_status'], lang)}"
        click.echo(line)
    _report_issues(result.issues)
