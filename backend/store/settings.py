"""Per-project settings: small JSON values by key (e.g. 'primary_scorer', 'current_templates')."""

from __future__ import annotations

from typing import Any

from backend.store.codec import from_json, to_json
from backend.store.connection import Database


class SettingQueries:
    _db: Database

    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self._db.row("SELECT value FROM settings WHERE key = ?", [key])
        return default if row is None else from_json(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        """Store a JSON-able value; None removes the setting."""
        if value is None:
            self._db.execute("DELETE FROM settings WHERE key = ?", [key])
            return
        self._db.execute(
            "INSERT INTO settings VALUES (?, ?::JSON) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, to_json(value)],
        )

    def settings_with_prefix(self, prefix: str) -> dict[str, Any]:
        """Every setting whose key starts with `prefix` (e.g. 'job_label/'), by key."""
        rows = self._db.rows("SELECT key, value FROM settings WHERE starts_with(key, ?)", [prefix])
        return {key: from_json(value) for key, value in rows}
