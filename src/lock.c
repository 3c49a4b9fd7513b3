/* lock.c — the runtime's own thread-level primitives, built on the OS futex:
 *   gn__lock   a mutex for short critical sections (run queues, channels, timers);
 *              it blocks the thread, so never hold one across a switch point;
 *   gn__note   a one-shot sleep/wake-up for parking an M (Go's note).
 * Both are a uint32_t that is ready when zeroed.
 *
 * >>lock                                                                        */

enum { GN__UNLOCKED = 0, GN__LOCKED = 1, GN__CONTENDED = 2 };

GN__PRIVATE void gn__lock_slow(uint32_t *l) {
    for (int spin = 0; spin < 64; spin++) {
        uint32_t c = GN__UNLOCKED;
        if (gn__load_relaxed(l) == GN__UNLOCKED && gn__cas(l, &c, GN__LOCKED)) return;
        gn__cpu_relax();
    }
    while (gn__xchg(l, GN__CONTENDED) != GN__UNLOCKED)
        gn__os_futex_wait(l, GN__CONTENDED, -1);
}

GN__PRIVATE void gn__lock(uint32_t *l) {
    uint32_t c = GN__UNLOCKED;
    if (GN__LIKELY(gn__cas(l, &c, GN__LOCKED))) return;
    gn__lock_slow(l);
}

GN__PRIVATE int gn__trylock(uint32_t *l) {
    uint32_t c = GN__UNLOCKED;
    return gn__cas(l, &c, GN__LOCKED);
}

GN__PRIVATE void gn__unlock(uint32_t *l) {
    if (GN__UNLIKELY(gn__xchg(l, GN__UNLOCKED) == GN__CONTENDED)) gn__os_futex_wake(l, 1);
}

/* A note is cleared (0) or signalled (1). One sleeper, any number of wakers.     */
GN__PRIVATE void gn__note_clear(uint32_t *n) { gn__store(n, 0); }

GN__PRIVATE void gn__note_wakeup(uint32_t *n) {
    if (gn__xchg(n, 1) == 0) gn__os_futex_wake(n, 1);
}

GN__PRIVATE void gn__note_sleep(uint32_t *n) {
    while (gn__load(n) == 0) gn__os_futex_wait(n, 0, -1);
}

/* Returns 1 if signalled, 0 if ns passed first.                                  */
GN__PRIVATE int gn__note_tsleep(uint32_t *n, int64_t ns) {
    int64_t deadline = gn_now() + ns;
    while (gn__load(n) == 0) {
        int64_t left = deadline - gn_now();
        if (left <= 0) return 0;
        gn__os_futex_wait(n, 0, left);
    }
    return 1;
}
