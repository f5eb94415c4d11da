"""Loom's spec layer: metadata schemas, package reading and writing, validation and diffs.

Pure: no database and no web framework; the engine builds on these values.
"""

from metadata.dashboards import DashboardSpec, Widget
from metadata.diff import Change, diff_documents
from metadata.flow_graph import FlowGraph
from metadata.flows import ApproverSpec, BranchSpec, DeadlineSpec, FlowSpec, NodeSpec
from metadata.forms import FormField, FormSection, FormSpec
from metadata.loading import Document, PackageSource, read_package, write_package
from metadata.problems import Problem, pointer
from metadata.reports import GroupBy, Measure, ReportSpec
from metadata.roles import ObjectGrant, RoleSpec
from metadata.rules import ActionSpec, RuleSpec, TriggerSpec, ValidationRuleSpec
from metadata.schemas import structural_problems
from metadata.specs import FieldSpec, ObjectSpec, PackageManifest
from metadata.validation import (
    ExpressionSite,
    ValidationResult,
    expressions_in,
    flow_expressions_in,
    rule_expressions_in,
    validate_dashboard,
    validate_flow,
    validate_form,
    validate_object,
    validate_package,
    validate_report,
    validate_role,
    validate_rule,
)

__all__ = [
    "ActionSpec",
    "ApproverSpec",
    "BranchSpec",
    "Change",
    "DashboardSpec",
    "DeadlineSpec",
    "Document",
    "ExpressionSite",
    "FieldSpec",
    "FlowGraph",
    "FlowSpec",
    "FormField",
    "FormSection",
    "FormSpec",
    "GroupBy",
    "Measure",
    "NodeSpec",
    "ObjectGrant",
    "ObjectSpec",
    "PackageManifest",
    "PackageSource",
    "Problem",
    "ReportSpec",
    "RoleSpec",
    "RuleSpec",
    "TriggerSpec",
    "ValidationResult",
    "ValidationRuleSpec",
    "Widget",
    "diff_documents",
    "expressions_in",
    "flow_expressions_in",
    "pointer",
    "read_package",
    "rule_expressions_in",
    "structural_problems",
    "validate_dashboard",
    "validate_flow",
    "validate_form",
    "validate_object",
    "validate_package",
    "validate_report",
    "validate_role",
    "validate_rule",
    "write_package",
]
