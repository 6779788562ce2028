"""The engine: one training run, from spec to result (build, train, checkpoints, the compiled epochs, inference cost).

It imports spec, data, models and kernels, and the run-result types of :mod:`rnnbench.results.run_result`; never the
store, executors, driver, search, report, serving or the CLI.
"""
