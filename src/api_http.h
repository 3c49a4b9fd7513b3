/* api_http.h — HTTP/1.1 in the shape of Go's net/http: requests, the response
 * writer, handlers, the Go 1.22 mux, the server and the client.
 *
 * A handler is a function and a pointer of yours; it runs in the connection's
 * coroutine and may block (read the body, call a backend, sleep) without
 * holding up any other connection. Strings handed to a handler (method, path,
 * header values, path values) live until the handler returns; copy what you
 * keep. Nothing here is thread-safe on one request: one coroutine serves it.  */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gn_http_request  gn_http_request;
typedef struct gn_http_response gn_http_response;  /* Go's ResponseWriter            */
typedef void (*gn_http_handler_func)(gn_http_response *w, gn_http_request *r, void *ud);

/* One header field: name and value with their lengths. Parsed ones point into
 * the connection's buffer and are NUL-terminated there too.                    */
typedef struct gn_http_header {
    const char *name;
    size_t      name_len;
    const char *value;
    size_t      value_len;
} gn_http_header;

/* ---- the request ------------------------------------------------------------ */
GONET_API const char *gn_http_method(const gn_http_request *r);      /* "GET"            */
GONET_API const char *gn_http_target(const gn_http_request *r);      /* as sent: "/a%20b?x=1" */
GONET_API const char *gn_http_path(const gn_http_request *r);        /* decoded: "/a b"  */
GONET_API const char *gn_http_raw_query(const gn_http_request *r);   /* "x=1", or ""     */
GONET_API const char *gn_http_host(const gn_http_request *r);        /* Host, or ""      */
GONET_API const char *gn_http_remote_addr(const gn_http_request *r); /* "ip:port"        */
GONET_API int         gn_http_proto_minor(const gn_http_request *r); /* 0 or 1: HTTP/1.x */
/* The first value of the header name (any case), NUL-terminated, or NULL.      */
GONET_API const char *gn_http_header_get(const gn_http_request *r, const char *name);
/* All header fields, in arrival order (repeated names kept): count, and *out.  */
GONET_API size_t      gn_http_headers(const gn_http_request *r, const gn_http_header **out);
/* The wildcard {name} of the mux pattern that matched, decoded, or NULL.       */
GONET_API const char *gn_http_path_value(const gn_http_request *r, const char *name);
/* The first value of the query parameter key, decoded, into buf (NUL-terminated).
 * Returns its length, or GN_EINVAL if absent or buf is too small.              */
GONET_API int         gn_http_query_get(const gn_http_request *r, const char *key,
                                        char *buf, size_t size);
/* The content length the client declared, or -1 (chunked or none).            */
GONET_API int64_t     gn_http_content_length(const gn_http_request *r);
/* Reads the body (Content-Length or chunked, 100-continue sent on the first
 * read): > 0 bytes, GN_EOF at its end, or an error.                            */
GONET_API int64_t     gn_http_body_read(gn_http_request *r, void *buf, size_t n);
/* A context cancelled when the client goes away or the handler returns.       */
GONET_API gn_context *gn_http_request_context(gn_http_request *r);
/* The gn_read_func over the body, for gn_bufreader: pass the request as ctx.  */
GONET_API int64_t     gn_http_body_reader(void *request, void *buf, size_t n);

/* ---- the response writer ------------------------------------------------------
 * Headers may change until the first write or write_header; then they are sent.
 * A handler that writes nothing sends an empty 200. When the whole body fits in
 * the writer's buffer it goes out with a Content-Length; otherwise chunked (or,
 * for HTTP/1.0, until close). Date is added, and Content-Type is sniffed from
 * the first bytes (text/html, application/json, text/plain) when not set.   */
GONET_API int     gn_http_set_header(gn_http_response *w, const char *name, const char *value);
GONET_API int     gn_http_add_header(gn_http_response *w, const char *name, const char *value);
GONET_API int     gn_http_del_header(gn_http_response *w, const char *name);
GONET_API int     gn_http_write_header(gn_http_response *w, int status);
GONET_API int64_t gn_http_write(gn_http_response *w, const void *buf, size_t n);
GONET_API int64_t gn_http_write_string(gn_http_response *w, const char *s);
GONET_API int     gn_http_flush(gn_http_response *w);    /* send what is buffered now */
/* The status text and a plain-text body, as Go's http.Error.                   */
GONET_API int     gn_http_error(gn_http_response *w, const char *msg, int status);
/* A redirect to url with status (301, 302, 303, 307, 308), as Go's http.Redirect. */
GONET_API int     gn_http_redirect(gn_http_response *w, gn_http_request *r, const char *url, int status);
GONET_API const char *gn_http_status_text(int status);   /* "Not Found"; "" if unknown */
/* Takes the connection over (for upgrades): the server forgets its HTTP state
 * and the caller owns *out (gn_close it) and whatever is buffered (*buffered,
 * *nbuffered: bytes read past the request, valid until the handler returns). */
GONET_API int     gn_http_hijack(gn_http_response *w, gn_conn **out,
                                 const char **buffered, size_t *nbuffered);

/* ---- the mux (Go 1.22 patterns) -----------------------------------------------
 * Pattern: "[METHOD ][HOST]/path", path segments literal or {name}, a last
 * {name...} taking the rest, {$} matching only the end, a trailing "/" a
 * subtree. The most specific pattern wins; two patterns that match the same
 * requests with neither more specific are a conflict, reported at
 * registration (GN_ECONFLICT, and gn_http_mux_error says which). GET also
 * serves HEAD. No match: 404; a path that matches only for other methods: 405
 * with Allow; "/dir" when only "/dir/" is registered: a redirect.            */
typedef struct gn_http_mux gn_http_mux;
GONET_API gn_http_mux *gn_http_mux_new(void);
GONET_API void         gn_http_mux_free(gn_http_mux *m);
GONET_API int          gn_http_mux_handle(gn_http_mux *m, const char *pattern,
                                          gn_http_handler_func fn, void *ud);
GONET_API const char  *gn_http_mux_error(const gn_http_mux *m);  /* the last registration error */
/* The mux as a handler: ud is the gn_http_mux.                                 */
GONET_API void         gn_http_mux_serve(gn_http_response *w, gn_http_request *r, void *mux);

/* ---- middleware --------------------------------------------------------------------
 * A middleware is a handler that wraps a handler: a struct holding the next
 * handler and its settings is the ud. Go's http.TimeoutHandler: the wrapped
 * handler runs with a buffering writer; if it has not returned after timeout,
 * the client gets a 503 with message (or a short HTML page) at once, the
 * handler's request context is cancelled and its later writes fail with
 * GN_ETIMEDOUT. The connection goes on only once the handler has returned.
 * Flush is a no-op and hijacking is refused under it (as in Go).              */
typedef struct gn_http_timeout {
    gn_http_handler_func handler;
    void       *ud;
    int64_t     timeout;
    const char *message;             /* NULL: a short HTML "Timeout" page          */
} gn_http_timeout;
GONET_API void gn_http_timeout_serve(gn_http_response *w, gn_http_request *r, void *timeout);

/* ---- files (Go's http.FileServer, ServeFile and ServeContent) ------------------
 * Serves the files under a root directory: index.html for a directory that has
 * one, else a sorted HTML listing; "/dir" redirects to "dir/", a file asked for
 * with a trailing slash and ".../index.html" redirect as in Go (301, relative
 * Location, query kept). Content-Type from the extension (a built-in table),
 * else sniffed from the first 512 bytes; Content-Length, Last-Modified,
 * If-Modified-Since / If-Unmodified-Since / If-None-Match "*" / If-Match "*"
 * (304, 412), Range ("bytes=a-b", "a-", "-n": 206 with Content-Range; several:
 * multipart/byteranges; none satisfiable: 416 with "Content-Range: bytes STAR/size",
 * STAR being '*'), If-Range with a date, HEAD. No ETag is made. GET and HEAD
 * only: other methods get 405 with "Allow: GET, HEAD". Missing: 404;
 * unreadable, or not a regular file or directory: 403.
 * Never leaves the root: a path with a ".." element or "%00" gets 400, and a
 * symlink is followed only if its target, resolved, lies under the root's real
 * path (else 404). Opening, stat, directory reads and reads run in gn_blocking;
 * a file goes out in 64 KiB chunks with its Content-Length set first, so a
 * request holds one chunk buffer at most, whatever the file's size.          */
typedef struct gn_http_fs gn_http_fs;
/* Opens root (a directory) for serving: NULL if it is not one or on ENOMEM.
 * Free it with gn_http_fs_free once no handler can use it any more.          */
GONET_API gn_http_fs *gn_http_fs_new(const char *root);
GONET_API void        gn_http_fs_free(gn_http_fs *fs);
/* Go's http.StripPrefix for this server: request paths must start with prefix
 * ("/static"; a trailing '/' is ignored) followed by '/' or nothing, else 404;
 * the rest names the file. The bare prefix redirects to "static/". Call before
 * serving. 0, GN_EINVAL (prefix not starting with '/'), GN_ENOMEM.            */
GONET_API int         gn_http_fs_strip_prefix(gn_http_fs *fs, const char *prefix);
/* The handler: ud is the gn_http_fs. With the mux: "GET /static/" and
 * gn_http_fs_strip_prefix(fs, "/static"), or "GET /" for the whole site.     */
GONET_API void        gn_http_fs_serve(gn_http_response *w, gn_http_request *r, void *fs);
/* Go's http.ServeFile: serves the file (or directory) at path, a file-system
 * path used as given (symlinks followed, no root), with the same headers,
 * conditions and ranges. A request path with a ".." element gets 400 (for
 * handlers that build path from it). Returns the status sent (200, 206, 301,
 * 304, 4xx ...), or a negative code if the body could not be sent (the client
 * went away, the file shrank: the connection is then closed).                */
GONET_API int         gn_http_serve_file(gn_http_response *w, gn_http_request *r, const char *path);

/* ---- the server -----------------------------------------------------------------
 * One coroutine per connection. Zero in any field of the options means its
 * default; the defaults are safe for a server on the open internet (unlike
 * Go's, where zero means no timeout at all).                                    */
typedef struct gn_http_server_opts {
    gn_http_handler_func handler;     /* required                                  */
    void    *ud;
    int64_t  read_header_timeout;     /* request line and headers:   10 s           */
    int64_t  read_timeout;            /* the whole request, body too: 60 s          */
    int64_t  write_timeout;           /* from the end of the headers to the end of
                                       * the response:                 60 s         */
    int64_t  idle_timeout;            /* keep-alive wait for the next request: 120 s */
    size_t   max_header_bytes;        /* request line + headers:     16 KiB (431)   */
    int64_t  max_body_bytes;          /* a request body:             64 MiB (413);
                                       * < 0: no limit                               */
    int      max_conns;               /* connections served at once; more wait in the
                                       * listen backlog.               0: no limit   */
    size_t   write_buffer_size;       /* a response that fits goes out with a
                                       * Content-Length, in one write:  4 KiB        */
} gn_http_server_opts;

typedef struct gn_http_server gn_http_server;
GONET_API gn_http_server *gn_http_server_new(const gn_http_server_opts *opts);  /* NULL: EINVAL/ENOMEM */
/* Accepts on l and serves until gn_http_shutdown (returns GN_ECLOSED then, like
 * Go's ErrServerClosed) or an accept error. l then belongs to the server.    */
GONET_API int  gn_http_serve(gn_http_server *s, gn_listener *l);
/* Listens on addr ("host:port", ":8080") and serves.                           */
GONET_API int  gn_http_listen_and_serve(gn_http_server *s, const char *addr);
/* Graceful shutdown: stop accepting, close idle connections, let active ones
 * finish their response, and wait for them (hijacked ones too, until their
 * owner closes them) until deadline (absolute gn_now() instant, 0: no limit);
 * then close what is left. 0, or GN_ETIMEDOUT if something had to be cut.
 * A new connection counts as active until its first request, as in Go: it is
 * answered if the request comes in time, or closed at read_header_timeout. */
GONET_API int  gn_http_shutdown(gn_http_server *s, int64_t deadline);
/* After serve returned. Safe after a shutdown that timed out: a handler still
 * running then frees the server when its connection ends.                     */
GONET_API void gn_http_server_free(gn_http_server *s);
/* Connections open now (active + idle + hijacked and not yet closed).          */
GONET_API int  gn_http_server_conns(gn_http_server *s);

/* ---- the client -----------------------------------------------------------------
 * Per-host keep-alive pools: a connection whose response body was read to the
 * end goes back to its pool for the next request to the same host:port.    */
typedef struct gn_http_client_opts {
    int64_t dial_timeout;             /* 10 s                                        */
    int64_t response_header_timeout;  /* request sent -> headers received: 30 s      */
    int64_t timeout;                  /* the whole exchange, body included: 0 none  */
    int64_t idle_conn_timeout;        /* a pooled connection is closed after: 90 s   */
    int     max_idle_per_host;        /* pooled per host: 8                          */
    int     max_conns_per_host;       /* open per host (more wait): 0 no limit       */
    int     max_redirects;            /* followed (GET/HEAD, 301/302/303/307/308):
                                       * 0 none, which is the default               */
    size_t  max_header_bytes;         /* of a response head: 64 KiB                  */
} gn_http_client_opts;

typedef struct gn_http_client gn_http_client;
GONET_API gn_http_client *gn_http_client_new(const gn_http_client_opts *opts);  /* NULL: ENOMEM */
GONET_API void            gn_http_client_free(gn_http_client *c);  /* closes pooled connections */

/* A request to send. url is "http://host[:port]/path?query". The body is a
 * buffer (body, body_len) or, if body_reader is set, a stream: with
 * content_length >= 0 that many bytes, with -1 chunked.                        */
typedef struct gn_http_client_request {
    const char           *method;     /* NULL: "GET"                                 */
    const char           *url;
    const gn_http_header *headers;    /* extra fields; Host, Content-Length and
                                       * Transfer-Encoding are set for you          */
    size_t                nheaders;
    const void           *body;
    size_t                body_len;
    gn_read_func          body_reader;
    void                 *body_ctx;
    int64_t               content_length;
    gn_context           *ctx;        /* cancels the exchange; NULL: none            */
} gn_http_client_request;

typedef struct gn_http_resp gn_http_resp;
/* Sends req and reads the response head: 0 and *out, or an error (no status
 * is an error: a 404 is a response). Free *out with gn_http_resp_free.    */
GONET_API int gn_http_do(gn_http_client *c, const gn_http_client_request *req,
                         gn_http_resp **out);
GONET_API int gn_http_get(gn_http_client *c, const char *url, gn_http_resp **out);
GONET_API int         gn_http_resp_status(const gn_http_resp *r);
GONET_API const char *gn_http_resp_header(const gn_http_resp *r, const char *name);
GONET_API size_t      gn_http_resp_headers(const gn_http_resp *r,
                                               const gn_http_header **out);
GONET_API int64_t     gn_http_resp_content_length(const gn_http_resp *r); /* -1 unknown */
/* The body: > 0 bytes, GN_EOF at its end, or an error.                        */
GONET_API int64_t     gn_http_resp_read(gn_http_resp *r, void *buf, size_t n);
GONET_API int64_t     gn_http_resp_body_reader(void *response, void *buf, size_t n);
/* Reads the whole body into a fresh GN_MALLOC'd buffer (NUL after it), at most
 * max bytes (GN_ETOOLARGE beyond). Returns its length.                        */
GONET_API int64_t     gn_http_resp_read_all(gn_http_resp *r, size_t max, char **out);
/* Releases the response; its connection goes back to the pool if the body was
 * read to the end, else it is closed.                                          */
GONET_API void        gn_http_resp_free(gn_http_resp *r);

#ifdef __cplusplus
}
#endif
