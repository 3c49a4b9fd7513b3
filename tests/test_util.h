/* test_util.h — what every gonet test program shares: sanitizer detection, the
 * load scale, atomic helpers and starting a runtime with a number of Ps.
 * Include after greatest.h, in the one file that defines GONET_IMPLEMENTATION. */
#ifndef GN_TEST_UTIL_H
#define GN_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__)
#  define T_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define T_TSAN 1
#  endif
#endif

/* GN_TEST_SCALE=small (set by `make asan`, `make tsan` and `make test-arm64`;
 * also the default in ThreadSanitizer builds) divides the heavy loops by 10.   */
static int g_scale = 1;

static void set_scale(void) {
    const char *scale = getenv("GN_TEST_SCALE");
    g_scale = scale && strcmp(scale, "small") == 0 ? 10 : 1;
#if defined(T_TSAN)
    if (!scale) g_scale = 10;
#endif
}

/* Integer equality that prints both values on failure.                        */
#define EQI(exp, got) ASSERT_EQ_FMT((long long)(exp), (long long)(got), "%lld")
#define ALOAD(p)     __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define AADD(p, v)   __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define ASTORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

static inline int run_procs(int procs, void (*fn)(void *), void *arg) {
    gn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.procs = procs;
    return gn_run(&cfg, fn, arg);
}

#endif
