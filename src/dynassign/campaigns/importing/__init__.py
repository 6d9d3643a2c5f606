"""Contact upload: CSV files into a campaign's contacts, with a report of the rows left out."""

from __future__ import annotations

from dynassign.campaigns.importing.reader import InvalidContactFile
from dynassign.campaigns.importing.report import ImportReport, RejectedRow, RejectReason
from dynassign.campaigns.importing.service import CHUNK_ROWS, import_contacts

__all__ = ["CHUNK_ROWS", "ImportReport", "InvalidContactFile", "RejectReason", "RejectedRow", "import_contacts"]
