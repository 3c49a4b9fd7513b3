/* test_http_alloc.c — a keep-alive request allocates nothing: the library's
 * allocator is swapped for a counting one (GN_MALLOC, GN_REALLOC, GN_FREE),
 * and the count must not move across thousands of requests on warm
 * connections, handled directly and through the mux. A real client: blocking
 * POSIX sockets on a plain thread.                                              */
#define _GNU_SOURCE 1
#include <stdlib.h>
static long g_allocs;   /* atomic */
static void *count_malloc(size_t n) { __atomic_fetch_add(&g_allocs, 1, __ATOMIC_SEQ_CST); return malloc(n); }
static void *count_realloc(void *p, size_t n) { __atomic_fetch_add(&g_allocs, 1, __ATOMIC_SEQ_CST); return realloc(p, n); }
#define GN_MALLOC(n) count_malloc(n)
#define GN_REALLOC(p, n) count_realloc((p), (n))
#define GN_FREE(p) free(p)
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int port, conns, warm, measured;
    const char *path;
    long before, after;       /* g_allocs around the measured requests            */
    int bad;                  /* responses that were not what the handler wrote   */
} load_t;

static void hello(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    const char *id = gn_http_path_value(r, "id");
    gn_http_set_header(w, "Content-Type", "text/plain");
    gn_http_write_string(w, "hello ");
    gn_http_write_string(w, id ? id : "-");
}

/* One request on fd, response read to its end; 0 if it is the expected one. */
static int roundtrip(int fd, const char *path, const char *want) {
    char req[128], buf[1024];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n) return -1;
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
        if (r <= 0) return -1;
        got += (size_t)r;
        buf[got] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        const char *cl = strstr(buf, "Content-Length: ");
        if (!cl) return -1;
        size_t len = (size_t)atoi(cl + 16);
        if (got < (size_t)(end + 4 - buf) + len) continue;
        return strncmp(buf, "HTTP/1.1 200 OK", 15) == 0 && strcmp(end + 4, want) == 0 ? 0 : -1;
    }
}

static void *client(void *arg) {
    load_t *l = (load_t *)arg;
    int fds[8];
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)l->port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char *want = strcmp(l->path, "/plain") == 0 ? "hello -" : "hello 42";
    for (int i = 0; i < l->conns; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct timeval tv = {5, 0};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fds[i], (struct sockaddr *)&a, sizeof a) != 0) l->bad++;
    }
    for (int k = 0; k < l->warm; k++)
        for (int i = 0; i < l->conns; i++) l->bad += roundtrip(fds[i], l->path, want) != 0;
    l->before = __atomic_load_n(&g_allocs, __ATOMIC_SEQ_CST);
    for (int k = 0; k < l->measured; k++)
        for (int i = 0; i < l->conns; i++) l->bad += roundtrip(fds[i], l->path, want) != 0;
    l->after = __atomic_load_n(&g_allocs, __ATOMIC_SEQ_CST);
    for (int i = 0; i < l->conns; i++) close(fds[i]);
    return NULL;
}

static void join_thread(void *arg) { pthread_join(*(pthread_t *)arg, NULL); }

typedef struct { gn_http_server *s; gn_listener *l; gn_chan *done; } srv_t;
static void serve(void *arg) {
    srv_t *s = (srv_t *)arg;
    gn_http_serve(s->s, s->l);
    gn_chan_send(s->done, NULL);
}

static void scenario(void *arg) {
    load_t *l = (load_t *)arg;
    gn_http_mux *mux = gn_http_mux_new();
    gn_http_mux_handle(mux, "GET /plain", hello, NULL);
    gn_http_mux_handle(mux, "GET /item/{id}", hello, NULL);
    gn_http_server_opts o;
    memset(&o, 0, sizeof o);
    o.handler = gn_http_mux_serve;
    o.ud = mux;
    srv_t s;
    s.s = gn_http_server_new(&o);
    if (!s.s || gn_listen(&s.l, "tcp4", "127.0.0.1:0") < 0) { l->bad = -1; return; }
    l->port = gn_listener_port(s.l);
    s.done = gn_chan_new(0, 1);
    gn_go(serve, &s);
    pthread_t t;
    pthread_create(&t, NULL, client, l);
    gn_blocking(join_thread, &t);
    gn_http_shutdown(s.s, gn_now() + GN_SECOND);
    gn_chan_recv(s.done, NULL);   /* serve has returned: the listener is freed */
    gn_chan_free(s.done);
    gn_http_server_free(s.s);
    gn_http_mux_free(mux);
}

TEST no_allocation_per_request(const char *path, int procs) {
    load_t l;
    memset(&l, 0, sizeof l);
    l.conns = 4;
    l.warm = 20;
    l.measured = 2000 / g_scale;
    l.path = path;
    EQI(0, run_procs(procs, scenario, &l));
    EQI(0, l.bad);
    /* Warm connections and pools: the requests themselves allocate nothing. The
     * runtime may still start an OS thread meanwhile (an M, with its signal
     * stack: two allocations), so allow a handful, never one per request.      */
    long allocs = l.after - l.before, requests = (long)l.measured * l.conns;
    if (allocs) fprintf(stderr, "%ld allocations in %ld requests\n", allocs, requests);
    ASSERTm("allocations grow with the requests", allocs <= 4);
    PASS();
}

SUITE(alloc_suite) {
    RUN_TESTp(no_allocation_per_request, "/plain", 1);
    RUN_TESTp(no_allocation_per_request, "/item/42", 1);
    RUN_TESTp(no_allocation_per_request, "/item/42", 2);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(alloc_suite);
    GREATEST_MAIN_END();
}
