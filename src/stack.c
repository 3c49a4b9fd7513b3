/* stack.c — coroutine stacks: allocation, guard pages, the slab mode, overflow reports.
 *
 * A G and its stack share one mapping: the gn__g struct sits at the top and the
 * stack grows down from just below it, so a coroutine that sleeps after a few
 * calls touches one page in all. Memory is reserved with MAP_NORESERVE and only
 * the pages a coroutine really touches become resident.
 *
 * Guard pages. A guarded stack has a PROT_NONE page below it (three guard pages
 * on Windows, see os_windows.c), so an overflow faults instead of corrupting
 * the neighbour, and the SIGSEGV handler (on an alternate signal stack) names
 * the coroutine. But a guard splits the mapping
 * in two, and Linux allows vm.max_map_count (65530 by default) mappings per
 * process: a million guarded stacks would need two million. So the default
 * (stack_guard = 0) guards stacks while they fit in half of that budget and
 * leaves further ones unguarded; their slabs of 64 stay one mapping each.
 * stack_guard = 1 always guards (and fails with GN_ENOMEM at the limit);
 * -1 never guards.
 *
 * Default-size Gs are never unmapped while the runtime runs: they go back to a
 * free list with their stack. Gs with their own stack size are unmapped on exit.
 *
 * >>stack                                                                        */

enum { GN__STACK_SLAB = 1, GN__STACK_PLAIN = 2 };
#define GN__SLAB_STACKS 64

typedef struct gn__slab { struct gn__slab *next; char *lo; size_t size; } gn__slab;

static struct {
    int       guard_mode;         /* gn_config.stack_guard                      */
    long      guard_budget;       /* guarded stacks we may still create         */
    uint32_t  lock;               /* guards everything below                    */
    gn__slab *slabs;
    char     *slab_next;          /* the next unused slot of the newest slab    */
    int       slab_left;
    size_t    slab_slot;          /* bytes per slab slot                        */
    gn__g    *allg;               /* every G with a mapping, for shutdown       */
    long      nguarded;
    unsigned  colour;             /* the next G's cache colour                  */
} gn__stk;

#define GN__G_SPACE ((sizeof(gn__g) + 63) & ~(size_t)63)

GN__PRIVATE size_t gn__round_page(size_t n) {
    size_t pg = (size_t)gn__os_page_size();
    return (n + pg - 1) & ~(pg - 1);
}

GN__PRIVATE void gn__stack_init(int guard_mode) {
    memset(&gn__stk, 0, sizeof gn__stk);
    gn__stk.guard_mode = guard_mode;
    /* Leave room for the heap, libraries, thread stacks and the user's own maps. */
    long budget = (gn__os_max_map_count() - 8192) / 2;
    gn__stk.guard_budget = budget > 0 ? budget : 0;
}

/* Cache colours. Every stack top is page aligned, so G structs at the very top
 * would all share a few cache sets and evict each other when the scheduler walks
 * queues of Gs. Each G sits 64 bytes * (0..GN__COLOURS-1) below the top instead;
 * the top page keeps room for the frames of a parked coroutine.                 */
#define GN__COLOURS 32

/* Places a G near the top of [lo, lo + size) whose lowest guard bytes are a guard. */
GN__PRIVATE gn__g *gn__g_place(char *map_lo, size_t map_size, size_t guard, int kind) {
    size_t colour = (size_t)(gn__stk.colour++ * 7 % GN__COLOURS) * 64;
    gn__g *g = (gn__g *)(map_lo + map_size - GN__G_SPACE - colour);
#if GN__ASAN
    /* The range may have held another coroutine's stack, whose poisoned frames
     * AddressSanitizer still remembers: munmap does not clear its shadow.      */
    __asan_unpoison_memory_region(map_lo + guard, map_size - guard);
#endif
    memset(g, 0, sizeof *g);
    g->map_lo = map_lo;
    g->map_size = map_size;
    g->stack_lo = map_lo + guard;
    g->stack_size = (size_t)((char *)g - g->stack_lo);
    g->stack_kind = kind;
#if GN__TSAN
    g->tsan_fiber = __tsan_create_fiber(0);
#endif
#if GN__VALGRIND
    g->valgrind_stack = VALGRIND_STACK_REGISTER(g->stack_lo, g->stack_lo + g->stack_size);
#endif
    return g;
}

GN__PRIVATE void gn__allg_add(gn__g *g) {
    g->allprev = NULL;
    g->alllink = gn__stk.allg;
    if (gn__stk.allg) gn__stk.allg->allprev = g;
    gn__stk.allg = g;
}

/* A new G with a stack of at least stack_size bytes, or NULL (out of memory or
 * mappings). Default-size stacks are carved from slabs of 64 slots, each slot a
 * page for the guard and then the stack with its G: one mmap (and at shutdown
 * one munmap) per 64 coroutines. Other sizes get a mapping of their own.         */
GN__PRIVATE gn__g *gn__g_alloc(size_t stack_size, int default_size) {
    size_t pg = gn__os_guard_size();   /* a page; three on Windows (os_windows.c) */
    size_t body = gn__round_page(stack_size + GN__G_SPACE);
    size_t slot = pg + body;
    gn__g *g = NULL;
    char *lo = NULL;
    gn__lock(&gn__stk.lock);
    int guard = gn__stk.guard_mode > 0 ||
                (gn__stk.guard_mode == 0 && gn__stk.nguarded < gn__stk.guard_budget);
    if (default_size) {
        if (gn__stk.slab_left == 0 || gn__stk.slab_slot != slot) {
            size_t size = slot * GN__SLAB_STACKS;
            gn__slab *sl = (gn__slab *)GN_MALLOC(sizeof *sl);
            char *mem = sl ? (char *)gn__os_map(size) : NULL;
            if (mem) {
                sl->lo = mem;
                sl->size = size;
                sl->next = gn__stk.slabs;
                gn__stk.slabs = sl;
                gn__stk.slab_next = mem;
                gn__stk.slab_left = GN__SLAB_STACKS;
                gn__stk.slab_slot = slot;
            } else {
                GN_FREE(sl);
            }
        }
        if (gn__stk.slab_left > 0 && gn__stk.slab_slot == slot) {
            lo = gn__stk.slab_next;
            gn__stk.slab_next += slot;
            gn__stk.slab_left--;
        }
    } else {
        lo = (char *)gn__os_map(slot);
    }
    if (lo && gn__os_stack_ready(lo, slot, pg, guard) != 0) {
        /* Out of mappings for the guard: an unguarded slot keeps its guard
         * bytes as untouched slack, unless every stack must be guarded.      */
        if (guard && gn__stk.guard_mode <= 0 && gn__os_stack_ready(lo, slot, pg, 0) == 0)
            guard = 0;
        else
            lo = NULL;
    }
    if (lo) {
        g = gn__g_place(lo, slot, pg, default_size ? GN__STACK_SLAB : GN__STACK_PLAIN);
        g->guarded = guard;
        if (guard) gn__stk.nguarded++;
        gn__allg_add(g);
    }
    gn__unlock(&gn__stk.lock);
    return g;
}

GN__PRIVATE void gn__g_release(gn__g *g) {
#if GN__TSAN
    __tsan_destroy_fiber(g->tsan_fiber);
#endif
#if GN__VALGRIND
    VALGRIND_STACK_DEREGISTER(g->valgrind_stack);
#endif
#if GN__ASAN
    __asan_unpoison_memory_region(g->stack_lo, g->stack_size);
#endif
    if (g->stack_kind != GN__STACK_SLAB) gn__os_unmap(g->map_lo, g->map_size);
}

/* Frees a G that has its own mapping (called off its stack).                      */
GN__PRIVATE void gn__g_free(gn__g *g) {
    gn__lock(&gn__stk.lock);
    if (g->allprev) g->allprev->alllink = g->alllink; else gn__stk.allg = g->alllink;
    if (g->alllink) g->alllink->allprev = g->allprev;
    if (g->guarded) gn__stk.nguarded--;
    gn__unlock(&gn__stk.lock);
    gn__g_release(g);
}

/* At shutdown: every G and every slab, whatever state it was left in. Freed
 * stacks of a guarded slot are not unmapped one by one: the slab goes whole.     */
GN__PRIVATE void gn__stack_shutdown(void) {
    gn__g *g = gn__stk.allg;
    while (g) {
        gn__g *next = g->alllink;
        gn__g_release(g);
        g = next;
    }
    gn__slab *s = gn__stk.slabs;
    while (s) {
        gn__slab *next = s->next;
        gn__os_unmap(s->lo, s->size);
        GN_FREE(s);
        s = next;
    }
    memset(&gn__stk, 0, sizeof gn__stk);
}

/* ---- overflow reports ----------------------------------------------------------
 * SIGSEGV and SIGBUS run on a per-thread alternate stack. A fault inside the
 * running coroutine's guard page is reported with the coroutine's id; any other
 * fault goes to the previous handler (or the default action) unchanged.
 * Windows has its own version below.                                            */
/* Writes s to stderr with no lock and no allocation: in a fault handler.     */
GN__PRIVATE void gn__write_str(const char *s);   /* per OS, below */
GN__PRIVATE gn__g *gn__signal_curg(void);

GN__PRIVATE void gn__write_u64(uint64_t v) {
    char buf[24], *p = buf + sizeof buf;
    *--p = 0;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    gn__write_str(p);
}

GN__PRIVATE void gn__overflow_report(const gn__g *g) {
    gn__write_str("gonet: stack overflow in coroutine ");
    gn__write_u64((uint64_t)g->id);
    gn__write_str(" (stack ");
    gn__write_u64((uint64_t)g->stack_size);
    gn__write_str(" bytes; raise gn_config.stack_size or gn_go_opts.stack_size)\n");
}

#if GN__OS_POSIX
#define GN__ALTSTACK_SIZE (64 * 1024)

static struct sigaction gn__old_segv, gn__old_bus;
static int gn__overflow_installed;

GN__PRIVATE void gn__write_str(const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}


GN__PRIVATE void gn__overflow_handler(int sig, siginfo_t *info, void *uctx) {
    gn__g *g = gn__signal_curg();
    char *addr = (char *)info->si_addr;
    if (g && g->guarded && addr >= g->map_lo && addr < g->stack_lo) {
        gn__overflow_report(g);
    }
    /* Hand the fault on: restore the previous disposition and let the faulting
     * instruction run again.                                                     */
    struct sigaction *old = sig == SIGBUS ? &gn__old_bus : &gn__old_segv;
    if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
        old->sa_sigaction(sig, info, uctx);
        return;
    }
    if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN && old->sa_handler) {
        old->sa_handler(sig);
        return;
    }
    signal(sig, SIG_DFL);
}

GN__PRIVATE void gn__overflow_install(void) {
#if !GN__ASAN /* AddressSanitizer reports stack overflows itself */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = gn__overflow_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &gn__old_segv);
    sigaction(SIGBUS, &sa, &gn__old_bus);
    gn__overflow_installed = 1;
#endif
}

GN__PRIVATE void gn__overflow_uninstall(void) {
    if (!gn__overflow_installed) return;
    sigaction(SIGSEGV, &gn__old_segv, NULL);
    sigaction(SIGBUS, &gn__old_bus, NULL);
    gn__overflow_installed = 0;
}

/* Each M gets an alternate signal stack. The thread's own one, if any, is put
 * back when the runtime is done with the thread (it matters for the thread that
 * called gn_run, which goes on as the user's).                                  */
typedef struct gn__altstack { void *mem; stack_t old; } gn__altstack;

GN__PRIVATE gn__altstack *gn__altstack_enable(void) {
#if GN__ASAN
    return NULL;
#else
    gn__altstack *a = (gn__altstack *)GN_MALLOC(sizeof *a + GN__ALTSTACK_SIZE);
    if (!a) return NULL;
    stack_t ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = a->mem = (char *)(a + 1);
    ss.ss_size = GN__ALTSTACK_SIZE;
    if (sigaltstack(&ss, &a->old) != 0) {
        GN_FREE(a);
        return NULL;
    }
    return a;
#endif
}

GN__PRIVATE void gn__altstack_disable(gn__altstack *a) {
    if (!a) return;
    stack_t none;
    memset(&none, 0, sizeof none);
    none.ss_flags = SS_DISABLE;
    sigaltstack((a->old.ss_flags & SS_DISABLE) ? &none : &a->old, NULL);
    GN_FREE(a);
}

#else /* Windows */

/* A vectored exception handler sees the stack overflow exception (or an access
 * violation in the guard) first, before any frame's handler. Windows has no
 * alternate stack: the handler runs below the faulting frame, on the guard
 * pages the system has just lifted (see os_windows.c for the layout that makes
 * room). It names the coroutine and ends the process with the exception's
 * code, as an unhandled overflow would: handing the exception on is no use, as
 * unwinding a coroutine's stack never reaches the thread's own last-chance
 * handler. Any other exception goes on unchanged.                             */
typedef struct gn__altstack { int unused; } gn__altstack;

static void *gn__overflow_veh;

GN__PRIVATE void gn__write_str(const char *s) {
    DWORD w;
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), s, (DWORD)strlen(s), &w, NULL);
}


GN__PRIVATE LONG WINAPI gn__overflow_handler(EXCEPTION_POINTERS *ep) {
    EXCEPTION_RECORD *er = ep->ExceptionRecord;
    if (er->ExceptionCode != EXCEPTION_ACCESS_VIOLATION && er->ExceptionCode != EXCEPTION_STACK_OVERFLOW)
        return EXCEPTION_CONTINUE_SEARCH;
    gn__g *g = gn__signal_curg();
    if (!g || !g->guarded) return EXCEPTION_CONTINUE_SEARCH;
    /* An access violation gives the address; the overflow exception may not,
     * but it is raised with the stack pointer on the faulting stack.           */
    char *addr = (char *)ep->ContextRecord->Rsp, *hi = (char *)g;
    if (er->ExceptionCode == EXCEPTION_ACCESS_VIOLATION) {
        if (er->NumberParameters < 2) return EXCEPTION_CONTINUE_SEARCH;
        addr = (char *)er->ExceptionInformation[1];
        hi = g->stack_lo;
    }
    if (addr >= g->map_lo && addr < hi) {
        gn__overflow_report(g);
        TerminateProcess(GetCurrentProcess(), (UINT)er->ExceptionCode);
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

GN__PRIVATE void gn__overflow_install(void) {
#if !GN__ASAN
    gn__overflow_veh = AddVectoredExceptionHandler(1, gn__overflow_handler);
#endif
}

GN__PRIVATE void gn__overflow_uninstall(void) {
    if (!gn__overflow_veh) return;
    RemoveVectoredExceptionHandler(gn__overflow_veh);
    gn__overflow_veh = NULL;
}

GN__PRIVATE gn__altstack *gn__altstack_enable(void) { return NULL; }
GN__PRIVATE void gn__altstack_disable(gn__altstack *a) { (void)a; }

#endif /* GN__OS_POSIX */
