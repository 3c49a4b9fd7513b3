/* test_limits.c — the runtime's bounds: with GN_MAX_THREADS set low, many
 * coroutines in blocking calls at once still all finish, on no more OS threads
 * than the limit (a P waits for a thread instead of the program aborting).    */
#define GN_MAX_THREADS 4
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"
#include "test_util.h"
#include "test_check.h"

#ifdef _WIN32
#  include <windows.h>
static void nap_ms(int ms) { Sleep((DWORD)ms); }
#else
#  include <time.h>
static void nap_ms(int ms) {
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}
#endif

#define BLOCKERS 24
static int g_done;
static int g_max_threads;
static gn_waitgroup g_wg;

static void nap(void *arg) { (void)arg; nap_ms(20); }

static void blocker(void *arg) {
    (void)arg;
    gn_blocking(nap, NULL);   /* holds its thread 20 ms: the P is handed on */
    gn_stats st;
    gn_stats_read(&st);
    for (int cur = ALOAD(&g_max_threads); st.threads > cur; cur = ALOAD(&g_max_threads))
        if (__atomic_compare_exchange_n(&g_max_threads, &cur, (int)st.threads, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            break;
    AADD(&g_done, 1);
    gn_waitgroup_done(&g_wg);
}

static void body_threads(void *arg) {
    (void)arg;
    gn_waitgroup_add(&g_wg, BLOCKERS);
    for (int i = 0; i < BLOCKERS; i++) CK(gn_go(blocker, NULL) > 0);
    gn_waitgroup_wait(&g_wg);
    CKI(BLOCKERS, ALOAD(&g_done));
    CKF(ALOAD(&g_max_threads) <= GN_MAX_THREADS, "%d threads with GN_MAX_THREADS %d",
        ALOAD(&g_max_threads), GN_MAX_THREADS);
}

TEST blocking_calls_stay_under_max_threads(void) { return run_body(2, body_threads, NULL); }

SUITE(limits) { RUN_TEST(blocking_calls_stay_under_max_threads); }

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    set_scale();
    RUN_SUITE(limits);
    GREATEST_MAIN_END();
}
