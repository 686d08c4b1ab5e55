"""Who wins when promotions compete: the program's groups form an evaluation tree.

How this works: promotions without a group sit in the root group (the program's ``settings``);
groups nest through ``parent``. Members of a group (promotions and subgroups) are taken by
``priority``, higher first, ties by id. A ``stack`` group applies every member in turn
(``stop_after`` ends the group early). Any other choice runs each member as a *trial* on a copy
of the cart and lets a ``Picker`` choose one winner, per order or per line (``scope``). Pickers
are a protocol: ``priority`` (the first that gives anything), ``best_for_customer``,
``best_for_merchant``, or one the caller plugs in by name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Protocol

import attrs

from .errors import RuleError
from .pipeline.cart import Cart
from .program.program import ROOT, Program
from .program.promotion import Group, Promotion
from .result import Reason


@attrs.frozen
class Option:
    """One competitor as a picker sees it: ``benefit`` in minor units of the order currency.

    A discount's benefit is the money it takes off; an accrual's is what its points would pay
    for at their currency's ``redeem_rate``, so points of any precision and currency compare.
    """

    id: str
    priority: int
    benefit: Fraction


class Picker(Protocol):
    """Chooses the winner among options (given in priority order); ``None`` when none wins."""

    def pick(self, options: Sequence[Option]) -> int | None: ...


class FirstByPriority:
    """The first option that gives anything (commercetools / Talon.One list order)."""

    def pick(self, options: Sequence[Option]) -> int | None:
        return next((i for i, o in enumerate(options) if o.benefit > 0), None)


class BestForCustomer:
    """The largest benefit; ties go to the higher priority (Talon.One highestDiscount)."""

    def pick(self, options: Sequence[Option]) -> int | None:
        best = max(range(len(options)), key=lambda i: (options[i].benefit, -i), default=None)
        return best if best is not None and options[best].benefit > 0 else None


class BestForMerchant:
    """The smallest benefit that is still a benefit; ties go to the higher priority."""

    def pick(self, options: Sequence[Option]) -> int | None:
        given = [i for i, o in enumerate(options) if o.benefit > 0]
        return min(given, key=lambda i: (options[i].benefit, i), default=None)


PICKERS: Mapping[str, Picker] = {
    "priority": FirstByPriority(),
    "best_for_customer": BestForCustomer(),
    "best_for_merchant": BestForMerchant(),
}


class Stage(Protocol):
    """A pipeline stage the tree can drive: it applies one promotion to the cart."""

    @property
    def types(self) -> tuple[str, ...]: ...

    @property
    def scale(self) -> int:
        """The stage's gains are in 1/scale minor units of the order currency."""
        ...

    def apply(self, promotion: Promotion, cart: Cart, basis: Sequence[int]) -> None: ...

    def within_limits(self, cart: Cart) -> bool: ...

    def summary(self, promotion: Promotion, cart: Cart) -> str:
        """What ``promotion`` gives in ``cart`` as it stands, for the trace."""
        ...


Member = Promotion | Group


@attrs.frozen
class _Checked:
    """A plugged-in picker must answer with one of the options, or ``None``."""

    name: str
    picker: Picker

    def pick(self, options: Sequence[Option]) -> int | None:
        winner = self.picker.pick(options)
        if winner is not None and (
            isinstance(winner, bool)
            or not isinstance(winner, int)
            or not 0 <= winner < len(options)
        ):
            raise RuleError(f"picker {self.name!r} answered {winner!r} for {len(options)} options")
        return winner


TREES = 1024  # candidate sets whose tree a program keeps: a cache, bounded, never evicted


@attrs.frozen
class Tree:
    """The program's groups and promotions as an evaluation tree, members in priority order."""

    program: Program
    children: Mapping[str, tuple[Member, ...]]

    @classmethod
    def of(cls, program: Program, promotions: Sequence[Promotion]) -> Tree:
        """The tree of ``promotions`` (an order's candidates) and of the groups holding them;
        kept on the program for the next order with the same candidates (``TREES`` of them)."""
        trees = program.plans.setdefault(cls, {})
        assert isinstance(trees, dict)
        key = tuple(promotion.key for promotion in promotions)
        tree = trees.get(key)
        if tree is None:
            tree = cls._build(program, promotions)
            if len(trees) < TREES:
                trees[key] = tree
        assert isinstance(tree, Tree)
        return tree

    @classmethod
    def _build(cls, program: Program, promotions: Sequence[Promotion]) -> Tree:
        children: dict[str, list[Member]] = {ROOT: []}
        placed: set[str] = set()
        for promotion in promotions:
            children.setdefault(promotion.group or ROOT, []).append(promotion)
            group_id = promotion.group
            while group_id is not None and group_id not in placed:
                placed.add(group_id)
                group = program.group(group_id)
                children.setdefault(group.parent or ROOT, []).append(group)
                group_id = group.parent
        ordered = {key: tuple(sorted(kids, key=lambda m: m.rank)) for key, kids in children.items()}
        return cls(program, ordered)

    def promotions(self, member: Member, types: tuple[str, ...]) -> Iterator[Promotion]:
        """Every promotion of ``types`` in ``member``'s subtree, in evaluation order."""
        if isinstance(member, Promotion):
            if member.type in types:
                yield member
            return
        for child in self.children.get(member.id, ()):
            yield from self.promotions(child, types)


def _name(member: Member) -> str:
    return member.external_id if isinstance(member, Promotion) else f"group {member.id}"


def check_pickers(program: Program, pickers: Mapping[str, Picker]) -> None:
    """Fail before calculating when a group names a choice nobody plugged in."""
    missing = sorted(program.custom_choices - set(pickers) - {"stack"})
    if missing:
        raise RuleError(f"no picker plugged in for arbitration choice(s) {missing}")


@attrs.frozen
class Arbiter:
    """Drives one stage through the tree."""

    tree: Tree
    stage: Stage
    pickers: Mapping[str, Picker]
    # group id → (rank, external id) of the promotion whose stop_after ended that stack group:
    # what the trace of a promotion the index ruled out needs to know
    stoppers: dict[str, tuple[tuple[int, str], str]] = attrs.Factory(dict)

    def run(self, cart: Cart) -> Cart:
        return self._group(self.tree.program.group(ROOT), cart)

    def _members(self, group: Group) -> list[Member]:
        types = self.stage.types
        return [
            m for m in self.tree.children.get(group.id, ())
            if (m.type in types if isinstance(m, Promotion)
                else any(True for _ in self.tree.promotions(m, types)))
        ]  # fmt: skip

    def _member(self, member: Member, cart: Cart, basis: Sequence[int] | None) -> Cart:
        if isinstance(member, Group):
            return self._group(member, cart)
        self.stage.apply(member, cart, cart.totals if basis is None else basis)
        return cart

    def _group(self, group: Group, cart: Cart) -> Cart:
        members = self._members(group)
        if not members:  # nothing of this stage here: no picker is asked to choose from nothing
            return cart
        basis = list(cart.totals) if group.compounding == "on_base" else None
        if group.choice == "stack":
            return self._stack(group, members, cart, basis)
        trials = []
        for member in members:
            before = list(cart.gained)
            trial = self._member(member, cart.copy(), basis)
            trials.append(
                (member, trial, [a - b for a, b in zip(trial.gained, before, strict=True)])
            )
        picker = _Checked(group.choice, self.pickers[group.choice])
        if group.scope == "line":
            merged = self._per_line(picker, trials, cart)
            if merged is not None:
                return merged
        scale = self.stage.scale
        options = [
            Option(_name(m), m.priority, Fraction(sum(gain), scale)) for m, _, gain in trials
        ]
        winner = picker.pick(options)
        result = cart if winner is None else trials[winner][1]
        for index, (member, trial, _) in enumerate(trials):
            if index != winner:
                self._lost(member, trial, result, None if winner is None else trials[winner][0])
        return result

    def _stack(
        self, group: Group, members: list[Member], cart: Cart, basis: Sequence[int] | None
    ) -> Cart:
        stopper: str | None = None
        for member in members:
            if stopper is not None:
                for promotion in self.tree.promotions(member, self.stage.types):
                    cart.note(promotion, Reason.STOPPED, f"{stopper} has stop_after set")
                continue
            cart = self._member(member, cart, basis)
            if isinstance(member, Promotion) and member.stop_after:
                entry = cart.trace.get(member.key)
                if entry is not None and entry.applied:
                    stopper = member.external_id
                    self.stoppers[group.id] = (member.rank, stopper)
        return cart

    def _per_line(
        self, picker: Picker, trials: list[tuple[Member, Cart, list[int]]], cart: Cart
    ) -> Cart | None:
        """Each slot takes its own winner; ``None`` if the mix breaks a program-wide limit."""
        merged = cart.copy()
        won: dict[int, int] = {}
        for slot in range(len(cart.slots)):
            scale = self.stage.scale
            options = [
                Option(_name(m), m.priority, Fraction(gain[slot], scale)) for m, _, gain in trials
            ]
            winner = picker.pick(options)
            if winner is None:
                continue
            trial = trials[winner][1]
            merged.totals[slot] = trial.totals[slot]
            merged.records[slot] = trial.records[slot]
            merged.touched[slot] = trial.touched[slot]
            merged.locked[slot] = trial.locked[slot]
            merged.gained[slot] = trial.gained[slot]
            won[winner] = won.get(winner, 0) + 1
        merged.spent = cart.spent + sum(
            before - after for before, after in zip(cart.totals, merged.totals, strict=True)
        )
        if not self.stage.within_limits(merged):
            return None
        for index, (member, trial, gain) in enumerate(trials):
            if index not in won:
                self._lost(member, trial, merged, None)
                continue
            merged.trace.update({k: v for k, v in trial.trace.items() if k not in cart.trace})
            if won[index] < sum(1 for g in gain if g):  # lost some lines: say what it kept
                for promotion in self.tree.promotions(member, self.stage.types):
                    entry = merged.trace.get(promotion.key)
                    if entry is not None and entry.applied and promotion.key not in cart.trace:
                        kept = self.stage.summary(promotion, merged)
                        detail = f"{kept} on the lines it won (on the whole order: {entry.detail})"
                        merged.trace[promotion.key] = attrs.evolve(entry, detail=detail)
        return merged

    def _lost(self, member: Member, trial: Cart, result: Cart, winner: Member | None) -> None:
        """Carry a losing trial's trace over, turning its successes into lost arbitration."""
        for promotion in self.tree.promotions(member, self.stage.types):
            entry = trial.trace.get(promotion.key)
            if entry is None or promotion.key in result.trace:
                continue
            if entry.applied:
                who = f"lost to {_name(winner)}" if winner else "lost on every line"
                result.note(promotion, Reason.LOST_ARBITRATION, f"{who} ({entry.detail})")
            else:
                result.trace[promotion.key] = entry
