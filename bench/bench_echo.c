/* bench_echo.c — TCP echo over loopback: a gonet echo server and a gonet load
 * generator, to set against the Go server in bench/go_echo (bench/echo.sh).
 *
 * Modes:
 *   bench_echo server [-a ADDR] [-i SECS]
 *       An echo server, one coroutine per connection, each a read/write loop
 *       over a 32 KiB buffer (the Go twin does the same). -i re-arms a read
 *       deadline of SECS before every read, as an idle timeout does (off by
 *       default). Prints `# listening IP:PORT pid=N` once it accepts, then
 *       runs until killed. ADDR defaults to 127.0.0.1:0 (a free port).
 *   bench_echo client -a ADDR [-c CONNS] [-s SIZE] [-w SECS] [-d SECS] [-n NAME]
 *       The load generator, closed loop: CONNS connections (default 50), each
 *       writes a SIZE-byte message (default 64), reads until the whole echo is
 *       back, and sends the next. After a warm-up of -w seconds (default 1) it
 *       measures for -d seconds (default 5): round trips completed inside the
 *       window per second, and the round-trip time of each (write to last
 *       byte read) in a log-linear histogram (1/64 relative resolution).
 *       NAME labels the server in the output (default gonet).
 *   bench_echo [echo] [-r R]   (what `make bench` runs through bench/run.sh)
 *       Self-contained: forks a server child, then runs the client against it
 *       with the defaults above; with two CPUs or more the server is pinned to
 *       the first allowed CPU and the client to the second. Other group names
 *       (yield, chan, ...) make it print nothing; -r is accepted and ignored.
 *       BENCH_SCALE=small shortens the run (0.2 s warm-up, 1 s measured).
 *
 * Output of the client, one figure per line (lines starting with '#' are notes):
 *   echo_msgs       server=NAME conns=C size=S per_s=V    round trips per second
 *   echo_rtt_p50    server=NAME conns=C size=S us=V       median round trip, us
 *   echo_rtt_p99    server=NAME conns=C size=S us=V       99th percentile, us
 *   echo_client_cpu server=NAME conns=C size=S pct=V      the client's CPU use in
 *                   the window (user + system, % of one CPU; near 100 per
 *                   CPU it may use: the client, not the server, is the limit)
 *   echo_total_msgs server=NAME conns=C size=S n=V        round trips over the
 *                   connections' whole lives (warm-up and drain included): what
 *                   bench/echo.sh divides a server's system calls by.
 * Figures are printed, never asserted on. Exit status 1 only when something
 * fails (a dial, an echo that differs, a server that stops answering).      */
#define GONET_IMPLEMENTATION
#include "../gonet.h"

#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- latency histogram ----------------------------------------------------------
 * Values in ns. Below 128 one bucket per ns; above, 64 buckets per power of two
 * (bucket = 64 * shift + (v >> shift), shift = msb - 6), so each bucket is
 * within 1/64 of its values; the last bucket starts past 19 hours.            */
#define HIST_BUCKETS (64 * 41)

typedef struct { uint64_t n[HIST_BUCKETS]; } hist;

static int hist_index(uint64_t v) {
    if (v < 128) return (int)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - 6;
    int i = 64 * shift + (int)(v >> shift);
    return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

static double hist_value(int i) {   /* the middle of bucket i, ns */
    if (i < 128) return i;
    int shift = i / 64 - 1;
    uint64_t lo = (uint64_t)(i - 64 * shift) << shift;
    return (double)lo + (double)((uint64_t)1 << shift) / 2.0;
}

static double hist_quantile(const hist *h, uint64_t total, double q) {
    if (total == 0) return 0;
    uint64_t rank = (uint64_t)(q * (double)total);
    if (rank >= total) rank = total - 1;
    uint64_t seen = 0;
    for (int i = 0; i < HIST_BUCKETS; i++) {
        seen += h->n[i];
        if (seen > rank) return hist_value(i);
    }
    return hist_value(HIST_BUCKETS - 1);
}

/* ---- options ------------------------------------------------------------------ */
static const char *addr = NULL;
static int conns = 50, msg_size = 64;
static double warmup_s = 1.0, duration_s = 5.0;
static const char *name = "gonet";
static int64_t idle_deadline = 0;   /* server -i: re-armed per read, ns */

/* ---- server ------------------------------------------------------------------- */
#define SERVER_BUF (32 * 1024)

static void serve(void *arg) {
    gn_conn *c = (gn_conn *)arg;
    char *buf = (char *)malloc(SERVER_BUF);
    if (buf) {
        for (;;) {
            if (idle_deadline) gn_set_read_deadline(c, gn_now() + idle_deadline);
            int64_t n = gn_read(c, buf, SERVER_BUF);
            if (n <= 0 || gn_write(c, buf, (size_t)n) < 0) break;
        }
        free(buf);
    }
    gn_close(c);
}

static int ready_fd = -1;   /* self mode: where the server reports its port */

static void server_main(void *arg) {
    (void)arg;
    gn_listener *l;
    int rc = gn_listen(&l, "tcp", addr ? addr : "127.0.0.1:0");
    if (rc < 0) {
        fprintf(stderr, "bench_echo: listen %s: %s\n", addr ? addr : "127.0.0.1:0", gn_strerror(rc));
        exit(1);
    }
    char bound[64] = "";
    gn_listener_addr(l, bound, sizeof bound);
    if (ready_fd >= 0) {
        if (write(ready_fd, bound, strlen(bound) + 1) < 0) exit(1);
        close(ready_fd);
    } else {
        printf("# listening %s pid=%d\n", bound, (int)getpid());
        fflush(stdout);
    }
    for (;;) {
        gn_conn *c;
        if ((rc = gn_accept(l, &c)) < 0) {
            fprintf(stderr, "bench_echo: accept: %s\n", gn_strerror(rc));
            exit(1);
        }
        if (gn_go(serve, c) < 0) gn_close(c);
    }
}

/* ---- client ------------------------------------------------------------------- */
enum { PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };
static _Atomic int phase = PHASE_WARMUP;

typedef struct {
    hist     h;
    uint64_t measured, total;
    int      err;
    const char *what;
    gn_chan *done;
} worker;

static void client_worker(void *arg) {
    worker *w = (worker *)arg;
    gn_conn *c = NULL;
    /* Reads ask for more than a message (only one is ever in flight, so no
     * more can come): a short read tells gonet the socket is drained, and the
     * read after the next write waits for readiness instead of first failing
     * with EAGAIN. The client then costs one write and one read per message. */
    size_t in_size = (size_t)msg_size + 4096;
    char *out = (char *)malloc((size_t)msg_size), *in = (char *)malloc(in_size);
    int64_t rc = out && in ? gn_dial(&c, "tcp", addr) : GN_ENOMEM;
    if (rc < 0) { w->what = "dial"; goto out; }
    for (int i = 0; i < msg_size; i++) out[i] = (char)('a' + i % 26);
    for (;;) {
        int ph = atomic_load_explicit(&phase, memory_order_relaxed);
        if (ph == PHASE_STOP) break;
        int64_t t0 = gn_now();
        if ((rc = gn_write(c, out, (size_t)msg_size)) < 0) { w->what = "write"; goto out; }
        size_t got = 0;
        while (got < (size_t)msg_size) {
            if ((rc = gn_read(c, in + got, in_size - got)) < 0) { w->what = "read"; goto out; }
            got += (size_t)rc;
        }
        if (got != (size_t)msg_size || memcmp(in, out, got) != 0) {
            w->what = "the echo differs from the message";
            rc = GN_EINVAL;
            goto out;
        }
        int64_t t1 = gn_now();
        w->total++;
        /* Counted when it completes inside the window.                          */
        if (atomic_load_explicit(&phase, memory_order_relaxed) == PHASE_MEASURE && ph == PHASE_MEASURE) {
            w->measured++;
            w->h.n[hist_index((uint64_t)(t1 - t0))]++;
        }
    }
    rc = 0;
out:
    w->err = (int)rc;
    if (c) gn_close(c);
    free(out);
    free(in);
    gn_chan_send(w->done, NULL);
}

static int client_status = 0;

static double cpu_seconds(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void client_main(void *arg) {
    (void)arg;
    worker *ws = (worker *)calloc((size_t)conns, sizeof *ws);
    gn_chan *done = gn_chan_new(0, (size_t)conns);
    if (!ws || !done) {
        fprintf(stderr, "bench_echo: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < conns; i++) {
        ws[i].done = done;
        if (gn_go(client_worker, &ws[i]) < 0) {
            fprintf(stderr, "bench_echo: gn_go failed\n");
            exit(1);
        }
    }
    gn_sleep((int64_t)(warmup_s * 1e9));
    int64_t t0 = gn_now();
    double cpu0 = cpu_seconds();
    atomic_store(&phase, PHASE_MEASURE);
    gn_sleep((int64_t)(duration_s * 1e9));
    atomic_store(&phase, PHASE_STOP);
    int64_t t1 = gn_now();
    double cpu1 = cpu_seconds();
    /* Each worker finishes its round trip in flight; a server that stops
     * answering is a failure, not a hang.                                    */
    int64_t deadline = gn_now() + 10 * GN_SECOND;
    for (int i = 0; i < conns; i++) {
        gn_select_case cs = {done, GN_RECV, NULL, 0};
        if (gn_select_until(&cs, 1, deadline) < 0) {
            fprintf(stderr, "bench_echo: %d connections did not finish their last round trip in 10 s\n",
                    conns - i);
            exit(1);
        }
    }
    hist *all = (hist *)calloc(1, sizeof *all);
    if (!all) exit(1);
    uint64_t measured = 0, total = 0;
    for (int i = 0; i < conns; i++) {
        if (ws[i].err < 0) {
            fprintf(stderr, "bench_echo: connection %d: %s: %s\n", i, ws[i].what, gn_strerror(ws[i].err));
            client_status = 1;
        }
        measured += ws[i].measured;
        total += ws[i].total;
        for (int b = 0; b < HIST_BUCKETS; b++) all->n[b] += ws[i].h.n[b];
    }
    double secs = (double)(t1 - t0) / 1e9;
    printf("# echo client: %d conns, %d B messages, warm-up %.1f s, measured %.2f s: %llu round trips "
           "(%llu in all)\n", conns, msg_size, warmup_s, secs, (unsigned long long)measured,
           (unsigned long long)total);
    if (client_status == 0) {
        const char *tag = name;
        printf("echo_msgs server=%s conns=%d size=%d per_s=%.0f\n", tag, conns, msg_size, (double)measured / secs);
        printf("echo_rtt_p50 server=%s conns=%d size=%d us=%.1f\n", tag, conns, msg_size,
               hist_quantile(all, measured, 0.50) / 1e3);
        printf("echo_rtt_p99 server=%s conns=%d size=%d us=%.1f\n", tag, conns, msg_size,
               hist_quantile(all, measured, 0.99) / 1e3);
        printf("echo_client_cpu server=%s conns=%d size=%d pct=%.0f\n", tag, conns, msg_size,
               100 * (cpu1 - cpu0) / secs);
        printf("echo_total_msgs server=%s conns=%d size=%d n=%llu\n", tag, conns, msg_size,
               (unsigned long long)total);
    }
    fflush(stdout);
    free(all);
    free(ws);
    gn_chan_free(done);
}

/* ---- self mode: a forked server, pinned apart from the client when possible ---- */
static int nth_allowed_cpu(int n) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set) && seen++ == n) return cpu;
    return -1;
}

static void pin_to(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

static int run_self(void) {
    int server_cpu = nth_allowed_cpu(0), client_cpu = nth_allowed_cpu(1);
    if (client_cpu < 0) server_cpu = -1;   /* one CPU: share it */
    int fds[2];
    if (pipe(fds) != 0) { perror("bench_echo: pipe"); return 1; }
    pid_t pid = fork();
    if (pid < 0) { perror("bench_echo: fork"); return 1; }
    if (pid == 0) {
        close(fds[0]);
        ready_fd = fds[1];
        pin_to(server_cpu);
        gn_main(server_main, NULL);
        _exit(1);
    }
    close(fds[1]);
    static char bound[64];
    ssize_t n = read(fds[0], bound, sizeof bound - 1);
    close(fds[0]);
    if (n <= 0) {
        fprintf(stderr, "bench_echo: the server did not start\n");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return 1;
    }
    bound[n] = 0;
    addr = bound;
    pin_to(client_cpu);
    if (server_cpu >= 0) printf("# echo self mode: server on CPU %d, client on CPU %d\n", server_cpu, client_cpu);
    else printf("# echo self mode: server and client share the CPUs\n");
    int rc = gn_main(client_main, NULL);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return rc != 0 || client_status != 0;
}

/* ---- main --------------------------------------------------------------------- */
static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s server [-a ADDR] [-i SECS]\n"
            "       %s client -a ADDR [-c CONNS] [-s SIZE] [-w SECS] [-d SECS] [-n NAME]\n"
            "       %s [echo] [-r R]      (self-contained run: a forked server and the client)\n",
            argv0, argv0, argv0);
    exit(2);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    const char *mode = "self";
    int i = 1, grouped = 0, wanted = 0;
    if (argc > 1 && (strcmp(argv[1], "server") == 0 || strcmp(argv[1], "client") == 0)) mode = argv[i++];
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (a[0] != '-') {   /* a group name, from bench/run.sh */
            grouped = 1;
            if (strcmp(a, "echo") == 0) wanted = 1;
            continue;
        }
        if (!v) usage(argv[0]);
        i++;
        if (strcmp(a, "-a") == 0) addr = v;
        else if (strcmp(a, "-c") == 0) conns = atoi(v);
        else if (strcmp(a, "-s") == 0) msg_size = atoi(v);
        else if (strcmp(a, "-w") == 0) warmup_s = atof(v);
        else if (strcmp(a, "-d") == 0) duration_s = atof(v);
        else if (strcmp(a, "-n") == 0) name = v;
        else if (strcmp(a, "-i") == 0) idle_deadline = (int64_t)(atof(v) * 1e9);
        else if (strcmp(a, "-r") == 0) { /* repetitions: bench/run.sh's, not ours */ }
        else usage(argv[0]);
    }
    if (conns < 1 || msg_size < 1 || warmup_s < 0 || duration_s <= 0) usage(argv[0]);

    if (strcmp(mode, "server") == 0) return gn_main(server_main, NULL) != 0;
    if (strcmp(mode, "client") == 0) {
        if (!addr) usage(argv[0]);
        int rc = gn_main(client_main, NULL);
        return rc != 0 || client_status != 0;
    }
    if (grouped && !wanted) return 0;   /* bench/run.sh asked for other groups */
    const char *sc = getenv("BENCH_SCALE");
    if (sc && strcmp(sc, "small") == 0) {
        warmup_s = 0.2;
        duration_s = 1.0;
    }
    return run_self();
}
