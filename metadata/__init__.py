"""Loom's spec layer: metadata schemas, package reading and writing, validation and diffs.

Pure: no database and no web framework; the engine builds on these values.
"""

from metadata.diff import Change, diff_documents
from metadata.loading import Document, PackageSource, read_package, write_package
from metadata.problems import Problem, pointer
from metadata.schemas import structural_problems
from metadata.specs import FieldSpec, ObjectSpec, PackageManifest
from metadata.validation import (
    ExpressionSite,
    ValidationResult,
    expressions_in,
    validate_object,
    validate_package,
)

__all__ = [
    "Change",
    "Document",
    "ExpressionSite",
    "FieldSpec",
    "ObjectSpec",
    "PackageManifest",
    "PackageSource",
    "Problem",
    "ValidationResult",
    "diff_documents",
    "expressions_in",
    "pointer",
    "read_package",
    "structural_problems",
    "validate_object",
    "validate_package",
    "write_package",
]
