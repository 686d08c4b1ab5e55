"""Pure points accounts: lots, holds, expiry, cancellation, history; members, tiers, triggers."""

from .account import Account, CancelPolicy, Hold, Page, Posting
from .journal import Journal, Kind, Transaction
from .lots import Lot

__all__ = [
    "Account",
    "CancelPolicy",
    "Hold",
    "Journal",
    "Kind",
    "Lot",
    "Page",
    "Posting",
    "Transaction",
]
