"""A run's insights in words: the GIL, the waits, held-back results, memory."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")



def test_insight_sentences_name_the_gil_the_waits_and_held_back_results():
    from poolside.engine.insights import Insights
    from poolside.gui.workspaces.run.insight_words import sentences

    def insights(**changes):
        base = dict(wall_s=2.0, workers=8, cores=2, in_process=True, items=100, cpu_user_s=1.0,
                    cpu_system_s=0.0, cpu_workers_s=0.0, peak_rss_bytes=50 * 2**20, peak_uss_bytes=None,
                    end_uss_bytes=None, startup_s=0.01, first_outcome_s=0.05, drain_s=0.0, busy_s=14.0,
                    busy_share=0.9, cpu_utilisation=0.25, busy_threads=7.6, process_cores=1.0, task_cores=0.95,
                    free_cores=2.0, gil_bound=True, chunk_min=1, chunk_median=1, chunk_max=1,
                    overhead_per_item_s=1e-4)
        base.update(changes)
        return Insights(**base)

    gil = " ".join(sentences(insights()))
    assert "8 threads were busy but the process used 1.0 core: the GIL serialised them — try processes." in gil
    waits = " ".join(sentences(insights(gil_bound=False, cpu_utilisation=0.02, process_cores=0.04)))
    assert "mostly waited" in waits and "GIL" not in waits
    held = " ".join(sentences(insights(gil_bound=None, first_outcome_s=1.9)))
    assert "held results back" in held
    slow_start = " ".join(sentences(insights(gil_bound=None, startup_s=0.9)))
    assert "Start-up took 900.0 ms" in slow_start
    assert sentences(None) == []


def test_the_insights_name_which_memory_they_count():
    from poolside.engine.insights import Insights
    from poolside.gui.workspaces.run.insight_words import sentences as insight_sentences

    base = dict(wall_s=1.0, workers=2, cores=2, in_process=False, items=10, cpu_user_s=0.1, cpu_system_s=0.0,
                cpu_workers_s=1.0, peak_rss_bytes=60 * 2**20, peak_uss_bytes=None, end_uss_bytes=None,
                startup_s=0.01, first_outcome_s=0.05, drain_s=0.0, busy_s=1.8, busy_share=0.9,
                cpu_utilisation=0.5, busy_threads=1.8, process_cores=0.1, free_cores=2.0, task_cores=0.0,
                gil_bound=None, chunk_min=1, chunk_median=1.0, chunk_max=1, overhead_per_item_s=0.001)
    said = " ".join(insight_sentences(Insights(**base)))
    assert "60.0 MiB resident (RSS) summed over the run's processes." in said
    said = " ".join(insight_sentences(Insights(**{**base, "peak_uss_bytes": 30 * 2**20})))
    assert "30.0 MiB of it their own (USS)" in said
