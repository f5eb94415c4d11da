"""Importing records from CSV and XLSX files: mapping, validation, duplicates, resume and revert.

The import wizard and `loom import` use only the names below.
"""

from engine.imports.mapping import (
    Guess,
    MappingFile,
    auto_mapping,
    importable_fields,
    load_mapping_document,
    load_mapping_file,
    mapping_guesses,
    unmapped_columns,
)
from engine.imports.options import Counts, ImportOptions, ImportRefused, ImportReport, Problem
from engine.imports.report import bad_rows_report, problems_report
from engine.imports.revert import RevertRefused, RevertResult, revert_import
from engine.imports.runner import (
    dry_run,
    import_report,
    list_imports,
    previous_choices,
    resume_import,
    start_import,
)
from engine.imports.sources import FileInfo, UnreadableFile, estimate_rows, inspect_file
from engine.imports.store import ImportNotFound

__all__ = [
    "Counts",
    "FileInfo",
    "Guess",
    "ImportNotFound",
    "ImportOptions",
    "ImportRefused",
    "ImportReport",
    "MappingFile",
    "Problem",
    "RevertRefused",
    "RevertResult",
    "UnreadableFile",
    "auto_mapping",
    "bad_rows_report",
    "dry_run",
    "estimate_rows",
    "import_report",
    "importable_fields",
    "inspect_file",
    "list_imports",
    "load_mapping_document",
    "load_mapping_file",
    "mapping_guesses",
    "previous_choices",
    "problems_report",
    "resume_import",
    "revert_import",
    "start_import",
    "unmapped_columns",
]
