"""Things found by name: field types, rule actions, delivery channels, expression functions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar, Generic, Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


class NamedRegistry(Generic[T]):
    """Registered things by their `name`. Registering a name again replaces it: a plugin may
    override a built-in. Subclasses say what they hold (`kind`) and may check what they take."""

    kind: ClassVar[str] = "item"

    def __init__(self) -> None:
        self._items: dict[str, T] = {}

    def register(self, item: T) -> T:
        self.check(item)
        self._items[item.name] = item
        return item

    def check(self, item: T) -> None:
        """Refuse an item this registry cannot hold (raise); nothing is refused by default."""

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise self.unknown(name) from None

    def unknown(self, name: str) -> Exception:
        return LookupError(f"unknown {self.kind} {name!r}")

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names(self) -> list[str]:
        return sorted(self._items)
