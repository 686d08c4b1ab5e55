"""The public surface is deliberate: ``__all__`` is pinned, and everything in it exists."""

from __future__ import annotations

import loyalty_engine as le

EXPECTED = {
    "CURRENCY_EXPONENTS",
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
    "CalculatedLine",
    "CalculatedOrder",
    "Catalog",
    "CodeState",
    "CodeStatus",
    "CodesToIssue",
    "Fields",
    "FirstByPriority",
    "FixedPrice",
    "Group",
    "IssueCodes",
    "LedgerError",
    "Line",
    "LoyaltyError",
    "Member",
    "Message",
    "MessageOut",
    "Money",
    "Option",
    "Order",
    "PercentOff",
    "Picker",
    "PointsCurrency",
    "PointsRef",
    "PointsSummary",
    "Program",
    "PromoCode",
    "Promotion",
    "Reason",
    "Redeem",
    "RedeemRequest",
    "Rounding",
    "RuleError",
    "Settings",
    "Status",
    "Step",
    "TieredPercent",
    "TraceEntry",
    "ValidationError",
    "ValidationErrors",
    "allocate",
    "calculate",
    "conditions",
    "load_program",
    "program_from_dict",
    "program_to_dict",
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
