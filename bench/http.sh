#!/bin/sh
# bench/http.sh — HTTP/1.1 keep-alive "Hello, World!" over loopback: gonet's
# hello server (examples/hello.c) against Go's net/http (bench/go_hello) and,
# when it is installed, nginx with one worker, all driven by wrk; and the
# system calls each server makes per request.
#
#   sh bench/http.sh BUILD_DIR        (make bench-http runs: sh bench/http.sh build)
#
# 1. Throughput and latency. For each round (ROUNDS, default 3) and each server
#    in turn (gonet, Go, nginx, so that drifts in machine load hit all alike):
#    start the server on a free port pinned to one CPU (taskset -c 0;
#    GONET_MAXPROCS=1, GOMAXPROCS=1, nginx `worker_processes 1`), run wrk
#    pinned to another (CPU 1): `wrk -t1 -c50 -d1s` to warm up, then
#    `wrk -t1 -c50 -d5s --latency` measured, 50 keep-alive connections, GET /;
#    stop the server. Each run prints, and the table shows the median over the
#    rounds of: requests/s, the p50 and p99 latencies (wrk --latency), the
#    server's CPU use over the measured run (utime+stime from /proc/PID/stat,
#    nginx's master and worker together; near 100% means the server is the
#    bottleneck), wrk's (near 100% means the load generator is the limit, and
#    req/s understates the gap between servers), and the server's CPU time per
#    request (us; lower is better, and it holds whichever side is the
#    bottleneck). Ratios gonet/Go and gonet/nginx follow.
# 2. System calls per request. Each server once more, under
#    `perf stat -e 'syscalls:sys_enter_*'` (in-kernel counters: the server runs
#    at nearly full speed) or, without perf's syscall tracepoints, under
#    `strace -f -c` (much slower, and the slowdown changes how calls batch),
#    driven by one wrk run without warm-up. Per request = the server's calls /
#    requests wrk completed. Start-up and per-connection calls (mmap, accept4,
#    setsockopt, epoll_ctl, close, ...) are left out of the total; they are a
#    few hundred against hundreds of thousands of requests. With perf, reads
#    that failed with EAGAIN and the server's context switches are counted too.
#    (perf takes some seconds to open its ~360 tracepoints before the server
#    starts.)
#
# The responses differ a little: gonet and Go send Content-Type, Date and
# Content-Length (131 bytes with the body); nginx adds "Server: nginx" and
# "Connection: keep-alive" (170 bytes). On loopback a send does the receiving
# socket's TCP work too, inside the sender's system call, so each side's CPU
# time includes work for the other. Run it on a quiet machine: other load on
# the two CPUs shows up at once (srv cpu well below 100% with wrk below 100%
# too is the tell).
#
# Needs wrk (apt-get install wrk) and BUILD_DIR/hello (make BUILD_DIR/hello).
# Go is built from bench/go_hello with the local toolchain (standard library
# only: GOPROXY=off, caches under BUILD_DIR); without go, no Go column. nginx
# runs from a config generated under BUILD_DIR/bench-http/nginx (`return 200`,
# access_log off, keepalive_requests 1e9); without nginx (apt-get install
# nginx-light), no nginx column. Every run stops by itself (wrk -d, under
# timeout); the servers are killed at the end and on INT/TERM.
# Figures are printed, never asserted on: `name server=S conns=C unit=V`.
#
# Environment:
#   ROUNDS=N                rounds of part 1 (default 3)
#   HTTP_CONNS=C            connections (default 50)
#   HTTP_WARMUP=S           warm-up seconds (default 1)
#   HTTP_DURATION=S (or DUR=S) measured seconds (default 5)
#   HTTP_SERVERS="gonet go nginx" which servers
#   HTTP_PORT=P             first port to try (default 18700; the next free
#                           one is used, a new one per server start)
#   HTTP_SERVER_CPU=0 / HTTP_CLIENT_CPU=1   the CPUs to pin to; BENCH_PIN=0: no pinning
#   HTTP_SYSCALLS=perf|strace|none  how to count system calls (default: perf if
#                           its syscall tracepoints work, else strace, else none)
#   HTTP_SYSCALL_DURATION=S measured seconds of the counting run (default 3)
set -u
B=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$B"
Babs=$(cd "$B" && pwd)
out="$Babs/bench-http"
mkdir -p "$out"

rounds=${ROUNDS:-3}
conns=${HTTP_CONNS:-50}
warm=${HTTP_WARMUP:-1}
dur=${HTTP_DURATION:-${DUR:-5}}
sysdur=${HTTP_SYSCALL_DURATION:-3}
servers=${HTTP_SERVERS:-gonet go nginx}
next_port=${HTTP_PORT:-18700}

if ! command -v wrk >/dev/null 2>&1; then
    echo "http: wrk is not installed (apt-get install wrk)" >&2
    exit 1
fi
case " $servers " in
*" gonet "*)
    if [ ! -x "$B/hello" ]; then
        echo "http: $B/hello is not built (make $B/hello)" >&2
        exit 1
    fi ;;
esac
case " $servers " in
*" go "*)
    if command -v go >/dev/null 2>&1; then
        echo "# building bench/go_hello with $(go version)"
        (
            cd "$here/go_hello" &&
            GOCACHE="$Babs/go-cache" GOPATH="$Babs/go-path" GOFLAGS=-mod=mod GOPROXY=off \
            GO111MODULE=on GOTOOLCHAIN=local GOTELEMETRY=off go build -o "$Babs/bench_go_hello" .
        ) || { echo "http: building bench/go_hello failed" >&2; exit 1; }
    else
        echo "# go is not installed (apt-get install golang-go): no Go server"
        servers=$(echo "$servers" | sed 's/\<go\>//g')
    fi ;;
esac
ngx="$out/nginx"
case " $servers " in
*" nginx "*)
    if command -v nginx >/dev/null 2>&1; then
        echo "# $(nginx -v 2>&1 | sed 's/^nginx version: //'), one worker"
        mkdir -p "$ngx/tmp"
    else
        echo "# nginx is not installed (apt-get install nginx-light): no nginx server"
        servers=$(echo "$servers" | sed 's/\<nginx\>//g')
    fi ;;
esac

pin_srv=""
pin_cli=""
if [ "${BENCH_PIN:-1}" != 0 ] && command -v taskset >/dev/null 2>&1; then
    sc=${HTTP_SERVER_CPU:-0}
    cc=${HTTP_CLIENT_CPU:-1}
    if [ "$sc" != "$cc" ] && taskset -c "$sc" true 2>/dev/null && taskset -c "$cc" true 2>/dev/null; then
        pin_srv="taskset -c $sc"
        pin_cli="taskset -c $cc"
    fi
fi
[ -z "$pin_srv" ] && echo "# not pinned (needs taskset and two CPUs): server and client share the CPUs"

clk=$(getconf CLK_TCK 2>/dev/null || echo 100)
tmo=""
command -v timeout >/dev/null 2>&1 && tmo="timeout -s KILL"

# port_listening PORT: true if some socket listens on it (IPv4 or IPv6).
port_listening() {
    awk -v p=":$(printf '%04X' "$1")" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 }
        END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# nginx_conf PORT: the config for one worker answering GET / on PORT.
nginx_conf() {
    cat > "$ngx/nginx.conf" <<EOF
# generated by bench/http.sh: one worker, "Hello, World!" on GET /
daemon off;
master_process on;
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    server_tokens off;
    keepalive_requests 1000000000;
    keepalive_timeout 120s;
    client_body_temp_path $ngx/tmp/body;
    proxy_temp_path $ngx/tmp/proxy;
    fastcgi_temp_path $ngx/tmp/fastcgi;
    uwsgi_temp_path $ngx/tmp/uwsgi;
    scgi_temp_path $ngx/tmp/scgi;
    server {
        listen 127.0.0.1:$1;
        location = / {
            default_type "text/plain; charset=utf-8";
            return 200 "Hello, World!\n";
        }
    }
}
EOF
}

# start_server KIND LOG WRAPPER...: starts it on a free port in the background
# (through the wrapper, if any) and waits until the port listens. Sets
# srv_port, srv_pid (the server process itself; nginx's master) and srv_job
# (the background job, maybe the wrapper).
start_server() {
    kind=$1
    log=$2
    shift 2
    wrapped=$#
    while port_listening "$next_port"; do next_port=$((next_port + 1)); done
    srv_port=$next_port
    next_port=$((next_port + 1))
    # shellcheck disable=SC2086  # $pin_srv is a word list on purpose
    case $kind in
    gonet) set -- "$@" $pin_srv env GONET_MAXPROCS=1 "$Babs/hello" "127.0.0.1:$srv_port" ;;
    go)    set -- "$@" $pin_srv env GOMAXPROCS=1 "$Babs/bench_go_hello" "127.0.0.1:$srv_port" ;;
    nginx) nginx_conf "$srv_port"
           set -- "$@" $pin_srv nginx -p "$ngx/" -c "$ngx/nginx.conf" -e "$ngx/error.log" ;;
    esac
    "$@" > "$log" 2>&1 &
    srv_job=$!
    i=0
    while ! port_listening "$srv_port"; do
        i=$((i + 1))
        if [ $i -gt 600 ] || ! kill -0 "$srv_job" 2>/dev/null; then
            echo "http: the $kind server did not start:" >&2
            cat "$log" >&2
            [ "$kind" = nginx ] && cat "$ngx/error.log" >&2 2>/dev/null
            kill "$srv_job" 2>/dev/null
            wait "$srv_job" 2>/dev/null
            srv_job=""
            return 1
        fi
        sleep 0.1
    done
    srv_pid=$srv_job
    # Under a wrapper (perf, strace) the server is the wrapper's child; taskset
    # and env exec, so without one the job is the server itself.
    if [ "$wrapped" -gt 0 ]; then
        srv_pid=$(cat /proc/"$srv_job"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
        [ -n "$srv_pid" ] || srv_pid=$srv_job
    fi
    return 0
}

stop_server() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
    [ -n "$srv_job" ] && wait "$srv_job" 2>/dev/null
    srv_pid=""
    srv_job=""
}
srv_pid=""
srv_job=""
trap 'stop_server' EXIT
trap 'stop_server; exit 130' INT TERM

cpu_ticks() {   # user + system ticks of a process (all its threads) and its children
    for p in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        cat "/proc/$p/stat" 2>/dev/null
    done | awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}

now_ns() { date +%s%N; }

# children_cpu FILE: user + system seconds of this shell's waited-for
# children so far, from the `times` builtin's output in FILE. (`times` must
# run in this shell, not in a $(...) subshell, which has no children yet.)
children_cpu() {
    awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] } print s }' "$1"
}

# run_wrk DURATION [--latency]: wrk against srv_port, its report to stdout.
run_wrk() {
    # shellcheck disable=SC2086  # $pin_cli and $tmo are word lists on purpose
    $pin_cli $tmo $(($1 + 30)) wrk -t1 -c"$conns" -d"$1"s ${2:-} "http://127.0.0.1:$srv_port/"
}

# wrk_figures KIND FILE: wrk's report as figure lines (latencies in us).
wrk_figures() {
    awk -v k="$1" -v c="$conns" '
        function us(v) {
            if (v ~ /us$/) return v + 0
            if (v ~ /ms$/) return v * 1000
            if (v ~ /m$/) return v * 60e6
            if (v ~ /s$/) return v * 1e6
            return v + 0
        }
        $1 == "Requests/sec:" { printf "http_reqs server=%s conns=%s rps=%.0f\n", k, c, $2 }
        $1 == "50%" { printf "http_p50 server=%s conns=%s us=%.1f\n", k, c, us($2) }
        $1 == "99%" { printf "http_p99 server=%s conns=%s us=%.1f\n", k, c, us($2) }
        $2 == "requests" && $3 == "in" { printf "http_total_reqs server=%s conns=%s n=%s\n", k, c, $1 }
        $1 == "Socket" && $2 == "errors:" { sub(/^ */, ""); printf "# %s: wrk: %s\n", k, $0 }
        $1 == "Non-2xx" { printf "# %s: wrk: %d non-2xx/3xx responses\n", k, $NF }' "$2"
}

echo "# $(uname -srm), $(getconf _NPROCESSORS_ONLN 2>/dev/null) CPUs; server: ${pin_srv:-unpinned}, wrk: ${pin_cli:-unpinned}; load average: $(cut -d" " -f1-3 /proc/loadavg 2>/dev/null)"
echo "# $(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }'): -t1 -c$conns, GET /, warm-up $warm s, measured $dur s, $rounds rounds; servers:$(for s in $servers; do printf ' %s' "$s"; done)"
status=0

# ---- 1. throughput and latency ------------------------------------------------------
res="$out/results.txt"
: > "$res"
r=1
while [ "$r" -le "$rounds" ]; do
    for kind in $servers; do
        echo "# round $r/$rounds: $kind" >&2
        start_server "$kind" "$out/server-$kind.log" || { stop_server; status=1; continue; }
        [ "$warm" != 0 ] && run_wrk "$warm" > "$out/wrk-warmup.txt" 2>&1
        times > "$out/times-0.txt"
        c0=$(cpu_ticks "$srv_pid")
        t0=$(now_ns)
        run_wrk "$dur" --latency > "$out/wrk.txt" 2>&1 || { echo "http: wrk failed against $kind" >&2; status=1; }
        t1=$(now_ns)
        c1=$(cpu_ticks "$srv_pid")
        times > "$out/times-1.txt"
        stop_server
        {
            wrk_figures "$kind" "$out/wrk.txt"
            awk -v k="$kind" -v c="$conns" -v dc="$((c1 - c0))" -v hz="$clk" -v dt="$((t1 - t0))" \
                -v w0="$(children_cpu "$out/times-0.txt")" -v w1="$(children_cpu "$out/times-1.txt")" \
                -v n="$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$out/wrk.txt")" \
                'BEGIN { printf "http_server_cpu server=%s conns=%s pct=%.0f\n", k, c, 100 * dc / hz / (dt / 1e9)
                         printf "http_client_cpu server=%s conns=%s pct=%.0f\n", k, c, 100 * (w1 - w0) / (dt / 1e9)
                         if (n > 0) printf "http_server_cpu_per_req server=%s conns=%s us=%.2f\n", k, c, dc / hz / n * 1e6 }'
        } | tee -a "$res"
    done
    r=$((r + 1))
done

# ---- 2. system calls per request ----------------------------------------------------
tool=${HTTP_SYSCALLS:-auto}
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
            # EAGAIN reads: Go and gonet read(2), nginx recv(2) (recvfrom).
            start_server "$kind" "$out/server-$kind-sys.log" perf stat -x, -o "$cnt" \
                -e 'syscalls:sys_enter_*' \
                -e syscalls:sys_exit_read --filter 'ret == -11' \
                -e syscalls:sys_exit_recvfrom --filter 'ret == -11' \
                -e context-switches -e task-clock -- || { stop_server; status=1; continue; }
        else
            start_server "$kind" "$out/server-$kind-sys.log" strace -f -c -o "$cnt" || { stop_server; status=1; continue; }
        fi
        run_wrk "$sysdur" > "$out/wrk-sys.txt" 2>&1 || { echo "http: wrk failed against $kind" >&2; status=1; }
        stop_server
        reqs=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$out/wrk-sys.txt")
        if [ -z "$reqs" ] || [ "$reqs" = 0 ] || [ ! -s "$cnt" ]; then
            echo "http: no system call counts for $kind" >&2
            status=1
            continue
        fi
        # Both formats become "name count errors" lines, then per-request figures.
        if [ "$tool" = perf ]; then
            awk -F, '$3 ~ /^syscalls:sys_enter_/ { sub(/^syscalls:sys_enter_/, "", $3); print $3, $1 + 0, "-" }
                     $3 ~ /^syscalls:sys_exit_/ { print "read_eagain", $1 + 0, "-" }
                     $3 == "context-switches" { print "context_switches", $1 + 0, "-" }' "$cnt"
        else
            awk 'NF >= 5 && $1 ~ /^[0-9.]+$/ && $NF != "total" { print $NF, $4, (NF == 6 ? $5 : 0) }' "$cnt"
        fi | awk -v k="$kind" -v c="$conns" -v m="$reqs" -v tool="$tool" '
            BEGIN {
                split("accept accept4 socket bind listen setsockopt getsockopt getsockname getpeername " \
                      "epoll_create epoll_create1 epoll_ctl eventfd2 pipe2 socketpair mmap munmap mprotect " \
                      "madvise brk clone clone3 execve exit exit_group wait4 arch_prctl set_tid_address " \
                      "set_robust_list rseq prlimit64 getrlimit setrlimit rt_sigaction rt_sigprocmask " \
                      "rt_sigsuspend rt_sigreturn sigaltstack sched_getaffinity sched_setaffinity openat " \
                      "open close fstat newfstatat statx pread64 pwrite64 lseek access faccessat2 uname " \
                      "getrandom fcntl ioctl gettid getpid getppid readlink readlinkat prctl statfs kill " \
                      "tgkill getuid geteuid getgid getegid setuid setgid setgroups chown fchown mkdir " \
                      "unlink rename umask dup2 dup3 getdents64 sysinfo shutdown", a, " ")
                for (i in a) setup[a[i]] = 1
            }
            $1 == "read_eagain" || $1 == "context_switches" { extra[$1] += $2; next }
            $2 > 0 {
                n[$1] = $2; e[$1] = $3
                if (!($1 in setup)) hot += $2; else cold += $2
            }
            END {
                printf "http_syscalls_per_req server=%s conns=%s value=%.3f\n", k, c, hot / m
                printf "# %s: %d requests; %d steady-state system calls, %d start-up/per-connection ones left out (%s)\n", k, m, hot, cold, tool
                fflush()
                sort = "sort -t= -k5,5gr"
                for (x in n) if (n[x] / m >= 0.0005) {
                    line = sprintf("http_syscall server=%s conns=%s name=%s per_req=%.4f", k, c, x, n[x] / m)
                    if (e[x] != "-" && e[x] > 0) line = line sprintf(" errors_per_req=%.4f", e[x] / m)
                    print line | sort
                }
                close(sort)
                if ("read_eagain" in extra)
                    printf "http_syscall server=%s conns=%s name=read_eagain per_req=%.4f\n", k, c, extra["read_eagain"] / m
                if ("context_switches" in extra)
                    printf "http_server_ctxsw server=%s conns=%s per_req=%.4f\n", k, c, extra["context_switches"] / m
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
function ratio(a, b) { return (a != "" && b != "" && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
/^#/ { next }
{
    srv = val($2)
    if (!(srv in seen)) { seen[srv] = 1; order[++ns] = srv }
    v = val($NF)
    if ($1 == "http_reqs") rps[srv] = rps[srv] " " v
    else if ($1 == "http_p50") p50[srv] = p50[srv] " " v
    else if ($1 == "http_p99") p99[srv] = p99[srv] " " v
    else if ($1 == "http_server_cpu") scpu[srv] = scpu[srv] " " v
    else if ($1 == "http_client_cpu") ccpu[srv] = ccpu[srv] " " v
    else if ($1 == "http_server_cpu_per_req") spr[srv] = spr[srv] " " v
    else if ($1 == "http_syscalls_per_req") sys[srv] = v
    else if ($1 == "http_server_ctxsw") ctx[srv] = v
    else if ($1 == "http_syscall") {
        split($4, nm, "="); split($5, pr, "=")
        by[srv] = by[srv] sprintf(" %s=%.3f", nm[2], pr[2])
    }
}
END {
    printf "\nmedians over the rounds (req/s: higher is better; latencies, us/req, sys/req: lower is better)\n"
    printf "%-7s %10s %9s %9s %8s %8s %10s %8s\n", "server", "req/s", "p50 us", "p99 us", "srv cpu", "wrk cpu", "srv us/req", "sys/req"
    printf "%-7s %10s %9s %9s %8s %8s %10s %8s\n", "------", "-----", "------", "------", "-------", "-------", "----------", "-------"
    for (i = 1; i <= ns; i++) {
        s = order[i]
        m[s] = median(rps[s]); a[s] = median(p50[s]); b[s] = median(p99[s]); u[s] = median(spr[s])
        sc = median(scpu[s]); cc = median(ccpu[s])
        printf "%-7s %10s %9s %9s %8s %8s %10s %8s\n", s, m[s] == "" ? "-" : sprintf("%.0f", m[s]),
               a[s] == "" ? "-" : sprintf("%.1f", a[s]), b[s] == "" ? "-" : sprintf("%.1f", b[s]),
               sc == "" ? "-" : sc "%", cc == "" ? "-" : cc "%", u[s] == "" ? "-" : sprintf("%.2f", u[s]),
               (s in sys) ? sprintf("%.2f", sys[s]) : "-"
    }
    if ("gonet" in seen) {
        printf "\nratios gonet / other (req/s: above 1 is faster; p50, p99, us/req, sys/req: below 1 is better)\n"
        for (i = 1; i <= ns; i++) {
            s = order[i]
            if (s == "gonet") continue
            printf "http_ratio server=gonet/%s conns=%s rps=%s p50=%s p99=%s us_per_req=%s syscalls_per_req=%s\n", s, c,
                   ratio(m["gonet"], m[s]), ratio(a["gonet"], a[s]), ratio(b["gonet"], b[s]), ratio(u["gonet"], u[s]),
                   ("gonet" in sys && s in sys) ? ratio(sys["gonet"], sys[s]) : "-"
        }
    }
    for (i = 1; i <= ns; i++) if (order[i] in by) {
        s = order[i]
        printf "%s system calls per request:%s%s\n", s, by[s], (s in ctx) ? sprintf("; context switches per request: %s", ctx[s]) : ""
    }
}' c="$conns" "$res" "$sysres"
echo "# raw figures: $res and $sysres; server logs, wrk reports and counter files in $out"
exit $status
