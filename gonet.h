/* gonet.h v0.1.0 (2026-11-22) — Go's concurrency and networking model for C, in one header.
   MIT licence at the end of the file.

   Do this in exactly one .c file:
       #define GONET_IMPLEMENTATION
       #include "gonet.h"
   and include "gonet.h" without the define wherever else you call it. Build with
       cc -O2 app.c -o app -pthread           (Linux; glibc 2.34+ needs no -pthread)

   CONTENTS
     1. Quick start
     2. Configuration macros
     3. Concepts: G, P, M, and what "a coroutine may change threads" means for you
     4. Runtime and coroutines        gn_main gn_run gn_go gn_yield gn_sleep gn_pin
     5. Blocking calls                gn_blocking gn_blocking_enter/exit
     6. Channels and select           gn_chan_* gn_select*
     7. Sync and context              gn_mutex gn_rwmutex gn_waitgroup gn_cond gn_once gn_context_*
     8. Timers                        gn_timer_* gn_ticker_new gn_after_func
     9. Stacks and memory             stack sizes, guard pages, a million coroutines
    10. Errors                        return codes, gn_strerror
    11. Stats                         gn_stats_read
    12. Networking                    gn_listen gn_accept gn_dial gn_read gn_write deadlines UDP
    13. Where gonet differs from Go
    14. Platforms

   1. QUICK START ---------------------------------------------------------------
       static void worker(void *arg) {
           gn_chan *results = arg;
           int v = 42;
           gn_sleep(10 * GN_MILLISECOND);        // parks this coroutine only
           gn_chan_send(results, &v);
       }
       static void app(void *arg) {
           gn_chan *results = gn_chan_new(sizeof(int), 0);
           for (int i = 0; i < 1000; i++) gn_go(worker, results);
           for (int i = 0, v; i < 1000; i++) gn_chan_recv(results, &v);
           gn_chan_free(results);
       }
       int main(void) { return gn_main(app, NULL); }

   2. CONFIGURATION MACROS --------------------------------------------------------
     Set before including gonet.h. "impl" means: only where GONET_IMPLEMENTATION
     is defined; "all" means: identically in every file that includes gonet.h.
       GONET_STATIC        all   off   make every function static (one-file programs)
       GONET_DLL           all   off   export (or import) the API from a shared library
       GN_MALLOC/GN_REALLOC/GN_FREE
                           impl  libc  the allocator; define all three or none
       GN_ASSERT(c)        impl  assert  internal consistency checks
       GN_STACK_SIZE       impl  65536 default coroutine stack, bytes (see 9)
       GN_MAX_PROCS        impl  256   upper bound on Ps
       GN_CTX_UCONTEXT     impl  off   use the portable ucontext switch instead of
                                       the assembly one (any CPU; much slower)
       GN_NO_VALGRIND      impl  off   do not tell valgrind about coroutine stacks
                                       even when <valgrind/valgrind.h> is present
     At run time: GONET_MAXPROCS=n in the environment sets the number of Ps when
     gn_config.procs is 0.
     If the implementing file includes system headers before gonet.h, define
     _GNU_SOURCE first (gonet.h defines it itself when it comes first).

   3. CONCEPTS ---------------------------------------------------------------------
     A coroutine (a G, as in Go) is a function with its own stack. Write plain
     blocking code in it: every gn_ call that waits (gn_sleep, a channel
     operation, a mutex, later a socket read) parks the coroutine and lets the
     thread run another one. The runtime runs coroutines on M OS threads; at
     most P of them run at once, P being gn_config.procs (default: the CPUs this
     process may use, from its affinity mask and cgroup CPU quota). Each P has
     its own run queue; idle threads steal work from busy ones, and sleep when
     there is none. Scheduling is cooperative: a coroutine runs until it
     reaches a switch point (a gn_ call that waits, or gn_yield). A loop that
     computes for long without one holds its P (gn_stats counts such
     "long runners"); call gn_yield in it now and then.

     A coroutine may resume on a different OS thread than the one it parked on.
     This is the one rule that C code must respect:
       * errno is saved and restored by the runtime, so a coroutine keeps its
         own errno across switch points. But glibc declares errno's address
         constant, so the compiler may reuse the old thread's address after a
         switch: read errno right after the call that set it, before any gn_
         call that may switch. gonet's own functions never leave their error
         in errno; they return it.
       * Thread-local variables (_Thread_local, __thread, pthread keys, and
         library state kept per thread) are the current thread's: after a
         switch point they may be another thread's. Compilers may also keep the
         address of a thread-local in a register across a call; reading one
         after a switch point can then read the old thread's variable. Either
         do not hold thread-local state across switch points, or pin the
         coroutine to its thread with gn_pin()/gn_unpin() around that code.
       * Never hold a pthread mutex (or any lock that blocks the thread) across
         a switch point; use gn_mutex, which parks the coroutine instead.

   4. RUNTIME AND COROUTINES ---------------------------------------------------------
     gn_main(fn, arg) starts the runtime on the calling thread with default
     settings, runs fn(arg) as the first coroutine, and returns when fn returns;
     gn_run(&cfg, fn, arg) does the same with a gn_config (zero fields take
     defaults). Coroutines still blocked at that point are discarded, as when a
     Go program's main returns; the runtime waits for threads that are inside a
     blocking call (5) to come back. The runtime can be started again later,
     but only one runs at a time in a process.
     gn_go(fn, arg) spawns a coroutine and returns its id; it works from any
     thread while the runtime runs. gn_go_with adds options (stack size).
     gn_yield() lets other runnable coroutines run first. gn_sleep(d) and
     gn_sleep_until(t) park; outside a coroutine they sleep the thread.
     gn_id() is the running coroutine's id (0 outside one).
     gn_pin() keeps the calling coroutine on its thread, and other coroutines
     off it, until gn_unpin() (calls nest). Go's runtime.LockOSThread.

   5. BLOCKING CALLS ----------------------------------------------------------------
     Code that blocks its thread (a blocking read of a file, a database client
     library, a heavy computation) goes between gn_blocking_enter() and
     gn_blocking_exit(), or inside gn_blocking(fn, arg). The thread keeps
     running that coroutine, but its P is marked as in a blocking call; if the
     call lasts (from about 20 us when other work is waiting, at most 10 ms
     otherwise) the monitor thread hands the P to another thread, so the other
     coroutines keep running. On exit the coroutine gets a P back, waiting its
     turn if all are busy. Inside the section, call no gn_ function that may
     switch. Go's entersyscall/exitsyscall.

   6. CHANNELS AND SELECT -------------------------------------------------------------
     gn_chan_new(elem_size, cap) makes a channel of fixed-size elements, copied
     in and out; cap 0 is unbuffered (a send waits for a receiver). send, recv,
     close, len and cap behave as in Go, with errors instead of panics: a send
     on a closed channel returns GN_ECLOSED, a receive returns GN_ECLOSED once
     the channel is closed and drained. try_send/try_recv never wait.
     gn_select(cases, n) waits on several sends and receives and performs one,
     chosen at random among the ready ones; gn_select_try is select with a
     default case; gn_select_until adds a deadline. A case with a NULL channel
     never proceeds, as a nil channel in Go.

   7. SYNC AND CONTEXT ------------------------------------------------------------------
     gn_mutex, gn_rwmutex, gn_waitgroup, gn_cond and gn_once are usable when
     zeroed, like Go's zero values, and park the coroutine, never the thread.
     A gn_context carries cancellation and a deadline from parent to children;
     gn_context_done(ctx) is a channel that closes on cancellation, for
     gn_select. Free derived contexts with gn_context_free (which cancels them).

   8. TIMERS --------------------------------------------------------------------------------
     gn_timer_new(d) and gn_ticker_new(period) deliver gn_now() on a channel of
     capacity 1 (gn_timer_chan); gn_after_func(d, fn, arg) runs fn in a new
     coroutine. Stop and reset follow Go 1.23: once they return, no value from
     the old arming can be received. Timers live in a heap per P, run by the
     scheduler; the thread that sleeps in the poller wakes for the earliest.

   9. STACKS AND MEMORY -------------------------------------------------------------------
     Stacks have a fixed size (gn_config.stack_size, gn_go_opts.stack_size,
     default GN_STACK_SIZE = 64 KiB) and do not grow; they are reserved, not
     committed, so a coroutine costs only the pages it touches (a sleeping
     coroutine is about one 4 KiB page: its G struct lives at the top of its
     own stack). Large local arrays or deep recursion need a bigger stack.
     A guard page below each stack turns an overflow into a fault, reported as
     "gonet: stack overflow in coroutine N" before the process dies. A single
     frame larger than a page (a big local array) can jump over the guard and
     corrupt a neighbour instead; compile with -fstack-clash-protection (gcc,
     clang) so such frames touch every page on the way down and hit it.
     Linux limits mappings per process (vm.max_map_count, 65530 by default),
     and a guarded stack takes two. gn_config.stack_guard chooses:
        0 (default)  guard pages while they fit in half of that limit; after
                     that, default-size stacks come unguarded from slabs of 64
                     (a million coroutines work out of the box);
        1            always guard (spawning fails with GN_ENOMEM at the limit);
       -1            never guard: slabs only, the least memory and mappings.
     Stacks of finished coroutines are kept for reuse until the runtime stops.

  10. ERRORS --------------------------------------------------------------------------------
     Functions return >= 0 on success and a negative code on failure: GN_EOF,
     GN_ETIMEDOUT, GN_ECLOSED, GN_ECANCELED, GN_EAGAIN, GN_ENOMEM, GN_EINVAL,
     GN_ESTATE, GN_ENOSYS, or -errno for an operating-system error.
     gn_strerror(code) describes any of them. A NULL or out-of-range argument
     is GN_EINVAL, never a crash.

  11. STATS ---------------------------------------------------------------------------------
     gn_stats_read(&st) fills counters kept per P (so cheap to leave on):
     coroutines alive and created, context switches, parks, steals, threads,
     blocking calls and hand-offs, long runners, pending timers, poller calls.

  12. NETWORKING ----------------------------------------------------------------------------
     Go's net, for coroutines. gn_listen(&l, "tcp", ":8080") and gn_accept give
     connections; gn_dial(&c, "tcp", "example.org:80") connects (names resolve
     through gn_blocking, so other coroutines keep running; every address of a
     name is tried in turn). gn_read returns what is there (GN_EOF at the end);
     gn_write writes everything or fails. Networks: tcp, tcp4, tcp6, unix, udp,
     udp4, udp6, unixgram; ":port" listens on every interface, IPv6 and IPv4.
     Deadlines work as in Go: absolute instants, settable from any coroutine at
     any time, applied to an operation already blocked, GN_ETIMEDOUT once passed,
     and a connection is usable again once its deadline is moved later.
     gn_close wakes coroutines blocked on the connection with GN_ECLOSED; the
     descriptor itself is closed when the last of them has returned, so a
     reused descriptor number is never touched. Start no call after gn_close.
     Under the hood every descriptor is non-blocking and registered once with
     epoll, edge-triggered. An operation tries its system call first and parks
     only on EAGAIN; a short read marks the socket drained, so the next read
     waits for readiness instead of spending a system call on EAGAIN.
     gn_accept rides out descriptor exhaustion (EMFILE) by backing off, 5 ms
     doubling to 1 s. Writes to sockets never raise SIGPIPE (MSG_NOSIGNAL);
     writes to a pipe wrapped with gn_conn_from_fd can, as in C: ignore SIGPIPE
     if that matters to you.

  13. WHERE GONET DIFFERS FROM GO -----------------------------------------------------------
     * No preemption: a coroutine that never reaches a switch point keeps its P.
       Signals cannot safely interrupt C code (malloc, locks), so this is a choice.
     * Fixed-size stacks (see 9) instead of growing ones.
     * Errors are return codes; where Go panics (send on a closed channel,
       negative WaitGroup counter, unlock of an unlocked mutex) gonet returns
       GN_ECLOSED, GN_EINVAL or GN_ESTATE.
     * The floating-point environment (rounding mode) belongs to the thread,
       as in Go, so a coroutine that changes it must restore it before its
       next switch point.

  14. PLATFORMS -----------------------------------------------------------------------------
     Linux on x86_64 and aarch64 (assembly context switch, epoll), and any
     other Linux CPU with GN_CTX_UCONTEXT. kqueue (macOS, BSD) and IOCP
     (Windows) backends are planned.
*/

#ifndef GONET_H
#define GONET_H
#if defined(GONET_IMPLEMENTATION) && defined(__linux__) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE 1
#endif

/* ==== begin src/api_base.h ==== */
/* api_base.h — version, linkage, error codes and time: what every other part of the API uses. */

#include <stddef.h>
#include <stdint.h>

#define GONET_VERSION_MAJOR 0
#define GONET_VERSION_MINOR 1
#define GONET_VERSION_PATCH 0
#define GONET__STR2(x) #x
#define GONET__STR(x) GONET__STR2(x)
#define GONET_VERSION_STRING                                                     \
    GONET__STR(GONET_VERSION_MAJOR) "." GONET__STR(GONET_VERSION_MINOR) "."      \
    GONET__STR(GONET_VERSION_PATCH)
#define GONET_VERSION_NUMBER                                                     \
    (GONET_VERSION_MAJOR * 10000 + GONET_VERSION_MINOR * 100 + GONET_VERSION_PATCH)

#ifndef GONET_API
#  if defined(GONET_STATIC) && (defined(__GNUC__) || defined(__clang__))
#    define GONET_API static __attribute__((unused))
#  elif defined(GONET_STATIC)
#    define GONET_API static
#  elif defined(_WIN32) && defined(GONET_DLL) && defined(GONET_IMPLEMENTATION)
#    define GONET_API __declspec(dllexport)
#  elif defined(_WIN32) && defined(GONET_DLL)
#    define GONET_API __declspec(dllimport)
#  elif defined(GONET_DLL) && (defined(__GNUC__) || defined(__clang__))
#    define GONET_API __attribute__((visibility("default"))) extern
#  else
#    define GONET_API extern
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version ------------------------------------------------------------ */
GONET_API const char *gn_version(void);   /* GONET_VERSION_STRING of the implementation */

/* ---- errors -------------------------------------------------------------
 * Every fallible function returns >= 0 on success and a negative code on failure:
 * one of these (a range no errno value reaches), or -errno for an OS error.
 * Errors are returned, never left in errno: a coroutine may resume on another
 * thread, and errno belongs to the thread.                                      */
#define GN_OK          0
#define GN_EOF        (-4001) /* end of stream: gn_read, bufio                        */
#define GN_ETIMEDOUT  (-4002) /* a deadline passed: select, dial, read, write, context */
#define GN_ECLOSED    (-4003) /* the channel or connection is closed                  */
#define GN_ECANCELED  (-4004) /* the context was cancelled                            */
#define GN_EAGAIN     (-4005) /* would block: gn_chan_try_*, gn_select_try            */
#define GN_ENOMEM     (-4006) /* an allocation failed                                 */
#define GN_EINVAL     (-4007) /* a NULL or out-of-range argument                      */
#define GN_ESTATE     (-4008) /* called in the wrong state (no runtime, not a coroutine,
                                 runtime already running, unlock of an unlocked mutex) */
#define GN_ENOSYS     (-4009) /* not supported on this platform or build              */
#define GN_EBUFFULL   (-4010) /* bufio: the buffer is full (peek, read_slice)         */
#define GN_EUNEXPECTEDEOF (-4011) /* input ended part-way: bufio read_full            */
#define GN_ENOPROGRESS (-4012) /* bufio: the source keeps returning 0 bytes           */
#define GN_EUNREAD    (-4013) /* bufio: unread_byte with no byte to step back over    */
#define GN_ENOHOST    (-4014) /* net: the name does not resolve to any address         */
#define GN_EHTTP      (-4015) /* http: a malformed message (the peer's fault)          */
#define GN_ECONFLICT  (-4016) /* http mux: the pattern conflicts with a registered one */
#define GN_ETOOLARGE  (-4017) /* http: a header block or body over its limit           */

/* A short, constant description of any code this library returns (including -errno). */
GONET_API const char *gn_strerror(int err);

/* ---- time -----------------------------------------------------------------
 * Durations and instants are int64_t nanoseconds. gn_now() reads the monotonic
 * clock; deadlines are absolute gn_now() instants, and 0 means "no deadline".   */
#define GN_NANOSECOND  ((int64_t)1)
#define GN_MICROSECOND ((int64_t)1000)
#define GN_MILLISECOND ((int64_t)1000000)
#define GN_SECOND      ((int64_t)1000000000)
#define GN_MINUTE      (60 * GN_SECOND)
#define GN_HOUR        (60 * GN_MINUTE)

GONET_API int64_t gn_now(void);           /* monotonic nanoseconds, never negative */

#ifdef __cplusplus
}
#endif
/* ==== end src/api_base.h ==== */

/* ==== begin src/api_runtime.h ==== */
/* api_runtime.h — the runtime: start and stop, coroutines, blocking calls, timers, stats. */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- runtime ---------------------------------------------------------------
 * Zero-initialise a gn_config and set only what you need: every zero field
 * takes its default.                                                            */
typedef struct gn_config {
    int    procs;        /* Ps, i.e. coroutines running at once. 0: $GONET_MAXPROCS,
                            else the CPUs this process may use (affinity, cgroup quota) */
    size_t stack_size;   /* default coroutine stack, bytes. 0: GN_STACK_SIZE (64 KiB)   */
    int    stack_guard;  /* 0: guard pages while the VMA budget allows (see manual),
                            1: always, -1: never (slab-allocated stacks)               */
    int    sysmon;       /* 0: run the monitor thread; -1: do not                       */
} gn_config;

/* Starts the runtime on the calling thread, runs fn(arg) as the first coroutine
 * and returns when it returns: 0, or a negative code if the runtime could not
 * start (GN_ESTATE if one is already running in this process). Coroutines still
 * blocked when fn returns are discarded without running further, as when a Go
 * program's main returns. The runtime can be started again afterwards.          */
GONET_API int gn_main(void (*fn)(void *arg), void *arg);
GONET_API int gn_run(const gn_config *cfg, void (*fn)(void *arg), void *arg);

/* ---- coroutines ----------------------------------------------------------- */
typedef struct gn_go_opts {
    size_t stack_size;   /* 0: the runtime's default                                   */
} gn_go_opts;

/* Spawns fn(arg) as a new coroutine. Returns its id (> 0) or GN_ENOMEM,
 * GN_ESTATE (no runtime), GN_EINVAL (fn is NULL). Callable from any thread
 * while the runtime runs, including threads it did not create.               */
GONET_API int64_t gn_go(void (*fn)(void *arg), void *arg);
GONET_API int64_t gn_go_with(void (*fn)(void *arg), void *arg, const gn_go_opts *opts);

GONET_API void    gn_yield(void);          /* let other runnable coroutines run       */
/* Parks the coroutine for d ns (until the deadline); outside a coroutine it
 * sleeps the calling thread. 0, or GN_ENOMEM.                                    */
GONET_API int     gn_sleep(int64_t d);
GONET_API int     gn_sleep_until(int64_t deadline);
GONET_API int64_t gn_id(void);             /* this coroutine's id, 0 outside one       */
GONET_API int     gn_num_goroutine(void);  /* coroutines that exist now                */
GONET_API int     gn_procs(void);          /* Ps of the running runtime, 0 if none     */

/* Pinning keeps the calling coroutine on its current OS thread, and keeps every
 * other coroutine off that thread, until the matching gn_unpin (calls nest):
 * for code that uses thread-local state across a switch point.                  */
GONET_API int gn_pin(void);
GONET_API int gn_unpin(void);

/* ---- blocking calls ----------------------------------------------------------
 * Wrap code that blocks its thread (file I/O, a blocking library call) so that
 * the other coroutines keep running: the thread gives its P away if the call
 * takes long. Between enter and exit, call no gn_ function that may switch.    */
GONET_API void gn_blocking_enter(void);
GONET_API void gn_blocking_exit(void);
GONET_API void gn_blocking(void (*fn)(void *arg), void *arg);

/* ---- timers ------------------------------------------------------------------
 * Go's time.Timer, time.Ticker and time.AfterFunc. A channel timer delivers the
 * gn_now() of its firing, an int64_t, on a channel of capacity 1 (gn_timer_chan).
 * After gn_timer_stop or gn_timer_reset returns, no value from before it can be
 * received (Go 1.23 semantics). A func timer runs fn(arg) in a new coroutine.
 * The timer owns its channel; gn_timer_free stops the timer and frees both.
 * The constructors return NULL on ENOMEM, for a ticker period <= 0, or when no
 * runtime runs. Durations too large to add to gn_now() saturate.               */
typedef struct gn_timer gn_timer;
typedef struct gn_chan  gn_chan;

GONET_API gn_timer *gn_timer_new(int64_t d);                   /* fires once after d   */
GONET_API gn_timer *gn_ticker_new(int64_t period);             /* every period (> 0)   */
GONET_API gn_timer *gn_after_func(int64_t d, void (*fn)(void *arg), void *arg);
GONET_API gn_chan  *gn_timer_chan(gn_timer *t);                 /* NULL for func timers */
GONET_API int  gn_timer_stop(gn_timer *t);   /* 1 if it stopped a pending firing, 0 if
                                                none was pending, GN_EINVAL on NULL     */
GONET_API int  gn_timer_reset(gn_timer *t, int64_t d);  /* re-arm; same result as stop;
                                                for a ticker d becomes the period too    */
GONET_API void gn_timer_free(gn_timer *t);

/* ---- stats ------------------------------------------------------------------
 * Counters since gn_run started; cheap enough to leave on. Read at any time
 * from any thread; each field is exact, the set is not an atomic snapshot.     */
typedef struct gn_stats {
    int64_t goroutines;         /* alive now                                         */
    int64_t goroutines_created;
    int64_t context_switches;
    int64_t parks;              /* coroutines that blocked (channel, sleep, lock...) */
    int64_t steals;             /* steal operations that took work                  */
    int64_t procs;              /* Ps                                                */
    int64_t threads;            /* Ms: OS threads that run coroutines                */
    int64_t threads_idle;
    int64_t blocking_calls;     /* gn_blocking_enter calls                          */
    int64_t handoffs;           /* Ps taken from threads stuck in a blocking call   */
    int64_t long_runners;       /* times a coroutine ran > 10 ms without switching  */
    int64_t timers;             /* pending timers, sleeps included                  */
    int64_t polls;              /* poller calls                                     */
} gn_stats;

GONET_API void gn_stats_read(gn_stats *out);   /* all zeros when no runtime runs */

#ifdef __cplusplus
}
#endif
/* ==== end src/api_runtime.h ==== */

/* ==== begin src/api_chan.h ==== */
/* api_chan.h — channels and select, Go's chan and select statement. */

#ifdef __cplusplus
extern "C" {
#endif

/* A channel carries elements of a fixed size, copied in and out with memcpy.
 * cap 0 is unbuffered: a send waits for its receiver. Safe from any coroutine
 * on any thread. The creator owns it and frees it with gn_chan_free once no
 * coroutine can touch it any more (after gn_run returns, a channel that still
 * had waiters may be freed but not used). Every function returns GN_EINVAL
 * for a NULL channel, and GN_ESTATE when it would have to wait outside a
 * coroutine; the try_ forms work from any thread.                              */
GONET_API gn_chan *gn_chan_new(size_t elem_size, size_t cap);  /* NULL on ENOMEM or
                                                  elem_size > 65536 */
GONET_API void   gn_chan_free(gn_chan *c);

/* 0 when sent; GN_ECLOSED if the channel is closed (the value is not sent). */
GONET_API int    gn_chan_send(gn_chan *c, const void *elem);
/* 0 when a value was received into elem (elem may be NULL to discard it);
 * GN_ECLOSED once the channel is closed and drained (elem is zeroed).       */
GONET_API int    gn_chan_recv(gn_chan *c, void *elem);
/* The same, but GN_EAGAIN instead of waiting.                                */
GONET_API int    gn_chan_try_send(gn_chan *c, const void *elem);
GONET_API int    gn_chan_try_recv(gn_chan *c, void *elem);
/* Receivers drain what is buffered, then get GN_ECLOSED; waiting senders get
 * GN_ECLOSED. Returns 0, or GN_ECLOSED if it was closed already.            */
GONET_API int    gn_chan_close(gn_chan *c);
GONET_API size_t gn_chan_len(gn_chan *c);
GONET_API size_t gn_chan_cap(gn_chan *c);

/* ---- select ------------------------------------------------------------------
 * Waits until one case can proceed and performs it; when several can, one is
 * chosen uniformly at random, as in Go. A case with a NULL channel never
 * proceeds. Returns the index of the chosen case and sets its result field:
 * 0, or GN_ECLOSED for a receive from a closed, drained channel or a send to a
 * closed channel (where Go panics).                                           */
enum { GN_RECV = 0, GN_SEND = 1 };

typedef struct gn_select_case {
    gn_chan *chan;
    int      op;        /* GN_RECV or GN_SEND                                  */
    void    *elem;      /* where a received value goes (may be NULL), or the
                           value to send                                       */
    int      result;    /* set for the chosen case: 0 or GN_ECLOSED            */
} gn_select_case;

/* GN_EINVAL if n is 0 or every channel is NULL (Go would block forever).      */
GONET_API int gn_select(gn_select_case *cases, int n);
/* With a default case: GN_EAGAIN when no case is ready now.                   */
GONET_API int gn_select_try(gn_select_case *cases, int n);
/* GN_ETIMEDOUT if no case proceeds before the absolute deadline (0: none).     */
GONET_API int gn_select_until(gn_select_case *cases, int n, int64_t deadline);

#ifdef __cplusplus
}
#endif
/* ==== end src/api_chan.h ==== */

/* ==== begin src/api_sync.h ==== */
/* api_sync.h — Go's sync package and context: they park the coroutine, never the thread.
 *
 * Mutex, RWMutex, WaitGroup, Cond and Once are plain structs: embed them, and a
 * zeroed one is ready to use (like Go's zero values; GN_MUTEX_INIT and friends
 * spell that out). Their fields are private. None may be copied once used.
 * Called from a thread outside the runtime, a lock spins with sched_yield and
 * a cond wait returns at once (a spurious wake-up).                            */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gn__waitq { void *head, *tail; } gn__waitq;

typedef struct gn_mutex {
    uint32_t state_, lock_;
    gn__waitq waiters_;
} gn_mutex;
#define GN_MUTEX_INIT {0, 0, {0, 0}}

GONET_API void gn_mutex_lock(gn_mutex *m);
GONET_API int  gn_mutex_trylock(gn_mutex *m);   /* 1 if locked, 0 if held elsewhere  */
GONET_API int  gn_mutex_unlock(gn_mutex *m);    /* 0, or GN_ESTATE if not locked      */

typedef struct gn_rwmutex {
    uint32_t lock_;
    int32_t  readers_, writer_, writers_waiting_;
    gn__waitq rwait_, wwait_;
} gn_rwmutex;
#define GN_RWMUTEX_INIT {0, 0, 0, 0, {0, 0}, {0, 0}}

/* A waiting writer blocks new readers, so writers are not starved (as in Go). */
GONET_API void gn_rwmutex_rlock(gn_rwmutex *m);
GONET_API int  gn_rwmutex_runlock(gn_rwmutex *m);   /* GN_ESTATE if not read-locked */
GONET_API void gn_rwmutex_lock(gn_rwmutex *m);
GONET_API int  gn_rwmutex_unlock(gn_rwmutex *m);    /* GN_ESTATE if not locked      */

typedef struct gn_waitgroup {
    int64_t  count_;
    uint32_t lock_;
    gn__waitq waiters_;
} gn_waitgroup;
#define GN_WAITGROUP_INIT {0, 0, {0, 0}}

/* GN_EINVAL (and no change) if the counter would go negative.                 */
GONET_API int  gn_waitgroup_add(gn_waitgroup *wg, int64_t delta);
GONET_API int  gn_waitgroup_done(gn_waitgroup *wg);
GONET_API void gn_waitgroup_wait(gn_waitgroup *wg);

typedef struct gn_cond {
    uint32_t lock_;
    gn__waitq waiters_;
} gn_cond;
#define GN_COND_INIT {0, {0, 0}}

/* Unlocks m, waits for a signal, locks m again before returning.              */
GONET_API void gn_cond_wait(gn_cond *c, gn_mutex *m);
GONET_API void gn_cond_signal(gn_cond *c);
GONET_API void gn_cond_broadcast(gn_cond *c);

typedef struct gn_once {
    uint32_t done_;
    gn_mutex mu_;
} gn_once;
#define GN_ONCE_INIT {0, GN_MUTEX_INIT}

/* Runs fn(arg) the first time only; every caller returns after it has run.    */
GONET_API void gn_once_do(gn_once *o, void (*fn)(void *arg), void *arg);

/* ---- context -------------------------------------------------------------------
 * Go's context.Context: cancellation and deadlines flowing from parent to
 * children, with a done channel to use in gn_select. Each derived context is
 * owned by its creator and released with gn_context_free, which also cancels it
 * (Go's "defer cancel()") and releases its deadline timer. Free children
 * before their parent (a child whose parent goes first is detached, not left
 * dangling). The background context is static and never freed; NULL means
 * background everywhere. Unlike Go, a value context can be cancelled too.
 * The deadline constructors return NULL when no runtime runs (nothing could
 * fire the deadline), unless the deadline has already passed.                  */
typedef struct gn_context gn_context;

GONET_API gn_context *gn_context_background(void);
GONET_API gn_context *gn_context_with_cancel(gn_context *parent);     /* NULL on ENOMEM */
GONET_API gn_context *gn_context_with_deadline(gn_context *parent, int64_t deadline);
GONET_API gn_context *gn_context_with_timeout(gn_context *parent, int64_t d);
GONET_API gn_context *gn_context_with_value(gn_context *parent, const void *key, void *value);
GONET_API void        gn_context_cancel(gn_context *ctx);   /* err becomes GN_ECANCELED   */
GONET_API void        gn_context_free(gn_context *ctx);
/* 0 while live, then GN_ECANCELED or GN_ETIMEDOUT (deadline exceeded).           */
GONET_API int         gn_context_err(gn_context *ctx);
/* Closed when the context is cancelled; NULL for background (never closes).     */
GONET_API gn_chan    *gn_context_done(gn_context *ctx);
GONET_API int64_t     gn_context_deadline(gn_context *ctx);  /* earliest in the chain, 0: none */
GONET_API void       *gn_context_value(gn_context *ctx, const void *key);  /* NULL if unset */

#ifdef __cplusplus
}
#endif
/* ==== end src/api_sync.h ==== */

/* ==== begin src/api_io.h ==== */
/* api_io.h — the small read/write interface that bufio and connections share. */

#ifdef __cplusplus
extern "C" {
#endif

/* A source of bytes: reads at most n bytes into buf and returns how many (> 0),
 * GN_EOF at the end of the stream, or a negative error. n == 0 returns 0.
 * A sink: writes all n bytes and returns n, or a negative error (then some
 * prefix may have been written). gn_conn_reader / gn_conn_writer adapt a
 * connection; any other source (a pipe, a file, memory) can supply its own.  */
typedef int64_t (*gn_read_func)(void *ctx, void *buf, size_t n);
typedef int64_t (*gn_write_func)(void *ctx, const void *buf, size_t n);

#ifdef __cplusplus
}
#endif
/* ==== end src/api_io.h ==== */

/* ==== begin src/api_bufio.h ==== */
/* api_bufio.h — Go's bufio: a buffered reader and a buffered writer over any
 * gn_read_func / gn_write_func (a connection, a pipe, a file, memory).
 *
 * Both are plain structs with private fields, so they can be embedded: init one
 * over a buffer you own, or let _new allocate struct and buffer in one block.
 * Nothing allocates after that except read_bytes / read_string, whose result
 * is a fresh copy. Neither is safe for concurrent use: one coroutine at a time,
 * as in Go. A NULL, zero-filled or invalid (see init) reader or writer makes
 * every call return GN_EINVAL (or do nothing, for the void ones).
 *
 * How errors meet data (where Go returns both, a C call returns one of them):
 * a call that has bytes for you returns them, and the error that stopped it
 * (GN_EOF, a timeout, ...) is kept and returned by the next call that needs
 * more input. So a reader loop sees the last partial line, then GN_EOF.
 * The exceptions are spelled out below: peek, read_slice's GN_EBUFFULL and
 * read_full.
 *
 * A source that returns 0 bytes for a non-empty read is called again, up to
 * 100 times in a row; then the reader reports GN_ENOPROGRESS (Go's
 * io.ErrNoProgress). A source that claims more bytes than were asked for is
 * reported as GN_EINVAL. A sink that writes only a part is called again for the
 * rest (0 bytes 100 times in a row: GN_ENOPROGRESS).                         */

#ifdef __cplusplus
extern "C" {
#endif

#define GN_BUFIO_DEFAULT_SIZE   4096
#define GN_BUFREADER_MIN_SIZE   16   /* read_line needs room to hold back a '\r' */

/* ---- reader ------------------------------------------------------------------ */
typedef struct gn_bufreader {
    char        *buf_;
    size_t       size_, r_, w_;      /* buf_[r_, w_) is buffered, not yet read   */
    gn_read_func rd_;
    void        *ctx_;
    int          err_;               /* the source's error, returned once        */
    int          last_byte_;         /* for unread_byte; -1: none                */
    int          owned_;             /* 1: made by gn_bufreader_new              */
} gn_bufreader;

/* Reads from rd(ctx) through buf[size], which the caller owns and keeps alive.
 * size must be >= GN_BUFREADER_MIN_SIZE; otherwise (or with a NULL buf) the
 * reader is left invalid and every call on it returns GN_EINVAL. rd may be NULL
 * until gn_bufreader_reset gives it one (reads meanwhile: GN_EINVAL).          */
GONET_API void gn_bufreader_init(gn_bufreader *r, gn_read_func rd, void *ctx,
                                 char *buf, size_t size);
/* The same in one allocation; size 0: GN_BUFIO_DEFAULT_SIZE, and at least
 * GN_BUFREADER_MIN_SIZE. NULL on ENOMEM. Release with gn_bufreader_free.       */
GONET_API gn_bufreader *gn_bufreader_new(gn_read_func rd, void *ctx, size_t size);
GONET_API void gn_bufreader_free(gn_bufreader *r);  /* only for _new; no-op otherwise */
/* Switches to another source: drops buffered data and any kept error, keeps
 * the buffer (for pooled readers).                                             */
GONET_API void gn_bufreader_reset(gn_bufreader *r, gn_read_func rd, void *ctx);

/* Up to n bytes into buf: > 0 bytes, or an error (GN_EOF at the end); 0 only
 * when n is 0. Calls the source at most once (see the note on 0-byte reads);
 * with an empty buffer and n >= its size it reads straight into buf, like Go. */
GONET_API int64_t gn_bufreader_read(gn_bufreader *r, void *buf, size_t n);
/* The next byte (0..255), or an error.                                         */
GONET_API int     gn_bufreader_read_byte(gn_bufreader *r);
/* Steps back over the last byte read (by any read call), so that the next read
 * returns it again: 0, or GN_EUNREAD if no byte was read since init, reset,
 * the last peek or discard, or the last unread_byte.                          */
GONET_API int     gn_bufreader_unread_byte(gn_bufreader *r);
/* Points *out at the next n bytes without consuming them, valid until the next
 * call on r. Returns n; or, when n bytes cannot be had, GN_EBUFFULL if n is
 * larger than the buffer, else the error that stopped it (GN_EOF ...) — *out
 * then still points at what is buffered, gn_bufreader_buffered(r) bytes.
 * out may be NULL.                                                             */
GONET_API int64_t gn_bufreader_peek(gn_bufreader *r, size_t n, const char **out);
/* Reads up to and including the byte delim (converted to unsigned char), and
 * points *out at those bytes inside the buffer: valid until the next call on r.
 * Returns their count (> 0). At the end of input the last bytes come back
 * without delim, then GN_EOF (or the source's error). When the buffer fills
 * with no delim in it, returns GN_EBUFFULL and *out points at the whole
 * buffer, gn_bufreader_size(r) bytes, which count as read.                     */
GONET_API int64_t gn_bufreader_read_slice(gn_bufreader *r, int delim, const char **out);
/* Like read_slice, however long the run (it is not limited by the buffer;
 * bound untrusted input with read_line or read_slice instead): *out is a copy
 * from GN_MALLOC, which the caller frees with free() (or with GN_FREE when the
 * allocation hooks are overridden). Returns its length (> 0). A run cut short
 * by an error comes back first without delim, and the error from the next call.
 * On an error *out is NULL; on GN_ENOMEM the bytes read so far are lost.       */
GONET_API int64_t gn_bufreader_read_bytes(gn_bufreader *r, int delim, char **out);
/* read_bytes with a NUL after the bytes (not counted in the length).           */
GONET_API int64_t gn_bufreader_read_string(gn_bufreader *r, int delim, char **out);
/* The next line without its "\n" or "\r\n", *line pointing into the buffer
 * (valid until the next call on r; not NUL-terminated). Returns its length,
 * 0 for an empty line, or an error (GN_EOF after the last line; a last line
 * without "\n" is returned as a line). A line longer than the buffer comes in
 * pieces: *is_prefix is 1 for each piece but the last (Go's "line too long"
 * signal), 0 otherwise. is_prefix may be NULL.                                 */
GONET_API int64_t gn_bufreader_read_line(gn_bufreader *r, const char **line, int *is_prefix);
/* Go's io.ReadFull: exactly n bytes into buf. Returns n; GN_EOF if the input
 * ended before any byte; GN_EUNEXPECTEDEOF if it ended after some; any other
 * error as is (buf then holds an unspecified number of the bytes).            */
GONET_API int64_t gn_bufreader_read_full(gn_bufreader *r, void *buf, size_t n);
/* Skips n bytes. Returns n; fewer if an error stopped it (the error comes from
 * the next call), or the error if nothing could be skipped.                    */
GONET_API int64_t gn_bufreader_discard(gn_bufreader *r, size_t n);
GONET_API size_t  gn_bufreader_buffered(const gn_bufreader *r);  /* bytes readable now */
GONET_API size_t  gn_bufreader_size(const gn_bufreader *r);      /* the buffer's size  */

/* ---- writer ------------------------------------------------------------------
 * Bytes wait in the buffer until it fills or gn_bufwriter_flush. The first
 * error from the sink sticks: every later write and flush returns it, until
 * gn_bufwriter_reset.                                                          */
typedef struct gn_bufwriter {
    char         *buf_;
    size_t        size_, n_;         /* buf_[0, n_) is waiting to be written      */
    gn_write_func wr_;
    void         *ctx_;
    int           err_;              /* sticky                                    */
    int           owned_;            /* 1: made by gn_bufwriter_new               */
} gn_bufwriter;

/* Writes to wr(ctx) through buf[size] (size >= 1), which the caller owns. A
 * NULL buf or size 0 leaves the writer invalid (every call: GN_EINVAL).       */
GONET_API void gn_bufwriter_init(gn_bufwriter *w, gn_write_func wr, void *ctx,
                                 char *buf, size_t size);
/* One allocation; size 0: GN_BUFIO_DEFAULT_SIZE. NULL on ENOMEM.               */
GONET_API gn_bufwriter *gn_bufwriter_new(gn_write_func wr, void *ctx, size_t size);
/* Only for _new (no-op otherwise). Does NOT flush: buffered bytes are dropped,
 * so call gn_bufwriter_flush first.                                            */
GONET_API void gn_bufwriter_free(gn_bufwriter *w);
/* Switches to another sink: drops buffered bytes and the sticky error, keeps
 * the buffer.                                                                  */
GONET_API void gn_bufwriter_reset(gn_bufwriter *w, gn_write_func wr, void *ctx);

/* Returns n, or the (sticky) error. When the buffer is empty, a write larger
 * than it goes straight to the sink, without a copy, like Go.                 */
GONET_API int64_t gn_bufwriter_write(gn_bufwriter *w, const void *p, size_t n);
/* c is converted to unsigned char, as by fputc. 0, or the error.               */
GONET_API int     gn_bufwriter_write_byte(gn_bufwriter *w, int c);
/* strlen(s) bytes: their count, or the error.                                  */
GONET_API int64_t gn_bufwriter_write_string(gn_bufwriter *w, const char *s);
/* Writes out what is buffered: 0, or the (sticky) error.                       */
GONET_API int     gn_bufwriter_flush(gn_bufwriter *w);
GONET_API size_t  gn_bufwriter_available(const gn_bufwriter *w); /* free bytes in buffer */
GONET_API size_t  gn_bufwriter_buffered(const gn_bufwriter *w);  /* bytes not yet flushed */

#ifdef __cplusplus
}
#endif
/* ==== end src/api_bufio.h ==== */

/* ==== begin src/api_net.h ==== */
/* api_net.h — Go's net package: listeners, connections, dialing, deadlines, UDP. */

#ifdef __cplusplus
extern "C" {
#endif

/* Networks: "tcp", "tcp4", "tcp6", "unix", "udp", "udp4", "udp6", "unixgram".
 * Addresses as in Go: "host:port", "[::1]:8080", ":8080" (every interface),
 * "localhost:0" (a free port); a path for unix sockets.
 *
 * Ownership. gn_listen, gn_accept, gn_dial* and gn_conn_from_fd return an
 * object that the caller owns and releases with gn_close / gn_listener_close,
 * exactly once. Closing wakes any coroutine blocked on the object with
 * GN_ECLOSED (Go's "use of closed network connection"); no call may *start* on
 * it after the close. Every call returns >= 0 or a negative code.             */
typedef struct gn_conn     gn_conn;
typedef struct gn_listener gn_listener;

typedef struct gn_listen_opts {
    int backlog;      /* 0: SOMAXCONN                                            */
    int reuse_port;   /* 1: SO_REUSEPORT, for several listeners on one port      */
} gn_listen_opts;

GONET_API int gn_listen(gn_listener **out, const char *network, const char *address);
GONET_API int gn_listen_with(gn_listener **out, const char *network, const char *address,
                             const gn_listen_opts *opts);
/* Waits for a connection. Out of file descriptors (EMFILE, ENFILE), it backs
 * off (5 ms doubling to 1 s, as Go's http server does) and tries again, so a
 * server rides out fd exhaustion instead of spinning or failing.              */
GONET_API int gn_accept(gn_listener *l, gn_conn **out);
GONET_API int gn_listener_close(gn_listener *l);
/* The bound address, "ip:port" (useful after listening on port 0).           */
GONET_API int gn_listener_addr(gn_listener *l, char *buf, size_t size);
GONET_API int gn_listener_port(gn_listener *l);
GONET_API int gn_listener_set_deadline(gn_listener *l, int64_t deadline);

/* Connects; a host name resolves without blocking other coroutines and every
 * address it has is tried in turn ("localhost" is ::1 and 127.0.0.1).          */
GONET_API int gn_dial(gn_conn **out, const char *network, const char *address);
GONET_API int gn_dial_timeout(gn_conn **out, const char *network, const char *address,
                              int64_t timeout);
GONET_API int gn_dial_context(gn_context *ctx, gn_conn **out, const char *network,
                              const char *address);

/* Reads up to n bytes: > 0 read, GN_EOF at the end, or an error.            */
GONET_API int64_t gn_read(gn_conn *c, void *buf, size_t n);
/* Writes all n bytes and returns n, or an error (some prefix may be sent).   */
GONET_API int64_t gn_write(gn_conn *c, const void *buf, size_t n);
GONET_API int     gn_close(gn_conn *c);
GONET_API int     gn_close_read(gn_conn *c);    /* half-close: shutdown(SHUT_RD)  */
GONET_API int     gn_close_write(gn_conn *c);   /* half-close: shutdown(SHUT_WR)  */

/* Deadlines, absolute gn_now() instants; 0 clears. Settable at any time from
 * any coroutine; a new deadline applies to an operation already blocked; a
 * past one fails blocked and later operations with GN_ETIMEDOUT; extending it
 * makes the connection usable again.                                         */
GONET_API int gn_set_deadline(gn_conn *c, int64_t deadline);
GONET_API int gn_set_read_deadline(gn_conn *c, int64_t deadline);
GONET_API int gn_set_write_deadline(gn_conn *c, int64_t deadline);

GONET_API int gn_local_addr(gn_conn *c, char *buf, size_t size);    /* "ip:port" */
GONET_API int gn_remote_addr(gn_conn *c, char *buf, size_t size);
GONET_API int gn_conn_fd(gn_conn *c);

/* Options. TCP_NODELAY is on by default for TCP, as in Go.                  */
GONET_API int gn_set_nodelay(gn_conn *c, int on);
GONET_API int gn_set_keepalive(gn_conn *c, int on, int64_t period);  /* period 0: OS default */
GONET_API int gn_set_read_buffer(gn_conn *c, int bytes);
GONET_API int gn_set_write_buffer(gn_conn *c, int bytes);
GONET_API int gn_set_linger(gn_conn *c, int seconds);   /* < 0: OS default        */

/* Wraps an open descriptor (a socket, a pipe, stdin) as a connection. It is
 * made non-blocking and owned by the gn_conn from then on.                   */
GONET_API int gn_conn_from_fd(gn_conn **out, int fd);

/* gn_read/gn_write as a gn_read_func/gn_write_func (ctx is the gn_conn *), for
 * gn_bufreader and gn_bufwriter.                                              */
GONET_API int64_t gn_conn_reader(void *conn, void *buf, size_t n);
GONET_API int64_t gn_conn_writer(void *conn, const void *buf, size_t n);

/* ---- UDP and unixgram --------------------------------------------------------
 * gn_listen_packet binds a datagram socket; gn_dial("udp", ...) gives a
 * connected one that gn_read / gn_write use. Addresses as strings "ip:port".  */
GONET_API int gn_listen_packet(gn_conn **out, const char *network, const char *address);
/* Receives one datagram: its length (a longer one is truncated to n), and the
 * sender as "ip:port" in from (may be NULL).                                  */
GONET_API int64_t gn_read_from(gn_conn *c, void *buf, size_t n, char *from, size_t from_size);
GONET_API int64_t gn_write_to(gn_conn *c, const void *buf, size_t n, const char *address);
GONET_API int gn_set_broadcast(gn_conn *c, int on);
/* Joins (leaves) a multicast group, e.g. "239.1.2.3"; ifname NULL: any.      */
GONET_API int gn_join_group(gn_conn *c, const char *group, const char *ifname);
GONET_API int gn_leave_group(gn_conn *c, const char *group, const char *ifname);

#ifdef __cplusplus
}
#endif
/* ==== end src/api_net.h ==== */

#endif /* GONET_H */

#if defined(GONET_IMPLEMENTATION) && !defined(GONET_IMPLEMENTATION_INCLUDED)
#define GONET_IMPLEMENTATION_INCLUDED

/* ==== begin src/impl_base.c ==== */
/* impl_base.c — what every implementation part leans on: platform selection, config
 * defaults, allocation hooks, atomics, the runtime's own locks, errors, the clock.
 *
 * >>base                                                                        */

/* ---- platform and backend selection ------------------------------------------
 * Decided once, here. GN__OS_*: the OS layer. GN__CTX_*: the context switch
 * (GN_CTX_UCONTEXT forces the portable one). GN__POLL_*: the poller.           */
#if defined(__linux__)
#  define GN__OS_LINUX 1
#else
#  error "gonet.h: this platform is not supported yet (Linux first; see the manual's platform table)"
#endif

#if defined(GN_CTX_UCONTEXT)
#  define GN__CTX_UCONTEXT 1
#elif defined(__x86_64__) && !defined(_WIN32)
#  define GN__CTX_X64_SYSV 1
#elif defined(__aarch64__)
#  define GN__CTX_ARM64 1
#else
#  define GN__CTX_UCONTEXT 1
#endif

/* Symbol spelling for the assembly switches: Mach-O prefixes an underscore;
 * ELF marks a function's type ("%function" is accepted on every ELF target).   */
#if defined(__APPLE__)
#  define GN__ASM_NAME(s) "_" s
#  define GN__ASM_HIDE(s) ".private_extern _" s "\n"
#  define GN__ASM_TYPE(s)
#else
#  define GN__ASM_NAME(s) s
#  define GN__ASM_HIDE(s) ".hidden " s "\n"
#  define GN__ASM_TYPE(s) ".type " s ",%function\n"
#endif

#if defined(GN_POLL_EPOLL) || defined(GN__OS_LINUX)
#  define GN__POLL_EPOLL 1
#else
#  error "gonet.h: no poller for this platform; define GN_POLL_EPOLL, GN_POLL_KQUEUE or GN_POLL_IOCP"
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
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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

#if defined(__GNUC__) || defined(__clang__)
#  define GN__PRIVATE static __attribute__((unused))
#  define GN__NOINLINE __attribute__((noinline))
#  define GN__LIKELY(x) __builtin_expect(!!(x), 1)
#  define GN__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#  define GN__PRIVATE static
#  define GN__NOINLINE
#  define GN__LIKELY(x) (x)
#  define GN__UNLIKELY(x) (x)
#endif
/* Functions the optimiser must treat as opaque: no inlining, no cloning, no
 * deduction that they are pure. Thread-local accessors after a switch point.     */
#if defined(__clang__)
#  define GN__OPAQUE __attribute__((noinline, optnone))
#elif defined(__GNUC__)
#  define GN__OPAQUE __attribute__((noinline, noipa))
#else
#  define GN__OPAQUE
#endif

#define GN__MIN(a, b) ((a) < (b) ? (a) : (b))
#define GN__MAX(a, b) ((a) > (b) ? (a) : (b))

/* Fatal runtime inconsistency: print and abort. Never used for user errors.      */
GN__PRIVATE void gn__fatal(const char *msg) {
    fprintf(stderr, "gonet: fatal: %s\n", msg);
    abort();
}

/* ---- atomics ---------------------------------------------------------------------
 * The GCC/Clang builtins, which ThreadSanitizer understands. Single-writer
 * counters use gn__count: a relaxed load and store, no locked instruction.        */
#define gn__load(p)           __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define gn__load_relaxed(p)   __atomic_load_n((p), __ATOMIC_RELAXED)
#define gn__store(p, v)       __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define gn__store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define gn__cas(p, expp, v)                                                         \
    __atomic_compare_exchange_n((p), (expp), (v), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
#define gn__xadd(p, v)        __atomic_fetch_add((p), (v), __ATOMIC_ACQ_REL)
#define gn__xchg(p, v)        __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define gn__count(p, v)       gn__store_relaxed((p), gn__load_relaxed(p) + (v))

GN__PRIVATE void gn__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/* ---- errors -------------------------------------------------------------------- */
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
    if (err < 0 && err > -4000) return strerror(-err);
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
/* ==== end src/impl_base.c ==== */

/* ==== begin src/os_linux.c ==== */
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
/* ==== end src/os_linux.c ==== */

/* ==== begin src/lock.c ==== */
/* lock.c — the runtime's own thread-level primitives, built on the OS futex:
 *   gn__lock   a mutex for short critical sections (run queues, channels, timers);
 *              it blocks the thread, so never hold one across a switch point;
 *   gn__note   a one-shot sleep/wake-up for parking an M (Go's note).
 * Both are a uint32_t that is ready when zeroed.
 *
 * >>lock                                                                        */

enum { GN__UNLOCKED = 0, GN__LOCKED = 1, GN__CONTENDED = 2 };

GN__PRIVATE void gn__lock_slow(uint32_t *l) {
    for (int spin = 0; spin < 64; spin++) {
        uint32_t c = GN__UNLOCKED;
        if (gn__load_relaxed(l) == GN__UNLOCKED && gn__cas(l, &c, GN__LOCKED)) return;
        gn__cpu_relax();
    }
    while (gn__xchg(l, GN__CONTENDED) != GN__UNLOCKED)
        gn__os_futex_wait(l, GN__CONTENDED, -1);
}

GN__PRIVATE void gn__lock(uint32_t *l) {
    uint32_t c = GN__UNLOCKED;
    if (GN__LIKELY(gn__cas(l, &c, GN__LOCKED))) return;
    gn__lock_slow(l);
}

GN__PRIVATE int gn__trylock(uint32_t *l) {
    uint32_t c = GN__UNLOCKED;
    return gn__cas(l, &c, GN__LOCKED);
}

GN__PRIVATE void gn__unlock(uint32_t *l) {
    if (GN__UNLIKELY(gn__xchg(l, GN__UNLOCKED) == GN__CONTENDED)) gn__os_futex_wake(l, 1);
}

/* A note is cleared (0) or signalled (1). One sleeper, any number of wakers.     */
GN__PRIVATE void gn__note_clear(uint32_t *n) { gn__store(n, 0); }

GN__PRIVATE void gn__note_wakeup(uint32_t *n) {
    if (gn__xchg(n, 1) == 0) gn__os_futex_wake(n, 1);
}

GN__PRIVATE void gn__note_sleep(uint32_t *n) {
    while (gn__load(n) == 0) gn__os_futex_wait(n, 0, -1);
}

/* Returns 1 if signalled, 0 if ns passed first.                                  */
GN__PRIVATE int gn__note_tsleep(uint32_t *n, int64_t ns) {
    int64_t deadline = gn_now() + ns;
    while (gn__load(n) == 0) {
        int64_t left = deadline - gn_now();
        if (left <= 0) return 0;
        gn__os_futex_wait(n, 0, left);
    }
    return 1;
}
/* ==== end src/lock.c ==== */

/* ==== begin src/runtime.h ==== */
/* runtime.h — the runtime's types and the internal interface the other parts use.
 *
 * The vocabulary is Go's:
 *   G  a coroutine: its saved context, stack, status and what it waits on.
 *   M  an OS thread that runs Gs. Each M has a g0: its scheduling loop, running
 *      on the thread's own stack.
 *   P  a processor: the right to run Gs, with a local run queue, a runnext slot,
 *      a timer heap and a cache of free Gs. An M needs a P to run Gs; procs Ps
 *      exist, so at most procs Gs run at once.
 *
 * The invariant everything else follows: a G may resume on another M than the
 * one it parked on. So the runtime never keeps a thread-local address (errno,
 * its own M) across a switch; it re-reads through gn__getm(), which is opaque
 * to the optimiser. errno is saved in the G on switch-out and restored on the
 * thread it resumes on, so user code sees its own errno across switch points.
 *
 * Parking, Go's gopark: the running G sets an unlock callback and switches away;
 * the callback runs on the next context (another G or g0), after the parked G's
 * registers are saved, and releases the lock that made the park safe. Only then
 * may a waker find the G, so a G is never readied while it still runs.
 *
 * >>runtime-types                                                               */

typedef struct gn__g gn__g;
typedef struct gn__m gn__m;
typedef struct gn__p gn__p;

/* G status. Transitions: IDLE -> RUNNABLE -> RUNNING -> (WAITING | BLOCKING |
 * RUNNABLE) -> ... -> DEAD -> IDLE (back in a free list).                         */
enum {
    GN__G_IDLE = 0,
    GN__G_RUNNABLE,
    GN__G_RUNNING,
    GN__G_WAITING,   /* parked; someone will gn__ready it                        */
    GN__G_BLOCKING,  /* between gn_blocking_enter and exit                       */
    GN__G_DEAD
};

/* A runtime timer. f runs on a scheduler thread (never in a coroutine): it must
 * be short and must not park; it may gn__ready, gn_go, send or close a channel
 * without waiting, and take gn__locks. seq is t->seq at the time it fired.      */
typedef struct gn__rtimer {
    int64_t   when;
    int64_t   period;                 /* > 0: re-armed by when += period          */
    void    (*f)(void *arg, uintptr_t seq);
    void     *arg;
    uintptr_t seq;
    gn__p    *heap;                   /* atomic: P whose heap holds it, or NULL    */
    int32_t   index;                  /* position in that heap                     */
    uint32_t  running;                /* atomic: f is executing now                */
} gn__rtimer;

/* A timer heap entry: the instant is kept beside the pointer (see timer.c).      */
typedef struct gn__tentry { int64_t when; gn__rtimer *t; } gn__tentry;

/* A G waiting on a queue: a channel, a mutex, a wait group. Lives on the waiting
 * G's stack for as long as it waits (Go's sudog).                               */
typedef struct gn__waiter {
    gn__g             *g;
    struct gn__waiter *next, *prev;
    void              *elem;          /* channel: value to send or where to receive */
    void              *chan;          /* channel: the channel waited on             */
    int                is_select;     /* part of a gn_select: win g->select_done    */
    int                success;       /* channel: 1 by a value, 0 by close           */
    int                index;         /* select: the case index                     */
} gn__waiter;

typedef struct gn__ctx {
#if GN__CTX_UCONTEXT
    ucontext_t uc;
#else
    void *sp;                         /* the switch pushes registers, saves sp here */
#endif
} gn__ctx;

struct gn__g {
    gn__ctx     ctx;
    uint32_t    status;               /* atomic, GN__G_*                            */
    int         saved_errno;
    gn__m      *m;                    /* the M running it, while RUNNING            */
    gn__g      *schedlink;            /* global run queue, free lists, glists       */
    int64_t     id;
    void      (*fn)(void *);
    void       *arg;
    /* Pinning (gn_pin): while lockedm is set only that M runs this G.             */
    gn__m      *lockedm;
    int         pin_depth;
    /* Parking.                                                                    */
    void       *param;                /* set by the waker before gn__ready          */
    uint32_t    select_done;          /* atomic: the first case to fire wins        */
    const char *wait_reason;
    int64_t     wait_since;
    /* The stack: usable [stack_lo, stack_lo + stack_size); the G struct sits just
     * above it, at the top of the same mapping.                                    */
    char       *stack_lo;
    size_t      stack_size;
    char       *map_lo;               /* the whole mapping, guard page first        */
    size_t      map_size;
    int         stack_kind;           /* GN__STACK_*                               */
    int         guarded;              /* the page below stack_lo is PROT_NONE        */
    gn__g      *alllink, *allprev;    /* every allocated G, for shutdown and dumps  */
#if GN__ASAN
    void       *asan_fake_stack;
#endif
#if GN__TSAN
    void       *tsan_fiber;
#endif
#if GN__VALGRIND
    unsigned    valgrind_stack;
#endif
};

/* A list of Gs linked through schedlink (Go's gList).                            */
typedef struct gn__glist { gn__g *head, *tail; int n; } gn__glist;

GN__PRIVATE void gn__glist_push(gn__glist *l, gn__g *g) {
    g->schedlink = NULL;
    if (l->tail) l->tail->schedlink = g; else l->head = g;
    l->tail = g;
    l->n++;
}
GN__PRIVATE gn__g *gn__glist_pop(gn__glist *l) {
    gn__g *g = l->head;
    if (g) {
        l->head = g->schedlink;
        if (!l->head) l->tail = NULL;
        g->schedlink = NULL;
        l->n--;
    }
    return g;
}

/* ---- the internal interface -------------------------------------------------- */

/* The G running on this thread, or NULL on g0 and on threads outside the runtime.*/
GN__PRIVATE gn__g *gn__getg(void);
GN__PRIVATE gn__m *gn__getm(void);

/* Called on the next context after the parking G is off its stack. Returning 0
 * cancels the park: the G is made runnable again instead. Once the callback
 * has made the G findable (released the lock, started a timer), the G may run
 * and return from its wait at once: from then on the callback must not touch
 * anything on the G's stack.                                                     */
typedef int (*gn__unlockf)(gn__g *g, void *arg);

/* Parks the running G (see the top of this file). Must run on a coroutine.       */
GN__PRIVATE void gn__park(gn__unlockf unlock, void *arg, const char *reason);
/* Makes a parked G runnable; it runs next on this P when called from a P.
 * Callable from any thread, inside or outside the runtime.                      */
GN__PRIVATE void gn__ready(gn__g *g);
/* A fast per-thread random number (not for cryptography).                        */
GN__PRIVATE uint32_t gn__rand(void);

/* Timers (timer.c). start: t must not be pending; f, arg, period set by caller;
 * 0 or GN_ENOMEM. stop: 1 if it removed a pending t; 0 if t was not pending.
 * Either way, once it returns f is not running and will not run for the old
 * arming; so call it before t's memory is reused, and never from t's own f, nor
 * while holding a lock that f takes.                                              */
GN__PRIVATE int  gn__timer_start(gn__rtimer *t, int64_t when);
GN__PRIVATE int  gn__timer_stop(gn__rtimer *t);
GN__PRIVATE int  gn__timer_modify(gn__rtimer *t, int64_t when);   /* stop + start   */
/* ==== end src/runtime.h ==== */

/* ==== begin src/ctx_x64_sysv.c ==== */
/* ctx_x64_sysv.c — context switch for x86_64, System V ABI (Linux, BSD, macOS).
 * Saves only the callee-saved registers rbx, rbp, r12-r15, pushed on the old
 * stack; the stack pointer is all a gn__ctx holds. A switch is one call, six
 * pushes, a store, a load, six pops and a ret.
 * The MXCSR and x87 control words (rounding mode, exception masks) are not
 * switched: like Go, the floating-point environment belongs to the thread, and
 * loading them costs more than the rest of the switch. Code that changes the
 * rounding mode must restore it before its next switch point.
 *
 * >>ctx-x64-sysv                                                                 */
#if GN__CTX_X64_SYSV

/* gn__ctx_switch_x64(void **save_sp, void *load_sp). Weak so that several
 * translation units built with GONET_STATIC can each carry a copy.              */
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".weak " GN__ASM_NAME("gn__ctx_switch_x64") "\n"
    GN__ASM_HIDE("gn__ctx_switch_x64")
    GN__ASM_TYPE("gn__ctx_switch_x64")
    GN__ASM_NAME("gn__ctx_switch_x64") ":\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n");

extern void gn__ctx_switch_x64(void **save_sp, void *load_sp);

GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) { gn__ctx_switch_x64(&from->sp, to->sp); }

/* Lays out a frame that gn__ctx_switch_x64 "returns" into entry from: the saved
 * registers (zero), entry's address, and a zero return address so that entry
 * starts with rsp % 16 == 8 like any call.                                     */
GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    uintptr_t top = ((uintptr_t)(stack_lo + size)) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)top;
    *--sp = 0;                          /* entry's return address: never used     */
    *--sp = (uint64_t)(uintptr_t)entry; /* where the switch's ret lands           */
    for (int i = 0; i < 6; i++) *--sp = 0;  /* rbp rbx r12 r13 r14 r15          */
    c->sp = sp;
}

#endif /* GN__CTX_X64_SYSV */
/* ==== end src/ctx_x64_sysv.c ==== */

/* ==== begin src/ctx_arm64.c ==== */
/* ctx_arm64.c — context switch for aarch64 (AAPCS64: Linux, macOS).
 * Saves the callee-saved set: x19-x28, the frame pointer x29, the link register
 * x30 and the low halves d8-d15 of v8-v15, in a 160-byte frame on the old stack.
 *
 * >>ctx-arm64                                                                    */
#if GN__CTX_ARM64

__asm__(
    ".text\n"
    ".p2align 4\n"
    ".weak " GN__ASM_NAME("gn__ctx_switch_a64") "\n"
    GN__ASM_HIDE("gn__ctx_switch_a64")
    GN__ASM_TYPE("gn__ctx_switch_a64")
    GN__ASM_NAME("gn__ctx_switch_a64") ":\n"
    "    sub sp, sp, #160\n"
    "    stp x19, x20, [sp, #0]\n"
    "    stp x21, x22, [sp, #16]\n"
    "    stp x23, x24, [sp, #32]\n"
    "    stp x25, x26, [sp, #48]\n"
    "    stp x27, x28, [sp, #64]\n"
    "    stp x29, x30, [sp, #80]\n"
    "    stp d8, d9, [sp, #96]\n"
    "    stp d10, d11, [sp, #112]\n"
    "    stp d12, d13, [sp, #128]\n"
    "    stp d14, d15, [sp, #144]\n"
    "    mov x9, sp\n"
    "    str x9, [x0]\n"
    "    mov sp, x1\n"
    "    ldp x19, x20, [sp, #0]\n"
    "    ldp x21, x22, [sp, #16]\n"
    "    ldp x23, x24, [sp, #32]\n"
    "    ldp x25, x26, [sp, #48]\n"
    "    ldp x27, x28, [sp, #64]\n"
    "    ldp x29, x30, [sp, #80]\n"
    "    ldp d8, d9, [sp, #96]\n"
    "    ldp d10, d11, [sp, #112]\n"
    "    ldp d12, d13, [sp, #128]\n"
    "    ldp d14, d15, [sp, #144]\n"
    "    add sp, sp, #160\n"
    "    ret\n");

extern void gn__ctx_switch_a64(void **save_sp, void *load_sp);

GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) { gn__ctx_switch_a64(&from->sp, to->sp); }

/* A frame whose x30 is entry and x29 zero (the end of the frame chain); the
 * switch's ret branches to entry with sp at the 16-byte aligned top.            */
GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    uintptr_t top = ((uintptr_t)(stack_lo + size)) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 160);
    memset(sp, 0, 160);
    sp[11] = (uint64_t)(uintptr_t)entry;   /* x30 */
    c->sp = sp;
}

#endif /* GN__CTX_ARM64 */
/* ==== end src/ctx_arm64.c ==== */

/* ==== begin src/ctx_ucontext.c ==== */
/* ctx_ucontext.c — the portable context switch: POSIX ucontext. Slower (glibc's
 * swapcontext saves the signal mask with a system call) but needs no assembly;
 * selected with GN_CTX_UCONTEXT or on CPUs without a hand-written switch.
 *
 * >>ctx-ucontext                                                                 */
#if GN__CTX_UCONTEXT

GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) { swapcontext(&from->uc, &to->uc); }

GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = stack_lo;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, entry, 0);
}

#endif /* GN__CTX_UCONTEXT */
/* ==== end src/ctx_ucontext.c ==== */

/* ==== begin src/stack.c ==== */
/* stack.c — coroutine stacks: allocation, guard pages, the slab mode, overflow reports.
 *
 * A G and its stack share one mapping: the gn__g struct sits at the top and the
 * stack grows down from just below it, so a coroutine that sleeps after a few
 * calls touches one page in all. Memory is reserved with MAP_NORESERVE and only
 * the pages a coroutine really touches become resident.
 *
 * Guard pages. A guarded stack has a PROT_NONE page below it, so an overflow
 * faults instead of corrupting the neighbour, and the SIGSEGV handler (on an
 * alternate signal stack) names the coroutine. But a guard splits the mapping
 * in two, and Linux allows vm.max_map_count (65530 by default) mappings per
 * process: a million guarded stacks would need two million. So the default
 * (stack_guard = 0) guards stacks while they fit in half of that budget and
 * leaves further ones unguarded; their slabs of 64 stay one mapping each.
 * stack_guard = 1 always guards (and fails with GN_ENOMEM at the limit);
 * -1 never guards.
 *
 * Default-size Gs are never unmapped while the runtime runs: they go back to a
 * free list with their stack. Gs with their own stack size are unmapped on exit.
 *
 * >>stack                                                                        */

enum { GN__STACK_SLAB = 1, GN__STACK_PLAIN = 2 };
#define GN__SLAB_STACKS 64

typedef struct gn__slab { struct gn__slab *next; char *lo; size_t size; } gn__slab;

static struct {
    int       guard_mode;         /* gn_config.stack_guard                      */
    long      guard_budget;       /* guarded stacks we may still create         */
    uint32_t  lock;               /* guards everything below                    */
    gn__slab *slabs;
    char     *slab_next;          /* the next unused slot of the newest slab    */
    int       slab_left;
    size_t    slab_slot;          /* bytes per slab slot                        */
    gn__g    *allg;               /* every G with a mapping, for shutdown       */
    long      nguarded;
    unsigned  colour;             /* the next G's cache colour                  */
} gn__stk;

#define GN__G_SPACE ((sizeof(gn__g) + 63) & ~(size_t)63)

GN__PRIVATE size_t gn__round_page(size_t n) {
    size_t pg = (size_t)gn__os_page_size();
    return (n + pg - 1) & ~(pg - 1);
}

GN__PRIVATE void gn__stack_init(int guard_mode) {
    memset(&gn__stk, 0, sizeof gn__stk);
    gn__stk.guard_mode = guard_mode;
    /* Leave room for the heap, libraries, thread stacks and the user's own maps. */
    long budget = (gn__os_max_map_count() - 8192) / 2;
    gn__stk.guard_budget = budget > 0 ? budget : 0;
}

/* Cache colours. Every stack top is page aligned, so G structs at the very top
 * would all share a few cache sets and evict each other when the scheduler walks
 * queues of Gs. Each G sits 64 bytes * (0..GN__COLOURS-1) below the top instead;
 * the top page keeps room for the frames of a parked coroutine.                 */
#define GN__COLOURS 32

/* Places a G near the top of [lo, lo + size) whose lowest guard bytes are a guard. */
GN__PRIVATE gn__g *gn__g_place(char *map_lo, size_t map_size, size_t guard, int kind) {
    size_t colour = (size_t)(gn__stk.colour++ * 7 % GN__COLOURS) * 64;
    gn__g *g = (gn__g *)(map_lo + map_size - GN__G_SPACE - colour);
#if GN__ASAN
    /* The range may have held another coroutine's stack, whose poisoned frames
     * AddressSanitizer still remembers: munmap does not clear its shadow.      */
    __asan_unpoison_memory_region(map_lo + guard, map_size - guard);
#endif
    memset(g, 0, sizeof *g);
    g->map_lo = map_lo;
    g->map_size = map_size;
    g->stack_lo = map_lo + guard;
    g->stack_size = (size_t)((char *)g - g->stack_lo);
    g->stack_kind = kind;
#if GN__TSAN
    g->tsan_fiber = __tsan_create_fiber(0);
#endif
#if GN__VALGRIND
    g->valgrind_stack = VALGRIND_STACK_REGISTER(g->stack_lo, g->stack_lo + g->stack_size);
#endif
    return g;
}

GN__PRIVATE void gn__allg_add(gn__g *g) {
    g->allprev = NULL;
    g->alllink = gn__stk.allg;
    if (gn__stk.allg) gn__stk.allg->allprev = g;
    gn__stk.allg = g;
}

/* A new G with a stack of at least stack_size bytes, or NULL (out of memory or
 * mappings). Default-size stacks are carved from slabs of 64 slots, each slot a
 * page for the guard and then the stack with its G: one mmap (and at shutdown
 * one munmap) per 64 coroutines. Other sizes get a mapping of their own.         */
GN__PRIVATE gn__g *gn__g_alloc(size_t stack_size, int default_size) {
    size_t pg = (size_t)gn__os_page_size();
    size_t body = gn__round_page(stack_size + GN__G_SPACE);
    size_t slot = pg + body;
    gn__g *g = NULL;
    char *lo = NULL;
    gn__lock(&gn__stk.lock);
    int guard = gn__stk.guard_mode > 0 ||
                (gn__stk.guard_mode == 0 && gn__stk.nguarded < gn__stk.guard_budget);
    if (default_size) {
        if (gn__stk.slab_left == 0 || gn__stk.slab_slot != slot) {
            size_t size = slot * GN__SLAB_STACKS;
            gn__slab *sl = (gn__slab *)GN_MALLOC(sizeof *sl);
            char *mem = sl ? (char *)gn__os_map(size) : NULL;
            if (mem) {
                sl->lo = mem;
                sl->size = size;
                sl->next = gn__stk.slabs;
                gn__stk.slabs = sl;
                gn__stk.slab_next = mem;
                gn__stk.slab_left = GN__SLAB_STACKS;
                gn__stk.slab_slot = slot;
            } else {
                GN_FREE(sl);
            }
        }
        if (gn__stk.slab_left > 0 && gn__stk.slab_slot == slot) {
            lo = gn__stk.slab_next;
            gn__stk.slab_next += slot;
            gn__stk.slab_left--;
        }
    } else {
        lo = (char *)gn__os_map(slot);
    }
    if (lo) {
        /* An unguarded slot keeps its guard page as untouched slack.             */
        if (guard && gn__os_guard(lo, pg) != 0) {
            if (gn__stk.guard_mode > 0) lo = NULL;   /* out of mappings */
            guard = 0;
        }
    }
    if (lo) {
        g = gn__g_place(lo, slot, pg, default_size ? GN__STACK_SLAB : GN__STACK_PLAIN);
        g->guarded = guard;
        if (guard) gn__stk.nguarded++;
        gn__allg_add(g);
    }
    gn__unlock(&gn__stk.lock);
    return g;
}

GN__PRIVATE void gn__g_release(gn__g *g) {
#if GN__TSAN
    __tsan_destroy_fiber(g->tsan_fiber);
#endif
#if GN__VALGRIND
    VALGRIND_STACK_DEREGISTER(g->valgrind_stack);
#endif
#if GN__ASAN
    __asan_unpoison_memory_region(g->stack_lo, g->stack_size);
#endif
    if (g->stack_kind != GN__STACK_SLAB) gn__os_unmap(g->map_lo, g->map_size);
}

/* Frees a G that has its own mapping (called off its stack).                      */
GN__PRIVATE void gn__g_free(gn__g *g) {
    gn__lock(&gn__stk.lock);
    if (g->allprev) g->allprev->alllink = g->alllink; else gn__stk.allg = g->alllink;
    if (g->alllink) g->alllink->allprev = g->allprev;
    if (g->guarded) gn__stk.nguarded--;
    gn__unlock(&gn__stk.lock);
    gn__g_release(g);
}

/* At shutdown: every G and every slab, whatever state it was left in. Freed
 * stacks of a guarded slot are not unmapped one by one: the slab goes whole.     */
GN__PRIVATE void gn__stack_shutdown(void) {
    gn__g *g = gn__stk.allg;
    while (g) {
        gn__g *next = g->alllink;
        gn__g_release(g);
        g = next;
    }
    gn__slab *s = gn__stk.slabs;
    while (s) {
        gn__slab *next = s->next;
        gn__os_unmap(s->lo, s->size);
        GN_FREE(s);
        s = next;
    }
    memset(&gn__stk, 0, sizeof gn__stk);
}

/* ---- overflow reports ----------------------------------------------------------
 * SIGSEGV and SIGBUS run on a per-thread alternate stack. A fault inside the
 * running coroutine's guard page is reported with the coroutine's id; any other
 * fault goes to the previous handler (or the default action) unchanged.         */
#define GN__ALTSTACK_SIZE (64 * 1024)

static struct sigaction gn__old_segv, gn__old_bus;
static int gn__overflow_installed;

GN__PRIVATE void gn__write_str(const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

GN__PRIVATE void gn__write_u64(uint64_t v) {
    char buf[24], *p = buf + sizeof buf;
    *--p = 0;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    gn__write_str(p);
}

GN__PRIVATE gn__g *gn__signal_curg(void);

GN__PRIVATE void gn__overflow_handler(int sig, siginfo_t *info, void *uctx) {
    gn__g *g = gn__signal_curg();
    char *addr = (char *)info->si_addr;
    if (g && g->guarded && addr >= g->map_lo && addr < g->stack_lo) {
        gn__write_str("gonet: stack overflow in coroutine ");
        gn__write_u64((uint64_t)g->id);
        gn__write_str(" (stack ");
        gn__write_u64((uint64_t)g->stack_size);
        gn__write_str(" bytes; raise gn_config.stack_size or gn_go_opts.stack_size)\n");
    }
    /* Hand the fault on: restore the previous disposition and let the faulting
     * instruction run again.                                                     */
    struct sigaction *old = sig == SIGBUS ? &gn__old_bus : &gn__old_segv;
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
        old->sa_sigaction(sig, info, uctx);
        return;
    }
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler) {
        old->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
}

GN__PRIVATE void gn__overflow_install(void) {
#if !GN__ASAN /* AddressSanitizer reports stack overflows itself */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = gn__overflow_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &gn__old_segv);
    sigaction(SIGBUS, &sa, &gn__old_bus);
    gn__overflow_installed = 1;
#endif
}

GN__PRIVATE void gn__overflow_uninstall(void) {
    if (!gn__overflow_installed) return;
    sigaction(SIGSEGV, &gn__old_segv, NULL);
    sigaction(SIGBUS, &gn__old_bus, NULL);
    gn__overflow_installed = 0;
}

/* Each M gets an alternate signal stack. The thread's own one, if any, is put
 * back when the runtime is done with the thread (it matters for the thread that
 * called gn_run, which goes on as the user's).                                  */
typedef struct gn__altstack { void *mem; stack_t old; } gn__altstack;

GN__PRIVATE gn__altstack *gn__altstack_enable(void) {
#if GN__ASAN
    return NULL;
#else
    gn__altstack *a = (gn__altstack *)GN_MALLOC(sizeof *a + GN__ALTSTACK_SIZE);
    if (!a) return NULL;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = a->mem = (char *)(a + 1);
    ss.ss_size = GN__ALTSTACK_SIZE;
    if (sigaltstack(&ss, &a->old) != 0) {
        GN_FREE(a);
        return NULL;
    }
    return a;
#endif
}

GN__PRIVATE void gn__altstack_disable(gn__altstack *a) {
    if (!a) return;
    stack_t none;
    memset(&none, 0, sizeof none);
    none.ss_flags = SS_DISABLE;
    sigaltstack((a->old.ss_flags & SS_DISABLE) ? &none : &a->old, NULL);
    GN_FREE(a);
}
/* ==== end src/stack.c ==== */

/* ==== begin src/netpoll.c ==== */
/* netpoll.c — poll descriptors: how a coroutine waits for a file descriptor.
 *
 * Every fd the runtime polls has a gn__pd, registered with the poller once when
 * the fd is opened (edge-triggered, like Go). A pd holds one semaphore-like
 * slot per direction, rg for reading and wg for writing (Go's pollDesc):
 *     0          nothing happened, nobody waits
 *     READY      readiness arrived while nobody waited; the next wait takes it
 *     WAIT       a G is about to park (set before the park, replaced by the G
 *                in the park callback)
 *     a gn__g *  that G is parked and waits
 * The poller turns readiness into READY or wakes the G; a deadline or a close
 * wakes it too, and the G then sees the reason in the pd (timed out, closing).
 *
 * Deadlines are absolute instants kept in the pd (rd, wd); an expired one is
 * stored as -1, so every later operation fails at once until it is changed.
 * A runtime timer per direction wakes the waiter when the instant comes; a seq
 * number tells a timer that fires for an old deadline to do nothing.
 *
 * Stale events: pds are never freed while the runtime runs. An event carries
 * the pd's id and its generation, so an event for a closed fd cannot wake the
 * waiter of the pd's next fd.
 *
 * >>netpoll                                                                      */

#define GN__PD_READY ((uintptr_t)1)
#define GN__PD_WAIT  ((uintptr_t)2)

typedef struct gn__pd {
    int         fd;
    uint32_t    id;                /* index in the pd table                        */
    uint32_t    gen;               /* atomic: bumped when the fd is closed          */
    uint32_t    lock;              /* deadline values, waiters' wake-ups, closing  */
    uint32_t    dl_lock;           /* serialises deadline changes and timer stops  */
    uintptr_t   rg, wg;            /* atomic: 0, READY, WAIT or a waiting gn__g *   */
    int64_t     rd, wd;            /* atomic: deadline, 0 none, -1 expired         */
    uint32_t    closing;           /* atomic                                        */
    uint32_t    hup;               /* atomic: the peer hung up or the fd has an error:
                                    * reads never wait for another edge             */
    uint32_t    rseq, wseq;        /* deadline generations, under lock              */
    gn__rtimer  rt, wt;            /* deadline timers                             */
    struct gn__pd *free_next;
} gn__pd;

/* The table: a fixed array of chunks, so a lookup by id never races a resize.  */
#define GN__PD_CHUNK 1024
#define GN__PD_CHUNKS 65536
static struct {
    uint32_t lock;
    gn__pd  *chunks[GN__PD_CHUNKS];
    uint32_t next_id;
    gn__pd  *free;
    int32_t  waiters;              /* atomic: Gs parked on a pd (Go's netpollWaiters) */
} gn__pds;

GN__PRIVATE gn__pd *gn__pd_lookup(uint32_t id) {
    gn__pd *chunk = gn__load(&gn__pds.chunks[id / GN__PD_CHUNK]);
    return chunk ? &chunk[id % GN__PD_CHUNK] : NULL;
}

GN__PRIVATE gn__pd *gn__pd_alloc(void) {
    gn__lock(&gn__pds.lock);
    gn__pd *pd = gn__pds.free;
    if (pd) {
        gn__pds.free = pd->free_next;
    } else {
        uint32_t id = gn__pds.next_id;
        uint32_t c = id / GN__PD_CHUNK;
        if (c >= GN__PD_CHUNKS) {
            gn__unlock(&gn__pds.lock);
            return NULL;
        }
        if (!gn__pds.chunks[c]) {
            gn__pd *chunk = (gn__pd *)GN_MALLOC(GN__PD_CHUNK * sizeof *chunk);
            if (!chunk) {
                gn__unlock(&gn__pds.lock);
                return NULL;
            }
            memset(chunk, 0, GN__PD_CHUNK * sizeof *chunk);
            for (uint32_t i = 0; i < GN__PD_CHUNK; i++) chunk[i].id = c * GN__PD_CHUNK + i;
            gn__store(&gn__pds.chunks[c], chunk);
        }
        gn__pds.next_id++;
        pd = &gn__pds.chunks[c][id % GN__PD_CHUNK];
    }
    gn__unlock(&gn__pds.lock);
    gn__lock(&pd->lock);
    gn__store(&pd->rg, (uintptr_t)0);
    gn__store(&pd->wg, (uintptr_t)0);
    gn__store(&pd->rd, (int64_t)0);
    gn__store(&pd->wd, (int64_t)0);
    gn__store(&pd->closing, 0u);
    gn__store(&pd->hup, 0u);
    gn__unlock(&pd->lock);
    return pd;
}

GN__PRIVATE void gn__pd_release(gn__pd *pd) {
    gn__lock(&gn__pds.lock);
    pd->free_next = gn__pds.free;
    gn__pds.free = pd;
    gn__unlock(&gn__pds.lock);
}

GN__PRIVATE void gn__pds_shutdown(void) {
    for (uint32_t c = 0; c < GN__PD_CHUNKS && gn__pds.chunks[c]; c++) GN_FREE(gn__pds.chunks[c]);
    memset(&gn__pds, 0, sizeof gn__pds);
}

/* Takes the waiter of one direction: ioready says readiness arrived (leave
 * READY behind if nobody waits); otherwise only a parked G is taken (for a
 * deadline or a close). Returns the G to ready, or NULL.                         */
GN__PRIVATE gn__g *gn__pd_unblock(uintptr_t *gpp, int ioready) {
    for (;;) {
        uintptr_t old = gn__load(gpp);
        if (old == GN__PD_READY) return NULL;
        if (old == 0 && !ioready) return NULL;
        uintptr_t nv = ioready ? GN__PD_READY : 0;
        if (gn__cas(gpp, &old, nv)) {
            if (old == GN__PD_WAIT) return NULL;   /* it will see the new state    */
            if (old != 0) gn__xadd(&gn__pds.waiters, -1);
            return (gn__g *)old;
        }
    }
}

/* The reason an operation in direction mode ('r' or 'w') cannot go on, or 0. */
GN__PRIVATE int gn__pd_check(gn__pd *pd, int mode) {
    if (gn__load(&pd->closing)) return GN_ECLOSED;
    int64_t d = gn__load(mode == 'r' ? &pd->rd : &pd->wd);
    if (d < 0) return GN_ETIMEDOUT;
    return 0;
}

GN__PRIVATE int gn__pd_commit(gn__g *g, void *arg) {
    uintptr_t *gpp = (uintptr_t *)arg;
    uintptr_t wait = GN__PD_WAIT;
    if (gn__cas(gpp, &wait, (uintptr_t)g)) {
        gn__xadd(&gn__pds.waiters, 1);
        return 1;
    }
    return 0;   /* readiness, a deadline or a close came first: run again */
}

/* Waits until the fd may be ready in direction mode. 0, or why not.           */
GN__PRIVATE int gn__pd_wait(gn__pd *pd, int mode) {
    int err = gn__pd_check(pd, mode);
    if (err) return err;
    uintptr_t *gpp = mode == 'r' ? &pd->rg : &pd->wg;
    for (;;) {
        uintptr_t old = gn__load(gpp);
        if (old == GN__PD_READY) {
            uintptr_t r = GN__PD_READY;
            if (gn__cas(gpp, &r, (uintptr_t)0)) return 0;
            continue;
        }
        if (old != 0) gn__fatal("two coroutines wait on one fd in the same direction");
        if (gn__cas(gpp, &old, GN__PD_WAIT)) break;
    }
    /* A deadline or close may have landed between the check and WAIT.          */
    if (gn__pd_check(pd, mode) == 0) gn__park(gn__pd_commit, gpp, mode == 'r' ? "read" : "write");
    uintptr_t old = gn__xchg(gpp, (uintptr_t)0);
    if (old > GN__PD_WAIT) gn__fatal("poll descriptor in an impossible state");
    return old == GN__PD_READY ? 0 : gn__pd_check(pd, mode);
}

/* The poller's entry: readiness for pd in the given directions; hup says the
 * peer closed its side or the fd failed, a state no later edge will announce. */
GN__PRIVATE void gn__pd_ready(gn__pd *pd, int readable, int writable, int hup, gn__glist *out) {
    gn__g *g;
    if (hup && !gn__load_relaxed(&pd->hup)) gn__store(&pd->hup, 1u);
    if (readable && (g = gn__pd_unblock(&pd->rg, 1)) != NULL) gn__glist_push(out, g);
    if (writable && (g = gn__pd_unblock(&pd->wg, 1)) != NULL) gn__glist_push(out, g);
}

/* ---- deadlines ------------------------------------------------------------------ */
GN__PRIVATE void gn__pd_deadline_fire(gn__pd *pd, int mode, uintptr_t seq) {
    gn__lock(&pd->lock);
    uint32_t cur = mode == 'r' ? pd->rseq : pd->wseq;
    if ((uint32_t)seq != cur) {   /* the deadline changed since this was armed */
        gn__unlock(&pd->lock);
        return;
    }
    gn__store(mode == 'r' ? &pd->rd : &pd->wd, (int64_t)-1);
    gn__g *g = gn__pd_unblock(mode == 'r' ? &pd->rg : &pd->wg, 0);
    gn__unlock(&pd->lock);
    if (g) gn__ready(g);
}
GN__PRIVATE void gn__pd_rtimer_fire(void *arg, uintptr_t seq) { gn__pd_deadline_fire((gn__pd *)arg, 'r', seq); }
GN__PRIVATE void gn__pd_wtimer_fire(void *arg, uintptr_t seq) { gn__pd_deadline_fire((gn__pd *)arg, 'w', seq); }

/* Sets the deadline of mode ('r', 'w' or 'b' for both) to the absolute instant
 * d (0: none). A past instant fails the waiter and later operations at once.
 * Setters are serialised by dl_lock; the old timer is stopped outside the pd
 * lock, since a timer that is firing takes that lock.                          */
GN__PRIVATE int gn__pd_set_deadline(gn__pd *pd, int64_t d, int mode) {
    if (d < 0) d = 0;
    gn__glist wake = {NULL, NULL, 0};
    gn__lock(&pd->dl_lock);
    for (int dir = 0; dir < 2; dir++) {
        int m = dir == 0 ? 'r' : 'w';
        if (mode != 'b' && mode != m) continue;
        gn__rtimer *t = m == 'r' ? &pd->rt : &pd->wt;
        gn__timer_stop(t);
        gn__lock(&pd->lock);
        uint32_t seq = ++*(m == 'r' ? &pd->rseq : &pd->wseq);
        int64_t v = d == 0 ? 0 : (d <= gn_now() ? -1 : d);
        gn__store(m == 'r' ? &pd->rd : &pd->wd, v);
        if (v > 0) {
            t->f = m == 'r' ? gn__pd_rtimer_fire : gn__pd_wtimer_fire;
            t->arg = pd;
            t->seq = seq;
            gn__timer_start(t, v);
        } else if (v < 0) {
            gn__g *g = gn__pd_unblock(m == 'r' ? &pd->rg : &pd->wg, 0);
            if (g) gn__glist_push(&wake, g);
        }
        gn__unlock(&pd->lock);
    }
    gn__unlock(&pd->dl_lock);
    gn__g *g;
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
    return 0;
}

/* Marks pd closing and wakes both waiters; they return GN_ECLOSED.              */
GN__PRIVATE void gn__pd_evict(gn__pd *pd) {
    gn__lock(&pd->lock);
    gn__store(&pd->closing, 1u);
    pd->rseq++;
    pd->wseq++;
    gn__store(&pd->rd, (int64_t)0);
    gn__store(&pd->wd, (int64_t)0);
    gn__g *r = gn__pd_unblock(&pd->rg, 0);
    gn__g *w = gn__pd_unblock(&pd->wg, 0);
    gn__unlock(&pd->lock);
    if (r) gn__ready(r);
    if (w) gn__ready(w);
}

/* Before the pd is reused: stop its timers (outside its lock: a firing timer
 * takes the lock) and bump its generation so late events miss.                  */
GN__PRIVATE void gn__pd_retire(gn__pd *pd) {
    gn__lock(&pd->dl_lock);
    gn__timer_stop(&pd->rt);
    gn__timer_stop(&pd->wt);
    gn__unlock(&pd->dl_lock);
    gn__xadd(&pd->gen, 1u);
}
/* ==== end src/netpoll.c ==== */

/* ==== begin src/poll_epoll.c ==== */
/* poll_epoll.c — the poller on Linux: epoll, edge-triggered, and an eventfd to wake it.
 *
 * The poller contract, the same for every backend (after Go's netpoll.go):
 *   gn__netpoll_init()      create the poller; 0 or a negative code.
 *   gn__netpoll_fini()      destroy it (at runtime shutdown).
 *   gn__netpoll_arm(pd)     start watching pd->fd, once, for both directions;
 *                           0 or a negative code.
 *   gn__netpoll_disarm(pd)  stop watching it (before the fd is closed).
 *   gn__netpoll(delay, out) wait for readiness: delay < 0 blocks until an event
 *                           or a break, 0 only looks, > 0 waits at most delay ns
 *                           (rounded up to 1 ms, the poller's grain). Each event
 *                           goes to gn__pd_ready (with hup set when the peer
 *                           hung up or the fd failed); Gs made runnable are
 *                           appended to out; returns how many.
 *   gn__netpoll_break()     make a blocked gn__netpoll return now. Wake-ups that
 *                           arrive while one is pending collapse into one.
 * Only one M blocks in gn__netpoll at a time (the scheduler sees to that); any
 * thread may call gn__netpoll_break.
 *
 * >>poll-epoll                                                                   */
#if GN__POLL_EPOLL

#include <sys/epoll.h>
#include <sys/eventfd.h>

#define GN__EP_WAKE_TAG UINT64_MAX   /* the eventfd's tag: no pd has this id */

static struct {
    int      epfd;
    int      wakefd;
    uint32_t wake_pending;     /* atomic: a break is in flight, later ones are no-ops */
} gn__ep = {-1, -1, 0};

GN__PRIVATE int gn__netpoll_init(void) {
    gn__ep.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (gn__ep.epfd < 0) return gn__err_from_errno(errno);
    gn__ep.wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (gn__ep.wakefd < 0) {
        int err = gn__err_from_errno(errno);
        close(gn__ep.epfd);
        gn__ep.epfd = -1;
        return err;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = GN__EP_WAKE_TAG;
    if (epoll_ctl(gn__ep.epfd, EPOLL_CTL_ADD, gn__ep.wakefd, &ev) != 0) {
        int err = gn__err_from_errno(errno);
        close(gn__ep.wakefd);
        close(gn__ep.epfd);
        gn__ep.epfd = gn__ep.wakefd = -1;
        return err;
    }
    gn__ep.wake_pending = 0;
    return 0;
}

GN__PRIVATE void gn__netpoll_fini(void) {
    if (gn__ep.wakefd >= 0) close(gn__ep.wakefd);
    if (gn__ep.epfd >= 0) close(gn__ep.epfd);
    gn__ep.epfd = gn__ep.wakefd = -1;
}

GN__PRIVATE void gn__netpoll_break(void) {
    uint32_t z = 0;
    if (!gn__cas(&gn__ep.wake_pending, &z, 1)) return;
    uint64_t one = 1;
    int saved = errno;   /* callable from a coroutine: keep its errno */
    for (;;) {
        ssize_t n = write(gn__ep.wakefd, &one, sizeof one);
        if (n == (ssize_t)sizeof one || errno != EINTR) break;   /* EAGAIN: already full */
    }
    errno = saved;
}

#ifndef SYS_epoll_pwait2
#  if defined(__x86_64__) || defined(__aarch64__)
#    define SYS_epoll_pwait2 441
#  endif
#endif

/* epoll_pwait2 (Linux 5.11) takes a timespec; plain epoll_wait only whole
 * milliseconds, which would make every short sleep up to 1 ms late.            */
GN__PRIVATE int gn__epoll_wait_ns(struct epoll_event *evs, int max, int64_t delay) {
    if (delay > GN_HOUR) delay = GN_HOUR;   /* a far timer: wake now and then, re-check */
#ifdef SYS_epoll_pwait2
    static int no_pwait2;
    if (delay > 0 && !gn__load_relaxed(&no_pwait2)) {
        struct timespec ts = {(time_t)(delay / GN_SECOND), (long)(delay % GN_SECOND)};
        long n = syscall(SYS_epoll_pwait2, gn__ep.epfd, evs, max, &ts, NULL, 0);
        if (n >= 0 || errno != ENOSYS) return (int)n;
        gn__store_relaxed(&no_pwait2, 1);
    }
#endif
    int ms;
    if (delay < 0) ms = -1;
    else if (delay == 0) ms = 0;
    else ms = (int)((delay + GN_MILLISECOND - 1) / GN_MILLISECOND);
    return epoll_wait(gn__ep.epfd, evs, max, ms);
}

/* Edge-triggered, both directions at once: an fd costs one epoll_ctl in its
 * life, and a short read or write is enough to know it is drained.             */
GN__PRIVATE int gn__netpoll_arm(gn__pd *pd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = (uint64_t)pd->id << 32 | gn__load(&pd->gen);
    if (epoll_ctl(gn__ep.epfd, EPOLL_CTL_ADD, pd->fd, &ev) != 0) return gn__err_from_errno(errno);
    return 0;
}

GN__PRIVATE void gn__netpoll_disarm(gn__pd *pd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    int saved = errno;
    epoll_ctl(gn__ep.epfd, EPOLL_CTL_DEL, pd->fd, &ev);
    errno = saved;
}

GN__PRIVATE int gn__netpoll(int64_t delay, gn__glist *out) {
    struct epoll_event evs[128];
    int n = gn__epoll_wait_ns(evs, 128, delay);
    int before = out->n;
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == GN__EP_WAKE_TAG) {
            uint64_t v;
            if (read(gn__ep.wakefd, &v, sizeof v) < 0) { /* drained already: fine */ }
            gn__store(&gn__ep.wake_pending, 0);
            continue;
        }
        gn__pd *pd = gn__pd_lookup((uint32_t)(tag >> 32));
        if (!pd || gn__load(&pd->gen) != (uint32_t)tag) continue;   /* a closed fd's event */
        uint32_t e = evs[i].events;
        int readable = (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
        int writable = (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
        gn__pd_ready(pd, readable, writable, (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0, out);
    }
    return out->n - before;
}

#endif /* GN__POLL_EPOLL */
/* ==== end src/poll_epoll.c ==== */

/* ==== begin src/sched.c ==== */
/* sched.c — the scheduler: Gs, Ms and Ps (see runtime.h), after Go's proc.go.
 *
 * Where a G runs next. A G that parks or yields switches straight to the next
 * G of its P's local queue (runnext first) when there is one: one context
 * switch, no trip through the scheduler. Otherwise it switches to its M's g0,
 * whose loop (gn__schedule) finds work: local queue, the global queue (also
 * every 61st schedule, for fairness), stealing half of a random victim's queue,
 * expired timers; and when nothing is found, the M gives its P back and either
 * blocks in the poller until the next timer (one M at most) or sleeps on its
 * note until another M hands it a P.
 *
 * Spinning. An M that looks for work while holding a P but none is runnable is
 * "spinning". At most half the busy Ps may have a spinning M; a G made runnable
 * wakes an idle M only if none spins (gn__wakep), so a burst of wake-ups costs
 * one thread wake, and idle threads do not burn CPU.
 *
 * Blocking calls (gn_blocking_enter/exit, Go's entersyscall/exitsyscall) leave
 * the P in the BLOCKING state, still owned; the monitor thread takes it away
 * and gives it to another M if the call lasts and there is work. On exit the M
 * takes its P back if it can, or any idle P, or queues the G globally and sleeps.
 *
 * Rejected designs: one run queue for all threads (contended lock on every
 * switch); a fixed thread per P with no hand-off (one blocking call stalls a
 * P's queue); preemption by signal (a G interrupted inside malloc or holding a
 * lock deadlocks in C; scheduling is cooperative, and the monitor only counts
 * Gs that run too long).
 *
 * >>sched                                                                         */

#define GN__RUNQ_SIZE 256
#define GN__MAX_STACK ((size_t)1 << 30)   /* larger stack sizes are a mistake: GN_EINVAL */
enum { GN__P_IDLE = 0, GN__P_RUNNING, GN__P_BLOCKING };
enum { GN__AFTER_NONE = 0, GN__AFTER_PARK, GN__AFTER_YIELD, GN__AFTER_GLOBAL, GN__AFTER_EXIT };

struct gn__p {
    int          id;
    uint32_t     status;                 /* atomic, GN__P_*                          */
    gn__m       *m;
    gn__p       *link;                   /* idle list                                */
    uint32_t     schedtick;              /* owner-written, read by the monitor       */
    uint32_t     blocktick;              /* blocking calls entered                    */
    uint32_t     runq_head, runq_tail;   /* atomic; head moves under CAS (stealers) */
    gn__g       *runnext;                /* atomic                                   */
    gn__g       *runq[GN__RUNQ_SIZE];    /* slots accessed atomically (relaxed)      */
    gn__glist    gfree;                  /* idle Gs with default-size stacks         */
    int64_t      goid_next, goid_end;    /* a batch of ids, to spare the global one  */
    /* timers (timer.c)                                                             */
    uint32_t     timer_lock;
    gn__tentry  *timers;                 /* 4-ary min-heap on when                   */
    int32_t      ntimers, ctimers;
    int64_t      timer0;                 /* atomic: earliest when, 0 if none         */
    /* counters, written by the owner only (gn__count)                              */
    int64_t      st_created, st_exited, st_switches, st_parks, st_steals, st_blocking;
    /* the monitor's view, touched only by the monitor thread                       */
    uint32_t     mon_schedtick, mon_counted, mon_blocktick;
    int64_t      mon_schedwhen, mon_blockwhen;
};

struct gn__m {
    gn__g          g0;                   /* the scheduling loop, on the thread stack  */
    gn__g         *curg;                 /* the G running, NULL on g0                 */
    gn__p         *p, *nextp, *oldp;     /* held P; P handed over; P before blocking  */
    gn__g         *lockedg;              /* pinned G                                  */
    gn__g         *handoff_g;            /* taken from the queue but pinned elsewhere */
    int            spinning;
    int            blocking;             /* inside gn_blocking_enter/exit             */
    uint32_t       park;                 /* note: sleep here when idle                */
    gn__m         *link, *alllink;
    gn__os_thread  thread;
    int            id;
    uint64_t       rand;
    gn__altstack  *altstack;
    /* What the next context must do once we are off the old G's stack.             */
    int            after;
    gn__g         *after_g;
    gn__unlockf    after_unlock;
    void          *after_arg;
};

static struct gn__sched {
    uint32_t      running;               /* atomic: gn_run is active                 */
    uint32_t      live;                  /* atomic: set up and not stopping (outside
                                            callers look only at this)               */
    int32_t       outside;               /* atomic: callers from outside the runtime */
    uint32_t      stopping;              /* atomic: the main G returned              */
    uint32_t      lock;                  /* guards everything down to allm           */
    gn__g       **runq;                  /* global run queue: a ring that grows, so    */
    uint32_t      runq_head, runq_cap;   /* moving Gs never touches their memory     */
    int32_t       runqsize;              /* atomic: Gs in the global queue           */
    gn__p        *pidle;
    int32_t       npidle;                /* atomic                                   */
    gn__m        *midle;
    int32_t       nmidle;                /* atomic                                   */
    int32_t       nmspinning;            /* atomic                                   */
    gn__m        *allm;
    int32_t       mcount;
    uint32_t      gfree_lock;
    gn__glist     gfree;                 /* idle Gs shared between Ps                */
    int32_t       gfree_n;               /* atomic mirror of gfree.n                 */
    gn__p        *allp[GN_MAX_PROCS];
    int           nprocs;
    size_t        stack_size;
    int64_t       lastpoll;              /* atomic: 0 while an M blocks in the poller */
    int64_t       polluntil;             /* atomic: when that M wakes by itself       */
    gn__g        *main_g;
    int           main_started;
    int64_t       goid_gen;              /* atomic                                   */
    int64_t       st_created_nop;        /* atomic: Gs spawned from outside any P    */
    int64_t       st_handoffs, st_long_runners, st_polls;   /* atomic                */
    uint32_t      sysmon_note;
    int           sysmon_on;
    gn__os_thread sysmon_thread;
} gn__rt;

/* Timer heap operations (timer.c), needed by the scheduling loop.                  */
GN__PRIVATE int64_t gn__timers_run(gn__p *p, int64_t now);
GN__PRIVATE void gn__timers_free(gn__p *p);

/* ---- the current M, errno ------------------------------------------------------
 * Opaque accessors: see runtime.h's invariant.                                      */
static _Thread_local gn__m *gn__tls_m;

GN__PRIVATE GN__OPAQUE gn__m *gn__getm(void) { return gn__tls_m; }
GN__PRIVATE GN__OPAQUE void gn__setm(gn__m *m) { gn__tls_m = m; }
GN__PRIVATE GN__OPAQUE void gn__errno_set(int e) { errno = e; }

GN__PRIVATE gn__g *gn__getg(void) {
    gn__m *m = gn__getm();
    return m ? m->curg : NULL;
}

GN__PRIVATE gn__g *gn__signal_curg(void) { return gn__tls_m ? gn__tls_m->curg : NULL; }

GN__PRIVATE uint32_t gn__rand(void) {
    static _Thread_local uint64_t outside = 0x9E3779B97F4A7C15ull;
    gn__m *m = gn__getm();
    uint64_t *s = m ? &m->rand : &outside;
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return (uint32_t)(x >> 32);
}

/* ---- the local run queue ---------------------------------------------------------
 * A ring owned by its P: only the owner writes tail; the owner and thieves take
 * from head with a CAS. runnext holds a G readied by the running one, so a
 * producer/consumer pair stays on one P and runs back to back.                     */
GN__PRIVATE void gn__globrunqput_batch(gn__g **batch, int n);

GN__PRIVATE int gn__runq_empty(gn__p *p) {
    for (;;) {
        uint32_t h = gn__load(&p->runq_head), t = gn__load(&p->runq_tail);
        gn__g *next = gn__load(&p->runnext);
        if (t == gn__load(&p->runq_tail)) return h == t && next == NULL;
    }
}

/* Moves half the local queue and g to the global queue; 0 if a thief interfered. */
GN__PRIVATE int gn__runq_put_slow(gn__p *p, gn__g *g, uint32_t h, uint32_t t) {
    gn__g *batch[GN__RUNQ_SIZE / 2 + 1];
    uint32_t n = (t - h) / 2;
    for (uint32_t i = 0; i < n; i++) batch[i] = gn__load_relaxed(&p->runq[(h + i) % GN__RUNQ_SIZE]);
    if (!gn__cas(&p->runq_head, &h, h + n)) return 0;
    batch[n] = g;
    gn__globrunqput_batch(batch, (int)n + 1);
    return 1;
}

GN__PRIVATE void gn__runq_put(gn__p *p, gn__g *g, int next) {
    if (next) {
        /* Only the owner makes runnext non-NULL, so an empty slot can be filled
         * with a plain store; a full one races with thieves and needs the swap.   */
        if (gn__load_relaxed(&p->runnext) == NULL) {
            gn__store(&p->runnext, g);
            return;
        }
        g = gn__xchg(&p->runnext, g);
        if (!g) return;   /* the old runnext, if any, goes to the tail */
    }
    for (;;) {
        uint32_t h = gn__load(&p->runq_head);
        uint32_t t = p->runq_tail;
        if (t - h < GN__RUNQ_SIZE) {
            gn__store_relaxed(&p->runq[t % GN__RUNQ_SIZE], g);
            gn__store(&p->runq_tail, t + 1);
            return;
        }
        if (gn__runq_put_slow(p, g, h, t)) return;
    }
}

GN__PRIVATE gn__g *gn__runq_get(gn__p *p) {
    gn__g *next = gn__load_relaxed(&p->runnext);
    if (next && gn__cas(&p->runnext, &next, NULL)) return next;
    for (;;) {
        uint32_t h = gn__load(&p->runq_head);
        uint32_t t = p->runq_tail;
        if (t == h) return NULL;
        gn__g *g = gn__load_relaxed(&p->runq[h % GN__RUNQ_SIZE]);
        if (gn__cas(&p->runq_head, &h, h + 1)) return g;
    }
}

/* Takes half of victim's queue into ring[start...]; returns how many.             */
GN__PRIVATE uint32_t gn__runq_grab(gn__p *victim, gn__g **ring, uint32_t start, int take_next) {
    for (;;) {
        uint32_t h = gn__load(&victim->runq_head);
        uint32_t t = gn__load(&victim->runq_tail);
        uint32_t n = t - h;
        n = n - n / 2;
        if (n == 0) {
            if (take_next) {
                gn__g *next = gn__load(&victim->runnext);
                if (next) {
                    /* A running victim is about to schedule its runnext: give it a
                     * moment, or a ping-pong pair gets split across threads.     */
                    if (gn__load(&victim->status) == GN__P_RUNNING) {
                        gn__os_usleep(3 * GN_MICROSECOND);
                        next = gn__load(&victim->runnext);
                        if (!next) return 0;
                    }
                    if (gn__cas(&victim->runnext, &next, NULL)) {
                        gn__store_relaxed(&ring[start % GN__RUNQ_SIZE], next);
                        return 1;
                    }
                }
            }
            return 0;
        }
        if (n > GN__RUNQ_SIZE / 2) continue;   /* read an inconsistent h and t */
        for (uint32_t i = 0; i < n; i++)
            gn__store_relaxed(&ring[(start + i) % GN__RUNQ_SIZE],
                              gn__load_relaxed(&victim->runq[(h + i) % GN__RUNQ_SIZE]));
        if (gn__cas(&victim->runq_head, &h, h + n)) return n;
    }
}

GN__PRIVATE gn__g *gn__runq_steal(gn__p *p, gn__p *victim, int take_next) {
    uint32_t t = p->runq_tail;
    uint32_t n = gn__runq_grab(victim, p->runq, t, take_next);
    if (n == 0) return NULL;
    n--;
    gn__g *g = gn__load_relaxed(&p->runq[(t + n) % GN__RUNQ_SIZE]);
    if (n > 0) gn__store(&p->runq_tail, t + n);
    gn__count(&p->st_steals, 1);
    return g;
}

/* ---- the global run queue (sched lock held) --------------------------------------*/
GN__PRIVATE void gn__globrunq_grow(void) {
    uint32_t cap = gn__rt.runq_cap ? gn__rt.runq_cap * 2 : 1024;
    gn__g **q = (gn__g **)GN_MALLOC((size_t)cap * sizeof *q);
    if (!q) gn__fatal("out of memory growing the run queue");
    uint32_t n = (uint32_t)gn__rt.runqsize;
    for (uint32_t i = 0; i < n; i++) q[i] = gn__rt.runq[(gn__rt.runq_head + i) % gn__rt.runq_cap];
    GN_FREE(gn__rt.runq);
    gn__rt.runq = q;
    gn__rt.runq_head = 0;
    gn__rt.runq_cap = cap;
}

GN__PRIVATE void gn__globrunqput(gn__g *g) {
    uint32_t n = (uint32_t)gn__rt.runqsize;
    if (n == gn__rt.runq_cap) gn__globrunq_grow();
    gn__rt.runq[(gn__rt.runq_head + n) % gn__rt.runq_cap] = g;
    gn__store(&gn__rt.runqsize, (int32_t)n + 1);
}

GN__PRIVATE void gn__globrunqput_batch(gn__g **batch, int n) {
    gn__lock(&gn__rt.lock);
    for (int i = 0; i < n; i++) gn__globrunqput(batch[i]);
    gn__unlock(&gn__rt.lock);
}

GN__PRIVATE gn__g *gn__globrunqpop(void) {
    gn__g *g = gn__rt.runq[gn__rt.runq_head];
    gn__rt.runq_head = (gn__rt.runq_head + 1) % gn__rt.runq_cap;
    gn__store(&gn__rt.runqsize, gn__rt.runqsize - 1);
    return g;
}

/* Takes a fair share of the global queue: one G to run, the rest to p's queue.    */
GN__PRIVATE gn__g *gn__globrunqget(gn__p *p, int max) {
    int n = gn__rt.runqsize;
    if (n == 0) return NULL;
    int share = n / gn__rt.nprocs + 1;
    if (n > share) n = share;
    if (max > 0 && n > max) n = max;
    if (n > GN__RUNQ_SIZE / 2) n = GN__RUNQ_SIZE / 2;
    gn__g *g = gn__globrunqpop();
    for (int i = 1; i < n; i++) gn__runq_put(p, gn__globrunqpop(), 0);
    return g;
}

/* ---- Ps and Ms ---------------------------------------------------------------------*/
GN__PRIVATE void gn__acquirep(gn__m *m, gn__p *p) {
    m->p = p;
    p->m = m;
    gn__store(&p->status, GN__P_RUNNING);
}

GN__PRIVATE gn__p *gn__releasep(gn__m *m) {
    gn__p *p = m->p;
    p->m = NULL;
    m->p = NULL;
    gn__store(&p->status, GN__P_IDLE);
    return p;
}

GN__PRIVATE void gn__pidleput(gn__p *p) {    /* sched lock held */
    p->link = gn__rt.pidle;
    gn__rt.pidle = p;
    gn__xadd(&gn__rt.npidle, 1);
}

GN__PRIVATE gn__p *gn__pidleget(void) {      /* sched lock held */
    gn__p *p = gn__rt.pidle;
    if (p) {
        gn__rt.pidle = p->link;
        gn__xadd(&gn__rt.npidle, -1);
    }
    return p;
}

GN__PRIVATE void *gn__mstart(void *arg);
GN__PRIVATE void gn__schedule(gn__m *m);

GN__PRIVATE void gn__g0_init(gn__m *m) {
    m->g0.status = GN__G_RUNNING;
    gn__os_thread_stack(&m->g0.stack_lo, &m->g0.stack_size);
#if GN__TSAN
    m->g0.tsan_fiber = __tsan_get_current_fiber();
#endif
    m->altstack = gn__altstack_enable();
}

/* Creates an M that starts with P p. 0, or a negative code (the caller keeps p). */
GN__PRIVATE int gn__newm(gn__p *p, int spinning) {
    gn__m *m = (gn__m *)GN_MALLOC(sizeof *m);
    if (!m) return GN_ENOMEM;
    memset(m, 0, sizeof *m);
    m->nextp = p;
    m->spinning = spinning;
    gn__lock(&gn__rt.lock);
    if (gn__load(&gn__rt.stopping)) {
        gn__unlock(&gn__rt.lock);
        GN_FREE(m);
        return GN_ESTATE;
    }
    m->id = gn__rt.mcount++;
    m->rand = 0x2545F4914F6CDD1Dull * (uint64_t)(m->id + 1) ^ (uint64_t)gn_now();
    int rc = gn__os_thread_start(&m->thread, gn__mstart, m);
    if (rc == 0) {
        m->alllink = gn__rt.allm;
        gn__rt.allm = m;
    } else {
        gn__rt.mcount--;
    }
    gn__unlock(&gn__rt.lock);
    if (rc != 0) GN_FREE(m);
    return rc;
}

/* Runs p (or an idle P if p is NULL) on an idle or new M.                          */
GN__PRIVATE void gn__startm(gn__p *p, int spinning) {
    gn__lock(&gn__rt.lock);
    if (!p && !gn__load(&gn__rt.stopping)) p = gn__pidleget();
    if (!p || gn__load(&gn__rt.stopping)) {   /* idle Ms are on their way out */
        gn__unlock(&gn__rt.lock);
        if (spinning) gn__xadd(&gn__rt.nmspinning, -1);
        return;
    }
    gn__m *m = gn__rt.midle;
    if (m) {
        gn__rt.midle = m->link;
        gn__xadd(&gn__rt.nmidle, -1);
        /* Under the lock: a stop that wakes every M takes it after us, so m
         * sees these whichever wake-up it wakes from.                          */
        m->spinning = spinning;
        m->nextp = p;
    }
    gn__unlock(&gn__rt.lock);
    if (m) {
        gn__note_wakeup(&m->park);
        return;
    }
    if (gn__newm(p, spinning) != 0) {
        /* No thread to be had: the P goes back to the idle list. The Gs it holds
         * run when a running M next looks for work.                              */
        gn__lock(&gn__rt.lock);
        gn__pidleput(p);
        gn__unlock(&gn__rt.lock);
        if (spinning) gn__xadd(&gn__rt.nmspinning, -1);
    }
}

/* Wakes an M to run Gs if there is an idle P and nobody is spinning already.     */
GN__PRIVATE void gn__wakep(void) {
    if (gn__load(&gn__rt.npidle) == 0) return;
    int32_t z = 0;
    if (gn__load(&gn__rt.nmspinning) != 0 || !gn__cas(&gn__rt.nmspinning, &z, 1)) return;
    gn__startm(NULL, 1);
}

GN__PRIVATE void gn__wake_netpoller(int64_t when) {
    if (gn__load(&gn__rt.lastpoll) == 0) {
        int64_t until = gn__load(&gn__rt.polluntil);
        if (until == 0 || until > when) gn__netpoll_break();
    } else {
        gn__wakep();
    }
}

/* Gives p away from an M that no longer runs Gs (blocking call, pinned G).         */
GN__PRIVATE void gn__handoffp(gn__p *p) {
    if (!gn__runq_empty(p) || gn__load(&gn__rt.runqsize) != 0) {
        gn__startm(p, 0);
        return;
    }
    int32_t z = 0;
    if (gn__load(&gn__rt.nmspinning) + gn__load(&gn__rt.npidle) == 0 &&
        gn__cas(&gn__rt.nmspinning, &z, 1)) {
        gn__startm(p, 1);
        return;
    }
    gn__lock(&gn__rt.lock);
    if (gn__rt.runqsize != 0) {
        gn__unlock(&gn__rt.lock);
        gn__startm(p, 0);
        return;
    }
    int64_t when = gn__load(&p->timer0);
    gn__pidleput(p);
    gn__unlock(&gn__rt.lock);
    if (when != 0) gn__wake_netpoller(when);
}

/* Parks m until another M hands it a P (or the runtime stops).                    */
GN__PRIVATE void gn__stopm(gn__m *m) {
    gn__lock(&gn__rt.lock);
    if (gn__load(&gn__rt.stopping)) {
        gn__unlock(&gn__rt.lock);
        return;
    }
    m->link = gn__rt.midle;
    gn__rt.midle = m;
    gn__xadd(&gn__rt.nmidle, 1);
    gn__unlock(&gn__rt.lock);
    gn__note_sleep(&m->park);
    gn__note_clear(&m->park);
    if (m->nextp) {
        gn__acquirep(m, m->nextp);
        m->nextp = NULL;
    }
}

/* m's pinned G is not runnable: give the P away and wait until the G is.           */
GN__PRIVATE void gn__stoplockedm(gn__m *m) {
    if (m->p) gn__handoffp(gn__releasep(m));
    gn__note_sleep(&m->park);
    gn__note_clear(&m->park);
    if (m->nextp) {
        gn__acquirep(m, m->nextp);
        m->nextp = NULL;
    }
}

/* g is pinned to another M: hand that M our P (g runs there) and go idle.          */
GN__PRIVATE void gn__startlockedm(gn__m *m, gn__g *g) {
    gn__m *owner = g->lockedm;
    gn__p *p = gn__releasep(m);
    owner->nextp = p;   /* owner runs its m->lockedg, which is g */
    gn__note_wakeup(&owner->park);
    gn__stopm(m);
}

GN__PRIVATE void gn__resetspinning(gn__m *m) {
    m->spinning = 0;
    gn__xadd(&gn__rt.nmspinning, -1);
    /* We were the spinner that found work; there may be more, so let another spin. */
    gn__wakep();
}

/* ---- threads outside the runtime ----------------------------------------------------
 * A thread that is not an M with a P (a user thread calling gn_go, a channel
 * try_send, the stats) touches Ps and queues that teardown frees. It holds the
 * runtime open while it does: teardown waits for such callers after stopping,
 * and a caller arriving later sees the stop and backs off. Sequentially
 * consistent, so that neither side can miss the other (Dekker's pattern).         */
GN__PRIVATE int gn__outside_enter(void) {
    __atomic_fetch_add(&gn__rt.outside, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&gn__rt.live, __ATOMIC_SEQ_CST)) return 1;
    __atomic_fetch_sub(&gn__rt.outside, 1, __ATOMIC_SEQ_CST);
    return 0;
}
GN__PRIVATE void gn__outside_exit(void) { __atomic_fetch_sub(&gn__rt.outside, 1, __ATOMIC_SEQ_CST); }

GN__PRIVATE void gn__outside_drain(void) {
    while (__atomic_load_n(&gn__rt.outside, __ATOMIC_SEQ_CST) != 0) gn__os_yield_thread();
}

/* ---- free Gs ------------------------------------------------------------------------*/
GN__PRIVATE gn__g *gn__gfget(gn__p *p) {
    if (p && p->gfree.n == 0 && gn__load_relaxed(&gn__rt.gfree_n) > 0) {
        gn__lock(&gn__rt.gfree_lock);
        for (int i = 0; i < 32 && gn__rt.gfree.n > 0; i++)
            gn__glist_push(&p->gfree, gn__glist_pop(&gn__rt.gfree));
        gn__store_relaxed(&gn__rt.gfree_n, gn__rt.gfree.n);
        gn__unlock(&gn__rt.gfree_lock);
    }
    if (p) return gn__glist_pop(&p->gfree);
    gn__lock(&gn__rt.gfree_lock);
    gn__g *g = gn__glist_pop(&gn__rt.gfree);
    gn__store_relaxed(&gn__rt.gfree_n, gn__rt.gfree.n);
    gn__unlock(&gn__rt.gfree_lock);
    return g;
}

GN__PRIVATE void gn__gfput(gn__p *p, gn__g *g) {
    gn__store(&g->status, GN__G_IDLE);
    if (g->stack_kind != GN__STACK_SLAB) {   /* a stack size of its own */
        gn__g_free(g);
        return;
    }
    gn__glist_push(&p->gfree, g);
    if (p->gfree.n >= 64) {
        gn__lock(&gn__rt.gfree_lock);
        while (p->gfree.n > 32) gn__glist_push(&gn__rt.gfree, gn__glist_pop(&p->gfree));
        gn__store_relaxed(&gn__rt.gfree_n, gn__rt.gfree.n);
        gn__unlock(&gn__rt.gfree_lock);
    }
}

/* ---- switching ------------------------------------------------------------------------*/
GN__PRIVATE void gn__switch(gn__g *from, gn__g *to) {
#if GN__ASAN
    int dying = gn__load_relaxed(&from->status) == GN__G_DEAD;
    __sanitizer_start_switch_fiber(dying ? NULL : &from->asan_fake_stack, to->stack_lo, to->stack_size);
#endif
#if GN__TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    gn__ctx_switch(&from->ctx, &to->ctx);
#if GN__ASAN
    __sanitizer_finish_switch_fiber(from->asan_fake_stack, NULL, NULL);
#endif
}

/* Runs what the previous context asked for once it is off its stack.             */
GN__PRIVATE void gn__run_after(gn__m *m) {
    int what = m->after;
    if (what == GN__AFTER_NONE) return;
    gn__g *g = m->after_g;
    m->after = GN__AFTER_NONE;
    m->after_g = NULL;
    switch (what) {
    case GN__AFTER_PARK:
        if (m->after_unlock && !m->after_unlock(g, m->after_arg)) {
            gn__store(&g->status, GN__G_RUNNABLE);
            gn__runq_put(m->p, g, 0);
        }
        break;
    case GN__AFTER_YIELD:
        gn__store(&g->status, GN__G_RUNNABLE);
        gn__runq_put(m->p, g, 0);
        break;
    case GN__AFTER_GLOBAL:
        gn__store(&g->status, GN__G_RUNNABLE);
        gn__lock(&gn__rt.lock);
        gn__globrunqput(g);
        gn__unlock(&gn__rt.lock);
        break;
    case GN__AFTER_EXIT:
        gn__gfput(m->p, g);
        break;
    default:
        break;
    }
}

/* The next G to run on p without a trip through g0, or NULL to take that trip.  */
GN__PRIVATE gn__g *gn__next_fast(gn__m *m, gn__p *p) {
    if (m->lockedg || gn__load_relaxed(&gn__rt.stopping)) return NULL;
    if (p->schedtick % 61 == 0 && gn__load_relaxed(&gn__rt.runqsize) > 0) return NULL;
    /* Due timers: looked at every 8th switch, which spares a clock read per
     * switch and delays a timer by a few switches at most.                      */
    int64_t t0 = gn__load_relaxed(&p->timer0);
    if (t0 != 0 && (p->schedtick & 7) == 0 && t0 <= gn_now()) return NULL;
    gn__g *g = gn__runq_get(p);
    if (g && g->lockedm && g->lockedm != m) {
        m->handoff_g = g;
        return NULL;
    }
    return g;
}

/* Switches away from the running G g (after m->after is set) and returns when g
 * runs again, on whichever M that is.                                             */
GN__PRIVATE void gn__switch_out(gn__m *m, gn__g *g) {
    gn__p *p = m->p;
    g->saved_errno = errno;   /* still on the thread that set it */
    gn__g *next = p ? gn__next_fast(m, p) : NULL;
    if (next) {
        gn__count(&p->st_switches, 1);
        gn__count(&p->schedtick, 1);
        gn__store_relaxed(&next->status, GN__G_RUNNING);
        next->m = m;
        m->curg = next;
        gn__switch(g, next);
    } else {
        m->curg = NULL;
        gn__switch(g, &m->g0);
    }
    m = gn__getm();
    gn__run_after(m);
    gn__errno_set(g->saved_errno);
}

GN__PRIVATE void gn__execute(gn__m *m, gn__g *g) {
    gn__p *p = m->p;
    gn__count(&p->st_switches, 1);
    gn__count(&p->schedtick, 1);
    gn__store_relaxed(&g->status, GN__G_RUNNING);
    g->m = m;
    m->curg = g;
    gn__switch(&m->g0, g);
}

/* ---- finding work ------------------------------------------------------------------*/
GN__PRIVATE int64_t gn__timers_earliest(void) {
    int64_t best = 0;
    for (int i = 0; i < gn__rt.nprocs; i++) {
        int64_t w = gn__load(&gn__rt.allp[i]->timer0);
        if (w != 0 && (best == 0 || w < best)) best = w;
    }
    return best;
}

GN__PRIVATE void gn__inject(gn__glist *l) {
    if (l->n == 0) return;
    int n = l->n;
    gn__g *g;
    gn__lock(&gn__rt.lock);
    while ((g = gn__glist_pop(l)) != NULL) {
        gn__store(&g->status, GN__G_RUNNABLE);
        gn__globrunqput(g);
    }
    gn__unlock(&gn__rt.lock);
    for (int i = 0; i < n && gn__load(&gn__rt.npidle) > 0; i++) gn__startm(NULL, 0);
}

/* Steals Gs (and, on the last pass, runs other Ps' expired timers).               */
GN__PRIVATE gn__g *gn__steal_work(gn__m *m) {
    gn__p *p = m->p;
    int64_t now = 0;
    int n = gn__rt.nprocs;
    for (int pass = 0; pass < 4; pass++) {
        int last = pass == 3;
        int start = (int)(gn__rand() % (uint32_t)n);
        for (int i = 0; i < n; i++) {
            gn__p *victim = gn__rt.allp[(start + i) % n];
            if (victim == p) continue;
            if (last && gn__load(&victim->timer0) != 0) {
                if (now == 0) now = gn_now();
                gn__timers_run(victim, now);
                gn__g *g = gn__runq_get(p);
                if (g) return g;
            }
            if (!gn__runq_empty(victim)) {
                gn__g *g = gn__runq_steal(p, victim, last);
                if (g) return g;
            }
        }
    }
    return NULL;
}

/* Blocks until there is a G for m to run; NULL once the runtime stops.            */
GN__PRIVATE gn__g *gn__findrunnable(gn__m *m) {
    for (;;) {
        if (gn__load(&gn__rt.stopping)) return NULL;
        if (!m->p) {
            gn__stopm(m);
            continue;
        }
        gn__p *p = m->p;
        if (gn__load(&p->timer0) != 0) gn__timers_run(p, gn_now());

        gn__g *g;
        if (p->schedtick % 61 == 0 && gn__load(&gn__rt.runqsize) > 0) {
            gn__lock(&gn__rt.lock);
            g = gn__globrunqget(p, 1);
            gn__unlock(&gn__rt.lock);
            if (g) return g;
        }
        if ((g = gn__runq_get(p)) != NULL) return g;
        if (gn__load(&gn__rt.runqsize) > 0) {
            gn__lock(&gn__rt.lock);
            g = gn__globrunqget(p, 0);
            gn__unlock(&gn__rt.lock);
            if (g) return g;
        }

        /* Ready network I/O, if nobody else is polling: cheaper than stealing.   */
        if (gn__load(&gn__pds.waiters) > 0 && gn__load(&gn__rt.lastpoll) != 0) {
            gn__glist ready = {NULL, NULL, 0};
            if (gn__netpoll(0, &ready) > 0 && (g = gn__glist_pop(&ready)) != NULL) {
                gn__inject(&ready);
                gn__store(&g->status, GN__G_RUNNABLE);
                return g;
            }
        }

        /* Spin only while fewer than half the busy Ps have a spinner.              */
        int busy = gn__rt.nprocs - gn__load(&gn__rt.npidle);
        if (m->spinning || 2 * gn__load(&gn__rt.nmspinning) < busy) {
            if (!m->spinning) {
                m->spinning = 1;
                gn__xadd(&gn__rt.nmspinning, 1);
            }
            if ((g = gn__steal_work(m)) != NULL) return g;
        }

        /* Nothing: give the P back, then look once more before sleeping, since work
         * may have arrived while we were not counted as idle.                      */
        gn__lock(&gn__rt.lock);
        if (gn__load(&gn__rt.stopping)) {
            gn__unlock(&gn__rt.lock);
            return NULL;
        }
        if (gn__rt.runqsize > 0) {
            g = gn__globrunqget(p, 0);
            gn__unlock(&gn__rt.lock);
            return g;
        }
        gn__pidleput(gn__releasep(m));
        gn__unlock(&gn__rt.lock);

        int was_spinning = m->spinning;
        if (m->spinning) {
            m->spinning = 0;
            gn__xadd(&gn__rt.nmspinning, -1);
            for (int i = 0; i < gn__rt.nprocs; i++) {
                if (!gn__runq_empty(gn__rt.allp[i])) {
                    gn__lock(&gn__rt.lock);
                    gn__p *q = gn__pidleget();
                    gn__unlock(&gn__rt.lock);
                    if (q) {
                        gn__acquirep(m, q);
                        m->spinning = 1;
                        gn__xadd(&gn__rt.nmspinning, 1);
                    }
                    break;
                }
            }
            if (m->p) continue;
        }

        /* Block in the poller until the next timer, if no other M does.            */
        int64_t until = gn__timers_earliest();
        if ((until != 0 || gn__load(&gn__pds.waiters) > 0) && gn__xchg(&gn__rt.lastpoll, 0) != 0) {
            gn__store(&gn__rt.polluntil, until);
            int64_t delay = -1;                    /* no timer: until a wake-up */
            if (until != 0) {
                int64_t left = until - gn_now();   /* read the clock once: a timer due
                                                    * by now is a 0 delay, never -1   */
                delay = left > 0 ? left : 0;
            }
            gn__glist ready = {NULL, NULL, 0};
            gn__netpoll(delay, &ready);
            gn__xadd(&gn__rt.st_polls, 1);
            gn__store(&gn__rt.polluntil, 0);
            gn__store(&gn__rt.lastpoll, gn_now());
            gn__lock(&gn__rt.lock);
            gn__p *q = gn__pidleget();
            gn__unlock(&gn__rt.lock);
            if (!q) {
                gn__inject(&ready);
                gn__stopm(m);
                continue;
            }
            gn__acquirep(m, q);
            g = gn__glist_pop(&ready);
            gn__inject(&ready);
            if (g) {
                gn__store(&g->status, GN__G_RUNNABLE);
                return g;
            }
            if (was_spinning) {
                m->spinning = 1;
                gn__xadd(&gn__rt.nmspinning, 1);
            }
            continue;
        }
        if (until != 0) {
            int64_t pu = gn__load(&gn__rt.polluntil);
            if (pu == 0 || pu > until) gn__netpoll_break();
        }
        gn__stopm(m);
    }
}

/* g0's loop: run the G found, take back control when it switches to g0, repeat.  */
GN__PRIVATE void gn__schedule(gn__m *m) {
    for (;;) {
        gn__run_after(m);
        gn__g *g;
        if (m->lockedg) {
            gn__stoplockedm(m);
            if (gn__load(&gn__rt.stopping) || !m->p) return;
            g = m->lockedg;
        } else {
            g = m->handoff_g;
            m->handoff_g = NULL;
            if (!g && (g = gn__findrunnable(m)) == NULL) return;
            if (m->spinning) gn__resetspinning(m);
            if (g->lockedm && g->lockedm != m) {
                gn__startlockedm(m, g);
                continue;
            }
        }
        gn__execute(m, g);
    }
}

/* ---- G life ------------------------------------------------------------------------*/
GN__PRIVATE void gn__begin_stop(void);

GN__PRIVATE void gn__goexit(gn__g *g) {
    gn__m *m = gn__getm();
    if (g == gn__rt.main_g) gn__begin_stop();
    if (g->lockedm) {
        m->lockedg = NULL;
        g->lockedm = NULL;
        g->pin_depth = 0;
    }
    gn__count(&m->p->st_exited, 1);
    gn__store(&g->status, GN__G_DEAD);
    m->after = GN__AFTER_EXIT;
    m->after_g = g;
    gn__switch_out(m, g);
    gn__fatal("a dead coroutine was resumed");
}

/* Where every G starts, on its own stack.                                          */
GN__PRIVATE void gn__g_main(void) {
#if GN__ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
    gn__m *m = gn__getm();
    gn__run_after(m);
    gn__g *g = m->curg;
    gn__errno_set(0);
    g->fn(g->arg);
    gn__goexit(g);
}

GN__PRIVATE int64_t gn__newproc_on(gn__p *p, void (*fn)(void *), void *arg, size_t stack_size);

GN__PRIVATE int64_t gn__newproc(void (*fn)(void *), void *arg, size_t stack_size) {
    if (!fn || stack_size > GN__MAX_STACK) return GN_EINVAL;
    gn__m *m = gn__getm();
    if (m && m->p) return gn__newproc_on(m->p, fn, arg, stack_size);
    if (!gn__outside_enter()) return GN_ESTATE;
    int64_t id = gn__newproc_on(NULL, fn, arg, stack_size);
    gn__outside_exit();
    return id;
}

GN__PRIVATE int64_t gn__newproc_on(gn__p *p, void (*fn)(void *), void *arg, size_t stack_size) {
    if (!gn__load(&gn__rt.running) || gn__load(&gn__rt.stopping)) return GN_ESTATE;
    size_t size = stack_size ? stack_size : gn__rt.stack_size;
    if (size < 8192) size = 8192;
    int default_size = gn__round_page(size + GN__G_SPACE) == gn__round_page(gn__rt.stack_size + GN__G_SPACE);
    gn__g *g = default_size ? gn__gfget(p) : NULL;
    if (g) {
#if GN__ASAN
        __asan_unpoison_memory_region(g->stack_lo, g->stack_size);
#endif
    } else {
        g = gn__g_alloc(size, default_size);
        if (!g) return GN_ENOMEM;
    }
    g->fn = fn;
    g->arg = arg;
    g->lockedm = NULL;
    g->pin_depth = 0;
    g->param = NULL;
    g->select_done = 0;
    g->wait_reason = NULL;
    gn__ctx_init(&g->ctx, g->stack_lo, g->stack_size, gn__g_main);
    int64_t id;   /* once g is queued it may run, exit and be reused: keep its id here */
    if (p) {
        if (p->goid_next == p->goid_end) {
            p->goid_next = gn__xadd(&gn__rt.goid_gen, 16) + 1;
            p->goid_end = p->goid_next + 16;
        }
        g->id = id = p->goid_next++;
        gn__count(&p->st_created, 1);
        gn__store(&g->status, GN__G_RUNNABLE);
        gn__runq_put(p, g, 1);
    } else {
        g->id = id = gn__xadd(&gn__rt.goid_gen, 1) + 1;
        gn__xadd(&gn__rt.st_created_nop, 1);
        gn__store(&g->status, GN__G_RUNNABLE);
        gn__lock(&gn__rt.lock);
        gn__globrunqput(g);
        gn__unlock(&gn__rt.lock);
    }
    if (gn__rt.main_started) gn__wakep();
    return id;
}

GONET_API int64_t gn_go(void (*fn)(void *), void *arg) { return gn__newproc(fn, arg, 0); }

GONET_API int64_t gn_go_with(void (*fn)(void *), void *arg, const gn_go_opts *opts) {
    return gn__newproc(fn, arg, opts ? opts->stack_size : 0);
}

GONET_API void gn_blocking_enter(void);
GONET_API void gn_blocking_exit(void);

GN__PRIVATE void gn__park(gn__unlockf unlock, void *arg, const char *reason) {
    gn__m *m = gn__getm();
    gn__g *g = m->curg;
    GN_ASSERT(g && "gn__park outside a coroutine");
    if (GN__UNLIKELY(m->blocking)) {
        /* Parking inside a blocking section: take a P back first, re-enter after. */
        int depth = m->blocking;
        m->blocking = 1;
        gn_blocking_exit();
        gn__park(unlock, arg, reason);
        gn_blocking_enter();
        gn__getm()->blocking = depth;
        return;
    }
    g->wait_reason = reason;
    gn__store(&g->status, GN__G_WAITING);
    gn__count(&m->p->st_parks, 1);
    m->after = GN__AFTER_PARK;
    m->after_g = g;
    m->after_unlock = unlock;
    m->after_arg = arg;
    gn__switch_out(m, g);
}

GN__PRIVATE void gn__ready(gn__g *g) {
    gn__m *m = gn__getm();
    gn__store(&g->status, GN__G_RUNNABLE);
    if (m && m->p) {
        gn__runq_put(m->p, g, 1);
        gn__wakep();
        return;
    }
    /* From a thread without a P. After a stop the G is discarded with the rest.   */
    int outside = !m;
    if (outside && !gn__outside_enter()) return;
    gn__lock(&gn__rt.lock);
    gn__globrunqput(g);
    gn__unlock(&gn__rt.lock);
    gn__wakep();
    if (outside) gn__outside_exit();
}

GONET_API void gn_yield(void) {
    gn__m *m = gn__getm();
    gn__g *g = m ? m->curg : NULL;
    if (!g) {
        gn__os_yield_thread();
        return;
    }
    if (GN__UNLIKELY(m->blocking)) return;   /* no P to share inside a blocking call */
    gn__p *p = m->p;
    /* Nobody else to run: keep going. Racy reads are fine, this is only a hint.
     * Once the runtime stops, a yield is where a busy coroutine is let go.       */
    if (gn__load_relaxed(&p->runq_head) == p->runq_tail && !gn__load_relaxed(&p->runnext) &&
        gn__load_relaxed(&gn__rt.runqsize) == 0 && !gn__load_relaxed(&gn__rt.stopping)) {
        int64_t t0 = gn__load_relaxed(&p->timer0);
        if (t0 == 0 || t0 > gn_now()) return;
    }
    /* Behind the local queue if it has work; otherwise behind the global queue,
     * or the scheduler would pick us straight back (Go's Gosched does the same). */
    int local = !m->lockedg && (gn__load_relaxed(&p->runq_head) != p->runq_tail ||
                                gn__load_relaxed(&p->runnext));
    m->after = local ? GN__AFTER_YIELD : GN__AFTER_GLOBAL;
    m->after_g = g;
    gn__switch_out(m, g);
}

GONET_API int64_t gn_id(void) {
    gn__g *g = gn__getg();
    return g ? g->id : 0;
}

GONET_API int gn_procs(void) {
    if (!gn__outside_enter()) return 0;
    int n = gn__rt.nprocs;
    gn__outside_exit();
    return n;
}

GONET_API int gn_pin(void) {
    gn__m *m = gn__getm();
    gn__g *g = m ? m->curg : NULL;
    if (!g) return GN_ESTATE;
    if (g->pin_depth++ == 0) {
        g->lockedm = m;
        m->lockedg = g;
    }
    return 0;
}

GONET_API int gn_unpin(void) {
    gn__m *m = gn__getm();
    gn__g *g = m ? m->curg : NULL;
    if (!g || g->pin_depth == 0) return GN_ESTATE;
    if (--g->pin_depth == 0) {
        g->lockedm = NULL;
        m->lockedg = NULL;
    }
    return 0;
}

/* ---- blocking calls ------------------------------------------------------------------*/
/* Both keep errno as the caller left it: the blocking call's errno is what the
 * caller reads after gn_blocking_exit.                                          */
GONET_API void gn_blocking_enter(void) {
    gn__m *m = gn__getm();
    if (!m || !m->curg || m->blocking++ > 0) return;
    int saved = errno;
    gn__p *p = m->p;
    gn__count(&p->st_blocking, 1);
    gn__count(&p->blocktick, 1);
    gn__store(&m->curg->status, GN__G_BLOCKING);
    m->oldp = p;
    m->p = NULL;
    p->m = NULL;
    gn__store(&p->status, GN__P_BLOCKING);
    /* Work is waiting behind us: have the monitor look soon.                       */
    if (gn__rt.sysmon_on && (!gn__runq_empty(p) || gn__load(&gn__rt.runqsize) > 0))
        gn__note_wakeup(&gn__rt.sysmon_note);
    errno = saved;
}

GONET_API void gn_blocking_exit(void) {
    gn__m *m = gn__getm();
    if (!m || !m->curg || m->blocking == 0 || --m->blocking > 0) return;
    gn__g *g = m->curg;
    gn__p *p = m->oldp;
    m->oldp = NULL;
    uint32_t s = GN__P_BLOCKING;
    if (p && gn__cas(&p->status, &s, GN__P_RUNNING)) {
        m->p = p;
        p->m = m;
        gn__store(&g->status, GN__G_RUNNING);
        return;
    }
    int saved = errno;
    gn__lock(&gn__rt.lock);
    p = gn__pidleget();
    gn__unlock(&gn__rt.lock);
    if (p) {
        gn__acquirep(m, p);
        gn__store(&g->status, GN__G_RUNNING);
        errno = saved;
        return;
    }
    /* Every P is busy: queue g globally and let this M sleep.                      */
    errno = saved;
    m->after = GN__AFTER_GLOBAL;
    m->after_g = g;
    gn__switch_out(m, g);
}

GONET_API void gn_blocking(void (*fn)(void *), void *arg) {
    if (!fn) return;
    gn_blocking_enter();
    fn(arg);
    gn_blocking_exit();
}

/* ---- the monitor (Go's sysmon) ---------------------------------------------------------
 * Takes Ps from Ms stuck in blocking calls, polls the network when nobody has
 * for 10 ms, and counts Gs that run for 10 ms without a switch. Sleeps 20 us
 * while there is something to do, backing off to 10 ms when idle.                */
#define GN__LONG_RUN (10 * GN_MILLISECOND)

GN__PRIVATE int gn__retake(int64_t now) {
    int n = 0;
    for (int i = 0; i < gn__rt.nprocs; i++) {
        gn__p *p = gn__rt.allp[i];
        uint32_t s = gn__load(&p->status);
        if (s == GN__P_RUNNING) {
            uint32_t t = gn__load_relaxed(&p->schedtick);
            if (p->mon_schedtick != t) {
                p->mon_schedtick = t;
                p->mon_schedwhen = now;
            } else if (now - p->mon_schedwhen >= GN__LONG_RUN && p->mon_counted != t + 1) {
                p->mon_counted = t + 1;
                gn__xadd(&gn__rt.st_long_runners, 1);
            }
        } else if (s == GN__P_BLOCKING) {
            uint32_t t = gn__load_relaxed(&p->blocktick);
            if (p->mon_blocktick != t) {
                p->mon_blocktick = t;
                p->mon_blockwhen = now;
                continue;
            }
            /* Leave it if it has nothing queued, someone else can take new work, and
             * the call is young: taking a P costs a thread wake-up.                 */
            if (gn__runq_empty(p) && gn__load(&p->timer0) == 0 &&
                gn__load(&gn__rt.nmspinning) + gn__load(&gn__rt.npidle) > 0 &&
                now - p->mon_blockwhen < 10 * GN_MILLISECOND)
                continue;
            uint32_t b = GN__P_BLOCKING;
            if (gn__cas(&p->status, &b, GN__P_IDLE)) {
                n++;
                gn__xadd(&gn__rt.st_handoffs, 1);
                gn__handoffp(p);
            }
        }
    }
    return n;
}

GN__PRIVATE void *gn__sysmon(void *arg) {
    (void)arg;
    int64_t delay = 20 * GN_MICROSECOND;
    int idle = 0;
    while (!gn__load(&gn__rt.stopping)) {
        if (idle == 0) delay = 20 * GN_MICROSECOND;
        else if (idle > 50) delay = GN__MIN(delay * 2, 10 * GN_MILLISECOND);
        gn__note_tsleep(&gn__rt.sysmon_note, delay);
        gn__note_clear(&gn__rt.sysmon_note);
        if (gn__load(&gn__rt.stopping)) break;
        int64_t now = gn_now();
        int64_t lp = gn__load(&gn__rt.lastpoll);
        if (lp != 0 && now - lp > 10 * GN_MILLISECOND && gn__cas(&gn__rt.lastpoll, &lp, now)) {
            gn__glist ready = {NULL, NULL, 0};
            if (gn__netpoll(0, &ready) > 0) gn__inject(&ready);
        }
        int64_t t = gn__timers_earliest();
        if (t != 0 && t < now && gn__load(&gn__rt.nmspinning) == 0 && gn__load(&gn__rt.lastpoll) != 0)
            gn__startm(NULL, 0);
        if (gn__retake(now) > 0) idle = 0; else idle++;
    }
    return NULL;
}

/* ---- start and stop ----------------------------------------------------------------------*/
GN__PRIVATE void *gn__mstart(void *arg) {
    gn__m *m = (gn__m *)arg;
    gn__setm(m);
    gn__g0_init(m);
    gn__acquirep(m, m->nextp);
    m->nextp = NULL;
    gn__schedule(m);
    gn__altstack_disable(m->altstack);
    gn__setm(NULL);
    return NULL;
}

GN__PRIVATE void gn__begin_stop(void) {
    __atomic_store_n(&gn__rt.live, 0, __ATOMIC_SEQ_CST);
    gn__lock(&gn__rt.lock);
    gn__store(&gn__rt.stopping, 1);
    for (gn__m *m = gn__rt.allm; m; m = m->alllink) gn__note_wakeup(&m->park);
    gn__unlock(&gn__rt.lock);
    gn__netpoll_break();
    gn__note_wakeup(&gn__rt.sysmon_note);
}

GN__PRIVATE int gn__default_procs(const gn_config *cfg) {
    int n = cfg && cfg->procs > 0 ? cfg->procs : 0;
    if (n == 0) {
        const char *env = getenv("GONET_MAXPROCS");
        if (env && atoi(env) > 0) n = atoi(env);
    }
    if (n == 0) n = gn__os_ncpu();
    return GN__MAX(1, GN__MIN(n, GN_MAX_PROCS));
}

GN__PRIVATE void gn__teardown(gn__m *m0) {
    gn__outside_drain();
    if (gn__rt.sysmon_on) gn__os_thread_join(gn__rt.sysmon_thread);
    for (gn__m *m = gn__rt.allm; m; m = m->alllink)
        if (m != m0) gn__os_thread_join(m->thread);
    gn__m *m = gn__rt.allm;
    while (m) {
        gn__m *next = m->alllink;
        if (m != m0) GN_FREE(m);
        m = next;
    }
    for (int i = 0; i < gn__rt.nprocs; i++) {
        gn__timers_free(gn__rt.allp[i]);
        GN_FREE(gn__rt.allp[i]);
    }
    gn__stack_shutdown();
    GN_FREE(gn__rt.runq);
    gn__rt.runq = NULL;
    gn__netpoll_fini();
    gn__pds_shutdown();
    gn__overflow_uninstall();
    gn__altstack_disable(m0->altstack);
    gn__setm(NULL);
    GN_FREE(m0);
}

GONET_API int gn_run(const gn_config *cfg, void (*fn)(void *), void *arg) {
    if (!fn) return GN_EINVAL;
    if (cfg && (cfg->procs < 0 || cfg->stack_size > GN__MAX_STACK ||
                cfg->stack_guard < -1 || cfg->stack_guard > 1))
        return GN_EINVAL;
    if (gn__getm()) return GN_ESTATE;
    uint32_t z = 0;
    if (!gn__cas(&gn__rt.running, &z, 1)) return GN_ESTATE;

    memset(&gn__rt.stopping, 0, sizeof gn__rt - offsetof(struct gn__sched, stopping));
    gn__rt.nprocs = gn__default_procs(cfg);
    size_t ss = cfg && cfg->stack_size ? cfg->stack_size : GN_STACK_SIZE;
    gn__rt.stack_size = GN__MAX(ss, (size_t)8192);
    gn__stack_init(cfg ? cfg->stack_guard : 0);

    int rc = gn__netpoll_init();
    gn__m *m0 = (gn__m *)GN_MALLOC(sizeof *m0);
    if (rc == 0 && !m0) rc = GN_ENOMEM;
    for (int i = 0; rc == 0 && i < gn__rt.nprocs; i++) {
        gn__p *p = (gn__p *)GN_MALLOC(sizeof *p);
        if (!p) { rc = GN_ENOMEM; break; }
        memset(p, 0, sizeof *p);
        p->id = i;
        gn__rt.allp[i] = p;
    }
    if (rc != 0) {
        for (int i = 0; i < gn__rt.nprocs; i++) GN_FREE(gn__rt.allp[i]);
        GN_FREE(m0);
        gn__netpoll_fini();
        gn__store(&gn__rt.running, 0);
        return rc;
    }
    memset(m0, 0, sizeof *m0);
    m0->rand = 0x9E3779B97F4A7C15ull ^ (uint64_t)gn_now();
    gn__rt.allm = m0;
    gn__rt.mcount = 1;
    gn__setm(m0);
    gn__g0_init(m0);
    gn__overflow_install();
    for (int i = gn__rt.nprocs - 1; i >= 1; i--) gn__pidleput(gn__rt.allp[i]);
    gn__acquirep(m0, gn__rt.allp[0]);
    gn__store(&gn__rt.lastpoll, gn_now());

    int64_t id = gn__newproc(fn, arg, 0);
    if (id < 0) {
        gn__teardown(m0);
        gn__store(&gn__rt.running, 0);
        return (int)id;
    }
    gn__rt.main_g = gn__rt.allp[0]->runnext;
    gn__rt.main_started = 1;
    __atomic_store_n(&gn__rt.live, 1, __ATOMIC_SEQ_CST);
    gn__rt.sysmon_on = !(cfg && cfg->sysmon < 0) &&
                       gn__os_thread_start(&gn__rt.sysmon_thread, gn__sysmon, NULL) == 0;
    gn__schedule(m0);
    gn__teardown(m0);
    gn__store(&gn__rt.running, 0);
    return 0;
}

GONET_API int gn_main(void (*fn)(void *), void *arg) { return gn_run(NULL, fn, arg); }

/* ---- stats ----------------------------------------------------------------------------------*/
GONET_API int gn_num_goroutine(void) {
    if (!gn__outside_enter()) return 0;
    int64_t n = gn__load_relaxed(&gn__rt.st_created_nop);
    for (int i = 0; i < gn__rt.nprocs; i++) {
        gn__p *p = gn__rt.allp[i];
        n += gn__load_relaxed(&p->st_created) - gn__load_relaxed(&p->st_exited);
    }
    gn__outside_exit();
    return (int)n;
}

GONET_API void gn_stats_read(gn_stats *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!gn__outside_enter()) return;
    out->goroutines_created = gn__load_relaxed(&gn__rt.st_created_nop);
    for (int i = 0; i < gn__rt.nprocs; i++) {
        gn__p *p = gn__rt.allp[i];
        out->goroutines_created += gn__load_relaxed(&p->st_created);
        out->goroutines -= gn__load_relaxed(&p->st_exited);
        out->context_switches += gn__load_relaxed(&p->st_switches);
        out->parks += gn__load_relaxed(&p->st_parks);
        out->steals += gn__load_relaxed(&p->st_steals);
        out->blocking_calls += gn__load_relaxed(&p->st_blocking);
        gn__lock(&p->timer_lock);
        out->timers += p->ntimers;
        gn__unlock(&p->timer_lock);
    }
    out->goroutines += out->goroutines_created;
    out->procs = gn__rt.nprocs;
    gn__lock(&gn__rt.lock);
    out->threads = gn__rt.mcount;
    gn__unlock(&gn__rt.lock);
    out->threads_idle = gn__load(&gn__rt.nmidle);
    out->handoffs = gn__load(&gn__rt.st_handoffs);
    out->long_runners = gn__load(&gn__rt.st_long_runners);
    out->polls = gn__load(&gn__rt.st_polls);
    gn__outside_exit();
}
/* ==== end src/sched.c ==== */

/* ==== begin src/timer.c ==== */
/* timer.c — runtime timers: a min-heap per P, run by the scheduler, and gn_sleep.
 *
 * A timer goes into the heap of the P that starts it; p->timer0 mirrors the
 * heap's earliest instant so the scheduler can test "anything due?" with one
 * load. Expired timers run in the scheduling loop of their P, or of an M that
 * steals work (which also runs other Ps' due timers, so a P parked in a
 * blocking call does not hold its timers back), and the M that sleeps in the
 * poller sleeps until the earliest timer of all Ps.
 *
 * A periodic timer goes back into the heap before its callback runs. If it
 * comes due again while that callback still runs, the tick is dropped (a slow
 * ticker falls behind rather than running its callback twice at once).
 *
 * Rule for owners: call gn__timer_stop before the timer's memory is reused;
 * it waits for a callback in flight, so timers may live on a coroutine stack.
 *
 * >>timer                                                                         */

/* The heap is 4-ary and keeps each timer's instant next to its pointer, like
 * Go's: sifting compares entries of one array and writes only the index of the
 * timers it moves, instead of reading timers that live on many different
 * coroutine stacks (a cache and TLB miss each).                               */
GN__PRIVATE void gn__heap_set(gn__tentry *h, int32_t i, gn__tentry e) {
    h[i] = e;
    e.t->index = i;
}

GN__PRIVATE void gn__heap_up(gn__tentry *h, int32_t i) {
    gn__tentry e = h[i];
    while (i > 0) {
        int32_t parent = (i - 1) / 4;
        if (h[parent].when <= e.when) break;
        gn__heap_set(h, i, h[parent]);
        i = parent;
    }
    gn__heap_set(h, i, e);
}

GN__PRIVATE void gn__heap_down(gn__tentry *h, int32_t n, int32_t i) {
    gn__tentry e = h[i];
    for (;;) {
        int32_t c = 4 * i + 1, best = -1;
        int64_t when = e.when;
        for (int32_t k = c; k < c + 4 && k < n; k++)
            if (h[k].when < when) { when = h[k].when; best = k; }
        if (best < 0) break;
        gn__heap_set(h, i, h[best]);
        i = best;
    }
    gn__heap_set(h, i, e);
}

GN__PRIVATE void gn__heap_remove(gn__p *p, int32_t i) {
    int32_t last = --p->ntimers;
    if (i != last) {
        p->timers[i] = p->timers[last];
        p->timers[i].t->index = i;
        gn__heap_down(p->timers, last, i);
        gn__heap_up(p->timers, i);
    }
}

GN__PRIVATE void gn__timer0_update(gn__p *p) {
    gn__store(&p->timer0, p->ntimers ? p->timers[0].when : 0);
}

GN__PRIVATE int gn__timer_add(gn__p *p, gn__rtimer *t, int64_t when);

GN__PRIVATE int gn__timer_start(gn__rtimer *t, int64_t when) {
    gn__m *m = gn__getm();
    if (m && m->p) return gn__timer_add(m->p, t, when);
    if (m) return gn__timer_add(gn__rt.allp[gn__rand() % (uint32_t)gn__rt.nprocs], t, when);
    if (!gn__outside_enter()) return GN_ESTATE;   /* a thread outside the runtime */
    int rc = gn__timer_add(gn__rt.allp[gn__rand() % (uint32_t)gn__rt.nprocs], t, when);
    gn__outside_exit();
    return rc;
}

GN__PRIVATE int gn__timer_add(gn__p *p, gn__rtimer *t, int64_t when) {
    if (when < 1) when = 1;   /* 0 means "no timer" in timer0 */
    gn__lock(&p->timer_lock);
    if (p->ntimers == p->ctimers) {
        int32_t cap = p->ctimers ? p->ctimers * 2 : 64;
        gn__tentry *h = (gn__tentry *)GN_REALLOC(p->timers, (size_t)cap * sizeof *h);
        if (!h) {
            gn__unlock(&p->timer_lock);
            return GN_ENOMEM;
        }
        p->timers = h;
        p->ctimers = cap;
    }
    t->when = when;
    int32_t i = p->ntimers++;
    p->timers[i].when = when;
    p->timers[i].t = t;
    gn__heap_up(p->timers, i);
    gn__store(&t->heap, p);
    int first = p->timers[0].t == t;
    gn__timer0_update(p);
    gn__unlock(&p->timer_lock);
    if (first) gn__wake_netpoller(when);   /* the M asleep in the poller may wake too late */
    return 0;
}

GN__PRIVATE int gn__timer_stop_in(gn__rtimer *t);

GN__PRIVATE int gn__timer_stop(gn__rtimer *t) {
    if (gn__getm()) return gn__timer_stop_in(t);
    /* Outside the runtime: hold it open, or once it is shutting down, wait until
     * teardown has detached every pending timer from its P.                      */
    for (;;) {
        if (gn__outside_enter()) {
            int rc = gn__timer_stop_in(t);
            gn__outside_exit();
            return rc;
        }
        if (!gn__load(&gn__rt.running)) return gn__timer_stop_in(t);
        gn__os_yield_thread();
    }
}

GN__PRIVATE int gn__timer_stop_in(gn__rtimer *t) {
    int removed = 0;
    for (;;) {
        gn__p *p = gn__load(&t->heap);
        if (!p) break;
        gn__lock(&p->timer_lock);
        if (gn__load(&t->heap) == p) {
            gn__heap_remove(p, t->index);
            gn__store(&t->heap, NULL);
            gn__timer0_update(p);
            gn__unlock(&p->timer_lock);
            removed = 1;
            break;
        }
        gn__unlock(&p->timer_lock);
    }
    while (gn__load(&t->running)) gn__os_yield_thread();
    return removed;
}

GN__PRIVATE int gn__timer_modify(gn__rtimer *t, int64_t when) {
    int removed = gn__timer_stop(t);
    int rc = gn__timer_start(t, when);
    return rc < 0 ? rc : removed;
}

/* Runs p's due timers; returns p's earliest remaining instant (0: none).          */
GN__PRIVATE int64_t gn__timers_run(gn__p *p, int64_t now) {
    int64_t t0 = gn__load(&p->timer0);
    if (t0 == 0 || t0 > now) return t0;
    gn__lock(&p->timer_lock);
    while (p->ntimers > 0 && p->timers[0].when <= now) {
        gn__rtimer *t = p->timers[0].t;
        if (t->period > 0) {
            t->when += t->period * (1 + (now - t->when) / t->period);
            p->timers[0].when = t->when;
            gn__heap_down(p->timers, p->ntimers, 0);
            if (gn__load(&t->running)) {   /* its last tick is still running: drop this one */
                gn__timer0_update(p);
                continue;
            }
            gn__store(&t->running, 1);
        } else {
            gn__store(&t->running, 1);
            gn__heap_remove(p, 0);
            gn__store(&t->heap, NULL);
        }
        gn__timer0_update(p);
        void (*f)(void *, uintptr_t) = t->f;
        void *arg = t->arg;
        uintptr_t seq = t->seq;
        gn__unlock(&p->timer_lock);
        f(arg, seq);
        gn__store(&t->running, 0);
        gn__lock(&p->timer_lock);
    }
    gn__timer0_update(p);
    t0 = p->timer0;
    gn__unlock(&p->timer_lock);
    return t0;
}

/* At shutdown. Timers still pending belong to their owners, who may stop or
 * free them after gn_run returns: they must not point at a freed P.          */
GN__PRIVATE void gn__timers_free(gn__p *p) {
    for (int32_t i = 0; i < p->ntimers; i++) gn__store(&p->timers[i].t->heap, NULL);
    GN_FREE(p->timers);
    p->timers = NULL;
    p->ntimers = p->ctimers = 0;
}

/* ---- sleeping --------------------------------------------------------------------- */
typedef struct gn__sleep { gn__rtimer t; int64_t when; int rc; } gn__sleep;

GN__PRIVATE void gn__sleep_fire(void *arg, uintptr_t seq) {
    (void)seq;
    gn__ready((gn__g *)arg);
}

/* Runs once the sleeper is off its stack, so the timer cannot fire too early.
 * Once the timer is in the heap the sleeper may wake and return at any moment,
 * so s (on its stack) is written only when the park is called off.             */
GN__PRIVATE int gn__sleep_commit(gn__g *g, void *arg) {
    (void)g;
    gn__sleep *s = (gn__sleep *)arg;
    int rc = gn__timer_start(&s->t, s->when);
    if (rc == 0) return 1;
    s->rc = rc;
    return 0;
}

GONET_API int gn_sleep_until(int64_t deadline) {
    gn__g *g = gn__getg();
    int64_t now = gn_now();
    if (deadline <= now) return 0;
    if (!g) {   /* a plain thread: just sleep it */
        gn__os_usleep(deadline - now);
        return 0;
    }
    gn__sleep s;
    memset(&s, 0, sizeof s);
    s.t.f = gn__sleep_fire;
    s.t.arg = g;
    s.when = deadline;
    gn__park(gn__sleep_commit, &s, "sleep");
    gn__timer_stop(&s.t);
    return s.rc;
}

GONET_API int gn_sleep(int64_t d) {
    if (d <= 0) return 0;
    int64_t now = gn_now();
    return gn_sleep_until(d > INT64_MAX - now ? INT64_MAX : now + d);
}
/* ==== end src/timer.c ==== */

/* ==== begin src/chan.c ==== */
/* chan.c — channels and select (Go's hchan and selectgo), and the wait queues of
 * gn__waiter that sync.c shares.
 *
 * A channel is one gn__lock, a ring buffer of cap elements, and two queues of
 * parked Gs: receivers waiting for a value (recvq) and senders waiting for room
 * or a receiver (sendq). Either the buffer holds values or receivers wait, never
 * both; likewise a full buffer or waiting senders. A value always moves with
 * memcpy, straight from the sender's memory into the receiver's when one of them
 * waits, so an unbuffered hand-off costs one copy. Waiters live on the parked
 * G's stack: the waker finishes every access to a waiter (copy, success, param)
 * before it readies the G, after which the waiter may vanish.
 *
 * Select puts one waiter per case on every channel involved and parks once. The
 * first party to flip g->select_done from 0 to 1 (a channel operation, close,
 * or the deadline timer) owns the wake-up; everybody else skips the stale
 * waiters they meet. After waking, the G removes its remaining waiters itself.
 *
 * >>chan                                                                        */

/* ---- wait queues ---------------------------------------------------------------
 * Doubly linked through the waiters, so a select can unlink a waiter from the
 * middle. A waiter is on a queue iff it has a prev or is the head: popping and
 * removing clear both links, so removing twice is harmless.                     */
GN__PRIVATE void gn__waitq_push(gn__waitq *q, gn__waiter *w) {
    gn__waiter *tail = (gn__waiter *)q->tail;
    w->next = NULL;
    w->prev = tail;
    if (tail) tail->next = w; else q->head = w;
    q->tail = w;
}

GN__PRIVATE void gn__waitq_remove(gn__waitq *q, gn__waiter *w) {
    if (!w->prev && q->head != w) return;
    if (w->prev) w->prev->next = w->next; else q->head = w->next;
    if (w->next) w->next->prev = w->prev; else q->tail = w->prev;
    w->next = w->prev = NULL;
}

GN__PRIVATE gn__waiter *gn__waitq_pop(gn__waitq *q) {
    gn__waiter *w = (gn__waiter *)q->head;
    if (w) gn__waitq_remove(q, w);
    return w;
}

/* The unlock callback for every park that only has one gn__lock to release.     */
GN__PRIVATE int gn__unlockf_lock(gn__g *g, void *lock) {
    (void)g;
    gn__unlock((uint32_t *)lock);
    return 1;
}

/* Parks the running G on q; the caller holds *lock, which is released once the G
 * is off its stack. Returns when a waker has readied it.                         */
GN__PRIVATE void gn__waitq_park(gn__waitq *q, uint32_t *lock, gn__g *g, const char *reason) {
    gn__waiter w;
    memset(&w, 0, sizeof w);
    w.g = g;
    gn__waitq_push(q, &w);
    gn__park(gn__unlockf_lock, lock, reason);
}

/* ---- channels ------------------------------------------------------------------ */
#define GN__CHAN_MAX_ELEM 65536

struct gn_chan {
    uint32_t  lock;
    uint32_t  closed;        /* under lock                                         */
    size_t    elem_size;
    size_t    cap;
    size_t    count;         /* under lock; written atomically for gn_chan_len     */
    size_t    sendx, recvx;  /* ring positions                                     */
    gn__waitq recvq, sendq;
    char     *buf;           /* cap * elem_size bytes, allocated with the struct   */
};

GONET_API gn_chan *gn_chan_new(size_t elem_size, size_t cap) {
    if (elem_size > GN__CHAN_MAX_ELEM) return NULL;
    size_t head = (sizeof(gn_chan) + 15) & ~(size_t)15;
    if (elem_size && cap > (SIZE_MAX - head) / elem_size) return NULL;
    gn_chan *c = (gn_chan *)GN_MALLOC(head + elem_size * cap);
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    c->elem_size = elem_size;
    c->cap = cap;
    c->buf = (char *)c + head;
    return c;
}

GONET_API void gn_chan_free(gn_chan *c) {
    if (c) GN_FREE(c);
}

GONET_API size_t gn_chan_len(gn_chan *c) { return c ? gn__load_relaxed(&c->count) : 0; }
GONET_API size_t gn_chan_cap(gn_chan *c) { return c ? c->cap : 0; }

/* Constant-size copies for the common element sizes compile to plain moves.
 * gcc -O3 inlines this where it can see the caller's buffer but not elem_size,
 * and warns about the cases that size never takes there.                        */
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Warray-bounds"
#  pragma GCC diagnostic ignored "-Wstringop-overflow"
#endif
GN__PRIVATE void gn__chan_copy(gn_chan *c, void *dst, const void *src) {
    if (!dst || !src) return;
    switch (c->elem_size) {
    case 0: break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, c->elem_size); break;
    }
}
#if defined(__GNUC__) && !defined(__clang__)
#  pragma GCC diagnostic pop
#endif
GN__PRIVATE void gn__chan_zero(gn_chan *c, void *dst) {
    if (c->elem_size && dst) memset(dst, 0, c->elem_size);
}

/* The first waiter of q that may still be woken. A select waiter is only ours if
 * we win its G's select_done; a lost one belongs to a select that already has an
 * outcome, and is dropped (its G unlinks nothing that is not linked).            */
GN__PRIVATE gn__waiter *gn__chan_take(gn__waitq *q) {
    for (;;) {
        gn__waiter *w = gn__waitq_pop(q);
        if (!w || !w->is_select) return w;
        uint32_t zero = 0;
        if (gn__cas(&w->g->select_done, &zero, 1)) return w;
    }
}

/* Completes a taken waiter: it must be the last touch of w; the caller readies
 * the returned G after unlocking the channel.                                    */
GN__PRIVATE gn__g *gn__chan_finish(gn__waiter *w, int success) {
    gn__g *g = w->g;
    w->success = success;
    g->param = w;
    return g;
}

/* Tries a send with c locked. Returns 1 when it completed (*rc set to 0 or
 * GN_ECLOSED, *wake to a G to ready after unlocking, or NULL), 0 if it must wait. */
GN__PRIVATE int gn__chan_send_locked(gn_chan *c, const void *elem, int *rc, gn__g **wake) {
    if (c->closed) {
        *rc = GN_ECLOSED;
        return 1;
    }
    gn__waiter *w = gn__chan_take(&c->recvq);
    if (w) {
        /* A receiver waits, so the buffer is empty: hand the value over directly. */
        gn__chan_copy(c, w->elem, elem);
        *wake = gn__chan_finish(w, 1);
        *rc = 0;
        return 1;
    }
    if (c->count < c->cap) {
        gn__chan_copy(c, c->buf + c->sendx * c->elem_size, elem);
        if (++c->sendx == c->cap) c->sendx = 0;
        gn__store_relaxed(&c->count, c->count + 1);
        *rc = 0;
        return 1;
    }
    return 0;
}

/* Tries a receive with c locked; like gn__chan_send_locked.                       */
GN__PRIVATE int gn__chan_recv_locked(gn_chan *c, void *elem, int *rc, gn__g **wake) {
    gn__waiter *w = gn__chan_take(&c->sendq);
    if (w) {
        if (c->cap == 0) {
            gn__chan_copy(c, elem, w->elem);
        } else {
            /* Senders wait only on a full buffer: take its oldest value and put
             * the sender's in the slot that frees, keeping FIFO order.            */
            char *slot = c->buf + c->recvx * c->elem_size;
            gn__chan_copy(c, elem, slot);
            gn__chan_copy(c, slot, w->elem);
            if (++c->recvx == c->cap) c->recvx = 0;
            c->sendx = c->recvx;
        }
        *wake = gn__chan_finish(w, 1);
        *rc = 0;
        return 1;
    }
    if (c->count > 0) {
        gn__chan_copy(c, elem, c->buf + c->recvx * c->elem_size);
        if (++c->recvx == c->cap) c->recvx = 0;
        gn__store_relaxed(&c->count, c->count - 1);
        *rc = 0;
        return 1;
    }
    if (c->closed) {
        gn__chan_zero(c, elem);
        *rc = GN_ECLOSED;
        return 1;
    }
    return 0;
}

GN__PRIVATE int gn__chan_send(gn_chan *c, const void *elem, int block) {
    if (!c || (!elem && c->elem_size)) return GN_EINVAL;
    int rc = 0;
    gn__g *wake = NULL;
    gn__lock(&c->lock);
    if (gn__chan_send_locked(c, elem, &rc, &wake)) {
        gn__unlock(&c->lock);
        if (wake) gn__ready(wake);
        return rc;
    }
    gn__g *g = block ? gn__getg() : NULL;
    if (!g) {
        gn__unlock(&c->lock);
        return block ? GN_ESTATE : GN_EAGAIN;
    }
    gn__waiter w;
    memset(&w, 0, sizeof w);
    w.g = g;
    w.elem = (void *)(uintptr_t)elem;
    w.chan = c;
    g->param = NULL;
    gn__waitq_push(&c->sendq, &w);
    gn__park(gn__unlockf_lock, &c->lock, "chan send");
    return w.success ? 0 : GN_ECLOSED;
}

GN__PRIVATE int gn__chan_recv(gn_chan *c, void *elem, int block) {
    if (!c) return GN_EINVAL;
    int rc = 0;
    gn__g *wake = NULL;
    gn__lock(&c->lock);
    if (gn__chan_recv_locked(c, elem, &rc, &wake)) {
        gn__unlock(&c->lock);
        if (wake) gn__ready(wake);
        return rc;
    }
    gn__g *g = block ? gn__getg() : NULL;
    if (!g) {
        gn__unlock(&c->lock);
        return block ? GN_ESTATE : GN_EAGAIN;
    }
    gn__waiter w;
    memset(&w, 0, sizeof w);
    w.g = g;
    w.elem = elem;
    w.chan = c;
    g->param = NULL;
    gn__waitq_push(&c->recvq, &w);
    gn__park(gn__unlockf_lock, &c->lock, "chan receive");
    return w.success ? 0 : GN_ECLOSED;   /* the closer zeroed elem */
}

GONET_API int gn_chan_send(gn_chan *c, const void *elem) { return gn__chan_send(c, elem, 1); }
GONET_API int gn_chan_recv(gn_chan *c, void *elem) { return gn__chan_recv(c, elem, 1); }
GONET_API int gn_chan_try_send(gn_chan *c, const void *elem) { return gn__chan_send(c, elem, 0); }
GONET_API int gn_chan_try_recv(gn_chan *c, void *elem) { return gn__chan_recv(c, elem, 0); }

GONET_API int gn_chan_close(gn_chan *c) {
    if (!c) return GN_EINVAL;
    gn__glist wake = {NULL, NULL, 0};
    gn__waiter *w;
    gn__lock(&c->lock);
    if (c->closed) {
        gn__unlock(&c->lock);
        return GN_ECLOSED;
    }
    c->closed = 1;
    /* A parked G is on no run queue, so its schedlink is free to collect the
     * wake-ups; they are readied after unlocking to keep the lock short.        */
    while ((w = gn__chan_take(&c->recvq)) != NULL) {
        gn__chan_zero(c, w->elem);
        gn__glist_push(&wake, gn__chan_finish(w, 0));
    }
    while ((w = gn__chan_take(&c->sendq)) != NULL)
        gn__glist_push(&wake, gn__chan_finish(w, 0));
    gn__unlock(&c->lock);
    gn__g *g;
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
    return 0;
}

/* ---- select ------------------------------------------------------------------- */
#define GN__SELECT_STACK 8

typedef struct gn__select {
    gn_select_case *cases;
    int             n;
    int            *pollorder;   /* a random permutation: fairness among ready cases */
    int            *lockorder;   /* by channel address: a global lock order          */
    gn__waiter     *waiters;
    int64_t         deadline;    /* 0: none                                          */
    int             timer_err;   /* the deadline timer could not be armed            */
    gn__rtimer      timer;
} gn__select;

GN__PRIVATE uintptr_t gn__select_key(const gn__select *s, int k) {
    return (uintptr_t)s->cases[s->lockorder[k]].chan;
}

/* Sorts lockorder by channel address: insertion sort for the usual handful of
 * cases, a heap sort beyond, so that huge selects stay O(n log n).               */
GN__PRIVATE void gn__select_sort(gn__select *s) {
    int n = s->n, *o = s->lockorder;
    for (int i = 0; i < n; i++) o[i] = i;
    if (n <= 16) {
        for (int i = 1; i < n; i++) {
            int v = o[i], j = i;
            uintptr_t key = (uintptr_t)s->cases[v].chan;
            for (; j > 0 && gn__select_key(s, j - 1) > key; j--) o[j] = o[j - 1];
            o[j] = v;
        }
        return;
    }
    for (int end = n; end > 1; end--) {
        /* (Re)build the max-heap on the first pass, then sift down the new root.  */
        int start = end == n ? n / 2 - 1 : 0;
        for (int root0 = start; root0 >= 0; root0--) {
            int root = root0;
            for (;;) {
                int child = 2 * root + 1;
                if (child >= end) break;
                if (child + 1 < end && gn__select_key(s, child + 1) > gn__select_key(s, child))
                    child++;
                if (gn__select_key(s, root) >= gn__select_key(s, child)) break;
                int t = o[root]; o[root] = o[child]; o[child] = t;
                root = child;
            }
        }
        int t = o[0]; o[0] = o[end - 1]; o[end - 1] = t;
    }
}

GN__PRIVATE void gn__select_lock(gn__select *s) {
    gn_chan *prev = NULL;
    for (int k = 0; k < s->n; k++) {
        gn_chan *c = s->cases[s->lockorder[k]].chan;
        if (c && c != prev) gn__lock(&c->lock);
        prev = c;
    }
}

/* Once the last channel is unlocked the G may be running again on another thread
 * (readied by a case) and its select frame may be gone: s is never read after the
 * final unlock, which is why each unlock is delayed until the next distinct
 * channel has been read.                                                         */
GN__PRIVATE void gn__select_unlock(gn__select *s) {
    int n = s->n;
    gn_select_case *cases = s->cases;
    int *order = s->lockorder;
    gn_chan *held = NULL;
    for (int k = 0; k < n; k++) {
        gn_chan *c = cases[order[k]].chan;
        if (c != held) {
            if (held) gn__unlock(&held->lock);
            held = c;
        }
    }
    if (held) gn__unlock(&held->lock);
}

/* The deadline fired: it wakes the select unless a case won first.               */
GN__PRIVATE void gn__select_timeout(void *arg, uintptr_t seq) {
    (void)seq;
    gn__g *g = (gn__g *)arg;
    uint32_t zero = 0;
    if (gn__cas(&g->select_done, &zero, 1)) {
        g->param = NULL;
        gn__ready(g);
    }
}

/* The timer is armed before the channels are unlocked: afterwards a case could
 * wake the G, which would stop a timer not yet started and return, leaving the
 * timer to fire into a dead stack frame. Armed first, its firing can only ready
 * a G that is already off its stack. If it cannot be armed, no case can have won
 * yet (we hold every lock), so the select claims its own outcome and cancels the
 * park; nobody else will ready the G, which is why s may still be written.     */
GN__PRIVATE int gn__select_unlockf(gn__g *g, void *arg) {
    gn__select *s = (gn__select *)arg;
    int park = 1;
    if (s->deadline) {
        int e = gn__timer_start(&s->timer, s->deadline);
        if (e < 0) {
            uint32_t zero = 0;
            (void)gn__cas(&g->select_done, &zero, 1);
            g->param = NULL;
            s->timer_err = e;
            park = 0;
        }
    }
    gn__select_unlock(s);
    return park;
}

/* try_only: never park. Otherwise park, until deadline if it is not 0.         */
GN__PRIVATE int gn__selectgo(gn_select_case *cases, int n, int try_only, int64_t deadline) {
    if (n < 0 || (n > 0 && !cases)) return GN_EINVAL;
    int live = 0;
    for (int i = 0; i < n; i++) {
        gn_select_case *cs = &cases[i];
        if (cs->op != GN_RECV && cs->op != GN_SEND) return GN_EINVAL;
        if (!cs->chan) continue;
        if (cs->op == GN_SEND && !cs->elem && cs->chan->elem_size) return GN_EINVAL;
        live++;
    }
    int nothing = GN_EAGAIN;            /* what "no case ready" returns without waiting */
    if (!try_only && deadline) {
        if (deadline <= gn_now()) {
            try_only = 1;
            nothing = GN_ETIMEDOUT;
        }
    }
    if (!try_only && !live) {
        /* Nothing can fire: a select {} blocks forever in Go, which we refuse;
         * with a deadline it is a sleep. A sleep without channels also keeps the
         * deadline timer away from the unlock callback, where nothing would hold
         * the G back from returning while the timer is still being armed.     */
        if (!deadline) return GN_EINVAL;
        int e = gn_sleep_until(deadline);
        return e < 0 ? e : GN_ETIMEDOUT;
    }

    gn__select s;
    int order_stack[2 * GN__SELECT_STACK];
    gn__waiter wait_stack[GN__SELECT_STACK];
    void *heap = NULL;
    memset(&s, 0, sizeof s);
    s.cases = cases;
    s.n = n;
    s.deadline = try_only ? 0 : deadline;
    if (n <= GN__SELECT_STACK) {
        s.pollorder = order_stack;
        s.lockorder = order_stack + GN__SELECT_STACK;
        s.waiters = wait_stack;
    } else {
        size_t nn = (size_t)n;
        heap = GN_MALLOC(nn * sizeof(gn__waiter) + 2 * nn * sizeof(int));
        if (!heap) return GN_ENOMEM;
        s.waiters = (gn__waiter *)heap;
        s.pollorder = (int *)(s.waiters + n);
        s.lockorder = s.pollorder + n;
    }
    for (int i = 0; i < n; i++) {
        int j = (int)(gn__rand() % (uint32_t)(i + 1));
        s.pollorder[i] = s.pollorder[j];
        s.pollorder[j] = i;
    }
    gn__select_sort(&s);

    int rc = nothing;
    gn__g *wake = NULL;
    gn__select_lock(&s);
    for (int k = 0; k < n; k++) {
        int i = s.pollorder[k];
        gn_select_case *cs = &cases[i];
        int res = 0, done;
        if (!cs->chan) continue;
        if (cs->op == GN_SEND) done = gn__chan_send_locked(cs->chan, cs->elem, &res, &wake);
        else done = gn__chan_recv_locked(cs->chan, cs->elem, &res, &wake);
        if (done) {
            cs->result = res;
            rc = i;
            break;
        }
    }
    if (rc >= 0 || try_only) {
        gn__select_unlock(&s);
        if (wake) gn__ready(wake);
        if (heap) GN_FREE(heap);
        return rc;
    }

    gn__g *g = gn__getg();
    if (!g) {
        gn__select_unlock(&s);
        if (heap) GN_FREE(heap);
        return GN_ESTATE;
    }
    /* No waker can see this G before its waiters are queued under the locks, and
     * the previous select stopped its timer, so nobody races these resets.    */
    gn__store(&g->select_done, 0);
    g->param = NULL;
    for (int k = 0; k < n; k++) {
        int i = s.lockorder[k];
        gn_select_case *cs = &cases[i];
        gn__waiter *w = &s.waiters[i];
        memset(w, 0, sizeof *w);
        if (!cs->chan) continue;
        w->g = g;
        w->elem = cs->elem;
        w->chan = cs->chan;
        w->is_select = 1;
        w->index = i;
        gn__waitq_push(cs->op == GN_SEND ? &cs->chan->sendq : &cs->chan->recvq, w);
    }
    if (s.deadline) {
        s.timer.f = gn__select_timeout;
        s.timer.arg = g;
        s.timer.period = 0;
    }
    gn__park(gn__select_unlockf, &s, "select");

    /* The winner (or the timer) set select_done, so a late timer callback will
     * not touch g; stop waits for one that is running right now.               */
    if (s.deadline) gn__timer_stop(&s.timer);
    gn__waiter *won = (gn__waiter *)g->param;
    gn__select_lock(&s);
    for (int i = 0; i < n; i++) {
        gn_select_case *cs = &cases[i];
        if (!cs->chan || &s.waiters[i] == won) continue;
        gn__waitq_remove(cs->op == GN_SEND ? &cs->chan->sendq : &cs->chan->recvq, &s.waiters[i]);
    }
    gn__select_unlock(&s);
    if (won) {
        rc = won->index;
        cases[rc].result = won->success ? 0 : GN_ECLOSED;
    } else {
        rc = s.timer_err ? s.timer_err : GN_ETIMEDOUT;
    }
    if (heap) GN_FREE(heap);
    return rc;
}

GONET_API int gn_select(gn_select_case *cases, int n) { return gn__selectgo(cases, n, 0, 0); }
GONET_API int gn_select_try(gn_select_case *cases, int n) { return gn__selectgo(cases, n, 1, 0); }
GONET_API int gn_select_until(gn_select_case *cases, int n, int64_t deadline) {
    return gn__selectgo(cases, n, 0, deadline);
}
/* ==== end src/chan.c ==== */

/* ==== begin src/sync.c ==== */
/* sync.c — Go's sync package: Mutex, RWMutex, WaitGroup, Cond, Once. They park
 * the coroutine, never the thread. Each keeps its parked Gs on a FIFO queue of
 * gn__waiter (chan.c) guarded by an internal gn__lock, held only for a few
 * instructions and handed to gn__park's unlock callback.
 *
 * Outside a coroutine (a thread the runtime does not run) nothing can park, so
 * the blocking calls fall back to yielding the thread and retrying; that works
 * but is unfair, and is meant for set-up and tear-down code, not hot paths.
 *
 * >>sync                                                                        */

/* ---- Mutex -----------------------------------------------------------------------
 * state_: LOCKED, plus WAITERS while the queue is non-empty. WAITERS makes the
 * unlocker's fast CAS (LOCKED -> 0) fail, sending it to the slow path, which
 * hands the mutex straight to the first waiter: the state stays LOCKED and the
 * new owner wakes up owning it. FIFO hand-off trades some throughput (an
 * unlocker cannot barge back in) for no starvation and a simple proof.           */
enum { GN__MUTEX_LOCKED = 1, GN__MUTEX_WAITERS = 2 };

GONET_API int gn_mutex_trylock(gn_mutex *m) {
    if (!m) return 0;
    uint32_t s = gn__load_relaxed(&m->state_);
    while (!(s & GN__MUTEX_LOCKED))
        if (gn__cas(&m->state_, &s, s | GN__MUTEX_LOCKED)) return 1;
    return 0;
}

GN__PRIVATE void gn__mutex_lock_slow(gn_mutex *m) {
    gn__g *g = gn__getg();
    if (!g) {
        while (!gn_mutex_trylock(m)) gn__os_yield_thread();
        return;
    }
    gn__lock(&m->lock_);
    uint32_t s = gn__load(&m->state_);
    for (;;) {
        if (!(s & GN__MUTEX_LOCKED)) {
            if (gn__cas(&m->state_, &s, s | GN__MUTEX_LOCKED)) {
                gn__unlock(&m->lock_);
                return;
            }
        } else if ((s & GN__MUTEX_WAITERS) ||
                   gn__cas(&m->state_, &s, s | GN__MUTEX_WAITERS)) {
            break;
        }
    }
    gn__waitq_park(&m->waiters_, &m->lock_, g, "mutex");
    /* Woken by gn_mutex_unlock, which left the mutex locked for us.              */
}

GONET_API void gn_mutex_lock(gn_mutex *m) {
    if (!m) return;
    uint32_t s = 0;
    if (GN__LIKELY(gn__cas(&m->state_, &s, GN__MUTEX_LOCKED))) return;
    gn__mutex_lock_slow(m);
}

GONET_API int gn_mutex_unlock(gn_mutex *m) {
    if (!m) return GN_EINVAL;
    uint32_t s = GN__MUTEX_LOCKED;
    if (GN__LIKELY(gn__cas(&m->state_, &s, 0))) return 0;
    if (!(s & GN__MUTEX_LOCKED)) return GN_ESTATE;
    gn__lock(&m->lock_);
    gn__waiter *w = gn__waitq_pop(&m->waiters_);
    if (!w) {
        /* Not reached while WAITERS is only set with a waiter queued; kept so a
         * broken invariant degrades to a plain unlock.                          */
        gn__store(&m->state_, 0);
        gn__unlock(&m->lock_);
        return 0;
    }
    if (!m->waiters_.head) gn__store(&m->state_, GN__MUTEX_LOCKED);
    gn__g *g = w->g;   /* w lives on g's stack until g runs again */
    gn__unlock(&m->lock_);
    gn__ready(g);
    return 0;
}

/* ---- RWMutex ---------------------------------------------------------------------
 * All state under lock_. A waiting writer stops new readers; when the last reader
 * leaves, the first waiting writer takes over; when a writer leaves, every reader
 * that queued meanwhile goes first, then the next writer. Readers and writers thus
 * alternate under contention and neither side starves. Ownership is handed over
 * before the wake-up, as for Mutex.                                               */
GN__PRIVATE void gn__rw_yield(gn_rwmutex *m) {
    gn__unlock(&m->lock_);
    gn__os_yield_thread();
    gn__lock(&m->lock_);
}

GONET_API void gn_rwmutex_rlock(gn_rwmutex *m) {
    if (!m) return;
    gn__lock(&m->lock_);
    while (m->writer_ || m->writers_waiting_) {
        gn__g *g = gn__getg();
        if (g) {
            gn__waitq_park(&m->rwait_, &m->lock_, g, "rwmutex rlock");
            return;   /* counted among readers_ by the waker */
        }
        gn__rw_yield(m);
    }
    m->readers_++;
    gn__unlock(&m->lock_);
}

GONET_API int gn_rwmutex_runlock(gn_rwmutex *m) {
    if (!m) return GN_EINVAL;
    gn__g *wake = NULL;
    gn__lock(&m->lock_);
    if (m->readers_ <= 0) {
        gn__unlock(&m->lock_);
        return GN_ESTATE;
    }
    if (--m->readers_ == 0 && m->wwait_.head) {
        gn__waiter *w = gn__waitq_pop(&m->wwait_);
        m->writers_waiting_--;
        m->writer_ = 1;
        wake = w->g;
    }
    gn__unlock(&m->lock_);
    if (wake) gn__ready(wake);
    return 0;
}

GONET_API void gn_rwmutex_lock(gn_rwmutex *m) {
    if (!m) return;
    gn__lock(&m->lock_);
    if (!m->writer_ && m->readers_ == 0) {
        m->writer_ = 1;
        gn__unlock(&m->lock_);
        return;
    }
    gn__g *g = gn__getg();
    if (g) {
        m->writers_waiting_++;
        gn__waitq_park(&m->wwait_, &m->lock_, g, "rwmutex lock");
        return;   /* writer_ set for us by the waker */
    }
    /* A thread cannot queue, but still holds back new readers while it spins.    */
    m->writers_waiting_++;
    while (m->writer_ || m->readers_ > 0) gn__rw_yield(m);
    m->writers_waiting_--;
    m->writer_ = 1;
    gn__unlock(&m->lock_);
}

GONET_API int gn_rwmutex_unlock(gn_rwmutex *m) {
    if (!m) return GN_EINVAL;
    gn__glist wake = {NULL, NULL, 0};
    gn__waiter *w;
    gn__lock(&m->lock_);
    if (!m->writer_) {
        gn__unlock(&m->lock_);
        return GN_ESTATE;
    }
    m->writer_ = 0;
    if (m->rwait_.head) {
        while ((w = gn__waitq_pop(&m->rwait_)) != NULL) {
            m->readers_++;
            gn__glist_push(&wake, w->g);
        }
    } else if (m->wwait_.head) {
        w = gn__waitq_pop(&m->wwait_);
        m->writers_waiting_--;
        m->writer_ = 1;
        gn__glist_push(&wake, w->g);
    }
    gn__unlock(&m->lock_);
    gn__g *g;
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
    return 0;
}

/* ---- WaitGroup -------------------------------------------------------------------
 * count_ changes with one CAS, outside the lock: only the change to zero takes
 * lock_, to wake the waiters. A waiter checks count_ under lock_ before it
 * queues, so it either sees the zero or is queued before the waker locks.
 * The waker re-checks zero under the lock: if the group was reused meanwhile
 * (an Add after the zero, which Go calls a misuse), the waiters stay for the
 * next zero rather than leave early.                                            */
GONET_API int gn_waitgroup_add(gn_waitgroup *wg, int64_t delta) {
    if (!wg) return GN_EINVAL;
    int64_t v = gn__load_relaxed(&wg->count_);
    do {
        if ((delta < 0 && v + delta < 0) || (delta > 0 && v > INT64_MAX - delta)) return GN_EINVAL;
    } while (!gn__cas(&wg->count_, &v, v + delta));
    if (v + delta != 0 || delta == 0) return 0;
    gn__glist wake = {NULL, NULL, 0};
    gn__waiter *w;
    gn__lock(&wg->lock_);
    if (gn__load(&wg->count_) == 0)
        while ((w = gn__waitq_pop(&wg->waiters_)) != NULL) gn__glist_push(&wake, w->g);
    gn__unlock(&wg->lock_);
    gn__g *g;
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
    return 0;
}

GONET_API int gn_waitgroup_done(gn_waitgroup *wg) { return gn_waitgroup_add(wg, -1); }

GONET_API void gn_waitgroup_wait(gn_waitgroup *wg) {
    if (!wg) return;
    if (gn__load(&wg->count_) == 0) return;
    gn__g *g = gn__getg();
    if (!g) {
        while (gn__load(&wg->count_) != 0) gn__os_yield_thread();
        return;
    }
    gn__lock(&wg->lock_);
    if (gn__load_relaxed(&wg->count_) == 0) {
        gn__unlock(&wg->lock_);
        return;
    }
    gn__waitq_park(&wg->waiters_, &wg->lock_, g, "waitgroup");
}

/* ---- Cond ------------------------------------------------------------------------
 * The waiter is queued before m is released, so a signal sent after the caller
 * saw its condition false and before it parks is not lost. m is unlocked with
 * the cond's lock held (lock order: cond, then mutex), and the park hands over
 * only the cond's lock, so the signaller finds the G only once it is parked.
 * Outside a coroutine a wait cannot park: it unlocks, yields the thread and
 * relocks, a spurious wake-up (callers re-check their condition in a loop).   */
GONET_API void gn_cond_wait(gn_cond *c, gn_mutex *m) {
    if (!c || !m) return;
    gn__g *g = gn__getg();
    if (!g) {
        gn_mutex_unlock(m);
        gn__os_yield_thread();
        gn_mutex_lock(m);
        return;
    }
    gn__waiter w;
    memset(&w, 0, sizeof w);
    w.g = g;
    gn__lock(&c->lock_);
    gn__waitq_push(&c->waiters_, &w);
    gn_mutex_unlock(m);
    gn__park(gn__unlockf_lock, &c->lock_, "cond");
    gn_mutex_lock(m);
}

GONET_API void gn_cond_signal(gn_cond *c) {
    if (!c) return;
    gn__lock(&c->lock_);
    gn__waiter *w = gn__waitq_pop(&c->waiters_);
    gn__g *g = w ? w->g : NULL;
    gn__unlock(&c->lock_);
    if (g) gn__ready(g);
}

GONET_API void gn_cond_broadcast(gn_cond *c) {
    if (!c) return;
    gn__glist wake = {NULL, NULL, 0};
    gn__waiter *w;
    gn__lock(&c->lock_);
    while ((w = gn__waitq_pop(&c->waiters_)) != NULL) gn__glist_push(&wake, w->g);
    gn__unlock(&c->lock_);
    gn__g *g;
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
}

/* ---- Once ------------------------------------------------------------------------
 * done_ is set (release) only after fn returned, so the fast path's acquire load
 * also publishes what fn wrote. Late callers queue on mu_ while fn runs.         */
GONET_API void gn_once_do(gn_once *o, void (*fn)(void *arg), void *arg) {
    if (!o || !fn) return;
    if (gn__load(&o->done_)) return;
    gn_mutex_lock(&o->mu_);
    if (!gn__load_relaxed(&o->done_)) {
        fn(arg);
        gn__store(&o->done_, 1);
    }
    gn_mutex_unlock(&o->mu_);
}
/* ==== end src/sync.c ==== */

/* ==== begin src/context.c ==== */
/* context.c — Go's context: a tree of cancellation scopes with deadlines and
 * values. Every derived context (value contexts included, unlike Go, so that
 * each one can be cancelled and freed the same way) has its own done channel,
 * closed once when it is cancelled, and a list of children that a cancel
 * reaches. The background context is the root; its children keep parent NULL,
 * since nothing can cancel it.
 *
 * Locks: a context's lock guards its err, its children list and its children's
 * parent pointers and sibling links. Cancellation locks parent before child, top
 * down; nothing locks a parent while holding a child. A deadline timer is only
 * stopped with no context lock held: stopping waits for a running callback, and
 * the callback takes the context's lock.
 *
 * >>context                                                                     */

struct gn_context {
    gn_context *parent;              /* NULL: background; atomic (free detaches)  */
    uint32_t    lock;
    int         err;                 /* atomic; 0 while live                       */
    int64_t     deadline;            /* effective: the earliest in the chain; 0 none */
    gn_chan    *done;                /* closed on cancel; NULL for background      */
    gn_context *children;            /* under lock                                 */
    gn_context *next, *prev;         /* siblings, under the parent's lock          */
    int         has_timer;
    gn__rtimer  timer;
    int         has_value;
    const void *key;
    void       *value;
};

/* now + d for a relative duration, saturating, so that a huge d (a common way
 * to say "practically never") does not wrap into the past. Also used by time.c. */
GN__PRIVATE int64_t gn__deadline_after(int64_t d) {
    int64_t now = gn_now();
    if (d <= 0) return now;
    return d > INT64_MAX - now ? INT64_MAX : now + d;
}

static gn_context gn__ctx_background;

GONET_API gn_context *gn_context_background(void) { return &gn__ctx_background; }

GN__PRIVATE int gn__ctx_is_bg(const gn_context *c) { return !c || c == &gn__ctx_background; }

/* Cancels c and its whole subtree with err, once: the first err sticks.           */
GN__PRIVATE void gn__ctx_cancel(gn_context *c, int err) {
    gn__lock(&c->lock);
    if (gn__load_relaxed(&c->err)) {
        gn__unlock(&c->lock);
        return;
    }
    gn__store(&c->err, err);
    gn_chan_close(c->done);
    /* Children stay on the list, cancelled, until each is freed: free needs the
     * link to detach, and the parent needs it to orphan them if freed first.     */
    for (gn_context *k = c->children; k; k = k->next) gn__ctx_cancel(k, err);
    gn__unlock(&c->lock);
}

/* Never stops its own timer (that would wait for itself); free does.            */
GN__PRIVATE void gn__ctx_timer_fired(void *arg, uintptr_t seq) {
    (void)seq;
    gn__ctx_cancel((gn_context *)arg, GN_ETIMEDOUT);
}

GN__PRIVATE gn_context *gn__ctx_new(gn_context *parent, int64_t deadline) {
    if (gn__ctx_is_bg(parent)) parent = NULL;
    gn_context *c = (gn_context *)GN_MALLOC(sizeof *c);
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    c->done = gn_chan_new(0, 0);
    if (!c->done) {
        GN_FREE(c);
        return NULL;
    }
    int64_t inherited = parent ? parent->deadline : 0;
    c->deadline = inherited;
    /* A timer only when ours comes first: otherwise the parent's cancels us.    */
    int own = deadline != 0 && (inherited == 0 || deadline < inherited);
    if (own) c->deadline = deadline;
    int err = 0;
    if (parent) {
        gn__lock(&parent->lock);
        c->parent = parent;
        c->next = parent->children;
        if (c->next) c->next->prev = c;
        parent->children = c;
        err = gn__load_relaxed(&parent->err);
        if (err) gn__ctx_cancel(c, err);
        gn__unlock(&parent->lock);
    }
    if (own && !err) {
        if (deadline <= gn_now()) {
            gn__ctx_cancel(c, GN_ETIMEDOUT);
        } else {
            c->timer.f = gn__ctx_timer_fired;
            c->timer.arg = c;
            c->timer.period = 0;
            if (gn__timer_start(&c->timer, deadline) < 0) {
                /* Out of memory, or no runtime to run the timer: a context that
                 * would never time out is worse than none.                    */
                gn_context_free(c);
                return NULL;
            }
            c->has_timer = 1;
        }
    }
    return c;
}

GONET_API gn_context *gn_context_with_cancel(gn_context *parent) {
    return gn__ctx_new(parent, 0);
}

GONET_API gn_context *gn_context_with_deadline(gn_context *parent, int64_t deadline) {
    return gn__ctx_new(parent, deadline);
}

GONET_API gn_context *gn_context_with_timeout(gn_context *parent, int64_t d) {
    /* A non-positive timeout is a deadline already passed, not "no deadline".   */
    return gn__ctx_new(parent, gn__deadline_after(d));
}

GONET_API gn_context *gn_context_with_value(gn_context *parent, const void *key, void *value) {
    gn_context *c = gn__ctx_new(parent, 0);
    if (c) {
        c->has_value = 1;
        c->key = key;
        c->value = value;
    }
    return c;
}

GONET_API void gn_context_cancel(gn_context *ctx) {
    if (gn__ctx_is_bg(ctx)) return;
    gn__ctx_cancel(ctx, GN_ECANCELED);
}

GONET_API void gn_context_free(gn_context *ctx) {
    if (gn__ctx_is_bg(ctx)) return;
    gn__ctx_cancel(ctx, GN_ECANCELED);
    if (ctx->has_timer) gn__timer_stop(&ctx->timer);
    gn_context *p = gn__load(&ctx->parent);
    if (p) {
        gn__lock(&p->lock);
        if (ctx->prev) ctx->prev->next = ctx->next; else p->children = ctx->next;
        if (ctx->next) ctx->next->prev = ctx->prev;
        gn__unlock(&p->lock);
    }
    /* Children freed after us (against the rule, but cheap to survive) then see
     * no parent instead of a dangling one.                                       */
    gn__lock(&ctx->lock);
    gn_context *k = ctx->children;
    while (k) {
        gn_context *next = k->next;
        gn__store(&k->parent, (gn_context *)NULL);
        k->next = k->prev = NULL;
        k = next;
    }
    ctx->children = NULL;
    gn__unlock(&ctx->lock);
    gn_chan_free(ctx->done);
    GN_FREE(ctx);
}

GONET_API int gn_context_err(gn_context *ctx) {
    return gn__ctx_is_bg(ctx) ? 0 : gn__load(&ctx->err);
}

GONET_API gn_chan *gn_context_done(gn_context *ctx) {
    return gn__ctx_is_bg(ctx) ? NULL : ctx->done;
}

GONET_API int64_t gn_context_deadline(gn_context *ctx) {
    return gn__ctx_is_bg(ctx) ? 0 : ctx->deadline;
}

GONET_API void *gn_context_value(gn_context *ctx, const void *key) {
    for (gn_context *c = ctx; !gn__ctx_is_bg(c); c = gn__load(&c->parent))
        if (c->has_value && c->key == key) return c->value;
    return NULL;
}
/* ==== end src/context.c ==== */

/* ==== begin src/time.c ==== */
/* time.c — the user's timers (Go's time.Timer, time.Ticker, time.AfterFunc) on top
 * of the runtime timers of timer.c.
 *
 * A channel timer's callback offers gn_now() to a channel of capacity 1 and drops
 * it when the channel is full, so a slow reader of a ticker sees ticks merged,
 * never queued. Stop and reset first stop the runtime timer, which returns only
 * once no callback runs, and then drain the channel: after they return no value
 * of an earlier arming can be received (Go 1.23).
 *
 * >>time                                                                        */

struct gn_timer {
    gn__rtimer rt;
    gn_chan   *c;                 /* channel timers; NULL for func timers        */
    void     (*fn)(void *arg);
    void      *arg;
    int        ticker;            /* period is kept positive                     */
    uint32_t   lock;              /* serialises stop/reset/free of one timer    */
};

GN__PRIVATE void gn__time_send(void *arg, uintptr_t seq) {
    (void)seq;
    gn_timer *t = (gn_timer *)arg;
    int64_t now = gn_now();
    (void)gn_chan_try_send(t->c, &now);
}

GN__PRIVATE void gn__time_go(void *arg, uintptr_t seq) {
    (void)seq;
    gn_timer *t = (gn_timer *)arg;
    /* Out of memory here has nobody to tell; Go would crash instead.             */
    (void)gn_go(t->fn, t->arg);
}

GN__PRIVATE gn_timer *gn__time_new(int64_t d, int64_t period, void (*fn)(void *), void *arg) {
    gn_timer *t = (gn_timer *)GN_MALLOC(sizeof *t);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    if (fn) {
        t->fn = fn;
        t->arg = arg;
        t->rt.f = gn__time_go;
    } else {
        t->c = gn_chan_new(sizeof(int64_t), 1);
        if (!t->c) {
            GN_FREE(t);
            return NULL;
        }
        t->rt.f = gn__time_send;
    }
    t->rt.arg = t;
    t->rt.period = period;
    t->ticker = period > 0;
    if (gn__timer_start(&t->rt, gn__deadline_after(d)) < 0) {
        gn_chan_free(t->c);
        GN_FREE(t);
        return NULL;
    }
    return t;
}

GONET_API gn_timer *gn_timer_new(int64_t d) { return gn__time_new(d, 0, NULL, NULL); }

GONET_API gn_timer *gn_ticker_new(int64_t period) {
    return period > 0 ? gn__time_new(period, period, NULL, NULL) : NULL;
}

GONET_API gn_timer *gn_after_func(int64_t d, void (*fn)(void *arg), void *arg) {
    return fn ? gn__time_new(d, 0, fn, arg) : NULL;
}

GONET_API gn_chan *gn_timer_chan(gn_timer *t) { return t ? t->c : NULL; }

/* With t->lock held. Nothing fires once it returns, and the channel is empty.    */
GN__PRIVATE int gn__time_stop(gn_timer *t) {
    int stopped = gn__timer_stop(&t->rt);
    if (t->c) {
        int64_t stale;
        while (gn_chan_try_recv(t->c, &stale) == 0) {}
    }
    return stopped;
}

GONET_API int gn_timer_stop(gn_timer *t) {
    if (!t) return GN_EINVAL;
    gn__lock(&t->lock);
    int r = gn__time_stop(t);
    gn__unlock(&t->lock);
    return r;
}

GONET_API int gn_timer_reset(gn_timer *t, int64_t d) {
    if (!t) return GN_EINVAL;
    /* A ticker's period must stay positive, as Go's Ticker.Reset demands.        */
    if (t->ticker && d <= 0) return GN_EINVAL;
    gn__lock(&t->lock);
    int r = gn__time_stop(t);
    if (t->ticker) t->rt.period = d;
    int e = gn__timer_start(&t->rt, gn__deadline_after(d));
    gn__unlock(&t->lock);
    return e < 0 ? e : r;
}

GONET_API void gn_timer_free(gn_timer *t) {
    if (!t) return;
    gn__lock(&t->lock);
    (void)gn__time_stop(t);
    gn__unlock(&t->lock);
    gn_chan_free(t->c);
    GN_FREE(t);
}
/* ==== end src/time.c ==== */

/* ==== begin src/bufio.c ==== */
/* bufio.c — Go's bufio: gn_bufreader and gn_bufwriter over gn_read_func and
 * gn_write_func. No runtime needed: the source and sink block (or park) as
 * they like, and the buffers here are only indices into caller memory.
 *
 * Reader: buf_[r_, w_) holds unread bytes. gn__bufreader_fill slides them to
 * the front and makes one source call into the free tail. The source's error
 * waits in err_ until a call runs out of buffered bytes, which returns it once
 * (gn__bufreader_take_err), so data always comes before the error that
 * followed it. last_byte_ remembers the last byte handed out, for unread_byte.
 *
 * Writer: buf_[0, n_) waits for the sink. Every sink call goes through
 * gn__bufwriter_sink, which sets the sticky err_ on failure.
 *
 * >>bufio                                                                      */

/* How many 0-byte results in a row a source or sink gets before GN_ENOPROGRESS. */
#define GN__BUFIO_MAX_EMPTY 100

#define GN__BUFIO_CLAMP(n) ((n) > (size_t)INT64_MAX ? (size_t)INT64_MAX : (n))

/* ---- reader --------------------------------------------------------------------- */
GN__PRIVATE int gn__bufreader_ok(const gn_bufreader *r) {
    return r && r->buf_ && r->size_ >= GN_BUFREADER_MIN_SIZE && r->r_ <= r->w_ &&
           r->w_ <= r->size_;
}

GN__PRIVATE int gn__bufreader_take_err(gn_bufreader *r) {
    int e = r->err_;
    r->err_ = 0;
    return e;
}

/* One source call into dst[n] (n > 0), retried while it returns 0 bytes:
 * > 0 bytes or a negative error.                                                  */
GN__PRIVATE int64_t gn__bufreader_call(gn_bufreader *r, void *dst, size_t n) {
    if (!r->rd_) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    for (int i = 0; i < GN__BUFIO_MAX_EMPTY; i++) {
        int64_t m = r->rd_(r->ctx_, dst, n);
        if (m < 0) return m < INT_MIN ? GN_EINVAL : m;
        if ((uint64_t)m > (uint64_t)n) return GN_EINVAL;
        if (m > 0) return m;
    }
    return GN_ENOPROGRESS;
}

/* Slides the unread bytes to the front and reads once into the rest. Called only
 * with no error pending and room in the buffer; an error lands in err_.         */
GN__PRIVATE void gn__bufreader_fill(gn_bufreader *r) {
    if (r->r_ > 0) {
        memmove(r->buf_, r->buf_ + r->r_, r->w_ - r->r_);
        r->w_ -= r->r_;
        r->r_ = 0;
    }
    GN_ASSERT(r->w_ < r->size_);
    int64_t m = gn__bufreader_call(r, r->buf_ + r->w_, r->size_ - r->w_);
    if (m < 0) r->err_ = (int)m;
    else r->w_ += (size_t)m;
}

GONET_API void gn_bufreader_init(gn_bufreader *r, gn_read_func rd, void *ctx,
                                 char *buf, size_t size) {
    if (!r) return;
    memset(r, 0, sizeof *r);
    r->last_byte_ = -1;
    if (!buf || size < GN_BUFREADER_MIN_SIZE) return;   /* invalid: every call EINVAL */
    r->buf_ = buf;
    r->size_ = size;
    r->rd_ = rd;
    r->ctx_ = ctx;
}

GONET_API gn_bufreader *gn_bufreader_new(gn_read_func rd, void *ctx, size_t size) {
    if (size == 0) size = GN_BUFIO_DEFAULT_SIZE;
    if (size < GN_BUFREADER_MIN_SIZE) size = GN_BUFREADER_MIN_SIZE;
    if (size > SIZE_MAX - sizeof(gn_bufreader)) return NULL;
    gn_bufreader *r = (gn_bufreader *)GN_MALLOC(sizeof(gn_bufreader) + size);
    if (!r) return NULL;
    gn_bufreader_init(r, rd, ctx, (char *)(r + 1), size);
    r->owned_ = 1;
    return r;
}

/* Not inlined: a caller passing its own struct would see a (dead) free() of a
 * stack object, which gcc's -Wfree-nonheap-object flags.                      */
GN__NOINLINE GONET_API void gn_bufreader_free(gn_bufreader *r) {
    if (r && r->owned_) GN_FREE(r);
}

GONET_API void gn_bufreader_reset(gn_bufreader *r, gn_read_func rd, void *ctx) {
    if (!r) return;
    r->r_ = r->w_ = 0;
    r->err_ = 0;
    r->last_byte_ = -1;
    r->rd_ = rd;
    r->ctx_ = ctx;
}

GONET_API size_t gn_bufreader_buffered(const gn_bufreader *r) {
    return gn__bufreader_ok(r) ? r->w_ - r->r_ : 0;
}

GONET_API size_t gn_bufreader_size(const gn_bufreader *r) {
    return gn__bufreader_ok(r) ? r->size_ : 0;
}

GONET_API int64_t gn_bufreader_read(gn_bufreader *r, void *buf, size_t n) {
    if (!gn__bufreader_ok(r) || (!buf && n)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    if (n == 0) return r->r_ < r->w_ ? 0 : gn__bufreader_take_err(r);
    if (r->r_ == r->w_) {
        if (r->err_) return gn__bufreader_take_err(r);
        if (n >= r->size_) {
            /* Nothing buffered and a big destination: skip the copy.            */
            int64_t m = gn__bufreader_call(r, buf, n);
            if (m > 0) r->last_byte_ = ((unsigned char *)buf)[m - 1];
            return m;
        }
        r->r_ = r->w_ = 0;
        gn__bufreader_fill(r);
        if (r->r_ == r->w_) return gn__bufreader_take_err(r);
    }
    size_t k = GN__MIN(n, r->w_ - r->r_);
    memcpy(buf, r->buf_ + r->r_, k);
    r->r_ += k;
    r->last_byte_ = (unsigned char)r->buf_[r->r_ - 1];
    return (int64_t)k;
}

GONET_API int gn_bufreader_read_byte(gn_bufreader *r) {
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    while (r->r_ == r->w_) {
        if (r->err_) return gn__bufreader_take_err(r);
        gn__bufreader_fill(r);
    }
    int c = (unsigned char)r->buf_[r->r_++];
    r->last_byte_ = c;
    return c;
}

GONET_API int gn_bufreader_unread_byte(gn_bufreader *r) {
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    /* r_ == 0 with bytes buffered would mean a fill moved them after the read;
     * a call that fills then hands out bytes or resets last_byte_: a guard.   */
    if (r->last_byte_ < 0 || (r->r_ == 0 && r->w_ > 0)) return GN_EUNREAD;
    if (r->r_ > 0) r->r_--;
    else r->w_ = 1;            /* empty buffer: the byte becomes its only content */
    r->buf_[r->r_] = (char)r->last_byte_;
    r->last_byte_ = -1;
    return 0;
}

GONET_API int64_t gn_bufreader_peek(gn_bufreader *r, size_t n, const char **out) {
    if (out) *out = NULL;
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    r->last_byte_ = -1;
    while (r->w_ - r->r_ < n && r->w_ - r->r_ < r->size_ && !r->err_)
        gn__bufreader_fill(r);
    if (out) *out = r->buf_ + r->r_;
    if (n > r->size_) return GN_EBUFFULL;
    if (r->w_ - r->r_ < n) return gn__bufreader_take_err(r);
    return (int64_t)n;
}

/* Each pass searches only the bytes the last fill added.                         */
GONET_API int64_t gn_bufreader_read_slice(gn_bufreader *r, int delim, const char **out) {
    if (out) *out = NULL;
    if (!gn__bufreader_ok(r) || !out) return GN_EINVAL;
    size_t seen = 0;     /* bytes past r_ already searched */
    size_t len;
    for (;;) {
        const char *p = (const char *)memchr(r->buf_ + r->r_ + seen, (unsigned char)delim,
                                             r->w_ - r->r_ - seen);
        if (p) {
            len = (size_t)(p - (r->buf_ + r->r_)) + 1;
            break;
        }
        if (r->err_) {
            if (r->r_ == r->w_) return gn__bufreader_take_err(r);
            len = r->w_ - r->r_;        /* the tail before the error; err_ stays  */
            break;
        }
        if (r->w_ - r->r_ == r->size_) {
            *out = r->buf_ + r->r_;
            r->r_ = r->w_;
            r->last_byte_ = (unsigned char)r->buf_[r->w_ - 1];
            return GN_EBUFFULL;
        }
        seen = r->w_ - r->r_;
        gn__bufreader_fill(r);
    }
    *out = r->buf_ + r->r_;
    r->r_ += len;
    r->last_byte_ = (unsigned char)r->buf_[r->r_ - 1];
    return (int64_t)len;
}

/* read_bytes and read_string: gathers read_slice's pieces into one allocation. */
GN__PRIVATE int64_t gn__bufreader_collect(gn_bufreader *r, int delim, char **out, int nul) {
    if (out) *out = NULL;
    if (!gn__bufreader_ok(r) || !out) return GN_EINVAL;
    char *res = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        const char *piece;
        int64_t m = gn_bufreader_read_slice(r, delim, &piece);
        if (m == GN_EBUFFULL) m = (int64_t)r->size_;
        else if (m < 0) {
            if (len == 0) return m;
            r->err_ = (int)m;           /* give it back for the next call         */
            break;
        }
        size_t k = (size_t)m;
        if (len + k + 1 > cap) {
            size_t ncap = cap ? cap : 64;
            while (ncap < len + k + 1) {
                if (ncap > SIZE_MAX / 2) { ncap = len + k + 1; break; }
                ncap *= 2;
            }
            char *nres = (char *)GN_REALLOC(res, ncap);
            if (!nres) {
                GN_FREE(res);
                return GN_ENOMEM;
            }
            res = nres;
            cap = ncap;
        }
        memcpy(res + len, piece, k);
        len += k;
        if (piece[k - 1] == (char)(unsigned char)delim || r->err_) break;
    }
    if (nul) res[len] = '\0';
    *out = res;
    return (int64_t)len;
}

GONET_API int64_t gn_bufreader_read_bytes(gn_bufreader *r, int delim, char **out) {
    return gn__bufreader_collect(r, delim, out, 0);
}

GONET_API int64_t gn_bufreader_read_string(gn_bufreader *r, int delim, char **out) {
    return gn__bufreader_collect(r, delim, out, 1);
}

GONET_API int64_t gn_bufreader_read_line(gn_bufreader *r, const char **line, int *is_prefix) {
    if (line) *line = NULL;
    if (is_prefix) *is_prefix = 0;
    if (!gn__bufreader_ok(r) || !line) return GN_EINVAL;
    const char *p;
    int64_t m = gn_bufreader_read_slice(r, '\n', &p);
    if (m == GN_EBUFFULL) {
        size_t len = r->size_;
        if (p[len - 1] == '\r') {
            /* The "\r" may start a "\r\n": hold it back for the next piece.    */
            r->r_--;
            len--;
            r->last_byte_ = (unsigned char)p[len - 1];
        }
        *line = p;
        if (is_prefix) *is_prefix = 1;
        return (int64_t)len;
    }
    if (m < 0) return m;
    size_t len = (size_t)m;
    if (p[len - 1] == '\n') {
        len--;
        if (len > 0 && p[len - 1] == '\r') len--;
    }
    *line = p;
    return (int64_t)len;
}

GONET_API int64_t gn_bufreader_read_full(gn_bufreader *r, void *buf, size_t n) {
    if (!gn__bufreader_ok(r) || (!buf && n)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    size_t got = 0;
    while (got < n) {
        int64_t m = gn_bufreader_read(r, (char *)buf + got, n - got);
        if (m < 0) {
            if (m == GN_EOF && got > 0) return GN_EUNEXPECTEDEOF;
            return m;
        }
        got += (size_t)m;
    }
    return (int64_t)n;
}

GONET_API int64_t gn_bufreader_discard(gn_bufreader *r, size_t n) {
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    r->last_byte_ = -1;
    size_t left = n;
    for (;;) {
        size_t k = GN__MIN(left, r->w_ - r->r_);
        r->r_ += k;
        left -= k;
        if (left == 0) return (int64_t)n;
        if (r->err_) return left < n ? (int64_t)(n - left) : gn__bufreader_take_err(r);
        gn__bufreader_fill(r);
    }
}

/* ---- writer --------------------------------------------------------------------- */
GN__PRIVATE int gn__bufwriter_ok(const gn_bufwriter *w) {
    return w && w->buf_ && w->size_ > 0 && w->n_ <= w->size_;
}

/* Hands p[n] to the sink, calling again for the rest after a short write.
 * 0, or the error, which becomes sticky.                                          */
GN__PRIVATE int gn__bufwriter_sink(gn_bufwriter *w, const char *p, size_t n) {
    int empty = 0;
    while (n > 0) {
        int64_t m = w->wr_ ? w->wr_(w->ctx_, p, GN__BUFIO_CLAMP(n)) : GN_EINVAL;
        if (m < 0) {
            w->err_ = m < INT_MIN ? GN_EINVAL : (int)m;
            return w->err_;
        }
        if ((uint64_t)m > (uint64_t)n) return w->err_ = GN_EINVAL;
        if (m == 0) {
            if (++empty == GN__BUFIO_MAX_EMPTY) return w->err_ = GN_ENOPROGRESS;
            continue;
        }
        empty = 0;
        p += m;
        n -= (size_t)m;
    }
    return 0;
}

GONET_API void gn_bufwriter_init(gn_bufwriter *w, gn_write_func wr, void *ctx,
                                 char *buf, size_t size) {
    if (!w) return;
    memset(w, 0, sizeof *w);
    if (!buf || size == 0) return;   /* invalid: every call GN_EINVAL */
    w->buf_ = buf;
    w->size_ = size;
    w->wr_ = wr;
    w->ctx_ = ctx;
}

GONET_API gn_bufwriter *gn_bufwriter_new(gn_write_func wr, void *ctx, size_t size) {
    if (size == 0) size = GN_BUFIO_DEFAULT_SIZE;
    if (size > SIZE_MAX - sizeof(gn_bufwriter)) return NULL;
    gn_bufwriter *w = (gn_bufwriter *)GN_MALLOC(sizeof(gn_bufwriter) + size);
    if (!w) return NULL;
    gn_bufwriter_init(w, wr, ctx, (char *)(w + 1), size);
    w->owned_ = 1;
    return w;
}

/* Not inlined: a caller passing its own struct would see a (dead) free() of a
 * stack object, which gcc's -Wfree-nonheap-object flags.                      */
GN__NOINLINE GONET_API void gn_bufwriter_free(gn_bufwriter *w) {
    if (w && w->owned_) GN_FREE(w);
}

GONET_API void gn_bufwriter_reset(gn_bufwriter *w, gn_write_func wr, void *ctx) {
    if (!w) return;
    w->n_ = 0;
    w->err_ = 0;
    w->wr_ = wr;
    w->ctx_ = ctx;
}

GONET_API size_t gn_bufwriter_available(const gn_bufwriter *w) {
    return gn__bufwriter_ok(w) ? w->size_ - w->n_ : 0;
}

GONET_API size_t gn_bufwriter_buffered(const gn_bufwriter *w) {
    return gn__bufwriter_ok(w) ? w->n_ : 0;
}

GONET_API int gn_bufwriter_flush(gn_bufwriter *w) {
    if (!gn__bufwriter_ok(w)) return GN_EINVAL;
    if (w->err_) return w->err_;
    if (w->n_ == 0) return 0;
    int e = gn__bufwriter_sink(w, w->buf_, w->n_);
    if (e) return e;
    w->n_ = 0;
    return 0;
}

GONET_API int64_t gn_bufwriter_write(gn_bufwriter *w, const void *p, size_t n) {
    if (!gn__bufwriter_ok(w) || (!p && n)) return GN_EINVAL;
    if (w->err_) return w->err_;
    if (n == 0) return 0;
    n = GN__BUFIO_CLAMP(n);
    const char *s = (const char *)p;
    size_t left = n;
    while (left > w->size_ - w->n_) {
        if (w->n_ == 0) {
            /* Empty buffer, more than fits: straight to the sink, no copy.       */
            int e = gn__bufwriter_sink(w, s, left);
            return e ? e : (int64_t)n;
        }
        size_t k = w->size_ - w->n_;
        memcpy(w->buf_ + w->n_, s, k);
        w->n_ += k;
        s += k;
        left -= k;
        int e = gn_bufwriter_flush(w);
        if (e) return e;
    }
    memcpy(w->buf_ + w->n_, s, left);
    w->n_ += left;
    return (int64_t)n;
}

GONET_API int gn_bufwriter_write_byte(gn_bufwriter *w, int c) {
    if (!gn__bufwriter_ok(w)) return GN_EINVAL;
    if (w->err_) return w->err_;
    if (w->n_ == w->size_) {
        int e = gn_bufwriter_flush(w);
        if (e) return e;
    }
    w->buf_[w->n_++] = (char)(unsigned char)c;
    return 0;
}

GONET_API int64_t gn_bufwriter_write_string(gn_bufwriter *w, const char *s) {
    if (!s) return GN_EINVAL;
    return gn_bufwriter_write(w, s, strlen(s));
}
/* ==== end src/bufio.c ==== */

/* ==== begin src/net.c ==== */
/* net.c — sockets for coroutines: listen, accept, dial, read, write, close,
 * deadlines, options, UDP, and name resolution (Go's net and internal/poll).
 *
 * Every descriptor is non-blocking and registered with the poller once. An
 * operation tries the system call first and parks on the pd only when it would
 * block (EAGAIN), so a busy connection costs one read and one write per
 * request. A short read means the socket was drained; the next read then waits
 * for readiness instead of spending a system call on EAGAIN.
 *
 * Lifetime (Go's fdMutex, simplified): each operation holds a reference;
 * gn_close marks the fd closed, wakes its waiters, and drops the owner's
 * reference; the descriptor is closed when the last reference goes, so no
 * operation ever runs on a descriptor number that was reused. One reader and
 * one writer at a time: concurrent readers queue on a gn_mutex.
 *
 * >>net                                                                           */

#include <netdb.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>

typedef struct gn__fd {
    int       fd;
    int       family, type;         /* AF_*, SOCK_STREAM / SOCK_DGRAM              */
    int       is_socket;
    gn__pd   *pd;                   /* NULL: not pollable (a regular file)         */
    uint32_t  refs;                 /* atomic: the owner's + one per operation     */
    uint32_t  closed;               /* atomic                                       */
    uint32_t  drained;              /* atomic: the last read was short             */
    gn_mutex  rmu, wmu;             /* one reader, one writer at a time             */
} gn__fd;

struct gn_conn     { gn__fd f; };
struct gn_listener { gn__fd f; char *unix_path; };

/* ---- the fd core ------------------------------------------------------------------ */
GN__PRIVATE int gn__fd_init(gn__fd *f, int fd, int family, int type) {
    memset(f, 0, sizeof *f);
    f->fd = fd;
    f->family = family;
    f->type = type;
    f->refs = 1;
    int st = 0;
    socklen_t len = sizeof st;
    f->is_socket = getsockopt(fd, SOL_SOCKET, SO_TYPE, &st, &len) == 0;
    f->pd = gn__pd_alloc();
    if (!f->pd) return GN_ENOMEM;
    f->pd->fd = fd;
    int rc = gn__netpoll_arm(f->pd);
    if (rc == -EPERM) {   /* regular files and the like: always ready, never polled */
        gn__pd_release(f->pd);
        f->pd = NULL;
        rc = 0;
    } else if (rc < 0) {
        gn__pd_release(f->pd);
        f->pd = NULL;
    }
    return rc;
}

GN__PRIVATE void gn__fd_destroy(gn__fd *f) {
    if (f->pd) {
        gn__netpoll_disarm(f->pd);
        gn__pd_retire(f->pd);
        gn__pd_release(f->pd);
    }
    int saved = errno;
    close(f->fd);
    errno = saved;
}

/* 1 with a reference taken, or 0 if the fd is closed.                            */
GN__PRIVATE int gn__fd_acquire(gn__fd *f) {
    gn__xadd(&f->refs, 1u);
    if (!gn__load(&f->closed)) return 1;
    gn__xadd(&f->refs, (uint32_t)-1);
    return 0;
}

/* Drops a reference; returns 1 if it was the last (the caller frees).            */
GN__PRIVATE int gn__fd_release(gn__fd *f) {
    if (gn__xadd(&f->refs, (uint32_t)-1) != 1) return 0;
    gn__fd_destroy(f);
    return 1;
}

GN__PRIVATE int gn__fd_close(gn__fd *f) {
    uint32_t z = 0;
    if (!gn__cas(&f->closed, &z, 1u)) return GN_ECLOSED;
    if (f->pd) gn__pd_evict(f->pd);
    return 1;
}

/* Waits for readiness; without a pd (not pollable) there is nothing to wait for. */
GN__PRIVATE int gn__fd_wait(gn__fd *f, int mode) {
    if (!f->pd) return 0;
    return gn__pd_wait(f->pd, mode);
}

GN__PRIVATE int gn__fd_check(gn__fd *f, int mode) {
    if (gn__load(&f->closed)) return GN_ECLOSED;
    return f->pd ? gn__pd_check(f->pd, mode) : 0;
}

GN__PRIVATE int64_t gn__fd_read(gn__fd *f, void *buf, size_t n) {
    for (;;) {
        int err = gn__fd_check(f, 'r');
        if (err) return err;
        if (n == 0) return 0;   /* as Go: an empty read never blocks */
        /* The last read came back short, so the socket was empty: wait for the
         * edge rather than pay a read that returns EAGAIN. Not after a hang-up:
         * end of stream or an error arrives with the data and no edge follows. */
        if (f->pd && gn__load_relaxed(&f->drained)) {
            gn__store_relaxed(&f->drained, 0u);
            if (!gn__load(&f->pd->hup) && (err = gn__fd_wait(f, 'r')) != 0) return err;
        }
        ssize_t r = read(f->fd, buf, n);
        if (r > 0) {
            if ((size_t)r < n && f->type == SOCK_STREAM) gn__store_relaxed(&f->drained, 1u);
            return r;
        }
        if (r == 0) return f->type == SOCK_STREAM ? GN_EOF : 0;   /* an empty datagram */
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((err = gn__fd_wait(f, 'r')) != 0) return err;
    }
}

GN__PRIVATE int64_t gn__fd_write(gn__fd *f, const void *buf, size_t n) {
    size_t done = 0;
    int once = f->type != SOCK_STREAM;   /* a datagram goes out even when empty */
    while (done < n || once) {
        int err = gn__fd_check(f, 'w');
        if (err) return err;
        ssize_t w = f->is_socket ? send(f->fd, (const char *)buf + done, n - done, MSG_NOSIGNAL)
                                 : write(f->fd, (const char *)buf + done, n - done);
        if (w >= 0) {
            done += (size_t)w;
            once = 0;
            continue;
        }
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((err = gn__fd_wait(f, 'w')) != 0) return err;
    }
    return (int64_t)n;
}

/* ---- addresses ------------------------------------------------------------------- */
typedef struct gn__addr {
    struct sockaddr_storage ss;
    socklen_t len;
    int family, type, protocol;
} gn__addr;

typedef struct gn__net { int family, type; int is_unix; } gn__net;

/* "tcp4" -> AF_INET, stream, and so on. 0 or GN_EINVAL for an unknown network. */
GN__PRIVATE int gn__parse_network(const char *network, gn__net *out) {
    static const struct { const char *name; int family, type, is_unix; } nets[] = {
        {"tcp", AF_UNSPEC, SOCK_STREAM, 0}, {"tcp4", AF_INET, SOCK_STREAM, 0},
        {"tcp6", AF_INET6, SOCK_STREAM, 0}, {"udp", AF_UNSPEC, SOCK_DGRAM, 0},
        {"udp4", AF_INET, SOCK_DGRAM, 0},   {"udp6", AF_INET6, SOCK_DGRAM, 0},
        {"unix", AF_UNIX, SOCK_STREAM, 1},  {"unixgram", AF_UNIX, SOCK_DGRAM, 1},
    };
    if (!network) return GN_EINVAL;
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        if (strcmp(network, nets[i].name) == 0) {
            out->family = nets[i].family;
            out->type = nets[i].type;
            out->is_unix = nets[i].is_unix;
            return 0;
        }
    }
    return GN_EINVAL;
}

/* Splits "host:port", "[v6]:port" or ":port" into host (maybe "") and port.    */
GN__PRIVATE int gn__split_host_port(const char *address, char *host, size_t hsize, char *port, size_t psize) {
    if (!address) return GN_EINVAL;
    const char *colon = strrchr(address, ':');
    if (!colon) return GN_EINVAL;
    const char *h = address, *he = colon;
    if (*h == '[') {
        if (he == h || he[-1] != ']') return GN_EINVAL;
        h++;
        he--;
    } else if (memchr(address, ':', (size_t)(colon - address))) {
        return GN_EINVAL;   /* a bare IPv6 address needs brackets */
    }
    size_t hl = (size_t)(he - h), pl = strlen(colon + 1);
    if (hl >= hsize || pl >= psize || pl == 0 || pl > 5) return GN_EINVAL;
    /* Ports are numbers, 0 to 65535 (no service names: those need a file).   */
    long pv = 0;
    for (size_t i = 0; i < pl; i++) {
        if (colon[1 + i] < '0' || colon[1 + i] > '9') return GN_EINVAL;
        pv = pv * 10 + (colon[1 + i] - '0');
    }
    if (pv > 65535) return GN_EINVAL;
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, colon + 1, pl + 1);
    return 0;
}

typedef struct gn__resolve {
    const char *host, *port;
    struct addrinfo hints, *res;
    int rc;
} gn__resolve;

GN__PRIVATE void gn__resolve_run(void *arg) {
    gn__resolve *r = (gn__resolve *)arg;
    r->rc = getaddrinfo(r->host, r->port, &r->hints, &r->res);
}

GN__PRIVATE int gn__gai_error(int rc) {
    switch (rc) {
    case 0: return 0;
    case EAI_MEMORY: return GN_ENOMEM;
    case EAI_SYSTEM: return gn__err_from_errno(errno);
    case EAI_NONAME: return GN_ENOHOST;
#ifdef EAI_NODATA
    case EAI_NODATA: return GN_ENOHOST;
#endif
    case EAI_SERVICE: return GN_EINVAL;
    default: return GN_ENOHOST;
    }
}

/* Resolves address for net into at most max addresses, IPv6 first as the
 * system orders them. Numeric hosts never block; names resolve through
 * gn_blocking so that other coroutines keep running.                        */
GN__PRIVATE int gn__resolve_addrs(const gn__net *net, const char *address, int passive,
                                  gn__addr *out, int max) {
    if (net->is_unix) {
        struct sockaddr_un *un = (struct sockaddr_un *)&out[0].ss;
        size_t len = address ? strlen(address) : 0;
        if (len == 0 || len >= sizeof un->sun_path) return GN_EINVAL;
        memset(&out[0], 0, sizeof out[0]);
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, address, len + 1);
        out[0].len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
        out[0].family = AF_UNIX;
        out[0].type = net->type;
        return 1;
    }
    char host[256], port[32];
    int rc = gn__split_host_port(address, host, sizeof host, port, sizeof port);
    if (rc) return rc;
    gn__resolve r;
    memset(&r, 0, sizeof r);
    r.host = host[0] ? host : NULL;
    r.port = port;
    r.hints.ai_family = net->family;
    r.hints.ai_socktype = net->type;
    r.hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) | (host[0] ? 0 : AI_PASSIVE);
    /* A literal address needs no resolver: try that first, without blocking.    */
    r.hints.ai_flags |= AI_NUMERICHOST;
    r.rc = host[0] ? getaddrinfo(r.host, r.port, &r.hints, &r.res) : EAI_NONAME;
    if (r.rc == EAI_NONAME && host[0]) {
        r.hints.ai_flags &= ~AI_NUMERICHOST;
        if (gn__getg()) gn_blocking(gn__resolve_run, &r); else gn__resolve_run(&r);
    } else if (!host[0]) {
        /* ":port": every interface. For "tcp"/"udp", the IPv6 wildcard with
         * V6ONLY off serves both families (as Go does); fall back to IPv4.      */
        memset(&out[0], 0, sizeof out[0]);
        int n = 0;
        if (net->family != AF_INET) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out[n].ss;
            a6->sin6_family = AF_INET6;
            a6->sin6_addr = in6addr_any;
            a6->sin6_port = htons((uint16_t)atoi(port));
            out[n].len = sizeof *a6;
            out[n].family = AF_INET6;
            out[n].type = net->type;
            n++;
        }
        if (net->family != AF_INET6 && n < max) {
            memset(&out[n], 0, sizeof out[n]);
            struct sockaddr_in *a4 = (struct sockaddr_in *)&out[n].ss;
            a4->sin_family = AF_INET;
            a4->sin_addr.s_addr = htonl(INADDR_ANY);
            a4->sin_port = htons((uint16_t)atoi(port));
            out[n].len = sizeof *a4;
            out[n].family = AF_INET;
            out[n].type = net->type;
            n++;
        }
        return n;
    }
    if (r.rc != 0) return gn__gai_error(r.rc);
    int n = 0;
    for (struct addrinfo *ai = r.res; ai && n < max; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out[n].ss) continue;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        out[n].family = ai->ai_family;
        out[n].type = net->type;
        out[n].protocol = ai->ai_protocol;
        n++;
    }
    freeaddrinfo(r.res);
    return n > 0 ? n : GN_ENOHOST;
}

/* Writes "ip:port", "[ip6]:port" or a unix path into buf. Length or GN_EINVAL. */
GN__PRIVATE int gn__format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size) {
    if (!buf || size == 0) return GN_EINVAL;
    char ip[INET6_ADDRSTRLEN];
    int n;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        n = snprintf(buf, size, "%s:%u", ip, ntohs(a->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            /* An IPv4 peer of a dual-stack socket is an IPv4 address, as in Go. */
            inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, sizeof ip);
            n = snprintf(buf, size, "%s:%u", ip, ntohs(a->sin6_port));
        } else {
            inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
            n = snprintf(buf, size, "[%s]:%u", ip, ntohs(a->sin6_port));
        }
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *a = (const struct sockaddr_un *)sa;
        size_t pl = len > offsetof(struct sockaddr_un, sun_path)
                        ? strnlen(a->sun_path, len - offsetof(struct sockaddr_un, sun_path)) : 0;
        n = snprintf(buf, size, "%.*s", (int)pl, a->sun_path);
    } else {
        return GN_EINVAL;
    }
    return n < 0 || (size_t)n >= size ? GN_EINVAL : n;
}

GN__PRIVATE int gn__sock_addr(int fd, int peer, char *buf, size_t size) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (rc != 0) return gn__err_from_errno(errno);
    return gn__format_addr((struct sockaddr *)&ss, len, buf, size);
}

GN__PRIVATE int gn__socket(int family, int type, int protocol) {
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    return fd < 0 ? gn__err_from_errno(errno) : fd;
}

GN__PRIVATE int gn__new_conn(gn_conn **out, int fd, int family, int type) {
    gn_conn *c = (gn_conn *)GN_MALLOC(sizeof *c);
    if (!c) {
        close(fd);
        return GN_ENOMEM;
    }
    int rc = gn__fd_init(&c->f, fd, family, type);
    if (rc < 0) {
        close(fd);
        GN_FREE(c);
        return rc;
    }
    if (type == SOCK_STREAM && (family == AF_INET || family == AF_INET6)) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    *out = c;
    return 0;
}

/* ---- listening ------------------------------------------------------------------- */
GONET_API int gn_listen_with(gn_listener **out, const char *network, const char *address,
                             const gn_listen_opts *opts) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__net net;
    if (gn__parse_network(network, &net) != 0 || net.type != SOCK_STREAM) return GN_EINVAL;
    gn__addr addrs[8];
    int n = gn__resolve_addrs(&net, address, 1, addrs, 8);
    if (n < 0) return n;
    int rc = GN_EINVAL;
    for (int i = 0; i < n; i++) {
        int fd = gn__socket(addrs[i].family, SOCK_STREAM, 0);
        if (fd < 0) { rc = fd; continue; }
        int one = 1, zero = 0;
        if (addrs[i].family != AF_UNIX) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (opts && opts->reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (addrs[i].family == AF_INET6 && net.family == AF_UNSPEC)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        if (addrs[i].family == AF_INET6 && net.family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        int backlog = opts && opts->backlog > 0 ? opts->backlog : SOMAXCONN;
        if (bind(fd, (struct sockaddr *)&addrs[i].ss, addrs[i].len) != 0 || listen(fd, backlog) != 0) {
            rc = gn__err_from_errno(errno);
            close(fd);
            continue;
        }
        gn_listener *l = (gn_listener *)GN_MALLOC(sizeof *l);
        if (!l) { close(fd); return GN_ENOMEM; }
        l->unix_path = NULL;
        if ((rc = gn__fd_init(&l->f, fd, addrs[i].family, SOCK_STREAM)) < 0) {
            close(fd);
            GN_FREE(l);
            return rc;
        }
        if (net.is_unix) {
            size_t pl = strlen(address);
            l->unix_path = (char *)GN_MALLOC(pl + 1);
            if (l->unix_path) memcpy(l->unix_path, address, pl + 1);
        }
        *out = l;
        return 0;
    }
    return rc;
}

GONET_API int gn_listen(gn_listener **out, const char *network, const char *address) {
    return gn_listen_with(out, network, address, NULL);
}

GONET_API int gn_accept(gn_listener *l, gn_conn **out) {
    if (!l || !out) return GN_EINVAL;
    *out = NULL;
    if (!gn__fd_acquire(&l->f)) return GN_ECLOSED;
    gn_mutex_lock(&l->f.rmu);
    int64_t backoff = 0;
    int rc;
    for (;;) {
        if ((rc = gn__fd_check(&l->f, 'r')) != 0) break;
        int fd = accept4(l->f.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            rc = gn__new_conn(out, fd, l->f.family, SOCK_STREAM);
            if (rc == 0) break;
            continue;   /* out of memory for this one: it is closed, take the next */
        }
        int e = errno;
        if (e == EINTR || e == ECONNABORTED) continue;
        if (e == EAGAIN || e == EWOULDBLOCK) {
            if ((rc = gn__fd_wait(&l->f, 'r')) != 0) break;
            continue;
        }
        if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
            /* Out of descriptors or memory: wait for some to free up.           */
            backoff = backoff ? GN__MIN(backoff * 2, GN_SECOND) : 5 * GN_MILLISECOND;
            gn_sleep(backoff);
            continue;
        }
        rc = gn__err_from_errno(e);
        break;
    }
    gn_mutex_unlock(&l->f.rmu);
    if (gn__fd_release(&l->f)) {
        GN_FREE(l->unix_path);
        GN_FREE(l);
    }
    return rc;
}

GONET_API int gn_listener_close(gn_listener *l) {
    if (!l) return GN_EINVAL;
    int rc = gn__fd_close(&l->f);
    if (rc < 0) return rc;
    if (l->unix_path) unlink(l->unix_path);
    if (gn__fd_release(&l->f)) {
        GN_FREE(l->unix_path);
        GN_FREE(l);
    }
    return 0;
}

GONET_API int gn_listener_addr(gn_listener *l, char *buf, size_t size) {
    if (!l) return GN_EINVAL;
    return gn__sock_addr(l->f.fd, 0, buf, size);
}

GONET_API int gn_listener_port(gn_listener *l) {
    if (!l) return GN_EINVAL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(l->f.fd, (struct sockaddr *)&ss, &len) != 0) return gn__err_from_errno(errno);
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return GN_EINVAL;
}

GONET_API int gn_listener_set_deadline(gn_listener *l, int64_t deadline) {
    if (!l) return GN_EINVAL;
    if (!gn__fd_acquire(&l->f)) return GN_ECLOSED;
    int rc = l->f.pd ? gn__pd_set_deadline(l->f.pd, deadline, 'r') : GN_ENOSYS;
    if (gn__fd_release(&l->f)) {
        GN_FREE(l->unix_path);
        GN_FREE(l);
    }
    return rc;
}

/* ---- dialing --------------------------------------------------------------------- */
/* A context watch for gn_dial_context: a coroutine that waits for the context
 * and, when it is cancelled, fails the attempt in flight by moving its write
 * deadline into the past. The dialer waits on `exited` until the watcher is
 * out of its select (the caller may free the context once the dial returns);
 * both hold a reference and the last one out frees the watch, since a waker
 * may still be inside the channel code when the woken one runs.               */
typedef struct gn__dial_watch {
    gn_context *ctx;
    gn_chan    *stop;       /* closed by the dialer when it is finished             */
    gn_chan    *exited;     /* buffered: the watcher's last word, ctx untouched after */
    gn__pd     *pd;         /* the attempt in flight, under lock                   */
    uint32_t    lock;
    uint32_t    refs;       /* atomic                                               */
    int         canceled;   /* under lock: the context fired first                 */
    int         finished;   /* under lock: the dialer is done, touch nothing       */
} gn__dial_watch;

GN__PRIVATE void gn__dial_watch_put(gn__dial_watch *w) {
    if (gn__xadd(&w->refs, (uint32_t)-1) != 1) return;
    gn_chan_free(w->stop);
    gn_chan_free(w->exited);
    GN_FREE(w);
}

GN__PRIVATE void gn__dial_watcher(void *arg) {
    gn__dial_watch *w = (gn__dial_watch *)arg;
    gn_select_case cases[2] = {{gn_context_done(w->ctx), GN_RECV, NULL, 0},
                               {w->stop, GN_RECV, NULL, 0}};
    if (gn_select(cases, 2) == 0) {
        gn__lock(&w->lock);
        if (!w->finished) {
            w->canceled = 1;
            if (w->pd) gn__pd_set_deadline(w->pd, 1, 'w');
        }
        gn__unlock(&w->lock);
    }
    gn_chan_send(w->exited, NULL);
    gn__dial_watch_put(w);
}

/* The attempt in flight becomes pd (NULL: none); 1 if the context has already
 * fired, so the attempt should not start.                                       */
GN__PRIVATE int gn__dial_watch_attempt(gn__dial_watch *w, gn__pd *pd) {
    if (!w) return 0;
    gn__lock(&w->lock);
    w->pd = pd;
    int canceled = w->canceled;
    gn__unlock(&w->lock);
    return canceled;
}

/* Connects one address before deadline (0: none). 0 and *out, or an error.      */
GN__PRIVATE int gn__dial_one(const gn__addr *a, int64_t deadline, gn__dial_watch *w, gn_conn **out) {
    int fd = gn__socket(a->family, a->type, a->protocol);
    if (fd < 0) return fd;
    gn_conn *c;
    int rc = gn__new_conn(&c, fd, a->family, a->type);
    if (rc < 0) return rc;
    if (gn__dial_watch_attempt(w, c->f.pd)) {
        gn__dial_watch_attempt(w, NULL);
        gn_close(c);
        return GN_ECANCELED;
    }
    int r = connect(fd, (const struct sockaddr *)&a->ss, a->len);
    if (r != 0 && errno != EINPROGRESS && errno != EINTR) rc = gn__err_from_errno(errno);
    if (r != 0 && rc == 0) {
        if (deadline && c->f.pd) gn__pd_set_deadline(c->f.pd, deadline, 'w');
        for (;;) {
            if ((rc = gn__fd_wait(&c->f, 'w')) != 0) break;
            int err = 0;
            socklen_t len = sizeof err;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            if (err == EINPROGRESS || err == EALREADY || err == EINTR) continue;
            if (err == 0) {
                /* Writable is not connected: an fd registered before connect
                 * may report an early event. Connected means it has a peer.  */
                struct sockaddr_storage ls, rs;
                socklen_t ll = sizeof ls, rl = sizeof rs;
                if (getpeername(fd, (struct sockaddr *)&rs, &rl) != 0) {
                    if (errno == ENOTCONN) continue;
                    err = errno;
                } else if (a->family != AF_UNIX && getsockname(fd, (struct sockaddr *)&ls, &ll) == 0 &&
                           ll == rl && memcmp(&ls, &rs, ll) == 0) {
                    err = ECONNREFUSED;   /* connected to itself: no listener there */
                } else {
                    break;
                }
            }
            rc = gn__err_from_errno(err);
            break;
        }
        if (rc == 0 && deadline && c->f.pd) gn__pd_set_deadline(c->f.pd, 0, 'w');
    }
    if (gn__dial_watch_attempt(w, NULL) && rc == GN_ETIMEDOUT) rc = GN_ECANCELED;
    if (rc != 0) {
        gn_close(c);
        return rc;
    }
    /* The hang-up an unconnected socket reports when it is registered is over. */
    if (c->f.pd) gn__store(&c->f.pd->hup, 0u);
    *out = c;
    return 0;
}

GN__PRIVATE int gn__dial(gn_context *ctx, gn_conn **out, const char *network, const char *address,
                         int64_t deadline) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__net net;
    if (gn__parse_network(network, &net) != 0) return GN_EINVAL;
    if (ctx) {
        if (gn_context_err(ctx)) return gn_context_err(ctx);
        int64_t cd = gn_context_deadline(ctx);
        if (cd && (!deadline || cd < deadline)) deadline = cd;
    }
    gn__addr addrs[8];
    int n = gn__resolve_addrs(&net, address, 0, addrs, 8);
    if (n < 0) return n;
    gn__dial_watch *w = NULL;
    if (ctx && gn_context_done(ctx) && gn__getg()) {
        w = (gn__dial_watch *)GN_MALLOC(sizeof *w);
        if (!w) return GN_ENOMEM;
        memset(w, 0, sizeof *w);
        w->ctx = ctx;
        w->refs = 2;
        w->stop = gn_chan_new(0, 0);
        w->exited = gn_chan_new(0, 1);
        if (!w->stop || !w->exited || gn_go(gn__dial_watcher, w) < 0) {
            gn_chan_free(w->stop);
            gn_chan_free(w->exited);
            GN_FREE(w);
            return GN_ENOMEM;
        }
    }
    int rc = GN_ENOHOST;
    for (int i = 0; i < n; i++) {
        if (deadline && gn_now() >= deadline) { rc = GN_ETIMEDOUT; break; }
        gn_conn *c = NULL;
        rc = gn__dial_one(&addrs[i], deadline, w, &c);
        if (rc == 0) { *out = c; break; }
        if (rc == GN_ETIMEDOUT || rc == GN_ECANCELED) break;
    }
    if (w) {
        gn__lock(&w->lock);
        w->finished = 1;
        int canceled = w->canceled;
        gn__unlock(&w->lock);
        gn_chan_close(w->stop);
        gn_chan_recv(w->exited, NULL);
        gn__dial_watch_put(w);
        if (canceled) {
            if (*out) { gn_close(*out); *out = NULL; }
            rc = GN_ECANCELED;
        }
    }
    /* A context that ended the dial speaks for itself: canceled or deadline.   */
    if ((rc == GN_ETIMEDOUT || rc == GN_ECANCELED) && ctx && gn_context_err(ctx)) rc = gn_context_err(ctx);
    return rc;
}

GONET_API int gn_dial(gn_conn **out, const char *network, const char *address) {
    return gn__dial(NULL, out, network, address, 0);
}
GONET_API int gn_dial_timeout(gn_conn **out, const char *network, const char *address, int64_t timeout) {
    return gn__dial(NULL, out, network, address, timeout > 0 ? gn_now() + timeout : 0);
}
GONET_API int gn_dial_context(gn_context *ctx, gn_conn **out, const char *network, const char *address) {
    return gn__dial(ctx, out, network, address, 0);
}

/* ---- connections --------------------------------------------------------------- */
GN__PRIVATE void gn__conn_put(gn_conn *c) {
    if (gn__fd_release(&c->f)) GN_FREE(c);
}

GONET_API int64_t gn_read(gn_conn *c, void *buf, size_t n) {
    if (!c || (!buf && n)) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.rmu);
    int64_t r = gn__fd_read(&c->f, buf, n);
    gn_mutex_unlock(&c->f.rmu);
    gn__conn_put(c);
    return r;
}

GONET_API int64_t gn_write(gn_conn *c, const void *buf, size_t n) {
    if (!c || (!buf && n)) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.wmu);
    int64_t r = gn__fd_write(&c->f, buf, n);
    gn_mutex_unlock(&c->f.wmu);
    gn__conn_put(c);
    return r;
}

GONET_API int64_t gn_conn_reader(void *conn, void *buf, size_t n) { return gn_read((gn_conn *)conn, buf, n); }
GONET_API int64_t gn_conn_writer(void *conn, const void *buf, size_t n) {
    return gn_write((gn_conn *)conn, buf, n);
}

GONET_API int gn_close(gn_conn *c) {
    if (!c) return GN_EINVAL;
    int rc = gn__fd_close(&c->f);
    if (rc < 0) return rc;
    gn__conn_put(c);
    return 0;
}

GN__PRIVATE int gn__shutdown(gn_conn *c, int how) {
    if (!c) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    int rc = shutdown(c->f.fd, how) == 0 ? 0 : gn__err_from_errno(errno);
    gn__conn_put(c);
    return rc;
}
GONET_API int gn_close_read(gn_conn *c) { return gn__shutdown(c, SHUT_RD); }
GONET_API int gn_close_write(gn_conn *c) { return gn__shutdown(c, SHUT_WR); }

GN__PRIVATE int gn__conn_deadline(gn_conn *c, int64_t d, int mode) {
    if (!c) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    int rc = c->f.pd ? gn__pd_set_deadline(c->f.pd, d, mode) : GN_ENOSYS;
    gn__conn_put(c);
    return rc;
}
GONET_API int gn_set_deadline(gn_conn *c, int64_t d) { return gn__conn_deadline(c, d, 'b'); }
GONET_API int gn_set_read_deadline(gn_conn *c, int64_t d) { return gn__conn_deadline(c, d, 'r'); }
GONET_API int gn_set_write_deadline(gn_conn *c, int64_t d) { return gn__conn_deadline(c, d, 'w'); }

GONET_API int gn_local_addr(gn_conn *c, char *buf, size_t size) {
    return c ? gn__sock_addr(c->f.fd, 0, buf, size) : GN_EINVAL;
}
GONET_API int gn_remote_addr(gn_conn *c, char *buf, size_t size) {
    return c ? gn__sock_addr(c->f.fd, 1, buf, size) : GN_EINVAL;
}
GONET_API int gn_conn_fd(gn_conn *c) { return c ? c->f.fd : GN_EINVAL; }

GN__PRIVATE int gn__setopt(gn_conn *c, int level, int name, const void *v, socklen_t len) {
    if (!c) return GN_EINVAL;
    return setsockopt(c->f.fd, level, name, v, len) == 0 ? 0 : gn__err_from_errno(errno);
}
GONET_API int gn_set_nodelay(gn_conn *c, int on) {
    int v = on != 0;
    return gn__setopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}
GONET_API int gn_set_keepalive(gn_conn *c, int on, int64_t period) {
    int v = on != 0;
    int rc = gn__setopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v);
    if (rc == 0 && on && period > 0) {
        int secs = (int)GN__MAX((period + GN_SECOND - 1) / GN_SECOND, (int64_t)1);
        rc = gn__setopt(c, IPPROTO_TCP, TCP_KEEPIDLE, &secs, sizeof secs);
        if (rc == 0) rc = gn__setopt(c, IPPROTO_TCP, TCP_KEEPINTVL, &secs, sizeof secs);
    }
    return rc;
}
GONET_API int gn_set_read_buffer(gn_conn *c, int bytes) {
    return bytes < 0 ? GN_EINVAL : gn__setopt(c, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}
GONET_API int gn_set_write_buffer(gn_conn *c, int bytes) {
    return bytes < 0 ? GN_EINVAL : gn__setopt(c, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}
GONET_API int gn_set_linger(gn_conn *c, int seconds) {
    struct linger l;
    l.l_onoff = seconds >= 0;
    l.l_linger = seconds >= 0 ? seconds : 0;
    return gn__setopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

GONET_API int gn_conn_from_fd(gn_conn **out, int fd) {
    if (!out || fd < 0) return GN_EINVAL;
    *out = NULL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return gn__err_from_errno(errno);
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return gn__err_from_errno(errno);
    int family = AF_UNSPEC, type = SOCK_STREAM;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) family = ss.ss_family;
    int st = 0;
    socklen_t sl = sizeof st;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &st, &sl) == 0) type = st;
    gn_conn *c = (gn_conn *)GN_MALLOC(sizeof *c);
    if (!c) return GN_ENOMEM;
    int rc = gn__fd_init(&c->f, fd, family, type);
    if (rc < 0) {
        GN_FREE(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* ---- datagrams ------------------------------------------------------------------- */
GONET_API int gn_listen_packet(gn_conn **out, const char *network, const char *address) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__net net;
    if (gn__parse_network(network, &net) != 0 || net.type != SOCK_DGRAM) return GN_EINVAL;
    gn__addr addrs[8];
    int n = gn__resolve_addrs(&net, address, 1, addrs, 8);
    if (n < 0) return n;
    int rc = GN_EINVAL;
    for (int i = 0; i < n; i++) {
        int fd = gn__socket(addrs[i].family, SOCK_DGRAM, 0);
        if (fd < 0) { rc = fd; continue; }
        int zero = 0, one = 1;
        if (addrs[i].family == AF_INET6 && net.family == AF_UNSPEC)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        if (addrs[i].family != AF_UNIX) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *)&addrs[i].ss, addrs[i].len) != 0) {
            rc = gn__err_from_errno(errno);
            close(fd);
            continue;
        }
        return gn__new_conn(out, fd, addrs[i].family, SOCK_DGRAM);
    }
    return rc;
}

GONET_API int64_t gn_read_from(gn_conn *c, void *buf, size_t n, char *from, size_t from_size) {
    if (!c || (!buf && n)) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.rmu);
    int64_t rc;
    for (;;) {
        if ((rc = gn__fd_check(&c->f, 'r')) != 0) break;
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        ssize_t r = recvfrom(c->f.fd, buf, n, 0, (struct sockaddr *)&ss, &len);
        if (r >= 0) {
            rc = r;
            if (from && from_size) {
                if (len > 0) gn__format_addr((struct sockaddr *)&ss, len, from, from_size);
                else from[0] = 0;
            }
            break;
        }
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) { rc = gn__err_from_errno(e); break; }
        if ((rc = gn__fd_wait(&c->f, 'r')) != 0) break;
    }
    gn_mutex_unlock(&c->f.rmu);
    gn__conn_put(c);
    return rc;
}

GONET_API int64_t gn_write_to(gn_conn *c, const void *buf, size_t n, const char *address) {
    if (!c || (!buf && n) || !address) return GN_EINVAL;
    gn__net net = {c->f.family == AF_INET6 ? AF_UNSPEC : c->f.family, SOCK_DGRAM, c->f.family == AF_UNIX};
    gn__addr a[4];
    int na = gn__resolve_addrs(&net, address, 0, a, 4);
    if (na < 0) return na;
    int pick = 0;
    for (int i = 0; i < na; i++)
        if (a[i].family == c->f.family) { pick = i; break; }
    if (c->f.family == AF_INET6 && a[pick].family == AF_INET) {
        /* A dual-stack socket reaches IPv4 peers as IPv4-mapped IPv6 addresses. */
        struct sockaddr_in v4 = *(struct sockaddr_in *)&a[pick].ss;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a[pick].ss;
        memset(v6, 0, sizeof *v6);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = v4.sin_port;
        v6->sin6_addr.s6_addr[10] = 0xff;
        v6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&v6->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
        a[pick].len = sizeof *v6;
    }
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.wmu);
    int64_t rc;
    for (;;) {
        if ((rc = gn__fd_check(&c->f, 'w')) != 0) break;
        ssize_t w = sendto(c->f.fd, buf, n, MSG_NOSIGNAL, (struct sockaddr *)&a[pick].ss, a[pick].len);
        if (w >= 0) { rc = w; break; }
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) { rc = gn__err_from_errno(e); break; }
        if ((rc = gn__fd_wait(&c->f, 'w')) != 0) break;
    }
    gn_mutex_unlock(&c->f.wmu);
    gn__conn_put(c);
    return rc;
}

GONET_API int gn_set_broadcast(gn_conn *c, int on) {
    int v = on != 0;
    return gn__setopt(c, SOL_SOCKET, SO_BROADCAST, &v, sizeof v);
}

GN__PRIVATE int gn__group(gn_conn *c, const char *group, const char *ifname, int join) {
    if (!c || !group) return GN_EINVAL;
    unsigned ifindex = ifname ? if_nametoindex(ifname) : 0;
    if (ifname && !ifindex) return GN_EINVAL;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, group, &a4) == 1) {
        struct ip_mreqn m;
        memset(&m, 0, sizeof m);
        m.imr_multiaddr = a4;
        m.imr_ifindex = (int)ifindex;
        return gn__setopt(c, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m);
    }
    if (inet_pton(AF_INET6, group, &a6) == 1) {
        struct ipv6_mreq m;
        memset(&m, 0, sizeof m);
        m.ipv6mr_multiaddr = a6;
        m.ipv6mr_interface = ifindex;
        return gn__setopt(c, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &m, sizeof m);
    }
    return GN_EINVAL;
}
GONET_API int gn_join_group(gn_conn *c, const char *group, const char *ifname) { return gn__group(c, group, ifname, 1); }
GONET_API int gn_leave_group(gn_conn *c, const char *group, const char *ifname) { return gn__group(c, group, ifname, 0); }
/* ==== end src/net.c ==== */

#endif /* GONET_IMPLEMENTATION */

/*
MIT License

Copyright (c) 2026 The gonet.h authors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
*/
