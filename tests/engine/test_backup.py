"""Backup and restore as the people of a company notice it: after a restore on a fresh database —
SQLite or PostgreSQL, the same kind or the other — everything is as it was, and a damaged backup,
or a database that already holds data, is refused without changing anything."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy import table as light_table

from engine import identity
from engine.backup import check_database, restore_backup, take_backup, verify_archive
from engine.backup.snapshot import snapshot
from engine.base.clock import Clock
from engine.base.errors import BackupRefused
from engine.base.settings import Settings
from engine.files import file_store_for
from engine.loom import Loom
from engine.schema.changes import apply_objects
from engine.store.system_tables import archived_tables
from metadata.specs import ObjectSpec
from tests.conftest import postgres_schema
from tests.engine.backup_world import (
    PASSWORD,
    SCAN,
    Company,
    another_loom,
    build_company,
    rewrite,
    what_users_see,
)
from tests.engine.flow_world import World


@pytest.fixture
def company(crm: Loom) -> Company:
    return build_company(crm)


@pytest.fixture
def fresh(another_database_url: str, clock: Clock, tmp_path: Path) -> Iterator[Loom]:
    """An empty database of the same kind, on a machine with an empty file folder."""
    loom = another_loom(another_database_url, clock, tmp_path / "fresh-files")
    yield loom
    loom.close()


def test_after_a_restore_the_company_finds_everything_as_it_was(
    company: Company, fresh: Loom, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    taken = take_backup(company.loom, archive)
    assert (taken.files, taken.missing_files, taken.dangling) == (1, (), 0)

    restored = restore_backup(fresh, archive)
    assert restored.files_restored == 1 and restored.report.ok, restored.report.problems
    assert what_users_see(fresh) == what_users_see(company.loom)
    _works_as_before(company, fresh)


def _works_as_before(company: Company, restored: Loom) -> None:
    """Sign-in, API token, a signed-in browser, the running approval, the attachment, and the next
    record's number and id."""
    assert identity.authenticate(restored, "admin.gao", PASSWORD).user_id == company.admin_id
    assert identity.verify_token(restored, company.token).user_id == company.admin_id
    assert identity.session_user(restored, company.session) == company.admin_id

    there = World(restored, company.world.ids, company.world.customer_id)
    done = there.approve(company.instance_id, "zhang.jingli", "同意")
    assert done.status == "approved" and there.status(company.contract_id) == "approved"

    rep = identity.actor_for(restored, company.world.ids["wang.fang"])
    stored, chunks = restored.files.open(
        rep, "followup", company.followup_id, "attachments", company.file_key
    )
    assert (stored.name, b"".join(chunks)) == ("合同扫描件.pdf", SCAN)

    existing = {row["id"] for row in restored.queries().find("contract", include_deleted=True).records}
    new_there = restored.records().get("contract", there.contract(80_000))
    new_here = company.loom.records().get("contract", company.world.contract(80_000))
    assert new_there["id"] not in existing and new_there["id"] > max(existing)
    assert (
        (new_there["id"], new_there["code"])
        == (new_here["id"], new_here["code"])
        == (
            new_here["id"],
            "HT-2026-0002",
        )
    )


def test_a_backup_of_one_database_kind_restores_on_the_other(
    company: Company, database_url: str, clock: Clock, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    take_backup(company.loom, archive)
    on_sqlite = database_url.startswith("sqlite")
    other = postgres_schema() if on_sqlite else nullcontext(f"sqlite:///{tmp_path / 'other.db'}")
    with other as url:
        moved = another_loom(url, clock, tmp_path / "other-files")
        try:
            assert moved.db.dialect.name == ("postgresql" if on_sqlite else "sqlite")
            assert restore_backup(moved, archive).report.ok
            assert what_users_see(moved) == what_users_see(company.loom)
            _works_as_before(company, moved)
        finally:
            moved.close()


def _is_empty(loom: Loom, files_dir: Path) -> bool:
    with loom.read() as conn:
        tables = inspect(conn).get_table_names()
        users = conn.execute(text("SELECT count(*) FROM loom_users")).scalar_one()
    return (
        not [t for t in tables if t.startswith("obj_")]
        and users == 0
        and not [p for p in files_dir.rglob("*") if p.is_file()]
    )


def test_a_changed_row_in_the_archive_is_refused_naming_its_table(
    company: Company, fresh: Loom, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    take_backup(company.loom, archive)
    assert verify_archive(archive).ok
    changed = rewrite(archive, "obj_customer", lambda lines: lines.replace("苏州精工机械", "苏州精工器械"))

    report = verify_archive(changed)
    assert report.problems == [
        "obj_customer: the rows differ from the manifest's checksum (changed after the backup)"
    ]
    with pytest.raises(
        BackupRefused, match="damaged; nothing was restored:\n  obj_customer: the rows differ"
    ):
        restore_backup(fresh, changed)
    assert _is_empty(fresh, tmp_path / "fresh-files")


def test_a_restore_that_fails_its_check_rolls_back_and_removes_the_files_it_put_back(
    company: Company, fresh: Loom, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    take_backup(company.loom, archive)
    # A consistent archive whose deal amount has more decimals than the column keeps: the database
    # rounds it, so the restored table no longer matches the backup.
    forged = rewrite(
        archive, "obj_opportunity", lambda lines: lines.replace('"1299.5"', '"1299.555"'), fix_manifest=True
    )
    assert verify_archive(forged).ok

    with pytest.raises(
        BackupRefused, match="failed its check; nothing was restored:\n  obj_opportunity: the rows"
    ):
        restore_backup(fresh, forged)
    assert _is_empty(fresh, tmp_path / "fresh-files")


def test_a_database_holding_data_is_refused_unless_replaced(
    company: Company, fresh: Loom, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.zip"
    take_backup(company.loom, archive)
    before = what_users_see(company.loom)
    with pytest.raises(
        BackupRefused, match=r"already holds Loom data \(loom_api_tokens: 1 row\(s\), .*--replace"
    ):
        restore_backup(company.loom, archive)
    assert what_users_see(company.loom) == before

    restore_backup(fresh, archive)
    there = World(fresh, company.world.ids, company.world.customer_id)
    there.approve(company.instance_id, "zhang.jingli")
    there.contract(10_000)
    assert what_users_see(fresh) != before
    assert restore_backup(fresh, archive, replace=True).report.ok
    assert what_users_see(fresh) == before


VEHICLE = {
    "name": "vehicle",
    "label": {"en": "Vehicle", "zh_CN": "车辆"},
    "fields": [{"name": "plate", "type": "text"}, {"name": "mileage", "type": "integer"}],
}
GADGET = {
    "name": "gadget",
    "label": {"en": "Gadget"},
    "fields": [{"name": "label", "type": "text"}, {"name": "price", "type": "decimal", "scale": 2}],
}


def test_data_kept_for_removed_fields_and_objects_survives_a_restore(
    crm: Loom, fresh: Loom, tmp_path: Path
) -> None:
    apply_objects(crm, [ObjectSpec.from_json(VEHICLE), ObjectSpec.from_json(GADGET)])
    car = crm.records().create("vehicle", {"plate": "沪A·12345", "mileage": 120_000})
    crm.records().create("gadget", {"label": "扫码枪", "price": "399.90"})
    # The mileage column is archived; a colour field comes first in the metadata, last in the table.
    repainted = {**VEHICLE, "fields": [{"name": "colour", "type": "text"}, VEHICLE["fields"][0]]}
    apply_objects(crm, [ObjectSpec.from_json(repainted)])
    crm.records().update("vehicle", car["id"], {"colour": "珍珠白"}, version=car["version"])
    apply_objects(crm, [], removed=[("object", "gadget")])  # the table is archived

    archive = tmp_path / "backup.zip"
    take_backup(crm, archive)
    assert restore_backup(fresh, archive).report.ok

    assert fresh.records().get("vehicle", car["id"])["colour"] == "珍珠白"
    back = {**VEHICLE, "fields": [*repainted["fields"], VEHICLE["fields"][1]]}
    apply_objects(fresh, [ObjectSpec.from_json(back)])  # the field comes back with its data
    assert fresh.records().get("vehicle", car["id"])["mileage"] == 120_000
    with fresh.read() as conn:
        [kept] = conn.execute(select(archived_tables.c.table_name)).scalars()
        rows = conn.execute(text(f'SELECT label, price FROM "{kept}"')).all()
    assert [(label, Decimal(str(price))) for label, price in rows] == [("扫码枪", Decimal("399.90"))]


def test_the_check_names_dangling_references_missing_files_and_tables_unlike_the_metadata(
    company: Company, fresh: Loom, tmp_path: Path
) -> None:
    loom = company.loom
    assert check_database(loom).ok
    with loom.begin() as conn:
        conn.execute(text("UPDATE obj_contact SET customer = 987654"))
    loom.files.store.delete(company.file_key)

    report = check_database(loom)
    assert report.problems == [
        "obj_contact.customer → obj_customer: 1 value(s) name no row (987654)",
        f"file {company.file_key} (followup {company.followup_id}, field attachments) "
        "is missing from the file store",
    ]

    # A backup of it restores as it was: what was already wrong is noted, not a reason to refuse.
    archive = tmp_path / "backup.zip"
    taken = take_backup(loom, archive)
    assert (taken.missing_files, taken.dangling) == ((company.file_key,), 1)
    restored = restore_backup(fresh, archive)
    assert restored.report.ok and len(restored.report.notes) == 2
    assert "already so when the backup was taken" in restored.report.notes[0]

    with fresh.begin() as conn:
        conn.execute(text("DROP INDEX ix_obj_contact_customer"))
    assert (
        "the tables differ from the metadata: + create_index obj_contact" in check_database(fresh).problems[0]
    )


def test_a_backup_reads_the_database_at_one_moment_while_others_write(company: Company) -> None:
    loom = company.loom
    customers = select(text("count(*)")).select_from(light_table("obj_customer"))
    with snapshot(loom) as conn:
        before = conn.execute(customers).scalar_one()
        loom.records().create("customer", {"name": "备份期间新建的客户"})  # committed meanwhile
        assert conn.execute(customers).scalar_one() == before
    with loom.read() as conn:
        assert conn.execute(customers).scalar_one() == before + 1


def test_files_kept_in_an_s3_bucket_are_backed_up_and_restored_to_the_new_store(
    crm: Loom, s3_endpoint: str, fresh: Loom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", os.environ.get("AWS_ACCESS_KEY_ID", "loom-test"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", os.environ.get("AWS_SECRET_ACCESS_KEY", "loom-test-secret"))
    bucket = f"loom-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    s3 = Settings(
        files_backend="s3", files_s3_bucket=bucket, files_s3_endpoint=s3_endpoint, files_s3_region="us-east-1"
    )
    crm.files.store = file_store_for(s3, crm.database_url)
    company = build_company(crm)

    archive = tmp_path / "backup.zip"
    assert take_backup(crm, archive).files == 1
    assert restore_backup(fresh, archive).files_restored == 1  # into the fresh machine's folder
    rep = identity.actor_for(fresh, company.world.ids["wang.fang"])
    _, chunks = fresh.files.open(rep, "followup", company.followup_id, "attachments", company.file_key)
    assert b"".join(chunks) == SCAN
