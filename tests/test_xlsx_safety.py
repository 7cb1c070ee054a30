"""A donor or a problem text that starts with = must stay text in the spreadsheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from chat_harness import Chat
from openpyxl import load_workbook

from bot.xlsx_export import write_xlsx
from handlers.town_report import build_town_report


async def test_no_cell_is_a_formula(chat: Chat, tmp_path: Path) -> None:
    admin = chat.person("leaders", "admin")
    await admin.says('捐赠 =HYPERLINK("http://x") 捐款100元')
    await admin.says("督查 五星村 =1+1 @SUM(A1)")
    async with chat.app.database.transaction() as store:
        report = await build_town_report(store, chat.app.town, dt.date(2020, 2, 17))
    out = tmp_path / "r.xlsx"
    write_xlsx(report, out)
    book = load_workbook(out)
    values = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any(str(c.value).startswith("=HYPERLINK") for c in values)
    assert all(c.data_type != "f" for c in values)
