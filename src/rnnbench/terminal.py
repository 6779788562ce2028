"""Whether output may be live (progress bars, carriage returns) or must be plain lines."""

from __future__ import annotations

import os
from typing import IO


def interactive(stream: IO[str]) -> bool:
    """Live displays only on a real terminal and never under CI, where carriage returns would spam the log."""
    return stream.isatty() and os.environ.get("CI", "").lower() not in {"1", "true", "yes"}
