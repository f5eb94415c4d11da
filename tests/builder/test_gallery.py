"""The template gallery at /builder/gallery: every template is valid on the CRM, and using one saves a
draft under a fresh name and opens it in its designer."""

from __future__ import annotations

import pytest

from builder_ui.gallery import templates
from engine import Loom
from engine.schema.changes import apply_objects
from engine.store.drafts import get_draft
from metadata import validation
from tests.runtime.pages_world import Team, csrf, text


@pytest.mark.parametrize("template", templates(), ids=lambda t: t.key)
def test_every_template_validates_against_the_installed_crm(crm: Loom, template) -> None:  # type: ignore[no-untyped-def]
    document = template.document
    validate = validation.validate_rule if template.kind == "rule" else validation.validate_flow
    file = f"{template.kind}s/{document['name']}.json"
    result = validate(document, file, known_objects=crm.registry.specs())
    assert not result.problems, result.problems
    specs = result.rules if template.kind == "rule" else result.flows
    apply_objects(crm, [], **{f"{template.kind}s": list(specs)}, dry_run=True)
    assert template.title["zh_CN"] and template.title["en"]
    assert template.description["zh_CN"] and template.description["en"]


def test_the_gallery_has_the_scenarios_of_the_seeds() -> None:
    titles = {t.kind: [] for t in templates()}
    for t in templates():
        titles[t.kind].append(t.title["zh_CN"])
    said = " ".join(titles["rule"])
    for scenario in ("VIP客户15天未跟进", "T+0 / T+3 / T+7", "合同到期前30天", "线索7天未跟进"):
        assert scenario in said
    assert "合同按金额审批" in titles["flow"] and "折扣超过20%审批" in titles["flow"]


def test_the_gallery_shows_cards_of_the_kind_asked_for(team: Team) -> None:
    client = team.client("guan.li")
    every = text(client.get("/builder/gallery"))
    assert "VIP客户15天未跟进 → 创建待办" in every and "合同按金额审批" in every
    flows = text(client.get("/builder/gallery?kind=flow"))
    assert "合同按金额审批" in flows and "VIP客户15天未跟进" not in flows
    rules = text(client.get("/builder/gallery?kind=rule"))
    assert "VIP客户15天未跟进" in rules and "合同按金额审批" not in rules
    assert client.get("/builder/gallery?kind=nonsense").status_code == 200
    assert team.client("wang.fang").get("/builder/gallery").status_code == 403


def use(client, key: str, **form: str):  # type: ignore[no-untyped-def]
    token = csrf(client, "/builder/gallery")
    return client.post(f"/builder/gallery/{key}", data={"csrf_token": token, **form})


def test_using_a_rule_template_saves_a_draft_and_opens_the_rule_builder(team: Team) -> None:
    client = team.client("guan.li")
    page = text(client.get("/builder/gallery?kind=rule"))
    assert 'value="vip_not_followed_up"' in page and 'value="VIP客户15天未跟进提醒"' in page
    answer = use(client, "vip_followup", name="vip_not_followed_up", label="VIP客户半月未跟进")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/builder/rules/vip_not_followed_up")
    with team.loom.read() as conn:
        draft = get_draft(conn, "rule", "vip_not_followed_up")
    assert draft is not None and draft.saved_by == team.ids["guan.li"]
    assert draft.body["label"]["zh_CN"] == "VIP客户半月未跟进"
    assert draft.body["condition"] == "level == 'vip' and days_silent > 15"
    assert "vip_not_followed_up" not in team.loom.registry.rules  # a draft until it is saved
    editor = text(client.get(answer.headers["Location"]))
    assert "VIP客户半月未跟进" in editor and "草稿" in editor
    # The next use of the template is offered a name no rule or draft has.
    assert 'value="vip_not_followed_up_2"' in text(client.get("/builder/gallery?kind=rule"))
    taken = use(client, "vip_followup", name="vip_not_followed_up", label="再来一条")
    assert taken.status_code == 422 and "已被使用" in text(taken)


def test_using_a_flow_template_saves_a_flow_draft_and_opens_the_flow_designer(team: Team) -> None:
    client = team.client("guan.li")
    answer = use(client, "contract_approval", name="big_contract_approval", label="大额合同审批")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/builder/flows/big_contract_approval")
    with team.loom.read() as conn:
        draft = get_draft(conn, "flow", "big_contract_approval")
    assert draft is not None and draft.body["object"] == "contract"
    assert draft.body["label"]["zh_CN"] == "大额合同审批"


@pytest.mark.parametrize(
    "form",
    [
        {"name": "Bad Name", "label": "x"},
        {"name": "", "label": "x"},
        {"name": "fine_name", "label": ""},
        {"name": "fine_name", "label": "长" * 201},
        {"name": "vip_followup_overdue", "label": "x"},  # a rule of the CRM has it
    ],
)
def test_a_bad_name_or_label_is_refused_on_its_card_and_nothing_saved(
    team: Team, form: dict[str, str]
) -> None:
    client = team.client("guan.li")
    answer = use(client, "vip_followup", **form)
    assert answer.status_code == 422
    assert 'class="rb-error" role="alert"' in text(answer)
    with team.loom.read() as conn:
        assert get_draft(conn, "rule", form["name"] or "x") is None


def test_an_unknown_template_is_not_found_and_a_post_needs_the_csrf_token(team: Team) -> None:
    client = team.client("guan.li")
    assert use(client, "no_such_template", name="x", label="x").status_code == 404
    answer = client.post("/builder/gallery/vip_followup", data={"name": "vip_x", "label": "x"})
    assert answer.status_code == 400
    with team.loom.read() as conn:
        assert get_draft(conn, "rule", "vip_x") is None


def test_the_cards_come_in_the_gallery_order_rules_first(team: Team) -> None:
    page = text(team.client("guan.li").get("/builder/gallery"))
    titles = [
        "VIP客户15天未跟进",
        "试用客户 T+0",
        "合同到期前30天",
        "线索7天未跟进",
        "合同按金额审批",
        "折扣超过20%审批",
    ]
    places = [page.index(title) for title in titles]
    assert places == sorted(places)
