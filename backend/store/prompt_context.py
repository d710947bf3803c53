"""A prompt with its reference answer in one query: what the curation view shows above the texts it
compares (the question asked, and the data set's own answer when there is one)."""

from __future__ import annotations

from datetime import UTC

from backend.domain import Prompt, ReferenceAnswer
from backend.store.codec import from_json
from backend.store.connection import Database
from backend.store.prompts import prompt_from_row


class PromptContextQueries:
    _db: Database

    def prompt_and_reference(self, prompt_id: str) -> tuple[Prompt | None, ReferenceAnswer | None]:
        """The prompt (None if unknown) and its reference answer (None if it has none)."""
        row = self._db.row(
            "SELECT p.id, p.text, p.source, p.meta, r.text, r.source, r.meta, r.added_at::TIMESTAMP "
            "FROM prompts p LEFT JOIN reference_answers r ON r.prompt_id = p.id WHERE p.id = ?", [prompt_id])
        if row is None:
            return None, None
        prompt = prompt_from_row(row[:4])
        if row[4] is None:
            return prompt, None
        return prompt, ReferenceAnswer(prompt_id=prompt.id, text=row[4], source=row[5] or "",
                                       meta=from_json(row[6], {}), added_at=row[7].replace(tzinfo=UTC))
