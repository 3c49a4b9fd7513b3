/* poll_epoll.c — the poller on Linux: epoll, edge-triggered, and an eventfd to wake it.
 *
 * The poller contract, the same for every backend (after Go's netpoll.go):
 *   gn__netpoll_init()      create the poller; 0 or a negative code.
 *   gn__netpoll_fini()      destroy it (at runtime shutdown).
 *   gn__netpoll_arm(pd)     start watching pd->fd, once, for both directions;
 *                           0 or a negative code.
 *   gn__netpoll_disarm(pd)  stop watching it (before the fd is closed).
 *   gn__netpoll(delay, out) wait for readiness: delay < 0 blocks until an event
 *                           or a break, 0 only looks, > 0 waits at most delay ns
 *                           (rounded up to 1 ms, the poller's grain). Each event
 *                           goes to gn__pd_ready (with hup set when the peer
 *                           hung up or the fd failed); Gs made runnable are
 *                           appended to out; returns how many.
 *   gn__netpoll_break()     make a blocked gn__netpoll return now. Wake-ups that
 *                           arrive while one is pending collapse into one.
 *   gn__netpoll_interest(pd) a G has just started waiting on pd (rg or wg became
 *                           WAIT, or rg SPAWN): a backend whose set is rebuilt
 *                           per call (poll_poll.c) breaks a blocked poller so
 *                           that it looks again; a no-op where the kernel keeps
 *                           the set (epoll, kqueue).
 * Only one M blocks in gn__netpoll at a time (the scheduler sees to that); any
 * thread may call gn__netpoll_break.
 *
 * >>poll-epoll                                                                   */
#if GN__POLL_EPOLL

#include <sys/epoll.h>
#include <sys/eventfd.h>

#define GN__EP_WAKE_TAG UINT64_MAX   /* the eventfd's tag: no pd has this id */

static struct {
    int      epfd;
    int      wakefd;
    uint32_t wake_pending;     /* atomic: a break is in flight, later ones are no-ops */
} gn__ep = {-1, -1, 0};

GN__PRIVATE int gn__netpoll_init(void) {
    gn__ep.epfd = gn__sys_epoll_create();
    if (gn__ep.epfd < 0) return gn__err_from_errno(errno);
    gn__ep.wakefd = gn__sys_eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (gn__ep.wakefd < 0) {
        int err = gn__err_from_errno(errno);
        gn__sys_close(gn__ep.epfd);
        gn__ep.epfd = -1;
        return err;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.u64 = GN__EP_WAKE_TAG;
    if (gn__sys_epoll_ctl(gn__ep.epfd, EPOLL_CTL_ADD, gn__ep.wakefd, &ev) != 0) {
        int err = gn__err_from_errno(errno);
        gn__sys_close(gn__ep.wakefd);
        gn__sys_close(gn__ep.epfd);
        gn__ep.epfd = gn__ep.wakefd = -1;
        return err;
    }
    gn__ep.wake_pending = 0;
    return 0;
}

GN__PRIVATE void gn__netpoll_fini(void) {
    if (gn__ep.wakefd >= 0) gn__sys_close(gn__ep.wakefd);
    if (gn__ep.epfd >= 0) gn__sys_close(gn__ep.epfd);
    gn__ep.epfd = gn__ep.wakefd = -1;
}

/* The kernel keeps the set: nothing to rebuild.                                 */
static inline void gn__netpoll_interest(gn__pd *pd) { (void)pd; }

GN__PRIVATE void gn__netpoll_break(void) {
    uint32_t z = 0;
    if (!gn__cas(&gn__ep.wake_pending, &z, 1)) return;
    uint64_t one = 1;
    int saved = errno;   /* callable from a coroutine: keep its errno */
    for (;;) {
        ssize_t n = gn__sys_wake_write(gn__ep.wakefd, &one, sizeof one);
        if (n == (ssize_t)sizeof one) break;
        if (errno == EINTR) continue;
        /* EAGAIN: the counter is full, so a wake-up waits to be read. Any other
         * failure sent none: the next break must not think one is pending.     */
        if (errno != EAGAIN) gn__store(&gn__ep.wake_pending, 0u);
        break;
    }
    errno = saved;
}

/* epoll_pwait2 (Linux 5.11) takes a timespec; plain epoll_wait only whole
 * milliseconds, which would make every short sleep up to 1 ms late.            */
GN__PRIVATE int gn__epoll_wait_ns(struct epoll_event *evs, int max, int64_t delay) {
    if (delay > GN_HOUR) delay = GN_HOUR;   /* a far timer: wake now and then, re-check */
#ifdef SYS_epoll_pwait2
    static int no_pwait2;
    if (delay > 0 && !gn__load_relaxed(&no_pwait2)) {
        struct timespec ts = {(time_t)(delay / GN_SECOND), (long)(delay % GN_SECOND)};
        long n = gn__sys_epoll_pwait2(gn__ep.epfd, evs, max, &ts);
        if (n >= 0 || errno != ENOSYS) return (int)n;
        gn__store_relaxed(&no_pwait2, 1);
    }
#endif
    int ms;
    if (delay < 0) ms = -1;
    else if (delay == 0) ms = 0;
    else ms = (int)((delay + GN_MILLISECOND - 1) / GN_MILLISECOND);
    return gn__sys_epoll_wait(gn__ep.epfd, evs, max, ms);
}

/* Edge-triggered, both directions at once: an fd costs one epoll_ctl in its
 * life, and a short read or write is enough to know it is drained.             */
GN__PRIVATE int gn__netpoll_arm(gn__pd *pd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = (uint64_t)pd->id << 32 | gn__load(&pd->gen);
    if (gn__sys_epoll_ctl(gn__ep.epfd, EPOLL_CTL_ADD, pd->fd, &ev) != 0) return gn__err_from_errno(errno);
    return 0;
}

GN__PRIVATE void gn__netpoll_disarm(gn__pd *pd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    int saved = errno;
    gn__sys_epoll_ctl(gn__ep.epfd, EPOLL_CTL_DEL, pd->fd, &ev);
    errno = saved;
}

GN__PRIVATE int gn__netpoll(int64_t delay, gn__glist *out) {
    struct epoll_event evs[128];
    int n = gn__epoll_wait_ns(evs, 128, delay);
    int before = out->n;
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == GN__EP_WAKE_TAG) {
            uint64_t v;
            if (gn__sys_wake_read(gn__ep.wakefd, &v, sizeof v) < 0) { /* drained already: fine */ }
            gn__store(&gn__ep.wake_pending, 0);
            continue;
        }
        gn__pd *pd = gn__pd_lookup((uint32_t)(tag >> 32));
        if (!pd || gn__load(&pd->gen) != (uint32_t)tag) continue;   /* a closed fd's event */
        uint32_t e = evs[i].events;
        int readable = (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
        int writable = (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0;
        gn__pd_ready(pd, readable, writable, (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0, out);
    }
    return out->n - before;
}

#endif /* GN__POLL_EPOLL */
