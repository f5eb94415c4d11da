"""A cron schedule said in words: 每天 09:00, 每周一 09:00, 每月1日 08:30, 工作日 09:00.

Only the shapes people write by hand are said; anything else gives None and the page shows
the cron text itself, so the words never claim a schedule the engine would not keep.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"^\d{1,2}$")
_ZH_DAYS = ("日", "一", "二", "三", "四", "五", "六", "日")
_EN_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _number(text: str, low: int, high: int) -> int | None:
    if not _NUMBER.match(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def _numbers(text: str, low: int, high: int) -> list[int] | None:
    """A comma list of plain numbers (each within low..high), else None."""
    found = [_number(part, low, high) for part in text.split(",")]
    if not found or any(value is None for value in found):
        return None
    return [value for value in found if value is not None]


def _step(text: str, high: int) -> int | None:
    """The n of `*/n`, else None."""
    if not text.startswith("*/"):
        return None
    return _number(text[2:], 1, high)


def cron_words(cron: str, locale: str = "zh_CN") -> str | None:
    """The schedule in words in `locale` (zh_CN or en), or None when it is not a common shape."""
    parts = cron.split() if isinstance(cron, str) else []
    if len(parts) != 5:
        return None
    zh = locale.startswith("zh")
    minute_text, hour_text, day_text, month_text, weekday_text = parts
    if (day_text, month_text, weekday_text) == ("*", "*", "*"):
        every = _frequent(minute_text, hour_text, zh)
        if every is not None:
            return every
    minute = _number(minute_text, 0, 59)
    hours = _numbers(hour_text, 0, 23)
    if minute is None or hours is None:
        return None
    times = ("、" if zh else ", ").join(f"{hour:02d}:{minute:02d}" for hour in hours)
    days = _days(day_text, month_text, weekday_text, zh)
    if days is None:
        return None
    return f"{days} {times}" if zh else f"{days} at {times}"


def _frequent(minute_text: str, hour_text: str, zh: bool) -> str | None:
    """Schedules that run many times a day: every n minutes, every hour, every n hours."""
    if hour_text == "*":
        if minute_text == "*":
            return "每分钟" if zh else "every minute"
        step = _step(minute_text, 59)
        if step is not None:
            return f"每{step}分钟" if zh else f"every {step} minutes"
        minute = _number(minute_text, 0, 59)
        if minute is not None:
            if zh:
                return "每小时整点" if minute == 0 else f"每小时第{minute}分"
            return "every hour on the hour" if minute == 0 else f"every hour at minute {minute}"
        return None
    step = _step(hour_text, 23)
    minute = _number(minute_text, 0, 59)
    if step is not None and minute is not None:
        if zh:
            return f"每{step}小时" + ("" if minute == 0 else f"（第{minute}分）")
        return f"every {step} hours" + ("" if minute == 0 else f" at minute {minute}")
    return None


def _days(day_text: str, month_text: str, weekday_text: str, zh: bool) -> str | None:
    """Which days: every day, weekdays, some weekdays, some days of the month, a date each year."""
    if month_text == "*" and day_text == "*":
        if weekday_text == "*":
            return "每天" if zh else "every day"
        if weekday_text in ("1-5", "MON-FRI", "mon-fri"):
            return "工作日" if zh else "on weekdays"
        if weekday_text in ("0,6", "6,0", "6-7", "SAT,SUN", "sat,sun"):
            return "每周末" if zh else "on weekends"
        weekdays = _numbers(weekday_text, 0, 7)
        if weekdays is None:
            return None
        if zh:
            return "每周" + "、".join(_ZH_DAYS[day] for day in weekdays)
        return "every " + ", ".join(_EN_DAYS[day] for day in weekdays)
    if weekday_text != "*":
        return None
    days = _numbers(day_text, 1, 31)
    if days is None:
        return None
    if month_text == "*":
        if zh:
            return "每月" + "、".join(f"{day}日" for day in days)
        return "on day " + ", ".join(str(day) for day in days) + " of every month"
    months = _numbers(month_text, 1, 12)
    if months is None or len(months) != 1 or len(days) != 1:
        return None
    if zh:
        return f"每年{months[0]}月{days[0]}日"
    return f"every year on {months[0]}/{days[0]}"
