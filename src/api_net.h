/* api_net.h — Go's net package: listeners, connections, dialing, deadlines, UDP. */

#ifdef __cplusplus
extern "C" {
#endif

/* Networks: "tcp", "tcp4", "tcp6", "unix", "udp", "udp4", "udp6", "unixgram".
 * Addresses as in Go: "host:port", "[::1]:8080", ":8080" (every interface),
 * "localhost:0" (a free port); a path for unix sockets. ":8080" over "tcp" or
 * "udp" is one dual-stack IPv6 socket, except on OpenBSD and DragonFly, whose
 * IPv6 sockets never take IPv4: there it is IPv4 only, as in Go (listen on
 * "tcp6" "[::]:8080" too for IPv6).
 *
 * Ownership. gn_listen, gn_accept, gn_dial* and gn_conn_from_fd return an
 * object that the caller owns and releases with gn_close / gn_listener_close,
 * exactly once. Closing wakes any coroutine blocked on the object with
 * GN_ECLOSED (Go's "use of closed network connection"); no call may *start* on
 * it after the close. Every call returns >= 0 or a negative code.             */
typedef struct gn_conn     gn_conn;
typedef struct gn_listener gn_listener;

typedef struct gn_listen_opts {
    int backlog;      /* 0: SOMAXCONN                                            */
    int reuse_port;   /* 1: SO_REUSEPORT, for several listeners on one port,
                       * which Linux and FreeBSD (SO_REUSEPORT_LB) share
                       * connections between; macOS, OpenBSD and NetBSD give
                       * each connection to one listener. Windows has none:
                       * GN_ENOSYS                                                */
} gn_listen_opts;

GONET_API int gn_listen(gn_listener **out, const char *network, const char *address);
GONET_API int gn_listen_with(gn_listener **out, const char *network, const char *address,
                             const gn_listen_opts *opts);
/* Waits for a connection. Out of file descriptors (EMFILE, ENFILE), it backs
 * off (5 ms doubling to 1 s, as Go's http server does) and tries again, so a
 * server rides out fd exhaustion instead of spinning or failing.              */
GONET_API int gn_accept(gn_listener *l, gn_conn **out);
GONET_API int gn_listener_close(gn_listener *l);
/* The bound address, "ip:port" (useful after listening on port 0).           */
GONET_API int gn_listener_addr(gn_listener *l, char *buf, size_t size);
GONET_API int gn_listener_port(gn_listener *l);
GONET_API int gn_listener_set_deadline(gn_listener *l, int64_t deadline);

/* Connects; a host name resolves without blocking other coroutines and every
 * address it has is tried in turn ("localhost" is ::1 and 127.0.0.1).          */
GONET_API int gn_dial(gn_conn **out, const char *network, const char *address);
GONET_API int gn_dial_timeout(gn_conn **out, const char *network, const char *address,
                              int64_t timeout);
GONET_API int gn_dial_context(gn_context *ctx, gn_conn **out, const char *network,
                              const char *address);

/* Reads up to n bytes: > 0 read, GN_EOF at the end, or an error.            */
GONET_API int64_t gn_read(gn_conn *c, void *buf, size_t n);
/* Writes all n bytes and returns n, or an error (some prefix may be sent).   */
GONET_API int64_t gn_write(gn_conn *c, const void *buf, size_t n);
GONET_API int     gn_close(gn_conn *c);
GONET_API int     gn_close_read(gn_conn *c);    /* half-close: shutdown(SHUT_RD);
                                                 * reads then get GN_EOF        */
GONET_API int     gn_close_write(gn_conn *c);   /* half-close: shutdown(SHUT_WR)  */

/* Deadlines, absolute gn_now() instants; 0 clears. Settable at any time from
 * any coroutine; a new deadline applies to an operation already blocked; a
 * past one fails blocked and later operations with GN_ETIMEDOUT; extending it
 * makes the connection usable again.                                         */
GONET_API int gn_set_deadline(gn_conn *c, int64_t deadline);
GONET_API int gn_set_read_deadline(gn_conn *c, int64_t deadline);
GONET_API int gn_set_write_deadline(gn_conn *c, int64_t deadline);

GONET_API int gn_local_addr(gn_conn *c, char *buf, size_t size);    /* "ip:port" */
GONET_API int gn_remote_addr(gn_conn *c, char *buf, size_t size);
/* The descriptor, still owned by c (for setsockopt and the like; reading or
 * writing it behind c's back breaks c). On Windows it is the SOCKET as an int:
 * socket handles are 32-bit significant there (as for every kernel handle
 * shared by 32- and 64-bit processes), so (SOCKET)(intptr_t)gn_conn_fd(c)
 * gives the handle back.                                                     */
GONET_API int gn_conn_fd(gn_conn *c);

/* Options. TCP_NODELAY is on by default for TCP, as in Go.                  */
GONET_API int gn_set_nodelay(gn_conn *c, int on);
/* period 0: the OS default. OpenBSD has no per-socket period: there only
 * SO_KEEPALIVE is set and the period is the system's (Go reports ENOPROTOOPT). */
GONET_API int gn_set_keepalive(gn_conn *c, int on, int64_t period);
GONET_API int gn_set_read_buffer(gn_conn *c, int bytes);
GONET_API int gn_set_write_buffer(gn_conn *c, int bytes);
GONET_API int gn_set_linger(gn_conn *c, int seconds);   /* < 0: OS default        */

/* Wraps an open descriptor (a socket, a pipe, stdin) as a connection. It is
 * made non-blocking and owned by the gn_conn from then on. On Windows only a
 * socket can be wrapped, passed as (int)sock (see gn_conn_fd), and one that
 * allows overlapped I/O (socket() and WSA_FLAG_OVERLAPPED ones do); anything
 * else is GN_ENOSYS.                                                         */
GONET_API int gn_conn_from_fd(gn_conn **out, int fd);

/* gn_read/gn_write as a gn_read_func/gn_write_func (ctx is the gn_conn *), for
 * gn_bufreader and gn_bufwriter.                                              */
GONET_API int64_t gn_conn_reader(void *conn, void *buf, size_t n);
GONET_API int64_t gn_conn_writer(void *conn, const void *buf, size_t n);

/* ---- UDP and unixgram --------------------------------------------------------
 * gn_listen_packet binds a datagram socket; gn_dial("udp", ...) gives a
 * connected one that gn_read / gn_write use. Addresses as strings "ip:port".
 * Windows has "unix" streams (since Windows 10 1803; GN_ENOSYS before) but no
 * "unixgram" (GN_ENOSYS).                                                     */
GONET_API int gn_listen_packet(gn_conn **out, const char *network, const char *address);
/* Receives one datagram: its length (a longer one is truncated to n), and the
 * sender as "ip:port" in from (may be NULL).                                  */
GONET_API int64_t gn_read_from(gn_conn *c, void *buf, size_t n, char *from, size_t from_size);
GONET_API int64_t gn_write_to(gn_conn *c, const void *buf, size_t n, const char *address);
GONET_API int gn_set_broadcast(gn_conn *c, int on);
/* Joins (leaves) a multicast group, e.g. "239.1.2.3"; ifname NULL: any. On
 * Windows ifname is an interface index in decimal ("12"), not a name. Where
 * the system lacks MCAST_JOIN_GROUP (OpenBSD, NetBSD), an IPv4 group is
 * joined by the interface's IPv4 address, as Go does: -EADDRNOTAVAIL if it
 * has none.                                                                   */
GONET_API int gn_join_group(gn_conn *c, const char *group, const char *ifname);
GONET_API int gn_leave_group(gn_conn *c, const char *group, const char *ifname);

#ifdef __cplusplus
}
#endif
