/* netpoll.c — poll descriptors: how a coroutine waits for a file descriptor.
 *
 * Every fd the runtime polls has a gn__pd, registered with the poller once when
 * the fd is opened (edge-triggered, like Go). A pd holds one semaphore-like
 * slot per direction, rg for reading and wg for writing (Go's pollDesc):
 *     0          nothing happened, nobody waits
 *     READY      readiness arrived while nobody waited; the next wait takes it
 *     WAIT       a G is about to park (set before the park, replaced by the G
 *                in the park callback)
 *     SPAWN      nobody waits, but readiness (or a deadline, or a close) starts
 *                a new coroutine, spawn_fn(spawn_arg): how a server keeps an
 *                idle connection without a coroutine (read direction only)
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
#define GN__PD_SPAWN ((uintptr_t)3)
#define GN__PD_SPAWNED ((gn__g *)GN__PD_SPAWN)   /* what gn__pd_unblock returns for it */

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
    void      (*spawn_fn)(void *); /* for SPAWN; set before rg becomes SPAWN        */
    void       *spawn_arg;
    struct gn__pd *free_next;
} gn__pd;

/* The backend's hook (poll_*.c): a G has just started waiting on pd.           */
GN__PRIVATE void gn__netpoll_interest(gn__pd *pd);

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
        /* A parked G takes READY when it wakes; a spawned one never sees it, so
         * leaving it would make the next wait return at once (and read EAGAIN). */
        uintptr_t nv = ioready && old != GN__PD_SPAWN ? GN__PD_READY : 0;
        if (gn__cas(gpp, &old, nv)) {
            if (old == GN__PD_WAIT) return NULL;   /* it will see the new state    */
            if (old != 0) gn__xadd(&gn__pds.waiters, -1);
            return (gn__g *)old;
        }
    }
}

/* Delivers what gn__pd_unblock took: readies a G, or starts the coroutine a
 * SPAWN slot asked for.                                                          */
GN__PRIVATE void gn__pd_wake(gn__pd *pd, gn__g *g) {
    if (g == GN__PD_SPAWNED) {
        if (gn__newproc(pd->spawn_fn, pd->spawn_arg, 0) < 0)
            gn__fatal("cannot start the coroutine for a ready connection");
    } else if (g) {
        gn__ready(g);
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
        /* (SPAWN included: its owner must not also read.)                        */
        if (gn__cas(gpp, &old, GN__PD_WAIT)) break;
    }
    gn__netpoll_interest(pd);
    /* A deadline or close may have landed between the check and WAIT.          */
    if (gn__pd_check(pd, mode) == 0) gn__park(gn__pd_commit, gpp, mode == 'r' ? "read" : "write");
    uintptr_t old = gn__xchg(gpp, (uintptr_t)0);
    if (old > GN__PD_WAIT) gn__fatal("poll descriptor in an impossible state");
    return old == GN__PD_READY ? 0 : gn__pd_check(pd, mode);
}

/* Takes back a spawn armed by gn__pd_spawn_on_read: 1 if it had not fired.   */
GN__PRIVATE int gn__pd_spawn_cancel(gn__pd *pd) {
    uintptr_t sp = GN__PD_SPAWN;
    if (!gn__cas(&pd->rg, &sp, (uintptr_t)0)) return 0;
    gn__xadd(&gn__pds.waiters, -1);
    return 1;
}

/* Arms pd so that readiness (or a deadline or close) starts fn(arg) in a new
 * coroutine, and returns 0; the caller's coroutine may then end. Returns 1 if
 * the fd is already readable (nothing armed: read now), or the error that
 * stops a read (closed, timed out).                                             */
GN__PRIVATE int gn__pd_spawn_on_read(gn__pd *pd, void (*fn)(void *), void *arg) {
    int err = gn__pd_check(pd, 'r');
    if (err) return err;
    pd->spawn_fn = fn;
    pd->spawn_arg = arg;
    for (;;) {
        uintptr_t old = gn__load(&pd->rg);
        if (old == GN__PD_READY) {
            uintptr_t r = GN__PD_READY;
            if (gn__cas(&pd->rg, &r, (uintptr_t)0)) return 1;
            continue;
        }
        if (old != 0) gn__fatal("a coroutine waits on an fd armed to spawn");
        gn__xadd(&gn__pds.waiters, 1);
        if (gn__cas(&pd->rg, &old, GN__PD_SPAWN)) break;
        gn__xadd(&gn__pds.waiters, -1);
    }
    gn__netpoll_interest(pd);
    /* A deadline or close that landed before SPAWN was visible woke nobody.     */
    if ((err = gn__pd_check(pd, 'r')) != 0 && gn__pd_spawn_cancel(pd)) return err;
    return 0;
}

/* The poller's entry: readiness for pd in the given directions; hup says the
 * peer closed its side or the fd failed, a state no later edge will announce. */
GN__PRIVATE void gn__pd_ready(gn__pd *pd, int readable, int writable, int hup, gn__glist *out) {
    gn__g *g;
    if (hup && !gn__load_relaxed(&pd->hup)) gn__store(&pd->hup, 1u);
    if (readable && (g = gn__pd_unblock(&pd->rg, 1)) != NULL) {
        if (g == GN__PD_SPAWNED) {   /* a new G, handed back like a woken one */
            g = gn__newg_here(pd->spawn_fn, pd->spawn_arg);
            if (!g) gn__fatal("cannot start the coroutine for a ready connection");
        }
        gn__glist_push(out, g);
    }
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
    gn__pd_wake(pd, g);
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
    int spawn = 0;
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
            if (g == GN__PD_SPAWNED) spawn = 1;
            else if (g) gn__glist_push(&wake, g);
        }
        gn__unlock(&pd->lock);
    }
    gn__unlock(&pd->dl_lock);
    gn__g *g;
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
    if (spawn) gn__pd_wake(pd, GN__PD_SPAWNED);
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
    gn__pd_wake(pd, r);
    gn__pd_wake(pd, w);
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
