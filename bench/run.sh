#!/bin/sh
# bench/run.sh — runs the C benchmarks and prints their figures.
#
#   sh bench/run.sh BUILD_DIR [args...]      (make bench runs: sh bench/run.sh build)
#
# Runs every benchmark program built from bench/*.c (BUILD_DIR/<name>), one
# after the other; extra args go to each (for bench_runtime: -r R, -p 1,2,
# group names). Figures are printed one per line, `name procs=P unit=value`;
# lines starting with '#' are notes. Figures are printed, never asserted on.
#
# Environment:
#   BENCH_REPS=R      repetitions per figure (default: the program's, 5)
#   BENCH_CPUS=LIST   taskset CPU list to pin to (default: the first two CPUs
#                     when taskset exists and there are at least two)
#   BENCH_PIN=0       do not pin
#   BENCH_SCALE=small a quick run with fewer iterations
set -u
B=${1:-build}
[ $# -gt 0 ] && shift
here=$(dirname "$0")

pin=""
if [ "${BENCH_PIN:-1}" != 0 ] && command -v taskset >/dev/null 2>&1; then
    cpus=${BENCH_CPUS:-}
    if [ -z "$cpus" ]; then
        n=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
        [ "$n" -ge 2 ] 2>/dev/null && cpus=0,1
    fi
    [ -n "$cpus" ] && taskset -c "$cpus" true 2>/dev/null && pin="taskset -c $cpus"
fi

reps=""
[ -n "${BENCH_REPS:-}" ] && reps="-r $BENCH_REPS"

echo "# $(uname -srm), $(getconf _NPROCESSORS_ONLN 2>/dev/null) CPUs${pin:+, pinned: $pin}; load average: $(cut -d" " -f1-3 /proc/loadavg 2>/dev/null)"
status=0
for src in "$here"/*.c; do
    [ -e "$src" ] || continue
    name=$(basename "$src" .c)
    prog="$B/$name"
    if [ ! -x "$prog" ]; then
        echo "# $name: $prog not built (make $prog)" >&2
        status=1
        continue
    fi
    echo "# == $name"
    # shellcheck disable=SC2086  # $pin and $reps are word lists on purpose
    $pin "$prog" $reps "$@" || { echo "# $name FAILED (exit $?)"; status=1; }
done
exit $status
