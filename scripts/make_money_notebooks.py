"""Write notebooks/30_funding.ipynb and notebooks/40_income_trends.ipynb (no outputs).

Run once after editing the cell texts below; the notebooks are committed without outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def code(text: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = tags
    return cell


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


FUNDING = [
    md("""
# Kinh phí thực hiện: kế hoạch đã đủ nguồn chưa? · Funding: is the plan funded?

Chia tổng kinh phí theo cấp (xã, xóm kiểu mẫu, xóm thông minh) và theo nguồn (ngân sách nhà
nước, nguồn khác, chưa xác định nguồn); đối chiếu kinh phí với các tiêu chí chưa đạt.
The budget split by level and source, and money against unmet criteria (million VND).
"""),
    code("""
raw_dir: str = "data/raw"  # folder of workbooks, relative to the project root
year: int = 2024  # plan year; lines of other years are left out
lang: str = "vi"  # report language: "vi" or "en"
out_dir: str = ""  # where figures/tables go; empty: do not save
attainment_path: str = ""  # attainment table (Parquet/CSV from `ntm ingest`); empty: skip criteria
commune: str = ""  # commune whose tables to use, as their titles name it; empty: the one named
""", ["parameters"]),
    code("""
from ntm_analysis import budget, charts_money, funding, outputs

files = funding.check_parameters(raw_dir=raw_dir, year=year, lang=lang, out_dir=out_dir,
                                 commune=commune)
"""),
    code("""
import matplotlib.pyplot as plt
from IPython.display import Markdown

result = budget.load_budget(files, commune=commune)
lines = funding.lines_for_year(result.lines, year=year)
attainment = budget.read_attainment(attainment_path)
section = funding.readiness_section(lines, attainment, lang=lang)
Markdown(section.finding)
"""),
    md("""
## Vấn đề trong bảng kinh phí · Issues found in the budget tables

Tổng phụ không khớp với tổng các dòng được ghi thành lỗi, không tự sửa.
A subtotal that does not equal its lines is reported here, never silently chosen.
"""),
    code("""
result.issues[result.issues["severity"] != "info"]
"""),
    md("""
## Theo cấp và theo nguồn · By level and by source
"""),
    code("""
section.by_level
"""),
    code("""
section.by_source
"""),
    code("""
fig_split, ax_split = plt.subplots(figsize=(8, 4.5))
charts_money.plot_funding_split(lines, ax=ax_split, lang=lang)
plt.show()
"""),
    md("""
## Kinh phí cho các tiêu chí chưa đạt · Funding for unmet criteria

Cần bảng đánh giá tiêu chí (`attainment_path`). Dòng kinh phí không ghi xóm được tính là
kinh phí chung cho mọi xóm cùng cấp (`funding_shared`).
Needs the attainment table; a line naming no hamlet counts as shared funding.
"""),
    code("""
section.by_criterion
"""),
    code("""
fig_crit, ax_crit = plt.subplots(figsize=(8, max(2.5, 0.35 * len(section.by_criterion) + 1)))
charts_money.plot_funding_by_criterion(section.by_criterion, ax=ax_crit, lang=lang)
plt.show()
"""),
    code("""
section.gaps
"""),
    code("""
saved = [
    outputs.save_figure(fig_split, "funding_split", out_dir=out_dir),
    outputs.save_figure(fig_crit, "funding_by_criterion", out_dir=out_dir),
    outputs.save_table(lines, "budget_lines", out_dir=out_dir),
    outputs.save_table(section.by_criterion, "funding_by_criterion", out_dir=out_dir),
] if out_dir else []
saved
"""),
]

INCOME = [
    md("""
# Thu nhập bình quân đầu người: có đạt mục tiêu không? · Income: will it get there?

Tăng trưởng đã đạt (CAGR), tăng trưởng cần thiết để đạt mục tiêu, thước đo tiến độ Open SDG và
đối chiếu ngưỡng thu nhập xã NTM kiểu mẫu (hai cách đọc, chưa kiểm chứng).
Observed and required growth, the Open SDG progress measure, and the model-commune income test
against both unverified threshold readings (million VND per person per year).
"""),
    code("""
raw_dir: str = "data/raw"  # folder of workbooks, relative to the project root
year: int = 2024  # year of the model-commune income test
lang: str = "vi"  # report language: "vi" or "en"
out_dir: str = ""  # where figures/tables go; empty: do not save
direction: str = "positive"  # which way is better: "positive" (income) or "negative"
commune: str = ""  # commune whose tables to use, as their titles name it; empty: the one named
""", ["parameters"]),
    code("""
from ntm_analysis import charts_money, funding, income, outputs

files = funding.check_parameters(raw_dir=raw_dir, year=year, lang=lang, out_dir=out_dir,
                                 commune=commune)
income.check_direction(direction)
"""),
    code("""
import matplotlib.pyplot as plt
from IPython.display import Markdown

result = income.load_income(files, commune=commune)
section = income.readiness_section(result.series, year=year, lang=lang, direction=direction)
Markdown(section.finding)
"""),
    code("""
result.issues[result.issues["severity"] != "info"]
"""),
    md("""
## Tiến độ theo thước đo Open SDG · Open SDG progress measure

`progress_value` = CAGR đã đạt / CAGR cần thiết từ năm gốc; ≥ 0,95 tiến bộ rõ rệt, 0,6–0,95 vừa
phải, 0–0,6 hạn chế, < 0 đi xuống. Mọi giá trị trung gian được giữ lại để kiểm tra.
Every intermediate value is kept for audit.
"""),
    code("""
section.progress
"""),
    md("""
## Ngưỡng thu nhập xã NTM kiểu mẫu · Model-commune income threshold

Hai cách đọc Quyết định 318/QĐ-TTg (chưa kiểm chứng, `threshold_status` = inferred): hiển thị cả
hai cho đến khi một cách được xác nhận. Both readings are shown until one is confirmed.
"""),
    code("""
section.thresholds
"""),
    code("""
fig_income, ax_income = plt.subplots(figsize=(8, 4.5))
charts_money.plot_income_trends(result.series, section.progress, ax=ax_income, lang=lang,
                                thresholds=section.thresholds)
plt.show()
"""),
    code("""
saved = [
    outputs.save_figure(fig_income, "income_trends", out_dir=out_dir),
    outputs.save_table(section.progress, "income_progress", out_dir=out_dir),
    outputs.save_table(section.thresholds, "income_thresholds", out_dir=out_dir),
] if out_dir else []
saved
"""),
]


def write(cells: list[nbformat.NotebookNode], path: Path) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    write(FUNDING, root / "notebooks" / "30_funding.ipynb")
    write(INCOME, root / "notebooks" / "40_income_trends.ipynb")
