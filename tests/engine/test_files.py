"""Uploaded files: kept in a store, limited per field, read only by readers of their record, kept
through the recycle bin and removed with the record when it is purged."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from engine import identity
from engine.base.actors import SYSTEM, Actor
from engine.base.errors import RecordInvalid, RecordNotFound
from engine.base.settings import Settings
from engine.files import FileRefused, LocalFileStore, MissingFile, file_store_for
from engine.files.service import NOT_YOURS
from engine.files.stores import default_files_dir
from engine.identity.permissions import PermissionDenied
from engine.loom import Loom
from engine.records.recycle_bin import deleted_records, purge
from engine.schema.changes import apply_objects
from metadata.roles import RoleSpec
from metadata.specs import FieldSpec

PASSWORD = "a-long-password-1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64


class Office:
    """Sales (王芳, 李娜) and service (周服务, a rep of another department), and an administrator."""

    def __init__(self, loom: Loom) -> None:
        self.loom = loom
        sales = identity.create_department(loom, "销售部", actor=SYSTEM)["id"]
        service = identity.create_department(loom, "服务部", actor=SYSTEM)["id"]
        self.ids = {}
        for username, roles, department in (
            ("wang.fang", ["sales_rep"], sales),
            ("li.na", ["sales_rep"], sales),
            ("zhou.fu", ["sales_rep"], service),
            ("admin.gao", ["admin"], sales),
        ):
            user = identity.create_user(
                loom, username, username, PASSWORD, roles=roles, department_id=department, actor=SYSTEM
            )
            self.ids[username] = user["id"]

    def actor(self, username: str) -> Actor:
        return identity.actor_for(self.loom, self.ids[username])

    def followup(self, username: str, **values: object) -> dict:
        values = {"subject": "现场拜访", "content": "看了两条产线", **values}
        return self.loom.records(self.actor(username)).create("followup", values)


@pytest.fixture
def office(crm: Loom) -> Office:
    return Office(crm)


def upload(
    office: Office, username: str, name: str, data: bytes, field="attachments", obj="followup"
) -> dict:  # type: ignore[no-untyped-def]
    return office.loom.files.upload(office.actor(username), obj, field, name, io.BytesIO(data))


def read(office: Office, username: str, record: dict, key: str, field: str = "attachments") -> bytes:
    _, chunks = office.loom.files.open(office.actor(username), "followup", record["id"], field, key)
    return b"".join(chunks)


def test_files_are_kept_beside_a_sqlite_database_unless_a_folder_or_s3_is_set(tmp_path: Path) -> None:
    assert default_files_dir("sqlite:///instance/loom.db") == Path("instance/files")
    assert default_files_dir(f"sqlite:///{tmp_path}/crm.db") == tmp_path / "files"
    assert default_files_dir("postgresql://loom@db/loom") == Path("instance/files")
    store = file_store_for(Settings(), f"sqlite:///{tmp_path}/crm.db")
    assert isinstance(store, LocalFileStore) and store.root == tmp_path / "files"
    chosen = file_store_for(Settings(files_dir=str(tmp_path / "elsewhere")), "postgresql://loom@db/loom")
    assert chosen.root == tmp_path / "elsewhere"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="LOOM_FILES_S3_BUCKET"):
        file_store_for(Settings(files_backend="s3"), "sqlite:///x.db")
    with pytest.raises(ValueError, match="local or s3"):
        file_store_for(Settings(files_backend="ftp"), "sqlite:///x.db")


def test_an_uploaded_file_is_kept_in_the_files_folder_and_read_back_by_readers_of_its_record(
    office: Office, tmp_path: Path
) -> None:
    photo = upload(office, "wang.fang", "现场照片.jpg", JPEG)
    assert photo["name"] == "现场照片.jpg" and photo["size"] == len(JPEG)
    assert photo["content_type"] == "image/jpeg"  # proven by the bytes
    record = office.followup("wang.fang", attachments=[photo])
    assert record["attachments"] == [photo]
    assert (
        tmp_path / "files" / "2026" / "11" / photo["key"]
    ).read_bytes() == JPEG  # instance folder by default
    assert read(office, "wang.fang", record, photo["key"]) == JPEG
    assert read(office, "li.na", record, photo["key"]) == JPEG  # same department: may read the record


def test_a_reader_outside_the_records_scope_gets_no_file(office: Office) -> None:
    report = upload(office, "wang.fang", "报告.pdf", PDF)
    record = office.followup("wang.fang", attachments=[report])
    with pytest.raises(RecordNotFound):
        read(office, "zhou.fu", record, report["key"])  # another department: the record does not exist
    with pytest.raises(MissingFile):
        read(office, "wang.fang", record, "202611-" + "0" * 32)  # a key the record does not hold
    with pytest.raises(MissingFile):
        read(office, "wang.fang", record, "../../loom.db")


def test_size_limits_come_from_the_field_else_from_the_settings(office: Office) -> None:
    loom = office.loom
    with pytest.raises(FileRefused) as refused:
        big = b"%PDF-" + b"0" * (10 * 1024 * 1024)
        upload(office, "admin.gao", "营业执照.pdf", big, "business_license", "customer")
    assert refused.value.reason == "too_large" and refused.value.limits["limit"] == 10
    loom.settings = replace(loom.settings, files_max_size_mb=0.001)
    unlimited = FieldSpec(name="scan", type="attachment")
    assert loom.files.max_size_mb(unlimited) == 0.001  # a field without its own limit
    assert loom.files.max_size_mb(loom.registry.object("followup").field("attachments")) == 20
    assert upload(office, "wang.fang", "big.bin", b"x" * 2000)["size"] == 2000


def test_empty_and_disguised_files_are_refused_and_accept_lists_use_the_real_type(office: Office) -> None:
    with pytest.raises(FileRefused) as refused:
        upload(office, "wang.fang", "空.txt", b"")
    assert refused.value.reason == "empty"
    with pytest.raises(FileRefused) as refused:
        upload(office, "wang.fang", "照片.png", b"<html><script>alert(1)</script></html>")
    assert refused.value.reason == "not_image"
    with pytest.raises(FileRefused) as refused:
        upload(office, "admin.gao", "执照.pdf", b"just text, not a PDF", "business_license", "customer")
    assert refused.value.reason == "not_accepted"
    license = upload(office, "admin.gao", "执照.bin", PNG, "business_license", "customer")
    assert license["content_type"] == "image/png"  # the accept list (image/png) judged the bytes
    notes = upload(office, "wang.fang", "纪要.html", b"<html><script>alert(1)</script></html>")
    assert notes["content_type"] == "application/octet-stream"  # never served as a page


def test_a_person_may_attach_only_files_they_uploaded_to_that_field(office: Office) -> None:
    theirs = upload(office, "li.na", "li.pdf", PDF)
    with pytest.raises(RecordInvalid) as refused:
        office.followup("wang.fang", attachments=[theirs])
    assert refused.value.fields == {"attachments": [NOT_YOURS]}
    made_up = {"name": "x.pdf", "key": "202611-" + "a" * 32, "size": 1, "content_type": "application/pdf"}
    with pytest.raises(RecordInvalid):
        office.followup("wang.fang", attachments=[made_up])
    mine = upload(office, "wang.fang", "mine.pdf", PDF)
    first = office.followup("wang.fang", attachments=[{**mine, "size": 1, "content_type": "text/html"}])
    assert first["attachments"] == [mine]  # what was really uploaded, whatever the caller claimed
    with pytest.raises(RecordInvalid):
        office.followup("wang.fang", attachments=[mine])  # attached to the first follow-up already


def test_uploading_needs_a_field_the_actor_may_change(office: Office) -> None:
    with pytest.raises(PermissionDenied):
        upload(office, "wang.fang", "p.png", PNG, "image", "product")  # reps only read products
    with pytest.raises(FileRefused) as refused:
        upload(office, "wang.fang", "p.png", PNG, "subject")
    assert refused.value.reason == "not_attachment"


def test_deleted_records_keep_their_files_until_an_administrator_purges_them(office: Office) -> None:
    loom = office.loom
    photo = upload(office, "wang.fang", "site.png", PNG)
    record = office.followup("wang.fang", attachments=[photo])
    wang = loom.records(office.actor("wang.fang"))
    wang.delete("followup", record["id"])
    assert loom.files.store.exists(photo["key"])
    binned = deleted_records(loom, office.actor("wang.fang"), "followup").records
    assert [r["id"] for r in binned] == [record["id"]]
    assert deleted_records(loom, office.actor("li.na"), "followup").records == []  # delete scope: own
    wang.restore("followup", record["id"])
    assert read(office, "wang.fang", record, photo["key"]) == PNG
    wang.delete("followup", record["id"])
    with pytest.raises(PermissionDenied):
        purge(loom, office.actor("wang.fang"), "followup", record["id"])
    purge(loom, office.actor("admin.gao"), "followup", record["id"])
    assert not loom.files.store.exists(photo["key"])
    assert deleted_records(loom, office.actor("admin.gao"), "followup").records == []
    with pytest.raises(RecordNotFound):
        loom.records().get("followup", record["id"], include_deleted=True)
    with pytest.raises(RecordNotFound):
        purge(loom, office.actor("admin.gao"), "followup", record["id"])


def test_only_records_in_the_recycle_bin_can_be_purged(office: Office) -> None:
    record = office.followup("wang.fang")
    with pytest.raises(RecordNotFound):
        purge(office.loom, office.actor("admin.gao"), "followup", record["id"])
    assert office.loom.records().get("followup", record["id"])["subject"] == "现场拜访"


def test_uploads_no_record_took_within_a_day_are_swept_away(office: Office) -> None:
    loom = office.loom
    kept = upload(office, "wang.fang", "kept.pdf", PDF)
    office.followup("wang.fang", attachments=[kept])
    abandoned = upload(office, "wang.fang", "abandoned.pdf", PDF)
    assert loom.files.sweep_unattached() == 0  # a form may still be open
    loom.clock.set(loom.clock.now() + timedelta(days=1, minutes=1))
    assert loom.files.sweep_unattached() == 1
    assert not loom.files.store.exists(abandoned["key"])
    assert loom.files.store.exists(kept["key"])


def test_a_reader_from_whom_the_field_is_hidden_gets_no_file_and_cannot_upload(office: Office) -> None:
    loom = office.loom
    viewer = RoleSpec.from_json(
        {
            "name": "followup_viewer",
            "label": {"en": "Viewer"},
            "objects": {"followup": {"create": True, "read": "all"}},
            "fields": {"followup.attachments": "hidden"},
        }
    )
    apply_objects(loom, [], roles=[viewer])
    user = identity.create_user(loom, "qian.kan", "钱看", PASSWORD, roles=["followup_viewer"], actor=SYSTEM)
    report = upload(office, "wang.fang", "报告.pdf", PDF)
    record = office.followup("wang.fang", attachments=[report])
    qian = identity.actor_for(loom, user["id"])
    assert loom.records(qian).get("followup", record["id"])["subject"] == "现场拜访"  # sees the record
    with pytest.raises(MissingFile):
        loom.files.open(qian, "followup", record["id"], "attachments", report["key"])  # not the file
    with pytest.raises(PermissionDenied):
        loom.files.upload(qian, "followup", "attachments", "a.pdf", io.BytesIO(PDF))
