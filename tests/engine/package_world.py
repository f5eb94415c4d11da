"""Shared by the package tests: a small CRM-like package in versions, an industry package extending it,
and the admin's hand on the installed metadata."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from engine.loom import Loom
from engine.schema.changes import apply_objects
from metadata.specs import ObjectSpec


def label(zh: str, en: str) -> dict[str, str]:
    return {"zh_CN": zh, "en": en}


def mini_crm(version: str = "1.0.0") -> dict[str, dict[str, Any]]:
    """Package `mini_crm` as files: customer and order objects, a rule, a role."""
    return {
        "package.json": {
            "$schema": "../../schema/package.schema.json",
            "name": "mini_crm",
            "version": version,
            "label": label("迷你CRM", "Mini CRM"),
        },
        "objects/customer.json": {
            "name": "customer",
            "label": label("客户", "Customer"),
            "title_field": "name",
            "fields": [
                {
                    "name": "name",
                    "type": "text",
                    "label": label("客户名称", "Customer name"),
                    "required": True,
                },
                {
                    "name": "level",
                    "type": "select",
                    "label": label("客户等级", "Level"),
                    "options": [
                        {"value": "normal", "label": label("普通", "Normal")},
                        {"value": "vip", "label": label("重要", "VIP")},
                    ],
                },
                {"name": "phone", "type": "phone", "label": label("电话", "Phone")},
            ],
        },
        "objects/purchase.json": {
            "name": "purchase",
            "label": label("订单", "Order"),
            "fields": [
                {
                    "name": "customer",
                    "type": "lookup",
                    "target": "customer",
                    "label": label("客户", "Customer"),
                },
                {"name": "amount", "type": "currency", "label": label("金额", "Amount")},
            ],
        },
        "rules/vip_big_order.json": {
            "name": "vip_big_order",
            "object": "purchase",
            "label": label("大额订单", "Big order"),
            "trigger": {"type": "on_create"},
            "condition": "amount > 100000",
            "actions": [{"type": "notify", "to": "owner", "title": "'大额订单'"}],
        },
        "roles/seller.json": {
            "name": "seller",
            "label": label("销售", "Seller"),
            "objects": {"customer": {"create": True, "read": "own", "update": "own"}},
        },
    }


def mini_crm_v2() -> dict[str, dict[str, Any]]:
    """Version 2.0.0: adds customer.email and renames the phone field's Chinese label."""
    files = mini_crm("2.0.0")
    customer = files["objects/customer.json"]
    customer["fields"].append({"name": "email", "type": "email", "label": label("邮箱", "Email")})
    customer["fields"][2]["label"]["zh_CN"] = "联系电话"
    return files


def industry(version: str = "1.0.0", depends: str = ">=1.0,<3") -> dict[str, dict[str, Any]]:
    """Package `factory` extending mini_crm's customer with a field, a validation rule and an option."""
    return {
        "package.json": {
            "name": "factory",
            "version": version,
            "label": label("制造业", "Manufacturing"),
            "depends": {"mini_crm": depends},
        },
        "objects/customer.json": {
            "extends": "customer",
            "fields": [
                {"name": "plant_count", "type": "integer", "label": label("工厂数", "Plants"), "min": 0},
            ],
            "validation_rules": [
                {
                    "name": "plants_not_negative",
                    "condition": "isblank(plant_count) or plant_count >= 0",
                    "message": label("工厂数不能为负", "Plants cannot be negative"),
                    "fields": ["plant_count"],
                }
            ],
            "options": {"level": [{"value": "strategic", "label": label("战略", "Strategic")}]},
        },
        "objects/machine.json": {
            "name": "machine",
            "label": label("设备", "Machine"),
            "fields": [
                {"name": "serial", "type": "text", "label": label("序列号", "Serial no.")},
                {
                    "name": "owner_customer",
                    "type": "lookup",
                    "target": "customer",
                    "label": label("客户", "Customer"),
                },
            ],
        },
        "rules/many_plants.json": {
            "name": "many_plants",
            "object": "customer",
            "label": label("多工厂客户", "Many plants"),
            "trigger": {"type": "on_update"},
            "condition": "plant_count > 10",
            "actions": [{"type": "set_field", "field": "level", "value": "'strategic'"}],
        },
    }


def write(root: Path, files: dict[str, dict[str, Any]]) -> Path:
    for name, body in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(body, ensure_ascii=False, indent=2), encoding="utf-8")
    return root


def customise(loom: Loom, object_name: str, change) -> None:  # type: ignore[no-untyped-def]
    """An admin edits an object the way the builder does: the whole document through apply_objects."""
    body = copy.deepcopy(loom.registry.object(object_name).spec.to_json())
    change(body)
    apply_objects(loom, [ObjectSpec.from_json(body)])


def field_of(loom: Loom, object_name: str, field_name: str) -> dict[str, Any]:
    return loom.registry.object(object_name).spec.field(field_name).to_json()
