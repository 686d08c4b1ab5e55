"""Pure points accounts: lots, holds, expiry, cancellation, history; members, tiers, triggers."""

from .account import Account, CancelPolicy, Hold, Page, Posting
from .export import EXPORT_COLUMNS, export_rows
from .journal import ROW_KEYS, ROW_SCHEMA, Journal, Kind, Transaction
from .lots import Lot
from .members import Change, Membership, ReachedTier, RemovalPolicy, register, remove
from .triggers import TriggerPage, apply_trigger, list_triggers

__all__ = [
    "EXPORT_COLUMNS",
    "ROW_KEYS",
    "ROW_SCHEMA",
    "Account",
    "CancelPolicy",
    "Change",
    "Hold",
    "Journal",
    "Kind",
    "Lot",
    "Membership",
    "Page",
    "Posting",
    "ReachedTier",
    "RemovalPolicy",
    "Transaction",
    "TriggerPage",
    "apply_trigger",
    "export_rows",
    "list_triggers",
    "register",
    "remove",
]
