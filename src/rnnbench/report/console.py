"""Where terminal output goes, and whether it may be live."""

from __future__ import annotations

import sys
from typing import IO

from rich.console import Console

from rnnbench.settings import read_settings

PLAIN_WIDTH = 160


def make_console(stream: IO[str] | None = None) -> Console:
    """A console for ``stream`` (stdout); wide enough for the comparison table in a pipe or log file."""
    stream = stream or sys.stdout
    if stream.isatty() or read_settings().columns:
        return Console(file=stream)
    return Console(file=stream, width=PLAIN_WIDTH)
