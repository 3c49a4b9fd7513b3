/* http_client.c — the HTTP/1.1 client: gn_http_do, the response it hands back,
 * and per-host pools of keep-alive connections (Go's http.Client and Transport,
 * simplified: no proxies, no TLS, no HTTP/2, no transparent gzip, no cookies).
 *
 * One allocation per connection, none per request. A pooled connection (a
 * gn__cl_conn) owns its read buffer, write buffer, header array and the
 * gn_http_resp itself: the response a caller gets IS its connection's, parsed
 * in place (http_parse.c's zero-copy head), so a keep-alive request costs no
 * malloc, and gn_http_resp_free is what gives the connection back. That is
 * also why a response holds its connection until it is freed, even after its
 * body has ended.
 *
 * Pools. Idle connections are kept per "host:port", newest first (LIFO): the
 * most recently used one is the least likely to have hit the server's idle
 * timeout, and the older ones age out. Every idle connection is also on one
 * client-wide list in the order it went idle, so expiry (idle_conn_timeout)
 * sweeps the oldest end of that list whenever any pool is touched, and the
 * client frees what is left. No timer: an idle client then costs nothing and
 * nothing fires against memory the caller is freeing; the price is that a
 * connection to a host nobody asks for again stays open until the client is
 * used or freed (the server's own idle timeout usually closes its end first).
 *
 * Slots. With max_conns_per_host, each open connection (idle, busy or being
 * dialled) holds a slot of its host. A request that finds no idle connection
 * and no free slot queues FIFO; a connection that goes idle, or a slot that
 * frees, is handed to the first waiter directly rather than to whoever takes
 * the lock next, so a waiter cannot starve behind newcomers. The hand-off
 * sends on the waiter's one-slot channel while holding the client's mutex, so a
 * waiter that gives up (timeout, cancel) and frees its channel after taking
 * the mutex never races a sender. The mutex is a gn_mutex (it parks, never
 * spins) held only for list work: connections are closed after it is dropped.
 *
 * Cancellation. Deadlines do the work: opts.timeout and the context's deadline
 * become the connection's deadlines, response_header_timeout its read deadline
 * while the head is awaited. A context cancel needs a watcher: a coroutine per
 * exchange (only when the context can be cancelled) that moves the
 * connection's deadlines into the past: context.c's gn__ctxwatch, as the dialer
 * uses. Every deadline change goes through the watch's lock, so a later
 * deadline cannot undo a cancel; the exchange stops the watch, which waits
 * until the watcher has left its select (the caller may free the context
 * next), before the connection is closed or pooled.
 *
 * Stale connections. A server closes keep-alive connections on its own idle
 * timer. One it closed while ours sat in the pool is dropped when taken out:
 * the poller has recorded the hang-up (EPOLLRDHUP), so this costs no system
 * call, and a POST is not sent into a dead connection (Go gets the same from a
 * read loop per connection). That leaves the race where the server closes as
 * the request arrives, seen only when the request is written or the head read.
 * Retries (Go's rule, widened to PUT and DELETE as RFC 9110 §9.2.2 allows): if
 * that fails on a reused connection with EOF, a reset or a broken pipe before
 * any byte of a response arrived, a request that is idempotent (GET HEAD
 * OPTIONS TRACE PUT DELETE, or one with an Idempotency-Key) and replayable (no
 * body, or a buffer) is sent once more, on a fresh connection dialled into the
 * same slot. A streamed body is never sent twice: the caller sees the error.
 *
 * Lifetime. Each connection holds a reference on the client; gn_http_client_free
 * closes the idle ones and the client goes when the last response is freed.
 * Free responses and the client while the runtime runs, from coroutines.
 *
 * >>http-client                                                                  */

#define GN__CL_DIAL_TIMEOUT   (10 * GN_SECOND)
#define GN__CL_HEADER_TIMEOUT (30 * GN_SECOND)
#define GN__CL_IDLE_TIMEOUT   (90 * GN_SECOND)
#define GN__CL_MAX_IDLE       8
#define GN__CL_MAX_HEAD       (64 * 1024)
#define GN__CL_RBUF           4096        /* a connection's first read buffer         */
#define GN__CL_ROOM           1024        /* at least this much buffer after a head,
                                             for the body; else it grows by RBUF   */
#define GN__CL_DIRECT         2048        /* a body read this large, with nothing
                                             buffered, goes straight to the caller   */
#define GN__CL_CHUNK          (32 * 1024) /* read from a body_reader at a time        */
#define GN__CL_NHDRS          32          /* header slots to start with; grows        */
#define GN__CL_MAX_1XX        5           /* interim responses skipped, as Go         */
#define GN__CL_DRAIN          (4 * 1024)  /* a redirect's body read so its connection
                                             can be reused (Go: 2 KiB)               */
#define GN__CL_BUCKETS        64
#define GN__CL_HOST_MAX       255

typedef struct gn__cl_conn   gn__cl_conn;
typedef struct gn__cl_host   gn__cl_host;
typedef struct gn__cl_waiter gn__cl_waiter;

struct gn_http_resp {
    gn__cl_conn  *pc;           /* the connection this response lives in            */
    gn__http_head h;            /* strings point into pc->buf                      */
    gn__chunked   ck;
    int64_t       left;         /* GN__HTTP_BODY_LENGTH: body bytes still to come   */
    size_t        rpos, rend;   /* body bytes buffered: pc->buf[rpos, rend)         */
    int           kind;         /* GN__HTTP_BODY_*                                  */
    int           head_req;     /* answers a HEAD                                   */
    int           done;         /* the body has ended                               */
    int           err;          /* sticky body error                                */
    int           reusable;     /* the head allows the connection to be reused     */
};

struct gn__cl_conn {
    gn_http_resp    resp;
    gn_http_client *cl;
    gn__cl_host    *host;
    gn_conn        *conn;       /* NULL: a slot whose connection is still to dial  */
    gn__cl_conn    *hnext, *hprev;   /* the host's idle list, newest first         */
    gn__cl_conn    *lnext, *lprev;   /* the client's idle list: lnext is older     */
    gn__ctxwatch   *watch;      /* the context watch of the exchange, or NULL      */
    int64_t         idle_at;
    int64_t         rdl, wdl;   /* the deadlines set on conn                       */
    int             uses;       /* responses this connection has carried           */
    char           *buf, *wbuf;
    size_t          cap, wcap;
    gn_http_header *hdrs;
    size_t          hcap;
};

/* A request parked for a slot; lives on its stack. pc is set by the hand-off.  */
struct gn__cl_waiter {
    gn__cl_waiter *next, *prev;
    gn_chan       *ch;          /* capacity 1: the wake-up                          */
    gn__cl_conn   *pc;
};

struct gn__cl_host {
    gn__cl_host   *next;        /* hash chain                                       */
    gn__cl_conn   *idle;
    gn__cl_waiter *wfirst, *wlast;
    int            nidle, nconns;
    char           key[];       /* "host:port", host in lower case                  */
};

struct gn_http_client {
    gn_http_client_opts o;      /* defaults filled in                               */
    gn_mutex     mu;
    gn__cl_host *hosts[GN__CL_BUCKETS];
    gn__cl_conn *lru_new, *lru_old;
    int          npc;           /* gn__cl_conns alive, each a reference             */
    int          freed;
};

/* ---- URLs ---------------------------------------------------------------------- */
typedef struct gn__cl_url {
    const char *auth;   size_t auth_len;     /* "host[:port]" as written: Host      */
    const char *host;   size_t host_len;     /* brackets kept for IPv6              */
    const char *target; size_t target_len;   /* path and query, no fragment; may be
                                                empty or start with '?' ("/" added) */
    char addr[GN__CL_HOST_MAX + 8];          /* "host:port" to dial: the pool key   */
} gn__cl_url;

/* The length of a scheme followed by ':' at the start of s, or 0.               */
GN__PRIVATE size_t gn__cl_scheme_len(const char *s) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return 0;
    size_t i = 1;
    while (GN__HC(s[i], GN__HC_SCHEME)) i++;
    return s[i] == ':' ? i : 0;
}

/* "http://host[:port][/path][?query][#fragment]". https is GN_ENOSYS: there is
 * no TLS in this library (put a TLS-terminating proxy in front, or use another
 * client); any other scheme, userinfo, a bad host or port, or a control byte
 * is GN_EINVAL. The fragment is not sent, as in Go.                             */
GN__PRIVATE int gn__cl_parse_url(const char *url, gn__cl_url *u) {
    if (!url) return GN_EINVAL;
    size_t sl = gn__cl_scheme_len(url);
    if (!sl || strncmp(url + sl, "://", 3) != 0) return GN_EINVAL;
    if (sl == 5 && gn__http_ieq(url, "https", 5)) return GN_ENOSYS;
    if (sl != 4 || !gn__http_ieq(url, "http", 4)) return GN_EINVAL;
    const char *a = url + sl + 3, *p = a;
    while (*p && *p != '/' && *p != '?' && *p != '#') p++;
    size_t al = (size_t)(p - a);
    /* '@' is no host byte, so userinfo fails here too.                          */
    if (al == 0 || !gn__http_valid_host(a, al, 1)) return GN_EINVAL;
    const char *he = a;
    if (*a == '[') he = (const char *)memchr(a, ']', al) + 1;
    else
        while (he < p && *he != ':') he++;
    size_t hl = (size_t)(he - a);
    if (hl > GN__CL_HOST_MAX) return GN_EINVAL;
    unsigned port = 80;
    if (he < p && he + 1 < p) {   /* "host:" alone means the default port, as Go  */
        port = 0;
        for (const char *d = he + 1; d < p; d++) {
            port = port * 10 + (unsigned)(*d - '0');
            if (port > 65535) return GN_EINVAL;
        }
        if (port == 0) return GN_EINVAL;
    }
    const char *te = p;
    for (; *te && *te != '#'; te++) {
        unsigned char ch = (unsigned char)*te;
        if (ch < 0x20 || ch == 0x7f) return GN_EINVAL;
    }
    u->auth = a;
    u->auth_len = al;
    u->host = a;
    u->host_len = hl;
    u->target = p;
    u->target_len = (size_t)(te - p);
    for (size_t i = 0; i < hl; i++) u->addr[i] = (char)gn__http_lower((unsigned char)a[i]);
    snprintf(u->addr + hl, sizeof u->addr - hl, ":%u", port);
    return 0;
}

/* RFC 3986 §5.2.4: removes "." and ".." segments of in[0, n) into out (n bytes
 * suffice: the result is never longer). in is scribbled on. Returns the length. */
GN__PRIVATE size_t gn__cl_dots(char *in, size_t n, char *out) {
    size_t i = 0, o = 0;
    while (i < n) {
        size_t rem = n - i;
        const char *s = in + i;
        if (rem >= 3 && memcmp(s, "../", 3) == 0) { i += 3; continue; }
        if (rem >= 2 && memcmp(s, "./", 2) == 0) { i += 2; continue; }
        if (rem >= 3 && memcmp(s, "/./", 3) == 0) { i += 2; continue; }
        if (rem == 2 && memcmp(s, "/.", 2) == 0) { in[++i] = '/'; continue; }
        int up = rem >= 4 && memcmp(s, "/../", 4) == 0;
        if (up || (rem == 3 && memcmp(s, "/..", 3) == 0)) {
            /* "/../x" goes on as "/x", a final "/.." as "/"; drop a segment.      */
            i += up ? 3 : 2;
            in[i] = '/';
            while (o > 0 && out[o - 1] != '/') o--;
            if (o > 0) o--;
            continue;
        }
        if ((rem == 1 && s[0] == '.') || (rem == 2 && s[0] == '.' && s[1] == '.')) break;
        size_t j = i + (in[i] == '/');
        while (j < n && in[j] != '/') j++;
        memcpy(out + o, in + i, j - i);
        o += j - i;
        i = j;
    }
    return o;
}

/* Resolves a Location against the request's URL (RFC 3986 §5.2) into a fresh
 * GN_MALLOC'd absolute URL. *rel: the reference named no host.                 */
GN__PRIVATE int gn__cl_resolve(const gn__cl_url *b, const char *loc, char **out, int *rel) {
    size_t ll = strcspn(loc, "#");
    size_t sl = gn__cl_scheme_len(loc);
    int net = ll >= 2 && loc[0] == '/' && loc[1] == '/';
    *rel = !(sl && sl < ll) && !net;
    size_t size = 8 + b->auth_len + b->target_len + ll + 2;
    char *r = (char *)GN_MALLOC(size);
    if (!r) return GN_ENOMEM;
    size_t o = 0;
    if (!*rel) {
        if (net) {
            memcpy(r, "http:", 5);
            o = 5;
        }
        memcpy(r + o, loc, ll);
        r[o + ll] = 0;
        *out = r;
        return 0;
    }
    memcpy(r, "http://", 7);
    memcpy(r + 7, b->auth, b->auth_len);
    o = 7 + b->auth_len;
    size_t bpl = strcspn(b->target, "?");   /* the base path                       */
    if (bpl > b->target_len) bpl = b->target_len;
    if (ll == 0 || loc[0] == '?') {
        if (bpl == 0) r[o++] = '/';
        memcpy(r + o, b->target, bpl);
        o += bpl;
        if (ll) memcpy(r + o, loc, ll);
        else memcpy(r + o, b->target + bpl, b->target_len - bpl);
        o += ll ? ll : b->target_len - bpl;
        r[o] = 0;
        *out = r;
        return 0;
    }
    size_t lpl = strcspn(loc, "?");
    if (lpl > ll) lpl = ll;
    char *merged = (char *)GN_MALLOC(bpl + lpl + 2);
    if (!merged) {
        GN_FREE(r);
        return GN_ENOMEM;
    }
    size_t m = 0;
    if (loc[0] != '/') {   /* relative path: the base's directory, then loc      */
        size_t dir = bpl;
        while (dir > 0 && b->target[dir - 1] != '/') dir--;
        if (dir == 0) merged[m++] = '/';
        memcpy(merged + m, b->target, dir);
        m += dir;
    }
    memcpy(merged + m, loc, lpl);
    m += lpl;
    o += gn__cl_dots(merged, m, r + o);
    GN_FREE(merged);
    memcpy(r + o, loc + lpl, ll - lpl);
    o += ll - lpl;
    r[o] = 0;
    *out = r;
    return 0;
}

/* ---- the request, checked ------------------------------------------------------- */
typedef struct gn__cl_req {
    const char *method;  size_t method_len;
    gn__cl_url u;
    const gn_http_header *hdrs;
    size_t nhdrs;
    size_t hbytes;                /* the caller's header lines, for sizing           */
    const char *host_hdr;         /* the caller's Host value, or NULL                */
    size_t host_hdr_len;
    const void *body;
    size_t body_len;
    gn_read_func reader;
    void *rctx;
    int64_t clen;                 /* with reader: >= 0 a length, -1 chunked         */
    int head, connect, close, idem_key;
    int use_host;                 /* send host_hdr instead of the URL's authority    */
    int strip;                    /* a redirect to another host: drop credentials    */
} gn__cl_req;

GN__PRIVATE size_t gn__cl_nlen(const gn_http_header *f) {
    return f->name_len ? f->name_len : strlen(f->name);
}
GN__PRIVATE size_t gn__cl_vlen(const gn_http_header *f) {
    return f->value_len ? f->value_len : f->value ? strlen(f->value) : 0;
}

#define GN__CL_IS(p, n, word) GN__HTTP_IS((p), (n), word)

/* Headers the caller may not frame the message with; we do.                   */
GN__PRIVATE int gn__cl_framing(const char *n, size_t l) {
    return GN__CL_IS(n, l, "content-length") || GN__CL_IS(n, l, "transfer-encoding");
}
/* Credentials that Go does not forward to another host on a redirect.        */
GN__PRIVATE int gn__cl_sensitive(const char *n, size_t l) {
    return GN__CL_IS(n, l, "authorization") || GN__CL_IS(n, l, "www-authenticate") ||
           GN__CL_IS(n, l, "cookie") || GN__CL_IS(n, l, "cookie2") ||
           GN__CL_IS(n, l, "proxy-authorization");
}

GN__PRIVATE int gn__cl_is_token(const char *p, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (!GN__HC(p[i], GN__HC_TCHAR)) return 0;
    return 1;
}

/* Checks the caller's request and fills rq. Field names must be tokens and
 * values free of CR, LF and NUL (no header injection); a zero name_len or
 * value_len means strlen.                                                       */
GN__PRIVATE int gn__cl_prepare(gn__cl_req *rq, const gn_http_client_request *req) {
    memset(rq, 0, sizeof *rq);
    rq->method = req->method ? req->method : "GET";
    rq->method_len = strlen(rq->method);
    if (!gn__cl_is_token(rq->method, rq->method_len)) return GN_EINVAL;
    int rc = gn__cl_parse_url(req->url, &rq->u);
    if (rc) return rc;
    if (req->nheaders && !req->headers) return GN_EINVAL;
    rq->hdrs = req->headers;
    rq->nhdrs = req->nheaders;
    for (size_t i = 0; i < rq->nhdrs; i++) {
        const gn_http_header *f = &rq->hdrs[i];
        if (!f->name || (!f->value && f->value_len)) return GN_EINVAL;
        size_t nl = gn__cl_nlen(f), vl = gn__cl_vlen(f);
        if (!gn__cl_is_token(f->name, nl)) return GN_EINVAL;
        for (size_t k = 0; k < vl; k++)
            if (!GN__HC(f->value[k], GN__HC_VALUE)) return GN_EINVAL;
        rq->hbytes += nl + vl + 4;
        if (GN__CL_IS(f->name, nl, "host")) {
            if (!gn__http_valid_host(f->value, vl, 1)) return GN_EINVAL;
            rq->host_hdr = f->value;
            rq->host_hdr_len = vl;
        } else if (GN__CL_IS(f->name, nl, "connection")) {
            gn__http_list l;
            const char *el;
            size_t en;
            gn__http_list_init(&l, f->value ? f->value : "", vl);
            while (gn__http_list_next(&l, &el, &en))
                if (GN__CL_IS(el, en, "close")) rq->close = 1;
        } else if (GN__CL_IS(f->name, nl, "idempotency-key") ||
                   GN__CL_IS(f->name, nl, "x-idempotency-key")) {
            rq->idem_key = 1;
        }
    }
    rq->use_host = rq->host_hdr != NULL;
    if (req->body_reader) {
        if (req->body || req->body_len || req->content_length < -1) return GN_EINVAL;
        rq->reader = req->body_reader;
        rq->rctx = req->body_ctx;
        rq->clen = req->content_length;
    } else {
        if (req->body_len && !req->body) return GN_EINVAL;
        rq->body = req->body;
        rq->body_len = req->body_len;
    }
    rq->head = strcmp(rq->method, "HEAD") == 0;
    rq->connect = strcmp(rq->method, "CONNECT") == 0;
    return 0;
}

/* May go out twice: no streamed body, and idempotent.                           */
GN__PRIVATE int gn__cl_retryable(const gn__cl_req *rq) {
    if (rq->reader) return 0;
    static const char *const idem[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
    for (size_t i = 0; i < sizeof idem / sizeof idem[0]; i++)
        if (strcmp(rq->method, idem[i]) == 0) return 1;
    return rq->idem_key;
}

/* ---- the pool ------------------------------------------------------------------- */
GN__PRIVATE gn__cl_host **gn__cl_slot(gn_http_client *c, const char *key) {
    uint32_t x = 2166136261u;
    for (const char *p = key; *p; p++) x = (x ^ (unsigned char)*p) * 16777619u;
    gn__cl_host **s = &c->hosts[x & (GN__CL_BUCKETS - 1)];
    while (*s && strcmp((*s)->key, key) != 0) s = &(*s)->next;
    return s;
}

/* Under mu: a host with nothing open and nobody waiting goes.                  */
GN__PRIVATE void gn__cl_host_gc(gn_http_client *c, gn__cl_host *h) {
    if (h->nconns || h->wfirst) return;
    gn__cl_host **s = gn__cl_slot(c, h->key);
    if (*s == h) {
        *s = h->next;
        GN_FREE(h);
    }
}

GN__PRIVATE void gn__cl_idle_push(gn_http_client *c, gn__cl_conn *pc) {
    gn__cl_host *h = pc->host;
    pc->hprev = NULL;
    pc->hnext = h->idle;
    if (h->idle) h->idle->hprev = pc;
    h->idle = pc;
    h->nidle++;
    pc->lprev = NULL;
    pc->lnext = c->lru_new;
    if (c->lru_new) c->lru_new->lprev = pc;
    else c->lru_old = pc;
    c->lru_new = pc;
}

GN__PRIVATE void gn__cl_idle_unlink(gn_http_client *c, gn__cl_conn *pc) {
    gn__cl_host *h = pc->host;
    if (pc->hprev) pc->hprev->hnext = pc->hnext;
    else h->idle = pc->hnext;
    if (pc->hnext) pc->hnext->hprev = pc->hprev;
    h->nidle--;
    if (pc->lprev) pc->lprev->lnext = pc->lnext;
    else c->lru_new = pc->lnext;
    if (pc->lnext) pc->lnext->lprev = pc->lprev;
    else c->lru_old = pc->lprev;
    pc->hnext = pc->hprev = pc->lnext = pc->lprev = NULL;
}

/* Under mu: takes the idle connections that expired off the lists, oldest
 * first, and returns them chained on hnext, to be released outside mu.          */
GN__PRIVATE gn__cl_conn *gn__cl_prune(gn_http_client *c, int64_t now) {
    gn__cl_conn *dead = NULL;
    if (c->o.idle_conn_timeout <= 0) return NULL;
    while (c->lru_old && now - c->lru_old->idle_at >= c->o.idle_conn_timeout) {
        gn__cl_conn *pc = c->lru_old;
        gn__cl_idle_unlink(c, pc);
        pc->hnext = dead;
        dead = pc;
    }
    return dead;
}

GN__PRIVATE gn__cl_conn *gn__cl_conn_new(gn_http_client *c, gn__cl_host *h) {
    gn__cl_conn *pc = (gn__cl_conn *)GN_MALLOC(sizeof *pc);
    if (!pc) return NULL;
    memset(pc, 0, sizeof *pc);
    pc->hdrs = (gn_http_header *)GN_MALLOC(GN__CL_NHDRS * sizeof *pc->hdrs);
    if (!pc->hdrs) {
        GN_FREE(pc);
        return NULL;
    }
    pc->hcap = GN__CL_NHDRS;
    pc->cl = c;
    pc->host = h;
    pc->resp.pc = pc;
    return pc;
}

GN__PRIVATE void gn__cl_conn_free(gn__cl_conn *pc) {
    GN_FREE(pc->buf);
    GN_FREE(pc->wbuf);
    GN_FREE(pc->hdrs);
    GN_FREE(pc);
}

GN__PRIVATE void gn__cl_client_destroy(gn_http_client *c) {
    for (int i = 0; i < GN__CL_BUCKETS; i++) {
        while (c->hosts[i]) {
            gn__cl_host *h = c->hosts[i];
            c->hosts[i] = h->next;
            GN_FREE(h);
        }
    }
    GN_FREE(c);
}

GN__PRIVATE void gn__cl_release(gn__cl_conn *pc, int keep);

GN__PRIVATE void gn__cl_release_all(gn__cl_conn *dead) {
    while (dead) {
        gn__cl_conn *next = dead->hnext;
        dead->hnext = NULL;
        gn__cl_release(dead, 0);
        dead = next;
    }
}

/* Gives pc back. keep: its connection is idle and may be reused; it goes to the
 * first waiter, else to the idle list (room permitting). Otherwise the
 * connection is closed and its slot (with pc and its buffers) goes to the first
 * waiter, else pc is freed.                                                     */
GN__PRIVATE void gn__cl_release(gn__cl_conn *pc, int keep) {
    gn_http_client *c = pc->cl;
    gn__cl_host *h = pc->host;
    if (!keep && pc->conn) {
        gn_close(pc->conn);
        pc->conn = NULL;
    }
    gn_mutex_lock(&c->mu);
    if (keep && !h->wfirst && (c->freed || h->nidle >= c->o.max_idle_per_host)) {
        gn_mutex_unlock(&c->mu);
        gn_close(pc->conn);
        pc->conn = NULL;
        keep = 0;
        gn_mutex_lock(&c->mu);
    }
    gn__cl_waiter *w = h->wfirst;
    if (w) {
        h->wfirst = w->next;
        if (h->wfirst) h->wfirst->prev = NULL;
        else h->wlast = NULL;
        if (!pc->conn) {
            pc->uses = 0;
            pc->rdl = pc->wdl = 0;
        }
        w->pc = pc;
        gn_chan_try_send(w->ch, NULL);   /* under mu: see the top comment */
        gn_mutex_unlock(&c->mu);
        return;
    }
    if (keep) {
        pc->idle_at = gn_now();
        gn__cl_idle_push(c, pc);
        gn__cl_conn *dead = gn__cl_prune(c, pc->idle_at);
        gn_mutex_unlock(&c->mu);
        gn__cl_release_all(dead);
        return;
    }
    h->nconns--;
    c->npc--;
    gn__cl_host_gc(c, h);
    int last = c->freed && c->npc == 0;
    gn_mutex_unlock(&c->mu);
    gn__cl_conn_free(pc);
    if (last) gn__cl_client_destroy(c);
}

/* A connection for key: an idle one (newest first), else a new slot (conn NULL:
 * dial it), else waits for one until deadline or the context ends.           */
GN__PRIVATE int gn__cl_acquire(gn_http_client *c, const char *key, int64_t deadline,
                               gn_context *ctx, gn__cl_conn **out) {
    *out = NULL;
    int rc = 0;
    gn_mutex_lock(&c->mu);
    gn__cl_conn *dead = gn__cl_prune(c, gn_now());
    gn__cl_host **s = gn__cl_slot(c, key), *h = *s;
    if (!h) {
        size_t kl = strlen(key);
        h = (gn__cl_host *)GN_MALLOC(sizeof *h + kl + 1);
        if (!h) {
            gn_mutex_unlock(&c->mu);
            gn__cl_release_all(dead);
            return GN_ENOMEM;
        }
        memset(h, 0, sizeof *h);
        memcpy(h->key, key, kl + 1);
        *s = h;
    }
    /* Idle connections the server has hung up on meanwhile are dropped here;
     * the first one's slot (and buffers) serve for a new dial.                 */
    gn__cl_conn *pc = NULL, *hung = NULL;
    while (h->idle) {
        pc = h->idle;
        gn__cl_idle_unlink(c, pc);
        if (!gn__conn_hung_up(pc->conn)) break;   /* what the poller saw: no system call */
        if (hung) {
            pc->hnext = dead;
            dead = pc;
        } else {
            hung = pc;
        }
        pc = NULL;
    }
    if (pc && hung) {
        hung->hnext = dead;
        dead = hung;
        hung = NULL;
    }
    if (pc || hung) {
        if (!pc) pc = hung;
    } else if (c->o.max_conns_per_host <= 0 || h->nconns < c->o.max_conns_per_host) {
        pc = gn__cl_conn_new(c, h);
        if (pc) {
            h->nconns++;
            c->npc++;
        } else {
            gn__cl_host_gc(c, h);
            rc = GN_ENOMEM;
        }
    } else {
        gn__cl_waiter w;
        memset(&w, 0, sizeof w);
        w.ch = gn_chan_new(0, 1);
        if (!w.ch) {
            gn_mutex_unlock(&c->mu);
            gn__cl_release_all(dead);
            return GN_ENOMEM;
        }
        w.prev = h->wlast;
        if (h->wlast) h->wlast->next = &w;
        else h->wfirst = &w;
        h->wlast = &w;
        gn_mutex_unlock(&c->mu);
        gn__cl_release_all(dead);
        dead = NULL;
        gn_select_case cs[2] = {{w.ch, GN_RECV, NULL, 0},
                                {ctx ? gn_context_done(ctx) : NULL, GN_RECV, NULL, 0}};
        int k = gn_select_until(cs, 2, deadline);
        gn_mutex_lock(&c->mu);
        pc = w.pc;
        if (!pc) {
            if (w.prev) w.prev->next = w.next;
            else h->wfirst = w.next;
            if (w.next) w.next->prev = w.prev;
            else h->wlast = w.prev;
            gn__cl_host_gc(c, h);
            rc = k == 1 && gn_context_err(ctx) ? gn_context_err(ctx) : GN_ETIMEDOUT;
        }
        gn_mutex_unlock(&c->mu);
        gn_chan_free(w.ch);
        *out = pc;
        return rc;
    }
    gn_mutex_unlock(&c->mu);
    gn__cl_release_all(dead);
    if (pc && pc == hung) {
        gn_close(pc->conn);
        pc->conn = NULL;
    }
    *out = pc;
    return rc;
}

/* ---- the context watch ------------------------------------------------------------ */
/* A context cancel, run by the exchange's watch (context.c) on its connection.  */
GN__PRIVATE void gn__cl_cancel(void *conn, int err) {
    (void)err;
    gn_set_deadline((gn_conn *)conn, 1);
}

/* Sets the connection's deadlines (0: none), unless a cancel already moved them:
 * then its error.                                                                */
GN__PRIVATE int gn__cl_deadlines(gn__cl_conn *pc, int64_t rd, int64_t wd) {
    int rc = gn__ctxwatch_lock(pc->watch);
    if (!rc) {
        if (rd != pc->rdl) gn_set_read_deadline(pc->conn, rd);
        if (wd != pc->wdl) gn_set_write_deadline(pc->conn, wd);
        pc->rdl = rd;
        pc->wdl = wd;
    }
    gn__ctxwatch_unlock(pc->watch);
    return rc;
}

GN__PRIVATE int64_t gn__cl_min_dl(int64_t a, int64_t b) {
    if (!a) return b;
    if (!b) return a;
    return a < b ? a : b;
}

/* ---- writing the request ----------------------------------------------------------- */
GN__PRIVATE int gn__cl_reserve(char **buf, size_t *cap, size_t need) {
    if (*cap >= need) return 0;
    size_t n = *cap ? *cap : 1024;
    while (n < need) n *= 2;
    char *b = (char *)GN_REALLOC(*buf, n);
    if (!b) return GN_ENOMEM;
    *buf = b;
    *cap = n;
    return 0;
}

GN__PRIVATE char *gn__cl_put(char *o, const char *s, size_t n) {
    memcpy(o, s, n);
    return o + n;
}
#define GN__CL_PUTS(o, lit) gn__cl_put((o), (lit), sizeof(lit) - 1)

GN__PRIVATE char *gn__cl_dec(char *o, uint64_t v) {
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *o++ = t[--n];
    return o;
}

/* The head, and a buffer body with it, in one system call (writev).            */
GN__PRIVATE int gn__cl_write_head(gn__cl_conn *pc, const gn__cl_req *rq) {
    static const char ua[] = "User-Agent: gonet/" GONET_VERSION_STRING "\r\n";
    static const char hexd[] = "0123456789ABCDEF";
    size_t host_len = rq->use_host ? rq->host_hdr_len : rq->u.auth_len;
    size_t need = rq->method_len + rq->u.target_len * 3 + host_len + rq->hbytes + sizeof ua + 128;
    if (gn__cl_reserve(&pc->wbuf, &pc->wcap, need)) return GN_ENOMEM;
    char *o = pc->wbuf;
    o = gn__cl_put(o, rq->method, rq->method_len);
    *o++ = ' ';
    const unsigned char *t = (const unsigned char *)rq->u.target;
    if (rq->u.target_len == 0 || t[0] == '?') *o++ = '/';
    for (size_t i = 0; i < rq->u.target_len; i++) {
        if (t[i] <= 0x20 || t[i] >= 0x7f) {   /* space and non-ASCII, escaped as Go does */
            *o++ = '%';
            *o++ = hexd[t[i] >> 4];
            *o++ = hexd[t[i] & 15];
        } else {
            *o++ = (char)t[i];
        }
    }
    o = GN__CL_PUTS(o, " HTTP/1.1\r\nHost: ");
    o = gn__cl_put(o, rq->use_host ? rq->host_hdr : rq->u.auth, host_len);
    o = GN__CL_PUTS(o, "\r\n");
    int ua_seen = 0;
    for (size_t i = 0; i < rq->nhdrs; i++) {
        const gn_http_header *f = &rq->hdrs[i];
        size_t nl = gn__cl_nlen(f), vl = gn__cl_vlen(f);
        const char *v = f->value;
        for (; vl && GN__HC_WS(v[0]); vl--) v++;   /* OWS is not the value's; Go trims it */
        while (vl && GN__HC_WS(v[vl - 1])) vl--;
        if (gn__cl_framing(f->name, nl) || GN__CL_IS(f->name, nl, "host")) continue;
        if (rq->strip && gn__cl_sensitive(f->name, nl)) continue;
        if (GN__CL_IS(f->name, nl, "user-agent")) {
            ua_seen = 1;
            if (vl == 0) continue;   /* an empty User-Agent sends none, as in Go */
        }
        o = gn__cl_put(o, f->name, nl);
        o = GN__CL_PUTS(o, ": ");
        if (vl) o = gn__cl_put(o, v, vl);
        o = GN__CL_PUTS(o, "\r\n");
    }
    if (!ua_seen) o = gn__cl_put(o, ua, sizeof ua - 1);
    if (rq->reader && rq->clen < 0) {
        o = GN__CL_PUTS(o, "Transfer-Encoding: chunked\r\n");
    } else {
        uint64_t n = rq->reader ? (uint64_t)rq->clen : rq->body_len;
        int body_method = strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0 ||
                          strcmp(rq->method, "PATCH") == 0;
        if (n || rq->reader || body_method) {
            o = GN__CL_PUTS(o, "Content-Length: ");
            o = gn__cl_dec(o, n);
            o = GN__CL_PUTS(o, "\r\n");
        }
    }
    o = GN__CL_PUTS(o, "\r\n");
    gn__iov iov[2];
    iov[0].iov_base = pc->wbuf;
    iov[0].iov_len = (size_t)(o - pc->wbuf);
    iov[1].iov_base = (void *)(uintptr_t)rq->body;   /* only read */
    iov[1].iov_len = rq->reader ? 0 : rq->body_len;
    int64_t w = gn__conn_writev(pc->conn, iov, iov[1].iov_len ? 2 : 1);
    return w < 0 ? (int)w : 0;
}

/* A streamed body after the head: in chunks, or up to its length. An error of
 * the body_reader goes to *rerr (and is returned).                             */
GN__PRIVATE int gn__cl_write_body(gn__cl_conn *pc, const gn__cl_req *rq, int *rerr) {
    *rerr = 0;
    if (!rq->reader) return 0;
    enum { PRE = 18 };   /* room for "<hex>\r\n" before the data */
    if (gn__cl_reserve(&pc->wbuf, &pc->wcap, PRE + GN__CL_CHUNK + 8)) return GN_ENOMEM;
    int chunked = rq->clen < 0;
    uint64_t left = chunked ? UINT64_MAX : (uint64_t)rq->clen;
    int zeros = 0;
    char *d = pc->wbuf + PRE;
    while (left > 0) {
        size_t want = GN__CL_CHUNK;
        if (left < want) want = (size_t)left;
        int64_t m = rq->reader(rq->rctx, d, want);
        if (m == GN_EOF) {
            if (chunked) break;
            return *rerr = GN_EUNEXPECTEDEOF;   /* shorter than its content_length */
        }
        if (m < 0) return *rerr = (int)m;
        if (m == 0) {
            if (++zeros >= 100) return *rerr = GN_ENOPROGRESS;
            continue;
        }
        if ((uint64_t)m > want) return *rerr = GN_EINVAL;   /* a reader that overran */
        zeros = 0;
        int64_t w;
        if (chunked) {
            char *s = d - 2;
            s[0] = '\r';
            s[1] = '\n';
            uint64_t v = (uint64_t)m;
            do {
                *--s = "0123456789abcdef"[v & 15];
                v >>= 4;
            } while (v);
            d[m] = '\r';
            d[m + 1] = '\n';
            w = gn_write(pc->conn, s, (size_t)(d + m + 2 - s));
        } else {
            w = gn_write(pc->conn, d, (size_t)m);
            left -= (uint64_t)m;
        }
        if (w < 0) return (int)w;
    }
    if (chunked) {
        int64_t w = gn_write(pc->conn, "0\r\n\r\n", 5);
        if (w < 0) return (int)w;
    }
    return 0;
}

/* ---- reading the response head ---------------------------------------------------- */

/* The parser refused for too many fields (not bytes): grows the header array to
 * the number of lines there are. 1 grown, 0 not that case, or GN_ENOMEM.       */
GN__PRIVATE int gn__cl_more_hdrs(gn__cl_conn *pc, size_t len, size_t maxh) {
    size_t lim = len < maxh ? len : maxh, lines = 0;
    for (const char *p = pc->buf, *e = pc->buf + lim; (p = (const char *)memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        lines++;
    if (lines <= pc->hcap) return 0;
    gn_http_header *h = (gn_http_header *)GN_REALLOC(pc->hdrs, lines * sizeof *h);
    if (!h) return GN_ENOMEM;
    pc->hdrs = h;
    pc->hcap = lines;
    return 1;
}

/* Grows the read buffer under a parsed head, moving the head's strings along. */
GN__PRIVATE int gn__cl_regrow(gn__cl_conn *pc, gn__http_head *h, size_t cap) {
    size_t roff = (size_t)(h->reason - pc->buf);
    for (size_t i = 0; i < h->nhdrs; i++) {   /* offsets, before the old block goes */
        h->hdrs[i].name = (const char *)(uintptr_t)(h->hdrs[i].name - pc->buf);
        h->hdrs[i].value = (const char *)(uintptr_t)(h->hdrs[i].value - pc->buf);
    }
    char *b = (char *)GN_REALLOC(pc->buf, cap);
    if (b) {
        pc->buf = b;
        pc->cap = cap;
    }
    h->reason = pc->buf + roff;
    for (size_t i = 0; i < h->nhdrs; i++) {
        h->hdrs[i].name = pc->buf + (uintptr_t)h->hdrs[i].name;
        h->hdrs[i].value = pc->buf + (uintptr_t)h->hdrs[i].value;
    }
    return b ? 0 : GN_ENOMEM;
}

/* Reads and parses the response head into pc->resp, skipping 1xx interim
 * responses but 101. *got: some byte of a response arrived.                   */
GN__PRIVATE int gn__cl_read_head(gn__cl_conn *pc, const gn__cl_req *rq, int *got) {
    size_t maxh = pc->cl->o.max_header_bytes, full = maxh + GN__CL_ROOM;
    if (!pc->buf) {
        pc->cap = GN__CL_RBUF < full ? GN__CL_RBUF : full;
        pc->buf = (char *)GN_MALLOC(pc->cap);
        if (!pc->buf) {
            pc->cap = 0;
            return GN_ENOMEM;
        }
    }
    size_t len = 0, prev = 0;
    int n1xx = 0, r = 0;
    gn__http_head h;
    for (;;) {
        if (len > 0) {
            r = gn__http_parse_response(pc->buf, len, prev, &h, pc->hdrs, pc->hcap, maxh);
            if (r == GN_ETOOLARGE) {
                int g = gn__cl_more_hdrs(pc, len, maxh);
                if (g < 0) return g;
                if (g > 0) {
                    prev = 0;
                    continue;
                }
            }
            if (r < 0) return r;
            if (r > 0) {
                if (h.status >= 200 || h.status == 101) break;
                if (++n1xx > GN__CL_MAX_1XX) return GN_EHTTP;
                memmove(pc->buf, pc->buf + r, len - (size_t)r);
                len -= (size_t)r;
                prev = 0;
                continue;
            }
            prev = len;
        }
        if (len == pc->cap) {
            if (pc->cap >= full) return GN_ETOOLARGE;   /* not reached: the parser says so first */
            size_t ncap = pc->cap * 2 < full ? pc->cap * 2 : full;
            /* prev stays right: it counts bytes from the start, wherever they are. */
            char *b = (char *)GN_REALLOC(pc->buf, ncap);
            if (!b) return GN_ENOMEM;
            pc->buf = b;
            pc->cap = ncap;
        }
        int64_t m = gn_read(pc->conn, pc->buf + len, pc->cap - len);
        if (m == GN_EOF) return len == 0 && n1xx == 0 ? GN_EOF : GN_EUNEXPECTEDEOF;
        if (m < 0) return (int)m;
        len += (size_t)m;
        *got = 1;
    }
    size_t hl = (size_t)r;
    if (pc->cap - hl < GN__CL_ROOM && gn__cl_regrow(pc, &h, hl + GN__CL_RBUF) < 0) return GN_ENOMEM;
    gn_http_resp *resp = &pc->resp;
    resp->pc = pc;
    resp->h = h;
    resp->head_req = rq->head;
    resp->kind = gn__http_response_body(&h, rq->head);
    resp->rpos = hl;
    resp->rend = len;
    resp->left = 0;
    resp->err = 0;
    resp->done = 0;
    resp->reusable = h.keep_alive && !rq->close;
    if (h.status == 101 || (rq->connect && h.status / 100 == 2)) {
        /* Another protocol follows, which this client does not speak.         */
        resp->kind = GN__HTTP_BODY_NONE;
        resp->reusable = 0;
    }
    switch (resp->kind) {
    case GN__HTTP_BODY_NONE: resp->done = 1; break;
    case GN__HTTP_BODY_LENGTH:
        resp->left = h.content_length;
        resp->done = resp->left == 0;
        break;
    case GN__HTTP_BODY_CHUNKED: gn__chunked_init(&resp->ck, NULL, 0, 0); break;
    default: resp->reusable = 0; break;   /* until close */
    }
    return 0;
}

/* One request and its response head on pc's connection. *got: some byte of a
 * response arrived (the request can no longer be retried).                     */
GN__PRIVATE int gn__cl_exchange(gn__cl_conn *pc, const gn__cl_req *rq, int64_t rht, int64_t deadline,
                                int *got) {
    *got = 0;
    int rc = gn__cl_deadlines(pc, deadline, deadline);
    if (rc) return rc;
    int rerr = 0;
    rc = gn__cl_write_head(pc, rq);
    if (rc == 0) rc = gn__cl_write_body(pc, rq, &rerr);
    if (rerr) return rerr;
    if (rc < 0 && rc != -EPIPE && rc != -ECONNRESET) return rc;
    /* The server may have answered and closed before taking the whole body (a
     * 413, say): its response then says more than the broken pipe does.      */
    int wrc = rc;
    /* Whatever the write left unsaid, the request cannot go on: the end of it
     * tells a server still waiting for the rest to answer or close, now.     */
    if (wrc) gn_close_write(pc->conn);
    rc = gn__cl_deadlines(pc, gn__cl_min_dl(rht > 0 ? gn__deadline_after(rht) : 0, deadline), deadline);
    if (rc == 0) rc = gn__cl_read_head(pc, rq, got);
    if (rc == 0 && wrc) pc->resp.reusable = 0;
    if (rc < 0) return wrc ? wrc : rc;
    return gn__cl_deadlines(pc, deadline, deadline);
}

/* Errors a stale pooled connection gives.                                       */
GN__PRIVATE int gn__cl_stale(int rc) {
    return rc == GN_EOF || rc == -ECONNRESET || rc == -EPIPE || rc == -ECONNABORTED;
}

GN__PRIVATE int gn__cl_ctx_err(int rc, gn_context *ctx) {
    if ((rc == GN_ETIMEDOUT || rc == GN_ECANCELED) && ctx && gn_context_err(ctx))
        return gn_context_err(ctx);
    return rc;
}

/* One request, without redirects: 0 and *out, or an error.                      */
GN__PRIVATE int gn__cl_roundtrip(gn_http_client *c, const gn__cl_req *rq, gn_context *ctx,
                                 int64_t deadline, gn_http_resp **out) {
    gn__cl_conn *pc;
    int rc = gn__cl_acquire(c, rq->u.addr, deadline, ctx, &pc);
    if (rc) return gn__cl_ctx_err(rc, ctx);
    for (int attempt = 0;; attempt++) {
        if (!pc->conn) {
            int64_t dd = c->o.dial_timeout > 0 ? gn__deadline_after(c->o.dial_timeout) : 0;
            rc = gn__dial(ctx, &pc->conn, "tcp", rq->u.addr, gn__cl_min_dl(dd, deadline));
            if (rc) {
                pc->conn = NULL;
                gn__cl_release(pc, 0);
                return gn__cl_ctx_err(rc, ctx);
            }
            pc->uses = 0;
            pc->rdl = pc->wdl = 0;
        }
        int reused = pc->uses > 0, got = 0;
        if ((rc = gn__ctxwatch_start(&pc->watch, ctx, gn__cl_cancel, pc->conn)) != 0) {
            gn__cl_release(pc, 0);
            return rc;
        }
        rc = gn__cl_exchange(pc, rq, c->o.response_header_timeout, deadline, &got);
        if (rc == 0) {
            pc->uses++;
            *out = &pc->resp;
            return 0;
        }
        int fired = gn__ctxwatch_stop(pc->watch);
        pc->watch = NULL;
        if (attempt == 0 && reused && !got && !fired && gn__cl_stale(rc) && gn__cl_retryable(rq)) {
            gn_close(pc->conn);   /* dial again into the same slot */
            pc->conn = NULL;
            continue;
        }
        gn__cl_release(pc, 0);
        return gn__cl_ctx_err(rc, ctx);
    }
}

/* ---- the client --------------------------------------------------------------------- */
GONET_API gn_http_client *gn_http_client_new(const gn_http_client_opts *opts) {
    gn_http_client *c = (gn_http_client *)GN_MALLOC(sizeof *c);
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    if (opts) c->o = *opts;
    gn_http_client_opts *o = &c->o;
    /* Zero: the default. A negative duration: none. max_idle_per_host < 0:
     * nothing is kept. max_redirects < 0: as 0.                               */
    if (o->dial_timeout == 0) o->dial_timeout = GN__CL_DIAL_TIMEOUT;
    if (o->response_header_timeout == 0) o->response_header_timeout = GN__CL_HEADER_TIMEOUT;
    if (o->idle_conn_timeout == 0) o->idle_conn_timeout = GN__CL_IDLE_TIMEOUT;
    if (o->timeout < 0) o->timeout = 0;
    if (o->max_idle_per_host == 0) o->max_idle_per_host = GN__CL_MAX_IDLE;
    if (o->max_conns_per_host < 0) o->max_conns_per_host = 0;
    if (o->max_redirects < 0) o->max_redirects = 0;
    if (o->max_header_bytes == 0) o->max_header_bytes = GN__CL_MAX_HEAD;
    if (o->max_header_bytes > (size_t)INT_MAX / 2) o->max_header_bytes = (size_t)INT_MAX / 2;
    return c;
}

GONET_API void gn_http_client_free(gn_http_client *c) {
    if (!c) return;
    gn_mutex_lock(&c->mu);
    c->freed = 1;
    gn__cl_conn *dead = NULL;
    while (c->lru_old) {
        gn__cl_conn *pc = c->lru_old;
        gn__cl_idle_unlink(c, pc);
        pc->hnext = dead;
        dead = pc;
    }
    int last = c->npc == 0;
    gn_mutex_unlock(&c->mu);
    gn__cl_release_all(dead);   /* the last one frees c */
    if (last) gn__cl_client_destroy(c);
}

/* Reads what is left of a redirect's body, up to a bound, so that its
 * connection can be reused.                                                     */
GN__PRIVATE void gn__cl_drain(gn_http_resp *r) {
    char tmp[512];
    size_t total = 0;
    while (total < GN__CL_DRAIN) {
        int64_t n = gn_http_resp_read(r, tmp, sizeof tmp);
        if (n <= 0) break;
        total += (size_t)n;
    }
}

/* The lower-case host name of u (no port, no brackets) into buf[256].           */
GN__PRIVATE void gn__cl_hostname(const gn__cl_url *u, char *buf) {
    const char *h = u->host;
    size_t n = u->host_len;
    if (n >= 2 && h[0] == '[') {
        h++;
        n -= 2;
    }
    for (size_t i = 0; i < n; i++) buf[i] = (char)gn__http_lower((unsigned char)h[i]);
    buf[n] = 0;
}

/* Go's rule for credentials on a redirect: kept for the same host or one of
 * its subdomains.                                                               */
GN__PRIVATE int gn__cl_same_domain(const char *dst, const char *src) {
    size_t dl = strlen(dst), sl = strlen(src);
    if (dl == sl) return strcmp(dst, src) == 0;
    return dl > sl && dst[dl - sl - 1] == '.' && strcmp(dst + dl - sl, src) == 0;
}

/* Redirects (opts.max_redirects > 0): 301, 302, 303, 307 and 308 with a Location
 * are followed, up to max_redirects; the next one is returned as it is (Go's
 * ErrUseLastResponse), as is one without a Location. 301/302/303 turn any method
 * but GET and HEAD into a GET without a body (as Go, and browsers, do); 307/308
 * repeat the method and the body, unless the body is a stream: that redirect is
 * returned. A relative Location resolves against the request's URL; a caller's
 * Host header survives a relative one only; credentials (Authorization, Cookie,
 * ...) go only to the first request's host and its subdomains. An unparsable
 * Location is GN_EHTTP; an https one GN_ENOSYS. The overall timeout and the
 * context span all the hops.
 * req->ctx governs the body reads too, so it must outlive the response: free
 * the context after gn_http_resp_free (its watcher waits on the context).
 * Outside a coroutine: GN_ESTATE (after the request is checked).              */
GONET_API int gn_http_do(gn_http_client *c, const gn_http_client_request *req, gn_http_resp **out) {
    if (out) *out = NULL;
    if (!c || !req || !out) return GN_EINVAL;
    gn__cl_req rq;
    int rc = gn__cl_prepare(&rq, req);
    if (rc) return rc;
    if (!gn__getg()) return GN_ESTATE;
    gn_context *ctx = req->ctx;
    if (ctx && (rc = gn_context_err(ctx)) != 0) return rc;
    int64_t deadline = gn__cl_min_dl(c->o.timeout > 0 ? gn__deadline_after(c->o.timeout) : 0,
                                     ctx ? gn_context_deadline(ctx) : 0);
    char first[GN__CL_HOST_MAX + 1], here[GN__CL_HOST_MAX + 1];
    gn__cl_hostname(&rq.u, first);
    int user_host = rq.use_host;
    char *owned = NULL;   /* the URL of the current hop, after a redirect */
    for (int hops = 0;; hops++) {
        gn_http_resp *r = NULL;
        rc = gn__cl_roundtrip(c, &rq, ctx, deadline, &r);
        if (rc < 0) break;
        int st = r->h.status;
        const char *loc = NULL;
        if (hops < c->o.max_redirects && (st == 301 || st == 302 || st == 303 || st == 307 || st == 308))
            loc = gn_http_resp_header(r, "Location");
        if (!loc || ((st == 307 || st == 308) && rq.reader)) {
            *out = r;
            break;
        }
        char *next = NULL;
        int rel = 0;
        rc = gn__cl_resolve(&rq.u, loc, &next, &rel);
        gn__cl_drain(r);
        gn_http_resp_free(r);
        if (rc < 0) break;
        rc = gn__cl_parse_url(next, &rq.u);
        if (rc < 0) {
            GN_FREE(next);
            if (rc == GN_EINVAL) rc = GN_EHTTP;
            break;
        }
        GN_FREE(owned);
        owned = next;
        if (st != 307 && st != 308 && !rq.head && strcmp(rq.method, "GET") != 0) {
            rq.method = "GET";
            rq.method_len = 3;
            rq.body = NULL;
            rq.body_len = 0;
            rq.reader = NULL;
            rq.connect = 0;
        }
        rq.use_host = user_host && rel;
        gn__cl_hostname(&rq.u, here);
        rq.strip = !gn__cl_same_domain(here, first);
    }
    GN_FREE(owned);
    return rc < 0 ? rc : 0;
}

GONET_API int gn_http_get(gn_http_client *c, const char *url, gn_http_resp **out) {
    gn_http_client_request req;
    memset(&req, 0, sizeof req);
    req.url = url;
    return gn_http_do(c, &req, out);
}

/* ---- the response --------------------------------------------------------------------- */
GONET_API int gn_http_resp_status(const gn_http_resp *r) { return r ? r->h.status : GN_EINVAL; }

GONET_API const char *gn_http_resp_header(const gn_http_resp *r, const char *name) {
    if (!r || !name) return NULL;
    const gn_http_header *f = gn__http_find(&r->h, name);
    return f ? f->value : NULL;
}

GONET_API size_t gn_http_resp_headers(const gn_http_resp *r, const gn_http_header **out) {
    if (!r) {
        if (out) *out = NULL;
        return 0;
    }
    if (out) *out = r->h.hdrs;
    return r->h.nhdrs;
}

/* A HEAD's answer reports its Content-Length (as Go does); no body means 0.    */
GONET_API int64_t gn_http_resp_content_length(const gn_http_resp *r) {
    if (!r) return GN_EINVAL;
    if (r->head_req) return r->h.content_length;
    if (r->kind == GN__HTTP_BODY_NONE) return 0;
    if (r->kind == GN__HTTP_BODY_LENGTH) return r->h.content_length;
    return -1;
}

/* Refills the buffer after the head with at most max bytes (0: as many as fit). */
GN__PRIVATE int64_t gn__cl_fill(gn_http_resp *r, uint64_t max) {
    gn__cl_conn *pc = r->pc;
    size_t base = r->h.head_len, room = pc->cap - base;
    if (max && max < room) room = (size_t)max;
    int64_t m = gn_read(pc->conn, pc->buf + base, room);
    if (m > 0) {
        r->rpos = base;
        r->rend = base + (size_t)m;
    }
    return m;
}

GN__PRIVATE int64_t gn__cl_body(gn_http_resp *r, char *dst, size_t n) {
    gn__cl_conn *pc = r->pc;
    int64_t m;
    switch (r->kind) {
    case GN__HTTP_BODY_LENGTH:
        if (r->rpos == r->rend) {
            uint64_t want = (uint64_t)r->left < n ? (uint64_t)r->left : n;
            if (want >= GN__CL_DIRECT) {
                m = gn_read(pc->conn, dst, (size_t)want);
                if (m == GN_EOF) return GN_EUNEXPECTEDEOF;
                if (m < 0) return m;
                r->left -= m;
                r->done = r->left == 0;
                return m;
            }
            m = gn__cl_fill(r, (uint64_t)r->left);
            if (m == GN_EOF) return GN_EUNEXPECTEDEOF;
            if (m < 0) return m;
        }
        m = (int64_t)(r->rend - r->rpos);
        if (m > r->left) m = r->left;
        if ((uint64_t)m > n) m = (int64_t)n;
        memcpy(dst, pc->buf + r->rpos, (size_t)m);
        r->rpos += (size_t)m;
        r->left -= m;
        r->done = r->left == 0;
        return m;
    case GN__HTTP_BODY_CHUNKED:
        for (;;) {
            if (r->rpos < r->rend) {
                const char *d;
                size_t dl;
                int64_t used = gn__chunked_feed(&r->ck, pc->buf + r->rpos, r->rend - r->rpos, n, &d, &dl);
                if (used < 0) return used;
                r->rpos += (size_t)used;
                if (dl) {
                    memcpy(dst, d, dl);
                    return (int64_t)dl;
                }
                if (r->ck.done) return GN_EOF;
                continue;
            }
            uint64_t dleft = gn__chunked_data_left(&r->ck);
            if (dleft && n >= GN__CL_DIRECT) {
                m = gn_read(pc->conn, dst, dleft < n ? (size_t)dleft : n);
                if (m == GN_EOF) return GN_EUNEXPECTEDEOF;
                if (m > 0) gn__chunked_skip_data(&r->ck, (uint64_t)m);
                return m;
            }
            m = gn__cl_fill(r, 0);
            if (m == GN_EOF) return GN_EUNEXPECTEDEOF;
            if (m < 0) return m;
        }
    case GN__HTTP_BODY_CLOSE:
        if (r->rpos == r->rend) {
            if (n >= GN__CL_DIRECT) return gn_read(pc->conn, dst, n);
            m = gn__cl_fill(r, 0);
            if (m < 0) return m;
        }
        m = (int64_t)(r->rend - r->rpos);
        if ((uint64_t)m > n) m = (int64_t)n;
        memcpy(dst, pc->buf + r->rpos, (size_t)m);
        r->rpos += (size_t)m;
        return m;
    default:
        return GN_EOF;
    }
}

GONET_API int64_t gn_http_resp_read(gn_http_resp *r, void *buf, size_t n) {
    if (!r || (!buf && n)) return GN_EINVAL;
    if (r->err) return r->err;
    if (r->done) return GN_EOF;
    if (n == 0) return 0;
    int64_t m = gn__cl_body(r, (char *)buf, n);
    if (m == GN_EOF) {
        r->done = 1;
    } else if (m < 0) {
        int werr = m == GN_ETIMEDOUT ? gn__ctxwatch_err(r->pc->watch) : 0;
        r->err = werr ? werr : (int)m;
        return r->err;
    }
    return m;
}

GONET_API int64_t gn_http_resp_body_reader(void *response, void *buf, size_t n) {
    return gn_http_resp_read((gn_http_resp *)response, buf, n);
}

/* max is taken literally: 0 accepts only an empty body.                       */
GONET_API int64_t gn_http_resp_read_all(gn_http_resp *r, size_t max, char **out) {
    if (out) *out = NULL;
    if (!r || !out) return GN_EINVAL;
    if (max > SIZE_MAX - 2) max = SIZE_MAX - 2;
    if (r->kind == GN__HTTP_BODY_LENGTH && (uint64_t)r->left > max) return GN_ETOOLARGE;
    /* Room for max + 1 bytes tells "exactly max" from "more than max".         */
    size_t cap = r->kind == GN__HTTP_BODY_LENGTH ? (size_t)r->left : 4096, len = 0;
    if (cap > max + 1) cap = max + 1;
    char *b = (char *)GN_MALLOC(cap + 1);
    if (!b) return GN_ENOMEM;
    for (;;) {
        if (len == cap) {
            if (r->done && !r->err) break;
            if (cap > max) {
                GN_FREE(b);
                return GN_ETOOLARGE;
            }
            size_t ncap = cap < 2048 ? 4096 : cap > (max + 1) / 2 ? max + 1 : cap * 2;
            if (ncap > max + 1) ncap = max + 1;
            char *nb = (char *)GN_REALLOC(b, ncap + 1);
            if (!nb) {
                GN_FREE(b);
                return GN_ENOMEM;
            }
            b = nb;
            cap = ncap;
        }
        int64_t m = gn_http_resp_read(r, b + len, cap - len);
        if (m == GN_EOF) break;
        if (m < 0) {
            GN_FREE(b);
            return m;
        }
        len += (size_t)m;
    }
    if (len > max) {
        GN_FREE(b);
        return GN_ETOOLARGE;
    }
    b[len] = 0;
    *out = b;
    return (int64_t)len;
}

/* The connection goes back to the pool only if the body ended, the head allowed
 * keep-alive, and nothing came after the body (the server sent more than it
 * framed: nothing to trust on that connection). A chunked body whose last
 * chunk is already buffered counts as read.                                     */
GONET_API void gn_http_resp_free(gn_http_resp *r) {
    if (!r) return;
    gn__cl_conn *pc = r->pc;
    if (!r->done && !r->err && r->kind == GN__HTTP_BODY_CHUNKED) {
        while (r->rpos < r->rend) {
            const char *d;
            size_t dl;
            int64_t used = gn__chunked_feed(&r->ck, pc->buf + r->rpos, r->rend - r->rpos, 0, &d, &dl);
            if (used < 0 || dl) break;
            r->rpos += (size_t)used;
            if (r->ck.done) {
                r->done = 1;
                break;
            }
        }
    }
    int keep = r->reusable && r->done && !r->err && r->rpos == r->rend;
    if (gn__ctxwatch_stop(pc->watch)) keep = 0;
    pc->watch = NULL;
    gn__cl_release(pc, keep);
}
