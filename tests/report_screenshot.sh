#!/bin/sh
# Renders a report.html (lvs report) with headless Chromium and saves a screenshot, to look at
# the page as a browser draws it. Not part of `make test` (it needs Debian's chromium:
# apt-get install chromium).
#   tests/report_screenshot.sh REPORT.html OUT.png [WIDTHxHEIGHT]   (default 1200x2400)
# Exit status: 0 the PNG was written, 1 chromium is missing or wrote no PNG, 2 bad usage.
set -u
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
    exit 2
fi
html=$1
out=$2
size=${3:-1200x2400}
case $size in
    *[!0-9x]* | x* | *x | *x*x* | [!0-9]*) echo "$0: size must be WIDTHxHEIGHT, e.g. 1200x2400" >&2; exit 2 ;;
esac
[ -f "$html" ] || { echo "$0: no such file: $html" >&2; exit 1; }
browser=
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
[ -n "$browser" ] || { echo "$0: chromium is not installed (apt-get install chromium)" >&2; exit 1; }
case $html in
    /*) abs=$html ;;
    *) abs=$(pwd)/$html ;;
esac
case $out in
    /*) outabs=$out ;;
    *) outabs=$(pwd)/$out ;;
esac
rm -f "$outabs"
# a private profile folder, so that a running browser or a read-only home does not interfere
profile=$(mktemp -d "${TMPDIR:-/tmp}/lvs-chromium.XXXXXX") || exit 1
w=${size%x*}
h=${size#*x}
timeout 120 "$browser" --headless --disable-gpu --no-sandbox --hide-scrollbars --user-data-dir="$profile" \
    --screenshot="$outabs" --window-size="$w,$h" "file://$abs" >"$profile.log" 2>&1
rc=$?
if [ ! -s "$outabs" ]; then
    echo "$0: $browser wrote no screenshot (exit status $rc); its output:" >&2
    tail -n 20 "$profile.log" >&2
    rm -rf "$profile" "$profile.log"
    exit 1
fi
rm -rf "$profile" "$profile.log"
# a PNG starts with \211PNG
if [ "$(head -c 4 "$outabs" | tail -c 3)" != "PNG" ]; then
    echo "$0: $outabs is not a PNG" >&2
    exit 1
fi
echo "$outabs: ${w}x${h} screenshot of $abs"
