/* http_mux.c — Go 1.22's ServeMux (patterns, precedence, conflicts, a routing
 * tree that looks up without allocating), and the URL helpers the HTTP parts
 * share: percent-decoding, path cleaning, the query lookup.
 *
 * Patterns. "[METHOD ][HOST]/PATH" parses into a gn__mux_pat: the method ("" for
 * any), the host (ASCII lower-cased; "" for any) and the path segments, each a
 * literal (stored percent-decoded, as Go does), {name}, {name...}, the anonymous
 * "..." a trailing '/' stands for, or {$} (the end of the path, after a '/').
 *
 * Precedence, as Go's: a pattern with a host beats one without; otherwise, of two
 * patterns that match a request, the one that matches a strict subset of the
 * other's requests wins. Registration compares the new pattern with every
 * registered one that has the same host (methods: equal, one of them any, or GET
 * which includes HEAD; paths: segment by segment) and refuses it when some
 * request matches both with neither more specific (GN_ECONFLICT). That is Go's
 * rule, and it is what lets the tree below pick the winner without comparing.
 *
 * The tree. The root's children are hosts (sorted keys), its wild child the
 * host-less patterns; a host node's children are methods, its wild child the
 * any-method patterns; then one level per path segment: literal children sorted
 * by (length, bytes), one {name} child (wild), and the patterns that end at the
 * node: pat (the path ends here), end ({$}: the path ends in a '/' here) and
 * multi ({name...} or a trailing '/': the rest of the path, from a '/').
 * Lookup tries the host's subtree and then the host-less one; in each, the exact
 * method, GET for HEAD, then any method; along the path, the literal child, then
 * the wildcard, then the multi. A branch that fails backtracks, as in Go ("/a/b/z"
 * and "/a/{x}/c" for "/a/b/c"), so lookup costs O(segments) for ordinary route
 * sets and never scans the pattern list.
 *
 * Lookup reads the escaped path and decodes a segment only to compare it, byte by
 * byte as it goes, so "%2F" stays inside its segment; the values of the winning
 * pattern's wildcards are decoded once, after the match, into the result's
 * scratch area. Nothing is allocated. A pattern has at most GN__MUX_MAX_VALUES
 * named wildcards, so the values always fit the result's array; their bytes, the
 * Allow list and a redirect's Location share GN_HTTP_MUX_SCRATCH bytes, and a
 * request whose values or Location do not fit gets 414 (URI Too Long).
 *
 * The mux is built before it serves: gn_http_mux_handle must not run while
 * another thread looks up in the same mux (lookups alone are read-only and may
 * run on any number of threads). Go takes a lock for this; a read lock on every
 * request costs a shared cache line on many cores, for a case servers rarely need.
 *
 * >>http-mux                                                                     */

/* The bytes of a lookup result that hold path values, the Allow list and the
 * redirect Location (the result lives on the serving coroutine's stack).        */
#ifndef GN_HTTP_MUX_SCRATCH
#  define GN_HTTP_MUX_SCRATCH 2048
#endif
#if GN_HTTP_MUX_SCRATCH < 64
#  error "gonet.h: GN_HTTP_MUX_SCRATCH must be at least 64"
#endif
/* Named wildcards a pattern may have (registration refuses more).               */
#define GN__MUX_MAX_VALUES 16

/* ---- URL helpers (GN__UNESCAPE_PATH and _QUERY are in http.h) --------------------- */

GN__PRIVATE int gn__hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The byte that starts at s[*i] (i < n), decoded; advances *i past it. -1 for a
 * '%' not followed by two hex digits.                                          */
GN__PRIVATE int gn__unescape_next(const char *s, size_t n, size_t *i, int mode) {
    int c = (unsigned char)s[*i];
    if (c == '%') {
        int hi, lo;
        if (n - *i < 3 || (hi = gn__hexval((unsigned char)s[*i + 1])) < 0 ||
            (lo = gn__hexval((unsigned char)s[*i + 2])) < 0)
            return -1;
        *i += 3;
        return hi << 4 | lo;
    }
    *i += 1;
    return c == '+' && mode == GN__UNESCAPE_QUERY ? ' ' : c;
}

/* Percent-decodes s[0, n) into out[0, size) and NUL-terminates it. mode is
 * GN__UNESCAPE_PATH or GN__UNESCAPE_QUERY. out may be s (decoding in place); with
 * out NULL and size 0 it only measures. Returns the decoded length (which may
 * count "%00" bytes), GN_EINVAL for a malformed escape anywhere in s (checked
 * first), GN_ETOOLARGE when the result and its NUL do not fit (out then holds
 * a prefix).                                                                    */
GN__PRIVATE int64_t gn__url_unescape(const char *s, size_t n, char *out, size_t size,
                                     int mode) {
    if ((!s && n) || (!out && size)) return GN_EINVAL;
    size_t i = 0, w = 0;
    while (i < n) {
        int c = gn__unescape_next(s, n, &i, mode);
        if (c < 0) return GN_EINVAL;
        if (w < size) out[w] = (char)c;
        w++;
    }
    if (!out) return (int64_t)w;
    if (w >= size) return GN_ETOOLARGE;
    out[w] = '\0';
    return (int64_t)w;
}

/* Whether s[0, n), decoded, equals lit[0, litlen): 1 yes, 0 no, -1 for a
 * malformed escape met before any difference.                                  */
GN__PRIVATE int gn__unescape_eq(const char *s, size_t n, int mode, const char *lit,
                                size_t litlen) {
    size_t i = 0, j = 0;
    while (i < n) {
        int c = gn__unescape_next(s, n, &i, mode);
        if (c < 0) return -1;
        if (j >= litlen || (unsigned char)lit[j] != c) return 0;
        j++;
    }
    return j == litlen;
}

/* Decodes s[0, n) into out[0, room) with a NUL, the way the mux decodes path
 * values: percent-escapes decoded, '+' kept; a malformed escape leaves the whole
 * piece as it is (Go's pathUnescape). Returns the length, or -1 if it does not
 * fit (room n + 1 always does).                                                 */
GN__PRIVATE int64_t gn__mux_decode(const char *s, size_t n, char *out, size_t room) {
    size_t i = 0;
    while (i < n && i < room && s[i] != '%') {  /* the usual case: nothing escaped   */
        out[i] = s[i];
        i++;
    }
    if (i == n && i < room) {
        out[i] = '\0';
        return (int64_t)i;
    }
    int64_t k = gn__url_unescape(s, n, out, room, GN__UNESCAPE_PATH);
    if (k != GN_EINVAL) return k >= 0 ? k : -1;
    if (n >= room) return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return (int64_t)n;
}

/* Whether the URL path p[0, n) is already clean: it starts with '/', and has no
 * empty, "." or ".." element (a final '/' is allowed).                         */
GN__PRIVATE int gn__path_is_clean(const char *p, size_t n) {
    if (n == 0 || p[0] != '/') return 0;
    size_t i = 1;
    while (i < n) {                            /* the element p[i, j)              */
        size_t j = i;
        while (j < n && p[j] != '/') j++;      /* segments are short: no memchr     */
        size_t len = j - i;
        if (len == 0) return 0;
        if (p[i] == '.' && (len == 1 || (len == 2 && p[i + 1] == '.'))) return 0;
        i = j + 1;
    }
    return 1;
}

/* Cleans the URL path p[0, n) as Go's mux does (path.Clean, keeping a final '/'):
 * "" becomes "/", a missing leading '/' is added, repeated slashes become one,
 * "." elements go, ".." takes the element before it away (never above the
 * root), and a path that ended in '/' (or "/" after all) still does. Works on
 * the escaped form: "%2e%2e" is a name, not "..". Writes the result and a NUL
 * into out[0, size), which must not overlap p (n + 2 bytes always suffice).
 * Returns its length, GN_ETOOLARGE if it does not fit, GN_EINVAL for bad args.
 * Two passes from the end, where a ".." simply skips the next element kept: the
 * first measures, the second writes backwards; no stack, and only the result
 * needs room.                                                                   */
GN__PRIVATE int64_t gn__path_clean(const char *p, size_t n, char *out, size_t size) {
    if ((!p && n) || !out) return GN_EINVAL;
    size_t total = 0, kept = 0;
    int trailing = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t j = n, skip = 0, w = total;
        if (pass == 1 && trailing) out[--w] = '/';
        while (j > 0) {                          /* the element p[i, j)               */
            size_t i = j;
            while (i > 0 && p[i - 1] != '/') i--;
            size_t len = j - i;
            if (len == 0 || (len == 1 && p[i] == '.')) {
                /* nothing, or the directory itself                                */
            } else if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
                skip++;
            } else if (skip) {
                skip--;
            } else if (pass == 0) {
                total += len + 1;
                kept++;
            } else {
                w -= len;
                memcpy(out + w, p + i, len);
                out[--w] = '/';
            }
            if (i == 0) break;
            j = i - 1;
        }
        if (pass == 0) {
            trailing = kept > 0 && n > 0 && p[n - 1] == '/';
            total = kept ? total + (size_t)trailing : 1;
            if (total >= size) return GN_ETOOLARGE;
            out[total] = '\0';
            if (!kept) {
                out[0] = '/';
                return 1;
            }
        }
    }
    return (int64_t)total;
}

/* The first value of key in the raw query ("a=1&b=x+y"), decoded, into buf with
 * a NUL. Keys are compared after decoding; as Go's url.ParseQuery, pairs with a
 * malformed escape or a ';' are skipped, and a pair without '=' has the value "".
 * Returns the value's length, or GN_EINVAL if key is absent or buf too small.  */
GN__PRIVATE int gn__query_get(const char *raw_query, const char *key, char *buf, size_t size) {
    if (!raw_query || !key || (!buf && size)) return GN_EINVAL;
    size_t klen = strlen(key);
    const char *p = raw_query;
    for (;;) {
        const char *amp = strchr(p, '&');
        const char *e = amp ? amp : p + strlen(p);
        size_t len = (size_t)(e - p);
        if (len > 0 && !memchr(p, ';', len)) {
            const char *eq = (const char *)memchr(p, '=', len);
            size_t kn = eq ? (size_t)(eq - p) : len;
            if (gn__unescape_eq(p, kn, GN__UNESCAPE_QUERY, key, klen) == 1) {
                const char *v = eq ? eq + 1 : e;
                size_t vn = (size_t)(e - v);
                int64_t dn = gn__url_unescape(v, vn, NULL, 0, GN__UNESCAPE_QUERY);
                if (dn >= 0) {
                    if ((uint64_t)dn >= size || dn > INT_MAX) return GN_EINVAL;
                    return (int)gn__url_unescape(v, vn, buf, size, GN__UNESCAPE_QUERY);
                }
            }
        }
        if (!amp) return GN_EINVAL;
        p = amp + 1;
    }
}

GONET_API int gn_http_query_get(const gn_http_request *r, const char *key, char *buf,
                                size_t size) {
    if (!r) return GN_EINVAL;
    return gn__query_get(gn_http_raw_query(r), key, buf, size);
}

/* ---- a growing string, for messages (registration only) ------------------------- */
typedef struct gn__mux_sb {
    char  *b;
    size_t n, cap;
    int    oom;
} gn__mux_sb;

GN__PRIVATE void gn__sb_putn(gn__mux_sb *sb, const char *s, size_t n) {
    if (sb->oom) return;
    if (sb->cap - sb->n <= n) {
        size_t cap = sb->cap ? sb->cap : 128;
        while (cap - sb->n <= n) cap *= 2;
        char *b = (char *)GN_REALLOC(sb->b, cap);
        if (!b) {
            sb->oom = 1;
            return;
        }
        sb->b = b;
        sb->cap = cap;
    }
    memcpy(sb->b + sb->n, s, n);
    sb->n += n;
    sb->b[sb->n] = '\0';
}

GN__PRIVATE void gn__sb_puts(gn__mux_sb *sb, const char *s) { gn__sb_putn(sb, s, strlen(s)); }

/* s[0, n) in double quotes, with '"', '\\' and control bytes escaped.            */
GN__PRIVATE void gn__sb_quote(gn__mux_sb *sb, const char *s, size_t n) {
    gn__sb_putn(sb, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            gn__sb_putn(sb, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[5];
            snprintf(e, sizeof e, "\\x%02x", c);
            gn__sb_putn(sb, e, 4);
        } else {
            gn__sb_putn(sb, s + i, 1);
        }
    }
    gn__sb_putn(sb, "\"", 1);
}

GN__PRIVATE void gn__sb_quotes(gn__mux_sb *sb, const char *s) { gn__sb_quote(sb, s, strlen(s)); }

/* ---- patterns ---------------------------------------------------------------------- */
enum { GN__MUX_LIT, GN__MUX_WILD, GN__MUX_MULTI, GN__MUX_END };

typedef struct gn__mux_seg {
    const char *s;       /* LIT: the decoded literal; WILD, MULTI: the name ("" for a
                            trailing '/'); END ({$}): ""                             */
    size_t      n;
    int         kind;
} gn__mux_seg;

typedef struct gn__mux_pat {
    const char          *str;       /* as registered                                */
    const char          *method;    /* "" for any                                   */
    size_t               mlen;
    const char          *host;      /* lower-cased; "" for any                      */
    size_t               hlen;
    gn__mux_seg         *segs;
    int                  nsegs;
    int                  nvals;     /* named wildcards, in order                    */
    const char          *names[GN__MUX_MAX_VALUES];
    gn_http_handler_func fn;
    void                *ud;
} gn__mux_pat;

GN__PRIVATE const gn__mux_seg *gn__mux_last(const gn__mux_pat *p) { return &p->segs[p->nsegs - 1]; }

GN__PRIVATE int gn__mux_is_tchar(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A Go identifier, ASCII only: a letter or '_', then letters, digits, '_'.      */
GN__PRIVATE int gn__mux_is_ident(const char *s, size_t n) {
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (i > 0 && c >= '0' && c <= '9');
        if (!ok) return 0;
    }
    return 1;
}

/* Writes "parsing "PAT": [at offset N: ]why[ "arg"]" into sb.                    */
GN__PRIVATE void gn__mux_parse_err(gn__mux_sb *sb, const char *pat, long off, const char *why,
                                   const char *arg, size_t argn) {
    gn__sb_puts(sb, "parsing ");
    gn__sb_quotes(sb, pat);
    gn__sb_puts(sb, ": ");
    if (off >= 0) {
        char num[32];
        snprintf(num, sizeof num, "at offset %ld: ", off);
        gn__sb_puts(sb, num);
    }
    gn__sb_puts(sb, why);
    if (arg) {
        gn__sb_puts(sb, " ");
        gn__sb_quote(sb, arg, argn);
    }
}

/* Parses s into a new pattern (one allocation: the struct, the segments and every
 * string). Returns 0, GN_EINVAL (why in sb) or GN_ENOMEM.                        */
GN__PRIVATE int gn__mux_parse(const char *s, gn__mux_pat **out, gn__mux_sb *sb) {
    *out = NULL;
    size_t len = strlen(s);
    if (len == 0) {
        gn__mux_parse_err(sb, s, -1, "empty pattern", NULL, 0);
        return GN_EINVAL;
    }
    size_t maxsegs = 1;
    for (size_t i = 0; i < len; i++) maxsegs += s[i] == '/';
    size_t bytes = sizeof(gn__mux_pat) + maxsegs * sizeof(gn__mux_seg) + 4 * (len + 1) + maxsegs;
    gn__mux_pat *p = (gn__mux_pat *)GN_MALLOC(bytes);
    if (!p) return GN_ENOMEM;
    memset(p, 0, sizeof *p);
    p->segs = (gn__mux_seg *)(p + 1);
    char *t = (char *)(p->segs + maxsegs);     /* the strings, one after another    */
    memcpy(t, s, len + 1);
    p->str = t;
    t += len + 1;

    /* METHOD, up to the first space or tab; then any more of them.               */
    const char *rest = s, *path, *q;   /* no initialiser past a goto: C++ refuses that */
    size_t ws = strcspn(s, " \t");
    p->method = p->host = "";
    if (ws < len) {
        for (size_t i = 0; i < ws; i++) {
            if (!gn__mux_is_tchar((unsigned char)s[i])) {
                gn__mux_parse_err(sb, s, -1, "invalid method", s, ws);
                goto fail;
            }
        }
        memcpy(t, s, ws);
        t[ws] = '\0';
        p->method = t;
        p->mlen = ws;
        t += ws + 1;
        rest = s + ws;
        while (*rest == ' ' || *rest == '\t') rest++;
    }
    /* HOST, up to the path's '/'.                                                 */
    path = strchr(rest, '/');
    if (!path) {
        gn__mux_parse_err(sb, s, -1, "host/path missing /", NULL, 0);
        goto fail;
    }
    p->hlen = (size_t)(path - rest);
    if (memchr(rest, '{', p->hlen) || memchr(rest, '}', p->hlen)) {
        gn__mux_parse_err(sb, s, (long)(rest - s), "host contains a brace (missing initial '/'?)",
                          NULL, 0);
        goto fail;
    }
    for (size_t i = 0; i < p->hlen; i++) {
        char c = rest[i];
        t[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    t[p->hlen] = '\0';
    p->host = t;
    t += p->hlen + 1;
    /* Request paths are cleaned before matching, except CONNECT's.               */
    if (p->mlen && strcmp(p->method, "CONNECT") != 0 && !gn__path_is_clean(path, strlen(path))) {
        gn__mux_parse_err(sb, s, (long)(path - s),
                          "non-CONNECT pattern with unclean path can never match", NULL, 0);
        goto fail;
    }
    /* PATH: segments after each '/'.                                              */
    q = path;
    while (*q) {
        q++;                                     /* past the '/'                      */
        gn__mux_seg *g = &p->segs[p->nsegs++];
        memset(g, 0, sizeof *g);
        long off = (long)(q - s);
        if (*q == '\0') {                        /* a trailing '/': an anonymous ...  */
            g->kind = GN__MUX_MULTI;
            g->s = "";
            break;
        }
        const char *e = strchr(q, '/');
        if (!e) e = q + strlen(q);
        size_t n = (size_t)(e - q);
        const char *ob = (const char *)memchr(q, '{', n);
        if (!ob) {
            if (memchr(q, '}', n)) {
                gn__mux_parse_err(sb, s, off, "unbalanced '}' (write %7D for a literal one)",
                                  NULL, 0);
                goto fail;
            }
            g->kind = GN__MUX_LIT;
            g->n = (size_t)gn__mux_decode(q, n, t, n + 1);
            g->s = t;
            t += g->n + 1;
            q = e;
            continue;
        }
        if (ob != q) {
            gn__mux_parse_err(sb, s, off, "bad wildcard segment (must start with '{')", NULL, 0);
            goto fail;
        }
        if (q[n - 1] != '}') {
            gn__mux_parse_err(sb, s, off, "bad wildcard segment (must end with '}')", NULL, 0);
            goto fail;
        }
        const char *name = q + 1;
        size_t nn = n - 2;
        if (nn == 1 && name[0] == '$') {
            if (*e) {
                gn__mux_parse_err(sb, s, off, "{$} not at end", NULL, 0);
                goto fail;
            }
            g->kind = GN__MUX_END;
            g->s = "";
            break;
        }
        int multi = nn >= 3 && memcmp(name + nn - 3, "...", 3) == 0;
        if (multi) {
            nn -= 3;
            if (*e) {
                gn__mux_parse_err(sb, s, off, "{...} wildcard not at end", NULL, 0);
                goto fail;
            }
        }
        if (nn == 0) {
            gn__mux_parse_err(sb, s, off, "empty wildcard", NULL, 0);
            goto fail;
        }
        if (!gn__mux_is_ident(name, nn)) {
            gn__mux_parse_err(sb, s, off, "bad wildcard name", name, nn);
            goto fail;
        }
        for (int i = 0; i < p->nvals; i++) {
            if (strlen(p->names[i]) == nn && memcmp(p->names[i], name, nn) == 0) {
                gn__mux_parse_err(sb, s, off, "duplicate wildcard name", name, nn);
                goto fail;
            }
        }
        if (p->nvals == GN__MUX_MAX_VALUES) {
            gn__mux_parse_err(sb, s, off,
                              "too many wildcards (at most " GONET__STR(GN__MUX_MAX_VALUES) ")",
                              NULL, 0);
            goto fail;
        }
        memcpy(t, name, nn);
        t[nn] = '\0';
        g->kind = multi ? GN__MUX_MULTI : GN__MUX_WILD;
        g->s = t;
        g->n = nn;
        p->names[p->nvals++] = t;
        t += nn + 1;
        q = e;
    }
    GN_ASSERT(p->nsegs > 0 && (size_t)p->nsegs <= maxsegs && (size_t)(t - (char *)p) <= bytes);
    *out = p;
    return 0;
fail:
    GN_FREE(p);
    return sb->oom ? GN_ENOMEM : GN_EINVAL;
}

/* ---- how two patterns relate -------------------------------------------------------
 * For the requests two patterns match: EQUIV the same; GENERAL the first matches a
 * strict superset; SPECIFIC a strict subset; DISJOINT none in common; OVERLAP some
 * in common and each matches some the other does not.                            */
enum { GN__REL_EQUIV, GN__REL_GENERAL, GN__REL_SPECIFIC, GN__REL_DISJOINT, GN__REL_OVERLAP };

/* The relation of the requests matched by "a and b" parts taken together.        */
GN__PRIVATE int gn__mux_rel_and(int r1, int r2) {
    switch (r1) {
    case GN__REL_EQUIV:    return r2;
    case GN__REL_DISJOINT: return GN__REL_DISJOINT;
    case GN__REL_OVERLAP:  return r2 == GN__REL_DISJOINT ? GN__REL_DISJOINT : GN__REL_OVERLAP;
    default:
        if (r2 == GN__REL_EQUIV) return r1;
        if ((r1 == GN__REL_GENERAL && r2 == GN__REL_SPECIFIC) ||
            (r1 == GN__REL_SPECIFIC && r2 == GN__REL_GENERAL))
            return GN__REL_OVERLAP;
        return r2;
    }
}

GN__PRIVATE int gn__mux_rel_methods(const gn__mux_pat *a, const gn__mux_pat *b) {
    if (a->mlen == b->mlen && memcmp(a->method, b->method, a->mlen) == 0) return GN__REL_EQUIV;
    if (!a->mlen) return GN__REL_GENERAL;
    if (!b->mlen) return GN__REL_SPECIFIC;
    if (strcmp(a->method, "GET") == 0 && strcmp(b->method, "HEAD") == 0) return GN__REL_GENERAL;
    if (strcmp(a->method, "HEAD") == 0 && strcmp(b->method, "GET") == 0) return GN__REL_SPECIFIC;
    return GN__REL_DISJOINT;
}

GN__PRIVATE int gn__mux_rel_seg(const gn__mux_seg *a, const gn__mux_seg *b) {
    int ka = a->kind, kb = b->kind;
    if (ka == GN__MUX_MULTI || kb == GN__MUX_MULTI)
        return ka == kb ? GN__REL_EQUIV : ka == GN__MUX_MULTI ? GN__REL_GENERAL : GN__REL_SPECIFIC;
    if (ka == GN__MUX_END || kb == GN__MUX_END)    /* {$} only meets {$} (or a multi) */
        return ka == kb ? GN__REL_EQUIV : GN__REL_DISJOINT;
    if (ka == GN__MUX_WILD || kb == GN__MUX_WILD)
        return ka == kb ? GN__REL_EQUIV : ka == GN__MUX_WILD ? GN__REL_GENERAL : GN__REL_SPECIFIC;
    return a->n == b->n && memcmp(a->s, b->s, a->n) == 0 ? GN__REL_EQUIV : GN__REL_DISJOINT;
}

GN__PRIVATE int gn__mux_rel_paths(const gn__mux_pat *a, const gn__mux_pat *b) {
    int amulti = gn__mux_last(a)->kind == GN__MUX_MULTI;
    int bmulti = gn__mux_last(b)->kind == GN__MUX_MULTI;
    if (a->nsegs != b->nsegs && !amulti && !bmulti) return GN__REL_DISJOINT;
    int rel = GN__REL_EQUIV, i;
    for (i = 0; i < a->nsegs && i < b->nsegs; i++) {
        rel = gn__mux_rel_and(rel, gn__mux_rel_seg(&a->segs[i], &b->segs[i]));
        if (rel == GN__REL_DISJOINT) return rel;
    }
    if (a->nsegs == b->nsegs) return rel;
    /* The shorter one's last segment, a multi, took the longer one's rest (a
     * shorter one without a multi cannot reach the longer one's segments).       */
    if (a->nsegs < b->nsegs)
        return amulti ? gn__mux_rel_and(rel, GN__REL_GENERAL) : GN__REL_DISJOINT;
    return bmulti ? gn__mux_rel_and(rel, GN__REL_SPECIFIC) : GN__REL_DISJOINT;
}

/* The relation of a's requests to b's, hosts aside.                              */
GN__PRIVATE int gn__mux_rel(const gn__mux_pat *a, const gn__mux_pat *b) {
    int m = gn__mux_rel_methods(a, b);
    return m == GN__REL_DISJOINT ? m : gn__mux_rel_and(m, gn__mux_rel_paths(a, b));
}

GN__PRIVATE int gn__mux_conflicts(const gn__mux_pat *a, const gn__mux_pat *b) {
    if (a->hlen != b->hlen || memcmp(a->host, b->host, a->hlen) != 0) return 0;
    int r = gn__mux_rel(a, b);
    return r == GN__REL_EQUIV || r == GN__REL_OVERLAP;
}

/* An example segment for the messages: "/" then the literal or the name.        */
GN__PRIVATE void gn__mux_example_seg(gn__mux_sb *sb, const gn__mux_seg *g) {
    gn__sb_putn(sb, "/", 1);
    if (g->kind == GN__MUX_LIT || g->kind == GN__MUX_WILD) gn__sb_putn(sb, g->s, g->n);
}

/* A path both a and b match (they overlap).                                     */
GN__PRIVATE void gn__mux_example_common(gn__mux_sb *sb, const gn__mux_pat *a,
                                        const gn__mux_pat *b) {
    size_t start = sb->n;
    int i;
    for (i = 0; i < a->nsegs && i < b->nsegs; i++) {
        const gn__mux_seg *x = &a->segs[i], *y = &b->segs[i];
        if (x->kind == GN__MUX_LIT || y->kind == GN__MUX_LIT || x->kind == GN__MUX_END ||
            y->kind == GN__MUX_END)
            gn__mux_example_seg(sb, x->kind == GN__MUX_LIT || x->kind == GN__MUX_END ? x : y);
        else
            gn__mux_example_seg(sb, x->kind == GN__MUX_WILD ? x : y);
    }
    for (; i < a->nsegs; i++) gn__mux_example_seg(sb, &a->segs[i]);
    for (; i < b->nsegs; i++) gn__mux_example_seg(sb, &b->segs[i]);
    if (sb->n == start) gn__sb_putn(sb, "/", 1);
}

/* A path a matches and b does not (a is not a subset of b).                      */
GN__PRIVATE void gn__mux_example_diff(gn__mux_sb *sb, const gn__mux_pat *a, const gn__mux_pat *b) {
    size_t start = sb->n;
    for (int i = 0; i < a->nsegs; i++) {
        const gn__mux_seg *x = &a->segs[i], *y = i < b->nsegs ? &b->segs[i] : NULL;
        if (x->kind == GN__MUX_MULTI) {
            /* A non-empty rest differs from {$}; an empty one from anything longer. */
            gn__sb_putn(sb, "/", 1);
            if (y && y->kind == GN__MUX_END) {
                if (x->n) gn__sb_putn(sb, x->s, x->n);
                else gn__sb_putn(sb, "x", 1);
            }
            break;
        }
        if (x->kind == GN__MUX_WILD && y && y->kind == GN__MUX_LIT && x->n == y->n &&
            memcmp(x->s, y->s, x->n) == 0) {
            gn__mux_example_seg(sb, x);           /* the name is b's literal: alter it */
            gn__sb_putn(sb, "x", 1);
            continue;
        }
        gn__mux_example_seg(sb, x);
        if (x->kind == GN__MUX_END) break;
    }
    if (sb->n == start) gn__sb_putn(sb, "/", 1);
}

/* Why the new pattern a conflicts with the registered b, into sb.                 */
GN__PRIVATE void gn__mux_describe_conflict(gn__mux_sb *sb, const gn__mux_pat *a,
                                           const gn__mux_pat *b) {
    int mrel = gn__mux_rel_methods(a, b), prel = gn__mux_rel_paths(a, b);
    gn__sb_puts(sb, "pattern ");
    gn__sb_quotes(sb, a->str);
    gn__sb_puts(sb, " conflicts with pattern ");
    gn__sb_quotes(sb, b->str);
    gn__sb_puts(sb, ": ");
    if (gn__mux_rel_and(mrel, prel) == GN__REL_EQUIV) {
        gn__sb_puts(sb, "they match the same requests");
    } else if (prel == GN__REL_OVERLAP) {
        gn__sb_puts(sb, "both match some paths, like \"");
        gn__mux_example_common(sb, a, b);
        gn__sb_puts(sb, "\", but neither is more specific: ");
        gn__sb_quotes(sb, a->str);
        gn__sb_puts(sb, " matches \"");
        gn__mux_example_diff(sb, a, b);
        gn__sb_puts(sb, "\" and ");
        gn__sb_quotes(sb, b->str);
        gn__sb_puts(sb, " does not; ");
        gn__sb_quotes(sb, b->str);
        gn__sb_puts(sb, " matches \"");
        gn__mux_example_diff(sb, b, a);
        gn__sb_puts(sb, "\" and ");
        gn__sb_quotes(sb, a->str);
        gn__sb_puts(sb, " does not");
    } else if (mrel == GN__REL_GENERAL) {
        gn__sb_quotes(sb, a->str);
        gn__sb_puts(sb, " matches more methods than ");
        gn__sb_quotes(sb, b->str);
        gn__sb_puts(sb, " but has a more specific path");
    } else {
        gn__sb_quotes(sb, a->str);
        gn__sb_puts(sb, " matches fewer methods than ");
        gn__sb_quotes(sb, b->str);
        gn__sb_puts(sb, " but has a more general path");
    }
}

/* ---- the routing tree ------------------------------------------------------------- */
typedef struct gn__mux_node gn__mux_node;

struct gn__mux_node {
    const char        *key;           /* host, method or decoded literal (the parent's) */
    size_t             klen;
    gn__mux_node     **kids;          /* sorted by (klen, bytes)                         */
    unsigned           nkids, capkids;
    gn__mux_node      *wild;          /* any host / any method / a {name} segment        */
    const gn__mux_pat *pat;           /* ends here                                       */
    const gn__mux_pat *end;           /* {$} here: ends with a '/'                       */
    const gn__mux_pat *multi;         /* {name...} or a trailing '/' here                */
};

struct gn_http_mux {
    gn__mux_node  root;
    gn__mux_pat **pats;               /* every registered pattern, in order              */
    size_t        npats, cappats;
    char         *err;                /* the last registration error, or NULL            */
    int           err_oom;
};

/* A lookup key: raw bytes, bytes compared lower-cased (a host), or a path segment
 * compared percent-decoded.                                                     */
enum { GN__MUX_KEY_RAW, GN__MUX_KEY_LOWER, GN__MUX_KEY_ESC };
typedef struct gn__mux_key {
    const char *s;
    size_t      n, dn;                /* bytes in s; bytes as compared                  */
    int         how;
} gn__mux_key;

/* The key's next byte as compared, read from s[*i] on.                          */
GN__PRIVATE int gn__mux_key_byte(const gn__mux_key *k, size_t *i) {
    if (k->how == GN__MUX_KEY_ESC) return gn__unescape_next(k->s, k->n, i, GN__UNESCAPE_PATH);
    int c = (unsigned char)k->s[(*i)++];
    if (k->how == GN__MUX_KEY_LOWER && c >= 'A' && c <= 'Z') c += 'a' - 'A';
    return c;
}

/* k over s[0, n). how ESC: a path segment that holds a '%'; a malformed escape
 * makes it RAW (compared as it is, like Go).                                    */
GN__PRIVATE void gn__mux_key_init(gn__mux_key *k, const char *s, size_t n, int how) {
    k->s = s;
    k->n = k->dn = n;
    k->how = how;
    if (how == GN__MUX_KEY_ESC) {
        for (size_t i = 0; i < n; i++) {
            if (s[i] != '%') continue;
            if (n - i < 3 || gn__hexval((unsigned char)s[i + 1]) < 0 ||
                gn__hexval((unsigned char)s[i + 2]) < 0) {
                k->how = GN__MUX_KEY_RAW;
                k->dn = n;
                break;
            }
            k->dn -= 2;
            i += 2;
        }
    }
}

/* Orders a child's key against k: by length, then bytes. (Tried: a tag of length
 * and first bytes kept in the parent's array, to spare loading sibling nodes;
 * building it per segment cost as much as it saved, with L1 warm or cold.)    */
GN__PRIVATE int gn__mux_cmp(const gn__mux_node *c, const gn__mux_key *k) {
    if (c->klen != k->dn) return c->klen < k->dn ? -1 : 1;
    const unsigned char *a = (const unsigned char *)c->key;
    if (k->how == GN__MUX_KEY_RAW) {
        if (!k->n) return 0;
        if (a[0] != (unsigned char)k->s[0]) return a[0] < (unsigned char)k->s[0] ? -1 : 1;
        return memcmp(a, k->s, k->n);
    }
    size_t i = 0;
    for (size_t j = 0; j < c->klen; j++) {
        int b = gn__mux_key_byte(k, &i);
        if (a[j] != b) return a[j] < b ? -1 : 1;
    }
    return 0;
}

/* The child of n with key k, or NULL; *at gets where it would go.               */
GN__PRIVATE gn__mux_node *gn__mux_find_at(const gn__mux_node *n, const gn__mux_key *k,
                                          unsigned *at) {
    unsigned lo = 0, hi = n->nkids;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        int r = gn__mux_cmp(n->kids[mid], k);
        if (r == 0) return n->kids[mid];
        if (r < 0) lo = mid + 1;
        else hi = mid;
    }
    if (at) *at = lo;
    return NULL;
}

GN__PRIVATE const gn__mux_node *gn__mux_find(const gn__mux_node *n, const char *s, size_t len,
                                             int how) {
    if (!n || !n->nkids) return NULL;
    gn__mux_key k;
    gn__mux_key_init(&k, s, len, how);
    return gn__mux_find_at(n, &k, NULL);
}

GN__PRIVATE gn__mux_node *gn__mux_node_new(const char *key, size_t klen) {
    gn__mux_node *c = (gn__mux_node *)GN_MALLOC(sizeof *c);
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    c->key = key;
    c->klen = klen;
    return c;
}

/* The child with the (raw) key, added if missing; NULL when out of memory.      */
GN__PRIVATE gn__mux_node *gn__mux_child(gn__mux_node *n, const char *key, size_t klen) {
    gn__mux_key k;
    unsigned at = 0;
    gn__mux_key_init(&k, key, klen, GN__MUX_KEY_RAW);
    gn__mux_node *c = gn__mux_find_at(n, &k, &at);
    if (c) return c;
    if (n->nkids == n->capkids) {
        unsigned cap = n->capkids ? 2 * n->capkids : 4;
        gn__mux_node **kids = (gn__mux_node **)GN_REALLOC(n->kids, cap * sizeof *kids);
        if (!kids) return NULL;
        n->kids = kids;
        n->capkids = cap;
    }
    if (!(c = gn__mux_node_new(key, klen))) return NULL;
    memmove(n->kids + at + 1, n->kids + at, (n->nkids - at) * sizeof *n->kids);
    n->kids[at] = c;
    n->nkids++;
    return c;
}

GN__PRIVATE gn__mux_node *gn__mux_wild(gn__mux_node *n) {
    if (!n->wild) n->wild = gn__mux_node_new("", 0);
    return n->wild;
}

GN__PRIVATE void gn__mux_node_clear(gn__mux_node *n) {
    for (unsigned i = 0; i < n->nkids; i++) {
        gn__mux_node_clear(n->kids[i]);
        GN_FREE(n->kids[i]);
    }
    GN_FREE(n->kids);
    if (n->wild) {
        gn__mux_node_clear(n->wild);
        GN_FREE(n->wild);
    }
}

/* Adds p's path to the tree. Registration has ruled out an equivalent pattern,
 * so its leaf is free. On GN_ENOMEM some empty nodes may stay: they match nothing. */
GN__PRIVATE int gn__mux_insert(gn_http_mux *m, const gn__mux_pat *p) {
    gn__mux_node *n = p->hlen ? gn__mux_child(&m->root, p->host, p->hlen) : gn__mux_wild(&m->root);
    if (n) n = p->mlen ? gn__mux_child(n, p->method, p->mlen) : gn__mux_wild(n);
    for (int i = 0; n && i < p->nsegs; i++) {
        const gn__mux_seg *g = &p->segs[i];
        switch (g->kind) {
        case GN__MUX_LIT:  n = gn__mux_child(n, g->s, g->n); break;
        case GN__MUX_WILD: n = gn__mux_wild(n); break;
        case GN__MUX_END:
            GN_ASSERT(!n->end);
            n->end = p;
            return 0;
        default:
            GN_ASSERT(!n->multi);
            n->multi = p;
            return 0;
        }
    }
    if (!n) return GN_ENOMEM;
    GN_ASSERT(!n->pat);
    n->pat = p;
    return 0;
}

/* ---- lookup ----------------------------------------------------------------------- */
typedef struct gn__mux_cap {
    const char *s;                    /* escaped bytes of a wildcard's value          */
    size_t      n;
} gn__mux_cap;

typedef struct gn__mux_walk {
    const char  *end;                 /* the path's end                               */
    int          tail;                /* probe: the path as if it ended in one more '/' */
    int          exact;               /* out: no multi wildcard took a non-empty rest */
    int          ncaps;
    gn__mux_cap *caps;                /* NULL: values not recorded                    */
} gn__mux_walk;

GN__PRIVATE void gn__mux_capture(gn__mux_walk *w, const char *s, size_t n) {
    if (w->caps && w->ncaps < GN__MUX_MAX_VALUES) {
        w->caps[w->ncaps].s = s;
        w->caps[w->ncaps].n = n;
        w->ncaps++;
    }
}

/* The pattern under n that matches the path from p (at a '/' or the end).       */
GN__PRIVATE const gn__mux_pat *gn__mux_walk_path(const gn__mux_node *n, const char *p,
                                                 gn__mux_walk *w) {
    if (!n) return NULL;
    if (p == w->end && !w->tail) {
        w->exact = 1;
        return n->pat;
    }
    if (w->tail ? p == w->end : (p + 1 == w->end && *p == '/')) {
        /* Only a '/' is left: {$}, or a multi wildcard with an empty rest.        */
        if (n->end) {
            w->exact = 1;
            return n->end;
        }
        if (n->multi) {
            if (gn__mux_last(n->multi)->n) gn__mux_capture(w, w->end, 0);
            w->exact = 1;
            return n->multi;
        }
        return NULL;
    }
    const char *s = p + 1, *q = s;
    int pct = 0;
    while (q < w->end && *q != '/') pct |= *q++ == '%';    /* short: no memchr      */
    const gn__mux_pat *r;
    if (n->nkids) {
        gn__mux_key k;
        gn__mux_key_init(&k, s, (size_t)(q - s), pct ? GN__MUX_KEY_ESC : GN__MUX_KEY_RAW);
        if ((r = gn__mux_walk_path(gn__mux_find_at(n, &k, NULL), q, w))) return r;
    }
    if (n->wild) {
        int ncaps = w->ncaps;
        gn__mux_capture(w, s, (size_t)(q - s));
        if ((r = gn__mux_walk_path(n->wild, q, w))) return r;
        w->ncaps = ncaps;
    }
    if (n->multi) {
        if (gn__mux_last(n->multi)->n) gn__mux_capture(w, s, (size_t)(w->end - s));
        w->exact = 0;
        return n->multi;
    }
    return NULL;
}

/* Below a host node (or the host-less one): the method, GET for HEAD, any.      */
GN__PRIVATE const gn__mux_pat *gn__mux_walk_method(const gn__mux_node *hn, const char *method,
                                                   size_t mlen, const char *path, gn__mux_walk *w) {
    if (!hn) return NULL;
    const gn__mux_pat *r;
    if (hn->nkids) {
        if ((r = gn__mux_walk_path(gn__mux_find(hn, method, mlen, GN__MUX_KEY_RAW), path, w)))
            return r;
        if (mlen == 4 && memcmp(method, "HEAD", 4) == 0 &&
            (r = gn__mux_walk_path(gn__mux_find(hn, "GET", 3, GN__MUX_KEY_RAW), path, w)))
            return r;
    }
    return gn__mux_walk_path(hn->wild, path, w);
}

GN__PRIVATE const gn__mux_pat *gn__mux_walk_all(const gn_http_mux *m, const char *host, size_t hlen,
                                                const char *method, size_t mlen, const char *path,
                                                gn__mux_walk *w) {
    const gn__mux_pat *r;
    if (hlen && m->root.nkids &&
        (r = gn__mux_walk_method(gn__mux_find(&m->root, host, hlen, GN__MUX_KEY_LOWER), method,
                                 mlen, path, w)))
        return r;
    return gn__mux_walk_method(m->root.wild, method, mlen, path, w);
}

/* Whether a pattern for exactly this method under hn matches the path, or the
 * path with a '/' added (which would redirect).                                 */
GN__PRIVATE int gn__mux_allows(const gn__mux_node *hn, const char *method, size_t mlen,
                               const char *path, size_t plen) {
    const gn__mux_node *c = gn__mux_find(hn, method, mlen, GN__MUX_KEY_RAW);
    if (!c) return 0;
    gn__mux_walk w;
    memset(&w, 0, sizeof w);
    w.end = path + plen;
    if (gn__mux_walk_path(c, path, &w)) return 1;
    if (plen && path[plen - 1] == '/') return 0;
    w.tail = 1;
    return gn__mux_walk_path(c, path, &w) != NULL;
}

GN__PRIVATE int gn__mux_lexcmp(const char *a, size_t an, const char *b, size_t bn) {
    int r = memcmp(a, b, GN__MIN(an, bn));
    return r ? r : an < bn ? -1 : an > bn;
}

/* Host without its port, as Go's mux: "h:80" and "[::1]:80" lose the port; a
 * host that does not split into host and port ("::1", "[::1]") stays whole.     */
GN__PRIVATE size_t gn__mux_strip_port(const char *h, const char **out) {
    size_t n = strlen(h), i = n;
    *out = h;
    while (i > 0 && h[i - 1] != ':') i--;
    if (i-- == 0) return n;                  /* i: the last ':'                       */
    if (h[0] == '[') {
        const char *rb = (const char *)memchr(h, ']', n);
        if (!rb || (size_t)(rb - h) + 1 != i || memchr(h + 1, '[', n - 1) ||
            memchr(rb + 1, ']', n - i))
            return n;
        *out = h + 1;
        return (size_t)(rb - h) - 1;
    }
    if (memchr(h, ':', i) || memchr(h, '[', n) || memchr(h, ']', n)) return n;
    return i;
}

/* What a lookup found. Strings point into the mux (pattern, names) or into
 * scratch (values, allow, location): they live as long as both.                 */
typedef struct gn__mux_result {
    int                  status;    /* 200 match; 301 redirect; 404; 405; 414 (what had
                                       to go in scratch did not fit)                   */
    gn_http_handler_func fn;        /* 200: the handler and its ud; else NULL          */
    void                *ud;
    const char          *pattern;   /* 200: the pattern matched; 301: the one that
                                       matches the Location, if any; else ""           */
    const char          *allow;     /* 405: "GET, HEAD, POST" (sorted; GET brings HEAD);
                                       else ""                                          */
    const char          *location;  /* 301: "/a/b/" or "/a/b/?q=1"; else ""             */
    int                  nvals;     /* 200: path values, in the pattern's order        */
    gn__pathval          vals[GN__MUX_MAX_VALUES];
    char                 scratch[GN_HTTP_MUX_SCRATCH];
} gn__mux_result;

GN__PRIVATE int gn__mux_too_large(gn__mux_result *res) {
    res->status = 414;
    res->fn = NULL;
    res->ud = NULL;
    res->nvals = 0;
    res->pattern = res->allow = res->location = "";
    return 414;
}

/* The redirect: path[0, plen) [+ '/'] [+ '?' query] into scratch.               */
GN__PRIVATE int gn__mux_redirect(gn__mux_result *res, const char *path, size_t plen, int slash,
                                 const char *query, const gn__mux_pat *to) {
    size_t qn = query ? strlen(query) : 0;
    size_t need = plen + (size_t)slash + (qn ? qn + 1 : 0) + 1;
    if (need > sizeof res->scratch) return gn__mux_too_large(res);
    memmove(res->scratch, path, plen);   /* path may already be in scratch        */
    size_t w = plen;
    if (slash) res->scratch[w++] = '/';
    if (qn) {
        res->scratch[w++] = '?';
        memcpy(res->scratch + w, query, qn);
        w += qn;
    }
    res->scratch[w] = '\0';
    res->location = res->scratch;
    res->pattern = to ? to->str : "";
    res->status = 301;
    return 301;
}

/* Matches a request, as Go's ServeMux.Handler. method: as sent ("GET"); host: the
 * Host header or "" (NULL too), with or without a port (stripped here, except for
 * CONNECT); escaped_path: the target's path as sent ("/a%20b", no query);
 * raw_query: without the '?' (NULL or "" for none; only used in a Location).
 * A path that is not clean redirects (301) to its clean form; a path without a
 * final '/' that only matches with one redirects to it (301, after cleaning);
 * CONNECT paths are not cleaned. No match: 405 with the methods that would match
 * (res->allow), or 404. Fills *res and returns res->status, or GN_EINVAL for a
 * NULL argument (with res->status 500 when res is not NULL). Allocates nothing.  */
GN__PRIVATE int gn__mux_lookup(const gn_http_mux *m, const char *method, const char *host,
                               const char *escaped_path, const char *raw_query,
                               gn__mux_result *res) {
    if (!res) return GN_EINVAL;
    res->status = 404;
    res->fn = NULL;
    res->ud = NULL;
    res->pattern = res->allow = res->location = "";
    res->nvals = 0;
    res->scratch[0] = '\0';
    if (!m || !method || !escaped_path) {
        res->status = 500;
        return GN_EINVAL;
    }
    size_t mlen = strlen(method), plen = strlen(escaped_path), hlen = 0;
    int connect = mlen == 7 && memcmp(method, "CONNECT", 7) == 0;
    if (!host) host = "";
    if (connect) hlen = strlen(host);
    else hlen = gn__mux_strip_port(host, &host);

    const char *path = escaped_path;
    int unclean = 0;
    if (connect) {
        if (plen == 0 || path[0] != '/') return 404;
    } else if (!gn__path_is_clean(path, plen)) {
        int64_t k = gn__path_clean(path, plen, res->scratch, sizeof res->scratch);
        if (k < 0) return gn__mux_too_large(res);
        path = res->scratch;
        plen = (size_t)k;
        unclean = 1;
    }

    gn__mux_cap caps[GN__MUX_MAX_VALUES];
    gn__mux_walk w;
    memset(&w, 0, sizeof w);
    w.end = path + plen;
    w.caps = caps;
    const gn__mux_pat *pat = gn__mux_walk_all(m, host, hlen, method, mlen, path, &w);

    /* "/dir" that only matches as "/dir/": redirect there.                         */
    if ((!pat || !w.exact) && path[plen - 1] != '/') {
        gn__mux_walk t;
        memset(&t, 0, sizeof t);
        t.end = path + plen;
        t.tail = 1;
        const gn__mux_pat *to = gn__mux_walk_all(m, host, hlen, method, mlen, path, &t);
        if (to && t.exact) return gn__mux_redirect(res, path, plen, 1, raw_query, to);
    }
    if (unclean) return gn__mux_redirect(res, path, plen, 0, raw_query, pat);

    if (pat) {
        size_t used = 0;
        int n = GN__MIN(w.ncaps, pat->nvals);
        for (int i = 0; i < n; i++) {
            char *v = res->scratch + used;
            int64_t k = gn__mux_decode(caps[i].s, caps[i].n, v, sizeof res->scratch - used);
            if (k < 0) return gn__mux_too_large(res);
            used += (size_t)k + 1;
            res->vals[i].name = pat->names[i];
            res->vals[i].value = v;
        }
        res->nvals = n;
        res->fn = pat->fn;
        res->ud = pat->ud;
        res->pattern = pat->str;
        res->status = 200;
        return 200;
    }

    /* 405 if some other method would match: the Allow list, sorted bytewise,
     * built by picking the next-smallest candidate method each round (there are
     * few, and this is not the hot path).                                        */
    const gn__mux_node *hh = hlen ? gn__mux_find(&m->root, host, hlen, GN__MUX_KEY_LOWER) : NULL;
    const gn__mux_node *ha = m->root.wild;
    const gn__mux_node *levels[2] = {hh, ha};
    const char *last = NULL;
    size_t lastn = 0, used = 0;
    for (;;) {
        const char *best = NULL;
        size_t bestn = 0;
        for (int l = 0; l < 3; l++) {
            const gn__mux_node *hn = l < 2 ? levels[l] : NULL;
            unsigned nk = l < 2 ? (hn ? hn->nkids : 0) : 1;
            for (unsigned i = 0; i < nk; i++) {
                const char *c = l < 2 ? hn->kids[i]->key : "HEAD";
                size_t cn = l < 2 ? hn->kids[i]->klen : 4;
                if ((!last || gn__mux_lexcmp(c, cn, last, lastn) > 0) &&
                    (!best || gn__mux_lexcmp(c, cn, best, bestn) < 0)) {
                    best = c;
                    bestn = cn;
                }
            }
        }
        if (!best) break;
        int ok = gn__mux_allows(hh, best, bestn, path, plen) ||
                 gn__mux_allows(ha, best, bestn, path, plen) ||
                 (bestn == 4 && memcmp(best, "HEAD", 4) == 0 &&
                  (gn__mux_allows(hh, "GET", 3, path, plen) ||
                   gn__mux_allows(ha, "GET", 3, path, plen)));
        /* A list too long for scratch (hundreds of methods) is cut at a method. */
        if (ok && used + bestn + 3 <= sizeof res->scratch) {
            if (used) {
                memcpy(res->scratch + used, ", ", 2);
                used += 2;
            }
            memcpy(res->scratch + used, best, bestn);
            used += bestn;
            res->scratch[used] = '\0';
        }
        last = best;
        lastn = bestn;
    }
    if (used) {
        res->allow = res->scratch;
        res->status = 405;
    }
    return res->status;
}

/* ---- the public mux --------------------------------------------------------------- */
GONET_API gn_http_mux *gn_http_mux_new(void) {
    gn_http_mux *m = (gn_http_mux *)GN_MALLOC(sizeof *m);
    if (m) memset(m, 0, sizeof *m);
    return m;
}

GONET_API void gn_http_mux_free(gn_http_mux *m) {
    if (!m) return;
    gn__mux_node_clear(&m->root);
    for (size_t i = 0; i < m->npats; i++) GN_FREE(m->pats[i]);
    GN_FREE(m->pats);
    GN_FREE(m->err);
    GN_FREE(m);
}

GONET_API const char *gn_http_mux_error(const gn_http_mux *m) {
    if (!m) return "nil mux";
    if (m->err_oom) return "out of memory";
    return m->err ? m->err : "";
}

/* Keeps sb's message (or notes that memory ran out) as the mux's last error.     */
GN__PRIVATE int gn__mux_fail(gn_http_mux *m, gn__mux_sb *sb, int err) {
    GN_FREE(m->err);
    m->err = sb->oom ? NULL : sb->b;
    if (sb->oom) GN_FREE(sb->b);
    m->err_oom = sb->oom || err == GN_ENOMEM;
    return sb->oom ? GN_ENOMEM : err;
}

GONET_API int gn_http_mux_handle(gn_http_mux *m, const char *pattern, gn_http_handler_func fn,
                                 void *ud) {
    if (!m) return GN_EINVAL;
    gn__mux_sb sb;
    memset(&sb, 0, sizeof sb);
    if (!pattern || !fn) {
        gn__sb_puts(&sb, !pattern ? "nil pattern" : "nil handler for pattern ");
        if (pattern) gn__sb_quotes(&sb, pattern);
        return gn__mux_fail(m, &sb, GN_EINVAL);
    }
    gn__mux_pat *p;
    int rc = gn__mux_parse(pattern, &p, &sb);
    if (rc < 0) return gn__mux_fail(m, &sb, rc);
    p->fn = fn;
    p->ud = ud;
    for (size_t i = 0; i < m->npats; i++) {
        if (gn__mux_conflicts(p, m->pats[i])) {
            gn__mux_describe_conflict(&sb, p, m->pats[i]);
            GN_FREE(p);
            return gn__mux_fail(m, &sb, GN_ECONFLICT);
        }
    }
    if (m->npats == m->cappats) {
        size_t cap = m->cappats ? 2 * m->cappats : 16;
        gn__mux_pat **pats = (gn__mux_pat **)GN_REALLOC(m->pats, cap * sizeof *pats);
        if (!pats) {
            GN_FREE(p);
            return gn__mux_fail(m, &sb, GN_ENOMEM);
        }
        m->pats = pats;
        m->cappats = cap;
    }
    if (gn__mux_insert(m, p) < 0) {
        GN_FREE(p);
        return gn__mux_fail(m, &sb, GN_ENOMEM);
    }
    m->pats[m->npats++] = p;
    return 0;
}

GONET_API void gn_http_mux_serve(gn_http_response *w, gn_http_request *r, void *mux) {
    gn__mux_result res;
    gn__mux_lookup((const gn_http_mux *)mux, gn_http_method(r), gn_http_host(r),
                   gn__http_escaped_path(r), gn_http_raw_query(r), &res);
    switch (res.status) {
    case 200:
        gn__http_set_pathvalues(r, res.vals, res.nvals);
        res.fn(w, r, res.ud);
        gn__http_set_pathvalues(r, NULL, 0);    /* res dies here                     */
        break;
    case 301:
        gn_http_redirect(w, r, res.location, 301);
        break;
    case 405:
        gn_http_set_header(w, "Allow", res.allow);
        gn_http_error(w, "Method Not Allowed", 405);
        break;
    case 404:
        gn_http_error(w, "404 page not found", 404);
        break;
    case 414:
        gn_http_error(w, "URI Too Long", 414);
        break;
    default:
        gn_http_error(w, "Internal Server Error", 500);
        break;
    }
}
