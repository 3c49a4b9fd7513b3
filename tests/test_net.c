/* test_net.c — the net package over real sockets: TCP on 127.0.0.1 and ::1 (echo
 * with a thousand concurrent clients, reads to EOF, half-close, writes far larger
 * than the socket buffers), closing objects other coroutines are blocked on,
 * descriptor exhaustion in gn_accept, UDP (unconnected, connected, dual stack),
 * broadcast and multicast inside a private network namespace, IPv6 and dual
 * stack listeners, "localhost", Unix stream and datagram sockets, dialing (time
 * out on a full backlog, context cancellation, refused ports), name resolution
 * that does not stall other coroutines (with a deliberately slow DNS server in
 * a private namespace), gn_conn_from_fd on pipes, socketpairs and files,
 * addresses, bad input, socket options, the poll counter, and races: close
 * against a parked reader, a write in flight or a firing deadline, concurrent
 * readers and writers on one connection, a peer's reset.
 *
 * Deadlines have their own program, test_deadline.c.
 *
 * Each test runs a body coroutine under gn_run and fails with the first check
 * the body (or any coroutine it started) recorded; GN_TEST_ALLFAIL=1 prints
 * every failed check. Every blocking read in a body has a generous safety
 * deadline, so a bug turns into a failed check instead of a hung program, and
 * a watchdog names a test whose runtime never returns. Timing is checked one
 * way only: lower bounds exactly, upper bounds generously. Scenarios that
 * need a changed process (a lowered descriptor limit, a private network or
 * mount namespace) or that have hung or crashed the runtime run in a forked
 * child with a time limit. One helper peeks at a poll descriptor (white box):
 * reader_parked(), to know a read is in flight before racing gn_close.
 *
 * On Windows the same program runs against the IOCP backend: the scenarios
 * that need fork, namespaces, rlimits, pipes or files as connections, or a
 * Linux-only socket behaviour skip with the reason; a "forked child" runs in
 * the process under the watchdog.                                           */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"
#include "test_check.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#ifdef _WIN32
/* Winsock comes with gonet.h. A raw socket of the test's own, as an int the
 * way gn_conn_fd gives it.                                                    */
typedef SOCKET t_sock;
static int t_sock_close(t_sock s) { return closesocket(s); }
static int t_sock_errno(void) { return -gn__err_from_wsa(WSAGetLastError()); }
#define T_SOCK(fd) ((SOCKET)(intptr_t)(fd))
#else
#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
typedef int t_sock;
static int t_sock_close(t_sock s) { return close(s); }
static int t_sock_errno(void) { return errno; }
#define T_SOCK(fd) (fd)
#endif

/* ---- helpers --------------------------------------------------------------------- */
#define SAFETY (10 * GN_SECOND)   /* no read in a body waits longer than this */

static int64_t ms_since(int64_t t0) { return (gn_now() - t0) / GN_MILLISECOND; }

/* The byte at position pos of stream `seed`: order and content both checkable. */
static unsigned char pat(uint64_t pos, uint32_t seed) {
    uint64_t x = (pos + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 32 | seed);
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 17));
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

/* Reads exactly n bytes: n, or the error (or GN_EOF) that cut it short.        */
static int64_t read_full(gn_conn *c, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        int64_t r = gn_read(c, (char *)buf + got, n - got);
        if (r < 0) return r;
        if (r == 0) return GN_ENOPROGRESS;
        got += (size_t)r;
    }
    return (int64_t)n;
}

/* Reads until GN_EOF into buf (at most cap bytes): the length, or an error.    */
static int64_t read_to_eof(gn_conn *c, void *buf, size_t cap) {
    size_t got = 0;
    for (;;) {
        if (got == cap) return GN_EBUFFULL;
        int64_t r = gn_read(c, (char *)buf + got, cap - got);
        if (r == GN_EOF) return (int64_t)got;
        if (r < 0) return r;
        got += (size_t)r;
    }
}

/* "[::ffff:1.2.3.4]:p" -> "1.2.3.4:p" (an IPv4 peer of a dual-stack socket,
 * in the IPv4-mapped form); other addresses unchanged.                      */
static const char *unmap(const char *a, char *buf, size_t n) {
    if (strncmp(a, "[::ffff:", 8) == 0 && strchr(a, '.')) {
        const char *end = strchr(a, ']');
        if (end) {
            snprintf(buf, n, "%.*s%s", (int)(end - a - 8), a + 8, end + 1);
            return buf;
        }
    }
    return a;
}

static int port_of(const char *addr) {
    const char *colon = strrchr(addr, ':');
    return colon ? atoi(colon + 1) : -1;
}

/* Listens and returns the listener, or records a failure and returns NULL.     */
static gn_listener *listen_at(const char *network, const char *address, int line) {
    gn_listener *l = NULL;
    int rc = gn_listen(&l, network, address);
    if (rc != 0) {
        char m[256];
        snprintf(m, sizeof m, "gn_listen(%s, %s) = %d (%s)", network, address, rc, gn_strerror(rc));
        ck_fail(line, m);
        return NULL;
    }
    return l;
}
#define LISTEN(net, addr) listen_at((net), (addr), __LINE__)

static gn_conn *dial_at(const char *network, const char *address, int line) {
    gn_conn *c = NULL;
    int rc = gn_dial(&c, network, address);
    if (rc != 0) {
        char m[256];
        snprintf(m, sizeof m, "gn_dial(%s, %s) = %d (%s)", network, address, rc, gn_strerror(rc));
        ck_fail(line, m);
        return NULL;
    }
    return c;
}
#define DIAL(net, addr) dial_at((net), (addr), __LINE__)

static gn_conn *accept_at(gn_listener *l, int line) {
    gn_conn *c = NULL;
    int rc = gn_accept(l, &c);
    if (rc != 0) {
        char m[128];
        snprintf(m, sizeof m, "gn_accept = %d (%s)", rc, gn_strerror(rc));
        ck_fail(line, m);
        return NULL;
    }
    return c;
}
#define ACCEPT(l) accept_at((l), __LINE__)

/* "host:port" of listener l, with the host as given ("127.0.0.1", "[::1]").    */
static void hostport(char *buf, size_t n, const char *host, gn_listener *l) {
    snprintf(buf, n, "%s:%d", host, gn_listener_port(l));
}

static int have_ipv6(void) {
    t_sock fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd == (t_sock)-1) return 0;
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    t_sock_close(fd);
    return ok;
}

static int64_t getsockopt_int(int fd, int level, int name) {
#ifdef _WIN32
    int v = 0;   /* (a BOOL option may come back as one byte) */
#else
    int v = -12345;
#endif
    socklen_t len = sizeof v;
    if (getsockopt(T_SOCK(fd), level, name, (char *)&v, &len) != 0) return -t_sock_errno();
    return v;
}

/* Is fd still an open descriptor (socket)?                                      */
static int fd_open(int fd) {
#ifdef _WIN32
    return getsockopt_int(fd, SOL_SOCKET, SO_TYPE) >= 0;
#else
    return fcntl(fd, F_GETFD) >= 0;
#endif
}

/* ---- forked children ------------------------------------------------------------------
 * Scenarios that need a changed process (a private namespace, a lowered limit)
 * or that may hang or crash the runtime run in a child with a time limit, so
 * that they fail one test instead of ending the program. Exit 0 passes, 77
 * skips, anything else fails with what the child wrote to stderr.          */
static char g_child_msg[4096];
static const char *volatile g_stage = "start";   /* what an isolated body was doing */
#define STAGE(s) (g_stage = (s))

#ifdef _WIN32
static void on_child_hang(void) {
    fprintf(stderr, "\nHUNG: killed by the test's time limit while: %s\n", (const char *)g_stage);
    fflush(stderr);
    _exit(124);
}
/* No fork: the scenario runs in this process under the watchdog; what it
 * writes to stderr goes straight out.                                        */
static int run_in_child(int (*fn)(void), int timeout_s) {
    g_child_msg[0] = 0;
    g_stage = "start";
    t_watchdog_arm((unsigned)timeout_s, on_child_hang);
    int rc = fn();
    t_watchdog_disarm();
    fflush(stderr);
    return rc;
}
#else
static void on_child_alarm(int sig) {
    (void)sig;
    const char *a = "hung: killed by the test's time limit while: ";
    if (write(2, a, strlen(a)) < 0 || write(2, (const char *)g_stage, strlen((const char *)g_stage)) < 0) {
    }
    _exit(124);
}

static int run_in_child(int (*fn)(void), int timeout_s) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        close(fds[1]);
        signal(SIGALRM, on_child_alarm);
        alarm((unsigned)timeout_s);
        int rc = fn();
        fflush(stderr);
        _exit(rc);
    }
    close(fds[1]);
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fds[0], g_child_msg + n, sizeof g_child_msg - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
        if (n == sizeof g_child_msg - 1) break;
    }
    g_child_msg[n] = 0;
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    snprintf(g_child_msg + n, sizeof g_child_msg - n, " [child killed by signal %d]", WTERMSIG(st));
    return 128 + WTERMSIG(st);
}
#endif

/* A sanitizer report is long: keep its headline and first frames.          */
static void trim_child_msg(void) {
    char *e = strstr(g_child_msg, "ERROR: ");
    if (!e) e = strstr(g_child_msg, "WARNING: ThreadSanitizer");
    if (e) memmove(g_child_msg, e, strlen(e) + 1);
    if (strlen(g_child_msg) > 1200) strcpy(g_child_msg + 1180, " [...]");
}

static enum greatest_test_res child_result(int rc) {
    trim_child_msg();
    if (rc == 77) SKIPm(g_child_msg);
    if (rc != 0) {
        if (!g_child_msg[0]) snprintf(g_child_msg, sizeof g_child_msg, "child exited with %d", rc);
        FAILm(g_child_msg);
    }
    PASS();
}

static int child_rc_from_fail(int rc) {
    if (rc != 0) {
        fprintf(stderr, "gn_run: %d", rc);
        return 1;
    }
    if (ALOAD(&g_fail_set)) {
        fprintf(stderr, "%s", g_fail);
        return 1;
    }
    return 0;
}

/* Runs a body in a forked child with a time limit: for scenarios that may hang
 * or crash the runtime, so that they fail one test instead of the program.   */
static int g_iso_procs;
static void (*g_iso_body)(void *);
static void *g_iso_arg;
static int iso_child(void) {
    fail_reset(NULL);
    return child_rc_from_fail(run_procs(g_iso_procs, g_iso_body, g_iso_arg));
}
static enum greatest_test_res run_isolated(int procs, void (*body)(void *), void *arg, int timeout_s) {
    g_iso_procs = procs;
    g_iso_body = body;
    g_iso_arg = arg;
    return child_result(run_in_child(iso_child, timeout_s));
}

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

/* ---- an echo server ----------------------------------------------------------------
 * Accepts until the listener is closed; each connection echoes until EOF.       */
typedef struct echo_srv {
    gn_listener *l;
    gn_waitgroup wg;         /* the accept loop and every handler */
    int active, max_active, accepted, accept_rc;
    int64_t echoed;
} echo_srv;

typedef struct { echo_srv *s; gn_conn *c; } echo_job;

static void amax(int *max, int v) {
    int cur = ALOAD(max);
    while (v > cur && !__atomic_compare_exchange_n(max, &cur, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
}

static void echo_handler(void *arg) {
    echo_job *j = (echo_job *)arg;
    echo_srv *s = j->s;
    gn_conn *c = j->c;
    free(j);
    amax(&s->max_active, AADD(&s->active, 1) + 1);
    char *buf = (char *)malloc(16384);
    for (;;) {
        gn_set_read_deadline(c, gn_now() + 30 * GN_SECOND);
        int64_t r = gn_read(c, buf, 16384);
        if (r == GN_EOF) break;
        if (!CKR(r)) {
            break;
        }
        int64_t w = gn_write(c, buf, (size_t)r);
        if (!CKI(r, w)) break;
        AADD(&s->echoed, r);
    }
    free(buf);
    AADD(&s->active, -1);
    CKI(0, gn_close(c));
    gn_waitgroup_done(&s->wg);
}

static void echo_acceptor(void *arg) {
    echo_srv *s = (echo_srv *)arg;
    for (;;) {
        gn_conn *c = NULL;
        int rc = gn_accept(s->l, &c);
        if (rc != 0) {
            s->accept_rc = rc;
            break;
        }
        AADD(&s->accepted, 1);
        echo_job *j = (echo_job *)malloc(sizeof *j);
        j->s = s;
        j->c = c;
        gn_waitgroup_add(&s->wg, 1);
        if (!CK(gn_go(echo_handler, j) > 0)) {
            gn_close(c);
            free(j);
            gn_waitgroup_done(&s->wg);
        }
    }
    gn_waitgroup_done(&s->wg);
}

/* Starts serving on a new listener; 0 or a recorded failure.                  */
static int echo_start(echo_srv *s, const char *network, const char *address) {
    memset(s, 0, sizeof *s);
    s->l = LISTEN(network, address);
    if (!s->l) return -1;
    gn_waitgroup_add(&s->wg, 1);
    gn_go(echo_acceptor, s);
    return 0;
}

/* Closes the listener and waits for the acceptor and every handler.           */
static void echo_stop(echo_srv *s) {
    CKI(0, gn_listener_close(s->l));
    gn_waitgroup_wait(&s->wg);
    CKI(GN_ECLOSED, s->accept_rc);
}

/* One round trip of msg over c; records failures.                              */
static void roundtrip(gn_conn *c, const char *msg) {
    size_t n = strlen(msg);
    char buf[256];
    CKI((int64_t)n, gn_write(c, msg, n));
    gn_set_read_deadline(c, gn_now() + SAFETY);
    if (CKI((int64_t)n, read_full(c, buf, n))) CK(memcmp(buf, msg, n) == 0);
}

/* ==== TCP basics ========================================================================= */
static void echo_v4_body(void *arg) {
    (void)arg;
    echo_srv s;
    if (echo_start(&s, "tcp", "127.0.0.1:0") != 0) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", s.l);
    gn_conn *c = DIAL("tcp", addr);
    if (c) {
        roundtrip(c, "hello");
        roundtrip(c, "hello again, a little longer this time");
        CKI(0, gn_close(c));
    }
    /* tcp4 reaches the same listener.                                              */
    c = DIAL("tcp4", addr);
    if (c) {
        roundtrip(c, "via tcp4");
        CKI(0, gn_close(c));
    }
    echo_stop(&s);
    CKI(2, s.accepted);
    CKI(0, ALOAD(&s.active));
}
TEST tcp_echo_ipv4(void) { return run_body(1, echo_v4_body, NULL); }

/* Addresses: the strings line up on both ends and with the listener's.         */
static void addr_body(void *arg) {
    int v6 = *(int *)arg;
    const char *host = v6 ? "[::1]" : "127.0.0.1";
    gn_listener *l = LISTEN(v6 ? "tcp6" : "tcp4", v6 ? "[::1]:0" : "127.0.0.1:0");
    if (!l) return;
    int port = gn_listener_port(l);
    CK(port > 0 && port < 65536);
    char la[128], want[128];
    CK(gn_listener_addr(l, la, sizeof la) > 0);
    snprintf(want, sizeof want, "%s:%d", host, port);
    CKS(want, la);
    gn_conn *c = DIAL("tcp", want);
    gn_conn *sc = ACCEPT(l);
    if (c && sc) {
        char cl[128], cr[128], sl[128], sr[128];
        CKI((int)strlen(want), gn_remote_addr(c, cr, sizeof cr));
        CKS(want, cr);
        CK(gn_local_addr(sc, sl, sizeof sl) > 0);
        CKS(want, sl);
        CK(gn_local_addr(c, cl, sizeof cl) > 0);
        CK(gn_remote_addr(sc, sr, sizeof sr) > 0);
        CKS(cl, sr);
        CK(strncmp(cl, host, strlen(host)) == 0);
        CK(port_of(cl) > 0 && port_of(cl) != port);
        /* Too small a buffer is an error, never a truncated address.          */
        char tiny[6];
        CKI(GN_EINVAL, gn_local_addr(c, tiny, sizeof tiny));
        CKI(GN_EINVAL, gn_remote_addr(c, NULL, 64));
        CKI(GN_EINVAL, gn_listener_addr(l, tiny, sizeof tiny));
        CK(gn_conn_fd(c) >= 0);
    }
    if (c) gn_close(c);
    if (sc) gn_close(sc);
    CKI(0, gn_listener_close(l));
}
TEST addresses_ipv4(void) {
    int v6 = 0;
    return run_body(1, addr_body, &v6);
}
TEST addresses_ipv6(void) {
    if (!have_ipv6()) SKIPm("no IPv6 loopback");
    int v6 = 1;
    return run_body(1, addr_body, &v6);
}

/* ==== a thousand concurrent clients ======================================================
 * Every client connects, waits until all have, then one coroutine writes a
 * stream while another reads the echo back and checks each byte in order.     */
typedef struct {
    echo_srv srv;
    char addr[64];
    int clients, bytes;
    gn_waitgroup connected, done;
    int ok, dial_errors;
} many_state;

typedef struct {
    many_state *s;
    gn_conn *c;
    uint32_t seed;
    gn_waitgroup wdone;
} client_job;

static void many_writer(void *arg) {
    client_job *j = (client_job *)arg;
    unsigned char *buf = (unsigned char *)malloc(4096);
    uint64_t pos = 0, total = (uint64_t)j->s->bytes;
    uint32_t r = j->seed;
    while (pos < total) {
        r = r * 1103515245u + 12345u;
        size_t n = 1 + (r >> 8) % 4096;
        if (n > total - pos) n = (size_t)(total - pos);
        fill_pat(buf, n, pos, j->seed);
        if (!CKI((int64_t)n, gn_write(j->c, buf, n))) break;
        pos += n;
        if ((r >> 4) % 8 == 0) gn_yield();
    }
    free(buf);
    gn_waitgroup_done(&j->wdone);
}

static void many_client(void *arg) {
    client_job *j = (client_job *)arg;
    many_state *s = j->s;
    int rc = gn_dial(&j->c, "tcp", s->addr);
    gn_waitgroup_done(&s->connected);
    if (rc != 0) {
        AADD(&s->dial_errors, 1);
        CKI(0, rc);
        gn_waitgroup_done(&s->done);
        return;
    }
    gn_waitgroup_wait(&s->connected);   /* all connected at once */
    gn_waitgroup_add(&j->wdone, 1);
    gn_go(many_writer, j);
    unsigned char *buf = (unsigned char *)malloc(8192);
    uint64_t pos = 0, total = (uint64_t)s->bytes;
    int ok = 1;
    while (pos < total) {
        gn_set_read_deadline(j->c, gn_now() + 30 * GN_SECOND);
        int64_t r = gn_read(j->c, buf, 8192);
        if (!CKR(r)) {
            ok = 0;
            break;
        }
        int64_t bad = check_pat(buf, (size_t)r, pos, j->seed);
        if (bad >= 0) {
            CKF(0, "client %u: wrong byte at %llu", j->seed, (unsigned long long)(pos + (uint64_t)bad));
            ok = 0;
            break;
        }
        pos += (uint64_t)r;
    }
    free(buf);
    gn_waitgroup_wait(&j->wdone);
    CKI(0, gn_close(j->c));
    if (ok) AADD(&s->ok, 1);
    gn_waitgroup_done(&s->done);
}

static void many_body(void *arg) {
    many_state *s = (many_state *)arg;
    if (echo_start(&s->srv, "tcp", "127.0.0.1:0") != 0) return;
    hostport(s->addr, sizeof s->addr, "127.0.0.1", s->srv.l);
    client_job *jobs = (client_job *)calloc((size_t)s->clients, sizeof *jobs);
    gn_waitgroup_add(&s->connected, s->clients);
    gn_waitgroup_add(&s->done, s->clients);
    for (int i = 0; i < s->clients; i++) {
        jobs[i].s = s;
        jobs[i].seed = (uint32_t)i + 1;
        if (!CK(gn_go(many_client, &jobs[i]) > 0)) {
            gn_waitgroup_done(&s->connected);
            gn_waitgroup_done(&s->done);
        }
    }
    gn_waitgroup_wait(&s->done);
    echo_stop(&s->srv);
    free(jobs);
}

#ifdef _WIN32
/* Sockets are handles, limited by memory, not by a descriptor table.         */
typedef long rlim_t;
static enum greatest_test_res raise_nofile(rlim_t want) {
    (void)want;
    PASS();
}
#else
static enum greatest_test_res raise_nofile(rlim_t want) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) FAILm("getrlimit");
    if (rl.rlim_cur >= want) PASS();
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) {
        static char m[128];
        snprintf(m, sizeof m, "RLIMIT_NOFILE hard limit %llu is below the %llu descriptors needed",
                 (unsigned long long)rl.rlim_max, (unsigned long long)want);
        SKIPm(m);
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) FAILm("setrlimit");
    PASS();
}
#endif

TEST echo_thousand_clients(void) {
    many_state s;
    memset(&s, 0, sizeof s);
    s.clients = 1000;
    s.bytes = 64 * 1024 / g_scale;
    CHECK_CALL(raise_nofile((rlim_t)s.clients * 2 + 256));
    CHECK_CALL(run_body(2, many_body, &s));
    EQI(0, s.dial_errors);
    EQI(s.clients, s.ok);
    EQI(s.clients, s.srv.accepted);
    EQI((int64_t)s.clients * s.bytes, s.srv.echoed);
    /* They were all connected at once.                                           */
    EQI(s.clients, s.srv.max_active);
    PASS();
}

/* ==== reading to EOF ========================================================================
 * The peer writes a little and closes at once, while the reader is parked:
 * both the data and the FIN are queued before the reader runs again. The
 * reader must get the data, then GN_EOF (not a wait for an edge that never
 * comes), and GN_EOF again on every later read.                              */
typedef struct { gn_conn *c; const char *msg; int close_write; } eof_peer;

static void eof_peer_fn(void *arg) {
    eof_peer *p = (eof_peer *)arg;
    gn_sleep(20 * GN_MILLISECOND);   /* let the reader park first */
    CKI((int64_t)strlen(p->msg), gn_write(p->c, p->msg, strlen(p->msg)));
    if (p->close_write) CKI(0, gn_close_write(p->c));
    else CKI(0, gn_close(p->c));
}

static void eof_body(void *arg) {
    int close_write = *(int *)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    gn_conn *c = DIAL("tcp", addr);
    gn_conn *sc = ACCEPT(l);
    if (c && sc) {
        eof_peer p = {sc, "reply-and-goodbye", close_write};
        spawn(eof_peer_fn, &p);
        char buf[1024];
        gn_set_read_deadline(c, gn_now() + 3 * GN_SECOND);
        int64_t t0 = gn_now();
        CKI((int64_t)strlen(p.msg), gn_read(c, buf, sizeof buf));
        CKI(GN_EOF, gn_read(c, buf, sizeof buf));
        CKI(GN_EOF, gn_read(c, buf, sizeof buf));
        CKF(ms_since(t0) < 2000, "reading to EOF took %lld ms", (long long)ms_since(t0));
        join_all();   /* the peer is done with sc */
        if (close_write) gn_close(sc);
    }
    if (c) gn_close(c);
    if (!c && sc) gn_close(sc);
    gn_listener_close(l);
}
TEST read_data_then_eof_after_close(void) {
    int close_write = 0;
    return run_body(1, eof_body, &close_write);
}
TEST read_data_then_eof_after_close_write(void) {
    int close_write = 1;
    return run_body(1, eof_body, &close_write);
}

/* The same race on two threads, many times: the peer writes and closes at
 * once, the reader reads to EOF; it must never have to wait for its deadline. */
typedef struct { gn_listener *l; int rounds, eof_ok, stuck; } eofrace_state;

static void eofrace_server(void *arg) {
    eofrace_state *s = (eofrace_state *)arg;
    for (int i = 0; i < s->rounds; i++) {
        gn_conn *c = ACCEPT(s->l);
        if (!c) return;
        char msg[32];
        int n = snprintf(msg, sizeof msg, "round %d", i);
        CKI(n, gn_write(c, msg, (size_t)n));
        CKI(0, gn_close(c));
    }
}

static void eofrace_body(void *arg) {
    eofrace_state *s = (eofrace_state *)arg;
    s->l = LISTEN("tcp", "127.0.0.1:0");
    if (!s->l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", s->l);
    spawn(eofrace_server, s);
    for (int i = 0; i < s->rounds; i++) {
        gn_conn *c = DIAL("tcp", addr);
        if (!c) break;
        gn_set_read_deadline(c, gn_now() + 2 * GN_SECOND);
        char buf[64], want[32];
        int n = snprintf(want, sizeof want, "round %d", i);
        int64_t got = read_to_eof(c, buf, sizeof buf);
        if (got == GN_ETIMEDOUT) s->stuck++;
        else if (CKI(n, got) && CK(memcmp(buf, want, (size_t)n) == 0)) s->eof_ok++;
        gn_close(c);
        if (s->stuck >= 3) break;   /* enough evidence; each costs 2 s */
    }
    gn_listener_close(s->l);
    join_all();
}
TEST read_to_eof_race(void) {
    eofrace_state s;
    memset(&s, 0, sizeof s);
    s.rounds = 300 / g_scale;
    enum greatest_test_res r = run_body(2, eofrace_body, &s);
    if (s.stuck) {
        static char m[160];
        snprintf(m, sizeof m, "%d of %d reads to EOF waited for their deadline after the data",
                 s.stuck, s.eof_ok + s.stuck);
        FAILm(m);
    }
    if (r != GREATEST_TEST_RES_PASS) return r;
    EQI(s.rounds, s.eof_ok);
    PASS();
}

/* ==== half-close ==================================================================== */
static void halfclose_server(void *arg) {
    gn_listener *l = (gn_listener *)arg;
    gn_conn *c = ACCEPT(l);
    if (!c) return;
    char *buf = (char *)malloc(65536);
    gn_set_read_deadline(c, gn_now() + 5 * GN_SECOND);
    int64_t n = read_to_eof(c, buf, 65536);   /* the client's whole request */
    if (CKR(n)) {
        char reply[64];
        int rn = snprintf(reply, sizeof reply, "got %lld bytes, sum %u", (long long)n,
                          (unsigned)(check_pat((unsigned char *)buf, (size_t)n, 0, 7) == -1));
        /* Writing still works after the peer's half-close.                     */
        CKI(rn, gn_write(c, reply, (size_t)rn));
    } else {
        CKI(0, n);
    }
    free(buf);
    CKI(0, gn_close(c));
}

static void halfclose_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    spawn(halfclose_server, l);
    gn_conn *c = DIAL("tcp", addr);
    if (c) {
        unsigned char req[3000];
        fill_pat(req, sizeof req, 0, 7);
        CKI((int64_t)sizeof req, gn_write(c, req, sizeof req));
        CKI(0, gn_close_write(c));
        /* After shutdown(SHUT_WR), writing fails with EPIPE, not SIGPIPE.        */
        CKI(-EPIPE, gn_write(c, "x", 1));
        char buf[128];
        gn_set_read_deadline(c, gn_now() + 5 * GN_SECOND);
        int64_t n = read_to_eof(c, buf, sizeof buf - 1);
        if (CKR(n)) {
            buf[n] = 0;
            CKS("got 3000 bytes, sum 1", buf);
        }
        CKI(0, gn_close(c));
    }
    join_all();
    CKI(0, gn_listener_close(l));
}
TEST half_close(void) { return run_body(2, halfclose_body, NULL); }

/* gn_close_read: later reads see EOF at once.                                  */
static void closeread_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    gn_conn *c = DIAL("tcp", addr);
    gn_conn *sc = ACCEPT(l);
    if (c && sc) {
        CKI(0, gn_close_read(c));
        char b[8];
        gn_set_read_deadline(c, gn_now() + 3 * GN_SECOND);
        CKI(GN_EOF, gn_read(c, b, sizeof b));
        CKI(3, gn_write(c, "abc", 3));   /* the other direction still works */
        gn_set_read_deadline(sc, gn_now() + SAFETY);
        CKI(3, read_full(sc, b, 3));
    }
    if (c) gn_close(c);
    if (sc) gn_close(sc);
    gn_listener_close(l);
}
TEST close_read_gives_eof(void) { return run_body(1, closeread_body, NULL); }

/* ==== writes far larger than the socket buffers =========================================
 * 16 MB in one gn_write to a reader that takes small bites and naps: every
 * byte arrives, in order.                                                      */
typedef struct { gn_conn *c; int64_t total, wrc; } bigw_state;

static void bigw_writer(void *arg) {
    bigw_state *s = (bigw_state *)arg;
    unsigned char *buf = (unsigned char *)malloc((size_t)s->total);
    fill_pat(buf, (size_t)s->total, 0, 99);
    s->wrc = gn_write(s->c, buf, (size_t)s->total);
    free(buf);
}

static void bigw_body(void *arg) {
    bigw_state *s = (bigw_state *)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    gn_conn *c = DIAL("tcp", addr);
    gn_conn *sc = ACCEPT(l);
    if (c && sc) {
        /* Small, but not below a loopback segment (64 KB): a receive buffer
         * that cannot hold one drops it and TCP stalls in retransmissions.   */
        CKI(0, gn_set_write_buffer(c, 32 * 1024));
        CKI(0, gn_set_read_buffer(sc, 64 * 1024));
        s->c = c;
        spawn(bigw_writer, s);
        unsigned char buf[3000];
        uint64_t pos = 0;
        uint32_t r = 1;
        int reads = 0;
        while (pos < (uint64_t)s->total) {
            r = r * 1103515245u + 12345u;
            size_t want = 1 + (r >> 8) % sizeof buf;
            gn_set_read_deadline(sc, gn_now() + SAFETY);
            int64_t n = gn_read(sc, buf, want);
            if (!CKR(n) || !CK((size_t)n <= want)) break;
            int64_t bad = check_pat(buf, (size_t)n, pos, 99);
            if (bad >= 0) {
                CKF(0, "wrong byte at %llu", (unsigned long long)(pos + (uint64_t)bad));
                break;
            }
            pos += (uint64_t)n;
            if (++reads % 64 == 0) gn_sleep(GN_MILLISECOND);   /* a slow reader */
        }
        CKI(s->total, (int64_t)pos);
        join_all();
        CKI(s->total, s->wrc);
        gn_close(c);
        gn_set_read_deadline(sc, gn_now() + SAFETY);
        CKI(GN_EOF, gn_read(sc, buf, sizeof buf));
        gn_close(sc);
    } else {
        if (c) gn_close(c);
        if (sc) gn_close(sc);
    }
    gn_listener_close(l);
}
TEST large_write_slow_reader(void) {
    bigw_state s;
    memset(&s, 0, sizeof s);
    s.total = (16 << 20) / g_scale;
    return run_body(2, bigw_body, &s);
}

/* ==== closing what others are blocked on ===================================================
 * One P: a coroutine that set `started` and then called gn_read is parked in
 * gn_read by the time the body runs again, since gn_read is its only switch
 * point in between. So the body's gn_close is never a call after the close.  */
typedef struct {
    gn_conn *c;
    gn_listener *l;
    int started, rc, done;
    int64_t wrote;
    gn_conn *accepted;
} blocked_op;

static void blocked_reader(void *arg) {
    blocked_op *b = (blocked_op *)arg;
    char buf[64];
    ASTORE(&b->started, 1);
    b->rc = (int)gn_read(b->c, buf, sizeof buf);
    ASTORE(&b->done, 1);
}

static void blocked_writer(void *arg) {
    blocked_op *b = (blocked_op *)arg;
    size_t n = 8 << 20;
    char *buf = (char *)calloc(1, n);
    ASTORE(&b->started, 1);
    b->rc = (int)gn_write(b->c, buf, n);
    free(buf);
    ASTORE(&b->done, 1);
}

static void blocked_acceptor(void *arg) {
    blocked_op *b = (blocked_op *)arg;
    ASTORE(&b->started, 1);
    b->rc = gn_accept(b->l, &b->accepted);
    ASTORE(&b->done, 1);
}

/* Waits (one P) until b's coroutine has started and parked.                   */
static void wait_parked(blocked_op *b) {
    while (!ALOAD(&b->started)) gn_yield();
    gn_sleep(5 * GN_MILLISECOND);
}
static void wait_done(blocked_op *b) {
    int64_t t0 = gn_now();
    while (!ALOAD(&b->done) && gn_now() - t0 < 5 * GN_SECOND) gn_sleep(GN_MILLISECOND);
    CK(ALOAD(&b->done));
}

static void closeblk_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);

    /* A reader: GN_ECLOSED. A second close while its reference keeps the
     * object alive: GN_ECLOSED. The descriptor stays open until it returns.    */
    gn_conn *c = DIAL("tcp", addr), *sc = ACCEPT(l);
    if (c && sc) {
        blocked_op b;
        memset(&b, 0, sizeof b);
        b.c = c;
        gn_go(blocked_reader, &b);
        wait_parked(&b);
        CK(!ALOAD(&b.done));
        int fd = gn_conn_fd(c);
        CKI(0, gn_close(c));
        CKI(GN_ECLOSED, gn_close(c));     /* the reader has not run yet: c is alive */
        CK(fd_open(fd));                  /* not closed under the reader's feet */
        wait_done(&b);
        CKI(GN_ECLOSED, b.rc);
        gn_set_read_deadline(sc, gn_now() + SAFETY);
        char x[4];
        CKI(GN_EOF, gn_read(sc, x, sizeof x));   /* and then really closed */
        gn_close(sc);
    }

    /* A writer stuck on a full buffer: GN_ECLOSED.                              */
    c = DIAL("tcp", addr);
    sc = ACCEPT(l);
    if (c && sc) {
        gn_set_write_buffer(c, 8192);
        gn_set_read_buffer(sc, 8192);
        blocked_op b;
        memset(&b, 0, sizeof b);
        b.c = c;
        gn_go(blocked_writer, &b);
        wait_parked(&b);
        CK(!ALOAD(&b.done));
        CKI(0, gn_close(c));
        wait_done(&b);
        CKI(GN_ECLOSED, b.rc);
        gn_close(sc);
    }

    /* A reader and a writer on one connection at once: both GN_ECLOSED.      */
    c = DIAL("tcp", addr);
    sc = ACCEPT(l);
    if (c && sc) {
        gn_set_write_buffer(c, 8192);
        gn_set_read_buffer(sc, 8192);
        blocked_op r, w;
        memset(&r, 0, sizeof r);
        memset(&w, 0, sizeof w);
        r.c = w.c = c;
        gn_go(blocked_reader, &r);
        gn_go(blocked_writer, &w);
        wait_parked(&r);
        wait_parked(&w);
        CKI(0, gn_close(c));
        wait_done(&r);
        wait_done(&w);
        CKI(GN_ECLOSED, r.rc);
        CKI(GN_ECLOSED, w.rc);
        gn_close(sc);
    }

    /* Two readers: one parked in the read, one queued behind it. Both wake.   */
    c = DIAL("tcp", addr);
    sc = ACCEPT(l);
    if (c && sc) {
        blocked_op r1, r2;
        memset(&r1, 0, sizeof r1);
        memset(&r2, 0, sizeof r2);
        r1.c = r2.c = c;
        gn_go(blocked_reader, &r1);
        wait_parked(&r1);
        gn_go(blocked_reader, &r2);
        wait_parked(&r2);
        CKI(0, gn_close(c));
        wait_done(&r1);
        wait_done(&r2);
        CKI(GN_ECLOSED, r1.rc);
        CKI(GN_ECLOSED, r2.rc);
        gn_close(sc);
    }

    /* An acceptor: GN_ECLOSED from gn_listener_close.                          */
    {
        blocked_op b;
        memset(&b, 0, sizeof b);
        b.l = l;
        gn_go(blocked_acceptor, &b);
        wait_parked(&b);
        CK(!ALOAD(&b.done));
        CKI(0, gn_listener_close(l));
        CKI(GN_ECLOSED, gn_listener_close(l));   /* the acceptor still holds it */
        wait_done(&b);
        CKI(GN_ECLOSED, b.rc);
        CK(b.accepted == NULL);
        /* The port no longer accepts.                                           */
        gn_conn *x = NULL;
        CKI(-ECONNREFUSED, gn_dial(&x, "tcp", addr));
    }
}
TEST close_wakes_blocked(void) { return run_body(1, closeblk_body, NULL); }

/* Two Ps: gn_close lands at random moments of a large write that is already
 * under way on another thread (the peer has seen some of its bytes, so the
 * call is in flight): the writer returns GN_ECLOSED or finishes, never hangs. */
typedef struct { gn_conn *c; int64_t rc; int done; } race_w;

static void race_writer(void *arg) {
    race_w *w = (race_w *)arg;
    size_t n = 1 << 20;
    char *buf = (char *)calloc(1, n);
    w->rc = gn_write(w->c, buf, n);
    free(buf);
    ASTORE(&w->done, 1);
}

static void closerace_body(void *arg) {
    int rounds = *(int *)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    int closed = 0, finished = 0;
    uint32_t r = 12345;
    char *buf = (char *)malloc(65536);
    for (int i = 0; i < rounds; i++) {
        gn_conn *c = DIAL("tcp", addr), *sc = ACCEPT(l);
        if (!c || !sc) {
            if (c) gn_close(c);
            if (sc) gn_close(sc);
            break;
        }
        gn_set_write_buffer(c, 8192);
        race_w w = {c, 0, 0};
        gn_go(race_writer, &w);
        gn_set_read_deadline(sc, gn_now() + SAFETY);
        int64_t got = gn_read(sc, buf, 1);   /* the write is under way */
        CK(got == 1);
        r = r * 1103515245u + 12345u;
        int64_t more = (r >> 8) % (1 << 20);
        while (got < more) {
            int64_t n = gn_read(sc, buf, (size_t)GN__MIN(more - got, (int64_t)65536));
            if (n <= 0) break;
            got += n;
        }
        if ((r >> 4) & 1) gn_yield();
        CKI(0, gn_close(c));
        /* Drain, so a writer that is not woken by the close could still end.     */
        for (;;) {
            int64_t n = gn_read(sc, buf, 65536);
            if (n <= 0) break;
        }
        int64_t t0 = gn_now();
        while (!ALOAD(&w.done) && gn_now() - t0 < 5 * GN_SECOND) gn_sleep(GN_MILLISECOND);
        if (!CK(ALOAD(&w.done))) break;
        if (w.rc == GN_ECLOSED) closed++;
        else if (CKI(1 << 20, w.rc)) finished++;
        gn_close(sc);
    }
    free(buf);
    CKI(rounds, closed + finished);
    CK(closed > 0);
    gn_listener_close(l);
}
TEST close_races_write_in_flight(void) {
    int rounds = 200 / g_scale;
    return run_body(2, closerace_body, &rounds);
}

/* Two Ps: gn_close from one thread while a reader is parked in gn_read on the
 * other, with the peer's data landing at about the same moment. The reader
 * gets the data or GN_ECLOSED and returns; nothing is used after its free.
 * To know the read is in flight (so the close is not a call "after" it), this
 * peeks at the poll descriptor's read slot: set while a reader waits.       */
static int reader_parked(gn_conn *c) {
    return gn__load(&c->f.pd->rg) > GN__PD_READY;   /* WAIT or a parked G */
}

typedef struct { gn_conn *c; int64_t rc; int done; } race_r;

static void race_reader(void *arg) {
    race_r *r = (race_r *)arg;
    char buf[16];
    r->rc = gn_read(r->c, buf, sizeof buf);
    ASTORE(&r->done, 1);
}

typedef struct { gn_conn *peer; int delay_us; } race_poke;

static void race_poker(void *arg) {
    race_poke *p = (race_poke *)arg;
    if (p->delay_us) gn_sleep((int64_t)p->delay_us * GN_MICROSECOND);
    gn_write(p->peer, "d", 1);
}

static void closeread_race_body(void *arg) {
    int rounds = *(int *)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    int closed = 0, data = 0;
    uint32_t rnd = 99;
    for (int i = 0; i < rounds; i++) {
        STAGE("dialing and accepting");
        gn_conn *c = DIAL("tcp", addr), *sc = ACCEPT(l);
        if (!c || !sc) {
            if (c) gn_close(c);
            if (sc) gn_close(sc);
            break;
        }
        race_r r = {c, 0, 0};
        gn_go(race_reader, &r);
        int64_t t0 = gn_now();
        STAGE("waiting for the reader to park");
        while (!reader_parked(c) && !ALOAD(&r.done) && gn_now() - t0 < 5 * GN_SECOND) gn_yield();
        if (!CK(reader_parked(c))) {
            gn_close(sc);
            break;   /* (c is left to the reader, which is stuck: give up) */
        }
        rnd = rnd * 1103515245u + 12345u;
        race_poke pk = {sc, (int)((rnd >> 8) % 40)};
        spawn(race_poker, &pk);
        STAGE("a short gn_sleep before gn_close");
        if ((rnd >> 4) & 1) gn_sleep((int64_t)((rnd >> 16) % 40) * GN_MICROSECOND);
        CKI(0, gn_close(c));
        t0 = gn_now();
        STAGE("waiting (gn_sleep 1 ms at a time) for the reader to return");
        while (!ALOAD(&r.done) && gn_now() - t0 < 5 * GN_SECOND) gn_sleep(GN_MILLISECOND);
        if (!CK(ALOAD(&r.done))) break;
        STAGE("joining the coroutine that wrote to the peer");
        join_all();
        if (r.rc == GN_ECLOSED) closed++;
        else if (CKI(1, r.rc)) data++;
        gn_close(sc);
    }
    CKI(rounds, closed + data);
    gn_listener_close(l);
}
TEST close_races_parked_reader(void) {
    int rounds = 300 / g_scale;
    return run_isolated(2, closeread_race_body, &rounds, 30);
}

/* A deadline firing and a close landing at about the same moment, on two
 * threads, for a parked reader: it returns GN_ETIMEDOUT or GN_ECLOSED.       */
static void dlclose_body(void *arg) {
    int rounds = *(int *)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    int timedout = 0, closed = 0;
    for (int i = 0; i < rounds; i++) {
        gn_conn *c = DIAL("tcp", addr), *sc = ACCEPT(l);
        if (!c || !sc) {
            if (c) gn_close(c);
            if (sc) gn_close(sc);
            break;
        }
        race_r r = {c, 0, 0};
        int64_t d = gn_now() + 2 * GN_MILLISECOND;
        gn_set_read_deadline(c, d);
        gn_go(race_reader, &r);
        int64_t t0 = gn_now();
        while (!reader_parked(c) && !ALOAD(&r.done) && gn_now() - t0 < 5 * GN_SECOND) gn_yield();
        if (!ALOAD(&r.done)) {
            gn_sleep_until(d - (int64_t)(i % 5) * 200 * GN_MICROSECOND);
            CKI(0, gn_close(c));
        } else {
            CKI(0, gn_close(c));   /* timed out before it could be seen parked: fine */
        }
        t0 = gn_now();
        while (!ALOAD(&r.done) && gn_now() - t0 < 5 * GN_SECOND) gn_sleep(GN_MILLISECOND);
        if (!CK(ALOAD(&r.done))) break;
        if (r.rc == GN_ETIMEDOUT) timedout++;
        else if (CKI(GN_ECLOSED, r.rc)) closed++;
        gn_close(sc);
    }
    CKI(rounds, timedout + closed);
    gn_listener_close(l);
}
TEST deadline_races_close(void) {
    int rounds = 300 / g_scale;
    return run_isolated(2, dlclose_body, &rounds, 30);
}

/* ==== concurrent writers ==================================================================
 * gn_write writes all its bytes before another writer's: messages written by
 * several coroutines at once, each blocking part-way on a small buffer, never
 * interleave (Go's Write holds the fd's write lock for the whole call).     */
#define MW_WRITERS 4
typedef struct { gn_conn *c; int id, msgs; } mw_writer;

static void mw_write_fn(void *arg) {
    mw_writer *w = (mw_writer *)arg;
    unsigned char *buf = (unsigned char *)malloc(40000);
    uint32_t r = (uint32_t)w->id * 7919u + 1;
    for (int seq = 0; seq < w->msgs; seq++) {
        r = r * 1103515245u + 12345u;
        uint32_t len = 12 + (r >> 8) % 30000;
        uint32_t hdr[3] = {len, (uint32_t)w->id, (uint32_t)seq};
        memcpy(buf, hdr, sizeof hdr);
        fill_pat(buf + 12, len - 12, 0, (uint32_t)(w->id * 100000 + seq));
        if (!CKI((int64_t)len, gn_write(w->c, buf, len))) break;
    }
    free(buf);
}

static void mw_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    gn_conn *c = DIAL("tcp", addr), *sc = ACCEPT(l);
    if (c && sc) {
        gn_set_write_buffer(c, 32768);
        mw_writer ws[MW_WRITERS];
        int msgs = 200 / g_scale + 5;
        for (int i = 0; i < MW_WRITERS; i++) {
            ws[i].c = c;
            ws[i].id = i;
            ws[i].msgs = msgs;
            spawn(mw_write_fn, &ws[i]);
        }
        int next[MW_WRITERS] = {0};
        unsigned char *buf = (unsigned char *)malloc(40000);
        gn_set_read_deadline(sc, gn_now() + 30 * GN_SECOND);
        for (int m = 0; m < MW_WRITERS * msgs; m++) {
            uint32_t hdr[3];
            if (!CKI(12, read_full(sc, hdr, 12))) break;
            if (!CKF(hdr[0] >= 12 && hdr[0] < 40000 && hdr[1] < MW_WRITERS,
                     "message %d: a garbled header (len %u, writer %u): writes interleaved", m, hdr[0], hdr[1]))
                break;
            if (!CKI(next[hdr[1]], hdr[2])) break;
            next[hdr[1]]++;
            if (!CKI(hdr[0] - 12, read_full(sc, buf, hdr[0] - 12))) break;
            if (check_pat(buf, hdr[0] - 12, 0, hdr[1] * 100000 + hdr[2]) != -1) {
                CKF(0, "message %u/%u: its body is not its own: writes interleaved", hdr[1], hdr[2]);
                break;
            }
        }
        free(buf);
        join_all();
    }
    if (c) gn_close(c);
    if (sc) gn_close(sc);
    gn_listener_close(l);
}
TEST concurrent_writers_do_not_interleave(void) { return run_body(2, mw_body, NULL); }

/* ==== the peer resets ======================================================================
 * A reader parked in gn_read, and a writer parked on a full buffer, learn of
 * a reset (the peer closes with linger 0) with an error, not a hang; writes
 * to a closed peer fail with EPIPE/ECONNRESET and raise no SIGPIPE (this
 * program does not ignore SIGPIPE).                                          */
typedef struct { gn_conn *c; int64_t delay; } rst_closer;

static void rst_close_fn(void *arg) {
    rst_closer *k = (rst_closer *)arg;
    gn_sleep(k->delay);
    CKI(0, gn_set_linger(k->c, 0));
    CKI(0, gn_close(k->c));
}

static void reset_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    /* A parked reader.                                                            */
    gn_conn *c = DIAL("tcp", addr), *sc = ACCEPT(l);
    if (c && sc) {
        rst_closer k = {sc, 20 * GN_MILLISECOND};
        spawn(rst_close_fn, &k);
        char buf[16];
        gn_set_read_deadline(c, gn_now() + SAFETY);
        CKI(-ECONNRESET, gn_read(c, buf, sizeof buf));
        join_all();
        /* After the reset, writes fail (no signal).                               */
        int64_t w = gn_write(c, "x", 1);
        CKF(w == -EPIPE || w == -ECONNRESET, "write after a reset: %lld", (long long)w);
        gn_close(c);
    } else {
        if (c) gn_close(c);
        if (sc) gn_close(sc);
    }
    /* A writer parked on a full buffer.                                          */
    c = DIAL("tcp", addr);
    sc = ACCEPT(l);
    if (c && sc) {
        gn_set_write_buffer(c, 32768);
        gn_set_read_buffer(sc, 65536);
        rst_closer k = {sc, 50 * GN_MILLISECOND};
        spawn(rst_close_fn, &k);
        size_t n = 16 << 20;
        char *big = (char *)calloc(1, n);
        gn_set_write_deadline(c, gn_now() + SAFETY);
        int64_t w = gn_write(c, big, n);
        CKF(w == -EPIPE || w == -ECONNRESET, "a parked write when the peer reset: %lld (%s)", (long long)w,
            w < 0 ? gn_strerror((int)w) : "-");
        free(big);
        join_all();
        gn_close(c);
    } else {
        if (c) gn_close(c);
        if (sc) gn_close(sc);
    }
    /* A plain close by the peer, then writes: EPIPE or ECONNRESET, no SIGPIPE.  */
    c = DIAL("tcp", addr);
    sc = ACCEPT(l);
    if (c && sc) {
        CKI(0, gn_close(sc));
        char buf[8];
        gn_set_read_deadline(c, gn_now() + SAFETY);
        CKI(GN_EOF, gn_read(c, buf, sizeof buf));
        int64_t w = 0;
        for (int i = 0; i < 10 && w >= 0; i++) {
            w = gn_write(c, "more", 4);
            gn_sleep(2 * GN_MILLISECOND);
        }
        CKF(w == -EPIPE || w == -ECONNRESET, "writing to a closed peer: %lld", (long long)w);
        gn_close(c);
    } else {
        if (c) gn_close(c);
        if (sc) gn_close(sc);
    }
    gn_listener_close(l);
}
TEST peer_reset(void) { return run_body(2, reset_body, NULL); }

#ifndef _WIN32
/* ==== running out of descriptors ============================================================
 * A forked client process connects while the server's descriptor table is
 * full: gn_accept gets EMFILE, backs off without spinning, and serves every
 * client once descriptors are free again.                                      */
#define EMFILE_CLIENTS 20

static int emfile_client_proc(int port, int go_fd, int result_fd) {
    char c;
    if (read(go_fd, &c, 1) != 1) return 10;   /* the server's table is full now */
    int fds[EMFILE_CLIENTS];
    for (int i = 0; i < EMFILE_CLIENTS; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fds[i], (struct sockaddr *)&a, sizeof a) != 0) return 11;
        char msg[16];
        int n = snprintf(msg, sizeof msg, "client %02d", i);
        if (write(fds[i], msg, (size_t)n) != n) return 12;
        struct timeval tv = {30, 0};
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    if (write(result_fd, "c", 1) != 1) return 13;   /* all connected */
    int ok = 0;
    for (int i = 0; i < EMFILE_CLIENTS; i++) {
        char want[16], got[16];
        int n = snprintf(want, sizeof want, "client %02d", i), have = 0;
        while (have < n) {
            ssize_t r = read(fds[i], got + have, (size_t)(n - have));
            if (r <= 0) break;
            have += (int)r;
        }
        if (have == n && memcmp(want, got, (size_t)n) == 0) ok++;
        close(fds[i]);
    }
    return ok == EMFILE_CLIENTS ? 0 : 20 + ok;
}

typedef struct {
    int go_fd, result_fd;
    pid_t child;
    int child_status, child_done;
    int filled, window_ms;
    double cpu_ms, wall_ms;
    echo_srv srv;
} emfile_state;

static double cpu_now_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3 +
           (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
}

static void emfile_body(void *arg) {
    emfile_state *s = (emfile_state *)arg;
    if (echo_start(&s->srv, "tcp", "127.0.0.1:0") != 0) return;
    int port = gn_listener_port(s->srv.l);
    if (!CK(write(s->go_fd, &port, sizeof port) == (ssize_t)sizeof port)) return;
    /* Fill the table.                                                            */
    int *fill = (int *)malloc(65536 * sizeof *fill);
    int n = 0, err = 0;
    for (; n < 65536; n++) {
        fill[n] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fill[n] < 0) {
            err = errno;
            break;
        }
    }
    CKI(EMFILE, err);
    s->filled = n;
    /* Let the clients connect and wait while every accept fails.              */
    CKI(1, write(s->go_fd, "g", 1));
    char c;
    struct pollfd pfd = {s->result_fd, POLLIN, 0};
    int64_t t0 = gn_now();
    while (poll(&pfd, 1, 0) == 0 && gn_now() - t0 < 10 * GN_SECOND) gn_sleep(GN_MILLISECOND);
    CKI(1, read(s->result_fd, &c, 1));
    double cpu0 = cpu_now_ms();
    int64_t w0 = gn_now();
    gn_sleep((int64_t)s->window_ms * GN_MILLISECOND);
    s->cpu_ms = cpu_now_ms() - cpu0;
    s->wall_ms = (double)(gn_now() - w0) / 1e6;
    CKI(0, ALOAD(&s->srv.accepted));   /* nothing could be accepted meanwhile */
    for (int i = 0; i < n; i++) close(fill[i]);
    free(fill);
    /* Now every client gets its echo and the child exits.                       */
    t0 = gn_now();
    while (gn_now() - t0 < 20 * GN_SECOND) {
        pid_t p = waitpid(s->child, &s->child_status, WNOHANG);
        if (p == s->child) {
            s->child_done = 1;
            break;
        }
        gn_sleep(2 * GN_MILLISECOND);
    }
    CK(s->child_done);
    echo_stop(&s->srv);
}

TEST accept_rides_out_emfile(void) {
    int go[2], res[2];
    ASSERT_EQ(0, pipe(go));
    ASSERT_EQ(0, pipe(res));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(go[1]);
        close(res[0]);
        alarm(60);
        int port = 0;
        if (read(go[0], &port, sizeof port) != (ssize_t)sizeof port) _exit(9);
        _exit(emfile_client_proc(port, go[0], res[1]));
    }
    close(go[0]);
    close(res[1]);
    emfile_state s;
    memset(&s, 0, sizeof s);
    s.go_fd = go[1];
    s.result_fd = res[0];
    s.child = pid;
    s.window_ms = 600;
    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    low.rlim_cur = 256;
    ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &low));
    enum greatest_test_res r = run_body(2, emfile_body, &s);
    setrlimit(RLIMIT_NOFILE, &old);
    close(go[1]);
    close(res[0]);
    if (!s.child_done) {
        kill(pid, SIGKILL);
        waitpid(pid, &s.child_status, 0);
    }
    if (r != GREATEST_TEST_RES_PASS) return r;
    ASSERT(s.filled > 0);
    ASSERT(WIFEXITED(s.child_status));
    EQI(0, WEXITSTATUS(s.child_status));   /* every client got its echo */
    EQI(EMFILE_CLIENTS, s.srv.accepted);
    if (GREATEST_IS_VERBOSE())
        printf("    %d descriptors filled; %.1f ms of CPU in %.0f ms of exhaustion\n", s.filled, s.cpu_ms, s.wall_ms);
    /* No spinning while the table was full: a small share of one CPU.           */
    if (s.cpu_ms > s.wall_ms * 0.25) {
        static char m[128];
        snprintf(m, sizeof m, "%.0f ms of CPU in %.0f ms of descriptor exhaustion", s.cpu_ms, s.wall_ms);
        FAILm(m);
    }
    PASS();
}

#else
TEST accept_rides_out_emfile(void) { SKIPm("needs fork and RLIMIT_NOFILE (POSIX)"); }
#endif

/* ==== UDP ====================================================================================== */
typedef struct { const char *net, *addr, *host; } udp_case;

static void udp_body(void *arg) {
    const udp_case *u = (const udp_case *)arg;
    gn_conn *srv = NULL, *cli = NULL;
    if (!CKI(0, gn_listen_packet(&srv, u->net, u->addr))) return;
    if (!CKI(0, gn_listen_packet(&cli, u->net, u->addr))) {
        gn_close(srv);
        return;
    }
    char saddr[128], caddr[128], from[128];
    CK(gn_local_addr(srv, saddr, sizeof saddr) > 0);
    CK(gn_local_addr(cli, caddr, sizeof caddr) > 0);
    CK(strncmp(saddr, u->host, strlen(u->host)) == 0);
    CK(port_of(saddr) > 0);
    /* A round trip, senders named on both sides.                                */
    CKI(5, gn_write_to(cli, "ping!", 5, saddr));
    char buf[2048];
    gn_set_read_deadline(srv, gn_now() + SAFETY);
    gn_set_read_deadline(cli, gn_now() + SAFETY);
    CKI(5, gn_read_from(srv, buf, sizeof buf, from, sizeof from));
    CK(memcmp(buf, "ping!", 5) == 0);
    CKS(caddr, from);
    CKI(6, gn_write_to(srv, "pong!!", 6, from));
    CKI(6, gn_read_from(cli, buf, sizeof buf, from, sizeof from));
    CK(memcmp(buf, "pong!!", 6) == 0);
    CKS(saddr, from);
    /* Datagrams keep their boundaries; a long one is cut to the buffer.        */
    unsigned char big[1500];
    fill_pat(big, sizeof big, 0, 3);
    CKI(1500, gn_write_to(cli, big, sizeof big, saddr));
    CKI(1, gn_write_to(cli, "z", 1, saddr));
    CKI(100, gn_read_from(srv, buf, 100, NULL, 0));
    CKI(-1, check_pat((unsigned char *)buf, 100, 0, 3));
    CKI(1, gn_read_from(srv, buf, sizeof buf, from, sizeof from));
    CK(buf[0] == 'z');
    /* An empty datagram is a datagram: 0 bytes, not EOF.                        */
    CKI(0, gn_write_to(cli, "", 0, saddr));
    CKI(0, gn_read_from(srv, buf, sizeof buf, from, sizeof from));
    CKS(caddr, from);
    /* Many in a row, all delivered on loopback, in order.                       */
    for (int i = 0; i < 50; i++) {
        char m[16];
        int n = snprintf(m, sizeof m, "dgram %d", i);
        CKI(n, gn_write_to(cli, m, (size_t)n, saddr));
    }
    for (int i = 0; i < 50; i++) {
        char m[16];
        int n = snprintf(m, sizeof m, "dgram %d", i);
        int64_t r = gn_read_from(srv, buf, sizeof buf, NULL, 0);
        if (!CKI(n, r)) break;
        CK(memcmp(buf, m, (size_t)n) == 0);
    }
    CKI(0, gn_close(cli));
    CKI(0, gn_close(srv));
}
TEST udp_ipv4(void) {
    udp_case u = {"udp", "127.0.0.1:0", "127.0.0.1:"};
    return run_body(1, udp_body, &u);
}
TEST udp_udp4(void) {
    udp_case u = {"udp4", "127.0.0.1:0", "127.0.0.1:"};
    return run_body(2, udp_body, &u);
}
TEST udp_ipv6(void) {
    if (!have_ipv6()) SKIPm("no IPv6 loopback");
    udp_case u = {"udp6", "[::1]:0", "[::1]:"};
    return run_body(1, udp_body, &u);
}

/* Connected UDP: gn_dial("udp") and plain gn_read/gn_write.                    */
static void udpconn_body(void *arg) {
    int v6 = *(int *)arg;
    gn_conn *srv = NULL;
    if (!CKI(0, gn_listen_packet(&srv, v6 ? "udp6" : "udp4", v6 ? "[::1]:0" : "127.0.0.1:0"))) return;
    char saddr[128], caddr[128], from[128], buf[256];
    gn_local_addr(srv, saddr, sizeof saddr);
    gn_conn *c = DIAL("udp", saddr);
    if (c) {
        CK(gn_local_addr(c, caddr, sizeof caddr) > 0);
        char ra[128];
        CK(gn_remote_addr(c, ra, sizeof ra) > 0);
        CKS(saddr, ra);
        gn_set_read_deadline(srv, gn_now() + SAFETY);
        gn_set_read_deadline(c, gn_now() + SAFETY);
        CKI(4, gn_write(c, "ping", 4));
        CKI(4, gn_read_from(srv, buf, sizeof buf, from, sizeof from));
        CKS(caddr, from);
        CKI(9, gn_write_to(srv, "pong pong", 9, from));
        CKI(9, gn_read(c, buf, sizeof buf));
        CK(memcmp(buf, "pong pong", 9) == 0);
        /* Two datagrams are two reads, even into a big buffer.                   */
        CKI(2, gn_write_to(srv, "ab", 2, from));
        CKI(3, gn_write_to(srv, "cde", 3, from));
        CKI(2, gn_read(c, buf, sizeof buf));
        CKI(3, gn_read(c, buf, sizeof buf));
        /* The connected socket hears only its peer.                              */
        gn_conn *other = NULL;
        if (CKI(0, gn_listen_packet(&other, v6 ? "udp6" : "udp4", v6 ? "[::1]:0" : "127.0.0.1:0"))) {
            CKI(5, gn_write_to(other, "stray", 5, caddr));
            CKI(5, gn_write_to(srv, "right", 5, from));
            CKI(5, gn_read(c, buf, sizeof buf));
            CK(memcmp(buf, "right", 5) == 0);
            gn_close(other);
        }
        gn_close(c);
    }
    gn_close(srv);
}
TEST udp_connected_ipv4(void) {
    int v6 = 0;
    return run_body(1, udpconn_body, &v6);
}
TEST udp_connected_ipv6(void) {
    if (!have_ipv6()) SKIPm("no IPv6 loopback");
    int v6 = 1;
    return run_body(1, udpconn_body, &v6);
}

/* Empty datagrams are datagrams (as in Go): gn_write of 0 bytes on connected
 * UDP sends one, and gn_read of one returns 0, not GN_EOF (a datagram
 * socket has no end of stream).                                              */
static void udpempty_body(void *arg) {
    (void)arg;
    gn_conn *srv = NULL;
    if (!CKI(0, gn_listen_packet(&srv, "udp4", "127.0.0.1:0"))) return;
    char saddr[64], from[64], buf[16];
    gn_local_addr(srv, saddr, sizeof saddr);
    gn_conn *c = DIAL("udp", saddr);
    if (c) {
        gn_set_read_deadline(srv, gn_now() + 2 * GN_SECOND);
        gn_set_read_deadline(c, gn_now() + 2 * GN_SECOND);
        CKI(1, gn_write(c, "h", 1));   /* so that srv knows c's address */
        CKI(1, gn_read_from(srv, buf, sizeof buf, from, sizeof from));
        /* unconnected, both ways: works                                          */
        CKI(0, gn_write_to(srv, "", 0, from));
        CKI(2, gn_write_to(srv, "zz", 2, from));
        int64_t r = gn_read(c, buf, sizeof buf);
        CKF(r == 0, "gn_read of an empty datagram on connected UDP: %lld (%s), want 0", (long long)r,
            r < 0 ? gn_strerror((int)r) : "-");
        if (r == 0) CKI(2, gn_read(c, buf, sizeof buf));
        /* connected: gn_write(c, "", 0) must send an empty datagram              */
        CKI(0, gn_write(c, "", 0));
        CKI(1, gn_write(c, "y", 1));
        r = gn_read_from(srv, buf, sizeof buf, NULL, 0);
        CKF(r == 0, "after gn_write of 0 bytes on connected UDP the peer got %lld bytes (%s), want an "
                    "empty datagram", (long long)r, r < 0 ? gn_strerror((int)r) : "-");
        gn_close(c);
    }
    gn_close(srv);
}
TEST udp_empty_datagrams(void) { return run_body(1, udpempty_body, NULL); }

/* Connected UDP to a port nobody listens on: the ICMP error comes back as
 * ECONNREFUSED on the next read, waking it if it is parked.                 */
static void udprefused_body(void *arg) {
    (void)arg;
    gn_conn *tmp = NULL;
    if (!CKI(0, gn_listen_packet(&tmp, "udp4", "127.0.0.1:0"))) return;
    char addr[64];
    gn_local_addr(tmp, addr, sizeof addr);
    gn_close(tmp);   /* the port is free now */
    gn_conn *c = DIAL("udp", addr);
    if (c) {
        char buf[8];
        CKI(1, gn_write(c, "x", 1));
        gn_set_read_deadline(c, gn_now() + SAFETY);
        CKI(-ECONNREFUSED, gn_read(c, buf, sizeof buf));
        gn_close(c);
    }
}
/* wine's ntdll exports its version: a test of behaviour wine lacks skips.       */
static int under_wine(void) {
#ifdef _WIN32
    HMODULE nt = GetModuleHandleA("ntdll.dll");
    return nt && GetProcAddress(nt, "wine_get_version") != NULL;
#else
    return 0;
#endif
}
TEST udp_connected_refused(void) {
    if (under_wine()) SKIPm("wine reports no ICMP port unreachable to UDP sockets");
    return run_body(1, udprefused_body, NULL);
}

/* "udp" on ":0" hears IPv4 and IPv6 senders and answers both.                   */
static void udpdual_body(void *arg) {
    (void)arg;
    gn_conn *srv = NULL, *c4 = NULL, *c6 = NULL;
    if (!CKI(0, gn_listen_packet(&srv, "udp", ":0"))) return;
    char saddr[128], to[64], from[128], buf[64];
    gn_local_addr(srv, saddr, sizeof saddr);
    int port = port_of(saddr);
    CK(port > 0);
    gn_set_read_deadline(srv, gn_now() + SAFETY);
    if (CKI(0, gn_listen_packet(&c4, "udp4", "127.0.0.1:0"))) {
        char ca[64];
        gn_local_addr(c4, ca, sizeof ca);
        snprintf(to, sizeof to, "127.0.0.1:%d", port);
        CKI(2, gn_write_to(c4, "v4", 2, to));
        CKI(2, gn_read_from(srv, buf, sizeof buf, from, sizeof from));
        char um[64];
        CKS(ca, unmap(from, um, sizeof um));   /* (the form: see dual_stack_ipv4_peer_names) */
        /* Answering by the name the peer was reported under, and by plain IPv4.  */
        CKI(3, gn_write_to(srv, "ok1", 3, from));
        CKI(3, gn_write_to(srv, "ok2", 3, ca));
        gn_set_read_deadline(c4, gn_now() + SAFETY);
        CKI(3, gn_read_from(c4, buf, sizeof buf, NULL, 0));
        CK(memcmp(buf, "ok1", 3) == 0);
        CKI(3, gn_read_from(c4, buf, sizeof buf, NULL, 0));
        CK(memcmp(buf, "ok2", 3) == 0);
        gn_close(c4);
    }
    if (have_ipv6() && CKI(0, gn_listen_packet(&c6, "udp6", "[::1]:0"))) {
        char ca[64];
        gn_local_addr(c6, ca, sizeof ca);
        snprintf(to, sizeof to, "[::1]:%d", port);
        CKI(2, gn_write_to(c6, "v6", 2, to));
        CKI(2, gn_read_from(srv, buf, sizeof buf, from, sizeof from));
        CKS(ca, from);
        CKI(3, gn_write_to(srv, "ok6", 3, from));
        gn_set_read_deadline(c6, gn_now() + SAFETY);
        CKI(3, gn_read_from(c6, buf, sizeof buf, NULL, 0));
        gn_close(c6);
    }
    gn_close(srv);
}
TEST udp_dual_stack(void) {
#if defined(__OpenBSD__) || defined(__DragonFly__)
    SKIPm("IPv6 sockets never carry IPv4 here: \":port\" is IPv4 only");
#endif
    return run_body(1, udpdual_body, NULL);
}

#ifndef _WIN32
/* ==== broadcast and multicast, in a network namespace of our own ============================
 * Never on the machine's interfaces: a forked child unshares its network
 * namespace, brings its own lo up with multicast and a route for 224/4, and
 * runs the runtime there. Exit 0 passes, 77 skips, else fails (stderr says).  */
/* In the child: a fresh network namespace with lo up. 0, 77 (cannot), or 1.  */
static int enter_netns(void) {
    if (unshare(CLONE_NEWNET) != 0) {
        fprintf(stderr, "unshare(CLONE_NEWNET) failed: %s; needs root or CAP_SYS_ADMIN", strerror(errno));
        return 77;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
        fprintf(stderr, "SIOCGIFFLAGS lo: %s", strerror(errno));
        return 1;
    }
    ifr.ifr_flags |= IFF_UP | IFF_MULTICAST;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
        fprintf(stderr, "SIOCSIFFLAGS lo: %s", strerror(errno));
        return 1;
    }
    close(s);
    return 0;
}

static int add_mcast_route(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
    struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
    dst->sin_family = mask->sin_family = AF_INET;
    dst->sin_addr.s_addr = inet_addr("224.0.0.0");
    mask->sin_addr.s_addr = inet_addr("240.0.0.0");
    rt.rt_flags = RTF_UP;
    rt.rt_dev = (char *)"lo";
    int rc = ioctl(s, SIOCADDRT, &rt);
    if (rc != 0) fprintf(stderr, "SIOCADDRT 224.0.0.0/4 dev lo: %s", strerror(errno));
    close(s);
    return rc;
}

/* Reads datagrams with payload `want` until one arrives (1), or the deadline
 * passes (0); other payloads are recorded as failures.                         */
static int recv_payload(gn_conn *c, const char *want, int64_t wait, char *from, size_t fsize) {
    char buf[256];
    gn_set_read_deadline(c, gn_now() + wait);
    for (;;) {
        int64_t r = gn_read_from(c, buf, sizeof buf - 1, from, fsize);
        if (r == GN_ETIMEDOUT) return 0;
        if (!CK(r >= 0)) {
            CKI(0, r);
            return 0;
        }
        buf[r] = 0;
        if (strcmp(buf, want) == 0) return 1;
        CKS(want, buf);
        return 0;
    }
}

/* Drains every datagram already queued (a loopback broadcast may arrive twice). */
static void drain_dgrams(gn_conn *c) {
    char buf[256];
    gn_set_read_deadline(c, gn_now() + 50 * GN_MILLISECOND);
    while (gn_read_from(c, buf, sizeof buf, NULL, 0) >= 0) {
    }
}

static void bcast_body(void *arg) {
    (void)arg;
    gn_conn *rx = NULL, *tx = NULL;
    if (!CKI(0, gn_listen_packet(&rx, "udp4", "0.0.0.0:0"))) return;
    if (!CKI(0, gn_listen_packet(&tx, "udp4", "127.0.0.1:0"))) {
        gn_close(rx);
        return;
    }
    char ra[64], ta[64], to[64], from[64];
    gn_local_addr(rx, ra, sizeof ra);
    gn_local_addr(tx, ta, sizeof ta);
    snprintf(to, sizeof to, "127.255.255.255:%d", port_of(ra));
    /* Without SO_BROADCAST the kernel refuses.                                   */
    CKI(-EACCES, gn_write_to(tx, "b0", 2, to));
    CKI(0, gn_set_broadcast(tx, 1));
    CKI(1, getsockopt_int(gn_conn_fd(tx), SOL_SOCKET, SO_BROADCAST));
    CKI(9, gn_write_to(tx, "broadcast", 9, to));
    CK(recv_payload(rx, "broadcast", 5 * GN_SECOND, from, sizeof from));
    CKS(ta, from);
    drain_dgrams(rx);
    CKI(0, gn_set_broadcast(tx, 0));
    CKI(-EACCES, gn_write_to(tx, "b1", 2, to));
    gn_close(tx);
    gn_close(rx);
}

static void mcast_body(void *arg) {
    (void)arg;
    gn_conn *rx = NULL, *tx = NULL;
    if (!CKI(0, gn_listen_packet(&rx, "udp4", "0.0.0.0:0"))) return;
    if (!CKI(0, gn_listen_packet(&tx, "udp4", "127.0.0.1:0"))) {
        gn_close(rx);
        return;
    }
    char ra[64], ta[64], to[64], from[64];
    gn_local_addr(rx, ra, sizeof ra);
    gn_local_addr(tx, ta, sizeof ta);
    snprintf(to, sizeof to, "239.1.2.3:%d", port_of(ra));
    /* Joined (any interface): the group's datagrams arrive.                      */
    CKI(0, gn_join_group(rx, "239.1.2.3", NULL));
    CKI(5, gn_write_to(tx, "mc #1", 5, to));
    CK(recv_payload(rx, "mc #1", 5 * GN_SECOND, from, sizeof from));
    CKS(ta, from);
    drain_dgrams(rx);
    /* Left: they no longer do (the kernel drops them at once on loopback).     */
    CKI(0, gn_leave_group(rx, "239.1.2.3", NULL));
    CKI(5, gn_write_to(tx, "mc #2", 5, to));
    CK(!recv_payload(rx, "mc #2", 200 * GN_MILLISECOND, NULL, 0));
    /* Joined on a named interface.                                               */
    CKI(0, gn_join_group(rx, "239.1.2.3", "lo"));
    CKI(5, gn_write_to(tx, "mc #3", 5, to));
    CK(recv_payload(rx, "mc #3", 5 * GN_SECOND, NULL, 0));
    drain_dgrams(rx);
    CKI(0, gn_leave_group(rx, "239.1.2.3", "lo"));
    /* Leaving a group not joined is the kernel's error, passed on.              */
    CK(gn_leave_group(rx, "239.1.2.3", "lo") < 0);
    CKI(GN_EINVAL, gn_join_group(rx, "239.1.2.3", "no-such-if0"));
    CKI(GN_EINVAL, gn_join_group(rx, "not-an-ip", NULL));
    CKI(GN_EINVAL, gn_join_group(rx, NULL, NULL));
    CKI(GN_EINVAL, gn_join_group(NULL, "239.1.2.3", NULL));
    gn_close(tx);
    gn_close(rx);
}

static int bcast_child(void) {
    int rc = enter_netns();
    if (rc) return rc;
    fail_reset(NULL);
    return child_rc_from_fail(run_procs(2, bcast_body, NULL));
}
static int mcast_child(void) {
    int rc = enter_netns();
    if (rc) return rc;
    if (add_mcast_route() != 0) return 1;
    fail_reset(NULL);
    return child_rc_from_fail(run_procs(2, mcast_body, NULL));
}
TEST udp_broadcast_in_netns(void) { return child_result(run_in_child(bcast_child, 60)); }
TEST udp_multicast_in_netns(void) {
    /* qemu-user passes SIOCADDRT through without the route taking effect, so
     * a join on "any interface" finds no device there (ENODEV).                */
    const char *runner = getenv("GN_TEST_RUNNER");
    if (runner && strstr(runner, "qemu")) SKIPm("multicast routes do not survive qemu-user's ioctl translation");
    return child_result(run_in_child(mcast_child, 60));
}

#else
TEST udp_broadcast_in_netns(void) { SKIPm("needs a private network namespace (Linux)"); }
TEST udp_multicast_in_netns(void) { SKIPm("needs a private network namespace (Linux)"); }
#endif

/* ==== IPv6, dual stack, localhost ===================================================== */
static void v6_body(void *arg) {
    (void)arg;
    echo_srv s;
    if (echo_start(&s, "tcp6", "[::1]:0") != 0) return;
    char addr[64], la[64];
    hostport(addr, sizeof addr, "[::1]", s.l);
    gn_listener_addr(s.l, la, sizeof la);
    CKS(addr, la);
    gn_conn *c = DIAL("tcp6", addr);
    if (c) {
        roundtrip(c, "over IPv6");
        CKI(1, getsockopt_int(gn_conn_fd(c), IPPROTO_TCP, TCP_NODELAY) != 0);
        gn_close(c);
    }
    c = DIAL("tcp", addr);
    if (c) {
        roundtrip(c, "tcp picks IPv6 for [::1]");
        gn_close(c);
    }
    /* A tcp6 listener is IPv6 only: 127.0.0.1 on its port is refused.          */
    char v4[64];
    snprintf(v4, sizeof v4, "127.0.0.1:%d", gn_listener_port(s.l));
    gn_conn *x = NULL;
    int rc = gn_dial(&x, "tcp", v4);
    if (rc == 0) gn_close(x);   /* (someone else may own that IPv4 port) */
    else CKI(-ECONNREFUSED, rc);
    echo_stop(&s);
    CKI(2, s.accepted);
}
TEST tcp_ipv6(void) {
    if (!have_ipv6()) SKIPm("no IPv6 loopback");
    return run_body(1, v6_body, NULL);
}

/* "tcp" on ":0" accepts both families; the accepted peers' addresses are the
 * ones the clients see locally (Go shows an IPv4 peer as IPv4).              */
static void dual_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", ":0");
    if (!l) return;
    int port = gn_listener_port(l);
    char la[64], want[64];
    gn_listener_addr(l, la, sizeof la);
    snprintf(want, sizeof want, "[::]:%d", port);
    CKS(want, la);
    const char *hosts[2] = {"127.0.0.1", "[::1]"};
    for (int i = 0; i < 2; i++) {
        if (i == 1 && !have_ipv6()) break;
        char addr[64];
        snprintf(addr, sizeof addr, "%s:%d", hosts[i], port);
        gn_conn *c = DIAL("tcp", addr);
        gn_conn *sc = c ? ACCEPT(l) : NULL;
        if (c && sc) {
            char cl[64], sr[64], sl[64];
            gn_local_addr(c, cl, sizeof cl);
            gn_remote_addr(sc, sr, sizeof sr);
            gn_local_addr(sc, sl, sizeof sl);
            char u1[64], u2[64];
            CKS(cl, unmap(sr, u1, sizeof u1));   /* (the form: see dual_stack_ipv4_peer_names) */
            CKS(addr, unmap(sl, u2, sizeof u2));
            CKI(5, gn_write(c, "dual!", 5));
            char b[8];
            gn_set_read_deadline(sc, gn_now() + SAFETY);
            CKI(5, read_full(sc, b, 5));
        }
        if (c) gn_close(c);
        if (sc) gn_close(sc);
    }
    /* ":port" dials the local system, as in Go.                                   */
    char local[32];
    snprintf(local, sizeof local, ":%d", port);
    gn_conn *c = DIAL("tcp", local);
    gn_conn *sc = c ? ACCEPT(l) : NULL;
    if (c) gn_close(c);
    if (sc) gn_close(sc);
    gn_listener_close(l);
}
TEST tcp_dual_stack(void) {
#if defined(__OpenBSD__) || defined(__DragonFly__)
    SKIPm("IPv6 sockets never carry IPv4 here: \":port\" is IPv4 only");
#endif
    return run_body(1, dual_body, NULL);
}

/* How a dual-stack socket names an IPv4 peer. Go prints an IPv4-mapped
 * address as plain IPv4 ("127.0.0.1:p", as net.IP.String does), so that both
 * ends of a connection agree on its addresses and the string can be dialed
 * with "tcp4". gn_remote_addr, gn_local_addr and gn_read_from should too.    */
static void dualname_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", ":0");
    if (l) {
        char addr[64];
        snprintf(addr, sizeof addr, "127.0.0.1:%d", gn_listener_port(l));
        gn_conn *c = DIAL("tcp4", addr);
        gn_conn *sc = c ? ACCEPT(l) : NULL;
        if (c && sc) {
            char cl[64], sr[64], sl[64];
            gn_local_addr(c, cl, sizeof cl);
            gn_remote_addr(sc, sr, sizeof sr);
            gn_local_addr(sc, sl, sizeof sl);
            CKS(cl, sr);
            CKS(addr, sl);
        }
        if (c) gn_close(c);
        if (sc) gn_close(sc);
        gn_listener_close(l);
    }
    gn_conn *srv = NULL, *c4 = NULL;
    if (CKI(0, gn_listen_packet(&srv, "udp", ":0")) && CKI(0, gn_listen_packet(&c4, "udp4", "127.0.0.1:0"))) {
        char sa[64], ca[64], to[64], from[64], buf[8];
        gn_local_addr(srv, sa, sizeof sa);
        gn_local_addr(c4, ca, sizeof ca);
        snprintf(to, sizeof to, "127.0.0.1:%d", port_of(sa));
        CKI(1, gn_write_to(c4, "x", 1, to));
        gn_set_read_deadline(srv, gn_now() + SAFETY);
        CKI(1, gn_read_from(srv, buf, sizeof buf, from, sizeof from));
        CKS(ca, from);
    }
    if (c4) gn_close(c4);
    if (srv) gn_close(srv);
}
TEST dual_stack_ipv4_peer_names(void) { return run_body(1, dualname_body, NULL); }

/* A listener on one loopback address only: "localhost" still connects, whichever
 * of its addresses comes first (the others are tried in turn).                */
static void localhost_body(void *arg) {
    (void)arg;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int have4 = 0, have6 = 0;
    if (getaddrinfo("localhost", NULL, &hints, &res) == 0) {
        for (struct addrinfo *a = res; a; a = a->ai_next) {
            if (a->ai_family == AF_INET) have4 = 1;
            if (a->ai_family == AF_INET6) have6 = 1;
        }
        freeaddrinfo(res);
    }
    CK(have4 || have6);
    for (int fam = 0; fam < 2; fam++) {
        if ((fam == 0 && !have4) || (fam == 1 && !(have6 && have_ipv6()))) continue;
        echo_srv s;
        if (echo_start(&s, fam ? "tcp6" : "tcp4", fam ? "[::1]:0" : "127.0.0.1:0") != 0) return;
        char addr[64];
        snprintf(addr, sizeof addr, "localhost:%d", gn_listener_port(s.l));
        gn_conn *c = DIAL("tcp", addr);
        if (c) {
            roundtrip(c, "hello, localhost");
            gn_close(c);
        }
        c = DIAL(fam ? "tcp6" : "tcp4", addr);
        if (c) {
            roundtrip(c, "hello, one family");
            gn_close(c);
        }
        echo_stop(&s);
    }
    /* Listening on "localhost" works too.                                        */
    gn_listener *l = LISTEN("tcp", "localhost:0");
    if (l) {
        CK(gn_listener_port(l) > 0);
        gn_listener_close(l);
    }
}
TEST tcp_localhost(void) { return run_body(1, localhost_body, NULL); }

/* ==== Unix sockets ============================================================================ */
static int g_path_seq;
static void unix_path(char *buf, size_t n, const char *tag) {
#ifdef _WIN32
    char tmp[MAX_PATH + 1];
    DWORD tl = GetTempPathA(sizeof tmp, tmp);
    if (tl == 0 || tl > 60) snprintf(tmp, sizeof tmp, ".\\");
    snprintf(buf, n, "%sgonet_test_%lu_%s_%d.sock", tmp, (unsigned long)GetCurrentProcessId(), tag, ++g_path_seq);
#else
    snprintf(buf, n, "/tmp/gonet_test_%d_%s_%d.sock", (int)getpid(), tag, ++g_path_seq);
#endif
    unlink(buf);
}

/* Unix-domain stream sockets: everywhere on POSIX; on Windows since 10 1803
 * (wine has none).                                                           */
static int have_unix(void) {
#ifdef _WIN32
    t_sock s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s == INVALID_SOCKET) return 0;
    closesocket(s);
#endif
    return 1;
}

static void unix_body(void *arg) {
    (void)arg;
    char path[108];
    unix_path(path, sizeof path, "stream");
    echo_srv s;
    if (echo_start(&s, "unix", path) != 0) return;
    struct stat st;
#ifdef S_ISSOCK
    CK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
#else
    CK(stat(path, &st) == 0);
#endif
    char la[128];
    CK(gn_listener_addr(s.l, la, sizeof la) > 0);
    CKS(path, la);
    CKI(GN_EINVAL, gn_listener_port(s.l));
    /* Several clients at once, a stream of checked bytes each.                  */
    for (int i = 0; i < 3; i++) {
        gn_conn *c = DIAL("unix", path);
        if (!c) break;
        char ra[128];
        CK(gn_remote_addr(c, ra, sizeof ra) > 0);
        CKS(path, ra);
        unsigned char out[20000], in[20000];
        fill_pat(out, sizeof out, 0, (uint32_t)i);
        CKI((int64_t)sizeof out, gn_write(c, out, sizeof out));
        gn_set_read_deadline(c, gn_now() + SAFETY);
        CKI((int64_t)sizeof in, read_full(c, in, sizeof in));
        CKI(-1, check_pat(in, sizeof in, 0, (uint32_t)i));
        CKI(0, gn_close_write(c));
        CKI(GN_EOF, gn_read(c, in, sizeof in));
        gn_close(c);
    }
    /* The path is taken while the listener lives.                               */
    gn_listener *dup = NULL;
    CKI(-EADDRINUSE, gn_listen(&dup, "unix", path));
    echo_stop(&s);
    CKI(3, s.accepted);
    /* Closing the listener removed the path.                                    */
    CK(stat(path, &st) != 0 && errno == ENOENT);
    gn_conn *c = NULL;
    CKI(-ENOENT, gn_dial(&c, "unix", path));
}
TEST unix_stream(void) {
    if (!have_unix()) SKIPm("no AF_UNIX sockets on this system");
    return run_body(2, unix_body, NULL);
}

static void unixgram_body(void *arg) {
    (void)arg;
    char p1[108], p2[108];
    unix_path(p1, sizeof p1, "dg1");
    unix_path(p2, sizeof p2, "dg2");
    gn_conn *a = NULL, *b = NULL;
    if (!CKI(0, gn_listen_packet(&a, "unixgram", p1))) return;
    if (!CKI(0, gn_listen_packet(&b, "unixgram", p2))) {
        gn_close(a);
        unlink(p1);
        return;
    }
    char from[128], buf[64], la[128];
    CK(gn_local_addr(a, la, sizeof la) > 0);
    CKS(p1, la);
    gn_set_read_deadline(a, gn_now() + SAFETY);
    gn_set_read_deadline(b, gn_now() + SAFETY);
    CKI(5, gn_write_to(b, "hello", 5, p1));
    CKI(5, gn_read_from(a, buf, sizeof buf, from, sizeof from));
    CK(memcmp(buf, "hello", 5) == 0);
    CKS(p2, from);
    CKI(3, gn_write_to(a, "bye", 3, from));
    CKI(3, gn_read_from(b, buf, sizeof buf, from, sizeof from));
    CKS(p1, from);
    /* A connected unixgram socket.                                               */
    gn_conn *c = DIAL("unixgram", p1);
    if (c) {
        CKI(4, gn_write(c, "conn", 4));
        CKI(4, gn_read_from(a, buf, sizeof buf, NULL, 0));
        CK(memcmp(buf, "conn", 4) == 0);
        gn_close(c);
    }
    gn_close(a);
    gn_close(b);
    unlink(p1);
    unlink(p2);
}
TEST unixgram(void) {
#ifdef _WIN32
    SKIPm("Windows has no unixgram");
#endif
    return run_body(1, unixgram_body, NULL);
}

/* ==== dialing ===================================================================================
 * A listener with a backlog of 1 that never accepts: fill its queue until a
 * new connect does not complete (the SYN is dropped). Dials to it then time
 * out or are cancelled.                                                       */
typedef struct {
    gn_listener *l;
    char addr[64];
    t_sock fill[64];
    int nfill, full;
} backlog_state;

static void backlog_fill(backlog_state *b) {
    gn_listen_opts o = {1, 0};
    int rc = gn_listen_with(&b->l, "tcp4", "127.0.0.1:0", &o);
    if (!CKI(0, rc)) return;
    hostport(b->addr, sizeof b->addr, "127.0.0.1", b->l);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)gn_listener_port(b->l));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    while (b->nfill < 64) {
#ifdef _WIN32
        t_sock fd = socket(AF_INET, SOCK_STREAM, 0);
        u_long nb = 1;
        ioctlsocket(fd, FIONBIO, &nb);
        b->fill[b->nfill++] = fd;
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) continue;
        if (!CKI(WSAEWOULDBLOCK, WSAGetLastError())) return;
        WSAPOLLFD p = {fd, POLLOUT, 0};
        if (WSAPoll(&p, 1, 300) == 0) {   /* (blocks this thread, briefly) */
#else
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        b->fill[b->nfill++] = fd;
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) continue;
        if (!CKI(EINPROGRESS, errno)) return;
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, 300) == 0) {   /* (blocks this thread, briefly) */
#endif
            b->full = 1;
            return;
        }
    }
#ifdef _WIN32
    /* Windows refuses a SYN when the backlog is full (the connect fails after
     * its retries) instead of dropping it: nothing to time out against.      */
    return;
#endif
    CKF(0, "the backlog never filled with %d connections", b->nfill);
}

static void backlog_free(backlog_state *b) {
    for (int i = 0; i < b->nfill; i++) t_sock_close(b->fill[i]);
    if (b->l) gn_listener_close(b->l);
}

static void dialto_body(void *arg) {
    (void)arg;
    backlog_state b;
    memset(&b, 0, sizeof b);
    backlog_fill(&b);
    if (b.full) {
        gn_conn *c = NULL;
        int64_t t0 = gn_now();
        int rc = gn_dial_timeout(&c, "tcp", b.addr, 200 * GN_MILLISECOND);
        int64_t took = gn_now() - t0;
        CKI(GN_ETIMEDOUT, rc);
        CK(c == NULL);
        CKF(took >= 200 * GN_MILLISECOND, "timed out after %lld ns", (long long)took);
        CKF(took < 5 * GN_SECOND, "timed out after %lld ms", (long long)(took / GN_MILLISECOND));
        /* Once more: the connect deadline of the last attempt is not left behind. */
        t0 = gn_now();
        CKI(GN_ETIMEDOUT, gn_dial_timeout(&c, "tcp", b.addr, 50 * GN_MILLISECOND));
        CK(gn_now() - t0 >= 50 * GN_MILLISECOND);
    }
    backlog_free(&b);
}
TEST dial_timeout_on_full_backlog(void) { return run_body(2, dialto_body, NULL); }

/* A dial must not report success before the connection is established. The
 * socket is registered with the poller before connect(), while it is still
 * closed (and reported writable/hung up); a poller collecting that at the
 * wrong moment (an idle M blocks in epoll_wait all the time) wakes the dialer
 * early, with SO_ERROR still 0 (Go's issues 14548 and 19289: it checks
 * getpeername and waits again). Many short dials to a full backlog, with two
 * coroutines on the other P playing ping-pong over TCP (so that Ms keep
 * polling, without timers): every dial must time out.                       */
typedef struct { gn_conn *c; int *stop; int first; } pingpong;
static void pingpong_fn(void *arg) {
    pingpong *p = (pingpong *)arg;
    char b = 'p';
    if (p->first && gn_write(p->c, &b, 1) != 1) return;
    for (;;) {
        if (gn_read(p->c, &b, 1) != 1) return;
        if (ALOAD(p->stop)) {
            gn_close_write(p->c);
            return;
        }
        if (gn_write(p->c, &b, 1) != 1) return;
    }
}

static void dialearly_body(void *arg) {
    (void)arg;
    backlog_state b;
    memset(&b, 0, sizeof b);
    backlog_fill(&b);
    if (b.full) {
        int stop = 0;
        gn_listener *pl = LISTEN("tcp", "127.0.0.1:0");
        gn_conn *pa = NULL, *pb = NULL;
        pingpong ppa, ppb;
        if (pl) {
            char paddr[64];
            hostport(paddr, sizeof paddr, "127.0.0.1", pl);
            pa = DIAL("tcp", paddr);
            pb = pa ? ACCEPT(pl) : NULL;
            if (pa && pb) {
                ppa.c = pa; ppa.stop = &stop; ppa.first = 1;
                ppb.c = pb; ppb.stop = &stop; ppb.first = 0;
                spawn(pingpong_fn, &ppa);
                spawn(pingpong_fn, &ppb);
            }
        }
        int early = 0, rounds = 300 / g_scale, other = 0;
        char ra[64] = "";
        int ra_rc = 0;
        for (int i = 0; i < rounds; i++) {
            gn_conn *c = NULL;
            STAGE("gn_dial_timeout(5 ms) to a full backlog, in a loop");
            int rc = gn_dial_timeout(&c, "tcp", b.addr, 5 * GN_MILLISECOND);
            if (rc == 0) {
                if (!early) ra_rc = gn_remote_addr(c, ra, sizeof ra);
                early++;
                gn_close(c);
            } else if (rc != GN_ETIMEDOUT) {
                other = rc;
            }
        }
        ASTORE(&stop, 1);
        join_all();
        if (pa) gn_close(pa);
        if (pb) gn_close(pb);
        if (pl) gn_listener_close(pl);
        CKF(early == 0, "%d of %d dials to a full backlog returned success; the first one's gn_remote_addr: "
                        "%d (%s) \"%s\" (not connected)", early, rounds, ra_rc, gn_strerror(ra_rc), ra);
        CKI(0, other);
    }
    backlog_free(&b);
}
TEST dial_never_returns_unconnected(void) { return run_isolated(2, dialearly_body, NULL, 30); }

typedef struct { gn_context *ctx; int64_t delay; int dial_done; backlog_state *b; int rescued; } canceller;

static void cancel_fn(void *arg) {
    canceller *k = (canceller *)arg;
    gn_sleep(k->delay);
    gn_context_cancel(k->ctx);
    /* If the dial ignores the cancellation, free it by closing the listener
     * (the SYN is then refused), so that the test fails instead of hanging.  */
    int64_t t0 = gn_now();
    while (!ALOAD(&k->dial_done) && gn_now() - t0 < 3 * GN_SECOND) gn_sleep(GN_MILLISECOND);
    if (!ALOAD(&k->dial_done)) {
        k->rescued = 1;
        gn_listener_close(k->b->l);
        k->b->l = NULL;
    }
}

static void dialcancel_body(void *arg) {
    (void)arg;
    backlog_state b;
    memset(&b, 0, sizeof b);
    backlog_fill(&b);
    if (b.full) {
        gn_context *ctx = gn_context_with_cancel(NULL);
        canceller k = {ctx, 100 * GN_MILLISECOND, 0, &b, 0};
        int64_t t0 = gn_now();   /* before the canceller's clock starts */
        spawn(cancel_fn, &k);
        gn_conn *c = NULL;
        STAGE("gn_dial_context to a full backlog, cancelled after 100 ms");
        int rc = gn_dial_context(ctx, &c, "tcp", b.addr);
        int64_t took = gn_now() - t0;
        ASTORE(&k.dial_done, 1);
        join_all();
        CKI(GN_ECANCELED, rc);
        CK(c == NULL);
        if (c) gn_close(c);
        CKF(!k.rescued, "gn_dial_context did not return after its context was cancelled; "
                        "it returned %d after %lld ms only once the listener was closed",
            rc, (long long)(took / GN_MILLISECOND));
        CKF(took >= 100 * GN_MILLISECOND && took < 3 * GN_SECOND, "cancelled dial took %lld ms",
            (long long)(took / GN_MILLISECOND));
        gn_sleep(50 * GN_MILLISECOND);
        /* A context deadline works like a timeout and reports GN_ETIMEDOUT.     */
        if (b.l) {
            STAGE("gn_dial_context with a 150 ms context deadline");
            t0 = gn_now();   /* before the context's clock starts: never later */
            gn_context *tctx = gn_context_with_timeout(NULL, 150 * GN_MILLISECOND);
            rc = gn_dial_context(tctx, &c, "tcp", b.addr);
            took = gn_now() - t0;
            CKI(GN_ETIMEDOUT, rc);
            CKF(took >= 150 * GN_MILLISECOND && took < 5 * GN_SECOND, "took %lld ms",
                (long long)(took / GN_MILLISECOND));
            gn_context_free(tctx);
        }
        STAGE("gn_dial_context with a context cancelled before the call");
        /* Already cancelled: fails at once.                                      */
        t0 = gn_now();
        CKI(GN_ECANCELED, gn_dial_context(ctx, &c, "tcp", "127.0.0.1:1"));
        CK(gn_now() - t0 < GN_SECOND);
        gn_context_free(ctx);
    }
    backlog_free(&b);
}
TEST dial_context_cancelled(void) { return run_isolated(2, dialcancel_body, NULL, 30); }

/* A dial with a live context (and with a timeout that does not expire) connects. */
static void dialctx_ok_body(void *arg) {
    (void)arg;
    echo_srv s;
    if (echo_start(&s, "tcp", "127.0.0.1:0") != 0) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", s.l);
    gn_context *ctx = gn_context_with_cancel(NULL);
    gn_conn *c = NULL;
    STAGE("gn_dial_context with a live cancellable context");
    if (CKI(0, gn_dial_context(ctx, &c, "tcp", addr))) {
        STAGE("a round trip on the connection it made");
        roundtrip(c, "context dial");
        gn_close(c);
    }
    STAGE("gn_context_cancel after gn_dial_context returned");
    gn_context_cancel(ctx);   /* after the dial: the connection is not affected */
    gn_context_free(ctx);
    STAGE("gn_dial_context(NULL ctx)");
    if (CKI(0, gn_dial_context(NULL, &c, "tcp", addr))) {
        roundtrip(c, "background");
        gn_close(c);
    }
    STAGE("gn_dial_timeout");
    if (CKI(0, gn_dial_timeout(&c, "tcp", addr, 5 * GN_SECOND))) {
        /* The connect deadline is gone once connected.                           */
        gn_sleep(10 * GN_MILLISECOND);
        roundtrip(c, "timeout dial");
        gn_close(c);
    }
    STAGE("stopping the server");
    echo_stop(&s);
}
TEST dial_context_ok(void) { return run_isolated(2, dialctx_ok_body, NULL, 10); }

static void refused_body(void *arg) {
    (void)arg;
    for (int v6 = 0; v6 < 2; v6++) {
        if (v6 && !have_ipv6()) break;
        gn_listener *l = LISTEN(v6 ? "tcp6" : "tcp4", v6 ? "[::1]:0" : "127.0.0.1:0");
        if (!l) return;
        char addr[64];
        hostport(addr, sizeof addr, v6 ? "[::1]" : "127.0.0.1", l);
        gn_listener_close(l);   /* the port is free now (nobody else binds it here) */
        gn_conn *c = NULL;
        int64_t t0 = gn_now();
        CKI(-ECONNREFUSED, gn_dial(&c, "tcp", addr));
        CK(c == NULL);
        CKI(-ECONNREFUSED, gn_dial_timeout(&c, "tcp", addr, 5 * GN_SECOND));
        CK(gn_now() - t0 < 3 * GN_SECOND);
    }
}
TEST dial_refused(void) { return run_body(1, refused_body, NULL); }

/* ==== name resolution does not stall the others =================================================
 * Light: one P, a coroutine ticking every millisecond while another resolves
 * "localhost" over and over through gn_dial.                                 */
typedef struct { int ticks, stop; } ticker_state;

static void ticker_fn(void *arg) {
    ticker_state *t = (ticker_state *)arg;
    while (!ALOAD(&t->stop)) {
        gn_sleep(GN_MILLISECOND);
        AADD(&t->ticks, 1);
    }
}

static void resolve_light_body(void *arg) {
    (void)arg;
    echo_srv s;
    if (echo_start(&s, "tcp4", "127.0.0.1:0") != 0) return;
    char addr[64];
    snprintf(addr, sizeof addr, "localhost:%d", gn_listener_port(s.l));
    ticker_state t = {0, 0};
    spawn(ticker_fn, &t);
    int64_t t0 = gn_now();
    int dials = 0;
    while (gn_now() - t0 < 200 * GN_MILLISECOND) {
        gn_conn *c = DIAL("tcp4", addr);
        if (!c) break;
        gn_close(c);
        dials++;
    }
    int ticks = ALOAD(&t.ticks);
    ASTORE(&t.stop, 1);
    join_all();
    CK(dials > 0);
    CKF(ticks >= 20, "the ticker ticked %d times in 200 ms of resolving", ticks);
    echo_stop(&s);
}
TEST resolve_does_not_stall_light(void) { return run_body(1, resolve_light_body, NULL); }

#ifndef _WIN32
/* Heavy: in a child with its own network and mount namespaces,
 * /etc/resolv.conf points at a DNS server on 127.0.0.1:53 (a thread here)
 * that answers only after 300 ms. With a single P, a ticker keeps ticking
 * while gn_dial resolves "slow.gonet.test", and the dial connects to the
 * address the server gave.                                                    */
static int g_dns_fd = -1;
static int g_dns_queries;

static void *dns_thread(void *arg) {
    (void)arg;
    for (;;) {
        unsigned char q[512], r[600];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(g_dns_fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
        if (n < 12) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return NULL;
            continue;
        }
        __atomic_fetch_add(&g_dns_queries, 1, __ATOMIC_SEQ_CST);
        /* The question: name labels, then type and class.                        */
        size_t p = 12;
        while (p < (size_t)n && q[p]) p += (size_t)q[p] + 1;
        p += 1;
        if (p + 4 > (size_t)n) continue;
        int qtype = q[p] << 8 | q[p + 1];
        size_t qend = p + 4;
        usleep(300 * 1000);   /* slow */
        memcpy(r, q, qend);
        r[2] = 0x81;          /* QR, RD */
        r[3] = 0x80;          /* RA, NOERROR */
        r[4] = 0; r[5] = 1;   /* QDCOUNT */
        r[6] = 0; r[7] = qtype == 1 ? 1 : 0;   /* an A answer; AAAA: none */
        memset(r + 8, 0, 4);
        size_t m = qend;
        if (qtype == 1) {
            static const unsigned char ans[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1};
            memcpy(r + m, ans, sizeof ans);
            m += sizeof ans;
        }
        sendto(g_dns_fd, r, m, 0, (struct sockaddr *)&from, fl);
    }
}

typedef struct { int ticks_during, dial_rc; int64_t took; } slowdns_state;
static slowdns_state g_slowdns;

static void slowdns_body(void *arg) {
    slowdns_state *s = (slowdns_state *)arg;
    echo_srv srv;
    if (echo_start(&srv, "tcp4", "127.0.0.1:0") != 0) return;
    char addr[64];
    snprintf(addr, sizeof addr, "slow.gonet.test:%d", gn_listener_port(srv.l));
    ticker_state t = {0, 0};
    spawn(ticker_fn, &t);
    gn_sleep(5 * GN_MILLISECOND);
    int before = ALOAD(&t.ticks);
    int64_t t0 = gn_now();
    gn_conn *c = NULL;
    s->dial_rc = gn_dial(&c, "tcp", addr);
    s->took = gn_now() - t0;
    s->ticks_during = ALOAD(&t.ticks) - before;
    ASTORE(&t.stop, 1);
    join_all();
    if (c) {
        roundtrip(c, "resolved");
        gn_close(c);
    }
    echo_stop(&srv);
}

static int slowdns_child(void) {
    int rc = enter_netns();
    if (rc) return rc;
    if (unshare(CLONE_NEWNS) != 0) {
        fprintf(stderr, "unshare(CLONE_NEWNS): %s", strerror(errno));
        return 77;
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        fprintf(stderr, "making / private: %s", strerror(errno));
        return 77;
    }
    char conf[64];
    snprintf(conf, sizeof conf, "/tmp/gonet_test_%d_resolv.conf", (int)getpid());
    FILE *f = fopen(conf, "w");
    if (!f) return 1;
    fprintf(f, "nameserver 127.0.0.1\noptions timeout:5 attempts:1\n");
    fclose(f);
    rc = mount(conf, "/etc/resolv.conf", NULL, MS_BIND, NULL);
    unlink(conf);
    if (rc != 0) {
        fprintf(stderr, "bind-mounting a resolv.conf: %s", strerror(errno));
        return 77;
    }
    g_dns_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(53);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(g_dns_fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "binding 127.0.0.1:53: %s", strerror(errno));
        return 1;
    }
    pthread_t th;
    pthread_create(&th, NULL, dns_thread, NULL);
    fail_reset(NULL);
    memset(&g_slowdns, 0, sizeof g_slowdns);
    rc = run_procs(1, slowdns_body, &g_slowdns);
    if (rc != 0 || ALOAD(&g_fail_set)) return child_rc_from_fail(rc);
    slowdns_state *s = &g_slowdns;
    if (s->dial_rc != 0) {
        fprintf(stderr, "gn_dial(slow.gonet.test) = %d (%s) after %lld ms, %d DNS queries", s->dial_rc,
                gn_strerror(s->dial_rc), (long long)(s->took / GN_MILLISECOND), g_dns_queries);
        return 1;
    }
    if (s->took < 300 * GN_MILLISECOND) {
        fprintf(stderr, "the lookup took %lld ms: the slow server was not used", (long long)(s->took / GN_MILLISECOND));
        return 1;
    }
    if (s->ticks_during < 50) {
        fprintf(stderr, "only %d ticks of 1 ms during a %lld ms lookup: resolution stalled the P",
                s->ticks_during, (long long)(s->took / GN_MILLISECOND));
        return 1;
    }
    return 0;
}
TEST resolve_does_not_stall_slow_dns(void) { return child_result(run_in_child(slowdns_child, 60)); }

#else
TEST resolve_does_not_stall_slow_dns(void) { SKIPm("needs private network and mount namespaces (Linux)"); }
#endif

#ifndef _WIN32
/* ==== gn_conn_from_fd ============================================================================== */
typedef struct { gn_conn *w; int64_t total; int64_t rc; } pipe_state;

static void pipe_writer(void *arg) {
    pipe_state *p = (pipe_state *)arg;
    unsigned char *buf = (unsigned char *)malloc((size_t)p->total);
    fill_pat(buf, (size_t)p->total, 0, 5);
    p->rc = gn_write(p->w, buf, (size_t)p->total);   /* far more than a pipe holds */
    free(buf);
    CKI(0, gn_close(p->w));
}

static void pipe_body(void *arg) {
    (void)arg;
    int fds[2];
    if (!CKI(0, pipe(fds))) return;
    gn_conn *r = NULL, *w = NULL;
    CKI(0, gn_conn_from_fd(&r, fds[0]));
    CKI(0, gn_conn_from_fd(&w, fds[1]));
    if (!r || !w) return;
    CK(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
    pipe_state p = {w, 1 << 20, 0};
    spawn(pipe_writer, &p);
    unsigned char buf[5000];
    int64_t pos = 0;
    gn_set_read_deadline(r, gn_now() + SAFETY);
    for (;;) {
        int64_t n = gn_read(r, buf, sizeof buf);
        if (n == GN_EOF) break;
        if (n <= 0) {
            CKF(0, "gn_read after %lld of %lld bytes: %lld (%s)", (long long)pos, (long long)p.total,
                (long long)n, gn_strerror((int)n));
            break;
        }
        if (!CKI(-1, check_pat(buf, (size_t)n, (uint64_t)pos, 5))) break;
        pos += n;
    }
    join_all();
    CKI(p.total, pos);
    CKI(p.total, p.rc);
    CKI(0, gn_close(r));
}
TEST conn_from_fd_pipe(void) { return run_body(2, pipe_body, NULL); }
#else
TEST conn_from_fd_pipe(void) { SKIPm("Windows wraps only sockets"); }
#endif

/* Two connected stream sockets: socketpair, or (Windows has none) a loopback
 * TCP connection made with plain blocking calls. 0 or -1.                    */
static int t_socketpair(t_sock sv[2]) {
#ifdef _WIN32
    t_sock l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int len = sizeof a;
    if (l == INVALID_SOCKET || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 1) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) != 0)
        return -1;
    sv[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (sv[0] == INVALID_SOCKET || connect(sv[0], (struct sockaddr *)&a, sizeof a) != 0) return -1;
    sv[1] = accept(l, NULL, NULL);
    closesocket(l);
    return sv[1] == INVALID_SOCKET ? -1 : 0;
#else
    return socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
#endif
}

/* A socketpair wrapped with gn_conn_from_fd: read, write, deadlines, EOF.  */
static void sockpair_body(void *arg) {
    (void)arg;
    t_sock sv[2] = {(t_sock)-1, (t_sock)-1};
    if (!CKI(0, t_socketpair(sv))) return;
    gn_conn *a = NULL, *b = NULL;
    CKI(0, gn_conn_from_fd(&a, (int)sv[0]));
    CKI(0, gn_conn_from_fd(&b, (int)sv[1]));
    if (!a || !b) return;
    CKI((int)sv[0], gn_conn_fd(a));
    char buf[16];
    int64_t d = gn_now() + 30 * GN_MILLISECOND;
    CKI(0, gn_set_read_deadline(a, d));
    CKI(GN_ETIMEDOUT, gn_read(a, buf, sizeof buf));
    CK(gn_now() >= d);
    CKI(0, gn_set_read_deadline(a, gn_now() + SAFETY));
    CKI(5, gn_write(b, "hello", 5));
    CKI(5, read_full(a, buf, 5));
    CK(memcmp(buf, "hello", 5) == 0);
    CKI(0, gn_close(b));
    CKI(GN_EOF, gn_read(a, buf, sizeof buf));
    CKI(0, gn_close(a));
}
TEST conn_from_fd_socketpair(void) { return run_body(1, sockpair_body, NULL); }

#ifndef _WIN32
static void file_body(void *arg) {
    (void)arg;
    char path[96];
    snprintf(path, sizeof path, "/tmp/gonet_test_%d_file", (int)getpid());
    FILE *f = fopen(path, "w");
    if (!CK(f != NULL)) return;
    unsigned char data[10000];
    fill_pat(data, sizeof data, 0, 11);
    fwrite(data, 1, sizeof data, f);
    fclose(f);
    int fd = open(path, O_RDONLY);
    gn_conn *c = NULL;
    if (!CKI(0, gn_conn_from_fd(&c, fd))) return;
    unsigned char buf[3000];
    int64_t pos = 0;
    for (;;) {
        int64_t n = gn_read(c, buf, sizeof buf);
        if (n == GN_EOF) break;
        if (!CKR(n)) {
            break;
        }
        CKI(-1, check_pat(buf, (size_t)n, (uint64_t)pos, 11));
        pos += n;
    }
    CKI((int64_t)sizeof data, pos);
    CKI(GN_EOF, gn_read(c, buf, sizeof buf));
    CK(gn_set_read_deadline(c, gn_now() + GN_SECOND) < 0);   /* a file has no deadlines */
    CKI(0, gn_close(c));
    /* Writing a file through a gn_conn.                                          */
    int wfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    gn_conn *w = NULL;
    if (CK(wfd >= 0) && CKI(0, gn_conn_from_fd(&w, wfd))) {
        unsigned char *big = (unsigned char *)malloc(1 << 20);
        fill_pat(big, 1 << 20, 0, 12);
        CKI(1 << 20, gn_write(w, big, 1 << 20));
        memset(big, 0, 1 << 20);
        CKI(1 << 20, pread(wfd, big, 1 << 20, 0));
        CKI(-1, check_pat(big, 1 << 20, 0, 12));
        free(big);
        CKI(0, gn_close(w));
    }
    unlink(path);
    /* A bad descriptor is refused, and consumes nothing.                        */
    CK(gn_conn_from_fd(&c, fd) < 0);
}
TEST conn_from_fd_file(void) { return run_body(1, file_body, NULL); }

#else
TEST conn_from_fd_file(void) { SKIPm("Windows wraps only sockets"); }
#endif

/* ==== bad input ===================================================================================== */
static void badinput_body(void *arg) {
    (void)arg;
    gn_listener *l = NULL;
    gn_conn *c = NULL;
    char buf[64];
    /* NULL arguments.                                                           */
    CKI(GN_EINVAL, gn_listen(NULL, "tcp", "127.0.0.1:0"));
    CKI(GN_EINVAL, gn_listen(&l, NULL, "127.0.0.1:0"));
    CKI(GN_EINVAL, gn_listen(&l, "tcp", NULL));
    CKI(GN_EINVAL, gn_listen_with(&l, "tcp", NULL, NULL));
    CKI(GN_EINVAL, gn_dial(NULL, "tcp", "127.0.0.1:1"));
    CKI(GN_EINVAL, gn_dial(&c, NULL, "127.0.0.1:1"));
    CKI(GN_EINVAL, gn_dial(&c, "tcp", NULL));
    CKI(GN_EINVAL, gn_dial_timeout(&c, "tcp", NULL, GN_SECOND));
    CKI(GN_EINVAL, gn_dial_context(NULL, NULL, "tcp", "127.0.0.1:1"));
    CKI(GN_EINVAL, gn_accept(NULL, &c));
    CKI(GN_EINVAL, gn_listener_close(NULL));
    CKI(GN_EINVAL, gn_listener_addr(NULL, buf, sizeof buf));
    CKI(GN_EINVAL, gn_listener_port(NULL));
    CKI(GN_EINVAL, gn_listener_set_deadline(NULL, 0));
    CKI(GN_EINVAL, gn_read(NULL, buf, 1));
    CKI(GN_EINVAL, gn_write(NULL, buf, 1));
    CKI(GN_EINVAL, gn_close(NULL));
    CKI(GN_EINVAL, gn_close_read(NULL));
    CKI(GN_EINVAL, gn_close_write(NULL));
    CKI(GN_EINVAL, gn_set_deadline(NULL, 0));
    CKI(GN_EINVAL, gn_set_read_deadline(NULL, 0));
    CKI(GN_EINVAL, gn_set_write_deadline(NULL, 0));
    CKI(GN_EINVAL, gn_local_addr(NULL, buf, sizeof buf));
    CKI(GN_EINVAL, gn_remote_addr(NULL, buf, sizeof buf));
    CKI(GN_EINVAL, gn_conn_fd(NULL));
    CKI(GN_EINVAL, gn_set_nodelay(NULL, 1));
    CKI(GN_EINVAL, gn_set_keepalive(NULL, 1, 0));
    CKI(GN_EINVAL, gn_set_read_buffer(NULL, 4096));
    CKI(GN_EINVAL, gn_set_write_buffer(NULL, 4096));
    CKI(GN_EINVAL, gn_set_linger(NULL, 1));
    CKI(GN_EINVAL, gn_conn_from_fd(NULL, 0));
    CKI(GN_EINVAL, gn_conn_from_fd(&c, -1));
    CKI(GN_EINVAL, gn_listen_packet(NULL, "udp", "127.0.0.1:0"));
    CKI(GN_EINVAL, gn_listen_packet(&c, NULL, "127.0.0.1:0"));
    CKI(GN_EINVAL, gn_listen_packet(&c, "udp", NULL));
    CKI(GN_EINVAL, gn_read_from(NULL, buf, 1, NULL, 0));
    CKI(GN_EINVAL, gn_write_to(NULL, buf, 1, "127.0.0.1:1"));
    CKI(GN_EINVAL, gn_set_broadcast(NULL, 1));
    CKI(GN_EINVAL, gn_join_group(NULL, "239.1.2.3", NULL));
    CKI(GN_EINVAL, gn_leave_group(NULL, "239.1.2.3", NULL));
    CKI(GN_EINVAL, gn_conn_reader(NULL, buf, 1));
    CKI(GN_EINVAL, gn_conn_writer(NULL, buf, 1));
    /* Unknown networks, and a network of the wrong kind.                        */
    const char *nets[] = {"", "tcp5", "TCP", "ip", "udp7", "unixpacket", "tcp "};
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        CKI(GN_EINVAL, gn_listen(&l, nets[i], "127.0.0.1:0"));
        CKI(GN_EINVAL, gn_dial(&c, nets[i], "127.0.0.1:1"));
        CKI(GN_EINVAL, gn_listen_packet(&c, nets[i], "127.0.0.1:0"));
    }
    CKI(GN_EINVAL, gn_listen(&l, "udp", "127.0.0.1:0"));
    CKI(GN_EINVAL, gn_listen(&l, "unixgram", "/tmp/x.sock"));
    CKI(GN_EINVAL, gn_listen_packet(&c, "tcp", "127.0.0.1:0"));
    CKI(GN_EINVAL, gn_listen_packet(&c, "unix", "/tmp/x.sock"));
    /* Malformed addresses.                                                      */
    const char *bad[] = {"1.2.3.4", "::1:80", "host:", "[::1:80", "[::1]", "", ":", "[::1]80",
                         "127.0.0.1:", "::1", "[]:", "1.2.3.4:80:90"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = gn_listen(&l, "tcp", bad[i]);
        CKF(rc == GN_EINVAL, "gn_listen(tcp, \"%s\") = %d (%s)", bad[i], rc, gn_strerror(rc));
        if (rc == 0) gn_listener_close(l);
        rc = gn_dial(&c, "tcp", bad[i]);
        CKF(rc == GN_EINVAL, "gn_dial(tcp, \"%s\") = %d (%s)", bad[i], rc, gn_strerror(rc));
        if (rc == 0) gn_close(c);
        rc = gn_listen_packet(&c, "udp", bad[i]);
        CKF(rc == GN_EINVAL, "gn_listen_packet(udp, \"%s\") = %d (%s)", bad[i], rc, gn_strerror(rc));
        if (rc == 0) gn_close(c);
    }
    /* Unix paths: empty or too long.                                            */
    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[0] = '/';
    longpath[sizeof longpath - 1] = 0;
    CKI(GN_EINVAL, gn_listen(&l, "unix", ""));
    CKI(GN_EINVAL, gn_listen(&l, "unix", longpath));
    CKI(GN_EINVAL, gn_dial(&c, "unix", longpath));
    /* A name that does not resolve: GN_ENOHOST (or some error), in good time.   */
    int64_t t0 = gn_now();
    int rc = gn_dial(&c, "tcp", "no-such-host.invalid:80");
    CKF(rc == GN_ENOHOST || (rc < 0 && rc != GN_EINVAL), "dial no-such-host.invalid: %d (%s)", rc,
        gn_strerror(rc));
    if (rc == 0) gn_close(c);
    rc = gn_listen(&l, "tcp", "no-such-host.invalid:0");
    CKF(rc < 0, "listen no-such-host.invalid: %d", rc);
    if (rc == 0) gn_listener_close(l);
    CKF(gn_now() - t0 < 30 * GN_SECOND, "resolving took %lld ms", (long long)ms_since(t0));
    /* An address of the wrong family for the network.                           */
    rc = gn_listen(&l, "tcp4", "[::1]:0");
    CK(rc < 0);
    if (rc == 0) gn_listener_close(l);
    rc = gn_listen(&l, "tcp6", "127.0.0.1:0");
    CK(rc < 0);
    if (rc == 0) gn_listener_close(l);
    /* Out-of-range values on a live connection; and outputs NULLed on failure.  */
    gn_conn *u = NULL;
    if (CKI(0, gn_listen_packet(&u, "udp4", "127.0.0.1:0"))) {
        CKI(GN_EINVAL, gn_set_read_buffer(u, -1));
        CKI(GN_EINVAL, gn_set_write_buffer(u, -1));
        CKI(GN_EINVAL, gn_read(u, NULL, 10));
        CKI(GN_EINVAL, gn_write(u, NULL, 10));
        CKI(GN_EINVAL, gn_read_from(u, NULL, 10, NULL, 0));
        CKI(GN_EINVAL, gn_write_to(u, buf, 1, NULL));
        CKI(GN_EINVAL, gn_write_to(u, buf, 1, "1.2.3.4"));
        CKI(GN_EINVAL, gn_write_to(u, buf, 1, "::1:80"));
        CKI(0, gn_read(u, buf, 0) == 0 ? 0 : 1);
        gn_close(u);
    }
    c = (gn_conn *)(uintptr_t)1;
    CK(gn_dial(&c, "tcp", "1.2.3.4") < 0 && c == NULL);
    l = (gn_listener *)(uintptr_t)1;
    CK(gn_listen(&l, "tcp", "1.2.3.4") < 0 && l == NULL);
}
TEST bad_input(void) { return run_body(1, badinput_body, NULL); }

/* A port must be a number in 0..65535: 65536 is not port 0, and a huge number
 * is not its low 16 bits (Go: "invalid port").                              */
static void badport_body(void *arg) {
    (void)arg;
    gn_listener *l = NULL;
    gn_conn *c = NULL;
    const char *badport[] = {"127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:99999999999", "127.0.0.1:8o",
                             "127.0.0.1:65537"};
    for (size_t i = 0; i < sizeof badport / sizeof badport[0]; i++) {
        int rc = gn_listen(&l, "tcp", badport[i]);
        CKF(rc < 0, "gn_listen(tcp, \"%s\") = %d, listening on port %d", badport[i], rc,
            rc == 0 ? gn_listener_port(l) : -1);
        if (rc == 0) gn_listener_close(l);
        rc = gn_listen_packet(&c, "udp", badport[i]);
        CKF(rc < 0, "gn_listen_packet(udp, \"%s\") = %d", badport[i], rc);
        if (rc == 0) gn_close(c);
    }
}
TEST bad_port_numbers(void) { return run_body(1, badport_body, NULL); }

/* Outside the runtime nothing can be polled: an error, not a crash.             */
TEST outside_runtime(void) {
    gn_listener *l = NULL;
    gn_conn *c = NULL;
    int rc = gn_listen(&l, "tcp", "127.0.0.1:0");
    ASSERT(rc < 0);
    ASSERT(l == NULL);
    rc = gn_listen_packet(&c, "udp", "127.0.0.1:0");
    ASSERT(rc < 0);
    ASSERT(c == NULL);
    PASS();
}

/* ==== options =========================================================================================== */
static void options_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    gn_conn *c = DIAL("tcp", addr), *sc = ACCEPT(l);
    if (c && sc) {
        int fd = gn_conn_fd(c);
        /* TCP_NODELAY is on by default on both ends, as in Go.                   */
        CK(getsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY) > 0);
        CK(getsockopt_int(gn_conn_fd(sc), IPPROTO_TCP, TCP_NODELAY) > 0);
        CKI(0, gn_set_nodelay(c, 0));
        CKI(0, getsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY));
        CKI(0, gn_set_nodelay(c, 1));
        CK(getsockopt_int(fd, IPPROTO_TCP, TCP_NODELAY) > 0);
        /* Keep-alive, with a period in whole seconds (rounded up).              */
        CKI(0, gn_set_keepalive(c, 1, 30 * GN_SECOND));
        CKI(1, getsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE));
#ifndef _WIN32   /* (Windows sets the period with an ioctl that cannot be read back) */
        CKI(30, getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE));
        CKI(30, getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL));
#endif
        CKI(0, gn_set_keepalive(c, 1, 1500 * GN_MILLISECOND));
#ifndef _WIN32
        CKI(2, getsockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE));
#endif
        CKI(0, gn_set_keepalive(c, 0, 0));
        CKI(0, getsockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE));
        /* Buffer sizes (Linux doubles what it is given).                          */
        CKI(0, gn_set_read_buffer(c, 32768));
        CK(getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF) >= 32768);
        CKI(0, gn_set_write_buffer(c, 32768));
        CK(getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF) >= 32768);
        /* Linger.                                                                 */
        struct linger lg;
        socklen_t len = sizeof lg;
        CKI(0, gn_set_linger(c, 5));
        getsockopt(T_SOCK(fd), SOL_SOCKET, SO_LINGER, (char *)&lg, &len);
        CK(lg.l_onoff == 1 && lg.l_linger == 5);
        CKI(0, gn_set_linger(c, -1));
        getsockopt(T_SOCK(fd), SOL_SOCKET, SO_LINGER, (char *)&lg, &len);
        CK(lg.l_onoff == 0);
        /* Linger 0: close resets the connection, the peer reads ECONNRESET.       */
        CKI(0, gn_set_linger(c, 0));
        CKI(0, gn_close(c));
        char b[8];
        gn_set_read_deadline(sc, gn_now() + SAFETY);
        int64_t r = gn_read(sc, b, sizeof b);
        if (under_wine() && r == GN_EOF) r = -ECONNRESET;   /* (wine closes a dialed socket gracefully) */
        CKI(-ECONNRESET, r);
        gn_close(sc);
    } else {
        if (c) gn_close(c);
        if (sc) gn_close(sc);
    }
    gn_listener_close(l);

    /* Unix connections have no Nagle to switch off.                               */
    char path[108];
    unix_path(path, sizeof path, "opts");
    l = have_unix() ? LISTEN("unix", path) : NULL;
    if (l) {
        c = DIAL("unix", path);
        if (c) {
            CK(gn_set_nodelay(c, 1) < 0);
            gn_close(c);
        }
        gn_listener_close(l);
    }
}
TEST socket_options(void) { return run_body(1, options_body, NULL); }

/* SO_REUSEPORT on request: two listeners on one port; without it, EADDRINUSE. */
static void reuseport_body(void *arg) {
    (void)arg;
    gn_listen_opts o = {0, 1};
    gn_listener *a = NULL, *b = NULL, *x = NULL;
#ifdef _WIN32
    /* No SO_REUSEPORT: refused; a second plain listener is EADDRINUSE.       */
    CKI(GN_ENOSYS, gn_listen_with(&a, "tcp4", "127.0.0.1:0", &o));
    if (!CKI(0, gn_listen(&a, "tcp4", "127.0.0.1:0"))) return;
    char port[64];
    hostport(port, sizeof port, "127.0.0.1", a);
    CKI(-EADDRINUSE, gn_listen(&x, "tcp4", port));
    if (x) gn_listener_close(x);
    gn_listener_close(a);
    (void)b;
    return;
#endif
    if (!CKI(0, gn_listen_with(&a, "tcp4", "127.0.0.1:0", &o))) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", a);
    CKI(0, gn_listen_with(&b, "tcp4", addr, &o));
    CKI(-EADDRINUSE, gn_listen(&x, "tcp4", addr));
    if (x) gn_listener_close(x);
    if (b) {
        CKI(gn_listener_port(a), gn_listener_port(b));
        gn_listener_close(b);
    }
    gn_listener_close(a);
}
TEST listen_reuse_port(void) { return run_body(1, reuseport_body, NULL); }

/* ==== reads and writes of nothing, and concurrent readers ===============================
 * A zero-byte read returns 0 at once, also right after a short read (when
 * the socket is known to be empty).                                           */
static void zeroread_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    gn_conn *c = DIAL("tcp", addr), *sc = ACCEPT(l);
    if (c && sc) {
        char buf[64];
        CKI(0, gn_write(c, buf, 0));
        gn_set_read_deadline(sc, gn_now() + 2 * GN_SECOND);
        CKI(0, gn_read(sc, buf, 0));
        CKI(3, gn_write(c, "abc", 3));
        CKI(3, gn_read(sc, buf, sizeof buf));   /* short: the socket is empty now */
        int64_t t0 = gn_now();
        CKI(0, gn_read(sc, buf, 0));
        CKF(gn_now() - t0 < GN_SECOND, "a zero-byte read waited %lld ms", (long long)ms_since(t0));
        CKI(2, gn_write(c, "de", 2));
        CKI(2, gn_read(sc, buf, sizeof buf));
        CK(memcmp(buf, "de", 2) == 0);
    }
    if (c) gn_close(c);
    if (sc) gn_close(sc);
    gn_listener_close(l);
}
TEST zero_byte_read(void) { return run_body(1, zeroread_body, NULL); }

/* Several coroutines read one connection at once (they take turns): together
 * they get every byte exactly once.                                           */
typedef struct { gn_conn *c; int64_t count, sum; gn_waitgroup *wg; } share_reader;

static void share_read_fn(void *arg) {
    share_reader *r = (share_reader *)arg;
    unsigned char buf[7];
    for (;;) {
        int64_t n = gn_read(r->c, buf, sizeof buf);
        if (n == GN_EOF) break;
        if (!CKR(n)) {
            break;
        }
        r->count += n;
        for (int64_t i = 0; i < n; i++) r->sum += buf[i];
    }
    gn_waitgroup_done(r->wg);
}

static void share_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    gn_conn *c = DIAL("tcp", addr), *sc = ACCEPT(l);
    if (c && sc) {
        gn_set_read_deadline(sc, gn_now() + 20 * GN_SECOND);
        gn_waitgroup wg = GN_WAITGROUP_INIT;
        share_reader rs[4];
        gn_waitgroup_add(&wg, 4);
        for (int i = 0; i < 4; i++) {
            rs[i].c = sc;
            rs[i].count = rs[i].sum = 0;
            rs[i].wg = &wg;
            gn_go(share_read_fn, &rs[i]);
        }
        int64_t total = 200000 / g_scale, sum = 0;
        unsigned char buf[997];
        for (int64_t pos = 0; pos < total;) {
            size_t n = (size_t)GN__MIN((int64_t)sizeof buf, total - pos);
            fill_pat(buf, n, (uint64_t)pos, 1);
            for (size_t i = 0; i < n; i++) sum += buf[i];
            if (!CKI((int64_t)n, gn_write(c, buf, n))) break;
            pos += (int64_t)n;
            if (pos % 7 == 0) gn_yield();
        }
        CKI(0, gn_close_write(c));
        gn_waitgroup_wait(&wg);
        int64_t count = 0, got = 0;
        for (int i = 0; i < 4; i++) {
            count += rs[i].count;
            got += rs[i].sum;
        }
        CKI(total, count);
        CKI(sum, got);
    }
    if (c) gn_close(c);
    if (sc) gn_close(sc);
    gn_listener_close(l);
}
TEST concurrent_readers(void) { return run_body(2, share_body, NULL); }

/* ==== the listener's deadline ======================================================================= */
typedef struct { gn_listener *l; int64_t d; } lndl_setter;
static void lndl_set_fn(void *arg) {
    lndl_setter *s = (lndl_setter *)arg;
    gn_sleep(20 * GN_MILLISECOND);
    s->d = gn_now() + 30 * GN_MILLISECOND;
    CKI(0, gn_listener_set_deadline(s->l, s->d));
}

static void lndl_body(void *arg) {
    (void)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    int64_t d = gn_now() + 50 * GN_MILLISECOND;
    CKI(0, gn_listener_set_deadline(l, d));
    gn_conn *c = NULL;
    CKI(GN_ETIMEDOUT, gn_accept(l, &c));
    CK(gn_now() >= d);
    CK(c == NULL);
    CKI(GN_ETIMEDOUT, gn_accept(l, &c));   /* still past */
    CKI(0, gn_listener_set_deadline(l, 0));
    gn_conn *cc = DIAL("tcp", addr);
    if (cc) {
        CKI(0, gn_accept(l, &c));
        if (c) gn_close(c);
        gn_close(cc);
    }
    /* Set by another coroutine while gn_accept waits: it applies.               */
    lndl_setter st = {l, 0};
    spawn(lndl_set_fn, &st);
    c = NULL;
    CKI(GN_ETIMEDOUT, gn_accept(l, &c));
    join_all();
    CK(st.d > 0 && gn_now() >= st.d);
    CKI(0, gn_listener_set_deadline(l, 0));
    gn_listener_close(l);
}
TEST listener_deadline(void) { return run_body(1, lndl_body, NULL); }

/* ==== stats ============================================================================================ */
typedef struct { int64_t before, after; } polls_state;

static void polls_peer(void *arg) {
    gn_conn *c = (gn_conn *)arg;
    gn_sleep(20 * GN_MILLISECOND);
    CKI(1, gn_write(c, "x", 1));
}

static void polls_body(void *arg) {
    polls_state *s = (polls_state *)arg;
    gn_listener *l = LISTEN("tcp", "127.0.0.1:0");
    if (!l) return;
    char addr[64];
    hostport(addr, sizeof addr, "127.0.0.1", l);
    gn_conn *c = DIAL("tcp", addr), *sc = ACCEPT(l);
    if (c && sc) {
        gn_stats st;
        gn_stats_read(&st);
        s->before = st.polls;
        for (int i = 0; i < 3; i++) {   /* each read parks until the peer writes */
            gn_go(polls_peer, c);
            char b[4];
            gn_set_read_deadline(sc, gn_now() + SAFETY);
            CKI(1, gn_read(sc, b, sizeof b));
        }
        gn_stats_read(&st);
        s->after = st.polls;
    }
    if (c) gn_close(c);
    if (sc) gn_close(sc);
    gn_listener_close(l);
}
TEST stats_polls_increase(void) {
    polls_state s = {0, 0};
    CHECK_CALL(run_body(1, polls_body, &s));
    ASSERT(s.after > s.before);
    gn_stats st;
    gn_stats_read(&st);
    EQI(0, st.polls);   /* no runtime: all zeros */
    PASS();
}

SUITE(net_suite) {
    GREATEST_SET_SETUP_CB(fail_reset, NULL);
    RUN_TEST(tcp_echo_ipv4);
    RUN_TEST(addresses_ipv4);
    RUN_TEST(addresses_ipv6);
    RUN_TEST(echo_thousand_clients);
    RUN_TEST(read_data_then_eof_after_close);
    RUN_TEST(read_data_then_eof_after_close_write);
    RUN_TEST(read_to_eof_race);
    RUN_TEST(half_close);
    RUN_TEST(close_read_gives_eof);
    RUN_TEST(large_write_slow_reader);
    RUN_TEST(close_wakes_blocked);
    RUN_TEST(close_races_write_in_flight);
    RUN_TEST(close_races_parked_reader);
    RUN_TEST(deadline_races_close);
    RUN_TEST(concurrent_writers_do_not_interleave);
    RUN_TEST(peer_reset);
    RUN_TEST(accept_rides_out_emfile);
    RUN_TEST(udp_ipv4);
    RUN_TEST(udp_udp4);
    RUN_TEST(udp_ipv6);
    RUN_TEST(udp_connected_ipv4);
    RUN_TEST(udp_connected_ipv6);
    RUN_TEST(udp_connected_refused);
    RUN_TEST(udp_empty_datagrams);
    RUN_TEST(udp_dual_stack);
    RUN_TEST(udp_broadcast_in_netns);
    RUN_TEST(udp_multicast_in_netns);
    RUN_TEST(tcp_ipv6);
    RUN_TEST(tcp_dual_stack);
    RUN_TEST(dual_stack_ipv4_peer_names);
    RUN_TEST(tcp_localhost);
    RUN_TEST(unix_stream);
    RUN_TEST(unixgram);
    RUN_TEST(dial_timeout_on_full_backlog);
    RUN_TEST(dial_never_returns_unconnected);
    RUN_TEST(dial_context_cancelled);
    RUN_TEST(dial_context_ok);
    RUN_TEST(dial_refused);
    RUN_TEST(resolve_does_not_stall_light);
    RUN_TEST(resolve_does_not_stall_slow_dns);
    RUN_TEST(conn_from_fd_pipe);
    RUN_TEST(conn_from_fd_socketpair);
    RUN_TEST(conn_from_fd_file);
    RUN_TEST(bad_input);
    RUN_TEST(bad_port_numbers);
    RUN_TEST(outside_runtime);
    RUN_TEST(socket_options);
    RUN_TEST(listen_reuse_port);
    RUN_TEST(zero_byte_read);
    RUN_TEST(concurrent_readers);
    RUN_TEST(listener_deadline);
    RUN_TEST(stats_polls_increase);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
#ifdef _WIN32
    WSADATA wd;   /* the tests' own raw sockets, before any runtime started it */
    WSAStartup(MAKEWORD(2, 2), &wd);
#endif
    set_scale();
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(net_suite);
    GREATEST_MAIN_END();
}
