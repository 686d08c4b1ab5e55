"""``check_invariants``: what must hold for every calculation, whatever the program says.

Use it in your own property tests: generate a case, calculate, check. A violation names the rule
and the line, so a shrunk hypothesis example reads like a bug report.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

from ..engine import calculate
from ..errors import LoyaltyError
from ..model import Member, Order
from ..money import CONTEXT, Money
from ..program.program import Program
from ..result import CalculatedOrder, Status


class InvariantViolation(LoyaltyError, AssertionError):
    """A calculation broke a rule that no program may break."""

    def __init__(self, rule: str, where: str, detail: str) -> None:
        self.rule, self.where, self.detail = rule, where, detail
        super().__init__(f"{rule} broken at {where}: {detail}")


def check_invariants(
    program: Program, order: Order, member: Member | None, result: CalculatedOrder
) -> None:
    """Raise ``InvariantViolation`` for the first broken rule; return quietly when all hold."""
    with localcontext(CONTEXT):  # sums of points: the library's context, not the caller's
        _prices(program, result)
        _totals(order, result)
        _points(program, member, result)
        _trace(program, result)
    again = calculate(program, order, member, now=result.now)
    if again != result or repr(again) != repr(result):
        raise InvariantViolation("determinism", "the order", "a second calculation differs")


def _prices(program: Program, result: CalculatedOrder) -> None:
    uniform = program.settings.indivisible == "keep_uniform"
    spent = 0
    for out in result.lines:
        line, where = out.line, f"line {out.line.external_id!r}"
        base, final = out.base_total.minor, out.final_total.minor
        floor = line.min_price_per_item.minor * line.count
        if not floor <= final <= base:
            raise InvariantViolation(
                "price within [min, base]",
                where,
                f"final total {out.final_total} outside [{floor}, {base}] minor",
            )
        if uniform and final % line.count:
            raise InvariantViolation("uniform price", where, f"{out.final_total} / {line.count}")
        reported = sum(a.amount.minor for a in out.applied if a.amount is not None)
        if reported != base - final:
            raise InvariantViolation(
                "reported = real difference",
                where,
                f"reported {reported} minor, prices moved {base - final}",
            )
        spent += sum(a.amount.minor for a in out.applied if a.type == "discount" and a.amount)
    spent += sum(a.amount.minor for a in result.applied if a.type == "discount" and a.amount)
    share = program.settings.max_discount_percent
    if share is not None:
        num, den = share.as_integer_ratio()
        budget = result.total_price.minor * num // (100 * den)
        if spent > budget:
            raise InvariantViolation("max discount share", "the order", f"{spent} > {budget} minor")


def _totals(order: Order, result: CalculatedOrder) -> None:
    lines = sum(out.final_total.minor for out in result.lines)
    if Money.of_minor(lines, order.currency) != result.final_total_price:
        raise InvariantViolation("Σ lines = order total", "the order", f"{lines} minor")
    if result.total_price.minor != sum(x.base_price_per_item.minor * x.count for x in order.lines):
        raise InvariantViolation("total = Σ base × count", "the order", str(result.total_price))
    delivery_off = sum(a.amount.minor for a in result.applied if a.amount is not None)
    if order.delivery_cost.minor - result.delivery_cost.minor != delivery_off:
        raise InvariantViolation("reported = real difference", "the delivery", str(delivery_off))
    if result.delivery_cost.minor < 0:
        raise InvariantViolation("price within [min, base]", "the delivery", "negative")


def _points(program: Program, member: Member | None, result: CalculatedOrder) -> None:
    every = [*result.applied, *(a for out in result.lines for a in out.applied)]
    for summary in result.points:
        eid, where = summary.currency.eid, f"points {summary.currency.eid!r}"
        accrued = sum(
            a.points or 0
            for a in every
            if a.type == "accrue_points" and a.currency and a.currency.eid == eid
        )
        redeemed = [
            a for a in every if a.type == "redeem_points" and a.currency and a.currency.eid == eid
        ]
        if summary.accrued < 0 or accrued != summary.accrued:
            raise InvariantViolation(
                "accrual adds up and is not negative",
                where,
                f"lines {accrued}, summary {summary.accrued}",
            )
        if sum(a.points or 0 for a in redeemed) != summary.redeemed:
            raise InvariantViolation("redemption adds up", where, str(summary.redeemed))
        if member is None and (summary.accrued or summary.redeemed):
            raise InvariantViolation("guests get no points", where, "points moved")
        active = member.balance(eid).active if member else Decimal(0)
        if summary.redeemed > min(summary.requested, max(active, Decimal(0))):
            raise InvariantViolation(
                "redeemed ≤ min(requested, balance)",
                where,
                f"{summary.redeemed} of {summary.requested}, balance {active}",
            )
        if summary.status is Status.SUCCESS and summary.redeemed != summary.requested:
            raise InvariantViolation("success means all requested", where, str(summary.redeemed))
        rate = Fraction(summary.currency.redeem_rate)
        for applied in redeemed:
            value = Fraction(applied.points or 0) * rate
            if applied.amount is None or Fraction(applied.amount.amount) != value:
                raise InvariantViolation(
                    "points × rate = money taken",
                    where,
                    f"{applied.points} × {rate} vs {applied.amount}",
                )


def _trace(program: Program, result: CalculatedOrder) -> None:
    keys = [(t.type, t.external_id) for t in result.trace]
    if keys != [p.key for p in program.promotions]:
        raise InvariantViolation(
            "one trace entry per promotion", "the trace", f"{len(keys)} entries"
        )
    applied = {(a.type, a.external_id) for out in result.lines for a in out.applied}
    applied |= {(a.type, a.external_id) for a in result.applied}
    for entry in result.trace:
        if (entry.type, entry.external_id) in applied and not entry.applied:
            raise InvariantViolation(
                "trace agrees with results", entry.external_id, entry.reason.value
            )
