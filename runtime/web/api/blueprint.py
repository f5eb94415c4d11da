"""The REST API's blueprint under /api/v1 (JSON only), with what applies to every request.

Integrations authenticate with `Authorization: Bearer loom_…`; see runtime/web/auth.py. Each
module of runtime/web/api/ adds its routes to this blueprint.
"""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from runtime.web.api.inputs import IdConverter, refuse_unknown_query, refuse_unstorable_text

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


@blueprint.record_once
def _add_id_converter(state: BlueprintSetupState) -> None:
    # Before any route of the blueprint is added, so `<id:…>` is known when they are.
    state.app.url_map.converters.setdefault("id", IdConverter)


blueprint.before_request(refuse_unstorable_text)
blueprint.before_request(refuse_unknown_query)
