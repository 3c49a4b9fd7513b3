/* net_posix.c — socket I/O over readiness (epoll, kqueue, poll()): the part of
 * net.c that differs by OS, for POSIX systems. net.c holds the rest (addresses,
 * resolution, the API) and calls what this file defines:
 *   gn__sock, gn__iov, struct gn__fd    the descriptor, a scatter/gather entry
 *   gn__fd_init / gn__fd_destroy        wrap and register / unregister and close
 *   gn__fd_check                        why an operation cannot start, or 0
 *   gn__fd_read / write / writev        one reader, one writer (net.c serialises)
 *   gn__fd_accept / gn__fd_connect      one accepted socket / a connect to its end
 *   gn__fd_recvfrom / gn__fd_sendto     datagrams
 *   gn__fd_park_idle / park_new / watch / unwatch / hung_up
 *                                       a connection without a coroutine
 *   gn__fd_cut                          end both directions now, waking I/O on it
 *   gn__socket, gn__sock_close, gn__sock_error, gn__sock_listen_opts,
 *   gn__sock_keepalive, gn__sock_group, gn__sock_unlink, gn__conn_wrap_os
 *
 * Every descriptor is non-blocking and registered with the poller once. An
 * operation tries the system call first and parks on the pd only when it would
 * block (EAGAIN), so a busy connection costs one read and one write per
 * request. A short read means the socket was drained; the next read then waits
 * for readiness instead of spending a system call on EAGAIN.
 *
 * >>net-posix                                                                    */
#if !GN__POLL_IOCP

#include <netdb.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/uio.h>
#if !GN__OS_LINUX
#  include <ifaddrs.h>
#endif

/* ---- what differs by OS ------------------------------------------------------------
 * Gathered here, so that the functions below read the same on every system.
 *
 * New descriptors. Linux and the BSDs make a socket (socket, accept4)
 * non-blocking and close-on-exec in the same call, and MSG_NOSIGNAL turns a
 * write to a gone peer into EPIPE instead of SIGPIPE. macOS has none of the
 * three: gn__sock_setup sets the flags with fcntl after the call and marks
 * the socket SO_NOSIGPIPE, which does for every write what MSG_NOSIGNAL does
 * for one. Between socket() and fcntl, a fork on another thread hands the
 * descriptor to the child (Go closes that window with a fork lock, which C
 * code at large does not take); a child that then execs keeps it open.      */
#if GN__OS_DARWIN
#  define GN__SOCK_NEWFL   0
#  define GN__MSG_NOSIGNAL 0
#else
#  define GN__SOCK_NEWFL   (SOCK_NONBLOCK | SOCK_CLOEXEC)
#  define GN__MSG_NOSIGNAL MSG_NOSIGNAL
#endif

/* Marks socket fd never to raise SIGPIPE, where writes cannot say so
 * themselves (macOS): ours, and those handed in by gn_conn_from_fd. 0, or -1
 * and errno.                                                                  */
static inline int gn__sock_nosigpipe(int fd) {
#if GN__OS_DARWIN
    int one = 1;
    return gn__sys_setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#else
    (void)fd;
    return 0;
#endif
}

/* What GN__SOCK_NEWFL could not say, for a socket just made or accepted.    */
static inline int gn__sock_setup(int fd) {
#if GN__OS_DARWIN
    if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) return -1;
#endif
    return gn__sock_nosigpipe(fd);
}

/* One connection from listener fd lfd, set up like gn__socket's: its fd, or -1
 * and errno. A connection that cannot be set up is lost to us as if the peer
 * had aborted it (macOS refuses options on a socket already reset), and is
 * reported so: the accept loop moves on to the next.                          */
static inline int gn__sock_accept(int lfd) {
#if GN__OS_DARWIN
    int fd = gn__sys_accept(lfd);
    if (fd >= 0 && gn__sock_setup(fd) != 0) {
        gn__sys_close(fd);
        errno = ECONNABORTED;
        return -1;
    }
    return fd;
#else
    return gn__sys_accept4(lfd, GN__SOCK_NEWFL);
#endif
}

/* The most buffers one writev or sendmsg takes. IOV_MAX is 1024 on each of
 * these systems, but a strict feature-test setting hides it on some.        */
#if defined(IOV_MAX)
#  define GN__IOV_MAX IOV_MAX
#else
#  define GN__IOV_MAX 1024
#endif

/* Keep-alive timing. macOS spells the idle time TCP_KEEPALIVE; OpenBSD has no
 * per-socket timing at all (only the system-wide sysctls net.inet.tcp.keepidle
 * and keepintvl), so there SO_KEEPALIVE is all gn_set_keepalive sets.        */
#if defined(TCP_KEEPIDLE)
#  define GN__TCP_KEEPIDLE TCP_KEEPIDLE
#elif defined(TCP_KEEPALIVE)
#  define GN__TCP_KEEPIDLE TCP_KEEPALIVE
#endif

/* Several listeners on one port. Linux spreads new connections over them;
 * FreeBSD does so only with SO_REUSEPORT_LB (12.0 on), so that is what we ask
 * for there; DragonFly spreads them or not by a system-wide setting. macOS,
 * OpenBSD and NetBSD let the listeners share the port but hand every
 * connection to one of them: there several listeners do not share the load. */
#if defined(SO_REUSEPORT_LB)
#  define GN__SO_REUSEPORT SO_REUSEPORT_LB
#else
#  define GN__SO_REUSEPORT SO_REUSEPORT
#endif

/* OpenBSD and DragonFly refuse IPV6_V6ONLY=0: an IPv6 socket never carries
 * IPv4. For ":port" over "tcp" or "udp", Go then takes the IPv4 wildcard
 * alone, and net.c does the same (it puts IPv4 first).                       */
#if defined(__OpenBSD__) || defined(__DragonFly__)
#  define GN__NO_V4MAPPED 1
#endif

/* Joins or leaves IPv4 group a4 on interface ifname (index ifindex; NULL, 0:
 * the system's choice). Linux takes the index in an ip_mreqn; macOS and
 * FreeBSD (and any system with RFC 3678's calls) in a group_req; OpenBSD and
 * NetBSD only in the older ip_mreq, by one of the interface's IPv4 addresses,
 * as Go does there. 0 or an error.                                           */
GN__PRIVATE int gn__sock_group4(int fd, struct in_addr a4, const char *ifname, unsigned ifindex, int join) {
    int rc;
#if GN__OS_LINUX
    (void)ifname;
    struct ip_mreqn m;
    memset(&m, 0, sizeof m);
    m.imr_multiaddr = a4;
    m.imr_ifindex = (int)ifindex;
    rc = gn__sys_setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m);
#elif defined(MCAST_JOIN_GROUP)
    (void)ifname;
    struct group_req g;
    memset(&g, 0, sizeof g);
    g.gr_interface = ifindex;
    struct sockaddr_in *sin = (struct sockaddr_in *)&g.gr_group;
    sin->sin_family = AF_INET;
    sin->sin_len = sizeof *sin;   /* a BSD sockaddr carries its length        */
    sin->sin_addr = a4;
    rc = gn__sys_setsockopt(fd, IPPROTO_IP, join ? MCAST_JOIN_GROUP : MCAST_LEAVE_GROUP, &g, sizeof g);
#else
    (void)ifindex;
    struct ip_mreq m;
    memset(&m, 0, sizeof m);
    m.imr_multiaddr = a4;
    m.imr_interface.s_addr = htonl(INADDR_ANY);
    if (ifname) {
        struct ifaddrs *list, *ifa;
        if (getifaddrs(&list) != 0) return gn__err_from_errno(errno);
        int found = 0;
        for (ifa = list; ifa && !found; ifa = ifa->ifa_next) {
            if (ifa->ifa_addr && ifa->ifa_addr->sa_family == AF_INET && strcmp(ifa->ifa_name, ifname) == 0) {
                m.imr_interface = ((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
                found = 1;
            }
        }
        freeifaddrs(list);
        if (!found) return -EADDRNOTAVAIL;   /* an interface without IPv4 */
    }
    rc = gn__sys_setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m);
#endif
    return rc == 0 ? 0 : gn__err_from_errno(errno);
}

typedef int gn__sock;
#define GN__SOCK_INVALID (-1)
/* A buffer of a gathered write: struct iovec itself, so writev takes it as is. */
typedef struct iovec gn__iov;
GN__PRIVATE gn__iov *gn__iov_advance(gn__iov *iov, int *n, size_t done);   /* net.c */

typedef struct gn__fd {
    gn__sock  fd;
    int       family, type;         /* AF_*, SOCK_STREAM / SOCK_DGRAM              */
    int       is_socket;
    gn__pd   *pd;                   /* NULL: not pollable (a regular file)         */
    uint32_t  refs;                 /* atomic: the owner's + one per operation     */
    uint32_t  closed;               /* atomic                                       */
    uint32_t  drained;              /* atomic: the last read was short             */
    gn_mutex  rmu, wmu;             /* one reader, one writer at a time             */
    void    (*on_close)(void *);    /* atomic: called by the first close (the HTTP
                                     * server tracks hijacked connections so)      */
    void     *on_close_arg;
    uint32_t  on_close_taken;       /* atomic: whoever sets it to 1 calls on_close */
} gn__fd;

/* The error of the socket call that just failed, as a return code.              */
GN__PRIVATE int gn__sock_error(void) { return gn__err_from_errno(errno); }

GN__PRIVATE void gn__sock_close(gn__sock s) {
    int saved = errno;
    gn__sys_close(s);
    errno = saved;
}

/* ---- the fd core ------------------------------------------------------------------ */
GN__PRIVATE int gn__fd_init(gn__fd *f, gn__sock fd, int family, int type) {
    memset(f, 0, sizeof *f);
    f->fd = fd;
    f->family = family;
    f->type = type;
    f->refs = 1;
    int st = 0;
    socklen_t len = sizeof st;
    /* A family means the runtime made the socket; only a descriptor handed in
     * (gn_conn_from_fd) needs asking. Taken for a file, a socket would be
     * written without MSG_NOSIGNAL, and a gone peer would kill the process.   */
    f->is_socket = family != AF_UNSPEC || gn__sys_getsockopt(fd, SOL_SOCKET, SO_TYPE, &st, &len) == 0;
    f->pd = gn__pd_alloc();
    if (!f->pd) return GN_ENOMEM;
    f->pd->fd = fd;
    int rc = gn__netpoll_arm(f->pd);
    if (rc == -EPERM) {   /* regular files and the like: always ready, never polled */
        gn__pd_release(f->pd);
        f->pd = NULL;
        rc = 0;
    } else if (rc < 0) {
        gn__pd_release(f->pd);
        f->pd = NULL;
    }
    return rc;
}

GN__PRIVATE void gn__fd_destroy(gn__fd *f) {
    if (f->pd) {
        gn__netpoll_disarm(f->pd);
        gn__pd_retire(f->pd);
        gn__pd_release(f->pd);
    }
    gn__sock_close(f->fd);
}

/* Waits for readiness; without a pd (not pollable) there is nothing to wait for. */
GN__PRIVATE int gn__fd_wait(gn__fd *f, int mode) {
    if (!f->pd) return 0;
    return gn__pd_wait(f->pd, mode);
}

GN__PRIVATE int gn__fd_check(gn__fd *f, int mode) {
    if (gn__load(&f->closed)) return GN_ECLOSED;
    return f->pd ? gn__pd_check(f->pd, mode) : 0;
}

GN__PRIVATE int64_t gn__fd_read(gn__fd *f, void *buf, size_t n) {
    for (;;) {
        int err = gn__fd_check(f, 'r');
        if (err) return err;
        if (n == 0) return 0;   /* as Go: an empty read never blocks */
        /* The last read came back short, so the socket was empty: wait for the
         * edge rather than pay a read that returns EAGAIN. Not after a hang-up:
         * end of stream or an error arrives with the data and no edge follows. */
        if (f->pd && gn__load_relaxed(&f->drained)) {
            gn__store_relaxed(&f->drained, 0u);
            if (!gn__load(&f->pd->hup) && (err = gn__fd_wait(f, 'r')) != 0) return err;
        }
        ssize_t r = gn__sys_read(f->fd, buf, n);
        if (r > 0) {
            if ((size_t)r < n && f->type == SOCK_STREAM) gn__store_relaxed(&f->drained, 1u);
            return r;
        }
        if (r == 0) return f->type == SOCK_STREAM ? GN_EOF : 0;   /* an empty datagram */
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((err = gn__fd_wait(f, 'r')) != 0) return err;
    }
}

GN__PRIVATE int64_t gn__fd_write(gn__fd *f, const void *buf, size_t n) {
    size_t done = 0;
    int once = f->type != SOCK_STREAM;   /* a datagram goes out even when empty */
    while (done < n || once) {
        int err = gn__fd_check(f, 'w');
        if (err) return err;
        ssize_t w = f->is_socket ? gn__sys_send(f->fd, (const char *)buf + done, n - done, GN__MSG_NOSIGNAL)
                                 : gn__sys_write(f->fd, (const char *)buf + done, n - done);
        if (w >= 0) {
            done += (size_t)w;
            once = 0;
            continue;
        }
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((err = gn__fd_wait(f, 'w')) != 0) return err;
    }
    return (int64_t)n;
}

/* Writes the iovecs in order, all of them or an error, in as few system calls
 * as the socket allows (a response head and its body go out in one). iov is
 * consumed: its entries are advanced past what was written.                   */
GN__PRIVATE int64_t gn__fd_writev(gn__fd *f, gn__iov *iov, int n) {
    int64_t total = 0;
    while (n > 0 && iov[0].iov_len == 0) { iov++; n--; }
    while (n > 0) {
        int err = gn__fd_check(f, 'w');
        if (err) return err;
        ssize_t w;
        if (f->is_socket) {   /* sendmsg, for MSG_NOSIGNAL: a gone peer is EPIPE, not a signal */
            struct msghdr mh;
            memset(&mh, 0, sizeof mh);
            mh.msg_iov = iov;
            mh.msg_iovlen = (size_t)(n > GN__IOV_MAX ? GN__IOV_MAX : n);
            w = gn__sys_sendmsg(f->fd, &mh, GN__MSG_NOSIGNAL);
        } else {
            w = gn__sys_writev(f->fd, iov, n > GN__IOV_MAX ? GN__IOV_MAX : n);
        }
        if (w < 0) {
            int e = errno;
            if (e == EINTR) continue;
            if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
            if ((err = gn__fd_wait(f, 'w')) != 0) return err;
            continue;
        }
        total += w;
        iov = gn__iov_advance(iov, &n, (size_t)w);
    }
    return total;
}

/* ---- sockets --------------------------------------------------------------------- */
/* A non-blocking, close-on-exec socket in *out; 0 or an error.                    */
GN__PRIVATE int gn__socket(int family, int type, int protocol, gn__sock *out) {
    int fd = gn__sys_socket(family, type | GN__SOCK_NEWFL, protocol);
    if (fd < 0) return gn__sock_error();
    if (gn__sock_setup(fd) != 0) {
        int rc = gn__sock_error();
        gn__sock_close(fd);
        return rc;
    }
    *out = fd;
    return 0;
}

/* Options a listening (stream) or bound (datagram) socket gets before bind:
 * address reuse, so that a restarted server need not wait out TIME_WAIT.      */
GN__PRIVATE int gn__sock_listen_opts(gn__sock fd, int family, int reuse_port) {
    int one = 1;
    if (family != AF_UNIX) gn__sys_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port) gn__sys_setsockopt(fd, SOL_SOCKET, GN__SO_REUSEPORT, &one, sizeof one);
    return 0;
}

GN__PRIVATE void gn__sock_unlink(const char *path) { unlink(path); }

/* Linux's accept hands over errors pending on the new connection, which say
 * nothing of the listener; its manual asks to retry them as EAGAIN. Left to
 * the caller, one client's broken network would stop a server accepting.      */
GN__PRIVATE int gn__accept_retry(int e) {
    switch (e) {
    case EPROTO: case ENOPROTOOPT: case ENETDOWN: case ENETUNREACH: case EHOSTUNREACH:
#ifdef EHOSTDOWN
    case EHOSTDOWN:
#endif
#ifdef ENONET
    case ENONET:
#endif
        return 1;
    default:
        return 0;
    }
}

/* One connection from listener l in *out (non-blocking, close-on-exec): 0, or
 * an error (out of descriptors included: the caller backs off).                */
GN__PRIVATE int gn__fd_accept(gn__fd *l, gn__sock *out) {
    for (;;) {
        int err = gn__fd_check(l, 'r');
        if (err) return err;
        int fd = gn__sock_accept(l->fd);
        if (fd >= 0) {
            *out = fd;
            return 0;
        }
        int e = errno;
        if (e == EINTR || e == ECONNABORTED || gn__accept_retry(e)) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((err = gn__fd_wait(l, 'r')) != 0) return err;
    }
}

/* Connects f to sa and waits until it is connected, refused, or its write
 * deadline passes. 0 or an error.                                             */
GN__PRIVATE int gn__fd_connect(gn__fd *f, const struct sockaddr *sa, socklen_t salen) {
    int fd = f->fd, rc = 0;
    int r;
    /* Interrupted, the attempt may go on in the kernel or never have begun:
     * asking again tells (EALREADY: under way; EISCONN: done).               */
    while ((r = gn__sys_connect(fd, sa, salen)) != 0 && errno == EINTR) {}
    if (r != 0 && errno == EISCONN) r = 0;
    if (r != 0 && errno != EINPROGRESS && errno != EALREADY) rc = gn__err_from_errno(errno);
    if (r != 0 && rc == 0) {
        for (;;) {
            if ((rc = gn__fd_wait(f, 'w')) != 0) break;
            int err = 0;
            socklen_t len = sizeof err;
            if (gn__sys_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
            if (err == EINPROGRESS || err == EALREADY || err == EINTR) continue;
            if (err == 0) {
                /* Writable is not connected: an fd registered before connect
                 * may report an early event. Connected means it has a peer.  */
                struct sockaddr_storage ls, rs;
                socklen_t ll = sizeof ls, rl = sizeof rs;
                if (getpeername(fd, (struct sockaddr *)&rs, &rl) != 0) {
                    if (errno == ENOTCONN) continue;
                    err = errno;
                } else if (f->family != AF_UNIX && getsockname(fd, (struct sockaddr *)&ls, &ll) == 0 &&
                           ll == rl && memcmp(&ls, &rs, ll) == 0) {
                    err = ECONNREFUSED;   /* connected to itself: no listener there */
                } else {
                    break;
                }
            }
            rc = gn__err_from_errno(err);
            break;
        }
    }
    /* The hang-up an unconnected socket reports when it is registered is over. */
    if (rc == 0 && f->pd) gn__store(&f->pd->hup, 0u);
    return rc;
}

/* One datagram into buf, its sender in *ss: the length, or an error.           */
GN__PRIVATE int64_t gn__fd_recvfrom(gn__fd *f, void *buf, size_t n, struct sockaddr_storage *ss, socklen_t *len) {
    for (;;) {
        int64_t rc = gn__fd_check(f, 'r');
        if (rc) return rc;
        *len = sizeof *ss;
        ssize_t r = gn__sys_recvfrom(f->fd, buf, n, 0, (struct sockaddr *)ss, len);
        if (r >= 0) return r;
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((rc = gn__fd_wait(f, 'r')) != 0) return rc;
    }
}

GN__PRIVATE int64_t gn__fd_sendto(gn__fd *f, const void *buf, size_t n, const struct sockaddr *sa, socklen_t len) {
    for (;;) {
        int64_t rc = gn__fd_check(f, 'w');
        if (rc) return rc;
        ssize_t w = gn__sys_sendto(f->fd, buf, n, GN__MSG_NOSIGNAL, sa, len);
        if (w >= 0) return w;
        int e = errno;
        if (e == EINTR) continue;
        if (e != EAGAIN && e != EWOULDBLOCK) return gn__err_from_errno(e);
        if ((rc = gn__fd_wait(f, 'w')) != 0) return rc;
    }
}

/* ---- a connection without a coroutine (see net.c, gn__conn_park_idle) ------------ */
GN__PRIVATE int gn__fd_park_idle(gn__fd *f, void (*fn)(void *), void *arg) {
    int rc = gn__fd_check(f, 'r');
    if (rc == 0) rc = 1;
    if (rc == 1 && f->pd && gn__load_relaxed(&f->drained) && !gn__load(&f->pd->hup)) {
        gn__store_relaxed(&f->drained, 0u);   /* whoever runs next reads first */
        rc = gn__pd_spawn_on_read(f->pd, fn, arg);
        if (rc == 1 && f->is_socket) {
            /* Readiness was recorded, but the last read came back short: it may
             * predate that read (an fd registered with bytes waiting, a read
             * that did not wait). Look before holding a buffer for nothing.   */
            char b;
            ssize_t k = gn__sys_recv(f->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
            if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                rc = gn__pd_spawn_on_read(f->pd, fn, arg);
        }
    }
    return rc;
}

/* A connection nothing has been read from yet (just accepted). Arming an fd
 * that is already readable reports it at once (epoll and kqueue give a first
 * edge, poll() is level-triggered), so the pd alone knows: no read need find
 * EAGAIN first, and no peek is needed, since no read can have taken the bytes
 * behind a recorded READY.                                                    */
GN__PRIVATE int gn__fd_park_new(gn__fd *f, void (*fn)(void *), void *arg) {
    int rc = gn__fd_check(f, 'r');
    if (rc) return rc;
    if (!f->pd || gn__load(&f->pd->hup)) return 1;
    return gn__pd_spawn_on_read(f->pd, fn, arg);
}

GN__PRIVATE int gn__fd_watch(gn__fd *f, void (*fn)(void *), void *arg) {
    if (!f->pd) return GN_ENOSYS;
    gn__store_relaxed(&f->drained, 0u);
    return gn__pd_spawn_on_read(f->pd, fn, arg);
}
GN__PRIVATE int gn__fd_unwatch(gn__fd *f) { return f->pd ? gn__pd_spawn_cancel(f->pd) : 0; }
/* shutdown wakes a blocked reader (end of file) and writer (EPIPE) by itself. */
GN__PRIVATE void gn__fd_cut(gn__fd *f) {
    int saved = errno;
    gn__sys_shutdown(f->fd, SHUT_RDWR);
    errno = saved;
}
/* What the poller saw: no system call.                                          */
GN__PRIVATE int gn__fd_hung_up(gn__fd *f) {
    return gn__load(&f->closed) || (f->pd && (gn__load(&f->pd->hup) || gn__load(&f->pd->closing)));
}

/* ---- options that differ by OS ------------------------------------------------------ */
/* The idle time before the first probe and between probes, where the system
 * lets a socket choose them (see GN__TCP_KEEPIDLE).                           */
GN__PRIVATE int gn__sock_keepalive(gn__sock fd, int secs) {
#if defined(GN__TCP_KEEPIDLE)
    if (gn__sys_setsockopt(fd, IPPROTO_TCP, GN__TCP_KEEPIDLE, &secs, sizeof secs) != 0) return gn__sock_error();
#endif
#if defined(TCP_KEEPINTVL)
    if (gn__sys_setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &secs, sizeof secs) != 0) return gn__sock_error();
#endif
    (void)fd;
    (void)secs;
    return 0;
}

GN__PRIVATE int gn__sock_group(gn__sock fd, const char *group, const char *ifname, int join) {
    unsigned ifindex = ifname ? if_nametoindex(ifname) : 0;
    if (ifname && !ifindex) return GN_EINVAL;
    struct in_addr a4;
    struct in6_addr a6;
    int rc;
    if (inet_pton(AF_INET, group, &a4) == 1) {
        return gn__sock_group4(fd, a4, ifname, ifindex, join);
    } else if (inet_pton(AF_INET6, group, &a6) == 1) {
        struct ipv6_mreq m;
        memset(&m, 0, sizeof m);
        m.ipv6mr_multiaddr = a6;
        m.ipv6mr_interface = ifindex;
        rc = gn__sys_setsockopt(fd, IPPROTO_IPV6, join ? IPV6_JOIN_GROUP : IPV6_LEAVE_GROUP, &m, sizeof m);
    } else {
        return GN_EINVAL;
    }
    return rc == 0 ? 0 : gn__sock_error();
}

/* gn_conn_from_fd's OS part: any descriptor (a socket, a pipe, a file), made
 * non-blocking; its family and type if it is a socket.                          */
GN__PRIVATE int gn__conn_wrap_os(int fd, gn__sock *s, int *family, int *type) {
    if (fd < 0) return GN_EINVAL;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return gn__err_from_errno(errno);
    if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return gn__err_from_errno(errno);
    *family = AF_UNSPEC;
    *type = SOCK_STREAM;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) *family = ss.ss_family;
    int st = 0;
    socklen_t sl = sizeof st;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &st, &sl) == 0) {
        *type = st;
        if (gn__sock_nosigpipe(fd) != 0) return gn__err_from_errno(errno);
    }
    *s = fd;
    return 0;
}

#endif /* !GN__POLL_IOCP */
