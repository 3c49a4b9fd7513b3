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

GN__PRIVATE int gn__os_page_size(void) {
    static int page;
    if (!page) page = (int)sysconf(_SC_PAGESIZE);
    return page;
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

GN__PRIVATE void gn__os_usleep(int64_t ns) {
    struct timespec ts = {(time_t)(ns / GN_SECOND), (long)(ns % GN_SECOND)};
    nanosleep(&ts, NULL);
}

GN__PRIVATE void gn__os_yield_thread(void) { sched_yield(); }

#endif /* GN__OS_POSIX */
