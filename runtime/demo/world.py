"""The demo company while it is being written: its people, its customers' plans, and a writer that
moves the instance's clock to the moment each record happened, so created_at, autonumbers, audit
rows, approvals and rule firings all carry that moment.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from engine.base.actors import Actor
from engine.base.clock import Clock, start_of_day
from engine.base.errors import LoomError
from engine.loom import Loom
from runtime.demo import catalog

CENT = Decimal("0.01")
WORKDAY_START = dt.timedelta(hours=9)


def money(value: Decimal | int | str) -> Decimal:
    """Rounded to the cent, half away from zero: what the engine's round(…, 2) stores."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(quantity: int, unit_price: Decimal, discount: int) -> Decimal:
    return money(Decimal(quantity) * unit_price * (100 - discount) / 100)


@dataclass
class Person:
    username: str
    id: int
    actor: Actor
    role: str
    department: str
    display_name: str


@dataclass
class OpportunityPlan:
    """One deal: opened `start` days ago; closed `close` days ago (None while it is open)."""

    customer: CustomerPlan
    name: str
    topic: str
    start: int
    close: int | None
    stage: str
    contact: int
    source: str
    lines: list[tuple[str, int, int]] = field(default_factory=list)  # product code, quantity, discount
    quote_discount: int = 0
    id: int = 0
    lost_reason: str | None = None

    @property
    def won(self) -> bool:
        return self.stage == "won"


@dataclass
class CustomerPlan:
    name: str
    short_name: str
    region: str
    industry: str
    level: str
    acquired: int  # days ago
    owner: Person | None
    city: str
    address: str
    contacts: list[tuple[str, str]] = field(default_factory=list)  # name, phone
    contact_ids: list[int] = field(default_factory=list)
    opportunities: list[OpportunityPlan] = field(default_factory=list)
    id: int = 0
    lead_id: int | None = None
    last_active: int = 0  # days ago of the last follow-up; dormant and lost customers went quiet
    target: str = "lead"  # the lifecycle stage the story ends in


@dataclass
class ContractPlan:
    opportunity: OpportunityPlan
    amount: Decimal
    payment_terms: str
    signed: int  # days ago
    end: int  # days ago; negative: in the future
    id: int = 0
    outcome: str = "approved"  # approved, rejected, pending, draft (never submitted)
    order_id: int | None = None
    order_day: int | None = None


def _faker() -> Any:
    # Faker is the demo's own extra, not a dependency of Loom in production.
    try:
        from faker import Faker
    except ModuleNotFoundError:
        raise LoomError("the demo data needs Faker: pip install 'loom-crm[demo]'") from None
    return Faker("zh_CN")


class World:
    """Everything the story is written with: the instance, its seeded randomness, and its people."""

    def __init__(self, loom: Loom, seed: int) -> None:
        self.loom = loom
        self.rng = random.Random(seed)
        # Drawn from apart from `rng`, so these later parts of the story leave the rest as it was.
        self.habits = random.Random(seed * 1_000_003 + 17)
        self.fake = _faker()
        self.fake.seed_instance(seed)
        self.now: dt.datetime = loom.clock.now()
        self.today: dt.date = loom.clock.today()
        self.people: dict[str, Person] = {}
        self.by_id: dict[int, Person] = {}
        self.products: dict[str, tuple[int, Decimal, str]] = {}  # code → id, unit price, category
        self.customers: list[CustomerPlan] = []
        self.contracts: list[ContractPlan] = []
        # lead id, owner id, days ago it came in, the moment it was created
        self.worked_leads: list[tuple[int, int, int, dt.datetime]] = []
        self.overdue: list[tuple[ContractPlan, int]] = []  # contract, instalment number
        self.counts: Counter[str] = Counter()

    # -- people ---------------------------------------------------------------------------------

    def with_role(self, role: str, department: str | None = None) -> list[Person]:
        return [
            p
            for p in self.people.values()
            if p.role == role and (department is None or p.department == department)
        ]

    # -- time -----------------------------------------------------------------------------------

    def day(self, days_ago: int) -> dt.date:
        return self.today - dt.timedelta(days=days_ago)

    def moment(self, days_ago: int, minutes: int = 60) -> dt.datetime:
        """Naive UTC at `minutes` past 09:00 business time, `days_ago` days before today; never
        later than now, so nothing in the story has happened yet when it is loaded."""
        zone = self.loom.clock.timezone
        moment = start_of_day(self.day(days_ago), zone) + WORKDAY_START + dt.timedelta(minutes=minutes)
        return min(moment, self.now)

    def office_minutes(self) -> int:
        return self.rng.randint(0, 8 * 60)

    # -- writing --------------------------------------------------------------------------------

    def create(
        self, object_name: str, actor: Actor, when: dt.datetime, rows: Sequence[Mapping[str, Any]]
    ) -> list[int]:
        """Insert records as `actor` at moment `when` (their created_at), in one bulk call."""
        self.loom.clock.set(when)
        ids = self.loom.records(actor).bulk_create(object_name, rows)
        self.counts[object_name] += len(ids)
        return ids

    def create_one(self, object_name: str, actor: Actor, when: dt.datetime, values: Mapping[str, Any]) -> int:
        return self.create(object_name, actor, when, [values])[0]

    def update(
        self, object_name: str, actor: Actor, when: dt.datetime, record_id: int, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.loom.clock.set(when)
        return self.loom.records(actor).update(object_name, record_id, changes)

    def weighted(self, weights: Mapping[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def first_response(self, owner_id: int, created: dt.datetime) -> dt.datetime:
        """When a rep first follows up a lead they were given: most within a working day, the slow
        reps a day or more later (never later than now)."""
        person = self.by_id[owner_id]
        if person.username in catalog.SLOW_RESPONDERS:
            hours = self.habits.randint(20, 70)
        else:
            hours = self.habits.choices([1, 2, 3, 5, 8, 18, 30], weights=[20, 25, 20, 15, 10, 6, 4])[0]
        minutes = self.habits.randint(0, 59)
        return min(created + dt.timedelta(hours=hours, minutes=minutes), self.now)


@contextmanager
def past_clock(loom: Loom) -> Iterator[None]:
    """Give the instance a clock the story can set to past moments; the real clock is put back after.

    This is the one place demo records get a past created_at: through the engine's own clock,
    never by rewriting rows.
    """
    real = loom.clock
    loom.clock = Clock(real.now(), timezone=real.timezone.key)
    try:
        yield
    finally:
        loom.clock = real
