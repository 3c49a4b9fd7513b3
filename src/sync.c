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
    if (!wg || delta < INT32_MIN || delta > INT32_MAX) return GN_EINVAL;
    uint64_t st = gn__load(&wg->state_), next;
    int64_t count;
    uint32_t waiters;
    do {
        count = (int64_t)(int32_t)(uint32_t)(st >> 32) + delta;
        waiters = (uint32_t)st;
        if (count < 0 || count > INT32_MAX) return GN_EINVAL;
        /* The last Done with waiters clears them too: they are all queued (a
         * waiter counts itself and queues under the lock), and any later wait
         * sees zero and returns.                                               */
        next = count == 0 && waiters ? 0 : (uint64_t)(uint32_t)count << 32 | waiters;
    } while (!gn__cas(&wg->state_, &st, next));
    if (count != 0 || waiters == 0 || delta == 0) return 0;   /* wg untouched from here */
    gn__glist wake = {NULL, NULL, 0};
    gn__waiter *w;
    gn__lock(&wg->lock_);
    for (uint32_t i = 0; i < waiters && (w = gn__waitq_pop(&wg->waiters_)) != NULL; i++)
        gn__glist_push(&wake, w->g);
    gn__unlock(&wg->lock_);
    gn__g *g;   /* each waits for this to run, so wg lives until here */
    while ((g = gn__glist_pop(&wake)) != NULL) gn__ready(g);
    return 0;
}

GONET_API int gn_waitgroup_done(gn_waitgroup *wg) { return gn_waitgroup_add(wg, -1); }

GONET_API void gn_waitgroup_wait(gn_waitgroup *wg) {
    if (!wg) return;
    if ((gn__load(&wg->state_) >> 32) == 0) return;
    gn__g *g = gn__getg();
    if (!g) {
        while ((gn__load(&wg->state_) >> 32) != 0) gn__os_yield_thread();
        return;
    }
    gn__lock(&wg->lock_);
    uint64_t st = gn__load(&wg->state_);
    do {
        if ((st >> 32) == 0) {
            gn__unlock(&wg->lock_);
            return;
        }
    } while (!gn__cas(&wg->state_, &st, st + 1));
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
