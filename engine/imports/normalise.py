"""Cleaning cell values before they are stored, and the normalisers duplicate rules compare with.

Storage cleaning is deliberately light: it trims, turns full-width digits and Latin letters (as
Chinese input methods type them) into half-width ones and writes mainland mobile numbers as
their eleven digits. Chinese punctuation in names and notes is left as typed. The duplicate-rule
normalisers go further, because two spellings of one company must compare equal.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.fieldtypes.halfwidth import half_width

# Full-width digits, Latin letters and the few signs that appear in numbers and addresses.
_LIGHT = {code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)}  # ０-９
_LIGHT.update({code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)})  # Ａ-Ｚ
_LIGHT.update({code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)})  # ａ-ｚ
_LIGHT.update({0x3000: 0x20, 0xFF20: 0x40, 0xFF0E: 0x2E, 0xFF0D: 0x2D, 0xFF0B: 0x2B})  # 　＠．－＋

# Finding whether a text holds any of them is a fast scan; translating looks up every character.
_WIDE = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000\uff20\uff0e\uff0d\uff0b]")

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_NOT_DIGIT = re.compile(r"[^0-9]")

# Longest first, so 股份有限公司 is not left as 股份 after stripping 有限公司.
COMPANY_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "分公司",
    "公司",
    "co.,ltd.",
    "co.,ltd",
    "co.ltd.",
    "co.ltd",
    "company",
    "limited",
    "ltd.",
    "ltd",
    "inc.",
    "inc",
    "llc",
)


# The suffixes as they end a name once its trailing dots and commas are gone.
_BARE_SUFFIXES = tuple(dict.fromkeys(suffix.rstrip(".,") for suffix in COMPANY_SUFFIXES))


def clean_text(value: str) -> str:
    """Trim a cell and make full-width digits and letters half-width."""
    value = value.strip()
    if value.isascii() or _WIDE.search(value) is None:
        return value
    return value.translate(_LIGHT).strip()


def clean_phone(value: str) -> str:
    """A mainland mobile number in any common spelling becomes its 11 digits; others stay as typed."""
    value = clean_text(value)
    key = phone_key(value)
    return key if key and _MOBILE.fullmatch(key) else value


def cell_cleaner(field_type: str) -> Callable[[str], str]:
    """The light cleaning above for a text cell of a field of this type."""
    return clean_phone if field_type == "phone" else clean_text


# -- duplicate-rule normalisers ------------------------------------------------------------------


def trim_key(value: str) -> str:
    # split() breaks at the same (Unicode) whitespace as \s+, and drops it at both ends.
    return " ".join(half_width(value).split())


def lower_key(value: str) -> str:
    return trim_key(value).lower()


def person_key(value: str) -> str:
    """A person's name without any space, width or case: 王 芳, 王芳 and 王芳 (full-width space) match."""
    return "".join(half_width(value).split()).casefold()


def phone_key(value: str) -> str:
    """Digits only, without the mainland country code: +86 138-0013-8000 and 13800138000 are one number."""
    plain = value.isascii() and value.isdecimal()
    digits = value if plain else _NOT_DIGIT.sub("", half_width(value))
    if digits.startswith("0086"):
        digits = digits[4:]
        national = True
    elif (
        digits.startswith("86")
        and len(digits) in (12, 13)
        and (value.lstrip().startswith("+") or len(digits) == 13)
    ):
        digits = digits[2:]
        national = True
    else:
        national = False
    if national and digits and not _MOBILE.fullmatch(digits) and not digits.startswith("0"):
        digits = "0" + digits  # +86 10 6212 3456 is dialled 010-6212 3456 at home
    return digits


def company_key(value: str) -> str:
    """A company name without spaces, case, width and legal-form suffix: X有限公司, X公司 and X match."""
    name = "".join(half_width(value).split()).lower()
    while (stripped := _without_suffix(name)) != name and stripped:
        name = stripped
    return name


def _without_suffix(name: str) -> str:
    """`name` without one legal-form suffix and the dots and commas after it (unchanged if it has none).

    The suffixes are listed longest first, so the first that ends the name is the longest one
    (one suffix never ends in a longer one listed after it).
    """
    bare = name.rstrip(".,")
    if not bare.endswith(_BARE_SUFFIXES):
        return name
    for suffix in _BARE_SUFFIXES:
        if bare.endswith(suffix):
            return bare[: -len(suffix)]
    return name


NORMALISERS: Mapping[str, Callable[[str], str]] = {
    "trim": trim_key,
    "lower": lower_key,
    "phone": phone_key,
    "company_name": company_key,
    "person_name": person_key,
}


def match_key(rule: str, values: Sequence[Any], normalisers: Sequence[Callable[[str], str]]) -> int | None:
    """The digest two records share when `rule` calls them duplicates; None if any value is empty.

    64 bits, stored as an integer: two different values share one by chance about once in 10^19
    comparisons, and a compact integer index costs an import far less than a text one.
    """
    parts = [rule]
    for value, normalise in zip(values, normalisers, strict=True):
        if value is None:
            return None
        text = normalise(value if type(value) is str else str(value))
        if not text:
            return None
        parts.append(text)
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
