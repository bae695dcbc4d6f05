"""Allow ``python -m ecg_desktop``."""

from ecg_desktop.cli import main

raise SystemExit(main())
