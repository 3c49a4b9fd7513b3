/* fuzz_http_request.c — the request head parser (gn__http_parse_request) fed
 * the same bytes whole and in pieces.
 *
 * Input: a limits byte (bits 0-2 pick max_hdrs, bits 3-5 max_head_bytes, bits
 * 6-7 how prev_len is passed), the split sizes (fuzz.h), then the message.
 * Invariants: every split, and any prev_len up to the previous call's length,
 * gives the result of the whole (status or error, and every parsed field); a
 * call that returns 0 leaves the buffer as it was; a parsed head keeps the
 * promises fz_check_head lists and looks as fzr_accepted says an acceptable
 * head looks; and the head printed again in its plainest form parses to the
 * same fields. */
#include "fuzz.h"

static const size_t fzr_max_hdrs[8] = {64, 0, 1, 2, 3, 8, 16, 100};
static const size_t fzr_max_head[8] = {0, 8192, 16, 64, 100, 256, 1024, 4096};

/* What an accepted head must look like, judged on its raw bytes: at most four
 * empty lines before it; no CR but before an LF; the request line exactly
 * method SP target SP HTTP/1.0 or HTTP/1.1, the same method and target as
 * parsed; each field line starting with its name (no obs-fold); a Host value
 * (and an absolute target's authority) made only of RFC 3986 authority bytes.
 * The parser's own checks, written again the other way round.               */
static void fzr_accepted(const uint8_t *raw, const gn__http_head *h) {
    const char *p = (const char *)raw, *e = p + h->head_len;
    int eols = 0;
    for (;;) {
        if (p < e && *p == '\n') p++;
        else if (e - p >= 2 && p[0] == '\r' && p[1] == '\n') p += 2;
        else break;
        eols++;
    }
    FZ_CHECK(eols <= 4);
    for (const char *q = p; q < e; q++)
        if (*q == '\r') FZ_CHECK(q + 1 < e && q[1] == '\n');
    const char *nl = (const char *)memchr(p, '\n', (size_t)(e - p));
    FZ_CHECK(nl != NULL);
    size_t ll = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
    FZ_CHECK(ll == h->method_len + 1 + h->target_len + 9);
    FZ_CHECK(memcmp(p, h->method, h->method_len) == 0 && p[h->method_len] == ' ');
    FZ_CHECK(memcmp(p + h->method_len + 1, h->target, h->target_len) == 0);
    const char *v = p + h->method_len + 1 + h->target_len;
    FZ_CHECK(memcmp(v, " HTTP/1.", 8) == 0 && (v[8] == '0' || v[8] == '1') && v[8] - '0' == h->minor);
    size_t lines = 0;
    for (p = nl + 1; p < e; p = nl + 1) {
        nl = (const char *)memchr(p, '\n', (size_t)(e - p));
        FZ_CHECK(nl != NULL);
        if (nl == p || (nl == p + 1 && *p == '\r')) {
            FZ_CHECK(nl + 1 == e);
            break;
        }
        FZ_CHECK(GN__HC(*p, GN__HC_TCHAR));
        lines++;
    }
    FZ_CHECK(lines == h->nhdrs);
    for (size_t i = 0; i < h->host_len; i++) {
        char c = h->host[i];
        FZ_CHECK(((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ||
                 strchr("-._~!$&'()*+,;=%:[]", c));
    }
    switch (h->form) {
    case GN__HTTP_FORM_ORIGIN: FZ_CHECK(h->target[0] == '/'); break;
    case GN__HTTP_FORM_AUTHORITY: FZ_CHECK(strcmp(h->method, "CONNECT") == 0 && h->host_len > 0); break;
    case GN__HTTP_FORM_ASTERISK: FZ_CHECK(strcmp(h->method, "OPTIONS") == 0 && strcmp(h->target, "*") == 0); break;
    default:
        FZ_CHECK(h->form == GN__HTTP_FORM_ABSOLUTE && strstr(h->target, "://") && h->authority_len > 0);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    unsigned lim = fz_u8(&in);
    size_t max_hdrs = fzr_max_hdrs[lim & 7], max_head = fzr_max_head[(lim >> 3) & 7];
    int prev_mode = (int)(lim >> 6);
    fz_split sp;
    fz_split_init(&sp, &in);
    const uint8_t *msg = in.p;
    size_t n = in.n;
    /* prev_len choices: the message's bytes read again by a second cursor, so
     * choosing takes nothing away from the message.                          */
    fz_in choices = {msg, n};

    gn__http_head hw, hs;
    gn_http_header *hdw = (gn_http_header *)malloc((max_hdrs + 1) * sizeof *hdw);
    gn_http_header *hds = (gn_http_header *)malloc((max_hdrs + 1) * sizeof *hds);
    if (!hdw || !hds) abort();
    memset(&hw, 0, sizeof hw);
    memset(&hs, 0, sizeof hs);

    fz_split whole = {{0}, 0, 0};
    char *bw, *bs;
    size_t lw, ls;
    int rw = fz_feed_head(0, msg, n, &whole, 0, &choices, max_hdrs, max_head, &hw, hdw, &bw, &lw);
    int rs = fz_feed_head(0, msg, n, &sp, prev_mode, &choices, max_hdrs, max_head, &hs, hds, &bs, &ls);
    FZ_CHECK(rw == rs);
    FZ_CHECK(rw >= 0 || rw == -400 || rw == -431 || rw == -501 || rw == -505 || rw == -417);
    if (rw > 0) {
        FZ_CHECK((size_t)rw == hw.head_len && hw.nhdrs <= max_hdrs);
        fz_check_head(bw, (const char *)msg, lw, &hw, 0);
        fz_check_head(bs, (const char *)msg, ls, &hs, 0);
        fzr_accepted(msg, &hw);
        fz_str dw = {0}, ds = {0}, text = {0}, dr = {0};
        fz_describe_head(&dw, &hw, 0);
        fz_describe_head(&ds, &hs, 0);
        FZ_CHECK(fz_str_eq(&dw, &ds));

        /* The plainest form of the same head. It may be longer than the input
         * (CRLF for a bare LF), so the byte limit is lifted to fit it.       */
        fz_serialize_head(&text, &hw, 0);
        gn__http_head hr;
        gn_http_header *hdr = (gn_http_header *)malloc((max_hdrs + 1) * sizeof *hdr);
        if (!hdr) abort();
        char *tb = fz_dup(text.b, text.n);
        int rr = gn__http_parse_request(tb, text.n, 0, &hr, hdr, max_hdrs, text.n + 1);
        FZ_CHECK(rr == (int)text.n);
        fz_describe_head(&dr, &hr, 0);
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
    return 0;
}
