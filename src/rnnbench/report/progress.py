"""Progress while training: a live Rich display on a terminal, plain one-line messages elsewhere.

Several runs may be in flight at once (worker processes), so every line names its run.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from rnnbench.results.run_result import EpochMetrics, RunResult
from rnnbench.spec import RunSpec
from rnnbench.terminal import interactive


def _run_name(spec: RunSpec) -> str:
    return f"{spec.model.name} ({spec.model.units} units, seed {spec.seed})"


def _epoch_text(metrics: EpochMetrics) -> str:
    text = f"loss {metrics.train_loss:.4f}  acc {metrics.train_accuracy:.4f}"
    if metrics.val_accuracy is not None:
        text += f"  val_acc {metrics.val_accuracy:.4f}"
    return text


def _result_text(result: RunResult) -> str:
    setup = f" (+ {result.setup_seconds:.1f} s to build and compile)" if result.setup_seconds is not None else ""
    if result.test_accuracy is None:
        return f"{result.status} at epoch {len(result.epochs)} after {result.train_seconds:.1f} s{setup}"
    return (
        f"{result.status}: test accuracy {result.test_accuracy:.4f} ({result.test_accuracy_at_best:.4f} at best "
        f"epoch {result.best_epoch}) in {result.train_seconds:.1f} s{setup}"
    )


def _retry_text(attempt: int) -> str:
    return f"training it again (attempt {attempt}) from its last checkpoint"


class _Counter:
    """Numbers the runs as they start and estimates the time left from the runs finished so far."""

    def __init__(self, total_runs: int) -> None:
        self.total = total_runs
        self.numbers: dict[str, int] = {}
        self.epochs: dict[str, int] = {}
        self.ended = 0
        self.started = time.perf_counter()

    def start(self, spec: RunSpec, epochs: int) -> str:
        self.numbers.setdefault(spec.key(), len(self.numbers) + 1)
        self.epochs[spec.key()] = epochs
        return self.tag(spec)

    def tag(self, spec: RunSpec) -> str:
        return f"[{self.numbers.get(spec.key(), '?')}/{self.total}]"

    def end(self) -> str:
        self.ended += 1
        left = self.total - self.ended
        if not left:
            return ""
        eta = (time.perf_counter() - self.started) / self.ended * left
        return f" ({self.ended}/{self.total} runs done, about {eta:.0f} s left)"


class PlainProgress:
    """One line per epoch and per run event, flushed at once; never a carriage return."""

    def __init__(self, total_runs: int, stream: IO[str] | None = None) -> None:
        self.counter = _Counter(total_runs)
        self.stream = stream or sys.stdout

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int, environment: dict[str, str]) -> None:
        self._say(f"{self.counter.start(spec, epochs)} {_run_name(spec)}: training {epochs} epochs")

    def run_resumed(self, spec: RunSpec, epoch: int) -> None:
        self._say(f"{self.counter.tag(spec)} {_run_name(spec)}: resuming after epoch {epoch} from its checkpoint")

    def batch_ended(self, spec: RunSpec, batch: int) -> None:
        return None

    def model_saved(self, spec: RunSpec, model_file: bytes) -> None:
        return None

    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None:
        epochs = self.counter.epochs.get(spec.key(), "?")
        self._say(
            f"{self.counter.tag(spec)} {spec.model.name} seed {spec.seed} epoch {metrics.epoch}/{epochs}  "
            f"{_epoch_text(metrics)}  {metrics.seconds:.1f} s"
        )

    def run_ended(self, result: RunResult, confusion: list[list[int]] | None) -> None:
        tag = self.counter.tag(result.spec)
        self._say(f"{tag} {_run_name(result.spec)} {_result_text(result)}{self.counter.end()}")

    def run_failed(self, spec: RunSpec, reason: str) -> None:
        self._say(f"{self.counter.tag(spec)} {_run_name(spec)} failed: {reason}{self.counter.end()}")

    def run_retried(self, spec: RunSpec, attempt: int, reason: str) -> None:
        self._say(f"{self.counter.tag(spec)} {_run_name(spec)}: {reason}; {_retry_text(attempt)}")


@dataclass
class _RunBar:
    task: TaskID
    epochs: int
    batches: int
    done_epochs: int = 0


class RichProgress:
    """A bar for the whole sweep (runs done, ETA) and one per run in flight (batches, epoch, last metrics, ETA)."""

    def __init__(self, total_runs: int, console: Console) -> None:
        self.console = console
        self.counter = _Counter(total_runs)
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
        self.tasks: dict[str, _RunBar] = {}

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.progress.stop()

    def run_started(self, spec: RunSpec, epochs: int, batches_per_epoch: int, environment: dict[str, str]) -> None:
        tag = self.counter.start(spec, epochs)
        task = self.progress.add_task(
            f"{tag} {_run_name(spec)}", total=epochs * batches_per_epoch, status=f"epoch 1/{epochs}"
        )
        self.tasks[spec.key()] = _RunBar(task, epochs, batches_per_epoch)

    def model_saved(self, spec: RunSpec, model_file: bytes) -> None:
        return None

    def run_resumed(self, spec: RunSpec, epoch: int) -> None:
        if bar := self.tasks.get(spec.key()):
            bar.done_epochs = epoch
            self.progress.update(bar.task, completed=epoch * bar.batches, status=f"resumed after epoch {epoch}")

    def batch_ended(self, spec: RunSpec, batch: int) -> None:
        if bar := self.tasks.get(spec.key()):
            self.progress.update(bar.task, completed=bar.done_epochs * bar.batches + batch)

    def epoch_ended(self, spec: RunSpec, metrics: EpochMetrics) -> None:
        if bar := self.tasks.get(spec.key()):
            bar.done_epochs = metrics.epoch
            self.progress.update(
                bar.task,
                completed=metrics.epoch * bar.batches,
                status=f"epoch {metrics.epoch}/{bar.epochs}  {_epoch_text(metrics)}",
            )

    def _finish(self, spec: RunSpec, text: str) -> None:
        if spec.key() in self.tasks:
            self.progress.remove_task(self.tasks.pop(spec.key()).task)
        self.progress.advance(self.runs_task)
        self.console.print(f"{self.counter.tag(spec)} {_run_name(spec)} {text}", highlight=False)
        self.counter.end()

    def run_ended(self, result: RunResult, confusion: list[list[int]] | None) -> None:
        self._finish(result.spec, _result_text(result))

    def run_failed(self, spec: RunSpec, reason: str) -> None:
        self._finish(spec, f"failed: {reason}")

    def run_retried(self, spec: RunSpec, attempt: int, reason: str) -> None:
        if spec.key() in self.tasks:
            self.progress.remove_task(self.tasks.pop(spec.key()).task)
        self.console.print(f"{self.counter.tag(spec)} {_run_name(spec)}: {reason}; {_retry_text(attempt)}",
                           highlight=False)  # fmt: skip


def make_progress(total_runs: int, console: Console) -> PlainProgress | RichProgress:
    if interactive(console.file):
        return RichProgress(total_runs, console)
    return PlainProgress(total_runs, console.file)
