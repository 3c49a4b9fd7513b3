#!/bin/sh
# run.sh DIR SECONDS TARGET... — runs each libFuzzer target DIR/TARGET for SECONDS
# over a fresh copy of tests/fuzz/corpus/TARGET (and the inputs under
# tests/fuzz/regress/TARGET) in DIR/TARGET.corpus, so new units never land in
# the repository; with tests/fuzz/TARGET.dict when there is one. Prints one
# line per target from libFuzzer's final stats, "TARGET: N runs, N crashes";
# a crash leaves its input as DIR/TARGET-crash-* (copy it under
# tests/fuzz/regress/TARGET/) and the log in DIR/TARGET.log. Exits non-zero
# if any target crashed.
dir=$1; secs=$2; shift 2
status=0
for t in "$@"; do
    case $t in
        fuzz_url)      max_len=512 ;;
        fuzz_http_mux) max_len=2048 ;;
        *)             max_len=4096 ;;
    esac
    work="$dir/$t.corpus"
    rm -rf "$work" "$dir/$t"-crash-* "$dir/$t"-leak-* "$dir/$t"-timeout-* "$dir/$t"-oom-*
    mkdir -p "$work"
    cp tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
    seeds=""
    [ -d tests/fuzz/regress/"$t" ] && seeds=tests/fuzz/regress/"$t"
    dict=""
    [ -f tests/fuzz/"$t".dict ] && dict="-dict=tests/fuzz/$t.dict"
    "$dir/$t" -max_total_time="$secs" -max_len="$max_len" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$dir/$t-" $dict "$work" $seeds >"$dir/$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$t.log" | tail -n 1)
    crashes=$(ls "$dir/$t"-crash-* "$dir/$t"-leak-* "$dir/$t"-timeout-* "$dir/$t"-oom-* 2>/dev/null | wc -l)
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes=1; fi
    echo "$t: ${runs:-0} runs, $crashes crashes"
    if [ "$crashes" -ne 0 ]; then
        grep -m 1 -E 'ERROR|invariant broken|runtime error' "$dir/$t.log"
        status=1
    fi
done
exit $status
