"""The Run workspace: files, a task and a backend in; progress, results, cores and timeline out."""

from .workspace import RunWorkspace

__all__ = ["RunWorkspace"]
