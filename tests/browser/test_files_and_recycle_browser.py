"""A sales rep attaches a photo to a follow-up through the form, sees it on the record's page,
deletes the follow-up and brings it back from the recycle bin — in Chromium, as a person would."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import Browser


def tiny_png(path: Path) -> Path:
    """A real 2×2 PNG, so the page can show it as a picture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


# An image's width once it has loaded (0 if it failed): visible, it may still be on its way.
LOADED_WIDTH = (
    "img => img.complete ? img.naturalWidth"
    " : new Promise(done => { img.onload = img.onerror = () => done(img.naturalWidth); })"
)


def test_a_photo_uploaded_in_the_form_stays_with_its_record_through_the_recycle_bin(
    browser: Browser, tmp_path: Path
) -> None:
    page = browser.page
    photo = tiny_png(tmp_path / "现场照片.png")
    browser.sign_in("wang.fang")
    browser.open("/app/followup/new")
    page.get_by_label(re.compile("^跟进主题")).fill("上门查看二号产线")
    page.get_by_label(re.compile("^跟进方式")).select_option(label="电话")
    page.get_by_label(re.compile("^跟进时间")).fill("2026-11-26T10:00")
    page.get_by_label(re.compile("^跟进内容")).fill("客户希望下周看方案")
    page.get_by_label("附件/照片").set_input_files(str(photo))
    expect(page.get_by_text("每个文件不超过 20 MB")).to_be_visible()
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_role("heading", name="上门查看二号产线")).to_be_visible()
    thumbnail = page.get_by_role("img", name="现场照片.png")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate(LOADED_WIDTH) == 2  # the real picture came back
    record_url = page.url
    browser.screenshot("with-photo")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="删除").click()
    expect(page.get_by_text("已移到回收站，可在回收站中恢复")).to_be_visible()
    expect(page.get_by_role("link", name="上门查看二号产线")).to_have_count(0)

    page.get_by_role("link", name="回收站").click()
    row = page.get_by_role("row").filter(has_text="上门查看二号产线")
    expect(row).to_be_visible()
    browser.screenshot("recycle-bin")
    row.get_by_role("button", name="恢复").click()

    page.wait_for_url(record_url)
    expect(page.get_by_text("已恢复")).to_be_visible()
    restored = page.get_by_role("img", name="现场照片.png")
    expect(restored).to_be_visible()
    assert restored.evaluate(LOADED_WIDTH) == 2
    assert browser.errors == []
