/* test_bufio.c — gn_bufreader and gn_bufwriter over in-memory sources and sinks
 * whose chunking, zero-byte results and errors the tests choose, a random
 * model check of the reader, and a pipe between two coroutines. */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"

#include <errno.h>
#include <stdio.h>

/* test_util.h's EQI evaluates got again to print it; this one evaluates once.   */
#undef EQI
#define EQI(exp, got) do {                                                         \
        long long eqi_exp_ = (long long)(exp), eqi_got_ = (long long)(got);        \
        ASSERT_EQ_FMT(eqi_exp_, eqi_got_, "%lld");                                 \
    } while (0)

/* ---- a source: data handed out in chosen chunks --------------------------------
 * chunks[] cycles; a 0 entry returns 0 bytes (a source making no progress).
 * chunks == NULL with rnd set: random chunks of 1..rnd bytes, 1 in 8 empty.
 * At the end: end_err (GN_EOF by default), on every call. fail_at: once the
 * position reaches it, fail_err is returned once, then the data goes on.       */
typedef struct {
    const char *data;
    size_t len, pos;
    const size_t *chunks;
    size_t nchunks, ci;
    unsigned rnd, seed;
    int end_err;
    size_t fail_at;
    int fail_err, failed;
    int calls;
    size_t last_asked;
    int overclaim;          /* return more than asked for                        */
} src_t;

static unsigned rnd_next(unsigned *s) {
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

static void src_init(src_t *s, const char *data, size_t len) {
    memset(s, 0, sizeof *s);
    s->data = data;
    s->len = len;
    s->end_err = GN_EOF;
    s->fail_at = (size_t)-1;
}

static int64_t src_read(void *ctx, void *buf, size_t n) {
    src_t *s = (src_t *)ctx;
    s->calls++;
    s->last_asked = n;
    if (n == 0) return 0;
    if (s->overclaim) return (int64_t)n + 1;
    if (!s->failed && s->pos >= s->fail_at) {
        s->failed = 1;
        return s->fail_err;
    }
    if (s->pos == s->len) return s->end_err;
    size_t chunk;
    if (s->chunks) {
        chunk = s->chunks[s->ci++ % s->nchunks];
    } else if (s->rnd) {
        chunk = rnd_next(&s->seed) % 8 == 0 ? 0 : 1 + rnd_next(&s->seed) % s->rnd;
    } else {
        chunk = n;
    }
    if (chunk == 0) return 0;
    size_t k = chunk < n ? chunk : n;
    if (k > s->len - s->pos) k = s->len - s->pos;
    if (s->pos < s->fail_at && s->pos + k > s->fail_at && !s->failed) k = s->fail_at - s->pos;
    memcpy(buf, s->data + s->pos, k);
    s->pos += k;
    return (int64_t)k;
}

static const size_t CH1[] = {1}, CH3[] = {3}, CH7[] = {7}, CH_MIX[] = {5, 0, 1, 16, 0, 0, 2, 9};

/* Sets the chunking of s by pattern number: 0 all at once, 1/3/7, a mix with
 * empty reads, random.                                                           */
static void src_pattern(src_t *s, int pat, unsigned seed) {
    switch (pat) {
    case 1: s->chunks = CH1; s->nchunks = 1; break;
    case 2: s->chunks = CH3; s->nchunks = 1; break;
    case 3: s->chunks = CH7; s->nchunks = 1; break;
    case 4: s->chunks = CH_MIX; s->nchunks = sizeof CH_MIX / sizeof CH_MIX[0]; break;
    case 5: s->rnd = 23; s->seed = seed; break;
    default: break;
    }
}
#define NPATTERNS 6

/* ---- a sink: appends to memory, can fail after N bytes, write short ------------ */
typedef struct {
    char data[1 << 16];
    size_t len;
    size_t fail_after;       /* accept this many bytes in all, then fail        */
    int fail_err;
    size_t max_per_call;     /* > 0: a short write of at most this many          */
    int zero;                /* return 0 bytes, always                           */
    int calls;
    size_t last_n;
} sink_t;

static void sink_init(sink_t *k) {
    memset(k, 0, sizeof *k);
    k->fail_after = (size_t)-1;
    k->fail_err = -EPIPE;
}

static int64_t sink_write(void *ctx, const void *buf, size_t n) {
    sink_t *k = (sink_t *)ctx;
    k->calls++;
    k->last_n = n;
    if (k->zero) return 0;
    size_t take = n;
    if (k->max_per_call && take > k->max_per_call) take = k->max_per_call;
    if (k->len + take > k->fail_after) {
        size_t part = k->fail_after - k->len;
        memcpy(k->data + k->len, buf, part);
        k->len += part;
        return k->fail_err;
    }
    if (k->len + take > sizeof k->data) return -ENOSPC;
    memcpy(k->data + k->len, buf, take);
    k->len += take;
    return (int64_t)take;
}

#define SLICE_EQ(str, p, n) do {                                                   \
        EQI(strlen(str), (n));                                                     \
        ASSERT_MEM_EQ((str), (p), strlen(str));                                    \
    } while (0)

/* ---- reader: set-up, invalid arguments ------------------------------------------ */
TEST reader_invalid_args(void) {
    char buf[64], out[8];
    const char *p = "x";
    char *m = (char *)"x";
    int pre = 7;
    gn_bufreader r;
    src_t s;
    src_init(&s, "abc", 3);

    /* NULL reader */
    EQI(GN_EINVAL, gn_bufreader_read(NULL, out, 1));
    EQI(GN_EINVAL, gn_bufreader_read_byte(NULL));
    EQI(GN_EINVAL, gn_bufreader_unread_byte(NULL));
    EQI(GN_EINVAL, gn_bufreader_peek(NULL, 1, &p));
    ASSERT_EQ(NULL, p);
    EQI(GN_EINVAL, gn_bufreader_read_slice(NULL, '\n', &p));
    EQI(GN_EINVAL, gn_bufreader_read_bytes(NULL, '\n', &m));
    ASSERT_EQ(NULL, m);
    EQI(GN_EINVAL, gn_bufreader_read_string(NULL, '\n', &m));
    EQI(GN_EINVAL, gn_bufreader_read_line(NULL, &p, &pre));
    EQI(0, pre);
    EQI(GN_EINVAL, gn_bufreader_read_full(NULL, out, 1));
    EQI(GN_EINVAL, gn_bufreader_discard(NULL, 1));
    EQI(0, gn_bufreader_buffered(NULL));
    EQI(0, gn_bufreader_size(NULL));
    gn_bufreader_init(NULL, src_read, &s, buf, sizeof buf);
    gn_bufreader_reset(NULL, src_read, &s);
    gn_bufreader_free(NULL);

    /* too small a buffer, or none: the reader is invalid */
    gn_bufreader_init(&r, src_read, &s, buf, GN_BUFREADER_MIN_SIZE - 1);
    EQI(GN_EINVAL, gn_bufreader_read_byte(&r));
    EQI(0, gn_bufreader_size(&r));
    gn_bufreader_init(&r, src_read, &s, NULL, sizeof buf);
    EQI(GN_EINVAL, gn_bufreader_read(&r, out, 1));
    EQI(0, s.calls);
    gn_bufreader_free(&r);   /* not from _new: no-op */

    /* a valid reader, bad arguments */
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(GN_EINVAL, gn_bufreader_read(&r, NULL, 1));
    EQI(GN_EINVAL, gn_bufreader_read_full(&r, NULL, 1));
    EQI(GN_EINVAL, gn_bufreader_read_slice(&r, '\n', NULL));
    EQI(GN_EINVAL, gn_bufreader_read_bytes(&r, '\n', NULL));
    EQI(GN_EINVAL, gn_bufreader_read_line(&r, NULL, NULL));
    EQI(0, s.calls);
    EQI(3, gn_bufreader_peek(&r, 3, NULL));     /* out may be NULL */
    EQI('a', gn_bufreader_read_byte(&r));
    gn_bufreader_free(&r);   /* not from _new: no-op, still usable */
    EQI('b', gn_bufreader_read_byte(&r));
    PASS();
}

TEST reader_new_sizes(void) {
    src_t s;
    src_init(&s, "hello", 5);
    gn_bufreader *r = gn_bufreader_new(src_read, &s, 0);
    ASSERT(r);
    EQI(GN_BUFIO_DEFAULT_SIZE, gn_bufreader_size(r));
    EQI(4096, gn_bufreader_size(r));
    char out[8];
    EQI(5, gn_bufreader_read(r, out, sizeof out));
    ASSERT_MEM_EQ("hello", out, 5);
    EQI(GN_EOF, gn_bufreader_read(r, out, sizeof out));
    gn_bufreader_free(r);

    r = gn_bufreader_new(src_read, &s, 3);   /* raised to the minimum */
    ASSERT(r);
    EQI(GN_BUFREADER_MIN_SIZE, gn_bufreader_size(r));
    gn_bufreader_free(r);

    ASSERT_EQ(NULL, gn_bufreader_new(src_read, &s, SIZE_MAX - 8));   /* cannot fit */
    PASS();
}

TEST reader_null_source(void) {
    char buf[16];
    gn_bufreader r;
    gn_bufreader_init(&r, NULL, NULL, buf, sizeof buf);
    EQI(16, gn_bufreader_size(&r));
    EQI(GN_EINVAL, gn_bufreader_read_byte(&r));
    const char *p;
    EQI(GN_EINVAL, gn_bufreader_read_slice(&r, '\n', &p));
    src_t s;
    src_init(&s, "ok\n", 3);
    gn_bufreader_reset(&r, src_read, &s);
    EQI(3, gn_bufreader_read_slice(&r, '\n', &p));
    SLICE_EQ("ok\n", p, 3);
    PASS();
}

/* ---- reader: read ---------------------------------------------------------------- */
static const char TEXT[] =
    "The quick brown fox\njumps over\r\n\nthe lazy dog.\n"
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
    "\r\n\r\nlast line without newline";

TEST read_all_patterns(void) {
    size_t len = sizeof TEXT - 1;
    static const size_t dsts[] = {1, 2, 5, 15, 16, 17, 100};
    for (int pat = 0; pat < NPATTERNS; pat++) {
        for (size_t d = 0; d < sizeof dsts / sizeof dsts[0]; d++) {
            char buf[16], got[256], tmp[128];
            size_t glen = 0;
            src_t s;
            gn_bufreader r;
            src_init(&s, TEXT, len);
            src_pattern(&s, pat, (unsigned)(pat * 31 + d));
            gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
            for (;;) {
                int calls = s.calls;
                int64_t m = gn_bufreader_read(&r, tmp, dsts[d]);
                if (m == GN_EOF) break;
                ASSERT_GT(m, 0);
                ASSERT_LTE((size_t)m, dsts[d]);
                /* one source call, except while it returns 0 bytes */
                if (pat != 4 && pat != 5) ASSERT_LTE(s.calls - calls, 1);
                memcpy(got + glen, tmp, (size_t)m);
                glen += (size_t)m;
                ASSERT_LTE(glen, len);
            }
            EQI(len, glen);
            ASSERT_MEM_EQ(TEXT, got, len);
            EQI(GN_EOF, gn_bufreader_read(&r, tmp, 1));   /* again at the end */
        }
    }
    PASS();
}

TEST read_straight_through(void) {
    char buf[16], big[64];
    src_t s;
    gn_bufreader r;
    static const char zeros[16];
    src_init(&s, TEXT, 64);
    memset(buf, 0, sizeof buf);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    /* empty buffer and n >= its size: one call, straight into big */
    EQI(40, gn_bufreader_read(&r, big, 40));
    EQI(1, s.calls);
    EQI(40, s.last_asked);
    EQI(0, gn_bufreader_buffered(&r));
    ASSERT_MEM_EQ(TEXT, big, 40);
    ASSERT_MEM_EQ(zeros, buf, 16);   /* the buffer was not used */
    /* a small read fills the buffer: the source is asked for all of it */
    EQI(4, gn_bufreader_read(&r, big, 4));
    EQI(2, s.calls);
    EQI(16, s.last_asked);
    EQI(12, gn_bufreader_buffered(&r));
    ASSERT_MEM_EQ(TEXT + 40, big, 4);
    /* bytes buffered: a big read returns only those, no source call */
    EQI(12, gn_bufreader_read(&r, big, 64));
    EQI(2, s.calls);
    ASSERT_MEM_EQ(TEXT + 44, big, 12);
    EQI(8, gn_bufreader_read(&r, big, 16));
    EQI(16, s.last_asked);
    EQI(0, gn_bufreader_buffered(&r));
    ASSERT_MEM_EQ(TEXT + 56, big, 8);
    EQI(GN_EOF, gn_bufreader_read(&r, big, 16));

    /* exactly the buffer's size goes straight through too */
    src_init(&s, TEXT, 64);
    memset(buf, 0, sizeof buf);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(16, gn_bufreader_read(&r, big, 16));
    ASSERT_MEM_EQ(TEXT, big, 16);
    ASSERT_MEM_EQ(zeros, buf, 16);
    PASS();
}

TEST read_at_most_one_call(void) {
    char buf[32], out[20];
    src_t s;
    gn_bufreader r;
    src_init(&s, TEXT, 40);
    src_pattern(&s, 2, 0);   /* 3 bytes a call */
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(3, gn_bufreader_read(&r, out, 10));
    EQI(1, s.calls);
    EQI(0, gn_bufreader_read(&r, out, 0));   /* n == 0: nothing, no call */
    EQI(1, s.calls);
    PASS();
}

TEST read_error_after_data_then_recovers(void) {
    char buf[16], out[32];
    src_t s;
    gn_bufreader r;
    src_init(&s, "abcdefgh", 8);
    s.fail_at = 3;
    s.fail_err = GN_ETIMEDOUT;   /* a deadline: returned once, then data again */
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(3, gn_bufreader_read(&r, out, sizeof out));
    ASSERT_MEM_EQ("abc", out, 3);
    EQI(GN_ETIMEDOUT, gn_bufreader_read(&r, out, sizeof out));
    EQI(5, gn_bufreader_read(&r, out, sizeof out));
    ASSERT_MEM_EQ("defgh", out, 5);
    EQI(GN_EOF, gn_bufreader_read(&r, out, sizeof out));

    /* data buffered before the error comes first: read_byte, then the error once */
    src_init(&s, "abcdefgh", 8);
    s.fail_at = 2;
    s.fail_err = -ECONNRESET;
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI('a', gn_bufreader_read_byte(&r));
    EQI('b', gn_bufreader_read_byte(&r));
    EQI(-ECONNRESET, gn_bufreader_read_byte(&r));
    EQI('c', gn_bufreader_read_byte(&r));
    ASSERT_STR_EQ("Connection reset by peer", gn_strerror(-ECONNRESET));

    /* n == 0 with nothing buffered reports a kept error */
    src_init(&s, "abc", 3);
    s.end_err = GN_ETIMEDOUT;
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    const char *p;
    EQI(3, gn_bufreader_read_slice(&r, '\n', &p));   /* the tail; the error is kept */
    EQI(GN_ETIMEDOUT, gn_bufreader_read(&r, out, 0));
    EQI(0, gn_bufreader_read(&r, out, 0));
    PASS();
}

/* ---- reader: read_byte and unread_byte ------------------------------------------- */
TEST read_byte_all_patterns(void) {
    size_t len = sizeof TEXT - 1;
    for (int pat = 0; pat < NPATTERNS; pat++) {
        char buf[16];
        src_t s;
        gn_bufreader r;
        src_init(&s, TEXT, len);
        src_pattern(&s, pat, 7);
        gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
        for (size_t i = 0; i < len; i++) EQI((unsigned char)TEXT[i], gn_bufreader_read_byte(&r));
        EQI(GN_EOF, gn_bufreader_read_byte(&r));
        EQI(GN_EOF, gn_bufreader_read_byte(&r));
    }
    /* bytes >= 0x80 come back as 128..255, not negative */
    char buf[16];
    src_t s;
    gn_bufreader r;
    src_init(&s, "\xff\x80", 2);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(255, gn_bufreader_read_byte(&r));
    EQI(128, gn_bufreader_read_byte(&r));
    PASS();
}

TEST unread_byte_rules(void) {
    char buf[16], out[32];
    const char *p;
    int pre;
    src_t s;
    gn_bufreader r;
    src_init(&s, TEXT, sizeof TEXT - 1);
    src_pattern(&s, 2, 0);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);

    EQI(GN_EUNREAD, gn_bufreader_unread_byte(&r));     /* nothing read yet */
    EQI('T', gn_bufreader_read_byte(&r));
    EQI(0, gn_bufreader_unread_byte(&r));
    EQI(GN_EUNREAD, gn_bufreader_unread_byte(&r));     /* twice in a row */
    EQI('T', gn_bufreader_read_byte(&r));
    EQI('h', gn_bufreader_read_byte(&r));
    EQI(0, gn_bufreader_unread_byte(&r));
    EQI('h', gn_bufreader_read_byte(&r));

    EQI(1, gn_bufreader_read(&r, out, 2));   /* what is buffered, no source call */
    EQI('e', out[0]);
    EQI(0, gn_bufreader_unread_byte(&r));              /* after read: its last byte */
    EQI('e', gn_bufreader_read_byte(&r));
    EQI(2, gn_bufreader_read(&r, out, 2));
    ASSERT_MEM_EQ(" q", out, 2);
    EQI(0, gn_bufreader_unread_byte(&r));
    EQI('q', gn_bufreader_read_byte(&r));

    EQI(2, gn_bufreader_peek(&r, 2, &p));              /* peek forbids it */
    EQI(GN_EUNREAD, gn_bufreader_unread_byte(&r));
    EQI('u', gn_bufreader_read_byte(&r));
    EQI(1, gn_bufreader_discard(&r, 1));               /* so does discard */
    EQI(GN_EUNREAD, gn_bufreader_unread_byte(&r));

    int64_t n = gn_bufreader_read_slice(&r, '\n', &p); /* after read_slice: the delim */
    SLICE_EQ("ck brown fox\n", p, n);
    EQI(0, gn_bufreader_unread_byte(&r));
    EQI('\n', gn_bufreader_read_byte(&r));

    n = gn_bufreader_read_line(&r, &p, &pre);          /* after read_line: the '\n' */
    SLICE_EQ("jumps over", p, n);
    EQI(0, gn_bufreader_unread_byte(&r));
    EQI('\n', gn_bufreader_read_byte(&r));

    gn_bufreader_reset(&r, src_read, &s);              /* reset forgets it */
    EQI(GN_EUNREAD, gn_bufreader_unread_byte(&r));

    /* after a read straight into the caller's memory (empty buffer) */
    src_init(&s, TEXT, 40);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(20, gn_bufreader_read(&r, out, 20));
    EQI(0, gn_bufreader_buffered(&r));
    EQI(0, gn_bufreader_unread_byte(&r));
    EQI(1, gn_bufreader_buffered(&r));
    EQI((unsigned char)TEXT[19], gn_bufreader_read_byte(&r));
    EQI((unsigned char)TEXT[20], gn_bufreader_read_byte(&r));

    /* at the end: the last byte can still be stepped back over, as in Go */
    src_init(&s, "xyz", 3);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(3, gn_bufreader_read(&r, out, 3));
    EQI(GN_EOF, gn_bufreader_read_byte(&r));
    EQI(0, gn_bufreader_unread_byte(&r));
    EQI('z', gn_bufreader_read_byte(&r));
    EQI(GN_EOF, gn_bufreader_read_byte(&r));
    PASS();
}

/* ---- reader: peek ------------------------------------------------------------------ */
TEST peek_basics(void) {
    char buf[16], out[32];
    const char *p;
    src_t s;
    gn_bufreader r;
    src_init(&s, TEXT, sizeof TEXT - 1);
    src_pattern(&s, 2, 0);   /* 3 a call: a peek of 5 needs two */
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(0, gn_bufreader_peek(&r, 0, &p));
    EQI(0, s.calls);
    EQI(5, gn_bufreader_peek(&r, 5, &p));
    ASSERT_MEM_EQ("The q", p, 5);
    EQI(2, s.calls);
    EQI(6, gn_bufreader_buffered(&r));
    EQI(5, gn_bufreader_peek(&r, 5, &p));             /* nothing consumed */
    EQI(2, s.calls);
    EQI(5, gn_bufreader_read(&r, out, 5));
    ASSERT_MEM_EQ("The q", out, 5);

    /* across a refill: 12 read of 16, then a peek of 10 slides and refills */
    EQI(1, gn_bufreader_read(&r, out, 1));   /* the buffered 'u' */
    EQI(0, gn_bufreader_buffered(&r));
    EQI(16, gn_bufreader_peek(&r, 16, &p));           /* the whole buffer */
    ASSERT_MEM_EQ(TEXT + 6, p, 16);
    EQI(12, gn_bufreader_discard(&r, 12));
    EQI(10, gn_bufreader_peek(&r, 10, &p));
    ASSERT_MEM_EQ(TEXT + 18, p, 10);
    PASS();
}

TEST peek_beyond_buffer_and_eof(void) {
    char buf[16];
    const char *p;
    src_t s;
    gn_bufreader r;
    src_init(&s, TEXT, sizeof TEXT - 1);
    src_pattern(&s, 3, 0);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(GN_EBUFFULL, gn_bufreader_peek(&r, 17, &p));   /* more than fits */
    EQI(16, gn_bufreader_buffered(&r));                /* filled while trying */
    ASSERT_MEM_EQ(TEXT, p, 16);
    EQI('T', gn_bufreader_read_byte(&r));
    EQI(GN_EBUFFULL, gn_bufreader_peek(&r, 1000, &p));
    ASSERT_MEM_EQ(TEXT + 1, p, gn_bufreader_buffered(&r));

    /* at the end: fewer than asked, the error once, the bytes still there */
    src_init(&s, "abcd", 4);
    src_pattern(&s, 1, 0);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(GN_EOF, gn_bufreader_peek(&r, 6, &p));
    EQI(4, gn_bufreader_buffered(&r));
    ASSERT_MEM_EQ("abcd", p, 4);
    EQI(4, gn_bufreader_peek(&r, 4, &p));
    char out[8];
    EQI(4, gn_bufreader_read(&r, out, 8));
    ASSERT_MEM_EQ("abcd", out, 4);
    EQI(GN_EOF, gn_bufreader_read(&r, out, 8));

    /* a one-time error stops a peek once; the next peek reads on */
    src_init(&s, "abcdefgh", 8);
    s.fail_at = 4;
    s.fail_err = GN_ETIMEDOUT;
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(GN_ETIMEDOUT, gn_bufreader_peek(&r, 6, &p));
    EQI(4, gn_bufreader_buffered(&r));
    EQI(6, gn_bufreader_peek(&r, 6, &p));
    ASSERT_MEM_EQ("abcdef", p, 6);

    /* n > size at the end of input: GN_EBUFFULL first, the EOF is kept */
    src_init(&s, "abcd", 4);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(GN_EBUFFULL, gn_bufreader_peek(&r, 17, &p));
    EQI(4, gn_bufreader_buffered(&r));
    EQI(GN_EOF, gn_bufreader_peek(&r, 5, &p));
    PASS();
}

/* ---- reader: read_slice ------------------------------------------------------------ */
/* Splits text at delim into what read_slice should return with a buffer of size
 * bsize: pieces of at most bsize, each either ending in delim or full, and the
 * tail. Checks the reader returns exactly those.                                   */
static enum greatest_test_res check_slices(const char *text, size_t len, int delim,
                                          size_t bsize, int pat, unsigned seed) {
    char buf[64];
    src_t s;
    gn_bufreader r;
    src_init(&s, text, len);
    src_pattern(&s, pat, seed);
    gn_bufreader_init(&r, src_read, &s, buf, bsize);
    size_t pos = 0;
    while (pos < len) {
        const char *e = (const char *)memchr(text + pos, delim, len - pos);
        size_t want = e ? (size_t)(e - text) - pos + 1 : len - pos;
        int full = want > bsize || (!e && want == bsize);
        const char *p;
        int64_t m = gn_bufreader_read_slice(&r, delim, &p);
        if (full) {
            EQI(GN_EBUFFULL, m);
            ASSERT_MEM_EQ(text + pos, p, bsize);
            pos += bsize;
        } else {
            EQI(want, m);
            ASSERT_MEM_EQ(text + pos, p, want);
            pos += want;
        }
    }
    const char *p = (const char *)1;
    EQI(GN_EOF, gn_bufreader_read_slice(&r, delim, &p));
    ASSERT_EQ(NULL, p);
    PASS();
}

TEST read_slice_boundaries(void) {
    static const size_t sizes[] = {16, 17, 20, 33};
    char text[512];
    for (int i = 0; i < (int)sizeof text; i++) text[i] = (char)('a' + i % 26);
    /* delimiters at the buffer edges: lines of 14..18 bytes, and longer */
    size_t at = 0;
    for (int l = 14; at < sizeof text; l = l == 18 ? 1 : l == 1 ? 40 : l == 40 ? 14 : l + 1) {
        at += (size_t)l;
        if (at <= sizeof text) text[at - 1] = '\n';
    }
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (int pat = 0; pat < NPATTERNS; pat++) {
            CHECK_CALL(check_slices(text, sizeof text, '\n', sizes[z], pat, (unsigned)z));
            CHECK_CALL(check_slices(text, sizeof text - 5, '\n', sizes[z], pat, 3));
            CHECK_CALL(check_slices(TEXT, sizeof TEXT - 1, '\n', sizes[z], pat, 9));
            CHECK_CALL(check_slices(TEXT, sizeof TEXT - 1, ' ', sizes[z], pat, 9));
        }
    PASS();
}

TEST read_slice_edges(void) {
    char buf[16];
    const char *p;
    src_t s;
    gn_bufreader r;
    /* the delimiter as the last byte of the buffer: a full line, not GN_EBUFFULL */
    src_init(&s, "0123456789abcde\n0123456789abcdef\nxy", 35);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(16, gn_bufreader_read_slice(&r, '\n', &p));
    SLICE_EQ("0123456789abcde\n", p, 16);
    /* one byte more: the buffer fills first */
    EQI(GN_EBUFFULL, gn_bufreader_read_slice(&r, '\n', &p));
    ASSERT_MEM_EQ("0123456789abcdef", p, 16);
    EQI(1, gn_bufreader_read_slice(&r, '\n', &p));
    EQI('\n', p[0]);
    /* the tail at EOF, then GN_EOF */
    EQI(2, gn_bufreader_read_slice(&r, '\n', &p));
    SLICE_EQ("xy", p, 2);
    EQI(GN_EOF, gn_bufreader_read_slice(&r, '\n', &p));
    EQI(GN_EOF, gn_bufreader_read_slice(&r, '\n', &p));

    /* delim is a byte: 0 and 0xff work, and only the low 8 bits count */
    src_init(&s, "a\0b\xff" "c", 5);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(2, gn_bufreader_read_slice(&r, 0, &p));
    EQI(2, gn_bufreader_read_slice(&r, 0xff, &p));
    ASSERT_MEM_EQ("b\xff", p, 2);
    EQI(1, gn_bufreader_read_slice(&r, 0x100 + 'c', &p));

    /* an error other than EOF: the tail first, the error from the next call */
    src_init(&s, "abc", 3);
    s.end_err = -ECONNRESET;
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(3, gn_bufreader_read_slice(&r, '\n', &p));
    EQI(-ECONNRESET, gn_bufreader_read_slice(&r, '\n', &p));

    /* nothing at all */
    src_init(&s, "", 0);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(GN_EOF, gn_bufreader_read_slice(&r, '\n', &p));
    PASS();
}

/* ---- reader: read_line ------------------------------------------------------------- */
typedef struct { const char *text; int prefix; } line_want;

static enum greatest_test_res check_lines(const char *text, const line_want *want, int n,
                                         size_t bsize, int pat) {
    char buf[64];
    src_t s;
    gn_bufreader r;
    src_init(&s, text, strlen(text));
    src_pattern(&s, pat, 5);
    gn_bufreader_init(&r, src_read, &s, buf, bsize);
    for (int i = 0; i < n; i++) {
        const char *p;
        int pre = -1;
        int64_t m = gn_bufreader_read_line(&r, &p, &pre);
        ASSERT_GTE(m, 0);
        SLICE_EQ(want[i].text, p, m);
        EQI(want[i].prefix, pre);
    }
    const char *p;
    int pre = -1;
    EQI(GN_EOF, gn_bufreader_read_line(&r, &p, &pre));
    EQI(0, pre);
    ASSERT_EQ(NULL, p);
    PASS();
}

TEST read_line_endings(void) {
    static const line_want w[] = {   /* with a 32-byte buffer */
        {"The quick brown fox", 0}, {"jumps over", 0}, {"", 0}, {"the lazy dog.", 0},
        {"0123456789abcdefghijklmnopqrstuv", 1}, {"wxyz0123456789ABCDEFGHIJKLMNOPQR", 1},
        {"STUVWXYZ", 0}, {"", 0}, {"", 0}, {"last line without newline", 0},
    };
    for (int pat = 0; pat < NPATTERNS; pat++)
        CHECK_CALL(check_lines(TEXT, w, (int)(sizeof w / sizeof w[0]), 32, pat));
    static const line_want w16[] = {   /* the same with 16 bytes */
        {"The quick brown ", 1}, {"fox", 0}, {"jumps over", 0}, {"", 0}, {"the lazy dog.", 0},
        {"0123456789abcdef", 1}, {"ghijklmnopqrstuv", 1}, {"wxyz0123456789AB", 1},
        {"CDEFGHIJKLMNOPQR", 1}, {"STUVWXYZ", 0}, {"", 0}, {"", 0},
        {"last line withou", 1}, {"t newline", 0},
    };
    for (int pat = 0; pat < NPATTERNS; pat++)
        CHECK_CALL(check_lines(TEXT, w16, (int)(sizeof w16 / sizeof w16[0]), 16, pat));

    static const line_want w2[] = {{"a\rb", 0}, {"\r", 0}, {"", 0}, {"x\r", 0}};
    for (int pat = 0; pat < NPATTERNS; pat++)   /* lone '\r's stay; "\r\r\n" keeps one */
        CHECK_CALL(check_lines("a\rb\n\r\r\n\nx\r", w2, 4, 16, pat));
    PASS();
}

TEST read_line_prefix_and_crlf_at_edge(void) {
    /* 15 bytes and "\r\n": the '\r' ends a full buffer and is held back, so the
     * '\r' never shows up as part of the line */
    static const line_want w1[] = {{"0123456789abcde", 1}, {"", 0}, {"z", 0}};
    for (int pat = 0; pat < NPATTERNS; pat++)
        CHECK_CALL(check_lines("0123456789abcde\r\nz\n", w1, 3, 16, pat));
    /* 16 bytes and "\n": a full piece, then the empty end of that line */
    static const line_want w2[] = {{"0123456789abcdef", 1}, {"", 0}, {"z", 0}};
    for (int pat = 0; pat < NPATTERNS; pat++)
        CHECK_CALL(check_lines("0123456789abcdef\nz\r\n", w2, 3, 16, pat));
    /* 40 bytes: 16, 16, 8 */
    static const line_want w3[] = {
        {"0123456789abcdef", 1}, {"ghijklmnopqrstuv", 1}, {"wxyzABCD", 0}, {"", 0}};
    for (int pat = 0; pat < NPATTERNS; pat++)
        CHECK_CALL(check_lines("0123456789abcdefghijklmnopqrstuvwxyzABCD\r\n\n", w3, 4, 16, pat));
    /* EOF in the middle of a long line */
    static const line_want w4[] = {{"0123456789abcdef", 1}, {"ghij", 0}};
    for (int pat = 0; pat < NPATTERNS; pat++)
        CHECK_CALL(check_lines("0123456789abcdefghij", w4, 2, 16, pat));
    PASS();
}

TEST read_line_error_mid_line(void) {
    char buf[16];
    const char *p;
    int pre;
    src_t s;
    gn_bufreader r;
    src_init(&s, "one\ntwo", 7);
    s.end_err = GN_ETIMEDOUT;
    src_pattern(&s, 1, 0);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    int64_t m = gn_bufreader_read_line(&r, &p, &pre);
    SLICE_EQ("one", p, m);
    m = gn_bufreader_read_line(&r, &p, &pre);   /* the partial line, then the error */
    SLICE_EQ("two", p, m);
    EQI(0, pre);
    EQI(GN_ETIMEDOUT, gn_bufreader_read_line(&r, &p, &pre));
    EQI(GN_ETIMEDOUT, gn_bufreader_read_line(&r, &p, NULL));
    PASS();
}

/* ---- reader: read_bytes and read_string ------------------------------------------- */
TEST read_bytes_long_lines(void) {
    static char text[4000];
    size_t len = 0;
    /* lines of 0, 1, 15, 16, 17, 100, 1000 bytes before their '\n' */
    static const size_t ls[] = {0, 1, 15, 16, 17, 100, 1000, 31, 32, 33};
    for (size_t i = 0; i < sizeof ls / sizeof ls[0]; i++) {
        for (size_t j = 0; j < ls[i]; j++) text[len++] = (char)('A' + (i + j) % 26);
        text[len++] = '\n';
    }
    memcpy(text + len, "tail", 4);
    len += 4;
    for (int pat = 0; pat < NPATTERNS; pat++) {
        char buf[16];
        src_t s;
        gn_bufreader r;
        src_init(&s, text, len);
        src_pattern(&s, pat, 11);
        gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
        size_t pos = 0;
        for (size_t i = 0; i < sizeof ls / sizeof ls[0]; i++) {
            char *out = NULL;
            int64_t m = (i % 2) ? gn_bufreader_read_string(&r, '\n', &out)
                                : gn_bufreader_read_bytes(&r, '\n', &out);
            EQI(ls[i] + 1, m);
            ASSERT(out);
            ASSERT_MEM_EQ(text + pos, out, (size_t)m);
            if (i % 2) EQI(0, out[m]);   /* read_string: NUL-terminated */
            pos += (size_t)m;
            free(out);
        }
        char *out = NULL;
        int64_t m = gn_bufreader_read_string(&r, '\n', &out);   /* tail, no delim */
        EQI(4, m);
        ASSERT_STR_EQ("tail", out);
        free(out);
        out = (char *)1;
        EQI(GN_EOF, gn_bufreader_read_bytes(&r, '\n', &out));
        ASSERT_EQ(NULL, out);
    }
    PASS();
}

TEST read_bytes_error_after_full_buffers(void) {
    /* exactly two buffers of bytes and no delim: the EOF arrives after read_slice
     * handed out two full buffers; it is returned by the next call            */
    char buf[16], *out;
    src_t s;
    gn_bufreader r;
    static const char text[] = "0123456789abcdefghijklmnopqrstuv";
    src_init(&s, text, 32);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(32, gn_bufreader_read_bytes(&r, '\n', &out));
    ASSERT_MEM_EQ(text, out, 32);
    free(out);
    EQI(GN_EOF, gn_bufreader_read_bytes(&r, '\n', &out));

    src_init(&s, text, 32);
    s.fail_at = 20;
    s.fail_err = GN_ETIMEDOUT;
    src_pattern(&s, 3, 0);
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(20, gn_bufreader_read_string(&r, 'z', &out));
    ASSERT_STR_EQ("0123456789abcdefghij", out);
    free(out);
    EQI(GN_ETIMEDOUT, gn_bufreader_read_string(&r, 'z', &out));
    ASSERT_EQ(NULL, out);
    EQI(12, gn_bufreader_read_string(&r, 'z', &out));   /* the source recovered */
    ASSERT_STR_EQ("klmnopqrstuv", out);
    free(out);

    /* a one-time error right after two full buffers is not lost */
    static const char text2[] = "0123456789abcdefghijklmnopqrstuv\nrest\n";
    src_init(&s, text2, sizeof text2 - 1);
    s.fail_at = 32;
    s.fail_err = GN_ETIMEDOUT;
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(32, gn_bufreader_read_bytes(&r, '\n', &out));
    free(out);
    EQI(GN_ETIMEDOUT, gn_bufreader_read_bytes(&r, '\n', &out));
    EQI(1, gn_bufreader_read_bytes(&r, '\n', &out));
    free(out);
    EQI(5, gn_bufreader_read_bytes(&r, '\n', &out));
    ASSERT_MEM_EQ("rest\n", out, 5);
    free(out);
    PASS();
}

/* ---- reader: read_full and discard ------------------------------------------------ */
TEST read_full_cases(void) {
    for (int pat = 0; pat < NPATTERNS; pat++) {
        char buf[16], out[64];
        src_t s;
        gn_bufreader r;
        src_init(&s, TEXT, 50);
        src_pattern(&s, pat, 2);
        gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
        EQI(0, gn_bufreader_read_full(&r, out, 0));
        EQI(10, gn_bufreader_read_full(&r, out, 10));
        ASSERT_MEM_EQ(TEXT, out, 10);
        EQI(30, gn_bufreader_read_full(&r, out, 30));    /* longer than the buffer */
        ASSERT_MEM_EQ(TEXT + 10, out, 30);
        EQI(GN_EUNEXPECTEDEOF, gn_bufreader_read_full(&r, out, 20));   /* 10 left */
        ASSERT_MEM_EQ(TEXT + 40, out, 10);
        EQI(GN_EOF, gn_bufreader_read_full(&r, out, 1));
    }
    /* another error part-way is returned as is */
    char buf[16], out[64];
    src_t s;
    gn_bufreader r;
    src_init(&s, TEXT, 50);
    s.fail_at = 5;
    s.fail_err = -ECONNRESET;
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(-ECONNRESET, gn_bufreader_read_full(&r, out, 8));
    ASSERT_STR_EQ("unexpected end of file", gn_strerror(GN_EUNEXPECTEDEOF));
    PASS();
}

TEST discard_cases(void) {
    for (int pat = 0; pat < NPATTERNS; pat++) {
        char buf[16];
        src_t s;
        gn_bufreader r;
        size_t len = sizeof TEXT - 1;
        src_init(&s, TEXT, len);
        src_pattern(&s, pat, 4);
        gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
        EQI(0, gn_bufreader_discard(&r, 0));
        EQI(3, gn_bufreader_discard(&r, 3));
        EQI((unsigned char)TEXT[3], gn_bufreader_read_byte(&r));
        EQI(50, gn_bufreader_discard(&r, 50));            /* across refills */
        EQI((unsigned char)TEXT[54], gn_bufreader_read_byte(&r));
        /* past the end: what there was, then GN_EOF */
        EQI(len - 55, gn_bufreader_discard(&r, 1000));
        EQI(GN_EOF, gn_bufreader_discard(&r, 1));
        EQI(0, gn_bufreader_discard(&r, 0));
    }
    PASS();
}

/* ---- reader: sources that misbehave ---------------------------------------------- */
TEST zero_byte_reads(void) {
    char buf[16];
    const char *p;
    src_t s;
    gn_bufreader r;
    /* 0 bytes now and then: the reader calls again, callers never see 0 */
    static const size_t z[] = {0, 0, 0, 4, 0, 1};
    src_init(&s, "ab\ncd\n", 6);
    s.chunks = z;
    s.nchunks = 6;
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    int64_t m = gn_bufreader_read_line(&r, &p, NULL);
    SLICE_EQ("ab", p, m);
    m = gn_bufreader_read_line(&r, &p, NULL);
    SLICE_EQ("cd", p, m);
    EQI(GN_EOF, gn_bufreader_read_line(&r, &p, NULL));

    /* only 0 bytes: GN_ENOPROGRESS after 100 calls, from every kind of read */
    static const size_t none[] = {0};
    src_init(&s, "ab", 2);
    s.chunks = none;
    s.nchunks = 1;
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(GN_ENOPROGRESS, gn_bufreader_read_byte(&r));
    EQI(100, s.calls);
    char out[32];
    EQI(GN_ENOPROGRESS, gn_bufreader_read(&r, out, 32));   /* the straight path too */
    EQI(200, s.calls);
    EQI(GN_ENOPROGRESS, gn_bufreader_peek(&r, 1, &p));
    EQI(GN_ENOPROGRESS, gn_bufreader_read_slice(&r, '\n', &p));
    EQI(GN_ENOPROGRESS, gn_bufreader_discard(&r, 1));
    ASSERT_STR_EQ("multiple reads returned no data", gn_strerror(GN_ENOPROGRESS));
    PASS();
}

TEST source_overclaims(void) {
    char buf[16], out[32];
    src_t s;
    gn_bufreader r;
    src_init(&s, "ab", 2);
    s.overclaim = 1;
    gn_bufreader_init(&r, src_read, &s, buf, sizeof buf);
    EQI(GN_EINVAL, gn_bufreader_read_byte(&r));
    EQI(GN_EINVAL, gn_bufreader_read(&r, out, 32));
    EQI(0, gn_bufreader_buffered(&r));
    PASS();
}

TEST reader_reset(void) {
    char buf[16], out[8];
    src_t a, b;
    gn_bufreader r;
    src_init(&a, "aaaaaaaa", 8);
    src_init(&b, "bbbb", 4);
    a.end_err = GN_ETIMEDOUT;
    gn_bufreader_init(&r, src_read, &a, buf, sizeof buf);
    EQI('a', gn_bufreader_read_byte(&r));
    EQI(7, gn_bufreader_buffered(&r));
    gn_bufreader_reset(&r, src_read, &b);   /* drops the 7 a's */
    EQI(0, gn_bufreader_buffered(&r));
    EQI(16, gn_bufreader_size(&r));
    EQI(4, gn_bufreader_read(&r, out, 8));
    ASSERT_MEM_EQ("bbbb", out, 4);

    /* a kept error is dropped too */
    gn_bufreader_reset(&r, src_read, &a);
    a.pos = 5;
    const char *p;
    EQI(3, gn_bufreader_read_slice(&r, '\n', &p));   /* the tail; ETIMEDOUT kept */
    b.pos = 0;
    gn_bufreader_reset(&r, src_read, &b);
    EQI('b', gn_bufreader_read_byte(&r));
    PASS();
}

/* ---- reader: random operations against a model ------------------------------------
 * The model is a cursor into the data; every operation's result follows from it
 * and the buffer size alone, whatever the chunking. The source returns GN_EOF
 * on every call at the end, so a kept EOF and a fresh one look the same.        */
static enum greatest_test_res model_run(unsigned seed, size_t bsize, int pat) {
    static char data[3000];
    unsigned rs = seed;
    size_t len = 1000 + rnd_next(&rs) % 2000;
    for (size_t i = 0; i < len; i++) {
        unsigned v = rnd_next(&rs) % 40;
        data[i] = v < 3 ? '\n' : v < 5 ? '\r' : (char)('a' + v % 26);
    }
    char buf[64], out[128];
    src_t s;
    gn_bufreader r;
    src_init(&s, data, len);
    src_pattern(&s, pat, seed);
    gn_bufreader_init(&r, src_read, &s, buf, bsize);
    size_t pos = 0;
    int last = -1;      /* the byte unread_byte would restore, -1 if none */
    for (int step = 0; step < 4000 && !(pos == len && step % 50 == 49); step++) {
        size_t rem = len - pos;
        const char *p;
        int64_t m;
        switch (rnd_next(&rs) % 9) {
        case 0:
            m = gn_bufreader_read_byte(&r);
            if (rem == 0) { EQI(GN_EOF, m); break; }
            EQI((unsigned char)data[pos], m);
            last = (unsigned char)data[pos++];
            break;
        case 1: {
            size_t n = rnd_next(&rs) % 100;
            m = gn_bufreader_read(&r, out, n);
            if (n == 0) { EQI(0, m); break; }
            if (rem == 0) { EQI(GN_EOF, m); break; }
            ASSERT_GT(m, 0);
            ASSERT_LTE((size_t)m, n < rem ? n : rem);
            ASSERT_MEM_EQ(data + pos, out, (size_t)m);
            pos += (size_t)m;
            last = (unsigned char)data[pos - 1];
            break;
        }
        case 2: {
            size_t n = rnd_next(&rs) % (bsize + 4);
            m = gn_bufreader_peek(&r, n, &p);
            last = -1;
            if (n > bsize) {
                EQI(GN_EBUFFULL, m);
                size_t b = gn_bufreader_buffered(&r);
                EQI(rem < bsize ? rem : bsize, b);
                ASSERT_MEM_EQ(data + pos, p, b);
            } else if (n > rem) {
                EQI(GN_EOF, m);
                EQI(rem, gn_bufreader_buffered(&r));
                ASSERT_MEM_EQ(data + pos, p, rem);
            } else {
                EQI(n, m);
                ASSERT_MEM_EQ(data + pos, p, n);
            }
            break;
        }
        case 3: {
            size_t n = rnd_next(&rs) % 40;
            m = gn_bufreader_discard(&r, n);
            last = -1;
            if (n == 0) EQI(0, m);
            else if (rem == 0) EQI(GN_EOF, m);
            else { EQI(n < rem ? n : rem, m); pos += (size_t)m; }
            break;
        }
        case 4: {
            size_t n = rnd_next(&rs) % 70;
            m = gn_bufreader_read_full(&r, out, n);
            if (n == 0) { EQI(0, m); break; }
            if (rem == 0) { EQI(GN_EOF, m); break; }
            if (rem < n) {
                EQI(GN_EUNEXPECTEDEOF, m);
                ASSERT_MEM_EQ(data + pos, out, rem);
                pos = len;
            } else {
                EQI(n, m);
                ASSERT_MEM_EQ(data + pos, out, n);
                pos += n;
            }
            last = (unsigned char)data[pos - 1];
            break;
        }
        case 5:
        case 6: {   /* read_slice('\n') or read_line */
            int line = rnd_next(&rs) % 2;
            int pre = -1;
            m = line ? gn_bufreader_read_line(&r, &p, &pre) : gn_bufreader_read_slice(&r, '\n', &p);
            if (rem == 0) { EQI(GN_EOF, m); break; }
            const char *e = (const char *)memchr(data + pos, '\n', rem);
            size_t want = e ? (size_t)(e - data) - pos + 1 : rem;
            if (want > bsize || (!e && want == bsize)) {   /* a full buffer */
                size_t k = bsize;
                if (line) {
                    if (data[pos + k - 1] == '\r') k--;
                    EQI(k, m);
                    EQI(1, pre);
                } else {
                    EQI(GN_EBUFFULL, m);
                }
                ASSERT_MEM_EQ(data + pos, p, k);
                pos += k;
            } else {
                size_t k = want;
                if (line) {
                    EQI(0, pre);
                    if (e) {
                        k--;
                        if (k > 0 && data[pos + k - 1] == '\r') k--;
                    }
                }
                EQI(k, m);
                ASSERT_MEM_EQ(data + pos, p, k);
                pos += want;
            }
            last = (unsigned char)data[pos - 1];
            break;
        }
        case 7:
            m = gn_bufreader_unread_byte(&r);
            if (last < 0) { EQI(GN_EUNREAD, m); break; }
            EQI(0, m);
            pos--;
            ASSERT_EQ(last, (unsigned char)data[pos]);
            last = -1;
            break;
        default: {
            char *o = NULL;
            m = gn_bufreader_read_string(&r, '\r', &o);
            if (rem == 0) { EQI(GN_EOF, m); ASSERT_EQ(NULL, o); break; }
            const char *e = (const char *)memchr(data + pos, '\r', rem);
            size_t want = e ? (size_t)(e - data) - pos + 1 : rem;
            EQI(want, m);
            ASSERT_MEM_EQ(data + pos, o, want);
            EQI(0, o[want]);
            free(o);
            pos += want;
            last = (unsigned char)data[pos - 1];
            break;
        }
        }
        ASSERT_LTE(gn_bufreader_buffered(&r), bsize);
        ASSERT_LTE(gn_bufreader_buffered(&r), len - pos + 1);
    }
    PASS();
}

TEST reader_random_model(void) {
    static const size_t sizes[] = {16, 17, 23, 64};
    int runs = 40 / g_scale + 4;
    for (int i = 0; i < runs; i++)
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
            unsigned seed = (unsigned)(i * 7919 + (int)z * 104729 + 1);
            CHECK_CALL(model_run(seed, sizes[z], (int)(seed % NPATTERNS)));
        }
    PASS();
}

/* ---- writer --------------------------------------------------------------------------- */
static sink_t g_sink, g_sink2;

TEST writer_invalid_args(void) {
    char buf[8];
    gn_bufwriter w;
    EQI(GN_EINVAL, gn_bufwriter_write(NULL, "a", 1));
    EQI(GN_EINVAL, gn_bufwriter_write_byte(NULL, 'a'));
    EQI(GN_EINVAL, gn_bufwriter_write_string(NULL, "a"));
    EQI(GN_EINVAL, gn_bufwriter_flush(NULL));
    EQI(0, gn_bufwriter_available(NULL));
    EQI(0, gn_bufwriter_buffered(NULL));
    gn_bufwriter_init(NULL, sink_write, &g_sink, buf, sizeof buf);
    gn_bufwriter_reset(NULL, sink_write, &g_sink);
    gn_bufwriter_free(NULL);

    gn_bufwriter_init(&w, sink_write, &g_sink, buf, 0);   /* invalid */
    EQI(GN_EINVAL, gn_bufwriter_write_byte(&w, 'a'));
    EQI(0, gn_bufwriter_available(&w));
    gn_bufwriter_init(&w, sink_write, &g_sink, NULL, 8);  /* invalid */
    EQI(GN_EINVAL, gn_bufwriter_flush(&w));

    sink_init(&g_sink);
    gn_bufwriter_init(&w, sink_write, &g_sink, buf, sizeof buf);
    EQI(GN_EINVAL, gn_bufwriter_write(&w, NULL, 1));
    EQI(GN_EINVAL, gn_bufwriter_write_string(&w, NULL));
    EQI(0, gn_bufwriter_write(&w, NULL, 0));
    EQI(0, gn_bufwriter_write_string(&w, ""));
    EQI(0, gn_bufwriter_flush(&w));                 /* nothing buffered: no call */
    EQI(0, g_sink.calls);
    gn_bufwriter_free(&w);                          /* not from _new: no-op */

    /* no sink: the flush fails, and the failure sticks */
    gn_bufwriter_init(&w, NULL, NULL, buf, sizeof buf);
    EQI(1, gn_bufwriter_write(&w, "a", 1));
    EQI(GN_EINVAL, gn_bufwriter_flush(&w));
    EQI(GN_EINVAL, gn_bufwriter_write_byte(&w, 'b'));
    PASS();
}

TEST writer_accounting(void) {
    char buf[8];
    gn_bufwriter w;
    sink_init(&g_sink);
    gn_bufwriter_init(&w, sink_write, &g_sink, buf, sizeof buf);
    EQI(8, gn_bufwriter_available(&w));
    EQI(0, gn_bufwriter_buffered(&w));
    EQI(3, gn_bufwriter_write(&w, "abc", 3));
    EQI(0, gn_bufwriter_write_byte(&w, 'd'));
    EQI(3, gn_bufwriter_write_string(&w, "efg"));
    EQI(7, gn_bufwriter_buffered(&w));
    EQI(1, gn_bufwriter_available(&w));
    EQI(0, g_sink.calls);                       /* nothing written yet */
    EQI(0, gn_bufwriter_write_byte(&w, 'h'));   /* fills it exactly: still no call */
    EQI(0, gn_bufwriter_available(&w));
    EQI(0, g_sink.calls);
    EQI(0, gn_bufwriter_write_byte(&w, 0x169)); /* full: flush, then 'i' (as fputc) */
    EQI(1, g_sink.calls);
    EQI(8, g_sink.last_n);
    EQI(1, gn_bufwriter_buffered(&w));
    EQI(0, gn_bufwriter_flush(&w));
    EQI(2, g_sink.calls);
    EQI(0, gn_bufwriter_buffered(&w));
    EQI(8, gn_bufwriter_available(&w));
    EQI(0, gn_bufwriter_flush(&w));             /* empty: no call */
    EQI(2, g_sink.calls);
    EQI(9, g_sink.len);
    ASSERT_MEM_EQ("abcdefghi", g_sink.data, 9);
    PASS();
}

TEST writer_large_writes(void) {
    char buf[8];
    gn_bufwriter w;
    static const char big[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    sink_init(&g_sink);
    gn_bufwriter_init(&w, sink_write, &g_sink, buf, sizeof buf);
    /* empty buffer, larger than it: one call straight from the caller's bytes */
    EQI(20, gn_bufwriter_write(&w, big, 20));
    EQI(1, g_sink.calls);
    EQI(20, g_sink.last_n);
    EQI(0, gn_bufwriter_buffered(&w));
    /* exactly the size: buffered */
    EQI(8, gn_bufwriter_write(&w, big, 8));
    EQI(1, g_sink.calls);
    EQI(8, gn_bufwriter_buffered(&w));
    EQI(0, gn_bufwriter_flush(&w));
    /* some buffered, then a big one: top up, flush, rest straight through */
    EQI(3, gn_bufwriter_write(&w, "ABC", 3));
    EQI(30, gn_bufwriter_write(&w, big, 30));
    EQI(4, g_sink.calls);      /* the full buffer, then 25 bytes */
    EQI(25, g_sink.last_n);
    EQI(0, gn_bufwriter_buffered(&w));
    /* some buffered, then one that fits after a flush: top up, flush, buffer rest */
    EQI(5, gn_bufwriter_write(&w, "VWXYZ", 5));
    EQI(10, gn_bufwriter_write(&w, big, 10));
    EQI(5, g_sink.calls);
    EQI(7, gn_bufwriter_buffered(&w));
    EQI(0, gn_bufwriter_flush(&w));
    char want[128];
    snprintf(want, sizeof want, "%.20s%.8sABC%.30sVWXYZ%.10s", big, big, big, big);
    EQI(strlen(want), g_sink.len);
    ASSERT_MEM_EQ(want, g_sink.data, g_sink.len);
    PASS();
}

TEST writer_sticky_error(void) {
    char buf[8];
    gn_bufwriter w;
    sink_init(&g_sink);
    g_sink.fail_after = 10;
    gn_bufwriter_init(&w, sink_write, &g_sink, buf, sizeof buf);
    EQI(8, gn_bufwriter_write(&w, "01234567", 8));
    EQI(0, gn_bufwriter_flush(&w));
    EQI(5, gn_bufwriter_write(&w, "89abc", 5));   /* buffered: no error yet */
    EQI(-EPIPE, gn_bufwriter_flush(&w));
    int calls = g_sink.calls;
    EQI(-EPIPE, gn_bufwriter_flush(&w));           /* sticky, without a sink call */
    EQI(-EPIPE, gn_bufwriter_write(&w, "x", 1));
    EQI(-EPIPE, gn_bufwriter_write_byte(&w, 'x'));
    EQI(-EPIPE, gn_bufwriter_write_string(&w, "x"));
    EQI(-EPIPE, gn_bufwriter_write(&w, "0123456789abcdef", 16));
    EQI(calls, g_sink.calls);
    EQI(10, g_sink.len);

    /* an error from a straight-through write sticks too */
    sink_init(&g_sink);
    g_sink.fail_after = 3;
    g_sink.fail_err = GN_ETIMEDOUT;
    gn_bufwriter_init(&w, sink_write, &g_sink, buf, sizeof buf);
    EQI(GN_ETIMEDOUT, gn_bufwriter_write(&w, "0123456789", 10));
    EQI(GN_ETIMEDOUT, gn_bufwriter_flush(&w));

    /* ... and from a write_byte that needs a flush */
    sink_init(&g_sink);
    g_sink.fail_after = 0;
    gn_bufwriter_init(&w, sink_write, &g_sink, buf, sizeof buf);
    EQI(8, gn_bufwriter_write(&w, "01234567", 8));
    EQI(-EPIPE, gn_bufwriter_write_byte(&w, 'x'));
    EQI(-EPIPE, gn_bufwriter_write_byte(&w, 'x'));

    /* reset clears it: a new sink works */
    sink_init(&g_sink2);
    gn_bufwriter_reset(&w, sink_write, &g_sink2);
    EQI(0, gn_bufwriter_buffered(&w));
    EQI(8, gn_bufwriter_available(&w));
    EQI(2, gn_bufwriter_write_string(&w, "ok"));
    EQI(0, gn_bufwriter_flush(&w));
    EQI(2, g_sink2.len);
    ASSERT_MEM_EQ("ok", g_sink2.data, 2);
    PASS();
}

TEST writer_short_and_zero_writes(void) {
    char buf[16];
    gn_bufwriter w;
    sink_init(&g_sink);
    g_sink.max_per_call = 5;   /* like write(2) on a full socket buffer */
    gn_bufwriter_init(&w, sink_write, &g_sink, buf, sizeof buf);
    EQI(12, gn_bufwriter_write(&w, "hello world!", 12));
    EQI(0, gn_bufwriter_flush(&w));
    EQI(3, g_sink.calls);
    EQI(40, gn_bufwriter_write(&w, "0123456789012345678901234567890123456789", 40));
    EQI(11, g_sink.calls);
    EQI(52, g_sink.len);
    ASSERT_MEM_EQ("hello world!", g_sink.data, 12);
    ASSERT_MEM_EQ("0123456789012345678901234567890123456789", g_sink.data + 12, 40);

    sink_init(&g_sink);
    g_sink.zero = 1;
    gn_bufwriter_init(&w, sink_write, &g_sink, buf, sizeof buf);
    EQI(2, gn_bufwriter_write(&w, "hi", 2));
    EQI(GN_ENOPROGRESS, gn_bufwriter_flush(&w));
    EQI(100, g_sink.calls);
    EQI(GN_ENOPROGRESS, gn_bufwriter_write(&w, "hi", 2));
    PASS();
}

TEST writer_new_free(void) {
    sink_init(&g_sink);
    gn_bufwriter *w = gn_bufwriter_new(sink_write, &g_sink, 0);
    ASSERT(w);
    EQI(GN_BUFIO_DEFAULT_SIZE, gn_bufwriter_available(w));
    EQI(5, gn_bufwriter_write_string(w, "lost?"));
    gn_bufwriter_free(w);      /* does not flush */
    EQI(0, g_sink.calls);
    w = gn_bufwriter_new(sink_write, &g_sink, 1);
    ASSERT(w);
    EQI(1, gn_bufwriter_available(w));
    EQI(0, gn_bufwriter_write_byte(w, 'a'));
    EQI(0, gn_bufwriter_write_byte(w, 'b'));
    EQI(0, gn_bufwriter_flush(w));
    EQI(2, g_sink.len);
    gn_bufwriter_free(w);
    ASSERT_EQ(NULL, gn_bufwriter_new(sink_write, &g_sink, SIZE_MAX - 8));
    PASS();
}

TEST writer_random(void) {
    static char want[1 << 15];
    int runs = 20 / g_scale + 2;
    for (int run = 0; run < runs; run++) {
        unsigned rs = (unsigned)run * 2654435761u + 1;
        size_t bsize = 1 + rnd_next(&rs) % 40;
        char buf[64], tmp[100];
        gn_bufwriter w;
        sink_init(&g_sink);
        g_sink.max_per_call = rnd_next(&rs) % 3 ? 0 : 1 + rnd_next(&rs) % 10;
        gn_bufwriter_init(&w, sink_write, &g_sink, buf, bsize);
        size_t wlen = 0;
        while (wlen < sizeof want - 200) {
            size_t before = gn_bufwriter_buffered(&w);
            switch (rnd_next(&rs) % 4) {
            case 0: {
                size_t n = rnd_next(&rs) % 100;
                for (size_t i = 0; i < n; i++) tmp[i] = (char)rnd_next(&rs);
                EQI(n, gn_bufwriter_write(&w, tmp, n));
                memcpy(want + wlen, tmp, n);
                wlen += n;
                break;
            }
            case 1: {
                int c = (int)rnd_next(&rs) % 256;
                EQI(0, gn_bufwriter_write_byte(&w, c));
                want[wlen++] = (char)c;
                break;
            }
            case 2:
                EQI(5, gn_bufwriter_write_string(&w, "hello"));
                memcpy(want + wlen, "hello", 5);
                wlen += 5;
                break;
            default:
                if (rnd_next(&rs) % 4 == 0) {
                    EQI(0, gn_bufwriter_flush(&w));
                    EQI(0, gn_bufwriter_buffered(&w));
                }
                break;
            }
            (void)before;
            /* accounting: all bytes are either in the sink or buffered */
            EQI(wlen, g_sink.len + gn_bufwriter_buffered(&w));
            EQI(bsize, gn_bufwriter_buffered(&w) + gn_bufwriter_available(&w));
            ASSERT_MEM_EQ(want, g_sink.data, g_sink.len);
        }
        EQI(0, gn_bufwriter_flush(&w));
        EQI(wlen, g_sink.len);
        ASSERT_MEM_EQ(want, g_sink.data, wlen);
    }
    PASS();
}

/* ---- in the runtime: a pipe between two coroutines ---------------------------------
 * The writer end cuts what it is given into chunks of up to 24 bytes and sends
 * them on a channel of capacity 2; the reader end hands them out, keeping a
 * partial chunk, and turns the channel's close into GN_EOF.                      */
typedef struct { int len; char data[24]; } pipe_chunk;
typedef struct { gn_chan *c; pipe_chunk cur; int off; } pipe_end;

static int64_t pipe_write(void *ctx, const void *buf, size_t n) {
    pipe_end *e = (pipe_end *)ctx;
    const char *p = (const char *)buf;
    size_t left = n;
    while (left > 0) {
        pipe_chunk ch;
        ch.len = (int)(left < sizeof ch.data ? left : sizeof ch.data);
        memcpy(ch.data, p, (size_t)ch.len);
        int rc = gn_chan_send(e->c, &ch);
        if (rc < 0) return rc;
        p += ch.len;
        left -= (size_t)ch.len;
    }
    return (int64_t)n;
}

static int64_t pipe_read(void *ctx, void *buf, size_t n) {
    pipe_end *e = (pipe_end *)ctx;
    if (e->off == e->cur.len) {
        int rc = gn_chan_recv(e->c, &e->cur);
        if (rc == GN_ECLOSED) return GN_EOF;
        if (rc < 0) return rc;
        e->off = 0;
    }
    size_t k = (size_t)(e->cur.len - e->off);
    if (k > n) k = n;
    memcpy(buf, e->cur.data + e->off, k);
    e->off += (int)k;
    return (int64_t)k;
}

#define PIPE_LINES 2000

typedef struct {
    gn_chan *c;
    gn_waitgroup wg;
    int lines, bad, eof, long_ok;
    int64_t werr;
} pipe_state;

static void pipe_producer(void *arg) {
    pipe_state *st = (pipe_state *)arg;
    pipe_end e = {st->c, {0, {0}}, 0};
    char buf[40];
    gn_bufwriter w;
    gn_bufwriter_init(&w, pipe_write, &e, buf, sizeof buf);
    char line[200];
    for (int i = 0; i < PIPE_LINES; i++) {
        int n = snprintf(line, sizeof line, "line %d %s\r\n", i,
                         i % 100 == 0 ? "and a long tail that is longer than a buffer" : "");
        int64_t rc = gn_bufwriter_write(&w, line, (size_t)n);
        if (rc != n) st->werr = rc;
        if (i % 37 == 0) gn_yield();
    }
    int rc = gn_bufwriter_flush(&w);
    if (rc != 0) st->werr = rc;
    gn_chan_close(st->c);
    gn_waitgroup_done(&st->wg);
}

static void pipe_consumer(void *arg) {
    pipe_state *st = (pipe_state *)arg;
    pipe_end e = {st->c, {0, {0}}, 0};
    gn_bufreader *r = gn_bufreader_new(pipe_read, &e, 32);
    if (!r) { st->bad++; gn_waitgroup_done(&st->wg); return; }
    char want[200], got[400];
    for (int i = 0; i < PIPE_LINES; i++) {
        int wn = snprintf(want, sizeof want, "line %d %s", i,
                          i % 100 == 0 ? "and a long tail that is longer than a buffer" : "");
        size_t glen = 0;
        int pre = 1, pieces = 0;
        while (pre) {
            const char *p;
            int64_t m = gn_bufreader_read_line(r, &p, &pre);
            if (m < 0) { st->bad++; goto out; }
            memcpy(got + glen, p, (size_t)m);
            glen += (size_t)m;
            pieces++;
        }
        if (glen != (size_t)wn || memcmp(got, want, glen) != 0) st->bad++;
        if (i % 100 == 0 && pieces > 1) st->long_ok++;
        st->lines++;
    }
    {
        const char *p;
        if (gn_bufreader_read_line(r, &p, NULL) == GN_EOF) st->eof = 1;
    }
out:
    gn_bufreader_free(r);
    gn_waitgroup_done(&st->wg);
}

static void pipe_main(void *arg) {
    pipe_state *st = (pipe_state *)arg;
    gn_waitgroup_add(&st->wg, 2);
    gn_go(pipe_consumer, st);
    gn_go(pipe_producer, st);
    gn_waitgroup_wait(&st->wg);
}

static enum greatest_test_res check_pipe(int procs) {
    pipe_state st;
    memset(&st, 0, sizeof st);
    st.c = gn_chan_new(sizeof(pipe_chunk), 2);
    ASSERT(st.c);
    EQI(0, run_procs(procs, pipe_main, &st));
    gn_chan_free(st.c);
    EQI(0, st.werr);
    EQI(0, st.bad);
    EQI(PIPE_LINES, st.lines);
    EQI(PIPE_LINES / 100, st.long_ok);   /* the long lines came in pieces */
    EQI(1, st.eof);
    PASS();
}

TEST pipe_between_coroutines_1proc(void) { CHECK_CALL(check_pipe(1)); PASS(); }
TEST pipe_between_coroutines_2procs(void) { CHECK_CALL(check_pipe(2)); PASS(); }

TEST error_strings(void) {
    ASSERT_STR_EQ("buffer full", gn_strerror(GN_EBUFFULL));
    ASSERT_STR_EQ("invalid use of unread byte", gn_strerror(GN_EUNREAD));
    PASS();
}

SUITE(bufio_reader) {
    RUN_TEST(reader_invalid_args);
    RUN_TEST(reader_new_sizes);
    RUN_TEST(reader_null_source);
    RUN_TEST(read_all_patterns);
    RUN_TEST(read_straight_through);
    RUN_TEST(read_at_most_one_call);
    RUN_TEST(read_error_after_data_then_recovers);
    RUN_TEST(read_byte_all_patterns);
    RUN_TEST(unread_byte_rules);
    RUN_TEST(peek_basics);
    RUN_TEST(peek_beyond_buffer_and_eof);
    RUN_TEST(read_slice_boundaries);
    RUN_TEST(read_slice_edges);
    RUN_TEST(read_line_endings);
    RUN_TEST(read_line_prefix_and_crlf_at_edge);
    RUN_TEST(read_line_error_mid_line);
    RUN_TEST(read_bytes_long_lines);
    RUN_TEST(read_bytes_error_after_full_buffers);
    RUN_TEST(read_full_cases);
    RUN_TEST(discard_cases);
    RUN_TEST(zero_byte_reads);
    RUN_TEST(source_overclaims);
    RUN_TEST(reader_reset);
    RUN_TEST(reader_random_model);
}

SUITE(bufio_writer) {
    RUN_TEST(writer_invalid_args);
    RUN_TEST(writer_accounting);
    RUN_TEST(writer_large_writes);
    RUN_TEST(writer_sticky_error);
    RUN_TEST(writer_short_and_zero_writes);
    RUN_TEST(writer_new_free);
    RUN_TEST(writer_random);
}

SUITE(bufio_runtime) {
    RUN_TEST(pipe_between_coroutines_1proc);
    RUN_TEST(pipe_between_coroutines_2procs);
    RUN_TEST(error_strings);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(bufio_reader);
    RUN_SUITE(bufio_writer);
    RUN_SUITE(bufio_runtime);
    GREATEST_MAIN_END();
}
