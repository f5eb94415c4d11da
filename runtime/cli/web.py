"""`loom run`: serve the pages and the REST API with Flask's development server."""

from __future__ import annotations

import logging

import click

from runtime.cli.group import Context, cli, pass_context
from runtime.heap import freeze_startup_objects
from runtime.web.app import create_app


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: all).")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@pass_context
def run_server(ctx: Context, host: str, port: int) -> None:
    """Serve the web pages and the API for the database, with Flask's development server.

    For production, serve `runtime.web.app:create_app()` with a WSGI server such as gunicorn, and
    set LOOM_SECRET_KEY so sessions survive restarts.
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(ctx.loom)
    freeze_startup_objects(ctx.loom)
    app.run(host=host, port=port)
