"""Intake of exhibits: hashing, the evidence store, the custody log, archive safety, format detection."""
