/* test_http_proxy.c — examples/proxy.c end to end: the example itself (its
 * main renamed) in front of two gonet backends and a dead address, driven by
 * our own client over real sockets on 127.0.0.1, with procs=2.                */
#define main proxy_example_main
#include "../examples/proxy.c"
#undef main
#include "greatest.h"
#include "test_util.h"

typedef struct backend {
    char     name[8];
    int64_t  delay;          /* before answering                                 */
    gn_http_server *s;
    gn_listener    *l;
    char     addr[64];
    gn_chan *done;
} backend;

/* Answers "<name> <method> <body bytes> <body sum> xff=<X-Forwarded-For>
 * hop=<Proxy-Authorization seen>".                                              */
static void backend_handler(gn_http_response *w, gn_http_request *r, void *ud) {
    backend *b = (backend *)ud;
    if (b->delay) gn_sleep(b->delay);
    uint64_t sum = 0, len = 0;
    unsigned char buf[8192];
    int64_t n;
    while ((n = gn_http_body_read(r, buf, sizeof buf)) > 0) {
        for (int64_t i = 0; i < n; i++) sum = sum * 31 + buf[i];
        len += (uint64_t)n;
    }
    const char *xff = gn_http_header_get(r, "X-Forwarded-For");
    char out[256];
    snprintf(out, sizeof out, "%s %s %llu %llu xff=%s hop=%d", b->name, gn_http_method(r),
             (unsigned long long)len, (unsigned long long)sum, xff ? xff : "-",
             gn_http_header_get(r, "Proxy-Authorization") != NULL);
    gn_http_set_header(w, "X-Backend", b->name);
    gn_http_write_string(w, out);
}

static void backend_serve(void *arg) {
    backend *b = (backend *)arg;
    gn_http_serve(b->s, b->l);
    gn_chan_send(b->done, NULL);
}

static int backend_start(backend *b, const char *name, int64_t delay) {
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", name);
    b->delay = delay;
    gn_http_server_opts o;
    memset(&o, 0, sizeof o);
    o.handler = backend_handler;
    o.ud = b;
    if (!(b->s = gn_http_server_new(&o)) || gn_listen(&b->l, "tcp4", "127.0.0.1:0") < 0) return -1;
    gn_listener_addr(b->l, b->addr, sizeof b->addr);
    b->done = gn_chan_new(0, 1);
    gn_go(backend_serve, b);
    return 0;
}

static void backend_stop(backend *b) {
    gn_http_shutdown(b->s, gn_now() + 2 * GN_SECOND);
    gn_chan_recv(b->done, NULL);
    gn_chan_free(b->done);
    gn_http_server_free(b->s);
}

/* A port nothing listens on: bound, then closed.                               */
static void dead_address(char *out, size_t size) {
    gn_listener *l;
    if (gn_listen(&l, "tcp4", "127.0.0.1:0") < 0) { snprintf(out, size, "127.0.0.1:1"); return; }
    gn_listener_addr(l, out, size);
    gn_listener_close(l);
}

typedef struct {
    proxy p;
    gn_http_server *s;
    gn_listener *l;
    char url[96];
    gn_chan *done;
} front;

static void front_serve(void *arg) {
    front *f = (front *)arg;
    gn_http_serve(f->s, f->l);
    gn_chan_send(f->done, NULL);
}

static int front_start(front *f, const char **backends, int n, int64_t header_timeout) {
    memset(f, 0, sizeof *f);
    for (int i = 0; i < n; i++) f->p.backends[f->p.nbackends++] = backends[i];
    f->p.header_timeout = header_timeout;
    if (!(f->s = proxy_server(&f->p)) || gn_listen(&f->l, "tcp4", "127.0.0.1:0") < 0) return -1;
    char a[64];
    gn_listener_addr(f->l, a, sizeof a);
    snprintf(f->url, sizeof f->url, "http://%s", a);
    f->done = gn_chan_new(0, 1);
    gn_go(front_serve, f);
    return 0;
}

static void front_stop(front *f) {
    gn_http_shutdown(f->s, gn_now() + 2 * GN_SECOND);
    gn_chan_recv(f->done, NULL);
    gn_chan_free(f->done);
    gn_http_server_free(f->s);
    gn_http_client_free(f->p.client);
}

typedef struct {
    int fails;
    char why[1024];
} result;

#define CHECK(res, cond, ...)                                                      \
    do {                                                                           \
        if (!(cond) && !(res)->fails++) snprintf((res)->why, sizeof (res)->why, __VA_ARGS__); \
    } while (0)

/* One request through the proxy: status and body into out (NUL-terminated).  */
static int fetch(gn_http_client *c, const char *method, const char *url, const void *body, size_t blen,
                 const gn_http_header *h, size_t nh, char *out, size_t size) {
    gn_http_client_request req;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.url = url;
    req.body = body;
    req.body_len = blen;
    req.headers = h;
    req.nheaders = nh;
    gn_http_resp *resp;
    int rc = gn_http_do(c, &req, &resp);
    if (rc < 0) return rc;
    int status = gn_http_resp_status(resp);
    char *all = NULL;
    int64_t n = gn_http_resp_read_all(resp, 1 << 20, &all);
    snprintf(out, size, "%s", n >= 0 && all ? all : "");
    free(all);
    gn_http_resp_free(resp);
    return status;
}

static void round_robin_body(void *arg) {
    result *res = (result *)arg;
    backend b1, b2;
    char dead[64];
    dead_address(dead, sizeof dead);
    if (backend_start(&b1, "b1", 0) || backend_start(&b2, "b2", 0)) { res->fails++; return; }
    const char *list[3] = {dead, b1.addr, b2.addr};
    front f;
    if (front_start(&f, list, 3, 0)) { res->fails++; return; }
    gn_http_client *c = gn_http_client_new(NULL);
    char url[160], out[512];
    snprintf(url, sizeof url, "%s/items/1?x=y", f.url);
    int seen1 = 0, seen2 = 0;
    for (int i = 0; i < 12; i++) {
        int st = fetch(c, "GET", url, NULL, 0, NULL, 0, out, sizeof out);
        CHECK(res, st == 200, "GET through the proxy: %d %.200s", st, st < 0 ? gn_strerror(st) : out);
        seen1 += strncmp(out, "b1 GET 0 0 xff=127.0.0.1 hop=0", 30) == 0;
        seen2 += strncmp(out, "b2 GET 0 0 xff=127.0.0.1 hop=0", 30) == 0;
    }
    /* The dead one refuses; its turns go to the next: both live ones serve. */
    CHECK(res, seen1 + seen2 == 12 && seen1 >= 4 && seen2 >= 4, "round robin: b1 %d, b2 %d of 12", seen1, seen2);
    /* A body streamed through, and a hop-by-hop header dropped.               */
    size_t blen = 1 << 20;
    unsigned char *body = (unsigned char *)malloc(blen);
    uint64_t sum = 0;
    for (size_t i = 0; i < blen; i++) {
        body[i] = (unsigned char)(i * 7 + 3);
        sum = sum * 31 + body[i];
    }
    gn_http_header h[1] = {{"Proxy-Authorization", 19, "Basic eDp5", 10}};
    int st = fetch(c, "POST", url, body, blen, h, 1, out, sizeof out);
    char want[128];
    snprintf(want, sizeof want, " POST %zu %llu xff=127.0.0.1 hop=0", blen, (unsigned long long)sum);
    CHECK(res, st == 200 && strstr(out, want) != NULL, "POST 1 MiB through the proxy: %d \"%.300s\", want \"%.200s\"", st, out, want);
    free(body);
    gn_http_client_free(c);
    front_stop(&f);
    backend_stop(&b1);
    backend_stop(&b2);
}

static void failures_body(void *arg) {
    result *res = (result *)arg;
    char dead1[64], dead2[64], out[512], url[160];
    dead_address(dead1, sizeof dead1);
    dead_address(dead2, sizeof dead2);
    gn_http_client *c = gn_http_client_new(NULL);
    /* Every backend down: 502.                                                  */
    const char *down[2] = {dead1, dead2};
    front f;
    if (front_start(&f, down, 2, 0)) { res->fails++; return; }
    snprintf(url, sizeof url, "%s/", f.url);
    int st = fetch(c, "GET", url, NULL, 0, NULL, 0, out, sizeof out);
    CHECK(res, st == 502, "all backends down: %d, want 502", st);
    front_stop(&f);
    /* A backend slower than the proxy's patience: 504.                          */
    backend slow;
    if (backend_start(&slow, "slow", 2 * GN_SECOND)) { res->fails++; return; }
    const char *one[1] = {slow.addr};
    if (front_start(&f, one, 1, 300 * GN_MILLISECOND)) { res->fails++; return; }
    snprintf(url, sizeof url, "%s/", f.url);
    int64_t t0 = gn_now();
    st = fetch(c, "GET", url, NULL, 0, NULL, 0, out, sizeof out);
    int64_t took = gn_now() - t0;
    CHECK(res, st == 504, "slow backend: %d, want 504", st);
    CHECK(res, took < 1500 * GN_MILLISECOND, "the 504 came after %lld ms", (long long)(took / GN_MILLISECOND));
    front_stop(&f);
    backend_stop(&slow);
    gn_http_client_free(c);
}

TEST proxy_round_robin_and_bodies(void) {
    result res;
    memset(&res, 0, sizeof res);
    EQI(0, run_procs(2, round_robin_body, &res));
    ASSERTm(res.why, res.fails == 0);
    PASS();
}

TEST proxy_bad_gateway_and_timeout(void) {
    result res;
    memset(&res, 0, sizeof res);
    EQI(0, run_procs(2, failures_body, &res));
    ASSERTm(res.why, res.fails == 0);
    PASS();
}

SUITE(proxy_suite) {
    RUN_TEST(proxy_round_robin_and_bodies);
    RUN_TEST(proxy_bad_gateway_and_timeout);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(proxy_suite);
    GREATEST_MAIN_END();
}
