/* poll_poll.c — the portable fallback poller: poll(2), level-triggered, and an
 * eventfd (a self-pipe where there is none) to wake it. Chosen with
 * GN_POLL_POLL=1, and on platforms with neither epoll, kqueue nor IOCP. It
 * keeps the contract at the top of poll_epoll.c.
 *
 * poll() is level-triggered and keeps no state, so the backend keeps it:
 *   - a table of armed pds (pd pointer, its generation at arm time, the fd);
 *     arm adds, disarm removes, both under a lock;
 *   - each gn__netpoll builds its pollfd array from that table: POLLIN (and
 *     POLLRDHUP) for a pd whose rg holds a parked G, WAIT or SPAWN, POLLOUT for
 *     one whose wg holds a G or WAIT. A pd nobody waits on is polled only for
 *     a hang-up (POLLRDHUP, or POLLHUP/POLLERR), and only until one is seen,
 *     so that pd->hup is set for an idle connection as epoll's edge sets it (the
 *     HTTP client reads it to drop a pooled connection the server closed).
 *     Readiness with nobody waiting is never asked for: level-triggered, it
 *     would be reported on every call. READY is left for the next wait, as
 *     epoll's edge leaves it, when readiness comes for a waiter that has gone.
 *   - a G that starts waiting while a poller is blocked changes the set under
 *     it: gn__pd_wait and gn__pd_spawn_on_read call gn__netpoll_interest, which
 *     breaks a blocked poll (a flag is set while one is inside poll(); it and
 *     the waiting slot are ordered by seq_cst fences, so either the poller sees
 *     the new waiter or the waiter sees the flag). The poller then rebuilds.
 *   - disarm breaks a blocked poller too: poll() holds a reference to each file
 *     it waits on, so a socket closed while in a blocked poll's set would not be
 *     released (no FIN to the peer) until that poll returned.
 * Events are checked against the generation recorded at arm time, so a fd
 * closed and reused while a poll was in flight cannot wake the wrong pd.
 *
 * Cost: O(armed fds) per call to build the set, and poll() itself is O(n) in
 * the kernel. That is acceptable for a fallback; use epoll (or kqueue, IOCP)
 * for many thousands of connections. Calls do not overlap: a look (delay 0)
 * while another M is inside gn__netpoll returns nothing at once (that M
 * reports what is ready), a blocking call waits for a look to finish.
 *
 * >>poll-poll                                                                    */
#if GN__POLL_POLL

#include <poll.h>
#include <sys/stat.h>
#if defined(__linux__)
#  include <sys/eventfd.h>
#  define GN__PP_EVENTFD 1
#endif
#if (defined(__linux__) && defined(_GNU_SOURCE)) || defined(__FreeBSD__)
#  define GN__PP_PPOLL 1     /* a timespec timeout: no rounding to whole ms */
#endif
#ifdef POLLRDHUP
#  define GN__PP_RDHUP POLLRDHUP
#else
#  define GN__PP_RDHUP 0
#endif

typedef struct {
    gn__pd  *pd;
    uint32_t gen;                  /* pd->gen when it was armed                  */
    int      fd;
} gn__pp_ent;

static struct {
    uint32_t    lock;              /* the table: ents, slot                      */
    gn__pp_ent *ents;              /* the armed pds, dense                       */
    uint32_t    n, cap;
    uint32_t   *slot;              /* pd id -> index in ents + 1; 0: not armed   */
    uint32_t    nslot;
    uint32_t    poll_lock;         /* one gn__netpoll at a time; owns the scratch */
    struct pollfd *pfds;           /* scratch: [0] is the wake fd                */
    gn__pp_ent *snap;              /* scratch: the entry behind each pfds[i]     */
    uint32_t    pcap;
    /* Bigger scratch, made by arm (under lock) for the poller to take: an fd
     * that cannot get room in the poll set fails to arm with GN_ENOMEM, and
     * the poller never has to allocate, which it could not fail cleanly.       */
    struct pollfd *spare_pfds;
    gn__pp_ent *spare_snap;
    uint32_t    spare_cap;
    int         wakefd[2];         /* read end, write end (one eventfd: the same) */
    uint32_t    wake_pending;      /* atomic: a break is in flight               */
    uint32_t    blocked;           /* atomic: a poller is (about to be) in poll() */
} gn__pp = {0, NULL, 0, 0, NULL, 0, 0, NULL, NULL, 0, NULL, NULL, 0, {-1, -1}, 0, 0};

GN__PRIVATE void gn__netpoll_fini(void) {
    if (gn__pp.wakefd[0] >= 0) gn__sys_close(gn__pp.wakefd[0]);
    if (gn__pp.wakefd[1] >= 0 && gn__pp.wakefd[1] != gn__pp.wakefd[0]) gn__sys_close(gn__pp.wakefd[1]);
    gn__pp.wakefd[0] = gn__pp.wakefd[1] = -1;
    GN_FREE(gn__pp.ents);
    GN_FREE(gn__pp.slot);
    GN_FREE(gn__pp.pfds);
    GN_FREE(gn__pp.snap);
    GN_FREE(gn__pp.spare_pfds);
    GN_FREE(gn__pp.spare_snap);
    gn__pp.spare_pfds = NULL;
    gn__pp.spare_snap = NULL;
    gn__pp.spare_cap = 0;
    gn__pp.ents = gn__pp.snap = NULL;
    gn__pp.slot = NULL;
    gn__pp.pfds = NULL;
    gn__pp.n = gn__pp.cap = gn__pp.nslot = gn__pp.pcap = 0;
}

GN__PRIVATE int gn__netpoll_init(void) {
    gn__pp.n = 0;
    gn__pp.wake_pending = 0;
    gn__pp.blocked = 0;
    /* The first scratch: room for the wake fd and 63 others.                    */
    gn__pp.pcap = 64;
    gn__pp.pfds = (struct pollfd *)GN_MALLOC(gn__pp.pcap * sizeof *gn__pp.pfds);
    gn__pp.snap = (gn__pp_ent *)GN_MALLOC(gn__pp.pcap * sizeof *gn__pp.snap);
    if (!gn__pp.pfds || !gn__pp.snap) {
        GN_FREE(gn__pp.pfds);
        GN_FREE(gn__pp.snap);
        gn__pp.pfds = NULL;
        gn__pp.snap = NULL;
        gn__pp.pcap = 0;
        return GN_ENOMEM;
    }
#if GN__PP_EVENTFD
    int fd = gn__sys_eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return gn__err_from_errno(errno);
    gn__pp.wakefd[0] = gn__pp.wakefd[1] = fd;
#else
    int p[2];
    if (gn__sys_pipe_nb(p) != 0) return gn__err_from_errno(errno);
    gn__pp.wakefd[0] = p[0];
    gn__pp.wakefd[1] = p[1];
#endif
    return 0;
}

GN__PRIVATE void gn__netpoll_break(void) {
    uint32_t z = 0;
    if (!gn__cas(&gn__pp.wake_pending, &z, 1)) return;
    int saved = errno;   /* callable from a coroutine: keep its errno */
#if GN__PP_EVENTFD
    uint64_t one = 1;
#else
    char one = 1;
#endif
    for (;;) {
        ssize_t n = gn__sys_wake_write(gn__pp.wakefd[1], &one, sizeof one);
        if (n == (ssize_t)sizeof one) break;
        if (errno == EINTR) continue;
        /* EAGAIN: full, so a wake-up waits to be read. Any other failure sent
         * none: the next break must not think one is pending.                  */
        if (errno != EAGAIN) gn__store(&gn__pp.wake_pending, 0u);
        break;
    }
    errno = saved;
}

/* Called by a G that has just put itself (WAIT, SPAWN) in rg or wg: a poller
 * blocked on a set built before must look again.                              */
GN__PRIVATE void gn__netpoll_interest(gn__pd *pd) {
    (void)pd;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* the slot's store, then the flag */
    if (__atomic_load_n(&gn__pp.blocked, __ATOMIC_RELAXED)) gn__netpoll_break();
}

/* Not pollable (a regular file, a directory): -EPERM, as epoll says, so the fd
 * is treated as always ready and never polled.                                 */
GN__PRIVATE int gn__netpoll_arm(gn__pd *pd) {
    if (gn__pp.wakefd[0] < 0) return -EBADF;   /* no runtime: as epoll says */
    struct stat st;
    if (fstat(pd->fd, &st) != 0) return gn__err_from_errno(errno);
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) return -EPERM;
    int rc = 0;
    gn__lock(&gn__pp.lock);
    if (pd->id >= gn__pp.nslot) {
        uint32_t ns = gn__pp.nslot ? gn__pp.nslot : 256;
        while (ns <= pd->id) ns *= 2;
        uint32_t *s = (uint32_t *)GN_REALLOC(gn__pp.slot, ns * sizeof *s);
        if (!s) {
            rc = GN_ENOMEM;
            goto out;
        }
        memset(s + gn__pp.nslot, 0, (ns - gn__pp.nslot) * sizeof *s);
        gn__pp.slot = s;
        gn__pp.nslot = ns;
    }
    if (gn__pp.n == gn__pp.cap) {
        uint32_t nc = gn__pp.cap ? gn__pp.cap * 2 : 64;
        gn__pp_ent *e = (gn__pp_ent *)GN_REALLOC(gn__pp.ents, nc * sizeof *e);
        if (!e) {
            rc = GN_ENOMEM;
            goto out;
        }
        gn__pp.ents = e;
        gn__pp.cap = nc;
    }
    if (gn__pp.slot[pd->id]) {   /* armed twice: epoll says EEXIST */
        rc = -EEXIST;
        goto out;
    }
    if (gn__pp.pcap < gn__pp.n + 2 && gn__pp.spare_cap < gn__pp.n + 2) {
        uint32_t nc = gn__pp.pcap ? gn__pp.pcap * 2 : 64;
        while (nc < gn__pp.n + 2) nc *= 2;
        struct pollfd *p = (struct pollfd *)GN_MALLOC(nc * sizeof *p);
        gn__pp_ent *s = p ? (gn__pp_ent *)GN_MALLOC(nc * sizeof *s) : NULL;
        if (!s) {
            GN_FREE(p);
            rc = GN_ENOMEM;
            goto out;
        }
        GN_FREE(gn__pp.spare_pfds);
        GN_FREE(gn__pp.spare_snap);
        gn__pp.spare_pfds = p;
        gn__pp.spare_snap = s;
        gn__pp.spare_cap = nc;
    }
    gn__pp.ents[gn__pp.n].pd = pd;
    gn__pp.ents[gn__pp.n].gen = gn__load(&pd->gen);
    gn__pp.ents[gn__pp.n].fd = pd->fd;
    gn__pp.slot[pd->id] = ++gn__pp.n;
out:
    gn__unlock(&gn__pp.lock);
    return rc;
}

GN__PRIVATE void gn__netpoll_disarm(gn__pd *pd) {
    gn__lock(&gn__pp.lock);
    uint32_t i = pd->id < gn__pp.nslot ? gn__pp.slot[pd->id] : 0;
    if (i && gn__pp.ents[i - 1].pd == pd) {
        gn__pp_ent *last = &gn__pp.ents[--gn__pp.n];
        gn__pp.ents[i - 1] = *last;
        gn__pp.slot[last->pd->id] = i;
        gn__pp.slot[pd->id] = 0;
    }
    gn__unlock(&gn__pp.lock);
    /* A blocked poll() holds a reference to every file in its set: the close
     * that follows would not release the socket (no FIN goes out) until that
     * poll returned, which may be never.                                     */
    if (__atomic_load_n(&gn__pp.blocked, __ATOMIC_SEQ_CST)) gn__netpoll_break();
}

/* The events to ask pd for, or -1 to leave it out.                              */
GN__PRIVATE int gn__pp_events(gn__pd *pd) {
    if (gn__load(&pd->closing)) return -1;
    int ev = 0;
    if (gn__load(&pd->rg) >= GN__PD_WAIT) ev |= POLLIN | GN__PP_RDHUP;   /* WAIT, SPAWN, a G */
    if (gn__load(&pd->wg) >= GN__PD_WAIT) ev |= POLLOUT;
    if (ev) return ev;
    if (gn__load(&pd->hup)) return -1;   /* nobody waits, the hang-up is known   */
    return GN__PP_RDHUP;                 /* watch for a hang-up only             */
}

/* Builds the set in the scratch arrays (under poll_lock): how many entries,
 * the wake fd at 0 included.                                                    */
GN__PRIVATE uint32_t gn__pp_build(void) {
    gn__lock(&gn__pp.lock);
    if (gn__pp.pcap < gn__pp.n + 1) {   /* arm made room: take it */
        GN_FREE(gn__pp.pfds);
        GN_FREE(gn__pp.snap);
        gn__pp.pfds = gn__pp.spare_pfds;
        gn__pp.snap = gn__pp.spare_snap;
        gn__pp.pcap = gn__pp.spare_cap;
        gn__pp.spare_pfds = NULL;
        gn__pp.spare_snap = NULL;
        gn__pp.spare_cap = 0;
    }
    struct pollfd *pf = gn__pp.pfds;
    pf[0].fd = gn__pp.wakefd[0];
    pf[0].events = POLLIN;
    pf[0].revents = 0;
    uint32_t k = 1;
    for (uint32_t i = 0; i < gn__pp.n; i++) {
        gn__pp_ent *e = &gn__pp.ents[i];
        int ev = gn__pp_events(e->pd);
        if (ev < 0) continue;
        pf[k].fd = e->fd;
        pf[k].events = (short)ev;
        pf[k].revents = 0;
        gn__pp.snap[k] = *e;
        k++;
    }
    gn__unlock(&gn__pp.lock);
    return k;
}

GN__PRIVATE int gn__pp_poll(struct pollfd *pf, uint32_t n, int64_t delay) {
    if (delay > GN_HOUR) delay = GN_HOUR;   /* a far timer: wake now and then, re-check */
#if GN__PP_PPOLL
    struct timespec ts, *tsp = NULL;
    if (delay >= 0) {
        ts.tv_sec = (time_t)(delay / GN_SECOND);
        ts.tv_nsec = (long)(delay % GN_SECOND);
        tsp = &ts;
    }
    return gn__sys_ppoll(pf, (nfds_t)n, tsp);
#else
    int ms;
    if (delay < 0) ms = -1;
    else if (delay == 0) ms = 0;
    else ms = (int)((delay + GN_MILLISECOND - 1) / GN_MILLISECOND);   /* never early */
    return gn__sys_poll(pf, (nfds_t)n, ms);
#endif
}

GN__PRIVATE int gn__netpoll(int64_t delay, gn__glist *out) {
    if (delay == 0) {
        if (!gn__trylock(&gn__pp.poll_lock)) return 0;   /* the M inside reports */
    } else {
        gn__lock(&gn__pp.poll_lock);
        /* From here a new waiter breaks us; the set is built after, so a
         * waiter either is in it or sees the flag.                          */
        __atomic_store_n(&gn__pp.blocked, 1u, __ATOMIC_SEQ_CST);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
    uint32_t n = gn__pp_build();
    int before = out->n;
    int r = 0;
    if (n > 1 || delay != 0) r = gn__pp_poll(gn__pp.pfds, n, delay);
    if (delay != 0) gn__store(&gn__pp.blocked, 0u);
    struct pollfd *pf = gn__pp.pfds;
    for (uint32_t i = 0; r > 0 && i < n; i++) {
        short e = pf[i].revents;
        if (!e) continue;
        r--;
        if (i == 0) {
#if GN__PP_EVENTFD
            uint64_t v;
            if (gn__sys_wake_read(gn__pp.wakefd[0], &v, sizeof v) < 0) { /* drained already: fine */ }
#else
            char buf[64];
            while (gn__sys_wake_read(gn__pp.wakefd[0], buf, sizeof buf) > 0) {}
#endif
            gn__store(&gn__pp.wake_pending, 0);
            continue;
        }
        gn__pd *pd = gn__pp.snap[i].pd;
        if (gn__load(&pd->gen) != gn__pp.snap[i].gen) continue;   /* a closed fd's event */
        /* POLLNVAL: the fd was closed behind the runtime's back. Report it as a
         * failure, so a waiter gets EBADF from its call instead of a spin.       */
        int hup = (e & (GN__PP_RDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
        int readable = (e & POLLIN) != 0 || hup;
        int writable = (e & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) != 0;
        gn__pd_ready(pd, readable, writable, hup, out);
    }
    gn__unlock(&gn__pp.poll_lock);
    return out->n - before;
}

#endif /* GN__POLL_POLL */
