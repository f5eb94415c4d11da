"""Three-way merge of metadata documents: each side's changes kept, clashes reported by file and path."""

from __future__ import annotations

import copy

from metadata.merge import ABSENT, merge_document, merge_documents

BASE = {
    "name": "customer",
    "label": {"zh_CN": "客户", "en": "Customer"},
    "fields": [
        {"name": "name", "type": "text", "label": {"zh_CN": "客户名称", "en": "Customer name"}},
        {"name": "phone", "type": "phone", "label": {"zh_CN": "电话", "en": "Phone"}},
        {"name": "level", "type": "select", "options": [{"value": "a"}, {"value": "b"}]},
    ],
}
FILE = "objects/customer.json"


def edited(change) -> dict:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(BASE)
    change(doc)
    return doc


def test_changes_on_different_sides_and_places_are_both_kept() -> None:
    ours = edited(lambda d: d["fields"][0]["label"].update(en="Company"))
    ours["fields"].append({"name": "wechat", "type": "text"})
    theirs = edited(lambda d: d["fields"][1]["label"].update(zh_CN="联系电话"))
    theirs["fields"].append({"name": "email", "type": "email"})

    merged, conflicts = merge_document(BASE, ours, theirs, FILE)

    assert conflicts == []
    # The new version's field sits after its neighbour there; the admin's addition stays after it.
    assert [f["name"] for f in merged["fields"]] == ["name", "phone", "level", "email", "wechat"]
    assert merged["fields"][0]["label"] == {"zh_CN": "客户名称", "en": "Company"}
    assert merged["fields"][1]["label"] == {"zh_CN": "联系电话", "en": "Phone"}


def test_the_same_place_changed_differently_is_a_conflict_with_its_path_and_three_values() -> None:
    ours = edited(lambda d: d["fields"][1]["label"].update(zh_CN="手机"))
    theirs = edited(lambda d: d["fields"][1]["label"].update(zh_CN="联系电话"))

    _, conflicts = merge_document(BASE, ours, theirs, FILE)

    assert len(conflicts) == 1
    conflict = conflicts[0]
    assert conflict.where == "objects/customer.json#/fields/@phone/label/zh_CN"
    assert (conflict.base, conflict.ours, conflict.theirs) == ("电话", "手机", "联系电话")


def test_a_conflict_is_settled_by_naming_its_path_with_or_without_the_at_sign() -> None:
    ours = edited(lambda d: d["fields"][1]["label"].update(zh_CN="手机"))
    theirs = edited(lambda d: d["fields"][1]["label"].update(zh_CN="联系电话"))

    for where in (
        "objects/customer.json#/fields/@phone/label/zh_CN",
        "objects/customer.json#/fields/phone/label/zh_CN",
    ):
        taken, conflicts = merge_document(BASE, ours, theirs, FILE, {where: "theirs"})
        kept, _ = merge_document(BASE, ours, theirs, FILE, {where: "ours"})
        assert conflicts == []
        assert taken["fields"][1]["label"]["zh_CN"] == "联系电话"
        assert kept["fields"][1]["label"]["zh_CN"] == "手机"


def test_the_same_change_on_both_sides_is_no_conflict() -> None:
    both = edited(lambda d: d["label"].update(en="Client"))
    merged, conflicts = merge_document(BASE, both, copy.deepcopy(both), FILE)
    assert conflicts == [] and merged["label"]["en"] == "Client"


def test_removed_on_one_side_and_untouched_on_the_other_is_removed() -> None:
    theirs = edited(lambda d: d["fields"].pop(1))
    merged, conflicts = merge_document(BASE, copy.deepcopy(BASE), theirs, FILE)
    assert conflicts == [] and [f["name"] for f in merged["fields"]] == ["name", "level"]


def test_removed_on_one_side_and_changed_on_the_other_is_a_conflict() -> None:
    ours = edited(lambda d: d["fields"][1].update(type="text"))
    theirs = edited(lambda d: d["fields"].pop(1))
    _, conflicts = merge_document(BASE, ours, theirs, FILE)
    assert [(c.path, c.theirs) for c in conflicts] == [("/fields/@phone", ABSENT)]


def test_options_merge_by_value() -> None:
    ours = edited(lambda d: d["fields"][2]["options"].append({"value": "c"}))
    theirs = edited(lambda d: d["fields"][2]["options"].insert(0, {"value": "z"}))
    merged, conflicts = merge_document(BASE, ours, theirs, FILE)
    assert conflicts == []
    assert [o["value"] for o in merged["fields"][2]["options"]] == ["z", "a", "b", "c"]


def test_a_reordering_on_one_side_is_kept_and_on_both_sides_differently_conflicts() -> None:
    theirs = edited(lambda d: d["fields"].reverse())
    merged, conflicts = merge_document(BASE, copy.deepcopy(BASE), theirs, FILE)
    assert conflicts == [] and [f["name"] for f in merged["fields"]] == ["level", "phone", "name"]

    ours = edited(lambda d: d["fields"].insert(0, d["fields"].pop(1)))
    _, conflicts = merge_document(BASE, ours, theirs, FILE)
    assert [c.path for c in conflicts] == ["/fields/#order"]


def test_documents_are_merged_by_key_and_a_document_added_on_one_side_is_kept() -> None:
    base = {("object", "customer"): BASE}
    ours = {("object", "customer"): BASE, ("rule", "mine"): {"name": "mine"}}
    theirs = {("object", "customer"): BASE, ("rule", "new"): {"name": "new"}}
    files = {
        ("object", "customer"): FILE,
        ("rule", "mine"): "rules/mine.json",
        ("rule", "new"): "rules/new.json",
    }

    result = merge_documents(base, ours, theirs, files)

    assert result.conflicts == []
    assert set(result.documents) == {("object", "customer"), ("rule", "mine"), ("rule", "new")}


def test_a_resolution_that_matches_no_conflict_is_reported_unused() -> None:
    result = merge_documents({}, {}, {}, {}, {"objects/x.json#/label": "ours"})
    assert result.unused == ["objects/x.json#/label"]


LEVEL = {"field": "level", "visible_if": "x"}
FORM = {
    "name": "customer",
    "object": "customer",
    "sections": [
        {"label": {"zh_CN": "基本信息", "en": "Basics"}, "fields": ["name", "phone"]},
        {"label": {"zh_CN": "其他", "en": "Other"}, "fields": ["remark", LEVEL]},
    ],
}
FORM_FILE = "forms/customer.json"


def form_edited(change) -> dict:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(FORM)
    change(doc)
    return doc


def test_fields_added_to_the_same_form_section_on_both_sides_are_both_placed() -> None:
    ours = form_edited(lambda d: d["sections"][0]["fields"].append("segment"))
    theirs = form_edited(lambda d: d["sections"][0]["fields"].append("linkedin"))

    merged, conflicts = merge_document(FORM, ours, theirs, FORM_FILE)

    assert conflicts == []
    assert merged["sections"][0]["fields"] == ["name", "phone", "linkedin", "segment"]
    assert merged["sections"][1] == FORM["sections"][1]


def test_form_sections_merge_by_label_and_a_placed_field_by_its_name() -> None:
    ours = form_edited(lambda d: d["sections"].reverse())  # the admin put 其他 first
    theirs = form_edited(lambda d: d["sections"][1]["fields"][1].update(visible_if="y"))
    theirs["sections"][0]["fields"].remove("phone")

    merged, conflicts = merge_document(FORM, ours, theirs, FORM_FILE)

    assert conflicts == []
    assert [s["label"]["en"] for s in merged["sections"]] == ["Other", "Basics"]
    assert merged["sections"][0]["fields"] == ["remark", {"field": "level", "visible_if": "y"}]
    assert merged["sections"][1]["fields"] == ["name"]


def test_a_placed_field_given_different_conditions_on_both_sides_conflicts_at_its_name() -> None:
    ours = form_edited(lambda d: d["sections"][1]["fields"][1].update(visible_if="ours"))
    theirs = form_edited(lambda d: d["sections"][1]["fields"][1].update(visible_if="theirs"))

    _merged, conflicts = merge_document(FORM, ours, theirs, FORM_FILE)

    assert [c.path for c in conflicts] == ["/sections/@其他/fields/@level/visible_if"]
