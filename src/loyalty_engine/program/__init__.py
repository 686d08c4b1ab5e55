"""Program definitions and their loader."""

from .accounts import Tier, TierGroup, TriggerPromotion, TriggerRule
from .benefits import (
    BENEFITS,
    AccrueFixed,
    AccruePercent,
    AccruePerSpend,
    AmountOffItem,
    AmountOffOrder,
    BuyXGetY,
    FixedPrice,
    IssueCodes,
    Message,
    PercentOff,
    Redeem,
    Step,
    TieredPercent,
)
from .loader import load_program, program_from_dict, program_to_dict
from .program import ROOT, Catalog, Program, Settings
from .promotion import BUILTIN_CHOICES, Group, Promotion

__all__ = [
    "BENEFITS",
    "BUILTIN_CHOICES",
    "ROOT",
    "AccrueFixed",
    "AccruePerSpend",
    "AccruePercent",
    "AmountOffItem",
    "AmountOffOrder",
    "BuyXGetY",
    "Catalog",
    "FixedPrice",
    "Group",
    "IssueCodes",
    "Message",
    "PercentOff",
    "Program",
    "Promotion",
    "Redeem",
    "Settings",
    "Step",
    "Tier",
    "TierGroup",
    "TieredPercent",
    "TriggerPromotion",
    "TriggerRule",
    "load_program",
    "program_from_dict",
    "program_to_dict",
]
