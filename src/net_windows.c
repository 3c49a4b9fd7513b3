/* net_windows.c — socket I/O on Windows: the part of net.c that differs by OS,
 * over overlapped Winsock calls completed through the IOCP poller
 * (poll_iocp.c). The same operations as net_posix.c (see its top comment).
 *
 * Every operation is one overlapped call on the socket's read or write op:
 * WSARecv, WSASend, AcceptEx, ConnectEx, WSARecvFrom, WSASendTo. One that
 * succeeds at once (and whose socket skips the port on success) is done;
 * otherwise the coroutine parks until the completion arrives, or until a
 * deadline or a close wakes it, in which case it cancels the op with
 * CancelIoEx and still waits for the completion before the OVERLAPPED and the
 * buffer (often on its stack) are let go. A cancel that loses the race to the
 * completion returns what was done, as Go does.
 *
 * An idle connection (gn__conn_park_idle) and a request's watch for the peer
 * going away (gn__conn_watch) start a zero-byte WSARecv: it completes when
 * bytes or the end of the stream arrive, without taking any, and starts the
 * armed coroutine (pd SPAWN) from the poller. Whoever reads next finds that
 * op done, or waits for it (a watch taken back leaves it in flight); a
 * deadline or a close cancels it.
 * Hang-up (gn__conn_hung_up): completion mode keeps no readiness state to
 * look at, so it asks the socket: readable (select, no wait) with nothing to
 * read (FIONREAD) means the peer's FIN or an error. One or two system calls,
 * but only when the watch fires and when the HTTP client takes an idle
 * connection from its pool; answering "unknown" instead would send a request
 * down a connection the server closed, and cancel no handler's context.
 *
 * gn_conn_fd / gn_conn_from_fd pass the SOCKET as an int: socket handles are
 * 32-bit significant on 64-bit Windows (the rule that lets 32- and 64-bit
 * processes share handles), so (int)s and (SOCKET)(intptr_t)fd round-trip and
 * INVALID_SOCKET is -1. Only sockets can be wrapped (not pipes or files), and
 * they must allow overlapped I/O (socket() and WSA_FLAG_OVERLAPPED ones do).
 *
 * Unix-domain sockets are AF_UNIX from afunix.h (Windows 10 1803 and later);
 * where the system lacks them, "unix" calls return GN_ENOSYS. Stream only:
 * Windows has no unixgram. They connect with a plain connect() (no ConnectEx
 * for them; a local connect does not wait on a network).
 *
 * >>net-windows                                                                  */
#if GN__OS_WINDOWS && !GN__POLL_IOCP
#  error "gonet.h: on Windows the IOCP poller is the only one (do not force GN_POLL_POLL or GN_POLL_KQUEUE)"
#endif
#if GN__POLL_IOCP

#include <afunix.h>
#include <mstcpip.h>

typedef SOCKET gn__sock;
#define GN__SOCK_INVALID INVALID_SOCKET

/* A buffer of a gathered write, laid out as WSABUF (length first, unlike
 * struct iovec) so that an array of them goes to WSASend as it is; the field
 * names are iovec's, so code that fills them is the same on every OS.        */
typedef struct gn__iov {
    ULONG iov_len;
    void *iov_base;
} gn__iov;
GN__PRIVATE gn__iov *gn__iov_advance(gn__iov *iov, int *n, size_t done);   /* net.c */
typedef char gn__iov_is_wsabuf[(sizeof(gn__iov) == sizeof(WSABUF) &&
                                offsetof(gn__iov, iov_len) == offsetof(WSABUF, len) &&
                                offsetof(gn__iov, iov_base) == offsetof(WSABUF, buf)) ? 1 : -1];
#define GN__IOV_MAX 1024

#ifndef SHUT_RD
#  define SHUT_RD   SD_RECEIVE
#  define SHUT_WR   SD_SEND
#  define SHUT_RDWR SD_BOTH
#endif

/* What AcceptEx writes besides the data it is not asked for: both addresses,
 * each with 16 bytes to spare, as its documentation requires.                  */
#define GN__ACCEPT_ADDR (sizeof(struct sockaddr_storage) + 16)

typedef struct gn__fd {
    gn__sock  fd;
    int       family, type;         /* AF_*, SOCK_STREAM / SOCK_DGRAM              */
    gn__pd   *pd;
    uint32_t  refs;                 /* atomic: the owner's + one per operation     */
    uint32_t  closed;               /* atomic                                       */
    int       skip;                 /* a success at once queues no completion      */
    int       nonblock;             /* a listener set non-blocking for accept()     */
    gn__iocp_sock *io;              /* the overlapped ops; may outlive the fd       */
    char     *accept_buf;           /* a listener's AcceptEx address area          */
    gn_mutex  rmu, wmu;             /* one reader, one writer at a time             */
    void    (*on_close)(void *);    /* atomic: called by the first close (the HTTP
                                     * server tracks hijacked connections so)      */
    void     *on_close_arg;
    uint32_t  on_close_taken;       /* atomic: whoever sets it to 1 calls on_close */
} gn__fd;

/* The error of the socket call that just failed, as a return code.              */
GN__PRIVATE int gn__sock_error(void) { return gn__err_from_wsa(WSAGetLastError()); }

GN__PRIVATE void gn__sock_close(gn__sock s) {
    GN__OS_KEEP_BEGIN
    closesocket(s);
    GN__OS_KEEP_END
}

/* AcceptEx and ConnectEx are looked up at run time (mswsock's exports only
 * forward to the base provider's, and cost a lookup per call).                 */
static LPFN_ACCEPTEX  gn__win_acceptex;
static LPFN_CONNECTEX gn__win_connectex;

GN__PRIVATE int gn__win_ext(gn__sock s, GUID id, void *fn, size_t fnsize) {
    DWORD got = 0;
    if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, fn, (DWORD)fnsize, &got, NULL, NULL) != 0)
        return gn__sock_error();
    return 0;
}

/* ---- the fd core ------------------------------------------------------------------ */
GN__PRIVATE int gn__fd_init(gn__fd *f, gn__sock fd, int family, int type) {
    memset(f, 0, sizeof *f);
    f->fd = fd;
    f->family = family;
    f->type = type;
    f->refs = 1;
    f->io = gn__iocp_sock_new();
    if (!f->io) return GN_ENOMEM;
    f->pd = gn__pd_alloc();
    if (!f->pd) {
        gn__iocp_sock_put(f->io);
        return GN_ENOMEM;
    }
    f->pd->fd = (int)fd;
    int rc = gn__iocp_arm(fd, family, &f->skip);
    if (rc < 0) {
        gn__pd_release(f->pd);
        gn__iocp_sock_put(f->io);
        f->pd = NULL;
        f->io = NULL;
    }
    return rc;
}

/* The last reference: no operation runs, but an idle read may be in flight;
 * closing the socket aborts it and its completion frees the ops.              */
GN__PRIVATE void gn__fd_destroy(gn__fd *f) {
    gn__pd_retire(f->pd);
    gn__sock_close(f->fd);
    gn__pd_release(f->pd);
    gn__iocp_sock_put(f->io);
    GN_FREE(f->accept_buf);
}

GN__PRIVATE int gn__fd_check(gn__fd *f, int mode) {
    if (gn__load(&f->closed)) return GN_ECLOSED;
    return gn__pd_check(f->pd, mode);
}

/* Cancels op if it is still in flight and waits for its completion.            */
GN__PRIVATE void gn__win_drain(gn__fd *f, gn__iocp_op *op) {
    if (!gn__load(&op->busy)) return;
    CancelIoEx((HANDLE)f->fd, &op->ov);
    gn__iocp_wait_done(op);
}

/* After an overlapped call on op (ok: it returned success): waits for the
 * result as the top of this file says. 0 with *bytes, or an error.            */
GN__PRIVATE int gn__win_await(gn__fd *f, gn__iocp_op *op, int ok, DWORD *bytes) {
    if (!ok) {
        int e = WSAGetLastError();
        if (e != WSA_IO_PENDING) {
            gn__iocp_op_done_now(op);
            return gn__err_from_wsa(e);
        }
    } else if (f->skip) {
        *bytes = op->sync_bytes;
        gn__iocp_op_done_now(op);
        return 0;
    }
    int why = 0;
    while (gn__load(&op->busy)) {
        int err = gn__pd_wait(f->pd, op->mode);
        if (!gn__load(&op->busy)) break;
        if (err) {
            why = err;
            gn__win_drain(f, op);
        }
    }
    if (op->status == 0) {
        *bytes = op->bytes;
        return 0;
    }
    DWORD n = 0, fl = 0;
    if (WSAGetOverlappedResult(f->fd, &op->ov, &n, FALSE, &fl)) {
        *bytes = n;
        return 0;
    }
    int e = WSAGetLastError();
    if (why && e == WSA_OPERATION_ABORTED) return why;
    *bytes = op->bytes;
    return gn__err_from_wsa(e);
}

/* A zero-byte read left in flight (a watch taken back, see gn__fd_unwatch) is
 * waited for rather than cancelled: it ends when bytes arrive, which is what
 * the read that follows waits for anyway, and costs no CancelIoEx. A deadline
 * or a close cancels it. 0 (go on and read), or why not.                    */
GN__PRIVATE int gn__win_await_probe(gn__fd *f, gn__iocp_op *op) {
    while (gn__load(&op->busy)) {
        int err = gn__pd_wait(f->pd, 'r');
        if (!gn__load(&op->busy)) break;
        if (err) {
            gn__win_drain(f, op);
            return err;
        }
    }
    return gn__fd_check(f, 'r');
}

/* A read into a datagram buffer too small for the datagram: what fits, as a
 * POSIX recv gives (Winsock fails it with WSAEMSGSIZE).                      */
#define GN__WIN_TRUNCATED(f, rc) ((rc) == -EMSGSIZE && (f)->type != SOCK_STREAM)

/* A read's error as POSIX names it: after close_read a stream is at its end
 * (Winsock says WSAESHUTDOWN), and so it is after gn__fd_cut cancelled the
 * read (GN_ECANCELED: a deadline or close says its own reason instead); a
 * datagram's "connection reset" is the ICMP port unreachable that POSIX
 * reports as ECONNREFUSED.                                                    */
GN__PRIVATE int gn__win_read_err(gn__fd *f, int err) {
    if (f->type == SOCK_STREAM) return err == -EPIPE || err == GN_ECANCELED ? GN_EOF : err;
    return err == -ECONNRESET ? -ECONNREFUSED : err;
}

GN__PRIVATE ULONG gn__win_len(size_t n) { return n > (1u << 30) ? (1u << 30) : (ULONG)n; }

GN__PRIVATE int64_t gn__fd_read(gn__fd *f, void *buf, size_t n) {
    int err = gn__fd_check(f, 'r');
    if (err) return err;
    if (n == 0) return 0;   /* as Go: an empty read never blocks */
    gn__iocp_op *op = &f->io->r;
    if (gn__load(&op->busy) && (err = gn__win_await_probe(f, op)) != 0) return err;
    WSABUF b;
    b.len = gn__win_len(n);
    b.buf = (char *)buf;
    op->flags = 0;
    gn__iocp_op_start(op, f->pd);
    int ok = WSARecv(f->fd, &b, 1, &op->sync_bytes, &op->flags, &op->ov, NULL) == 0;
    DWORD got = 0;
    err = gn__win_await(f, op, ok, &got);
    if (GN__WIN_TRUNCATED(f, err)) return (int64_t)b.len;
    if (err) return gn__win_read_err(f, err);
    if (got == 0) return f->type == SOCK_STREAM ? GN_EOF : 0;   /* an empty datagram */
    return (int64_t)got;
}

/* Writes the buffers in order, all of them or an error (see net_posix.c).      */
GN__PRIVATE int64_t gn__fd_writev(gn__fd *f, gn__iov *iov, int n) {
    int64_t total = 0;
    int once = f->type != SOCK_STREAM;   /* a datagram goes out even when empty */
    while (n > 0 && iov[0].iov_len == 0 && !once) { iov++; n--; }
    gn__iocp_op *op = &f->io->w;
    while (n > 0 || once) {
        int err = gn__fd_check(f, 'w');
        if (err) return err;
        gn__iocp_op_start(op, f->pd);
        int ok = WSASend(f->fd, (WSABUF *)(void *)iov, (DWORD)(n > GN__IOV_MAX ? GN__IOV_MAX : n),
                         &op->sync_bytes, 0, &op->ov, NULL) == 0;
        DWORD w = 0;
        if ((err = gn__win_await(f, op, ok, &w)) != 0) return err == GN_ECANCELED ? -EPIPE : err;   /* cut */
        once = 0;
        total += w;
        iov = gn__iov_advance(iov, &n, (size_t)w);
    }
    return total;
}

GN__PRIVATE int64_t gn__fd_write(gn__fd *f, const void *buf, size_t n) {
    size_t done = 0;
    do {
        gn__iov one;
        one.iov_base = (char *)(uintptr_t)buf + done;
        one.iov_len = gn__win_len(n - done);
        int64_t w = gn__fd_writev(f, &one, 1);
        if (w < 0) return w;
        done += (size_t)w;
    } while (done < n);
    return (int64_t)n;
}

/* ---- sockets --------------------------------------------------------------------- */
/* An ICMP "port unreachable" for an earlier send fails the next receive of a
 * UDP socket with WSAECONNRESET, connected or not. POSIX reports it only on a
 * connected socket (as ECONNREFUSED): so off, and on again by connect.        */
GN__PRIVATE void gn__win_udp_connreset(gn__sock s, BOOL on) {
    DWORD got = 0;
    WSAIoctl(s, SIO_UDP_CONNRESET, &on, sizeof on, NULL, 0, &got, NULL, NULL);
}

/* An overlapped, non-inheritable socket in *out; 0 or an error. A family the
 * system lacks (AF_UNIX before Windows 10 1803) is GN_ENOSYS.                 */
GN__PRIVATE int gn__socket(int family, int type, int protocol, gn__sock *out) {
    if (family == AF_UNIX && type != SOCK_STREAM) return GN_ENOSYS;
    gn__sock s = WSASocketW(family, type, protocol, NULL, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET) {
        int e = WSAGetLastError();
        return family == AF_UNIX && (e == WSAEAFNOSUPPORT || e == WSAEPFNOSUPPORT) ? GN_ENOSYS : gn__err_from_wsa(e);
    }
    if (type == SOCK_DGRAM) gn__win_udp_connreset(s, FALSE);
    *out = s;
    return 0;
}

/* No SO_REUSEADDR: on Windows it lets another socket take over a port in use,
 * while a restarted server binds at once anyway. No SO_REUSEPORT either.     */
GN__PRIVATE int gn__sock_listen_opts(gn__sock fd, int family, int reuse_port) {
    (void)fd;
    (void)family;
    return reuse_port ? GN_ENOSYS : 0;
}

GN__PRIVATE void gn__sock_unlink(const char *path) { DeleteFileA(path); }

/* One connection from listener l in *out: 0, or an error (out of sockets
 * included: the caller backs off). Connections already queued are taken with
 * a non-blocking accept(), as on POSIX: a burst of them costs one call each,
 * with no trip through the port (AcceptEx may pend even then). The socket it
 * makes has the listener's properties, overlapped I/O included. Only when the
 * queue is empty does an AcceptEx wait.                                        */
GN__PRIVATE int gn__fd_accept(gn__fd *l, gn__sock *out) {
    for (;;) {
        int err = gn__fd_check(l, 'r');
        if (err) return err;
        if (!l->nonblock) {
            u_long on = 1;
            l->nonblock = ioctlsocket(l->fd, FIONBIO, &on) == 0 ? 1 : -1;
        }
        if (l->nonblock > 0) {
            gn__sock s = accept(l->fd, NULL, NULL);
            if (s != INVALID_SOCKET) {
                *out = s;
                return 0;
            }
            err = gn__sock_error();
            if (err == -ECONNRESET || err == -ECONNABORTED) continue;   /* gone before accepted */
            if (err != GN_EAGAIN) return err;
        }
        if (!gn__load_relaxed(&gn__win_acceptex)) {
            LPFN_ACCEPTEX fn = NULL;
            GUID id = WSAID_ACCEPTEX;
            if ((err = gn__win_ext(l->fd, id, &fn, sizeof fn)) != 0) return err;
            gn__store_relaxed(&gn__win_acceptex, fn);
        }
        if (!l->accept_buf && !(l->accept_buf = (char *)GN_MALLOC(2 * GN__ACCEPT_ADDR))) return GN_ENOMEM;
        gn__sock s;
        if ((err = gn__socket(l->family, SOCK_STREAM, 0, &s)) != 0) return err;
        gn__iocp_op *op = &l->io->r;
        gn__iocp_op_start(op, l->pd);
        int ok = gn__win_acceptex(l->fd, s, l->accept_buf, 0, (DWORD)GN__ACCEPT_ADDR, (DWORD)GN__ACCEPT_ADDR,
                                  &op->sync_bytes, &op->ov) != FALSE;
        DWORD got = 0;
        err = gn__win_await(l, op, ok, &got);
        if (err == 0 && setsockopt(s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (const char *)&l->fd, sizeof l->fd) != 0)
            err = gn__sock_error();
        if (err == 0) {
            *out = s;
            return 0;
        }
        gn__sock_close(s);
        if (err != -ECONNRESET && err != -ECONNABORTED) return err;   /* gone before accepted: next */
    }
}

/* Connects f to sa and waits until it is connected, refused, or its write
 * deadline passes. 0 or an error.                                             */
GN__PRIVATE int gn__fd_connect(gn__fd *f, const struct sockaddr *sa, socklen_t salen) {
    if (f->type != SOCK_STREAM || f->family == AF_UNIX) {
        if (f->type == SOCK_DGRAM) gn__win_udp_connreset(f->fd, TRUE);
        return connect(f->fd, sa, salen) == 0 ? 0 : gn__sock_error();
    }
    int err;
    if (!gn__load_relaxed(&gn__win_connectex)) {
        LPFN_CONNECTEX fn = NULL;
        GUID id = WSAID_CONNECTEX;
        if ((err = gn__win_ext(f->fd, id, &fn, sizeof fn)) != 0) return err;
        gn__store_relaxed(&gn__win_connectex, fn);
    }
    /* ConnectEx wants a bound socket: the wildcard address, any port.          */
    struct sockaddr_storage any;
    memset(&any, 0, sizeof any);
    any.ss_family = (ADDRESS_FAMILY)f->family;
    int anylen = f->family == AF_INET6 ? (int)sizeof(struct sockaddr_in6) : (int)sizeof(struct sockaddr_in);
    if (bind(f->fd, (struct sockaddr *)&any, anylen) != 0) return gn__sock_error();
    if ((err = gn__fd_check(f, 'w')) != 0) return err;
    gn__iocp_op *op = &f->io->w;
    gn__iocp_op_start(op, f->pd);
    int ok = gn__win_connectex(f->fd, sa, salen, NULL, 0, &op->sync_bytes, &op->ov) != FALSE;
    DWORD got = 0;
    if ((err = gn__win_await(f, op, ok, &got)) != 0) return err;
    /* Until told, the socket does not know it is connected (getpeername,
     * shutdown and the like fail).                                              */
    if (setsockopt(f->fd, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0) != 0) return gn__sock_error();
    return 0;
}

/* One datagram into buf, its sender in *ss: the length, or an error.           */
GN__PRIVATE int64_t gn__fd_recvfrom(gn__fd *f, void *buf, size_t n, struct sockaddr_storage *ss, socklen_t *len) {
    int err = gn__fd_check(f, 'r');
    if (err) return err;
    gn__iocp_op *op = &f->io->r;
    if (gn__load(&op->busy)) {
        gn__win_drain(f, op);
        if ((err = gn__fd_check(f, 'r')) != 0) return err;
    }
    /* Both the address and its length are written when the op completes: they
     * stay on this coroutine's stack, which outlives the op (it is waited for). */
    INT alen = (INT)sizeof *ss;
    char dummy;
    WSABUF b;
    b.len = gn__win_len(n);
    b.buf = n ? (char *)buf : &dummy;
    op->flags = 0;
    gn__iocp_op_start(op, f->pd);
    int ok = WSARecvFrom(f->fd, &b, 1, &op->sync_bytes, &op->flags, (struct sockaddr *)ss, &alen, &op->ov, NULL) == 0;
    DWORD got = 0;
    err = gn__win_await(f, op, ok, &got);
    *len = (socklen_t)alen;
    if (GN__WIN_TRUNCATED(f, err)) return (int64_t)b.len;
    return err ? gn__win_read_err(f, err) : (int64_t)got;
}

GN__PRIVATE int64_t gn__fd_sendto(gn__fd *f, const void *buf, size_t n, const struct sockaddr *sa, socklen_t len) {
    int err = gn__fd_check(f, 'w');
    if (err) return err;
    gn__iocp_op *op = &f->io->w;
    WSABUF b;
    b.len = gn__win_len(n);
    b.buf = (char *)(uintptr_t)buf;
    gn__iocp_op_start(op, f->pd);
    int ok = WSASendTo(f->fd, &b, 1, &op->sync_bytes, 0, sa, len, &op->ov, NULL) == 0;
    DWORD w = 0;
    err = gn__win_await(f, op, ok, &w);
    return err ? err : (int64_t)w;
}

/* ---- a connection without a coroutine (see net.c, gn__conn_park_idle) ------------ */
/* Starts the zero-byte read unless one is in flight. 0: in flight (its
 * completion will come); 1: it finished at once (bytes, the end, or an error
 * are there: read).                                                           */
GN__PRIVATE int gn__win_probe(gn__fd *f) {
    static char none;
    gn__iocp_op *op = &f->io->r;
    if (gn__load(&op->busy)) return 0;
    WSABUF b;
    b.len = 0;
    b.buf = &none;
    op->flags = 0;
    gn__iocp_op_start(op, f->pd);
    int ok = WSARecv(f->fd, &b, 1, &op->sync_bytes, &op->flags, &op->ov, NULL) == 0;
    if (ok ? f->skip : WSAGetLastError() != WSA_IO_PENDING) {
        gn__iocp_op_done_now(op);
        return 1;
    }
    return 0;
}

GN__PRIVATE int gn__fd_park_idle(gn__fd *f, void (*fn)(void *), void *arg) {
    int rc = gn__fd_check(f, 'r');
    if (rc) return rc;
    if (f->type != SOCK_STREAM || gn__win_probe(f)) return 1;
    for (;;) {
        rc = gn__pd_spawn_on_read(f->pd, fn, arg);
        /* 1 with the probe still in flight: an older completion's READY.        */
        if (rc != 1 || !gn__load(&f->io->r.busy)) return rc;
    }
}

/* The probe asks the socket itself, whether or not anything was read before. */
GN__PRIVATE int gn__fd_park_new(gn__fd *f, void (*fn)(void *), void *arg) { return gn__fd_park_idle(f, fn, arg); }

GN__PRIVATE int gn__fd_watch(gn__fd *f, void (*fn)(void *), void *arg) {
    int rc = gn__fd_check(f, 'r');
    if (rc) return rc;
    if (f->type != SOCK_STREAM) return GN_ENOSYS;
    if (gn__win_probe(f)) return 1;
    return gn__pd_spawn_on_read(f->pd, fn, arg);
}

/* The probe stays in flight: the next read waits for it, or the next park reuses it. */
GN__PRIVATE int gn__fd_unwatch(gn__fd *f) { return gn__pd_spawn_cancel(f->pd); }

/* shutdown alone leaves an overlapped read pending (Windows completes it only
 * when the peer ends): cancel what is in flight, and its waiter returns as it
 * would after a POSIX shutdown.                                               */
GN__PRIVATE void gn__fd_cut(gn__fd *f) {
    GN__OS_KEEP_BEGIN
    shutdown(f->fd, SD_BOTH);
    CancelIoEx((HANDLE)f->fd, NULL);
    GN__OS_KEEP_END
}

GN__PRIVATE int gn__fd_hung_up(gn__fd *f) {
    if (gn__load(&f->closed) || gn__load(&f->pd->hup) || gn__load(&f->pd->closing)) return 1;
    if (f->type != SOCK_STREAM) return 0;
    int gone;
    GN__OS_KEEP_BEGIN
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(f->fd, &rs);
    struct timeval tv = {0, 0};
    u_long avail = 0;
    gone = select(0, &rs, NULL, NULL, &tv) > 0 && (ioctlsocket(f->fd, FIONREAD, &avail) != 0 || avail == 0);
    GN__OS_KEEP_END
    if (gone) gn__store(&f->pd->hup, 1u);
    return gone;
}

/* ---- options that differ by OS ------------------------------------------------------ */
GN__PRIVATE int gn__sock_keepalive(gn__sock fd, int secs) {
    struct tcp_keepalive ka;
    ka.onoff = 1;
    ka.keepalivetime = (ULONG)secs * 1000u;
    ka.keepaliveinterval = (ULONG)secs * 1000u;
    DWORD got = 0;
    if (WSAIoctl(fd, SIO_KEEPALIVE_VALS, &ka, sizeof ka, NULL, 0, &got, NULL, NULL) != 0) return gn__sock_error();
    return 0;
}

/* ifname: NULL (any) or an interface index in decimal; names would need
 * if_nametoindex from iphlpapi, a library users would have to link.          */
GN__PRIVATE int gn__sock_group(gn__sock fd, const char *group, const char *ifname, int join) {
    unsigned long ifindex = 0;
    if (ifname) {
        char *end;
        ifindex = strtoul(ifname, &end, 10);
        if (!*ifname || *end || ifindex == 0) return GN_EINVAL;
    }
    struct in_addr a4;
    struct in6_addr a6;
    int rc;
    if (inet_pton(AF_INET, group, &a4) == 1) {
        struct ip_mreq m;
        memset(&m, 0, sizeof m);
        m.imr_multiaddr = a4;
        m.imr_interface.s_addr = htonl(ifindex);   /* 0.0.0.x names interface x */
        rc = setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, (const char *)&m, sizeof m);
    } else if (inet_pton(AF_INET6, group, &a6) == 1) {
        struct ipv6_mreq m;
        memset(&m, 0, sizeof m);
        m.ipv6mr_multiaddr = a6;
        m.ipv6mr_interface = (ULONG)ifindex;
        rc = setsockopt(fd, IPPROTO_IPV6, join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, (const char *)&m, sizeof m);
    } else {
        return GN_EINVAL;
    }
    return rc == 0 ? 0 : gn__sock_error();
}

/* gn_conn_from_fd's OS part: fd is a SOCKET passed as an int (see the top).    */
GN__PRIVATE int gn__conn_wrap_os(int fd, gn__sock *s, int *family, int *type) {
    if (fd == -1) return GN_EINVAL;
    gn__sock h = (gn__sock)(intptr_t)fd;
    int st = 0;
    socklen_t sl = sizeof st;
    if (getsockopt(h, SOL_SOCKET, SO_TYPE, (char *)&st, &sl) != 0) {
        int e = WSAGetLastError();
        return e == WSAENOTSOCK ? GN_ENOSYS : gn__err_from_wsa(e);
    }
    *type = st;
    *family = AF_UNSPEC;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(h, (struct sockaddr *)&ss, &len) == 0) *family = ss.ss_family;
    else {
        WSAPROTOCOL_INFOW pi;
        socklen_t pl = sizeof pi;
        if (getsockopt(h, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *)&pi, &pl) == 0) *family = pi.iAddressFamily;
    }
    *s = h;
    return 0;
}

#endif /* GN__POLL_IOCP */
