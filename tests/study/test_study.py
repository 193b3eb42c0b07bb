"""Studies: bookkeeping (interleaving, one sample for all, scratch outputs, cancel), the
statistics and auto mode's decisions on numbers, and the diagnosis on tasks whose nature is known.

Runs use in-process backends and small samples so the whole module takes a couple of
seconds; assertions are about categories and bookkeeping, never about times.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest

from poolside.spec import JobSpec
from poolside.study import Config, StudyError, compare, grid, prepare_study
from poolside.study.plan import Nature, Probe, next_round
from poolside.study.stats import karp_flatt, lead, spread, warnings_for

SEEN: list = []
_seen_lock = threading.Lock()


def remember(item: int) -> int:
    with _seen_lock:
        SEEN.append(item)
    return item


def sleepy(item: int) -> int:
    time.sleep(0.004)  # ok: the item's own work (a wait), not a test waiting
    return item


def pure_python(item: int) -> int:
    total = 0
    for i in range(100_000):
        total += i * i
    return total


_BLOCK = bytes(2_000_000)


def hashing(item: int) -> str:
    return hashlib.sha256(_BLOCK).hexdigest()  # hashlib releases the GIL for buffers this big


def trivial(item: int) -> int:
    return item


IN_PROCESS = dict(backends=("threads", "thread-executor"), workers=(2,))


def test_repeats_are_interleaved_in_a_seeded_shuffled_order_and_every_run_gets_the_same_sample():
    segments: list[tuple[str, Config | None, list]] = []

    def progress(p):
        with _seen_lock:
            if segments:
                segments[-1][2].extend(SEEN)
            SEEN.clear()
        segments.append((p.phase, p.config, []))

    study = compare(remember, range(200), sample=30, repeats=6, on_progress=progress, seed=7, **IN_PROCESS)
    with _seen_lock:
        segments[-1][2].extend(SEEN)
    repeats = [(s[1], sorted(s[2])) for s in segments if s[0] == "repeat"]
    configs = [Config("sequential", 1), Config("threads", 2), Config("thread-executor", 2)]
    rounds = [[c for c, _ in repeats[i:i + 3]] for i in range(0, len(repeats), 3)]
    assert len(rounds) == 6 and all(sorted(r) == sorted(configs) for r in rounds)  # each once a round
    assert len({tuple(r) for r in rounds}) > 1  # in more than one order
    assert study.seed == 7 and study.to_dict()["seed"] == 7
    again: list = []
    compare(trivial, range(200), sample=30, repeats=6, seed=7, record=False,
            on_progress=lambda p: again.append(p.config) if p.phase == "repeat" else None, **IN_PROCESS)
    assert again == [c for c, _ in repeats]  # the seed repeats the order
    sample = repeats[0][1]
    assert len(sample) == 30 == study.items
    timed_or_warm = [sorted(s[2]) for s in segments if s[0] in ("repeat", "warm-up")]
    assert all(items == sample for items in timed_or_warm)  # the very same items, every run
    assert all(len(c.runs) == 6 for c in study.configs)


def test_a_study_without_a_seed_draws_one_and_records_it():
    a = compare(trivial, range(50), sample=20, repeats=1, **IN_PROCESS)
    b = compare(trivial, range(50), sample=20, repeats=1, **IN_PROCESS)
    assert isinstance(a.seed, int) and a.seed != b.seed


def test_a_a_the_same_configuration_twice_reads_not_significant():
    """Two runs of one configuration, each round in a shuffled order, must not differ significantly."""
    import random

    from poolside.study.measure import Current, measure

    config, current = Config("threads", 2), Current()
    times: dict[str, list[float]] = {"A": [], "B": []}
    order = random.Random("order-11")
    for _ in range(5):
        names = ["A", "B"]
        order.shuffle(names)
        for name in names:
            times[name].append(measure(sleepy, list(range(20)), config, timeout=None, current=current).wall_s)
    for first, second in (("A", "B"), ("B", "A")):
        assert not lead(times[first], times[second]).significant, times


def test_outputs_go_to_a_scratch_folder_that_is_removed(tmp_path: Path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(25):
        (inputs / f"f{i}.txt").write_text("hello " * (i + 1))
    out = tmp_path / "user-out"
    scratch_seen: list[Path] = []

    def progress(p):
        if study.scratch_root is not None:
            scratch_seen.append(study.scratch_root)

    spec = JobSpec("gzip", paths=(str(inputs),), recursive=True, params={"out": str(out)})
    study = prepare_study(spec, repeats=1, backends=("threads",), workers=(2,), on_progress=progress)
    result = study.run()
    assert all(c.counts.get("ok") == result.items for c in result.configs)
    assert not out.exists()  # never the user's output folder
    assert scratch_seen and not scratch_seen[-1].exists()  # the scratch folder is gone
    assert sorted(p.name for p in inputs.iterdir()) == sorted(f"f{i}.txt" for i in range(25))


def test_a_plugin_with_side_effects_needs_confirmation(tmp_path: Path):
    (tmp_path / "urls.txt").write_text("http://127.0.0.1:9/x\n")
    with pytest.raises(StudyError, match="downloads"):
        prepare_study(JobSpec("fetch", paths=(str(tmp_path / "urls.txt"),)))


def test_cancel_stops_the_study_and_returns_what_it_has():
    events = []

    def progress(p):
        events.append(p.phase)
        if p.phase == "repeat":
            study.cancel()

    study = prepare_study(sleepy, range(40), sample=20, repeats=3, on_progress=progress, **IN_PROCESS)
    result = study.run()
    assert result.cancelled
    assert events.count("repeat") == 1  # nothing ran after the cancel
    assert not any(c.runs for c in result.configs)  # the cancelled run is not counted as a repeat


@pytest.mark.parametrize(("task", "count", "kind"), [
    (sleepy, 30, "waiting"),
    (pure_python, 30, "cpu-gil"),
    (hashing, 30, "cpu-parallel"),
    (trivial, 3000, "overhead"),
])
def test_diagnosis_of_tasks_whose_nature_is_known(task, count, kind):
    result = compare(task, range(count), sample=count, repeats=1, backends=("threads",), workers=(2,))
    assert result.diagnosis is not None
    assert result.diagnosis.kind == kind, result.diagnosis.evidence
    assert result.recommendation is not None and result.recommendation.why


def test_study_record_has_the_documented_fields():
    record = compare(trivial, range(100), sample=50, repeats=2, **IN_PROCESS).to_dict()
    assert {"plugin", "params", "items", "poolside", "machine", "configs", "diagnosis", "recommendation",
            "significant"} <= set(record)
    assert {"logical", "physical", "cpu", "python", "os"} <= set(record["machine"])
    config_keys = {"backend", "workers", "chunk_size", "method", "wall_s", "median_s", "mad_s", "min_s",
                   "max_s", "speedup", "efficiency", "startup_s", "cpu_s", "peak_mb", "ok", "failed",
                   "timed_out", "cancelled"}
    assert all(config_keys <= set(c) for c in record["configs"])
    assert {"backend", "workers", "chunk_size", "method", "speedup", "why"} <= set(record["recommendation"])


# -- numbers only ------------------------------------------------------------------


def test_lead_three_repeats_is_significant_only_when_fully_separated():
    separated = lead([1.0, 1.01, 1.02], [1.2, 1.21, 1.22])
    assert separated.significant and separated.p_value == pytest.approx(0.05)
    overlapping = lead([1.0, 1.15, 1.02], [1.1, 1.21, 1.05])
    assert not overlapping.significant
    assert not lead([1.0], [2.0]).significant  # one repeat proves nothing


def test_spread_and_warnings():
    s = spread([1.0, 2.0, 1.1])
    assert (s.median, s.min, s.max) == (1.1, 1.0, 2.0)
    assert s.mad == pytest.approx(0.1)
    assert "slow-first" in warnings_for([2.0, 1.0, 1.01])
    assert warnings_for([1.0, 1.001, 1.002]) == []


def test_karp_flatt():
    assert karp_flatt(2.0, 2) == pytest.approx(0.0)
    assert karp_flatt(1.0, 4) == pytest.approx(1.0)
    assert karp_flatt(1.5, 1) is None


def test_grid_has_one_sequential_baseline_and_methods_only_where_they_apply():
    configs = grid(["sequential", "threads", "mp-pool"], [2, 4], ["auto"], ["imap", None])
    assert configs[0] == Config("sequential", 1)
    assert sum(c.sequential for c in configs) == 1
    assert Config("threads", 2, "auto", "imap") not in configs
    assert Config("mp-pool", 4, "auto", "imap") in configs


def test_auto_mode_doubles_waiting_workers_while_it_pays():
    waiting = Nature(cpu_ratio=0.05, item_s=0.01)
    base = Probe(Config("sequential", 1), 10.0, 0.5, 1000)
    two = Probe(Config("threads", 2), 5.0, 0.5, 1000)
    proc = Probe(Config("processes", 2), 5.5, 0.5, 1000)
    assert next_round(waiting, [base, two, proc], 1000) == [Config("threads", 4)]
    four = Probe(Config("threads", 4), 2.6, 0.5, 1000)
    assert next_round(waiting, [base, two, proc, four], 1000) == [Config("threads", 8)]
    eight = Probe(Config("threads", 8), 2.5, 0.5, 1000)  # only 4 % better: stop
    assert next_round(waiting, [base, two, proc, four, eight], 1000) == []
    cpu = Nature(cpu_ratio=0.98, item_s=0.01)
    assert next_round(cpu, [base, two, proc], 1000) == []


def test_a_tie_within_noise_goes_to_what_the_diagnosis_favours():
    from poolside.study.recommend import tie_break
    from poolside.study.record import ConfigResult, Diagnosis, RunNumbers

    def result(config, times):
        return ConfigResult(config, [RunNumbers(t, t, t, {"ok": 10}) for t in times])

    threads = result(Config("threads", 2), [1.00, 1.02, 0.99])
    procs = result(Config("processes", 2), [1.01, 1.00, 1.03])
    slow = result(Config("processes", 4), [1.5, 1.6, 1.55])
    configs = [threads, procs, slow]
    assert tie_break(configs, Diagnosis("cpu-gil", {})) is procs
    assert tie_break(configs, Diagnosis("waiting", {})) is threads
    clear = result(Config("threads", 2), [0.5, 0.51, 0.52])  # clearly faster: no tie to break
    assert tie_break([clear, procs], Diagnosis("cpu-gil", {})) is clear


def test_each_round_reports_every_configurations_numbers_so_far():
    events: list = []
    study = compare(trivial, range(100), sample=20, repeats=3, on_progress=lambda p: events.append(p),
                    on_round=lambda r: events.append(r), **IN_PROCESS)
    rounds = [e for e in events if hasattr(e, "round")]
    assert [r.round for r in rounds] == [1, 2, 3] and all(r.repeats == 3 for r in rounds)
    # Each round is told right after its last repeat, before the next round's first.
    phases = [("round", e.round) if hasattr(e, "round") else (e.phase, e.repeat) for e in events]
    for r in (1, 2, 3):
        at = phases.index(("round", r))
        assert phases[at - 1] == ("repeat", r)
        assert all(p != ("repeat", r) for p in phases[at + 1:])
    names = [(c.config.backend, c.config.workers) for c in rounds[0].configs]
    assert names == [("sequential", 1), ("threads", 2), ("thread-executor", 2)]  # the baseline first
    for r in rounds:
        assert [(c.config.backend, c.config.workers) for c in r.configs] == names
        base = r.configs[0]
        assert base.speedup == 1.0
        for c in r.configs:
            assert len(c.runs) == r.round  # the repeats so far (a snapshot: later rounds do not grow it)
            assert c.speedup == pytest.approx(base.median_s / c.median_s)
    final = {(c.config.backend, c.config.workers): c for c in study.configs}
    assert all(final[n].wall_s == c.wall_s for n, c in zip(names, rounds[-1].configs))
