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
    UniqueConstraint("username"),
)
