/* test_signal.c — signals on channels (Go's os/signal) with real signals:
 * kill(getpid(), ...) from coroutines and from threads of the test's own,
 * pthread_kill at the thread that called gn_run. Delivery to one channel, to
 * two, two signals on one channel, drops on a full or unbuffered channel,
 * gn_signal_stop (nothing more reaches the channel; the former disposition
 * comes back: checked with sigaction against the handler the program installs
 * first, and in forked children that must die of the default action), gn_signal_ignore and
 * gn_signal_reset, bad arguments and no runtime, a closed channel, calls from
 * a thread outside the runtime, bursts (coalesced: at least one delivered)
 * and spaced signals (none lost), two Ps with a busy scheduler while a thread
 * fires signals, and consecutive runs (the end of a run puts everything back,
 * the next run starts its own watcher).
 *
 * Each test runs a body coroutine under gn_run and fails with the first check
 * the body recorded. Every wait for a signal has a safety deadline, so a lost
 * signal fails a check instead of hanging; "nothing arrived" is shown by a
 * later signal on a probe channel, not by a timeout. Signals are sent to the
 * process: the runtime's threads block asynchronous signals, so raise() from
 * a coroutine would only be caught with one P.
 * On Windows, where signals are console control events (signal_windows.c),
 * the tests at the end send events as the system does, on a thread of their
 * own, and check the mapping, the answers the handler gives and the errors. */
#define GONET_IMPLEMENTATION
#include "../gonet.h"
#include "greatest.h"

#include "test_util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#ifndef _WIN32
#include <sys/wait.h>
#endif
#include <time.h>
#include <unistd.h>

/* ---- recording failures from any coroutine -------------------------------------- */
static char g_fail[1024];
static int g_fail_set;

static int ck_fail(int line, const char *msg) {
    int z = 0;
    if (__atomic_compare_exchange_n(&g_fail_set, &z, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        snprintf(g_fail, sizeof g_fail, "line %d: %s", line, msg);
    return 0;
}
static int ck_(int ok, int line, const char *what) { return ok ? 1 : ck_fail(line, what); }
static int cki_(long long exp, long long got, int line, const char *what) {
    if (exp == got) return 1;
    char msg[512];
    snprintf(msg, sizeof msg, "%s: expected %lld (%s), got %lld (%s)", what, exp,
             exp < 0 ? gn_strerror((int)exp) : "-", got, got < 0 ? gn_strerror((int)got) : "-");
    return ck_fail(line, msg);
}
#define CK(c)         ck_(!!(c), __LINE__, #c)
#define CKI(exp, got) cki_((long long)(exp), (long long)(got), __LINE__, #got)

#define HANG_LIMIT 120
static void on_hang(void) {
    const char *a = "\nHUNG: the runtime of test ", *b = " did not return within the watchdog's limit\n";
    if (write(2, a, strlen(a)) < 0 || write(2, greatest_info.name_buf, strlen(greatest_info.name_buf)) < 0 ||
        write(2, b, strlen(b)) < 0) {
    }
    _exit(3);
}

static enum greatest_test_res run_body(int procs, void (*body)(void *), void *arg) {
    g_fail_set = 0;
    g_fail[0] = 0;
    t_watchdog_arm(HANG_LIMIT, on_hang);
    int rc = run_procs(procs, body, arg);
    t_watchdog_disarm();
    if (rc != 0) {
        snprintf(g_fail, sizeof g_fail, "gn_run returned %d (%s)", rc, gn_strerror(rc));
        FAILm(g_fail);
    }
    if (ALOAD(&g_fail_set)) FAILm(g_fail);
    PASS();
}

/* ---- helpers -------------------------------------------------------------------- */
#define SAFETY (10 * GN_SECOND)   /* no wait for a signal is longer than this */

static gn_chan *sigchan(size_t cap) { return gn_chan_new(sizeof(int), cap); }

/* The next signal number on c, or GN_ETIMEDOUT after timeout.                   */
static int recv_sig(gn_chan *c, int64_t timeout) {
    int v = 0;
    gn_select_case cs = {c, GN_RECV, &v, 0};
    int r = gn_select_until(&cs, 1, gn_now() + timeout);
    if (r < 0) return r;
    return cs.result < 0 ? cs.result : v;
}

#ifndef _WIN32
static void send_self(int sig) {
    if (kill(getpid(), sig) != 0) ck_fail(__LINE__, "kill failed");
}

/* The disposition of sig now: its handler (SIG_DFL, SIG_IGN or a function). */
static void (*disposition(int sig))(int) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigaction(sig, NULL, &sa);
    return sa.sa_handler;
}

/* The disposition the program had before the tests took a signal over: a
 * handler of the test's own for SIGUSR1 and SIGUSR2 (installed by main), so
 * that a signal still in flight when a test gives the signal back does no
 * harm. Forked children put SIG_DFL back to see the default action.          */
static int g_former_calls;
static void former(int sig) {
    (void)sig;
    AADD(&g_former_calls, 1);
}
static void install_former(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = former;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A thread of the test's own that catches the signals instead of the thread
 * that calls gn_run, which blocks them meanwhile.
 * Why ThreadSanitizer needs it with two Ps: it defers an asynchronous signal
 * until the thread that caught it next enters an intercepted function, and an
 * idle M sleeps in a raw futex system call, restarted after the signal
 * (SA_RESTART), so the signal would wait there until other work woke the M.
 * The catcher sleeps in nanosleep, which TSan intercepts as blocking.        */
typedef struct { pthread_t t; int stop; sigset_t set, old; } catcher;
static void *catcher_main(void *arg) {
    catcher *k = (catcher *)arg;
    pthread_sigmask(SIG_UNBLOCK, &k->set, NULL);
    while (!ALOAD(&k->stop)) sleep_ms(1);
    return NULL;
}
static int catcher_start(catcher *k) {
    memset(k, 0, sizeof *k);
    sigemptyset(&k->set);
    sigaddset(&k->set, SIGUSR1);
    sigaddset(&k->set, SIGUSR2);
    sigaddset(&k->set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &k->set, &k->old);
    return pthread_create(&k->t, NULL, catcher_main, k);
}
static void catcher_stop(catcher *k) {
    ASTORE(&k->stop, 1);
    pthread_join(k->t, NULL);
    pthread_sigmask(SIG_SETMASK, &k->old, NULL);
}

static enum greatest_test_res run_caught(int procs, void (*body)(void *), void *arg) {
    catcher k;
    if (catcher_start(&k) != 0) FAILm("pthread_create failed");
    enum greatest_test_res r = run_body(procs, body, arg);
    catcher_stop(&k);
    return r;
}

/* run_body, but under TSan with two Ps the signals go to a catcher (above).  */
static enum greatest_test_res run_sig(int procs, void (*body)(void *), void *arg) {
#if defined(T_TSAN)
    if (procs > 1) return run_caught(procs, body, arg);
#endif
    return run_body(procs, body, arg);
}

/* gn_main for a forked child: one P under TSan (see the catcher).            */
static int child_main(void (*body)(void *)) {
#if defined(T_TSAN)
    return run_procs(1, body, NULL);
#else
    return gn_main(body, NULL);
#endif
}

/* ---- delivery ------------------------------------------------------------------- */
static void one_channel_body(void *arg) {
    (void)arg;
    int f0 = ALOAD(&g_former_calls);
    gn_chan *c = sigchan(4);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CK(disposition(SIGUSR1) != former);
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(c, SAFETY));
    send_self(SIGUSR1);   /* again: the watcher goes on */
    CKI(SIGUSR1, recv_sig(c, SAFETY));
    CKI(0, gn_signal_stop(c));
    CK(disposition(SIGUSR1) == former);
    CKI(f0, ALOAD(&g_former_calls));   /* not called while watched */
    gn_chan_free(c);
}
TEST one_channel(void) { return run_body(1, one_channel_body, NULL); }

static void two_channels_body(void *arg) {
    (void)arg;
    gn_chan *a = sigchan(1), *b = sigchan(1);
    CKI(0, gn_signal_notify(a, SIGUSR1));
    CKI(0, gn_signal_notify(b, SIGUSR1));
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(a, SAFETY));
    CKI(SIGUSR1, recv_sig(b, SAFETY));
    /* Stopping one keeps the signal caught for the other.                     */
    CKI(0, gn_signal_stop(a));
    CK(disposition(SIGUSR1) != former);
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(b, SAFETY));
    CKI(GN_EAGAIN, gn_chan_try_recv(a, NULL));
    CKI(0, gn_signal_stop(b));
    CK(disposition(SIGUSR1) == former);
    gn_chan_free(a);
    gn_chan_free(b);
}
TEST two_channels(void) { return run_body(1, two_channels_body, NULL); }

static void two_signals_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(4);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CKI(0, gn_signal_notify(c, SIGUSR2));
    CKI(0, gn_signal_notify(c, SIGUSR2));   /* twice: no duplicate delivery */
    send_self(SIGUSR2);
    CKI(SIGUSR2, recv_sig(c, SAFETY));
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(c, SAFETY));
    /* Both at once: one each, in some order.                                  */
    send_self(SIGUSR1);
    send_self(SIGUSR2);
    int x = recv_sig(c, SAFETY), y = recv_sig(c, SAFETY);
    CK((x == SIGUSR1 && y == SIGUSR2) || (x == SIGUSR2 && y == SIGUSR1));
    CKI(GN_EAGAIN, gn_chan_try_recv(c, NULL));
    CKI(0, gn_signal_stop(c));
    CK(disposition(SIGUSR1) == former);
    CK(disposition(SIGUSR2) == former);
    gn_chan_free(c);
}
TEST two_signals_one_channel(void) { return run_body(1, two_signals_body, NULL); }

/* c watches first, so each delivery reaches c before the probe.              */
static void full_channel_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(1), *u = sigchan(0), *probe = sigchan(8);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CKI(0, gn_signal_notify(u, SIGUSR1));   /* unbuffered, nobody receiving */
    CKI(0, gn_signal_notify(probe, SIGUSR1));
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(probe, SAFETY));
    CKI(1, gn_chan_len(c));
    send_self(SIGUSR1);   /* c is full: dropped for c, delivered to probe */
    CKI(SIGUSR1, recv_sig(probe, SAFETY));
    CKI(1, gn_chan_len(c));
    CKI(SIGUSR1, recv_sig(c, SAFETY));
    CKI(GN_EAGAIN, gn_chan_try_recv(c, NULL));
    CKI(GN_EAGAIN, gn_chan_try_recv(u, NULL));
    /* Room again: delivered again.                                            */
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(probe, SAFETY));
    CKI(SIGUSR1, recv_sig(c, SAFETY));
    CKI(0, gn_signal_stop(c));
    CKI(0, gn_signal_stop(u));
    CKI(0, gn_signal_stop(probe));
    gn_chan_free(c);
    gn_chan_free(u);
    gn_chan_free(probe);
}
TEST full_channel_drops(void) { return run_body(1, full_channel_body, NULL); }

/* An unbuffered channel gets the signal when a receiver is already waiting.  */
typedef struct { gn_chan *u; int got; gn_chan *done; } ubuf_job;
static void ubuf_receiver(void *arg) {
    ubuf_job *j = (ubuf_job *)arg;
    ASTORE(&j->got, recv_sig(j->u, SAFETY));
    gn_chan_send(j->done, NULL);
}
static void unbuffered_body(void *arg) {
    (void)arg;
    ubuf_job j = {sigchan(0), 0, gn_chan_new(0, 1)};
    CKI(0, gn_signal_notify(j.u, SIGUSR1));
    CK(gn_go(ubuf_receiver, &j) > 0);
    /* Wait until it is parked on the channel (white box: its receive queue). */
    for (int i = 0; i < 10000; i++) {
        gn__lock(&j.u->lock);
        int parked = j.u->recvq.head != NULL;
        gn__unlock(&j.u->lock);
        if (parked) break;
        gn_sleep(GN_MILLISECOND);
    }
    send_self(SIGUSR1);
    CKI(0, gn_chan_recv(j.done, NULL));
    CKI(SIGUSR1, ALOAD(&j.got));
    CKI(0, gn_signal_stop(j.u));
    gn_chan_free(j.u);
    gn_chan_free(j.done);
}
TEST unbuffered_with_receiver(void) { return run_body(1, unbuffered_body, NULL); }

static void closed_channel_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(1), *probe = sigchan(1);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CKI(0, gn_signal_notify(probe, SIGUSR1));
    gn_chan_close(c);
    send_self(SIGUSR1);   /* a send to a closed channel: dropped, no harm */
    CKI(SIGUSR1, recv_sig(probe, SAFETY));
    CKI(GN_ECLOSED, gn_chan_try_recv(c, NULL));
    CKI(0, gn_signal_stop(c));
    CKI(0, gn_signal_stop(probe));
    gn_chan_free(c);
    gn_chan_free(probe);
}
TEST closed_channel(void) { return run_body(1, closed_channel_body, NULL); }

/* One watcher coroutine per run, however many channels and signals.          */
static void one_watcher_body(void *arg) {
    (void)arg;
    gn_chan *a = sigchan(1), *b = sigchan(1);
    int n0 = gn_num_goroutine();
    CKI(0, gn_signal_notify(a, SIGUSR1));
    CKI(n0 + 1, gn_num_goroutine());
    CKI(0, gn_signal_notify(b, SIGUSR2));
    CKI(0, gn_signal_notify(a, SIGHUP));
    CKI(n0 + 1, gn_num_goroutine());
    CKI(0, gn_signal_stop(a));
    CKI(0, gn_signal_stop(b));
    CKI(0, gn_signal_notify(a, SIGUSR1));   /* after stopping everything: the same one */
    CKI(n0 + 1, gn_num_goroutine());
    CKI(0, gn_signal_stop(a));
    gn_chan_free(a);
    gn_chan_free(b);
}
TEST one_watcher_per_run(void) { return run_body(1, one_watcher_body, NULL); }

/* ---- stop, ignore, reset ---------------------------------------------------------- */
static void stop_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(4), *probe = sigchan(4);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CKI(0, gn_signal_notify(c, SIGUSR2));
    CKI(0, gn_signal_notify(probe, SIGUSR1));
    CKI(0, gn_signal_stop(c));
    CK(disposition(SIGUSR1) != former);   /* probe still watches it */
    CK(disposition(SIGUSR2) == former);   /* nobody does            */
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(probe, SAFETY));
    CKI(GN_EAGAIN, gn_chan_try_recv(c, NULL));
    CKI(0, gn_signal_stop(c));               /* again: nothing to do   */
    CKI(0, gn_signal_stop(probe));
    CK(disposition(SIGUSR1) == former);
    /* Watching again after a stop works.                                      */
    CKI(0, gn_signal_notify(c, SIGUSR1));
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(c, SAFETY));
    CKI(0, gn_signal_stop(c));
    gn_chan_free(c);
    gn_chan_free(probe);
}
TEST stop(void) { return run_body(1, stop_body, NULL); }

/* A handler of the program's own comes back after stop and at the end of a run,
 * and is not called while the signal is watched.                              */
static int g_user_calls;
static void user_handler(int sig) {
    (void)sig;
    AADD(&g_user_calls, 1);
}
static void user_handler_body(void *arg) {
    gn_chan *c = (gn_chan *)arg;
    CKI(0, gn_signal_notify(c, SIGUSR2));
    send_self(SIGUSR2);
    CKI(SIGUSR2, recv_sig(c, SAFETY));
    CKI(0, ALOAD(&g_user_calls));
    CKI(0, gn_signal_stop(c));
    CK(disposition(SIGUSR2) == user_handler);
    send_self(SIGUSR2);   /* to the body's thread, handled before kill returns */
    CKI(1, ALOAD(&g_user_calls));
    CKI(0, gn_signal_notify(c, SIGUSR2));   /* and this run ends still watching */
}
TEST user_handler_restored(void) {
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = user_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, &old);
    ASTORE(&g_user_calls, 0);
    gn_chan *c = sigchan(1);
    enum greatest_test_res r = run_body(1, user_handler_body, c);
    gn_chan_free(c);   /* the run is over: watched until its end, freed as it is */
    int after_run = disposition(SIGUSR2) == user_handler;
    kill(getpid(), SIGUSR2);
    int calls = ALOAD(&g_user_calls);
    sigaction(SIGUSR2, &old, NULL);
    if (r != GREATEST_TEST_RES_PASS) return r;
    ASSERTm("the end of the run puts the program's handler back", after_run);
    ASSERT_EQ(2, calls);
    PASS();
}

static void ignore_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(4), *probe = sigchan(4);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CKI(0, gn_signal_notify(probe, SIGUSR2));
    CKI(0, gn_signal_ignore(SIGUSR1));
    CK(disposition(SIGUSR1) == SIG_IGN);
    send_self(SIGUSR1);   /* discarded by the kernel */
    send_self(SIGUSR2);
    CKI(SIGUSR2, recv_sig(probe, SAFETY));
    CKI(GN_EAGAIN, gn_chan_try_recv(c, NULL));
    CKI(0, gn_signal_ignore(SIGUSR1));   /* again: fine */
    /* Notify catches it again.                                                */
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CK(disposition(SIGUSR1) != SIG_IGN && disposition(SIGUSR1) != former);
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(c, SAFETY));
    /* Reset: the former disposition back, and no more deliveries.            */
    CKI(0, gn_signal_reset(SIGUSR1));
    CK(disposition(SIGUSR1) == former);
    CKI(0, gn_signal_reset(SIGUSR1));
    CKI(0, gn_signal_ignore(SIGUSR1));
    CKI(0, gn_signal_reset(SIGUSR1));
    CK(disposition(SIGUSR1) == former);
    /* c's entry went with its last signal: stop is a no-op, probe unaffected. */
    CKI(0, gn_signal_stop(c));
    send_self(SIGUSR2);
    CKI(SIGUSR2, recv_sig(probe, SAFETY));
    /* The end of the run undoes an ignore too (checked by the caller).        */
    CKI(0, gn_signal_ignore(SIGUSR1));
    CKI(0, gn_signal_stop(probe));
    gn_chan_free(c);
    gn_chan_free(probe);
}
TEST ignore_and_reset(void) {
    enum greatest_test_res r = run_body(1, ignore_body, NULL);
    if (r != GREATEST_TEST_RES_PASS) return r;
    ASSERTm("the end of the run undoes gn_signal_ignore", disposition(SIGUSR1) == former);
    PASS();
}

/* ---- forked children: the default action really comes back --------------------- */
static char g_child_msg[1024];

/* Runs fn in a child; returns its wait status (or -1), with what it wrote.   */
static int run_child(void (*fn)(void)) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        signal(SIGUSR1, SIG_DFL);
        signal(SIGUSR2, SIG_DFL);
        close(fds[0]);
        dup2(fds[1], 2);
        close(fds[1]);
        alarm(30);   /* SIGALRM's default action ends a hung child */
        fn();
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
        if (n == sizeof g_child_msg - 1) break;
    }
    g_child_msg[n] = 0;
    close(fds[0]);
    int st;
    while (waitpid(pid, &st, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return st;
}

static enum greatest_test_res expect_death(void (*fn)(void), int sig) {
    int st = run_child(fn);
    if (st == -1) FAILm("fork failed");
    if (WIFSIGNALED(st) && WTERMSIG(st) == sig) PASS();
    static char msg[1400];
    snprintf(msg, sizeof msg, "child: expected death by signal %d; %s %d; it said: %s", sig,
             WIFSIGNALED(st) ? "killed by signal" : "exit status",
             WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), g_child_msg);
    FAILm(msg);
}

static void child_fail(const char *what) {
    fprintf(stderr, "%s", what);
    fflush(stderr);
    _exit(1);
}

/* In the run: notify, stop, then the default action kills the child.         */
static void die_after_stop_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(1);
    if (gn_signal_notify(c, SIGUSR1) != 0) child_fail("notify failed");
    send_self(SIGUSR1);
    if (recv_sig(c, SAFETY) != SIGUSR1) child_fail("not delivered");
    if (gn_signal_stop(c) != 0) child_fail("stop failed");
    send_self(SIGUSR1);   /* the end of the child */
    gn_sleep(5 * GN_SECOND);
    child_fail("survived SIGUSR1 after gn_signal_stop");
}
static void die_after_stop_child(void) { child_main(die_after_stop_body); }
TEST stop_restores_default_action(void) { return expect_death(die_after_stop_child, SIGUSR1); }

/* After a run that ended still watching, the default action is back.        */
static void watch_and_return_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(1);
    if (gn_signal_notify(c, SIGTERM) != 0 || gn_signal_notify(c, SIGUSR1) != 0) child_fail("notify failed");
    send_self(SIGTERM);
    if (recv_sig(c, SAFETY) != SIGTERM) child_fail("not delivered");
}
static void die_after_run_child(void) {
    if (child_main(watch_and_return_body) != 0) child_fail("gn_main failed");
    kill(getpid(), SIGTERM);
    sleep_ms(5000);
    child_fail("survived SIGTERM after the run ended");
}
TEST run_end_restores_default_action(void) { return expect_death(die_after_run_child, SIGTERM); }

/* Ignored, the signal does no harm; reset, it kills.                        */
static void ignore_then_reset_body(void *arg) {
    (void)arg;
    if (gn_signal_ignore(SIGUSR1) != 0) child_fail("ignore failed");
    send_self(SIGUSR1);
    gn_sleep(50 * GN_MILLISECOND);
    if (gn_signal_reset(SIGUSR1) != 0) child_fail("reset failed");
    send_self(SIGUSR1);
    gn_sleep(5 * GN_SECOND);
    child_fail("survived SIGUSR1 after gn_signal_reset");
}
static void ignore_then_reset_child(void) { child_main(ignore_then_reset_body); }
TEST ignore_then_reset_kills(void) { return expect_death(ignore_then_reset_child, SIGUSR1); }

/* A child forked from a process that used signals gets a pipe of its own.  */
static void child_own_pipe_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(1);
    if (gn_signal_notify(c, SIGUSR1) != 0) child_fail("notify failed");
    for (int i = 0; i < 20; i++) {
        send_self(SIGUSR1);
        if (recv_sig(c, SAFETY) != SIGUSR1) child_fail("not delivered in the child");
    }
    gn_signal_stop(c);
    gn_chan_free(c);
}
static void child_own_pipe_child(void) {
    if (child_main(child_own_pipe_body) != 0) child_fail("gn_main failed");
    if (disposition(SIGUSR1) != SIG_DFL) child_fail("not restored");
}
TEST forked_child_has_own_pipe(void) {
    int st = run_child(child_own_pipe_child);
    if (st == -1) FAILm("fork failed");
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) FAILm(g_child_msg[0] ? g_child_msg : "child failed");
    PASS();
}

/* A fork inside a run: the child has no watcher, so what the parent catches
 * gets its former disposition back there; what it ignores stays ignored.   */
static void wait_child(void *arg) {
    int *st = (int *)arg;
    pid_t pid = (pid_t)*st;
    while (waitpid(pid, st, 0) < 0 && errno == EINTR) {
    }
}
static void fork_in_run_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(1);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CKI(0, gn_signal_ignore(SIGUSR2));
    pid_t pid = fork();
    if (pid == 0) {   /* one thread, async-signal-safe calls only */
        struct sigaction a, b;
        sigaction(SIGUSR1, NULL, &a);
        sigaction(SIGUSR2, NULL, &b);
        _exit(a.sa_handler == former && b.sa_handler == SIG_IGN ? 0 : 1);
    }
    if (!CK(pid > 0)) return;
    int st = (int)pid;
    gn_blocking(wait_child, &st);
    CK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* The parent goes on as before.                                           */
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(c, SAFETY));
    CK(disposition(SIGUSR2) == SIG_IGN);
    CKI(0, gn_signal_stop(c));
    CKI(0, gn_signal_reset(SIGUSR2));
    CK(disposition(SIGUSR2) == former);
    gn_chan_free(c);
}
TEST fork_in_run(void) { return run_body(1, fork_in_run_body, NULL); }

/* ---- bad arguments, no runtime, other threads ------------------------------------ */
static const int g_bad[] = {0, -1, 65, 1000, SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL, 32, 33};

static void bad_args_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(1), *wide = gn_chan_new(sizeof(int64_t), 1), *none = gn_chan_new(0, 1);
    for (size_t i = 0; i < sizeof g_bad / sizeof g_bad[0]; i++) {
        CKI(GN_EINVAL, gn_signal_notify(c, g_bad[i]));
        CKI(GN_EINVAL, gn_signal_ignore(g_bad[i]));
        CKI(GN_EINVAL, gn_signal_reset(g_bad[i]));
    }
    CKI(GN_EINVAL, gn_signal_notify(NULL, SIGUSR1));
    CKI(GN_EINVAL, gn_signal_notify(wide, SIGUSR1));
    CKI(GN_EINVAL, gn_signal_notify(none, SIGUSR1));
    CKI(GN_EINVAL, gn_signal_stop(NULL));
    CK(disposition(SIGUSR1) == former);   /* nothing was taken over */
    /* The real-time signals are fine.                                         */
    CKI(0, gn_signal_notify(c, SIGRTMIN));
    CKI(0, gn_signal_notify(c, SIGRTMAX));
    /* (qemu-user cannot send the last real-time signals: the first one.)      */
    send_self(SIGRTMIN);
    CKI(SIGRTMIN, recv_sig(c, SAFETY));
    CKI(0, gn_signal_stop(c));
    gn_chan_free(c);
    gn_chan_free(wide);
    gn_chan_free(none);
}
TEST bad_arguments(void) { return run_body(1, bad_args_body, NULL); }

TEST no_runtime(void) {
    gn_chan *c = sigchan(1);
    ASSERT(c != NULL);
    ASSERT_EQ(GN_ESTATE, gn_signal_notify(c, SIGUSR1));
    ASSERT_EQ(GN_ESTATE, gn_signal_ignore(SIGUSR1));
    ASSERT_EQ(GN_EINVAL, gn_signal_notify(NULL, SIGUSR1));   /* arguments first */
    ASSERT_EQ(GN_EINVAL, gn_signal_notify(c, SIGKILL));
    ASSERT_EQ(0, gn_signal_stop(c));          /* nothing to stop: fine */
    ASSERT_EQ(0, gn_signal_reset(SIGUSR1));
    ASSERT(disposition(SIGUSR1) == former);
    gn_chan_free(c);
    PASS();
}

/* A thread outside the runtime registers and signals; a coroutine receives. */
typedef struct { gn_chan *c; int rc; } outside_job;
static void *outside_thread(void *arg) {
    outside_job *j = (outside_job *)arg;
    j->rc = gn_signal_notify(j->c, SIGUSR1);
    if (j->rc == 0) kill(getpid(), SIGUSR1);
    return NULL;
}
static void join_thread(void *arg) { pthread_join(*(pthread_t *)arg, NULL); }
static void outside_body(void *arg) {
    (void)arg;
    outside_job j = {sigchan(1), 0};
    pthread_t t;
    CKI(0, pthread_create(&t, NULL, outside_thread, &j));
    gn_blocking(join_thread, &t);
    CKI(0, j.rc);
    CKI(SIGUSR1, recv_sig(j.c, SAFETY));
    CKI(0, gn_signal_stop(j.c));
    gn_chan_free(j.c);
}
TEST notify_from_outside_thread(void) { return run_sig(2, outside_body, NULL); }

/* pthread_kill at the thread that called gn_run, from another thread.         */
static pthread_t g_run_thread;
typedef struct { int n; int acked; int stop; } pk_job;
static void *pk_thread(void *arg) {
    pk_job *j = (pk_job *)arg;
    /* Spaced: the next only once the coroutine has received the last.          */
    for (int i = 0; i < j->n; i++) {
        while (ALOAD(&j->acked) != i)
            if (ALOAD(&j->stop)) return NULL; else sleep_ms(1);
        pthread_kill(g_run_thread, SIGUSR1);
    }
    return NULL;
}
static void pthread_kill_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(4);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    pk_job j = {50, 0, 0};
    pthread_t t;
    CKI(0, pthread_create(&t, NULL, pk_thread, &j));
    for (int i = 0; i < j.n; i++) {
        if (!CKI(SIGUSR1, recv_sig(c, SAFETY))) break;
        ASTORE(&j.acked, i + 1);
    }
    ASTORE(&j.stop, 1);
    gn_blocking(join_thread, &t);
    CKI(GN_EAGAIN, gn_chan_try_recv(c, NULL));
    CKI(0, gn_signal_stop(c));
    gn_chan_free(c);
}
TEST pthread_kill_run_thread(void) {
    g_run_thread = pthread_self();
    return run_body(1, pthread_kill_body, NULL);
}
TEST pthread_kill_run_thread_procs2(void) {
#if defined(T_TSAN)
    SKIPm("ThreadSanitizer holds a signal caught in an idle M's futex wait (see the catcher)");
#endif
    g_run_thread = pthread_self();
    return run_body(2, pthread_kill_body, NULL);
}

/* ---- bursts and spacing ------------------------------------------------------------ */
static void burst_body(void *arg) {
    int procs = (int)(intptr_t)arg;
    gn_chan *c = sigchan(64), *probe = sigchan(1);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CKI(0, gn_signal_notify(probe, SIGUSR2));
    for (int i = 0; i < 1000; i++) send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(c, SAFETY));   /* at least one */
    send_self(SIGUSR2);                    /* after every USR1 was dispatched */
    CKI(SIGUSR2, recv_sig(probe, SAFETY));
    int more = 0;
    while (gn_chan_try_recv(c, NULL) == 0) more++;
    /* With one P the sender never lets the watcher run: they all coalesce.    */
    if (procs == 1) CKI(0, more);
    CK(more < 1000);
    CKI(0, gn_signal_stop(c));
    CKI(0, gn_signal_stop(probe));
    gn_chan_free(c);
    gn_chan_free(probe);
}
TEST burst(void) { return run_body(1, burst_body, (void *)(intptr_t)1); }
TEST burst_procs2(void) { return run_sig(2, burst_body, (void *)(intptr_t)2); }

static void spaced_body(void *arg) {
    (void)arg;
    int f0 = ALOAD(&g_former_calls);
    int n = 2000 / g_scale;
    gn_chan *c = sigchan(8);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CKI(0, gn_signal_notify(c, SIGUSR2));
    for (int i = 0; i < n; i++) {
        int sig = i % 3 ? SIGUSR1 : SIGUSR2;
        send_self(sig);
        if (!CKI(sig, recv_sig(c, SAFETY))) break;
    }
    CKI(f0, ALOAD(&g_former_calls));
    CKI(0, gn_signal_stop(c));
    gn_chan_free(c);
}
TEST spaced_none_lost(void) { return run_body(1, spaced_body, NULL); }
TEST spaced_none_lost_procs2(void) { return run_sig(2, spaced_body, NULL); }

/* Two Ps busy with channel ping-pong and sleeps while a thread of the test's
 * fires signals at the process: the scheduler's thread is interrupted
 * anywhere (in a switch, in the poller, in a futex) and nothing breaks.       */
typedef struct { gn_chan *ping, *pong; int rounds; } pp_job;
static gn_waitgroup g_wg;
static void pinger(void *arg) {
    pp_job *j = (pp_job *)arg;
    for (int i = 0; i < j->rounds; i++) {
        int v = i;
        if (gn_chan_send(j->ping, &v) != 0) break;
        if (gn_chan_recv(j->pong, &v) != 0 || !CKI(i + 1, v)) break;
        if (i % 64 == 0) gn_sleep(10 * GN_MICROSECOND);
    }
    gn_chan_close(j->ping);
    gn_waitgroup_done(&g_wg);
}
static void ponger(void *arg) {
    pp_job *j = (pp_job *)arg;
    int v;
    while (gn_chan_recv(j->ping, &v) == 0) {
        v++;
        gn_chan_send(j->pong, &v);
    }
    gn_waitgroup_done(&g_wg);
}
typedef struct { int stop; int sent; } fire_job;
static void *fire_thread(void *arg) {
    fire_job *f = (fire_job *)arg;
    while (!ALOAD(&f->stop)) {
        kill(getpid(), f->sent % 2 ? SIGUSR1 : SIGUSR2);
        AADD(&f->sent, 1);
        if (f->sent % 16 == 0) sleep_ms(1);
    }
    return NULL;
}
static void busy_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(2);
    CKI(0, gn_signal_notify(c, SIGUSR1));
    CKI(0, gn_signal_notify(c, SIGUSR2));
    enum { PAIRS = 4 };
    pp_job jobs[PAIRS];
    gn_waitgroup_add(&g_wg, 2 * PAIRS);
    for (int i = 0; i < PAIRS; i++) {
        jobs[i].ping = gn_chan_new(sizeof(int), 0);
        jobs[i].pong = gn_chan_new(sizeof(int), 0);
        jobs[i].rounds = 20000 / g_scale;
        gn_go(pinger, &jobs[i]);
        gn_go(ponger, &jobs[i]);
    }
    fire_job f = {0, 0};
    pthread_t t;
    CKI(0, pthread_create(&t, NULL, fire_thread, &f));
    int got = 0;
    for (int i = 0; i < 50; i++) {
        int s = recv_sig(c, SAFETY);
        if (!CK(s == SIGUSR1 || s == SIGUSR2)) break;
        got++;
    }
    gn_waitgroup_wait(&g_wg);
    ASTORE(&f.stop, 1);
    gn_blocking(join_thread, &t);
    CKI(50, got);
    CKI(0, gn_signal_stop(c));
    for (int i = 0; i < PAIRS; i++) {
        gn_chan_free(jobs[i].ping);
        gn_chan_free(jobs[i].pong);
    }
    gn_chan_free(c);
}
TEST busy_scheduler_procs2(void) { return run_sig(2, busy_body, NULL); }

/* Caught on a thread of the program's while the gn_run thread blocks them.   */
TEST caught_on_user_thread(void) { return run_caught(2, spaced_body, NULL); }
TEST caught_on_user_thread_busy(void) { return run_caught(2, busy_body, NULL); }

/* ---- consecutive runs -------------------------------------------------------------- */
static gn_chan *g_run_chan;
static void run_a_body(void *arg) {
    (void)arg;
    CKI(0, gn_signal_notify(g_run_chan, SIGUSR1));
    CKI(0, gn_signal_notify(g_run_chan, SIGUSR2));
    send_self(SIGUSR1);
    CKI(SIGUSR1, recv_sig(g_run_chan, SAFETY));
    /* ends still watching, with no stop */
}
static void run_b_body(void *arg) {
    (void)arg;
    int n0 = gn_num_goroutine();
    CKI(0, gn_signal_notify(g_run_chan, SIGUSR2));
    CKI(n0 + 1, gn_num_goroutine());   /* a watcher of this run */
    CK(disposition(SIGUSR1) == former);   /* the last run's watch is gone */
    send_self(SIGUSR2);
    CKI(SIGUSR2, recv_sig(g_run_chan, SAFETY));
    CKI(GN_EAGAIN, gn_chan_try_recv(g_run_chan, NULL));
}
TEST two_runs(void) {
    for (int round = 0; round < 3; round++) {
        g_run_chan = sigchan(2);
        enum greatest_test_res r = run_sig(round % 2 + 1, run_a_body, NULL);
        gn_chan_free(g_run_chan);   /* the run is over: nothing may touch it now */
        if (r != GREATEST_TEST_RES_PASS) return r;
        ASSERT(disposition(SIGUSR1) == former);
        ASSERT(disposition(SIGUSR2) == former);
        g_run_chan = sigchan(2);
        r = run_sig(2 - round % 2, run_b_body, NULL);
        gn_chan_free(g_run_chan);
        if (r != GREATEST_TEST_RES_PASS) return r;
        ASSERT(disposition(SIGUSR2) == former);
    }
    PASS();
}

SUITE(signal_suite) {
    RUN_TEST(one_channel);
    RUN_TEST(two_channels);
    RUN_TEST(two_signals_one_channel);
    RUN_TEST(full_channel_drops);
    RUN_TEST(unbuffered_with_receiver);
    RUN_TEST(closed_channel);
    RUN_TEST(one_watcher_per_run);
    RUN_TEST(stop);
    RUN_TEST(user_handler_restored);
    RUN_TEST(ignore_and_reset);
    RUN_TEST(stop_restores_default_action);
    RUN_TEST(run_end_restores_default_action);
    RUN_TEST(ignore_then_reset_kills);
    RUN_TEST(forked_child_has_own_pipe);
    RUN_TEST(fork_in_run);
    RUN_TEST(bad_arguments);
    RUN_TEST(no_runtime);
    RUN_TEST(notify_from_outside_thread);
    RUN_TEST(pthread_kill_run_thread);
    RUN_TEST(pthread_kill_run_thread_procs2);
    RUN_TEST(burst);
    RUN_TEST(burst_procs2);
    RUN_TEST(spaced_none_lost);
    RUN_TEST(spaced_none_lost_procs2);
    RUN_TEST(busy_scheduler_procs2);
    RUN_TEST(caught_on_user_thread);
    RUN_TEST(caught_on_user_thread_busy);
    RUN_TEST(two_runs);
}

#else /* Windows */

/* Sends a console control event as the system does: on a thread of its own.
 * Returns the handler's answer (TRUE: handled), or -1 when wait is 0 (the
 * thread is left running: after SIGTERM the handler never returns).        */
typedef struct { DWORD event; BOOL answer; } ctrl_job;
static DWORD WINAPI ctrl_thread(LPVOID arg) {
    ctrl_job *j = (ctrl_job *)arg;
    j->answer = gn__sig_console_handler(j->event);
    return 0;
}
static int send_event(DWORD event, int wait) {
    static ctrl_job jobs[64];
    static int njobs;
    ctrl_job *j = &jobs[njobs++ % 64];
    j->event = event;
    j->answer = -1;
    HANDLE t = CreateThread(NULL, 0, ctrl_thread, j, 0, NULL);
    if (!t) return -2;
    if (wait) WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
    return wait ? (int)j->answer : -1;
}
static void send_event_fn(void *arg) {   /* from a coroutine: a blocking call */
    int *ev = (int *)arg;
    ev[1] = send_event((DWORD)ev[0], 1);
}
static int send_event_blocking(DWORD event) {
    int ev[2] = {(int)event, -2};
    gn_blocking(send_event_fn, ev);
    return ev[1];
}

static void ctrl_c_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(4);
    CK(send_event_blocking(CTRL_C_EVENT) == FALSE);   /* not watched: declined */
    CKI(0, gn_signal_notify(c, SIGINT));
    CKI(TRUE, send_event_blocking(CTRL_C_EVENT));
    CKI(SIGINT, recv_sig(c, SAFETY));
    CKI(TRUE, send_event_blocking(CTRL_BREAK_EVENT));   /* Go's mapping too */
    CKI(SIGINT, recv_sig(c, SAFETY));
    CKI(0, gn_signal_stop(c));
    CKI(FALSE, send_event_blocking(CTRL_C_EVENT));
    CKI(GN_EAGAIN, gn_chan_try_recv(c, NULL));
    gn_chan_free(c);
}
TEST ctrl_c_is_sigint(void) { return run_body(2, ctrl_c_body, NULL); }

static void two_channels_body(void *arg) {
    (void)arg;
    gn_chan *a = sigchan(1), *b = sigchan(1), *t = sigchan(1);
    CKI(0, gn_signal_notify(a, SIGINT));
    CKI(0, gn_signal_notify(b, SIGINT));
    CKI(0, gn_signal_notify(t, SIGTERM));
    CKI(TRUE, send_event_blocking(CTRL_C_EVENT));
    CKI(SIGINT, recv_sig(a, SAFETY));
    CKI(SIGINT, recv_sig(b, SAFETY));
    CKI(GN_EAGAIN, gn_chan_try_recv(t, NULL));
    /* A full channel misses the signal; the event is still handled.           */
    CKI(TRUE, send_event_blocking(CTRL_C_EVENT));
    CKI(TRUE, send_event_blocking(CTRL_C_EVENT));
    CKI(SIGINT, recv_sig(a, SAFETY));
    CKI(GN_EAGAIN, gn_chan_try_recv(a, NULL));
    CKI(0, gn_signal_stop(a));
    CKI(0, gn_signal_stop(b));
    CKI(0, gn_signal_stop(t));
    gn_chan_free(a);
    gn_chan_free(b);
    gn_chan_free(t);
}
TEST two_channels(void) { return run_body(1, two_channels_body, NULL); }

/* Close, log-off and shutdown are SIGTERM. The handler then holds the system's
 * thread for good (the process ends when it returns), so it is not waited for. */
static void sigterm_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(1);
    CKI(0, gn_signal_notify(c, SIGTERM));
    send_event(CTRL_SHUTDOWN_EVENT, 0);
    CKI(SIGTERM, recv_sig(c, SAFETY));
    send_event(CTRL_CLOSE_EVENT, 0);
    CKI(SIGTERM, recv_sig(c, SAFETY));
    CKI(0, gn_signal_stop(c));
    gn_chan_free(c);
}
TEST close_and_shutdown_are_sigterm(void) { return run_body(2, sigterm_body, NULL); }

static void ignore_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(1);
    CKI(0, gn_signal_notify(c, SIGINT));
    CKI(0, gn_signal_ignore(SIGINT));
    CKI(TRUE, send_event_blocking(CTRL_C_EVENT));   /* swallowed */
    CKI(GN_EAGAIN, gn_chan_try_recv(c, NULL));
    CKI(0, gn_signal_reset(SIGINT));
    CKI(FALSE, send_event_blocking(CTRL_C_EVENT));  /* the default again */
    CKI(0, gn_signal_notify(c, SIGINT));            /* caught again */
    CKI(TRUE, send_event_blocking(CTRL_C_EVENT));
    CKI(SIGINT, recv_sig(c, SAFETY));
    CKI(0, gn_signal_reset(SIGINT));
    CKI(FALSE, send_event_blocking(CTRL_C_EVENT));
    CKI(0, gn_signal_stop(c));
    gn_chan_free(c);
}
TEST ignore_and_reset(void) { return run_body(1, ignore_body, NULL); }

static void bad_args_body(void *arg) {
    (void)arg;
    gn_chan *c = sigchan(1), *wide = gn_chan_new(sizeof(int64_t), 1);
    CKI(GN_EINVAL, gn_signal_notify(NULL, SIGINT));
    CKI(GN_EINVAL, gn_signal_notify(wide, SIGINT));
    CKI(GN_EINVAL, gn_signal_notify(c, 0));
    CKI(GN_EINVAL, gn_signal_notify(c, 65));
    CKI(GN_EINVAL, gn_signal_notify(c, SIGSEGV));
    CKI(GN_EINVAL, gn_signal_ignore(SIGFPE));
    CKI(GN_ENOSYS, gn_signal_notify(c, 1));    /* SIGHUP's number elsewhere */
    CKI(GN_ENOSYS, gn_signal_notify(c, 10));   /* SIGUSR1's on Linux */
    CKI(GN_ENOSYS, gn_signal_ignore(9));
    CKI(GN_ENOSYS, gn_signal_reset(SIGABRT));
    CKI(GN_EINVAL, gn_signal_stop(NULL));
    gn_chan_free(c);
    gn_chan_free(wide);
}
TEST bad_arguments(void) { return run_body(1, bad_args_body, NULL); }

TEST no_runtime(void) {
    gn_chan *c = sigchan(1);
    ASSERT(c != NULL);
    ASSERT_EQ(GN_ESTATE, gn_signal_notify(c, SIGINT));
    ASSERT_EQ(GN_ESTATE, gn_signal_ignore(SIGTERM));
    ASSERT_EQ(GN_EINVAL, gn_signal_notify(NULL, SIGINT));   /* arguments first */
    ASSERT_EQ(0, gn_signal_stop(c));
    ASSERT_EQ(0, gn_signal_reset(SIGINT));
    gn_chan_free(c);
    PASS();
}

/* A thread outside the runtime registers; a coroutine receives. The end of the
 * run forgets the watcher: an event after it is declined.                     */
typedef struct { gn_chan *c; int rc; } outside_job;
static void *outside_thread(void *arg) {
    outside_job *j = (outside_job *)arg;
    j->rc = gn_signal_notify(j->c, SIGINT);
    return NULL;
}
static void join_thread(void *arg) { pthread_join(*(pthread_t *)arg, NULL); }
static void outside_body(void *arg) {
    gn_chan **out = (gn_chan **)arg;
    outside_job j = {sigchan(1), -1};
    pthread_t t;
    CKI(0, pthread_create(&t, NULL, outside_thread, &j));
    gn_blocking(join_thread, &t);
    CKI(0, j.rc);
    CKI(TRUE, send_event_blocking(CTRL_C_EVENT));
    CKI(SIGINT, recv_sig(j.c, SAFETY));
    CKI(0, gn_signal_ignore(SIGTERM));   /* left set: the run's end resets it */
    *out = j.c;                          /* still watched when the run ends */
}
TEST outside_thread_and_run_end(void) {
    gn_chan *c = NULL;
    enum greatest_test_res r = run_body(2, outside_body, &c);
    if (r != GREATEST_TEST_RES_PASS) return r;
    ASSERT_EQ(FALSE, send_event(CTRL_C_EVENT, 1));
    ASSERT_EQ(FALSE, send_event(CTRL_LOGOFF_EVENT, 1));
    ASSERT_EQ(0, (int)gn_chan_len(c));
    gn_chan_free(c);
    PASS();
}

SUITE(signal_suite) {
    RUN_TEST(ctrl_c_is_sigint);
    RUN_TEST(two_channels);
    RUN_TEST(close_and_shutdown_are_sigterm);
    RUN_TEST(ignore_and_reset);
    RUN_TEST(bad_arguments);
    RUN_TEST(no_runtime);
    RUN_TEST(outside_thread_and_run_end);
}
#endif /* _WIN32 */

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    set_scale();
#ifndef _WIN32
    install_former();
#endif
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(signal_suite);
    GREATEST_MAIN_END();
}
