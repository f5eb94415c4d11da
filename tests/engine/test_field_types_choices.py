"""Fields that choose or point: select, multi_select, tags, lookup, user and attachment values."""

from __future__ import annotations

import pytest

from tests.engine.field_values import LEVELS, accept, as_json, refusal

PDF = {"name": "contract.pdf", "key": "files/1", "size": 2 * 1024 * 1024, "content_type": "application/pdf"}
PHOTO = {"name": "site.JPG", "key": "files/2", "size": 300_000, "content_type": "image/jpeg"}


def test_select_from_csv_accepts_chinese_label() -> None:
    assert accept("select", "重要客户", "csv", **LEVELS) == "vip"
    assert accept("select", " 普通 ", "csv", **LEVELS) == "normal"


def test_select_from_a_form_accepts_any_locale_label_or_value_in_any_case() -> None:
    assert accept("select", "key account", "form", **LEVELS) == "key"
    assert accept("select", "NORMAL", "form", **LEVELS) == "normal"
    assert accept("select", "vip", "form", **LEVELS) == "vip"


def test_select_from_json_needs_the_option_value() -> None:
    assert accept("select", "vip", "json", **LEVELS) == "vip"
    assert (
        refusal("select", "重要客户", "json", **LEVELS) == "must be one of vip, key, normal (got '重要客户')"
    )


def test_select_refuses_an_unknown_value_naming_the_options() -> None:
    assert refusal("select", "gold", "csv", **LEVELS) == "must be one of vip, key, normal (got 'gold')"


def test_select_error_lists_at_most_ten_options() -> None:
    many = {"options": [{"value": f"p{number}"} for number in range(30)]}
    message = refusal("select", "x", **many)
    assert message.startswith("must be one of p0, p1,") and "(20 more)" in message


def test_select_reads_a_spreadsheet_number_as_the_option_it_names() -> None:
    grades = {"options": [{"value": "1"}, {"value": "2"}]}
    assert accept("select", 2.0, "csv", **grades) == "2"


def test_multi_select_splits_text_and_keeps_option_order() -> None:
    assert accept("multi_select", "普通、重要客户", "csv", **LEVELS) == ["vip", "normal"]
    assert accept("multi_select", "normal;key", "form", **LEVELS) == ["key", "normal"]
    assert accept("multi_select", "normal，vip", "csv", **LEVELS) == ["vip", "normal"]
    assert accept("multi_select", ["normal", "vip", "normal"], "json", **LEVELS) == ["vip", "normal"]


def test_multi_select_refuses_an_unknown_option() -> None:
    assert (
        refusal("multi_select", ["vip", "gold"], **LEVELS) == "must be one of vip, key, normal (got 'gold')"
    )
    assert "must be one of" in refusal("multi_select", {"vip": True}, **LEVELS)


def test_tags_are_trimmed_and_unique_whatever_their_case() -> None:
    assert accept("tags", " VIP , 华东、vip;new ", "csv") == ["VIP", "华东", "new"]
    assert accept("tags", ["a", " b ", "", "A"]) == ["a", "b"]
    assert as_json("tags", ("a", "b")) == ["a", "b"]


def test_tags_are_limited_in_number_and_length() -> None:
    assert refusal("tags", [f"t{number}" for number in range(51)]) == "must have at most 50 tags (got 51)"
    assert refusal("tags", ["x" * 65]).startswith("each tag must be at most 64 characters (got 65 in")
    assert len(accept("tags", [f"t{number}" for number in range(50)])) == 50


def test_lookup_accepts_ids_as_numbers_or_text() -> None:
    assert accept("lookup", "42", "form", target="customer") == 42
    assert accept("lookup", 42.0, "csv", target="customer") == 42
    assert accept("lookup", "４２", "form", target="customer") == 42
    assert accept("lookup", {"id": 42, "title": "Acme"}, "json", target="customer") == 42


@pytest.mark.parametrize("value", [0, -3, "0"])
def test_lookup_refuses_non_positive_ids(value: object) -> None:
    assert refusal("lookup", value, target="customer") == f"must be a positive record id (got {value!r})"


@pytest.mark.parametrize("value", [True, "Acme", 4.5, "12abc"])
def test_lookup_refuses_booleans_names_and_fractions(value: object) -> None:
    assert refusal("lookup", value, target="customer").startswith("must be a record id")


def test_user_field_speaks_of_users() -> None:
    assert accept("user", "7", "form") == 7
    assert refusal("user", "li.lei") == "must be a user id (got 'li.lei')"


def test_single_attachment_field_allows_one_file() -> None:
    assert accept("attachment", PDF) == [PDF]
    assert refusal("attachment", [PDF, PHOTO]) == "allows only one file (got 2)"
    assert accept("attachment", [PDF, PHOTO], multiple=True) == [PDF, PHOTO]


def test_attachment_keeps_only_the_four_described_keys() -> None:
    stored = accept("attachment", [{**PDF, "url": "https://cdn/x", "content_type": "Application/PDF"}])
    assert stored == [PDF]


def test_attachment_from_a_form_is_the_uploaded_files_as_json() -> None:
    assert accept("attachment", '[{"name": "a.txt", "key": "k", "size": 3}]', "form") == [
        {"name": "a.txt", "key": "k", "size": 3, "content_type": "application/octet-stream"}
    ]
    assert (
        refusal("attachment", "contract.pdf", "csv")
        == "must be uploaded files, not text (got 'contract.pdf')"
    )


def test_attachment_refuses_files_without_a_key_or_size() -> None:
    assert "needs a storage key" in refusal("attachment", {**PDF, "key": ""})
    assert "needs a size in bytes" in refusal("attachment", {**PDF, "size": -1})
    assert "needs a name" in refusal("attachment", {"key": "k", "size": 1})


def test_attachment_size_and_kind_limits() -> None:
    assert (
        refusal("attachment", PDF, max_size_mb=1)
        == "each file must be at most 1 MB (got 2.0 MB in 'contract.pdf')"
    )
    assert accept("attachment", [PDF, PHOTO], multiple=True, accept=[".pdf", "image/*"]) == [PDF, PHOTO]
    assert refusal("attachment", PHOTO, accept=[".pdf"]) == "must be one of .pdf (got 'site.JPG')"
    assert accept("attachment", PHOTO, accept=[".jpg"]) == [PHOTO]
