"""Where runs execute: in this process (``inline``, ``--jobs 1``) or in worker processes (``local``, ``--jobs N``)."""

from rnnbench.executors.inline import run_inline
from rnnbench.executors.local import run_local

__all__ = ["run_inline", "run_local"]
