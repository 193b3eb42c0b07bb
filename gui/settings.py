"""Where the window remembers things between sessions.

``QSettings`` in INI format under the organisation and application name
below.  Set ``POOLSIDE_SETTINGS`` to a file path to keep them somewhere else
(tests and the benchmarks point it at a temporary folder).
"""

from __future__ import annotations

import json
import os
from typing import Any

from PySide6.QtCore import QSettings

ORGANIZATION = "Poolside"
APPLICATION = "Poolside"
ENV_VAR = "POOLSIDE_SETTINGS"


def open_settings(path: str | os.PathLike | None = None) -> QSettings:
    """The settings file: ``path``, else ``$POOLSIDE_SETTINGS``, else the user's."""
    path = path or os.environ.get(ENV_VAR)
    if path:
        return QSettings(os.fspath(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def get_str(s: QSettings, key: str, default: str = "") -> str:
    v = s.value(key, default)
    return v if isinstance(v, str) else default


def get_int(s: QSettings, key: str, default: int = 0) -> int:
    v = s.value(key, default)  # an INI file gives back strings
    if not isinstance(v, (int, float, str)):
        return default
    try:
        return int(v)
    except ValueError:
        return default


def get_float(s: QSettings, key: str, default: float = 0.0) -> float:
    v = s.value(key, default)
    if not isinstance(v, (int, float, str)):
        return default
    try:
        return float(v)
    except ValueError:
        return default


def get_bool(s: QSettings, key: str, default: bool = False) -> bool:
    v = s.value(key, default)
    if isinstance(v, str):
        return v.lower() in ("1", "true", "yes")
    return bool(v)


def get_json(s: QSettings, key: str, default: Any = None) -> Any:
    v = s.value(key)
    if not isinstance(v, str):
        return default
    try:
        return json.loads(v)
    except ValueError:
        return default


def set_json(s: QSettings, key: str, value: Any) -> None:
    s.setValue(key, json.dumps(value, default=str))


# -- plugin files the user agreed to run ----------------------------------------
_TRUSTED_KEY = "plugins/trusted"


def file_digest(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes: a trusted plugin file that changes is asked about again."""
    import hashlib

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def is_trusted_plugin(s: QSettings, path: str | os.PathLike) -> bool:
    """Whether the user agreed to load this file as it now reads (False if it cannot be read)."""
    trusted = get_json(s, _TRUSTED_KEY, {})
    key = os.path.abspath(path)
    if not isinstance(trusted, dict) or key not in trusted:
        return False
    try:
        return bool(trusted[key] == file_digest(key))
    except OSError:
        return False  # gone or unreadable: loading it will say why


def trust_plugin(s: QSettings, path: str | os.PathLike) -> None:
    """Remember that the user agreed to load this file, as it now reads."""
    trusted = get_json(s, _TRUSTED_KEY, {})
    if not isinstance(trusted, dict):
        trusted = {}
    key = os.path.abspath(path)
    trusted[key] = file_digest(key)
    set_json(s, _TRUSTED_KEY, trusted)
