"""Commands run without the privilege to ignore file permissions, so that read-only folders are read-only for them.

Root ignores permission bits through two capabilities; ``setpriv`` starts a command with them dropped (it stays root,
and keeps reading and writing the files it owns by their owner bits). Any other user is subject to permissions as is.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

import pytest

DROPPED = "-dac_override,-dac_read_search"


def unprivileged_prefix() -> list[str]:
    """What to put before a command so that file permissions apply to it."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux), for whom read-only folders do not apply")
    prefix = [setpriv, f"--inh-caps={DROPPED}", f"--bounding-set={DROPPED}", "--"]
    if not _can_drop(tuple(prefix)):
        pytest.skip("running as root where capabilities cannot be dropped, so read-only folders do not apply")
    return prefix


@functools.cache
def _can_drop(prefix: tuple[str, ...]) -> bool:
    return subprocess.run([*prefix, "true"], capture_output=True).returncode == 0
