"""Printouts drawn from known signals, for tests, benchmarks, training and the bundled samples.

Not part of the desktop app: nothing in ``core``, ``gui`` or ``cli`` imports it, and the bundle excludes it.
"""
