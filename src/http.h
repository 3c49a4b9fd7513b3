/* http.h — what the HTTP parts share inside the implementation: the parsed
 * message head (http_parse.c fills it), path values (http_mux.c finds them,
 * the request carries them), and the few hooks between the parts.
 *
 * >>http-internal                                                                */

/* A path value the mux matched: name and decoded value, both NUL-terminated and
 * alive while the handler runs.                                                 */
typedef struct gn__pathval {
    const char *name;
    const char *value;
} gn__pathval;

/* The server's: hands the matched pattern's values to the request, for
 * gn_http_path_value. vals stays alive until the handler returns.               */
GN__PRIVATE void gn__http_set_pathvalues(gn_http_request *r, const gn__pathval *vals, int n);
/* The request target's escaped path ("/a%20b"), NUL-terminated.                 */
GN__PRIVATE const char *gn__http_escaped_path(const gn_http_request *r);

/* Percent-decoding (http_mux.c), which the server also uses for the path.       */
#define GN__UNESCAPE_PATH  0   /* '+' is itself; "%xx" decoded                          */
#define GN__UNESCAPE_QUERY 1   /* also '+' is a space (form encoding)                   */
GN__PRIVATE int64_t gn__url_unescape(const char *s, size_t n, char *out, size_t size, int mode);

/* Unix seconds to UTC calendar fields: gmtime_r, which Windows spells
 * _gmtime64_s (with its arguments the other way round).                        */
GN__PRIVATE void gn__gmtime(int64_t t, struct tm *out) {
#if GN__OS_WINDOWS
    __time64_t tt = (__time64_t)t;
    if (_gmtime64_s(out, &tt) != 0) memset(out, 0, sizeof *out);
#else
    time_t tt = (time_t)t;
    if (!gmtime_r(&tt, out)) memset(out, 0, sizeof *out);
#endif
}
