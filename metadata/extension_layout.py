"""Where an extension's fields appear on the pages of the object it extends.

An extension document may place its fields on the object's form and list:

    {"extends": "customer",
     "fields": [...],
     "form": {"sections": [{"label": {...}, "fields": ["plant_count", "main_equipment"]}],
              "into": [{"section": "基本信息", "fields": ["service_level"]}]},
     "list": {"columns": ["service_level"]}}

`form.sections` are appended after the form's own sections, `form.into` adds fields at the end of an
existing section (named by its label in any locale), and `list.columns` are appended to the list's
columns. An extension field placed nowhere is shown in a section named after the extending package,
so no field an extension adds is ever out of reach on the page.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from metadata.forms import FormField, FormSection, FormSpec, default_form
from metadata.frozen import Label, freeze
from metadata.problems import Problem, pointer
from metadata.references import no_field
from metadata.reserved import EXPRESSION_SYSTEM_NAMES
from metadata.schemas import structural_problems
from metadata.specs import ObjectSpec

FIELD_NAME = r"^[a-z][a-z0-9_]{0,62}$"
_PROBE_LABEL = {"en": "probe"}


@dataclass(frozen=True)
class ExtensionLayout:
    """One package's extension of one object, as its pages use it."""

    package: str
    label: Label
    object: str
    fields: tuple[str, ...]
    sections: tuple[FormSection, ...] = ()
    into: tuple[tuple[str, tuple[FormField, ...]], ...] = ()
    columns: tuple[str, ...] = ()

    @classmethod
    def from_json(
        cls, package: str, label: Mapping[str, Any], target: str, doc: Mapping[str, Any]
    ) -> ExtensionLayout:
        form = doc.get("form") or {}
        return cls(
            package=package,
            label=freeze(dict(label)),
            object=target,
            fields=tuple(doc.get("fields", ())),
            sections=tuple(FormSection.from_json(section) for section in form.get("sections", ())),
            into=tuple(
                (entry["section"], tuple(FormField.from_json(f) for f in entry["fields"]))
                for entry in form.get("into", ())
            ),
            columns=tuple((doc.get("list") or {}).get("columns", ())),
        )


def layout_json(extension: Mapping[str, Any]) -> dict[str, Any]:
    """What the pages need of an extension document: its field names, form and list placements."""
    doc: dict[str, Any] = {"fields": [field["name"] for field in extension.get("fields", [])]}
    if extension.get("form"):
        doc["form"] = extension["form"]
    if extension.get("list"):
        doc["list"] = extension["list"]
    return doc


# -- shape and references -----------------------------------------------------------------------------


def shape_problems(body: Mapping[str, Any], file: str) -> list[Problem]:
    """What is wrong with an extension's `form` and `list` on their own, at their JSON paths."""
    problems: list[Problem] = []
    form = body.get("form")
    if form is not None:
        problems += _form_shape(form, file)
    listed = body.get("list")
    if listed is not None:
        problems += _list_shape(listed, file)
    return problems


def _form_shape(form: Any, file: str) -> list[Problem]:
    if not isinstance(form, dict):
        return [Problem(file, "/form", "holds sections to add and fields to put into existing sections")]
    problems = [
        Problem(file, pointer("form", key), f"a form extension may hold sections and into, not {key!r}")
        for key in form
        if key not in ("sections", "into")
    ]
    sections = form.get("sections", [])
    if not isinstance(sections, list):
        problems.append(Problem(file, "/form/sections", "is a list of sections, as a form writes them"))
    elif sections:
        probe = {"name": "probe", "object": "probe", "sections": sections}
        for problem in structural_problems("form", probe, file):
            problems.append(Problem(file, "/form" + problem.path, problem.message))
    into = form.get("into", [])
    if not isinstance(into, list):
        problems.append(Problem(file, "/form/into", 'is a list of {"section": label, "fields": [...]}'))
        return problems
    for index, entry in enumerate(into):
        at = pointer("form", "into", index)
        if not isinstance(entry, dict):
            problems.append(Problem(file, at, 'is {"section": a section label, "fields": [...]}'))
            continue
        problems += [
            Problem(file, at + pointer(key), f"may hold section and fields, not {key!r}")
            for key in entry
            if key not in ("section", "fields")
        ]
        if not isinstance(entry.get("section"), str) or not entry["section"].strip():
            problems.append(
                Problem(file, at + "/section", "names an existing section by its label, e.g. 基本信息")
            )
        probe = {
            "name": "probe",
            "object": "probe",
            "sections": [{"label": _PROBE_LABEL, "fields": entry.get("fields")}],
        }
        for problem in structural_problems("form", probe, file):
            rest = problem.path.removeprefix("/sections/0")
            if rest == problem.path:
                continue
            problems.append(Problem(file, at + rest, problem.message))
    return problems


def _list_shape(listed: Any, file: str) -> list[Problem]:
    if not isinstance(listed, dict):
        return [Problem(file, "/list", 'holds the columns to add: {"columns": ["field", ...]}')]
    problems = [
        Problem(file, pointer("list", key), f"a list extension may hold columns, not {key!r}")
        for key in listed
        if key != "columns"
    ]
    columns = listed.get("columns", [])
    if not isinstance(columns, list) or not all(isinstance(name, str) for name in columns):
        problems.append(Problem(file, "/list/columns", "is a list of field names"))
    return problems


def placement_problems(
    body: Mapping[str, Any], file: str, woven: ObjectSpec, form: FormSpec | None
) -> list[Problem]:
    """Every field placed exists on the extended object and is placed once; every section named exists.

    `woven` is the object with the extension in it; `form` the object's form (None: it has none).
    """
    problems: list[Problem] = []
    base = form or default_form(woven)
    placed = {name: "the object's form" for name in base.field_names}
    if form is None:
        own = set(body_field_names(body))
        placed = {name: where for name, where in placed.items() if name not in own}
    layout = body.get("form") or {}
    for i, section in enumerate(layout.get("sections", [])):
        for j, entry in enumerate(section["fields"]):
            at = pointer("form", "sections", i, "fields", j, *(() if isinstance(entry, str) else ("field",)))
            problems += _placed(_entry_name(entry), at, woven, placed, file)
    labels = [text for section in base.sections for text in section.label.values()]
    for i, entry in enumerate(layout.get("into", [])):
        if entry["section"] not in labels:
            shown = ", ".join(dict.fromkeys(labels))
            message = (
                f"{woven.name}'s form has no section labelled {entry['section']!r}; its sections: {shown}"
            )
            problems.append(Problem(file, pointer("form", "into", i, "section"), message))
        for j, field in enumerate(entry["fields"]):
            at = pointer("form", "into", i, "fields", j, *(() if isinstance(field, str) else ("field",)))
            problems += _placed(_entry_name(field), at, woven, placed, file)
    for i, name in enumerate((body.get("list") or {}).get("columns", [])):
        if not woven.has_field(name) and name not in EXPRESSION_SYSTEM_NAMES:
            problems.append(Problem(file, pointer("list", "columns", i), no_field(woven, name)))
    return problems


def body_field_names(body: Mapping[str, Any]) -> list[str]:
    return [field.get("name") for field in body.get("fields", []) if isinstance(field, Mapping)]


def _entry_name(entry: str | Mapping[str, Any]) -> str:
    return entry if isinstance(entry, str) else entry["field"]


def _placed(name: str, at: str, woven: ObjectSpec, placed: dict[str, str], file: str) -> list[Problem]:
    if not woven.has_field(name) and name not in EXPRESSION_SYSTEM_NAMES:
        return [Problem(file, at, no_field(woven, name))]
    if name in placed:
        return [Problem(file, at, f"field {name!r} is already placed, on {placed[name]}")]
    placed[name] = f"this extension at {at}"
    return []


def condition_form(target: str, body: Mapping[str, Any]) -> FormSpec:
    """The extension's placements as a form, so the engine checks their conditions like any form's."""
    layout = body.get("form") or {}
    sections = [FormSection.from_json(section) for section in layout.get("sections", [])]
    sections += [
        FormSection(freeze(_PROBE_LABEL), tuple(FormField.from_json(f) for f in entry["fields"]))
        for entry in layout.get("into", [])
    ]
    return FormSpec(f"{target}_extension", target, tuple(sections))


def condition_path(path: str, body: Mapping[str, Any]) -> str:
    """A path in `condition_form` as the path in the extension document."""
    parts = path.split("/")
    own = len((body.get("form") or {}).get("sections", []))
    if len(parts) > 2 and parts[1] == "sections" and parts[2].isdigit():
        index = int(parts[2])
        head = ["", "form", "sections", str(index)] if index < own else ["", "form", "into", str(index - own)]
        return "/".join(head + parts[3:])
    return path


# -- the effective form and list ------------------------------------------------------------------------


def extended_form(form: FormSpec | None, obj: ObjectSpec, layouts: Sequence[ExtensionLayout]) -> FormSpec:
    """The object's form with every extension's placements, then a section per package for the rest."""
    if not layouts:
        return form or default_form(obj)
    own = {name for layout in layouts for name in layout.fields}
    if form is None:
        base = default_form(obj)
        entries = tuple(entry for entry in base.sections[0].fields if entry.field not in own)
        form = FormSpec(base.name, base.object, (FormSection(base.sections[0].label, entries),), base.label)
    placed = set(form.field_names)
    sections = list(form.sections)

    def fresh(entries: Iterable[FormField]) -> tuple[FormField, ...]:
        kept = tuple(entry for entry in entries if obj.has_field(entry.field) and entry.field not in placed)
        placed.update(entry.field for entry in kept)
        return kept

    for layout in layouts:
        for label, entries in layout.into:
            index = next((i for i, s in enumerate(sections) if label in s.label.values()), None)
            if index is None:
                continue  # the section was renamed since: the fields fall to the package's section
            section = sections[index]
            sections[index] = FormSection(
                section.label, section.fields + fresh(entries), section.columns, section.visible_if
            )
        for section in layout.sections:
            kept = fresh(section.fields)
            if kept:
                sections.append(FormSection(section.label, kept, section.columns, section.visible_if))
    for layout in layouts:
        rest = fresh(FormField(name) for name in layout.fields)
        if rest:
            sections.append(FormSection(layout.label, rest))
    return FormSpec(form.name, form.object, tuple(sections), form.label, form.description)


def extended_columns(
    columns: Sequence[str], obj: ObjectSpec, layouts: Sequence[ExtensionLayout]
) -> list[str]:
    """The list's columns with the extensions' columns appended (each once, fields that still exist)."""
    shown = list(columns)
    for layout in layouts:
        shown += [
            name
            for name in layout.columns
            if name not in shown and (obj.has_field(name) or name in EXPRESSION_SYSTEM_NAMES)
        ]
    return shown


def layouts_by_object(packages: Iterable[Mapping[str, Any]]) -> dict[str, tuple[ExtensionLayout, ...]]:
    """Object → the extensions of it, by package name, from the stored package documents."""
    found: dict[str, list[ExtensionLayout]] = {}
    for doc in sorted(packages, key=lambda d: d.get("name", "")):
        label = doc.get("label") or {"en": doc.get("name", "")}
        for target, layout in (doc.get("layouts") or {}).items():
            found.setdefault(target, []).append(ExtensionLayout.from_json(doc["name"], label, target, layout))
    return {name: tuple(layouts) for name, layouts in found.items()}
