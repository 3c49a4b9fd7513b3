/* bufio.c — Go's bufio: gn_bufreader and gn_bufwriter over gn_read_func and
 * gn_write_func. No runtime needed: the source and sink block (or park) as
 * they like, and the buffers here are only indices into caller memory.
 *
 * Reader: buf_[r_, w_) holds unread bytes. gn__bufreader_fill slides them to
 * the front and makes one source call into the free tail. The source's error
 * waits in err_ until a call runs out of buffered bytes, which returns it once
 * (gn__bufreader_take_err), so data always comes before the error that
 * followed it. last_byte_ remembers the last byte handed out, for unread_byte.
 *
 * Writer: buf_[0, n_) waits for the sink. Every sink call goes through
 * gn__bufwriter_sink, which sets the sticky err_ on failure.
 *
 * >>bufio                                                                      */

/* How many 0-byte results in a row a source or sink gets before GN_ENOPROGRESS. */
#define GN__BUFIO_MAX_EMPTY 100

#define GN__BUFIO_CLAMP(n) ((n) > (size_t)INT64_MAX ? (size_t)INT64_MAX : (n))

/* ---- reader --------------------------------------------------------------------- */
GN__PRIVATE int gn__bufreader_ok(const gn_bufreader *r) {
    return r && r->buf_ && r->size_ >= GN_BUFREADER_MIN_SIZE && r->r_ <= r->w_ &&
           r->w_ <= r->size_;
}

GN__PRIVATE int gn__bufreader_take_err(gn_bufreader *r) {
    int e = r->err_;
    r->err_ = 0;
    return e;
}

/* One source call into dst[n] (n > 0), retried while it returns 0 bytes:
 * > 0 bytes or a negative error.                                                  */
GN__PRIVATE int64_t gn__bufreader_call(gn_bufreader *r, void *dst, size_t n) {
    if (!r->rd_) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    for (int i = 0; i < GN__BUFIO_MAX_EMPTY; i++) {
        int64_t m = r->rd_(r->ctx_, dst, n);
        if (m < 0) return m < INT_MIN ? GN_EINVAL : m;
        if ((uint64_t)m > (uint64_t)n) return GN_EINVAL;
        if (m > 0) return m;
    }
    return GN_ENOPROGRESS;
}

/* Slides the unread bytes to the front and reads once into the rest. Called only
 * with no error pending and room in the buffer; an error lands in err_.         */
GN__PRIVATE void gn__bufreader_fill(gn_bufreader *r) {
    if (r->r_ > 0) {
        memmove(r->buf_, r->buf_ + r->r_, r->w_ - r->r_);
        r->w_ -= r->r_;
        r->r_ = 0;
    }
    GN_ASSERT(r->w_ < r->size_);
    int64_t m = gn__bufreader_call(r, r->buf_ + r->w_, r->size_ - r->w_);
    if (m < 0) r->err_ = (int)m;
    else r->w_ += (size_t)m;
}

GONET_API void gn_bufreader_init(gn_bufreader *r, gn_read_func rd, void *ctx,
                                 char *buf, size_t size) {
    if (!r) return;
    memset(r, 0, sizeof *r);
    r->last_byte_ = -1;
    if (!buf || size < GN_BUFREADER_MIN_SIZE) return;   /* invalid: every call EINVAL */
    r->buf_ = buf;
    r->size_ = size;
    r->rd_ = rd;
    r->ctx_ = ctx;
}

GONET_API gn_bufreader *gn_bufreader_new(gn_read_func rd, void *ctx, size_t size) {
    if (size == 0) size = GN_BUFIO_DEFAULT_SIZE;
    if (size < GN_BUFREADER_MIN_SIZE) size = GN_BUFREADER_MIN_SIZE;
    if (size > SIZE_MAX - sizeof(gn_bufreader)) return NULL;
    gn_bufreader *r = (gn_bufreader *)GN_MALLOC(sizeof(gn_bufreader) + size);
    if (!r) return NULL;
    gn_bufreader_init(r, rd, ctx, (char *)(r + 1), size);
    r->owned_ = 1;
    return r;
}

/* Not inlined: a caller passing its own struct would see a (dead) free() of a
 * stack object, which gcc's -Wfree-nonheap-object flags.                      */
GN__NOINLINE GONET_API void gn_bufreader_free(gn_bufreader *r) {
    if (r && r->owned_) GN_FREE(r);
}

GONET_API void gn_bufreader_reset(gn_bufreader *r, gn_read_func rd, void *ctx) {
    if (!r) return;
    r->r_ = r->w_ = 0;
    r->err_ = 0;
    r->last_byte_ = -1;
    r->rd_ = rd;
    r->ctx_ = ctx;
}

GONET_API size_t gn_bufreader_buffered(const gn_bufreader *r) {
    return gn__bufreader_ok(r) ? r->w_ - r->r_ : 0;
}

GONET_API size_t gn_bufreader_size(const gn_bufreader *r) {
    return gn__bufreader_ok(r) ? r->size_ : 0;
}

GONET_API int64_t gn_bufreader_read(gn_bufreader *r, void *buf, size_t n) {
    if (!gn__bufreader_ok(r) || (!buf && n)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    if (n == 0) return r->r_ < r->w_ ? 0 : gn__bufreader_take_err(r);
    if (r->r_ == r->w_) {
        if (r->err_) return gn__bufreader_take_err(r);
        if (n >= r->size_) {
            /* Nothing buffered and a big destination: skip the copy.            */
            int64_t m = gn__bufreader_call(r, buf, n);
            if (m > 0) r->last_byte_ = ((unsigned char *)buf)[m - 1];
            return m;
        }
        r->r_ = r->w_ = 0;
        gn__bufreader_fill(r);
        if (r->r_ == r->w_) return gn__bufreader_take_err(r);
    }
    size_t k = GN__MIN(n, r->w_ - r->r_);
    memcpy(buf, r->buf_ + r->r_, k);
    r->r_ += k;
    r->last_byte_ = (unsigned char)r->buf_[r->r_ - 1];
    return (int64_t)k;
}

GONET_API int gn_bufreader_read_byte(gn_bufreader *r) {
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    while (r->r_ == r->w_) {
        if (r->err_) return gn__bufreader_take_err(r);
        gn__bufreader_fill(r);
    }
    int c = (unsigned char)r->buf_[r->r_++];
    r->last_byte_ = c;
    return c;
}

GONET_API int gn_bufreader_unread_byte(gn_bufreader *r) {
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    /* r_ == 0 with bytes buffered would mean a fill moved them after the read;
     * a call that fills then hands out bytes or resets last_byte_: a guard.   */
    if (r->last_byte_ < 0 || (r->r_ == 0 && r->w_ > 0)) return GN_EUNREAD;
    if (r->r_ > 0) r->r_--;
    else r->w_ = 1;            /* empty buffer: the byte becomes its only content */
    r->buf_[r->r_] = (char)r->last_byte_;
    r->last_byte_ = -1;
    return 0;
}

GONET_API int64_t gn_bufreader_peek(gn_bufreader *r, size_t n, const char **out) {
    if (out) *out = NULL;
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    r->last_byte_ = -1;
    while (r->w_ - r->r_ < n && r->w_ - r->r_ < r->size_ && !r->err_)
        gn__bufreader_fill(r);
    if (out) *out = r->buf_ + r->r_;
    if (n > r->size_) return GN_EBUFFULL;
    if (r->w_ - r->r_ < n) return gn__bufreader_take_err(r);
    return (int64_t)n;
}

/* Each pass searches only the bytes the last fill added.                         */
GONET_API int64_t gn_bufreader_read_slice(gn_bufreader *r, int delim, const char **out) {
    if (out) *out = NULL;
    if (!gn__bufreader_ok(r) || !out) return GN_EINVAL;
    size_t seen = 0;     /* bytes past r_ already searched */
    size_t len;
    for (;;) {
        const char *p = (const char *)memchr(r->buf_ + r->r_ + seen, (unsigned char)delim,
                                             r->w_ - r->r_ - seen);
        if (p) {
            len = (size_t)(p - (r->buf_ + r->r_)) + 1;
            break;
        }
        if (r->err_) {
            if (r->r_ == r->w_) return gn__bufreader_take_err(r);
            len = r->w_ - r->r_;        /* the tail before the error; err_ stays  */
            break;
        }
        if (r->w_ - r->r_ == r->size_) {
            *out = r->buf_ + r->r_;
            r->r_ = r->w_;
            r->last_byte_ = (unsigned char)r->buf_[r->w_ - 1];
            return GN_EBUFFULL;
        }
        seen = r->w_ - r->r_;
        gn__bufreader_fill(r);
    }
    *out = r->buf_ + r->r_;
    r->r_ += len;
    r->last_byte_ = (unsigned char)r->buf_[r->r_ - 1];
    return (int64_t)len;
}

/* read_bytes and read_string: gathers read_slice's pieces into one allocation. */
GN__PRIVATE int64_t gn__bufreader_collect(gn_bufreader *r, int delim, char **out, int nul) {
    if (out) *out = NULL;
    if (!gn__bufreader_ok(r) || !out) return GN_EINVAL;
    char *res = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        const char *piece;
        int64_t m = gn_bufreader_read_slice(r, delim, &piece);
        if (m == GN_EBUFFULL) m = (int64_t)r->size_;
        else if (m < 0) {
            if (len == 0) return m;
            r->err_ = (int)m;           /* give it back for the next call         */
            break;
        }
        size_t k = (size_t)m;
        if (len + k + 1 > cap) {
            size_t ncap = cap ? cap : 64;
            while (ncap < len + k + 1) {
                if (ncap > SIZE_MAX / 2) { ncap = len + k + 1; break; }
                ncap *= 2;
            }
            char *nres = (char *)GN_REALLOC(res, ncap);
            if (!nres) {
                GN_FREE(res);
                return GN_ENOMEM;
            }
            res = nres;
            cap = ncap;
        }
        memcpy(res + len, piece, k);
        len += k;
        if (piece[k - 1] == (char)(unsigned char)delim || r->err_) break;
    }
    if (nul) res[len] = '\0';
    *out = res;
    return (int64_t)len;
}

GONET_API int64_t gn_bufreader_read_bytes(gn_bufreader *r, int delim, char **out) {
    return gn__bufreader_collect(r, delim, out, 0);
}

GONET_API int64_t gn_bufreader_read_string(gn_bufreader *r, int delim, char **out) {
    return gn__bufreader_collect(r, delim, out, 1);
}

GONET_API int64_t gn_bufreader_read_line(gn_bufreader *r, const char **line, int *is_prefix) {
    if (line) *line = NULL;
    if (is_prefix) *is_prefix = 0;
    if (!gn__bufreader_ok(r) || !line) return GN_EINVAL;
    const char *p;
    int64_t m = gn_bufreader_read_slice(r, '\n', &p);
    if (m == GN_EBUFFULL) {
        size_t len = r->size_;
        if (p[len - 1] == '\r') {
            /* The "\r" may start a "\r\n": hold it back for the next piece.    */
            r->r_--;
            len--;
            r->last_byte_ = (unsigned char)p[len - 1];
        }
        *line = p;
        if (is_prefix) *is_prefix = 1;
        return (int64_t)len;
    }
    if (m < 0) return m;
    size_t len = (size_t)m;
    if (p[len - 1] == '\n') {
        len--;
        if (len > 0 && p[len - 1] == '\r') len--;
    }
    *line = p;
    return (int64_t)len;
}

GONET_API int64_t gn_bufreader_read_full(gn_bufreader *r, void *buf, size_t n) {
    if (!gn__bufreader_ok(r) || (!buf && n)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    size_t got = 0;
    while (got < n) {
        int64_t m = gn_bufreader_read(r, (char *)buf + got, n - got);
        if (m < 0) {
            if (m == GN_EOF && got > 0) return GN_EUNEXPECTEDEOF;
            return m;
        }
        got += (size_t)m;
    }
    return (int64_t)n;
}

GONET_API int64_t gn_bufreader_discard(gn_bufreader *r, size_t n) {
    if (!gn__bufreader_ok(r)) return GN_EINVAL;
    n = GN__BUFIO_CLAMP(n);
    r->last_byte_ = -1;
    size_t left = n;
    for (;;) {
        size_t k = GN__MIN(left, r->w_ - r->r_);
        r->r_ += k;
        left -= k;
        if (left == 0) return (int64_t)n;
        if (r->err_) return left < n ? (int64_t)(n - left) : gn__bufreader_take_err(r);
        gn__bufreader_fill(r);
    }
}

/* ---- writer --------------------------------------------------------------------- */
GN__PRIVATE int gn__bufwriter_ok(const gn_bufwriter *w) {
    return w && w->buf_ && w->size_ > 0 && w->n_ <= w->size_;
}

/* Hands p[n] to the sink, calling again for the rest after a short write.
 * 0, or the error, which becomes sticky.                                          */
GN__PRIVATE int gn__bufwriter_sink(gn_bufwriter *w, const char *p, size_t n) {
    int empty = 0;
    while (n > 0) {
        int64_t m = w->wr_ ? w->wr_(w->ctx_, p, GN__BUFIO_CLAMP(n)) : GN_EINVAL;
        if (m < 0) {
            w->err_ = m < INT_MIN ? GN_EINVAL : (int)m;
            return w->err_;
        }
        if ((uint64_t)m > (uint64_t)n) return w->err_ = GN_EINVAL;
        if (m == 0) {
            if (++empty == GN__BUFIO_MAX_EMPTY) return w->err_ = GN_ENOPROGRESS;
            continue;
        }
        empty = 0;
        p += m;
        n -= (size_t)m;
    }
    return 0;
}

GONET_API void gn_bufwriter_init(gn_bufwriter *w, gn_write_func wr, void *ctx,
                                 char *buf, size_t size) {
    if (!w) return;
    memset(w, 0, sizeof *w);
    if (!buf || size == 0) return;   /* invalid: every call GN_EINVAL */
    w->buf_ = buf;
    w->size_ = size;
    w->wr_ = wr;
    w->ctx_ = ctx;
}

GONET_API gn_bufwriter *gn_bufwriter_new(gn_write_func wr, void *ctx, size_t size) {
    if (size == 0) size = GN_BUFIO_DEFAULT_SIZE;
    if (size > SIZE_MAX - sizeof(gn_bufwriter)) return NULL;
    gn_bufwriter *w = (gn_bufwriter *)GN_MALLOC(sizeof(gn_bufwriter) + size);
    if (!w) return NULL;
    gn_bufwriter_init(w, wr, ctx, (char *)(w + 1), size);
    w->owned_ = 1;
    return w;
}

/* Not inlined: a caller passing its own struct would see a (dead) free() of a
 * stack object, which gcc's -Wfree-nonheap-object flags.                      */
GN__NOINLINE GONET_API void gn_bufwriter_free(gn_bufwriter *w) {
    if (w && w->owned_) GN_FREE(w);
}

GONET_API void gn_bufwriter_reset(gn_bufwriter *w, gn_write_func wr, void *ctx) {
    if (!w) return;
    w->n_ = 0;
    w->err_ = 0;
    w->wr_ = wr;
    w->ctx_ = ctx;
}

GONET_API size_t gn_bufwriter_available(const gn_bufwriter *w) {
    return gn__bufwriter_ok(w) ? w->size_ - w->n_ : 0;
}

GONET_API size_t gn_bufwriter_buffered(const gn_bufwriter *w) {
    return gn__bufwriter_ok(w) ? w->n_ : 0;
}

GONET_API int gn_bufwriter_flush(gn_bufwriter *w) {
    if (!gn__bufwriter_ok(w)) return GN_EINVAL;
    if (w->err_) return w->err_;
    if (w->n_ == 0) return 0;
    int e = gn__bufwriter_sink(w, w->buf_, w->n_);
    if (e) return e;
    w->n_ = 0;
    return 0;
}

GONET_API int64_t gn_bufwriter_write(gn_bufwriter *w, const void *p, size_t n) {
    if (!gn__bufwriter_ok(w) || (!p && n)) return GN_EINVAL;
    if (w->err_) return w->err_;
    if (n == 0) return 0;
    n = GN__BUFIO_CLAMP(n);
    const char *s = (const char *)p;
    size_t left = n;
    while (left > w->size_ - w->n_) {
        if (w->n_ == 0) {
            /* Empty buffer, more than fits: straight to the sink, no copy.       */
            int e = gn__bufwriter_sink(w, s, left);
            return e ? e : (int64_t)n;
        }
        size_t k = w->size_ - w->n_;
        memcpy(w->buf_ + w->n_, s, k);
        w->n_ += k;
        s += k;
        left -= k;
        int e = gn_bufwriter_flush(w);
        if (e) return e;
    }
    memcpy(w->buf_ + w->n_, s, left);
    w->n_ += left;
    return (int64_t)n;
}

GONET_API int gn_bufwriter_write_byte(gn_bufwriter *w, int c) {
    if (!gn__bufwriter_ok(w)) return GN_EINVAL;
    if (w->err_) return w->err_;
    if (w->n_ == w->size_) {
        int e = gn_bufwriter_flush(w);
        if (e) return e;
    }
    w->buf_[w->n_++] = (char)(unsigned char)c;
    return 0;
}

GONET_API int64_t gn_bufwriter_write_string(gn_bufwriter *w, const char *s) {
    if (!s) return GN_EINVAL;
    return gn_bufwriter_write(w, s, strlen(s));
}
