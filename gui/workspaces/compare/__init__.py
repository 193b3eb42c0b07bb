"""The Compare workspace: the Run tab's job under many configurations (a study), and its verdict.

Import the workspace from ``.workspace``; the study itself runs in the study host (``poolside.host``).
"""
