"""Review tiers: who may move an annotation to which status.

The path is **self-check → peer review → senior audit**::

    draft ──▶ submitted / self_checked ──▶ peer_reviewed ──▶ approved
                  ▲                              │               │
                  └──────────── rejected ◀───────┴───────────────┘

* the annotation's owner (any role) submits, self-checks or withdraws to draft;
* a ``reviewer`` or ``admin`` who is *not* the owner peer-reviews or rejects;
* only an ``admin`` approves (the senior audit), and only after a peer review;
* once approved, only an admin may change the annotation.

Every transition is stored as a review record with an optional comment
(``Session.reviews``), in the same transaction as the status change.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.errors import PermissionDeniedError, ValidationError

__all__ = ["TRANSITIONS", "Transition", "check_transition"]


@dataclass(frozen=True)
class Transition:
    """Moving to ``to`` from one of ``sources``, by whom."""

    to: str
    sources: frozenset[str]
    roles: frozenset[str]
    owner: bool | None  # True: only the owner; False: never the owner; None: anyone


TRANSITIONS: dict[str, Transition] = {
    t.to: t
    for t in (
        Transition(
            "submitted",
            frozenset({"draft", "rejected"}),
            frozenset({"annotator", "reviewer", "admin"}),
            True,
        ),
        Transition(
            "self_checked",
            frozenset({"draft", "submitted", "rejected"}),
            frozenset({"annotator", "reviewer", "admin"}),
            True,
        ),
        Transition(
            "draft",
            frozenset({"submitted", "self_checked", "rejected"}),
            frozenset({"annotator", "reviewer", "admin"}),
            True,
        ),
        Transition(
            "peer_reviewed",
            frozenset({"submitted", "self_checked"}),
            frozenset({"reviewer", "admin"}),
            False,
        ),
        Transition(
            "rejected",
            frozenset({"submitted", "self_checked", "peer_reviewed", "approved"}),
            frozenset({"reviewer", "admin"}),
            False,
        ),
        Transition("approved", frozenset({"peer_reviewed"}), frozenset({"admin"}), None),
    )
}


def check_transition(current: str, to: str, *, role: str, is_owner: bool, where: str) -> None:
    """Raise unless ``role`` (owner or not) may move an annotation ``current`` → ``to``."""
    rule = TRANSITIONS.get(to)
    if rule is None:
        raise ValidationError(f"{where}.status", f"one of {sorted(TRANSITIONS)}", to)
    if role not in rule.roles:
        raise PermissionDeniedError(
            f"{where}.status", f"a role among {sorted(rule.roles)} to set {to!r}", role
        )
    if rule.owner is True and not is_owner:
        raise PermissionDeniedError(
            f"{where}.status", f"the annotation's owner to set {to!r}", "someone else"
        )
    if rule.owner is False and is_owner:
        raise PermissionDeniedError(
            f"{where}.status",
            f"someone other than the owner to set {to!r} (no self-review)",
            "the owner",
        )
    if current not in rule.sources:
        raise ValidationError(
            f"{where}.status", f"a move to {to!r} from {sorted(rule.sources)}", f"{current} → {to}"
        )
