"""The public surface is deliberate: ``__all__`` is pinned, and everything in it exists."""

from __future__ import annotations

import loyalty_engine as le

EXPECTED = {
    "Account",
    "AccrueFixed",
    "AccruePerSpend",
    "AccruePercent",
    "AmountOffItem",
    "AmountOffOrder",
    "AppliedPromotion",
    "Balance",
    "BestForCustomer",
    "BestForMerchant",
    "BuyXGetY",
    "CURRENCY_EXPONENTS",
    "CalculatedLine",
    "CalculatedOrder",
    "Catalog",
    "CodePool",
    "CodeState",
    "CodeStatus",
    "CodesToIssue",
    "CommitResult",
    "CommitStatus",
    "Difference",
    "Fields",
    "FirstByPriority",
    "FixedPrice",
    "Group",
    "IssueCodes",
    "IssuedCodes",
    "Kind",
    "LedgerError",
    "Line",
    "LoyaltyError",
    "Member",
    "Membership",
    "Message",
    "MessageOut",
    "Money",
    "Option",
    "Order",
    "PercentOff",
    "Picker",
    "PointsChange",
    "PointsCurrency",
    "PointsRef",
    "PointsSummary",
    "PoolCode",
    "Posting",
    "Program",
    "PromoCode",
    "Promotion",
    "Reason",
    "Redeem",
    "RedeemRequest",
    "Requested",
    "RequestedLine",
    "RequestedPromotion",
    "Rounding",
    "RuleError",
    "Settings",
    "Status",
    "Step",
    "Target",
    "Tier",
    "TierGroup",
    "TieredPercent",
    "TraceEntry",
    "Transaction",
    "TriggerPromotion",
    "TriggerRule",
    "ValidationError",
    "ValidationErrors",
    "allocate",
    "apply_trigger",
    "calculate",
    "commit",
    "conditions",
    "list_triggers",
    "load_program",
    "program_from_dict",
    "program_to_dict",
    "register",
    "remove",
    "reverse",
}


def test_all_is_pinned() -> None:
    """Adding or removing a public name is a conscious change to this list."""
    assert set(le.__all__) == EXPECTED
    assert len(le.__all__) == len(EXPECTED)


def test_every_public_name_exists() -> None:
    """``__all__`` names nothing that is missing."""
    for name in le.__all__:
        assert getattr(le, name) is not None, name


def test_errors_are_one_tree_and_builtin_compatible() -> None:
    """Every error is a LoyaltyError and a ValueError, so ``except ValueError`` still works."""
    for error in (le.ValidationError, le.RuleError, le.LedgerError, le.ValidationErrors):
        assert issubclass(error, le.LoyaltyError)
        assert issubclass(error, ValueError)
