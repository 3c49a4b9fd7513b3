/*
 * greatest.h -- gonet's own, independently written implementation of the
 * documented public API of the "greatest" single-header C unit-test
 * framework (by Scott Vokes, https://github.com/silentbicycle/greatest).
 *
 * Nothing here is copied from upstream; it was written from greatest's
 * README/CHANGELOG descriptions of behaviour.  Only the subset gonet's
 * tests use is provided:
 *
 *   TEST / SUITE / SUITE_EXTERN, RUN_TEST, RUN_TEST1, RUN_TESTp (C99/C++11),
 *   RUN_SUITE, IGNORE_TEST, PASS/FAIL/SKIP (+m), CHECK_CALL,
 *   ASSERT, ASSERT_FALSE, ASSERT_EQ, ASSERT_NEQ, ASSERT_GT, ASSERT_GTE,
 *   ASSERT_LT, ASSERT_LTE, ASSERT_EQ_FMT, ASSERT_IN_RANGE, ASSERT_STR_EQ,
 *   ASSERT_STRN_EQ, ASSERT_MEM_EQ, ASSERT_ENUM_EQ, ASSERT_EQUAL_T (all +m),
 *   ASSERT_OR_LONGJMP / FAIL_WITH_LONGJMP (only if GREATEST_USE_LONGJMP=1),
 *   GREATEST_MAIN_DEFS/MAIN_BEGIN/MAIN_END, GREATEST_INIT,
 *   GREATEST_PRINT_REPORT, GREATEST_ALL_PASSED, GREATEST_IS_VERBOSE,
 *   GREATEST_SET_SETUP_CB / GREATEST_SET_TEARDOWN_CB, the greatest_set_*()
 *   option functions, greatest_set_test_suffix, greatest_get_report, and
 *   the runner flags -h/--help -l -f -a -v -s -t -x -e --.
 * Not provided: SHUFFLE_SUITES/SHUFFLE_TESTS.
 *
 * Upstream greatest.h is a drop-in replacement for this file (the tests
 * only use the API above).  The exact progress characters and failure
 * detail layout may differ slightly; GREATEST_GONET_IMPL is defined so a
 * test can tell which implementation it is compiled against.
 *
 * Output (non-verbose):
 *   "\n* Suite NAME:\n" then '.' per pass, 'F' per fail, 's' per skip,
 *   "\nFAIL test: message (file:line)\n" for each failure,
 *   "\nN tests - P passed, F failed, S skipped (T ticks, X.XXX sec)\n"
 *   and at the end
 *   "\nTotal: N tests (T ticks, X.XXX sec), A assertions\n"
 *   "Pass: P, fail: F, skip: S.\n"
 */
#ifndef GREATEST_H
#define GREATEST_H

#define GREATEST_GONET_IMPL 1

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Compile-time configuration (same knobs as upstream documents)      */
/* ------------------------------------------------------------------ */

#ifndef GREATEST_USE_ABBREVS
#define GREATEST_USE_ABBREVS 1
#endif

#ifndef GREATEST_USE_LONGJMP
#define GREATEST_USE_LONGJMP 0
#endif

#ifndef GREATEST_USE_TIME
#define GREATEST_USE_TIME 1
#endif

#ifndef GREATEST_STDOUT
#define GREATEST_STDOUT stdout
#endif

#ifndef GREATEST_FPRINTF
#define GREATEST_FPRINTF fprintf
#endif

#ifndef GREATEST_FLOAT
#define GREATEST_FLOAT double
#define GREATEST_FLOAT_FMT "%g"
#endif
#ifndef GREATEST_FLOAT_FMT
#define GREATEST_FLOAT_FMT "%g"
#endif

#ifndef GREATEST_DEFAULT_WIDTH
#define GREATEST_DEFAULT_WIDTH 72
#endif

#ifndef GREATEST_TESTNAME_BUF_SIZE
#define GREATEST_TESTNAME_BUF_SIZE 128
#endif

#if GREATEST_USE_TIME
#include <time.h>
#endif

#if GREATEST_USE_LONGJMP
#include <setjmp.h>
#endif

/* Variadic macros need C99 or C++11. */
#if (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L) || \
    (defined(__cplusplus) && __cplusplus >= 201103L) ||            \
    (defined(_MSC_VER) && _MSC_VER >= 1800)
#define GREATEST_HAVE_VARIADIC_ 1
#else
#define GREATEST_HAVE_VARIADIC_ 0
#endif

/* Helper functions live in every translation unit as unused-tolerant
 * statics; all state is in the single global greatest_info. */
#if defined(__GNUC__) || defined(__clang__)
#define GREATEST_FN_ static __attribute__((unused))
#else
#define GREATEST_FN_ static
#endif

#if defined(__cplusplus) && !defined(GREATEST_NO_EXTERN_CPLUSPLUS)
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Types                                                              */
/* ------------------------------------------------------------------ */

enum greatest_test_res {
    GREATEST_TEST_RES_PASS = 0,
    GREATEST_TEST_RES_FAIL = -1,
    GREATEST_TEST_RES_SKIP = 1
};

typedef enum greatest_flag_t {
    GREATEST_FLAG_FIRST_FAIL = 0x01,
    GREATEST_FLAG_LIST_ONLY = 0x02,
    GREATEST_FLAG_ABORT_ON_FAIL = 0x04,
    GREATEST_FLAG_EXACT_NAME_MATCH = 0x08
} greatest_flag_t;

typedef void greatest_suite_cb(void);
typedef void greatest_setup_cb(void *udata);
typedef void greatest_teardown_cb(void *udata);

/* Callbacks for ASSERT_EQUAL_T. */
typedef int greatest_equal_cb(const void *exp, const void *got, void *udata);
typedef int greatest_printf_cb(const void *t, void *udata);
typedef struct greatest_type_info {
    greatest_equal_cb *equal;
    greatest_printf_cb *print;
} greatest_type_info;

/* Converts an enum value to a name, for ASSERT_ENUM_EQ. */
typedef const char *greatest_enum_str_fun(int value);

struct greatest_report_t {
    unsigned int passed;
    unsigned int failed;
    unsigned int skipped;
    unsigned int assertions;
};

/* Per-suite bookkeeping. */
struct greatest_suite_info {
    const char *name;
    int active;           /* inside RUN_SUITE */
    int header_shown;     /* "* Suite" line already printed */
    unsigned int tests_run;
    unsigned int passed;
    unsigned int failed;
    unsigned int skipped;
#if GREATEST_USE_TIME
    clock_t started;
#endif
};

typedef struct greatest_run_info {
    /* options */
    unsigned int flags;
    unsigned int verbosity;
    unsigned int width;
    const char *suite_filter;
    const char *test_filter;
    const char *test_exclude;

    /* totals */
    unsigned int tests_run;
    unsigned int passed;
    unsigned int failed;
    unsigned int skipped;
    unsigned int assertions;

    struct greatest_suite_info suite;

    /* the test currently running */
    int in_test;
    const char *msg;
    const char *fail_file;
    unsigned int fail_line;
    const char *name_suffix;
    char name_buf[GREATEST_TESTNAME_BUF_SIZE];

    /* output column, for wrapping the progress characters */
    unsigned int col;

    greatest_setup_cb *setup;
    void *setup_udata;
    greatest_teardown_cb *teardown;
    void *teardown_udata;

#if GREATEST_USE_TIME
    clock_t begin;
    clock_t test_started;
#endif
#if GREATEST_USE_LONGJMP
    jmp_buf jump_dest;
#endif
} greatest_run_info;

/* Defined exactly once, by GREATEST_MAIN_DEFS(). */
extern greatest_run_info greatest_info;

/* ------------------------------------------------------------------ */
/* Flag queries                                                       */
/* ------------------------------------------------------------------ */

#define GREATEST_IS_VERBOSE() ((greatest_info.verbosity) > 0)
#define GREATEST_LIST_ONLY() \
    ((greatest_info.flags & GREATEST_FLAG_LIST_ONLY) != 0)
#define GREATEST_FIRST_FAIL() \
    ((greatest_info.flags & GREATEST_FLAG_FIRST_FAIL) != 0)
#define GREATEST_ABORT_ON_FAIL() \
    ((greatest_info.flags & GREATEST_FLAG_ABORT_ON_FAIL) != 0)
#define GREATEST_FAILURE_ABORT() \
    (GREATEST_FIRST_FAIL() && greatest_info.failed > 0)

/* ------------------------------------------------------------------ */
/* Internal helpers                                                   */
/* ------------------------------------------------------------------ */

GREATEST_FN_ const char *greatest_plural_(unsigned int n) {
    return n == 1 ? "" : "s";
}

/* End a line of progress characters, if one is open. */
GREATEST_FN_ void greatest_break_line_(void) {
    if (greatest_info.col != 0) {
        GREATEST_FPRINTF(GREATEST_STDOUT, "\n");
        greatest_info.col = 0;
    }
}

#if GREATEST_USE_TIME
GREATEST_FN_ void greatest_print_elapsed_(clock_t since) {
    clock_t now = clock();
    unsigned long ticks = (unsigned long)(now - since);
    GREATEST_FPRINTF(GREATEST_STDOUT, " (%lu ticks, %.3f sec)", ticks,
                     (double)ticks / (double)CLOCKS_PER_SEC);
}
#endif

GREATEST_FN_ int greatest_name_match_(const char *name, const char *filter,
                                      int exact) {
    if (exact) {
        return strcmp(name, filter) == 0;
    }
    return strstr(name, filter) != NULL;
}

GREATEST_FN_ int greatest_test_selected_(const char *name) {
    int exact = (greatest_info.flags & GREATEST_FLAG_EXACT_NAME_MATCH) != 0;
    if (greatest_info.test_filter != NULL &&
        !greatest_name_match_(name, greatest_info.test_filter, exact)) {
        return 0;
    }
    if (greatest_info.test_exclude != NULL &&
        greatest_info.test_exclude[0] != '\0' &&
        strstr(name, greatest_info.test_exclude) != NULL) {
        return 0;
    }
    return 1;
}

GREATEST_FN_ int greatest_suite_selected_(const char *name) {
    int exact = (greatest_info.flags & GREATEST_FLAG_EXACT_NAME_MATCH) != 0;
    return greatest_info.suite_filter == NULL ||
           greatest_name_match_(name, greatest_info.suite_filter, exact);
}

/* Copy "name" plus an optional "_suffix" into name_buf, truncating. */
GREATEST_FN_ void greatest_build_name_(const char *name) {
    size_t cap = sizeof(greatest_info.name_buf) - 1;
    size_t n = 0;
    const char *p;
    for (p = name; *p != '\0' && n < cap; p++) {
        greatest_info.name_buf[n++] = *p;
    }
    if (greatest_info.name_suffix != NULL &&
        greatest_info.name_suffix[0] != '\0') {
        if (n < cap) {
            greatest_info.name_buf[n++] = '_';
        }
        for (p = greatest_info.name_suffix; *p != '\0' && n < cap; p++) {
            greatest_info.name_buf[n++] = *p;
        }
    }
    greatest_info.name_buf[n] = '\0';
    greatest_info.name_suffix = NULL;
}

GREATEST_FN_ void greatest_show_suite_header_(void) {
    if (greatest_info.suite.active && !greatest_info.suite.header_shown) {
        greatest_info.suite.header_shown = 1;
        greatest_break_line_();
        GREATEST_FPRINTF(GREATEST_STDOUT, "\n* Suite %s:\n",
                         greatest_info.suite.name);
    }
}

GREATEST_FN_ void greatest_print_fail_line_(void) {
    const char *msg = greatest_info.msg;
    GREATEST_FPRINTF(GREATEST_STDOUT, "FAIL %s", greatest_info.name_buf);
    if (msg != NULL && msg[0] != '\0') {
        GREATEST_FPRINTF(GREATEST_STDOUT, ": %s", msg);
    }
    if (greatest_info.fail_file != NULL) {
        GREATEST_FPRINTF(GREATEST_STDOUT, " (%s:%u)", greatest_info.fail_file,
                         greatest_info.fail_line);
    }
    GREATEST_FPRINTF(GREATEST_STDOUT, "\n");
}

/* Called by every FAIL path at the failure site. */
GREATEST_FN_ void greatest_note_fail_(const char *file, unsigned int line,
                                      const char *msg) {
    greatest_info.fail_file = file;
    greatest_info.fail_line = line;
    greatest_info.msg = msg;
    if (GREATEST_ABORT_ON_FAIL()) {
        greatest_break_line_();
        greatest_print_fail_line_();
        fflush(GREATEST_STDOUT);
        abort();
    }
}

/* Start of the "Expected/Got" detail printed by a failing assertion. */
GREATEST_FN_ void greatest_mismatch_begin_(void) {
    greatest_break_line_();
}

/* Progress output for one finished test. */
GREATEST_FN_ void greatest_report_one_(enum greatest_test_res res) {
    const char *msg = greatest_info.msg;
    if (res == GREATEST_TEST_RES_PASS || res == GREATEST_TEST_RES_SKIP) {
        const char *word = res == GREATEST_TEST_RES_PASS ? "PASS" : "SKIP";
        if (GREATEST_IS_VERBOSE()) {
            greatest_break_line_();
            GREATEST_FPRINTF(GREATEST_STDOUT, "%s %s", word,
                             greatest_info.name_buf);
            if (msg != NULL && msg[0] != '\0') {
                GREATEST_FPRINTF(GREATEST_STDOUT, ": %s", msg);
            }
#if GREATEST_USE_TIME
            greatest_print_elapsed_(greatest_info.test_started);
#endif
            GREATEST_FPRINTF(GREATEST_STDOUT, "\n");
        } else {
            GREATEST_FPRINTF(GREATEST_STDOUT, "%c",
                             res == GREATEST_TEST_RES_PASS ? '.' : 's');
            greatest_info.col++;
            if (greatest_info.width != 0 &&
                greatest_info.col >= greatest_info.width) {
                greatest_break_line_();
            }
        }
    } else {
        if (GREATEST_IS_VERBOSE()) {
            greatest_break_line_();
        } else {
            GREATEST_FPRINTF(GREATEST_STDOUT, "F\n");
            greatest_info.col = 0;
        }
        greatest_print_fail_line_();
    }
    fflush(GREATEST_STDOUT);
}

/* ------------------------------------------------------------------ */
/* Running tests and suites                                           */
/* ------------------------------------------------------------------ */

/* Returns 1 if the test should run now (setup has been called). */
GREATEST_FN_ int greatest_test_pre(const char *name) {
    if (greatest_info.in_test) {
        return 0; /* RUN_TEST inside a test is ignored */
    }
    greatest_build_name_(name);
    if (GREATEST_FAILURE_ABORT()) {
        return 0;
    }
    if (!greatest_test_selected_(greatest_info.name_buf)) {
        return 0;
    }
    greatest_show_suite_header_();
    if (GREATEST_LIST_ONLY()) {
        GREATEST_FPRINTF(GREATEST_STDOUT, "  %s\n", greatest_info.name_buf);
        return 0;
    }
    greatest_info.in_test = 1;
    greatest_info.msg = NULL;
    greatest_info.fail_file = NULL;
    greatest_info.fail_line = 0;
#if GREATEST_USE_TIME
    greatest_info.test_started = clock();
#endif
    if (greatest_info.setup != NULL) {
        greatest_info.setup(greatest_info.setup_udata);
    }
    return 1;
}

GREATEST_FN_ void greatest_test_post(enum greatest_test_res res) {
    if (greatest_info.teardown != NULL) {
        greatest_info.teardown(greatest_info.teardown_udata);
    }
    greatest_info.in_test = 0;
    greatest_info.tests_run++;
    greatest_info.suite.tests_run++;
    if (res == GREATEST_TEST_RES_PASS) {
        greatest_info.passed++;
        greatest_info.suite.passed++;
    } else if (res == GREATEST_TEST_RES_SKIP) {
        greatest_info.skipped++;
        greatest_info.suite.skipped++;
    } else {
        res = GREATEST_TEST_RES_FAIL;
        greatest_info.failed++;
        greatest_info.suite.failed++;
    }
    greatest_report_one_(res);
}

GREATEST_FN_ void greatest_run_suite(greatest_suite_cb *suite_cb,
                                     const char *suite_name) {
    struct greatest_suite_info outer;
    greatest_setup_cb *outer_setup;
    greatest_teardown_cb *outer_teardown;
    void *outer_setup_udata;
    void *outer_teardown_udata;

    if (greatest_info.in_test || GREATEST_FAILURE_ABORT() ||
        !greatest_suite_selected_(suite_name)) {
        return;
    }
    /* Save the enclosing suite (if any) so nested suites work. */
    outer = greatest_info.suite;
    outer_setup = greatest_info.setup;
    outer_setup_udata = greatest_info.setup_udata;
    outer_teardown = greatest_info.teardown;
    outer_teardown_udata = greatest_info.teardown_udata;

    memset(&greatest_info.suite, 0, sizeof(greatest_info.suite));
    greatest_info.suite.name = suite_name;
    greatest_info.suite.active = 1;
    greatest_info.setup = NULL;
    greatest_info.setup_udata = NULL;
    greatest_info.teardown = NULL;
    greatest_info.teardown_udata = NULL;
#if GREATEST_USE_TIME
    greatest_info.suite.started = clock();
#endif

    suite_cb();

    if (greatest_info.suite.header_shown && !GREATEST_LIST_ONLY()) {
        unsigned int n = greatest_info.suite.tests_run;
        greatest_info.col = 0;
        GREATEST_FPRINTF(GREATEST_STDOUT,
                         "\n%u test%s - %u passed, %u failed, %u skipped", n,
                         greatest_plural_(n), greatest_info.suite.passed,
                         greatest_info.suite.failed,
                         greatest_info.suite.skipped);
#if GREATEST_USE_TIME
        greatest_print_elapsed_(greatest_info.suite.started);
#endif
        GREATEST_FPRINTF(GREATEST_STDOUT, "\n");
        fflush(GREATEST_STDOUT);
    } else if (greatest_info.suite.header_shown) {
        GREATEST_FPRINTF(GREATEST_STDOUT, "\n"); /* end of a listing */
    }

    greatest_info.suite = outer;
    greatest_info.setup = outer_setup;
    greatest_info.setup_udata = outer_setup_udata;
    greatest_info.teardown = outer_teardown;
    greatest_info.teardown_udata = outer_teardown_udata;
}

/* ------------------------------------------------------------------ */
/* Assertion helpers (functions, so arguments are evaluated once)     */
/* ------------------------------------------------------------------ */

GREATEST_FN_ void greatest_print_str_(const char *label, const char *s,
                                      size_t n, int bounded) {
    GREATEST_FPRINTF(GREATEST_STDOUT, "%s", label);
    if (s == NULL) {
        GREATEST_FPRINTF(GREATEST_STDOUT, "(null)\n");
    } else if (bounded) {
        int prec = n > 0x7fffffffUL ? 0x7fffffff : (int)n;
        GREATEST_FPRINTF(GREATEST_STDOUT, "\"%.*s\"\n", prec, s);
    } else {
        GREATEST_FPRINTF(GREATEST_STDOUT, "\"%s\"\n", s);
    }
}

GREATEST_FN_ int greatest_check_str_(const char *exp, const char *got,
                                     size_t n, int bounded) {
    int same;
    if (exp == NULL || got == NULL) {
        same = (exp == got);
    } else if (bounded) {
        same = strncmp(exp, got, n) == 0;
    } else {
        same = strcmp(exp, got) == 0;
    }
    if (!same) {
        greatest_mismatch_begin_();
        greatest_print_str_("Expected: ", exp, n, bounded);
        greatest_print_str_("     Got: ", got, n, bounded);
    }
    return same;
}

GREATEST_FN_ void greatest_hex_row_(const char *label, unsigned long off,
                                    const unsigned char *p, size_t len) {
    size_t i;
    GREATEST_FPRINTF(GREATEST_STDOUT, "  %08lx %s:", off, label);
    for (i = 0; i < len; i++) {
        GREATEST_FPRINTF(GREATEST_STDOUT, " %02x", (unsigned int)p[i]);
    }
    GREATEST_FPRINTF(GREATEST_STDOUT, "\n");
}

GREATEST_FN_ int greatest_check_mem_(const void *exp, const void *got,
                                     size_t size) {
    const unsigned char *e = (const unsigned char *)exp;
    const unsigned char *g = (const unsigned char *)got;
    size_t row, i, last, first = 0;
    unsigned int rows_shown = 0;

    if (size == 0) {
        return 1;
    }
    if (e == NULL || g == NULL) {
        if (e == g) {
            return 1;
        }
        greatest_mismatch_begin_();
        GREATEST_FPRINTF(GREATEST_STDOUT, "Expected: %s\n     Got: %s\n",
                         e == NULL ? "NULL" : "(memory)",
                         g == NULL ? "NULL" : "(memory)");
        return 0;
    }
    if (memcmp(e, g, size) == 0) {
        return 1;
    }
    for (i = 0; i < size; i++) {
        if (e[i] != g[i]) {
            first = i;
            break;
        }
    }
    greatest_mismatch_begin_();
    GREATEST_FPRINTF(GREATEST_STDOUT,
                     "Memory differs (%lu bytes, first difference at "
                     "offset %lu):\n",
                     (unsigned long)size, (unsigned long)first);
    /* Only the 16-byte rows containing a difference are shown. */
    for (row = first - first % 16; row < size; row += 16) {
        size_t len = size - row < 16 ? size - row : 16;
        if (memcmp(e + row, g + row, len) == 0) {
            continue;
        }
        if (rows_shown == 16) {
            GREATEST_FPRINTF(GREATEST_STDOUT, "  ... (more differences)\n");
            break;
        }
        rows_shown++;
        greatest_hex_row_("exp", (unsigned long)row, e + row, len);
        greatest_hex_row_("got", (unsigned long)row, g + row, len);
        /* marker row: "^^" under each differing byte */
        last = 0;
        for (i = 0; i < len; i++) {
            if (e[row + i] != g[row + i]) {
                last = i;
            }
        }
        GREATEST_FPRINTF(GREATEST_STDOUT, "%16s", "");
        for (i = 0; i <= last; i++) {
            GREATEST_FPRINTF(GREATEST_STDOUT, "%s",
                             e[row + i] != g[row + i] ? " ^^" : "   ");
        }
        GREATEST_FPRINTF(GREATEST_STDOUT, "\n");
    }
    return 0;
}

GREATEST_FN_ int greatest_check_enum_(int exp, int got,
                                      greatest_enum_str_fun *to_str) {
    if (exp == got) {
        return 1;
    }
    greatest_mismatch_begin_();
    GREATEST_FPRINTF(GREATEST_STDOUT, "Expected: %s\n     Got: %s\n",
                     to_str(exp), to_str(got));
    return 0;
}

GREATEST_FN_ int greatest_check_equal_t_(const void *exp, const void *got,
                                         const greatest_type_info *info,
                                         void *udata) {
    if (info == NULL || info->equal == NULL) {
        greatest_mismatch_begin_();
        GREATEST_FPRINTF(GREATEST_STDOUT,
                         "ASSERT_EQUAL_T: type info has no equal callback\n");
        return 0;
    }
    if (info->equal(exp, got, udata)) {
        return 1;
    }
    greatest_mismatch_begin_();
    if (info->print != NULL) {
        GREATEST_FPRINTF(GREATEST_STDOUT, "Expected: ");
        fflush(GREATEST_STDOUT);
        (void)info->print(exp, udata);
        fflush(stdout);
        GREATEST_FPRINTF(GREATEST_STDOUT, "\n     Got: ");
        fflush(GREATEST_STDOUT);
        (void)info->print(got, udata);
        fflush(stdout);
        GREATEST_FPRINTF(GREATEST_STDOUT, "\n");
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Public functions                                                   */
/* ------------------------------------------------------------------ */

GREATEST_FN_ void greatest_init(void) {
    memset(&greatest_info, 0, sizeof(greatest_info));
    greatest_info.width = GREATEST_DEFAULT_WIDTH;
#if GREATEST_USE_TIME
    greatest_info.begin = clock();
#endif
}

GREATEST_FN_ int greatest_all_passed(void) {
    return greatest_info.failed == 0;
}

GREATEST_FN_ void greatest_print_report(void) {
    unsigned int n = greatest_info.tests_run;
    if (GREATEST_LIST_ONLY()) {
        fflush(GREATEST_STDOUT);
        return;
    }
    greatest_info.col = 0;
    GREATEST_FPRINTF(GREATEST_STDOUT, "\nTotal: %u test%s", n,
                     greatest_plural_(n));
#if GREATEST_USE_TIME
    greatest_print_elapsed_(greatest_info.begin);
#endif
    GREATEST_FPRINTF(GREATEST_STDOUT, ", %u assertion%s\n",
                     greatest_info.assertions,
                     greatest_plural_(greatest_info.assertions));
    GREATEST_FPRINTF(GREATEST_STDOUT, "Pass: %u, fail: %u, skip: %u.\n",
                     greatest_info.passed, greatest_info.failed,
                     greatest_info.skipped);
    fflush(GREATEST_STDOUT);
}

GREATEST_FN_ void greatest_get_report(struct greatest_report_t *report) {
    if (report != NULL) {
        report->passed = greatest_info.passed;
        report->failed = greatest_info.failed;
        report->skipped = greatest_info.skipped;
        report->assertions = greatest_info.assertions;
    }
}

GREATEST_FN_ void greatest_set_suite_filter(const char *filter) {
    greatest_info.suite_filter = filter;
}
GREATEST_FN_ void greatest_set_test_filter(const char *filter) {
    greatest_info.test_filter = filter;
}
GREATEST_FN_ void greatest_set_test_exclude(const char *filter) {
    greatest_info.test_exclude = filter;
}
GREATEST_FN_ void greatest_set_exact_name_match(void) {
    greatest_info.flags |= GREATEST_FLAG_EXACT_NAME_MATCH;
}
GREATEST_FN_ void greatest_stop_at_first_fail(void) {
    greatest_info.flags |= GREATEST_FLAG_FIRST_FAIL;
}
GREATEST_FN_ void greatest_abort_on_fail(void) {
    greatest_info.flags |=
        GREATEST_FLAG_ABORT_ON_FAIL | GREATEST_FLAG_FIRST_FAIL;
}
GREATEST_FN_ void greatest_list_only(void) {
    greatest_info.flags |= GREATEST_FLAG_LIST_ONLY;
}
GREATEST_FN_ void greatest_set_flag(greatest_flag_t flag) {
    greatest_info.flags |= (unsigned int)flag;
}
GREATEST_FN_ unsigned int greatest_get_verbosity(void) {
    return greatest_info.verbosity;
}
GREATEST_FN_ void greatest_set_verbosity(unsigned int verbosity) {
    greatest_info.verbosity = verbosity;
}
GREATEST_FN_ void greatest_set_test_suffix(const char *suffix) {
    greatest_info.name_suffix = suffix;
}

GREATEST_FN_ void greatest_usage(FILE *out, const char *prog) {
    static const char *const lines[] = {
        "  -h, --help  show this help and exit\n",
        "  -l          list the suites and tests that would run; run none\n",
        "  -f          stop after the first failing test\n",
        "  -a          abort() at the first failure (implies -f)\n",
        "  -v          verbose: one line per test (repeatable)\n",
        "  -s SUITE    run only suites whose name contains SUITE\n",
        "  -t TEST     run only tests whose name contains TEST\n",
        "  -e          -s and -t must match the whole name\n",
        "  -x EXCLUDE  skip tests whose name contains EXCLUDE\n",
        "  --          ignore all following arguments\n"
    };
    size_t i;
    GREATEST_FPRINTF(out,
                     "Usage: %s [-hlfave] [-s SUITE] [-t TEST] [-x EXCLUDE]\n",
                     prog != NULL ? prog : "test_runner");
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        GREATEST_FPRINTF(out, "%s", lines[i]);
    }
}

GREATEST_FN_ void greatest_parse_options(int argc, char **argv) {
    int i;
    const char *prog = argc > 0 ? argv[0] : NULL;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int j;
        if (arg == NULL || arg[0] != '-') {
            continue; /* not an option: left for the program */
        }
        if (strcmp(arg, "--") == 0) {
            break;
        }
        if (strcmp(arg, "--help") == 0) {
            greatest_usage(GREATEST_STDOUT, prog);
            exit(0);
        }
        if (arg[1] == '\0' || arg[1] == '-') {
            GREATEST_FPRINTF(stderr, "Unknown argument '%s'\n", arg);
            greatest_usage(stderr, prog);
            exit(1);
        }
        for (j = 1; arg[j] != '\0'; j++) {
            const char *value;
            switch (arg[j]) {
            case 'h':
                greatest_usage(GREATEST_STDOUT, prog);
                exit(0);
            case 'l': greatest_list_only(); break;
            case 'f': greatest_stop_at_first_fail(); break;
            case 'a': greatest_abort_on_fail(); break;
            case 'v': greatest_info.verbosity++; break;
            case 'e': greatest_set_exact_name_match(); break;
            case 's':
            case 't':
            case 'x':
                if (arg[j + 1] != '\0') {
                    value = arg + j + 1;
                } else if (i + 1 < argc && argv[i + 1] != NULL) {
                    value = argv[++i];
                } else {
                    GREATEST_FPRINTF(stderr, "Option -%c needs an argument\n",
                                     arg[j]);
                    greatest_usage(stderr, prog);
                    exit(1);
                }
                if (arg[j] == 's') {
                    greatest_set_suite_filter(value);
                } else if (arg[j] == 't') {
                    greatest_set_test_filter(value);
                } else {
                    greatest_set_test_exclude(value);
                }
                goto next_arg;
            default:
                GREATEST_FPRINTF(stderr, "Unknown argument '-%c'\n", arg[j]);
                greatest_usage(stderr, prog);
                exit(1);
            }
        }
    next_arg:;
    }
}

#if defined(__cplusplus) && !defined(GREATEST_NO_EXTERN_CPLUSPLUS)
}
#endif

/* ------------------------------------------------------------------ */
/* Test, suite and runner macros                                      */
/* ------------------------------------------------------------------ */

#define GREATEST_TEST static enum greatest_test_res
#define GREATEST_SUITE(NAME) void NAME(void); void NAME(void)
#define GREATEST_SUITE_EXTERN(NAME) void NAME(void)

#define GREATEST_RUN_SUITE(S_NAME) greatest_run_suite(S_NAME, #S_NAME)

#if GREATEST_USE_LONGJMP
#define GREATEST_RUN_CALL_(NAME_STR, CALL)                                 \
    do {                                                                   \
        if (greatest_test_pre(NAME_STR)) {                                 \
            if (setjmp(greatest_info.jump_dest) == 0) {                    \
                greatest_test_post(CALL);                                  \
            } else {                                                       \
                greatest_test_post(GREATEST_TEST_RES_FAIL);                \
            }                                                              \
        }                                                                  \
    } while (0)
#else
#define GREATEST_RUN_CALL_(NAME_STR, CALL)                                 \
    do {                                                                   \
        if (greatest_test_pre(NAME_STR)) {                                 \
            greatest_test_post(CALL);                                      \
        }                                                                  \
    } while (0)
#endif

#define GREATEST_RUN_TEST(TEST) GREATEST_RUN_CALL_(#TEST, TEST())
#define GREATEST_RUN_TEST1(TEST, ENV) GREATEST_RUN_CALL_(#TEST, TEST(ENV))
#if GREATEST_HAVE_VARIADIC_
#define GREATEST_RUN_TESTp(TEST, ...) \
    GREATEST_RUN_CALL_(#TEST, TEST(__VA_ARGS__))
#endif

/* Reference a test without running it (avoids unused warnings). */
#define GREATEST_IGNORE_TEST(TEST) \
    do {                           \
        if (0) {                   \
            (void)(TEST);          \
        }                          \
    } while (0)

#define GREATEST_SET_SETUP_CB(CB, UDATA)  \
    do {                                  \
        greatest_info.setup = (CB);       \
        greatest_info.setup_udata = (UDATA); \
    } while (0)

#define GREATEST_SET_TEARDOWN_CB(CB, UDATA)  \
    do {                                     \
        greatest_info.teardown = (CB);       \
        greatest_info.teardown_udata = (UDATA); \
    } while (0)

/* ------------------------------------------------------------------ */
/* Test results                                                       */
/* ------------------------------------------------------------------ */

#define GREATEST_PASSm(MSG)                \
    do {                                   \
        greatest_info.msg = (MSG);         \
        return GREATEST_TEST_RES_PASS;     \
    } while (0)

#define GREATEST_SKIPm(MSG)                \
    do {                                   \
        greatest_info.msg = (MSG);         \
        return GREATEST_TEST_RES_SKIP;     \
    } while (0)

#define GREATEST_FAILm(MSG)                                           \
    do {                                                              \
        greatest_note_fail_(__FILE__, (unsigned int)__LINE__, (MSG)); \
        return GREATEST_TEST_RES_FAIL;                                \
    } while (0)

#define GREATEST_PASS() GREATEST_PASSm(NULL)
#define GREATEST_SKIP() GREATEST_SKIPm(NULL)
#define GREATEST_FAIL() GREATEST_FAILm(NULL)

/* Propagate a non-PASS result from a helper returning greatest_test_res. */
#define GREATEST_CHECK_CALL(RES)                                    \
    do {                                                            \
        enum greatest_test_res greatest_call_res_ = (RES);          \
        if (greatest_call_res_ != GREATEST_TEST_RES_PASS) {         \
            return greatest_call_res_;                              \
        }                                                           \
    } while (0)

#if GREATEST_USE_LONGJMP
#define GREATEST_FAIL_WITH_LONGJMPm(MSG)                              \
    do {                                                              \
        greatest_note_fail_(__FILE__, (unsigned int)__LINE__, (MSG)); \
        longjmp(greatest_info.jump_dest, 1);                          \
    } while (0)
#define GREATEST_FAIL_WITH_LONGJMP() GREATEST_FAIL_WITH_LONGJMPm(NULL)
#define GREATEST_ASSERT_OR_LONGJMPm(MSG, COND)       \
    do {                                             \
        greatest_info.assertions++;                  \
        if (!(COND)) {                               \
            GREATEST_FAIL_WITH_LONGJMPm(MSG);        \
        }                                            \
    } while (0)
#define GREATEST_ASSERT_OR_LONGJMP(COND) \
    GREATEST_ASSERT_OR_LONGJMPm(#COND, COND)
#endif

/* ------------------------------------------------------------------ */
/* Assertions                                                         */
/* ------------------------------------------------------------------ */

#define GREATEST_ASSERTm(MSG, COND)        \
    do {                                   \
        greatest_info.assertions++;        \
        if (!(COND)) {                     \
            GREATEST_FAILm(MSG);           \
        }                                  \
    } while (0)

#define GREATEST_ASSERT_FALSEm(MSG, COND)  \
    do {                                   \
        greatest_info.assertions++;        \
        if ((COND)) {                      \
            GREATEST_FAILm(MSG);           \
        }                                  \
    } while (0)

#define GREATEST_ASSERT_EQm(MSG, EXP, GOT)  GREATEST_ASSERTm(MSG, (EXP) == (GOT))
#define GREATEST_ASSERT_NEQm(MSG, EXP, GOT) GREATEST_ASSERTm(MSG, (EXP) != (GOT))
#define GREATEST_ASSERT_GTm(MSG, EXP, GOT)  GREATEST_ASSERTm(MSG, (EXP) > (GOT))
#define GREATEST_ASSERT_GTEm(MSG, EXP, GOT) GREATEST_ASSERTm(MSG, (EXP) >= (GOT))
#define GREATEST_ASSERT_LTm(MSG, EXP, GOT)  GREATEST_ASSERTm(MSG, (EXP) < (GOT))
#define GREATEST_ASSERT_LTEm(MSG, EXP, GOT) GREATEST_ASSERTm(MSG, (EXP) <= (GOT))

/* EXP and GOT are evaluated again when printing a mismatch. */
#define GREATEST_ASSERT_EQ_FMTm(MSG, EXP, GOT, FMT)                   \
    do {                                                              \
        greatest_info.assertions++;                                   \
        if ((EXP) != (GOT)) {                                         \
            greatest_mismatch_begin_();                               \
            GREATEST_FPRINTF(GREATEST_STDOUT, "Expected: ");          \
            GREATEST_FPRINTF(GREATEST_STDOUT, FMT, EXP);              \
            GREATEST_FPRINTF(GREATEST_STDOUT, "\n     Got: ");        \
            GREATEST_FPRINTF(GREATEST_STDOUT, FMT, GOT);              \
            GREATEST_FPRINTF(GREATEST_STDOUT, "\n");                  \
            GREATEST_FAILm(MSG);                                      \
        }                                                             \
    } while (0)

/* Fails when |GOT - EXP| > TOL, and also when either value is NaN. */
#define GREATEST_ASSERT_IN_RANGEm(MSG, EXP, GOT, TOL)                       \
    do {                                                                    \
        GREATEST_FLOAT greatest_exp_ = (EXP);                               \
        GREATEST_FLOAT greatest_got_ = (GOT);                               \
        GREATEST_FLOAT greatest_tol_ = (TOL);                               \
        greatest_info.assertions++;                                         \
        if (!(greatest_exp_ == greatest_got_) &&                            \
            !((greatest_got_ > greatest_exp_ ? greatest_got_ - greatest_exp_ \
                                             : greatest_exp_ - greatest_got_) \
              <= greatest_tol_)) {                                          \
            greatest_mismatch_begin_();                                     \
            GREATEST_FPRINTF(GREATEST_STDOUT,                               \
                             "Expected: " GREATEST_FLOAT_FMT                \
                             " +/- " GREATEST_FLOAT_FMT                     \
                             "\n     Got: " GREATEST_FLOAT_FMT "\n",        \
                             greatest_exp_, greatest_tol_, greatest_got_);  \
            GREATEST_FAILm(MSG);                                            \
        }                                                                   \
    } while (0)

#define GREATEST_ASSERT_STR_EQm(MSG, EXP, GOT)                \
    do {                                                      \
        greatest_info.assertions++;                           \
        if (!greatest_check_str_((EXP), (GOT), 0, 0)) {       \
            GREATEST_FAILm(MSG);                              \
        }                                                     \
    } while (0)

#define GREATEST_ASSERT_STRN_EQm(MSG, EXP, GOT, SIZE)                  \
    do {                                                               \
        greatest_info.assertions++;                                    \
        if (!greatest_check_str_((EXP), (GOT), (size_t)(SIZE), 1)) {   \
            GREATEST_FAILm(MSG);                                       \
        }                                                              \
    } while (0)

#define GREATEST_ASSERT_MEM_EQm(MSG, EXP, GOT, SIZE)                   \
    do {                                                               \
        greatest_info.assertions++;                                    \
        if (!greatest_check_mem_((EXP), (GOT), (size_t)(SIZE))) {      \
            GREATEST_FAILm(MSG);                                       \
        }                                                              \
    } while (0)

#define GREATEST_ASSERT_ENUM_EQm(MSG, EXP, GOT, ENUM_STR)                 \
    do {                                                                  \
        greatest_info.assertions++;                                       \
        if (!greatest_check_enum_((int)(EXP), (int)(GOT), (ENUM_STR))) {  \
            GREATEST_FAILm(MSG);                                          \
        }                                                                 \
    } while (0)

#define GREATEST_ASSERT_EQUAL_Tm(MSG, EXP, GOT, TYPE_INFO, UDATA)         \
    do {                                                                  \
        greatest_info.assertions++;                                       \
        if (!greatest_check_equal_t_((EXP), (GOT), (TYPE_INFO), (UDATA))) { \
            GREATEST_FAILm(MSG);                                          \
        }                                                                 \
    } while (0)

#define GREATEST_ASSERT(COND) GREATEST_ASSERTm(#COND, COND)
#define GREATEST_ASSERT_FALSE(COND) GREATEST_ASSERT_FALSEm("!(" #COND ")", COND)
#define GREATEST_ASSERT_EQ(EXP, GOT) \
    GREATEST_ASSERT_EQm(#EXP " != " #GOT, EXP, GOT)
#define GREATEST_ASSERT_NEQ(EXP, GOT) \
    GREATEST_ASSERT_NEQm(#EXP " == " #GOT, EXP, GOT)
#define GREATEST_ASSERT_GT(EXP, GOT) \
    GREATEST_ASSERT_GTm(#EXP " <= " #GOT, EXP, GOT)
#define GREATEST_ASSERT_GTE(EXP, GOT) \
    GREATEST_ASSERT_GTEm(#EXP " < " #GOT, EXP, GOT)
#define GREATEST_ASSERT_LT(EXP, GOT) \
    GREATEST_ASSERT_LTm(#EXP " >= " #GOT, EXP, GOT)
#define GREATEST_ASSERT_LTE(EXP, GOT) \
    GREATEST_ASSERT_LTEm(#EXP " > " #GOT, EXP, GOT)
#define GREATEST_ASSERT_EQ_FMT(EXP, GOT, FMT) \
    GREATEST_ASSERT_EQ_FMTm(#EXP " != " #GOT, EXP, GOT, FMT)
#define GREATEST_ASSERT_IN_RANGE(EXP, GOT, TOL) \
    GREATEST_ASSERT_IN_RANGEm(#EXP " != " #GOT " +/- " #TOL, EXP, GOT, TOL)
#define GREATEST_ASSERT_STR_EQ(EXP, GOT) \
    GREATEST_ASSERT_STR_EQm(#EXP " != " #GOT, EXP, GOT)
#define GREATEST_ASSERT_STRN_EQ(EXP, GOT, SIZE) \
    GREATEST_ASSERT_STRN_EQm(#EXP " != " #GOT, EXP, GOT, SIZE)
#define GREATEST_ASSERT_MEM_EQ(EXP, GOT, SIZE) \
    GREATEST_ASSERT_MEM_EQm(#EXP " != " #GOT, EXP, GOT, SIZE)
#define GREATEST_ASSERT_ENUM_EQ(EXP, GOT, ENUM_STR) \
    GREATEST_ASSERT_ENUM_EQm(#EXP " != " #GOT, EXP, GOT, ENUM_STR)
#define GREATEST_ASSERT_EQUAL_T(EXP, GOT, TYPE_INFO, UDATA) \
    GREATEST_ASSERT_EQUAL_Tm(#EXP " != " #GOT, EXP, GOT, TYPE_INFO, UDATA)

/* ------------------------------------------------------------------ */
/* Runner entry points                                                */
/* ------------------------------------------------------------------ */

/* Use once, at file scope, in the runner's main file: GREATEST_MAIN_DEFS(); */
#define GREATEST_MAIN_DEFS() greatest_run_info greatest_info

#define GREATEST_INIT() greatest_init()
#define GREATEST_PRINT_REPORT() greatest_print_report()
#define GREATEST_ALL_PASSED() (greatest_info.failed == 0)

/* Expects main's parameters to be named argc and argv. */
#define GREATEST_MAIN_BEGIN()                      \
    do {                                           \
        greatest_init();                           \
        greatest_parse_options(argc, argv);        \
    } while (0)

/* Prints the report and returns 0 from main if nothing failed, else 1. */
#define GREATEST_MAIN_END()                        \
    do {                                           \
        greatest_print_report();                   \
        return GREATEST_ALL_PASSED() ? 0 : 1;      \
    } while (0)

/* ------------------------------------------------------------------ */
/* Short names                                                        */
/* ------------------------------------------------------------------ */

#if GREATEST_USE_ABBREVS
#define TEST GREATEST_TEST
#define SUITE GREATEST_SUITE
#define SUITE_EXTERN GREATEST_SUITE_EXTERN
#define RUN_TEST GREATEST_RUN_TEST
#define RUN_TEST1 GREATEST_RUN_TEST1
#define RUN_SUITE GREATEST_RUN_SUITE
#define IGNORE_TEST GREATEST_IGNORE_TEST
#define ASSERT GREATEST_ASSERT
#define ASSERTm GREATEST_ASSERTm
#define ASSERT_FALSE GREATEST_ASSERT_FALSE
#define ASSERT_FALSEm GREATEST_ASSERT_FALSEm
#define ASSERT_EQ GREATEST_ASSERT_EQ
#define ASSERT_EQm GREATEST_ASSERT_EQm
#define ASSERT_NEQ GREATEST_ASSERT_NEQ
#define ASSERT_NEQm GREATEST_ASSERT_NEQm
#define ASSERT_GT GREATEST_ASSERT_GT
#define ASSERT_GTm GREATEST_ASSERT_GTm
#define ASSERT_GTE GREATEST_ASSERT_GTE
#define ASSERT_GTEm GREATEST_ASSERT_GTEm
#define ASSERT_LT GREATEST_ASSERT_LT
#define ASSERT_LTm GREATEST_ASSERT_LTm
#define ASSERT_LTE GREATEST_ASSERT_LTE
#define ASSERT_LTEm GREATEST_ASSERT_LTEm
#define ASSERT_EQ_FMT GREATEST_ASSERT_EQ_FMT
#define ASSERT_EQ_FMTm GREATEST_ASSERT_EQ_FMTm
#define ASSERT_IN_RANGE GREATEST_ASSERT_IN_RANGE
#define ASSERT_IN_RANGEm GREATEST_ASSERT_IN_RANGEm
#define ASSERT_STR_EQ GREATEST_ASSERT_STR_EQ
#define ASSERT_STR_EQm GREATEST_ASSERT_STR_EQm
#define ASSERT_STRN_EQ GREATEST_ASSERT_STRN_EQ
#define ASSERT_STRN_EQm GREATEST_ASSERT_STRN_EQm
#define ASSERT_MEM_EQ GREATEST_ASSERT_MEM_EQ
#define ASSERT_MEM_EQm GREATEST_ASSERT_MEM_EQm
#define ASSERT_ENUM_EQ GREATEST_ASSERT_ENUM_EQ
#define ASSERT_ENUM_EQm GREATEST_ASSERT_ENUM_EQm
#define ASSERT_EQUAL_T GREATEST_ASSERT_EQUAL_T
#define ASSERT_EQUAL_Tm GREATEST_ASSERT_EQUAL_Tm
#define PASS GREATEST_PASS
#define PASSm GREATEST_PASSm
#define FAIL GREATEST_FAIL
#define FAILm GREATEST_FAILm
#define SKIP GREATEST_SKIP
#define SKIPm GREATEST_SKIPm
#define CHECK_CALL GREATEST_CHECK_CALL
#define SET_SETUP GREATEST_SET_SETUP_CB
#define SET_TEARDOWN GREATEST_SET_TEARDOWN_CB
#if GREATEST_HAVE_VARIADIC_
#define RUN_TESTp GREATEST_RUN_TESTp
#endif
#if GREATEST_USE_LONGJMP
#define ASSERT_OR_LONGJMP GREATEST_ASSERT_OR_LONGJMP
#define ASSERT_OR_LONGJMPm GREATEST_ASSERT_OR_LONGJMPm
#define FAIL_WITH_LONGJMP GREATEST_FAIL_WITH_LONGJMP
#define FAIL_WITH_LONGJMPm GREATEST_FAIL_WITH_LONGJMPm
#endif
#endif /* GREATEST_USE_ABBREVS */

#endif /* GREATEST_H */
