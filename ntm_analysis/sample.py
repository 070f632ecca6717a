"""Write appendix workbooks in the layouts the loader reads, and the Kim Phượng 2024 sample.

``write_appendix`` renders one or more units' indicator tables into a sheet in any of the layout
variants found in real appendix tables (criteria as rows or merged cells, numbering styles,
one/two-row headers, word or x-mark assessments, wide tables). Tests and benchmarks build their
fixtures with it; ``write_kim_phuong_sample`` writes the bundled sample data.

The report 46/BC-UBND published only counts, not its appendices: the indicator-level values of the
sample are illustrative, chosen so that the statuses reproduce the report's counts exactly.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ntm_analysis.catalogue import load_catalogue

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]

ILLUSTRATIVE_NOTE = (
    "Ghi chú: Số liệu từng chỉ tiêu là số liệu minh họa (illustrative) do ntm-analysis tạo ra; "
    "báo cáo 46/BC-UBND ngày 08/4/2024 chỉ công bố số tiêu chí, chỉ tiêu đạt."
)


@dataclass
class Layout:
    """How to draw an indicator table (every option is a variant seen in real appendices)."""

    criteria: str = "rows"  # "rows" | "merged" (vertically merged cells beside indicators)
    criterion_numbers: str = "arabic"  # "arabic" | "roman"
    indicator_numbers: str = "dotted"  # "dotted" | "restart" | "prefix" | "none"
    header_rows: int = 2  # 1 or 2
    column_numbers: bool = True  # a "(1) (2) (3)" row under the header
    assessment: str = "words"  # "words" | "marks"
    headers: dict[str, str] = field(default_factory=lambda: {
        "number": "TT", "criterion": "Tiêu chí", "name": "Nội dung tiêu chí/chỉ tiêu",
        "target": "Chỉ tiêu theo quy định", "result": "Hiện trạng",
        "assessment": "Tự đánh giá", "group": "Kết quả rà soát", "note": "Ghi chú",
    })
    nfd: bool = False  # write text in Unicode NFD
    note_row: str | None = None


@dataclass
class UnitTable:
    """One unit's indicator rows: catalogue columns plus ``value`` and ``assessment``."""

    label: str  # e.g. "Xóm Cạm Phước"
    rows: pd.DataFrame  # columns: criterion_no, criterion_name, indicator_no, indicator_name,
    # target_text, value, assessment ("Đạt"/"Chưa đạt"/None)


def _t(text: object, nfd: bool) -> object:
    if isinstance(text, str) and nfd:
        return unicodedata.normalize("NFD", text)
    return text


def write_appendix(ws, titles: Sequence[str], units: Sequence[UnitTable],  # type: ignore[no-untyped-def]
                   layout: Layout) -> None:
    """Draw an appendix table for one unit, or a wide table for several, on worksheet ``ws``."""
    from openpyxl.styles import Alignment, Font

    nfd = layout.nfd
    h = layout.headers
    r = 1
    for title in titles:
        ws.cell(r, 1, _t(title, nfd)).font = Font(bold=True)
        r += 1
    r += 1  # a blank row before the header, as in real files
    base = units[0].rows.reset_index(drop=True)
    wide = len(units) > 1
    cols: list[str] = ["number"]
    if layout.criteria == "merged":
        cols.append("criterion")
    cols += ["name", "target"]
    unit_cols: list[tuple[int, str]] = []
    for i, _u in enumerate(units):
        if layout.assessment == "marks" and not wide:
            unit_cols += [(i, "result"), (i, "mark_met"), (i, "mark_not_met")]
        else:
            unit_cols += [(i, "result"), (i, "assessment")]
    n_fixed = len(cols)
    header_top = r
    two = layout.header_rows == 2 or wide or layout.assessment == "marks"
    for c, key in enumerate(cols, start=1):
        ws.cell(r, c, _t(h[key], nfd))
        if two:
            ws.merge_cells(start_row=r, start_column=c, end_row=r + 1, end_column=c)
    c = n_fixed + 1
    if wide:
        for u in units:
            ws.cell(r, c, _t(u.label, nfd))
            ws.merge_cells(start_row=r, start_column=c, end_row=r, end_column=c + 1)
            ws.cell(r + 1, c, _t(h["result"], nfd))
            ws.cell(r + 1, c + 1, _t(h["assessment"], nfd))
            c += 2
    elif layout.assessment == "marks":
        ws.cell(r, c, _t(h["result"], nfd))
        ws.merge_cells(start_row=r, start_column=c, end_row=r + 1, end_column=c)
        ws.cell(r, c + 1, _t(h["assessment"], nfd))
        ws.merge_cells(start_row=r, start_column=c + 1, end_row=r, end_column=c + 2)
        ws.cell(r + 1, c + 1, _t("Đạt", nfd))
        ws.cell(r + 1, c + 2, _t("Chưa đạt", nfd))
        c += 3
    elif two:
        ws.cell(r, c, _t(h["group"], nfd))
        ws.merge_cells(start_row=r, start_column=c, end_row=r, end_column=c + 1)
        ws.cell(r + 1, c, _t(h["result"], nfd))
        ws.cell(r + 1, c + 1, _t(h["assessment"], nfd))
        c += 2
    else:
        ws.cell(r, c, _t(h["result"], nfd))
        ws.cell(r, c + 1, _t(h["assessment"], nfd))
        c += 2
    note_col = c
    ws.cell(r, note_col, _t(h["note"], nfd))
    if two:
        ws.merge_cells(start_row=r, start_column=note_col, end_row=r + 1, end_column=note_col)
    for cc in range(1, note_col + 1):
        ws.cell(header_top, cc).font = Font(bold=True)
        ws.cell(header_top, cc).alignment = Alignment(horizontal="center", wrap_text=True)
    r += 2 if two else 1
    if layout.column_numbers:
        for cc in range(1, note_col + 1):
            ws.cell(r, cc, f"({cc})")
        r += 1
    # body
    crit_order = list(dict.fromkeys(base["criterion_no"]))
    for k, crit in enumerate(crit_order):
        part = base[base["criterion_no"] == crit]
        crit_label = ROMAN[k] if layout.criterion_numbers == "roman" else str(crit)
        crit_name = part["criterion_name"].iloc[0]
        first_row = r
        if layout.criteria == "rows":
            ws.cell(r, 1, crit_label)
            ws.cell(r, 2, _t(crit_name, nfd)).font = Font(bold=True)
            r += 1
        for j, (idx, row) in enumerate(part.iterrows(), start=1):
            number = {"dotted": row["indicator_no"], "restart": str(j), "prefix": None,
                      "none": None}[layout.indicator_numbers]
            name = row["indicator_name"]
            if layout.indicator_numbers == "prefix":
                name = f"{row['indicator_no']}. {name}"
            if number is not None:
                ws.cell(r, 1, number)
            c = 2
            if layout.criteria == "merged":
                ws.cell(r, c, _t(f"{crit_label}. {crit_name}", nfd) if j == 1 else None)
                c += 1
            ws.cell(r, c, _t(name, nfd))
            ws.cell(r, c + 1, _t(row["target_text"], nfd))
            c += 2
            for u in units:
                urow = u.rows.iloc[idx]
                ws.cell(r, c, _t(urow["value"], nfd))
                if layout.assessment == "marks" and not wide:
                    if urow["assessment"] == "Đạt":
                        ws.cell(r, c + 1, "x")
                    elif urow["assessment"]:
                        ws.cell(r, c + 2, "x")
                    c += 3
                else:
                    ws.cell(r, c + 1, _t(urow["assessment"], nfd))
                    c += 2
            r += 1
        if layout.criteria == "merged" and r - 1 > first_row:
            ws.merge_cells(start_row=first_row, start_column=2, end_row=r - 1, end_column=2)
    if layout.note_row:
        r += 1
        ws.cell(r, 1, _t(layout.note_row, nfd))
    ws.column_dimensions["B"].width = 50


def unit_rows(set_id: str, values: dict[str, object], assessments: dict[str, str | None]
              ) -> pd.DataFrame:
    """Return a set's catalogue rows with the given values and self-assessments per indicator."""
    cat = load_catalogue(set_id=set_id)
    rows = cat[["criterion_no", "criterion_name_vi", "indicator_no", "indicator_name_vi",
                "target_text"]].rename(columns={"criterion_name_vi": "criterion_name",
                                                "indicator_name_vi": "indicator_name"})
    rows["value"] = rows["indicator_no"].map(values)
    rows["assessment"] = rows["indicator_no"].map(assessments)
    return rows


# --------------------------------------------------------------------------- Kim Phượng sample

COMMUNE_SET = "TN_XA_NTM_KIEUMAU_2022_2025"
HAMLET_SET = "TN_XOM_NTM_KIEUMAU_2021_2025"
SMART_SET = "TN_XOM_THONG_MINH"

# Illustrative values. Unmet indicators follow the report's text where it names a weakness
# (flower roads, waste sorting, model gardens, cultured families, income 70 million, ...).
COMMUNE_VALUES: dict[str, object] = {
    "1.1": "Có", "1.2": "Chưa có", "1.3": "02 sản phẩm", "1.4": "54,03 triệu đồng/người/năm",
    "1.5": "0 hộ", "1.6": "72%", "1.7": "Đạt", "2.1": "98,5%", "2.2": "100%", "2.3": "96,2%",
    "2.4": "Đạt", "2.5": "93%", "2.6": "97,8%", "2.7": "91,5%", "2.8": "100%", "2.9": "Đạt",
    "3.1": "45%", "3.2": "92%", "3.3": "90,5%", "3.4": "38%", "3.5": "52%", "3.6": "85%",
    "3.7": "Chưa có", "4.1": "Đạt", "4.2": "Đạt", "4.3": "Đạt", "4.4": "68%",
    "5.1": "Chưa có", "5.2": "0%",
    "6.1": "100% đạt chuẩn quốc gia; 02 trường đạt mức độ 2", "6.2": "Đạt", "6.3": "75%",
    "6.4": "Tiểu học 100%; THCS 98,6%", "6.5": "Đạt", "6.6": "Đạt",
}
COMMUNE_UNMET = {"1.2", "1.4", "1.6", "3.1", "3.4", "3.5", "3.6", "3.7", "5.1", "5.2"}

HAMLET_UNMET = {
    "Xóm Cạm Phước": {"1.1", "2.2", "3.3", "4.4", "6.3", "8.1", "10.1", "10.2"},
    "Xóm Bản Lác": {"1.1", "2.3", "3.3", "4.2", "4.4", "6.3", "8.1", "10.1"},
    "Xóm Ao Sen": {"1.1", "2.2", "2.4", "3.3", "4.4", "6.3", "6.4", "8.1", "10.1"},
}
# value when met, value when not met
HAMLET_VALUES: dict[str, tuple[object, object]] = {
    "1.1": ("Có", "Chưa có"), "1.2": ("Đạt", "Chưa đạt"), "2.1": ("100%", "92%"),
    "2.2": ("100%", "86,5%"), "2.3": ("78%", "55%"), "2.4": ("72%", "48%"),
    "3.1": ("Đạt", "Chưa đạt"), "3.2": ("05 năm", "02 năm"), "3.3": ("93%", "87,2%"),
    "3.4": ("Đạt", "Chưa đạt"), "4.1": ("100%", "97%"), "4.2": ("84%", "62%"),
    "4.3": ("92%", "85%"), "4.4": ("75%", "40%"), "5.1": ("97,5%", "93%"),
    "5.2": ("94%", "85%"), "5.3": ("8,5%", "22%"), "6.1": ("65%", "50%"),
    "6.2": ("96%", "90%"), "6.3": ("91%", "78%"), "6.4": ("92%", "80%"),
    "6.5": ("Có", "Chưa có"), "7.1": ("Đạt", "Chưa đạt"), "7.2": ("Đạt", "Chưa đạt"),
    "7.3": ("Đạt", "Chưa đạt"), "8.1": ("01 mô hình", "Chưa có"), "8.2": ("96%", "90%"),
    "9.1": ("0 hộ", "2 hộ"), "9.2": ("2,1%", "4,5%"),
    "10.1": ("71 triệu đồng", "56,5 triệu đồng"), "10.2": ("1,15 lần", "1,05 lần"),
}
# per-capita income (10.1) and its ratio to the commune's 54.03 (10.2), illustrative
HAMLET_INCOME = {
    "Xóm Cạm Phước": ("56,5 triệu đồng", "1,05 lần"),
    "Xóm Bản Lác": ("60,5 triệu đồng", "1,12 lần"),
    "Xóm Ao Sen": ("59,5 triệu đồng", "1,1 lần"),
}

SMART_VALUES: dict[str, object] = {
    "1.1": "86%", "1.2": "100%", "1.3": "Có", "1.4": "Có", "2.1": "62%", "2.2": "35%",
    "2.3": "Đạt", "3.1": "40%", "3.2": "Có", "3.3": "Chưa có",
}
SMART_UNMET = {"2.1", "2.2", "3.1", "3.3"}


def _assess(numbers: Sequence[str], unmet: set[str]) -> dict[str, str]:
    return {n: ("Chưa đạt" if n in unmet else "Đạt") for n in numbers}


def kim_phuong_tables() -> dict[str, list[UnitTable]]:
    """Return the sample's unit tables keyed by criteria set id."""
    cnos = list(load_catalogue(set_id=COMMUNE_SET)["indicator_no"])
    commune = UnitTable("Xã Kim Phượng", unit_rows(COMMUNE_SET, COMMUNE_VALUES,
                                                   _assess(cnos, COMMUNE_UNMET)))
    hnos = list(load_catalogue(set_id=HAMLET_SET)["indicator_no"])
    hamlets = []
    for name, unmet in HAMLET_UNMET.items():
        values = {n: HAMLET_VALUES[n][1 if n in unmet else 0] for n in hnos}
        values["10.1"], values["10.2"] = HAMLET_INCOME[name]
        hamlets.append(UnitTable(name, unit_rows(HAMLET_SET, values, _assess(hnos, unmet))))
    snos = list(load_catalogue(set_id=SMART_SET)["indicator_no"])
    smart = UnitTable("Xóm Phai Đá", unit_rows(SMART_SET, SMART_VALUES, _assess(snos, SMART_UNMET)))
    return {COMMUNE_SET: [commune], HAMLET_SET: hamlets, SMART_SET: [smart]}


def write_kim_phuong_sample(out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write the three sample appendix workbooks for Kim Phượng 2024; return their paths.

    * ``kim_phuong_2024_xa_kieu_mau.xlsx`` — commune set; criteria as numbered rows, indicators
      "1.1", two-row header with merged "Kết quả rà soát", column-number row;
    * ``kim_phuong_2024_xom_kieu_mau.xlsx`` — the three model hamlets in one wide table; criteria
      I, II…, indicators restarting 1, 2, 3;
    * ``kim_phuong_2024_xom_thong_minh.xlsx`` — Phai Đá; criteria as vertically merged cells,
      indicators not numbered, "Đạt" | "Chưa đạt" x marks, text stored in Unicode NFD.
    """
    import openpyxl

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tables = kim_phuong_tables()
    specs = [
        ("kim_phuong_2024_xa_kieu_mau.xlsx", "Phụ biểu 01", COMMUNE_SET,
         ["ỦY BAN NHÂN DÂN XÃ KIM PHƯỢNG", "Phụ biểu số 01",
          "KẾT QUẢ RÀ SOÁT CÁC TIÊU CHÍ XÃ NÔNG THÔN MỚI KIỂU MẪU NĂM 2024",
          "(Kèm theo Báo cáo số 46/BC-UBND ngày 08/4/2024 của UBND xã Kim Phượng)"],
         Layout(note_row=ILLUSTRATIVE_NOTE)),
        ("kim_phuong_2024_xom_kieu_mau.xlsx", "Phụ biểu 02", HAMLET_SET,
         ["ỦY BAN NHÂN DÂN XÃ KIM PHƯỢNG", "Phụ biểu số 02",
          "KẾT QUẢ RÀ SOÁT CÁC TIÊU CHÍ XÓM NÔNG THÔN MỚI KIỂU MẪU NĂM 2024",
          "(Kèm theo Báo cáo số 46/BC-UBND ngày 08/4/2024 của UBND xã Kim Phượng)"],
         Layout(criterion_numbers="roman", indicator_numbers="restart", column_numbers=False,
                headers={"number": "STT", "criterion": "Tiêu chí", "name": "Nội dung",
                         "target": "Yêu cầu đạt chuẩn", "result": "Thực trạng",
                         "assessment": "Đánh giá", "group": "", "note": "Ghi chú"},
                note_row=ILLUSTRATIVE_NOTE)),
        ("kim_phuong_2024_xom_thong_minh.xlsx", "Xóm Phai Đá", SMART_SET,
         ["Phụ biểu số 03", "BIỂU RÀ SOÁT TIÊU CHÍ XÓM THÔNG MINH NĂM 2024",
          "XÓM PHAI ĐÁ - XÃ KIM PHƯỢNG"],
         Layout(criteria="merged", indicator_numbers="none", assessment="marks",
                column_numbers=False, nfd=True,
                headers={"number": "TT", "criterion": "Tên tiêu chí",
                         "name": "Nội dung chỉ tiêu", "target": "Chỉ tiêu",
                         "result": "Kết quả thực hiện", "assessment": "Kết quả đánh giá",
                         "group": "", "note": "Ghi chú"},
                note_row=ILLUSTRATIVE_NOTE)),
    ]
    paths = []
    for file_name, sheet, set_id, titles, layout in specs:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = sheet
        write_appendix(ws, titles, tables[set_id], layout)
        wb.properties.creator = "ntm-analysis sample generator"
        path = out / file_name
        wb.save(path)
        paths.append(path)
    return paths


def write_sample_data(out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write every bundled sample workbook (indicator appendices, budget, income) to ``out_dir``."""
    from ntm_analysis.sample_money import write_money_samples

    return [*write_kim_phuong_sample(out_dir), *write_money_samples(out_dir)]
