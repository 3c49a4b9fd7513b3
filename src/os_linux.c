/* os_linux.c — the OS layer on Linux: clock, futex, threads, CPU count, memory.
 * Every other part reaches the OS through these gn__os_* functions.
 *
 * >>os-linux                                                                    */

GONET_API int64_t gn_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * GN_SECOND + ts.tv_nsec;
}

/* Waits while *addr == val, at most ns nanoseconds (< 0: no limit). Spurious
 * wake-ups are allowed; callers re-check. Like every OS call the runtime makes
 * on a coroutine's behalf, it leaves errno as it found it: the coroutine's
 * errno is saved only at its next switch, after this has run.                  */
GN__PRIVATE void gn__os_futex_wait(uint32_t *addr, uint32_t val, int64_t ns) {
    int saved = errno;
    struct timespec ts, *tsp = NULL;
    if (ns >= 0) {
        ts.tv_sec = (time_t)(ns / GN_SECOND);
        ts.tv_nsec = (long)(ns % GN_SECOND);
        tsp = &ts;
    }
    syscall(SYS_futex, addr, 128 /* FUTEX_WAIT_PRIVATE */, val, tsp, NULL, 0);
    errno = saved;
}

GN__PRIVATE void gn__os_futex_wake(uint32_t *addr, int n) {
    int saved = errno;
    syscall(SYS_futex, addr, 129 /* FUTEX_WAKE_PRIVATE */, n, NULL, NULL, 0);
    errno = saved;
}

GN__PRIVATE int gn__os_page_size(void) {
    static int page;
    if (!page) page = (int)sysconf(_SC_PAGESIZE);
    return page;
}

/* CPUs this process may use: the affinity mask, capped by a cgroup v2 CPU quota
 * (rounded up), as Go 1.25 does for GOMAXPROCS.                                  */
GN__PRIVATE int gn__os_ncpu(void) {
    int n = 0;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0) n = 1;
    FILE *f = fopen("/sys/fs/cgroup/cpu.max", "r");
    if (f) {
        char quota[32];
        long period = 0;
        if (fscanf(f, "%31s %ld", quota, &period) == 2 && strcmp(quota, "max") != 0 && period > 0) {
            long q = strtol(quota, NULL, 10);
            int lim = (int)((q + period - 1) / period);
            if (lim >= 1 && lim < n) n = lim;
        }
        fclose(f);
    }
    return n;
}

/* vm.max_map_count: each guarded stack costs two mappings.                       */
GN__PRIVATE long gn__os_max_map_count(void) {
    long n = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &n) != 1) n = 65530;
        fclose(f);
    }
    return n;
}

GN__PRIVATE void *gn__os_map(size_t size) {
    int saved = errno;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    errno = saved;
    return p == MAP_FAILED ? NULL : p;
}
GN__PRIVATE void gn__os_unmap(void *p, size_t size) {
    int saved = errno;
    munmap(p, size);
    errno = saved;
}
GN__PRIVATE int gn__os_guard(void *p, size_t size) {
    int saved = errno;
    int rc = mprotect(p, size, PROT_NONE);
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

/* Bounds of the calling thread's stack, for the sanitizers' fiber bookkeeping.   */
GN__PRIVATE void gn__os_thread_stack(char **lo, size_t *size) {
    pthread_attr_t attr;
    void *addr = NULL;
    size_t sz = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &sz);
        pthread_attr_destroy(&attr);
    }
    *lo = (char *)addr;
    *size = sz;
}

GN__PRIVATE void gn__os_usleep(int64_t ns) {
    struct timespec ts = {(time_t)(ns / GN_SECOND), (long)(ns % GN_SECOND)};
    nanosleep(&ts, NULL);
}

GN__PRIVATE void gn__os_yield_thread(void) { sched_yield(); }
