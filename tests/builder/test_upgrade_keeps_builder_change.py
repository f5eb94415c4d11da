"""Issue #16's acceptance end to end: a field the admin adds in the builder is in the package's export and
survives `loom upgrade` to a new CRM version that changed something else."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.store.documents import get_document
from runtime.cli.group import cli
from tests.builder.test_objects import SEGMENT, confirm, plan, stored
from tests.runtime.pages_world import Team, text, token_in

CRM = Path(__file__).resolve().parents[2] / "metadata" / "packages" / "crm"
LINKEDIN = {"name": "linkedin", "type": "url", "label": {"zh_CN": "领英主页", "en": "LinkedIn"}}


def newer_crm(folder: Path, object_name: str) -> Path:
    """A copy of the CRM with its version bumped and one upstream change: a new field on an object and
    at the end of the first section of its form."""
    copy = folder / "crm"
    shutil.copytree(CRM, copy)
    manifest = json.loads((copy / "package.json").read_text(encoding="utf-8"))
    major, minor, patch = (int(part) for part in manifest["version"].split("."))
    manifest["version"] = f"{major}.{minor + 1}.{patch}"
    (copy / "package.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    for kind, change in (("objects", _add_field), ("forms", _place_field)):
        file = copy / kind / f"{object_name}.json"
        body = json.loads(file.read_text(encoding="utf-8"))
        change(body)
        file.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    return copy


def _add_field(body: dict) -> None:
    body["fields"].append(LINKEDIN)


def _place_field(body: dict) -> None:
    body["sections"][0]["fields"].append("linkedin")


# Upstream changes another object; or the same object and the same form section the builder changed.
@pytest.mark.parametrize("upstream", ["contact", "customer"])
@pytest.mark.both_databases("the upgrade alters the tables of each database")
def test_a_builder_field_is_exported_and_kept_by_loom_upgrade(
    team: Team, database_url: str, tmp_path: Path, upstream: str
) -> None:
    admin = team.client("guan.li")
    doc = stored(team, "customer")
    doc["fields"].append(SEGMENT)
    assert (
        confirm(
            admin, "/builder/objects/customer", text(plan(admin, "/builder/objects/customer", doc))
        ).status_code
        == 302
    )

    rep = team.client("wang.fang")
    form = text(rep.get("/app/customer/new"))
    values = {"csrf_token": token_in(form), "name": "杭州星河科技有限公司", "segment": "mid"}
    assert rep.post("/app/customer/new", data=values).status_code == 302

    exported = admin.get("/builder/packages/crm.zip")
    assert exported.status_code == 200
    with zipfile.ZipFile(io.BytesIO(exported.data)) as archive:
        name = next(n for n in archive.namelist() if n.endswith("objects/customer.json"))
        customer = json.loads(archive.read(name))
    [segment] = [f for f in customer["fields"] if f["name"] == "segment"]
    assert segment["required"] is True and [o["value"] for o in segment["options"]] == ["smb", "mid", "ent"]

    newer = newer_crm(tmp_path, upstream)
    result = CliRunner().invoke(cli, ["--database", database_url, "upgrade", str(newer)])
    assert result.exit_code == 0, result.output
    assert "upgraded to crm 1.1.0" in result.output

    with team.loom.read() as conn:
        fields = {f["name"]: f for f in get_document(conn, "object", "customer").body["fields"]}
        changed = {f["name"] for f in get_document(conn, "object", upstream).body["fields"]}
    assert fields["segment"]["required"] is True
    assert [o["label"]["zh_CN"] for o in fields["segment"]["options"]] == ["中小企业", "中型企业", "大型企业"]
    assert "linkedin" in changed
    [kept] = team.loom.queries().find("customer", filter="name == '杭州星河科技有限公司'").records
    assert kept["segment"] == "mid"

    # What people see after the upgrade: the builder's field on the customer, and upstream's.
    assert "行业细分" in text(rep.get("/app/customer/new")) and "中型企业" in text(
        rep.get(f"/app/customer/{kept['id']}")
    )
    assert "领英主页" in text(rep.get(f"/app/{upstream}/new"))
