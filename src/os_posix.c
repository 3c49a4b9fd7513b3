/* os_posix.c — the OS layer shared by every POSIX system: clock, memory
 * mappings, threads, sleeping. Every other part reaches the OS through the
 * gn__os_* functions; what differs between POSIX systems (the futex, the CPU
 * count, a thread's stack bounds) is in os_linux.c, os_darwin.c and os_bsd.c,
 * and Windows has os_windows.c.
 *
 * >>os-posix                                                                    */
#if GN__OS_POSIX

GONET_API int64_t gn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * GN_SECOND + ts.tv_nsec;
}

/* Process-wide set-up for a run (Winsock and the timer resolution on Windows):
 * nothing to do on POSIX. 0 or a negative code.                               */
GN__PRIVATE int gn__os_init(void) { return 0; }
GN__PRIVATE void gn__os_fini(void) {}

GN__PRIVATE int gn__os_page_size(void) {
    static int page;
    if (!page) page = (int)sysconf(_SC_PAGESIZE);
    return page;
}

/* Stack memory. The BSDs and macOS spell MAP_ANONYMOUS MAP_ANON (newer ones
 * accept both); FreeBSD and OpenBSD have no MAP_NORESERVE, and they never
 * reserve swap for untouched pages anyway. OpenBSD kills a process whose stack
 * pointer is outside a MAP_STACK mapping at a system call or a fault, and a
 * coroutine's stack is exactly that; elsewhere MAP_STACK is a mere hint (or,
 * on FreeBSD, a grow-down region we do not want), so only OpenBSD gets it.     */
#if defined(MAP_ANONYMOUS)
#  define GN__MAP_ANON MAP_ANONYMOUS
#else
#  define GN__MAP_ANON MAP_ANON
#endif
#if defined(MAP_NORESERVE)
#  define GN__MAP_NORESERVE MAP_NORESERVE
#else
#  define GN__MAP_NORESERVE 0
#endif
#if defined(__OpenBSD__) && defined(MAP_STACK)
#  define GN__MAP_STACK MAP_STACK
#else
#  define GN__MAP_STACK 0
#endif

/* The thread's last-error value, which the runtime keeps per coroutine like
 * errno: Windows' GetLastError(); POSIX has none.                             */
GN__PRIVATE uint32_t gn__os_lasterr(void) { return 0; }
GN__PRIVATE void gn__os_set_lasterr(uint32_t e) { (void)e; }

/* Bytes below each coroutine stack kept for its guard (gn__os_stack_ready).    */
GN__PRIVATE size_t gn__os_guard_size(void) { return (size_t)gn__os_page_size(); }

GN__PRIVATE void *gn__os_map(size_t size) {
    int saved = errno;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | GN__MAP_ANON | GN__MAP_NORESERVE | GN__MAP_STACK, -1, 0);
    errno = saved;
    return p == MAP_FAILED ? NULL : p;
}
GN__PRIVATE void gn__os_unmap(void *p, size_t size) {
    int saved = errno;
    munmap(p, size);
    errno = saved;
}
/* Makes [p, p + size), a slot of a gn__os_map mapping, ready for a stack: the
 * mapping is usable as it is (pages come as they are touched), so only the
 * guard, the lowest guard bytes, needs doing. 0, or -1 (out of mappings).      */
GN__PRIVATE int gn__os_stack_ready(void *p, size_t size, size_t guard, int guarded) {
    (void)size;
    if (!guarded) return 0;
    int saved = errno;
    int rc = mprotect(p, guard, PROT_NONE);
    errno = saved;
    return rc;
}

typedef pthread_t gn__os_thread;

GN__PRIVATE int gn__os_thread_start(gn__os_thread *t, void *(*fn)(void *), void *arg) {
    int saved = errno;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    /* Asynchronous signals belong to the user's threads, not the runtime's. The
     * synchronous ones stay open: a fault on a blocked SIGSEGV kills the process
     * without running the stack-overflow report.                                  */
    sigset_t all, old;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(t, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    errno = saved;
    return rc ? -rc : 0;
}
GN__PRIVATE void gn__os_thread_join(gn__os_thread t) { pthread_join(t, NULL); }

GN__PRIVATE void gn__os_usleep(int64_t ns) {
    struct timespec ts = {(time_t)(ns / GN_SECOND), (long)(ns % GN_SECOND)};
    nanosleep(&ts, NULL);
}

GN__PRIVATE void gn__os_yield_thread(void) { sched_yield(); }

#if GN__FUTEX_EMULATED
/* ---- the portable futex (GN_FUTEX_EMULATED; NetBSD) -------------------------
 * A sleeper waits on the condition variable of one of a fixed set of buckets,
 * picked by hashing the address. Addresses that share a bucket share its
 * condition variable, so a wake broadcasts and each woken sleeper goes back to
 * its caller, which re-checks its word (the contract allows spurious
 * wake-ups). A sleeper compares *addr under the bucket's mutex and a waker
 * broadcasts under it, so a wake that follows a change of *addr cannot fall
 * between a sleeper's compare and its sleep.
 * Most wakes find nobody asleep (an unlock that raced a spinning locker, a
 * note nobody sleeps on), so each bucket counts its sleepers and a waker
 * that reads 0 skips the mutex. That read is safe: the waker changed *addr
 * before calling, then a full fence, then reads the count; a sleeper raises
 * the count, then a full fence, then reads *addr. With both fences one of the
 * two sees the other's write: the sleeper does not sleep, or the waker
 * broadcasts.                                                                  */
#define GN__FUTEX_BUCKETS 64

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    uint32_t        sleepers;     /* atomic; changed under mu                     */
} gn__futex_bucket;

static gn__futex_bucket gn__futex_tab[GN__FUTEX_BUCKETS];
static pthread_once_t gn__futex_once = PTHREAD_ONCE_INIT;
#if !defined(__APPLE__)
static clockid_t gn__futex_clock = CLOCK_REALTIME;   /* what the condvars time by */
#endif

/* Timed waits run on the monotonic clock where the condition variable can be
 * told so: a wall-clock step must not stretch or cut a runtime sleep. macOS
 * cannot, and times its waits relatively instead (below).                     */
GN__PRIVATE void gn__futex_init(void) {
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) gn__fatal("cannot create the futex buckets");
#if !defined(__APPLE__)
    if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0) gn__futex_clock = CLOCK_MONOTONIC;
#endif
    for (int i = 0; i < GN__FUTEX_BUCKETS; i++) {
        if (pthread_mutex_init(&gn__futex_tab[i].mu, NULL) != 0 ||
            pthread_cond_init(&gn__futex_tab[i].cv, &ca) != 0)
            gn__fatal("cannot create the futex buckets");
    }
    pthread_condattr_destroy(&ca);
}

GN__PRIVATE gn__futex_bucket *gn__futex_bucket_of(const uint32_t *addr) {
    uint32_t h = (uint32_t)((uintptr_t)addr >> 2) * 2654435761u;   /* Fibonacci hashing */
    return &gn__futex_tab[h >> (32 - 6)];
}

/* Waits while *addr == val, at most ns nanoseconds (< 0: no limit); may return
 * early. Leaves errno as it found it, like os_linux.c's.                      */
GN__PRIVATE void gn__os_futex_wait(uint32_t *addr, uint32_t val, int64_t ns) {
    int saved = errno;
    pthread_once(&gn__futex_once, gn__futex_init);
    gn__futex_bucket *b = gn__futex_bucket_of(addr);
    if (ns > GN_HOUR) ns = GN_HOUR;   /* an early return is allowed; overflow is not */
    pthread_mutex_lock(&b->mu);
    gn__xadd(&b->sleepers, 1u);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(addr, __ATOMIC_RELAXED) == val) {
        if (ns < 0) {
            pthread_cond_wait(&b->cv, &b->mu);
        } else {
#if defined(__APPLE__)
            struct timespec rel = {(time_t)(ns / GN_SECOND), (long)(ns % GN_SECOND)};
            pthread_cond_timedwait_relative_np(&b->cv, &b->mu, &rel);
#else
            struct timespec at;
            clock_gettime(gn__futex_clock, &at);
            at.tv_sec += (time_t)(ns / GN_SECOND);
            at.tv_nsec += (long)(ns % GN_SECOND);
            if (at.tv_nsec >= 1000000000L) {
                at.tv_sec++;
                at.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&b->cv, &b->mu, &at);
#endif
        }
    }
    __atomic_fetch_sub(&b->sleepers, 1u, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&b->mu);
    errno = saved;
}

/* Wakes the sleepers on addr (all of the bucket's: see above), n ignored.     */
GN__PRIVATE void gn__os_futex_wake(uint32_t *addr, int n) {
    (void)n;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    gn__futex_bucket *b = gn__futex_bucket_of(addr);
    if (__atomic_load_n(&b->sleepers, __ATOMIC_ACQUIRE) == 0) return;
    int saved = errno;
    pthread_mutex_lock(&b->mu);   /* a non-zero count means the buckets exist */
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    errno = saved;
}
#endif /* GN__FUTEX_EMULATED */

/* SIGQUIT for the coroutine dump (gn_config.quit_dump): fn runs in the handler,
 * so it may only do what is async-signal-safe. NULL puts the old action back.   */
static void (*gn__quit_fn)(void);
static struct sigaction gn__quit_old;

static void gn__quit_handler(int sig) {
    (void)sig;
    int saved = errno;
    if (gn__quit_fn) gn__quit_fn();
    errno = saved;
}

GN__PRIVATE int gn__os_quit_hook(void (*fn)(void)) {
    if (!fn) {
        if (!gn__quit_fn) return 0;
        sigaction(SIGQUIT, &gn__quit_old, NULL);
        gn__quit_fn = NULL;
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = gn__quit_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    gn__quit_fn = fn;
    if (sigaction(SIGQUIT, &sa, &gn__quit_old) != 0) {
        gn__quit_fn = NULL;
        return gn__err_from_errno(errno);
    }
    return 0;
}

#endif /* GN__OS_POSIX */
