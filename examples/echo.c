/* echo.c — a TCP echo server: one coroutine per connection, plain blocking code.
 *
 * Shows: gn_listen / gn_accept / gn_go (a coroutine per connection, as a Go
 * server spawns a goroutine per conn), gn_read / gn_write, an idle timeout
 * with gn_set_read_deadline (re-armed before every read, so a connection is
 * closed after IDLE seconds without input, and gn_read returns GN_ETIMEDOUT),
 * gn_remote_addr and gn_strerror. Each connection prints a line to stderr when
 * it opens and when it closes, saying why.
 *
 *   cc -O2 examples/echo.c -o echo -pthread && ./echo [ADDR [IDLE]]
 *
 * ADDR defaults to 127.0.0.1:7000 (loopback only; ":7000" listens on every
 * interface), IDLE to 60 seconds. Try it with examples/echo_client.c:
 *   ./echo & printf 'hello\nworld\n' | ./echo_client; kill %1
 * or with `nc 127.0.0.1 7000`. Stop it with Ctrl-C.                            */
#define GONET_IMPLEMENTATION
#include "../gonet.h"

#include <stdio.h>
#include <stdlib.h>

static int64_t idle_timeout = 60 * GN_SECOND;

static void serve(void *arg) {
    gn_conn *c = (gn_conn *)arg;
    char peer[64] = "?";
    gn_remote_addr(c, peer, sizeof peer);
    fprintf(stderr, "open  %s\n", peer);

    char buf[4096];   /* on the coroutine's stack (64 KiB by default) */
    int64_t total = 0, n;
    for (;;) {
        /* Idle deadline: reset before each read, as a Go server does with
         * conn.SetReadDeadline(time.Now().Add(idle)).                       */
        gn_set_read_deadline(c, gn_now() + idle_timeout);
        n = gn_read(c, buf, sizeof buf);
        if (n < 0) break;                      /* GN_EOF, GN_ETIMEDOUT, ...  */
        int64_t w = gn_write(c, buf, (size_t)n);
        if (w < 0) { n = w; break; }
        total += n;
    }
    const char *why = n == GN_EOF       ? "closed by the client"
                    : n == GN_ETIMEDOUT ? "idle timeout"
                                        : gn_strerror((int)n);
    fprintf(stderr, "close %s: %s, %lld bytes echoed\n", peer, why, (long long)total);
    gn_close(c);
}

static void app(void *arg) {
    const char *addr = (const char *)arg;
    gn_listener *l;
    int rc = gn_listen(&l, "tcp", addr);
    if (rc < 0) {
        fprintf(stderr, "echo: listen %s: %s\n", addr, gn_strerror(rc));
        exit(1);
    }
    char bound[64] = "";
    gn_listener_addr(l, bound, sizeof bound);
    fprintf(stderr, "echo: listening on %s, idle timeout %lld s\n", bound,
            (long long)(idle_timeout / GN_SECOND));
    for (;;) {
        gn_conn *c;
        if ((rc = gn_accept(l, &c)) < 0) {
            fprintf(stderr, "echo: accept: %s\n", gn_strerror(rc));
            break;
        }
        if (gn_go(serve, c) < 0) gn_close(c);   /* out of memory: drop this one */
    }
    gn_listener_close(l);
}

int main(int argc, char **argv) {
    const char *addr = argc > 1 ? argv[1] : "127.0.0.1:7000";
    if (argc > 2 && atoi(argv[2]) > 0) idle_timeout = atoi(argv[2]) * GN_SECOND;
    return gn_main(app, (void *)addr);
}
