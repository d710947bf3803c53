"""Curation workflows that combine the store with the pure AvR method (no SQL, no Qt)."""
