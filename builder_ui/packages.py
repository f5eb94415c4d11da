"""导出 and 导入包: download an installed package as a zip; upload one, see its plan, apply it."""

from __future__ import annotations

import io
import re
import secrets
import tempfile
import time
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from builder_ui.blueprint import blueprint
from builder_ui.history import plan_lines
from engine.base.errors import InvalidMetadata, LoomError, MergeConflicts
from engine.packages.export import export_package
from engine.packages.install import install_package
from engine.packages.store import installed_packages
from engine.packages.upgrade import upgrade_package
from engine.schema.changes import ChangePlan
from metadata.loading import read_package
from runtime.web.auth import current_actor, current_loom

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# An upload waits here between its plan and the admin's confirmation; a day later it is gone.
UPLOADS = Path(tempfile.gettempdir()) / "loom-package-uploads"
KEEP_SECONDS = 24 * 3600
TOKEN = re.compile(r"[0-9a-f]{32}")
NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def _installed() -> list:  # type: ignore[type-arg]
    with current_loom().read() as conn:
        return list(installed_packages(conn).values())


def _index_page(**context: object) -> str:
    size = {"max_bytes": MAX_UPLOAD_BYTES, "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
    return render_template("builder/packages/index.html", packages=_installed(), **size, **context)


@blueprint.get("/packages/")
def packages() -> str:
    return _index_page()


@blueprint.get("/packages/<name>.zip")
def export(name: str) -> Response:
    if not NAME.fullmatch(name):
        abort(404)
    found = {package.name: package for package in _installed()}
    if name not in found:
        abort(404)
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / f"{name}.zip"
        export_package(current_loom(), name, target)
        data = target.read_bytes()
    filename = f"{name}-{found[name].version}.zip"
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True, download_name=filename)


def _stored(token: str) -> Path | None:
    path = UPLOADS / f"{token}.zip" if TOKEN.fullmatch(token) else None
    return path if path is not None and path.exists() else None


def _forget_old_uploads() -> None:
    now = time.time()
    for path in UPLOADS.glob("*.zip"):
        try:
            if now - path.stat().st_mtime > KEEP_SECONDS:
                path.unlink()
        except OSError:
            pass  # another process removed it first


def _refused(message: str, status: int = 422) -> tuple[str, int]:
    page = _index_page(refused=message)
    return page, status


def _apply(path: Path, *, dry_run: bool) -> tuple[str, str, str, ChangePlan]:
    """Install the package, or upgrade it when another version is installed; (name, version, how, plan)."""
    loom, actor = current_loom(), current_actor()
    manifest = read_package(path).manifest
    name = manifest.get("name") if isinstance(manifest, dict) else None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    installed = {package.name: package.version for package in _installed()}
    if isinstance(name, str) and name in installed and installed[name] != version:
        checked, plan = upgrade_package(loom, path, actor=actor, dry_run=dry_run)
        how = "upgrade"
    else:
        checked, plan = install_package(loom, path, actor=actor, dry_run=dry_run)
        how = "install"
    return checked.manifest.name, checked.manifest.version, how, plan


def _planned(path: Path, token: str, *, dry_run: bool) -> str | Response | tuple[str, int]:
    try:
        name, version, how, plan = _apply(path, dry_run=dry_run)
    except InvalidMetadata as error:
        page = _index_page(problems=sorted(error.problems, key=str))
        return page, 422
    except MergeConflicts as error:
        conflicts = [line for conflict in error.conflicts for line in conflict.lines()]
        page = _index_page(refused=error.message, conflicts=conflicts)
        return page, 409
    except LoomError as error:
        return _refused(error.message, 409)
    if not dry_run:
        path.unlink(missing_ok=True)
        flash(_("Package %(name)s %(version)s applied.", name=name, version=version), "success")
        return redirect(url_for("builder.packages"))
    return render_template(
        "builder/packages/plan.html",
        name=name,
        version=version,
        how=how,
        plan=plan_lines(plan),
        empty=plan.empty,
        token=token,
    )


@blueprint.post("/packages/upload")
def upload() -> str | Response | tuple[str, int]:
    """Keep the uploaded zip and show what installing it would change; nothing is applied yet."""
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + 64 * 1024:
        return _refused(
            _("The file is larger than %(size)s MB.", size=MAX_UPLOAD_BYTES // (1024 * 1024)), 413
        )
    upload = request.files.get("package")
    if upload is None or not upload.filename:
        return _refused(_("Choose a package zip file to upload."), 400)
    data = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _refused(
            _("The file is larger than %(size)s MB.", size=MAX_UPLOAD_BYTES // (1024 * 1024)), 413
        )
    if not data.startswith(b"PK"):
        return _refused(_("The file is not a zip file."), 422)
    UPLOADS.mkdir(parents=True, exist_ok=True)
    _forget_old_uploads()
    token = secrets.token_hex(16)
    path = UPLOADS / f"{token}.zip"
    path.write_bytes(data)
    response = _planned(path, token, dry_run=True)
    if not isinstance(response, str):
        path.unlink(missing_ok=True)
    return response


@blueprint.post("/packages/apply")
def apply_upload() -> str | Response | tuple[str, int]:
    """Apply the upload whose plan the admin saw: checked again, in one transaction."""
    token = request.form.get("token", "")
    path = _stored(token)
    if path is None:
        return _refused(_("This upload is no longer here; upload the package again."), 410)
    return _planned(path, token, dry_run=False)
