/* test_dump.c — the coroutine dump: gn_dump lists every live coroutine with its
 * state, what it waits on (a channel, a mutex, an fd) and for how long, in id
 * order; errors for a NULL writer, no runtime and a failing writer; and SIGQUIT
 * writing the dump to stderr when gn_config.quit_dump asks for it.            */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"
#include "test_util.h"
#include "test_check.h"

#include <signal.h>
#include <unistd.h>
#include <fcntl.h>

/* A growing in-memory sink for gn_dump.                                         */
typedef struct sink { char buf[1 << 16]; size_t len; int fail_after; int calls; } sink;

static int64_t sink_write(void *ctx, const void *p, size_t n) {
    sink *s = (sink *)ctx;
    if (s->fail_after && ++s->calls >= s->fail_after) return GN_ECLOSED;
    size_t room = sizeof s->buf - 1 - s->len;
    if (n > room) n = room;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = 0;
    return (int64_t)n;
}

/* The dump's line for coroutine id, copied into out; 0 if there is none.       */
static int line_of(const char *dump, int64_t id, char *out, size_t size) {
    char key[48];
    snprintf(key, sizeof key, "coroutine %lld [", (long long)id);
    const char *p = strstr(dump, key);
    if (!p) return 0;
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n >= size) n = size - 1;
    memcpy(out, p, n);
    out[n] = 0;
    return 1;
}

/* The "N ms" of a waiting line, -1 if it has none.                              */
static long wait_ms(const char *line) {
    const char *p = strstr(line, ", ");
    const char *b = strchr(line, ']');
    if (!p || !b || p > b) return -1;
    return strtol(p + 2, NULL, 10);
}

static gn_chan *g_never;      /* nobody ever sends on it                           */
static gn_chan *g_full;       /* unbuffered, nobody receives                       */
static gn_mutex g_mu;
static gn_conn *g_server_side;

static void receiver(void *a) { (void)a; int v; gn_chan_recv(g_never, &v); }
static void sender(void *a) { (void)a; int v = 1; gn_chan_send(g_full, &v); }
static void locker(void *a) { (void)a; gn_mutex_lock(&g_mu); gn_mutex_unlock(&g_mu); }
static void sleeper(void *a) { (void)a; gn_sleep(60 * GN_SECOND); }
static void reader(void *a) {
    (void)a;
    char b[8];
    gn_read(g_server_side, b, sizeof b);
}

static sink g_sink;

static void body_lists(void *arg) {
    (void)arg;
    g_never = gn_chan_new(sizeof(int), 0);
    g_full = gn_chan_new(sizeof(int), 0);
    memset(&g_mu, 0, sizeof g_mu);
    gn_mutex_lock(&g_mu);
    gn_listener *l = NULL;
    gn_conn *client = NULL;
    if (!CKI(0, gn_listen(&l, "tcp", "127.0.0.1:0"))) return;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", gn_listener_port(l));
    CKI(0, gn_dial(&client, "tcp", addr));
    CKI(0, gn_accept(l, &g_server_side));

    int64_t ids[5];
    ids[0] = gn_go(receiver, NULL);
    ids[1] = gn_go(sender, NULL);
    ids[2] = gn_go(locker, NULL);
    ids[3] = gn_go(sleeper, NULL);
    ids[4] = gn_go(reader, NULL);
    gn_sleep(80 * GN_MILLISECOND);

    memset(&g_sink, 0, sizeof g_sink);
    int n = gn_dump(sink_write, &g_sink);
    const char *d = g_sink.buf;
    CKF(n >= 6, "gn_dump listed %d coroutines:\n%s", n, d);
    char head[64];
    snprintf(head, sizeof head, "gonet: %d coroutines, ", n);
    CKF(strncmp(d, head, strlen(head)) == 0, "first line: %.80s", d);

    const char *reasons[5] = {"chan receive", "chan send", "mutex", "sleep", "read"};
    int64_t me = gn_id();
    char line[400];
    for (int i = 0; i < 5; i++) {
        if (!CKF(line_of(d, ids[i], line, sizeof line), "no line for coroutine %lld:\n%s", (long long)ids[i], d))
            continue;
        char want[64];
        snprintf(want, sizeof want, "[%s, ", reasons[i]);
        CKF(strstr(line, want) != NULL, "expected \"%s\" in: %s", want, line);
        long ms = wait_ms(line);
        CKF(ms >= 20 && ms < 10000, "wait time %ld ms (slept 80 ms) in: %s", ms, line);
        char parent[48];
        snprintf(parent, sizeof parent, "spawned by %lld,", (long long)me);
        CKF(strstr(line, parent) != NULL, "expected \"%s\" in: %s", parent, line);
        /* A parked coroutine's depth: a few hundred bytes of its 64 KiB (and some). */
        const char *st = strstr(line, ", stack ");
        long used = st ? strtol(st + 8, NULL, 10) : 0;
        int depth_known = st && strstr(st, " of ") != NULL;   /* not with ucontext */
        CKF(st && used > 0 && (!depth_known || used < 65536), "stack figure in: %s", line);
    }
    /* The channel waiters name their channel, the reader its fd.                 */
    if (line_of(d, ids[4], line, sizeof line)) {
        char fd[32];
        snprintf(fd, sizeof fd, "fd %d,", gn_conn_fd(g_server_side));
        CKF(strstr(line, fd) != NULL, "expected \"%s\" in: %s", fd, line);
    }
    if (line_of(d, ids[0], line, sizeof line)) CKF(strstr(line, "]: on 0x") != NULL, "no object in: %s", line);
    if (line_of(d, me, line, sizeof line)) CKF(strstr(line, "[running]") != NULL, "self: %s", line);
    else CKF(0, "no line for the dumping coroutine %lld", (long long)me);

    /* In id order.                                                                */
    long long last = 0;
    for (const char *p = strstr(d, "\ncoroutine "); p; p = strstr(p + 1, "\ncoroutine ")) {
        long long id = strtoll(p + 11, NULL, 10);
        CKF(id > last, "ids out of order: %lld after %lld", id, last);
        last = id;
    }

    gn_mutex_unlock(&g_mu);
    gn_close(client);
    gn_listener_close(l);
    gn_sleep(20 * GN_MILLISECOND);
    /* The locker and the reader have finished: the dump no longer lists them.      */
    memset(&g_sink, 0, sizeof g_sink);
    gn_dump(sink_write, &g_sink);
    CKF(!line_of(g_sink.buf, ids[2], line, sizeof line), "finished coroutine still listed: %s", line);
    CKF(!line_of(g_sink.buf, ids[4], line, sizeof line), "finished coroutine still listed: %s", line);
    gn_close(g_server_side);
}

/* Frees what the parked coroutines held, once gn_run has discarded them.      */
static void free_chans(void) {
    if (g_never) gn_chan_free(g_never);
    if (g_full) gn_chan_free(g_full);
    g_never = g_full = NULL;
}

TEST dump_lists_waiting_coroutines(void) {
    enum greatest_test_res r = run_body(2, body_lists, NULL);
    free_chans();
    return r;
}

static void body_errors(void *arg) {
    (void)arg;
    CKI(GN_EINVAL, gn_dump(NULL, NULL));
    /* A writer's error ends the dump and is returned.                            */
    static sink s;
    memset(&s, 0, sizeof s);
    s.fail_after = 1;
    CKI(GN_ECLOSED, gn_dump(sink_write, &s));
}

TEST dump_errors(void) {
    static sink s;
    EQI(GN_ESTATE, gn_dump(sink_write, &s));   /* no runtime */
    return run_body(1, body_errors, NULL);
}

/* SIGQUIT with quit_dump: the dump goes to stderr and the program goes on.       */
static int g_pipe[2];
static int64_t g_parked_id;

static void body_quit(void *arg) {
    (void)arg;
    g_never = gn_chan_new(sizeof(int), 0);
    g_parked_id = gn_go(receiver, NULL);
    gn_sleep(20 * GN_MILLISECOND);
    CKI(0, kill(getpid(), SIGQUIT));
    /* sysmon writes it within a round or two (10 ms apart at most).              */
    for (int i = 0; i < 100; i++) {
        gn_sleep(10 * GN_MILLISECOND);
        char b[4096];
        ssize_t k = read(g_pipe[0], b, sizeof b - 1);
        if (k > 0) {
            size_t room = sizeof g_sink.buf - 1 - g_sink.len;
            if ((size_t)k > room) k = (ssize_t)room;
            memcpy(g_sink.buf + g_sink.len, b, (size_t)k);
            g_sink.len += (size_t)k;
            g_sink.buf[g_sink.len] = 0;
        }
        char line[400];
        if (line_of(g_sink.buf, g_parked_id, line, sizeof line) && strchr(strstr(g_sink.buf, "coroutine"), '\n'))
            break;
    }
}

TEST quit_dump_on_sigquit(void) {
    memset(&g_sink, 0, sizeof g_sink);
    ASSERT_EQ(0, pipe(g_pipe));
    fcntl(g_pipe[0], F_SETFL, O_NONBLOCK);
    fflush(stderr);
    int saved = dup(2);
    dup2(g_pipe[1], 2);
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 1;
    cfg.quit_dump = 1;
    fail_reset(NULL);
    int rc = gn_run(&cfg, body_quit, NULL);
    free_chans();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(g_pipe[0]);
    close(g_pipe[1]);
    EQI(0, rc);
    if (ALOAD(&g_fail_set)) FAILm(g_fail);
    ASSERTm(g_sink.buf, strncmp(g_sink.buf, "gonet: ", 7) == 0);
    char line[400];
    ASSERTm(g_sink.buf, line_of(g_sink.buf, g_parked_id, line, sizeof line));
    ASSERTm(line, strstr(line, "[chan receive") != NULL);
    /* The old action is back: ignore it here so the check cannot kill us.       */
    struct sigaction sa;
    ASSERT_EQ(0, sigaction(SIGQUIT, NULL, &sa));
    ASSERT(sa.sa_handler == SIG_DFL);
    PASS();
}

SUITE(dump) {
    RUN_TEST(dump_lists_waiting_coroutines);
    RUN_TEST(dump_errors);
    RUN_TEST(quit_dump_on_sigquit);
}

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    set_scale();
    RUN_SUITE(dump);
    GREATEST_MAIN_END();
}
