"""What the store holds of a search's trials, read for people: a trial's recipe in one line, and how much each
hyperparameter explains of the trials' validation accuracy (Optuna's fANOVA).

The importance is computed from the stored trials (their parameters and validation accuracy) and the space as the
experiment record stores it, so the search's summary and a report read later give the same figures and a report needs
nothing but the store.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from rnnbench.results.store import StoredTrial, TrialState

IMPORTANCE_SEED = 0


def describe_params(params: Mapping[str, Any]) -> str:
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


def hyperparameter_importance(trials: Sequence[StoredTrial], space: Mapping[str, Any]) -> dict[str, float]:
    """Each varying hyperparameter's share of the variance of validation accuracy over the complete trials; empty
    with fewer than two of them, or when none varies. ``space``: the search space in its stored form
    (:meth:`rnnbench.spec.search_space.SearchSpace.to_dict`)."""
    import optuna

    complete = [trial for trial in trials if trial.state == TrialState.COMPLETE and trial.value is not None]
    if len(complete) < 2:
        return {}
    distributions = _distributions(space)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    for trial in complete:
        used = {name: distributions[name] for name in trial.params if name in distributions}
        study.add_trial(optuna.trial.create_trial(params={k: trial.params[k] for k in used}, distributions=used,
                                                  value=trial.value))  # fmt: skip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluator = optuna.importance.FanovaImportanceEvaluator(seed=IMPORTANCE_SEED)
            found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (RuntimeError, ValueError):
        return {}
    return {name: float(share) for name, share in found.items()}


def _distributions(space: Mapping[str, Any]) -> dict[str, Any]:
    """Optuna's distribution of each dimension: a list is its choices, a mapping its range (``low``, ``high``,
    ``log``)."""
    import optuna

    distributions: dict[str, Any] = {}
    for name, dimension in space.items():
        if isinstance(dimension, Mapping):
            distributions[name] = optuna.distributions.FloatDistribution(
                float(dimension["low"]), float(dimension["high"]), log=bool(dimension.get("log", False))
            )
        else:
            distributions[name] = optuna.distributions.CategoricalDistribution(list(dimension))
    return distributions
