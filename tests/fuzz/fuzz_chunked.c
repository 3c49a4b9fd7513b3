/* fuzz_chunked.c — the chunked decoder (gn__chunked_feed) on arbitrary bytes
 * and on bodies it must accept.
 *
 * Input: a mode byte (bits 0-1 the data span cap, bit 2 a trailer buffer, bits
 * 3-4 the trailer limit, bit 5 reading chunk data around the decoder as the
 * client does, bits 6-7 = 3 for the round trip), the split sizes (fuzz.h),
 * then the body, or for the round trip the payload and the encoder's choices.
 * Invariants: fed whole or in any pieces, and with any span cap, a body gives
 * the same data, the same end (bytes consumed) or error, the same trailers;
 * a span is the last thing a call consumed and within the cap; a call without
 * a span eats all it was given; errors stick; without a trailer buffer the
 * outcome is what the grammar, checked here on the whole body, says.
 * Round trip: a body encoded here (chunks of any size, extensions, trailers,
 * bytes of the next message after it) decodes to its payload and trailers and
 * ends exactly where it ends.                                                */
#include "fuzz.h"

typedef struct fzc_result {
    fz_str  data;
    fz_str  trailers;
    size_t  consumed;
    int     done, err;
} fzc_result;

static const size_t fzc_caps[4] = {0, 1, 7, 4096};
static const size_t fzc_tmax[4] = {0, 1, 30, 200};

static void fzc_decode(const uint8_t *msg, size_t n, fz_split *sp, unsigned mode, fz_in *ch,
                       fzc_result *res) {
    size_t max_data = fzc_caps[mode & 3];
    char tbuf[256];
    gn__chunked c;
    gn__chunked_init(&c, (mode & 4) ? tbuf : NULL, sizeof tbuf, fzc_tmax[(mode >> 3) & 3]);
    memset(res, 0, sizeof *res);
    size_t pos = 0, avail = 0;
    char *win = NULL;
    for (;;) {
        if (pos == avail) {
            if (avail == n) break;
            avail += fz_split_next(sp, n - avail);
        }
        if ((mode & 32) && gn__chunked_data_left(&c) && (fz_u8(ch) & 1)) {
            /* As the client does with an empty buffer: data read around the
             * decoder, which is then told how much.                            */
            uint64_t k = gn__chunked_data_left(&c);
            if (k > avail - pos) k = avail - pos;
            fz_put(&res->data, msg + pos, (size_t)k);
            gn__chunked_skip_data(&c, k);
            pos += (size_t)k;
            continue;
        }
        /* Only the unconsumed bytes, in a block of their size.                   */
        size_t have = avail - pos;
        free(win);
        win = (char *)malloc(have);
        if (!win) abort();
        memcpy(win, msg + pos, have);
        const char *d;
        size_t dl;
        int64_t r = gn__chunked_feed(&c, win, have, max_data, &d, &dl);
        if (r < 0) {
            FZ_CHECK(r == GN_EHTTP || r == GN_ETOOLARGE);
            const char *d2;
            size_t dl2;
            FZ_CHECK(gn__chunked_feed(&c, win, have, max_data, &d2, &dl2) == r && dl2 == 0);
            res->err = (int)r;
            break;
        }
        FZ_CHECK(r > 0 && (size_t)r <= have);
        if (dl) {
            FZ_CHECK(d >= win && d + dl == win + r);
            FZ_CHECK(!max_data || dl <= max_data);
            fz_put(&res->data, d, dl);
        } else if (!c.done) {
            FZ_CHECK((size_t)r == have);
        }
        pos += (size_t)r;
        if (c.done) {
            res->done = 1;
            break;
        }
    }
    free(win);
    res->consumed = pos;
    if (mode & 4) {
        gn_http_header th[64];
        size_t nt = gn__chunked_trailers(&c, th, 64);
        fz_put_int(&res->trailers, (long long)nt);
        for (size_t i = 0; i < nt && i < 64; i++) {
            fz_put_span(&res->trailers, th[i].name, th[i].name_len);
            fz_put_span(&res->trailers, th[i].value, th[i].value_len);
        }
    }
}

/* The chunked grammar checked on the whole body at once, written from RFC 9112
 * §7.1 and the limits the decoder documents: 1 with the data and where the
 * body ends, -1 for an error, 0 when the bytes end first. Errors are decided
 * at the first byte that makes one, as the decoder does, so that a body cut
 * short is "more", not "bad".                                                 */
static int fzc_tchar(int c) { return c > 0x20 && c < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", c); }
static int fzc_vchar(int c) { return c == '\t' || c == ' ' || (c > 0x20 && c != 0x7f); }
static int fzc_hexd(int c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int fzc_reference(const uint8_t *p, size_t n, size_t max_trailer, fz_str *data, size_t *end) {
    size_t i = 0;
    long long debt = 0;
    if (!max_trailer) max_trailer = 16 * 1024;
    for (;;) {
        /* chunk-size [ chunk-ext ] CRLF, at most 4 KiB with its CRLF           */
        size_t ls = i;
        uint64_t size = 0;
        enum { HEX, AFTER, SEMI, NAME, NAME_WS, EQ, TOKEN, QUOTED, QESC, CLOSED, LF } st = HEX;
        for (;;) {
            if (i == n) return 0;
            if (i - ls + 1 > 4096) return -1;
            int c = p[i++], ws = c == ' ' || c == '\t', d = fzc_hexd(c);
            if (st == HEX && d >= 0) {
                if (size > (uint64_t)INT64_MAX / 16 || size * 16 > (uint64_t)INT64_MAX - (uint64_t)d) return -1;
                size = size * 16 + (uint64_t)d;
                continue;
            }
            if (st == HEX && i - 1 == ls) return -1;             /* no digits   */
            if (st == LF) {
                if (c != '\n') return -1;
                break;
            }
            int end_ok = st == HEX || st == NAME || st == TOKEN || st == CLOSED;
            if (c == '\r' && end_ok) st = LF;
            else if (c == ';' && (end_ok || st == AFTER || st == NAME_WS)) st = SEMI;
            else if (ws && (st == HEX || st == TOKEN || st == CLOSED || st == AFTER)) st = AFTER;
            else if (ws && (st == SEMI || st == EQ)) {}
            else if (ws && (st == NAME || st == NAME_WS)) st = NAME_WS;
            else if (fzc_tchar(c) && (st == SEMI || st == NAME)) st = NAME;
            else if (c == '=' && (st == NAME || st == NAME_WS)) st = EQ;
            else if (fzc_tchar(c) && (st == EQ || st == TOKEN)) st = TOKEN;
            else if (c == '"' && st == EQ) st = QUOTED;
            else if (st == QUOTED && c == '"') st = CLOSED;
            else if (st == QUOTED && c == '\\') st = QESC;
            else if (st == QUOTED && fzc_vchar(c)) {}
            else if (st == QESC && fzc_vchar(c)) st = QUOTED;
            else return -1;
        }
        long long line = (long long)(i - ls);
        long long pay = 16 + (size > ((uint64_t)1 << 40) ? (1LL << 41) : 2 * (long long)size);
        debt += line - pay + 2;
        if (debt < 0) debt = 0;
        if (debt > 16 * 1024) return -1;
        if (size == 0) break;
        if ((uint64_t)(n - i) < size) return 0;
        fz_put(data, p + i, (size_t)size);
        i += (size_t)size;
        if (i == n) return 0;
        if (p[i++] != '\r') return -1;
        if (i == n) return 0;
        if (p[i++] != '\n') return -1;
    }
    /* trailer fields, then the empty line; all of it within max_trailer      */
    size_t ts = i;
    enum { START, FNAME, FVALUE, FLF, ENDLF } ts_st = START;
    for (;;) {
        if (i == n) return 0;
        if (i - ts + 1 > max_trailer) return -1;
        int c = p[i++];
        switch (ts_st) {
        case START:
            if (c == '\r') ts_st = ENDLF;
            else if (fzc_tchar(c)) ts_st = FNAME;
            else return -1;
            break;
        case FNAME:
            if (c == ':') ts_st = FVALUE;
            else if (!fzc_tchar(c)) return -1;
            break;
        case FVALUE:
            if (c == '\r') ts_st = FLF;
            else if (!fzc_vchar(c)) return -1;
            break;
        case FLF:
            if (c != '\n') return -1;
            ts_st = START;
            break;
        default:
            if (c != '\n') return -1;
            *end = i;
            return 1;
        }
    }
}

static void fzc_free(fzc_result *r) {
    fz_str_free(&r->data);
    fz_str_free(&r->trailers);
}

static const char *const fzc_exts[] = {
    "", ";a", ";a=b", " ;name=\"q \\\" d\"", ";x;y=1", "\t; k = v", ";e=\"\"",
};
static const char *const fzc_trailers[][2] = {
    {"X-Sum", "abc"}, {"Expires", "0"}, {"t", ""}, {"Server-Timing", "db;dur=53, app;dur=47.2"},
};

/* Encodes payload p[0, n) chunk by chunk as the choices in ch say, then the
 * last chunk, trailers and a pipelined request after the body.                */
static size_t fzc_encode(const uint8_t *p, size_t n, fz_in *ch, fz_str *out, fz_str *want_tr,
                         int with_tbuf) {
    size_t at = 0;
    char line[64];
    while (at < n) {
        unsigned a = fz_u8(ch), b = fz_u8(ch);
        size_t k = (size_t)(a % 64) + 1 + (b & 0x80 ? (size_t)(b & 0x7f) * 64 : 0);
        if (k > n - at) k = n - at;
        int zeros = (int)(b & 3);
        snprintf(line, sizeof line, (b & 4) ? "%0*lX" : "%0*lx", zeros + 1, (unsigned long)k);
        fz_puts(out, line);
        /* Long extensions only on chunks whose data pays for them: tiny chunks
         * with long lines are refused on purpose (GN__CHUNKED_MAX_EXCESS).     */
        fz_puts(out, fzc_exts[a % (k >= 8 ? sizeof fzc_exts / sizeof *fzc_exts : 3)]);
        fz_put(out, "\r\n", 2);
        fz_put(out, p + at, k);
        fz_put(out, "\r\n", 2);
        at += k;
    }
    fz_puts(out, (fz_u8(ch) & 1) ? "000" : "0");
    fz_put(out, "\r\n", 2);
    unsigned nt = fz_u8(ch) % 4;
    if (with_tbuf) fz_put_int(want_tr, nt);
    for (unsigned i = 0; i < nt; i++) {
        unsigned t = fz_u8(ch) % 4;
        fz_puts(out, fzc_trailers[t][0]);
        fz_puts(out, (t & 1) ? ":  " : ":");
        fz_puts(out, fzc_trailers[t][1]);
        fz_puts(out, (t & 2) ? " \t\r\n" : "\r\n");
        if (with_tbuf) {
            fz_put_span(want_tr, fzc_trailers[t][0], strlen(fzc_trailers[t][0]));
            fz_put_span(want_tr, fzc_trailers[t][1], strlen(fzc_trailers[t][1]));
        }
    }
    fz_put(out, "\r\n", 2);
    size_t end = out->n;
    fz_puts(out, "GET /next HTTP/1.1\r\n\r\n");
    return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    unsigned mode = fz_u8(&in);
    fz_split sp;
    fz_split_init(&sp, &in);
    if ((mode >> 6) == 3) {
        /* Round trip: the first half of what is left is the payload, the second
         * the encoder's choices. Trailer limits are lifted: they are checked
         * on arbitrary bytes.                                                   */
        mode &= ~(unsigned)(3 << 3);
        size_t half = in.n / 2;
        fz_in ch = {in.p + half, in.n - half};
        fz_str body = {0}, want_tr = {0};
        size_t end = fzc_encode(in.p, half, &ch, &body, &want_tr, (mode & 4) != 0);
        fz_in dch = {in.p, half};
        fzc_result r;
        fzc_decode((const uint8_t *)body.b, body.n, &sp, mode, &dch, &r);
        FZ_CHECK(r.err == 0 && r.done && r.consumed == end);
        FZ_CHECK(r.data.n == half && (half == 0 || memcmp(r.data.b, in.p, half) == 0));
        FZ_CHECK(fz_str_eq(&r.trailers, &want_tr));
        fzc_free(&r);
        fz_str_free(&body);
        fz_str_free(&want_tr);
        return 0;
    }
    fz_split whole = {{0}, 0, 0};
    fz_in ch1 = {in.p, in.n}, ch2 = {in.p, in.n};
    fzc_result a, b;
    fzc_decode(in.p, in.n, &whole, mode & ~32u, &ch1, &a);
    if (!(mode & 4)) {
        /* Without a trailer buffer (whose own limit the grammar does not know),
         * the decoder and the grammar agree on every body.                     */
        fz_str want = {0};
        size_t end = 0;
        int ref = fzc_reference(in.p, in.n, fzc_tmax[(mode >> 3) & 3], &want, &end);
        FZ_CHECK((ref == 1) == a.done && (ref < 0) == (a.err != 0));
        if (ref == 1) FZ_CHECK(end == a.consumed && fz_str_eq(&want, &a.data));
        fz_str_free(&want);
    }
    fzc_decode(in.p, in.n, &sp, mode, &ch2, &b);
    FZ_CHECK(a.err == b.err && a.done == b.done);
    FZ_CHECK(fz_str_eq(&a.data, &b.data));
    FZ_CHECK(fz_str_eq(&a.trailers, &b.trailers));
    if (a.done) FZ_CHECK(a.consumed == b.consumed);
    /* An uncapped whole feed and a capped split one agree too.                  */
    fzc_result c;
    fz_in ch3 = {in.p, in.n};
    fz_split whole2 = {{0}, 0, 0};
    fzc_decode(in.p, in.n, &whole2, (mode & ~3u) & ~32u, &ch3, &c);
    FZ_CHECK(c.err == a.err && c.done == a.done && fz_str_eq(&c.data, &a.data));
    if (a.done) FZ_CHECK(c.consumed == a.consumed);
    fzc_free(&a);
    fzc_free(&b);
    fzc_free(&c);
    return 0;
}
