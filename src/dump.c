/* dump.c — the coroutine dump (gn_dump, and SIGQUIT with gn_config.quit_dump):
 * one line per live coroutine with its state, what it waits on and for how long.
 * A stuck server is a set of coroutines all waiting on something; the dump says
 * which, on what, since when.
 *
 * The G list is copied under the stack lock into an array and written after the
 * lock is let go: the writer may block (a connection, a pipe), and coroutines
 * must keep being created and freed meanwhile. The fields read from other
 * threads' Gs are written with relaxed atomics, so a dump taken while they run
 * is a consistent line per coroutine, not a snapshot of the whole runtime.
 *
 * >>dump                                                                        */

typedef struct gn__dump_rec {
    int64_t     id, parent, since;
    uint32_t    status;
    const char *reason;
    const void *obj;
    uintptr_t   fn;
    size_t      used, size;   /* stack bytes in use (parked Gs only) and in all */
} gn__dump_rec;

GN__PRIVATE int gn__dump_cmp(const void *a, const void *b) {
    int64_t x = ((const gn__dump_rec *)a)->id, y = ((const gn__dump_rec *)b)->id;
    return (x > y) - (x < y);
}

/* What a parked G waits on, in words. The park's argument says it: a channel or
 * a lock by address (equal addresses mean the same object), a poller slot by
 * its fd.                                                                        */
GN__PRIVATE void gn__dump_obj(const gn__dump_rec *r, char *buf, size_t size) {
    buf[0] = 0;
    if (!r->reason || !r->obj) return;
    if (strcmp(r->reason, "read") == 0 || strcmp(r->reason, "write") == 0) {
        const char *slot = (const char *)r->obj;
        size_t off = r->reason[0] == 'r' ? offsetof(gn__pd, rg) : offsetof(gn__pd, wg);
        const gn__pd *pd = (const gn__pd *)(const void *)(slot - off);
        snprintf(buf, size, "fd %d, ", gn__load_relaxed(&pd->fd));
    } else if (strcmp(r->reason, "sleep") != 0) {
        snprintf(buf, size, "on %p, ", r->obj);
    }
}

GN__PRIVATE int64_t gn__dump_line(const gn__dump_rec *r, int64_t now, char *buf, size_t size) {
    char state[64], obj[48], stack[64];
    switch (r->status) {
    case GN__G_RUNNING:  snprintf(state, sizeof state, "running"); break;
    case GN__G_RUNNABLE: snprintf(state, sizeof state, "runnable"); break;
    case GN__G_BLOCKING: snprintf(state, sizeof state, "in a blocking call"); break;
    default:
        if (r->since > 0 && now >= r->since)
            snprintf(state, sizeof state, "%s, %lld ms", r->reason ? r->reason : "waiting",
                     (long long)((now - r->since) / GN_MILLISECOND));
        else
            snprintf(state, sizeof state, "%s", r->reason ? r->reason : "waiting");
        break;
    }
    if (r->status == GN__G_WAITING) gn__dump_obj(r, obj, sizeof obj); else obj[0] = 0;
    if (r->used) snprintf(stack, sizeof stack, "stack %zu of %zu bytes", r->used, r->size);
    else snprintf(stack, sizeof stack, "stack %zu bytes", r->size);
    int n = snprintf(buf, size, "coroutine %lld [%s]: %sfn %p, spawned by %lld, %s\n",
                     (long long)r->id, state, obj, (void *)r->fn, (long long)r->parent, stack);
    return n < 0 ? 0 : GN__MIN((int64_t)n, (int64_t)size - 1);
}

/* Copies the live Gs; *n gets their count. NULL with *n == -1: out of memory.  */
GN__PRIVATE gn__dump_rec *gn__dump_collect(int *n) {
    gn__dump_rec *recs = NULL;
    int cap = 0, len = 0;
    for (;;) {
        gn__lock(&gn__stk.lock);
        int live = 0;
        for (gn__g *g = gn__stk.allg; g; g = g->alllink) {
            uint32_t st = gn__load(&g->status);
            if (st == GN__G_IDLE || st == GN__G_DEAD) continue;
            if (live < cap) {
                gn__dump_rec *r = &recs[live];
                r->id = g->id;
                r->parent = g->parent_id;
                r->status = st;
                r->fn = (uintptr_t)g->fn;
                r->reason = gn__load_relaxed(&g->wait_reason);
                r->obj = gn__load_relaxed(&g->wait_obj);
                r->since = gn__load_relaxed(&g->wait_since);
                r->size = g->stack_size;
                r->used = 0;
#if !GN__CTX_UCONTEXT
                /* A parked G's saved stack pointer says how deep it is.           */
                char *sp = (char *)gn__load_relaxed(&g->ctx.sp);
                if (st == GN__G_WAITING && sp > g->stack_lo && sp <= g->stack_lo + g->stack_size)
                    r->used = (size_t)(g->stack_lo + g->stack_size - sp);
#endif
            }
            live++;
        }
        gn__unlock(&gn__stk.lock);
        if (live <= cap) { len = live; break; }
        /* Grown meanwhile: take room for more than we saw, and look again.        */
        GN_FREE(recs);
        cap = live + live / 4 + 16;
        recs = (gn__dump_rec *)GN_MALLOC((size_t)cap * sizeof *recs);
        if (!recs) { *n = -1; return NULL; }
    }
    qsort(recs, (size_t)len, sizeof *recs, gn__dump_cmp);
    *n = len;
    return recs;
}

GN__PRIVATE int gn__dump_flush(gn_write_func w, void *ctx, const char *buf, size_t *used) {
    int64_t wr = *used ? w(ctx, buf, *used) : 0;
    *used = 0;
    return wr < 0 ? (int)wr : 0;
}

GONET_API int gn_dump(gn_write_func w, void *ctx) {
    if (!w) return GN_EINVAL;
    if (!gn__outside_enter()) return GN_ESTATE;
    int n;
    gn__dump_rec *recs = gn__dump_collect(&n);
    int procs = gn__rt.nprocs;
    int threads = gn__load_relaxed(&gn__rt.mcount);
    int clock = gn__rt.sysmon_on;
    int64_t now = gn__load_relaxed(&gn__rt.now_coarse);
    gn__outside_exit();
    if (n < 0) return GN_ENOMEM;

    char buf[4096];
    size_t used = 0;
    int rc = 0;
    int64_t head = snprintf(buf, sizeof buf, "gonet: %d coroutines, %d Ps, %d threads%s\n", n, procs,
                            threads, clock ? "" : " (no monitor thread: no wait times)");
    used = (size_t)GN__MAX(0, GN__MIN(head, (int64_t)sizeof buf - 1));
    for (int i = 0; i < n && rc == 0; i++) {
        char line[320];
        if (!clock) recs[i].since = 0;
        size_t k = (size_t)gn__dump_line(&recs[i], now, line, sizeof line);
        if (used + k > sizeof buf) rc = gn__dump_flush(w, ctx, buf, &used);
        memcpy(buf + used, line, k);
        used += k;
    }
    if (rc == 0) rc = gn__dump_flush(w, ctx, buf, &used);
    GN_FREE(recs);
    return rc < 0 ? rc : n;
}

GN__PRIVATE int64_t gn__dump_write_stderr(void *ctx, const void *buf, size_t n) {
    (void)ctx;
    fwrite(buf, 1, n, stderr);
    fflush(stderr);
    return (int64_t)n;
}

/* SIGQUIT's dump, written by sysmon (see gn__dump_request in sched.c).           */
GN__PRIVATE void gn__dump_to_stderr(void) {
    gn_dump(gn__dump_write_stderr, NULL);
}
