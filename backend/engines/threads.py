"""How many threads torch uses while the transformers engine generates: the cores the rest of the
machine leaves idle, re-checked about once a second.

Measured on the 2-core machines: torch's OpenMP threads spin-wait for each other, so while another
process keeps one core busy a second thread makes generation 3-6x slower (a descheduled thread holds
up every barrier while its partner spins; batch-1 generate fell from 16 to 2.5 tokens/s), whereas on
an idle machine two threads beat one. The thread count changes no result (texts were identical at one
and two threads). Linux reads /proc/stat; elsewhere torch's own default is kept.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

_CHECK_EVERY_S = 1.0
_BUSY_SLACK = 0.3  # another process using less than this much of a core does not cost us a thread


def threads_for(others_busy: float, cores: int) -> int:
    """Threads for `cores` cores when other processes keep `others_busy` cores busy (at least one).

    >>> threads_for(0.1, 2), threads_for(0.9, 2), threads_for(1.8, 2), threads_for(2.5, 8)
    (2, 1, 1, 5)
    """
    return max(1, min(cores, cores - math.ceil(others_busy - _BUSY_SLACK)))


def others_busy_cores(busy_ticks: float, own_ticks: float, seconds: float, ticks_per_s: float) -> float:
    """Cores kept busy by other processes over an interval, from the machine's busy ticks and ours.

    >>> others_busy_cores(busy_ticks=250, own_ticks=100, seconds=1.0, ticks_per_s=100)
    1.5
    """
    if seconds <= 0:
        return 0.0
    return max(0.0, (busy_ticks - own_ticks) / (seconds * ticks_per_s))


def _machine_busy_ticks() -> float | None:
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    values = [float(v) for v in fields[:8]]  # user nice system idle iowait irq softirq steal
    return sum(values) - values[3] - values[4]


def _own_ticks() -> float:
    times = os.times()
    return (times.user + times.system) * os.sysconf("SC_CLK_TCK")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class ThreadGovernor:
    """Sets torch's thread count from the machine's load; `tick()` is cheap and re-checks once a second.

    `fixed` > 0 pins the count instead (a setting, or a test that wants one thread).
    """

    def __init__(self, fixed: int = 0, cores: int | None = None) -> None:
        self.fixed = fixed
        self.cores = cores or available_cores()
        self.threads = 0
        self._last: tuple[float, float, float] | None = None  # (time, machine busy ticks, own ticks)

    def start(self, sample_s: float = 0.2) -> int:
        """Choose the thread count now, from a short look at the machine (the engine's load path)."""
        self._last = self._sample()
        if self._last is not None and not self.fixed:
            time.sleep(sample_s)
        self._check(force=True)
        return self.threads

    def tick(self) -> None:
        if self._last is not None and time.monotonic() - self._last[0] >= _CHECK_EVERY_S:
            self._check()

    def _sample(self) -> tuple[float, float, float] | None:
        busy = _machine_busy_ticks()
        return None if busy is None else (time.monotonic(), busy, _own_ticks())

    def _check(self, force: bool = False) -> None:
        import torch

        if self.fixed:
            wanted = self.fixed
        else:
            now = self._sample()
            if now is None or self._last is None:
                return  # no /proc/stat: keep torch's default
            seconds = now[0] - self._last[0]
            others = others_busy_cores(now[1] - self._last[1], now[2] - self._last[2], seconds,
                                       os.sysconf("SC_CLK_TCK"))
            self._last = now
            wanted = threads_for(others, self.cores)
        if force or wanted != self.threads:
            torch.set_num_threads(wanted)
            self.threads = wanted
