"""A customer spreadsheet as a Chinese sales team keeps it, with the truth about every row.

Seeded, so a failure can be replayed: headers are the team's own words, select values are written
as words (重要, 普通, IT服务, 广东省), dates in several spellings, phones in every common spelling,
some rows repeat a customer already in the database or an earlier row in a disguise, and some rows
are wrong in exactly one field, which the truth names.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl

ZONE = ZoneInfo("Asia/Shanghai")

# Each field: the headers a team may use for it (one is drawn per file).
HEADERS = {
    "name": ["客户名称", "公司名称", "客户全称", "企业名称", "客户名称（必填）", "*客户名称"],
    "contact_name": ["联系人", "联系人姓名", "对接人"],
    "phone": ["手机", "手机号", "电话", "联系电话", "手机号码"],
    "email": ["邮箱", "电子邮件", "邮箱地址", "E-mail"],
    "level": ["客户级别", "客户等级", "级别"],
    "industry": ["所属行业", "行业"],
    "region": ["所在地区", "地区", "区域"],
    "last_followup_at": ["最近跟进日期", "最后跟进时间", "上次跟进时间", "最近跟进", "最近一次跟进日期"],
    "source": ["客户来源", "来源"],
    "remark": ["备注", "备注信息"],
}
# Columns no customer field takes: the import must say it leaves them out.
EXTRA_COLUMNS = ["微信", "负责销售"]

LEVEL_WORDS = {"vip": ["VIP", "vip", "VIP客户", "贵宾", "大客户"], "key": ["重要", "重点客户", "重要客户"],
               "normal": ["普通", "一般", "普通客户", "长尾客户"]}  # fmt: skip
# Written by this team for a key account, in no metadata: the one word the value-mapping step maps.
TEAM_WORD = ("level", "KA", "key")
INDUSTRY_WORDS = {
    "ict": ["IT服务", "信息技术", "互联网"],
    "manufacturing": ["制造业", "装备制造", "机械制造"],
    "saas": ["软件", "SaaS软件"],
    "education": ["教育", "教育培训"],
    "healthcare": ["医疗", "医疗健康"],
    "logistics": ["物流", "物流运输"],
    "electronics": ["电子", "电子制造"],
    "auto_parts": ["汽车零部件", "汽配"],
    "other": ["其他", "其它"],
}
REGION_WORDS = {
    "east": ["华东", "华东地区", "上海", "浙江省", "江苏"],
    "south": ["华南", "广东省", "深圳"],
    "north": ["华北", "北京", "天津市"],
    "central": ["华中", "湖北省", "武汉"],
    "southwest": ["西南", "四川省", "成都"],
    "northwest": ["西北", "陕西"],
    "northeast": ["东北", "辽宁省"],
}
SOURCE_WORDS = {"exhibition": ["展会"], "referral": ["转介绍", "老客户介绍"], "website": ["官网"],
                "online_ads": ["百度推广"], "cold_call": ["电话陌拜"]}  # fmt: skip

CITIES = ["杭州", "上海", "苏州", "深圳", "广州", "成都", "武汉", "西安", "南京", "宁波", "北京", "天津"]
WORDS = list("星河蓝天海港新锐恒信博远华创智联远景瑞丰")
WORDS += list("鼎盛启明众合天成宏图金桥云帆卓越嘉禾正泰盛世明德安达汇通")
TRADES = ["科技", "贸易", "物流", "电子", "机械", "软件", "医疗器械", "教育咨询", "新材料", "信息技术"]
SUFFIXES = ["有限公司", "股份有限公司", "有限责任公司"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["芳", "伟", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞"]


@dataclass
class Truth:
    """What a correct import does with the file."""

    clean: dict[int, dict[str, Any]] = field(default_factory=dict)  # line → expected stored values
    duplicates: dict[int, str] = field(default_factory=dict)  # line → "database" or "file"
    invalid: dict[int, str] = field(default_factory=dict)  # line → the field that is wrong
    columns: dict[str, str] = field(default_factory=dict)  # header → field
    extra_columns: list[str] = field(default_factory=list)


@dataclass
class MessyFile:
    path: Path
    header: list[str]
    rows: list[list[Any]]
    truth: Truth
    existing: list[dict[str, Any]]  # the customers to create before importing


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used_names: set[str] = set()
        self.used_phones: set[str] = set()
        self.used_emails: set[str] = set()

    def company(self) -> tuple[str, str]:
        """A new company: its full registered name and the name without the legal form."""
        while True:
            base = self.rng.choice(CITIES) + self.rng.choice(WORDS) + self.rng.choice(WORDS)
            base += self.rng.choice(TRADES)
            if base not in self.used_names:
                self.used_names.add(base)
                return base + self.rng.choice(SUFFIXES), base

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.choices(GIVEN, k=self.rng.choice((1, 2))))

    def mobile(self) -> str:
        while True:
            number = "1" + self.rng.choice("3456789") + "".join(self.rng.choices("0123456789", k=9))
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def email(self) -> str:
        while True:
            local = "".join(self.rng.choices("abcdefghijklmnopqrstuvwxyz", k=self.rng.randint(4, 9)))
            address = f"{local}@{self.rng.choice(['qq.com', '163.com', 'example.cn', 'corp.com.cn'])}"
            if address not in self.used_emails:
                self.used_emails.add(address)
                return address

    def phone_spelling(self, number: str, xlsx: bool) -> Any:
        spellings: list[Any] = [
            number,
            f"{number[:3]}-{number[3:7]}-{number[7:]}",
            f"+86 {number[:3]} {number[3:7]} {number[7:]}",
            f"{number[:3]} {number[3:7]} {number[7:]}",
            f"(+86){number}",
            f"86-{number}",
            number.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"}),  # typed full-width
        ]
        if xlsx:
            spellings.append(int(number))  # a number cell
        return self.rng.choice(spellings)

    def word(self, words: dict[str, list[str]]) -> tuple[str, str]:
        value = self.rng.choice(list(words))
        return self.rng.choice(words[value]), value

    def moment(self, xlsx: bool) -> tuple[Any, datetime]:
        """A follow-up moment as written in some cell, and the naive UTC moment it means."""
        day = date(2025, 1, 1) + timedelta(days=self.rng.randint(0, 600))
        at = (
            time(self.rng.randint(8, 21), self.rng.choice((0, 15, 30, 45)))
            if self.rng.random() < 0.4
            else None
        )
        local = datetime.combine(day, at or time())
        utc = local.replace(tzinfo=ZONE).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
        clock = f" {at.hour:02d}:{at.minute:02d}" if at else ""
        kinds = ["iso", "slash_ymd", "chinese", "dots", "us", "english", "serial", "cell" if xlsx else "iso"]
        kind = self.rng.choice(kinds)
        if kind == "iso":
            return f"{day.isoformat()}{clock}", utc
        if kind == "slash_ymd":
            return f"{day.year}/{day.month}/{day.day}{clock}", utc
        if kind == "chinese":
            return f"{day.year}年{day.month}月{day.day}日{clock}", utc
        if kind == "dots":  # day first, as German and Russian customers write
            return f"{day.day:02d}.{day.month:02d}.{day.year}{clock}", utc
        if kind == "us":  # month first, as an American export writes
            return f"{day.month:02d}/{day.day:02d}/{day.year}{clock}", utc
        if kind == "english":
            return f"{day.strftime('%b')} {day.day}, {day.year}{clock}", utc
        if kind == "serial":  # a spreadsheet's day number, as a number cell or as text in a CSV
            serial = (day - date(1899, 12, 30)).days
            if at is not None:
                local = datetime.combine(day, time())
                utc = local.replace(tzinfo=ZONE).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
            return (serial if xlsx else str(serial)), utc
        return local, utc  # a real date cell


def messy_customers(path: Path, rows: int = 1000, seed: int = 19, existing: int = 60) -> MessyFile:
    """Write the spreadsheet (.xlsx or .csv by `path`) and return it with its truth."""
    xlsx = path.suffix == ".xlsx"
    make = _Maker(seed)
    rng = make.rng
    truth = Truth()
    fields = list(HEADERS)
    header_of = {name: rng.choice(HEADERS[name]) for name in fields}
    header = [header_of[name] for name in fields] + EXTRA_COLUMNS
    rng.shuffle(header)
    truth.columns = {h: n for n, h in header_of.items()}
    truth.extra_columns = list(EXTRA_COLUMNS)

    in_db = []
    for _ in range(existing):
        full, base = make.company()
        in_db.append({"name": full, "contact_name": make.person(), "phone": make.mobile(), "base": base})

    written: list[dict[str, Any]] = []  # earlier clean rows, for disguised repeats
    table: list[list[Any]] = []
    for index in range(rows):
        line = index + 2
        roll = rng.random()
        full, base = make.company()
        cells: dict[str, Any] = {
            "name": full,
            "contact_name": make.person(),
            "email": make.email(),
            "remark": rng.choice(["", "老客户", "展会认识", "需要报价", "年底复购"]),
        }
        number = make.mobile()
        cells["phone"] = make.phone_spelling(number, xlsx)
        if rng.random() < 0.04:
            cells["level"], level = TEAM_WORD[1], TEAM_WORD[2]
        else:
            cells["level"], level = make.word(LEVEL_WORDS)
        cells["industry"], industry = make.word(INDUSTRY_WORDS)
        cells["region"], region = make.word(REGION_WORDS)
        if rng.random() < 0.03:
            cells["region"], region = rng.choice(["-", "无", "/"]), None  # written to say "not known"
        cells["source"], source = make.word(SOURCE_WORDS)
        cells["last_followup_at"], moment = make.moment(xlsx)
        expected = {
            "name": full,
            "contact_name": cells["contact_name"],
            "phone": number,
            "email": cells["email"],
            "level": level,
            "industry": industry,
            "region": region,
            "source": source,
            "last_followup_at": moment,
        }
        if roll < 0.08 and in_db:
            twin = rng.choice(in_db)
            _disguise(rng, cells, twin, xlsx, make)
            truth.duplicates[line] = "database"
        elif roll < 0.15 and written:
            twin = rng.choice(written)
            _disguise(rng, cells, twin, xlsx, make)
            truth.duplicates[line] = "file"
        elif roll < 0.27:
            truth.invalid[line] = _spoil(rng, cells)
        else:
            truth.clean[line] = expected
            written.append(
                {"name": full, "contact_name": cells["contact_name"], "phone": number, "base": base}
            )
        table.append([cells.get(truth.columns.get(h, ""), _extra(rng, h)) for h in header])

    existing_records = [{k: v for k, v in c.items() if k != "base"} for c in in_db]
    _write(path, header, table)
    return MessyFile(path, header, table, truth, existing_records)


def _extra(rng: random.Random, column: str) -> Any:
    if column == "微信":
        return "wx_" + "".join(rng.choices("abcdefgh0123456789", k=8))
    return rng.choice(["张经理", "李总", "王销售"])


def _disguise(
    rng: random.Random, cells: dict[str, Any], twin: dict[str, Any], xlsx: bool, make: _Maker
) -> None:
    """Make the row the same customer as `twin`, written differently."""
    if rng.random() < 0.5:
        # The same mobile in another spelling (a new contact person, say).
        cells["phone"] = make.phone_spelling(twin["phone"], xlsx)
    else:
        # The same company without (or with another) legal form, the same contact, the phone left out.
        cells["name"] = twin["base"] + rng.choice(["", "公司", "有限公司", " 有限公司"])
        contact = twin["contact_name"]
        cells["contact_name"] = rng.choice([f" {contact} ", f"{contact[0]} {contact[1:]}", contact])
        cells["phone"] = ""


def _spoil(rng: random.Random, cells: dict[str, Any]) -> str:
    """Make exactly one field wrong; returns that field."""
    kind = rng.choice(["phone", "email", "name", "last_followup_at", "level"])
    if kind == "phone":
        cells["phone"] = rng.choice(["6212345", "1380013800", "12345678901", "138-0013-80"])
    elif kind == "email":
        cells["email"] = rng.choice(["wang#qq.com", "li@", "zhang at 163.com", "@example.cn"])
    elif kind == "name":
        cells["name"] = ""
    elif kind == "last_followup_at":
        cells["last_followup_at"] = rng.choice(["2026-02-30", "2025/13/01", "下周三", "32.01.2026"])
    else:
        cells["level"] = rng.choice(["火星级", "未知级别X"])
    return kind


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    if path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        book.save(path)
        return
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow(
                ["" if c is None else (c.isoformat(" ") if isinstance(c, datetime) else c) for c in row]
            )
