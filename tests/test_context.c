/* test_context.c — contexts: background, cancellation down the tree, deadlines
 * (own and inherited), the done channel in select, values, free order, and
 * cancellation racing from several threads.                                   */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"

/* 1 if c is closed (a receive returns GN_ECLOSED at once), 0 if still open.     */
static int is_closed(gn_chan *c) { return gn_chan_try_recv(c, NULL) == GN_ECLOSED; }

TEST background(void) {
    gn_context *bg = gn_context_background();
    ASSERT(bg != NULL);
    EQI(0, gn_context_err(bg));
    EQI(0, gn_context_err(NULL));
    ASSERT(gn_context_done(bg) == NULL);
    ASSERT(gn_context_done(NULL) == NULL);
    EQI(0, gn_context_deadline(bg));
    ASSERT(gn_context_value(bg, "k") == NULL);
    gn_context_cancel(bg);
    gn_context_free(bg);
    gn_context_cancel(NULL);
    gn_context_free(NULL);
    EQI(0, gn_context_err(bg));

    /* Cancel contexts need no runtime.                                         */
    gn_context *c = gn_context_with_cancel(NULL);
    ASSERT(c != NULL);
    EQI(0, gn_context_err(c));
    ASSERT(gn_context_done(c) != NULL);
    EQI(0, is_closed(gn_context_done(c)));
    gn_context_cancel(c);
    EQI(GN_ECANCELED, gn_context_err(c));
    EQI(1, is_closed(gn_context_done(c)));
    gn_context_cancel(c);   /* twice is fine */
    EQI(GN_ECANCELED, gn_context_err(c));
    gn_context_free(c);

    /* A deadline needs the runtime's timers: without a runtime, no context
     * (rather than one that never expires); one already expired needs none.    */
    ASSERT(gn_context_with_timeout(NULL, GN_SECOND) == NULL);
    c = gn_context_with_timeout(NULL, -1);
    ASSERT(c != NULL);
    EQI(GN_ETIMEDOUT, gn_context_err(c));
    gn_context_free(c);
    PASS();
}

TEST cancel_propagates(void) {
    gn_context *p = gn_context_with_cancel(NULL);
    gn_context *c = gn_context_with_cancel(p);
    gn_context *g = gn_context_with_value(c, "k", "v");
    gn_context *g2 = gn_context_with_cancel(c);
    gn_context *sib = gn_context_with_cancel(p);
    ASSERT(p && c && g && g2 && sib);

    /* Cancelling a child leaves its parent and siblings alone.                 */
    gn_context_cancel(sib);
    EQI(GN_ECANCELED, gn_context_err(sib));
    EQI(0, gn_context_err(p));
    EQI(0, gn_context_err(c));

    gn_context_cancel(p);
    EQI(GN_ECANCELED, gn_context_err(p));
    EQI(GN_ECANCELED, gn_context_err(c));
    EQI(GN_ECANCELED, gn_context_err(g));
    EQI(GN_ECANCELED, gn_context_err(g2));
    EQI(1, is_closed(gn_context_done(c)));
    EQI(1, is_closed(gn_context_done(g)));
    EQI(1, is_closed(gn_context_done(g2)));

    /* A child of a cancelled parent is born cancelled.                         */
    gn_context *late = gn_context_with_cancel(c);
    ASSERT(late != NULL);
    EQI(GN_ECANCELED, gn_context_err(late));
    EQI(1, is_closed(gn_context_done(late)));

    gn_context_free(late);
    gn_context_free(g2);
    gn_context_free(g);
    gn_context_free(c);
    gn_context_free(sib);
    gn_context_free(p);
    PASS();
}

TEST free_cancels_and_order(void) {
    gn_context *p = gn_context_with_cancel(NULL);
    gn_context *c = gn_context_with_cancel(p);
    gn_context *c2 = gn_context_with_cancel(p);
    ASSERT(p && c && c2);
    /* Freeing a child cancels it and detaches it: the parent lives on.         */
    gn_context_free(c);
    EQI(0, gn_context_err(p));
    gn_context_cancel(p);
    EQI(GN_ECANCELED, gn_context_err(c2));
    /* Against the rule, the parent goes first: the child survives, orphaned.    */
    gn_context_free(p);
    EQI(GN_ECANCELED, gn_context_err(c2));
    ASSERT(gn_context_value(c2, "x") == NULL);
    gn_context_free(c2);
    PASS();
}

TEST values(void) {
    static const char k1[] = "k1", k2[] = "k2", k3[] = "k3";
    int a = 1, b = 2, c = 3;
    gn_context *v1 = gn_context_with_value(NULL, k1, &a);
    gn_context *v2 = gn_context_with_value(v1, k2, &b);
    gn_context *mid = gn_context_with_cancel(v2);
    gn_context *v3 = gn_context_with_value(mid, k1, &c);   /* shadows k1 */
    ASSERT(v1 && v2 && mid && v3);
    ASSERT(gn_context_value(v3, k1) == &c);
    ASSERT(gn_context_value(v3, k2) == &b);
    ASSERT(gn_context_value(v3, k3) == NULL);
    ASSERT(gn_context_value(mid, k1) == &a);
    ASSERT(gn_context_value(v1, k2) == NULL);
    /* Keys compare by address, not by content.                                 */
    char other[] = "k1";
    ASSERT(gn_context_value(v3, other) == NULL);
    gn_context_free(v3);
    gn_context_free(mid);
    gn_context_free(v2);
    gn_context_free(v1);
    PASS();
}

/* ---- deadlines ------------------------------------------------------------------- */
typedef struct {
    int err_before, recv_rc, err_after, child_err, child_inherit, grandchild_err;
    int64_t took, dl, child_dl, inherit_dl, grand_dl;
    int past_err, past_closed, zero_err, none_err;
    int64_t none_dl, huge_dl;
    int huge_err;
    int sel_idx, sel_res;
    int64_t sel_took;
} dlstate;

static void dl_body(void *arg) {
    dlstate *s = (dlstate *)arg;
    int64_t t0 = gn_now();
    gn_context *c = gn_context_with_timeout(NULL, 30 * GN_MILLISECOND);
    gn_context *late = gn_context_with_deadline(c, t0 + GN_HOUR);      /* inherits */
    gn_context *sooner = gn_context_with_timeout(c, GN_HOUR / 2);       /* inherits */
    gn_context *grand = gn_context_with_cancel(late);
    s->dl = gn_context_deadline(c) - t0;
    s->inherit_dl = gn_context_deadline(late) - gn_context_deadline(c);
    s->child_dl = gn_context_deadline(sooner) - gn_context_deadline(c);
    s->grand_dl = gn_context_deadline(grand) - gn_context_deadline(c);
    s->err_before = gn_context_err(c);
    s->recv_rc = gn_chan_recv(gn_context_done(c), NULL);
    s->took = gn_now() - t0;
    s->err_after = gn_context_err(c);
    s->child_inherit = gn_context_err(late);
    s->child_err = gn_context_err(sooner);
    s->grandchild_err = gn_context_err(grand);
    gn_context_free(grand);
    gn_context_free(sooner);
    gn_context_free(late);
    gn_context_free(c);

    gn_context *past = gn_context_with_deadline(NULL, gn_now() - GN_SECOND);
    s->past_err = gn_context_err(past);
    s->past_closed = is_closed(gn_context_done(past));
    gn_context_free(past);
    gn_context *zero = gn_context_with_timeout(NULL, 0);
    s->zero_err = gn_context_err(zero);
    gn_context_free(zero);
    gn_context *huge = gn_context_with_timeout(NULL, INT64_MAX);
    gn_sleep(GN_MILLISECOND);
    s->huge_err = gn_context_err(huge);
    s->huge_dl = gn_context_deadline(huge);
    gn_context_free(huge);
    gn_context *none = gn_context_with_deadline(NULL, 0);
    s->none_err = gn_context_err(none);
    s->none_dl = gn_context_deadline(none);
    gn_context_free(none);

    /* A child's own, sooner deadline fires while its parent lives on; its done
     * channel wins a select against a channel nobody sends on.                 */
    gn_context *parent = gn_context_with_timeout(NULL, GN_HOUR);
    t0 = gn_now();
    gn_context *child = gn_context_with_timeout(parent, 20 * GN_MILLISECOND);
    gn_chan *never = gn_chan_new(sizeof(int), 0);
    int v;
    gn_select_case cs[2] = {{never, GN_RECV, &v, 0}, {gn_context_done(child), GN_RECV, NULL, 0}};
    s->sel_idx = gn_select(cs, 2);
    s->sel_took = gn_now() - t0;
    s->sel_res = cs[1].result;
    if (gn_context_err(parent) != 0 || gn_context_err(child) != GN_ETIMEDOUT) s->sel_idx = -100;
    gn_chan_free(never);
    gn_context_free(child);
    gn_context_free(parent);
}

TEST deadlines(void) {
    dlstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, dl_body, &s));
    ASSERT(s.dl >= 30 * GN_MILLISECOND && s.dl < GN_SECOND);
    EQI(0, s.inherit_dl);
    EQI(0, s.child_dl);
    EQI(0, s.grand_dl);
    EQI(0, s.err_before);
    EQI(GN_ECLOSED, s.recv_rc);
    ASSERT(s.took >= 30 * GN_MILLISECOND);
    ASSERT(s.took < 2 * GN_SECOND);
    EQI(GN_ETIMEDOUT, s.err_after);
    EQI(GN_ETIMEDOUT, s.child_inherit);
    EQI(GN_ETIMEDOUT, s.child_err);
    EQI(GN_ETIMEDOUT, s.grandchild_err);
    EQI(GN_ETIMEDOUT, s.past_err);
    EQI(1, s.past_closed);
    EQI(GN_ETIMEDOUT, s.zero_err);
    EQI(0, s.none_err);
    EQI(0, s.none_dl);
    EQI(0, s.huge_err);
    ASSERT(s.huge_dl == INT64_MAX);
    EQI(1, s.sel_idx);
    EQI(GN_ECLOSED, s.sel_res);
    ASSERT(s.sel_took >= 20 * GN_MILLISECOND);
    ASSERT(s.sel_took < 2 * GN_SECOND);
    PASS();
}

/* A cancel that comes before the deadline wins: the error stays GN_ECANCELED. */
typedef struct { int err, err_later; } firstwins;

static void firstwins_body(void *arg) {
    firstwins *s = (firstwins *)arg;
    gn_context *c = gn_context_with_timeout(NULL, 5 * GN_MILLISECOND);
    gn_context_cancel(c);
    s->err = gn_context_err(c);
    gn_sleep(15 * GN_MILLISECOND);   /* the timer fires into a cancelled context */
    s->err_later = gn_context_err(c);
    gn_context_free(c);
}

TEST first_error_sticks(void) {
    firstwins s = {0, 0};
    EQI(0, run_procs(1, firstwins_body, &s));
    EQI(GN_ECANCELED, s.err);
    EQI(GN_ECANCELED, s.err_later);
    PASS();
}

/* ---- cancellation from many threads at once ------------------------------------- */
#define CC_ROUNDS (300 / g_scale)

typedef struct {
    gn_context *root;
    gn_waitgroup wg;
    int woken, bad;
} ccstate;

static void cc_waiter(void *arg) {
    ccstate *s = (ccstate *)arg;
    gn_context *mine = gn_context_with_cancel(s->root);
    if (!mine) { AADD(&s->bad, 1); gn_waitgroup_done(&s->wg); return; }
    if (gn_chan_recv(gn_context_done(mine), NULL) == GN_ECLOSED) AADD(&s->woken, 1);
    int e = gn_context_err(mine);
    if (e != GN_ECANCELED && e != GN_ETIMEDOUT) AADD(&s->bad, 1);
    gn_context_free(mine);
    gn_waitgroup_done(&s->wg);
}

static void cc_canceller(void *arg) {
    ccstate *s = (ccstate *)arg;
    gn_yield();
    gn_context_cancel(s->root);
    gn_waitgroup_done(&s->wg);
}

static void cc_body(void *arg) {
    ccstate *s = (ccstate *)arg;
    for (int r = 0; r < CC_ROUNDS; r++) {
        /* Half the rounds race a deadline timer against the cancellers too.      */
        s->root = r % 2 ? gn_context_with_timeout(NULL, (r % 7) * 20 * GN_MICROSECOND)
                        : gn_context_with_cancel(NULL);
        gn_waitgroup_add(&s->wg, 12);
        for (int i = 0; i < 8; i++) gn_go(cc_waiter, s);
        for (int i = 0; i < 4; i++) gn_go(cc_canceller, s);
        gn_waitgroup_wait(&s->wg);
        gn_context_free(s->root);
    }
}

TEST concurrent_cancel(void) {
    ccstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, cc_body, &s));
    EQI(0, s.bad);
    EQI(8 * CC_ROUNDS, s.woken);
    PASS();
}

/* Contexts freed while their deadline timer is due: no callback may touch freed
 * memory (the sanitizer builds check).                                          */
static void free_race_body(void *arg) {
    int *n = (int *)arg;
    for (int i = 0; i < 2000 / g_scale; i++) {
        gn_context *p = gn_context_with_timeout(NULL, (i % 5) * GN_MICROSECOND);
        gn_context *c = gn_context_with_timeout(p, (i % 3) * GN_MICROSECOND);
        if (i % 4 == 0) gn_yield();
        gn_context_free(c);
        gn_context_free(p);
        (*n)++;
    }
}

TEST free_races_timer(void) {
    int n = 0;
    EQI(0, run_procs(2, free_race_body, &n));
    EQI(2000 / g_scale, n);
    PASS();
}

SUITE(context_suite) {
    RUN_TEST(background);
    RUN_TEST(cancel_propagates);
    RUN_TEST(free_cancels_and_order);
    RUN_TEST(values);
    RUN_TEST(deadlines);
    RUN_TEST(first_error_sticks);
    RUN_TEST(concurrent_cancel);
    RUN_TEST(free_races_timer);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(context_suite);
    GREATEST_MAIN_END();
}
