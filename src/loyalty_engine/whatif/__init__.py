"""Offline what-if: replay order history under several programs (docs/recipes/whatif.md)."""

from .history import BadRecord, HistoryRecord, read_record
from .report import Report, render_table
from .run import whatif

__all__ = ["BadRecord", "HistoryRecord", "Report", "read_record", "render_table", "whatif"]
