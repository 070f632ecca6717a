"""Hand-built appendix workbooks for the loader tests (openpyxl, independent of ``sample.py``).

Each ``Spec`` describes one sheet the way a commune office might draw it; ``draw`` writes it cell by
cell and returns the Excel row of every indicator, so tests derive the expected tidy rows from the
same inputs they wrote.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

from ntm_analysis.catalogue import load_catalogue

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]
SMART_SET = "TN_XOM_THONG_MINH"
HAMLET_SET = "TN_XOM_NTM_KIEUMAU_2021_2025"
COMMUNE_SET = "TN_XA_NTM_KIEUMAU_2022_2025"


@dataclass(frozen=True)
class Row:
    """One indicator of a table: catalogue facts plus what one unit wrote."""

    criterion_no: str
    criterion_name: str
    indicator_no: str
    indicator_name: str
    target: str


@dataclass(frozen=True)
class Cell:
    """What one unit wrote for one indicator, and what the loader should make of it."""

    value: object  # the cell as written
    expected: float | None  # the parsed value
    assessment: str | None  # "Đạt" / "Chưa đạt" as written (None: empty)
    met: bool  # the status the indicator should get

    @property
    def self_assessment(self) -> str | None:
        if self.assessment is None:
            return None
        return "met" if " ".join(self.assessment.split()).lower() == "đạt" else "not_met"


# The smart-hamlet set (3 criteria, 10 indicators), written as a commune office would.
SMART = [
    Row("1", "Hạ tầng số", "1.1", "Tỷ lệ hộ gia đình có kết nối Internet băng rộng cáp quang",
        "≥ 80%"),
    Row("1", "Hạ tầng số", "1.2", "Tỷ lệ diện tích khu dân cư được phủ sóng di động 4G", "100%"),
    Row("1", "Hạ tầng số", "1.3", "Nhà văn hóa xóm có mạng Wi-Fi miễn phí", "Có"),
    Row("1", "Hạ tầng số", "1.4", "Có hệ thống camera an ninh hoặc loa truyền thanh thông minh",
        "Có"),
    Row("2", "Xã hội số", "2.1", "Tỷ lệ người dân trưởng thành sử dụng điện thoại thông minh",
        "≥ 70%"),
    Row("2", "Xã hội số", "2.2", "Tỷ lệ người dân trưởng thành có tài khoản thanh toán điện tử",
        "≥ 50%"),
    Row("2", "Xã hội số", "2.3", "Xóm sử dụng nền tảng số để thông tin, tương tác với người dân",
        "Đạt"),
    Row("3", "Kinh tế số", "3.1", "Tỷ lệ cơ sở kinh doanh có thanh toán không dùng tiền mặt",
        "≥ 80%"),
    Row("3", "Kinh tế số", "3.2", "Có hộ, hợp tác xã đưa sản phẩm lên sàn thương mại điện tử",
        "Có"),
    Row("3", "Kinh tế số", "3.3", "Có mô hình sản xuất ứng dụng công nghệ số", "≥ 01 mô hình"),
]

# Phai Đá-like unit: criteria 1 and 2 not met (1.4, 2.1), criterion 3 met -> 1/3, 8/10.
UNIT_A = [
    Cell("86%", 86.0, "Đạt", True),
    Cell("100%", 100.0, "Đạt", True),
    Cell("Có", 1.0, "Đạt", True),
    Cell("Chưa có", 0.0, "Chưa đạt", False),
    Cell("62,5%", 62.5, "Chưa đạt", False),
    Cell("55%", 55.0, "Đạt", True),
    Cell("Đạt", 1.0, "Đạt", True),
    Cell("81,2%", 81.2, "Đạt", True),
    Cell("Có", 1.0, "Đạt", True),
    Cell("02 mô hình", 2.0, "Đạt", True),
]
# Second unit: only 3.3 not met -> 2/3, 9/10.
UNIT_B = [
    Cell("92,4%", 92.4, "Đạt", True),
    Cell("100%", 100.0, "Đạt", True),
    Cell("Có", 1.0, "Đạt", True),
    Cell("Có", 1.0, "Đạt", True),
    Cell("78%", 78.0, "Đạt", True),
    Cell("50%", 50.0, "Đạt", True),
    Cell("Đạt", 1.0, "Đạt", True),
    Cell("90%", 90.0, "Đạt", True),
    Cell("Có", 1.0, "Đạt", True),
    Cell("Chưa có", 0.0, "Chưa đạt", False),
]
# Numbers stored as numbers: 0.95 fractions in % rows, 1/0 for yes/no, a count.
UNIT_NUMERIC = [
    Cell(0.86, 0.86, "Đạt", True),
    Cell(1, 1.0, "Đạt", True),
    Cell(1, 1.0, "Đạt", True),
    Cell(0, 0.0, "Chưa đạt", False),
    Cell(0.625, 0.625, "Chưa đạt", False),
    Cell(0.55, 0.55, "Đạt", True),
    Cell(1, 1.0, "Đạt", True),
    Cell(0.812, 0.812, "Đạt", True),
    Cell(1, 1.0, "Đạt", True),
    Cell(2, 2.0, "Đạt", True),
]


def counts(rows: list[Row], cells: list[Cell]) -> tuple[int, int, int, int]:
    """(criteria met, criteria total, indicators met, indicators total) of one unit."""
    by_crit: dict[str, bool] = {}
    for row, cell in zip(rows, cells, strict=True):
        by_crit[row.criterion_no] = by_crit.get(row.criterion_no, True) and cell.met
    return (sum(by_crit.values()), len(by_crit), sum(c.met for c in cells), len(cells))


def catalogue_rows(set_id: str) -> list[Row]:
    """The catalogue's rows of a set (real names and targets)."""
    cat = load_catalogue(set_id=set_id)
    return [Row(r.criterion_no, r.criterion_name_vi, r.indicator_no, r.indicator_name_vi,
                r.target_text) for r in cat.itertuples()]


def cells_for(set_id: str, unmet: set[str]) -> list[Cell]:
    """Values that meet (or miss) each catalogue target, chosen from the target's parsed form."""
    cat = load_catalogue(set_id=set_id)
    out = []
    for r in cat.itertuples():
        met = r.indicator_no not in unmet
        word = "Đạt" if met else "Chưa đạt"
        tv = r.target_value
        if r.comparator == "bool":
            cell = Cell("Có" if met else "Chưa có", 1.0 if met else 0.0, word, met)
        elif r.unit == "%" and r.comparator == ">=" and ";" not in r.target_text:
            v = tv + 2.5 if met else tv - 7.5
            cell = Cell(f"{v:g}%".replace(".", ","), v, word, met)
        elif r.unit == "%" and r.comparator == "==" and ";" not in r.target_text:
            v = 100.0 if met else 96.0
            cell = Cell(f"{v:g}%", v, word, met)
        elif r.unit == "%" and r.comparator == "<=":
            v = tv - 1 if met else tv + 2
            cell = Cell(f"{v:g}%", v, word, met)
        elif r.comparator == "==" and tv == 0:
            v = 0.0 if met else 3.0
            cell = Cell(f"{v:g} hộ", v, word, met)
        elif r.comparator == ">=" and "%" not in r.target_text and "so với" not in r.target_text:
            v = tv + 1 if met else 0.0
            unit = r.target_text.split(maxsplit=2)[-1].split("(")[0].strip()
            if v == 0:
                cell = Cell("Chưa có", 0.0, word, met)
            else:
                cell = Cell(f"{v:g} {unit}".replace(".", ","), v, word, met)
        else:  # compound legal text: the self-assessment decides
            cell = Cell("Xem thuyết minh kèm theo", None, word, met)
        out.append(cell)
    return out


@dataclass
class Spec:
    """How one sheet is drawn; every option is a variant seen in real appendix tables."""

    rows: list[Row]
    units: list[tuple[str | None, list[Cell]]]  # (label over the unit's columns, cells)
    sheet: str = "Phụ biểu"
    titles: list[str] = field(default_factory=list)
    top: int = 1  # first row used
    left: int = 1  # first column used
    header: int = 2  # 1, 2 or 3 header rows
    words: dict[str, str] = field(default_factory=dict)
    column_numbers: bool = False
    criteria: str = "arabic"  # arabic | roman | named ("Tiêu chí 1: ...") | merged
    numbers: str = "dotted"  # dotted | float | prefix | restart | none
    assessment: str = "words"  # words | marks
    assess_style: str = "plain"  # plain | upper | spaced
    nfd: bool = False
    note: bool = True
    footer: list[str] = field(default_factory=list)
    merge_titles: bool = False  # title cells merged across the table's width
    merge_criterion_rows: bool = False  # a criterion's name merged across the whole row
    unit_column: bool = False  # a "Đơn vị tính" column after the name


WORDS = {"value_unit": "Đơn vị tính", "number": "TT", "criterion": "Tên tiêu chí",
         "name": "Nội dung", "target": "Chỉ tiêu",
         "result": "Hiện trạng", "assessment": "Đánh giá", "group": "Kết quả rà soát",
         "note": "Ghi chú", "met": "Đạt", "not_met": "Chưa đạt"}


def draw(ws, spec: Spec) -> list[int]:  # type: ignore[no-untyped-def]
    """Draw ``spec`` on worksheet ``ws``; return the Excel row of each indicator, in order."""
    words = {**WORDS, **spec.words}

    def put(r: int, c: int, v: object) -> None:
        if isinstance(v, str) and spec.nfd:
            v = unicodedata.normalize("NFD", v)
        ws.cell(r, spec.left + c, v)

    def merge(r0: int, c0: int, r1: int, c1: int) -> None:
        if (r0, c0) != (r1, c1):
            ws.merge_cells(start_row=r0, start_column=spec.left + c0, end_row=r1,
                           end_column=spec.left + c1)

    def styled(word: str | None) -> str | None:
        if word is None:
            return None
        if spec.assess_style == "upper":
            return f" {word.upper()} "
        if spec.assess_style == "spaced":
            return word.lower().replace(" ", "   ") + "  "
        return word

    r = spec.top
    for title in spec.titles:
        put(r, 0, title)
        r += 1
    if spec.titles:
        r += 1
    wide = len(spec.units) > 1
    fixed = ["number"] + (["criterion"] if spec.criteria == "merged" else []) + ["name"] + \
        (["value_unit"] if spec.unit_column else []) + ["target"]
    marks = spec.assessment == "marks"
    per_unit = ["result", "met", "not_met"] if marks else ["result", "assessment"]
    h = spec.header
    top = r
    for c, key in enumerate(fixed):
        put(top, c, words[key])
        merge(top, c, top + h - 1, c)
    c = len(fixed)
    for label, _ in spec.units:
        first = c
        sub = top  # row where the unit's own column words go
        if h >= 2:
            if wide:
                put(top, c, label)
            elif not marks or h == 3:
                put(top, c, words["group"])
            if wide or not marks or h == 3:
                merge(top, c, top, c + len(per_unit) - 1)
                sub = top + 1
        if marks:
            put(sub, c, words["result"])
            merge(sub, c, top + h - 1, c)
            put(sub, c + 1, words["assessment"])
            merge(sub, c + 1, sub, c + 2)
            put(top + h - 1, c + 1, words["met"])
            put(top + h - 1, c + 2, words["not_met"])
            if sub == top + h - 1:
                raise ValueError("marks need at least two header rows")
        else:
            put(sub, c, words["result"])
            put(sub, c + 1, words["assessment"])
            merge(sub, c, top + h - 1, c)
            merge(sub, c + 1, top + h - 1, c + 1)
        c = first + len(per_unit)
    note_col = c if spec.note else None
    if note_col is not None:
        put(top, note_col, words["note"])
        merge(top, note_col, top + h - 1, note_col)
    r = top + h
    if spec.column_numbers:
        for k in range((note_col if note_col is not None else c - 1) + 1):
            put(r, k, f"({k + 1})")
        r += 1
    last_col = note_col if note_col is not None else c - 1
    if spec.merge_titles:
        for k in range(len(spec.titles)):
            merge(spec.top + k, 0, spec.top + k, last_col)
    rows_out: list[int] = []
    crits = list(dict.fromkeys(row.criterion_no for row in spec.rows))
    for k, crit in enumerate(crits):
        part = [(i, row) for i, row in enumerate(spec.rows) if row.criterion_no == crit]
        name = part[0][1].criterion_name
        first_row = r
        if spec.criteria == "arabic":
            put(r, 0, int(crit) if spec.numbers == "float" else crit)
            put(r, 1, name)
            if spec.merge_criterion_rows:
                merge(r, 1, r, last_col)
            r += 1
        elif spec.criteria == "roman":
            put(r, 0, ROMAN[k])
            put(r, 1, name.upper())
            r += 1
        elif spec.criteria == "named":
            put(r, 1, f"Tiêu chí {crit}: {name}")
            r += 1
        for j, (i, row) in enumerate(part, start=1):
            number: object = {"dotted": row.indicator_no, "float": float(row.indicator_no),
                              "restart": str(j), "prefix": None, "none": None}[spec.numbers]
            text = f"{row.indicator_no}. {row.indicator_name}" if spec.numbers == "prefix" \
                else row.indicator_name
            if number is not None:
                put(r, 0, number)
            c = 1
            if spec.criteria == "merged":
                if j == 1:
                    put(r, c, f"{crit}. {name}")
                c += 1
            put(r, c, text)
            if spec.unit_column:
                c += 1
                put(r, c, "%" if "%" in row.target else None)
            put(r, c + 1, row.target)
            c += 2
            for _, cells in spec.units:
                cell = cells[i]
                put(r, c, cell.value)
                if marks:
                    if cell.assessment is not None:
                        put(r, c + (1 if cell.self_assessment == "met" else 2), "x")
                    c += 3
                else:
                    put(r, c + 1, styled(cell.assessment))
                    c += 2
            rows_out.append(r)
            r += 1
        if spec.criteria == "merged":
            merge(first_row, 1, r - 1, 1)
    r += 1
    for line in spec.footer:
        put(r, 0, line)
        r += 1
    ws.column_dimensions[get_column_letter(spec.left + 1)].width = 40
    return rows_out


def save(path: Path, specs: list[Spec]) -> dict[str, list[int]]:
    """Write one workbook with a sheet per spec; return each sheet's indicator rows."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    out = {}
    for spec in specs:
        ws = wb.create_sheet(spec.sheet)
        out[spec.sheet] = draw(ws, spec)
    wb.save(path)
    return out


def expected_rows(spec: Spec, rows_out: list[int], *, units: list[str], level: str,
                  year: int | None, criteria_set: str | None) -> list[dict[str, object]]:
    """The tidy rows the loader should produce for ``spec`` (key columns only)."""
    out = []
    for (_, cells), unit in zip(spec.units, units, strict=True):
        for row, cell, excel_row in zip(spec.rows, cells, rows_out, strict=True):
            out.append({
                "unit": unit, "level": level, "year": year, "criteria_set": criteria_set,
                "criterion_no": row.criterion_no, "indicator_no": row.indicator_no,
                "value": cell.expected, "self_assessment": cell.self_assessment,
                "source_sheet": spec.sheet, "source_row": excel_row,
            })
    return out


def write_hamlet_without_commune(path: Path) -> Path:
    """A smart hamlet's one-indicator table titled "XÓM NA MỌN" alone: no commune named."""
    wb = openpyxl.Workbook()
    wb.active.title = "Na Mọn"
    for row in [["BIỂU TỰ ĐÁNH GIÁ TIÊU CHÍ XÓM THÔNG MINH NĂM 2024"], ["XÓM NA MỌN"],
                ["TT", "Nội dung", "Chỉ tiêu", "Hiện trạng", "Tự đánh giá"],
                ["1", "Hạ tầng số", None, None, None],
                ["1.1", "Tỷ lệ hộ có Internet", "≥ 80%", "86%", "Đạt"]]:
        wb.active.append(row)
    wb.save(path)
    return path
