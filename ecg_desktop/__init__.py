"""ECG Desk: offline classification of scanned 12-lead ECG printouts (decision support)."""

import os

__version__ = "0.1.0"

# onnxruntime (1.2x+ wheels, Linux included) collects usage telemetry: it writes a device id and an event
# database under ~/.cache/Microsoft and tries to upload them to Microsoft. ECG Desk never sends anything.
# The switch is read when onnxruntime is first imported, so it is set here, before any part of the app
# can import it (tests/test_privacy.py checks that no telemetry store appears).
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
