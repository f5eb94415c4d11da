"""Packages are read from folders or zips, and written back so that exports diff cleanly."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from metadata.loading import Document, PackageSource, read_package, write_package
from metadata.problems import Problem
from metadata.specs import ObjectSpec, PackageManifest

MANIFEST = {"name": "crm", "version": "1.0.0", "label": {"zh_CN": "客户管理", "en": "CRM"}}
CUSTOMER = {
    "name": "customer",
    "label": {"zh_CN": "客户", "en": "Customer"},
    "fields": [{"name": "name", "type": "text", "label": {"zh_CN": "客户名称", "en": "Name"}}],
}
CONTACT = {
    "name": "contact",
    "label": {"en": "Contact"},
    "fields": [{"name": "customer", "type": "lookup", "target": "customer"}],
}


def write_files(root: Path, files: dict[str, str | dict]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        path.write_text(text, encoding="utf-8")
    return root


def zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(folder).as_posix())
    return target


@pytest.fixture
def package(tmp_path: Path) -> Path:
    files = {
        "package.json": MANIFEST,
        "objects/customer.json": CUSTOMER,
        "objects/contact.json": CONTACT,
    }
    return write_files(tmp_path / "crm", files)


def test_folder_package_gives_its_manifest_and_one_document_per_object(package):
    source = read_package(package)

    assert source.problems == ()
    assert source.manifest == MANIFEST
    assert [(doc.file, doc.kind, doc.body["name"]) for doc in source.documents] == [
        ("objects/contact.json", "object", "contact"),
        ("objects/customer.json", "object", "customer"),
    ]


def test_zip_and_folder_read_the_same(package, tmp_path):
    archive = zip_folder(package, tmp_path / "crm.zip")

    assert read_package(archive) == read_package(package)


def test_zip_of_the_package_folder_itself_reads_like_the_folder(package, tmp_path):
    archive = zip_folder(package, tmp_path / "crm.zip", prefix="crm-1.0.0/")

    assert read_package(archive) == read_package(package)


def test_invalid_json_is_reported_with_line_and_column(package):
    (package / "objects/contact.json").write_text(
        '{\n  "name": "contact"\n  "label": {}\n}', encoding="utf-8"
    )

    source = read_package(package)

    assert source.problems == (
        Problem("objects/contact.json", "", "invalid JSON at line 3, column 3: Expecting ',' delimiter"),
    )
    assert [doc.file for doc in source.documents] == ["objects/customer.json"]


def test_a_key_written_twice_is_reported_instead_of_silently_dropped(package):
    (package / "objects/contact.json").write_text('{"name": "contact", "name": "person"}', encoding="utf-8")

    [problem] = read_package(package).problems

    assert problem.file == "objects/contact.json"
    assert "key 'name' appears twice" in problem.message


def test_a_document_must_be_a_json_object(package):
    (package / "objects/contact.json").write_text('["contact"]', encoding="utf-8")

    assert read_package(package).problems == (
        Problem("objects/contact.json", "", "a document must be a JSON object {…}, not a list"),
    )


def test_text_that_is_not_utf8_is_reported(package):
    (package / "objects/contact.json").write_bytes('{"name": "联系人"}'.encode("gbk"))

    [problem] = read_package(package).problems

    assert problem.message.startswith("not UTF-8 text")


def test_a_byte_order_mark_from_windows_editors_is_accepted(package):
    (package / "objects/contact.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(CONTACT).encode())

    assert read_package(package).problems == ()


def test_missing_manifest_is_reported(package):
    (package / "package.json").unlink()

    source = read_package(package)

    assert source.manifest is None
    assert source.problems == (Problem("package.json", "", "missing: every package needs a package.json"),)


def test_unknown_folder_is_an_unknown_document_kind(package):
    write_files(package, {"widgets/clock.json": {"name": "clock"}})

    [problem] = read_package(package).problems

    assert problem.file == "widgets/"
    assert problem.message.startswith("unknown document kind 'widgets'")


def test_documents_of_later_kinds_are_read_with_their_kind(package):
    write_files(package, {"forms/customer.json": {"object": "customer"}})

    source = read_package(package)

    assert source.problems == ()
    assert source.of_kind("form") == (Document("forms/customer.json", "form", {"object": "customer"}),)


def test_rules_are_read_from_the_rules_folder(package):
    rule = {"name": "welcome", "object": "customer", "trigger": {"type": "on_create"}, "actions": []}
    write_files(package, {"rules/welcome.json": rule})

    assert read_package(package).of_kind("rule") == (Document("rules/welcome.json", "rule", rule),)


def test_misplaced_documents_are_reported(package):
    write_files(package, {"customer.json": CUSTOMER, "objects/old/customer.json": CUSTOMER})

    messages = {problem.file: problem.message for problem in read_package(package).problems}

    assert messages == {
        "customer.json": "documents belong in a kind folder such as objects/",
        "objects/old/customer.json": "documents sit directly in objects/, not in subfolders",
    }


def test_hidden_files_and_notes_are_ignored(package):
    before = read_package(package)
    write_files(package, {".git/config.json": {}, "README.md": "# CRM", "objects/.customer.json.swp": "x"})

    assert read_package(package) == before


def test_a_file_that_is_neither_folder_nor_zip_is_a_problem(tmp_path):
    not_a_package = tmp_path / "crm.zip"
    not_a_package.write_text("hello", encoding="utf-8")

    [problem] = read_package(not_a_package).problems

    assert problem.message.startswith("not a package folder or zip file")


def _zip_with_patched_entry(path: Path, flag: int = 0, method: int | None = None) -> Path:
    """A zip whose one entry claims encryption (flag bit 0) or a compression method zipfile lacks."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("package.json", json.dumps(MANIFEST))
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[6] |= flag
    data[central + 8] |= flag
    if method is not None:
        data[8] = data[central + 10] = method
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize(("flag", "method"), [(1, None), (0, 99)], ids=["encrypted", "unknown-compression"])
def test_a_zip_entry_that_cannot_be_unpacked_is_a_problem_of_its_file(tmp_path, flag, method):
    package = _zip_with_patched_entry(tmp_path / "crm.zip", flag, method)

    source = read_package(package)

    assert source.manifest is None
    assert [problem.file for problem in source.problems] == ["package.json"]
    assert source.problems[0].message.startswith("cannot be read")


def test_a_missing_path_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_package(tmp_path / "nowhere")


def test_written_package_reads_back_the_same(package, tmp_path):
    source = read_package(package)

    written = write_package(source, tmp_path / "export")

    assert written == ["package.json", "objects/contact.json", "objects/customer.json"]
    assert read_package(tmp_path / "export") == source


def test_written_files_keep_key_order_and_chinese_text(tmp_path):
    body = {"name": "customer", "label": {"zh_CN": "客户", "en": "Customer"}, "fields": []}
    source = PackageSource(MANIFEST, (Document("objects/customer.json", "object", body),))

    write_package(source, tmp_path / "out")

    text = (tmp_path / "out/objects/customer.json").read_text(encoding="utf-8")
    assert text == (
        '{\n  "name": "customer",\n  "label": {\n    "zh_CN": "客户",\n    "en": "Customer"\n  },\n'
        '  "fields": []\n}\n'
    )


def test_writing_from_specs_names_each_file_after_its_object(tmp_path):
    manifest = PackageManifest.from_json({**MANIFEST, "depends": {"base": ">=1.0.0"}})

    write_package((manifest, [ObjectSpec.from_json(CUSTOMER), CONTACT]), tmp_path / "out")

    source = read_package(tmp_path / "out")
    assert source.manifest == {**MANIFEST, "depends": {"base": ">=1.0.0"}}
    assert {doc.file: doc.body for doc in source.documents} == {
        "objects/contact.json": CONTACT,
        "objects/customer.json": CUSTOMER,
    }


def test_writing_over_a_package_needs_replace_and_then_drops_removed_documents(package):
    source = read_package(package)
    smaller = PackageSource(source.manifest, source.of_kind("object")[1:])
    write_files(package, {"README.md": "# CRM"})

    with pytest.raises(FileExistsError):
        write_package(smaller, package)
    write_package(smaller, package, replace=True)

    assert not (package / "objects/contact.json").exists()
    assert (package / "README.md").read_text(encoding="utf-8") == "# CRM"
    assert read_package(package) == smaller


def test_zip_export_is_byte_identical_every_time(package, tmp_path):
    source = read_package(package)

    write_package(source, tmp_path / "one.zip")
    write_package(source, tmp_path / "two.zip")

    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    assert read_package(tmp_path / "one.zip") == source


def test_a_document_path_outside_the_package_is_never_written(tmp_path):
    source = PackageSource(MANIFEST, (Document("../escape.json", "object", {}),))

    with pytest.raises(ValueError, match="outside the package folder"):
        write_package(source, tmp_path / "out")
    assert not (tmp_path / "escape.json").exists()
