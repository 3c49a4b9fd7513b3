/* http_server.c — the HTTP/1.1 server: one coroutine per connection, requests
 * parsed in place in the connection's buffer, the response writer, keep-alive,
 * pipelining, timeouts, hijacking and graceful shutdown (Go's net/http server).
 *
 * Memory. A connection owns a small struct; while it works on a request it also
 * holds a work block from the server's pool: the read buffer (the head must fit
 * there, max_header_bytes, plus room for body bytes and pipelined requests),
 * the response body buffer, the output buffer where heads (and the responses
 * to pipelined requests) are gathered, and the response headers' strings. A
 * connection that waits for a request gives the block back and parks in the
 * poller, which starts a coroutine when bytes arrive: an idle keep-alive
 * connection costs its struct, no coroutine and no buffer, and so does a new
 * one that has sent nothing yet (a crowd of silent connections is cheap).
 *
 * System calls. A keep-alive request costs one read and one write: the head and
 * a body that fits the buffer go out in one sendmsg; the wait for the next
 * request is a park on the poller, not a read that returns EAGAIN (the last
 * read was short, so the socket is known to be empty). Responses to pipelined
 * requests already in the buffer are gathered and written together. Deadlines
 * are reset only when they moved by more than a slack (1/8 of the timeout, at
 * most 100 ms), so a busy connection does not touch the timer heap per request.
 *
 * Errors. A malformed request gets its 4xx (or 5xx) with "Connection: close",
 * then the connection is half-closed and drained briefly so the response is not
 * lost to a reset. A handler that writes nothing sends an empty 200.
 *
 * >>http-server                                                                  */

#define GN__HTTP_MAX_REQ_HEADERS   100           /* fields per request: 431 beyond     */
#define GN__HTTP_MAX_RESP_HEADERS  64            /* fields a handler may set            */
#define GN__HTTP_BODY_TAIL         4096          /* read buffer room past a full head  */
#define GN__HTTP_OUT_SIZE          4096          /* heads, and gathered responses      */
#define GN__HTTP_ARENA_SIZE        2048          /* response header strings (inline)   */
#define GN__HTTP_DRAIN_MAX         (256 * 1024)  /* unread body drained to keep alive  */
#define GN__HTTP_POOL_MAX          64            /* free work blocks kept per server   */

/* NEW: no request yet. Shutdown waits for it as for an ACTIVE one (Go's
 * StateNew), so a request already on its way is answered; IDLE ones it closes. */
enum { GN__HC_ACTIVE, GN__HC_NEW, GN__HC_IDLE, GN__HC_CLOSING, GN__HC_HIJACKED };
enum { GN__BODY_NONE, GN__BODY_LENGTH, GN__BODY_CHUNKED };
enum { GN__WATCH_OFF, GN__WATCH_ARMED, GN__WATCH_RUNNING, GN__WATCH_DONE };

typedef struct gn__http_conn gn__http_conn;
typedef struct gn__http_detached gn__http_detached;
GN__PRIVATE int gn__det_header(gn__http_detached *d, const char *name, const char *value, int op);
GN__PRIVATE int64_t gn__det_write(gn__http_detached *d, const void *buf, size_t n);
GN__PRIVATE int gn__det_status(gn__http_detached *d, int status);

typedef struct gn__http_hdr {        /* a response field: offsets into the arena   */
    uint32_t name, nlen, value, vlen;
} gn__http_hdr;

struct gn_http_request {
    gn__http_conn     *hc;
    gn__http_head      head;           /* its hdrs array is in the work block       */
    char              *heap;           /* long paths that did not fit the arena      */
    const char        *escaped_path;   /* NUL-terminated copy in the work block     */
    const char        *path;           /* decoded, NUL-terminated                   */
    const char        *host;           /* NUL-terminated, "" if none               */
    const gn__pathval *pathvals;       /* the matched pattern's values, or NULL    */
    int                npathvals;
    int                body_kind;      /* GN__BODY_*                                */
    int64_t            body_left;      /* LENGTH: bytes still to come               */
    int64_t            body_read;      /* bytes delivered, against max_body_bytes   */
    int                body_err;       /* sticky: a read error or the limit          */
    int                sent_continue;
    gn__chunked        chunked;
    gn_context        *ctx;            /* made on first use                         */
    uint32_t           watch;          /* atomic: GN__WATCH_*, the hang-up watch     */
};

struct gn_http_response {
    gn__http_conn *hc;
    int      status;                    /* 0 until write_header                       */
    int      head_sent;                 /* streaming: the head went out               */
    int      chunked;                   /* streaming with the chunked coding          */
    int      no_body;                   /* 1xx, 204, 304: writes are counted only       */
    int      head;                      /* a HEAD request: a body is made, not sent     */
    int      close;                     /* Connection: close after this response      */
    int      has_date, has_type;        /* the handler set them                       */
    int64_t  clen;                      /* a Content-Length the handler set, or -1    */
    int64_t  written;                   /* body bytes the handler wrote               */
    size_t   wlen;                      /* buffered body bytes                        */
    int      err;                       /* sticky write error                         */
    int      nh;
    gn__http_hdr *hdrs;                 /* GN__HTTP_MAX_RESP_HEADERS, in the work block */
    size_t   alen, acap;                /* arena bytes used, and usable               */
    struct gn__http_detached *det;      /* a buffered writer of the timeout middleware */
};

struct gn__http_conn {
    gn_http_server *srv;
    gn_conn        *c;
    gn__http_conn  *prev, *next;        /* the server's list, under srv->lock         */
    uint32_t        state;              /* atomic: GN__HC_*                           */
    char           *block;              /* the work block, or NULL while idle         */
    size_t          rpos, rend;         /* unconsumed bytes: block[rpos, rend)       */
    size_t          body_base;          /* where body bytes may go: after the head   */
    size_t          olen;               /* bytes gathered in the output buffer       */
    int64_t         rd, wd;             /* the deadlines last set                     */
    char            remote[64];         /* filled on first use                        */
    int             woken;              /* started by the poller: read, do not park   */
    int64_t         nreq;               /* requests served                            */
    gn_http_request req;
    gn_http_response resp;
};

struct gn_http_server {
    gn_http_server_opts o;              /* defaults filled in                          */
    size_t          rsize, block_size;  /* read buffer, whole work block               */
    size_t          wsize;              /* write buffer, rounded up                    */
    uint32_t        lock;               /* conns, listeners, pool                      */
    gn__http_conn  *conns;
    int             nconns;
    gn_listener    *ln[8];
    int             nln;
    int             nhijacked;          /* listed, owned by a hijacker               */
    int             free_pending;       /* freed by the user; the last connection goes */
    uint32_t        shutting;           /* atomic                                      */
    gn_chan        *slots;              /* max_conns tokens, or NULL                  */
    char           *pool[GN__HTTP_POOL_MAX];
    int             npool;
};

/* The work block's regions, each a multiple of 16 bytes long.                    */
#define GN__HC_RBUF(hc)  ((hc)->block)
#define GN__HC_WBUF(hc)  ((hc)->block + (hc)->srv->rsize)
#define GN__HC_OBUF(hc)  (GN__HC_WBUF(hc) + (hc)->srv->wsize)
#define GN__HC_ARENA(hc) (GN__HC_OBUF(hc) + GN__HTTP_OUT_SIZE)
#define GN__HC_REQH(hc)  ((gn_http_header *)(void *)(GN__HC_ARENA(hc) + GN__HTTP_ARENA_SIZE))
#define GN__HC_RESPH(hc) ((gn__http_hdr *)(void *)(GN__HC_REQH(hc) + GN__HTTP_MAX_REQ_HEADERS))
#define GN__HTTP_ROUND16(n) (((n) + 15) & ~(size_t)15)

/* ---- small things --------------------------------------------------------------- */
GONET_API const char *gn_http_status_text(int status) {
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request URI Too Long";
    case 416: return "Requested Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" for now, formatted once a second per thread.
 * Thread-local is safe here: nothing between the read and the copy switches.    */
GN__PRIVATE size_t gn__http_date(char *out) {
    static GN__THREAD_LOCAL struct { time_t sec; char s[32]; size_t n; } cache;
    time_t now = time(NULL);
    if (now != cache.sec || cache.n == 0) {
        static const char days[] = "SunMonTueWedThuFriSat";
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        struct tm tm;
        gn__gmtime((int64_t)now, &tm);   /* not strftime: the C locale's names are the HTTP ones */
        int n = snprintf(cache.s, sizeof cache.s, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT",
                         days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
                         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cache.n = n > 0 && (size_t)n < sizeof cache.s ? (size_t)n : 0;
        cache.sec = now;
    }
    memcpy(out, cache.s, cache.n);
    return cache.n;
}

/* A Content-Type for a body the handler did not label: Go's DetectContentType
 * for the cases that matter to an API server (HTML, JSON, text, binary).       */
GN__PRIVATE const char *gn__http_sniff(const char *p, size_t n) {
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) i++;
    static const char *const html[] = {"<!doctype html", "<html", "<head", "<body", "<div",
                                       "<p", "<h1", "<title", "<table", "<!--"};
    for (size_t k = 0; k < sizeof html / sizeof html[0]; k++) {
        size_t l = strlen(html[k]);
        if (n - i >= l && gn__http_ieq(p + i, html[k], l) &&
            (l == 4 || n - i == l || p[i + l] == ' ' || p[i + l] == '>' || l > 5))
            return "text/html; charset=utf-8";
    }
    if (i < n && (p[i] == '{' || p[i] == '[')) return "application/json";
    size_t lim = n < 512 ? n : 512;
    for (size_t k = 0; k < lim; k++) {
        unsigned char c = (unsigned char)p[k];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != 0x0c && c != 0x1b)
            return "application/octet-stream";
    }
    return "text/plain; charset=utf-8";
}

GN__PRIVATE size_t gn__http_u64(char *out, uint64_t v) {
    char t[24];
    size_t n = 0;
    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (size_t i = 0; i < n; i++) out[i] = t[n - 1 - i];
    return n;
}

/* Sets a deadline unless the one in force is already within the slack of it:
 * a keep-alive connection would otherwise reset its timers on every request.   */
GN__PRIVATE void gn__http_deadline(gn__http_conn *hc, int mode, int64_t timeout) {
    int64_t want = gn_now() + timeout;
    int64_t slack = timeout / 8 < 100 * GN_MILLISECOND ? timeout / 8 : 100 * GN_MILLISECOND;
    int64_t *cur = mode == 'r' ? &hc->rd : &hc->wd;
    if (*cur && *cur <= want && want - *cur <= slack) return;
    *cur = want;
    if (mode == 'r') gn_set_read_deadline(hc->c, want); else gn_set_write_deadline(hc->c, want);
}

/* ---- the work block pool ------------------------------------------------------- */
GN__PRIVATE char *gn__http_block_get(gn_http_server *s) {
    gn__lock(&s->lock);
    char *b = s->npool ? s->pool[--s->npool] : NULL;
    gn__unlock(&s->lock);
    return b ? b : (char *)GN_MALLOC(s->block_size);
}

GN__PRIVATE void gn__http_block_put(gn_http_server *s, char *b) {
    if (!b) return;
    gn__lock(&s->lock);
    if (s->npool < GN__HTTP_POOL_MAX) {
        s->pool[s->npool++] = b;
        b = NULL;
    }
    gn__unlock(&s->lock);
    GN_FREE(b);
}

/* ---- output --------------------------------------------------------------------- */
/* Writes the gathered output and then the iovecs after it, in one call.          */
GN__PRIVATE int gn__http_send(gn__http_conn *hc, gn__iov *more, int nmore) {
    gn__iov iov[8];
    int n = 0;
    if (hc->olen) {
        iov[n].iov_base = GN__HC_OBUF(hc);
        iov[n].iov_len = hc->olen;
        n++;
    }
    for (int i = 0; i < nmore && n < 8; i++) iov[n++] = more[i];
    hc->olen = 0;
    if (n == 0) return 0;
    int64_t r = gn__conn_writev(hc->c, iov, n);
    return r < 0 ? (int)r : 0;
}

GN__PRIVATE int gn__http_flush_out(gn__http_conn *hc) { return gn__http_send(hc, NULL, 0); }

/* Appends to the output buffer, flushing it first if it is full.                */
GN__PRIVATE int gn__http_out(gn__http_conn *hc, const char *p, size_t n) {
    while (n) {
        size_t room = GN__HTTP_OUT_SIZE - hc->olen;
        if (room == 0) {
            int rc = gn__http_flush_out(hc);
            if (rc) return rc;
            continue;
        }
        size_t k = n < room ? n : room;
        memcpy(GN__HC_OBUF(hc) + hc->olen, p, k);
        hc->olen += k;
        p += k;
        n -= k;
    }
    return 0;
}
#define GN__HTTP_OUTS(hc, lit) gn__http_out((hc), (lit), sizeof(lit) - 1)

/* A complete response made by the server itself (errors), then close.           */
GN__PRIVATE void gn__http_reply_error(gn__http_conn *hc, int status) {
    gn__http_deadline(hc, 'w', hc->srv->o.write_timeout);
    char line[320];
    const char *text = gn_http_status_text(status);
    int n = snprintf(line, sizeof line,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Connection: close\r\nContent-Length: %zu\r\n\r\n%d %s",
                     status, text, strlen(text) + 4, status, text);
    if (n > 0) gn__http_out(hc, line, (size_t)n);
    gn__http_flush_out(hc);
}

/* How many bytes at the start of p[0, n) are empty lines (CRLF or a bare LF,
 * as the parser takes them before a request line).                            */
GN__PRIVATE size_t gn__http_eols(const char *p, size_t n) {
    size_t i = 0;
    for (;;) {
        if (i < n && p[i] == '\n') i += 1;
        else if (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n') i += 2;
        else return i;
    }
}

/* Half-closes and reads what the client still sends, briefly, so that closing
 * with unread bytes does not reset the connection before the response lands. */
GN__PRIVATE void gn__http_linger_close(gn__http_conn *hc) {
    gn_close_write(hc->c);
    gn_set_read_deadline(hc->c, gn_now() + 500 * GN_MILLISECOND);
    char tmp[512];
    for (int i = 0; i < 128 && gn_read(hc->c, tmp, sizeof tmp) > 0; i++) {}
}

/* ---- the response writer -------------------------------------------------------- */
GN__PRIVATE int gn__http_valid_name(const char *s) {
    if (!s || !*s) return 0;
    for (; *s; s++) if (!GN__HC(*s, GN__HC_TCHAR)) return 0;
    return 1;
}
GN__PRIVATE int gn__http_valid_value(const char *s) {
    if (!s) return 0;
    for (; *s; s++) if (!GN__HC(*s, GN__HC_VALUE)) return 0;   /* no CR, LF, NUL: no injection */
    return 1;
}

GN__PRIVATE int gn__http_hdr_is(gn_http_response *w, const gn__http_hdr *h, const char *name) {
    return h->nlen == strlen(name) && gn__http_ieq(GN__HC_ARENA(w->hc) + h->name, name, h->nlen);
}

/* Notes what the server must know about a field the handler sets.               */
GN__PRIVATE int gn__http_hdr_effect(gn_http_response *w, const char *name, const char *value, int on) {
    if (gn__http_ieq(name, "content-length", 15) && strlen(name) == 14) {
        if (!on) { w->clen = -1; return 0; }
        int64_t v = 0;
        const char *p = value;
        if (!*p) return GN_EINVAL;
        for (; *p; p++) {
            if (*p < '0' || *p > '9' || v > (INT64_MAX - 9) / 10) return GN_EINVAL;
            v = v * 10 + (*p - '0');
        }
        w->clen = v;
    } else if (strlen(name) == 4 && gn__http_ieq(name, "date", 4)) {
        w->has_date = on;
    } else if (strlen(name) == 12 && gn__http_ieq(name, "content-type", 12)) {
        w->has_type = on;
    } else if (strlen(name) == 10 && gn__http_ieq(name, "connection", 10) && on) {
        if (gn__http_ieq(value, "close", 5) && strlen(value) == 5) w->close = 1;
    }
    return 0;
}

GONET_API int gn_http_del_header(gn_http_response *w, const char *name) {
    if (!w || !name) return GN_EINVAL;
    if (w->det) return gn__det_header(w->det, name, NULL, 'd');
    if (w->head_sent || w->status) return GN_ESTATE;
    int j = 0;
    for (int i = 0; i < w->nh; i++)
        if (!gn__http_hdr_is(w, &w->hdrs[i], name)) w->hdrs[j++] = w->hdrs[i];
    w->nh = j;
    return gn__http_hdr_effect(w, name, "", 0);
}

/* Appends a field, checked by the caller, whatever the state (the server's own
 * fields go in after the handler's write_header).                             */
GN__PRIVATE int gn__http_hdr_add(gn_http_response *w, const char *name, const char *value) {
    size_t nl = strlen(name), vl = strlen(value);
    if (w->nh == GN__HTTP_MAX_RESP_HEADERS || w->alen + nl + vl > w->acap) return GN_ETOOLARGE;
    int rc = gn__http_hdr_effect(w, name, value, 1);
    if (rc) return rc;
    char *a = GN__HC_ARENA(w->hc);
    gn__http_hdr *h = &w->hdrs[w->nh++];
    h->name = (uint32_t)w->alen;
    h->nlen = (uint32_t)nl;
    memcpy(a + w->alen, name, nl);
    w->alen += nl;
    h->value = (uint32_t)w->alen;
    h->vlen = (uint32_t)vl;
    memcpy(a + w->alen, value, vl);
    w->alen += vl;
    return 0;
}

GONET_API int gn_http_add_header(gn_http_response *w, const char *name, const char *value) {
    if (!w || !gn__http_valid_name(name) || !gn__http_valid_value(value)) return GN_EINVAL;
    if (w->det) return gn__det_header(w->det, name, value, 'a');
    if (w->head_sent || w->status) return GN_ESTATE;
    return gn__http_hdr_add(w, name, value);
}

GONET_API int gn_http_set_header(gn_http_response *w, const char *name, const char *value) {
    if (!w || !gn__http_valid_name(name) || !gn__http_valid_value(value)) return GN_EINVAL;
    if (w->det) return gn__det_header(w->det, name, value, 's');
    if (w->head_sent || w->status) return GN_ESTATE;
    gn_http_del_header(w, name);
    return gn_http_add_header(w, name, value);
}

GONET_API int gn_http_write_header(gn_http_response *w, int status) {
    if (!w || status < 100 || status > 999) return GN_EINVAL;
    if (w->det) return gn__det_status(w->det, status);
    if (w->status) return GN_ESTATE;   /* Go logs "superfluous WriteHeader"; we say so */
    w->status = status;
    if (status < 200 || status == 204 || status == 304) w->no_body = 1;
    return 0;
}

/* Serialises the head into the output buffer. length: the Content-Length to
 * send, or -1 for none (chunked, close-delimited, or no body).                  */
GN__PRIVATE int gn__http_write_head(gn_http_response *w, int64_t length) {
    gn__http_conn *hc = w->hc;
    char line[64];
    int status = w->status ? w->status : 200;
    const char *text = gn_http_status_text(status);
    size_t n = 0;
    memcpy(line, "HTTP/1.1 ", 9);
    n = 9 + gn__http_u64(line + 9, (uint64_t)status);
    line[n++] = ' ';
    int rc = gn__http_out(hc, line, n);
    if (!rc) rc = gn__http_out(hc, text, strlen(text));
    if (!rc) rc = GN__HTTP_OUTS(hc, "\r\n");
    const char *a = GN__HC_ARENA(hc);
    for (int i = 0; i < w->nh && !rc; i++) {
        const gn__http_hdr *h = &w->hdrs[i];
        if (gn__http_hdr_is(w, h, "content-length") || gn__http_hdr_is(w, h, "transfer-encoding") ||
            (w->close && gn__http_hdr_is(w, h, "connection")))
            continue;   /* framing is the server's */
        rc = gn__http_out(hc, a + h->name, h->nlen);
        if (!rc) rc = GN__HTTP_OUTS(hc, ": ");
        if (!rc) rc = gn__http_out(hc, a + h->value, h->vlen);
        if (!rc) rc = GN__HTTP_OUTS(hc, "\r\n");
    }
    if (!rc && !w->has_date) {
        memcpy(line, "Date: ", 6);
        n = 6 + gn__http_date(line + 6);
        line[n++] = '\r';
        line[n++] = '\n';
        rc = gn__http_out(hc, line, n);
    }
    if (!rc && length >= 0) {
        memcpy(line, "Content-Length: ", 16);
        n = 16 + gn__http_u64(line + 16, (uint64_t)length);
        line[n++] = '\r';
        line[n++] = '\n';
        rc = gn__http_out(hc, line, n);
    }
    if (!rc && w->chunked) rc = GN__HTTP_OUTS(hc, "Transfer-Encoding: chunked\r\n");
    if (!rc && w->close) rc = GN__HTTP_OUTS(hc, "Connection: close\r\n");
    else if (!rc && hc->req.head.minor == 0) rc = GN__HTTP_OUTS(hc, "Connection: keep-alive\r\n");
    if (!rc) rc = GN__HTTP_OUTS(hc, "\r\n");
    return rc;
}

GN__PRIVATE void gn__http_type_default(gn_http_response *w, const char *body, size_t n) {
    if (w->has_type || w->no_body || (n == 0 && w->written == 0)) return;
    gn__http_hdr_add(w, "Content-Type", gn__http_sniff(body, n));
}

/* Starts streaming: the head goes out without a length (chunked, or until close
 * for HTTP/1.0) unless the handler declared one.                                */
GN__PRIVATE int gn__http_start_stream(gn_http_response *w, const void *more, size_t nmore) {
    gn__http_conn *hc = w->hc;
    if (!w->status) gn_http_write_header(w, 200);
    if (w->wlen) gn__http_type_default(w, GN__HC_WBUF(hc), w->wlen);
    else gn__http_type_default(w, (const char *)more, nmore);
    if (!w->no_body && !w->head && w->clen < 0) {
        if (hc->req.head.minor >= 1) w->chunked = 1;
        else w->close = 1;
    }
    int rc = gn__http_write_head(w, w->clen);
    w->head_sent = 1;
    return rc;
}

/* Sends the buffered body bytes and then p[0, n), framed as the response needs. */
GN__PRIVATE int gn__http_send_body(gn_http_response *w, const void *p, size_t n) {
    gn__http_conn *hc = w->hc;
    size_t total = w->wlen + n;
    if (w->no_body || w->head || total == 0) {
        w->wlen = 0;
        return gn__http_flush_out(hc);
    }
    gn__iov iov[4];
    int k = 0;
    char size_line[24];
    if (w->chunked) {
        size_t sn = 0;
        static const char hex[] = "0123456789abcdef";
        char t[20];
        size_t v = total, tn = 0;
        do { t[tn++] = hex[v & 15]; v >>= 4; } while (v);
        while (tn) size_line[sn++] = t[--tn];
        size_line[sn++] = '\r';
        size_line[sn++] = '\n';
        iov[k].iov_base = size_line;
        iov[k++].iov_len = sn;
    }
    if (w->wlen) {
        iov[k].iov_base = GN__HC_WBUF(hc);
        iov[k++].iov_len = w->wlen;
    }
    if (n) {
        iov[k].iov_base = (void *)p;
        iov[k++].iov_len = n;
    }
    if (w->chunked) {
        iov[k].iov_base = (void *)"\r\n";
        iov[k++].iov_len = 2;
    }
    w->wlen = 0;
    return gn__http_send(hc, iov, k);
}

GONET_API int64_t gn_http_write(gn_http_response *w, const void *buf, size_t n) {
    if (!w || (!buf && n)) return GN_EINVAL;
    if (w->det) return gn__det_write(w->det, buf, n);
    if (w->err) return w->err;
    if (!w->status) gn_http_write_header(w, 200);
    if (n == 0) return 0;
    if (w->clen >= 0 && w->written + (int64_t)n > w->clen) return GN_ETOOLARGE;  /* Go's ErrContentLength */
    w->written += (int64_t)n;
    gn__http_conn *hc = w->hc;
    size_t cap = hc->srv->o.write_buffer_size;
    if (w->no_body) {   /* 1xx, 204, 304: counted, never sent */
        if (!w->head_sent && w->wlen + n <= cap) w->wlen += n;
        else if (!w->head_sent && (w->err = gn__http_start_stream(w, NULL, 0)) != 0) return w->err;
        return (int64_t)n;
    }
    if (w->wlen + n <= cap) {
        memcpy(GN__HC_WBUF(hc) + w->wlen, buf, n);
        w->wlen += n;
        return (int64_t)n;
    }
    int rc = 0;
    if (!w->head_sent) rc = gn__http_start_stream(w, buf, n);
    if (!rc) rc = gn__http_send_body(w, buf, n);
    if (rc) w->err = rc;
    return rc ? rc : (int64_t)n;
}

GONET_API int64_t gn_http_write_string(gn_http_response *w, const char *s) {
    if (!s) return GN_EINVAL;
    return gn_http_write(w, s, strlen(s));
}

GONET_API int gn_http_flush(gn_http_response *w) {
    if (!w) return GN_EINVAL;
    if (w->det) return 0;   /* buffered until the middleware decides */
    if (w->err) return w->err;
    int rc = 0;
    if (!w->head_sent) rc = gn__http_start_stream(w, NULL, 0);
    if (!rc) rc = gn__http_send_body(w, NULL, 0);
    if (rc) w->err = rc;
    return rc;
}

/* The handler returned: send what it left, as one response with a length if it
 * never streamed. more: pipelined requests wait, so gather rather than send.  */
GN__PRIVATE int gn__http_finish(gn_http_response *w, int more) {
    gn__http_conn *hc = w->hc;
    if (w->err) return w->err;
    if (!w->head_sent) {
        if (!w->status) gn_http_write_header(w, 200);
        gn__http_type_default(w, GN__HC_WBUF(hc), w->wlen);
        int64_t length = w->clen >= 0 ? w->clen : (int64_t)w->wlen;
        if (w->status < 200 || w->status == 204 || (w->status == 304 && w->clen < 0)) length = -1;
        if (w->no_body && w->clen < 0) length = -1;
        int rc = gn__http_write_head(w, length);
        if (rc) return rc;
        int body = !w->no_body && !w->head && w->wlen;
        if (body && hc->olen + w->wlen <= GN__HTTP_OUT_SIZE && more) {
            rc = gn__http_out(hc, GN__HC_WBUF(hc), w->wlen);
            w->wlen = 0;
            return rc;
        }
        if (!body) {
            w->wlen = 0;
            return more ? 0 : gn__http_flush_out(hc);
        }
        gn__iov iov;   /* fields by name: their order differs by OS */
        iov.iov_base = GN__HC_WBUF(hc);
        iov.iov_len = w->wlen;
        w->wlen = 0;
        rc = gn__http_send(hc, &iov, 1);
        if (!rc && w->clen >= 0 && w->written < w->clen) w->close = 1;   /* short: framing lost */
        return rc;
    }
    int rc = gn__http_send_body(w, NULL, 0);
    if (!rc && w->chunked) {
        rc = GN__HTTP_OUTS(hc, "0\r\n\r\n");
        if (!rc && !more) rc = gn__http_flush_out(hc);
    } else if (!rc && !more) {
        rc = gn__http_flush_out(hc);
    }
    if (!w->chunked && w->clen >= 0 && w->written < w->clen) w->close = 1;
    return rc;
}

GONET_API int gn_http_error(gn_http_response *w, const char *msg, int status) {
    if (!w || !msg) return GN_EINVAL;
    if (w->head_sent || w->status) return GN_ESTATE;
    gn_http_del_header(w, "Content-Length");
    gn_http_set_header(w, "Content-Type", "text/plain; charset=utf-8");
    gn_http_set_header(w, "X-Content-Type-Options", "nosniff");
    int rc = gn_http_write_header(w, status);
    if (rc) return rc;
    gn_http_write_string(w, msg);
    gn_http_write(w, "\n", 1);
    return 0;
}

GONET_API int gn_http_redirect(gn_http_response *w, gn_http_request *r, const char *url, int status) {
    if (!w || !r || !url || !gn__http_valid_value(url)) return GN_EINVAL;
    if (status < 300 || status > 399) return GN_EINVAL;
    int rc = gn_http_set_header(w, "Location", url);
    if (rc) return rc;
    int is_get = strcmp(r->head.method, "GET") == 0 || strcmp(r->head.method, "HEAD") == 0;
    if (is_get && !w->has_type) gn_http_set_header(w, "Content-Type", "text/html; charset=utf-8");
    rc = gn_http_write_header(w, status);
    if (rc) return rc;
    if (strcmp(r->head.method, "GET") == 0) {   /* as Go: a short note for old agents */
        gn_http_write_string(w, "<a href=\"");
        for (const char *p = url; *p; p++) {    /* HTML-escaped */
            const char *e = *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '&' ? "&amp;"
                          : *p == '"' ? "&#34;" : *p == '\'' ? "&#39;" : NULL;
            if (e) gn_http_write_string(w, e); else gn_http_write(w, p, 1);
        }
        gn_http_write_string(w, "\">");
        gn_http_write_string(w, gn_http_status_text(status));
        gn_http_write_string(w, "</a>.\n\n");
    }
    return 0;
}

/* ---- the request ----------------------------------------------------------------- */
GN__PRIVATE void gn__http_set_pathvalues(gn_http_request *r, const gn__pathval *vals, int n) {
    r->pathvals = vals;
    r->npathvals = n;
}
GN__PRIVATE const char *gn__http_escaped_path(const gn_http_request *r) { return r->escaped_path; }

GONET_API const char *gn_http_path_value(const gn_http_request *r, const char *name) {
    if (!r || !name) return NULL;
    for (int i = 0; i < r->npathvals; i++)
        if (strcmp(r->pathvals[i].name, name) == 0) return r->pathvals[i].value;
    return NULL;
}
GONET_API const char *gn_http_method(const gn_http_request *r) { return r ? r->head.method : NULL; }
GONET_API const char *gn_http_target(const gn_http_request *r) { return r ? r->head.target : NULL; }
GONET_API const char *gn_http_path(const gn_http_request *r) { return r ? r->path : NULL; }
GONET_API const char *gn_http_raw_query(const gn_http_request *r) {
    return !r ? NULL : r->head.query ? r->head.query : "";
}
GONET_API const char *gn_http_host(const gn_http_request *r) { return r ? r->host : NULL; }
GONET_API int gn_http_proto_minor(const gn_http_request *r) { return r ? r->head.minor : GN_EINVAL; }
GONET_API const char *gn_http_remote_addr(const gn_http_request *r) {
    if (!r) return NULL;
    gn__http_conn *hc = r->hc;
    if (!hc->remote[0] && gn_remote_addr(hc->c, hc->remote, sizeof hc->remote) < 0) hc->remote[0] = 0;
    return hc->remote;
}
GONET_API const char *gn_http_header_get(const gn_http_request *r, const char *name) {
    if (!r || !name) return NULL;
    const gn_http_header *h = gn__http_find(&r->head, name);
    return h ? h->value : NULL;
}
GONET_API size_t gn_http_headers(const gn_http_request *r, const gn_http_header **out) {
    if (!r) return 0;
    if (out) *out = r->head.hdrs;
    return r->head.nhdrs;
}
GONET_API int64_t gn_http_content_length(const gn_http_request *r) {
    return r ? r->head.content_length : GN_EINVAL;
}
/* ---- the request's context --------------------------------------------------------
 * Cancelled when the handler returns or the client goes away. Going away is seen
 * without a coroutine or a read: once the body is consumed, the connection is
 * armed in the poller (as an idle one is), and the coroutine that readiness
 * starts cancels the context if the peer hung up. Bytes of a pipelined request
 * also make it readable; they stay in the socket for the next read.           */
GN__PRIVATE void gn__http_watch_fired(void *arg) {
    gn_http_request *r = &((gn__http_conn *)arg)->req;
    uint32_t armed = GN__WATCH_ARMED;
    if (!gn__cas(&r->watch, &armed, (uint32_t)GN__WATCH_RUNNING)) return;
    if (gn__conn_hung_up(r->hc->c)) gn_context_cancel(r->ctx);
    gn__store(&r->watch, (uint32_t)GN__WATCH_DONE);
}

GN__PRIVATE void gn__http_watch_start(gn_http_request *r) {
    if (!r->ctx || r->watch != GN__WATCH_OFF) return;
    if (r->body_kind == GN__BODY_LENGTH && r->body_left > 0) return;   /* body first */
    if (r->body_kind == GN__BODY_CHUNKED && !r->chunked.done) return;
    gn__store(&r->watch, (uint32_t)GN__WATCH_ARMED);
    int rc = gn__conn_watch(r->hc->c, gn__http_watch_fired, r->hc);
    if (rc != 0) {   /* not armed: look now */
        gn__store(&r->watch, (uint32_t)GN__WATCH_DONE);
        if (gn__conn_hung_up(r->hc->c)) gn_context_cancel(r->ctx);
    }
}

/* After the handler: the watch must be off before the connection reads again
 * and before the context goes.                                                 */
GN__PRIVATE void gn__http_watch_stop(gn_http_request *r) {
    if (r->watch == GN__WATCH_OFF) return;
    if (gn__load(&r->watch) == GN__WATCH_ARMED && gn__conn_unwatch(r->hc->c)) return;
    /* It fired: its coroutine is on its way and touches r; wait for it.       */
    while (gn__load(&r->watch) != GN__WATCH_DONE) gn_yield();
}

GONET_API gn_context *gn_http_request_context(gn_http_request *r) {
    if (!r) return NULL;
    if (!r->ctx) {
        r->ctx = gn_context_with_cancel(NULL);
        if (r->ctx) gn__http_watch_start(r);
    }
    return r->ctx;
}

/* Reads more body bytes into the read buffer after the head, which must stay
 * where it is while the handler runs. > 0, or an error.                        */
GN__PRIVATE int64_t gn__http_fill_tail(gn__http_conn *hc) {
    char *rb = GN__HC_RBUF(hc);
    if (hc->rend == hc->rpos) {
        hc->rpos = hc->rend = hc->body_base;
    } else if (hc->rend == hc->srv->rsize && hc->rpos > hc->body_base) {
        memmove(rb + hc->body_base, rb + hc->rpos, hc->rend - hc->rpos);
        hc->rend -= hc->rpos - hc->body_base;
        hc->rpos = hc->body_base;
    }
    if (hc->rend == hc->srv->rsize) return GN_EBUFFULL;
    int64_t n = gn_read(hc->c, rb + hc->rend, hc->srv->rsize - hc->rend);
    if (n > 0) hc->rend += (size_t)n;
    return n;
}

GN__PRIVATE int gn__http_send_continue(gn__http_conn *hc) {
    gn_http_request *r = &hc->req;
    if (!r->head.expect_continue || r->sent_continue || hc->resp.head_sent) return 0;
    r->sent_continue = 1;
    int rc = GN__HTTP_OUTS(hc, "HTTP/1.1 100 Continue\r\n\r\n");
    return rc ? rc : gn__http_flush_out(hc);
}

GONET_API int64_t gn_http_body_read(gn_http_request *r, void *buf, size_t n) {
    if (!r || (!buf && n)) return GN_EINVAL;
    if (r->body_err) return r->body_err;
    if (r->body_kind == GN__BODY_NONE) return GN_EOF;
    if (n == 0) return 0;
    gn__http_conn *hc = r->hc;
    if (r->ctx && r->watch == GN__WATCH_OFF &&
        ((r->body_kind == GN__BODY_LENGTH && r->body_left == 0) ||
         (r->body_kind == GN__BODY_CHUNKED && r->chunked.done))) {
        gn__http_watch_start(r);
        return GN_EOF;
    }
    int rc = gn__http_send_continue(hc);
    if (rc) return r->body_err = rc;
    int64_t max = hc->srv->o.max_body_bytes;
    int64_t got;
    if (r->body_kind == GN__BODY_LENGTH) {
        if (r->body_left == 0) return GN_EOF;
        size_t want = (uint64_t)r->body_left < n ? (size_t)r->body_left : n;
        size_t have = hc->rend - hc->rpos;
        if (have) {
            got = (int64_t)(have < want ? have : want);
            memcpy(buf, GN__HC_RBUF(hc) + hc->rpos, (size_t)got);
            hc->rpos += (size_t)got;
        } else {
            got = gn_read(hc->c, buf, want);   /* large bodies skip the buffer */
            if (got == GN_EOF) got = GN_EUNEXPECTEDEOF;
            if (got < 0) return r->body_err = (int)got;
        }
        r->body_left -= got;
    } else {
        for (;;) {
            if (r->chunked.done) return GN_EOF;
            size_t have = hc->rend - hc->rpos;
            uint64_t direct = gn__chunked_data_left(&r->chunked);
            if (!have && direct) {   /* chunk data straight into the caller's buffer */
                size_t want = direct < n ? (size_t)direct : n;
                got = gn_read(hc->c, buf, want);
                if (got == GN_EOF) got = GN_EUNEXPECTEDEOF;
                if (got < 0) return r->body_err = (int)got;
                gn__chunked_skip_data(&r->chunked, (uint64_t)got);
                break;
            }
            if (!have) {
                got = gn__http_fill_tail(hc);
                if (got == GN_EOF) got = GN_EUNEXPECTEDEOF;
                if (got < 0) return r->body_err = (int)got;
                continue;
            }
            const char *data;
            size_t dlen;
            int64_t used = gn__chunked_feed(&r->chunked, GN__HC_RBUF(hc) + hc->rpos, have, n, &data, &dlen);
            if (used < 0) return r->body_err = (int)used;
            hc->rpos += (size_t)used;
            if (dlen) {
                memmove(buf, data, dlen);
                got = (int64_t)dlen;
                break;
            }
        }
    }
    r->body_read += got;
    if (max >= 0 && r->body_read > max) return r->body_err = GN_ETOOLARGE;
    return got;
}

GONET_API int64_t gn_http_body_reader(void *request, void *buf, size_t n) {
    return gn_http_body_read((gn_http_request *)request, buf, n);
}

/* After the handler: consume what is left of the body so that the next request
 * can be read, if that is cheap; 0 if the connection can go on.                */
GN__PRIVATE int gn__http_drain_body(gn_http_request *r) {
    if (r->body_kind == GN__BODY_NONE) return 0;
    if (r->body_err) return r->body_err;
    if (r->head.expect_continue && !r->sent_continue) return GN_ESTATE;  /* never sent: close */
    if (r->body_kind == GN__BODY_LENGTH && r->body_left > GN__HTTP_DRAIN_MAX) return GN_ETOOLARGE;
    char tmp[1024];
    int64_t budget = GN__HTTP_DRAIN_MAX, n;
    while ((n = gn_http_body_read(r, tmp, sizeof tmp)) > 0)
        if ((budget -= n) < 0) return GN_ETOOLARGE;
    return n == GN_EOF ? 0 : (int)n;
}

GN__PRIVATE void gn__http_conn_unlink(gn__http_conn *hc);

/* The hijacked connection's owner closed it: the server forgets it.            */
GN__PRIVATE void gn__http_hijack_closed(void *arg) {
    gn__http_conn *hc = (gn__http_conn *)arg;
    gn_http_server *s = hc->srv;
    gn__lock(&s->lock);
    s->nhijacked--;
    gn__unlock(&s->lock);
    if (s->slots) gn_chan_try_recv(s->slots, NULL);
    gn__http_conn_unlink(hc);     /* the last touch of s */
    GN_FREE(hc);
}

GONET_API int gn_http_hijack(gn_http_response *w, gn_conn **out, const char **buffered, size_t *nbuffered) {
    if (!w || !out) return GN_EINVAL;
    if (w->det) return GN_ENOSYS;   /* not under the timeout middleware, as in Go */
    gn__http_conn *hc = w->hc;
    if (w->head_sent || gn__load(&hc->state) == GN__HC_HIJACKED) return GN_ESTATE;
    if (hc->olen && gn__http_flush_out(hc) != 0) return GN_ECLOSED;
    w->err = GN_ESTATE;   /* the writer is dead: its bytes would corrupt the stream */
    gn__lock(&hc->srv->lock);
    hc->srv->nhijacked++;
    gn__unlock(&hc->srv->lock);
    gn__store(&hc->state, (uint32_t)GN__HC_HIJACKED);
    gn_set_deadline(hc->c, 0);
    *out = hc->c;
    if (buffered) *buffered = GN__HC_RBUF(hc) + hc->rpos;
    if (nbuffered) *nbuffered = hc->rend - hc->rpos;
    return 0;
}

/* ---- the timeout middleware (Go's http.TimeoutHandler) ----------------------------
 * The wrapped handler runs in a coroutine of its own with a writer that only
 * buffers (status, fields, body in memory). If it returns in time, what it
 * wrote is replayed on the real writer. If not, the client gets a 503 at once,
 * the handler's context is cancelled and its later writes fail with
 * GN_ETIMEDOUT; the middleware still waits for it to return before the
 * connection moves on, since it holds the request.                           */
struct gn__http_detached {
    gn_http_response w;                 /* what the wrapped handler writes to       */
    gn_mutex mu;                        /* the handler against the middleware       */
    int      status, timed_out;
    int      nh;
    char    *names[GN__HTTP_MAX_RESP_HEADERS], *values[GN__HTTP_MAX_RESP_HEADERS];
    char    *body;
    size_t   len, cap;
    gn_http_timeout *cfg;
    gn_http_request *r;
    gn_chan *done;
    int64_t  ended;                     /* when the wrapped handler returned          */
};

/* op: 's' set, 'a' add, 'd' delete.                                            */
GN__PRIVATE int gn__det_header(gn__http_detached *d, const char *name, const char *value, int op) {
    gn_mutex_lock(&d->mu);
    int rc = d->timed_out ? GN_ETIMEDOUT : d->status ? GN_ESTATE : 0;
    if (!rc && op != 'a') {
        int j = 0;
        for (int i = 0; i < d->nh; i++) {
            if (strlen(d->names[i]) == strlen(name) && gn__http_ieq(d->names[i], name, strlen(name))) {
                GN_FREE(d->names[i]);
                GN_FREE(d->values[i]);
            } else {
                d->names[j] = d->names[i];
                d->values[j++] = d->values[i];
            }
        }
        d->nh = j;
    }
    if (!rc && op != 'd') {
        if (d->nh == GN__HTTP_MAX_RESP_HEADERS) {
            rc = GN_ETOOLARGE;
        } else if (!(d->names[d->nh] = gn__strdup(name)) || !(d->values[d->nh] = gn__strdup(value))) {
            GN_FREE(d->names[d->nh]);
            rc = GN_ENOMEM;
        } else {
            d->nh++;
        }
    }
    gn_mutex_unlock(&d->mu);
    return rc;
}

GN__PRIVATE int gn__det_status(gn__http_detached *d, int status) {
    gn_mutex_lock(&d->mu);
    int rc = d->timed_out ? GN_ETIMEDOUT : d->status ? GN_ESTATE : 0;
    if (!rc) d->status = d->w.status = status;
    gn_mutex_unlock(&d->mu);
    return rc;
}

GN__PRIVATE int64_t gn__det_write(gn__http_detached *d, const void *buf, size_t n) {
    gn_mutex_lock(&d->mu);
    int64_t rc = d->timed_out ? GN_ETIMEDOUT : 0;
    if (!rc && !d->status) d->status = d->w.status = 200;
    if (!rc && d->len + n > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->len + n) cap *= 2;
        char *b = (char *)GN_REALLOC(d->body, cap);
        if (!b) rc = GN_ENOMEM; else d->body = b, d->cap = cap;
    }
    if (!rc) {
        if (n) memcpy(d->body + d->len, buf, n);
        d->len += n;
        rc = (int64_t)n;
    }
    gn_mutex_unlock(&d->mu);
    return rc;
}

GN__PRIVATE void gn__http_timeout_run(void *arg) {
    gn__http_detached *d = (gn__http_detached *)arg;
    d->cfg->handler(&d->w, d->r, d->cfg->ud);
    d->ended = gn_now();
    gn_chan_send(d->done, NULL);
}

GONET_API void gn_http_timeout_serve(gn_http_response *w, gn_http_request *r, void *timeout) {
    gn_http_timeout *cfg = (gn_http_timeout *)timeout;
    if (!w || !r || !cfg || !cfg->handler) return;
    gn__http_detached *d = (gn__http_detached *)GN_MALLOC(sizeof *d);
    gn_context *outer = gn_http_request_context(r);
    int64_t deadline = gn_now() + cfg->timeout;   /* one instant for the context and us */
    gn_context *inner = outer ? gn_context_with_deadline(outer, deadline) : NULL;
    gn_chan *done = gn_chan_new(0, 1);
    if (!d || !inner || !done) {
        GN_FREE(d);
        gn_context_free(inner);
        gn_chan_free(done);
        gn_http_error(w, "Service Unavailable", 503);
        return;
    }
    memset(d, 0, sizeof *d);
    d->w.det = d;
    d->w.clen = -1;
    d->cfg = cfg;
    d->r = r;
    d->done = done;
    r->ctx = inner;   /* the handler's gn_http_request_context: the deadline too */
    gn_select_case c = {done, GN_RECV, NULL, 0};
    int returned = 0;
    if (gn_go(gn__http_timeout_run, d) < 0) {
        gn_http_error(w, "Service Unavailable", 503);
    } else if ((returned = gn_select_until(&c, 1, deadline) == 0) && d->ended < deadline) {
        /* In time: replay what it wrote.                                       */
        for (int i = 0; i < d->nh; i++) gn_http_add_header(w, d->names[i], d->values[i]);
        gn_http_write_header(w, d->status ? d->status : 200);
        if (d->len) gn_http_write(w, d->body, d->len);
    } else {
        /* Its context ends at the deadline too, so a handler that returned
         * just now may have been answering that: past it, a 503 all the same. */
        gn_mutex_lock(&d->mu);
        d->timed_out = 1;
        gn_mutex_unlock(&d->mu);
        gn_http_set_header(w, "Content-Type", "text/html; charset=utf-8");
        gn_http_write_header(w, 503);
        gn_http_write_string(w, cfg->message ? cfg->message
                                             : "<html><head><title>Timeout</title></head><body>"
                                               "<h1>Timeout</h1></body></html>");
        gn_http_flush(w);                  /* the client hears now ...                  */
        gn_context_cancel(inner);
        if (!returned) gn_chan_recv(done, NULL);   /* ... and the request outlives the handler */
    }
    r->ctx = outer;
    gn_context_free(inner);
    gn_chan_free(done);
    for (int i = 0; i < d->nh; i++) {
        GN_FREE(d->names[i]);
        GN_FREE(d->values[i]);
    }
    GN_FREE(d->body);
    GN_FREE(d);
}

/* ---- one connection --------------------------------------------------------------- */
GN__PRIVATE void gn__http_server_destroy(gn_http_server *s);

/* Takes hc off the server's list. A server freed while connections were still
 * running (a handler stuck past the shutdown deadline) goes with the last one. */
GN__PRIVATE void gn__http_conn_unlink(gn__http_conn *hc) {
    gn_http_server *s = hc->srv;
    gn__lock(&s->lock);
    if (hc->prev) hc->prev->next = hc->next; else s->conns = hc->next;
    if (hc->next) hc->next->prev = hc->prev;
    int last = --s->nconns == 0 && s->free_pending;
    gn__unlock(&s->lock);
    if (last) gn__http_server_destroy(s);
}

/* The request's path and host as C strings: the escaped path, the decoded path
 * and the host, placed at the arena's far end (response headers get the rest),
 * or, for a path too long for that, in an allocation freed after the handler.
 * 0, GN_ENOMEM, or GN_EINVAL for a malformed escape in the path ("%zz", a
 * lone "%"), which Go's server answers with 400 as well.                     */
GN__PRIVATE int gn__http_prepare(gn__http_conn *hc) {
    gn_http_request *r = &hc->req;
    gn__http_head *h = &r->head;
    size_t plen = h->path_len;
    const char *pp = h->path;
    if (plen == 0) pp = "/", plen = 1;   /* absolute-form without a path */
    size_t hlen = h->host ? h->host_len : 0;
    size_t need = plen + 1 + plen + 1 + hlen + 1;
    char *dst;
    if (need <= GN__HTTP_ARENA_SIZE / 2) {
        dst = GN__HC_ARENA(hc) + GN__HTTP_ARENA_SIZE - need;
        hc->resp.acap = GN__HTTP_ARENA_SIZE - need;
    } else {
        if (!(r->heap = dst = (char *)GN_MALLOC(need))) return GN_ENOMEM;
        hc->resp.acap = GN__HTTP_ARENA_SIZE;
    }
    memcpy(dst, pp, plen);
    dst[plen] = 0;
    r->escaped_path = dst;
    dst += plen + 1;
    if (gn__url_unescape(pp, plen, dst, plen + 1, GN__UNESCAPE_PATH) < 0) {
        GN_FREE(r->heap);
        r->heap = NULL;
        return GN_EINVAL;
    }
    r->path = dst;
    dst += plen + 1;
    if (hlen) memcpy(dst, h->host, hlen);
    dst[hlen] = 0;
    r->host = dst;
    return 0;
}

GN__PRIVATE void gn__http_conn_main(void *arg);

/* A connection waiting for a request, parked or in a read, stays NEW or IDLE
 * until the request's first bytes, so that a shutdown can close it as idle
 * (Go's StateIdle to StateActive). 0, or GN_ECLOSED if a shutdown was first. */
GN__PRIVATE int gn__http_conn_activate(gn__http_conn *hc) {
    uint32_t st = gn__load(&hc->state);
    while (st != GN__HC_ACTIVE) {
        if (st != GN__HC_IDLE && st != GN__HC_NEW) return GN_ECLOSED;
        if (gn__cas(&hc->state, &st, (uint32_t)GN__HC_ACTIVE)) break;
    }
    return 0;
}

/* The poller's way back in: bytes (or a deadline, or a close) arrived on an
 * idle connection parked without a coroutine.                                  */
GN__PRIVATE void gn__http_conn_wake(void *arg) {
    ((gn__http_conn *)arg)->woken = 1;
    gn__http_conn_main(arg);
}

/* How long a connection may wait for the first byte of its next request: a new
 * one's first byte is part of its first head (Go's ReadHeaderTimeout); later
 * ones may idle for idle_timeout.                                              */
GN__PRIVATE void gn__http_wait_deadline(gn__http_conn *hc) {
    const gn_http_server_opts *o = &hc->srv->o;
    gn__http_deadline(hc, 'r', hc->nreq ? o->idle_timeout : o->read_header_timeout);
}

/* Waits for the next request in the poller, with no coroutine: 0 when parked
 * (the poller owns hc), 1 when readable now, < 0 when closed or timed out.     */
GN__PRIVATE int gn__http_conn_park(gn__http_conn *hc) {
    gn__http_wait_deadline(hc);
    return hc->nreq ? gn__conn_park_idle(hc->c, gn__http_conn_wake, hc)
                    : gn__conn_park_new(hc->c, gn__http_conn_wake, hc);
}

GN__PRIVATE void gn__http_conn_main(void *arg) {
    gn__http_conn *hc = (gn__http_conn *)arg;
    gn_http_server *s = hc->srv;
    const gn_http_server_opts *o = &s->o;
    gn_http_request *r = &hc->req;
    gn_http_response *w = &hc->resp;
    int keep = 1;
    while (keep) {
        /* Wait for the next request without holding a buffer.                     */
        if (!hc->block) {
            /* Before its first request a connection stays NEW, even while
             * shutting down: the request may be on its way.                   */
            uint32_t st = hc->nreq ? GN__HC_IDLE : GN__HC_NEW;
            if (!hc->woken) gn__store(&hc->state, st);
            if (hc->nreq && gn__load(&s->shutting)) break;
            if (hc->woken) {
                hc->woken = 0;
            } else {
                int rc = gn__http_conn_park(hc);
                if (rc == 0) return;   /* parked in the poller, no coroutine */
                if (rc < 0) break;
            }
            /* Its deadline or a close ended the wait: a read would only fail,
             * so a flood of silent connections timing out takes no buffers.   */
            if (gn__fd_check(&hc->c->f, 'r') != 0) break;
            if (gn__load(&hc->state) != st) break;   /* closed by a shutdown */
            hc->block = gn__http_block_get(s);
            if (!hc->block) break;
            hc->rpos = hc->rend = 0;
        } else {
            gn__store(&hc->state, (uint32_t)GN__HC_ACTIVE);
        }
        /* Read until a head is complete.                                          */
        memset(r, 0, sizeof *r);
        r->hc = hc;
        size_t prev = 0;
        int64_t start = 0;
        int pr;
        for (;;) {
            pr = hc->rend > hc->rpos
                     ? gn__http_parse_request(GN__HC_RBUF(hc) + hc->rpos, hc->rend - hc->rpos, prev, &r->head,
                                              GN__HC_REQH(hc), GN__HTTP_MAX_REQ_HEADERS, o->max_header_bytes)
                     : 0;
            if (pr != 0) break;
            prev = hc->rend - hc->rpos;
            if (hc->olen && gn__http_flush_out(hc) != 0) { pr = GN_ECLOSED; break; }
            if (hc->rpos > 0) {   /* move the partial head to the front */
                memmove(GN__HC_RBUF(hc), GN__HC_RBUF(hc) + hc->rpos, hc->rend - hc->rpos);
                hc->rend -= hc->rpos;
                hc->rpos = 0;
            }
            /* Empty lines before a request (a CRLF after a POST body) do not
             * start its head: the connection still idles, and a timeout then
             * closes it quietly rather than answer a request nobody sent.   */
            if (hc->rend == 0) {
                gn__http_wait_deadline(hc);
            } else if (!start && gn__http_eols(GN__HC_RBUF(hc), hc->rend) < hc->rend) {
                if (gn__http_conn_activate(hc) != 0) { pr = GN_ECLOSED; break; }
                start = gn_now();
                gn__http_deadline(hc, 'r', o->read_header_timeout);
            }
            if (hc->rend >= o->max_header_bytes) { pr = -431; break; }
            int64_t n = gn_read(hc->c, GN__HC_RBUF(hc) + hc->rend, o->max_header_bytes + 1 - hc->rend);
            if (n <= 0) { pr = n == GN_ETIMEDOUT && start ? -408 : GN_ECLOSED; break; }
            hc->rend += (size_t)n;
        }
        if (pr < 0) {
            if (pr > -600 && pr != GN_ECLOSED) {   /* the client's fault: say so and close */
                gn__http_reply_error(hc, -pr);
                gn__http_linger_close(hc);
            }
            break;
        }
        if (gn__http_conn_activate(hc) != 0) break;
        hc->rpos += (size_t)pr;
        hc->body_base = hc->rpos;
        /* The body.                                                               */
        if (r->head.chunked) {
            r->body_kind = GN__BODY_CHUNKED;
            gn__chunked_init(&r->chunked, NULL, 0, 0);
        } else if (r->head.content_length > 0) {
            r->body_kind = GN__BODY_LENGTH;
            r->body_left = r->head.content_length;
        }
        if (o->max_body_bytes >= 0 && r->head.content_length > o->max_body_bytes) {
            gn__http_reply_error(hc, 413);
            gn__http_linger_close(hc);
            break;
        }
        memset(w, 0, sizeof *w);
        w->hc = hc;
        w->clen = -1;
        w->hdrs = GN__HC_RESPH(hc);
        int prc = gn__http_prepare(hc);
        if (prc != 0) {
            gn__http_reply_error(hc, prc == GN_EINVAL ? 400 : 500);
            if (prc == GN_EINVAL) gn__http_linger_close(hc);
            break;
        }
        if (r->body_kind != GN__BODY_NONE) gn__http_deadline(hc, 'r', o->read_timeout);
        /* Go's WriteTimeout: the whole response, from the end of the head.     */
        gn__http_deadline(hc, 'w', o->write_timeout);
        hc->nreq++;
        /* The handler.                                                            */
        if (!r->head.keep_alive || gn__load(&s->shutting)) w->close = 1;
        if (strcmp(r->head.method, "HEAD") == 0) w->head = 1;
        o->handler(w, r, o->ud);
        GN_FREE(r->heap);
        r->heap = NULL;
        gn__http_watch_stop(r);
        if (r->ctx) {
            gn_context_cancel(r->ctx);
            gn_context_free(r->ctx);
            r->ctx = NULL;
        }
        if (gn__load(&hc->state) == GN__HC_HIJACKED) {
            /* The hijacker owns the connection now. The server still lists it,
             * until its close calls gn__http_hijack_closed; until then hc and
             * the connection live (that call unlinks under the server lock).  */
            gn__http_block_put(s, hc->block);
            hc->block = NULL;
            gn_conn *c = hc->c;
            c->f.on_close_arg = hc;
            gn__store(&c->f.on_close, &gn__http_hijack_closed);
            if (gn__load(&c->f.closed)) gn__fd_run_on_close(&c->f);   /* closed already */
            gn__conn_put(c);   /* the server's reference */
            return;
        }
        if (gn__http_drain_body(r) != 0) w->close = 1;
        /* Only empty lines left (a CRLF after the body): not a request, so
         * drop them and let the connection idle without its work block.   */
        if (hc->rend - hc->rpos <= 2 * GN__HTTP_MAX_LEADING_EOL &&
            gn__http_eols(GN__HC_RBUF(hc) + hc->rpos, hc->rend - hc->rpos) == hc->rend - hc->rpos)
            hc->rpos = hc->rend;
        if (gn__load(&s->shutting)) w->close = 1;
        int more = !w->close && hc->rend > hc->rpos;
        if (gn__http_finish(w, more) != 0) break;
        keep = !w->close;
        if (!keep) {
            gn__http_flush_out(hc);
            break;
        }
        if (hc->rend == hc->rpos) {   /* nothing pipelined: give the block back */
            if (hc->olen && gn__http_flush_out(hc) != 0) break;
            gn__http_block_put(s, hc->block);
            hc->block = NULL;
        } else if (hc->rpos > 0) {
            memmove(GN__HC_RBUF(hc), GN__HC_RBUF(hc) + hc->rpos, hc->rend - hc->rpos);
            hc->rend -= hc->rpos;
            hc->rpos = 0;
        }
    }
    if (hc->block) gn__http_flush_out(hc);
    gn__http_block_put(s, hc->block);
    hc->block = NULL;
    if (s->slots) gn_chan_try_recv(s->slots, NULL);
    gn__http_conn_unlink(hc);     /* the last touch of s: shutdown may now return */
    gn_close(hc->c);
    gn__conn_put(hc->c);          /* the server's reference */
    GN_FREE(hc);
}

/* ---- the server ------------------------------------------------------------------- */
GONET_API gn_http_server *gn_http_server_new(const gn_http_server_opts *opts) {
    if (!opts || !opts->handler) return NULL;
    gn_http_server *s = (gn_http_server *)GN_MALLOC(sizeof *s);
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    s->o = *opts;
    gn_http_server_opts *o = &s->o;
    if (o->read_header_timeout <= 0) o->read_header_timeout = 10 * GN_SECOND;
    if (o->read_timeout <= 0) o->read_timeout = 60 * GN_SECOND;
    if (o->write_timeout <= 0) o->write_timeout = 60 * GN_SECOND;
    if (o->idle_timeout <= 0) o->idle_timeout = 120 * GN_SECOND;
    if (o->max_header_bytes == 0) o->max_header_bytes = 16 * 1024;
    if (o->max_header_bytes < 256) o->max_header_bytes = 256;
    if (o->max_body_bytes == 0) o->max_body_bytes = 64 * 1024 * 1024;
    if (o->write_buffer_size == 0) o->write_buffer_size = 4096;
    s->rsize = GN__HTTP_ROUND16(o->max_header_bytes + GN__HTTP_BODY_TAIL);
    s->wsize = GN__HTTP_ROUND16(o->write_buffer_size);
    s->block_size = s->rsize + s->wsize + GN__HTTP_OUT_SIZE + GN__HTTP_ARENA_SIZE +
                    GN__HTTP_MAX_REQ_HEADERS * sizeof(gn_http_header) +
                    GN__HTTP_MAX_RESP_HEADERS * sizeof(gn__http_hdr);
    if (o->max_conns > 0 && !(s->slots = gn_chan_new(0, (size_t)o->max_conns))) {
        GN_FREE(s);
        return NULL;
    }
    return s;
}

GONET_API int gn_http_serve(gn_http_server *s, gn_listener *l) {
    if (!s || !l) return GN_EINVAL;
    gn__lock(&s->lock);
    int slot = s->nln < 8 ? s->nln++ : -1;
    if (slot >= 0) s->ln[slot] = l;
    int shutting = (int)gn__load(&s->shutting);
    if (shutting && slot >= 0) s->nln--;
    gn__unlock(&s->lock);
    if (slot < 0) return GN_ETOOLARGE;
    if (shutting) {
        gn_listener_close(l);
        return GN_ECLOSED;
    }
    int rc;
    for (;;) {
        if (s->slots && (rc = gn_chan_send(s->slots, NULL)) != 0) break;   /* max_conns */
        gn_conn *c;
        rc = gn_accept(l, &c);
        if (rc < 0) {
            if (s->slots) gn_chan_try_recv(s->slots, NULL);
            break;
        }
        gn__http_conn *hc = (gn__http_conn *)GN_MALLOC(sizeof *hc);
        if (!hc) {
            gn_close(c);
            if (s->slots) gn_chan_try_recv(s->slots, NULL);
            continue;
        }
        memset(hc, 0, offsetof(gn__http_conn, req));
        hc->srv = s;
        hc->c = c;
        hc->state = GN__HC_NEW;
        gn__fd_acquire(&c->f);   /* the server's reference, dropped by the connection */
        gn__lock(&s->lock);
        hc->next = s->conns;
        if (s->conns) s->conns->prev = hc;
        s->conns = hc;
        s->nconns++;
        gn__unlock(&s->lock);
        /* Until its first bytes the connection waits in the poller, as an idle
         * one does, with no coroutine; bytes that came with the accept start
         * one as soon as the poller has seen them (at once if it has).       */
        int parked = gn__http_conn_park(hc);
        if (parked == 0) continue;   /* the poller owns hc now: touch it no more */
        hc->woken = parked == 1;
        if (gn_go(gn__http_conn_main, hc) < 0) {
            gn__http_conn_unlink(hc);
            gn_close(c);
            gn__conn_put(c);
            if (s->slots) gn_chan_try_recv(s->slots, NULL);
            GN_FREE(hc);
        }
    }
    if (gn__load(&s->shutting)) rc = GN_ECLOSED;
    return rc;
}

GONET_API int gn_http_listen_and_serve(gn_http_server *s, const char *addr) {
    if (!s || !addr) return GN_EINVAL;
    gn_listener *l;
    int rc = gn_listen(&l, "tcp", addr);
    if (rc < 0) return rc;
    return gn_http_serve(s, l);
}

GONET_API int gn_http_server_conns(gn_http_server *s) {
    if (!s) return GN_EINVAL;
    gn__lock(&s->lock);
    int n = s->nconns;
    gn__unlock(&s->lock);
    return n;
}

/* Closes the idle connections (not NEW ones: a first request may be on its
 * way); with force, every connection: the socket is shut down at once (the
 * peer sees the close even while a handler still runs) and waiters wake with
 * GN_ECLOSED. Hijacked connections are only shut down: their owner still
 * holds them and closes them. Returns how many are listed.                   */
GN__PRIVATE int gn__http_sweep(gn_http_server *s, int force) {
    gn__lock(&s->lock);
    int left = 0;
    for (gn__http_conn *hc = s->conns; hc; hc = hc->next) {
        left++;
        uint32_t st = gn__load(&hc->state);
        if (st == GN__HC_HIJACKED) {
            if (force) gn__conn_cut(hc->c);
            continue;
        }
        uint32_t idle = GN__HC_IDLE;
        if (force || gn__cas(&hc->state, &idle, (uint32_t)GN__HC_CLOSING)) {
            /* The owner reference goes here; the connection's coroutine keeps the
             * server's and frees everything on its way out.                    */
            if (force) gn__conn_cut(hc->c);
            if (gn__fd_close(&hc->c->f) == 1) gn__conn_put(hc->c);
        }
    }
    gn__unlock(&s->lock);
    return left;
}

GONET_API int gn_http_shutdown(gn_http_server *s, int64_t deadline) {
    if (!s) return GN_EINVAL;
    gn__store(&s->shutting, 1u);
    gn__lock(&s->lock);
    int nln = s->nln;
    gn_listener *ln[8];
    memcpy(ln, s->ln, sizeof ln);
    s->nln = 0;
    gn__unlock(&s->lock);
    for (int i = 0; i < nln; i++) gn_listener_close(ln[i]);
    if (s->slots) gn_chan_close(s->slots);   /* an accept loop waiting for a slot */
    int64_t wait = GN_MILLISECOND;
    for (;;) {
        if (gn__http_sweep(s, 0) == 0) return 0;
        if (deadline && gn_now() >= deadline) break;
        gn_sleep(wait);
        if (wait < 50 * GN_MILLISECOND) wait *= 2;
    }
    gn__http_sweep(s, 1);
    for (int i = 0; i < 200 && gn_http_server_conns(s) > 0; i++) {
        gn_sleep(5 * GN_MILLISECOND);
        gn__http_sweep(s, 0);
    }
    return GN_ETIMEDOUT;
}

GN__PRIVATE void gn__http_server_destroy(gn_http_server *s) {
    for (int i = 0; i < s->npool; i++) GN_FREE(s->pool[i]);
    gn_chan_free(s->slots);
    GN_FREE(s);
}

GONET_API void gn_http_server_free(gn_http_server *s) {
    if (!s) return;
    gn__lock(&s->lock);
    int nln = s->nln;
    s->nln = 0;
    gn__unlock(&s->lock);
    for (int i = 0; i < nln; i++) gn_listener_close(s->ln[i]);
    gn__http_sweep(s, 1);
    gn__lock(&s->lock);
    int later = s->nconns > 0;   /* still running: the last connection frees s */
    if (later) s->free_pending = 1;
    gn__unlock(&s->lock);
    if (!later) gn__http_server_destroy(s);
}
