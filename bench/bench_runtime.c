/* bench_runtime.c — runtime microbenchmarks of gonet, the twins of bench/go/main.go.
 *
 * What it measures (each figure at every procs in -p, default 1 and 2; each
 * repeated R times, default 5, and the MEDIAN printed):
 *   yield_switch    two coroutines calling gn_yield in a loop: ns per gn_yield
 *                   (one switch when both share a P; with procs=2 they may run
 *                   on separate Ps, and then a yield with nobody to switch to
 *                   returns at once)
 *   chan_roundtrip  ping-pong over two unbuffered channels: ns per round trip
 *                   (send ping, receive pong)
 *   chan_buffered   one producer, one consumer, a channel of capacity 128 of
 *                   int64: ns per element (one send plus one receive)
 *   spawn_exit      spawn coroutines that only call gn_waitgroup_done, 1000 at
 *                   a time, gn_waitgroup_wait for each 1000: ns per spawn+exit
 *                   (1,000,000 spawns per repetition, after one warm-up)
 *   rss_100k        VmRSS growth per coroutine, in KB (1 KB = 1024 bytes), with
 *   rss_1m          100,000 / 1,000,000 coroutines parked in gn_sleep(1 h),
 *                   default stack_guard = 0 (guarded stacks while the
 *                   vm.max_map_count budget lasts, slab stacks beyond). Each
 *                   repetition runs in a fresh fork()ed child process. Memory
 *                   figures barely vary and a 1M run costs ~30 s where page
 *                   faults are slow (a VM), so these repeat -m M times
 *                   (default min(R, 3) at 100k, 1 at 1M).
 *   timer_late_p50  10,000 coroutines released at once (a closed channel) each
 *   timer_late_p99  gn_sleep(1 ms); lateness = wake time - (start + 1 ms), in
 *   timer_late_max  microseconds: the median over R runs of each run's p50/p99/max
 *
 * Output: one line per figure, `name procs=P unit=value` (unit ns, kb or us),
 * lower is better for all; lines starting with '#' are informational.
 *
 * Usage: bench_runtime [-r R] [-m M] [-p 1,2] [group...]
 *   groups: yield chan chanbuf spawn rss timer (default: all), or a figure name.
 * Environment: BENCH_SCALE=small divides iteration counts by 10 (not the RSS
 * or timer coroutine counts). Never asserts on time; exits non-zero only when
 * the runtime itself fails (gn_run error, ENOMEM, a child that crashed).      */
#define GONET_IMPLEMENTATION
#include "../gonet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXREPS 64

static int reps = 5;
static int mem_reps = 0;   /* -m: RSS repetitions, 0: min(reps, 3) at 100k, 1 at 1M */
static long scale = 1;

static void die(const char *what, int rc) {
    fprintf(stderr, "bench_runtime: %s: %s (%d)\n", what, gn_strerror(rc), rc);
    exit(1);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *name, int procs, const char *unit, double *v, int n) {
    double m = median(v, n);
    printf("%s procs=%d %s=%.*f\n", name, procs, unit, m < 100 ? 2 : 1, m);
    fflush(stdout);
}

/* Runs body(arg) as the main coroutine of a runtime with `procs` Ps.           */
static void run(int procs, void (*body)(void *), void *arg) {
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = procs;
    int rc = gn_run(&cfg, body, arg);
    if (rc != 0) die("gn_run", rc);
}

static void go(void (*fn)(void *), void *arg) {
    int64_t id = gn_go(fn, arg);
    if (id < 0) die("gn_go", (int)id);
}

/* ---- yield ping-pong -------------------------------------------------------- */
typedef struct { long n; gn_waitgroup wg; double ns; } yield_arg;

static void yielder(void *p) {
    yield_arg *a = (yield_arg *)p;
    for (long i = 0; i < a->n; i++) gn_yield();
    gn_waitgroup_done(&a->wg);
}

static void yield_main(void *p) {
    yield_arg *a = (yield_arg *)p;
    gn_waitgroup_add(&a->wg, 2);
    int64_t t0 = gn_now();
    go(yielder, a);
    go(yielder, a);
    gn_waitgroup_wait(&a->wg);
    a->ns = (double)(gn_now() - t0) / (double)(2 * a->n);
}

static void bench_yield(int procs) {
    double v[MAXREPS];
    for (int r = 0; r < reps; r++) {
        yield_arg a;
        memset(&a, 0, sizeof a);
        a.n = 2000000 / scale;
        run(procs, yield_main, &a);
        v[r] = a.ns;
    }
    report("yield_switch", procs, "ns", v, reps);
}

/* ---- unbuffered ping-pong --------------------------------------------------- */
typedef struct { long n; gn_chan *ping, *pong; gn_waitgroup wg; double ns; } pp_arg;

static void ponger(void *p) {
    pp_arg *a = (pp_arg *)p;
    int64_t v;
    for (long i = 0; i < a->n; i++) {
        gn_chan_recv(a->ping, &v);
        gn_chan_send(a->pong, &v);
    }
    gn_waitgroup_done(&a->wg);
}

static void pinger(void *p) {
    pp_arg *a = (pp_arg *)p;
    int64_t v = 0;
    for (long i = 0; i < a->n; i++) {
        gn_chan_send(a->ping, &v);
        gn_chan_recv(a->pong, &v);
        v++;
    }
    gn_waitgroup_done(&a->wg);
}

static void pp_main(void *p) {
    pp_arg *a = (pp_arg *)p;
    a->ping = gn_chan_new(sizeof(int64_t), 0);
    a->pong = gn_chan_new(sizeof(int64_t), 0);
    if (!a->ping || !a->pong) die("gn_chan_new", GN_ENOMEM);
    gn_waitgroup_add(&a->wg, 2);
    int64_t t0 = gn_now();
    go(ponger, a);
    go(pinger, a);
    gn_waitgroup_wait(&a->wg);
    a->ns = (double)(gn_now() - t0) / (double)a->n;
    gn_chan_free(a->ping);
    gn_chan_free(a->pong);
}

static void bench_chan(int procs) {
    double v[MAXREPS];
    for (int r = 0; r < reps; r++) {
        pp_arg a;
        memset(&a, 0, sizeof a);
        a.n = 500000 / scale;
        run(procs, pp_main, &a);
        v[r] = a.ns;
    }
    report("chan_roundtrip", procs, "ns", v, reps);
}

/* ---- buffered channel throughput -------------------------------------------- */
typedef struct { long n; gn_chan *c; gn_waitgroup wg; int64_t sum; double ns; } buf_arg;

static void producer(void *p) {
    buf_arg *a = (buf_arg *)p;
    for (int64_t i = 0; i < a->n; i++) gn_chan_send(a->c, &i);
    gn_waitgroup_done(&a->wg);
}

static void consumer(void *p) {
    buf_arg *a = (buf_arg *)p;
    int64_t v, sum = 0;
    for (long i = 0; i < a->n; i++) {
        gn_chan_recv(a->c, &v);
        sum += v;
    }
    a->sum = sum;
    gn_waitgroup_done(&a->wg);
}

static void buf_main(void *p) {
    buf_arg *a = (buf_arg *)p;
    a->c = gn_chan_new(sizeof(int64_t), 128);
    if (!a->c) die("gn_chan_new", GN_ENOMEM);
    gn_waitgroup_add(&a->wg, 2);
    int64_t t0 = gn_now();
    go(consumer, a);
    go(producer, a);
    gn_waitgroup_wait(&a->wg);
    a->ns = (double)(gn_now() - t0) / (double)a->n;
    gn_chan_free(a->c);
    if (a->sum != (int64_t)a->n * (a->n - 1) / 2) {
        fprintf(stderr, "bench_runtime: chan_buffered: wrong sum %lld\n", (long long)a->sum);
        exit(1);
    }
}

static void bench_chanbuf(int procs) {
    double v[MAXREPS];
    for (int r = 0; r < reps; r++) {
        buf_arg a;
        memset(&a, 0, sizeof a);
        a.n = 5000000 / scale;
        run(procs, buf_main, &a);
        v[r] = a.ns;
    }
    report("chan_buffered", procs, "ns", v, reps);
}

/* ---- spawn + exit ------------------------------------------------------------- */
typedef struct { long n; gn_waitgroup wg; double ns[MAXREPS]; } spawn_arg;

static void nothing(void *p) { gn_waitgroup_done(&((spawn_arg *)p)->wg); }

/* N spawns in batches of SPAWN_BATCH (spawn the batch, wait for it), so that at
 * most a batch is alive at once: without preemption a spawning loop never lets
 * its children run, and N live coroutines would measure page faults and cache
 * misses on N stacks rather than spawn+exit (Go's sysmon would preempt the loop
 * after 10 ms; batches keep both sides comparable).                            */
#define SPAWN_BATCH 1000
static void spawn_main(void *p) {
    spawn_arg *a = (spawn_arg *)p;
    for (int r = -1; r < reps; r++) {   /* round -1 warms the free lists up */
        int64_t t0 = gn_now();
        for (long i = 0; i < a->n; i += SPAWN_BATCH) {
            gn_waitgroup_add(&a->wg, SPAWN_BATCH);
            for (int j = 0; j < SPAWN_BATCH; j++) go(nothing, a);
            gn_waitgroup_wait(&a->wg);
        }
        if (r >= 0) a->ns[r] = (double)(gn_now() - t0) / (double)a->n;
    }
}

static void bench_spawn(int procs) {
    spawn_arg a;
    memset(&a, 0, sizeof a);
    a.n = 1000000 / scale;
    run(procs, spawn_main, &a);
    report("spawn_exit", procs, "ns", a.ns, reps);
}

/* ---- RSS per sleeping coroutine ---------------------------------------------------- */
static long vm_kb(const char *field) {   /* a "Vm...:" line of /proc/self/status, kB */
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            kb = atol(line + n + 1);
            break;
        }
    fclose(f);
    return kb;
}

typedef struct { long n; long started; long rss0, rss1, pte0, pte1; int64_t spawn_ns; } rss_arg;

static void sleeper(void *p) {
    rss_arg *a = (rss_arg *)p;
    __atomic_fetch_add(&a->started, 1, __ATOMIC_RELAXED);
    gn_sleep(GN_HOUR);
}

static void rss_main(void *p) {
    rss_arg *a = (rss_arg *)p;
    a->rss0 = vm_kb("VmRSS");
    a->pte0 = vm_kb("VmPTE");
    int64_t t0 = gn_now();
    for (long i = 0; i < a->n; i++) go(sleeper, a);
    while (__atomic_load_n(&a->started, __ATOMIC_RELAXED) < a->n) gn_sleep(GN_MILLISECOND);
    a->spawn_ns = gn_now() - t0;
    a->rss1 = vm_kb("VmRSS");
    a->pte1 = vm_kb("VmPTE");
}

/* One measurement in a fresh child: KB per coroutine, or -1 if the child failed. */
static double rss_child(int procs, long n, double *pte_kb, double *spawn_s) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        rss_arg a;
        memset(&a, 0, sizeof a);
        a.n = n;
        run(procs, rss_main, &a);
        double r[3] = {(double)(a.rss1 - a.rss0) / (double)n, (double)(a.pte1 - a.pte0) / (double)n,
                       (double)a.spawn_ns / 1e9};
        if (write(fds[1], r, sizeof r) != (ssize_t)sizeof r) _exit(2);
        _exit(0);
    }
    close(fds[1]);
    double r[3] = {-1, -1, -1};
    ssize_t got = read(fds[0], r, sizeof r);
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (got != (ssize_t)sizeof r || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (WIFSIGNALED(st))
            fprintf(stderr, "bench_runtime: rss child (n=%ld procs=%d) killed by signal %d\n", n, procs,
                    WTERMSIG(st));
        else
            fprintf(stderr, "bench_runtime: rss child (n=%ld procs=%d) failed, status %d\n", n, procs,
                    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        return -1;
    }
    *pte_kb = r[1];
    *spawn_s = r[2];
    return r[0];
}

static void bench_rss_n(int procs, long n, const char *name) {
    double v[MAXREPS], pte[MAXREPS], sp[MAXREPS];
    int nr = mem_reps > 0 ? mem_reps : n >= 1000000 ? 1 : reps < 3 ? reps : 3;
    for (int r = 0; r < nr; r++) {
        v[r] = rss_child(procs, n, &pte[r], &sp[r]);
        if (v[r] < 0) {
            printf("# %s procs=%d FAILED\n", name, procs);
            exit(1);
        }
    }
    report(name, procs, "kb", v, nr);
    printf("# %s procs=%d page tables %.3f KB/coroutine (VmPTE, not in VmRSS), spawn+park %.2f s\n",
           name, procs, median(pte, nr), median(sp, nr));
}

static void bench_rss(int procs, int which) {
    if (which & 1) bench_rss_n(procs, 100000, "rss_100k");
    if (which & 2) bench_rss_n(procs, 1000000, "rss_1m");
}

/* ---- timer lateness -------------------------------------------------------------- */
#define TIMER_N 10000
typedef struct { gn_chan *gate; gn_waitgroup wg; double late_us[TIMER_N]; long next; } timer_arg;
typedef struct { timer_arg *a; int i; } timer_slot;

static void timer_g(void *p) {
    timer_slot *s = (timer_slot *)p;
    gn_chan_recv(s->a->gate, NULL);   /* closed: everybody starts at once */
    int64_t t0 = gn_now();
    gn_sleep(GN_MILLISECOND);
    s->a->late_us[s->i] = (double)(gn_now() - t0 - GN_MILLISECOND) / 1e3;
    gn_waitgroup_done(&s->a->wg);
}

static void timer_main(void *p) {
    timer_arg *a = (timer_arg *)p;
    static timer_slot slots[TIMER_N];
    a->gate = gn_chan_new(1, 0);
    if (!a->gate) die("gn_chan_new", GN_ENOMEM);
    gn_waitgroup_add(&a->wg, TIMER_N);
    for (int i = 0; i < TIMER_N; i++) {
        slots[i].a = a;
        slots[i].i = i;
        go(timer_g, &slots[i]);
    }
    gn_sleep(10 * GN_MILLISECOND);   /* let all of them block on the gate */
    gn_chan_close(a->gate);
    gn_waitgroup_wait(&a->wg);
    gn_chan_free(a->gate);
}

static void bench_timer(int procs) {
    double p50[MAXREPS], p99[MAXREPS], mx[MAXREPS];
    static timer_arg a;
    for (int r = 0; r < reps; r++) {
        memset(&a, 0, sizeof a);
        run(procs, timer_main, &a);
        qsort(a.late_us, TIMER_N, sizeof a.late_us[0], cmp_double);
        p50[r] = a.late_us[TIMER_N / 2];
        p99[r] = a.late_us[TIMER_N * 99 / 100];
        mx[r] = a.late_us[TIMER_N - 1];
    }
    report("timer_late_p50", procs, "us", p50, reps);
    report("timer_late_p99", procs, "us", p99, reps);
    report("timer_late_max", procs, "us", mx, reps);
}

/* ---- driver ------------------------------------------------------------------------ */
static int wanted(int argc, char **argv, int first, const char *group, const char *alt) {
    if (first >= argc) return 1;
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], group) == 0 || (alt && strcmp(argv[i], alt) == 0)) return 1;
    return 0;
}

int main(int argc, char **argv) {
    int procs[8] = {1, 2}, nprocs = 2;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
            if (reps < 1 || reps > MAXREPS) reps = 5;
        } else if (strcmp(argv[i], "-m") == 0 && i + 1 < argc) {
            mem_reps = atoi(argv[++i]);
            if (mem_reps < 0 || mem_reps > MAXREPS) mem_reps = 0;
        } else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            char *s = argv[++i];
            nprocs = 0;
            while (*s && nprocs < 8) {
                procs[nprocs++] = (int)strtol(s, &s, 10);
                if (*s == ',') s++;
                else break;
            }
        } else {
            fprintf(stderr, "usage: %s [-r R] [-m M] [-p 1,2] [yield|chan|chanbuf|spawn|rss|timer|figure...]\n",
                    argv[0]);
            return 2;
        }
    }
    const char *sc = getenv("BENCH_SCALE");
    if (sc && strcmp(sc, "small") == 0) scale = 10;
    printf("# gonet %s bench_runtime: reps=%d (median printed)\n", gn_version(), reps);
    for (int k = 0; k < nprocs; k++) {
        int p = procs[k];
        if (wanted(argc, argv, i, "yield", "yield_switch")) bench_yield(p);
        if (wanted(argc, argv, i, "chan", "chan_roundtrip")) bench_chan(p);
        if (wanted(argc, argv, i, "chanbuf", "chan_buffered")) bench_chanbuf(p);
        if (wanted(argc, argv, i, "spawn", "spawn_exit")) bench_spawn(p);
        int rss = (wanted(argc, argv, i, "rss", "rss_100k") ? 1 : 0) |
                  (wanted(argc, argv, i, "rss", "rss_1m") ? 2 : 0);
        if (rss) bench_rss(p, rss);
        if (wanted(argc, argv, i, "timer", NULL)) bench_timer(p);
    }
    return 0;
}
