/* tests/shim/sys/event.h — a test aid, never part of gonet.h: the subset of
 * kqueue(2) and kevent(2) that src/poll_kqueue.c calls, built on Linux from
 * epoll and eventfd, so that the kqueue backend's own code runs in the Linux
 * test suite unchanged (make test-kqueue puts this directory on the include
 * path). Everything here is static to the including file.
 *
 * What it models:
 *   - EVFILT_READ and EVFILT_WRITE on an fd: EV_ADD, with or without EV_CLEAR
 *     (EV_CLEAR is EPOLLET), and EV_DELETE. Both filters of an fd share its
 *     one epoll registration, so the shim keeps each fd's interest (which
 *     filters, their udata, EV_CLEAR) and rewrites the registration
 *     (EPOLL_CTL_ADD, MOD, DEL) as filters come and go. The two filters of an
 *     fd must agree on EV_CLEAR (EINVAL otherwise): one registration has one
 *     trigger mode.
 *   - EV_EOF: on EVFILT_READ when epoll says EPOLLRDHUP, EPOLLHUP or EPOLLERR;
 *     on EVFILT_WRITE when it says EPOLLHUP or EPOLLERR. After EPOLLERR the
 *     events carry an error in fflags, ECONNRESET for all: the real one waits
 *     in SO_ERROR, and reading it would clear it for the code under test.
 *   - EVFILT_USER with EV_ADD, EV_CLEAR, EV_DELETE and NOTE_TRIGGER, each user
 *     event an eventfd in the epoll set. With EV_CLEAR, collecting the event
 *     resets it.
 *   - udata, returned as given; timeouts as a struct timespec, to the
 *     nanosecond where the kernel has epoll_pwait2 (else whole milliseconds,
 *     rounded up); a NULL timeout blocks.
 *   - a change that fails becomes an EV_ERROR event (data: the errno) when the
 *     event list has room, and then kevent returns at once; without room,
 *     kevent fails with that errno. The BSDs do the same.
 * Not modelled: other filters and flags (EINVAL), the data field (always 0).
 * An event for an fd whose number was closed and registered anew in between
 * is dropped (the registration carries a serial number), as the kernel drops
 * a closed fd's events.
 *
 * Closing. A kqueue's filters go with its descriptor; close() on the epoll fd
 * drops the registrations, but the shim's own state (the interest table, the
 * eventfds) cannot see the close. It is found stale when kqueue() returns
 * the same number again, or when its number is no longer open, and is freed
 * then; its eventfds are kept for the next user events, never closed. So that
 * a test that counts its descriptors around a run sees no difference, the
 * first eventfd is made before main runs, and a run reuses it.
 *
 * Define GN_SHIM_NO_EVFILT_USER to hide EVFILT_USER, as OpenBSD does, so
 * that the backend's pipe wake-up runs instead.                               */
#ifndef GN_TEST_SHIM_SYS_EVENT_H
#define GN_TEST_SHIM_SYS_EVENT_H

#if !defined(__linux__)
#  error "tests/shim/sys/event.h is a Linux stand-in for the real <sys/event.h>"
#endif

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>

struct kevent {
    uintptr_t      ident;    /* an fd, or a user event's number              */
    short          filter;
    unsigned short flags;
    unsigned int   fflags;
    intptr_t       data;
    void          *udata;
};

#define EVFILT_READ   (-1)
#define EVFILT_WRITE  (-2)
#if !defined(GN_SHIM_NO_EVFILT_USER)
#  define EVFILT_USER (-10)
#  define NOTE_TRIGGER 0x01000000u
#endif

#define EV_ADD     0x0001
#define EV_DELETE  0x0002
#define EV_CLEAR   0x0020
#define EV_ERROR   0x4000
#define EV_EOF     0x8000

#define EV_SET(kevp, a, b, c, d, e, f) do {     \
        struct kevent *gn_shim_kev_ = (kevp);   \
        gn_shim_kev_->ident = (uintptr_t)(a);   \
        gn_shim_kev_->filter = (short)(b);      \
        gn_shim_kev_->flags = (unsigned short)(c); \
        gn_shim_kev_->fflags = (unsigned int)(d); \
        gn_shim_kev_->data = (intptr_t)(e);     \
        gn_shim_kev_->udata = (f);              \
    } while (0)

#if defined(__GNUC__) || defined(__clang__)
#  define GN_SHIM_FN static __attribute__((unused))
#else
#  define GN_SHIM_FN static
#endif

/* ---- state --------------------------------------------------------------------*/
#define GN_SHIM_R 1               /* EVFILT_READ registered                       */
#define GN_SHIM_W 2               /* EVFILT_WRITE registered                      */
#define GN_SHIM_USER_TAG (1ull << 63)   /* epoll data of a user event: | index     */
#define GN_SHIM_KQS 8
#define GN_SHIM_USERS 4

typedef struct {
    unsigned char filt;           /* GN_SHIM_R | GN_SHIM_W                        */
    unsigned char clear;          /* the filters' EV_CLEAR (they agree)           */
    uint32_t      serial;         /* of this registration, in its epoll data      */
    void         *udata[2];       /* read, write                                  */
} gn_shim_fd;

typedef struct {
    int       used;
    uintptr_t ident;
    int       efd;                /* its eventfd                                  */
    int       clear;
    void     *udata;
} gn_shim_user;

typedef struct {
    int           used;
    int           epfd;           /* the kqueue's descriptor                      */
    gn_shim_fd   *fds;            /* by fd number                                 */
    int           nfds;
    gn_shim_user  user[GN_SHIM_USERS];
    struct kevent stash;          /* an event that did not fit the last list      */
    int           stashed;
} gn_shim_kq;

static pthread_mutex_t gn_shim_mu = PTHREAD_MUTEX_INITIALIZER;
static gn_shim_kq gn_shim_kqs[GN_SHIM_KQS];
static int gn_shim_spare[GN_SHIM_KQS * GN_SHIM_USERS];   /* eventfds to reuse   */
static int gn_shim_nspare;
static uint32_t gn_shim_serial;

#ifndef GN_SHIM_NO_EVFILT_USER
#if defined(__GNUC__) || defined(__clang__)
__attribute__((constructor, unused)) static void gn_shim_preload(void) {
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd >= 0) gn_shim_spare[gn_shim_nspare++] = efd;
}
#endif
#endif

/* Frees a closed kqueue's state; its eventfds wait for reuse.                   */
GN_SHIM_FN void gn_shim_kq_drop(gn_shim_kq *s) {
    for (int i = 0; i < GN_SHIM_USERS; i++)
        if (s->user[i].used) gn_shim_spare[gn_shim_nspare++] = s->user[i].efd;
    free(s->fds);
    memset(s, 0, sizeof *s);
}

GN_SHIM_FN gn_shim_kq *gn_shim_kq_find(int kq) {
    for (int i = 0; i < GN_SHIM_KQS; i++)
        if (gn_shim_kqs[i].used && gn_shim_kqs[i].epfd == kq) return &gn_shim_kqs[i];
    return NULL;
}

GN_SHIM_FN int kqueue(void) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) return -1;
    pthread_mutex_lock(&gn_shim_mu);
    gn_shim_kq *s = NULL;
    for (int i = 0; i < GN_SHIM_KQS; i++) {
        gn_shim_kq *k = &gn_shim_kqs[i];
        /* This number came free, so the kqueue that had it is closed; so is
         * one whose number is free now.                                      */
        if (k->used && (k->epfd == fd || fcntl(k->epfd, F_GETFD) < 0)) gn_shim_kq_drop(k);
        if (!k->used && !s) s = k;
    }
    if (!s) {
        pthread_mutex_unlock(&gn_shim_mu);
        close(fd);
        errno = EMFILE;
        return -1;
    }
    s->used = 1;
    s->epfd = fd;
    pthread_mutex_unlock(&gn_shim_mu);
    return fd;
}

/* ---- changes ------------------------------------------------------------------*/
GN_SHIM_FN uint32_t gn_shim_fd_events(const gn_shim_fd *e) {
    uint32_t ev = 0;
    if (e->filt & GN_SHIM_R) ev |= EPOLLIN | EPOLLRDHUP;
    if (e->filt & GN_SHIM_W) ev |= EPOLLOUT;
    if (e->clear) ev |= EPOLLET;
    return ev;
}

/* Makes epoll's registration of fd what e says (e->filt 0: none). 0 or errno. */
GN_SHIM_FN int gn_shim_fd_sync(gn_shim_kq *s, int fd, gn_shim_fd *e, int was_registered) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    if (!e->filt) return epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, &ev) == 0 ? 0 : errno;
    if (was_registered) {   /* ENOENT: the fd was closed, epoll forgot it   */
        ev.events = gn_shim_fd_events(e);
        ev.data.u64 = (uint64_t)e->serial << 32 | (uint32_t)fd;
        return epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : errno;
    }
    e->serial = ++gn_shim_serial & 0x7fffffffu;
    ev.events = gn_shim_fd_events(e);
    ev.data.u64 = (uint64_t)e->serial << 32 | (uint32_t)fd;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) == 0) return 0;
    if (errno != EEXIST) return errno;
    return epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : errno;
}

GN_SHIM_FN int gn_shim_change_fd(gn_shim_kq *s, const struct kevent *c) {
    int fd = (int)c->ident;
    unsigned bit = c->filter == EVFILT_READ ? GN_SHIM_R : GN_SHIM_W;
    if (c->flags & ~(EV_ADD | EV_DELETE | EV_CLEAR)) return EINVAL;
    if (!(c->flags & EV_ADD) == !(c->flags & EV_DELETE)) return EINVAL;
    if (fd < 0 || fcntl(fd, F_GETFD) < 0) return EBADF;
    if (fd >= s->nfds) {
        int n = s->nfds ? s->nfds : 64;
        while (n <= fd) n *= 2;
        gn_shim_fd *t = (gn_shim_fd *)realloc(s->fds, (size_t)n * sizeof *t);
        if (!t) return ENOMEM;
        memset(t + s->nfds, 0, (size_t)(n - s->nfds) * sizeof *t);
        s->fds = t;
        s->nfds = n;
    }
    gn_shim_fd *e = &s->fds[fd];
    for (;;) {
        gn_shim_fd want = *e;
        if (c->flags & EV_ADD) {
            int clear = (c->flags & EV_CLEAR) != 0;
            if ((want.filt & ~bit) && want.clear != clear) return EINVAL;
            want.filt |= (unsigned char)bit;
            want.clear = (unsigned char)clear;
            want.udata[bit == GN_SHIM_R ? 0 : 1] = c->udata;
        } else {
            if (!(want.filt & bit)) return ENOENT;
            want.filt &= (unsigned char)~bit;
        }
        int err = gn_shim_fd_sync(s, fd, &want, e->filt != 0);
        if (err == ENOENT && e->filt) {
            /* The number was closed and opened again since it was registered:
             * what the table says is an old file's. Forget it and start over. */
            memset(e, 0, sizeof *e);
            continue;
        }
        if (err) return err;
        *e = want;
        return 0;
    }
}

#ifdef EVFILT_USER
GN_SHIM_FN gn_shim_user *gn_shim_user_find(gn_shim_kq *s, uintptr_t ident) {
    for (int i = 0; i < GN_SHIM_USERS; i++)
        if (s->user[i].used && s->user[i].ident == ident) return &s->user[i];
    return NULL;
}

GN_SHIM_FN int gn_shim_change_user(gn_shim_kq *s, const struct kevent *c) {
    if (c->flags & ~(EV_ADD | EV_DELETE | EV_CLEAR)) return EINVAL;
    if ((c->flags & EV_ADD) && (c->flags & EV_DELETE)) return EINVAL;
    gn_shim_user *u = gn_shim_user_find(s, c->ident);
    if (c->flags & EV_ADD) {
        if (!u) {
            for (int i = 0; i < GN_SHIM_USERS && !u; i++)
                if (!s->user[i].used) u = &s->user[i];
            if (!u) return ENOMEM;
            int efd = gn_shim_nspare ? gn_shim_spare[--gn_shim_nspare]
                                     : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            if (efd < 0) return errno;
            uint64_t v;
            if (read(efd, &v, sizeof v) < 0) { /* not triggered: nothing to reset */ }
            struct epoll_event ev;
            memset(&ev, 0, sizeof ev);
            ev.events = EPOLLIN;   /* level: a triggered event stays until collected */
            ev.data.u64 = GN_SHIM_USER_TAG | (uint64_t)(u - s->user);
            if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, efd, &ev) != 0) {
                int err = errno;
                gn_shim_spare[gn_shim_nspare++] = efd;
                return err;
            }
            u->used = 1;
            u->ident = c->ident;
            u->efd = efd;
        }
        u->clear = (c->flags & EV_CLEAR) != 0;
        u->udata = c->udata;
    } else if (!u) {
        return ENOENT;
    }
    if (c->flags & EV_DELETE) {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        epoll_ctl(s->epfd, EPOLL_CTL_DEL, u->efd, &ev);
        gn_shim_spare[gn_shim_nspare++] = u->efd;
        memset(u, 0, sizeof *u);
        return 0;
    }
    if (c->fflags & NOTE_TRIGGER) {
        uint64_t one = 1;
        while (write(u->efd, &one, sizeof one) < 0 && errno == EINTR) {}
    }
    return 0;
}
#endif

/* ---- waiting ------------------------------------------------------------------*/
GN_SHIM_FN int gn_shim_epoll_wait(int epfd, struct epoll_event *evs, int max, const struct timespec *ts) {
#ifdef SYS_epoll_pwait2
    static int no_pwait2;
    if (ts && !__atomic_load_n(&no_pwait2, __ATOMIC_RELAXED)) {
        long n = syscall(SYS_epoll_pwait2, epfd, evs, max, ts, NULL, 0);
        if (n >= 0 || errno != ENOSYS) return (int)n;
        __atomic_store_n(&no_pwait2, 1, __ATOMIC_RELAXED);
    }
#endif
    int ms = -1;
    if (ts) {
        int64_t ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
        int64_t m = (ns + 999999) / 1000000;
        ms = m > 0x7fffffff ? 0x7fffffff : (int)m;
    }
    return epoll_wait(epfd, evs, max, ms);
}

/* Appends ev to the list, or to the stash when the list is full.               */
GN_SHIM_FN void gn_shim_emit(gn_shim_kq *s, struct kevent *out, int max, int *n, const struct kevent *ev) {
    if (*n < max) out[(*n)++] = *ev;
    else if (!s->stashed) {
        s->stash = *ev;
        s->stashed = 1;
    }
}

/* The kevents one epoll event stands for.                                      */
GN_SHIM_FN void gn_shim_translate(gn_shim_kq *s, const struct epoll_event *ee, struct kevent *out, int max, int *n) {
    uint64_t tag = ee->data.u64;
    uint32_t e = ee->events;
    struct kevent ev;
    memset(&ev, 0, sizeof ev);
    if (tag & GN_SHIM_USER_TAG) {
#ifdef EVFILT_USER
        gn_shim_user *u = &s->user[tag & 0xff];
        if (!u->used) return;
        if (u->clear) {   /* collecting resets it; another caller may have */
            uint64_t v;
            if (read(u->efd, &v, sizeof v) != (ssize_t)sizeof v) return;
        }
        EV_SET(&ev, u->ident, EVFILT_USER, u->clear ? EV_CLEAR : 0, 0, 0, u->udata);
        gn_shim_emit(s, out, max, n, &ev);
#endif
        return;
    }
    int fd = (int)(uint32_t)tag;
    if (fd >= s->nfds) return;
    gn_shim_fd *f = &s->fds[fd];
    if (!f->filt || f->serial != (uint32_t)(tag >> 32)) return;   /* an old registration's */
    unsigned short clear = f->clear ? EV_CLEAR : 0;
    unsigned int err = (e & EPOLLERR) ? ECONNRESET : 0;
    if ((f->filt & GN_SHIM_R) && (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        unsigned short eof = (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ? EV_EOF : 0;
        EV_SET(&ev, fd, EVFILT_READ, clear | eof, err, 0, f->udata[0]);
        gn_shim_emit(s, out, max, n, &ev);
    }
    if ((f->filt & GN_SHIM_W) && (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
        unsigned short eof = (e & (EPOLLHUP | EPOLLERR)) ? EV_EOF : 0;
        EV_SET(&ev, fd, EVFILT_WRITE, clear | eof, err, 0, f->udata[1]);
        gn_shim_emit(s, out, max, n, &ev);
    }
}

GN_SHIM_FN int kevent(int kq, const struct kevent *changes, int nchanges, struct kevent *events, int nevents,
                      const struct timespec *timeout) {
    pthread_mutex_lock(&gn_shim_mu);
    gn_shim_kq *s = gn_shim_kq_find(kq);
    if (!s) {
        pthread_mutex_unlock(&gn_shim_mu);
        errno = EBADF;
        return -1;
    }
    int n = 0;
    for (int i = 0; i < nchanges; i++) {
        const struct kevent *c = &changes[i];
        int err;
        if (c->filter == EVFILT_READ || c->filter == EVFILT_WRITE) err = gn_shim_change_fd(s, c);
#ifdef EVFILT_USER
        else if (c->filter == EVFILT_USER) err = gn_shim_change_user(s, c);
#endif
        else err = EINVAL;
        if (!err) continue;
        if (n < nevents) {
            events[n] = *c;
            events[n].flags = EV_ERROR;
            events[n].data = err;
            n++;
        } else {
            pthread_mutex_unlock(&gn_shim_mu);
            errno = err;
            return -1;
        }
    }
    if (n > 0 || nevents <= 0) {
        pthread_mutex_unlock(&gn_shim_mu);
        return n;
    }
    if (s->stashed) {
        events[n++] = s->stash;
        s->stashed = 0;
    }
    /* Each epoll event may become two kevents: ask for half the room, rounded
     * up, so at most one is left over, and the stash holds it.               */
    struct epoll_event ee[64];
    int max = (nevents - n + 1) / 2;
    if (max > 64) max = 64;
    pthread_mutex_unlock(&gn_shim_mu);
    static const struct timespec zero = {0, 0};
    int got = max > 0 ? gn_shim_epoll_wait(kq, ee, max, n > 0 ? &zero : timeout) : 0;
    if (got < 0) return n > 0 ? n : -1;
    pthread_mutex_lock(&gn_shim_mu);
    s = gn_shim_kq_find(kq);
    for (int i = 0; s && i < got; i++) gn_shim_translate(s, &ee[i], events, nevents, &n);
    pthread_mutex_unlock(&gn_shim_mu);
    return n;
}

#endif /* GN_TEST_SHIM_SYS_EVENT_H */
