"""How an observation reads: its verdict as a sentence with numbers and a suggestion, its roles, its notes.

``poolside.observe.verdict`` gives a kind and the evidence (numbers); the CLI,
the window and the history say them with these functions.  The kinds are the
study's (``words.study``), plus ``serial``: one process did the work.
"""

from __future__ import annotations

from typing import Any

from .study import DIAGNOSES
from .units import human_duration

#: The verdict's headline per kind: what an observer saw (the study's DIAGNOSES say what a kind
#: means for choosing a backend; here the program is as it is).
HEADLINES: dict[str, str] = {
    "cpu-gil": "Threads take turns on one core: the GIL serialises them.",
    "cpu-parallel": "The work ran in parallel.",
    "waiting": "The program mostly waited.",
    "overhead": "The parent is the bottleneck: its workers wait for it.",
    "serial": "One process did all the work: nothing ran in parallel.",
    "mixed": "The program computed and waited by turns.",
}


def headline(verdict: dict[str, Any]) -> str:
    """The verdict's headline (``verdict``: the record's ``{"kind", "why", "evidence"}``)."""
    if (verdict.get("evidence") or {}).get("too_short"):
        return "Too short to judge."
    kind = str(verdict.get("kind", ""))
    return HEADLINES.get(kind) or DIAGNOSES.get(kind) or kind


#: A role as a person reads it.
ROLE_LABELS = {"main": "main process", "worker": "worker", "helper": "helper", "child": "other child"}


def role_label(role: str, pool: str | None = None) -> str:
    """``"worker of loky 1234"``, ``"main process"``."""
    label = ROLE_LABELS.get(role, role)
    return f"{label} of {pool}" if pool else label


def _cores(x: float) -> str:
    return f"{x:.1f} core" + ("" if round(x, 1) == 1.0 else "s")


def why(kind: str, e: dict[str, Any]) -> str:
    """The verdict's sentence: what was seen, with numbers, then what to do."""
    text = _seen(kind, e)
    if e.get("starved"):
        text += (f"; other programs held the cores: the program waited {e['runqueue_share']:.0%} of its "
                 "busy time for one")
    return text + "."


def _seen(kind: str, e: dict[str, Any]) -> str:
    cores = e.get("cores", 1)
    if e.get("too_short"):
        return (f"the program ended after {human_duration(e['wall_s'])}, too soon to see how it uses the cores "
                "(it needs about half a second)")
    if kind == "cpu-gil":
        g = e["gil"]
        names = ", ".join(g["threads"][:4]) + (", …" if len(g["threads"]) > 4 else "")
        return (f"{g['busy_threads']} threads busy ({names}), the process at {_cores(g['process_cores'])}: "
                f"they ran only {g['threads_oncpu']:.0%} of the time they could, so the GIL serialises them; "
                f"processes (multiprocessing, ProcessPoolExecutor, joblib) would use {cores} cores")
    if kind == "overhead":
        b = e["bottleneck"]
        return (f"{b['workers']} worker processes were idle {b['idle_share']:.0%} of the time while the main "
                f"process used {_cores(b['owner_cores'])} ({b['owner_cpu_s']:.2f} s of CPU against "
                f"{b['workers_cpu_s']:.2f} s for all its workers): the parent is the bottleneck; send larger "
                "chunks (chunksize) or fewer, bigger items")
    if kind == "cpu-parallel":
        if e.get("pools"):
            n = sum(p["workers"] for p in e["pools"])
            idle = max(p["idle_share"] for p in e["pools"])
            return (f"{n} worker processes were busy {1 - idle:.0%} of the time or more, "
                    f"the program used {_cores(e['tree_cores'])} of {cores}: the work runs in parallel; "
                    "more workers than cores would not make it faster")
        t = e.get("threads") or {}
        return (f"{t.get('busy_threads', 0)} threads busy, the process at {_cores(t.get('process_cores', 0.0))}: "
                "the work releases the GIL, threads run at once")
    if kind == "waiting":
        return (f"the program used {_cores(e['tree_cores'])} of {cores} and its processes were mostly idle: "
                "it waits (I/O, sleeps, locks); more workers than cores, or async I/O, would overlap the waits")
    if kind == "serial":
        return (f"the main process used {_cores(e.get('main_cores', 0.0))} and nothing ran beside it: "
                f"a pool over the items (multiprocessing, joblib) could use {cores} cores")
    return (f"the program used {_cores(e['tree_cores'])} of {cores}, computing and waiting by turns: "
            "no single cause stands out")


def not_seen(notes: list[str]) -> str:
    """What could not be read, as one line (empty when everything was seen)."""
    if not notes:
        return ""
    return ("could not be seen: " + "; ".join(notes)
            + " (another user's process, or /proc mounted with hidepid: run as that user to see it)")


def command_text(command: Any, limit: int = 60) -> str:
    """The observed command as one short line (an attached process's command line too)."""
    text = command if isinstance(command, str) else " ".join(str(c) for c in command or ())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(record: dict[str, Any]) -> str:
    """One line for lists (the history): ``"python job.py · 3 processes · The parent is the bottleneck…"``."""
    n = len(record.get("processes") or ())
    return (f"{command_text(record.get('command'))} · {n} process{'es' if n != 1 else ''} · "
            f"{headline(record.get('verdict') or {})}")


def unseen_children(cpu_s: float) -> str:
    """Exit accounting's share: CPU of children that began and ended between two samples."""
    if cpu_s < 0.005:
        return ""
    return (f"and {human_duration(cpu_s)} of CPU in children too short-lived to sample "
            "(from their parents' exit accounting)")


def pool_line(pool: dict[str, Any]) -> str:
    """``"multiprocessing.Pool 1234: 2 workers, idle 3 %, 1.8 cores, 0.4 of busy time waiting for a core"``."""
    idle = "–" if pool.get("idle_share") is None else f"{pool['idle_share']:.0%}"
    return (f"{pool['pool']}: {pool['workers']} worker{'s' if pool['workers'] != 1 else ''}, idle {idle}, "
            f"{_cores(pool['cores'])} used, {pool['runqueue_share']:.0%} of their busy time waiting for a core")
