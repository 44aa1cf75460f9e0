"""The WhatsApp export parser lives in the `whatsapp` package; this name is kept for imports."""

from .whatsapp import DateOrder, OrderEvidence, WhatsAppExport, decide_order, is_header

__all__ = ["DateOrder", "OrderEvidence", "WhatsAppExport", "decide_order", "is_header"]
