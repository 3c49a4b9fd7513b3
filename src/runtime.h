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
 * thread it resumes on, so user code sees its own errno across switch points
 * (and its own GetLastError() on Windows).
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
    uint32_t    saved_lasterr;        /* Windows' GetLastError(), kept like errno    */
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
    /* What a parked G waits on, for gn_dump; written relaxed-atomically by the G
     * itself, read by whoever dumps.                                              */
    const char *wait_reason;
    const void *wait_obj;             /* the park's argument: a lock, a pd slot...  */
    int64_t     wait_since;           /* gn__rt's coarse clock at the park          */
    int64_t     parent_id;            /* the coroutine that spawned it, 0: none     */
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
/* At the head: a free list used as a stack hands out the G that ran last, whose
 * struct and stack top are still in cache.                                       */
GN__PRIVATE void gn__glist_push_front(gn__glist *l, gn__g *g) {
    g->schedlink = l->head;
    l->head = g;
    if (!l->tail) l->tail = g;
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
GN__PRIVATE int64_t gn__newproc(void (*fn)(void *), void *arg, size_t stack_size);
GN__PRIVATE gn__g *gn__newg_here(void (*fn)(void *), void *arg);
/* The end of a run, for signal.c: called by gn__teardown once every M has stopped. */
GN__PRIVATE void gn__signal_teardown(void);
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
