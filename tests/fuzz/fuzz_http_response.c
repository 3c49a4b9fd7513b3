/* fuzz_http_response.c — the client's response parsing: the head parser
 * (gn__http_parse_response) whole and in pieces, the client's way of reading a
 * head (interim 1xx heads skipped, the header array grown when a head has more
 * fields than it, the buffer grown under a parsed head), how the body is
 * framed, a chunked body after the head, and a Location resolved against the
 * request's URL.
 *
 * Input: a limits byte (bits 0-2 max_hdrs for the split check, bits 3-5 the
 * client's max_header_bytes, bit 6 the request was HEAD, bit 7 how prev_len
 * is passed), the split sizes (fuzz.h), then the bytes the server sent.
 * Invariants: as for requests, every split gives the result of the whole; the
 * client loop ends with the head the parser gives for the same bytes after the
 * skipped 1xx heads (growing the header array never changes the answer but
 * from "too large" to parsed); moving the buffer keeps every string; a framed
 * body is NONE exactly for HEAD, 1xx, 204 and 304; a chunked body decodes the
 * same whether or not the head came in pieces; a resolved Location is an
 * absolute URL, and one resolved from a relative reference keeps the
 * request's host and has no "." or ".." segment left in its path.           */
#include "fuzz.h"

static const size_t fzp_max_hdrs[8] = {64, 0, 1, 2, 3, 8, 16, 100};
static const size_t fzp_max_head[8] = {64 * 1024, 8192, 16, 64, 100, 256, 1024, 4096};

/* gn__cl_read_head's loop over a pooled connection, the reads coming from
 * msg[0, n) in the pieces sp gives instead of a socket. Returns what it does:
 * the head length, or an error; *len_out the bytes buffered.                */
static int fzp_client_head(gn__cl_conn *pc, size_t maxh, const uint8_t *msg, size_t n,
                           fz_split *sp, gn__http_head *h, size_t *len_out, size_t *skipped) {
    size_t full = maxh + GN__CL_ROOM, len = 0, prev = 0, from = 0;
    pc->cap = GN__CL_RBUF < full ? GN__CL_RBUF : full;
    pc->buf = (char *)malloc(pc->cap);
    if (!pc->buf) abort();
    int n1xx = 0, r = 0;
    *skipped = 0;
    for (;;) {
        if (len > 0) {
            r = gn__http_parse_response(pc->buf, len, prev, h, pc->hdrs, pc->hcap, maxh);
            if (r == GN_ETOOLARGE) {
                int g = gn__cl_more_hdrs(pc, len, maxh);
                FZ_CHECK(g >= 0);
                if (g > 0) {
                    prev = 0;
                    continue;
                }
            }
            if (r < 0) break;
            if (r > 0) {
                if (h->status >= 200 || h->status == 101) break;
                if (++n1xx > GN__CL_MAX_1XX) {
                    r = GN_EHTTP;
                    break;
                }
                memmove(pc->buf, pc->buf + r, len - (size_t)r);
                len -= (size_t)r;
                *skipped += (size_t)r;
                prev = 0;
                continue;
            }
            prev = len;
        }
        if (len == pc->cap) {
            /* The parser says "too large" before the buffer is full.          */
            FZ_CHECK(pc->cap < full);
            size_t ncap = pc->cap * 2 < full ? pc->cap * 2 : full;
            char *b = (char *)realloc(pc->buf, ncap);
            if (!b) abort();
            pc->buf = b;
            pc->cap = ncap;
        }
        if (from == n) {
            r = len == 0 && n1xx == 0 ? GN_EOF : GN_EUNEXPECTEDEOF;
            break;
        }
        size_t k = fz_split_next(sp, n - from);
        if (k > pc->cap - len) k = pc->cap - len;
        memcpy(pc->buf + len, msg + from, k);
        from += k;
        len += k;
    }
    *len_out = len;
    return r;
}

/* Whether the path of an absolute URL u ("http://host/path?q") has a "." or
 * ".." segment.                                                              */
static int fzp_has_dots(const char *u) {
    const char *p = strstr(u, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    if (!p) return 0;
    size_t n = strcspn(p, "?");
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && p[j] != '/') j++;
        size_t sl = j - i - 1;
        if ((sl == 1 && p[i + 1] == '.') || (sl == 2 && p[i + 1] == '.' && p[i + 2] == '.'))
            return 1;
        i = j;
    }
    return 0;
}

static const char *const fzp_bases[4] = {
    "http://example.com/a/b/c?q=1", "http://[::1]:8080", "http://h/", "http://H.example:80/x/?",
};

static void fzp_location(const char *loc, unsigned which) {
    gn__cl_url base;
    FZ_CHECK(gn__cl_parse_url(fzp_bases[which & 3], &base) == 0);
    char *next = NULL;
    int rel = 0;
    FZ_CHECK(gn__cl_resolve(&base, loc, &next, &rel) == 0);
    FZ_CHECK(strncmp(next, "http:", 5) == 0 || !rel);
    gn__cl_url u;
    int pr = gn__cl_parse_url(next, &u);
    if (rel) {
        /* Built from the base's own parts: it parses, to the same host.       */
        FZ_CHECK(pr == 0 || strpbrk(loc, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e"
                                         "\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b"
                                         "\x1c\x1d\x1e\x1f\x7f"));
        if (pr == 0) FZ_CHECK(strcmp(u.addr, base.addr) == 0);
        if (loc[0] != '?' && loc[0] != '#' && loc[0] != '\0') FZ_CHECK(!fzp_has_dots(next));
    }
    if (pr == 0) {
        FZ_CHECK(u.target_len == 0 || u.target[0] == '/' || u.target[0] == '?');
        FZ_CHECK(!memchr(u.target, '#', u.target_len));
        const char *colon = strrchr(u.addr, ':');
        FZ_CHECK(colon && atol(colon + 1) >= 1 && atol(colon + 1) <= 65535);
    }
    free(next);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    unsigned lim = fz_u8(&in);
    size_t max_hdrs = fzp_max_hdrs[lim & 7], maxh = fzp_max_head[(lim >> 3) & 7];
    int head_req = (lim >> 6) & 1, prev_mode = (int)(lim >> 7) * 2;
    fz_split sp;
    fz_split_init(&sp, &in);
    const uint8_t *msg = in.p;
    size_t n = in.n;
    fz_in choices = {msg, n};

    /* 1. The parser alone, whole and split.                                     */
    gn__http_head hw, hs;
    gn_http_header *hdw = (gn_http_header *)malloc((max_hdrs + 1) * sizeof *hdw);
    gn_http_header *hds = (gn_http_header *)malloc((max_hdrs + 1) * sizeof *hds);
    if (!hdw || !hds) abort();
    fz_split whole = {{0}, 0, 0};
    char *bw, *bs;
    size_t lw, ls;
    int rw = fz_feed_head(1, msg, n, &whole, 0, &choices, max_hdrs, maxh, &hw, hdw, &bw, &lw);
    int rs = fz_feed_head(1, msg, n, &sp, prev_mode, &choices, max_hdrs, maxh, &hs, hds, &bs, &ls);
    FZ_CHECK(rw == rs);
    FZ_CHECK(rw >= 0 || rw == GN_EHTTP || rw == GN_ETOOLARGE);
    if (rw > 0) {
        fz_check_head(bw, (const char *)msg, lw, &hw, 1);
        fz_check_head(bs, (const char *)msg, ls, &hs, 1);
        fz_str dw = {0}, ds = {0}, text = {0}, dr = {0};
        fz_describe_head(&dw, &hw, 1);
        fz_describe_head(&ds, &hs, 1);
        FZ_CHECK(fz_str_eq(&dw, &ds));
        fz_serialize_head(&text, &hw, 1);
        gn__http_head hr;
        gn_http_header *hdr = (gn_http_header *)malloc((max_hdrs + 1) * sizeof *hdr);
        if (!hdr) abort();
        char *tb = fz_dup(text.b, text.n);
        FZ_CHECK(gn__http_parse_response(tb, text.n, 0, &hr, hdr, max_hdrs, text.n + 1) == (int)text.n);
        fz_describe_head(&dr, &hr, 1);
        FZ_CHECK(fz_str_eq(&dw, &dr));
        free(tb);
        free(hdr);
        fz_str_free(&dw);
        fz_str_free(&ds);
        fz_str_free(&dr);
        fz_str_free(&text);
    }
    free(bw);
    free(bs);
    free(hdw);
    free(hds);

    /* 2. The client's loop, with a header array that starts small.            */
    gn__cl_conn pc;
    memset(&pc, 0, sizeof pc);
    pc.hcap = (lim & 7) % 4;
    pc.hdrs = (gn_http_header *)malloc((pc.hcap ? pc.hcap : 1) * sizeof *pc.hdrs);
    if (!pc.hdrs) abort();
    gn__http_head h;
    size_t len = 0, skipped = 0;
    fz_split sp2 = sp;
    sp2.at = 0;
    int r = fzp_client_head(&pc, maxh, msg, n, &sp2, &h, &len, &skipped);
    /* The same bytes after the skipped heads, parsed at once with room for
     * every field, give the same answer (a buffer cut at max_header_bytes
     * counts as "too large" in both).                                         */
    if (r > 0 || r == GN_EHTTP) {
        size_t rest = len;
        char *again = fz_dup(msg + skipped, rest);
        gn__http_head h2;
        gn_http_header *hd2 = (gn_http_header *)malloc((rest + 1) * sizeof *hd2);
        if (!hd2) abort();
        int r2 = gn__http_parse_response(again, rest, 0, &h2, hd2, rest + 1, maxh);
        if (r > 0) {
            FZ_CHECK(r2 == r);
            fz_str a = {0}, b = {0};
            fz_describe_head(&a, &h, 1);
            fz_describe_head(&b, &h2, 1);
            FZ_CHECK(fz_str_eq(&a, &b));
            fz_str_free(&a);
            fz_str_free(&b);
        } else if (r2 > 0) {
            FZ_CHECK(h2.status < 200 && h2.status != 101);   /* the sixth 1xx  */
        } else {
            FZ_CHECK(r2 == GN_EHTTP);
        }
        free(hd2);
        free(again);
    }
    if (r > 0) {
        size_t hl = (size_t)r;
        fz_str before = {0}, after = {0};
        fz_describe_head(&before, &h, 1);
        FZ_CHECK(gn__cl_regrow(&pc, &h, hl + GN__CL_RBUF + (lim & 1)) == 0);
        fz_describe_head(&after, &h, 1);
        FZ_CHECK(fz_str_eq(&before, &after));
        fz_str_free(&before);
        fz_str_free(&after);

        int kind = gn__http_response_body(&h, head_req);
        int none = head_req || h.status < 200 || h.status == 204 || h.status == 304;
        FZ_CHECK((kind == GN__HTTP_BODY_NONE) == none);
        if (!none) FZ_CHECK((kind == GN__HTTP_BODY_CHUNKED) == (h.chunked != 0));
        if (kind == GN__HTTP_BODY_LENGTH) FZ_CHECK(h.content_length >= 0);
        if (kind == GN__HTTP_BODY_CHUNKED) {
            /* What is buffered after the head, then the rest of the input:
             * decoded in one go and a byte at a time, alike.                  */
            size_t body = skipped + hl;
            gn__chunked c1, c2;
            gn__chunked_init(&c1, NULL, 0, 0);
            gn__chunked_init(&c2, NULL, 0, 0);
            fz_str d1 = {0}, d2 = {0};
            const char *src = (const char *)msg + body, *d;
            size_t left = n - body, at = 0, dl;
            int64_t e1 = 0, e2 = 0;
            while (at < left && !c1.done && (e1 = gn__chunked_feed(&c1, src + at, left - at, 0, &d, &dl)) >= 0) {
                fz_put(&d1, d, dl);
                at += (size_t)e1;
            }
            size_t at1 = at;
            for (at = 0; at < left && !c2.done;) {
                e2 = gn__chunked_feed(&c2, src + at, 1, 0, &d, &dl);
                if (e2 < 0) break;
                fz_put(&d2, d, dl);
                at += (size_t)e2;
            }
            FZ_CHECK(c1.done == c2.done && (e1 < 0) == (e2 < 0) && fz_str_eq(&d1, &d2));
            if (c1.done) FZ_CHECK(at1 == at);
            fz_str_free(&d1);
            fz_str_free(&d2);
        }
        const gn_http_header *loc = gn__http_find(&h, "Location");
        if (loc) fzp_location(loc->value, lim >> 3);
    }
    free(pc.buf);
    free(pc.hdrs);
    return 0;
}
