"""Stores: where members, their ledger rows, code pools and committed orders are kept.

The contract (``Store``, ``ConflictError``, the row codecs ``Transaction.to_row`` /
``from_row``) and three implementations: ``MemoryStore``, ``JsonFileStore`` (one JSON file)
and ``SqliteStore``. ``commit_order`` and ``transact`` are the service loop with retries. A
store that ``Remembers`` (ours do) keeps its last replays in a ``Recent``, so ``load`` replays
only the rows a member gained since.
"""

from ..errors import ConflictError, NotFoundError, StoreError
from ..ledger.effects import AccountWrite, Effects, MemberWrite, OrderRecord, Registration
from .document import SCHEMA, read_document, to_document
from .jsonfile import MAX_STATE_BYTES, JsonFileStore
from .memory import MemoryStore
from .protocol import Remembers, Store
from .recent import REMEMBERED_ROWS, Recent
from .records import Match, Profile, StoredMember
from .service import (
    ATTEMPTS,
    Committed,
    commit_order,
    load,
    locate,
    member_at,
    register_member,
    remove_member,
    transact,
)
from .sqlite import SCHEMA_VERSION, SqliteStore
from .transfer import Imported, check, import_document

__all__ = [
    "ATTEMPTS",
    "MAX_STATE_BYTES",
    "REMEMBERED_ROWS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "AccountWrite",
    "Committed",
    "ConflictError",
    "Effects",
    "Imported",
    "JsonFileStore",
    "Match",
    "MemberWrite",
    "MemoryStore",
    "NotFoundError",
    "OrderRecord",
    "Profile",
    "Recent",
    "Registration",
    "Remembers",
    "SqliteStore",
    "Store",
    "StoreError",
    "StoredMember",
    "check",
    "commit_order",
    "import_document",
    "load",
    "locate",
    "member_at",
    "read_document",
    "register_member",
    "remove_member",
    "to_document",
    "transact",
]
