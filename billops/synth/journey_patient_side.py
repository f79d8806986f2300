"""The patient side: after the (last) remittance, what the patient owes is refunded, closed,
written off or billed by statement until paid; an uninsured patient is billed by statement."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from billops.synth import defects
from billops.synth.clock import at, later, office_time
from billops.synth.defect_hooks import stale_coverage, unapproved_write_off
from billops.synth.draw import pick, rint
from billops.synth.journey_encounter import Encounter, PatientBehaviour
from billops.synth.model import Account, ClaimEvent, PatientPayment, Statement, WriteOff
from billops.synth.pricing import payment_times
from billops.synth.simulation_state import SimulationState
from billops.synth.staff import BILLERS, SUPERVISORS

SMALL_BALANCE = 500  # cents: balances below this are written off instead of billed


def _event(
    account: Account, event_type: str, ts: datetime, actor: str, queue: str, detail: str
) -> ClaimEvent:
    return ClaimEvent(
        claim_id=account.id, event_type=event_type, ts=ts, actor=actor, queue=queue, detail=detail
    )


def _closed(account: Account, ts: datetime) -> ClaimEvent:
    return _event(account, "CLOSED", ts, "system", "BILLING", "zero balance")


def _payment(account: Account, amount: int, received_at: datetime, method: str) -> PatientPayment:
    return PatientPayment(
        id="",
        patient_id=account.patient.id,
        account_id=account.id,
        entity=account.entity,
        amount=amount,
        received_at=received_at,
        method=method,
    )


def patient_side(sim: SimulationState, enc: Encounter, b: PatientBehaviour) -> None:
    """Post the remittances, then settle what the patient owes."""
    account, kind, collected = enc.account, enc.kind, enc.copay_owed
    _post_remits(sim, account)
    last = account.remits[-1]
    _, posted = payment_times(sim.ref, last.claim.payer, account.entity, account.remit_dates[-1])
    if last.status == "4":
        if kind == defects.WRITE_OFF_UNAPPROVED:
            write_off = unapproved_write_off(
                enc.drng, account, posted, sim.seed, sim.rates, BILLERS
            )
            sim.world.write_offs.append(write_off)
            sim.world.claim_events.append(
                _event(
                    account,
                    "WRITTEN_OFF",
                    write_off.at,
                    write_off.created_by,
                    "BILLING",
                    "denied balance write-off",
                )
            )
        return
    balance = account.patient_responsibility - collected
    if balance < 0:
        _credit(sim, enc, posted, balance)
    elif balance == 0:
        sim.world.claim_events.append(_closed(account, posted + timedelta(minutes=1)))
    elif balance < SMALL_BALANCE:
        _small_balance(sim, enc.rng, account, posted, balance)
    else:
        _statements(sim, enc, b, posted, balance)


def _post_remits(sim: SimulationState, account: Account) -> None:
    ev = sim.world.claim_events
    for remit, day in zip(account.remits, account.remit_dates, strict=True):
        _, posted = payment_times(sim.ref, remit.claim.payer, account.entity, day)
        ev.append(
            _event(
                account,
                "PAYMENT_POSTED",
                posted,
                "era-autopost",
                "CASH_POSTING",
                f"CLP02 {remit.status}",
            )
        )
        if remit.status == "4":  # denied: worked by the denials team, AR stays open
            reason = remit.lines[0].adjustments[0].reason
            ev.append(
                _event(
                    account,
                    "DENIED",
                    posted,
                    "era-autopost",
                    "DENIALS",
                    f"claim denied CO-{reason}",
                )
            )


def _credit(sim: SimulationState, enc: Encounter, posted: datetime, balance: int) -> None:
    account, w = enc.account, sim.world
    if enc.kind == defects.CREDIT_BALANCE:  # the over-collected copay is never refunded
        w.defects.append(defects.account_truth(enc.kind, account, posted, -balance))
        return
    # refunded when the remittance is posted, so no credit balance outlives a batch
    refunded = later(enc.rng, posted, 30, 240)
    w.patient_payments.append(_payment(account, balance, refunded, "REFUND_CHECK"))
    w.claim_events.append(
        _event(
            account,
            "REFUNDED",
            refunded,
            pick(enc.rng, SUPERVISORS),
            "CASH_POSTING",
            "patient credit balance refunded",
        )
    )
    w.claim_events.append(_closed(account, refunded))


def _small_balance(
    sim: SimulationState, rng: random.Random, account: Account, posted: datetime, balance: int
) -> None:
    wo_at = office_time(rng, posted.date() + timedelta(days=rint(rng, 1, 2)))
    sim.world.write_offs.append(
        WriteOff(
            account_id=account.id,
            entity=account.entity,
            amount=balance,
            at=wo_at,
            approved_by=pick(rng, SUPERVISORS),
            reason="small balance",
        )
    )
    sim.world.claim_events.append(
        _event(
            account, "WRITTEN_OFF", wo_at, pick(rng, BILLERS), "BILLING", "small balance write-off"
        )
    )
    sim.world.claim_events.append(_closed(account, wo_at))


def _statements(
    sim: SimulationState, enc: Encounter, b: PatientBehaviour, posted: datetime, balance: int
) -> None:
    """Up to three monthly statements until the balance is paid."""
    rng, drng, kind, account, collected = enc.rng, enc.drng, enc.kind, enc.account, enc.copay_owed
    w, p = sim.world, account.patient
    statement_day = posted.date() + timedelta(days=b.statement_lag)
    stale = None
    if kind == defects.STATEMENT_STALE_COVERAGE:
        stale = stale_coverage(drng, account, posted)
    owed = balance
    for cycle in range(3):
        sent = at(statement_day, 18)
        due = owed
        if cycle == 0 and kind == defects.PATIENT_BALANCE_MISMATCH and collected:
            due = owed + collected  # the check-in copay was not applied
        member = p.successor.member_id if p.successor else p.member_id_at(sent)
        if cycle == 0 and stale is not None:
            member = stale
        statement = Statement(
            id="",
            patient_id=p.id,
            account_id=account.id,
            statement_date=statement_day,
            sent_at=sent,
            amount_due=due,
            payer_id=p.payer.id,
            member_id=member,
        )
        w.statements.append(statement)  # numbers it
        if due != owed or (cycle == 0 and stale is not None):
            row = defects.account_truth(kind or "", account, sent, abs(due - owed) or due)
            row.key = row.statement_id = statement.id
            w.defects.append(row)
        pays = b.pays_on_cycle(cycle)
        if pays:
            amount = owed if pays == "full" else owed // 2
            paid_at = office_time(rng, statement_day + timedelta(days=b.pay_lag[cycle]), 7, 20)
            w.patient_payments.append(_payment(account, amount, paid_at, b.method))
            owed -= amount
            if owed == 0 and kind == defects.CREDIT_BALANCE:
                # the same statement paid a second time, another way, days later
                again = office_time(drng, paid_at.date() + timedelta(days=rint(drng, 2, 9)), 7, 20)
                method = "ONLINE" if b.method != "ONLINE" else "CHECK"
                w.patient_payments.append(_payment(account, amount, again, method))
                w.defects.append(defects.account_truth(kind, account, again, amount))
                return
            if owed == 0:
                w.claim_events.append(_closed(account, paid_at))
                return
        statement_day += timedelta(days=30)


def self_pay(sim: SimulationState, rng: random.Random, account: Account) -> None:
    """An uninsured patient: no claim, statements for the charges until they are paid."""
    w, p = sim.world, account.patient
    sim.done.append(account)
    b = PatientBehaviour.draw(rng)
    owed = sum(c.amount for c in account.charges)
    day = max(c.entered_at for c in account.charges).date() + timedelta(days=b.statement_lag)
    for cycle in range(3):
        sent = at(day, 18)
        w.statements.append(
            Statement(
                id="",
                patient_id=p.id,
                account_id=account.id,
                statement_date=day,
                sent_at=sent,
                amount_due=owed,
                payer_id=p.payer.id,
                member_id=p.member_id_at(sent),
            )
        )
        pays = b.pays_on_cycle(cycle)
        if pays:
            amount = owed if pays == "full" else owed // 2
            paid_at = office_time(rng, day + timedelta(days=b.pay_lag[cycle]), 7, 20)
            w.patient_payments.append(_payment(account, amount, paid_at, b.method))
            owed -= amount
            if owed == 0:
                w.claim_events.append(_closed(account, paid_at))
                return
        day += timedelta(days=30)
