"""Android's telephony provider codes, as both SMS Backup & Restore XML and the phone's own
mmssms.db / calllog.db write them (the app copies the provider's columns): message box types,
MMS address types, call types, and the placeholders written for numbers the network withheld."""

from __future__ import annotations

SMS_DIRECTION = {"1": "incoming", "2": "outgoing", "3": "outgoing", "4": "outgoing", "5": "outgoing", "6": "outgoing"}
SMS_BOX = {"1": "inbox", "2": "sent", "3": "draft", "4": "outbox", "5": "failed", "6": "queued"}
CALL_TYPE = {"1": "incoming", "2": "outgoing", "3": "missed", "4": "voicemail", "5": "rejected", "6": "blocked"}
MMS_FROM, MMS_TO = "137", "151"
# Android's call log writes these in place of a number it did not get (CallerInfo UNKNOWN_NUMBER,
# PRIVATE_NUMBER, PAYPHONE_NUMBER): they are not phone numbers and must not become identifiers
HIDDEN_NUMBERS = {"-1": "unknown", "-2": "private", "-3": "payphone"}
