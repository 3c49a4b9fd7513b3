/* test_chan.c — channels and select: hand-off, buffering, FIFO order, close,
 * the try_ forms, select (readiness, default, deadline, fairness, NULL cases,
 * send cases, close), and stress over several threads with checksums.
 *
 * Every test runs its body as the main coroutine of gn_run and asserts on what
 * the body recorded.                                                         */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"

/* ---- unbuffered hand-off, FIFO order ------------------------------------------- */
typedef struct {
    gn_chan *c;
    int n;
    int received, in_order, send_errors, recv_rc;
    gn_waitgroup wg;
} pingpong;

static void pp_sender(void *arg) {
    pingpong *t = (pingpong *)arg;
    for (int i = 0; i < t->n; i++)
        if (gn_chan_send(t->c, &i) != 0) t->send_errors++;
    gn_chan_close(t->c);
    gn_waitgroup_done(&t->wg);
}

static void pp_body(void *arg) {
    pingpong *t = (pingpong *)arg;
    t->in_order = 1;
    gn_waitgroup_add(&t->wg, 1);
    gn_go(pp_sender, t);
    int v, rc;
    while ((rc = gn_chan_recv(t->c, &v)) == 0) {
        if (v != t->received) t->in_order = 0;
        t->received++;
    }
    t->recv_rc = rc;
    gn_waitgroup_wait(&t->wg);
}

static enum greatest_test_res check_pingpong(int procs, size_t cap) {
    pingpong t;
    memset(&t, 0, sizeof t);
    t.c = gn_chan_new(sizeof(int), cap);
    ASSERT(t.c != NULL);
    t.n = 5000;
    EQI(0, run_procs(procs, pp_body, &t));
    EQI(t.n, t.received);
    EQI(1, t.in_order);
    EQI(0, t.send_errors);
    EQI(GN_ECLOSED, t.recv_rc);
    gn_chan_free(t.c);
    PASS();
}

TEST unbuffered_fifo_1proc(void) { CHECK_CALL(check_pingpong(1, 0)); PASS(); }
TEST unbuffered_fifo_2procs(void) { CHECK_CALL(check_pingpong(2, 0)); PASS(); }
TEST buffered_fifo_2procs(void) { CHECK_CALL(check_pingpong(2, 7)); PASS(); }

/* ---- buffering and the try_ forms ----------------------------------------------- */
typedef struct {
    int fill_rc[17], len_full, cap, drain[16], drain_rc[16], empty_rc, len_empty;
} bufstate;

static void buf_body(void *arg) {
    bufstate *s = (bufstate *)arg;
    gn_chan *c = gn_chan_new(sizeof(int), 16);
    for (int i = 0; i < 17; i++) {
        int v = 100 + i;
        s->fill_rc[i] = gn_chan_try_send(c, &v);
    }
    s->len_full = (int)gn_chan_len(c);
    s->cap = (int)gn_chan_cap(c);
    for (int i = 0; i < 16; i++) s->drain_rc[i] = gn_chan_try_recv(c, &s->drain[i]);
    int v = -1;
    s->empty_rc = gn_chan_try_recv(c, &v);
    s->len_empty = (int)gn_chan_len(c);
    gn_chan_free(c);
}

TEST buffered_try_forms(void) {
    bufstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(1, buf_body, &s));
    for (int i = 0; i < 16; i++) EQI(0, s.fill_rc[i]);
    EQI(GN_EAGAIN, s.fill_rc[16]);
    EQI(16, s.len_full);
    EQI(16, s.cap);
    for (int i = 0; i < 16; i++) {
        EQI(0, s.drain_rc[i]);
        EQI(100 + i, s.drain[i]);
    }
    EQI(GN_EAGAIN, s.empty_rc);
    EQI(0, s.len_empty);
    PASS();
}

/* A blocked sender on a full buffer is moved into the buffer by a receive, in order. */
typedef struct { gn_chan *c; int got[8], rc[8]; } fullstate;

static void full_sender(void *arg) {
    fullstate *s = (fullstate *)arg;
    for (int i = 0; i < 8; i++) gn_chan_send(s->c, &i);
}

static void full_body(void *arg) {
    fullstate *s = (fullstate *)arg;
    s->c = gn_chan_new(sizeof(int), 2);
    gn_go(full_sender, s);
    gn_sleep(5 * GN_MILLISECOND);   /* let the sender fill the buffer and block */
    for (int i = 0; i < 8; i++) s->rc[i] = gn_chan_recv(s->c, &s->got[i]);
    gn_chan_free(s->c);
}

TEST full_buffer_with_blocked_sender(void) {
    fullstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, full_body, &s));
    for (int i = 0; i < 8; i++) {
        EQI(0, s.rc[i]);
        EQI(i, s.got[i]);
    }
    PASS();
}

/* ---- close ----------------------------------------------------------------------- */
typedef struct {
    int send_after, close1, close2, recv_rc[4], vals[4], try_after;
    int zeroed;
} closestate;

static void close_body(void *arg) {
    closestate *s = (closestate *)arg;
    gn_chan *c = gn_chan_new(sizeof(int), 4);
    for (int i = 1; i <= 3; i++) gn_chan_send(c, &i);
    s->close1 = gn_chan_close(c);
    int v = 42;
    s->send_after = gn_chan_send(c, &v);
    s->close2 = gn_chan_close(c);
    for (int i = 0; i < 4; i++) {
        s->vals[i] = 77;
        s->recv_rc[i] = gn_chan_recv(c, &s->vals[i]);
    }
    v = 55;
    s->try_after = gn_chan_try_recv(c, &v);
    s->zeroed = v == 0;
    gn_chan_free(c);
}

TEST close_drains_then_closed(void) {
    closestate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(1, close_body, &s));
    EQI(0, s.close1);
    EQI(GN_ECLOSED, s.send_after);
    EQI(GN_ECLOSED, s.close2);
    for (int i = 0; i < 3; i++) {
        EQI(0, s.recv_rc[i]);
        EQI(i + 1, s.vals[i]);
    }
    EQI(GN_ECLOSED, s.recv_rc[3]);
    EQI(0, s.vals[3]);
    EQI(GN_ECLOSED, s.try_after);
    EQI(1, s.zeroed);
    PASS();
}

/* Close wakes every parked receiver and sender. */
typedef struct {
    gn_chan *rc, *sc;
    gn_waitgroup wg;
    int recv_closed, send_closed, recv_zeroed;
} wakestate;

static void wake_recv(void *arg) {
    wakestate *s = (wakestate *)arg;
    int v = 9;
    if (gn_chan_recv(s->rc, &v) == GN_ECLOSED) AADD(&s->recv_closed, 1);
    if (v == 0) AADD(&s->recv_zeroed, 1);
    gn_waitgroup_done(&s->wg);
}

static void wake_send(void *arg) {
    wakestate *s = (wakestate *)arg;
    int v = 9;
    if (gn_chan_send(s->sc, &v) == GN_ECLOSED) AADD(&s->send_closed, 1);
    gn_waitgroup_done(&s->wg);
}

static void wake_body(void *arg) {
    wakestate *s = (wakestate *)arg;
    s->rc = gn_chan_new(sizeof(int), 0);
    s->sc = gn_chan_new(sizeof(int), 0);
    gn_waitgroup_add(&s->wg, 20);
    for (int i = 0; i < 10; i++) {
        gn_go(wake_recv, s);
        gn_go(wake_send, s);
    }
    gn_sleep(10 * GN_MILLISECOND);
    gn_chan_close(s->rc);
    gn_chan_close(s->sc);
    gn_waitgroup_wait(&s->wg);
    gn_chan_free(s->rc);
    gn_chan_free(s->sc);
}

TEST close_wakes_waiters(void) {
    wakestate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, wake_body, &s));
    EQI(10, s.recv_closed);
    EQI(10, s.recv_zeroed);
    EQI(10, s.send_closed);
    PASS();
}

/* ---- argument checks, zero-size elements, calls outside a coroutine -------------- */
static void sig_peer(void *arg) {
    gn_chan *c = (gn_chan *)arg;
    gn_chan_send(c, NULL);
}

typedef struct { int send_rc, recv_rc; } sigstate;

static void sig_body(void *arg) {
    sigstate *s = (sigstate *)arg;
    gn_chan *c = gn_chan_new(0, 0);
    gn_go(sig_peer, c);
    s->recv_rc = gn_chan_recv(c, NULL);
    gn_chan *b = gn_chan_new(0, 3);
    s->send_rc = gn_chan_send(b, NULL) | gn_chan_send(b, NULL) | gn_chan_send(b, NULL);
    if (gn_chan_len(b) != 3 || gn_chan_try_send(b, NULL) != GN_EAGAIN) s->send_rc = -1;
    gn_chan_free(b);
    gn_chan_free(c);
}

TEST args_and_outside(void) {
    int v = 1;
    ASSERT(gn_chan_new(65537, 1) == NULL);
    ASSERT(gn_chan_new(8, SIZE_MAX / 4) == NULL);
    EQI(GN_EINVAL, gn_chan_send(NULL, &v));
    EQI(GN_EINVAL, gn_chan_recv(NULL, &v));
    EQI(GN_EINVAL, gn_chan_try_send(NULL, &v));
    EQI(GN_EINVAL, gn_chan_try_recv(NULL, &v));
    EQI(GN_EINVAL, gn_chan_close(NULL));
    EQI(0, (int)gn_chan_len(NULL));
    EQI(0, (int)gn_chan_cap(NULL));
    gn_chan_free(NULL);

    /* No runtime: the try_ forms work, what would park reports GN_ESTATE.        */
    gn_chan *c = gn_chan_new(sizeof(int), 1);
    ASSERT(c != NULL);
    EQI(GN_EINVAL, gn_chan_send(c, NULL));
    EQI(0, gn_chan_try_send(c, &v));
    EQI(GN_ESTATE, gn_chan_send(c, &v));
    EQI(0, gn_chan_recv(c, &v));          /* does not need to wait */
    EQI(GN_ESTATE, gn_chan_recv(c, &v));
    EQI(GN_EAGAIN, gn_chan_try_recv(c, &v));
    EQI(0, gn_chan_send(c, &v));
    EQI(0, gn_chan_close(c));
    EQI(0, gn_chan_recv(c, &v));
    EQI(GN_ECLOSED, gn_chan_recv(c, &v));
    gn_chan_free(c);

    /* Select outside a coroutine: fine while a case is ready, GN_ESTATE when it
     * would have to wait; a deadline without channels is a plain sleep.       */
    c = gn_chan_new(sizeof(int), 1);
    gn_select_case cs[2] = {{NULL, GN_RECV, &v, 0}, {c, GN_RECV, &v, 99}};
    EQI(GN_EAGAIN, gn_select_try(cs, 2));
    EQI(GN_ESTATE, gn_select(cs, 2));
    EQI(GN_ESTATE, gn_select_until(cs, 2, gn_now() + GN_SECOND));
    EQI(GN_ETIMEDOUT, gn_select_until(cs, 2, gn_now() - 1));
    v = 8;
    EQI(0, gn_chan_try_send(c, &v));
    v = 0;
    EQI(1, gn_select(cs, 2));
    EQI(0, cs[1].result);
    EQI(8, v);
    int64_t t0 = gn_now();
    EQI(GN_ETIMEDOUT, gn_select_until(NULL, 0, t0 + 2 * GN_MILLISECOND));
    ASSERT(gn_now() - t0 >= 2 * GN_MILLISECOND);
    gn_chan_free(c);

    sigstate s = {7, 7};
    EQI(0, run_procs(2, sig_body, &s));
    EQI(0, s.recv_rc);
    EQI(0, s.send_rc);
    PASS();
}

/* ---- a million messages, many producers and consumers, two threads ---------------- */
#define MANY_TOTAL (1000000 / g_scale)
#define MANY_PRODUCERS 16
#define MANY_CONSUMERS 16

typedef struct {
    gn_chan *c;
    gn_waitgroup producers, consumers;
    int64_t sum, count;
    int errors;
} manystate;

typedef struct { manystate *s; int64_t from, to; } manyrange;

static void many_producer(void *arg) {
    manyrange *r = (manyrange *)arg;
    for (int64_t v = r->from; v < r->to; v++)
        if (gn_chan_send(r->s->c, &v) != 0) AADD(&r->s->errors, 1);
    gn_waitgroup_done(&r->s->producers);
}

static void many_consumer(void *arg) {
    manystate *s = (manystate *)arg;
    int64_t v, sum = 0, n = 0;
    while (gn_chan_recv(s->c, &v) == 0) {
        sum += v;
        n++;
    }
    AADD(&s->sum, sum);
    AADD(&s->count, n);
    gn_waitgroup_done(&s->consumers);
}

static void many_body(void *arg) {
    manystate *s = (manystate *)arg;
    manyrange r[MANY_PRODUCERS];
    int64_t per = MANY_TOTAL / MANY_PRODUCERS;
    gn_waitgroup_add(&s->producers, MANY_PRODUCERS);
    gn_waitgroup_add(&s->consumers, MANY_CONSUMERS);
    for (int i = 0; i < MANY_CONSUMERS; i++) gn_go(many_consumer, s);
    for (int i = 0; i < MANY_PRODUCERS; i++) {
        r[i].s = s;
        r[i].from = i * per;
        r[i].to = i == MANY_PRODUCERS - 1 ? MANY_TOTAL : (i + 1) * per;
        gn_go(many_producer, &r[i]);
    }
    gn_waitgroup_wait(&s->producers);
    gn_chan_close(s->c);
    gn_waitgroup_wait(&s->consumers);
}

static enum greatest_test_res check_many(size_t cap, int procs) {
    manystate s;
    memset(&s, 0, sizeof s);
    s.c = gn_chan_new(sizeof(int64_t), cap);
    EQI(0, run_procs(procs, many_body, &s));
    int64_t n = MANY_TOTAL;
    EQI(0, s.errors);
    EQI(n, s.count);
    EQI(n * (n - 1) / 2, s.sum);
    gn_chan_free(s.c);
    PASS();
}

TEST million_buffered(void) { CHECK_CALL(check_many(128, 2)); PASS(); }
TEST million_unbuffered(void) { CHECK_CALL(check_many(0, 2)); PASS(); }
/* More Ps than CPUs: threads get preempted while holding channel locks.         */
TEST million_unbuffered_4procs(void) { CHECK_CALL(check_many(0, 4)); PASS(); }

/* ---- select: readiness, default, NULL cases, send cases, many cases ----------------- */
typedef struct {
    int idx_ready, res_ready, val_ready;
    int try_none, try_empty, try_null_only, block_null_only, block_zero, bad_op, bad_args, bad_elem;
    int idx_send, res_send, peer_got;
    int idx_null, val_null;
    int idx_many, val_many;
    int idx_dup, val_dup;
    int idx_five_ok, val_five;
    int idx_closed_send, res_closed_send;
} selstate;

typedef struct { gn_chan *c; int v; int delay_ms; } delayed;

static void delayed_send(void *arg) {
    delayed *d = (delayed *)arg;
    gn_sleep(d->delay_ms * GN_MILLISECOND);
    gn_chan_send(d->c, &d->v);
}

static void delayed_recv(void *arg) {
    delayed *d = (delayed *)arg;
    gn_sleep(d->delay_ms * GN_MILLISECOND);
    gn_chan_recv(d->c, &d->v);
}

static void sel_body(void *arg) {
    selstate *s = (selstate *)arg;
    gn_chan *a = gn_chan_new(sizeof(int), 1), *b = gn_chan_new(sizeof(int), 1);
    int va = 0, vb = 0, x = 5;
    gn_chan_send(b, &x);
    gn_select_case cs[2] = {{a, GN_RECV, &va, 99}, {b, GN_RECV, &vb, 99}};
    s->idx_ready = gn_select(cs, 2);
    s->res_ready = cs[1].result;
    s->val_ready = vb;

    s->try_none = gn_select_try(cs, 2);
    s->try_empty = gn_select_try(NULL, 0);
    gn_select_case nul[2] = {{NULL, GN_RECV, &va, 0}, {NULL, GN_SEND, &x, 0}};
    s->try_null_only = gn_select_try(nul, 2);
    s->block_null_only = gn_select(nul, 2);
    s->block_zero = gn_select(NULL, 0);
    gn_select_case bad = {a, 7, &va, 0};
    s->bad_op = gn_select(&bad, 1);
    s->bad_args = gn_select(NULL, 1);
    gn_select_case badelem = {a, GN_SEND, NULL, 0};
    s->bad_elem = gn_select(&badelem, 1);

    /* A send case completes when a receiver arrives on an unbuffered channel.     */
    gn_chan *u = gn_chan_new(sizeof(int), 0);
    delayed d = {u, 0, 5};
    gn_go(delayed_recv, &d);
    int out = 1234;
    gn_select_case sc[2] = {{a, GN_RECV, &va, 99}, {u, GN_SEND, &out, 99}};
    s->idx_send = gn_select(sc, 2);
    s->res_send = sc[1].result;
    gn_sleep(2 * GN_MILLISECOND);
    s->peer_got = d.v;

    /* A NULL channel case never fires, even next to one that does later.         */
    delayed d2 = {a, 77, 5};
    gn_go(delayed_send, &d2);
    int vn = 0;
    gn_select_case nc[3] = {{NULL, GN_RECV, &vn, 0}, {NULL, GN_SEND, &x, 0}, {a, GN_RECV, &vn, 0}};
    s->idx_null = gn_select(nc, 3);
    s->val_null = vn;

    /* More cases than fit on the stack; only one channel becomes ready.          */
    gn_chan *ch[20];
    gn_select_case mc[20];
    int vm = 0;
    for (int i = 0; i < 20; i++) {
        ch[i] = gn_chan_new(sizeof(int), 0);
        mc[i].chan = ch[i];
        mc[i].op = GN_RECV;
        mc[i].elem = &vm;
        mc[i].result = 99;
    }
    delayed d3 = {ch[13], 1313, 3};
    gn_go(delayed_send, &d3);
    s->idx_many = gn_select(mc, 20);
    s->val_many = vm;
    for (int i = 0; i < 20; i++) gn_chan_free(ch[i]);

    /* Many cases over few channels: the lock order (a heap sort beyond 16
     * cases) must group duplicates, or a channel would be locked twice.      */
    gn_chan *five[5];
    gn_select_case fc[40];
    int vf = 0;
    for (int i = 0; i < 5; i++) five[i] = gn_chan_new(sizeof(int), 0);
    for (int i = 0; i < 40; i++) {
        fc[i].chan = five[(i * 7) % 5];
        fc[i].op = GN_RECV;
        fc[i].elem = &vf;
        fc[i].result = 99;
    }
    delayed d5 = {five[3], 5353, 3};
    gn_go(delayed_send, &d5);
    int k5 = gn_select(fc, 40);
    s->idx_five_ok = k5 >= 0 && k5 < 40 && fc[k5].chan == five[3] && fc[k5].result == 0;
    s->val_five = vf;
    for (int i = 0; i < 5; i++) gn_chan_free(five[i]);

    /* The same channel twice.                                                    */
    int vd = 0;
    delayed d4 = {u, 4444, 3};
    gn_go(delayed_send, &d4);
    gn_select_case dc[3] = {{u, GN_RECV, &vd, 0}, {u, GN_RECV, &vd, 0}, {u, GN_RECV, &vd, 0}};
    s->idx_dup = gn_select(dc, 3);
    s->val_dup = vd;

    /* A send case on a closed channel is chosen with GN_ECLOSED (Go panics).     */
    gn_chan_close(u);
    gn_select_case cc[2] = {{NULL, GN_RECV, &va, 0}, {u, GN_SEND, &out, 0}};
    s->idx_closed_send = gn_select(cc, 2);
    s->res_closed_send = cc[1].result;
    gn_sleep(5 * GN_MILLISECOND);   /* the delayed peers are done */
    gn_chan_free(u);
    gn_chan_free(a);
    gn_chan_free(b);
}

TEST select_basics(void) {
    selstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, sel_body, &s));
    EQI(1, s.idx_ready);
    EQI(0, s.res_ready);
    EQI(5, s.val_ready);
    EQI(GN_EAGAIN, s.try_none);
    EQI(GN_EAGAIN, s.try_empty);
    EQI(GN_EAGAIN, s.try_null_only);
    EQI(GN_EINVAL, s.block_null_only);
    EQI(GN_EINVAL, s.block_zero);
    EQI(GN_EINVAL, s.bad_op);
    EQI(GN_EINVAL, s.bad_args);
    EQI(GN_EINVAL, s.bad_elem);
    EQI(1, s.idx_send);
    EQI(0, s.res_send);
    EQI(1234, s.peer_got);
    EQI(2, s.idx_null);
    EQI(77, s.val_null);
    EQI(13, s.idx_many);
    EQI(1313, s.val_many);
    EQI(1, s.idx_five_ok);
    EQI(5353, s.val_five);
    ASSERT(s.idx_dup >= 0 && s.idx_dup < 3);
    EQI(4444, s.val_dup);
    EQI(1, s.idx_closed_send);
    EQI(GN_ECLOSED, s.res_closed_send);
    PASS();
}

/* ---- select: deadlines ----------------------------------------------------------- */
typedef struct {
    int rc_timeout, rc_passed, rc_zero, rc_before, val_before;
    int64_t took_timeout, took_passed, took_zero, took_before;
} dlstate;

static void dl_body(void *arg) {
    dlstate *s = (dlstate *)arg;
    gn_chan *c = gn_chan_new(sizeof(int), 0);
    int v = 0;
    gn_select_case cs[1] = {{c, GN_RECV, &v, 0}};

    int64_t t0 = gn_now();
    s->rc_timeout = gn_select_until(cs, 1, t0 + 50 * GN_MILLISECOND);
    s->took_timeout = gn_now() - t0;

    t0 = gn_now();
    s->rc_passed = gn_select_until(cs, 1, t0 - 1);
    s->took_passed = gn_now() - t0;

    t0 = gn_now();
    s->rc_zero = gn_select_until(NULL, 0, t0 + 20 * GN_MILLISECOND);
    s->took_zero = gn_now() - t0;

    delayed d = {c, 31, 10};
    gn_go(delayed_send, &d);
    t0 = gn_now();
    s->rc_before = gn_select_until(cs, 1, t0 + 5 * GN_SECOND);
    s->took_before = gn_now() - t0;
    s->val_before = v;
    gn_chan_free(c);
}

TEST select_deadline(void) {
    dlstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, dl_body, &s));
    EQI(GN_ETIMEDOUT, s.rc_timeout);
    ASSERT(s.took_timeout >= 50 * GN_MILLISECOND);
    ASSERT(s.took_timeout < 2 * GN_SECOND);
    EQI(GN_ETIMEDOUT, s.rc_passed);
    ASSERT(s.took_passed < GN_SECOND);
    EQI(GN_ETIMEDOUT, s.rc_zero);
    ASSERT(s.took_zero >= 20 * GN_MILLISECOND);
    ASSERT(s.took_zero < 2 * GN_SECOND);
    EQI(0, s.rc_before);
    EQI(31, s.val_before);
    ASSERT(s.took_before < 4 * GN_SECOND);
    PASS();
}

/* Exactly one outcome: a sender and a receiver meet on an unbuffered channel,
 * both with the same short deadline. Either both complete or both time out;
 * a value is never lost (sent but not received) nor invented.                 */
#define RACE_ROUNDS (3000 / g_scale)

typedef struct {
    gn_chan *c, *go, *done;
    int64_t deadline;
    int both, neither, mismatch, bad_value;
} racestate;

static void race_sender(void *arg) {
    racestate *s = (racestate *)arg;
    int tok, i;
    while (gn_chan_recv(s->go, &tok) == 0) {
        i = tok;
        gn_select_case cs[1] = {{s->c, GN_SEND, &i, 0}};
        int rc = gn_select_until(cs, 1, s->deadline);
        gn_chan_send(s->done, &rc);
    }
}

static void race_body(void *arg) {
    racestate *s = (racestate *)arg;
    s->c = gn_chan_new(sizeof(int), 0);
    s->go = gn_chan_new(sizeof(int), 0);
    s->done = gn_chan_new(sizeof(int), 0);
    gn_go(race_sender, s);
    for (int round = 0; round < RACE_ROUNDS; round++) {
        s->deadline = gn_now() + (int64_t)(gn_now() % 50) * GN_MICROSECOND;
        gn_chan_send(s->go, &round);
        int v = -1;
        gn_select_case cs[1] = {{s->c, GN_RECV, &v, 0}};
        int rr = gn_select_until(cs, 1, s->deadline), sr = 0;
        gn_chan_recv(s->done, &sr);
        if (rr == 0 && sr == 0) {
            s->both++;
            if (v != round) s->bad_value++;
        } else if (rr == GN_ETIMEDOUT && sr == GN_ETIMEDOUT) {
            s->neither++;
        } else {
            s->mismatch++;
        }
    }
    gn_chan_close(s->go);
    gn_sleep(GN_MILLISECOND);
    gn_chan_free(s->c);
    gn_chan_free(s->go);
    gn_chan_free(s->done);
}

TEST select_deadline_races_exactly_once(void) {
    racestate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, race_body, &s));
    EQI(0, s.mismatch);
    EQI(0, s.bad_value);
    EQI(RACE_ROUNDS, s.both + s.neither);
    PASS();
}

/* ---- select: fairness ------------------------------------------------------------ */
typedef struct { int chosen[2], other; } fairstate;

static void fair_body(void *arg) {
    fairstate *s = (fairstate *)arg;
    gn_chan *a = gn_chan_new(sizeof(int), 1), *b = gn_chan_new(sizeof(int), 1);
    int one = 1, v;
    gn_chan_send(a, &one);
    gn_chan_send(b, &one);
    gn_select_case cs[2] = {{a, GN_RECV, &v, 0}, {b, GN_RECV, &v, 0}};
    for (int i = 0; i < 10000; i++) {
        int k = gn_select(cs, 2);
        if (k == 0 || k == 1) {
            s->chosen[k]++;
            gn_chan_send(cs[k].chan, &one);   /* keep both ready */
        } else {
            s->other++;
        }
    }
    gn_chan_free(a);
    gn_chan_free(b);
}

TEST select_fairness(void) {
    fairstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(1, fair_body, &s));
    EQI(0, s.other);
    ASSERT_IN_RANGE(5000, s.chosen[0], 1000);
    ASSERT_IN_RANGE(5000, s.chosen[1], 1000);
    PASS();
}

/* ---- select woken by close; close racing with senders and receivers -------------- */
typedef struct { int idx, res, val; } selclosestate;

static void close_later(void *arg) {
    gn_sleep(5 * GN_MILLISECOND);
    gn_chan_close((gn_chan *)arg);
}

static void selclose_body(void *arg) {
    selclosestate *s = (selclosestate *)arg;
    gn_chan *a = gn_chan_new(sizeof(int), 0), *b = gn_chan_new(sizeof(int), 0);
    int out = 3;
    s->val = 8;
    gn_go(close_later, b);
    gn_select_case cs[2] = {{a, GN_SEND, &out, 0}, {b, GN_RECV, &s->val, 99}};
    s->idx = gn_select(cs, 2);
    s->res = cs[1].result;
    gn_chan_free(a);
    gn_chan_free(b);
}

TEST select_woken_by_close(void) {
    selclosestate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, selclose_body, &s));
    EQI(1, s.idx);
    EQI(GN_ECLOSED, s.res);
    EQI(0, s.val);
    PASS();
}

#define CR_ROUNDS (200 / g_scale + 5)

typedef struct {
    gn_chan *c;
    gn_waitgroup wg;
    int64_t sent, received, sent_sum, recv_sum;
    int bad;
} crstate;

static void cr_sender(void *arg) {
    crstate *s = (crstate *)arg;
    int64_t n = 0, sum = 0;
    for (int64_t v = 1;; v++) {
        int rc;
        if (v % 3 == 0) {
            gn_select_case cs[1] = {{s->c, GN_SEND, &v, 0}};
            int k = gn_select(cs, 1);
            rc = k == 0 ? cs[0].result : k;
        } else {
            rc = gn_chan_send(s->c, &v);
        }
        if (rc == GN_ECLOSED) break;
        if (rc != 0) { AADD(&s->bad, 1); break; }
        n++;
        sum += v;
    }
    AADD(&s->sent, n);
    AADD(&s->sent_sum, sum);
    gn_waitgroup_done(&s->wg);
}

static void cr_receiver(void *arg) {
    crstate *s = (crstate *)arg;
    int64_t n = 0, sum = 0, v;
    for (int i = 0;; i++) {
        int rc;
        if (i % 2) {
            gn_select_case cs[2] = {{NULL, GN_RECV, NULL, 0}, {s->c, GN_RECV, &v, 0}};
            int k = gn_select(cs, 2);
            rc = k == 1 ? cs[1].result : GN_EINVAL;
        } else {
            rc = gn_chan_recv(s->c, &v);
        }
        if (rc == GN_ECLOSED) break;
        if (rc != 0) { AADD(&s->bad, 1); break; }
        n++;
        sum += v;
    }
    AADD(&s->received, n);
    AADD(&s->recv_sum, sum);
    gn_waitgroup_done(&s->wg);
}

static void cr_body(void *arg) {
    crstate *s = (crstate *)arg;
    for (int round = 0; round < CR_ROUNDS; round++) {
        s->c = gn_chan_new(sizeof(int64_t), (size_t)(round % 3 == 0 ? 0 : round % 5));
        gn_waitgroup_add(&s->wg, 8);
        for (int i = 0; i < 4; i++) {
            gn_go(cr_sender, s);
            gn_go(cr_receiver, s);
        }
        gn_sleep((round % 4) * 100 * GN_MICROSECOND);
        gn_chan_close(s->c);
        gn_waitgroup_wait(&s->wg);
        gn_chan_free(s->c);
    }
}

TEST close_races_senders_receivers(void) {
    crstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, cr_body, &s));
    EQI(0, s.bad);
    EQI(s.sent, s.received);
    EQI(s.sent_sum, s.recv_sum);
    PASS();
}

/* ---- select stress: senders and receivers meet through multi-case selects ---------
 * Receivers also time out now and then, so waiters are often abandoned while a
 * sender is about to pick them: every value must still arrive exactly once.     */
#define SS_PER (20000 / g_scale)
#define SS_WORKERS 6

typedef struct {
    gn_chan *ch[3];
    gn_waitgroup senders, receivers;
    int64_t sent_sum, recv_sum, recv_n, timeouts;
    int bad;
} ssstate;

static void ss_sender(void *arg) {
    ssstate *s = (ssstate *)arg;
    int64_t sum = 0;
    for (int64_t i = 1; i <= SS_PER; i++) {
        int64_t v = i;
        gn_select_case cs[3] = {{s->ch[0], GN_SEND, &v, 0}, {s->ch[1], GN_SEND, &v, 0},
                                {s->ch[2], GN_SEND, &v, 0}};
        int k = gn_select(cs, 3);
        if (k < 0 || cs[k].result != 0) AADD(&s->bad, 1);
        else sum += v;
    }
    AADD(&s->sent_sum, sum);
    gn_waitgroup_done(&s->senders);
}

static void ss_receiver(void *arg) {
    ssstate *s = (ssstate *)arg;
    int64_t sum = 0, n = 0, timeouts = 0, v[3];
    gn_select_case cs[3];
    for (int i = 0; i < 3; i++) {
        cs[i].chan = s->ch[i];
        cs[i].op = GN_RECV;
        cs[i].elem = &v[i];
    }
    int open = 3;
    while (open > 0) {
        int k = gn_select_until(cs, 3, gn_now() + 200 * GN_MICROSECOND);
        if (k == GN_ETIMEDOUT) { timeouts++; continue; }
        if (k < 0) { AADD(&s->bad, 1); break; }
        if (cs[k].result == GN_ECLOSED) {
            cs[k].chan = NULL;   /* drained and closed: never fires again */
            open--;
            continue;
        }
        sum += v[k];
        n++;
    }
    AADD(&s->recv_sum, sum);
    AADD(&s->recv_n, n);
    AADD(&s->timeouts, timeouts);
    gn_waitgroup_done(&s->receivers);
}

static void ss_body(void *arg) {
    ssstate *s = (ssstate *)arg;
    s->ch[0] = gn_chan_new(sizeof(int64_t), 0);
    s->ch[1] = gn_chan_new(sizeof(int64_t), 2);
    s->ch[2] = gn_chan_new(sizeof(int64_t), 0);
    gn_waitgroup_add(&s->senders, SS_WORKERS);
    gn_waitgroup_add(&s->receivers, SS_WORKERS);
    for (int i = 0; i < SS_WORKERS; i++) {
        gn_go(ss_receiver, s);
        gn_go(ss_sender, s);
    }
    gn_waitgroup_wait(&s->senders);
    for (int i = 0; i < 3; i++) gn_chan_close(s->ch[i]);
    gn_waitgroup_wait(&s->receivers);
    for (int i = 0; i < 3; i++) gn_chan_free(s->ch[i]);
}

static enum greatest_test_res check_select_stress(int procs) {
    ssstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(procs, ss_body, &s));
    int64_t per = (int64_t)SS_PER * (SS_PER + 1) / 2;
    EQI(0, s.bad);
    EQI((int64_t)SS_WORKERS * SS_PER, s.recv_n);
    EQI(SS_WORKERS * per, s.sent_sum);
    EQI(SS_WORKERS * per, s.recv_sum);
    PASS();
}

TEST select_stress(void) { CHECK_CALL(check_select_stress(2)); PASS(); }
TEST select_stress_4procs(void) { CHECK_CALL(check_select_stress(4)); PASS(); }

SUITE(chan_suite) {
    RUN_TEST(unbuffered_fifo_1proc);
    RUN_TEST(unbuffered_fifo_2procs);
    RUN_TEST(buffered_fifo_2procs);
    RUN_TEST(buffered_try_forms);
    RUN_TEST(full_buffer_with_blocked_sender);
    RUN_TEST(close_drains_then_closed);
    RUN_TEST(close_wakes_waiters);
    RUN_TEST(args_and_outside);
    RUN_TEST(million_buffered);
    RUN_TEST(million_unbuffered);
    RUN_TEST(million_unbuffered_4procs);
}

SUITE(select_suite) {
    RUN_TEST(select_basics);
    RUN_TEST(select_deadline);
    RUN_TEST(select_deadline_races_exactly_once);
    RUN_TEST(select_fairness);
    RUN_TEST(select_woken_by_close);
    RUN_TEST(close_races_senders_receivers);
    RUN_TEST(select_stress);
    RUN_TEST(select_stress_4procs);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(chan_suite);
    RUN_SUITE(select_suite);
    GREATEST_MAIN_END();
}
