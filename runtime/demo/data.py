"""Demo data for the standard CRM: a small Chinese equipment-and-software company's last twelve months.

`load_demo_data(loom)` writes departments, users for every CRM role, customers with contacts, leads
(some in the pool), opportunities in every funnel stage, quotes, contracts approved or rejected through
the contract approval flow (the newest still waiting in approvers' inboxes), sales orders, payments,
service tickets, follow-ups and tasks — all through the engine's services, so validation rules,
automation rules and approval flows run as they would for real users. The same seed on an empty
database gives the same data. A database that already holds customers or the demo users is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine import identity
from engine.base.actors import SYSTEM
from engine.base.errors import LoomError
from engine.identity.passwords import check_password_rules
from engine.loom import Loom
from runtime.demo import catalog
from runtime.demo.sales import write_sales
from runtime.demo.service import write_service
from runtime.demo.targets import write_targets
from runtime.demo.world import CustomerPlan, Person, World, money, past_clock

DEFAULT_SEED = 7
DEFAULT_CUSTOMERS = 150
DEFAULT_PASSWORD = "demo-2026"
WRITTEN_OBJECTS = ("product", "quote_line", "order_line")  # besides the reported ones
REPORTED_OBJECTS = (
    "customer",
    "contact",
    "lead",
    "opportunity",
    "quote",
    "contract",
    "sales_order",
    "payment",
    "service_ticket",
    "followup",
    "task",
    "sales_target",
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: str
    title: str
    password: str


@dataclass(frozen=True)
class DemoReport:
    loaded: bool
    message: str
    logins: tuple[DemoLogin, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)


def demo_logins(loom: Loom, password: str = DEFAULT_PASSWORD) -> tuple[DemoLogin, ...]:
    """The demo users found in the database, shown with the password they were loaded with."""
    found = []
    for username, role, _, _, title in catalog.STAFF:
        try:
            user = identity.user_by_username(loom, username)
        except identity.UserNotFound:
            continue
        found.append(DemoLogin(username, user["display_name"], role, title, password))
    return tuple(found)


def existing_data(loom: Loom) -> str | None:
    """Why demo data must not be loaded into this database, or None when it is empty enough."""
    registry = loom.registry
    if "customer" not in registry.objects:
        return "the CRM package is not installed (run `loom install metadata/packages/crm` first)"
    missing = [name for name in (*REPORTED_OBJECTS, *WRITTEN_OBJECTS) if name not in registry.objects]
    if missing:
        return f"the installed CRM package has no {', '.join(missing)}: install the current one first"
    customers = loom.queries().count("customer", include_deleted=True)
    taken = len(demo_logins(loom))
    if customers or taken:
        return f"the database already holds data ({customers} customers, {taken} of the demo users)"
    return None


def load_demo_data(
    loom: Loom,
    *,
    seed: int = DEFAULT_SEED,
    customers: int = DEFAULT_CUSTOMERS,
    password: str = DEFAULT_PASSWORD,
) -> DemoReport:
    """Fill an installed, empty CRM with a year of mutually consistent business; says so and does
    nothing when the database already holds data."""
    if customers < 1:
        raise LoomError(f"the demo needs at least one customer (got {customers})")
    check_password_rules(password)  # before anything is written
    reason = existing_data(loom)
    if reason is not None:
        return DemoReport(False, f"demo data not loaded: {reason}")
    world = World(loom, seed)
    with past_clock(loom):
        logins = _org(world, password)
        _products(world)
        _customers(world, customers)
        _leads(world)
        write_sales(world)
        write_service(world)
        _settle_lifecycles(world)
        write_targets(world, seed)
    counts = {name: loom.queries().count(name) for name in REPORTED_OBJECTS}
    summary = ", ".join(f"{count} {name}" for name, count in counts.items())
    return DemoReport(True, f"demo data loaded (seed {seed}): {summary}", logins, counts)


# -- the organisation ----------------------------------------------------------------------------------


def _org(world: World, password: str) -> tuple[DemoLogin, ...]:
    """Departments, then the staff: reps report to their department's manager, managers to the CEO."""
    loom, start = world.loom, 400
    loom.clock.set(world.moment(start))
    departments: dict[str, int] = {}
    for key, name, parent in catalog.DEPARTMENTS:
        parent_id = departments[parent] if parent else None
        departments[key] = identity.create_department(loom, name, parent_id, actor=SYSTEM)["id"]
    names: set[str] = set()
    logins = []
    heads: dict[str, int] = {}
    for username, role, department, heads_it, title in catalog.STAFF:
        display = world.fake.name()
        while display in names:
            display = world.fake.name()
        names.add(display)
        manager = heads.get(department) if role == "sales_rep" else heads.get("hq")
        user = identity.create_user(
            loom,
            username,
            display,
            password,
            email=f"{username}@demo.loom.cn",
            department_id=departments[department],
            manager_id=manager if username != "ceo" else None,
            roles=[role],
            actor=SYSTEM,
        )
        if heads_it:
            heads[department] = user["id"]
            identity.set_head(loom, departments[department], user["id"], actor=SYSTEM)
        actor = identity.actor_for(loom, user["id"])
        world.people[username] = Person(username, user["id"], actor, role, department, display)
        world.by_id[user["id"]] = world.people[username]
        logins.append(DemoLogin(username, display, role, title, password))
    return tuple(logins)


def _products(world: World) -> None:
    admin = world.people["admin"].actor
    rows = [
        {
            "code": code,
            "name": name,
            "category": category,
            "spec": spec,
            "unit": unit,
            "unit_price": price,
            "cost_price": cost,
            "warranty_months": warranty,
            "description": f"{name}，{spec}。",
        }
        for code, name, category, spec, unit, price, cost, warranty in catalog.PRODUCTS
    ]
    ids = world.create("product", admin, world.moment(380), rows)
    for product_id, (code, _, category, _, _, price, _, _) in zip(ids, catalog.PRODUCTS, strict=True):
        world.products[code] = (product_id, money(price), category)


# -- customers and contacts ----------------------------------------------------------------------------


def _customers(world: World, count: int) -> None:
    """Customers arrive over the year; the admin imports each with its contacts on the day it arrived."""
    rng = world.rng
    plans = sorted((_plan_customer(world) for _ in range(count)), key=lambda c: -c.acquired)
    credit_codes: set[str] = set()
    admin = world.people["admin"].actor
    for plan in plans:
        when = world.moment(plan.acquired, world.office_minutes())
        values = _customer_values(world, plan, credit_codes)
        plan.id = world.create_one("customer", admin, when, values)
        contacts = []
        for index, (name, phone) in enumerate(plan.contacts):
            title, role = catalog.CONTACT_TITLES[
                0 if index == 0 else rng.randrange(1, len(catalog.CONTACT_TITLES))
            ]
            contacts.append(
                {
                    "name": name,
                    "customer": plan.id,
                    "gender": rng.choice(["male", "female"]),
                    "department": catalog.CONTACT_DEPARTMENTS[role],
                    "title": title,
                    "decision_role": role,
                    "phone": phone,
                    "email": f"{world.fake.user_name()}@{world.fake.domain_name()}",
                    "wechat": f"wx_{world.fake.user_name()}",
                    "is_primary": index == 0,
                    "birthday": world.fake.date_of_birth(minimum_age=26, maximum_age=58),
                    "owner": plan.owner.id if plan.owner else None,
                }
            )
        plan.contact_ids = world.create("contact", admin, when, contacts)
    world.customers = plans


def _plan_customer(world: World) -> CustomerPlan:
    rng, fake = world.rng, world.fake
    region = world.weighted(catalog.REGION_WEIGHTS)
    department = next(key for key, regions in catalog.REGIONS_OF.items() if region in regions)
    industry = rng.choice(list(catalog.INDUSTRY_WORDS))
    city = rng.choice(catalog.CITIES[region])
    prefix = fake.company_prefix()
    word = rng.choice(catalog.INDUSTRY_WORDS[industry])
    pooled = rng.random() < 0.05
    return CustomerPlan(
        name=f"{city}{prefix}{word}{rng.choice(catalog.COMPANY_SUFFIXES)}",
        short_name=f"{prefix}{word[:2]}",
        region=region,
        industry=industry,
        level=world.weighted({"vip": 10, "key": 25, "normal": 65}),
        acquired=rng.randint(25, 365),
        owner=None if pooled else rng.choice(world.with_role("sales_rep", department)),
        city=city,
        address=f"{city}{fake.street_name()}{rng.randint(1, 999)}号",
        contacts=[(fake.name(), fake.phone_number()) for _ in range(rng.choice([1, 2, 2, 3, 3, 4]))],
    )


def _customer_values(world: World, plan: CustomerPlan, taken: set[str]) -> dict[str, object]:
    rng = world.rng
    code = _credit_code(world)
    while code in taken:
        code = _credit_code(world)
    taken.add(code)
    tags = rng.sample(catalog.CUSTOMER_TAGS, rng.choice([0, 1, 1, 2]))
    if plan.level == "vip":
        tags = ["大客户", *[t for t in tags if t != "大客户"]]
    values: dict[str, object] = {
        "name": plan.name,
        "short_name": plan.short_name,
        "credit_code": code,
        "level": plan.level,
        "lifecycle": "lead",
        "industry": plan.industry,
        "region": plan.region,
        "source": rng.choice(
            ["website", "exhibition", "referral", "online_ads", "wechat", "cold_call", "partner"]
        ),
        "company_size": rng.choice(["20_99", "100_499", "100_499", "500_999", "1000_plus"]),
        "contact_name": plan.contacts[0][0],
        "phone": world.fake.phone_number(),
        "email": world.fake.company_email(),
        "website": world.fake.url(),
        "city": plan.city,
        "address": plan.address,
        "annual_purchase": money(rng.randint(5, 300) * 10000),
        "interested_categories": rng.sample(
            ["hardware", "software", "service", "consumable"], rng.randint(1, 3)
        ),
        "tags": tags,
        "owner": plan.owner.id if plan.owner else None,
    }
    if plan.owner is None:
        values.update(in_pool=True, pool_entered_at=world.moment(max(plan.acquired - 30, 0)))
    return values


def _credit_code(world: World) -> str:
    letters = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    rng = world.rng
    head = "".join(rng.choice(letters) for _ in range(2))
    region = "".join(rng.choice("0123456789") for _ in range(6))
    return head + region + "".join(rng.choice(letters) for _ in range(10))


# -- leads ---------------------------------------------------------------------------------------------


def _leads(world: World) -> None:
    """A lead behind some customers (converted), and newer leads: new, worked, qualified, in the pool."""
    rng, admin = world.rng, world.people["admin"].actor
    rows: list[tuple[int, dict[str, object], str]] = []
    for plan in world.customers:
        if plan.owner is not None and rng.random() < 0.4:
            rows.append((plan.acquired + rng.randint(3, 20), _converted_lead(world, plan), "converted"))
    for _ in range(max(len(world.customers) * 4 // 5, 4)):
        rows.append(_fresh_lead(world))
    rows.sort(key=lambda row: -row[0])
    by_id = {plan.id: plan for plan in world.customers}
    for days_ago, values, fate in rows:
        created = world.moment(days_ago, world.office_minutes())
        if fate == "converted":
            # Followed up before the demo began: its first follow-up is written with it.
            first = world.first_response(values["owner"], created)  # type: ignore[arg-type]
            values["first_followup_at"] = min(first, values["last_followup_at"])  # type: ignore[type-var]
        lead_id = world.create_one("lead", admin, created, values)
        if fate == "converted":
            by_id[values["converted_customer"]].lead_id = lead_id  # type: ignore[index]
        elif fate in ("contacted", "qualified"):
            world.worked_leads.append((lead_id, values["owner"], days_ago, created))  # type: ignore[arg-type]


def _lead_basics(world: World, name: str, company: str, region: str, industry: str) -> dict[str, object]:
    fake = world.fake
    return {
        "name": name,
        "company": company,
        "title": world.rng.choice(["采购经理", "总经理", "技术总监", "IT经理", "厂长"]),
        "phone": fake.phone_number(),
        "email": fake.email(),
        "source": world.rng.choice(
            ["website", "exhibition", "online_ads", "social_media", "wechat", "event"]
        ),
        "campaign": world.rng.choice(["", "2026华南工博会", "智能制造线上研讨会", "官网白皮书下载"]) or None,
        "region": region,
        "industry": industry,
    }


def _converted_lead(world: World, plan: CustomerPlan) -> dict[str, object]:
    assert plan.owner is not None
    values = _lead_basics(world, plan.contacts[0][0], plan.name, plan.region, plan.industry)
    values.update(
        score=world.rng.randint(60, 95),
        status="converted",
        converted_customer=plan.id,
        converted_at=world.moment(plan.acquired),
        last_followup_at=world.moment(plan.acquired + 1),
        owner=plan.owner.id,
        notes="客户有明确采购计划，已转为客户跟进。",
    )
    return values


def _fresh_lead(world: World) -> tuple[int, dict[str, object], str]:
    rng = world.rng
    region = world.weighted(catalog.REGION_WEIGHTS)
    department = next(key for key, regions in catalog.REGIONS_OF.items() if region in regions)
    industry = rng.choice(list(catalog.INDUSTRY_WORDS))
    city, prefix = rng.choice(catalog.CITIES[region]), world.fake.company_prefix()
    company = f"{city}{prefix}{rng.choice(catalog.INDUSTRY_WORDS[industry])}有限公司"
    values = _lead_basics(world, world.fake.name(), company, region, industry)
    days_ago = rng.randint(0, 180)
    fate = world.weighted({"pool": 20, "new": 15, "contacted": 35, "qualified": 15, "unqualified": 15})
    if days_ago <= 7 and fate == "pool":
        fate = "new"
    if fate == "new":
        days_ago = min(days_ago, rng.randint(0, 6))
    elif fate in ("contacted", "qualified"):
        days_ago = max(days_ago, 1)
    values["score"] = rng.randint(82, 98) if fate == "qualified" else rng.randint(10, 75)
    if fate == "pool":
        values.update(in_pool=True, pool_entered_at=world.moment(days_ago - 8), owner=None)
        values["status"] = rng.choice(["new", "contacted"])
    else:
        values["owner"] = rng.choice(world.with_role("sales_rep", department)).id
        # A score of 80 or more makes the lead qualified through the package's own rule.
        values["status"] = "unqualified" if fate == "unqualified" else "new"
        if fate == "unqualified":
            values["unqualified_reason"] = rng.choice(
                ["联系方式无效", "个人咨询，非企业采购", "同行调研", "预算过低"]
            )
        values["notes"] = rng.choice(
            ["咨询检测设备报价", "希望了解MES系统", "需要产线数字化方案", "询问维保服务"]
        )
    return days_ago, values, fate


# -- the end of the story ------------------------------------------------------------------------------


def _settle_lifecycles(world: World) -> None:
    """Loyal, dormant and lost customers end where the year left them; rules did the rest."""
    loom = world.loom
    loom.clock.set(world.moment(0, world.rng.randint(480, 540)))
    current = {r["id"]: r["lifecycle"] for r in loom.queries().find("customer", limit=500).records}
    for plan in world.customers:
        changes: dict[str, object] = {}
        if plan.target != current.get(plan.id):
            changes["lifecycle"] = plan.target
        if plan.target == "lost":
            changes["lost_reason"] = world.rng.choice(catalog.CUSTOMER_LOST_REASONS)
        if changes:
            loom.records().update("customer", plan.id, changes)
