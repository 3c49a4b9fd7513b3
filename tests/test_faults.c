/* test_faults.c — allocation failure: GN_MALLOC/GN_REALLOC return NULL on the
 * Nth call, and N walks over every allocation of (1) starting and stopping the
 * runtime and (2) a whole HTTP exchange on a new connection: a new client, the
 * dial, the server's accept, the request, a chunked response and the pool.
 * Each failure must give a clean error (never a crash or a hang), and the
 * server must answer the next, unfaulted exchange. The sanitizer builds check
 * that nothing leaks on any of these paths.                                   */
#define _GNU_SOURCE 1   /* system headers come before gonet.h here */
#include <stdlib.h>
#include <stddef.h>

static long g_allocs;     /* allocations since the process started (atomic)     */
static long g_fail_at;    /* fail the allocation with this number; 0: none      */
static long g_injected;   /* failures injected in all                           */

static int fault_now(void) {
    long k = __atomic_add_fetch(&g_allocs, 1, __ATOMIC_SEQ_CST);
    long at = __atomic_load_n(&g_fail_at, __ATOMIC_SEQ_CST);
    if (at == 0 || k != at) return 0;
    __atomic_add_fetch(&g_injected, 1, __ATOMIC_SEQ_CST);
    return 1;
}
static void *fault_malloc(size_t n) { return fault_now() ? NULL : malloc(n); }
static void *fault_realloc(void *p, size_t n) { return fault_now() ? NULL : realloc(p, n); }

#define GN_MALLOC(n)     fault_malloc(n)
#define GN_REALLOC(p, n) fault_realloc((p), (n))
#define GN_FREE(p)       free(p)
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"
#include "test_util.h"
#include "test_check.h"

#include <stdio.h>
#include <string.h>

/* Arms a failure n allocations from now; disarm says whether it was reached.  */
static void arm(long n) { ASTORE(&g_fail_at, ALOAD(&g_allocs) + n); }
static int disarm(void) {
    long at = ALOAD(&g_fail_at);
    ASTORE(&g_fail_at, 0);
    return ALOAD(&g_allocs) >= at;
}

/* ---- 1. the runtime's own start and stop ----------------------------------- */
static void tiny(void *arg) { (void)arg; }

static void small_world(void *arg) {
    (void)arg;
    gn_chan *c = gn_chan_new(sizeof(int), 4);
    if (c) {
        int v = 1;
        gn_chan_send(c, &v);
        gn_chan_free(c);
    }
    gn_go(tiny, NULL);
    gn_timer *t = gn_timer_new(GN_MILLISECOND);
    if (t) {
        int64_t when;
        gn_chan_recv(gn_timer_chan(t), &when);
        gn_timer_free(t);
    }
    gn_sleep(GN_MILLISECOND);
}

TEST runtime_start_survives_every_failed_allocation(void) {
    long n;
    int failures = 0;
    for (n = 1; n < 10000; n++) {
        gn_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.procs = 2;
        arm(n);
        int rc = gn_run(&cfg, small_world, NULL);
        int hit = disarm();
        if (rc != 0) {
            ASSERT_EQm("gn_run failed with something other than GN_ENOMEM", GN_ENOMEM, rc);
            failures++;
        }
        if (!hit) break;
    }
    /* It went to the end: a last run with no failure left to inject.            */
    ASSERT(n > 1 && n < 10000);
    ASSERT(failures > 0);
    printf("    runtime: %ld allocations walked, %d made gn_run fail cleanly\n", n - 1, failures);
    PASS();
}

/* ---- 2. many runnable coroutines at once ---------------------------------------
 * 3000 spawned in a row overflow the P's queue into the global one, whose ring
 * grows: a failure there must not lose a runnable coroutine.                   */
#define SPAWNS 3000
static int g_ran;
static gn_waitgroup g_spawned;

static void spawned(void *arg) {
    (void)arg;
    gn_yield();
    AADD(&g_ran, 1);
    gn_waitgroup_done(&g_spawned);
}

static void body_spawn(void *arg) {
    int *started = (int *)arg;
    *started = 0;
    ASTORE(&g_ran, 0);
    for (int i = 0; i < SPAWNS; i++) {
        gn_waitgroup_add(&g_spawned, 1);
        if (gn_go(spawned, NULL) > 0) {
            (*started)++;
        } else {
            gn_waitgroup_done(&g_spawned);
        }
    }
    gn_waitgroup_wait(&g_spawned);
    CKI(*started, ALOAD(&g_ran));
}

TEST spawn_burst_survives_every_failed_allocation(void) {
    long n;
    int short_runs = 0;
    for (n = 1; n < 10000; n++) {
        gn_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.procs = 1;
        int started = 0;
        fail_reset(NULL);
        arm(n);
        int rc = gn_run(&cfg, body_spawn, &started);
        int hit = disarm();
        if (rc != 0) ASSERT_EQm("gn_run failed with something other than GN_ENOMEM", GN_ENOMEM, rc);
        if (ALOAD(&g_fail_set)) FAILm(g_fail);
        if (rc == 0 && started < SPAWNS) short_runs++;
        if (!hit) break;
    }
    ASSERT(n > 1 && n < 10000);
    printf("    spawn: %ld allocations walked, %d runs had a spawn refused\n", n - 1, short_runs);
    PASS();
}

/* ---- 3. an HTTP exchange ------------------------------------------------------ */
#define RESP_BYTES 10000   /* more than the 4 KiB write buffer: chunked */

static gn_http_server *g_srv;   /* the server of the cycle in progress */
static gn_listener *g_ln;
static char g_url[64];

static void handler(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    char buf[256];
    int64_t total = 0, k;
    while ((k = gn_http_body_read(r, buf, sizeof buf)) > 0) total += k;
    if (k != GN_EOF || total != 4) {
        gn_http_error(w, "bad body", 400);
        return;
    }
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < RESP_BYTES / 1000; i++)
        if (gn_http_write(w, chunk, sizeof chunk) < 0) return;
}

static void serve(void *arg) {
    (void)arg;
    gn_http_serve(g_srv, g_ln);
}

/* One exchange on a new client: 0 and a complete, correct response, or the
 * error that stopped it.                                                      */
static int exchange(void) {
    gn_http_client_opts o;
    memset(&o, 0, sizeof o);
    o.timeout = 10 * GN_SECOND;
    gn_http_client *c = gn_http_client_new(&o);
    if (!c) return GN_ENOMEM;
    gn_http_client_request rq;
    memset(&rq, 0, sizeof rq);
    rq.method = "POST";
    rq.url = g_url;
    rq.body = "ping";
    rq.body_len = 4;
    gn_http_resp *r = NULL;
    int rc = gn_http_do(c, &rq, &r);
    if (rc == 0) {
        char *body = NULL;
        int64_t n = gn_http_resp_read_all(r, 1 << 20, &body);
        if (n < 0) rc = (int)n;
        else if (gn_http_resp_status(r) != 200) rc = -1000 - gn_http_resp_status(r);
        else if (n != RESP_BYTES) rc = GN_EUNEXPECTEDEOF;
        else
            for (int64_t i = 0; i < n; i++)
                if (body[i] != 'x') { rc = GN_EHTTP; break; }
        free(body);
        gn_http_resp_free(r);
    }
    gn_http_client_free(c);
    return rc;
}

static long g_http_walked, g_http_failed;
static gn_waitgroup g_served;

static void serve_done(void *arg) {
    serve(arg);
    gn_waitgroup_done(&g_served);
}

/* A whole server life around one exchange: a new server, its listener, the
 * exchange on a new connection, a graceful shutdown, the free. The first
 * failure on the way is the result; the server is always torn down.          */
static int server_cycle(void) {
    gn_http_server_opts so;
    memset(&so, 0, sizeof so);
    so.handler = handler;
    so.read_header_timeout = 2 * GN_SECOND;
    g_srv = gn_http_server_new(&so);
    if (!g_srv) return GN_ENOMEM;
    int rc = gn_listen(&g_ln, "tcp", "127.0.0.1:0");
    if (rc != 0) {
        gn_http_server_free(g_srv);
        g_srv = NULL;
        return rc;
    }
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d/", gn_listener_port(g_ln));
    gn_waitgroup_add(&g_served, 1);
    if (gn_go(serve_done, NULL) < 0) {
        gn_waitgroup_done(&g_served);
        gn_listener_close(g_ln);
        gn_http_server_free(g_srv);
        g_srv = NULL;
        return GN_ENOMEM;
    }
    rc = exchange();
    int sd = gn_http_shutdown(g_srv, gn_now() + 5 * GN_SECOND);
    CKF(sd == 0, "shutdown gave %d (%s)", sd, gn_strerror(sd));
    gn_waitgroup_wait(&g_served);
    gn_http_server_free(g_srv);
    g_srv = NULL;
    return rc;
}

static void body_http(void *arg) {
    (void)arg;
    CKI(0, server_cycle());   /* warm: the free lists hold what a steady state holds */
    long n;
    for (n = 1; n < 20000; n++) {
        arm(n);
        int rc = server_cycle();
        int hit = disarm();
        if (rc != 0) {
            g_http_failed++;
            /* A failure is an error code of ours or the kernel's, or a 5xx;
             * never a wrong body (GN_EHTTP) or a 4xx (a request misread).    */
            int status4xx = rc <= -1400 && rc > -1500;
            CKF(rc != GN_EHTTP && !status4xx, "allocation %ld: exchange gave %d (%s)", n, rc, gn_strerror(rc));
        }
        int again = server_cycle();
        CKF(again == 0, "allocation %ld failed; the next exchange gave %d (%s)", n, again, gn_strerror(again));
        if (!hit || g_fail_set) break;
    }
    g_http_walked = n - 1;
    CK(n > 1 && n < 20000);
    CK(g_http_failed > 0);
}

TEST http_exchange_survives_every_failed_allocation(void) {
    enum greatest_test_res r = run_body(1, body_http, NULL);
    printf("    http: %ld allocations walked, %ld exchanges failed cleanly\n", g_http_walked, g_http_failed);
    return r;
}

SUITE(faults) {
    RUN_TEST(runtime_start_survives_every_failed_allocation);
    RUN_TEST(spawn_burst_survives_every_failed_allocation);
    RUN_TEST(http_exchange_survives_every_failed_allocation);
    printf("    faults injected: %ld\n", ALOAD(&g_injected));
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    set_scale();
    RUN_SUITE(faults);
    GREATEST_MAIN_END();
}
