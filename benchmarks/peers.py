"""The workload on a peer stack, as its users would write it: the reference comparison, models one after another.

    python benchmarks/peers.py --stack keras-tensorflow --data workload.npz --epochs 10 --json out.json

Stacks: keras-tensorflow (the original stack), keras-jax (Keras 3 on JAX, stock layers), torch (PyTorch eager,
nn.RNN/LSTM/GRU). Each model: recurrent layer of 64 units -> BatchNormalization -> Dense(10) logits, SGD 0.01,
batch 64, shuffled each epoch, test accuracy after every epoch. Prints one JSON object per model and writes them all
to --json. Exits 3 when the stack is not installed, so the caller can report it as skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

STACKS = {"keras-tensorflow": "tensorflow", "keras-jax": "jax", "torch": "torch"}
NOT_INSTALLED = 3


def keras_stack(backend: str, data: dict[str, np.ndarray], models: list[str], epochs: int) -> list[dict[str, Any]]:
    os.environ["KERAS_BACKEND"] = backend
    import keras

    layers = {"simplernn": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}

    class EpochTimer(keras.callbacks.Callback):
        def on_train_begin(self, logs: Any = None) -> None:
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.seconds.append(time.perf_counter() - self.started)  # validation (the test set) included

    results = []
    for name in models:
        model = keras.Sequential(
            [keras.Input((28, 28)), layers[name](64), keras.layers.BatchNormalization(), keras.layers.Dense(10)]
        )
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=0.01),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        timer = EpochTimer()
        history = model.fit(
            data["x_train"], data["y_train"], batch_size=64, epochs=epochs,
            validation_data=(data["x_test"], data["y_test"]), callbacks=[timer], verbose=0,
        )  # fmt: skip
        accuracy = float(history.history["val_accuracy"][-1])
        results.append({"model": name, "params": model.count_params(), "epoch_seconds": timer.seconds,
                        "test_accuracy": accuracy})  # fmt: skip
        print(json.dumps(results[-1]), flush=True)
    return results


def torch_stack(data: dict[str, np.ndarray], models: list[str], epochs: int) -> list[dict[str, Any]]:
    import torch
    from torch import nn

    class Classifier(nn.Module):
        def __init__(self, kind: str) -> None:
            super().__init__()
            recurrent = {"simplernn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
            self.recurrent = recurrent(28, 64, batch_first=True)
            self.norm = nn.BatchNorm1d(64)
            self.head = nn.Linear(64, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            outputs, _ = self.recurrent(x)
            return self.head(self.norm(outputs[:, -1]))

    x_train, y_train = torch.from_numpy(data["x_train"]), torch.from_numpy(data["y_train"]).long()
    x_test, y_test = torch.from_numpy(data["x_test"]), torch.from_numpy(data["y_test"]).long()
    results = []
    for name in models:
        torch.manual_seed(0)
        model = Classifier(name)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = nn.CrossEntropyLoss()
        seconds, accuracy = [], 0.0
        for _ in range(epochs):
            started = time.perf_counter()
            model.train()
            for batch in torch.randperm(len(x_train)).split(64):
                optimizer.zero_grad()
                loss_fn(model(x_train[batch]), y_train[batch]).backward()
                optimizer.step()
            model.eval()
            with torch.no_grad():
                correct = sum(
                    int((model(x_test[i : i + 1024]).argmax(1) == y_test[i : i + 1024]).sum())
                    for i in range(0, len(x_test), 1024)
                )
            accuracy = correct / len(x_test)
            seconds.append(time.perf_counter() - started)
        params = sum(p.numel() for p in model.parameters()) + 2 * 64  # + BatchNorm's running mean and variance
        results.append({"model": name, "params": params, "epoch_seconds": seconds, "test_accuracy": accuracy})
        print(json.dumps(results[-1]), flush=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", choices=sorted(STACKS), required=True)
    parser.add_argument("--data", type=Path, required=True, help="npz with x_train, y_train, x_test, y_test")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--models", default="simplernn,lstm,gru")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    needed = [STACKS[args.stack]] + (["keras"] if args.stack.startswith("keras") else [])
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        print(f"{args.stack}: not installed ({', '.join(missing)} missing)", file=sys.stderr)
        return NOT_INSTALLED
    with np.load(args.data) as archive:
        data = {
            "x_train": (archive["x_train"] / np.float32(255)).astype(np.float32),
            "y_train": archive["y_train"].astype(np.int64),
            "x_test": (archive["x_test"] / np.float32(255)).astype(np.float32),
            "y_test": archive["y_test"].astype(np.int64),
        }
    models = args.models.split(",")
    if args.stack == "torch":
        results = torch_stack(data, models, args.epochs)
    else:
        results = keras_stack(STACKS[args.stack], data, models, args.epochs)
    args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
