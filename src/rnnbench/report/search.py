"""A search in the terminal: one row per architecture, what its budget bought and what its best configuration gave.

The search's result is read through the protocols below, so that this module does not import the search.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.table import Table

from rnnbench.report.cells import percent
from rnnbench.results.panels import PanelSet
from rnnbench.results.stats import ModelSummary
from rnnbench.results.store import StoredTrial
from rnnbench.results.trials import describe_params


class SearchSettings(Protocol):
    @property
    def trials(self) -> int: ...
    @property
    def search_seed(self) -> int: ...
    @property
    def pruner(self) -> str: ...
    @property
    def final_seeds(self) -> int: ...


class ArchitectureOutcome(Protocol):
    """One architecture's search: what its trials cost and its best trial."""

    @property
    def model(self) -> str: ...
    @property
    def best(self) -> StoredTrial | None: ...
    @property
    def finished(self) -> int: ...
    @property
    def pruned(self) -> int: ...
    @property
    def epochs(self) -> int: ...
    @property
    def seconds(self) -> float: ...


class SearchOutcome(Protocol):
    """A finished search (:class:`rnnbench.search.tune.SearchResult`): each architecture's, and the tuned panels."""

    @property
    def name(self) -> str: ...
    @property
    def options(self) -> SearchSettings: ...
    @property
    def searches(self) -> Sequence[ArchitectureOutcome]: ...
    @property
    def records(self) -> PanelSet: ...


def _final(result: SearchOutcome, model: str) -> ModelSummary | None:
    for panel in result.records.panels:
        for summary in panel.summary:
            if summary.model == model or summary.model.startswith(f"{model} "):
                return summary
    return None


def search_table(result: SearchOutcome) -> Table:
    """Trials finished and pruned, epochs spent, the best trial's validation accuracy and configuration, final test
    accuracy over the final seeds (mean ± 95 % half-width), seconds spent tuning."""
    options = result.options
    table = Table(
        title=f"search {result.name}: {options.trials} trials per model, pruner {options.pruner}, search seed "
        f"{options.search_seed}; best configuration on validation, tested on {options.final_seeds} fresh seeds",
    )
    for name, numeric in (("model", False), ("finished", True), ("pruned", True), ("epochs", True),
                          ("val acc %", True), ("best configuration", False), ("final test acc %", True),
                          ("tuning s", True)):  # fmt: skip
        table.add_column(name, justify="right" if numeric else "left")
    for search in result.searches:
        final = _final(result, search.model)
        accuracy = final.test_accuracy if final else None
        test = "-"
        if accuracy is not None:
            test = f"{100 * accuracy.mean:.2f}" + (
                f" ± {100 * (accuracy.high - accuracy.mean):.2f}" if accuracy.n > 1 else ""
            )
        best = search.best
        table.add_row(
            search.model,
            str(search.finished),
            str(search.pruned),
            f"{search.epochs:,}",
            percent(best.value) if best else "-",
            describe_params(best.params) if best else "no trial finished",
            test,
            f"{search.seconds:.0f}",
        )
    return table
