"""The engine's message catalogue: every message in English and Chinese, with the same parameters."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest

from engine.base.errors import FieldValueError, RecordInvalid
from engine.base.messages import CATALOGUE, LOCALES, Message, from_json, localize, params_of, to_json
from metadata.roles import OPERATIONS

ENGINE = Path(__file__).parents[2] / "engine"
# Words that are the same in a Chinese sentence: units and file formats, as the pages keep them.
KEPT_IN_CHINESE = {"MB", "CSV", "csv", "XLSX", "xlsx", "Excel"}


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_message_speaks_both_languages_with_the_same_parameters(code: str) -> None:
    templates = CATALOGUE[code]
    assert set(templates) == set(LOCALES), f"{code} is not in exactly {LOCALES}"
    assert params_of(code, "en") == params_of(code, "zh_CN"), (
        f"{code}: the two languages use other parameters"
    )
    chinese = re.sub(r"\{[^}]*\}", "", templates["zh_CN"])
    words = set(re.findall(r"[A-Za-z]{2,}", chinese)) - KEPT_IN_CHINESE
    assert not words, f"{code}: English words {sorted(words)} in the Chinese message"
    assert re.search(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", chinese), f"{code}: not Chinese"


def test_every_message_the_engine_raises_is_in_the_catalogue() -> None:
    used: set[str] = set()
    for path in ENGINE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'Message\(\s*"(\w+)"', text))
        used |= {f"may_not_{op}" for op in OPERATIONS} if 'Message(f"may_not_{operation}"' in text else set()
        used |= (
            {"may_see_not_update", "may_see_not_delete"} if 'f"may_see_not_{operation}"' in text else set()
        )
        for stem in re.findall(r'_about\(\w+, \w+, "(\w+)"\)', text):
            used |= {f"{stem}_one", f"{stem}_many"}
        for chosen in re.findall(r'code = "(\w+)" if .* else "(\w+)"', text):
            used |= set(chosen)
    assert len(used) > 60
    assert sorted(used - set(CATALOGUE)) == []


def test_a_message_is_english_text_that_still_knows_its_id_after_pickling_and_storing() -> None:
    color = [{"en": "red", "zh_CN": "红"}, {"en": "blue", "zh_CN": "蓝"}]
    message = Message("not_one_of", options=color, got="'purple'")
    assert message == "must be one of red, blue (got 'purple')"
    assert json.dumps(message) == "\"must be one of red, blue (got 'purple')\""
    assert localize(message, "zh_CN") == "必须是以下之一：红、蓝（收到 'purple'）"
    assert localize(pickle.loads(pickle.dumps(message)), "zh_CN") == "必须是以下之一：红、蓝（收到 'purple'）"
    stored = json.loads(json.dumps(to_json(Message("duplicate_update_failed", why=message))))
    assert localize(from_json(stored), "zh_CN") == "必须是以下之一：红、蓝（收到 'purple'）；更新失败"
    assert from_json("plain words") == "plain words" and localize("plain words", "zh_CN") == "plain words"


def test_an_error_keeps_english_for_logs_and_says_the_same_in_chinese() -> None:
    error = FieldValueError(Message("too_long", limit=3, length=5))
    assert str(error) == "must be at most 3 characters (got 5)"
    record = RecordInvalid("gadget", {"title": [str(error)], "quantity": [Message("required")]})
    assert (
        record.message
        == "gadget is invalid: title: must be at most 3 characters (got 5); quantity: is required"
    )
    assert (
        record.localized("zh_CN") == "gadget的数据有误：title：最多 3 个字符（收到 5 个）；quantity：为必填项"
    )
