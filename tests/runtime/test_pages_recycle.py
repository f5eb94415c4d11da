"""Deleting from the record page and the recycle bin: shown only to those allowed, restored whole,
purged with the record's files by administrators only."""

from __future__ import annotations

import io
import re

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from tests.runtime.pages_world import PASSWORD, Team, build_team, csrf, text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200


@pytest.fixture
def team(crm: Loom) -> Team:
    team = build_team(crm)
    team.ids["gao.admin"] = identity.create_user(
        crm, "gao.admin", "高管理", PASSWORD, roles=["admin"], actor=SYSTEM
    )["id"]
    return team


def followup_with_photo(team: Team) -> tuple[dict, dict]:
    wang = team.actor("wang.fang")
    photo = team.loom.files.upload(wang, "followup", "attachments", "现场.png", io.BytesIO(PNG))
    values = {"subject": "上门拜访苏州精工", "content": "看了产线", "attachments": [photo]}
    return team.loom.records(wang).create("followup", values), photo


def delete_form(page: str, record: dict) -> str | None:
    found = re.search(rf'<form method="post" action="/app/followup/{record["id"]}/delete"', page)
    return found.group(0) if found else None


def test_the_delete_button_shows_only_to_those_whose_scope_allows_it(team: Team) -> None:
    record, _ = followup_with_photo(team)
    path = f"/app/followup/{record['id']}"
    own = text(team.client("wang.fang").get(path))
    assert delete_form(own, record) and "删除</button>" in own
    assert "将「上门拜访苏州精工」移到回收站？" in own  # the confirmation
    li = team.client("li.na")
    colleague = text(li.get(path))
    assert "上门拜访苏州精工" in colleague and delete_form(colleague, record) is None
    refused = li.post(f"{path}/delete", data={"csrf_token": csrf(li, path)})
    assert refused.status_code == 403
    assert team.loom.records().get("followup", record["id"])["subject"] == "上门拜访苏州精工"


def test_a_deleted_record_waits_in_the_recycle_bin_with_its_files_and_comes_back_whole(team: Team) -> None:
    record, photo = followup_with_photo(team)
    wang = team.client("wang.fang")
    path = f"/app/followup/{record['id']}"
    deleted = wang.post(f"{path}/delete", data={"csrf_token": csrf(wang, path), "_version": "1"})
    assert deleted.status_code == 302 and deleted.headers["Location"] == "/app/followup"
    assert "已移到回收站，可在回收站中恢复" in text(wang.get("/app/followup"))
    assert wang.get(path).status_code == 404
    assert team.loom.files.store.exists(photo["key"])  # deleting keeps the files

    binned = text(wang.get("/recycle-bin"))
    assert "<h1>回收站</h1>" in binned and "上门拜访苏州精工" in binned and "王芳" in binned
    assert f"/recycle-bin/followup/{record['id']}/restore" in binned
    assert "/purge" not in binned  # purging is for administrators
    assert "上门拜访苏州精工" not in text(team.client("li.na").get("/recycle-bin"))  # not hers to restore
    assert "上门拜访苏州精工" in text(wang.get("/recycle-bin?object=followup"))

    restored = wang.post(
        f"/recycle-bin/followup/{record['id']}/restore", data={"csrf_token": csrf(wang, "/recycle-bin")}
    )
    assert restored.headers["Location"] == path
    page = text(wang.get(path))
    assert "已恢复" in page and "现场.png" in page
    link = f"{path}/files/attachments/{photo['key']}"
    assert wang.get(link).data == PNG
    assert "回收站是空的。" in text(wang.get("/recycle-bin"))


def test_only_an_administrator_purges_and_the_files_go_with_the_record(team: Team) -> None:
    record, photo = followup_with_photo(team)
    team.loom.records(team.actor("wang.fang")).delete("followup", record["id"])
    purge_path = f"/recycle-bin/followup/{record['id']}/purge"
    wang = team.client("wang.fang")
    assert wang.post(purge_path, data={"csrf_token": csrf(wang, "/recycle-bin")}).status_code == 403
    admin = team.client("gao.admin")
    binned = text(admin.get("/recycle-bin"))
    assert purge_path in binned and "彻底删除「上门拜访苏州精工」及其附件？此操作无法撤销。" in binned
    purged = admin.post(purge_path, data={"csrf_token": csrf(admin, "/recycle-bin")})
    assert purged.status_code == 302
    assert "已彻底删除" in text(admin.get(purged.headers["Location"]))
    assert not team.loom.files.store.exists(photo["key"])
    assert "上门拜访苏州精工" not in text(admin.get("/recycle-bin"))
    assert admin.post(purge_path, data={"csrf_token": csrf(admin, "/recycle-bin")}).status_code == 404
    assert admin.get(f"/app/followup/{record['id']}").status_code == 404


def test_the_recycle_bin_speaks_chinese_and_lists_only_objects_one_may_delete(team: Team) -> None:
    page = text(team.client("wang.fang").get("/recycle-bin"))
    assert "已删除的记录连同附件保留在这里" in page
    tabs = page[page.index('class="tabs bin-tabs"') :]
    tabs = tabs[: tabs.index("</nav>")]
    assert "跟进记录" in tabs and "待办任务" in tabs
    assert "客户" not in tabs  # a rep deletes no customers
    assert ">Recycle bin<" not in page and "Restore" not in page
