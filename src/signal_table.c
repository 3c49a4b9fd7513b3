/* signal_table.c — what signal.c (POSIX) and signal_windows.c share: which
 * channels watch which signals, under the lock that also guards each system's
 * dispositions, and the delivery of one signal to its watchers.
 *
 * >>signal-table                                                                 */

/* The highest signal number the system has. FreeBSD and DragonFly number
 * their real-time signals up to 126, past NSIG (32 there: the old signals
 * only); _SIG_MAXSIG counts them all. Elsewhere NSIG - 1: 64 on Linux, 63
 * on NetBSD, 32 on OpenBSD, 31 on macOS. Windows: the C library's numbers,
 * of which only SIGINT and SIGTERM can be delivered (signal_windows.c).     */
#if GN__OS_WINDOWS
#  define GN__SIG_MAX 64
#elif defined(_SIG_MAXSIG)
#  define GN__SIG_MAX _SIG_MAXSIG
#elif defined(_NSIG)
#  define GN__SIG_MAX (_NSIG - 1)
#else
#  define GN__SIG_MAX (NSIG - 1)
#endif
/* Sets of signals: 32-bit words, lock-free everywhere, also where 64-bit
 * atomics are not (signal.c's pending set is one).                          */
#define GN__SIG_WORDS ((GN__SIG_MAX + 31) / 32)
#define GN__SIG_WORD(s) ((unsigned)((s) - 1) / 32u)
#define GN__SIG_BIT(s)  (1u << ((unsigned)((s) - 1) % 32u))

enum { GN__SIG_DEFAULT = 0, GN__SIG_CATCH, GN__SIG_IGNORE };

typedef struct gn__sigwatch {
    gn_chan  *c;
    uint32_t  want[GN__SIG_WORDS];
} gn__sigwatch;

static struct {
    uint32_t      lock;   /* the table and each system's dispositions            */
    gn__sigwatch *w;      /* the channels that watch something                  */
    int           nw, cw;
} gn__sigt;

/* The rest under the lock.                                                     */
GN__PRIVATE int gn__sig_find(gn_chan *c) {
    for (int i = 0; i < gn__sigt.nw; i++)
        if (gn__sigt.w[i].c == c) return i;
    return -1;
}

GN__PRIVATE void gn__sig_remove_at(int i) { gn__sigt.w[i] = gn__sigt.w[--gn__sigt.nw]; }

GN__PRIVATE int gn__sig_watched(int s) {
    for (int i = 0; i < gn__sigt.nw; i++)
        if (gn__sigt.w[i].want[GN__SIG_WORD(s)] & GN__SIG_BIT(s)) return 1;
    return 0;
}

/* No channel watches s any more; drops the watchers left with nothing.       */
GN__PRIVATE void gn__sig_unwatch_all(int s) {
    for (int i = gn__sigt.nw - 1; i >= 0; i--) {
        uint32_t *want = gn__sigt.w[i].want;
        want[GN__SIG_WORD(s)] &= ~GN__SIG_BIT(s);
        int empty = 1;
        for (int k = 0; k < GN__SIG_WORDS; k++) empty &= want[k] == 0;
        if (empty) gn__sig_remove_at(i);
    }
}

/* c watches s too. 0 or GN_ENOMEM.                                            */
GN__PRIVATE int gn__sig_watch(gn_chan *c, int s) {
    int i = gn__sig_find(c);
    if (i < 0) {
        if (gn__sigt.nw == gn__sigt.cw) {
            int cap = gn__sigt.cw ? gn__sigt.cw * 2 : 8;
            gn__sigwatch *w = (gn__sigwatch *)GN_REALLOC(gn__sigt.w, (size_t)cap * sizeof *w);
            if (!w) return GN_ENOMEM;
            gn__sigt.w = w;
            gn__sigt.cw = cap;
        }
        i = gn__sigt.nw++;
        memset(&gn__sigt.w[i], 0, sizeof gn__sigt.w[i]);
        gn__sigt.w[i].c = c;
    }
    gn__sigt.w[i].want[GN__SIG_WORD(s)] |= GN__SIG_BIT(s);
    return 0;
}

/* Sends s to every channel that watches it; 1 if there was one. A full or
 * closed channel drops it, as Go's does.                                     */
GN__PRIVATE int gn__sig_send(int s) {
    int sent = 0;
    for (int i = 0; i < gn__sigt.nw; i++) {
        if (gn__sigt.w[i].want[GN__SIG_WORD(s)] & GN__SIG_BIT(s)) {
            gn_chan_try_send(gn__sigt.w[i].c, &s);
            sent = 1;
        }
    }
    return sent;
}

/* At the end of a run: no watchers.                                           */
GN__PRIVATE void gn__sig_forget_all(void) {
    GN_FREE(gn__sigt.w);
    gn__sigt.w = NULL;
    gn__sigt.nw = gn__sigt.cw = 0;
}

/* Holds the runtime open for a caller outside it (see sched.c); 0 if none runs. */
GN__PRIVATE int gn__sig_enter(int *outside) {
    *outside = gn__getm() == NULL;
    return *outside ? gn__outside_enter() : 1;
}
