"""Write the sample budget and income workbooks of the Kim Phượng case (report 46/BC-UBND).

Figures taken from the report: 4,122 million VND in all, of which state budget 3,432 (model
commune) + 320 (model hamlets) + 40 (smart hamlet); the remaining 330 million has no source in
the report. Income: 54.03 million VND per person in 2023, target 70 million in 2024. Everything
else (the split into line items, hamlets and criteria, earlier years, hamlet incomes) is
illustrative, and each workbook says so in a visible note row. The writers take the commune to
name in the titles (default Kim Phượng), so that tests can put two communes' workbooks in one
folder; the figures stay those of Kim Phượng.
"""

from __future__ import annotations

import os
from pathlib import Path

BUDGET_FILE = "kim_phuong_2024_kinh_phi.xlsx"
INCOME_FILE = "kim_phuong_2024_thu_nhap.xlsx"

BUDGET_NOTE = (
    "Ghi chú: Tổng 4.122 triệu đồng và ngân sách nhà nước 3.432 (xã) / 320 (xóm kiểu mẫu) / 40 "
    "(xóm thông minh) triệu đồng lấy từ Báo cáo 46/BC-UBND ngày 08/4/2024; 330 triệu đồng còn "
    "lại báo cáo không nêu nguồn. Cách chia theo hạng mục, xóm, tiêu chí và trạng thái là MINH "
    "HỌA (illustrative), không phải số liệu chính thức."
)
INCOME_NOTE = (
    "Ghi chú: Thu nhập năm 2023 của xã (54,03) và mục tiêu 70 triệu đồng/người/năm năm 2024 "
    "lấy từ Báo cáo 46/BC-UBND; số liệu các năm 2019-2022 và số liệu của các xóm là MINH HỌA "
    "(illustrative), không phải số liệu chính thức."
)

# (item, content, hamlet, criterion, total, state, status); group rows have item I, II, ...
_BUDGET_ROWS: list[tuple[str, str, str, str, object, object, str]] = [
    ("I", "Xã NTM kiểu mẫu", "", "", "3.432", "3.432", ""),
    ("1", "Trường Mầm non: sửa chữa các phòng chức năng, nhà bếp ăn tại trường trung tâm", "",
     "TC 6 - Giáo dục", 850, 850, "Kế hoạch"),
    ("2", "Trường Tiểu học: sửa chữa nhà 2 tầng 6 phòng học, lát gạch sân trường", "", "6.1",
     "1.250", "1.250", "Kế hoạch"),
    ("3", "Trường THCS: nâng cấp nhà để xe, cải tạo khuôn viên nhà trường", "",
     "TC 6 - Giáo dục", 420, 420, "Kế hoạch"),
    ("4", "Kiên cố hóa hệ thống kênh mương", "", "", 500, 500, "Kế hoạch"),
    ("5", "Nâng cấp, sửa chữa trụ sở công an xã", "", "Tiêu chí 4", 262, 262, "Kế hoạch"),
    ("6", "Hoa, cây xanh trên các tuyến đường GTNT; thùng phân loại rác tại hộ gia đình", "",
     "Tiêu chí 3", 150, 150, "Đề nghị"),
    ("II", "Xóm NTM kiểu mẫu", "", "", 320, 320, ""),
    ("1", "Xóm Bản Lác", "Bản Lác", "", 110, 110, ""),
    ("1.1", "Sơ đồ và bảng chỉ dẫn cơ sở hạ tầng xóm", "Bản Lác", "Tiêu chí 1", 20, 20, "Đề nghị"),
    ("1.2", "Bê tông hóa đường ngõ xóm", "Bản Lác", "Tiêu chí 2", 90, 90, "Kế hoạch"),
    ("2", "Xóm Cạm Phước", "Cạm Phước", "", 110, 110, ""),
    ("2.1", "Sơ đồ và bảng chỉ dẫn cơ sở hạ tầng xóm", "Cạm Phước", "Tiêu chí 1", 20, 20,
     "Đề nghị"),
    ("2.2", "Tủ thuốc y tế cho các hộ gia đình", "Cạm Phước", "Tiêu chí 5", 90, 90, "Đề nghị"),
    ("3", "Xóm Ao Sen", "Ao Sen", "", 100, 100, ""),
    ("3.1", "Sơ đồ và bảng chỉ dẫn cơ sở hạ tầng xóm", "Ao Sen", "Tiêu chí 1", 20, 20, "Đề nghị"),
    ("3.2", "Trang thiết bị nhà văn hóa xóm", "Ao Sen", "Tiêu chí 3", 80, 80, "Kế hoạch"),
    ("III", "Xóm thông minh", "", "", 40, 40, ""),
    ("1", "Mô hình ứng dụng CNTT, chuyển đổi số trong phát triển kinh tế", "Phai Đá",
     "Tiêu chí 3", 25, 25, "Kế hoạch"),
    ("2", "Tổ công nghệ số cộng đồng: tập huấn kỹ năng số cho người dân", "Phai Đá", "Tiêu chí 2",
     15, 15, "Kế hoạch"),
    ("IV", "Kinh phí chưa xác định nguồn", "", "", 330, None, ""),
    ("1", "Phần còn lại của tổng kinh phí 4.122 triệu đồng (báo cáo không nêu nguồn)", "", "",
     330, None, "Kế hoạch"),
]

# unit, 2019..2023 (2023 commune value from the report), target 2024
_INCOME_ROWS: list[tuple[str, list[object], object]] = [
    ("Xã Kim Phượng", ["38,50", "41,20", "44,60", "49,10", "54,03"], 70),
    # hamlet 2023 values agree with indicator 10.1 of the model-hamlet appendix (sample.py)
    ("Xóm Bản Lác", ["41,80", "45,10", "49,30", "54,60", "60,50"], 70),
    ("Xóm Cạm Phước", ["39,90", "42,70", "46,20", "50,80", "56,50"], 70),
    ("Xóm Ao Sen", ["40,60", "44,00", "48,10", "53,70", "59,50"], 70),
    ("Xóm Phai Đá", ["33,00", "35,10", "37,90", "41,60", "46,20"], None),
]


COMMUNE = "Kim Phượng"


def write_budget_sample(path: str | os.PathLike[str], *, commune: str = COMMUNE) -> Path:
    """Write the sample budget appendix (total on top, two-row header) and return its path.

    The title rows name ``commune`` ("… XÃ KIM PHƯỢNG …", "… của UBND xã Kim Phượng").
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Kinh phí"
    ws["A1"] = "Phụ biểu 04"
    ws["A2"] = f"KINH PHÍ THỰC HIỆN XÂY DỰNG XÃ {commune.upper()} ĐẠT CHUẨN NTM KIỂU MẪU NĂM 2024"
    ws["A3"] = f"(Kèm theo Báo cáo số 46/BC-UBND ngày 08/4/2024 của UBND xã {commune})"
    ws["A4"] = "ĐVT: triệu đồng"
    heads = ["TT", "Nội dung", "Xóm", "Tiêu chí", "Tổng kinh phí", "Nguồn vốn", None, None, None,
             "Trạng thái", "Ghi chú"]
    subs = [None, None, None, None, None, "Ngân sách nhà nước", "Nhân dân đóng góp",
            "Lồng ghép", "Doanh nghiệp và khác", None, None]
    ws.append([])  # row 5 left empty between title and header
    ws.append(heads)  # row 6
    ws.append(subs)  # row 7
    ws.merge_cells("F6:I6")
    for col in "ABCDEJK":
        ws.merge_cells(f"{col}6:{col}7")
    ws.append([f"({i})" for i in range(1, 12)])  # row 8
    ws.append([None, "Tổng cộng", None, None, "4.122", "3.792", None, None, None, None, None])
    for item, content, hamlet, crit, total, state, status in _BUDGET_ROWS:
        ws.append([item, content, hamlet or None, crit or None, total, state, None, None, None,
                   status or None, None])
    ws.append([])
    ws.append([BUDGET_NOTE])
    for cell in ws[6] + ws[7]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws.column_dimensions["B"].width = 60
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def write_income_sample(path: str | os.PathLike[str], *, commune: str = COMMUNE) -> Path:
    """Write the sample income table (wide: "Năm 2019 … Năm 2023 | Mục tiêu năm 2024").

    The title and the commune row name ``commune``; the hamlet rows follow it.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Thu nhập"
    ws["A1"] = "Phụ biểu 05"
    ws["A2"] = (f"THU NHẬP BÌNH QUÂN ĐẦU NGƯỜI XÃ {commune.upper()} VÀ CÁC XÓM "
                "(triệu đồng/người/năm)")
    ws.append([])
    ws.append(["TT", "Đơn vị", "Năm 2019", "Năm 2020", "Năm 2021", "Năm 2022", "Năm 2023",
               "Mục tiêu năm 2024", "Ghi chú"])
    for i, (unit, values, target) in enumerate(_INCOME_ROWS, start=1):
        note = "2023 và mục tiêu: BC 46/BC-UBND; 2019-2022 minh họa" if i == 1 else "minh họa"
        ws.append([i, f"Xã {commune}" if i == 1 else unit, *values, target, note])
    ws.append([])
    ws.append([INCOME_NOTE])
    for cell in ws[4]:
        cell.font = Font(bold=True)
    ws.column_dimensions["B"].width = 20
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def write_money_samples(folder: str | os.PathLike[str]) -> list[Path]:
    """Write both sample workbooks into ``folder`` and return their paths."""
    folder = Path(folder)
    return [write_budget_sample(folder / BUDGET_FILE), write_income_sample(folder / INCOME_FILE)]


if __name__ == "__main__":  # pragma: no cover
    import sys

    for written in write_money_samples(sys.argv[1] if len(sys.argv) > 1 else "data/raw"):
        print(written)
