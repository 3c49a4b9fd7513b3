/* test_runtime.c — the runtime: gn_run and gn_main, spawning, the G/P/M scheduler
 * (spreading over threads, migration with errno kept, pinning, blocking calls and
 * the monitor's hand-off, long runners, yield order and fairness, spawning from
 * foreign threads), sleeping, coroutine stacks (sizes, overflow reports, guard
 * modes and their mapping cost), shutdown races, a chaos mix, and the stats.
 *
 * Every test runs its body as the main coroutine of gn_run, with real threads,
 * and asserts on what the body recorded once gn_run has returned. Timing is
 * only ever checked one way ("slept at least d") or against generous bounds.
 * Scenarios that may crash or hang when the runtime is wrong (overflows,
 * faults, shutdown races) run in a forked child with a time limit, so that
 * they fail one test instead of ending the program.
 * GN_TEST_SCALE=small (see test_util.h) divides the heavy loops by 10.         */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"
#include "test_util.h"

#ifndef _WIN32
#  include <sys/wait.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#  define T_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define T_ASAN 1
#  endif
#endif

/* Opaque to the optimiser: errno's address and pthread_self() are declared
 * const in glibc, so a direct read after a switch point may be served from a
 * register that holds the value of the thread the coroutine ran on before.    */
#if defined(__clang__)
#  define T_OPAQUE __attribute__((noinline, optnone))
#else
#  define T_OPAQUE __attribute__((noinline, noipa))
#endif
#define T_NOINLINE __attribute__((noinline))
#if defined(T_TSAN)
static const int k_tsan = 1;
#else
static const int k_tsan = 0;
#endif
#if defined(T_ASAN)
static const int k_asan = 1;
#else
static const int k_asan = 0;
#endif

static T_OPAQUE int errno_get(void) { return errno; }
static T_OPAQUE void errno_set(int v) { errno = v; }
/* Windows' GetLastError() is per thread like errno and kept the same way.     */
#ifdef _WIN32
static T_OPAQUE void lasterr_set(int v) { SetLastError((DWORD)v); }
static T_OPAQUE int lasterr_ok(int v) { return GetLastError() == (DWORD)v; }
#else
static void lasterr_set(int v) { (void)v; }
static int lasterr_ok(int v) { (void)v; return 1; }
#endif
static T_OPAQUE pthread_t thread_self(void) { return pthread_self(); }

#define MS GN_MILLISECOND

/* g_scale (test_util.h) divides the heavy loops; g_small says it does.        */
static int g_small;
static int scaled(int n) { return n / g_scale > 0 ? n / g_scale : 1; }

/* A failed check with the values that made it fail. */
static char g_msg[2048];
#define CHECKF(cond, ...)                                                        \
    do {                                                                         \
        greatest_info.assertions++;                                              \
        if (!(cond)) {                                                           \
            snprintf(g_msg, sizeof g_msg, __VA_ARGS__);                          \
            FAILm(g_msg);                                                        \
        }                                                                        \
    } while (0)
#define EQ(exp, got) EQI(exp, got)

static void spin_for(int64_t ns) {
    int64_t end = gn_now() + ns;
    while (gn_now() < end) {
    }
}

/* Joins a thread from a coroutine without holding up the other coroutines.    */
static void join_blocking(pthread_t t) {
    gn_blocking_enter();
    pthread_join(t, NULL);
    gn_blocking_exit();
}

/* Waits (sleeping) until only `want` coroutines exist; 0 on timeout.          */
static int wait_goroutines(int want, int64_t timeout) {
    int64_t end = gn_now() + timeout;
    while (gn_num_goroutine() != want) {
        if (gn_now() > end) return 0;
        gn_sleep(MS);
    }
    return 1;
}

/* Waits (sleeping) until *p >= want; 0 on timeout.                             */
static int wait_count(int *p, int want, int64_t timeout) {
    int64_t end = gn_now() + timeout;
    while (ALOAD(p) < want) {
        if (gn_now() > end) return 0;
        gn_sleep(MS);
    }
    return 1;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int all_distinct_positive(const int64_t *v, int n) {
    int64_t *c = (int64_t *)malloc((size_t)n * sizeof *c);
    if (!c) return 0;
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_i64);
    int ok = n == 0 || c[0] > 0;
    for (int i = 1; ok && i < n; i++) ok = c[i] != c[i - 1];
    free(c);
    return ok;
}

/* ---- forked children --------------------------------------------------------
 * Crashes, hangs and fatal signals are tested in a child process, so that they
 * end the child and fail one test rather than the whole program.              */
static int g_child_timeout = 30;   /* seconds; SIGALRM kills a hung child */

#ifdef _WIN32
/* Windows has no fork: the child is this program started again, told by its
 * environment which function to run, as an offset from run_child (address
 * space randomisation moves the whole image, so offsets hold). The parent
 * enforces the time limit. The wait status is the exit code, read through
 * these stand-ins: an exception's code (0xC...) counts as a signal.         */
#define T_HUNG 0x7ffffff0
#define SIGALRM 14
#define SIGBUS 7
#undef WIFSIGNALED
#undef WIFEXITED
#undef WEXITSTATUS
#undef WTERMSIG
#define WIFSIGNALED(s) ((s) == T_HUNG || ((unsigned)(s) & 0xC0000000u) == 0xC0000000u)
#define WIFEXITED(s)   (!WIFSIGNALED(s))
#define WEXITSTATUS(s) ((s) & 0xff)
#define WTERMSIG(s)                                                                              \
    ((s) == T_HUNG ? SIGALRM                                                                     \
     : (unsigned)(s) == 0xC0000005u || (unsigned)(s) == 0xC00000FDu ? SIGSEGV : SIGABRT)

static int run_child(void (*child)(void), char *out, size_t cap, int *status);
static intptr_t child_offset(void (*fn)(void)) { return (intptr_t)((uintptr_t)fn - (uintptr_t)run_child); }
static void (*child_at(const char *off))(void) {
    return (void (*)(void))((uintptr_t)run_child + (uintptr_t)(intptr_t)atoll(off));
}

static int run_child(void (*child)(void), char *out, size_t cap, int *status) {
    char exe[MAX_PATH], off[32];
    if (GetModuleFileNameA(NULL, exe, sizeof exe) == 0) return -1;
    snprintf(off, sizeof off, "%lld", (long long)child_offset(child));
    SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
    HANDLE rd, wr;
    if (!CreatePipe(&rd, &wr, &sa, 0)) return -1;
    SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    STARTUPINFOA si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    si.hStdOutput = wr;
    si.hStdError = wr;
    PROCESS_INFORMATION pi;
    fflush(stdout);
    fflush(stderr);
    SetEnvironmentVariableA("GN_T_CHILD", off);
    BOOL ok = CreateProcessA(exe, NULL, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    SetEnvironmentVariableA("GN_T_CHILD", NULL);
    CloseHandle(wr);
    if (!ok) {
        CloseHandle(rd);
        return -1;
    }
    size_t n = 0;
    int hung = 0;
    ULONGLONG end = GetTickCount64() + (ULONGLONG)g_child_timeout * 1000;
    for (;;) {
        DWORD avail = 0, got = 0;
        if (PeekNamedPipe(rd, NULL, 0, NULL, &avail, NULL) && avail > 0) {
            if (n < cap - 1 && ReadFile(rd, out + n, (DWORD)GN__MIN((size_t)avail, cap - 1 - n), &got, NULL))
                n += got;
            else if (n == cap - 1) {
                char sink[512];
                ReadFile(rd, sink, sizeof sink, &got, NULL);
            }
            continue;
        }
        if (WaitForSingleObject(pi.hProcess, 5) == WAIT_OBJECT_0) {
            while (n < cap - 1 && PeekNamedPipe(rd, NULL, 0, NULL, &avail, NULL) && avail > 0 &&
                   ReadFile(rd, out + n, (DWORD)GN__MIN((size_t)avail, cap - 1 - n), &got, NULL))
                n += got;
            break;
        }
        if (GetTickCount64() > end) {
            TerminateProcess(pi.hProcess, 1);
            WaitForSingleObject(pi.hProcess, INFINITE);
            hung = 1;
            break;
        }
    }
    out[n] = 0;
    DWORD code = 0;
    GetExitCodeProcess(pi.hProcess, &code);
    *status = hung ? T_HUNG : (int)code;
    CloseHandle(pi.hProcess);
    CloseHandle(pi.hThread);
    CloseHandle(rd);
    return 0;
}
#else
/* Runs child() in a forked process with stderr captured; returns its wait status. */
static int run_child(void (*child)(void), char *out, size_t cap, int *status) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        close(fds[1]);
        signal(SIGALRM, SIG_DFL);   /* not the parent's watchdog */
        alarm((unsigned)g_child_timeout);
        child();
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fds[0], out + n, cap - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
        if (n == cap - 1) break;
    }
    out[n] = 0;
    close(fds[0]);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    return 0;
}
#endif

/* Killed by SIGSEGV/SIGBUS, or, under ThreadSanitizer, by its own deadly-signal
 * handler (which the runtime's handler hands the fault on to) with its exit code. */
static int died_of_segv(int status) {
    if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS;
    return k_tsan && WIFEXITED(status) && WEXITSTATUS(status) == 66;
}


static int (*g_child_fn)(void);
static void child_trampoline(void) {
    int rc = g_child_fn();
    fflush(stderr);
    _exit(rc);
}

/* Runs fn in a child; fails with the child's stderr unless it returns 0 in time. */
#define CHILD_CHECK(cond, ...)                                                   \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
            return 1;                                                            \
        }                                                                        \
    } while (0)

static enum greatest_test_res isolated(int (*fn)(void), int timeout_s) {
    static char out[16384];
    int status = 0;
    g_child_fn = fn;
    g_child_timeout = timeout_s;
#ifdef _WIN32
    char off[32];   /* the child process has its own g_child_fn to set */
    snprintf(off, sizeof off, "%lld", (long long)child_offset((void (*)(void))fn));
    SetEnvironmentVariableA("GN_T_CHILDFN", off);
#endif
    int rc = run_child(child_trampoline, out, sizeof out, &status);
#ifdef _WIN32
    SetEnvironmentVariableA("GN_T_CHILDFN", NULL);
#endif
    g_child_timeout = 30;
    ASSERT_EQ(0, rc);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        CHECKF(0, "the child hung (no return within %d s); stderr:\n%.1500s", timeout_s, out);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "the child %s %d; stderr:\n%.1500s", WIFSIGNALED(status) ? "died of signal" : "exited with",
           WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), out);
    PASS();
}

/* ==== gn_run, gn_main ============================================================ */
typedef struct {
    int ran, procs, ngo;
    int64_t id, created_at_start, goroutines_at_start;
} basic_t;

static void basic_body(void *arg) {
    basic_t *s = (basic_t *)arg;
    gn_stats st;
    gn_stats_read(&st);
    s->ran++;
    s->id = gn_id();
    s->procs = gn_procs();
    s->ngo = gn_num_goroutine();
    s->created_at_start = st.goroutines_created;
    s->goroutines_at_start = st.goroutines;
}

TEST run_basics(void) {
    basic_t s;
    memset(&s, 0, sizeof s);
    EQ(0, gn_id());
    EQ(0, gn_procs());
    EQ(0, gn_num_goroutine());
    EQ(0, run_procs(3, basic_body, &s));
    EQ(1, s.ran);
    CHECKF(s.id > 0, "gn_id inside = %lld", (long long)s.id);
    EQ(3, s.procs);
    EQ(1, s.ngo);
    EQ(1, s.created_at_start);
    EQ(1, s.goroutines_at_start);
    EQ(0, gn_id());
    EQ(0, gn_procs());
    EQ(0, gn_num_goroutine());
    /* A NULL config takes every default. */
    memset(&s, 0, sizeof s);
    EQ(0, gn_run(NULL, basic_body, &s));
    EQ(1, s.ran);
    CHECKF(s.procs >= 1, "procs %d", s.procs);
    PASS();
}

TEST run_null_fn(void) {
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 2;
    EQ(GN_EINVAL, gn_run(&cfg, NULL, NULL));
    EQ(GN_EINVAL, gn_run(NULL, NULL, NULL));
    EQ(GN_EINVAL, gn_main(NULL, NULL));
    EQ(0, gn_procs());
    basic_t s;
    memset(&s, 0, sizeof s);
    EQ(0, gn_run(&cfg, basic_body, &s));   /* nothing was left half-started */
    EQ(1, s.ran);
    PASS();
}

typedef struct {
    int rc_run, rc_main, rc_child, rc_thread, rc_thread_main, inner_ran, child_done, thread_rc;
} nested_t;

static void never_body(void *arg) { AADD((int *)arg, 1); }

static void nested_child(void *arg) {
    nested_t *s = (nested_t *)arg;
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 1;
    s->rc_child = gn_run(&cfg, never_body, &s->inner_ran);
    ASTORE(&s->child_done, 1);
}

static void *nested_thread(void *arg) {
    nested_t *s = (nested_t *)arg;
    s->rc_thread = gn_run(NULL, never_body, &s->inner_ran);
    s->rc_thread_main = gn_main(never_body, &s->inner_ran);
    return NULL;
}

static void nested_body(void *arg) {
    nested_t *s = (nested_t *)arg;
    s->rc_run = gn_run(NULL, never_body, &s->inner_ran);
    s->rc_main = gn_main(never_body, &s->inner_ran);
    gn_go(nested_child, s);
    wait_count(&s->child_done, 1, 10 * GN_SECOND);
    pthread_t t;
    s->thread_rc = pthread_create(&t, NULL, nested_thread, s);
    if (s->thread_rc == 0) join_blocking(t);
}

TEST run_inside_runtime_is_estate(void) {
    nested_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(2, nested_body, &s));
    EQ(GN_ESTATE, s.rc_run);
    EQ(GN_ESTATE, s.rc_main);
    EQ(1, s.child_done);
    EQ(GN_ESTATE, s.rc_child);
    EQ(0, s.thread_rc);
    EQ(GN_ESTATE, s.rc_thread);        /* another thread, same process */
    EQ(GN_ESTATE, s.rc_thread_main);
    EQ(0, s.inner_ran);
    PASS();
}

TEST run_restart(void) {
    static const int procs[] = {1, 2, 4, 1, 3, 2};
    for (int i = 0; i < (int)(sizeof procs / sizeof procs[0]); i++) {
        basic_t s;
        memset(&s, 0, sizeof s);
        CHECKF(run_procs(procs[i], basic_body, &s) == 0, "run %d failed", i);
        CHECKF(s.ran == 1, "run %d: body ran %d times", i, s.ran);
        CHECKF(s.procs == procs[i], "run %d: gn_procs %d, want %d", i, s.procs, procs[i]);
        CHECKF(s.id > 0, "run %d: id %lld", i, (long long)s.id);
        /* the stats start again from zero with each run */
        CHECKF(s.created_at_start == 1, "run %d: created %lld at start", i,
               (long long)s.created_at_start);
        EQ(0, gn_procs());
    }
    PASS();
}

typedef struct { int procs, child_ran; } procs_t;

static void procs_child(void *arg) { ASTORE(&((procs_t *)arg)->child_ran, 1); }

static void procs_body(void *arg) {
    procs_t *s = (procs_t *)arg;
    s->procs = gn_procs();
    gn_go(procs_child, s);
    wait_count(&s->child_ran, 1, 10 * GN_SECOND);
}

static int affinity_cpus(void) {
#ifdef _WIN32
    DWORD_PTR proc = 0, sys = 0;
    int n = 0;
    if (GetProcessAffinityMask(GetCurrentProcess(), &proc, &sys))
        for (; proc; proc &= proc - 1) n++;
    return n > 0 ? n : 1;
#else
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return (int)sysconf(_SC_NPROCESSORS_ONLN);
    return CPU_COUNT(&set);
#endif
}

TEST run_procs_and_config(void) {
    const char *old = getenv("GONET_MAXPROCS");
    char saved[64] = {0};
    if (old) snprintf(saved, sizeof saved, "%s", old);
    gn_config cfg;
    procs_t s;
    int rc[6], got[6], ran[6];

    setenv("GONET_MAXPROCS", "3", 1);
    memset(&cfg, 0, sizeof cfg);
    memset(&s, 0, sizeof s);
    rc[0] = gn_run(&cfg, procs_body, &s), got[0] = s.procs, ran[0] = s.child_ran;   /* env */
    cfg.procs = 2;
    memset(&s, 0, sizeof s);
    rc[1] = gn_run(&cfg, procs_body, &s), got[1] = s.procs, ran[1] = s.child_ran;   /* cfg wins */
    memset(&s, 0, sizeof s);
    rc[2] = gn_main(procs_body, &s), got[2] = s.procs, ran[2] = s.child_ran;        /* env */
    setenv("GONET_MAXPROCS", "junk", 1);
    memset(&s, 0, sizeof s);
    rc[3] = gn_main(procs_body, &s), got[3] = s.procs, ran[3] = s.child_ran;        /* CPUs */
    unsetenv("GONET_MAXPROCS");
    memset(&s, 0, sizeof s);
    rc[4] = gn_main(procs_body, &s), got[4] = s.procs, ran[4] = s.child_ran;        /* CPUs */
    /* An absurdly small stack size is raised to a workable minimum. */
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 1;
    cfg.stack_size = 1;
    memset(&s, 0, sizeof s);
    rc[5] = gn_run(&cfg, procs_body, &s), got[5] = s.procs, ran[5] = s.child_ran;
    if (old) setenv("GONET_MAXPROCS", saved, 1);

    for (int i = 0; i < 6; i++) {
        CHECKF(rc[i] == 0, "run %d returned %d", i, rc[i]);
        CHECKF(ran[i] == 1, "run %d: the spawned coroutine did not run", i);
    }
    EQ(3, got[0]);
    EQ(2, got[1]);
    EQ(3, got[2]);
    int ncpu = affinity_cpus();
    CHECKF(got[3] >= 1 && got[3] <= ncpu, "junk GONET_MAXPROCS: procs %d, cpus %d", got[3], ncpu);
    CHECKF(got[4] >= 1 && got[4] <= ncpu, "default procs %d, cpus %d", got[4], ncpu);
    EQ(1, got[5]);
    PASS();
}

/* gn_run leaves the signal state as it found it: SIGSEGV/SIGBUS handlers and
 * the calling thread's alternate signal stack.                                  */
#ifndef _WIN32
static void dummy_handler(int sig) { (void)sig; }
#endif

TEST run_restores_signal_state(void) {
#ifdef _WIN32
    SKIPm("POSIX signal dispositions and alternate stacks");
#else
    struct sigaction mine, old_segv, old_bus, after_segv, after_bus;
    memset(&mine, 0, sizeof mine);
    mine.sa_handler = dummy_handler;
    sigemptyset(&mine.sa_mask);
    ASSERT_EQ(0, sigaction(SIGBUS, &mine, &old_bus));
    ASSERT_EQ(0, sigaction(SIGSEGV, NULL, &old_segv));
    static char my_stack[64 * 1024];
    stack_t ss, old_ss, after_ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = my_stack;
    ss.ss_size = sizeof my_stack;
    ASSERT_EQ(0, sigaltstack(&ss, &old_ss));

    basic_t b;
    memset(&b, 0, sizeof b);
    int rc = run_procs(2, basic_body, &b);

    sigaction(SIGSEGV, NULL, &after_segv);
    sigaction(SIGBUS, &old_bus, &after_bus);   /* and put the original back */
    sigaltstack(NULL, &after_ss);
    if (!(old_ss.ss_flags & SS_DISABLE)) sigaltstack(&old_ss, NULL);
    else {
        stack_t off;
        memset(&off, 0, sizeof off);
        off.ss_flags = SS_DISABLE;
        sigaltstack(&off, NULL);
    }
    EQ(0, rc);
    EQ(1, b.ran);
    ASSERTm("SIGSEGV disposition changed by gn_run",
            after_segv.sa_handler == old_segv.sa_handler);
    ASSERTm("SIGBUS handler installed before gn_run was not restored",
            after_bus.sa_handler == dummy_handler);
    CHECKF(!(after_ss.ss_flags & SS_DISABLE) && after_ss.ss_sp == (void *)my_stack &&
               after_ss.ss_size == sizeof my_stack,
           "the thread's own alternate signal stack was not restored (flags %d, sp %p, size %zu)",
           after_ss.ss_flags, after_ss.ss_sp, (size_t)after_ss.ss_size);
    PASS();
#endif
}

TEST main_default_config(void) {
    basic_t s;
    memset(&s, 0, sizeof s);
    EQ(0, gn_main(basic_body, &s));
    EQ(1, s.ran);
    CHECKF(s.id > 0, "id %lld", (long long)s.id);
    CHECKF(s.procs >= 1, "procs %d", s.procs);
    EQ(1, s.ngo);
    PASS();
}

/* When the main coroutine returns, the others are dropped wherever they are:
 * sleeping, yielding in a loop, pinned, inside a blocking call.                */
typedef struct { int started, after_blocking; } drop_t;

static void drop_sleeper(void *arg) {
    AADD(&((drop_t *)arg)->started, 1);
    gn_sleep(30 * GN_SECOND);
}
static void drop_yielder(void *arg) {
    AADD(&((drop_t *)arg)->started, 1);
    for (;;) gn_yield();
}
static void drop_pinned(void *arg) {
    gn_pin();
    AADD(&((drop_t *)arg)->started, 1);
    gn_sleep(30 * GN_SECOND);
}
static void usleep_fn(void *arg) { usleep((useconds_t)(intptr_t)arg); }
static void drop_blocker(void *arg) {
    AADD(&((drop_t *)arg)->started, 1);
    gn_blocking(usleep_fn, (void *)(intptr_t)200000);
    ASTORE(&((drop_t *)arg)->after_blocking, 1);
}

static void drop_body(void *arg) {
    drop_t *s = (drop_t *)arg;
    for (int i = 0; i < 50; i++) gn_go(drop_sleeper, s);
    for (int i = 0; i < 3; i++) gn_go(drop_yielder, s);
    gn_go(drop_pinned, s);
    gn_go(drop_blocker, s);
    wait_count(&s->started, 55, 5 * GN_SECOND);
    gn_sleep(20 * MS);
}

static int drop_child(void) {
    drop_t s;
    memset(&s, 0, sizeof s);
    int rc = run_procs(2, drop_body, &s);
    CHILD_CHECK(rc == 0, "gn_run returned %d", rc);
    CHILD_CHECK(s.started == 55, "%d of 55 coroutines started", s.started);
    CHILD_CHECK(gn_procs() == 0, "gn_procs %d after gn_run returned", gn_procs());
    basic_t b;   /* and the runtime starts again cleanly */
    memset(&b, 0, sizeof b);
    rc = run_procs(2, basic_body, &b);
    CHILD_CHECK(rc == 0 && b.ran == 1 && b.ngo == 1, "restart: rc %d, ran %d, goroutines %d", rc,
                b.ran, b.ngo);
    return 0;
}

TEST main_return_drops_the_rest(void) {
    /* Several times: whether a yielding coroutine is alone on its P varies. */
    for (int i = 0; i < 3; i++) CHECK_CALL(isolated(drop_child, 10));
    PASS();
}

/* The sharpest case of the above: a coroutine in a gn_yield loop, alone on its
 * P, on another thread than the main coroutine when that returns.             */
static uintptr_t g_yl_thread;

static void yl_loop(void *arg) {
    (void)arg;
    for (;;) {
        ASTORE(&g_yl_thread, (uintptr_t)thread_self());
        gn_yield();
    }
}

static void yl_body(void *arg) {
    int *apart = (int *)arg;
    gn_go(yl_loop, NULL);
    int64_t end = gn_now() + 5 * GN_SECOND;
    while (gn_now() < end) {
        /* After the sleep the loop waits in a queue while we run: stay busy
         * long enough for the M woken for the idle P to take it over, however
         * slow its wake-up (a condition variable, an emulator).              */
        gn_sleep(MS);
        spin_for(MS);
        uintptr_t t = ALOAD(&g_yl_thread);
        if (t != 0 && t != (uintptr_t)thread_self()) {
            *apart = 1;
            spin_for(5 * MS);   /* the loop runs alone on the other P meanwhile */
            break;
        }
    }
}

static int yl_child(void) {
    int apart = 0;
    int rc = run_procs(2, yl_body, &apart);
    CHILD_CHECK(rc == 0, "gn_run returned %d", rc);
    CHILD_CHECK(apart, "the two coroutines never ran on different threads");
    return 0;
}

TEST main_return_stops_yield_loop(void) {
    CHECK_CALL(isolated(yl_child, 10));
    PASS();
}

/* ==== spawning ====================================================================== */
typedef struct {
    int64_t rc_null, rc_null_with, ids[5], seen[5], main_id;
} goargs_t;

static void record_id(void *arg) { ASTORE((int64_t *)arg, gn_id()); }

static void goargs_body(void *arg) {
    goargs_t *s = (goargs_t *)arg;
    gn_go_opts zero, big;
    memset(&zero, 0, sizeof zero);
    memset(&big, 0, sizeof big);
    big.stack_size = 256 * 1024;
    s->main_id = gn_id();
    s->rc_null = gn_go(NULL, NULL);
    s->rc_null_with = gn_go_with(NULL, NULL, &zero);
    s->ids[0] = gn_go(record_id, &s->seen[0]);
    s->ids[1] = gn_go_with(record_id, &s->seen[1], NULL);
    s->ids[2] = gn_go_with(record_id, &s->seen[2], &zero);
    s->ids[3] = gn_go_with(record_id, &s->seen[3], &big);
    s->ids[4] = gn_go(record_id, &s->seen[4]);
    int64_t end = gn_now() + 10 * GN_SECOND;
    for (int i = 0; i < 5; i++)
        while (ALOAD(&s->seen[i]) == 0 && gn_now() < end) gn_sleep(MS);
}

TEST go_arguments(void) {
    int64_t untouched = 0;
    EQ(GN_ESTATE, gn_go(record_id, &untouched));
    EQ(GN_ESTATE, gn_go_with(record_id, &untouched, NULL));
    int64_t rc = gn_go(NULL, NULL);
    CHECKF(rc == GN_EINVAL || rc == GN_ESTATE, "gn_go(NULL) outside: %lld", (long long)rc);
    EQ(0, untouched);

    goargs_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(2, goargs_body, &s));
    EQ(GN_EINVAL, s.rc_null);
    EQ(GN_EINVAL, s.rc_null_with);
    int64_t all[6];
    for (int i = 0; i < 5; i++) {
        CHECKF(s.ids[i] > 0, "spawn %d returned %lld", i, (long long)s.ids[i]);
        CHECKF(s.seen[i] == s.ids[i], "spawn %d: gn_go said %lld, gn_id said %lld", i,
               (long long)s.ids[i], (long long)s.seen[i]);
        all[i] = s.ids[i];
    }
    all[5] = s.main_id;
    ASSERTm("coroutine ids are not distinct", all_distinct_positive(all, 6));
    EQ(0, untouched);
    PASS();
}

/* 100,000 coroutines from one: the local queue overflows into the global one,
 * the other P steals, ids come from per-P batches and must stay unique.       */
typedef struct {
    int n, count, go_errors, drained, ngo_after, ngo_during_ok;
    int64_t *ids, *ret;
    gn_waitgroup wg;
    gn_stats st;
} spawn_t;
static spawn_t g_spawn;

static void spawn_child(void *arg) {
    int64_t *slot = (int64_t *)arg;
    *slot = gn_id();
    AADD(&g_spawn.count, 1);
    gn_waitgroup_done(&g_spawn.wg);
}

static void spawn_body(void *arg) {
    spawn_t *s = (spawn_t *)arg;
    gn_waitgroup_add(&s->wg, s->n);
    for (int i = 0; i < s->n; i++) {
        s->ret[i] = gn_go(spawn_child, &s->ids[i]);
        if (s->ret[i] <= 0) {
            s->go_errors++;
            gn_waitgroup_done(&s->wg);
        }
    }
    int ngo = gn_num_goroutine();
    s->ngo_during_ok = ngo >= 1 && ngo <= s->n + 1;
    gn_waitgroup_wait(&s->wg);
    s->drained = wait_goroutines(1, 20 * GN_SECOND);
    s->ngo_after = gn_num_goroutine();
    gn_stats_read(&s->st);
}

TEST spawn_100k(void) {
    spawn_t *s = &g_spawn;
    memset(s, 0, sizeof *s);
    s->n = scaled(100000);
    s->ids = (int64_t *)calloc((size_t)s->n, sizeof(int64_t));
    s->ret = (int64_t *)calloc((size_t)s->n, sizeof(int64_t));
    ASSERT(s->ids && s->ret);
    int rc = run_procs(2, spawn_body, s);
    int ids_ok = all_distinct_positive(s->ids, s->n), match = 1;
    for (int i = 0; i < s->n; i++)
        if (s->ids[i] != s->ret[i]) match = 0;
    free(s->ids);
    free(s->ret);
    EQ(0, rc);
    EQ(0, s->go_errors);
    EQ(s->n, s->count);
    ASSERTm("gn_num_goroutine out of range while spawning", s->ngo_during_ok);
    CHECKF(s->drained, "gn_num_goroutine stuck at %d, want 1", s->ngo_after);
    EQ(1, s->ngo_after);
    ASSERTm("coroutine ids are not unique and positive", ids_ok);
    ASSERTm("gn_go's return differs from the coroutine's gn_id", match);
    EQ(s->n + 1, s->st.goroutines_created);
    EQ(1, s->st.goroutines);
    PASS();
}

/* A binary tree of spawns: every coroutine spawns two, on whichever P it is.   */
typedef struct { int count, errors; gn_waitgroup wg; } tree_t;
static tree_t g_tree;

static void tree_node(void *arg) {
    intptr_t depth = (intptr_t)arg;
    AADD(&g_tree.count, 1);
    if (depth > 0) {
        gn_waitgroup_add(&g_tree.wg, 2);
        for (int i = 0; i < 2; i++) {
            if (gn_go(tree_node, (void *)(depth - 1)) <= 0) {
                AADD(&g_tree.errors, 1);
                gn_waitgroup_done(&g_tree.wg);
            }
        }
        if (depth % 3 == 0) gn_yield();
    }
    gn_waitgroup_done(&g_tree.wg);
}

static void tree_body(void *arg) {
    gn_waitgroup_add(&g_tree.wg, 1);
    gn_go(tree_node, arg);
    gn_waitgroup_wait(&g_tree.wg);
}

TEST spawn_tree(void) {
    memset(&g_tree, 0, sizeof g_tree);
    intptr_t depth = g_small ? 10 : 14;
    EQ(0, run_procs(2, tree_body, (void *)depth));
    EQ(0, g_tree.errors);
    EQ(((intptr_t)2 << depth) - 1, g_tree.count);
    PASS();
}

/* gn_go from threads the runtime did not create.                               */
typedef struct {
    int per_thread, nthreads, count, errors, create_errors, all_ran;
} foreign_t;
static foreign_t g_foreign;

static void foreign_child(void *arg) {
    (void)arg;
    AADD(&g_foreign.count, 1);
}

static void *foreign_spawner(void *arg) {
    (void)arg;
    for (int i = 0; i < g_foreign.per_thread; i++) {
        if (gn_go(foreign_child, NULL) <= 0) AADD(&g_foreign.errors, 1);
        if (i % 64 == 0) sched_yield();
    }
    return NULL;
}

static void foreign_body(void *arg) {
    foreign_t *s = (foreign_t *)arg;
    pthread_t t[8];
    int started = 0;
    for (int i = 0; i < s->nthreads; i++) {
        if (pthread_create(&t[i], NULL, foreign_spawner, NULL) == 0) started++;
        else s->create_errors++;
    }
    for (int i = 0; i < started; i++) join_blocking(t[i]);
    s->all_ran = wait_count(&s->count, started * s->per_thread - ALOAD(&s->errors), 20 * GN_SECOND);
}

TEST spawn_from_foreign_threads(void) {
    foreign_t *s = &g_foreign;
    memset(s, 0, sizeof *s);
    s->nthreads = 4;
    s->per_thread = scaled(5000);
    EQ(0, run_procs(2, foreign_body, s));
    EQ(0, s->create_errors);
    EQ(0, s->errors);
    ASSERTm("not every foreign-spawned coroutine ran", s->all_ran);
    EQ(s->nthreads * s->per_thread, s->count);
    PASS();
}

/* A foreign thread spawns while every P is idle (the body sleeps): the new G
 * must be picked up at once, not when the body's sleep ends.                  */
typedef struct {
    int64_t spawned_at, ran_at, id, ran_id;
    int thread_rc;
} wake_t;

static void wake_child(void *arg) {
    wake_t *s = (wake_t *)arg;
    ASTORE(&s->ran_id, gn_id());
    ASTORE(&s->ran_at, gn_now());
}

static void *wake_thread(void *arg) {
    wake_t *s = (wake_t *)arg;
    usleep(30000);   /* the body is asleep by now */
    ASTORE(&s->spawned_at, gn_now());
    ASTORE(&s->id, gn_go(wake_child, s));
    return NULL;
}

static void wake_body(void *arg) {
    wake_t *s = (wake_t *)arg;
    pthread_t t;
    s->thread_rc = pthread_create(&t, NULL, wake_thread, s);
    gn_sleep(800 * MS);
    if (s->thread_rc == 0) join_blocking(t);
}

TEST foreign_spawn_wakes_idle_runtime(void) {
    wake_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(2, wake_body, &s));
    EQ(0, s.thread_rc);
    CHECKF(s.id > 0, "gn_go from a foreign thread returned %lld", (long long)s.id);
    EQ(s.id, s.ran_id);
    ASSERTm("the coroutine spawned from a foreign thread never ran", s.ran_at != 0);
    int64_t lat = s.ran_at - s.spawned_at;
    CHECKF(lat < 500 * MS, "it waited %lld ms: it ran only when the body woke up",
           (long long)(lat / MS));
    PASS();
}

/* ==== scheduling ===================================================================== */

/* Work spreads: CPU-bound coroutines that yield now and then run on 2 threads. */
typedef struct {
    uintptr_t first;
    int spread, threads_seen;
    pthread_t seen[16];
    uint32_t seen_lock;
    gn_waitgroup wg;
} spread_t;
static spread_t g_spread;

static void spread_note(pthread_t self) {
    spread_t *s = &g_spread;
    while (__atomic_exchange_n(&s->seen_lock, 1, __ATOMIC_ACQUIRE)) {
    }
    int found = 0;
    for (int i = 0; i < s->threads_seen; i++)
        if (pthread_equal(s->seen[i], self)) found = 1;
    if (!found && s->threads_seen < 16) s->seen[s->threads_seen++] = self;
    if (s->threads_seen >= 2) ASTORE(&s->spread, 1);
    __atomic_store_n(&s->seen_lock, 0, __ATOMIC_RELEASE);
}

static void spread_worker(void *arg) {
    (void)arg;
    int64_t end = gn_now() + 5 * GN_SECOND;
    volatile uint64_t x = 1;
    while (!ALOAD(&g_spread.spread) && gn_now() < end) {
        for (int i = 0; i < 20000; i++) x = x * 6364136223846793005ull + 1;
        spread_note(thread_self());
        gn_yield();
    }
    gn_waitgroup_done(&g_spread.wg);
}

static void spread_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_spread.wg, 8);
    for (int i = 0; i < 8; i++) gn_go(spread_worker, NULL);
    gn_waitgroup_wait(&g_spread.wg);
}

TEST work_spreads_over_threads(void) {
    memset(&g_spread, 0, sizeof g_spread);
    EQ(0, run_procs(2, spread_body, NULL));
    CHECKF(g_spread.threads_seen >= 2, "coroutines ran on %d thread(s) only", g_spread.threads_seen);
    PASS();
}

/* Migration: a coroutine resumes on another thread with its errno intact.      */
#define ERRNO_MAGIC 0x5a5a17
typedef struct {
    int stop, migrations, attempts, errno_bad, errno_after, busy_errno_bad;
    gn_waitgroup wg;
} mig_t;
static mig_t g_mig;

static void mig_busy(void *arg) {
    int me = (int)(intptr_t)arg;
    uint32_t r = (uint32_t)me * 2654435761u + 1;
    while (!ALOAD(&g_mig.stop)) {
        errno_set(1000 + me);
        lasterr_set(2000 + me);
        spin_for(100 * GN_MICROSECOND);
        r = r * 1103515245u + 12345u;
        if (r & 0x10000) gn_yield();
        else gn_sleep((int64_t)(r >> 24) % 3 * 500 * GN_MICROSECOND);
        if (errno_get() != 1000 + me || !lasterr_ok(2000 + me)) AADD(&g_mig.busy_errno_bad, 1);
    }
    gn_waitgroup_done(&g_mig.wg);
}

static void mig_main(void *arg) {
    (void)arg;
    errno_set(ERRNO_MAGIC);
    pthread_t where = thread_self();
    int bound = scaled(4000);
    for (int i = 0; i < bound && g_mig.migrations < 5; i++) {
        g_mig.attempts++;
        lasterr_set(ERRNO_MAGIC + i);   /* after thread_self: winpthreads clears it */
        if (i % 2) gn_sleep(MS);
        else gn_yield();
        if (errno_get() != ERRNO_MAGIC || !lasterr_ok(ERRNO_MAGIC + i)) g_mig.errno_bad++;
        pthread_t now = thread_self();
        if (!pthread_equal(now, where)) {
            g_mig.migrations++;
            where = now;
        }
    }
    g_mig.errno_after = errno_get();
    ASTORE(&g_mig.stop, 1);
    gn_waitgroup_done(&g_mig.wg);
}

static void mig_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_mig.wg, 5);
    for (int i = 0; i < 4; i++) gn_go(mig_busy, (void *)(intptr_t)i);
    gn_go(mig_main, NULL);
    gn_waitgroup_wait(&g_mig.wg);
}

TEST migration_keeps_errno(void) {
    memset(&g_mig, 0, sizeof g_mig);
    EQ(0, run_procs(2, mig_body, NULL));
    CHECKF(g_mig.errno_bad == 0, "errno was wrong after %d of %d switches", g_mig.errno_bad,
           g_mig.attempts);
    EQ(0, g_mig.busy_errno_bad);
    if (g_mig.migrations == 0) SKIPm("the coroutine never changed threads within the bound");
    CHECKF(g_mig.errno_after == ERRNO_MAGIC, "errno %d after %d migrations, want %d",
           g_mig.errno_after, g_mig.migrations, ERRNO_MAGIC);
    if (GREATEST_IS_VERBOSE())
        printf("    %d migrations in %d switches\n", g_mig.migrations, g_mig.attempts);
    PASS();
}

#ifndef _WIN32
/* The signal mask belongs to the thread, not to the coroutine: the runtime's
 * threads block the asynchronous signals, the user's thread (here the one
 * that called gn_run) keeps its own mask, whatever coroutines it runs. A
 * switch that carried a mask across threads (ucontext's swapcontext does)
 * would open the runtime's threads to signals, or close the user's thread
 * and leave a process-directed signal with no thread to take it.            */
static struct {
    pthread_t user;
    int user_blocks_usr1;
    int on_user, off_user, bad;
    gn_waitgroup wg;
} g_mask;

static void mask_worker(void *arg) {
    uint32_t r = (uint32_t)(intptr_t)arg * 2654435761u;
    for (int i = 0, n = scaled(3000); i < n; i++) {
        spin_for(20 * GN_MICROSECOND);
        r = r * 1103515245u + 12345u;
        if (r & 0x10000) gn_yield();
        else gn_sleep((int64_t)(r >> 24) % 3 * 200 * GN_MICROSECOND);
        sigset_t now;
        pthread_sigmask(SIG_SETMASK, NULL, &now);
        if (pthread_equal(thread_self(), g_mask.user)) {
            AADD(&g_mask.on_user, 1);
            if (sigismember(&now, SIGUSR1) != g_mask.user_blocks_usr1) AADD(&g_mask.bad, 1);
        } else {
            AADD(&g_mask.off_user, 1);
            if (!sigismember(&now, SIGUSR1)) AADD(&g_mask.bad, 1);
        }
    }
    gn_waitgroup_done(&g_mask.wg);
}

static void mask_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_mask.wg, 4);
    for (int i = 0; i < 4; i++) gn_go(mask_worker, (void *)(intptr_t)(i + 1));
    gn_waitgroup_wait(&g_mask.wg);
}

TEST signal_mask_stays_with_thread(void) {
    memset(&g_mask, 0, sizeof g_mask);
    g_mask.user = thread_self();
    sigset_t m;
    pthread_sigmask(SIG_SETMASK, NULL, &m);
    g_mask.user_blocks_usr1 = sigismember(&m, SIGUSR1);
    EQ(0, run_procs(2, mask_body, NULL));
    if (g_mask.on_user == 0 || g_mask.off_user == 0)
        SKIPm("the coroutines never resumed on both kinds of thread within the bound");
    if (GREATEST_IS_VERBOSE()) printf("    %d resumes on the user thread, %d on the runtime threads, %d bad\n", g_mask.on_user, g_mask.off_user, g_mask.bad);
    CHECKF(g_mask.bad == 0, "%d of %d resumes found the signal mask of another thread", g_mask.bad,
           g_mask.on_user + g_mask.off_user);
    PASS();
}
#endif

/* errno belongs to the coroutine: several coroutines sharing a thread (procs=1)
 * or several threads (procs=2) each keep their own value across switches.     */
typedef struct { int rounds, bad, done; gn_waitgroup wg; } errno_state_t;
static errno_state_t g_errno;

static void errno_worker(void *arg) {
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < g_errno.rounds; i++) {
        int v = me * 100000 + i;
        errno_set(v);
        if (i % 50 == 49) gn_sleep(100 * GN_MICROSECOND);
        else gn_yield();
        if (errno_get() != v) AADD(&g_errno.bad, 1);
    }
    AADD(&g_errno.done, 1);
    gn_waitgroup_done(&g_errno.wg);
}

static void errno_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_errno.wg, 6);
    for (int i = 1; i <= 6; i++) gn_go(errno_worker, (void *)(intptr_t)i);
    gn_waitgroup_wait(&g_errno.wg);
}

static enum greatest_test_res check_errno(int procs) {
    memset(&g_errno, 0, sizeof g_errno);
    g_errno.rounds = scaled(2000);
    EQ(0, run_procs(procs, errno_body, NULL));
    EQ(6, g_errno.done);
    CHECKF(g_errno.bad == 0, "%d resumes saw another coroutine's errno", g_errno.bad);
    PASS();
}
TEST errno_per_coroutine_1proc(void) { CHECK_CALL(check_errno(1)); PASS(); }
TEST errno_per_coroutine_2procs(void) { CHECK_CALL(check_errno(2)); PASS(); }

/* errno across the switch points while the runtime's locks are contended:
 * foreign threads read the stats (every P's timer lock) and spawn (the
 * scheduler's lock) without pause.                                            */
#define EC_WORKERS 16
typedef struct { int rounds, checks, bad, last_bad, done, op_bad[3]; gn_waitgroup wg; } ec_t;
static ec_t g_ec;

static void ec_noop(void *arg) { (void)arg; }

static void *ec_spammer(void *arg) {
    int reader = (int)(intptr_t)arg;
    while (ALOAD(&g_ec.done) < EC_WORKERS) {
        if (reader) {
            gn_stats st;
            gn_stats_read(&st);
        } else {
            gn_go(ec_noop, NULL);
        }
    }
    return NULL;
}

static void ec_worker(void *arg) {
    int me = (int)(intptr_t)arg;
    for (int i = 0; i < g_ec.rounds; i++) {
        int v = me * 100000 + i, op = i % 3;
        errno_set(v);
        if (op == 0) gn_sleep(20 * GN_MICROSECOND);
        else if (op == 1) gn_yield();
        else gn_go(ec_noop, NULL);
        int e = errno_get();
        AADD(&g_ec.checks, 1);
        if (e != v) {
            AADD(&g_ec.bad, 1);
            AADD(&g_ec.op_bad[op], 1);
            ASTORE(&g_ec.last_bad, e);
        }
    }
    AADD(&g_ec.done, 1);
    gn_waitgroup_done(&g_ec.wg);
}

static void ec_body(void *arg) {
    (void)arg;
    pthread_t t[3];
    int nt = 0;
    for (int i = 0; i < 3; i++)
        if (pthread_create(&t[nt], NULL, ec_spammer, (void *)(intptr_t)(i != 0)) == 0) nt++;
    gn_waitgroup_add(&g_ec.wg, EC_WORKERS);
    for (int i = 0; i < EC_WORKERS; i++) gn_go(ec_worker, (void *)(intptr_t)(i + 1));
    gn_waitgroup_wait(&g_ec.wg);
    for (int i = 0; i < nt; i++) join_blocking(t[i]);
}

TEST errno_under_lock_contention(void) {
    memset(&g_ec, 0, sizeof g_ec);
    g_ec.rounds = scaled(3000);
    EQ(0, run_procs(2, ec_body, NULL));
    EQ(EC_WORKERS, g_ec.done);
    CHECKF(g_ec.bad == 0, "errno changed across %d of %d calls (gn_sleep %d, gn_yield %d, "
           "gn_go %d; last seen: %d, %s)", g_ec.bad, g_ec.checks, g_ec.op_bad[0], g_ec.op_bad[1],
           g_ec.op_bad[2], g_ec.last_bad, strerror(g_ec.last_bad));
    PASS();
}

/* Two coroutines yielding in a loop on one P alternate strictly.              */
#define PP_ROUNDS 1000
typedef struct { char log[2 * PP_ROUNDS + 8]; int n; gn_waitgroup wg; } pp_t;
static pp_t g_pp;

static void pp_worker(void *arg) {
    char me = (char)(intptr_t)arg;
    for (int i = 0; i < PP_ROUNDS; i++) {
        if (g_pp.n < (int)sizeof g_pp.log) g_pp.log[g_pp.n++] = me;
        gn_yield();
    }
    gn_waitgroup_done(&g_pp.wg);
}

static void pp_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_pp.wg, 2);
    gn_go(pp_worker, (void *)(intptr_t)'A');
    gn_go(pp_worker, (void *)(intptr_t)'B');
    gn_waitgroup_wait(&g_pp.wg);
}

TEST yield_ping_pong(void) {
    memset(&g_pp, 0, sizeof g_pp);
    EQ(0, run_procs(1, pp_body, NULL));
    EQ(2 * PP_ROUNDS, g_pp.n);
    int na = 0, nb = 0;
    for (int i = 0; i < g_pp.n; i++) {
        if (g_pp.log[i] == 'A') na++;
        if (g_pp.log[i] == 'B') nb++;
        CHECKF(i == 0 || g_pp.log[i] != g_pp.log[i - 1],
               "no strict alternation at entry %d: ...%.*s...", i, 8,
               g_pp.log + (i >= 4 ? i - 4 : 0));
    }
    EQ(PP_ROUNDS, na);
    EQ(PP_ROUNDS, nb);
    PASS();
}

/* A lone coroutine's yield returns at once; outside a coroutine it is harmless. */
typedef struct { int64_t sw_before, sw_after; int64_t took; } lone_t;

static void lone_body(void *arg) {
    lone_t *s = (lone_t *)arg;
    gn_stats st;
    gn_stats_read(&st);
    s->sw_before = st.context_switches;
    int64_t t0 = gn_now();
    for (int i = 0; i < 1000; i++) gn_yield();
    s->took = gn_now() - t0;
    gn_stats_read(&st);
    s->sw_after = st.context_switches;
}

TEST yield_alone_and_outside(void) {
    gn_yield();   /* outside any runtime: just the thread */
    lone_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(1, lone_body, &s));
    CHECKF(s.sw_after == s.sw_before, "1000 lone yields made %lld switches",
           (long long)(s.sw_after - s.sw_before));
    CHECKF(s.took < 2 * GN_SECOND, "1000 lone yields took %lld ms", (long long)(s.took / MS));
    PASS();
}

/* A coroutine spinning on gn_yield must let a due timer and a globally queued
 * coroutine (spawned from a foreign thread) run on its only P.                */
typedef struct { int flag_timer, flag_foreign, thread_rc; int64_t spin_timer, spin_foreign; } ys_t;

static void ys_sleeper(void *arg) {
    gn_sleep(5 * MS);
    ASTORE(&((ys_t *)arg)->flag_timer, 1);
}
static void ys_foreign_child(void *arg) { ASTORE(&((ys_t *)arg)->flag_foreign, 1); }
static void *ys_thread(void *arg) {
    usleep(5000);
    gn_go(ys_foreign_child, arg);
    return NULL;
}

static void ys_body(void *arg) {
    ys_t *s = (ys_t *)arg;
    gn_go(ys_sleeper, s);
    int64_t t0 = gn_now(), end = t0 + 10 * GN_SECOND;
    while (!ALOAD(&s->flag_timer) && gn_now() < end) gn_yield();
    s->spin_timer = gn_now() - t0;

    pthread_t t;
    s->thread_rc = pthread_create(&t, NULL, ys_thread, s);
    t0 = gn_now();
    end = t0 + 10 * GN_SECOND;
    while (!ALOAD(&s->flag_foreign) && gn_now() < end) gn_yield();
    s->spin_foreign = gn_now() - t0;
    if (s->thread_rc == 0) join_blocking(t);
}

TEST yield_lets_timers_and_global_queue_run(void) {
    ys_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(1, ys_body, &s));
    EQ(0, s.thread_rc);
    CHECKF(s.flag_timer, "a sleeping coroutine never woke while another yielded (%lld ms)",
           (long long)(s.spin_timer / MS));
    CHECKF(s.flag_foreign, "a foreign-spawned coroutine never ran while another yielded (%lld ms)",
           (long long)(s.spin_foreign / MS));
    PASS();
}

/* Fairness under load: 1000 coroutines each yielding 100 times all finish.    */
typedef struct { int rounds, finished; int64_t yields; gn_waitgroup wg; } fair_t;
static fair_t g_fair;

static void fair_worker(void *arg) {
    (void)arg;
    for (int i = 0; i < g_fair.rounds; i++) {
        AADD(&g_fair.yields, 1);
        gn_yield();
    }
    AADD(&g_fair.finished, 1);
    gn_waitgroup_done(&g_fair.wg);
}

static void fair_body(void *arg) {
    int n = (int)(intptr_t)arg;
    gn_waitgroup_add(&g_fair.wg, n);
    for (int i = 0; i < n; i++) gn_go(fair_worker, NULL);
    gn_waitgroup_wait(&g_fair.wg);
}

TEST fairness_under_load(void) {
    memset(&g_fair, 0, sizeof g_fair);
    int n = scaled(1000);
    g_fair.rounds = 100;
    EQ(0, run_procs(2, fair_body, (void *)(intptr_t)n));
    EQ(n, g_fair.finished);
    EQ((int64_t)n * 100, g_fair.yields);
    PASS();
}

/* ==== pinning ========================================================================== */
typedef struct {
    int stop, rc_pin, rc_unpin, moved, checks, active, intruders, busy_runs;
    pthread_t pinned_thread;
    gn_waitgroup wg;
} pin_t;
static pin_t g_pin;

static void pin_busy(void *arg) {
    uint32_t r = (uint32_t)(intptr_t)arg * 2654435761u + 7;
    while (!ALOAD(&g_pin.stop)) {
        spin_for(50 * GN_MICROSECOND);
        if (ALOAD(&g_pin.active) && pthread_equal(thread_self(), g_pin.pinned_thread))
            AADD(&g_pin.intruders, 1);
        AADD(&g_pin.busy_runs, 1);
        r = r * 1103515245u + 12345u;
        if (r & 0x10000) gn_yield();
        else gn_sleep((int64_t)(r >> 24) % 3 * 300 * GN_MICROSECOND);
    }
    gn_waitgroup_done(&g_pin.wg);
}

static void pin_worker(void *arg) {
    (void)arg;
    g_pin.rc_pin = gn_pin();
    g_pin.pinned_thread = thread_self();
    ASTORE(&g_pin.active, 1);
    int rounds = scaled(600);
    for (int i = 0; i < rounds; i++) {
        switch (i % 3) {
        case 0: gn_sleep(MS); break;
        case 1: gn_yield(); break;
        default: gn_sleep(200 * GN_MICROSECOND); break;
        }
        g_pin.checks++;
        if (!pthread_equal(thread_self(), g_pin.pinned_thread)) g_pin.moved++;
    }
    ASTORE(&g_pin.active, 0);
    g_pin.rc_unpin = gn_unpin();
    ASTORE(&g_pin.stop, 1);
    gn_waitgroup_done(&g_pin.wg);
}

static void pin_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_pin.wg, 5);
    for (int i = 0; i < 4; i++) gn_go(pin_busy, (void *)(intptr_t)i);
    gn_go(pin_worker, NULL);
    gn_waitgroup_wait(&g_pin.wg);
}

TEST pin_stays_on_its_thread(void) {
    memset(&g_pin, 0, sizeof g_pin);
    EQ(0, run_procs(2, pin_body, NULL));
    EQ(0, g_pin.rc_pin);
    EQ(0, g_pin.rc_unpin);
    CHECKF(g_pin.checks > 0, "no checks");
    CHECKF(g_pin.moved == 0, "the pinned coroutine resumed on another thread %d of %d times",
           g_pin.moved, g_pin.checks);
    CHECKF(g_pin.intruders == 0, "other coroutines ran %d times on the pinned thread",
           g_pin.intruders);
    CHECKF(g_pin.busy_runs > 0, "the other coroutines did not run");
    PASS();
}

typedef struct {
    int rc_unpin_first, rc_pin1, rc_pin2, rc_unpin1, rc_unpin2, rc_unpin3, moved, thread_rc;
    int rc_thread_pin, rc_thread_unpin;
} pinerr_t;

static void *pinerr_thread(void *arg) {
    pinerr_t *s = (pinerr_t *)arg;
    s->rc_thread_pin = gn_pin();
    s->rc_thread_unpin = gn_unpin();
    return NULL;
}

static void pin_spinner(void *arg) {
    int64_t end = gn_now() + 200 * MS;
    while (!ALOAD((int *)arg) && gn_now() < end) {
        spin_for(20 * GN_MICROSECOND);
        gn_yield();
    }
}

static void pinerr_body(void *arg) {
    pinerr_t *s = (pinerr_t *)arg;
    int stop = 0;
    gn_go(pin_spinner, &stop);
    gn_go(pin_spinner, &stop);
    s->rc_unpin_first = gn_unpin();
    s->rc_pin1 = gn_pin();
    s->rc_pin2 = gn_pin();
    pthread_t me = thread_self();
    s->rc_unpin1 = gn_unpin();   /* depth 2 -> 1: still pinned */
    for (int i = 0; i < 30; i++) {
        if (i % 2) gn_sleep(MS);
        else gn_yield();
        if (!pthread_equal(me, thread_self())) s->moved++;
    }
    s->rc_unpin2 = gn_unpin();
    s->rc_unpin3 = gn_unpin();
    pthread_t t;
    s->thread_rc = pthread_create(&t, NULL, pinerr_thread, s);
    if (s->thread_rc == 0) join_blocking(t);
    ASTORE(&stop, 1);
    gn_sleep(5 * MS);
}

TEST pin_errors_and_nesting(void) {
    EQ(GN_ESTATE, gn_pin());
    EQ(GN_ESTATE, gn_unpin());
    pinerr_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(2, pinerr_body, &s));
    EQ(GN_ESTATE, s.rc_unpin_first);
    EQ(0, s.rc_pin1);
    EQ(0, s.rc_pin2);
    EQ(0, s.rc_unpin1);
    CHECKF(s.moved == 0, "still pinned once (nesting), yet moved %d times", s.moved);
    EQ(0, s.rc_unpin2);
    EQ(GN_ESTATE, s.rc_unpin3);
    EQ(0, s.thread_rc);
    EQ(GN_ESTATE, s.rc_thread_pin);
    EQ(GN_ESTATE, s.rc_thread_unpin);
    PASS();
}

/* Several coroutines pinned at once each own a distinct thread and stay on it. */
#define NPINNED 4
typedef struct {
    int arrived, moved[NPINNED], rc[NPINNED], stop, done;
    pthread_t at_barrier[NPINNED];
    gn_waitgroup wg;
} pinmany_t;
static pinmany_t g_pm;

static void pinmany_worker(void *arg) {
    int me = (int)(intptr_t)arg;
    g_pm.rc[me] = gn_pin();
    pthread_t th = thread_self();
    AADD(&g_pm.arrived, 1);
    int64_t end = gn_now() + 10 * GN_SECOND;
    while (ALOAD(&g_pm.arrived) < NPINNED && gn_now() < end) gn_sleep(MS);
    g_pm.at_barrier[me] = thread_self();   /* all four are pinned right now */
    for (int i = 0; i < scaled(200); i++) {
        if (i % 2) gn_sleep(500 * GN_MICROSECOND);
        else gn_yield();
        if (!pthread_equal(th, thread_self())) g_pm.moved[me]++;
    }
    if (!pthread_equal(th, g_pm.at_barrier[me])) g_pm.moved[me]++;
    gn_unpin();
    AADD(&g_pm.done, 1);
    gn_waitgroup_done(&g_pm.wg);
}

static void pinmany_busy(void *arg) {
    (void)arg;
    while (ALOAD(&g_pm.done) < NPINNED) {
        spin_for(50 * GN_MICROSECOND);
        gn_yield();
    }
    gn_waitgroup_done(&g_pm.wg);
}

static void pinmany_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_pm.wg, NPINNED + 2);
    for (int i = 0; i < NPINNED; i++) gn_go(pinmany_worker, (void *)(intptr_t)i);
    gn_go(pinmany_busy, NULL);
    gn_go(pinmany_busy, NULL);
    gn_waitgroup_wait(&g_pm.wg);
}

TEST pin_many_at_once(void) {
    memset(&g_pm, 0, sizeof g_pm);
    EQ(0, run_procs(2, pinmany_body, NULL));
    EQ(NPINNED, g_pm.done);
    for (int i = 0; i < NPINNED; i++) {
        EQ(0, g_pm.rc[i]);
        CHECKF(g_pm.moved[i] == 0, "pinned coroutine %d moved %d times", i, g_pm.moved[i]);
        for (int j = 0; j < i; j++)
            CHECKF(!pthread_equal(g_pm.at_barrier[i], g_pm.at_barrier[j]),
                   "pinned coroutines %d and %d share a thread", i, j);
    }
    PASS();
}

/* A coroutine that exits pinned releases its thread; the main one may return pinned. */
typedef struct { int count; gn_waitgroup wg; } pinexit_t;
static pinexit_t g_pe;

static void pinexit_pinned(void *arg) {
    (void)arg;
    gn_pin();
    gn_pin();
    gn_sleep(MS);
    gn_waitgroup_done(&g_pe.wg);   /* exits with its pin held */
}

static void pinexit_worker(void *arg) {
    (void)arg;
    gn_sleep(100 * GN_MICROSECOND);
    gn_yield();
    AADD(&g_pe.count, 1);
    gn_waitgroup_done(&g_pe.wg);
}

static void pinexit_body(void *arg) {
    int n = (int)(intptr_t)arg;
    gn_waitgroup_add(&g_pe.wg, 8);
    for (int i = 0; i < 8; i++) gn_go(pinexit_pinned, NULL);
    gn_waitgroup_wait(&g_pe.wg);
    gn_waitgroup_add(&g_pe.wg, n);
    for (int i = 0; i < n; i++) gn_go(pinexit_worker, NULL);
    gn_waitgroup_wait(&g_pe.wg);
    gn_pin();   /* and return pinned */
    gn_sleep(MS);
}

TEST pin_exit_while_pinned(void) {
    memset(&g_pe, 0, sizeof g_pe);
    int n = scaled(2000);
    EQ(0, run_procs(2, pinexit_body, (void *)(intptr_t)n));
    EQ(n, g_pe.count);
    basic_t b;
    memset(&b, 0, sizeof b);
    EQ(0, run_procs(2, basic_body, &b));
    EQ(1, b.ran);
    PASS();
}

/* ==== blocking calls ====================================================================== */
typedef struct {
    int stop, ticks, ticks_before, ticks_after, errno_after;
    int64_t id_before, id_after, blocked_for;
    gn_stats st;
    gn_waitgroup wg;
} blk_t;
static blk_t g_blk;

static void blk_ticker(void *arg) {
    (void)arg;
    while (!ALOAD(&g_blk.stop)) {
        gn_sleep(MS);
        AADD(&g_blk.ticks, 1);
    }
    gn_waitgroup_done(&g_blk.wg);
}

static void blk_blocker(void *arg) {
    (void)arg;
    gn_sleep(5 * MS);   /* the ticker is going */
    g_blk.id_before = gn_id();
    errno_set(ERRNO_MAGIC);
    g_blk.ticks_before = ALOAD(&g_blk.ticks);
    int64_t t0 = gn_now();
    gn_blocking(usleep_fn, (void *)(intptr_t)200000);
    g_blk.blocked_for = gn_now() - t0;
    g_blk.ticks_after = ALOAD(&g_blk.ticks);
    g_blk.errno_after = errno_get();
    g_blk.id_after = gn_id();
    ASTORE(&g_blk.stop, 1);
    gn_waitgroup_done(&g_blk.wg);
}

static void blk_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_blk.wg, 2);
    gn_go(blk_ticker, NULL);
    gn_go(blk_blocker, NULL);
    gn_waitgroup_wait(&g_blk.wg);
    gn_stats_read(&g_blk.st);
}

TEST blocking_call_keeps_others_running(void) {
    memset(&g_blk, 0, sizeof g_blk);
    EQ(0, run_procs(1, blk_body, NULL));
    CHECKF(g_blk.blocked_for >= 200 * MS, "the blocking call took %lld ms",
           (long long)(g_blk.blocked_for / MS));
    int during = g_blk.ticks_after - g_blk.ticks_before;
    CHECKF(during > 20, "the other coroutine ticked %d times during a 200 ms blocking call", during);
    EQ(g_blk.id_before, g_blk.id_after);
    EQ(ERRNO_MAGIC, g_blk.errno_after);
    CHECKF(g_blk.st.blocking_calls >= 1, "blocking_calls %lld", (long long)g_blk.st.blocking_calls);
    CHECKF(g_blk.st.handoffs >= 1, "handoffs %lld", (long long)g_blk.st.handoffs);
    CHECKF(g_blk.st.threads >= 2, "threads %lld", (long long)g_blk.st.threads);
    PASS();
}

/* Many coroutines in and out of blocking sections at once, on 2 Ps.           */
#define BLK_WORKERS 8
typedef struct {
    int rounds, done, stop, ticks, bad_id, bad_errno;
    gn_stats st;
    gn_waitgroup wg;
} blkmany_t;
static blkmany_t g_bm;

static void bm_worker(void *arg) {
    int me = (int)(intptr_t)arg;
    int64_t id = gn_id();
    for (int i = 0; i < g_bm.rounds; i++) {
        errno_set(me + 77);
        gn_blocking_enter();
        usleep((useconds_t)(1000 + 500 * (me % 3)));
        gn_blocking_exit();
        if (gn_id() != id) AADD(&g_bm.bad_id, 1);
        if (errno_get() != me + 77) AADD(&g_bm.bad_errno, 1);
        if (i % 4 == 0) gn_yield();
    }
    AADD(&g_bm.done, 1);
    gn_waitgroup_done(&g_bm.wg);
}

static void bm_ticker(void *arg) {
    (void)arg;
    while (ALOAD(&g_bm.done) < BLK_WORKERS) {
        gn_sleep(MS);
        AADD(&g_bm.ticks, 1);
    }
    gn_waitgroup_done(&g_bm.wg);
}

static void bm_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_bm.wg, BLK_WORKERS + 1);
    for (int i = 0; i < BLK_WORKERS; i++) gn_go(bm_worker, (void *)(intptr_t)i);
    gn_go(bm_ticker, NULL);
    gn_waitgroup_wait(&g_bm.wg);
    gn_stats_read(&g_bm.st);
}

TEST blocking_enter_exit_many(void) {
    memset(&g_bm, 0, sizeof g_bm);
    g_bm.rounds = scaled(40);
    EQ(0, run_procs(2, bm_body, NULL));
    EQ(BLK_WORKERS, g_bm.done);
    EQ(0, g_bm.bad_id);
    EQ(0, g_bm.bad_errno);
    CHECKF(g_bm.ticks > 0, "the ticker never ran");
    EQ((int64_t)BLK_WORKERS * g_bm.rounds, g_bm.st.blocking_calls);
    PASS();
}

/* The canonical use of a blocking section: a syscall fails inside it and its
 * errno is read after gn_blocking_exit. Many coroutines leave their sections
 * at once, so the runtime's locks in gn_blocking_exit are contended.          */
#define EB_WORKERS 16
typedef struct { int rounds, checks, bad, last_bad, done; long spawned, ran; gn_waitgroup wg; } eb_t;
static eb_t g_eb;

static void eb_worker(void *arg) {
    int me = (int)(intptr_t)arg;
    char c;
    for (int i = 0; i < g_eb.rounds; i++) {
        gn_blocking_enter();
        if ((i + me) % 4 == 0) usleep(200);
        ssize_t r = read(-1, &c, 1);   /* fails: EBADF */
        gn_blocking_exit();
        int e = errno_get();
        AADD(&g_eb.checks, 1);
        if (r != -1 || e != EBADF) {
            AADD(&g_eb.bad, 1);
            ASTORE(&g_eb.last_bad, e);
        }
        if (i % 8 == 0) gn_yield();
    }
    AADD(&g_eb.done, 1);
    gn_waitgroup_done(&g_eb.wg);
}

static void eb_noop(void *arg) { (void)arg; AADD(&g_eb.ran, 1); }

/* Foreign threads spawning keep the scheduler's lock busy. At most 256 of their
 * coroutines wait at a time: unbounded, a slow switch (the ucontext build on a
 * loaded machine) lets the global queue grow without end and starve the
 * workers, which is a test of patience, not of errno.                         */
static void *eb_spammer(void *arg) {
    (void)arg;
    while (ALOAD(&g_eb.done) < EB_WORKERS) {
        if (ALOAD(&g_eb.spawned) - ALOAD(&g_eb.ran) < 256) {
            if (gn_go(eb_noop, NULL) > 0) AADD(&g_eb.spawned, 1);
        } else {
            sched_yield();
        }
        if (ALOAD(&g_eb.checks) % 64 == 0) sched_yield();
    }
    return NULL;
}

static void eb_body(void *arg) {
    (void)arg;
    pthread_t t[2];
    int nt = 0;
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[nt], NULL, eb_spammer, NULL) == 0) nt++;
    gn_waitgroup_add(&g_eb.wg, EB_WORKERS);
    for (int i = 0; i < EB_WORKERS; i++) gn_go(eb_worker, (void *)(intptr_t)i);
    gn_waitgroup_wait(&g_eb.wg);
    for (int i = 0; i < nt; i++) join_blocking(t[i]);
}

TEST blocking_exit_keeps_syscall_errno(void) {
    memset(&g_eb, 0, sizeof g_eb);
    g_eb.rounds = scaled(2000);
    EQ(0, run_procs(2, eb_body, NULL));
    EQ(EB_WORKERS, g_eb.done);
    CHECKF(g_eb.bad == 0, "errno after gn_blocking_exit was not the syscall's EBADF in %d of %d "
           "cases (last seen: %d, %s)", g_eb.bad, g_eb.checks, g_eb.last_bad, strerror(g_eb.last_bad));
    PASS();
}

/* Nesting, NULL, and use outside a coroutine.                                  */
typedef struct { int ran_outside, ran_inside, ran_nested; gn_stats st; } blkmisc_t;

static void set_flag(void *arg) { ASTORE((int *)arg, 1); }

static void blkmisc_body(void *arg) {
    blkmisc_t *s = (blkmisc_t *)arg;
    gn_blocking(NULL, NULL);
    gn_blocking(set_flag, &s->ran_inside);
    gn_blocking_enter();
    gn_blocking_enter();
    usleep(2000);
    gn_blocking(set_flag, &s->ran_nested);
    gn_blocking_exit();
    usleep(2000);
    gn_blocking_exit();
    gn_blocking_exit();   /* unmatched: ignored */
    gn_yield();
    gn_sleep(MS);         /* the coroutine still switches normally afterwards */
    gn_stats_read(&s->st);
}

TEST blocking_nesting_and_outside(void) {
    blkmisc_t s;
    memset(&s, 0, sizeof s);
    gn_blocking_enter();
    gn_blocking_exit();
    gn_blocking_exit();
    gn_blocking(set_flag, &s.ran_outside);
    gn_blocking(NULL, NULL);
    EQ(1, s.ran_outside);
    EQ(0, run_procs(1, blkmisc_body, &s));
    EQ(1, s.ran_inside);
    EQ(1, s.ran_nested);
    CHECKF(s.st.blocking_calls >= 2, "blocking_calls %lld", (long long)s.st.blocking_calls);
    PASS();
}

/* The monitor counts a coroutine that runs 50 ms without a switch.            */
typedef struct { gn_stats st; int64_t spun; } long_t;

static void long_spinner(void *arg) {
    long_t *s = (long_t *)arg;
    int64_t t0 = gn_now();
    spin_for(50 * MS);
    ASTORE(&s->spun, gn_now() - t0);
}

static void long_body(void *arg) {
    long_t *s = (long_t *)arg;
    gn_go(long_spinner, s);
    int64_t end = gn_now() + 10 * GN_SECOND;
    while (ALOAD(&s->spun) == 0 && gn_now() < end) gn_sleep(MS);
    gn_stats_read(&s->st);
}

TEST long_runner_counted(void) {
    long_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(2, long_body, &s));
    CHECKF(s.spun >= 50 * MS, "spun %lld ms", (long long)(s.spun / MS));
    CHECKF(s.st.long_runners >= 1, "long_runners %lld after a 50 ms spin",
           (long long)s.st.long_runners);
    PASS();
}

TEST long_runner_without_monitor(void) {
    long_t s;
    memset(&s, 0, sizeof s);
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 2;
    cfg.sysmon = -1;
    EQ(0, gn_run(&cfg, long_body, &s));
    CHECKF(s.spun >= 50 * MS, "spun %lld ms", (long long)(s.spun / MS));
    EQ(0, s.st.long_runners);   /* nobody watches */
    PASS();
}

/* ==== sleeping ============================================================================== */
typedef struct {
    int64_t slept, slept_until, deadline, woke_until;
    int rc_sleep, rc_until, rc_zero, rc_neg, rc_min, rc_past, rc_zero_deadline;
    int64_t parks_before, parks_after, sw_before, sw_after, quick;
} sleep_t;

static void sleep_body(void *arg) {
    sleep_t *s = (sleep_t *)arg;
    int64_t t0 = gn_now();
    s->rc_sleep = gn_sleep(20 * MS);
    s->slept = gn_now() - t0;
    s->deadline = gn_now() + 20 * MS;
    s->rc_until = gn_sleep_until(s->deadline);
    s->woke_until = gn_now();

    gn_stats st;
    gn_stats_read(&st);
    s->parks_before = st.parks;
    s->sw_before = st.context_switches;
    t0 = gn_now();
    s->rc_zero = gn_sleep(0);
    s->rc_neg = gn_sleep(-5 * MS);
    s->rc_min = gn_sleep(INT64_MIN);
    s->rc_past = gn_sleep_until(gn_now() - GN_SECOND);
    s->rc_zero_deadline = gn_sleep_until(0);
    s->quick = gn_now() - t0;
    gn_stats_read(&st);
    s->parks_after = st.parks;
    s->sw_after = st.context_switches;
}

TEST sleep_basics(void) {
    sleep_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(2, sleep_body, &s));
    EQ(0, s.rc_sleep);
    CHECKF(s.slept >= 20 * MS, "gn_sleep(20 ms) slept %lld us", (long long)(s.slept / 1000));
    EQ(0, s.rc_until);
    CHECKF(s.woke_until >= s.deadline, "gn_sleep_until woke %lld us early",
           (long long)((s.deadline - s.woke_until) / 1000));
    EQ(0, s.rc_zero);
    EQ(0, s.rc_neg);
    EQ(0, s.rc_min);
    EQ(0, s.rc_past);
    EQ(0, s.rc_zero_deadline);
    CHECKF(s.parks_after == s.parks_before, "sleeps of <= 0 parked %lld times",
           (long long)(s.parks_after - s.parks_before));
    CHECKF(s.sw_after == s.sw_before, "sleeps of <= 0 switched %lld times",
           (long long)(s.sw_after - s.sw_before));
    CHECKF(s.quick < 100 * MS, "sleeps of <= 0 took %lld ms", (long long)(s.quick / MS));
    PASS();
}

/* Outside a coroutine gn_sleep sleeps the thread: with no runtime, and on a
 * foreign thread while a runtime runs.                                        */
typedef struct { int64_t slept; int rc, thread_rc; } tsleep_t;

static void *tsleep_thread(void *arg) {
    tsleep_t *s = (tsleep_t *)arg;
    int64_t t0 = gn_now();
    s->rc = gn_sleep(15 * MS);
    s->slept = gn_now() - t0;
    return NULL;
}

static void tsleep_body(void *arg) {
    tsleep_t *s = (tsleep_t *)arg;
    pthread_t t;
    s->thread_rc = pthread_create(&t, NULL, tsleep_thread, s);
    if (s->thread_rc == 0) join_blocking(t);
}

TEST sleep_outside_coroutine(void) {
    int64_t t0 = gn_now();
    EQ(0, gn_sleep(15 * MS));
    int64_t slept = gn_now() - t0;
    CHECKF(slept >= 15 * MS, "slept %lld us", (long long)(slept / 1000));
    t0 = gn_now();
    int64_t dl = t0 + 10 * MS;
    EQ(0, gn_sleep_until(dl));
    CHECKF(gn_now() >= dl, "gn_sleep_until outside woke early");
    EQ(0, gn_sleep(0));
    EQ(0, gn_sleep(-1));
    EQ(0, gn_sleep_until(1));

    tsleep_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(1, tsleep_body, &s));
    EQ(0, s.thread_rc);
    EQ(0, s.rc);
    CHECKF(s.slept >= 15 * MS, "a foreign thread slept %lld us", (long long)(s.slept / 1000));
    PASS();
}

/* Sleeps "forever" do not wrap around into the past and return at once.      */
typedef struct { int returned[3]; } huge_t;
static huge_t g_huge;

static void huge_sleeper(void *arg) {
    int which = (int)(intptr_t)arg;
    if (which == 0) gn_sleep(INT64_MAX);
    else if (which == 1) gn_sleep_until(INT64_MAX);
    else gn_sleep(INT64_MAX - gn_now() / 2);
    ASTORE(&g_huge.returned[which], 1);
}

static void huge_body(void *arg) {
    (void)arg;
    for (int i = 0; i < 3; i++) gn_go(huge_sleeper, (void *)(intptr_t)i);
    gn_sleep(100 * MS);   /* and then return, dropping the sleepers */
}

static int huge_child(void) {
    memset(&g_huge, 0, sizeof g_huge);
    int rc = run_procs(2, huge_body, NULL);
    CHILD_CHECK(rc == 0, "gn_run returned %d", rc);
    CHILD_CHECK(!g_huge.returned[0], "gn_sleep(INT64_MAX) returned at once");
    CHILD_CHECK(!g_huge.returned[1], "gn_sleep_until(INT64_MAX) returned at once");
    CHILD_CHECK(!g_huge.returned[2], "gn_sleep(INT64_MAX - now/2) returned at once");
    return 0;
}

TEST sleep_huge_durations(void) {
    CHECK_CALL(isolated(huge_child, 20));
    PASS();
}

/* A runtime whose coroutines all sleep uses (almost) no CPU.                  */
typedef struct { int64_t cpu, wall; } idle_t;

static int64_t cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * GN_SECOND + ts.tv_nsec;
}

static void idle_sleeper(void *arg) {
    (void)arg;
    gn_sleep(2 * GN_SECOND);
}

static void idle_body(void *arg) {
    idle_t *s = (idle_t *)arg;
    for (int i = 0; i < 8; i++) gn_go(idle_sleeper, NULL);
    gn_sleep(50 * MS);   /* let the threads settle */
    int64_t c0 = cpu_now(), w0 = gn_now();
    gn_sleep(400 * MS);
    s->cpu = cpu_now() - c0;
    s->wall = gn_now() - w0;
}

TEST idle_runtime_does_not_spin(void) {
    idle_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(4, idle_body, &s));
    CHECKF(s.cpu < s.wall / 4, "an idle runtime used %lld ms of CPU in %lld ms",
           (long long)(s.cpu / MS), (long long)(s.wall / MS));
    PASS();
}

/* Sleeps of a few microseconds, mostly with every other coroutine asleep too:
 * the M that blocks in the poller computes its timeout when the next timer is
 * due within nanoseconds, again and again. A wrong timeout there (negative, so
 * "forever") leaves every coroutine asleep for good: run in a child, so that
 * such a hang fails this test instead of stopping the program.                 */
#define TINY_G 4
typedef struct { int rounds, done; gn_waitgroup wg; } tiny_t;
static tiny_t g_tiny;

static void tiny_sleeper(void *arg) {
    uint32_t r = (uint32_t)(intptr_t)arg * 2654435761u + 1;
    for (int i = 0; i < g_tiny.rounds; i++) {
        r = r * 1103515245u + 12345u;
        gn_sleep((int64_t)(1 + (r >> 16) % 8) * GN_MICROSECOND);
    }
    AADD(&g_tiny.done, 1);
    gn_waitgroup_done(&g_tiny.wg);
}

static void tiny_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_tiny.wg, TINY_G);
    for (int i = 0; i < TINY_G; i++) gn_go(tiny_sleeper, (void *)(intptr_t)i);
    gn_waitgroup_wait(&g_tiny.wg);
}

static int tiny_child(void) {
    memset(&g_tiny, 0, sizeof g_tiny);
    g_tiny.rounds = scaled(20000);
    int rc = run_procs(2, tiny_body, NULL);
    CHILD_CHECK(rc == 0, "gn_run returned %d", rc);
    CHILD_CHECK(g_tiny.done == TINY_G, "%d of %d sleepers finished", g_tiny.done, TINY_G);
    return 0;
}

TEST sleep_tiny_no_lost_wakeup(void) {
    CHECK_CALL(isolated(tiny_child, 30));
    PASS();
}

/* Many sleepers: every one wakes, never before its deadline.                   */
typedef struct {
    int n, woke, early, errors, random;
    int64_t *late;
    gn_waitgroup wg;
} many_sleep_t;
static many_sleep_t g_ms;

static void ms_sleeper(void *arg) {
    int i = (int)(intptr_t)arg;
    int64_t d = MS, t0 = gn_now(), deadline;
    int rc;
    if (g_ms.random) {
        uint32_t r = (uint32_t)i * 2654435761u;
        r ^= r >> 15;
        d = (1 + (int64_t)(r % 20)) * MS;   /* 1..20 ms */
        deadline = t0 + d;
        rc = (i % 2) ? gn_sleep_until(deadline) : gn_sleep(d);
    } else {
        deadline = t0 + d;
        rc = gn_sleep(d);
    }
    int64_t now = gn_now();
    if (rc != 0) AADD(&g_ms.errors, 1);
    if (now < deadline) AADD(&g_ms.early, 1);
    g_ms.late[i] = now - deadline;
    AADD(&g_ms.woke, 1);
    gn_waitgroup_done(&g_ms.wg);
}

static void ms_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_ms.wg, g_ms.n);
    for (int i = 0; i < g_ms.n; i++)
        if (gn_go(ms_sleeper, (void *)(intptr_t)i) <= 0) {
            AADD(&g_ms.errors, 1);
            gn_waitgroup_done(&g_ms.wg);
        }
    gn_waitgroup_wait(&g_ms.wg);
}

static enum greatest_test_res check_many_sleepers(int n, int random, int64_t median_bound) {
    memset(&g_ms, 0, sizeof g_ms);
    g_ms.n = n;
    g_ms.random = random;
    g_ms.late = (int64_t *)calloc((size_t)n, sizeof(int64_t));
    ASSERT(g_ms.late != NULL);
    int rc = run_procs(2, ms_body, NULL);
    qsort(g_ms.late, (size_t)n, sizeof(int64_t), cmp_i64);
    int64_t median = g_ms.late[n / 2], worst = g_ms.late[n - 1];
    free(g_ms.late);
    EQ(0, rc);
    EQ(0, g_ms.errors);
    EQ(n, g_ms.woke);
    CHECKF(g_ms.early == 0, "%d sleepers woke before their deadline", g_ms.early);
    CHECKF(median < median_bound, "median lateness %lld us (worst %lld us)",
           (long long)(median / 1000), (long long)(worst / 1000));
    if (GREATEST_IS_VERBOSE())
        printf("    %d sleepers: median lateness %lld us, worst %lld us\n", n,
               (long long)(median / 1000), (long long)(worst / 1000));
    PASS();
}

TEST sleep_10k_concurrent(void) {
    CHECK_CALL(check_many_sleepers(scaled(10000), 0, 50 * MS));
    PASS();
}

TEST sleep_random_deadlines(void) {
    CHECK_CALL(check_many_sleepers(g_small ? 300 : 1000, 1, 50 * MS));
    PASS();
}

/* ==== stacks ==================================================================================== */
typedef struct { int ok_custom, ok_cfg, ok_cfg_child, ok_small, ran; int64_t rc_custom, rc_small; } stk_t;

/* Uses about `bytes` of stack, touching both ends of a big local array.       */
static T_NOINLINE int use_stack_200k(void) {
    volatile char buf[200 * 1024];
    buf[0] = 1;
    buf[sizeof buf - 1] = 2;
    buf[sizeof buf / 2] = 3;
    return buf[0] + buf[sizeof buf - 1] + buf[sizeof buf / 2];
}
static T_NOINLINE int use_stack_600k(void) {
    volatile char buf[600 * 1024];
    buf[0] = 1;
    buf[sizeof buf - 1] = 2;
    return buf[0] + buf[sizeof buf - 1];
}
static volatile int g_recurse_forever = 1;
static T_NOINLINE int recurse(int depth, int limit) {
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[sizeof frame - 1] = (char)depth;
    if (g_recurse_forever && (limit < 0 || depth < limit))
        return recurse(depth + 1, limit) + frame[0] + frame[sizeof frame - 1];
    return frame[0];
}

static void stk_custom(void *arg) { ASTORE(&((stk_t *)arg)->ok_custom, use_stack_200k() == 6); }
static void stk_small(void *arg) {
    recurse(0, 8);   /* ~5 KB */
    ASTORE(&((stk_t *)arg)->ok_small, 1);
}
static void stk_cfg_child(void *arg) { ASTORE(&((stk_t *)arg)->ok_cfg_child, use_stack_600k() == 3); }

static void stk_body(void *arg) {
    stk_t *s = (stk_t *)arg;
    gn_go_opts o;
    memset(&o, 0, sizeof o);
    o.stack_size = 512 * 1024;
    s->rc_custom = gn_go_with(stk_custom, s, &o);
    o.stack_size = 16 * 1024;
    s->rc_small = gn_go_with(stk_small, s, &o);
    int64_t end = gn_now() + 10 * GN_SECOND;
    while ((!ALOAD(&s->ok_custom) || !ALOAD(&s->ok_small)) && gn_now() < end) gn_sleep(MS);
}

static void stk_cfg_body(void *arg) {
    stk_t *s = (stk_t *)arg;
    s->ok_cfg = use_stack_600k() == 3;   /* the main coroutine has the big default too */
    gn_go(stk_cfg_child, s);
    int64_t end = gn_now() + 10 * GN_SECOND;
    while (!ALOAD(&s->ok_cfg_child) && gn_now() < end) gn_sleep(MS);
}

TEST stack_custom_sizes(void) {
    stk_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(2, stk_body, &s));
    CHECKF(s.rc_custom > 0, "gn_go_with(512 KiB) returned %lld", (long long)s.rc_custom);
    CHECKF(s.rc_small > 0, "gn_go_with(16 KiB) returned %lld", (long long)s.rc_small);
    EQ(1, s.ok_custom);
    EQ(1, s.ok_small);

    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 2;
    cfg.stack_size = 1024 * 1024;
    memset(&s, 0, sizeof s);
    EQ(0, gn_run(&cfg, stk_cfg_body, &s));
    EQ(1, s.ok_cfg);
    EQ(1, s.ok_cfg_child);
    PASS();
}

static void overflow_coroutine(void *arg) {
    (void)arg;
    fprintf(stderr, "child coroutine id=%lld\n", (long long)gn_id());
    fflush(stderr);
    recurse(0, -1);
}

static void overflow_body(void *arg) {
    (void)arg;
    gn_go(overflow_coroutine, NULL);
    gn_sleep(20 * GN_SECOND);
}

static void overflow_child(void) {
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 2;
    cfg.stack_guard = 1;
    gn_run(&cfg, overflow_body, NULL);
    fprintf(stderr, "child: gn_run returned\n");
}

static void overflow_main_body(void *arg) {
    (void)arg;
    fprintf(stderr, "child coroutine id=%lld\n", (long long)gn_id());
    fflush(stderr);
    recurse(0, -1);
}

static void overflow_main_child(void) {
    gn_main(overflow_main_body, NULL);
    fprintf(stderr, "child: gn_main returned\n");
}

static enum greatest_test_res check_overflow(void (*child)(void)) {
    if (k_asan) SKIPm("AddressSanitizer reports stack overflows itself");
    static char out[16384];
    int status = 0;
    ASSERT_EQ(0, run_child(child, out, sizeof out, &status));
    long long id = -1;
    const char *p = strstr(out, "child coroutine id=");
    if (p) id = atoll(p + strlen("child coroutine id="));
    CHECKF(id > 0, "the child printed no coroutine id; stderr:\n%.300s", out);
    char want[96];
    snprintf(want, sizeof want, "stack overflow in coroutine %lld", id);
    CHECKF(strstr(out, want) != NULL, "no \"%s\" in the child's stderr:\n%.300s", want, out);
    CHECKF(died_of_segv(status), "the child did not die of the fault (status 0x%x); stderr:\n%.1500s",
           status, out);
    PASS();
}

TEST stack_overflow_reported(void) { CHECK_CALL(check_overflow(overflow_child)); PASS(); }
TEST stack_overflow_in_main_coroutine(void) { CHECK_CALL(check_overflow(overflow_main_child)); PASS(); }

/* A fault that is not an overflow goes on to the previous handler (or kills). */
static void null_body(void *arg) {
    (void)arg;
    gn_sleep(MS);
    volatile int *volatile p = NULL;
    *p = 1;
}
static void null_child(void) {
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 2;
    gn_run(&cfg, null_body, NULL);
}
#ifdef _WIN32
/* The user's handler on Windows: a vectored exception handler of its own,
 * added before gn_run's, which must still see the fault after the runtime's.  */
static LONG WINAPI user_segv(EXCEPTION_POINTERS *ep) {
    if (ep->ExceptionRecord->ExceptionCode != EXCEPTION_ACCESS_VIOLATION) return EXCEPTION_CONTINUE_SEARCH;
    static const char msg[] = "user handler ran\n";
    DWORD w;
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), msg, sizeof msg - 1, &w, NULL);
    TerminateProcess(GetCurrentProcess(), 42);
    return EXCEPTION_CONTINUE_SEARCH;
}
static void null_user_child(void) {
    AddVectoredExceptionHandler(1, user_segv);
    null_child();
}
#else
static void user_segv(int sig, siginfo_t *info, void *uc) {
    (void)sig;
    (void)info;
    (void)uc;
    static const char msg[] = "user handler ran\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(42);
}
static void null_user_child(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = user_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    null_child();
}
#endif

TEST segv_not_overflow_passes_through(void) {
    if (k_asan) SKIPm("AddressSanitizer handles SIGSEGV itself");
    static char out[16384];
    int status = 0;
    ASSERT_EQ(0, run_child(null_child, out, sizeof out, &status));
    CHECKF(strstr(out, "stack overflow") == NULL, "a NULL write was reported as an overflow:\n%.300s", out);
    CHECKF(died_of_segv(status), "the child did not die of SIGSEGV (status 0x%x)", status);
    ASSERT_EQ(0, run_child(null_user_child, out, sizeof out, &status));
    CHECKF(strstr(out, "user handler ran") != NULL, "the user's handler did not run:\n%.300s", out);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 42, "child status 0x%x", status);
    PASS();
}

/* Guard modes. -1: slab-allocated stacks, few mappings; 1: a guard page (two
 * mappings) per stack. Counted in /proc/self/maps while all are alive.         */
#ifdef _WIN32
/* Windows: the regions of like pages (VirtualQuery); a guard page splits its
 * stack's committed range in two, as mprotect splits a mapping.             */
static int count_maps(void) {
    int n = 0;
    MEMORY_BASIC_INFORMATION mi;
    for (char *a = NULL; VirtualQuery(a, &mi, sizeof mi) == sizeof mi; a = (char *)mi.BaseAddress + mi.RegionSize) {
        if (mi.State != MEM_FREE) n++;
        if ((char *)mi.BaseAddress + mi.RegionSize < a) break;
    }
    return n;
}
/* Bytes committed in the process: what Windows charges against RAM plus page
 * file, which stacks only take as they grow.                                 */
static int64_t committed_bytes(void) {
    int64_t n = 0;
    MEMORY_BASIC_INFORMATION mi;
    for (char *a = NULL; VirtualQuery(a, &mi, sizeof mi) == sizeof mi; a = (char *)mi.BaseAddress + mi.RegionSize) {
        if (mi.State == MEM_COMMIT) n += (int64_t)mi.RegionSize;
        if ((char *)mi.BaseAddress + mi.RegionSize < a) break;
    }
    return n;
}
#else
static int64_t committed_bytes(void) { return -1; }   /* Linux overcommits: nothing to count */
static int count_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    int n = 0, c;
    while ((c = getc(f)) != EOF)
        if (c == '\n') n++;
    fclose(f);
    return n;
}
#endif
static void count_maps_fn(void *arg) { *(int *)arg = count_maps(); }
static void committed_fn(void *arg) { *(int64_t *)arg = committed_bytes(); }

typedef struct {
    int n, started, woke, errors, maps_before, maps_during, all_started;
    int64_t wake_at, commit_before, commit_during;
    gn_waitgroup wg;
} guard_t;
static guard_t g_guard;

static void guard_sleeper(void *arg) {
    (void)arg;
    volatile char touch[2048];
    touch[0] = 1;
    touch[sizeof touch - 1] = touch[0];
    AADD(&g_guard.started, 1);
    if (gn_sleep_until(g_guard.wake_at) != 0) AADD(&g_guard.errors, 1);
    AADD(&g_guard.woke, 1);
    gn_waitgroup_done(&g_guard.wg);
}

static void guard_body(void *arg) {
    (void)arg;
    gn_blocking(count_maps_fn, &g_guard.maps_before);
    gn_blocking(committed_fn, &g_guard.commit_before);
    g_guard.wake_at = gn_now() + 2 * GN_SECOND;
    gn_waitgroup_add(&g_guard.wg, g_guard.n);
    for (int i = 0; i < g_guard.n; i++)
        if (gn_go(guard_sleeper, NULL) <= 0) {
            AADD(&g_guard.errors, 1);
            gn_waitgroup_done(&g_guard.wg);
        }
    g_guard.all_started = wait_count(&g_guard.started, g_guard.n - ALOAD(&g_guard.errors),
                                     30 * GN_SECOND);
    gn_blocking(count_maps_fn, &g_guard.maps_during);
    gn_blocking(committed_fn, &g_guard.commit_during);
    gn_waitgroup_wait(&g_guard.wg);
}

static enum greatest_test_res run_guard(int mode, int n) {
    memset(&g_guard, 0, sizeof g_guard);
    g_guard.n = n;
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 2;
    cfg.stack_guard = mode;
    EQ(0, gn_run(&cfg, guard_body, NULL));
    EQ(0, g_guard.errors);
    ASSERTm("not all sleepers started", g_guard.all_started);
    EQ(n, g_guard.woke);
    ASSERT(g_guard.maps_before > 0 && g_guard.maps_during > 0);
    if (GREATEST_IS_VERBOSE())
        printf("    stack_guard=%d, %d coroutines: %d -> %d mappings\n", mode, n,
               g_guard.maps_before, g_guard.maps_during);
    PASS();
}

/* Windows commits a stack as it grows (os_windows.c): a coroutine that touched
 * 2 KiB of its 64 KiB holds the first 8 KiB and the growth guard, and with an
 * overflow guard its two pages, 12 or 20 KiB where a whole stack and its guard
 * took 76. The bound leaves room for what the rest of the process commits
 * meanwhile (about 5 MiB under wine, spread over as few as 500 stacks).      */
static enum greatest_test_res check_commit_per_stack(int n) {
    if (g_guard.commit_before < 0) PASS();
    int64_t each = (g_guard.commit_during - g_guard.commit_before) / n;
    if (GREATEST_IS_VERBOSE()) printf("    %lld bytes committed per stack\n", (long long)each);
    CHECKF(each < 40 * 1024, "%d stacks committed %lld bytes each", n, (long long)each);
    PASS();
}

TEST stack_guard_never_slabs(void) {
    int n = scaled(20000);
    CHECK_CALL(run_guard(-1, n));
    int grew = g_guard.maps_during - g_guard.maps_before;
    /* ThreadSanitizer maps memory of its own for every fiber: count only without
     * it. Windows has no limit on mappings, and a stack that grows page by page
     * is three regions there; what it counts is commit.                       */
#ifdef _WIN32
    (void)grew;
    CHECK_CALL(check_commit_per_stack(n));
#else
    if (!k_tsan) CHECKF(grew < n / 8, "%d slab stacks added %d mappings", n, grew);
#endif
    PASS();
}

#ifdef _WIN32
/* The TIB's StackLimit follows a stack's growth, also into a coroutine that
 * reuses a grown stack: the system lowers it only on a guard-page touch, and
 * pages grown before are touched without one. A frame below StackLimit is one
 * the unwinder rejects and MSVC's stack probe misjudges.                     */
static struct { int below, runs; gn_waitgroup wg; } g_sl;

static T_NOINLINE int sl_dive(int depth) {
    volatile char pad[1024];
    pad[0] = (char)depth;
    char *limit;   /* NT_TIB's StackLimit: NtCurrentTeb() trips gcc's -Warray-bounds */
    __asm__ volatile("movq %%gs:0x10, %0" : "=r"(limit));
    if ((char *)pad < limit) g_sl.below++;
    int r = depth > 0 ? sl_dive(depth - 1) : 0;
    return r + pad[0];
}
static void sl_co(void *arg) {
    sl_dive((int)(intptr_t)arg);
    g_sl.runs++;
    gn_waitgroup_done(&g_sl.wg);
}
static void sl_body(void *arg) {
    (void)arg;
    /* Deep, shallow, deep: with one P each coroutine takes the last one's stack. */
    for (int i = 0; i < 60; i++) {
        gn_waitgroup_add(&g_sl.wg, 1);
        gn_go(sl_co, (void *)(intptr_t)(i % 3 == 1 ? 2 : 40));
        gn_waitgroup_wait(&g_sl.wg);
    }
}
TEST stack_limit_follows_growth(void) {
    memset(&g_sl, 0, sizeof g_sl);
    EQ(0, run_procs(1, sl_body, NULL));
    EQ(60, g_sl.runs);
    CHECKF(g_sl.below == 0, "%d frames lay below the TIB's StackLimit", g_sl.below);
    PASS();
}
#endif

TEST stack_guard_always(void) {
    int n = scaled(5000);
    CHECK_CALL(run_guard(1, n));
    int grew = g_guard.maps_during - g_guard.maps_before;
    CHECKF(grew >= n, "%d guarded stacks added only %d mappings", n, grew);
    CHECK_CALL(check_commit_per_stack(n));
    PASS();
}

/* Default mode: guarded while the vm.max_map_count budget lasts, slabs beyond. */
TEST stack_guard_default_beyond_budget(void) {
    if (g_small) SKIPm("heavy: runs at full scale only");
#ifdef _WIN32
    SKIPm("Windows has no limit on mappings: every stack is guarded");
#endif
    long max = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max) != 1) max = 65530;
        fclose(f);
    }
    if (max > 100000) SKIPm("vm.max_map_count is large: the budget is not reachable cheaply");
    int n = (int)(max / 2) + 2000;   /* more than max_map_count/2 guarded stacks could fit */
    CHECK_CALL(run_guard(0, n));
    CHECKF(g_guard.maps_during < max, "%d mappings with max_map_count %ld", g_guard.maps_during, max);
    PASS();
}

/* ==== stats =========================================================================================== */
TEST stats_outside_are_zero(void) {
    gn_stats st, zero;
    memset(&st, 0xAB, sizeof st);
    memset(&zero, 0, sizeof zero);
    gn_stats_read(&st);
    ASSERT_MEM_EQ(&zero, &st, sizeof st);
    gn_stats_read(NULL);
    PASS();
}

typedef struct {
    int n, drained, thread_rc, timers_seen;
    int64_t max_timers;
    gn_stats st, during, foreign;
    gn_waitgroup wg;
} stats_t;
static stats_t g_stats;

static void stats_worker(void *arg) {
    int64_t wake_at = *(int64_t *)arg;
    gn_sleep_until(wake_at);
    for (int i = 0; i < 3; i++) gn_yield();
    gn_sleep(MS);
    gn_waitgroup_done(&g_stats.wg);
}

static void *stats_thread(void *arg) {
    (void)arg;
    gn_stats_read(&g_stats.foreign);
    return NULL;
}

static void stats_body(void *arg) {
    (void)arg;
    static int64_t wake_at;
    wake_at = gn_now() + 300 * MS;
    gn_waitgroup_add(&g_stats.wg, g_stats.n);
    for (int i = 0; i < g_stats.n; i++) gn_go(stats_worker, &wake_at);
    /* Yield (not sleep) so that the only timers are the workers'. */
    int64_t end = gn_now() + 5 * GN_SECOND;
    while (gn_now() < end) {
        gn_stats_read(&g_stats.during);
        if (g_stats.during.timers > g_stats.max_timers) g_stats.max_timers = g_stats.during.timers;
        if (g_stats.during.timers == g_stats.n) {
            g_stats.timers_seen = 1;
            break;
        }
        gn_yield();
    }
    pthread_t t;
    g_stats.thread_rc = pthread_create(&t, NULL, stats_thread, NULL);
    if (g_stats.thread_rc == 0) join_blocking(t);
    gn_waitgroup_wait(&g_stats.wg);
    g_stats.drained = wait_goroutines(1, 10 * GN_SECOND);
    gn_stats_read(&g_stats.st);
}

TEST stats_after_workload(void) {
    memset(&g_stats, 0, sizeof g_stats);
    g_stats.n = 200;
    EQ(0, run_procs(2, stats_body, NULL));
    gn_stats *st = &g_stats.st;
    ASSERTm("coroutines did not all exit", g_stats.drained);
    EQ(1, st->goroutines);
    EQ(g_stats.n + 1, st->goroutines_created);
    CHECKF(st->context_switches >= g_stats.n, "context_switches %lld", (long long)st->context_switches);
    CHECKF(st->parks >= 2 * g_stats.n, "parks %lld", (long long)st->parks);
    EQ(2, st->procs);
    CHECKF(st->threads >= 1 && st->threads <= 16, "threads %lld", (long long)st->threads);
    CHECKF(st->threads_idle >= 0 && st->threads_idle <= st->threads, "threads_idle %lld of %lld",
           (long long)st->threads_idle, (long long)st->threads);
    CHECKF(st->steals >= 0, "steals %lld", (long long)st->steals);
    EQ(0, st->timers);   /* every sleep is over */
    CHECKF(st->blocking_calls >= 1, "blocking_calls %lld (join_blocking)", (long long)st->blocking_calls);
    CHECKF(g_stats.timers_seen, "the %d sleepers never showed as %d timers (max seen %lld)",
           g_stats.n, g_stats.n, (long long)g_stats.max_timers);
    EQ(0, g_stats.thread_rc);
    EQ(2, g_stats.foreign.procs);   /* readable from any thread */
    CHECKF(g_stats.foreign.goroutines >= 1, "goroutines seen from a foreign thread: %lld",
           (long long)g_stats.foreign.goroutines);
    gn_stats after;
    gn_stats_read(&after);
    EQ(0, after.goroutines);
    EQ(0, after.procs);
    PASS();
}


/* ==== shutdown races, combinations, chaos ================================================ */

/* Restarting quickly, each run leaving coroutines in every state behind.       */
static void churn_child(void *arg) {
    intptr_t kind = (intptr_t)arg;
    switch (kind % 4) {
    case 0: for (;;) gn_yield();
    case 1: gn_sleep(GN_SECOND); break;
    case 2: gn_blocking(usleep_fn, (void *)(intptr_t)3000); gn_yield(); break;
    default: gn_pin(); gn_sleep(GN_SECOND); break;
    }
}

static void churn_body(void *arg) {
    int *runs = (int *)arg;
    for (int i = 0; i < 40; i++) gn_go(churn_child, (void *)(intptr_t)i);
    gn_sleep(MS);
    (*runs)++;
}

static int churn_child_main(void) {
    int runs = 0, rounds = g_small ? 8 : 30;
    for (int i = 0; i < rounds; i++) {
        int rc = run_procs(1 + i % 3, churn_body, &runs);
        CHILD_CHECK(rc == 0, "run %d returned %d", i, rc);
    }
    CHILD_CHECK(runs == rounds, "%d of %d bodies ran", runs, rounds);
    return 0;
}

TEST restart_churn(void) {
    CHECK_CALL(isolated(churn_child_main, 30));
    PASS();
}

/* Foreign threads that outlive runtimes: one keeps spawning (gn_go answers
 * GN_ESTATE while no runtime runs), one keeps reading the stats ("at any time,
 * from any thread"), while the runtime stops and starts again and again.      */
typedef struct {
    int stop, spawned, estate, other_err, reads, bad_reads, ran;
} fshut_t;
static fshut_t g_fs;

static void fs_child(void *arg) {
    (void)arg;
    AADD(&g_fs.ran, 1);
}

static void *fs_spawner(void *arg) {
    (void)arg;
    while (!ALOAD(&g_fs.stop)) {
        int64_t rc = gn_go(fs_child, NULL);
        if (rc > 0) AADD(&g_fs.spawned, 1);
        else if (rc == GN_ESTATE) AADD(&g_fs.estate, 1);
        else AADD(&g_fs.other_err, 1);
    }
    return NULL;
}

static void *fs_reader(void *arg) {
    (void)arg;
    while (!ALOAD(&g_fs.stop)) {
        gn_stats st;
        gn_stats_read(&st);
        int ng = gn_num_goroutine(), np = gn_procs();
        AADD(&g_fs.reads, 1);
        if (st.procs < 0 || st.goroutines < 0 || ng < 0 || np < 0) AADD(&g_fs.bad_reads, 1);
    }
    return NULL;
}

static void fs_body(void *arg) {
    (void)arg;
    gn_sleep(2 * MS);
}

static int across_shutdown(void *(*thread_fn)(void *)) {
    memset(&g_fs, 0, sizeof g_fs);
    pthread_t t;
    CHILD_CHECK(pthread_create(&t, NULL, thread_fn, NULL) == 0, "pthread_create");
    int rounds = g_small ? 10 : 50, failed = 0;
    for (int i = 0; i < rounds; i++)
        if (run_procs(2, fs_body, NULL) != 0) failed++;
    ASTORE(&g_fs.stop, 1);
    pthread_join(t, NULL);
    CHILD_CHECK(failed == 0, "%d runs failed", failed);
    return 0;
}

static int fs_spawn_child(void) {
    if (across_shutdown(fs_spawner) != 0) return 1;
    CHILD_CHECK(g_fs.other_err == 0, "gn_go failed %d times with neither an id nor GN_ESTATE",
                g_fs.other_err);
    CHILD_CHECK(g_fs.spawned > 0, "no foreign spawn succeeded");
    CHILD_CHECK(g_fs.estate > 0, "gn_go never reported GN_ESTATE between runs");
    return 0;
}

static int fs_stats_child(void) {
    if (across_shutdown(fs_reader) != 0) return 1;
    CHILD_CHECK(g_fs.bad_reads == 0, "%d implausible reads", g_fs.bad_reads);
    CHILD_CHECK(g_fs.reads > 0, "no reads");
    return 0;
}

TEST foreign_spawn_across_shutdown(void) {
    CHECK_CALL(isolated(fs_spawn_child, 60));
    PASS();
}

TEST foreign_stats_across_shutdown(void) {
    CHECK_CALL(isolated(fs_stats_child, 60));
    PASS();
}

/* A pinned coroutine that blocks, spawns and waits stays on its thread.        */
typedef struct {
    int moved, rc_pin, children, stop;
    gn_waitgroup wg, kids;
} pinblk_t;
static pinblk_t g_pb;

static void pb_kid(void *arg) {
    (void)arg;
    gn_yield();
    AADD(&g_pb.children, 1);
    gn_waitgroup_done(&g_pb.kids);
}

static void pb_pinned(void *arg) {
    (void)arg;
    g_pb.rc_pin = gn_pin();
    pthread_t me = thread_self();
    for (int i = 0; i < scaled(100); i++) {
        gn_blocking(usleep_fn, (void *)(intptr_t)500);
        if (!pthread_equal(me, thread_self())) g_pb.moved++;
        gn_waitgroup_add(&g_pb.kids, 3);
        for (int k = 0; k < 3; k++) gn_go(pb_kid, NULL);
        gn_waitgroup_wait(&g_pb.kids);
        if (!pthread_equal(me, thread_self())) g_pb.moved++;
    }
    gn_unpin();
    ASTORE(&g_pb.stop, 1);
    gn_waitgroup_done(&g_pb.wg);
}

static void pb_busy(void *arg) {
    (void)arg;
    while (!ALOAD(&g_pb.stop)) {
        spin_for(30 * GN_MICROSECOND);
        gn_yield();
    }
    gn_waitgroup_done(&g_pb.wg);
}

static void pb_body(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_pb.wg, 3);
    gn_go(pb_busy, NULL);
    gn_go(pb_busy, NULL);
    gn_go(pb_pinned, NULL);
    gn_waitgroup_wait(&g_pb.wg);
}

TEST pin_with_blocking_and_children(void) {
    memset(&g_pb, 0, sizeof g_pb);
    EQ(0, run_procs(2, pb_body, NULL));
    EQ(0, g_pb.rc_pin);
    CHECKF(g_pb.moved == 0, "the pinned coroutine moved %d times", g_pb.moved);
    EQ(3 * scaled(100), g_pb.children);
    PASS();
}

/* Non-default stacks are mapped and unmapped per coroutine, from several Ps.  */
typedef struct { int done, bad; gn_waitgroup wg; } ustk_t;
static ustk_t g_us;

static T_NOINLINE int touch_stack(size_t n) {
    volatile char *buf = (volatile char *)__builtin_alloca(n);
    buf[0] = 1;
    buf[n - 1] = 2;
    return buf[0] + buf[n - 1];
}

static void us_child(void *arg) {
    size_t sz = (size_t)(uintptr_t)arg;
    if (touch_stack(sz / 2) != 3) AADD(&g_us.bad, 1);
    gn_yield();
    AADD(&g_us.done, 1);
    gn_waitgroup_done(&g_us.wg);
}

static void us_body(void *arg) {
    int n = (int)(intptr_t)arg;
    static const size_t sizes[] = {16 * 1024, 32 * 1024, 48 * 1024, 100 * 1024};
    gn_waitgroup_add(&g_us.wg, n);
    for (int i = 0; i < n; i++) {
        gn_go_opts o;
        memset(&o, 0, sizeof o);
        o.stack_size = sizes[i % 4];
        if (gn_go_with(us_child, (void *)(uintptr_t)o.stack_size, &o) <= 0) {
            AADD(&g_us.bad, 1);
            gn_waitgroup_done(&g_us.wg);
        }
        if (i % 100 == 0) gn_yield();
    }
    gn_waitgroup_wait(&g_us.wg);
}

static int us_child_main(void) {
    memset(&g_us, 0, sizeof g_us);
    int n = scaled(20000);
    int rc = run_procs(2, us_body, (void *)(intptr_t)n);
    CHILD_CHECK(rc == 0, "gn_run returned %d", rc);
    CHILD_CHECK(g_us.bad == 0, "%d coroutines failed", g_us.bad);
    CHILD_CHECK(g_us.done == n, "%d of %d coroutines finished", g_us.done, n);
    return 0;
}

/* In a child: under AddressSanitizer a fault here ends the child, not the suite. */
TEST stack_custom_size_churn(void) {
    CHECK_CALL(isolated(us_child_main, 120));
    PASS();
}

/* A coroutine can use nearly all of the stack size it asked for.              */
typedef struct { int ok_default, ok_16k, ok_8m; int64_t rc_16k, rc_8m; } fill_t;

static T_NOINLINE int use_48k(void) {
    volatile char buf[48 * 1024];
    buf[0] = 1;
    buf[sizeof buf - 1] = 2;
    return buf[0] + buf[sizeof buf - 1];
}
static T_NOINLINE int use_10k(void) {
    volatile char buf[10 * 1024];
    buf[0] = 1;
    buf[sizeof buf - 1] = 2;
    return buf[0] + buf[sizeof buf - 1];
}
static T_NOINLINE int use_6m(void) {
    static const size_t n = 6 * 1024 * 1024;
    volatile char *buf = (volatile char *)__builtin_alloca(n);
    for (size_t i = 0; i < n; i += 4096) buf[i] = 1;
    buf[n - 1] = 2;
    return buf[0] + buf[n - 1];
}
static void fill_16k(void *arg) { ASTORE(&((fill_t *)arg)->ok_16k, use_10k() == 3); }
static void fill_8m(void *arg) { ASTORE(&((fill_t *)arg)->ok_8m, use_6m() == 3); }

static void fill_body(void *arg) {
    fill_t *s = (fill_t *)arg;
    s->ok_default = use_48k() == 3;   /* the default is 64 KiB */
    gn_go_opts o;
    memset(&o, 0, sizeof o);
    o.stack_size = 16 * 1024;
    s->rc_16k = gn_go_with(fill_16k, s, &o);
    o.stack_size = 8 * 1024 * 1024;
    s->rc_8m = gn_go_with(fill_8m, s, &o);
    int64_t end = gn_now() + 10 * GN_SECOND;
    while ((!ALOAD(&s->ok_16k) || !ALOAD(&s->ok_8m)) && gn_now() < end) gn_sleep(MS);
}

TEST stack_usable_up_to_its_size(void) {
    fill_t s;
    memset(&s, 0, sizeof s);
    EQ(0, run_procs(2, fill_body, &s));
    EQ(1, s.ok_default);
    CHECKF(s.rc_16k > 0 && s.rc_8m > 0, "gn_go_with: %lld, %lld", (long long)s.rc_16k,
           (long long)s.rc_8m);
    EQ(1, s.ok_16k);
    EQ(1, s.ok_8m);
    PASS();
}

/* Stack sizes no machine can map are refused (negative result), not wrapped
 * around into a tiny stack.                                                    */
static int g_absurd_ran;
static void absurd_fn(void *arg) {
    (void)arg;
    ASTORE(&g_absurd_ran, use_10k());
}

typedef struct { int64_t rc[3]; } absurd_t;
static void absurd_body(void *arg) {
    absurd_t *s = (absurd_t *)arg;
    static const size_t sizes[3] = {(size_t)-1, (size_t)-1 - 4096, (size_t)1 << 62};
    for (int i = 0; i < 3; i++) {
        gn_go_opts o;
        memset(&o, 0, sizeof o);
        o.stack_size = sizes[i];
        s->rc[i] = gn_go_with(absurd_fn, NULL, &o);
    }
    gn_sleep(20 * MS);
}

static int absurd_go_child(void) {
    absurd_t s;
    memset(&s, 0, sizeof s);
    int rc = run_procs(2, absurd_body, &s);
    CHILD_CHECK(rc == 0, "gn_run returned %d", rc);
    for (int i = 0; i < 3; i++)
        CHILD_CHECK(s.rc[i] < 0, "gn_go_with(stack size #%d) returned id %lld, want an error", i,
                    (long long)s.rc[i]);
    return 0;
}

static int absurd_run_child(void) {
    static const size_t sizes[3] = {(size_t)-1, (size_t)-1 - 4096, (size_t)1 << 62};
    for (int i = 0; i < 3; i++) {
        gn_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.procs = 1;
        cfg.stack_size = sizes[i];
        int rc = gn_run(&cfg, absurd_fn, NULL);
        CHILD_CHECK(rc < 0, "gn_run(stack size #%d) returned %d, want an error", i, rc);
    }
    return 0;
}

TEST stack_size_absurd_go(void) {
    CHECK_CALL(isolated(absurd_go_child, 20));
    PASS();
}

TEST stack_size_absurd_run(void) {
    CHECK_CALL(isolated(absurd_run_child, 20));
    PASS();
}

/* Overflow of a coroutine with its own (non-default) stack size.              */
static void overflow_custom_body(void *arg) {
    (void)arg;
    gn_go_opts o;
    memset(&o, 0, sizeof o);
    o.stack_size = 32 * 1024;
    gn_go_with(overflow_coroutine, NULL, &o);
    gn_sleep(20 * GN_SECOND);
}
static void overflow_custom_child(void) {
    gn_main(overflow_custom_body, NULL);
    fprintf(stderr, "child: gn_main returned\n");
}
TEST stack_overflow_custom_size(void) { CHECK_CALL(check_overflow(overflow_custom_child)); PASS(); }

/* Chaos: every switch point at once, on more Ps than CPUs, checking the
 * per-coroutine invariants (id, errno, pinning) at every resume.               */
#define CHAOS_G 48
typedef struct {
    int64_t end;
    int bad_id, bad_errno, bad_pin, spawn_err, done, kids, ops[6], bad_errno_op[6];
    int last_bad_want, last_bad_got;
    gn_waitgroup wg;
} chaos_t;
static chaos_t g_chaos;

static void chaos_kid(void *arg) {
    (void)arg;
    gn_yield();
    AADD(&g_chaos.kids, 1);
}

static void chaos_worker(void *arg) {
    int me = (int)(intptr_t)arg;
    int64_t id = gn_id();
    uint32_t r = (uint32_t)me * 2654435761u + 12345u;
    int local_ops[6] = {0};
    while (gn_now() < g_chaos.end) {
        r = r * 1103515245u + 12345u;
        int op = (int)((r >> 16) % 6);
        int ev = me * 1000 + (int)(r & 511);
        errno_set(ev);
        local_ops[op]++;
        switch (op) {
        case 0: gn_yield(); break;
        case 1: gn_sleep((int64_t)(r % 300) * GN_MICROSECOND); break;
        case 2: gn_blocking(usleep_fn, (void *)(intptr_t)(50 + r % 200)); break;
        case 3:
            if (gn_go(chaos_kid, NULL) <= 0) AADD(&g_chaos.spawn_err, 1);
            break;
        case 4: {
            gn_pin();
            pthread_t t = thread_self();
            gn_sleep(100 * GN_MICROSECOND);
            gn_yield();
            if (!pthread_equal(t, thread_self())) AADD(&g_chaos.bad_pin, 1);
            gn_unpin();
            break;
        }
        default: spin_for((int64_t)(r % 50) * GN_MICROSECOND); break;
        }
        int got = errno_get();
        if (got != ev) {
            AADD(&g_chaos.bad_errno, 1);
            AADD(&g_chaos.bad_errno_op[op], 1);
            ASTORE(&g_chaos.last_bad_want, ev);
            ASTORE(&g_chaos.last_bad_got, got);
        }
        if (gn_id() != id) AADD(&g_chaos.bad_id, 1);
    }
    for (int i = 0; i < 6; i++) AADD(&g_chaos.ops[i], local_ops[i]);
    AADD(&g_chaos.done, 1);
    gn_waitgroup_done(&g_chaos.wg);
}

static void chaos_body(void *arg) {
    (void)arg;
    g_chaos.end = gn_now() + (g_small ? 400 : 1500) * MS;
    gn_waitgroup_add(&g_chaos.wg, CHAOS_G);
    for (int i = 0; i < CHAOS_G; i++) gn_go(chaos_worker, (void *)(intptr_t)i);
    gn_waitgroup_wait(&g_chaos.wg);
    wait_goroutines(1, 10 * GN_SECOND);
}

TEST chaos(void) {
    memset(&g_chaos, 0, sizeof g_chaos);
    EQ(0, run_procs(4, chaos_body, NULL));
    EQ(CHAOS_G, g_chaos.done);
    EQ(0, g_chaos.bad_id);
    CHECKF(g_chaos.bad_errno == 0,
           "%d resumes with a wrong errno (by operation: yield %d, sleep %d, blocking %d, "
           "spawn %d, pin %d, spin %d); last: want %d, got %d", g_chaos.bad_errno,
           g_chaos.bad_errno_op[0], g_chaos.bad_errno_op[1], g_chaos.bad_errno_op[2],
           g_chaos.bad_errno_op[3], g_chaos.bad_errno_op[4], g_chaos.bad_errno_op[5],
           g_chaos.last_bad_want, g_chaos.last_bad_got);
    EQ(0, g_chaos.bad_pin);
    EQ(0, g_chaos.spawn_err);
    EQ(g_chaos.ops[3], g_chaos.kids);
    for (int i = 0; i < 6; i++) CHECKF(g_chaos.ops[i] > 0, "operation %d never ran", i);
    PASS();
}

/* ==== main ============================================================================================= */
/* A watchdog names a test that hangs (and aborts, for a core dump or a debugger)
 * instead of leaving only tests/run.sh's timeout: test_util.h's watchdog armed
 * around each test (SIGALRM on POSIX, since qemu-user cannot fork a threaded
 * program; a thread on Windows).
 * GN_TEST_WATCHDOG sets the limit per test in seconds (default 120; 0: off).  */
static char g_wd_msg[256];
static size_t g_wd_len;
static unsigned g_wd_secs;
static int g_watchdog_on;

static void watchdog_fire(void) {
    ssize_t w = write(2, g_wd_msg, g_wd_len);
    (void)w;
    abort();
}

static void watchdog_setup(void *udata) {
    (void)udata;
    int n = snprintf(g_wd_msg, sizeof g_wd_msg, "\nwatchdog: test %s has run for more than %u s: aborting\n",
                     greatest_info.name_buf, g_wd_secs);
    g_wd_len = n > 0 && (size_t)n < sizeof g_wd_msg ? (size_t)n : 0;
    fflush(stdout);
    t_watchdog_arm(g_wd_secs, watchdog_fire);
}

static void watchdog_teardown(void *udata) {
    (void)udata;
    t_watchdog_disarm();
}

static void start_watchdog(void) {
    const char *env = getenv("GN_TEST_WATCHDOG");
    int secs = env ? atoi(env) : 120;
    if (secs <= 0) return;
    g_wd_secs = (unsigned)secs;
    g_watchdog_on = 1;
}

/* greatest resets the callbacks for every suite: each suite arms them.         */
static void arm_watchdog(void) {
    if (!g_watchdog_on) return;
    GREATEST_SET_SETUP_CB(watchdog_setup, NULL);
    GREATEST_SET_TEARDOWN_CB(watchdog_teardown, NULL);
}


SUITE(run_suite) {
    arm_watchdog();
    RUN_TEST(run_basics);
    RUN_TEST(run_null_fn);
    RUN_TEST(run_inside_runtime_is_estate);
    RUN_TEST(run_restart);
    RUN_TEST(run_procs_and_config);
    RUN_TEST(main_default_config);
    RUN_TEST(run_restores_signal_state);
    RUN_TEST(main_return_drops_the_rest);
    RUN_TEST(main_return_stops_yield_loop);
}

SUITE(spawn_suite) {
    arm_watchdog();
    RUN_TEST(go_arguments);
    RUN_TEST(spawn_100k);
    RUN_TEST(spawn_tree);
    RUN_TEST(spawn_from_foreign_threads);
    RUN_TEST(foreign_spawn_wakes_idle_runtime);
}

SUITE(sched_suite) {
    arm_watchdog();
    RUN_TEST(work_spreads_over_threads);
    RUN_TEST(migration_keeps_errno);
#ifndef _WIN32
    RUN_TEST(signal_mask_stays_with_thread);
#endif
    RUN_TEST(errno_per_coroutine_1proc);
    RUN_TEST(errno_per_coroutine_2procs);
    RUN_TEST(errno_under_lock_contention);
    RUN_TEST(yield_ping_pong);
    RUN_TEST(yield_alone_and_outside);
    RUN_TEST(yield_lets_timers_and_global_queue_run);
    RUN_TEST(fairness_under_load);
}

SUITE(pin_suite) {
    arm_watchdog();
    RUN_TEST(pin_stays_on_its_thread);
    RUN_TEST(pin_errors_and_nesting);
    RUN_TEST(pin_many_at_once);
    RUN_TEST(pin_exit_while_pinned);
}

SUITE(blocking_suite) {
    arm_watchdog();
    RUN_TEST(blocking_call_keeps_others_running);
    RUN_TEST(blocking_enter_exit_many);
    RUN_TEST(blocking_exit_keeps_syscall_errno);
    RUN_TEST(blocking_nesting_and_outside);
    RUN_TEST(long_runner_counted);
    RUN_TEST(long_runner_without_monitor);
}

SUITE(sleep_suite) {
    arm_watchdog();
    RUN_TEST(sleep_basics);
    RUN_TEST(sleep_outside_coroutine);
    RUN_TEST(sleep_huge_durations);
    RUN_TEST(sleep_tiny_no_lost_wakeup);
    RUN_TEST(idle_runtime_does_not_spin);
    RUN_TEST(sleep_10k_concurrent);
    RUN_TEST(sleep_random_deadlines);
}

SUITE(stack_suite) {
    arm_watchdog();
    RUN_TEST(stack_custom_sizes);
    RUN_TEST(stack_usable_up_to_its_size);
    RUN_TEST(stack_size_absurd_go);
    RUN_TEST(stack_size_absurd_run);
    RUN_TEST(stack_overflow_reported);
    RUN_TEST(stack_overflow_in_main_coroutine);
    RUN_TEST(stack_overflow_custom_size);
    RUN_TEST(segv_not_overflow_passes_through);
    RUN_TEST(stack_guard_never_slabs);
    RUN_TEST(stack_guard_always);
#ifdef _WIN32
    RUN_TEST(stack_limit_follows_growth);
#endif
    RUN_TEST(stack_guard_default_beyond_budget);
}

SUITE(stress_suite) {
    arm_watchdog();
    RUN_TEST(restart_churn);
    RUN_TEST(foreign_spawn_across_shutdown);
    RUN_TEST(foreign_stats_across_shutdown);
    RUN_TEST(pin_with_blocking_and_children);
    RUN_TEST(stack_custom_size_churn);
    RUN_TEST(chaos);
}

SUITE(stats_suite) {
    arm_watchdog();
    RUN_TEST(stats_outside_are_zero);
    RUN_TEST(stats_after_workload);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    g_small = g_scale > 1;
#ifdef _WIN32
    const char *child = getenv("GN_T_CHILD");   /* started by run_child */
    if (child) {
        const char *fn = getenv("GN_T_CHILDFN");
        if (fn) g_child_fn = (int (*)(void))child_at(fn);
        child_at(child)();
        fflush(stderr);
        _exit(0);
    }
#endif
    GREATEST_MAIN_BEGIN();
    if (!GREATEST_LIST_ONLY()) start_watchdog();
    RUN_SUITE(run_suite);
    RUN_SUITE(spawn_suite);
    RUN_SUITE(sched_suite);
    RUN_SUITE(pin_suite);
    RUN_SUITE(blocking_suite);
    RUN_SUITE(sleep_suite);
    RUN_SUITE(stack_suite);
    RUN_SUITE(stress_suite);
    RUN_SUITE(stats_suite);
    GREATEST_MAIN_END();
}
