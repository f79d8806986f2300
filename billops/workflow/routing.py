"""Routing as data: which queue works an exception, its service level and where it escalates.

The table is a versioned file in the repository (``data/routing_rules.csv``): ``rule_id``,
``exception_type``, ``entity``, ``payer_id`` (each a value or ``*``), ``min_amount`` (inclusive)
and ``max_amount`` (exclusive; either empty = unbounded) on ``amount_at_risk`` (a missing amount
counts as 0), ``queue``, ``sla_business_hours`` and ``escalation_queue`` (taxonomy.OWNER_TEAMS).
:func:`load_routing` validates a file and loads it into the store as a new version (keyed by the
SHA-256 of its content), audited with the versions before and after; the sync routes new and
reopened items by the latest version. Changing a rule is editing the file and loading it.

The most specific matching rule wins: the one with the most keys that are not ``*``; between
equally many, a specific exception type beats a specific payer, which beats a specific entity.
Rules on the same three keys may not have overlapping amount bands, so two rules never tie, and
every exception type must be routable whatever its entity, payer and amount.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from billops import ops_store
from billops.config import Settings
from billops.errors import BillopsError
from billops.taxonomy import EXCEPTION_TYPES, OWNER_TEAMS
from billops.workflow.tables import routing_rules, routing_versions

DEFAULT_FILE = Path(__file__).parent / "data" / "routing_rules.csv"
WILDCARD = "*"
COLUMNS = ("rule_id", "exception_type", "entity", "payer_id", "min_amount", "max_amount",
           "queue", "sla_business_hours", "escalation_queue")


@dataclass(frozen=True)
class RoutingFacts:
    """What routing looks at (never a patient)."""

    exception_type: str
    entity: str | None = None
    payer_id: str | None = None
    amount_at_risk: Decimal | None = None


@dataclass(frozen=True)
class Route:
    queue: str
    sla_business_hours: float
    escalation_queue: str
    rule_id: str


@dataclass(frozen=True)
class Rule:
    rule_id: str
    exception_type: str
    entity: str
    payer_id: str
    min_amount: Decimal | None
    max_amount: Decimal | None
    queue: str
    sla_business_hours: float
    escalation_queue: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.exception_type, self.entity, self.payer_id)

    @property
    def specificity(self) -> tuple[int, bool, bool, bool]:
        typed, payer, entity = (v != WILDCARD for v in
                                (self.exception_type, self.payer_id, self.entity))
        return (typed + payer + entity, typed, payer, entity)

    def in_band(self, amount: Decimal) -> bool:
        return ((self.min_amount is None or amount >= self.min_amount)
                and (self.max_amount is None or amount < self.max_amount))

    def matches(self, facts: RoutingFacts) -> bool:
        return (self.exception_type in (WILDCARD, facts.exception_type)
                and self.entity in (WILDCARD, facts.entity)
                and self.payer_id in (WILDCARD, facts.payer_id)
                and self.in_band(facts.amount_at_risk or Decimal(0)))


@dataclass(frozen=True)
class RoutingVersion:
    version_id: int
    sha256: str
    rules: tuple[Rule, ...]
    loaded: bool  # False when the content was already the current version


def route(facts: RoutingFacts, rules: tuple[Rule, ...] | list[Rule]) -> Route:
    """The route of the most specific matching rule."""
    matching = [rule for rule in rules if rule.matches(facts)]
    if not matching:
        raise BillopsError(f"routing: no rule matches exception type {facts.exception_type}")
    best = max(matching, key=lambda rule: rule.specificity)
    return Route(best.queue, best.sla_business_hours, best.escalation_queue, best.rule_id)


# ----------------------------------------------------------------------------- parsing


def _amount(text: str, where: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise BillopsError(f"{where}: amount {text[:20]!r} is not a number") from None


def _rule(row: dict[str, str], where: str) -> Rule:
    values = {k: (row.get(k) or "").strip() for k in COLUMNS}
    try:
        sla = float(values["sla_business_hours"])
    except ValueError:
        raise BillopsError(f"{where}: sla_business_hours {values['sla_business_hours'][:20]!r} "
                           "is not a number") from None
    return Rule(values["rule_id"], values["exception_type"], values["entity"] or WILDCARD,
                values["payer_id"] or WILDCARD, _amount(values["min_amount"], where),
                _amount(values["max_amount"], where), values["queue"], sla,
                values["escalation_queue"])


def parse_rules(text: str, source: str) -> tuple[Rule, ...]:
    """The rules of a routing file, validated (one-line error naming the line otherwise)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise BillopsError(f"{source}: routing file lacks column(s) {', '.join(missing)}")
    rules = tuple(_rule(row, f"{source} line {n}") for n, row in enumerate(reader, start=2))
    validate(rules, source)
    return rules


def _check_rule(rule: Rule, source: str) -> None:
    where = f"{source} rule {rule.rule_id or '(empty id)'}"
    if not rule.rule_id:
        raise BillopsError(f"{where}: rule_id is empty")
    if rule.exception_type not in (WILDCARD, *EXCEPTION_TYPES):
        raise BillopsError(f"{where}: exception_type {rule.exception_type!r} is not a known type")
    for name in ("queue", "escalation_queue"):
        if getattr(rule, name) not in OWNER_TEAMS:
            raise BillopsError(f"{where}: {name} {getattr(rule, name)!r} is not one of "
                               f"{', '.join(sorted(OWNER_TEAMS))}")
    if not rule.sla_business_hours > 0:
        raise BillopsError(f"{where}: sla_business_hours must be above 0")
    if None not in (rule.min_amount, rule.max_amount) and rule.min_amount >= rule.max_amount:  # type: ignore[operator]
        raise BillopsError(f"{where}: min_amount must be below max_amount")


def _bands_in_order(rules: list[Rule]) -> list[Rule]:
    return sorted(rules, key=lambda r: (r.min_amount is not None, r.min_amount or 0))


def _check_no_overlap(rules: tuple[Rule, ...], source: str) -> None:
    by_key: dict[tuple[str, str, str], list[Rule]] = {}
    for rule in rules:
        by_key.setdefault(rule.key, []).append(rule)
    for same_key in by_key.values():
        ordered = _bands_in_order(same_key)
        for lower, upper in itertools.pairwise(ordered):
            if lower.max_amount is None or upper.min_amount is None \
                    or upper.min_amount < lower.max_amount:
                raise BillopsError(f"{source}: rules {lower.rule_id} and {upper.rule_id} have "
                                   "overlapping amount bands on the same keys")


def _covers_every_amount(rules: list[Rule]) -> bool:
    reached: Decimal | None = None  # every amount below this is covered; None: nothing yet
    for rule in _bands_in_order(rules):
        if reached is None:
            if rule.min_amount is not None:
                return False
        elif rule.min_amount is not None and rule.min_amount > reached:
            return False
        if rule.max_amount is None:
            return True
        reached = rule.max_amount if reached is None else max(reached, rule.max_amount)
    return False


def validate(rules: tuple[Rule, ...], source: str) -> None:
    """Known types and queues, unique ids, no overlapping bands, every type routable."""
    ids = [rule.rule_id for rule in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise BillopsError(f"{source}: rule_id {duplicates[0]} appears more than once")
    for rule in rules:
        _check_rule(rule, source)
    _check_no_overlap(rules, source)
    for etype in EXCEPTION_TYPES:
        catch_all = [r for r in rules if r.exception_type in (WILDCARD, etype)
                     and r.entity == WILDCARD and r.payer_id == WILDCARD]
        if not _covers_every_amount(catch_all):
            raise BillopsError(f"{source}: exception type {etype} is not routable for every "
                               "entity, payer and amount (add a rule with entity and payer *)")


# ----------------------------------------------------------------------------- the store


def _current(con: sa.Connection) -> tuple[int, str] | None:
    row = con.execute(sa.select(routing_versions.c.version_id, routing_versions.c.sha256)
                      .order_by(routing_versions.c.version_id.desc()).limit(1)).first()
    return (int(row.version_id), str(row.sha256)) if row else None


def current_rules(con: sa.Connection) -> tuple[int, tuple[Rule, ...]] | None:
    """The latest loaded version and its rules, or None before the first load."""
    current = _current(con)
    if current is None:
        return None
    rows = con.execute(sa.select(routing_rules).where(routing_rules.c.version_id == current[0])
                       .order_by(routing_rules.c.rule_id)).all()
    return current[0], tuple(
        Rule(**{k: v for k, v in r._mapping.items() if k != "version_id"}) for r in rows)


def _store(con: sa.Connection, rules: tuple[Rule, ...], digest: str, source: str, actor: str,
           channel: str) -> RoutingVersion:
    before = _current(con)
    if before is not None and before[1] == digest:
        return RoutingVersion(before[0], digest, rules, loaded=False)
    version_id = int(con.execute(sa.insert(routing_versions).values(
        sha256=digest, source=source[-255:], rules=len(rules), loaded_at=ops_store._now(),
        loaded_by=actor)).inserted_primary_key[0])
    con.execute(sa.insert(routing_rules), [{"version_id": version_id, **asdict(r)} for r in rules])
    ops_store.append_audit(con, ops_store.AuditEvent(
        "routing_versions", str(version_id), "LOAD", actor, channel=channel, outcome="LOADED",
        before={"version": before[0], "sha256": before[1]} if before else None,
        after={"version": version_id, "sha256": digest, "rules": len(rules)},
        detail={"source": Path(source).name}))
    return RoutingVersion(version_id, digest, rules, loaded=True)


def _read(path: Path) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BillopsError(f"{path}: cannot read the routing file ({exc.strerror})") from exc
    return data.decode("utf-8-sig"), hashlib.sha256(data).hexdigest()


def load_routing_in(con: sa.Connection, path: Path | None = None, *, actor: str,
                    channel: str) -> RoutingVersion:
    """:func:`load_routing` inside the caller's write transaction."""
    path = Path(path or DEFAULT_FILE)
    text, digest = _read(path)
    return _store(con, parse_rules(text, str(path)), digest, str(path), actor, channel)


def load_routing(path: Path | str | None = None, *, actor: str, channel: str,
                 settings: Settings | None = None) -> RoutingVersion:
    """Validate a routing file and make it the current version (a no-op when it already is)."""
    if not (actor or "").strip():
        raise BillopsError("loading routing rules needs the actor (--by)")
    return ops_store.write(
        lambda con: load_routing_in(con, Path(path) if path else None, actor=actor,
                                    channel=channel), settings)


def show_routing(settings: Settings | None = None) -> dict[str, Any]:
    """The current version and its rules, JSON-friendly (empty before the first load)."""
    with ops_store.read(settings) as con:
        current, digest = current_rules(con), _current(con)
    if current is None or digest is None:
        return {"version": None, "sha256": None, "rules": []}
    return {"version": current[0], "sha256": digest[1],
            "rules": [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(r).items()}
                      for r in current[1]]}
