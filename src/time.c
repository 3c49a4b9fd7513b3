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
