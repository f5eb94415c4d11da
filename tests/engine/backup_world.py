"""Shared by the backup tests: a small company in the middle of its work, and what its users see."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import identity
from engine.backup.values import RowCodec, TableDigest
from engine.base.actors import SYSTEM
from engine.base.clock import Clock
from engine.base.settings import Settings
from engine.loom import Loom
from engine.records.queries import MAX_PAGE
from tests.engine.flow_world import World, build_world

PASSWORD = "a-long-password-1"
# A scanned contract: bytes that a text round trip would spoil (NUL, CR, LF, high bytes).
SCAN = b"%PDF-1.7\n" + bytes(range(256)) * 16 + b"\r\n%%EOF"


@dataclass
class Company:
    """王芳's customer with a contact and a deal, a visit with a scan, a contract awaiting approval,
    a deleted task, an administrator who signs in with a password and an integration's API token."""

    world: World
    admin_id: int
    token: str
    session: str  # the administrator's browser is signed in
    contract_id: int
    instance_id: int
    followup_id: int
    file_key: str

    @property
    def loom(self) -> Loom:
        return self.world.loom


def build_company(loom: Loom) -> Company:
    world = build_world(loom)
    admin = identity.create_user(loom, "admin.gao", "高管理员", PASSWORD, roles=["admin"], actor=SYSTEM)
    token, _ = identity.create_token(loom, admin["id"], "ERP sync", actor=SYSTEM)
    session = identity.start_session(loom, admin["id"])
    rep = world.actor("wang.fang")
    records = loom.records(rep)
    records.create("contact", {"name": "李工", "customer": world.customer_id, "phone": "13800138000"})
    records.create("opportunity", {"name": "年度采购", "customer": world.customer_id, "amount": "1299.50"})
    scan = loom.files.upload(rep, "followup", "attachments", "合同扫描件.pdf", io.BytesIO(SCAN))
    visit = records.create(
        "followup", {"subject": "现场拜访", "content": "看了两条产线", "attachments": [scan]}
    )
    records.update("followup", visit["id"], {"content": "看了两条产线，下周报价"}, version=visit["version"])
    task = records.create("task", {"subject": "寄样品", "customer": world.customer_id})
    records.delete("task", task["id"])
    contract = world.contract(50_000)
    instance = world.submit(contract, comment="请审批")
    return Company(world, admin["id"], token, session, contract, instance.id, visit["id"], scan["key"])


def another_loom(url: str, clock: Clock, files_dir: Path) -> Loom:
    """A Loom on another database with its own file folder, as on a fresh machine."""
    loom = Loom(url, clock=clock, settings=Settings.from_env(files_dir=str(files_dir)))
    loom.init()
    return loom


def what_users_see(loom: Loom) -> dict[str, Any]:
    """Every record of every object (deleted ones too) with its values and version, the people and
    their roles, and the running approvals with their tasks and history."""
    seen: dict[str, Any] = {}
    for name in loom.registry.objects:
        page = loom.queries().find(name, limit=MAX_PAGE, include_deleted=True)
        assert page.next_cursor is None
        seen[name] = page.records
    seen["users"] = identity.list_users(loom)
    seen["departments"] = identity.list_departments(loom)
    instances = []
    for contract in seen["contract"]:
        for instance in loom.flows.instances_of("contract", contract["id"]):
            instances.append((instance, loom.flows.tasks(instance.id), loom.flows.history(instance.id)))
    seen["approvals"] = instances
    seen["audit"] = [loom.records().history(name, r["id"]) for name in ("followup",) for r in seen[name]]
    return seen


def rewrite(archive: Path, table: str, change: Callable[[str], str], *, fix_manifest: bool = False) -> Path:
    """A copy of the archive with one table's lines changed (and its manifest entry made to match)."""
    copy = archive.with_name(f"changed-{archive.name}")
    member = f"tables/{table}.jsonl"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as out:
        manifest = json.loads(source.read("manifest.json"))
        for item in source.infolist():
            data = source.read(item)
            if item.filename == member:
                data = change(data.decode("utf-8")).encode("utf-8")
                entry = next(t for t in manifest["tables"] if t["name"] == table)
                if fix_manifest:
                    codec, digest = RowCodec([kind for _, kind in entry["columns"]]), TableDigest()
                    for line in data.decode("utf-8").splitlines():
                        digest.add(codec.encode(codec.decode(json.loads(line))))
                    entry["checksum"] = digest.checksum
            if item.filename != "manifest.json":
                out.writestr(item, data)
        out.writestr("manifest.json", json.dumps(manifest))
    return copy
