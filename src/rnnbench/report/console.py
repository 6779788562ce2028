"""Where terminal output goes, and whether it may be live."""

from __future__ import annotations

import sys
from typing import IO

from rich.console import Console

from rnnbench.settings import read_settings
from rnnbench.terminal import StopWhenReaderCloses

PLAIN_WIDTH = 200


def make_console(stream: IO[str] | None = None) -> Console:
    """A console for ``stream`` (stdout); wide enough for the comparison table in a pipe or log file."""
    stream = stream or sys.stdout
    guarded: IO[str] = StopWhenReaderCloses(stream)  # type: ignore[assignment]
    if stream.isatty() or read_settings().columns:
        return Console(file=guarded)
    return Console(file=guarded, width=PLAIN_WIDTH)
