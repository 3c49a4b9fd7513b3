/* test_http_parse.c — the HTTP/1.1 head parser and the chunked decoder, with no
 * sockets: heads checked field by field, every rejection with its status, the
 * same input cut at every point and fed a byte at a time (with a count of the
 * bytes the parser looks at, to keep trickled heads linear), random mutations
 * that must parse alike however they are split, and chunked bodies decoded in
 * every piece size. */
static unsigned long long g_scanned;
#define GN__HTTP_SCANNED(n) (g_scanned += (unsigned long long)(n))
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"

#include <stdio.h>

#undef EQI
#define EQI(exp, got) do {                                                         \
        long long eqi_exp_ = (long long)(exp), eqi_got_ = (long long)(got);        \
        ASSERT_EQ_FMT(eqi_exp_, eqi_got_, "%lld");                                 \
    } while (0)

/* A span (ptr, len) equal to the C string exp.                                  */
#define SPAN(exp, p, n) do {                                                       \
        const char *span_e_ = (exp);                                               \
        ASSERT((p) != NULL);                                                       \
        EQI(strlen(span_e_), (n));                                                 \
        ASSERT_MEM_EQ(span_e_, (p), strlen(span_e_));                              \
    } while (0)
/* ... and NUL-terminated in place.                                             */
#define CSTR(exp, p, n) do {                                                       \
        SPAN(exp, p, n);                                                           \
        ASSERT_STR_EQ((exp), (p));                                                 \
    } while (0)
#define HDR(i, n, v) do {                                                          \
        ASSERT((size_t)(i) < g_h.nhdrs);                                           \
        CSTR(n, g_h.hdrs[i].name, g_h.hdrs[i].name_len);                           \
        CSTR(v, g_h.hdrs[i].value, g_h.hdrs[i].value_len);                         \
    } while (0)

#define MAXH 64
static char g_buf[1 << 18];
static char g_copy[1 << 18];
static gn_http_header g_hdrs[MAXH];
static gn__http_head g_h;
static char g_msg[512];

static int parse(int response, char *buf, size_t len, size_t prev, size_t max_hdrs,
                 size_t max_head) {
    return response ? gn__http_parse_response(buf, len, prev, &g_h, g_hdrs, max_hdrs, max_head)
                    : gn__http_parse_request(buf, len, prev, &g_h, g_hdrs, max_hdrs, max_head);
}

static int req_lim(const char *s, size_t n, size_t max_hdrs, size_t max_head) {
    memcpy(g_buf, s, n);
    return parse(0, g_buf, n, 0, max_hdrs, max_head);
}
static int req(const char *s) { return req_lim(s, strlen(s), MAXH, 8192); }
static int resp(const char *s) {
    size_t n = strlen(s);
    memcpy(g_buf, s, n);
    return parse(1, g_buf, n, 0, MAXH, 8192);
}

/* A canonical text for a parsed head, to compare parses of one input.         */
static char g_desc[16384];
static size_t g_o;
static void add(const char *fmt, long long v) {
    g_o += (size_t)snprintf(g_desc + g_o, sizeof g_desc - g_o, fmt, v);
    if (g_o >= sizeof g_desc) g_o = sizeof g_desc - 1;
}
static void add_span(const char *p, size_t n) {
    if (!p) {
        add("(null)%c", '|');
        return;
    }
    g_o += (size_t)snprintf(g_desc + g_o, sizeof g_desc - g_o, "%.*s|", (int)n, p);
    if (g_o >= sizeof g_desc) g_o = sizeof g_desc - 1;
}
static const char *describe(const gn__http_head *h, int response) {
    g_o = 0;
    if (response) {
        add("%lld|", h->status);
        add_span(h->reason, h->reason_len);
    } else {
        add_span(h->method, h->method_len);
        add_span(h->target, h->target_len);
        add("%lld|", h->form);
        add_span(h->authority, h->authority_len);
        add_span(h->path, h->path_len);
        add_span(h->query, h->query_len);
        add_span(h->host, h->host_len);
        add("%lld|", h->expect_continue);
    }
    add("%lld|", h->minor);
    add("%lld|", h->content_length);
    add("%lld|", h->chunked);
    add("%lld|", h->keep_alive);
    add("%lld|", h->upgrade);
    add("%lld|", (long long)h->head_len);
    add("%lld|", (long long)h->nhdrs);
    for (size_t i = 0; i < h->nhdrs; i++) {
        add_span(h->hdrs[i].name, h->hdrs[i].name_len);
        add_span(h->hdrs[i].value, h->hdrs[i].value_len);
    }
    return g_desc;
}

static void show_input(const char *what, const char *s, size_t n) {
    size_t o = (size_t)snprintf(g_msg, sizeof g_msg, "%s: \"", what);
    for (size_t i = 0; i < n && o + 8 < sizeof g_msg; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') g_msg[o++] = (char)c;
        else o += (size_t)snprintf(g_msg + o, sizeof g_msg - o, "\\x%02x", c);
    }
    snprintf(g_msg + o, sizeof g_msg - o, "\"");
}

/* Parses s[0, n) whole, then a byte at a time (prev_len = what the last call
 * saw), then in two pieces at every cut: the answer must be `want` every time,
 * and 0 before the input ends in the incremental runs, with the buffer unchanged
 * by every call that returned 0. For want > 0, the heads must be identical.    */
static enum greatest_test_res splits(int response, const char *s, size_t n, int want,
                                     size_t max_hdrs, size_t max_head) {
    static char whole[sizeof g_desc];
    memcpy(g_buf, s, n);
    int r = parse(response, g_buf, n, 0, max_hdrs, max_head);
    if (r != want) {
        show_input("whole", s, n);
        fprintf(stderr, "want %d got %d\n", want, r);
        FAILm(g_msg);
    }
    if (want > 0) strcpy(whole, describe(&g_h, response));

    memcpy(g_buf, s, n);
    r = 0;
    size_t k;
    for (k = 1; k <= n && r == 0; k++) {
        r = parse(response, g_buf, k, k - 1, max_hdrs, max_head);
        if (r == 0 && memcmp(g_buf, s, n) != 0) {
            show_input("buffer changed by an incomplete parse", s, n);
            FAILm(g_msg);
        }
    }
    if (r != want || (want > 0 && k - 1 != (size_t)want)) {
        show_input("byte at a time", s, n);
        fprintf(stderr, "want %d got %d at %zu\n", want, r, k - 1);
        FAILm(g_msg);
    }
    if (want > 0 && strcmp(whole, describe(&g_h, response)) != 0) {
        show_input("byte at a time differs", s, n);
        FAILm(g_msg);
    }

    for (k = 0; k < n; k++) {
        memcpy(g_buf, s, n);
        r = parse(response, g_buf, k, 0, max_hdrs, max_head);
        if (r != 0) {
            if (r == want) continue;  /* an error already decided by the first piece */
            show_input("first piece", s, n);
            fprintf(stderr, "cut %zu: want 0 or %d got %d\n", k, want, r);
            FAILm(g_msg);
        }
        r = parse(response, g_buf, n, k, max_hdrs, max_head);
        if (r != want || (want > 0 && strcmp(whole, describe(&g_h, response)) != 0)) {
            show_input("second piece", s, n);
            fprintf(stderr, "cut %zu: want %d got %d\n", k, want, r);
            FAILm(g_msg);
        }
    }
    memcpy(g_buf, s, n);
    parse(response, g_buf, n, 0, max_hdrs, max_head);  /* leave g_h for the caller */
    PASS();
}

#define REQ_IS(s, want) CHECK_CALL(splits(0, (s), sizeof(s) - 1, (want), MAXH, 8192))
#define RESP_IS(s, want) CHECK_CALL(splits(1, (s), sizeof(s) - 1, (want), MAXH, 8192))
#define REQ_OK(s) REQ_IS(s, (int)(sizeof(s) - 1))
#define RESP_OK(s) RESP_IS(s, (int)(sizeof(s) - 1))

static const char SAMPLE[] =
    "GET /index.html?q=1 HTTP/1.1\r\n"
    "Host: example.com\r\n"
    "User-Agent: gonet-test/1.0\r\n"
    "Accept: */*\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: a=b; c=d\r\n"
    "\r\n";

/* ---- requests: what a valid head gives ------------------------------------------ */

TEST simple_get(void) {
    EQI(sizeof SAMPLE - 1, req(SAMPLE));
    CSTR("GET", g_h.method, g_h.method_len);
    CSTR("/index.html?q=1", g_h.target, g_h.target_len);
    EQI(GN__HTTP_FORM_ORIGIN, g_h.form);
    ASSERT(g_h.authority == NULL);
    SPAN("/index.html", g_h.path, g_h.path_len);
    ASSERT_STR_EQ("/index.html?q=1", g_h.path);
    CSTR("q=1", g_h.query, g_h.query_len);
    EQI(1, g_h.minor);
    EQI(6, g_h.nhdrs);
    HDR(0, "Host", "example.com");
    HDR(1, "User-Agent", "gonet-test/1.0");
    HDR(2, "Accept", "*/*");
    HDR(3, "Accept-Encoding", "gzip, deflate");
    HDR(4, "Connection", "keep-alive");
    HDR(5, "Cookie", "a=b; c=d");
    CSTR("example.com", g_h.host, g_h.host_len);
    EQI(-1, g_h.content_length);
    EQI(0, g_h.chunked);
    EQI(1, g_h.keep_alive);
    EQI(0, g_h.expect_continue);
    EQI(0, g_h.upgrade);
    EQI(sizeof SAMPLE - 1, g_h.head_len);
    ASSERT(g_h.hdrs == g_hdrs);
    PASS();
}

TEST minimal_requests(void) {
    REQ_OK("GET / HTTP/1.0\r\n\r\n");
    CSTR("/", g_h.path, g_h.path_len);
    ASSERT(g_h.query == NULL);
    ASSERT(g_h.host == NULL);
    EQI(0, g_h.nhdrs);
    EQI(0, g_h.minor);
    REQ_OK("GET /? HTTP/1.1\r\nHost: h\r\n\r\n");
    SPAN("/", g_h.path, g_h.path_len);
    CSTR("", g_h.query, g_h.query_len);
    REQ_OK("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n");   /* any token: the handler says 405 */
    CSTR("BREW", g_h.method, g_h.method_len);
    REQ_OK("get / HTTP/1.1\r\nHost: h\r\n\r\n");       /* methods are case-sensitive tokens */
    CSTR("get", g_h.method, g_h.method_len);
    PASS();
}

TEST headers_ows(void) {
    REQ_OK("GET / HTTP/1.1\r\nHost:h\r\nA:   spaced   \r\nB:\t\ttabs\t \t\r\n"
           "C: in  side \t x\r\nD:\r\nE:   \r\nF: \xc3\xa9t\xe9\r\n\r\n");
    HDR(0, "Host", "h");
    HDR(1, "A", "spaced");
    HDR(2, "B", "tabs");
    HDR(3, "C", "in  side \t x");
    HDR(4, "D", "");
    HDR(5, "E", "");
    HDR(6, "F", "\xc3\xa9t\xe9");  /* obs-text is allowed in values */
    PASS();
}

TEST header_name_bytes(void) {
    REQ_OK("GET / HTTP/1.1\r\nHost: h\r\nX-!#$%&'*+-.^_`|~09az: v\r\n\r\n");
    HDR(1, "X-!#$%&'*+-.^_`|~09az", "v");
    PASS();
}

TEST repeated_headers_in_order(void) {
    REQ_OK("GET / HTTP/1.1\r\nAccept: a\r\nHost: h\r\naccept: b\r\nX: 1\r\nACCEPT: c\r\n\r\n");
    EQI(5, g_h.nhdrs);
    const gn_http_header *f = gn__http_find(&g_h, "Accept");
    ASSERT(f == &g_hdrs[0]);
    ASSERT_STR_EQ("a", f->value);
    f = gn__http_find_next(&g_h, f, "accept");
    ASSERT(f == &g_hdrs[2]);
    ASSERT_STR_EQ("b", f->value);
    f = gn__http_find_next(&g_h, f, "ACCEPT");
    ASSERT(f == &g_hdrs[4]);
    ASSERT_STR_EQ("c", f->value);
    ASSERT(gn__http_find_next(&g_h, f, "Accept") == NULL);
    PASS();
}

TEST lookup_case_insensitive(void) {
    REQ_OK("GET / HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nX-^: caret\r\n\r\n");
    const gn_http_header *f = gn__http_find(&g_h, "content-TYPE");
    ASSERT(f != NULL);
    ASSERT_STR_EQ("text/plain", f->value);
    ASSERT(gn__http_find(&g_h, "HOST") == &g_hdrs[0]);
    ASSERT(gn__http_find(&g_h, "Content-Typ") == NULL);
    ASSERT(gn__http_find(&g_h, "Content-Types") == NULL);
    ASSERT(gn__http_find(&g_h, "X-^") == &g_hdrs[2]);
    ASSERT(gn__http_find(&g_h, "X-~") == NULL);  /* '^' | 0x20 == '~': no such folding */
    ASSERT(gn__http_find(&g_h, "") == NULL);
    PASS();
}

TEST nul_terminated_in_place(void) {
    static const char s[] = "POST /up?x=1 HTTP/1.1\r\nHost: h \r\nContent-Length: 3\r\n\r\nabc";
    EQI(sizeof s - 4, req(s));
    EQI(strlen(g_h.method), g_h.method_len);
    EQI(strlen(g_h.target), g_h.target_len);
    for (size_t i = 0; i < g_h.nhdrs; i++) {
        EQI(strlen(g_h.hdrs[i].name), g_h.hdrs[i].name_len);
        EQI(strlen(g_h.hdrs[i].value), g_h.hdrs[i].value_len);
    }
    ASSERT_MEM_EQ("abc", g_buf + g_h.head_len, 3);  /* the body is untouched */
    EQI(3, g_h.content_length);
    PASS();
}

TEST pipelined_requests(void) {
    static const char s[] = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c";
    size_t n = sizeof s - 1;
    memcpy(g_buf, s, n);
    int r = parse(0, g_buf, n, 0, MAXH, 8192);
    EQI(28, r);
    ASSERT_STR_EQ("/a", g_h.target);
    ASSERT_MEM_EQ(s + 28, g_buf + 28, n - 28);
    int r2 = parse(0, g_buf + r, n - (size_t)r, 0, MAXH, 8192);
    EQI(28, r2);
    ASSERT_STR_EQ("/b", g_h.target);
    EQI(0, parse(0, g_buf + r + r2, n - (size_t)(r + r2), 0, MAXH, 8192));
    PASS();
}

TEST bare_lf_line_ends(void) {
    REQ_OK("GET / HTTP/1.1\nHost: h\nX: y\n\n");
    HDR(0, "Host", "h");
    HDR(1, "X", "y");
    REQ_OK("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\n");
    EQI(2, g_h.nhdrs);
    REQ_OK("GET / HTTP/1.1\nHost: h\n\r\n");
    PASS();
}

TEST leading_empty_lines(void) {
    REQ_OK("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_STR_EQ("GET", g_h.method);
    REQ_OK("\n\r\n\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    REQ_IS("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("\r\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS(" \r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    EQI(0, req("\r\n"));
    EQI(0, req("\r\n\r"));
    PASS();
}

/* ---- requests: targets ------------------------------------------------------------- */

TEST absolute_form(void) {
    REQ_OK("GET http://example.com:8080/a/b?x=1&y HTTP/1.1\r\nHost: other.org\r\n\r\n");
    EQI(GN__HTTP_FORM_ABSOLUTE, g_h.form);
    CSTR("http://example.com:8080/a/b?x=1&y", g_h.target, g_h.target_len);
    SPAN("example.com:8080", g_h.authority, g_h.authority_len);
    SPAN("/a/b", g_h.path, g_h.path_len);
    ASSERT_STR_EQ("/a/b?x=1&y", g_h.path);
    CSTR("x=1&y", g_h.query, g_h.query_len);
    SPAN("example.com:8080", g_h.host, g_h.host_len);  /* the authority wins over Host */
    HDR(0, "Host", "other.org");
    REQ_OK("GET HTTPS://[::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n");
    SPAN("[::1]:443", g_h.authority, g_h.authority_len);
    CSTR("", g_h.path, g_h.path_len);  /* an empty path: "/" */
    ASSERT(g_h.query == NULL);
    REQ_OK("GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n");
    SPAN("h", g_h.authority, g_h.authority_len);
    EQI(0, g_h.path_len);
    CSTR("q", g_h.query, g_h.query_len);
    REQ_OK("GET coap+tcp.x-y://h/ HTTP/1.0\r\n\r\n");
    SPAN("h", g_h.host, g_h.host_len);
    PASS();
}

TEST absolute_form_rejects(void) {
    REQ_IS("GET http://user@h/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);    /* userinfo  */
    REQ_IS("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", -400);         /* no host   */
    REQ_IS("GET http://:80/x HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET http:/h/x HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET 1http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET http://h:8x/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET http://h:1:2/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET http://[::1/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET http://[]/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", -400);        /* no '/'    */
    REQ_IS("GET h:80 HTTP/1.1\r\nHost: h\r\n\r\n", -400);   /* authority-form, not CONNECT */
    PASS();
}

TEST authority_form_connect(void) {
    REQ_OK("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    EQI(GN__HTTP_FORM_AUTHORITY, g_h.form);
    CSTR("example.com:443", g_h.authority, g_h.authority_len);
    CSTR("example.com:443", g_h.host, g_h.host_len);
    EQI(0, g_h.path_len);
    REQ_OK("CONNECT [2001:db8::1]:8443 HTTP/1.1\r\nHost: x\r\n\r\n");
    SPAN("[2001:db8::1]:8443", g_h.host, g_h.host_len);
    REQ_OK("CONNECT /_goRPC_ HTTP/1.0\r\n\r\n");  /* Go's net/rpc */
    EQI(GN__HTTP_FORM_ORIGIN, g_h.form);
    REQ_IS("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n", -400);     /* no port */
    REQ_IS("CONNECT example.com: HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("CONNECT :443 HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("CONNECT [::1] HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("CONNECT u@h:443 HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("CONNECT http://h:443 HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    PASS();
}

TEST asterisk_form(void) {
    REQ_OK("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    EQI(GN__HTTP_FORM_ASTERISK, g_h.form);
    CSTR("*", g_h.target, g_h.target_len);
    SPAN("*", g_h.path, g_h.path_len);
    REQ_IS("GET * HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("OPTIONS ** HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_OK("OPTIONS /x HTTP/1.1\r\nHost: h\r\n\r\n");
    PASS();
}

TEST target_bytes(void) {
    REQ_OK("GET /a%20b/!$&'()*+,;=:@-._~?q=/?#{}|^`\"<> HTTP/1.1\r\nHost: h\r\n\r\n");
    static const char nul[] = "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n";
    CHECK_CALL(splits(0, nul, sizeof nul - 1, -400, MAXH, 8192));
    REQ_IS("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET /\x80 HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    PASS();
}

TEST method_rejects(void) {
    REQ_IS(" / HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("G@T / HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GE(T / HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET\r\n\r\n", -400);
    REQ_IS("GET /\r\n\r\n", -400);  /* HTTP/0.9's simple request */
    PASS();
}

TEST versions(void) {
    REQ_IS("GET / HTTP/2.0\r\nHost: h\r\n\r\n", -505);
    REQ_IS("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", -505);
    REQ_IS("GET / HTTP/0.9\r\nHost: h\r\n\r\n", -505);
    REQ_IS("GET / HTTP/1.2\r\nHost: h\r\n\r\n", -505);
    REQ_IS("GET / HTTP/3.1\r\nHost: h\r\n\r\n", -505);
    REQ_IS("GET / HTTP/1.10\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET / http/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.x\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET / HTTP/11\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET / HTP/1.1\r\nHost: h\r\n\r\n", -400);
    PASS();
}

/* ---- requests: keep-alive, Connection, Expect, Host --------------------------------- */

TEST keep_alive_rules(void) {
    REQ_OK("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    EQI(1, g_h.keep_alive);
    REQ_OK("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    EQI(0, g_h.keep_alive);
    REQ_OK("GET / HTTP/1.0\r\n\r\n");
    EQI(0, g_h.keep_alive);
    REQ_OK("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EQI(1, g_h.keep_alive);
    REQ_OK("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    EQI(1, g_h.keep_alive);
    REQ_OK("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n");
    EQI(0, g_h.keep_alive);
    REQ_OK("GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n");
    EQI(0, g_h.keep_alive);
    REQ_OK("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\nConnection: ,CLOSE ,\r\n\r\n");
    EQI(0, g_h.keep_alive);
    REQ_OK("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n");
    EQI(1, g_h.keep_alive);
    PASS();
}

TEST connection_upgrade(void) {
    REQ_OK("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n");
    EQI(1, g_h.upgrade);
    EQI(1, g_h.keep_alive);
    ASSERT_STR_EQ("websocket", gn__http_find(&g_h, "upgrade")->value);
    REQ_OK("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n");
    EQI(0, g_h.upgrade);
    PASS();
}

TEST expect_continue(void) {
    REQ_OK("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n");
    EQI(1, g_h.expect_continue);
    REQ_OK("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n");
    EQI(1, g_h.expect_continue);
    REQ_OK("PUT /f HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");   /* ignored on 1.0 */
    EQI(0, g_h.expect_continue);
    REQ_OK("PUT /f HTTP/1.1\r\nHost: h\r\nExpect:\r\n\r\n");     /* empty: ignored */
    EQI(0, g_h.expect_continue);
    REQ_IS("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue-x\r\n\r\n", -417);
    REQ_IS("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: foo\r\n\r\n", -417);
    REQ_IS("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue, foo\r\n\r\n", -417);
    REQ_IS("PUT /f HTTP/1.0\r\nExpect: 200-ok\r\n\r\n", -417);
    PASS();
}

TEST host_rules(void) {
    REQ_IS("GET / HTTP/1.1\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nX: y\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", -400);
    REQ_IS("GET http://h/ HTTP/1.1\r\n\r\n", -400);  /* still required with absolute-form */
    REQ_OK("GET / HTTP/1.1\r\nHost:\r\n\r\n");       /* empty: allowed (RFC 9112 §3.2) */
    CSTR("", g_h.host, g_h.host_len);
    REQ_OK("GET / HTTP/1.1\r\nHOST: Example.COM:8080\r\n\r\n");
    CSTR("Example.COM:8080", g_h.host, g_h.host_len);
    REQ_OK("GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]:80\r\n\r\n");
    REQ_OK("GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n");
    REQ_OK("GET / HTTP/1.1\r\nHost: h:\r\n\r\n");
    REQ_IS("GET / HTTP/1.1\r\nHost: exa mple.com\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: user@h\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h/x\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h:80x\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h:80:90\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\xc3\xa9\r\n\r\n", -400);
    PASS();
}

/* ---- requests: framing --------------------------------------------------------------- */

TEST content_length_ok(void) {
    REQ_OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n");
    EQI(42, g_h.content_length);
    EQI(0, g_h.chunked);
    REQ_OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    EQI(0, g_h.content_length);
    REQ_OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n");
    EQI(7, g_h.content_length);
    REQ_OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n");
    EQI(INT64_MAX, g_h.content_length);
    REQ_OK("POST / HTTP/1.1\r\nHost: h\r\ncontent-length:\t 5 \t\r\n\r\n");
    EQI(5, g_h.content_length);
    PASS();
}

TEST content_length_identical_repeats(void) {
    REQ_OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
    EQI(5, g_h.content_length);
    REQ_OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5,5\r\n\r\n");
    EQI(5, g_h.content_length);
    REQ_OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\n");
    EQI(5, g_h.content_length);
    PASS();
}

TEST content_length_rejects(void) {
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5 5\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1e3\r\n\r\n", -400);
    PASS();
}

TEST chunked_request(void) {
    REQ_OK("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    EQI(1, g_h.chunked);
    EQI(-1, g_h.content_length);
    REQ_OK("POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding:   CHUNKED  \r\n\r\n");
    EQI(1, g_h.chunked);
    PASS();
}

TEST cl_with_te(void) {
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", -400);
    PASS();
}

TEST te_codings(void) {
    /* chunked not final: the length cannot be known (RFC 9112 §6.3): 400 */
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", -400);
    /* chunked twice, or an empty coding: 400 */
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,chunked\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", -400);
    /* chunked final after codings we do not implement: 501 */
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -501);
    REQ_IS("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", -501);
    PASS();
}

TEST te_on_http10(void) {
    REQ_IS("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400);
    REQ_IS("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", -400);
    PASS();
}

/* ---- requests: line syntax --------------------------------------------------------------- */

TEST obs_fold(void) {
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  folded\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tfolded\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\n Host: h\r\n\r\n", -400);  /* whitespace before the first field */
    PASS();
}

TEST bare_cr(void) {
    REQ_IS("GET / HTTP/1.1\rHost: h\r\n\r\n", -400);
    REQ_IS("GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX: ab\r\r\n\r\n", -400);   /* at a line end */
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX\r: ab\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", -400);             /* in the blank line */
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\n\rX\r\n\r\n", -400);
    PASS();
}

TEST ctl_in_value(void) {
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01" "b\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX: \x1b[0m\r\n\r\n", -400);
    static const char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
    CHECK_CALL(splits(0, nul, sizeof nul - 1, -400, MAXH, 8192));
    REQ_OK("GET / HTTP/1.1\r\nHost: h\r\nX: a\tb\r\n\r\n");
    HDR(1, "X", "a\tb");
    PASS();
}

TEST field_name_rejects(void) {
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX : y\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost : h\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX\t: y\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\n: y\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nno colon\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nnocolon\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX(y): z\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\nX/y: z\r\n\r\n", -400);
    REQ_IS("GET / HTTP/1.1\r\nHost: h\r\n\xc3\xa9: z\r\n\r\n", -400);
    PASS();
}

TEST error_before_head_is_complete(void) {
    /* A bad line is refused when it ends, without waiting for the blank line. */
    EQI(-400, req("GET / HTTP/1.1\r\nHost: h\r\nX : y\r\n"));
    EQI(-505, req("GET / HTTP/2.0\r\n"));
    EQI(0, req("GET / HTTP/1.1\r\nHost: h\r\nX : y"));  /* not a whole line yet */
    static const char s[] = "GET / HTTP/1.1\r\nHost: h\r\nX: \x01\r\n";
    memcpy(g_buf, s, sizeof s - 1);
    EQI(0, parse(0, g_buf, 15, 0, MAXH, 8192));
    EQI(0, parse(0, g_buf, 29, 15, MAXH, 8192));
    EQI(-400, parse(0, g_buf, sizeof s - 1, 29, MAXH, 8192));
    PASS();
}

/* ---- requests: limits ------------------------------------------------------------------ */

TEST too_large_431(void) {
    size_t n = sizeof SAMPLE - 1;
    EQI(n, req_lim(SAMPLE, n, MAXH, n));            /* exactly the limit */
    EQI(-431, req_lim(SAMPLE, n, MAXH, n - 1));     /* complete, one byte over */
    EQI(-431, req_lim(SAMPLE, n - 5, MAXH, n - 5)); /* incomplete, at the limit */
    EQI(0, req_lim(SAMPLE, n - 6, MAXH, n - 5));
    CHECK_CALL(splits(0, SAMPLE, n, -431, MAXH, n - 1));
    CHECK_CALL(splits(0, SAMPLE, n, (int)n, MAXH, n));
    /* a flood with no line end */
    static char big[20000];
    memcpy(big, "GET /", 5);
    memset(big + 5, 'a', sizeof big - 5);
    EQI(-431, req_lim(big, sizeof big, MAXH, 8192));
    EQI(0, req_lim(big, 8191, MAXH, 8192));
    PASS();
}

TEST too_many_headers_431(void) {
    size_t n = sizeof SAMPLE - 1;
    CHECK_CALL(splits(0, SAMPLE, n, (int)n, 6, 8192));
    CHECK_CALL(splits(0, SAMPLE, n, -431, 5, 8192));
    CHECK_CALL(splits(0, SAMPLE, n, -431, 0, 8192));
    static const char s[] = "GET / HTTP/1.0\r\n\r\n";
    CHECK_CALL(splits(0, s, sizeof s - 1, (int)sizeof s - 1, 0, 8192));
    memcpy(g_buf, s, sizeof s - 1);
    EQI(sizeof s - 1, gn__http_parse_request(g_buf, sizeof s - 1, 0, &g_h, NULL, 0, 8192));
    /* a syntax error after the cap is still a 400, however the bytes arrive */
    static const char t[] = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC : 3\r\n\r\n";
    CHECK_CALL(splits(0, t, sizeof t - 1, -400, 2, 8192));
    PASS();
}

TEST default_limit(void) {
    static char big[GN__HTTP_MAX_HEAD_DEFAULT + 100];
    size_t n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    memset(big + n, 'v', sizeof big - n);
    EQI(-431, gn__http_parse_request(big, sizeof big, 0, &g_h, g_hdrs, MAXH, 0));
    n = (size_t)snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    memset(big + n, 'v', 40000);
    memcpy(big + n + 40000, "\r\n\r\n", 4);
    EQI(n + 40004, gn__http_parse_request(big, n + 40004, 0, &g_h, g_hdrs, MAXH, 0));
    EQI(40000, g_h.hdrs[1].value_len);
    PASS();
}

TEST bad_arguments(void) {
    EQI(GN_EINVAL, gn__http_parse_request(NULL, 0, 0, &g_h, g_hdrs, MAXH, 0));
    EQI(GN_EINVAL, gn__http_parse_request(g_buf, 0, 0, NULL, g_hdrs, MAXH, 0));
    EQI(GN_EINVAL, gn__http_parse_request(g_buf, 0, 0, &g_h, NULL, 3, 0));
    EQI(GN_EINVAL, gn__http_parse_response(NULL, 0, 0, &g_h, g_hdrs, MAXH, 0));
    EQI(0, gn__http_parse_request(g_buf, 0, 0, &g_h, g_hdrs, MAXH, 0));
    /* a prev_len past len is taken as len */
    memcpy(g_buf, SAMPLE, sizeof SAMPLE - 1);
    EQI(0, gn__http_parse_request(g_buf, 20, 100000, &g_h, g_hdrs, MAXH, 0));
    EQI(sizeof SAMPLE - 1, gn__http_parse_request(g_buf, sizeof SAMPLE - 1, 20, &g_h, g_hdrs, MAXH, 0));
    PASS();
}

/* ---- requests: splits and linear resume ------------------------------------------------- */

TEST every_split_of_sample(void) {
    size_t n = sizeof SAMPLE - 1;
    CHECK_CALL(splits(0, SAMPLE, n, (int)n, MAXH, 8192));
    /* prefixes parsed from scratch: 0 until the last byte */
    for (size_t k = 0; k < n; k++) {
        memcpy(g_buf, SAMPLE, n);
        EQI(0, parse(0, g_buf, k, 0, MAXH, 8192));
        ASSERT_MEM_EQ(SAMPLE, g_buf, n);
    }
    /* and with a pipelined request behind it, the same head */
    static char two[1024];
    memcpy(two, SAMPLE, n);
    memcpy(two + n, SAMPLE, n);
    CHECK_CALL(splits(0, two, 2 * n, (int)n, MAXH, 8192));
    PASS();
}

/* Feeds s a byte at a time; returns the bytes the parser examined.             */
static unsigned long long trickle(const char *s, size_t n, int response, int *res) {
    memcpy(g_buf, s, n);
    g_scanned = 0;
    int r = 0;
    for (size_t k = 1; k <= n && r == 0; k++) r = parse(response, g_buf, k, k - 1, MAXH, 1 << 20);
    *res = r;
    return g_scanned;
}

TEST byte_at_a_time_is_linear(void) {
    int r;
    size_t n = sizeof SAMPLE - 1;
    unsigned long long sc = trickle(SAMPLE, n, 0, &r);
    EQI(n, r);
    ASSERT_STR_EQ("example.com", g_h.host);
    ASSERT(sc <= 4 * n);
    /* 60 fields of 100 bytes */
    static char big[16384];
    size_t o = (size_t)snprintf(big, sizeof big, "POST /x HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < 60; i++) {
        o += (size_t)snprintf(big + o, sizeof big - o, "X-Field-%02d: ", i);
        memset(big + o, 'a' + i % 26, 84);
        o += 84;
        memcpy(big + o, "\r\n", 2);
        o += 2;
    }
    memcpy(big + o, "\r\n", 2);
    o += 2;
    sc = trickle(big, o, 0, &r);
    EQI(o, r);
    EQI(61, g_h.nhdrs);
    ASSERT(sc <= 4 * o);
    /* one 100 KB value */
    static char huge[110000];
    o = (size_t)snprintf(huge, sizeof huge, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    memset(huge + o, 'v', 100000);
    o += 100000;
    memcpy(huge + o, "\r\n\r\n", 4);
    o += 4;
    sc = trickle(huge, o, 0, &r);
    EQI(o, r);
    EQI(100000, g_h.hdrs[1].value_len);
    ASSERT(sc <= 4 * o);
    /* and in one call, one pass and a bit */
    memcpy(g_buf, huge, o);
    g_scanned = 0;
    EQI(o, parse(0, g_buf, o, 0, MAXH, 1 << 20));
    ASSERT(g_scanned <= o + 8);
    PASS();
}

/* Random mutations of valid heads: whatever the verdict, every split agrees.   */
static unsigned g_seed = 12345;
static unsigned rnd(void) {
    g_seed = g_seed * 1103515245u + 12345u;
    return (g_seed >> 16) & 0x7fff;
}

static enum greatest_test_res mutate_and_split(int response, const char *base, size_t n, int rounds) {
    static const char alphabet[] = "\r\n :\t,\x01\x80;\"0aZ/?*-";
    static char m[2048];
    for (int i = 0; i < rounds; i++) {
        memcpy(m, base, n);
        size_t len = n;
        int edits = 1 + (int)(rnd() % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = rnd() % len;
            char c = alphabet[rnd() % (sizeof alphabet - 1)];
            switch (rnd() % 3) {
            case 0: m[at] = c; break;
            case 1:
                if (len + 1 < sizeof m) {
                    memmove(m + at + 1, m + at, len - at);
                    m[at] = c;
                    len++;
                }
                break;
            default:
                if (len > 1) {
                    memmove(m + at, m + at + 1, len - at - 1);
                    len--;
                }
                break;
            }
        }
        memcpy(g_copy, m, len);
        int want = parse(response, g_copy, len, 0, 8, 512);
        CHECK_CALL(splits(response, m, len, want, 8, 512));
    }
    PASS();
}

TEST mutations_split_alike(void) {
    int rounds = 3000 / g_scale;
    CHECK_CALL(mutate_and_split(0, SAMPLE, sizeof SAMPLE - 1, rounds));
    static const char post[] = "POST http://h:1/x?y HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                               "Expect: 100-continue\r\nConnection: close\r\n\r\n";
    CHECK_CALL(mutate_and_split(0, post, sizeof post - 1, rounds));
    static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: keep-alive\r\n\r\n";
    CHECK_CALL(mutate_and_split(1, rsp, sizeof rsp - 1, rounds));
    PASS();
}

/* ---- responses ------------------------------------------------------------------------- */

TEST response_simple(void) {
    static const char s[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    EQI(sizeof s - 6, resp(s));
    EQI(200, g_h.status);
    CSTR("OK", g_h.reason, g_h.reason_len);
    EQI(1, g_h.minor);
    EQI(5, g_h.content_length);
    EQI(0, g_h.chunked);
    EQI(1, g_h.keep_alive);
    HDR(0, "Content-Type", "text/plain");
    HDR(1, "Content-Length", "5");
    ASSERT(g_h.method == NULL && g_h.host == NULL);
    ASSERT_MEM_EQ("hello", g_buf + g_h.head_len, 5);
    EQI(GN__HTTP_BODY_LENGTH, gn__http_response_body(&g_h, 0));
    EQI(GN__HTTP_BODY_NONE, gn__http_response_body(&g_h, 1));
    CHECK_CALL(splits(1, s, sizeof s - 1, (int)sizeof s - 6, MAXH, 8192));
    PASS();
}

TEST response_reason_and_version(void) {
    RESP_OK("HTTP/1.0 404 Not Found\r\n\r\n");
    EQI(404, g_h.status);
    CSTR("Not Found", g_h.reason, g_h.reason_len);
    EQI(0, g_h.minor);
    EQI(0, g_h.keep_alive);
    EQI(GN__HTTP_BODY_CLOSE, gn__http_response_body(&g_h, 0));
    RESP_OK("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n");
    EQI(1, g_h.keep_alive);
    RESP_OK("HTTP/1.1 204\r\n\r\n");
    CSTR("", g_h.reason, g_h.reason_len);
    EQI(GN__HTTP_BODY_NONE, gn__http_response_body(&g_h, 0));
    RESP_OK("HTTP/1.1 204 \r\n\r\n");
    CSTR("", g_h.reason, g_h.reason_len);
    RESP_OK("HTTP/1.1 599 Odd \t r\xe9\x61son\n\n");
    CSTR("Odd \t r\xe9\x61son", g_h.reason, g_h.reason_len);
    RESP_OK("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    EQI(0, g_h.keep_alive);
    PASS();
}

TEST response_body_kinds(void) {
    RESP_OK("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    EQI(1, g_h.chunked);
    EQI(-1, g_h.content_length);
    EQI(GN__HTTP_BODY_CHUNKED, gn__http_response_body(&g_h, 0));
    EQI(GN__HTTP_BODY_NONE, gn__http_response_body(&g_h, 1));
    RESP_OK("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n");
    EQI(100, g_h.content_length);
    EQI(GN__HTTP_BODY_NONE, gn__http_response_body(&g_h, 0));
    RESP_OK("HTTP/1.1 100 Continue\r\n\r\n");
    EQI(GN__HTTP_BODY_NONE, gn__http_response_body(&g_h, 0));
    RESP_OK("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    EQI(1, g_h.upgrade);
    RESP_OK("HTTP/1.1 200 OK\r\n\r\n");
    EQI(GN__HTTP_BODY_CLOSE, gn__http_response_body(&g_h, 0));
    RESP_OK("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    EQI(GN__HTTP_BODY_LENGTH, gn__http_response_body(&g_h, 0));
    PASS();
}

TEST response_rejects(void) {
    RESP_IS("HTTP/1.1 20 OK\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 2000 OK\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 099 Low\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 abc OK\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1  200 OK\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/2 200 OK\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/2.0 200 OK\r\n\r\n", GN_EHTTP);
    RESP_IS("http/1.1 200 OK\r\n\r\n", GN_EHTTP);
    RESP_IS("\r\nHTTP/1.1 200 OK\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 200 O\rK\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 200 O\x01K\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 200 OK\r\nX : a\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n", GN_EHTTP);
    RESP_IS("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", GN_EHTTP);
    size_t n = 38;
    CHECK_CALL(splits(1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", n, GN_ETOOLARGE, MAXH, n - 1));
    CHECK_CALL(splits(1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", n, GN_ETOOLARGE, 0, 8192));
    PASS();
}

/* ---- the character table ---------------------------------------------------------------- */

TEST char_classes(void) {
    for (int c = 0; c < 256; c++) {
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        int digit = c >= '0' && c <= '9';
        int tchar = alpha || digit || (c && strchr("!#$%&'*+-.^_`|~", c));
        int vchar = c >= 0x21 && c <= 0x7e;
        int value = c == '\t' || (c >= 0x20 && c != 0x7f);
        int host = alpha || digit || (c && strchr("-._~!$&'()*+,;=%", c));
        int hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        int qd = value && c != '"' && c != '\\';
        int scheme = alpha || digit || c == '+' || c == '-' || c == '.';
        EQI(tchar, GN__HC(c, GN__HC_TCHAR) != 0);
        EQI(vchar, GN__HC(c, GN__HC_VCHAR) != 0);
        EQI(value, GN__HC(c, GN__HC_VALUE) != 0);
        EQI(host, GN__HC(c, GN__HC_HOST) != 0);
        EQI(hex, GN__HC(c, GN__HC_HEX) != 0);
        EQI(qd, GN__HC(c, GN__HC_QDTEXT) != 0);
        EQI(scheme, GN__HC(c, GN__HC_SCHEME) != 0);
    }
    PASS();
}

/* Every byte at every offset of a value and a target (the word-at-a-time scan
 * must hand over to the byte loop wherever the odd byte is).                     */
TEST every_byte_everywhere(void) {
    char line[64];
    for (int c = 0; c < 256; c++) {
        for (int at = 0; at < 20; at++) {
            memset(line, 'a', sizeof line);
            memcpy(line, "X: b", 4);
            line[4 + at] = (char)c;
            line[30] = 'z';
            gn_http_header f;
            int want = GN__HC(c, GN__HC_VALUE) ? 0 : -400;
            EQI(want, gn__http_field_line(line, line + 31, &f));
            if (want == 0) EQI(28, f.value_len);

            gn__http_head h;
            memset(line, 'a', sizeof line);
            memcpy(line, "GET /", 5);
            line[5 + at] = (char)c;
            memcpy(line + 30, " HTTP/1.1", 9);
            want = GN__HC(c, GN__HC_VCHAR) ? 0 : -400;
            EQI(want, gn__http_request_line(line, line + 39, &h));
            if (want == 0) EQI(26, h.target_len);
        }
    }
    PASS();
}

/* ---- chunked ------------------------------------------------------------------------------ */

typedef struct {
    gn__chunked c;
    char        tbuf[512];
    char        out[1 << 17];
    size_t      outlen;
    int         spans;
} dec_t;

static dec_t g_d, g_d2;

/* Decodes in[0, n) arriving in pieces: `step` bytes at a time, or (cut != 0)
 * [0, cut) then the rest. Returns the bytes consumed once done, 0 if the input
 * ran out first, or the error. Checks the feed contract on every call.         */
static int64_t decode(dec_t *d, const char *in, size_t n, size_t step, size_t cut,
                      size_t max_data, int with_tbuf, size_t max_trailer) {
    gn__chunked_init(&d->c, with_tbuf ? d->tbuf : NULL, with_tbuf ? sizeof d->tbuf : 0, max_trailer);
    d->outlen = 0;
    d->spans = 0;
    size_t pos = 0, avail = 0;
    while (!d->c.done) {
        if (pos == avail) {
            if (avail == n) return 0;
            avail = cut ? (avail < cut ? cut : n) : (avail + step < n ? avail + step : n);
        }
        const char *data;
        size_t dl;
        int64_t r = gn__chunked_feed(&d->c, in + pos, avail - pos, max_data, &data, &dl);
        if (r < 0) return r;
        if (r == 0 || (size_t)r > avail - pos) return -99999;          /* no progress   */
        if (dl) {
            if (data < in + pos || data + dl != in + pos + (size_t)r) return -99998;
            if (max_data && dl > max_data) return -99997;
            memcpy(d->out + d->outlen, data, dl);
            d->outlen += dl;
            d->spans++;
        } else if (!d->c.done && (size_t)r != avail - pos) {
            return -99996;                                             /* stopped early */
        }
        pos += (size_t)r;
    }
    const char *data;
    size_t dl;
    if (gn__chunked_feed(&d->c, "x", 1, 0, &data, &dl) != 0 || dl) return -99995;
    return (int64_t)pos;
}

/* Decodes s whole, then in every step size and at every cut: same result, same bytes. */
static enum greatest_test_res chunk_splits(const char *s, size_t n, int64_t want,
                                           const char *out, size_t outlen) {
    int64_t r = decode(&g_d, s, n, n ? n : 1, 0, 0, 1, 0);
    if (r != want) {
        show_input("chunked whole", s, n);
        fprintf(stderr, "want %lld got %lld\n", (long long)want, (long long)r);
        FAILm(g_msg);
    }
    if (out) {
        EQI(outlen, g_d.outlen);
        ASSERT_MEM_EQ(out, g_d.out, outlen);
    }
    for (size_t step = 1; step < n; step++) {
        int64_t r2 = decode(&g_d2, s, n, step, 0, 0, 1, 0);
        if (r2 != r || g_d2.outlen != g_d.outlen || memcmp(g_d.out, g_d2.out, g_d.outlen) != 0) {
            show_input("chunked step", s, n);
            fprintf(stderr, "step %zu: want %lld got %lld\n", step, (long long)r, (long long)r2);
            FAILm(g_msg);
        }
    }
    for (size_t cut = 1; cut < n; cut++) {
        int64_t r2 = decode(&g_d2, s, n, 0, cut, 0, 1, 0);
        if (r2 != r || g_d2.outlen != g_d.outlen || memcmp(g_d.out, g_d2.out, g_d.outlen) != 0) {
            show_input("chunked cut", s, n);
            fprintf(stderr, "cut %zu: want %lld got %lld\n", cut, (long long)r, (long long)r2);
            FAILm(g_msg);
        }
    }
    decode(&g_d, s, n, n ? n : 1, 0, 0, 1, 0);  /* leave the whole decode in g_d */
    PASS();
}

#define CHUNKS(s, out) CHECK_CALL(chunk_splits((s), sizeof(s) - 1, (int64_t)sizeof(s) - 1, (out), sizeof(out) - 1))
#define CHUNKS_ERR(s, err) CHECK_CALL(chunk_splits((s), sizeof(s) - 1, (err), NULL, 0))

TEST chunked_simple(void) {
    CHUNKS("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world");
    EQI(2, g_d.spans);
    ASSERT(g_d.c.done);
    EQI(0, gn__chunked_trailers(&g_d.c, NULL, 0));
    CHUNKS("0\r\n\r\n", "");
    /* what follows the body is left alone */
    static const char s[] = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    CHECK_CALL(chunk_splits(s, sizeof s - 1, 13, "abc", 3));
    PASS();
}

TEST chunked_spans_point_into_input(void) {
    static const char s[] = "5\r\nhello\r\n0\r\n\r\n";
    gn__chunked c;
    const char *data;
    size_t dl;
    gn__chunked_init(&c, NULL, 0, 0);
    EQI(8, gn__chunked_feed(&c, s, sizeof s - 1, 0, &data, &dl));
    ASSERT(data == s + 3);
    EQI(5, dl);
    EQI(7, gn__chunked_feed(&c, s + 8, sizeof s - 9, 0, &data, &dl));
    EQI(0, dl);
    ASSERT(data == NULL);
    ASSERT(c.done);
    PASS();
}

TEST chunked_max_data(void) {
    static const char s[] = "a\r\n0123456789\r\n0\r\n\r\n";
    EQI(sizeof s - 1, decode(&g_d, s, sizeof s - 1, sizeof s - 1, 0, 3, 0, 0));
    EQI(4, g_d.spans);
    EQI(10, g_d.outlen);
    ASSERT_MEM_EQ("0123456789", g_d.out, 10);
    EQI(sizeof s - 1, decode(&g_d, s, sizeof s - 1, 1, 0, 3, 0, 0));
    EQI(10, g_d.spans);
    PASS();
}

TEST chunked_skip_data(void) {
    static const char s[] = "a;x=y\r\n0123456789\r\n0\r\n\r\n";
    gn__chunked c;
    const char *data;
    size_t dl;
    gn__chunked_init(&c, NULL, 0, 0);
    EQI(0, gn__chunked_data_left(&c));
    EQI(7, gn__chunked_feed(&c, s, 7, 0, &data, &dl));
    EQI(0, dl);
    EQI(10, gn__chunked_data_left(&c));
    gn__chunked_skip_data(&c, 4);  /* the caller read "0123" itself */
    EQI(6, gn__chunked_data_left(&c));
    EQI(6, gn__chunked_feed(&c, s + 11, sizeof s - 12, 0, &data, &dl));
    ASSERT_MEM_EQ("456789", data, 6);
    EQI(0, gn__chunked_data_left(&c));
    EQI(7, gn__chunked_feed(&c, s + 17, sizeof s - 18, 0, &data, &dl));
    ASSERT(c.done);
    PASS();
}

TEST chunked_extensions(void) {
    CHUNKS("5;foo=bar\r\nhello\r\n0;last\r\n\r\n", "hello");
    CHUNKS("5 ; a = b ;c\r\nhello\r\n0\r\n\r\n", "hello");
    CHUNKS("5;a=\"q \\\" ;\t x\xff\"\r\nhello\r\n0\r\n\r\n", "hello");
    CHUNKS("3;a=b;c=\"d\";e\r\nabc\r\n0;z=\"\"\r\n\r\n", "abc");
    CHUNKS("3;a\t;b\r\nabc\r\n0\r\n\r\n", "abc");
    PASS();
}

TEST chunked_extension_rejects(void) {
    CHUNKS_ERR("5;\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;=b\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;a=\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;a=\"x\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;a b\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;a=b c\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;a=b \r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;a=\"\\\x01\"\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;a=\"x\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5;a@b\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    PASS();
}

TEST chunked_trailers(void) {
    CHUNKS("3\r\nabc\r\n0\r\nX-Sum: abc \r\nX-Empty:\r\nX-B:\t v  w\t\r\nX-O: caf\xc3\xa9\r\n\r\n", "abc");
    gn_http_header t[8];
    EQI(4, gn__chunked_trailers(&g_d.c, t, 8));
    CSTR("X-Sum", t[0].name, t[0].name_len);
    CSTR("abc", t[0].value, t[0].value_len);
    CSTR("X-Empty", t[1].name, t[1].name_len);
    CSTR("", t[1].value, t[1].value_len);
    CSTR("X-B", t[2].name, t[2].name_len);
    CSTR("v  w", t[2].value, t[2].value_len);
    CSTR("X-O", t[3].name, t[3].name_len);
    CSTR("caf\xc3\xa9", t[3].value, t[3].value_len);
    EQI(4, gn__chunked_trailers(&g_d.c, t, 2));  /* counts all, fills two */
    /* without a buffer: checked, then dropped */
    static const char s[] = "0\r\nA: 1\r\n\r\n";
    EQI(sizeof s - 1, decode(&g_d, s, sizeof s - 1, 1, 0, 0, 0, 0));
    EQI(0, gn__chunked_trailers(&g_d.c, t, 8));
    PASS();
}

TEST chunked_bad_trailers(void) {
    CHUNKS_ERR("0\r\nX y: z\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("0\r\nX : z\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("0\r\nA: 1\r\n folded\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("0\r\n\tX: 1\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("0\r\n: v\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("0\r\nX: a\x01" "b\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("0\r\nX: a\x7f\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("0\r\nX: v\n\r\n", GN_EHTTP);     /* bare LF */
    CHUNKS_ERR("0\r\nX: v\rv\r\n\r\n", GN_EHTTP); /* bare CR */
    CHUNKS_ERR("0\r\nX\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("0\r\n\n", GN_EHTTP);
    CHUNKS_ERR("0\r\n\rX", GN_EHTTP);
    PASS();
}

TEST chunked_trailer_limits(void) {
    static const char s[] = "0\r\nX-Long: 0123456789012345678901234567890123456789\r\n\r\n";
    size_t n = sizeof s - 1;
    EQI(GN_ETOOLARGE, decode(&g_d, s, n, 1, 0, 0, 1, 32));
    EQI(GN_ETOOLARGE, decode(&g_d, s, n, n, 0, 0, 1, 32));
    EQI(n, decode(&g_d, s, n, 1, 0, 0, 1, n - 3));  /* the section, final CRLF included */
    EQI(GN_ETOOLARGE, decode(&g_d, s, n, 1, 0, 0, 1, n - 4));
    /* a buffer too small for the copy */
    gn__chunked c;
    char small[16];
    const char *data;
    size_t dl;
    gn__chunked_init(&c, small, sizeof small, 0);
    EQI(GN_ETOOLARGE, gn__chunked_feed(&c, s, n, 0, &data, &dl));
    gn__chunked_init(&c, small, sizeof small, 0);
    EQI(15, gn__chunked_feed(&c, "0\r\nAbc: 123\r\n\r\n", 15, 0, &data, &dl));
    ASSERT(c.done);
    gn_http_header t[1];
    EQI(1, gn__chunked_trailers(&c, t, 1));
    ASSERT_STR_EQ("Abc", t[0].name);
    ASSERT_STR_EQ("123", t[0].value);
    /* A buffer that fills just before a field's closing NUL: that field is not
     * listed, and the ones before it still read as C strings (found by
     * fuzz_chunked: the count went up before the NUL was in).              */
    char nine[9];
    gn__chunked_init(&c, nine, sizeof nine, 0);
    EQI(GN_ETOOLARGE, gn__chunked_feed(&c, "0\r\nA: 1\r\nBc: 23\r\n\r\n", 19, 0, &data, &dl));
    EQI(1, gn__chunked_trailers(&c, t, 1));
    ASSERT_STR_EQ("A", t[0].name);
    ASSERT_STR_EQ("1", t[0].value);
    PASS();
}

TEST chunked_every_split(void) {
    static const char s[] = "4;ext=\"a;b\"\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
                            "0\r\nExpires: never\r\nX: y\r\n\r\nrest";
    CHECK_CALL(chunk_splits(s, sizeof s - 1, (int64_t)sizeof s - 5, "Wikipedia in\r\n\r\nchunks.", 23));
    gn_http_header t[2];
    EQI(2, gn__chunked_trailers(&g_d.c, t, 2));
    ASSERT_STR_EQ("never", t[0].value);
    PASS();
}

TEST chunked_hex_case(void) {
    static char s[1024], want[600];
    size_t o = 0, w = 0;
    static const char *const sizes[] = {"a", "A", "fF", "1f", "1F", "c"};
    static const int lens[] = {10, 10, 255, 31, 31, 12};
    for (int i = 0; i < 6; i++) {
        o += (size_t)snprintf(s + o, sizeof s - o, "%s\r\n", sizes[i]);
        for (int k = 0; k < lens[i]; k++) s[o++] = want[w++] = (char)('a' + (i + k) % 26);
        memcpy(s + o, "\r\n", 2);
        o += 2;
    }
    memcpy(s + o, "0\r\n\r\n", 5);
    o += 5;
    CHECK_CALL(chunk_splits(s, o, (int64_t)o, want, w));
    PASS();
}

TEST chunked_leading_zeros(void) {
    CHUNKS("0005\r\nhello\r\n0000\r\n\r\n", "hello");
    CHUNKS("00000000000000000000000000000003\r\nabc\r\n0\r\n\r\n", "abc");
    PASS();
}

TEST chunked_size_limits(void) {
    gn__chunked c;
    const char *data;
    size_t dl;
    gn__chunked_init(&c, NULL, 0, 0);
    EQI(18, gn__chunked_feed(&c, "7fffffffffffffff\r\n", 18, 0, &data, &dl));
    EQI(INT64_MAX, gn__chunked_data_left(&c));
    EQI(3, gn__chunked_feed(&c, "abc", 3, 0, &data, &dl));
    EQI((uint64_t)INT64_MAX - 3, gn__chunked_data_left(&c));
    CHUNKS_ERR("8000000000000000\r\n", GN_EHTTP);  /* 2^63 */
    CHUNKS_ERR("10000000000000000\r\n", GN_EHTTP);
    CHUNKS_ERR("ffffffffffffffffff\r\n", GN_EHTTP);
    PASS();
}

TEST chunked_size_rejects(void) {
    CHUNKS_ERR("\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR(";a\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("x\r\n", GN_EHTTP);
    CHUNKS_ERR("-5\r\nhello\r\n", GN_EHTTP);
    CHUNKS_ERR("+5\r\nhello\r\n", GN_EHTTP);
    CHUNKS_ERR("0x5\r\nhello\r\n", GN_EHTTP);
    CHUNKS_ERR(" 5\r\nhello\r\n", GN_EHTTP);
    CHUNKS_ERR("5 \r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5\nhello\r\n0\r\n\r\n", GN_EHTTP);  /* bare LF */
    CHUNKS_ERR("5\rhello\r\n0\r\n\r\n", GN_EHTTP);  /* bare CR */
    CHUNKS_ERR("5\r\r\nhello\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("0\n\r\n", GN_EHTTP);
    PASS();
}

TEST chunked_missing_crlf(void) {
    CHUNKS_ERR("5\r\nhelloX\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5\r\nhello\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5\r\nhello\r\r\n0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5\r\nhello\rX0\r\n\r\n", GN_EHTTP);
    CHUNKS_ERR("5\r\nhello world\r\n0\r\n\r\n", GN_EHTTP);  /* longer than declared */
    CHUNKS_ERR("0\r\n\r", 0);                            /* incomplete, not an error */
    CHUNKS_ERR("5\r\nhel", 0);
    PASS();
}

TEST chunked_errors_are_sticky(void) {
    gn__chunked c;
    const char *data;
    size_t dl;
    gn__chunked_init(&c, NULL, 0, 0);
    EQI(GN_EHTTP, gn__chunked_feed(&c, "z\r\n", 3, 0, &data, &dl));
    EQI(GN_EHTTP, gn__chunked_feed(&c, "0\r\n\r\n", 5, 0, &data, &dl));
    ASSERT(!c.done);
    gn__chunked_init(&c, NULL, 0, 0);
    EQI(5, gn__chunked_feed(&c, "0\r\n\r\n", 5, 0, &data, &dl));
    ASSERT(c.done);
    EQI(0, gn__chunked_feed(&c, "0\r\n\r\n", 5, 0, &data, &dl));
    EQI(0, gn__chunked_feed(&c, NULL, 0, 0, &data, &dl));
    PASS();
}

TEST chunked_size_line_limit(void) {
    static char s[8192];
    size_t o = 0;
    memcpy(s, "1;a=", 4);
    o = 4;
    memset(s + o, 'v', 4000);
    o += 4000;
    memcpy(s + o, "\r\nx\r\n0\r\n\r\n", 10);
    o += 10;
    EQI(o, decode(&g_d, s, o, 7, 0, 0, 0, 0));
    EQI(1, g_d.outlen);
    o = 4;
    memset(s + o, 'v', 5000);
    o += 5000;
    memcpy(s + o, "\r\nx\r\n0\r\n\r\n", 10);
    o += 10;
    EQI(GN_EHTTP, decode(&g_d, s, o, 7, 0, 0, 0, 0));
    EQI(GN_EHTTP, decode(&g_d, s, o, o, 0, 0, 0, 0));
    PASS();
}

TEST chunked_framing_budget(void) {
    static char s[1 << 17];
    size_t o = 0;
    /* byte-sized chunks are legitimate streaming */
    for (int i = 0; i < 20000; i++) {
        memcpy(s + o, "1\r\nx\r\n", 6);
        o += 6;
    }
    memcpy(s + o, "0\r\n\r\n", 5);
    o += 5;
    EQI(o, decode(&g_d, s, o, 4096, 0, 0, 0, 0));
    EQI(20000, g_d.outlen);
    /* byte-sized chunks under long extensions are not */
    o = 0;
    for (int i = 0; i < 2000; i++) {
        o += (size_t)snprintf(s + o, sizeof s - o, "1;name=%040d\r\nx\r\n", i);
    }
    memcpy(s + o, "0\r\n\r\n", 5);
    o += 5;
    EQI(GN_EHTTP, decode(&g_d, s, o, 4096, 0, 0, 0, 0));
    ASSERT(g_d.outlen > 100 && g_d.outlen < 2000);
    /* the same extensions on real data are fine */
    o = 0;
    for (int i = 0; i < 500; i++) {
        o += (size_t)snprintf(s + o, sizeof s - o, "40;name=%040d\r\n", i);
        memset(s + o, 'd', 64);
        o += 64;
        memcpy(s + o, "\r\n", 2);
        o += 2;
    }
    memcpy(s + o, "0\r\n\r\n", 5);
    o += 5;
    EQI(o, decode(&g_d, s, o, 4096, 0, 0, 0, 0));
    EQI(500 * 64, g_d.outlen);
    PASS();
}

TEST chunked_mutations_split_alike(void) {
    static const char base[] = "4;e=\"q\"\r\nWiki\r\n5\r\npedia\r\n0\r\nX: y\r\n\r\n";
    static const char alphabet[] = "\r\n ;=\"\\:\t0aF\x01\x80g";
    static char m[256];
    int rounds = 3000 / g_scale;
    for (int i = 0; i < rounds; i++) {
        size_t len = sizeof base - 1;
        memcpy(m, base, len);
        int edits = 1 + (int)(rnd() % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = rnd() % len;
            char c = alphabet[rnd() % (sizeof alphabet - 1)];
            if (rnd() % 2) {
                m[at] = c;
            } else if (len + 1 < sizeof m) {
                memmove(m + at + 1, m + at, len - at);
                m[at] = c;
                len++;
            }
        }
        int64_t want = decode(&g_d, m, len, len, 0, 0, 1, 0);
        ASSERT(want > -99990);
        CHECK_CALL(chunk_splits(m, len, want, NULL, 0));
    }
    PASS();
}

SUITE(http_request) {
    RUN_TEST(simple_get);
    RUN_TEST(minimal_requests);
    RUN_TEST(headers_ows);
    RUN_TEST(header_name_bytes);
    RUN_TEST(repeated_headers_in_order);
    RUN_TEST(lookup_case_insensitive);
    RUN_TEST(nul_terminated_in_place);
    RUN_TEST(pipelined_requests);
    RUN_TEST(bare_lf_line_ends);
    RUN_TEST(leading_empty_lines);
    RUN_TEST(absolute_form);
    RUN_TEST(absolute_form_rejects);
    RUN_TEST(authority_form_connect);
    RUN_TEST(asterisk_form);
    RUN_TEST(target_bytes);
    RUN_TEST(method_rejects);
    RUN_TEST(versions);
    RUN_TEST(keep_alive_rules);
    RUN_TEST(connection_upgrade);
    RUN_TEST(expect_continue);
    RUN_TEST(host_rules);
    RUN_TEST(content_length_ok);
    RUN_TEST(content_length_identical_repeats);
    RUN_TEST(content_length_rejects);
    RUN_TEST(chunked_request);
    RUN_TEST(cl_with_te);
    RUN_TEST(te_codings);
    RUN_TEST(te_on_http10);
    RUN_TEST(obs_fold);
    RUN_TEST(bare_cr);
    RUN_TEST(ctl_in_value);
    RUN_TEST(field_name_rejects);
    RUN_TEST(error_before_head_is_complete);
    RUN_TEST(too_large_431);
    RUN_TEST(too_many_headers_431);
    RUN_TEST(default_limit);
    RUN_TEST(bad_arguments);
    RUN_TEST(every_split_of_sample);
    RUN_TEST(byte_at_a_time_is_linear);
    RUN_TEST(mutations_split_alike);
    RUN_TEST(char_classes);
    RUN_TEST(every_byte_everywhere);
}

SUITE(http_response) {
    RUN_TEST(response_simple);
    RUN_TEST(response_reason_and_version);
    RUN_TEST(response_body_kinds);
    RUN_TEST(response_rejects);
}

SUITE(http_chunked) {
    RUN_TEST(chunked_simple);
    RUN_TEST(chunked_spans_point_into_input);
    RUN_TEST(chunked_max_data);
    RUN_TEST(chunked_skip_data);
    RUN_TEST(chunked_extensions);
    RUN_TEST(chunked_extension_rejects);
    RUN_TEST(chunked_trailers);
    RUN_TEST(chunked_bad_trailers);
    RUN_TEST(chunked_trailer_limits);
    RUN_TEST(chunked_every_split);
    RUN_TEST(chunked_hex_case);
    RUN_TEST(chunked_leading_zeros);
    RUN_TEST(chunked_size_limits);
    RUN_TEST(chunked_size_rejects);
    RUN_TEST(chunked_missing_crlf);
    RUN_TEST(chunked_errors_are_sticky);
    RUN_TEST(chunked_size_line_limit);
    RUN_TEST(chunked_framing_budget);
    RUN_TEST(chunked_mutations_split_alike);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    (void)run_procs;  /* test_util.h's; no runtime here */
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(http_request);
    RUN_SUITE(http_response);
    RUN_SUITE(http_chunked);
    GREATEST_MAIN_END();
}
