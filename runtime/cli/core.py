"""The core commands: init, validate, install, migrate, objects, shell, rules, worker.

`loom demo` is in runtime/cli/demo.py; users, roles, departments, handover and tokens in
runtime/cli/people.py; the pool, conversion and transfer of records in runtime/cli/record_actions.py;
`loom backup`, `restore` and `check` in runtime/cli/backup.py.
"""

from __future__ import annotations

import code
import logging
from pathlib import Path

import click

from engine.base.errors import InvalidMetadata, LoomError
from engine.loom import Loom
from engine.packages.install import check_package, install_package
from engine.plugin_api import loaded_registries
from engine.rules.explain import business_time, created_records, explain
from engine.rules.trial import try_rule
from engine.schema.changes import sync_all
from runtime.cli.group import (
    Context,
    _fail,
    _report_problems,
    cli,
    pass_context,
    reports_errors,
)
from runtime.heap import freeze_startup_objects
from runtime.worker import RETRY_WHEN_UNAVAILABLE, run_pass, run_worker, wait_for_database


@cli.command()
@pass_context
def init(ctx: Context) -> None:
    """Create Loom's own tables in the database (safe to run again)."""
    ctx.loom.init()
    click.echo(f"initialised {ctx.url}")


@cli.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def validate(path: Path) -> None:
    """Check a package folder or zip and report every problem with its file and JSON path."""
    try:
        checked = check_package(path, loaded_registries())
    except InvalidMetadata as error:
        _report_problems(error)
        return
    fields = sum(len(obj.fields) for obj in checked.objects)
    rules = f", {len(checked.rules)} rules" if checked.rules else ""
    reports = f", {len(checked.reports)} reports" if checked.reports else ""
    dashboards = f", {len(checked.dashboards)} dashboards" if checked.dashboards else ""
    click.echo(
        f"{checked.manifest.name} {checked.manifest.version}: {len(checked.objects)} objects, "
        f"{fields} fields{rules}{reports}{dashboards} — valid"
    )


@cli.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--plan", "plan_only", is_flag=True, help="Print what would change and write nothing.")
@pass_context
@reports_errors
def install(ctx: Context, path: Path, plan_only: bool) -> None:
    """Validate a package, then apply its metadata and tables in one transaction."""
    checked, plan = install_package(ctx.loom, path, dry_run=plan_only)
    verb = "would install" if plan_only else "installed"
    click.echo(f"{verb} {checked.manifest.name} {checked.manifest.version}")
    for line in plan.lines():
        click.echo(f"  {line}")
    if not plan.lines():
        click.echo("  nothing to change")


@cli.command()
@click.option("--plan", "plan_only", is_flag=True, help="Print the DDL steps and write nothing.")
@pass_context
def migrate(ctx: Context, plan_only: bool) -> None:
    """Bring the record tables in line with the stored metadata."""
    try:
        plan = sync_all(ctx.loom, dry_run=plan_only)
    except LoomError as error:
        _fail(error)
        return
    for line in plan.lines() or ["tables already match the metadata"]:
        click.echo(line)


@cli.command()
@pass_context
def objects(ctx: Context) -> None:
    """List the installed objects with their tables and field counts."""
    _print_objects(ctx.loom)


def _print_objects(loom: Loom) -> None:
    registry = loom.registry
    click.echo(f"{'object':<18} {'table':<22} {'fields':>6} {'stored':>6}  label")
    for name, model in registry.objects.items():
        label = model.spec.label.get("zh_CN") or model.spec.label.get("en") or ""
        click.echo(
            f"{name:<18} {model.table.name:<22} {len(model.spec.fields):>6} {len(model.stored):>6}  {label}"
        )


@cli.command()
@pass_context
def shell(ctx: Context) -> None:
    """A Python shell with `loom` (the instance) and `records`/`queries` (as the system actor)."""
    loom = ctx.loom
    banner = f"Loom shell on {ctx.url}\n  loom, records = loom.records(), queries = loom.queries()"
    code.interact(banner=banner, local={"loom": loom, "records": loom.records(), "queries": loom.queries()})


@cli.group()
def rules() -> None:
    """Automation rules: list them, explain why they did or did not fire, try one on a record."""


@rules.command("list")
@pass_context
def rules_list(ctx: Context) -> None:
    """Every rule with its object, trigger and whether it is active."""
    registry = ctx.loom.registry
    for rule in sorted(registry.rules.values(), key=lambda r: (r.object, r.order, r.name)):
        state = "" if rule.active else "  (inactive)"
        click.echo(f"{rule.object:<16} {rule.name:<32} {rule.trigger.type:<12} {rule.fire}{state}")


@rules.command("explain")
@click.argument("object_name")
@click.argument("record_id", type=int)
@pass_context
def rules_explain(ctx: Context, object_name: str, record_id: int) -> None:
    """Why each rule of OBJECT did or did not fire for record RECORD_ID."""
    try:
        explanations = explain(ctx.loom, object_name, record_id)
    except LoomError as error:
        _fail(error)
        return
    if not explanations:
        click.echo(f"{object_name} has no rules")
    for item in explanations:
        click.echo(f"{item.rule} [{item.trigger}]: {item.verdict}")
        if item.condition:
            _echo_condition(item.condition, item.condition_value, {**item.inputs, **item.computed})
        if item.next_due:
            click.echo(f"    next due: {business_time(item.next_due, item.timezone)}")
        for run in item.runs:
            detail = run["error"] or ", ".join(a.get("type", "?") for a in run["actions"]) or ""
            at = business_time(run["at"], item.timezone)
            click.echo(f"    {at} {run['trigger']:<12} {run['status']:<8} {detail}")
            for object_name, created_id in created_records(run):
                click.echo(f"      created {object_name} {created_id}")


def _echo_condition(condition: str, value: object, inputs: dict) -> None:
    """A rule's condition with its value, then each input it read (or call it made) and its value."""
    click.echo(f"    condition: {condition}  →  {value!r}")
    for name, read in inputs.items():
        click.echo(f"      {name} = {read!r}")


@rules.command("try")
@click.argument("rule_name")
@click.argument("record_id", type=int)
@pass_context
def rules_try(ctx: Context, rule_name: str, record_id: int) -> None:
    """What rule RULE_NAME would do to record RECORD_ID of its object now; nothing is saved."""
    rule = ctx.loom.registry.rules.get(rule_name)
    if rule is None:
        raise click.ClickException(f"there is no rule named {rule_name!r} (see `loom rules list`)")
    try:
        trial = try_rule(ctx.loom, rule, record_id)
    except LoomError as error:
        _fail(error)
        return
    verdict = "would fire" if trial.would_fire else "would fail" if trial.error else "would not fire"
    click.echo(f"{rule.name} on {rule.object} {record_id}: {verdict} (nothing was saved)")
    if trial.condition:
        _echo_condition(trial.condition, trial.condition_value, trial.inputs)
    if trial.error:
        click.echo(f"    {trial.error}")
    for change in trial.changes:
        fields = ", ".join(f"{name} = {values[1]!r}" for name, values in change["changes"].items())
        click.echo(f"    would {change['action']} {change['object']} {change['record_id']}: {fields}")
    for note in trial.notifications:
        click.echo(f"    would notify user {note['user_id']}: {note['title']}")
    for message in trial.messages:
        click.echo(f"    would send by {message['channel']}: {message['message']}")
    for run in trial.runs:
        click.echo(
            f"    would trigger rule {run['rule']} on {run['object']} {run['record_id']}: {run['status']}"
        )


@cli.command()
@click.option("--once", is_flag=True, help="Run one pass (due work, then the outbox) and exit.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    help="Seconds between passes (default: $LOOM_WORKER_INTERVAL or 30).",
)
@pass_context
def worker(ctx: Context, once: bool, interval: float | None) -> None:
    """Run due work and deliver the outbox; run exactly one worker per database."""
    if once:
        loom = ctx.loom
        # Each failed or stopped rule run is logged by the pass; --once shows them on stderr.
        handler = _EchoHandler(logging.WARNING)
        worker_log = logging.getLogger("loom.worker")
        worker_log.addHandler(handler)
        try:
            counts = run_pass(loom)
        finally:
            worker_log.removeHandler(handler)
        click.echo(", ".join(f"{name}: {count}" for name, count in counts.items()))
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # not a line per quiet pass
    # Started at boot, the worker may come up before PostgreSQL does: it waits rather than exits.
    loom = wait_for_database(
        lambda: ctx.loom, retry=min(interval or RETRY_WHEN_UNAVAILABLE, RETRY_WHEN_UNAVAILABLE)
    )
    freeze_startup_objects(loom)
    run_worker(loom, interval or loom.settings.worker_interval)


class _EchoHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)
