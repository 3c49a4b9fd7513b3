/* test_http_server.c — the HTTP/1.1 server over real sockets on 127.0.0.1 (and
 * ::1), with real clients: raw ones written here (coroutines using gn_dial,
 * gn_write and gn_read, which parse responses byte by byte and check framing)
 * and curl, run as a child process from a blocking section so that the
 * runtime keeps serving while it waits.
 *
 * What is covered: methods, the automatic headers (Date, Content-Length,
 * Content-Type sniffing), HEAD; keep-alive, HTTP/1.0, Connection: close;
 * pipelining (100 mixed requests, 1000 over the read buffer, a close in the
 * middle); request bodies (Content-Length, chunked with extensions and
 * trailers, trickled, unread small and large bodies, Expect: 100-continue,
 * max_body_bytes for both framings); 100 MB uploads and downloads with the
 * process's RSS watched; streaming, flush, declared lengths, write buffer
 * sizes, response header limits; every malformed request the parser refuses,
 * with its status, Connection: close, a closed connection and the request
 * pipelined behind it never served; the timeouts (slowloris on new and
 * keep-alive connections, a silent connection, a crowd of silent ones that
 * must cost no coroutine each, idle, read, write for a client that never
 * reads and for a response that streams too long); graceful shutdown with
 * requests in flight, with idle connections, with a new connection whose
 * first request comes after shutdown began, with a handler that never
 * returns, and freeing right after; hijacking (echo, the count, the
 * owner's close, shutdown waiting for it and cutting it, max_conns slots, a
 * dead writer); max_conns; the request API and its context; bad arguments;
 * and 200 concurrent keep-alive clients x 50 requests over two Ps.
 *
 * Each test runs a body coroutine under gn_run in a forked child with a
 * watchdog, so that a server that crashes, hangs or trips a sanitizer fails
 * that test alone; the child's first failed check (or the sanitizer's report,
 * or LeakSanitizer's, in ASan builds) becomes the failure message.
 * GN_TEST_ALLFAIL=1 prints every failed check; GN_TEST_NOFORK=1 runs bodies in
 * the test process (for a debugger). Every read has a deadline, every child
 * process a time limit. Timing is checked one way only: lower bounds exactly,
 * upper bounds generously. GN_TEST_SCALE=small shrinks the loads (transfer
 * sizes, client counts, rounds). curl is needed for a few tests (GN_TEST_CURL
 * names another binary); without it they are skipped or do only their raw
 * part. Everything goes through the public API.                           */
#if defined(_WIN32) && !defined(__USE_MINGW_ANSI_STDIO)
#  define __USE_MINGW_ANSI_STDIO 1   /* C99 printf formats (%zu) in MinGW's C library */
#endif
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"
#define TEST_CHECK_OWN_RUN_BODY   /* forks a child per body: run_body below */
#include "test_check.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#ifndef _WIN32   /* Windows: no fork and no curl here; Winsock comes with gonet.h */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

extern char **environ;
#endif

/* The string contains the substring.                                           */
#define CKSUB(hay, needle) cksub_((hay), (needle), __LINE__, #hay)
static int cksub_(const char *hay, const char *needle, int line, const char *what) {
    if (hay && needle && strstr(hay, needle)) return 1;
    char msg[768];
    snprintf(msg, sizeof msg, "%s: \"%.400s\" does not contain \"%.200s\"", what, hay ? hay : "(null)",
             needle ? needle : "(null)");
    return ck_fail(line, msg);
}

/* ---- running a body -----------------------------------------------------------------
 * Each body runs under gn_run in a forked child (the runtime is not running
 * between tests, so the parent forks single-threaded), with a watchdog: a
 * server that crashes, hangs or trips a sanitizer fails that one test, and
 * the program goes on to its summary. The child's stderr (the first failed
 * check, a sanitizer's report) becomes the failure message. GN_TEST_NOFORK=1
 * runs bodies in the test process instead (for a debugger).                  */
#define HANG_LIMIT 180   /* seconds for one test body; the big transfers take a few */

#if defined(__SANITIZE_ADDRESS__)
#  define T_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define T_ASAN 1
#  endif
#endif
#if defined(T_ASAN)
#  include <sanitizer/lsan_interface.h>
#endif

static void on_hang(int sig) {
    (void)sig;
    const char *a = "HUNG: the runtime of test ", *b = " did not return within the watchdog's limit\n";
    if (write(2, a, strlen(a)) < 0 || write(2, greatest_info.name_buf, strlen(greatest_info.name_buf)) < 0 ||
        write(2, b, strlen(b)) < 0) {
    }
    _exit(3);
}

static char g_child_msg[8192];

/* Keeps a sanitizer report's headline and first frames.                        */
GN__PRIVATE void trim_child_msg(void) {
    char *e = strstr(g_child_msg, "ERROR: ");
    if (!e) e = strstr(g_child_msg, "WARNING: ThreadSanitizer");
    if (!e) e = strstr(g_child_msg, "runtime error:");
    if (e) memmove(g_child_msg, e, strlen(e) + 1);
    char *shadow = strstr(g_child_msg, "Shadow bytes");
    if (shadow) *shadow = 0;
    char *hint = strstr(g_child_msg, "HINT: this may be a false positive");
    if (hint) *hint = 0;
    if (strlen(g_child_msg) > 1500) strcpy(g_child_msg + 1480, " [...]");
    size_t n = strlen(g_child_msg);
    while (n && (g_child_msg[n - 1] == '\n' || g_child_msg[n - 1] == ' ')) g_child_msg[--n] = 0;
}

static int body_in_process(int procs, void (*body)(void *), void *arg) {
    fail_reset(NULL);
    int rc = run_procs(procs, body, arg);
    if (rc != 0) {
        snprintf(g_fail, sizeof g_fail, "gn_run returned %d (%s)", rc, gn_strerror(rc));
        return 1;
    }
    return ALOAD(&g_fail_set) ? 1 : 0;
}

#ifdef _WIN32
static void on_hang_win(void) { on_hang(0); }
#endif

static enum greatest_test_res run_body(int procs, void (*body)(void *), void *arg) {
#ifdef _WIN32   /* no fork: in this process, under the watchdog */
    t_watchdog_arm(HANG_LIMIT, on_hang_win);
    int wr = body_in_process(procs, body, arg);
    t_watchdog_disarm();
    if (wr) FAILm(g_fail);
    PASS();
#else
    if (getenv("GN_TEST_NOFORK")) {
        signal(SIGALRM, on_hang);
        alarm(HANG_LIMIT);
        int r = body_in_process(procs, body, arg);
        alarm(0);
        if (r) FAILm(g_fail);
        PASS();
    }
    int fds[2];
    if (pipe(fds) != 0) FAILm("pipe");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) FAILm("fork");
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        close(fds[1]);
        signal(SIGALRM, on_hang);
        alarm(HANG_LIMIT);
        int r = body_in_process(procs, body, arg);
        alarm(0);
        if (r) {
            fprintf(stderr, "%s", g_fail);
            fflush(stderr);
            _exit(1);
        }
#if defined(T_ASAN)
        if (__lsan_do_recoverable_leak_check() != 0) {
            fflush(stderr);
            _exit(2);
        }
#endif
        fflush(stderr);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fds[0], g_child_msg + n, sizeof g_child_msg - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
        if (n == sizeof g_child_msg - 1) {   /* keep the head; drain the rest */
            char sink[4096];
            while (read(fds[0], sink, sizeof sink) > 0) {
            }
            break;
        }
    }
    g_child_msg[n] = 0;
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) PASS();
    if (WIFSIGNALED(st))
        snprintf(g_child_msg + strlen(g_child_msg), sizeof g_child_msg - strlen(g_child_msg),
                 " [the test's process was killed by signal %d]", WTERMSIG(st));
    else if (!g_child_msg[0])
        snprintf(g_child_msg, sizeof g_child_msg, "the test's process exited with %d", WEXITSTATUS(st));
    trim_child_msg();
    FAILm(g_child_msg);
#endif
}

/* ---- helpers ------------------------------------------------------------------ */
#define SAFETY (10 * GN_SECOND)   /* no read in a body waits longer than this */
#define MS GN_MILLISECOND

static int64_t ms_since(int64_t t0) { return (gn_now() - t0) / GN_MILLISECOND; }

/* Helper coroutines that use a body's locals: spawn() them, join_all() before
 * the locals go away.                                                          */
static gn_waitgroup g_wg;
typedef struct { void (*fn)(void *); void *arg; } spawn_job;
static void spawn_tramp(void *arg) {
    spawn_job j = *(spawn_job *)arg;
    free(arg);
    j.fn(j.arg);
    gn_waitgroup_done(&g_wg);
}
static void spawn(void (*fn)(void *), void *arg) {
    spawn_job *j = (spawn_job *)malloc(sizeof *j);
    j->fn = fn;
    j->arg = arg;
    gn_waitgroup_add(&g_wg, 1);
    if (!CK(gn_go(spawn_tramp, j) > 0)) {
        free(j);
        gn_waitgroup_done(&g_wg);
    }
}
static void join_all(void) { gn_waitgroup_wait(&g_wg); }

/* The byte at position pos of stream `seed`: cheap, and any shift, swap or loss
 * of bytes or of 64 KiB blocks shows.                                           */
static inline unsigned char pat(uint64_t pos, uint32_t seed) {
    uint64_t x = pos + seed;
    return (unsigned char)((x ^ (x >> 8) ^ (x >> 16) ^ (x >> 24) ^ (x >> 32)) * 167u + 13u + seed);
}
static void fill_pat(unsigned char *b, size_t n, uint64_t pos, uint32_t seed) {
    for (size_t i = 0; i < n; i++) b[i] = pat(pos + i, seed);
}
/* -1 if b holds stream seed at pos, else the offset of the first wrong byte.   */
static int64_t check_pat(const unsigned char *b, size_t n, uint64_t pos, uint32_t seed) {
    for (size_t i = 0; i < n; i++)
        if (b[i] != pat(pos + i, seed)) return (int64_t)i;
    return -1;
}

/* The process's resident set, in KiB (VmRSS), or -1.                           */
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) v = strtol(line + 6, NULL, 10);
    fclose(f);
    return v;
}

static int64_t scaled(int64_t n) { return n / g_scale > 0 ? n / g_scale : 1; }

/* ---- the server under test ---------------------------------------------------------
 * srv_start: a server with the options on 127.0.0.1:0 (or addr), serving in its
 * own coroutine; srv_stop: gn_http_shutdown, wait for gn_http_serve to return
 * GN_ECLOSED and for the connections to go, then gn_http_server_free.         */
typedef struct srv {
    gn_http_server *s;
    gn_listener *l;
    int port;
    char addr[80];      /* "127.0.0.1:port" or "[::1]:port"                  */
    gn_chan *done;      /* gn_http_serve's return code                        */
} srv;

static void serve_co(void *arg) {
    srv *t = (srv *)arg;
    int rc = gn_http_serve(t->s, t->l);
    gn_chan_send(t->done, &rc);
}

static int srv_start_at(srv *t, const gn_http_server_opts *o, const char *where) {
    memset(t, 0, sizeof *t);
    t->s = gn_http_server_new(o);
    if (!CK(t->s != NULL)) return -1;
    int rc = gn_listen(&t->l, "tcp", where);
    if (!CKI(0, rc)) {
        gn_http_server_free(t->s);
        t->s = NULL;
        return -1;
    }
    t->port = gn_listener_port(t->l);
    if (where[0] == '[') snprintf(t->addr, sizeof t->addr, "[::1]:%d", t->port);
    else snprintf(t->addr, sizeof t->addr, "127.0.0.1:%d", t->port);
    t->done = gn_chan_new(sizeof(int), 1);
    CK(gn_go(serve_co, t) > 0);
    return 0;
}
static int srv_start(srv *t, const gn_http_server_opts *o) { return srv_start_at(t, o, "127.0.0.1:0"); }

/* Waits up to ms for the server's connection count to reach want; the count.  */
static int conns_reach(srv *t, int want, int ms) {
    int n = gn_http_server_conns(t->s);
    for (int i = 0; i < ms / 5 && n != want; i++) {
        gn_sleep(5 * MS);
        n = gn_http_server_conns(t->s);
    }
    return n;
}

/* Shuts down with the deadline (0: 5 s from now) and frees; shutdown's result. */
static int srv_stop(srv *t, int64_t deadline) {
    if (!t->s) return GN_EINVAL;
    int rc = gn_http_shutdown(t->s, deadline ? deadline : gn_now() + 5 * GN_SECOND);
    int src = 1;
    gn_select_case cs = {t->done, GN_RECV, &src, 0};
    int served = gn_select_until(&cs, 1, gn_now() + 5 * GN_SECOND) == 0;
    CKF(served, "gn_http_serve did not return within 5 s of gn_http_shutdown");
    if (served) CKI(GN_ECLOSED, src);
    int left = conns_reach(t, 0, 3000);
    CKF(left == 0, "%d connections still listed 3 s after gn_http_shutdown returned", left);
    if (served && left == 0) {   /* otherwise leak: a coroutine may still use it */
        gn_http_server_free(t->s);
        gn_chan_free(t->done);
    }
    t->s = NULL;
    return rc;
}

static void opts_init(gn_http_server_opts *o, gn_http_handler_func h, void *ud) {
    memset(o, 0, sizeof *o);
    o->handler = h;
    o->ud = ud;
}

/* ---- a raw client ------------------------------------------------------------------
 * A connection with a read buffer; every read has a deadline (rto from now).   */
#define CL_EPROTO (-9001)   /* the response is malformed                         */
#define CL_ELONG  (-9002)   /* a line or a stored body over its bound            */

typedef struct cl {
    gn_conn *c;
    int64_t rto;            /* each read waits at most this long                 */
    size_t pos, len;
    char buf[65536];
} cl;

static cl *cl_dial(const char *addr) {
    gn_conn *c = NULL;
    int rc = gn_dial(&c, "tcp", addr);
    if (!CKI(0, rc)) return NULL;
    cl *k = (cl *)calloc(1, sizeof *k);
    k->c = c;
    k->rto = SAFETY;
    return k;
}
static void cl_close(cl *k) {
    if (!k) return;
    gn_close(k->c);
    free(k);
}
static int64_t cl_send(cl *k, const void *p, size_t n) {
    gn_set_write_deadline(k->c, gn_now() + SAFETY);
    return gn_write(k->c, p, n);
}
static int64_t cl_sends(cl *k, const char *s) { return cl_send(k, s, strlen(s)); }

/* Reads more into the buffer: > 0, or the error (GN_EOF at the end).          */
static int64_t cl_fill(cl *k) {
    if (k->pos == k->len) {
        k->pos = k->len = 0;
    } else if (k->pos > 0) {
        memmove(k->buf, k->buf + k->pos, k->len - k->pos);
        k->len -= k->pos;
        k->pos = 0;
    }
    if (k->len == sizeof k->buf) return CL_ELONG;
    gn_set_read_deadline(k->c, gn_now() + k->rto);
    int64_t n = gn_read(k->c, k->buf + k->len, sizeof k->buf - k->len);
    if (n > 0) k->len += (size_t)n;
    return n == 0 ? GN_ENOPROGRESS : n;
}

/* One line without its CRLF into out: its length, or an error. A line must end
 * in CRLF: the server never sends a bare LF.                                  */
static int cl_line(cl *k, char *out, size_t cap) {
    for (;;) {
        char *s = k->buf + k->pos;
        char *nl = (char *)memchr(s, '\n', k->len - k->pos);
        if (nl) {
            size_t n = (size_t)(nl - s);
            if (n == 0 || s[n - 1] != '\r') return CL_EPROTO;
            n--;
            if (n >= cap) return CL_ELONG;
            memcpy(out, s, n);
            out[n] = 0;
            k->pos += (size_t)(nl - s) + 1;
            return (int)n;
        }
        int64_t r = cl_fill(k);
        if (r < 0) return (int)r;
    }
}

/* Up to n bytes, from the buffer first: > 0 or an error.                      */
static int64_t cl_read(cl *k, void *p, size_t n) {
    if (k->pos == k->len) {
        int64_t r = cl_fill(k);
        if (r < 0) return r;
    }
    size_t have = k->len - k->pos;
    size_t m = have < n ? have : n;
    memcpy(p, k->buf + k->pos, m);
    k->pos += m;
    return (int64_t)m;
}

/* What the next read brings within ms: GN_EOF or -ECONNRESET (closed), GN_ETIMEDOUT
 * (still open), or > 0 (bytes, which are left in the buffer).                 */
static int64_t cl_wait_close(cl *k, int64_t ms) {
    if (k->pos < k->len) return (int64_t)(k->len - k->pos);
    int64_t save = k->rto;
    k->rto = ms * MS;
    int64_t r = cl_fill(k);
    k->rto = save;
    return r;
}
static int is_closed(int64_t r) { return r == GN_EOF || r == -ECONNRESET || r == -EPIPE; }

/* ---- responses ------------------------------------------------------------------------ */
#define MAXH 96
typedef struct resp {
    int status, minor;
    char status_line[256];
    int nh;
    char *name[MAXH], *value[MAXH];     /* into head                               */
    char head[20000];
    size_t hlen;
    int64_t clen;                       /* Content-Length, or -1                   */
    int chunked;                        /* Transfer-Encoding: chunked              */
    int nchunks, ntrailers;
    int closed;                         /* close-delimited body read to EOF        */
    char *body;                         /* stored body (NUL after it), or NULL     */
    size_t blen, bcap, bmax;            /* bmax 0: 16 MiB                          */
    uint64_t total;                     /* body bytes, stored or sunk              */
    /* Optional: body bytes go here instead of into body (0 or an error).         */
    int (*sink)(void *arg, const unsigned char *p, size_t n);
    void *sink_arg;
} resp;

static resp *resp_new(void) { return (resp *)calloc(1, sizeof(resp)); }
static void resp_reset(resp *r) {
    free(r->body);
    r->body = NULL;
    r->blen = r->bcap = 0;
    r->status = r->minor = r->nh = r->nchunks = r->ntrailers = r->chunked = r->closed = 0;
    r->hlen = 0;
    r->total = 0;
    r->clen = -1;
    r->status_line[0] = 0;
}
static void resp_free(resp *r) {
    if (!r) return;
    free(r->body);
    free(r);
}

/* The first value of header name (any case), or NULL.                         */
static const char *hdr(const resp *r, const char *name) {
    for (int i = 0; i < r->nh; i++)
        if (strcasecmp(r->name[i], name) == 0) return r->value[i];
    return NULL;
}
static int hdr_count(const resp *r, const char *name) {
    int n = 0;
    for (int i = 0; i < r->nh; i++) n += strcasecmp(r->name[i], name) == 0;
    return n;
}
static const char *body_str(const resp *r) { return r->body ? r->body : ""; }

static int body_put(resp *r, const unsigned char *p, size_t n) {
    r->total += n;
    if (r->sink) return r->sink(r->sink_arg, p, n);
    size_t max = r->bmax ? r->bmax : (size_t)16 << 20;
    if (r->blen + n > max) return CL_ELONG;
    if (r->blen + n + 1 > r->bcap) {
        size_t cap = r->bcap ? r->bcap : 1024;
        while (cap < r->blen + n + 1) cap *= 2;
        r->body = (char *)realloc(r->body, cap);
        r->bcap = cap;
    }
    memcpy(r->body + r->blen, p, n);
    r->blen += n;
    r->body[r->blen] = 0;
    return 0;
}

/* Exactly n body bytes through body_put.                                       */
static int body_read_n(cl *k, resp *r, uint64_t n) {
    while (n) {
        if (k->pos == k->len) {
            int64_t f = cl_fill(k);
            if (f < 0) return (int)(f == GN_EOF ? GN_EUNEXPECTEDEOF : f);
        }
        size_t have = k->len - k->pos;
        size_t m = have < n ? have : (size_t)n;
        int rc = body_put(r, (const unsigned char *)k->buf + k->pos, m);
        k->pos += m;
        n -= m;
        if (rc) return rc;
    }
    return 0;
}

/* Reads one response: the head, then (unless head_req or the status says none)
 * the body by its framing. 0, or an error (CL_EPROTO for a malformed one).   */
static int cl_response(cl *k, resp *r, int head_req) {
    resp_reset(r);
    int n = cl_line(k, r->status_line, sizeof r->status_line);
    if (n < 0) return n;
    int st = 0, minor = 0;
    if (sscanf(r->status_line, "HTTP/1.%d %3d", &minor, &st) != 2 || st < 100 ||
        strncmp(r->status_line, "HTTP/1.", 7) != 0 || r->status_line[12] != ' ')
        return CL_EPROTO;
    r->status = st;
    r->minor = minor;
    for (;;) {
        char line[16384];
        n = cl_line(k, line, sizeof line);
        if (n < 0) return n;
        if (n == 0) break;
        char *colon = strchr(line, ':');
        if (!colon || colon == line || r->nh == MAXH) return CL_EPROTO;
        for (char *q = line; q < colon; q++)
            if (*q == ' ' || *q == '\t') return CL_EPROTO;
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        size_t vl = strlen(v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) v[--vl] = 0;
        size_t nl = strlen(line);
        if (r->hlen + nl + vl + 2 > sizeof r->head) return CL_ELONG;
        r->name[r->nh] = r->head + r->hlen;
        memcpy(r->head + r->hlen, line, nl + 1);
        r->hlen += nl + 1;
        r->value[r->nh] = r->head + r->hlen;
        memcpy(r->head + r->hlen, v, vl + 1);
        r->hlen += vl + 1;
        r->nh++;
    }
    const char *cls = hdr(r, "Content-Length"), *te = hdr(r, "Transfer-Encoding");
    if (cls) {
        char *end;
        r->clen = (int64_t)strtoll(cls, &end, 10);
        if (*end || r->clen < 0) return CL_EPROTO;
    }
    r->chunked = te && strstr(te, "chunked") != NULL;
    if (head_req || st / 100 == 1 || st == 204 || st == 304) return 0;
    if (r->chunked) {
        for (;;) {
            char line[256];
            n = cl_line(k, line, sizeof line);
            if (n < 0) return n;
            char *end;
            errno = 0;
            unsigned long long sz = strtoull(line, &end, 16);
            if (end == line || (*end && *end != ';') || errno) return CL_EPROTO;
            if (sz == 0) break;
            r->nchunks++;
            int rc = body_read_n(k, r, sz);
            if (rc) return rc;
            n = cl_line(k, line, sizeof line);
            if (n != 0) return n < 0 ? n : CL_EPROTO;
        }
        for (;;) {   /* trailers */
            char line[4096];
            n = cl_line(k, line, sizeof line);
            if (n < 0) return n;
            if (n == 0) break;
            r->ntrailers++;
        }
        return 0;
    }
    if (r->clen >= 0) return body_read_n(k, r, (uint64_t)r->clen);
    for (;;) {   /* until close */
        if (k->pos == k->len) {
            int64_t f = cl_fill(k);
            if (f == GN_EOF) break;
            if (f < 0) return (int)f;
        }
        int rc = body_put(r, (const unsigned char *)k->buf + k->pos, k->len - k->pos);
        k->pos = k->len;
        if (rc) return rc;
    }
    r->closed = 1;
    return 0;
}

/* Sends a GET (HTTP/1.1, Host: t) and reads its response: 0 or an error.      */
static int cl_get(cl *k, resp *r, const char *path) {
    char req[1024];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    int64_t w = cl_sends(k, req);
    if (w < 0) return (int)w;
    return cl_response(k, r, 0);
}

/* One request on a fresh connection, then the connection closes.              */
static int get_once(const char *addr, const char *path, resp *r) {
    cl *k = cl_dial(addr);
    if (!k) return GN_ECLOSED;
    int rc = cl_get(k, r, path);
    cl_close(k);
    return rc;
}

/* ---- child processes (curl) ------------------------------------------------------------
 * cmd_run spawns argv with pipes on stdin (fed by gen), stdout (to sink, or kept
 * in out) and stderr (kept in err), all under a time limit (then SIGKILL), in a
 * blocking section: the coroutine's P goes on serving meanwhile.              */
typedef struct cmd {
    const char *argv[64];
    int argc;
    size_t (*gen)(void *arg, char *buf, size_t cap);   /* stdin; NULL: /dev/null; 0 ends */
    void *gen_arg;
    void (*sink)(void *arg, const char *p, size_t n);  /* stdout; NULL: into out      */
    void *sink_arg;
    char out[1 << 16];
    size_t out_len;
    char err[1 << 16];
    size_t err_len;
    int timeout_ms;
    int status;      /* exit status; -1 spawn failed, -2 killed at the time limit, -3 signal */
} cmd;

static const char *curl_path(void) {
#ifdef _WIN32
    return NULL;   /* (the curl tests spawn it with posix_spawn) */
#endif
    static char path[512];
    static int done;
    if (done) return path[0] ? path : NULL;
    done = 1;
    const char *env = getenv("GN_TEST_CURL");
    if (env && access(env, X_OK) == 0) {
        snprintf(path, sizeof path, "%s", env);
        return path;
    }
    if (access("/usr/bin/curl", X_OK) == 0) {
        snprintf(path, sizeof path, "/usr/bin/curl");
        return path;
    }
    const char *p = getenv("PATH");
    while (p && *p) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char cand[512];
        snprintf(cand, sizeof cand, "%.*s/curl", (int)n, p);
        if (n && access(cand, X_OK) == 0) {
            snprintf(path, sizeof path, "%s", cand);
            return path;
        }
        p = e ? e + 1 : NULL;
    }
    return NULL;
}
#define NEED_CURL() do {                                                            \
        if (!curl_path()) SKIPm("curl not found (install curl, or set GN_TEST_CURL)"); \
    } while (0)

static cmd *cmd_new(int timeout_ms) {
    cmd *c = (cmd *)calloc(1, sizeof *c);
    c->timeout_ms = timeout_ms;
    return c;
}
static void cmd_arg(cmd *c, const char *a) {
    if (c->argc < 63) c->argv[c->argc++] = a;
}
static cmd *curl_new(int timeout_ms) {
    cmd *c = cmd_new(timeout_ms);
    cmd_arg(c, curl_path());
    cmd_arg(c, "-sS");
    cmd_arg(c, "--no-progress-meter");
    cmd_arg(c, "--noproxy");
    cmd_arg(c, "*");
    return c;
}

#ifdef _WIN32
static void cmd_exec(void *arg) {
    cmd *c = (cmd *)arg;
    c->status = -1;
    snprintf(c->err, sizeof c->err, "no child processes in the Windows build");
}
#else
static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cmd_exec(void *arg) {
    cmd *c = (cmd *)arg;
    c->argv[c->argc] = NULL;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || (c->gen && pipe2(in, O_CLOEXEC) != 0)) {
        c->status = -1;
        snprintf(c->err, sizeof c->err, "pipe: %s", strerror(errno));
        return;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (c->gen) posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    else posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGALRM);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int rc = posix_spawn(&pid, c->argv[0], &fa, &at, (char *const *)c->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(out[1]);
    close(err[1]);
    if (in[0] >= 0) close(in[0]);
    if (rc != 0) {
        c->status = -1;
        snprintf(c->err, sizeof c->err, "posix_spawn %s: %s", c->argv[0], strerror(rc));
        close(out[0]);
        close(err[0]);
        if (in[1] >= 0) close(in[1]);
        return;
    }
    int fin = in[1], fout = out[0], ferr = err[0];
    if (fin >= 0) fcntl(fin, F_SETFL, fcntl(fin, F_GETFL) | O_NONBLOCK);
    char *gbuf = c->gen ? (char *)malloc(1 << 16) : NULL;
    size_t gpos = 0, glen = 0;
    char *rbuf = (char *)malloc(1 << 16);
    int64_t deadline = mono_ms() + c->timeout_ms;
    int killed = 0;
    while (fin >= 0 || fout >= 0 || ferr >= 0) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = 1;
            break;
        }
        struct pollfd p[3];
        int np = 0, ii = -1, io = -1, ie = -1;
        if (fin >= 0) { ii = np; p[np].fd = fin; p[np++].events = POLLOUT; }
        if (fout >= 0) { io = np; p[np].fd = fout; p[np++].events = POLLIN; }
        if (ferr >= 0) { ie = np; p[np].fd = ferr; p[np++].events = POLLIN; }
        int pr = poll(p, (nfds_t)np, left > 500 ? 500 : (int)left);
        if (pr < 0 && errno != EINTR) break;
        if (pr <= 0) continue;
        if (ii >= 0 && p[ii].revents) {
            for (int spin = 0; spin < 64 && fin >= 0; spin++) {
                if (gpos == glen) {
                    glen = c->gen(c->gen_arg, gbuf, 1 << 16);
                    gpos = 0;
                    if (glen == 0) {
                        close(fin);
                        fin = -1;
                        break;
                    }
                }
                ssize_t w = write(fin, gbuf + gpos, glen - gpos);
                if (w < 0) {
                    if (errno == EAGAIN || errno == EINTR) break;
                    close(fin);   /* EPIPE: the child stopped reading */
                    fin = -1;
                    break;
                }
                gpos += (size_t)w;
            }
        }
        if (io >= 0 && p[io].revents) {
            ssize_t r = read(fout, rbuf, 1 << 16);
            if (r > 0) {
                if (c->sink) {
                    c->sink(c->sink_arg, rbuf, (size_t)r);
                } else {
                    size_t m = sizeof c->out - 1 - c->out_len;
                    if ((size_t)r < m) m = (size_t)r;
                    memcpy(c->out + c->out_len, rbuf, m);
                    c->out_len += m;
                }
            } else if (r == 0 || errno != EINTR) {
                close(fout);
                fout = -1;
            }
        }
        if (ie >= 0 && p[ie].revents) {
            ssize_t r = read(ferr, rbuf, 1 << 16);
            if (r > 0) {
                size_t m = sizeof c->err - 1 - c->err_len;
                if ((size_t)r < m) m = (size_t)r;
                memcpy(c->err + c->err_len, rbuf, m);
                c->err_len += m;
            } else if (r == 0 || errno != EINTR) {
                close(ferr);
                ferr = -1;
            }
        }
    }
    if (fin >= 0) close(fin);
    if (fout >= 0) close(fout);
    if (ferr >= 0) close(ferr);
    free(gbuf);
    free(rbuf);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    c->out[c->out_len] = 0;
    c->err[c->err_len] = 0;
    c->status = killed ? -2 : WIFEXITED(st) ? WEXITSTATUS(st) : -3;
}
#endif

/* Runs the command from a coroutine: its exit status (see cmd.status).         */
static int cmd_run(cmd *c) {
    gn_blocking(cmd_exec, c);
    return c->status;
}
#define CK_CMD(c) CKF((c)->status == 0, "%s exited with %d; stderr: %.500s", (c)->argv[0], (c)->status, (c)->err)

/* A generator of `left` pattern bytes, for a child's stdin.                    */
typedef struct patgen { uint64_t pos, left; uint32_t seed; } patgen;
static size_t patgen_fn(void *arg, char *buf, size_t cap) {
    patgen *g = (patgen *)arg;
    size_t n = g->left < cap ? (size_t)g->left : cap;
    fill_pat((unsigned char *)buf, n, g->pos, g->seed);
    g->pos += n;
    g->left -= n;
    return n;
}

/* A sink that checks pattern bytes as they stream by.                          */
typedef struct patsink { uint64_t pos; uint32_t seed; int64_t bad; } patsink;
static void patsink_fn(void *arg, const char *p, size_t n) {
    patsink *s = (patsink *)arg;
    int64_t b = check_pat((const unsigned char *)p, n, s->pos, s->seed);
    if (b >= 0 && s->bad < 0) s->bad = (int64_t)s->pos + b;
    s->pos += n;
}
static int patsink_resp(void *arg, const unsigned char *p, size_t n) {
    patsink_fn(arg, (const char *)p, n);
    return 0;
}

/* ---- handlers used by several tests ---------------------------------------------------- */
static int g_calls;   /* handler runs, where a test counts them */
static void h_sleepy(gn_http_response *w, gn_http_request *r, void *ud);

/* Writes nothing.                                                               */
static void h_nothing(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)w;
    (void)r;
    (void)ud;
    AADD(&g_calls, 1);
}

/* Reads the whole body (in sizes 1, 7, 4096, 65536, ...) unless the path starts
 * with /noread; checks it against the pattern of X-Seed if given; answers
 * "METHOD PATH q=QUERY n=BYTES bad=OFFSET err=CODE\n".                         */
static void h_info(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    AADD(&g_calls, 1);
    const char *seed_s = gn_http_header_get(r, "X-Seed");
    uint32_t seed = seed_s ? (uint32_t)strtoul(seed_s, NULL, 10) : 0;
    int64_t n = 0, bad = -1, err = 0;
    if (strncmp(gn_http_path(r), "/noread", 7) != 0) {
        static const size_t sizes[] = {1, 7, 4096, 65536, 100, 65536, 65536, 3};
        unsigned char *buf = (unsigned char *)malloc(65536);
        for (int i = 0;; i++) {
            int64_t got = gn_http_body_read(r, buf, sizes[i % 8]);
            if (got == GN_EOF) break;
            if (got <= 0) {
                err = got;
                break;
            }
            if (seed_s && bad < 0) {
                int64_t b = check_pat(buf, (size_t)got, (uint64_t)n, seed);
                if (b >= 0) bad = n + b;
            }
            n += got;
        }
        free(buf);
    }
    char out[1024];
    snprintf(out, sizeof out, "%s %s q=%s n=%lld bad=%lld err=%lld cl=%lld\n", gn_http_method(r),
             gn_http_path(r), gn_http_raw_query(r), (long long)n, (long long)bad, (long long)err,
             (long long)gn_http_content_length(r));
    gn_http_write_string(w, out);
}
/* What h_info answers for a body read whole and intact.                        */
static const char *info(char *buf, size_t size, const char *method, const char *path, const char *q,
                        long long n, long long cl) {
    snprintf(buf, size, "%s %s q=%s n=%lld bad=-1 err=0 cl=%lld\n", method, path, q, n, cl);
    return buf;
}

/* Sends the request bytes and reads one response.                              */
static int roundtrip(cl *k, resp *r, const char *req, int head_req) {
    int64_t w = cl_sends(k, req);
    if (w < 0) return (int)w;
    return cl_response(k, r, head_req);
}

/* ==== basics ============================================================================ */

/* GET, HEAD, POST, PUT, DELETE, OPTIONS (and an unknown method) on one
 * keep-alive connection: status lines, bodies read by the handler, lengths.   */
static void b_methods(void *arg) {
    (void)arg;
    ASTORE(&g_calls, 0);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    char want[256];
    if (k) {
        CKI(0, roundtrip(k, r, "GET /get?a=1&b=2 HTTP/1.1\r\nHost: t\r\n\r\n", 0));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CKS(info(want, sizeof want, "GET", "/get", "a=1&b=2", 0, -1), body_str(r));
        CKI(r->blen, r->clen);
        CK(hdr(r, "Transfer-Encoding") == NULL);

        CKI(0, roundtrip(k, r, "HEAD /get?a=1&b=2 HTTP/1.1\r\nHost: t\r\n\r\n", 1));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CKI(strlen(info(want, sizeof want, "HEAD", "/get", "a=1&b=2", 0, -1)), r->clen);
        CKI(0, r->blen);

        CKI(0, roundtrip(k, r, "POST /post HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", 0));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CKS(info(want, sizeof want, "POST", "/post", "", 5, 5), body_str(r));

        size_t n = 100000;
        unsigned char *b = (unsigned char *)malloc(n);
        fill_pat(b, n, 0, 3);
        char head[256];
        snprintf(head, sizeof head, "PUT /put HTTP/1.1\r\nHost: t\r\nX-Seed: 3\r\nContent-Length: %zu\r\n\r\n", n);
        CKR(cl_sends(k, head));
        CKR(cl_send(k, b, n));
        free(b);
        CKI(0, cl_response(k, r, 0));
        CKI(200, r->status);
        CKS(info(want, sizeof want, "PUT", "/put", "", (long long)n, (long long)n), body_str(r));

        CKI(0, roundtrip(k, r, "DELETE /del/1 HTTP/1.1\r\nHost: t\r\n\r\n", 0));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CKS(info(want, sizeof want, "DELETE", "/del/1", "", 0, -1), body_str(r));

        CKI(0, roundtrip(k, r, "OPTIONS * HTTP/1.1\r\nHost: t\r\n\r\n", 0));
        CKI(200, r->status);
        CKS(info(want, sizeof want, "OPTIONS", "*", "", 0, -1), body_str(r));

        CKI(0, roundtrip(k, r, "OPTIONS /opt HTTP/1.1\r\nHost: t\r\n\r\n", 0));
        CKS(info(want, sizeof want, "OPTIONS", "/opt", "", 0, -1), body_str(r));

        CKI(0, roundtrip(k, r, "PATCH /p HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\n\r\nx", 0));
        CKS(info(want, sizeof want, "PATCH", "/p", "", 1, 1), body_str(r));

        CKI(1, gn_http_server_conns(t.s));
        CKI(8, ALOAD(&g_calls));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST methods_basic(void) { return run_body(1, b_methods, NULL); }

/* The same methods from curl, in one process (--next reuses its connection).  */
static void b_curl_methods(void *arg) {
    (void)arg;
    ASTORE(&g_calls, 0);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    if (srv_start(&t, &o)) return;
    char u[6][128];
    const char *paths[6] = {"/get?x=1", "/head", "/post", "/put", "/del", "/opt"};
    for (int i = 0; i < 6; i++) snprintf(u[i], sizeof u[i], "http://%s%s", t.addr, paths[i]);
    cmd *c = curl_new(30000);
    cmd_arg(c, "-i"); cmd_arg(c, u[0]);
    cmd_arg(c, "--next"); cmd_arg(c, "-I"); cmd_arg(c, u[1]);
    cmd_arg(c, "--next"); cmd_arg(c, "-i"); cmd_arg(c, "--data-binary"); cmd_arg(c, "hello"); cmd_arg(c, u[2]);
    cmd_arg(c, "--next"); cmd_arg(c, "-i"); cmd_arg(c, "-X"); cmd_arg(c, "PUT");
    cmd_arg(c, "--data-binary"); cmd_arg(c, "abc"); cmd_arg(c, u[3]);
    cmd_arg(c, "--next"); cmd_arg(c, "-i"); cmd_arg(c, "-X"); cmd_arg(c, "DELETE"); cmd_arg(c, u[4]);
    cmd_arg(c, "--next"); cmd_arg(c, "-i"); cmd_arg(c, "-X"); cmd_arg(c, "OPTIONS"); cmd_arg(c, u[5]);
    cmd_run(c);
    CK_CMD(c);
    char want[256];
    CKSUB(c->out, info(want, sizeof want, "GET", "/get", "x=1", 0, -1));
    CKSUB(c->out, info(want, sizeof want, "POST", "/post", "", 5, 5));
    CKSUB(c->out, info(want, sizeof want, "PUT", "/put", "", 3, 3));
    CKSUB(c->out, info(want, sizeof want, "DELETE", "/del", "", 0, -1));
    CKSUB(c->out, info(want, sizeof want, "OPTIONS", "/opt", "", 0, -1));
    int n200 = 0;
    for (const char *p = c->out; (p = strstr(p, "HTTP/1.1 200 OK\r\n")) != NULL; p++) n200++;
    CKI(6, n200);
    CK(strstr(c->out, "HEAD /head") == NULL);   /* HEAD: no body */
    CKI(6, ALOAD(&g_calls));
    free(c);
    CKI(0, srv_stop(&t, 0));
}
TEST curl_methods(void) {
    NEED_CURL();
    return run_body(1, b_curl_methods, NULL);
}

/* A handler that writes nothing: an empty 200 with Content-Length: 0, a Date,
 * no Content-Type; the connection stays open, even with an unread body.      */
static void b_empty(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_nothing, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        for (int i = 0; i < 2; i++) {
            CKI(0, cl_get(k, r, "/"));
            CKS("HTTP/1.1 200 OK", r->status_line);
            CKS("0", hdr(r, "Content-Length"));
            CKI(0, r->blen);
            CK(hdr(r, "Content-Type") == NULL);
            CK(hdr(r, "Transfer-Encoding") == NULL);
            CK(hdr(r, "Date") != NULL);
            CK(hdr(r, "Connection") == NULL);
        }
        CKI(0, roundtrip(k, r, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789", 0));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CKS("0", hdr(r, "Content-Length"));
        CKI(0, cl_get(k, r, "/again"));
        CKI(200, r->status);
        CKI(1, gn_http_server_conns(t.s));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST empty_handler_200(void) { return run_body(1, b_empty, NULL); }

/* Date: "Sun, 06 Nov 1994 08:49:37 GMT", now; one handler's own Date wins.   */
static void h_date(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    if (strcmp(gn_http_path(r), "/own") == 0) CKI(0, gn_http_set_header(w, "Date", "Mon, 01 Jan 2001 00:00:00 GMT"));
    gn_http_write_string(w, "x");
}
static int date_shape_ok(const char *d) {
    /* "Ddd, DD Mmm YYYY HH:MM:SS GMT" */
    static const char shape[] = "Aaa, 00 Aaa 0000 00:00:00 GMT";
    if (!d || strlen(d) != sizeof shape - 1) return 0;
    for (size_t i = 0; shape[i]; i++) {
        char s = shape[i], c = d[i];
        if (s == '0' ? !isdigit((unsigned char)c) : s == 'A' ? !isupper((unsigned char)c)
            : s == 'a' ? !islower((unsigned char)c) : c != s)
            return 0;
    }
    return 1;
}
static void b_date(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_date, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKI(0, cl_get(k, r, "/"));
        const char *d = hdr(r, "Date");
        CKF(date_shape_ok(d), "Date \"%s\" is not an IMF-fixdate", d ? d : "(none)");
        CKI(1, hdr_count(r, "Date"));
#ifdef _WIN32   /* no strptime or timegm: the file server's date parser */
        int64_t secs = 0;
        int parsed = d && gn__fs_parse_date(d, &secs);
        CKF(parsed, "Date \"%s\" does not parse", d ? d : "(none)");
        if (parsed) {
            long diff = (long)(secs - (int64_t)time(NULL));
            CKF(diff >= -5 && diff <= 5, "Date is %ld s away from now", diff);
        }
#else
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = d ? strptime(d, "%a, %d %b %Y %H:%M:%S GMT", &tm) : NULL;
        CKF(end && *end == 0, "Date \"%s\" does not parse", d ? d : "(none)");
        if (end) {
            long diff = (long)(timegm(&tm) - time(NULL));
            CKF(diff >= -5 && diff <= 5, "Date is %ld s away from now", diff);
        }
#endif
        CKI(0, cl_get(k, r, "/own"));
        CKI(1, hdr_count(r, "Date"));
        CKS("Mon, 01 Jan 2001 00:00:00 GMT", hdr(r, "Date"));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST date_header(void) { return run_body(1, b_date, NULL); }

/* Content-Type sniffed from the first bytes when the handler did not set it.  */
static void h_sniff(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    const char *p = gn_http_path(r);
    if (strcmp(p, "/html") == 0) {
        gn_http_write_string(w, "<!DOCTYPE html><html><body>hi</body></html>");
    } else if (strcmp(p, "/html2") == 0) {
        gn_http_write_string(w, "  \n<html><head><title>t</title></head></html>");
    } else if (strcmp(p, "/json") == 0) {
        gn_http_write_string(w, "{\"a\": [1, 2, 3]}");
    } else if (strcmp(p, "/jsonarr") == 0) {
        gn_http_write_string(w, "[1,2]");
    } else if (strcmp(p, "/text") == 0) {
        gn_http_write_string(w, "hello, world\n");
    } else if (strcmp(p, "/bin") == 0) {
        gn_http_write(w, "\x00\x01\x02\x03 binary", 11);
    } else if (strcmp(p, "/set") == 0) {
        CKI(0, gn_http_set_header(w, "Content-Type", "text/csv"));
        gn_http_write_string(w, "<html>a,b\n");
    } else if (strcmp(p, "/bightml") == 0) {   /* streamed: sniffed from the first buffer */
        char *b = (char *)malloc(20000);
        memset(b, 'x', 20000);
        memcpy(b, "<html><body>", 12);
        gn_http_write(w, b, 20000);
        free(b);
    }
}
static void b_sniff(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sniff, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    static const struct { const char *path, *type; } cases[] = {
        {"/html", "text/html; charset=utf-8"},
        {"/html2", "text/html; charset=utf-8"},
        {"/json", "application/json"},
        {"/jsonarr", "application/json"},
        {"/text", "text/plain; charset=utf-8"},
        {"/bin", "application/octet-stream"},
        {"/set", "text/csv"},
        {"/bightml", "text/html; charset=utf-8"},
        {"/empty", NULL},
    };
    for (size_t i = 0; k && i < sizeof cases / sizeof cases[0]; i++) {
        CKI(0, cl_get(k, r, cases[i].path));
        CKI(200, r->status);
        const char *ct = hdr(r, "Content-Type");
        if (cases[i].type) CKF(ct && strcmp(ct, cases[i].type) == 0, "%s: Content-Type \"%s\", expected \"%s\"",
                               cases[i].path, ct ? ct : "(none)", cases[i].type);
        else CKF(ct == NULL, "%s: Content-Type \"%s\" on an empty body", cases[i].path, ct);
        CKI(1 >= hdr_count(r, "Content-Type"), 1);
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST content_type_sniffing(void) { return run_body(1, b_sniff, NULL); }

/* HEAD gets the headers GET gets (Content-Length included) and no body: the
 * next response on the connection starts right after the head.              */
static void h_head(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    const char *p = gn_http_path(r);
    if (strcmp(p, "/small") == 0) {
        gn_http_set_header(w, "X-Kind", "small");
        gn_http_write_string(w, "<p>hello world</p>\n");
    } else if (strcmp(p, "/big") == 0) {
        char *b = (char *)malloc(10000);
        memset(b, 'b', 10000);
        gn_http_write(w, b, 10000);
        free(b);
    } else if (strcmp(p, "/declared") == 0) {   /* HEAD with a declared length, no writes */
        CKI(0, gn_http_set_header(w, "Content-Length", "1234"));
    } else {
        gn_http_write_string(w, "next");
    }
}
static void b_head(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_head, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *g = resp_new(), *h = resp_new();
    if (k) {
        CKI(0, roundtrip(k, g, "GET /small HTTP/1.1\r\nHost: t\r\n\r\n", 0));
        CKI(0, roundtrip(k, h, "HEAD /small HTTP/1.1\r\nHost: t\r\n\r\n", 1));
        CKS(g->status_line, h->status_line);
        CKS("19", hdr(h, "Content-Length"));
        CKI(19, g->blen);
        /* the same fields in the same order, Date aside */
        char gl[512] = "", hl[512] = "";
        for (int i = 0; i < g->nh; i++) snprintf(gl + strlen(gl), sizeof gl - strlen(gl), "%s|", g->name[i]);
        for (int i = 0; i < h->nh; i++) snprintf(hl + strlen(hl), sizeof hl - strlen(hl), "%s|", h->name[i]);
        CKF(g->nh == h->nh, "GET has fields %s, HEAD has %s", gl, hl);
        for (int i = 0; i < g->nh && i < h->nh; i++) {
            CKS(g->name[i], h->name[i]);
            if (strcasecmp(g->name[i], "Date") != 0)
                CKF(strcmp(g->value[i], h->value[i]) == 0, "%s: GET \"%s\", HEAD \"%s\"", g->name[i], g->value[i],
                    h->value[i]);
        }
        CKI(0, cl_get(k, g, "/next"));   /* no stray body bytes after the HEAD */
        CKS("HTTP/1.1 200 OK", g->status_line);
        CKS("next", body_str(g));

        CKI(0, roundtrip(k, g, "GET /big HTTP/1.1\r\nHost: t\r\n\r\n", 0));
        CKI(10000, g->blen);
        CKI(0, roundtrip(k, h, "HEAD /big HTTP/1.1\r\nHost: t\r\n\r\n", 1));
        CKI(200, h->status);
        CKI(0, cl_get(k, g, "/next"));
        CKS("HTTP/1.1 200 OK", g->status_line);
        CKS("next", body_str(g));

        CKI(0, roundtrip(k, h, "HEAD /declared HTTP/1.1\r\nHost: t\r\n\r\n", 1));
        CKS("1234", hdr(h, "Content-Length"));
        CKI(0, cl_get(k, g, "/next"));
        CKS("next", body_str(g));
        CKI(1, gn_http_server_conns(t.s));
    }
    resp_free(g);
    resp_free(h);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST head_like_get(void) { return run_body(1, b_head, NULL); }

SUITE(basics) {
    RUN_TEST(methods_basic);
    RUN_TEST(curl_methods);
    RUN_TEST(empty_handler_200);
    RUN_TEST(date_header);
    RUN_TEST(content_type_sniffing);
    RUN_TEST(head_like_get);
}


/* ==== connections: keep-alive, HTTP/1.0, Connection: close ================================ */

/* The client's address as the server sees it.                                  */
static void h_remote(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    AADD(&g_calls, 1);
    if (strcmp(gn_http_path(r), "/close") == 0) CKI(0, gn_http_set_header(w, "Connection", "close"));
    if (strcmp(gn_http_path(r), "/big") == 0) {
        char *b = (char *)malloc(30000);
        fill_pat((unsigned char *)b, 30000, 0, 5);
        gn_http_write(w, b, 30000);
        free(b);
        return;
    }
    gn_http_write_string(w, gn_http_remote_addr(r));
}

/* Ten requests on one connection: one remote address, one connection.         */
static void b_keep_alive(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_remote, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    char first[80] = "", local[80] = "";
    if (k) {
        CK(gn_local_addr(k->c, local, sizeof local) > 0);
        for (int i = 0; i < 10; i++) {
            CKI(0, cl_get(k, r, "/"));
            CKI(200, r->status);
            CK(hdr(r, "Connection") == NULL);
            if (i == 0) snprintf(first, sizeof first, "%s", body_str(r));
            CKS(first, body_str(r));
            CKI(1, gn_http_server_conns(t.s));
        }
        CKS(local, first);
    }
    resp_free(r);
    cl_close(k);
    CKI(0, conns_reach(&t, 0, 2000));
    CKI(0, srv_stop(&t, 0));
}
TEST keep_alive_reuse(void) { return run_body(1, b_keep_alive, NULL); }

/* curl with two URLs says it re-used its connection, and the server saw one.  */
static void b_curl_keep_alive(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_remote, NULL);
    if (srv_start(&t, &o)) return;
    char u1[128], u2[128], u3[128];
    snprintf(u1, sizeof u1, "http://%s/a", t.addr);
    snprintf(u2, sizeof u2, "http://%s/b", t.addr);
    snprintf(u3, sizeof u3, "http://%s/c", t.addr);
    cmd *c = curl_new(30000);
    cmd_arg(c, "-v");
    cmd_arg(c, "-w");
    cmd_arg(c, "|");
    cmd_arg(c, u1);
    cmd_arg(c, u2);
    cmd_arg(c, u3);
    cmd_run(c);
    CK_CMD(c);
    CKSUB(c->err, "Re-using existing connection");
    /* three bodies, each the same client address */
    char *a = c->out, *b = strchr(a, '|');
    CKF(b && strchr(b + 1, '|'), "curl output \"%s\"", c->out);
    if (b) {
        *b = 0;
        CKF(strncmp(a, "127.0.0.1:", 10) == 0, "remote address \"%s\"", a);
        CK(strncmp(b + 1, a, strlen(a)) == 0);
    }
    free(c);
    CKI(0, srv_stop(&t, 0));
}
TEST curl_reuses_connection(void) {
    NEED_CURL();
    return run_body(1, b_curl_keep_alive, NULL);
}

/* HTTP/1.0 without keep-alive: one response, then the server closes.          */
static void b_http10_close(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_remote, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKI(0, roundtrip(k, r, "GET / HTTP/1.0\r\n\r\n", 0));
        CKI(200, r->status);
        CK(r->clen >= 0);
        CK(hdr(r, "Transfer-Encoding") == NULL);
        CKF(hdr(r, "Connection") == NULL || strcasecmp(hdr(r, "Connection"), "close") == 0, "Connection: %s",
            hdr(r, "Connection"));
        CKF(strncmp(body_str(r), "127.0.0.1:", 10) == 0, "body \"%s\"", body_str(r));
        int64_t c = cl_wait_close(k, 3000);
        CKF(is_closed(c), "HTTP/1.0 connection not closed: %lld (%s)", (long long)c, gn_strerror((int)c));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST http10_closes(void) { return run_body(1, b_http10_close, NULL); }

/* HTTP/1.0 with "Connection: keep-alive": the response says keep-alive and the
 * connection serves the next request; a streamed 1.0 response (no chunked
 * coding in 1.0) is delimited by the close.                                   */
static void b_http10_keep_alive(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_remote, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        for (int i = 0; i < 3; i++) {
            CKI(0, roundtrip(k, r, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0));
            CKI(200, r->status);
            CKF(hdr(r, "Connection") && strcasecmp(hdr(r, "Connection"), "keep-alive") == 0,
                "HTTP/1.0 keep-alive answered with Connection: %s", hdr(r, "Connection"));
            CK(r->clen >= 0);
            CK(!r->chunked);
        }
        CKI(1, gn_http_server_conns(t.s));
        CKI(0, roundtrip(k, r, "GET /big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0));
        CKI(200, r->status);
        CK(!r->chunked);
        if (r->clen < 0) CK(r->closed);
        CKI(30000, r->blen);
        CKI(-1, check_pat((const unsigned char *)body_str(r), r->blen, 0, 5));
        if (r->clen < 0) CKS("close", hdr(r, "Connection"));
        if (r->clen < 0) {
            CKI(GN_EOF, cl_wait_close(k, 3000));
        } else {
            CKI(0, roundtrip(k, r, "GET / HTTP/1.0\r\n\r\n", 0));
            CKI(200, r->status);
            CK(is_closed(cl_wait_close(k, 3000)));
        }
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST http10_keep_alive(void) { return run_body(1, b_http10_keep_alive, NULL); }

/* "Connection: close" from the client, or set by the handler: said, then done. */
static void b_conn_close(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_remote, NULL);
    if (srv_start(&t, &o)) return;
    resp *r = resp_new();
    cl *k = cl_dial(t.addr);
    if (k) {
        CKI(0, roundtrip(k, r, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 0));
        CKI(200, r->status);
        CKS("close", hdr(r, "Connection"));
        CKI(1, hdr_count(r, "Connection"));
        CK(is_closed(cl_wait_close(k, 3000)));
    }
    cl_close(k);
    k = cl_dial(t.addr);
    if (k) {   /* a list with close in it */
        CKI(0, roundtrip(k, r, "GET / HTTP/1.1\r\nHost: t\r\nConnection: foo, CLOSE\r\n\r\n", 0));
        CKS("close", hdr(r, "Connection"));
        CK(is_closed(cl_wait_close(k, 3000)));
    }
    cl_close(k);
    k = cl_dial(t.addr);
    if (k) {
        CKI(0, cl_get(k, r, "/close"));
        CKI(200, r->status);
        CKI(1, hdr_count(r, "Connection"));
        CKS("close", hdr(r, "Connection"));
        CK(is_closed(cl_wait_close(k, 3000)));
    }
    cl_close(k);
    resp_free(r);
    CKI(0, srv_stop(&t, 0));
}
TEST connection_close_honoured(void) { return run_body(1, b_conn_close, NULL); }

/* ==== pipelining ============================================================================ */
/* "/<i>" answers "<i>:" and the request body; "/<i>/big" adds 6000 bytes (so
 * the response streams, chunked).                                             */
static void h_pipe(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    AADD(&g_calls, 1);
    char out[256];
    int n = snprintf(out, sizeof out, "%d:", atoi(gn_http_path(r) + 1));
    char body[128];
    int64_t got, m = 0;
    while ((got = gn_http_body_read(r, body + m, sizeof body - 1 - (size_t)m)) > 0) m += got;
    CKI(GN_EOF, got);
    memcpy(out + n, body, (size_t)m);
    gn_http_write(w, out, (size_t)n + (size_t)m);
    if (strstr(gn_http_path(r), "/big")) {
        char *b = (char *)malloc(6000);
        memset(b, 'z', 6000);
        gn_http_write(w, b, 6000);
        free(b);
    }
}
static void b_pipeline(void *arg) {
    (void)arg;
    ASTORE(&g_calls, 0);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_pipe, NULL);
    if (srv_start(&t, &o)) return;
    enum { N = 100 };
    char *all = (char *)malloc(N * 160);
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        switch (i % 10) {
        case 3:
            len += (size_t)sprintf(all + len, "POST /%d HTTP/1.1\r\nHost: p\r\nContent-Length: %d\r\n\r\nbody-%d", i,
                                   snprintf(NULL, 0, "body-%d", i), i);
            break;
        case 5: len += (size_t)sprintf(all + len, "HEAD /%d HTTP/1.1\r\nHost: p\r\n\r\n", i); break;
        case 7: len += (size_t)sprintf(all + len, "GET /%d/big HTTP/1.1\r\nHost: p\r\n\r\n", i); break;
        case 9:
            len += (size_t)sprintf(all + len, "POST /%d HTTP/1.1\r\nHost: p\r\nTransfer-Encoding: chunked\r\n\r\n"
                                              "2\r\nab\r\n1;x=y\r\nc\r\n0\r\n\r\n", i);
            break;
        default: len += (size_t)sprintf(all + len, "GET /%d HTTP/1.1\r\nHost: p\r\n\r\n", i); break;
        }
    }
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKR(cl_send(k, all, len));   /* one write */
        for (int i = 0; i < N; i++) {
            int head = i % 10 == 5;
            int rc = cl_response(k, r, head);
            if (!CKF(rc == 0, "response %d: %d (%s)", i, rc, gn_strerror(rc))) break;
            CKI(200, r->status);
            char want[64];
            if (i % 10 == 3) snprintf(want, sizeof want, "%d:body-%d", i, i);
            else if (i % 10 == 9) snprintf(want, sizeof want, "%d:abc", i);
            else snprintf(want, sizeof want, "%d:", i);
            if (head) {
                CKI(strlen(want), r->clen);
            } else if (i % 10 == 7) {
                CK(r->chunked);
                CKI(strlen(want) + 6000, r->blen);
                CKF(strncmp(body_str(r), want, strlen(want)) == 0, "response %d: \"%.20s\"", i, body_str(r));
            } else {
                CKF(strcmp(body_str(r), want) == 0, "response %d: \"%s\", expected \"%s\"", i, body_str(r), want);
            }
        }
        CKI(N, ALOAD(&g_calls));
        CKI(1, gn_http_server_conns(t.s));
        CKI(0, cl_get(k, r, "/1000"));
        CKS("1000:", body_str(r));
    }
    free(all);
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST pipeline_100(void) { return run_body(1, b_pipeline, NULL); }

/* 1000 small requests in one write, far more than the read buffer holds: the
 * server works through them in order, refilling and compacting its buffer.  */
static void b_pipeline_1000(void *arg) {
    (void)arg;
    ASTORE(&g_calls, 0);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_pipe, NULL);
    if (srv_start(&t, &o)) return;
    int n = (int)scaled(1000);
    char *all = (char *)malloc((size_t)n * 48);
    size_t len = 0;
    for (int i = 0; i < n; i++) len += (size_t)sprintf(all + len, "GET /%d HTTP/1.1\r\nHost: p\r\n\r\n", i);
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKR(cl_send(k, all, len));
        for (int i = 0; i < n; i++) {
            int rc = cl_response(k, r, 0);
            if (!CKF(rc == 0, "response %d of %d: %d (%s)", i, n, rc, gn_strerror(rc))) break;
            char want[32];
            snprintf(want, sizeof want, "%d:", i);
            if (!CKF(r->status == 200 && strcmp(body_str(r), want) == 0, "response %d: %d \"%s\"", i, r->status,
                     body_str(r)))
                break;
        }
        CKI(n, ALOAD(&g_calls));
        CKI(1, gn_http_server_conns(t.s));
    }
    free(all);
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST pipeline_1000_over_buffer(void) { return run_body(1, b_pipeline_1000, NULL); }

/* "Connection: close" in the middle of a pipeline: the responses up to it come,
 * then the close; what follows is never served.                              */
static void b_pipeline_close(void *arg) {
    (void)arg;
    ASTORE(&g_calls, 0);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_pipe, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKR(cl_sends(k, "GET /1 HTTP/1.1\r\nHost: p\r\n\r\nGET /2 HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n"
                        "GET /3 HTTP/1.1\r\nHost: p\r\n\r\n"));
        CKI(0, cl_response(k, r, 0));
        CKS("1:", body_str(r));
        CK(hdr(r, "Connection") == NULL);
        CKI(0, cl_response(k, r, 0));
        CKS("2:", body_str(r));
        CKS("close", hdr(r, "Connection"));
        CK(is_closed(cl_wait_close(k, 3000)));
        CKI(2, ALOAD(&g_calls));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST pipeline_stops_at_connection_close(void) { return run_body(1, b_pipeline_close, NULL); }

/* ==== request bodies ============================================================================ */

/* Sends a chunked body of pattern `seed` in chunks of the given sizes, some with
 * extensions, then the last chunk with trailers. Total bytes, or an error.   */
static int64_t send_chunked(cl *k, uint32_t seed, const size_t *sizes, int n, const char *trailers) {
    uint64_t pos = 0;
    char line[128];
    for (int i = 0; i < n; i++) {
        size_t m = sizes[i];
        if (i % 3 == 1) snprintf(line, sizeof line, "%zx;name=value ; q=\"a \\\"quoted\\\" one\"\r\n", m);
        else if (i % 3 == 2) snprintf(line, sizeof line, "%zX;flag\r\n", m);
        else snprintf(line, sizeof line, "%zx\r\n", m);
        unsigned char *b = (unsigned char *)malloc(m + 2);
        fill_pat(b, m, pos, seed);
        memcpy(b + m, "\r\n", 2);
        int64_t w = cl_sends(k, line);
        if (w > 0) w = cl_send(k, b, m + 2);
        free(b);
        if (w < 0) return w;
        pos += m;
    }
    snprintf(line, sizeof line, "0;last=1\r\n%s\r\n", trailers ? trailers : "");
    int64_t w = cl_sends(k, line);
    return w < 0 ? w : (int64_t)pos;
}

/* A Content-Length body read by the handler in odd sizes, and checked.        */
static void b_body_length(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    char want[256], head[256];
    static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 65536, 1 << 20, 3000001};
    for (size_t i = 0; k && i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        unsigned char *b = (unsigned char *)malloc(n + 1);
        fill_pat(b, n, 0, 17);
        snprintf(head, sizeof head, "POST /len HTTP/1.1\r\nHost: t\r\nX-Seed: 17\r\nContent-Length: %zu\r\n\r\n", n);
        CKR(cl_sends(k, head));
        if (n) CKR(cl_send(k, b, n));
        free(b);
        CKI(0, cl_response(k, r, 0));
        CKI(200, r->status);
        CKS(info(want, sizeof want, "POST", "/len", "", (long long)n, (long long)n), body_str(r));
    }
    if (k) CKI(1, gn_http_server_conns(t.s));
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST body_content_length(void) { return run_body(1, b_body_length, NULL); }

/* A chunked body with extensions and trailers; the connection goes on after. */
static void b_body_chunked(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    char want[256];
    static const size_t sizes[] = {1, 10, 4096, 65536, 100000, 3, 70000, 5000, 1, 2, 60000};
    for (int round = 0; k && round < 2; round++) {
        CKR(cl_sends(k, "POST /chunked HTTP/1.1\r\nHost: t\r\nX-Seed: 23\r\nTransfer-Encoding: chunked\r\n\r\n"));
        int64_t total = send_chunked(k, 23, sizes, 11, round ? "X-Trailer: yes\r\nX-Other:  2 \r\n" : NULL);
        CK(total > 0);
        CKI(0, cl_response(k, r, 0));
        CKI(200, r->status);
        CKS(info(want, sizeof want, "POST", "/chunked", "", total, -1), body_str(r));
    }
    if (k) {
        CKI(0, cl_get(k, r, "/after"));
        CKS(info(want, sizeof want, "GET", "/after", "", 0, -1), body_str(r));
        CKI(1, gn_http_server_conns(t.s));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST body_chunked_ext_trailers(void) { return run_body(1, b_body_chunked, NULL); }

/* A head and a chunked body that arrive a few bytes at a time, split at every
 * kind of place (inside sizes, extensions, CRLFs, data, trailers).           */
static void b_body_trickled(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    if (srv_start(&t, &o)) return;
    static const char req[] =
        "POST /trickle?a=b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nX-Long-Header: abcdefghijklmnop\r\n\r\n"
        "5;ext=\"q;\\\"x\"\r\nhello\r\n1\r\n \r\nA ; e = v\r\n0123456789\r\n0\r\nX-T: 1\r\nY-T:  two words \r\n\r\n"
        "GET /next HTTP/1.1\r\nHost: t\r\n\r\n";
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    char want[256];
    if (k) {
        size_t n = sizeof req - 1;
        for (size_t i = 0; i < n;) {
            size_t m = 1 + i % 3;
            if (m > n - i) m = n - i;
            if (!CKR(cl_send(k, req + i, m))) break;
            i += m;
            gn_sleep(MS);
        }
        CKI(0, cl_response(k, r, 0));
        CKS(info(want, sizeof want, "POST", "/trickle", "a=b", 16, -1), body_str(r));
        CKI(0, cl_response(k, r, 0));
        CKS(info(want, sizeof want, "GET", "/next", "", 0, -1), body_str(r));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST body_chunked_trickled(void) { return run_body(1, b_body_trickled, NULL); }

/* A head just inside max_header_bytes is served; just over it, 431.          */
static void b_head_limit(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    o.max_header_bytes = 1024;
    if (srv_start(&t, &o)) return;
    resp *r = resp_new();
    char *req = (char *)malloc(4096);
    for (int over = 0; over < 2; over++) {
        size_t target = over ? 1100 : 1000;   /* whole head, blank line included */
        size_t n = (size_t)sprintf(req, "GET /lim HTTP/1.1\r\nHost: t\r\nX-Fill: ");
        size_t fill = target - n - 4;
        memset(req + n, 'f', fill);
        memcpy(req + n + fill, "\r\n\r\n", 5);
        CKI(target, strlen(req));
        cl *k = cl_dial(t.addr);
        if (!k) break;
        CKI(0, roundtrip(k, r, req, 0));
        CKI(over ? 431 : 200, r->status);
        cl_close(k);
    }
    free(req);
    resp_free(r);
    CKI(0, srv_stop(&t, 0));
}
TEST header_block_at_limit(void) { return run_body(1, b_head_limit, NULL); }

/* A small body the handler does not read is drained: the connection goes on. */
static void b_unread_small(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_nothing, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        size_t n = 100000;
        char *b = (char *)malloc(n);
        memset(b, 'q', n);
        char head[256];
        snprintf(head, sizeof head, "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", n);
        CKR(cl_sends(k, head));
        CKR(cl_send(k, b, n));
        CKI(0, cl_response(k, r, 0));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CK(hdr(r, "Connection") == NULL);
        static const size_t sizes[] = {1000, 20000, 7};
        CKR(cl_sends(k, "POST /b HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
        CK(send_chunked(k, 1, sizes, 3, "X-T: 1\r\n") > 0);
        CKI(0, cl_response(k, r, 0));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CK(hdr(r, "Connection") == NULL);
        CKI(0, cl_get(k, r, "/c"));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CKI(1, gn_http_server_conns(t.s));
        free(b);
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST body_unread_small_drained(void) { return run_body(1, b_unread_small, NULL); }

/* A large body the handler does not read: the response comes whole, says
 * Connection: close, and the server closes (rather than read 8 MB for nothing). */
typedef struct bigw { cl *k; size_t n; int64_t rc; uint64_t sent; } bigw;
static void bigw_co(void *arg) {
    bigw *b = (bigw *)arg;
    char *buf = (char *)malloc(65536);
    memset(buf, 'u', 65536);
    b->rc = 0;
    while (b->sent < b->n) {
        size_t m = b->n - b->sent < 65536 ? (size_t)(b->n - b->sent) : 65536;
        int64_t w = cl_send(b->k, buf, m);
        if (w < 0) {
            b->rc = w;
            break;
        }
        b->sent += m;
    }
    free(buf);
}
static void b_unread_large(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_nothing, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        bigw b = {k, 8u << 20, 0, 0};
        char head[256];
        snprintf(head, sizeof head, "POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", b.n);
        CKR(cl_sends(k, head));
        spawn(bigw_co, &b);
        int rc = cl_response(k, r, 0);
        CKF(rc == 0, "reading the response: %d (%s)", rc, gn_strerror(rc));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CKS("close", hdr(r, "Connection"));
        int64_t c = cl_wait_close(k, 5000);
        CKF(is_closed(c), "not closed after a large unread body: %lld", (long long)c);
        join_all();
        CKF(b.sent < b.n, "the server read all %zu bytes of an unread body", b.n);
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST body_unread_large_closes(void) { return run_body(1, b_unread_large, NULL); }

/* Expect: 100-continue: the 100 comes before the client sends the body, and
 * only if the handler reads; a handler that does not read gets its response
 * out with no 100 and the connection closes (the body was never sent).      */
static void b_expect_raw(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    char want[256];
    if (k) {
        CKR(cl_sends(k, "POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n"));
        k->rto = 3 * GN_SECOND;
        CKI(0, cl_response(k, r, 0));
        CKS("HTTP/1.1 100 Continue", r->status_line);
        CKI(0, r->nh);
        CKR(cl_sends(k, "hello world"));
        CKI(0, cl_response(k, r, 0));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CKS(info(want, sizeof want, "POST", "/e", "", 11, 11), body_str(r));
        CK(hdr(r, "Connection") == NULL);
        /* the same connection again, chunked this time */
        CKR(cl_sends(k, "PUT /e2 HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"));
        CKI(0, cl_response(k, r, 0));
        CKS("HTTP/1.1 100 Continue", r->status_line);
        CKR(cl_sends(k, "3\r\nabc\r\n0\r\n\r\n"));
        CKI(0, cl_response(k, r, 0));
        CKS(info(want, sizeof want, "PUT", "/e2", "", 3, -1), body_str(r));
        /* a handler that does not read */
        CKR(cl_sends(k, "POST /noread HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n"));
        CKI(0, cl_response(k, r, 0));
        CKS("HTTP/1.1 200 OK", r->status_line);
        CKS(info(want, sizeof want, "POST", "/noread", "", 0, 11), body_str(r));
        CKS("close", hdr(r, "Connection"));
        CK(is_closed(cl_wait_close(k, 3000)));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST expect_continue_raw(void) { return run_body(1, b_expect_raw, NULL); }

/* A client that sends the body right behind an Expect: 100-continue head
 * (curl does after a second): it may get a 100 first, then the response, and
 * the connection stays in step.                                               */
static void b_expect_anyway(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    char want[256];
    if (k) {
        for (int i = 0; i < 3; i++) {
            CKR(cl_sends(k, "POST /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello"));
            CKI(0, cl_response(k, r, 0));
            if (r->status == 100) CKI(0, cl_response(k, r, 0));
            CKI(200, r->status);
            CKS(info(want, sizeof want, "POST", "/e", "", 5, 5), body_str(r));
            CK(hdr(r, "Connection") == NULL);
        }
        CKI(0, cl_get(k, r, "/after"));
        CKS(info(want, sizeof want, "GET", "/after", "", 0, -1), body_str(r));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST expect_continue_body_sent_anyway(void) { return run_body(1, b_expect_anyway, NULL); }

/* curl -H 'Expect: 100-continue' --data-binary @- : curl waits for the 100. */
static void b_expect_curl(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    if (srv_start(&t, &o)) return;
    char u[128];
    snprintf(u, sizeof u, "http://%s/upload", t.addr);
    patgen g = {0, 200000, 31};
    cmd *c = curl_new(30000);
    cmd_arg(c, "-v");
    cmd_arg(c, "-H");
    cmd_arg(c, "Expect: 100-continue");
    cmd_arg(c, "-H");
    cmd_arg(c, "X-Seed: 31");
    cmd_arg(c, "--expect100-timeout");
    cmd_arg(c, "20");
    cmd_arg(c, "--data-binary");
    cmd_arg(c, "@-");
    cmd_arg(c, u);
    c->gen = patgen_fn;
    c->gen_arg = &g;
    cmd_run(c);
    CK_CMD(c);
    CKSUB(c->err, "< HTTP/1.1 100 Continue");
    CKSUB(c->err, "< HTTP/1.1 200 OK");
    char want[256];
    CKS(info(want, sizeof want, "POST", "/upload", "", 200000, 200000), c->out);
    free(c);
    CKI(0, srv_stop(&t, 0));
}
TEST expect_continue_curl(void) {
    NEED_CURL();
    return run_body(1, b_expect_curl, NULL);
}

/* Content-Length over max_body_bytes: 413 and close, the handler never runs;
 * at the limit it is served.                                                   */
static void b_413(void *arg) {
    (void)arg;
    ASTORE(&g_calls, 0);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    o.max_body_bytes = 1000;
    if (srv_start(&t, &o)) return;
    resp *r = resp_new();
    char want[256];
    char *b = (char *)malloc(1001);
    memset(b, 'x', 1001);
    cl *k = cl_dial(t.addr);
    if (k) {
        CKR(cl_sends(k, "POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: 1001\r\n\r\n"));
        CKR(cl_send(k, b, 1001));
        CKI(0, cl_response(k, r, 0));
        CKI(413, r->status);
        CKS("close", hdr(r, "Connection"));
        CK(is_closed(cl_wait_close(k, 3000)));
    }
    cl_close(k);
    k = cl_dial(t.addr);
    if (k) {   /* with Expect: the 413 instead of a 100, before any body */
        CKR(cl_sends(k, "POST /big HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n"));
        CKI(0, cl_response(k, r, 0));
        CKI(413, r->status);
        CKS("close", hdr(r, "Connection"));
        CK(is_closed(cl_wait_close(k, 3000)));
    }
    cl_close(k);
    CKI(0, ALOAD(&g_calls));
    k = cl_dial(t.addr);
    if (k) {
        CKR(cl_sends(k, "POST /ok HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"));
        CKR(cl_send(k, b, 1000));
        CKI(0, cl_response(k, r, 0));
        CKI(200, r->status);
        CKS(info(want, sizeof want, "POST", "/ok", "", 1000, 1000), body_str(r));
    }
    cl_close(k);
    free(b);
    resp_free(r);
    CKI(0, srv_stop(&t, 0));
}
TEST body_413_over_limit(void) { return run_body(1, b_413, NULL); }

/* A chunked body over max_body_bytes: gn_http_body_read says GN_ETOOLARGE and
 * the connection closes after the response.                                   */
static void b_chunked_limit(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    o.max_body_bytes = 1000;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        static const size_t sizes[] = {500, 500, 500, 500, 500, 500};
        CKR(cl_sends(k, "POST /c HTTP/1.1\r\nHost: t\r\nX-Seed: 2\r\nTransfer-Encoding: chunked\r\n\r\n"));
        CK(send_chunked(k, 2, sizes, 6, NULL) == 3000);
        CKI(0, cl_response(k, r, 0));
        CKI(200, r->status);
        long long n = -1, bad = 0, err = 0, cln = 0;
        CKI(4, sscanf(body_str(r), "POST /c q= n=%lld bad=%lld err=%lld cl=%lld", &n, &bad, &err, &cln));
        CKI(GN_ETOOLARGE, err);
        CKF(n >= 0 && n <= 1000, "the handler got %lld bytes past a limit of 1000", n);
        CKI(-1, bad);
        CKS("close", hdr(r, "Connection"));
        CK(is_closed(cl_wait_close(k, 3000)));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST body_chunked_over_limit(void) { return run_body(1, b_chunked_limit, NULL); }

/* ==== large bodies ================================================================================ */
#define BIG_BYTES ((int64_t)100 * 1000 * 1000)
#define RSS_SLACK_KIB (20 * 1024)

/* A 100 MB upload with a Content-Length from a raw client, checked byte by byte
 * by the handler, while the process's RSS grows by less than 20 MB.           */
static void b_upload_raw(void *arg) {
    (void)arg;
    int64_t size = scaled(BIG_BYTES);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    o.max_body_bytes = -1;
    if (srv_start(&t, &o)) return;
    resp *r = resp_new();
    CKI(0, get_once(t.addr, "/warm", r));
    long rss0 = rss_kib();
    cl *k = cl_dial(t.addr);
    char want[256];
    if (k) {
        char head[256];
        snprintf(head, sizeof head, "PUT /up HTTP/1.1\r\nHost: t\r\nX-Seed: 11\r\nContent-Length: %lld\r\n\r\n",
                 (long long)size);
        CKR(cl_sends(k, head));
        unsigned char *b = (unsigned char *)malloc(65536);
        for (int64_t pos = 0; pos < size;) {
            size_t m = size - pos < 65536 ? (size_t)(size - pos) : 65536;
            fill_pat(b, m, (uint64_t)pos, 11);
            if (!CKR(cl_send(k, b, m))) break;
            pos += (int64_t)m;
        }
        free(b);
        CKI(0, cl_response(k, r, 0));
        CKI(200, r->status);
        CKS(info(want, sizeof want, "PUT", "/up", "", (long long)size, (long long)size), body_str(r));
        long rss1 = rss_kib();
        CKF(rss1 - rss0 < RSS_SLACK_KIB, "RSS grew by %ld KiB over a %lld byte upload", rss1 - rss0,
            (long long)size);
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST upload_100mb_raw(void) { return run_body(2, b_upload_raw, NULL); }

/* The same from curl reading a generator on stdin (-T -: streamed, chunked). */
static void b_upload_curl(void *arg) {
    (void)arg;
    int64_t size = scaled(BIG_BYTES);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    o.max_body_bytes = -1;
    if (srv_start(&t, &o)) return;
    resp *r = resp_new();
    CKI(0, get_once(t.addr, "/warm", r));
    resp_free(r);
    long rss0 = rss_kib();
    char u[128];
    snprintf(u, sizeof u, "http://%s/upc", t.addr);
    patgen g = {0, (uint64_t)size, 12};
    cmd *c = curl_new(120000);
    cmd_arg(c, "-H");
    cmd_arg(c, "X-Seed: 12");
    cmd_arg(c, "-T");
    cmd_arg(c, "-");
    cmd_arg(c, u);
    c->gen = patgen_fn;
    c->gen_arg = &g;
    cmd_run(c);
    CK_CMD(c);
    char want[256];
    CKS(info(want, sizeof want, "PUT", "/upc", "", (long long)size, -1), c->out);
    long rss1 = rss_kib();
    CKF(rss1 - rss0 < RSS_SLACK_KIB, "RSS grew by %ld KiB over a %lld byte upload", rss1 - rss0, (long long)size);
    free(c);
    CKI(0, srv_stop(&t, 0));
}
TEST upload_100mb_curl_chunked(void) {
    NEED_CURL();
    return run_body(2, b_upload_curl, NULL);
}

/* Writes ?n=BYTES of pattern 21 in 64 KiB pieces (chunked).                    */
static void h_download(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    long long n = 0;
    sscanf(gn_http_raw_query(r), "n=%lld", &n);
    unsigned char *b = (unsigned char *)malloc(65536);
    for (long long pos = 0; pos < n;) {
        size_t m = n - pos < 65536 ? (size_t)(n - pos) : 65536;
        fill_pat(b, m, (uint64_t)pos, 21);
        int64_t wr = gn_http_write(w, b, m);
        if (wr < 0) {
            CKF(0, "gn_http_write at %lld: %s", pos, gn_strerror((int)wr));
            break;
        }
        pos += (long long)m;
    }
    free(b);
}

/* A 100 MB chunked download, decoded and checked by a raw client, with the
 * RSS bound; then the same through curl.                                      */
static void b_download(void *arg) {
    (void)arg;
    int64_t size = scaled(BIG_BYTES);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_download, NULL);
    if (srv_start(&t, &o)) return;
    resp *r = resp_new();
    char path[64];
    CKI(0, get_once(t.addr, "/?n=100", r));
    long rss0 = rss_kib();
    cl *k = cl_dial(t.addr);
    if (k) {
        patsink ps = {0, 21, -1};
        r->sink = patsink_resp;
        r->sink_arg = &ps;
        snprintf(path, sizeof path, "/?n=%lld", (long long)size);
        CKI(0, cl_get(k, r, path));
        CKI(200, r->status);
        CK(r->chunked);
        CKI(-1, r->clen);
        CKI(size, (int64_t)r->total);
        CKI(-1, ps.bad);
        CKF(r->nchunks >= size / 65536, "%d chunks for %lld bytes", r->nchunks, (long long)size);
        long rss1 = rss_kib();
        CKF(rss1 - rss0 < RSS_SLACK_KIB, "RSS grew by %ld KiB over a %lld byte download", rss1 - rss0,
            (long long)size);
        r->sink = NULL;
        CKI(0, cl_get(k, r, "/?n=10"));   /* the connection goes on */
        CKI(10, r->blen);
    }
    cl_close(k);
    if (curl_path()) {
        char u[128];
        snprintf(u, sizeof u, "http://%s/?n=%lld", t.addr, (long long)size);
        patsink ps = {0, 21, -1};
        cmd *c = curl_new(120000);
        cmd_arg(c, "-o");
        cmd_arg(c, "-");
        cmd_arg(c, "-w");
        cmd_arg(c, "%{stderr}size=%{size_download} code=%{http_code}\n");
        cmd_arg(c, u);
        c->sink = patsink_fn;
        c->sink_arg = &ps;
        cmd_run(c);
        CK_CMD(c);
        char want[96];
        snprintf(want, sizeof want, "size=%lld code=200", (long long)size);
        CKSUB(c->err, want);
        CKI(size, (int64_t)ps.pos);
        CKI(-1, ps.bad);
        free(c);
    }
    resp_free(r);
    CKI(0, srv_stop(&t, 0));
}
TEST download_100mb_chunked(void) { return run_body(2, b_download, NULL); }

/* ==== response streaming ========================================================================== */
/* /stream writes 3 x 5000 pattern bytes; /exact declares 10000 and writes it in
 * pieces; /over declares 10 and tries 11 first; /under declares 10, writes 5. */
typedef struct cl_rec { int64_t over_rc, exact_rc[3], ok_rc; } cl_rec;
static void h_stream(gn_http_response *w, gn_http_request *r, void *ud) {
    cl_rec *rec = (cl_rec *)ud;
    const char *p = gn_http_path(r);
    unsigned char *b = (unsigned char *)malloc(15000);
    fill_pat(b, 15000, 0, 41);
    if (strcmp(p, "/stream") == 0) {
        for (int i = 0; i < 3; i++) CKI(5000, gn_http_write(w, b + i * 5000, 5000));
    } else if (strcmp(p, "/exact") == 0) {
        CKI(0, gn_http_set_header(w, "Content-Length", "10000"));
        rec->exact_rc[0] = gn_http_write(w, b, 4000);
        rec->exact_rc[1] = gn_http_write(w, b + 4000, 4000);
        rec->exact_rc[2] = gn_http_write(w, b + 8000, 2000);
    } else if (strcmp(p, "/over") == 0) {
        CKI(0, gn_http_set_header(w, "Content-Length", "10"));
        rec->over_rc = gn_http_write(w, "0123456789X", 11);
        rec->ok_rc = gn_http_write(w, "0123456789", 10);
    } else if (strcmp(p, "/under") == 0) {
        CKI(0, gn_http_set_header(w, "Content-Length", "10"));
        gn_http_write(w, "01234", 5);
    } else if (strcmp(p, "/small") == 0) {
        gn_http_write(w, b, 3000);
    }
    free(b);
}
static void b_stream(void *arg) {
    (void)arg;
    cl_rec rec;
    memset(&rec, 0, sizeof rec);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_stream, &rec);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKI(0, cl_get(k, r, "/stream"));   /* over write_buffer_size: chunked */
        CKI(200, r->status);
        CK(r->chunked);
        CK(hdr(r, "Content-Length") == NULL);
        CKI(15000, r->blen);
        CKI(-1, check_pat((const unsigned char *)body_str(r), r->blen, 0, 41));
        CKI(0, cl_get(k, r, "/small"));    /* fits: Content-Length */
        CK(!r->chunked);
        CKI(3000, r->clen);
        CKI(-1, check_pat((const unsigned char *)body_str(r), r->blen, 0, 41));
        CKI(0, cl_get(k, r, "/exact"));
        CK(!r->chunked);
        CK(hdr(r, "Transfer-Encoding") == NULL);
        CKI(10000, r->clen);
        CKI(1, hdr_count(r, "Content-Length"));
        CKI(-1, check_pat((const unsigned char *)body_str(r), r->blen, 0, 41));
        CKI(4000, rec.exact_rc[0]);
        CKI(4000, rec.exact_rc[1]);
        CKI(2000, rec.exact_rc[2]);
        CKI(0, cl_get(k, r, "/over"));
        CKI(GN_ETOOLARGE, rec.over_rc);
        CKI(10, rec.ok_rc);
        CKI(10, r->clen);
        CKS("0123456789", body_str(r));
        CKI(1, gn_http_server_conns(t.s));
        /* short of its declared length: the framing is lost, so the server closes */
        CKR(cl_sends(k, "GET /under HTTP/1.1\r\nHost: t\r\n\r\n"));
        int rc = cl_response(k, r, 0);
        CKI(GN_EUNEXPECTEDEOF, rc);
        CKI(5, r->blen);
    }
    cl_close(k);
    /* a bigger write buffer: 15000 bytes now go out with a Content-Length */
    CKI(0, srv_stop(&t, 0));
    o.write_buffer_size = 65536;
    if (srv_start(&t, &o)) {
        resp_free(r);
        return;
    }
    CKI(0, get_once(t.addr, "/stream", r));
    CK(!r->chunked);
    CKI(15000, r->clen);
    CKI(-1, check_pat((const unsigned char *)body_str(r), r->blen, 0, 41));
    resp_free(r);
    CKI(0, srv_stop(&t, 0));
}
TEST streaming_and_content_length(void) { return run_body(1, b_stream, NULL); }

/* gn_http_flush sends what is buffered at once: the client reads the first part
 * while the handler waits for it to say so.                                   */
typedef struct flush_st { gn_chan *go; int phase; int flush_rc; int wait_rc; int signalled; } flush_st;
static void h_flush(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)r;
    flush_st *f = (flush_st *)ud;
    gn_http_write_string(w, "first part\n");
    f->flush_rc = gn_http_flush(w);
    ASTORE(&f->phase, 1);
    gn_select_case cs = {f->go, GN_RECV, NULL, 0};
    f->wait_rc = gn_select_until(&cs, 1, gn_now() + 5 * GN_SECOND);
    ASTORE(&f->phase, 2);
    gn_http_write_string(w, "second part\n");
}
static int flush_sink(void *arg, const unsigned char *p, size_t n) {
    (void)p;
    (void)n;
    flush_st *f = (flush_st *)arg;
    if (!f->signalled) {
        f->signalled = 1;
        CKF(ALOAD(&f->phase) == 1, "the first part came when the handler was in phase %d", ALOAD(&f->phase));
        gn_chan_send(f->go, NULL);
    }
    return 0;
}
static void b_flush(void *arg) {
    (void)arg;
    flush_st f;
    memset(&f, 0, sizeof f);
    f.go = gn_chan_new(0, 1);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_flush, &f);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        r->sink = flush_sink;
        r->sink_arg = &f;
        CKI(0, cl_get(k, r, "/"));
        CKI(200, r->status);
        CK(r->chunked);
        CKI(strlen("first part\nsecond part\n"), r->total);
        CKI(0, f.flush_rc);
        CKI(0, f.wait_rc);
        CK(f.signalled);
        CKI(2, r->nchunks);
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
    gn_chan_free(f.go);
}
TEST flush_sends_early(void) { return run_body(1, b_flush, NULL); }

/* write_buffer_size from 1 byte to 1 MiB: a body that fits goes out with a
 * Content-Length, a bigger one chunked, and every byte arrives.               */
static void h_sized(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    long n = atol(gn_http_path(r) + 1);
    unsigned char *b = (unsigned char *)malloc((size_t)n + 1);
    fill_pat(b, (size_t)n, 0, 77);
    long done = 0;
    for (long piece = 1; done < n; piece = piece * 3 + 1) {   /* uneven pieces */
        long m = n - done < piece ? n - done : piece;
        if (!CKI(m, gn_http_write(w, b + done, (size_t)m))) break;
        done += m;
    }
    free(b);
}
static void b_wbuf(void *arg) {
    (void)arg;
    static const size_t bufs[] = {1, 100, 1 << 20};
    static const long sizes[] = {0, 1, 2, 99, 100, 101, 5000, 1 << 20, (1 << 20) + 1};
    for (size_t b = 0; b < 3 && !ALOAD(&g_fail_set); b++) {
        srv t;
        gn_http_server_opts o;
        opts_init(&o, h_sized, NULL);
        o.write_buffer_size = bufs[b];
        if (srv_start(&t, &o)) return;
        cl *k = cl_dial(t.addr);
        resp *r = resp_new();
        for (size_t i = 0; k && i < sizeof sizes / sizeof sizes[0]; i++) {
            char path[32];
            snprintf(path, sizeof path, "/%ld", sizes[i]);
            if (!CKI(0, cl_get(k, r, path))) break;
            CKI(200, r->status);
            CKI(sizes[i], (long)r->blen);
            CKI(-1, check_pat((const unsigned char *)body_str(r), r->blen, 0, 77));
            if ((size_t)sizes[i] <= bufs[b]) CKF(r->clen == sizes[i] && !r->chunked,
                                                 "buffer %zu, body %ld: clen %lld chunked %d", bufs[b], sizes[i],
                                                 (long long)r->clen, r->chunked);
            else CKF(r->chunked, "buffer %zu, body %ld: not chunked", bufs[b], sizes[i]);
        }
        resp_free(r);
        cl_close(k);
        CKI(0, srv_stop(&t, 0));
    }
}
TEST write_buffer_sizes(void) { return run_body(1, b_wbuf, NULL); }

/* A handler that sets more response fields, or longer ones, than the writer
 * has room for gets GN_ETOOLARGE; what it did set goes out intact.           */
typedef struct hl_rec { int ok, toolarge, other, big; } hl_rec;
static void h_hlimits(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)r;
    hl_rec *a = (hl_rec *)ud;
    char *v = (char *)malloc(5000);
    memset(v, 'v', 4999);
    v[4999] = 0;
    a->big = gn_http_set_header(w, "X-Big", v);
    free(v);
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof name, "X-H%03d", i);
        int rc = gn_http_add_header(w, name, "value");
        if (rc == 0) a->ok++;
        else if (rc == GN_ETOOLARGE) a->toolarge++;
        else a->other++;
    }
    gn_http_write_string(w, "body");
}
static void b_hlimits(void *arg) {
    (void)arg;
    hl_rec a;
    memset(&a, 0, sizeof a);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_hlimits, &a);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKI(0, cl_get(k, r, "/"));
        CKI(200, r->status);
        CKS("body", body_str(r));
        CK(a.ok >= 10);
        CKI(200, a.ok + a.toolarge);
        CKI(0, a.other);
        CKF(a.big == 0 || a.big == GN_ETOOLARGE, "a 5000-byte value: %d", a.big);
        int seen = 0;
        for (int i = 0; i < r->nh; i++)
            if (strncmp(r->name[i], "X-H", 3) == 0) {
                char want[32];
                snprintf(want, sizeof want, "X-H%03d", seen);
                CKS(want, r->name[i]);
                CKS("value", r->value[i]);
                seen++;
            }
        CKI(a.ok, seen);
        if (a.big == 0) CKI(4999, strlen(hdr(r, "X-Big") ? hdr(r, "X-Big") : ""));
        CKI(0, cl_get(k, r, "/again"));   /* the connection is in step */
        CKS("body", body_str(r));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST response_header_limits(void) { return run_body(1, b_hlimits, NULL); }

/* Request targets from short to near max_header_bytes: the decoded path and
 * the query come through whole.                                               */
static void h_path(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    char tail[64];
    snprintf(tail, sizeof tail, "%zu %zu %zu", strlen(gn_http_path(r)), strlen(gn_http_raw_query(r)),
             strlen(gn_http_target(r)));
    gn_http_set_header(w, "X-Lens", tail);
    gn_http_write_string(w, gn_http_path(r));
}
static void b_long_path(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_path, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    static const size_t segs[] = {1, 100, 340, 341, 342, 1000, 3900};   /* the last: a ~15.6 KiB head */
    char *req = (char *)malloc(40000), *want = (char *)malloc(40000);
    for (size_t i = 0; k && i < sizeof segs / sizeof segs[0]; i++) {
        size_t n = (size_t)sprintf(req, "GET /"), wn = 1;
        want[0] = '/';
        for (size_t j = 0; j < segs[i]; j++) {   /* "a%20" decodes to "a " */
            n += (size_t)sprintf(req + n, "%c%%20", 'a' + (int)(j % 26));
            want[wn++] = (char)('a' + j % 26);
            want[wn++] = ' ';
        }
        want[wn] = 0;
        char q[32];
        size_t qn = (size_t)snprintf(q, sizeof q, "q=%zu", segs[i]);
        sprintf(req + n, "?%s HTTP/1.1\r\nHost: t\r\n\r\n", q);
        if (!CKI(0, roundtrip(k, r, req, 0))) break;
        CKI(200, r->status);
        CKF(strcmp(body_str(r), want) == 0, "%zu segments: the path came back with %zu bytes, expected %zu",
            segs[i], r->blen, wn);
        char lens[64];
        snprintf(lens, sizeof lens, "%zu %zu %zu", wn, qn, 1 + segs[i] * 4 + 1 + qn);
        CKS(lens, hdr(r, "X-Lens"));
    }
    free(req);
    free(want);
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST long_request_paths(void) { return run_body(1, b_long_path, NULL); }

/* A client that half-closes after its request (shutdown(SHUT_WR), as some
 * scripts do) still gets the whole response.                                  */
static void b_half_close(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sleepy, NULL);
    if (srv_start(&t, &o)) return;
    resp *r = resp_new();
    for (int i = 0; i < 2; i++) {
        cl *k = cl_dial(t.addr);
        if (!k) break;
        CKR(cl_sends(k, i ? "GET /slow?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n" : "GET /quick HTTP/1.1\r\nHost: t\r\n\r\n"));
        CKI(0, gn_close_write(k->c));
        int rc = cl_response(k, r, 0);
        CKF(rc == 0, "a half-closed client (%s handler) got no response: %d (%s)", i ? "slow" : "quick", rc,
            gn_strerror(rc));
        CKI(200, r->status);
        CKS(i ? "/slow" : "/quick", body_str(r));
        CK(is_closed(cl_wait_close(k, 3000)));
        cl_close(k);
    }
    resp_free(r);
    CKI(0, srv_stop(&t, 0));
}
TEST half_closed_client_gets_response(void) { return run_body(1, b_half_close, NULL); }

/* ==== malformed requests ============================================================================
 * Each gets its status with Connection: close, and the connection closes; a
 * valid request pipelined after it is never served.                            */
typedef struct rej {
    const char *req;
    size_t len;             /* 0: strlen(req)                                      */
    int status;
    int calls;              /* handler runs expected                               */
    size_t max_header;      /* 0: default                                          */
    int any_status;         /* status is a floor: the handler's or the server's     */
} rej;

/* Reads the body; answers 400 itself when that fails.                          */
static void h_strict(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    AADD(&g_calls, 1);
    if (strcmp(gn_http_path(r), "/noread") != 0) {
        char buf[256];
        int64_t got;
        while ((got = gn_http_body_read(r, buf, sizeof buf)) > 0) {
        }
        if (got != GN_EOF) {
            gn_http_error(w, gn_strerror((int)got), 400);
            return;
        }
    }
    gn_http_write_string(w, "ok");
}

static const char SMUGGLED[] = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";

static void b_reject(void *arg) {
    rej *c = (rej *)arg;
    ASTORE(&g_calls, 0);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_strict, NULL);
    if (c->max_header) o.max_header_bytes = c->max_header;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        size_t n = c->len ? c->len : strlen(c->req);
        char *all = (char *)malloc(n + sizeof SMUGGLED);
        memcpy(all, c->req, n);
        memcpy(all + n, SMUGGLED, sizeof SMUGGLED);
        CKR(cl_send(k, all, n + sizeof SMUGGLED - 1));
        free(all);
        int rc = cl_response(k, r, 0);
        CKF(rc == 0, "no response: %d (%s)", rc, gn_strerror(rc));
        CKF(r->status == c->status, "status %d (\"%s\"), expected %d", r->status, r->status_line, c->status);
        CKS("close", hdr(r, "Connection"));
        if (!c->calls) {
            char want[64];
            snprintf(want, sizeof want, "%d %s", c->status, gn_http_status_text(c->status));
            CKS(want, body_str(r));
        }
        int64_t e = cl_wait_close(k, 3000);
        CKF(is_closed(e), "connection not closed after a %d: %lld (%s)", c->status, (long long)e,
            e < 0 ? gn_strerror((int)e) : "bytes");
    }
    CKI(c->calls, ALOAD(&g_calls));
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
static enum greatest_test_res reject(const char *req, size_t len, int status, int calls, size_t max_header) {
    static rej c;
    c.req = req;
    c.len = len;
    c.status = status;
    c.calls = calls;
    c.max_header = max_header;
    return run_body(1, b_reject, &c);
}

TEST reject_cl_and_te(void) {
    return reject("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n0\r\n\r\n", 0, 400, 0, 0);
}
TEST reject_te_and_cl(void) {
    return reject("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
                  "5\r\nhello\r\n0\r\n\r\n", 0, 400, 0, 0);
}
TEST reject_duplicate_cl(void) {
    return reject("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 0, 400, 0, 0);
}
TEST reject_cl_list(void) {
    return reject("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 6\r\n\r\nhello!", 0, 400, 0, 0);
}
TEST reject_bad_chunk_size(void) {
    return reject("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 0, 400,
                  1, 0);
}
TEST reject_bad_chunk_size_unread(void) {   /* the handler does not read: the drain finds it */
    static rej c = {"POST /noread HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n",
                    0, 200, 1, 0, 0};
    return run_body(1, b_reject, &c);
}
TEST reject_chunk_size_overflow(void) {
    return reject("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "fffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 0, 400, 1, 0);
}
TEST reject_obs_fold(void) {
    return reject("GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n", 0, 400, 0, 0);
}
TEST reject_bare_cr(void) {
    return reject("GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n", 0, 400, 0, 0);
}
TEST reject_control_char(void) {
    return reject("GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x01" "b\r\n\r\n", 0, 400, 0, 0);
}
TEST reject_space_before_colon(void) {
    return reject("GET / HTTP/1.1\r\nHost: t\r\nX-A : b\r\n\r\n", 0, 400, 0, 0);
}
TEST reject_missing_host(void) { return reject("GET / HTTP/1.1\r\n\r\n", 0, 400, 0, 0); }
TEST reject_two_hosts(void) { return reject("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 0, 400, 0, 0); }
TEST reject_too_many_headers(void) {
    static char req[4096];
    size_t n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 101; i++) n += (size_t)sprintf(req + n, "X-H%d: v\r\n", i);
    sprintf(req + n, "\r\n");
    return reject(req, 0, 431, 0, 0);
}
TEST reject_header_block_too_large(void) {
    static char req[24000];
    size_t n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(req + n, 'a', 20000);
    sprintf(req + n + 20000, "\r\n\r\n");
    return reject(req, 0, 431, 0, 0);   /* over the 16 KiB default */
}
TEST reject_header_block_over_option(void) {
    static char req[4096];
    size_t n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nHost: t\r\n");
    for (int i = 0; i < 30; i++) n += (size_t)sprintf(req + n, "X-Header-%02d: %040d\r\n", i, i);
    sprintf(req + n, "\r\n");
    return reject(req, 0, 431, 0, 1024);   /* ~1.9 KiB of head over max_header_bytes 1024 */
}
TEST reject_unsupported_te(void) {
    return reject("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 0, 501, 0, 0);
}
TEST reject_te_not_chunked_last(void) {
    return reject("POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 0, 400, 0, 0);
}
TEST reject_http2_request_line(void) { return reject("GET / HTTP/2.0\r\nHost: t\r\n\r\n", 0, 505, 0, 0); }
TEST reject_expect_other(void) {
    return reject("POST / HTTP/1.1\r\nHost: t\r\nExpect: something-else\r\nContent-Length: 2\r\n\r\nhi", 0, 417, 0, 0);
}
TEST reject_nul_in_target(void) {
    static const char req[] = "GET /a\0b HTTP/1.1\r\nHost: t\r\n\r\n";
    return reject(req, sizeof req - 1, 400, 0, 0);
}
TEST reject_te_on_http10(void) {
    return reject("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 400, 0, 0);
}
TEST reject_bad_request_line(void) { return reject("GET  / HTTP/1.1\r\nHost: t\r\n\r\n", 0, 400, 0, 0); }
/* A '%' not followed by two hex digits: the path cannot be decoded (Go: 400). */
TEST reject_bad_escape_in_path(void) {
    CHECK_CALL(reject("GET /a%zz HTTP/1.1\r\nHost: t\r\n\r\n", 0, 400, 0, 0));
    CHECK_CALL(reject("GET /a%4 HTTP/1.1\r\nHost: t\r\n\r\n", 0, 400, 0, 0));
    CHECK_CALL(reject("GET /a% HTTP/1.1\r\nHost: t\r\n\r\n", 0, 400, 0, 0));
    CHECK_CALL(reject("GET /ok%2?q=%zz HTTP/1.1\r\nHost: t\r\n\r\n", 0, 400, 0, 0));
    PASS();
}

/* ==== timeouts ========================================================================================= */

/* Sleeps ?ms=N before answering.                                                */
static void h_sleepy(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    AADD(&g_calls, 1);
    int ms = 0;
    sscanf(gn_http_raw_query(r), "ms=%d", &ms);
    if (ms) gn_sleep(ms * MS);
    gn_http_write_string(w, gn_http_path(r));
}

/* A client that sends one header byte every 100 ms: cut at read_header_timeout
 * (300 ms, perhaps with a 408), while a normal client is served meanwhile.  */
typedef struct slow_st {
    const char *addr;
    int64_t ms;          /* from the first byte to the end                         */
    int64_t end;         /* what ended it: a read result or a write error          */
    int status;          /* of a response, if one came                             */
    int closed;          /* the connection closed after it                         */
    int bytes;           /* header bytes trickled                                  */
    int done;
} slow_st;
static void slowloris_co(void *arg) {
    slow_st *s = (slow_st *)arg;
    cl *k = cl_dial(s->addr);
    if (!k) {
        ASTORE(&s->done, 1);
        return;
    }
    int64_t t0 = gn_now();
    int64_t e = cl_sends(k, "GET /slow HTTP/1.1\r\nHost: t\r\nX-Slow: ");
    for (int i = 0; i < 80 && e > 0; i++) {   /* at most 8 s */
        e = cl_send(k, "a", 1);
        if (e < 0) break;
        s->bytes++;
        e = cl_wait_close(k, 100);
        if (e != GN_ETIMEDOUT) break;
        e = 1;
    }
    s->ms = ms_since(t0);
    s->end = e;
    if (e > 0) {   /* bytes came: a response */
        resp *r = resp_new();
        if (cl_response(k, r, 0) == 0) s->status = r->status;
        resp_free(r);
        s->closed = is_closed(cl_wait_close(k, 2000));
    } else {
        s->closed = is_closed(e);
    }
    cl_close(k);
    ASTORE(&s->done, 1);
}
static void b_slowloris(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sleepy, NULL);
    o.read_header_timeout = 300 * MS;
    o.idle_timeout = 5 * GN_SECOND;
    if (srv_start(&t, &o)) return;
    slow_st s;
    memset(&s, 0, sizeof s);
    s.addr = t.addr;
    spawn(slowloris_co, &s);
    gn_sleep(50 * MS);
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    int served_meanwhile = 0;
    for (int i = 0; k && i < 10; i++) {   /* ~200 ms of normal traffic */
        int64_t t0 = gn_now();
        CKI(0, cl_get(k, r, "/fast"));
        CKI(200, r->status);
        CKF(ms_since(t0) < 1000, "a normal request took %lld ms next to a slowloris", (long long)ms_since(t0));
        if (!ALOAD(&s.done)) served_meanwhile++;
        gn_sleep(20 * MS);
    }
    join_all();
    CKF(served_meanwhile >= 3, "only %d requests were served while the slow client was there", served_meanwhile);
    CKF(s.ms >= 250 && s.ms <= 3000, "the slow client was cut after %lld ms (read_header_timeout 300 ms), %d bytes",
        (long long)s.ms, s.bytes);
    CKF(s.status == 0 || s.status == 408, "the slow client got a %d", s.status);
    CK(s.closed);
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST slowloris_cut_at_read_header_timeout(void) { return run_body(1, b_slowloris, NULL); }

/* The same on a keep-alive connection's second request: idle_timeout (3 s)
 * covers the wait for its first byte, read_header_timeout (300 ms) the rest. */
static void b_slowloris_ka(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sleepy, NULL);
    o.read_header_timeout = 300 * MS;
    o.idle_timeout = 3 * GN_SECOND;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKI(0, cl_get(k, r, "/first"));
        CKI(200, r->status);
        gn_sleep(500 * MS);   /* idle, longer than read_header_timeout */
        int64_t t0 = gn_now(), e = cl_sends(k, "GET /second HTTP/1.1\r\nHost: t\r\nX-Slow: ");
        int bytes = 0;
        for (int i = 0; i < 60 && e > 0; i++) {
            e = cl_send(k, "a", 1);
            if (e < 0) break;
            bytes++;
            e = cl_wait_close(k, 100);
            if (e != GN_ETIMEDOUT) break;
            e = 1;
        }
        int64_t ms = ms_since(t0);
        if (e > 0) {
            CKI(0, cl_response(k, r, 0));
            CKI(408, r->status);
            e = cl_wait_close(k, 2000);
        }
        CKF(is_closed(e), "the slow second request: %lld (%s)", (long long)e, gn_strerror((int)e));
        CKF(ms >= 250 && ms < 2000, "a slow second request was cut after %lld ms (%d bytes), read_header_timeout 300 ms",
            (long long)ms, bytes);
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST slowloris_on_keep_alive_connection(void) { return run_body(1, b_slowloris_ka, NULL); }

/* A CRLF after a POST body (old clients send one; RFC 9112 §2.2) does not
 * start a request: the connection idles under idle_timeout, and no 408 is
 * sent for a request nobody made (a pooled client would take it for the
 * answer to its next one).                                                   */
static void b_crlf_idle(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sleepy, NULL);
    o.read_header_timeout = 300 * MS;
    o.idle_timeout = 3 * GN_SECOND;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    for (int late = 0; k && late < 2; late++) {   /* with the body, then in a packet of its own */
        CKR(cl_sends(k, late ? "POST /post HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
                             : "POST /post HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi\r\n"));
        CKI(0, cl_response(k, r, 0));
        CKI(200, r->status);
        if (late) CKR(cl_sends(k, "\r\n"));
        int64_t e = cl_wait_close(k, 800);   /* past read_header_timeout, within idle_timeout */
        CKF(e == GN_ETIMEDOUT, "800 ms after a CRLF that followed a body (%s): %lld (%s)", late ? "late" : "with it",
            (long long)e, e < 0 ? gn_strerror((int)e) : "bytes");
        CKI(0, cl_get(k, r, "/next"));
        CKI(200, r->status);
        CKS("/next", body_str(r));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST crlf_after_body_keeps_idling(void) { return run_body(1, b_crlf_idle, NULL); }

/* A new connection that sends nothing at all is a slowloris too: Go closes it
 * at ReadHeaderTimeout (the deadline for the first request is set on accept);
 * it should not hold a connection for the (longer) idle timeout.             */
static void b_silent(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sleepy, NULL);
    o.read_header_timeout = 300 * MS;
    o.idle_timeout = 3 * GN_SECOND;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    if (k) {
        int64_t t0 = gn_now();
        int64_t e = cl_wait_close(k, 6000);
        int64_t ms = ms_since(t0);
        CKF(is_closed(e), "a silent connection: %lld (%s) after %lld ms", (long long)e, gn_strerror((int)e),
            (long long)ms);
        CKF(ms >= 250 && ms < 1500,
            "a connection that never sent a byte was closed after %lld ms: read_header_timeout is 300 ms, "
            "idle_timeout 3000 ms", (long long)ms);
    }
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST silent_connection_cut_at_read_header_timeout(void) { return run_body(1, b_silent, NULL); }

/* idle_timeout closes a keep-alive connection that waits for its next request
 * (and read_header_timeout, shorter, does not); a handler slower than both
 * is not cut by either.                                                       */
static void b_idle(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sleepy, NULL);
    o.read_header_timeout = 200 * MS;
    o.idle_timeout = 800 * MS;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKI(0, cl_get(k, r, "/a?ms=1000"));   /* a handler slower than both timeouts */
        CKI(200, r->status);
        CKS("/a", body_str(r));
        gn_sleep(400 * MS);                      /* past read_header_timeout, within idle */
        CKI(0, cl_get(k, r, "/b"));
        CKI(200, r->status);
        int64_t t0 = gn_now();
        int64_t e = cl_wait_close(k, 5000);
        int64_t ms = ms_since(t0);
        CKF(is_closed(e), "the idle connection: %lld (%s)", (long long)e, gn_strerror((int)e));
        CKF(ms >= 700 && ms < 3000, "an idle connection was closed after %lld ms (idle_timeout 800 ms)", (long long)ms);
        CKI(0, conns_reach(&t, 0, 2000));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST idle_timeout_closes(void) { return run_body(1, b_idle, NULL); }

/* read_timeout bounds the body: a client that stops half-way makes the
 * handler's read fail with GN_ETIMEDOUT.                                      */
static void b_read_timeout(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_info, NULL);
    o.read_timeout = 500 * MS;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        int64_t t0 = gn_now();
        CKR(cl_sends(k, "POST /rt HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789"));
        CKI(0, cl_response(k, r, 0));
        int64_t ms = ms_since(t0);
        CKI(200, r->status);
        long long n = -1, bad = 0, err = 0, cln = 0;
        CKI(4, sscanf(body_str(r), "POST /rt q= n=%lld bad=%lld err=%lld cl=%lld", &n, &bad, &err, &cln));
        CKI(10, n);
        CKI(GN_ETIMEDOUT, err);
        CKF(ms >= 450 && ms < 3000, "the body read timed out after %lld ms (read_timeout 500 ms)", (long long)ms);
        CKS("close", hdr(r, "Connection"));
        CK(is_closed(cl_wait_close(k, 3000)));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST read_timeout_body(void) { return run_body(1, b_read_timeout, NULL); }

/* Writes up to ?mb=N MiB in 64 KiB pieces; records the first error and when.   */
typedef struct wt_st {
    int64_t err;            /* first write error                              */
    int64_t ms;             /* from the first write to the error (or the end) */
    int64_t written;
    gn_chan *done;
} wt_st;
static void h_writer(gn_http_response *w, gn_http_request *r, void *ud) {
    wt_st *s = (wt_st *)ud;
    int mb = 50;
    sscanf(gn_http_raw_query(r), "mb=%d", &mb);
    char *b = (char *)malloc(65536);
    memset(b, 'w', 65536);
    int64_t t0 = gn_now();
    s->err = 0;
    for (int64_t i = 0; i < (int64_t)mb * 16; i++) {
        int64_t wr = gn_http_write(w, b, 65536);
        if (wr < 0) {
            s->err = wr;
            break;
        }
        s->written += wr;
    }
    s->ms = ms_since(t0);
    free(b);
    gn_chan_send(s->done, NULL);
}

/* write_timeout stops a response to a client that never reads: the handler's
 * write fails within bounds instead of blocking forever.                      */
static void b_write_timeout(void *arg) {
    (void)arg;
    wt_st s;
    memset(&s, 0, sizeof s);
    s.done = gn_chan_new(0, 1);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_writer, &s);
    o.write_timeout = 300 * MS;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    if (k) {
        CKR(cl_sends(k, "GET /?mb=50 HTTP/1.1\r\nHost: t\r\n\r\n"));
        gn_select_case cs = {s.done, GN_RECV, NULL, 0};
        int rc = gn_select_until(&cs, 1, gn_now() + 10 * GN_SECOND);
        CKF(rc == 0, "the handler was still writing 10 s later, with a write_timeout of 300 ms");
        if (rc == 0) {
            CKF(s.err == GN_ETIMEDOUT, "the write failed with %lld (%s)", (long long)s.err, gn_strerror((int)s.err));
            CKF(s.ms >= 250 && s.ms < 5000, "the write failed after %lld ms", (long long)s.ms);
            CK(s.written < 50ll << 20);
        }
        /* the server let the connection go */
        CKI(0, conns_reach(&t, 0, 2000));
        int64_t e = 0, drained = 0, t0 = gn_now();
        char *junk = (char *)malloc(65536);
        while (ms_since(t0) < 5000) {   /* what the socket buffers held, then the end */
            gn_set_read_deadline(k->c, gn_now() + 3 * GN_SECOND);
            e = gn_read(k->c, junk, 65536);
            if (e <= 0) break;
            drained += e;
        }
        free(junk);
        CKF(is_closed(e), "after the write timeout and %lld bytes the connection gave %lld (%s)", (long long)drained,
            (long long)e, gn_strerror((int)e));
    }
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
    gn_chan_free(s.done);
}
TEST write_timeout_client_never_reads(void) { return run_body(1, b_write_timeout, NULL); }

/* write_timeout is documented as running "from the end of the headers to the
 * end of the response" (Go's WriteTimeout too): a handler that streams small
 * flushed pieces for 3 s to a client that reads them at once must see its
 * writes fail at about write_timeout (500 ms), not go on for as long as each
 * single write is quick.                                                      */
typedef struct trickle_st { int64_t err, err_ms, pieces; gn_chan *done; } trickle_st;
static void h_trickle(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)r;
    trickle_st *s = (trickle_st *)ud;
    int64_t t0 = gn_now();
    for (int i = 0; i < 30; i++) {
        int64_t e = gn_http_write(w, "0123456789012345678901234567890123456789\n", 41);
        if (e >= 0) e = gn_http_flush(w);
        if (e < 0) {
            s->err = e;
            s->err_ms = ms_since(t0);
            break;
        }
        s->pieces++;
        gn_sleep(100 * MS);
    }
    if (!s->err) s->err_ms = ms_since(t0);
    gn_chan_send(s->done, NULL);
}
static void b_write_timeout_whole(void *arg) {
    (void)arg;
    trickle_st s;
    memset(&s, 0, sizeof s);
    s.done = gn_chan_new(0, 1);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_trickle, &s);
    o.write_timeout = 500 * MS;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKR(cl_sends(k, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
        cl_response(k, r, 0);   /* read as it comes, whatever the end */
        gn_select_case cs = {s.done, GN_RECV, NULL, 0};
        CKI(0, gn_select_until(&cs, 1, gn_now() + 10 * GN_SECOND));
        CKF(s.err < 0 && s.err_ms >= 400 && s.err_ms < 1500,
            "a response streamed for %lld ms (%lld pieces, last error %lld) with a write_timeout of 500 ms",
            (long long)s.err_ms, (long long)s.pieces, (long long)s.err);
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
    gn_chan_free(s.done);
}
TEST write_timeout_bounds_whole_response(void) { return run_body(1, b_write_timeout_whole, NULL); }

/* ==== graceful shutdown ================================================================================== */
typedef struct sd_st {
    int entered, finished, sleep_ms;
    int release;            /* h_stuck: stop sleeping                           */
} sd_st;
static void h_sd(gn_http_response *w, gn_http_request *r, void *ud) {
    sd_st *s = (sd_st *)ud;
    if (strcmp(gn_http_path(r), "/fast") == 0) {
        gn_http_write_string(w, "fast");
        return;
    }
    if (strcmp(gn_http_path(r), "/ctx") == 0) {   /* its context watches for a hang-up */
        gn_http_write_string(w, gn_http_request_context(r) ? "ctx" : "no ctx");
        return;
    }
    AADD(&s->entered, 1);
    if (strcmp(gn_http_path(r), "/stuck") == 0) {   /* "never" returns: 10 s, unless released */
        for (int i = 0; i < 1000 && !ALOAD(&s->release); i++) gn_sleep(10 * MS);
    } else {
        gn_sleep(s->sleep_ms * MS);
    }
    char out[64];
    snprintf(out, sizeof out, "done %s", gn_http_path(r));
    gn_http_write_string(w, out);
    AADD(&s->finished, 1);
}

typedef struct sd_client {
    const char *addr;
    int idx, idle;
    int status, closed;
    char body[64], conn[32];
    int64_t t_resp, t_close;   /* gn_now() of the response and of the close */
    int *ready;
} sd_client;
static void sd_client_co(void *arg) {
    sd_client *c = (sd_client *)arg;
    cl *k = cl_dial(c->addr);
    resp *r = resp_new();
    if (k) {
        char path[32];
        snprintf(path, sizeof path, c->idle ? "/fast" : "/slow%d", c->idx);
        int rc = cl_get(k, r, path);
        c->t_resp = gn_now();
        if (CKF(rc == 0, "client %d (%s): %d (%s)", c->idx, path, rc, gn_strerror(rc))) {
            c->status = r->status;
            snprintf(c->body, sizeof c->body, "%s", body_str(r));
            snprintf(c->conn, sizeof c->conn, "%s", hdr(r, "Connection") ? hdr(r, "Connection") : "");
        }
        AADD(c->ready, 1);
        c->closed = is_closed(cl_wait_close(k, 8000));
        c->t_close = gn_now();
    } else {
        AADD(c->ready, 1);
    }
    resp_free(r);
    cl_close(k);
}

/* Shutdown with 20 requests in flight (handlers sleep 400 ms) and 5 idle
 * keep-alive connections: the idle ones close at once, every accepted request
 * gets its whole response (with Connection: close), shutdown returns 0 after
 * they are done, and nothing is accepted any more.                          */
static void b_shutdown(void *arg) {
    (void)arg;
    enum { NB = 20, NI = 5 };
    sd_st s;
    memset(&s, 0, sizeof s);
    s.sleep_ms = 400;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sd, &s);
    if (srv_start(&t, &o)) return;
    sd_client *cs = (sd_client *)calloc(NB + NI, sizeof *cs);
    int ready_idle = 0, ready_busy = 0;
    for (int i = 0; i < NI; i++) {
        cs[i].addr = t.addr;
        cs[i].idx = i;
        cs[i].idle = 1;
        cs[i].ready = &ready_idle;
        spawn(sd_client_co, &cs[i]);
    }
    for (int i = 0; i < 500 && ALOAD(&ready_idle) < NI; i++) gn_sleep(10 * MS);
    CKI(NI, ALOAD(&ready_idle));
    for (int i = NI; i < NI + NB; i++) {
        cs[i].addr = t.addr;
        cs[i].idx = i;
        cs[i].ready = &ready_busy;
        spawn(sd_client_co, &cs[i]);
    }
    for (int i = 0; i < 500 && ALOAD(&s.entered) < NB; i++) gn_sleep(2 * MS);
    CKI(NB, ALOAD(&s.entered));
    CKI(NB + NI, gn_http_server_conns(t.s));
    int64_t t0 = gn_now();
    int rc = gn_http_shutdown(t.s, gn_now() + 5 * GN_SECOND);
    int64_t t1 = gn_now();
    CKI(0, rc);
    CKI(NB, ALOAD(&s.finished));   /* it waited for them */
    CKF((t1 - t0) / MS < 3000, "shutdown took %lld ms", (long long)((t1 - t0) / MS));
    CKI(0, gn_http_server_conns(t.s));
    gn_conn *c = NULL;
    int drc = gn_dial(&c, "tcp", t.addr);
    CKF(drc < 0, "a dial after shutdown succeeded");
    if (drc == 0) gn_close(c);
    join_all();
    for (int i = 0; i < NI; i++) {
        CK(cs[i].closed);
        CKF(cs[i].t_close - t0 < 300 * MS, "idle connection %d closed %lld ms after shutdown began", i,
            (long long)((cs[i].t_close - t0) / MS));
    }
    for (int i = NI; i < NI + NB; i++) {
        char want[64];
        snprintf(want, sizeof want, "done /slow%d", i);
        CKI(200, cs[i].status);
        CKS(want, cs[i].body);
        CKS("close", cs[i].conn);
        CK(cs[i].closed);
        CKF(cs[i].t_resp > t0, "response %d came before shutdown began", i);
    }
    free(cs);
    CKI(0, srv_stop(&t, 0));   /* again: nothing left */
}
TEST shutdown_graceful_in_flight(void) { return run_body(2, b_shutdown, NULL); }

/* A handler that never returns: shutdown cuts it at its deadline, closes the
 * connection, and says GN_ETIMEDOUT.                                          */
static void b_shutdown_stuck(void *arg) {
    (void)arg;
    sd_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sd, &s);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    if (k) {
        CKR(cl_sends(k, "GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n"));
        for (int i = 0; i < 500 && ALOAD(&s.entered) < 1; i++) gn_sleep(2 * MS);
        CKI(1, ALOAD(&s.entered));
        int64_t t0 = gn_now();
        int rc = gn_http_shutdown(t.s, t0 + 300 * MS);
        int64_t ms = ms_since(t0);
        CKI(GN_ETIMEDOUT, rc);
        CKF(ms >= 300 && ms < 3000, "shutdown with a 300 ms deadline returned after %lld ms", (long long)ms);
        int64_t e = cl_wait_close(k, 2000);
        CKF(is_closed(e), "the stuck handler's connection: %lld (%s)", (long long)e, e < 0 ? gn_strerror((int)e) : "bytes");
        CKI(0, ALOAD(&s.finished));
    }
    cl_close(k);
    ASTORE(&s.release, 1);
    CKI(0, conns_reach(&t, 0, 3000));
    srv_stop(&t, 0);
}
TEST shutdown_deadline_stuck_handler(void) { return run_body(1, b_shutdown_stuck, NULL); }

/* gn_http_server_free right after a shutdown that had to give up on a stuck
 * handler: the server goes when that connection finally ends, and nothing
 * touches freed memory or leaks (ASan and LeakSanitizer watch this one).   */
static void b_free_while_stuck(void *arg) {
    (void)arg;
    sd_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sd, &s);
    o.max_conns = 4;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr), *idle = cl_dial(t.addr);
    resp *r = resp_new();
    if (k && idle) {
        CKI(0, cl_get(idle, r, "/fast"));
        CKR(cl_sends(k, "GET /stuck HTTP/1.1\r\nHost: t\r\n\r\n"));
        for (int i = 0; i < 500 && ALOAD(&s.entered) < 1; i++) gn_sleep(2 * MS);
        CKI(1, ALOAD(&s.entered));
        CKI(GN_ETIMEDOUT, gn_http_shutdown(t.s, gn_now() + 200 * MS));
        int src = 1;
        gn_select_case cs = {t.done, GN_RECV, &src, 0};
        CKI(0, gn_select_until(&cs, 1, gn_now() + 5 * GN_SECOND));
        CKI(GN_ECLOSED, src);
        gn_http_server_free(t.s);   /* the stuck connection still runs */
        gn_chan_free(t.done);
        t.s = NULL;
        CK(is_closed(cl_wait_close(k, 3000)));
        CK(is_closed(cl_wait_close(idle, 3000)));
        ASTORE(&s.release, 1);
        for (int i = 0; i < 500 && ALOAD(&s.finished) < 1; i++) gn_sleep(2 * MS);
        CKI(1, ALOAD(&s.finished));
        gn_sleep(200 * MS);   /* the connection's way out, and the server's end */
    }
    resp_free(r);
    cl_close(k);
    cl_close(idle);
    if (t.s) srv_stop(&t, 0);
}
TEST free_while_handler_stuck(void) { return run_body(2, b_free_while_stuck, NULL); }

/* Idle keep-alive connections (each has made one request, sent the moment it
 * connected) are closed as soon as shutdown starts, and shutdown returns 0
 * at once: there is nothing in flight. Half of the requests had a context,
 * whose hang-up watch leaves the connection to wait in a read rather than in
 * the poller: it is just as idle.                                            */
typedef struct idle_cl { const char *addr, *path; int *ready; int closed; int64_t t_close; } idle_cl;
static void idle_cl_co(void *arg) {
    idle_cl *c = (idle_cl *)arg;
    cl *k = cl_dial(c->addr);
    resp *r = resp_new();
    if (k) {
        CKI(0, cl_get(k, r, c->path));
        AADD(c->ready, 1);
        c->closed = is_closed(cl_wait_close(k, 8000));
        c->t_close = gn_now();
    } else {
        AADD(c->ready, 1);
    }
    resp_free(r);
    cl_close(k);
}
static void b_shutdown_idle(void *arg) {
    (void)arg;
    enum { NC = 50 };
    sd_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sd, &s);
    if (srv_start(&t, &o)) return;
    int ready = 0;
    idle_cl *c = (idle_cl *)calloc(NC, sizeof *c);
    for (int i = 0; i < NC; i++) {
        c[i].addr = t.addr;
        c[i].path = i % 2 ? "/ctx" : "/fast";
        c[i].ready = &ready;
        spawn(idle_cl_co, &c[i]);
    }
    for (int i = 0; i < 1000 && ALOAD(&ready) < NC; i++) gn_sleep(2 * MS);
    CKI(NC, ALOAD(&ready));
    gn_sleep(50 * MS);
    /* Under an emulator (qemu-user, GN_TEST_RUNNER) everything runs 10-50
     * times slower: "at once" gets five times the room there.                  */
    const char *runner = getenv("GN_TEST_RUNNER");
    int64_t slow = runner && *runner ? 5 : 1;
    int64_t t0 = gn_now();
    int rc = gn_http_shutdown(t.s, t0 + slow * 3 * GN_SECOND);
    int64_t ms = ms_since(t0);
    join_all();
    int late = 0, open = 0;
    for (int i = 0; i < NC; i++) {
        if (!c[i].closed) open++;
        else if (c[i].t_close - t0 > slow * 1000 * MS) late++;
    }
    CKF(rc == 0 && ms < slow * 1000 && late == 0 && open == 0,
        "shutdown with %d idle keep-alive connections returned %d (%s) after %lld ms; %d of them were closed "
        "later than 1 s, %d not at all", NC, rc, gn_strerror(rc), (long long)ms, late, open);
    free(c);
    srv_stop(&t, 0);
}
TEST shutdown_closes_idle_at_once(void) { return run_body(2, b_shutdown_idle, NULL); }

/* Shutdown and free right away, over and over, while many connections (each
 * holding a max_conns slot) are torn down on two threads: nothing may touch
 * the server after gn_http_shutdown returned and serve returned.             */
static void b_shutdown_free(void *arg) {
    (void)arg;
    enum { NC = 40 };
    sd_st s;
    memset(&s, 0, sizeof s);
    int rounds = (int)scaled(30);
    for (int round = 0; round < rounds && !ALOAD(&g_fail_set); round++) {
        srv t;
        gn_http_server_opts o;
        opts_init(&o, h_sd, &s);
        o.max_conns = 100;
        if (srv_start(&t, &o)) return;
        int ready = 0;
        idle_cl c[NC];
        memset(c, 0, sizeof c);
        for (int i = 0; i < NC; i++) {
            c[i].addr = t.addr;
            c[i].ready = &ready;
            spawn(idle_cl_co, &c[i]);
        }
        for (int i = 0; i < 500 && ALOAD(&ready) < NC; i++) gn_sleep(2 * MS);
        CKI(NC, ALOAD(&ready));
        srv_stop(&t, gn_now() + 200 * MS);   /* 0, or GN_ETIMEDOUT: see shutdown_closes_idle_at_once */
        join_all();
    }
}
TEST shutdown_then_free_at_once(void) { return run_body(2, b_shutdown_free, NULL); }

/* ==== hijacking ========================================================================================== */
typedef struct hj_st {
    int rc, closed, echoed;
    int64_t write_rc1, write_rc2, flush_rc, set_rc, second_rc;
    int misuse;             /* call the writer after hijacking                   */
} hj_st;
static void h_hijack(gn_http_response *w, gn_http_request *r, void *ud) {
    hj_st *s = (hj_st *)ud;
    if (strcmp(gn_http_path(r), "/plain") == 0) {
        gn_http_write_string(w, "plain");
        return;
    }
    gn_conn *c = NULL;
    const char *buf = NULL;
    size_t nb = 0;
    s->rc = gn_http_hijack(w, &c, &buf, &nb);
    if (s->rc != 0) return;
    if (strcmp(gn_http_path(r), "/bye") == 0) {   /* the new owner talks, then hangs up */
        static const char bye[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: bye\r\nConnection: Upgrade\r\n\r\nbye";
        gn_set_deadline(c, gn_now() + SAFETY);
        CKR(gn_write(c, bye, sizeof bye - 1));
        CKI(0, gn_close(c));
        ASTORE(&s->closed, 1);
        return;
    }
    char *early = (char *)malloc(nb + 1);
    memcpy(early, buf, nb);
    s->second_rc = gn_http_hijack(w, &c, &buf, &nb);
    if (s->misuse) {   /* the writer is dead after a hijack: nothing may reach the wire */
        char *big = (char *)malloc(10000);
        memset(big, 'h', 10000);
        s->write_rc1 = gn_http_write(w, "x", 1);
        s->write_rc2 = gn_http_write(w, big, 10000);
        s->set_rc = gn_http_set_header(w, "X-After", "1");
        s->flush_rc = gn_http_flush(w);
        free(big);
    }
    static const char up[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n";
    gn_set_deadline(c, gn_now() + SAFETY);
    int64_t e = gn_write(c, up, sizeof up - 1);
    if (e > 0 && nb) e = gn_write(c, early, nb);
    free(early);
    char b[4096];
    while (e > 0) {
        e = gn_read(c, b, sizeof b);
        if (e > 0) {
            AADD(&s->echoed, (int)e);
            e = gn_write(c, b, (size_t)e);
        }
    }
    gn_close(c);
    ASTORE(&s->closed, 1);
}

/* Opens an upgraded connection, checks the 101 and the echo of the early bytes. */
static cl *hijack_open(const char *addr) {
    cl *k = cl_dial(addr);
    if (!k) return NULL;
    resp *r = resp_new();
    CKR(cl_sends(k, "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly"));
    CKI(0, cl_response(k, r, 0));
    CKS("HTTP/1.1 101 Switching Protocols", r->status_line);
    CKS("echo", hdr(r, "Upgrade"));
    resp_free(r);
    char got[16] = "";
    size_t n = 0;
    while (n < 5) {
        int64_t e = cl_read(k, got + n, 5 - n);
        if (!CKR(e)) break;
        n += (size_t)e;
    }
    CKS("early", got);
    CKR(cl_sends(k, "ping"));
    memset(got, 0, sizeof got);
    n = 0;
    while (n < 4) {
        int64_t e = cl_read(k, got + n, 4 - n);
        if (!CKR(e)) break;
        n += (size_t)e;
    }
    CKS("ping", got);
    return k;
}

/* A hijacked connection echoes; the server counts it while it is open and
 * forgets it when its new owner closes it.                                   */
static void b_hijack(void *arg) {
    (void)arg;
    hj_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_hijack, &s);
    if (srv_start(&t, &o)) return;
    cl *k = hijack_open(t.addr);
    CKI(0, s.rc);
    CKI(GN_ESTATE, s.second_rc);
    CKI(1, gn_http_server_conns(t.s));
    cl_close(k);
    for (int i = 0; i < 300 && !ALOAD(&s.closed); i++) gn_sleep(5 * MS);
    CK(ALOAD(&s.closed));
    int left = conns_reach(&t, 0, 1000);
    CKF(left == 0, "gn_http_server_conns is %d 1 s after the hijacked connection was closed by its owner", left);
    resp *r = resp_new();
    CKI(0, get_once(t.addr, "/plain", r));
    CKS("plain", body_str(r));
    resp_free(r);
    CKI(0, srv_stop(&t, 0));
}
TEST hijack_echo_and_count(void) { return run_body(1, b_hijack, NULL); }

/* When the new owner closes a hijacked connection, the peer sees the close.    */
static void b_hijack_owner_close(void *arg) {
    (void)arg;
    hj_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_hijack, &s);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKI(0, roundtrip(k, r, "GET /bye HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: bye\r\n\r\n", 0));
        CKI(101, r->status);
        char got[8] = "";
        size_t n = 0;
        while (n < 3) {
            int64_t e = cl_read(k, got + n, 3 - n);
            if (!CKR(e)) break;
            n += (size_t)e;
        }
        CKS("bye", got);
        for (int i = 0; i < 300 && !ALOAD(&s.closed); i++) gn_sleep(5 * MS);
        int64_t t0 = gn_now();
        int64_t e = cl_wait_close(k, 3000);
        CKF(is_closed(e), "the owner closed the hijacked connection, but after %lld ms the peer got %lld (%s)",
            (long long)ms_since(t0), (long long)e, e < 0 ? gn_strerror((int)e) : "bytes");
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST hijack_owner_close_reaches_peer(void) { return run_body(1, b_hijack_owner_close, NULL); }

/* Shutdown waits for a hijacked connection until its owner closes it.          */
typedef struct sd_call { gn_http_server *s; int64_t deadline; int rc; int done; int64_t t_done; } sd_call;
static void sd_call_co(void *arg) {
    sd_call *c = (sd_call *)arg;
    c->rc = gn_http_shutdown(c->s, c->deadline);
    c->t_done = gn_now();
    ASTORE(&c->done, 1);
}
static void b_hijack_shutdown(void *arg) {
    (void)arg;
    hj_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_hijack, &s);
    if (srv_start(&t, &o)) return;
    cl *k = hijack_open(t.addr);
    sd_call sc = {t.s, gn_now() + 5 * GN_SECOND, 1, 0, 0};
    spawn(sd_call_co, &sc);
    gn_sleep(300 * MS);
    CKF(!ALOAD(&sc.done), "shutdown returned %d while a hijacked connection was open", sc.rc);
    if (k) {   /* still echoing */
        CKR(cl_sends(k, "more"));
        char got[8] = "";
        size_t n = 0;
        while (n < 4) {
            int64_t e = cl_read(k, got + n, 4 - n);
            if (!CKR(e)) break;
            n += (size_t)e;
        }
        CKS("more", got);
    }
    int64_t t0 = gn_now();
    cl_close(k);
    join_all();
    CKI(0, sc.rc);
    CKF(sc.t_done - t0 < 1000 * MS, "shutdown returned %lld ms after the hijacked connection closed",
        (long long)((sc.t_done - t0) / MS));
    CKI(0, gn_http_server_conns(t.s));
    t.s = t.s;
    /* finish as srv_stop does, shutdown done */
    int src = 1;
    gn_select_case cs = {t.done, GN_RECV, &src, 0};
    CKI(0, gn_select_until(&cs, 1, gn_now() + 5 * GN_SECOND));
    CKI(GN_ECLOSED, src);
    gn_http_server_free(t.s);
    gn_chan_free(t.done);
}
TEST hijack_shutdown_waits(void) { return run_body(1, b_hijack_shutdown, NULL); }

/* ==== new connections that have sent nothing ============================================================ */
/* A crowd of new connections that send nothing waits in the poller as idle
 * keep-alive ones do: no coroutine and no work block each (a block is about
 * 35 KiB), so a flood of them is no cheaper for the attacker than for the
 * server. They are closed quietly at read_header_timeout, and a normal
 * client is served meanwhile.                                                */
static void b_silent_crowd(void *arg) {
    (void)arg;
    int n = g_scale > 1 ? 100 : 500;
#ifndef _WIN32
    struct rlimit rl;   /* two descriptors a connection: the client's and the server's */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)(2 * n + 64))
        n = rl.rlim_cur > 264 ? (int)(rl.rlim_cur - 64) / 2 : 100;
#endif
    sd_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sd, &s);
    o.read_header_timeout = 1500 * MS;
    o.idle_timeout = 5 * GN_SECOND;
    if (srv_start(&t, &o)) return;
    resp *r = resp_new();
    CKI(0, get_once(t.addr, "/fast", r));   /* one-time costs go into the baseline */
    CKI(0, conns_reach(&t, 0, 2000));
    gn_conn **cs = (gn_conn **)calloc((size_t)n, sizeof *cs);
    gn_sleep(20 * MS);
    int g0 = gn_num_goroutine();
    long rss0 = rss_kib();
    int64_t t0 = gn_now();
    int opened = 0;
    while (opened < n && CKI(0, gn_dial(&cs[opened], "tcp", t.addr))) opened++;
    CKI(opened, conns_reach(&t, opened, 5000));
    gn_sleep(50 * MS);
    int g1 = gn_num_goroutine();
    long rss1 = rss_kib();
    CKF(g1 - g0 <= 10, "%d silent connections: %d coroutines before them, %d with them", opened, g0, g1);
    /* Both ends are in this process: two gn_conns and the server's struct,
     * about 1 KiB in all; a coroutine and a work block each made it 9 KiB.   */
    /* Not under the sanitizers (their shadow memory would be counted too) nor
     * under an emulator (GN_TEST_RUNNER: qemu's translated code is counted).  */
#if !GN__ASAN && !GN__TSAN
    const char *runner = getenv("GN_TEST_RUNNER");
    if (rss0 > 0 && rss1 > 0 && opened > 0 && !(runner && *runner))
        CKF((rss1 - rss0) * 1024 / opened < 4 * 1024, "%d silent connections added %ld KiB of RSS (%ld bytes each)",
            opened, rss1 - rss0, (rss1 - rss0) * 1024 / opened);
#else
    (void)rss0, (void)rss1;
#endif
    resp_reset(r);
    int rc = get_once(t.addr, "/fast", r);
    if (CKI(0, rc)) CKS("fast", body_str(r));
    CKF(ms_since(t0) < 1400, "the crowd took %lld ms to set up: too slow to see the timeout", (long long)ms_since(t0));
    int closed = 0, early = 0, bytes = 0;
    for (int i = 0; i < opened; i++) {
        char b[64];
        gn_set_read_deadline(cs[i], t0 + 10 * GN_SECOND);
        int64_t e = gn_read(cs[i], b, sizeof b);
        if (e > 0) bytes++;
        else if (is_closed(e)) closed++;
        if (gn_now() - t0 < 1400 * MS) early++;
    }
    int64_t ms = ms_since(t0);
    CKF(closed == opened && bytes == 0 && early == 0 && ms < 8000,
        "of %d silent connections (read_header_timeout 1500 ms), %d were closed quietly, %d got bytes, %d "
        "ended before 1400 ms; the last after %lld ms", opened, closed, bytes, early, (long long)ms);
    CKI(0, conns_reach(&t, 0, 3000));
    for (int i = 0; i < opened; i++) gn_close(cs[i]);
    free(cs);
    resp_free(r);
    CKI(0, srv_stop(&t, 0));
}
TEST silent_crowd_waits_in_poller(void) { return run_body(2, b_silent_crowd, NULL); }

/* A connection accepted before shutdown whose first request comes after
 * shutdown began is answered (with Connection: close): until its first
 * request a connection counts as active, so shutdown waits for it, as Go's
 * does (golang/go#22682). Shutdown then returns 0 at once.                  */
static void b_shutdown_new_conn(void *arg) {
    (void)arg;
    sd_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sd, &s);
    o.read_header_timeout = 5 * GN_SECOND;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    sd_call sc = {t.s, 0, 1, 0, 0};
    if (k) {
        CKI(1, conns_reach(&t, 1, 2000));
        gn_sleep(20 * MS);   /* accepted: it waits in the poller */
        int64_t t0 = gn_now();
        sc.deadline = t0 + 3 * GN_SECOND;
        spawn(sd_call_co, &sc);
        gn_sleep(100 * MS);
        CKF(!ALOAD(&sc.done), "shutdown returned %d while a new connection could still send its request", sc.rc);
        int rc = cl_get(k, r, "/fast");
        if (CKF(rc == 0, "the request sent after shutdown began: %d (%s)", rc, gn_strerror(rc))) {
            CKI(200, r->status);
            CKS("fast", body_str(r));
            CKS("close", hdr(r, "Connection") ? hdr(r, "Connection") : "");
        }
        CK(is_closed(cl_wait_close(k, 3000)));
        join_all();
        CKI(0, sc.rc);
        CKF(sc.t_done - t0 < 2000 * MS, "shutdown returned after %lld ms", (long long)((sc.t_done - t0) / MS));
    }
    resp_free(r);
    cl_close(k);
    if (!k) {
        srv_stop(&t, 0);
        return;
    }
    int src = 1;
    gn_select_case cs = {t.done, GN_RECV, &src, 0};
    CKI(0, gn_select_until(&cs, 1, gn_now() + 5 * GN_SECOND));
    CKI(GN_ECLOSED, src);
    CKI(0, conns_reach(&t, 0, 3000));
    gn_http_server_free(t.s);
    gn_chan_free(t.done);
}
TEST shutdown_answers_new_connection(void) { return run_body(1, b_shutdown_new_conn, NULL); }

/* A hijacked connection whose owner never lets go: shutdown's deadline cuts
 * it (the owner's read ends, the peer sees the close) and says GN_ETIMEDOUT. */
static void b_hijack_deadline(void *arg) {
    (void)arg;
    hj_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_hijack, &s);
    if (srv_start(&t, &o)) return;
    cl *k = hijack_open(t.addr);
    if (k) {
        int64_t t0 = gn_now();
        int rc = gn_http_shutdown(t.s, t0 + 300 * MS);
        int64_t ms = ms_since(t0);
        CKI(GN_ETIMEDOUT, rc);
        CKF(ms >= 300 && ms < 3000, "shutdown with a 300 ms deadline returned after %lld ms", (long long)ms);
        int64_t e = cl_wait_close(k, 3000);
        CKF(is_closed(e), "the hijacked connection after the shutdown deadline: %lld (%s)", (long long)e,
            e < 0 ? gn_strerror((int)e) : "bytes");
        for (int i = 0; i < 300 && !ALOAD(&s.closed); i++) gn_sleep(5 * MS);
        CK(ALOAD(&s.closed));   /* the owner's read ended */
    }
    cl_close(k);
    CKI(0, conns_reach(&t, 0, 3000));
    srv_stop(&t, 0);
}
TEST hijack_cut_at_shutdown_deadline(void) { return run_body(1, b_hijack_deadline, NULL); }

/* A hijacked, then closed, connection gives back its max_conns slot.           */
static void b_hijack_slot(void *arg) {
    (void)arg;
    hj_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_hijack, &s);
    o.max_conns = 1;
    if (srv_start(&t, &o)) return;
    cl *k = hijack_open(t.addr);
    cl_close(k);
    for (int i = 0; i < 300 && !ALOAD(&s.closed); i++) gn_sleep(5 * MS);
    CK(ALOAD(&s.closed));
    k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        k->rto = 2 * GN_SECOND;
        int rc = cl_get(k, r, "/plain");
        CKF(rc == 0, "with max_conns 1, a request after a hijacked connection closed: %d (%s)", rc, gn_strerror(rc));
        CKS("plain", body_str(r));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST hijack_closed_frees_max_conns_slot(void) { return run_body(1, b_hijack_slot, NULL); }

/* After a hijack the response writer must not write to the connection: the
 * client sees only what the new owner writes.                                 */
static void b_hijack_misuse(void *arg) {
    (void)arg;
    hj_st s;
    memset(&s, 0, sizeof s);
    s.misuse = 1;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_hijack, &s);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    if (k) {
        CKR(cl_sends(k, "GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"));
        gn_close_write(k->c);
        k->rto = 2 * GN_SECOND;   /* (the end may not come: see hijack_owner_close_reaches_peer) */
        char *all = (char *)calloc(1, 65536);
        size_t n = 0;
        for (;;) {
            int64_t e = cl_read(k, all + n, 65535 - n);
            if (e <= 0) break;
            n += (size_t)e;
        }
        static const char up[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n";
        CKF(n == sizeof up - 1 && memcmp(all, up, n) == 0,
            "the hijacked connection carried %zu bytes, starting \"%.60s\", not just the 101", n, all);
        free(all);
        CKF(s.write_rc1 < 0 && s.write_rc2 < 0 && s.flush_rc < 0,
            "gn_http_write after hijack returned %lld and %lld, gn_http_flush %lld", (long long)s.write_rc1,
            (long long)s.write_rc2, (long long)s.flush_rc);
    }
    cl_close(k);
    for (int i = 0; i < 300 && !ALOAD(&s.closed); i++) gn_sleep(5 * MS);
    CKI(0, srv_stop(&t, 0));
}
TEST hijack_then_writer_is_dead(void) { return run_body(1, b_hijack_misuse, NULL); }

/* ==== max_conns ========================================================================================== */
/* With max_conns 2, a third connection is not served until one of the first
 * two closes; then its waiting request is.                                     */
static void b_max_conns(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_sleepy, NULL);
    o.max_conns = 2;
    if (srv_start(&t, &o)) return;
    resp *r = resp_new();
    cl *a = cl_dial(t.addr), *b = cl_dial(t.addr), *c = cl_dial(t.addr);
    if (a && b && c) {
        CKI(0, cl_get(a, r, "/a"));
        CKS("/a", body_str(r));
        CKI(0, cl_get(b, r, "/b"));
        CKS("/b", body_str(r));
        CKR(cl_sends(c, "GET /c HTTP/1.1\r\nHost: t\r\n\r\n"));
        int64_t e = cl_wait_close(c, 400);
        CKF(e == GN_ETIMEDOUT, "a third connection over max_conns 2 got %lld (%s)", (long long)e,
            e < 0 ? gn_strerror((int)e) : "bytes");
        CKI(2, gn_http_server_conns(t.s));
        CKI(0, cl_get(b, r, "/b2"));   /* the first two are still served */
        CKS("/b2", body_str(r));
        cl_close(a);
        a = NULL;
        int64_t t0 = gn_now();
        CKI(0, cl_response(c, r, 0));
        CKS("/c", body_str(r));
        CKF(ms_since(t0) < 2000, "the waiting request took %lld ms after a slot freed", (long long)ms_since(t0));
        CK(gn_http_server_conns(t.s) <= 2);
    }
    cl_close(a);
    cl_close(b);
    cl_close(c);
    resp_free(r);
    CKI(0, srv_stop(&t, 0));
}
TEST max_conns_waits_for_a_slot(void) { return run_body(1, b_max_conns, NULL); }

/* ==== the request API ==================================================================================== */
typedef struct api_rec {
    char method[32], target[256], path[256], query[256], host[128], remote[80], hget[64], hsp[64], hdrs[1024];
    int minor, missing_null, nh;
    long long clen;
    int64_t body_n;
    char tail[16];
} api_rec;
static gn_chan *g_recs;
static const char *nz(const char *s) { return s ? s : "(null)"; }   /* api_rec * from the handler to the body              */
static void h_api(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    api_rec *a = (api_rec *)calloc(1, sizeof *a);
    snprintf(a->method, sizeof a->method, "%s", nz(gn_http_method(r)));
    snprintf(a->target, sizeof a->target, "%s", nz(gn_http_target(r)));
    snprintf(a->path, sizeof a->path, "%s", nz(gn_http_path(r)));
    snprintf(a->query, sizeof a->query, "%s", nz(gn_http_raw_query(r)));
    snprintf(a->host, sizeof a->host, "%s", nz(gn_http_host(r)));
    snprintf(a->remote, sizeof a->remote, "%s", nz(gn_http_remote_addr(r)));
    const char *h = gn_http_header_get(r, "x-REP");
    snprintf(a->hget, sizeof a->hget, "%s", h ? h : "(null)");
    h = gn_http_header_get(r, "X-Sp");
    snprintf(a->hsp, sizeof a->hsp, "%s", h ? h : "(null)");
    a->missing_null = gn_http_header_get(r, "X-Missing") == NULL;
    a->minor = gn_http_proto_minor(r);
    a->clen = (long long)gn_http_content_length(r);
    const gn_http_header *hs = NULL;
    size_t n = gn_http_headers(r, &hs);
    a->nh = (int)n;
    for (size_t i = 0; i < n; i++) {
        CKI(strlen(hs[i].name), hs[i].name_len);
        CKI(strlen(hs[i].value), hs[i].value_len);
        snprintf(a->hdrs + strlen(a->hdrs), sizeof a->hdrs - strlen(a->hdrs), "%s=%s|", hs[i].name, hs[i].value);
    }
    char buf[64];
    int64_t got;
    while ((got = gn_http_body_read(r, buf, sizeof buf)) > 0) {
        size_t m = (size_t)got < sizeof a->tail - 1 ? (size_t)got : sizeof a->tail - 1;
        memcpy(a->tail, buf, m);
        a->tail[m] = 0;
        a->body_n += got;
    }
    gn_chan_send(g_recs, &a);
    gn_http_write_string(w, "ok");
}

/* Sends req on a fresh connection and returns the handler's record.           */
static api_rec *api_call(const char *addr, const char *req, char *local, size_t nlocal) {
    cl *k = cl_dial(addr);
    if (!k) return NULL;
    if (local) gn_local_addr(k->c, local, nlocal);
    resp *r = resp_new();
    CKI(0, roundtrip(k, r, req, 0));
    CKI(200, r->status);
    resp_free(r);
    cl_close(k);
    api_rec *a = NULL;
    gn_select_case cs = {g_recs, GN_RECV, &a, 0};
    if (!CKI(0, gn_select_until(&cs, 1, gn_now() + 5 * GN_SECOND))) return NULL;
    return a;
}

static void b_request_api(void *arg) {
    (void)arg;
    g_recs = gn_chan_new(sizeof(api_rec *), 16);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_api, NULL);
    if (srv_start(&t, &o)) return;
    char local[80] = "";
    api_rec *a = api_call(t.addr,
                          "POST /a%20b/c%2Fd/%7e?x=1&y=%20z HTTP/1.1\r\nHost: Example.com:8080\r\nX-Rep: 1\r\n"
                          "x-rep: 2\r\nX-Other: o\r\nX-REP: 3\r\nX-Sp:  \t padded value \t \r\nContent-Length: 5\r\n\r\nhello",
                          local, sizeof local);
    if (a) {
        CKS("POST", a->method);
        CKS("/a%20b/c%2Fd/%7e?x=1&y=%20z", a->target);
        CKS("/a b/c/d/~", a->path);
        CKS("x=1&y=%20z", a->query);
        CKS("Example.com:8080", a->host);
        CKS(local, a->remote);
        CKF(strncmp(a->remote, "127.0.0.1:", 10) == 0, "remote address \"%s\"", a->remote);
        CKI(1, a->minor);
        CKS("1", a->hget);
        CKS("padded value", a->hsp);
        CK(a->missing_null);
        CKI(7, a->nh);
        CKS("Host=Example.com:8080|X-Rep=1|x-rep=2|X-Other=o|X-REP=3|X-Sp=padded value|Content-Length=5|", a->hdrs);
        CKI(5, a->clen);
        CKI(5, a->body_n);
        CKS("hello", a->tail);
        free(a);
    }
    a = api_call(t.addr, "GET /plain HTTP/1.0\r\n\r\n", NULL, 0);
    if (a) {
        CKS("GET", a->method);
        CKS("/plain", a->path);
        CKS("", a->query);
        CKS("", a->host);
        CKI(0, a->minor);
        CKI(-1, a->clen);
        CKI(0, a->nh);
        CKS("(null)", a->hget);
        free(a);
    }
    a = api_call(t.addr, "PUT /c?q HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", NULL, 0);
    if (a) {
        CKS("PUT", a->method);
        CKS("q", a->query);
        CKI(-1, a->clen);
        CKI(3, a->body_n);
        free(a);
    }
    a = api_call(t.addr, "GET http://h.example:81/p%41th?k=v HTTP/1.1\r\nHost: other.example\r\n\r\n", NULL, 0);
    if (a) {   /* absolute form: the target's authority is the host */
        CKS("http://h.example:81/p%41th?k=v", a->target);
        CKS("/pAth", a->path);
        CKS("k=v", a->query);
        CKS("h.example:81", a->host);
        free(a);
    }
    a = api_call(t.addr, "get /lower HTTP/1.1\r\nHost: h\r\n\r\n", NULL, 0);
    if (a) {   /* methods are case-sensitive tokens: as sent */
        CKS("get", a->method);
        free(a);
    }
    CKI(0, srv_stop(&t, 0));
    gn_chan_free(g_recs);
}
TEST request_api(void) { return run_body(1, b_request_api, NULL); }

/* ::1: the server on IPv6, the remote address in brackets.                      */
static void b_ipv6(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_remote, NULL);
    if (srv_start_at(&t, &o, "[::1]:0")) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        char req[128];
        snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", t.addr);
        CKI(0, roundtrip(k, r, req, 0));
        CKI(200, r->status);
        char local[80] = "";
        gn_local_addr(k->c, local, sizeof local);
        CKS(local, body_str(r));
        CKF(strncmp(body_str(r), "[::1]:", 6) == 0, "remote address \"%s\"", body_str(r));
    }
    if (curl_path()) {
        char u[128];
        snprintf(u, sizeof u, "http://%s/", t.addr);
        cmd *c = curl_new(20000);
        cmd_arg(c, "-g");
        cmd_arg(c, u);
        cmd_run(c);
        CK_CMD(c);
        CKF(strncmp(c->out, "[::1]:", 6) == 0, "curl over ::1 got \"%s\"", c->out);
        free(c);
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
static int have_ipv6(void) {
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return 0;
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}
TEST ipv6_loopback(void) {
    if (!have_ipv6()) SKIPm("no IPv6 loopback (::1) here");
    return run_body(1, b_ipv6, NULL);
}

/* The request's context is cancelled when the client goes away (documented in
 * api_http.h), so that a handler can stop work nobody will read.              */
typedef struct ctx_st { int rc, err, entered; int64_t ms; gn_chan *done; } ctx_st;
static void h_ctx(gn_http_response *w, gn_http_request *r, void *ud) {
    ctx_st *s = (ctx_st *)ud;
    gn_context *ctx = gn_http_request_context(r);
    CK(ctx != NULL);
    CK(ctx == gn_http_request_context(r));
    ASTORE(&s->entered, 1);
    int64_t t0 = gn_now();
    gn_select_case cs = {gn_context_done(ctx), GN_RECV, NULL, 0};
    s->rc = gn_select_until(&cs, 1, gn_now() + 3 * GN_SECOND);
    s->ms = ms_since(t0);
    s->err = gn_context_err(ctx);
    gn_http_write_string(w, "late");
    gn_chan_send(s->done, NULL);
}
static void b_ctx(void *arg) {
    (void)arg;
    ctx_st s;
    memset(&s, 0, sizeof s);
    s.done = gn_chan_new(0, 1);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_ctx, &s);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    if (k) {
        CKR(cl_sends(k, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
        for (int i = 0; i < 500 && !ALOAD(&s.entered); i++) gn_sleep(2 * MS);
        gn_sleep(50 * MS);
        cl_close(k);
        k = NULL;
        gn_select_case cs = {s.done, GN_RECV, NULL, 0};
        CKI(0, gn_select_until(&cs, 1, gn_now() + 10 * GN_SECOND));
        CKF(s.rc == 0 && s.ms < 1500,
            "the request context was not cancelled when the client went away (waited %lld ms, context err %d)",
            (long long)s.ms, s.err);
        if (s.rc == 0) CKI(GN_ECANCELED, s.err);
    }
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
    gn_chan_free(s.done);
}
TEST request_context_cancelled_when_client_leaves(void) { return run_body(1, b_ctx, NULL); }

/* The request context stays live while the client is there: a pipelined
 * request or body bytes arriving during the handler are not a hang-up, and
 * both requests are served.                                                   */
typedef struct ctx2_st { int err_first, err_body, n; int64_t body; } ctx2_st;
static void h_ctx2(gn_http_response *w, gn_http_request *r, void *ud) {
    ctx2_st *s = (ctx2_st *)ud;
    gn_context *ctx = gn_http_request_context(r);
    gn_sleep(200 * MS);   /* meanwhile the client sends more */
    if (strcmp(gn_http_path(r), "/body") == 0) {
        char b[256];
        int64_t got;
        while ((got = gn_http_body_read(r, b, sizeof b)) > 0) s->body += got;
        s->err_body = gn_context_err(ctx);
    } else {
        s->err_first = gn_context_err(ctx);
    }
    AADD(&s->n, 1);
    gn_http_write_string(w, gn_http_path(r));
}
static void b_ctx_pipelined(void *arg) {
    (void)arg;
    ctx2_st s;
    memset(&s, 0, sizeof s);
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_ctx2, &s);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKR(cl_sends(k, "GET /first HTTP/1.1\r\nHost: t\r\n\r\n"));
        gn_sleep(50 * MS);
        CKR(cl_sends(k, "GET /second HTTP/1.1\r\nHost: t\r\n\r\n"));
        CKI(0, cl_response(k, r, 0));
        CKS("/first", body_str(r));
        CKI(0, cl_response(k, r, 0));
        CKS("/second", body_str(r));
        CKI(0, s.err_first);
        CKR(cl_sends(k, "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n01234"));
        gn_sleep(50 * MS);
        CKR(cl_sends(k, "56789"));
        CKI(0, cl_response(k, r, 0));
        CKS("/body", body_str(r));
        CKI(10, s.body);
        CKI(0, s.err_body);
        CKI(3, ALOAD(&s.n));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST request_context_live_with_pipelined_data(void) { return run_body(2, b_ctx_pipelined, NULL); }

/* gn_http_error, gn_http_redirect, and the statuses that carry no body.       */
static void h_helpers(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    const char *p = gn_http_path(r);
    if (strcmp(p, "/error") == 0) {
        gn_http_set_header(w, "Content-Type", "text/html");   /* replaced by the error's */
        CKI(0, gn_http_error(w, "it broke", 503));
    } else if (strcmp(p, "/redirect") == 0) {
        CKI(0, gn_http_redirect(w, r, "/to?a=<b>&c=\"d\"", 302));
    } else if (strcmp(p, "/badredirect") == 0) {
        CKI(GN_EINVAL, gn_http_redirect(w, r, "/x\r\nSet-Cookie: a=b", 302));
        CKI(GN_EINVAL, gn_http_redirect(w, r, "/x", 200));
        gn_http_write_string(w, "no");
    } else if (strcmp(p, "/204") == 0) {
        CKI(0, gn_http_write_header(w, 204));
        gn_http_write_string(w, "ignored");
    } else if (strcmp(p, "/304") == 0) {
        gn_http_set_header(w, "ETag", "\"v1\"");
        CKI(0, gn_http_write_header(w, 304));
        gn_http_write_string(w, "ignored");
    } else if (strcmp(p, "/201") == 0) {
        CKI(0, gn_http_write_header(w, 201));
        CKI(GN_ESTATE, gn_http_write_header(w, 202));
        gn_http_write_string(w, "made");
    } else if (strcmp(p, "/599") == 0) {
        CKI(0, gn_http_write_header(w, 599));
    }
}
static void b_helpers(void *arg) {
    (void)arg;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_helpers, NULL);
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKI(0, cl_get(k, r, "/error"));
        CKS("HTTP/1.1 503 Service Unavailable", r->status_line);
        CKS("text/plain; charset=utf-8", hdr(r, "Content-Type"));
        CKS("nosniff", hdr(r, "X-Content-Type-Options"));
        CKS("it broke\n", body_str(r));
        CKI(0, cl_get(k, r, "/redirect"));
        CKS("HTTP/1.1 302 Found", r->status_line);
        CKS("/to?a=<b>&c=\"d\"", hdr(r, "Location"));
        CKSUB(body_str(r), "<a href=\"/to?a=&lt;b&gt;&amp;c=&#34;d&#34;\">Found</a>");
        CKI(0, roundtrip(k, r, "HEAD /redirect HTTP/1.1\r\nHost: t\r\n\r\n", 1));
        CKI(302, r->status);
        CKI(0, cl_get(k, r, "/badredirect"));
        CKI(200, r->status);
        CK(hdr(r, "Location") == NULL && hdr(r, "Set-Cookie") == NULL);
        CKI(0, cl_get(k, r, "/204"));
        CKS("HTTP/1.1 204 No Content", r->status_line);
        CK(hdr(r, "Content-Length") == NULL);
        CK(hdr(r, "Transfer-Encoding") == NULL);
        CKI(0, cl_get(k, r, "/304"));
        CKS("HTTP/1.1 304 Not Modified", r->status_line);
        CKS("\"v1\"", hdr(r, "ETag"));
        CK(hdr(r, "Transfer-Encoding") == NULL);
        CKI(0, cl_get(k, r, "/201"));   /* the connection is still in step */
        CKS("HTTP/1.1 201 Created", r->status_line);
        CKS("made", body_str(r));
        CKI(0, cl_get(k, r, "/599"));
        CKI(599, r->status);
        CKF(strncmp(r->status_line, "HTTP/1.1 599", 12) == 0, "status line \"%s\"", r->status_line);
        CKI(1, gn_http_server_conns(t.s));
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST error_redirect_and_bodyless_statuses(void) { return run_body(1, b_helpers, NULL); }

/* ==== bad arguments ======================================================================================== */
typedef struct args_rec {
    int inj1, inj2, inj3, inj4, name1, name2, name3, nullv, nulln, badcl, good, wh1, wh2, wh_ok;
    int64_t w1, w2, wnull, wnull0, bread, flush;
    int late_set, late_add, late_del, late_wh, hijack_null;
} args_rec;
static void h_args(gn_http_response *w, gn_http_request *r, void *ud) {
    args_rec *a = (args_rec *)ud;
    a->inj1 = gn_http_set_header(w, "X-A", "v\r\nX-Injected: 1");
    a->inj2 = gn_http_set_header(w, "X-A", "v\nX-Injected: 1");
    a->inj3 = gn_http_add_header(w, "X-A", "v\rX-Injected: 1");
    a->inj4 = gn_http_set_header(w, "X-Injected: 1\r\nX-A", "v");
    a->name1 = gn_http_set_header(w, "X Bad", "v");
    a->name2 = gn_http_set_header(w, "X-Bad:", "v");
    a->name3 = gn_http_set_header(w, "", "v");
    a->nullv = gn_http_set_header(w, "X-A", NULL);
    a->nulln = gn_http_set_header(w, NULL, "v");
    a->badcl = gn_http_set_header(w, "Content-Length", "12x");
    a->good = gn_http_set_header(w, "X-Good", "yes\tand obs-text \xc3\xa9");
    a->wh1 = gn_http_write_header(w, 99);
    a->wh2 = gn_http_write_header(w, 1000);
    a->wnull = gn_http_write(w, NULL, 5);
    a->bread = gn_http_body_read(r, NULL, 5);
    a->hijack_null = gn_http_hijack(w, NULL, NULL, NULL);
    a->wh_ok = gn_http_write_header(w, 201);
    a->w1 = gn_http_write_string(w, "hello");
    a->flush = gn_http_flush(w);   /* the head is out */
    a->late_set = gn_http_set_header(w, "X-Late", "1");
    a->late_add = gn_http_add_header(w, "X-Late", "1");
    a->late_del = gn_http_del_header(w, "X-Good");
    a->late_wh = gn_http_write_header(w, 500);
    a->wnull0 = gn_http_write(w, NULL, 0);
    a->w2 = gn_http_write_string(w, " world");
}
static void b_bad_args(void *arg) {
    (void)arg;
    /* outside any handler */
    gn_http_server_opts o;
    opts_init(&o, NULL, NULL);
    CK(gn_http_server_new(NULL) == NULL);
    CK(gn_http_server_new(&o) == NULL);   /* no handler */
    CKI(GN_EINVAL, gn_http_write(NULL, "x", 1));
    CKI(GN_EINVAL, gn_http_write_string(NULL, "x"));
    CKI(GN_EINVAL, gn_http_set_header(NULL, "A", "b"));
    CKI(GN_EINVAL, gn_http_add_header(NULL, "A", "b"));
    CKI(GN_EINVAL, gn_http_del_header(NULL, "A"));
    CKI(GN_EINVAL, gn_http_write_header(NULL, 200));
    CKI(GN_EINVAL, gn_http_flush(NULL));
    CKI(GN_EINVAL, gn_http_error(NULL, "x", 500));
    CKI(GN_EINVAL, gn_http_redirect(NULL, NULL, "/x", 302));
    gn_conn *c = NULL;
    CKI(GN_EINVAL, gn_http_hijack(NULL, &c, NULL, NULL));
    char buf[8];
    CKI(GN_EINVAL, gn_http_body_read(NULL, buf, sizeof buf));
    CK(gn_http_method(NULL) == NULL);
    CK(gn_http_target(NULL) == NULL);
    CK(gn_http_path(NULL) == NULL);
    CK(gn_http_raw_query(NULL) == NULL);
    CK(gn_http_host(NULL) == NULL);
    CK(gn_http_remote_addr(NULL) == NULL);
    CK(gn_http_header_get(NULL, "Host") == NULL);
    CK(gn_http_request_context(NULL) == NULL);
    CKI(GN_EINVAL, gn_http_proto_minor(NULL));
    CKI(GN_EINVAL, gn_http_content_length(NULL));
    const gn_http_header *hs = NULL;
    CKI(0, gn_http_headers(NULL, &hs));
    CKS("Not Found", gn_http_status_text(404));
    CKS("", gn_http_status_text(799));
    CKI(GN_EINVAL, gn_http_shutdown(NULL, 0));
    CKI(GN_EINVAL, gn_http_server_conns(NULL));
    gn_http_server_free(NULL);
    args_rec a;
    memset(&a, 0, sizeof a);
    opts_init(&o, h_args, &a);
    gn_http_server *s = gn_http_server_new(&o);
    if (!CK(s != NULL)) return;
    gn_listener *l = NULL;
    CKI(0, gn_listen(&l, "tcp", "127.0.0.1:0"));
    CKI(GN_EINVAL, gn_http_serve(NULL, l));
    CKI(GN_EINVAL, gn_http_serve(s, NULL));
    CKI(GN_EINVAL, gn_http_listen_and_serve(NULL, "127.0.0.1:0"));
    CKI(GN_EINVAL, gn_http_listen_and_serve(s, NULL));
    CK(gn_http_listen_and_serve(s, "127.0.0.1:99999") < 0);
    CK(gn_http_listen_and_serve(s, "no-colon") < 0);
    gn_listener_close(l);
    CKI(0, gn_http_server_conns(s));
    gn_http_server_free(s);   /* never served */
    /* inside a handler */
    srv t;
    if (srv_start(&t, &o)) return;
    cl *k = cl_dial(t.addr);
    resp *r = resp_new();
    if (k) {
        CKI(0, cl_get(k, r, "/"));
        CKI(201, r->status);
        CKS("hello world", body_str(r));
        CK(hdr(r, "X-Injected") == NULL);
        CK(hdr(r, "X-Late") == NULL);
        CK(hdr(r, "X-A") == NULL);
        CKS("yes\tand obs-text \xc3\xa9", hdr(r, "X-Good"));
        for (int i = 0; i < r->nh; i++) CKF(strstr(r->value[i], "Injected") == NULL, "%s: %s", r->name[i], r->value[i]);
        CKI(GN_EINVAL, a.inj1);
        CKI(GN_EINVAL, a.inj2);
        CKI(GN_EINVAL, a.inj3);
        CKI(GN_EINVAL, a.inj4);
        CKI(GN_EINVAL, a.name1);
        CKI(GN_EINVAL, a.name2);
        CKI(GN_EINVAL, a.name3);
        CKI(GN_EINVAL, a.nullv);
        CKI(GN_EINVAL, a.nulln);
        CKI(GN_EINVAL, a.badcl);
        CKI(0, a.good);
        CKI(GN_EINVAL, a.wh1);
        CKI(GN_EINVAL, a.wh2);
        CKI(GN_EINVAL, a.wnull);
        CKI(GN_EINVAL, a.bread);
        CKI(GN_EINVAL, a.hijack_null);
        CKI(0, a.wh_ok);
        CKI(5, a.w1);
        CKI(0, a.flush);
        CKI(GN_ESTATE, a.late_set);
        CKI(GN_ESTATE, a.late_add);
        CKI(GN_ESTATE, a.late_del);
        CKI(GN_ESTATE, a.late_wh);
        CKI(0, a.wnull0);
        CKI(6, a.w2);
    }
    resp_free(r);
    cl_close(k);
    CKI(0, srv_stop(&t, 0));
}
TEST bad_arguments(void) { return run_body(1, b_bad_args, NULL); }

/* ==== load ============================================================================================= */
/* 200 concurrent keep-alive clients x 50 requests over two Ps; every response
 * is checked (body = the path), and each client keeps its one connection.   */
static void h_load(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    AADD(&g_calls, 1);
    gn_http_write_string(w, gn_http_path(r));
}
typedef struct load_cl { const char *addr; int id, nreq, ok; int *maxconns; gn_http_server *s; } load_cl;
static void load_co(void *arg) {
    load_cl *c = (load_cl *)arg;
    cl *k = cl_dial(c->addr);
    resp *r = resp_new();
    char local[80] = "";
    if (k) gn_local_addr(k->c, local, sizeof local);
    for (int j = 0; k && j < c->nreq; j++) {
        char path[64];
        snprintf(path, sizeof path, "/c%d/r%d", c->id, j);
        int rc = cl_get(k, r, path);
        if (!CKF(rc == 0, "client %d request %d: %d (%s)", c->id, j, rc, gn_strerror(rc))) break;
        if (!CKF(r->status == 200 && strcmp(body_str(r), path) == 0 && r->clen == (int64_t)strlen(path) &&
                 !hdr(r, "Connection"),
                 "client %d request %d: %d \"%s\"", c->id, j, r->status, body_str(r)))
            break;
        c->ok++;
        if (j % 10 == 0) {
            int n = gn_http_server_conns(c->s);
            int m = ALOAD(c->maxconns);
            while (n > m && !__atomic_compare_exchange_n(c->maxconns, &m, n, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            }
        }
    }
    char again[80] = "";
    if (k) gn_local_addr(k->c, again, sizeof again);
    CKS(local, again);
    resp_free(r);
    cl_close(k);
}
static void b_load(void *arg) {
    (void)arg;
    ASTORE(&g_calls, 0);
    int nc = (int)scaled(200), nreq = 50;
    srv t;
    gn_http_server_opts o;
    opts_init(&o, h_load, NULL);
    if (srv_start(&t, &o)) return;
    load_cl *cs = (load_cl *)calloc((size_t)nc, sizeof *cs);
    int maxconns = 0;
    for (int i = 0; i < nc; i++) {
        cs[i].addr = t.addr;
        cs[i].id = i;
        cs[i].nreq = nreq;
        cs[i].maxconns = &maxconns;
        cs[i].s = t.s;
        spawn(load_co, &cs[i]);
    }
    join_all();
    int ok = 0;
    for (int i = 0; i < nc; i++) ok += cs[i].ok;
    CKI(nc * nreq, ok);
    CKI(nc * nreq, ALOAD(&g_calls));
    CKF(maxconns <= nc, "%d connections for %d clients", maxconns, nc);
    free(cs);
    CKI(0, conns_reach(&t, 0, 3000));
    CKI(0, srv_stop(&t, 0));
}
TEST load_keep_alive_clients(void) { return run_body(2, b_load, NULL); }

SUITE(connections) {
    RUN_TEST(keep_alive_reuse);
    RUN_TEST(curl_reuses_connection);
    RUN_TEST(http10_closes);
    RUN_TEST(http10_keep_alive);
    RUN_TEST(connection_close_honoured);
    RUN_TEST(pipeline_100);
    RUN_TEST(pipeline_1000_over_buffer);
    RUN_TEST(pipeline_stops_at_connection_close);
}

SUITE(request_bodies) {
    RUN_TEST(body_content_length);
    RUN_TEST(body_chunked_ext_trailers);
    RUN_TEST(body_chunked_trickled);
    RUN_TEST(header_block_at_limit);
    RUN_TEST(body_unread_small_drained);
    RUN_TEST(body_unread_large_closes);
    RUN_TEST(expect_continue_raw);
    RUN_TEST(expect_continue_body_sent_anyway);
    RUN_TEST(expect_continue_curl);
    RUN_TEST(body_413_over_limit);
    RUN_TEST(body_chunked_over_limit);
}

SUITE(large_bodies) {
    RUN_TEST(upload_100mb_raw);
    RUN_TEST(upload_100mb_curl_chunked);
    RUN_TEST(download_100mb_chunked);
}

SUITE(streaming) {
    RUN_TEST(streaming_and_content_length);
    RUN_TEST(flush_sends_early);
    RUN_TEST(write_buffer_sizes);
    RUN_TEST(response_header_limits);
    RUN_TEST(long_request_paths);
    RUN_TEST(half_closed_client_gets_response);
}

SUITE(timeouts) {
    RUN_TEST(slowloris_cut_at_read_header_timeout);
    RUN_TEST(slowloris_on_keep_alive_connection);
    RUN_TEST(crlf_after_body_keeps_idling);
    RUN_TEST(silent_connection_cut_at_read_header_timeout);
    RUN_TEST(silent_crowd_waits_in_poller);
    RUN_TEST(idle_timeout_closes);
    RUN_TEST(read_timeout_body);
    RUN_TEST(write_timeout_client_never_reads);
    RUN_TEST(write_timeout_bounds_whole_response);
}

SUITE(graceful_shutdown) {
    RUN_TEST(shutdown_graceful_in_flight);
    RUN_TEST(shutdown_closes_idle_at_once);
    RUN_TEST(shutdown_answers_new_connection);
    RUN_TEST(shutdown_deadline_stuck_handler);
    RUN_TEST(free_while_handler_stuck);
    RUN_TEST(shutdown_then_free_at_once);
}

SUITE(hijack) {
    RUN_TEST(hijack_echo_and_count);
    RUN_TEST(hijack_owner_close_reaches_peer);
    RUN_TEST(hijack_shutdown_waits);
    RUN_TEST(hijack_cut_at_shutdown_deadline);
    RUN_TEST(hijack_closed_frees_max_conns_slot);
    RUN_TEST(hijack_then_writer_is_dead);
    RUN_TEST(max_conns_waits_for_a_slot);
}

SUITE(request_api_and_args) {
    RUN_TEST(request_api);
    RUN_TEST(ipv6_loopback);
    RUN_TEST(request_context_cancelled_when_client_leaves);
    RUN_TEST(request_context_live_with_pipelined_data);
    RUN_TEST(error_redirect_and_bodyless_statuses);
    RUN_TEST(bad_arguments);
}

SUITE(load) {
    RUN_TEST(load_keep_alive_clients);
}

SUITE(rejections) {
    RUN_TEST(reject_cl_and_te);
    RUN_TEST(reject_te_and_cl);
    RUN_TEST(reject_duplicate_cl);
    RUN_TEST(reject_cl_list);
    RUN_TEST(reject_bad_chunk_size);
    RUN_TEST(reject_bad_chunk_size_unread);
    RUN_TEST(reject_chunk_size_overflow);
    RUN_TEST(reject_obs_fold);
    RUN_TEST(reject_bare_cr);
    RUN_TEST(reject_control_char);
    RUN_TEST(reject_space_before_colon);
    RUN_TEST(reject_missing_host);
    RUN_TEST(reject_two_hosts);
    RUN_TEST(reject_too_many_headers);
    RUN_TEST(reject_header_block_too_large);
    RUN_TEST(reject_header_block_over_option);
    RUN_TEST(reject_unsupported_te);
    RUN_TEST(reject_te_not_chunked_last);
    RUN_TEST(reject_http2_request_line);
    RUN_TEST(reject_expect_other);
    RUN_TEST(reject_nul_in_target);
    RUN_TEST(reject_bad_request_line);
    RUN_TEST(reject_bad_escape_in_path);
    RUN_TEST(reject_te_on_http10);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
#ifdef SIGPIPE
    signal(SIGPIPE, SIG_IGN);
#endif
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(basics);
    RUN_SUITE(connections);
    RUN_SUITE(request_bodies);
    RUN_SUITE(large_bodies);
    RUN_SUITE(streaming);
    RUN_SUITE(rejections);
    RUN_SUITE(timeouts);
    RUN_SUITE(graceful_shutdown);
    RUN_SUITE(hijack);
    RUN_SUITE(request_api_and_args);
    RUN_SUITE(load);
    GREATEST_MAIN_END();
}
