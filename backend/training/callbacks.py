"""The Trainer callback that turns TRL's logs into TrainingEvents (metrics, progress, tokens/s, ETA) and
stops the run, with a checkpoint, when the person cancels.

Imported only inside training functions (it subclasses a transformers class).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from transformers import TrainerCallback

from backend.training.events import TrainingEvent

# The Trainer's end-of-training summary; it becomes the run's final metrics, not a point on a curve.
SUMMARY_KEYS = ("train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos", "train_loss")


class EventCallback(TrainerCallback):
    def __init__(self, run_id: str, emit: Callable[[TrainingEvent], None],
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.run_id = run_id
        self.emit = emit
        self.should_stop = should_stop
        self.cancelled = False
        self.last_metrics: dict[str, float] = {}
        self.summary: dict[str, float] = {}
        self._session_start = time.time()
        self._first_step: int | None = None
        self._tokens_start: float | None = None  # TRL's cumulative num_tokens at this session's first log
        self._tokens_seen = 0.0
        self._last_log: tuple[float, float] | None = None  # (time, num_tokens) of the previous log

    # --- progress -------------------------------------------------------------------------------
    def on_train_begin(self, args, state, control, **kwargs):
        self._session_start = time.time()
        self._first_step = state.global_step
        if state.is_world_process_zero:
            resumed = f" (resumed at step {state.global_step})" if state.global_step else ""
            self.emit(self._event("started", state, message=f"training {state.max_steps} steps{resumed}"))

    def on_step_end(self, args, state, control, **kwargs):
        if self.should_stop is not None and self.should_stop():
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = True  # the next start resumes from here
        return control

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.emit(self._event("checkpoint", state, message=f"checkpoint at step {state.global_step}"))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        numbers = {key: float(value) for key, value in logs.items()
                   if isinstance(value, int | float) and not isinstance(value, bool)}
        summary = {key: value for key, value in numbers.items() if key in SUMMARY_KEYS}
        if summary:
            self.summary.update(summary)
            return
        tokens_per_second = self._tokens_per_second(numbers.get("num_tokens"))
        numbers.pop("epoch", None)
        self.last_metrics = numbers
        self.emit(self._event("metrics", state, metrics=numbers, tokens_per_second=tokens_per_second,
                              eta_seconds=self._eta(state)))

    # --- figures ----------------------------------------------------------------------------------
    @property
    def session_tokens_per_second(self) -> float | None:
        """Tokens trained per second over this session (None before two logs)."""
        elapsed = time.time() - self._session_start
        return self._tokens_seen / elapsed if self._tokens_seen and elapsed > 0 else None

    def _tokens_per_second(self, num_tokens: float | None) -> float | None:
        now = time.time()
        if num_tokens is None:
            return None
        if self._tokens_start is None:
            self._tokens_start = 0.0  # TRL counts from 0 at each session's start
        self._tokens_seen = num_tokens - self._tokens_start
        previous, self._last_log = self._last_log, (now, num_tokens)
        if previous is None:
            elapsed = now - self._session_start
            return num_tokens / elapsed if elapsed > 0 else None
        elapsed, tokens = now - previous[0], num_tokens - previous[1]
        return tokens / elapsed if elapsed > 0 and tokens >= 0 else None

    def _eta(self, state) -> float | None:
        done = state.global_step - (self._first_step or 0)
        if done <= 0 or not state.max_steps:
            return None
        per_step = (time.time() - self._session_start) / done
        return max(state.max_steps - state.global_step, 0) * per_step

    def _event(self, kind: str, state, **fields) -> TrainingEvent:
        return TrainingEvent(kind=kind, run_id=self.run_id, step=state.global_step, max_steps=state.max_steps,
                             epoch=float(state.epoch or 0.0), time=time.time(), **fields)
