/* poll_iocp.c — the poller on Windows: one I/O completion port, in completion
 * mode. It keeps the contract at the top of poll_epoll.c, with one difference
 * in what an event means: epoll says "the socket may be read now"; here an
 * event is "the overlapped operation you started has finished".
 *
 * Operations. net_windows.c starts each read, write, accept and connect as an
 * overlapped call on a gn__iocp_op (OVERLAPPED first) and parks the coroutine
 * on the pd slot of the op's direction (rg for reads and accepts, wg for
 * writes and connects), exactly as a readiness wait parks. The completion,
 * dequeued here, records the result in the op, clears op->busy, and passes
 * through gn__pd_ready: the parked G wakes, or READY waits for it, or a SPAWN
 * slot starts a coroutine (an idle connection's zero-byte read finishing).
 * A waiter never trusts the slot alone: it loops until its op is not busy, so
 * a READY left by an older completion costs one more look, never a wrong
 * result. A deadline or a close wakes the waiter the usual way; it then
 * cancels its op with CancelIoEx and waits (gn__iocp_wait_done) for the
 * cancelled completion before the OVERLAPPED or the buffer is reused or freed.
 *
 * Lifetime. The ops of a socket live in a gn__iocp_sock, counted: one
 * reference for the gn__fd, one per op in flight. A socket closed with an op
 * in flight (the idle read nobody waits for) is freed by whichever comes
 * last, the close or the completion, so the kernel never writes to freed
 * memory. A completion carries pd->gen from when its op started: one for a
 * socket since closed wakes nobody.
 *
 * Completions on success. Where every provider of a family is an IFS (the
 * base TCP/IP ones are; a layered provider may not be), a socket gets
 * FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: a call that succeeds at once returns
 * its result and queues nothing, so a busy connection's read and write cost
 * no trip through the port. Go checks every installed protocol; this checks
 * the family in use, since an IPX provider (which wine lists) says nothing
 * about TCP.
 *
 * Wake-up: PostQueuedCompletionStatus with a key no socket uses (they use 0),
 * collapsed by a pending flag. arm associates a socket with the port once;
 * disarm has nothing to undo (closesocket does).
 *
 * >>poll-iocp                                                                    */
#if GN__POLL_IOCP

#define GN__IOCP_WAKE_KEY ((ULONG_PTR)1)

typedef struct gn__iocp_sock gn__iocp_sock;

typedef struct gn__iocp_op {
    OVERLAPPED     ov;          /* first: a completion hands back &ov           */
    gn__iocp_sock *owner;
    gn__pd        *pd;          /* whose waiter the completion wakes            */
    uint32_t       gen;         /* pd->gen when it started                      */
    int            mode;        /* 'r' or 'w': the pd slot                      */
    uint32_t       busy;        /* atomic: started, completion not yet seen     */
    uint32_t       status;      /* NTSTATUS of the completion, 0: success       */
    DWORD          bytes;       /* bytes moved, once busy is 0                  */
    DWORD          sync_bytes;  /* the call's own count, for a success at once  */
    DWORD          flags;       /* WSARecv's flags, in and out                  */
} gn__iocp_op;

struct gn__iocp_sock {
    gn__iocp_op r, w;           /* one reader and one writer at a time          */
    uint32_t    refs;           /* atomic: the fd's, plus one per op in flight  */
};

static struct {
    HANDLE   port;
    uint32_t wake_pending;      /* atomic: a wake-up is queued, later ones are no-ops */
    int      skip_ok[3];        /* AF_INET, AF_INET6, AF_UNIX: success queues nothing */
} gn__iocp;

GN__PRIVATE gn__iocp_sock *gn__iocp_sock_new(void) {
    gn__iocp_sock *s = (gn__iocp_sock *)GN_MALLOC(sizeof *s);
    if (!s) return NULL;
    memset(s, 0, sizeof *s);
    s->r.owner = s->w.owner = s;
    s->r.mode = 'r';
    s->w.mode = 'w';
    s->refs = 1;
    return s;
}

GN__PRIVATE void gn__iocp_sock_put(gn__iocp_sock *s) {
    if (gn__xadd(&s->refs, (uint32_t)-1) == 1) GN_FREE(s);
}

/* Before an overlapped call on op for pd: from here a completion may come.      */
GN__PRIVATE void gn__iocp_op_start(gn__iocp_op *op, gn__pd *pd) {
    memset(&op->ov, 0, sizeof op->ov);
    op->pd = pd;
    op->gen = gn__load(&pd->gen);
    op->status = 0;
    op->bytes = op->sync_bytes = 0;
    gn__xadd(&op->owner->refs, 1u);
    gn__store(&op->busy, 1u);
}

/* The call finished without queueing a completion (an error, or a success with
 * skip-on-success): the op is free again.                                      */
GN__PRIVATE void gn__iocp_op_done_now(gn__iocp_op *op) {
    gn__store(&op->busy, 0u);
    gn__xadd(&op->owner->refs, (uint32_t)-1);   /* the fd still holds one */
}

/* Waits, parked, until op's completion has been seen, whatever deadlines or
 * closes say meanwhile: a cancelled op still owns its OVERLAPPED and buffer
 * until then. Must run on a coroutine.                                        */
GN__PRIVATE void gn__iocp_wait_done(gn__iocp_op *op) {
    uintptr_t *gpp = op->mode == 'r' ? &op->pd->rg : &op->pd->wg;
    while (gn__load(&op->busy)) {
        uintptr_t old = gn__load(gpp);
        if (old == GN__PD_READY) {
            gn__cas(gpp, &old, (uintptr_t)0);
            continue;
        }
        if (old != 0) gn__fatal("poll descriptor busy while an operation is cancelled");
        if (!gn__cas(gpp, &old, GN__PD_WAIT)) continue;
        if (gn__load(&op->busy)) gn__park(gn__pd_commit, gpp, "io cancel");
        gn__xchg(gpp, (uintptr_t)0);
    }
}

/* Can a socket of this family skip the port when a call succeeds at once?       */
GN__PRIVATE int gn__iocp_skip_ok(int family) {
    switch (family) {
    case AF_INET:  return gn__iocp.skip_ok[0];
    case AF_INET6: return gn__iocp.skip_ok[1];
    case AF_UNIX:  return gn__iocp.skip_ok[2];
    default:       return gn__iocp.skip_ok[0] && gn__iocp.skip_ok[1] && gn__iocp.skip_ok[2];
    }
}

/* Which families have only IFS providers (their handles are kernel handles,
 * so the I/O manager, not a layered provider, completes their operations).   */
GN__PRIVATE void gn__iocp_probe_providers(void) {
    static const int fams[3] = {AF_INET, AF_INET6, AF_UNIX};
    for (int i = 0; i < 3; i++) gn__iocp.skip_ok[i] = 0;
    DWORD len = 0;
    if (WSAEnumProtocolsW(NULL, NULL, &len) != SOCKET_ERROR || WSAGetLastError() != WSAENOBUFS) return;
    WSAPROTOCOL_INFOW *pi = (WSAPROTOCOL_INFOW *)GN_MALLOC(len);
    if (!pi) return;
    int n = WSAEnumProtocolsW(NULL, pi, &len);
    for (int f = 0; f < 3 && n > 0; f++) {
        int seen = 0, ifs = 1;
        for (int i = 0; i < n; i++) {
            if (pi[i].iAddressFamily != fams[f]) continue;
            seen = 1;
            if (!(pi[i].dwServiceFlags1 & XP1_IFS_HANDLES)) ifs = 0;
        }
        gn__iocp.skip_ok[f] = seen && ifs;
    }
    GN_FREE(pi);
}

GN__PRIVATE int gn__netpoll_init(void) {
    gn__iocp.port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0);
    if (!gn__iocp.port) return gn__err_from_wsa((int)GetLastError());
    gn__iocp.wake_pending = 0;
    gn__iocp_probe_providers();
    return 0;
}

/* At the end of a run every M has stopped: the completions still queued (the
 * idle reads of sockets closed last, aborted by closesocket) are taken here so
 * that their ops are freed; nobody is left to wake.                          */
GN__PRIVATE void gn__netpoll_fini(void) {
    if (!gn__iocp.port) return;
    OVERLAPPED_ENTRY evs[64];
    ULONG n = 0;
    while (GetQueuedCompletionStatusEx(gn__iocp.port, evs, 64, &n, 0, FALSE) && n > 0) {
        for (ULONG i = 0; i < n; i++) {
            if (!evs[i].lpOverlapped) continue;
            gn__iocp_op *op = (gn__iocp_op *)(void *)evs[i].lpOverlapped;
            gn__iocp_sock *owner = op->owner;
            gn__store(&op->busy, 0u);
            gn__iocp_sock_put(owner);
        }
    }
    CloseHandle(gn__iocp.port);
    gn__iocp.port = NULL;
}

/* The port keeps every operation: nothing to rebuild.                           */
static inline void gn__netpoll_interest(gn__pd *pd) { (void)pd; }

GN__PRIVATE void gn__netpoll_break(void) {
    uint32_t z = 0;
    if (!gn__cas(&gn__iocp.wake_pending, &z, 1)) return;
    GN__OS_KEEP_BEGIN   /* callable from a coroutine: keep its error state */
    if (!PostQueuedCompletionStatus(gn__iocp.port, 0, GN__IOCP_WAKE_KEY, NULL))
        gn__store(&gn__iocp.wake_pending, 0);
    GN__OS_KEEP_END
}

/* Associates socket s (of family, 0 if unknown) with the port. *skip says
 * whether a call that succeeds at once queues nothing. 0 or an error.        */
GN__PRIVATE int gn__iocp_arm(SOCKET s, int family, int *skip) {
    *skip = 0;
    if (!gn__iocp.port) return -EBADF;   /* outside a run: nothing polls (as epoll's -1) */
    if (!CreateIoCompletionPort((HANDLE)s, gn__iocp.port, 0, 0)) return gn__err_from_wsa((int)GetLastError());
    UCHAR modes = FILE_SKIP_SET_EVENT_ON_HANDLE;
    if (gn__iocp_skip_ok(family)) modes |= FILE_SKIP_COMPLETION_PORT_ON_SUCCESS;
    if (SetFileCompletionNotificationModes((HANDLE)s, modes))
        *skip = (modes & FILE_SKIP_COMPLETION_PORT_ON_SUCCESS) != 0;
    return 0;
}

GN__PRIVATE int gn__netpoll(int64_t delay, gn__glist *out) {
    OVERLAPPED_ENTRY evs[128];
    ULONG n = 0;
    DWORD ms;
    if (delay < 0) ms = INFINITE;
    else if (delay == 0) ms = 0;
    else if (delay >= GN_HOUR) ms = (DWORD)(GN_HOUR / GN_MILLISECOND);   /* wake now and then */
    else ms = (DWORD)((delay + GN_MILLISECOND - 1) / GN_MILLISECOND);
    BOOL ok;
    GN__OS_KEEP_BEGIN
    ok = GetQueuedCompletionStatusEx(gn__iocp.port, evs, 128, &n, ms, FALSE);
    GN__OS_KEEP_END
    if (!ok) return 0;   /* timed out (or the port is gone at shutdown) */
    int before = out->n;
    for (ULONG i = 0; i < n; i++) {
        if (evs[i].lpCompletionKey == GN__IOCP_WAKE_KEY && !evs[i].lpOverlapped) {
            gn__store(&gn__iocp.wake_pending, 0);
            continue;
        }
        if (!evs[i].lpOverlapped) continue;
        gn__iocp_op *op = (gn__iocp_op *)(void *)evs[i].lpOverlapped;
        gn__iocp_sock *owner = op->owner;
        gn__pd *pd = op->pd;
        uint32_t gen = op->gen;
        int mode = op->mode;
        op->status = (uint32_t)op->ov.Internal;
        op->bytes = evs[i].dwNumberOfBytesTransferred;
        /* From here the op may be started again by its waiter.                   */
        gn__store(&op->busy, 0u);
        if (gn__load(&pd->gen) == gen) gn__pd_ready(pd, mode == 'r', mode == 'w', 0, out);
        gn__iocp_sock_put(owner);
    }
    return out->n - before;
}

#endif /* GN__POLL_IOCP */
