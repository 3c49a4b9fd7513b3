/* test_sync.c — Mutex, RWMutex, WaitGroup, Cond and Once, with many coroutines
 * on one and two threads. Counters guarded by the primitives under test are
 * plain ints on purpose: ThreadSanitizer builds then check the exclusion too. */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"

/* Records the maximum of *v (for "how many were inside at once").               */
static void amax(int *max, int v) {
    int cur = ALOAD(max);
    while (v > cur && !__atomic_compare_exchange_n(max, &cur, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
}

/* ---- Mutex --------------------------------------------------------------------- */
#define MX_WORKERS 100
#define MX_ITERS (1000 / g_scale)

typedef struct {
    gn_mutex mu;
    gn_waitgroup wg;
    int counter;      /* guarded by mu */
    int inside, max_inside;
} mxstate;

static void mx_worker(void *arg) {
    mxstate *s = (mxstate *)arg;
    for (int i = 0; i < MX_ITERS; i++) {
        gn_mutex_lock(&s->mu);
        amax(&s->max_inside, AADD(&s->inside, 1) + 1);
        int v = s->counter;
        if (i % 50 == 0) gn_yield();   /* hold it across a switch sometimes */
        s->counter = v + 1;
        AADD(&s->inside, -1);
        gn_mutex_unlock(&s->mu);
    }
    gn_waitgroup_done(&s->wg);
}

static void mx_body(void *arg) {
    mxstate *s = (mxstate *)arg;
    gn_waitgroup_add(&s->wg, MX_WORKERS);
    for (int i = 0; i < MX_WORKERS; i++) gn_go(mx_worker, s);
    gn_waitgroup_wait(&s->wg);
}

static enum greatest_test_res check_mutex(int procs) {
    mxstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(procs, mx_body, &s));
    EQI(MX_WORKERS * MX_ITERS, s.counter);
    EQI(1, s.max_inside);
    PASS();
}

TEST mutex_exclusion_1proc(void) { CHECK_CALL(check_mutex(1)); PASS(); }
TEST mutex_exclusion_2procs(void) { CHECK_CALL(check_mutex(2)); PASS(); }

typedef struct {
    int try1, try2, unlock1, unlock2, relock;
    int order[3], n;   /* which waiter got the mutex when: FIFO hand-off */
    int arrived;
    gn_mutex mu;
    gn_waitgroup wg;
} mxbasic;

typedef struct { mxbasic *s; int id; } mxarg;

static void mx_waiter(void *arg) {
    mxarg *a = (mxarg *)arg;
    AADD(&a->s->arrived, 1);   /* one P: nothing runs from here until it parks in lock */
    gn_mutex_lock(&a->s->mu);
    a->s->order[a->s->n++] = a->id;
    gn_mutex_unlock(&a->s->mu);
    gn_waitgroup_done(&a->s->wg);
}

static void mxbasic_body(void *arg) {
    mxbasic *s = (mxbasic *)arg;
    gn_mutex m = GN_MUTEX_INIT;
    s->try1 = gn_mutex_trylock(&m);
    s->try2 = gn_mutex_trylock(&m);
    s->unlock1 = gn_mutex_unlock(&m);
    s->unlock2 = gn_mutex_unlock(&m);
    gn_mutex_lock(&m);
    s->relock = gn_mutex_trylock(&m);
    gn_mutex_unlock(&m);

    /* Waiters queue in arrival order and get the mutex in that order.          */
    mxarg a[3];
    gn_mutex_lock(&s->mu);
    gn_waitgroup_add(&s->wg, 3);
    for (int i = 0; i < 3; i++) {
        a[i].s = s;
        a[i].id = i;
        gn_go(mx_waiter, &a[i]);
        while (ALOAD(&s->arrived) != i + 1) gn_yield();   /* queued before the next */
    }
    gn_mutex_unlock(&s->mu);
    gn_waitgroup_wait(&s->wg);
}

TEST mutex_basics(void) {
    mxbasic s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(1, mxbasic_body, &s));
    EQI(1, s.try1);
    EQI(0, s.try2);
    EQI(0, s.unlock1);
    EQI(GN_ESTATE, s.unlock2);
    EQI(0, s.relock);
    EQI(3, s.n);
    for (int i = 0; i < 3; i++) EQI(i, s.order[i]);

    /* Outside any coroutine an uncontended mutex still works.                  */
    gn_mutex m;
    memset(&m, 0, sizeof m);
    gn_mutex_lock(&m);
    EQI(0, gn_mutex_trylock(&m));
    EQI(0, gn_mutex_unlock(&m));
    EQI(GN_ESTATE, gn_mutex_unlock(&m));
    PASS();
}

/* A plain thread (outside the runtime) and coroutines contend for one mutex.    */
typedef struct { mxstate *s; int iters; } thrarg;
static int mx_thread_go;

static void *mx_thread(void *arg) {
    thrarg *t = (thrarg *)arg;
    while (!ALOAD(&mx_thread_go)) sched_yield();   /* start with the coroutines */
    for (int i = 0; i < t->iters; i++) {
        gn_mutex_lock(&t->s->mu);
        t->s->counter++;
        gn_mutex_unlock(&t->s->mu);
    }
    return NULL;
}

static void mx_mixed_body(void *arg) {
    mxstate *s = (mxstate *)arg;
    ASTORE(&mx_thread_go, 1);
    gn_waitgroup_add(&s->wg, 10);
    for (int i = 0; i < 10; i++) gn_go(mx_worker, s);
    gn_waitgroup_wait(&s->wg);
}

TEST mutex_with_foreign_thread(void) {
    mxstate s;
    memset(&s, 0, sizeof s);
    thrarg t = {&s, 5000 / g_scale};
    pthread_t th;
    ASSERT_EQ(0, pthread_create(&th, NULL, mx_thread, &t));
    EQI(0, run_procs(2, mx_mixed_body, &s));
    pthread_join(th, NULL);
    EQI(10 * MX_ITERS + t.iters, s.counter);
    PASS();
}

/* ---- RWMutex --------------------------------------------------------------------- */
#define RW_READERS 8
#define RW_WRITERS 4
#define RW_ITERS (300 / g_scale)

typedef struct {
    gn_rwmutex rw;
    gn_waitgroup wg;
    int readers_in, writers_in, max_readers, bad;
    int value;          /* written under the write lock, read under the read lock */
    int reads_seen_max;
} rwstate;

static void rw_reader(void *arg) {
    rwstate *s = (rwstate *)arg;
    for (int i = 0; i < RW_ITERS; i++) {
        gn_rwmutex_rlock(&s->rw);
        amax(&s->max_readers, AADD(&s->readers_in, 1) + 1);
        if (ALOAD(&s->writers_in) != 0) AADD(&s->bad, 1);
        int v = s->value;
        if (i % 10 == 0) gn_sleep(20 * GN_MICROSECOND);
        if (v != s->value) AADD(&s->bad, 1);   /* nobody writes while we read */
        AADD(&s->readers_in, -1);
        if (gn_rwmutex_runlock(&s->rw) != 0) AADD(&s->bad, 1);
    }
    gn_waitgroup_done(&s->wg);
}

static void rw_writer(void *arg) {
    rwstate *s = (rwstate *)arg;
    for (int i = 0; i < RW_ITERS; i++) {
        gn_rwmutex_lock(&s->rw);
        if (AADD(&s->writers_in, 1) != 0 || ALOAD(&s->readers_in) != 0) AADD(&s->bad, 1);
        int v = s->value;
        if (i % 10 == 0) gn_yield();
        s->value = v + 1;
        AADD(&s->writers_in, -1);
        if (gn_rwmutex_unlock(&s->rw) != 0) AADD(&s->bad, 1);
    }
    gn_waitgroup_done(&s->wg);
}

static void rw_body(void *arg) {
    rwstate *s = (rwstate *)arg;
    gn_waitgroup_add(&s->wg, RW_READERS + RW_WRITERS);
    for (int i = 0; i < RW_READERS; i++) gn_go(rw_reader, s);
    for (int i = 0; i < RW_WRITERS; i++) gn_go(rw_writer, s);
    gn_waitgroup_wait(&s->wg);
}

TEST rwmutex_exclusion(void) {
    rwstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, rw_body, &s));
    EQI(0, s.bad);
    EQI(RW_WRITERS * RW_ITERS, s.value);
    PASS();
}

/* Readers overlap: each holds the read lock until all of them are inside.      */
typedef struct {
    gn_rwmutex rw;
    gn_waitgroup wg;
    int inside, all_met, estate_r, estate_w;
} rwconc;

static void rwc_reader(void *arg) {
    rwconc *s = (rwconc *)arg;
    gn_rwmutex_rlock(&s->rw);
    AADD(&s->inside, 1);
    int64_t until = gn_now() + 2 * GN_SECOND;
    while (ALOAD(&s->inside) < 5 && gn_now() < until) gn_sleep(100 * GN_MICROSECOND);
    if (ALOAD(&s->inside) >= 5) AADD(&s->all_met, 1);
    gn_rwmutex_runlock(&s->rw);
    gn_waitgroup_done(&s->wg);
}

static void rwc_body(void *arg) {
    rwconc *s = (rwconc *)arg;
    gn_rwmutex z = GN_RWMUTEX_INIT;
    s->estate_r = gn_rwmutex_runlock(&z);
    s->estate_w = gn_rwmutex_unlock(&z);
    gn_waitgroup_add(&s->wg, 5);
    for (int i = 0; i < 5; i++) gn_go(rwc_reader, s);
    gn_waitgroup_wait(&s->wg);
}

TEST rwmutex_readers_concurrent(void) {
    rwconc s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, rwc_body, &s));
    EQI(5, s.all_met);
    EQI(GN_ESTATE, s.estate_r);
    EQI(GN_ESTATE, s.estate_w);
    PASS();
}

/* A waiting writer blocks new readers: R1 reads, W waits, R2 arrives and must
 * get in only after W has written.                                              */
typedef struct {
    gn_rwmutex rw;
    gn_waitgroup wg;
    int log[3], n;
    gn_mutex logmu;
    int arrived;
} rwpref;

static void rwp_log(rwpref *s, int what) {
    gn_mutex_lock(&s->logmu);
    s->log[s->n++] = what;
    gn_mutex_unlock(&s->logmu);
}

static void rwp_writer(void *arg) {
    rwpref *s = (rwpref *)arg;
    AADD(&s->arrived, 1);
    gn_rwmutex_lock(&s->rw);
    rwp_log(s, 'W');
    gn_rwmutex_unlock(&s->rw);
    gn_waitgroup_done(&s->wg);
}

static void rwp_reader2(void *arg) {
    rwpref *s = (rwpref *)arg;
    AADD(&s->arrived, 1);
    gn_rwmutex_rlock(&s->rw);
    rwp_log(s, 'R');
    gn_rwmutex_runlock(&s->rw);
    gn_waitgroup_done(&s->wg);
}

static void rwp_body(void *arg) {
    rwpref *s = (rwpref *)arg;
    gn_waitgroup_add(&s->wg, 2);
    gn_rwmutex_rlock(&s->rw);              /* R1 */
    /* Each party is seen about to block (no switch point left before it
     * parks), then given a few milliseconds to get there.                     */
    gn_go(rwp_writer, s);
    while (ALOAD(&s->arrived) < 1) gn_sleep(100 * GN_MICROSECOND);
    gn_sleep(5 * GN_MILLISECOND);          /* W is queued behind R1 */
    gn_go(rwp_reader2, s);
    while (ALOAD(&s->arrived) < 2) gn_sleep(100 * GN_MICROSECOND);
    gn_sleep(5 * GN_MILLISECOND);          /* R2 is queued behind W */
    rwp_log(s, '1');
    gn_rwmutex_runlock(&s->rw);
    gn_waitgroup_wait(&s->wg);
}

TEST rwmutex_writer_preferred(void) {
    rwpref s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, rwp_body, &s));
    EQI(3, s.n);
    EQI('1', s.log[0]);
    EQI('W', s.log[1]);
    EQI('R', s.log[2]);
    PASS();
}

/* ---- WaitGroup ------------------------------------------------------------------- */
typedef struct {
    gn_waitgroup wg, start;
    int ran, waiters_released, neg_rc, neg_after, wait_zero;
} wgstate;

static void wg_worker(void *arg) {
    wgstate *s = (wgstate *)arg;
    gn_yield();
    AADD(&s->ran, 1);
    gn_waitgroup_done(&s->wg);
}

static void wg_waiter(void *arg) {
    wgstate *s = (wgstate *)arg;
    gn_waitgroup_wait(&s->wg);
    if (ALOAD(&s->ran) == 1000) AADD(&s->waiters_released, 1);
    gn_waitgroup_done(&s->start);
}

static void wg_body(void *arg) {
    wgstate *s = (wgstate *)arg;
    gn_waitgroup z = GN_WAITGROUP_INIT;
    gn_waitgroup_wait(&z);   /* zero: returns at once */
    s->wait_zero = 1;
    s->neg_rc = gn_waitgroup_add(&z, -1);
    s->neg_after = gn_waitgroup_add(&z, 1);   /* still 0 before: now 1 */
    gn_waitgroup_done(&z);

    gn_waitgroup_add(&s->wg, 1000);
    gn_waitgroup_add(&s->start, 3);
    for (int i = 0; i < 3; i++) gn_go(wg_waiter, s);
    for (int i = 0; i < 1000; i++) gn_go(wg_worker, s);
    gn_waitgroup_wait(&s->wg);
    gn_waitgroup_wait(&s->start);
}

TEST waitgroup_thousand(void) {
    wgstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, wg_body, &s));
    EQI(1000, s.ran);
    EQI(3, s.waiters_released);
    EQI(1, s.wait_zero);
    EQI(GN_EINVAL, s.neg_rc);
    EQI(0, s.neg_after);
    PASS();
}

/* ---- Cond ------------------------------------------------------------------------
 * A bounded queue with two conditions: producers wait while full, consumers
 * while empty; every item arrives exactly once.                                 */
#define CQ_ITEMS (20000 / g_scale)

typedef struct {
    gn_mutex mu;
    gn_cond nonempty, nonfull;
    int q[8], head, len;     /* guarded by mu */
    int64_t sum;
    int consumed, done_producing;
    gn_waitgroup producers, consumers;
} cqstate;

static void cq_producer(void *arg) {
    cqstate *s = (cqstate *)arg;
    for (int i = 1; i <= CQ_ITEMS; i++) {
        gn_mutex_lock(&s->mu);
        while (s->len == 8) gn_cond_wait(&s->nonfull, &s->mu);
        s->q[(s->head + s->len) % 8] = i;
        s->len++;
        gn_cond_signal(&s->nonempty);
        gn_mutex_unlock(&s->mu);
    }
    gn_waitgroup_done(&s->producers);
}

static void cq_consumer(void *arg) {
    cqstate *s = (cqstate *)arg;
    for (;;) {
        gn_mutex_lock(&s->mu);
        while (s->len == 0 && !s->done_producing) gn_cond_wait(&s->nonempty, &s->mu);
        if (s->len == 0) {
            gn_mutex_unlock(&s->mu);
            break;
        }
        s->sum += s->q[s->head];
        s->head = (s->head + 1) % 8;
        s->len--;
        s->consumed++;
        gn_cond_signal(&s->nonfull);
        gn_mutex_unlock(&s->mu);
    }
    gn_waitgroup_done(&s->consumers);
}

static void cq_body(void *arg) {
    cqstate *s = (cqstate *)arg;
    gn_waitgroup_add(&s->producers, 2);
    gn_waitgroup_add(&s->consumers, 3);
    for (int i = 0; i < 3; i++) gn_go(cq_consumer, s);
    for (int i = 0; i < 2; i++) gn_go(cq_producer, s);
    gn_waitgroup_wait(&s->producers);
    gn_mutex_lock(&s->mu);
    s->done_producing = 1;
    gn_cond_broadcast(&s->nonempty);
    gn_mutex_unlock(&s->mu);
    gn_waitgroup_wait(&s->consumers);
}

TEST cond_queue(void) {
    cqstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, cq_body, &s));
    EQI(2 * CQ_ITEMS, s.consumed);
    EQI(2 * ((int64_t)CQ_ITEMS * (CQ_ITEMS + 1) / 2), s.sum);
    EQI(0, s.len);
    PASS();
}

/* Signal wakes one waiter, broadcast all the others.                            */
typedef struct {
    gn_mutex mu;
    gn_cond c;
    int tickets, woken, waiting;   /* guarded by mu */
    int after_signal, after_broadcast;
    gn_waitgroup wg;
} cbstate;

static void cb_waiter(void *arg) {
    cbstate *s = (cbstate *)arg;
    gn_mutex_lock(&s->mu);
    s->waiting++;   /* under mu until cond_wait has queued us */
    while (s->tickets == 0) gn_cond_wait(&s->c, &s->mu);
    s->tickets--;
    s->woken++;
    gn_mutex_unlock(&s->mu);
    gn_waitgroup_done(&s->wg);
}

static void cb_body(void *arg) {
    cbstate *s = (cbstate *)arg;
    gn_waitgroup_add(&s->wg, 5);
    for (int i = 0; i < 5; i++) gn_go(cb_waiter, s);
    for (;;) {   /* all five are queued on the cond once they counted themselves */
        gn_mutex_lock(&s->mu);
        if (s->waiting == 5) break;
        gn_mutex_unlock(&s->mu);
        gn_sleep(100 * GN_MICROSECOND);
    }
    s->tickets = 100;   /* plenty, so only the wake-ups limit who runs */
    gn_cond_signal(&s->c);
    gn_mutex_unlock(&s->mu);
    for (int64_t until = gn_now() + 2 * GN_SECOND; gn_now() < until;) {
        gn_mutex_lock(&s->mu);
        int w = s->woken;
        gn_mutex_unlock(&s->mu);
        if (w) break;
        gn_sleep(100 * GN_MICROSECOND);
    }
    gn_sleep(5 * GN_MILLISECOND);   /* time for a wrong second wake-up to show */
    gn_mutex_lock(&s->mu);
    s->after_signal = s->woken;
    gn_cond_broadcast(&s->c);
    gn_mutex_unlock(&s->mu);
    gn_waitgroup_wait(&s->wg);
    s->after_broadcast = s->woken;
}

TEST cond_signal_broadcast(void) {
    cbstate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, cb_body, &s));
    EQI(1, s.after_signal);
    EQI(5, s.after_broadcast);
    PASS();
}

/* ---- Once ------------------------------------------------------------------------ */
typedef struct {
    gn_once once;
    gn_waitgroup wg;
    int calls, value, saw_unset;
} oncestate;

static void once_fn(void *arg) {
    oncestate *s = (oncestate *)arg;
    AADD(&s->calls, 1);
    gn_sleep(2 * GN_MILLISECOND);   /* others arrive while it runs */
    s->value = 42;
}

static void once_caller(void *arg) {
    oncestate *s = (oncestate *)arg;
    gn_once_do(&s->once, once_fn, s);
    if (s->value != 42) AADD(&s->saw_unset, 1);   /* returned before fn finished */
    gn_waitgroup_done(&s->wg);
}

static void once_body(void *arg) {
    oncestate *s = (oncestate *)arg;
    gn_waitgroup_add(&s->wg, 100);
    for (int i = 0; i < 100; i++) gn_go(once_caller, s);
    gn_waitgroup_wait(&s->wg);
    gn_once_do(&s->once, once_fn, s);
}

TEST once_racing(void) {
    oncestate s;
    memset(&s, 0, sizeof s);
    EQI(0, run_procs(2, once_body, &s));
    EQI(1, s.calls);
    EQI(42, s.value);
    EQI(0, s.saw_unset);
    PASS();
}

SUITE(sync_suite) {
    RUN_TEST(mutex_exclusion_1proc);
    RUN_TEST(mutex_exclusion_2procs);
    RUN_TEST(mutex_basics);
    RUN_TEST(mutex_with_foreign_thread);
    RUN_TEST(rwmutex_exclusion);
    RUN_TEST(rwmutex_readers_concurrent);
    RUN_TEST(rwmutex_writer_preferred);
    RUN_TEST(waitgroup_thousand);
    RUN_TEST(cond_queue);
    RUN_TEST(cond_signal_broadcast);
    RUN_TEST(once_racing);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(sync_suite);
    GREATEST_MAIN_END();
}
