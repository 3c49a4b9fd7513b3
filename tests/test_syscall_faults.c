/* test_syscall_faults.c — system call failure: the runtime's I/O calls go
 * through gn__sys_* (src/sys_posix.c), and here gn__fault_hook fails the Nth
 * of them with a chosen errno (EINTR, EAGAIN, ENOMEM, EMFILE, ECONNRESET,
 * EPIPE). N walks over every call of:
 *   (1) a runtime's start and stop around a little TCP and UDP (the poller's
 *       descriptors are made at start);
 *   (2) a server's life around one client's keep-alive exchange: listen,
 *       accept, the reads and parse, the handler (a POST body both ways, a
 *       file by its path, one beneath a served root), the writes, the later
 *       requests on the kept connection, the closes; the client's socket,
 *       connect, write and read; the poller's waits, registrations and
 *       wake-ups in between.
 * Each failure must give a clean error or none (EINTR and EAGAIN never reach
 * the caller: they are retried or waited out), promptly (no wait for a
 * timeout), never a crash, a hang (the watchdog), a leaked descriptor or a
 * leaked allocation (the sanitizer builds); and the same server must then
 * answer an unfaulted exchange.
 *
 * An errno is injected only where the call can give it (a table below), and
 * EAGAIN only when it is true: a read on a descriptor with nothing to read, a
 * write on one that cannot take more. A made-up EAGAIN on a ready descriptor
 * would stand for an edge the kernel never loses, and wait out the deadline. */
#if defined(_WIN32)
/* The layer is POSIX's: Windows' calls (net_windows.c, poll_iocp.c) do not go
 * through it.                                                                 */
#include <stdio.h>
int main(void) {
    printf("test_syscall_faults: skipped (no system call layer on Windows)\n");
    return 0;
}
#else
#define _GNU_SOURCE 1   /* system headers come before gonet.h here */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#define GN_FAULT_INJECTION 1
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"
#include "test_util.h"
#include "test_check.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static long g_calls;      /* calls the armed errno applies to, since the start   */
static long g_fail_at;    /* fail the call with this number; 0: none             */
static int g_errno;       /* the errno of the walk in progress; 0: none          */
static long g_injected;   /* failures injected in all                            */
static int g_last_call;   /* the call the last failure went to                   */

/* Can call fail with e? From the manual pages (Linux), narrowed to what the
 * runtime's calls can meet: non-blocking sockets, local files.                */
static int applies(int call, int e) {
    switch (call) {
    case GN__SYS_READ: case GN__SYS_RECV: case GN__SYS_RECVFROM:
        return e == EINTR || e == EAGAIN || e == ENOMEM || e == ECONNRESET;
    case GN__SYS_WRITE: case GN__SYS_WRITEV: case GN__SYS_SEND: case GN__SYS_SENDMSG: case GN__SYS_SENDTO:
        return e == EINTR || e == EAGAIN || e == ENOMEM || e == ECONNRESET || e == EPIPE;
    /* EPROTO: the error of a connection that failed in the queue.             */
    case GN__SYS_ACCEPT:
        return e == EINTR || e == EAGAIN || e == ENOMEM || e == EMFILE || e == EPROTO;
    case GN__SYS_CONNECT:   return e == EINTR;
    case GN__SYS_SOCKET:    return e == ENOMEM || e == EMFILE;
    case GN__SYS_BIND:      return e == ENOMEM;
    case GN__SYS_SETSOCKOPT: return e == ENOMEM;
    case GN__SYS_CLOSE:     return e == EINTR;
    case GN__SYS_POLL_CREATE: case GN__SYS_WAKE_OPEN: return e == ENOMEM || e == EMFILE;
    case GN__SYS_POLL_CTL:  return e == ENOMEM;
    case GN__SYS_POLL_WAIT: return e == EINTR;
    /* EAGAIN on the wake-up: the counter is full, so one waits to be read.  */
    case GN__SYS_WAKE_WRITE: return e == EINTR;
    case GN__SYS_WAKE_READ: return e == EINTR || e == EAGAIN;
    case GN__SYS_OPEN:      return e == EINTR || e == ENOMEM || e == EMFILE;
    case GN__SYS_FSTAT:     return e == ENOMEM;
    case GN__SYS_PREAD:     return e == EINTR;
    default:                return 0;
    }
}

static const char *call_name(int call) {
    static const char *const names[] = {
        "?", "read", "write", "writev", "send", "sendmsg", "recv", "recvfrom", "sendto", "accept",
        "connect", "socket", "bind", "listen", "setsockopt", "getsockopt", "shutdown", "close",
        "poll create", "poll ctl", "poll wait", "wake open", "wake write", "wake read", "open", "fstat", "pread",
    };
    return call > 0 && call < (int)(sizeof names / sizeof names[0]) ? names[call] : "?";
}

/* Is EAGAIN what call would say on fd now? Only if fd is not ready for it.     */
static int eagain_true(int call, int fd) {
    if (fd < 0) return 0;
    int in = call == GN__SYS_READ || call == GN__SYS_RECV || call == GN__SYS_RECVFROM ||
             call == GN__SYS_ACCEPT || call == GN__SYS_WAKE_READ;
    struct pollfd p = {fd, (short)(in ? POLLIN : POLLOUT), 0};
    int saved = errno;
    int r = poll(&p, 1, 0);
    errno = saved;
    return r == 0;
}

int gn__fault_hook(int call, int fd) {
    int e = ALOAD(&g_errno);
    if (!e || !applies(call, e)) return 0;
    long k = AADD(&g_calls, 1) + 1;
    long at = ALOAD(&g_fail_at);
    if (at == 0 || k != at) return 0;
    if (e == EAGAIN && !eagain_true(call, fd)) return 0;
    AADD(&g_injected, 1);
    ASTORE(&g_last_call, call);
    return e;
}

/* Arms a failure n applicable calls from now; disarm says whether it was reached. */
static void arm(int e, long n) {
    ASTORE(&g_fail_at, ALOAD(&g_calls) + n);
    ASTORE(&g_errno, e);
}
static int disarm(void) {
    long at = ALOAD(&g_fail_at);
    ASTORE(&g_errno, 0);
    ASTORE(&g_fail_at, 0);
    return ALOAD(&g_calls) >= at;
}

/* ---- the server and the exchange ---------------------------------------------------- */
#define RESP_BYTES 10000   /* more than the 4 KiB write buffer: chunked */
#define FILE_BYTES 6000

static char g_dir[64];     /* a directory served by gn_http_fs_serve under /fs/ */
static char g_file[96];    /* a file in it, also sent with gn_http_serve_file  */
static gn_http_fs *g_fs;

/* Descriptors open in the process: none may be left behind by a failure.      */
static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

static void handler(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    if (strcmp(gn_http_method(r), "GET") == 0) {
        if (strncmp(gn_http_path(r), "/fs/", 4) == 0) gn_http_fs_serve(w, r, g_fs);
        else gn_http_serve_file(w, r, g_file);
        return;
    }
    char buf[256];
    int64_t total = 0, k;
    while ((k = gn_http_body_read(r, buf, sizeof buf)) > 0) total += k;
    if (k != GN_EOF) {   /* the connection failed under the body: not the client's fault */
        gn_http_error(w, "body lost", 503);
        return;
    }
    if (total != 4) {
        gn_http_error(w, "bad body", 400);
        return;
    }
    char chunk[1000];
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < RESP_BYTES / 1000; i++)
        if (gn_http_write(w, chunk, sizeof chunk) < 0) return;
}

typedef struct server {
    gn_http_server *srv;
    gn_listener *ln;
    gn_waitgroup served;
    int serve_rc;              /* what gn_http_serve returned */
    char url[64];
} server;

static void serve(void *arg) {
    server *s = (server *)arg;
    s->serve_rc = gn_http_serve(s->srv, s->ln);
    gn_waitgroup_done(&s->served);
}

/* A new server on a loopback port, serving: 0, or the first error on the way. */
static int server_start(server *s) {
    memset(s, 0, sizeof *s);
    gn_http_server_opts so;
    memset(&so, 0, sizeof so);
    so.handler = handler;
    so.read_header_timeout = 3 * GN_SECOND;
    s->srv = gn_http_server_new(&so);
    if (!s->srv) return GN_ENOMEM;
    int rc = gn_listen(&s->ln, "tcp", "127.0.0.1:0");
    if (rc != 0) {
        gn_http_server_free(s->srv);
        s->srv = NULL;
        return rc;
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/", gn_listener_port(s->ln));
    gn_waitgroup_add(&s->served, 1);
    if (gn_go(serve, s) < 0) {
        gn_waitgroup_done(&s->served);
        gn_listener_close(s->ln);
        gn_http_server_free(s->srv);
        s->srv = NULL;
        return GN_ENOMEM;
    }
    return 0;
}

static void server_stop(server *s) {
    int sd = gn_http_shutdown(s->srv, gn_now() + 5 * GN_SECOND);
    CKF(sd == 0, "shutdown gave %d (%s)", sd, gn_strerror(sd));
    gn_waitgroup_wait(&s->served);
    /* Serving until the shutdown: no failure on the way ended the accept loop. */
    CKI(GN_ECLOSED, s->serve_rc);
    gn_http_server_free(s->srv);
    s->srv = NULL;
}

/* One request on client c: 0 and the whole, right response, or what stopped it
 * (a status as -1000 - status).                                               */
static int request(gn_http_client *c, const char *url, int file) {
    gn_http_client_request rq;
    memset(&rq, 0, sizeof rq);
    char u[96];
    snprintf(u, sizeof u, "%s%s", url, file == 2 ? "fs/f.txt" : file ? "file" : "");
    rq.method = file ? "GET" : "POST";
    rq.url = u;
    if (!file) {
        rq.body = "ping";
        rq.body_len = 4;
    }
    gn_http_resp *r = NULL;
    int rc = gn_http_do(c, &rq, &r);
    if (rc != 0) return rc;
    char *body = NULL;
    int64_t n = gn_http_resp_read_all(r, 1 << 20, &body);
    char want = file ? 'f' : 'x';
    if (n < 0) rc = (int)n;
    else if (gn_http_resp_status(r) != 200) rc = -1000 - gn_http_resp_status(r);
    else if (n != (file ? FILE_BYTES : RESP_BYTES)) rc = GN_EUNEXPECTEDEOF;
    else
        for (int64_t i = 0; i < n; i++)
            if (body[i] != want) { rc = GN_EHTTP; break; }
    free(body);
    gn_http_resp_free(r);
    return rc;
}

/* A new client, four requests on what is one kept connection when all goes
 * well (a body both ways, a file by its path, one beneath a served root, a
 * body again), the client's close.                                          */
static int exchange(const char *url) {
    gn_http_client_opts o;
    memset(&o, 0, sizeof o);
    o.timeout = 10 * GN_SECOND;
    gn_http_client *c = gn_http_client_new(&o);
    if (!c) return GN_ENOMEM;
    int rc = request(c, url, 0);
    if (rc == 0) rc = request(c, url, 1);
    if (rc == 0) rc = request(c, url, 2);
    if (rc == 0) rc = request(c, url, 0);
    gn_http_client_free(c);
    return rc;
}

/* ---- the walk ------------------------------------------------------------------------ */
typedef struct walk {
    int e;
    const char *name;
    long walked, injected, surfaced, absorbed;
    int first_err;             /* an example of a surfaced error               */
} walk;

static walk g_walks[] = {
    {EINTR, "EINTR", 0, 0, 0, 0, 0},       {EAGAIN, "EAGAIN", 0, 0, 0, 0, 0},
    {ENOMEM, "ENOMEM", 0, 0, 0, 0, 0},     {EMFILE, "EMFILE", 0, 0, 0, 0, 0},
    {ECONNRESET, "ECONNRESET", 0, 0, 0, 0, 0}, {EPIPE, "EPIPE", 0, 0, 0, 0, 0},
    {EPROTO, "EPROTO", 0, 0, 0, 0, 0},
};
#define NWALKS ((int)(sizeof g_walks / sizeof g_walks[0]))

static void body_walk(void *arg) {
    walk *wk = (walk *)arg;
    server warm;
    CKI(0, server_start(&warm));   /* warm: the free lists hold what a steady state holds */
    if (!warm.srv) return;
    CKI(0, exchange(warm.url));
    server_stop(&warm);
    int fds = open_fds();
    long n;
    for (n = 1; n < 20000; n++) {
        long inj0 = ALOAD(&g_injected);
        server s;
        arm(wk->e, n);
        int64_t t0 = gn_now();
        int rc = server_start(&s);
        if (rc == 0) rc = exchange(s.url);
        int64_t took = gn_now() - t0;
        int hit = disarm();
        int injected = ALOAD(&g_injected) > inj0;
        wk->walked++;
        if (injected) wk->injected++;
        if (rc != 0) {
            wk->surfaced++;
            if (!wk->first_err) wk->first_err = rc;
            const char *call = call_name(ALOAD(&g_last_call));
            /* Never a misread (a wrong body, a 4xx); EINTR, EAGAIN, EPROTO never;
             * nothing at all without a failure injected.                      */
            int status4xx = rc <= -1400 && rc > -1500;
            CKF(rc != GN_EHTTP && !status4xx, "%s on call %ld (%s): exchange gave %d (%s)", wk->name, n, call, rc,
                gn_strerror(rc));
            CKF(wk->e != EINTR && wk->e != EAGAIN && wk->e != EPROTO, "%s on call %ld (%s) reached the caller: %d (%s)",
                wk->name, n, call, rc, gn_strerror(rc));
            CKF(injected, "%s on call %ld: nothing injected, yet the exchange gave %d (%s)", wk->name, n, rc,
                gn_strerror(rc));
        } else if (injected) {
            wk->absorbed++;
        }
        /* An exchange takes milliseconds; one that outlasts a fraction of the
         * timeouts (3 s for a head, 10 s for the client) waited on something
         * that was never coming, a hang cut short.                         */
        CKF(took < 2500 * GN_MILLISECOND, "%s on call %ld (%s): the exchange took %lld ms (gave %d, %s)", wk->name,
            n, call_name(ALOAD(&g_last_call)), (long long)(took / GN_MILLISECOND), rc, gn_strerror(rc));
        /* The same server answers the next exchange; a server that could not
         * start is replaced by a fresh one.                                   */
        int again;
        if (s.srv) {
            again = exchange(s.url);
            server_stop(&s);
        } else {
            server t;
            again = server_start(&t);
            if (again == 0) {
                again = exchange(t.url);
                server_stop(&t);
            }
        }
        CKF(again == 0, "%s on call %ld (%s); the next exchange gave %d (%s)", wk->name, n,
            call_name(ALOAD(&g_last_call)), again, gn_strerror(again));
        /* A connection's coroutine closes its socket just after shutdown has
         * let go of it: give it a moment. A leak stays.                      */
        int now = open_fds();
        for (int i = 0; i < 1000 && now != fds; i++) {
            gn_sleep(GN_MILLISECOND);
            now = open_fds();
        }
        CKF(now == fds, "%s on call %ld (%s): %d descriptors open, %d before", wk->name, n,
            call_name(ALOAD(&g_last_call)), now, fds);
        if (!hit || ALOAD(&g_fail_set)) break;
    }
    CK(n > 1 && n < 20000);
}

/* Rounds on one P and on two, for other interleavings of the same calls; one
 * round under an emulator or a sanitizer.                                      */
static enum greatest_test_res run_walk(walk *wk) {
    int rounds = g_scale > 1 ? 1 : 3;
    enum greatest_test_res r = GREATEST_TEST_RES_PASS;
    for (int i = 0; i < rounds && r == GREATEST_TEST_RES_PASS; i++) r = run_body(i % 2 ? 1 : 2, body_walk, wk);
    printf("    %-10s %4ld calls walked, %4ld injected: %3ld surfaced, %4ld absorbed", wk->name, wk->walked,
           wk->injected, wk->surfaced, wk->absorbed);
    if (wk->first_err) printf(" (e.g. %s)", gn_strerror(wk->first_err));
    printf("\n");
    return r;
}

TEST walk_eintr(void) { return run_walk(&g_walks[0]); }
TEST walk_eagain(void) { return run_walk(&g_walks[1]); }
TEST walk_enomem(void) { return run_walk(&g_walks[2]); }
TEST walk_emfile(void) { return run_walk(&g_walks[3]); }
TEST walk_econnreset(void) { return run_walk(&g_walks[4]); }
TEST walk_epipe(void) { return run_walk(&g_walks[5]); }
TEST walk_eproto(void) { return run_walk(&g_walks[6]); }

/* ---- the runtime's own start and stop, around a little TCP and UDP ------------------
 * The poller's descriptors are made at start: a failure there must fail
 * gn_run cleanly and leave none open.                                          */
typedef struct echo {
    gn_listener *l;
    gn_waitgroup done;
} echo;

/* Answers one connection with what it says; a failure just ends it.         */
static void echo_one(void *arg) {
    echo *e = (echo *)arg;
    gn_conn *s = NULL;
    char buf[2];
    if (gn_accept(e->l, &s) == 0) {
        int64_t k = gn_read(s, buf, sizeof buf);
        if (k > 0) gn_write(s, buf, (size_t)k);
        gn_close(s);
    }
    gn_waitgroup_done(&e->done);
}

static void net_world(void *arg) {
    int *res = (int *)arg;
    echo e;
    memset(&e, 0, sizeof e);
    gn_conn *c = NULL;
    char addr[64], buf[2];
    int rc = gn_listen(&e.l, "tcp", "127.0.0.1:0");
    if (rc == 0) rc = gn_listener_addr(e.l, addr, sizeof addr) < 0 ? GN_EINVAL : 0;
    if (rc == 0) {
        gn_waitgroup_add(&e.done, 1);
        if (gn_go(echo_one, &e) < 0) {
            gn_waitgroup_done(&e.done);
            rc = GN_ENOMEM;
        }
    }
    if (rc == 0) rc = gn_dial(&c, "tcp", addr);
    if (rc == 0) rc = gn_write(c, "hi", 2) == 2 ? 0 : GN_EUNEXPECTEDEOF;
    if (rc == 0) {
        int64_t k = gn_read(c, buf, sizeof buf);
        rc = k < 0 ? (int)k : 0;
    }
    if (c) gn_close(c);
    if (e.l) {
        /* A past deadline ends an accept still waiting, or not yet begun
         * (closed, the listener could be gone before echo_one uses it).      */
        gn_listener_set_deadline(e.l, 1);
        gn_waitgroup_wait(&e.done);
        gn_listener_close(e.l);
    }
    /* A datagram to itself: sendto and recvfrom.                               */
    gn_conn *u = NULL;
    if (rc == 0) rc = gn_listen_packet(&u, "udp", "127.0.0.1:0");
    if (rc == 0) rc = gn_local_addr(u, addr, sizeof addr) < 0 ? GN_EINVAL : 0;
    if (rc == 0) {
        int64_t w = gn_write_to(u, "u", 1, addr);
        rc = w < 0 ? (int)w : 0;
    }
    if (rc == 0) {
        gn_set_read_deadline(u, gn_now() + 5 * GN_SECOND);   /* it is on its way: never needed */
        int64_t k = gn_read_from(u, buf, sizeof buf, NULL, 0);
        rc = k < 0 ? (int)k : 0;
    }
    if (u) gn_close(u);
    *res = rc;
}

static void on_start_hang(void) {
    char m[128];
    snprintf(m, sizeof m, "\nHUNG: a runtime start did not return (the last failure: %s)\n",
             call_name(ALOAD(&g_last_call)));
    if (write(2, m, strlen(m)) < 0) {}
    _exit(3);
}

TEST runtime_start_survives_every_failed_call(void) {
    static const int errs[] = {EINTR, ENOMEM, EMFILE};
    static const char *const names[] = {"EINTR", "ENOMEM", "EMFILE"};
    for (int i = 0; i < 3; i++) {
        int fds = open_fds();
        long n, failed = 0, injected = 0;
        for (n = 1; n < 5000; n++) {
            long inj0 = ALOAD(&g_injected);
            int res = 0;
            gn_config cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.procs = 2;
            t_watchdog_arm(60, on_start_hang);
            arm(errs[i], n);
            int rc = gn_run(&cfg, net_world, &res);
            int hit = disarm();
            t_watchdog_disarm();
            if (ALOAD(&g_injected) > inj0) injected++;
            if (rc == 0) rc = res;
            if (rc != 0) {
                failed++;
                if (errs[i] == EINTR) FAILm("EINTR reached the caller of a runtime start or a TCP call");
            }
            EQI(fds, open_fds());
            if (!hit) break;
        }
        ASSERT(n > 1 && n < 5000);
        printf("    start %-6s %3ld calls walked, %3ld injected: %3ld surfaced\n", names[i], n - 1, injected, failed);
    }
    PASS();
}

static int make_file(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/gn_sysfault_%ld", (long)getpid());
    snprintf(g_file, sizeof g_file, "%s/f.txt", g_dir);
    if (mkdir(g_dir, 0700) != 0) return -1;
    FILE *f = fopen(g_file, "wb");
    if (!f) return -1;
    for (int i = 0; i < FILE_BYTES; i++) fputc('f', f);
    if (fclose(f) != 0) return -1;
    g_fs = gn_http_fs_new(g_dir);
    return g_fs && gn_http_fs_strip_prefix(g_fs, "/fs") == 0 ? 0 : -1;
}

SUITE(syscall_faults) {
    RUN_TEST(runtime_start_survives_every_failed_call);
    RUN_TEST(walk_eintr);
    RUN_TEST(walk_eagain);
    RUN_TEST(walk_enomem);
    RUN_TEST(walk_emfile);
    RUN_TEST(walk_econnreset);
    RUN_TEST(walk_epipe);
    RUN_TEST(walk_eproto);
    long walked = 0;
    for (int i = 0; i < NWALKS; i++) walked += g_walks[i].walked;
    printf("    syscall faults: %d errnos, %ld calls walked, %ld failures injected in all\n", NWALKS, walked,
           ALOAD(&g_injected));
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    set_scale();
    if (make_file() != 0) {
        fprintf(stderr, "cannot write %s\n", g_file);
        return 1;
    }
    RUN_SUITE(syscall_faults);
    gn_http_fs_free(g_fs);
    remove(g_file);
    rmdir(g_dir);
    GREATEST_MAIN_END();
}

#endif /* !_WIN32 */
