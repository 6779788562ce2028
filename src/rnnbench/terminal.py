"""Whether output may be live (progress bars, carriage returns) or must be plain lines."""

from __future__ import annotations

from typing import IO

from rnnbench.settings import read_settings


def interactive(stream: IO[str]) -> bool:
    """Live displays only on a real terminal and never under CI, where carriage returns would spam the log."""
    return stream.isatty() and not read_settings().ci
