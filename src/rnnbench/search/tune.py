"""An equal-budget hyperparameter search per architecture, then the tuned comparison (``rnnbench tune``).

Each architecture gets its own Optuna study with the same budget: a seeded TPE sampler over the search space and,
with the ``asha`` pruner, Optuna's Hyperband pruner (asynchronous successive halving in several brackets) on
validation accuracy at epochs r, 3r, 9r, ... with r a ninth of the epochs but at least 3 (the same rule for every
architecture). Trials go in rounds of ROUND_SIZE per architecture through rnnbench's executors: a round trains its
trials to the next rung together, then each study decides, in trial order, which of them go on.

A trial is scored by its validation accuracy at the last epoch it trained, the weights the comparison tests.
Every rung of a trial is a run in the store: its recipe, its seed (the trial number), trained up to that epoch and
continued from the previous rung's checkpoint. The search is a deterministic function of what the store holds: run
again after an interruption, it replays its decisions from the stored runs and trains only what is missing, so it ends
where an uninterrupted search with the same seeds would. Trials never see the test set. The best configuration of each
architecture (on validation accuracy) is then trained on fresh seeds and tested like any comparison.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rnnbench.backend import select_backend
from rnnbench.data.prepare import prepare_data
from rnnbench.data.source import DataSource
from rnnbench.driver.experiment import (
    NullDisplay,
    StoreRecorder,
    check_names,
    keep_best_models,
    save_dataset,
    train_into_store,
)
from rnnbench.errors import RnnbenchError
from rnnbench.executors import ClusterOptions, ExecutionContext, ExecutionObserver, make_executor
from rnnbench.models.matching import match_units
from rnnbench.models.memory import check_fits_in_memory, physical_memory_bytes
from rnnbench.results.panels import PanelSet, Selection, gather
from rnnbench.results.run_result import DIVERGED, RunResult
from rnnbench.results.store import DONE, Store, StoredTrial
from rnnbench.search.importance import hyperparameter_importance
from rnnbench.search.space import DEFAULT_SPACE, SearchSpace
from rnnbench.spec import DEFAULT_STORE, SEARCHED, SEED_LIMIT, ExperimentSpec, Preset, RunSpec, TrainSpec

if TYPE_CHECKING:
    import optuna

ROUND_SIZE = 4  # trials per architecture trained side by side before the studies decide
REDUCTION = 3  # successive halving keeps the best third at each rung
# On Fashion-MNIST (10-epoch trials) the validation accuracy after epoch 1 hardly ranked trials by their final one
# (Spearman 0.16 for LSTM, 0.33 for GRU); after epoch 3 it did (0.63, 0.46).
EARLIEST_RUNG = 3
# The version of how a search decides (its rungs, its scores): a search made under other rules has another name.
RULES = 2  # 2: rungs from epoch 3 at the earliest, trials scored by their last epoch
PRUNERS = ("asha", "none")
# The final seeds are fresh: no trial trained with them.
FINAL_SEED_BASE = 1_000_000

RUNNING, PRUNED, COMPLETE, FAILED = "running", "pruned", "complete", "failed"


@dataclass(frozen=True)
class SearchOptions:
    """How to search: trials per architecture, the sampler's seed, the space, the pruner, the final seeds."""

    trials: int = 20
    search_seed: int = 0
    space: SearchSpace = DEFAULT_SPACE
    pruner: str = "asha"
    final_seeds: int = 3

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise RnnbenchError(f"--trials must be at least 1, got {self.trials}")
        if self.final_seeds < 1:
            raise RnnbenchError(f"--final-seeds must be at least 1, got {self.final_seeds}")
        if self.pruner not in PRUNERS:
            raise RnnbenchError(f"unknown pruner '{self.pruner}'; known: {', '.join(PRUNERS)}")
        if not 0 <= self.search_seed < SEED_LIMIT:
            raise RnnbenchError(f"--search-seed must be from 0 to {SEED_LIMIT - 1}, got {self.search_seed}")

    def to_dict(self) -> dict[str, Any]:
        return {"trials": self.trials, "search_seed": self.search_seed, "space": self.space.to_dict(),
                "pruner": self.pruner, "final_seeds": self.final_seeds}  # fmt: skip


def first_rung(epochs: int) -> int:
    """The first epoch at which trials are compared: a ninth of the budget, but not before epoch EARLIEST_RUNG (a third
    of budgets under 9 epochs), so that a cell that starts slowly (a warm-up, a small learning rate) is not judged on
    its first steps."""
    return max(1, min(epochs // REDUCTION, max(EARLIEST_RUNG, epochs // REDUCTION**2)))


def rungs(epochs: int, pruner: str) -> tuple[int, ...]:
    """The epochs at which trials stop to be compared: r, 3r, 9r, ... (r: :func:`first_rung`) as long as a third of
    the budget or more is left to save, then ``epochs``."""
    stops = []
    rung = first_rung(epochs)
    while pruner == "asha" and rung * REDUCTION <= epochs:
        stops.append(rung)
        rung *= REDUCTION
    return (*stops, epochs)


def recipe(params: dict[str, Any]) -> tuple[Preset, int]:
    """The training recipe and batch size of a trial's hyperparameters."""
    optimizer = params["optimizer"]
    preset = Preset(
        optimizer,
        float(params["learning_rate"]),
        "chosen by a search",
        schedule=params["schedule"],
        warmup_epochs=1.0 if params["schedule"] == "cosine" else 0.0,
        clipnorm=float(params["clipnorm"]) or None,
        weight_decay=float(params.get("weight_decay", 0.0)) if optimizer == "adamw" else 0.0,
        momentum=0.9 if optimizer == "sgd" else 0.0,
        nesterov=optimizer == "sgd",
        label_smoothing=float(params["label_smoothing"]),
    )
    return preset, int(params["batch_size"])


def describe_params(params: dict[str, Any]) -> str:
    """A configuration in one short line: ``adamw lr 3.2e-03 wd 1e-04, batch 64, cosine, clip 1, smoothing 0.05``."""
    parts = [f"{params['optimizer']} lr {params['learning_rate']:.1e}"]
    if "weight_decay" in params:
        parts[0] += f" wd {params['weight_decay']:.0e}"
    parts += [f"batch {params['batch_size']}", params["schedule"]]
    if params["clipnorm"]:
        parts.append(f"clip {params['clipnorm']:g}")
    if params["label_smoothing"]:
        parts.append(f"smoothing {params['label_smoothing']:.2f}")
    return ", ".join(parts)


def space_batch_sizes(space: SearchSpace) -> tuple[int, ...]:
    return tuple(int(size) for size in space.dimension("batch_size").choices)


def _sample(trial: optuna.trial.Trial, space: SearchSpace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for dimension in space.dimensions:
        if dimension.name == "weight_decay" and params["optimizer"] != "adamw":
            continue  # decoupled weight decay belongs to AdamW
        if dimension.choices:
            params[dimension.name] = trial.suggest_categorical(dimension.name, list(dimension.choices))
        else:
            assert dimension.low is not None and dimension.high is not None
            params[dimension.name] = trial.suggest_float(dimension.name, dimension.low, dimension.high,
                                                         log=dimension.log)  # fmt: skip
    return params


@dataclass
class _Trial:
    """A trial while the search runs: Optuna's handle, its hyperparameters and what its runs gave so far."""

    model: str
    number: int
    handle: Any
    params: dict[str, Any]
    state: str = RUNNING
    value: float | None = None
    loss: float | None = None
    epochs: int = 0
    seconds: float = 0.0
    run_key: str | None = None
    reported: int = 0


@dataclass(frozen=True)
class ArchitectureSearch:
    """One architecture's search: its trials (as stored) and its best one on validation accuracy."""

    model: str
    trials: tuple[StoredTrial, ...]
    best: StoredTrial | None
    importance: dict[str, float]

    @property
    def finished(self) -> int:
        return sum(trial.state == COMPLETE for trial in self.trials)

    @property
    def pruned(self) -> int:
        return sum(trial.state == PRUNED for trial in self.trials)

    @property
    def epochs(self) -> int:
        return sum(trial.epochs for trial in self.trials)

    @property
    def seconds(self) -> float:
        return sum(trial.seconds for trial in self.trials)

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        return {
            "model": self.model,
            "trials_finished": self.finished,
            "trials_pruned": self.pruned,
            "trials_failed": sum(trial.state == FAILED for trial in self.trials),
            "epochs": self.epochs,
            "seconds": self.seconds,
            "best_trial": best.number if best else None,
            "best_val_accuracy": best.value if best else None,
            "best_params": best.params if best else None,
            "importance": self.importance,
            "trials": [dataclasses.asdict(trial) for trial in self.trials],
        }


@dataclass(frozen=True)
class SearchResult:
    """Every architecture's search and the tuned comparison (its final runs, in panels)."""

    name: str
    spec: ExperimentSpec
    options: SearchOptions
    searches: tuple[ArchitectureSearch, ...]
    records: PanelSet
    wall_seconds: float
    trained: int

    def summary_fields(self) -> dict[str, Any]:
        """The summary JSON's fields about the search (its final panels come from :mod:`rnnbench.report.summary`)."""
        return {
            "experiment": self.spec.name,
            "search": self.name,
            "options": self.options.to_dict(),
            "backend": self.spec.backend,
            "wall_seconds": self.wall_seconds,
            "trained_now": self.trained,
            "architectures": [search.to_dict() for search in self.searches],
        }


def search_name(spec: ExperimentSpec, options: SearchOptions) -> str:
    """The search's identity: its name and a hash of everything it depends on (a changed space, or changed rules, is
    another search, and the trials of the earlier one stay as they were)."""
    identity = {"spec": spec.to_dict(), "options": options.to_dict(), "rules": RULES}
    canonical = json.dumps(identity, sort_keys=True, default=str)
    return f"{spec.name}-{hashlib.sha256(canonical.encode()).hexdigest()[:8]}"


def run_search(
    spec: ExperimentSpec,
    options: SearchOptions,
    store_path: Path = DEFAULT_STORE,
    jobs: int = 1,
    display: ExecutionObserver | None = None,
    executor: str | None = None,
    source: DataSource | None = None,
    cluster: ClusterOptions | None = None,
    say: Callable[[str], None] | None = None,
    save_models: str = "none",
) -> SearchResult:
    """Search each model of ``spec`` (one data set and view, one width) with ``options``, then train the best
    configuration of each on the final seeds and compare them. ``say`` hears one line per decided trial."""
    started = time.perf_counter()
    check_names(spec)
    if len(spec.data) != 1 or len(spec.match_params or spec.units) != 1:
        raise RnnbenchError("a search tunes one data set and view at one width; give one of each")
    select_backend(spec.backend)
    source = source or DataSource.from_settings()
    data = spec.data[0]
    sequences = prepare_data(data, source=source)
    bases = _base_runs(spec, sequences)
    if (executor or "") != "ray":  # a Ray cluster's nodes are not this machine
        largest = max(space_batch_sizes(options.space))
        widest = (
            dataclasses.replace(run, train=dataclasses.replace(run.train, batch_size=largest)) for run in bases.values()
        )
        check_fits_in_memory(((run, sequences.steps, sequences.features, sequences.classes) for run in widest),
                             physical_memory_bytes())  # fmt: skip
    name = search_name(spec, options)
    epochs = spec.train[0].epochs
    tell = say or (lambda text: None)
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(Store.open(store_path))
        store.save_experiment(spec.name, {**spec.to_dict(), "search": options.to_dict(), "search_name": name})
        save_dataset(store, data, sequences)
        recorder = StoreRecorder(store, display or NullDisplay())
        # Trials never keep their models (nor see the test set); the final runs do as save_models says.
        context = ExecutionContext(jobs, store.checkpoint_dir, source, lambda _: sequences, cluster or ClusterOptions(),
                                   keep_models=save_models != "none")  # fmt: skip
        # One executor for the whole search: its worker processes serve every round.
        runner = stack.enter_context(
            contextlib.closing(make_executor(executor or ("local" if jobs > 1 else "inline"), context))
        )
        trained = 0

        def train(runs: list[RunSpec]) -> dict[str, RunResult | None]:
            nonlocal trained
            todo = [run for run in runs if store.status(run.key()) not in DONE]
            trained += len(todo)
            train_into_store(store, runs, todo, recorder, runner)
            return {run.key(): store.result(run) for run in runs}

        studies = {label: _study(f"{name}-{label}", options, epochs) for label in bases}
        for start in range(0, options.trials, ROUND_SIZE):
            batch = [
                _Trial(label, number, handle, _sample(handle, options.space))
                for label, study in studies.items()
                for number, handle in ((n, study.ask()) for n in range(start, min(start + ROUND_SIZE, options.trials)))
            ]
            for stop in rungs(epochs, options.pruner):
                alive = [trial for trial in batch if trial.state == RUNNING]
                if not alive:
                    break
                runs = {id(trial): _trial_run(bases[trial.model], trial, stop) for trial in alive}
                results = train(list(runs.values()))
                for trial in alive:
                    run = runs[id(trial)]
                    _decide(studies[trial.model], trial, run, results[run.key()], stop, epochs)
                    store.save_trial(_stored(name, trial))
                    if trial.state != RUNNING:
                        tell(_decision_text(trial))
        searches = tuple(_summary(label, store.trials(name), studies[label], options) for label in bases)
        finals = [_final_run(bases[search.model], search.best, name, seed)
                  for search in searches if search.best is not None
                  for seed in range(FINAL_SEED_BASE, FINAL_SEED_BASE + options.final_seeds)]  # fmt: skip
        if not finals:
            raise RnnbenchError("no trial of any model finished; see the failed runs with 'rnnbench report'")
        train(finals)
        records = gather(store, Selection(run_keys=tuple(run.key() for run in finals)))
        if save_models == "best":
            keep_best_models(store, records, recorder.models_saved)
    return SearchResult(name, spec, options, searches, records, time.perf_counter() - started, trained)


def _base_runs(spec: ExperimentSpec, sequences: Any) -> dict[str, RunSpec]:
    """One run per model at the grid's width (matched on these shapes with --match-params), by model name."""
    one_seed = dataclasses.replace(spec, seeds=(0,))

    def match(data: Any, model: Any, budget: int) -> Any:
        return match_units(model, budget, sequences.steps, sequences.features, sequences.classes)

    return {run.model.name: run for run in one_seed.runs(match)}


def _study(name: str, options: SearchOptions, epochs: int) -> optuna.Study:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner: optuna.pruners.BasePruner = optuna.pruners.NopPruner()
    if options.pruner == "asha":
        pruner = optuna.pruners.HyperbandPruner(min_resource=first_rung(epochs), max_resource=epochs,
                                                reduction_factor=REDUCTION)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        # Multivariate: learning rate, batch size and optimizer work together. A constant liar: the trials of a round
        # are asked before any of them is told, and should not all land on one spot.
        sampler = optuna.samplers.TPESampler(seed=options.search_seed, multivariate=True, constant_liar=True)
    # Hyperband puts each trial in a bracket by a hash of the study's name: a fixed name keeps the search the same.
    return optuna.create_study(study_name=name, direction="maximize", sampler=sampler, pruner=pruner)


def _trial_run(base: RunSpec, trial: _Trial, stop: int) -> RunSpec:
    preset, batch_size = recipe(trial.params)
    epochs = base.train.epochs
    train = TrainSpec(SEARCHED, batch_size=batch_size, epochs=epochs, custom=preset, validation_only=True,
                      stop_epoch=stop if stop < epochs else None)  # fmt: skip
    return dataclasses.replace(base, train=train, seed=trial.number)


def _final_run(base: RunSpec, best: StoredTrial, search: str, seed: int) -> RunSpec:
    preset, batch_size = recipe(best.params)
    train = TrainSpec(SEARCHED, batch_size=batch_size, epochs=base.train.epochs, custom=preset, search=search)
    return dataclasses.replace(base, train=train, seed=seed)


def _decide(study: optuna.Study, trial: _Trial, run: RunSpec, result: RunResult | None, stop: int, epochs: int) -> None:
    """Report the trial's new epochs to its study, then prune it, finish it, or let it go on."""
    from optuna.trial import TrialState

    trial.run_key = run.key()
    if result is None:  # the run failed (out of memory, a crash): the trial ends without a value
        trial.state = FAILED
        study.tell(trial.handle, state=TrialState.FAIL)
        return
    last = result.epochs[-1] if result.epochs else None
    if last is None or last.val_accuracy is None:
        raise RnnbenchError("a search needs a validation split to score its trials; give --val-fraction above 0")
    for metrics in result.epochs:
        if metrics.epoch > trial.reported and metrics.val_accuracy is not None:
            trial.handle.report(metrics.val_accuracy, metrics.epoch)
    trial.reported = len(result.epochs)
    # This rung's cost: its fixed cost and the epochs it trained (a resumed run's history includes earlier rungs').
    trial.seconds += (result.setup_seconds or 0.0) + sum(e.seconds for e in result.epochs if e.epoch > trial.epochs)
    trial.epochs = len(result.epochs)
    # Scored as the comparison scores a model, by its last epoch's weights (not its best epoch's: a recipe whose
    # validation accuracy jumps about would win on a lucky epoch); a diverged trial has no model left.
    diverged = result.status == DIVERGED
    trial.value, trial.loss = (0.0, None) if diverged else (last.val_accuracy, last.val_loss)
    if diverged or stop >= epochs:
        trial.state = COMPLETE
        study.tell(trial.handle, trial.value)
    elif trial.handle.should_prune():
        trial.state = PRUNED
        study.tell(trial.handle, state=TrialState.PRUNED)


def _stored(search: str, trial: _Trial) -> StoredTrial:
    return StoredTrial(search, trial.model, trial.number, trial.params, trial.state, trial.value, trial.loss,
                       trial.epochs, trial.seconds, trial.run_key)  # fmt: skip


def _decision_text(trial: _Trial) -> str:
    value = f"{100 * trial.value:.2f} %" if trial.value is not None else "-"
    what = {PRUNED: f"pruned after epoch {trial.epochs}", COMPLETE: f"finished {trial.epochs} epochs",
            FAILED: "failed"}[trial.state]  # fmt: skip
    configuration = describe_params(trial.params)
    return f"{trial.model} trial {trial.number}: {what}, validation accuracy {value} ({configuration})"


def _summary(
    model: str, stored: Sequence[StoredTrial], study: optuna.Study, options: SearchOptions
) -> ArchitectureSearch:
    trials = tuple(trial for trial in stored if trial.model == model)
    finished = [trial for trial in trials if trial.state == COMPLETE and trial.value is not None]
    # The best on validation accuracy; ties (a validation set of a few hundred images has few distinct accuracies):
    # the lower validation loss at its last epoch, then the earlier trial.
    best = min(finished, key=lambda t: (-(t.value or 0.0), t.loss if t.loss is not None else math.inf, t.number),
               default=None)  # fmt: skip
    return ArchitectureSearch(model, trials, best, hyperparameter_importance(trials, options.space.to_dict()))
