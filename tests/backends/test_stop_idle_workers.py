"""Stopping the parked workers: all at once, one grace period for all."""

from __future__ import annotations

import types

import pytest

from poolside.backends import _parking, workers


class _StuckWorker:
    """A parked worker that ignores EOF: join() waits its whole timeout (on a fake clock)."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.alive = True
        self.killed = False
        self.tasks = types.SimpleNamespace(close=lambda: None)
        self.process = self
        self.method = "fake"

    def join(self, timeout: float | None = None) -> None:
        if self.alive and timeout is not None:
            self.clock[0] += timeout

    def is_alive(self) -> bool:
        return self.alive

    def kill(self) -> None:
        self.killed, self.alive = True, False

    def close(self) -> None:
        pass


def test_stop_idle_workers_waits_for_all_at_once_not_one_after_another(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(_parking, "time", types.SimpleNamespace(monotonic=lambda: clock[0]))
    stuck = [_StuckWorker(clock) for _ in range(4)]
    monkeypatch.setitem(_parking._parked, "fake", list(stuck))
    workers.stop_idle_workers()
    assert all(w.killed for w in stuck)
    # One grace period for all four, not four in a row.
    assert clock[0] == pytest.approx(_parking._STOP_GRACE_S)
    assert "fake" not in _parking._parked
