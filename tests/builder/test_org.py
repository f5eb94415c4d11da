"""The organisation pages: an administrator manages users, departments, roles and handovers."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from engine import identity
from engine.base.actors import SYSTEM
from engine.store.audit import record_history
from engine.store.documents import revisions
from tests.runtime.pages_world import PASSWORD, Team, csrf, text


def sign_in(team: Team, username: str, password: str = PASSWORD) -> FlaskClient:
    client = team.app.test_client()
    form = {"csrf_token": csrf(client, "/login"), "username": username, "password": password}
    assert client.post("/login", data=form).status_code == 302
    return client


def create_user(team: Team, admin: FlaskClient, **fields: object) -> object:
    form = {"csrf_token": csrf(admin, "/builder/org/users/new"), "locale": "zh_CN", **fields}
    return admin.post("/builder/org/users/new", data=form)


class _Controls(HTMLParser):
    """The matrix form's controls as a browser would post them, unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[tuple[str, str]] = []
        self.select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if "disabled" in a:
            return
        if tag == "input" and name:
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values.append((name, a.get("value") or "on"))
            else:
                self.values.append((name, a.get("value") or ""))
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select and "selected" in a:
            self.values.append((self.select, a.get("value") or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None


def matrix_form(page: str) -> dict[str, str]:
    controls = _Controls()
    controls.feed(page)
    return dict(controls.values)


def test_admin_creates_a_sales_rep_in_a_department_who_then_sees_only_their_own_customers(team: Team) -> None:
    admin = team.client("guan.li")
    east = identity.create_department(team.loom, "华东销售部", actor=SYSTEM)["id"]
    team.customer("王芳的客户有限公司", owner="wang.fang")
    page = admin.get("/builder/org/users/new")
    assert "华东销售部" in text(page) and "销售代表" in text(page)

    answer = create_user(
        team,
        admin,
        username="Chen.Jing",
        display_name="陈静",
        email="chen.jing@example.com",
        password=PASSWORD,
        department_id=str(east),
        roles="sales_rep",
    )
    assert answer.status_code == 302
    chen = identity.user_by_username(team.loom, "chen.jing")
    assert (chen["department_id"], chen["roles"], chen["active"]) == (east, ["sales_rep"], True)
    listed = text(admin.get("/builder/org/", query_string={"department": east}))
    assert "陈静" in listed and "王芳" not in listed

    team.ids["chen.jing"] = chen["id"]
    team.customer("陈静的客户有限公司", owner="chen.jing")
    customers = text(sign_in(team, "chen.jing").get("/app/customer"))
    assert "陈静的客户有限公司" in customers
    assert "王芳的客户有限公司" not in customers
    assert "王芳的客户有限公司" in text(team.client("wang.fang").get("/app/customer"))


def test_the_user_form_shows_every_field_error_at_once_in_chinese_and_keeps_what_was_typed(
    team: Team,
) -> None:
    admin = team.client("guan.li")
    answer = create_user(
        team, admin, username="x", display_name="", email="not-an-address", password="short", roles="no_such"
    )
    page = text(answer)
    assert answer.status_code == 200  # the form again, with its errors
    for message in ("3 到 150 个字符", "必填", "不是电子邮箱地址", "至少 8 个字符", "未知角色"):
        assert message in page, message
    assert 'value="not-an-address"' in page
    taken = create_user(team, admin, username="WANG.FANG", display_name="另一个王芳", password=PASSWORD)
    assert taken.status_code == 200 and "用户名已被占用" in text(taken)
    assert len(identity.list_users(team.loom)) == 5


def test_editing_a_user_changes_department_manager_and_roles(team: Team) -> None:
    admin = team.client("guan.li")
    finance = identity.department_by_name(team.loom, "财务部")["id"]
    user_id = team.ids["li.na"]
    form = {
        "csrf_token": csrf(admin, f"/builder/org/users/{user_id}"),
        "display_name": "李娜",
        "email": "",
        "locale": "zh_CN",
        "department_id": str(finance),
        "manager_id": str(team.ids["zhao.caiwu"]),
        "roles": ["finance", "sales_rep"],
    }
    assert admin.post(f"/builder/org/users/{user_id}", data=form).status_code == 302
    li = identity.get_user(team.loom, user_id)
    assert (li["department_id"], li["manager_id"], li["roles"]) == (
        finance,
        team.ids["zhao.caiwu"],
        ["finance", "sales_rep"],
    )
    form["manager_id"] = str(user_id)
    refused = admin.post(f"/builder/org/users/{user_id}", data=form)
    assert refused.status_code == 200 and "不能是自己的上级" in text(refused)

    own = {**form, "display_name": "管理员", "manager_id": "", "roles": ["sales_rep"]}
    kept = admin.post(f"/builder/org/users/{team.ids['guan.li']}", data=own)
    assert "不能取消自己的管理员角色" in text(kept)
    assert identity.get_user(team.loom, team.ids["guan.li"])["roles"] == ["admin"]


def test_disabling_stops_sign_in_and_a_reset_password_ends_sessions_and_is_shown_once(team: Team) -> None:
    admin = team.client("guan.li")
    rep = team.client("wang.fang")
    user_id = team.ids["wang.fang"]
    token = csrf(admin, f"/builder/org/users/{user_id}")
    reset = admin.post(f"/builder/org/users/{user_id}/password", data={"csrf_token": token})
    assert reset.status_code == 200 and "只显示这一次" in text(reset)
    new_password = text(reset).split('<code id="new-password">')[1].split("</code>")[0]
    assert rep.get("/app/customer").status_code == 302  # signed out by the reset
    sign_in(team, "wang.fang", new_password)

    admin.post(f"/builder/org/users/{user_id}/disable", data={"csrf_token": token})
    assert not identity.get_user(team.loom, user_id)["active"]
    client = team.app.test_client()
    form = {"csrf_token": csrf(client, "/login"), "username": "wang.fang", "password": new_password}
    assert client.post("/login", data=form).status_code != 302
    admin.post(f"/builder/org/users/{user_id}/enable", data={"csrf_token": token})
    sign_in(team, "wang.fang", new_password)

    admin.post(f"/builder/org/users/{user_id}/disable", data={"csrf_token": token})
    edit = text(admin.get(f"/builder/org/users/{user_id}"))
    assert f'/builder/org/handover?from={user_id}"' in edit
    handover = text(admin.get("/builder/org/handover", query_string={"from": user_id}))
    assert f'<option value="{user_id}" selected>王芳 (wang.fang) · 已停用' in handover
    admin.post(f"/builder/org/users/{user_id}/enable", data={"csrf_token": token})

    own = admin.post(f"/builder/org/users/{team.ids['guan.li']}/disable", data={"csrf_token": token})
    assert "不能停用自己" in text(admin.get(own.headers["Location"]))
    assert identity.get_user(team.loom, team.ids["guan.li"])["active"]


def test_moving_a_department_by_the_move_under_form_and_refusing_a_loop(team: Team) -> None:
    admin = team.client("guan.li")
    sales = identity.department_by_name(team.loom, "销售部")["id"]
    east = identity.create_department(team.loom, "华东区", sales, actor=SYSTEM)["id"]
    finance = identity.department_by_name(team.loom, "财务部")["id"]
    token = csrf(admin, "/builder/org/departments")
    admin.post(f"/builder/org/departments/{finance}/move", data={"csrf_token": token, "parent_id": str(east)})
    assert identity.get_department(team.loom, finance)["path"] == f"/{sales}/{east}/{finance}/"

    loop = admin.post(
        f"/builder/org/departments/{sales}/move",
        data={"csrf_token": token, "parent_id": str(east)},
        headers={"Accept": "application/json"},
    )
    assert loop.status_code == 422 and "下级" in loop.get_json()["error"]
    assert identity.get_department(team.loom, sales)["parent_id"] is None

    admin.post(
        f"/builder/org/departments/{east}/head", data={"csrf_token": token, "head_id": str(team.ids["li.na"])}
    )
    assert identity.head_of(team.loom, east)["username"] == "li.na"
    tree = text(admin.get("/builder/org/departments"))
    assert "华东区" in tree and "将 财务部 移动到…" in tree


def test_the_matrix_changes_what_a_rep_may_see_and_its_errors_are_shown(team: Team) -> None:
    team.customer("李娜的客户有限公司", owner="li.na")
    rep = team.client("wang.fang")
    assert "李娜的客户有限公司" in text(rep.get("/app/customer"))  # sales_rep reads the department's

    admin = team.client("guan.li")
    page = text(admin.get("/builder/org/roles/sales_rep"))
    form = matrix_form(page)
    assert form["customer.read"] == "department" and form["field:contract.cost_price"] == "hidden"
    form["customer.read"] = "own"
    assert admin.post("/builder/org/roles/sales_rep", data=form).status_code == 302
    assert "李娜的客户有限公司" not in text(rep.get("/app/customer"))
    role = team.loom.registry.roles["sales_rep"]
    assert role.objects["customer"].scope("read") == "own"
    assert role.fields["contract.cost_price"] == "hidden"  # what was not changed stays

    form["customer.read"] = "everyone"
    refused = admin.post("/builder/org/roles/sales_rep", data=form)
    assert refused.status_code == 200 and "没有保存" in text(refused)
    assert team.loom.registry.roles["sales_rep"].objects["customer"].scope("read") == "own"

    new = matrix_form(text(admin.get("/builder/org/roles/new")))
    new.update({"name": "auditor", "label_zh_CN": "审计", "customer.read": "all"})
    assert admin.post("/builder/org/roles/new", data=new).status_code == 302
    assert team.loom.registry.roles["auditor"].objects["customer"].scope("read") == "all"
    again = admin.post("/builder/org/roles/new", data=new)
    assert again.status_code == 200 and "已有同名角色" in text(again)


def test_a_handover_shows_the_counts_first_then_moves_the_records(team: Team) -> None:
    for name in ("甲公司", "乙公司"):
        team.customer(name, owner="wang.fang")
    admin = team.client("guan.li")
    form = {
        "csrf_token": csrf(admin, "/builder/org/handover"),
        "from_user": str(team.ids["wang.fang"]),
        "to_user": str(team.ids["li.na"]),
        "objects": ["customer", "contact"],
    }
    preview = admin.post("/builder/org/handover", data=form)
    assert preview.status_code == 200 and "将移交 2 条记录" in text(preview)
    owner_is_li = f"owner == {team.ids['li.na']}"
    assert team.loom.queries().find("customer", filter=owner_is_li).records == []
    done = admin.post("/builder/org/handover", data={**form, "confirm": "1"})
    assert "已移交 2 条记录" in text(done)
    owned = team.loom.queries().find("customer", filter=owner_is_li).records
    assert sorted(record["name"] for record in owned) == ["乙公司", "甲公司"]

    same = admin.post("/builder/org/handover", data={**form, "to_user": form["from_user"]})
    assert same.status_code == 200 and "两个不同的用户" in text(same)


ORG_ROUTES = [
    ("get", "/builder/org/"),
    ("get", "/builder/org/users/new"),
    ("post", "/builder/org/users/new"),
    ("get", "/builder/org/users/{id}"),
    ("post", "/builder/org/users/{id}"),
    ("post", "/builder/org/users/{id}/disable"),
    ("post", "/builder/org/users/{id}/enable"),
    ("post", "/builder/org/users/{id}/password"),
    ("get", "/builder/org/departments"),
    ("post", "/builder/org/departments"),
    ("post", "/builder/org/departments/{department}/move"),
    ("post", "/builder/org/departments/{department}/head"),
    ("get", "/builder/org/roles"),
    ("get", "/builder/org/roles/new"),
    ("post", "/builder/org/roles/new"),
    ("get", "/builder/org/roles/sales_rep"),
    ("post", "/builder/org/roles/sales_rep"),
    ("get", "/builder/org/handover"),
    ("post", "/builder/org/handover"),
]


@pytest.mark.parametrize("username", ["wang.fang", "zhang.jingli"])
def test_no_one_but_an_administrator_reaches_any_organisation_page(team: Team, username: str) -> None:
    client = team.client(username)
    token = csrf(client)
    department = identity.department_by_name(team.loom, "销售部")["id"]
    for method, route in ORG_ROUTES:
        path = route.format(id=team.ids["li.na"], department=department)
        data = {"csrf_token": token, "password": "taken-over-1", "parent_id": "", "head_id": ""}
        answer = getattr(client, method)(path, data=data) if method == "post" else client.get(path)
        assert answer.status_code == 403, (method, path)
    assert identity.get_user(team.loom, team.ids["li.na"])["active"]


def test_a_change_without_the_csrf_token_is_refused(team: Team) -> None:
    admin = team.client("guan.li")
    answer = admin.post(
        "/builder/org/users/new",
        data={"username": "no.token", "display_name": "无令牌", "password": PASSWORD, "locale": "zh_CN"},
    )
    assert answer.status_code == 400
    assert "no.token" not in [user["username"] for user in identity.list_users(team.loom)]
    disable = admin.post(f"/builder/org/users/{team.ids['li.na']}/disable")
    assert disable.status_code == 400 and identity.get_user(team.loom, team.ids["li.na"])["active"]


def test_unknown_ids_and_bad_input_get_a_clear_answer_not_a_crash(team: Team) -> None:
    admin = team.client("guan.li")
    token = csrf(admin)
    assert admin.get("/builder/org/users/999999").status_code == 404
    assert admin.get("/builder/org/roles/no_such_role").status_code == 404
    assert admin.post("/builder/org/users/999999/disable", data={"csrf_token": token}).status_code == 404
    moved = admin.post(
        "/builder/org/departments/999999/move",
        data={"csrf_token": token, "parent_id": "abc"},
        headers={"Accept": "application/json"},
    )
    assert moved.status_code == 422
    listed = admin.get("/builder/org/", query_string={"status": "<x>", "department": "zz", "role": "nope"})
    assert listed.status_code == 200
    empty = admin.post("/builder/org/handover", data={"csrf_token": token, "from_user": "x"})
    assert empty.status_code == 200 and "请选择离职人员" in text(empty)


def test_every_change_made_here_is_in_the_engines_audit_under_the_administrators_name(team: Team) -> None:
    admin = team.client("guan.li")
    create_user(team, admin, username="sun.li", display_name="孙丽", password=PASSWORD, roles="sales_rep")
    sun = identity.user_by_username(team.loom, "sun.li")["id"]
    finance = identity.department_by_name(team.loom, "财务部")["id"]
    sales = identity.department_by_name(team.loom, "销售部")["id"]
    token = csrf(admin, "/builder/org/departments")
    move = {"csrf_token": token, "parent_id": str(sales)}
    admin.post(f"/builder/org/departments/{finance}/move", data=move)
    form = matrix_form(text(admin.get("/builder/org/roles/finance")))
    form["customer.export"] = "own"
    assert admin.post("/builder/org/roles/finance", data=form).status_code == 302
    with team.loom.read() as conn:
        created = record_history(conn, "loom_users", sun)
        moved = record_history(conn, "loom_departments", finance)
        [role_revision, *_] = revisions(conn, "role", "finance")
    assert [(row["action"], row["actor_id"]) for row in created] == [("create", team.ids["guan.li"])]
    assert created[0]["changes"]["roles"] == [None, ["sales_rep"]]
    assert (moved[-1]["action"], moved[-1]["actor_id"]) == ("move", team.ids["guan.li"])
    assert (role_revision["action"], role_revision["actor_id"]) == ("update", team.ids["guan.li"])
    assert role_revision["after"]["objects"]["customer"]["export"] == "own"
