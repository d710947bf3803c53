"""Qt item models: thin, lazy adapters over Store queries (no SQL here)."""
