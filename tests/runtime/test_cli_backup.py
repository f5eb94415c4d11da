"""`loom backup`, `loom restore` and `loom check` as an administrator runs them."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from engine import identity
from engine.base.clock import Clock
from engine.loom import Loom
from runtime.cli.group import cli
from tests.engine.backup_world import PASSWORD, SCAN, Company, another_loom, build_company, rewrite


def run(*args: str, database: str | None = None, files: Path | None = None) -> Result:
    prefix = ["--database", database] if database else []
    env = {"LOOM_FILES_DIR": str(files)} if files else None
    return CliRunner().invoke(cli, [*prefix, *args], env=env, catch_exceptions=False)


@pytest.fixture
def company(crm: Loom) -> Company:
    return build_company(crm)


def test_a_backup_restores_on_a_fresh_database_and_passes_its_check(
    company: Company, database_url: str, another_database_url: str, clock: Clock, tmp_path: Path
) -> None:
    archive, files, fresh_files = tmp_path / "nightly.zip", tmp_path / "files", tmp_path / "fresh-files"
    taken = run("backup", str(archive), database=database_url, files=files)
    assert taken.exit_code == 0, taken.output
    assert f"backed up the database to {archive}" in taken.output
    assert "1 files (4.0 KB)" in taken.output and "warning" not in taken.output

    again = run("backup", str(archive), database=database_url, files=files)
    assert again.exit_code == 1 and f"error: {archive} exists; pass --replace to overwrite it" in again.output
    assert run("backup", "--replace", str(archive), database=database_url, files=files).exit_code == 0

    verified = run("backup", "--verify", str(archive))
    assert verified.exit_code == 0 and "rows and 1 files match its manifest" in verified.output

    restored = run("restore", str(archive), database=another_database_url, files=fresh_files)
    assert restored.exit_code == 0, restored.output
    assert f"1 files put in the file store ({fresh_files})" in restored.output
    assert "check passed" in restored.output
    checked = run("check", database=another_database_url, files=fresh_files)
    assert checked.exit_code == 0 and "check passed" in checked.output

    moved = another_loom(another_database_url, clock, fresh_files)
    try:
        assert identity.authenticate(moved, "admin.gao", PASSWORD).user_id == company.admin_id
        rep = identity.actor_for(moved, company.world.ids["wang.fang"])
        _, chunks = moved.files.open(rep, "followup", company.followup_id, "attachments", company.file_key)
        assert b"".join(chunks) == SCAN
    finally:
        moved.close()

    refused = run("restore", str(archive), database=another_database_url, files=fresh_files)
    assert refused.exit_code == 1
    assert "error: the database already holds Loom data" in refused.output
    assert "pass --replace to replace everything in it. Nothing was changed" in refused.output
    replaced = run("restore", "--replace", str(archive), database=another_database_url, files=fresh_files)
    assert replaced.exit_code == 0 and "(1 already there)" in replaced.output


def test_a_changed_backup_and_a_missing_file_make_the_commands_fail_saying_where(
    company: Company, database_url: str, another_database_url: str, tmp_path: Path
) -> None:
    archive, files = tmp_path / "nightly.zip", tmp_path / "files"
    assert run("backup", str(archive), database=database_url, files=files).exit_code == 0
    changed = rewrite(archive, "loom_users", lambda lines: lines.replace("高管理员", "管理员"))

    verified = run("backup", "--verify", str(changed))
    assert verified.exit_code == 1
    assert f"{changed} is damaged: 1 problem(s)" in verified.output
    assert "loom_users: the rows differ from the manifest's checksum" in verified.output
    refused = run("restore", str(changed), database=another_database_url, files=tmp_path / "fresh-files")
    assert refused.exit_code == 1 and "loom_users: the rows differ" in refused.output
    assert "check passed" not in refused.output

    company.loom.files.store.delete(company.file_key)
    checked = run("check", database=database_url, files=files)
    assert checked.exit_code == 1
    assert f"file {company.file_key} (followup {company.followup_id}, field attachments) is missing" in (
        checked.output
    )
    warned = run("backup", "--replace", str(archive), database=database_url, files=files)
    assert warned.exit_code == 0
    missing = "1 file(s) that records name were missing from the file store and are not in the backup"
    assert f"{missing}: {company.file_key}" in warned.output


def test_what_is_not_a_whole_backup_is_refused_in_plain_words(
    company: Company, database_url: str, another_database_url: str, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a backup", encoding="utf-8")
    for args in (["backup", "--verify", str(notes)], ["restore", str(notes)]):
        result = run(*args, database=another_database_url, files=tmp_path / "fresh-files")
        assert result.exit_code == 1 and f"{notes} is not a Loom backup" in result.output
        assert "Traceback" not in result.output

    archive = tmp_path / "nightly.zip"
    assert run("backup", str(archive), database=database_url, files=tmp_path / "files").exit_code == 0
    # One byte of the users' table flipped on disk: the member's CRC no longer matches.
    stored = tmp_path / "stored.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as out:
        for item in source.infolist():
            out.writestr(item.filename, source.read(item), compress_type=zipfile.ZIP_STORED)
    with zipfile.ZipFile(stored) as opened:
        offset = opened.getinfo("tables/loom_users.jsonl").header_offset
    data = bytearray(stored.read_bytes())
    name_length, extra_length = struct.unpack("<HH", data[offset + 26 : offset + 30])
    first = offset + 30 + name_length + extra_length + 1  # the first digit of the first user's id
    data[first] = ord("7") if data[first] != ord("7") else ord("8")
    stored.write_bytes(bytes(data))
    verified = run("backup", "--verify", str(stored))
    assert verified.exit_code == 1
    assert "loom_users: tables/loom_users.jsonl is damaged (Bad CRC-32" in verified.output

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be", encoding="utf-8")
    unwritable = run("backup", str(blocked / "nightly.zip"), database=database_url, files=tmp_path / "files")
    assert unwritable.exit_code == 1 and unwritable.output.startswith("error: ")
    assert "nothing was changed" in unwritable.output
