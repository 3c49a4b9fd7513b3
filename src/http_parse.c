/* http_parse.c — the HTTP/1.1 wire grammar (RFC 9110, RFC 9112): message heads
 * (request line or status line, then header fields) and the chunked transfer
 * coding. Nothing here reads a socket, allocates, or keeps state between calls
 * beyond what the caller holds; http_server.c and http_client.c feed it bytes
 * from their read buffers and act on what it returns.
 *
 * Zero-copy. A parsed head is pointers into the caller's buffer. On success the
 * parser NUL-terminates them in place (method, target, header names and values,
 * reason) by overwriting delimiters nobody needs once the head is parsed: the
 * space after the method and after the target, each ':', the OWS after a value,
 * a CR or LF. Its strings are then C strings for as long as the head's bytes stay
 * where they are. Bytes past the head (a body, a pipelined request) are never
 * touched.
 *
 * Incremental. A head arrives in pieces, and a parser that starts over on every
 * piece is O(n^2) for a client that trickles bytes. Each call gets the buffer
 * from the start of the message and prev_len, how much of it an earlier call
 * already saw; it judges only the lines completed since, and parses the whole
 * head once, when its blank line arrives. A line is judged only when complete
 * and whole-head rules (framing, Host) only when the head is, so every split of
 * the input gives the same answer, and malformed lines are refused as soon as
 * they end rather than when a timeout fires.
 *
 * Strict, because two parsers that disagree on where a message ends are how
 * requests are smuggled: one framing (Content-Length or chunked, never both,
 * never ambiguous), no obs-fold, no bare CR, no whitespace before a colon,
 * chunk lines ending in CRLF only. Where the RFCs leave a choice, Go's net/http
 * decides; the places where this part is stricter than Go say so.
 *
 * >>http-parse                                                                  */

/* ---- limits ---------------------------------------------------------------------- */
#define GN__HTTP_MAX_HEAD_DEFAULT (64 * 1024) /* max_head_bytes 0 means this            */
#define GN__HTTP_MAX_LEADING_EOL  4           /* empty lines skipped before a request   */
#define GN__CHUNKED_MAX_LINE      4096        /* a chunk-size line with its extensions  */
#define GN__CHUNKED_MAX_TRAILER_DEFAULT (16 * 1024)
/* Framing a chunked body may carry beyond what its data pays for: each chunk
 * earns 16 bytes plus twice its size, and a body that runs this far in debt
 * (tiny chunks with long extensions) is cut off. Go has the same defence.       */
#define GN__CHUNKED_MAX_EXCESS    (16 * 1024)

/* Tests count the bytes the head parser examines, to check that feeding a byte
 * at a time stays linear.                                                        */
#ifndef GN__HTTP_SCANNED
#  define GN__HTTP_SCANNED(n) ((void)0)
#endif

/* ---- the parsed head ------------------------------------------------------------- */
enum {
    GN__HTTP_FORM_ORIGIN,    /* "/path?query"                                          */
    GN__HTTP_FORM_ABSOLUTE,  /* "http://host:port/path?query" (to proxies, and allowed) */
    GN__HTTP_FORM_AUTHORITY, /* "host:port", CONNECT only                              */
    GN__HTTP_FORM_ASTERISK   /* "*", OPTIONS only                                      */
};

/* What gn__http_parse_request or gn__http_parse_response found. Pointers go into
 * the parsed buffer and, where marked [NUL], are NUL-terminated strings there.
 * Undefined after a call that did not return > 0.                               */
typedef struct gn__http_head {
    /* request line */
    const char *method;    size_t method_len;     /* [NUL] a token, case as sent       */
    const char *target;    size_t target_len;     /* [NUL] as sent                     */
    int         form;                             /* GN__HTTP_FORM_*                   */
    const char *authority; size_t authority_len;  /* absolute- and authority-form:
                                                     "host[:port]"; else NULL, 0       */
    const char *path;      size_t path_len;       /* the origin-form part of the target,
                                                     a [NUL] suffix of it: as a string
                                                     "/a%20b?x=1", path_len counting
                                                     "/a%20b". Empty for an absolute
                                                     target with no path (means "/")
                                                     and for authority-form; "*" for
                                                     asterisk-form.                    */
    const char *query;     size_t query_len;      /* [NUL] after the '?'; NULL if none */
    /* status line */
    int         status;                           /* 100..999                          */
    const char *reason;    size_t reason_len;     /* [NUL] may be empty                */
    /* both */
    int         minor;                            /* HTTP/1.minor: 0 or 1              */
    gn_http_header *hdrs;  size_t nhdrs;          /* [NUL] names and values, in order  */
    int64_t     content_length;                   /* -1: none (or chunked)             */
    const char *host;      size_t host_len;       /* the authority of an absolute- or
                                                     authority-form target, else the Host
                                                     value ([NUL]); NULL if neither    */
    uint8_t     chunked;                          /* Transfer-Encoding: chunked        */
    uint8_t     keep_alive;                       /* from the version and Connection   */
    uint8_t     expect_continue;                  /* HTTP/1.1 with Expect: 100-continue */
    uint8_t     upgrade;                          /* Connection lists "upgrade"        */
    size_t      head_len;                         /* through the blank line            */
} gn__http_head;

/* ---- bytes ------------------------------------------------------------------------
 * One table for every character class the grammar needs (RFC 9110 §5.6.2 token,
 * §5.5 field values, RFC 3986 hosts). Written out by a script; the test
 * char_classes checks every entry against the definitions.                      */
#define GN__HC_TCHAR  0x01 /* token: ALPHA DIGIT !#$%&'*+-.^_`|~                      */
#define GN__HC_VCHAR  0x02 /* 0x21..0x7E: request-target bytes                       */
#define GN__HC_VALUE  0x04 /* field value: HTAB SP VCHAR obs-text (0x80..0xFF)       */
#define GN__HC_HOST   0x08 /* reg-name and IP-literal: unreserved sub-delims '%'     */
#define GN__HC_HEX    0x10
#define GN__HC_QDTEXT 0x20 /* quoted-string text: all of VALUE but '"' and '\'        */
#define GN__HC_SCHEME 0x40 /* ALPHA DIGIT + - .                                       */

#define GN__HC_OBS16 0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,0x24,
static const unsigned char gn__http_cc[256] = {
    /* 0_ */ 0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x24,0x00,0x00,0x00,0x00,0x00,0x00,
    /* 1_ */ 0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,0x00,
    /* 2_ */ 0x24,0x2f,0x06,0x27,0x2f,0x2f,0x2f,0x2f,0x2e,0x2e,0x2f,0x6f,0x2e,0x6f,0x6f,0x26,
    /* 3_ */ 0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x26,0x2e,0x26,0x2e,0x26,0x26,
    /* 4_ */ 0x26,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,
    /* 5_ */ 0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x26,0x06,0x26,0x27,0x2f,
    /* 6_ */ 0x27,0x7f,0x7f,0x7f,0x7f,0x7f,0x7f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,
    /* 7_ */ 0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x6f,0x26,0x27,0x26,0x2f,0x00,
    GN__HC_OBS16 GN__HC_OBS16 GN__HC_OBS16 GN__HC_OBS16   /* 8_ .. B_ */
    GN__HC_OBS16 GN__HC_OBS16 GN__HC_OBS16 GN__HC_OBS16   /* C_ .. F_ */
};
#undef GN__HC_OBS16

#define GN__HC(c, cls) (gn__http_cc[(unsigned char)(c)] & (cls))
#define GN__HC_WS(c) ((c) == ' ' || (c) == '\t')

/* Skips the bytes in [lo, 0x7E] from p, eight at a time while a whole word is
 * in range, and stops at most 7 bytes short of the first one that is not: the
 * byte loops after it finish the job (and judge HTAB and obs-text, which this
 * does not pass). Most of a head is printable ASCII.                           */
GN__PRIVATE const char *gn__http_skip_ascii(const char *p, const char *e, unsigned lo) {
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    const uint64_t below = ones * lo, del = ones * 0x7f;
    while (e - p >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        uint64_t y = x ^ del;
        /* nonzero iff some byte is < lo (lo <= 0x80), is 0x7F, or is >= 0x80 */
        if ((((x - below) & ~x) | ((y - ones) & ~y) | x) & highs) break;
        p += 8;
    }
    return p;
}

GN__PRIVATE int gn__http_lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* a[0, n) equals w[0, n) ignoring ASCII case. (Not c | 0x20: '^' and '~' are
 * both token bytes.)                                                             */
GN__PRIVATE int gn__http_ieq(const char *a, const char *w, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (gn__http_lower((unsigned char)a[i]) != gn__http_lower((unsigned char)w[i]))
            return 0;
    return 1;
}

#define GN__HTTP_IS(p, n, word) ((n) == sizeof(word) - 1 && gn__http_ieq((p), (word), (n)))

/* A comma-separated list (RFC 9110 §5.6.1): elements come out with their OWS
 * trimmed, empty ones included ("a,,b" is a, "", b); the callers decide whether
 * an empty element is harmless (Connection, Expect) or an error (framing).       */
typedef struct gn__http_list {
    const char *p, *e;
    int         done;
} gn__http_list;

GN__PRIVATE void gn__http_list_init(gn__http_list *l, const char *p, size_t n) {
    l->p = p;
    l->e = p + n;
    l->done = 0;
}

GN__PRIVATE int gn__http_list_next(gn__http_list *l, const char **el, size_t *n) {
    if (l->done) return 0;
    const char *s = l->p, *t = (const char *)memchr(s, ',', (size_t)(l->e - s));
    if (t) {
        l->p = t + 1;
    } else {
        t = l->e;
        l->done = 1;
    }
    while (s < t && GN__HC_WS(*s)) s++;
    while (t > s && GN__HC_WS(t[-1])) t--;
    *el = s;
    *n = (size_t)(t - s);
    return 1;
}

/* Host and authority syntax (RFC 3986 §3.2.2-3.2.3): a reg-name or IPv4 address,
 * or a bracketed IP literal, then an optional ":" and decimal port. No userinfo
 * ('@' is not a host byte; RFC 9110 §4.2.4 says to treat it as an error), no
 * spaces, no second colon outside brackets. Stricter than Go, which takes any
 * mix of the allowed bytes. need_host: the host part must not be empty.           */
GN__PRIVATE int gn__http_valid_host(const char *p, size_t n, int need_host) {
    const char *e = p + n, *h = p;
    if (p < e && *p == '[') {
        for (p++;; p++) {
            if (p == e) return 0;
            if (*p == ']') break;
            if (*p != ':' && !GN__HC(*p, GN__HC_HOST)) return 0;
        }
        if (p == h + 1) return 0;  /* "[]" */
        p++;
    } else {
        while (p < e && GN__HC(*p, GN__HC_HOST)) p++;
        if (need_host && p == h) return 0;
    }
    if (p == e) return 1;
    if (*p != ':') return 0;
    for (p++; p < e; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

/* ---- lines ------------------------------------------------------------------------
 * Each takes one line without its line end, [p, e), and returns 0 or minus a
 * status. A CR inside a line is in no character class, so a bare CR anywhere
 * fails here.                                                                    */

/* "HTTP/" DIGIT "." DIGIT, exactly. HTTP/1.0 and HTTP/1.1 are served; any other
 * well-formed version gets 505. (RFC 9110 §6.2 suggests treating HTTP/1.2 as
 * 1.1, and Go does; we answer 505, as nothing sends it.)                          */
GN__PRIVATE int gn__http_version(const char *p, const char *e, int *minor) {
    if (e - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' ||
        p[5] > '9' || p[7] < '0' || p[7] > '9')
        return -400;
    if (p[5] != '1' || p[7] > '1') return -505;
    *minor = p[7] - '0';
    return 0;
}

/* Sorts the target into its form (RFC 9112 §3.2) and splits out authority, path
 * and query. Bytes are already known to be VCHAR.                                */
GN__PRIVATE int gn__http_target(gn__http_head *h) {
    const char *t = h->target, *e = t + h->target_len, *p = t;
    h->authority = NULL;
    h->authority_len = 0;
    h->query = NULL;
    h->query_len = 0;
    if (*t == '/') {
        h->form = GN__HTTP_FORM_ORIGIN;
    } else if (h->method_len == 7 && memcmp(h->method, "CONNECT", 7) == 0) {
        /* uri-host ":" port. CONNECT also takes origin-form above, as Go does
         * (net/rpc sends "CONNECT /_goRPC_").                                    */
        const char *d = e;
        while (d > t && d[-1] >= '0' && d[-1] <= '9') d--;
        if (d == e || d - 1 <= t || d[-1] != ':' || (*t == '[' && d[-2] != ']') ||
            !gn__http_valid_host(t, h->target_len, 1))
            return -400;
        h->form = GN__HTTP_FORM_AUTHORITY;
        h->authority = t;
        h->authority_len = h->target_len;
        h->path = e;
        h->path_len = 0;
        return 0;
    } else if (h->target_len == 1 && *t == '*') {
        if (h->method_len != 7 || memcmp(h->method, "OPTIONS", 7) != 0) return -400;
        h->form = GN__HTTP_FORM_ASTERISK;
        h->path = t;
        h->path_len = 1;
        return 0;
    } else {
        /* scheme "://" authority path-abempty [ "?" query ]. Any scheme, as Go:
         * the handler sees it and decides.                                       */
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) return -400;
        while (p < e && GN__HC(*p, GN__HC_SCHEME)) p++;
        if (e - p < 3 || memcmp(p, "://", 3) != 0) return -400;
        const char *a = p += 3;
        while (p < e && *p != '/' && *p != '?') p++;
        if (!gn__http_valid_host(a, (size_t)(p - a), 1)) return -400;
        h->form = GN__HTTP_FORM_ABSOLUTE;
        h->authority = a;
        h->authority_len = (size_t)(p - a);
    }
    const char *q = (const char *)memchr(p, '?', (size_t)(e - p));
    h->path = p;
    h->path_len = (size_t)((q ? q : e) - p);
    if (q) {
        h->query = q + 1;
        h->query_len = (size_t)(e - q - 1);
    }
    return 0;
}

/* method SP request-target SP HTTP-version, single spaces (RFC 9112 §3).
 * The method is any token: an unknown one is the handler's 405 or 501.          */
GN__PRIVATE int gn__http_request_line(const char *p, const char *e, gn__http_head *h) {
    const char *m = p;
    while (p < e && GN__HC(*p, GN__HC_TCHAR)) p++;
    if (p == m || p == e || *p != ' ') return -400;
    h->method = m;
    h->method_len = (size_t)(p - m);
    const char *t = ++p;
    p = gn__http_skip_ascii(p, e, 0x21);
    while (p < e && GN__HC(*p, GN__HC_VCHAR)) p++;
    if (p == t || p == e || *p != ' ') return -400;
    h->target = t;
    h->target_len = (size_t)(p - t);
    int r = gn__http_version(p + 1, e, &h->minor);
    if (r < 0) return r;
    return gn__http_target(h);
}

/* HTTP-version SP 3DIGIT [ SP reason-phrase ]. The space before an empty reason
 * is optional, as in Go: servers send "HTTP/1.1 200" too.                        */
GN__PRIVATE int gn__http_status_line(const char *p, const char *e, gn__http_head *h) {
    if (e - p < 12 || p[8] != ' ') return -400;
    int r = gn__http_version(p, p + 8, &h->minor);
    if (r < 0) return r;
    if (p[9] < '1' || p[9] > '9' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return -400;
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    p += 12;
    if (p < e && *p++ != ' ') return -400;
    h->reason = p;
    for (; p < e; p++)
        if (!GN__HC(*p, GN__HC_VALUE)) return -400;
    h->reason_len = (size_t)(e - h->reason);
    return 0;
}

/* field-name ":" OWS field-value OWS (RFC 9110 §5). A line that starts with
 * whitespace (obs-fold, or whitespace before the first field) and whitespace
 * before the colon are refused, as RFC 9112 §5.1-5.2 ask of a server. Values may
 * carry obs-text; no CTL but HTAB.                                               */
GN__PRIVATE int gn__http_field_line(const char *p, const char *e, gn_http_header *f) {
    const char *n = p;
    while (p < e && GN__HC(*p, GN__HC_TCHAR)) p++;
    if (p == n || p == e || *p != ':') return -400;
    f->name = n;
    f->name_len = (size_t)(p - n);
    for (p++; p < e && GN__HC_WS(*p); p++) {}
    const char *v = p;
    for (p = gn__http_skip_ascii(p, e, 0x20); p < e; p++)
        if (!GN__HC(*p, GN__HC_VALUE)) return -400;
    while (p > v && GN__HC_WS(p[-1])) p--;
    f->value = v;
    f->value_len = (size_t)(p - v);
    return 0;
}

GN__PRIVATE int gn__http_start_line(const char *p, const char *e, gn__http_head *h, int response) {
    return response ? gn__http_status_line(p, e, h) : gn__http_request_line(p, e, h);
}

/* The content of the line that ends with the LF at nl and starts at ls: a CR
 * before the LF belongs to the line end (RFC 9112 §2.2 lets a bare LF end a line
 * too, and Go takes it).                                                          */
GN__PRIVATE const char *gn__http_line_end(const char *ls, const char *nl) {
    return nl > ls && nl[-1] == '\r' ? nl - 1 : nl;
}

/* ---- the head ---------------------------------------------------------------------- */

/* Judges the lines completed in buf[seen, lim) since an earlier call: 1 when one
 * of them is the blank line that ends the head, 0 when it is not there yet, or
 * minus a status. Bytes before seen are read only to find where the first new
 * line starts, and only once a new line is there, so each byte is looked at a
 * bounded number of times across calls.                                        */
GN__PRIVATE int gn__http_resume(const char *buf, size_t start, size_t seen, size_t lim,
                                int response) {
    const char *first = buf + start, *end = buf + lim, *ls = buf + seen;
    const char *nl = (const char *)memchr(ls, '\n', (size_t)(end - ls));
    if (!nl) {
        GN__HTTP_SCANNED(end - ls);
        return 0;
    }
    while (ls > first && ls[-1] != '\n') ls--;
    GN__HTTP_SCANNED(nl + 1 - ls);
    for (;;) {
        const char *ce = gn__http_line_end(ls, nl);
        int r;
        if (ls == first) {
            gn__http_head scratch;
            r = gn__http_start_line(ls, ce, &scratch, response);
        } else if (ce == ls) {
            return 1;
        } else {
            gn_http_header scratch;
            r = gn__http_field_line(ls, ce, &scratch);
        }
        if (r < 0) return r;
        ls = nl + 1;
        nl = (const char *)memchr(ls, '\n', (size_t)(end - ls));
        GN__HTTP_SCANNED((nl ? nl + 1 : end) - ls);
        if (!nl) return 0;
    }
}

/* Parses buf[start, lim) from the start line through the blank line, recording
 * into h and hdrs: 1 with h->head_len set, 0 if the blank line is not there, or
 * minus a status. Past max_hdrs the lines are still judged, so that a syntax
 * error wins over 431 whatever the split.                                       */
GN__PRIVATE int gn__http_full(const char *buf, size_t start, size_t lim, gn__http_head *h,
                              gn_http_header *hdrs, size_t max_hdrs, int response) {
    const char *p = buf + start, *end = buf + lim;
    const char *nl = (const char *)memchr(p, '\n', (size_t)(end - p));
    GN__HTTP_SCANNED((nl ? nl + 1 : end) - p);
    if (!nl) return 0;
    int r = gn__http_start_line(p, gn__http_line_end(p, nl), h, response);
    if (r < 0) return r;
    size_t n = 0;
    for (;;) {
        p = nl + 1;
        nl = (const char *)memchr(p, '\n', (size_t)(end - p));
        GN__HTTP_SCANNED((nl ? nl + 1 : end) - p);
        if (!nl) return 0;
        const char *ce = gn__http_line_end(p, nl);
        if (ce == p) break;
        gn_http_header spare;
        r = gn__http_field_line(p, ce, n < max_hdrs ? &hdrs[n] : &spare);
        if (r < 0) return r;
        n++;
    }
    if (n > max_hdrs) return -431;
    h->hdrs = hdrs;
    h->nhdrs = n;
    h->head_len = (size_t)(nl + 1 - buf);
    return 1;
}

/* What the header fields say, gathered in one pass; the request and response
 * rules then judge it.                                                          */
typedef struct gn__http_facts {
    const gn_http_header *host;
    int     hosts;
    int     cl_seen, cl_bad;
    int64_t cl;
    int     te_seen, te_empty, te_codings, te_chunked, te_last_chunked;
    int     conn_close, conn_keep_alive, conn_upgrade;
    int     expect_continue, expect_other;
} gn__http_facts;

/* One Content-Length field: 1*DIGIT, or a list of equal ones ("42, 42", which
 * RFC 9110 §8.6 lets a recipient take as 42). Every value must equal *cl if it is
 * already set (a repeated field): Go accepts identical repeats, so do we.       */
GN__PRIVATE int gn__http_content_length(const gn_http_header *f, int64_t *cl) {
    gn__http_list l;
    const char *el;
    size_t n;
    gn__http_list_init(&l, f->value, f->value_len);
    while (gn__http_list_next(&l, &el, &n)) {
        if (n == 0) return -1;
        int64_t v = 0;
        for (size_t i = 0; i < n; i++) {
            int d = el[i] - '0';
            if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10) return -1;
            v = v * 10 + d;
        }
        if (*cl >= 0 && v != *cl) return -1;
        *cl = v;
    }
    return 0;
}

GN__PRIVATE void gn__http_gather(const gn__http_head *h, gn__http_facts *x) {
    memset(x, 0, sizeof *x);
    x->cl = -1;
    for (size_t i = 0; i < h->nhdrs; i++) {
        const gn_http_header *f = &h->hdrs[i];
        gn__http_list l;
        const char *el;
        size_t n;
        switch (f->name_len) {
        case 4:
            if (gn__http_ieq(f->name, "host", 4)) {
                x->hosts++;
                x->host = f;
            }
            break;
        case 6:
            if (!gn__http_ieq(f->name, "expect", 6)) break;
            gn__http_list_init(&l, f->value, f->value_len);
            while (gn__http_list_next(&l, &el, &n)) {
                if (n == 0) continue;
                if (GN__HTTP_IS(el, n, "100-continue")) x->expect_continue = 1;
                else x->expect_other = 1;
            }
            break;
        case 10:
            if (!gn__http_ieq(f->name, "connection", 10)) break;
            gn__http_list_init(&l, f->value, f->value_len);
            while (gn__http_list_next(&l, &el, &n)) {
                if (GN__HTTP_IS(el, n, "close")) x->conn_close = 1;
                else if (GN__HTTP_IS(el, n, "keep-alive")) x->conn_keep_alive = 1;
                else if (GN__HTTP_IS(el, n, "upgrade")) x->conn_upgrade = 1;
            }
            break;
        case 14:
            if (!gn__http_ieq(f->name, "content-length", 14)) break;
            x->cl_seen = 1;
            if (gn__http_content_length(f, &x->cl) < 0) x->cl_bad = 1;
            break;
        case 17:
            if (!gn__http_ieq(f->name, "transfer-encoding", 17)) break;
            x->te_seen = 1;
            gn__http_list_init(&l, f->value, f->value_len);
            while (gn__http_list_next(&l, &el, &n)) {
                int chunked = GN__HTTP_IS(el, n, "chunked");
                if (n == 0) x->te_empty = 1;
                x->te_codings++;
                x->te_chunked += chunked;
                x->te_last_chunked = chunked;
            }
            break;
        default:
            break;
        }
    }
}

/* Whole-head rules for a request, in this order: Host (RFC 9112 §3.2), then
 * framing (§6), then Expect (RFC 9110 §10.1.1).
 *   Transfer-Encoding on HTTP/1.0: 400 (§6.1: the framing is faulty).
 *   Transfer-Encoding whose final coding is not chunked ("gzip", "identity",
 *   "chunked, identity"), chunked twice, or an empty coding: 400, since §6.3
 *   says the length cannot be known. chunked last after other codings
 *   ("gzip, chunked"): 501, we know the length but not the coding (§6.1).
 *   Go answers 501 to all of these; it is the 400s that §6.3 requires.
 *   Content-Length with Transfer-Encoding, in either order: 400 (§6.1 allows
 *   this; processing by Transfer-Encoding alone is how smuggling starts).
 *   Content-Length: digits, fits int64, repeats identical; otherwise 400.
 *   Host: exactly one on HTTP/1.1, at most one on 1.0, valid syntax; the
 *   authority of an absolute- or authority-form target wins over it (§3.2.2;
 *   Go does the same for CONNECT's authority).
 *   Expect: 100-continue sets expect_continue on HTTP/1.1 and is ignored on 1.0
 *   (RFC 9110 §10.1.1 says MUST); any other expectation: 417. An empty Expect is
 *   ignored, as Go does. Whether to send the 100 (only when the handler reads a
 *   body) is the server's call.                                                 */
GN__PRIVATE int gn__http_request_rules(gn__http_head *h) {
    gn__http_facts x;
    gn__http_gather(h, &x);
    if (x.hosts > 1) return -400;
    if (x.hosts == 0 && h->minor == 1) return -400;
    if (x.host && !gn__http_valid_host(x.host->value, x.host->value_len, 0)) return -400;
    if (x.cl_bad) return -400;
    if (x.te_seen) {
        if (h->minor == 0 || x.te_empty || !x.te_last_chunked || x.te_chunked > 1 || x.cl_seen)
            return -400;
        if (x.te_codings > 1) return -501;
    }
    if (x.expect_other) return -417;
    h->status = 0;
    h->reason = NULL;
    h->reason_len = 0;
    h->content_length = x.cl;
    h->chunked = (uint8_t)x.te_seen;
    h->expect_continue = (uint8_t)(x.expect_continue && h->minor == 1);
    h->keep_alive = (uint8_t)(!x.conn_close && (h->minor == 1 || x.conn_keep_alive));
    h->upgrade = (uint8_t)x.conn_upgrade;
    if (h->authority) {
        h->host = h->authority;
        h->host_len = h->authority_len;
    } else if (x.host) {
        h->host = x.host->value;
        h->host_len = x.host->value_len;
    } else {
        h->host = NULL;
        h->host_len = 0;
    }
    return 0;
}

/* Whole-head rules for a response: the same Content-Length rules; Transfer-
 * Encoding must be exactly "chunked" (Go's client refuses any other coding, and
 * RFC 9112 §6.3's fallback of reading until close would hand the caller bytes in
 * a coding it cannot undo); not on HTTP/1.0; never with Content-Length (§6.3 says
 * to treat that as an error; Go drops the length instead).                       */
GN__PRIVATE int gn__http_response_rules(gn__http_head *h) {
    gn__http_facts x;
    gn__http_gather(h, &x);
    if (x.cl_bad) return -400;
    if (x.te_seen && (h->minor == 0 || x.te_empty || x.te_codings != 1 || !x.te_last_chunked ||
                      x.cl_seen))
        return -400;
    h->content_length = x.cl;
    h->chunked = (uint8_t)x.te_seen;
    h->expect_continue = 0;
    h->keep_alive = (uint8_t)(!x.conn_close && (h->minor == 1 || x.conn_keep_alive));
    h->upgrade = (uint8_t)x.conn_upgrade;
    h->host = NULL;
    h->host_len = 0;
    h->method = h->target = h->authority = h->path = h->query = NULL;
    h->method_len = h->target_len = h->authority_len = h->path_len = h->query_len = 0;
    h->form = 0;
    return 0;
}

/* Writes the NULs that make the head's strings C strings. Each lands on a
 * delimiter inside the head: a space, a ':', OWS, CR or LF.                    */
GN__PRIVATE void gn__http_terminate(char *buf, gn__http_head *h, int response) {
#define GN__HTTP_NUL(ptr, len) (buf[(size_t)((ptr) - buf) + (len)] = '\0')
    if (response) {
        GN__HTTP_NUL(h->reason, h->reason_len);
    } else {
        GN__HTTP_NUL(h->method, h->method_len);
        GN__HTTP_NUL(h->target, h->target_len);
    }
    for (size_t i = 0; i < h->nhdrs; i++) {
        GN__HTTP_NUL(h->hdrs[i].name, h->hdrs[i].name_len);
        GN__HTTP_NUL(h->hdrs[i].value, h->hdrs[i].value_len);
    }
#undef GN__HTTP_NUL
}

GN__PRIVATE int gn__http_parse_head(char *buf, size_t len, size_t prev_len, gn__http_head *h,
                                    gn_http_header *hdrs, size_t max_hdrs,
                                    size_t max_head_bytes, int response) {
    if (!buf || !h || (!hdrs && max_hdrs)) return GN_EINVAL;
    if (max_head_bytes == 0) max_head_bytes = GN__HTTP_MAX_HEAD_DEFAULT;
    if (max_head_bytes > INT_MAX) max_head_bytes = INT_MAX;
    size_t lim = len < max_head_bytes ? len : max_head_bytes;
    int too_big = len >= max_head_bytes;  /* a head not complete by now never fits  */
    /* Empty lines before a request line (RFC 9112 §2.2: "at least one"; Go skips
     * up to 4 CR or LF bytes after a POST). Re-skipped on every call: bounded.   */
    size_t start = 0;
    for (int k = 0; !response; k++) {
        size_t eol = start < lim && buf[start] == '\n' ? 1
                   : start + 1 < lim && buf[start] == '\r' && buf[start + 1] == '\n' ? 2 : 0;
        if (!eol) break;
        if (k == GN__HTTP_MAX_LEADING_EOL) return -400;
        start += eol;
    }
    int r;
    if (prev_len > len) prev_len = len;
    if (prev_len > start) {
        r = gn__http_resume(buf, start, prev_len < lim ? prev_len : lim, lim, response);
        if (r <= 0) return r < 0 ? r : too_big ? -431 : 0;
    }
    r = gn__http_full(buf, start, lim, h, hdrs, max_hdrs, response);
    if (r <= 0) return r < 0 ? r : too_big ? -431 : 0;
    r = response ? gn__http_response_rules(h) : gn__http_request_rules(h);
    if (r < 0) return r;
    gn__http_terminate(buf, h, response);
    return (int)h->head_len;
}

/* ---- entry points ------------------------------------------------------------------ */

/* Parses the request head at the start of buf[0, len).
 *   > 0  the head is complete and valid: its length through the blank line; h is
 *        filled, hdrs[0, h->nhdrs) hold the fields, and the strings marked [NUL]
 *        in gn__http_head are NUL-terminated inside buf. Bytes past the head are
 *        untouched.
 *   0    incomplete: read more, append, and call again with the same buf start
 *        and prev_len = this call's len. buf is unchanged.
 *   < 0  minus the status to answer before closing: -400, -431 (head over
 *        max_head_bytes, complete or not, or more than max_hdrs fields), -501
 *        (a transfer coding we do not implement), -505 (not HTTP/1.0 or 1.1),
 *        -417 (an expectation other than 100-continue). GN_EINVAL for NULL
 *        arguments.
 * prev_len: how much of buf an earlier call for this message saw (it returned 0),
 * or 0. Any value from 0 to that length gives the same result (lines before it
 * were judged then and are not judged again until the head is whole); the exact
 * one keeps a trickled head linear. If the caller moves the bytes, or a call did
 * not return 0, it passes 0.
 * max_head_bytes bounds the head, leading empty lines and request line included;
 * 0 means GN__HTTP_MAX_HEAD_DEFAULT.                                             */
GN__PRIVATE int gn__http_parse_request(char *buf, size_t len, size_t prev_len, gn__http_head *h,
                                       gn_http_header *hdrs, size_t max_hdrs,
                                       size_t max_head_bytes) {
    return gn__http_parse_head(buf, len, prev_len, h, hdrs, max_hdrs, max_head_bytes, 0);
}

/* The response head, for the client: the same contract, but errors are
 * GN_ETOOLARGE (over max_head_bytes or max_hdrs) or GN_EHTTP (anything else
 * malformed, including versions other than 1.0 and 1.1). No leading empty lines.
 * Fills status, reason, minor, hdrs, content_length, chunked, keep_alive and
 * upgrade; whether a body follows depends on the request too: see
 * gn__http_response_body. A 1xx head is followed by another head.              */
GN__PRIVATE int gn__http_parse_response(char *buf, size_t len, size_t prev_len, gn__http_head *h,
                                        gn_http_header *hdrs, size_t max_hdrs,
                                        size_t max_head_bytes) {
    int r = gn__http_parse_head(buf, len, prev_len, h, hdrs, max_hdrs, max_head_bytes, 1);
    if (r >= 0 || r == GN_EINVAL) return r;
    return r == -431 ? GN_ETOOLARGE : GN_EHTTP;
}

/* How a response's body is delimited (RFC 9112 §6.3), given whether the request
 * was HEAD. A 2xx answer to CONNECT is a tunnel: the caller's case, not here.   */
enum {
    GN__HTTP_BODY_NONE,     /* HEAD, 1xx, 204, 304                                   */
    GN__HTTP_BODY_LENGTH,   /* content_length bytes (maybe 0)                        */
    GN__HTTP_BODY_CHUNKED,  /* gn__chunked                                           */
    GN__HTTP_BODY_CLOSE     /* until the server closes: the connection is not reused */
};

GN__PRIVATE int gn__http_response_body(const gn__http_head *h, int head_request) {
    if (head_request || h->status < 200 || h->status == 204 || h->status == 304)
        return GN__HTTP_BODY_NONE;
    if (h->chunked) return GN__HTTP_BODY_CHUNKED;
    if (h->content_length >= 0) return GN__HTTP_BODY_LENGTH;
    return GN__HTTP_BODY_CLOSE;
}

/* The first field after `after` (NULL: from the start) whose name is `name`,
 * ignoring ASCII case, or NULL. Repeated fields come back in arrival order.    */
GN__PRIVATE const gn_http_header *gn__http_find_next(const gn__http_head *h,
                                                     const gn_http_header *after,
                                                     const char *name) {
    size_t n = strlen(name);
    size_t i = after ? (size_t)(after - h->hdrs) + 1 : 0;
    for (; i < h->nhdrs; i++)
        if (h->hdrs[i].name_len == n && gn__http_ieq(h->hdrs[i].name, name, n))
            return &h->hdrs[i];
    return NULL;
}

GN__PRIVATE const gn_http_header *gn__http_find(const gn__http_head *h, const char *name) {
    return gn__http_find_next(h, NULL, name);
}

/* ---- chunked ------------------------------------------------------------------------
 * RFC 9112 §7.1, as a byte-at-a-time state machine over the framing and spans
 * over the data, so that any split decodes alike and data is never copied:
 *     chunk-size [ chunk-ext ] CRLF  chunk-data CRLF  ...  "0" [ chunk-ext ] CRLF
 *     *( field-line CRLF )  CRLF
 * Every line end is CRLF: a bare LF in chunk framing is how the chunk-parsing
 * smuggling variants start, and no client we know sends one (Go takes a bare LF
 * after the size; we do not). Extensions are checked against their grammar
 * (token [= token / quoted-string], BWS around ';' and '=') and dropped.
 *
 * Trailers are checked like header fields (token name, no space before ':', no
 * obs-fold, no CTL) and bounded by max_trailer bytes. If the caller gives a
 * buffer, each field is copied into it as "name\0value\0" (value trimmed of OWS),
 * for gn__chunked_trailers; otherwise they are checked and dropped. Which fields
 * may be trailers (RFC 9110 §6.5.1) is the caller's business.                   */
enum {
    GN__CK_SIZE0,       /* the first hex digit of a size                          */
    GN__CK_SIZE,
    GN__CK_EXT_WS,      /* BWS before ';'                                         */
    GN__CK_EXT_NAME0,   /* after ';': BWS, then a name                            */
    GN__CK_EXT_NAME,
    GN__CK_EXT_NAME_WS, /* BWS before '=' or ';'                                  */
    GN__CK_EXT_VAL0,    /* after '=': BWS, then a token or a quoted string        */
    GN__CK_EXT_TOKEN,
    GN__CK_EXT_QUOTED,
    GN__CK_EXT_QESC,
    GN__CK_EXT_VAL_END, /* after the closing quote                                */
    GN__CK_SIZE_LF,
    GN__CK_DATA,
    GN__CK_DATA_CR,
    GN__CK_DATA_LF,
    GN__CK_T_START,     /* a trailer line, or the final CRLF                      */
    GN__CK_T_NAME,
    GN__CK_T_OWS,
    GN__CK_T_VALUE,
    GN__CK_T_LF,
    GN__CK_END_LF,
    GN__CK_DONE,
    GN__CK_ERR
};

typedef struct gn__chunked {
    uint64_t size;        /* the size being read, then the chunk's data bytes left   */
    int64_t  excess;      /* framing not yet paid for by data                       */
    size_t   line;        /* bytes of the current size line                          */
    size_t   trailer;     /* bytes of the trailer section so far                     */
    size_t   max_trailer;
    char    *tbuf;        /* caller's, or NULL                                       */
    size_t   tcap, tlen;
    size_t   tval_end;    /* tlen after the value's last non-OWS byte               */
    size_t   ntrailers;   /* complete trailer fields                                 */
    int      state;
    int      err;         /* sticky                                                  */
    int      done;        /* the last chunk and the trailer section are through      */
} gn__chunked;

/* Readies c for one chunked body. tbuf[tcap] (may be NULL, 0) receives the
 * trailer fields; max_trailer bounds the trailer section (0: 16 KiB).           */
GN__PRIVATE void gn__chunked_init(gn__chunked *c, char *tbuf, size_t tcap, size_t max_trailer) {
    memset(c, 0, sizeof *c);
    c->tbuf = tbuf;
    c->tcap = tbuf ? tcap : 0;
    c->max_trailer = max_trailer ? max_trailer : GN__CHUNKED_MAX_TRAILER_DEFAULT;
    c->state = GN__CK_SIZE0;
}

GN__PRIVATE int gn__chunked_put(gn__chunked *c, char ch) {
    if (!c->tbuf) return 0;
    if (c->tlen >= c->tcap) return GN_ETOOLARGE;
    c->tbuf[c->tlen++] = ch;
    return 0;
}

/* One byte of a size line: 0, or an error.                                    */
GN__PRIVATE int gn__chunked_size_byte(gn__chunked *c, unsigned char ch) {
    if (++c->line > GN__CHUNKED_MAX_LINE) return GN_EHTTP;
    int ws = GN__HC_WS(ch), tchar = GN__HC(ch, GN__HC_TCHAR) != 0;
    switch (c->state) {
    case GN__CK_SIZE0:
    case GN__CK_SIZE:
        if (GN__HC(ch, GN__HC_HEX)) {
            unsigned d = (unsigned)(ch <= '9' ? ch - '0' : gn__http_lower(ch) - 'a' + 10);
            if (c->size > ((uint64_t)INT64_MAX - d) / 16) return GN_EHTTP;
            c->size = c->size * 16 + d;
            c->state = GN__CK_SIZE;
            return 0;
        }
        if (c->state == GN__CK_SIZE0) return GN_EHTTP;
        if (ws) c->state = GN__CK_EXT_WS;
        else if (ch == ';') c->state = GN__CK_EXT_NAME0;
        else if (ch == '\r') c->state = GN__CK_SIZE_LF;
        else return GN_EHTTP;
        return 0;
    case GN__CK_EXT_WS:
        if (ch == ';') c->state = GN__CK_EXT_NAME0;
        else if (!ws) return GN_EHTTP;
        return 0;
    case GN__CK_EXT_NAME0:
        if (tchar) c->state = GN__CK_EXT_NAME;
        else if (!ws) return GN_EHTTP;
        return 0;
    case GN__CK_EXT_NAME:
        if (tchar) return 0;
        if (ws) c->state = GN__CK_EXT_NAME_WS;
        else if (ch == '=') c->state = GN__CK_EXT_VAL0;
        else if (ch == ';') c->state = GN__CK_EXT_NAME0;
        else if (ch == '\r') c->state = GN__CK_SIZE_LF;
        else return GN_EHTTP;
        return 0;
    case GN__CK_EXT_NAME_WS:
        if (ch == '=') c->state = GN__CK_EXT_VAL0;
        else if (ch == ';') c->state = GN__CK_EXT_NAME0;
        else if (!ws) return GN_EHTTP;
        return 0;
    case GN__CK_EXT_VAL0:
        if (ch == '"') c->state = GN__CK_EXT_QUOTED;
        else if (tchar) c->state = GN__CK_EXT_TOKEN;
        else if (!ws) return GN_EHTTP;
        return 0;
    case GN__CK_EXT_QUOTED:
        if (ch == '"') c->state = GN__CK_EXT_VAL_END;
        else if (ch == '\\') c->state = GN__CK_EXT_QESC;
        else if (!GN__HC(ch, GN__HC_QDTEXT)) return GN_EHTTP;
        return 0;
    case GN__CK_EXT_QESC:
        if (!GN__HC(ch, GN__HC_VALUE)) return GN_EHTTP;
        c->state = GN__CK_EXT_QUOTED;
        return 0;
    case GN__CK_EXT_TOKEN:
    case GN__CK_EXT_VAL_END:
        if (tchar && c->state == GN__CK_EXT_TOKEN) return 0;
        if (ws) c->state = GN__CK_EXT_WS;
        else if (ch == ';') c->state = GN__CK_EXT_NAME0;
        else if (ch == '\r') c->state = GN__CK_SIZE_LF;
        else return GN_EHTTP;
        return 0;
    case GN__CK_SIZE_LF: {
        if (ch != '\n') return GN_EHTTP;
        /* The line and the CRLF after the data are overhead; the data pays. */
        int64_t pay = 16 + (c->size > ((uint64_t)1 << 40) ? ((int64_t)1 << 41) : 2 * (int64_t)c->size);
        c->excess += (int64_t)c->line + 2 - pay;
        if (c->excess < 0) c->excess = 0;
        if (c->excess > GN__CHUNKED_MAX_EXCESS) return GN_EHTTP;
        c->line = 0;
        c->state = c->size ? GN__CK_DATA : GN__CK_T_START;
        return 0;
    }
    default:
        return GN_EHTTP;
    }
}

/* One byte of the trailer section: 0, or an error.                            */
GN__PRIVATE int gn__chunked_trailer_byte(gn__chunked *c, unsigned char ch) {
    if (++c->trailer > c->max_trailer) return GN_ETOOLARGE;
    switch (c->state) {
    case GN__CK_T_START:
        if (ch == '\r') {
            c->state = GN__CK_END_LF;
            return 0;
        }
        if (!GN__HC(ch, GN__HC_TCHAR)) return GN_EHTTP;  /* obs-fold, empty name */
        c->state = GN__CK_T_NAME;
        return gn__chunked_put(c, (char)ch);
    case GN__CK_T_NAME:
        if (GN__HC(ch, GN__HC_TCHAR)) return gn__chunked_put(c, (char)ch);
        if (ch != ':') return GN_EHTTP;
        c->state = GN__CK_T_OWS;
        c->tval_end = c->tlen + 1;
        return gn__chunked_put(c, '\0');
    case GN__CK_T_OWS:
    case GN__CK_T_VALUE:
        if (ch == '\r') {
            c->state = GN__CK_T_LF;
            return 0;
        }
        if (!GN__HC(ch, GN__HC_VALUE)) return GN_EHTTP;
        if (GN__HC_WS(ch)) {
            if (c->state == GN__CK_T_OWS) return 0;
            return gn__chunked_put(c, (char)ch);
        }
        c->state = GN__CK_T_VALUE;
        if (gn__chunked_put(c, (char)ch) < 0) return GN_ETOOLARGE;
        c->tval_end = c->tlen;
        return 0;
    case GN__CK_T_LF:
        if (ch != '\n') return GN_EHTTP;
        if (c->tbuf) c->tlen = c->tval_end;
        c->state = GN__CK_T_START;
        /* Counted once its NUL is in: gn__chunked_trailers reads the fields
         * with strlen, also after a full tbuf stopped the body.             */
        if (gn__chunked_put(c, '\0') < 0) return GN_ETOOLARGE;
        c->ntrailers++;
        return 0;
    case GN__CK_END_LF:
        if (ch != '\n') return GN_EHTTP;
        c->state = GN__CK_DONE;
        c->done = 1;
        return 0;
    default:
        return GN_EHTTP;
    }
}

/* Decodes from in[0, n). Returns how many bytes of in it consumed (>= 0), or an
 * error: GN_EHTTP (malformed: bad or missing size, size over 2^63-1, a size line
 * over 4 KiB, a bad extension, a missing CRLF after data, a bare CR or LF, a bad
 * trailer field, too much framing for the data), GN_ETOOLARGE (trailers over
 * max_trailer or tbuf). Errors are sticky.
 * Payload: when *dlen > 0, in[*data - in, + *dlen) is chunk data, and it is the
 * last thing consumed: the call stops after each span so the caller can deliver
 * it, then calls again with what follows. max_data caps a span (0: no cap).
 * When c->done, the body ended within the consumed bytes; what follows in `in`
 * is the next message. Otherwise, a call with no span consumed all n bytes:
 * feed more. While not done, every call with n > 0 consumes at least one byte. */
GN__PRIVATE int64_t gn__chunked_feed(gn__chunked *c, const char *in, size_t n, size_t max_data,
                                     const char **data, size_t *dlen) {
    *data = NULL;
    *dlen = 0;
    if (c->err) return c->err;
    if (n > (size_t)INT64_MAX) n = (size_t)INT64_MAX;
    if (max_data == 0) max_data = SIZE_MAX;
    size_t i = 0;
    while (i < n) {
        int st = c->state, r;
        if (st == GN__CK_DATA) {
            size_t k = n - i;
            if (k > max_data) k = max_data;
            if ((uint64_t)k > c->size) k = (size_t)c->size;
            *data = in + i;
            *dlen = k;
            c->size -= k;
            if (c->size == 0) c->state = GN__CK_DATA_CR;
            return (int64_t)(i + k);
        }
        if (st == GN__CK_DONE) break;
        unsigned char ch = (unsigned char)in[i++];
        if (st == GN__CK_DATA_CR) {
            r = ch == '\r' ? (c->state = GN__CK_DATA_LF, 0) : GN_EHTTP;
        } else if (st == GN__CK_DATA_LF) {
            r = ch == '\n' ? (c->state = GN__CK_SIZE0, c->size = 0, 0) : GN_EHTTP;
        } else if (st >= GN__CK_T_START) {
            r = gn__chunked_trailer_byte(c, ch);
        } else {
            r = gn__chunked_size_byte(c, ch);
        }
        if (r < 0) {
            c->err = r;
            c->state = GN__CK_ERR;
            return r;
        }
    }
    return (int64_t)i;
}

/* Chunk data still to come in the current chunk (0 outside chunk data). A
 * caller with an empty buffer may read up to this many bytes straight from the
 * source into its destination, and then tell the decoder with skip_data.        */
GN__PRIVATE uint64_t gn__chunked_data_left(const gn__chunked *c) {
    return c->state == GN__CK_DATA ? c->size : 0;
}

GN__PRIVATE void gn__chunked_skip_data(gn__chunked *c, uint64_t k) {
    GN_ASSERT(c->state == GN__CK_DATA && k <= c->size);
    c->size -= k;
    if (c->size == 0) c->state = GN__CK_DATA_CR;
}

/* The trailer fields copied so far (all of them once c->done), as headers
 * pointing into tbuf, NUL-terminated: fills out[0, max) and returns how many
 * fields there are (0 without a tbuf).                                          */
GN__PRIVATE size_t gn__chunked_trailers(const gn__chunked *c, gn_http_header *out, size_t max) {
    if (!c->tbuf) return 0;
    const char *p = c->tbuf;
    for (size_t i = 0; i < c->ntrailers && i < max; i++) {
        out[i].name = p;
        out[i].name_len = strlen(p);
        p += out[i].name_len + 1;
        out[i].value = p;
        out[i].value_len = strlen(p);
        p += out[i].value_len + 1;
    }
    return c->ntrailers;
}
