"""The remittances of account defects and edge cases: a denied claim, an underpaid one, a
line cut just inside or outside the underpayment tolerance, an 835 that does not balance."""

from __future__ import annotations

import random
from dataclasses import replace

from billops.synth.model import Adjustment, RemitClaim, RemitLine


def _copies(adjustments: list[Adjustment]) -> list[Adjustment]:
    return [Adjustment(group=a.group, reason=a.reason, amount=a.amount) for a in adjustments]


def _add_contractual(adjustments: list[Adjustment], cents: int) -> None:
    """Move ``cents`` into the line's CO-45 (a new one first if it has none)."""
    co = next((a for a in adjustments if a.group == "CO" and a.reason == "45"), None)
    if co is None:
        adjustments.insert(0, Adjustment(group="CO", reason="45", amount=cents))
    else:
        co.amount += cents


def _with_lines(remit: RemitClaim, lines: list[RemitLine]) -> RemitClaim:
    return RemitClaim(claim=remit.claim, status=remit.status, icn=remit.icn, lines=lines)


def cut_line(remit: RemitClaim, cents: int) -> RemitClaim | None:
    """The payer prices one paid line ``cents`` below the contract (CO-45): the line paying
    the most, if it pays that much."""
    i = max(range(len(remit.lines)), key=lambda k: (remit.lines[k].paid, -k))
    if remit.lines[i].paid <= cents:
        return None
    lines = list(remit.lines)
    ln = lines[i]
    adjustments = _copies(ln.adjustments)
    _add_contractual(adjustments, cents)
    lines[i] = replace(
        ln, paid=ln.paid - cents, allowed=ln.allowed - cents, adjustments=adjustments
    )
    return _with_lines(remit, lines)


def deny(remit: RemitClaim, reason: str) -> RemitClaim:
    """The remittance of a denied claim: nothing paid, every line adjusted CO-<reason>."""
    lines = [
        RemitLine(
            charge=ln.charge,
            charge_amount=ln.charge_amount,
            paid=0,
            allowed=0,
            adjustments=[Adjustment(group="CO", reason=reason, amount=ln.charge_amount)],
        )
        for ln in remit.lines
    ]
    return RemitClaim(claim=remit.claim, status="4", icn=remit.icn, lines=lines)


def underpay(rng: random.Random, remit: RemitClaim) -> tuple[RemitClaim, int]:
    """The payer prices below contract: a cut of every paid line moves into CO-45."""
    cut = rng.uniform(0.10, 0.25)
    lines, short = [], 0
    for ln in remit.lines:
        less = int(ln.paid * cut)
        adjustments = _copies(ln.adjustments)
        if less:
            _add_contractual(adjustments, less)
        lines.append(
            replace(ln, paid=ln.paid - less, allowed=ln.allowed - less, adjustments=adjustments)
        )
        short += less
    return _with_lines(remit, lines), short


def unbalance(remit: RemitClaim) -> tuple[RemitClaim, int] | None:
    """The 835 as the payer sent it: the CO-45 of the costliest adjusted line is missing."""
    candidates = [
        i
        for i, ln in enumerate(remit.lines)
        if any(a.group == "CO" and a.reason == "45" for a in ln.adjustments)
    ]
    if remit.status != "1" or not candidates:
        return None
    i = max(candidates, key=lambda k: (remit.lines[k].charge_amount, -k))
    ln = remit.lines[i]
    dropped = next(a for a in ln.adjustments if a.group == "CO" and a.reason == "45")
    lines = list(remit.lines)
    lines[i] = replace(ln, adjustments=[a for a in ln.adjustments if a is not dropped])
    return _with_lines(remit, lines), dropped.amount
