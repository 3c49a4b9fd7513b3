/* bench_idle.c — memory per idle keep-alive HTTP connection, and per new
 * connection that has sent nothing yet: gonet's server against Go's net/http
 * (bench/go_hello).
 *
 *   build/bench_idle [-n N] [-s SECS]      (make bench-idle runs: build/bench_idle)
 *
 * 1. gonet. The HTTP server runs in this process, on 127.0.0.1:0, with the
 *    hello handler ("Hello, World!\n" on GET /, as examples/hello.c). A client
 *    process, forked before the runtime starts and using plain blocking
 *    sockets, opens 50 connections, sends one request on each, reads the
 *    responses and closes them (a warm-up, so that one-time costs are in the
 *    baseline), then the server's RSS is read (VmRSS, /proc/self/status).
 *    The client then opens N connections, sends
 *    "GET / HTTP/1.1\r\nHost: x\r\n\r\n" on each and reads the response, and
 *    keeps them all open and idle. Once all N responses are in and after a
 *    settle (1 s), the server's RSS is read again:
 *    bytes per connection = (RSS after - RSS before) / N. Notes give, before
 *    and after, the coroutines alive and malloc's in-use and free bytes (an
 *    idle connection parked in the poller has no coroutine and no buffers).
 *    The runtime has its default Ps (the CPUs; GONET_MAXPROCS overrides).
 *    Then the same again with N connections that send nothing (what a flood
 *    of silent connections costs, before read_header_timeout closes them):
 *    they must be held before the header timeout (10 s) ends the first. The
 *    heap pages the first N left free are reused here, so this RSS figure is
 *    a lower bound; malloc's in-use growth in the notes is the other view.
 * 2. Go. The same for bench/go_hello, started as a child process; its RSS is
 *    read from /proc/PID/status. The binary is BUILD_DIR/bench_go_hello (next
 *    to this program), built with the local toolchain when `go` is installed
 *    (standard library only: GOPROXY=off, caches next to this program); $IDLE_GO_BIN
 *    names another binary ("" for none). Without go, gonet's figure only.
 *
 * The client is a separate process, so its memory (N sockets, their buffers)
 * is not counted. RSS is user-space memory only: the kernel's socket buffers
 * and structures (a few KiB per connection on each side) are in neither
 * figure. Pooled coroutine stacks or goroutines left from the warm-up may be
 * reused by the first 50 connections, which makes both figures a little low
 * (by at most 50/N of a connection's cost).
 *
 * Figures are printed, never asserted on:
 *   idle_conn_bytes server=gonet conns=N bytes_per_conn=X
 *   idle_conn_bytes server=go conns=N bytes_per_conn=Y
 *   idle_conn_ratio server=gonet/go conns=N value=X/Y
 *   new_conn_bytes server=gonet|go conns=N bytes_per_conn=X    (never used)
 *   new_conn_ratio server=gonet/go conns=N value=X/Y
 * Without a high enough open-file limit (N + 64 descriptors in each process;
 * the soft limit is raised to the hard one) it says so and exits 0.
 * Everything is bounded in time: the client gives each connect, send and
 * receive 10 s and stops at the first failure, the parent waits for it at most
 * 60 s + N/500 s, and the client dies with the parent.
 *
 * Options and environment:
 *   -n N / IDLE_CONNS=N      idle connections (default 10000; 1000 with
 *                            BENCH_SCALE=small); a bare number works too
 *   -s S / IDLE_SETTLE=S     settle seconds before the second RSS reading (default 1)
 *   IDLE_GO_BIN=PATH         Go server binary to use ("" for none)
 *   -r R, -p P               ignored (bench/run.sh passes them to every benchmark)
 */
#define GONET_IMPLEMENTATION
#include "../gonet.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define HAVE_MALLINFO2 1
#endif

extern char **environ;

#define WARM_CONNS   50
#define FD_MARGIN    64
#define IO_TIMEOUT_S 10

static long g_conns = 10000;
static double g_settle = 1.0;

/* ---- small helpers ------------------------------------------------------------ */

static int64_t mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms: parks the coroutine inside the runtime, sleeps the thread outside. */
static void pause_ms(int64_t ms) { gn_sleep(ms * GN_MILLISECOND); }

/* VmRSS of a process in KiB ("self" or a pid), or -1. */
static long rss_kib(const char *pid, long *anon) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long rss = -1;
    if (anon) *anon = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) rss = strtol(line + 6, NULL, 10);
        else if (anon && strncmp(line, "RssAnon:", 8) == 0) *anon = strtol(line + 8, NULL, 10);
    }
    fclose(f);
    return rss;
}

/* ---- the client process ------------------------------------------------------------
 * Commands, one per line on its standard pipe: "open PORT N" (answers "ok N"
 * or "err WHY"), "silent PORT N" (the same, but the connections send
 * nothing), "close" (answers "closed"), "exit" or EOF.                         */

static int cli_open_one(int port, int silent, int *out, char *why, size_t whysz) {
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whysz, "socket: %s", strerror(errno));
        return -1;
    }
    struct timeval tv = {IO_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        snprintf(why, whysz, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (silent) {
        *out = fd;
        return 0;
    }
    if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1)) {
        snprintf(why, whysz, "send: %s", strerror(errno));
        close(fd);
        return -1;
    }
    /* The response: a head, then Content-Length bytes of body. */
    char buf[4096];
    size_t n = 0;
    long need = -1;
    for (;;) {
        if (need < 0) {
            buf[n] = 0;
            char *end = strstr(buf, "\r\n\r\n");
            if (end) {
                if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0) {
                    snprintf(why, whysz, "status: %.20s", buf);
                    close(fd);
                    return -1;
                }
                long clen = 0;
                for (char *p = buf; p < end; p = strstr(p, "\r\n") + 2)
                    if (strncasecmp(p, "Content-Length:", 15) == 0) clen = strtol(p + 15, NULL, 10);
                need = (long)(end + 4 - buf) + clen;
            }
        }
        if (need >= 0 && (long)n >= need) break;
        if (n >= sizeof buf - 1) {
            snprintf(why, whysz, "response too long");
            close(fd);
            return -1;
        }
        ssize_t r = recv(fd, buf + n, sizeof buf - 1 - n, 0);
        if (r <= 0) {
            snprintf(why, whysz, "recv: %s", r == 0 ? "connection closed" : strerror(errno));
            close(fd);
            return -1;
        }
        n += (size_t)r;
    }
    *out = fd;
    return 0;
}

static void cli_say(int fd, const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(1);
        s += w;
        n -= (size_t)w;
    }
}

static void client_main(int cmd, int rep) {
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* dies with the parent                  */
#endif
    signal(SIGPIPE, SIG_IGN);
    alarm(3600);                        /* and in any case, some day             */
    int *fds = NULL;
    long nfds = 0;
    char line[128];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(cmd, line + len, sizeof line - 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        len += (size_t)r;
        char *nl;
        while ((nl = memchr(line, '\n', len)) != NULL) {
            *nl = 0;
            int port;
            long want;
            char msg[256];
            int silent = strncmp(line, "silent ", 7) == 0;
            if ((silent || strncmp(line, "open ", 5) == 0) &&
                sscanf(line + (silent ? 7 : 5), "%d %ld", &port, &want) == 2 && want > 0) {
                fds = realloc(fds, (size_t)(nfds + want) * sizeof *fds);
                if (!fds) _exit(1);
                long got = 0;
                char why[160] = "";
                while (got < want && cli_open_one(port, silent, &fds[nfds + got], why, sizeof why) == 0) got++;
                nfds += got;
                if (got == want) snprintf(msg, sizeof msg, "ok %ld\n", got);
                else snprintf(msg, sizeof msg, "err connection %ld of %ld: %s\n", got + 1, want, why);
                cli_say(rep, msg);
            } else if (strcmp(line, "close") == 0) {
                for (long i = 0; i < nfds; i++) close(fds[i]);
                nfds = 0;
                cli_say(rep, "closed\n");
            } else if (strcmp(line, "exit") == 0) {
                _exit(0);
            }
            len -= (size_t)(nl + 1 - line);
            memmove(line, nl + 1, len);
        }
        if (len == sizeof line - 1) len = 0;   /* a line too long: drop it */
    }
    _exit(0);
}

static pid_t g_client = -1;
static int g_cmd = -1, g_rep = -1;   /* parent's ends: commands out, reports in */

static int start_client(void) {
    int c[2], r[2];
    if (pipe(c) != 0) return -1;
    if (pipe(r) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(c[1]);
        close(r[0]);
        client_main(c[0], r[1]);
    }
    close(c[0]);
    close(r[1]);
    fcntl(c[1], F_SETFD, FD_CLOEXEC);
    fcntl(r[0], F_SETFD, FD_CLOEXEC);
    g_client = pid;
    g_cmd = c[1];
    g_rep = r[0];
    return 0;
}

/* Sends a command and waits at most timeout_ms for the one-line answer.
 * Inside the runtime the wait is a blocking call: the coroutine's thread gives
 * its P away, so the server keeps serving the client meanwhile.              */
static int client_do(const char *command, char *answer, size_t size, int64_t timeout_ms) {
    if (write(g_cmd, command, strlen(command)) != (ssize_t)strlen(command)) {
        snprintf(answer, size, "err the client is gone");
        return -1;
    }
    int in_rt = gn_id() != 0;
    if (in_rt) gn_blocking_enter();
    int64_t deadline = mono_ms() + timeout_ms;
    size_t n = 0;
    int rc = -1;
    answer[0] = 0;
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            snprintf(answer, size, "err no answer from the client in %lld s", (long long)(timeout_ms / 1000));
            break;
        }
        struct pollfd p = {g_rep, POLLIN, 0};
        int pr = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) continue;
        ssize_t r = read(g_rep, answer + n, size - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            snprintf(answer, size, "err the client is gone");
            break;
        }
        n += (size_t)r;
        answer[n] = 0;
        char *nl = strchr(answer, '\n');
        if (nl) {
            *nl = 0;
            rc = strncmp(answer, "err", 3) == 0 ? -1 : 0;
            break;
        }
        if (n == size - 1) break;
    }
    if (in_rt) gn_blocking_exit();
    return rc;
}

static void stop_client(void) {
    if (g_client <= 0) return;
    if (write(g_cmd, "exit\n", 5) < 0) { /* it is gone already */ }
    close(g_cmd);
    close(g_rep);
    for (int i = 0; i < 50; i++) {
        if (waitpid(g_client, NULL, WNOHANG) == g_client) { g_client = -1; return; }
        pause_ms(100);
    }
    kill(g_client, SIGKILL);
    waitpid(g_client, NULL, 0);
    g_client = -1;
}

/* ---- the measurement, for either server ------------------------------------------ */

typedef struct result {
    int  ok;
    long before, after, anon_before, anon_after;   /* KiB */
    double bytes_per_conn;
} result;

typedef int (*conns_fn)(void *arg);   /* connections the server holds now, or -1 */

/* In-process detail for gonet: coroutines alive and malloc's view of the heap. */
static void gonet_detail(const char *when) {
    gn_stats st;
    gn_stats_read(&st);
    printf("# gonet %s: %lld coroutines alive (%lld created)", when, (long long)st.goroutines,
           (long long)st.goroutines_created);
#ifdef HAVE_MALLINFO2
    struct mallinfo2 mi = mallinfo2();
    printf("; malloc: %zu KiB in use, %zu KiB free in the heap, %zu KiB mmapped",
           mi.uordblks / 1024, mi.fordblks / 1024, mi.hblkhd / 1024);
#endif
    printf("\n");
}

/* Measures the server (RSS of /proc/pid) on port. conns, if not NULL, tells
 * how many connections the server holds: the baseline waits for 0. silent:
 * the connections send nothing (new_conn_bytes) instead of one request.   */
static int measure(const char *name, const char *pid, int port, conns_fn conns, void *arg, int silent, result *res) {
    char cmd[64], ans[256];
    memset(res, 0, sizeof *res);
    int64_t open_timeout = 60000 + g_conns * 2;

    snprintf(cmd, sizeof cmd, "open %d %d\n", port, WARM_CONNS);
    if (client_do(cmd, ans, sizeof ans, open_timeout) != 0 ||
        client_do("close\n", ans, sizeof ans, 30000) != 0) {
        printf("# idle: %s: warm-up failed: %s\n", name, ans);
        return -1;
    }
    for (int i = 0; i < 100 && conns && conns(arg) > 0; i++) pause_ms(20);
    pause_ms(200);
    res->before = rss_kib(pid, &res->anon_before);
    if (conns) gonet_detail("before");

    int64_t t0 = mono_ms();
    snprintf(cmd, sizeof cmd, "%s %d %ld\n", silent ? "silent" : "open", port, g_conns);
    if (client_do(cmd, ans, sizeof ans, open_timeout) != 0) {
        printf("# idle: %s: %s\n", name, ans);
        client_do("close\n", ans, sizeof ans, 30000);
        return -1;
    }
    int64_t t1 = mono_ms();
    pause_ms((int64_t)(g_settle * 1000));
    int held = conns ? conns(arg) : -1;
    res->after = rss_kib(pid, &res->anon_after);
    if (conns) gonet_detail("after");
    client_do("close\n", ans, sizeof ans, 30000);

    res->bytes_per_conn = (double)(res->after - res->before) * 1024.0 / (double)g_conns;
    res->ok = res->before > 0 && res->after > 0;
    printf("# %s: %ld connections opened%s in %.2f s; RSS %ld -> %ld KiB (anonymous %ld -> %ld KiB)",
           name, g_conns, silent ? ", silent," : " and served", (double)(t1 - t0) / 1000.0, res->before, res->after,
           res->anon_before, res->anon_after);
    if (held >= 0) printf("; the server holds %d", held);
    printf("\n");
    if (res->ok)
        printf("%s server=%s conns=%ld bytes_per_conn=%.0f\n", silent ? "new_conn_bytes" : "idle_conn_bytes", name,
               g_conns, res->bytes_per_conn);
    fflush(stdout);
    return res->ok ? 0 : -1;
}

/* ---- gonet ------------------------------------------------------------------------ */

static void hello(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    if (strcmp(gn_http_path(r), "/") != 0) {
        gn_http_error(w, "404 page not found", 404);
        return;
    }
    gn_http_set_header(w, "Content-Type", "text/plain; charset=utf-8");
    gn_http_write_string(w, "Hello, World!\n");
}

typedef struct gonet_run {
    gn_http_server *srv;
    gn_listener    *ln;
    gn_waitgroup    wg;
    int             serve_rc;
    result          res, res_new;
    int             rc;
} gonet_run;

static void gonet_serve(void *arg) {
    gonet_run *g = (gonet_run *)arg;
    g->serve_rc = gn_http_serve(g->srv, g->ln);
    gn_waitgroup_done(&g->wg);
}

static int gonet_conns(void *arg) { return gn_http_server_conns(((gonet_run *)arg)->srv); }

static void gonet_main(void *arg) {
    gonet_run *g = (gonet_run *)arg;
    g->rc = -1;
    gn_http_server_opts o;
    memset(&o, 0, sizeof o);
    o.handler = hello;
    g->srv = gn_http_server_new(&o);
    if (!g->srv) {
        printf("# idle: gonet: gn_http_server_new failed\n");
        return;
    }
    int rc = gn_listen(&g->ln, "tcp", "127.0.0.1:0");
    if (rc < 0) {
        printf("# idle: gonet: listen: %s\n", gn_strerror(rc));
        gn_http_server_free(g->srv);
        return;
    }
    int port = gn_listener_port(g->ln);
    gn_waitgroup_add(&g->wg, 1);
    if (gn_go(gonet_serve, g) < 0) {
        printf("# idle: gonet: gn_go failed\n");
        gn_listener_close(g->ln);
        gn_http_server_free(g->srv);
        return;
    }
    printf("# gonet: server in this process on 127.0.0.1:%d, %d procs\n", port, gn_procs());
    fflush(stdout);
    g->rc = measure("gonet", "self", port, gonet_conns, g, 0, &g->res);
    if (measure("gonet", "self", port, gonet_conns, g, 1, &g->res_new) != 0) g->rc = -1;
    gn_http_shutdown(g->srv, gn_now() + 2 * GN_SECOND);
    gn_waitgroup_wait(&g->wg);
    gn_http_server_free(g->srv);
}

/* ---- Go ---------------------------------------------------------------------------- */

static int is_exec(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static int have_go(void) {
    return system("command -v go >/dev/null 2>&1") == 0;
}

/* The Go server binary: $IDLE_GO_BIN, else DIR/bench_go_hello next to this
 * program, (re)built from bench/go_hello when go is installed. NULL: none. */
static const char *go_binary(char *buf, size_t size) {
    const char *env = getenv("IDLE_GO_BIN");
    if (env) {
        if (!*env) return NULL;
        if (is_exec(env)) return env;
        printf("# idle: IDLE_GO_BIN=%s is not an executable: no Go server\n", env);
        return NULL;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return NULL;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return NULL;
    *slash = 0;   /* exe is now the build directory */
    snprintf(buf, size, "%s/bench_go_hello", exe);
    if (have_go()) {
        char src[PATH_MAX + 32];
        snprintf(src, sizeof src, "%s/../bench/go_hello/main.go", exe);
        if (access(src, R_OK) != 0) snprintf(src, sizeof src, "bench/go_hello/main.go");
        if (access(src, R_OK) != 0) {
            printf("# idle: bench/go_hello not found (run from the repository or its build directory)\n");
        } else {
            *strrchr(src, '/') = 0;
            char cmd[3 * PATH_MAX + 512];
            printf("# building bench/go_hello with the local go\n");
            fflush(stdout);
            int len = snprintf(cmd, sizeof cmd,
                     "cd '%s' && GOCACHE='%s/go-cache' GOPATH='%s/go-path' GOFLAGS=-mod=mod GOPROXY=off "
                     "GO111MODULE=on GOTOOLCHAIN=local GOTELEMETRY=off go build -o '%s' .",
                     src, exe, exe, buf);
            if (len < 0 || (size_t)len >= sizeof cmd || system(cmd) != 0) printf("# idle: building bench/go_hello failed\n");
        }
    } else if (!is_exec(buf)) {
        printf("# go is not installed (apt-get install golang-go): gonet's server only\n");
    }
    return is_exec(buf) ? buf : NULL;
}

/* Starts the Go server on 127.0.0.1:0; reads its "# listening IP:PORT pid=N". */
static int go_start(const char *bin, pid_t *pid, int *port) {
    int out[2];
    if (pipe(out) != 0) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, g_cmd);
    posix_spawn_file_actions_addclose(&fa, g_rep);
    char *argv[] = {(char *)bin, (char *)"127.0.0.1:0", NULL};
    int rc = posix_spawn(pid, bin, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        printf("# idle: go: cannot start %s: %s\n", bin, strerror(rc));
        return -1;
    }
    char line[256];
    size_t n = 0;
    int64_t deadline = mono_ms() + 30000;
    *port = 0;
    while (mono_ms() < deadline && n < sizeof line - 1) {
        struct pollfd p = {out[0], POLLIN, 0};
        if (poll(&p, 1, 500) <= 0) continue;
        ssize_t r = read(out[0], line + n, sizeof line - 1 - n);
        if (r <= 0) break;
        n += (size_t)r;
        line[n] = 0;
        char *at = strstr(line, "# listening ");
        char *nl = at ? strchr(at, '\n') : NULL;
        if (nl) {
            char *colon = NULL;
            for (char *q = at; q < nl; q++)
                if (*q == ':') colon = q;
            if (colon) *port = atoi(colon + 1);
            break;
        }
    }
    close(out[0]);   /* the server writes nothing more to stdout */
    if (*port <= 0) {
        printf("# idle: go: the server did not start\n");
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        return -1;
    }
    return 0;
}

static void go_stop(pid_t pid) {
    kill(pid, SIGTERM);
    for (int i = 0; i < 50; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) return;
        pause_ms(100);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* ---- main -------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
#ifndef __linux__
    (void)argc;
    (void)argv;
    printf("# idle: skipped: reads memory from Linux's /proc\n");
    return 0;
#endif
    signal(SIGPIPE, SIG_IGN);
    const char *sc = getenv("BENCH_SCALE");
    if (sc && strcmp(sc, "small") == 0) g_conns = 1000;
    const char *e = getenv("IDLE_CONNS");
    if (e && *e) g_conns = strtol(e, NULL, 10);
    e = getenv("IDLE_SETTLE");
    if (e && *e) g_settle = strtod(e, NULL);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) g_conns = strtol(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc) g_settle = strtod(argv[++i], NULL);
        else if ((strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "-p") == 0) && i + 1 < argc) i++;
        else if (argv[i][0] >= '1' && argv[i][0] <= '9') g_conns = strtol(argv[i], NULL, 10);
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: %s [-n CONNS] [-s SETTLE_SECONDS]\n", argv[0]);
            return 0;
        }
    }
    if (g_conns <= 0) g_conns = 10000;
    if (g_settle < 0 || g_settle > 60) g_settle = 1.0;

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rlim_t need = (rlim_t)(g_conns + WARM_CONNS + FD_MARGIN);
        if (rl.rlim_cur < need && rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur < need) {
            printf("# idle: skipped: %ld connections need %llu open files per process, the limit is %llu "
                   "(raise it: ulimit -n, or use -n)\n",
                   g_conns, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
            return 0;
        }
    }

    char gobuf[PATH_MAX + 32];
    const char *gobin = go_binary(gobuf, sizeof gobuf);

    printf("# idle keep-alive connections: %ld, each served one GET / and left open; RSS before "
           "(after a %d-connection warm-up) and %.1f s after the last response; then %ld that send nothing\n",
           g_conns, WARM_CONNS, g_settle, g_conns);
    if (start_client() != 0) {
        printf("# idle: cannot start the client process: %s\n", strerror(errno));
        return 1;
    }

    static gonet_run g;   /* static: the waitgroup's zero state is its init state */
    int rc = gn_main(gonet_main, &g);
    if (rc < 0) printf("# idle: gonet: the runtime did not start: %s\n", gn_strerror(rc));

    result go, go_new;
    memset(&go, 0, sizeof go);
    memset(&go_new, 0, sizeof go_new);
    if (gobin) {
        pid_t pid;
        int port;
        if (go_start(gobin, &pid, &port) == 0) {
            char pids[32];
            snprintf(pids, sizeof pids, "%d", (int)pid);
            printf("# go: %s on 127.0.0.1:%d, pid %d\n", gobin, port, (int)pid);
            measure("go", pids, port, NULL, NULL, 0, &go);
            measure("go", pids, port, NULL, NULL, 1, &go_new);
            go_stop(pid);
        }
    }
    stop_client();

    if (g.res.ok && go.ok && go.bytes_per_conn > 0)
        printf("idle_conn_ratio server=gonet/go conns=%ld value=%.2f\n", g_conns,
               g.res.bytes_per_conn / go.bytes_per_conn);
    if (g.res_new.ok && go_new.ok && go_new.bytes_per_conn > 0)
        printf("new_conn_ratio server=gonet/go conns=%ld value=%.2f\n", g_conns,
               g.res_new.bytes_per_conn / go_new.bytes_per_conn);
    return (rc < 0 || g.rc != 0 || (gobin && (!go.ok || !go_new.ok))) ? 1 : 0;
}
