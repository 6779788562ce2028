"""From the store to plain typed records: the runs a comparison covers, grouped into panels, with their statistics.

A *panel* is what the models are compared within: one data set read one way (a :class:`DataSpec`), one training
protocol (a :class:`TrainSpec`), one model structure and one backend. The terminal table, the summary JSON and every
report format show what comes from here, and everything here comes from the store alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rnnbench.errors import RnnbenchError
from rnnbench.results.run_result import RunResult, RunStatus
from rnnbench.results.stats import (
    Comparison,
    ModelKey,
    ModelSummary,
    model_key,
    model_labels,
    pairwise,
    summarize,
    verdict,
)
from rnnbench.results.store import Store, StoredDataset, StoredExperiment, StoredRun, StoredTrial, data_key
from rnnbench.spec import PRESET_ALIASES, DataSpec, ExperimentSpec, ModelSpec, RunSpec, TrainSpec


def _run_fields(spec: RunSpec) -> dict[str, str]:
    """The values a --filter can select on, as text."""
    return {
        "model": spec.model.name,
        "units": str(spec.model.units),
        "dataset": spec.data.name,
        "view": spec.data.view,
        "preset": spec.train.preset,
        "seed": str(spec.seed),
        "backend": spec.backend,
    }


FILTER_KEYS = tuple(_run_fields(RunSpec(DataSpec(), ModelSpec(), TrainSpec())))


@dataclass(frozen=True)
class Selection:
    """Which runs of a store a report covers: those of an experiment name and/or matching every filter.

    ``filters`` maps a key of :data:`FILTER_KEYS` to the values accepted for it (any of them); ``run_keys``, when
    given, restricts the report to those runs (the runs of a comparison just made).
    """

    experiment: str | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    run_keys: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        for key, _ in self.filters:
            if key not in FILTER_KEYS:
                raise RnnbenchError(f"unknown filter key '{key}'; known: {', '.join(FILTER_KEYS)}")

    def describe(self) -> str:
        parts = [f"experiment {self.experiment}"] if self.experiment else []
        parts += [f"{key}={','.join(values)}" for key, values in self.filters]
        return "; ".join(parts) or "every run in the store"

    def accepts(self, spec: RunSpec) -> bool:
        fields = _run_fields(spec)
        return all(fields[key] in values for key, values in self.filters)


def parse_filters(texts: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``["model=lstm,gru", "dataset=digits"]`` -> ``(("model", ("lstm", "gru")), ("dataset", ("digits",)))``."""
    parsed: dict[str, tuple[str, ...]] = {}
    for text in texts:
        key, equals, values = text.partition("=")
        key = key.strip().lower()
        accepted = tuple(value.strip() for value in values.split(",") if value.strip())
        if not equals or not accepted:
            raise RnnbenchError(f"--filter '{text}' is not KEY=VALUE[,VALUE...]; e.g. --filter model=lstm,gru")
        if key not in FILTER_KEYS:
            raise RnnbenchError(f"--filter '{text}': unknown key '{key}'; known: {', '.join(FILTER_KEYS)}")
        if key == "preset":
            accepted = tuple(PRESET_ALIASES.get(value, value) for value in accepted)
        parsed[key] = parsed.get(key, ()) + accepted
    return tuple(parsed.items())


@dataclass(frozen=True)
class Panel:
    """The runs of one panel (every state), their statistics over seeds, and the data set they were trained on."""

    number: int
    data: DataSpec
    train: TrainSpec
    structure: ModelSpec
    backend: str
    dataset: StoredDataset | None
    runs: tuple[StoredRun, ...]
    summary: tuple[ModelSummary, ...]
    comparisons: tuple[Comparison, ...]
    verdict: str
    # For the models tuned by a search (train.search): the search's trials, and its space as stored.
    trials: tuple[StoredTrial, ...] = ()
    search_space: dict[str, Any] | None = None

    @property
    def results(self) -> tuple[RunResult, ...]:
        """Results of the finished and diverged runs."""
        return tuple(run.result for run in self.runs if run.result is not None)

    @property
    def unfinished(self) -> tuple[StoredRun, ...]:
        """Runs without a result: failed, or still running (or killed) when the store was read."""
        return tuple(run for run in self.runs if run.result is None)

    @property
    def labels(self) -> dict[ModelKey, str]:
        """The summary's name for each model (cell, width, options)."""
        return model_labels(self.results)

    def label(self, spec: RunSpec) -> str:
        return self.labels.get(model_key(spec), spec.model.name)

    def runs_of(self, label: str) -> list[StoredRun]:
        """The runs with a result of one summary row, in seed order."""
        found = [run for run in self.runs if run.result is not None and self.label(run.spec) == label]
        return sorted(found, key=lambda run: run.spec.seed)

    def best_run(self, label: str, among: Collection[str] | None = None) -> StoredRun | None:
        """A model's best finished run, chosen on validation accuracy (never on the test set); ties: lowest seed.
        ``among``: only runs with these keys."""
        finished = [
            run
            for run in self.runs_of(label)
            if run.result and run.result.status == RunStatus.FINISHED and (among is None or run.run_key in among)
        ]
        if not finished:
            return None
        return max(finished, key=lambda run: (_validation_score(run.result), -run.spec.seed))

    @property
    def title(self) -> str:
        data = self.data
        reading = f"{self.dataset_name} read by {data.view}"
        if self.dataset is not None:
            described = self.dataset.description
            shape = f"{described['steps']} steps x {described['features']} features"
            reading = f"{self.dataset_name} read by {data.view} ({shape})"
        return ", ".join([reading, self.training])

    @property
    def dataset_name(self) -> str:
        """The data set's own name (a folder's, not its path) where the store describes it."""
        return str(self.dataset.description["name"]) if self.dataset is not None else self.data.name

    @property
    def recipe(self) -> str:
        """The training recipe: a preset, or the recipes a search chose."""
        if self.train.search is not None:
            return f"recipes tuned per model by search {self.train.search}"
        return f"preset {self.train.preset}"

    @property
    def training(self) -> str:
        """How the panel's models were trained and built, apart from the data: recipe, epochs, structure."""
        return self.training_with(self.recipe)

    def training_with(self, recipe: str) -> str:
        """:attr:`training`, with ``recipe`` in place of the panel's own recipe."""
        epochs = f"{self.train.epochs} epoch{'s' if self.train.epochs > 1 else ''}"
        parts = [recipe, epochs]
        structure = self.structure
        if structure.layers > 1:
            parts.append(f"{structure.layers} layers")
        if structure.bidirectional:
            parts.append("bidirectional")
        if structure.dropout:
            parts.append(f"dropout {structure.dropout:g}")
        if structure.head != ModelSpec().head:
            parts.append(f"head {structure.head}")
        return ", ".join(parts)

    @property
    def train_samples(self) -> int | None:
        return int(self.dataset.description["train"]) if self.dataset else None

    @property
    def classes(self) -> int | None:
        if self.dataset:
            return int(self.dataset.description["classes"])
        confusion = next((run.confusion for run in self.runs if run.confusion), None)
        return len(confusion) if confusion else None


def _validation_score(result: RunResult | None) -> float:
    assert result is not None
    if result.best_val_accuracy is not None:
        return result.best_val_accuracy
    # Without a validation set the last epoch's training accuracy is the only honest criterion.
    return result.epochs[-1].train_accuracy if result.epochs else 0.0


@dataclass(frozen=True)
class PanelSet:
    """What a report shows: where it comes from, which runs it covers, and those runs by panel."""

    store: Path
    generated_at: str
    selection: Selection
    experiments: tuple[StoredExperiment, ...]
    panels: tuple[Panel, ...]

    @property
    def runs(self) -> tuple[StoredRun, ...]:
        return tuple(run for panel in self.panels for run in panel.runs)

    def environments(self, field: str) -> list[str]:
        """The distinct values of one environment field (a version, host, device) over the runs, in order."""
        seen: dict[str, None] = {}
        for run in self.runs:
            value = run.environment.get(field)
            if value is not None:
                seen[str(value)] = None
        return list(seen)


def _structure(model: ModelSpec) -> ModelSpec:
    """The model's structure without what varies inside a panel: the cell, its width (and the budget it was matched
    to) and its options."""
    return dataclasses.replace(model, name="", units=1, param_budget=None, options=())


# What rnnbench tune adds to the record of the experiment it searches.
SEARCH_FIELDS = ("search", "search_name")


def _grid(experiment: StoredExperiment) -> ExperimentSpec | None:
    """The grid of an experiment record; None if this version cannot read it (a field it does not know)."""
    values = {key: value for key, value in experiment.spec.items() if key not in SEARCH_FIELDS}
    try:
        return ExperimentSpec.from_dict(values)
    except (TypeError, ValueError, RnnbenchError):
        return None


def _in_experiment(spec: RunSpec, grid: ExperimentSpec | None) -> bool:
    """Whether a run is one of an experiment's grid (matched on its stored spec; no models are built)."""
    if grid is None:
        return False
    model = spec.model
    width_ok = model.param_budget in grid.match_params if grid.match_params else model.units in grid.units
    return (
        model.name in grid.models
        and spec.seed in grid.seeds
        and spec.backend == grid.backend
        and width_ok
        and model.options == dict(grid.model_options).get(model.name, ())
        and _structure(model) == _structure(grid.structure)
        and spec.data in grid.data
        and spec.train in grid.train
    )


def _selected(store: Store, selection: Selection, runs: Sequence[StoredRun]) -> list[StoredRun]:
    chosen = [run for run in runs if selection.accepts(run.spec)]
    if selection.run_keys is not None:
        wanted = set(selection.run_keys)
        chosen = [run for run in chosen if run.run_key in wanted]
    else:  # a search's trials are not comparisons: reports show the tuned runs they led to
        chosen = [run for run in chosen if not run.spec.train.validation_only]
    if selection.experiment is not None:
        experiments = [e for e in store.experiments() if e.name == selection.experiment]
        if not experiments:
            names = sorted({e.name for e in store.experiments()})
            raise RnnbenchError(
                f"no experiment named '{selection.experiment}' in {store.path}; it holds: {', '.join(names) or 'none'}"
            )
        grids = [_grid(experiment) for experiment in experiments]
        chosen = [run for run in chosen if any(_in_experiment(run.spec, grid) for grid in grids)]
    return chosen


def _nothing_matches(store: Store, selection: Selection, runs: Sequence[StoredRun]) -> RnnbenchError:
    if not runs:
        return RnnbenchError(f"{store.path} holds no runs yet; run 'rnnbench compare' or 'rnnbench sweep' first")
    held = {key: sorted({_run_fields(run.spec)[key] for run in runs}) for key in ("model", "dataset", "view")}
    inventory = "; ".join(f"{key}: {', '.join(values)}" for key, values in held.items())
    return RnnbenchError(f"no run in {store.path} matches {selection.describe()}; the store holds {inventory}")


def _panel_order(runs: Sequence[StoredRun], experiments: Sequence[StoredExperiment]) -> list[StoredRun]:
    """Width, then models in the order the latest experiment naming them listed them, then seed.

    Runs start in another order (the longest first, several at once), so the store's order is only the fallback.
    """
    rank: dict[str, int] = {}
    for experiment in reversed(experiments):
        for name in experiment.spec.get("models", []):
            rank.setdefault(name, len(rank))
    for run in runs:
        rank.setdefault(run.spec.model.name, len(rank))
    return sorted(runs, key=lambda run: (run.spec.model.units, rank[run.spec.model.name], run.spec.seed))


def gather(store: Store, selection: Selection = Selection()) -> PanelSet:
    """The runs of ``store`` that ``selection`` covers, grouped into panels with their statistics."""
    every_run = store.runs()
    chosen = _selected(store, selection, every_run)
    if not chosen:
        raise _nothing_matches(store, selection, every_run)
    if selection.run_keys is not None:  # the panels of a grid in the grid's order, not the order runs started in
        position = {key: index for index, key in enumerate(selection.run_keys)}
        chosen.sort(key=lambda run: position[run.run_key])
    datasets = store.datasets()
    every_experiment = store.experiments()
    groups: dict[tuple[DataSpec, Hashable, ModelSpec, str], list[StoredRun]] = {}
    for run in chosen:
        key = (run.spec.data, run.spec.train.panel_key(), _structure(run.spec.model), run.spec.backend)
        groups.setdefault(key, []).append(run)
    panels = []
    for number, ((data, _, structure, backend), runs) in enumerate(groups.items(), start=1):
        train = runs[0].spec.train  # for a searched panel: its first model's recipe
        ordered = _panel_order(runs, every_experiment)
        results = [run.result for run in ordered if run.result is not None]
        summary = summarize(results)
        comparisons = pairwise(results)
        panels.append(
            Panel(
                number=number,
                data=data,
                train=train,
                structure=structure,
                backend=backend,
                dataset=datasets.get(data_key(data)),
                runs=tuple(ordered),
                summary=tuple(summary),
                comparisons=tuple(comparisons),
                verdict=verdict(summary, comparisons, tuned=train.search is not None),
                trials=tuple(store.trials(train.search)) if train.search else (),
                search_space=_search_space(every_experiment, train.search),
            )
        )
    grids = [(experiment, _grid(experiment)) for experiment in every_experiment]
    experiments = [e for e, grid in grids if any(_in_experiment(run.spec, grid) for run in chosen)]
    return PanelSet(
        store=store.path,
        generated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        selection=selection,
        experiments=_distinct_names(experiments),
        panels=tuple(panels),
    )


def _search_space(experiments: Sequence[StoredExperiment], search: str | None) -> dict[str, Any] | None:
    """The space of ``search`` as its experiment record holds it (rnnbench tune writes it there)."""
    for experiment in reversed(experiments):
        if search is not None and experiment.spec.get("search_name") == search:
            return dict(experiment.spec.get("search", {}).get("space", {})) or None
    return None


def _distinct_names(experiments: Sequence[StoredExperiment]) -> tuple[StoredExperiment, ...]:
    """The latest record of each experiment name."""
    latest: dict[str, StoredExperiment] = {}
    for experiment in experiments:
        latest[experiment.name] = experiment
    return tuple(latest.values())


def read_panels(store_path: Path, selection: Selection = Selection()) -> PanelSet:
    """Open ``store_path`` read-only and gather what ``selection`` covers."""
    with Store.read(store_path) as store:
        return gather(store, selection)
