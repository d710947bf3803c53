"""The data a run reads: collected from the project in the TRL export's row layout, counted, checked, and
written to a Parquet snapshot in `runs/<id>/data/` whose content hash the run records.

The worker never opens the database; it reads only this snapshot. Rows come from the same builders as
`avr-studio export --format trl` (`backend.io.exporters.rows`), so an exported file and a run agree.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.domain import STAGE1_PAIR_KINDS, TREE_ANSWER_KINDS, Pair
from backend.errors import UserError
from backend.io.exporters.files import write_json, write_rows
from backend.io.exporters.rows import trl_pair_row, trl_sft_row
from backend.training.config import TrainingConfig
from backend.training.splits import choose_heldout_in_store, in_reward_eval

if TYPE_CHECKING:
    from backend.store import Store

DATA_DIR = "data"
MANIFEST = "manifest.json"
SPLIT_FILES = {"train": "train.parquet", "eval": "eval.parquet"}
RSFT_SAMPLE_KINDS = ("rsft", "reference")
CHARS_PER_TOKEN = 4.0  # rough, for the time estimate only


class NotEnoughDataError(UserError):
    """The project has too little curated data for the asked-for stage; the message says what to build."""


class SnapshotChangedError(UserError):
    """A snapshot's files no longer hash to what the run recorded."""


@dataclass(frozen=True)
class DataCounts:
    """What a run will use, shown before the click: rows by kind and by who decided them."""

    stage: str
    train_rows: int
    eval_rows: int = 0  # reward model: person-decided pairs kept aside to measure agreement
    by_kind: dict[str, int] = field(default_factory=dict)
    by_decider: dict[str, int] = field(default_factory=dict)  # pairs: "human" / "reward"
    by_kind_and_decider: dict[str, int] = field(default_factory=dict)  # "response/human": 3, ...
    heldout_prompts: int = 0
    heldout_rows_left_out: int = 0  # rows not trained because their prompt is held out
    mean_tokens: float = 0.0  # rough tokens per training row (chars / 4), for the time estimate

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DataCounts:
        return cls(**data)


@dataclass
class CollectedData:
    train: list[dict[str, Any]]
    eval: list[dict[str, Any]]
    counts: DataCounts


@dataclass(frozen=True)
class Snapshot:
    """A written snapshot: its folder, the split files, their content hash and the counts."""

    folder: Path
    data_hash: str
    counts: DataCounts
    splits: tuple[str, ...]
    heldout_prompt_ids: tuple[str, ...] = ()

    def rows(self, split: str = "train") -> list[dict[str, Any]]:
        if split not in self.splits:
            return []
        import pyarrow.parquet as pq

        return pq.read_table(self.folder / SPLIT_FILES[split]).to_pylist()


# --- collecting ---------------------------------------------------------------------------------

def heldout_prompt_ids(store: Store, config: TrainingConfig) -> tuple[list[str], bool]:
    """(held-out prompt ids, whether they are new): the project's recorded set, or the one its first
    training will record (chosen from every prompt of the project by the config's seed)."""
    recorded = store.heldout_prompt_ids()
    if recorded or store.heldout_seed() is not None:
        return recorded, False
    return choose_heldout_in_store(store, config.seed, config.heldout_fraction), True


def collect(store: Store, config: TrainingConfig, heldout: set[str] | None = None) -> CollectedData:
    """The stage's training (and, for the reward model, agreement) rows, with their counts."""
    if heldout is None:
        heldout = set(heldout_prompt_ids(store, config)[0])
    if config.stage in ("rsft", "long_sft"):
        if config.stage == "rsft":  # the RSFT set: tree samples plus any reference answers mixed in (§1.3.1)
            samples = [s for kind in RSFT_SAMPLE_KINDS for s in store.sft_samples(kind=kind)]
        else:
            from backend.training.stage2_data import long_thought_samples

            samples = long_thought_samples(store)
        kept = [s for s in samples if s.prompt_id not in heldout]
        train = [trl_sft_row(s) for s in kept]
        counts = DataCounts(stage=config.stage, train_rows=len(train), by_kind=dict(Counter(s.kind for s in kept)),
                            heldout_prompts=len(heldout), heldout_rows_left_out=len(samples) - len(kept),
                            mean_tokens=_mean_tokens(train, ("prompt", "completion")))
        return CollectedData(train, [], counts)
    if config.stage in ("dpo", "long_dpo"):
        kinds = (config.pair_kinds or STAGE1_PAIR_KINDS) if config.stage == "dpo" else ("long_thought",)
        pairs = [p for kind in kinds for p in store.pairs(kind=kind)]
        kept = [p for p in pairs if p.prompt_id not in heldout]
        train = [trl_pair_row(p) for p in kept]
        counts = _pair_counts(config.stage, kept, [], heldout, len(pairs) - len(kept), train)
        return CollectedData(train, [], counts)
    return _collect_reward(store, config, heldout)


def _collect_reward(store: Store, config: TrainingConfig, heldout: set[str]) -> CollectedData:
    """Person-decided answer pairs (plus reward-decided ones if asked), as [user x] -> answer pairs: the
    reward model only ever sees the plain prompt and a plain answer (DESIGN §1)."""
    candidates = [p for kind in (*TREE_ANSWER_KINDS, "edit") for p in store.pairs(kind=kind)
                  if p.decided_by == "human" or config.reward_use_reward_pairs]
    by_text: dict[tuple[str, str, str], Pair] = {}
    for pair in candidates:
        if pair.kind == "edit" and not _edits_an_answer(store, pair):
            continue
        plain = Pair(kind=pair.kind, prompt_id=pair.prompt_id, context=[_first_user(pair)], chosen=pair.chosen,
                     rejected=pair.rejected, decided_by=pair.decided_by, chosen_node_id=pair.chosen_node_id,
                     rejected_node_id=pair.rejected_node_id, chosen_score=pair.chosen_score,
                     rejected_score=pair.rejected_score)
        key = (plain.context[0]["content"], plain.chosen, plain.rejected)
        if key not in by_text or plain.decided_by == "human":  # the person's copy of a duplicate wins
            by_text[key] = plain
    train_pairs, eval_pairs, left_out = [], [], 0
    for pair in by_text.values():
        measured = pair.prompt_id in heldout or in_reward_eval(pair.prompt_id, config.seed,
                                                               config.reward_eval_fraction)
        if measured and pair.decided_by == "human":
            eval_pairs.append(pair)
        elif measured:
            left_out += 1  # a reward-decided pair of a measured prompt: neither trained nor measured
        else:
            train_pairs.append(pair)
    weight = {"human": 1.0, "reward": config.reward_pair_weight}
    train = [trl_pair_row(p) | {"weight": weight[p.decided_by]} for p in train_pairs]
    eval_rows = [trl_pair_row(p) | {"weight": 1.0} for p in eval_pairs]
    counts = _pair_counts("reward", train_pairs, eval_pairs, heldout, left_out, train)
    return CollectedData(train, eval_rows, counts)


def _edits_an_answer(store: Store, pair: Pair) -> bool:
    node_id = pair.chosen_node_id or pair.rejected_node_id
    node = store.get_node(node_id) if node_id else None
    return node is not None and node.kind in TREE_ANSWER_KINDS  # an answer the reward model can score


def _first_user(pair: Pair) -> dict[str, str]:
    for message in pair.context:
        if message["role"] == "user":
            return {"role": "user", "content": message["content"]}
    raise ValueError(f"pair {pair.id} has no user message in its context")


def _pair_counts(stage: str, train: list[Pair], eval_pairs: list[Pair], heldout: set[str], left_out: int,
                 rows: list[dict[str, Any]]) -> DataCounts:
    return DataCounts(
        stage=stage, train_rows=len(train), eval_rows=len(eval_pairs),
        by_kind=dict(Counter(p.kind for p in train)), by_decider=dict(Counter(p.decided_by for p in train)),
        by_kind_and_decider=dict(Counter(f"{p.kind}/{p.decided_by}" for p in train)),
        heldout_prompts=len(heldout), heldout_rows_left_out=left_out,
        mean_tokens=_mean_tokens(rows, ("prompt", "chosen", "rejected"), prompt_twice=True))


def _mean_tokens(rows: list[dict[str, Any]], keys: tuple[str, ...], prompt_twice: bool = False) -> float:
    """Rough tokens per row: characters / 4 (a pair counts its prompt twice: chosen and rejected each see it)."""
    if not rows:
        return 0.0
    total = 0
    for row in rows:
        for key in keys:
            chars = sum(len(m["content"]) for m in row[key])
            total += chars * (2 if prompt_twice and key == "prompt" else 1)
    return total / len(rows) / CHARS_PER_TOKEN


# --- checks -------------------------------------------------------------------------------------

_NOTHING = {
    "rsft": "No RSFT samples outside the held-out prompts: grow trees, score them and build pairs "
            "(avr-studio pairs DIR) so that some trees have an improving refinement",
    "long_sft": "No long-thought samples outside the held-out prompts: run Stage II chains first "
                "(avr-studio chain DIR) so that some chains improve",
    "dpo": "No Stage I pairs outside the held-out prompts: grow and score trees, then build pairs (avr-studio pairs DIR)",
    "long_dpo": "No long-thought pairs outside the held-out prompts: sample long thoughts with the Stage II SFT model "
                "and build their pairs first",
    "reward": "No pairs decided by a person outside the prompts kept for measuring: accept or reject "
              "answers or improvements in the app, then rebuild pairs",
}


def check_enough(config: TrainingConfig, counts: DataCounts) -> None:
    """Raise NotEnoughDataError, saying what to do, when the data cannot fill one batch of the stage."""
    if config.stage == "dpo" and config.pair_kinds:
        missing = [kind for kind in config.pair_kinds if not counts.by_kind.get(kind)]
        if missing:
            raise NotEnoughDataError(
                f"0 {' and '.join(missing)} pairs to train on (outside the held-out prompts); build pairs first "
                f"(avr-studio pairs DIR) or leave {', '.join(missing)} out of the pair kinds")
    if counts.train_rows == 0:
        raise NotEnoughDataError(_NOTHING[config.stage] + ".")
    batch = config.batch_size or 1
    if counts.train_rows < batch:
        what = "samples" if config.family == "sft" else "pairs"
        raise NotEnoughDataError(
            f"Only {counts.train_rows} {what} to train on, fewer than one batch of {batch}; lower the batch size "
            f"to {counts.train_rows} or curate more data first")


# --- writing and reading ------------------------------------------------------------------------

def data_hash(splits: dict[str, list[dict[str, Any]]]) -> str:
    """A content hash of the rows of every split (key order and file encoding do not matter).

    >>> data_hash({"train": [{"a": 1, "b": "x"}]}) == data_hash({"train": [{"b": "x", "a": 1}]})
    True
    >>> data_hash({"train": [{"a": 1}]}) == data_hash({"train": [{"a": 2}]})
    False
    """
    digest = hashlib.sha256()
    for name in sorted(splits):
        digest.update(name.encode() + b"\x1e")
        for row in splits[name]:
            digest.update(json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
            digest.update(b"\x1f")
    return digest.hexdigest()[:16]


def write_snapshot(store: Store, config: TrainingConfig, run_dir: Path | str) -> Snapshot:
    """Record the held-out prompts if this is the project's first training, collect and check the stage's
    data, and write it to `run_dir/data/` (Parquet + manifest.json with the hash and counts)."""
    heldout, new = heldout_prompt_ids(store, config)
    data = collect(store, config, set(heldout))
    check_enough(config, data.counts)
    if new:
        store.set_heldout_prompts(heldout, config.seed)
    folder = Path(run_dir) / DATA_DIR
    splits = {"train": data.train} | ({"eval": data.eval} if data.eval else {})
    for name, rows in splits.items():
        write_rows(rows, folder / SPLIT_FILES[name], "parquet")
    written = {name: _read(folder / SPLIT_FILES[name]) for name in splits}  # hash what the trainer will read
    snapshot = Snapshot(folder=folder, data_hash=data_hash(written), counts=data.counts, splits=tuple(splits),
                        heldout_prompt_ids=tuple(heldout))
    write_json({"stage": config.stage, "data_hash": snapshot.data_hash, "splits": list(snapshot.splits),
                "files": {name: SPLIT_FILES[name] for name in splits}, "counts": data.counts.to_dict(),
                "heldout_prompt_ids": list(heldout)}, folder / MANIFEST)
    return snapshot


def read_snapshot(run_dir: Path | str, verify: bool = True) -> Snapshot:
    """The snapshot of a run folder; with `verify`, check that its files still hash to the recorded hash."""
    folder = Path(run_dir) / DATA_DIR
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UserError(f"{folder} holds no readable data snapshot ({MANIFEST}); prepare the run again") from None
    snapshot = Snapshot(folder=folder, data_hash=manifest["data_hash"], counts=DataCounts.from_dict(manifest["counts"]),
                        splits=tuple(manifest["splits"]), heldout_prompt_ids=tuple(manifest.get("heldout_prompt_ids", ())))
    if verify:
        found = data_hash({name: snapshot.rows(name) for name in snapshot.splits})
        if found != snapshot.data_hash:
            raise SnapshotChangedError(f"the data snapshot in {folder} changed since the run was prepared (hash {found}, "
                                       f"recorded {snapshot.data_hash}); start a new run instead of reusing this one")
    return snapshot


def _read(path: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()
