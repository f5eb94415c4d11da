"""A 40-column customer spreadsheet as a sales team keeps it, written straight as XLSX.

Columns are the CRM customer's labels plus the ones such sheets carry that the CRM has no field
for (they are left out, and listed). Every 20th row is bad (a short phone, no name), every 10th
a re-spelled duplicate of an earlier row. The XLSX is written here rather than by openpyxl, which
takes minutes for 100,000 rows, and either with inline strings (as streaming writers and
openpyxl save) or with a shared-strings table (as Excel and WPS save).
"""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

HEADER = [
    "客户名称", "客户简称", "统一社会信用代码", "客户级别", "生命周期阶段", "所属行业", "所属区域",
    "客户来源",
    "人员规模", "主要联系人", "联系电话", "电子邮箱", "公司网址", "所在城市", "详细地址", "年采购额",
    "最近跟进时间", "下次跟进时间", "客户标签", "备注", "流失原因", "所属销售", "备用电话", "传真", "邮编",
    "开户行", "银行账号", "法人代表", "注册资本", "成立日期", "经营范围", "微信", "QQ", "部门", "职务",
    "省份", "区县", "街道", "附加说明", "录入人",
]  # fmt: skip
LEVELS = [("VIP客户", "vip"), ("重点客户", "key"), ("普通客户", "normal")]
INDUSTRIES = [("装备制造", "manufacturing"), ("电子制造", "electronics"), ("SaaS软件", "saas")]
REGIONS = [("华东", "east"), ("华南", "south"), ("华北", "north"), ("华中", "central"), ("西南", "southwest")]
SOURCES = [("展会", "exhibition"), ("官网表单", "website"), ("客户转介绍", "referral")]
SIZES = [("100-499人", "100_499"), ("20-99人", "20_99")]
EPOCH = date(1899, 12, 30)
CREDIT = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def credit_code(i: int) -> str:
    """A unique code the field's pattern accepts."""
    tail = "".join(CREDIT[(i // len(CREDIT) ** k) % len(CREDIT)] for k in range(6))
    return f"91310000MA{tail}00"


def good_row(i: int) -> list[Any]:
    return [
        f"星河{i}科技有限公司", f"星河{i}", credit_code(i), LEVELS[i % 3][0], "潜在客户",
        INDUSTRIES[i % 3][0], REGIONS[i % 5][0], SOURCES[i % 3][0], SIZES[i % 2][0], f"联系人{i}",
        f"138{i // 10000:04d}{i % 10000:04d}",
        f"buyer{i}@example.com", f"https://www.x{i}.com", "上海", f"浦东新区张江路{i}号", 1000 + i,
        datetime(2026, 1, 1 + i % 28, 9, 30), f"2026-03-{1 + i % 28:02d} 10:00", "大客户", "批量导入客户资料",
        None, f"销售{i % 50}", f"021-{60000000 + i}", None, "200120", "招商银行上海分行", f"6225{i:012d}",
        f"法人{i}", "1000万元", date(2010, 1, 1 + i % 28), "软件开发、技术服务", f"wx{i}", str(100000 + i),
        "采购部", "经理", "上海市", "浦东新区", "张江镇", f"说明{i}", "管理员",
    ]  # fmt: skip


def customer_row(i: int) -> list[Any]:
    """Row i of the sheet: every 20th bad, every 10th (otherwise) a duplicate of an earlier row."""
    row = good_row(i)
    if i % 20 == 7:
        row[0], row[10] = None, "12"  # two reasons at once
    elif i % 10 == 3 and i > 100:
        j = i - 97
        row = good_row(j)
        row[0] = f"星河{j}科技公司"  # 公司 for 有限公司, the same company once normalised
        row[10] = f"+86 138-{j // 10000:04d}-{j % 10000:04d}"
        row[2] = credit_code(10_000_000 + i)
    return row


def created_rows(n: int, now: datetime) -> list[dict[str, Any]]:
    """The records the import creates from an n-row sheet, in database form, for a raw Core insert."""
    records = []
    for i in range(n):
        if i % 20 == 7 or (i % 10 == 3 and i > 100):
            continue
        row = good_row(i)
        records.append(
            {
                "code": f"KH-2026-{len(records) + 1:05d}",
                "name": row[0], "short_name": row[1], "credit_code": row[2], "level": LEVELS[i % 3][1],
                "lifecycle": "lead", "industry": INDUSTRIES[i % 3][1], "region": REGIONS[i % 5][1],
                "source": SOURCES[i % 3][1], "company_size": SIZES[i % 2][1], "contact_name": row[9],
                "phone": row[10], "email": row[11], "website": row[12], "city": row[13], "address": row[14],
                "annual_purchase": row[15], "last_followup_at": datetime(2026, 1, 1 + i % 28, 1, 30),
                "next_followup_at": datetime(2026, 3, 1 + i % 28, 2, 0), "tags": ["大客户"],
                "remark": row[19], "in_pool": False, "created_at": now, "updated_at": now, "version": 1,
            }
        )  # fmt: skip
    return records


def write_sheet(path: Path, n: int, *, shared: bool) -> Path:
    """The header and n customer rows as an XLSX file, with shared strings or inline ones."""
    strings: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                b'spreadsheetml/2006/main"><sheetData>'
            )
            sheet.write(_row(1, HEADER, strings, shared))
            for i in range(n):
                sheet.write(_row(i + 2, customer_row(i), strings, shared))
            sheet.write(b"</sheetData></worksheet>")
        if shared:
            with archive.open("xl/sharedStrings.xml", "w") as table:
                table.write(
                    b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                    b'spreadsheetml/2006/main">'
                )
                for text in strings:
                    table.write(f"<si><t>{escape(text)}</t></si>".encode())
                table.write(b"</sst>")
        for name, body in _PARTS.items():
            archive.writestr(name, body)
        archive.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(shared))
        archive.writestr("[Content_Types].xml", _content_types(shared))
    return path


def _row(number: int, values: list[Any], strings: dict[str, int], shared: bool) -> bytes:
    cells = []
    for column, value in enumerate(values):
        if value is None:
            continue
        ref = _column(column) + str(number)
        if isinstance(value, datetime):
            serial = (value - datetime(1899, 12, 30)).total_seconds() / 86400
            cells.append(f'<c r="{ref}" s="2"><v>{serial}</v></c>')
        elif isinstance(value, date):
            cells.append(f'<c r="{ref}" s="1"><v>{(value - EPOCH).days}</v></c>')
        elif isinstance(value, int | float):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        elif shared:
            index = strings.setdefault(value, len(strings))
            cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
        else:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'.encode()


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _workbook_rels(shared: bool) -> str:
    extra = (
        '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'sharedStrings" Target="sharedStrings.xml"/>'
        if shared
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship '
        'Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        f'Target="styles.xml"/>{extra}</Relationships>'
    )


def _content_types(shared: bool) -> str:
    part = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    strings = (
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{part}.sharedStrings+xml"/>'
        if shared
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{part}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{part}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{part}.styles+xml"/>{strings}</Types>'
    )


_PARTS = {
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships"><sheets><sheet name="客户" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main"><cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/>'
        '<xf numFmtId="22"/></cellXfs></styleSheet>'
    ),
}
