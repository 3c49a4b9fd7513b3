/* os_darwin.c — the OS layer's macOS part: the futex, the CPU count, the map
 * limit, a thread's stack bounds (what os_linux.c is on Linux).
 *
 * The futex. macOS 14.4 made a wait-on-address public:
 * os_sync_wait_on_address. Before it there are only the private __ulock_wait
 * and __ulock_wake, which libc++ builds std::atomic<T>::wait on and which
 * every release since 10.12 has kept; they are what an older system (or an
 * SDK without the header) gets. A build with clang checks at run time which
 * one the system has, so one binary serves both.
 *
 * >>os-darwin                                                                    */
#if GN__OS_DARWIN

#include <sys/sysctl.h>

#if !GN__FUTEX_EMULATED
#  if defined(__clang__) && defined(__has_include)
#    if __has_include(<os/os_sync_wait_on_address.h>)
#      include <os/os_sync_wait_on_address.h>
#      define GN__DARWIN_OS_SYNC 1
#    endif
#  endif

#ifdef __cplusplus
extern "C" {
#endif
/* Not in any SDK header; the prototypes are libc++'s and xnu's. timeout_us 0
 * means no limit.                                                              */
extern int __ulock_wait(uint32_t operation, void *addr, uint64_t value, uint32_t timeout_us);
extern int __ulock_wake(uint32_t operation, void *addr, uint64_t wake_value);
#ifdef __cplusplus
}
#endif
#define GN__UL_COMPARE_AND_WAIT 1            /* a 32-bit word, this process only */
#define GN__ULF_WAKE_ALL        0x00000100
#define GN__ULF_NO_ERRNO        0x01000000   /* report -errno, leave errno alone */

/* Waits while *addr == val, at most ns nanoseconds (< 0: no limit); may return
 * early (signals, spurious wake-ups); callers re-check. Leaves errno alone.    */
GN__PRIVATE void gn__os_futex_wait(uint32_t *addr, uint32_t val, int64_t ns) {
    if (ns == 0) return;   /* both calls read a zero timeout as "no limit" */
    int saved = errno;
#if GN__DARWIN_OS_SYNC
    if (__builtin_available(macOS 14.4, iOS 17.4, tvOS 17.4, watchOS 10.4, *)) {
        if (ns < 0)
            os_sync_wait_on_address(addr, val, sizeof *addr, OS_SYNC_WAIT_ON_ADDRESS_NONE);
        else
            os_sync_wait_on_address_with_timeout(addr, val, sizeof *addr, OS_SYNC_WAIT_ON_ADDRESS_NONE,
                                                 OS_CLOCK_MACH_ABSOLUTE_TIME, (uint64_t)ns);
        errno = saved;
        return;
    }
#endif
    uint32_t us = 0;
    if (ns > 0) {   /* whole microseconds, rounded up so a sleep is never cut short */
        int64_t u = (ns + 999) / 1000;
        us = u > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)u;
    }
    __ulock_wait(GN__UL_COMPARE_AND_WAIT | GN__ULF_NO_ERRNO, addr, val, us);
    errno = saved;
}

GN__PRIVATE void gn__os_futex_wake(uint32_t *addr, int n) {
    int saved = errno;
#if GN__DARWIN_OS_SYNC
    if (__builtin_available(macOS 14.4, iOS 17.4, tvOS 17.4, watchOS 10.4, *)) {
        if (n == 1)
            os_sync_wake_by_address_any(addr, sizeof *addr, OS_SYNC_WAKE_BY_ADDRESS_NONE);
        else
            os_sync_wake_by_address_all(addr, sizeof *addr, OS_SYNC_WAKE_BY_ADDRESS_NONE);
        errno = saved;
        return;
    }
#endif
    /* -ENOENT (nobody waits) is the common answer and needs nothing done.      */
    __ulock_wake(GN__UL_COMPARE_AND_WAIT | GN__ULF_NO_ERRNO | (n == 1 ? 0 : GN__ULF_WAKE_ALL), addr, 0);
    errno = saved;
}
#endif /* !GN__FUTEX_EMULATED */

/* CPUs this process may use. macOS has no affinity masks and no CPU quotas to
 * honour, so it is the active CPUs (fewer than hw.ncpu on a machine with some
 * switched off).                                                              */
GN__PRIVATE int gn__os_ncpu(void) {
    int n = 0;
    size_t len = sizeof n;
    if (sysctlbyname("hw.activecpu", &n, &len, NULL, 0) != 0 || n <= 0)
        n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

/* The Mach VM has no limit on the number of mappings (Linux's
 * vm.max_map_count): every stack may have its guard page.                      */
GN__PRIVATE long gn__os_max_map_count(void) { return LONG_MAX / 4; }

/* Bounds of the calling thread's stack, for the sanitizers' fiber bookkeeping.
 * pthread_get_stackaddr_np gives the top (the highest address), not the base. */
GN__PRIVATE void gn__os_thread_stack(char **lo, size_t *size) {
    pthread_t self = pthread_self();
    char *top = (char *)pthread_get_stackaddr_np(self);
    size_t sz = pthread_get_stacksize_np(self);
    *lo = top ? top - sz : NULL;
    *size = top ? sz : 0;
}

#endif /* GN__OS_DARWIN */
