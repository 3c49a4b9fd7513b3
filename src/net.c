/* net.c — sockets for coroutines: listen, accept, dial, read, write, close,
 * deadlines, options, UDP, and name resolution (Go's net and internal/poll):
 * the portable part. The socket I/O that differs by OS sits in net_posix.c
 * (readiness: try the call, park on the pd when it would block) and
 * net_windows.c (completion: overlapped operations through IOCP); both come
 * before this file and define gn__sock, gn__iov, struct gn__fd and the
 * gn__fd_* / gn__sock_* operations it calls.
 *
 * Lifetime (Go's fdMutex, simplified): each operation holds a reference;
 * gn_close marks the fd closed, wakes its waiters, and drops the owner's
 * reference; the descriptor is closed when the last reference goes, so no
 * operation ever runs on a descriptor number that was reused. One reader and
 * one writer at a time: concurrent readers queue on a gn_mutex.
 *
 * >>net                                                                           */

struct gn_conn     { gn__fd f; };
struct gn_listener { gn__fd f; char *unix_path; };

/* After a gathered write of done bytes: the entries still to send, *n of them,
 * the first one trimmed of what went out. Both backends' writev loops use it. */
GN__PRIVATE gn__iov *gn__iov_advance(gn__iov *iov, int *n, size_t done) {
    while (*n > 0 && done >= iov[0].iov_len) {
        done -= iov[0].iov_len;
        iov++;
        (*n)--;
    }
    if (*n > 0) {
        iov[0].iov_base = (char *)iov[0].iov_base + done;
        iov[0].iov_len -= done;
    }
    return iov;
}

/* ---- the fd lifetime ------------------------------------------------------------- */
/* 1 with a reference taken, or 0 if the fd is closed.                            */
GN__PRIVATE int gn__fd_acquire(gn__fd *f) {
    gn__xadd(&f->refs, 1u);
    if (!gn__load(&f->closed)) return 1;
    gn__xadd(&f->refs, (uint32_t)-1);
    return 0;
}

/* Drops a reference; returns 1 if it was the last (the caller frees).            */
GN__PRIVATE int gn__fd_release(gn__fd *f) {
    if (gn__xadd(&f->refs, (uint32_t)-1) != 1) return 0;
    gn__fd_destroy(f);
    return 1;
}

/* Runs the close hook, if one is set and nobody ran it yet.                     */
GN__PRIVATE void gn__fd_run_on_close(gn__fd *f) {
    void (*fn)(void *) = gn__load(&f->on_close);
    uint32_t z = 0;
    if (fn && gn__cas(&f->on_close_taken, &z, 1u)) fn(f->on_close_arg);
}

GN__PRIVATE int gn__fd_close(gn__fd *f) {
    uint32_t z = 0;
    if (!gn__cas(&f->closed, &z, 1u)) return GN_ECLOSED;
    if (f->pd) gn__pd_evict(f->pd);
    gn__fd_run_on_close(f);
    return 1;
}

/* ---- addresses ------------------------------------------------------------------- */
typedef struct gn__addr {
    struct sockaddr_storage ss;
    socklen_t len;
    int family, type, protocol;
} gn__addr;

typedef struct gn__net { int family, type; int is_unix; } gn__net;

/* "tcp4" -> AF_INET, stream, and so on. 0 or GN_EINVAL for an unknown network. */
GN__PRIVATE int gn__parse_network(const char *network, gn__net *out) {
    static const struct { const char *name; int family, type, is_unix; } nets[] = {
        {"tcp", AF_UNSPEC, SOCK_STREAM, 0}, {"tcp4", AF_INET, SOCK_STREAM, 0},
        {"tcp6", AF_INET6, SOCK_STREAM, 0}, {"udp", AF_UNSPEC, SOCK_DGRAM, 0},
        {"udp4", AF_INET, SOCK_DGRAM, 0},   {"udp6", AF_INET6, SOCK_DGRAM, 0},
        {"unix", AF_UNIX, SOCK_STREAM, 1},  {"unixgram", AF_UNIX, SOCK_DGRAM, 1},
    };
    if (!network) return GN_EINVAL;
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        if (strcmp(network, nets[i].name) == 0) {
            out->family = nets[i].family;
            out->type = nets[i].type;
            out->is_unix = nets[i].is_unix;
            return 0;
        }
    }
    return GN_EINVAL;
}

/* Splits "host:port", "[v6]:port" or ":port" into host (maybe "") and port.    */
GN__PRIVATE int gn__split_host_port(const char *address, char *host, size_t hsize, char *port, size_t psize) {
    if (!address) return GN_EINVAL;
    const char *colon = strrchr(address, ':');
    if (!colon) return GN_EINVAL;
    const char *h = address, *he = colon;
    if (*h == '[') {
        if (he == h || he[-1] != ']') return GN_EINVAL;
        h++;
        he--;
    } else if (memchr(address, ':', (size_t)(colon - address))) {
        return GN_EINVAL;   /* a bare IPv6 address needs brackets */
    }
    size_t hl = (size_t)(he - h), pl = strlen(colon + 1);
    if (hl >= hsize || pl >= psize || pl == 0 || pl > 5) return GN_EINVAL;
    /* Ports are numbers, 0 to 65535 (no service names: those need a file).   */
    long pv = 0;
    for (size_t i = 0; i < pl; i++) {
        if (colon[1 + i] < '0' || colon[1 + i] > '9') return GN_EINVAL;
        pv = pv * 10 + (colon[1 + i] - '0');
    }
    if (pv > 65535) return GN_EINVAL;
    memcpy(host, h, hl);
    host[hl] = 0;
    memcpy(port, colon + 1, pl + 1);
    return 0;
}

typedef struct gn__resolve {
    const char *host, *port;
    struct addrinfo hints, *res;
    int rc;
} gn__resolve;

GN__PRIVATE void gn__resolve_run(void *arg) {
    gn__resolve *r = (gn__resolve *)arg;
    r->rc = getaddrinfo(r->host, r->port, &r->hints, &r->res);
}

GN__PRIVATE int gn__gai_error(int rc) {
    switch (rc) {
    case 0: return 0;
    case EAI_MEMORY: return GN_ENOMEM;
#ifdef EAI_SYSTEM
    case EAI_SYSTEM: return gn__err_from_errno(errno);
#endif
    case EAI_NONAME: return GN_ENOHOST;
#ifdef EAI_NODATA
    case EAI_NODATA: return GN_ENOHOST;
#endif
    case EAI_SERVICE: return GN_EINVAL;
    default: return GN_ENOHOST;
    }
}

/* Resolves address for net into at most max addresses, IPv6 first as the
 * system orders them. Numeric hosts never block; names resolve through
 * gn_blocking so that other coroutines keep running.                        */
GN__PRIVATE int gn__resolve_addrs(const gn__net *net, const char *address, int passive,
                                  gn__addr *out, int max) {
    if (net->is_unix) {
        struct sockaddr_un *un = (struct sockaddr_un *)&out[0].ss;
        size_t len = address ? strlen(address) : 0;
        if (len == 0 || len >= sizeof un->sun_path) return GN_EINVAL;
        memset(&out[0], 0, sizeof out[0]);
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, address, len + 1);
        out[0].len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
        out[0].family = AF_UNIX;
        out[0].type = net->type;
        return 1;
    }
    char host[256], port[32];
    int rc = gn__split_host_port(address, host, sizeof host, port, sizeof port);
    if (rc) return rc;
    gn__resolve r;
    memset(&r, 0, sizeof r);
    r.host = host[0] ? host : NULL;
    r.port = port;
    r.hints.ai_family = net->family;
    r.hints.ai_socktype = net->type;
    r.hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0) | (host[0] ? 0 : AI_PASSIVE);
    /* A literal address needs no resolver: try that first, without blocking.    */
    r.hints.ai_flags |= AI_NUMERICHOST;
    r.rc = host[0] ? getaddrinfo(r.host, r.port, &r.hints, &r.res) : EAI_NONAME;
    if (r.rc == EAI_NONAME && host[0]) {
        r.hints.ai_flags &= ~AI_NUMERICHOST;
        if (gn__getg()) gn_blocking(gn__resolve_run, &r); else gn__resolve_run(&r);
    } else if (!host[0]) {
        /* ":port": every interface. For "tcp"/"udp", the IPv6 wildcard with
         * V6ONLY off serves both families (as Go does); fall back to IPv4.      */
        memset(&out[0], 0, sizeof out[0]);
        int n = 0;
        if (net->family != AF_INET) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out[n].ss;
            a6->sin6_family = AF_INET6;
            a6->sin6_addr = in6addr_any;
            a6->sin6_port = htons((uint16_t)atoi(port));
            out[n].len = sizeof *a6;
            out[n].family = AF_INET6;
            out[n].type = net->type;
            n++;
        }
        if (net->family != AF_INET6 && n < max) {
            memset(&out[n], 0, sizeof out[n]);
            struct sockaddr_in *a4 = (struct sockaddr_in *)&out[n].ss;
            a4->sin_family = AF_INET;
            a4->sin_addr.s_addr = htonl(INADDR_ANY);
            a4->sin_port = htons((uint16_t)atoi(port));
            out[n].len = sizeof *a4;
            out[n].family = AF_INET;
            out[n].type = net->type;
            n++;
        }
#if GN__NO_V4MAPPED
        /* No dual-stack sockets here (see net_posix.c): IPv4 first, so that a
         * listener on ":port" serves IPv4, as Go's does on these systems.     */
        if (n == 2) {
            gn__addr t = out[0];
            out[0] = out[1];
            out[1] = t;
        }
#endif
        return n;
    }
    if (r.rc != 0) return gn__gai_error(r.rc);
    int n = 0;
    for (struct addrinfo *ai = r.res; ai && n < max; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof out[n].ss) continue;
        memset(&out[n], 0, sizeof out[n]);
        memcpy(&out[n].ss, ai->ai_addr, ai->ai_addrlen);
        out[n].len = ai->ai_addrlen;
        out[n].family = ai->ai_family;
        out[n].type = net->type;
        out[n].protocol = ai->ai_protocol;
        n++;
    }
    freeaddrinfo(r.res);
    return n > 0 ? n : GN_ENOHOST;
}

/* Writes "ip:port", "[ip6]:port" or a unix path into buf. Length or GN_EINVAL. */
GN__PRIVATE int gn__format_addr(const struct sockaddr *sa, socklen_t len, char *buf, size_t size) {
    if (!buf || size == 0) return GN_EINVAL;
    char ip[INET6_ADDRSTRLEN];
    int n;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        n = snprintf(buf, size, "%s:%u", ip, ntohs(a->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            /* An IPv4 peer of a dual-stack socket is an IPv4 address, as in Go. */
            inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, sizeof ip);
            n = snprintf(buf, size, "%s:%u", ip, ntohs(a->sin6_port));
        } else {
            inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
            n = snprintf(buf, size, "[%s]:%u", ip, ntohs(a->sin6_port));
        }
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *a = (const struct sockaddr_un *)sa;
        size_t pl = (size_t)len > offsetof(struct sockaddr_un, sun_path)
                        ? strnlen(a->sun_path, (size_t)len - offsetof(struct sockaddr_un, sun_path)) : 0;
        n = snprintf(buf, size, "%.*s", (int)pl, a->sun_path);
    } else {
        return GN_EINVAL;
    }
    return n < 0 || (size_t)n >= size ? GN_EINVAL : n;
}

GN__PRIVATE int gn__sock_addr(gn__sock fd, int peer, char *buf, size_t size) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (rc != 0) return gn__sock_error();
    return gn__format_addr((struct sockaddr *)&ss, len, buf, size);
}

GN__PRIVATE int gn__new_conn(gn_conn **out, gn__sock fd, int family, int type) {
    gn_conn *c = (gn_conn *)GN_MALLOC(sizeof *c);
    if (!c) {
        gn__sock_close(fd);
        return GN_ENOMEM;
    }
    int rc = gn__fd_init(&c->f, fd, family, type);
    if (rc < 0) {
        gn__sock_close(fd);
        GN_FREE(c);
        return rc;
    }
    if (type == SOCK_STREAM && (family == AF_INET || family == AF_INET6)) {
        int one = 1;
        gn__sys_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one);
    }
    *out = c;
    return 0;
}

/* ---- listening ------------------------------------------------------------------- */
GONET_API int gn_listen_with(gn_listener **out, const char *network, const char *address,
                             const gn_listen_opts *opts) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__net net;
    if (gn__parse_network(network, &net) != 0 || net.type != SOCK_STREAM) return GN_EINVAL;
    gn__addr addrs[8];
    int n = gn__resolve_addrs(&net, address, 1, addrs, 8);
    if (n < 0) return n;
    int rc = GN_EINVAL;
    for (int i = 0; i < n; i++) {
        gn__sock fd = GN__SOCK_INVALID;
        if ((rc = gn__socket(addrs[i].family, SOCK_STREAM, 0, &fd)) < 0) continue;
        int one = 1, zero = 0;
        if ((rc = gn__sock_listen_opts(fd, addrs[i].family, opts && opts->reuse_port)) < 0) {
            gn__sock_close(fd);
            return rc;
        }
        if (addrs[i].family == AF_INET6 && net.family == AF_UNSPEC)
            gn__sys_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&zero, sizeof zero);
        if (addrs[i].family == AF_INET6 && net.family == AF_INET6)
            gn__sys_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&one, sizeof one);
        int backlog = opts && opts->backlog > 0 ? opts->backlog : SOMAXCONN;
        if (gn__sys_bind(fd, (struct sockaddr *)&addrs[i].ss, addrs[i].len) != 0 || gn__sys_listen(fd, backlog) != 0) {
            rc = gn__sock_error();
            gn__sock_close(fd);
            continue;
        }
        gn_listener *l = (gn_listener *)GN_MALLOC(sizeof *l);
        if (!l) { gn__sock_close(fd); return GN_ENOMEM; }
        l->unix_path = NULL;
        if ((rc = gn__fd_init(&l->f, fd, addrs[i].family, SOCK_STREAM)) < 0) {
            gn__sock_close(fd);
            GN_FREE(l);
            return rc;
        }
        if (net.is_unix) {
            l->unix_path = gn__strdup(address);
        }
        *out = l;
        return 0;
    }
    return rc;
}

GONET_API int gn_listen(gn_listener **out, const char *network, const char *address) {
    return gn_listen_with(out, network, address, NULL);
}

GONET_API int gn_accept(gn_listener *l, gn_conn **out) {
    if (!l || !out) return GN_EINVAL;
    *out = NULL;
    if (!gn__fd_acquire(&l->f)) return GN_ECLOSED;
    gn_mutex_lock(&l->f.rmu);
    int64_t backoff = 0;
    int rc;
    for (;;) {
        gn__sock fd = GN__SOCK_INVALID;
        rc = gn__fd_accept(&l->f, &fd);
        if (rc == 0) {
            rc = gn__new_conn(out, fd, l->f.family, SOCK_STREAM);
            if (rc == 0) break;
            continue;   /* out of memory for this one: it is closed, take the next */
        }
        if (rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS || rc == GN_ENOMEM) {
            /* Out of descriptors or memory: wait for some to free up.           */
            backoff = backoff ? GN__MIN(backoff * 2, GN_SECOND) : 5 * GN_MILLISECOND;
            gn_sleep(backoff);
            continue;
        }
        break;
    }
    gn_mutex_unlock(&l->f.rmu);
    if (gn__fd_release(&l->f)) {
        GN_FREE(l->unix_path);
        GN_FREE(l);
    }
    return rc;
}

GONET_API int gn_listener_close(gn_listener *l) {
    if (!l) return GN_EINVAL;
    int rc = gn__fd_close(&l->f);
    if (rc < 0) return rc;
    if (l->unix_path) gn__sock_unlink(l->unix_path);
    if (gn__fd_release(&l->f)) {
        GN_FREE(l->unix_path);
        GN_FREE(l);
    }
    return 0;
}

GONET_API int gn_listener_addr(gn_listener *l, char *buf, size_t size) {
    if (!l) return GN_EINVAL;
    return gn__sock_addr(l->f.fd, 0, buf, size);
}

GONET_API int gn_listener_port(gn_listener *l) {
    if (!l) return GN_EINVAL;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(l->f.fd, (struct sockaddr *)&ss, &len) != 0) return gn__sock_error();
    if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return GN_EINVAL;
}

GONET_API int gn_listener_set_deadline(gn_listener *l, int64_t deadline) {
    if (!l) return GN_EINVAL;
    if (!gn__fd_acquire(&l->f)) return GN_ECLOSED;
    int rc = l->f.pd ? gn__pd_set_deadline(l->f.pd, deadline, 'r') : GN_ENOSYS;
    if (gn__fd_release(&l->f)) {
        GN_FREE(l->unix_path);
        GN_FREE(l);
    }
    return rc;
}

/* ---- dialing --------------------------------------------------------------------- */
/* gn_dial_context's cancel, run by the context watch (context.c): it fails the
 * attempt in flight, the watch's target (NULL: none), by moving its write
 * deadline into the past.                                                       */
GN__PRIVATE void gn__dial_cancel(void *pd, int err) {
    (void)err;
    if (pd) gn__pd_set_deadline((gn__pd *)pd, 1, 'w');
}

/* Connects one address before deadline (0: none). 0 and *out, or an error.      */
GN__PRIVATE int gn__dial_one(const gn__addr *a, int64_t deadline, gn__ctxwatch *w, gn_conn **out) {
    gn__sock fd = GN__SOCK_INVALID;
    int rc = gn__socket(a->family, a->type, a->protocol, &fd);
    if (rc < 0) return rc;
    gn_conn *c;
    rc = gn__new_conn(&c, fd, a->family, a->type);
    if (rc < 0) return rc;
    /* The deadline first: set after the watch points here, it could overwrite
     * the past deadline of a cancel.                                          */
    if (deadline && c->f.pd) gn__pd_set_deadline(c->f.pd, deadline, 'w');
    if (gn__ctxwatch_retarget(w, c->f.pd)) {   /* the context has already fired */
        gn__ctxwatch_retarget(w, NULL);
        gn_close(c);
        return GN_ECANCELED;
    }
    rc = gn__fd_connect(&c->f, (const struct sockaddr *)&a->ss, a->len);
    if (gn__ctxwatch_retarget(w, NULL) && rc == GN_ETIMEDOUT) rc = GN_ECANCELED;
    if (rc == 0 && deadline && c->f.pd) gn__pd_set_deadline(c->f.pd, 0, 'w');
    if (rc != 0) {
        gn_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

GN__PRIVATE int gn__dial(gn_context *ctx, gn_conn **out, const char *network, const char *address,
                         int64_t deadline) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__net net;
    if (gn__parse_network(network, &net) != 0) return GN_EINVAL;
    if (ctx) {
        if (gn_context_err(ctx)) return gn_context_err(ctx);
        int64_t cd = gn_context_deadline(ctx);
        if (cd && (!deadline || cd < deadline)) deadline = cd;
    }
    gn__addr addrs[8];
    int n = gn__resolve_addrs(&net, address, 0, addrs, 8);
    if (n < 0) return n;
    /* The caller may free ctx once we return: stop waits for the watcher.      */
    gn__ctxwatch *w;
    int rc = gn__ctxwatch_start(&w, ctx, gn__dial_cancel, NULL);
    if (rc) return rc;
    rc = GN_ENOHOST;
    for (int i = 0; i < n; i++) {
        if (deadline && gn_now() >= deadline) { rc = GN_ETIMEDOUT; break; }
        gn_conn *c = NULL;
        rc = gn__dial_one(&addrs[i], deadline, w, &c);
        if (rc == 0) { *out = c; break; }
        if (rc == GN_ETIMEDOUT || rc == GN_ECANCELED) break;
    }
    if (gn__ctxwatch_stop(w)) {
        if (*out) { gn_close(*out); *out = NULL; }
        rc = GN_ECANCELED;
    }
    /* A context that ended the dial speaks for itself: canceled or deadline.   */
    if ((rc == GN_ETIMEDOUT || rc == GN_ECANCELED) && ctx && gn_context_err(ctx)) rc = gn_context_err(ctx);
    return rc;
}

GONET_API int gn_dial(gn_conn **out, const char *network, const char *address) {
    return gn__dial(NULL, out, network, address, 0);
}
GONET_API int gn_dial_timeout(gn_conn **out, const char *network, const char *address, int64_t timeout) {
    return gn__dial(NULL, out, network, address, timeout > 0 ? gn_now() + timeout : 0);
}
GONET_API int gn_dial_context(gn_context *ctx, gn_conn **out, const char *network, const char *address) {
    return gn__dial(ctx, out, network, address, 0);
}

/* ---- connections --------------------------------------------------------------- */
GN__PRIVATE void gn__conn_put(gn_conn *c) {
    if (gn__fd_release(&c->f)) GN_FREE(c);
}

GONET_API int64_t gn_read(gn_conn *c, void *buf, size_t n) {
    if (!c || (!buf && n)) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.rmu);
    int64_t r = gn__fd_read(&c->f, buf, n);
    gn_mutex_unlock(&c->f.rmu);
    gn__conn_put(c);
    return r;
}

GONET_API int64_t gn_write(gn_conn *c, const void *buf, size_t n) {
    if (!c || (!buf && n)) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.wmu);
    int64_t r = gn__fd_write(&c->f, buf, n);
    gn_mutex_unlock(&c->f.wmu);
    gn__conn_put(c);
    return r;
}

/* Waits for c to become readable without a coroutine or a buffer: arms the
 * poller to start fn(arg) in a new coroutine when c is readable (or its read
 * deadline passes, or it is closed), and returns 0: the caller's coroutine is
 * free to end. Only after a short read (the socket known empty) does it arm;
 * 1: readable now (or not known empty), read. < 0: the error a read would get. */
GN__PRIVATE int gn__conn_park_idle(gn_conn *c, void (*fn)(void *), void *arg) {
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    int rc = gn__fd_park_idle(&c->f, fn, arg);
    gn__conn_put(c);
    return rc;
}

/* gn__conn_park_idle for a connection nothing has been read from yet (just
 * accepted): the poller's state alone says whether it is readable, so it arms
 * without a system call even though no read has come back short.            */
GN__PRIVATE int gn__conn_park_new(gn_conn *c, void (*fn)(void *), void *arg) {
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    int rc = gn__fd_park_new(&c->f, fn, arg);
    gn__conn_put(c);
    return rc;
}

/* Watches c for the peer going away while nobody reads it (a handler at work):
 * arms the poller to start fn(arg) on readiness, deadline or close; fn then
 * looks at gn__conn_hung_up. 0: armed. 1: readiness was there already (and is
 * consumed: the next read must not wait for an edge). < 0: closed or timed out.
 * gn__conn_unwatch takes an armed watch back: 1 if it had not fired.           */
GN__PRIVATE int gn__conn_watch(gn_conn *c, void (*fn)(void *), void *arg) { return gn__fd_watch(&c->f, fn, arg); }
GN__PRIVATE int gn__conn_unwatch(gn_conn *c) { return gn__fd_unwatch(&c->f); }
/* Ends both directions now, for a forced close: the peer sees the end, and a
 * read or write blocked on c returns (GN_EOF, -EPIPE).                         */
GN__PRIVATE void gn__conn_cut(gn_conn *c) { gn__fd_cut(&c->f); }
/* Did the peer go away (or c close)? 1 or 0; no wait.                           */
GN__PRIVATE int gn__conn_hung_up(gn_conn *c) { return gn__fd_hung_up(&c->f); }

/* gn_write for several buffers at once.                                         */
GN__PRIVATE int64_t gn__conn_writev(gn_conn *c, gn__iov *iov, int n) {
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.wmu);
    int64_t r = gn__fd_writev(&c->f, iov, n);
    gn_mutex_unlock(&c->f.wmu);
    gn__conn_put(c);
    return r;
}

GONET_API int64_t gn_conn_reader(void *conn, void *buf, size_t n) { return gn_read((gn_conn *)conn, buf, n); }
GONET_API int64_t gn_conn_writer(void *conn, const void *buf, size_t n) {
    return gn_write((gn_conn *)conn, buf, n);
}

GONET_API int gn_close(gn_conn *c) {
    if (!c) return GN_EINVAL;
    int rc = gn__fd_close(&c->f);
    if (rc < 0) return rc;
    gn__conn_put(c);
    return 0;
}

GN__PRIVATE int gn__shutdown(gn_conn *c, int how) {
    if (!c) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    int rc = gn__sys_shutdown(c->f.fd, how) == 0 ? 0 : gn__sock_error();
    gn__conn_put(c);
    return rc;
}
GONET_API int gn_close_read(gn_conn *c) { return gn__shutdown(c, SHUT_RD); }
GONET_API int gn_close_write(gn_conn *c) { return gn__shutdown(c, SHUT_WR); }

GN__PRIVATE int gn__conn_deadline(gn_conn *c, int64_t d, int mode) {
    if (!c) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    int rc = c->f.pd ? gn__pd_set_deadline(c->f.pd, d, mode) : GN_ENOSYS;
    gn__conn_put(c);
    return rc;
}
GONET_API int gn_set_deadline(gn_conn *c, int64_t d) { return gn__conn_deadline(c, d, 'b'); }
GONET_API int gn_set_read_deadline(gn_conn *c, int64_t d) { return gn__conn_deadline(c, d, 'r'); }
GONET_API int gn_set_write_deadline(gn_conn *c, int64_t d) { return gn__conn_deadline(c, d, 'w'); }

GONET_API int gn_local_addr(gn_conn *c, char *buf, size_t size) {
    return c ? gn__sock_addr(c->f.fd, 0, buf, size) : GN_EINVAL;
}
GONET_API int gn_remote_addr(gn_conn *c, char *buf, size_t size) {
    return c ? gn__sock_addr(c->f.fd, 1, buf, size) : GN_EINVAL;
}
GONET_API int gn_conn_fd(gn_conn *c) { return c ? (int)c->f.fd : GN_EINVAL; }

GN__PRIVATE int gn__setopt(gn_conn *c, int level, int name, const void *v, socklen_t len) {
    if (!c) return GN_EINVAL;
    return gn__sys_setsockopt(c->f.fd, level, name, (const char *)v, len) == 0 ? 0 : gn__sock_error();
}
GONET_API int gn_set_nodelay(gn_conn *c, int on) {
    int v = on != 0;
    return gn__setopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}
GONET_API int gn_set_keepalive(gn_conn *c, int on, int64_t period) {
    int v = on != 0;
    int rc = gn__setopt(c, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v);
    if (rc == 0 && on && period > 0)
        rc = gn__sock_keepalive(c->f.fd, (int)GN__MAX((period + GN_SECOND - 1) / GN_SECOND, (int64_t)1));
    return rc;
}
GONET_API int gn_set_read_buffer(gn_conn *c, int bytes) {
    return bytes < 0 ? GN_EINVAL : gn__setopt(c, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}
GONET_API int gn_set_write_buffer(gn_conn *c, int bytes) {
    return bytes < 0 ? GN_EINVAL : gn__setopt(c, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}
GONET_API int gn_set_linger(gn_conn *c, int seconds) {
    struct linger l;
    l.l_onoff = seconds >= 0;
    l.l_linger = seconds >= 0 ? seconds : 0;
    return gn__setopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

GONET_API int gn_conn_from_fd(gn_conn **out, int fd) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__sock s = GN__SOCK_INVALID;
    int family = AF_UNSPEC, type = SOCK_STREAM;
    int rc = gn__conn_wrap_os(fd, &s, &family, &type);
    if (rc < 0) return rc;
    gn_conn *c = (gn_conn *)GN_MALLOC(sizeof *c);
    if (!c) return GN_ENOMEM;
    rc = gn__fd_init(&c->f, s, family, type);
    if (rc < 0) {
        GN_FREE(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* ---- datagrams ------------------------------------------------------------------- */
GONET_API int gn_listen_packet(gn_conn **out, const char *network, const char *address) {
    if (!out) return GN_EINVAL;
    *out = NULL;
    gn__net net;
    if (gn__parse_network(network, &net) != 0 || net.type != SOCK_DGRAM) return GN_EINVAL;
    gn__addr addrs[8];
    int n = gn__resolve_addrs(&net, address, 1, addrs, 8);
    if (n < 0) return n;
    int rc = GN_EINVAL;
    for (int i = 0; i < n; i++) {
        gn__sock fd = GN__SOCK_INVALID;
        if ((rc = gn__socket(addrs[i].family, SOCK_DGRAM, 0, &fd)) < 0) continue;
        int zero = 0;
        if (addrs[i].family == AF_INET6 && net.family == AF_UNSPEC)
            gn__sys_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&zero, sizeof zero);
        gn__sock_listen_opts(fd, addrs[i].family, 0);
        if (gn__sys_bind(fd, (struct sockaddr *)&addrs[i].ss, addrs[i].len) != 0) {
            rc = gn__sock_error();
            gn__sock_close(fd);
            continue;
        }
        return gn__new_conn(out, fd, addrs[i].family, SOCK_DGRAM);
    }
    return rc;
}

GONET_API int64_t gn_read_from(gn_conn *c, void *buf, size_t n, char *from, size_t from_size) {
    if (!c || (!buf && n)) return GN_EINVAL;
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.rmu);
    struct sockaddr_storage ss;
    socklen_t len = 0;
    int64_t rc = gn__fd_recvfrom(&c->f, buf, n, &ss, &len);
    if (rc >= 0 && from && from_size) {
        if (len > 0) gn__format_addr((struct sockaddr *)&ss, len, from, from_size);
        else from[0] = 0;
    }
    gn_mutex_unlock(&c->f.rmu);
    gn__conn_put(c);
    return rc;
}

GONET_API int64_t gn_write_to(gn_conn *c, const void *buf, size_t n, const char *address) {
    if (!c || (!buf && n) || !address) return GN_EINVAL;
    gn__net net = {c->f.family == AF_INET6 ? AF_UNSPEC : c->f.family, SOCK_DGRAM, c->f.family == AF_UNIX};
    gn__addr a[4];
    int na = gn__resolve_addrs(&net, address, 0, a, 4);
    if (na < 0) return na;
    int pick = 0;
    for (int i = 0; i < na; i++)
        if (a[i].family == c->f.family) { pick = i; break; }
    if (c->f.family == AF_INET6 && a[pick].family == AF_INET) {
        /* A dual-stack socket reaches IPv4 peers as IPv4-mapped IPv6 addresses. */
        struct sockaddr_in v4 = *(struct sockaddr_in *)&a[pick].ss;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a[pick].ss;
        memset(v6, 0, sizeof *v6);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = v4.sin_port;
        v6->sin6_addr.s6_addr[10] = 0xff;
        v6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(&v6->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
        a[pick].len = sizeof *v6;
    }
    if (!gn__fd_acquire(&c->f)) return GN_ECLOSED;
    gn_mutex_lock(&c->f.wmu);
    int64_t rc = gn__fd_sendto(&c->f, buf, n, (struct sockaddr *)&a[pick].ss, a[pick].len);
    gn_mutex_unlock(&c->f.wmu);
    gn__conn_put(c);
    return rc;
}

GONET_API int gn_set_broadcast(gn_conn *c, int on) {
    int v = on != 0;
    return gn__setopt(c, SOL_SOCKET, SO_BROADCAST, &v, sizeof v);
}

GN__PRIVATE int gn__group(gn_conn *c, const char *group, const char *ifname, int join) {
    if (!c || !group) return GN_EINVAL;
    return gn__sock_group(c->f.fd, group, ifname, join);
}
GONET_API int gn_join_group(gn_conn *c, const char *group, const char *ifname) { return gn__group(c, group, ifname, 1); }
GONET_API int gn_leave_group(gn_conn *c, const char *group, const char *ifname) { return gn__group(c, group, ifname, 0); }
