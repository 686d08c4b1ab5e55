"""The service loop over any store: load → compute → apply → on conflict, again.

The core computes on a member as read; ``apply`` refuses effects computed on a member that
moved meanwhile. So a service never locks anything itself: it reads, lets the core decide, and
retries the whole operation when the store says ``ConflictError`` (``transact``), after a
short random pause (this is the shell: the clock and randomness are allowed here, never in the
core). A retry reads the store again, so it decides again: a redemption the balance no
longer covers becomes
``outdated``, an order committed meanwhile becomes a replay.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

import attrs

from ..commit import CommitResult, CommitStatus, Requested, commit, fingerprint
from ..errors import ConflictError, LedgerError, NotFoundError, ReusedIdError, StoreError
from ..ledger.effects import Effects
from ..ledger.members import Membership, RemovalPolicy, register, remove
from ..model import Member, Order
from ..program.program import Program
from .protocol import Remembers, Store
from .records import Match, Profile

T = TypeVar("T")
ATTEMPTS = 12
Clock = dt.datetime | Callable[[], dt.datetime]  # a fixed time, or the edge's clock


def transact(
    store: Store,
    operation: Callable[[], tuple[T, Effects | None]],
    *,
    profile: Profile | None = None,
    attempts: int = ATTEMPTS,
) -> T:
    """Run ``operation`` (which reads ``store`` itself) and apply its effects (with the member's
    ``profile``, when given); on a conflict, run it again, at most ``attempts`` times. ``None``
    effects: nothing to write."""
    for attempt in range(1, attempts + 1):
        value, effects = operation()
        if effects is None:
            return value
        try:
            store.apply(effects, profile=profile)
            return value
        except ConflictError as error:
            if attempt == attempts:
                raise ConflictError(f"gave up after {attempts} attempts: {error}") from None
            # a random pause, growing: writers that collided do not collide again in step
            time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))
    raise AssertionError("unreachable")  # pragma: no cover


def load(store: Store, program: Program, profile_id: str) -> tuple[Membership, Profile] | None:
    """The member as the store holds them, every account replayed and its tail checked (from
    the store's last replay of them, if it ``Remembers``, when their rows only grew since)."""
    stored = store.member(profile_id)
    if stored is None:
        return None
    for currency, version in stored.versions.items():
        last = max((r.id for r in stored.rows if r.currency == currency), default=0)
        if last != version:
            raise StoreError(
                f"member {profile_id!r}, account {currency!r}: the store records version "
                f"{version} but its rows end at {last}: rows were lost or added"
            )
    replays = store.replays if isinstance(store, Remembers) else None
    membership = Membership.from_rows(
        program,
        profile_id,
        stored.rows,
        registered_at=stored.registration.registered_at,
        removed_at=stored.registration.removed_at,
        known=replays.get(profile_id) if replays is not None else None,
    )
    if replays is not None:
        replays.put(profile_id, membership, weight=len(stored.rows) + 1)
    return membership, stored.profile


def register_member(
    store: Store,
    program: Program,
    profile: Profile,
    *,
    now: dt.datetime,
    registration_date: dt.datetime | None = None,
) -> Membership:
    """Register (idempotently: ``ledger.register``) and keep the profile's identities."""

    def attempt() -> tuple[Membership, Effects]:
        found = load(store, program, profile.profile_id)
        change = register(program, profile.profile_id, now=now,
                          registration_date=registration_date,
                          existing=found[0] if found else None)  # fmt: skip
        return change.membership, change.effects

    return transact(store, attempt, profile=profile)


def remove_member(
    store: Store, program: Program, profile_id: str, *, now: dt.datetime,
    policy: RemovalPolicy = "forfeit",
) -> Membership:  # fmt: skip
    """Take the member out of the program (``ledger.remove``); ``NotFoundError`` if unknown."""

    def attempt() -> tuple[Membership, Effects]:
        membership, _ = locate(store, program, Match("profile_id", profile_id), removed=True)
        change = remove(membership, now=now, policy=policy)
        return change.membership, change.effects

    return transact(store, attempt)


def locate(
    store: Store, program: Program, match: Match, *, removed: bool = False
) -> tuple[Membership, Profile]:
    """The member ``match`` names; ``NotFoundError`` when there is none, ``LedgerError`` when
    they left the program (unless ``removed`` accepts them)."""
    profile_id = store.find(match)
    found = load(store, program, profile_id) if profile_id is not None else None
    if found is None:
        raise NotFoundError(f"member not found ({match.method} {match.value!r})")
    if found[0].removed_at is not None and not removed:
        raise LedgerError(f"{found[0].profile_id} was removed from the program")
    return found


def member_at(
    store: Store, program: Program, match: Match | None, now: dt.datetime
) -> Member | None:
    """The member as ``calculate`` sees them (``None``: a guest), exactly as commit will. The
    balances are as of ``now``, or of the member's last operation when that came later (an
    order created before the member's latest commit is still calculated)."""
    if match is None:
        return None
    membership, profile = locate(store, program, match)
    at = _latest(now, membership)
    return membership.member(program, now=at, segments=profile.segments, tags=profile.tags)


@attrs.frozen(kw_only=True)
class Committed:
    """The answer to a commit: the response, and the result when it was computed now (``None``
    for a replay of the stored answer)."""

    response: Mapping[str, object]
    result: CommitResult | None


def _time(now: Clock, membership: Membership | None) -> dt.datetime:
    """A fixed ``now`` as given; a clock read after the member was, and never before the
    member's last operation (another writer's clock may run a little ahead of ours)."""
    if not callable(now):
        return now
    return _latest(now(), membership) if membership is not None else now()


def _latest(moment: dt.datetime, membership: Membership) -> dt.datetime:
    """``moment``, or the member's last operation when that came later."""
    return max([moment, *(a.as_of for a in membership.accounts if a.as_of)])


def commit_order(
    store: Store,
    program: Program,
    order: Order,
    requested: Requested,
    *,
    match: Match | None,
    now: Clock,
    render: Callable[[CommitResult], Mapping[str, object]],
    attempts: int = ATTEMPTS,
) -> Committed:
    """Commit ``order`` for the member ``match`` names (``None``: an explicit guest), and store
    its effects and its ``render``-ed response; retried on conflicts.

    A committed ``external_id`` replays its stored response for the same request only; another
    body or member is a ``ConflictError``.
    """

    def attempt() -> tuple[Committed, Effects | None]:
        # the member first, then the order: an order committed in between is then either in
        # both (a replay) or in neither (our write conflicts on the member's versions)
        found = locate(store, program, match, removed=True) if match is not None else None
        membership, profile = found if found is not None else (None, None)
        stored = store.order(order.external_id)
        if stored is not None:  # a replay, even for a member who left since
            profile_id = membership.profile_id if membership is not None else None
            if stored.fingerprint != fingerprint(order, requested, profile_id):
                raise ReusedIdError(
                    f"order {order.external_id!r} was committed with another request or member"
                )
            return Committed(response=stored.response, result=None), None
        at = _time(now, membership)  # commit refuses a member who left
        result = commit(
            program,
            order,
            requested,
            membership=membership,
            now=at,
            pools=store.pools(),
            segments=profile.segments if profile else (),
            tags=profile.tags if profile else (),
        )
        response = render(result)
        if result.status is CommitStatus.OUTDATED:
            return Committed(response=response, result=result), None
        return Committed(response=response, result=result), result.effects.with_response(response)

    return transact(store, attempt, attempts=attempts)
