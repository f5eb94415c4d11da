"""Loom's own tables (prefixed `loom_`): metadata and its revisions, audit, sequences, archived columns."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Batch mode and later renames can only address constraints that have names.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer(), "sqlite")

system_metadata = MetaData(naming_convention=NAMING_CONVENTION)

state = Table(
    "loom_state",
    system_metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

metadata_documents = Table(
    "loom_metadata",
    system_metadata,
    Column("kind", String(40), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("body", JSON, nullable=False),
    Column("package", String(100)),
    Column("revision", Integer, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

metadata_revisions = Table(
    "loom_metadata_revisions",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor_id", BigInteger),
    Column("actor_name", String(150), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("name", String(100), nullable=False),
    Column("action", String(20), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("diff", JSON, nullable=False),
    Column("note", Text),
    Index("ix_loom_metadata_revisions_doc", "kind", "name", "id"),
)

# Documents an administrator saved without publishing: any body, valid or not. They are not part of
# the installed metadata, so nothing that reads documents (the registry, export, revisions) sees them.
metadata_drafts = Table(
    "loom_metadata_drafts",
    system_metadata,
    Column("kind", String(40), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("body", JSON, nullable=False),
    Column("saved_by", BigInteger),
    Column("saved_at", DateTime, nullable=False),
)

archived_columns = Table(
    "loom_archived_columns",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("field", String(64), nullable=False),
    Column("column_name", String(64), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("reason", String(20), nullable=False),
    Column("archived_at", DateTime, nullable=False),
    Column("restored_at", DateTime),
    Index("ix_loom_archived_columns_field", "object", "field"),
)

# Installed packages, and each one's documents as it shipped them: the base of the customisation
# layer (current document minus base) and of three-way upgrades.
packages = Table(
    "loom_packages",
    system_metadata,
    Column("name", String(100), primary_key=True),
    Column("version", String(100), nullable=False),
    Column("depends", JSON, nullable=False),
    Column("manifest", JSON, nullable=False),
    Column("installed_at", DateTime, nullable=False),
    Column("upgraded_at", DateTime),
)

package_documents = Table(
    "loom_package_documents",
    system_metadata,
    Column("package", String(100), primary_key=True),
    Column("kind", String(40), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("file", String(300), nullable=False),
    Column("body", JSON, nullable=False),  # an extension's body says "extends"
)

# Record tables of removed objects, renamed so their data survives.
archived_tables = Table(
    "loom_archived_tables",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("table_name", String(64), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("archived_at", DateTime, nullable=False),
)

audit_log = Table(
    "loom_audit",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor_id", BigInteger),
    Column("actor_name", String(150), nullable=False),
    Column("object", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("action", String(20), nullable=False),
    Column("changes", JSON, nullable=False),
    Column("batch", String(64)),  # one id for every row of a bulk change (a handover, an import)
    Index("ix_loom_audit_record", "object", "record_id", "id"),
)

sequences = Table(
    "loom_sequences",
    system_metadata,
    Column("object", String(64), primary_key=True),
    Column("field", String(64), primary_key=True),
    Column("period", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

users = Table(
    "loom_users",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(150), nullable=False),
    Column("display_name", String(150), nullable=False),
    Column("email", String(255)),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
    Column("password_hash", String(255)),  # argon2id; never the password itself
    Column("locale", String(10), nullable=False, default="zh_CN"),
    Column("department_id", BigInteger),
    Column("manager_id", BigInteger),
    Column("disabled_at", DateTime),
    UniqueConstraint("username"),
    Index("ix_loom_users_department", "department_id"),
)

departments = Table(
    "loom_departments",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(150), nullable=False),
    Column("parent_id", BigInteger),
    Column("head_id", BigInteger),  # the user who heads the department
    # Materialized path of ids ("/1/4/9/") so "this department and below" is one indexed prefix match.
    Column("path", String(500), nullable=False),
    Column("created_at", DateTime, nullable=False),
    # text_pattern_ops lets PostgreSQL use the index for the "/1/4/%" prefix match in any collation.
    Index("ix_loom_departments_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
)

user_roles = Table(
    "loom_user_roles",
    system_metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("role", String(64), primary_key=True),
)

api_tokens = Table(
    "loom_api_tokens",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("name", String(150), nullable=False),
    Column("token_hash", String(64), nullable=False),  # SHA-256 of the token; the token is shown once
    Column("prefix", String(12), nullable=False),  # the first characters, so people can tell tokens apart
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime),
    Column("revoked_at", DateTime),
    UniqueConstraint("token_hash"),
)

# Sign-in sessions of the pages: the cookie carries a random key, the database its SHA-256, so
# signing out (here or everywhere) and a password change end a session for good — a copied
# cookie is refused once its row has ended.
web_sessions = Table(
    "loom_web_sessions",
    system_metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("user_id", BigInteger, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Index("ix_loom_web_sessions_user", "user_id"),
)

login_attempts = Table(
    "loom_login_attempts",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("username", String(150), nullable=False),
    Column("remote", String(64)),
    Column("at", DateTime, nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_loom_login_attempts_user", "username", "at"),
    Index("ix_loom_login_attempts_remote", "remote", "at"),
)

public_submissions = Table(
    "loom_public_submissions",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("form", String(64), nullable=False),
    Column("remote", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_loom_public_submissions_form", "form", "at"),
    Index("ix_loom_public_submissions_remote", "form", "remote", "at"),
)

record_shares = Table(
    "loom_record_shares",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("user_id", BigInteger),
    Column("department_id", BigInteger),
    Column("access", String(10), nullable=False),  # read, edit
    Column("created_at", DateTime, nullable=False),
    Column("created_by", BigInteger),
    Index("ix_loom_record_shares_user", "object", "user_id", "record_id"),
    Index("ix_loom_record_shares_department", "object", "department_id", "record_id"),
    Index("ix_loom_record_shares_record", "object", "record_id"),
)

# Uploaded files: the bytes live in the file store under `key`; a row says which field of which
# record holds the file (record_id stays empty until the record that uses it is saved) and who
# uploaded it, so nobody can attach a file they did not upload.
files = Table(
    "loom_files",
    system_metadata,
    Column("key", String(64), primary_key=True),
    Column("object", String(64), nullable=False),
    Column("field", String(64), nullable=False),
    Column("record_id", BigInteger),
    Column("name", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", BigInteger),
    Column("uploaded_at", DateTime, nullable=False),
    Index("ix_loom_files_record", "object", "record_id"),
    Index("ix_loom_files_unattached", "record_id", "uploaded_at"),
)

rule_runs = Table(
    "loom_rule_runs",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("rule", String(64), nullable=False),
    Column("object", String(64), nullable=False),
    Column("record_id", BigInteger),
    Column("trigger", String(30), nullable=False),
    Column("status", String(20), nullable=False),  # fired, skipped, failed, stopped
    Column("condition", Text),
    Column("condition_value", JSON),
    Column("inputs", JSON, nullable=False),
    Column("actions", JSON, nullable=False),
    Column("error", Text),
    Column("actor_name", String(150), nullable=False),
    Column("depth", Integer, nullable=False),
    Index("ix_loom_rule_runs_record", "object", "record_id", "id"),
    Index("ix_loom_rule_runs_rule", "rule", "id"),
)

rule_episodes = Table(
    "loom_rule_episodes",
    system_metadata,
    Column("rule", String(64), primary_key=True),
    Column("record_id", BigInteger, primary_key=True),
    Column("started_at", DateTime, nullable=False),
)

rule_state = Table(
    "loom_rule_state",
    system_metadata,
    Column("rule", String(64), primary_key=True),
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
)

due_work = Table(
    "loom_due_work",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("ref", JSON, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("status", String(20), nullable=False),  # pending, running, done, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("locked_until", DateTime),
    Column("last_error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    UniqueConstraint("key"),
    Index("ix_loom_due_work_due", "status", "due_at"),
)

outbox = Table(
    "loom_outbox",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),  # the idempotency key receivers see
    Column("channel", String(40), nullable=False),
    Column("message", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # pending, sending, delivered, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("locked_until", DateTime),
    Column("last_error", Text),
    Column("created_at", DateTime, nullable=False),
    Column("delivered_at", DateTime),
    Column("source", String(200)),  # what wrote it, e.g. rule:contract_expiry
    UniqueConstraint("key"),
    Index("ix_loom_outbox_due", "status", "next_attempt_at"),
)

notifications = Table(
    "loom_notifications",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("title", String(500), nullable=False),
    Column("body", Text),
    Column("object", String(64)),
    Column("record_id", BigInteger),
    Column("source", String(200)),
    Column("created_at", DateTime, nullable=False),
    Column("read_at", DateTime),
    Index("ix_loom_notifications_user", "user_id", "read_at", "id"),
)

flow_instances = Table(
    "loom_flow_instances",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("flow", String(64), nullable=False),
    Column("flow_revision", BigInteger),  # the metadata revision of the definition it started with
    Column("definition", JSON, nullable=False),  # that definition itself: an instance keeps its version
    Column("object", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),  # running, approved, rejected, withdrawn
    Column("submitter_id", BigInteger),
    Column("started_at", DateTime, nullable=False),
    Column("ended_at", DateTime),
    Column("snapshot", JSON, nullable=False),  # the record's values when it was submitted
    Column("active_nodes", JSON, nullable=False),
    Column("state", JSON, nullable=False),  # parallel joins, task order, vote counts, chosen approvers
    Index("ix_loom_flow_instances_record", "object", "record_id", "id"),
    Index("ix_loom_flow_instances_submitter", "submitter_id", "status"),
)

flow_tasks = Table(
    "loom_flow_tasks",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("instance_id", BigInteger, nullable=False),
    Column("node", String(64), nullable=False),
    Column("assignee_id", BigInteger, nullable=False),
    # pending, waiting (its turn has not come), approved, rejected, transferred, cancelled, skipped
    Column("status", String(20), nullable=False),
    Column("position", Integer, nullable=False, default=0),  # order among the node's approvers
    Column("created_at", DateTime, nullable=False),
    Column("decided_at", DateTime),
    Column("due_at", DateTime),
    Column("comment", Text),
    Column("added_by", BigInteger),  # who transferred it or added the approver (加签)
    Index("ix_loom_flow_tasks_inbox", "assignee_id", "status", "id"),
    Index("ix_loom_flow_tasks_instance", "instance_id", "node", "id"),
)

flow_history = Table(
    "loom_flow_history",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("instance_id", BigInteger, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("actor_id", BigInteger),
    Column("actor_name", String(150), nullable=False),
    Column("action", String(30), nullable=False),
    Column("node", String(64)),
    Column("comment", Text),
    Column("detail", JSON),
    Column("snapshot", JSON),  # the record's values at a decision: what was approved or rejected
    Index("ix_loom_flow_history_instance", "instance_id", "id"),
)

saved_views = Table(
    "loom_saved_views",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("object", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("query", JSON, nullable=False),  # the list page's own parameters: filters, search, sort
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("user_id", "object", "name"),
    Index("ix_loom_saved_views_owner", "user_id", "object"),
)

imports = Table(
    "loom_imports",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("object", String(64), nullable=False),
    Column("file_name", String(500), nullable=False),
    Column("file_path", Text, nullable=False),  # where resume reads the file again
    Column("file_digest", String(64), nullable=False),  # SHA-256: resume refuses a file that changed
    Column("mapping", JSON, nullable=False),  # column → field
    Column("options", JSON, nullable=False),
    Column("status", String(20), nullable=False),  # running, done, failed, reverted
    Column("rows_done", Integer, nullable=False),  # data rows consumed, committed with their batch
    Column("counts", JSON, nullable=False),
    Column("error", Text),
    Column("created_by", BigInteger),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("reverted_at", DateTime),
    Index("ix_loom_imports_object", "object", "id"),
)

import_items = Table(
    "loom_import_items",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("import_id", BigInteger, nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("line", Integer, nullable=False),
    Column("action", String(20), nullable=False),  # created, updated
    Column("before", JSON),  # updated: each changed field's value before the import, in JSON form
    Column("version_after", Integer, nullable=False),  # revert leaves a record alone if it moved on
    Index("ix_loom_import_items_record", "import_id", "record_id", "id"),
)

import_problems = Table(
    "loom_import_problems",
    system_metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("import_id", BigInteger, nullable=False),
    Column("line", Integer, nullable=False),
    Column("kind", String(20), nullable=False),  # invalid, duplicate
    Column("cells", JSON, nullable=False),  # the row as it was in the file
    Column("reasons", JSON, nullable=False),  # field → messages
    Index("ix_loom_import_problems_import", "import_id", "id"),
)

# Normalised duplicate-rule keys of every record, so finding duplicates is an indexed lookup.
# The primary key is the lookup itself, and SQLite stores the table without a rowid: each key is
# one small entry in one B-tree (the rule is part of the digest), plus the record index that
# replacing a record's keys goes through. Keys land all over the lookup index, so every entry
# saved keeps an import's batches from touching more pages.
match_keys = Table(
    "loom_match_keys",
    system_metadata,
    Column("object", String(64), primary_key=True),
    Column("key", BigInteger, primary_key=True),  # 64 bits of a digest of the rule and its values
    Column("record_id", BigInteger, primary_key=True),
    Index("ix_loom_match_keys_record", "object", "record_id"),
    sqlite_with_rowid=False,
)
