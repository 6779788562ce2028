"""The driver: a grid of runs through an executor into the store, and the estimate of how long it takes.

It may import everything below it (spec, data, models, engine, results, executors), never search, report, serving or
the CLI.
"""
