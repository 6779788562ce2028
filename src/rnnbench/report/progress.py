"""Progress while training: a live Rich display on a terminal, plain one-line messages elsewhere."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from rnnbench.config import RunSpec
from rnnbench.results import EpochMetrics, RunResult
from rnnbench.terminal import interactive


def _run_name(spec: RunSpec) -> str:
    return f"{spec.model.name} ({spec.model.units} units, seed {spec.seed})"


def _epoch_text(metrics: EpochMetrics) -> str:
    text = f"loss {metrics.train_loss:.4f}  acc {metrics.train_accuracy:.4f}"
    if metrics.val_accuracy is not None:
        text += f"  val_acc {metrics.val_accuracy:.4f}"
    return text


def _result_text(result: RunResult) -> str:
    if result.test_accuracy is None:
        return f"{result.status} at epoch {len(result.epochs)} after {result.train_seconds:.1f} s"
    return (
        f"{result.status}: test accuracy {result.test_accuracy:.4f} "
        f"({result.test_accuracy_at_best:.4f} at best epoch {result.best_epoch}) in {result.train_seconds:.1f} s"
    )


class PlainProgress:
    """One line per epoch and per finished run, flushed at once; never a carriage return."""

    def __init__(self, total_runs: int, stream: IO[str] | None = None) -> None:
        self.total_runs = total_runs
        self.stream = stream or sys.stdout
        self.started_runs = 0
        self.epochs = 0

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int) -> None:
        self.started_runs += 1
        self.epochs = epochs
        self._say(f"[{self.started_runs}/{self.total_runs}] {_run_name(spec)}: training {epochs} epochs")

    def batch_ended(self, spec: RunSpec, batch: int) -> None:
        return None

    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None:
        self._say(
            f"[{self.started_runs}/{self.total_runs}] {spec.model.name} seed {spec.seed} "
            f"epoch {metrics.epoch}/{self.epochs}  {_epoch_text(metrics)}  {metrics.seconds:.1f} s"
        )

    def run_ended(self, result: RunResult) -> None:
        self._say(f"[{self.started_runs}/{self.total_runs}] {_run_name(result.spec)} {_result_text(result)}")


class RichProgress:
    """A bar for the whole comparison and one for the current run (batches, epoch, last metrics, ETA)."""

    def __init__(self, total_runs: int, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.runs_task: TaskID = self.progress.add_task("runs", total=total_runs, status="")
        self.run_task: TaskID | None = None
        self.epochs = 0
        self.batches = 0

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.progress.stop()

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int) -> None:
        self.epochs, self.batches = epochs, batches_per_epoch
        self.run_task = self.progress.add_task(
            _run_name(spec), total=epochs * batches_per_epoch, status=f"epoch 1/{epochs}"
        )

    def batch_ended(self, spec: RunSpec, batch: int) -> None:
        if self.run_task is not None:
            self.progress.advance(self.run_task)

    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None:
        if self.run_task is not None:
            self.progress.update(
                self.run_task,
                completed=metrics.epoch * self.batches,
                status=f"epoch {metrics.epoch}/{self.epochs}  {_epoch_text(metrics)}",
            )

    def run_ended(self, result: RunResult) -> None:
        if self.run_task is not None:
            self.progress.remove_task(self.run_task)
            self.run_task = None
        self.progress.advance(self.runs_task)
        self.console.print(f"{_run_name(result.spec)} {_result_text(result)}", highlight=False)


def make_progress(total_runs: int, console: Console) -> PlainProgress | RichProgress:
    if interactive(console.file):
        return RichProgress(total_runs, console)
    return PlainProgress(total_runs, console.file)
