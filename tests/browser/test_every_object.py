"""Every object of every shipped package, worked through its generated pages by an admin and a rep.

The objects come from the registry of the CRM and both industry templates installed together, so a
new object or field is covered without writing a test. For each object and user: the list, then a
record created through the form with only its required fields (and the metadata's defaults shown
prefilled and stored), then one field edited and seen on the detail page and the timeline, then the
record deleted to the recycle bin and restored from it. What the user may not do, the page does not
offer and the route refuses. The admin's walk runs again at 375 px, up to 删除 being in reach.

Every page the 1280 px walks reach (the list, the kanban board, the new and edit forms, a record's
page, also for a user who may only read) is scanned for English words outside typed data, as are
the pages no object owns.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date
from playwright.sync_api import expect

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.expressions import evaluate
from engine.identity.permissions import access_for
from engine.loom import Loom
from engine.packages.install import CRM_PACKAGE, install_package
from engine.records.forms import evaluate_form
from engine.schema.registry import ObjectModel
from metadata.loading import read_package
from metadata.references import GENERATED_TYPES
from metadata.specs import FieldSpec
from runtime.web.i18n import label_text
from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, Browser, Site, serving

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PACKAGES = (CRM_PACKAGE, EXAMPLES / "manufacturing_service", EXAMPLES / "saas_subscriptions")
USERS = ("admin", "rep")
USERNAMES = {"admin": "guan.li", "rep": "li.xiaoshou"}
LOCALE = "zh_CN"


def installed(loom: Loom) -> Loom:
    loom.init()
    for package in PACKAGES:
        install_package(loom, package)
    return loom


def installed_objects() -> list[str]:
    """The objects the packages define or extend, read from their documents (the site's registry,
    built by installing them, must then have each of them)."""
    return sorted(
        {
            doc.body.get("name") or doc.body["extends"]
            for p in PACKAGES
            for doc in read_package(p).of_kind("object")
        }
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "object_name" in metafunc.fixturenames:
        metafunc.parametrize("object_name", installed_objects())


# -- the site: the CRM and both templates, an admin, and a rep with a manager -------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    loom = installed(Loom(f"sqlite:///{tmp_path_factory.mktemp('every-object') / 'loom.db'}"))
    assert sorted(loom.registry.objects) == installed_objects(), "an installed object is not walked"
    company = Site("", loom)
    sales = identity.create_department(loom, "销售部", actor=SYSTEM)["id"]
    for username, name, roles in (
        ("guan.li", "管理员", ["admin"]),
        ("zhang.jingli", "张经理", ["sales_manager"]),
        ("li.xiaoshou", "李销售", ["sales_rep"]),
    ):
        user = identity.create_user(
            loom, username, name, PASSWORD, roles=roles, department_id=sales, actor=SYSTEM
        )
        company.users[username] = user["id"]
    identity.set_head(loom, sales, company.users["zhang.jingli"], actor=SYSTEM)
    with serving(company):
        yield company


@pytest.fixture(scope="module")
def tabs(chromium, site: Site) -> Iterator[Callable[[str, dict[str, int]], Browser]]:  # type: ignore[no-untyped-def]
    """One signed-in browser context per user and screen width, shared by the module's tests."""
    opened: dict[tuple[str, int], Browser] = {}

    def tab(user: str, viewport: dict[str, int]) -> Browser:
        key = (user, viewport["width"])
        if key not in opened:
            opened[key] = Browser(chromium, site, f"every-{user}-{viewport['width']}", viewport)
            opened[key].page.set_default_timeout(10_000)
            opened[key].sign_in(USERNAMES[user])
        opened[key].errors.clear()
        return opened[key]

    yield tab
    for browser in opened.values():
        browser.close()


# -- values made from a field's type and metadata ----------------------------------------------------


@dataclass(frozen=True)
class Made:
    """A value for one field: what is typed or chosen on the form, stored through the engine, and shown."""

    typed: str | bool
    stored: Any
    shown: str | None  # text the detail page shows for it; None when the type has no plain text


SERIALS = itertools.count(1)  # one numbering for the whole module, so values of unique fields never repeat


@dataclass
class Maker:
    """Makes field values for one user: numbered so unique fields stay unique, lookups pointing at
    records that user may read (made through the engine when there are none yet)."""

    site: Site
    user_id: int
    serial: int = 0
    readable: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return identity.actor_for(self.site.loom, self.user_id)

    def __call__(self, model: ObjectModel, spec: FieldSpec) -> Made:
        self.serial = next(SERIALS)
        make = VALUE_MAKERS.get(spec.type)
        assert make is not None, f"no value maker for field type {spec.type!r} ({model.name}.{spec.name})"
        return make(self, model, spec)

    def record_of(self, target: str) -> tuple[int, str]:
        """A record of `target` the user may read, and its title: an existing one, else one made now."""
        if target not in self.readable:
            found = self.site.loom.queries(self.actor).find(target, limit=1).records
            record = found[0] if found else self.create(target)
            self.readable[target] = (record["id"], title_of(self.site.loom.registry.object(target), record))
        return self.readable[target]

    def create(self, object_name: str) -> dict[str, Any]:
        """A record with its required fields, owned by the user, made by the system as setup."""
        model = self.site.loom.registry.object(object_name)
        values = {
            spec.name: self(model, spec).stored for spec in required_fields(self.site, model, self.actor, {})
        }
        return self.site.loom.records().create(object_name, {**values, "owner": self.user_id})


def _text(maker: Maker, model: ObjectModel, spec: FieldSpec) -> Made:
    """Chinese text numbered for uniqueness, or the first of a few shapes the field's pattern accepts."""
    pattern = re.compile(spec.param("pattern") or ".*", re.DOTALL)
    shapes = [
        f"{label_text(spec.label, spec.name)}测试{maker.serial}",
        f"T-{maker.serial:04d}",
        str(maker.serial),
    ]
    text = next((s for s in shapes if pattern.fullmatch(s)), shapes[0])[: spec.param("max_length") or None]
    return Made(text, text, text)


def _number(maker: Maker, model: ObjectModel, spec: FieldSpec) -> Made:
    low = spec.param("min")
    number = max(Decimal(3 if spec.type == "integer" else 1200), Decimal(str(low)) if low is not None else 0)
    return Made(str(number), str(number), f"{number:,}")


def _day(maker: Maker, model: ObjectModel, spec: FieldSpec) -> date:
    # Later fields get later days, so an end date follows its start date.
    return maker.site.loom.clock.now().astimezone(maker.site.loom.clock.timezone).date() + timedelta(
        days=10 * (list(model.fields).index(spec.name) + 1)
    )


def _date(maker: Maker, model: ObjectModel, spec: FieldSpec) -> Made:
    day = _day(maker, model, spec)
    return Made(day.isoformat(), day.isoformat(), format_date(day, "medium", locale=LOCALE))


def _datetime(maker: Maker, model: ObjectModel, spec: FieldSpec) -> Made:
    moment = datetime.combine(_day(maker, model, spec), datetime.min.time()).replace(hour=10)
    stored = moment.replace(tzinfo=maker.site.loom.clock.timezone).isoformat()
    return Made(moment.strftime("%Y-%m-%dT%H:%M"), stored, format_date(moment, "medium", locale=LOCALE))


def _choice(maker: Maker, model: ObjectModel, spec: FieldSpec) -> Made:
    option = spec.param("options")[0]
    return Made(option["value"], option["value"], label_text(option.get("label"), option["value"]))


def _lookup(maker: Maker, model: ObjectModel, spec: FieldSpec) -> Made:
    record_id, title = maker.record_of(spec.param("target"))
    return Made(str(record_id), record_id, title)


def _user(maker: Maker, model: ObjectModel, spec: FieldSpec) -> Made:
    user = identity.get_user(maker.site.loom, maker.user_id)
    return Made(str(maker.user_id), maker.user_id, user["display_name"])


VALUE_MAKERS: dict[str, Callable[[Maker, ObjectModel, FieldSpec], Made]] = {
    "text": _text,
    "long_text": _text,
    "email": lambda maker, model, spec: Made(*[f"user{maker.serial}@example.com"] * 3),
    "phone": lambda maker, model, spec: Made(*[f"1380013{maker.serial:04d}"] * 3),
    "url": lambda maker, model, spec: Made(*[f"https://example.com/{maker.serial}"] * 3),
    "integer": _number,
    "decimal": _number,
    "currency": _number,
    "percent": lambda maker, model, spec: Made("5", "5", "5%"),
    "date": _date,
    "datetime": _datetime,
    "select": _choice,
    "multi_select": _choice,
    "tags": lambda maker, model, spec: Made(
        f"标签{maker.serial}", [f"标签{maker.serial}"], f"标签{maker.serial}"
    ),
    "boolean": lambda maker, model, spec: Made(True, True, "是"),
    "lookup": _lookup,
    "user": _user,
}


# -- what the metadata says about a form ----------------------------------------------------------


def title_of(model: ObjectModel, record: dict[str, Any]) -> str:
    title = record.get(model.spec.title_field) if model.spec.title_field else None
    return str(title) if title not in (None, "") else f"#{record['id']}"


def settable(site: Site, model: ObjectModel, actor: Actor, name: str) -> bool:
    spec = model.fields.get(name)
    access = access_for(site.loom.registry, actor, model.name)
    return (
        spec is not None
        and spec.type not in GENERATED_TYPES
        and spec.type != "attachment"
        and not spec.readonly
        and name not in access.read_only
        and access.visible(name)
    )


def form_states(site: Site, model: ObjectModel, actor: Actor, values: dict[str, Any]):  # type: ignore[no-untyped-def]
    registry = site.loom.registry
    return evaluate_form(site.loom, registry.form_for(model.name), values, actor, source="json").fields


def required_fields(site: Site, model: ObjectModel, actor: Actor, typed: dict[str, Any]) -> list[FieldSpec]:
    """The fields the form demands for the values so far (required, or required_if that holds), which
    have no default to fill them; in form order."""
    states = form_states(site, model, actor, typed)
    return [
        model.field(name)
        for name, state in states.items()
        if state.visible
        and state.required
        and name in model.fields
        and model.field(name).default is None
        and settable(site, model, actor, name)
    ]


def default_value(site: Site, model: ObjectModel, actor: Actor, spec: FieldSpec) -> Any:
    """A field's default as the engine computes it for a new record."""
    ectx, _ = site.loom.contexts(actor)
    return model.types[spec.name].coerce(evaluate(spec.default, {}, ectx), spec, "json")


# -- one object worked through by one user ---------------------------------------------------------


@dataclass
class Visit:
    """One user working one object through the pages; each step leaves what the next needs."""

    site: Site
    tab: Browser
    model: ObjectModel
    user_id: int
    maker: Maker
    record_id: int | None = None
    shown: dict[str, str] = field(default_factory=dict)
    # The text of each page read on the way, by path, when the walk looks for English (at 1280 px).
    texts: dict[str, list[str]] | None = None

    @property
    def actor(self) -> Actor:
        return identity.actor_for(self.site.loom, self.user_id)

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def label(self) -> str:
        return label_text(self.model.spec.label, self.name)

    def allows(self, operation: str) -> bool:
        return access_for(self.site.loom.registry, self.actor, self.name).allows(operation)

    def read_page(self) -> None:
        """Keep the page's text for the English scan, if this walk scans."""
        if self.texts is not None:
            self.texts[self.tab.page.url.removeprefix(self.site.url)] = self.tab.page.evaluate(PAGE_TEXT)

    def refused(self, path: str) -> None:
        """The route refuses the user (asked outside the page, so the refusal logs no console error)."""
        response = self.tab.page.request.get(self.site.url + path, max_redirects=0)
        assert response.status == 403, f"{path} answered {response.status} to a user it should refuse"

    def control(self, name: str):  # type: ignore[no-untyped-def]
        return self.tab.page.locator(f"#field-{name}")

    def field_shown(self, name: str):  # type: ignore[no-untyped-def]
        label = label_text(self.model.field(name).label, name)
        return self.tab.page.locator(".detail-main .field-view").filter(
            has=self.tab.page.locator("dt", has_text=re.compile(f"^{re.escape(label)}$"))
        )

    def saved(self, what: str) -> None:
        """Wait for the detail page after a save; a form that comes back names its errors."""
        detail = re.compile(rf"/app/{self.name}/(\d+)$")
        try:
            self.tab.page.wait_for_url(detail, timeout=10_000)
        except Exception:
            errors = self.tab.page.locator(".failure, .field.has-error").all_inner_texts()
            pytest.fail(f"{self.name}: {what} was refused: {' | '.join(errors) or self.tab.page.url}")
        self.record_id = int(detail.search(self.tab.page.url).group(1))  # type: ignore[union-attr]
        expect(self.tab.page.get_by_text("已保存")).to_be_visible()


def open_list(visit: Visit) -> bool:
    """The list opens for a reader and offers 新建 only to those who may create; others are refused."""
    path = f"/app/{visit.name}"
    if not visit.allows("read"):
        visit.refused(path)
        visit.refused(f"{path}/new")
        return False
    visit.tab.open(path)
    plural = label_text(visit.model.spec.extra.get("plural_label"), visit.label)
    expect(visit.tab.page.get_by_role("heading", level=1, name=plural)).to_be_visible()
    visit.read_page()
    create = visit.tab.page.locator(".page-head").get_by_role("link", name=f"+ 新建{visit.label}")
    if not visit.allows("create"):
        expect(create).to_have_count(0)
        visit.refused(f"{path}/new")
        return False
    expect(create).to_be_visible()
    return True


def create_record(visit: Visit) -> bool:
    """The form shows the metadata's defaults, takes only the required fields, and saves a record
    whose detail page shows them; the defaults are stored."""
    page, model, actor = visit.tab.page, visit.model, visit.actor
    defaults = {
        spec.name: default_value(visit.site, model, actor, spec)
        for spec in model.spec.fields
        if spec.default is not None
    }
    # Made before the form opens: a lookup's target may have to be created first, to be offered.
    made: dict[str, Made] = {}
    for _ in range(len(model.fields)):  # a value typed may make another field required (required_if)
        typed = {name: value.stored for name, value in made.items()}
        missing = [
            s for s in required_fields(visit.site, model, actor, {**defaults, **typed}) if s.name not in made
        ]
        if not missing:
            break
        made.update((spec.name, visit.maker(model, spec)) for spec in missing)
    page.locator(".page-head").get_by_role("link", name=f"+ 新建{visit.label}").click()
    expect(page.get_by_role("heading", level=1, name=f"新建{visit.label}")).to_be_visible()
    visit.read_page()
    states = form_states(visit.site, model, actor, {})
    for name, expected in defaults.items():
        if name in states and states[name].visible and settable(visit.site, model, actor, name):
            assert_prefilled(visit, model.field(name), expected)
    if made:
        refused_empty(visit, list(made))
    for name, value in made.items():
        fill(visit.control(name), value)
        visit.shown[name] = value.shown or ""
    page.get_by_role("button", name="保存").click()
    visit.saved("creating with only the required fields")
    record = visit.site.loom.records().get(visit.name, visit.record_id)
    heading = title_of(model, record) if model.spec.title_field else f"#{visit.record_id}"
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    visit.read_page()
    for name, text in visit.shown.items():
        if text:
            expect(visit.field_shown(name).locator("dd")).to_contain_text(text)
    for name, expected in defaults.items():
        if name not in made and model.field(name).default not in ("now()",):
            assert record[name] == expected, (
                f"{visit.name}.{name}: default {expected!r} not stored, got {record[name]!r}"
            )
    return True


def refused_empty(visit: Visit, required: list[str]) -> None:
    """Saved before the required fields are filled, the form comes back naming each of them, with
    every check box as it was (an unticked one stays unticked)."""
    page = visit.tab.page
    boxes = page.locator(".record-form input[type=checkbox]:not([disabled])")
    before = [box.is_checked() for box in boxes.all()]
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#form-errors")).to_be_visible()
    for name in required:
        expect(page.locator(f'[data-field="{name}"] .field-error')).to_contain_text("必填")
    after = [box.is_checked() for box in boxes.all()]
    assert after == before, f"{visit.name}: check boxes changed after a refused save ({before} → {after})"


def assert_prefilled(visit: Visit, spec: FieldSpec, expected: Any) -> None:
    control = visit.control(spec.name)
    where = f"{visit.name}.{spec.name} (default {spec.default})"
    if spec.type == "boolean":
        assert control.is_checked() == bool(expected), f"{where}: the checkbox is not prefilled"
        return
    shown = control.input_value()
    if spec.type == "datetime":
        assert shown, f"{where}: empty on the new form"
        typed = datetime.fromisoformat(shown).replace(tzinfo=visit.site.loom.clock.timezone)
        expected = expected.replace(tzinfo=UTC)  # the engine keeps moments as naive UTC
        assert abs(typed - expected) < timedelta(minutes=10), f"{where}: shows {shown!r}"
    elif spec.type in ("integer", "decimal", "currency", "percent"):
        assert shown and Decimal(shown.replace(",", "")) == Decimal(str(expected)), (
            f"{where}: shows {shown!r}"
        )
    elif spec.type == "date":
        assert shown == expected.isoformat(), f"{where}: shows {shown!r}"
    else:
        assert shown == str(expected), f"{where}: shows {shown!r}"


def fill(control, made: Made) -> None:  # type: ignore[no-untyped-def]
    tag = control.evaluate("el => el.tagName.toLowerCase() + ':' + (el.type || '')")
    picker = control.locator("xpath=ancestor::*[@data-picker][1]")
    if picker.count() and made.shown:  # a searchable picker: type the title, choose it from the list
        control.fill(made.shown)
        picker.get_by_role("option", name=made.shown).first.click()
        expect(picker.locator("input[type=hidden]")).to_have_value(str(made.typed))
    elif tag.startswith("select"):
        control.select_option(str(made.typed))
    elif tag == "input:checkbox":
        control.set_checked(bool(made.typed))
    else:
        control.fill(str(made.typed))


def edit_record(visit: Visit) -> bool:
    """One editable field changed through the edit form shows on the detail page and the timeline;
    a user who may not edit is offered no 编辑 and refused by the route."""
    page, model, actor = visit.tab.page, visit.model, visit.actor
    edit_path = f"/app/{visit.name}/{visit.record_id}/edit"
    edit = page.locator(".head-actions").get_by_role("link", name="编辑", exact=True)
    if not visit.allows("update"):
        expect(edit).to_have_count(0)
        visit.refused(edit_path)
        return False
    record = visit.site.loom.records().get(visit.name, visit.record_id)
    states = form_states(visit.site, model, actor, record)
    candidates = [
        name
        for name, state in states.items()
        if state.visible
        and not state.readonly
        and not state.required
        and settable(visit.site, model, actor, name)
        and model.field(name).type in VALUE_MAKERS
        and model.field(name).type not in ("lookup", "user")  # a changed reference may break others
    ]
    assert candidates, f"{visit.name}: no field to edit on the form"
    texts = [n for n in candidates if model.field(n).type in ("long_text", "text")]
    name = (texts or candidates)[-1 if texts else 0]
    made = visit.maker(model, model.field(name))
    if model.field(name).type == "boolean":  # the one value that differs from the stored one
        made = Made(not record[name], not record[name], "否" if record[name] else "是")
    edit.click()
    expect(page.get_by_role("heading", level=1, name=f"编辑{visit.label}")).to_be_visible()
    visit.read_page()
    fill(visit.control(name), made)
    page.get_by_role("button", name="保存").click()
    visit.saved(f"saving an edit of {name} alone")
    if made.shown:
        expect(visit.field_shown(name).locator("dd")).to_contain_text(made.shown)
        change = page.locator(".timeline .changes li", has_text=label_text(model.field(name).label, name))
        expect(change.locator("ins").first).to_contain_text(made.shown)
    return True


def delete_and_restore(visit: Visit) -> bool:
    """删除 moves the record to the recycle bin (its page is gone), 恢复 there brings it back; a user
    who may not delete is offered no 删除."""
    page, record_id = visit.tab.page, visit.record_id
    path = f"/app/{visit.name}/{record_id}"
    assert page.url == visit.site.url + path, "the walk goes on from the record's page"
    delete = page.locator(".head-actions").get_by_role("button", name="删除", exact=True)
    if not visit.allows("delete"):
        expect(delete).to_have_count(0)
        return False
    page.once("dialog", lambda dialog: dialog.accept())  # the confirmation asks first
    delete.click()
    page.wait_for_url(re.compile(rf"/app/{visit.name}(\?.*)?$"))
    assert visit.site.loom.queries().count(visit.name, filter=f"id == {record_id}") == 0
    assert page.request.get(visit.site.url + path).status == 404
    visit.tab.open(f"/recycle-bin?object={visit.name}")
    restore = page.locator(f'form[action$="/recycle-bin/{visit.name}/{record_id}/restore"] button')
    restore.click()
    page.wait_for_load_state()
    visit.tab.open(path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert visit.site.loom.queries().count(visit.name, filter=f"id == {record_id}") == 1
    return True


def delete_offered(visit: Visit) -> bool:
    """On the record's page after the edit, 删除 is in reach for a user who may delete."""
    delete = visit.tab.page.locator(".head-actions").get_by_role("button", name="删除", exact=True)
    if not visit.allows("delete"):
        expect(delete).to_have_count(0)
        return False
    expect(delete).to_be_visible()
    expect(delete).to_be_enabled()
    return True


# Each step returns whether the next may run.
STEPS: tuple[Callable[[Visit], bool], ...] = (open_list, create_record, edit_record, delete_and_restore)
# On a phone the same server answers; what differs is whether each control is on the screen. The
# recycle bin round trip is walked at 1280 px.
PHONE_STEPS: tuple[Callable[[Visit], bool], ...] = (open_list, create_record, edit_record, delete_offered)


def work_through(
    site: Site,
    tab: Browser,
    object_name: str,
    user: str,
    steps: tuple[Callable[[Visit], bool], ...] = STEPS,
    *,
    scan_english: bool = False,
) -> None:
    user_id = site.users[USERNAMES[user]]
    visit = Visit(site, tab, site.loom.registry.object(object_name), user_id, Maker(site, user_id))
    visit.texts = {} if scan_english else None
    for step in steps:
        carry_on = step(visit)
        assert tab.errors == [], f"{object_name}, {step.__name__}: console errors {tab.errors}"
        if not carry_on:
            break
    if scan_english:
        read_the_pages_not_walked(visit)
        assert tab.errors == [], f"{object_name}, the pages not walked: console errors {tab.errors}"
        no_english(site, visit.texts or {})


def read_the_pages_not_walked(visit: Visit) -> None:
    """The kanban board, and for a user whose walk ended at the list (who may read but not create)
    a record's page and, if they may change it, its edit form."""
    if not visit.allows("read"):
        return
    if visit.model.spec.extra.get("kanban"):
        visit.tab.open(f"/app/{visit.name}/kanban")
        visit.read_page()
    if visit.record_id is not None:  # the walk created one and read its page
        return
    record = visit.maker.create(visit.name)
    visit.tab.open(f"/app/{visit.name}/{record['id']}")
    visit.read_page()
    if visit.allows("update"):
        visit.tab.open(f"/app/{visit.name}/{record['id']}/edit")
        visit.read_page()


@pytest.mark.parametrize("user", USERS)
def test_every_object_is_listed_created_and_edited_at_1280px_and_shows_no_english(
    tabs, site: Site, object_name: str, user: str
) -> None:  # type: ignore[no-untyped-def]
    work_through(site, tabs(user, DESKTOP), object_name, user, scan_english=True)


def test_every_object_is_created_and_edited_on_a_phone(tabs, site: Site, object_name: str) -> None:  # type: ignore[no-untyped-def]
    # As the admin, who is offered every action: what a rep is not offered is checked at 1280 px,
    # and a phone shows a rep the same pages with less on them.
    work_through(site, tabs("admin", PHONE), object_name, "admin", PHONE_STEPS)


# -- no English on a Chinese session ---------------------------------------------------------------

# Words a Chinese page may show as they are: the product's name, the language switch's "English",
# file formats and size units, and abbreviations Chinese business software uses as they are
# (VIP客户, ICT, SaaS).
ALLOWED_WORDS = frozenset(
    {
        "Loom",
        "CRM",
        "English",
        "ID",
        "URL",
        "API",
        "SLA",
        "MRR",
        "VIP",
        "ICT",
        "SaaS",
        "KB",
        "MB",
        "GB",
        "Excel",
    }
    | {
        f
        for name in ("csv", "xls", "xlsx", "pdf", "doc", "docx", "jpg", "jpeg", "png", "webp")
        for f in (name, name.upper())
    }
)
ASCII_WORD = re.compile(r"[A-Za-z]{2,}")
CODE = re.compile(r"\b[A-Z]+(?:-[0-9A-Z]+)+\b")  # a code such as ZJ-2000 or HT-2026-0001 is no English


PAGE_TEXT = """() => {
    const texts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        // translate="no" marks what is not text of the page's language: data, codes, expressions.
        const skipped = node.parentElement.closest('script, style, noscript, template, [translate=no]');
        if (node.textContent.trim() && !skipped) {
            texts.push(node.textContent.trim());
        }
    }
    for (const el of document.querySelectorAll('[placeholder], [aria-label], input[type=submit]')) {
        if (el.closest('[translate=no]')) continue;
        texts.push(el.getAttribute('placeholder') || el.getAttribute('aria-label') || el.value);
    }
    return texts;
}"""


def data_strings(site: Site) -> list[str]:
    """Everything people typed or Loom numbered (record text, codes, user names), longest first: the
    page shows these as they are, in whatever language they were written."""
    loom = site.loom
    found = {user["display_name"] for user in identity.list_users(loom)} | {u for u in site.users}
    for name, model in loom.registry.objects.items():
        texts = [
            s.name
            for s in model.spec.fields
            if s.type in ("text", "long_text", "email", "phone", "url", "autonumber")
            or (s.type == "formula" and s.param("result") in ("text", "long_text"))  # a computed value
        ]
        cursor = None
        while True:
            page = loom.queries().find(name, limit=500, cursor=cursor)
            found.update(str(record[t]) for record in page.records for t in texts if record.get(t))
            if not (cursor := page.next_cursor):
                break
    return sorted(found, key=len, reverse=True)


def english_in(texts: list[str], data: list[str]) -> list[str]:
    words: list[str] = []
    for text in texts:
        for value in data:
            text = text.replace(value, " ")
        text = CODE.sub(" ", text)
        words += [w for w in ASCII_WORD.findall(text) if w not in ALLOWED_WORDS and w not in words]
    return words


def no_english(site: Site, pages: dict[str, list[str]]) -> None:
    """None of the pages' texts (read by path) holds an English word outside typed data."""
    data = data_strings(site)
    found = {path: words for path, texts in pages.items() if (words := english_in(texts, data))}
    if found:
        pytest.fail(
            "English on a zh_CN page:\n" + "\n".join(f"  {p}: {' '.join(w)}" for p, w in found.items())
        )


def scan(tab: Browser, site: Site, paths: list[str]) -> None:
    pages: dict[str, list[str]] = {}
    for path in paths:
        response = tab.open(path)
        assert response is not None and response.ok, f"{path} answered {response and response.status}"
        pages[path] = tab.page.evaluate(PAGE_TEXT)
    no_english(site, pages)
    assert tab.errors == []


@pytest.mark.parametrize("user", USERS)
def test_no_other_page_shows_english_on_a_chinese_session(tabs, site: Site, user: str) -> None:  # type: ignore[no-untyped-def]
    scan(tabs(user, DESKTOP), site, ["/", "/approvals", "/notifications", "/app/import"])


def test_the_sign_in_page_shows_no_english_on_a_chinese_browser(chromium, site: Site) -> None:  # type: ignore[no-untyped-def]
    tab = Browser(chromium, site, "every-sign-in", DESKTOP)
    try:
        scan(tab, site, ["/login"])
    finally:
        tab.close()
