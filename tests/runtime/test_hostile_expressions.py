"""The project's corpus of hostile and malformed expressions through every entry point, on both databases:
no server error anywhere, and every refusal a 400/422 (or a metadata problem) with a message."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from engine.base.actors import SYSTEM
from engine.base.errors import ExpressionError, LoomError
from engine.expressions import EvalContext, SqlContext, evaluate, to_sql
from engine.loom import Loom
from engine.records.sql import name_resolver
from engine.schema.checks import check_forms, check_objects, check_reports, check_rules
from metadata.forms import FormSpec
from metadata.reports import ReportSpec
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec
from tests.runtime.api_world import Api, error_of
from tests.runtime.pages_world import build_team

CORPUS_FILE = Path(__file__).parents[1] / "fixtures" / "hostile_expressions.txt"
CORPUS = [line for line in CORPUS_FILE.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"]
# Bytes no database stores in text, which a URL or a body can still carry.
CORPUS += ['name == "\x00"', 'name == "\\x00"', "name == '\ud800'", "\x00", 'contains(name, "\x00")']


def test_the_corpus_is_large() -> None:
    assert len(CORPUS) >= 200


def _refused_well(response) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code in (200, 204):
        return True
    message = error_of(response)["message"]
    return response.status_code in (400, 422) and len(message) > 10 and message != "internal error"


def test_every_expression_through_the_api_filter_sort_and_list_page(crm: Loom) -> None:
    api = Api(crm)
    api.person("admin", ["admin"])
    api.create("customer", {"name": "上海云杉科技有限公司", "interested_categories": ["software"]})
    bad = []
    for text in CORPUS:
        encoded = quote(text, safe="", errors="surrogatepass")
        for path in (f"/records/customer?filter={encoded}", f"/records/customer?sort={encoded}"):
            response = api.get(path)
            if not _refused_well(response):
                bad.append((path, response.status_code, response.get_data(as_text=True)[:200]))
    assert bad == [], bad[:8]


def test_every_expression_through_the_list_page_and_export(crm: Loom) -> None:
    client = build_team(crm).client("wang.fang")
    bad = []
    for text in CORPUS[::3]:
        for path in ("/app/customer", "/app/customer/export.csv"):
            response = client.get(path, query_string={"where": text, "sort": text})
            if response.status_code >= 500:
                bad.append((path, text, response.status_code))
    assert bad == [], bad[:8]


def _customer(crm: Loom) -> ObjectSpec:
    return crm.registry.object("customer").spec


def test_every_expression_as_metadata_is_checked_and_what_passes_runs_in_python_and_sql(crm: Loom) -> None:
    """Formula, rule condition, form condition and report filter: a problem with a path, or an
    expression that then evaluates (rule, form) and compiles and runs (schedule, report) without a crash."""
    customer = _customer(crm)
    objects = {name: model.spec for name, model in crm.registry.objects.items()}
    record = crm.records().create("customer", {"name": "成都天府软件", "interested_categories": []})
    ectx = EvalContext(now=datetime(2026, 11, 26, 9))
    sctx = SqlContext(datetime(2026, 11, 26, 9), SYSTEM, crm.functions, crm.db.dialect.name)  # type: ignore[arg-type]
    model = crm.registry.object("customer")
    crashes = []
    for text in CORPUS:
        spec = customer.to_json()
        spec["fields"].append(
            {"name": "probe", "type": "formula", "label": {"zh_CN": "探", "en": "Probe"},
             "expression": text, "result": "boolean"}
        )  # fmt: skip
        rule = RuleSpec.from_json(
            {"name": "probe", "object": "customer", "trigger": {"type": "on_save"}, "condition": text,
             "actions": [{"type": "set_field", "field": "remark", "value": "'x'"}]}
        )  # fmt: skip
        form = FormSpec.from_json(
            {"name": "probe", "object": "customer",
             "sections": [{"label": {"zh_CN": "基", "en": "Basic"}, "visible_if": text, "fields": ["name"]}]}
        )  # fmt: skip
        report = ReportSpec.from_json(
            {"name": "probe", "object": "customer", "label": {"zh_CN": "探", "en": "Probe"}, "filter": text,
             "group_by": [{"field": "level"}], "measures": [{"function": "count"}]}
        )  # fmt: skip
        try:
            # Only the changed object, as applying a change checks it.
            problems = check_objects(
                {**objects, "customer": ObjectSpec.from_json(spec)},
                crm.field_types,
                crm.functions,
                {},
                only={"customer"},
            )
            problems += check_rules(
                {"probe": rule}, objects, crm.actions, crm.functions, {}, field_types=crm.field_types
            )
            problems += check_forms({"probe": form}, objects, crm.functions, {}, crm.field_types)
            problems += check_reports({"probe": report}, objects, crm.field_types, crm.functions, {})
        except Exception as error:  # any crash is what this test looks for
            crashes.append((text, "check", repr(error)))
            continue
        assert all(problem.path and problem.message for problem in problems)
        if problems:
            continue
        # Accepted as a condition: Python evaluation fails only with an ExpressionError, and SQL
        # compiles and runs (as a schedule or report would) or is refused with one.
        try:
            evaluate(text, record, ectx)
        except ExpressionError:
            pass
        except Exception as error:  # any crash is what this test looks for
            crashes.append((text, "python", repr(error)))
        try:
            condition = to_sql(text, name_resolver(model, crm.registry, sctx), sctx, as_condition=True)
            with crm.read() as conn:
                conn.execute(model.table.select().where(condition)).all()
        except LoomError:
            pass
        except Exception as error:  # any crash is what this test looks for
            crashes.append((text, "sql", repr(error)[:200]))
    assert crashes == [], crashes[:8]
