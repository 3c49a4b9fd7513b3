/* test_http_mux.c — the Go 1.22 mux without a server: pattern parsing and its
 * errors, precedence and conflicts (the examples of Go's documentation and
 * blog), lookups (matches, path values, 404, 405 with Allow, redirects), the URL
 * helpers (percent-decoding, path cleaning, the query), random model checks of
 * the pattern relations and the routing tree against brute force, and a
 * counting allocator: lookups allocate nothing, and free returns everything.  */
/* Every allocation of the implementation goes through these (defined below:
 * no system header may come before gonet.h, which asks for _GNU_SOURCE).      */
#include <stddef.h>
static void *t_malloc(size_t n);
static void *t_realloc(void *p, size_t n);
static void t_free(void *p);
#define GN_MALLOC(n)     t_malloc(n)
#define GN_REALLOC(p, n) t_realloc((p), (n))
#define GN_FREE(p)       t_free(p)

#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>

static long g_allocs, g_live;
static void *t_malloc(size_t n) {
    g_allocs++;
    g_live++;
    return malloc(n);
}
static void *t_realloc(void *p, size_t n) {
    g_allocs++;
    void *q = realloc(p, n);
    if (!p && q) g_live++;
    return q;
}
static void t_free(void *p) {
    if (p) g_live--;
    free(p);
}

/* test_util.h's EQI evaluates got again to print it; this one evaluates once.   */
#undef EQI
#define EQI(exp, got) do {                                                         \
        long long eqi_exp_ = (long long)(exp), eqi_got_ = (long long)(got);        \
        ASSERT_EQ_FMT(eqi_exp_, eqi_got_, "%lld");                                 \
    } while (0)
#define CONTAINS(hay, needle) do {                                                 \
        const char *c_h_ = (hay), *c_n_ = (needle);                                \
        if (!strstr(c_h_, c_n_)) {                                                 \
            fprintf(stderr, "\n  \"%s\"\n  does not contain \"%s\"\n", c_h_, c_n_); \
            FAILm("missing substring");                                            \
        }                                                                          \
    } while (0)

static void nop(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)w;
    (void)r;
    (void)ud;
}

/* A mux with the patterns; each handler's ud is its pattern string.            */
static gn_http_mux *mux_of(const char *const *pats) {
    gn_http_mux *m = gn_http_mux_new();
    for (; m && *pats; pats++) {
        if (gn_http_mux_handle(m, *pats, nop, (void *)*pats) != 0) {
            fprintf(stderr, "registering %s: %s\n", *pats, gn_http_mux_error(m));
            gn_http_mux_free(m);
            return NULL;
        }
    }
    return m;
}
#define MUX(...) mux_of((const char *const[]){__VA_ARGS__, NULL})

static gn__mux_result R;

static int look(gn_http_mux *m, const char *method, const char *host, const char *path) {
    return gn__mux_lookup(m, method, host, path, NULL, &R);
}

/* The value of the path value name in R, or NULL.                               */
static const char *val(const char *name) {
    for (int i = 0; i < R.nvals; i++)
        if (strcmp(R.vals[i].name, name) == 0) return R.vals[i].value;
    return NULL;
}

/* Asserts that the request is served by pattern pat (status 200, handler, ud).  */
#define MATCH(m, method, host, path, pat) do {                                     \
        EQI(200, look((m), (method), (host), (path)));                             \
        ASSERT_STR_EQ((pat), R.pattern);                                           \
        ASSERT_EQ((void *)nop, (void *)R.fn);                                      \
        ASSERT_STR_EQ((pat), (const char *)R.ud);                                  \
    } while (0)
#define REDIRECT(m, method, host, path, query, loc) do {                           \
        EQI(301, gn__mux_lookup((m), (method), (host), (path), (query), &R));      \
        ASSERT_STR_EQ((loc), R.location);                                          \
        ASSERT_EQ(NULL, (void *)R.fn);                                             \
    } while (0)
#define STATUS(m, method, host, path, st) do {                                     \
        EQI((st), look((m), (method), (host), (path)));                            \
        EQI((st), R.status);                                                       \
        ASSERT_EQ(NULL, (void *)R.fn);                                             \
    } while (0)

/* ==== URL helpers =================================================================== */
static int64_t unesc(const char *s, int mode, char *out, size_t size) {
    return gn__url_unescape(s, strlen(s), out, size, mode);
}

TEST unescape_path_mode(void) {
    char b[64];
    EQI(3, unesc("a%20b", GN__UNESCAPE_PATH, b, sizeof b));
    ASSERT_STR_EQ("a b", b);
    EQI(5, unesc("%41%42c+d", GN__UNESCAPE_PATH, b, sizeof b));
    ASSERT_STR_EQ("ABc+d", b);                         /* '+' is itself in a path     */
    EQI(3, unesc("a%2fb", GN__UNESCAPE_PATH, b, sizeof b));
    ASSERT_STR_EQ("a/b", b);
    EQI(0, unesc("", GN__UNESCAPE_PATH, b, sizeof b));
    ASSERT_STR_EQ("", b);
    EQI(2, unesc("%C3%A9", GN__UNESCAPE_PATH, b, sizeof b));
    ASSERT_STR_EQ("\xc3\xa9", b);
    PASS();
}

TEST unescape_query_mode(void) {
    char b[64];
    EQI(11, unesc("hello+world", GN__UNESCAPE_QUERY, b, sizeof b));
    ASSERT_STR_EQ("hello world", b);
    EQI(5, unesc("a+b%2Bc", GN__UNESCAPE_QUERY, b, sizeof b));
    ASSERT_STR_EQ("a b+c", b);
    EQI(3, unesc("%7e%7E~", GN__UNESCAPE_QUERY, b, sizeof b));
    ASSERT_STR_EQ("~~~", b);
    PASS();
}

TEST unescape_malformed(void) {
    static const char *bad[] = {"%", "%2", "%zz", "a%g1", "abc%", "%%41", "%4", "x%2 "};
    char b[64];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        EQI(GN_EINVAL, unesc(bad[i], GN__UNESCAPE_PATH, b, sizeof b));
        EQI(GN_EINVAL, unesc(bad[i], GN__UNESCAPE_QUERY, b, sizeof b));
        EQI(GN_EINVAL, unesc(bad[i], GN__UNESCAPE_QUERY, NULL, 0));
    }
    /* Malformed wins over too small.                                             */
    EQI(GN_EINVAL, unesc("abcdef%zz", GN__UNESCAPE_PATH, b, 2));
    PASS();
}

TEST unescape_sizes_and_in_place(void) {
    char b[8];
    EQI(3, unesc("a%20b", GN__UNESCAPE_PATH, NULL, 0));            /* measure        */
    EQI(3, unesc("a%20b", GN__UNESCAPE_PATH, b, 4));               /* exact fit      */
    ASSERT_STR_EQ("a b", b);
    EQI(GN_ETOOLARGE, unesc("a%20b", GN__UNESCAPE_PATH, b, 3));    /* no room for NUL */
    EQI(GN_EINVAL, gn__url_unescape(NULL, 3, b, sizeof b, GN__UNESCAPE_PATH));
    EQI(GN_EINVAL, gn__url_unescape("abc", 3, NULL, 5, GN__UNESCAPE_PATH));
    char in[] = "%41b%43+%2B";
    EQI(5, gn__url_unescape(in, strlen(in), in, sizeof in, GN__UNESCAPE_QUERY));
    ASSERT_STR_EQ("AbC +", in);
    char nul[8];
    EQI(3, unesc("a%00b", GN__UNESCAPE_PATH, nul, sizeof nul));    /* NUL inside       */
    ASSERT_EQ('a', nul[0]);
    ASSERT_EQ('\0', nul[1]);
    ASSERT_EQ('b', nul[2]);
    PASS();
}

TEST path_clean_table(void) {
    static const char *cases[][2] = {
        {"", "/"}, {"/", "/"}, {"a", "/a"}, {"a/", "/a/"}, {"/a/b", "/a/b"},
        {"/a/b/", "/a/b/"}, {"//", "/"}, {"///a///", "/a/"}, {"/a//b", "/a/b"},
        {"/a/./b", "/a/b"}, {"/a/../b", "/b"}, {"/../a", "/a"}, {"/..", "/"},
        {"/.", "/"}, {"/./", "/"}, {"/a/.", "/a"}, {"/a/./", "/a/"}, {"/a/..", "/"},
        {"/a/../", "/"}, {"/a/b/../../..", "/"}, {"/abc/def/../../..", "/"},
        {"/a/b/c/./../../g", "/a/g"}, {"/a/b/../c/", "/a/c/"}, {"/...", "/..."},
        {"/a/.b", "/a/.b"}, {"/a/..b/", "/a/..b/"}, {"/%2e%2e/x", "/%2e%2e/x"},
        {"/a%2F../b", "/a%2F../b"}, {"/a/b/..//c", "/a/c"}, {"../../x/", "/x/"},
    };
    char b[64];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int64_t n = gn__path_clean(cases[i][0], strlen(cases[i][0]), b, sizeof b);
        if (n < 0 || strcmp(b, cases[i][1]) != 0) {
            fprintf(stderr, "clean(\"%s\") = \"%s\" (%lld), want \"%s\"\n", cases[i][0],
                    n < 0 ? "" : b, (long long)n, cases[i][1]);
            FAIL();
        }
        EQI(strlen(cases[i][1]), n);
        /* The result is clean, and cleaning it again changes nothing.            */
        ASSERT(gn__path_is_clean(b, (size_t)n));
        EQI(strcmp(cases[i][0], cases[i][1]) == 0,
            gn__path_is_clean(cases[i][0], strlen(cases[i][0])));
    }
    PASS();
}

TEST path_clean_buffers(void) {
    char b[8];
    EQI(6, gn__path_clean("/a/b/c", 6, b, 7));
    ASSERT_STR_EQ("/a/b/c", b);
    EQI(GN_ETOOLARGE, gn__path_clean("/a/b/c", 6, b, 6));
    EQI(4, gn__path_clean("a/b", 3, b, 5));
    EQI(GN_ETOOLARGE, gn__path_clean("a/b/", 4, b, 5));   /* the final '/' no room    */
    EQI(1, gn__path_clean("/x/..", 5, b, 2));              /* only the result needs room */
    ASSERT_STR_EQ("/", b);
    EQI(2, gn__path_clean("/abcdefghij/../k", 16, b, 3));
    ASSERT_STR_EQ("/k", b);
    EQI(GN_ETOOLARGE, gn__path_clean("/", 1, b, 1));
    EQI(GN_EINVAL, gn__path_clean("/a", 2, NULL, 0));
    PASS();
}

/* gn__path_is_clean(p) is exactly clean(p) == p, on random paths of / . a.      */
TEST path_is_clean_model(void) {
    static const char alpha[] = "/./a/.";
    unsigned seed = 7;
    char p[16], b[32];
    for (int iter = 0; iter < 20000 / g_scale; iter++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 16) % 10;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            p[i] = alpha[(seed >> 16) % (sizeof alpha - 1)];
        }
        p[n] = '\0';
        int64_t k = gn__path_clean(p, n, b, sizeof b);
        ASSERT(k >= 1 && b[0] == '/');
        int same = (size_t)k == n && memcmp(b, p, n) == 0;
        if (same != gn__path_is_clean(p, n)) {
            fprintf(stderr, "\"%s\": clean \"%s\", is_clean %d\n", p, b, gn__path_is_clean(p, n));
            FAIL();
        }
    }
    PASS();
}

TEST query_basic(void) {
    char b[32];
    EQI(1, gn__query_get("a=1&b=2", "b", b, sizeof b));
    ASSERT_STR_EQ("2", b);
    EQI(1, gn__query_get("a=1&b=2", "a", b, sizeof b));
    ASSERT_STR_EQ("1", b);
    EQI(1, gn__query_get("a=1&a=2", "a", b, sizeof b));          /* the first value */
    ASSERT_STR_EQ("1", b);
    EQI(3, gn__query_get("x=a=b", "x", b, sizeof b));            /* split at the first '=' */
    ASSERT_STR_EQ("a=b", b);
    EQI(1, gn__query_get("&&a=1&", "a", b, sizeof b));           /* empty pairs skipped */
    ASSERT_STR_EQ("1", b);
    PASS();
}

TEST query_decoding(void) {
    char b[32];
    EQI(12, gn__query_get("q=hello+world%21", "q", b, sizeof b));
    ASSERT_STR_EQ("hello world!", b);
    EQI(5, gn__query_get("q=a%20b%2Bc", "q", b, sizeof b));
    ASSERT_STR_EQ("a b+c", b);
    EQI(1, gn__query_get("a%20b=1", "a b", b, sizeof b));        /* key decoded too */
    ASSERT_STR_EQ("1", b);
    EQI(1, gn__query_get("a+b=2", "a b", b, sizeof b));
    ASSERT_STR_EQ("2", b);
    EQI(GN_EINVAL, gn__query_get("a+b=2", "a+b", b, sizeof b));
    EQI(1, gn__query_get("%6b=v", "k", b, sizeof b));
    ASSERT_STR_EQ("v", b);
    PASS();
}

TEST query_missing_and_empty(void) {
    char b[8];
    EQI(GN_EINVAL, gn__query_get("a=1&b=2", "c", b, sizeof b));
    EQI(GN_EINVAL, gn__query_get("", "a", b, sizeof b));
    EQI(GN_EINVAL, gn__query_get("ab=1", "a", b, sizeof b));     /* no prefix match  */
    EQI(GN_EINVAL, gn__query_get("a=1", "ab", b, sizeof b));
    strcpy(b, "junk");
    EQI(0, gn__query_get("a&b=2", "a", b, sizeof b));            /* no '=': ""       */
    ASSERT_STR_EQ("", b);
    EQI(0, gn__query_get("a=&b=2", "a", b, sizeof b));
    ASSERT_STR_EQ("", b);
    EQI(GN_EINVAL, gn__query_get(NULL, "a", b, sizeof b));
    EQI(GN_EINVAL, gn__query_get("a=1", NULL, b, sizeof b));
    PASS();
}

/* As Go's url.ParseQuery: a pair with a bad escape, or a ';', does not exist.     */
TEST query_malformed_pairs_skipped(void) {
    char b[8];
    EQI(1, gn__query_get("a=%zz&a=2", "a", b, sizeof b));
    ASSERT_STR_EQ("2", b);
    EQI(1, gn__query_get("a%=1&a=3", "a", b, sizeof b));
    ASSERT_STR_EQ("3", b);
    EQI(GN_EINVAL, gn__query_get("a=%4", "a", b, sizeof b));
    EQI(1, gn__query_get("a=1;b=2&a=3", "a", b, sizeof b));
    ASSERT_STR_EQ("3", b);
    EQI(GN_EINVAL, gn__query_get("b=1;a=2", "a", b, sizeof b));
    PASS();
}

TEST query_buffer_size(void) {
    char b[6];
    EQI(5, gn__query_get("k=hello", "k", b, 6));                 /* exact fit        */
    ASSERT_STR_EQ("hello", b);
    EQI(GN_EINVAL, gn__query_get("k=hello", "k", b, 5));         /* no room for NUL  */
    EQI(GN_EINVAL, gn__query_get("k=hello", "k", NULL, 0));
    EQI(3, gn__query_get("k=%41%42%43", "k", b, 4));             /* decoded size counts */
    ASSERT_STR_EQ("ABC", b);
    EQI(0, gn__query_get("k=", "k", b, 1));
    PASS();
}

/* ==== patterns ====================================================================== */
/* Registers pat (a string literal) with itself as ud, as mux_of does.          */
static int handle(gn_http_mux *m, const char *pat) {
    return gn_http_mux_handle(m, pat, nop, (void *)pat);
}

TEST parse_fields(void) {
    gn__mux_sb sb;
    memset(&sb, 0, sizeof sb);
    gn__mux_pat *p;
    EQI(0, gn__mux_parse("GET Example.COM/a%20b/{id}/c%2Fd/{rest...}", &p, &sb));
    ASSERT_STR_EQ("GET Example.COM/a%20b/{id}/c%2Fd/{rest...}", p->str);
    ASSERT_STR_EQ("GET", p->method);
    ASSERT_STR_EQ("example.com", p->host);                  /* lower-cased          */
    EQI(4, p->nsegs);
    EQI(GN__MUX_LIT, p->segs[0].kind);
    ASSERT_STR_EQ("a b", p->segs[0].s);                      /* literals decoded     */
    EQI(GN__MUX_WILD, p->segs[1].kind);
    ASSERT_STR_EQ("id", p->segs[1].s);
    EQI(GN__MUX_LIT, p->segs[2].kind);
    ASSERT_STR_EQ("c/d", p->segs[2].s);
    EQI(GN__MUX_MULTI, p->segs[3].kind);
    ASSERT_STR_EQ("rest", p->segs[3].s);
    EQI(2, p->nvals);
    ASSERT_STR_EQ("id", p->names[0]);
    ASSERT_STR_EQ("rest", p->names[1]);
    GN_FREE(p);

    EQI(0, gn__mux_parse("/a/", &p, &sb));                   /* trailing '/': anon ... */
    EQI(2, p->nsegs);
    EQI(GN__MUX_MULTI, p->segs[1].kind);
    EQI(0, p->segs[1].n);
    EQI(0, p->nvals);
    ASSERT_STR_EQ("", p->method);
    ASSERT_STR_EQ("", p->host);
    GN_FREE(p);

    EQI(0, gn__mux_parse("POST\t\t /{$}", &p, &sb));         /* spaces and tabs      */
    ASSERT_STR_EQ("POST", p->method);
    EQI(1, p->nsegs);
    EQI(GN__MUX_END, p->segs[0].kind);
    GN_FREE(p);
    EQI(0, sb.n);
    PASS();
}

typedef struct {
    const char *pattern, *msg;
} bad_case;

static enum greatest_test_res check_bad(const bad_case *c, size_t n) {
    gn_http_mux *m = gn_http_mux_new();
    ASSERT(m != NULL);
    for (size_t i = 0; i < n; i++) {
        int rc = handle(m, c[i].pattern);
        if (rc != GN_EINVAL) {
            fprintf(stderr, "pattern \"%s\": %d\n", c[i].pattern, rc);
            gn_http_mux_free(m);
            FAIL();
        }
        const char *e = gn_http_mux_error(m);
        if (!strstr(e, c[i].msg) || strncmp(e, "parsing \"", 9) != 0) {
            fprintf(stderr, "pattern \"%s\": error \"%s\", want \"%s\"\n", c[i].pattern, e,
                    c[i].msg);
            gn_http_mux_free(m);
            FAIL();
        }
    }
    EQI(0, m->npats);
    EQI(0, m->root.nkids);
    ASSERT_EQ(NULL, m->root.wild);
    gn_http_mux_free(m);
    PASS();
}

TEST invalid_pattern_syntax(void) {
    static const bad_case c[] = {
        {"", "empty pattern"},
        {"GET", "host/path missing /"},
        {"example.com", "host/path missing /"},
        {"GET /a/../b", "at offset 4: non-CONNECT pattern with unclean path can never match"},
        {"GET //a", "unclean path"},
        {"POST /a/./", "unclean path"},
        {"{x}/a", "at offset 0: host contains a brace"},
        {"GET {id}", "host/path missing /"},
        {"/a}", "at offset 1: unbalanced '}'"},
        {"/a/b}c/", "at offset 3: unbalanced '}'"},
    };
    CHECK_CALL(check_bad(c, sizeof c / sizeof *c));
    PASS();
}

TEST invalid_pattern_wildcards(void) {
    static const bad_case c[] = {
        {"/a{x}", "at offset 1: bad wildcard segment (must start with '{')"},
        {"/a/{x}b", "at offset 3: bad wildcard segment (must end with '}')"},
        {"/{a", "bad wildcard segment (must end with '}')"},
        {"/{", "bad wildcard segment (must end with '}')"},
        {"/{}", "empty wildcard"},
        {"/{...}", "empty wildcard"},
        {"/{1x}", "bad wildcard name \"1x\""},
        {"/{x-y}", "bad wildcard name \"x-y\""},
        {"/{a b}", "invalid method"},                 /* the space ends a method      */
        {"/{x.y...}", "bad wildcard name \"x.y\""},
        {"/{x}/{x}", "at offset 5: duplicate wildcard name \"x\""},
        {"/{x}/{x...}", "duplicate wildcard name \"x\""},
        {"/{x...}/a", "at offset 1: {...} wildcard not at end"},
        {"/{x...}/", "{...} wildcard not at end"},
        {"/{$}/a", "{$} not at end"},
        {"/a{$}", "must start with '{'"},
        {"/{$$}", "bad wildcard name \"$$\""},
        {"/{$...}", "bad wildcard name \"$\""},
        {"/{a}{b}", "bad wildcard name \"a}{b\""},
    };
    CHECK_CALL(check_bad(c, sizeof c / sizeof *c));
    PASS();
}

TEST invalid_pattern_method(void) {
    static const bad_case c[] = {
        {"G@T /x", "invalid method \"G@T\""},
        {"GET() /x", "invalid method \"GET()\""},
        {"/a b", "invalid method \"/a\""},
    };
    CHECK_CALL(check_bad(c, sizeof c / sizeof *c));
    PASS();
}

TEST too_many_wildcards(void) {
    char pat[256] = "";
    size_t n = 0;
    for (int i = 0; i < GN__MUX_MAX_VALUES; i++) n += (size_t)sprintf(pat + n, "/{v%d}", i);
    gn_http_mux *m = gn_http_mux_new();
    EQI(0, handle(m, pat));
    sprintf(pat + n, "/{one_more}");
    EQI(GN_EINVAL, handle(m, pat));
    CONTAINS(gn_http_mux_error(m), "too many wildcards (at most 16)");
    gn_http_mux_free(m);
    PASS();
}

TEST valid_patterns(void) {
    static const char *ok[] = {
        "/", "GET /g", "/{$}", "/x/{$}", "/r/{x...}", "POST example.com/x", "example.com/",
        "CONNECT /a/../b",       /* CONNECT paths are not cleaned: may be unclean      */
        "/a/../c",               /* no method: matches only CONNECT, as in Go          */
        "/%7Bx%7D", "/_x/{_}/{x1}/{Xy_2...}", "get /lower", "M-SEARCH /ms", "GET  /two-spaces",
        "[::1]/v6", "example.com:8080/port",
    };
    gn_http_mux *m = gn_http_mux_new();
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        if (handle(m, ok[i]) != 0) {
            fprintf(stderr, "%s: %s\n", ok[i], gn_http_mux_error(m));
            FAIL();
        }
    }
    EQI(sizeof ok / sizeof *ok, m->npats);
    ASSERT_STR_EQ("", gn_http_mux_error(m));
    gn_http_mux_free(m);
    PASS();
}

TEST handle_bad_arguments(void) {
    EQI(GN_EINVAL, gn_http_mux_handle(NULL, "/", nop, NULL));
    gn_http_mux *m = gn_http_mux_new();
    EQI(GN_EINVAL, gn_http_mux_handle(m, NULL, nop, NULL));
    ASSERT_STR_EQ("nil pattern", gn_http_mux_error(m));
    EQI(GN_EINVAL, gn_http_mux_handle(m, "/x", NULL, NULL));
    ASSERT_STR_EQ("nil handler for pattern \"/x\"", gn_http_mux_error(m));
    EQI(0, m->npats);
    ASSERT_STR_EQ("nil mux", gn_http_mux_error(NULL));
    gn_http_mux_free(NULL);
    gn_http_mux_free(m);
    PASS();
}

/* ==== conflicts ===================================================================== */
/* Registers first, then second; expects GN_ECONFLICT with exactly msg.           */
static enum greatest_test_res check_conflict(const char *first, const char *second,
                                             const char *msg) {
    gn_http_mux *m = gn_http_mux_new();
    EQI(0, handle(m, first));
    EQI(GN_ECONFLICT, handle(m, second));
    ASSERT_STR_EQ(msg, gn_http_mux_error(m));
    EQI(1, m->npats);
    gn_http_mux_free(m);
    PASS();
}

TEST conflict_crossing_wildcards(void) {
    CHECK_CALL(check_conflict("/a/{x}", "/{y}/b",
        "pattern \"/{y}/b\" conflicts with pattern \"/a/{x}\": both match some paths, like "
        "\"/a/b\", but neither is more specific: \"/{y}/b\" matches \"/y/b\" and \"/a/{x}\" "
        "does not; \"/a/{x}\" matches \"/a/x\" and \"/{y}/b\" does not"));
    PASS();
}

/* The blog's example: both match /posts/latest.                                  */
TEST conflict_blog_posts(void) {
    CHECK_CALL(check_conflict("/posts/{id}", "/{resource}/latest",
        "pattern \"/{resource}/latest\" conflicts with pattern \"/posts/{id}\": both match "
        "some paths, like \"/posts/latest\", but neither is more specific: "
        "\"/{resource}/latest\" matches \"/resource/latest\" and \"/posts/{id}\" does not; "
        "\"/posts/{id}\" matches \"/posts/id\" and \"/{resource}/latest\" does not"));
    PASS();
}

/* A wildcard named like the other pattern's literal: the example path avoids it. */
TEST conflict_example_avoids_literal(void) {
    CHECK_CALL(check_conflict("/a/{x}", "/{a}/b",
        "pattern \"/{a}/b\" conflicts with pattern \"/a/{x}\": both match some paths, like "
        "\"/a/b\", but neither is more specific: \"/{a}/b\" matches \"/ax/b\" and \"/a/{x}\" "
        "does not; \"/a/{x}\" matches \"/a/x\" and \"/{a}/b\" does not"));
    PASS();
}

TEST conflict_identical(void) {
    CHECK_CALL(check_conflict("/x", "/x",
        "pattern \"/x\" conflicts with pattern \"/x\": they match the same requests"));
    CHECK_CALL(check_conflict("GET /x", "GET /x",
        "pattern \"GET /x\" conflicts with pattern \"GET /x\": they match the same requests"));
    CHECK_CALL(check_conflict("/a/{x}", "/a/{y}",          /* names do not matter      */
        "pattern \"/a/{y}\" conflicts with pattern \"/a/{x}\": they match the same requests"));
    CHECK_CALL(check_conflict("/a/", "/a/{rest...}",       /* trailing '/' is a ...    */
        "pattern \"/a/{rest...}\" conflicts with pattern \"/a/\": they match the same requests"));
    CHECK_CALL(check_conflict("/a%20b", "/a%20%62",        /* literals compared decoded */
        "pattern \"/a%20%62\" conflicts with pattern \"/a%20b\": they match the same requests"));
    CHECK_CALL(check_conflict("/b/{bucket}/o/", "/b/{bucket}/o/{objectname...}",
        "pattern \"/b/{bucket}/o/{objectname...}\" conflicts with pattern \"/b/{bucket}/o/\": "
        "they match the same requests"));
    PASS();
}

/* The docs' example: "GET /" and "/index.html" both match GET /index.html.     */
TEST conflict_docs_get_root(void) {
    CHECK_CALL(check_conflict("GET /", "/index.html",
        "pattern \"/index.html\" conflicts with pattern \"GET /\": \"/index.html\" matches "
        "more methods than \"GET /\" but has a more specific path"));
    CHECK_CALL(check_conflict("/index.html", "GET /",
        "pattern \"GET /\" conflicts with pattern \"/index.html\": \"GET /\" matches fewer "
        "methods than \"/index.html\" but has a more general path"));
    PASS();
}

TEST conflict_head_and_get(void) {
    /* HEAD is a subset of GET: a HEAD pattern with a wider path conflicts.       */
    CHECK_CALL(check_conflict("GET /a", "HEAD /{x}",
        "pattern \"HEAD /{x}\" conflicts with pattern \"GET /a\": \"HEAD /{x}\" matches fewer "
        "methods than \"GET /a\" but has a more general path"));
    CHECK_CALL(check_conflict("GET /a/{x}", "/a/b",
        "pattern \"/a/b\" conflicts with pattern \"GET /a/{x}\": \"/a/b\" matches more "
        "methods than \"GET /a/{x}\" but has a more specific path"));
    PASS();
}

TEST conflict_same_host_any_case(void) {
    CHECK_CALL(check_conflict("Example.com/x", "example.COM/x",
        "pattern \"example.COM/x\" conflicts with pattern \"Example.com/x\": they match the "
        "same requests"));
    PASS();
}

TEST conflict_trailing_wildcards(void) {
    /* Nested: "/a/{$}" and "/a/{y}" are inside "/{x}/", which is inside "/";
     * "/{$}" meets none of them.                                                 */
    gn_http_mux *m = MUX("/{x}/", "/a/{$}", "/a/{y}", "/{$}", "/");
    ASSERT(m != NULL);
    /* "/{x}/{y...}" is "/{x}/" with a name: the same requests.                   */
    EQI(GN_ECONFLICT, handle(m, "/{x}/{y...}"));
    CONTAINS(gn_http_mux_error(m), "they match the same requests");
    /* "/{x}/b" vs "/a/{y}": both match /a/b, neither more specific.             */
    EQI(GN_ECONFLICT, handle(m, "/{x}/b"));
    CONTAINS(gn_http_mux_error(m), "like \"/a/b\"");
    /* "/{x}/{$}": wider than "/a/{$}", narrower than "/{x}/": fits between.    */
    EQI(0, handle(m, "/{x}/{$}"));
    MATCH(m, "GET", "", "/a/", "/a/{$}");
    MATCH(m, "GET", "", "/b/", "/{x}/{$}");
    MATCH(m, "GET", "", "/b/c", "/{x}/");
    MATCH(m, "GET", "", "/a/c", "/a/{y}");
    gn_http_mux_free(m);
    PASS();
}

TEST no_conflicts(void) {
    static const char *pairs[][2] = {
        {"GET /x", "/x"},                        /* method-specific is more specific  */
        {"GET /x", "HEAD /x"},                   /* HEAD within GET                   */
        {"GET /x", "POST /x"},                   /* disjoint methods                  */
        {"/posts/{id}", "/posts/latest"},        /* the blog                          */
        {"/images/", "/images/thumbnails/"},     /* the docs                          */
        {"/", "/{$}"},
        {"/a/{x}", "/a/{$}"},                    /* {x} does not match a final '/'    */
        {"/a/{x}", "/a"},
        {"/a/", "/a"},
        {"/a/{x}", "/a/{x}/"},
        {"/{x}/b", "/a/{y}/c"},                  /* different lengths                 */
        {"example.com/a/{x}", "/{y}/b"},         /* the host wins                     */
        {"a.com/x", "b.com/x"},
        {"GET /{x}", "GET /{x}/{y}"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        gn_http_mux *m = gn_http_mux_new();
        int rc1 = handle(m, pairs[i][0]), rc2 = handle(m, pairs[i][1]);
        if (rc1 != 0 || rc2 != 0) {
            fprintf(stderr, "%s + %s: %d %d: %s\n", pairs[i][0], pairs[i][1], rc1, rc2,
                    gn_http_mux_error(m));
            gn_http_mux_free(m);
            FAIL();
        }
        gn_http_mux_free(m);
    }
    PASS();
}

/* A refused pattern leaves the mux as it was; the error stays until the next.   */
TEST conflict_leaves_mux_intact(void) {
    gn_http_mux *m = MUX("/a/{x}");
    ASSERT(m != NULL);
    EQI(GN_ECONFLICT, gn_http_mux_handle(m, "/{y}/b", nop, (void *)"bad"));
    MATCH(m, "GET", "", "/a/b", "/a/{x}");
    STATUS(m, "GET", "", "/z/b", 404);
    EQI(0, handle(m, "/z/{q}"));                     /* later registrations work     */
    CONTAINS(gn_http_mux_error(m), "conflicts");     /* the last error is kept       */
    gn_http_mux_free(m);
    PASS();
}

/* ==== lookups ======================================================================= */
TEST docs_images_subtrees(void) {
    gn_http_mux *m = MUX("/images/", "/images/thumbnails/");
    ASSERT(m != NULL);
    MATCH(m, "GET", "", "/images/thumbnails/a.png", "/images/thumbnails/");
    MATCH(m, "GET", "", "/images/thumbnails/", "/images/thumbnails/");
    MATCH(m, "POST", "", "/images/a.png", "/images/");
    MATCH(m, "GET", "", "/images/x/thumbnails/a", "/images/");
    MATCH(m, "GET", "", "/images/", "/images/");
    EQI(0, R.nvals);                                  /* anonymous: no value          */
    REDIRECT(m, "GET", "", "/images", NULL, "/images/");
    ASSERT_STR_EQ("/images/", R.pattern);
    /* "/images/" matches "/images/thumbnails" (not exactly): redirect anyway.      */
    REDIRECT(m, "GET", "", "/images/thumbnails", NULL, "/images/thumbnails/");
    STATUS(m, "GET", "", "/imagesx", 404);
    gn_http_mux_free(m);
    PASS();
}

TEST blog_posts(void) {
    gn_http_mux *m = MUX("GET /posts/{id}", "GET /posts/latest", "GET /posts/{$}", "POST /posts");
    ASSERT(m != NULL);
    MATCH(m, "GET", "", "/posts/latest", "GET /posts/latest");
    EQI(0, R.nvals);
    MATCH(m, "GET", "", "/posts/234", "GET /posts/{id}");
    EQI(1, R.nvals);
    ASSERT_STR_EQ("id", R.vals[0].name);
    ASSERT_STR_EQ("234", R.vals[0].value);
    ASSERT_STR_EQ("234", val("id"));
    MATCH(m, "GET", "", "/posts/", "GET /posts/{$}");
    MATCH(m, "POST", "", "/posts", "POST /posts");
    STATUS(m, "GET", "", "/posts/1/2", 404);
    STATUS(m, "DELETE", "", "/posts/1", 405);
    ASSERT_STR_EQ("GET, HEAD", R.allow);
    gn_http_mux_free(m);
    PASS();
}

TEST docs_bucket_object(void) {
    gn_http_mux *m = MUX("/b/{bucket}/o/{objectname...}");
    ASSERT(m != NULL);
    MATCH(m, "GET", "", "/b/mybucket/o/a/b/c.txt", "/b/{bucket}/o/{objectname...}");
    EQI(2, R.nvals);
    ASSERT_STR_EQ("bucket", R.vals[0].name);
    ASSERT_STR_EQ("mybucket", R.vals[0].value);
    ASSERT_STR_EQ("objectname", R.vals[1].name);
    ASSERT_STR_EQ("a/b/c.txt", R.vals[1].value);
    MATCH(m, "PUT", "", "/b/x/o/", "/b/{bucket}/o/{objectname...}");
    ASSERT_STR_EQ("", val("objectname"));             /* the rest may be empty        */
    MATCH(m, "GET", "", "/b/x/o/dir/", "/b/{bucket}/o/{objectname...}");
    ASSERT_STR_EQ("dir/", val("objectname"));
    REDIRECT(m, "GET", "", "/b/x/o", NULL, "/b/x/o/");
    STATUS(m, "GET", "", "/b/x/p/y", 404);
    STATUS(m, "GET", "", "/b/x", 404);
    gn_http_mux_free(m);
    PASS();
}

TEST end_of_path_dollar(void) {
    gn_http_mux *m = MUX("/{$}");
    ASSERT(m != NULL);
    MATCH(m, "GET", "", "/", "/{$}");
    STATUS(m, "GET", "", "/x", 404);
    STATUS(m, "GET", "", "/x/", 404);
    gn_http_mux_free(m);
    m = MUX("/{$}", "/", "/a/{$}");
    ASSERT(m != NULL);
    MATCH(m, "GET", "", "/", "/{$}");
    MATCH(m, "GET", "", "/x", "/");
    MATCH(m, "GET", "", "/a/", "/a/{$}");
    MATCH(m, "GET", "", "/a/b", "/");
    REDIRECT(m, "GET", "", "/a", NULL, "/a/");       /* {$} too: Go redirects        */
    gn_http_mux_free(m);
    PASS();
}

TEST host_patterns(void) {
    gn_http_mux *m = MUX("example.com/", "/", "example.com/{$}", "api.example.com/v1/{x}");
    ASSERT(m != NULL);
    MATCH(m, "GET", "example.com", "/", "example.com/{$}");
    MATCH(m, "GET", "example.com", "/a/b", "example.com/");
    MATCH(m, "GET", "EXAMPLE.com:8080", "/a", "example.com/");    /* case, port      */
    MATCH(m, "GET", "other.com", "/a", "/");
    MATCH(m, "GET", "", "/a", "/");
    MATCH(m, "GET", "api.example.com", "/v1/7", "api.example.com/v1/{x}");
    ASSERT_STR_EQ("7", val("x"));
    /* The host's patterns do not match: fall back to the host-less ones.          */
    MATCH(m, "GET", "api.example.com", "/v2", "/");
    MATCH(m, "GET", "example.com.", "/a", "/");                    /* no normalising  */
    gn_http_mux_free(m);
    PASS();
}

TEST host_port_stripping(void) {
    gn_http_mux *m = MUX("::1/", "[::1]/", "h/", "/");
    ASSERT(m != NULL);
    MATCH(m, "GET", "[::1]:8080", "/", "::1/");       /* as Go's SplitHostPort         */
    MATCH(m, "GET", "[::1]", "/", "[::1]/");          /* no port: left as it is        */
    MATCH(m, "GET", "::1", "/", "::1/");              /* does not split: whole         */
    MATCH(m, "GET", "h:", "/", "h/");
    MATCH(m, "GET", "h:80:90", "/", "/");             /* too many colons: whole        */
    /* CONNECT: the host is matched with its port, as Go.                          */
    MATCH(m, "CONNECT", "h:443", "/", "/");
    gn_http_mux_free(m);
    PASS();
}

TEST get_serves_head(void) {
    gn_http_mux *m = MUX("GET /", "HEAD /x", "GET /x");
    ASSERT(m != NULL);
    MATCH(m, "HEAD", "", "/", "GET /");
    MATCH(m, "HEAD", "", "/anything/at/all", "GET /");
    MATCH(m, "HEAD", "", "/x", "HEAD /x");            /* HEAD more specific than GET  */
    MATCH(m, "GET", "", "/x", "GET /x");
    STATUS(m, "POST", "", "/x", 405);
    ASSERT_STR_EQ("GET, HEAD", R.allow);
    gn_http_mux_free(m);
    PASS();
}

TEST method_precedence_over_any(void) {
    gn_http_mux *m = MUX("GET /x", "/x", "/{y}", "POST /z/{y}");
    ASSERT(m != NULL);
    MATCH(m, "GET", "", "/x", "GET /x");
    MATCH(m, "HEAD", "", "/x", "GET /x");
    MATCH(m, "POST", "", "/x", "/x");
    MATCH(m, "POST", "", "/z/q", "POST /z/{y}");
    MATCH(m, "DELETE", "", "/z", "/{y}");
    /* "POST /{y}" would be a method-specific pattern with a wider path than "/x". */
    EQI(GN_ECONFLICT, handle(m, "POST /{y}"));
    MATCH(m, "get", "", "/x", "/x");                  /* methods are case-sensitive   */
    gn_http_mux_free(m);
    PASS();
}

TEST not_found(void) {
    gn_http_mux *m = gn_http_mux_new();
    STATUS(m, "GET", "", "/", 404);
    ASSERT_STR_EQ("", R.pattern);
    ASSERT_STR_EQ("", R.allow);
    ASSERT_STR_EQ("", R.location);
    EQI(0, R.nvals);
    EQI(0, handle(m, "/a/b"));
    STATUS(m, "GET", "", "/a", 404);
    STATUS(m, "GET", "", "/a/b/c", 404);
    STATUS(m, "GET", "", "/a/b/", 404);
    STATUS(m, "GET", "", "/A/b", 404);                /* literals are case-sensitive  */
    gn_http_mux_free(m);
    PASS();
}

TEST method_not_allowed_allow_list(void) {
    gn_http_mux *m = MUX("GET /x", "POST /x", "DELETE /x", "PUT /y", "OPTIONS /{z}",
                         "M-SEARCH /x/");
    ASSERT(m != NULL);
    STATUS(m, "PUT", "", "/x", 405);
    /* M-SEARCH counts: M-SEARCH /x would redirect to /x/.                        */
    ASSERT_STR_EQ("DELETE, GET, HEAD, M-SEARCH, OPTIONS, POST", R.allow);
    ASSERT_STR_EQ("", R.pattern);
    STATUS(m, "GET", "", "/y", 405);
    ASSERT_STR_EQ("OPTIONS, PUT", R.allow);
    /* "/x/" for M-SEARCH: GET /x/ is not there, but M-SEARCH /x/ is.              */
    STATUS(m, "GET", "", "/x/", 405);
    ASSERT_STR_EQ("M-SEARCH", R.allow);
    STATUS(m, "GET", "", "/q/r", 404);
    gn_http_mux_free(m);
    PASS();
}

TEST method_not_allowed_head_only(void) {
    gn_http_mux *m = MUX("HEAD /h");
    ASSERT(m != NULL);
    STATUS(m, "GET", "", "/h", 405);
    ASSERT_STR_EQ("HEAD", R.allow);
    gn_http_mux_free(m);
    PASS();
}

/* The methods that would match after the trailing-slash redirect count too.      */
TEST method_not_allowed_via_slash(void) {
    gn_http_mux *m = MUX("POST /dir/", "GET /dir/{$}");
    ASSERT(m != NULL);
    REDIRECT(m, "POST", "", "/dir", NULL, "/dir/");
    REDIRECT(m, "GET", "", "/dir", NULL, "/dir/");
    STATUS(m, "PUT", "", "/dir", 405);
    ASSERT_STR_EQ("GET, HEAD, POST", R.allow);
    STATUS(m, "PUT", "", "/dir/a", 405);
    ASSERT_STR_EQ("POST", R.allow);
    gn_http_mux_free(m);
    PASS();
}

TEST method_not_allowed_with_host(void) {
    gn_http_mux *m = MUX("POST h.com/x", "PUT /x", "PATCH other.com/x");
    ASSERT(m != NULL);
    STATUS(m, "GET", "h.com", "/x", 405);
    ASSERT_STR_EQ("POST, PUT", R.allow);
    STATUS(m, "GET", "", "/x", 405);
    ASSERT_STR_EQ("PUT", R.allow);
    gn_http_mux_free(m);
    PASS();
}

TEST redirect_unclean_paths(void) {
    static const char *cases[][2] = {
        {"/a/../b", "/b"}, {"//a", "/a"}, {"/a//b/", "/a/b/"}, {"/a/./b", "/a/b"},
        {"/./", "/"}, {"/a/b/..", "/a"}, {"/..", "/"}, {"/x/../y/", "/y/"},
        {"x", "/x"}, {"", "/"},
    };
    gn_http_mux *m = MUX("/");
    ASSERT(m != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        REDIRECT(m, "GET", "", cases[i][0], NULL, cases[i][1]);
        ASSERT_STR_EQ("/", R.pattern);
    }
    REDIRECT(m, "POST", "", "/a/../b", "x=1&y=%20", "/b?x=1&y=%20");   /* query kept */
    REDIRECT(m, "GET", "", "/a/../b", "", "/b");
    gn_http_mux_free(m);
    /* Unclean paths redirect whether or not anything matches (as Go).             */
    m = gn_http_mux_new();
    REDIRECT(m, "GET", "", "/a/./b", NULL, "/a/b");
    ASSERT_STR_EQ("", R.pattern);
    gn_http_mux_free(m);
    PASS();
}

TEST redirect_to_subtree(void) {
    gn_http_mux *m = MUX("/dir/", "/exact", "/exact/", "GET /files/{p...}");
    ASSERT(m != NULL);
    REDIRECT(m, "GET", "", "/dir", NULL, "/dir/");
    ASSERT_STR_EQ("/dir/", R.pattern);
    REDIRECT(m, "GET", "", "/dir", "q=a+b", "/dir/?q=a+b");
    MATCH(m, "GET", "", "/exact", "/exact");          /* registered apart: no redirect */
    MATCH(m, "GET", "", "/exact/", "/exact/");
    REDIRECT(m, "GET", "", "/files", NULL, "/files/");
    REDIRECT(m, "HEAD", "", "/files", NULL, "/files/");
    STATUS(m, "POST", "", "/files", 405);              /* POST /files/ does not match  */
    ASSERT_STR_EQ("GET, HEAD", R.allow);
    /* Unclean and subtree at once: one redirect, straight to the final place.     */
    REDIRECT(m, "GET", "", "/x/../dir", "k=v", "/dir/?k=v");
    REDIRECT(m, "GET", "", "//dir", NULL, "/dir/");
    /* The Location keeps the client's escaping.                                    */
    EQI(0, handle(m, "/a%20b/"));
    REDIRECT(m, "GET", "", "/a%20b", NULL, "/a%20b/");
    gn_http_mux_free(m);
    PASS();
}

TEST values_decoded(void) {
    gn_http_mux *m = MUX("/u/{name}", "/f/{rest...}", "/u/{name}/k/{key}");
    ASSERT(m != NULL);
    MATCH(m, "GET", "", "/u/a%20b", "/u/{name}");
    ASSERT_STR_EQ("a b", val("name"));
    /* %2F stays inside its segment and decodes to '/'.                           */
    MATCH(m, "GET", "", "/u/a%2Fb", "/u/{name}");
    ASSERT_STR_EQ("a/b", val("name"));
    MATCH(m, "GET", "", "/u/a+b", "/u/{name}");                  /* '+' is itself     */
    ASSERT_STR_EQ("a+b", val("name"));
    MATCH(m, "GET", "", "/u/%zz", "/u/{name}");                  /* malformed: as is  */
    ASSERT_STR_EQ("%zz", val("name"));
    MATCH(m, "GET", "", "/f/a%2Fb/c%20d/", "/f/{rest...}");
    ASSERT_STR_EQ("a/b/c d/", val("rest"));
    MATCH(m, "GET", "", "/u/%C3%A9t%C3%A9/k/%3F%23", "/u/{name}/k/{key}");
    EQI(2, R.nvals);
    ASSERT_STR_EQ("\xc3\xa9t\xc3\xa9", val("name"));
    ASSERT_STR_EQ("?#", val("key"));
    ASSERT_EQ(NULL, val("nope"));
    /* %2e%2e is a name, not "..": no cleaning, a value.                           */
    MATCH(m, "GET", "", "/u/%2e%2e", "/u/{name}");
    ASSERT_STR_EQ("..", val("name"));
    gn_http_mux_free(m);
    PASS();
}

TEST literal_patterns_unescaped(void) {
    gn_http_mux *m = MUX("/a%20b", "/c%2Fd", "/%7Bx%7D");
    ASSERT(m != NULL);
    MATCH(m, "GET", "", "/a%20b", "/a%20b");
    MATCH(m, "GET", "", "/%61%20%62", "/a%20b");                 /* compared decoded  */
    MATCH(m, "GET", "", "/c%2Fd", "/c%2Fd");
    MATCH(m, "GET", "", "/c%2fd", "/c%2Fd");
    STATUS(m, "GET", "", "/c/d", 404);                           /* a separator: not it */
    MATCH(m, "GET", "", "/%7Bx%7D", "/%7Bx%7D");                 /* a literal "{x}"  */
    STATUS(m, "GET", "", "/y", 404);
    gn_http_mux_free(m);
    PASS();
}

TEST backtracking(void) {
    gn_http_mux *m = MUX("/a/b/z", "/a/{x}/c", "/{p}/b/c/d");
    ASSERT(m != NULL);
    MATCH(m, "GET", "", "/a/b/c", "/a/{x}/c");
    ASSERT_STR_EQ("b", val("x"));
    MATCH(m, "GET", "", "/a/b/z", "/a/b/z");
    MATCH(m, "GET", "", "/q/b/c/d", "/{p}/b/c/d");
    MATCH(m, "GET", "", "/a/b/c/d", "/{p}/b/c/d");               /* deepest fallback  */
    ASSERT_STR_EQ("a", val("p"));
    EQI(1, R.nvals);
    STATUS(m, "GET", "", "/a/b/y", 404);
    /* "/a/{x}/" would overlap "/{p}/b/c/d" (both match /a/b/c/d).                  */
    EQI(GN_ECONFLICT, handle(m, "/a/{x}/"));
    CONTAINS(gn_http_mux_error(m), "like \"/a/b/c/d\"");
    gn_http_mux_free(m);
    PASS();
}

TEST wildcard_then_multi(void) {
    gn_http_mux *m = MUX("/a/{x}", "/a/{rest...}", "/a/b");
    ASSERT(m != NULL);
    MATCH(m, "GET", "", "/a/b", "/a/b");
    MATCH(m, "GET", "", "/a/c", "/a/{x}");
    MATCH(m, "GET", "", "/a/c/d", "/a/{rest...}");
    ASSERT_STR_EQ("c/d", val("rest"));
    EQI(1, R.nvals);
    MATCH(m, "GET", "", "/a/", "/a/{rest...}");                  /* {x} needs a segment */
    ASSERT_STR_EQ("", val("rest"));
    gn_http_mux_free(m);
    m = MUX("/a/{x}");
    ASSERT(m != NULL);
    STATUS(m, "GET", "", "/a/", 404);
    gn_http_mux_free(m);
    PASS();
}

TEST connect_not_cleaned(void) {
    gn_http_mux *m = MUX("CONNECT /a/../b", "/");
    ASSERT(m != NULL);
    MATCH(m, "CONNECT", "", "/a/../b", "CONNECT /a/../b");
    REDIRECT(m, "GET", "", "/a/../b", NULL, "/b");
    STATUS(m, "CONNECT", "", "", 404);                  /* authority-form: no path   */
    STATUS(m, "CONNECT", "", "h:443", 404);
    gn_http_mux_free(m);
    PASS();
}

TEST scratch_overflow(void) {
    static char path[3 * GN_HTTP_MUX_SCRATCH + 16];
    gn_http_mux *m = MUX("/v/{x}", "/d/");
    ASSERT(m != NULL);
    /* A value that fits exactly (with its NUL), then one byte more: 414.        */
    strcpy(path, "/v/");
    memset(path + 3, 'a', GN_HTTP_MUX_SCRATCH - 1);
    path[3 + GN_HTTP_MUX_SCRATCH - 1] = '\0';
    MATCH(m, "GET", "", path, "/v/{x}");
    EQI(GN_HTTP_MUX_SCRATCH - 1, strlen(val("x")));
    path[3 + GN_HTTP_MUX_SCRATCH - 1] = 'a';
    path[3 + GN_HTTP_MUX_SCRATCH] = '\0';
    STATUS(m, "GET", "", path, 414);
    EQI(0, R.nvals);
    ASSERT_STR_EQ("", R.pattern);
    /* Escapes count decoded: three times the bytes fit the same space.           */
    strcpy(path, "/v/");
    for (int i = 0; i < GN_HTTP_MUX_SCRATCH - 1; i++) memcpy(path + 3 + 3 * i, "%41", 4);
    MATCH(m, "GET", "", path, "/v/{x}");
    EQI(GN_HTTP_MUX_SCRATCH - 1, strlen(val("x")));
    /* A long path with no values needs no scratch.                               */
    strcpy(path, "/d/");
    memset(path + 3, 'b', 2 * GN_HTTP_MUX_SCRATCH);
    path[3 + 2 * GN_HTTP_MUX_SCRATCH] = '\0';
    MATCH(m, "GET", "", path, "/d/");
    REDIRECT(m, "GET", "", "//d/..//d/../d", NULL, "/d/");
    gn_http_mux_free(m);
    PASS();
}

TEST scratch_overflow_redirect(void) {
    static char path[GN_HTTP_MUX_SCRATCH + 64], query[GN_HTTP_MUX_SCRATCH];
    gn_http_mux *m = MUX("/d/");
    ASSERT(m != NULL);
    memset(query, 'q', sizeof query - 1);
    query[sizeof query - 1] = '\0';
    EQI(414, gn__mux_lookup(m, "GET", "", "/d", query, &R));         /* Location too long */
    EQI(414, R.status);
    ASSERT_STR_EQ("", R.location);
    query[GN_HTTP_MUX_SCRATCH - 4] = '\0';         /* "/d/?" + q + NUL: one too many */
    EQI(414, gn__mux_lookup(m, "GET", "", "/d", query, &R));
    query[GN_HTTP_MUX_SCRATCH - 5] = '\0';         /* exactly the scratch            */
    EQI(301, gn__mux_lookup(m, "GET", "", "/d", query, &R));
    EQI(GN_HTTP_MUX_SCRATCH - 1, strlen(R.location));
    ASSERT_STRN_EQ("/d/?qqq", R.location, 7);
    /* An unclean path whose clean form does not fit.                               */
    path[0] = '/';
    memset(path + 1, 'p', GN_HTTP_MUX_SCRATCH + 10);
    path[GN_HTTP_MUX_SCRATCH + 11] = '\0';
    path[1] = '/';
    EQI(414, gn__mux_lookup(m, "GET", "", path, NULL, &R));
    gn_http_mux_free(m);
    PASS();
}

TEST lookup_bad_arguments(void) {
    gn_http_mux *m = MUX("/");
    ASSERT(m != NULL);
    EQI(GN_EINVAL, gn__mux_lookup(NULL, "GET", "", "/", NULL, &R));
    EQI(500, R.status);
    EQI(GN_EINVAL, gn__mux_lookup(m, NULL, "", "/", NULL, &R));
    EQI(GN_EINVAL, gn__mux_lookup(m, "GET", "", NULL, NULL, &R));
    EQI(GN_EINVAL, gn__mux_lookup(m, "GET", "", "/", NULL, NULL));
    MATCH(m, "GET", NULL, "/", "/");                     /* NULL host: none           */
    gn_http_mux_free(m);
    PASS();
}

/* Fifty routes of a typical API; every one reachable, with its values.          */
static const char *const api_routes[] = {
    "GET /{$}", "GET /health", "GET /metrics", "GET /static/", "GET /favicon.ico",
    "GET /api/v1/users", "POST /api/v1/users", "GET /api/v1/users/{id}", "PUT /api/v1/users/{id}",
    "DELETE /api/v1/users/{id}", "GET /api/v1/users/{id}/posts", "POST /api/v1/users/{id}/posts",
    "GET /api/v1/users/{id}/posts/{post}", "DELETE /api/v1/users/{id}/posts/{post}",
    "GET /api/v1/users/me", "GET /api/v1/posts", "GET /api/v1/posts/{post}",
    "GET /api/v1/posts/{post}/comments", "POST /api/v1/posts/{post}/comments",
    "GET /api/v1/posts/{post}/comments/{c}", "GET /api/v1/tags", "GET /api/v1/tags/{tag}",
    "GET /api/v1/search", "GET /api/v1/files/{path...}", "PUT /api/v1/files/{path...}",
    "GET /api/v2/users", "GET /api/v2/users/{id}", "GET /api/v2/orders",
    "POST /api/v2/orders", "GET /api/v2/orders/{order}", "PATCH /api/v2/orders/{order}",
    "GET /api/v2/orders/{order}/items", "GET /api/v2/orders/{order}/items/{item}",
    "GET /api/v2/products", "GET /api/v2/products/{sku}", "GET /api/v2/cart",
    "POST /api/v2/cart/items", "DELETE /api/v2/cart/items/{item}", "GET /admin/",
    "GET /admin/users", "GET /admin/users/{id}", "POST /admin/users/{id}/ban",
    "GET /docs/", "GET /docs/{page}", "GET /blog/{year}/{month}/{slug}", "GET /login",
    "POST /login", "POST /logout", "GET /b/{bucket}/o/{objectname...}", "admin.example.com/",
    NULL,
};

TEST fifty_routes(void) {
    gn_http_mux *m = mux_of(api_routes);
    ASSERT(m != NULL);
    EQI(50, m->npats);
    MATCH(m, "GET", "", "/", "GET /{$}");
    MATCH(m, "GET", "", "/api/v1/users/me", "GET /api/v1/users/me");
    MATCH(m, "GET", "", "/api/v1/users/42", "GET /api/v1/users/{id}");
    ASSERT_STR_EQ("42", val("id"));
    MATCH(m, "DELETE", "", "/api/v1/users/42/posts/7", "DELETE /api/v1/users/{id}/posts/{post}");
    ASSERT_STR_EQ("42", val("id"));
    ASSERT_STR_EQ("7", val("post"));
    MATCH(m, "GET", "", "/blog/2024/02/routing", "GET /blog/{year}/{month}/{slug}");
    ASSERT_STR_EQ("routing", val("slug"));
    MATCH(m, "HEAD", "", "/static/css/site.css", "GET /static/");
    MATCH(m, "GET", "", "/docs/", "GET /docs/");
    MATCH(m, "GET", "", "/docs/intro", "GET /docs/{page}");
    MATCH(m, "GET", "", "/docs/intro/more", "GET /docs/");
    MATCH(m, "POST", "admin.example.com", "/login", "admin.example.com/");
    MATCH(m, "PUT", "", "/api/v1/files/a/b.txt", "PUT /api/v1/files/{path...}");
    ASSERT_STR_EQ("a/b.txt", val("path"));
    STATUS(m, "POST", "", "/api/v1/users/42", 405);
    ASSERT_STR_EQ("DELETE, GET, HEAD, PUT", R.allow);
    REDIRECT(m, "GET", "", "/admin", NULL, "/admin/");
    STATUS(m, "GET", "", "/nope", 404);
    gn_http_mux_free(m);
    PASS();
}

TEST lookups_allocate_nothing(void) {
    gn_http_mux *m = mux_of(api_routes);
    ASSERT(m != NULL);
    static const char *const reqs[][3] = {
        {"GET", "", "/api/v1/users/42/posts/7"}, {"GET", "x.com:80", "/api/v1/files/a/b%20c"},
        {"POST", "", "/api/v1/users/42"}, {"GET", "", "/admin"}, {"GET", "", "/a/../admin/"},
        {"GET", "", "/nope"}, {"HEAD", "admin.example.com", "/x"}, {"CONNECT", "h:1", "/x"},
    };
    long before = g_allocs;
    for (int k = 0; k < 100; k++)
        for (size_t i = 0; i < sizeof reqs / sizeof *reqs; i++)
            ASSERT(gn__mux_lookup(m, reqs[i][0], reqs[i][1], reqs[i][2], "q=1", &R) > 0);
    EQI(before, g_allocs);
    gn_http_mux_free(m);
    PASS();
}

TEST free_returns_everything(void) {
    long live = g_live;
    gn_http_mux *m = mux_of(api_routes);
    ASSERT(m != NULL);
    ASSERT(g_live > live);
    EQI(GN_ECONFLICT, handle(m, "GET /api/v1/users/{x}"));   /* an error message too  */
    EQI(GN_EINVAL, handle(m, "/{"));
    gn_http_mux_free(m);
    EQI(live, g_live);
    PASS();
}

/* ==== model checks ==================================================================
 * A brute-force matcher for one pattern against a clean path of plain segments
 * (no escapes), written apart from the tree.                                     */
static int brute_match(const gn__mux_pat *p, const char *path, int *exact, char vals[][64],
                       int *nv) {
    const char *segs[16];
    size_t lens[16];
    int n = 0, trailing = 0;
    const char *s = path + 1;
    if (*s) {
        for (;;) {
            const char *e = strchr(s, '/');
            if (!e) {
                segs[n] = s;
                lens[n++] = strlen(s);
                break;
            }
            segs[n] = s;
            lens[n++] = (size_t)(e - s);
            if (e[1] == '\0') {
                trailing = 1;
                break;
            }
            s = e + 1;
        }
    } else {
        trailing = 1;
    }
    *nv = 0;
    *exact = 1;
    for (int i = 0; i < p->nsegs; i++) {
        const gn__mux_seg *g = &p->segs[i];
        if (g->kind == GN__MUX_END) return i == n && trailing;
        if (g->kind == GN__MUX_MULTI) {
            if (i > n || (i == n && !trailing)) return 0;
            /* The rest: after the (i+1)-th '/'.                                    */
            const char *r = path;
            for (int k = 0; k <= i; k++) r = strchr(r, '/') + 1;
            if (g->n) snprintf(vals[(*nv)++], 64, "%s", r);
            *exact = *r == '\0';
            return 1;
        }
        if (i >= n) return 0;
        if (g->kind == GN__MUX_LIT && (lens[i] != g->n || memcmp(segs[i], g->s, g->n) != 0))
            return 0;
        if (g->kind == GN__MUX_WILD) snprintf(vals[(*nv)++], 64, "%.*s", (int)lens[i], segs[i]);
    }
    return n == p->nsegs && !trailing;
}

static int brute_method(const gn__mux_pat *p, const char *method) {
    return !p->mlen || strcmp(p->method, method) == 0 ||
           (strcmp(p->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static unsigned g_seed = 12345;
static unsigned rnd(unsigned n) {
    g_seed = g_seed * 1103515245u + 12345u;
    return ((g_seed >> 16) & 0x7fff) % n;
}

/* A random pattern path over the literals a, b, c.                              */
static void random_path_pattern(char *out, int *wild) {
    int n = 1 + (int)rnd(3);
    size_t w = 0;
    for (int i = 0; i < n; i++) {
        unsigned k = rnd(8);
        int last = i == n - 1;
        if (last && k == 6) {
            w += (size_t)sprintf(out + w, "/");                  /* subtree          */
        } else if (last && k == 7) {
            w += (size_t)sprintf(out + w, rnd(2) ? "/{$}" : "/{r%d...}", (*wild)++);
        } else if (k < 2) {
            w += (size_t)sprintf(out + w, "/{w%d}", (*wild)++);
        } else {
            w += (size_t)sprintf(out + w, "/%c", "abc"[rnd(3)]);
        }
    }
    out[w] = '\0';
}

/* The relation of two patterns over every request with up to 4 segments of
 * a, b, c, d (with and without a final '/') and 4 methods, against gn__mux_rel. */
TEST relation_model(void) {
    static const char *methods[] = {"GET", "HEAD", "POST", "PUT"};
    static const char *pm[] = {"", "GET ", "HEAD ", "POST "};
    static char paths[700][24];
    int np = 0;
    for (int len = 0; len <= 4; len++) {
        int total = 1;
        for (int i = 0; i < len; i++) total *= 4;
        for (int x = 0; x < total; x++) {
            char p[12];
            size_t w = 0;
            for (int i = 0, y = x; i < len; i++, y /= 4) {
                p[w++] = '/';
                p[w++] = "abcd"[y % 4];
            }
            p[w] = '\0';
            if (len > 0) strcpy(paths[np++], p);
            snprintf(paths[np++], sizeof paths[0], "%s/", p);
        }
    }
    int iters = 1500 / g_scale, overlaps = 0;
    for (int it = 0; it < iters; it++) {
        char s1[64], s2[64], b1[48], b2[48];
        int wild = 0;
        random_path_pattern(b1, &wild);
        random_path_pattern(b2, &wild);
        snprintf(s1, sizeof s1, "%s%s", pm[rnd(4)], b1);
        snprintf(s2, sizeof s2, "%s%s", pm[rnd(4)], b2);
        gn__mux_sb sb;
        memset(&sb, 0, sizeof sb);
        gn__mux_pat *p1, *p2;
        ASSERT_EQ(0, gn__mux_parse(s1, &p1, &sb));
        ASSERT_EQ(0, gn__mux_parse(s2, &p2, &sb));
        int only1 = 0, only2 = 0, both = 0, ponly1 = 0, ponly2 = 0, pboth = 0;
        char vals[16][64];
        int nv, ex;
        for (int i = 0; i < np; i++) {
            int a = brute_match(p1, paths[i], &ex, vals, &nv);
            int b = brute_match(p2, paths[i], &ex, vals, &nv);
            ponly1 += a && !b;
            ponly2 += b && !a;
            pboth += a && b;
            for (int k = 0; k < 4; k++) {
                int ma = a && brute_method(p1, methods[k]), mb = b && brute_method(p2, methods[k]);
                only1 += ma && !mb;
                only2 += mb && !ma;
                both += ma && mb;
            }
        }
        int want = !both ? GN__REL_DISJOINT
                 : !only1 && !only2 ? GN__REL_EQUIV
                 : !only1 ? GN__REL_SPECIFIC
                 : !only2 ? GN__REL_GENERAL : GN__REL_OVERLAP;
        int got = gn__mux_rel(p1, p2);
        if (got != want) {
            fprintf(stderr, "rel(\"%s\", \"%s\") = %d, want %d\n", s1, s2, got, want);
            FAIL();
        }
        /* When the paths overlap, the message's example paths are right.           */
        if (pboth && ponly1 && ponly2) {
            overlaps++;
            EQI(GN__REL_OVERLAP, gn__mux_rel_paths(p1, p2));
            gn__mux_example_common(&sb, p1, p2);
            ASSERT(brute_match(p1, sb.b, &ex, vals, &nv) && brute_match(p2, sb.b, &ex, vals, &nv));
            sb.n = 0;
            gn__mux_example_diff(&sb, p1, p2);
            ASSERT(brute_match(p1, sb.b, &ex, vals, &nv) && !brute_match(p2, sb.b, &ex, vals, &nv));
            sb.n = 0;
            gn__mux_example_diff(&sb, p2, p1);
            ASSERT(brute_match(p2, sb.b, &ex, vals, &nv) && !brute_match(p1, sb.b, &ex, vals, &nv));
        }
        GN_FREE(sb.b);
        GN_FREE(p1);
        GN_FREE(p2);
    }
    if (GREATEST_IS_VERBOSE()) printf("overlapping pairs: %d of %d\n", overlaps, iters);
    ASSERT(overlaps * 50 >= iters);           /* the examples were exercised */
    PASS();
}

/* Brute force over the registered patterns: the winner (or NULL) for a request. */
static int g_ambiguous;
static const gn__mux_pat *brute_winner(gn_http_mux *m, const char *method, const char *host,
                                       const char *path, int *exact) {
    const gn__mux_pat *cand[64];
    int exs[64], nc = 0;
    char vals[16][64];
    int nv;
    for (int withhost = 1; withhost >= 0 && nc == 0; withhost--) {
        for (size_t i = 0; i < m->npats; i++) {
            const gn__mux_pat *p = m->pats[i];
            if (withhost ? (!p->hlen || !*host || strcmp(p->host, host) != 0) : p->hlen != 0)
                continue;
            if (!brute_method(p, method) || !brute_match(p, path, &exs[nc], vals, &nv)) continue;
            cand[nc++] = p;
        }
    }
    for (int i = 0; i < nc; i++) {
        int best = 1;
        for (int j = 0; j < nc && best; j++)
            best = i == j || gn__mux_rel(cand[i], cand[j]) == GN__REL_SPECIFIC;
        if (best) {
            *exact = exs[i];
            return cand[i];
        }
    }
    if (nc) g_ambiguous = 1;                          /* no single most specific  */
    *exact = 0;
    return NULL;
}

/* Random muxes against brute force: status, pattern, values, Location, Allow.   */
TEST tree_model(void) {
    static const char *methods[] = {"GET", "HEAD", "POST", "PUT"};
    static const char *pm[] = {"", "", "GET ", "HEAD ", "POST "};
    static const char *hosts[] = {"", "", "", "h.com"};
    int checked[4] = {0, 0, 0, 0};
    for (int round = 0; round < 300 / g_scale; round++) {
        gn_http_mux *m = gn_http_mux_new();
        int want_pats = 3 + (int)rnd(20);
        for (int k = 0; k < want_pats * 3 && (int)m->npats < want_pats; k++) {
            char pat[80], path[48];
            int wild = 0;
            random_path_pattern(path, &wild);
            const char *method = pm[rnd(5)], *host = hosts[rnd(4)];   /* in this order */
            snprintf(pat, sizeof pat, "%s%s%s", method, host, path);
            int rc = gn_http_mux_handle(m, pat, nop, NULL);
            ASSERT(rc == 0 || rc == GN_ECONFLICT);
        }
        for (int q = 0; q < 200; q++) {
            char path[32];
            size_t w = 0;
            int len = (int)rnd(5);
            for (int i = 0; i < len; i++) {
                path[w++] = '/';
                path[w++] = "abcd"[rnd(4)];
            }
            if (len == 0 || rnd(3) == 0) path[w++] = '/';
            path[w] = '\0';
            const char *method = methods[rnd(4)];
            static const char *rhosts[] = {"", "h.com", "H.COM:80", "x.com"};
            const char *rhost = rhosts[rnd(4)];
            /* The host as the mux should see it: port gone, lower case.              */
            const char *bhost = !*rhost ? "" : strcmp(rhost, "x.com") == 0 ? "x.com" : "h.com";
            int st = gn__mux_lookup(m, method, rhost, path, NULL, &R);
            /* Expected, by Go's rules.                                               */
            int ex;
            const gn__mux_pat *win = brute_winner(m, method, bhost, path, &ex);
            ASSERT(!g_ambiguous);
            int want = win ? 200 : 0;
            char slash[40];
            if ((!win || !ex) && path[w - 1] != '/') {
                int ex2;
                snprintf(slash, sizeof slash, "%s/", path);
                const gn__mux_pat *w2 = brute_winner(m, method, bhost, slash, &ex2);
                if (w2 && ex2) want = 301;
            }
            char allow[128] = "";
            if (!want) {
                static const char *all[] = {"GET", "HEAD", "POST"};   /* sorted         */
                for (int a = 0; a < 3; a++) {
                    int ok = 0;
                    for (size_t i = 0; i < m->npats && !ok; i++) {
                        const gn__mux_pat *p = m->pats[i];
                        char vals[16][64];
                        int nv, e2;
                        if (p->hlen && (!*bhost || strcmp(p->host, bhost) != 0)) continue;
                        if (!p->mlen) continue;
                        if (strcmp(p->method, all[a]) != 0 &&
                            !(a == 1 && strcmp(p->method, "GET") == 0))
                            continue;
                        snprintf(slash, sizeof slash, "%s/", path);
                        ok = brute_match(p, path, &e2, vals, &nv) ||
                             (path[w - 1] != '/' && brute_match(p, slash, &e2, vals, &nv));
                    }
                    if (ok) snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                                     *allow ? ", " : "", all[a]);
                }
                want = *allow ? 405 : 404;
            }
            if (st != want || (want == 200 && R.pattern != win->str) ||
                (want == 405 && strcmp(R.allow, allow) != 0)) {
                fprintf(stderr, "\n%s %s %s: got %d %s [%s], want %d %s [%s]; patterns:\n", method,
                        rhost, path, st, R.pattern, R.allow, want, win ? win->str : "", allow);
                for (size_t i = 0; i < m->npats; i++) fprintf(stderr, "  %s\n", m->pats[i]->str);
                gn_http_mux_free(m);
                FAIL();
            }
            if (want == 200) {
                char vals[16][64];
                int nv, e2;
                brute_match(win, path, &e2, vals, &nv);
                if (nv != R.nvals) {
                    fprintf(stderr, "\n%s %s %s -> %s: %d values, want %d\n", method, rhost, path,
                            win->str, R.nvals, nv);
                    for (size_t i = 0; i < m->npats; i++)
                        fprintf(stderr, "  %s\n", m->pats[i]->str);
                }
                EQI(nv, R.nvals);
                for (int i = 0; i < nv; i++) {
                    ASSERT_STR_EQ(win->names[i], R.vals[i].name);
                    ASSERT_STR_EQ(vals[i], R.vals[i].value);
                }
            }
            if (want == 301) {
                snprintf(slash, sizeof slash, "%s/", path);
                ASSERT_STR_EQ(slash, R.location);
            }
            checked[want == 200 ? 0 : want == 301 ? 1 : want == 405 ? 2 : 3]++;
        }
        gn_http_mux_free(m);
    }
    /* Every outcome was exercised.                                                  */
    for (int i = 0; i < 4; i++) ASSERT(checked[i] > 20);
    PASS();
}

SUITE(url_helpers) {
    RUN_TEST(unescape_path_mode);
    RUN_TEST(unescape_query_mode);
    RUN_TEST(unescape_malformed);
    RUN_TEST(unescape_sizes_and_in_place);
    RUN_TEST(path_clean_table);
    RUN_TEST(path_clean_buffers);
    RUN_TEST(path_is_clean_model);
    RUN_TEST(query_basic);
    RUN_TEST(query_decoding);
    RUN_TEST(query_missing_and_empty);
    RUN_TEST(query_malformed_pairs_skipped);
    RUN_TEST(query_buffer_size);
}

SUITE(mux_patterns) {
    RUN_TEST(parse_fields);
    RUN_TEST(invalid_pattern_syntax);
    RUN_TEST(invalid_pattern_wildcards);
    RUN_TEST(invalid_pattern_method);
    RUN_TEST(too_many_wildcards);
    RUN_TEST(valid_patterns);
    RUN_TEST(handle_bad_arguments);
}

SUITE(mux_conflicts) {
    RUN_TEST(conflict_crossing_wildcards);
    RUN_TEST(conflict_blog_posts);
    RUN_TEST(conflict_example_avoids_literal);
    RUN_TEST(conflict_identical);
    RUN_TEST(conflict_docs_get_root);
    RUN_TEST(conflict_head_and_get);
    RUN_TEST(conflict_same_host_any_case);
    RUN_TEST(conflict_trailing_wildcards);
    RUN_TEST(no_conflicts);
    RUN_TEST(conflict_leaves_mux_intact);
}

SUITE(mux_lookup) {
    RUN_TEST(docs_images_subtrees);
    RUN_TEST(blog_posts);
    RUN_TEST(docs_bucket_object);
    RUN_TEST(end_of_path_dollar);
    RUN_TEST(host_patterns);
    RUN_TEST(host_port_stripping);
    RUN_TEST(get_serves_head);
    RUN_TEST(method_precedence_over_any);
    RUN_TEST(not_found);
    RUN_TEST(method_not_allowed_allow_list);
    RUN_TEST(method_not_allowed_head_only);
    RUN_TEST(method_not_allowed_via_slash);
    RUN_TEST(method_not_allowed_with_host);
    RUN_TEST(redirect_unclean_paths);
    RUN_TEST(redirect_to_subtree);
    RUN_TEST(values_decoded);
    RUN_TEST(literal_patterns_unescaped);
    RUN_TEST(backtracking);
    RUN_TEST(wildcard_then_multi);
    RUN_TEST(connect_not_cleaned);
    RUN_TEST(scratch_overflow);
    RUN_TEST(scratch_overflow_redirect);
    RUN_TEST(lookup_bad_arguments);
    RUN_TEST(fifty_routes);
    RUN_TEST(lookups_allocate_nothing);
    RUN_TEST(free_returns_everything);
}

SUITE(mux_models) {
    RUN_TEST(relation_model);
    RUN_TEST(tree_model);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    (void)run_procs;                   /* test_util.h's; no runtime needed here    */
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(url_helpers);
    RUN_SUITE(mux_patterns);
    RUN_SUITE(mux_conflicts);
    RUN_SUITE(mux_lookup);
    RUN_SUITE(mux_models);
    GREATEST_MAIN_END();
}
