/* test_http_fs.c — the file server (gn_http_fs_serve, gn_http_serve_file) over
 * real sockets: a temporary tree (text, HTML, a 1 MiB binary of known bytes,
 * files named with spaces, UTF-8 and HTML metacharacters, directories with and
 * without index.html, symlinks inside and out of the root, a FIFO, a file
 * with a fixed mtime), a server on 127.0.0.1:0 inside the runtime and a raw
 * socket client that parses status, headers and body (Content-Length or
 * chunked) exactly. Checked: bytes, Content-Type (table and sniffing),
 * Content-Length, HEAD, 404/403/405/400, traversal attempts (never leave the
 * root), symlinks with openat2 and with the fallback check, the directory and
 * index.html redirects, listings (escaped, sorted), ranges (every form, 206
 * bytes exact, multipart/byteranges, 416), the conditional headers (304, 412,
 * If-Range), keep-alive across every kind of response, the strip prefix with
 * and without the mux, gn_http_serve_file, many concurrent downloads on two Ps
 * checked byte by byte, curl --range when /usr/bin/curl exists, and the parsers
 * (dates, ranges, sniffing, extensions) directly. Every test also checks that
 * the implementation's allocations and the process's descriptors come back.
 *
 * On Windows (fs_windows.c) a reparse point is refused wherever it points, so
 * every link is 404 there; FIFOs, mode-0 files and curl are POSIX-only tests,
 * and where the system makes no symbolic links (wine's are a stub) the link
 * checks skip.                                                              */
#include <stddef.h>
static void *t_malloc(size_t n);
static void *t_realloc(void *p, size_t n);
static void t_free(void *p);
#define GN_MALLOC(n)     t_malloc(n)
#define GN_REALLOC(p, n) t_realloc((p), (n))
#define GN_FREE(p)       t_free(p)

#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _WIN32
#  define T_WIN 1
#  define T_LINK_ON_WIN 404   /* what a link gets: Windows refuses every reparse point */
#else
#  include <ftw.h>
#  include <sys/wait.h>
#  define T_WIN 0
#  define T_LINK_ON_WIN 200
#endif

/* ---- a counting allocator: what the implementation allocates comes back ---------- */
static long g_live;
static void *t_malloc(size_t n) {
    void *p = malloc(n);
    if (p) AADD(&g_live, 1);
    return p;
}
static void *t_realloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (!p && q) AADD(&g_live, 1);
    return q;
}
static void t_free(void *p) {
    if (p) AADD(&g_live, -1);
    free(p);
}

/* ---- recording failures from any coroutine (as test_net.c) ------------------------ */
static char g_fail[1024];
static int g_fail_set;

static int ck_fail(int line, const char *msg) {
    if (getenv("GN_TEST_ALLFAIL")) fprintf(stderr, "  check failed: line %d: %s\n", line, msg);
    int z = 0;
    if (__atomic_compare_exchange_n(&g_fail_set, &z, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        snprintf(g_fail, sizeof g_fail, "line %d: %s", line, msg);
    return 0;
}
static int ck_(int ok, int line, const char *what) { return ok ? 1 : ck_fail(line, what); }
static int cki_(long long exp, long long got, int line, const char *what) {
    if (exp == got) return 1;
    char msg[512];
    snprintf(msg, sizeof msg, "%s: expected %lld, got %lld", what, exp, got);
    return ck_fail(line, msg);
}
static int cks_(const char *exp, const char *got, int line, const char *what) {
    if (exp && got && strcmp(exp, got) == 0) return 1;
    char msg[900];
    snprintf(msg, sizeof msg, "%s: expected \"%.300s\", got \"%.300s\"", what, exp ? exp : "(null)",
             got ? got : "(null)");
    return ck_fail(line, msg);
}
#define CK(c)         ck_(!!(c), __LINE__, #c)
#define CKI(exp, got) cki_((long long)(exp), (long long)(got), __LINE__, #got)
#define CKS(exp, got) cks_((exp), (got), __LINE__, #got)

/* ---- the tree ------------------------------------------------------------------------ */
static char g_base[64], g_root[128], g_out[128];
#define HELLO "Hello, file server!\n"                 /* 20 bytes */
#define BIG_SIZE (1024 * 1024)
#define DATED 1620284889                              /* Thu, 06 May 2021 07:08:09 GMT */
#define DATED_S "Thu, 06 May 2021 07:08:09 GMT"
#define SUB_LISTING                                                                      \
    "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n"   \
    "<a href=\"a.txt\">a.txt</a>\n<a href=\"b.txt\">b.txt</a>\n"                          \
    "<a href=\"z%20dir/\">z dir/</a>\n</pre>\n"

static unsigned char pat(uint64_t pos) {
    uint64_t x = (pos + 1) * 0x9E3779B97F4A7C15ull ^ 0x1234567ull;
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 17));
}
/* -1 if b holds the pattern from pos, else the offset of the first wrong byte.  */
static long check_pat(const char *b, size_t n, uint64_t pos) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)b[i] != pat(pos + i)) return (long)i;
    return -1;
}

static void path_of(char *out, size_t size, const char *rel) { snprintf(out, size, "%s/%s", g_root, rel); }

#ifdef _WIN32
/* Names are UTF-8 (the server's view): through the wide API, not the code page. */
static FILE *t_fopen(const char *path, const char *mode) {
    wchar_t wp[600], wm[8];
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wp, 600) || !MultiByteToWideChar(CP_UTF8, 0, mode, -1, wm, 8))
        return NULL;
    return _wfopen(wp, wm);
}
static int t_mkdir(const char *path) { return mkdir(path); }
static int g_no_symlinks;   /* the system made no link (wine's CreateSymbolicLink is a stub) */
static int t_symlink(const char *target, const char *path, int isdir) {
    char t[512];
    snprintf(t, sizeof t, "%s", target);
    for (char *c = t; *c; c++)
        if (*c == '/') *c = '\\';
    DWORD fl = 0x2 | (isdir ? SYMBOLIC_LINK_FLAG_DIRECTORY : 0);   /* unprivileged (developer mode) */
    if (!CreateSymbolicLinkA(path, t, fl) || GetFileAttributesA(path) == INVALID_FILE_ATTRIBUTES)
        g_no_symlinks = 1;
    return 0;
}
static int set_mtime(const char *path, time_t t) {
    HANDLE h = CreateFileA(path, FILE_WRITE_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE) return -1;
    uint64_t ticks = ((uint64_t)t + 11644473600ull) * 10000000ull;
    FILETIME ft = {(DWORD)ticks, (DWORD)(ticks >> 32)};
    BOOL ok = SetFileTime(h, NULL, &ft, &ft);
    CloseHandle(h);
    return ok ? 0 : -1;
}
#else
#  define t_fopen fopen
static int t_mkdir(const char *path) { return mkdir(path, 0755); }
static int t_symlink(const char *target, const char *path, int isdir) {
    (void)isdir;
    return symlink(target, path);
}
#endif

static int put_file(const char *rel, const void *data, size_t n) {
    char p[512];
    path_of(p, sizeof p, rel);
    FILE *f = t_fopen(p, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}
#define PUT(rel, lit) put_file((rel), (lit), sizeof(lit) - 1)

#ifndef _WIN32
static int set_mtime(const char *path, time_t t) {
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    return utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW);
}
#endif

static int make_tree(void) {
    char p[512], q[512];
#ifdef _WIN32
    char tmp[MAX_PATH + 1];
    DWORD tl = GetTempPathA(sizeof tmp, tmp);
    if (tl == 0 || tl > 40) return -1;
    snprintf(g_base, sizeof g_base, "%sgn_http_fs_%lu_%lu", tmp, (unsigned long)GetCurrentProcessId(),
             (unsigned long)(GetTickCount64() % 100000));
    if (t_mkdir(g_base)) return -1;
#else
    strcpy(g_base, "/tmp/gn_http_fs_XXXXXX");
    if (!mkdtemp(g_base)) return -1;
#endif
    snprintf(g_root, sizeof g_root, "%s/root", g_base);
    snprintf(g_out, sizeof g_out, "%s/outside", g_base);
    if (t_mkdir(g_root) || t_mkdir(g_out)) return -1;
    snprintf(p, sizeof p, "%s/secret.txt", g_out);
    FILE *f = fopen(p, "w");
    if (!f) return -1;
    fputs("TOP SECRET\n", f);
    fclose(f);
    int rc = 0;
    rc |= PUT("hello.txt", HELLO);
    rc |= PUT("page.html", "<html><body><h1>page</h1></body></html>\n");
    rc |= PUT("style.css", "body{}\n");
    rc |= PUT("app.js", "x = 1;\n");
    rc |= PUT("data.json", "{\"a\":1}\n");
    rc |= PUT("img.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
    rc |= PUT("mod.wasm", "\0asm\1\0\0\0");
    rc |= PUT("doc.pdf", "%PDF-1.4\n");
    rc |= PUT("pic.png", "\x89PNG\r\n\x1A\n\0\0\0\rIHDR");
    rc |= PUT("UPPER.HTML", "<p>upper</p>\n");
    rc |= PUT("blob", "GIF89a\1\0\1\0");                 /* no extension: sniffed */
    rc |= PUT("notes", "just some notes\n");
    rc |= PUT("raw", "\0\1\2\3binary");
    rc |= PUT("sniffhtml", "  <!DOCTYPE html><title>x</title>\n");
    rc |= PUT("archive.tar.unknownext", "PK\3\4zip");
    rc |= PUT("empty.txt", "");
    rc |= PUT("a b \xC3\xBC.txt", "space and utf-8\n");
    if (!T_WIN) rc |= PUT("<x&y>.txt", "escaped\n");   /* (not a Windows name) */
    rc |= PUT("dated.txt", "dated\n");
    char *big = malloc(BIG_SIZE);
    if (!big) return -1;
    for (size_t i = 0; i < BIG_SIZE; i++) big[i] = (char)pat(i);
    rc |= put_file("big.bin", big, BIG_SIZE);
    free(big);
    path_of(p, sizeof p, "sub");
    rc |= t_mkdir(p);
    rc |= PUT("sub/b.txt", "B\n");
    rc |= PUT("sub/a.txt", "A\n");
    path_of(p, sizeof p, "sub/z dir");
    rc |= t_mkdir(p);
    path_of(p, sizeof p, "site");
    rc |= t_mkdir(p);
    rc |= PUT("site/index.html", "<html>site index</html>\n");
    rc |= PUT("site/other.txt", "other\n");
    path_of(p, sizeof p, "many");
    rc |= t_mkdir(p);
    for (int i = 199; i >= 0; i--) {   /* created in reverse: the listing sorts */
        char n[32];
        snprintf(n, sizeof n, "many/f%03d", i);
        rc |= PUT(n, "m");
    }
    /* symlinks */
    path_of(p, sizeof p, "link_in");
    rc |= t_symlink("hello.txt", p, 0);
    path_of(p, sizeof p, "link_abs_in");
    path_of(q, sizeof q, "hello.txt");
    rc |= t_symlink(q, p, 0);
    path_of(p, sizeof p, "link_out");
    rc |= t_symlink("../outside/secret.txt", p, 0);
    path_of(p, sizeof p, "link_abs_out");
    snprintf(q, sizeof q, "%s/secret.txt", g_out);
    rc |= t_symlink(q, p, 0);
    path_of(p, sizeof p, "dir_out");
    rc |= t_symlink("../outside", p, 1);
    path_of(p, sizeof p, "dir_in");
    rc |= t_symlink("sub", p, 1);
    path_of(p, sizeof p, "site/up");
    rc |= t_symlink("..", p, 1);     /* back to the root: stays inside        */
    path_of(p, sizeof p, "up");
    rc |= t_symlink("..", p, 1);     /* out of the root                       */
#ifndef _WIN32
    path_of(p, sizeof p, "fifo");
    rc |= mkfifo(p, 0644);
    rc |= PUT("noread.txt", "hidden\n");
    path_of(p, sizeof p, "noread.txt");
    rc |= chmod(p, 0);
#endif
    path_of(p, sizeof p, "dated.txt");
    rc |= set_mtime(p, DATED);
    path_of(p, sizeof p, "sub");
    rc |= set_mtime(p, DATED);
    return rc ? -1 : 0;
}

#ifdef _WIN32
/* Depth first; a link is removed itself, never followed.                      */
static void rm_tree(const char *dir) {
    char pat[600];
    snprintf(pat, sizeof pat, "%s\\*", dir);
    WIN32_FIND_DATAW fd;
    wchar_t wpat[600];
    MultiByteToWideChar(CP_UTF8, 0, pat, -1, wpat, 600);
    HANDLE h = FindFirstFileW(wpat, &fd);
    if (h != INVALID_HANDLE_VALUE) {
        do {
            if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0) continue;
            char name[400], p[600];
            WideCharToMultiByte(CP_UTF8, 0, fd.cFileName, -1, name, sizeof name, NULL, NULL);
            snprintf(p, sizeof p, "%s\\%s", dir, name);
            wchar_t wp[600];
            MultiByteToWideChar(CP_UTF8, 0, p, -1, wp, 600);
            if (fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)
                (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? RemoveDirectoryW(wp) : DeleteFileW(wp);
            else if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) rm_tree(p);
            else DeleteFileW(wp);
        } while (FindNextFileW(h, &fd));
        FindClose(h);
    }
    RemoveDirectoryA(dir);
}
static void remove_tree(void) {
    if (g_base[0]) rm_tree(g_base);
}
#else
static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}
static void remove_tree(void) {
    if (g_base[0]) nftw(g_base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
#endif

/* ---- the server -------------------------------------------------------------------- */
enum { MODE_FS, MODE_PREFIX, MODE_MUX, MODE_FILE };

typedef struct env {
    int mode;
    void (*body)(struct env *);
    gn_http_fs *fs;
    gn_http_mux *mux;
    gn_http_server *srv;
    gn_listener *ln;
    gn_waitgroup wg;
    char addr[64];
    int serve_rc;
} env;

/* MODE_FILE's handler: fixed paths through gn_http_serve_file; the status it
 * returned is kept for the test.                                               */
static int g_file_status;
static void file_handler(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    const char *p = gn_http_path(r);
    char path[512];
    if (strncmp(p, "/file/", 6) == 0) p += 5;   /* under the mux */
    if (strncmp(p, "/one", 4) == 0) path_of(path, sizeof path, "hello.txt");
    else if (strncmp(p, "/dir", 4) == 0) path_of(path, sizeof path, "sub");
    else if (strncmp(p, "/site", 5) == 0) path_of(path, sizeof path, "site");
    else path_of(path, sizeof path, "nope");
    ASTORE(&g_file_status, gn_http_serve_file(w, r, path));
}

static void serve_co(void *arg) {
    env *e = (env *)arg;
    e->serve_rc = gn_http_serve(e->srv, e->ln);
    gn_waitgroup_done(&e->wg);
}

static void harness(void *arg) {
    env *e = (env *)arg;
    e->fs = gn_http_fs_new(g_root);
    if (!CK(e->fs != NULL)) return;
    gn_http_server_opts o;
    memset(&o, 0, sizeof o);
    o.handler = gn_http_fs_serve;
    o.ud = e->fs;
    if (e->mode == MODE_PREFIX) {
        CKI(0, gn_http_fs_strip_prefix(e->fs, "/static/"));
    } else if (e->mode == MODE_MUX) {
        CKI(0, gn_http_fs_strip_prefix(e->fs, "/static"));
        e->mux = gn_http_mux_new();
        CKI(0, gn_http_mux_handle(e->mux, "GET /static/", gn_http_fs_serve, e->fs));
        CKI(0, gn_http_mux_handle(e->mux, "GET /file/", file_handler, NULL));
        o.handler = gn_http_mux_serve;
        o.ud = e->mux;
    } else if (e->mode == MODE_FILE) {
        o.handler = file_handler;
        o.ud = NULL;
    }
    e->srv = gn_http_server_new(&o);
    CK(e->srv != NULL);
    CKI(0, gn_listen(&e->ln, "tcp", "127.0.0.1:0"));
    CK(gn_listener_addr(e->ln, e->addr, sizeof e->addr) >= 0);
    gn_waitgroup_add(&e->wg, 1);
    CK(gn_go(serve_co, e) > 0);
    e->body(e);
    CKI(0, gn_http_shutdown(e->srv, gn_now() + 10 * GN_SECOND));
    gn_waitgroup_wait(&e->wg);
    CKI(GN_ECLOSED, e->serve_rc);
    gn_http_server_free(e->srv);
    gn_http_mux_free(e->mux);
    gn_http_fs_free(e->fs);
}

static void fail_reset(void) {
    g_fail_set = 0;
    g_fail[0] = 0;
}

static int count_fds(void) {
#ifdef _WIN32   /* the process's handles: files, sockets, threads, events */
    DWORD h = 0;
    return GetProcessHandleCount(GetCurrentProcess(), &h) ? (int)h : -1;
#endif
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

#define HANG_LIMIT 120
static void on_hang_now(void) {
    const char *a = "\nHUNG: test ", *b = " did not finish in time\n";
    if (write(2, a, strlen(a)) < 0 || write(2, greatest_info.name_buf, strlen(greatest_info.name_buf)) < 0 ||
        write(2, b, strlen(b)) < 0) {
    }
    _exit(3);
}

static enum greatest_test_res run_env(int procs, int mode, void (*body)(env *)) {
    fail_reset();
    env *e = calloc(1, sizeof *e);
    ASSERT(e != NULL);
    e->mode = mode;
    e->body = body;
    long live = ALOAD(&g_live);
    int fds = count_fds();
    t_watchdog_arm(HANG_LIMIT, on_hang_now);
    int rc = run_procs(procs, harness, e);
    t_watchdog_disarm();
    free(e);
    if (rc != 0) {
        snprintf(g_fail, sizeof g_fail, "gn_run returned %d (%s)", rc, gn_strerror(rc));
        FAILm(g_fail);
    }
    if (ALOAD(&g_fail_set)) FAILm(g_fail);
    ASSERT_EQ_FMT(live, ALOAD(&g_live), "%ld");   /* allocations returned     */
    ASSERT_EQ_FMT(fds, count_fds(), "%d");         /* descriptors closed       */
    PASS();
}

/* ---- the client ---------------------------------------------------------------------- */
#define SAFETY (20 * GN_SECOND)

typedef struct resp {
    int status;
    char *head;                 /* a copy, cut into names and values          */
    char *names[64], *values[64];
    int nh;
    char *body;                 /* NUL-terminated after blen bytes            */
    size_t blen;
} resp;

static void resp_free(resp *r) {
    if (!r) return;
    free(r->head);
    free(r->body);
    free(r);
}

static const char *hdr(const resp *r, const char *name) {
    if (!r) return NULL;
    for (int i = 0; i < r->nh; i++)
        if (strcasecmp(r->names[i], name) == 0) return r->values[i];
    return NULL;
}

/* Parses one response from b[0, n): the bytes it took (> 0), 0 if more are
 * needed, -1 if malformed. head_req: a response to HEAD (no body).             */
static long parse_resp(const char *b, size_t n, int eof, int head_req, resp *out) {
    const char *e = NULL;
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(b + i, "\r\n\r\n", 4) == 0) { e = b + i; break; }
    if (!e) return eof ? -1 : 0;
    size_t hl = (size_t)(e - b) + 4;
    memset(out, 0, sizeof *out);
    out->head = malloc(hl + 1);
    memcpy(out->head, b, hl);
    out->head[hl] = 0;
    char *line = out->head, *nl = strstr(line, "\r\n");
    *nl = 0;
    if (strncmp(line, "HTTP/1.1 ", 9) != 0 || strlen(line) < 12) goto bad;
    out->status = atoi(line + 9);
    for (line = nl + 2; *line && *line != '\r'; line = nl + 2) {
        nl = strstr(line, "\r\n");
        *nl = 0;
        char *colon = strchr(line, ':');
        if (!colon || out->nh == 64) goto bad;
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ') v++;
        out->names[out->nh] = line;
        out->values[out->nh++] = v;
    }
    const char *cl = hdr(out, "Content-Length"), *te = hdr(out, "Transfer-Encoding");
    size_t pos = hl;
    if (head_req || out->status == 304 || out->status == 204 || out->status < 200) {
        out->body = calloc(1, 1);
    } else if (te) {
        if (strcmp(te, "chunked") != 0) goto bad;
        size_t cap = 1024, len = 0;
        char *body = malloc(cap);
        for (;;) {
            const char *crlf = NULL;
            for (size_t i = pos; i + 2 <= n; i++)
                if (b[i] == '\r' && b[i + 1] == '\n') { crlf = b + i; break; }
            if (!crlf) { free(body); goto more; }
            size_t sz = strtoul(b + pos, NULL, 16);
            size_t data = (size_t)(crlf - b) + 2;
            if (sz == 0) {
                if (n < data + 2) { free(body); goto more; }
                pos = data + 2;   /* no trailers from this server */
                break;
            }
            if (n < data + sz + 2) { free(body); goto more; }
            while (len + sz + 1 > cap) cap *= 2;
            body = realloc(body, cap);
            memcpy(body + len, b + data, sz);
            len += sz;
            pos = data + sz + 2;
        }
        body[len] = 0;
        out->body = body;
        out->blen = len;
    } else if (cl) {
        size_t len = strtoul(cl, NULL, 10);
        if (n < hl + len) goto more;
        out->body = malloc(len + 1);
        memcpy(out->body, b + hl, len);
        out->body[len] = 0;
        out->blen = len;
        pos = hl + len;
    } else {
        if (!eof) goto more;
        out->blen = n - hl;
        out->body = malloc(out->blen + 1);
        memcpy(out->body, b + hl, out->blen);
        out->body[out->blen] = 0;
        pos = n;
    }
    return (long)pos;
more:
    free(out->head);
    out->head = NULL;
    return eof ? -1 : 0;
bad:
    free(out->head);
    out->head = NULL;
    return -1;
}

typedef struct client {
    gn_conn *c;
    char *buf;
    size_t len, cap;
    int eof;
} client;

static int cl_open(client *cl, env *e) {
    memset(cl, 0, sizeof *cl);
    int rc = gn_dial(&cl->c, "tcp", e->addr);
    if (rc < 0) return rc;
    gn_set_deadline(cl->c, gn_now() + SAFETY);
    cl->cap = 64 * 1024;
    cl->buf = malloc(cl->cap);
    return 0;
}
static void cl_close(client *cl) {
    if (cl->c) gn_close(cl->c);
    free(cl->buf);
    cl->c = NULL;
    cl->buf = NULL;
}
static int cl_send(client *cl, const char *raw) {
    int64_t rc = gn_write(cl->c, raw, strlen(raw));
    return rc < 0 ? (int)rc : 0;
}
/* The next response on the connection, or NULL.                                 */
static resp *cl_resp(client *cl, int head_req) {
    resp *r = calloc(1, sizeof *r);
    for (;;) {
        long k = parse_resp(cl->buf, cl->len, cl->eof, head_req, r);
        if (k > 0) {
            memmove(cl->buf, cl->buf + k, cl->len - (size_t)k);
            cl->len -= (size_t)k;
            return r;
        }
        if (k < 0) break;
        if (cl->len == cl->cap) {
            cl->cap *= 2;
            cl->buf = realloc(cl->buf, cl->cap);
        }
        int64_t n = gn_read(cl->c, cl->buf + cl->len, cl->cap - cl->len);
        if (n == GN_EOF) cl->eof = 1;
        else if (n < 0) break;
        else cl->len += (size_t)n;
    }
    free(r);
    return NULL;
}

/* One request on a new connection ("Connection: close"); extra: more header
 * lines, each ending in "\r\n". NULL (and a failed check) if no response.      */
static resp *fetch_(env *e, const char *method, const char *target, const char *extra, int line) {
    client cl;
    char req[4096];
    if (cl_open(&cl, e) < 0) {
        ck_fail(line, "dial failed");
        return NULL;
    }
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n%s\r\n", method, target,
             extra ? extra : "");
    resp *r = NULL;
    if (cl_send(&cl, req) == 0) r = cl_resp(&cl, strcmp(method, "HEAD") == 0);
    cl_close(&cl);
    if (!r) {
        char m[300];
        snprintf(m, sizeof m, "no response to %s %s", method, target);
        ck_fail(line, m);
    }
    return r;
}
#define FETCH(e, m, t, x) fetch_((e), (m), (t), (x), __LINE__)
#define GET(e, t)         fetch_((e), "GET", (t), NULL, __LINE__)

/* Fetches and checks status and, if body is not NULL, the exact body.         */
static void expect_(env *e, const char *method, const char *target, const char *extra, int status,
                    const char *body, int line) {
    resp *r = fetch_(e, method, target, extra, line);
    if (!r) return;
    char what[300];
    snprintf(what, sizeof what, "status of %s %s", method, target);
    cki_(status, r->status, line, what);
    if (body) {
        snprintf(what, sizeof what, "body of %s %s", method, target);
        cks_(body, r->body, line, what);
    }
    resp_free(r);
}
#define EXPECT(e, m, t, x, st, body) expect_((e), (m), (t), (x), (st), (body), __LINE__)

/* ---- the tests ----------------------------------------------------------------------- */
static void b_get_text(env *e) {
    resp *r = GET(e, "/hello.txt");
    if (!r) return;
    CKI(200, r->status);
    CKS(HELLO, r->body);
    CKI(20, r->blen);
    CKS("text/plain; charset=utf-8", hdr(r, "Content-Type"));
    CKS("20", hdr(r, "Content-Length"));
    CKS("bytes", hdr(r, "Accept-Ranges"));
    CK(hdr(r, "Last-Modified") != NULL);
    CK(hdr(r, "Date") != NULL);
    CK(hdr(r, "Transfer-Encoding") == NULL);
    resp_free(r);
    r = GET(e, "/page.html");
    if (!r) return;
    CKI(200, r->status);
    CKS("<html><body><h1>page</h1></body></html>\n", r->body);
    CKS("text/html; charset=utf-8", hdr(r, "Content-Type"));
    resp_free(r);
    EXPECT(e, "GET", "/sub/./a.txt", NULL, 200, "A\n");    /* "." elements are fine */
    EXPECT(e, "GET", "//sub//b.txt", NULL, 200, "B\n");
}
TEST get_text(void) { return run_env(1, MODE_FS, b_get_text); }

static void b_get_big(env *e) {
    resp *r = GET(e, "/big.bin");
    if (!r) return;
    CKI(200, r->status);
    CKI(BIG_SIZE, r->blen);
    CKS("1048576", hdr(r, "Content-Length"));
    CKS("application/octet-stream", hdr(r, "Content-Type"));
    CK(hdr(r, "Transfer-Encoding") == NULL);
    CKI(-1, check_pat(r->body, r->blen, 0));
    resp_free(r);
    gn_stats st;
    gn_stats_read(&st);
    CK(st.blocking_calls >= 16);   /* open, 16 reads of 64 KiB, close */
}
TEST get_big(void) { return run_env(1, MODE_FS, b_get_big); }

static void b_types(env *e) {
    static const char *const t[][2] = {
        {"/style.css", "text/css; charset=utf-8"},
        {"/app.js", "text/javascript; charset=utf-8"},
        {"/data.json", "application/json"},
        {"/img.svg", "image/svg+xml"},
        {"/mod.wasm", "application/wasm"},
        {"/doc.pdf", "application/pdf"},
        {"/pic.png", "image/png"},
        {"/UPPER.HTML", "text/html; charset=utf-8"},
        {"/blob", "image/gif"},
        {"/notes", "text/plain; charset=utf-8"},
        {"/raw", "application/octet-stream"},
        {"/sniffhtml", "text/html; charset=utf-8"},
        {"/archive.tar.unknownext", "application/zip"},
        {"/empty.txt", "text/plain; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        resp *r = GET(e, t[i][0]);
        if (!r) continue;
        CKI(200, r->status);
        if (!CKS(t[i][1], hdr(r, "Content-Type"))) fprintf(stderr, "  for %s\n", t[i][0]);
        resp_free(r);
    }
    resp *r = GET(e, "/empty.txt");
    if (r) {
        CKS("0", hdr(r, "Content-Length"));
        CKI(0, r->blen);
        resp_free(r);
    }
}
TEST content_types(void) { return run_env(1, MODE_FS, b_types); }

static void b_head(env *e) {
    resp *r = FETCH(e, "HEAD", "/big.bin", NULL);
    if (r) {
        CKI(200, r->status);
        CKS("1048576", hdr(r, "Content-Length"));
        CKS("application/octet-stream", hdr(r, "Content-Type"));
        CKI(0, r->blen);
        resp_free(r);
    }
    /* On one connection: a HEAD's response has no body, so the next one parses. */
    client cl;
    if (!CKI(0, cl_open(&cl, e))) return;
    CKI(0, cl_send(&cl, "HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n"
                        "HEAD /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    r = cl_resp(&cl, 1);
    if (CK(r != NULL)) {
        CKI(200, r->status);
        CKS("1048576", hdr(r, "Content-Length"));
        resp_free(r);
    }
    r = cl_resp(&cl, 0);
    if (CK(r != NULL)) {
        CKI(200, r->status);
        CKS(HELLO, r->body);
        resp_free(r);
    }
    r = cl_resp(&cl, 1);
    if (CK(r != NULL)) {
        CKI(200, r->status);
        CKS("20", hdr(r, "Content-Length"));
        CKS("text/plain; charset=utf-8", hdr(r, "Content-Type"));
        resp_free(r);
    }
    /* and then the server closes: nothing more */
    char c;
    CKI(GN_EOF, gn_read(cl.c, &c, 1));
    cl_close(&cl);
}
TEST head(void) { return run_env(1, MODE_FS, b_head); }

static void b_not_found(env *e) {
    resp *r = GET(e, "/nope.txt");
    if (r) {
        CKI(404, r->status);
        CKS("404 page not found\n", r->body);
        resp_free(r);
    }
    EXPECT(e, "GET", "/sub/nope", NULL, 404, NULL);
    EXPECT(e, "GET", "/hello.txt/x", NULL, 404, NULL);   /* ENOTDIR */
    EXPECT(e, "GET", "/nodir/", NULL, 404, NULL);
    r = GET(e, "/hello.txt/");                            /* a file with a slash: as Go */
    if (r) {
        CKI(301, r->status);
        CKS("../hello.txt", hdr(r, "Location"));
        resp_free(r);
    }
}
TEST not_found(void) { return run_env(1, MODE_FS, b_not_found); }

static void b_traversal(env *e) {
    static const char *const dotdot[] = {
        "/../etc/passwd", "/%2e%2e/", "/a/../../", "/../outside/secret.txt",
        "/%2e%2e/outside/secret.txt", "/sub/../../outside/secret.txt", "/..%2f..%2fetc%2fpasswd",
        "/..%5coutside%5csecret.txt", "/./../outside/secret.txt", "/%2E%2E", "/sub/..",
        "/sub/%2e%2e/%2e%2e/outside/secret.txt", "/x\\..\\..\\outside/secret.txt",
    };
    for (size_t i = 0; i < sizeof dotdot / sizeof dotdot[0]; i++) {
        resp *r = GET(e, dotdot[i]);
        if (!r) continue;
        if (!CKI(400, r->status)) fprintf(stderr, "  for %s\n", dotdot[i]);
        CK(!strstr(r->body, "TOP SECRET") && !strstr(r->body, "root:"));
        resp_free(r);
    }
    /* Targets the parser itself refuses: some 4xx, never the file.              */
    static const char *const odd[] = {"../outside/secret.txt", "..", "outside/secret.txt"};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        resp *r = GET(e, odd[i]);
        if (!r) continue;
        if (!CK(r->status >= 400 && r->status < 500)) fprintf(stderr, "  for %s: %d\n", odd[i], r->status);
        CK(!strstr(r->body, "TOP SECRET"));
        resp_free(r);
    }
    EXPECT(e, "GET", "/hello.txt%00.png", NULL, 400, NULL);   /* NUL in the path */
    EXPECT(e, "GET", "/hello.txt%00", NULL, 400, NULL);
    EXPECT(e, "GET", "/a..b", NULL, 404, NULL);                /* not an element   */
}
TEST traversal(void) { return run_env(1, MODE_FS, b_traversal); }

static void b_symlinks(env *e) {
    EXPECT(e, "GET", "/link_in", NULL, T_LINK_ON_WIN, T_WIN ? NULL : HELLO);
    EXPECT(e, "GET", "/link_abs_in", NULL, T_LINK_ON_WIN, T_WIN ? NULL : HELLO);   /* absolute, lands inside */
    EXPECT(e, "GET", "/dir_in/a.txt", NULL, T_LINK_ON_WIN, T_WIN ? NULL : "A\n");
    EXPECT(e, "GET", "/site/up/hello.txt", NULL, T_LINK_ON_WIN, T_WIN ? NULL : HELLO);   /* ".." via a link */
    static const char *const out[] = {"/link_out", "/link_abs_out", "/dir_out/secret.txt", "/dir_out/",
                                      "/up/outside/secret.txt", "/site/up/up/outside/secret.txt", "/up/"};
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
        resp *r = GET(e, out[i]);
        if (!r) continue;
        if (!CKI(404, r->status)) fprintf(stderr, "  for %s\n", out[i]);
        CK(!strstr(r->body, "TOP SECRET"));
        resp_free(r);
    }
    resp *r = GET(e, "/dir_out");   /* the redirect would need a stat: 404 first */
    if (r) {
        CKI(404, r->status);
        resp_free(r);
    }
}
#ifdef _WIN32
TEST symlinks_openat2(void) {   /* (Windows: the reparse point checks) */
    if (g_no_symlinks) SKIPm("the system made no symbolic links");
    return run_env(1, MODE_FS, b_symlinks);
}
TEST symlinks_fallback(void) { SKIPm("openat2 and its fallback are Linux's"); }
#else
TEST symlinks_openat2(void) {
    ASTORE(&gn__fs_no_openat2, 0);
    enum greatest_test_res res = run_env(1, MODE_FS, b_symlinks);
    if (ALOAD(&gn__fs_no_openat2)) fprintf(stderr, "  (openat2 is not available here)\n");
    return res;
}
TEST symlinks_fallback(void) {
    ASTORE(&gn__fs_no_openat2, 1);
    enum greatest_test_res res = run_env(1, MODE_FS, b_symlinks);
    ASTORE(&gn__fs_no_openat2, 0);
    return res;
}
#endif

static void b_special(env *e);
static void b_redirects(env *e);
static void b_index(env *e);
static void b_listing(env *e);
/* Without openat2 everything goes through realpath and the inode check.       */
static void b_fallback_all(env *e) {
    b_get_text(e);
    b_traversal(e);
    b_symlinks(e);
    b_special(e);
    b_redirects(e);
    b_index(e);
    b_listing(e);
}
#ifdef _WIN32
TEST fallback_everything(void) {
    (void)b_fallback_all;
    SKIPm("openat2 and its fallback are Linux's");
}
#else
TEST fallback_everything(void) {
    ASTORE(&gn__fs_no_openat2, 1);
    enum greatest_test_res res = run_env(1, MODE_FS, b_fallback_all);
    ASTORE(&gn__fs_no_openat2, 0);
    return res;
}
#endif

static void b_special(env *e) {
    EXPECT(e, "GET", "/fifo", NULL, 403, "403 Forbidden\n");   /* and no hang */
    char p[512];
    path_of(p, sizeof p, "noread.txt");
    if (access(p, R_OK) == 0) {
        fprintf(stderr, "  (running with permission to read mode 0 files: 403 not checked)\n");
        EXPECT(e, "GET", "/noread.txt", NULL, 200, "hidden\n");
    } else {
        EXPECT(e, "GET", "/noread.txt", NULL, 403, "403 Forbidden\n");
    }
}
TEST special_files(void) {
    if (T_WIN) SKIPm("no FIFOs or mode-0 files on Windows");
    return run_env(1, MODE_FS, b_special);
}

static void b_redirects(env *e) {
    static const char *const t[][2] = {
        {"/sub", "sub/"},
        {"/sub?x=1&y=2", "sub/?x=1&y=2"},
        {"/site", "site/"},
        {"/sub/z%20dir", "z%20dir/"},
#ifndef _WIN32   /* (a link: 404 there) */
        {"/dir_in", "dir_in/"},
#endif
        {"/site/index.html", "./"},
        {"/site/index.html?a=b", "./?a=b"},
        {"/index.html", "./"},                 /* as Go: whether it exists or not */
        {"/sub/a.txt/", "../a.txt"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        resp *r = GET(e, t[i][0]);
        if (!r) continue;
        CKI(301, r->status);
        if (!CKS(t[i][1], hdr(r, "Location"))) fprintf(stderr, "  for %s\n", t[i][0]);
        CKI(0, r->blen);
        resp_free(r);
    }
    resp *r = FETCH(e, "HEAD", "/sub", NULL);
    if (r) {
        CKI(301, r->status);
        CKS("sub/", hdr(r, "Location"));
        resp_free(r);
    }
}
TEST redirects(void) { return run_env(1, MODE_FS, b_redirects); }

static void b_index(env *e) {
    resp *r = GET(e, "/site/");
    if (!r) return;
    CKI(200, r->status);
    CKS("<html>site index</html>\n", r->body);
    CKS("text/html; charset=utf-8", hdr(r, "Content-Type"));
    CKS("24", hdr(r, "Content-Length"));
    resp_free(r);
    EXPECT(e, "GET", "/site/other.txt", NULL, 200, "other\n");
    r = FETCH(e, "HEAD", "/site/", NULL);
    if (!r) return;
    CKI(200, r->status);
    CKS("24", hdr(r, "Content-Length"));
    resp_free(r);
}
TEST index_html(void) { return run_env(1, MODE_FS, b_index); }

/* The names linked in a listing, in order; returns how many.                     */
static int listed(const char *body, char names[][64], int max) {
    int n = 0;
    for (const char *p = body; n < max && (p = strstr(p, "<a href=\"")) != NULL; p++) {
        const char *q = strstr(p, "\">"), *end = strstr(p, "</a>");
        if (!q || !end || end < q) break;
        snprintf(names[n++], 64, "%.*s", (int)(end - q - 2), q + 2);
    }
    return n;
}

static void b_listing(env *e) {
    resp *r = GET(e, "/sub/");
    if (!r) return;
    CKI(200, r->status);
    CKS(SUB_LISTING, r->body);
    CKS("text/html; charset=utf-8", hdr(r, "Content-Type"));
    CKS(DATED_S, hdr(r, "Last-Modified"));
    resp_free(r);
    /* the root: escaped names, sorted by their bytes                             */
    r = GET(e, "/");
    if (!r) return;
    CKI(200, r->status);
    CK(strstr(r->body, "<a href=\"a%20b%20%C3%BC.txt\">a b \xC3\xBC.txt</a>\n") != NULL);
    CK(T_WIN || strstr(r->body, "<a href=\"%3Cx%26y%3E.txt\">&lt;x&amp;y&gt;.txt</a>\n") != NULL);
    CK(strstr(r->body, "<a href=\"sub/\">sub/</a>\n") != NULL);
#ifdef _WIN32
    CK(g_no_symlinks || strstr(r->body, "<a href=\"link_out\">link_out</a>\n") != NULL);
#else
    CK(strstr(r->body, "<a href=\"link_out\">link_out</a>\n") != NULL);   /* a link: no slash */
#endif
    static char names[64][64];
    int n = listed(r->body, names, 64);
    CK(n >= (T_WIN ? 20 : 30));
    for (int i = 1; i < n; i++)
        if (!CK(strcmp(names[i - 1], names[i]) < 0)) fprintf(stderr, "  %s >= %s\n", names[i - 1], names[i]);
    resp_free(r);
    /* 200 entries created in reverse order                                     */
    r = GET(e, "/many/");
    if (!r) return;
    CKI(200, r->status);
    static char many[256][64];
    CKI(200, listed(r->body, (char (*)[64])many, 256));
    for (int i = 0; i < 200; i++) {
        char want[16];
        snprintf(want, sizeof want, "f%03d", i);
        if (!CKS(want, many[i])) break;
    }
    resp_free(r);
    /* a listing is conditional too                                               */
    EXPECT(e, "GET", "/sub/", "If-Modified-Since: " DATED_S "\r\n", 304, "");
    EXPECT(e, "GET", "/sub/", "If-Modified-Since: Thu, 06 May 2021 07:08:08 GMT\r\n", 200, SUB_LISTING);
    EXPECT(e, "GET", "/dir_in/", NULL, T_LINK_ON_WIN, T_WIN ? NULL : SUB_LISTING);
    /* the links work                                                             */
    EXPECT(e, "GET", "/a%20b%20%C3%BC.txt", NULL, 200, "space and utf-8\n");
    if (!T_WIN) EXPECT(e, "GET", "/%3Cx%26y%3E.txt", NULL, 200, "escaped\n");
    EXPECT(e, "GET", "/sub/z%20dir/", NULL, 200,
           "<!doctype html>\n<meta name=\"viewport\" content=\"width=device-width\">\n<pre>\n</pre>\n");
}
TEST listing(void) { return run_env(1, MODE_FS, b_listing); }

/* A range request: status, Content-Range (NULL: absent) and body (NULL: any).   */
static void range_(env *e, const char *method, const char *target, const char *range, int status,
                   const char *crange, const char *body, int line) {
    char extra[2048];
    snprintf(extra, sizeof extra, "Range: %s\r\n", range);
    resp *r = fetch_(e, method, target, extra, line);
    if (!r) return;
    char what[300];
    snprintf(what, sizeof what, "status for Range: %.200s", range);
    cki_(status, r->status, line, what);
    snprintf(what, sizeof what, "Content-Range for Range: %.200s", range);
    if (crange) cks_(crange, hdr(r, "Content-Range"), line, what);
    else if (hdr(r, "Content-Range")) ck_fail(line, what);
    if (body) {
        snprintf(what, sizeof what, "body for Range: %.200s", range);
        cks_(body, r->body, line, what);
        if (strcmp(method, "HEAD") != 0) {
            char len[32];
            snprintf(len, sizeof len, "%zu", strlen(body));
            if (status != 416) cks_(len, hdr(r, "Content-Length"), line, "Content-Length");
        }
    }
    resp_free(r);
}
#define RANGE(e, t, range, st, cr, body) range_((e), "GET", (t), (range), (st), (cr), (body), __LINE__)

static void b_ranges(env *e) {
    RANGE(e, "/hello.txt", "bytes=0-4", 206, "bytes 0-4/20", "Hello");
    RANGE(e, "/hello.txt", "bytes=7-", 206, "bytes 7-19/20", "file server!\n");
    RANGE(e, "/hello.txt", "bytes=-8", 206, "bytes 12-19/20", "server!\n");
    RANGE(e, "/hello.txt", "bytes=5-1000", 206, "bytes 5-19/20", ", file server!\n");
    RANGE(e, "/hello.txt", "bytes=-100", 206, "bytes 0-19/20", HELLO);
    RANGE(e, "/hello.txt", "bytes=19-19", 206, "bytes 19-19/20", "\n");
    RANGE(e, "/hello.txt", "bytes= 0-1", 206, "bytes 0-1/20", "He");
    RANGE(e, "/hello.txt", "bytes=0-1, 20-30", 206, "bytes 0-1/20", "He");   /* the rest misses */
    /* unsatisfiable                                                              */
    RANGE(e, "/hello.txt", "bytes=20-", 416, "bytes */20", "invalid range: failed to overlap\n");
    RANGE(e, "/hello.txt", "bytes=100-200", 416, "bytes */20", NULL);
    RANGE(e, "/hello.txt", "bytes=-0", 416, "bytes */20", NULL);
    RANGE(e, "/hello.txt", "bytes=20-30,40-", 416, "bytes */20", NULL);
    /* malformed: 416 as Go, without Content-Range                                */
    RANGE(e, "/hello.txt", "bytes=5-1", 416, NULL, "invalid range\n");
    RANGE(e, "/hello.txt", "items=0-1", 416, NULL, NULL);
    RANGE(e, "/hello.txt", "bytes=abc", 416, NULL, NULL);
    RANGE(e, "/hello.txt", "bytes=1-2-3", 416, NULL, NULL);
    RANGE(e, "/hello.txt", "bytes=--1", 416, NULL, NULL);
    /* ignored: more than the file, or too many                                   */
    RANGE(e, "/hello.txt", "bytes=0-,0-", 200, NULL, HELLO);
    char many[1024] = "bytes=0-0";
    for (int i = 1; i < 65; i++) snprintf(many + strlen(many), sizeof many - strlen(many), ",%d-%d", i % 20, i % 20);
    RANGE(e, "/hello.txt", many, 200, NULL, HELLO);
    /* an empty file ignores ranges (Go)                                          */
    RANGE(e, "/empty.txt", "bytes=0-10", 200, NULL, "");
    /* HEAD                                                                       */
    resp *r = FETCH(e, "HEAD", "/hello.txt", "Range: bytes=0-4\r\n");
    if (r) {
        CKI(206, r->status);
        CKS("5", hdr(r, "Content-Length"));
        CKS("bytes 0-4/20", hdr(r, "Content-Range"));
        CKI(0, r->blen);
        resp_free(r);
    }
    /* the big file, exact bytes                                                  */
    static const struct { const char *range; int64_t start, len; const char *cr; } big[] = {
        {"bytes=1000-200999", 1000, 200000, "bytes 1000-200999/1048576"},
        {"bytes=-1", BIG_SIZE - 1, 1, "bytes 1048575-1048575/1048576"},
        {"bytes=1048575-", BIG_SIZE - 1, 1, "bytes 1048575-1048575/1048576"},
        {"bytes=65535-65536", 65535, 2, "bytes 65535-65536/1048576"},
        {"bytes=0-", 0, BIG_SIZE, "bytes 0-1048575/1048576"},
        {"bytes=-300000", BIG_SIZE - 300000, 300000, "bytes 748576-1048575/1048576"},
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
        char extra[128];
        snprintf(extra, sizeof extra, "Range: %s\r\n", big[i].range);
        r = FETCH(e, "GET", "/big.bin", extra);
        if (!r) continue;
        CKI(206, r->status);
        CKS(big[i].cr, hdr(r, "Content-Range"));
        CKI(big[i].len, r->blen);
        CKS("application/octet-stream", hdr(r, "Content-Type"));
        if (r->blen == (size_t)big[i].len) CKI(-1, check_pat(r->body, r->blen, (uint64_t)big[i].start));
        resp_free(r);
    }
}
TEST ranges(void) { return run_env(1, MODE_FS, b_ranges); }

/* multipart/byteranges: the body is exactly what Go's multipart.Writer makes.   */
static void b_multipart(env *e) {
    resp *r = FETCH(e, "GET", "/hello.txt", "Range: bytes=0-0,-1\r\n");
    if (!r) return;
    CKI(206, r->status);
    const char *ct = hdr(r, "Content-Type");
    const char *pre = "multipart/byteranges; boundary=";
    if (!CK(ct && strncmp(ct, pre, strlen(pre)) == 0)) {
        resp_free(r);
        return;
    }
    const char *b = ct + strlen(pre);
    CK(strlen(b) >= 16);
    CK(hdr(r, "Content-Range") == NULL);
    char want[1024];
    snprintf(want, sizeof want,
             "--%s\r\nContent-Range: bytes 0-0/20\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nH"
             "\r\n--%s\r\nContent-Range: bytes 19-19/20\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\n"
             "\r\n--%s--\r\n",
             b, b, b);
    CKS(want, r->body);
    char len[32];
    snprintf(len, sizeof len, "%zu", strlen(want));
    CKS(len, hdr(r, "Content-Length"));
    resp_free(r);
    /* on the big file: three ranges, one across a chunk boundary                 */
    r = FETCH(e, "GET", "/big.bin", "Range: bytes=10-19, 65530-131080,-5\r\n");
    if (!r) return;
    CKI(206, r->status);
    ct = hdr(r, "Content-Type");
    if (!CK(ct && strncmp(ct, pre, strlen(pre)) == 0)) {
        resp_free(r);
        return;
    }
    b = ct + strlen(pre);
    static const int64_t rg[3][2] = {{10, 10}, {65530, 65551}, {BIG_SIZE - 5, 5}};
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        char head[256];
        snprintf(head, sizeof head,
                 "%s--%s\r\nContent-Range: bytes %lld-%lld/1048576\r\nContent-Type: application/octet-stream\r\n\r\n",
                 i ? "\r\n" : "", b, (long long)rg[i][0], (long long)(rg[i][0] + rg[i][1] - 1));
        if (!CK(off + strlen(head) <= r->blen && memcmp(r->body + off, head, strlen(head)) == 0)) break;
        off += strlen(head);
        if (!CK(off + (size_t)rg[i][1] <= r->blen)) break;
        CKI(-1, check_pat(r->body + off, (size_t)rg[i][1], (uint64_t)rg[i][0]));
        off += (size_t)rg[i][1];
    }
    char tail[128];
    snprintf(tail, sizeof tail, "\r\n--%s--\r\n", b);
    CKI(off + strlen(tail), r->blen);
    if (off + strlen(tail) == r->blen) CK(memcmp(r->body + off, tail, strlen(tail)) == 0);
    resp_free(r);
    /* HEAD: the same length, no body                                             */
    r = FETCH(e, "HEAD", "/hello.txt", "Range: bytes=0-0,-1\r\n");
    if (!r) return;
    CKI(206, r->status);
    CKS(len, hdr(r, "Content-Length"));
    CKI(0, r->blen);
    resp_free(r);
}
TEST multipart(void) { return run_env(1, MODE_FS, b_multipart); }

static void b_conditional(env *e) {
    resp *r = GET(e, "/dated.txt");
    if (r) {
        CKS(DATED_S, hdr(r, "Last-Modified"));
        resp_free(r);
    }
    r = FETCH(e, "GET", "/dated.txt", "If-Modified-Since: " DATED_S "\r\n");
    if (r) {
        CKI(304, r->status);
        CKS(DATED_S, hdr(r, "Last-Modified"));
        CK(hdr(r, "Content-Type") == NULL);
        CK(hdr(r, "Content-Length") == NULL);
        resp_free(r);
    }
#define IMS(v) "If-Modified-Since: " v "\r\n"
    EXPECT(e, "GET", "/dated.txt", IMS("Thursday, 06-May-21 07:08:09 GMT"), 304, "");   /* RFC 850 */
    EXPECT(e, "GET", "/dated.txt", IMS("Thu May  6 07:08:09 2021"), 304, "");          /* asctime */
    EXPECT(e, "GET", "/dated.txt", IMS("Fri, 07 May 2021 00:00:00 GMT"), 304, "");
    EXPECT(e, "GET", "/dated.txt", IMS("Thu, 06 May 2021 07:08:08 GMT"), 200, "dated\n");
    EXPECT(e, "GET", "/dated.txt", IMS("yesterday"), 200, "dated\n");
    EXPECT(e, "GET", "/dated.txt", IMS("Thu, 06 May 2021 07:08:09 UTC"), 200, "dated\n");
    EXPECT(e, "HEAD", "/dated.txt", IMS(DATED_S), 304, "");
    /* If-Unmodified-Since, If-None-Match, If-Match                                */
    EXPECT(e, "GET", "/dated.txt", "If-Unmodified-Since: Wed, 05 May 2021 00:00:00 GMT\r\n", 412, "");
    EXPECT(e, "GET", "/dated.txt", "If-Unmodified-Since: " DATED_S "\r\n", 200, "dated\n");
    EXPECT(e, "GET", "/dated.txt", "If-None-Match: *\r\n", 304, "");
    EXPECT(e, "GET", "/dated.txt", "If-None-Match: \"abc\"\r\n" IMS(DATED_S), 200, "dated\n");
    EXPECT(e, "GET", "/dated.txt", "If-Match: \"abc\"\r\n", 412, "");
    EXPECT(e, "GET", "/dated.txt", "If-Match: \"abc\", *\r\n", 200, "dated\n");
    /* If-Range                                                                   */
    RANGE(e, "/dated.txt", "bytes=0-1", 206, "bytes 0-1/6", "da");
    EXPECT(e, "GET", "/dated.txt", "Range: bytes=0-1\r\nIf-Range: " DATED_S "\r\n", 206, "da");
    EXPECT(e, "GET", "/dated.txt", "Range: bytes=0-1\r\nIf-Range: Wed, 05 May 2021 00:00:00 GMT\r\n", 200,
           "dated\n");
    EXPECT(e, "GET", "/dated.txt", "Range: bytes=0-1\r\nIf-Range: \"etag\"\r\n", 200, "dated\n");
    /* a 304 keeps the connection: then a 200 on the same one                      */
    client cl;
    if (!CKI(0, cl_open(&cl, e))) return;
    CKI(0, cl_send(&cl, "GET /dated.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: " DATED_S "\r\n\r\n"
                        "GET /dated.txt HTTP/1.1\r\nHost: t\r\nIf-Unmodified-Since: Wed, 05 May 2021 00:00:00 GMT\r\n\r\n"
                        "GET /dated.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    r = cl_resp(&cl, 0);
    if (CK(r != NULL)) CKI(304, r->status);
    resp_free(r);
    r = cl_resp(&cl, 0);
    if (CK(r != NULL)) CKI(412, r->status);
    resp_free(r);
    r = cl_resp(&cl, 0);
    if (CK(r != NULL)) {
        CKI(200, r->status);
        CKS("dated\n", r->body);
    }
    resp_free(r);
    cl_close(&cl);
}
TEST conditional(void) { return run_env(1, MODE_FS, b_conditional); }

static void b_methods(env *e) {
    static const char *const m[] = {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        resp *r = FETCH(e, m[i], "/hello.txt", "Content-Length: 0\r\n");
        if (!r) continue;
        CKI(405, r->status);
        CKS("GET, HEAD", hdr(r, "Allow"));
        CK(!strstr(r->body, "Hello"));
        resp_free(r);
    }
    /* with a body the handler never reads: the connection goes on                 */
    client cl;
    if (!CKI(0, cl_open(&cl, e))) return;
    CKI(0, cl_send(&cl, "POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
                        "GET /hello.txt HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    resp *r = cl_resp(&cl, 0);
    if (CK(r != NULL)) CKI(405, r->status);
    resp_free(r);
    r = cl_resp(&cl, 0);
    if (CK(r != NULL)) CKS(HELLO, r->body);
    resp_free(r);
    cl_close(&cl);
}
TEST methods(void) { return run_env(1, MODE_FS, b_methods); }

/* Every kind of response on one keep-alive connection, each framed right.       */
static void b_keepalive(env *e) {
    static const struct { const char *req; int head, status; const char *body; } seq[] = {
        {"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n", 0, 200, HELLO},
        {"HEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n", 1, 200, ""},
        {"GET /dated.txt HTTP/1.1\r\nHost: t\r\nIf-Modified-Since: " DATED_S "\r\n\r\n", 0, 304, ""},
        {"GET /hello.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=0-4\r\n\r\n", 0, 206, "Hello"},
        {"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", 0, 404, "404 page not found\n"},
        {"GET /sub HTTP/1.1\r\nHost: t\r\n\r\n", 0, 301, ""},
        {"GET /hello.txt HTTP/1.1\r\nHost: t\r\nRange: bytes=50-\r\n\r\n", 0, 416, NULL},
        {"DELETE /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n", 0, 405, NULL},
        {"GET /sub/ HTTP/1.1\r\nHost: t\r\n\r\n", 0, 200, SUB_LISTING},
        {"GET /big.bin HTTP/1.1\r\nHost: t\r\nRange: bytes=0-99999\r\n\r\n", 0, 206, NULL},
        {"GET /../x HTTP/1.1\r\nHost: t\r\n\r\n", 0, 400, NULL},
        {"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n", 0, 200, HELLO},
    };
    client cl;
    if (!CKI(0, cl_open(&cl, e))) return;
    for (int round = 0; round < 2; round++) {   /* one at a time, then pipelined    */
        if (round == 1)
            for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) CKI(0, cl_send(&cl, seq[i].req));
        for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
            if (round == 0) CKI(0, cl_send(&cl, seq[i].req));
            resp *r = cl_resp(&cl, seq[i].head);
            if (!CK(r != NULL)) {
                cl_close(&cl);
                return;
            }
            if (!CKI(seq[i].status, r->status)) fprintf(stderr, "  for %s", seq[i].req);
            if (seq[i].body) CKS(seq[i].body, r->body);
            CK(hdr(r, "Connection") == NULL);   /* never "close"                   */
            resp_free(r);
        }
    }
    cl_close(&cl);
}
TEST keepalive(void) { return run_env(2, MODE_FS, b_keepalive); }

static void b_prefix(env *e) {
    EXPECT(e, "GET", "/static/hello.txt", NULL, 200, HELLO);
    EXPECT(e, "GET", "/static/sub/", NULL, 200, SUB_LISTING);
    EXPECT(e, "GET", "/hello.txt", NULL, 404, NULL);
    EXPECT(e, "GET", "/staticx/hello.txt", NULL, 404, NULL);
    EXPECT(e, "GET", "/static/../outside/secret.txt", NULL, 400, NULL);
    static const char *const t[][2] = {
        {"/static", "static/"}, {"/static?q=1", "static/?q=1"}, {"/static/sub", "sub/"},
        {"/static/site/index.html", "./"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        resp *r = GET(e, t[i][0]);
        if (!r) continue;
        CKI(301, r->status);
        if (!CKS(t[i][1], hdr(r, "Location"))) fprintf(stderr, "  for %s\n", t[i][0]);
        resp_free(r);
    }
}
TEST strip_prefix(void) { return run_env(1, MODE_PREFIX, b_prefix); }

static void b_mux(env *e) {
    EXPECT(e, "GET", "/static/hello.txt", NULL, 200, HELLO);
    EXPECT(e, "GET", "/static/", NULL, 200, NULL);
    EXPECT(e, "GET", "/static/sub/", NULL, 200, SUB_LISTING);
    EXPECT(e, "GET", "/static/site/", NULL, 200, "<html>site index</html>\n");
    EXPECT(e, "GET", "/elsewhere", NULL, 404, NULL);
    resp *r = GET(e, "/static/sub");
    if (r) {
        CKI(301, r->status);
        CKS("sub/", hdr(r, "Location"));
        resp_free(r);
    }
    r = GET(e, "/static");        /* the mux redirects to the subtree           */
    if (r) {
        CKI(301, r->status);
        CKS("/static/", hdr(r, "Location"));
        resp_free(r);
    }
    r = GET(e, "/static/../outside/secret.txt");   /* the mux cleans: not the secret */
    if (r) {
        CK(!strstr(r->body, "TOP SECRET"));
        resp_free(r);
    }
    r = FETCH(e, "HEAD", "/static/big.bin", NULL);
    if (r) {
        CKI(200, r->status);
        CKS("1048576", hdr(r, "Content-Length"));
        resp_free(r);
    }
    r = FETCH(e, "POST", "/static/hello.txt", "Content-Length: 0\r\n");
    if (r) {
        CKI(405, r->status);
        resp_free(r);
    }
    RANGE(e, "/static/big.bin", "bytes=100-109", 206, "bytes 100-109/1048576", NULL);
    EXPECT(e, "GET", "/file/one", NULL, 200, HELLO);
}
TEST mux_subtree(void) { return run_env(1, MODE_MUX, b_mux); }

static void b_serve_file(env *e) {
    EXPECT(e, "GET", "/one", NULL, 200, HELLO);
    CKI(200, ALOAD(&g_file_status));
    resp *r = GET(e, "/one/");   /* ServeFile does not redirect a file's slash */
    if (r) {
        CKI(200, r->status);
        CKS("text/plain; charset=utf-8", hdr(r, "Content-Type"));
        resp_free(r);
    }
    RANGE(e, "/one", "bytes=0-4", 206, "bytes 0-4/20", "Hello");
    CKI(206, ALOAD(&g_file_status));
    EXPECT(e, "HEAD", "/one", NULL, 200, "");
    EXPECT(e, "GET", "/one/../x", NULL, 400, NULL);
    CKI(400, ALOAD(&g_file_status));
    EXPECT(e, "GET", "/one", IMS(DATED_S), 200, HELLO);
    EXPECT(e, "POST", "/one", "Content-Length: 0\r\n", 405, NULL);
    CKI(405, ALOAD(&g_file_status));
    EXPECT(e, "GET", "/missing", NULL, 404, NULL);
    CKI(404, ALOAD(&g_file_status));
    r = GET(e, "/dir");          /* a directory still gets its slash            */
    if (r) {
        CKI(301, r->status);
        CKS("dir/", hdr(r, "Location"));
        resp_free(r);
    }
    CKI(301, ALOAD(&g_file_status));
    EXPECT(e, "GET", "/dir/", NULL, 200, SUB_LISTING);
    EXPECT(e, "GET", "/site/", NULL, 200, "<html>site index</html>\n");
}
TEST serve_file(void) { return run_env(1, MODE_FILE, b_serve_file); }

/* ---- many downloads at once on two Ps --------------------------------------------- */
typedef struct dl {
    env *e;
    int id;
    gn_waitgroup *wg;
    int *ok;
} dl;

static void download(void *arg) {
    dl *d = (dl *)arg;
    int64_t start = 0, len = BIG_SIZE;
    char extra[96] = "";
    if (d->id % 3 == 1) {   /* every third a range, crossing chunk boundaries */
        start = (int64_t)(d->id * 7919) % (BIG_SIZE / 2);
        len = 100000 + d->id * 13;
        snprintf(extra, sizeof extra, "Range: bytes=%lld-%lld\r\n", (long long)start, (long long)(start + len - 1));
    }
    resp *r = fetch_(d->e, "GET", "/big.bin", extra, __LINE__);
    if (r) {
        if (CKI(start || len != BIG_SIZE ? 206 : 200, r->status) && CKI(len, r->blen) &&
            CKI(-1, check_pat(r->body, r->blen, (uint64_t)start)))
            AADD(d->ok, 1);
        resp_free(r);
    }
    gn_waitgroup_done(d->wg);
}

static void b_concurrent(env *e) {
    int n = g_scale > 1 ? 12 : 64;
    gn_waitgroup wg = GN_WAITGROUP_INIT;
    int ok = 0;
    dl *ds = calloc((size_t)n, sizeof *ds);
    for (int i = 0; i < n; i++) {
        ds[i].e = e;
        ds[i].id = i;
        ds[i].wg = &wg;
        ds[i].ok = &ok;
        gn_waitgroup_add(&wg, 1);
        CK(gn_go(download, &ds[i]) > 0);
    }
    gn_waitgroup_wait(&wg);
    CKI(n, ALOAD(&ok));
    free(ds);
}
TEST concurrent_downloads(void) { return run_env(2, MODE_FS, b_concurrent); }

#ifndef _WIN32
/* ---- curl ----------------------------------------------------------------------------- */
typedef struct curl_job { const char *cmd; int rc; } curl_job;
static void run_cmd(void *arg) {
    curl_job *j = (curl_job *)arg;
    j->rc = system(j->cmd);
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap + 1);
    size_t k;
    while ((k = fread(b + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap) b = realloc(b, (cap *= 2) + 1);
    }
    fclose(f);
    b[len] = 0;
    *n = len;
    return b;
}

static void b_curl(env *e) {
    char cmd[1024], out[256], hdrs[256];
    snprintf(out, sizeof out, "%s/curl.out", g_base);
    snprintf(hdrs, sizeof hdrs, "%s/curl.hdr", g_base);
    snprintf(cmd, sizeof cmd, "/usr/bin/curl -s -S --max-time 20 --range 1000-200999 -o '%s' -D '%s' 'http://%s/big.bin'",
             out, hdrs, e->addr);
    curl_job j = {cmd, -1};
    gn_blocking(run_cmd, &j);   /* the server keeps running meanwhile             */
    CKI(0, j.rc);
    size_t n = 0;
    char *b = slurp(out, &n);
    if (CK(b != NULL)) {
        CKI(200000, n);
        CKI(-1, check_pat(b, n, 1000));
        free(b);
    }
    b = slurp(hdrs, &n);
    if (CK(b != NULL)) {
        CK(strstr(b, "HTTP/1.1 206") != NULL);
        CK(strcasestr(b, "Content-Range: bytes 1000-200999/1048576") != NULL);
        free(b);
    }
    /* and a whole file, with a name to escape                                    */
    snprintf(cmd, sizeof cmd, "/usr/bin/curl -s -S -f --max-time 20 -o '%s' 'http://%s/big.bin' && "
             "/usr/bin/curl -s -S -f --max-time 20 -o '%s.2' 'http://%s/a%%20b%%20%%C3%%BC.txt'",
             out, e->addr, out, e->addr);
    j.rc = -1;
    gn_blocking(run_cmd, &j);
    CKI(0, j.rc);
    b = slurp(out, &n);
    if (CK(b != NULL)) {
        CKI(BIG_SIZE, n);
        CKI(-1, check_pat(b, n, 0));
        free(b);
    }
    strcat(out, ".2");
    b = slurp(out, &n);
    if (CK(b != NULL)) {
        CKS("space and utf-8\n", b);
        free(b);
    }
}
TEST curl(void) {
    if (T_WIN || access("/usr/bin/curl", 1 /* X_OK */) != 0) SKIPm("no /usr/bin/curl");
    return run_env(2, MODE_FS, b_curl);
}
#else
TEST curl(void) { SKIPm("curl is run through the POSIX shell"); }
#endif

/* ---- the API without a server ---------------------------------------------------- */
TEST api_misuse(void) {
    long live = ALOAD(&g_live);
    int fds = count_fds();
    char p[512];
    ASSERT_EQ(NULL, gn_http_fs_new(NULL));
    ASSERT_EQ(NULL, gn_http_fs_new(""));
    path_of(p, sizeof p, "nope");
    ASSERT_EQ(NULL, gn_http_fs_new(p));
    path_of(p, sizeof p, "hello.txt");
    ASSERT_EQ(NULL, gn_http_fs_new(p));    /* not a directory */
    gn_http_fs_free(NULL);
    gn_http_fs *fs = gn_http_fs_new(g_root);
    ASSERT(fs != NULL);
    EQI(GN_EINVAL, gn_http_fs_strip_prefix(fs, "static"));
    EQI(GN_EINVAL, gn_http_fs_strip_prefix(fs, NULL));
    EQI(GN_EINVAL, gn_http_fs_strip_prefix(NULL, "/x"));
    EQI(0, gn_http_fs_strip_prefix(fs, "/a/b//"));
    ASSERT_STR_EQ("/a/b", fs->prefix);
    EQI(0, gn_http_fs_strip_prefix(fs, "/"));
    ASSERT_EQ(NULL, fs->prefix);
    EQI(0, gn_http_fs_strip_prefix(fs, "/x"));
    gn_http_fs_free(fs);
    /* the root through a symlink: its real path is what counts                   */
    snprintf(p, sizeof p, "%s/rootlink", g_base);
#ifdef _WIN32
    if (!g_no_symlinks && CreateSymbolicLinkA(p, "root", 0x2 | SYMBOLIC_LINK_FLAG_DIRECTORY)) {
        fs = gn_http_fs_new(p);
        RemoveDirectoryA(p);
        ASSERT(fs != NULL);
        size_t rl = strlen(fs->root.path);   /* "\\?\C:\...\root": the target's final path */
        ASSERT(rl > 5 && strcmp(fs->root.path + rl - 5, "\\root") == 0);
        gn_http_fs_free(fs);
    }
#else
    ASSERT_EQ(0, symlink("root", p));
    fs = gn_http_fs_new(p);
    unlink(p);
    ASSERT(fs != NULL);
    ASSERT_STR_EQ(g_root, fs->root.path);   /* g_base comes from mkdtemp under /tmp */
    gn_http_fs_free(fs);
#endif
    EQI(GN_EINVAL, gn_http_serve_file(NULL, NULL, "x"));
    ASSERT_EQ_FMT(live, ALOAD(&g_live), "%ld");
    ASSERT_EQ_FMT(fds, count_fds(), "%d");
    PASS();
}

TEST parse_dates(void) {
    int64_t t = 0;
    ASSERT(gn__fs_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", &t));
    EQI(784111777, t);
    ASSERT(gn__fs_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", &t));
    EQI(784111777, t);
    ASSERT(gn__fs_parse_date("Sun Nov  6 08:49:37 1994", &t));
    EQI(784111777, t);
    ASSERT(gn__fs_parse_date("Thu, 01 Jan 1970 00:00:00 GMT", &t));
    EQI(0, t);
    ASSERT(gn__fs_parse_date("Tue, 29 Feb 2000 23:59:59 GMT", &t));
    EQI(951868799, t);
    ASSERT(gn__fs_parse_date("Fri, 01-Jan-38 00:00:00 GMT", &t));   /* 2038: two-digit years */
    EQI(2145916800, t);
    ASSERT(gn__fs_parse_date("Thu, 01-Jan-70 00:00:00 GMT", &t));
    EQI(0, t);
    ASSERT(gn__fs_parse_date("Wed Dec 31 23:59:59 2025", &t));
    EQI(1767225599, t);
    static const char *const bad[] = {
        "", "GMT", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Xyz 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMTX",
        "Sun Nov 6 08:49:37 1994", "Sun Nov  6 08:49:37 94", "1994-11-06T08:49:37Z", "Sun,06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT", ", 06 Nov 1994 08:49:37 GMT",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (gn__fs_parse_date(bad[i], &t)) FAILm(bad[i]);
    char out[40];
    gn__fs_fmt_date(784111777, out, sizeof out);
    ASSERT_STR_EQ("Sun, 06 Nov 1994 08:49:37 GMT", out);
    gn__fs_fmt_date(DATED, out, sizeof out);
    ASSERT_STR_EQ(DATED_S, out);
    PASS();
}

TEST parse_ranges(void) {
    gn__fs_range r[4];
    EQI(1, gn__fs_parse_range("bytes=0-4", 20, r, 4));
    EQI(0, r[0].start); EQI(5, r[0].len);
    EQI(1, gn__fs_parse_range("bytes=-5", 20, r, 4));
    EQI(15, r[0].start); EQI(5, r[0].len);
    EQI(1, gn__fs_parse_range("bytes=-50", 20, r, 4));
    EQI(0, r[0].start); EQI(20, r[0].len);
    EQI(1, gn__fs_parse_range("bytes=10-", 20, r, 4));
    EQI(10, r[0].start); EQI(10, r[0].len);
    EQI(1, gn__fs_parse_range("bytes=10-99", 20, r, 4));
    EQI(10, r[0].len);
    EQI(2, gn__fs_parse_range("bytes=0-0 , 2-3,", 20, r, 4));
    EQI(2, r[1].start); EQI(2, r[1].len);
    EQI(1, gn__fs_parse_range("bytes=,,1-1", 20, r, 4));
    EQI(0, gn__fs_parse_range("bytes=", 20, r, 4));   /* nothing asked: the whole file */
    EQI(GN__FS_RANGE_NOOVERLAP, gn__fs_parse_range("bytes=20-", 20, r, 4));
    EQI(GN__FS_RANGE_NOOVERLAP, gn__fs_parse_range("bytes=-0", 20, r, 4));
    EQI(GN__FS_RANGE_NOOVERLAP, gn__fs_parse_range("bytes=0-", 0, r, 4));
    EQI(GN__FS_RANGE_NOOVERLAP, gn__fs_parse_range("bytes=-1", 0, r, 4));
    EQI(GN__FS_RANGE_MANY, gn__fs_parse_range("bytes=0-0,1-1,2-2,3-3,4-4", 20, r, 4));
    static const char *const bad[] = {"bytes 0-1", "Bytes=0-1", "bytes=1", "bytes=a-b", "bytes=2-1",
                                      "bytes=-", "bytes=--5", "bytes=1-2-3", "bytes=-1-", "bytes=0-1,x",
                                      "bytes=99999999999999999999-", "bytes=+1-2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (gn__fs_parse_range(bad[i], 20, r, 4) != GN__FS_RANGE_INVALID) FAILm(bad[i]);
    PASS();
}

TEST sniff_and_extensions(void) {
    ASSERT_STR_EQ("text/html; charset=utf-8", gn__fs_type_by_ext("/a/b.HtMl"));
    ASSERT_STR_EQ("application/wasm", gn__fs_type_by_ext("x.wasm"));
    ASSERT_STR_EQ("image/jpeg", gn__fs_type_by_ext("x.JPG"));
    ASSERT_EQ(NULL, gn__fs_type_by_ext("x.tar.unknown"));
    ASSERT_EQ(NULL, gn__fs_type_by_ext("dir.html/file"));
    ASSERT_EQ(NULL, gn__fs_type_by_ext("noext"));
    ASSERT_EQ(NULL, gn__fs_type_by_ext("trailingdot."));
    ASSERT_EQ(NULL, gn__fs_type_by_ext("x.averylongext"));
    static const struct { const char *data; size_t n; const char *type; } t[] = {
        {"", 0, "text/plain; charset=utf-8"},
        {"hello", 5, "text/plain; charset=utf-8"},
        {"\n <html", 7, "text/plain; charset=utf-8"},       /* the tag must be followed */
        {"\n <html>", 8, "text/html; charset=utf-8"},
        {"<!-- c -->", 10, "text/html; charset=utf-8"},
        {"<p class=x>", 11, "text/html; charset=utf-8"},
        {"<pre>", 5, "text/plain; charset=utf-8"},
        {"<?xml version", 13, "text/xml; charset=utf-8"},
        {"%PDF-1.7", 8, "application/pdf"},
        {"\x89PNG\r\n\x1A\n", 8, "image/png"},
        {"\xFF\xD8\xFF\xE0", 4, "image/jpeg"},
        {"GIF87a", 6, "image/gif"},
        {"RIFF\0\0\0\0WEBPVP8 ", 16, "image/webp"},
        {"\0\0\0\x18" "ftypmp42", 12, "video/mp4"},
        {"PK\3\4", 4, "application/zip"},
        {"\x1F\x8B\x08", 3, "application/x-gzip"},
        {"\0asm", 4, "application/wasm"},
        {"\xEF\xBB\xBFhi", 5, "text/plain; charset=utf-8"},
        {"text\x01", 5, "application/octet-stream"},
        {"utf-8 \xC3\xBC ok\x1B", 12, "text/plain; charset=utf-8"},  /* ESC is text in Go */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ASSERT_STR_EQm(t[i].data, t[i].type, gn__fs_sniff(t[i].data, t[i].n));
    ASSERT(gn__fs_dotdot("/a/../b"));
    ASSERT(gn__fs_dotdot(".."));
    ASSERT(gn__fs_dotdot("/a\\..\\b"));
    ASSERT(!gn__fs_dotdot("/a/..b/c.."));
    ASSERT(!gn__fs_dotdot("/.../"));
    ASSERT(!gn__fs_dotdot("/"));
    PASS();
}

SUITE(http_fs_units) {
    RUN_TEST(parse_dates);
    RUN_TEST(parse_ranges);
    RUN_TEST(sniff_and_extensions);
    RUN_TEST(api_misuse);
}

SUITE(http_fs_server) {
    RUN_TEST(get_text);
    RUN_TEST(get_big);
    RUN_TEST(content_types);
    RUN_TEST(head);
    RUN_TEST(not_found);
    RUN_TEST(traversal);
    RUN_TEST(symlinks_openat2);
    RUN_TEST(symlinks_fallback);
    RUN_TEST(special_files);
    RUN_TEST(redirects);
    RUN_TEST(index_html);
    RUN_TEST(listing);
    RUN_TEST(ranges);
    RUN_TEST(multipart);
    RUN_TEST(conditional);
    RUN_TEST(methods);
    RUN_TEST(keepalive);
    RUN_TEST(strip_prefix);
    RUN_TEST(mux_subtree);
    RUN_TEST(serve_file);
    RUN_TEST(concurrent_downloads);
    RUN_TEST(curl);
    RUN_TEST(fallback_everything);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
    if (make_tree() != 0) {
        fprintf(stderr, "test_http_fs: cannot build the test tree under %s\n", g_base);
        remove_tree();
        return 1;
    }
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(http_fs_units);
    RUN_SUITE(http_fs_server);
    remove_tree();
    GREATEST_MAIN_END();
}
