"""A flow document laid out as the designer draws it: a vertical chain of node cards, where a condition
shows its branches side by side and the chain goes on where they meet, and a parallel node shows its
branches side by side, each ending at the node without `next`, and the chain goes on at its `next`.

The layout reads the raw document (it may be a half-made draft), never fails on a malformed one, and
places every node once. A link that does not fit the tree (a branch that jumps elsewhere, a loop) is
drawn as "goes to X"; nodes nothing reaches are laid out after the main chain.

Every place a node can be inserted is described by `links` (the JSON pointer parts of each link that
must then name the new node) and `target` (the node the new node goes on to, None at a branch's end).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Parts = list[str | int]
CHAINED = frozenset({"approval", "cc", "action", "parallel"})


def _nodes(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    nodes = doc.get("nodes")
    if not isinstance(nodes, Mapping):
        return {}
    return {name: node for name, node in nodes.items() if isinstance(name, str) and isinstance(node, Mapping)}


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def out_links(name: str, node: Mapping[str, Any]) -> Iterator[tuple[Parts, str]]:
    """Each place `node` names where the flow goes, as (pointer parts, target); malformed ones skipped."""
    kind = node.get("type")
    at: Parts = ["nodes", name]
    branches = node.get("branches") if isinstance(node.get("branches"), list) else []
    if kind == "condition":
        for i, branch in enumerate(branches):
            target = _name(branch.get("next")) if isinstance(branch, Mapping) else None
            if target:
                yield [*at, "branches", i, "next"], target
        if _name(node.get("default")):
            yield [*at, "default"], node["default"]
    elif kind == "parallel":
        for i, entry in enumerate(branches):
            if _name(entry):
                yield [*at, "branches", i], entry
    if kind in CHAINED and _name(node.get("next")):
        yield [*at, "next"], node["next"]


class _Layout:
    def __init__(self, doc: Mapping[str, Any]):
        self.nodes = _nodes(doc)
        self.placed: set[str] = set()
        self.successors = {name: [t for _, t in out_links(name, node)] for name, node in self.nodes.items()}

    def distances(self, start: str) -> dict[str, int]:
        """Steps from `start` to every node it reaches (itself at 0)."""
        seen = {start: 0}
        queue = [start]
        while queue:
            here = queue.pop(0)
            for target in self.successors.get(here, ()):
                if target in self.nodes and target not in seen:
                    seen[target] = seen[here] + 1
                    queue.append(target)
        return seen

    def meeting(self, targets: list[str], stop: str | None, own: str) -> str | None:
        """Where a condition's branches meet: the nearest node every branch reaches (not yet placed)."""
        if not targets:
            return None
        reach = [self.distances(t) if t in self.nodes else {} for t in targets]
        common = set(reach[0]).intersection(*reach[1:])
        common = {n for n in common if n != own and (n not in self.placed or n == stop)}
        if not common:
            return None
        return min(common, key=lambda n: (sum(r[n] for r in reach), max(r[n] for r in reach), n))

    def chain(self, entry: str | None, entry_links: list[Parts], stop: str | None) -> dict[str, Any]:
        """The chain from `entry` until `stop` (a meeting point), an end node, or a branch's end."""
        items: list[dict[str, Any]] = []
        chain = {"entry": {"links": entry_links, "target": entry}, "items": items}
        here = entry
        while here is not None and here != stop:
            if here not in self.nodes or here in self.placed:
                items.append({"kind": "goto", "target": here, "missing": here not in self.nodes})
                break
            self.placed.add(here)
            node = self.nodes[here]
            kind = node.get("type")
            if kind == "condition":
                items.append(self.condition(here, node, stop))
                after = items[-1]["after"]  # None: the branches never meet again
                here = after["target"] if after else None
            elif kind == "parallel":
                items.append(self.parallel(here, node))
                here = _name(node.get("next"))
            elif kind in CHAINED:
                nxt = _name(node.get("next"))
                items.append(
                    {
                        "kind": "node",
                        "name": here,
                        "after": {"links": [["nodes", here, "next"]], "target": nxt},
                    }
                )
                here = nxt
            else:  # end, or a node of unknown type: nothing follows it
                items.append({"kind": "node", "name": here, "after": None})
                here = None
        return chain

    def condition(self, name: str, node: Mapping[str, Any], stop: str | None) -> dict[str, Any]:
        links = [(parts, target) for parts, target in out_links(name, node)]
        meet = self.meeting([t for _, t in links], stop, name)
        before = set(self.placed)
        branches = []
        raw = node.get("branches") if isinstance(node.get("branches"), list) else []
        for i, branch in enumerate(raw):
            target = _name(branch.get("next")) if isinstance(branch, Mapping) else None
            when = branch.get("when") if isinstance(branch, Mapping) else None
            part = self.chain(target, [["nodes", name, "branches", i, "next"]], meet)
            branches.append({"index": i, "when": when if isinstance(when, str) else "", **part})
        default = _name(node.get("default"))
        branches.append(
            {"index": "default", "when": None, **self.chain(default, [["nodes", name, "default"]], meet)}
        )
        inside = (self.placed - before) | {name}
        into_meet = [
            parts
            for member in sorted(inside)
            for parts, target in out_links(member, self.nodes[member])
            if target == meet and meet is not None
        ]
        after = {"links": into_meet, "target": meet} if meet is not None else None
        return {"kind": "condition", "name": name, "branches": branches, "after": after}

    def parallel(self, name: str, node: Mapping[str, Any]) -> dict[str, Any]:
        raw = node.get("branches") if isinstance(node.get("branches"), list) else []
        branches = [
            {"index": i, **self.chain(_name(entry), [["nodes", name, "branches", i]], None)}
            for i, entry in enumerate(raw)
        ]
        after = {"links": [["nodes", name, "next"]], "target": _name(node.get("next"))}
        return {"kind": "parallel", "name": name, "branches": branches, "after": after}


def lay_out(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The designer's tree for a flow document: {"chain": …, "detached": [chains of unreached nodes]}."""
    layout = _Layout(doc)
    start = _name(doc.get("start"))
    chain = layout.chain(start, [["start"]], None)
    detached = []
    while len(layout.placed) < len(layout.nodes):
        left = [n for n in layout.nodes if n not in layout.placed]
        # Begin with a node no other unplaced node leads to, so each detached part reads top down.
        entered = {t for n in left for t in layout.successors[n]}
        root = next((n for n in left if n not in entered), left[0])
        detached.append(layout.chain(root, [], None))
    return {"chain": chain, "detached": detached}


def placed_nodes(tree: Mapping[str, Any]) -> list[str]:
    """Every node name the tree draws as a card, in drawing order."""
    found: list[str] = []

    def walk(chain: Mapping[str, Any]) -> None:
        for item in chain["items"]:
            if item["kind"] != "goto":
                found.append(item["name"])
            for branch in item.get("branches", ()):
                walk(branch)

    walk(tree["chain"])
    for part in tree["detached"]:
        walk(part)
    return found


def insertion_points(tree: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every "+" the designer shows: the entry of each chain and the place after each item."""
    points: list[dict[str, Any]] = []

    def walk(chain: Mapping[str, Any]) -> None:
        if chain["entry"]["links"]:
            points.append(chain["entry"])
        for item in chain["items"]:
            for branch in item.get("branches", ()):
                walk(branch)
            if item.get("after") and item["after"]["links"]:
                points.append(item["after"])

    walk(tree["chain"])
    for part in tree["detached"]:
        walk(part)
    return points


def node_of_path(path: str) -> str | None:
    """The node a problem's JSON pointer is about (/nodes/<node>/...), or None for the flow itself."""
    parts = path.split("/")
    if len(parts) >= 3 and parts[1] == "nodes" and parts[2]:
        return parts[2].replace("~1", "/").replace("~0", "~")
    return None
