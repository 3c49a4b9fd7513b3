/* http_fs.c — Go's http.FileServer, ServeFile and ServeContent, for coroutines:
 * files under a root directory, index.html and directory listings, the trailing
 * slash redirects, Content-Type by extension or by sniffing, Last-Modified and
 * the conditional headers, byte ranges (one, or several as multipart/byteranges)
 * and HEAD.
 *
 * Blocking. Every open, stat, directory read, read and close runs inside
 * gn_blocking, in a function that is never inlined into its caller (GN__OPAQUE)
 * and that reads errno itself before the blocking section ends: a coroutine may
 * resume on another thread afterwards, where errno is another thread's. A file
 * goes out in chunks of at most GN__FS_CHUNK bytes, each read and then written
 * with gn_http_write after the Content-Length was set, so a response is length-
 * delimited and a request holds at most one chunk buffer (plus the names of one
 * directory while it lists it, at most GN__FS_MAX_LIST of them).
 *
 * Staying under the root. A request path is percent-decoded by the server; one
 * whose target holds "%00" or whose path has a ".." element (separated by '/'
 * or '\\', as Go's ServeFile checks) gets 400. Otherwise it is cleaned ("//" and
 * "." elements dropped) and opened relative to the root's descriptor with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). Symlinks are followed as long
 * as their target, fully resolved, lies under the root's real path: a link that
 * leads out is 404, as if it were not there (Go's http.Dir follows every link;
 * os.Root refuses the ones that leave, which is what this does). openat2 refuses
 * absolute links even when they land inside, and kernels before 5.6 (or seccomp
 * filters) lack it; then root/rel is resolved with realpath and must lie under
 * the root before it is opened (so a link that leads out is never opened), and
 * the file opened must be the inode resolved (a swap in between is refused).
 * On Windows (fs_windows.c) each element is opened in turn from the root with
 * CreateFileW, a reparse point (symbolic link, junction) anywhere is refused
 * (404), and the handle's final path (GetFinalPathNameByHandleW) must lie
 * under the root's.
 *
 * The file-system calls themselves are the OS's: fs_posix.c and fs_windows.c,
 * after this file, define what is declared under "the OS's part" below.
 *
 * Differences from Go. Methods other than GET and HEAD get 405 with
 * "Allow: GET, HEAD" (Go's FileServer serves any method). No ETag is made (Go's
 * ServeContent only honours one the handler set; there is no way to set one
 * here and have it checked): If-None-Match other than "*" never matches, If-Match
 * other than "*" fails (412), and an If-Range with an entity tag drops the range.
 * Files other than regular files and directories (FIFOs, devices, sockets) are
 * 403. A Range "bytes=-0" is unsatisfiable (416, as RFC 9110 says). More than
 * GN__FS_MAX_RANGES ranges, or ranges adding up to more than the file, are
 * ignored (200 with the whole file). With a strip prefix, the bare prefix
 * ("/static") redirects to "static/" rather than serving the root's listing under
 * a URL its relative links do not work from.
 *
 * >>http-fs                                                                      */

#define GN__FS_CHUNK      (64 * 1024)   /* bytes read and written at a time           */
#define GN__FS_SNIFF      512           /* bytes Content-Type sniffing looks at       */
#define GN__FS_MAX_RANGES 64            /* more ranges: the whole file               */
#define GN__FS_MAX_LIST   50000         /* directory entries listed (sorted) at most  */

/* ---- the OS's part (fs_posix.c, fs_windows.c) --------------------------------------
 * Errors are errno values (ENOENT, EACCES, EXDEV for "leads out of the root"),
 * whatever the OS's own are.                                                    */
typedef intptr_t gn__fs_fd;             /* an open file or directory: fd or HANDLE */
#define GN__FS_NOFD ((gn__fs_fd)-1)     /* (INVALID_HANDLE_VALUE is -1 too)         */
enum { GN__FS_REG = 1, GN__FS_DIR, GN__FS_OTHER };
typedef struct gn__fs_stat {
    int     kind;                       /* GN__FS_*                                 */
    int64_t size;
    int64_t mtime;                      /* Unix seconds                             */
} gn__fs_stat;

typedef struct gn__fs_root {
    gn__fs_fd fd;        /* the root directory, opened once                         */
    char     *path;      /* its real path, no trailing separator (except a bare root) */
    size_t    len;
} gn__fs_root;

struct gn_http_fs {
    gn__fs_root root;
    char  *prefix;       /* stripped from request paths, no trailing '/'; or NULL   */
    size_t prefixlen;
};

/* Each runs inside gn_blocking and reports errno in its struct.                   */
typedef struct gn__fs_open {
    const gn__fs_root *root; /* beneath it; NULL: path as given                    */
    const char *path;       /* relative to the root ("" is the root), or any path   */
    char       *sniff;      /* if set, the first GN__FS_SNIFF bytes of a file go here */
    size_t      nsniff;
    gn__fs_fd   fd;         /* the open file, or GN__FS_NOFD                        */
    int         err;        /* its errno when fd is GN__FS_NOFD                      */
    gn__fs_stat st;
} gn__fs_open;
GN__PRIVATE void gn__fs_open_run(void *arg);

typedef struct gn__fs_read {
    gn__fs_fd fd;
    char   *buf;
    size_t  n;
    int64_t off;
    int64_t got;       /* bytes read: n, or fewer at the end of the file           */
    int     err;
} gn__fs_read;
GN__PRIVATE void gn__fs_close_run(void *arg);   /* arg: a gn__fs_fd *               */

/* The OS's positioned read (fs_posix.c, fs_windows.c): > 0 bytes read, 0 at the
 * end of the file, -1 with *err set. An interrupted call is retried.          */
GN__PRIVATE int64_t gn__fs_pread(gn__fs_fd fd, char *buf, size_t n, int64_t off, int *err);

/* n bytes at off, or fewer at the end of the file or on an error (*err).     */
GN__PRIVATE int64_t gn__fs_pread_full(gn__fs_fd fd, char *buf, size_t n, int64_t off, int *err) {
    size_t got = 0;
    while (got < n) {
        int64_t k = gn__fs_pread(fd, buf + got, n - got, off + (int64_t)got, err);
        if (k <= 0) break;
        got += (size_t)k;
    }
    return (int64_t)got;
}

GN__PRIVATE GN__OPAQUE void gn__fs_read_run(void *arg) {
    gn__fs_read *o = (gn__fs_read *)arg;
    o->err = 0;
    o->got = gn__fs_pread_full(o->fd, o->buf, o->n, o->off, &o->err);
}

/* A directory's entries, read and sorted by name in one blocking section: the
 * OS's gn__fs_list_run reads them through gn__fs_list_add, then calls
 * gn__fs_list_sort.                                                            */
typedef struct gn__fs_list {
    gn__fs_fd fd;        /* taken over (closed)                                    */
    char   *names;       /* per entry: a byte 1 if a directory, the name, NUL       */
    size_t  len, cap;
    char  **ents;        /* n pointers to the names, sorted                        */
    size_t  n;
    size_t *offs, ocap;  /* while reading: where each name starts                  */
    int     truncated;   /* more than GN__FS_MAX_LIST entries                       */
    int     err;
} gn__fs_list;
GN__PRIVATE void gn__fs_list_run(void *arg);

/* Opens the root directory (any path) and sets its real path. 0 or an errno.   */
GN__PRIVATE int gn__fs_root_open(gn__fs_root *root, const char *path);

/* ---- the portable helpers of the blocking parts ----------------------------------- */
GN__PRIVATE void gn__fs_close(gn__fs_fd fd) {
    if (fd != GN__FS_NOFD) gn_blocking(gn__fs_close_run, &fd);
}

/* Adds one entry; 0, or 1 to stop (the list is full or memory ran out).        */
GN__PRIVATE int gn__fs_list_add(gn__fs_list *o, const char *nm, int isdir) {
    if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) return 0;
    if (o->n == GN__FS_MAX_LIST) {
        o->truncated = 1;
        return 1;
    }
    size_t nl = strlen(nm);
    if (o->len + nl + 2 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < o->len + nl + 2) cap *= 2;
        char *p = (char *)GN_REALLOC(o->names, cap);
        if (!p) { o->err = ENOMEM; return 1; }
        o->names = p;
        o->cap = cap;
    }
    if (o->n == o->ocap) {
        size_t cap = o->ocap ? o->ocap * 2 : 64;
        size_t *p = (size_t *)GN_REALLOC(o->offs, cap * sizeof *p);
        if (!p) { o->err = ENOMEM; return 1; }
        o->offs = p;
        o->ocap = cap;
    }
    o->names[o->len] = (char)isdir;
    o->offs[o->n++] = o->len + 1;
    memcpy(o->names + o->len + 1, nm, nl + 1);
    o->len += nl + 2;
    return 0;
}

GN__PRIVATE int gn__fs_namecmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

GN__PRIVATE void gn__fs_list_sort(gn__fs_list *o) {
    if (!o->err && o->n) {
        o->ents = (char **)GN_MALLOC(o->n * sizeof *o->ents);
        if (!o->ents) {
            o->err = ENOMEM;
        } else {
            for (size_t i = 0; i < o->n; i++) o->ents[i] = o->names + o->offs[i];
            qsort(o->ents, o->n, sizeof *o->ents, gn__fs_namecmp);
        }
    }
    GN_FREE(o->offs);
    o->offs = NULL;
}

/* ---- dates ------------------------------------------------------------------------ */
static const char gn__fs_days[] = "SunMonTueWedThuFriSat";
static const char gn__fs_months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* "Sun, 06 Nov 1994 08:49:37 GMT" (IMF-fixdate); out has 30 bytes at least.      */
GN__PRIVATE void gn__fs_fmt_date(int64_t t, char *out, size_t size) {
    struct tm tm;
    gn__gmtime(t, &tm);
    snprintf(out, size, "%.3s, %02d %.3s %04d %02d:%02d:%02d GMT", gn__fs_days + 3 * tm.tm_wday,
             tm.tm_mday, gn__fs_months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

GN__PRIVATE int gn__fs_num(const char *s, int n, int *v) {
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

GN__PRIVATE int gn__fs_month(const char *s) {
    for (int i = 0; i < 12; i++)
        if (memcmp(s, gn__fs_months + 3 * i, 3) == 0) return i + 1;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
GN__PRIVATE int64_t gn__fs_days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

GN__PRIVATE int gn__fs_hms(const char *s, int *h, int *m, int *sec) {
    return gn__fs_num(s, 2, h) && s[2] == ':' && gn__fs_num(s + 3, 2, m) && s[5] == ':' &&
           gn__fs_num(s + 6, 2, sec);
}

/* An HTTP date in any of the three forms (RFC 9110 §5.6.7), as Go's ParseTime:
 * "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT" and
 * "Sun Nov  6 08:49:37 1994". 1 and *out in Unix seconds, or 0.                 */
GN__PRIVATE int gn__fs_parse_date(const char *s, int64_t *out) {
    int y, mo, d, h, mi, sec;
    const char *comma = strchr(s, ',');
    if (comma) {
        const char *p = comma + 1;
        size_t n = strlen(p);
        if (comma - s < 3 || *p++ != ' ') return 0;
        if (n == 25 && p[2] == ' ') {             /* "06 Nov 1994 08:49:37 GMT"     */
            if (!gn__fs_num(p, 2, &d) || !(mo = gn__fs_month(p + 3)) || p[6] != ' ' ||
                !gn__fs_num(p + 7, 4, &y) || p[11] != ' ' || !gn__fs_hms(p + 12, &h, &mi, &sec) ||
                strcmp(p + 20, " GMT") != 0)
                return 0;
        } else if (n == 23 && p[2] == '-') {      /* "06-Nov-94 08:49:37 GMT"       */
            if (!gn__fs_num(p, 2, &d) || !(mo = gn__fs_month(p + 3)) || p[6] != '-' ||
                !gn__fs_num(p + 7, 2, &y) || p[9] != ' ' || !gn__fs_hms(p + 10, &h, &mi, &sec) ||
                strcmp(p + 18, " GMT") != 0)
                return 0;
            y += y < 69 ? 2000 : 1900;            /* Go's two-digit years          */
        } else {
            return 0;
        }
    } else {                                      /* "Sun Nov  6 08:49:37 1994"     */
        if (strlen(s) != 24 || s[3] != ' ' || !(mo = gn__fs_month(s + 4)) || s[7] != ' ') return 0;
        if (s[8] == ' ' ? !gn__fs_num(s + 9, 1, &d) : !gn__fs_num(s + 8, 2, &d)) return 0;
        if (s[10] != ' ' || !gn__fs_hms(s + 11, &h, &mi, &sec) || s[19] != ' ' ||
            !gn__fs_num(s + 20, 4, &y))
            return 0;
    }
    if (d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return 0;
    *out = gn__fs_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 1;
}

/* ---- Content-Type ------------------------------------------------------------------ */
GN__PRIVATE const char *gn__fs_type_by_ext(const char *name) {
    static const char *const table[][2] = {
        {"html", "text/html; charset=utf-8"},  {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},    {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"}, {"json", "application/json"},
        {"map", "application/json"},           {"txt", "text/plain; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"}, {"csv", "text/csv; charset=utf-8"},
        {"xml", "text/xml; charset=utf-8"},    {"svg", "image/svg+xml"},
        {"png", "image/png"},                  {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},                {"gif", "image/gif"},
        {"webp", "image/webp"},                {"avif", "image/avif"},
        {"ico", "image/x-icon"},               {"bmp", "image/bmp"},
        {"wasm", "application/wasm"},          {"pdf", "application/pdf"},
        {"zip", "application/zip"},            {"gz", "application/gzip"},
        {"tar", "application/x-tar"},          {"woff", "font/woff"},
        {"woff2", "font/woff2"},               {"ttf", "font/ttf"},
        {"otf", "font/otf"},                   {"mp3", "audio/mpeg"},
        {"ogg", "audio/ogg"},                  {"wav", "audio/wav"},
        {"mp4", "video/mp4"},                  {"webm", "video/webm"},
    };
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash + 1 : name, '.');
    if (!dot || !dot[1] || strlen(dot + 1) > 5) return NULL;
    char ext[8];
    size_t n = 0;
    for (const char *p = dot + 1; *p; p++) ext[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    ext[n] = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(ext, table[i][0]) == 0) return table[i][1];
    return NULL;
}

/* Go's DetectContentType, for the signatures that matter to a file server.    */
GN__PRIVATE const char *gn__fs_sniff(const char *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    static const struct { const char *sig; size_t len; const char *type; } exact[] = {
        {"%PDF-", 5, "application/pdf"},
        {"%!PS-Adobe-", 11, "application/postscript"},
        {"\xFE\xFF", 2, "text/plain; charset=utf-16be"},
        {"\xFF\xFE", 2, "text/plain; charset=utf-16le"},
        {"\xEF\xBB\xBF", 3, "text/plain; charset=utf-8"},
        {"GIF87a", 6, "image/gif"},
        {"GIF89a", 6, "image/gif"},
        {"\x89PNG\r\n\x1A\n", 8, "image/png"},
        {"\xFF\xD8\xFF", 3, "image/jpeg"},
        {"BM", 2, "image/bmp"},
        {"\0\0\1\0", 4, "image/x-icon"},
        {"OggS\0", 5, "application/ogg"},
        {"ID3", 3, "audio/mpeg"},
        {"\x1A\x45\xDF\xA3", 4, "video/webm"},
        {"PK\x03\x04", 4, "application/zip"},
        {"\x1F\x8B\x08", 3, "application/x-gzip"},
        {"\0asm", 4, "application/wasm"},
        {"wOFF", 4, "font/woff"},
        {"wOF2", 4, "font/woff2"},
    };
    static const char *const html[] = {"<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME",
                                       "<H1", "<DIV", "<FONT", "<TABLE", "<A", "<STYLE",
                                       "<TITLE", "<B", "<BODY", "<BR", "<P", "<!--"};
    if (n > GN__FS_SNIFF) n = GN__FS_SNIFF;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r' || p[i] == '\f')) i++;
    for (size_t k = 0; k < sizeof html / sizeof html[0]; k++) {
        size_t l = strlen(html[k]), j;
        if (n - i <= l) continue;   /* the tag must be followed by ' ' or '>'        */
        for (j = 0; j < l; j++) {
            unsigned char c = p[i + j];
            if ((c >= 'a' && c <= 'z' ? c - 32 : c) != (unsigned char)html[k][j]) break;
        }
        if (j == l && (p[i + l] == ' ' || p[i + l] == '>')) return "text/html; charset=utf-8";
    }
    if (n - i >= 5 && memcmp(p + i, "<?xml", 5) == 0) return "text/xml; charset=utf-8";
    for (size_t k = 0; k < sizeof exact / sizeof exact[0]; k++)
        if (n >= exact[k].len && memcmp(p, exact[k].sig, exact[k].len) == 0) return exact[k].type;
    if (n >= 14 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBPVP", 6) == 0) return "image/webp";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0) return "audio/wave";
    if (n >= 12 && memcmp(p + 4, "ftyp", 4) == 0) return "video/mp4";
    for (size_t k = 0; k < n; k++) {
        unsigned char c = p[k];
        if (c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1A) || (c >= 0x1C && c <= 0x1F))
            return "application/octet-stream";
    }
    return "text/plain; charset=utf-8";
}

/* ---- ranges ------------------------------------------------------------------------ */
typedef struct gn__fs_range { int64_t start, len; } gn__fs_range;

#define GN__FS_RANGE_INVALID  (-1)   /* 416 "invalid range"                      */
#define GN__FS_RANGE_NOOVERLAP (-2)  /* 416 with Content-Range: bytes STAR/size   */
#define GN__FS_RANGE_MANY     (-3)   /* too many to bother: serve the whole file  */

GN__PRIVATE int gn__fs_i64(const char *s, size_t n, int64_t *v) {
    if (n == 0 || n > 18) return 0;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        *v = *v * 10 + (s[i] - '0');
    }
    return 1;
}

/* Go's parseRange: "bytes=a-b, c-, -n". The count of ranges, or GN__FS_RANGE_*. */
GN__PRIVATE int gn__fs_parse_range(const char *s, int64_t size, gn__fs_range *out, int max) {
    if (strncmp(s, "bytes=", 6) != 0) return GN__FS_RANGE_INVALID;
    s += 6;
    int n = 0, nooverlap = 0;
    while (*s) {
        const char *e = strchr(s, ',');
        if (!e) e = s + strlen(s);
        const char *a = s, *b = e;
        s = *e ? e + 1 : e;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        if (a == b) continue;
        const char *dash = (const char *)memchr(a, '-', (size_t)(b - a));
        if (!dash) return GN__FS_RANGE_INVALID;
        const char *sa = a, *sb = dash, *ea = dash + 1, *eb = b;
        while (sb > sa && (sb[-1] == ' ' || sb[-1] == '\t')) sb--;
        while (ea < eb && (*ea == ' ' || *ea == '\t')) ea++;
        int64_t start, end;
        gn__fs_range r;
        if (sa == sb) {                               /* "-n": the last n bytes     */
            if (!gn__fs_i64(ea, (size_t)(eb - ea), &end)) return GN__FS_RANGE_INVALID;
            if (end == 0 || size == 0) { nooverlap = 1; continue; }
            if (end > size) end = size;
            r.start = size - end;
            r.len = end;
        } else {
            if (!gn__fs_i64(sa, (size_t)(sb - sa), &start)) return GN__FS_RANGE_INVALID;
            if (ea == eb) {
                end = -1;
            } else if (!gn__fs_i64(ea, (size_t)(eb - ea), &end) || end < start) {
                return GN__FS_RANGE_INVALID;
            }
            if (start >= size) { nooverlap = 1; continue; }
            if (end < 0 || end >= size) end = size - 1;
            r.start = start;
            r.len = end - start + 1;
        }
        if (n == max) return GN__FS_RANGE_MANY;
        out[n++] = r;
    }
    if (n == 0 && nooverlap) return GN__FS_RANGE_NOOVERLAP;
    return n;
}

/* ---- conditional requests (Go's checkPreconditions, without an ETag) ------------ */
/* Does the comma-separated list of entity tags hold "*"?                        */
GN__PRIVATE int gn__fs_has_star(const char *s) {
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',') s++;
        if (!*s) return 0;
        const char *e = s;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t')) t--;
        if (t - s == 1 && *s == '*') return 1;
        s = e;
    }
}

/* If-Modified-Since names mtime or later (Go's checkIfModifiedSince false).     */
GN__PRIVATE int gn__fs_not_modified(gn_http_request *r, int64_t mtime) {
    const char *v = gn_http_header_get(r, "If-Modified-Since");
    int64_t t;
    return v && mtime > 0 && gn__fs_parse_date(v, &t) && mtime <= t;
}

/* 0 to go on, or the status that answers the request (304, 412).               */
GN__PRIVATE int gn__fs_preconditions(gn_http_request *r, int64_t mtime) {
    const char *v = gn_http_header_get(r, "If-Match");
    int64_t t;
    if (v) {
        if (!gn__fs_has_star(v)) return 412;
    } else if ((v = gn_http_header_get(r, "If-Unmodified-Since")) && mtime > 0 &&
               gn__fs_parse_date(v, &t) && mtime > t) {
        return 412;
    }
    if ((v = gn_http_header_get(r, "If-None-Match"))) return gn__fs_has_star(v) ? 304 : 0;
    return gn__fs_not_modified(r, mtime) ? 304 : 0;
}

/* Whether the Range header applies: no If-Range, or one that names mtime.       */
GN__PRIVATE int gn__fs_if_range(gn_http_request *r, int64_t mtime) {
    const char *v = gn_http_header_get(r, "If-Range");
    int64_t t;
    if (!v) return 1;
    if (v[0] == '"' || (v[0] == 'W' && v[1] == '/')) return 0;   /* an ETag: none here */
    return mtime > 0 && gn__fs_parse_date(v, &t) && t == mtime;
}

/* ---- writing ------------------------------------------------------------------------ */
GN__PRIVATE int gn__fs_error(gn_http_response *w, int status) {
    const char *msg = status == 400 ? "400 Bad Request"
                    : status == 403 ? "403 Forbidden"
                    : status == 404 ? "404 page not found"
                    : status == 405 ? "405 method not allowed"
                    : "500 Internal Server Error";
    gn_http_error(w, msg, status);
    return status;
}

GN__PRIVATE int gn__fs_errno_status(int err) {
    switch (err) {
    case ENOENT: case ENOTDIR: case ELOOP: case EXDEV: case ENAMETOOLONG: return 404;
    case EACCES: case EPERM: return 403;
    default: return 500;
    }
}

/* Characters a path segment keeps as they are in a URL; the rest is %XX. ':' is
 * escaped too, so a relative reference never reads as a scheme.                */
GN__PRIVATE int gn__fs_url_safe(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-escapes s[0, n) into out (room for 3n bytes); returns the length.    */
GN__PRIVATE size_t gn__fs_url_escape(const char *s, size_t n, char *out) {
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (gn__fs_url_safe(c)) {
            out[j++] = (char)c;
        } else {
            out[j++] = '%';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        }
    }
    return j;
}

/* Go's localRedirect: 301 to pre + escaped seg + (slash ? "/" : "") + "?query". */
GN__PRIVATE int gn__fs_redirect(gn_http_response *w, gn_http_request *r, const char *pre,
                                const char *seg, size_t seglen, int slash) {
    const char *q = gn_http_raw_query(r);
    size_t ql = q ? strlen(q) : 0;
    char *loc = (char *)GN_MALLOC(strlen(pre) + 3 * seglen + ql + 4);
    if (!loc) return gn__fs_error(w, 500);
    size_t n = strlen(pre);
    memcpy(loc, pre, n);
    n += gn__fs_url_escape(seg, seglen, loc + n);
    if (slash) loc[n++] = '/';
    if (ql) {
        loc[n++] = '?';
        memcpy(loc + n, q, ql);
        n += ql;
    }
    loc[n] = 0;
    int rc = gn_http_set_header(w, "Location", loc);
    GN_FREE(loc);
    if (rc) return gn__fs_error(w, 500);
    gn_http_write_header(w, 301);
    return 301;
}

/* The last element of a path, trailing slashes ignored (Go's path.Base); "." for
 * a path of slashes only.                                                        */
GN__PRIVATE void gn__fs_base(const char *p, const char **b, size_t *n) {
    size_t e = strlen(p);
    while (e > 0 && p[e - 1] == '/') e--;
    size_t s = e;
    while (s > 0 && p[s - 1] != '/') s--;
    if (s == e) {
        *b = ".";
        *n = 1;
    } else {
        *b = p + s;
        *n = e - s;
    }
}

/* Buffered output for generated bodies (listings, multipart part heads).       */
typedef struct gn__fs_out {
    gn_http_response *w;
    char   *buf;
    size_t  len, cap;
    int     err;
} gn__fs_out;

GN__PRIVATE void gn__fs_out_flush(gn__fs_out *o) {
    if (o->len && !o->err) {
        int64_t rc = gn_http_write(o->w, o->buf, o->len);
        if (rc < 0) o->err = (int)rc;
    }
    o->len = 0;
}

GN__PRIVATE void gn__fs_put(gn__fs_out *o, const char *p, size_t n) {
    while (n && !o->err) {
        if (o->len == o->cap) gn__fs_out_flush(o);
        size_t k = GN__MIN(n, o->cap - o->len);
        memcpy(o->buf + o->len, p, k);
        o->len += k;
        p += k;
        n -= k;
    }
}
#define GN__FS_PUTS(o, s) gn__fs_put((o), (s), strlen(s))

/* Go's htmlReplacer.                                                            */
GN__PRIVATE void gn__fs_put_html(gn__fs_out *o, const char *s) {
    for (const char *p = s; *p; p++) {
        const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
                      : *p == '"' ? "&#34;" : *p == '\'' ? "&#39;" : NULL;
        if (e) GN__FS_PUTS(o, e); else gn__fs_put(o, p, 1);
    }
}

/* Go's dirList: a <pre> of links, sorted by name, directories with a '/'.      */
GN__PRIVATE int gn__fs_list_dir(gn_http_response *w, gn_http_request *r, gn__fs_fd fd, const gn__fs_stat *st) {
    int64_t mtime = st->mtime;
    char date[40];
    if (mtime > 0) {
        gn__fs_fmt_date(mtime, date, sizeof date);
        gn_http_set_header(w, "Last-Modified", date);
    }
    if (gn__fs_not_modified(r, mtime)) {   /* Go checks only this for a directory */
        gn__fs_close(fd);
        gn_http_write_header(w, 304);
        return 304;
    }
    gn__fs_list l;
    memset(&l, 0, sizeof l);
    l.fd = fd;
    gn_blocking(gn__fs_list_run, &l);
    int status = 200;
    char *buf = NULL;
    gn__fs_out o = {w, NULL, 0, 4096, 0};   /* before the gotos: C++ refuses a jump past it */
    if (l.err) {
        status = gn__fs_error(w, l.err == ENOMEM ? 500 : gn__fs_errno_status(l.err));
        goto out;
    }
    if (!(buf = (char *)GN_MALLOC(4096))) {
        status = gn__fs_error(w, 500);
        goto out;
    }
    gn_http_set_header(w, "Content-Type", "text/html; charset=utf-8");
    o.buf = buf;
    GN__FS_PUTS(&o, "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n");
    for (size_t i = 0; i < l.n && !o.err; i++) {
        const char *nm = l.ents[i];
        int isdir = nm[-1] == 1;
        size_t nl = strlen(nm);
        char esc[3 * 256 + 2];
        GN__FS_PUTS(&o, "<a href=\"");
        for (size_t k = 0; k < nl; k += 256) {
            size_t e = gn__fs_url_escape(nm + k, GN__MIN((size_t)256, nl - k), esc);
            gn__fs_put(&o, esc, e);
        }
        if (isdir) gn__fs_put(&o, "/", 1);
        GN__FS_PUTS(&o, "\">");
        gn__fs_put_html(&o, nm);
        if (isdir) gn__fs_put(&o, "/", 1);
        GN__FS_PUTS(&o, "</a>\n");
    }
    GN__FS_PUTS(&o, "</pre>\n");
    if (l.truncated) GN__FS_PUTS(&o, "<p>(listing truncated)</p>\n");
    gn__fs_out_flush(&o);
    if (o.err) status = o.err;
out:
    GN_FREE(buf);
    GN_FREE(l.ents);
    GN_FREE(l.names);
    return status;
}

/* Sends bytes [start, start + len) of fd through buf. 0, or an error.           */
GN__PRIVATE int gn__fs_copy(gn_http_response *w, gn__fs_fd fd, char *buf, size_t cap, int64_t start, int64_t len) {
    while (len > 0) {
        gn__fs_read rd;
        rd.fd = fd;
        rd.buf = buf;
        rd.n = (size_t)GN__MIN((int64_t)cap, len);
        rd.off = start;
        gn_blocking(gn__fs_read_run, &rd);
        if (rd.got <= 0) return rd.err ? -rd.err : GN_EUNEXPECTEDEOF;   /* it shrank */
        int64_t rc = gn_http_write(w, buf, (size_t)rd.got);
        if (rc < 0) return (int)rc;
        start += rd.got;
        len -= rd.got;
    }
    return 0;
}

/* A multipart/byteranges part head (Go's multipart.Writer, headers sorted).     */
GN__PRIVATE size_t gn__fs_part_head(char *out, size_t size, int first, const char *boundary,
                                    const gn__fs_range *rg, int64_t total, const char *ctype) {
    int n = snprintf(out, size, "%s--%s\r\nContent-Range: bytes %lld-%lld/%lld\r\nContent-Type: %s\r\n\r\n",
                     first ? "" : "\r\n", boundary, (long long)rg->start,
                     (long long)(rg->start + rg->len - 1), (long long)total, ctype);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Go's serveContent for an open regular file. Takes fd over.                    */
GN__PRIVATE int gn__fs_content(gn_http_response *w, gn_http_request *r, gn__fs_fd fd, const gn__fs_stat *st,
                               const char *name, const char *sniff, size_t nsniff) {
    int64_t size = st->size, mtime = st->mtime;
    char tmp[200];
    char *buf = NULL;
    int status, nr = 0, rc = 0;
    const char *ctype, *range;   /* no initialiser past a goto: C++ refuses that */
    int64_t clen, data;
    size_t cap;
    if (mtime > 0) {
        gn__fs_fmt_date(mtime, tmp, sizeof tmp);
        gn_http_set_header(w, "Last-Modified", tmp);
    }
    if ((status = gn__fs_preconditions(r, mtime)) != 0) {
        gn_http_write_header(w, status);
        goto out;
    }
    ctype = gn__fs_type_by_ext(name);
    if (!ctype) ctype = gn__fs_sniff(sniff, nsniff);
    gn__fs_range rs[GN__FS_MAX_RANGES];
    range = gn_http_header_get(r, "Range");
    if (range && gn__fs_if_range(r, mtime)) {
        nr = gn__fs_parse_range(range, size, rs, GN__FS_MAX_RANGES);
        if (nr == GN__FS_RANGE_NOOVERLAP && size == 0) nr = 0;   /* Go: empty file, 200 */
        if (nr == GN__FS_RANGE_NOOVERLAP) {
            snprintf(tmp, sizeof tmp, "bytes */%lld", (long long)size);
            gn_http_set_header(w, "Content-Range", tmp);
            gn_http_error(w, "invalid range: failed to overlap", 416);
            status = 416;
            goto out;
        }
        if (nr == GN__FS_RANGE_INVALID) {
            gn_http_error(w, "invalid range", 416);
            status = 416;
            goto out;
        }
        int64_t sum = 0;
        for (int i = 0; i < nr; i++) sum += rs[i].len;
        if (nr < 0 || sum > size) nr = 0;   /* too many, or more than the file: all */
    }
    char boundary[33];
    clen = data = size;
    if (nr == 1) {
        snprintf(tmp, sizeof tmp, "bytes %lld-%lld/%lld", (long long)rs[0].start,
                 (long long)(rs[0].start + rs[0].len - 1), (long long)size);
        gn_http_set_header(w, "Content-Range", tmp);
        clen = data = rs[0].len;
    } else if (nr > 1) {
        static uint64_t seq;
        uint64_t x = (uint64_t)gn_now() ^ ((uint64_t)(uintptr_t)w << 16) ^
                     gn__xadd(&seq, 0x9E3779B97F4A7C15ull);
        for (int i = 0; i < 32; i += 16) {   /* splitmix64: 32 hex digits         */
            uint64_t z = (x += 0x9E3779B97F4A7C15ull);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            z ^= z >> 31;
            for (int k = 0; k < 16; k++) boundary[i + k] = "0123456789abcdef"[(z >> (4 * k)) & 15];
        }
        boundary[32] = 0;
        clen = data = 0;
        for (int i = 0; i < nr; i++) {
            clen += (int64_t)gn__fs_part_head(tmp, sizeof tmp, i == 0, boundary, &rs[i], size, ctype) + rs[i].len;
            data += rs[i].len;
        }
        clen += 8 + 32;   /* "\r\n--" boundary "--\r\n" */
    }
    if (nr > 1) {
        snprintf(tmp, sizeof tmp, "multipart/byteranges; boundary=%s", boundary);
        gn_http_set_header(w, "Content-Type", tmp);
    } else {
        gn_http_set_header(w, "Content-Type", ctype);
    }
    gn_http_set_header(w, "Accept-Ranges", "bytes");
    snprintf(tmp, sizeof tmp, "%lld", (long long)clen);
    gn_http_set_header(w, "Content-Length", tmp);
    status = nr ? 206 : 200;
    gn_http_write_header(w, status);
    if (strcmp(gn_http_method(r), "HEAD") == 0 || data == 0) goto out;
    cap = (size_t)GN__MIN((int64_t)GN__FS_CHUNK, data);
    if (!(buf = (char *)GN_MALLOC(cap))) {
        status = GN_ENOMEM;   /* the head says more is coming: the server closes */
        goto out;
    }
    if (nr <= 1) {
        rc = gn__fs_copy(w, fd, buf, cap, nr ? rs[0].start : 0, data);
    } else {
        for (int i = 0; i < nr && !rc; i++) {
            size_t hn = gn__fs_part_head(tmp, sizeof tmp, i == 0, boundary, &rs[i], size, ctype);
            int64_t wr = gn_http_write(w, tmp, hn);
            if (wr < 0) rc = (int)wr;
            if (!rc) rc = gn__fs_copy(w, fd, buf, cap, rs[i].start, rs[i].len);
        }
        if (!rc) {
            snprintf(tmp, sizeof tmp, "\r\n--%s--\r\n", boundary);
            int64_t wr = gn_http_write(w, tmp, strlen(tmp));
            if (wr < 0) rc = (int)wr;
        }
    }
    if (rc) status = rc;
out:
    GN_FREE(buf);
    gn__fs_close(fd);
    return status;
}

/* ---- serving a path ------------------------------------------------------------------ */
/* Go's serveFile. fs set: path is relative to its root, already clean; else any
 * path. url: the request path the redirects refer to. redirect: Go's redirect
 * flag (FileServer yes, ServeFile no). The status sent, or a negative error. */
GN__PRIVATE int gn__fs_serve_path(gn_http_response *w, gn_http_request *r, const gn_http_fs *fs,
                                  const char *path, const char *url, int redirect) {
    char sniff[GN__FS_SNIFF];
    gn__fs_open o;
    memset(&o, 0, sizeof o);
    o.root = fs ? &fs->root : NULL;
    o.path = path;
    o.sniff = gn__fs_type_by_ext(path) ? NULL : sniff;
    gn_blocking(gn__fs_open_run, &o);
    if (o.fd == GN__FS_NOFD) return gn__fs_error(w, gn__fs_errno_status(o.err));
    size_t ul = strlen(url);
    int slash = ul > 0 && url[ul - 1] == '/';
    int isdir = o.st.kind == GN__FS_DIR;
    const char *base;
    size_t bl;
    gn__fs_base(url, &base, &bl);
    if ((redirect || isdir) && isdir != slash) {
        gn__fs_close(o.fd);
        return isdir ? gn__fs_redirect(w, r, "", base, bl, 1) : gn__fs_redirect(w, r, "../", base, bl, 0);
    }
    if (isdir) {
        size_t pl = strlen(path);
        char *index = (char *)GN_MALLOC(pl + 12);
        if (!index) {
            gn__fs_close(o.fd);
            return gn__fs_error(w, 500);
        }
        memcpy(index, path, pl);
        const char *ix_name = pl && path[pl - 1] != '/' ? "/index.html" : "index.html";
        memcpy(index + pl, ix_name, strlen(ix_name) + 1);
        gn__fs_open ix;
        memset(&ix, 0, sizeof ix);
        ix.root = fs ? &fs->root : NULL;
        ix.path = index;
        gn_blocking(gn__fs_open_run, &ix);
        GN_FREE(index);
        if (ix.fd != GN__FS_NOFD && ix.st.kind == GN__FS_REG) {
            gn__fs_close(o.fd);
            return gn__fs_content(w, r, ix.fd, &ix.st, "index.html", NULL, 0);
        }
        gn__fs_close(ix.fd);
        return gn__fs_list_dir(w, r, o.fd, &o.st);
    }
    if (o.st.kind != GN__FS_REG) {
        gn__fs_close(o.fd);
        return gn__fs_error(w, 403);
    }
    return gn__fs_content(w, r, o.fd, &o.st, path, sniff, o.nsniff);
}

/* GET and HEAD only; else 405 with Allow. 1 if the method is served.            */
GN__PRIVATE int gn__fs_method_ok(gn_http_response *w, gn_http_request *r) {
    const char *m = gn_http_method(r);
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0) return 1;
    gn_http_set_header(w, "Allow", "GET, HEAD");
    gn__fs_error(w, 405);
    return 0;
}

/* Go's containsDotDot: a ".." element between '/' or '\\' separators.         */
GN__PRIVATE int gn__fs_dotdot(const char *p) {
    for (const char *s = p; *s;) {
        while (*s == '/' || *s == '\\') s++;
        const char *e = s;
        while (*e && *e != '/' && *e != '\\') e++;
        if (e - s == 2 && s[0] == '.' && s[1] == '.') return 1;
        s = e;
    }
    return 0;
}

/* "%00" in the target's path: the decoded path would end at the NUL.           */
GN__PRIVATE int gn__fs_nul(gn_http_request *r) {
    const char *t = gn_http_target(r);
    for (; t && *t && *t != '?'; t++)
        if (t[0] == '%' && t[1] == '0' && t[2] == '0') return 1;
    return 0;
}

GONET_API gn_http_fs *gn_http_fs_new(const char *root) {
    if (!root || !*root) return NULL;
    gn_http_fs *fs = (gn_http_fs *)GN_MALLOC(sizeof *fs);
    if (!fs) return NULL;
    memset(fs, 0, sizeof *fs);
    fs->root.fd = GN__FS_NOFD;
    if (gn__fs_root_open(&fs->root, root) != 0) {
        gn_http_fs_free(fs);
        return NULL;
    }
    return fs;
}

GONET_API void gn_http_fs_free(gn_http_fs *fs) {
    if (!fs) return;
    gn__fs_close(fs->root.fd);
    GN_FREE(fs->root.path);
    GN_FREE(fs->prefix);
    GN_FREE(fs);
}

GONET_API int gn_http_fs_strip_prefix(gn_http_fs *fs, const char *prefix) {
    if (!fs || !prefix || (prefix[0] && prefix[0] != '/')) return GN_EINVAL;
    size_t n = strlen(prefix);
    while (n > 0 && prefix[n - 1] == '/') n--;
    char *p = NULL;
    if (n) {
        if (!(p = (char *)GN_MALLOC(n + 1))) return GN_ENOMEM;
        memcpy(p, prefix, n);
        p[n] = 0;
    }
    GN_FREE(fs->prefix);
    fs->prefix = p;
    fs->prefixlen = n;
    return 0;
}

GONET_API void gn_http_fs_serve(gn_http_response *w, gn_http_request *r, void *ud) {
    gn_http_fs *fs = (gn_http_fs *)ud;
    if (!w || !r) return;
    if (!fs) {
        gn__fs_error(w, 500);
        return;
    }
    if (!gn__fs_method_ok(w, r)) return;
    if (gn__fs_nul(r)) {
        gn__fs_error(w, 400);
        return;
    }
    const char *url = gn_http_path(r);
    if (fs->prefix) {
        if (strncmp(url, fs->prefix, fs->prefixlen) != 0 ||
            (url[fs->prefixlen] && url[fs->prefixlen] != '/')) {
            gn__fs_error(w, 404);
            return;
        }
        url += fs->prefixlen;
        if (!*url) {   /* "/static": to "static/", where the listing's links work */
            const char *base;
            size_t bl;
            gn__fs_base(fs->prefix, &base, &bl);
            gn__fs_redirect(w, r, "", base, bl, 1);
            return;
        }
    }
    if (gn__fs_dotdot(url)) {
        gn__fs_error(w, 400);
        return;
    }
    size_t ul = strlen(url);
    if (ul >= 11 && strcmp(url + ul - 11, "/index.html") == 0) {   /* as Go: to "./" */
        gn__fs_redirect(w, r, "./", "", 0, 0);
        return;
    }
    /* Clean: drop empty and "." elements; ".." was refused above.                */
    char *rel = (char *)GN_MALLOC(ul + 1);
    if (!rel) {
        gn__fs_error(w, 500);
        return;
    }
    size_t n = 0;
    for (const char *s = url; *s;) {
        while (*s == '/') s++;
        const char *e = s;
        while (*e && *e != '/') e++;
        if (e > s && !(e - s == 1 && *s == '.')) {
            if (n) rel[n++] = '/';
            memcpy(rel + n, s, (size_t)(e - s));
            n += (size_t)(e - s);
        }
        s = e;
    }
    rel[n] = 0;
    gn__fs_serve_path(w, r, fs, rel, url, 1);
    GN_FREE(rel);
}

GONET_API int gn_http_serve_file(gn_http_response *w, gn_http_request *r, const char *path) {
    if (!w || !r || !path || !*path) return GN_EINVAL;
    if (!gn__fs_method_ok(w, r)) return 405;
    if (gn__fs_nul(r) || gn__fs_dotdot(gn_http_path(r))) return gn__fs_error(w, 400);
    return gn__fs_serve_path(w, r, NULL, path, gn_http_path(r), 0);
}
