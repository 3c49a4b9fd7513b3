/* signal.c — signals on channels (Go's os/signal): a handler that only marks
 * the signal pending and pokes a pipe, and a coroutine that delivers.
 *
 * The handler (gn__sig_handler, installed with SA_RESTART | SA_ONSTACK) is
 * async-signal-safe: it sets the signal's bit in an atomic pending mask and,
 * when the bit was clear, writes one byte to a non-blocking pipe; errno is
 * kept. A byte per newly pending bit bounds what the pipe ever holds (well
 * under its size), and repeats of a pending signal coalesce, as in Go.
 *
 * The watcher, a coroutine started by the first gn_signal_notify of a run,
 * reads the pipe through a poll descriptor of its own (the pd layer directly:
 * it needs neither a gn_conn's locks nor its close protocol), then takes the
 * pending mask with one exchange and sends each signal to the channels that
 * watch it with gn_chan_try_send. Draining before the exchange means no
 * signal is lost: a bit set after the exchange wrote a byte the next read
 * sees, at worst causing one wake-up with nothing to do.
 *
 * The table of watchers and the dispositions are under one lock, which the
 * watcher also holds while it sends: so once gn_signal_stop(c) has returned,
 * no send to c is in flight and c may be freed.
 *
 * Rejected: signalfd (the signal must be blocked in every thread of the
 * process, the user's too, or it is delivered the old way); sigwait on a
 * dedicated thread (the same blocking problem, plus a thread); a handler that
 * sends on the channel (not async-signal-safe: channels take locks).
 *
 * Runs end. gn__signal_teardown, called from gn__teardown once every M has
 * stopped, puts back every disposition this file changed and forgets the
 * watchers and the watcher's pd (the pd table and the poller go with the run;
 * the watcher coroutine is discarded like any other). The pipe stays open for
 * the life of the process, as Go's does: closing it could race a handler
 * still running on a thread of the user's, whose write could then land in a
 * descriptor that reused the number. A forked child makes a pipe of its own
 * (sharing the parent's would let one process eat the other's wake-ups) and
 * leaves the inherited ends alone, since it may have reused their numbers.
 * Forking also resets, in the child, what exec would: a signal caught for
 * channels gets its former disposition back (the child has no watcher, and
 * would swallow it), an ignored one stays ignored (pthread_atfork).
 *
 * >>signal                                                                        */
#if GN__OS_POSIX   /* Windows: signal_windows.c */

static struct {   /* under gn__sigt.lock, down to pd (see signal_table.c)          */
    unsigned char    state[GN__SIG_MAX + 1];    /* GN__SIG_*                         */
    struct sigaction saved[GN__SIG_MAX + 1];    /* what we replaced, while state != 0 */
    gn__pd          *pd;           /* the watcher's, while it exists in this run    */
    int              rfd;          /* the pipe, for the life of the process          */
    pid_t            pipe_pid;     /* whose pipe it is (0: none yet)                 */
    int              atfork;       /* the fork handler is registered                 */
    int              wfd;          /* atomic: read by the handler                   */
    uint32_t         pending[GN__SIG_WORDS];   /* atomic: caught, not yet delivered  */
} gn__sig;

/* 1 if signo may be watched or ignored (see api_signal.h for why not).       */
GN__PRIVATE int gn__sig_valid(int s) {
    if (s < 1 || s > GN__SIG_MAX) return 0;
    switch (s) {
    case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL:
        return 0;
    default:
        break;
    }
#if defined(SIGRTMIN) && defined(SIGRTMAX)
    if (s > 31 && (s < SIGRTMIN || s > SIGRTMAX)) return 0;   /* the C library's own */
#else
    if (s > 31) return 0;   /* no real-time signals; OpenBSD's 32 is SIGTHR    */
#endif
    return 1;
}

GN__PRIVATE void gn__sig_handler(int sig) {
    int saved = errno;
    uint32_t bit = GN__SIG_BIT(sig);
    uint32_t old = gn__or_seq(&gn__sig.pending[GN__SIG_WORD(sig)], bit);
    if (!(old & bit)) {
        char b = (char)sig;
        if (write(gn__load_relaxed(&gn__sig.wfd), &b, 1) < 0) { /* full: a wake-up is pending */ }
    }
    errno = saved;
}

/* ---- delivering ------------------------------------------------------------------ */
GN__PRIVATE void gn__sig_dispatch(void) {
    uint32_t got[GN__SIG_WORDS], any = 0;
    for (int i = 0; i < GN__SIG_WORDS; i++) any |= got[i] = gn__xchg(&gn__sig.pending[i], 0u);
    if (!any) return;
    gn__lock(&gn__sigt.lock);
    for (int s = 1; s <= GN__SIG_MAX; s++)
        if (got[GN__SIG_WORD(s)] & GN__SIG_BIT(s)) gn__sig_send(s);
    gn__unlock(&gn__sigt.lock);
}

GN__PRIVATE void gn__sig_drain(int fd) {
    char buf[128];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        return;   /* EAGAIN: empty (0, the write end closed, cannot happen)     */
    }
}

GN__PRIVATE void gn__sig_watcher(void *arg) {
    gn__pd *pd = (gn__pd *)arg;
    for (;;) {
        gn__sig_drain(pd->fd);   /* empty the pipe first, then look: see the top */
        gn__sig_dispatch();
        if (gn__pd_wait(pd, 'r') == GN_ECLOSED) return;   /* never evicted, in fact */
    }
}

GN__PRIVATE void gn__sig_restore(int s);

/* In the child of a fork, which has only the forking thread (whose state the
 * lock may be left in): what exec would do. Async-signal-safe.               */
GN__PRIVATE void gn__sig_atfork_child(void) {
    gn__sigt.lock = 0;
    for (int s = 1; s <= GN__SIG_MAX; s++)
        if (gn__sig.state[s] == GN__SIG_CATCH) gn__sig_restore(s);
    gn__sigt.nw = 0;       /* the table's memory is the parent's copy: kept, reused */
    gn__sig.pd = NULL;     /* a run, if any, does not go on in the child            */
}

/* Under the lock: the pipe, then the watcher of this run. 0 or an error.      */
GN__PRIVATE int gn__sig_start(void) {
    if (gn__sig.pd) return 0;
    if (!gn__sig.atfork) {
        int rc = pthread_atfork(NULL, NULL, gn__sig_atfork_child);
        if (rc != 0) return gn__err_from_errno(rc);
        gn__sig.atfork = 1;
    }
    pid_t pid = getpid();
    if (gn__sig.pipe_pid != pid) {
        int p[2];
        if (gn__sys_pipe_nb(p) != 0) return gn__err_from_errno(errno);
        gn__sig.rfd = p[0];
        gn__store(&gn__sig.wfd, p[1]);
        gn__sig.pipe_pid = pid;
    }
    /* Left over from an earlier run: a handler that was still running as it ended. */
    gn__sig_drain(gn__sig.rfd);
    for (int i = 0; i < GN__SIG_WORDS; i++) gn__store(&gn__sig.pending[i], 0u);
    gn__pd *pd = gn__pd_alloc();
    if (!pd) return GN_ENOMEM;
    pd->fd = gn__sig.rfd;
    int rc = gn__netpoll_arm(pd);
    if (rc < 0) {
        gn__pd_release(pd);
        return rc;
    }
    int64_t id = gn_go(gn__sig_watcher, pd);
    if (id < 0) {
        gn__netpoll_disarm(pd);
        gn__pd_retire(pd);
        gn__pd_release(pd);
        return (int)id;
    }
    gn__sig.pd = pd;
    return 0;
}

/* ---- the dispositions (under gn__sigt.lock; the table is signal_table.c's) ---------- */
/* Sets signo's disposition to handler (ours or SIG_IGN), keeping the one it
 * replaces the first time. 0 or -errno.                                      */
GN__PRIVATE int gn__sig_take(int s, void (*handler)(int), int state) {
    if (gn__sig.state[s] == state) return 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = handler == SIG_IGN ? 0 : SA_RESTART | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(s, &sa, gn__sig.state[s] == GN__SIG_DEFAULT ? &gn__sig.saved[s] : NULL) != 0)
        return gn__err_from_errno(errno);
    gn__sig.state[s] = (unsigned char)state;
    return 0;
}

/* Puts back the disposition signo had before we took it.                     */
GN__PRIVATE void gn__sig_restore(int s) {
    if (gn__sig.state[s] == GN__SIG_DEFAULT) return;
    sigaction(s, &gn__sig.saved[s], NULL);
    gn__sig.state[s] = GN__SIG_DEFAULT;
}

/* ---- the API ---------------------------------------------------------------------- */
GONET_API int gn_signal_notify(gn_chan *c, int signo) {
    if (!c || c->elem_size != sizeof(int) || !gn__sig_valid(signo)) return GN_EINVAL;
    int outside;
    if (!gn__sig_enter(&outside)) return GN_ESTATE;
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    int rc = gn__sig_start();
    int fresh = rc == 0 && gn__sig_find(c) < 0;
    if (rc == 0) rc = gn__sig_watch(c, signo);
    if (rc == 0 && (rc = gn__sig_take(signo, gn__sig_handler, GN__SIG_CATCH)) < 0) {
        int i = gn__sig_find(c);   /* cannot happen for a valid signal; undo anyway */
        gn__sigt.w[i].want[GN__SIG_WORD(signo)] &= ~GN__SIG_BIT(signo);
        if (fresh) gn__sig_remove_at(i);
    }
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    if (outside) gn__outside_exit();
    return rc;
}

GONET_API int gn_signal_stop(gn_chan *c) {
    if (!c) return GN_EINVAL;
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    int i = gn__sig_find(c);
    if (i >= 0) {
        uint32_t want[GN__SIG_WORDS];
        memcpy(want, gn__sigt.w[i].want, sizeof want);
        gn__sig_remove_at(i);
        for (int s = 1; s <= GN__SIG_MAX; s++)
            if ((want[GN__SIG_WORD(s)] & GN__SIG_BIT(s)) && gn__sig.state[s] == GN__SIG_CATCH &&
                !gn__sig_watched(s))
                gn__sig_restore(s);
    }
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    return 0;
}

GONET_API int gn_signal_ignore(int signo) {
    if (!gn__sig_valid(signo)) return GN_EINVAL;
    int outside;
    if (!gn__sig_enter(&outside)) return GN_ESTATE;
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    gn__sig_unwatch_all(signo);
    int rc = gn__sig_take(signo, SIG_IGN, GN__SIG_IGNORE);
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    if (outside) gn__outside_exit();
    return rc;
}

GONET_API int gn_signal_reset(int signo) {
    if (!gn__sig_valid(signo)) return GN_EINVAL;
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    gn__sig_unwatch_all(signo);
    gn__sig_restore(signo);
    gn__unlock(&gn__sigt.lock);
    errno = saved;
    return 0;
}

/* The run is over (sched.c's gn__teardown, every M stopped, the poller still
 * open): dispositions back, watchers forgotten, the watcher's pd let go.      */
GN__PRIVATE void gn__signal_teardown(void) {
    int saved = errno;
    gn__lock(&gn__sigt.lock);
    for (int s = 1; s <= GN__SIG_MAX; s++) gn__sig_restore(s);
    gn__sig_forget_all();
    if (gn__sig.pd) {
        gn__netpoll_disarm(gn__sig.pd);
        gn__sig.pd = NULL;   /* its memory goes with the pd table               */
    }
    for (int i = 0; i < GN__SIG_WORDS; i++) gn__store(&gn__sig.pending[i], 0u);
    gn__unlock(&gn__sigt.lock);
    errno = saved;
}

#endif /* GN__OS_POSIX */
