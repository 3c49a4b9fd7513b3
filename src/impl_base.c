/* impl_base.c — what every implementation part leans on: platform selection, config
 * defaults, allocation hooks, atomics, the runtime's own locks, errors, the clock.
 *
 * >>base                                                                        */

/* ---- platform and backend selection ------------------------------------------
 * Decided once, here. GN__OS_*: the OS layer. GN__CTX_*: the context switch
 * (GN_CTX_UCONTEXT forces the portable one). GN__POLL_*: the poller
 * (GN_POLL_POLL=1 forces the portable one).                                    */
#if defined(_WIN32)
#  define GN__OS_WINDOWS 1
#elif defined(__linux__)
#  define GN__OS_LINUX 1
#elif defined(__APPLE__)
#  define GN__OS_DARWIN 1
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || defined(__DragonFly__)
#  define GN__OS_BSD 1
#else
#  error "gonet.h: unknown platform (Linux, Windows, macOS and the BSDs are supported; see the manual's platform table)"
#endif
#if !GN__OS_WINDOWS
#  define GN__OS_POSIX 1
#endif

#if defined(GN_CTX_UCONTEXT)
#  define GN__CTX_UCONTEXT 1
#elif (defined(__x86_64__) || (defined(_M_X64) && !defined(_M_ARM64EC))) && defined(_WIN32)
#  define GN__CTX_X64_WIN 1
#elif defined(__x86_64__)
#  define GN__CTX_X64_SYSV 1
#elif defined(__aarch64__) && !defined(_WIN32)
#  define GN__CTX_ARM64 1
#else
#  define GN__CTX_UCONTEXT 1
#endif

/* Symbol spelling for the assembly switches: Mach-O prefixes an underscore;
 * ELF marks a function's type ("%function" is accepted on every ELF target);
 * PE/COFF has no hidden visibility and declares a function with .def (storage
 * class 2, external; type 32, a function).                                     */
#if defined(__APPLE__)
#  define GN__ASM_NAME(s) "_" s
#  define GN__ASM_HIDE(s) ".private_extern _" s "\n"
#  define GN__ASM_TYPE(s)
#elif defined(_WIN32)
#  define GN__ASM_NAME(s) s
#  define GN__ASM_HIDE(s)
#  define GN__ASM_TYPE(s) ".def " s "; .scl 2; .type 32; .endef\n"
#else
#  define GN__ASM_NAME(s) s
#  define GN__ASM_HIDE(s) ".hidden " s "\n"
#  define GN__ASM_TYPE(s) ".type " s ",%function\n"
#endif
/* A definition every translation unit may carry (GONET_STATIC builds), merged at
 * link time. Mach-O's ".weak" would mark a weak *reference* and leave duplicate
 * definitions; it spells a mergeable one ".weak_definition", on a global.       */
#if defined(__APPLE__)
#  define GN__ASM_WEAK(s) ".globl _" s "\n.weak_definition _" s "\n"
#else
#  define GN__ASM_WEAK(s) ".weak " s "\n"
#endif

/* GN_POLL_POLL=1 (or defined empty) forces the portable poll() backend; it is
 * also what a platform without epoll, kqueue or IOCP gets. GN_POLL_KQUEUE=1
 * forces kqueue (the tests build it on Linux over a <sys/event.h> shim).        */
#define GN__FLAG_SET(x) ((x + 0) != 0 || (0 - x - 1) == 1)

/* GN__CC_MSVC: Microsoft's cl, which has none of the GNU C the header otherwise
 * leans on (attributes, __builtin_expect, __atomic builtins, inline assembly);
 * x64 only, the one Windows CPU with a switch here. clang-cl speaks GNU C and
 * keeps that path. GN_CC_MSVC=1 forces the MSVC path on MinGW-w64 gcc or clang,
 * which is how the tests run it, with no cl at hand.                            */
#if (defined(_MSC_VER) && !defined(__clang__)) || (defined(GN_CC_MSVC) && GN__FLAG_SET(GN_CC_MSVC))
#  define GN__CC_MSVC 1
#  if !GN__CTX_X64_WIN
#    error "gonet.h: with MSVC, only Windows x64 is supported (clang-cl builds the others)"
#  endif
#  if !defined(__cplusplus) && (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#    error "gonet.h: cl compiles it as C with /std:c11 or later (its atomics need _Generic)"
#  endif
#endif
#if defined(GN_POLL_POLL) && GN__FLAG_SET(GN_POLL_POLL)
#  define GN__POLL_POLL 1
#elif defined(GN_POLL_KQUEUE) && GN__FLAG_SET(GN_POLL_KQUEUE)
#  define GN__POLL_KQUEUE 1
#elif GN__OS_WINDOWS
#  define GN__POLL_IOCP 1
#elif GN__OS_LINUX
#  define GN__POLL_EPOLL 1
#elif GN__OS_DARWIN || GN__OS_BSD
#  define GN__POLL_KQUEUE 1
#else
#  define GN__POLL_POLL 1
#endif

/* The futex under the runtime's locks: the OS's own (os_linux.c, os_darwin.c,
 * os_bsd.c), or GN_FUTEX_EMULATED=1 for the portable one in os_posix.c (mutex
 * and condition variable buckets), which NetBSD gets: it has no futex for
 * user space. make test-kqueue uses it on Linux, so the code is exercised.    */
#if GN__OS_POSIX && ((defined(GN_FUTEX_EMULATED) && GN__FLAG_SET(GN_FUTEX_EMULATED)) || defined(__NetBSD__))
#  define GN__FUTEX_EMULATED 1
#endif

/* Sanitizers: the context switch tells them about stack changes.                */
#if defined(__SANITIZE_ADDRESS__)
#  define GN__ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define GN__ASAN 1
#  endif
#endif
#if defined(__SANITIZE_THREAD__)
#  define GN__TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define GN__TSAN 1
#  endif
#endif
#if !defined(GN_NO_VALGRIND) && defined(__has_include)
#  if __has_include(<valgrind/valgrind.h>)
#    define GN__VALGRIND 1
#  endif
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#if GN__OS_WINDOWS
/* winsock2.h must come before windows.h, which would pull in the old winsock.h. */
#  ifndef WIN32_LEAN_AND_MEAN
#    define WIN32_LEAN_AND_MEAN 1
#  endif
#  include <winsock2.h>
#  include <ws2tcpip.h>
#  include <mswsock.h>
#  include <windows.h>
#  if GN__CC_MSVC
#    include <intrin.h>
#  endif
#  if defined(_MSC_VER)
#    pragma comment(lib, "ws2_32")
#  endif
#else
#  include <pthread.h>
#  include <sched.h>
#  include <unistd.h>
#  include <sys/mman.h>
#  include <sys/resource.h>
#  if GN__OS_LINUX
#    include <sys/syscall.h>
#  endif
#endif
#if GN__CTX_UCONTEXT
#  include <ucontext.h>
#endif
#if GN__ASAN
#  include <sanitizer/asan_interface.h>
#  include <sanitizer/common_interface_defs.h>
#endif
#if GN__TSAN
#  include <sanitizer/tsan_interface.h>
#endif
#if GN__VALGRIND
#  include <valgrind/valgrind.h>
#endif

/* ---- config hooks --------------------------------------------------------------*/
#if defined(GN_MALLOC) || defined(GN_REALLOC) || defined(GN_FREE)
#  if !defined(GN_MALLOC) || !defined(GN_REALLOC) || !defined(GN_FREE)
#    error "gonet.h: define all of GN_MALLOC, GN_REALLOC and GN_FREE, or none"
#  endif
#else
#  define GN_MALLOC(n)     malloc(n)
#  define GN_REALLOC(p, n) realloc(p, n)
#  define GN_FREE(p)       free(p)
#endif
#ifndef GN_ASSERT
#  include <assert.h>
#  define GN_ASSERT(c) assert(c)
#endif
#ifndef GN_STACK_SIZE
#  define GN_STACK_SIZE (64 * 1024)
#endif
#ifndef GN_MAX_PROCS
#  define GN_MAX_PROCS 256
#endif
#ifndef GN_MAX_THREADS
#  define GN_MAX_THREADS 10000
#endif

#if (defined(__GNUC__) || defined(__clang__)) && !GN__CC_MSVC
#  define GN__PRIVATE static __attribute__((unused))
#  define GN__NOINLINE __attribute__((noinline))
#  define GN__LIKELY(x) __builtin_expect(!!(x), 1)
#  define GN__UNLIKELY(x) __builtin_expect(!!(x), 0)
#elif GN__CC_MSVC
#  define GN__PRIVATE static
#  define GN__NOINLINE __declspec(noinline)
#  define GN__LIKELY(x) (x)
#  define GN__UNLIKELY(x) (x)
#else
#  define GN__PRIVATE static
#  define GN__NOINLINE
#  define GN__LIKELY(x) (x)
#  define GN__UNLIKELY(x) (x)
#endif
/* Functions the optimiser must treat as opaque: no inlining, no cloning, no
 * deduction that they are pure. Thread-local accessors after a switch point.     */
#if GN__CC_MSVC
#  define GN__OPAQUE __declspec(noinline)
#elif defined(__clang__)
#  define GN__OPAQUE __attribute__((noinline, optnone))
#elif defined(__GNUC__)
#  define GN__OPAQUE __attribute__((noinline, noipa))
#else
#  define GN__OPAQUE
#endif
/* cl's C has no _Thread_local; C++ spells it its own way.                        */
#if defined(__cplusplus)
#  define GN__THREAD_LOCAL thread_local
#elif defined(_MSC_VER)
#  define GN__THREAD_LOCAL __declspec(thread)
#else
#  define GN__THREAD_LOCAL _Thread_local
#endif

#define GN__MIN(a, b) ((a) < (b) ? (a) : (b))
#define GN__MAX(a, b) ((a) > (b) ? (a) : (b))

/* Fatal runtime inconsistency: print and abort. Never used for user errors.      */
/* A GN_MALLOC'd copy of s, or NULL.                                             */
GN__PRIVATE char *gn__strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = (char *)GN_MALLOC(n);
    if (d) memcpy(d, s, n);
    return d;
}

GN__PRIVATE void gn__fatal(const char *msg) {
    fprintf(stderr, "gonet: fatal: %s\n", msg);
    abort();
}

/* ---- atomics ---------------------------------------------------------------------
 * The GCC/Clang builtins, which ThreadSanitizer understands. Single-writer
 * counters use gn__count: a relaxed load and store, no locked instruction.
 * The _seq forms are sequentially consistent, for Dekker-style handshakes.      */
#if !GN__CC_MSVC
#define gn__load(p)           __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define gn__load_relaxed(p)   __atomic_load_n((p), __ATOMIC_RELAXED)
#define gn__store(p, v)       __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define gn__store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define gn__cas(p, expp, v)                                                         \
    __atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
#define gn__xadd(p, v)        __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define gn__xchg(p, v)        __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define gn__load_seq(p)       __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define gn__store_seq(p, v)   __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define gn__xadd_seq(p, v)    __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define gn__or_seq(p, v)      __atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#else
/* cl has no type-generic atomics. Each operation goes to a function by the
 * operand's size (4 or 8 bytes: anything else does not compile), carrying the
 * value as uint64_t bits, and gn__atomic_as turns the result back into the
 * operand's type (_Generic in C, a template in C++), so callers read the same
 * on both paths. On x64 an aligned load is an acquire and an aligned store a
 * release in hardware: here they are volatile accesses, and _ReadWriteBarrier
 * keeps the compiler from moving other accesses across them (relaxed ones get
 * the same, which costs next to nothing). The read-modify-writes are
 * _Interlocked* intrinsics, locked instructions and so full barriers; a
 * sequentially consistent store is therefore an exchange, and a sequentially
 * consistent load a plain one.                                                  */
#define gn__atomic_n(p) (sizeof(char[sizeof *(p) == 4 || sizeof *(p) == 8 ? 1 : -1]) ? sizeof *(p) : 0)
#define gn__atomic_bits(v) ((uint64_t)(uintptr_t)(v))
#if defined(__cplusplus)
template <class T> static inline T gn__atomic_as(T *, uint64_t x) { return (T)x; }
#else
GN__PRIVATE uint32_t gn__atomic_u32(uint64_t x) { return (uint32_t)x; }
GN__PRIVATE int32_t gn__atomic_i32(uint64_t x) { return (int32_t)x; }
GN__PRIVATE uint64_t gn__atomic_u64(uint64_t x) { return x; }
GN__PRIVATE int64_t gn__atomic_i64(uint64_t x) { return (int64_t)x; }
GN__PRIVATE void *gn__atomic_ptr(uint64_t x) { return (void *)(uintptr_t)x; }
typedef void (*gn__atomic_fn)(void *);   /* a callback (gn__fd's on_close)          */
GN__PRIVATE gn__atomic_fn gn__atomic_func(uint64_t x) { return (gn__atomic_fn)(uintptr_t)x; }
#define gn__atomic_as(p, x) _Generic(*(p), uint32_t: gn__atomic_u32, int32_t: gn__atomic_i32, \
    uint64_t: gn__atomic_u64, int64_t: gn__atomic_i64, gn__atomic_fn: gn__atomic_func,      \
    default: gn__atomic_ptr)(x)
#endif
GN__PRIVATE uint64_t gn__atomic_ld(const volatile void *p, size_t n) {
    uint64_t v = n == 4 ? *(const volatile uint32_t *)p : *(const volatile uint64_t *)p;
    _ReadWriteBarrier();
    return v;
}
GN__PRIVATE void gn__atomic_st(volatile void *p, uint64_t v, size_t n) {
    _ReadWriteBarrier();
    if (n == 4) *(volatile uint32_t *)p = (uint32_t)v;
    else *(volatile uint64_t *)p = v;
}
GN__PRIVATE int gn__atomic_cas(volatile void *p, void *expp, uint64_t v, size_t n) {
    if (n == 4) {
        LONG e, o;
        memcpy(&e, expp, 4);
        o = _InterlockedCompareExchange((volatile LONG *)p, (LONG)v, e);
        if (o == e) return 1;
        memcpy(expp, &o, 4);
    } else {
        LONG64 e, o;
        memcpy(&e, expp, 8);
        o = _InterlockedCompareExchange64((volatile LONG64 *)p, (LONG64)v, e);
        if (o == e) return 1;
        memcpy(expp, &o, 8);
    }
    return 0;
}
GN__PRIVATE uint64_t gn__atomic_xadd(volatile void *p, uint64_t v, size_t n) {
    if (n == 4) return (uint32_t)_InterlockedExchangeAdd((volatile LONG *)p, (LONG)v);
    return (uint64_t)_InterlockedExchangeAdd64((volatile LONG64 *)p, (LONG64)v);
}
GN__PRIVATE uint64_t gn__atomic_xchg(volatile void *p, uint64_t v, size_t n) {
    if (n == 4) return (uint32_t)_InterlockedExchange((volatile LONG *)p, (LONG)v);
    return (uint64_t)_InterlockedExchange64((volatile LONG64 *)p, (LONG64)v);
}
GN__PRIVATE uint64_t gn__atomic_or(volatile void *p, uint64_t v, size_t n) {
    if (n == 4) return (uint32_t)_InterlockedOr((volatile LONG *)p, (LONG)v);
    return (uint64_t)_InterlockedOr64((volatile LONG64 *)p, (LONG64)v);
}
#define gn__load(p)           gn__atomic_as(p, gn__atomic_ld((p), gn__atomic_n(p)))
#define gn__load_relaxed(p)   gn__load(p)
#define gn__store(p, v)       gn__atomic_st((p), gn__atomic_bits(v), gn__atomic_n(p))
#define gn__store_relaxed(p, v) gn__store((p), (v))
#define gn__cas(p, expp, v)   gn__atomic_cas((p), (expp), gn__atomic_bits(v), gn__atomic_n(p))
#define gn__xadd(p, v)        gn__atomic_as(p, gn__atomic_xadd((p), gn__atomic_bits(v), gn__atomic_n(p)))
#define gn__xchg(p, v)        gn__atomic_as(p, gn__atomic_xchg((p), gn__atomic_bits(v), gn__atomic_n(p)))
#define gn__load_seq(p)       gn__load(p)
#define gn__store_seq(p, v)   ((void)gn__xchg((p), (v)))
#define gn__xadd_seq(p, v)    gn__xadd((p), (v))
#define gn__or_seq(p, v)      gn__atomic_as(p, gn__atomic_or((p), gn__atomic_bits(v), gn__atomic_n(p)))
#endif
#define gn__count(p, v)       gn__store_relaxed((p), gn__load_relaxed(p) + (v))

GN__PRIVATE void gn__cpu_relax(void) {
#if GN__CC_MSVC
    _mm_pause();
#elif defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* ---- errors -------------------------------------------------------------------- */
/* The text for an errno value. The Windows C runtime names only the classic
 * ones (below 43); the POSIX names mingw's errno.h adds for sockets (100 and
 * up), which gn__err_from_wsa returns, it calls "Unknown error".             */
GN__PRIVATE const char *gn__errno_text(int e) {
#if GN__OS_WINDOWS
    static const struct { int e; const char *text; } names[] = {   /* glibc's words */
        {EADDRINUSE, "Address already in use"},   {EADDRNOTAVAIL, "Cannot assign requested address"},
        {EAFNOSUPPORT, "Address family not supported by protocol"},
        {EALREADY, "Operation already in progress"}, {ECONNABORTED, "Software caused connection abort"},
        {ECONNREFUSED, "Connection refused"},     {ECONNRESET, "Connection reset by peer"},
        {EDESTADDRREQ, "Destination address required"}, {EHOSTUNREACH, "No route to host"},
        {EINPROGRESS, "Operation now in progress"}, {EISCONN, "Transport endpoint is already connected"},
        {ELOOP, "Too many levels of symbolic links"}, {EMSGSIZE, "Message too long"},
        {ENETDOWN, "Network is down"},            {ENETRESET, "Network dropped connection on reset"},
        {ENETUNREACH, "Network is unreachable"},  {ENOBUFS, "No buffer space available"},
        {ENOPROTOOPT, "Protocol not available"},  {ENOTCONN, "Transport endpoint is not connected"},
        {ENOTSOCK, "Socket operation on non-socket"}, {EOPNOTSUPP, "Operation not supported"},
        {EPROTONOSUPPORT, "Protocol not supported"}, {EPROTOTYPE, "Protocol wrong type for socket"},
        {ETIMEDOUT, "Connection timed out"},      {EWOULDBLOCK, "Operation would block"},
        {ECANCELED, "Operation canceled"},        {EOVERFLOW, "Value too large for defined data type"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].e == e) return names[i].text;
#endif
    return strerror(e);
}

GONET_API const char *gn_version(void) { return GONET_VERSION_STRING; }

GONET_API const char *gn_strerror(int err) {
    switch (err) {
    case GN_OK:        return "success";
    case GN_EOF:       return "end of file";
    case GN_ETIMEDOUT: return "deadline exceeded";
    case GN_ECLOSED:   return "use of closed channel or connection";
    case GN_ECANCELED: return "context canceled";
    case GN_EAGAIN:    return "operation would block";
    case GN_ENOMEM:    return "out of memory";
    case GN_EINVAL:    return "invalid argument";
    case GN_ESTATE:    return "invalid state for this call";
    case GN_ENOSYS:    return "not supported";
    case GN_EBUFFULL:  return "buffer full";
    case GN_EUNEXPECTEDEOF: return "unexpected end of file";
    case GN_ENOPROGRESS: return "multiple reads returned no data";
    case GN_EUNREAD:   return "invalid use of unread byte";
    case GN_ENOHOST:   return "no such host";
    case GN_EHTTP:     return "malformed HTTP message";
    case GN_ECONFLICT: return "pattern conflicts with a registered pattern";
    case GN_ETOOLARGE: return "message too large";
    default: break;
    }
    if (err < 0 && err > -4000) return gn__errno_text(-err);
    return "unknown error";
}

/* Maps an errno value to a return code. The one place that reads errno's meaning. */
GN__PRIVATE int gn__err_from_errno(int e) {
    switch (e) {
    case 0:         return GN_OK;
    case ENOMEM:    return GN_ENOMEM;
    case EINVAL:    return GN_EINVAL;
    case ETIMEDOUT: return GN_ETIMEDOUT;
    case ECANCELED: return GN_ECANCELED;
#if EAGAIN != EWOULDBLOCK
    case EWOULDBLOCK:
#endif
    case EAGAIN:    return GN_EAGAIN;
    default:        return -e;
    }
}

#if GN__OS_WINDOWS
/* Maps a Winsock (or Win32, from an overlapped result) error to a return code:
 * the errno a POSIX system gives in the same case, so callers test one set of
 * names everywhere (-ECONNRESET, -ECONNREFUSED, -EADDRINUSE, ...).            */
GN__PRIVATE int gn__err_from_wsa(int e) {
    switch (e) {
    case 0:                      return GN_OK;
    case WSA_NOT_ENOUGH_MEMORY:  return GN_ENOMEM;
    case WSAEINVAL:              return GN_EINVAL;
    case WSAEWOULDBLOCK:         return GN_EAGAIN;
    case WSAETIMEDOUT:
    case ERROR_SEM_TIMEOUT:      return GN_ETIMEDOUT;
    case WSA_OPERATION_ABORTED:  return GN_ECANCELED;
    case WSAEINTR:               return -EINTR;
    case WSAEBADF:
    case WSA_INVALID_HANDLE:     return -EBADF;
    case WSAEACCES:              return -EACCES;
    case WSAEFAULT:              return -EFAULT;
    case WSAEMFILE:              return -EMFILE;
    case WSAEINPROGRESS:         return -EINPROGRESS;
    case WSAEALREADY:            return -EALREADY;
    case WSAENOTSOCK:            return -ENOTSOCK;
    case WSAEDESTADDRREQ:        return -EDESTADDRREQ;
    case WSAEMSGSIZE:            return -EMSGSIZE;
    case WSAEPROTOTYPE:          return -EPROTOTYPE;
    case WSAENOPROTOOPT:         return -ENOPROTOOPT;
    case WSAEPROTONOSUPPORT:     return -EPROTONOSUPPORT;
    case WSAESOCKTNOSUPPORT:
    case WSAEOPNOTSUPP:          return -EOPNOTSUPP;
    case WSAEPFNOSUPPORT:
    case WSAEAFNOSUPPORT:        return -EAFNOSUPPORT;
    case WSAEADDRINUSE:          return -EADDRINUSE;
    case WSAEADDRNOTAVAIL:       return -EADDRNOTAVAIL;
    case WSAENETDOWN:            return -ENETDOWN;
    case WSAENETUNREACH:         return -ENETUNREACH;
    case WSAENETRESET:           return -ENETRESET;
    case WSAECONNABORTED:
    case ERROR_CONNECTION_ABORTED: return -ECONNABORTED;
    case WSAECONNRESET:
    case ERROR_NETNAME_DELETED:  return -ECONNRESET;
    case WSAENOBUFS:             return -ENOBUFS;
    case WSAEISCONN:             return -EISCONN;
    case WSAENOTCONN:            return -ENOTCONN;
    case WSAESHUTDOWN:           return -EPIPE;   /* a write after close_write, as POSIX */
    case WSAECONNREFUSED:
    case ERROR_CONNECTION_REFUSED: return -ECONNREFUSED;
    case WSAELOOP:               return -ELOOP;
    case WSAENAMETOOLONG:        return -ENAMETOOLONG;
    case WSAEHOSTDOWN:
    case WSAEHOSTUNREACH:
    case ERROR_HOST_UNREACHABLE: return -EHOSTUNREACH;
    case ERROR_NETWORK_UNREACHABLE: return -ENETUNREACH;
    case WSANOTINITIALISED:
    case WSASYSNOTREADY:
    case WSAVERNOTSUPPORTED:     return GN_ENOSYS;
    default:                     return -EIO;
    }
}
#endif
