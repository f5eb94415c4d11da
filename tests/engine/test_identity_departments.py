"""Departments: materialized paths, moving a branch, members, heads, and the chain of managers."""

from __future__ import annotations

import pytest

from engine.base.actors import SYSTEM
from engine.identity import (
    IdentityInvalid,
    create_department,
    create_user,
    department_by_name,
    department_tree,
    disable_user,
    get_department,
    head_of,
    manager_chain,
    members,
    move_department,
    set_head,
    set_manager,
)
from engine.loom import Loom


def dept(loom: Loom, name: str, parent: dict | None = None, head: dict | None = None) -> dict:
    return create_department(
        loom, name, parent["id"] if parent else None, head["id"] if head else None, actor=SYSTEM
    )


def person(loom: Loom, username: str, department: dict | None = None, manager: dict | None = None) -> dict:
    return create_user(
        loom,
        username,
        username,
        department_id=department["id"] if department else None,
        manager_id=manager["id"] if manager else None,
        actor=SYSTEM,
    )


def test_paths_list_the_ids_from_the_top(loom: Loom) -> None:
    company = dept(loom, "总公司")
    east = dept(loom, "华东大区", company)
    shanghai = dept(loom, "上海销售部", east)
    assert company["path"] == f"/{company['id']}/"
    assert shanghai["path"] == f"/{company['id']}/{east['id']}/{shanghai['id']}/"
    assert shanghai["parent_id"] == east["id"]


def test_moving_a_department_repaths_its_whole_branch(loom: Loom) -> None:
    company = dept(loom, "总公司")
    east, south = dept(loom, "华东大区", company), dept(loom, "华南大区", company)
    shanghai = dept(loom, "上海销售部", east)
    team = dept(loom, "大客户组", shanghai)
    moved = move_department(loom, shanghai["id"], south["id"], actor=SYSTEM)
    assert moved["parent_id"] == south["id"]
    assert moved["path"] == f"{south['path']}{shanghai['id']}/"
    assert get_department(loom, team["id"])["path"] == f"{south['path']}{shanghai['id']}/{team['id']}/"
    assert get_department(loom, east["id"])["path"] == east["path"]  # siblings untouched
    top = move_department(loom, shanghai["id"], None, actor=SYSTEM)
    assert top["path"] == f"/{shanghai['id']}/"
    assert get_department(loom, team["id"])["path"] == f"/{shanghai['id']}/{team['id']}/"


def test_a_department_cannot_move_under_itself_or_below_itself(loom: Loom) -> None:
    east = dept(loom, "华东大区")
    shanghai = dept(loom, "上海销售部", east)
    for target in (east, shanghai):
        with pytest.raises(IdentityInvalid, match="itself or one below it"):
            move_department(loom, east["id"], target["id"], actor=SYSTEM)


def test_sibling_names_are_unique_but_cousins_may_share_one(loom: Loom) -> None:
    east, south = dept(loom, "华东大区"), dept(loom, "华南大区")
    dept(loom, "销售一部", east)
    dept(loom, "销售一部", south)
    with pytest.raises(IdentityInvalid, match="already a department named"):
        dept(loom, "销售一部", east)
    with pytest.raises(IdentityInvalid, match=r"2 departments are named '销售一部'.*give the id"):
        department_by_name(loom, "销售一部")
    assert department_by_name(loom, "华东大区")["id"] == east["id"]


def test_the_tree_nests_children_sorted_by_name(loom: Loom) -> None:
    company = dept(loom, "Company")
    dept(loom, "Sales", company)
    finance = dept(loom, "Finance", company)
    dept(loom, "Payables", finance)
    tree = department_tree(loom)
    assert [root["name"] for root in tree] == ["Company"]
    assert [child["name"] for child in tree[0]["children"]] == ["Finance", "Sales"]
    assert [child["name"] for child in tree[0]["children"][0]["children"]] == ["Payables"]


def test_members_of_a_department_and_of_everything_below_it(loom: Loom) -> None:
    east = dept(loom, "华东大区")
    shanghai = dept(loom, "上海销售部", east)
    person(loom, "east.admin", east)
    person(loom, "sh.rep", shanghai)
    gone = person(loom, "sh.gone", shanghai)
    disable_user(loom, gone["id"], actor=SYSTEM)
    person(loom, "elsewhere")
    assert [u["username"] for u in members(loom, east["id"])] == ["east.admin"]
    assert [u["username"] for u in members(loom, east["id"], include_below=True)] == ["east.admin", "sh.rep"]
    everyone = members(loom, east["id"], include_below=True, include_disabled=True)
    assert [u["username"] for u in everyone] == ["east.admin", "sh.gone", "sh.rep"]


def test_head_of_a_department(loom: Loom) -> None:
    east = dept(loom, "华东大区")
    assert head_of(loom, east["id"]) is None
    boss = person(loom, "east.boss", east)
    set_head(loom, east["id"], boss["id"], actor=SYSTEM)
    assert head_of(loom, east["id"])["username"] == "east.boss"


def test_manager_chain_follows_managers_then_department_heads_up_the_tree(loom: Loom) -> None:
    company = dept(loom, "总公司")
    east = dept(loom, "华东大区", company)
    shanghai = dept(loom, "上海销售部", east)
    ceo = person(loom, "ceo", company)
    set_head(loom, company["id"], ceo["id"], actor=SYSTEM)
    region_head = person(loom, "region.head", east)
    set_head(loom, east["id"], region_head["id"], actor=SYSTEM)
    team_lead = person(loom, "team.lead", shanghai)  # the Shanghai office has no head
    rep = person(loom, "rep", shanghai, manager=team_lead)

    chain = [u["username"] for u in manager_chain(loom, rep["id"], 5)]
    # rep → direct manager; team.lead has none and no Shanghai head → east's head → company's head.
    assert chain == ["team.lead", "region.head", "ceo"]
    assert [u["username"] for u in manager_chain(loom, rep["id"], 2)] == ["team.lead", "region.head"]
    assert manager_chain(loom, ceo["id"], 3) == []  # the top of the company


def test_a_head_reports_to_the_head_above_and_disabled_managers_are_passed_over(loom: Loom) -> None:
    company = dept(loom, "总公司")
    east = dept(loom, "华东大区", company)
    ceo = person(loom, "ceo", company)
    set_head(loom, company["id"], ceo["id"], actor=SYSTEM)
    region_head = person(loom, "region.head", east)
    set_head(loom, east["id"], region_head["id"], actor=SYSTEM)
    assert [u["username"] for u in manager_chain(loom, region_head["id"], 1)] == ["ceo"]

    left = person(loom, "left.company", east, manager=region_head)
    rep = person(loom, "rep", east)
    set_manager(loom, rep["id"], left["id"], actor=SYSTEM)
    disable_user(loom, left["id"], actor=SYSTEM)
    assert [u["username"] for u in manager_chain(loom, rep["id"], 2)] == ["region.head", "ceo"]


def test_manager_chain_needs_a_positive_number_of_levels(loom: Loom) -> None:
    rep = person(loom, "rep")
    with pytest.raises(IdentityInvalid, match="at least 1"):
        manager_chain(loom, rep["id"], 0)
