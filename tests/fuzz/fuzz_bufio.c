/* fuzz_bufio.c — gn_bufreader over an in-memory source that answers each call
 * with a size the input picks (sometimes 0 bytes, sometimes a passing error),
 * driven by a script of reader calls.
 *
 * Input: a buffer-size byte, a flags byte (bit 0: the stream ends with
 * GN_ECLOSED instead of GN_EOF; bit 1: use '\n' as read_slice's delimiter
 * always), two bytes of stream length, the stream, then the script, whose
 * bytes pick both the next call and the source's answers.
 * Invariants: what the calls hand out, put back in order, is the stream: each
 * call's bytes are the next ones (lines, with "\n" or "\r\n" between them as
 * read_line says; slices ending at the delimiter or at an error); the bytes
 * consumed always equal those delivered minus those buffered; every passing
 * error is reported once, after the data before it, and the end only when
 * everything has been read; unread_byte works exactly after a call that read
 * a byte, and the byte comes again.                                         */
#include "fuzz.h"

#define FZB_TRANSIENT GN_ETIMEDOUT

typedef struct fzb_src {
    const uint8_t *data;
    size_t         total, pos;      /* pos: bytes delivered                      */
    fz_in         *script;
    int            pend;            /* passing errors given, not yet reported    */
    int            passing;         /* passing errors given in all               */
    int            zeros;           /* 0-byte answers in a row                    */
    int            end_err;
} fzb_src;

static int64_t fzb_read(void *ctx, void *buf, size_t n) {
    fzb_src *s = (fzb_src *)ctx;
    FZ_CHECK(n > 0 && s->pend == 0);    /* no call while an error waits       */
    if (s->pos == s->total) return s->end_err;
    unsigned c = fz_u8(s->script);
    if (c < 8 && s->zeros < 5) {
        s->zeros++;
        return 0;
    }
    s->zeros = 0;
    if (c >= 8 && c < 12 && s->passing < 4) {
        s->passing++;
        s->pend++;
        return FZB_TRANSIENT;
    }
    size_t k = c >= 0xf0 ? n : (size_t)(c % 64) + 1;
    if (k > n) k = n;
    if (k > s->total - s->pos) k = s->total - s->pos;
    memcpy(buf, s->data + s->pos, k);
    s->pos += k;
    return (int64_t)k;
}

typedef struct fzb_model {
    gn_bufreader *r;
    fzb_src      *src;
    size_t        cur;       /* bytes consumed by the caller                       */
    int           unread_ok; /* 1: a byte was read last; 0: not; -1: unknown       */
} fzb_model;

/* An error from a call: a passing one is reported once; the end only when
 * every byte has been consumed.                                              */
static void fzb_err(fzb_model *m, int64_t e) {
    if (e == FZB_TRANSIENT) {
        FZ_CHECK(m->src->pend == 1);
        m->src->pend--;
    } else {
        FZ_CHECK(e == m->src->end_err);
        FZ_CHECK(m->src->pos == m->src->total && m->src->pend == 0);
        FZ_CHECK(m->cur == m->src->total);
    }
}

/* The bytes just handed out are the next ones of the stream.                 */
static void fzb_take(fzb_model *m, const char *p, size_t n) {
    FZ_CHECK(m->cur + n <= m->src->pos);
    FZ_CHECK(n == 0 || memcmp(p, m->src->data + m->cur, n) == 0);
    m->cur += n;
}

/* Nothing is buffered and an error waits (or the end is reached): why a call
 * may stop short of a delimiter.                                              */
static int fzb_stopped(const fzb_model *m) {
    return gn_bufreader_buffered(m->r) == 0 && (m->src->pend || m->src->pos == m->src->total);
}

static void fzb_step(fzb_model *m, unsigned op, unsigned arg, size_t size, int delim) {
    gn_bufreader *r = m->r;
    const uint8_t *d = m->src->data;
    char tmp[600];
    const char *p;
    int64_t k;
    switch (op % 10) {
    case 0: {                                   /* read                           */
        size_t n = 1 + arg % (sizeof tmp - 1);
        k = gn_bufreader_read(r, tmp, n);
        FZ_CHECK(k != 0 && k <= (int64_t)n);
        if (k < 0) {
            fzb_err(m, k);
        } else {
            fzb_take(m, tmp, (size_t)k);
            m->unread_ok = 1;
        }
        break;
    }
    case 1:                                     /* read_byte                      */
        k = gn_bufreader_read_byte(r);
        if (k < 0) {
            fzb_err(m, k);
        } else {
            FZ_CHECK(k <= 255);
            char c = (char)k;
            fzb_take(m, &c, 1);
            m->unread_ok = 1;
        }
        break;
    case 2: {                                   /* unread_byte                    */
        int rc = gn_bufreader_unread_byte(r);
        if (m->unread_ok >= 0) FZ_CHECK((rc == 0) == (m->unread_ok == 1 && m->cur > 0));
        if (rc == 0) {
            FZ_CHECK(m->cur > 0);
            m->cur--;
        } else {
            FZ_CHECK(rc == GN_EUNREAD);
        }
        m->unread_ok = 0;
        break;
    }
    case 3: {                                   /* peek                           */
        size_t n = arg % (size + 8);
        k = gn_bufreader_peek(r, n, &p);
        size_t have = gn_bufreader_buffered(r);
        FZ_CHECK(m->cur + have == m->src->pos);
        FZ_CHECK(have == 0 || memcmp(p, d + m->cur, have) == 0);
        if (k >= 0) {
            FZ_CHECK(k == (int64_t)n && have >= n);
        } else if (k == GN_EBUFFULL) {
            FZ_CHECK(n > size);
        } else {
            FZ_CHECK(have < n);
            if (k == FZB_TRANSIENT) {
                FZ_CHECK(m->src->pend == 1);
                m->src->pend--;
            } else {
                FZ_CHECK(k == m->src->end_err && m->src->pos == m->src->total);
            }
        }
        m->unread_ok = 0;
        break;
    }
    case 4:                                     /* read_slice                     */
        k = gn_bufreader_read_slice(r, delim, &p);
        if (k == GN_EBUFFULL) {
            FZ_CHECK(!memchr(p, delim, size));
            fzb_take(m, p, size);
            m->unread_ok = 1;
        } else if (k < 0) {
            fzb_err(m, k);
        } else {
            FZ_CHECK(k > 0 && !memchr(p, delim, (size_t)k - 1));
            fzb_take(m, p, (size_t)k);
            if ((unsigned char)p[k - 1] != (unsigned char)delim) FZ_CHECK(fzb_stopped(m));
            m->unread_ok = 1;
        }
        break;
    case 5: {                                   /* read_line                      */
        int pre = -1;
        k = gn_bufreader_read_line(r, &p, &pre);
        if (k < 0) {
            FZ_CHECK(pre == 0);
            fzb_err(m, k);
            break;
        }
        FZ_CHECK(!memchr(p, '\n', (size_t)k));
        fzb_take(m, p, (size_t)k);
        size_t at = m->cur;
        if (pre) {
            FZ_CHECK((size_t)k == size || ((size_t)k == size - 1 && d[at] == '\r'));
        } else if (at < m->src->pos && d[at] == '\n') {
            FZ_CHECK(k == 0 || p[k - 1] != '\r');
            m->cur += 1;
        } else if (at + 1 < m->src->pos && d[at] == '\r' && d[at + 1] == '\n') {
            m->cur += 2;
        } else {
            FZ_CHECK(fzb_stopped(m));
        }
        m->unread_ok = 1;
        break;
    }
    case 6: {                                   /* read_full                      */
        size_t n = 1 + arg % (sizeof tmp - 1), old = m->cur;
        k = gn_bufreader_read_full(r, tmp, n);
        if (k >= 0) {
            FZ_CHECK(k == (int64_t)n);
            fzb_take(m, tmp, n);
            m->unread_ok = 1;
            break;
        }
        /* Some bytes may have gone into tmp: as many as are no longer buffered. */
        size_t now = m->src->pos - gn_bufreader_buffered(r);
        FZ_CHECK(now >= old && now - old < n);
        fzb_take(m, tmp, now - old);
        if (k == GN_EUNEXPECTEDEOF) {
            FZ_CHECK(now > old && m->src->end_err == GN_EOF && m->src->pos == m->src->total);
        } else {
            if (k == m->src->end_err) FZ_CHECK(now == old || m->src->end_err != GN_EOF);
            fzb_err(m, k);
        }
        m->unread_ok = -1;
        break;
    }
    case 7: {                                   /* discard                        */
        size_t n = arg % (2 * size);
        k = gn_bufreader_discard(r, n);
        if (k < 0) {
            FZ_CHECK(n > 0);
            fzb_err(m, k);
        } else {
            FZ_CHECK(k <= (int64_t)n && (k > 0 || n == 0));
            fzb_take(m, (const char *)d + m->cur, (size_t)k);
            if ((size_t)k < n) FZ_CHECK(fzb_stopped(m));
        }
        m->unread_ok = 0;
        break;
    }
    case 8: {                                   /* read_bytes / read_string       */
        char *out = NULL;
        k = (arg & 1) ? gn_bufreader_read_string(r, delim, &out) : gn_bufreader_read_bytes(r, delim, &out);
        if (k < 0) {
            FZ_CHECK(out == NULL);
            fzb_err(m, k);
        } else {
            FZ_CHECK(k > 0 && out && !memchr(out, delim, (size_t)k - 1));
            if (arg & 1) FZ_CHECK(out[k] == '\0');
            fzb_take(m, out, (size_t)k);
            if ((unsigned char)out[k - 1] != (unsigned char)delim) FZ_CHECK(fzb_stopped(m));
            m->unread_ok = 1;
        }
        free(out);
        break;
    }
    default:
        FZ_CHECK(gn_bufreader_size(r) == size && gn_bufreader_buffered(r) <= size);
        break;
    }
    FZ_CHECK(m->cur + gn_bufreader_buffered(r) == m->src->pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_in in = {data, size};
    unsigned sz = fz_u8(&in), flags = fz_u8(&in);
    size_t bsize = GN_BUFREADER_MIN_SIZE + (sz & 0x80 ? (sz & 0x7f) * 8 : sz % 48);
    size_t total = fz_u16(&in) % (in.n + 1);
    fzb_src src;
    memset(&src, 0, sizeof src);
    src.data = in.p;
    src.total = total;
    src.end_err = (flags & 1) ? GN_ECLOSED : GN_EOF;
    fz_in script = {in.p + total, in.n - total};
    src.script = &script;
    char *buf = (char *)malloc(bsize);
    if (!buf) abort();
    gn_bufreader r;
    gn_bufreader_init(&r, fzb_read, &src, buf, bsize);
    fzb_model m = {&r, &src, 0, 0};
    /* Every call, until the script runs out; then lines to the end.           */
    for (int steps = 0; script.n && steps < 2000; steps++) {
        unsigned op = fz_u8(&script), arg = fz_u16(&script);
        int delim = (flags & 2) ? '\n' : "\n\r\0a/"[arg % 5];
        fzb_step(&m, op, arg, bsize, delim);
    }
    for (int steps = 0; m.cur < src.total || src.pend; steps++) {
        FZ_CHECK(steps < 100000);
        fzb_step(&m, 5, 0, bsize, '\n');
    }
    const char *line;
    FZ_CHECK(gn_bufreader_read_line(&r, &line, NULL) == src.end_err);
    FZ_CHECK(m.cur == src.total);
    free(buf);
    return 0;
}
