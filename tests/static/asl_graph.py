"""Reading an ASL definition as a graph: its transitions, for the checks and the README diagram."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
START, END = "[*]", "[*]"


def load(name: str) -> dict[str, Any]:
    """An ASL file of statemachine/, parsed."""
    return json.loads((ROOT / "statemachine" / name).read_text())  # type: ignore[no-any-return]


def transitions(states: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (from, to) edge of a state set: Next, Default, Choices and Catch; terminal states to [*]."""
    edges: set[tuple[str, str]] = set()
    for name, state in states.items():
        targets = [state.get("Next"), state.get("Default")]
        targets += [choice.get("Next") for choice in state.get("Choices", [])]
        targets += [catch.get("Next") for catch in state.get("Catch", [])]
        edges.update((name, target) for target in targets if target)
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            edges.add((name, END))
    return edges


def graph(definition: dict[str, Any]) -> set[tuple[str, str]]:
    """The top-level graph, with the start edge."""
    return {(START, definition["StartAt"]), *transitions(definition["States"])}


def all_state_sets(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The definition's state sets: the top level and every Map/Parallel branch, recursively."""
    found = [definition]
    for state in definition["States"].values():
        for branch in [state.get("ItemProcessor") or state.get("Iterator"), *state.get("Branches", [])]:
            if branch:
                found.extend(all_state_sets(branch))
    return found


def mermaid_edges(markdown: str, marker: str) -> set[tuple[str, str]]:
    """Edges of the ```mermaid block that follows ``marker`` in a Markdown text."""
    after = markdown[markdown.index(marker) :]
    block = after[after.index("```mermaid") + len("```mermaid") :]
    block = block[: block.index("```")]
    edges = set()
    for line in block.splitlines():
        if "-->" in line:
            left, right = line.split("-->")
            edges.add((left.strip(), right.split(":")[0].strip()))
    return edges
