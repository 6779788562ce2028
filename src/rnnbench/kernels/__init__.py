"""Compiled whole-sequence recurrences for JAX on the CPU, built once per machine.

One C++ source per cell family (classic.cc, linear_scan.cc, indrnn.cc, lru.cc, oscillators.cc, selective_scan.cc),
all sharing common.h, compiled together into one library (build.py).

It imports the foundation only.
"""
