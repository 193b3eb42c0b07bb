"""What an observed program's parallel work was, from its tracks: a kind and the numbers that show it.

    tracks (sampler.ProcessTrack) ─► per pool: workers, idle share, cores used
                                  ─► the pool owners: cores used (a full core: the bottleneck?)
                                  ─► per multi-threaded process: the GIL signal
                                  ─► Verdict(kind, evidence)  (sentences: poolside.words.observe)

Kinds are the study's (``poolside.words.study``), plus ``serial``:

    a pool idle ≥ IDLE_HIGH while its owner used ≥ OWNER_FULL of a core,
      or idle ≥ IDLE_SOME while its owner used more CPU than a worker ... overhead (the parent is
                                                                      the bottleneck)
    a GIL signal in some process ....................................... cpu-gil
    pools busy ≥ 1 - IDLE_LOW, or threads running at once ...... cpu-parallel
    every thread busy < WAITING_BELOW of its life ............... waiting
    one process busy, nothing beside it ......................... serial
    anything else, or a program over in under MIN_WALL_S ........ mixed

"Busy" counts a thread's run-queue wait with its CPU (``schedstat``): on a
shared machine a worker that is starved of a core wants to run, it is not
idle.  The GIL signal is the study's probe read from outside: the busy threads
of one process ran only a small share of the time they were runnable, while
the process used about one core.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any, NamedTuple

from ..study.diagnose import GIL_HELD_BELOW, GIL_MAX_CORES
from .roles import MAIN, WORKER
from .sampler import ProcessTrack, ThreadTrack

#: A thread is busy when it ran, or was runnable waiting for a core, at least this share of its life.
#: Four threads sharing one GIL each run ~25 % (less of it on a core on a loaded machine, the rest on
#: the run queue); a thread waiting on a socket or a queue a few %.
BUSY_THREAD = 0.10
#: ...and ran at least this share of its life on a core: multiprocessing's handler threads wake
#: often and wait on the run queue each time on a loaded machine, but run ~0.5 % of one core;
#: a GIL-bound thread of four on a machine at load 8 ran ~9 %.
BUSY_CPU = 0.03
#: ...and ran at least this share of the busiest thread of its process's CPU.
PEER_SHARE = 0.5
#: Lives shorter than this (two samples at 4 Hz) give no share worth judging.
MIN_WALL_S = 0.5
#: A pool idle this share of its workers' time, its owner at a full core: the owner is the bottleneck.
IDLE_HIGH = 0.40
OWNER_FULL = 0.70
#: Idle at least this share, with the owner using more CPU than one of its workers: the owner again.
#: Tiny items one at a time left two workers idle 20-28 % at load 8-12 (starved, they wait on the run
#: queue instead, which counts as busy); a pool of pure-Python items, 2-3 %.
IDLE_SOME = 0.10
#: A pool idle at most this share: its workers were kept busy.
IDLE_LOW = 0.30
#: Every thread busy (running or runnable) less than this share of its life: the program mostly waits.
#: A thread that computes is runnable all the time, starved or not; one that sleeps or waits on I/O
#: is runnable for its wake-ups only.
WAITING_BELOW = 0.50
#: The run-queue share of busy time past which the verdict says other programs held the cores.
STARVED_ABOVE = 0.30


class Verdict(NamedTuple):
    kind: str
    evidence: dict[str, Any]


def _r(x: float, n: int = 3) -> float:
    return round(float(x), n)


def gil_signal(p: ProcessTrack) -> dict[str, Any] | None:
    """The GIL signal of one process: its busy threads (≥ 2), the cores it used, their on-CPU share."""
    if p.wall_s < MIN_WALL_S:
        return None
    busy = [t for t in p.threads.values()
            if t.wall_s >= MIN_WALL_S and (t.cpu_s + t.wait_s) / t.wall_s >= BUSY_THREAD
            and t.cpu_s / t.wall_s >= BUSY_CPU]
    # Threads of one pool do alike: one far below the busiest (the main thread that set the pool up,
    # ~60 ms of imports against ~170 ms for each of four GIL-bound threads) is not one of them.
    top = max((t.cpu_s for t in busy), default=0.0)
    busy = [t for t in busy if t.cpu_s >= PEER_SHARE * top]
    if len(busy) < 2:
        return None
    # The median thread's share of its runnable time on a core: a main thread that started the pool
    # and then waited on it (busy only at its start) does not pull the workers' figure down.
    oncpu = statistics.median(t.cpu_s / max(t.wall_s - t.wait_s, 1e-9) for t in busy)
    cores = p.cpu_s / p.wall_s
    return {"pid": p.pid, "busy_threads": len(busy), "threads": [_thread_label(t) for t in busy],
            "process_cores": _r(cores), "threads_oncpu": _r(oncpu),
            "held": cores <= GIL_MAX_CORES and oncpu < GIL_HELD_BELOW}


def _thread_label(t: ThreadTrack) -> str:
    return f"{t.name} {t.tid}"


def pools(tracks: Sequence[ProcessTrack]) -> list[dict[str, Any]]:
    """Each pool: its workers, the share of their time they were idle, the cores they used."""
    grouped: dict[str, list[ProcessTrack]] = {}
    for p in tracks:
        if p.role.role == WORKER and p.role.pool is not None:
            grouped.setdefault(p.role.pool, []).append(p)
    out = []
    for pool, workers in grouped.items():
        wall = sum(w.wall_s for w in workers)
        busy = sum(w.cpu_s + w.wait_s for w in workers)
        span = max(w.last for w in workers) - min(w.first for w in workers)
        out.append({"pool": pool, "kind": workers[0].role.kind, "owner": workers[0].role.owner,
                    "workers": len(workers), "cpu_s": _r(sum(w.cpu_s for w in workers)),
                    "idle_share": _r(1.0 - min(1.0, busy / wall)) if wall > 0 else None,
                    "runqueue_share": _r(sum(w.wait_s for w in workers) / busy) if busy > 0 else 0.0,
                    "cores": _r(sum(w.cpu_s for w in workers) / span) if span > 0 else 0.0})
    return out


def _busy_share(p: ProcessTrack) -> float:
    """Share of one core the process wanted: CPU plus run-queue wait, over its life."""
    return (p.cpu_s + p.wait_s) / p.wall_s if p.wall_s > 0 else 0.0


def _busiest_thread(p: ProcessTrack) -> float:
    """The largest share of its life one thread of ``p`` ran or was runnable (0: none lived long enough).

    Per thread, not summed: four threads that sleep wake 40 times each, and on a loaded machine each
    wake waits a few ms for a core; summed over the threads that reads as a busy process."""
    shares = [(t.cpu_s + t.wait_s) / t.wall_s for t in p.threads.values() if t.wall_s >= MIN_WALL_S]
    return max(shares, default=0.0)


def _totals(tracks: Sequence[ProcessTrack], cores: int, wall_s: float) -> dict[str, Any]:
    """The evidence every verdict carries: the tree's CPU, the main process, the run-queue share."""
    by_pid = {p.pid: p for p in tracks}
    main = next((p for p in tracks if p.role.role == MAIN), None)
    cpu = sum(p.cpu_s for p in tracks)
    unseen = sum(p.children_cpu_s for p in tracks) - sum(
        p.cpu_s + p.children_cpu_s for p in tracks if p.ended and p.ppid in by_pid)
    evidence: dict[str, Any] = {
        "cores": cores, "wall_s": _r(wall_s), "processes": len(tracks),
        "tree_cpu_s": _r(cpu), "tree_cores": _r(cpu / wall_s) if wall_s > 0 else 0.0,
        # CPU of children that began and ended between two samples, from their parents' exit accounting
        "unseen_children_cpu_s": _r(max(0.0, unseen)),
    }
    if main is not None:
        evidence.update(main_pid=main.pid, main_cores=_r(main.cpu_s / main.wall_s) if main.wall_s > 0 else 0.0,
                        main_busy=_r(_busy_share(main)))
    busy = sum(p.cpu_s + p.wait_s for p in tracks)
    evidence["runqueue_share"] = _r(sum(p.wait_s for p in tracks) / busy) if busy > 0 else 0.0
    evidence["starved"] = evidence["runqueue_share"] >= STARVED_ABOVE
    return evidence


def bottleneck(found_pools: Sequence[dict[str, Any]], by_pid: dict[int, ProcessTrack]) -> dict[str, Any] | None:
    """The first pool whose owner held its workers up (see the module's docstring), with the numbers."""
    for pool in found_pools:
        owner = by_pid.get(pool["owner"])
        if owner is None or pool["idle_share"] is None or owner.wall_s <= 0:
            continue
        # The owner's share counts the pool's own feeding threads (multiprocessing's handlers) with it.
        full = pool["idle_share"] >= IDLE_HIGH and _busy_share(owner) >= OWNER_FULL
        # On a loaded machine every process waits for a core and none reads as a full core; the owner
        # using more CPU than a worker of its own pool still shows it (a parent that only hands out
        # work uses a small part of one).
        outworked = pool["idle_share"] >= IDLE_SOME and owner.cpu_s >= pool["cpu_s"] / pool["workers"]
        if full or outworked:
            return {"pool": pool["pool"], "owner": owner.pid, "workers": pool["workers"],
                    "idle_share": pool["idle_share"], "owner_cores": _r(owner.cpu_s / owner.wall_s),
                    "owner_cpu_s": _r(owner.cpu_s), "workers_cpu_s": pool["cpu_s"]}
    return None


def judge(tracks: Sequence[ProcessTrack], *, cores: int, wall_s: float) -> Verdict:
    """The verdict on an observation (numbers only: ``poolside.words.observe`` says it)."""
    evidence = _totals(tracks, cores, wall_s)
    if wall_s < MIN_WALL_S:  # over before two samples: nothing to judge
        evidence["too_short"] = True
        return Verdict("mixed", evidence)
    found_pools = pools(tracks)
    if found_pools:
        evidence["pools"] = found_pools
    held_up = bottleneck(found_pools, {p.pid: p for p in tracks})
    if held_up is not None:
        evidence["bottleneck"] = held_up
        return Verdict("overhead", evidence)
    signals = [s for p in tracks if (s := gil_signal(p)) is not None]
    held = [s for s in signals if s["held"]]
    if held:
        evidence["gil"] = max(held, key=lambda s: s["busy_threads"])
        return Verdict("cpu-gil", evidence)
    if signals:
        evidence["threads"] = max(signals, key=lambda s: s["process_cores"])
    if found_pools and all(p["idle_share"] is not None and p["idle_share"] <= IDLE_LOW for p in found_pools):
        return Verdict("cpu-parallel", evidence)
    if signals and not found_pools:
        return Verdict("cpu-parallel", evidence)
    judged = [p for p in tracks if p.wall_s >= MIN_WALL_S]
    if judged and all(_busiest_thread(p) < WAITING_BELOW for p in judged):
        return Verdict("waiting", evidence)
    main = next((p for p in tracks if p.role.role == MAIN), None)
    if main is not None and not found_pools and _busy_share(main) >= OWNER_FULL \
            and sum(1 for p in judged if _busy_share(p) >= BUSY_THREAD) <= 1:
        return Verdict("serial", evidence)
    return Verdict("mixed", evidence)
