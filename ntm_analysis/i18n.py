"""Report and chart wording in Vietnamese (default) and English, kept in one mapping.

Every user-facing label of charts and reports goes through :func:`t` (or :func:`term` for a
machine word such as a budget level, a source or a progress status). The funding and income
words live here too; report modules may add their own keys with :func:`register` instead of
writing literals.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources

from ntm_analysis.errors import ParameterError
from ntm_analysis.text import closest

#: Languages a report can be written in; the first is the default.
LANGS: tuple[str, ...] = ("vi", "en")
DEFAULT_LANG = "vi"

_MESSAGES: dict[str, dict[str, str]] = {
    # statuses
    "status.met": {"vi": "Đạt", "en": "Met"},
    "status.not_met": {"vi": "Chưa đạt", "en": "Not met"},
    "status.unknown": {"vi": "Chưa rõ", "en": "Unknown"},
    "basis.found": {"vi": "có nguồn", "en": "found"},
    "basis.inferred": {"vi": "suy luận", "en": "inferred"},
    # chart axes and legends
    "chart.indicators_met_share": {"vi": "Tỷ lệ chỉ tiêu đạt", "en": "Share of indicators met"},
    "chart.criteria": {"vi": "Tiêu chí", "en": "Criterion"},
    "chart.unit": {"vi": "Đơn vị", "en": "Unit"},
    "chart.relative_gap": {
        "vi": "Khoảng cách tới mục tiêu (% mục tiêu)",
        "en": "Distance to target (% of target)",
    },
    "chart.bar_label": {
        "vi": "{criteria_met}/{criteria_total} TC · {indicators_met}/{indicators_total} CT",
        "en": "{criteria_met}/{criteria_total} crit. · {indicators_met}/{indicators_total} ind.",
    },
    "chart.gap_unknown": {"vi": "chưa rõ", "en": "unknown"},
    "chart.gap_no_numeric": {"vi": "chưa đạt (không có số)", "en": "not met (no number)"},
    # titles that state the finding
    "title.unit_attainment_one": {
        "vi": "{unit} đạt {criteria_met}/{criteria_total} tiêu chí, "
              "{indicators_met}/{indicators_total} chỉ tiêu",
        "en": "{unit} meets {criteria_met}/{criteria_total} criteria, "
              "{indicators_met}/{indicators_total} indicators",
    },
    "title.unit_attainment_many": {
        "vi": "{complete}/{units} đơn vị đạt đủ tiêu chí; cao nhất: {best} "
              "({indicators_met}/{indicators_total} chỉ tiêu)",
        "en": "{complete}/{units} units meet every criterion; best: {best} "
              "({indicators_met}/{indicators_total} indicators)",
    },
    "title.heatmap": {
        "vi": "{complete}/{units} đơn vị đạt đủ {criteria_total} tiêu chí; "
              "chưa đạt nhiều nhất: {worst}",
        "en": "{complete}/{units} units meet all {criteria_total} criteria; "
              "most often unmet: {worst}",
    },
    "severity.error": {"vi": "Lỗi", "en": "Error"},
    "severity.warning": {"vi": "Cảnh báo", "en": "Warning"},
    "severity.info": {"vi": "Ghi nhận", "en": "Note"},
    "title.heatmap_empty": {
        "vi": "Không có đơn vị nào được rà soát theo bộ tiêu chí này",
        "en": "No unit was reviewed against this criteria set",
    },
    "title.heatmap_all_met": {
        "vi": "Cả {units} đơn vị đạt đủ {criteria_total} tiêu chí",
        "en": "All {units} units meet all {criteria_total} criteria",
    },
    "title.gaps": {
        "vi": "{unit}: {n} chỉ tiêu chưa đạt; xa mục tiêu nhất: {worst}",
        "en": "{unit}: {n} indicators not met; furthest from target: {worst}",
    },
    "title.gaps_none": {
        "vi": "{unit}: không còn chỉ tiêu chưa đạt",
        "en": "{unit}: no unmet indicator",
    },
    # readiness (Decision 319/QĐ-TTg)
    "cond.advanced_ntm": {
        "vi": "Đạt chuẩn xã NTM nâng cao",
        "en": "Recognised as an advanced NTM commune",
    },
    "cond.income": {
        "vi": "Thu nhập bình quân đầu người cao hơn ít nhất 10% mức xã NTM nâng cao cùng năm",
        "en": "Per-capita income at least 10% above the advanced-NTM level of the same year",
    },
    "cond.smart_hamlet": {
        "vi": "Có ít nhất một xóm thông minh",
        "en": "At least one smart hamlet",
    },
    "cond.outstanding": {
        "vi": "Đạt tiêu chí lĩnh vực nổi trội",
        "en": "Outstanding field criterion met",
    },
    "ev.advanced_yes": {
        "vi": "Đã được công nhận đạt chuẩn NTM nâng cao{detail}",
        "en": "Recognised as advanced NTM{detail}",
    },
    "ev.advanced_no": {
        "vi": "Chưa được công nhận đạt chuẩn NTM nâng cao{detail}",
        "en": "Not recognised as advanced NTM{detail}",
    },
    "ev.advanced_unknown": {
        "vi": "Chưa có thông tin công nhận NTM nâng cao (tham số advanced_ntm_recognised)",
        "en": "No information on advanced-NTM recognition (parameter advanced_ntm_recognised)",
    },
    "ev.income_reading": {
        "vi": "cách đọc {scenario}: mức NTM nâng cao {threshold} → cần ≥ {required} triệu "
              "đồng/người/năm",
        "en": "reading {scenario}: advanced-NTM level {threshold} → needs ≥ {required} "
              "million VND/person/year",
    },
    "ev.income_value": {
        "vi": "Thu nhập {income} triệu đồng/người/năm; {readings}. Ngưỡng chưa được kiểm "
              "chứng với văn bản chính thức",
        "en": "Income {income} million VND/person/year; {readings}. Thresholds not verified "
              "against the official text",
    },
    "ev.income_source": {"vi": "Nguồn số thu nhập: {source}. ", "en": "Income from {source}. "},
    "ev.income_missing": {
        "vi": "Chưa có số liệu thu nhập; {readings}. Ngưỡng chưa được kiểm chứng với văn bản "
              "chính thức",
        "en": "No income figure; {readings}. Thresholds not verified against the official text",
    },
    "ev.income_no_threshold": {
        "vi": "Không có ngưỡng thu nhập xã NTM nâng cao cho năm {year}",
        "en": "No advanced-NTM income threshold for {year}",
    },
    "ev.smart_met": {
        "vi": "{units} đạt đủ bộ tiêu chí xóm thông minh",
        "en": "{units} meet(s) the smart-hamlet set",
    },
    "ev.smart_not_met": {
        "vi": "Chưa xóm nào đạt bộ tiêu chí xóm thông minh: {details}",
        "en": "No hamlet meets the smart-hamlet set: {details}",
    },
    "ev.smart_unknown": {
        "vi": "Chưa đủ số liệu để kết luận: {details}",
        "en": "Not enough data to decide: {details}",
    },
    "ev.smart_none": {
        "vi": "Không có số liệu rà soát xóm thông minh",
        "en": "No smart-hamlet assessment in the data",
    },
    "ev.unit_counts": {
        "vi": "{unit} {criteria_met}/{criteria_total} tiêu chí, "
              "{indicators_met}/{indicators_total} chỉ tiêu",
        "en": "{unit} {criteria_met}/{criteria_total} criteria, "
              "{indicators_met}/{indicators_total} indicators",
    },
    "ev.outstanding": {
        "vi": "Tiêu chí {criterion_no} \u201c{criterion_name}\u201d: {indicators_met}/"
              "{indicators_total} chỉ tiêu đạt, {indicators_unknown} chưa rõ",
        "en": "Criterion {criterion_no} \u201c{criterion_name}\u201d: {indicators_met}/"
              "{indicators_total} indicators met, {indicators_unknown} unknown",
    },
    "ev.outstanding_missing": {
        "vi": "Không tìm thấy tiêu chí lĩnh vực nổi trội của {commune} trong số liệu",
        "en": "The outstanding-field criterion of {commune} is not in the data",
    },
    "verdict.ready": {
        "vi": "{commune} đáp ứng cả {n} điều kiện công nhận xã NTM kiểu mẫu năm {year} "
              "(QĐ 319/QĐ-TTg).",
        "en": "{commune} meets all {n} conditions for recognition as a model NTM commune in "
              "{year} (Decision 319/QĐ-TTg).",
    },
    "verdict.blocked": {
        "vi": "{commune} chưa đủ điều kiện công nhận xã NTM kiểu mẫu năm {year}. "
              "Vướng ở: {blocking}.",
        "en": "{commune} is not yet ready for recognition as a model NTM commune in {year}. "
              "Blocked by: {blocking}.",
    },
    "verdict.undecided": {
        "vi": "Chưa thể kết luận {commune} đủ điều kiện công nhận xã NTM kiểu mẫu năm {year}: "
              "còn thiếu số liệu về {unknown}.",
        "en": "Cannot yet tell whether {commune} is ready for recognition as a model NTM "
              "commune in {year}: data missing on {unknown}.",
    },
    "verdict.also_unknown": {
        "vi": " Chưa rõ: {unknown}.",
        "en": " Still unknown: {unknown}.",
    },
    "verdict.inferred": {
        "vi": " Lưu ý: các điều kiện {conditions} dựa trên số liệu suy luận, chưa phải "
              "văn bản chính thức.",
        "en": " Note: conditions {conditions} rest on inferred figures, not the official text.",
    },
    # provenance captions
    "prov.sources": {"vi": "Nguồn: {sources}", "en": "Source: {sources}"},
    "prov.sheet": {"vi": "{file} (trang '{sheet}')", "en": "{file} (sheet '{sheet}')"},
    "prov.criteria": {
        "vi": "tiêu chí có nguồn: {found}; suy luận: {inferred}",
        "en": "criteria found: {found}; inferred: {inferred}",
    },
    "prov.none": {"vi": "không có", "en": "none"},
    # data quality
    "quality.none": {
        "vi": "Không phát hiện lỗi số liệu hay chênh lệch với kết quả tự đánh giá "
              "({files} tệp, {rows} dòng chỉ tiêu).",
        "en": "No data error or self-assessment discrepancy found ({files} files, "
              "{rows} indicator rows).",
    },
    "quality.some": {
        "vi": "⚠ Số liệu có {errors} lỗi, {warnings} cảnh báo và {discrepancies} chỉ tiêu mà "
              "kết quả tính khác kết quả tự đánh giá ({files} tệp, {rows} dòng chỉ tiêu). "
              "Xem các bảng dưới đây trước khi đọc kết quả.",
        "en": "⚠ The data has {errors} errors, {warnings} warnings and {discrepancies} "
              "indicators whose computed status differs from the self-assessment ({files} "
              "files, {rows} indicator rows). Read the tables below before the results.",
    },
    # table headers
    "col.unit": {"vi": "Đơn vị", "en": "Unit"},
    "col.criteria_set": {"vi": "Bộ tiêu chí", "en": "Criteria set"},
    "col.criterion_no": {"vi": "TC", "en": "Crit."},
    "col.criterion_name": {"vi": "Tiêu chí", "en": "Criterion"},
    "col.indicator_no": {"vi": "Số", "en": "No."},
    "col.indicator_name": {"vi": "Chỉ tiêu", "en": "Indicator"},
    "col.target_text": {"vi": "Mục tiêu", "en": "Target"},
    "col.value_text": {"vi": "Hiện trạng", "en": "Current value"},
    "col.value": {"vi": "Giá trị", "en": "Value"},
    "col.gap": {"vi": "Còn thiếu", "en": "Distance to target"},
    "col.relative_gap": {"vi": "Còn thiếu (tỷ lệ mục tiêu)", "en": "Distance (share of target)"},
    "col.rank": {"vi": "Thứ tự", "en": "Rank"},
    "col.status": {"vi": "Kết quả", "en": "Status"},
    "col.computed_status": {"vi": "Kết quả tính", "en": "Computed status"},
    "col.self_assessment": {"vi": "Tự đánh giá", "en": "Self-assessment"},
    "col.catalogue_status": {"vi": "Nguồn tiêu chí", "en": "Criterion basis"},
    "col.met": {"vi": "Kết quả", "en": "Status"},
    "col.indicators_met": {"vi": "CT đạt", "en": "Ind. met"},
    "col.indicators_total": {"vi": "Tổng CT", "en": "Ind. total"},
    "col.indicators_unknown": {"vi": "CT chưa rõ", "en": "Ind. unknown"},
    "col.criteria_met": {"vi": "TC đạt", "en": "Crit. met"},
    "col.criteria_total": {"vi": "Tổng TC", "en": "Crit. total"},
    "col.source_file": {"vi": "Tệp", "en": "File"},
    "col.source_sheet": {"vi": "Trang", "en": "Sheet"},
    "col.source_row": {"vi": "Dòng", "en": "Row"},
    "col.column": {"vi": "Cột", "en": "Column"},
    "col.problem": {"vi": "Vấn đề", "en": "Problem"},
    "col.severity": {"vi": "Mức độ", "en": "Severity"},
    "col.others_met": {"vi": "Số xóm khác đạt", "en": "Other hamlets meeting it"},
    "col.condition_no": {"vi": "ĐK", "en": "Cond."},
    "col.condition": {"vi": "Điều kiện (QĐ 319/QĐ-TTg)", "en": "Condition (QĐ 319/QĐ-TTg)"},
    "col.evidence": {"vi": "Căn cứ", "en": "Evidence"},
    "col.basis": {"vi": "Cơ sở", "en": "Basis"},
    # notebook headings and narrative
    "nb.title_readiness": {
        "vi": "# {commune}: sẵn sàng công nhận xã NTM kiểu mẫu năm {year}?",
        "en": "# {commune}: ready for model NTM commune recognition in {year}?",
    },
    "nb.title_hamlet": {
        "vi": "# {hamlet} ({commune}), năm {year}: các chỉ tiêu còn thiếu",
        "en": "# {hamlet} ({commune}), {year}: the indicators still to meet",
    },
    "nb.h_quality": {"vi": "## Chất lượng số liệu", "en": "## Data quality"},
    "nb.h_issues": {"vi": "### Vấn đề khi đọc số liệu", "en": "### Problems found in the data"},
    "nb.h_discrepancies": {
        "vi": "### Chênh lệch giữa kết quả tính và tự đánh giá",
        "en": "### Computed status differs from the self-assessment",
    },
    "nb.h_readiness": {
        "vi": "## 1. Điều kiện công nhận xã NTM kiểu mẫu (QĐ 319/QĐ-TTg)",
        "en": "## 1. Conditions for model NTM commune recognition (QĐ 319/QĐ-TTg)",
    },
    "nb.h_commune": {
        "vi": "## 4. Bộ tiêu chí xã NTM kiểu mẫu",
        "en": "## 4. The model-commune criteria set",
    },
    "nb.h_commune_criteria": {"vi": "### Các tiêu chí", "en": "### Criteria"},
    "nb.h_commune_gaps": {
        "vi": "### Chỉ tiêu chưa đạt (xếp theo khoảng cách tới mục tiêu)",
        "en": "### Unmet indicators (furthest from target first)",
    },
    "nb.h_hamlets": {
        "vi": "## 5. Xóm NTM kiểu mẫu và xóm thông minh",
        "en": "## 5. Model hamlets and the smart hamlet",
    },
    "nb.h_hamlet_compare": {
        "vi": "### So sánh các xóm theo tiêu chí",
        "en": "### Hamlets side by side, criterion by criterion",
    },
    "nb.h_hamlet_gaps": {
        "vi": "### Chỉ tiêu còn thiếu của từng xóm",
        "en": "### Each hamlet's missing indicators",
    },
    "nb.h_hamlet_detail": {
        "vi": "## Chỉ tiêu chưa đạt, xa mục tiêu nhất trước",
        "en": "## Unmet indicators, furthest from target first",
    },
    "nb.h_hamlet_others": {
        "vi": "## So với các xóm khác",
        "en": "## Compared with the other hamlets",
    },
    "nb.h_sources": {"vi": "## Nguồn số liệu và lưu ý", "en": "## Sources and caveats"},
    "nb.caveat": {
        "vi": "Các dòng “suy luận” dựa trên bộ tiêu chí dựng lại từ văn bản liên quan, vì chưa "
              "có văn bản chính thức của tỉnh Thái Nguyên; ngưỡng thu nhập là hai cách đọc "
              "QĐ 318/QĐ-TTg chưa được kiểm chứng. Đây không phải kết quả thẩm định chính thức.",
        "en": "“Inferred” rows rest on a criteria set rebuilt from related official texts, as "
              "the Thái Nguyên text could not be obtained; the income thresholds are two "
              "unverified readings of QĐ 318/QĐ-TTg. This is not an official appraisal.",
    },
    # parameters
    # the batch index page (ntm batch): batch.<word>
    "batch.title": {"vi": "Kết quả chạy hàng loạt", "en": "Batch run results"},
    "batch.parent": {"vi": "Đơn vị cấp trên", "en": "Parent unit"},
    "batch.rank": {"vi": "Hạng", "en": "Rank"},
    "batch.unit": {"vi": "Đơn vị", "en": "Unit"},
    "batch.level": {"vi": "Cấp", "en": "Level"},
    "batch.year": {"vi": "Năm", "en": "Year"},
    "batch.criteria": {"vi": "Tiêu chí đạt", "en": "Criteria met"},
    "batch.indicators": {"vi": "Chỉ tiêu đạt", "en": "Indicators met"},
    "batch.status": {"vi": "Trạng thái", "en": "Status"},
    "batch.report": {"vi": "Báo cáo", "en": "Report"},
    "batch.open": {"vi": "Mở", "en": "Open"},
    "batch.none": {"vi": "(chưa xác định)", "en": "(none)"},
    "batch.commune": {"vi": "Xã", "en": "Commune"},
    "batch.hamlet": {"vi": "Xóm/thôn", "en": "Hamlet"},
    "batch.ok": {"vi": "xong", "en": "done"},
    "batch.failed": {"vi": "lỗi", "en": "failed"},
    "batch.skipped": {"vi": "không đổi", "en": "unchanged"},
    "batch.interrupted": {"vi": "bị gián đoạn", "en": "interrupted"},
    "batch.unread": {"vi": "Tệp không báo cáo nào đọc được",
                     "en": "Workbooks no report could read"},
    "batch.file": {"vi": "Tệp", "en": "File"},
    "batch.problem": {"vi": "Vấn đề", "en": "Problem"},
    "batch.runs": {"vi": "lượt chạy", "en": "runs"},
    "batch.generated": {"vi": "Tạo bởi ntm-analysis", "en": "Generated by ntm-analysis"},
    "param.hamlet_unknown": {
        "vi": "Không có xóm {hamlet!r} trong số liệu năm {year}{hint}; các xóm có: {known}",
        "en": "Hamlet {hamlet!r} is not in the {year} data{hint}; known hamlets: {known}",
    },
    "param.did_you_mean": {"vi": " (có phải {name!r}?)", "en": " (did you mean {name!r}?)"},
    # funding: budget levels (funding.level.<Budget level>), source columns and source groups
    # (funding.source.<column or group>), and words of the funding tables and charts
    "funding.level.commune": {"vi": "Xã NTM kiểu mẫu", "en": "Model commune"},
    "funding.level.model_hamlet": {"vi": "Xóm NTM kiểu mẫu", "en": "Model hamlets"},
    "funding.level.smart_hamlet": {"vi": "Xóm thông minh", "en": "Smart hamlet"},
    "funding.level.unspecified": {"vi": "Chưa xác định cấp", "en": "Level not given"},
    "funding.source.state": {"vi": "Ngân sách nhà nước", "en": "State budget"},
    "funding.source.non_state": {
        "vi": "Nguồn khác (dân, lồng ghép, DN)",
        "en": "Other sources (people, integrated, enterprises)",
    },
    "funding.source.unassigned": {"vi": "Chưa xác định nguồn", "en": "Source not given"},
    "funding.source.state_central": {"vi": "NS Trung ương", "en": "Central budget"},
    "funding.source.state_province": {"vi": "NS tỉnh", "en": "Province budget"},
    "funding.source.state_district": {"vi": "NS huyện", "en": "District budget"},
    "funding.source.state_commune": {"vi": "NS xã", "en": "Commune budget"},
    "funding.source.state_unsplit": {
        "vi": "NSNN (chưa chia cấp)", "en": "State budget (not split)"},
    "funding.source.people": {"vi": "Nhân dân đóng góp", "en": "People's contribution"},
    "funding.source.integrated": {"vi": "Lồng ghép", "en": "Integrated programmes"},
    "funding.source.enterprise_other": {
        "vi": "Doanh nghiệp và khác", "en": "Enterprises and other"},
    "funding.total": {"vi": "Tổng kinh phí", "en": "Total budget"},
    "funding.lines": {"vi": "{lines} dòng", "en": "{lines} lines"},
    "funding.million": {"vi": "triệu đồng", "en": "million VND"},
    "funding.funded": {"vi": "có kinh phí", "en": "funded"},
    "funding.unfunded": {"vi": "chưa có kinh phí", "en": "no funding line"},
    "funding.finding": {
        "vi": "Tổng kinh phí {total} triệu đồng: ngân sách nhà nước {state} ({share}%), nguồn "
              "khác {non_state}, chưa xác định nguồn {unassigned}; {tail}",
        "en": "Budget {total} million VND: state budget {state} ({share}%), other sources "
              "{non_state}, source not given {unassigned}; {tail}",
    },
    "funding.finding_gaps": {
        "vi": "{gaps}/{unmet} tiêu chí chưa đạt chưa có dòng kinh phí.",
        "en": "{gaps} of {unmet} unmet criteria have no funding line.",
    },
    "funding.finding_no_attainment": {
        "vi": "chưa có bảng đánh giá tiêu chí.", "en": "no attainment table given."},
    "funding.finding_gap": {
        "vi": " Theo bảng: đã bố trí {committed}, còn thiếu {shortfall} triệu đồng.",
        "en": " As the table gives it: {committed} allocated, {shortfall} million VND still "
              "missing.",
    },
    "funding.committed": {"vi": "Đã bố trí", "en": "Allocated"},
    "funding.shortfall": {"vi": "Còn thiếu", "en": "Still missing"},
    "chart.funding_split": {
        "vi": "Kinh phí theo cấp và nguồn (triệu đồng)",
        "en": "Budget by level and source (million VND)",
    },
    "chart.funding_criteria": {
        "vi": "Kinh phí cho các tiêu chí chưa đạt (triệu đồng)",
        "en": "Funding for unmet criteria (million VND)",
    },
    "chart.funding_criteria_none": {
        "vi": "Không có tiêu chí chưa đạt", "en": "No unmet criterion"},
    # income: Open SDG progress statuses (income.status.<status>), series kinds
    # (income.kind.<kind>) and the words of the income tables and chart
    # the readings of the income thresholds (``data/income_thresholds.csv``, column scenario)
    "income.scenario.A_fixed_table": {"vi": "A (bảng mức cố định theo vùng)",
                                      "en": "A (fixed regional table)"},
    "income.scenario.B_ratio_1.1_of_NTM": {"vi": "B (1,1 × mức xã NTM)",
                                           "en": "B (1.1 × the NTM commune level)"},
    "income.scenario.A_and_B": {"vi": "A và B", "en": "A and B"},
    "income.status.target_achieved": {"vi": "Đã đạt mục tiêu", "en": "Target achieved"},
    "income.status.substantial_progress": {
        "vi": "Tiến bộ rõ rệt", "en": "Substantial progress"},
    "income.status.moderate_progress": {"vi": "Tiến bộ vừa phải", "en": "Moderate progress"},
    "income.status.limited_progress": {"vi": "Tiến bộ hạn chế", "en": "Limited progress"},
    "income.status.deterioration": {"vi": "Đi xuống", "en": "Deterioration"},
    "income.status.not_available": {"vi": "Không đủ số liệu", "en": "Not enough data"},
    "income.kind.observed": {"vi": "Thực hiện", "en": "Observed"},
    "income.kind.target": {"vi": "Mục tiêu", "en": "Target"},
    "income.projection": {"vi": "Dự báo theo xu hướng", "en": "Projection on observed trend"},
    "income.axis_income": {
        "vi": "Thu nhập bình quân (triệu đồng/người/năm)",
        "en": "Income per person (million VND/year)",
    },
    "income.axis_year": {"vi": "Năm", "en": "Year"},
    "income.passes": {"vi": "đạt", "en": "passes"},
    "income.fails": {"vi": "chưa đạt", "en": "fails"},
    "chart.income": {"vi": "Thu nhập bình quân đầu người", "en": "Income per person"},
    "income.cli_target": {
        "vi": " → {target} ({target_year}): cần tăng {required}/năm, thực tế {observed}/năm",
        "en": " → {target} ({target_year}): needs {required}/yr, observed {observed}/yr",
    },
    "income.cli_target_no_trend": {
        "vi": " → {target} ({target_year}): cần tăng {required}/năm, chưa đủ số liệu các năm "
              "để tính mức tăng thực tế",
        "en": " → {target} ({target_year}): needs {required}/yr, too few years observed for "
              "a trend",
    },
    "income.finding_none": {
        "vi": "Không có số liệu thu nhập của xã.", "en": "No commune income series."},
    "income.finding": {
        "vi": "{unit}: thu nhập {latest} triệu đồng/người năm {latest_year}",
        "en": "{unit}: {latest} million VND per person in {latest_year}",
    },
    "income.finding_target": {
        "vi": "; để đạt {target} năm {target_year} cần tăng {required}/năm, so với "
              "{observed}/năm đã đạt ({status})",
        "en": "; reaching {target} in {target_year} needs {required} a year against "
              "{observed} observed ({status})",
    },
    "income.finding_thresholds": {
        "vi": "; ngưỡng xã NTM kiểu mẫu năm {year} (hai cách đọc chưa kiểm chứng: {readings})",
        "en": "; model-commune threshold {year} (unverified readings: {readings})",
    },
}


def check_lang(lang: str) -> str:
    """Return ``lang`` when it is a supported language, else raise ``ParameterError``.

    Examples
    --------
    >>> check_lang("en")
    'en'
    """
    if lang not in LANGS:
        raise ParameterError(f"lang must be one of {', '.join(LANGS)}; got {lang!r}")
    return lang


def did_you_mean(name: str, known: Iterable[str], lang: str = "en") -> str:
    """``" (did you mean 'Kim Phượng'?)"``: the nearest of ``known`` to a name not found
    (:func:`ntm_analysis.text.closest`), as an unknown-unit message adds it; "" when none is
    near.

    >>> did_you_mean("kim phuog", ["Kim Phượng", "Bảo Cường"], "vi")
    " (có phải 'Kim Phượng'?)"
    >>> did_you_mean("Hà Nội", ["Kim Phượng"])
    ''
    """
    like = closest(name, known)
    return t("param.did_you_mean", lang, name=like) if like else ""


def t(key: str, lang: str = DEFAULT_LANG, /, **values: object) -> str:
    """Return the text for ``key`` in ``lang``, formatted with ``values``.

    Examples
    --------
    >>> t("status.not_met")
    'Chưa đạt'
    >>> t("title.gaps_none", "en", unit="Xóm Ao Sen")
    'Xóm Ao Sen: no unmet indicator'
    """
    check_lang(lang)
    try:
        entry = _MESSAGES[key]
    except KeyError:
        raise KeyError(f"no text for key {key!r}; register it in ntm_analysis.i18n") from None
    text = entry.get(lang) or entry[DEFAULT_LANG]
    return text.format(**values) if values else text


def term(namespace: str, word: object, lang: str = DEFAULT_LANG, /) -> str:
    """Return the label of a machine word (a budget level, a source, a progress status).

    The text is the one of key ``"<namespace>.<word>"``; a word with no such key (a value the
    suite does not know) is returned as it is, so that a table never loses a row's value.

    Examples
    --------
    >>> term("funding.level", "smart_hamlet"), term("income.status", "deterioration", "en")
    ('Xóm thông minh', 'Deterioration')
    >>> term("funding.level", "regional")
    'regional'
    """
    check_lang(lang)
    key = f"{namespace}.{word}"
    return t(key, lang) if key in _MESSAGES else str(word)


def register(messages: Mapping[str, Mapping[str, str]], *, replace: bool = False) -> None:
    """Add keys (``{"key": {"vi": ..., "en": ...}}``); an existing key needs ``replace=True``.

    Every entry needs the default language ("vi").
    """
    for key, texts in messages.items():
        if key in _MESSAGES and not replace and dict(texts) != _MESSAGES[key]:
            raise ValueError(f"text key {key!r} already exists; pass replace=True to change it")
        if DEFAULT_LANG not in texts:
            raise ValueError(f"text key {key!r} has no {DEFAULT_LANG!r} text")
        _MESSAGES[key] = dict(texts)


@lru_cache(maxsize=1)
def _issue_texts() -> dict[str, dict[str, str]]:
    with resources.files("ntm_analysis").joinpath("data", "issue_codes.csv").open(
        "r", encoding="utf-8"
    ) as fh:
        return {row["code"]: {"vi": row["vi"], "en": row["en"]} for row in csv.DictReader(fh)}


def issue_label(code: object, lang: str = DEFAULT_LANG) -> str | None:
    """Return a short description of an issue code in ``lang`` (``None`` for unknown codes).

    The descriptions live in ``data/issue_codes.csv``, so that Vietnamese reports explain the
    loader's (English) messages.

    >>> issue_label("footer_row")
    'Dòng ghi chú hoặc chữ ký dưới bảng (không phải số liệu)'
    >>> issue_label("no_such_code") is None
    True
    """
    check_lang(lang)
    entry = _issue_texts().get(str(code)) if isinstance(code, str) else None
    return entry[lang] if entry else None


def known_keys() -> list[str]:
    """Return every registered key, sorted."""
    return sorted(_MESSAGES)


def status_label(status: object, lang: str = DEFAULT_LANG) -> str:
    """Return the label of a status word ("met", "not_met", "unknown"); missing is unknown.

    >>> status_label("met", "en")
    'Met'
    """
    word = status if isinstance(status, str) and f"status.{status}" in _MESSAGES else "unknown"
    return t(f"status.{word}", lang)
