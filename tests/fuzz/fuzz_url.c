/* fuzz_url.c — the URL helpers: percent-decoding (gn__url_unescape in both
 * modes, which the server also uses for the request path, gn__unescape_eq, the
 * mux's gn__mux_decode), path cleaning (gn__path_is_clean, gn__path_clean),
 * the query lookup (gn__query_get) and the mux's port stripping.
 *
 * Input: a choice byte (a key pick and a short buffer size), then the text,
 * used as a path, a query and a host at once.
 * Invariants: each helper agrees with a plain model written here from its
 * definition (RFC 3986 escapes, Go's path.Clean keeping a final '/', Go's
 * url.ParseQuery and net.SplitHostPort); measuring and decoding agree, and
 * decoding in place or into a short buffer gives the same bytes; encoding any
 * bytes and decoding them gives them back; cleaning is idempotent and leaves
 * clean paths alone; a query built from pairs gives back the first value of
 * each key.                                                                  */
#include "fuzz.h"

static int fzu_hex(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Strict decode: 0 and the bytes, or -1 at the first bad '%'.                 */
static int fzu_decode(const char *s, size_t n, int query, fz_str *out) {
    out->n = 0;
    fz_put(out, "", 0);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (n - i < 3 || fzu_hex((unsigned char)s[i + 1]) < 0 || fzu_hex((unsigned char)s[i + 2]) < 0)
                return -1;
            c = (char)(fzu_hex((unsigned char)s[i + 1]) * 16 + fzu_hex((unsigned char)s[i + 2]));
            i += 2;
        } else if (c == '+' && query) {
            c = ' ';
        }
        fz_put(out, &c, 1);
    }
    return 0;
}

/* Every byte but unreserved ones escaped; in a query a space may be '+'.      */
static void fzu_encode(const char *s, size_t n, int query, int upper, fz_str *out) {
    const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            fz_put(out, s + i, 1);
        } else if (c == ' ' && query && upper) {
            fz_put(out, "+", 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            fz_put(out, e, 3);
        }
    }
}

static void fzu_unescape(const char *s, size_t n, unsigned choice) {
    fz_str want = {0}, enc = {0}, back = {0};
    for (int mode = 0; mode < 2; mode++) {
        int ok = fzu_decode(s, n, mode, &want) == 0;
        char *out = (char *)malloc(n + 1);
        if (!out) abort();
        int64_t m = gn__url_unescape(s, n, NULL, 0, mode);
        int64_t r = gn__url_unescape(s, n, out, n + 1, mode);
        FZ_CHECK(ok ? (r == m && r == (int64_t)want.n) : (r == GN_EINVAL && m == GN_EINVAL));
        if (ok) {
            FZ_CHECK(memcmp(out, want.b, want.n) == 0 && out[want.n] == '\0');
            /* in place                                                          */
            char *inplace = fz_dup(s, n);
            FZ_CHECK(gn__url_unescape(inplace, n, inplace, n + 1, mode) == r);
            FZ_CHECK(memcmp(inplace, want.b, want.n) == 0);
            free(inplace);
            /* into a buffer one byte (or more) short: a prefix                */
            size_t small = want.n ? (choice % (want.n + 1)) : 0;
            char *sb = (char *)malloc(small + 1);
            if (!sb) abort();
            FZ_CHECK(gn__url_unescape(s, n, sb, small, mode) == GN_ETOOLARGE);
            FZ_CHECK(small == 0 || memcmp(sb, want.b, small) == 0);
            free(sb);
            /* matching: the decoded bytes equal, one changed or cut do not    */
            FZ_CHECK(gn__unescape_eq(s, n, mode, want.b, want.n) == 1);
            if (want.n) {
                FZ_CHECK(gn__unescape_eq(s, n, mode, want.b, want.n - 1) == 0);
                want.b[choice % want.n] ^= 1;
                FZ_CHECK(gn__unescape_eq(s, n, mode, want.b, want.n) == 0);
                want.b[choice % want.n] ^= 1;
            }
            /* encode the decoded bytes, decode again                          */
            enc.n = 0;
            fzu_encode(want.b, want.n, mode, (int)(choice & 1), &enc);
            FZ_CHECK(fzu_decode(enc.b ? enc.b : "", enc.n, mode, &back) == 0);
            FZ_CHECK(gn__url_unescape(enc.b ? enc.b : "", enc.n, NULL, 0, mode) == (int64_t)want.n);
            FZ_CHECK(back.n == want.n && memcmp(back.b, want.b, want.n) == 0);
        } else {
            /* The bytes before the first bad escape, as the literal: -1 when
             * the comparison reaches it.                                     */
            size_t bad = 0;
            while (bad < n) {
                if (s[bad] == '%') {
                    if (n - bad < 3 || fzu_hex((unsigned char)s[bad + 1]) < 0 ||
                        fzu_hex((unsigned char)s[bad + 2]) < 0)
                        break;
                    bad += 3;
                } else {
                    bad++;
                }
            }
            fz_str pre = {0};
            FZ_CHECK(bad < n && fzu_decode(s, bad, mode, &pre) == 0);
            FZ_CHECK(gn__unescape_eq(s, n, mode, pre.b ? pre.b : "", pre.n) == -1);
            fz_str_free(&pre);
        }
        free(out);
    }
    /* The mux's decode: strict, or the piece as it is.                          */
    int ok = fzu_decode(s, n, 0, &want) == 0;
    char *out = (char *)malloc(n + 1);
    if (!out) abort();
    int64_t k = gn__mux_decode(s, n, out, n + 1);
    if (ok) FZ_CHECK(k == (int64_t)want.n && memcmp(out, want.b, want.n) == 0);
    else FZ_CHECK(k == (int64_t)n && memcmp(out, s, n) == 0);
    FZ_CHECK(out[k] == '\0');
    /* (The server decodes the request path with gn__url_unescape, checked above.) */
    free(out);
    fz_str_free(&want);
    fz_str_free(&enc);
    fz_str_free(&back);
}

/* Go's path.Clean on "/" + p, keeping a final '/' (the mux's cleanPath).       */
static void fzu_clean(const char *p, size_t n, fz_str *out) {
    size_t *st = (size_t *)malloc((n + 2) * 2 * sizeof *st), ns = 0;   /* starts, lengths */
    if (!st) abort();
    for (size_t i = 0; i < n;) {
        while (i < n && p[i] == '/') i++;
        size_t j = i;
        while (j < n && p[j] != '/') j++;
        size_t len = j - i;
        if (len == 1 && p[i] == '.') {
        } else if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
            if (ns) ns--;
        } else if (len) {
            st[2 * ns] = i;
            st[2 * ns + 1] = len;
            ns++;
        }
        i = j;
    }
    out->n = 0;
    for (size_t k = 0; k < ns; k++) {
        fz_put(out, "/", 1);
        fz_put(out, p + st[2 * k], st[2 * k + 1]);
    }
    if (ns && n && p[n - 1] == '/') fz_put(out, "/", 1);
    if (!ns) fz_put(out, "/", 1);
    free(st);
}

static void fzu_paths(const char *p, size_t n, unsigned choice) {
    fz_str want = {0};
    fzu_clean(p, n, &want);
    char *out = (char *)malloc(n + 2);
    if (!out) abort();
    int64_t k = gn__path_clean(p, n, out, n + 2);
    FZ_CHECK(k == (int64_t)want.n && memcmp(out, want.b, want.n) == 0 && out[k] == '\0');
    FZ_CHECK(gn__path_is_clean(out, (size_t)k));
    /* idempotent, and a clean path is left as it is                            */
    char *again = (char *)malloc((size_t)k + 2);
    if (!again) abort();
    FZ_CHECK(gn__path_clean(out, (size_t)k, again, (size_t)k + 2) == k && memcmp(again, out, (size_t)k) == 0);
    if (gn__path_is_clean(p, n)) FZ_CHECK(k == (int64_t)n && memcmp(out, p, n) == 0);
    /* too small by one: refused                                                */
    size_t small = choice % ((size_t)k + 1);
    FZ_CHECK(gn__path_clean(p, n, again, small) == GN_ETOOLARGE);
    free(again);
    free(out);
    fz_str_free(&want);
}

/* Go's url.ParseQuery, then Get(key): pairs split at '&', a pair with ';' or a
 * bad escape in key or value skipped, no '=' means the value "".              */
static int fzu_query_model(const char *q, const char *key, fz_str *val) {
    size_t klen = strlen(key);
    fz_str k = {0};
    int found = 0;
    for (const char *p = q;;) {
        const char *amp = strchr(p, '&'), *e = amp ? amp : p + strlen(p);
        size_t len = (size_t)(e - p);
        if (len && !memchr(p, ';', len)) {
            const char *eq = (const char *)memchr(p, '=', len);
            size_t kn = eq ? (size_t)(eq - p) : len;
            const char *v = eq ? eq + 1 : e;
            if (fzu_decode(p, kn, 1, &k) == 0 && fzu_decode(v, (size_t)(e - v), 1, val) == 0 &&
                k.n == klen && memcmp(k.b, key, klen) == 0) {
                found = 1;
                break;
            }
        }
        if (!amp) break;
        p = amp + 1;
    }
    fz_str_free(&k);
    return found;
}

static void fzu_query(const char *q, unsigned choice) {
    /* keys to try: each pair's key decoded (when it decodes), and "a"          */
    fz_str key = {0}, want = {0};
    const char *p = q;
    for (int round = 0; round < 4; round++) {
        const char *amp = strchr(p, '&'), *e = amp ? amp : p + strlen(p);
        const char *eq = (const char *)memchr(p, '=', (size_t)(e - p));
        if (fzu_decode(p, (size_t)((eq ? eq : e) - p), 1, &key) != 0 || memchr(key.b, 0, key.n)) {
            key.n = 0;
            fz_puts(&key, "a");
        }
        int found = fzu_query_model(q, key.b, &want);
        size_t size = want.n + 1 + (choice & 3);
        char *buf = (char *)malloc(size);
        if (!buf) abort();
        int r = gn__query_get(q, key.b, buf, size);
        if (found && !memchr(want.b, 0, want.n)) {
            FZ_CHECK(r == (int)want.n && memcmp(buf, want.b, want.n) == 0 && buf[r] == '\0');
            if (want.n) FZ_CHECK(gn__query_get(q, key.b, buf, want.n) == GN_EINVAL);
        } else if (!found) {
            FZ_CHECK(r == GN_EINVAL);
        }
        free(buf);
        if (!amp) break;
        p = amp + 1;
    }
    /* A query built from pairs of the text's pieces gives back the first value
     * of each key.                                                             */
    fz_str built = {0}, k2 = {0}, v2 = {0};
    size_t n = strlen(q), half = n / 2;
    const char *keys[3] = {q, q + half / 3, q + 2 * (half / 3)};
    for (int i = 0; n >= 8 && i < 3; i++) {
        if (i) fz_put(&built, "&", 1);
        fzu_encode(keys[i], 1 + (size_t)i, 1, (int)(choice >> 1 & 1), &built);
        fz_put(&built, "=", 1);
        fzu_encode(q + half, n - half, 1, (int)(choice & 1), &built);
    }
    if (n >= 8) {
        k2.n = 0;
        fz_put(&k2, keys[1], 2);
        if (!memchr(k2.b, 0, k2.n) && !memchr(q + half, 0, n - half)) {
            char *buf = (char *)malloc(n - half + 1);
            if (!buf) abort();
            FZ_CHECK(gn__query_get(built.b, k2.b, buf, n - half + 1) == (int)(n - half));
            FZ_CHECK(memcmp(buf, q + half, n - half) == 0);
            free(buf);
        }
    }
    fz_str_free(&built);
    fz_str_free(&k2);
    fz_str_free(&v2);
    fz_str_free(&key);
    fz_str_free(&want);
}

/* net.SplitHostPort's host, or the whole when it does not split.             */
static size_t fzu_strip_model(const char *h, const char **out) {
    size_t n = strlen(h);
    *out = h;
    const char *c = strrchr(h, ':');
    if (!c) return n;
    size_t i = (size_t)(c - h), j = 0, k = 0;
    const char *host;
    size_t hl;
    if (h[0] == '[') {
        const char *rb = strchr(h, ']');
        if (!rb || (size_t)(rb - h) + 1 != i) return n;
        host = h + 1;
        hl = (size_t)(rb - h) - 1;
        j = 1;
        k = i;
    } else {
        host = h;
        hl = i;
        if (memchr(h, ':', i)) return n;
    }
    if (strchr(h + j, '[') || strchr(h + k, ']')) return n;
    *out = host;
    return hl;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    unsigned choice = fz_u8(&in);
    const char *s = (const char *)in.p;
    size_t n = in.n;
    fzu_unescape(s, n, choice);
    fzu_paths(s, n, choice);
    char *z = fz_dup(s, n);      /* the C-string helpers see up to a NUL      */
    fzu_query(z, choice);
    const char *a, *b;
    size_t la = gn__mux_strip_port(z, &a), lb = fzu_strip_model(z, &b);
    FZ_CHECK(la == lb && a == b);
    free(z);
    return 0;
}
