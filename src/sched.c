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

/* Idle Gs an M keeps for the poller: about a poll's worth of idle connections
 * waking at once.                                                               */
#define GN__GSPARE 32

struct gn__m {
    gn__g          g0;                   /* the scheduling loop, on the thread stack  */
    gn__g         *curg;                 /* the G running, NULL on g0                 */
    gn__p         *p, *nextp, *oldp;     /* held P; P handed over; P before blocking  */
    gn__g         *lockedg;              /* pinned G                                  */
    gn__g         *handoff_g;            /* taken from the queue but pinned elsewhere */
    gn__glist      gspare;               /* idle Gs kept for the poller, which may start
                                          * coroutines while this M holds no P         */
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
    gn__glist     runq_over;             /* after the ring, when it could not grow     */
    int32_t       runqsize;              /* atomic: Gs in the global queue (both)    */
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
    int64_t       now_coarse;            /* atomic: gn_now() at sysmon's last round  */
    uint32_t      dump_pending;          /* atomic: SIGQUIT asked sysmon for a dump   */
    int           dump_on_quit;
    gn__os_thread sysmon_thread;
} gn__rt;

/* Timer heap operations (timer.c), needed by the scheduling loop.                  */
GN__PRIVATE int64_t gn__timers_run(gn__p *p, int64_t now);
GN__PRIVATE void gn__timers_free(gn__p *p);

/* ---- the current M, errno ------------------------------------------------------
 * Opaque accessors: see runtime.h's invariant.                                      */
static GN__THREAD_LOCAL gn__m *gn__tls_m;

GN__PRIVATE GN__OPAQUE gn__m *gn__getm(void) { return gn__tls_m; }
GN__PRIVATE GN__OPAQUE void gn__setm(gn__m *m) { gn__tls_m = m; }
GN__PRIVATE GN__OPAQUE void gn__errno_set(int e) { errno = e; }

GN__PRIVATE gn__g *gn__getg(void) {
    gn__m *m = gn__getm();
    return m ? m->curg : NULL;
}

GN__PRIVATE gn__g *gn__signal_curg(void) { return gn__tls_m ? gn__tls_m->curg : NULL; }

GN__PRIVATE uint32_t gn__rand(void) {
    static GN__THREAD_LOCAL uint64_t outside = 0x9E3779B97F4A7C15ull;
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
GN__PRIVATE int gn__globrunq_grow(void) {
    uint32_t cap = gn__rt.runq_cap ? gn__rt.runq_cap * 2 : 1024;
    gn__g **q = (gn__g **)GN_MALLOC((size_t)cap * sizeof *q);
    if (!q) return 0;
    uint32_t n = (uint32_t)gn__rt.runqsize;
    for (uint32_t i = 0; i < n; i++) q[i] = gn__rt.runq[(gn__rt.runq_head + i) % gn__rt.runq_cap];
    GN_FREE(gn__rt.runq);
    gn__rt.runq = q;
    gn__rt.runq_head = 0;
    gn__rt.runq_cap = cap;
    return 1;
}

/* Out of memory for a bigger ring, Gs queue behind it through their schedlink
 * (and later ones after them, to stay first in, first out): a runnable G is
 * never lost for want of a slot.                                                */
GN__PRIVATE void gn__globrunqput(gn__g *g) {
    uint32_t n = (uint32_t)gn__rt.runqsize;
    if (gn__rt.runq_over.n == 0 && (n < gn__rt.runq_cap || gn__globrunq_grow()))
        gn__rt.runq[(gn__rt.runq_head + n) % gn__rt.runq_cap] = g;
    else
        gn__glist_push(&gn__rt.runq_over, g);
    gn__store(&gn__rt.runqsize, (int32_t)n + 1);
}

GN__PRIVATE void gn__globrunqput_batch(gn__g **batch, int n) {
    gn__lock(&gn__rt.lock);
    for (int i = 0; i < n; i++) gn__globrunqput(batch[i]);
    gn__unlock(&gn__rt.lock);
}

GN__PRIVATE gn__g *gn__globrunqpop(void) {
    gn__g *g;
    if (gn__rt.runqsize > gn__rt.runq_over.n) {
        g = gn__rt.runq[gn__rt.runq_head];
        gn__rt.runq_head = (gn__rt.runq_head + 1) % gn__rt.runq_cap;
    } else {
        g = gn__glist_pop(&gn__rt.runq_over);
    }
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
    if (gn__rt.mcount >= GN_MAX_THREADS) {
        /* Go dies here ("thread exhaustion"); we leave the P idle instead, and
         * the next M to come back from a blocking call takes it.               */
        gn__unlock(&gn__rt.lock);
        GN_FREE(m);
        return GN_EAGAIN;
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
    gn__xadd_seq(&gn__rt.outside, 1);
    if (gn__load_seq(&gn__rt.live)) return 1;
    gn__xadd_seq(&gn__rt.outside, -1);
    return 0;
}
GN__PRIVATE void gn__outside_exit(void) { gn__xadd_seq(&gn__rt.outside, -1); }

GN__PRIVATE void gn__outside_drain(void) {
    while (gn__load_seq(&gn__rt.outside) != 0) gn__os_yield_thread();
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
    gn__glist_push_front(&p->gfree, g);   /* a stack: the next spawn gets a warm G */
    if (p->gfree.n >= 64) {
        /* Keep the 32 most recent; the colder half goes to the shared list.     */
        gn__g *keep = p->gfree.head;
        for (int i = 1; i < 32; i++) keep = keep->schedlink;
        gn__glist cold = {keep->schedlink, p->gfree.tail, p->gfree.n - 32};
        keep->schedlink = NULL;
        p->gfree.tail = keep;
        p->gfree.n = 32;
        gn__lock(&gn__rt.gfree_lock);
        if (gn__rt.gfree.tail) gn__rt.gfree.tail->schedlink = cold.head; else gn__rt.gfree.head = cold.head;
        gn__rt.gfree.tail = cold.tail;
        gn__rt.gfree.n += cold.n;
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
    g->saved_lasterr = gn__os_lasterr();
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
    gn__os_set_lasterr(g->saved_lasterr);
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
        /* Keep a few idle Gs: blocked in the poller without a P, this M may have
         * to start coroutines for connections parked there (gn__newg_here).   */
        while (m->gspare.n < GN__GSPARE && p->gfree.n > 0)
            gn__glist_push_front(&m->gspare, gn__glist_pop(&p->gfree));
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
    gn__os_set_lasterr(0);
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

/* A new G for fn(arg), RUNNABLE but not queued (from p's free list if p), or
 * NULL on ENOMEM. *id gets its id, which stays valid once g runs and exits.   */
GN__PRIVATE gn__g *gn__newg(gn__p *p, void (*fn)(void *), void *arg, size_t stack_size, int64_t *id) {
    size_t size = stack_size ? stack_size : gn__rt.stack_size;
    if (size < 8192) size = 8192;
    int default_size = gn__round_page(size + GN__G_SPACE) == gn__round_page(gn__rt.stack_size + GN__G_SPACE);
    gn__g *g = NULL;
    gn__m *m = gn__getm();   /* once: it is opaque, a call each time */
    if (default_size) g = !p && m && m->gspare.n ? gn__glist_pop(&m->gspare) : gn__gfget(p);
    if (g) {
#if GN__ASAN
        __asan_unpoison_memory_region(g->stack_lo, g->stack_size);
#endif
    } else {
        g = gn__g_alloc(size, default_size);
        if (!g) return NULL;
    }
    g->fn = fn;
    g->arg = arg;
    g->lockedm = NULL;
    g->pin_depth = 0;
    g->param = NULL;
    g->select_done = 0;
    gn__store_relaxed(&g->wait_reason, (const char *)NULL);
    g->parent_id = m && m->curg ? m->curg->id : 0;
    gn__ctx_init(&g->ctx, g->stack_lo, g->stack_size, gn__g_main);
    if (p) {
        if (p->goid_next == p->goid_end) {
            p->goid_next = gn__xadd(&gn__rt.goid_gen, 16) + 1;
            p->goid_end = p->goid_next + 16;
        }
        g->id = *id = p->goid_next++;
        gn__count(&p->st_created, 1);
    } else {
        g->id = *id = gn__xadd(&gn__rt.goid_gen, 1) + 1;
        gn__xadd(&gn__rt.st_created_nop, 1);
    }
    gn__store(&g->status, GN__G_RUNNABLE);
    return g;
}

/* gn__newg for the poller, on whatever M and P it runs (maybe neither).     */
GN__PRIVATE gn__g *gn__newg_here(void (*fn)(void *), void *arg) {
    gn__m *m = gn__getm();
    int64_t id;
    return gn__newg(m ? m->p : NULL, fn, arg, 0, &id);
}

GN__PRIVATE int64_t gn__newproc_on(gn__p *p, void (*fn)(void *), void *arg, size_t stack_size) {
    if (!gn__load(&gn__rt.running) || gn__load(&gn__rt.stopping)) return GN_ESTATE;
    int64_t id;   /* once g is queued it may run, exit and be reused: keep its id here */
    gn__g *g = gn__newg(p, fn, arg, stack_size, &id);
    if (!g) return GN_ENOMEM;
    if (p) {
        gn__runq_put(p, g, 1);
    } else {
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
    /* For gn_dump. The clock is sysmon's, read by it anyway: a park must not
     * pay for a clock read of its own.                                         */
    gn__store_relaxed(&g->wait_reason, reason);
    gn__store_relaxed(&g->wait_obj, (const void *)arg);
    gn__store_relaxed(&g->wait_since, gn__load_relaxed(&gn__rt.now_coarse));
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

/* dump.c: the SIGQUIT path. The handler only flags the request; sysmon sees it
 * within a round (10 ms at most) and writes the dump. A signal handler can
 * neither lock nor allocate, and waking sysmon's note could lock: the portable
 * futex (GN_FUTEX_EMULATED, NetBSD) takes a mutex, which the interrupted
 * thread may hold.                                                            */
GN__PRIVATE void gn__dump_to_stderr(void);
GN__PRIVATE void gn__dump_request(void) { gn__store_relaxed(&gn__rt.dump_pending, 1); }

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
        gn__store_relaxed(&gn__rt.now_coarse, now);
        if (gn__load_relaxed(&gn__rt.dump_pending) && gn__xchg(&gn__rt.dump_pending, 0))
            gn__dump_to_stderr();
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
    gn__store_seq(&gn__rt.live, 0);
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
    if (gn__rt.dump_on_quit) gn__os_quit_hook(NULL);
    gn__outside_drain();
    if (gn__rt.sysmon_on) gn__os_thread_join(gn__rt.sysmon_thread);
    for (gn__m *m = gn__rt.allm; m; m = m->alllink)
        if (m != m0) gn__os_thread_join(m->thread);
    gn__signal_teardown();   /* signal.c: dispositions back, watchers forgotten */
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
    gn__os_fini();
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

    int rc = gn__os_init();
    int os_ready = rc == 0;
    if (rc == 0) rc = gn__netpoll_init();
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
        if (os_ready) gn__os_fini();
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
    gn__store_seq(&gn__rt.live, 1);
    gn__store_relaxed(&gn__rt.now_coarse, gn_now());
    gn__rt.sysmon_on = !(cfg && cfg->sysmon < 0) &&
                       gn__os_thread_start(&gn__rt.sysmon_thread, gn__sysmon, NULL) == 0;
    /* The dump is written by sysmon: without it, SIGQUIT keeps its default.      */
    gn__rt.dump_on_quit = cfg && cfg->quit_dump > 0 && gn__rt.sysmon_on &&
                          gn__os_quit_hook(gn__dump_request) == 0;
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
