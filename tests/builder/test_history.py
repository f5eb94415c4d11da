"""变更历史 and packages in the builder: revisions with a readable diff, revert, export, import."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from typing import Any

from engine.base.actors import Actor
from engine.schema.changes import apply_objects
from engine.store.documents import get_document, revisions
from metadata import validation
from tests.runtime.pages_world import Team, csrf, text

WECHAT = {"name": "wechat", "type": "text", "label": {"zh_CN": "微信号", "en": "WeChat"}}


def change_customer(team: Team, actor: Actor, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the customer object as an admin would through any surface: validated, applied, revised."""
    with team.loom.read() as conn:
        body = json.loads(json.dumps(get_document(conn, "object", "customer").body))
    change(body)
    result = validation.validate_object(
        body, "objects/customer.json", known_objects=team.loom.registry.specs()
    )
    assert not result.problems, result.problems
    apply_objects(team.loom, list(result.objects), actor=actor)


def field(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in body["fields"] if f["name"] == name)


def latest_revision(team: Team, kind: str, name: str) -> dict[str, Any]:
    with team.loom.read() as conn:
        return revisions(conn, kind, name)[0]


def customer_label(team: Team, name: str) -> str:
    with team.loom.read() as conn:
        return field(get_document(conn, "object", "customer").body, name)["label"]["zh_CN"]


def test_a_label_change_is_listed_with_a_readable_diff_and_reverting_restores_the_old_label(
    team: Team,
) -> None:
    admin = team.client("guan.li")
    before = latest_revision(team, "object", "customer")
    change_customer(
        team, team.actor("guan.li"), lambda b: field(b, "short_name")["label"].update(zh_CN="简称")
    )
    revision = latest_revision(team, "object", "customer")

    listing = text(admin.get("/builder/history/", query_string={"kind": "object", "name": "custom"}))
    assert f'href="/builder/history/{revision["id"]}"' in listing
    assert "管理员" in listing and "客户" in listing  # who, and the kind in words
    assert listing.index(f"#{revision['id']}") < listing.index(f"#{before['id']}")  # newest first
    assert f"#{revision['id']}" not in text(admin.get("/builder/history/", query_string={"kind": "rule"}))

    page = text(admin.get(f"/builder/history/{revision['id']}"))
    assert "字段 简称（short_name）" in page  # the field named by its label, not by a JSON path
    assert "显示名称 › 中文" in page and "客户简称" in page and "简称" in page
    assert "<summary>原始 JSON 差异</summary>" in page and "/fields/@short_name/label/zh_CN" in page
    assert "恢复到此版本" in page

    plan = admin.get(f"/builder/history/{before['id']}/revert")
    assert plan.status_code == 200
    assert (
        "<strong>修改 对象</strong> <code>customer · 1 处变更</code>" in text(plan)
        and customer_label(team, "short_name") == "简称"
    )  # only planned
    applied = admin.post(
        f"/builder/history/{before['id']}/revert", data={"csrf_token": csrf(admin, "/builder/")}
    )
    assert applied.status_code == 302
    assert customer_label(team, "short_name") == "客户简称"
    reverted = latest_revision(team, "object", "customer")
    assert reverted["note"] == f"revert to revision {before['id']}" and reverted["actor_name"] == "管理员"


def test_a_removed_field_holding_values_comes_back_with_every_value_when_reverted(team: Team) -> None:
    admin_actor = team.actor("guan.li")
    change_customer(team, admin_actor, lambda b: b["fields"].append(dict(WECHAT)))
    with_field = latest_revision(team, "object", "customer")
    ids = {team.customer(f"客户{n}", wechat=f"wx_{n}")["id"]: f"wx_{n}" for n in range(3)}
    ids[team.customer("没有微信的客户")["id"]] = None

    change_customer(
        team, admin_actor, lambda b: b.update(fields=[f for f in b["fields"] if f["name"] != "wechat"])
    )
    assert "wechat" not in team.loom.records().get("customer", next(iter(ids)))

    admin = team.client("guan.li")
    removal = text(admin.get(f"/builder/history/{latest_revision(team, 'object', 'customer')['id']}"))
    assert "字段 微信号（wechat）" in removal and "删除" in removal and "类型：text" in removal
    plan = text(admin.get(f"/builder/history/{with_field['id']}/revert"))
    assert 'data-action="restore_column"' in plan and "恢复归档的列及其数据" in plan
    response = admin.post(
        f"/builder/history/{with_field['id']}/revert", data={"csrf_token": csrf(admin, "/builder/")}
    )
    assert response.status_code == 302
    assert {rid: team.loom.records().get("customer", rid).get("wechat") for rid in ids} == ids

    export = admin.get("/builder/packages/crm.zip")
    assert export.status_code == 200 and export.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(export.data)) as archive:
        customer = json.loads(archive.read("objects/customer.json"))
    assert field(customer, "wechat")["label"]["zh_CN"] == "微信号"


def test_removing_a_field_shows_its_archiving_as_destructive_in_the_revert_plan(team: Team) -> None:
    change_customer(team, team.actor("guan.li"), lambda b: b["fields"].append(dict(WECHAT)))
    without = [
        r for r in revisions_of_customer(team) if not any(f["name"] == "wechat" for f in r["after"]["fields"])
    ]
    admin = team.client("guan.li")
    page = text(admin.get(f"/builder/history/{without[0]['id']}/revert"))
    assert (
        'class="destructive" data-action="archive_column"' in page
        and "归档列" in page
        and "删除或归档" in page
    )


def revisions_of_customer(team: Team) -> list[dict[str, Any]]:
    with team.loom.read() as conn:
        return revisions(conn, "object", "customer")


def package_zip(files: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body if isinstance(body, str) else json.dumps(body, ensure_ascii=False))
    return buffer.getvalue()


SUPPLIER_PACKAGE = {
    "package.json": {
        "name": "suppliers",
        "version": "1.0.0",
        "label": {"zh_CN": "供应商", "en": "Suppliers"},
        "depends": {"crm": ">=1.0,<2"},
    },
    "objects/supplier.json": {
        "name": "supplier",
        "label": {"zh_CN": "供应商", "en": "Supplier"},
        "plural_label": {"zh_CN": "供应商", "en": "Suppliers"},
        "title_field": "name",
        "fields": [
            {"name": "name", "type": "text", "label": {"zh_CN": "名称", "en": "Name"}, "required": True}
        ],
    },
}


def upload(client: Any, data: bytes, filename: str = "package.zip") -> Any:
    form = {"csrf_token": csrf(client, "/builder/packages/"), "package": (io.BytesIO(data), filename)}
    return client.post("/builder/packages/upload", data=form, content_type="multipart/form-data")


def test_an_uploaded_package_shows_its_plan_and_is_applied_on_confirmation(team: Team) -> None:
    admin = team.client("guan.li")
    planned = upload(admin, package_zip(SUPPLIER_PACKAGE))
    assert planned.status_code == 200
    page = text(planned)
    assert (
        "安装 suppliers 1.0.0" in page
        and "<strong>新增 对象</strong> <code>supplier</code>" in page
        and "新建表" in page
    )
    assert "supplier" not in team.loom.registry.objects  # only planned
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)

    applied = admin.post(
        "/builder/packages/apply", data={"csrf_token": csrf(admin, "/builder/"), "token": token}
    )
    assert applied.status_code == 302
    assert "supplier" in team.loom.registry.objects
    assert team.loom.records().create("supplier", {"name": "华东钢材"})["name"] == "华东钢材"
    assert "suppliers" in text(admin.get("/builder/packages/"))
    again = admin.post(
        "/builder/packages/apply", data={"csrf_token": csrf(admin, "/builder/"), "token": token}
    )
    assert again.status_code == 410  # an upload is applied once


def test_an_uploaded_newer_version_of_an_installed_package_is_planned_as_an_upgrade(team: Team) -> None:
    admin = team.client("guan.li")
    with zipfile.ZipFile(io.BytesIO(admin.get("/builder/packages/crm.zip").data)) as archive:
        files = {name: json.loads(archive.read(name)) for name in archive.namelist()}
    files["package.json"]["version"] = "1.1.0"
    field(files["objects/customer.json"], "short_name")["label"]["zh_CN"] = "简称"
    planned = upload(admin, package_zip(files))
    assert planned.status_code == 200
    page = text(planned)
    assert (
        "升级到 crm 1.1.0" in page and "<strong>修改 对象</strong> <code>customer · 1 处变更</code>" in page
    )
    token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    token_form = {"csrf_token": csrf(admin, "/builder/"), "token": token}
    assert admin.post("/builder/packages/apply", data=token_form).status_code == 302
    assert customer_label(team, "short_name") == "简称"
    assert "1.1.0" in text(admin.get("/builder/packages/"))


def test_an_invalid_package_lists_every_problem_with_its_file_and_path_and_applies_nothing(
    team: Team,
) -> None:
    admin = team.client("guan.li")
    broken = json.loads(json.dumps(SUPPLIER_PACKAGE))
    broken["objects/supplier.json"]["title_field"] = "missing"
    broken["objects/warehouse.json"] = {
        **broken["objects/supplier.json"],
        "name": "warehouse",
        "fields": "none",
    }
    response = upload(admin, package_zip(broken))
    assert response.status_code == 422
    page = text(response)
    assert "个问题；未做任何更改" in page
    assert "<code>objects/supplier.json</code></td><td><code>/title_field</code>" in page
    assert "<code>objects/warehouse.json</code></td><td><code>/fields</code>" in page
    assert "supplier" not in team.loom.registry.objects

    not_zip = upload(admin, b"this is not a zip", "package.zip")
    assert not_zip.status_code == 422 and "不是 zip 文件" in text(not_zip)
    no_manifest = upload(
        admin, package_zip({"objects/supplier.json": SUPPLIER_PACKAGE["objects/supplier.json"]})
    )
    assert no_manifest.status_code == 422 and "package.json" in text(no_manifest)
    too_big = upload(admin, b"PK" + b"0" * (5 * 1024 * 1024))
    assert too_big.status_code == 413 and "大于 5 MB" in text(too_big)
    with zipfile.ZipFile(buffer := io.BytesIO(), "w") as archive:
        archive.writestr("package.json", json.dumps(SUPPLIER_PACKAGE["package.json"]))
    encrypted = bytearray(buffer.getvalue())
    encrypted[6] |= 1  # the entry claims to be encrypted, in its local header and the central directory
    encrypted[encrypted.find(b"PK\x01\x02") + 8] |= 1
    refused = upload(admin, bytes(encrypted))
    assert refused.status_code == 422 and "<code>package.json</code>" in text(refused)
    nothing = admin.post("/builder/packages/upload", data={"csrf_token": csrf(admin, "/builder/")})
    assert nothing.status_code == 400
    assert (
        admin.post(
            "/builder/packages/apply", data={"csrf_token": csrf(admin, "/builder/"), "token": "../x"}
        ).status_code
        == 410
    )


def test_only_administrators_reach_history_and_packages(team: Team) -> None:
    revision = latest_revision(team, "object", "customer")
    rep = team.client("wang.fang")
    for path in (
        "/builder/history/",
        f"/builder/history/{revision['id']}",
        f"/builder/history/{revision['id']}/revert",
        "/builder/packages/",
        "/builder/packages/crm.zip",
    ):
        assert rep.get(path).status_code == 403, path
    token = csrf(rep, "/")
    assert (
        rep.post(f"/builder/history/{revision['id']}/revert", data={"csrf_token": token}).status_code == 403
    )
    form = {"csrf_token": token, "package": (io.BytesIO(package_zip(SUPPLIER_PACKAGE)), "p.zip")}
    assert (
        rep.post("/builder/packages/upload", data=form, content_type="multipart/form-data").status_code == 403
    )
    assert "supplier" not in team.loom.registry.objects


def test_a_removal_cannot_be_reapplied_but_the_revision_before_it_brings_the_document_back(
    team: Team,
) -> None:
    rule = sorted(team.loom.registry.rule_specs())[0]
    apply_objects(team.loom, [], removed=[("rule", rule)], actor=team.actor("guan.li"))
    removal = latest_revision(team, "rule", rule)
    admin = team.client("guan.li")
    assert "恢复到此版本" not in text(admin.get(f"/builder/history/{removal['id']}"))
    refused = admin.get(f"/builder/history/{removal['id']}/revert")
    assert refused.status_code == 409 and "此版本删除了该文档" in text(refused)

    with team.loom.read() as conn:
        earlier = revisions(conn, "rule", rule)[1]
    token = csrf(admin, "/builder/")
    assert (
        admin.post(f"/builder/history/{earlier['id']}/revert", data={"csrf_token": token}).status_code == 302
    )
    assert rule in team.loom.registry.rule_specs()


def test_unknown_revisions_and_packages_are_404(team: Team) -> None:
    admin = team.client("guan.li")
    assert admin.get("/builder/history/999999").status_code == 404
    assert admin.get("/builder/history/999999/revert").status_code == 404
    assert admin.get("/builder/packages/nope.zip").status_code == 404
    assert admin.get("/builder/history/", query_string={"before": "x", "kind": "<b>"}).status_code == 200
    english = team.client("guan.li", "en")
    assert "<h1>Change history</h1>" in text(english.get("/builder/history/"))
    assert "Export and import packages" in text(english.get("/builder/packages/"))


def test_an_uploaded_package_with_seed_data_is_refused_as_validate_reports_it(team: Team) -> None:
    admin = team.client("guan.li")
    seeded = {
        **SUPPLIER_PACKAGE,
        "data/supplier.json": {"object": "supplier", "records": [{"name": "华东钢材"}]},
    }
    response = upload(admin, package_zip(seeded))
    assert response.status_code == 422
    page = text(response)
    assert "<code>data/supplier.json</code>" in page and "data/ documents are not supported yet" in page
    assert "supplier" not in team.loom.registry.objects
