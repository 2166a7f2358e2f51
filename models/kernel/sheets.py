"""Excel sheets as every export writes them: a bold, frozen header row, columns as wide as their
content (within bounds, longer text wrapped), dates in Beijing time, and text that a spreadsheet
would run as a formula kept as text.

openpyxl's write-only mode streams rows (several times faster than a full workbook for thousands
of rows) but writes the column widths before the first row, so a sheet's rows are measured before
they are written: `write_table` takes them as a sequence.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from server.clock import SHANGHAI

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Column widths in Excel's units (about one Latin character; a Chinese character takes two).
NARROWEST = 6
WIDEST = 60
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")
# A cell starting with one of these is a formula to a spreadsheet (a name typed as =HYPERLINK(...)).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_DATE_TIME_WIDTH = 19  # "2026-11-30 09:30:00"


def value_of(value: Any) -> Any:
    """A value as a cell holds it: aware times in Beijing time (Excel has no time zones)."""
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).replace(tzinfo=None) if value.tzinfo else value
    return value


def display_width(value: Any) -> int:
    """How many columns the value takes on screen: East Asian wide characters count two; of a
    value over several lines, its longest line."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return _DATE_TIME_WIDTH
    lines = str(value).splitlines() or [""]
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines)


def fitted_widths(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Each column as wide as its widest cell (header included), within NARROWEST..WIDEST."""
    widths = [display_width(name) for name in header]
    for row in rows:
        for index, value in enumerate(row):
            width = display_width(value)
            if index >= len(widths):
                widths.append(width)
            elif width > widths[index]:
                widths[index] = width
    return [min(max(width + 2, NARROWEST), WIDEST) for width in widths]


class SheetWriter:
    """Rows into a write-only sheet, with the cells that need it styled."""

    def __init__(self, sheet: WriteOnlyWorksheet) -> None:
        self.sheet = sheet

    def cell(self, value: Any, *, bold: bool = False, wrap: bool = False) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=value_of(value))
        # Text that starts with "=" would be written as a formula: keep what was typed as text.
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"
        if bold:
            cell.font = _BOLD
        if wrap:
            cell.alignment = _WRAP
        return cell

    def row(self, values: Sequence[Any], *, bold: bool = False, wrapped: Collection[int] = ()) -> None:
        self.sheet.append([self.cell(v, bold=bold, wrap=n in wrapped) for n, v in enumerate(values)])

    def widths(self, widths: Sequence[float]) -> None:
        for index, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width


def defused(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, once the sheet is saved as CSV or pasted
    elsewhere, marked as text with a leading apostrophe (a list's export, not read back)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_table(workbook: Workbook, title: str, header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> None:
    """One sheet: the header bold and frozen, widths fitted to the content, a column whose text is
    wider than WIDEST wrapped, formula-like text defused."""
    rows = [[defused(value) for value in row] for row in rows]
    sheet = SheetWriter(workbook.create_sheet(title))
    sheet.sheet.freeze_panes = "A2"
    widths = fitted_widths(header, rows)
    sheet.widths(widths)
    wrapped = {index for index, width in enumerate(widths) if width >= WIDEST}
    sheet.row(header, bold=True)
    for row in rows:
        sheet.row(row, wrapped=wrapped)


def table_file(title: str, header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> bytes:
    """A workbook of one `write_table` sheet, as the bytes of an .xlsx file."""
    workbook = Workbook(write_only=True)
    write_table(workbook, title, header, rows)
    return saved(workbook)


def saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
