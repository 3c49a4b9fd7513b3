/* os_windows.c — the OS layer on Windows: clock, futex, memory, threads,
 * sleeping, the CPU count, and the process-wide set-up a run needs (Winsock,
 * the timer resolution). The same gn__os_* contract as os_posix.c with
 * os_linux.c: every call the runtime makes on a coroutine's behalf leaves
 * errno as it found it (and GetLastError too, which Windows code reads the
 * same way).
 *
 * >>os-windows                                                                  */
#if GN__OS_WINDOWS

#include <process.h>   /* _beginthreadex */
#if defined(_MSC_VER)
#  pragma comment(lib, "synchronization")
#endif

/* Keeps errno and the thread's last-error value across an OS call (the later
 * Windows parts use it too: net_windows.c, poll_iocp.c).                      */
#define GN__OS_KEEP_BEGIN { int gn__saved_errno = errno; DWORD gn__saved_lasterr = GetLastError();
#define GN__OS_KEEP_END   errno = gn__saved_errno; SetLastError(gn__saved_lasterr); }

/* GetLastError() is per thread like errno, and Windows code reads it the same
 * way after a failed call: the runtime keeps it per coroutine (sched.c).      */
GN__PRIVATE uint32_t gn__os_lasterr(void) { return (uint32_t)GetLastError(); }
GN__PRIVATE void gn__os_set_lasterr(uint32_t e) { SetLastError((DWORD)e); }

/* The performance counter: monotonic and unaffected by changes of the wall
 * clock, with sub-microsecond resolution; its frequency is fixed at boot.     */
GONET_API int64_t gn_now(void) {
    static int64_t freq;
    LARGE_INTEGER c;
    int64_t f = gn__load_relaxed(&freq);
    if (!f) {
        LARGE_INTEGER q;
        QueryPerformanceFrequency(&q);   /* cannot fail since Windows XP */
        f = q.QuadPart;
        gn__store_relaxed(&freq, f);
    }
    QueryPerformanceCounter(&c);
    return (c.QuadPart / f) * GN_SECOND + (c.QuadPart % f) * GN_SECOND / f;
}

/* Process-wide set-up for a run, from gn_run; gn__os_fini undoes what must be.
 * Winsock is started once per process and never cleaned up (the process's end
 * does that, and sockets may outlive a run in user code). The system timer
 * resolution is raised to 1 ms for the run: every timed wait below (the futex,
 * the poller's) is in milliseconds, and at the default 15.6 ms tick a 1 ms
 * sleep would take 15. timeBeginPeriod is looked up at run time, so users do
 * not need to link winmm; without it, waits are only coarser.               */
typedef unsigned (WINAPI *gn__timeperiod_fn)(unsigned);
static struct {
    int               looked_up;   /* winmm.dll was looked for (once a process) */
    gn__timeperiod_fn begin, end;
    int               raised;      /* this run raised the resolution           */
} gn__tp;

GN__PRIVATE int gn__os_init(void) {
    static uint32_t wsa_started;
    int rc = 0;
    GN__OS_KEEP_BEGIN
    if (!gn__load(&wsa_started)) {
        WSADATA wd;
        if (WSAStartup(MAKEWORD(2, 2), &wd) == 0) gn__store(&wsa_started, 1);
        else rc = GN_ENOSYS;
    }
    if (!gn__tp.looked_up) {
        gn__tp.looked_up = 1;
        HMODULE mm = LoadLibraryA("winmm.dll");
        if (mm) {
            /* Through a void pointer: FARPROC to another function type is a
             * cast gcc's -Wcast-function-type would flag.                      */
            void *b = (void *)GetProcAddress(mm, "timeBeginPeriod");
            void *e = (void *)GetProcAddress(mm, "timeEndPeriod");
            if (b && e) {
                memcpy(&gn__tp.begin, &b, sizeof b);
                memcpy(&gn__tp.end, &e, sizeof e);
            }
        }
    }
    if (rc == 0 && gn__tp.begin) gn__tp.raised = gn__tp.begin(1) == 0;
    GN__OS_KEEP_END
    return rc;
}

GN__PRIVATE void gn__os_fini(void) {
    GN__OS_KEEP_BEGIN
    if (gn__tp.raised) gn__tp.end(1);
    gn__tp.raised = 0;
    GN__OS_KEEP_END
}

/* ---- the futex: WaitOnAddress (Windows 8+, -lsynchronization) ---------------
 * Waits while *addr == val, at most ns nanoseconds (< 0: no limit), rounded up
 * to whole milliseconds (a wait never ends early, only late); spurious wake-ups
 * are allowed, callers re-check.                                               */
GN__PRIVATE void gn__os_futex_wait(uint32_t *addr, uint32_t val, int64_t ns) {
    GN__OS_KEEP_BEGIN
    DWORD ms = INFINITE;
    if (ns >= 0) {
        int64_t m = (ns + GN_MILLISECOND - 1) / GN_MILLISECOND;
        ms = m >= (int64_t)INFINITE ? INFINITE - 1 : (DWORD)m;
    }
    WaitOnAddress((volatile VOID *)addr, &val, sizeof val, ms);
    GN__OS_KEEP_END
}

GN__PRIVATE void gn__os_futex_wake(uint32_t *addr, int n) {
    GN__OS_KEEP_BEGIN
    if (n == 1) WakeByAddressSingle((PVOID)addr);
    else WakeByAddressAll((PVOID)addr);
    GN__OS_KEEP_END
}

/* ---- memory ----------------------------------------------------------------------
 * A stack is reserved whole and committed as it grows, the way the system
 * grows a thread's stack: Windows does not overcommit (a committed page counts
 * against RAM plus page file from the start), so committing every stack whole
 * would make a million 64 KiB coroutines need 64 GiB of commit. The top
 * GN__OS_STACK_COMMIT bytes are committed at once, with one PAGE_GUARD page
 * below them. A touch of that page is the system's own stack growth: it
 * commits the page, moves the guard one page down and lowers the TIB's
 * StackLimit. That works for a coroutine because the context switch gives each
 * one the TIB's stack fields (ctx_x64_win.c). A stack's pages stay committed
 * when its coroutine exits, for the next one on that stack.
 * The guard at the bottom is three pages, laid out like the end of a thread's
 * stack: the lowest never committed (the context switch gives it to the TIB as
 * DeallocationStack), the two above it PAGE_GUARD. Growth that reaches them is
 * an overflow: the system lifts the guard, raises EXCEPTION_STACK_OVERFLOW on
 * the pages it freed, and stack.c's handler names the coroutine there (one
 * page is too little room for the exception record and a WriteFile). Windows
 * has no alternate stack, so a plain PAGE_NOACCESS page would not do: the
 * exception record would be pushed into that very page, and the process would
 * die without a word. PAGE_GUARD is one-shot, so a stack whose overflow was
 * caught and survived (an __except of the user's) has no guard left; the
 * page below still stops it, without a report. An unguarded stack
 * (stack_guard = -1) only lacks the report: it still grows page by page.
 * Windows has no limit like vm.max_map_count.                                  */
#define GN__OS_STACK_COMMIT (8 * 1024)

GN__PRIVATE int gn__os_page_size(void) {
    static int page;
    if (!page) {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        page = (int)si.dwPageSize;
    }
    return page;
}

/* Reserves address space only: gn__os_stack_ready commits what a stack needs.
 * Read-write, as a thread's stack is reserved: wine commits a grown page with
 * the reservation's protection.                                              */
GN__PRIVATE void *gn__os_map(size_t size) {
    void *p;
    GN__OS_KEEP_BEGIN
    p = VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_READWRITE);
    GN__OS_KEEP_END
    return p;
}

/* p is always what gn__os_map returned: VirtualFree releases whole reservations. */
GN__PRIVATE void gn__os_unmap(void *p, size_t size) {
    (void)size;
    GN__OS_KEEP_BEGIN
    VirtualFree(p, 0, MEM_RELEASE);
    GN__OS_KEEP_END
}

GN__PRIVATE size_t gn__os_guard_size(void) { return 3 * (size_t)gn__os_page_size(); }

/* The lowest byte a new stack in [lo, top) has committed: its TIB StackLimit. */
GN__PRIVATE char *gn__os_stack_limit(char *lo, char *top) {
    size_t pg = (size_t)gn__os_page_size();
    char *page_top = (char *)(((uintptr_t)top + pg - 1) & ~(uintptr_t)(pg - 1));
    return page_top - lo > GN__OS_STACK_COMMIT ? page_top - GN__OS_STACK_COMMIT : lo;
}

/* Commits the top of the slot [p, p + size), the growth guard below it and,
 * if guarded, the overflow guard at the bottom (the lowest guard bytes).
 * 0, or -1 when the system is out of commit.                                 */
GN__PRIVATE int gn__os_stack_ready(void *p, size_t size, size_t guard, int guarded) {
    int rc = 0;
    GN__OS_KEEP_BEGIN
    size_t pg = (size_t)gn__os_page_size();
    char *lo = (char *)p, *top = lo + size, *body = lo + guard;
    char *live = gn__os_stack_limit(body, top);
    if (!VirtualAlloc(live, (size_t)(top - live), MEM_COMMIT, PAGE_READWRITE)) rc = -1;
    if (rc == 0 && live - body >= (ptrdiff_t)pg &&
        !VirtualAlloc(live - pg, pg, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD))
        rc = -1;
    if (rc == 0 && guarded && !VirtualAlloc(lo + pg, guard - pg, MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD))
        rc = -1;
    GN__OS_KEEP_END
    return rc;
}

GN__PRIVATE long gn__os_max_map_count(void) { return LONG_MAX; }

/* ---- threads ------------------------------------------------------------------ */
typedef HANDLE gn__os_thread;

typedef struct gn__os_start { void *(*fn)(void *); void *arg; } gn__os_start;

GN__PRIVATE unsigned __stdcall gn__os_thread_main(void *p) {
    gn__os_start s = *(gn__os_start *)p;
    GN_FREE(p);
    s.fn(s.arg);
    return 0;
}

/* _beginthreadex rather than CreateThread: the C runtime sets up its per-thread
 * state for the thread. 256 KiB reserved for the stack, committed as it grows.
 * There are no asynchronous signals to block (see signal_windows.c).          */
GN__PRIVATE int gn__os_thread_start(gn__os_thread *t, void *(*fn)(void *), void *arg) {
    int rc = 0;
    GN__OS_KEEP_BEGIN
    gn__os_start *s = (gn__os_start *)GN_MALLOC(sizeof *s);
    if (!s) {
        rc = GN_ENOMEM;
    } else {
        s->fn = fn;
        s->arg = arg;
        errno = 0;
        uintptr_t h = _beginthreadex(NULL, 256 * 1024, gn__os_thread_main, s,
                                     STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
        if (h == 0) {
            rc = errno ? -errno : GN_ENOMEM;
            GN_FREE(s);
        } else {
            *t = (HANDLE)h;
        }
    }
    GN__OS_KEEP_END
    return rc;
}

GN__PRIVATE void gn__os_thread_join(gn__os_thread t) {
    GN__OS_KEEP_BEGIN
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
    GN__OS_KEEP_END
}

/* Bounds of the calling thread's stack. On a coroutine they are the
 * coroutine's: the context switch keeps the TIB's stack fields current.       */
GN__PRIVATE void gn__os_thread_stack(char **lo, size_t *size) {
    ULONG_PTR l = 0, h = 0;
    GetCurrentThreadStackLimits(&l, &h);
    *lo = (char *)l;
    *size = (size_t)(h - l);
}

/* ---- sleeping ---------------------------------------------------------------------
 * Under a millisecond, yield until the time has passed: the system's timers
 * cannot wait that little (Go yields instead of sleeping there too). Longer,
 * a high-resolution waitable timer (Windows 10 1803+), else a plain one.    */
GN__PRIVATE void gn__os_usleep(int64_t ns) {
    if (ns <= 0) return;
    GN__OS_KEEP_BEGIN
    int64_t end = gn_now() + ns;
    if (ns < GN_MILLISECOND) {
        while (gn_now() < end) SwitchToThread();
    } else {
#ifndef CREATE_WAITABLE_TIMER_HIGH_RESOLUTION
#  define CREATE_WAITABLE_TIMER_HIGH_RESOLUTION 0x00000002
#endif
        HANDLE tm = CreateWaitableTimerExW(NULL, NULL, CREATE_WAITABLE_TIMER_HIGH_RESOLUTION,
                                           TIMER_ALL_ACCESS);
        if (!tm) tm = CreateWaitableTimerExW(NULL, NULL, 0, TIMER_ALL_ACCESS);
        for (int64_t left = ns; left > 0; left = end - gn_now()) {
            LARGE_INTEGER due;
            due.QuadPart = -(left + 99) / 100;   /* relative, in 100 ns units */
            if (tm && SetWaitableTimer(tm, &due, 0, NULL, NULL, FALSE))
                WaitForSingleObject(tm, INFINITE);
            else
                Sleep((DWORD)GN__MIN((left + GN_MILLISECOND - 1) / GN_MILLISECOND, (int64_t)INFINITE - 1));
        }
        if (tm) CloseHandle(tm);
    }
    GN__OS_KEEP_END
}

GN__PRIVATE void gn__os_yield_thread(void) { SwitchToThread(); }

/* ---- CPUs ------------------------------------------------------------------------
 * The CPUs this process may use: its affinity mask, which covers one processor
 * group. A process of a machine with several groups (more than 64 CPUs) whose
 * mask is the whole group may run on all of them (Windows 11 spreads threads
 * over groups), so it counts every active CPU.                                */
GN__PRIVATE int gn__os_ncpu(void) {
    int n = 0;
    GN__OS_KEEP_BEGIN
    DWORD_PTR proc = 0, sys = 0;
    if (GetProcessAffinityMask(GetCurrentProcess(), &proc, &sys)) {
        for (DWORD_PTR m = proc; m; m &= m - 1) n++;
        if (proc == sys && GetActiveProcessorGroupCount() > 1)
            n = (int)GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
    }
    if (n <= 0) {
        SYSTEM_INFO si;
        GetSystemInfo(&si);
        n = (int)si.dwNumberOfProcessors;
    }
    GN__OS_KEEP_END
    return n > 0 ? n : 1;
}

/* Windows has no SIGQUIT: the coroutine dump is on demand only (gn_dump).       */
GN__PRIVATE int gn__os_quit_hook(void (*fn)(void)) { return fn ? GN_ENOSYS : 0; }

#endif /* GN__OS_WINDOWS */
