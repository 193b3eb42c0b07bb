"""Watch any program's parallel work from outside: its process tree, roles, threads, and a verdict.

::

    a command (launched) or a pid (attached)
        └─► sampler.Observer ── /proc (procfs), the tree (proctree), roles ──► tracks + Cores series
                 └─► verdict.judge(tracks) ──► Verdict(kind, evidence)  (numbers only)
                          └─► record.observation_record() ──► the --json shape, the history, the window
                                   words.observe ──► the verdict's sentence and suggestion

Linux only (it reads /proc); no ptrace, no root, nothing sent to the program.
"""
