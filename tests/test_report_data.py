"""What the notebooks call to show the issues table."""

from __future__ import annotations

import pandas as pd

from ntm_analysis.report_data import issues_view
from ntm_analysis.schema import Iss, conform


def _issues() -> pd.DataFrame:
    return conform(pd.DataFrame([
        {Iss.source_file: "a.xlsx", Iss.source_sheet: "X", Iss.source_row: 30,
         Iss.problem: "row below the table (note, signature or summary) was not read as data",
         Iss.severity: "info", Iss.code: "footer_row"},
        {Iss.source_file: "a.xlsx", Iss.source_sheet: "X", Iss.source_row: 9,
         Iss.problem: "something new", Iss.severity: "warning", Iss.code: "brand_new_code"},
        {Iss.source_file: "a.xlsx", Iss.source_sheet: "X", Iss.source_row: 12,
         Iss.problem: "indicator 1.1 appears more than once", Iss.severity: "error",
         Iss.code: "duplicate_indicator"},
    ]), Iss)


def test_issues_view_orders_errors_first_and_speaks_vietnamese() -> None:
    view = issues_view(_issues(), lang="vi")
    assert view[Iss.source_row].tolist() == [12, 9, 30]
    assert view[Iss.severity].tolist() == ["Lỗi", "Cảnh báo", "Ghi nhận"]
    assert view[Iss.problem].tolist() == [
        "Một chỉ tiêu xuất hiện hai lần cho cùng một đơn vị",
        "something new",  # an unknown code keeps the loader's message
        "Dòng ghi chú hoặc chữ ký dưới bảng (không phải số liệu)",
    ]


def test_issues_view_without_lang_keeps_the_messages() -> None:
    issues = _issues()
    view = issues_view(issues)
    assert set(view[Iss.problem]) == set(issues[Iss.problem])
    assert issues[Iss.severity].tolist() == ["info", "warning", "error"]  # input untouched


def test_show_table_renders_what_the_pandas_styler_rendered() -> None:
    """The small renderer is an equivalence of the Styler it replaced (escaping included)."""
    import re

    from IPython.display import HTML

    from ntm_analysis.i18n import status_label
    from ntm_analysis.report_data import show_table
    from ntm_analysis.style import STATUS_FILLS

    view = pd.DataFrame({
        "Đơn vị": ['Xóm <img src=x onerror="window.__pwned=1">', "Xóm Ao Sen & Nà Mò"],
        '<b>"Xóm"</b>': ["Đạt", "Chưa đạt"],
        "Khoảng cách": [0.12345, float("nan")],
        "Hạng": pd.array([1, None], dtype="Int64"),
        "Tệp": pd.array(["=HYPERLINK('x')", None], dtype="string"),
        "Đạt": [True, False],
        "Tỷ lệ": pd.array([0.5, None], dtype="Float64"),
    })
    shown = show_table(view, lang="vi")
    assert isinstance(shown, HTML)
    fills = {status_label(s, "vi"): c for s, c in STATUS_FILLS.items()}
    styler = view.style.hide(axis="index").format(escape="html", na_rep="—", precision=2)
    styler = styler.format_index(escape="html", axis=1).set_table_styles(
        [{"selector": "td, th", "props": "text-align: left;"}], overwrite=False)
    styler = styler.map(lambda v: f"background-color: {fills[v]}"
                        if isinstance(v, str) and v in fills else "")

    def normal(html: str) -> str:  # only the table ids and the order of class and id differ
        html = re.sub(r"T_[0-9a-z]+", "T_", html)
        return re.sub(r'id="([^"]*)" class="([^"]*)"', r'class="\2" id="\1"', html)

    assert normal(shown.data) == normal(styler.to_html())
    assert "<img" not in shown.data and "&lt;img src=x" in shown.data


# ----------------------------------------------------------------------------------------------
# The attainment table's texts are categoricals (issue 5): every table and sentence a report
# builds from it must be what the same table with string texts gives.

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from ntm_analysis import attainment as att_mod  # noqa: E402
from ntm_analysis import readiness  # noqa: E402
from ntm_analysis.report_data import (  # noqa: E402
    ReportData,
    load_report_data,
    select_kind,
    select_level,
    select_unit,
    table_view,
)
from ntm_analysis.report_money import commune_income, funding_report  # noqa: E402
from ntm_analysis.report_params import require_unit  # noqa: E402
from ntm_analysis.schema import CATEGORY, Att, Ind  # noqa: E402


def _plain(value: object) -> object:
    """A table's cells as Python values (NaN and NA both None), headers and index reset."""
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index(drop=True)
        frame.columns = [str(c) for c in frame.columns]
        return frame.astype(object).where(frame.notna(), None).to_dict("split")
    if isinstance(value, pd.Series):
        return _plain(value.to_frame())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    return value


def _report_tables(data: ReportData, att: pd.DataFrame) -> dict[str, object]:
    """What the readiness and hamlet-gap notebooks compute from an attainment table."""
    hamlets = sorted(att[att[Ind.level].astype("string").eq("hamlet").fillna(False)]
                     [Ind.unit].dropna().astype(str).unique())
    out: dict[str, object] = {
        "summary": att_mod.summarise_attainment(att),
        "criteria": att_mod.summarise_criteria(att),
        "discrepancies": att_mod.list_discrepancies(att),
        "gaps": att_mod.list_gaps(att),
        "unit_counts": readiness.unit_counts(att),
        "gaps_by_unit": readiness.gaps_by_unit(att),
        "hamlet_gaps": readiness.gaps_by_unit(select_level(att, "hamlet")),
        "outstanding": readiness.outstanding_criterion_no(select_kind(att, "model_commune")),
        "funding": funding_report(data.money, att, lang="en"),
        "income": commune_income(data.money.income, att, commune=data.commune, year=data.year),
        "hamlet": require_unit(att, hamlets[0], year=data.year),
    }
    for lang in ("vi", "en"):
        out[f"readiness_{lang}"] = readiness.assess_readiness(
            att, year=data.year, commune=data.commune, income_per_capita=60.0,
            advanced_ntm_recognised="auto", lang=lang)
        out[f"provenance_{lang}"] = [readiness.describe_provenance(select_kind(att, kind),
                                                                   lang=lang)
                                     for kind in ("model_commune", "model_hamlet",
                                                  "smart_hamlet")]
        out[f"view_{lang}"] = table_view(att, [Ind.unit, Ind.indicator_no, Att.status,
                                               Att.computed_status, Att.catalogue_status],
                                         lang=lang)
    for name in hamlets:
        out[f"gap_comparison {name}"] = readiness.gap_comparison(att, unit=name)
        out[f"primary_set {name}"] = readiness.primary_set(att, unit=name)
        out[f"unit {name}"] = att_mod.summarise_criteria(select_unit(att, name))
    return out


@pytest.fixture(scope="module")
def sample_report(sample_paths: list[Path]) -> ReportData:
    return load_report_data({"year": 2024, "paths": sample_paths})


def test_report_tables_are_the_same_from_categorical_or_string_texts(
        sample_report: ReportData) -> None:
    att = sample_report.attainment
    texts = [c for c, t in Att.dtypes.items() if t == CATEGORY]
    assert all(str(att[c].dtype) == CATEGORY for c in texts)
    strings = att.astype({c: "string" for c in texts})
    assert len(att) > 100 and att[Att.status].eq("not_met").any()
    from_categories = _report_tables(sample_report, att)
    from_strings = _report_tables(sample_report, strings)
    assert from_categories.keys() == from_strings.keys()
    for key in from_categories:
        assert _plain(from_categories[key]) == _plain(from_strings[key]), key
    # the summaries stay string tables, whatever the attainment table holds
    assert str(from_categories["summary"][Ind.unit].dtype) == "string"
    assert len(from_categories["gaps_by_unit"]) and len(from_categories["hamlet_gaps"])


def test_missing_texts_behave_as_with_strings() -> None:
    """NA units and statuses: where categoricals differ from strings (``ne``, ``fillna``,
    ``value_counts`` of absent categories), the report functions give the string answers."""
    att = pd.DataFrame({
        Ind.unit: ["Xóm A", "Xóm A", "Xóm B", None, "Xóm C"],
        Ind.level: "hamlet", Ind.commune: "Kim Phượng", Ind.year: 2024,
        Ind.criteria_set: ["TN_XOM_THONG_MINH"] * 4 + [None],
        Ind.criterion_no: ["1", "1", "1", "1", "1"],
        Ind.criterion_name: "Hạ tầng số",
        Ind.indicator_no: ["1.1", "1.2", "1.1", "1.1", "1.1"],
        Ind.value_text: ["60%", "1", "95%", "99%", None],
        Att.status: ["not_met", None, "met", "met", "met"],
        Att.target_value: [90.0, 1.0, 90.0, 90.0, 90.0], Att.gap: [30.0, None, 0.0, 0.0, 0.0],
        Att.catalogue_status: "inferred", Ind.source_file: "kp.xlsx",
    })
    categorical = conform(att, Att)
    assert str(categorical[Att.status].dtype) == CATEGORY
    strings = categorical.astype({c: "string" for c, t in Att.dtypes.items() if t == CATEGORY})
    for frame in (categorical, strings):
        others = readiness.gap_comparison(frame, unit="Xóm A")
        assert others["others_met"].tolist() == [1, 0]  # Xóm B only: the unnamed unit is no one
        assert readiness.primary_set(frame, unit="Xóm C") is None  # no set among its rows
        counts = readiness.unit_counts(frame)
        assert counts["status"].tolist() == ["not_met", "met", "met", "met"]
        assert counts["indicators_unknown"].tolist() == [1, 0, 0, 0]  # the NA status
        assert att_mod.list_gaps(frame)[Ind.indicator_no].tolist() == ["1.1"]
        conditions = readiness.assess_readiness(frame, year=2024, commune="Kim Phượng",
                                                lang="en")
        assert conditions.set_index("condition_id").loc["smart_hamlet", "status"] == "met"


def test_a_year_the_workbooks_do_not_hold_is_answered_with_those_they_hold(tmp_path) -> None:
    import pytest

    from ntm_analysis.errors import ParameterError
    from ntm_analysis.report_data import load_report_data
    from ntm_analysis.report_params import validate_parameters
    from ntm_analysis.synth import write_province

    made = [c for year in (2022, 2024)
            for c in write_province(tmp_path, communes=2, hamlets=(1, 2), year=year, seed=3)]
    names = sorted({c.name for c in made})
    paths = [str(c.path) for c in made]

    def load(year: int, commune: str = "") -> None:
        load_report_data(validate_parameters(year=year, commune=commune, paths=paths))

    with pytest.raises(ParameterError) as error:
        load(2023)
    both = ", ".join(names)
    assert str(error.value) == (
        f"the 4 workbook(s) hold no commune for 2023; they hold 2022 ({both}); 2024 ({both}): "
        "give one of those years (the 'year' parameter, --year)")
    with pytest.raises(ParameterError) as error:
        load(2023, names[0])
    assert str(error.value).endswith(
        f"; they hold 2022 ({names[0]}); 2024 ({names[0]}): give one of those years (the "
        "'year' parameter, --year)")
    with pytest.raises(ParameterError) as error:
        load(2024)
    assert str(error.value).endswith(
        f"hold 2 communes for 2024 ({both}); name one with the 'commune' parameter (`ntm report "
        "--commune`, `ntm run -p commune`)")
    # a misspelt commune gets the nearest name the workbooks hold
    misspelt = names[0][:-1].lower()
    with pytest.raises(ParameterError) as error:
        load(2024, misspelt)
    assert str(error.value) == (
        f"commune {misspelt!r} has no rows for 2024 in 4 workbook(s) (did you mean "
        f"{names[0]!r}?); communes found: {both}")


def test_the_discrepancy_view_speaks_the_reports_language() -> None:
    """The self-assessment beside the computed status is a label too ("not_met" showed in the
    report's discrepancy table)."""
    att = conform(pd.DataFrame({
        Ind.unit: ["Xóm Na Mọn", "Xóm Na Mọn"], Ind.indicator_no: ["1.1", "1.2"],
        Ind.value_text: ["50%", "72%"], Ind.self_assessment: ["met", "not_met"],
        Att.computed_status: ["not_met", "met"], Att.status: ["not_met", "met"],
    }), Att)
    columns = [Ind.unit, Ind.indicator_no, Att.computed_status, Ind.self_assessment]
    vi = table_view(att, columns, lang="vi")
    assert vi.values.tolist() == [["Xóm Na Mọn", "1.1", "Chưa đạt", "Đạt"],
                                  ["Xóm Na Mọn", "1.2", "Đạt", "Chưa đạt"]]
    en = table_view(att.assign(**{Ind.self_assessment: [None, "not_met"]}), columns, lang="en")
    assert en.iloc[:, 3].tolist() == ["—", "Not met"]


def test_a_hamlets_workbook_naming_no_commune_is_read_or_left_out_with_a_warning(
        tmp_path) -> None:
    """A hamlet's workbook titled "XÓM NA MỌN" alone: beside one commune's workbooks it is that
    commune's hamlet; beside several it is left out. Either way the report says so (it was left
    out of every report without a word)."""
    from workbooks import write_hamlet_without_commune

    from ntm_analysis.report_data import load_report_data
    from ntm_analysis.report_params import validate_parameters
    from ntm_analysis.synth import write_province

    (c, other) = write_province(tmp_path / "raw", communes=2, hamlets=(1, 1), year=2024, seed=5)
    write_hamlet_without_commune(tmp_path / "na_mon.xlsx")

    def report(*paths: Path) -> object:
        return load_report_data(validate_parameters(year=2024, commune=c.name,
                                                    paths=[str(p) for p in paths]))

    alone = report(c.path, tmp_path / "na_mon.xlsx")
    hamlets = alone.summary[alone.summary[Ind.level] == "hamlet"]
    assert "Xóm Na Mọn" in set(hamlets[Ind.unit])
    assert set(hamlets[Ind.commune]) == {c.name}
    (warning,) = alone.issues[alone.issues[Iss.code] == "hamlet_without_commune"].itertuples()
    assert warning.problem == (
        f"Xóm Na Mọn names no commune; read as {c.name}'s, the one commune of the workbooks "
        f"(name its commune in the title: 'XÓM NA MỌN - XÃ {c.name.upper()}')")
    several = report(c.path, other.path, tmp_path / "na_mon.xlsx")
    assert "Xóm Na Mọn" not in set(several.summary[Ind.unit])
    (warning,) = several.issues[several.issues[Iss.code] == "hamlet_without_commune"].itertuples()
    assert warning.problem.startswith("Xóm Na Mọn names no commune; left out, since the "
                                      "workbooks hold several communes")
