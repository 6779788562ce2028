"""A search in the terminal: one row per architecture, what its budget bought and what its best configuration gave."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from rnnbench.report.cells import percent

if TYPE_CHECKING:
    from rnnbench.results.stats import ModelSummary
    from rnnbench.search.result import SearchResult


def _final(result: SearchResult, model: str) -> ModelSummary | None:
    for panel in result.records.panels:
        for summary in panel.summary:
            if summary.model == model or summary.model.startswith(f"{model} "):
                return summary
    return None


def search_table(result: SearchResult) -> Table:
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
            _configuration(best.params) if best else "no trial finished",
            test,
            f"{search.seconds:.0f}",
        )
    return table


def _configuration(params: dict[str, object]) -> str:
    from rnnbench.search.result import describe_params

    return describe_params(params)
