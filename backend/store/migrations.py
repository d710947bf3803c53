"""Schema changes as ordered functions; `schema_migrations` records which ones a project has had.

Never edit a migration once it has shipped: append a new function to MIGRATIONS instead.
"""

from __future__ import annotations

from collections.abc import Callable

from backend.store.connection import Database


def m001_initial_schema(db: Database) -> None:
    """Every table of DESIGN.md §3, plus the prompt_stats cache behind the prompt list."""
    statements = [
        "CREATE SEQUENCE prompt_seq START 1",  # insertion order, for the 'added' sort
        """CREATE TABLE prompts (
            id VARCHAR PRIMARY KEY, text VARCHAR NOT NULL, source VARCHAR NOT NULL DEFAULT '',
            meta JSON, added_at TIMESTAMPTZ NOT NULL, seq BIGINT NOT NULL)""",
        """CREATE TABLE nodes (
            id VARCHAR PRIMARY KEY, prompt_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
            parent_id VARCHAR, round INTEGER NOT NULL DEFAULT 0, text VARCHAR NOT NULL,
            template_version VARCHAR, model VARCHAR NOT NULL DEFAULT '', sampling JSON, seed BIGINT,
            self_rating INTEGER, job_id VARCHAR, created_at TIMESTAMPTZ NOT NULL)""",
        "CREATE INDEX nodes_by_prompt ON nodes (prompt_id)",
        """CREATE TABLE scores (
            node_id VARCHAR NOT NULL, scorer VARCHAR NOT NULL, value DOUBLE NOT NULL,
            created_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (node_id, scorer))""",
        "CREATE SEQUENCE annotation_seq START 1",  # tie-break for annotations made in the same instant
        """CREATE TABLE annotations (
            id VARCHAR PRIMARY KEY, node_id VARCHAR NOT NULL, verdict VARCHAR, edited_text VARCHAR,
            author VARCHAR NOT NULL DEFAULT '', created_at TIMESTAMPTZ NOT NULL,
            seq BIGINT NOT NULL DEFAULT nextval('annotation_seq'))""",
        # The derived curation state (append-only history -> latest per node); conventions in curation.py.
        """CREATE VIEW current_node_states AS
            SELECT node_id, verdict, edited_text FROM (
                SELECT node_id,
                    NULLIF(arg_max(verdict, (created_at, seq)) FILTER (WHERE verdict IS NOT NULL), '')
                        AS verdict,
                    NULLIF(arg_max(edited_text, (created_at, seq)) FILTER (WHERE edited_text IS NOT NULL), '')
                        AS edited_text
                FROM annotations GROUP BY node_id)
            WHERE verdict IS NOT NULL OR edited_text IS NOT NULL""",
        """CREATE TABLE pairs (
            id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, prompt_id VARCHAR NOT NULL, context JSON,
            chosen VARCHAR NOT NULL, rejected VARCHAR NOT NULL, decided_by VARCHAR NOT NULL,
            chosen_node_id VARCHAR, rejected_node_id VARCHAR, chosen_score DOUBLE, rejected_score DOUBLE,
            built_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE sft_samples (
            id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, prompt_id VARCHAR NOT NULL, messages JSON,
            node_ids JSON, built_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE chains (
            id VARCHAR PRIMARY KEY, prompt_id VARCHAR NOT NULL, node_ids JSON, best_node_id VARCHAR,
            scores JSON, long_thought_node_id VARCHAR, created_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE templates (
            version VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, judge VARCHAR NOT NULL,
            revise VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE jobs (
            id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, status VARCHAR NOT NULL, request JSON,
            created_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ, error VARCHAR)""",
        """CREATE TABLE journal_imports (
            job_id VARCHAR PRIMARY KEY, "offset" BIGINT NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE runs (
            id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, config JSON, data_hash VARCHAR NOT NULL,
            status VARCHAR NOT NULL, output_dir VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE run_metrics (
            run_id VARCHAR NOT NULL, step BIGINT NOT NULL, name VARCHAR NOT NULL, value DOUBLE)""",
        "CREATE TABLE settings (key VARCHAR PRIMARY KEY, value JSON)",
        # Per-prompt aggregates, refreshed for the touched prompts on every write (summaries.py).
        """CREATE TABLE prompt_stats (
            prompt_id VARCHAR PRIMARY KEY, n_nodes INTEGER NOT NULL, n_verdicts INTEGER NOT NULL,
            n_edits INTEGER NOT NULL)""",
        """CREATE TABLE prompt_scorer_stats (
            prompt_id VARCHAR NOT NULL, scorer VARCHAR NOT NULL, best_reward DOUBLE, best_gain DOUBLE,
            n_improving INTEGER NOT NULL, PRIMARY KEY (prompt_id, scorer))""",
    ]
    for statement in statements:
        db.execute(statement)


def m002_scores_by_node(db: Database) -> None:
    """A one-column index for a prompt's scores: DuckDB looks rows up only through single-column
    indexes, so the (node_id, scorer) key alone left each tree load scanning every score (14 ms at
    600k scores, three times per prompt switch; 1.5 ms with this)."""
    db.execute("CREATE INDEX scores_by_node ON scores (node_id)")


# m003's reading of "an answer the UltraFeedback importer made a tree root": a response root that
# no job generated, with no imported children (avr-stage1 / long-thought trees have those) and no
# score from the avr-stage1 importer.
_M003_IMPORTED_ROOTS = """
    SELECT n.id, n.prompt_id, n.text, n.created_at FROM nodes n
    WHERE n.kind = 'response' AND n.parent_id IS NULL AND n.job_id IS NULL AND n.model = ''
      AND NOT EXISTS (SELECT 1 FROM nodes c WHERE c.parent_id = n.id AND c.job_id IS NULL)
      AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.node_id = n.id AND s.scorer = 'imported')"""


def m003_reference_answers_and_rule_sets(db: Database) -> None:
    """Reference answers kept apart from the trees (DESIGN.md §1.2), and the rule set every pair and
    SFT sample was built with.

    Existing projects: an imported UltraFeedback answer that no one grew, chained, scored by a job or
    curated becomes its prompt's reference answer (its node and scores go; the import's own score is
    kept in the reference's meta); one that already has children, annotations or a chain stays the
    tree's root, marked `model = 'imported'`. Pairs and samples built before rule sets were recorded get rules 'legacy'.
    """
    db.execute("""CREATE TABLE reference_answers (
        prompt_id VARCHAR PRIMARY KEY, text VARCHAR NOT NULL, source VARCHAR NOT NULL DEFAULT '',
        meta JSON, added_at TIMESTAMPTZ NOT NULL)""")
    db.execute("ALTER TABLE pairs ADD COLUMN rules VARCHAR")
    db.execute("ALTER TABLE sft_samples ADD COLUMN rules VARCHAR")
    db.execute("UPDATE pairs SET rules = 'legacy'")
    db.execute("UPDATE sft_samples SET rules = 'legacy'")

    db.execute(f"CREATE TEMP TABLE m003_roots AS {_M003_IMPORTED_ROOTS}")
    db.execute("""CREATE TEMP TABLE m003_moved AS SELECT r.* FROM m003_roots r
        WHERE NOT EXISTS (SELECT 1 FROM nodes c WHERE c.parent_id = r.id)
          AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.node_id = r.id)
          AND NOT EXISTS (SELECT 1 FROM chains ch WHERE list_contains(CAST(ch.node_ids AS VARCHAR[]), r.id))
          AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.node_id = r.id
                          AND s.scorer <> 'imported:ultrafeedback')""")
    # One reference per prompt: the earliest answer (ties by id), with the import's score if any.
    db.execute("""INSERT INTO reference_answers
        SELECT m.prompt_id, arg_min(m.text, (m.created_at, m.id)), coalesce(any_value(p.source), ''),
               to_json(struct_pack(migrated_from_node := arg_min(m.id, (m.created_at, m.id)),
                                   score := arg_min(s.value, (m.created_at, m.id)),
                                   scorer := CASE WHEN count(s.value) > 0 THEN 'imported:ultrafeedback' END)),
               min(m.created_at)
        FROM m003_moved m JOIN prompts p ON p.id = m.prompt_id
        LEFT JOIN scores s ON s.node_id = m.id AND s.scorer = 'imported:ultrafeedback'
        GROUP BY m.prompt_id""")
    db.execute("DELETE FROM pairs WHERE chosen_node_id IN (SELECT id FROM m003_moved) "
               "OR rejected_node_id IN (SELECT id FROM m003_moved)")
    db.execute("DELETE FROM scores WHERE node_id IN (SELECT id FROM m003_moved)")
    db.execute("DELETE FROM nodes WHERE id IN (SELECT id FROM m003_moved)")
    db.execute("UPDATE nodes SET model = 'imported' WHERE id IN (SELECT id FROM m003_roots) "
               "AND id NOT IN (SELECT id FROM m003_moved)")

    # The prompt list's cached aggregates, for the prompts that lost a node (formulas as of m001).
    db.execute("CREATE TEMP TABLE m003_touched AS SELECT DISTINCT prompt_id FROM m003_moved")
    db.execute("""DELETE FROM prompt_stats WHERE prompt_id IN (SELECT prompt_id FROM m003_touched)
        AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.prompt_id = prompt_stats.prompt_id)""")
    db.execute("""UPDATE prompt_stats SET n_nodes = (
        SELECT count(*) FROM nodes n WHERE n.prompt_id = prompt_stats.prompt_id)
        WHERE prompt_id IN (SELECT prompt_id FROM m003_touched)""")
    db.execute("""DELETE FROM prompt_scorer_stats WHERE prompt_id IN (SELECT prompt_id FROM m003_touched)
        AND NOT EXISTS (SELECT 1 FROM scores s JOIN nodes n ON n.id = s.node_id
                        WHERE n.prompt_id = prompt_scorer_stats.prompt_id AND s.scorer = prompt_scorer_stats.scorer
                        AND n.kind IN ('response', 'improvement'))""")
    db.execute("""UPDATE prompt_scorer_stats SET best_reward = (
        SELECT max(s.value) FROM scores s JOIN nodes n ON n.id = s.node_id
        WHERE n.prompt_id = prompt_scorer_stats.prompt_id AND s.scorer = prompt_scorer_stats.scorer
          AND n.kind IN ('response', 'improvement'))
        WHERE prompt_id IN (SELECT prompt_id FROM m003_touched)""")
    for table in ("m003_touched", "m003_moved", "m003_roots"):
        db.execute(f"DROP TABLE {table}")


def m004_training_runs(db: Database) -> None:
    """Training runs as the app lists them (stage, base, seed, adapter, final metrics, environment, finish
    time, error) and the held-out prompts: chosen at a project's first training, never trained on, the
    prompts before/after evaluation uses. No run was ever written before this, so `kind` is renamed."""
    statements = [
        "ALTER TABLE runs RENAME COLUMN kind TO stage",
        "ALTER TABLE runs ADD COLUMN base VARCHAR",
        "ALTER TABLE runs ADD COLUMN seed BIGINT",
        "ALTER TABLE runs ADD COLUMN adapter_path VARCHAR",
        "ALTER TABLE runs ADD COLUMN metrics JSON",
        "ALTER TABLE runs ADD COLUMN environment JSON",
        "ALTER TABLE runs ADD COLUMN finished_at TIMESTAMPTZ",
        "ALTER TABLE runs ADD COLUMN error VARCHAR",
        "CREATE INDEX run_metrics_by_run ON run_metrics (run_id)",
        """CREATE TABLE heldout_prompts (
            prompt_id VARCHAR PRIMARY KEY, seed BIGINT NOT NULL, chosen_at TIMESTAMPTZ NOT NULL)""",
    ]
    for statement in statements:
        db.execute(statement)


def m005_annotations_by_node(db: Database) -> None:
    """A one-column index for a node's annotations: the current curation state of a prompt's nodes
    (the `current_node_states` view, read on every prompt switch) aggregated every annotation of the
    project without it (17 ms per switch at 300k annotations; 2.8 ms with it)."""
    db.execute("CREATE INDEX annotations_by_node ON annotations (node_id)")


def m006_curation_caches(db: Database) -> None:
    """Two caches for the curation views, refreshed with the prompt stats (summaries.py):
    - how many of a prompt's nodes take a verdict (responses, criticisms, improvements): the curation
      flow's "next prompt with undecided nodes" and its "curated k of n" read them from the stats;
    - every scored answer per scorer with its length, round and, for an improvement, the reward of the
      answer its criticism judged and that criticism's self-rating: the reward-debugging aggregates
      scan this one table instead of joining nodes and scores three ways (0.9 s -> 50 ms at 700k nodes).
    """
    db.execute("ALTER TABLE prompt_stats ADD COLUMN n_judgeable INTEGER NOT NULL DEFAULT 0")
    db.execute("""UPDATE prompt_stats SET n_judgeable = counted.n FROM (
        SELECT prompt_id, count(*) AS n FROM nodes WHERE kind IN ('response', 'criticism', 'improvement')
        GROUP BY prompt_id) counted WHERE prompt_stats.prompt_id = counted.prompt_id""")
    db.execute("""CREATE TABLE answer_rewards (
        node_id VARCHAR NOT NULL, scorer VARCHAR NOT NULL, prompt_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        round INTEGER NOT NULL, value DOUBLE NOT NULL, length INTEGER NOT NULL,
        answer_id VARCHAR, judged_value DOUBLE, criticism_id VARCHAR, self_rating INTEGER)""")
    db.execute("""INSERT INTO answer_rewards
        SELECT s.node_id, s.scorer, n.prompt_id, n.kind, n.round, s.value, length(n.text),
               c.parent_id, sa.value, c.id, c.self_rating
        FROM scores s JOIN nodes n ON n.id = s.node_id
        LEFT JOIN nodes c ON c.id = n.parent_id AND n.kind = 'improvement'
        LEFT JOIN scores sa ON sa.node_id = c.parent_id AND sa.scorer = s.scorer
        WHERE n.kind IN ('response', 'improvement')""")
    # A prompt's rows are replaced on each write to it: the index keeps that a lookup, not a scan.
    db.execute("CREATE INDEX answer_rewards_by_prompt ON answer_rewards (prompt_id)")


def m007_job_notes_and_slot_conflicts(db: Database) -> None:
    """What ingesting a job's journal had to say (a skipped bad line, refused results), kept so the
    app's job panel and the CLI can show it after the fact; and the results refused because their
    tree slot was already full (a killed job's orphaned worker and a new run grew the same slot):
    the refused text stays here, beside the nodes that hold the slot, instead of overfilling the tree."""
    db.execute("""CREATE TABLE job_notes (
        job_id VARCHAR NOT NULL, level VARCHAR NOT NULL, text VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL, seq BIGINT NOT NULL)""")
    db.execute("CREATE INDEX job_notes_by_job ON job_notes (job_id)")
    db.execute("""CREATE TABLE slot_conflicts (
        node_id VARCHAR PRIMARY KEY, job_id VARCHAR NOT NULL, prompt_id VARCHAR NOT NULL,
        kind VARCHAR NOT NULL, parent_id VARCHAR, text VARCHAR NOT NULL, reason VARCHAR NOT NULL,
        occupants JSON, scores JSON, record JSON, created_at TIMESTAMPTZ NOT NULL)""")
    db.execute("CREATE INDEX slot_conflicts_by_prompt ON slot_conflicts (prompt_id)")


def m008_evaluations(db: Database) -> None:
    """Before / after evaluations of trained runs: the two models' answers on the held-out prompts and
    every score of them (backend/store/evaluations.py), so a win rate can be recomputed from the rows."""
    db.execute("""CREATE TABLE evaluations (
        id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, against VARCHAR NOT NULL, base_model VARCHAR NOT NULL,
        trained_model VARCHAR NOT NULL, scorers JSON NOT NULL, training_scorer VARCHAR, prompts INTEGER NOT NULL,
        job_id VARCHAR, status VARCHAR NOT NULL, created_at TIMESTAMPTZ NOT NULL)""")
    db.execute("""CREATE TABLE eval_answers (
        evaluation_id VARCHAR NOT NULL, prompt_id VARCHAR NOT NULL, side VARCHAR NOT NULL, text VARCHAR NOT NULL,
        answer VARCHAR NOT NULL, PRIMARY KEY (evaluation_id, prompt_id, side))""")
    db.execute("""CREATE TABLE eval_scores (
        evaluation_id VARCHAR NOT NULL, prompt_id VARCHAR NOT NULL, side VARCHAR NOT NULL, scorer VARCHAR NOT NULL,
        value DOUBLE NOT NULL, PRIMARY KEY (evaluation_id, prompt_id, side, scorer))""")


MIGRATIONS: list[Callable[[Database], None]] = [
    m001_initial_schema,
    m002_scores_by_node,
    m003_reference_answers_and_rule_sets,
    m004_training_runs,
    m005_annotations_by_node,
    m006_curation_caches,
    m007_job_notes_and_slot_conflicts,
    m008_evaluations,
]


def _ensure_migrations_table(db: Database) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
    )


def applied_versions(db: Database) -> list[int]:
    _ensure_migrations_table(db)
    return [row[0] for row in db.rows("SELECT version FROM schema_migrations ORDER BY version")]


def schema_version(db: Database) -> int:
    versions = applied_versions(db)
    return versions[-1] if versions else 0


def migrate(db: Database) -> list[int]:
    """Apply the migrations this database has not had, each in its own transaction; return their versions."""
    done = set(applied_versions(db))
    applied = []
    for version, migration in enumerate(MIGRATIONS, start=1):
        if version in done:
            continue
        with db.transaction():
            migration(db)
            db.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now())", [version, migration.__name__]
            )
        applied.append(version)
    return applied
