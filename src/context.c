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

/* ---- watching a context --------------------------------------------------------- */
/* gn__ctxwatch lets a context cancel something blocked in the poller, which a
 * done channel alone cannot reach: net.c's dialer (the connect in flight) and
 * the HTTP client (an exchange). A watcher coroutine selects on the context's
 * done channel and a stop channel; if done wins, it runs on_done(arg, err)
 * under the watch's lock unless the owner has finished. on_done runs on the
 * watcher holding a spin lock, so it must be short and must not park (moving
 * a deadline into the past is what it is for). The owner changes arg, or
 * whatever on_done touches, under the same lock, so a cancel is never undone.
 *
 * Lifetimes. The owner's caller may free the context as soon as the owner is
 * done, so stop waits until the watcher has left its select and will not touch
 * ctx again: the watcher's last word is a send on `exited` (buffered), which
 * stop receives. The watch itself is freed by whichever side lets go last
 * (refs): a waker may still be inside the channel code when the woken one
 * runs, so neither side may free what the other could still be touching.
 *
 * >>ctxwatch                                                                    */

typedef struct gn__ctxwatch gn__ctxwatch;
struct gn__ctxwatch {
    gn_context *ctx;
    gn_chan    *stop;               /* closed by stop: the owner is done           */
    gn_chan    *exited;             /* buffered: the watcher's last word           */
    void      (*on_done)(void *arg, int err);
    void       *arg;                /* under lock                                  */
    uint32_t    lock;
    uint32_t    refs;               /* atomic: the watcher's and the owner's       */
    int         err;                /* under lock: nonzero once on_done has run    */
    int         finished;           /* under lock: the owner is done, touch nothing */
};

GN__PRIVATE void gn__ctxwatch_put(gn__ctxwatch *w) {
    if (gn__xadd(&w->refs, (uint32_t)-1) != 1) return;
    gn_chan_free(w->stop);
    gn_chan_free(w->exited);
    GN_FREE(w);
}

GN__PRIVATE void gn__ctxwatcher(void *arg) {
    gn__ctxwatch *w = (gn__ctxwatch *)arg;
    gn_select_case cs[2] = {{gn_context_done(w->ctx), GN_RECV, NULL, 0}, {w->stop, GN_RECV, NULL, 0}};
    if (gn_select(cs, 2) == 0) {
        int err = gn_context_err(w->ctx);
        gn__lock(&w->lock);
        if (!w->finished) {
            w->err = err ? err : GN_ECANCELED;
            w->on_done(w->arg, w->err);
        }
        gn__unlock(&w->lock);
    }
    gn_chan_send(w->exited, NULL);
    gn__ctxwatch_put(w);
}

/* Starts watching ctx: 0 and *out, or GN_ENOMEM. *out is NULL (and the result
 * 0) when there is nothing to watch: no ctx, or one that cannot be cancelled,
 * or no coroutine to wait for the watcher in (stop has to park).               */
GN__PRIVATE int gn__ctxwatch_start(gn__ctxwatch **out, gn_context *ctx,
                                   void (*on_done)(void *arg, int err), void *arg) {
    *out = NULL;
    if (!gn_context_done(ctx) || !gn__getg()) return 0;
    gn__ctxwatch *w = (gn__ctxwatch *)GN_MALLOC(sizeof *w);
    if (!w) return GN_ENOMEM;
    memset(w, 0, sizeof *w);
    w->ctx = ctx;
    w->on_done = on_done;
    w->arg = arg;
    w->refs = 2;
    w->stop = gn_chan_new(0, 0);
    w->exited = gn_chan_new(0, 1);
    if (!w->stop || !w->exited || gn_go(gn__ctxwatcher, w) < 0) {
        gn_chan_free(w->stop);
        gn_chan_free(w->exited);
        GN_FREE(w);
        return GN_ENOMEM;
    }
    *out = w;
    return 0;
}

/* Ends the watch and frees it (NULL: nothing), once the watcher has left its
 * select; 1 if on_done ran (the context won), else 0.                           */
GN__PRIVATE int gn__ctxwatch_stop(gn__ctxwatch *w) {
    if (!w) return 0;
    gn__lock(&w->lock);
    w->finished = 1;
    int fired = w->err != 0;
    gn__unlock(&w->lock);
    gn_chan_close(w->stop);
    gn_chan_recv(w->exited, NULL);
    gn__ctxwatch_put(w);
    return fired;
}

/* Holds off on_done while the owner changes what it touches. lock returns the
 * context's error if on_done has already run, else 0. Both accept NULL.        */
GN__PRIVATE int gn__ctxwatch_lock(gn__ctxwatch *w) {
    if (!w) return 0;
    gn__lock(&w->lock);
    return w->err;
}

GN__PRIVATE void gn__ctxwatch_unlock(gn__ctxwatch *w) {
    if (w) gn__unlock(&w->lock);
}

/* The context's error if on_done has run, else 0 (also for NULL).              */
GN__PRIVATE int gn__ctxwatch_err(gn__ctxwatch *w) {
    int err = gn__ctxwatch_lock(w);
    gn__ctxwatch_unlock(w);
    return err;
}

/* on_done's argument becomes arg; as gn__ctxwatch_err, read at the same time,
 * so a nonzero result means on_done ran with the old one.                      */
GN__PRIVATE int gn__ctxwatch_retarget(gn__ctxwatch *w, void *arg) {
    int err = gn__ctxwatch_lock(w);
    if (w) w->arg = arg;
    gn__ctxwatch_unlock(w);
    return err;
}
