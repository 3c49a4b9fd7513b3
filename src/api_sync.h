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
    uint64_t state_;    /* counter (high 32 bits, signed) and waiters (low 32)  */
    uint32_t lock_;
    gn__waitq waiters_;
} gn_waitgroup;
#define GN_WAITGROUP_INIT {0, 0, {0, 0}}

/* GN_EINVAL (and no change) if the counter would go negative or past
 * INT32_MAX. As in Go, the wait group may be freed as soon as a wait returns. */
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
