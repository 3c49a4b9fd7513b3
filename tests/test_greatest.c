/*
 * test_greatest.c -- self-test for tests/greatest.h.
 *
 * The program has two personalities:
 *
 *  - driver (default): a normal greatest runner whose tests check the
 *    assertion macros in-process and then re-run this same executable as a
 *    child (via popen) in fixture mode with various flags, checking its
 *    exit status and output.
 *  - fixture (environment GT_SELFTEST_FIXTURE=1): a runner with
 *    deliberately passing, failing and skipping tests.
 *
 * Only documented greatest behaviour is checked unconditionally, so the
 * upstream greatest.h can be dropped in; checks of gonet's exact output
 * layout are guarded by GREATEST_GONET_IMPL.
 *
 * Build: cc -std=c11 -Wall -Wextra -Werror -pedantic tests/test_greatest.c
 * Note: the negative-path tests deliberately fail assertions inside helper
 * functions, so do not run the driver itself with -a.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

/* greatest's output goes through this, so in-process failure output can be
 * captured into a temporary file. */
static FILE *gt_out;
#define GREATEST_STDOUT (gt_out != NULL ? gt_out : stdout)

#include "greatest.h"

#if GREATEST_USE_LONGJMP
#define LJ_TESTS 1
#else
#define LJ_TESTS 0
#endif

/* ================================================================== */
/* Fixture personality                                                */
/* ================================================================== */

/* Record that a test body ran (suppressed when GT_QUIET is non-empty). */
static void mark(const char *name) {
    const char *quiet = getenv("GT_QUIET");
    if (quiet == NULL || quiet[0] == '\0') {
        printf("[ran:%s]", name);
        fflush(stdout);
    }
}

enum fx_color { FX_RED, FX_GREEN, FX_BLUE };

static const char *fx_color_str(int v) {
    switch (v) {
    case FX_RED: return "FX_RED";
    case FX_GREEN: return "FX_GREEN";
    case FX_BLUE: return "FX_BLUE";
    default: return "FX_unknown";
    }
}

typedef struct {
    int v;
} boxed;

static int boxed_equal(const void *exp, const void *got, void *udata) {
    (void)udata;
    return ((const boxed *)exp)->v == ((const boxed *)got)->v;
}

static int boxed_print(const void *t, void *udata) {
    (void)udata;
    return printf("{%d}", ((const boxed *)t)->v);
}

static greatest_type_info boxed_info = {boxed_equal, boxed_print};
static greatest_type_info boxed_info_noprint = {boxed_equal, NULL};

TEST fx_pass_a(void) {
    mark("fx_pass_a");
    PASS();
}

TEST fx_pass_b(void) {
    mark("fx_pass_b");
    PASSm("custom pass note");
}

TEST fx_skip_c(void) {
    mark("fx_skip_c");
    SKIPm("not today");
}

TEST fx_fail_d(void) {
    mark("fx_fail_d");
    FAILm("deliberate failure d");
}

TEST fx_last_e(void) {
    mark("fx_last_e");
    ASSERT(1 + 1 == 2);
    PASS();
}

SUITE(fx_basic) {
    RUN_TEST(fx_pass_a);
    RUN_TEST(fx_pass_b);
    RUN_TEST(fx_skip_c);
    RUN_TEST(fx_fail_d);
    RUN_TEST(fx_last_e);
}

TEST fx_extra_pass(void) {
    mark("fx_extra_pass");
    PASS();
}

SUITE(fx_basic_extra) {
    RUN_TEST(fx_extra_pass);
}

TEST fx_fmt_fail(void) {
    int three = 3;
    int four = 4;
    mark("fx_fmt_fail");
    ASSERT_EQ_FMT(three, four, "%d");
    PASS();
}

TEST fx_str_fail(void) {
    const char *left = "left-string-xyz";
    const char *right = "right-string-xyz";
    mark("fx_str_fail");
    ASSERT_STR_EQm("strings differ", left, right);
    PASS();
}

TEST fx_mem_fail(void) {
    unsigned char a[20];
    unsigned char b[20];
    size_t i;
    mark("fx_mem_fail");
    for (i = 0; i < sizeof(a); i++) {
        a[i] = (unsigned char)i;
        b[i] = (unsigned char)i;
    }
    b[17] = 0xee;
    ASSERT_MEM_EQm("bytes differ", a, b, sizeof(a));
    PASS();
}

TEST fx_enum_fail(void) {
    enum fx_color c = FX_BLUE;
    mark("fx_enum_fail");
    ASSERT_ENUM_EQm("colour mismatch", FX_RED, c, fx_color_str);
    PASS();
}

TEST fx_range_fail(void) {
    double got = 1.5;
    mark("fx_range_fail");
    ASSERT_IN_RANGEm("out of range", 1.0, got, 0.25);
    PASS();
}

static enum greatest_test_res fx_helper(int v) {
    ASSERTm("helper says no", v < 3);
    PASS();
}

TEST fx_call_fail(void) {
    mark("fx_call_fail");
    CHECK_CALL(fx_helper(1));
    CHECK_CALL(fx_helper(7));
    mark("fx_call_fail_after");
    PASS();
}

TEST fx_boxed_fail(void) {
    boxed b3 = {3};
    boxed b4 = {4};
    mark("fx_boxed_fail");
    ASSERT_EQUAL_Tm("boxes differ", &b3, &b4, &boxed_info, NULL);
    PASS();
}

TEST fx_verbose_probe(void) {
    printf("[verbose:%d]", GREATEST_IS_VERBOSE() ? 1 : 0);
    fflush(stdout);
    PASS();
}

TEST fx_param(void *arg) {
    const int *v = (const int *)arg;
    mark("fx_param");
    ASSERT_EQ(7, *v);
    PASS();
}

SUITE(fx_asserts) {
    int seven = 7;
    RUN_TEST(fx_fmt_fail);
    RUN_TEST(fx_str_fail);
    RUN_TEST(fx_mem_fail);
    RUN_TEST(fx_enum_fail);
    RUN_TEST(fx_range_fail);
    RUN_TEST(fx_call_fail);
    RUN_TEST(fx_boxed_fail);
    RUN_TEST(fx_verbose_probe);
    greatest_set_test_suffix("case7");
    RUN_TEST1(fx_param, &seven);
}

#if GREATEST_USE_LONGJMP
static enum greatest_test_res fx_lj_helper(int v) {
    ASSERT_OR_LONGJMPm("longjmp out", v == 0);
    PASS();
}

TEST fx_lj_fail(void) {
    mark("fx_lj_fail");
    (void)fx_lj_helper(5);
    mark("fx_lj_after");
    PASS();
}

SUITE(fx_longjmp) {
    RUN_TEST(fx_lj_fail);
}
#endif

TEST fx_standalone(void) {
    mark("fx_standalone");
    PASS();
}

static int fixture_main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    RUN_SUITE(fx_basic);
    RUN_SUITE(fx_basic_extra);
    RUN_SUITE(fx_asserts);
#if GREATEST_USE_LONGJMP
    RUN_SUITE(fx_longjmp);
#endif
    RUN_TEST(fx_standalone); /* outside any suite */
    GREATEST_MAIN_END();
}

/* Totals of a full fixture run. */
#define FX_TOTAL_TESTS (16 + LJ_TESTS)
#define FX_PASSED 7
#define FX_FAILED (8 + LJ_TESTS)
#define FX_SKIPPED 1

/* ================================================================== */
/* Driver: in-process checks                                          */
/* ================================================================== */

/* Run a helper with greatest's output redirected; the text it printed is
 * left in cap_buf. */
static char cap_buf[8192];

static enum greatest_test_res capture(enum greatest_test_res (*fn)(void)) {
    FILE *tmp = tmpfile();
    FILE *saved = gt_out;
    enum greatest_test_res res;
    size_t n;
    cap_buf[0] = '\0';
    if (tmp == NULL) {
        fprintf(stderr, "tmpfile() failed\n");
        exit(2);
    }
    gt_out = tmp;
    res = fn();
    gt_out = saved;
    fflush(tmp);
    rewind(tmp);
    n = fread(cap_buf, 1, sizeof(cap_buf) - 1, tmp);
    cap_buf[n] = '\0';
    fclose(tmp);
    return res;
}

#define ASSERT_CAPTURED(TEXT)                                         \
    ASSERTm("captured output lacks: " TEXT,                           \
            strstr(cap_buf, TEXT) != NULL)

static int color_calls;
static enum fx_color next_color(void) {
    color_calls++;
    return FX_BLUE;
}

static int str_calls;
static const char *counted_str(const char *s) {
    str_calls++;
    return s;
}

TEST passing_assertions(void) {
    struct greatest_report_t before;
    struct greatest_report_t after;
    int x = 5;
    unsigned int u = 7u;
    const char *s = "hello";
    unsigned char m1[4] = {1, 2, 3, 4};
    unsigned char m2[4] = {1, 2, 3, 4};
    boxed b1 = {3};
    boxed b2 = {3};
    enum fx_color c = FX_GREEN;

    greatest_get_report(&before);
    ASSERT(x == 5);                              /* 1 */
    ASSERTm("x is truthy", x);                   /* 2 */
    ASSERT_FALSE(x == 4);                        /* 3 */
    ASSERT_FALSEm("zero is false", 0);           /* 4 */
    ASSERT_EQ(5, x);                             /* 5 */
    ASSERT_EQm("u", 7u, u);                      /* 6 */
    ASSERT_NEQ(4, x);                            /* 7 */
    ASSERT_NEQm("neq", 4, x);                    /* 8 */
    ASSERT_GT(6, x);                             /* 9: 6 > 5 */
    ASSERT_GTm("gt", 100, x);                    /* 10 */
    ASSERT_GTE(5, x);                            /* 11 */
    ASSERT_GTEm("gte", 6, x);                    /* 12 */
    ASSERT_LT(4, x);                             /* 13: 4 < 5 */
    ASSERT_LTm("lt", -1, x);                     /* 14 */
    ASSERT_LTE(5, x);                            /* 15 */
    ASSERT_LTEm("lte", 4, x);                    /* 16 */
    ASSERT_EQ_FMT(5, x, "%d");                   /* 17 */
    ASSERT_EQ_FMTm("fmt", 7u, u, "%u");          /* 18 */
    ASSERT_IN_RANGE(1.0, 1.05, 0.1);             /* 19 */
    ASSERT_IN_RANGEm("exact", -2.0, -2.0, 0.0);  /* 20 */
    ASSERT_IN_RANGE(10, 9, 1);                   /* 21: edge is inside */
    ASSERT_STR_EQ("hello", s);                   /* 22 */
    ASSERT_STR_EQm("str", "", "");               /* 23 */
    ASSERT_STRN_EQ("help!", s, 3);               /* 24 */
    ASSERT_STRN_EQm("strn", "abc", "abd", 2);    /* 25 */
    ASSERT_MEM_EQ(m1, m2, sizeof(m1));           /* 26 */
    ASSERT_MEM_EQm("mem", m1, m2, 0);            /* 27 */
    ASSERT_ENUM_EQ(FX_GREEN, c, fx_color_str);   /* 28 */
    ASSERT_ENUM_EQm("enum", FX_BLUE, FX_BLUE, fx_color_str); /* 29 */
    ASSERT_EQUAL_T(&b1, &b2, &boxed_info, NULL); /* 30 */
    ASSERT_EQUAL_Tm("boxed", &b1, &b2, &boxed_info, NULL); /* 31 */
    str_calls = 0;
    ASSERT_STR_EQ(counted_str("once"), counted_str("once")); /* 32 */
    greatest_get_report(&after);

    ASSERT_EQ_FMT(before.assertions + 32u, after.assertions, "%u");
#ifdef GREATEST_GONET_IMPL
    ASSERT_EQ_FMTm("ASSERT_STR_EQ must evaluate each argument once", 2,
                   str_calls, "%d");
#endif
    PASS();
}

/* Helpers that fail (or skip) on purpose; run through capture(). */
static enum greatest_test_res neg_assert(void) { ASSERT(1 == 2); PASS(); }
static enum greatest_test_res neg_false(void) { ASSERT_FALSE(2 > 1); PASS(); }
static enum greatest_test_res neg_eq(void) { ASSERT_EQ(1, 2); PASS(); }
static enum greatest_test_res neg_neq(void) { ASSERT_NEQ(2, 2); PASS(); }
static enum greatest_test_res neg_gt(void) { ASSERT_GT(1, 2); PASS(); }
static enum greatest_test_res neg_gte(void) { ASSERT_GTE(1, 2); PASS(); }
static enum greatest_test_res neg_lt(void) { ASSERT_LT(2, 1); PASS(); }
static enum greatest_test_res neg_lte(void) { ASSERT_LTE(2, 1); PASS(); }
static enum greatest_test_res neg_gt_equal(void) { ASSERT_GT(3, 3); PASS(); }
static enum greatest_test_res neg_lt_equal(void) { ASSERT_LT(3, 3); PASS(); }

static enum greatest_test_res neg_fmt(void) {
    unsigned int v = 0x2bu;
    ASSERT_EQ_FMT(0x2au, v, "0x%04x");
    PASS();
}

static enum greatest_test_res neg_range(void) {
    ASSERT_IN_RANGE(1.0, 1.25, 0.1);
    PASS();
}

static enum greatest_test_res neg_range_below(void) {
    ASSERT_IN_RANGE(1.0, 0.75, 0.1);
    PASS();
}

static enum greatest_test_res neg_str(void) {
    ASSERT_STR_EQ("abc", "abd-got");
    PASS();
}

static enum greatest_test_res neg_str_prefix(void) {
    ASSERT_STR_EQ("abc", "ab");
    PASS();
}

static enum greatest_test_res neg_strn(void) {
    ASSERT_STRN_EQ("abcX", "abcY", 4);
    PASS();
}

static enum greatest_test_res neg_mem(void) {
    unsigned char a[40];
    unsigned char b[40];
    memset(a, 0x11, sizeof(a));
    memset(b, 0x11, sizeof(b));
    b[33] = 0x99;
    ASSERT_MEM_EQ(a, b, sizeof(a));
    PASS();
}

static enum greatest_test_res neg_enum(void) {
    ASSERT_ENUM_EQ(FX_RED, next_color(), fx_color_str);
    PASS();
}

static enum greatest_test_res neg_equal_t(void) {
    boxed b1 = {3};
    boxed b2 = {4};
    ASSERT_EQUAL_T(&b1, &b2, &boxed_info_noprint, NULL);
    PASS();
}

static int after_failed_assert;
static enum greatest_test_res neg_stops_early(void) {
    ASSERTm("stop here", 0);
    after_failed_assert = 1;
    PASS();
}

static enum greatest_test_res skipper(void) { SKIPm("skipped helper"); }
static enum greatest_test_res passer(void) { PASS(); }
static enum greatest_test_res failer(void) { FAILm("failed helper"); }

static enum greatest_test_res chain_skip(void) {
    CHECK_CALL(passer());
    CHECK_CALL(skipper());
    FAILm("CHECK_CALL did not return the skip");
}

static enum greatest_test_res chain_fail(void) {
    CHECK_CALL(failer());
    PASS();
}

static enum greatest_test_res chain_pass(void) {
    CHECK_CALL(passer());
    CHECK_CALL(passer());
    PASS();
}

#define EXPECT_FAIL(FN)                                               \
    ASSERT_EQm(#FN " should fail", GREATEST_TEST_RES_FAIL, capture(FN))

TEST failing_assertions(void) {
    EXPECT_FAIL(neg_assert);
    EXPECT_FAIL(neg_false);
    EXPECT_FAIL(neg_eq);
    EXPECT_FAIL(neg_neq);
    EXPECT_FAIL(neg_gt);
    EXPECT_FAIL(neg_gte);
    EXPECT_FAIL(neg_lt);
    EXPECT_FAIL(neg_lte);
    EXPECT_FAIL(neg_gt_equal);
    EXPECT_FAIL(neg_lt_equal);

    EXPECT_FAIL(neg_fmt);
    ASSERT_CAPTURED("Expected: 0x002a");
    ASSERT_CAPTURED("Got: 0x002b");

    EXPECT_FAIL(neg_range);
    ASSERT_CAPTURED("1.25");
    EXPECT_FAIL(neg_range_below);
    ASSERT_CAPTURED("0.75");

    EXPECT_FAIL(neg_str);
    ASSERT_CAPTURED("abd-got");
    EXPECT_FAIL(neg_str_prefix);
    EXPECT_FAIL(neg_strn);

    EXPECT_FAIL(neg_mem);

    color_calls = 0;
    EXPECT_FAIL(neg_enum);
    ASSERT_CAPTURED("FX_RED");
    ASSERT_CAPTURED("FX_BLUE");
    ASSERT_EQ_FMTm("ASSERT_ENUM_EQ must evaluate GOT once", 1, color_calls,
                   "%d");

    EXPECT_FAIL(neg_equal_t);

    after_failed_assert = 0;
    EXPECT_FAIL(neg_stops_early);
    ASSERT_EQm("code after a failed ASSERT ran", 0, after_failed_assert);
    PASS();
}

#ifdef GREATEST_GONET_IMPL
static enum greatest_test_res neg_range_nan(void) {
    double nan_value = strtod("nan", NULL);
    ASSERT_IN_RANGE(1.0, nan_value, 10.0);
    PASS();
}

static enum greatest_test_res neg_str_null(void) {
    const char *none = NULL;
    ASSERT_STR_EQ("abc", none);
    PASS();
}

static enum greatest_test_res neg_mem_null(void) {
    const unsigned char a[2] = {1, 2};
    const unsigned char *none = NULL;
    ASSERT_MEM_EQ(a, none, 2);
    PASS();
}

/* Details of gonet's own failure output. */
TEST gonet_failure_details(void) {
    EXPECT_FAIL(neg_range_nan);
    EXPECT_FAIL(neg_str_null);
    ASSERT_CAPTURED("(null)");
    EXPECT_FAIL(neg_mem_null);

    EXPECT_FAIL(neg_str);
    ASSERT_CAPTURED("Expected: \"abc\"\n     Got: \"abd-got\"\n");

    EXPECT_FAIL(neg_mem);
    ASSERT_CAPTURED("first difference at offset 33");
    ASSERT_CAPTURED("00000020 exp: 11 11 11 11 11 11 11 11\n");
    ASSERT_CAPTURED("00000020 got: 11 99 11 11 11 11 11 11\n");
    ASSERT_CAPTURED("^^");
    ASSERTm("row without differences printed",
            strstr(cap_buf, "00000000 exp") == NULL);

    EXPECT_FAIL(neg_range);
    ASSERT_CAPTURED("Expected: 1 +/- 0.1\n     Got: 1.25\n");
    PASS();
}
#endif

TEST check_call_propagates(void) {
    ASSERT_EQ(GREATEST_TEST_RES_SKIP, capture(chain_skip));
    ASSERT_EQ(GREATEST_TEST_RES_FAIL, capture(chain_fail));
    ASSERT_EQ(GREATEST_TEST_RES_PASS, capture(chain_pass));
    ASSERT_EQ(GREATEST_TEST_RES_SKIP, capture(skipper));
    PASS();
}

SUITE(self_assertions) {
    RUN_TEST(passing_assertions);
    RUN_TEST(failing_assertions);
    RUN_TEST(check_call_propagates);
#ifdef GREATEST_GONET_IMPL
    RUN_TEST(gonet_failure_details);
#endif
}

/* ---- setup / teardown callbacks ---------------------------------- */

struct cb_counts {
    int setup;
    int teardown;
};
static struct cb_counts cbc;

static void cb_setup(void *udata) {
    ((struct cb_counts *)udata)->setup++;
}

static void cb_teardown(void *udata) {
    ((struct cb_counts *)udata)->teardown++;
}

/* Runs with callbacks installed: setup ran, teardown not yet. */
TEST cb_inside(void) {
    ASSERT_EQ(cbc.teardown + 1, cbc.setup);
    PASS();
}

/* Runs with no callbacks: every setup so far was matched by a teardown. */
TEST cb_cleared(void) {
    ASSERT_EQ(cbc.teardown, cbc.setup);
    PASS();
}

TEST cb_skip_inside(void) {
    ASSERT_EQ(cbc.teardown + 1, cbc.setup);
    SKIPm("teardown must still run after a skip");
}

SUITE(self_callbacks) {
    cbc.setup = 0;
    cbc.teardown = 0;
    GREATEST_SET_SETUP_CB(cb_setup, &cbc);
    GREATEST_SET_TEARDOWN_CB(cb_teardown, &cbc);
    RUN_TEST(cb_inside);
    RUN_TEST(cb_inside);
    RUN_TEST(cb_skip_inside);
    GREATEST_SET_SETUP_CB(NULL, NULL);
    GREATEST_SET_TEARDOWN_CB(NULL, NULL);
    RUN_TEST(cb_cleared);
    /* Left installed on purpose: they must not leak into the next suite. */
    GREATEST_SET_SETUP_CB(cb_setup, &cbc);
    GREATEST_SET_TEARDOWN_CB(cb_teardown, &cbc);
}

SUITE(self_callbacks_reset) {
    RUN_TEST(cb_cleared);
}

/* ---- runner API --------------------------------------------------- */

static int nested_ran;

TEST nested_inner(void) {
    nested_ran = 1;
    PASS();
}

TEST nested_outer(void) {
    nested_ran = 0;
    RUN_TEST(nested_inner);
    ASSERT_EQm("RUN_TEST inside a test must be ignored", 0, nested_ran);
    PASS();
}

TEST param_one(void *closure) {
    const char *s = (const char *)closure;
    ASSERT_STR_EQ("closure", s);
    PASS();
}

#ifdef RUN_TESTp
TEST param_many(int n, const char *word) {
    ASSERT_EQ(3, n);
    ASSERT_STR_EQ("three", word);
    PASS();
}
#endif

TEST verbosity_api(void) {
    ASSERT_EQ(GREATEST_IS_VERBOSE() ? 1 : 0,
              greatest_get_verbosity() > 0 ? 1 : 0);
    PASS();
}

TEST nothing_failed_yet(void) {
    ASSERTm("an earlier driver test failed", GREATEST_ALL_PASSED());
    PASS();
}

SUITE(self_runner_api) {
    char closure[] = "closure";
    RUN_TEST(nested_outer);
    RUN_TEST1(param_one, closure);
#ifdef RUN_TESTp
    RUN_TESTp(param_many, 3, "three");
#endif
    RUN_TEST(verbosity_api);
    RUN_TEST(nothing_failed_yet);
}

/* ================================================================== */
/* Driver: child-process checks                                       */
/* ================================================================== */

static char self_cmd[4096];   /* shell-quoted path of this executable */
static char child_out[1 << 16];
static char fail_msg[512];

#ifdef _WIN32
/* Windows: cmd.exe runs the child (_popen). The settings in `env` go into this
 * process's environment for the child to inherit and are taken out after (an
 * empty value unsets, which is what the fixture reads an empty one as). The
 * child's exit code is the status; abort() exits with 3 there, which stands
 * for 128 + SIGABRT's 6 here. */
static int set_env_list(const char *env, int on) {
    char vars[1024];
    char *tok;
    snprintf(vars, sizeof(vars), "GT_SELFTEST_FIXTURE=1 %s", env);
    for (tok = strtok(vars, " "); tok != NULL; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        if (eq == NULL) continue;
        *eq = '\0';
        if (_putenv_s(tok, on ? eq + 1 : "") != 0) return -1;
    }
    return 0;
}

static int run_child_env(const char *env, const char *args) {
    char cmd[8192];
    size_t n = 0;
    size_t got;
    int st;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "%s %s 2>&1", self_cmd, args);
    fflush(NULL);
    if (set_env_list(env, 1) != 0) return -1;
    p = _popen(cmd, "r");
    set_env_list(env, 0);
    if (p == NULL) {
        child_out[0] = '\0';
        return -1;
    }
    while (n < sizeof(child_out) - 1 &&
           (got = fread(child_out + n, 1, sizeof(child_out) - 1 - n, p)) > 0) {
        n += got;
    }
    child_out[n] = '\0';
    {
        char scratch[1024];
        while (fread(scratch, 1, sizeof(scratch), p) > 0) {
        }
    }
    st = _pclose(p);
    if (st == 3) return 128 + 6;
    return st;
}
#else
/* Run this executable in fixture mode: `env` is extra VAR=value settings,
 * `args` the command-line flags. Returns the exit status, 128+N if killed
 * by signal N, or -1 if it could not be run. Output is in child_out. */
static int run_child_env(const char *env, const char *args) {
    char cmd[8192];
    char scratch[1024];
    FILE *p;
    size_t n = 0;
    size_t got;
    int st;

    /* GN_TEST_RUNNER (e.g. qemu-aarch64 for a cross build) runs the child too. */
    snprintf(cmd, sizeof(cmd),
             "ulimit -c 0 2>/dev/null; GT_SELFTEST_FIXTURE=1 %s $GN_TEST_RUNNER %s %s 2>&1",
             env, self_cmd, args);
    fflush(NULL);
    p = popen(cmd, "r");
    if (p == NULL) {
        child_out[0] = '\0';
        return -1;
    }
    while (n < sizeof(child_out) - 1 &&
           (got = fread(child_out + n, 1, sizeof(child_out) - 1 - n, p)) > 0) {
        n += got;
    }
    child_out[n] = '\0';
    while (fread(scratch, 1, sizeof(scratch), p) > 0) {
        /* drain anything beyond the buffer so the child can exit */
    }
    st = pclose(p);
    if (st == -1) {
        return -1;
    }
    if (WIFEXITED(st)) {
        return WEXITSTATUS(st);
    }
    if (WIFSIGNALED(st)) {
        return 128 + WTERMSIG(st);
    }
    return -1;
}
#endif

static int run_child(const char *args) {
    return run_child_env("GT_QUIET=", args);
}

static void dump_child(void) {
    fprintf(stderr, "\n----- child output -----\n%s\n------------------------\n",
            child_out);
}

static enum greatest_test_res out_has(const char *text) {
    if (strstr(child_out, text) == NULL) {
        dump_child();
        snprintf(fail_msg, sizeof(fail_msg), "child output lacks \"%s\"",
                 text);
        FAILm(fail_msg);
    }
    PASS();
}

static enum greatest_test_res out_lacks(const char *text) {
    if (strstr(child_out, text) != NULL) {
        dump_child();
        snprintf(fail_msg, sizeof(fail_msg), "child output has \"%s\"", text);
        FAILm(fail_msg);
    }
    PASS();
}

/* The summary line, alone on its own line. */
static enum greatest_test_res summary_is(int pass, int fail, int skip) {
    char want[128];
    snprintf(want, sizeof(want), "\nPass: %d, fail: %d, skip: %d.\n", pass,
             fail, skip);
    return out_has(want);
}

static enum greatest_test_res status_is(int want, int got) {
    if (want != got) {
        dump_child();
        snprintf(fail_msg, sizeof(fail_msg),
                 "child exit status: expected %d, got %d", want, got);
        FAILm(fail_msg);
    }
    PASS();
}

TEST child_full_run(void) {
    char want[128];
    CHECK_CALL(status_is(1, run_child("")));
    CHECK_CALL(out_has("\n* Suite fx_basic:\n"));
    CHECK_CALL(out_has("\n* Suite fx_basic_extra:\n"));
    CHECK_CALL(out_has("\n* Suite fx_asserts:\n"));
    CHECK_CALL(out_has("\n5 tests - 3 passed, 1 failed, 1 skipped"));
    CHECK_CALL(out_has("\n1 test - 1 passed, 0 failed, 0 skipped"));
    CHECK_CALL(out_has("\n9 tests - 2 passed, 7 failed, 0 skipped"));
    CHECK_CALL(out_has("\nFAIL fx_fail_d: deliberate failure d"));
    CHECK_CALL(out_has("test_greatest.c:"));
    CHECK_CALL(out_has("Expected: 3"));
    CHECK_CALL(out_has("Got: 4"));
    CHECK_CALL(out_has("FAIL fx_fmt_fail"));
    CHECK_CALL(out_has("left-string-xyz"));
    CHECK_CALL(out_has("right-string-xyz"));
    CHECK_CALL(out_has("FAIL fx_str_fail: strings differ"));
    CHECK_CALL(out_has("FAIL fx_mem_fail: bytes differ"));
    CHECK_CALL(out_has("FX_RED"));
    CHECK_CALL(out_has("FX_BLUE"));
    CHECK_CALL(out_has("FAIL fx_enum_fail: colour mismatch"));
    CHECK_CALL(out_has("1.5"));
    CHECK_CALL(out_has("FAIL fx_range_fail: out of range"));
    CHECK_CALL(out_has("FAIL fx_call_fail: helper says no"));
    CHECK_CALL(out_has("{3}"));
    CHECK_CALL(out_has("{4}"));
    CHECK_CALL(out_has("FAIL fx_boxed_fail: boxes differ"));
    CHECK_CALL(out_has("[ran:fx_call_fail]"));
    CHECK_CALL(out_lacks("[ran:fx_call_fail_after]"));
    CHECK_CALL(out_lacks("FAIL fx_pass"));
    CHECK_CALL(out_lacks("FAIL fx_skip"));
    CHECK_CALL(out_has("[ran:fx_param]"));
    CHECK_CALL(out_has("[ran:fx_standalone]"));
    CHECK_CALL(out_has("[verbose:0]"));
#if GREATEST_USE_LONGJMP
    CHECK_CALL(out_has("FAIL fx_lj_fail: longjmp out"));
    CHECK_CALL(out_lacks("[ran:fx_lj_after]"));
#endif
    snprintf(want, sizeof(want), "\nTotal: %d tests", FX_TOTAL_TESTS);
    CHECK_CALL(out_has(want));
    CHECK_CALL(summary_is(FX_PASSED, FX_FAILED, FX_SKIPPED));
    PASS();
}

TEST child_test_filter(void) {
    CHECK_CALL(status_is(0, run_child("-t fx_pass")));
    CHECK_CALL(out_has("[ran:fx_pass_a]"));
    CHECK_CALL(out_has("[ran:fx_pass_b]"));
    CHECK_CALL(out_lacks("[ran:fx_fail_d]"));
    CHECK_CALL(out_lacks("[ran:fx_extra_pass]"));
    CHECK_CALL(out_lacks("[ran:fx_standalone]"));
    CHECK_CALL(summary_is(2, 0, 0));

    /* The name suffix takes part in matching. */
    CHECK_CALL(status_is(0, run_child("-t case7")));
    CHECK_CALL(out_has("[ran:fx_param]"));
    CHECK_CALL(summary_is(1, 0, 0));

    /* Only failures selected: exit status 1. */
    CHECK_CALL(status_is(1, run_child("-t fx_fail_d")));
    CHECK_CALL(summary_is(0, 1, 0));
    PASS();
}

TEST child_exclude(void) {
    CHECK_CALL(status_is(0, run_child("-t fx_pass -x _b")));
    CHECK_CALL(out_has("[ran:fx_pass_a]"));
    CHECK_CALL(out_lacks("[ran:fx_pass_b]"));
    CHECK_CALL(summary_is(1, 0, 0));

    /* Exclusion wins over the test filter. */
    CHECK_CALL(status_is(0, run_child("-t fx_pass_a -x fx_pass_a")));
    CHECK_CALL(out_lacks("[ran:"));
    CHECK_CALL(summary_is(0, 0, 0));
    PASS();
}

TEST child_suite_filter(void) {
    /* Substring: fx_basic and fx_basic_extra, plus the suite-less test. */
    CHECK_CALL(status_is(1, run_child("-s fx_basic")));
    CHECK_CALL(out_has("[ran:fx_pass_a]"));
    CHECK_CALL(out_has("[ran:fx_extra_pass]"));
    CHECK_CALL(out_has("[ran:fx_standalone]"));
    CHECK_CALL(out_lacks("[ran:fx_fmt_fail]"));
    CHECK_CALL(out_lacks("[ran:fx_param]"));
    CHECK_CALL(summary_is(5, 1, 1));

    CHECK_CALL(status_is(0, run_child("-s extra")));
    CHECK_CALL(out_has("[ran:fx_extra_pass]"));
    CHECK_CALL(out_lacks("[ran:fx_pass_a]"));
    CHECK_CALL(summary_is(2, 0, 0));
    PASS();
}

TEST child_exact_match(void) {
    CHECK_CALL(status_is(1, run_child("-s fx_basic -e")));
    CHECK_CALL(out_has("[ran:fx_pass_a]"));
    CHECK_CALL(out_lacks("[ran:fx_extra_pass]"));
    CHECK_CALL(summary_is(4, 1, 1));

    CHECK_CALL(status_is(0, run_child("-e -t fx_pass")));
    CHECK_CALL(out_lacks("[ran:"));
    CHECK_CALL(summary_is(0, 0, 0));

    CHECK_CALL(status_is(0, run_child("-e -t fx_pass_a")));
    CHECK_CALL(out_has("[ran:fx_pass_a]"));
    CHECK_CALL(summary_is(1, 0, 0));
    PASS();
}

TEST child_first_fail(void) {
    /* The suite-less test is excluded: the docs do not say whether -f
     * also stops tests run outside suites (gonet's does; checked below). */
    CHECK_CALL(status_is(1, run_child("-f -x fx_standalone")));
    CHECK_CALL(out_has("[ran:fx_fail_d]"));
    CHECK_CALL(out_lacks("[ran:fx_last_e]"));
    CHECK_CALL(out_lacks("[ran:fx_extra_pass]"));
    CHECK_CALL(out_lacks("[ran:fx_fmt_fail]"));
    CHECK_CALL(summary_is(2, 1, 1));
#ifdef GREATEST_GONET_IMPL
    CHECK_CALL(status_is(1, run_child("-f")));
    CHECK_CALL(out_lacks("[ran:fx_standalone]"));
    CHECK_CALL(summary_is(2, 1, 1));
#endif
    PASS();
}

TEST child_verbose(void) {
    CHECK_CALL(status_is(1, run_child("-v")));
    CHECK_CALL(out_has("PASS fx_pass_a"));
    CHECK_CALL(out_has("PASS fx_pass_b"));
    CHECK_CALL(out_has("custom pass note"));
    CHECK_CALL(out_has("SKIP fx_skip_c"));
    CHECK_CALL(out_has("not today"));
    CHECK_CALL(out_has("FAIL fx_fail_d: deliberate failure d"));
    CHECK_CALL(out_has("PASS fx_param_case7"));
    CHECK_CALL(out_has("[verbose:1]"));
    CHECK_CALL(summary_is(FX_PASSED, FX_FAILED, FX_SKIPPED));
    PASS();
}

TEST child_list_only(void) {
    CHECK_CALL(status_is(0, run_child("-l")));
    CHECK_CALL(out_has("fx_asserts"));
    CHECK_CALL(out_has("fx_pass_a"));
    CHECK_CALL(out_has("fx_fail_d"));
    CHECK_CALL(out_has("fx_fmt_fail"));
    CHECK_CALL(out_has("fx_param_case7"));
    CHECK_CALL(out_has("fx_standalone"));
    CHECK_CALL(out_lacks("[ran:"));
    CHECK_CALL(out_lacks("[verbose:"));

    /* With a filter, only the tests that would run are listed. */
    CHECK_CALL(status_is(0, run_child("-l -t fx_pass")));
    CHECK_CALL(out_has("fx_pass_a"));
    CHECK_CALL(out_has("fx_pass_b"));
    CHECK_CALL(out_lacks("fx_fail_d"));
    CHECK_CALL(out_lacks("[ran:"));
    PASS();
}

TEST child_help_and_bad_flags(void) {
    CHECK_CALL(status_is(0, run_child("-h")));
    CHECK_CALL(out_has("-t"));
    CHECK_CALL(out_lacks("[ran:"));

    CHECK_CALL(status_is(0, run_child("--help")));
    CHECK_CALL(out_lacks("[ran:"));

    CHECK_CALL(status_is(1, run_child("-Q")));
    CHECK_CALL(out_lacks("[ran:"));

    /* Everything after -- is ignored. */
    CHECK_CALL(status_is(0, run_child("-t fx_pass_a -- -Q")));
    CHECK_CALL(out_has("[ran:fx_pass_a]"));
    CHECK_CALL(summary_is(1, 0, 0));
    PASS();
}

#ifdef GREATEST_GONET_IMPL
/* gonet's exact output layout. */
TEST child_gonet_layout(void) {
    size_t len;
#if GREATEST_USE_TIME
    const char *tail = "), 1 assertion\nPass: 4, fail: 1, skip: 1.\n";
#else
    const char *tail = "\n5 tests - 3 passed, 1 failed, 1 skipped\n.\n"
                       "Total: 6 tests, 1 assertion\n"
                       "Pass: 4, fail: 1, skip: 1.\n";
#endif

    CHECK_CALL(status_is(1, run_child_env("GT_QUIET=1", "-s fx_basic -e")));
    CHECK_CALL(out_has("\n* Suite fx_basic:\n..sF\n"
                       "FAIL fx_fail_d: deliberate failure d ("));
    CHECK_CALL(out_has(")\n.\n5 tests - 3 passed, 1 failed, 1 skipped"));
#if GREATEST_USE_TIME
    CHECK_CALL(out_has(")\n.\n5 tests - 3 passed, 1 failed, 1 skipped ("));
    CHECK_CALL(out_has(" ticks, "));
    CHECK_CALL(out_has(" sec)\n.\nTotal: 6 tests ("));
#endif
    len = strlen(child_out);
    if (len < strlen(tail) ||
        strcmp(child_out + len - strlen(tail), tail) != 0) {
        dump_child();
        FAILm("output does not end with the expected summary");
    }

    /* Verbose lines carry the message. */
    CHECK_CALL(status_is(0, run_child_env("GT_QUIET=1", "-v -t fx_pass_b")));
    CHECK_CALL(out_has("\nPASS fx_pass_b: custom pass note"));

    /* Flags may be combined; -s/-t/-x accept an attached value. */
    CHECK_CALL(status_is(1, run_child("-fv")));
    CHECK_CALL(out_has("PASS fx_pass_a"));
    CHECK_CALL(out_lacks("[ran:fx_last_e]"));
    CHECK_CALL(summary_is(2, 1, 1));
    CHECK_CALL(status_is(0, run_child("-tfx_pass -x_b")));
    CHECK_CALL(summary_is(1, 0, 0));

    /* A filter flag without its value is a usage error. */
    CHECK_CALL(status_is(1, run_child("-t")));
    CHECK_CALL(out_has("Usage:"));
    CHECK_CALL(out_lacks("[ran:"));

    /* -a aborts at the first failure, after reporting it. */
    CHECK_CALL(status_is(128 + 6, run_child("-a")));
    CHECK_CALL(out_has("FAIL fx_fail_d: deliberate failure d"));
    CHECK_CALL(out_lacks("[ran:fx_last_e]"));

    /* Listing shows suite headers and indented test names. */
    CHECK_CALL(status_is(0, run_child("-l -s fx_basic -e")));
    CHECK_CALL(out_has("\n* Suite fx_basic:\n  fx_pass_a\n  fx_pass_b\n"));
    CHECK_CALL(out_lacks("Pass:"));
    PASS();
}
#endif

SUITE(self_runner) {
    RUN_TEST(child_full_run);
    RUN_TEST(child_test_filter);
    RUN_TEST(child_exclude);
    RUN_TEST(child_suite_filter);
    RUN_TEST(child_exact_match);
    RUN_TEST(child_first_fail);
    RUN_TEST(child_verbose);
    RUN_TEST(child_list_only);
    RUN_TEST(child_help_and_bad_flags);
#ifdef GREATEST_GONET_IMPL
    RUN_TEST(child_gonet_layout);
#endif
}

#ifndef _WIN32
/* Single-quote `path` for /bin/sh into self_cmd. */
static void set_self_cmd(const char *path) {
    size_t n = 0;
    const char *p;
    self_cmd[n++] = '\'';
    for (p = path; *p != '\0' && n + 6 < sizeof(self_cmd); p++) {
        if (*p == '\'') {
            memcpy(self_cmd + n, "'\\''", 4);
            n += 4;
        } else {
            self_cmd[n++] = *p;
        }
    }
    self_cmd[n++] = '\'';
    self_cmd[n] = '\0';
}
#endif

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    const char *fixture = getenv("GT_SELFTEST_FIXTURE");
    if (fixture != NULL && strcmp(fixture, "1") == 0) {
        return fixture_main(argc, argv);
    }
    /* Re-run ourselves through /bin/sh: use the resolved executable path
     * when available, so a bare argv[0] is not looked up in PATH. */
#ifdef _WIN32
    {   /* cmd.exe takes the path as it is (it has no spaces here) */
        static char exe[MAX_PATH];
        DWORD len = GetModuleFileNameA(NULL, exe, sizeof(exe));
        snprintf(self_cmd, sizeof(self_cmd), "%s", len > 0 ? exe : argv[0]);
        (void)argc;
    }
#else
    {
        static char exe[4096];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (len > 0) {
            exe[len] = '\0';
            set_self_cmd(exe);
        } else {
            set_self_cmd(argc > 0 && argv[0] != NULL ? argv[0] : "");
        }
    }
#endif

    GREATEST_MAIN_BEGIN();
    RUN_SUITE(self_assertions);
    RUN_SUITE(self_callbacks);
    RUN_SUITE(self_callbacks_reset);
    RUN_SUITE(self_runner_api);
    RUN_SUITE(self_runner);
    GREATEST_MAIN_END();
}
