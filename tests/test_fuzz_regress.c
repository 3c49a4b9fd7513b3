/* test_fuzz_regress.c — replays the fuzzers' inputs in the test suite: every
 * file under tests/fuzz/corpus/<target>/ (the seeds) and
 * tests/fuzz/regress/<target>/ (each input that once broke an invariant)
 * through the same target code the fuzzers run (tests/fuzz/fuzz_*.c, their
 * entry points renamed here). A broken invariant fails the test and names the
 * file. The files are found from the repository root, where the suite runs,
 * or under $GN_FUZZ_DIR (the tests/fuzz directory); without them the tests
 * are skipped. */
#define GN_FUZZ_REGRESS
#include "fuzz/fuzz.h"
#include "greatest.h"

#include "test_util.h"

#include <dirent.h>
#include <stdio.h>

#define LLVMFuzzerTestOneInput fz_target_http_request
#include "fuzz/fuzz_http_request.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_target_http_response
#include "fuzz/fuzz_http_response.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_target_chunked
#include "fuzz/fuzz_chunked.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_target_http_mux
#include "fuzz/fuzz_http_mux.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_target_url
#include "fuzz/fuzz_url.c"
#undef LLVMFuzzerTestOneInput
#define LLVMFuzzerTestOneInput fz_target_bufio
#include "fuzz/fuzz_bufio.c"
#undef LLVMFuzzerTestOneInput

typedef struct target {
    const char *name;
    int (*fn)(const uint8_t *data, size_t size);
} target;

static const char *g_dir;

/* The whole file, from malloc; NULL if it cannot be read.                     */
static uint8_t *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    uint8_t *b = (uint8_t *)malloc(cap);
    while (b) {
        len += fread(b + len, 1, cap - len, f);
        if (len < cap) break;
        uint8_t *nb = (uint8_t *)realloc(b, cap * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return NULL;
    }
    *n = len;
    return b;
}

/* One input through one target: 0, or -1 when it broke an invariant (the
 * check jumped back here; fz_why says which). Kept apart so that nothing the
 * caller holds lives across the jump.                                        */
static GN__NOINLINE int run_one(const target *t, const uint8_t *data, size_t n) {
    jmp_buf jb;
    int rc = 0;
    fz_jump = &jb;
    if (setjmp(jb) == 0) t->fn(data, n);
    else rc = -1;
    fz_jump = NULL;
    return rc;
}

/* Runs every file of g_dir/kind/<target>; *runs counts them. 0, or -1 after
 * printing which file broke what.                                            */
static int replay(const target *t, const char *kind, int *runs) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s/%s", g_dir, kind, t->name);
    DIR *d = opendir(dir);
    if (!d) return 0;                    /* a target may have no regressions yet */
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t n = 0;
        uint8_t *data = slurp(path, &n);
        if (!data) continue;             /* a directory, or unreadable          */
        rc = run_one(t, data, n);
        if (rc < 0) fprintf(stderr, "\n  %s\n  %s\n", path, fz_why);
        free(data);
        (*runs)++;
    }
    closedir(d);
    return rc;
}

TEST replay_target(const target *t) {
    int runs = 0;
    if (replay(t, "corpus", &runs) < 0 || replay(t, "regress", &runs) < 0)
        FAILm("an input broke an invariant");
    if (runs == 0) SKIPm("no corpus for this target");
    PASS();
}

TEST skip_all(const char *probe) {
    (void)probe;
    SKIPm("no tests/fuzz/corpus here: run from the repository root or set GN_FUZZ_DIR");
}

static const target g_targets[] = {
    {"fuzz_http_request", fz_target_http_request},
    {"fuzz_http_response", fz_target_http_response},
    {"fuzz_chunked", fz_target_chunked},
    {"fuzz_http_mux", fz_target_http_mux},
    {"fuzz_url", fz_target_url},
    {"fuzz_bufio", fz_target_bufio},
};

GREATEST_MAIN_DEFS();

int main(int argc, char **argv) {
    GREATEST_MAIN_BEGIN();
    set_scale();
    g_dir = getenv("GN_FUZZ_DIR");
    if (!g_dir || !*g_dir) g_dir = "tests/fuzz";
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/corpus", g_dir);
    DIR *d = opendir(probe);
    if (d) closedir(d);
    for (size_t i = 0; i < sizeof g_targets / sizeof *g_targets; i++) {
        greatest_set_test_suffix(g_targets[i].name);
        if (d) RUN_TEST1(replay_target, &g_targets[i]);
        else RUN_TEST1(skip_all, probe);
    }
    GREATEST_MAIN_END();
}
