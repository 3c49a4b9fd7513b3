/* fuzz.h — what the fuzz targets share: the implementation, the check that
 * stops on a broken invariant, a cursor that turns the fuzzer's bytes into
 * choices (split points, read sizes, lengths), and a growing string for
 * describing results so that two of them can be compared.
 *
 * Each tests/fuzz/fuzz_*.c is a libFuzzer target on its own, and
 * tests/test_fuzz_regress.c includes them all (renaming each
 * LLVMFuzzerTestOneInput) to replay the corpus and the regressions in the test
 * suite. There FZ_CHECK jumps back to the test with a message instead of
 * aborting, so one bad input is one failed test, not a dead program.
 * Names in these files start with the target's prefix, as they share one
 * translation unit in the regression test. */
#ifndef GN_FUZZ_H
#define GN_FUZZ_H

/* A small mux scratch area, so that short inputs reach the paths taken when
 * path values, a Location or an Allow list do not fit (414, a cut list).   */
#define GN_HTTP_MUX_SCRATCH 128
#define GONET_IMPLEMENTATION
#include "../../gonet.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef GN_FUZZ_REGRESS
#  include <setjmp.h>
static jmp_buf *fz_jump;          /* armed by the regression test around a call   */
static char fz_why[512];
#endif

GN__PRIVATE void fz_fail(const char *file, int line, const char *what) {
#ifdef GN_FUZZ_REGRESS
    snprintf(fz_why, sizeof fz_why, "%s:%d: invariant broken: %s", file, line, what);
    if (fz_jump) longjmp(*fz_jump, 1);
#endif
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}

#define FZ_CHECK(c) do { if (!(c)) fz_fail(__FILE__, __LINE__, #c); } while (0)

/* The fuzzer's bytes, read from the front for choices; once they run out every
 * choice is 0, so a short input is still a valid script.                      */
typedef struct fz_in {
    const uint8_t *p;
    size_t         n;
} fz_in;

GN__PRIVATE unsigned fz_u8(fz_in *in) {
    if (!in->n) return 0;
    in->n--;
    return *in->p++;
}

GN__PRIVATE unsigned fz_u16(fz_in *in) {
    unsigned hi = fz_u8(in);
    return hi << 8 | fz_u8(in);
}

/* Piece sizes for feeding a message in parts: a count (0..15) then that many
 * sizes of 1..256 bytes, used in turn and over again. No count: whole.        */
typedef struct fz_split {
    size_t   size[16];
    unsigned n, at;
} fz_split;

GN__PRIVATE void fz_split_init(fz_split *s, fz_in *in) {
    s->n = fz_u8(in) & 15;
    s->at = 0;
    for (unsigned i = 0; i < s->n; i++) s->size[i] = fz_u8(in) + 1;
}

/* The next piece: at most left bytes; everything when there are no sizes.     */
GN__PRIVATE size_t fz_split_next(fz_split *s, size_t left) {
    if (!s->n) return left;
    size_t k = s->size[s->at++ % s->n];
    return k < left ? k : left;
}

/* A copy of the bytes, NUL-terminated (parsers write into their buffer, and
 * some helpers want a C string).                                              */
GN__PRIVATE char *fz_dup(const void *p, size_t n) {
    char *d = (char *)malloc(n + 1);
    if (!d) abort();
    if (n) memcpy(d, p, n);
    d[n] = '\0';
    return d;
}

typedef struct fz_str {
    char  *b;
    size_t n, cap;
} fz_str;

GN__PRIVATE void fz_put(fz_str *s, const void *p, size_t n) {
    if (s->n + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < s->n + n + 1) cap *= 2;
        char *b = (char *)realloc(s->b, cap);
        if (!b) abort();
        s->b = b;
        s->cap = cap;
    }
    if (n) memcpy(s->b + s->n, p, n);
    s->n += n;
    s->b[s->n] = '\0';
}

GN__PRIVATE void fz_puts(fz_str *s, const char *p) { fz_put(s, p, strlen(p)); }

/* A span as "<len>:bytes|", so that no byte inside can fake a boundary; "-|"
 * for NULL.                                                                   */
GN__PRIVATE void fz_put_span(fz_str *s, const char *p, size_t n) {
    char num[32];
    if (!p) {
        fz_put(s, "-|", 2);
        return;
    }
    int k = snprintf(num, sizeof num, "%lu:", (unsigned long)n);
    fz_put(s, num, (size_t)k);
    fz_put(s, p, n);
    fz_put(s, "|", 1);
}

GN__PRIVATE void fz_put_int(fz_str *s, long long v) {
    char num[32];
    int k = snprintf(num, sizeof num, "%lld|", v);
    fz_put(s, num, (size_t)k);
}

GN__PRIVATE int fz_str_eq(const fz_str *a, const fz_str *b) {
    return a->n == b->n && (a->n == 0 || memcmp(a->b, b->b, a->n) == 0);
}

GN__PRIVATE void fz_str_free(fz_str *s) {
    free(s->b);
    s->b = NULL;
    s->n = s->cap = 0;
}

/* A parsed head as text: every field the parsers fill, pointers as the bytes
 * they point at, so parses of one message in different buffers compare.     */
GN__PRIVATE void fz_describe_head(fz_str *s, const gn__http_head *h, int response) {
    if (response) {
        fz_put_int(s, h->status);
        fz_put_span(s, h->reason, h->reason_len);
    } else {
        fz_put_span(s, h->method, h->method_len);
        fz_put_span(s, h->target, h->target_len);
        fz_put_int(s, h->form);
        fz_put_span(s, h->authority, h->authority_len);
        fz_put_span(s, h->path, h->path_len);
        fz_put_span(s, h->query, h->query_len);
        fz_put_span(s, h->host, h->host_len);
        fz_put_int(s, h->expect_continue);
    }
    fz_put_int(s, h->minor);
    fz_put_int(s, (long long)h->nhdrs);
    for (size_t i = 0; i < h->nhdrs; i++) {
        fz_put_span(s, h->hdrs[i].name, h->hdrs[i].name_len);
        fz_put_span(s, h->hdrs[i].value, h->hdrs[i].value_len);
    }
    fz_put_int(s, h->content_length);
    fz_put_int(s, h->chunked);
    fz_put_int(s, h->keep_alive);
    fz_put_int(s, h->upgrade);
}

/* What every successful parse promises about buf[0, len), whose original bytes
 * are orig: the head fits, the [NUL] strings are terminated in place and lie
 * inside the head, fields are well formed, and no byte after the head changed. */
GN__PRIVATE void fz_check_head(const char *buf, const char *orig, size_t len,
                               const gn__http_head *h, int response) {
    size_t hl = h->head_len;
    FZ_CHECK(hl >= 14 && hl <= len);
    FZ_CHECK(memcmp(buf + hl, orig + hl, len - hl) == 0);
    FZ_CHECK(buf[hl - 1] == '\n');
#define FZ_IN_HEAD(p, n) ((p) >= buf && (p) + (n) < buf + hl && (p)[n] == '\0')
    if (response) {
        FZ_CHECK(h->status >= 100 && h->status <= 999);
        FZ_CHECK(FZ_IN_HEAD(h->reason, h->reason_len));
    } else {
        FZ_CHECK(h->method_len > 0 && FZ_IN_HEAD(h->method, h->method_len));
        FZ_CHECK(h->target_len > 0 && FZ_IN_HEAD(h->target, h->target_len));
        FZ_CHECK(h->path >= h->target && h->path + h->path_len <= h->target + h->target_len);
        FZ_CHECK(!h->chunked || h->content_length < 0);
        FZ_CHECK(h->minor == 1 || !h->expect_continue);
        if (h->form == GN__HTTP_FORM_ORIGIN) FZ_CHECK(h->path == h->target && h->path[0] == '/');
        if (h->query) FZ_CHECK(h->query[-1] == '?' && h->query + h->query_len == h->target + h->target_len);
        if (h->minor == 1) FZ_CHECK(h->host != NULL);
    }
    FZ_CHECK(h->minor == 0 || h->minor == 1);
    FZ_CHECK(h->content_length >= -1);
    for (size_t i = 0; i < h->nhdrs; i++) {
        const gn_http_header *f = &h->hdrs[i];
        FZ_CHECK(f->name_len > 0 && FZ_IN_HEAD(f->name, f->name_len));
        FZ_CHECK(FZ_IN_HEAD(f->value, f->value_len));
        for (size_t k = 0; k < f->name_len; k++) FZ_CHECK(GN__HC(f->name[k], GN__HC_TCHAR));
        for (size_t k = 0; k < f->value_len; k++) FZ_CHECK(GN__HC(f->value[k], GN__HC_VALUE));
        FZ_CHECK(f->value_len == 0 || (!GN__HC_WS(f->value[0]) && !GN__HC_WS(f->value[f->value_len - 1])));
    }
#undef FZ_IN_HEAD
    /* Framing, re-derived from the fields: one way to find the body's end.
     * Transfer-Encoding means chunked and excludes Content-Length; every
     * Content-Length element is the same number.                             */
    int te = 0, hosts = 0;
    long long cl = -1;
    for (size_t i = 0; i < h->nhdrs; i++) {
        const gn_http_header *f = &h->hdrs[i];
        if (f->name_len == 4 && gn__http_ieq(f->name, "host", 4)) hosts++;
        if (f->name_len == 17 && gn__http_ieq(f->name, "transfer-encoding", 17)) te = 1;
        if (f->name_len != 14 || !gn__http_ieq(f->name, "content-length", 14)) continue;
        FZ_CHECK(f->value_len > 0);
        for (size_t k = 0; k < f->value_len;) {
            long long v = 0;
            int digits = 0;
            while (k < f->value_len && GN__HC_WS(f->value[k])) k++;
            while (k < f->value_len && f->value[k] >= '0' && f->value[k] <= '9') {
                FZ_CHECK(v <= (INT64_MAX - (f->value[k] - '0')) / 10);
                v = v * 10 + (f->value[k++] - '0');
                digits++;
            }
            while (k < f->value_len && GN__HC_WS(f->value[k])) k++;
            FZ_CHECK(digits > 0 && (k == f->value_len || f->value[k] == ','));
            FZ_CHECK(cl < 0 || cl == v);
            cl = v;
            if (k < f->value_len) FZ_CHECK(++k < f->value_len);
        }
    }
    FZ_CHECK(h->chunked == te && h->content_length == cl);
    FZ_CHECK(!(te && cl >= 0));
    if (te) FZ_CHECK(h->minor == 1);
    if (!response) FZ_CHECK(hosts <= 1);
}

/* The head again in its plainest form: single spaces, CRLF, "name: value".    */
GN__PRIVATE void fz_serialize_head(fz_str *s, const gn__http_head *h, int response) {
    char line[64];
    if (response) {
        snprintf(line, sizeof line, "HTTP/1.%d %03d ", h->minor, h->status);
        fz_puts(s, line);
        fz_put(s, h->reason, h->reason_len);
    } else {
        fz_put(s, h->method, h->method_len);
        fz_put(s, " ", 1);
        fz_put(s, h->target, h->target_len);
        snprintf(line, sizeof line, " HTTP/1.%d", h->minor);
        fz_puts(s, line);
    }
    fz_put(s, "\r\n", 2);
    for (size_t i = 0; i < h->nhdrs; i++) {
        fz_put(s, h->hdrs[i].name, h->hdrs[i].name_len);
        fz_put(s, ": ", 2);
        fz_put(s, h->hdrs[i].value, h->hdrs[i].value_len);
        fz_put(s, "\r\n", 2);
    }
    fz_put(s, "\r\n", 2);
}

/* One parse of the head in msg[0, n) (response: a status line), fed in the pieces sp gives. prev_mode: 0 the exact
 * prev_len, 1 always 0, 2 and 3 a value in between chosen by the input.      */
GN__PRIVATE int fz_feed_head(int response, const uint8_t *msg, size_t n, fz_split *sp,
                             int prev_mode, fz_in *in, size_t max_hdrs, size_t max_head,
                             gn__http_head *h, gn_http_header *hdrs, char **out, size_t *out_len) {
    char *buf = NULL;
    size_t len = 0, prev = 0;
    int r = 0;
    do {
        size_t k = fz_split_next(sp, n - len);
        /* Exactly the bytes so far: a read past them is a sanitizer report.    */
        char *nb = (char *)realloc(buf, len + k ? len + k : 1);
        if (!nb) abort();
        buf = nb;
        memcpy(buf + len, msg + len, k);
        len += k;
        size_t p = prev_mode == 0 ? prev : prev_mode == 1 ? 0 : prev ? fz_u16(in) % (prev + 1) : 0;
        r = response ? gn__http_parse_response(buf, len, p, h, hdrs, max_hdrs, max_head)
                     : gn__http_parse_request(buf, len, p, h, hdrs, max_hdrs, max_head);
        if (r == 0) FZ_CHECK(memcmp(buf, msg, len) == 0);
        prev = len;
    } while (r == 0 && len < n);
    *out = buf;
    *out_len = len;
    return r;
}

#endif
