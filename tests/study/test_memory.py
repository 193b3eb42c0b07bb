"""Memory-aware recommendations: each configuration's USS per worker and the parent's, and the cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from poolside.spec import JobSpec
from poolside.study import Config, ConfigResult, StudyResult, memory, prepare_study
from poolside.study.recommend import recommend
from poolside.words.study import memory_sentence
from tests import ROOT


def held_study(folder: str) -> StudyResult:
    # Items of 150 ms: every run lasts past proctree.USS_MIN_RUN_S, so its USS is read.
    spec = JobSpec(f"{ROOT / 'tests' / 'plugin_files' / 'memory_tasks.py'}:hold", paths=(folder,), recursive=True,
                   patterns=("*",), params={"mb": "40", "ms": "150"})
    return prepare_study(spec, sample=8, repeats=1, backends=["threads", "processes"], workers=[2]).run()


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> StudyResult:
    folder = tmp_path_factory.mktemp("items")
    for i in range(8):
        (folder / f"f{i:02}").write_text("x")
    return held_study(str(folder))


def by_backend(result: StudyResult, backend: str) -> ConfigResult:
    return next(c for c in result.configs if c.config.backend == backend)


def test_a_study_records_each_workers_uss_and_the_parents(study: StudyResult) -> None:
    procs, threads = by_backend(study, "processes"), by_backend(study, "threads")
    assert procs.worker_mb is not None and procs.worker_mb >= 40  # the 40 MB each item holds
    assert threads.worker_mb is None  # threads are the parent: no worker process
    assert procs.parent_mb and threads.parent_mb
    base = memory.base_parent(study.configs)
    assert base is not None and base <= procs.parent_mb
    assert memory.need_mb(procs, base=base) == pytest.approx(base + 2 * procs.worker_mb)
    assert memory.need_mb(procs, workers=8, base=base) == pytest.approx(base + 8 * procs.worker_mb)
    # A cap with room for ten and a half workers beside the parent (which, late in a test
    # session, may itself hold a gigabyte).
    cap_mb = base + 10.5 * procs.worker_mb
    fit = memory.fit(procs, memory.Limit(int(cap_mb * 1e6), True), base)
    assert fit is not None and fit["max_workers"] == 10
    again = StudyResult.from_dict(study.to_dict())
    assert by_backend(again, "processes").worker_mb == procs.worker_mb
    assert study.to_dict()["configs"][-1].keys() >= {"parent_mb", "worker_mb"}


def test_a_cap_leaves_out_what_would_not_fit_and_the_why_says_so(study: StudyResult) -> None:
    # Processes ×2 holds the parent and two workers of 40 MB each: a cap just below that leaves it out.
    procs, base = by_backend(study, "processes"), memory.base_parent(study.configs)
    need = memory.need_mb(procs, base=base)
    assert need is not None
    cap = int((need - 1) * 1e6)
    fits, over = memory.within(study.configs, memory.limit(cap))
    assert procs in over and by_backend(study, "sequential") in fits
    assert study.diagnosis is not None
    rec = recommend(study.configs, study.diagnosis, 2, max_memory=cap)
    assert rec is not None and rec.config.backend != "processes"
    pick = by_backend(study, rec.config.backend)
    assert (memory.need_mb(pick, base=base) or 0) * 1e6 <= cap
    assert rec.reasons["memory_fit"]["cap"] and rec.reasons["memory_fit"]["limit_bytes"] == cap
    if procs.median_s < pick.median_s:  # faster, left out: the why names it with its need
        assert "processes ×2 ran faster but needs about" in rec.why.lower() and "cap" in rec.why
        assert rec.reasons["memory"]["left_out"][0]["config"]["backend"] == "processes"


def test_without_a_cap_the_limit_is_the_memory_available() -> None:
    import psutil

    lim = memory.limit(None)
    assert not lim.cap and 0 < lim.bytes <= psutil.virtual_memory().total


def test_the_memory_sentence_reads_in_the_caps_units() -> None:
    text = memory_sentence({"limit_mb": 2000.0, "limit_bytes": 2 * 10**9, "cap": True, "left_out": [
        {"config": {"backend": "processes", "workers": 8, "chunk_size": "auto", "method": None},
         "need_mb": 2300.0, "parent_mb": 1100.0, "worker_mb": 150.0}]})
    assert text == ("Processes ×8 ran faster but needs about 2.3 GB (1.1 GB in the parent + 8 × 150 MB per worker), "
                    "above the 2 GB cap")


def test_a_bad_cap_is_a_clear_error(tmp_path: Path) -> None:
    from poolside.study import StudyError

    with pytest.raises(StudyError, match="max_memory: '2 jigawatts' is not a size"):
        prepare_study(JobSpec("sha256", paths=(str(tmp_path),)), max_memory="2 jigawatts")


def test_a_configuration_predicted_not_to_fit_is_never_started(tmp_path: Path) -> None:
    for i in range(4):
        (tmp_path / f"f{i}").write_text("x")
    spec = JobSpec(f"{ROOT / 'tests' / 'plugin_files' / 'memory_tasks.py'}:hold", paths=(str(tmp_path),),
                   recursive=True, patterns=("*",), params={"mb": "100", "ms": "150"})
    # One worker holds ~100 MB: eight need well over 0.8 GB; one fits (the parent is far below 0.7 GB).
    result = prepare_study(spec, sample=4, repeats=1, backends=["processes"], workers=[1, 8],
                           max_memory="0.8GB").run()
    one, eight = (next(c for c in result.configs if c.config == Config("processes", n)) for n in (1, 8))
    assert one.runs and one.worker_mb is not None and one.worker_mb >= 100
    assert not eight.runs and eight.warmup is None  # never started
    assert eight.error is not None and eight.error.startswith("skipped: predicted to need about ")
    assert " per worker), above the 800 MB cap" in eight.error and "+ 8 × " in eight.error
    assert result.recommendation is not None and result.recommendation.config != eight.config
