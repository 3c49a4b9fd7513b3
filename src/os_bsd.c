/* os_bsd.c — the OS layer's part for FreeBSD, DragonFly, OpenBSD and NetBSD:
 * the futex, the CPU count, the map limit, a thread's stack bounds (what
 * os_linux.c is on Linux). Each system has its own futex: FreeBSD _umtx_op,
 * DragonFly umtx_sleep and umtx_wakeup, OpenBSD futex(2); NetBSD keeps its
 * futex for Linux emulation, so it gets os_posix.c's portable one.
 *
 * >>os-bsd                                                                       */
#if GN__OS_BSD

#include <sys/param.h>
#include <pthread.h>
#if defined(__FreeBSD__) || defined(__DragonFly__) || defined(__OpenBSD__)
#  include <pthread_np.h>
#endif
#if defined(__FreeBSD__)
#  include <sys/cpuset.h>
#endif

#if !GN__FUTEX_EMULATED
#if defined(__FreeBSD__)
#  include <sys/umtx.h>
#elif defined(__OpenBSD__)
#  include <sys/futex.h>
#endif

/* Waits while *addr == val, at most ns nanoseconds (< 0: no limit); may return
 * early (signals, spurious wake-ups); callers re-check. Leaves errno alone.    */
GN__PRIVATE void gn__os_futex_wait(uint32_t *addr, uint32_t val, int64_t ns) {
    if (ns == 0) return;
    int saved = errno;
    if (ns > GN_HOUR) ns = GN_HOUR;   /* an early return is allowed; overflow is not */
#if defined(__FreeBSD__)
    /* The _umtx_time form names the clock: a relative wait on the monotonic
     * one (a bare timespec would be measured on the realtime clock).          */
    struct _umtx_time ut;
    memset(&ut, 0, sizeof ut);
    ut._timeout.tv_sec = (time_t)(ns / GN_SECOND);
    ut._timeout.tv_nsec = (long)(ns % GN_SECOND);
    ut._flags = 0;
    ut._clockid = CLOCK_MONOTONIC;
    _umtx_op(addr, UMTX_OP_WAIT_UINT_PRIVATE, val, ns < 0 ? NULL : (void *)(uintptr_t)sizeof ut,
             ns < 0 ? NULL : &ut);
#elif defined(__DragonFly__)
    /* Microseconds, where 0 means no limit: round up, never down to 0.        */
    int us = 0;
    if (ns > 0) {
        int64_t u = (ns + 999) / 1000;
        us = u > INT_MAX ? INT_MAX : (int)u;
    }
    umtx_sleep((volatile const int *)addr, (int)val, us);
#elif defined(__OpenBSD__)
    struct timespec ts, *tsp = NULL;
    if (ns > 0) {
        ts.tv_sec = (time_t)(ns / GN_SECOND);
        ts.tv_nsec = (long)(ns % GN_SECOND);
        tsp = &ts;
    }
#  ifdef FUTEX_PRIVATE_FLAG
    futex(addr, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, (int)val, tsp, NULL);
#  else
    futex(addr, FUTEX_WAIT, (int)val, tsp, NULL);
#  endif
#else
#  error "gonet.h: no futex for this BSD; build with GN_FUTEX_EMULATED=1"
#endif
    errno = saved;
}

GN__PRIVATE void gn__os_futex_wake(uint32_t *addr, int n) {
    int saved = errno;
#if defined(__FreeBSD__)
    _umtx_op(addr, UMTX_OP_WAKE_PRIVATE, (u_long)n, NULL, NULL);
#elif defined(__DragonFly__)
    umtx_wakeup((volatile const int *)addr, n);
#elif defined(__OpenBSD__)
#  ifdef FUTEX_PRIVATE_FLAG
    futex(addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL);
#  else
    futex(addr, FUTEX_WAKE, n, NULL, NULL);
#  endif
#endif
    errno = saved;
}
#endif /* !GN__FUTEX_EMULATED */

/* CPUs this process may use: FreeBSD's affinity mask (cpuset(1) and jails
 * narrow it), elsewhere the CPUs online.                                      */
GN__PRIVATE int gn__os_ncpu(void) {
    int n = 0;
#if defined(__FreeBSD__) && defined(CPU_COUNT)
    cpuset_t set;
    CPU_ZERO(&set);
    if (cpuset_getaffinity(CPU_LEVEL_WHICH, CPU_WHICH_PID, -1, sizeof set, &set) == 0) n = CPU_COUNT(&set);
#endif
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* No BSD caps the number of mappings a process may have (Linux's
 * vm.max_map_count): every stack may have its guard page.                      */
GN__PRIVATE long gn__os_max_map_count(void) { return LONG_MAX / 4; }

/* Bounds of the calling thread's stack, for the sanitizers' fiber bookkeeping. */
GN__PRIVATE void gn__os_thread_stack(char **lo, size_t *size) {
    void *addr = NULL;
    size_t sz = 0;
#if defined(__OpenBSD__)
    stack_t ss;   /* ss_sp is the top of the stack, not its base */
    if (pthread_stackseg_np(pthread_self(), &ss) == 0) {
        addr = (char *)ss.ss_sp - ss.ss_size;
        sz = ss.ss_size;
    }
#else
    pthread_attr_t attr;
#  if defined(__NetBSD__)
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &addr, &sz);
        pthread_attr_destroy(&attr);
    }
#  else
    /* pthread_attr_get_np fills an attr the caller has initialised.            */
    if (pthread_attr_init(&attr) == 0) {
        if (pthread_attr_get_np(pthread_self(), &attr) == 0) pthread_attr_getstack(&attr, &addr, &sz);
        pthread_attr_destroy(&attr);
    }
#  endif
#endif
    *lo = (char *)addr;
    *size = sz;
}

#endif /* GN__OS_BSD */
