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
