#!/bin/sh
# bench/compare.sh — gonet's runtime benchmarks side by side with the same
# programs in Go (bench/go), and against the targets of the performance issue.
#
#   sh bench/compare.sh BUILD_DIR        (make bench-compare runs: sh bench/compare.sh build)
#
# Builds bench/go into BUILD_DIR/bench_go when `go` is installed (standard
# library only: GOPROXY=off, caches under BUILD_DIR); without go it says so and
# exits 0. Then, for each measurement group, it runs C and Go alternately,
# C, Go, C, Go, ... (ROUNDS times each), so that drifts in machine load hit
# both sides alike. Each run prints per figure the median of its R repetitions;
# the table shows the median over the rounds (the mean, for two rounds).
#
# Environment:
#   ROUNDS=N        rounds per group (default 2)
#   RSS_ROUNDS=N    rounds for the RSS group (default 1: a 1M run takes ~30 s
#                   here, and memory figures barely vary)
#   BENCH_REPS=R    repetitions inside each run (default: the programs', 5)
#   BENCH_CPUS=LIST / BENCH_PIN=0 / BENCH_SCALE=small   as in bench/run.sh
#   BENCH_GROUPS="..." the groups to run (default: yield chan chanbuf spawn timer rss)
set -u
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$B"
Babs=$(cd "$B" && pwd)

if ! command -v go >/dev/null 2>&1; then
    echo "compare: go is not installed, so there is nothing to compare with (apt-get install golang-go);"
    echo "compare: run 'make bench' for gonet's figures alone."
    exit 0
fi

echo "# building bench/go with $(go version)"
(
    cd "$here/go" &&
    GOCACHE="$Babs/go-cache" GOPATH="$Babs/go-path" GOFLAGS=-mod=mod GOPROXY=off \
    GO111MODULE=on GOTOOLCHAIN=local GOTELEMETRY=off go build -o "$Babs/bench_go" .
) || { echo "compare: building bench/go failed" >&2; exit 1; }
if [ ! -x "$B/bench_runtime" ]; then
    echo "compare: $B/bench_runtime is not built (make $B/bench_runtime)" >&2
    exit 1
fi

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

out="$B/bench-compare"
mkdir -p "$out"
: > "$out/c.txt"
: > "$out/go.txt"
echo "# $(uname -srm), $(getconf _NPROCESSORS_ONLN 2>/dev/null) CPUs${pin:+, pinned: $pin}; load average: $(cut -d" " -f1-3 /proc/loadavg 2>/dev/null)"
status=0
for group in ${BENCH_GROUPS:-yield chan chanbuf spawn timer rss}; do
    rounds=${ROUNDS:-2}
    [ "$group" = rss ] && rounds=${RSS_ROUNDS:-1}
    r=1
    while [ "$r" -le "$rounds" ]; do
        echo "# $group round $r/$rounds: gonet" >&2
        # shellcheck disable=SC2086
        $pin "$B/bench_runtime" $reps "$group" >> "$out/c.txt" || { echo "compare: bench_runtime $group failed" >&2; status=1; }
        echo "# $group round $r/$rounds: go" >&2
        # shellcheck disable=SC2086
        $pin "$B/bench_go" $reps "$group" >> "$out/go.txt" || { echo "compare: bench_go $group failed" >&2; status=1; }
        r=$((r + 1))
    done
done

# The table. Figures are `name procs=P unit=value`; lower is better for all.
awk '
function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(v) { return v == "" ? "-" : (v < 100 ? sprintf("%.2f", v) : sprintf("%.1f", v)) }
FNR == 1 { side = (FILENAME ~ /go\.txt$/) ? "go" : "c" }
/^#/ || NF < 3 { if (side == "c" && $0 ~ /^# rss/) note[++nnote] = "gonet " substr($0, 3);
                 if (side == "go" && $0 ~ /^# rss/) note[++nnote] = "go    " substr($0, 3); next }
{
    split($3, uv, "=")
    key = $1 " " $2
    unit[key] = uv[1]
    vals[side, key] = vals[side, key] " " uv[2]
    if (!(key in seen)) { seen[key] = 1; keys[++nkeys] = key }
}
END {
    # targets of the issue; timer: "10k 1 ms sleepers p99 <= 1.5 ms" read as
    # the p99 sleep lasting at most 1.5 ms, i.e. lateness <= 500 us.
    tgt["yield_switch"] = 20; tgt["chan_roundtrip"] = 100; tgt["chan_buffered"] = 25
    tgt["spawn_exit"] = 60; tgt["rss_1m"] = 4.5; tgt["timer_late_p99"] = 500
    order = "yield_switch chan_roundtrip chan_buffered spawn_exit rss_100k rss_1m timer_late_p50 timer_late_p99 timer_late_max"
    no = split(order, names, " ")
    printf "\nratio = Go / gonet: above 1 gonet is faster (or smaller), below 1 Go is. Lower is better for every figure.\n"
    printf "%-15s %-7s %-4s %10s %10s %7s   %-10s %s\n", "figure", "procs", "unit", "gonet", "Go", "ratio", "target", "gonet meets target"
    printf "%-15s %-7s %-4s %10s %10s %7s   %-10s %s\n", "------", "-----", "----", "-----", "--", "-----", "------", "------------------"
    for (i = 1; i <= no; i++) for (k = 1; k <= nkeys; k++) {
        split(keys[k], kp, " ")
        if (kp[1] != names[i]) continue
        c = vals["c", keys[k]] == "" ? "" : median(vals["c", keys[k]])
        g = vals["go", keys[k]] == "" ? "" : median(vals["go", keys[k]])
        ratio = (c != "" && g != "" && c > 0) ? sprintf("%.2f", g / c) : "-"
        t = "-"; meets = ""
        if (kp[1] in tgt) {
            t = "<= " tgt[kp[1]]
            meets = c == "" ? "no figure" : (c + 0 <= tgt[kp[1]] ? "yes" : "NO")
        }
        printf "%-15s %-7s %-4s %10s %10s %7s   %-10s %s\n", kp[1], substr(kp[2], 7), unit[keys[k]], fmt(c), fmt(g), ratio, t, meets
    }
    printf "\ntimer target: the issue asks p99 <= 1.5 ms for 1 ms sleeps, so lateness (wake - start - 1 ms) p99 <= 500 us.\n"
    printf "rss: VmRSS growth per parked coroutine, KB; the 1M target is 4.5 KB.\n"
    for (i = 1; i <= nnote; i++) print "# " note[i]
}' "$out/c.txt" "$out/go.txt"
echo "# raw figures: $out/c.txt and $out/go.txt"
exit $status
