"""Named engine events that the rules and flow engines subscribe to (before_save, after_save, …)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from engine.base.actors import Actor

EVENTS = ("before_save", "after_save", "before_delete", "after_delete", "after_restore")

# Handlers of one event run by stage, then in the order they subscribed: a guard that refuses the
# write (the approval lock) runs before anything that would act on it, whoever subscribed first.
GUARD = 0
ACT = 50


@dataclass
class RecordEvent:
    """What a handler sees: the record's values after the change, its values before, and the transaction."""

    object: str
    record: dict[str, Any]
    old: Mapping[str, Any] | None
    actor: Actor
    conn: Connection
    changed: frozenset[str] = field(default_factory=frozenset)
    registry: Any = None  # the Registry the write ran against, so handlers need not look it up again

    @property
    def is_new(self) -> bool:
        return self.old is None


Handler = Callable[[RecordEvent], None]
# Whether a subscriber cares about an object at all, given the registry: asked once per write
# call, so a bulk create of an object no rule or flow watches pays nothing per row.
Applies = Callable[[Any, str], bool]


class EventBus:
    """Synchronous, in-transaction dispatch: a handler's exception rolls the whole change back."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[tuple[Handler, Applies | None]]] = defaultdict(list)
        self._stages: dict[str, list[int]] = defaultdict(list)

    def subscribe(
        self, event: str, handler: Handler, applies: Applies | None = None, *, stage: int = ACT
    ) -> Handler:
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; known: {', '.join(EVENTS)}")
        stages = self._stages[event]
        at = next((index for index, other in enumerate(stages) if other > stage), len(stages))
        stages.insert(at, stage)
        self._handlers[event].insert(at, (handler, applies))
        return handler

    def has_handlers(self, event: str) -> bool:
        return bool(self._handlers.get(event))

    def handlers_for(self, event: str, registry: Any, object_name: str) -> list[Handler]:
        """The handlers of `event` that care about this object under this registry."""
        return [
            handler
            for handler, applies in self._handlers.get(event, ())
            if applies is None or registry is None or applies(registry, object_name)
        ]

    def emit(self, event: str, payload: RecordEvent) -> None:
        for handler in self.handlers_for(event, payload.registry, payload.object):
            handler(payload)
