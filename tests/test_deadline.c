/* test_deadline.c — connection deadlines over real TCP sockets on 127.0.0.1 (and
 * UDP): a read deadline, a write deadline on a full send buffer, both at once;
 * deadlines moved earlier, later, into the past or cleared by another coroutine
 * while an operation is blocked (on one thread and across two); a past deadline
 * failing the next operation at once even with data waiting; a connection
 * made usable again by extending its deadline; a deadline reset on every
 * request (stays correct, stays cheap, leaves no timers behind); deadlines of
 * a closed connection not leaking into the next one; and a stress mix of short
 * deadlines, deadline changes from a third coroutine and a trickling writer,
 * checked byte for byte.
 *
 * Timing is checked one way only: an operation never fails before its
 * deadline (exact lower bound); it fails within a generous 3 s after it.
 * Every other blocking read has a safety deadline, so a bug fails a check
 * instead of hanging the program.                                              */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"
#include "test_check.h"

#include <errno.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------------- */
#define SAFETY (10 * GN_SECOND)
#define LATE   (3 * GN_SECOND)    /* how late a deadline may fire and still pass */

static unsigned char pat(uint64_t pos, uint32_t seed) {
    uint64_t x = (pos + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 32 | seed);
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 17));
}
static void fill_pat(unsigned char *b, size_t n, uint64_t pos, uint32_t seed) {
    for (size_t i = 0; i < n; i++) b[i] = pat(pos + i, seed);
}
static int64_t check_pat(const unsigned char *b, size_t n, uint64_t pos, uint32_t seed) {
    for (size_t i = 0; i < n; i++)
        if (b[i] != pat(pos + i, seed)) return (int64_t)i;
    return -1;
}

static int64_t read_full(gn_conn *c, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        int64_t r = gn_read(c, (char *)buf + got, n - got);
        if (r < 0) return r;
        if (r == 0) return GN_ENOPROGRESS;
        got += (size_t)r;
    }
    return (int64_t)n;
}

/* A connected pair over 127.0.0.1: *a dialed, *b accepted. 0 or -1 (recorded). */
static int tcp_pair(gn_conn **a, gn_conn **b) {
    *a = *b = NULL;
    gn_listener *l = NULL;
    if (!CKI(0, gn_listen(&l, "tcp", "127.0.0.1:0"))) return -1;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", gn_listener_port(l));
    int rc = gn_dial(a, "tcp", addr);
    if (CKI(0, rc)) rc = gn_accept(l, b);
    CKI(0, rc);
    gn_listener_close(l);
    if (rc != 0) {
        if (*a) gn_close(*a);
        *a = *b = NULL;
        return -1;
    }
    return 0;
}
static void close_pair(gn_conn *a, gn_conn *b) {
    if (a) CKI(0, gn_close(a));
    if (b) CKI(0, gn_close(b));
}

/* Fails unless the operation ended at or after deadline d, and not long after. */
static void check_fired(int64_t d, int line) {
    int64_t now = gn_now();
    if (now < d) {
        char m[128];
        snprintf(m, sizeof m, "timed out %lld ns before its deadline", (long long)(d - now));
        ck_fail(line, m);
    } else if (now - d > LATE) {
        char m[128];
        snprintf(m, sizeof m, "timed out %lld ms after its deadline", (long long)((now - d) / GN_MILLISECOND));
        ck_fail(line, m);
    }
}
#define FIRED(d) check_fired((d), __LINE__)

static gn_waitgroup g_wg;
typedef struct { void (*fn)(void *); void *arg; } spawn_job;
static void spawn_tramp(void *arg) {
    spawn_job j = *(spawn_job *)arg;
    free(arg);
    j.fn(j.arg);
    gn_waitgroup_done(&g_wg);
}
static void spawn(void (*fn)(void *), void *arg) {
    spawn_job *j = (spawn_job *)malloc(sizeof *j);
    j->fn = fn;
    j->arg = arg;
    gn_waitgroup_add(&g_wg, 1);
    if (!CK(gn_go(spawn_tramp, j) > 0)) {
        free(j);
        gn_waitgroup_done(&g_wg);
    }
}
static void join_all(void) { gn_waitgroup_wait(&g_wg); }

/* Small buffers on both ends, so that a write from w to a peer that does not
 * read blocks soon.                                                          */
static void shrink(gn_conn *w, gn_conn *r) {
    /* Not smaller: loopback segments are up to 64 KB, and a receive buffer
     * too small to hold one drops it and leaves TCP retransmitting.          */
    CKI(0, gn_set_write_buffer(w, 32768));
    CKI(0, gn_set_read_buffer(r, 65536));
}

/* ==== a read deadline ========================================================================= */
static void readdl_body(void *arg) {
    (void)arg;
    gn_conn *a, *b;
    if (tcp_pair(&a, &b)) return;
    char buf[64];
    int64_t d = gn_now() + 100 * GN_MILLISECOND;
    CKI(0, gn_set_read_deadline(a, d));
    CKI(GN_ETIMEDOUT, gn_read(a, buf, sizeof buf));
    FIRED(d);
    /* Still past: the next read fails at once.                                    */
    int64_t t0 = gn_now();
    CKI(GN_ETIMEDOUT, gn_read(a, buf, sizeof buf));
    CK(gn_now() - t0 < GN_SECOND);
    /* The read deadline leaves writing alone.                                      */
    CKI(4, gn_write(a, "ping", 4));
    CKI(0, gn_set_read_deadline(b, gn_now() + SAFETY));
    CKI(4, read_full(b, buf, 4));
    /* Nothing was lost: data sent now is read once the deadline is cleared.     */
    CKI(5, gn_write(b, "hello", 5));
    CKI(0, gn_set_read_deadline(a, 0));
    CKI(5, read_full(a, buf, 5));
    CK(memcmp(buf, "hello", 5) == 0);
    close_pair(a, b);
}
TEST read_deadline(void) { return run_body(1, readdl_body, NULL); }
TEST read_deadline_2procs(void) { return run_body(2, readdl_body, NULL); }

/* ==== a write deadline: the peer never reads ========================================== */
typedef struct { gn_conn *c; int64_t total, want_tail; uint64_t tail_pos; int ok; } drain_state;

/* Reads until the last want_tail bytes it got are stream 77 from tail_pos (the
 * writer's final bytes; nothing before them can look like that), then stops.
 * It does not wait for EOF: reading to EOF is test_net.c's business.        */
static void drainer(void *arg) {
    drain_state *d = (drain_state *)arg;
    unsigned char *buf = (unsigned char *)malloc(1 << 16);
    unsigned char *tail = (unsigned char *)calloc(1, (size_t)d->want_tail);
    CKI(0, gn_set_read_deadline(d->c, gn_now() + SAFETY));
    while (!d->ok) {
        int64_t n = gn_read(d->c, buf, 1 << 16);
        if (n <= 0) {
            CKF(0, "drainer: gn_read after %lld bytes = %lld (%s)", (long long)d->total, (long long)n,
                gn_strerror((int)n));
            break;
        }
        d->total += n;
        /* keep the last want_tail bytes */
        if (n >= d->want_tail) {
            memcpy(tail, buf + n - d->want_tail, (size_t)d->want_tail);
        } else {
            memmove(tail, tail + n, (size_t)(d->want_tail - n));
            memcpy(tail + d->want_tail - n, buf, (size_t)n);
        }
        d->ok = d->total >= d->want_tail && check_pat(tail, (size_t)d->want_tail, d->tail_pos, 77) == -1;
    }
    free(buf);
    free(tail);
}

static void writedl_body(void *arg) {
    (void)arg;
    gn_conn *a, *b;
    if (tcp_pair(&a, &b)) return;
    shrink(a, b);
    size_t big = 8 << 20;
    char *data = (char *)calloc(1, big);
    int64_t d = gn_now() + 100 * GN_MILLISECOND;
    CKI(0, gn_set_write_deadline(a, d));
    CKI(GN_ETIMEDOUT, gn_write(a, data, big));
    FIRED(d);
    int64_t t0 = gn_now();
    CKI(GN_ETIMEDOUT, gn_write(a, "x", 1));   /* still past: at once */
    CK(gn_now() - t0 < GN_SECOND);
    /* Reading is unaffected by the write deadline.                                */
    CKI(3, gn_write(b, "abc", 3));
    char buf[8];
    CKI(0, gn_set_read_deadline(a, gn_now() + SAFETY));
    CKI(3, read_full(a, buf, 3));
    /* Cleared, with a reader at the other end: writing works again.             */
    drain_state ds = {b, 0, 1000, 0, 0};
    spawn(drainer, &ds);
    CKI(0, gn_set_write_deadline(a, 0));
    unsigned char tail[1000];
    fill_pat(tail, sizeof tail, 0, 77);
    CKI(1000, gn_write(a, tail, sizeof tail));
    join_all();
    CK(ds.total >= 1000);
    CK(ds.ok);   /* the bytes written after the timeout arrived, last and intact */
    free(data);
    close_pair(a, b);
}
TEST write_deadline(void) { return run_body(1, writedl_body, NULL); }
TEST write_deadline_2procs(void) { return run_body(2, writedl_body, NULL); }

/* ==== gn_set_deadline: both directions at once ============================================== */
typedef struct { gn_conn *c; int64_t rc; int64_t at; } op_result;

static void op_reader(void *arg) {
    op_result *o = (op_result *)arg;
    char buf[64];
    o->rc = gn_read(o->c, buf, sizeof buf);
    o->at = gn_now();
}
static void op_writer(void *arg) {
    op_result *o = (op_result *)arg;
    size_t n = 8 << 20;
    char *buf = (char *)calloc(1, n);
    o->rc = gn_write(o->c, buf, n);
    o->at = gn_now();
    free(buf);
}

static void bothdl_body(void *arg) {
    (void)arg;
    gn_conn *a, *b;
    if (tcp_pair(&a, &b)) return;
    shrink(a, b);
    int64_t d = gn_now() + 80 * GN_MILLISECOND;
    CKI(0, gn_set_deadline(a, d));
    op_result r = {a, 0, 0}, w = {a, 0, 0};
    spawn(op_reader, &r);
    spawn(op_writer, &w);
    join_all();
    CKI(GN_ETIMEDOUT, r.rc);
    CKI(GN_ETIMEDOUT, w.rc);
    CK(r.at >= d && r.at - d < LATE);
    CK(w.at >= d && w.at - d < LATE);
    /* Clearing both makes both work again.                                       */
    CKI(0, gn_set_deadline(a, 0));
    CKI(2, gn_write(b, "ok", 2));
    char buf[4];
    CKI(0, gn_set_read_deadline(a, gn_now() + SAFETY));
    CKI(2, read_full(a, buf, 2));
    close_pair(a, b);
}
TEST both_deadlines(void) { return run_body(2, bothdl_body, NULL); }

/* ==== deadlines changed by another coroutine while one is blocked ========================== */
enum { MOVE_SET, MOVE_EARLIER, MOVE_LATER, MOVE_PAST, MOVE_CLEAR, MOVE_WRITE_SET };

typedef struct {
    gn_conn *a, *b;
    int kind;
    int64_t initial;       /* the blocked operation's own deadline (0: none)    */
    int64_t new_dl;        /* what the other coroutine set                      */
    int64_t set_at, data_at;
    int started;
} move_state;

static void mover(void *arg) {
    move_state *m = (move_state *)arg;
    while (!ALOAD(&m->started)) gn_sleep(GN_MILLISECOND);
    gn_sleep(20 * GN_MILLISECOND);   /* the operation is blocked by now (one P: surely) */
    m->set_at = gn_now();
    switch (m->kind) {
    case MOVE_SET:
    case MOVE_EARLIER:
        m->new_dl = gn_now() + 50 * GN_MILLISECOND;
        CKI(0, gn_set_read_deadline(m->a, m->new_dl));
        break;
    case MOVE_WRITE_SET:
        m->new_dl = gn_now() + 50 * GN_MILLISECOND;
        CKI(0, gn_set_write_deadline(m->a, m->new_dl));
        break;
    case MOVE_LATER:
        m->new_dl = gn_now() + SAFETY;
        CKI(0, gn_set_read_deadline(m->a, m->new_dl));
        break;
    case MOVE_PAST:
        m->new_dl = gn_now() - GN_MILLISECOND;
        CKI(0, gn_set_read_deadline(m->a, m->new_dl));
        break;
    case MOVE_CLEAR:
        CKI(0, gn_set_deadline(m->a, 0));
        break;
    }
    if (m->kind == MOVE_LATER || m->kind == MOVE_CLEAR) {
        /* Well past the old deadline, data arrives: the read must get it.        */
        gn_sleep(300 * GN_MILLISECOND);
        m->data_at = gn_now();
        CKI(4, gn_write(m->b, "late", 4));
    }
}

static void move_one(int kind) {
    gn_conn *a, *b;
    if (tcp_pair(&a, &b)) return;
    move_state m;
    memset(&m, 0, sizeof m);
    m.a = a;
    m.b = b;
    m.kind = kind;
    int64_t now = gn_now();
    switch (kind) {
    case MOVE_SET: case MOVE_WRITE_SET: m.initial = 0; break;
    case MOVE_EARLIER: case MOVE_PAST: m.initial = now + SAFETY; break;
    case MOVE_LATER: case MOVE_CLEAR: m.initial = now + 100 * GN_MILLISECOND; break;
    }
    if (kind == MOVE_WRITE_SET) {
        shrink(a, b);
        if (m.initial) CKI(0, gn_set_write_deadline(a, m.initial));
    } else if (m.initial) {
        CKI(0, gn_set_read_deadline(a, m.initial));
    }
    spawn(mover, &m);
    ASTORE(&m.started, 1);
    char buf[16];
    int64_t rc;
    if (kind == MOVE_WRITE_SET) {
        size_t n = 8 << 20;
        char *big = (char *)calloc(1, n);
        rc = gn_write(a, big, n);
        free(big);
    } else {
        rc = gn_read(a, buf, sizeof buf);
    }
    int64_t end = gn_now();
    join_all();
    switch (kind) {
    case MOVE_SET:
    case MOVE_EARLIER:
    case MOVE_WRITE_SET:
        CKI(GN_ETIMEDOUT, rc);
        CKF(end >= m.new_dl, "woke %lld ns before the new deadline", (long long)(m.new_dl - end));
        CKF(end - m.new_dl < LATE, "woke %lld ms after the new deadline",
            (long long)((end - m.new_dl) / GN_MILLISECOND));
        break;
    case MOVE_PAST:
        CKI(GN_ETIMEDOUT, rc);
        CKF(end >= m.set_at && end - m.set_at < LATE, "woke %lld ms after the deadline moved into the past",
            (long long)((end - m.set_at) / GN_MILLISECOND));
        break;
    case MOVE_LATER:
    case MOVE_CLEAR:
        CKF(rc == 4, "the read returned %lld (%s), not the data sent after the old deadline", (long long)rc,
            rc < 0 ? gn_strerror((int)rc) : "-");
        CK(end >= m.data_at);
        if (rc == 4) CK(memcmp(buf, "late", 4) == 0);
        break;
    }
    close_pair(a, b);
}

static void move_body(void *arg) {
    (void)arg;
    move_one(MOVE_SET);
    move_one(MOVE_EARLIER);
    move_one(MOVE_LATER);
    move_one(MOVE_PAST);
    move_one(MOVE_CLEAR);
    move_one(MOVE_WRITE_SET);
}
TEST deadline_moved_while_blocked(void) { return run_body(1, move_body, NULL); }
TEST deadline_moved_while_blocked_2procs(void) { return run_body(2, move_body, NULL); }

/* ==== a deadline already past =================================================================
 * It fails the next operation at once, even with data waiting (as in Go); zero
 * clears it and the data is still there.                                     */
static void pastdl_body(void *arg) {
    (void)arg;
    gn_conn *a, *b;
    if (tcp_pair(&a, &b)) return;
    CKI(6, gn_write(b, "queued", 6));
    gn_sleep(10 * GN_MILLISECOND);   /* it is in a's receive queue */
    char buf[16];
    CKI(0, gn_set_read_deadline(a, gn_now() - GN_SECOND));
    int64_t t0 = gn_now();
    CKI(GN_ETIMEDOUT, gn_read(a, buf, sizeof buf));
    CKI(GN_ETIMEDOUT, gn_read(a, buf, sizeof buf));
    CKI(3, gn_write(a, "out", 3));   /* writing is not affected */
    CKI(0, gn_set_write_deadline(a, 1));   /* the first instant there is: long past */
    CKI(GN_ETIMEDOUT, gn_write(a, "x", 1));
    CK(gn_now() - t0 < GN_SECOND);
    /* Zero clears: the queued data is read, writing works.                       */
    CKI(0, gn_set_deadline(a, 0));
    CKI(6, read_full(a, buf, 6));
    CK(memcmp(buf, "queued", 6) == 0);
    CKI(2, gn_write(a, "in", 2));
    CKI(0, gn_set_read_deadline(b, gn_now() + SAFETY));
    CKI(5, read_full(b, buf, 5));
    CK(memcmp(buf, "outin", 5) == 0);
    /* "now" is already past too.                                                  */
    CKI(0, gn_set_read_deadline(a, gn_now()));
    CKI(GN_ETIMEDOUT, gn_read(a, buf, sizeof buf));
    /* A far deadline does not overflow into the past.                            */
    CKI(0, gn_set_read_deadline(a, INT64_MAX));
    CKI(1, gn_write(b, "!", 1));
    CKI(1, gn_read(a, buf, sizeof buf));
    close_pair(a, b);
}
TEST past_deadline_fails_at_once(void) { return run_body(1, pastdl_body, NULL); }

/* ==== usable again after a timeout ============================================================= */
typedef struct { gn_conn *c; int64_t delay; const char *msg; } late_writer;

static void late_write_fn(void *arg) {
    late_writer *w = (late_writer *)arg;
    gn_sleep(w->delay);
    CKI((int64_t)strlen(w->msg), gn_write(w->c, w->msg, strlen(w->msg)));
}

static void extend_body(void *arg) {
    (void)arg;
    gn_conn *a, *b;
    if (tcp_pair(&a, &b)) return;
    char buf[64];
    for (int round = 0; round < 3; round++) {
        int64_t d = gn_now() + 30 * GN_MILLISECOND;
        CKI(0, gn_set_read_deadline(a, d));
        CKI(GN_ETIMEDOUT, gn_read(a, buf, sizeof buf));
        FIRED(d);
        /* Extended: data written later (after the old deadline) is read.       */
        CKI(0, gn_set_read_deadline(a, gn_now() + SAFETY));
        late_writer w = {b, 100 * GN_MILLISECOND, round == 1 ? "second" : "payload"};
        spawn(late_write_fn, &w);
        int64_t n = read_full(a, buf, strlen(w.msg));
        CKI((int64_t)strlen(w.msg), n);
        if (n > 0) CK(memcmp(buf, w.msg, (size_t)n) == 0);
        join_all();
    }
    /* After a short read (the socket known empty), a deadline still fires, and
     * data sent afterwards is still read once the deadline is extended.      */
    CKI(3, gn_write(b, "abc", 3));
    CKI(0, gn_set_read_deadline(a, gn_now() + SAFETY));
    CKI(3, gn_read(a, buf, sizeof buf));
    int64_t d = gn_now() + 40 * GN_MILLISECOND;
    CKI(0, gn_set_read_deadline(a, d));
    CKI(GN_ETIMEDOUT, gn_read(a, buf, sizeof buf));
    FIRED(d);
    CKI(3, gn_write(b, "def", 3));
    CKI(0, gn_set_read_deadline(a, gn_now() + SAFETY));
    CKI(3, read_full(a, buf, 3));
    CK(memcmp(buf, "def", 3) == 0);

    /* The same for a write stuck on a full buffer.                               */
    shrink(a, b);
    size_t big = 4 << 20;
    unsigned char *data = (unsigned char *)malloc(big);
    fill_pat(data, big, 0, 77);
    d = gn_now() + 50 * GN_MILLISECOND;
    CKI(0, gn_set_write_deadline(a, d));
    CKI(GN_ETIMEDOUT, gn_write(a, data, big));
    FIRED(d);
    drain_state ds = {b, 0, 4000, big - 4000, 0};
    spawn(drainer, &ds);
    CKI(0, gn_set_write_deadline(a, gn_now() + SAFETY));
    CKI((int64_t)big, gn_write(a, data, big));   /* the whole of it, this time */
    join_all();
    /* The whole second write arrived after whatever prefix the first sent.     */
    CK(ds.total >= (int64_t)big);
    CK(ds.ok);
    free(data);
    close_pair(a, b);
}
TEST extend_after_timeout(void) { return run_body(2, extend_body, NULL); }

/* ==== reset on every request ====================================================================
 * A request/response loop that sets a fresh deadline before each operation
 * stays correct; 100k resets in a row are cheap and leave no timers pending. */
static void echo_peer(void *arg) {
    gn_conn *c = (gn_conn *)arg;
    char buf[256];
    CKI(0, gn_set_read_deadline(c, gn_now() + 60 * GN_SECOND));
    for (;;) {
        int64_t n = gn_read(c, buf, sizeof buf);
        if (n == GN_EOF) break;
        if (n <= 0) {
            CKF(0, "echo peer: gn_read = %lld (%s)", (long long)n, gn_strerror((int)n));
            break;
        }
        if (!CKI(n, gn_write(c, buf, (size_t)n))) break;
    }
}

typedef struct { int64_t timers_before, timers_after, resets_ns; int requests; } reset_state;

static void reset_body(void *arg) {
    reset_state *s = (reset_state *)arg;
    gn_conn *a, *b;
    if (tcp_pair(&a, &b)) return;
    spawn(echo_peer, b);
    unsigned char out[64], in[64];
    for (int i = 0; i < s->requests; i++) {
        CKI(0, gn_set_deadline(a, gn_now() + 5 * GN_SECOND));
        fill_pat(out, sizeof out, (uint64_t)i * 64, 9);
        if (!CKI(64, gn_write(a, out, sizeof out))) break;
        CKI(0, gn_set_read_deadline(a, gn_now() + 5 * GN_SECOND));
        if (!CKI(64, read_full(a, in, sizeof in))) break;
        if (!CKI(-1, check_pat(in, sizeof in, (uint64_t)i * 64, 9))) break;
    }
    gn_stats st;
    gn_stats_read(&st);
    s->timers_before = st.timers;
    int64_t t0 = gn_now();
    for (int i = 0; i < 100000; i++) {
        int64_t d = gn_now() + GN_SECOND + i;
        if (i & 1) gn_set_read_deadline(a, d);
        else gn_set_deadline(a, d);
    }
    s->resets_ns = gn_now() - t0;
    gn_stats_read(&st);
    s->timers_after = st.timers;
    /* The last one set wins: a short one now fires, not any of the earlier ones. */
    int64_t d = gn_now() + 30 * GN_MILLISECOND;
    CKI(0, gn_set_read_deadline(a, d));
    char buf[4];
    CKI(GN_ETIMEDOUT, gn_read(a, buf, sizeof buf));
    FIRED(d);
    CKI(0, gn_set_deadline(a, 0));
    CKI(0, gn_close_write(a));
    join_all();
    close_pair(a, b);
}
TEST reset_every_request(void) {
    reset_state s;
    memset(&s, 0, sizeof s);
    s.requests = 5000 / g_scale;
    CHECK_CALL(run_body(2, reset_body, &s));
    /* Each reset replaces the timer: at most the two of a's directions remain.  */
    if (s.timers_after > s.timers_before + 2) {
        static char m[128];
        snprintf(m, sizeof m, "%lld timers pending after 100k resets (%lld before)",
                 (long long)s.timers_after, (long long)s.timers_before);
        FAILm(m);
    }
    /* Cheap: generously, under 30 s even in a sanitizer build.                  */
    ASSERT(s.resets_ns < 30 * GN_SECOND);
    PASS();
}

/* ==== two blocked readers, one deadline ==========================================================
 * One waits in the read, the other queues behind it; the deadline ends both. */
static void tworeaders_body(void *arg) {
    (void)arg;
    gn_conn *a, *b;
    if (tcp_pair(&a, &b)) return;
    op_result r1 = {a, 0, 0}, r2 = {a, 0, 0};
    int64_t d = gn_now() + 60 * GN_MILLISECOND;
    CKI(0, gn_set_read_deadline(a, d));
    spawn(op_reader, &r1);
    spawn(op_reader, &r2);
    join_all();
    CKI(GN_ETIMEDOUT, r1.rc);
    CKI(GN_ETIMEDOUT, r2.rc);
    CK(r1.at >= d && r1.at - d < LATE);
    CK(r2.at >= d && r2.at - d < LATE);
    close_pair(a, b);
}
TEST two_readers_one_deadline(void) { return run_body(2, tworeaders_body, NULL); }

/* ==== a closed connection's deadline does not reach the next one ==================================
 * Connection A gets a short deadline and is closed unused; B (likely reusing
 * A's poll descriptor) blocks with no deadline and must get its data, sent
 * well after A's deadline would have fired.                                  */
static void stale_body(void *arg) {
    (void)arg;
    for (int i = 0; i < 5; i++) {
        gn_conn *a, *b;
        if (tcp_pair(&a, &b)) return;
        CKI(0, gn_set_deadline(a, gn_now() + 20 * GN_MILLISECOND));
        CKI(0, gn_set_deadline(b, gn_now() + 20 * GN_MILLISECOND));
        close_pair(a, b);
        gn_conn *c, *e;
        if (tcp_pair(&c, &e)) return;
        late_writer w = {e, 100 * GN_MILLISECOND, "fresh"};
        spawn(late_write_fn, &w);
        char buf[8];
        CKI(5, read_full(c, buf, 5));   /* no deadline: nothing may time it out */
        join_all();
        close_pair(c, e);
    }
}
TEST closed_conn_deadline_does_not_leak(void) { return run_body(1, stale_body, NULL); }

/* ==== UDP ======================================================================================= */
static void udpdl_body(void *arg) {
    (void)arg;
    gn_conn *a = NULL, *b = NULL;
    if (!CKI(0, gn_listen_packet(&a, "udp4", "127.0.0.1:0"))) return;
    if (!CKI(0, gn_listen_packet(&b, "udp4", "127.0.0.1:0"))) {
        gn_close(a);
        return;
    }
    char aa[64], buf[16];
    gn_local_addr(a, aa, sizeof aa);
    int64_t d = gn_now() + 50 * GN_MILLISECOND;
    CKI(0, gn_set_read_deadline(a, d));
    CKI(GN_ETIMEDOUT, gn_read_from(a, buf, sizeof buf, NULL, 0));
    FIRED(d);
    CKI(4, gn_write_to(b, "dgrm", 4, aa));
    CKI(GN_ETIMEDOUT, gn_read_from(a, buf, sizeof buf, NULL, 0));   /* still past */
    CKI(0, gn_set_read_deadline(a, gn_now() + SAFETY));
    CKI(4, gn_read_from(a, buf, sizeof buf, NULL, 0));   /* and not lost */
    gn_close(a);
    gn_close(b);
}
TEST udp_read_deadline(void) { return run_body(1, udpdl_body, NULL); }

/* ==== stress: short deadlines, meddling and trickling data, checked byte for byte ================ */
#define CHURN_PAIRS 16

typedef struct {
    gn_conn *a, *b;
    int64_t total;
    uint32_t seed;
    int stop, timeouts, done_reading;
    int64_t got;
} churn_pair;

static void churn_writer(void *arg) {
    churn_pair *p = (churn_pair *)arg;
    unsigned char buf[700];
    uint32_t r = p->seed;
    for (int64_t pos = 0; pos < p->total;) {
        r = r * 1103515245u + 12345u;
        size_t n = 1 + (r >> 8) % sizeof buf;
        if ((int64_t)n > p->total - pos) n = (size_t)(p->total - pos);
        fill_pat(buf, n, (uint64_t)pos, p->seed);
        if (!CKI((int64_t)n, gn_write(p->b, buf, n))) return;
        pos += (int64_t)n;
        if ((r >> 4) % 4 == 0) gn_sleep((int64_t)((r >> 12) % 1500) * GN_MICROSECOND);
    }
}

/* Moves the reader's deadline about: nearer, further, cleared.               */
static void churn_meddler(void *arg) {
    churn_pair *p = (churn_pair *)arg;
    uint32_t r = p->seed * 7 + 1;
    while (!ALOAD(&p->stop)) {
        r = r * 1103515245u + 12345u;
        switch ((r >> 8) % 3) {
        case 0: gn_set_read_deadline(p->a, gn_now() + (int64_t)((r >> 12) % 2000) * GN_MICROSECOND); break;
        case 1: gn_set_read_deadline(p->a, gn_now() + 5 * GN_MILLISECOND); break;
        case 2: gn_set_read_deadline(p->a, 0); break;
        }
        gn_sleep((int64_t)((r >> 16) % 1000) * GN_MICROSECOND);
    }
}

static void churn_reader(void *arg) {
    churn_pair *p = (churn_pair *)arg;
    unsigned char buf[1024];
    uint32_t r = p->seed * 13 + 5;
    int64_t give_up = gn_now() + 60 * GN_SECOND;
    while (p->got < p->total && gn_now() < give_up) {
        r = r * 1103515245u + 12345u;
        gn_set_read_deadline(p->a, gn_now() + (int64_t)((r >> 8) % 2000) * GN_MICROSECOND);
        int64_t n = gn_read(p->a, buf, 1 + (r >> 4) % sizeof buf);
        if (n == GN_ETIMEDOUT) {
            p->timeouts++;
            continue;
        }
        if (n <= 0) {
            CKF(0, "pair %u: gn_read after %lld of %lld bytes = %lld (%s)", p->seed, (long long)p->got,
                (long long)p->total, (long long)n, gn_strerror((int)n));
            break;
        }
        int64_t bad = check_pat(buf, (size_t)n, (uint64_t)p->got, p->seed);
        if (bad >= 0) {
            CKF(0, "pair %u: wrong byte at %lld", p->seed, (long long)(p->got + bad));
            break;
        }
        p->got += n;
    }
    ASTORE(&p->stop, 1);
}

static void churn_body(void *arg) {
    churn_pair *ps = (churn_pair *)arg;
    for (int i = 0; i < CHURN_PAIRS; i++) {
        if (tcp_pair(&ps[i].a, &ps[i].b)) return;
        spawn(churn_writer, &ps[i]);
        spawn(churn_meddler, &ps[i]);
        spawn(churn_reader, &ps[i]);
    }
    join_all();
    for (int i = 0; i < CHURN_PAIRS; i++) {
        CKI(ps[i].total, ps[i].got);
        close_pair(ps[i].a, ps[i].b);
    }
}
TEST deadline_churn_stress(void) {
    churn_pair ps[CHURN_PAIRS];
    memset(ps, 0, sizeof ps);
    for (int i = 0; i < CHURN_PAIRS; i++) {
        ps[i].total = 100000 / g_scale;
        ps[i].seed = (uint32_t)i + 1;
    }
    CHECK_CALL(run_body(2, churn_body, ps));
    int timeouts = 0;
    for (int i = 0; i < CHURN_PAIRS; i++) timeouts += ps[i].timeouts;
    if (GREATEST_IS_VERBOSE()) printf("    %d timeouts along the way\n", timeouts);
    PASS();
}

SUITE(deadline_suite) {
    GREATEST_SET_SETUP_CB(fail_reset, NULL);
    RUN_TEST(read_deadline);
    RUN_TEST(read_deadline_2procs);
    RUN_TEST(write_deadline);
    RUN_TEST(write_deadline_2procs);
    RUN_TEST(both_deadlines);
    RUN_TEST(deadline_moved_while_blocked);
    RUN_TEST(deadline_moved_while_blocked_2procs);
    RUN_TEST(past_deadline_fails_at_once);
    RUN_TEST(extend_after_timeout);
    RUN_TEST(reset_every_request);
    RUN_TEST(two_readers_one_deadline);
    RUN_TEST(closed_conn_deadline_does_not_leak);
    RUN_TEST(udp_read_deadline);
    RUN_TEST(deadline_churn_stress);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(deadline_suite);
    GREATEST_MAIN_END();
}
