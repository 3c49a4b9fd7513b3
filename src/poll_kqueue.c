/* poll_kqueue.c — the poller on macOS and the BSDs: kqueue, with EV_CLEAR (edge-
 * triggered, like our use of epoll) and EVFILT_USER to wake it; a pipe wakes it
 * where the kernel has no EVFILT_USER (OpenBSD, NetBSD before 10). It keeps the
 * contract at the top of poll_epoll.c. GN_POLL_KQUEUE=1 forces it; make
 * test-kqueue runs it on Linux over tests/shim/sys/event.h.
 *
 * An fd is registered once, both filters in one kevent call. Each filter
 * reports on its own, so one readiness change is one event, where epoll's one
 * event may carry both directions.
 *
 * Hang-ups. EV_EOF on EVFILT_READ says the peer will send nothing more, or the
 * socket failed (fflags then holds the error): what EPOLLRDHUP and EPOLLERR say,
 * so it sets pd->hup. EV_EOF on EVFILT_WRITE only says nothing more can be
 * sent, which our own shutdown(SHUT_WR) causes too while reads go on; it is a
 * hang-up only with an error in fflags. A connection that is gone both ways
 * shows EV_EOF on EVFILT_READ as well.
 *
 * Not registered: regular files and directories. kqueue would take them and
 * call them ready forever; arm answers -EPERM, as epoll does, and their
 * callers treat them as always ready (as Go does on these systems).
 *
 * Stale events: udata carries the pd's id and generation (the id alone on
 * 32-bit systems, where the fd number must match too), as epoll's data does.
 * Closing an fd removes its filters from the kqueue, but events already
 * collected by a kevent call running on another thread may still arrive.
 *
 * >>poll-kqueue                                                                  */
#if GN__POLL_KQUEUE

#include <sys/types.h>
#include <sys/event.h>
#include <sys/time.h>
#include <sys/stat.h>

#if defined(EVFILT_USER)
#  define GN__KQ_USER 1           /* wake with a user event, else with a pipe     */
#endif
#define GN__KQ_WAKE_IDENT 0       /* the user event's ident (not an fd)           */
#define GN__KQ_WAKE_TAG UINTPTR_MAX   /* the wake pipe's udata: no pd has this tag */

static struct {
    int      kq;
    int      wakefd[2];          /* the wake pipe: read end, write end; or -1    */
    uint32_t wake_pending;       /* atomic: a break is in flight, later ones are no-ops */
} gn__kq = {-1, {-1, -1}, 0};

/* udata for pd. EV_SET casts it to whatever the system's udata is (void *, or
 * intptr_t on older NetBSD).                                                   */
GN__PRIVATE void *gn__kq_tag(gn__pd *pd) {
#if UINTPTR_MAX > 0xffffffffu
    return (void *)((uintptr_t)pd->id << 32 | gn__load(&pd->gen));
#else
    return (void *)(uintptr_t)pd->id;
#endif
}

/* The pd an event is for, or NULL when it belongs to an fd closed since.      */
GN__PRIVATE gn__pd *gn__kq_pd(const struct kevent *ev) {
    uintptr_t tag = (uintptr_t)ev->udata;
#if UINTPTR_MAX > 0xffffffffu
    gn__pd *pd = gn__pd_lookup((uint32_t)(tag >> 32));
    if (!pd || gn__load(&pd->gen) != (uint32_t)tag) return NULL;
#else
    gn__pd *pd = gn__pd_lookup((uint32_t)tag);
    if (!pd || (uintptr_t)pd->fd != ev->ident) return NULL;
#endif
    return pd;
}

GN__PRIVATE void gn__netpoll_fini(void) {
    if (gn__kq.wakefd[0] >= 0) close(gn__kq.wakefd[0]);
    if (gn__kq.wakefd[1] >= 0) close(gn__kq.wakefd[1]);
    if (gn__kq.kq >= 0) close(gn__kq.kq);
    gn__kq.kq = gn__kq.wakefd[0] = gn__kq.wakefd[1] = -1;
}

GN__PRIVATE int gn__netpoll_init(void) {
    gn__kq.kq = kqueue();
    if (gn__kq.kq < 0) return gn__err_from_errno(errno);
    /* A fork's child does not inherit a kqueue; an exec'd program must not
     * get the descriptor either.                                             */
    fcntl(gn__kq.kq, F_SETFD, FD_CLOEXEC);
    struct kevent ev;
#if GN__KQ_USER
    EV_SET(&ev, GN__KQ_WAKE_IDENT, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, NULL);
#else
    int p[2];
    if (gn__sys_pipe_nb(p) != 0) {
        int err = gn__err_from_errno(errno);
        gn__netpoll_fini();
        return err;
    }
    gn__kq.wakefd[0] = p[0];
    gn__kq.wakefd[1] = p[1];
    /* Level-triggered: bytes left behind by a short drain report again.       */
    EV_SET(&ev, p[0], EVFILT_READ, EV_ADD, 0, 0, (void *)GN__KQ_WAKE_TAG);
#endif
    if (kevent(gn__kq.kq, &ev, 1, NULL, 0, NULL) != 0) {
        int err = gn__err_from_errno(errno);
        gn__netpoll_fini();
        return err;
    }
    gn__kq.wake_pending = 0;
    return 0;
}

/* The kernel keeps the set: nothing to rebuild.                                 */
static inline void gn__netpoll_interest(gn__pd *pd) { (void)pd; }

GN__PRIVATE void gn__netpoll_break(void) {
    uint32_t z = 0;
    if (!gn__cas(&gn__kq.wake_pending, &z, 1)) return;
    int saved = errno;   /* callable from a coroutine: keep its errno */
#if GN__KQ_USER
    struct kevent ev;
    EV_SET(&ev, GN__KQ_WAKE_IDENT, EVFILT_USER, 0, NOTE_TRIGGER, 0, NULL);
    while (kevent(gn__kq.kq, &ev, 1, NULL, 0, NULL) < 0 && errno == EINTR) {}
#else
    char one = 1;
    while (write(gn__kq.wakefd[1], &one, 1) < 0 && errno == EINTR) {}   /* EAGAIN: full */
#endif
    errno = saved;
}

GN__PRIVATE int gn__netpoll_arm(gn__pd *pd) {
    if (gn__kq.kq < 0) return -EBADF;   /* no runtime: as epoll says */
    struct stat st;
    if (fstat(pd->fd, &st) != 0) return gn__err_from_errno(errno);
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return -EPERM;
    void *tag = gn__kq_tag(pd);
    struct kevent ch[2];
    EV_SET(&ch[0], pd->fd, EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0, tag);
    EV_SET(&ch[1], pd->fd, EVFILT_WRITE, EV_ADD | EV_CLEAR, 0, 0, tag);
    if (kevent(gn__kq.kq, ch, 2, NULL, 0, NULL) != 0) return gn__err_from_errno(errno);
    return 0;
}

/* Closing the fd would remove its filters, but a pd is also disarmed while its
 * fd stays open (the signal pipe), so delete them: one call, as epoll's DEL.  */
GN__PRIVATE void gn__netpoll_disarm(gn__pd *pd) {
    int saved = errno;
    struct kevent ch[2];
    EV_SET(&ch[0], pd->fd, EVFILT_READ, EV_DELETE, 0, 0, NULL);
    EV_SET(&ch[1], pd->fd, EVFILT_WRITE, EV_DELETE, 0, 0, NULL);
    kevent(gn__kq.kq, ch, 2, NULL, 0, NULL);
    errno = saved;
}

/* kevent takes a timespec: a short sleep is not rounded to a millisecond.     */
GN__PRIVATE int gn__netpoll(int64_t delay, gn__glist *out) {
    struct kevent evs[128];
    struct timespec ts, *tsp = NULL;
    if (delay >= 0) {
        if (delay > GN_HOUR) delay = GN_HOUR;   /* a far timer: wake now and then, re-check */
        ts.tv_sec = (time_t)(delay / GN_SECOND);
        ts.tv_nsec = (long)(delay % GN_SECOND);
        tsp = &ts;
    }
    int n = kevent(gn__kq.kq, NULL, 0, evs, 128, tsp);
    int before = out->n;
    for (int i = 0; i < n; i++) {
        const struct kevent *ev = &evs[i];
        if (ev->flags & EV_ERROR) continue;   /* a failed change: none are passed here */
#if GN__KQ_USER
        if (ev->filter == EVFILT_USER) {
            gn__store(&gn__kq.wake_pending, 0);
            continue;
        }
#else
        if ((uintptr_t)ev->udata == GN__KQ_WAKE_TAG) {
            char buf[64];
            while (read(gn__kq.wakefd[0], buf, sizeof buf) > 0) {}
            gn__store(&gn__kq.wake_pending, 0);
            continue;
        }
#endif
        gn__pd *pd = gn__kq_pd(ev);
        if (!pd) continue;
        int eof = (ev->flags & EV_EOF) != 0;
        if (ev->filter == EVFILT_READ) gn__pd_ready(pd, 1, 0, eof, out);
        else if (ev->filter == EVFILT_WRITE) gn__pd_ready(pd, 0, 1, eof && ev->fflags != 0, out);
    }
    return out->n - before;
}

#endif /* GN__POLL_KQUEUE */
