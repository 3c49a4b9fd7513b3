/* api_io.h — the small read/write interface that bufio and connections share. */

#ifdef __cplusplus
extern "C" {
#endif

/* A source of bytes: reads at most n bytes into buf and returns how many (> 0),
 * GN_EOF at the end of the stream, or a negative error. n == 0 returns 0.
 * A sink: writes all n bytes and returns n, or a negative error (then some
 * prefix may have been written). gn_conn_reader / gn_conn_writer adapt a
 * connection; any other source (a pipe, a file, memory) can supply its own.  */
typedef int64_t (*gn_read_func)(void *ctx, void *buf, size_t n);
typedef int64_t (*gn_write_func)(void *ctx, const void *buf, size_t n);

#ifdef __cplusplus
}
#endif
