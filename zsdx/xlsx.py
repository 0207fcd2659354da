"""Every .xlsx the platform sends (审核工作台 export, 产品管理 export, 数据看板 exports, …), written one way:
openpyxl write-only (rows are written as they come, so a generator of 50,000 rows keeps memory flat) into a
spooled temporary file (in memory up to 8 MB, then on disk) that send_file streams.

Cells: a Decimal keeps its exact value (万元 with 4 places, 元 with 2: `places`), a datetime is written as
text "YYYY-MM-DD HH:MM:SS", text is cleaned of the control characters a worksheet refuses.
"""

import datetime as dt
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal

from flask import send_file

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Sheet:
    title: object
    headers: list
    rows: object  # any iterable of lists of values
    widths: list = field(default_factory=list)  # column widths, from column A
    places: int = 4  # the decimal places of Decimal cells


def clean_text(value):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("", value)


def _cells(ws, row, places):
    from openpyxl.cell import WriteOnlyCell

    quantum = Decimal(1).scaleb(-places)
    out = []
    for value in row:
        if isinstance(value, Decimal):
            cell = WriteOnlyCell(ws, value=value.quantize(quantum))
            cell.number_format = "0." + "0" * places if places else "0"
            out.append(cell)
        elif isinstance(value, str):
            out.append(clean_text(value))
        elif isinstance(value, dt.datetime):
            out.append(value.strftime("%Y-%m-%d %H:%M:%S"))
        else:
            out.append(value)
    return out


def download(name, sheets):
    """A .xlsx attachment "<name>-YYYYmmddHHMM.xlsx" of `sheets` (Sheet, or (title, headers, rows) tuples)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    for sheet in sheets:
        sheet = sheet if isinstance(sheet, Sheet) else Sheet(*sheet)
        ws = wb.create_sheet(clean_text(str(sheet.title))[:31])
        for i, width in enumerate(sheet.widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.append([clean_text(str(h)) for h in sheet.headers])
        for row in sheet.rows:
            ws.append(_cells(ws, row, sheet.places))
    buf = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (send_file closes it)
    wb.save(buf)
    buf.seek(0)
    return send_file(
        buf, mimetype=MIMETYPE, as_attachment=True, download_name=f"{name}-{dt.datetime.now():%Y%m%d%H%M}.xlsx"
    )
