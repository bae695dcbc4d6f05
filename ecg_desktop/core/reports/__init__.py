"""Reports: the PDF report of a scan and the summary of a batch."""
