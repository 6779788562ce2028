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

from rnnbench.data.source import DataSource
from rnnbench.driver.driver import Driver, Session
from rnnbench.errors import RnnbenchError
from rnnbench.executors import ExecutionObserver
from rnnbench.models.matching import match_units
from rnnbench.results.panels import Selection, gather
from rnnbench.results.run_result import RunResult, RunStatus
from rnnbench.results.store import StoredTrial, TrialState
from rnnbench.results.trials import describe_params, hyperparameter_importance
from rnnbench.search.result import ArchitectureSearch, SearchResult
from rnnbench.spec import DEFAULT_STORE, SEARCHED, ExecutionConfig, ExperimentSpec, Preset, RunSpec, TrainSpec
from rnnbench.spec.search import SearchOptions
from rnnbench.spec.search_space import SearchSpace

if TYPE_CHECKING:
    import optuna

ROUND_SIZE = 4  # trials per architecture trained side by side before the studies decide
REDUCTION = 3  # successive halving keeps the best third at each rung
# On Fashion-MNIST (10-epoch trials) the validation accuracy after epoch 1 hardly ranked trials by their final one
# (Spearman 0.16 for LSTM, 0.33 for GRU); after epoch 3 it did (0.63, 0.46).
EARLIEST_RUNG = 3
# The version of how a search decides (its rungs, its scores): a search made under other rules has another name.
RULES = 2  # 2: rungs from epoch 3 at the earliest, trials scored by their last epoch
# The final seeds are fresh: no trial trained with them.
FINAL_SEED_BASE = 1_000_000


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
    state: TrialState = TrialState.RUNNING
    value: float | None = None
    loss: float | None = None
    epochs: int = 0
    seconds: float = 0.0
    run_key: str | None = None
    reported: int = 0


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
    execution: ExecutionConfig | None = None,
    display: ExecutionObserver | None = None,
    source: DataSource | None = None,
    say: Callable[[str], None] | None = None,
) -> SearchResult:
    """Search each model of ``spec`` (one data set and view, one width) with ``options``, then train the best
    configuration of each on the final seeds and compare them. ``execution`` is shared by trials and final runs
    (trials never keep their models, nor see the test set; the final runs keep them as it says). ``say`` hears one
    line per decided trial."""
    started = time.perf_counter()
    if len(spec.data) != 1 or len(spec.match_params or spec.units) != 1:
        raise RnnbenchError("a search tunes one data set and view at one width; give one of each")
    driver = Driver(store_path, execution or ExecutionConfig(), display, source)
    prepared = driver.prepare(spec)
    sequences = prepared[spec.data[0]]
    bases = _base_runs(spec, sequences)
    largest = max(space_batch_sizes(options.space))
    driver.check_sizes((_with_batch_size(run, largest) for run in bases.values()), prepared)
    name = search_name(spec, options)
    with driver.session(spec, prepared, {"search": options.to_dict(), "search_name": name}) as session:
        studies = {label: _study(f"{name}-{label}", options, spec.train[0].epochs) for label in bases}
        for start in range(0, options.trials, ROUND_SIZE):
            _search_round(session, name, studies, bases, options, range(start, min(start + ROUND_SIZE, options.trials)),
                          say or (lambda text: None))  # fmt: skip
        searches = tuple(_summary(label, session.store.trials(name), options) for label in bases)
        finals = [_final_run(bases[search.model], search.best, name, seed)
                  for search in searches if search.best is not None
                  for seed in range(FINAL_SEED_BASE, FINAL_SEED_BASE + options.final_seeds)]  # fmt: skip
        if not finals:
            raise RnnbenchError("no trial of any model finished; see the failed runs with 'rnnbench report'")
        session.train(finals)
        records = gather(session.store, Selection(run_keys=tuple(run.key() for run in finals)))
        session.keep_best_models(records)
    return SearchResult(name, spec, options, searches, records, time.perf_counter() - started, session.trained)


def _search_round(
    session: Session,
    name: str,
    studies: dict[str, optuna.Study],
    bases: dict[str, RunSpec],
    options: SearchOptions,
    numbers: range,
    tell: Callable[[str], None],
) -> None:
    """Trials ``numbers`` of every architecture, trained side by side from rung to rung; after each rung every study
    decides, in trial order, which of its trials go on."""
    epochs = next(iter(bases.values())).train.epochs
    batch = [_Trial(label, number, handle, _sample(handle, options.space))
             for label, study in studies.items()
             for number, handle in ((n, study.ask()) for n in numbers)]  # fmt: skip
    for stop in rungs(epochs, options.pruner):
        alive = [trial for trial in batch if trial.state == TrialState.RUNNING]
        if not alive:
            return
        runs = {id(trial): _trial_run(bases[trial.model], trial, stop) for trial in alive}
        results = session.train(list(runs.values()))
        for trial in alive:
            run = runs[id(trial)]
            _decide(studies[trial.model], trial, run, results[run.key()], stop, epochs)
            session.store.save_trial(_stored(name, trial))
            if trial.state != TrialState.RUNNING:
                tell(_decision_text(trial))


def _with_batch_size(run: RunSpec, batch_size: int) -> RunSpec:
    return dataclasses.replace(run, train=dataclasses.replace(run.train, batch_size=batch_size))


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
    from optuna.trial import TrialState as OptunaState

    trial.run_key = run.key()
    if result is None:  # the run failed (out of memory, a crash): the trial ends without a value
        trial.state = TrialState.FAILED
        study.tell(trial.handle, state=OptunaState.FAIL)
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
    diverged = result.status == RunStatus.DIVERGED
    trial.value, trial.loss = (0.0, None) if diverged else (last.val_accuracy, last.val_loss)
    if diverged or stop >= epochs:
        trial.state = TrialState.COMPLETE
        study.tell(trial.handle, trial.value)
    elif trial.handle.should_prune():
        trial.state = TrialState.PRUNED
        study.tell(trial.handle, state=OptunaState.PRUNED)


def _stored(search: str, trial: _Trial) -> StoredTrial:
    return StoredTrial(search, trial.model, trial.number, trial.params, trial.state, trial.value, trial.loss,
                       trial.epochs, trial.seconds, trial.run_key)  # fmt: skip


def _decision_text(trial: _Trial) -> str:
    value = f"{100 * trial.value:.2f} %" if trial.value is not None else "-"
    what = {
        TrialState.PRUNED: f"pruned after epoch {trial.epochs}",
        TrialState.COMPLETE: f"finished {trial.epochs} epochs",
        TrialState.FAILED: "failed",
    }[trial.state]
    configuration = describe_params(trial.params)
    return f"{trial.model} trial {trial.number}: {what}, validation accuracy {value} ({configuration})"


def _summary(model: str, stored: Sequence[StoredTrial], options: SearchOptions) -> ArchitectureSearch:
    trials = tuple(trial for trial in stored if trial.model == model)
    finished = [trial for trial in trials if trial.state == TrialState.COMPLETE and trial.value is not None]
    # The best on validation accuracy; ties (a validation set of a few hundred images has few distinct accuracies):
    # the lower validation loss at its last epoch, then the earlier trial.
    best = min(finished, key=lambda t: (-(t.value or 0.0), t.loss if t.loss is not None else math.inf, t.number),
               default=None)  # fmt: skip
    return ArchitectureSearch(model, trials, best, hyperparameter_importance(trials, options.space.to_dict()))
