/* hello.c — the smallest useful HTTP server: "Hello, World!" on GET /.
 *
 *   cc -O2 -o hello examples/hello.c -pthread && ./hello :8080
 *   curl http://127.0.0.1:8080/
 *
 * One coroutine per connection on all CPUs; keep-alive and pipelining work
 * out of the box, and the server's timeouts are safe defaults.               */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include <stdio.h>

static void hello(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    if (strcmp(gn_http_path(r), "/") != 0) {
        gn_http_error(w, "404 page not found", 404);
        return;
    }
    gn_http_set_header(w, "Content-Type", "text/plain; charset=utf-8");
    gn_http_write_string(w, "Hello, World!\n");
}

static void serve(void *arg) {
    const char *addr = (const char *)arg;
    gn_http_server_opts opts = {0};
    opts.handler = hello;
    gn_http_server *s = gn_http_server_new(&opts);
    if (!s) {
        fprintf(stderr, "hello: out of memory\n");
        return;
    }
    fprintf(stderr, "hello: listening on %s\n", addr);
    int rc = gn_http_listen_and_serve(s, addr);
    fprintf(stderr, "hello: %s\n", gn_strerror(rc));
    gn_http_server_free(s);
}

int main(int argc, char **argv) {
    const char *addr = argc > 1 ? argv[1] : ":8080";
    return gn_main(serve, (void *)addr) < 0 ? 1 : 0;
}
