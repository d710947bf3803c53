"""Built training data: preference pairs and SFT samples (idempotent by content id), and Stage II chains."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pyarrow as pa

from backend.domain import STAGE1_PAIR_KINDS, Chain, Pair, SftSample, now
from backend.store.codec import from_json, to_json, utc
from backend.store.connection import Database

# What a Stage I rebuild replaces; long_thought pairs and samples belong to Stage II and survive it.
STAGE1_SFT_KINDS = ["rsft", "reference"]
STAGE1_PAIR_KINDS_SQL = ", ".join(f"'{kind}'" for kind in STAGE1_PAIR_KINDS)  # fixed literals, not input
STAGE1_SFT_KINDS_SQL = ", ".join(f"'{kind}'" for kind in STAGE1_SFT_KINDS)

# Conversations go to DuckDB as Arrow lists of {role, content} structs and become JSON in SQL
# (to_json): several times faster than json.dumps on 40k long contexts. Messages carry only these keys.
MESSAGES_TYPE = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))

_PAIR_COLUMNS = ("id, kind, prompt_id, context, chosen, rejected, decided_by, chosen_node_id, "
                 "rejected_node_id, chosen_score, rejected_score")


def _pair_from_row(row: tuple) -> Pair:
    _id, kind, prompt_id, context, chosen, rejected, decided_by, c_node, r_node, c_score, r_score, rules = row
    return Pair(kind=kind, prompt_id=prompt_id, context=from_json(context, []), chosen=chosen,
                rejected=rejected, decided_by=decided_by, chosen_node_id=c_node, rejected_node_id=r_node,
                chosen_score=c_score, rejected_score=r_score, rules=rules or "legacy")


def _chain_from_row(row: tuple) -> Chain:
    id_, prompt_id, node_ids, best_node_id, scores, long_thought_node_id, created_at = row
    return Chain(id=id_, prompt_id=prompt_id, node_ids=tuple(from_json(node_ids, [])),
                 best_node_id=best_node_id, scores=tuple(from_json(scores, [])),
                 long_thought_node_id=long_thought_node_id, created_at=created_at)


def _pairs_table(pairs: Iterable[Pair]) -> pa.Table | None:
    """The pairs as one Arrow table, one row per id (the id is a content hash: computed once); None if none."""
    by_id = {pair.id: pair for pair in pairs}
    if not by_id:
        return None
    batch = list(by_id.values())
    return pa.table({
        "id": list(by_id),
        "kind": [p.kind for p in batch],
        "prompt_id": [p.prompt_id for p in batch],
        "context": pa.array([p.context for p in batch], MESSAGES_TYPE),
        "chosen": [p.chosen for p in batch],
        "rejected": [p.rejected for p in batch],
        "decided_by": [p.decided_by for p in batch],
        "chosen_node_id": pa.array([p.chosen_node_id for p in batch], pa.string()),
        "rejected_node_id": pa.array([p.rejected_node_id for p in batch], pa.string()),
        "chosen_score": pa.array([p.chosen_score for p in batch], pa.float64()),
        "rejected_score": pa.array([p.rejected_score for p in batch], pa.float64()),
        "rules": [p.rules for p in batch],
    })


def _sft_table(samples: Iterable[SftSample]) -> pa.Table | None:
    by_id = {sample.id: sample for sample in samples}
    if not by_id:
        return None
    batch = list(by_id.values())
    return pa.table({
        "id": list(by_id),
        "kind": [s.kind for s in batch],
        "prompt_id": [s.prompt_id for s in batch],
        "messages": pa.array([s.messages for s in batch], MESSAGES_TYPE),
        "node_ids": [to_json(list(s.node_ids)) for s in batch],
        "rules": [s.rules for s in batch],
    })


_INSERT_PAIRS = (f"INSERT INTO pairs SELECT {_PAIR_COLUMNS.replace('context', 'to_json(context)')}, now(), rules "
                 "FROM incoming_pairs ON CONFLICT DO ")
_INSERT_SFT = ("INSERT INTO sft_samples SELECT id, kind, prompt_id, to_json(messages), node_ids, now(), rules "
               "FROM incoming_sft ON CONFLICT DO ")
# A rebuild writes back mostly the very same rows: only the new ones and those that differ in a
# column the id does not cover are written (writing 70 MB of unchanged pair text back cost more than
# the rest of a 10k-tree rebuild). built_at is when a row was built with its present content.
_INSERT_NEW_PAIRS = (f"INSERT INTO pairs SELECT {_PAIR_COLUMNS.replace('context', 'to_json(context)')}, now(), rules "
                     "FROM incoming_pairs WHERE id NOT IN (SELECT id FROM pairs)")
_UPDATE_CHANGED_PAIRS = (
    "UPDATE pairs SET context = to_json(i.context), decided_by = i.decided_by, chosen_score = i.chosen_score, "
    "rejected_score = i.rejected_score, rules = i.rules, built_at = now() FROM incoming_pairs i "
    "WHERE pairs.id = i.id AND (pairs.context::VARCHAR IS DISTINCT FROM to_json(i.context)::VARCHAR "
    "OR pairs.decided_by IS DISTINCT FROM i.decided_by OR pairs.chosen_score IS DISTINCT FROM i.chosen_score "
    "OR pairs.rejected_score IS DISTINCT FROM i.rejected_score OR pairs.rules IS DISTINCT FROM i.rules)")
_INSERT_NEW_SFT = ("INSERT INTO sft_samples SELECT id, kind, prompt_id, to_json(messages), node_ids, now(), rules "
                   "FROM incoming_sft WHERE id NOT IN (SELECT id FROM sft_samples)")
_UPDATE_CHANGED_SFT = ("UPDATE sft_samples SET node_ids = i.node_ids, rules = i.rules, built_at = now() "
                       "FROM incoming_sft i WHERE sft_samples.id = i.id AND "
                       "(sft_samples.node_ids::VARCHAR IS DISTINCT FROM i.node_ids OR sft_samples.rules IS DISTINCT FROM i.rules)")


class ResultQueries:
    _db: Database

    def add_pairs(self, pairs: Iterable[Pair]) -> int:
        """Add pairs whose id is new; return how many were added."""
        table = _pairs_table(pairs)
        if table is None:
            return 0
        with self._db.transaction():
            before = self._db.scalar("SELECT count(*) FROM pairs")
            with self._db.staged("incoming_pairs", table):
                self._db.execute(_INSERT_PAIRS + "NOTHING")
            return int(self._db.scalar("SELECT count(*) FROM pairs") - before)

    def add_sft_samples(self, samples: Iterable[SftSample]) -> int:
        """Add SFT samples whose id is new; return how many were added."""
        table = _sft_table(samples)
        if table is None:
            return 0
        with self._db.transaction():
            before = self._db.scalar("SELECT count(*) FROM sft_samples")
            with self._db.staged("incoming_sft", table):
                self._db.execute(_INSERT_SFT + "NOTHING")
            return int(self._db.scalar("SELECT count(*) FROM sft_samples") - before)

    def replace_stage1_data(self, prompt_ids: Sequence[str], pairs: Iterable[Pair],
                            sft: Iterable[SftSample]) -> None:
        """In one transaction: drop these prompts' Stage I pairs and RSFT samples, then add the new ones.

        Ids are content hashes that include the kind and prompt, so a new row's id can only clash
        with an old row of the same prompt and kind: that row is replaced in place if it differs
        (and left as it is if not), the others go.
        """
        pairs_table, sft_table = _pairs_table(pairs), _sft_table(sft)
        no_rows = pa.table({"id": pa.array([], pa.string())})
        with (self._db.transaction(), self._db.id_set("replaced_prompts", list(prompt_ids)),
              self._db.staged("incoming_pairs", no_rows if pairs_table is None else pairs_table),
              self._db.staged("incoming_sft", no_rows if sft_table is None else sft_table)):
            self._db.execute(
                f"DELETE FROM pairs WHERE kind IN ({STAGE1_PAIR_KINDS_SQL}) "
                "AND prompt_id IN (SELECT id FROM replaced_prompts) AND id NOT IN (SELECT id FROM incoming_pairs)"
            )
            self._db.execute(
                f"DELETE FROM sft_samples WHERE kind IN ({STAGE1_SFT_KINDS_SQL}) "
                "AND prompt_id IN (SELECT id FROM replaced_prompts) AND id NOT IN (SELECT id FROM incoming_sft)"
            )
            if pairs_table is not None:
                self._db.execute(_UPDATE_CHANGED_PAIRS)
                self._db.execute(_INSERT_NEW_PAIRS)
            if sft_table is not None:
                self._db.execute(_UPDATE_CHANGED_SFT)
                self._db.execute(_INSERT_NEW_SFT)

    def pairs(self, kind: str | None = None, prompt_id: str | None = None) -> list[Pair]:
        rows = self._db.rows(
            f"SELECT {_PAIR_COLUMNS}, rules FROM pairs WHERE ($kind IS NULL OR kind = $kind) "
            "AND ($prompt_id IS NULL OR prompt_id = $prompt_id) ORDER BY prompt_id, kind, id",
            {"kind": kind, "prompt_id": prompt_id},
        )
        return [_pair_from_row(row) for row in rows]

    def sft_samples(self, kind: str | Sequence[str] | None = None) -> list[SftSample]:
        """SFT samples of one kind, of several kinds, or all (kind None)."""
        kinds = None if kind is None else [kind] if isinstance(kind, str) else list(kind)
        rows = self._db.rows(
            "SELECT kind, prompt_id, messages, node_ids, rules FROM sft_samples "
            "WHERE ($kinds IS NULL OR list_contains($kinds::VARCHAR[], kind)) ORDER BY prompt_id, id",
            {"kinds": kinds},
        )
        return [SftSample(kind=k, prompt_id=p, messages=from_json(m, []), node_ids=tuple(from_json(n, [])),
                          rules=r or "legacy") for k, p, m, n, r in rows]

    def pair_counts(self) -> dict[str, int]:
        rows = self._db.rows("SELECT kind, count(*) FROM pairs GROUP BY kind ORDER BY kind")
        return {kind: int(n) for kind, n in rows}

    def sft_counts(self) -> dict[str, int]:
        rows = self._db.rows("SELECT kind, count(*) FROM sft_samples GROUP BY kind ORDER BY kind")
        return {kind: int(n) for kind, n in rows}

    def add_chain(self, chain: Chain) -> None:
        """Store a Stage II chain; storing the same chain id again keeps the first."""
        self._db.execute(
            "INSERT INTO chains VALUES (?, ?, ?::JSON, ?, ?::JSON, ?, ?) ON CONFLICT DO NOTHING",
            [chain.id, chain.prompt_id, to_json(list(chain.node_ids)), chain.best_node_id,
             to_json(list(chain.scores)), chain.long_thought_node_id, utc(chain.created_at or now())],
        )

    def chains(self, prompt_id: str | None = None) -> list[Chain]:
        rows = self._db.rows(
            "SELECT id, prompt_id, node_ids, best_node_id, scores, long_thought_node_id, created_at "
            "FROM chains WHERE ($prompt_id IS NULL OR prompt_id = $prompt_id) ORDER BY created_at, id",
            {"prompt_id": prompt_id},
        )
        return [_chain_from_row(row) for row in rows]
