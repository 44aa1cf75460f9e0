"""WhatsApp "Export chat" text, in modules with one job each: text (blocks of lines, encodings, line
ends), grammar (header forms, authors), dates (field order, timestamps), markers (the per-language
table of media/deleted/edited markers), runs (whole-message runs), records (building the batches),
parser (the registered `whatsapp-export` parser)."""

from .dates import DateOrder, OrderEvidence, decide_order
from .grammar import is_header
from .parser import WhatsAppExport

__all__ = ["DateOrder", "OrderEvidence", "WhatsAppExport", "decide_order", "is_header"]
