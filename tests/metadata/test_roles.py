"""Roles: one document per role, its grants and field restrictions checked against the objects it names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metadata.loading import KIND_FOLDERS, Document, PackageSource, read_package, write_package
from metadata.problems import Problem
from metadata.roles import ObjectGrant, RoleSpec
from metadata.schemas import schema_of
from metadata.specs import ObjectSpec, PackageManifest
from metadata.validation import ValidationResult, validate_package, validate_role

MANIFEST = {"name": "crm", "version": "1.0.0", "label": {"en": "CRM"}}
CRM_PACKAGE = Path(__file__).parents[2] / "metadata" / "packages" / "crm"

CUSTOMER = {
    "name": "customer",
    "label": {"zh_CN": "客户", "en": "Customer"},
    "fields": [
        {"name": "name", "type": "text", "required": True},
        {"name": "credit_code", "type": "text"},
        {"name": "level", "type": "select", "options": [{"value": "vip"}, {"value": "normal"}]},
        {"name": "annual_purchase", "type": "currency"},
    ],
}
CONTRACT = {
    "name": "contract",
    "label": {"zh_CN": "合同", "en": "Contract"},
    "fields": [
        {"name": "name", "type": "text", "required": True},
        {"name": "customer", "type": "lookup", "target": "customer"},
        {"name": "amount", "type": "currency"},
        {"name": "cost_price", "type": "currency"},
        {"name": "margin", "type": "formula", "expression": "amount - cost_price", "result": "currency"},
    ],
}
PRODUCT = {
    "name": "product",
    "label": {"zh_CN": "产品", "en": "Product"},
    "sharing": "read",
    "fields": [{"name": "name", "type": "text"}, {"name": "cost_price", "type": "currency"}],
}
OBJECTS = (CUSTOMER, CONTRACT, PRODUCT)
KNOWN = {doc["name"]: ObjectSpec.from_json(doc) for doc in OBJECTS}

SALES_REP = {
    "$schema": "../../../schema/role.schema.json",
    "name": "sales_rep",
    "label": {"zh_CN": "销售代表", "en": "Sales rep"},
    "objects": {
        "customer": {
            "create": True,
            "read": "department",
            "update": "own",
            "delete": False,
            "import": False,
            "export": "own",
        },
        "contract": {"create": True, "read": "own", "update": "own"},
        "product": {"read": "all"},
    },
    "fields": {"contract.cost_price": "hidden", "customer.annual_purchase": "read_only"},
}


def role(name: str = "r", objects: dict | None = None, **keys) -> dict:
    """A small role document; with no objects given it reads every customer."""
    return {"name": name, "label": {"en": name}, "objects": objects or {"customer": {"read": "all"}}, **keys}


def validated(*roles: dict, objects=OBJECTS, files: dict | None = None, **options) -> ValidationResult:
    """A package of `objects` and `roles` (plus other documents in `files`), validated."""
    documents = [Document(f"objects/{doc['name']}.json", "object", doc) for doc in objects]
    documents += [Document(f"roles/{doc['name']}.json", "role", doc) for doc in roles]
    documents += [
        Document(file, KIND_FOLDERS[file.split("/")[0]], doc) for file, doc in (files or {}).items()
    ]
    return validate_package(PackageSource(MANIFEST, tuple(documents)), **options)


def problems(*roles: dict, **options) -> dict[str, str]:
    """Problems in roles/ documents by JSON pointer, for tests of one role."""
    found = validated(*roles, **options).problems
    return {problem.path: problem.message for problem in found if problem.file.startswith("roles/")}


# Valid roles.


def test_a_role_granting_objects_and_restricting_fields_is_valid():
    result = validated(SALES_REP)

    assert result.problems == []
    [rep] = result.roles
    assert rep.name == "sales_rep"
    assert rep.objects["customer"].scope("read") == "department"
    assert rep.objects["customer"].scope("create") == "all"
    assert rep.objects["customer"].scope("delete") is None
    assert rep.objects["contract"].scope("export") is None  # an operation left out is not allowed
    assert rep.fields["contract.cost_price"] == "hidden"


def test_an_admin_role_needs_no_objects():
    admin = {"name": "admin", "label": {"en": "Administrator"}, "admin": True, "objects": {}}

    result = validated(admin)

    assert result.problems == []
    assert result.roles[0].admin


def test_an_admin_role_may_also_carry_grants_and_field_restrictions():
    admin = role("admin", {"customer": {"read": "own"}}, admin=True, fields={"contract.cost_price": "hidden"})

    assert problems(admin) == {}


def test_a_role_may_grant_an_installed_object():
    installed = {"customer": KNOWN["customer"]}

    assert problems(role(), objects=(), installed=installed) == {}


def test_an_object_shared_for_reading_may_be_changed_beyond_the_read_scope():
    # Everyone reads every product (sharing: read), so updating all products reaches only readable ones.
    assert problems(role(objects={"product": {"read": "own", "update": "all"}})) == {}


def test_a_formula_field_may_be_read_only_though_nobody_can_change_it():
    doc = role(objects={"contract": {"read": "all"}}, fields={"contract.margin": "read_only"})

    assert problems(doc) == {}


def test_a_required_field_may_be_read_only_for_a_role_that_does_not_create():
    doc = role(objects={"contract": {"read": "all", "update": "all"}}, fields={"contract.name": "read_only"})

    assert problems(doc) == {}


# As Loom writes them: no $schema, and operations that are not allowed left out rather than false.
SALES_REP_NORMALISED = {
    **{key: value for key, value in SALES_REP.items() if key != "$schema"},
    "objects": {
        **SALES_REP["objects"],
        "customer": {"create": True, "read": "department", "update": "own", "export": "own"},
    },
}
NORMALISED = [
    SALES_REP_NORMALISED,
    {
        "name": "admin",
        "label": {"zh_CN": "系统管理员", "en": "Administrator"},
        "description": {"en": "Everything"},
        "admin": True,
        "objects": {},
    },
    role("nothing", {"customer": {}}),
]


@pytest.mark.parametrize("doc", NORMALISED, ids=lambda doc: doc["name"])
def test_roles_round_trip_through_their_spec(doc):
    assert RoleSpec.from_json(doc).to_json() == doc


def test_false_and_left_out_operations_read_the_same():
    explicit = {
        "create": False,
        "read": "own",
        "update": False,
        "delete": False,
        "import": False,
        "export": False,
    }

    assert ObjectGrant.from_json(explicit) == ObjectGrant.from_json({"read": "own"})


def test_written_roles_read_back_the_same(tmp_path):
    manifest = PackageManifest.from_json(MANIFEST)
    specs = [ObjectSpec.from_json(doc) for doc in OBJECTS] + [RoleSpec.from_json(SALES_REP)]

    written = write_package((manifest, specs), tmp_path / "out")

    assert "roles/sales_rep.json" in written
    result = validate_package(read_package(tmp_path / "out"))
    assert result.ok
    assert result.roles == (RoleSpec.from_json(SALES_REP),)


def test_validate_role_checks_one_document_against_known_objects():
    assert validate_role(SALES_REP, "roles/sales_rep.json", known_objects=KNOWN).ok
    assert [p.path for p in validate_role(SALES_REP, "roles/sales_rep.json").problems] == [
        "/objects/customer",
        "/objects/contract",
        "/objects/product",
        "/fields/contract.cost_price",
        "/fields/customer.annual_purchase",
    ]
    assert validate_role({"name": "x"}, "draft").roles == ()


# Mistakes, each reported at its own place.


def test_file_must_be_named_after_the_role():
    result = validated(files={"roles/rep.json": SALES_REP})

    assert result.problems == [
        Problem("roles/rep.json", "/name", "role 'sales_rep' must be in a file named sales_rep.json")
    ]


def test_a_role_defined_in_two_files_is_reported_at_the_second():
    result = validated(SALES_REP, files={"roles/zz_copy.json": SALES_REP})

    assert [(p.file, p.path, p.message) for p in result.problems] == [
        ("roles/zz_copy.json", "/name", "role 'sales_rep' must be in a file named sales_rep.json"),
        ("roles/zz_copy.json", "/name", "role 'sales_rep' is already defined in roles/sales_rep.json"),
    ]


@pytest.mark.parametrize(
    ("doc", "path", "message"),
    [
        ({"name": "r", "objects": {}}, "", "'label' is required"),
        ({"name": "r", "label": {"en": "R"}}, "", "'objects' is required"),
        (role("Sales"), "/name", '"Sales" is not valid: names are lowercase identifiers: a letter a-z,'
         " then letters a-z, digits or _ (63 characters at most)"),
        (role(admin="yes"), "/admin", "must be true or false, not a string"),
        (role(objects={"customer": {"read": True}}), "/objects/customer/read",
         "true is only for create; give a record scope: own, department, department_and_below or all"),
        (role(objects={"customer": {"read": "departement"}}), "/objects/customer/read",
         '"departement" is not one of "own", "department", "department_and_below", "all"'
         " (did you mean 'department'?)"),
        (role(objects={"customer": {"create": "own"}}), "/objects/customer/create",
         "create is true or false: a new record belongs to the user who creates it, so it has no scope"),
        (role(objects={"customer": {"edit": "own"}}), "/objects/customer/edit",
         "unknown key 'edit'; the operations are create, read, update, delete, import and export"),
        (role(objects={"Customer": {}}), "/objects/Customer",
         "key 'Customer' is not valid: names are lowercase identifiers: a letter a-z, then letters a-z,"
         " digits or _ (59 characters at most)"),
        (role(fields={"cost_price": "hidden"}), "/fields/cost_price",
         "key 'cost_price' is not valid: field keys are an object name and a field name joined by a dot,"
         " e.g. contract.cost_price"),
        (role(fields={"customer.level": "readonly"}), "/fields/customer.level",
         '"readonly" is not one of "hidden", "read_only" (did you mean \'read_only\'?)'),
        (role(label="Sales rep"), "/label", "must be an object, not a string"),
        (role(colour="red"), "/colour", "unknown key 'colour'"),
    ],
)  # fmt: skip
def test_schema_mistakes_are_reported_at_their_place(doc, path, message):
    assert problems(doc) == {path: message}


@pytest.mark.parametrize(
    ("doc", "path", "message"),
    [
        (role(objects={"custmer": {"read": "all"}}), "/objects/custmer",
         "role 'r' grants access to object 'custmer', which is neither in this package nor installed"
         " (did you mean 'customer'?)"),
        (role(objects={"customer": {"update": "own"}}), "/objects/customer/update",
         'can update customer records it cannot read: give it "read" too'),
        (role(objects={"customer": {"read": False, "delete": "all"}}), "/objects/customer/delete",
         'can delete customer records it cannot read: give it "read" too'),
        (role(objects={"customer": {"import": "own"}}), "/objects/customer/import",
         'can import customer records it cannot read: give it "read" too'),
        (role(objects={"customer": {"read": "own", "export": "department"}}), "/objects/customer/export",
         "can export their department's customer records but read only their own:"
         " export reaches at most the records the role may read"),
        (role(objects={"customer": {"read": "department", "update": "all"}}), "/objects/customer/update",
         "can update all customer records but read only their department's:"
         " update reaches at most the records the role may read"),
        (role(fields={"contarct.cost_price": "hidden"}), "/fields/contarct.cost_price",
         "names a field of object 'contarct', which is neither in this package nor installed"
         " (did you mean 'contract'?)"),
        (role(fields={"customer.credit": "read_only"}), "/fields/customer.credit",
         "object 'customer' has no field 'credit' (did you mean 'credit_code'?)"),
        (role(fields={"contract.cost_price": "hidden"}), "/fields/contract.cost_price",
         "hides a field of an object the role cannot read: give it read access to contract"
         " or remove this entry"),
        (role(objects={"contract": {"create": True}}, fields={"contract.amount": "read_only"}),
         "/fields/contract.amount",
         "makes read-only a field of an object the role cannot read: give it read access to contract"
         " or remove this entry"),
        (role(objects={"contract": {"create": True, "read": "own"}}, fields={"contract.name": "hidden"}),
         "/fields/contract.name",
         "the role may create contract records, but 'name' is required, has no default and is hidden for"
         " this role, so its users could never fill it"),
        (role(objects={"customer": {"create": True, "read": "own"}}, fields={"customer.name": "read_only"}),
         "/fields/customer.name",
         "the role may create customer records, but 'name' is required, has no default and is read-only for"
         " this role, so its users could never fill it"),
        (role("admin"), "/name", 'the role named admin may do everything: set "admin": true'),
    ],
)  # fmt: skip
def test_meaning_mistakes_are_reported_at_their_place(doc, path, message):
    assert problems(doc) == {path: message}


def test_schema_problems_stop_the_semantic_checks_of_that_role():
    doc = role(objects={"nowhere": {"update": "own"}}, fields={"x.y": "hidden", "z.w": "invisible"})

    assert problems(doc) == {"/fields/z.w": '"invisible" is not one of "hidden", "read_only"'}


def test_a_role_of_a_broken_object_is_reported_only_in_the_object():
    broken = {**CUSTOMER, "label": "Customer"}
    doc = role(objects={"customer": {"read": "all"}}, fields={"customer.nope": "hidden"})

    result = validated(doc, objects=(broken, CONTRACT, PRODUCT))

    assert [(p.file, p.path) for p in result.problems] == [("objects/customer.json", "/label")]


def test_every_mistake_of_a_role_is_reported_in_reading_order():
    doc = role(
        "admin",
        {"custmer": {"read": "all"}, "contract": {"update": "own"}},
        fields={"product.cost": "hidden", "contract.amount": "hidden"},
    )

    assert list(problems(doc)) == [
        "/fields/contract.amount",
        "/fields/product.cost",
        "/name",
        "/objects/contract/update",
        "/objects/custmer",
    ]


# The standard CRM's roles.


def crm_roles() -> list[tuple[str, dict]]:
    return [
        (path.name, json.loads(path.read_text(encoding="utf-8")))
        for path in sorted((CRM_PACKAGE / "roles").glob("*.json"))
    ]


def test_the_crm_package_defines_its_roles_and_they_validate():
    result = validate_package(read_package(CRM_PACKAGE))

    assert [str(problem) for problem in result.problems] == []
    assert {role.name for role in result.roles} == {
        "admin",
        "sales_manager",
        "sales_rep",
        "service_agent",
        "finance",
        "legal",
        "ceo",
    }
    rep = next(role for role in result.roles if role.name == "sales_rep")
    assert rep.objects["customer"].scope("read") == "department"  # 客户归公司所有: the department sees them
    assert rep.objects["customer"].scope("update") == "own"
    assert rep.fields["contract.cost_price"] == rep.fields["product.cost_price"] == "hidden"


@pytest.mark.parametrize(("file", "doc"), crm_roles(), ids=lambda v: v if isinstance(v, str) else "")
def test_crm_roles_are_written_normalised_with_both_labels(file, doc):
    body = {key: value for key, value in doc.items() if key != "$schema"}

    assert RoleSpec.from_json(body).to_json() == body
    assert set(doc["label"]) == set(doc["description"]) == {"zh_CN", "en"}
    assert doc["$schema"] == "../../../schema/role.schema.json"


# The schema, for editors.


def _undescribed(node: object, where: str) -> list[str]:
    """Properties and definitions without a description, outside if-clauses."""
    missing: list[str] = []
    if isinstance(node, dict):
        for name, prop in {**node.get("properties", {}), **node.get("$defs", {})}.items():
            if isinstance(prop, dict) and not prop.get("description"):
                missing.append(f"{where}/{name}")
        for key, value in node.items():
            if key not in {"if", "then", "else", "examples"}:
                missing += _undescribed(value, f"{where}/{key}")
    return missing


def test_every_property_of_the_role_schema_is_described():
    assert _undescribed(schema_of("role"), "") == []


def test_the_schema_example_is_a_valid_role():
    [example] = schema_of("role")["examples"]

    assert validate_role(example, "example", known_objects=KNOWN).problems == []
