"""Allow ``python -m ecg_desktop``."""

import sys

try:
    from ecg_desktop.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line itself is imported (main() covers the rest)
    print("ecg-desktop: stopped (Ctrl-C).", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
