"""Batches: scans of folders and lists, classified in parallel or on a cluster, into results.csv and reports."""
