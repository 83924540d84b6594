"""Plugin test helpers: a way to "install" a distribution for entry-point discovery without pip.

``installed(tmp_path, name, entry_points, paths)`` writes ``<name>-<version>.dist-info`` (METADATA and
entry_points.txt, exactly what pip writes) into a temporary folder and puts it, and the folders holding
the plugin code, on ``sys.path``; ``importlib.metadata.entry_points()`` then finds it like any installed
distribution. Everything is removed afterwards and the registry rediscovered.
"""

from __future__ import annotations

import importlib
import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.plugins import reload_plugins


@pytest.fixture(autouse=True)
def _plugin_loggers_enabled():
    """Alembic's ``fileConfig`` in migrations/env.py disables loggers that existed before it ran
    (``disable_existing_loggers``); re-enable ours so the tests can see what plugins log."""
    for name in ("app.plugins", "app.plugins.base", "app.plugins.registry"):
        logging.getLogger(name).disabled = False
    yield


def write_dist_info(root: Path, name: str, version: str, entry_points: dict[str, str]) -> Path:
    """A minimal ``.dist-info`` folder advertising ``entry_points`` in the ``ce_platform.plugins`` group."""
    folder = root / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
    lines = ["[ce_platform.plugins]"] + [f"{key} = {value}" for key, value in entry_points.items()]
    (folder / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@contextmanager
def installed(root: Path, name: str, version: str, entry_points: dict[str, str], code_paths=(), modules=()):
    """Make ``name`` look installed (see module docstring); ``modules`` are dropped from ``sys.modules`` after."""
    write_dist_info(root, name, version, entry_points)
    added = [str(p) for p in (*code_paths, root)]
    for p in added:
        sys.path.insert(0, p)
    importlib.invalidate_caches()
    try:
        yield reload_plugins()
    finally:
        for p in added:
            sys.path.remove(p)
        for mod in list(sys.modules):
            if any(mod == m or mod.startswith(m + ".") for m in modules):
                del sys.modules[mod]
        importlib.invalidate_caches()
        reload_plugins()
