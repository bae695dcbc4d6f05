"""Signals and measurements: the digitizer, its exports and the measurements made from the 12 leads."""
