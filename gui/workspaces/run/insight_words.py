"""A finished run's insights in words a user understands (no Qt here).

The engine measures (``poolside.engine.insights.Insights``: numbers only); this is
the one place the window turns them into sentences, so the progress panel,
a report or a tooltip all say the same thing the same way.
"""

from __future__ import annotations

from typing import Any

from poolside.words import units as fmt

# Start-up worth a sentence: this much of the run, or this long.
_STARTUP_SHARE = 0.2
_STARTUP_S = 0.25
# Workers busy less than this share of their time mostly waited for work.
_STARVED = 0.5
# Busy workers using less than this share of the CPU were waiting inside the task.
_WAITING_CPU = 0.25
# A first outcome this late in the run means results were held back.
_HELD_BACK = 0.8


def sentences(ins: Any) -> list[str]:
    """What the run's insights say, most telling first; empty without insights."""
    if ins is None or not ins.wall_s:
        return []
    said: list[str] = []
    if ins.gil_bound:
        threads = max(2, round(ins.busy_threads))
        said.append(f"{threads} threads were busy but the process used {ins.process_cores:.1f} core: "
                    "the GIL serialised them — try processes.")
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
                        f"items over cost {fmt.human_duration(ins.overhead_per_item_s)} an item, more "
                        f"than the {fmt.human_duration(item_s)} an item took.")
        else:
            said.append(f"The workers waited for work {1 - ins.busy_share:.0%} of the time: too few "
                        "items to keep them all busy, or a long tail at the end.")
    if ins.startup_s is not None and (ins.startup_s >= _STARTUP_S or
                                      ins.startup_s >= _STARTUP_SHARE * ins.wall_s):
        said.append(f"Start-up took {fmt.human_duration(ins.startup_s)} before the first item ran "
                    f"({ins.startup_s / ins.wall_s:.0%} of the run).")
    if ins.first_outcome_s is not None and ins.items > 1 and ins.first_outcome_s >= _HELD_BACK * ins.wall_s \
            and (ins.startup_s or 0.0) < 0.5 * ins.first_outcome_s:
        said.append(f"The first result came only after {fmt.human_duration(ins.first_outcome_s)}: "
                    "the library held results back until nearly the end.")
    # Two figures, each named for what it counts: the Cores line shows Poolside's own
    # (unique) memory, which is not this sum of resident sizes (shared pages count in each).
    memory = (f"Peak memory {fmt.human_bytes(ins.peak_rss_bytes)} resident (RSS) summed over the run's "
              "processes")
    if ins.peak_uss_bytes:
        memory += f", {fmt.human_bytes(ins.peak_uss_bytes)} of it their own (USS)"
    said.append(memory + ".")
    return said
