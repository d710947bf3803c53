"""JUDGE / REVISE templates, versioned by content; the 'current_templates' setting says which is in use."""

from __future__ import annotations

from backend.domain import Templates, now
from backend.store.connection import Database

CURRENT_TEMPLATES_SETTING = "current_templates"


def default_templates() -> Templates:
    # Imported here so the store does not depend on the method package at import time.
    from backend.avr.templates import DEFAULT_TEMPLATES

    return DEFAULT_TEMPLATES


class TemplateQueries:
    _db: Database

    def save_templates(self, templates: Templates, make_current: bool = True) -> None:
        """Keep this version (once; versions are content hashes) and optionally make it current."""
        with self._db.transaction():
            self._db.execute(
                "INSERT INTO templates VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [templates.version, templates.name, templates.judge, templates.revise, now()],
            )
            if make_current:
                self.set_setting(CURRENT_TEMPLATES_SETTING, templates.version)

    def _stored_templates(self, version: str) -> Templates | None:
        row = self._db.row("SELECT version, judge, revise, name FROM templates WHERE version = ?", [version])
        return None if row is None else Templates(version=row[0], judge=row[1], revise=row[2], name=row[3])

    def current_templates(self) -> Templates:
        version = self.get_setting(CURRENT_TEMPLATES_SETTING)
        found = self._stored_templates(version) if version else None
        if found is None:
            # A project made before the defaults existed: adopt them now.
            found = default_templates()
            self.save_templates(found, make_current=True)
        return found

    def templates(self, version: str | None = None) -> Templates:
        """The templates of this version; None or an unknown version gives the current ones."""
        found = self._stored_templates(version) if version else None
        return found if found is not None else self.current_templates()

    def all_templates(self) -> list[Templates]:
        rows = self._db.rows("SELECT version, judge, revise, name FROM templates ORDER BY created_at")
        return [Templates(version=v, judge=j, revise=r, name=n) for v, j, r, n in rows]
