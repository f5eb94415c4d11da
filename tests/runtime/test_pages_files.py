"""Attachment fields on the pages and the API: files upload through the form, show on the record's
page, download only for readers of the record, and refusals say why in Chinese."""

from __future__ import annotations

import io
import re

import pytest

from engine import identity
from engine.base.actors import SYSTEM
from engine.loom import Loom
from tests.runtime.pages_world import PASSWORD, Team, build_team, csrf, text

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
PDF = b"%PDF-1.7\n" + b"1" * 300


@pytest.fixture
def team(crm: Loom) -> Team:
    team = build_team(crm)
    [finance] = [d["id"] for d in identity.list_departments(crm) if d["name"] == "财务部"]
    user = identity.create_user(
        crm, "zhou.qita", "周其他", PASSWORD, roles=["sales_rep"], department_id=finance, actor=SYSTEM
    )
    team.ids["zhou.qita"] = user["id"]
    return team


def new_followup(client, *files: tuple[bytes, str], **fields: str):  # type: ignore[no-untyped-def]
    form = {
        "csrf_token": csrf(client, "/app/followup/new"),
        "subject": "现场拜访",
        "type": "call",
        "followup_at": "2026-11-26T10:00",
        "content": "看了两条产线",
        "attachments__present": "1",
        "attachments__upload": [(io.BytesIO(data), name) for data, name in files],
        **fields,
    }
    return client.post("/app/followup/new", data=form, content_type="multipart/form-data")


def file_links(page: str) -> list[str]:
    return re.findall(r'href="(/app/followup/\d+/files/attachments/[0-9a-f-]+)"', page)


def test_files_chosen_in_the_form_are_uploaded_and_shown_on_the_record_page(team: Team) -> None:
    wang = team.client("wang.fang")
    response = new_followup(wang, (PNG, "现场照片.png"), (PDF, "会议纪要.pdf"))
    assert response.status_code == 302, text(response)
    page = text(wang.get(response.headers["Location"]))
    assert "现场照片.png" in page and "会议纪要.pdf" in page
    photo, minutes = file_links(page)[:2]
    assert f'<img class="thumbnail" src="{photo}" alt="现场照片.png"' in page  # an image shows small
    shown = wang.get(photo)
    assert shown.status_code == 200 and shown.data == PNG
    assert shown.headers["Content-Type"] == "image/png"
    assert shown.headers["Content-Disposition"].startswith("inline")
    assert shown.headers["X-Content-Type-Options"] == "nosniff"
    download = wang.get(minutes)
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert (
        "filename*=UTF-8''%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81.pdf" in download.headers["Content-Disposition"]
    )


def test_a_reader_outside_the_records_scope_gets_not_found_for_its_files(team: Team) -> None:
    wang = team.client("wang.fang")
    location = new_followup(wang, (PDF, "报价.pdf")).headers["Location"]
    [link] = file_links(text(wang.get(location)))
    assert team.client("li.na").get(link).status_code == 200  # same department: reads the follow-up
    assert team.client("zhou.qita").get(link).status_code == 404  # a rep of another department
    assert team.client("zhao.caiwu").get(link).status_code == 404  # may not read follow-ups at all
    assert wang.get(link.replace("/attachments/", "/content/")).status_code == 404  # not that field
    assert wang.get(link[:-4] + "0000").status_code == 404  # a key the record does not hold


def test_a_refused_file_is_a_field_error_in_chinese_and_the_accepted_ones_stay_in_the_form(
    team: Team,
) -> None:
    wang = team.client("wang.fang")
    response = new_followup(wang, (PDF, "纪要.pdf"), (b"<html><script>alert(1)</script>", "照片.png"))
    page = text(response)
    assert response.status_code == 200
    assert "照片.png 以图片命名，但内容不是图片" in page
    assert 'name="attachments__kept"' in page and "纪要.pdf" in page  # uploaded, kept for the next try
    kept = re.search(r"name=\"attachments__kept\" value='([^']+)'", page).group(1)
    form = {
        "csrf_token": csrf(wang, "/app/followup/new"),
        "subject": "现场拜访",
        "type": "call",
        "followup_at": "2026-11-26T10:00",
        "content": "看了两条产线",
        "attachments__present": "1",
        "attachments__kept": kept.replace("&#34;", '"'),
    }
    saved = wang.post("/app/followup/new", data=form, content_type="multipart/form-data")
    assert saved.status_code == 302
    assert "纪要.pdf" in text(wang.get(saved.headers["Location"]))


def test_size_and_type_limits_of_a_field_are_refused_in_chinese(team: Team) -> None:
    customer = team.customer("苏州精工机械有限公司")
    wang = team.client("wang.fang")
    path = f"/app/customer/{customer['id']}/edit"
    big = b"%PDF-" + b"0" * (10 * 1024 * 1024)

    def post(data: bytes, name: str) -> str:
        form = {
            "csrf_token": csrf(wang, path),
            "_version": "1",
            "business_license__present": "1",
            "business_license__upload": (io.BytesIO(data), name),
        }
        return text(wang.post(path, data=form, content_type="multipart/form-data"))

    assert "营业执照.pdf 超过了 10 MB 的上限" in post(big, "营业执照.pdf")
    assert "setup.exe 的文件类型不被接受（可接受：image/jpeg, image/png, application/pdf）" in post(
        b"MZ" + b"0" * 100, "setup.exe"
    )
    form_page = text(wang.get(path))
    assert 'enctype="multipart/form-data"' in form_page
    assert 'accept="image/jpeg,image/png,application/pdf"' in form_page
    assert "每个文件不超过 10 MB" in form_page


def api_as(team: Team, username: str):  # type: ignore[no-untyped-def]
    """A client that calls the API with the person's own bearer token."""
    client = team.app.test_client()
    body = {"username": username, "password": PASSWORD, "name": "tests"}
    token = client.post("/api/v1/auth/token", json=body).get_json()["token"]
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def test_files_upload_through_the_api_and_a_reference_is_only_the_uploaders_to_set(team: Team) -> None:
    wang, li = api_as(team, "wang.fang"), api_as(team, "li.na")
    uploaded = wang.post(
        "/api/v1/records/followup/files/attachments", data={"file": (io.BytesIO(PDF), "方案.pdf")}
    )
    assert uploaded.status_code == 201
    reference = uploaded.get_json()
    assert reference["name"] == "方案.pdf" and reference["size"] == len(PDF)
    body = {"subject": "电话", "content": "发了方案", "attachments": [reference]}
    stolen = li.post("/api/v1/records/followup", json=body)
    assert stolen.status_code == 422 and "attachments" in stolen.get_json()["error"]["fields"]
    created = wang.post("/api/v1/records/followup", json=body)
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    download = li.get(f"/api/v1/records/followup/{record['id']}/files/attachments/{reference['key']}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    missing = wang.post("/api/v1/records/followup/files/attachments", data={})
    assert missing.status_code == 422
    assert missing.get_json()["error"]["fields"] == {"file": ["required, as a file part with a file name"]}
    wrong_field = wang.post(
        "/api/v1/records/followup/files/subject", data={"file": (io.BytesIO(PDF), "a.pdf")}
    )
    assert wrong_field.status_code == 422
    document = wang.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/records/followup/files/{field}" in document["paths"]
    assert "/api/v1/records/followup/{record_id}/files/{field}/{key}" in document["paths"]


def test_unticking_a_file_in_the_edit_form_takes_it_off_the_record(team: Team) -> None:
    wang = team.client("wang.fang")
    location = new_followup(wang, (PDF, "旧方案.pdf"), (PNG, "现场.png")).headers["Location"]
    edit_path = f"{location}/edit"
    form_page = text(wang.get(edit_path))
    kept = re.findall(r"name=\"attachments__kept\" value='([^']+)'", form_page)
    assert len(kept) == 2
    photo = next(value for value in kept if "image/png" in value)
    form = {
        "csrf_token": csrf(wang, edit_path),
        "_version": re.search(r'name="_version" value="(\d+)"', form_page).group(1),
        "attachments__present": "1",
        "attachments__kept": photo.replace("&#34;", '"'),
    }
    saved = wang.post(edit_path, data=form, content_type="multipart/form-data")
    assert saved.status_code == 302, text(saved)
    page = text(wang.get(location))
    assert "现场.png" in page
    timeline = page[page.index('class="timeline"') :]
    assert "旧方案.pdf" in timeline and page.count("旧方案.pdf") == 1  # only the change names it now
    assert len(file_links(page)) == 1
