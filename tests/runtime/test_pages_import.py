"""The import wizard: upload, auto-mapping by Chinese headers, a dry run's bad rows, import, revert."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.imports import ImportOptions, start_import
from engine.loom import Loom
from tests.runtime.pages_world import PASSWORD, Team, build_team, csrf, text

CSV = (
    "姓名,公司名称,手机,电子邮箱\n"
    "陈明,杭州星河科技,13800138000,chen@xinghe.example.com\n"
    ",无名公司,13900139000,\n"  # line 3: no name
    "刘洋,苏州远航,13700137000,liu@yuanhang.example.com\n"
)


@pytest.fixture
def team(crm: Loom, tmp_path: Path) -> Team:
    team = build_team(crm)
    team.app.config["LOOM_UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    return team


def _upload(client, object_name: str = "lead"):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf(client, "/app/import"),
        "object": object_name,
        "file": (io.BytesIO(CSV.encode("utf-8")), "线索.csv"),
    }
    return client.post("/app/import", data=data, content_type="multipart/form-data")


@pytest.mark.both_databases("imports write with COPY on PostgreSQL")
def test_a_csv_with_chinese_headers_is_mapped_dry_run_imported_and_reverted(team: Team) -> None:
    client = team.client("zhang.jingli")
    uploaded = _upload(client)
    assert uploaded.status_code == 302
    mapping_url = uploaded.headers["Location"]
    page = text(client.get(mapping_url))
    for index, field in enumerate(("name", "company", "phone", "email")):
        select = page[page.index(f'name="map-{index}"') :]
        select = select[: select.index("</select>")]
        assert f'value="{field}" selected' in select

    token = mapping_url.split("/app/import/")[1].split("?")[0]
    form = {
        "csrf_token": csrf(client, mapping_url),
        "object": "lead",
        "map-0": "name",
        "map-1": "company",
        "map-2": "phone",
        "map-3": "email",
        "on_duplicate": "skip",
        "key": "",
    }
    dry = text(client.post(f"/app/import/{token}/dry-run", data=form))
    assert 'data-count="created">2<' in dry and 'data-count="invalid">1<' in dry
    bad = dry[dry.index('class="records compact bad-rows"') :]
    assert "<td>3</td>" in bad and "姓名" in bad and "为必填项" in bad
    assert team.loom.queries().count("lead") == 0

    report = client.post(f"/app/import/{token}/report.csv", data=form)
    assert report.status_code == 200 and "无名公司" in report.get_data().decode("utf-8-sig")

    ran = client.post(f"/app/import/{token}/run", data=form)
    assert ran.status_code == 302
    status_url = f"/app/import/{token}/status?object=lead"
    for _ in range(200):
        status = client.get(status_url).get_json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert (
        status["status"] == "done" and status["counts"]["created"] == 2 and status["counts"]["invalid"] == 1
    )
    assert status["rows"] == 3 and status["total"] == 3  # the bar's end: rows of the file
    progress_page = text(client.get(f"/app/import/{token}/progress?object=lead"))
    assert "正在导入：已处理 {done} 行，共约 {total} 行，每秒 {rate} 行" in progress_page
    names = {lead["name"] for lead in team.loom.queries().find("lead").records}
    assert names == {"陈明", "刘洋"}

    listing = text(client.get("/app/import"))
    assert f'data-import="{status["import_id"]}"' in listing
    reverted = client.post(
        f"/app/import/{status['import_id']}/revert", data={"csrf_token": csrf(client, "/app/import")}
    )
    assert reverted.status_code == 302
    assert team.loom.queries().count("lead") == 0
    assert "已撤销" in text(client.get("/app/import"))


def test_someone_without_the_import_permission_is_refused(team: Team) -> None:
    client = team.client("wang.fang")  # a sales rep may create leads but not import them
    assert "lead" not in [
        line for line in text(client.get("/app/import")).split('value="') if line.startswith("lead")
    ]
    refused = _upload(client)
    assert refused.status_code == 422 and team.loom.queries().count("lead") == 0

    manager = team.client("zhang.jingli")
    token = _upload(manager).headers["Location"].split("/app/import/")[1].split("?")[0]
    assert client.get(f"/app/import/{token}?object=lead").status_code == 403


def test_an_imports_problem_report_is_its_importers_and_the_administrators_alone(
    team: Team, tmp_path: Path
) -> None:
    for username, roles in (("liu.jingli", ["sales_manager"]), ("boss", ["admin"])):
        team.ids[username] = identity.create_user(
            team.loom, username, username, PASSWORD, roles=roles, actor=SYSTEM
        )["id"]
    source = tmp_path / "线索.csv"
    source.write_text(CSV, encoding="utf-8")
    mapping = {"姓名": "name", "公司名称": "company", "手机": "phone", "电子邮箱": "email"}
    report = start_import(
        team.loom, "lead", source, ImportOptions(mapping=mapping), actor=team.actor("zhang.jingli")
    )
    problems = f"/app/import/{report.import_id}/problems.csv"

    assert "无名公司" in team.client("zhang.jingli").get(problems).get_data().decode("utf-8-sig")
    assert "无名公司" in team.client("boss").get(problems).get_data().decode("utf-8-sig")
    other_manager = team.client("liu.jingli")
    assert other_manager.get(problems).status_code == 404
    assert f'data-import="{report.import_id}"' not in text(other_manager.get("/app/import"))


MESSY = (
    "客户名称,联系人,手机,客户级别,所在地区,最近跟进日期,微信\n"
    "杭州星河科技有限公司,陈明,138-0013-8000,KA,浙江省,01/15/2026 20:00,wx_chen\n"
    "苏州远航贸易有限公司,刘洋,13700137000,重要,华东地区,2026年1月16日,wx_liu\n"
)


def _upload_messy(client, body: str = MESSY):  # type: ignore[no-untyped-def]
    data = {
        "csrf_token": csrf(client, "/app/import"),
        "object": "customer",
        "file": (io.BytesIO(body.encode("utf-8")), "客户.csv"),
    }
    return client.post("/app/import", data=data, content_type="multipart/form-data")


def _select(page: str, name: str) -> str:
    chunk = page[page.index(f'name="{name}"') :]
    return chunk[: chunk.index("</select>")]


def test_the_wizard_says_how_columns_matched_lists_the_left_out_ones_and_maps_words_once(team: Team) -> None:
    client = team.client("zhang.jingli")
    mapping_url = _upload_messy(client).headers["Location"]
    page = text(client.get(mapping_url))
    expected = ("name", "contact_name", "phone", "level", "region", "last_followup_at")
    for index, field in enumerate(expected):
        assert f'value="{field}" selected' in _select(page, f"map-{index}")
    assert 'data-how="alias"' in page and "字段的别名" in page
    notice = page[page.index('id="unmapped-columns"') :]
    assert "微信" in notice[: notice.index("</p>")] and "不会导入" in notice

    token = mapping_url.split("/app/import/")[1].split("?")[0]
    form = {"csrf_token": csrf(client, mapping_url), "object": "customer", "on_duplicate": "skip", "key": ""}
    form |= {f"map-{index}": field for index, field in enumerate(expected)}
    dry = text(client.post(f"/app/import/{token}/dry-run", data=form))
    # KA is no option of 客户级别: the value step offers it, and its row is invalid until it is chosen.
    assert 'data-count="invalid">1<' in dry and 'data-word="KA"' in dry
    index = dry[: dry.index('data-word="KA"')].rsplit('name="vvalue-', 1)[1].split('"')[0]
    form |= {f"vfield-{index}": "level", f"vtext-{index}": "KA", f"vvalue-{index}": "key"}
    dry = text(client.post(f"/app/import/{token}/dry-run", data=form))
    assert 'data-count="created">2<' in dry and 'data-count="invalid">0<' in dry

    assert client.post(f"/app/import/{token}/run", data=form).status_code == 302
    for _ in range(200):
        status = client.get(f"/app/import/{token}/status?object=customer").get_json()
        if status["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    assert status["counts"]["created"] == 2
    stored = {c["name"]: c for c in team.loom.queries().find("customer", limit=500).records}
    star = stored["杭州星河科技有限公司"]
    assert (star["level"], star["region"], star["phone"]) == ("key", "east", "13800138000")
    # 20:00 on 15 January in Beijing, as the record form would read the same text.
    assert star["last_followup_at"].isoformat() == "2026-01-15T12:00:00"

    # The next file of the same team: the word is mapped already, saved with the last import.
    again = _upload_messy(client, MESSY.replace("杭州星河", "宁波海港").replace("苏州远航", "温州远航"))
    next_page = text(client.get(again.headers["Location"]))
    assert 'data-word="KA"' in next_page and 'value="key" selected' in _select(next_page, "vvalue-0")
    # Its rows share the phones just imported: duplicates, said in Chinese with no internal names.
    next_token = again.headers["Location"].split("/app/import/")[1].split("?")[0]
    form["csrf_token"] = csrf(client, again.headers["Location"])
    repeat = text(client.post(f"/app/import/{next_token}/dry-run", data=form))
    assert "与系统中已有的客户" in repeat and "联系电话相同" in repeat and "_record" not in repeat


@pytest.mark.both_databases("PostgreSQL refuses some text SQLite takes")
def test_hostile_mapping_posts_get_a_page_never_a_500(team: Team) -> None:
    client = team.client("zhang.jingli")
    mapping_url = _upload_messy(client).headers["Location"]
    token = mapping_url.split("/app/import/")[1].split("?")[0]
    base = {"csrf_token": csrf(client, mapping_url), "object": "customer"}
    for form in (
        {"map-0": "name", "date_order": "sideways"},
        {"map-0": "name", "on_duplicate": "explode"},
        {"map-0": "no_such_field", "map-1": "name"},
        {"map-0": "name", "vfield-0": "level", "vtext-0": "KA", "vvalue-0": "no_such_option"},
        {"map-0": "name", "vfield-0": "no_such_field", "vtext-0": "x", "vvalue-0": "(empty)"},
        {"map-0": "name", "vfield-0": "name", "vtext-0": "x", "vvalue-0": "y", "vfield-1": "level"},
        {"map-0": "code"},
    ):
        # A request the engine refuses is refused by "run" too, before any import starts.
        refused = "sideways" in form.values() or "explode" in form.values() or "map-1" in form
        for action in ("dry-run", "report.csv", *(("run",) if refused else ())):
            response = client.post(f"/app/import/{token}/{action}", data=base | form)
            assert response.status_code < 500, (action, form, response.status_code)
    bad_order = base | {"map-0": "name", "date_order": "x"}
    refused = text(client.post(f"/app/import/{token}/dry-run", data=bad_order))
    assert "日期顺序必须是以下之一" in refused


def test_a_file_named_xlsx_that_is_no_workbook_is_refused_on_the_upload_page(team: Team) -> None:
    client = team.client("zhang.jingli")
    for content in (CSV.encode("utf-8"), b"PK\x03\x04broken"):
        data = {
            "csrf_token": csrf(client, "/app/import"),
            "object": "lead",
            "file": (io.BytesIO(content), "线索.xlsx"),
        }
        refused = client.post("/app/import", data=data, content_type="multipart/form-data")
        assert refused.status_code == 422
        assert "不是可读取的 XLSX 文件" in text(refused)
