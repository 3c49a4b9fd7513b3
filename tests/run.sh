#!/bin/sh
# run.sh DIR TEST... — runs each test program from DIR, shows its output, and ends
# with one line that sums greatest's "Pass: N, fail: N, skip: N." summaries.
# A program that crashes, hangs (GN_TEST_TIMEOUT seconds, default 600) or exits
# non-zero after its summary (a sanitizer's report at exit) counts as a failure.
# GN_TEST_RUNNER, if set, runs each program (qemu-aarch64 for cross builds).
dir=$1; shift
passed=0; failed=0; skipped=0; status=0
limit=${GN_TEST_TIMEOUT:-600}
for t in "$@"; do
    echo "== $t"
    out=$(mktemp)
    timeout "$limit" $GN_TEST_RUNNER "$dir/$t" >"$out" 2>&1
    rc=$?
    cat "$out"
    line=$(grep -E '^Pass: [0-9]+, fail: [0-9]+, skip: [0-9]+\.' "$out" | tail -n 1)
    rm -f "$out"
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^Pass: ([0-9]+).*/\1/')
        f=$(echo "$line" | sed -E 's/.*fail: ([0-9]+).*/\1/')
        s=$(echo "$line" | sed -E 's/.*skip: ([0-9]+).*/\1/')
        passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "$t: exit status $rc after its summary"
            failed=$((failed + 1))
        fi
    else
        echo "$t: no summary (exit status $rc: crashed or timed out)"
        failed=$((failed + 1))
    fi
    [ "$rc" -eq 0 ] || status=1
done
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
