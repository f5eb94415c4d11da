"""`loom report NAME` as people run it: a table, CSV or JSON, as a user within their scope."""

from __future__ import annotations

import csv
import io
import json

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from tests.runtime.test_cli import run


def test_the_funnel_from_the_command_line_as_table_csv_and_json(crm_database_url: str) -> None:
    database = crm_database_url
    loom = Loom(database)
    loom.init()
    sales = identity.create_department(loom, "销售部", actor=SYSTEM)["id"]
    other = identity.create_department(loom, "华南区", actor=SYSTEM)["id"]
    rep = identity.create_user(loom, "wang.fang", "王芳", "a-long-password-1", roles=["sales_rep"],
                               department_id=sales, actor=SYSTEM)  # fmt: skip
    far = identity.create_user(loom, "qian.qi", "钱七", "a-long-password-1", roles=["sales_rep"],
                               department_id=other, actor=SYSTEM)  # fmt: skip
    records = loom.records()
    customer = records.create("customer", {"name": "华东电子"})["id"]
    for owner, stage, amount in ((rep, "initial_contact", "1000"), (rep, "negotiation", "2500.50"),
                                 (far, "initial_contact", "700")):  # fmt: skip
        values = {"name": stage, "customer": customer, "stage": stage, "amount": amount, "owner": owner["id"]}
        if stage == "negotiation":
            contact = records.create("contact", {"name": "王经理", "customer": customer})["id"]
            values |= {"contact": contact, "expected_close_date": "2026-12-31"}
        records.create("opportunity", values)
    loom.close()

    table = run("--lang", "zh_CN", "report", "opportunity_funnel", database=database)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["商机阶段", "商机数", "预计金额", "到达数", "转化率"]
    assert lines[2].split() == ["初步接洽", "2", "1700.00", "3"]
    assert lines[3].split() == ["谈判审核", "1", "2500.50", "1", "0.3333"]

    as_rep = run("report", "opportunity_funnel", "--format", "csv", "--as", "wang.fang", database=database)
    assert as_rep.exit_code == 0, as_rep.output
    assert list(csv.reader(io.StringIO(as_rep.output))) == [
        ["Stage", "Opportunities", "Amount", "Reached", "Conversion"],
        ["Initial contact", "1", "1000.00", "2", ""],
        ["Negotiation", "1", "2500.50", "1", "0.5000"],
    ]

    as_json = run("report", "opportunity_funnel", "--format", "json", database=database)
    body = json.loads(as_json.output)
    assert [row["values"]["count"] for row in body["rows"]] == [2, 1]
    assert body["rows"][0]["filter"] == "(stage != 'lost') and stage == 'initial_contact'"

    refused = run("report", "opportunity_funnel", "--param", "period=this_month", database=database)
    assert refused.exit_code == 1
    assert "takes no parameter 'period'" in refused.output
    unknown = run("report", "no_such_report", database=database)
    assert unknown.exit_code == 1 and "no report named 'no_such_report'" in unknown.output
