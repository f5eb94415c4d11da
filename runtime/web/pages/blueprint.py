"""The pages' blueprint: every page module adds its views to it."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("pages", __name__)
