#!/usr/bin/env bash
# A screenshot of this checkout's app in a real X window (Xvfb, with the openbox window manager when installed,
# so the title bar and its placement are real), fresh settings each time:
#   tools/look_gui.sh WIDTHxHEIGHT OUT.png SCENARIO [tools/walkthrough.py options]
#   e.g. tools/look_gui.sh 1024x600 /tmp/w.png window --scan ../shared/data/ecg-images/mi/MI(1).jpg
# Needs: apt-get install -y xvfb xauth libxcb-icccm4 libxcb-keysyms1 openbox. PYTHON defaults to .venv/bin/python.
set -u
screen=$1; out=$2; shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
T=$(mktemp -d)
disp=:$((80 + RANDOM % 15))
Xvfb "$disp" -screen 0 "${screen}x24" >/dev/null 2>&1 & xpid=$!
sleep 1
wmpid=""
if command -v openbox >/dev/null; then DISPLAY=$disp openbox >/dev/null 2>&1 & wmpid=$!; sleep 1; fi
HOME=$T XDG_CONFIG_HOME=$T/cfg XDG_DATA_HOME=$T/data DISPLAY=$disp QT_QPA_PLATFORM=xcb PYTHONPATH=$repo \
  "$python" "$repo/tools/walkthrough.py" "$@" --out "$out" >"$T/app.log" 2>&1
status=$?
[ -n "$wmpid" ] && kill "$wmpid" 2>/dev/null
kill "$xpid" 2>/dev/null
echo "screenshot: $out (screen $screen, exit $status; log: $T/app.log)"
exit $status
