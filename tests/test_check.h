/* test_check.h — checks made inside coroutines, shared by the test programs that
 * run bodies under gn_run: the first-failure record (g_fail, fail_reset), the
 * CK/CKI/CKS/CKF/CKR checks that any coroutine may call (GN_TEST_ALLFAIL=1
 * prints every failed check), and a run_body that runs a body in process under
 * a watchdog and fails the TEST with the first recorded check. A file with its
 * own run_body (and watchdog) defines TEST_CHECK_OWN_RUN_BODY before including
 * this; one that must tidy up after every run defines TEST_CHECK_AFTER_RUN as
 * the function to call. Include after greatest.h and test_util.h.            */
#ifndef GN_TEST_CHECK_H
#define GN_TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- recording failures from any coroutine -------------------------------------
 * The first failure is kept and the TEST fails with it once gn_run has
 * returned (threads joined).                                                     */
static char g_fail[1024];
static int g_fail_set;
static int g_all_fail = -1;   /* GN_TEST_ALLFAIL=1: print every failed check */

static inline int ck_fail(int line, const char *msg) {
    if (ALOAD(&g_all_fail) < 0) ASTORE(&g_all_fail, getenv("GN_TEST_ALLFAIL") != NULL);
    if (ALOAD(&g_all_fail)) fprintf(stderr, "  check failed: line %d: %s\n", line, msg);
    int z = 0;
    if (__atomic_compare_exchange_n(&g_fail_set, &z, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        snprintf(g_fail, sizeof g_fail, "line %d: %s", line, msg);
    return 0;
}
static inline int ck_(int ok, int line, const char *what) { return ok ? 1 : ck_fail(line, what); }
static inline int cki_(long long exp, long long got, int line, const char *what) {
    if (exp == got) return 1;
    char msg[512];
    snprintf(msg, sizeof msg, "%s: expected %lld (%s), got %lld (%s)", what, exp,
             exp < 0 ? gn_strerror((int)exp) : "-", got, got < 0 ? gn_strerror((int)got) : "-");
    return ck_fail(line, msg);
}
static inline int cks_(const char *exp, const char *got, int line, const char *what) {
    if (exp && got && strcmp(exp, got) == 0) return 1;
    char msg[768];
    snprintf(msg, sizeof msg, "%s: expected \"%.300s\", got \"%.300s\"", what, exp ? exp : "(null)",
             got ? got : "(null)");
    return ck_fail(line, msg);
}
#define CK(c)         ck_(!!(c), __LINE__, #c)
#define CKI(exp, got) cki_((long long)(exp), (long long)(got), __LINE__, #got)
#define CKS(exp, got) cks_((exp), (got), __LINE__, #got)
/* A check with a formatted message.                                            */
#define CKF(c, ...)   ckf_(!!(c), __LINE__, __VA_ARGS__)
#ifdef _WIN32
#  define T_CHECK_PRINTF __MINGW_PRINTF_FORMAT   /* MinGW's printf: the C99 one if asked for */
#else
#  define T_CHECK_PRINTF printf
#endif
static inline int ckf_(int ok, int line, const char *fmt, ...) __attribute__((format(T_CHECK_PRINTF, 3, 4)));
static inline int ckf_(int ok, int line, const char *fmt, ...) {
    if (ok) return 1;
    char m[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return ck_fail(line, m);
}
/* A read or write that must have moved some bytes (> 0); shows the code if not. */
#define CKR(r) cki_pos_((long long)(r), __LINE__, #r)
static inline int cki_pos_(long long got, int line, const char *what) {
    if (got > 0) return 1;
    char msg[512];
    snprintf(msg, sizeof msg, "%s: expected > 0, got %lld (%s)", what, got, got < 0 ? gn_strerror((int)got) : "-");
    return ck_fail(line, msg);
}

/* Clears the record; also a greatest setup callback.                           */
static inline void fail_reset(void *udata) {
    (void)udata;
    g_fail_set = 0;
    g_fail[0] = 0;
}

#ifndef TEST_CHECK_OWN_RUN_BODY
#include <signal.h>
#include <unistd.h>

/* A watchdog: a test whose runtime never returns ends the program with a
 * message naming it, rather than leaving the runner to time out in silence. */
#define HANG_LIMIT 120   /* seconds for one test body; they take a few at most */
static inline void on_hang(void) {
    const char *a = "\nHUNG: the runtime of test ", *b = " did not return within the watchdog's limit\n";
    if (write(2, a, strlen(a)) < 0 || write(2, greatest_info.name_buf, strlen(greatest_info.name_buf)) < 0 ||
        write(2, b, strlen(b)) < 0) {
    }
    _exit(3);
}

static inline enum greatest_test_res run_body(int procs, void (*body)(void *), void *arg) {
    fail_reset(NULL);
    t_watchdog_arm(HANG_LIMIT, on_hang);
    int rc = run_procs(procs, body, arg);
    t_watchdog_disarm();
#ifdef TEST_CHECK_AFTER_RUN
    TEST_CHECK_AFTER_RUN();
#endif
    if (rc != 0) {
        snprintf(g_fail, sizeof g_fail, "gn_run returned %d (%s)", rc, gn_strerror(rc));
        FAILm(g_fail);
    }
    if (ALOAD(&g_fail_set)) FAILm(g_fail);
    PASS();
}
#endif /* TEST_CHECK_OWN_RUN_BODY */

#endif /* GN_TEST_CHECK_H */
