#!/bin/sh
# bench/echo.sh — TCP echo over loopback: gonet's echo server against Go's, both
# driven by gonet's load generator (bench/bench_echo.c), and the system calls
# each server makes per echoed message.
#
#   sh bench/echo.sh BUILD_DIR        (make bench-echo runs: sh bench/echo.sh build)
#
# 1. Throughput and latency. For each round (ROUNDS, default 3) and each server
#    in turn (gonet, then Go, so that drifts in machine load hit both alike):
#    start the server pinned to one CPU (taskset -c 0; GONET_MAXPROCS=1 or
#    GOMAXPROCS=1), run `bench_echo client` pinned to another (CPU 1): closed
#    loop, 50 connections, 64-byte messages, 1 s warm-up, 5 s measured; stop
#    the server. The table shows, per server, the median over the rounds of
#    msgs/s and of the p50/p99 round-trip times, the server's CPU use while the
#    client ran (from /proc/PID/stat; near 100% means the server is the
#    bottleneck) and the client's (getrusage, measured window; near 100% means
#    the load generator is the limit, and msgs/s understates the gap between
#    servers), and the server's CPU time per round trip (us; lower is better,
#    and it holds whichever side is the bottleneck).
# 2. System calls per message. Each server once more, under
#    `perf stat -e 'syscalls:sys_enter_*'` (in-kernel counters: the server runs
#    at nearly full speed) or, without perf's syscall tracepoints, under
#    `strace -f -c` (much slower, and the slowdown changes how calls batch).
#    Per message = the server's calls / round trips the client completed over
#    the connections' whole lives. Start-up and per-connection calls (mmap,
#    accept4, setsockopt, epoll_ctl, close, ...) are left out of the total;
#    they are a few hundred against hundreds of thousands of messages.
#    With perf, reads that failed with EAGAIN and the server's context switches
#    (how often it went to sleep) are counted too. (perf takes some seconds to
#    open its ~360 tracepoints before the server starts.)
#
# On loopback a send does the receiving socket's TCP work too, inside the
# sender's system call, so each side's CPU time includes work for the other.
# Run it on a quiet machine: other load on the two CPUs shows up at once
# (srv cpu well below 100% with a saturated client is the tell).
#
# Go is built from bench/go_echo with the local toolchain (standard library
# only: GOPROXY=off, caches under BUILD_DIR); without go, only gonet runs.
# Figures are printed, never asserted on: `name server=S conns=C size=B unit=V`.
#
# Environment:
#   ROUNDS=N               rounds of part 1 (default 3)
#   ECHO_CONNS=C           connections (default 50)
#   ECHO_SIZE=B            message size, bytes (default 64)
#   ECHO_WARMUP=S          warm-up seconds (default 1)
#   ECHO_DURATION=S        measured seconds (default 5)
#   ECHO_IDLE=S            servers re-arm a read deadline of S s before every
#                          read, as an idle timeout does (default 0: none)
#   ECHO_SERVERS="gonet go" which servers
#   ECHO_SERVER_CPU=0 / ECHO_CLIENT_CPU=1   the CPUs to pin to; BENCH_PIN=0: no pinning
#   ECHO_SYSCALLS=perf|strace|none  how to count system calls (default: perf if
#                          its syscall tracepoints work, else strace, else none)
#   ECHO_SYSCALL_DURATION=S measured seconds of the counting run (default 3)
set -u
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$B"
Babs=$(cd "$B" && pwd)
out="$Babs/bench-echo"
mkdir -p "$out"

rounds=${ROUNDS:-3}
conns=${ECHO_CONNS:-50}
size=${ECHO_SIZE:-64}
warm=${ECHO_WARMUP:-1}
dur=${ECHO_DURATION:-5}
sysdur=${ECHO_SYSCALL_DURATION:-3}
idle=${ECHO_IDLE:-0}
servers=${ECHO_SERVERS:-gonet go}

if [ ! -x "$B/bench_echo" ]; then
    echo "echo: $B/bench_echo is not built (make $B/bench_echo)" >&2
    exit 1
fi
case " $servers " in
*" go "*)
    if command -v go >/dev/null 2>&1; then
        echo "# building bench/go_echo with $(go version)"
        (
            cd "$here/go_echo" &&
            GOCACHE="$Babs/go-cache" GOPATH="$Babs/go-path" GOFLAGS=-mod=mod GOPROXY=off \
            GO111MODULE=on GOTOOLCHAIN=local GOTELEMETRY=off go build -o "$Babs/bench_go_echo" .
        ) || { echo "echo: building bench/go_echo failed" >&2; exit 1; }
    else
        echo "# go is not installed (apt-get install golang-go): gonet's server only"
        servers=$(echo "$servers" | sed 's/\<go\>//g')
    fi ;;
esac

pin_srv=""
pin_cli=""
if [ "${BENCH_PIN:-1}" != 0 ] && command -v taskset >/dev/null 2>&1; then
    sc=${ECHO_SERVER_CPU:-0}
    cc=${ECHO_CLIENT_CPU:-1}
    if [ "$sc" != "$cc" ] && taskset -c "$sc" true 2>/dev/null && taskset -c "$cc" true 2>/dev/null; then
        pin_srv="taskset -c $sc"
        pin_cli="taskset -c $cc"
    fi
fi
[ -z "$pin_srv" ] && echo "# not pinned (needs taskset and two CPUs): server and client share the CPUs"

clk=$(getconf CLK_TCK 2>/dev/null || echo 100)
idle_opt=""
[ "$idle" != 0 ] && idle_opt="-i $idle"

# start_server KIND LOG WRAPPER...: starts it in the background (through the
# wrapper, if any) and waits for its `# listening` line. Sets srv_addr, srv_pid
# (the server process itself) and srv_job (the background job, maybe the wrapper).
start_server() {
    kind=$1
    log=$2
    shift 2
    # shellcheck disable=SC2086  # $pin_srv and $idle_opt are word lists on purpose
    case $kind in
    gonet) set -- "$@" $pin_srv env GONET_MAXPROCS=1 "$Babs/bench_echo" server -a 127.0.0.1:0 $idle_opt ;;
    go)    set -- "$@" $pin_srv env GOMAXPROCS=1 "$Babs/bench_go_echo" -a 127.0.0.1:0 $idle_opt ;;
    esac
    "$@" > "$log" 2>&1 &
    srv_job=$!
    i=0
    while ! grep -q '^# listening' "$log" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 600 ] || ! kill -0 "$srv_job" 2>/dev/null; then
            echo "echo: the $kind server did not start:" >&2
            cat "$log" >&2
            kill "$srv_job" 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
    srv_addr=$(sed -n 's/^# listening \([^ ]*\) pid=\([0-9]*\).*/\1/p' "$log")
    srv_pid=$(sed -n 's/^# listening \([^ ]*\) pid=\([0-9]*\).*/\2/p' "$log")
}

stop_server() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
    [ -n "$srv_job" ] && wait "$srv_job" 2>/dev/null
    srv_pid=""
}
srv_pid=""
srv_job=""
trap 'stop_server; exit 130' INT TERM

cpu_ticks() {   # user + system ticks of a process, all its threads
    awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

now_ns() { date +%s%N; }

# run_client KIND DURATION: the load generator against srv_addr; its figures
# go to stdout.
run_client() {
    # shellcheck disable=SC2086  # $pin_cli is a word list on purpose
    $pin_cli "$Babs/bench_echo" client -a "$srv_addr" -c "$conns" -s "$size" -w "$warm" -d "$2" -n "$1"
}

echo "# $(uname -srm), $(getconf _NPROCESSORS_ONLN 2>/dev/null) CPUs; server: ${pin_srv:-unpinned}, client: ${pin_cli:-unpinned}; load average: $(cut -d" " -f1-3 /proc/loadavg 2>/dev/null)"
echo "# $conns connections, $size-byte messages, warm-up $warm s, measured $dur s, $rounds rounds${idle_opt:+, servers re-arm a $idle s read deadline per read}"
status=0

# ---- 1. throughput and latency ------------------------------------------------------
res="$out/results.txt"
: > "$res"
r=1
while [ "$r" -le "$rounds" ]; do
    for kind in $servers; do
        echo "# round $r/$rounds: $kind" >&2
        start_server "$kind" "$out/server-$kind.log" || { status=1; continue; }
        c0=$(cpu_ticks "$srv_pid")
        t0=$(now_ns)
        run_client "$kind" "$dur" > "$out/client.txt" || { echo "echo: the client failed against $kind" >&2; status=1; }
        t1=$(now_ns)
        c1=$(cpu_ticks "$srv_pid")
        stop_server
        {
            grep -v '^#' "$out/client.txt"
            awk -v k="$kind" -v c="$conns" -v s="$size" -v dc="$((c1 - c0))" -v hz="$clk" -v dt="$((t1 - t0))" \
                -v n="$(sed -n 's/^echo_total_msgs .* n=\([0-9]*\)$/\1/p' "$out/client.txt")" \
                'BEGIN { printf "echo_server_cpu server=%s conns=%s size=%s pct=%.0f\n", k, c, s, 100 * dc / hz / (dt / 1e9)
                         if (n > 0) printf "echo_server_cpu_per_msg server=%s conns=%s size=%s us=%.2f\n", k, c, s, dc / hz / n * 1e6 }'
        } | tee -a "$res"
    done
    r=$((r + 1))
done

# ---- 2. system calls per message ----------------------------------------------------
tool=${ECHO_SYSCALLS:-auto}
if [ "$tool" = auto ]; then
    tool=none
    if command -v perf >/dev/null 2>&1 &&
       perf stat -x, -o /dev/null -e syscalls:sys_enter_read -- true >/dev/null 2>&1; then
        tool=perf
    elif command -v strace >/dev/null 2>&1; then
        tool=strace
    else
        echo "# neither perf (with syscall tracepoints) nor strace: no system call counts (apt-get install strace)"
    fi
fi
sysres="$out/syscalls.txt"
: > "$sysres"
if [ "$tool" != none ]; then
    echo "# counting the servers' system calls with $tool, $sysdur s measured"
    for kind in $servers; do
        echo "# system calls: $kind ($tool)" >&2
        cnt="$out/syscalls-$kind.$tool"
        rm -f "$cnt"
        if [ "$tool" = perf ]; then
            start_server "$kind" "$out/server-$kind-sys.log" perf stat -x, -o "$cnt" \
                -e 'syscalls:sys_enter_*' \
                -e syscalls:sys_exit_read --filter 'ret == -11' \
                -e context-switches -e task-clock -- || { status=1; continue; }
        else
            start_server "$kind" "$out/server-$kind-sys.log" strace -f -c -o "$cnt" || { status=1; continue; }
        fi
        run_client "$kind" "$sysdur" > "$out/client-sys.txt" || { echo "echo: the client failed against $kind" >&2; status=1; }
        stop_server
        msgs=$(sed -n 's/^echo_total_msgs .* n=\([0-9]*\)$/\1/p' "$out/client-sys.txt")
        if [ -z "$msgs" ] || [ ! -s "$cnt" ]; then
            echo "echo: no system call counts for $kind" >&2
            status=1
            continue
        fi
        # Both formats become "name count errors" lines, then per-message figures.
        if [ "$tool" = perf ]; then
            awk -F, '$3 ~ /^syscalls:sys_enter_/ { sub(/^syscalls:sys_enter_/, "", $3); print $3, $1 + 0, "-" }
                     $3 == "syscalls:sys_exit_read" { print "read_eagain", $1 + 0, "-" }
                     $3 == "context-switches" { print "context_switches", $1 + 0, "-" }' "$cnt"
        else
            awk 'NF >= 5 && $1 ~ /^[0-9.]+$/ && $NF != "total" { print $NF, $4, (NF == 6 ? $5 : 0) }' "$cnt"
        fi | awk -v k="$kind" -v c="$conns" -v s="$size" -v m="$msgs" -v tool="$tool" '
            BEGIN {
                split("accept accept4 socket bind listen setsockopt getsockopt getsockname getpeername " \
                      "epoll_create epoll_create1 epoll_ctl eventfd2 pipe2 mmap munmap mprotect madvise brk " \
                      "clone clone3 execve exit exit_group arch_prctl set_tid_address set_robust_list rseq " \
                      "prlimit64 rt_sigaction rt_sigprocmask sigaltstack sched_getaffinity openat open close " \
                      "fstat newfstatat statx pread64 access faccessat2 uname getrandom fcntl gettid getpid " \
                      "readlink readlinkat prctl statfs kill tgkill getuid geteuid getgid getegid shutdown", a, " ")
                for (i in a) setup[a[i]] = 1
            }
            $1 == "read_eagain" || $1 == "context_switches" { extra[$1] = $2; next }
            $2 > 0 {
                n[$1] = $2; e[$1] = $3
                if (!($1 in setup)) hot += $2; else cold += $2
            }
            END {
                printf "echo_syscalls_per_msg server=%s conns=%s size=%s value=%.3f\n", k, c, s, hot / m
                printf "# %s: %d round trips; %d steady-state system calls, %d start-up/per-connection ones left out (%s)\n", k, m, hot, cold, tool
                fflush()
                sort = "sort -t= -k6,6gr"
                for (x in n) if (n[x] / m >= 0.0005) {
                    line = sprintf("echo_syscall server=%s conns=%s size=%s name=%s per_msg=%.4f", k, c, s, x, n[x] / m)
                    if (e[x] != "-" && e[x] > 0) line = line sprintf(" errors_per_msg=%.4f", e[x] / m)
                    print line | sort
                }
                close(sort)
                if ("read_eagain" in extra)
                    printf "echo_syscall server=%s conns=%s size=%s name=read_eagain per_msg=%.4f\n", k, c, s, extra["read_eagain"] / m
                if ("context_switches" in extra)
                    printf "echo_server_ctxsw server=%s conns=%s size=%s per_msg=%.4f\n", k, c, s, extra["context_switches"] / m
            }' >> "$sysres"
    done
    cat "$sysres"
fi

# ---- the table ---------------------------------------------------------------------
awk '
function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n == 0 ? "" : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
}
function val(f,    kv) { split(f, kv, "="); return kv[2] }
/^#/ { next }
{
    srv = val($2)
    if (!(srv in seen)) { seen[srv] = 1; order[++ns] = srv }
    v = val($NF)
    if ($1 == "echo_msgs") msgs[srv] = msgs[srv] " " v
    else if ($1 == "echo_rtt_p50") p50[srv] = p50[srv] " " v
    else if ($1 == "echo_rtt_p99") p99[srv] = p99[srv] " " v
    else if ($1 == "echo_server_cpu") scpu[srv] = scpu[srv] " " v
    else if ($1 == "echo_client_cpu") ccpu[srv] = ccpu[srv] " " v
    else if ($1 == "echo_server_cpu_per_msg") spm[srv] = spm[srv] " " v
    else if ($1 == "echo_syscalls_per_msg") sys[srv] = v
    else if ($1 == "echo_server_ctxsw") ctx[srv] = v
    else if ($1 == "echo_syscall") {
        split($5, nm, "="); split($6, pm, "=")
        by[srv] = by[srv] sprintf(" %s=%.3f", nm[2], pm[2])
    }
}
END {
    gm = median(msgs["go"]); g99 = median(p99["go"])
    printf "\nmedians over the rounds; ratios are gonet-or-Go / Go (msgs/s: above 1 is faster; p99: below 1 is better)\n"
    printf "%-7s %10s %9s %9s %9s %9s %8s %8s %9s %8s\n", "server", "msgs/s", "p50 us", "p99 us", "msgs/s/Go", "p99/Go", "srv cpu", "cli cpu", "srv us/msg", "sys/msg"
    printf "%-7s %10s %9s %9s %9s %9s %8s %8s %9s %8s\n", "------", "------", "------", "------", "---------", "------", "-------", "-------", "----------", "-------"
    for (i = 1; i <= ns; i++) {
        s = order[i]
        m = median(msgs[s]); a = median(p50[s]); b = median(p99[s]); sc = median(scpu[s]); cc = median(ccpu[s])
        u = median(spm[s])
        printf "%-7s %10s %9s %9s %9s %9s %8s %8s %10s %8s\n", s, m == "" ? "-" : sprintf("%.0f", m),
               a == "" ? "-" : sprintf("%.1f", a), b == "" ? "-" : sprintf("%.1f", b),
               (gm != "" && m != "") ? sprintf("%.2f", m / gm) : "-",
               (g99 != "" && b != "") ? sprintf("%.2f", b / g99) : "-",
               sc == "" ? "-" : sc "%", cc == "" ? "-" : cc "%", u == "" ? "-" : sprintf("%.2f", u),
               (s in sys) ? sprintf("%.2f", sys[s]) : "-"
    }
    if ("gonet" in seen) {
        m = median(msgs["gonet"]); b = median(p99["gonet"])
        if (gm != "" && m != "")
            printf "\ntarget: gonet >= 1.5x Go msgs/s at equal or better p99: %.2fx, p99 %s vs %s us: %s\n", m / gm, b, g99,
                   (m >= 1.5 * gm && b <= g99) ? "yes" : "NO"
        if ("gonet" in sys)
            printf "target: <= 2.1 system calls per echo round trip (server): %s: %s\n", sys["gonet"], sys["gonet"] <= 2.1 ? "yes" : "NO"
    }
    for (i = 1; i <= ns; i++) if (order[i] in by) {
        s = order[i]
        printf "%s system calls per message:%s%s\n", s, by[s], (s in ctx) ? sprintf("; context switches per message: %s", ctx[s]) : ""
    }
}' "$res" "$sysres"
echo "# raw figures: $res and $sysres; server logs and counter files in $out"
exit $status
