#!/usr/bin/env bash
# On a CUDA machine: the workload (2 epochs), sequential MNIST (pixels view, LSTM 128 units, batch 256, 1 epoch) and
# every cell at 784 steps (benchmarks/long_sequences.py: the linear recurrences by their associative scan, the classic
# cells by cuDNN through Keras). With no network there: what the machine's CUDA JAX lacks (Keras and its small
# dependencies) comes as wheels prepared beforehand, for Python 3.12 on x86-64:
#
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux2014_x86_64 \
#       -d .whl keras==3.15.1 namex==0.1.0 optree==0.20.0
#
#   bash benchmarks/gpu_check.sh [WHEEL_DIR]          # about 6 minutes; prints seconds per epoch per model
#
# rnnbench itself runs from this checkout (src/). Data: MNIST-shaped, as benchmarks/speed.py chooses it (synthetic
# where no data set is cached). To train on Fashion-MNIST there, carry its four .gz files (Debian's
# /usr/share/datasets/fashion-mnist/) in DIR/fashion_mnist/ and run with RNNBENCH_DATA=DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
wheels=${1:-.whl}
python=${PYTHON:-python3}

if ! "$python" -c "import keras" 2>/dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/rnnbench-site \
    "$wheels"/*.whl
  export PYTHONPATH=/tmp/rnnbench-site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 RNNBENCH_OFFLINE=1
out=$(mktemp -d)

"$python" - <<'PY'
import jax
devices = jax.devices()
print("JAX", jax.__version__, "devices:", ", ".join(f"{d.platform}:{d.device_kind}" for d in devices))
if devices[0].platform != "gpu":
    raise SystemExit("no GPU visible to JAX; this check is for a CUDA machine")
PY

echo "== the workload, 2 epochs (rnnbench, then Keras 3 + JAX with stock layers)"
"$python" benchmarks/speed.py --epochs 2 --stacks rnnbench,keras-jax --out "$out"

echo "== sequential MNIST: pixels view (784 steps), LSTM 128 units, batch 256, 1 epoch"
"$python" benchmarks/speed.py --write-data "$out/workload.npz"
"$python" -m rnnbench compare --dataset "$out/workload.npz" \
  --view pixels --models lstm --units 128 --batch-size 256 --epochs 1 --val-fraction 0 --seeds 1 --jobs 1 \
  --store "$out/pixels.db" --json "$out/pixels.json" --quiet --no-report
"$python" - "$out/pixels.db" <<'PY'
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT runs.spec, runs.device, epochs.seconds FROM runs JOIN epochs USING (run_key)").fetchall()
for spec, device, seconds in rows:
    spec = json.loads(spec)
    print(f"sequential MNIST, {spec['model']['name']} {spec['model']['units']} units, batch {spec['train']['batch_size']}, "
          f"device {device}: {seconds:.1f} s for the epoch (compilation included)")
PY

echo "== every cell at 784 steps: 64 units, batch 64, seconds per 1,000 training samples (JAX on the GPU)"
"$python" benchmarks/long_sequences.py --no-peers --samples 640 --repeats 3 --json "$out/long_sequences.json"
