#!/usr/bin/env bash
# Build the ECG Desk bundle with PyInstaller (called by `make dist`; the venv must exist).
#
#   build_spec/build.sh              one folder: dist/ECG-Desk/ECG-Desk
#   build_spec/build.sh --onefile    one file:   dist/ECG-Desk-onefile
#
# Installs, with apt-get when missing (as root), the build tools PyInstaller and the spec need (binutils: objdump,
# readelf and strip) and the X11 libraries Qt's xcb plugin links but Debian's base image lacks (libxcb-icccm4,
# libxcb-keysyms1, libxcb-cursor0), so that they are bundled.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${DIST_PY:-.venv-dist/bin/python}
SPEC=build_spec/ecg_desk.spec
OUT=dist/ECG-Desk
if [[ "${1:-}" == "--onefile" ]]; then
    SPEC=build_spec/ecg_desk_onefile.spec
    OUT=dist/ECG-Desk-onefile
fi

missing=()
command -v objdump >/dev/null && command -v readelf >/dev/null || missing+=(binutils)
for lib in libxcb-icccm.so.4:libxcb-icccm4 libxcb-keysyms.so.1:libxcb-keysyms1 libxcb-cursor.so.0:libxcb-cursor0; do
    /sbin/ldconfig -p 2>/dev/null | grep -q "${lib%%:*}" || missing+=("${lib##*:}")
done
if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        echo "build.sh: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "build.sh: please install ${missing[*]} (Debian/Ubuntu package names)" >&2
    fi
fi
command -v objdump >/dev/null || { echo "build.sh: PyInstaller needs objdump (binutils)" >&2; exit 1; }

SECONDS=0
rm -rf "$OUT"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller "$SPEC"

echo "build.sh: built $OUT in $SECONDS s"
if [[ -d "$OUT" ]]; then
    find "$OUT" -type f -printf '%s\n' | awk '{n += $1} END {printf "size: %.1f MiB (budget: < 400)\n", n / 2^20}'
    echo "largest files:"
    find "$OUT" -type f -printf '%s %P\n' | sort -rn | awk 'NR <= 10 {printf "  %6.1f MiB  %s\n", $1 / 2^20, $2}'
else
    du -sh "$OUT"
fi
