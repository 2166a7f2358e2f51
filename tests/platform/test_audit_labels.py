"""Every audit action the code writes has its Chinese label (models/audit.py: ACTION_LABELS).

The actions are read from the source, as the layer test reads imports: the action argument of
every `record(...)` (and the identity repair's `_audit(...)`), each branch of a conditional, and
the kernel's `<case_type>.<action>` for every move staff may make in every state machine."""

from __future__ import annotations

import ast
import importlib
import itertools
from pathlib import Path

from models.audit import ACTION_LABELS, action_label
from models.kernel.machine import StateMachine
from models.membership.tables import ChangeKind

ROOT = Path(__file__).resolve().parents[2]
WRITERS = {"record", "_audit"}


def _candidates(node: ast.expr) -> list[str] | None:
    """The strings an action expression can be; None when it is built from something else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _candidates(node.body), _candidates(node.orelse)
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.JoinedStr):
        parts: list[list[str]] = []
        for value in node.values:
            part = _candidates(value.value) if isinstance(value, ast.FormattedValue) else _candidates(value)
            if part is None:
                return None
            parts.append(part)
        return ["".join(p) for p in itertools.product(*parts)]
    return None


def _written_in_source() -> tuple[set[str], list[str]]:
    actions: set[str] = set()
    unknown: list[str] = []
    for top in ("models", "handlers", "server"):
        for path in (ROOT / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Call) and len(node.args) >= 2):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in WRITERS:
                    continue
                found = _candidates(node.args[1])
                if found is None:
                    unknown.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.args[1])}")
                else:
                    actions.update(found)
    return actions, unknown


def _machines() -> list[StateMachine]:
    found = []
    for path in (ROOT / "models").rglob("machine.py"):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        found += [value for value in vars(module).values() if isinstance(value, StateMachine)]
    found += [vars(importlib.import_module("models.notifications.broadcasts"))["BROADCAST_MACHINE"]]
    return found


# Written by a variable or by the kernel's own default (covered by the machines below), each
# checked by its own line of this test.
KNOWN_INDIRECT = {
    "models/stations/actions.py",  # action = "station.activate" if active else "station.deactivate"
    "models/kernel/machine.py",
    "models/unions/reasons.py",  # record(actor, action, ...) inside its _audit, whose callers are read
}


def test_every_written_action_has_a_label() -> None:
    actions, unknown = _written_in_source()
    assert "staff.disable" in actions and "enrolment.reveal_id" in actions  # the scan finds them
    assert [u for u in unknown if u.split(":")[0] not in KNOWN_INDIRECT] == []
    actions |= {"station.activate", "station.deactivate"}
    for machine in _machines():
        actions |= {f"{machine.case_type}.{name}" for name, step in machine.moves.items() if "staff" in step.by}
    # Membership steps name their audit action by the change's kind (models/membership/actions.py).
    actions |= {
        f"membership.{kind.value}_{what}" for kind in ChangeKind for what in ("requested", "approved", "rejected")
    }
    assert sorted(a for a in actions if a not in ACTION_LABELS) == []


def test_the_machines_are_found() -> None:
    assert {m.case_type for m in _machines()} >= {"enrolment", "warm_request", "service_order", "broadcast"}


def test_an_unknown_action_shows_as_written() -> None:
    assert action_label("staff.disable") == "停用账号"
    assert action_label("something.new") == "something.new"
