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
