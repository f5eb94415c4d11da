"""Keeping the record's status field in step with its approval (a flow's `record_status`).

Written as the flow (the system under the flow's name), in the flow operation's transaction, so
the record lock does not refuse it, the audit log says which flow changed it, and rules see it.
"""

from __future__ import annotations

from engine.base.errors import RecordInvalid
from engine.flows.errors import FlowError
from engine.flows.runs import Run


def keep_status(run: Run, state: str) -> None:
    """Set the record's status field to the flow's value for `state`, if it names one and it differs."""
    status = run.flow.record_status
    if status is None or state not in status.values:
        return
    value = status.values[state]
    records = run.loom.records(run.system, run.conn)
    if records.get(run.instance.object, run.instance.record_id).get(status.field) == value:
        return
    try:
        records.update(run.instance.object, run.instance.record_id, {status.field: value})
    except RecordInvalid as error:
        problems = "; ".join(f"{name} {', '.join(texts)}" for name, texts in error.fields.items())
        message = f"flow {run.flow.name!r} could not set {status.field} to {value!r}: {problems}"
        raise FlowError(message) from None
