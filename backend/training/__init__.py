"""Local training with TRL + PEFT (DESIGN.md §2 "Training").

Light modules (the app and CLI import them): `config` (TrainingConfig, presets), `runs` (plan a run
before the click, prepare it, sync its folder into the store), `snapshot` (the Parquet data a run
reads), `estimate`, `evaluation` (before/after arithmetic), `events`, `run_folder`, `splits`,
`stage2_data`. Heavy ones load torch and TRL inside their functions and run in the worker (or under
`accelerate launch`): `trainer.train_run` dispatches to `sft`, `dpo` or `reward`; `models` resolves and
merges bases.

What chains a stage's phases as worker jobs, and before / after, submit to the worker, so they live
there (`backend.worker.training_stages`, `backend.worker.before_after`, `backend.worker.thought_pairs`):
this package never imports the worker.
"""
