"""The shape of an approval flow: where each node leads, which parallel branch a node is on, and where
the flow goes when a branch ends at its join.

A parallel node's `branches` name the first node of each branch; a branch follows the links of its
nodes from there, and a node on it without `next` ends the branch at the join, after which the flow
goes to the parallel's `next` (or, when the parallel itself ends an enclosing branch, to that
branch's join). The checks use this to find unreachable nodes, dead ends, loops without an exit and
branches that stray out of their parallel; the engine uses it to find the join a branch ends at.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from metadata.flows import FlowSpec, NodeSpec

Parts = tuple[str | int, ...]
# Node types that go on to `next`, and so end a parallel branch where they have none.
CHAINED_TYPES = frozenset({"approval", "cc", "action", "parallel"})


@dataclass(frozen=True)
class Link:
    """One place where a node names the node it leads to; `at` is where, as JSON pointer parts."""

    source: str
    target: str
    at: Parts
    via: Literal["next", "when", "default", "split"]  # split: a parallel node's branch


def links_from(node: NodeSpec) -> list[Link]:
    """The nodes `node` names as where the flow goes, in document order (names may not exist)."""
    at: Parts = ("nodes", node.name)
    links: list[Link] = []
    if node.type == "condition":
        links += [
            Link(node.name, b.next, (*at, "branches", i, "next"), "when") for i, b in enumerate(node.branches)
        ]
        if node.default is not None:
            links.append(Link(node.name, node.default, (*at, "default"), "default"))
    elif node.type == "parallel":
        links += [
            Link(node.name, entry, (*at, "branches", i), "split") for i, entry in enumerate(node.branches)
        ]
    if node.next is not None and node.type in CHAINED_TYPES:
        links.append(Link(node.name, node.next, (*at, "next"), "next"))
    return links


@dataclass(frozen=True)
class Branch:
    """One branch of a parallel node: its first node and every node on its path (nested ones too)."""

    parallel: str
    index: int
    entry: str
    nodes: frozenset[str]


@dataclass(frozen=True)
class Stray:
    """A link that takes a branch out of its parallel, or a branch whose first node is not its own.

    `reason`: join (the node after the join), parallel (back to the parallel node), end (an end
    node, which would end the whole flow), other_branch (a node of another branch of the same
    parallel), outside (a node the flow also reaches without the parallel). `other` names the other
    branch's first node, or a node outside the branch that leads to the same target.
    """

    link: Link
    branch_entry: str
    parallel: str
    reason: Literal["join", "parallel", "end", "other_branch", "outside"]
    other: str | None = None


class FlowGraph:
    """A flow's nodes and links, its parallel branches, and what can reach what.

    Build it only for a flow whose names all resolve (start and every link name a node); the
    checks report names that do not before they look at the graph.
    """

    def __init__(self, flow: FlowSpec):
        self.flow = flow
        self.nodes: Mapping[str, NodeSpec] = flow.nodes
        self.links: tuple[Link, ...] = tuple(
            link for node in flow.nodes.values() for link in links_from(node)
        )
        outgoing: dict[str, list[Link]] = {name: [] for name in flow.nodes}
        incoming: dict[str, list[Link]] = {name: [] for name in flow.nodes}
        for link in self.links:
            if link.target in self.nodes:
                outgoing[link.source].append(link)
                incoming[link.target].append(link)
        self._outgoing = MappingProxyType(outgoing)
        self._incoming = MappingProxyType(incoming)
        branches: list[Branch] = []
        strays: list[Stray] = []
        for node in flow.nodes.values():
            if node.type == "parallel":
                self._split(node, branches, strays)
        self.branches: tuple[Branch, ...] = tuple(branches)
        self.strays: tuple[Stray, ...] = tuple(strays)

    def _split(self, parallel: NodeSpec, branches: list[Branch], strays: list[Stray]) -> None:
        """Walk each branch of `parallel`, keeping its nodes and noting the links that stray out of it."""
        splits = [link for link in self._outgoing[parallel.name] if link.via == "split"]
        outside = self._reach(self.flow.start, skip=splits) if self.flow.start in self.nodes else set()

        def stray(link: Link, entry: str) -> Stray | None:
            target = link.target
            if target == parallel.next:
                return Stray(link, entry, parallel.name, "join")
            if target == parallel.name:
                return Stray(link, entry, parallel.name, "parallel")
            if self.nodes[target].type == "end":
                return Stray(link, entry, parallel.name, "end")
            if target in outside:
                source = next(
                    (other.source for other in self._incoming[target] if other.source in outside), None
                )
                return Stray(link, entry, parallel.name, "outside", source)
            return None

        walked: list[Branch] = []
        for split in splits:
            entry = split.target
            found = stray(split, entry)
            if found is not None:
                strays.append(found)
                continue
            members = {entry}
            queue = [entry]
            while queue:
                for link in self._outgoing[queue.pop(0)]:
                    if link.target in members:
                        continue
                    found = stray(link, entry)
                    if found is not None:
                        strays.append(found)
                    else:
                        members.add(link.target)
                        queue.append(link.target)
            walked.append(Branch(parallel.name, int(split.at[-1]), entry, frozenset(members)))
        # Two branches that share nodes: blame the links by which one of them enters the other's path.
        blamed: set[Link] = set()
        for branch in walked:
            for other in walked:
                shared = branch.nodes & other.nodes
                if other is branch or not shared:
                    continue
                for link in self.links:
                    own = link.source in branch.nodes and link.source not in other.nodes
                    if own and link.target in shared and link not in blamed:
                        blamed.add(link)
                        strays.append(Stray(link, branch.entry, parallel.name, "other_branch", other.entry))
        branches += walked

    def _reach(self, start: str, skip: Iterable[Link] = ()) -> set[str]:
        """Nodes reachable from `start` over the document's links, leaving out `skip`."""
        skipped = set(skip)
        seen = {start}
        queue = [start]
        while queue:
            for link in self._outgoing[queue.pop()]:
                if link not in skipped and link.target not in seen:
                    seen.add(link.target)
                    queue.append(link.target)
        return seen

    def branch_of(self, name: str) -> Branch | None:
        """The innermost parallel branch the node is on, or None on the main path."""
        holding = [branch for branch in self.branches if name in branch.nodes]
        return min(holding, key=lambda branch: len(branch.nodes), default=None)

    def ends_branch(self, name: str) -> bool:
        """Whether the node ends the branch it is on: it goes on by `next` but has none."""
        node = self.nodes[name]
        return node.type in CHAINED_TYPES and node.next is None and self.branch_of(name) is not None

    def after_join(self, name: str) -> str | None:
        """Where the flow goes once the branch that `name` ends has joined; None when nowhere is named."""
        branch = self.branch_of(name)
        if branch is None:
            return None
        parallel = self.nodes[branch.parallel]
        if parallel.next is not None:
            return parallel.next
        return self.after_join(parallel.name)

    def successors(self, name: str) -> tuple[str, ...]:
        """Where the flow may go from the node: the nodes it links to, or past the join for a branch's end."""
        found = [link.target for link in self._outgoing[name]]
        if self.ends_branch(name):
            after = self.after_join(name)
            if after is not None:
                found.append(after)
        return tuple(dict.fromkeys(found))

    def reachable(self) -> set[str]:
        """Every node the flow can reach from `start`."""
        return self.reach_from(self.flow.start)

    def reaching_an_end(self) -> set[str]:
        """Every node from which some path leads to an end node."""
        before: dict[str, set[str]] = {name: set() for name in self.nodes}
        for name in self.nodes:
            for target in self.successors(name):
                before[target].add(name)
        found = {name for name, node in self.nodes.items() if node.type == "end"}
        queue = list(found)
        while queue:
            for source in before[queue.pop()]:
                if source not in found:
                    found.add(source)
                    queue.append(source)
        return found

    def reach_from(self, name: str) -> set[str]:
        """Every node the flow can go to from `name` (the node itself included)."""
        seen = {name}
        queue = [name]
        while queue:
            for target in self.successors(queue.pop()):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        return seen
