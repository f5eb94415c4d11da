"""Reading a package from a folder or a zip, and writing one back so exports diff cleanly.

A package is `package.json` plus one JSON document per file in a kind folder
(`objects/customer.json`, `rules/vip_followup_overdue.json`, `roles/sales_rep.json`,
`flows/contract_approval.json`).
Reading never raises for bad content: unreadable files, invalid JSON and misplaced files
become problems next to the documents that did load.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from metadata.dashboards import DashboardSpec
from metadata.flows import FlowSpec
from metadata.forms import FormSpec
from metadata.problems import Problem
from metadata.reports import ReportSpec
from metadata.roles import RoleSpec
from metadata.rules import RuleSpec
from metadata.specs import ObjectSpec, PackageManifest, thaw

MANIFEST_FILE = "package.json"

# Folder name -> document kind. Data and i18n documents are not validated yet: they are read so that a
# package carrying them is told they are not supported yet.
KIND_FOLDERS: Mapping[str, str] = {
    "objects": "object",
    "forms": "form",
    "rules": "rule",
    "flows": "flow",
    "reports": "report",
    "dashboards": "dashboard",
    "roles": "role",
    "data": "data",
    "i18n": "i18n",
}
FOLDER_OF_KIND: Mapping[str, str] = {kind: folder for folder, kind in KIND_FOLDERS.items()}

# Larger files are refused unread: a package is metadata, and a zip may lie about its contents.
MAX_FILE_BYTES = 16 * 1024 * 1024

# Fixed entry timestamps make two exports of the same package byte-identical zips.
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Document:
    """One metadata document: where it came from, what kind it is, and its JSON body."""

    file: str  # relative, with forward slashes: "objects/customer.json"
    kind: str  # "object", "form", …
    body: dict[str, Any]


@dataclass(frozen=True)
class PackageSource:
    """A package as read from disk, before validation."""

    manifest: dict[str, Any] | None
    documents: tuple[Document, ...] = ()
    problems: tuple[Problem, ...] = ()

    def of_kind(self, kind: str) -> tuple[Document, ...]:
        return tuple(doc for doc in self.documents if doc.kind == kind)


Reader = Callable[[], bytes]


def read_package(path: str | Path) -> PackageSource:
    """Read a package folder or .zip; bad files become problems, never exceptions."""
    path = Path(path)
    if path.is_dir():
        return _assemble(_folder_entries(path))
    if not path.exists():
        raise FileNotFoundError(f"no package at {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            return _assemble(_zip_entries(archive))
    except zipfile.BadZipFile as exc:
        return PackageSource(None, (), (Problem(path.name, "", f"not a package folder or zip file: {exc}"),))


def _skipped(parts: Iterable[str]) -> bool:
    # Editor, VCS and OS clutter (.git, .DS_Store, __MACOSX) is not part of a package.
    return any(part.startswith((".", "__")) for part in parts)


def _folder_entries(root: Path) -> dict[str, tuple[int, Reader]]:
    entries: dict[str, tuple[int, Reader]] = {}
    for file in sorted(root.rglob("*")):
        relative = file.relative_to(root).parts
        if file.is_file() and not _skipped(relative):
            entries["/".join(relative)] = (file.stat().st_size, file.read_bytes)
    return entries


def _zip_entries(archive: zipfile.ZipFile) -> dict[str, tuple[int, Reader]]:
    entries: dict[str, tuple[int, Reader]] = {}
    for info in archive.infolist():
        parts = PurePosixPath(info.filename.replace("\\", "/")).parts
        if info.is_dir() or _skipped(parts) or ".." in parts or parts[:1] == ("/",):
            continue
        entries["/".join(parts)] = (info.file_size, _zip_reader(archive, info))
    # Zipping a folder usually puts everything under one top folder: look inside it.
    tops = {name.split("/", 1)[0] for name in entries}
    if MANIFEST_FILE not in entries and len(tops) == 1 and f"{next(iter(tops))}/{MANIFEST_FILE}" in entries:
        entries = {name.split("/", 1)[1]: entry for name, entry in entries.items() if "/" in name}
    return entries


def _zip_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Reader:
    def read() -> bytes:
        with archive.open(info) as handle:
            return handle.read(MAX_FILE_BYTES + 1)

    return read


def _assemble(entries: Mapping[str, tuple[int, Reader]]) -> PackageSource:
    problems: list[Problem] = []
    manifest: dict[str, Any] | None = None
    documents: list[Document] = []
    unknown_folders: dict[str, None] = {}
    if MANIFEST_FILE not in entries:
        problems.append(Problem(MANIFEST_FILE, "", "missing: every package needs a package.json"))
    for name, (size, read) in sorted(entries.items()):
        parts = name.split("/")
        is_json = name.lower().endswith(".json")
        if name == MANIFEST_FILE:
            manifest = _load(name, size, read, problems)
        elif len(parts) == 1:
            if is_json:
                problems.append(Problem(name, "", "documents belong in a kind folder such as objects/"))
        elif parts[0] not in KIND_FOLDERS:
            unknown_folders[parts[0]] = None
        elif is_json and len(parts) > 2:
            problems.append(Problem(name, "", f"documents sit directly in {parts[0]}/, not in subfolders"))
        elif is_json:
            body = _load(name, size, read, problems)
            if body is not None:
                documents.append(Document(name, KIND_FOLDERS[parts[0]], body))
    for folder in unknown_folders:
        expected = ", ".join(f"{name}/" for name in KIND_FOLDERS)
        problems.append(Problem(f"{folder}/", "", f"unknown document kind {folder!r}: expected {expected}"))
    return PackageSource(manifest, tuple(documents), tuple(problems))


def _load(file: str, size: int, read: Reader, problems: list[Problem]) -> dict[str, Any] | None:
    """Parse one JSON document, adding a problem and returning None when it cannot be used."""
    if size > MAX_FILE_BYTES:
        problems.append(Problem(file, "", f"too large: {size} bytes, at most {MAX_FILE_BYTES} are read"))
        return None
    try:
        raw = read()
    except (OSError, RuntimeError, NotImplementedError, EOFError, zlib.error) as exc:
        # zipfile says "encrypted" with RuntimeError and "unknown compression" with NotImplementedError.
        problems.append(Problem(file, "", f"cannot be read: {exc}"))
        return None
    if len(raw) > MAX_FILE_BYTES:
        problems.append(Problem(file, "", f"too large: at most {MAX_FILE_BYTES} bytes are read"))
        return None
    body, errors = parse_json(raw)
    problems.extend(Problem(file, "", message) for message in errors)
    if body is not None and not isinstance(body, dict):
        problems.append(Problem(file, "", f"a document must be a JSON object {{…}}, not {_json_kind(body)}"))
        return None
    return body


def parse_json(raw: bytes) -> tuple[Any, list[str]]:
    """Parse JSON text strictly: no NaN, no silently repeated keys; errors give line and column."""
    try:
        text = raw.decode("utf-8-sig")  # editors on Windows like to add a BOM
    except UnicodeDecodeError as exc:
        return None, [f"not UTF-8 text: cannot decode byte {exc.start}"]
    repeated: list[str] = []

    def no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key, value in pairs:
            if key in body:
                repeated.append(key)
            body[key] = value
        return body

    try:
        body = json.loads(text, object_pairs_hook=no_repeats, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        return None, [f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"]
    except ValueError as exc:
        return None, [f"invalid JSON: {exc}"]
    # The parser keeps the last of repeated keys; a person editing the file expects neither to vanish.
    return body, [f"key {key!r} appears twice in one object; one value would be lost" for key in repeated]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return "null" if value is None else "a number or boolean"


def dumps_document(body: Mapping[str, Any]) -> str:
    """A document as written to disk: its own key order, two-space indent, UTF-8 kept, final newline."""
    return json.dumps(thaw(body), ensure_ascii=False, indent=2) + "\n"


ManifestLike = Mapping[str, Any] | PackageManifest
Spec = ObjectSpec | RuleSpec | RoleSpec | FlowSpec | FormSpec | ReportSpec | DashboardSpec
PackageContent = PackageSource | tuple[ManifestLike, Iterable[Spec | Mapping[str, Any]]]
# The kind of each spec class, for the folder its document is written to.
_KIND_OF_SPEC: Mapping[type, str] = {
    ObjectSpec: "object",
    RuleSpec: "rule",
    RoleSpec: "role",
    FlowSpec: "flow",
    FormSpec: "form",
    ReportSpec: "report",
    DashboardSpec: "dashboard",
}


def write_package(package: PackageContent, path: str | Path, *, replace: bool = False) -> list[str]:
    """Write a package to a folder (or to a .zip when `path` ends with .zip); return the files written.

    `package` is a read package, or a manifest with specs (objects, rules, roles, flows) or object
    documents.

    An existing non-empty target is refused unless `replace`; then documents the package no
    longer has are removed so the folder equals the package, and other files are left alone.
    """
    files = _files_of(package)
    path = Path(path)
    if path.suffix.lower() == ".zip":
        _write_zip(files, path, replace)
    else:
        _write_folder(files, path, replace)
    return list(files)


def _files_of(package: PackageContent) -> dict[str, Mapping[str, Any]]:
    if isinstance(package, PackageSource):
        if package.manifest is None:
            raise ValueError("a package without a package.json cannot be written")
        files = {MANIFEST_FILE: package.manifest}
        files.update((doc.file, doc.body) for doc in package.documents)
    else:
        manifest, specs = package
        if isinstance(manifest, PackageManifest):
            manifest = _manifest_json(manifest)
        files = {MANIFEST_FILE: manifest}
        for spec in specs:
            folder = FOLDER_OF_KIND[_KIND_OF_SPEC.get(type(spec), "object")]
            body = spec.to_json() if isinstance(spec, Spec) else spec
            files[f"{folder}/{body['name']}.json"] = body
    for file in files:
        parts = PurePosixPath(file).parts
        if ".." in parts or PurePosixPath(file).is_absolute():
            raise ValueError(f"refusing to write {file!r} outside the package folder")
    return files


def _manifest_json(manifest: PackageManifest) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": manifest.name, "version": manifest.version, "label": thaw(manifest.label)}
    if manifest.description:
        doc["description"] = thaw(manifest.description)
    if manifest.depends:
        doc["depends"] = thaw(manifest.depends)
    return doc


def _write_folder(files: Mapping[str, Mapping[str, Any]], root: Path, replace: bool) -> None:
    if root.exists() and any(root.iterdir()):
        if not replace:
            raise FileExistsError(f"{root} is not empty; pass replace=True to overwrite the package there")
        for stale in _package_files(root):
            if stale.relative_to(root).as_posix() not in files:
                stale.unlink()
    for file, body in files.items():
        target = root / file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(dumps_document(body).encode("utf-8"))


def _package_files(root: Path) -> list[Path]:
    found = [root / MANIFEST_FILE] if (root / MANIFEST_FILE).is_file() else []
    for folder in KIND_FOLDERS:
        found.extend(sorted((root / folder).glob("*.json")))
    return found


def _write_zip(files: Mapping[str, Mapping[str, Any]], target: Path, replace: bool) -> None:
    if target.exists() and not replace:
        raise FileExistsError(f"{target} exists; pass replace=True to overwrite it")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(files):
            info = zipfile.ZipInfo(file, date_time=_ZIP_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, dumps_document(files[file]).encode("utf-8"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buffer.getvalue())
