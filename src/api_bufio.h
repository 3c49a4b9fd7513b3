/* api_bufio.h — Go's bufio: a buffered reader and a buffered writer over any
 * gn_read_func / gn_write_func (a connection, a pipe, a file, memory).
 *
 * Both are plain structs with private fields, so they can be embedded: init one
 * over a buffer you own, or let _new allocate struct and buffer in one block.
 * Nothing allocates after that except read_bytes / read_string, whose result
 * is a fresh copy. Neither is safe for concurrent use: one coroutine at a time,
 * as in Go. A NULL, zero-filled or invalid (see init) reader or writer makes
 * every call return GN_EINVAL (or do nothing, for the void ones).
 *
 * How errors meet data (where Go returns both, a C call returns one of them):
 * a call that has bytes for you returns them, and the error that stopped it
 * (GN_EOF, a timeout, ...) is kept and returned by the next call that needs
 * more input. So a reader loop sees the last partial line, then GN_EOF.
 * The exceptions are spelled out below: peek, read_slice's GN_EBUFFULL and
 * read_full.
 *
 * A source that returns 0 bytes for a non-empty read is called again, up to
 * 100 times in a row; then the reader reports GN_ENOPROGRESS (Go's
 * io.ErrNoProgress). A source that claims more bytes than were asked for is
 * reported as GN_EINVAL. A sink that writes only a part is called again for the
 * rest (0 bytes 100 times in a row: GN_ENOPROGRESS).                         */

#ifdef __cplusplus
extern "C" {
#endif

#define GN_BUFIO_DEFAULT_SIZE   4096
#define GN_BUFREADER_MIN_SIZE   16   /* read_line needs room to hold back a '\r' */

/* ---- reader ------------------------------------------------------------------ */
typedef struct gn_bufreader {
    char        *buf_;
    size_t       size_, r_, w_;      /* buf_[r_, w_) is buffered, not yet read   */
    gn_read_func rd_;
    void        *ctx_;
    int          err_;               /* the source's error, returned once        */
    int          last_byte_;         /* for unread_byte; -1: none                */
    int          owned_;             /* 1: made by gn_bufreader_new              */
} gn_bufreader;

/* Reads from rd(ctx) through buf[size], which the caller owns and keeps alive.
 * size must be >= GN_BUFREADER_MIN_SIZE; otherwise (or with a NULL buf) the
 * reader is left invalid and every call on it returns GN_EINVAL. rd may be NULL
 * until gn_bufreader_reset gives it one (reads meanwhile: GN_EINVAL).          */
GONET_API void gn_bufreader_init(gn_bufreader *r, gn_read_func rd, void *ctx,
                                 char *buf, size_t size);
/* The same in one allocation; size 0: GN_BUFIO_DEFAULT_SIZE, and at least
 * GN_BUFREADER_MIN_SIZE. NULL on ENOMEM. Release with gn_bufreader_free.       */
GONET_API gn_bufreader *gn_bufreader_new(gn_read_func rd, void *ctx, size_t size);
GONET_API void gn_bufreader_free(gn_bufreader *r);  /* only for _new; no-op otherwise */
/* Switches to another source: drops buffered data and any kept error, keeps
 * the buffer (for pooled readers).                                             */
GONET_API void gn_bufreader_reset(gn_bufreader *r, gn_read_func rd, void *ctx);

/* Up to n bytes into buf: > 0 bytes, or an error (GN_EOF at the end); 0 only
 * when n is 0. Calls the source at most once (see the note on 0-byte reads);
 * with an empty buffer and n >= its size it reads straight into buf, like Go. */
GONET_API int64_t gn_bufreader_read(gn_bufreader *r, void *buf, size_t n);
/* The next byte (0..255), or an error.                                         */
GONET_API int     gn_bufreader_read_byte(gn_bufreader *r);
/* Steps back over the last byte read (by any read call), so that the next read
 * returns it again: 0, or GN_EUNREAD if no byte was read since init, reset,
 * the last peek or discard, or the last unread_byte.                          */
GONET_API int     gn_bufreader_unread_byte(gn_bufreader *r);
/* Points *out at the next n bytes without consuming them, valid until the next
 * call on r. Returns n; or, when n bytes cannot be had, GN_EBUFFULL if n is
 * larger than the buffer, else the error that stopped it (GN_EOF ...) — *out
 * then still points at what is buffered, gn_bufreader_buffered(r) bytes.
 * out may be NULL.                                                             */
GONET_API int64_t gn_bufreader_peek(gn_bufreader *r, size_t n, const char **out);
/* Reads up to and including the byte delim (converted to unsigned char), and
 * points *out at those bytes inside the buffer: valid until the next call on r.
 * Returns their count (> 0). At the end of input the last bytes come back
 * without delim, then GN_EOF (or the source's error). When the buffer fills
 * with no delim in it, returns GN_EBUFFULL and *out points at the whole
 * buffer, gn_bufreader_size(r) bytes, which count as read.                     */
GONET_API int64_t gn_bufreader_read_slice(gn_bufreader *r, int delim, const char **out);
/* Like read_slice, however long the run (it is not limited by the buffer;
 * bound untrusted input with read_line or read_slice instead): *out is a copy
 * from GN_MALLOC, which the caller frees with free() (or with GN_FREE when the
 * allocation hooks are overridden). Returns its length (> 0). A run cut short
 * by an error comes back first without delim, and the error from the next call.
 * On an error *out is NULL; on GN_ENOMEM the bytes read so far are lost.       */
GONET_API int64_t gn_bufreader_read_bytes(gn_bufreader *r, int delim, char **out);
/* read_bytes with a NUL after the bytes (not counted in the length).           */
GONET_API int64_t gn_bufreader_read_string(gn_bufreader *r, int delim, char **out);
/* The next line without its "\n" or "\r\n", *line pointing into the buffer
 * (valid until the next call on r; not NUL-terminated). Returns its length,
 * 0 for an empty line, or an error (GN_EOF after the last line; a last line
 * without "\n" is returned as a line). A line longer than the buffer comes in
 * pieces: *is_prefix is 1 for each piece but the last (Go's "line too long"
 * signal), 0 otherwise. is_prefix may be NULL.                                 */
GONET_API int64_t gn_bufreader_read_line(gn_bufreader *r, const char **line, int *is_prefix);
/* Go's io.ReadFull: exactly n bytes into buf. Returns n; GN_EOF if the input
 * ended before any byte; GN_EUNEXPECTEDEOF if it ended after some; any other
 * error as is (buf then holds an unspecified number of the bytes).            */
GONET_API int64_t gn_bufreader_read_full(gn_bufreader *r, void *buf, size_t n);
/* Skips n bytes. Returns n; fewer if an error stopped it (the error comes from
 * the next call), or the error if nothing could be skipped.                    */
GONET_API int64_t gn_bufreader_discard(gn_bufreader *r, size_t n);
GONET_API size_t  gn_bufreader_buffered(const gn_bufreader *r);  /* bytes readable now */
GONET_API size_t  gn_bufreader_size(const gn_bufreader *r);      /* the buffer's size  */

/* ---- writer ------------------------------------------------------------------
 * Bytes wait in the buffer until it fills or gn_bufwriter_flush. The first
 * error from the sink sticks: every later write and flush returns it, until
 * gn_bufwriter_reset.                                                          */
typedef struct gn_bufwriter {
    char         *buf_;
    size_t        size_, n_;         /* buf_[0, n_) is waiting to be written      */
    gn_write_func wr_;
    void         *ctx_;
    int           err_;              /* sticky                                    */
    int           owned_;            /* 1: made by gn_bufwriter_new               */
} gn_bufwriter;

/* Writes to wr(ctx) through buf[size] (size >= 1), which the caller owns. A
 * NULL buf or size 0 leaves the writer invalid (every call: GN_EINVAL).       */
GONET_API void gn_bufwriter_init(gn_bufwriter *w, gn_write_func wr, void *ctx,
                                 char *buf, size_t size);
/* One allocation; size 0: GN_BUFIO_DEFAULT_SIZE. NULL on ENOMEM.               */
GONET_API gn_bufwriter *gn_bufwriter_new(gn_write_func wr, void *ctx, size_t size);
/* Only for _new (no-op otherwise). Does NOT flush: buffered bytes are dropped,
 * so call gn_bufwriter_flush first.                                            */
GONET_API void gn_bufwriter_free(gn_bufwriter *w);
/* Switches to another sink: drops buffered bytes and the sticky error, keeps
 * the buffer.                                                                  */
GONET_API void gn_bufwriter_reset(gn_bufwriter *w, gn_write_func wr, void *ctx);

/* Returns n, or the (sticky) error. When the buffer is empty, a write larger
 * than it goes straight to the sink, without a copy, like Go.                 */
GONET_API int64_t gn_bufwriter_write(gn_bufwriter *w, const void *p, size_t n);
/* c is converted to unsigned char, as by fputc. 0, or the error.               */
GONET_API int     gn_bufwriter_write_byte(gn_bufwriter *w, int c);
/* strlen(s) bytes: their count, or the error.                                  */
GONET_API int64_t gn_bufwriter_write_string(gn_bufwriter *w, const char *s);
/* Writes out what is buffered: 0, or the (sticky) error.                       */
GONET_API int     gn_bufwriter_flush(gn_bufwriter *w);
GONET_API size_t  gn_bufwriter_available(const gn_bufwriter *w); /* free bytes in buffer */
GONET_API size_t  gn_bufwriter_buffered(const gn_bufwriter *w);  /* bytes not yet flushed */

#ifdef __cplusplus
}
#endif
