"""Where runs execute. Only in this process for now (``inline``)."""

from rnnbench.executors.inline import run_inline

__all__ = ["run_inline"]
