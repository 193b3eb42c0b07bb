"""Samples a running program's whole process tree on one thread, until told to stop.

::

    Observer thread, every interval_s:
      proctree.Descendants(root).update() ──► pid -> parent (only the pids born since read)
      roles.role_of() per new pid ─────────► main / worker (pool) / helper / child
      each known thread's schedstat ── as it was? ─► the process did not run: nothing more read
      procfs.stat(pid) ────────────────────► CPU, children's CPU (exit accounting), threads, RSS
      procfs.sched(pid, tid) per thread ───► on-CPU and run-queue seconds ──► ThreadTrack
      usage.Monitor.sample() ──────────────► per-core user/system %, per-process CPU % and RSS:
                                             the series the window's Cores views and traces draw
    stop() ─► one last sample (a root that has exited but is not reaped yet still shows its
              final CPU) ─► the tracks, for observe.verdict

Nothing here signals, traces or slows the observed processes: it reads
/proc files the kernel keeps anyway (no ptrace, no root).  The thread is the
observer's only one and ``stop()`` joins it.

Times are on the boot clock (``CLOCK_BOOTTIME``), the clock a process's and a
thread's start time in ``stat`` is counted on, so that a process or thread
born during the observation counts from its birth (all its CPU is the
program's), and one that was running before counts from its first sight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import psutil

from .. import proctree
from ..log import get_logger
from ..usage import COST_SMOOTHING, DEFAULT_INTERVAL_S, Monitor
from . import procfs
from .roles import CHILD, HELPER, MAIN, MULTIPROCESSING, WORKER, Role, pool_kind, role_of

log = get_logger(__name__)

_BOOT = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)
#: The Cores views' roles (proctree's words) for observe's own.
MONITOR_ROLES = {MAIN: proctree.HOST, WORKER: proctree.WORKER, HELPER: proctree.HELPER, CHILD: proctree.CHILD}


#: A new process's command line is read again at this many samples (3 s at 4 Hz) in which it ran: one
#: seen between its fork and its exec showed its parent's, and a Dask worker names itself ("dask
#: worker [...]", with setproctitle) only once it has started.  One that did not run since the last
#: sample cannot have changed it, and is not read (see ``_still``).  ~5 µs a read.
YOUNG_SAMPLES = 12
#: A process whose threads ran has its ``stat`` read at least every this many samples (once a second
#: at 4 Hz), and at every sample it is young, lost a thread, or went quiet, and at the last: between,
#: its threads' schedstat gives its CPU (see ``_light``).  Its RSS, its reaped children's CPU and its
#: thread count are a second old at most.  Over 64 busy processes, ~0.7 ms a sample of 2.4.
STAT_EVERY = 4
#: The most of one core observing may take on average, what ``poolside observe`` promises (usage.Monitor
#: holds the window's own sampler to 0.8 %): past it the observer samples less often, never more
#: dearly.  64 processes at 4 Hz take 0.35-0.45 % idle and 0.45-0.65 % all running on this 2-core VM
#: at load 15-30 (benchmarks/observe_cost.py): the rate asked is kept.
CPU_BUDGET = 0.01
#: Samples kept per thread (the threads lane and the trace): past it, every other one is dropped,
#: as usage.Monitor halves a long run's series; the totals are cumulative and lose nothing.
MAX_THREAD_SAMPLES = 4096


def boot_now() -> float:
    return time.clock_gettime(_BOOT)


@dataclass
class ThreadTrack:
    """One thread: its CPU and run-queue seconds, from first sight (or birth) to last sight."""

    tid: int
    name: str
    first: float  # boot-clock seconds: its birth if born while observed, else first sight
    last: float
    cpu0: float
    wait0: float
    cpu: float
    wait: float
    #: (t since the observation began, CPU share of one core, run-queue share) per sample
    samples: list[tuple[float, float, float]] = field(default_factory=list, repr=False)

    @property
    def cpu_s(self) -> float:
        return max(0.0, self.cpu - self.cpu0)

    @property
    def wait_s(self) -> float:
        return max(0.0, self.wait - self.wait0)

    @property
    def wall_s(self) -> float:
        return max(0.0, self.last - self.first)


@dataclass
class ProcessTrack:
    """One process of the tree over the observation."""

    pid: int
    ppid: int
    role: Role
    name: str
    command: str
    first: float
    last: float
    cpu0: float
    cpu: float
    children0: float
    children: float
    peak_rss: int = 0
    max_threads: int = 1
    ended: bool = False
    threads: dict[int, ThreadTrack] = field(default_factory=dict)

    @property
    def cpu_s(self) -> float:
        return max(0.0, self.cpu - self.cpu0)

    @property
    def children_cpu_s(self) -> float:
        """CPU its children used that it reaped while observed (their exit accounting)."""
        return max(0.0, self.children - self.children0)

    @property
    def wall_s(self) -> float:
        return max(0.0, self.last - self.first)

    @property
    def wait_s(self) -> float:
        return sum(t.wait_s for t in self.threads.values())


class Observer:
    """Samples ``root`` and every process under it on a thread of its own (``start``/``stop``).

    ``began``: when the observation began on the boot clock (``boot_now()``,
    taken before a command is launched, so that its root counts from birth).
    ``on_sample``: called on the observer's thread after each sample (the
    observe host sends the live view from it).
    """

    def __init__(self, root: int, *, interval_s: float = DEFAULT_INTERVAL_S, began: float | None = None,
                 on_sample: Callable[[Observer], None] | None = None) -> None:
        self.root = root
        self.interval_s = float(interval_s)
        self.began = boot_now() if began is None else began
        self.processes: dict[int, ProcessTrack] = {}
        #: What could not be read, once each: "process 12 (python): /proc/12/task: Permission denied".
        self.not_seen: dict[int, str] = {}
        self.root_ended = threading.Event()
        self.cost_s = 0.0  # CPU seconds this observer's thread spent sampling
        self.samples = 0
        # The Cores views' series; each process's CPU and RSS from this sample's own stat read
        # (psutil would read them again: ~25 µs a process, the 1 % budget's largest part).
        self.monitor = Monitor(self._monitor_roles, interval_s=self.interval_s, read_uss=False,
                               reader=self._read_for_monitor, born=self._born_since_last)
        self._read: dict[int, tuple[float, float]] = {}  # pid -> its CPU seconds and RSS, last read
        self._clocks: dict[int, dict[int, bytes]] = {}  # pid -> {tid: its schedstat, as last read}
        self._since_stat: dict[int, int] = {}  # pid -> samples since its stat was read (0: this one)
        self._sched_at_stat: dict[int, float] = {}  # pid -> its threads' schedstat CPU at that read
        self._final = False  # the last sample (stop()): every process read in full
        self._born: set[int] = set()  # pids first seen at this sample, born since the last one
        self._last_sample: float | None = None  # boot-clock time of the last sample
        self._files = procfs.OpenFiles()
        self._dirty = True
        self._tree = proctree.Descendants(root)
        self._commands: dict[int, str] = {}
        self._young: dict[int, int] = {}  # pid -> samples left in which its command line is read again
        self._roles: dict[int, str] = {}
        self._on_sample = on_sample
        self._lock = threading.Lock()  # one sample at a time; readers copy under it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._perf0 = time.perf_counter() - (boot_now() - self.began)
        self.error: BaseException | None = None
        self._check_root()

    def _check_root(self) -> None:
        """The root must exist and be readable: the one error that ends an observation before it starts."""
        st = procfs.stat(self.root)  # raises procfs.Unreadable with the file and the reason
        if st is None:
            procfs.check_hidden(self.root)  # /proc mounted with hidepid=invisible: say so, not "no process"
            raise ProcessLookupError(f"no process {self.root} is running")

    # -- control ----------------------------------------------------------------------
    def start(self) -> None:
        self.monitor.begin_run(origin=self._perf0)
        self._thread = threading.Thread(target=self._loop, name="poolside-observe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the observation (the program goes on): the thread ends, one last sample is taken."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._final = True
        try:
            self.sample()
        finally:
            self._files.close()
        self.monitor.end_run()

    def _loop(self) -> None:
        cost_avg: float | None = None  # a running mean of one sample's cost (usage.Monitor's budget rule)
        due = time.monotonic()
        while not self._stop.is_set():
            c0 = time.thread_time()
            try:
                self.sample()
            except Exception as e:  # said and kept: the observation ends, the program goes on
                log.exception("observing process %s failed", self.root)
                self.error = e
                self.root_ended.set()
                return
            spent = time.thread_time() - c0
            self.cost_s += spent
            if self._on_sample is not None:
                try:
                    self._on_sample(self)
                except Exception:  # a live view that failed: said; the observation goes on
                    log.exception("the live view of process %s failed", self.root)
            # Never past CPU_BUDGET of one core on average: a big tree on a loaded machine samples a
            # little less often rather than cost the program more.  The first sample, which reads every
            # process's command line and names (~20 ms over 64), is a one-off: the mean starts after it.
            cost_avg = 0.0 if cost_avg is None else cost_avg + COST_SMOOTHING * (spent - cost_avg)
            period = max(self.interval_s, cost_avg / CPU_BUDGET)
            # Samples on a grid, not an interval after each: on a loaded machine a sample's wall time
            # (its waits for a core) would otherwise add to every interval and lower the rate.
            # One that fell more than a period behind starts the grid again: no burst to catch up.
            now = time.monotonic()
            due = due + period if due + period > now - period else now
            self._stop.wait(max(0.0, due - now))

    # -- sampling ---------------------------------------------------------------------
    def sample(self) -> None:
        with self._lock:
            now = boot_now()
            try:
                parents = self._tree.update(ends=False)  # each process's read says it ended (_end)
            except (psutil.Error, OSError) as e:
                self._unseen(self.root, f"/proc cannot be listed ({e})")
                parents = {}
            self._born.clear()
            self._sample_process(self.root, parents, now)
            for pid in parents:
                self._sample_process(pid, parents, now)
            for pid, track in self.processes.items():
                if pid not in parents and pid != self.root and not track.ended:
                    self._end(pid, track)
            if self._dirty:  # a new process, an exec, an owner's new thread, an end: roles may have changed
                self._classify(parents)
                self._roles = {pid: MONITOR_ROLES[t.role.role] for pid, t in self.processes.items() if not t.ended}
                self._dirty = False
            self._last_sample = now
            self.samples += 1
        self.monitor.sample()

    def _sample_process(self, pid: int, parents: dict[int, int], now: float) -> None:
        track = self.processes.get(pid)
        if track is not None and track.ended:
            return
        clocks: dict[int, bytes | None] | None = None
        try:
            if track is not None and pid in self._clocks:
                clocks = {tid: self._files.sched_raw(pid, tid) for tid in self._clocks[pid]}
                ran, age = clocks != self._clocks[pid], self._since_stat.get(pid, 0)
                if not ran and age == 0:
                    self._still(track, now)
                    return
                if (ran and age < STAT_EVERY - 1 and not self._final and pid not in self._young
                        and None not in clocks.values()):
                    self._light(track, cast("dict[int, bytes]", clocks), now)  # no None: checked above
                    return
            st = self._files.stat(pid)
        except procfs.Unreadable as e:
            self._unseen(pid, f"{e.path}: {e.reason}")
            return
        if st is None:  # gone (reaped): its last sample stands
            if track is None and procfs.hidden(pid):  # listed by its parent, but not shown to us
                self._unseen(pid, f"/proc/{pid}: {procfs.HIDDEN}")
                return
            self._end(pid, track)
            return
        if track is None:
            track = self._new_process(pid, parents, st, now)
        if st.state == "Z":  # ended, not reaped yet: its stat holds its final CPU and its children's
            track.cpu, track.children, track.last = st.cpu_s, st.children_cpu_s, now
            track.threads.setdefault(pid, ThreadTrack(pid, st.name, track.first, now, 0.0, 0.0, 0.0, 0.0))
            self._end(pid, track)
            return
        if pid in self._young:
            self._retry_command(pid, track)
        if st.name != track.name:  # it exec'd (a launcher such as pyenv's shim became Python): look again
            track.name = self._refresh(pid)
            self._dirty = True
        track.cpu, track.children, track.last = st.cpu_s, st.children_cpu_s, now
        self._read[pid] = (st.cpu_s, float(st.rss))
        track.peak_rss = max(track.peak_rss, st.rss)
        if st.threads > track.max_threads:
            track.max_threads = st.threads
            self._dirty = True
        self._sample_threads(track, st.threads, now, clocks)
        self._since_stat[pid] = 0
        self._sched_at_stat[pid] = sum(track.threads[tid].cpu for tid in self._clocks.get(pid, ()))

    def _light(self, track: ProcessTrack, clocks: dict[int, bytes], now: float) -> None:
        """A process whose threads ran, between two reads of its ``stat`` (see STAT_EVERY): its threads'
        samples from their schedstat, its CPU for the Cores views from the stat's last reading plus what
        its threads used since (their schedstat, in ns), its RSS as last read."""
        pid, t_rel = track.pid, now - self.began
        used = 0.0
        for tid, raw in clocks.items():
            parsed = procfs.parse_sched(raw)
            thread = track.threads.get(tid)
            if parsed is not None and thread is not None:
                self._add_sample(thread, t_rel, parsed[0], parsed[1], now)
                used += parsed[0]
        self._clocks[pid] = clocks
        self._since_stat[pid] += 1
        track.last = now
        rss = self._read[pid][1] if pid in self._read else 0.0
        self._read[pid] = (track.cpu + max(0.0, used - self._sched_at_stat.get(pid, used)), rss)

    def _still(self, track: ProcessTrack, now: float) -> None:
        """A process none of whose threads ran since the last sample (their schedstat is as it was).

        Nothing its ``stat`` shows that observe uses can have changed, so it is
        not read (~5 µs and its parsing, against ~1.5 µs for a ``schedstat``):
        its CPU, its children's (reaping one takes running), its thread count,
        its name (an exec) and its state (an exit) all change only by running;
        only its RSS may shrink (the kernel reclaiming pages), never grow, so its
        peak stands.  On an idle tree that is most processes at most samples.
        """
        t_rel = now - self.began
        for tid in self._clocks[track.pid]:
            thread = track.threads.get(tid)
            if thread is not None:
                self._add_sample(thread, t_rel, thread.cpu, thread.wait, now)
        track.last = now

    def _new_process(self, pid: int, parents: dict[int, int], st: procfs.Stat, now: float) -> ProcessTrack:
        if pid not in self._commands:
            self._commands[pid] = procfs.command_line(pid)
        # Seen between its fork and its exec, a process shows its parent's command line (the CLI's or
        # the observe host's, for the root): its first samples read it again.
        self._young[pid] = YOUNG_SAMPLES
        born = st.started_ticks / procfs.TICKS
        inside = born >= self.began - 1.0 / procfs.TICKS  # born while observed: all its CPU counts
        if self._last_sample is not None and born >= self._last_sample - 1.0 / procfs.TICKS:
            self._born.add(pid)
        track = self.processes[pid] = ProcessTrack(
            pid, parents.get(pid, st.ppid), role_of(pid, parents, self.root, self._commands), st.name,
            self._commands[pid], first=born if inside else now, last=now, cpu0=0.0 if inside else st.cpu_s,
            cpu=st.cpu_s, children0=0.0 if inside else st.children_cpu_s, children=st.children_cpu_s)
        self._dirty = True
        return track

    def _end(self, pid: int, track: ProcessTrack | None) -> None:
        self._young.pop(pid, None)
        if track is not None and not track.ended:
            track.ended = True
            self._dirty = True
        self._read.pop(pid, None)
        self._clocks.pop(pid, None)
        self._since_stat.pop(pid, None)
        self._sched_at_stat.pop(pid, None)
        self._files.forget(pid)
        self._tree.forget(pid)
        if pid == self.root:
            self.root_ended.set()

    def _sample_threads(self, track: ProcessTrack, count: int, now: float,
                        clocks: dict[int, bytes | None] | None) -> None:
        """Each thread's CPU and run-queue wait; ``clocks``: the schedstat of the threads known at the
        last sample, read at this one already (``None``: not read)."""
        pid = track.pid
        try:
            if count == 1:
                tids = [pid]
            elif clocks is not None and len(clocks) == count and None not in clocks.values():
                tids = list(clocks)  # the same threads as before: no listing (one died, one began: listed)
            else:
                tids = procfs.thread_ids(pid)
        except procfs.Unreadable as e:
            self._unseen(pid, f"{e.path}: {e.reason}")
            return
        t_rel = now - self.began
        seen: dict[int, bytes] = {}
        for tid in tids:
            try:
                raw = clocks.get(tid) if clocks is not None else None
                raw = raw if raw is not None else self._files.sched_raw(pid, tid)
            except procfs.Unreadable as e:
                self._unseen(pid, f"{e.path}: {e.reason}")
                return
            parsed = procfs.parse_sched(raw)
            if raw is None or parsed is None:
                continue  # the thread ended since the listing
            seen[tid] = raw
            cpu, wait = parsed
            thread = track.threads.get(tid)
            if thread is None:
                thread = track.threads[tid] = self._new_thread(track, tid, cpu, wait, now)
                thread.cpu, thread.wait, thread.last = thread.cpu0, thread.wait0, thread.first
            self._add_sample(thread, t_rel, cpu, wait, now)
        self._clocks[pid] = seen

    @staticmethod
    def _add_sample(thread: ThreadTrack, t_rel: float, cpu: float, wait: float, now: float) -> None:
        span = now - thread.last
        if span > 0:
            thread.samples.append((t_rel, (cpu - thread.cpu) / span, (wait - thread.wait) / span))
            if len(thread.samples) > MAX_THREAD_SAMPLES:  # an hour-long observation: every other one
                del thread.samples[::2]
        thread.cpu, thread.wait, thread.last = cpu, wait, now

    def _retry_command(self, pid: int, track: ProcessTrack) -> None:
        """A young process's command line, read again (it may have exec'd since it was first read)."""
        self._young[pid] -= 1
        if self._young[pid] <= 0:
            del self._young[pid]
        command = procfs.command_line(pid)
        if command and command != self._commands.get(pid):
            self._commands[pid] = track.command = command
            self._dirty = True

    def _refresh(self, pid: int) -> str:
        """Read an exec'd process's command line again; its new name (the main thread's too)."""
        self._commands[pid] = procfs.command_line(pid)
        track = self.processes[pid]
        track.command = self._commands[pid]
        st = procfs.stat(pid)
        name = st.name if st is not None else track.name
        if pid in track.threads:
            track.threads[pid].name = name
        return name

    def _new_thread(self, track: ProcessTrack, tid: int, cpu: float, wait: float, now: float) -> ThreadTrack:
        try:
            st = procfs.stat(track.pid, tid) if tid != track.pid else None
        except procfs.Unreadable:
            st = None
        born = (st.started_ticks / procfs.TICKS) if st is not None else track.first
        inside = born >= self.began - 1.0 / procfs.TICKS and (st is not None or track.cpu0 == 0.0)
        name = procfs.thread_name(track.pid, tid) or str(tid)
        if inside:
            return ThreadTrack(tid, name, born, now, 0.0, 0.0, cpu, wait)
        return ThreadTrack(tid, name, now, now, cpu, wait, cpu, wait)

    def _classify(self, parents: dict[int, int]) -> None:
        """Every live process's role, again: a child seen between its fork and its exec showed its
        parent's command line, and a fork/spawn pool's kind follows its owner's threads (see roles)."""
        known = {pid: t.ppid for pid, t in self.processes.items()}  # an ended one's parent too
        known.update(parents)
        for pid, track in self.processes.items():
            if track.ended:
                continue
            role = role_of(pid, known, self.root, self._commands)
            if role.kind == MULTIPROCESSING:
                owner = self.processes.get(role.owner or -1)
                if owner is not None:
                    role = role._replace(kind=pool_kind(owner.max_threads - 1))
            track.role = role

    def _unseen(self, pid: int, what: str) -> None:
        if pid not in self.not_seen:
            track = self.processes.get(pid)
            name = f" ({track.name})" if track is not None else ""
            self.not_seen[pid] = f"process {pid}{name}: {what}"
            log.info("observe: %s", self.not_seen[pid])

    def _read_for_monitor(self, pid: int) -> tuple[float, float] | None:
        return self._read.get(pid)

    def _born_since_last(self, pid: int) -> bool:
        return pid in self._born

    def _monitor_roles(self) -> dict[int, str]:
        """The Cores views' pid source: the tree as the last sample saw it (no second look)."""
        return dict(self._roles)

    # -- reading (any thread) -----------------------------------------------------------
    def snapshot(self) -> list[ProcessTrack]:
        """The tracks, copied under the lock (threads' sample lists are shared, not copied)."""
        import copy

        with self._lock:
            return [copy.copy(t) for t in self.processes.values()]

    def series(self) -> dict[str, Any]:
        """The Cores views' series (``usage.Monitor.series()``), roles in proctree's words."""
        return self.monitor.series()

    def wall_s(self) -> float:
        return max(0.0, boot_now() - self.began)
