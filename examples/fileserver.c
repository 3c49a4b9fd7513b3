/* fileserver.c — a static file server (Go's http.FileServer) with a logging
 * middleware: serves the directory argv[2] (default ".") on argv[1] (default
 * 127.0.0.1:8080; ":8080" listens on every interface) under "/".
 *
 *   cc -O2 -o fileserver examples/fileserver.c -pthread && ./fileserver 127.0.0.1:8080 .
 *   curl -i http://127.0.0.1:8080/            (a listing, or index.html)
 *   curl -r 0-99 http://127.0.0.1:8080/README.md
 *
 * Shows: gn_http_fs_new / gn_http_fs_serve (directory listings, index.html,
 * Content-Type, Last-Modified and 304, byte ranges, HEAD; files are read
 * through gn_blocking so a slow disk never stalls other connections), and
 * middleware: a handler that wraps a handler, here printing the method, the
 * path and how long the request took. To serve under a prefix instead, use
 * the mux: gn_http_mux_handle(mux, "GET /static/", gn_http_fs_serve, fs) with
 * gn_http_fs_strip_prefix(fs, "/static").                                      */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include <stdio.h>

/* The middleware: the wrapped handler and its user data.                       */
typedef struct logged {
    gn_http_handler_func next;
    void *ud;
} logged;

static void log_requests(gn_http_response *w, gn_http_request *r, void *ud) {
    logged *l = (logged *)ud;
    int64_t start = gn_now();
    l->next(w, r, l->ud);
    /* The status is not observable through the writer: wrap it to log that too. */
    fprintf(stderr, "%s %s %s %.3f ms\n", gn_http_remote_addr(r), gn_http_method(r), gn_http_path(r),
            (double)(gn_now() - start) / (double)GN_MILLISECOND);
}

typedef struct args {
    const char *addr, *dir;
} args;

static void serve(void *arg) {
    const args *a = (const args *)arg;
    gn_http_fs *fs = gn_http_fs_new(a->dir);
    if (!fs) {
        fprintf(stderr, "fileserver: %s is not a directory we can open\n", a->dir);
        return;
    }
    logged l = {gn_http_fs_serve, fs};
    gn_http_server_opts opts = {0};
    opts.handler = log_requests;
    opts.ud = &l;
    gn_http_server *s = gn_http_server_new(&opts);
    if (!s) {
        fprintf(stderr, "fileserver: out of memory\n");
        gn_http_fs_free(fs);
        return;
    }
    fprintf(stderr, "fileserver: serving %s on http://%s/\n", a->dir, a->addr);
    int rc = gn_http_listen_and_serve(s, a->addr);
    fprintf(stderr, "fileserver: %s\n", gn_strerror(rc));
    gn_http_server_free(s);
    gn_http_fs_free(fs);
}

int main(int argc, char **argv) {
    args a = {argc > 1 ? argv[1] : "127.0.0.1:8080", argc > 2 ? argv[2] : "."};
    return gn_main(serve, &a) < 0 ? 1 : 0;
}
