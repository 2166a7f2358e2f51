"""Every export's sheet: a bold frozen header, widths fitted to the content, formulas defused."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from models.kernel.sheets import NARROWEST, WIDEST, display_width, fitted_widths, table_file


def test_widths_follow_the_widest_cell_counting_chinese_twice() -> None:
    assert display_width("新就业形态") == 10 and display_width("abc") == 3 and display_width(12345) == 5
    assert display_width("第一行\n很长的第二行文字") == 16
    header = ["编号", "姓名", "说明"]
    rows = [[1, "欧阳娜娜", "x" * 200], [22, "李雷", ""]]
    assert fitted_widths(header, rows) == [NARROWEST, 10, WIDEST]


def test_the_file_has_a_frozen_bold_header_and_fitted_columns() -> None:
    moment = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
    data = table_file(
        "入会申请",
        ["编号", "姓名", "提交时间", "备注"],
        [[1, "欧阳娜娜", moment, '=HYPERLINK("//x.cn","点我")'], [2, "李雷", moment, "长" * 80]],
    )
    sheet = load_workbook(io.BytesIO(data))["入会申请"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    widths = {column: sheet.column_dimensions[column].width for column in "ABCD"}
    assert widths["A"] == NARROWEST and widths["B"] == 10 and widths["C"] == 21 and widths["D"] == WIDEST
    assert sheet["D3"].alignment.wrap_text and not sheet["B2"].alignment.wrap_text
    assert sheet["C2"].value == datetime(2026, 11, 30, 9, 30)  # Beijing time
    assert sheet["D2"].value == '\'=HYPERLINK("//x.cn","点我")' and sheet["D2"].data_type == "s"
