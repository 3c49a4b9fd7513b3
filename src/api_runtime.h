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
    int    quit_dump;    /* 1: SIGQUIT writes gn_dump's report to stderr and the program
                            goes on (POSIX; needs sysmon). 0: SIGQUIT keeps its action */
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

/* ---- the coroutine dump ------------------------------------------------------
 * For a stuck program: one line per live coroutine, in id order, saying what it
 * is doing and, when parked, on what and for how long, e.g.
 *     coroutine 7 [chan receive, 1520 ms]: on 0x55d0c2a4e2c0, fn 0x55d0c0a01a30,
 *         spawned by 1, stack 912 of 65536 bytes
 *     coroutine 9 [read, 12 ms]: fd 7, ...
 * after a first line with the totals. Durations come from the monitor thread's
 * clock (10 ms resolution; none when it is off). fn is the coroutine's function
 * (addr2line or gdb's `info symbol` names it). Writes the report through w and
 * returns the number of coroutines listed, GN_ESTATE when no runtime runs,
 * GN_EINVAL for a NULL w, GN_ENOMEM, or the first error w returned. Callable from
 * any thread and from a coroutine (never from a signal handler: see quit_dump).  */
GONET_API int gn_dump(gn_write_func w, void *ctx);

#ifdef __cplusplus
}
#endif
