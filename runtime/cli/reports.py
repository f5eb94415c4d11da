"""`loom report NAME`: run a report as a user, with its parameters, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

import click

from engine.records.reports import ReportResult, run_report
from runtime.cli.group import Context, actor_named, cli, cli_locale, pass_context, reports_errors
from runtime.web.api.record_json import plain_json
from runtime.web.api.report_json import report_json


@cli.command("report")
@click.argument("name")
@click.option("--param", "params", multiple=True, help="KEY=VALUE for a parameter, e.g. period=last_quarter.")
@click.option("--filter", "filter_", help='A condition narrowing the report further, e.g. "amount > 1000".')
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="table for people; csv with one header row; json as the API answers.",
)
@click.option("--as", "username", help="The user to run it as, by username (default: the system).")
@pass_context
@reports_errors
def report_command(
    ctx: Context, name: str, params: tuple[str, ...], filter_: str | None, output: str, username: str | None
) -> None:
    """Run the report NAME; a user sees only the records they may read."""
    given: dict[str, str] = {}
    for item in params:
        key, equals, value = item.partition("=")
        if not (equals and key):
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--param")
        given[key] = value
    loom = ctx.loom
    result = run_report(loom, name, actor_named(loom, username), filter=filter_, parameters=given)
    locale = cli_locale()
    if output == "json":
        click.echo(json.dumps(report_json(result, locale), ensure_ascii=False, indent=2))
    elif output == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows(_cells(result, locale))
        click.echo(buffer.getvalue(), nl=False)
    else:
        click.echo(_table(_cells(result, locale)))


def _cells(result: ReportResult, locale: str) -> list[list[str]]:
    """A header of column labels, then a line per row: group values by their labels."""
    header = [column.label.get(locale) or column.label.get("en") or column.name for column in result.columns]
    lines = [header]
    for row in result.rows:
        line = []
        for column in result.columns:
            value = row[column.name]
            if column.role == "group":
                line.append(result.label(column.name, value, locale))
            else:
                line.append("" if value is None else str(plain_json(value)))
        lines.append(line)
    return lines


def _table(lines: list[list[str]]) -> str:
    """Columns padded to their widest cell (a CJK character takes two places), figures to the right."""
    widths = [max(_width(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for index, line in enumerate(lines):
        cells = []
        for i, cell in enumerate(line):
            pad = " " * (widths[i] - _width(cell))
            cells.append(pad + cell if index and _figure(cell) else cell + pad)
        out.append("  ".join(cells).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def _width(text: str) -> int:
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text)


def _figure(text: str) -> bool:
    return text.replace(".", "", 1).replace("-", "", 1).isdigit()
