"""The import wizard: upload a CSV or XLSX file, map its columns, dry-run a sample, import, revert.

An uploaded file is kept in the instance's upload folder under a random name, which the later
steps carry in their address. The import itself runs in a background thread of the web process,
and the page polls `import_status` (the engine's stored progress) until it is done; the engine
commits each batch, so a process that stops mid-way leaves an import that `loom import resume ID`
continues. Every step runs as the signed-in actor: the engine refuses anyone without the import
permission on the object.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.base.actors import Actor
from engine.base.errors import LoomError, UnknownObject
from engine.identity.permissions import access_for
from engine.imports import (
    ImportOptions,
    ImportRefused,
    ImportReport,
    Problem,
    UnreadableFile,
    auto_mapping,
    bad_rows_report,
    dry_run,
    estimate_rows,
    import_report,
    importable_fields,
    inspect_file,
    list_imports,
    mapping_guesses,
    previous_choices,
    problems_report,
    revert_import,
    start_import,
    unmapped_columns,
)
from engine.loom import Loom
from runtime.web.auth import current_actor, current_loom
from runtime.web.i18n import error_text, label_text, page_locale, said
from runtime.web.pages.blueprint import blueprint
from runtime.web.pages.objects import may

UPLOAD_SUFFIXES = (".csv", ".xlsx")
_UPLOAD_NAME = re.compile(r"^[0-9a-f]{32}\.(csv|xlsx)$")
REPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SHOWN_PROBLEMS = 50


def upload_folder() -> Path:
    """Where uploaded files wait: LOOM_UPLOAD_FOLDER (app config or environment), else instance/uploads."""
    setting = current_app.config.get("LOOM_UPLOAD_FOLDER") or os.environ.get("LOOM_UPLOAD_FOLDER")
    folder = Path(setting or Path(current_app.instance_path) / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _importable_objects() -> list[dict[str, str]]:
    loom, actor = current_loom(), current_actor()
    return [
        {"name": name, "label": label_text(loom.registry.object(name).spec.label, name)}
        for name in sorted(loom.registry.objects)
        if may(actor, loom, name, "import")
    ]


@blueprint.get("/app/import")
def import_wizard() -> str:
    loom = current_loom()
    return render_template(
        "import.html", objects=_importable_objects(), imports=_past_imports(loom), upload_error=None
    )


@blueprint.post("/app/import")
def import_upload() -> str | Response | tuple[str, int]:
    loom = current_loom()
    object_name = request.form.get("object", "")
    upload = request.files.get("file")
    suffix = Path(upload.filename or "").suffix.lower() if upload else ""
    error = None
    if object_name not in {item["name"] for item in _importable_objects()}:
        error = _("Choose an object you may import into")
    elif upload is None or not upload.filename:
        error = _("Choose a file to upload")
    elif suffix not in UPLOAD_SUFFIXES:
        error = _("Only .csv and .xlsx files can be imported")
    if error is None:
        token = f"{uuid.uuid4().hex}{suffix}"
        upload.save(upload_folder() / token)  # type: ignore[union-attr]
        try:
            inspect_file(upload_folder() / token, sample=1)
        except UnreadableFile as unreadable:
            error = error_text(unreadable)
        else:
            return redirect(url_for(".import_mapping", token=token, object=object_name))  # type: ignore[return-value]
    page = render_template(
        "import.html", objects=_importable_objects(), imports=_past_imports(loom), upload_error=error
    )
    return page, 422


# -- mapping and dry run ------------------------------------------------------------------------------


@blueprint.get("/app/import/<token>")
def import_mapping(token: str) -> str:
    path, object_name = _upload(token)
    info = inspect_file(path, sample=5)
    loom = current_loom()
    mapping: dict[str, str | None] = dict(
        auto_mapping(loom.registry.object(object_name), info.columns, _access(object_name))
    )
    # The choices of this person's last import into the object are the defaults: saved for next time.
    last = previous_choices(loom, object_name, current_actor())
    taken = {field for column, field in mapping.items() if column not in last["mapping"]}
    for column in info.columns:
        if column in last["mapping"] and last["mapping"][column] not in taken:
            mapping[column] = last["mapping"][column]
    chosen = Chosen(mapping, "skip", "", last["values"], last["date_order"])
    return _mapping_page(token, object_name, info, chosen, None)


@blueprint.post("/app/import/<token>/dry-run")
def import_dry_run(token: str) -> str | tuple[str, int]:
    path, object_name = _upload(token)
    info = inspect_file(path, sample=5)
    chosen = _posted_options(info.columns)
    try:
        report = dry_run(current_loom(), object_name, path, chosen.options(), current_actor())
    except ImportRefused as refused:
        return _mapping_page(token, object_name, info, chosen, None, refused.problems), 422
    return _mapping_page(token, object_name, info, chosen, report)


@blueprint.post("/app/import/<token>/report.<fmt>")
def import_dry_run_report(token: str, fmt: str) -> Response:
    """The dry run's bad rows as a file to correct and upload again."""
    if fmt not in REPORT_TYPES:
        abort(404)
    path, object_name = _upload(token)
    loom = current_loom()
    info = inspect_file(path, sample=0)
    try:
        report = dry_run(loom, object_name, path, _posted_options(info.columns).options(), current_actor())
    except ImportRefused:
        abort(422)
    model = loom.registry.object(object_name)
    body = problems_report(model, info.columns, report.problems, fmt, page_locale())
    return _download(body, fmt, f"{object_name}-dry-run-problems.{fmt}")


@dataclass
class Chosen:
    """What the person chose on the mapping page: columns, duplicates, key, value map and date order."""

    mapping: dict[str, str | None]
    on_duplicate: str
    key: str
    values: dict[str, dict[str, str | None]]
    date_order: str

    def options(self) -> ImportOptions:
        """The import options; ImportRefused when a choice is not one the engine knows."""
        return ImportOptions(
            mapping=self.mapping,
            on_duplicate=self.on_duplicate,
            key=self.key or None,
            values=self.values,
            date_order=self.date_order,
        )


# The value step's choice for "leave the field empty" (an option value never has this shape).
LEAVE_EMPTY = "(empty)"


def _posted_options(columns: list[str]) -> Chosen:
    form = request.form
    mapping: dict[str, str | None] = {
        column: form.get(f"map-{index}") or None for index, column in enumerate(columns)
    }
    values: dict[str, dict[str, str | None]] = {}
    for index in range(MAX_VALUE_ROWS):
        field, word, value = (
            form.get(f"vfield-{index}"),
            form.get(f"vtext-{index}"),
            form.get(f"vvalue-{index}"),
        )
        if field is None or word is None:
            break
        if value:
            values.setdefault(field, {})[word] = None if value == LEAVE_EMPTY else value
    date_order = form.get("date_order", "auto")
    return Chosen(mapping, form.get("on_duplicate", "skip"), form.get("key", ""), values, date_order)


MAX_VALUE_ROWS = 500


def _mapping_page(
    token: str,
    object_name: str,
    info: Any,
    chosen: Chosen,
    report: ImportReport | None,
    problems: list[str] | None = None,
) -> str:
    loom = current_loom()
    model = loom.registry.object(object_name)
    access = _access(object_name)
    mapping = chosen.mapping
    guesses = {guess.column: guess for guess in mapping_guesses(model, info.columns, access)}
    fields = [(name, label_text(model.fields[name].label, name)) for name in importable_fields(model, access)]
    keys = [
        (name, text)
        for name, text in fields
        if model.fields[name].unique
        or model.fields[name].type == "autonumber"
        or (name,) in model.spec.unique_keys
    ]
    return render_template(
        "import_map.html",
        token=token,
        object_name=object_name,
        object_label=label_text(model.spec.label, object_name),
        info=info,
        fields=fields,
        keys=keys,
        mapping=mapping,
        guesses=guesses,
        unmapped=unmapped_columns(info.columns, mapping),
        on_duplicate=chosen.on_duplicate,
        key=chosen.key,
        date_order=chosen.date_order,
        value_rows=_value_rows(model, chosen, report),
        leave_empty=LEAVE_EMPTY,
        report=report,
        bad_rows=[_problem_row(model, p) for p in (report.problems if report else [])][:SHOWN_PROBLEMS],
        problems=[said(problem) for problem in problems or []],
    )


def _value_rows(model: Any, chosen: Chosen, report: ImportReport | None) -> list[dict[str, Any]]:
    """The value step: each word of a select column no option takes (or one only guessed), to choose for."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(field: str, word: str, count: int | None, picked: str | None, guessed: bool) -> None:
        if (field, word) in seen or field not in model.fields or len(rows) >= MAX_VALUE_ROWS:
            return
        seen.add((field, word))
        spec = model.fields[field]
        options = [(o["value"], label_text(o.get("label") or {}, o["value"])) for o in spec.params["options"]]
        rows.append(
            {
                "field": field,
                "field_label": label_text(spec.label, field),
                "word": word,
                "count": count,
                "picked": LEAVE_EMPTY if picked is None and not guessed and count is None else picked,
                "guessed": guessed,
                "options": options,
            }
        )

    for field, words in chosen.values.items():
        for word, value in words.items():
            if field in model.fields and model.fields[field].type in ("select", "multi_select"):
                add(field, word, None, value, False)
    if report is not None:
        for field, counts in report.unknown_values.items():
            for word, count in counts.items():
                add(field, word, count, None, False)
        for field, guessed in report.guessed_values.items():
            for word, value in guessed.items():
                add(field, word, None, value, True)
    return rows


def _problem_row(model: Any, problem: Problem) -> dict[str, Any]:
    reasons = []
    for name, messages in problem.reasons.items():
        text = ", ".join(said(message) for message in messages)
        # A reason about the whole row (a duplicate) names no field: "_record" is no word for people.
        where = label_text(model.fields[name].label, name) if name in model.fields else None
        reasons.append(f"{where}: {text}" if where else text)
    return {"line": problem.line, "kind": problem.kind, "cells": problem.cells, "reasons": reasons}


# -- running, progress, reverting ----------------------------------------------------------------------


@blueprint.post("/app/import/<token>/run")
def import_run(token: str) -> str | Response | tuple[str, int]:
    path, object_name = _upload(token)
    loom, actor = current_loom(), current_actor()
    info = inspect_file(path, sample=5)
    chosen = _posted_options(info.columns)
    try:
        options = chosen.options()
        # Checked here, on a one-row sample, so a refused request shows on this page at once.
        dry_run(loom, object_name, path, options, actor, sample=1, survey_file=False)
    except ImportRefused as refused:
        return _mapping_page(token, object_name, info, chosen, None, refused.problems), 422
    jobs = _jobs()
    jobs[token] = {"error": None}
    thread = threading.Thread(
        target=_run_import, args=(loom, object_name, path, options, actor, jobs[token]), daemon=True
    )
    thread.start()
    return redirect(url_for(".import_progress", token=token, object=object_name))  # type: ignore[return-value]


def _run_import(
    loom: Loom, object_name: str, path: Path, options: ImportOptions, actor: Actor, job: dict[str, Any]
) -> None:
    try:
        start_import(loom, object_name, path, options, actor, resume=False)
    except LoomError as error:
        job["error"] = error.message
    except Exception as error:  # a thread's failure must reach the page, not only the log
        job["error"] = f"{type(error).__name__}: {error}"
        raise


def _jobs() -> dict[str, dict[str, Any]]:
    return current_app.extensions.setdefault("loom_import_jobs", {})


@blueprint.get("/app/import/<token>/progress")
def import_progress(token: str) -> str:
    _, object_name = _upload(token)
    return render_template("import_progress.html", token=token, object_name=object_name)


@blueprint.get("/app/import/<token>/status")
def import_status(token: str) -> Response:
    """{"status", "rows", "total", "rate", "counts", "import_id", "error"}: the import of this upload
    as stored so far; `total` is the file's estimated rows and `rate` rows a second since it began."""
    path, object_name = _upload(token)
    job = _jobs().setdefault(token, {"error": None})
    found = _import_of(current_loom(), object_name, path)
    if found is None:
        status = "failed" if job.get("error") else "starting"
        return jsonify(
            {
                "status": status,
                "rows": 0,
                "total": None,
                "rate": None,
                "counts": {},
                "import_id": None,
                "error": _said(job.get("error")),
            }
        )
    report = import_report(current_loom(), found["id"])
    if "total" not in job:
        try:
            job["total"] = estimate_rows(path)
        except UnreadableFile:
            job["total"] = None
    total = job["total"]
    seconds = (found["updated_at"] - found["created_at"]).total_seconds()
    return jsonify(
        {
            "status": report.status,
            "rows": report.rows,
            "total": max(total, report.rows) if total is not None else None,
            "rate": round(report.rows / seconds) if seconds > 0 and report.rows else None,
            "counts": report.counts.to_json(),
            "import_id": report.import_id,
            "error": _said(job.get("error")) or found.get("error"),
        }
    )


def _said(error: str | None) -> str | None:
    return None if error is None else said(error)


def _import_of(loom: Loom, object_name: str, path: Path) -> dict[str, Any] | None:
    resolved = str(path.resolve())
    imports = list_imports(loom, object_name, actor=current_actor())
    return next((row for row in imports if row["file_path"] == resolved), None)


@blueprint.get("/app/import/<int:import_id>/problems.<fmt>")
def import_problems(import_id: int, fmt: str) -> Response:
    """An import's stored bad rows (and skipped duplicates) as CSV or XLSX."""
    if fmt not in REPORT_TYPES:
        abort(404)
    loom = current_loom()
    readable = list_imports(loom, limit=500, actor=current_actor())
    row = next((r for r in readable if r["id"] == import_id), None)
    if row is None:  # someone else's import is not there for this reader
        abort(404)
    body = bad_rows_report(loom, import_id, fmt, locale=page_locale())
    return _download(body, fmt, f"{row['object']}-import-{import_id}-problems.{fmt}")


@blueprint.post("/app/import/<int:import_id>/revert")
def import_revert(import_id: int) -> Response:
    try:
        result = revert_import(current_loom(), import_id, current_actor())
    except LoomError as error:
        flash(_("The import could not be reverted: %(reason)s", reason=error_text(error)), "error")
    else:
        flash(
            _(
                "Import %(id)s reverted: %(deleted)s records deleted, %(restored)s restored",
                id=import_id,
                deleted=result.deleted,
                restored=result.restored,
            ),
            "success",
        )
    return redirect(url_for(".import_wizard"))  # type: ignore[return-value]


# -- shared --------------------------------------------------------------------------------------------


def _upload(token: str) -> tuple[Path, str]:
    """The uploaded file of this address and the object it goes into; 404 / 403 when it cannot be."""
    object_name = request.args.get("object") or request.form.get("object", "")
    path = upload_folder() / token
    if not _UPLOAD_NAME.match(token) or not path.exists():
        abort(404)
    try:
        current_loom().registry.object(object_name)
    except UnknownObject:
        abort(404)
    _access(object_name).require("import")
    return path, object_name


def _access(object_name: str) -> Any:
    return access_for(current_loom().registry, current_actor(), object_name)


def _past_imports(loom: Loom) -> list[dict[str, Any]]:
    """Recent imports into objects the actor may import into, with a label per object."""
    names = {item["name"]: item["label"] for item in _importable_objects()}
    return [
        dict(row, object_label=names[row["object"]])
        for row in list_imports(loom, limit=50, actor=current_actor())
        if row["object"] in names
    ]


def _download(body: bytes, fmt: str, filename: str) -> Response:
    response = Response(body, mimetype=REPORT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
