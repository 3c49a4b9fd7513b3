/* fuzz_http_mux.c — the Go 1.22 mux: patterns registered from the input, then
 * requests looked up, every answer checked against a brute-force model that
 * tries each registered pattern in turn.
 *
 * Input: text lines. A flags byte first (bit 0: also look up a request made
 * to fit each registered pattern; bit 1: encode every byte of those paths).
 * Then patterns, one a line, up to an empty line; then requests, one a line:
 * "METHOD HOST PATH[?QUERY]", HOST "-" for none.
 * Invariants: registration fails only with GN_EINVAL or GN_ECONFLICT, and says
 * why; the conflict relation is symmetric and the specificity relation
 * antisymmetric; a conflict's example paths match what the message says they
 * match. A lookup answers what the model says: 301 to the clean path, or to
 * the path with a '/' when only that matches exactly; else 200 with the most
 * specific matching pattern (host patterns first) and its decoded values;
 * else 405 with the methods that would match, or 404; 414 exactly when the
 * clean path, the Location or the values do not fit the scratch area (made
 * small in fuzz.h so that this happens).                                    */
#include "fuzz.h"

#define FZM_MAX_PATS 32
#define FZM_MAX_REQS 64

static void fzm_handler(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)w;
    (void)r;
    (void)ud;
}

static int fzm_hex(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A path piece decoded as the mux compares and reports it: every "%xx"
 * decoded, or, with any malformed '%', the piece as it is.                     */
static void fzm_decode(const char *s, size_t n, fz_str *out) {
    out->n = 0;
    fz_put(out, "", 0);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '%' && (n - i < 3 || fzm_hex((unsigned char)s[i + 1]) < 0 ||
                            fzm_hex((unsigned char)s[i + 2]) < 0)) {
            fz_put(out, s, n);
            return;
        }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            c = (char)(fzm_hex((unsigned char)s[i + 1]) * 16 + fzm_hex((unsigned char)s[i + 2]));
            i += 2;
        }
        fz_put(out, &c, 1);
    }
}

/* The model's match of one pattern's path against a clean (or CONNECT) path.
 * Segments of the path: what follows each '/', so "/a/" has "a" and a final
 * empty one, which only {$} or a trailing multi take. *exact: no multi took a
 * non-empty rest. caps: the named wildcards' raw values, in order.           */
typedef struct fzm_cap {
    const char *s;
    size_t      n;
} fzm_cap;

static int fzm_match_path(const gn__mux_pat *p, const char *path, size_t plen, int *exact,
                          fzm_cap *caps, int *ncaps) {
    size_t nr = 0, cap = 1;
    for (size_t i = 0; i < plen; i++) cap += path[i] == '/';
    size_t *starts = (size_t *)malloc(2 * cap * sizeof *starts), *lens = starts + cap;
    if (!starts) abort();
    for (size_t i = 0; i < plen; i++) {
        if (path[i] != '/') continue;
        size_t j = i + 1;
        while (j < plen && path[j] != '/') j++;
        starts[nr] = i + 1;
        lens[nr++] = j - i - 1;
    }
    fz_str dec = {0};
    int ok = 1, nc = 0;
    *exact = 1;
    for (int i = 0; ok && i < p->nsegs; i++) {
        const gn__mux_seg *g = &p->segs[i];
        size_t k = (size_t)i;
        int final_empty = k + 1 == nr && lens[k] == 0;
        switch (g->kind) {
        case GN__MUX_LIT:
            if (k >= nr || final_empty) { ok = 0; break; }
            fzm_decode(path + starts[k], lens[k], &dec);
            ok = dec.n == g->n && memcmp(dec.b, g->s, g->n) == 0;
            break;
        case GN__MUX_WILD:
            if (k >= nr || final_empty) { ok = 0; break; }
            caps[nc].s = path + starts[k];
            caps[nc++].n = lens[k];
            break;
        case GN__MUX_END:
            FZ_CHECK(i == p->nsegs - 1);
            ok = final_empty;
            break;
        default:
            FZ_CHECK(i == p->nsegs - 1);
            if (k >= nr) { ok = 0; break; }
            *exact = final_empty;
            if (g->n) {
                caps[nc].s = path + starts[k];
                caps[nc++].n = plen - starts[k];
            }
            break;
        }
        if (ok && i == p->nsegs - 1 && (g->kind == GN__MUX_LIT || g->kind == GN__MUX_WILD))
            ok = nr == (size_t)p->nsegs;
    }
    fz_str_free(&dec);
    free(starts);
    *ncaps = nc;
    return ok;
}

typedef struct fzm_req {
    const char *method, *host, *path, *query;
} fzm_req;

/* Whether p matches the request (method, host as the mux sees it, path).      */
static int fzm_match(const gn__mux_pat *p, const char *method, const char *host, size_t hlen,
                     const char *path, size_t plen, int *exact, fzm_cap *caps, int *ncaps) {
    if (p->mlen && strcmp(p->method, method) != 0 &&
        !(strcmp(p->method, "GET") == 0 && strcmp(method, "HEAD") == 0))
        return 0;
    if (p->hlen) {
        if (p->hlen != hlen) return 0;
        for (size_t i = 0; i < hlen; i++)
            if (p->host[i] != (char)gn__http_lower((unsigned char)host[i])) return 0;
    }
    return fzm_match_path(p, path, plen, exact, caps, ncaps);
}

/* The model's winner among the patterns that match, or NULL: host patterns
 * first, then the one more specific than every other. Checks that there is
 * one: registration is meant to make sure of it.                              */
static const gn__mux_pat *fzm_best(const gn_http_mux *m, const char *method, const char *host,
                                   size_t hlen, const char *path, size_t plen, int *exact,
                                   fzm_cap *caps, int *ncaps) {
    const gn__mux_pat *best = NULL;
    int any_host = 0;
    for (size_t i = 0; i < m->npats; i++) {
        int ex, nc;
        fzm_cap c[GN__MUX_MAX_VALUES];
        if (fzm_match(m->pats[i], method, host, hlen, path, plen, &ex, c, &nc) && m->pats[i]->hlen)
            any_host = 1;
    }
    for (size_t i = 0; i < m->npats; i++) {
        const gn__mux_pat *p = m->pats[i];
        int ex, nc;
        fzm_cap c[GN__MUX_MAX_VALUES];
        if ((any_host && !p->hlen) || !fzm_match(p, method, host, hlen, path, plen, &ex, c, &nc))
            continue;
        if (best) {
            int rel = gn__mux_rel(p, best);
            FZ_CHECK(rel == GN__REL_SPECIFIC || rel == GN__REL_GENERAL);
            if (rel != GN__REL_SPECIFIC) continue;
        }
        best = p;
        *exact = ex;
        *ncaps = nc;
        memcpy(caps, c, sizeof c);
    }
    return best;
}

static void fzm_lookup(const gn_http_mux *m, const fzm_req *rq) {
    static gn__mux_result res;
    int st = gn__mux_lookup(m, rq->method, rq->host, rq->path, rq->query, &res);
    FZ_CHECK(st == res.status);
    FZ_CHECK(st == 200 || st == 301 || st == 404 || st == 405 || st == 414);
    size_t mlen = strlen(rq->method);
    int connect = mlen == 7 && memcmp(rq->method, "CONNECT", 7) == 0;
    const char *host = rq->host ? rq->host : "";
    size_t hlen = connect ? strlen(host) : gn__mux_strip_port(host, &host);
    const char *path = rq->path;
    size_t plen = strlen(path);
    static char clean[8192];
    int unclean = 0;
    if (connect) {
        if (plen == 0 || path[0] != '/') {
            FZ_CHECK(st == 404);
            return;
        }
    } else if (!gn__path_is_clean(path, plen)) {
        int64_t k = gn__path_clean(path, plen, clean, sizeof clean);
        FZ_CHECK(k > 0);
        if ((size_t)k + 1 > GN_HTTP_MUX_SCRATCH) {
            FZ_CHECK(st == 414);
            return;
        }
        path = clean;
        plen = (size_t)k;
        unclean = 1;
    }
    int exact = 0, ncaps = 0, t_exact = 0, t_ncaps = 0;
    fzm_cap caps[GN__MUX_MAX_VALUES], tcaps[GN__MUX_MAX_VALUES];
    const gn__mux_pat *best = fzm_best(m, rq->method, host, hlen, path, plen, &exact, caps, &ncaps);
    const gn__mux_pat *to = NULL;
    int slash = 0;
    if ((!best || !exact) && path[plen - 1] != '/') {
        char *with = fz_dup(path, plen + 1);
        with[plen] = '/';
        to = fzm_best(m, rq->method, host, hlen, with, plen + 1, &t_exact, tcaps, &t_ncaps);
        slash = to && t_exact;
        free(with);
    }
    if (slash || unclean) {
        fz_str want = {0};
        fz_put(&want, path, plen);
        if (slash) fz_put(&want, "/", 1);
        if (rq->query && *rq->query) {
            fz_put(&want, "?", 1);
            fz_puts(&want, rq->query);
        }
        if (want.n + 1 > GN_HTTP_MUX_SCRATCH) {
            FZ_CHECK(st == 414);
            fz_str_free(&want);
            return;
        }
        FZ_CHECK(st == 301);
        FZ_CHECK(strcmp(res.location, want.b) == 0);
        const gn__mux_pat *named = slash ? to : best;
        FZ_CHECK(strcmp(res.pattern, named ? named->str : "") == 0);
        fz_str_free(&want);
        return;
    }
    if (best) {
        fz_str dec = {0};
        size_t need = 0;
        for (int i = 0; i < ncaps; i++) {
            fzm_decode(caps[i].s, caps[i].n, &dec);
            need += dec.n + 1;
        }
        if (need > GN_HTTP_MUX_SCRATCH) {
            FZ_CHECK(st == 414);
            fz_str_free(&dec);
            return;
        }
        FZ_CHECK(st == 200);
        FZ_CHECK(strcmp(res.pattern, best->str) == 0 && res.ud == (const void *)best);
        FZ_CHECK(res.nvals == best->nvals && ncaps == best->nvals);
        for (int i = 0; i < ncaps; i++) {
            fzm_decode(caps[i].s, caps[i].n, &dec);
            FZ_CHECK(strcmp(res.vals[i].name, best->names[i]) == 0);
            FZ_CHECK(dec.n == strlen(res.vals[i].value) || memchr(dec.b, 0, dec.n));
            FZ_CHECK(memcmp(res.vals[i].value, dec.b, dec.n) == 0);
        }
        fz_str_free(&dec);
        return;
    }
    /* 404 or 405: the methods that would match, as the Allow list.            */
    FZ_CHECK(st == 404 || st == 405);
    const char *cands[FZM_MAX_PATS + 1];
    int nc = 0;
    for (size_t i = 0; i < m->npats; i++) {
        const gn__mux_pat *p = m->pats[i];
        int ex, k;
        fzm_cap c[GN__MUX_MAX_VALUES];
        if (!p->mlen) continue;
        char *with = fz_dup(path, plen + 1);
        with[plen] = '/';
        int ok = fzm_match(p, p->method, host, hlen, path, plen, &ex, c, &k) ||
                 (path[plen - 1] != '/' && fzm_match(p, p->method, host, hlen, with, plen + 1, &ex, c, &k));
        free(with);
        if (!ok) continue;
        cands[nc++] = p->method;
        if (strcmp(p->method, "GET") == 0) cands[nc++] = "HEAD";
    }
    /* sorted, without repeats; a method that would not fit the scratch area
     * (with its ", " and the NUL) is left out                                */
    fz_str allow = {0};
    const char *last = NULL;
    for (;;) {
        const char *next = NULL;
        for (int i = 0; i < nc; i++)
            if ((!last || strcmp(cands[i], last) > 0) && (!next || strcmp(cands[i], next) < 0))
                next = cands[i];
        if (!next) break;
        last = next;
        if (allow.n + strlen(next) + 3 > GN_HTTP_MUX_SCRATCH) continue;
        if (allow.n) fz_put(&allow, ", ", 2);
        fz_puts(&allow, next);
    }
    FZ_CHECK(st == (allow.n ? 405 : 404));
    if (allow.n) FZ_CHECK(strcmp(res.allow, allow.b) == 0);
    fz_str_free(&allow);
}

/* A path a pattern matches, for a request made to fit it: literals (percent-
 * encoded where they must be, or everywhere), wildcard values and a multi's
 * rest taken from the input.                                                  */
static void fzm_path_for(const gn__mux_pat *p, fz_in *in, int encode_all, fz_str *out) {
    static const char hex[] = "0123456789ABCDEF";
    for (int i = 0; i < p->nsegs; i++) {
        const gn__mux_seg *g = &p->segs[i];
        fz_put(out, "/", 1);
        char value[8];
        const char *s = g->s;
        size_t n = g->n;
        if (g->kind == GN__MUX_WILD || (g->kind == GN__MUX_MULTI && (fz_u8(in) & 1))) {
            n = 1 + fz_u8(in) % 4;
            for (size_t k = 0; k < n; k++) value[k] = (char)("ab%/.xZ~"[fz_u8(in) % 8]);
            if (g->kind == GN__MUX_WILD && value[0] == '/') value[0] = 'w';
            s = value;
        } else if (g->kind != GN__MUX_LIT) {
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)s[k];
            int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                        c == '-' || c == '.' || c == '_' || c == '~';
            if (g->kind == GN__MUX_MULTI && c == '/') plain = 1;
            if (plain && !(encode_all && g->kind == GN__MUX_LIT)) {
                fz_put(out, s + k, 1);
            } else {
                char e[3] = {'%', hex[c >> 4], hex[c & 15]};
                fz_put(out, e, 3);
            }
        }
    }
}

/* For two registered-or-new patterns: the relations agree both ways, and when
 * their paths overlap, the example paths of a conflict message match what the
 * message says (checked where literals are plain text, as they are printed
 * decoded).                                                                  */
static void fzm_pair(const gn__mux_pat *a, const gn__mux_pat *b) {
    static const int flip[5] = {GN__REL_EQUIV, GN__REL_SPECIFIC, GN__REL_GENERAL,
                                GN__REL_DISJOINT, GN__REL_OVERLAP};
    FZ_CHECK(gn__mux_conflicts(a, b) == gn__mux_conflicts(b, a));
    int ab = gn__mux_rel(a, b), ba = gn__mux_rel(b, a);
    FZ_CHECK(ab >= 0 && ab < 5 && ba == flip[ab]);
    if (gn__mux_rel_paths(a, b) != GN__REL_OVERLAP) return;
    const char *sa = strchr(a->str, '/'), *sb = strchr(b->str, '/');
    if (strpbrk(sa, "%") || strpbrk(sb, "%")) return;
    gn__mux_sb t;
    int ex, nc;
    fzm_cap c[GN__MUX_MAX_VALUES];
    memset(&t, 0, sizeof t);
    gn__mux_example_common(&t, a, b);
    FZ_CHECK(!t.oom && fzm_match_path(a, t.b, t.n, &ex, c, &nc) && fzm_match_path(b, t.b, t.n, &ex, c, &nc));
    t.n = 0;
    gn__mux_example_diff(&t, a, b);
    FZ_CHECK(!t.oom && fzm_match_path(a, t.b, t.n, &ex, c, &nc) && !fzm_match_path(b, t.b, t.n, &ex, c, &nc));
    GN_FREE(t.b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    unsigned flags = fz_u8(&in);
    char *text = fz_dup(in.p, in.n);
    /* Choices for the made-up requests come from the same bytes, read again. */
    fz_in choices = {in.p, in.n};
    gn_http_mux *m = gn_http_mux_new();
    FZ_CHECK(m != NULL);
    char *line = text, *end = text + in.n;
    int npats = 0, phase = 0, nreqs = 0;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        *nl = '\0';
        if (phase == 0) {
            if (line == nl) {
                phase = 1;
            } else if (npats < FZM_MAX_PATS) {
                npats++;
                size_t before = m->npats;
                gn__mux_pat *p = NULL;
                gn__mux_sb sb;
                memset(&sb, 0, sizeof sb);
                int pr = gn__mux_parse(line, &p, &sb);
                if (pr == 0) {
                    for (size_t i = 0; i < m->npats; i++) fzm_pair(p, m->pats[i]);
                    fzm_pair(p, p);
                    GN_FREE(p);
                }
                GN_FREE(sb.b);
                int rc = gn_http_mux_handle(m, line, fzm_handler, NULL);
                const char *why = gn_http_mux_error(m);
                FZ_CHECK(rc == 0 || rc == GN_EINVAL || rc == GN_ECONFLICT);
                FZ_CHECK((rc == GN_EINVAL) == (pr != 0));
                if (rc == 0) {
                    FZ_CHECK(m->npats == before + 1);
                    m->pats[before]->ud = m->pats[before];   /* who matched, for lookups */
                } else {
                    FZ_CHECK(m->npats == before && why && *why);
                    FZ_CHECK(strstr(why, rc == GN_EINVAL ? "parsing " : " conflicts with pattern "));
                }
            }
        } else if (nreqs < FZM_MAX_REQS) {
            nreqs++;
            char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
            if (sp2) {
                *sp1 = *sp2 = '\0';
                fzm_req rq = {line, sp1 + 1, sp2 + 1, NULL};
                if (strcmp(rq.host, "-") == 0) rq.host = NULL;
                char *q = strchr(rq.path, '?');
                if (q) {
                    *q = '\0';
                    rq.query = q + 1;
                }
                fzm_lookup(m, &rq);
            }
        }
        line = nl + 1;
    }
    if (flags & 1) {
        for (size_t i = 0; i < m->npats; i++) {
            const gn__mux_pat *p = m->pats[i];
            fz_str path = {0}, host = {0};
            fzm_path_for(p, &choices, (flags & 2) != 0, &path);
            fz_put(&host, p->host, p->hlen);
            if (fz_u8(&choices) & 1) fz_puts(&host, ":8080");
            static const char *const methods[4] = {"GET", "HEAD", "POST", "CONNECT"};
            fzm_req rq = {p->mlen ? p->method : methods[fz_u8(&choices) % 4], host.b, path.b, "x=1"};
            fzm_lookup(m, &rq);
            fz_str_free(&path);
            fz_str_free(&host);
        }
    }
    gn_http_mux_free(m);
    free(text);
    return 0;
}
