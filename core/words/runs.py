"""A run in words: where its time went, and the states the history records.

    records.Summary (counts, wall) ─────summary_line──────► one line (CLI, logs, Run tab's status bar)
    task name, file count, progress ────window_title──────► the window's title (and the task bar's)
    engine.insights.Insights (numbers) ──insight_sentences──► sentences (CLI --insights, Run tab)
    history store's run state ──────────run_state─────────► label, colour, resumable (CLI, History tab)

The engine measures and the history records; this module says what they mean,
so that ``poolside run --insights`` and the Run tab's headline, and
``poolside history`` and the History tab, say the same thing the same way.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..engine.insights import GIL_CLEAR_FREE_CORES
from ..records import STATUS_ORDER, Status
from .configs import config_label
from .units import count, human_bytes, human_duration, rate

# -- a run's summary -------------------------------------------------------------------


def summary_line(summary: Any, *, cancelled: bool = False) -> str:
    """``"200 items (199 ok, 1 timed out) in 4.21 s, 47.5/s on threads ×4"``.

    ``cancelled``: the run was cancelled, so the line counts the items that
    finished and the rate is over those only (cancelled items never ran: they
    are not throughput).
    """
    counts = summary.counts
    parts = ", ".join(f"{count(counts.get(s.value, 0))} {s.label}" for s in STATUS_ORDER if counts.get(s.value, 0))
    done = summary.total - counts.get(Status.CANCELLED.value, 0) if cancelled else summary.total
    per_s = done / summary.wall_s if summary.wall_s > 0 else 0.0
    head = (f"{count(done)} of {count(summary.total)} items finished" if cancelled
            else f"{count(summary.total)} items")
    line = f"{head} ({parts or 'none'}) in {human_duration(summary.wall_s)}, {rate(per_s)} on {config_label(summary)}"
    not_read = getattr(summary, "not_read", 0)
    if not_read is None:
        return line + "; the rest of the input was not read"
    if not_read:
        return line + f"; {count(not_read)} items not read"
    return line


APP_NAME = "Poolside"


def window_title(task: str | None, files: int, *, done: int | None = None, total: int | None = None) -> str:
    """``"thumbnail · 200 files — Poolside"``; while running ``"37 % · thumbnail · 200 files — Poolside"``.

    The percentage comes first: a task bar cuts a title from the right.
    """
    job = [task] if task else []
    if files:
        job.append(f"{count(files)} file{'s' if files != 1 else ''}")
    if total and done is not None:
        job.insert(0, f"{min(100, int(100 * done / total))} %")
    return " · ".join(job) + f" — {APP_NAME}" if job else APP_NAME


# -- a run's insights ----------------------------------------------------------------

# What is worth a sentence: these pick what to *say*, not what was measured
# (the measuring thresholds, such as the GIL's, live in engine/insights.py).
# Start-up worth a sentence: this much of the run, or this long.
_STARTUP_SHARE = 0.2
_STARTUP_S = 0.25
# Workers busy less than this share of their time mostly waited for work.
_STARVED = 0.5
# Busy workers using less than this share of the CPU were waiting inside the task.
_WAITING_CPU = 0.25
# A first outcome this late in the run means results were held back.
_HELD_BACK = 0.8


def insight_sentences(ins: Any, *, detail: bool = False) -> list[str]:
    """What a run's ``Insights`` say, most telling first; empty without insights.

    The first sentences are the verdict (the GIL, waiting, starved workers, a
    slow start, held-back results) and the memory; ``detail`` adds the plain
    figures behind them: the timeline, the CPU by whom, the chunk sizes and
    the spread over workers.
    """
    if ins is None or not ins.wall_s:
        return []
    said = _verdict(ins)
    said.append(_memory(ins))
    if detail:
        said += _figures(ins)
    return said


def _verdict(ins: Any) -> list[str]:
    said: list[str] = []
    if ins.gil_bound:
        # Said with the figure that decided it (task_cores: the threads' own CPU in items).
        threads = max(2, round(ins.busy_threads))
        said.append(f"{threads} threads were busy but their items used {ins.task_cores:.1f} core between them: "
                    "the GIL serialised them — try processes.")
        if ins.free_cores < GIL_CLEAR_FREE_CORES:
            said.append(f"Other programs left only {ins.free_cores:.1f} cores free, so threads free of the GIL "
                        "could not have used more either: compare with processes to be sure.")
    elif ins.busy_share >= _STARVED and ins.cpu_utilisation < _WAITING_CPU:
        said.append(f"The workers were busy {ins.busy_share:.0%} of the time but used "
                    f"{ins.cpu_utilisation:.0%} of the CPU: the items mostly waited (I/O, sleeps), "
                    "so more workers or asyncio would help.")
    else:
        said.append(f"The {ins.workers} workers were busy {ins.busy_share:.0%} of the time; the run used "
                    f"{ins.cpu_utilisation:.0%} of {ins.cores} cores.")
    if ins.busy_share < _STARVED and ins.items:
        item_s = ins.busy_s / ins.items
        if ins.overhead_per_item_s is not None and ins.overhead_per_item_s > item_s:
            said.append(f"The workers waited for work {1 - ins.busy_share:.0%} of the time: handing "
                        f"items over cost {human_duration(ins.overhead_per_item_s)} an item, more "
                        f"than the {human_duration(item_s)} an item took.")
        else:
            said.append(f"The workers waited for work {1 - ins.busy_share:.0%} of the time: too few "
                        "items to keep them all busy, or a long tail at the end.")
    if ins.startup_s is not None and (ins.startup_s >= _STARTUP_S or
                                      ins.startup_s >= _STARTUP_SHARE * ins.wall_s):
        said.append(f"Start-up took {human_duration(ins.startup_s)} before the first item ran "
                    f"({ins.startup_s / ins.wall_s:.0%} of the run).")
    if ins.first_outcome_s is not None and ins.items > 1 and ins.first_outcome_s >= _HELD_BACK * ins.wall_s \
            and (ins.startup_s or 0.0) < 0.5 * ins.first_outcome_s:
        said.append(f"The first result came only after {human_duration(ins.first_outcome_s)}: "
                    "the library held results back until nearly the end.")
    return said


def _memory(ins: Any) -> str:
    # Two figures, each named for what it counts: the window's Cores line shows Poolside's
    # own (unique) memory, which is not this sum of resident sizes (shared pages count in each).
    memory = f"Peak memory {human_bytes(ins.peak_rss_bytes)} resident (RSS) summed over the run's processes"
    if ins.peak_uss_bytes:
        memory += f", {human_bytes(ins.peak_uss_bytes)} of it their own (USS)"
        if ins.end_uss_bytes:
            memory += f", {human_bytes(ins.end_uss_bytes)} at the end"
    return memory + "."


def _figures(ins: Any) -> list[str]:
    said = []
    times = []
    if ins.startup_s is not None:
        times.append(f"the first item started after {human_duration(ins.startup_s)}")
    if ins.first_outcome_s is not None:
        times.append(f"the first result came after {human_duration(ins.first_outcome_s)}")
    if ins.drain_s is not None:
        times.append(f"the run ended {human_duration(ins.drain_s)} after the last item")
    if times:
        said.append(f"Of {human_duration(ins.wall_s)}: " + ", ".join(times) + ".")
    cpu = (f"CPU {human_duration(ins.cpu_s)} in all: this process {human_duration(ins.cpu_user_s)} user + "
           f"{human_duration(ins.cpu_system_s)} system")
    if not ins.in_process:
        cpu += f", the worker processes {human_duration(ins.cpu_workers_s)}"
    said.append(cpu + ".")
    if ins.chunk_min is not None:
        chunks = (f"Chunks of {ins.chunk_min:,} / {ins.chunk_median:,.0f} / {ins.chunk_max:,} items "
                  "(min / median / max)")
        if ins.overhead_per_item_s is not None:
            chunks += f"; {human_duration(ins.overhead_per_item_s)} an item beyond the items' own time"
        said.append(chunks + ".")
    if ins.peak_uss_bytes is None and ins.end_uss_bytes is None:
        from ..engine.sampler import USS_MIN_RUN_S  # psutil: only when a run's figures are said

        said.append(f"Memory was read as RSS only: runs under {USS_MIN_RUN_S:g} s do not read USS.")
    if ins.per_worker:
        shares = sorted(w.share for w in ins.per_worker)
        items = sorted(w.items for w in ins.per_worker)
        said.append(f"Each worker was busy {shares[0]:.0%} to {shares[-1]:.0%} of the run and ran "
                    f"{items[0]:,} to {items[-1]:,} items.")
    return said


# -- a run's state in the history ---------------------------------------------------


class RunState(NamedTuple):
    """How a state of a recorded run reads."""

    label: str  #: the word people read
    color: str | None  #: ``#rrggbb`` from the item statuses' own colours; ``None``: the text's own
    resumable: bool  #: the run stopped before its end: Resume can run the rest
    meaning: str  #: a sentence for a tooltip or ``poolside history show``


#: Every state a run has in the history: those the database stores
#: (``core/history/store.py``) and ``killed``, derived on read for a run whose
#: process is gone without recording its end.
RUN_STATES: dict[str, RunState] = {
    "running": RunState("running", None, False, "The run is still going."),
    "finished": RunState("finished", Status.OK.color, False, "The run went through its whole input."),
    "interrupted": RunState("interrupted", Status.TIMED_OUT.color, True,
                            "The run was cancelled before its end; Resume runs what is not ok yet."),
    "paused": RunState("paused", None, False,
                       "The run is paused: no new item starts until it is resumed."),
    "stopped": RunState("stopped", Status.TIMED_OUT.color, True,
                        "The run was stopped after its current items (none was lost); "
                        "Resume runs what is not ok yet."),
    "killed": RunState("killed", Status.FAILED.color, True,
                       "The run's process ended without recording its end (killed, or it crashed); "
                       "Resume runs what is not ok yet."),
    "incomplete": RunState("history incomplete", Status.TIMED_OUT.color, True,
                           "The run went on, but its history stopped part-way (see its details): the later "
                           "outcomes were not kept; Resume runs every item not recorded ok."),
}


def unrecorded_note(run_id: int, state: str, recorded: int, total: int | None, unrecorded: int) -> str:
    """Why a resume runs items the run may have done: its history did not keep their outcomes."""
    if state == "incomplete":
        of = f" of {count(total)}" if total else ""
        return (f"the history of run {run_id} stopped after {count(recorded)}{of} items: the other "
                f"{count(unrecorded)} items' outcomes were not recorded; they will run again")
    return (f"run {run_id} has no end recorded (killed, or its history stopped): {count(unrecorded)} items "
            "have no outcome in its history; they will run")


def run_state(state: Any) -> RunState:
    """The state's look; a state this Poolside does not know reads as itself."""
    key = str(state)
    return RUN_STATES.get(key) or RunState(key, None, False, "")
