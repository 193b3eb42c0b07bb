"""A run host's processes, as its window samples them: the host and every process under it, with roles.

What each role means, how the tree is listed and how it is ended are
:mod:`poolside.proctree`'s; this module only joins them to what the host
says about itself (``Ready``, ``Started``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ..proctree import Descendants, RunProcesses


class HostProcesses(NamedTuple):
    """What a run host said about its processes: its pid, its helpers (``Ready``), its run's (``Started``).

    ``ready``: it has said ``Ready``; until then it has started no run, so
    whatever it started is a helper (its zygote, forked while it warms up).
    """

    pid: int
    helpers: tuple[int, ...]
    run: RunProcesses
    ready: bool = True


class HostTree:
    """A pid source for sampling (``poolside.usage.Monitor``): {pid: role} for the host and every process under it.

    ``processes`` gives what the current host said (``HostClient.processes``;
    ``None`` when there is none).  The tree is looked at on every call, for
    the price of listing the pids (see :mod:`poolside.proctree`, which also
    says what each role means): a run's workers count from the first sample
    after their fork.
    """

    def __init__(self, processes: Callable[[], HostProcesses | None]) -> None:
        self._processes = processes
        self._tree: Descendants | None = None

    def __call__(self) -> dict[int, str]:
        said = self._processes()
        if said is None:
            self._tree = None
            return {}
        if self._tree is None or self._tree.root != said.pid:
            self._tree = Descendants(said.pid)
        if said.ready:
            return self._tree.roles(said.helpers, said.run)
        return self._tree.roles(lambda parents: [p for p, parent in parents.items() if parent == said.pid], said.run)
