/* shutdown.c — graceful shutdown of an HTTP server on SIGINT or SIGTERM.
 *
 *   cc -O2 examples/shutdown.c -o shutdown -pthread && ./shutdown :8080
 *
 * Shows: gn_signal_notify (signals arrive on a channel, as with Go's
 * signal.Notify), gn_http_shutdown (stop accepting, let the requests in
 * flight finish, up to a deadline), and the Go idiom around them: the
 * serving coroutine returns GN_ECLOSED as soon as shutdown starts, and main
 * waits for the shutdown to finish before it returns, since gn_main discards
 * whatever still runs when main's coroutine returns.
 *
 * Every request takes 2 s, so there is something in flight to wait for:
 *   curl http://127.0.0.1:8080/ &  sleep 0.5; kill -TERM <pid>
 * curl still gets its answer and the server exits 0. A second signal while
 * it drains (Ctrl-C twice) exits at once with status 1.                      */
#define GONET_IMPLEMENTATION
#include "../gonet.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static gn_http_server *server;
static gn_chan *signals;    /* int: SIGINT or SIGTERM                     */
static gn_chan *drained;    /* closed once gn_http_shutdown has returned  */

static void slow(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    gn_sleep(2 * GN_SECOND);   /* parks this coroutine only */
    gn_http_set_header(w, "Content-Type", "text/plain; charset=utf-8");
    gn_http_write_string(w, "Hello after 2 s: ");
    gn_http_write_string(w, gn_http_path(r));
    gn_http_write_string(w, "\n");
}

static const char *signame(int signo) { return signo == SIGINT ? "SIGINT" : "SIGTERM"; }

/* Waits for the first signal, shuts the server down, and says how it went. */
static void on_signal(void *arg) {
    (void)arg;
    int signo;
    if (gn_chan_recv(signals, &signo) != 0) return;
    int busy = gn_http_server_conns(server);
    fprintf(stderr, "shutdown: %s, waiting for %d connection%s (10 s at most; signal again to quit now)\n",
            signame(signo), busy, busy == 1 ? "" : "s");
    int64_t t0 = gn_now();
    int rc = gn_http_shutdown(server, t0 + 10 * GN_SECOND);
    long ms = (long)((gn_now() - t0) / GN_MILLISECOND);
    if (rc == 0)
        fprintf(stderr, "shutdown: done in %ld ms, every request finished\n", ms);
    else
        fprintf(stderr, "shutdown: %s after %ld ms, the rest were cut off\n", gn_strerror(rc), ms);
    gn_chan_close(drained);
}

static void app(void *arg) {
    const char *addr = (const char *)arg;
    gn_http_server_opts opts = {0};
    opts.handler = slow;
    server = gn_http_server_new(&opts);
    signals = gn_chan_new(sizeof(int), 2);   /* a buffer: a signal never waits */
    drained = gn_chan_new(0, 0);
    if (!server || !signals || !drained) {
        fprintf(stderr, "shutdown: out of memory\n");
        exit(1);
    }
    int rc;
    if ((rc = gn_signal_notify(signals, SIGINT)) < 0 || (rc = gn_signal_notify(signals, SIGTERM)) < 0) {
        fprintf(stderr, "shutdown: gn_signal_notify: %s\n", gn_strerror(rc));
        exit(1);
    }
    gn_go(on_signal, NULL);

    fprintf(stderr, "shutdown: pid %ld, serving on %s (every answer takes 2 s)\n", (long)getpid(), addr);
    rc = gn_http_listen_and_serve(server, addr);
    if (rc != GN_ECLOSED) {   /* GN_ECLOSED: gn_http_shutdown began, as planned */
        fprintf(stderr, "shutdown: serve %s: %s\n", addr, gn_strerror(rc));
        exit(1);
    }
    /* Shutdown has begun, so on_signal has taken the first signal. Wait
     * until it is over; another signal in the meantime means "now".         */
    int again;
    gn_select_case cases[2] = {{drained, GN_RECV, NULL, 0}, {signals, GN_RECV, &again, 0}};
    if (gn_select(cases, 2) == 1) {
        fprintf(stderr, "shutdown: %s again, exiting now\n", signame(again));
        exit(1);
    }

    gn_signal_stop(signals);
    gn_http_server_free(server);
    gn_chan_free(signals);
    gn_chan_free(drained);
}

int main(int argc, char **argv) {
    const char *addr = argc > 1 ? argv[1] : ":8080";
    return gn_main(app, (void *)addr) < 0 ? 1 : 0;
}
