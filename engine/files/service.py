"""Uploading files to an attachment field, reading them back as a reader of their record, and
keeping records honest: a person may attach only files they uploaded themselves."""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import Connection, delete, insert, select, update

from engine.base.actors import Actor
from engine.base.errors import LoomError, RecordInvalid, UnknownObject
from engine.base.events import RecordEvent
from engine.files.sniffing import SNIFF_BYTES, claims_image, content_type
from engine.files.stores import CHUNK, FileStore, MissingFile, check_key, file_store_for
from engine.identity.permissions import PermissionDenied, access_for
from engine.store.system_tables import files

if TYPE_CHECKING:
    from engine.loom import Loom
    from engine.schema.registry import ObjectModel, Registry
    from metadata.specs import FieldSpec

_MB = 1024 * 1024
NOT_YOURS = "holds a file that was not uploaded by you to this field"
# An upload waits this long for the record that uses it: a form can be left open over lunch.
UNATTACHED_FOR = timedelta(days=1)


class FileRefused(LoomError):
    """An upload the field does not take; `reason` and `limits` let a page say why in its language."""

    code = "invalid_file"

    def __init__(self, field: str, reason: str, message: str, **limits: Any) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason  # too_large, empty, not_accepted, not_image, not_attachment
        self.limits = limits
        self.fields = {field: [message]}


@dataclass(frozen=True)
class StoredFile:
    """One file as a record holds it."""

    key: str
    name: str
    size: int
    content_type: str

    def as_value(self) -> dict[str, Any]:
        return {"name": self.name, "key": self.key, "size": self.size, "content_type": self.content_type}


class FileService:
    """The instance's files: its store (from settings, made when first used) and the checks around it."""

    def __init__(self, loom: Loom) -> None:
        self.loom = loom
        self._store: FileStore | None = None
        loom.events.subscribe("before_save", self._check_attached, applies=_has_attachments)
        loom.events.subscribe("after_save", self._attach, applies=_has_attachments)

    @property
    def store(self) -> FileStore:
        if self._store is None:
            self._store = file_store_for(self.loom.settings, self.loom.database_url)
        return self._store

    @store.setter
    def store(self, store: FileStore) -> None:
        self._store = store

    # -- uploading --------------------------------------------------------------------------------

    def max_size_mb(self, field: Any) -> float:
        """The field's own limit, else the instance's (LOOM_FILES_MAX_SIZE_MB)."""
        return float(field.param("max_size_mb") or self.loom.settings.files_max_size_mb)

    def upload(
        self, actor: Actor, object_name: str, field_name: str, name: str, data: BinaryIO
    ) -> dict[str, Any]:
        """Check and keep one file for a field the actor may fill; returns the value to set on it."""
        registry = self.loom.registry
        field = _attachment_field(registry, object_name, field_name)
        access = access_for(registry, actor, object_name)
        if not (access.allows("create") or access.allows("update")):
            raise PermissionDenied(f"you may not change {object_name} records")
        if not access.visible(field_name) or field_name in access.read_only or field.readonly:
            raise PermissionDenied(f"you may not set {field_name} on {object_name} records")
        name = _clean_name(name)
        limit = self.max_size_mb(field)
        with tempfile.SpooledTemporaryFile(max_size=4 * _MB) as copy:
            size, digest, head = _copy(data, copy, int(limit * _MB))
            if size > limit * _MB:
                raise FileRefused(
                    field_name,
                    "too_large",
                    f"each file must be at most {limit:g} MB ({name!r} is larger)",
                    limit=limit,
                    name=name,
                )
            if size == 0:
                raise FileRefused(field_name, "empty", f"{name!r} is empty", name=name)
            kind = content_type(name, head)
            if claims_image(name) and not kind.startswith("image/"):
                raise FileRefused(
                    field_name, "not_image", f"{name!r} is named as an image but is not one", name=name
                )
            accept = list(field.param("accept") or ())
            if accept and not any(_accepts(entry, name, kind) for entry in accept):
                raise FileRefused(
                    field_name,
                    "not_accepted",
                    f"{name!r} is not one of the accepted kinds: {', '.join(accept)}",
                    name=name,
                    accept=", ".join(accept),
                )
            now = self.loom.clock.now()
            key = f"{now:%Y%m}-{uuid.uuid4().hex}"
            copy.seek(0)
            self.store.put(key, copy, kind)
        stored = StoredFile(key, name, size, kind)
        try:
            with self.loom.begin() as conn:
                conn.execute(
                    insert(files).values(
                        key=key,
                        object=object_name,
                        field=field_name,
                        record_id=None,
                        name=name,
                        size=size,
                        content_type=kind,
                        sha256=digest,
                        uploaded_by=actor.user_id,
                        uploaded_at=now,
                    )
                )
        except BaseException:
            self.store.delete(key)
            raise
        return stored.as_value()

    # -- reading ----------------------------------------------------------------------------------

    def open(
        self, actor: Actor, object_name: str, record_id: int, field_name: str, key: str
    ) -> tuple[StoredFile, Iterator[bytes]]:
        """A file of a record the actor may read, in a field they may see; else MissingFile (not found)."""
        check_key(key)
        try:
            _attachment_field(self.loom.registry, object_name, field_name)
            record = self.loom.records(actor).get(object_name, record_id)
        except (PermissionDenied, FileRefused):
            raise MissingFile("there is no such file") from None
        held = record.get(field_name) or ()
        item = next((i for i in held if isinstance(i, Mapping) and i.get("key") == key), None)
        if item is None:
            raise MissingFile("there is no such file")
        with self.loom.read() as conn:
            row = conn.execute(select(files).where(files.c.key == key)).first()
        # The type proven at upload wins over whatever a record's value says.
        kind, size = (
            (row.content_type, row.size) if row is not None else ("application/octet-stream", item["size"])
        )
        return StoredFile(key, item["name"], size, kind), self.store.read(key)

    # -- keeping records honest -------------------------------------------------------------------

    def _check_attached(self, event: RecordEvent) -> None:
        """Each file newly set on a record must be one this actor uploaded to this field (or already its)."""
        if event.actor.is_system:
            return
        model = (event.registry or self.loom.registry).object(event.object)
        record_id = event.old["id"] if event.old is not None else None
        errors: dict[str, list[str]] = {}
        for spec in model.spec.fields:
            if spec.type != "attachment":
                continue
            new = _keys(event.record.get(spec.name))
            added = new - _keys(event.old.get(spec.name) if event.old else None)
            if not added:
                continue
            rows = {
                row.key: row
                for row in event.conn.execute(select(files).where(files.c.key.in_(sorted(added))))
            }
            for key in added:
                row = rows.get(key)
                ours = row is not None and row.object == event.object and row.field == spec.name
                if ours and row.record_id is None:
                    ours = row.uploaded_by == event.actor.user_id
                elif ours:
                    ours = record_id is not None and row.record_id == record_id
                if not ours:
                    errors[spec.name] = [NOT_YOURS]
                    break
            else:
                # The record keeps what was really uploaded, whatever size or type the caller sent.
                event.record[spec.name] = [
                    {**item, "size": rows[item["key"]].size, "content_type": rows[item["key"]].content_type}
                    if item["key"] in rows
                    else item
                    for item in event.record[spec.name]
                ]
        if errors:
            raise RecordInvalid(event.object, errors)

    def _attach(self, event: RecordEvent) -> None:
        """Files first set on a record now belong to it: they stay with it until it is purged."""
        model = (event.registry or self.loom.registry).object(event.object)
        added: set[str] = set()
        for spec in model.derive("attachment_fields", _attachment_fields):
            added |= _keys(event.record.get(spec.name)) - _keys(
                event.old.get(spec.name) if event.old else None
            )
        if added:
            event.conn.execute(
                update(files)
                .where(
                    files.c.key.in_(sorted(added)),
                    files.c.record_id.is_(None),
                    files.c.object == event.object,
                )
                .values(record_id=event.record["id"])
            )

    def forget_record(self, conn: Connection, object_name: str, record_id: int) -> list[str]:
        """Drop the file rows of a purged record; returns the keys to delete from the store after commit."""
        keys = [
            row.key
            for row in conn.execute(
                select(files.c.key).where(files.c.object == object_name, files.c.record_id == record_id)
            )
        ]
        if keys:
            conn.execute(delete(files).where(files.c.key.in_(keys)))
        return keys

    def sweep_unattached(self, older_than: timedelta = UNATTACHED_FOR) -> int:
        """Delete uploads no record took within `older_than` (a form left unsaved); returns how many."""
        cutoff = self.loom.clock.now() - older_than
        with self.loom.begin() as conn:
            keys = [
                row.key
                for row in conn.execute(
                    select(files.c.key).where(files.c.record_id.is_(None), files.c.uploaded_at < cutoff)
                )
            ]
            if keys:
                conn.execute(delete(files).where(files.c.key.in_(keys)))
        self.delete_stored(keys)
        return len(keys)

    def delete_stored(self, keys: list[str]) -> None:
        for key in keys:
            self.store.delete(key)


def _attachment_fields(model: ObjectModel) -> tuple[FieldSpec, ...]:
    # Each save of a record with files looks for them: a bulk create, once per row.
    return tuple(spec for spec in model.spec.fields if spec.type == "attachment")


def _has_attachments(registry: Registry, object_name: str) -> bool:
    try:
        return bool(registry.object(object_name).derive("attachment_fields", _attachment_fields))
    except UnknownObject:
        return False


def _attachment_field(registry: Registry, object_name: str, field_name: str) -> Any:
    model = registry.object(object_name)
    spec = model.fields.get(field_name)
    if spec is None or spec.type != "attachment":
        raise FileRefused(
            field_name, "not_attachment", f"{object_name} has no attachment field named {field_name!r}"
        )
    return spec


def _keys(value: Any) -> set[str]:
    return {item["key"] for item in value or () if isinstance(item, Mapping) and "key" in item}


def _clean_name(name: str) -> str:
    """The file's own name, without any folder a browser sent, control characters or excess length."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip() or "file"
    if len(name) > 200:
        stem, dot, suffix = name.rpartition(".")
        name = (stem[:190] + dot + suffix[:9]) if dot and len(suffix) < 10 else name[:200]
    return name


def _copy(data: BinaryIO, out: BinaryIO, limit: int) -> tuple[int, str, bytes]:
    """Copy at most limit + 1 bytes; returns the size copied, its SHA-256 and its first bytes."""
    digest = hashlib.sha256()
    size, head = 0, b""
    while chunk := data.read(CHUNK):
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        size += len(chunk)
        if size > limit:
            break
        digest.update(chunk)
        out.write(chunk)
    return size, digest.hexdigest(), head


def _accepts(entry: str, name: str, kind: str) -> bool:
    entry = entry.lower()
    if entry.startswith("."):
        return name.lower().endswith(entry)
    if entry.endswith("/*"):
        return kind.startswith(entry[:-1])
    return kind == entry
