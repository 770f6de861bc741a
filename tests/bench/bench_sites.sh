#!/usr/bin/env bash
# tests/bench/bench_sites.sh — issue 17's sites benchmark: advertise of 1 prefix and of 1,000
# prefixes to two sites (edge1 + edge2 of `lab/up --sites`), time until upstream holds every
# path, next to the same on one site, in one run; prints a Markdown table with the ratios
# (target: two sites at most 1.5x one site). The measurement is tests/bench/bench_sites.py
# (its docstring says how); this wrapper checks the build and root.
#
#   tests/bench/bench_sites.sh BUILD_DIR [--single N] [--batch N]     (root; ~2-4 min)
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [--single N] [--batch N]" >&2; exit 2; }
[ -x "$1/prefixd" ] || { echo "$0: no $1/prefixd (build first)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: the lab needs root (network namespaces)" >&2; exit 2; }
exec python3 "$(dirname "$0")/bench_sites.py" "$@"
