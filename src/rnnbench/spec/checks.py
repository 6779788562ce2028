"""Checks the spec dataclasses share."""

from __future__ import annotations

from rnnbench.errors import RnnbenchError


def require_positive(name: str, value: int | None) -> None:
    if value is not None and value < 1:
        raise RnnbenchError(f"{name} must be a positive integer, got {value}")
