"""Engine errors in the reader's language: form pages, the REST API, import reports and the command line."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from engine import identity
from engine.base.actors import SYSTEM
from engine.base.messages import localize, localize_problem
from engine.imports import ImportOptions, ImportRefused, bad_rows_report, dry_run, start_import
from engine.loom import Loom
from engine.packages.install import install_package
from engine.schema.changes import apply_objects
from metadata.validation import validate_object
from runtime.cli.group import cli
from runtime.web.app import create_app
from tests.conftest import FIXTURES
from tests.runtime.api_world import Api, error_of
from tests.runtime.pages_world import csrf, text

PASSWORD = "messages-test-password-1"
TAGS = ",".join(f"t{n}" for n in range(51))
# One bad value per field type of the kitchen-sink gadget as a form posts it, and what each language says.
BAD_VALUES = {
    "title": ("x" * 101, "must be at most 100 characters", "最多 100 个字符"),
    "notes": ("x" * 5001, "must be at most 5000 characters", "最多 5000 个字符"),
    "quantity": ("12.5", "must be a whole number", "必须是整数"),
    "weight": ("heavy", "must be a number", "必须是数字"),
    "price": ("€5", "must be an amount in CNY", "必须是金额"),
    "discount": ("lots", "must be a number", "必须是数字"),
    "launch_date": ("2026-13-45", "must be a date like 2026-11-26", "必须是日期"),
    "checked_at": ("soon", "must be a date and time", "必须是日期和时间"),
    "color": ("purple", "must be one of red, green, blue", "必须是以下之一：红、绿、蓝"),
    "contact_email": ("not-an-email", "must be an e-mail address", "必须是电子邮箱地址"),
    "hotline": ("call me", "must be a phone number", "必须是电话号码"),
    "homepage": ("not a web address", "must be an http(s) address", "必须是网址"),
    "maker": ("the big one", "must be a record id", "必须是记录的编号"),
    "inspector": ("someone", "must be a user id", "必须是用户的编号"),
    "labels": (TAGS, "must have at most 50 tags", "最多 50 个标签"),
    "manual": ("a text, not a file", "must be uploaded files, not text", "必须是上传的文件"),
}
# Data a message may show as it is: the values typed, quoted, and the field's currency code.
DATA = re.compile(r"'[^']*'|CNY")


@pytest.fixture
def sink(crm: Loom) -> Loom:
    install_package(crm, FIXTURES / "packages" / "kitchen_sink")
    identity.create_user(crm, "boss", "老板", PASSWORD, roles=["admin"], actor=SYSTEM)
    return crm


def signed_in(loom: Loom, locale: str) -> FlaskClient:
    client = create_app(loom, config={"SECRET_KEY": "messages-secret", "TESTING": True}).test_client()
    page = text(client.get("/login"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "username": "boss", "password": PASSWORD}
    assert client.post("/login", data=form, query_string={"lang": locale}).status_code == 302
    return client


def field_errors(page: str) -> dict[str, str]:
    found = re.findall(r'<p class="field-error" id="error-(\w+)">(.*?)</p>', page, re.S)
    return {name: html.unescape(message) for name, message in found}


def posted_with_bad_values(client: FlaskClient) -> dict[str, str]:
    form = {"csrf_token": csrf(client, "/app/gadget/new")}
    form.update({name: value for name, (value, _, _) in BAD_VALUES.items()})
    return field_errors(text(client.post("/app/gadget/new", data=form)))


def test_each_field_types_error_on_a_chinese_form_is_chinese_and_on_an_english_one_english(
    sink: Loom,
) -> None:
    chinese = posted_with_bad_values(signed_in(sink, "zh_CN"))
    english = posted_with_bad_values(signed_in(sink, "en"))
    assert sorted(chinese) == sorted(english) == sorted(BAD_VALUES)
    for name, (_, said_in_english, said_in_chinese) in BAD_VALUES.items():
        assert said_in_chinese in chinese[name], (name, chinese[name])
        words = re.findall(r"[A-Za-z]{2,}", DATA.sub("", chinese[name]))
        assert not words, f"{name}: {chinese[name]!r} has English words {words}"
        assert said_in_english in english[name], (name, english[name])
        assert not re.search(r"[\u4e00-\u9fff]", DATA.sub("", english[name])), (name, english[name])
    assert sink.queries().count("gadget") == 0


def test_the_api_keeps_english_messages_and_adds_them_in_the_callers_language(sink: Loom) -> None:
    api = Api(sink)
    api.person("admin", ["admin"])
    api.person("rep", ["sales_rep"])
    bad = {"title": "灯", "quantity": "12.5", "color": "purple"}
    preferred = error_of(api.post("/records/gadget", json=bad))
    assert preferred["fields"]["quantity"] == ["must be a whole number (got '12.5')"]
    assert preferred["localized"]["locale"] == "zh_CN"  # the user's preference
    assert preferred["localized"]["fields"] == {
        "quantity": ["必须是整数（收到 '12.5'）"],
        "color": ["必须是以下之一：红、绿、蓝（收到 'purple'）"],
    }
    assert preferred["localized"]["message"].startswith("gadget的数据有误：")
    asked = error_of(api.post("/records/gadget", json=bad, headers={"Accept-Language": "en-GB,en;q=0.8"}))
    assert asked["localized"]["locale"] == "en"
    assert (
        asked["localized"]["fields"] == asked["fields"] and asked["localized"]["message"] == asked["message"]
    )

    refused = api.post("/records/gadget", json={"title": "灯"}, as_="rep")
    assert refused.status_code == 403
    assert error_of(refused)["message"] == "you may not create gadget records"
    assert error_of(refused)["localized"]["message"] == "你没有新建小工具的权限"


def test_an_import_report_gives_each_row_its_reasons_in_the_importers_language(
    sink: Loom, tmp_path: Path
) -> None:
    path = tmp_path / "gadgets.csv"
    path.write_text("标题,数量,颜色\n台灯,2,red\n,12.5,purple\n", encoding="utf-8")
    report = start_import(sink, "gadget", path)
    assert (report.counts.created, report.counts.invalid) == (1, 1)
    chinese = bad_rows_report(sink, report.import_id, "csv", locale="zh_CN").decode("utf-8-sig")
    english = bad_rows_report(sink, report.import_id, "csv", locale="en").decode("utf-8-sig")
    for reason in (
        "标题 (title): 为必填项",
        "数量 (quantity): 必须是整数（收到 '12.5'）",
        "颜色 (color): 必须是以下之一",
    ):
        assert reason in chinese
    for reason in ("Title (title): is required", "Quantity (quantity): must be a whole number (got '12.5')"):
        assert reason in english


def test_the_command_line_speaks_english_unless_asked_for_chinese(sink: Loom, tmp_path: Path) -> None:
    path = tmp_path / "gadgets.csv"
    path.write_text("标题,数量\n,12.5\n", encoding="utf-8")
    database = sink.database_url
    runner = CliRunner()
    dry_run_args = ["--database", database, "import", "gadget", str(path), "--dry-run"]
    english = runner.invoke(cli, dry_run_args, catch_exceptions=False)
    assert "Quantity (quantity): must be a whole number (got '12.5')" in english.output
    chinese = runner.invoke(cli, ["--lang", "zh_CN", *dry_run_args], catch_exceptions=False)
    assert "数量 (quantity): 必须是整数（收到 '12.5'）" in chinese.output
    assert "标题 (title): 为必填项" in chinese.output
    from_environment = runner.invoke(cli, dry_run_args, env={"LOOM_LANG": "zh_CN"}, catch_exceptions=False)
    assert "标题 (title): 为必填项" in from_environment.output
    identity.create_user(sink, "rep", "王芳", PASSWORD, roles=["sales_rep"], actor=SYSTEM)
    refused = runner.invoke(cli, ["--lang", "zh_CN", *dry_run_args, "--as", "rep"])
    assert refused.exit_code == 1 and "error: 你没有导入小工具的权限" in refused.output


def test_a_record_locked_by_its_approval_is_refused_in_the_callers_language(crm: Loom) -> None:
    api = Api(crm)
    api.person("admin", ["admin"])  # with no manager, the approval goes to an administrator
    api.person("rep", ["sales_rep"])
    customer = api.create("customer", {"name": "苏州精工机械有限公司"}, as_="rep")
    contract = api.create(
        "contract", {"name": "数控机床采购合同", "customer": customer["id"], "amount": "86000"}, as_="rep"
    )
    crm.flows.submit("contract", contract["id"], actor=identity.actor_for(crm, api.ids["rep"]))
    path = f"/records/contract/{contract['id']}"
    version = api.get(path, as_="rep").get_json()["version"]
    refused = api.patch(path, json={"name": "数控机床采购合同（改）", "version": version}, as_="rep")
    assert refused.status_code == 409, refused.get_json()
    error = error_of(refused)
    assert error["message"].startswith(f"contract {contract['id']} is locked while its approval runs")
    assert error["localized"]["message"] == (
        f"合同 {contract['id']} 正在审批（合同审批），已锁定，只有管理员可以修改"
    )


def test_a_refused_import_mapping_says_every_problem_in_the_importers_language(
    sink: Loom, tmp_path: Path
) -> None:
    path = tmp_path / "gadgets.csv"
    path.write_text("标题,数量\n台灯,2\n", encoding="utf-8")
    mapping = {"标题": "title", "数量": "title", "颜色": "color"}
    with pytest.raises(ImportRefused) as refused:
        dry_run(sink, "gadget", path, ImportOptions(mapping=mapping))
    assert refused.value.message == (
        "the import cannot run: columns '标题' and '数量' both map to 'title'; "
        "column '颜色' is not in the file (its columns: 标题, 数量)"
    )
    assert refused.value.localized("zh_CN") == (
        "无法导入：列 '标题' 和 '数量' 都对应到字段「标题」；文件中没有列 '颜色'（文件的列：标题、数量）"
    )


def test_a_schema_plan_reads_as_before_in_english_and_in_chinese_for_a_chinese_reader(crm: Loom) -> None:
    customer = crm.registry.specs()["customer"]
    fields = [f for f in customer.to_json()["fields"] if f["name"] != "short_name"]
    fields.append({"name": "segment", "type": "select", "options": [{"value": "smb"}]})
    [changed] = validate_object({**customer.to_json(), "fields": fields}, "objects/customer.json").objects
    plan = apply_objects(crm, [changed], actor=SYSTEM, dry_run=True)
    english = plan.lines()
    assert "~ object customer (2 change(s))" in english
    assert "+ add_column obj_customer: segment (select)" in english
    assert "! archive_column obj_customer: short_name (field removed; data kept, restorable)" in english
    chinese = [localize(line, "zh_CN") for line in english]
    assert "~ 修改对象 customer（2 处变更）" in chinese
    assert "+ 新增列 obj_customer：segment（select）" in chinese
    assert "! 归档列 obj_customer：short_name（字段已移除；数据保留，可恢复）" in chinese


def test_metadata_problems_are_read_back_into_chinese_and_unknown_text_stays_as_it_is() -> None:
    said = localize_problem("unknown field 'nosuch': did you mean 'name'? in 'nosuch + 1'", "zh_CN")
    assert said == "没有字段 'nosuch'，是否要用 'name'？（表达式 'nosuch + 1'）"
    assert localize_problem("title field: object 'customer' has no field 'x'", "zh_CN") == (
        "标题字段：对象 'customer' 没有字段 'x'"
    )
    assert localize_problem("a rule's own words", "zh_CN") == "a rule's own words"
    assert localize_problem("unknown field 'x' in 'x'", "en") == "unknown field 'x' in 'x'"
