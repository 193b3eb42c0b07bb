"""The window's workspaces: one tab each (Run, Compare, History).

    MainWindow (menus, tabs, status bar, close)
      ├── run/      RunWorkspace: files, task, backend → JobSpec → RunBridge; progress, results, cores, timeline
      ├── compare/  CompareWorkspace: the run workspace's job under many configurations (a study)
      └── history/  HistoryWorkspace: past runs and studies, reopened

A workspace owns its panels and their wiring; the window only reads what a
workspace offers (:class:`~poolside.gui.workspaces.base.Workspace`).
"""
