/* os_linux.c — the OS layer's Linux part: the futex (unless GN_FUTEX_EMULATED
 * asks for os_posix.c's), the CPU count (affinity and cgroup quota),
 * vm.max_map_count, a thread's stack bounds.
 *
 * >>os-linux                                                                    */
#if GN__OS_LINUX

#if !GN__FUTEX_EMULATED
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
#endif /* !GN__FUTEX_EMULATED */

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

#endif /* GN__OS_LINUX */
