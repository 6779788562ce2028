"""Compiled whole-sequence recurrences for JAX on the CPU (see recurrent.cc), built once per machine.

It imports the foundation only.
"""
