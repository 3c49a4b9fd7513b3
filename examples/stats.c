/* stats.c — a live page of the runtime's own figures, served by the runtime.
 *
 * Shows the mux with Go 1.22 patterns ("GET /{$}", "GET /stats",
 * "POST /load/{n}"), JSON written with gn_http_write, and gn_stats_read: the
 * page polls /stats once a second and shows coroutines, threads, switches,
 * parks, steals, timers and poller calls as they move. POST /load/N starts N
 * coroutines that sleep a random while, to watch the numbers react.
 * GET /coroutines is gn_dump's report: every coroutine, what it waits on and
 * for how long; `kill -QUIT <pid>` writes the same to stderr (quit_dump).
 *
 *   cc -O2 examples/stats.c -o stats -pthread && ./stats [ADDR]
 *
 * ADDR defaults to ":8080"; open http://127.0.0.1:8080/ in a browser, or
 *   curl -s 127.0.0.1:8080/stats; curl -s -X POST 127.0.0.1:8080/load/10000
 *   curl -s 127.0.0.1:8080/coroutines                                          */
#define GONET_IMPLEMENTATION
#include "../gonet.h"

#include <stdio.h>
#include <stdlib.h>

static const char page[] =
    "<!doctype html><html><head><meta charset=utf-8><title>gonet stats</title>\n"
    "<style>body{font:14px monospace;margin:2em}td{padding:2px 12px}"
    "td:last-child{text-align:right}</style></head><body>\n"
    "<h1>gonet runtime</h1><table id=t></table>\n"
    "<p><button onclick=\"fetch('/load/10000',{method:'POST'})\">start 10,000 sleepers</button>\n"
    "<script>\n"
    "async function tick(){const s=await (await fetch('/stats')).json();\n"
    " document.getElementById('t').innerHTML=Object.entries(s).map(([k,v])=>\n"
    "  '<tr><td>'+k+'</td><td>'+v.toLocaleString()+'</td></tr>').join('');}\n"
    "tick();setInterval(tick,1000);\n"
    "</script></body></html>\n";

static void index_page(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)r, (void)ud;
    gn_http_write(w, page, sizeof page - 1);   /* Content-Type sniffed: text/html */
}

static void stats_json(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)r, (void)ud;
    gn_stats s;
    gn_stats_read(&s);
    char buf[1024];
    int n = snprintf(buf, sizeof buf,
                     "{\"goroutines\":%lld,\"goroutines_created\":%lld,\"context_switches\":%lld,"
                     "\"parks\":%lld,\"steals\":%lld,\"procs\":%lld,\"threads\":%lld,"
                     "\"threads_idle\":%lld,\"blocking_calls\":%lld,\"handoffs\":%lld,"
                     "\"long_runners\":%lld,\"timers\":%lld,\"polls\":%lld}\n",
                     (long long)s.goroutines, (long long)s.goroutines_created,
                     (long long)s.context_switches, (long long)s.parks, (long long)s.steals,
                     (long long)s.procs, (long long)s.threads, (long long)s.threads_idle,
                     (long long)s.blocking_calls, (long long)s.handoffs, (long long)s.long_runners,
                     (long long)s.timers, (long long)s.polls);
    gn_http_set_header(w, "Cache-Control", "no-store");
    gn_http_write(w, buf, (size_t)n);          /* sniffed: application/json */
}

static int64_t write_response(void *w, const void *buf, size_t n) {
    return gn_http_write((gn_http_response *)w, buf, n);
}

static void coroutines(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)r, (void)ud;
    gn_http_set_header(w, "Content-Type", "text/plain; charset=utf-8");
    gn_http_set_header(w, "Cache-Control", "no-store");
    gn_dump(write_response, w);
}

static void sleeper(void *arg) {
    (void)arg;
    gn_sleep((int64_t)(rand() % 5000 + 500) * GN_MILLISECOND);
}

static void load(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    long n = strtol(gn_http_path_value(r, "n"), NULL, 10);
    if (n < 1 || n > 1000000) {
        gn_http_error(w, "n must be 1..1000000", 400);
        return;
    }
    for (long i = 0; i < n; i++) gn_go(sleeper, NULL);
    char msg[64];
    snprintf(msg, sizeof msg, "started %ld sleepers\n", n);
    gn_http_write_string(w, msg);
}

static void app(void *arg) {
    const char *addr = (const char *)arg;
    gn_http_mux *mux = gn_http_mux_new();
    if (!mux || gn_http_mux_handle(mux, "GET /{$}", index_page, NULL) < 0 ||
        gn_http_mux_handle(mux, "GET /stats", stats_json, NULL) < 0 ||
        gn_http_mux_handle(mux, "GET /coroutines", coroutines, NULL) < 0 ||
        gn_http_mux_handle(mux, "POST /load/{n}", load, NULL) < 0) {
        fprintf(stderr, "stats: %s\n", mux ? gn_http_mux_error(mux) : "out of memory");
        exit(1);
    }
    gn_http_server_opts opts = {0};
    opts.handler = gn_http_mux_serve;
    opts.ud = mux;
    gn_http_server *s = gn_http_server_new(&opts);
    fprintf(stderr, "stats: listening on %s\n", addr);
    int rc = gn_http_listen_and_serve(s, addr);
    fprintf(stderr, "stats: %s\n", gn_strerror(rc));
    gn_http_server_free(s);
    gn_http_mux_free(mux);
}

int main(int argc, char **argv) {
    gn_config cfg = {0};
    cfg.quit_dump = 1;   /* kill -QUIT: the coroutine dump on stderr */
    return gn_run(&cfg, app, (void *)(argc > 1 ? argv[1] : ":8080")) < 0;
}
