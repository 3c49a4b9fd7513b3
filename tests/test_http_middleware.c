/* test_http_middleware.c — handlers that wrap handlers: the timeout middleware
 * (Go's http.TimeoutHandler) and a logging wrapper, over real sockets with our
 * own client, procs=2.                                                        */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"
#include "test_util.h"

#include <stdio.h>

typedef struct {
    int fails;
    char why[512];
    int slow_ctx_err, slow_write;   /* what the slow handler saw after the timeout */
    int logged;
} result;

static result *g_res;

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond) && !g_res->fails++) snprintf(g_res->why, sizeof g_res->why, __VA_ARGS__); \
    } while (0)

static void fast(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)r, (void)ud;
    gn_http_set_header(w, "X-Inner", "yes");
    gn_http_write_header(w, 201);
    gn_http_write_string(w, "made in time");
}

static void slow(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    gn_context *ctx = gn_http_request_context(r);
    gn_select_case c = {gn_context_done(ctx), GN_RECV, NULL, 0};
    gn_select_until(&c, 1, gn_now() + 3 * GN_SECOND);   /* cancelled at the timeout */
    g_res->slow_ctx_err = gn_context_err(ctx);
    /* The context's deadline and the middleware's are the same instant: give
     * the middleware time to declare the timeout (Go has the same race).     */
    gn_sleep(100 * GN_MILLISECOND);
    g_res->slow_write = (int)gn_http_write_string(w, "too late");
}

/* A logging middleware: the next handler and a counter.                        */
typedef struct { gn_http_handler_func next; void *ud; } logmw;
static void logging(gn_http_response *w, gn_http_request *r, void *ud) {
    logmw *m = (logmw *)ud;
    __atomic_fetch_add(&g_res->logged, 1, __ATOMIC_SEQ_CST);
    m->next(w, r, m->ud);
}

typedef struct { gn_http_server *s; gn_listener *l; gn_chan *done; } srv_t;
static void serve(void *arg) {
    srv_t *s = (srv_t *)arg;
    gn_http_serve(s->s, s->l);
    gn_chan_send(s->done, NULL);
}

static int get(gn_http_client *c, const char *url, int *status, char *body, size_t size, char *inner, size_t isize) {
    gn_http_resp *resp;
    int rc = gn_http_get(c, url, &resp);
    if (rc < 0) return rc;
    *status = gn_http_resp_status(resp);
    const char *x = gn_http_resp_header(resp, "X-Inner");
    snprintf(inner, isize, "%s", x ? x : "");
    char *all = NULL;
    int64_t n = gn_http_resp_read_all(resp, 65536, &all);
    snprintf(body, size, "%s", n >= 0 && all ? all : "");
    free(all);
    gn_http_resp_free(resp);
    return 0;
}

static void scenario(void *arg) {
    (void)arg;
    static gn_http_timeout t_fast = {fast, NULL, 2 * GN_SECOND, NULL};
    static gn_http_timeout t_slow = {slow, NULL, 200 * GN_MILLISECOND, "slow down"};
    static logmw lm = {gn_http_timeout_serve, &t_fast};
    gn_http_mux *mux = gn_http_mux_new();
    gn_http_mux_handle(mux, "GET /fast", logging, &lm);
    gn_http_mux_handle(mux, "GET /slow", gn_http_timeout_serve, &t_slow);
    gn_http_server_opts o;
    memset(&o, 0, sizeof o);
    o.handler = gn_http_mux_serve;
    o.ud = mux;
    srv_t s;
    s.s = gn_http_server_new(&o);
    s.done = gn_chan_new(0, 1);
    if (!s.s || gn_listen(&s.l, "tcp4", "127.0.0.1:0") < 0) {
        CHECK(0, "server setup");
        return;
    }
    char addr[64], url[128], body[256], inner[32];
    gn_listener_addr(s.l, addr, sizeof addr);
    gn_go(serve, &s);
    gn_http_client *c = gn_http_client_new(NULL);
    int status = 0;
    snprintf(url, sizeof url, "http://%s/fast", addr);
    CHECK(get(c, url, &status, body, sizeof body, inner, sizeof inner) == 0, "GET /fast failed");
    CHECK(status == 201 && strcmp(body, "made in time") == 0 && strcmp(inner, "yes") == 0,
          "in time: %d \"%s\" X-Inner \"%s\"", status, body, inner);
    CHECK(g_res->logged == 1, "the logging wrapper ran %d times", g_res->logged);
    snprintf(url, sizeof url, "http://%s/slow", addr);
    int64_t t0 = gn_now();
    CHECK(get(c, url, &status, body, sizeof body, inner, sizeof inner) == 0, "GET /slow failed");
    int64_t took = gn_now() - t0;
    CHECK(status == 503 && strcmp(body, "slow down") == 0, "timed out: %d \"%s\"", status, body);
    CHECK(took < 2 * GN_SECOND, "the 503 took %lld ms", (long long)(took / GN_MILLISECOND));
    CHECK(g_res->slow_ctx_err != 0, "the slow handler's context was not cancelled");
    CHECK(g_res->slow_write == GN_ETIMEDOUT, "a write after the timeout: %d", g_res->slow_write);
    /* The connection (or the pool) still serves.                               */
    snprintf(url, sizeof url, "http://%s/fast", addr);
    CHECK(get(c, url, &status, body, sizeof body, inner, sizeof inner) == 0 && status == 201,
          "after a timeout: %d", status);
    gn_http_client_free(c);
    gn_http_shutdown(s.s, gn_now() + 2 * GN_SECOND);
    gn_chan_recv(s.done, NULL);
    gn_chan_free(s.done);
    gn_http_server_free(s.s);
    gn_http_mux_free(mux);
}

TEST timeout_middleware(void) {
    result res;
    memset(&res, 0, sizeof res);
    g_res = &res;
    EQI(0, run_procs(2, scenario, NULL));
    ASSERTm(res.why, res.fails == 0);
    PASS();
}

SUITE(middleware_suite) { RUN_TEST(timeout_middleware); }

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(middleware_suite);
    GREATEST_MAIN_END();
}
