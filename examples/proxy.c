/* proxy.c — a reverse proxy: round-robin over backends, with timeouts and a
 * retry on the next backend when one refuses the connection.
 *
 * Shows the server and the client together: each request is forwarded with a
 * shared gn_http_client (keep-alive pools per backend), its body streamed to
 * the backend and the response streamed back, never held whole in memory.
 * Hop-by-hop headers are dropped and X-Forwarded-For is added, as Go's
 * httputil.ReverseProxy does. A backend that is down costs a refused connect
 * and the request goes to the next one; one that does not answer in time gets
 * a 504, any other failure a 502.
 *
 *   cc -O2 examples/proxy.c -o proxy -pthread
 *   ./proxy 127.0.0.1:8000 127.0.0.1:8080 127.0.0.1:8081      (LISTEN BACKEND...)
 *   curl -s 127.0.0.1:8000/                                 (try it with ./hello) */
#define GONET_IMPLEMENTATION
#include "../gonet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_BACKENDS 16

typedef struct proxy {
    const char     *backends[MAX_BACKENDS];
    int             nbackends;
    uint32_t        next;           /* round-robin counter, atomic               */
    int64_t         header_timeout; /* a backend's answer: 504 after this        */
    gn_http_client *client;
} proxy;

/* RFC 9110 §7.6.1: these describe one hop, not the message.                   */
static int hop_by_hop(const char *name) {
    static const char *const hop[] = {"connection", "keep-alive", "proxy-authenticate",
                                      "proxy-authorization", "proxy-connection", "te",
                                      "trailer", "transfer-encoding", "upgrade"};
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
        if (strcasecmp(name, hop[i]) == 0) return 1;
    return 0;
}

/* Errors that mean "nobody took the connection": safe to try another backend,
 * since not a byte of the request was sent.                                    */
static int refused(int rc) {
    return rc == -ECONNREFUSED || rc == -EHOSTUNREACH || rc == -ENETUNREACH || rc == GN_ENOHOST;
}

static void forward(gn_http_response *w, gn_http_request *r, void *ud) {
    proxy *p = (proxy *)ud;
    gn_http_header hdrs[64];
    size_t n = 0;
    const gn_http_header *in;
    size_t nin = gn_http_headers(r, &in);
    for (size_t i = 0; i < nin && n < 62; i++)
        if (!hop_by_hop(in[i].name)) hdrs[n++] = in[i];
    char fwd[80];
    const char *peer = gn_http_remote_addr(r);
    if (!peer) peer = "";
    snprintf(fwd, sizeof fwd, "%.*s", (int)strcspn(peer, ":"), peer);
    hdrs[n++] = (gn_http_header){"X-Forwarded-For", 15, fwd, strlen(fwd)};

    gn_http_client_request req;
    memset(&req, 0, sizeof req);
    req.method = gn_http_method(r);
    req.headers = hdrs;
    req.nheaders = n;
    req.ctx = gn_http_request_context(r);   /* the client left: stop the exchange */
    int64_t cl = gn_http_content_length(r);
    if (cl > 0 || gn_http_header_get(r, "Transfer-Encoding")) {
        req.body_reader = gn_http_body_reader;
        req.body_ctx = r;
        req.content_length = cl > 0 ? cl : -1;
    }

    gn_http_resp *resp = NULL;
    int rc = GN_ENOHOST;
    uint32_t first = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < p->nbackends; i++) {
        const char *b = p->backends[(first + (uint32_t)i) % (uint32_t)p->nbackends];
        char url[2048];
        const char *target = gn_http_target(r);
        snprintf(url, sizeof url, "http://%s%s", b, target ? target : "/");
        req.url = url;
        rc = gn_http_do(p->client, &req, &resp);
        if (rc == 0 || !refused(rc)) break;
    }
    if (rc != 0) {
        const char *m = gn_http_method(r), *t = gn_http_target(r);
        fprintf(stderr, "proxy: %s %s: %s\n", m ? m : "?", t ? t : "?", gn_strerror(rc));
        gn_http_error(w, rc == GN_ETIMEDOUT ? "Gateway Timeout" : "Bad Gateway",
                      rc == GN_ETIMEDOUT ? 504 : 502);
        return;
    }
    const gn_http_header *out;
    size_t nout = gn_http_resp_headers(resp, &out);
    for (size_t i = 0; i < nout; i++)
        if (!hop_by_hop(out[i].name)) gn_http_add_header(w, out[i].name, out[i].value);
    gn_http_write_header(w, gn_http_resp_status(resp));
    char buf[16384];
    int64_t got;
    while ((got = gn_http_resp_read(resp, buf, sizeof buf)) > 0)
        if (gn_http_write(w, buf, (size_t)got) < 0) break;
    gn_http_resp_free(resp);
}

/* The proxy's server (and its client, in p); NULL on ENOMEM.                 */
static gn_http_server *proxy_server(proxy *p) {
    gn_http_client_opts copts;
    memset(&copts, 0, sizeof copts);
    copts.dial_timeout = 2 * GN_SECOND;
    copts.response_header_timeout = p->header_timeout ? p->header_timeout : 15 * GN_SECOND;
    copts.max_idle_per_host = 64;
    p->client = gn_http_client_new(&copts);
    gn_http_server_opts sopts;
    memset(&sopts, 0, sizeof sopts);
    sopts.handler = forward;
    sopts.ud = p;
    gn_http_server *s = p->client ? gn_http_server_new(&sopts) : NULL;
    if (!s) gn_http_client_free(p->client);
    return s;
}

static int run_proxy(proxy *p, const char *listen) {
    gn_http_server *s = proxy_server(p);
    if (!s) return GN_ENOMEM;
    int rc = gn_http_listen_and_serve(s, listen);
    gn_http_server_free(s);
    gn_http_client_free(p->client);
    return rc;
}

typedef struct { int argc; char **argv; } args;

static void app(void *arg) {
    args *a = (args *)arg;
    static proxy p;
    for (int i = 2; i < a->argc && p.nbackends < MAX_BACKENDS; i++) p.backends[p.nbackends++] = a->argv[i];
    fprintf(stderr, "proxy: %s -> %d backend(s)\n", a->argv[1], p.nbackends);
    int rc = run_proxy(&p, a->argv[1]);
    fprintf(stderr, "proxy: %s\n", gn_strerror(rc));
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LISTEN BACKEND [BACKEND...]   e.g. %s :8000 127.0.0.1:8080\n", argv[0], argv[0]);
        return 2;
    }
    args a = {argc, argv};
    return gn_main(app, &a) < 0;
}
