"""Backup and restore: one archive of the whole database (metadata, records, history) and its
files, restorable on SQLite or PostgreSQL, and the consistency check that proves a restore whole."""

from engine.backup.check import CheckReport, Expected, check_database
from engine.backup.restore import RestoreSummary, restore_backup
from engine.backup.snapshot import BackupSummary, take_backup
from engine.backup.verify import verify_archive

__all__ = [
    "BackupSummary",
    "CheckReport",
    "Expected",
    "RestoreSummary",
    "check_database",
    "restore_backup",
    "take_backup",
    "verify_archive",
]
