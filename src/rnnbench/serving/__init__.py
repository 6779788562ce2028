"""Using what was trained: finding a kept model, prediction on image files, export.

It imports models (the model-file format), data views and the store; never the engine, executors, driver or report.
"""
