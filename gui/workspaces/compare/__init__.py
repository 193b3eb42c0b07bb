"""The Compare workspace: the Run tab's job under many configurations (a study), and its verdict.

No Qt is imported here: ``study_process`` runs in a child process that must
not load Qt.  Import the workspace from ``.workspace``.
"""
