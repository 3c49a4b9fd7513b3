/* test_timer.c — user timers: one-shot, ticker, after_func, stop and reset
 * (results, and no stale value after either, also when racing the firing).
 * Timing assertions check lower bounds exactly and upper bounds generously.   */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"

/* Receives from c with a deadline: 0 and *v, or GN_ETIMEDOUT.                    */
static int recv_until(gn_chan *c, int64_t *v, int64_t deadline) {
    gn_select_case cs[1] = {{c, GN_RECV, v, 0}};
    int k = gn_select_until(cs, 1, deadline);
    return k == 0 ? cs[0].result : k;
}

TEST args(void) {
    ASSERT(gn_ticker_new(0) == NULL);
    ASSERT(gn_ticker_new(-5) == NULL);
    ASSERT(gn_after_func(GN_SECOND, NULL, NULL) == NULL);
    EQI(GN_EINVAL, gn_timer_stop(NULL));
    EQI(GN_EINVAL, gn_timer_reset(NULL, 1));
    ASSERT(gn_timer_chan(NULL) == NULL);
    gn_timer_free(NULL);
    /* The runtime's timers run only while it runs.                             */
    ASSERT(gn_timer_new(GN_SECOND) == NULL);
    PASS();
}

/* ---- one-shot ---------------------------------------------------------------------- */
typedef struct {
    int rc, again, stop_after, cap;
    int64_t start, value, took;
} oneshot;

static void oneshot_body(void *arg) {
    oneshot *s = (oneshot *)arg;
    s->start = gn_now();
    gn_timer *t = gn_timer_new(20 * GN_MILLISECOND);
    gn_chan *c = gn_timer_chan(t);
    s->cap = (int)gn_chan_cap(c);
    s->rc = gn_chan_recv(c, &s->value);
    s->took = gn_now() - s->start;
    int64_t v;
    s->again = recv_until(c, &v, gn_now() + 30 * GN_MILLISECOND);   /* fires once */
    s->stop_after = gn_timer_stop(t);
    gn_timer_free(t);
}

TEST one_shot(void) {
    oneshot s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, oneshot_body, &s));
    EQI(1, s.cap);
    EQI(0, s.rc);
    ASSERT(s.value >= s.start + 20 * GN_MILLISECOND);
    ASSERT(s.took >= 20 * GN_MILLISECOND);
    ASSERT(s.took < 2 * GN_SECOND);
    EQI(GN_ETIMEDOUT, s.again);
    EQI(0, s.stop_after);
    PASS();
}

/* ---- ticker ------------------------------------------------------------------------ */
typedef struct {
    int rc[5], increasing, stop_rc, after_stop, reset_rc, reset_tick;
    int64_t start, ticks[5], took, reset_at, reset_a, reset_b;
} tickstate;

static void ticker_body(void *arg) {
    tickstate *s = (tickstate *)arg;
    s->start = gn_now();
    gn_timer *t = gn_ticker_new(10 * GN_MILLISECOND);
    for (int i = 0; i < 5; i++) s->rc[i] = gn_chan_recv(gn_timer_chan(t), &s->ticks[i]);
    s->took = gn_now() - s->start;
    s->increasing = 1;
    for (int i = 1; i < 5; i++)
        if (s->ticks[i] <= s->ticks[i - 1]) s->increasing = 0;
    /* A reset changes the period.                                              */
    s->reset_at = gn_now();
    s->reset_rc = gn_timer_reset(t, 30 * GN_MILLISECOND);
    s->reset_tick = gn_chan_recv(gn_timer_chan(t), &s->reset_a) |
                    gn_chan_recv(gn_timer_chan(t), &s->reset_b);
    s->stop_rc = gn_timer_stop(t);
    int64_t v;
    s->after_stop = recv_until(gn_timer_chan(t), &v, gn_now() + 40 * GN_MILLISECOND);
    gn_timer_free(t);
}

TEST ticker(void) {
    tickstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, ticker_body, &s));
    for (int i = 0; i < 5; i++) EQI(0, s.rc[i]);
    EQI(1, s.increasing);
    ASSERT(s.ticks[0] >= s.start + 10 * GN_MILLISECOND);
    ASSERT(s.took >= 50 * GN_MILLISECOND);
    ASSERT(s.took < 3 * GN_SECOND);
    EQI(1, s.reset_rc);
    EQI(0, s.reset_tick);
    /* A tick never comes early: the k-th after the reset at k periods or later. */
    ASSERT(s.reset_a >= s.reset_at + 30 * GN_MILLISECOND);
    ASSERT(s.reset_b >= s.reset_at + 60 * GN_MILLISECOND);
    EQI(1, s.stop_rc);
    EQI(GN_ETIMEDOUT, s.after_stop);
    PASS();
}

/* A slow reader of a ticker sees one pending tick, not a backlog (capacity 1). */
typedef struct { int len, queued; } slowstate;

static void slow_body(void *arg) {
    slowstate *s = (slowstate *)arg;
    gn_timer *t = gn_ticker_new(2 * GN_MILLISECOND);
    gn_sleep(30 * GN_MILLISECOND);
    s->len = (int)gn_chan_len(gn_timer_chan(t));
    int64_t v;
    while (gn_chan_try_recv(gn_timer_chan(t), &v) == 0) s->queued++;
    gn_timer_free(t);
}

TEST ticker_drops_ticks(void) {
    slowstate s = {0, 0};
    EQI(0, run_procs(2, slow_body, &s));
    EQI(1, s.len);
    EQI(1, s.queued);
    PASS();
}

/* ---- stop and reset ---------------------------------------------------------------- */
typedef struct {
    int stop1, stop2, after_stop, fired_stop, fired_drained, reset1, reset_rc, reset_stale;
    int reset_fire, reset_rearm, never_rc, never_stop;
    int64_t reset_took;
} stopstate;

static void stop_body(void *arg) {
    stopstate *s = (stopstate *)arg;
    int64_t v;
    gn_timer *t = gn_timer_new(100 * GN_MILLISECOND);
    s->stop1 = gn_timer_stop(t);
    s->stop2 = gn_timer_stop(t);
    s->after_stop = recv_until(gn_timer_chan(t), &v, gn_now() + 150 * GN_MILLISECOND);

    /* Fired but not received: stop reports 0 and the value is gone (Go 1.23).  */
    s->reset1 = gn_timer_reset(t, GN_MILLISECOND);
    gn_sleep(20 * GN_MILLISECOND);
    s->fired_stop = gn_timer_stop(t);
    s->fired_drained = gn_chan_try_recv(gn_timer_chan(t), &v);

    /* Reset of a pending timer: 1, and it fires after the new duration only.   */
    gn_timer_reset(t, GN_HOUR);
    int64_t t0 = gn_now();
    s->reset_rc = gn_timer_reset(t, 20 * GN_MILLISECOND);
    s->reset_fire = gn_chan_recv(gn_timer_chan(t), &v);
    s->reset_took = gn_now() - t0;

    /* Reset after a fire that nobody received drops the stale value.           */
    gn_timer_reset(t, GN_MILLISECOND);
    gn_sleep(10 * GN_MILLISECOND);
    s->reset_rearm = gn_timer_reset(t, GN_HOUR);
    s->reset_stale = gn_chan_try_recv(gn_timer_chan(t), &v);
    gn_timer_free(t);

    /* "Never" as a huge duration must not wrap around into the past.          */
    gn_timer *never = gn_timer_new(INT64_MAX);
    gn_sleep(5 * GN_MILLISECOND);
    s->never_rc = gn_chan_try_recv(gn_timer_chan(never), &v);
    s->never_stop = gn_timer_stop(never);
    gn_timer_free(never);
}

TEST stop_and_reset(void) {
    stopstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, stop_body, &s));
    EQI(1, s.stop1);
    EQI(0, s.stop2);
    EQI(GN_ETIMEDOUT, s.after_stop);
    EQI(0, s.reset1);
    EQI(0, s.fired_stop);
    EQI(GN_EAGAIN, s.fired_drained);
    EQI(1, s.reset_rc);
    EQI(0, s.reset_fire);
    ASSERT(s.reset_took >= 20 * GN_MILLISECOND);
    ASSERT(s.reset_took < 2 * GN_SECOND);
    EQI(0, s.reset_rearm);
    EQI(GN_EAGAIN, s.reset_stale);
    EQI(GN_EAGAIN, s.never_rc);
    EQI(1, s.never_stop);
    PASS();
}

/* ---- after_func -------------------------------------------------------------------- */
typedef struct {
    gn_chan *c;
    int ran, rc, stopped, stopped_ran, reset_ran, in_coroutine, nochan;
    int64_t start, at;
} afstate;

static void af_fn(void *arg) {
    afstate *s = (afstate *)arg;
    s->in_coroutine = gn_id() > 0;
    s->at = gn_now();
    AADD(&s->ran, 1);
    int one = 1;
    gn_chan_send(s->c, &one);   /* a coroutine may block */
}

static void af_body(void *arg) {
    afstate *s = (afstate *)arg;
    s->c = gn_chan_new(sizeof(int), 0);
    s->start = gn_now();
    gn_timer *t = gn_after_func(15 * GN_MILLISECOND, af_fn, s);
    s->nochan = t != NULL && gn_timer_chan(t) == NULL;
    int v;
    s->rc = gn_chan_recv(s->c, &v);
    gn_timer_free(t);

    gn_timer *t2 = gn_after_func(100 * GN_MILLISECOND, af_fn, s);
    s->stopped = gn_timer_stop(t2);
    gn_sleep(150 * GN_MILLISECOND);
    s->stopped_ran = ALOAD(&s->ran);   /* still 1 */

    s->reset_ran = gn_timer_reset(t2, GN_MILLISECOND);   /* 0: was stopped */
    gn_chan_recv(s->c, &v);
    gn_timer_free(t2);
    gn_chan_free(s->c);
}

TEST after_func(void) {
    afstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, af_body, &s));
    EQI(0, s.rc);
    ASSERT(s.at >= s.start + 15 * GN_MILLISECOND);
    EQI(1, s.in_coroutine);
    EQI(1, s.nochan);
    EQI(1, s.stopped);
    EQI(1, s.stopped_ran);
    EQI(0, s.reset_ran);
    EQI(2, s.ran);
    PASS();
}

/* ---- stop/reset racing with the firing --------------------------------------------- */
#define RACE_ITERS (3000 / g_scale)

typedef struct {
    int stale_after_stop, stale_after_reset, bad_rc, stopped, fired;
    int func_nochan;
    int af_ran, af_stopped;
} racestate;

static void race_af(void *arg) {
    racestate *s = (racestate *)arg;
    AADD(&s->af_ran, 1);
}

static void race_body(void *arg) {
    racestate *s = (racestate *)arg;
    int64_t v;
    for (int i = 0; i < RACE_ITERS; i++) {
        int64_t d = (i % 20) * 5 * GN_MICROSECOND;
        gn_timer *t = gn_timer_new(d);
        if (i % 3 == 0) gn_yield();
        else if (i % 3 == 1) gn_sleep(d);
        int r = gn_timer_stop(t);
        if (r == 1) s->stopped++;
        else if (r == 0) s->fired++;
        else s->bad_rc++;
        if (gn_chan_try_recv(gn_timer_chan(t), &v) != GN_EAGAIN) s->stale_after_stop++;

        r = gn_timer_reset(t, d);
        if (r != 0) s->bad_rc++;   /* it was stopped */
        if (i % 2) gn_sleep(d);
        r = gn_timer_reset(t, GN_HOUR);
        if (r != 0 && r != 1) s->bad_rc++;
        if (gn_chan_try_recv(gn_timer_chan(t), &v) != GN_EAGAIN) s->stale_after_reset++;
        gn_timer_free(t);

        gn_timer *f = gn_after_func(d, race_af, s);
        if (!f || gn_timer_chan(f) != NULL) s->func_nochan++;
        if (i % 2) gn_yield();
        if (gn_timer_stop(f) == 1) s->af_stopped++;
        gn_timer_free(f);
    }
    /* Every after_func either was stopped or ran (in its own coroutine).       */
    int64_t until = gn_now() + 2 * GN_SECOND;
    while (ALOAD(&s->af_ran) + s->af_stopped < RACE_ITERS && gn_now() < until)
        gn_sleep(GN_MILLISECOND);
}

TEST stop_reset_race_firing(void) {
    racestate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, race_body, &s));
    EQI(0, s.bad_rc);
    EQI(0, s.stale_after_stop);
    EQI(0, s.stale_after_reset);
    EQI(0, s.func_nochan);
    EQI(RACE_ITERS, s.stopped + s.fired);
    EQI(RACE_ITERS, s.af_ran + s.af_stopped);
    PASS();
}

SUITE(timer_suite) {
    RUN_TEST(args);
    RUN_TEST(one_shot);
    RUN_TEST(ticker);
    RUN_TEST(ticker_drops_ticks);
    RUN_TEST(stop_and_reset);
    RUN_TEST(after_func);
    RUN_TEST(stop_reset_race_firing);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(timer_suite);
    GREATEST_MAIN_END();
}
