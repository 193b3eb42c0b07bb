"""``poolside observe`` on real programs: roles, the verdict's kind, the exit code passing through.

Each program does about 1 s of CPU work.  The verdicts hold on a loaded 2-core
machine: busy time counts the run-queue wait (schedstat), so a starved worker
is never read as an idle one.  The observe fixture also checks that no
observer thread or process outlives each observation.
"""

from __future__ import annotations

from tests.observe.conftest import roles


def test_multiprocessing_pool_is_parallel(observe):
    code, record = observe("pool_pure.py")
    assert code == 0
    assert roles(record) == [("main", None), ("worker", "multiprocessing.Pool"), ("worker", "multiprocessing.Pool")]
    assert record["verdict"]["kind"] == "cpu-parallel", record["verdict"]
    pool = record["verdict"]["evidence"]["pools"][0]
    assert pool["workers"] == 2 and pool["idle_share"] < 0.3


def test_process_pool_executor(observe):
    code, record = observe("executor.py")
    assert code == 0
    assert roles(record) == [("main", None), ("worker", "ProcessPoolExecutor"), ("worker", "ProcessPoolExecutor")]
    assert record["verdict"]["kind"] == "cpu-parallel", record["verdict"]


def test_joblib_loky(observe):
    code, record = observe("joblib_loky.py")
    assert code == 0
    assert roles(record) == [("main", None), ("worker", "loky"), ("worker", "loky")]
    assert "helper" in {p["role"] for p in record["processes"]}  # loky's and multiprocessing's trackers
    assert record["verdict"]["kind"] == "cpu-parallel", record["verdict"]


def test_threads_on_pure_python_are_held_by_the_gil(observe):
    code, record = observe("threads_pure.py")
    assert code == 0
    assert roles(record) == [("main", None)]
    verdict = record["verdict"]
    assert verdict["kind"] == "cpu-gil", verdict
    gil = verdict["evidence"]["gil"]
    assert gil["busy_threads"] >= 2 and gil["process_cores"] <= 1.25 and gil["threads_oncpu"] < 0.5
    assert "GIL" in verdict["why"] and "threads busy" in verdict["why"]


def test_threads_on_hashlib_are_not_flagged(observe):
    code, record = observe("threads_hashlib.py")
    assert code == 0
    assert roles(record) == [("main", None)]
    assert record["verdict"]["kind"] == "cpu-parallel", record["verdict"]
    assert "gil" not in record["verdict"]["evidence"]
    assert record["verdict"]["evidence"]["threads"]["threads_oncpu"] > 0.5


def test_tiny_items_one_at_a_time_make_the_parent_the_bottleneck(observe):
    code, record = observe("chunks_tiny.py")
    assert code == 0
    assert roles(record) == [("main", None), ("worker", "multiprocessing.Pool"), ("worker", "multiprocessing.Pool")]
    verdict = record["verdict"]
    assert verdict["kind"] == "overhead", verdict
    assert "chunksize" in verdict["why"] and "bottleneck" in verdict["why"]


def test_a_failing_program_exit_code_passes_through(observe, capfd):
    code, record = observe("exit_nonzero.py")
    assert code == 3 and record["exit_code"] == 3
    assert "working, then failing" in capfd.readouterr().out  # its stdout is its own
    assert roles(record) == [("main", None)]
    assert record["verdict"]["kind"] == "serial", record["verdict"]


def test_children_too_short_to_sample_are_counted_from_exit_accounting(observe):
    code, record = observe("short_children.py")  # eight children of ~40 ms of CPU each, sampled at 4 Hz
    assert code == 0
    evidence = record["verdict"]["evidence"]
    assert evidence["unseen_children_cpu_s"] > 0.05


def test_threads_that_sleep_are_waiting(observe):
    code, record = observe("threads_sleep.py")
    assert code == 0
    assert record["verdict"]["kind"] == "waiting", record["verdict"]
