"""What the readiness and hamlet-gap notebooks call: load once, then tables ready to show.

The notebooks stay thin (STYLE.md §2): every step that would need a branch or a loop lives here.
``load_report_data`` reads the workbooks (a folder through the Parquet cache, or explicit paths),
computes attainment and keeps the rows of one commune and year. ``table_view`` picks and
translates columns for people; ``show_table`` styles a table with the met / not met colours (or
says "none" for an empty one); ``keep_figure`` / ``keep_table`` save to the run folder only when
the notebook was given one.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ntm_analysis import attainment as att_mod
from ntm_analysis import catalogue
from ntm_analysis.errors import ParameterError
from ntm_analysis.i18n import did_you_mean, issue_label, status_label, t
from ntm_analysis.report_money import MoneyData, load_money
from ntm_analysis.schema import Att, Ind, Iss, Level, Status, communes_by_year, conform
from ntm_analysis.style import STATUS_FILLS
from ntm_analysis.text import fold

logger = logging.getLogger(__name__)

#: Columns whose values are status words, translated in views.
STATUS_COLUMNS = ("status", "computed_status")
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, for one commune and one year (all frames are tidy)."""

    year: int
    commune: str
    inputs: list[Path]
    indicators: pd.DataFrame
    issues: pd.DataFrame
    attainment: pd.DataFrame
    summary: pd.DataFrame
    criteria: pd.DataFrame
    discrepancies: pd.DataFrame
    extra: dict[str, Any] = field(default_factory=dict)
    money: MoneyData = field(default_factory=MoneyData)

    @property
    def rows_read(self) -> int:
        return len(self.indicators)

    @property
    def hamlets(self) -> list[str]:
        rows = self.summary[self.summary[Ind.level] == Level.hamlet]
        return sorted(rows[Ind.unit].dropna().unique())


def select_kind(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Keep the rows whose criteria set is of ``kind`` ("model_commune", "model_hamlet",
    "smart_hamlet").

    Examples
    --------
    >>> df = pd.DataFrame({"criteria_set": ["TN_XOM_THONG_MINH", "TN_XA_NTM_KIEUMAU_2022_2025"]})
    >>> select_kind(df, "smart_hamlet")["criteria_set"].tolist()
    ['TN_XOM_THONG_MINH']
    """
    kinds = {s.set_id: s.set_kind for s in catalogue.criteria_sets()}
    mask = frame[Ind.criteria_set].map(kinds).eq(kind).fillna(False).astype(bool)
    return frame[mask].reset_index(drop=True)


def select_level(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """Keep the rows of one level ("commune" or "hamlet")."""
    return frame[frame[Ind.level].eq(level).fillna(False).astype(bool)].reset_index(drop=True)


def select_unit(frame: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Keep the rows of one unit (matched without accents or case)."""
    mask = frame[Ind.unit].astype("string").fillna("").map(fold).eq(fold(unit))
    return frame[mask.astype(bool)].reset_index(drop=True)


def _read(params: Mapping[str, Any], year: int) -> tuple[dict[Path, str | None], Any]:
    """The workbooks (each with its SHA-256 when the ingest hashed it) and their tables."""
    from ntm_analysis.ingest import load_raw_dir, load_workbooks_cached
    from ntm_analysis.load import load_workbooks

    paths = [Path(p) for p in params.get("paths") or []]
    processed = params.get("processed_dir")
    if paths and processed:  # (a batch run's commune) through the cache, parsing only misses
        read = load_workbooks_cached(paths, processed_dir=processed, year=year)
        return {p: read.digests.get(p) for p in paths}, read.result
    if paths:
        return dict.fromkeys(paths), load_workbooks(paths, year=year)
    raw_dir = params.get("raw_dir")
    if raw_dir is None:
        raise ParameterError("give raw_dir (a folder of workbooks) or paths")
    report = load_raw_dir(raw_dir, processed_dir=processed, year=year)
    return dict(report.digests), report.result


def _other_years(attainment: pd.DataFrame, year: int, *, commune: str = "") -> str:
    """``"; they hold 2024 (Kim Phượng): give that year"``: the years other than ``year`` that
    the rows have (of ``commune`` only, when given), with their communes; "" when none."""
    rows = attainment
    if commune:
        rows = rows[rows[Ind.commune].astype("string").fillna("").map(fold).eq(fold(commune))
                    .astype(bool)]
    by_year = {y: names for y, names in communes_by_year(rows).items() if y != year}
    if not by_year:
        return ""
    listed = "; ".join(f"{y} ({', '.join(names)})" for y, names in by_year.items())
    which = "that year" if len(by_year) == 1 else "one of those years"
    return f"; they hold {listed}: give {which} (the 'year' parameter, --year)"


def load_report_data(params: Mapping[str, Any]) -> ReportData:
    """Load the workbooks named by validated notebook parameters and compute attainment.

    ``params`` is what ``validate_parameters`` returned: ``year``, ``commune`` (empty: the one
    commune of the data) and either ``paths`` (explicit workbooks, which win) or ``raw_dir``
    (with an optional ``processed_dir`` cache). The budget and income tables of the same
    workbooks are read too (``ReportData.money``; ``None`` tables when there are none; through
    the cache of ``processed_dir``, given either way), and
    their problems join ``issues``. Raises ``ParameterError`` when the commune is
    not in the data, or is not named and the data holds several, naming the communes found.
    """
    year = int(params["year"])
    commune = str(params.get("commune") or "")
    hashed, result = _read(params, year)
    inputs = list(hashed)
    every_year = att_mod.compute_attainment(result.indicators)
    years = every_year[Ind.year].astype("Int64")
    attainment = every_year[years.eq(year).fillna(True).astype(bool)]
    communes = attainment[Ind.commune].astype("string").fillna("")
    if not commune:  # the one commune of the data
        found = sorted(set(communes) - {""})
        if not found:
            raise ParameterError(f"the {len(inputs)} workbook(s) hold no commune for {year}"
                                 + _other_years(every_year, year))
        if len(found) > 1:
            raise ParameterError(
                f"the {len(inputs)} workbook(s) hold {len(found)} communes for {year} "
                f"({', '.join(found)}); name one with the 'commune' parameter (`ntm report "
                f"--commune`, `ntm run -p commune`)")
        commune = found[0]
    if commune:
        mask = communes.map(fold).eq(fold(commune)).astype(bool)
        if not mask.any():
            known = sorted(set(communes) - {""})
            raise ParameterError(
                f"commune {commune!r} has no rows for {year} in {len(inputs)} workbook(s)"
                f"{did_you_mean(commune, known)}; communes found: {', '.join(known) or 'none'}"
                + _other_years(every_year, year, commune=commune))
        commune = str(communes[mask].iloc[0])
        orphans, orphan_issues = _hamlets_without_commune(
            attainment[communes.eq("").astype(bool)], commune=commune,
            alone=set(communes) - {""} == {commune})
        attainment = pd.concat([attainment[mask], orphans]) if len(orphans) else attainment[mask]
    else:
        orphan_issues = pd.DataFrame()
    attainment = attainment.reset_index(drop=True)
    money = load_money(inputs, year=year, commune=commune,
                       processed_dir=params.get("processed_dir"),
                       digests={p: d for p, d in hashed.items() if d is not None})
    issues = result.issues
    for more in (orphan_issues, money.issues):  # budget subtotals etc.: the quality section
        if len(more):
            issues = pd.concat([issues, more], ignore_index=True) if len(issues) else more
    logger.info("report data: %d indicator rows, %d issues", len(result.indicators),
                len(issues))
    return ReportData(
        year=year, commune=commune, inputs=inputs, indicators=result.indicators,
        issues=issues, attainment=attainment, money=money,
        summary=att_mod.summarise_attainment(attainment),
        criteria=att_mod.summarise_criteria(attainment),
        discrepancies=att_mod.list_discrepancies(attainment),
    )


def _hamlets_without_commune(rows: pd.DataFrame, *, commune: str,
                             alone: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The hamlet rows of ``rows`` (rows naming no commune: a hamlet's workbook titled "XÓM NA
    MỌN" alone) that the report of ``commune`` reads, and a warning for each such hamlet.

    When ``commune`` is the one commune of the workbooks (``alone``), its hamlets are read as
    ``commune``'s; beside other communes they are left out. Either way the report says so:
    they used to be left out without a word.
    """
    hamlets = rows[rows[Ind.level].astype("string").eq(Level.hamlet).fillna(False).astype(bool)
                   & rows[Ind.unit].notna()]
    if not len(hamlets):
        return hamlets, pd.DataFrame()
    records = []
    for (file, sheet, unit), _ in hamlets.groupby(
            [Ind.source_file, Ind.source_sheet, Ind.unit], sort=True, dropna=False):
        fix = f"name its commune in the title: '{str(unit).upper()} - XÃ {commune.upper()}'"
        records.append({
            Iss.source_file: file, Iss.source_sheet: sheet, Iss.value: str(unit),
            Iss.problem: (f"{unit} names no commune; read as {commune}'s, the one commune of "
                          f"the workbooks ({fix})" if alone else
                          f"{unit} names no commune; left out, since the workbooks hold several "
                          f"communes ({fix})"),
            Iss.severity: "warning", Iss.code: "hamlet_without_commune"})
    issues = conform(pd.DataFrame(records), Iss)
    if not alone:
        return hamlets.iloc[:0], issues
    return hamlets.assign(**{Ind.commune: commune}), issues


def quality_note(data: ReportData, *, lang: str = "vi") -> str:
    """Say in one line how many data problems and self-assessment discrepancies were found."""
    severity = data.issues[Iss.severity] if len(data.issues) else pd.Series(dtype="string")
    errors = int(severity.eq("error").sum())
    warnings = int(severity.eq("warning").sum())
    n_disc = len(data.discrepancies)
    if errors + warnings + n_disc == 0:
        return t("quality.none", lang, files=len(data.inputs), rows=data.rows_read)
    return t("quality.some", lang, errors=errors, warnings=warnings, discrepancies=n_disc,
             files=len(data.inputs), rows=data.rows_read)


def issues_view(issues: pd.DataFrame, *, lang: str | None = None) -> pd.DataFrame:
    """Return the issues table, errors first, then warnings, then notes; file/sheet/row order.

    With ``lang`` the ``problem`` column speaks the report's language: the description of the
    issue's code (``data/issue_codes.csv``) replaces the loader's English message where one
    exists, and ``severity`` is translated; the English detail stays in the saved table.
    """
    order = issues[Iss.severity].map(_SEVERITY_ORDER).fillna(3)
    keys = [Iss.source_file, Iss.source_sheet, Iss.source_row]
    out = issues.assign(_o=order).sort_values(["_o", *keys], na_position="last", kind="stable")
    out = out.drop(columns="_o").reset_index(drop=True)
    if lang is not None and len(out):
        labels = out[Iss.code].map(lambda c: issue_label(c, lang))
        out[Iss.problem] = labels.where(labels.notna(), out[Iss.problem]).astype("string")
        out[Iss.severity] = out[Iss.severity].map(
            lambda s: t(f"severity.{s}", lang) if s in _SEVERITY_ORDER else s).astype("string")
    return out


def table_view(frame: pd.DataFrame, columns: Sequence[str], *, lang: str = "vi") -> pd.DataFrame:
    """Pick ``columns`` and give them people's headers; status words become labels.

    Examples
    --------
    >>> df = pd.DataFrame({"indicator_no": ["1.1"], "status": ["not_met"], "x": [1]})
    >>> table_view(df, ["indicator_no", "status"], lang="en").to_dict("records")
    [{'No.': '1.1', 'Status': 'Not met'}]
    >>> df["self_assessment"] = ["met"]
    >>> table_view(df, ["self_assessment"]).to_dict("records")
    [{'Tự đánh giá': 'Đạt'}]
    >>> df["catalogue_status"] = pd.array([pd.NA], dtype="string")  # not in the catalogue
    >>> table_view(df, ["catalogue_status"], lang="en").iloc[0, 0] is pd.NA
    True
    """
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(f"table lacks column(s) {', '.join(missing)}")
    out = frame[list(columns)].copy()
    for col in STATUS_COLUMNS:
        if col in out.columns:
            out[col] = out[col].map(lambda s: status_label(s, lang)).astype("string")
    if Ind.self_assessment in out.columns:  # met / not_met as the workbook said; none: "—"
        out[Ind.self_assessment] = out[Ind.self_assessment].map(
            lambda s: "—" if pd.isna(s) else status_label(s, lang)).astype("string")
    if "met" in out.columns:
        out["met"] = out["met"].map(
            lambda m: status_label(Status.unknown if pd.isna(m) else
                                   Status.met if m else Status.not_met, lang)).astype("string")
    for col in (Att.catalogue_status, "basis"):  # found / inferred; none (not in the
        if col in out.columns:                     # catalogue) stays missing
            out[col] = out[col].map(
                lambda s: t(f"basis.{s}", lang) if isinstance(s, str) and s in (
                    "found", "inferred") else s)
    headers = {c: _header(c, lang) for c in out.columns}
    return out.rename(columns=headers).reset_index(drop=True)


def _header(column: str, lang: str) -> str:
    try:
        return t(f"col.{column}", lang)
    except KeyError:
        return column


def paragraphs(*texts: str | None) -> Any:
    """Return one Markdown display of ``texts``, paragraph after paragraph (empty ones left out).

    The report shows a heading and the sentences under it as one output, not one output each:
    every output costs about 2.5 ms of CPU, 0.8 ms in the kernel (ipykernel flushes both output
    streams through its output thread before each display) and 1.7 ms in the batch worker and
    the HTML export (measured with 100 outputs against one). The readiness report had 45
    Markdown outputs; it has 28.

    Examples
    --------
    >>> print(paragraphs("## Thu nhập", "", "Đạt **54,03** triệu đồng.").data)
    ## Thu nhập
    <BLANKLINE>
    Đạt **54,03** triệu đồng.
    """
    from IPython.display import Markdown

    return Markdown("\n\n".join(text for text in texts if text))


def show_table(view: pd.DataFrame, *, lang: str = "vi") -> Any:
    """Return something Jupyter displays: the table as escaped HTML (status cells coloured, no
    index, see :func:`table_html`) or, for an empty table, a short "none" note."""
    from IPython.display import HTML, Markdown

    if view.empty:
        return Markdown(f"*{t('prov.none', lang).capitalize()}.*")
    fills = {status_label(s, lang): colour for s, colour in STATUS_FILLS.items()}
    return HTML(table_html(view, fills=fills))


_TABLE_IDS = itertools.count(1)


def escape(text: str) -> str:
    """Escape ``&<>'"`` for HTML, spelled as ``markupsafe.escape`` (the Styler's) spells them.

    Examples
    --------
    >>> escape("<a href='x'>Xóm & co</a>")
    '&lt;a href=&#39;x&#39;&gt;Xóm &amp; co&lt;/a&gt;'
    """
    return (text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
            .replace("'", "&#39;").replace('"', "&#34;"))


def table_html(view: pd.DataFrame, *, fills: Mapping[str, str] | None = None,
               na_rep: str = "—", precision: int = 2) -> str:
    """Return ``view`` as an HTML table: every header and cell escaped, no index, left-aligned.

    It renders what ``view.style.hide(axis="index").format(escape="html", na_rep=na_rep,
    precision=precision)`` renders (same classes, same formatting: floats with ``precision``
    decimals, missing values as ``na_rep``), without the Styler's template machinery, which cost
    a report about 0.2 s for its fifteen tables. Cells name their class before their id, as the
    report page did when nbconvert still rewrote it. A text cell whose value is a key of ``fills``
    gets that background colour.

    Examples
    --------
    >>> html = table_html(pd.DataFrame({"<b>Xóm</b>": ["<i>A</i>", None], "x": [1.5, 2.0]}),
    ...                   fills={"<i>A</i>": "#D9F2EA"})
    >>> "&lt;b&gt;Xóm&lt;/b&gt;" in html and "&lt;i&gt;A&lt;/i&gt;" in html and "<i>" not in html
    True
    >>> "1.50" in html and "—" in html and "background-color: #D9F2EA" in html
    True
    """
    table_id = f"T_ntm{next(_TABLE_IDS)}"
    fills = fills or {}
    rules = [f"#{table_id} td {{\n  text-align: left;\n}}",
             f"#{table_id}  th {{\n  text-align: left;\n}}"]
    head = [f'      <th class="col_heading level0 col{j}" id="{table_id}_level0_col{j}" >'
            f"{escape(str(name))}</th>" for j, name in enumerate(view.columns)]
    body = []
    columns = [view.iloc[:, j].tolist() for j in range(view.shape[1])]
    for i in range(len(view)):
        cells = []
        for j, column in enumerate(columns):
            value = column[i]
            fill = fills.get(value) if isinstance(value, str) else None
            if fill:
                rules.append(f"#{table_id}_row{i}_col{j} {{\n  background-color: {fill};\n}}")
            cells.append(f'      <td class="data row{i} col{j}" id="{table_id}_row{i}_col{j}" >'
                         f"{_cell_text(value, na_rep, precision)}</td>")
        body.append("    <tr>\n" + "\n".join(cells) + "\n    </tr>")
    return ('<style type="text/css">\n' + "\n".join(rules) + "\n</style>\n"
            f'<table id="{table_id}">\n  <thead>\n    <tr>\n' + "\n".join(head)
            + "\n    </tr>\n  </thead>\n  <tbody>\n" + "\n".join(body)
            + "\n  </tbody>\n</table>\n")


def _cell_text(value: object, na_rep: str, precision: int) -> str:
    """One cell as the Styler's default formatter shows it, HTML-escaped."""
    if isinstance(value, str):
        return escape(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return escape(na_rep)
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, float | np.floating):
        return escape(na_rep) if np.isnan(value) else f"{value:.{precision}f}"
    if isinstance(value, int | np.integer):
        return str(value)
    if isinstance(value, complex | np.complexfloating):
        return f"{value:.{precision}f}"
    try:
        missing = bool(pd.isna(value))
    except (TypeError, ValueError):
        missing = False
    return escape(na_rep) if missing else escape(str(value))


def keep_figure(ax: Any, name: str, *, out_dir: str | os.PathLike[str] | None,
                show: bool = True) -> Path | None:
    """Save the figure of ``ax`` as ``figures/NAME.png`` in the run folder, if there is one.

    In a notebook kernel (and with ``show``), the saved PNG itself is displayed, at the size the
    inline backend would give it, and the figure is closed: it is drawn once instead of once for
    the file and again for the notebook (charts are most of the time a report takes), and the
    report shows exactly the saved picture. Without a run folder the figure is displayed (and
    closed) all the same, where it is kept: a cell that makes several charts shows each beside
    its table and caption, not all of them at the cell's end.
    """
    fig = ax.figure
    path = None
    if out_dir:
        from ntm_analysis.outputs import save_figure

        path = save_figure(fig, name, out_dir=out_dir)
        _expect(path, out_dir)
    if show and _in_kernel():
        if path is not None:
            _show_png(path)
        else:
            from IPython.display import display

            display(fig)
        import matplotlib.pyplot as plt

        plt.close(fig)
    return path


def _in_kernel() -> bool:
    """Return True inside a Jupyter kernel (where figures are shown inline)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipykernel
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _show_png(path: Path) -> None:
    import matplotlib as mpl
    from IPython.display import Image, display

    data = path.read_bytes()
    width_px = int.from_bytes(data[16:20], "big")  # the PNG header's IHDR width
    save_dpi = mpl.rcParams["savefig.dpi"]
    scale = 1.0 if save_dpi == "figure" else mpl.rcParams["figure.dpi"] / float(save_dpi)
    image = Image(data=data, format="png", width=max(1, round(width_px * scale)))
    # no alt text from the chart title: it holds workbook text (unit names), which the report
    # keeps out of attributes; the template gives a generic word instead
    display(image)


def keep_table(frame: pd.DataFrame, name: str, *,
               out_dir: str | os.PathLike[str] | None) -> Path | None:
    """Save ``frame`` as ``tables/NAME.xlsx`` in the run folder, if there is one."""
    if not out_dir:
        return None
    from ntm_analysis.outputs import save_table

    path = save_table(frame, name, out_dir=out_dir)
    _expect(path, out_dir)
    return path


def _expect(path: Path, out_dir: str | os.PathLike[str]) -> None:
    from ntm_analysis.run import record_facts

    record_facts(out_dir, expected=[path.relative_to(Path(out_dir)).as_posix()])


def record_report_facts(data: ReportData, *, out_dir: str | os.PathLike[str] | None) -> None:
    """Record rows read, issues found and input files for the run manifest (if saving)."""
    if not out_dir:
        return
    from ntm_analysis.run import record_facts

    severity = data.issues[Iss.severity] if len(data.issues) else pd.Series(dtype="string")
    record_facts(out_dir, rows_read=data.rows_read, issues_found=int(len(data.issues)),
                 errors_found=int(severity.eq("error").sum()),
                 discrepancies_found=int(len(data.discrepancies)), commune=data.commune,
                 year=data.year, workbooks=[p.name for p in data.inputs])
