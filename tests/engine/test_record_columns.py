"""Roll-ups read through the select columns built once per object still follow the clock and the actor."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.loom import Loom
from engine.schema.changes import apply_objects
from metadata.roles import RoleSpec
from metadata.specs import ObjectSpec


def label(text: str) -> dict[str, str]:
    return {"zh_CN": text, "en": text}


PROJECT = ObjectSpec.from_json(
    {
        "name": "project",
        "label": label("Project"),
        "title_field": "name",
        "fields": [
            {"name": "name", "type": "text", "label": label("Name"), "required": True},
            {
                "name": "open_tasks",
                "type": "rollup",
                "label": label("Open tasks"),
                "source": {"object": "task", "via": "project", "function": "count", "filter": "not done"},
            },
            {
                "name": "overdue_tasks",
                "type": "rollup",
                "label": label("Overdue tasks"),
                "source": {
                    "object": "task",
                    "via": "project",
                    "function": "count",
                    "filter": "due < today()",
                },
            },
            {
                "name": "late_tasks",
                "type": "rollup",
                "label": label("Late tasks"),
                "source": {"object": "task", "via": "project", "function": "count", "filter": "late"},
            },
            {
                "name": "my_tasks",
                "type": "rollup",
                "label": label("My tasks"),
                "source": {
                    "object": "task",
                    "via": "project",
                    "function": "count",
                    "filter": "owner == user()",
                },
            },
        ],
    }
)

TASK = ObjectSpec.from_json(
    {
        "name": "task",
        "label": label("Task"),
        "title_field": "title",
        "fields": [
            {"name": "title", "type": "text", "label": label("Title"), "required": True},
            {"name": "project", "type": "lookup", "label": label("Project"), "target": "project"},
            {"name": "due", "type": "date", "label": label("Due")},
            {"name": "done", "type": "boolean", "label": label("Done"), "default": "False"},
            {
                "name": "late",
                "type": "formula",
                "label": label("Late"),
                "result": "boolean",
                "expression": "not done and due < today()",
            },
        ],
    }
)


@pytest.fixture
def projects(loom: Loom) -> Loom:
    apply_objects(loom, [PROJECT, TASK])
    return loom


def test_a_rollup_filter_on_today_follows_the_clock_after_the_first_read(projects: Loom) -> None:
    records = projects.records()
    project = records.create("project", {"name": "Launch"})["id"]
    for due in (date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 5)):
        records.create("task", {"title": f"by {due}", "project": project, "due": due})

    first = records.get("project", project)
    projects.clock.set(datetime(2026, 12, 1, 9, 0))
    later = records.get("project", project)
    page = projects.queries().find("project")

    assert (first["overdue_tasks"], first["late_tasks"], first["open_tasks"]) == (0, 0, 3)
    assert (later["overdue_tasks"], later["late_tasks"], later["open_tasks"]) == (2, 2, 3)
    assert page.records[0]["overdue_tasks"] == 2


def test_a_rollup_filter_on_the_actor_follows_whoever_reads(projects: Loom) -> None:
    records = projects.records()
    ann, bo = (identity.create_user(projects, name, name, actor=SYSTEM)["id"] for name in ("ann", "bob"))
    project = records.create("project", {"name": "Launch"})["id"]
    for owner in (ann, ann, bo):
        records.create("task", {"title": f"for {owner}", "project": project, "owner": owner})
    # Readers of every project, so that only the filter decides what each one counts.
    reader = RoleSpec.from_json(
        {"name": "reader", "label": label("Reader"), "objects": {"project": {"read": "all"}}}
    )
    apply_objects(projects, [PROJECT, TASK], roles=[reader])
    readers = [Actor.user(user_id, "reader", frozenset({"reader"})) for user_id in (ann, bo, ann)]

    seen = [projects.records(reader).get("project", project)["my_tasks"] for reader in readers]

    assert seen == [2, 1, 2]


def test_a_fixed_rollup_follows_a_change_of_its_filter(projects: Loom) -> None:
    records = projects.records()
    project = records.create("project", {"name": "Launch"})["id"]
    records.create("task", {"title": "open", "project": project})
    records.create("task", {"title": "also open", "project": project})
    records.create("task", {"title": "closed", "project": project, "done": True})
    assert records.get("project", project)["open_tasks"] == 2

    changed = PROJECT.to_json()
    [field] = [f for f in changed["fields"] if f["name"] == "open_tasks"]
    field["source"]["filter"] = "done"
    apply_objects(projects, [ObjectSpec.from_json(changed), TASK])

    assert records.get("project", project)["open_tasks"] == 1
    assert projects.records().get("project", project)["open_tasks"] == 1
    assert projects.queries().find("project").records[0]["open_tasks"] == 1
