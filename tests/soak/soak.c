/* soak.c — a soak test of the HTTP server: minutes of mixed load against a real
 * server on 127.0.0.1, with graceful restarts, while the server's RSS, open
 * descriptors, coroutines, threads and timers are sampled every second; at the
 * end, once the load has stopped and idle connections have gone, each must be
 * back at its post-warm-up baseline. Linux only (/proc, prctl).
 *
 * The server runs in a forked child (its own gn_run, two Ps), so that /proc/PID
 * shows the server alone; the clients run in this process. Load, all on
 * loopback: keep-alive clients over gn_http_do (GET, POST with Content-Length
 * and chunked bodies, streamed responses), raw clients that open a connection
 * per request (HTTP/1.0 too), pipeline batches, trickle their requests and
 * read slowly, or hold keep-alive connections idle between requests (HEAD now
 * and then), and hostile ones (malformed heads, resets mid-request and
 * mid-response, slowloris, silent and half-closed connections). Every 10 to
 * 20 s the server shuts down gracefully with requests in flight and a new one
 * listens on the same port, as a deploy would: alternately after the old one
 * has drained (the port is closed meanwhile) and beside it (SO_REUSEPORT).
 *
 * Accounting. Every well-behaved request carries an id; the server marks the
 * id in a table shared with the child (MAP_SHARED) when its handler starts.
 * A request whose handler ran must have got a complete response, its body
 * verified byte by byte (downloads are a function of a seed and the offset;
 * uploads come back as their length and FNV-1a hash). One that got no byte of
 * response and whose handler never ran was refused: at connect while no
 * listener was up, or closed unread by a shutdown (a connection in the listen
 * backlog, or an idle keep-alive one, as in Go); and it must have met a
 * restart, since no request may go unanswered otherwise. So sent == answered
 * + refused for every class, and a truncated or corrupted response fails.
 *
 * Baselines: taken after a warm-up of the same mix (without restarts) and a
 * quiet spell. At the end fds, coroutines and pending timers must be back to
 * them exactly, RSS (less the shared table) within SOAK_RSS_SLACK_MIB (8) of
 * it (allocator arenas and the runtime's stack cache keep their high-water
 * mark), the live heap (glibc's mallinfo2) within 2 MiB; threads, which the
 * runtime keeps once started, at most procs + 2.
 *
 * Environment: SOAK_SECONDS (600) is the load phase; SOAK_SLOW=1 (for
 * valgrind) stretches the server's timeouts and thins the load.
 * Output: a progress line every 10 s; then one line per sampled curve (cold,
 * start, peak, end), the totals, one line per check and "N passed, N failed";
 * the exit status is non-zero on any failure. A watchdog ends a run that
 * overstays by five minutes.                                                  */
#define GONET_IMPLEMENTATION
#include "../../gonet.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
#  include <malloc.h>
#  define SOAK_HEAP 1   /* mallinfo2: bytes the allocator has handed out */
#endif

#define MAX_IDS (1u << 22)   /* request ids: bounds every well-behaved loop */

#define ALOAD(p)     __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define ASTORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define AADD(p, v)   __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)

/* ---- what the two processes share ----------------------------------------------- */
typedef struct shared {
    int     port;
    int     ready;             /* the server listens                              */
    int     restarts_on;       /* the parent wants restarts (during the load)      */
    int     stop;              /* the parent wants the server gone                 */
    int     restarting;        /* a restart is under way                           */
    uint32_t epoch;            /* + 1 as a restart begins and as it ends           */
    int64_t epoch_ms;          /* mono_ms() of the last change                     */
    int     restarts;          /* restarts completed                               */
    int     shutdown_cut;      /* gn_http_shutdown calls that hit their deadline  */
    int     listen_errors;
    int64_t shutdown_max_ms;
    int64_t shutdown_sum_ms;
    int64_t restart_min_ms, restart_max_ms;
    int64_t goroutines, threads, timers, conns, heap_kib;
    int64_t header_timeout_ms, body_timeout_ms, idle_timeout_ms;
    uint8_t handled[MAX_IDS];  /* handler starts per request id                   */
} shared;

static shared *sh;
static int g_slow;             /* SOAK_SLOW: under valgrind                        */

/* ---- bodies ------------------------------------------------------------------------
 * A download is gen(seed, 0..n-1): any shift, repeat or foreign byte shows.     */
static inline uint8_t gen(uint32_t seed, uint64_t i) {
    uint32_t h = (uint32_t)i * 2654435761u + seed * 40503u + (uint32_t)(i >> 32);
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    return (uint8_t)h;
}
static void fill(uint8_t *p, uint32_t seed, uint64_t off, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = gen(seed, off + i);
}
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}
#define FNV0 14695981039346656037ull

static int64_t mono_ms(void) {   /* one clock for both processes */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static void epoch_step(void) {
    ASTORE(&sh->epoch_ms, mono_ms());
    AADD(&sh->epoch, 1);
}

static uint64_t xs(uint64_t *s) {   /* xorshift64*: each worker has its own */
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ull;
}
static int64_t rnd(uint64_t *s, int64_t lo, int64_t hi) { return lo + (int64_t)(xs(s) % (uint64_t)(hi - lo + 1)); }

/* =================================================================================
 * The server (the child process)
 * ================================================================================= */
static int64_t qint(gn_http_request *r, const char *key, int64_t dflt) {
    char b[32];
    if (gn_http_query_get(r, key, b, sizeof b) <= 0) return dflt;
    return strtoll(b, NULL, 10);
}
static void mark(gn_http_request *r) {
    int64_t id = qint(r, "id", 0);
    if (id > 0 && id < (int64_t)MAX_IDS) AADD(&sh->handled[id], 1);
}

/* GET /data?id&n&seed[&cl=1]: n bytes of gen(seed), written in uneven pieces.  */
static void h_data(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    mark(r);
    int64_t n = qint(r, "n", 0);
    uint32_t seed = (uint32_t)qint(r, "seed", 0);
    if (qint(r, "cl", 0)) {
        char v[32];
        snprintf(v, sizeof v, "%lld", (long long)n);
        gn_http_set_header(w, "Content-Length", v);
    }
    gn_http_set_header(w, "Content-Type", "application/octet-stream");
    uint8_t buf[3000];
    for (int64_t off = 0; off < n;) {
        size_t k = (size_t)(n - off < (int64_t)sizeof buf ? n - off : (int64_t)sizeof buf);
        k = k > 7 ? k - (size_t)(off % 7) : k;
        fill(buf, seed, (uint64_t)off, k);
        if (gn_http_write(w, buf, k) < 0) return;
        off += (int64_t)k;
    }
}

/* POST /upload?id: the body's length and FNV-1a hash, "len hash".              */
static void h_upload(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    mark(r);
    uint8_t buf[4096];
    uint64_t h = FNV0;
    int64_t len = 0, m;
    while ((m = gn_http_body_read(r, buf, sizeof buf)) > 0) {
        h = fnv(h, buf, (size_t)m);
        len += m;
    }
    if (m != GN_EOF) {
        gn_http_error(w, "bad body", 400);
        return;
    }
    char out[64];
    snprintf(out, sizeof out, "%lld %016llx", (long long)len, (unsigned long long)h);
    gn_http_set_header(w, "Content-Type", "text/plain");
    gn_http_write_string(w, out);
}

/* GET /stream?id&k&size&ms&seed: k flushed pieces of size bytes, ms apart.     */
static void h_stream(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)ud;
    mark(r);
    int64_t k = qint(r, "k", 1), size = qint(r, "size", 100), ms = qint(r, "ms", 0);
    uint32_t seed = (uint32_t)qint(r, "seed", 0);
    if (size > 8192) size = 8192;
    uint8_t *buf = (uint8_t *)malloc((size_t)size);
    if (!buf) {
        gn_http_error(w, "oom", 500);
        return;
    }
    gn_http_set_header(w, "Content-Type", "application/octet-stream");
    for (int64_t i = 0; i < k; i++) {
        fill(buf, seed, (uint64_t)(i * size), (size_t)size);
        if (gn_http_write(w, buf, (size_t)size) < 0 || gn_http_flush(w) < 0) break;
        if (ms > 0) gn_sleep(ms * GN_MILLISECOND);
    }
    free(buf);
}

/* GET /debug: the server's own view, for a look with curl during a run.       */
static void h_debug(gn_http_response *w, gn_http_request *r, void *ud) {
    (void)r;
    (void)ud;
    gn_stats st;
    gn_stats_read(&st);
    char out[256];
    snprintf(out, sizeof out, "goroutines %d\nthreads %lld\ntimers %lld\nrestarts %d\n", gn_num_goroutine(),
             (long long)st.threads, (long long)st.timers, ALOAD(&sh->restarts));
    gn_http_write_string(w, out);
}

/* The sampler's sleep is the only timer of the test's own: the main loop
 * waits for its ticks, so that an idle server shows a steady timer count.    */
static int srv_sampling = 1;
static gn_chan *srv_sampler_done, *srv_tick;

static void srv_sampler(void *arg) {
    (void)arg;
    while (ALOAD(&srv_sampling)) {
        gn_stats st;
        gn_stats_read(&st);
        ASTORE(&sh->goroutines, (int64_t)gn_num_goroutine());
        ASTORE(&sh->threads, st.threads);
        ASTORE(&sh->timers, st.timers);
#ifdef SOAK_HEAP
        struct mallinfo2 mi = mallinfo2();
        ASTORE(&sh->heap_kib, (int64_t)((mi.uordblks + mi.hblkhd) / 1024));
#else
        ASTORE(&sh->heap_kib, (int64_t)-1);
#endif
        gn_chan_try_send(srv_tick, NULL);
        gn_sleep(100 * GN_MILLISECOND);
    }
    gn_chan_close(srv_sampler_done);
}

typedef struct serving {
    gn_http_server *s;
    gn_listener    *l;
    gn_chan        *done;          /* closed when gn_http_serve has returned      */
    int             rc;
} serving;

static void srv_serve(void *arg) {
    serving *sv = (serving *)arg;
    sv->rc = gn_http_serve(sv->s, sv->l);
    gn_chan_close(sv->done);
}

static gn_http_server_opts srv_opts;

/* A new server listening on the port (SO_REUSEPORT, so that the next one can
 * listen beside it), or NULL.                                                 */
static serving *srv_start(const char *addr) {
    serving *sv = (serving *)calloc(1, sizeof *sv);
    gn_listener *l = NULL;
    int rc = GN_ENOMEM;
    if (!sv || !(sv->s = gn_http_server_new(&srv_opts)) || !(sv->done = gn_chan_new(0, 0))) goto fail;
    gn_listen_opts lo = {0, 1};
    /* A listener just closed can leave the port busy for a moment.            */
    for (int i = 0; i < 200; i++) {
        if ((rc = gn_listen_with(&l, "tcp", addr, &lo)) == 0) break;
        AADD(&sh->listen_errors, 1);
        gn_sleep(10 * GN_MILLISECOND);
    }
    if (rc < 0) goto fail;
    sv->l = l;
    if (gn_go(srv_serve, sv) < 0) {
        gn_listener_close(l);
        rc = GN_ENOMEM;
        goto fail;
    }
    return sv;
fail:
    fprintf(stderr, "soak server: listen %s: %s\n", addr, gn_strerror(rc));
    if (sv && sv->s) gn_http_server_free(sv->s);
    if (sv && sv->done) gn_chan_free(sv->done);
    free(sv);
    return NULL;
}

/* Graceful shutdown with whatever is in flight; 0 or 1 (something wrong).      */
static int srv_stop(serving *sv, int count) {
    int64_t t0 = gn_now();
    int rc = gn_http_shutdown(sv->s, t0 + 60 * GN_SECOND);
    int64_t ms = (gn_now() - t0) / GN_MILLISECOND;
    if (rc != 0) AADD(&sh->shutdown_cut, 1);
    if (ms > ALOAD(&sh->shutdown_max_ms)) ASTORE(&sh->shutdown_max_ms, ms);
    gn_chan_recv(sv->done, NULL);
    int bad = sv->rc != GN_ECLOSED;
    if (bad) fprintf(stderr, "soak server: serve returned %s\n", gn_strerror(sv->rc));
    gn_chan_free(sv->done);
    gn_http_server_free(sv->s);
    free(sv);
    if (count) {
        AADD(&sh->shutdown_sum_ms, ms);
        AADD(&sh->restarts, 1);
    }
    return bad;
}

static void srv_main(void *arg) {
    int *fail = (int *)arg;
    gn_http_mux *mux = gn_http_mux_new();
    if (!mux || gn_http_mux_handle(mux, "GET /data", h_data, NULL) < 0 ||
        gn_http_mux_handle(mux, "POST /upload", h_upload, NULL) < 0 ||
        gn_http_mux_handle(mux, "GET /stream", h_stream, NULL) < 0 ||
        gn_http_mux_handle(mux, "GET /debug", h_debug, NULL) < 0) {
        fprintf(stderr, "soak server: mux setup failed\n");
        *fail = 1;
        gn_http_mux_free(mux);
        return;
    }
    srv_sampler_done = gn_chan_new(0, 0);
    srv_tick = gn_chan_new(0, 1);
    gn_go(srv_sampler, NULL);
    memset(&srv_opts, 0, sizeof srv_opts);
    srv_opts.handler = gn_http_mux_serve;
    srv_opts.ud = mux;
    srv_opts.read_header_timeout = sh->header_timeout_ms * GN_MILLISECOND;
    srv_opts.read_timeout = sh->body_timeout_ms * GN_MILLISECOND;
    srv_opts.write_timeout = sh->body_timeout_ms * GN_MILLISECOND;
    srv_opts.idle_timeout = sh->idle_timeout_ms * GN_MILLISECOND;
    srv_opts.max_body_bytes = 8 << 20;
    uint64_t rs = (uint64_t)getpid() * 7919u + 1;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", sh->port);
    serving *cur = srv_start(addr);
    if (!cur) *fail = 1;
    ASTORE(&sh->ready, 1);
    /* Restarts alternate between the two ways a deploy does them: stop, then
     * start (connections meet a closed port for the length of the drain), and
     * start the new server beside the old one, then stop the old one.         */
    for (int n = 0; cur;) {
        int64_t at = gn_now() + rnd(&rs, sh->restart_min_ms, sh->restart_max_ms) * GN_MILLISECOND;
        while (!ALOAD(&sh->stop) && !(ALOAD(&sh->restarts_on) && gn_now() >= at)) {
            ASTORE(&sh->conns, (int64_t)gn_http_server_conns(cur->s));
            if (!ALOAD(&sh->restarts_on)) at = gn_now() + rnd(&rs, sh->restart_min_ms, sh->restart_max_ms) * GN_MILLISECOND;
            gn_chan_recv(srv_tick, NULL);
        }
        if (ALOAD(&sh->stop)) {
            *fail |= srv_stop(cur, 0);
            break;
        }
        ASTORE(&sh->restarting, 1);
        epoch_step();
        if (n++ % 2 == 0) {
            *fail |= srv_stop(cur, 1);
            cur = srv_start(addr);
        } else {
            serving *next = srv_start(addr);
            *fail |= srv_stop(cur, 1);
            cur = next;
        }
        if (!cur) *fail = 1;
        ASTORE(&sh->conns, 0);
        epoch_step();
        ASTORE(&sh->restarting, 0);
    }
    ASTORE(&srv_sampling, 0);
    gn_chan_recv(srv_sampler_done, NULL);
    gn_chan_free(srv_sampler_done);
    gn_chan_free(srv_tick);
    gn_http_mux_free(mux);
}

static int server_process(void) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the test */
    if (getppid() == 1) _exit(1);
    int fail = 0;
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 2;
    int rc = gn_run(&cfg, srv_main, &fail);
    if (rc < 0) fprintf(stderr, "soak server: gn_run: %s\n", gn_strerror(rc));
    return rc < 0 || fail ? 1 : 0;
}

/* =================================================================================
 * The clients (this process)
 * ================================================================================= */
enum { C_KA, C_UP, C_UPCH, C_STREAM, C_NEW, C_PIPE, C_SLOW, C_IDLE, NCLASS };
static const char *const class_name[NCLASS] = {"keepalive-get", "post-length", "post-chunked", "stream",
                                               "conn-per-request", "pipelined", "slow", "keepalive-idle"};
typedef struct counts {
    int64_t sent, answered, refused_connect, dropped, failed, bytes;
} counts;
static counts cnt[NCLASS];

enum { ID_SENT = 1, ID_ANSWERED, ID_REFUSED, ID_DROPPED, ID_FAILED };
static uint8_t *idstate;       /* per id, this side's view                      */
static uint8_t *idclass;
static uint8_t *idquiet;       /* the epoch's low bits at send, bit 7: quiet   */
static uint32_t next_id = 1;

enum { H_MALFORMED, H_RESET_REQ, H_RESET_RESP, H_SLOWLORIS, H_SILENT, H_HALFCLOSE, H_DIAL_CLOSE, NHOSTILE };
static const char *const hostile_name[NHOSTILE] = {"malformed", "reset-mid-request", "reset-mid-response",
                                                   "slowloris", "silent", "half-closed", "connect-close"};
static int64_t hostile_cnt[NHOSTILE], hostile_failed;

static char first_fail[512];
static int first_fail_set;
static int64_t fail_total;

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...) {
    AADD(&fail_total, 1);
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    int z = 0;
    if (__atomic_compare_exchange_n(&first_fail_set, &z, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        snprintf(first_fail, sizeof first_fail, "%s", m);
    if (ALOAD(&fail_total) <= 20) fprintf(stderr, "soak: failure: %s\n", m);
}

static int port;
static char base_url[64];
static char addr[64];
static volatile int load_stop;     /* the workers' loops end                        */
static int64_t load_end;

/* Quiet: no restart under way, none for a second (a keep-alive connection
 * closed by the last one may still sit in a client's pool until then). A
 * request that gets no response must have met a restart: its stamp, taken
 * when its connection opened, holds the epoch's low bits and, in bit 7, quiet. */
static uint8_t stamp(void) {
    uint32_t e = ALOAD(&sh->epoch);
    int quiet = e % 2 == 0 && mono_ms() - ALOAD(&sh->epoch_ms) >= 1000;
    return (uint8_t)((e & 0x7f) | (quiet ? 0x80 : 0));
}

static uint32_t new_id(int cls) {
    uint32_t id = AADD(&next_id, 1);
    if (id >= MAX_IDS) return 0;
    idclass[id] = (uint8_t)cls;
    idstate[id] = ID_SENT;
    idquiet[id] = stamp();
    AADD(&cnt[cls].sent, 1);
    return id;
}

/* The outcome of one request: 1 complete and verified, 0 no byte of a
 * response (err says why), -1 broken (failf has said how).                     */
static void outcome(int cls, uint32_t id, int res, int err) {
    if (res == 0 && (idquiet[id] & 0x80) && (ALOAD(&sh->epoch) & 0x7f) == (idquiet[id] & 0x7f)) {
        failf("%s id %u: no response (%s) while no restart was under way", class_name[cls], id, gn_strerror(err));
        res = -1;
    }
    if (res > 0) {
        idstate[id] = ID_ANSWERED;
        AADD(&cnt[cls].answered, 1);
    } else if (res == 0 && err == -ECONNREFUSED) {
        idstate[id] = ID_REFUSED;
        AADD(&cnt[cls].refused_connect, 1);
    } else if (res == 0) {
        idstate[id] = ID_DROPPED;
        AADD(&cnt[cls].dropped, 1);
    } else {
        idstate[id] = ID_FAILED;
        AADD(&cnt[cls].failed, 1);
    }
}

static int running(void) { return !load_stop && gn_now() < load_end; }

/* ---- keep-alive clients over gn_http_do -------------------------------------- */
typedef struct gen_reader {
    uint32_t seed;
    int64_t  off, n;
    int      uneven;
} gen_reader;
static int64_t gen_read(void *ctx, void *buf, size_t n) {
    gen_reader *g = (gen_reader *)ctx;
    if (g->off >= g->n) return GN_EOF;
    size_t k = n;
    if (g->uneven && k > 1000) k = 1000 + (size_t)(g->off % 3001);
    if ((int64_t)k > g->n - g->off) k = (size_t)(g->n - g->off);
    fill((uint8_t *)buf, g->seed, (uint64_t)g->off, k);
    g->off += (int64_t)k;
    return (int64_t)k;
}

/* Reads a response body and checks it is gen(seed) over n bytes (n < 0: any
 * length). 1 or -1.                                                              */
static int check_body(gn_http_resp *resp, int cls, uint32_t id, uint32_t seed, int64_t n, uint8_t *buf,
                      size_t cap) {
    int64_t off = 0, m;
    while ((m = gn_http_resp_read(resp, buf, cap)) > 0) {
        for (int64_t i = 0; i < m; i++)
            if (buf[i] != gen(seed, (uint64_t)(off + i))) {
                failf("%s id %u: body byte %lld differs", class_name[cls], id, (long long)(off + i));
                return -1;
            }
        off += m;
    }
    AADD(&cnt[cls].bytes, off);
    if (m != GN_EOF) {
        failf("%s id %u: body cut after %lld bytes: %s", class_name[cls], id, (long long)off, gn_strerror((int)m));
        return -1;
    }
    if (n >= 0 && off != n) {
        failf("%s id %u: body of %lld bytes, expected %lld", class_name[cls], id, (long long)off, (long long)n);
        return -1;
    }
    return 1;
}

static void ka_worker(void *arg) {
    gn_http_client *cl = (gn_http_client *)arg;
    uint64_t rs = (uint64_t)gn_id() * 0x9E3779B97F4A7C15ull + 1;
    size_t cap = 16384;
    uint8_t *buf = (uint8_t *)malloc(cap);
    uint8_t *up = NULL;
    static const int64_t sizes[] = {0, 1, 100, 4000, 4096, 5000, 65536, 300000};
    while (buf && running()) {
        int64_t pick = rnd(&rs, 0, 99);
        int cls = pick < 70 ? C_KA : pick < 85 ? C_UP : pick < 95 ? C_UPCH : C_STREAM;
        uint32_t id = new_id(cls);
        if (!id) break;
        uint32_t seed = (uint32_t)xs(&rs);
        char url[192];
        gn_http_client_request rq;
        memset(&rq, 0, sizeof rq);
        rq.url = url;
        gen_reader gr = {seed, 0, 0, 1};
        int64_t n = 0;
        if (cls == C_KA) {
            n = sizes[rnd(&rs, 0, 7)];
            snprintf(url, sizeof url, "%s/data?id=%u&n=%lld&seed=%u&cl=%d", base_url, id, (long long)n, seed,
                     (int)rnd(&rs, 0, 1));
        } else if (cls == C_STREAM) {
            int64_t k = rnd(&rs, 1, 20), size = rnd(&rs, 1, 8000), ms = rnd(&rs, 0, 50);
            n = k * size;
            snprintf(url, sizeof url, "%s/stream?id=%u&k=%lld&size=%lld&ms=%lld&seed=%u", base_url, id, (long long)k,
                     (long long)size, (long long)ms, seed);
        } else {
            n = rnd(&rs, 0, 3) == 0 ? rnd(&rs, 0, 2 << 20) : rnd(&rs, 0, 20000);
            snprintf(url, sizeof url, "%s/upload?id=%u", base_url, id);
            rq.method = "POST";
            gr.n = n;
            if (cls == C_UP) {
                uint8_t *p = (uint8_t *)realloc(up, (size_t)n + 1);
                if (!p) break;
                up = p;
                fill(up, seed, 0, (size_t)n);
                rq.body = up;
                rq.body_len = (size_t)n;
            } else {
                rq.body_reader = gen_read;
                rq.body_ctx = &gr;
                rq.content_length = -1;
            }
        }
        gn_http_resp *resp = NULL;
        int rc = gn_http_do(cl, &rq, &resp);
        if (rc < 0) {
            outcome(cls, id, 0, rc);
            gn_sleep(rnd(&rs, 1, 20) * GN_MILLISECOND);
            continue;
        }
        int res;
        if (gn_http_resp_status(resp) != 200) {
            failf("%s id %u: status %d", class_name[cls], id, gn_http_resp_status(resp));
            res = -1;
        } else if (cls == C_UP || cls == C_UPCH) {
            char *body = NULL;
            int64_t m = gn_http_resp_read_all(resp, 256, &body);
            uint64_t h = FNV0;
            for (int64_t off = 0; off < n;) {
                uint8_t tmp[4096];
                size_t k = (size_t)(n - off < 4096 ? n - off : 4096);
                fill(tmp, seed, (uint64_t)off, k);
                h = fnv(h, tmp, k);
                off += (int64_t)k;
            }
            char want[64];
            snprintf(want, sizeof want, "%lld %016llx", (long long)n, (unsigned long long)h);
            res = m > 0 && body && strcmp(body, want) == 0 ? 1 : -1;
            if (res < 0) failf("%s id %u: server saw \"%.60s\" (%lld), sent \"%s\"", class_name[cls], id,
                               body ? body : "", (long long)m, want);
            else AADD(&cnt[cls].bytes, n);
            free(body);
        } else {
            res = check_body(resp, cls, id, seed, n, buf, cap);
        }
        gn_http_resp_free(resp);
        outcome(cls, id, res, 0);
        gn_sleep(rnd(&rs, 0, 4) * GN_MILLISECOND);
    }
    free(up);
    free(buf);
}

/* ---- raw clients ----------------------------------------------------------------
 * A buffered reader over a connection that parses responses itself, so that it
 * sees framing exactly as sent.                                                  */
typedef struct raw {
    gn_conn *c;
    size_t   pos, len;
    int64_t  taken;            /* bytes consumed from the stream                */
    int      slow;             /* small reads with pauses                        */
    uint64_t rs;
    char     buf[8192];
} raw;

static int raw_fill(raw *r) {
    if (r->pos < r->len) return 1;
    if (r->slow) gn_sleep(rnd(&r->rs, 0, 3) * GN_MILLISECOND);
    int64_t n = gn_read(r->c, r->buf, r->slow ? (size_t)rnd(&r->rs, 1, 1500) : sizeof r->buf);
    if (n <= 0) return (int)(n == 0 ? GN_EOF : n);
    r->pos = 0;
    r->len = (size_t)n;
    return 1;
}
static int raw_line(raw *r, char *out, size_t max) {
    size_t k = 0;
    for (;;) {
        int rc = raw_fill(r);
        if (rc < 0) return rc;
        char ch = r->buf[r->pos++];
        r->taken++;
        if (ch == '\n') break;
        if (k + 1 >= max) return GN_ETOOLARGE;
        out[k++] = ch;
    }
    if (k && out[k - 1] == '\r') k--;
    out[k] = 0;
    return (int)k;
}

/* Body bytes: checked against gen(seed) from *off on, or kept in keep.          */
typedef struct sink {
    uint32_t seed;
    int64_t  off;
    int      bad;
    char    *keep;
    size_t   cap;
} sink;
static void sink_put(sink *s, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s->keep) {
            if ((size_t)s->off + 1 < s->cap) s->keep[s->off] = p[i], s->keep[s->off + 1] = 0;
        } else if (!s->bad && (uint8_t)p[i] != gen(s->seed, (uint64_t)(s->off))) {
            s->bad = 1;
        }
        s->off++;
    }
}
static int raw_body(raw *r, sink *s, int64_t n) {   /* n < 0: up to EOF */
    while (n != 0) {
        int rc = raw_fill(r);
        if (rc == GN_EOF && n < 0) return 0;
        if (rc < 0) return rc;
        size_t k = r->len - r->pos;
        if (n > 0 && (int64_t)k > n) k = (size_t)n;
        sink_put(s, r->buf + r->pos, k);
        r->pos += k;
        r->taken += (int64_t)k;
        if (n > 0) n -= (int64_t)k;
    }
    return 0;
}

typedef struct raw_resp {
    int status;
    int close;                 /* the server will close after it                 */
    char err[160];
} raw_resp;

/* Reads one response. 1 complete (its body in s), 0 the stream ended before
 * its first byte (*err), -1 broken (rr->err says how).                           */
static int raw_response(raw *r, sink *s, int head_req, raw_resp *rr, int *err) {
    int64_t t0 = r->taken;
    char line[1024];
    int rc = raw_line(r, line, sizeof line);
    if (rc < 0) {
        *err = rc;
        if (r->taken == t0) return 0;
        snprintf(rr->err, sizeof rr->err, "status line cut: %s", gn_strerror(rc));
        return -1;
    }
    if (strncmp(line, "HTTP/1.", 7) != 0 || strlen(line) < 12) {
        snprintf(rr->err, sizeof rr->err, "bad status line \"%.60s\"", line);
        return -1;
    }
    int minor = line[7] - '0';
    rr->status = atoi(line + 9);
    rr->close = minor == 0;
    int64_t clen = -1;
    int chunked = 0;
    while ((rc = raw_line(r, line, sizeof line)) > 0) {
        char *colon = strchr(line, ':');
        if (!colon) {
            snprintf(rr->err, sizeof rr->err, "bad header \"%.60s\"", line);
            return -1;
        }
        *colon = 0;
        const char *v = colon + 1;
        while (*v == ' ') v++;
        if (strcasecmp(line, "Content-Length") == 0) clen = strtoll(v, NULL, 10);
        else if (strcasecmp(line, "Transfer-Encoding") == 0) chunked = strcasecmp(v, "chunked") == 0;
        else if (strcasecmp(line, "Connection") == 0 && strcasecmp(v, "close") == 0) rr->close = 1;
        else if (strcasecmp(line, "Connection") == 0 && strcasecmp(v, "keep-alive") == 0) rr->close = 0;
    }
    if (rc < 0) {
        snprintf(rr->err, sizeof rr->err, "head cut: %s", gn_strerror(rc));
        return -1;
    }
    if (head_req || rr->status == 204 || rr->status == 304 || rr->status / 100 == 1) return 1;
    if (chunked) {
        for (;;) {
            if ((rc = raw_line(r, line, sizeof line)) < 0) break;
            char *end;
            long long k = strtoll(line, &end, 16);
            if (end == line || k < 0) {
                snprintf(rr->err, sizeof rr->err, "bad chunk size \"%.40s\"", line);
                return -1;
            }
            if (k == 0) {
                while ((rc = raw_line(r, line, sizeof line)) > 0) {}   /* trailers */
                break;
            }
            if ((rc = raw_body(r, s, k)) < 0) break;
            if ((rc = raw_line(r, line, sizeof line)) < 0) break;
            if (rc != 0) {
                snprintf(rr->err, sizeof rr->err, "chunk not followed by CRLF");
                return -1;
            }
        }
    } else if (clen >= 0) {
        rc = raw_body(r, s, clen);
    } else {
        rc = raw_body(r, s, -1);
        rr->close = 1;
    }
    if (rc < 0) {
        snprintf(rr->err, sizeof rr->err, "body cut after %lld bytes: %s", (long long)s->off, gn_strerror(rc));
        return -1;
    }
    return 1;
}

static raw *raw_new(uint64_t seed) {
    raw *r = (raw *)calloc(1, sizeof *r);
    if (r) r->rs = seed | 1;
    return r;
}

/* Checks a raw /data response for id: 1, 0 or -1 (reported).                   */
static int raw_data(raw *r, int cls, uint32_t id, uint32_t seed, int64_t n, raw_resp *rr, int *err) {
    sink s = {seed, 0, 0, NULL, 0};
    memset(rr, 0, sizeof *rr);
    int res = raw_response(r, &s, 0, rr, err);
    if (res < 0) failf("%s id %u: %s", class_name[cls], id, rr->err);
    else if (res > 0 && rr->status != 200) failf("%s id %u: status %d", class_name[cls], id, rr->status), res = -1;
    else if (res > 0 && (s.bad || s.off != n))
        failf("%s id %u: body %s (%lld of %lld bytes)", class_name[cls], id, s.bad ? "corrupt" : "of wrong length",
              (long long)s.off, (long long)n),
            res = -1;
    if (res > 0) AADD(&cnt[cls].bytes, n);
    return res;
}

static int dial(gn_conn **c) {
    int rc = gn_dial_timeout(c, "tcp", addr, 5 * GN_SECOND);
    if (rc == 0) gn_set_deadline(*c, gn_now() + 60 * GN_SECOND);
    return rc;
}

/* One connection per request; HTTP/1.0 now and then.                         */
static void new_worker(void *arg) {
    (void)arg;
    uint64_t rs = (uint64_t)gn_id() * 0x2545F4914F6CDD1Dull + 7;
    raw *r = raw_new(rs);
    while (r && running()) {
        uint32_t id = new_id(C_NEW);
        if (!id) break;
        uint32_t seed = (uint32_t)xs(&rs);
        int64_t n = rnd(&rs, 0, 3) == 0 ? rnd(&rs, 0, 200000) : rnd(&rs, 0, 3000);
        int v10 = rnd(&rs, 0, 4) == 0;
        char req[256];
        int len = snprintf(req, sizeof req, "GET /data?id=%u&n=%lld&seed=%u HTTP/1.%d\r\nHost: soak\r\n%s\r\n", id,
                           (long long)n, seed, v10 ? 0 : 1, v10 ? "" : "Connection: close\r\n");
        gn_conn *c;
        int rc = dial(&c);
        if (rc < 0) {
            outcome(C_NEW, id, 0, rc);
            gn_sleep(rnd(&rs, 5, 30) * GN_MILLISECOND);
            continue;
        }
        r->c = c;
        r->pos = r->len = 0;
        r->taken = 0;
        int err = 0, res;
        raw_resp rr;
        if ((rc = (int)gn_write(c, req, (size_t)len)) < 0) res = 0, err = rc;
        else res = raw_data(r, C_NEW, id, seed, n, &rr, &err);
        if (res > 0) {   /* then the server closes: EOF, nothing more */
            char b[16];
            int64_t m = gn_read(c, b, sizeof b);
            if (m != GN_EOF) failf("conn-per-request id %u: after the response: %s", id, m > 0 ? "more bytes" : gn_strerror((int)m));
        }
        outcome(C_NEW, id, res, err);
        gn_close(c);
        gn_sleep(rnd(&rs, 5, 30) * GN_MILLISECOND);
    }
    free(r);
}

/* Batches of 1..16 GETs in one write, then their responses, a few batches per
 * connection.                                                                   */
static void pipe_worker(void *arg) {
    (void)arg;
    uint64_t rs = (uint64_t)gn_id() * 0x5851F42D4C957F2Dull + 3;
    raw *r = raw_new(rs);
    char *req = (char *)malloc(16 * 160);
    while (r && req && running()) {
        gn_conn *c;
        uint32_t ids[16], seeds[16];
        int64_t ns[16];
        int nb = (int)rnd(&rs, 1, 16);
        int rc = dial(&c);
        if (rc < 0) {
            for (int i = 0; i < nb; i++)
                if ((ids[i] = new_id(C_PIPE)) != 0) outcome(C_PIPE, ids[i], 0, rc);
            gn_sleep(rnd(&rs, 10, 50) * GN_MILLISECOND);
            continue;
        }
        r->c = c;
        r->pos = r->len = 0;
        r->taken = 0;
        uint8_t opened = stamp();
        int batches = (int)rnd(&rs, 1, 5), alive = 1;
        for (int b = 0; b < batches && alive && running(); b++) {
            nb = (int)rnd(&rs, 1, 16);
            size_t len = 0;
            int k;
            for (k = 0; k < nb; k++) {
                if (!(ids[k] = new_id(C_PIPE))) break;
                idquiet[ids[k]] = opened;
                seeds[k] = (uint32_t)xs(&rs);
                ns[k] = rnd(&rs, 0, 6000);
                len += (size_t)snprintf(req + len, 160, "GET /data?id=%u&n=%lld&seed=%u HTTP/1.1\r\nHost: soak\r\n\r\n",
                                        ids[k], (long long)ns[k], seeds[k]);
            }
            nb = k;
            int err = 0, i = 0;
            if ((rc = (int)gn_write(c, req, len)) < 0) err = rc;
            else
                for (; i < nb; i++) {
                    raw_resp rr;
                    int res = raw_data(r, C_PIPE, ids[i], seeds[i], ns[i], &rr, &err);
                    outcome(C_PIPE, ids[i], res, err);
                    if (res <= 0 || rr.close) {
                        i++;
                        break;
                    }
                }
            if (i < nb || err) alive = 0;
            for (; i < nb; i++) outcome(C_PIPE, ids[i], 0, err ? err : GN_ECLOSED);
            gn_sleep(rnd(&rs, 0, 10) * GN_MILLISECOND);
        }
        gn_close(c);
        gn_sleep(rnd(&rs, 5, 30) * GN_MILLISECOND);
    }
    free(req);
    free(r);
}

/* Well-behaved but slow: the head goes out in pieces, a download is read in
 * small bites, an upload trickles; all well inside the server's timeouts.      */
static void slow_worker(void *arg) {
    (void)arg;
    uint64_t rs = (uint64_t)gn_id() * 0x9E3779B97F4A7C15ull + 11;
    raw *r = raw_new(rs);
    uint8_t *body = (uint8_t *)malloc(4096);
    int64_t piece_ms = g_slow ? 20 : 40;
    while (r && body && running()) {
        uint32_t id = new_id(C_SLOW);
        if (!id) break;
        uint32_t seed = (uint32_t)xs(&rs);
        int upload = rnd(&rs, 0, 2) == 0;
        int64_t n = upload ? rnd(&rs, 1, 65536) : rnd(&rs, 0, 200000);
        char req[256];
        int len = upload ? snprintf(req, sizeof req, "POST /upload?id=%u HTTP/1.1\r\nHost: soak\r\nContent-Length: %lld\r\n\r\n",
                                    id, (long long)n)
                         : snprintf(req, sizeof req, "GET /data?id=%u&n=%lld&seed=%u HTTP/1.1\r\nHost: soak\r\n\r\n", id,
                                    (long long)n, seed);
        gn_conn *c;
        int rc = dial(&c);
        if (rc < 0) {
            outcome(C_SLOW, id, 0, rc);
            gn_sleep(rnd(&rs, 10, 50) * GN_MILLISECOND);
            continue;
        }
        r->c = c;
        r->pos = r->len = 0;
        r->taken = 0;
        r->slow = 1;
        int err = 0, res = 0;
        for (int off = 0; off < len && !err;) {   /* 6 pieces or so */
            int k = len - off < len / 6 + 1 ? len - off : len / 6 + 1;
            if ((rc = (int)gn_write(c, req + off, (size_t)k)) < 0) err = rc;
            off += k;
            if (off < len) gn_sleep(rnd(&rs, 1, piece_ms) * GN_MILLISECOND);
        }
        uint64_t h = FNV0;
        for (int64_t off = 0; upload && !err && off < n;) {
            size_t k = (size_t)(n - off < 4096 ? n - off : 4096);
            fill(body, seed, (uint64_t)off, k);
            h = fnv(h, body, k);
            if ((rc = (int)gn_write(c, body, k)) < 0) err = rc;
            off += (int64_t)k;
            gn_sleep(rnd(&rs, 1, 20) * GN_MILLISECOND);
        }
        raw_resp rr;
        memset(&rr, 0, sizeof rr);
        if (err) {
            /* The server may still have answered (a shutdown's close): read it. */
            char got[128] = "";
            sink s = {0, 0, 0, got, sizeof got};
            res = raw_response(r, &s, 0, &rr, &err);
            if (res > 0) failf("slow id %u: answered (%d) before the request was sent", id, rr.status), res = -1;
            else if (res < 0) failf("slow id %u: %s", id, rr.err);
        } else if (upload) {
            char got[128] = "", want[64];
            sink s = {0, 0, 0, got, sizeof got};
            snprintf(want, sizeof want, "%lld %016llx", (long long)n, (unsigned long long)h);
            res = raw_response(r, &s, 0, &rr, &err);
            if (res < 0) failf("slow id %u: %s", id, rr.err);
            else if (res > 0 && (rr.status != 200 || strcmp(got, want) != 0))
                failf("slow id %u: %d \"%.60s\", sent \"%s\"", id, rr.status, got, want), res = -1;
            if (res > 0) AADD(&cnt[C_SLOW].bytes, n);
        } else {
            res = raw_data(r, C_SLOW, id, seed, n, &rr, &err);
        }
        outcome(C_SLOW, id, res, err);
        r->slow = 0;
        gn_close(c);
        gn_sleep(rnd(&rs, 10, 50) * GN_MILLISECOND);
    }
    free(body);
    free(r);
}

/* Keep-alive connections that sit idle between requests (below the server's
 * idle timeout) and ask for HEAD now and then: many open, few active.        */
static void idle_worker(void *arg) {
    (void)arg;
    uint64_t rs = (uint64_t)gn_id() * 0x9E3779B97F4A7C15ull + 13;
    raw *r = raw_new(rs);
    int64_t idle_max = ALOAD(&sh->idle_timeout_ms) * 3 / 4;
    gn_sleep(rnd(&rs, 0, idle_max) * GN_MILLISECOND);   /* spread the herd */
    while (r && running()) {
        gn_conn *c;
        uint32_t id = new_id(C_IDLE);
        if (!id) break;
        int rc = dial(&c);
        if (rc < 0) {
            outcome(C_IDLE, id, 0, rc);
            gn_sleep(rnd(&rs, 10, 100) * GN_MILLISECOND);
            continue;
        }
        r->c = c;
        r->pos = r->len = 0;
        r->taken = 0;
        uint8_t opened = idquiet[id];
        for (int i = 0, k = (int)rnd(&rs, 1, 10); id; i++) {
            idquiet[id] = opened;
            gn_set_deadline(c, gn_now() + 60 * GN_SECOND);   /* per request: the connection lives longer */
            uint32_t seed = (uint32_t)xs(&rs);
            int64_t n = rnd(&rs, 0, 5000);
            int head = rnd(&rs, 0, 4) == 0;
            char req[200];
            int len = snprintf(req, sizeof req, "%s /data?id=%u&n=%lld&seed=%u HTTP/1.1\r\nHost: soak\r\n\r\n",
                               head ? "HEAD" : "GET", id, (long long)n, seed);
            int err = 0, res;
            raw_resp rr;
            memset(&rr, 0, sizeof rr);
            if ((rc = (int)gn_write(c, req, (size_t)len)) < 0) {
                res = 0, err = rc;
            } else if (head) {
                sink s = {0, 0, 0, NULL, 0};
                res = raw_response(r, &s, 1, &rr, &err);
                if (res < 0) failf("keepalive-idle id %u: HEAD: %s", id, rr.err);
                else if (res > 0 && rr.status != 200) failf("keepalive-idle id %u: HEAD: status %d", id, rr.status), res = -1;
            } else {
                res = raw_data(r, C_IDLE, id, seed, n, &rr, &err);
            }
            outcome(C_IDLE, id, res, err);
            if (res <= 0 || rr.close || i + 1 >= k || !running()) break;
            gn_sleep(rnd(&rs, 100, idle_max) * GN_MILLISECOND);
            id = new_id(C_IDLE);
        }
        gn_close(c);
    }
    free(r);
}

/* ---- hostile clients ------------------------------------------------------------ */
static const char *const malformed[] = {
    "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "GET /data HTTP/1.1\r\nHost: a\r\nX-Fold: a\r\n b\r\n\r\n",
    "GET /data HTTP/1.1\rHost: a\r\n\r\n",
    "G@T /data HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /data HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
    "GET /data HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    "GET /data HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
    "GET /data HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
    "GET /data HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "GET /data HTTP/1.1\r\n\r\n",
    "GET\r\n\r\n",
    "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
};
#define NMALFORMED (int)(sizeof malformed / sizeof malformed[0])

/* Reads until EOF or a reset within limit: 1 closed (first status in *status,
 * 0 if none), 0 still open at the limit.                                         */
static int wait_closed(gn_conn *c, int64_t limit, int *status) {
    char b[2048];
    size_t got = 0;
    gn_set_read_deadline(c, gn_now() + limit);
    for (;;) {
        int64_t m = gn_read(c, got < sizeof b - 1 ? b + got : b, got < sizeof b - 1 ? sizeof b - 1 - got : sizeof b);
        if (m > 0) {
            if (got < sizeof b - 1) got += (size_t)m;
            continue;
        }
        b[got < sizeof b ? got : sizeof b - 1] = 0;
        *status = got > 12 && strncmp(b, "HTTP/1.", 7) == 0 ? atoi(b + 9) : 0;
        return m != GN_ETIMEDOUT;
    }
}

static void hostile_worker(void *arg) {
    (void)arg;
    uint64_t rs = (uint64_t)gn_id() * 0x2545F4914F6CDD1Dull + 5;
    int64_t hdr = ALOAD(&sh->header_timeout_ms) * GN_MILLISECOND;
    int64_t slack = (g_slow ? 10 : 3) * GN_SECOND;
    while (running()) {
        int kind = (int)rnd(&rs, 0, NHOSTILE - 1);
        gn_conn *c;
        if (dial(&c) < 0) {   /* between two servers: try again later */
            gn_sleep(50 * GN_MILLISECOND);
            continue;
        }
        AADD(&hostile_cnt[kind], 1);
        int64_t t0 = gn_now();
        int st = 0;
        switch (kind) {
        case H_MALFORMED: {
            const char *m = malformed[rnd(&rs, 0, NMALFORMED - 1)];
            if (gn_write(c, m, strlen(m)) < 0) break;
            if (!wait_closed(c, hdr + slack, &st)) {
                AADD(&hostile_failed, 1);
                failf("malformed \"%.30s\": connection still open", m);
            } else if (st != 0 && (st < 400 || st > 599)) {
                AADD(&hostile_failed, 1);
                failf("malformed \"%.30s\": status %d", m, st);
            }
            break;
        }
        case H_RESET_REQ: {
            char req[160];
            int len = rnd(&rs, 0, 1)
                          ? snprintf(req, sizeof req, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n0123456789")
                          : snprintf(req, sizeof req, "GET /data?n=10 HTTP/1.1\r\nHost: a\r\nX-Part");
            gn_write(c, req, (size_t)len);
            gn_sleep(rnd(&rs, 0, 20) * GN_MILLISECOND);
            gn_set_linger(c, 0);   /* close sends a reset */
            break;
        }
        case H_RESET_RESP: {
            char req[160], b[4096];
            int len = rnd(&rs, 0, 1) ? snprintf(req, sizeof req, "GET /data?n=2000000 HTTP/1.1\r\nHost: a\r\n\r\n")
                                     : snprintf(req, sizeof req, "GET /stream?k=50&size=8000&ms=10 HTTP/1.1\r\nHost: a\r\n\r\n");
            if (gn_write(c, req, (size_t)len) < 0) break;
            int64_t want = rnd(&rs, 1, 20000), got = 0, m;
            while (got < want && (m = gn_read(c, b, sizeof b)) > 0) got += m;
            gn_set_linger(c, 0);
            break;
        }
        case H_SLOWLORIS: {
            /* A header line every 300 ms: read_header_timeout must cut it.     */
            const char *head = "GET /data HTTP/1.1\r\nHost: a\r\n";
            int cut = gn_write(c, head, strlen(head)) < 0;
            while (!cut && gn_now() - t0 < hdr + slack) {
                gn_sleep(300 * GN_MILLISECOND);
                cut = gn_write(c, "X-Drip: 1\r\n", 11) < 0;
                if (!cut) {
                    char b[512];
                    gn_set_read_deadline(c, gn_now() + GN_MILLISECOND);
                    int64_t m = gn_read(c, b, sizeof b);
                    cut = m != GN_ETIMEDOUT;
                }
            }
            int64_t took = gn_now() - t0;
            if (!cut) {
                AADD(&hostile_failed, 1);
                failf("slowloris: not cut after %lld ms", (long long)(took / GN_MILLISECOND));
            }
            break;
        }
        case H_SILENT:
            if (!wait_closed(c, hdr + slack, &st) || st != 0) {
                AADD(&hostile_failed, 1);
                failf("silent connection: %s", st ? "answered" : "not closed by read_header_timeout");
            }
            break;
        case H_HALFCLOSE: {
            /* A partial head, then our write side shut: the server must let go. */
            const char *part = "GET /data?n=5 HTTP/1.1\r\nHos";
            gn_write(c, part, strlen(part));
            gn_close_write(c);
            if (!wait_closed(c, hdr + slack, &st)) {
                AADD(&hostile_failed, 1);
                failf("half-closed connection: not closed");
            }
            break;
        }
        case H_DIAL_CLOSE:
            break;
        }
        gn_close(c);
        gn_sleep(rnd(&rs, 5, 40) * GN_MILLISECOND);
    }
}

/* ---- sampling the server -------------------------------------------------------- */
enum { S_RSS, S_HEAP, S_FDS, S_G, S_THREADS, S_TIMERS, S_CONNS, NSERIES };
static const char *const series_name[NSERIES] = {"rss_kib", "heap_kib", "fds", "coroutines", "threads", "timers", "conns"};
typedef struct sample { int64_t v[NSERIES]; } sample;
static pid_t child;
static sample s_cold, s_start, s_peak, s_end;
static int sampling_peak;   /* 1 while the peak is being tracked (load and drain) */
static int sampler_run = 1;
static gn_chan *sampler_done;
static int64_t t_begin;

static int read_sample(sample *s) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)child);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int64_t rss = -1, shm = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) rss = strtoll(line + 6, NULL, 10);
        else if (strncmp(line, "RssShmem:", 9) == 0) shm = strtoll(line + 9, NULL, 10);
    }
    fclose(f);
    /* The shared id table is the test's, not the server's.                     */
    s->v[S_RSS] = rss - shm;
    snprintf(path, sizeof path, "/proc/%d/fd", (int)child);
    DIR *d = opendir(path);
    if (!d) return -1;
    int64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    s->v[S_FDS] = n;
    s->v[S_HEAP] = ALOAD(&sh->heap_kib);
    s->v[S_G] = ALOAD(&sh->goroutines);
    s->v[S_THREADS] = ALOAD(&sh->threads);
    s->v[S_TIMERS] = ALOAD(&sh->timers);
    s->v[S_CONNS] = ALOAD(&sh->conns);
    return rss < 0 ? -1 : 0;
}

static int64_t total_sent(void) {
    int64_t n = 0;
    for (int i = 0; i < NCLASS; i++) n += ALOAD(&cnt[i].sent);
    return n;
}
static int64_t total_hostile(void) {
    int64_t n = 0;
    for (int i = 0; i < NHOSTILE; i++) n += ALOAD(&hostile_cnt[i]);
    return n;
}

static void sampler(void *arg) {
    (void)arg;
    int tick = 0;
    while (ALOAD(&sampler_run)) {
        sample s;
        if (read_sample(&s) == 0 && ALOAD(&sampling_peak))
            for (int i = 0; i < NSERIES; i++)
                if (s.v[i] > s_peak.v[i]) s_peak.v[i] = s.v[i];
        if (++tick % 10 == 0)
            printf("soak: t=%llds rss_kib=%lld heap_kib=%lld fds=%lld coroutines=%lld conns=%lld requests=%lld hostile=%lld restarts=%d\n",
                   (long long)((gn_now() - t_begin) / GN_SECOND), (long long)s.v[S_RSS], (long long)s.v[S_HEAP],
                   (long long)s.v[S_FDS],
                   (long long)s.v[S_G], (long long)s.v[S_CONNS], (long long)total_sent(), (long long)total_hostile(),
                   ALOAD(&sh->restarts)),
                fflush(stdout);
        gn_sleep(GN_SECOND);
    }
    gn_chan_close(sampler_done);
}

/* ---- the run ------------------------------------------------------------------------ */
typedef struct plan {
    int64_t seconds, warmup;
    int nka, nnew, npipe, nslow, nidle, nhostile;
} plan;
static plan P;
static int server_exit = -1;

typedef struct worker {
    void (*fn)(void *);
    void *arg;
    gn_waitgroup *wg;
} worker;
static void worker_main(void *arg) {
    worker *w = (worker *)arg;
    w->fn(w->arg);
    gn_waitgroup_done(w->wg);
    free(w);
}
static void spawn(gn_waitgroup *wg, void (*fn)(void *), void *a) {
    worker *w = (worker *)malloc(sizeof *w);
    if (!w) return;
    *w = (worker){fn, a, wg};
    gn_waitgroup_add(wg, 1);
    if (gn_go(worker_main, w) < 0) {
        gn_waitgroup_done(wg);
        free(w);
    }
}

/* Runs the mix for secs seconds and waits for every worker.                    */
static void load(int64_t secs) {
    gn_http_client_opts co;
    memset(&co, 0, sizeof co);
    co.timeout = 120 * GN_SECOND;
    co.max_idle_per_host = 8;
    gn_http_client *cl = gn_http_client_new(&co);
    if (!cl) {
        failf("gn_http_client_new");
        return;
    }
    gn_waitgroup wg = GN_WAITGROUP_INIT;
    load_stop = 0;
    load_end = gn_now() + secs * GN_SECOND;
    for (int i = 0; i < P.nka; i++) spawn(&wg, ka_worker, cl);
    for (int i = 0; i < P.nnew; i++) spawn(&wg, new_worker, NULL);
    for (int i = 0; i < P.npipe; i++) spawn(&wg, pipe_worker, NULL);
    for (int i = 0; i < P.nslow; i++) spawn(&wg, slow_worker, NULL);
    for (int i = 0; i < P.nidle; i++) spawn(&wg, idle_worker, NULL);
    for (int i = 0; i < P.nhostile; i++) spawn(&wg, hostile_worker, NULL);
    gn_waitgroup_wait(&wg);
    gn_http_client_free(cl);   /* closes the pooled connections */
}

/* Waits (up to limit) until the server has no connection and its descriptors
 * and coroutines are back at want's (or, with want NULL, simply steady).       */
static int settle(const sample *want, int64_t limit, sample *out) {
    int64_t end = gn_now() + limit;
    sample prev;
    memset(&prev, 0xff, sizeof prev);
    int steady = 0;
    for (;;) {
        gn_sleep(250 * GN_MILLISECOND);
        if (read_sample(out) != 0) return 0;
        int same = out->v[S_FDS] == prev.v[S_FDS] && out->v[S_G] == prev.v[S_G] && out->v[S_TIMERS] == prev.v[S_TIMERS];
        steady = same ? steady + 1 : 0;
        prev = *out;
        int ok = out->v[S_CONNS] == 0 && !ALOAD(&sh->restarting) &&
                 (want ? out->v[S_FDS] == want->v[S_FDS] && out->v[S_G] == want->v[S_G] &&
                             out->v[S_TIMERS] == want->v[S_TIMERS]
                       : steady >= 8);
        if (ok) {
            gn_sleep(GN_SECOND);   /* RSS after the frees */
            read_sample(out);
            return 1;
        }
        if (gn_now() >= end) return 0;
    }
}

static int settled_start, settled_end;

static void client_main(void *arg) {
    (void)arg;
    t_begin = gn_now();
    sampler_done = gn_chan_new(0, 0);
    read_sample(&s_cold);
    gn_go(sampler, NULL);
    /* Warm-up: the full mix, without restarts, so pools and caches reach the
     * sizes this load needs; then the baseline, once it is all quiet again.   */
    printf("soak: warm-up %llds\n", (long long)P.warmup), fflush(stdout);
    load(P.warmup);
    int64_t drain = (ALOAD(&sh->idle_timeout_ms) + ALOAD(&sh->body_timeout_ms) + 10000) * GN_MILLISECOND;
    settled_start = settle(NULL, drain, &s_start);
    s_peak = s_start;
    ASTORE(&sampling_peak, 1);
    printf("soak: baseline rss_kib=%lld heap_kib=%lld fds=%lld coroutines=%lld threads=%lld timers=%lld; load %llds "
           "with restarts\n",
           (long long)s_start.v[S_RSS], (long long)s_start.v[S_HEAP], (long long)s_start.v[S_FDS], (long long)s_start.v[S_G],
           (long long)s_start.v[S_THREADS], (long long)s_start.v[S_TIMERS], (long long)P.seconds),
        fflush(stdout);
    ASTORE(&sh->restarts_on, 1);
    load(P.seconds);
    ASTORE(&sh->restarts_on, 0);
    settled_end = settle(&s_start, drain, &s_end);
    ASTORE(&sampling_peak, 0);
    ASTORE(&sampler_run, 0);
    gn_chan_recv(sampler_done, NULL);
    gn_chan_free(sampler_done);
    /* The server goes; it must exit cleanly (and, under valgrind, without
     * errors or leaks).                                                        */
    ASTORE(&sh->stop, 1);
    for (int i = 0; i < 600; i++) {
        int st;
        pid_t p = waitpid(child, &st, WNOHANG);
        if (p == child) {
            server_exit = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            break;
        }
        gn_sleep(100 * GN_MILLISECOND);
    }
}

static void on_alarm(int sig) {
    (void)sig;
    static const char m[] = "soak: watchdog: the run took too long\n0 passed, 1 failed\n";
    if (write(2, m, sizeof m - 1) < 0) {}
    if (child > 0) kill(child, SIGKILL);
    _exit(2);
}

static int npass, nfail;
static void check(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void check(int ok, const char *name, const char *fmt, ...) {
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    printf("soak: check %-28s %s  %s\n", name, ok ? "ok  " : "FAIL", m);
    if (ok) npass++;
    else nfail++;
}

static int64_t env_int(const char *name, int64_t dflt) {
    const char *v = getenv(name);
    return v && *v ? strtoll(v, NULL, 10) : dflt;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    g_slow = (int)env_int("SOAK_SLOW", 0);
    P.seconds = env_int("SOAK_SECONDS", 600);
    if (P.seconds < 5) P.seconds = 5;
    P.warmup = P.seconds / 10 < 5 ? 5 : P.seconds / 10 > 30 ? 30 : P.seconds / 10;
    int64_t slack_mib = env_int("SOAK_RSS_SLACK_MIB", 8);
    P.nka = g_slow ? 3 : 6;
    P.nnew = g_slow ? 1 : 3;
    P.npipe = g_slow ? 1 : 2;
    P.nslow = g_slow ? 1 : 3;
    P.nidle = g_slow ? 10 : 40;
    P.nhostile = g_slow ? 1 : 2;

    sh = (shared *)mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) {
        fprintf(stderr, "soak: out of memory\n");
        return 1;
    }
    sh->header_timeout_ms = g_slow ? 6000 : 2000;
    sh->body_timeout_ms = g_slow ? 60000 : 15000;
    sh->idle_timeout_ms = g_slow ? 8000 : 5000;
    sh->restart_min_ms = 10000;
    sh->restart_max_ms = 20000;
    if (P.seconds < 30) sh->restart_min_ms = P.seconds * 1000 / 3, sh->restart_max_ms = P.seconds * 1000 / 2;
    /* A port below the ephemeral range: while no server listens on it, none of
     * our own outgoing connections can take it.                                 */
    {
        uint64_t rs = (uint64_t)getpid() * 2654435761u + (uint64_t)time(NULL);
        for (int i = 0; i < 100 && !port; i++) {
            int p = (int)rnd(&rs, 20000, 32000);
            char a[32];
            snprintf(a, sizeof a, "127.0.0.1:%d", p);
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            struct sockaddr_in sa;
            memset(&sa, 0, sizeof sa);
            sa.sin_family = AF_INET;
            sa.sin_port = htons((uint16_t)p);
            sa.sin_addr.s_addr = htonl(0x7f000001);
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0) port = p;
            if (fd >= 0) close(fd);
        }
    }
    if (!port) {
        fprintf(stderr, "soak: no free port\n");
        return 1;
    }
    sh->port = port;
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", port);
    fflush(stdout);
    fflush(stderr);
    child = fork();
    if (child < 0) {
        perror("soak: fork");
        return 1;
    }
    if (child == 0) {
        int rc = server_process();
        munmap(sh, sizeof *sh);
        return rc;
    }
    /* After the fork: the server's heap figures are its own.                   */
    idstate = (uint8_t *)calloc(MAX_IDS, 1);
    idclass = (uint8_t *)calloc(MAX_IDS, 1);
    idquiet = (uint8_t *)calloc(MAX_IDS, 1);
    if (!idstate || !idclass || !idquiet) {
        fprintf(stderr, "soak: out of memory\n");
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)(P.warmup + P.seconds + 300 + (g_slow ? 300 : 0)));
    for (int i = 0; i < 3000 && !ALOAD(&sh->ready); i++) usleep(10000);
    if (!ALOAD(&sh->ready)) {
        fprintf(stderr, "soak: the server did not start\n");
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        return 1;
    }
    printf("soak: %llds of load (after %llds of warm-up), server pid %d on %s, restarts every %lld-%lld ms\n",
           (long long)P.seconds, (long long)P.warmup, (int)child, addr, (long long)sh->restart_min_ms,
           (long long)sh->restart_max_ms);
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = 2;
    int rc = gn_run(&cfg, client_main, NULL);
    alarm(0);
    if (rc < 0) {
        fprintf(stderr, "soak: gn_run: %s\n", gn_strerror(rc));
        kill(child, SIGKILL);
        return 1;
    }
    if (server_exit < 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    int64_t secs = (gn_now() - t_begin) / GN_SECOND;

    /* ---- the figures ------------------------------------------------------------ */
    for (int i = 0; i < NSERIES; i++)
        printf("soak: %-10s cold=%lld start=%lld peak=%lld end=%lld\n", series_name[i], (long long)s_cold.v[i],
               (long long)s_start.v[i], (long long)s_peak.v[i], (long long)s_end.v[i]);
    /* Every id against the server's table.                                     */
    int64_t accepted_lost = 0, twice = 0, phantom = 0, refused = 0, answered = 0, failed = 0, sent = 0;
    uint32_t top = ALOAD(&next_id);
    if (top > MAX_IDS) top = MAX_IDS;
    for (uint32_t id = 1; id < top; id++) {
        uint8_t st = idstate[id], hd = ALOAD(&sh->handled[id]);
        if (!st) continue;
        sent++;
        if (hd > 1) {
            if (twice++ < 5) printf("soak: id %u (%s) handled %d times\n", id, class_name[idclass[id]], hd);
        }
        if (st == ID_ANSWERED) {
            answered++;
            if (!hd && phantom++ < 5) printf("soak: id %u (%s) answered but never handled\n", id, class_name[idclass[id]]);
        } else if (st == ID_REFUSED || st == ID_DROPPED) {
            if (hd) {
                if (accepted_lost++ < 10)
                    printf("soak: id %u (%s): handler ran, client got no response (%s)\n", id, class_name[idclass[id]],
                           st == ID_REFUSED ? "connect refused" : "closed or reset");
            } else {
                refused++;
            }
        } else if (st == ID_FAILED) {
            failed++;
        } else {
            failed++;
            printf("soak: id %u (%s): no outcome recorded\n", id, class_name[idclass[id]]);
        }
    }
    for (int i = 0; i < NCLASS; i++)
        printf("soak: requests %-16s sent=%lld answered=%lld refused-at-connect=%lld closed-unread=%lld failed=%lld "
               "MiB=%lld\n",
               class_name[i], (long long)cnt[i].sent, (long long)cnt[i].answered, (long long)cnt[i].refused_connect,
               (long long)cnt[i].dropped, (long long)cnt[i].failed, (long long)(cnt[i].bytes >> 20));
    printf("soak: requests total sent=%lld answered=%lld refused=%lld failed=%lld accepted-but-lost=%lld\n",
           (long long)sent, (long long)answered, (long long)refused, (long long)failed, (long long)accepted_lost);
    printf("soak: hostile cases=%lld", (long long)total_hostile());
    for (int i = 0; i < NHOSTILE; i++) printf(" %s=%lld", hostile_name[i], (long long)hostile_cnt[i]);
    printf(" failed=%lld\n", (long long)hostile_failed);
    int restarts = ALOAD(&sh->restarts);
    printf("soak: restarts=%d shutdown max=%lldms mean=%lldms cut=%d listen-retries=%d\n", restarts,
           (long long)sh->shutdown_max_ms, (long long)(restarts ? sh->shutdown_sum_ms / restarts : 0),
           sh->shutdown_cut, sh->listen_errors);
    printf("soak: duration %llds (SOAK_SECONDS=%lld)\n", (long long)secs, (long long)P.seconds);

    /* ---- the checks ------------------------------------------------------------- */
    check(settled_start, "baseline settled", "no connection, fds and coroutines steady after the warm-up");
    check(settled_end, "drained to baseline", "no connection, fds/coroutines/timers back within the drain time");
    check(s_end.v[S_RSS] <= s_start.v[S_RSS] + slack_mib * 1024, "rss back to baseline",
          "end %lld KiB <= start %lld + %lld MiB", (long long)s_end.v[S_RSS], (long long)s_start.v[S_RSS],
          (long long)slack_mib);
    /* The live heap: slack for one server's pool of idle work blocks (64 of
     * about 33 KiB), which the baseline's server and the last one may hold
     * in different numbers.                                                     */
    if (s_peak.v[S_HEAP] > 0)   /* 0: malloc is not glibc's (valgrind's, say) */
        check(s_end.v[S_HEAP] <= s_start.v[S_HEAP] + 2048, "heap back to baseline", "end %lld KiB <= start %lld + 2 MiB",
              (long long)s_end.v[S_HEAP], (long long)s_start.v[S_HEAP]);
    check(s_end.v[S_FDS] == s_start.v[S_FDS], "fds back to baseline", "end %lld == start %lld",
          (long long)s_end.v[S_FDS], (long long)s_start.v[S_FDS]);
    check(s_end.v[S_G] == s_start.v[S_G], "coroutines back to baseline", "end %lld == start %lld",
          (long long)s_end.v[S_G], (long long)s_start.v[S_G]);
    check(s_end.v[S_TIMERS] == s_start.v[S_TIMERS], "timers back to baseline", "end %lld == start %lld",
          (long long)s_end.v[S_TIMERS], (long long)s_start.v[S_TIMERS]);
    /* Ms are kept once started, as in Go: bounded, not back to the baseline.  */
    check(s_peak.v[S_THREADS] <= 2 + 2, "threads bounded", "peak %lld, end %lld <= procs + 2",
          (long long)s_peak.v[S_THREADS], (long long)s_end.v[S_THREADS]);
    check(sent == answered + refused && failed == 0 && accepted_lost == 0, "sent == answered + refused",
          "%lld == %lld + %lld (failed %lld, accepted but lost %lld)", (long long)sent, (long long)answered,
          (long long)refused, (long long)failed, (long long)accepted_lost);
    check(twice == 0 && phantom == 0, "each request handled once", "handled twice %lld, answered unhandled %lld",
          (long long)twice, (long long)phantom);
    check(answered > sent / 2 && next_id < MAX_IDS, "load mostly served", "%lld of %lld answered%s",
          (long long)answered, (long long)sent, next_id < MAX_IDS ? "" : "; the ids ran out");
    check(hostile_failed == 0, "hostile clients handled", "%lld of %lld misbehaved", (long long)hostile_failed,
          (long long)total_hostile());
    check(restarts >= (P.seconds >= 60 ? (int)(P.seconds / 30) : 1) && sh->shutdown_cut == 0, "graceful restarts",
          "%d restarts, %d cut at the deadline", restarts, sh->shutdown_cut);
    check(fail_total == 0, "no client-side failure", "%lld%s%s", (long long)fail_total, fail_total ? ", first: " : "",
          first_fail);
    check(server_exit == 0, "server exited cleanly", "exit status %d", server_exit);
    printf("%d passed, %d failed\n", npass, nfail);
    free(idstate);
    free(idclass);
    free(idquiet);
    munmap(sh, sizeof *sh);
    return nfail ? 1 : 0;
}
