/* sys_posix.c — the system calls of the I/O path, in one place: the sockets'
 * (socket, bind, listen, accept4 (accept on macOS), connect, read, write,
 * send, sendmsg, writev, recv, recvfrom, sendto, shutdown, close, socket
 * options), the pollers' (epoll, eventfd and pipe wake-ups, poll) and the
 * file server's (open, openat, openat2, fstat, pread). net_posix.c, net.c,
 * poll_epoll.c, poll_poll.c and fs_posix.c make these calls only through
 * gn__sys_*; what they still call directly (getsockname, getpeername, fcntl,
 * the resolver, realpath, readdir) is left out: off the request path, or
 * failing only on a bad descriptor.
 *
 * Each gn__sys_* is a static inline pass-through, so a normal build compiles
 * it to the bare call. A build with GN_FAULT_INJECTION=1 (tests) links a
 *     int gn__fault_hook(int call, int fd);   call: one of GN__SYS_* below;
 *                                             fd: what it acts on, or -1
 * that every wrapper asks first: 0 lets the call happen; an errno value fails
 * it as the OS would (-1, errno set) without making it. That is how a test
 * walks a failure over every call of a request. close is the one exception:
 * it releases the descriptor whatever it reports, as Linux's does, so that an
 * injected failure leaks nothing a real one would not. Windows' calls
 * (net_windows.c, poll_iocp.c, fs_windows.c) do not come through here, nor do
 * the kqueue poller's own (kevent, its wake pipe).
 *
 * >>sys-posix                                                                    */
#if GN__OS_POSIX

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#if GN__OS_LINUX
#  include <sys/eventfd.h>
#endif
#if GN__POLL_EPOLL
#  include <sys/epoll.h>
#endif
/* Numbers of calls newer than some C libraries' headers.                        */
#if GN__OS_LINUX && !defined(SYS_epoll_pwait2) && (defined(__x86_64__) || defined(__aarch64__))
#  define SYS_epoll_pwait2 441
#endif
#if GN__OS_LINUX && !defined(SYS_openat2) && (defined(__x86_64__) || defined(__aarch64__))
#  define SYS_openat2 437
#endif

enum {
    GN__SYS_READ = 1, GN__SYS_WRITE, GN__SYS_WRITEV, GN__SYS_SEND, GN__SYS_SENDMSG, GN__SYS_RECV,
    GN__SYS_RECVFROM, GN__SYS_SENDTO, GN__SYS_ACCEPT, GN__SYS_CONNECT, GN__SYS_SOCKET, GN__SYS_BIND,
    GN__SYS_LISTEN, GN__SYS_SETSOCKOPT, GN__SYS_GETSOCKOPT, GN__SYS_SHUTDOWN, GN__SYS_CLOSE,
    GN__SYS_POLL_CREATE, GN__SYS_POLL_CTL, GN__SYS_POLL_WAIT,
    GN__SYS_WAKE_OPEN, GN__SYS_WAKE_WRITE, GN__SYS_WAKE_READ,   /* eventfd / pipe */
    GN__SYS_OPEN, GN__SYS_FSTAT, GN__SYS_PREAD,
    GN__SYS_COUNT
};

#if defined(GN_FAULT_INJECTION) && GN__FLAG_SET(GN_FAULT_INJECTION)
#  define GN__FAULTS 1
#  ifdef __cplusplus
extern "C"
#  endif
int gn__fault_hook(int call, int fd);
/* Leaves the wrapper failed when the hook says so.                              */
#  define GN__SYS_FAULT(call, fd)                                                  \
    do {                                                                         \
        int gn__e = gn__fault_hook((call), (fd));                                \
        if (gn__e) {                                                             \
            errno = gn__e;                                                       \
            return -1;                                                           \
        }                                                                        \
    } while (0)
#else
#  define GN__SYS_FAULT(call, fd) ((void)0)
#endif

static inline ssize_t gn__sys_read(int fd, void *buf, size_t n) {
    GN__SYS_FAULT(GN__SYS_READ, fd);
    return read(fd, buf, n);
}
static inline ssize_t gn__sys_write(int fd, const void *buf, size_t n) {
    GN__SYS_FAULT(GN__SYS_WRITE, fd);
    return write(fd, buf, n);
}
static inline ssize_t gn__sys_writev(int fd, const struct iovec *iov, int n) {
    GN__SYS_FAULT(GN__SYS_WRITEV, fd);
    return writev(fd, iov, n);
}
static inline ssize_t gn__sys_send(int fd, const void *buf, size_t n, int flags) {
    GN__SYS_FAULT(GN__SYS_SEND, fd);
    return send(fd, buf, n, flags);
}
static inline ssize_t gn__sys_sendmsg(int fd, const struct msghdr *mh, int flags) {
    GN__SYS_FAULT(GN__SYS_SENDMSG, fd);
    return sendmsg(fd, mh, flags);
}
static inline ssize_t gn__sys_recv(int fd, void *buf, size_t n, int flags) {
    GN__SYS_FAULT(GN__SYS_RECV, fd);
    return recv(fd, buf, n, flags);
}
static inline ssize_t gn__sys_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len) {
    GN__SYS_FAULT(GN__SYS_RECVFROM, fd);
    return recvfrom(fd, buf, n, flags, sa, len);
}
static inline ssize_t gn__sys_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
                                     socklen_t len) {
    GN__SYS_FAULT(GN__SYS_SENDTO, fd);
    return sendto(fd, buf, n, flags, sa, len);
}
#if GN__OS_DARWIN   /* no accept4: net_posix.c sets the flags afterwards */
static inline int gn__sys_accept(int fd) {
    GN__SYS_FAULT(GN__SYS_ACCEPT, fd);
    return accept(fd, NULL, NULL);
}
#else
static inline int gn__sys_accept4(int fd, int flags) {
    GN__SYS_FAULT(GN__SYS_ACCEPT, fd);
    return accept4(fd, NULL, NULL, flags);
}
#endif
static inline int gn__sys_connect(int fd, const struct sockaddr *sa, socklen_t len) {
    GN__SYS_FAULT(GN__SYS_CONNECT, fd);
    return connect(fd, sa, len);
}
static inline int gn__sys_socket(int family, int type, int protocol) {
    GN__SYS_FAULT(GN__SYS_SOCKET, -1);
    return socket(family, type, protocol);
}
static inline int gn__sys_bind(int fd, const struct sockaddr *sa, socklen_t len) {
    GN__SYS_FAULT(GN__SYS_BIND, fd);
    return bind(fd, sa, len);
}
static inline int gn__sys_listen(int fd, int backlog) {
    GN__SYS_FAULT(GN__SYS_LISTEN, fd);
    return listen(fd, backlog);
}
static inline int gn__sys_setsockopt(int fd, int level, int name, const void *v, socklen_t len) {
    GN__SYS_FAULT(GN__SYS_SETSOCKOPT, fd);
    return setsockopt(fd, level, name, v, len);
}
static inline int gn__sys_getsockopt(int fd, int level, int name, void *v, socklen_t *len) {
    GN__SYS_FAULT(GN__SYS_GETSOCKOPT, fd);
    return getsockopt(fd, level, name, v, len);
}
static inline int gn__sys_shutdown(int fd, int how) {
    GN__SYS_FAULT(GN__SYS_SHUTDOWN, fd);
    return shutdown(fd, how);
}
static inline int gn__sys_close(int fd) {
#if GN__FAULTS
    int e = gn__fault_hook(GN__SYS_CLOSE, fd);
    if (e) {
        close(fd);   /* gone all the same, as on Linux after EINTR */
        errno = e;
        return -1;
    }
#endif
    return close(fd);
}

/* ---- the pollers' ---------------------------------------------------------------- */
static inline int gn__sys_poll(struct pollfd *pf, nfds_t n, int ms) {
    GN__SYS_FAULT(GN__SYS_POLL_WAIT, -1);
    return poll(pf, n, ms);
}
#if (defined(__linux__) && defined(_GNU_SOURCE)) || defined(__FreeBSD__)
static inline int gn__sys_ppoll(struct pollfd *pf, nfds_t n, const struct timespec *ts) {
    GN__SYS_FAULT(GN__SYS_POLL_WAIT, -1);
    return ppoll(pf, n, ts, NULL);
}
#endif
/* A non-blocking, close-on-exec pipe (the pollers' wake-up, the signal pipe):
 * 0, or -1 and errno. pipe2 on Linux and the BSDs; macOS has none, so there
 * pipe and fcntl, where a fork on another thread between the calls may leak
 * the pipe into a program the child execs (harmless to us: this process keeps
 * its ends).                                                                  */
static inline int gn__sys_pipe_nb(int p[2]) {
    GN__SYS_FAULT(GN__SYS_WAKE_OPEN, -1);
#if GN__OS_LINUX || GN__OS_BSD
    return pipe2(p, O_CLOEXEC | O_NONBLOCK);
#else
    if (pipe(p) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(p[i], F_GETFL);
        if (fl < 0 || fcntl(p[i], F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(p[i], F_SETFD, FD_CLOEXEC) != 0) {
            int e = errno;
            close(p[0]);
            close(p[1]);
            errno = e;
            return -1;
        }
    }
    return 0;
#endif
}
static inline ssize_t gn__sys_wake_write(int fd, const void *buf, size_t n) {
    GN__SYS_FAULT(GN__SYS_WAKE_WRITE, fd);
    return write(fd, buf, n);
}
static inline ssize_t gn__sys_wake_read(int fd, void *buf, size_t n) {
    GN__SYS_FAULT(GN__SYS_WAKE_READ, fd);
    return read(fd, buf, n);
}
#if GN__OS_LINUX
static inline int gn__sys_eventfd(unsigned v, int flags) {
    GN__SYS_FAULT(GN__SYS_WAKE_OPEN, -1);
    return eventfd(v, flags);
}
#endif
#if GN__POLL_EPOLL
static inline int gn__sys_epoll_create(void) {
    GN__SYS_FAULT(GN__SYS_POLL_CREATE, -1);
    return epoll_create1(EPOLL_CLOEXEC);
}
static inline int gn__sys_epoll_ctl(int ep, int op, int fd, struct epoll_event *ev) {
    GN__SYS_FAULT(GN__SYS_POLL_CTL, fd);
    return epoll_ctl(ep, op, fd, ev);
}
static inline int gn__sys_epoll_wait(int ep, struct epoll_event *evs, int max, int ms) {
    GN__SYS_FAULT(GN__SYS_POLL_WAIT, ep);
    return epoll_wait(ep, evs, max, ms);
}
#  if defined(SYS_epoll_pwait2)
static inline long gn__sys_epoll_pwait2(int ep, struct epoll_event *evs, int max, const struct timespec *ts) {
    GN__SYS_FAULT(GN__SYS_POLL_WAIT, ep);
    return syscall(SYS_epoll_pwait2, ep, evs, max, ts, NULL, 0);
}
#  endif
#endif

/* ---- the file server's --------------------------------------------------------------- */
static inline int gn__sys_open(const char *path, int flags) {
    GN__SYS_FAULT(GN__SYS_OPEN, -1);
    return open(path, flags);
}
static inline int gn__sys_openat(int dirfd, const char *path, int flags) {
    GN__SYS_FAULT(GN__SYS_OPEN, -1);
    return openat(dirfd, path, flags);
}
static inline int gn__sys_fstat(int fd, struct stat *st) {
    GN__SYS_FAULT(GN__SYS_FSTAT, fd);
    return fstat(fd, st);
}
#if defined(SYS_openat2)
/* how: struct open_how, which not every C library declares.                     */
static inline int gn__sys_openat2(int dirfd, const char *path, const void *how, size_t size) {
    GN__SYS_FAULT(GN__SYS_OPEN, -1);
    return (int)syscall(SYS_openat2, dirfd, path, how, size);
}
#endif
static inline ssize_t gn__sys_pread(int fd, void *buf, size_t n, off_t off) {
    GN__SYS_FAULT(GN__SYS_PREAD, fd);
    return pread(fd, buf, n, off);
}

#else /* Windows: the calls net.c shares with POSIX, straight through.         */
#  define gn__sys_bind bind
#  define gn__sys_listen listen
#  define gn__sys_setsockopt setsockopt
#  define gn__sys_shutdown shutdown
#endif /* GN__OS_POSIX */
