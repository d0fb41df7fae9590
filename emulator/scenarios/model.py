"""A scenario document and its checks.

    {"name": "meter unplugged and back", "seed": 7,
     "description": "...",
     "steps": [{"at_s": 10, "do": "meter", "silent": true, "expect": "NO DATA"}, ...]}

`at_s` is device time from the scenario's start; `do` names a control action (the POST
routes of /emulator/v1/: meter, clock, faults, faults.clear, device, service, license,
protection; and check, which does nothing); the step's other keys are that route's body,
except `expect` (the meter status this step leads to: the list of them is the status
sequence a run shows, for tests and a demo's narration) and `note`.
JSON, or YAML when PyYAML is installed. A document that cannot run is refused
whole with a message naming the step.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from meter_protocols.status import MeterStatus

#: Bounds that keep a document from growing memory or running for ever.
MAX_STEPS: Final = 1000
MAX_AT_S: Final = 366 * 86400.0
MAX_BYTES: Final = 1 << 20
STATUSES: Final = frozenset(status.value for status in MeterStatus)
STEP_KEYS: Final = frozenset({"at_s", "do", "expect", "note"})


class ScenarioError(ValueError):
    """The document cannot run; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Step:
    at_s: float
    do: str
    body: Mapping[str, Any] = field(default_factory=dict)
    expect: str | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"at_s": self.at_s, "do": self.do, **self.body,
                **({"expect": self.expect} if self.expect else {})}


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]
    seed: int | None = None
    description: str = ""

    @property
    def expected_statuses(self) -> list[str]:
        """The meter status sequence the steps say a run shows (repeats merged)."""
        return collapse(step.expect for step in self.steps if step.expect)


def collapse(statuses: Iterable[str]) -> list[str]:
    """A status sequence with consecutive repeats merged (what a run went through)."""
    out: list[str] = []
    for status in statuses:
        if not out or out[-1] != status:
            out.append(status)
    return out


def parse_scenario(doc: Any, actions: Collection[str]) -> Scenario:
    if not isinstance(doc, dict):
        raise ScenarioError("a scenario is an object with name and steps")
    name = doc.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 100:
        raise ScenarioError("name: expected text of 1..100 characters")
    seed = doc.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ScenarioError("seed: expected a whole number")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError("description: expected text")
    unknown = sorted(set(doc) - {"name", "seed", "description", "steps"})
    if unknown:
        raise ScenarioError(f"{unknown[0]}: not a scenario key (name, seed, description, "
                            "steps)")
    raw = doc.get("steps")
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_STEPS:
        raise ScenarioError(f"steps: expected a list of 1..{MAX_STEPS} steps")
    steps = [_step(index, item, actions) for index, item in enumerate(raw)]
    # Steps run in time order; steps at the same moment keep the document's order.
    steps.sort(key=lambda step: step.at_s)
    return Scenario(name, tuple(steps), seed, description)


def _step(index: int, item: Any, actions: Collection[str]) -> Step:
    where = f"steps[{index}]"
    if not isinstance(item, dict):
        raise ScenarioError(f"{where}: expected an object with at_s and do")
    at_s = item.get("at_s")
    if isinstance(at_s, bool) or not isinstance(at_s, int | float) or \
            not math.isfinite(at_s) or not 0 <= at_s <= MAX_AT_S:
        raise ScenarioError(f"{where}.at_s: expected seconds 0..{MAX_AT_S:g}")
    do = item.get("do")
    if do not in actions:
        raise ScenarioError(f"{where}.do: expected one of {', '.join(sorted(actions))}")
    expect = item.get("expect")
    if expect is not None and expect not in STATUSES:
        raise ScenarioError(f"{where}.expect: expected a meter status "
                            f"({', '.join(sorted(STATUSES))})")
    note = item.get("note", "")
    if not isinstance(note, str):
        raise ScenarioError(f"{where}.note: expected text")
    body = {key: value for key, value in item.items() if key not in STEP_KEYS}
    return Step(float(at_s), str(do), body, expect, note)


def read_document(path: Path) -> Any:
    """The document in a file (JSON, or YAML for .yaml/.yml): ScenarioError if unreadable."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_BYTES:
        raise ScenarioError(f"{path}: larger than {MAX_BYTES} bytes")
    return parse_text(raw, yaml=path.suffix.lower() in (".yaml", ".yml"), where=str(path))


def parse_text(raw: bytes, *, yaml: bool, where: str = "scenario") -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{where}: not UTF-8 text") from exc
    if yaml:
        try:
            import yaml as pyyaml  # noqa: PLC0415 - optional
        except ImportError as exc:
            raise ScenarioError(f"{where}: YAML needs PyYAML (pip install pyyaml); or "
                                "write the scenario as JSON") from exc
        try:
            return pyyaml.safe_load(text)
        except pyyaml.YAMLError as exc:
            raise ScenarioError(f"{where}: not valid YAML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{where}: not valid JSON: {exc}") from exc
