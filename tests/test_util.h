/* test_util.h — what every gonet test program shares: sanitizer detection, the
 * load scale, atomic helpers, starting a runtime with a number of Ps, and a
 * watchdog that works on POSIX and Windows.
 * Include after greatest.h, in the one file that defines GONET_IMPLEMENTATION.
 * Threads of the tests' own are POSIX threads everywhere: on Windows, MinGW's
 * winpthreads (link -lpthread, with -static for a self-contained program).   */
#ifndef GN_TEST_UTIL_H
#define GN_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#ifdef _WIN32
#  include <windows.h>
/* POSIX's environment setters over the C runtime's _putenv_s (an empty value
 * unsets). Under other names: a newer MinGW may declare its own.              */
static inline int t_setenv(const char *name, const char *value, int overwrite) {
    if (!overwrite && getenv(name)) return 0;
    return _putenv_s(name, value) == 0 ? 0 : -1;
}
static inline int t_unsetenv(const char *name) { return _putenv_s(name, "") == 0 ? 0 : -1; }
#  define setenv t_setenv
#  define unsetenv t_unsetenv
#endif

#if defined(__SANITIZE_THREAD__)
#  define T_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define T_TSAN 1
#  endif
#endif

/* GN_TEST_SCALE=small (set by `make asan`, `make tsan` and `make test-arm64`;
 * also the default in ThreadSanitizer builds) divides the heavy loops by 10.   */
static int g_scale = 1;

static void set_scale(void) {
    const char *scale = getenv("GN_TEST_SCALE");
    g_scale = scale && strcmp(scale, "small") == 0 ? 10 : 1;
#if defined(T_TSAN)
    if (!scale) g_scale = 10;
#endif
}

/* Integer equality that prints both values on failure.                        */
#define EQI(exp, got) ASSERT_EQ_FMT((long long)(exp), (long long)(got), "%lld")
#define ALOAD(p)     __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define AADD(p, v)   __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define ASTORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

/* ---- the watchdog ------------------------------------------------------------
 * t_watchdog_arm(secs, fire): fire() runs (and must end the process) unless
 * t_watchdog_disarm() comes within secs seconds; arming again moves the limit.
 * POSIX: SIGALRM (no thread, so a forked child of a threaded test is fine, and
 * qemu-user can fork the program). Windows: a thread waiting on an event.     */
static void (*t_wd_fire)(void);
#ifdef _WIN32
static HANDLE t_wd_event;
static volatile LONG64 t_wd_deadline;   /* GetTickCount64 ms; 0: disarmed */

static DWORD WINAPI t_wd_main(LPVOID arg) {
    (void)arg;
    for (;;) {
        LONG64 d = InterlockedCompareExchange64(&t_wd_deadline, 0, 0);
        LONG64 now = (LONG64)GetTickCount64();
        if (d != 0 && now >= d) t_wd_fire();
        WaitForSingleObject(t_wd_event, d == 0 ? INFINITE : (DWORD)(d - now));
    }
    return 0;
}

static inline void t_watchdog_arm(unsigned secs, void (*fire)(void)) {
    t_wd_fire = fire;
    if (!t_wd_event) {
        t_wd_event = CreateEventW(NULL, FALSE, FALSE, NULL);
        HANDLE h = t_wd_event ? CreateThread(NULL, 64 * 1024, t_wd_main, NULL, 0, NULL) : NULL;
        if (h) CloseHandle(h);
    }
    InterlockedExchange64(&t_wd_deadline, (LONG64)GetTickCount64() + (LONG64)secs * 1000);
    if (t_wd_event) SetEvent(t_wd_event);
}

static inline void t_watchdog_disarm(void) {
    InterlockedExchange64(&t_wd_deadline, 0);
    if (t_wd_event) SetEvent(t_wd_event);
}
#else
static inline void t_wd_on_alarm(int sig) {
    (void)sig;
    t_wd_fire();
}

static inline void t_watchdog_arm(unsigned secs, void (*fire)(void)) {
    t_wd_fire = fire;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = t_wd_on_alarm;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    alarm(secs);
}

static inline void t_watchdog_disarm(void) { alarm(0); }
#endif

static inline int run_procs(int procs, void (*fn)(void *), void *arg) {
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = procs;
    return gn_run(&cfg, fn, arg);
}

#endif
