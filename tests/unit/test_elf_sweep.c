/* Differential sweep over the real files of this machine: every ELF file under
 * /usr/lib/x86_64-linux-gnu must parse; a deterministic sample of 150 is compared with
 * readelf in full (dependency entries, SONAME, RPATH, RUNPATH, flags, version needs,
 * interpreter); every candidate the loader could open gets the verdict glibc gives it. */
#include "test_elf_support.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { SAMPLE = 150 };

static const char *const sweep_root = "/usr/lib/x86_64-linux-gnu";

typedef struct path_list {
    char **paths;
    size_t n, cap;
} path_list;

static path_list found;

static bool is_elf(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    char magic[4];
    bool ok = read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0;
    close(fd);
    return ok;
}

static void path_list_push(path_list *l, char *path)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->paths = realloc(l->paths, l->cap * sizeof *l->paths);
        assert_non_null(l->paths);
    }
    l->paths[l->n++] = path;
}

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type == FTW_F && S_ISREG(st->st_mode) && is_elf(path))
        path_list_push(&found, strdup(path));
    return 0;
}

static int by_name(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int sweep_setup(void **state)
{
    if (nftw(sweep_root, collect, 32, FTW_PHYS) != 0)
        return -1;
    qsort(found.paths, found.n, sizeof *found.paths, by_name);
    return found.n >= SAMPLE ? 0 : -1;
}

static int sweep_teardown(void **state)
{
    for (size_t i = 0; i < found.n; i++)
        free(found.paths[i]);
    free(found.paths);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What a sweep hands each file to: its bytes and what elf_parse made of them. */
typedef void sweep_visit(const char *path, const uint8_t *buf, size_t len, const elf_info *in,
                         void *ctx);

/* Maps and parses every found file (each one must parse) and visits it; returns the seconds
 * spent in elf_parse alone. */
static double sweep_parse_each(sweep_visit *visit, void *ctx)
{
    double spent = 0;
    for (size_t i = 0; i < found.n; i++) {
        size_t len;
        const uint8_t *buf = test_map_file(found.paths[i], &len);
        arena *a = arena_new();
        elf_info in;
        bf_err err;
        double t0 = now();
        int rc = elf_parse(buf, len, found.paths[i], a, &in, &err);
        spent += now() - t0;
        if (rc != BF_OK)
            fail_msg("elf_parse failed: %s", err.msg);
        visit(found.paths[i], buf, len, &in, ctx);
        arena_free(a);
        test_unmap_file(buf, len);
    }
    return spent;
}

typedef struct parse_totals {
    size_t bytes, with_deps;
} parse_totals;

static void count_parsed(const char *path, const uint8_t *buf, size_t len, const elf_info *in,
                         void *ctx)
{
    parse_totals *t = ctx;
    t->with_deps += in->ndeps > 0;
    t->bytes += len;
}

/* Every ELF file parses; also reports the parse rate (file reading excluded). */
static void test_all_parse(void **state)
{
    parse_totals t = {0};
    double spent = sweep_parse_each(count_parsed, &t);
    print_message("%zu ELF files (%zu MiB, %zu with dependencies) parsed in %.1f ms "
                  "(%.1f us each, pages mapped on demand)\n",
                  found.n, t.bytes >> 20, t.with_deps, spent * 1e3, spent * 1e6 / (double)found.n);
    assert_true(t.with_deps > found.n / 4);
}

/* SAMPLE shared objects (by name, so the choice does not depend on the parser) and a few of
 * the rest (objects, executables), each spread evenly over the sorted list. */
static void test_sample_matches_readelf(void **state)
{
    path_list so = {0}, other = {0};
    for (size_t i = 0; i < found.n; i++) {
        path_list *l = strstr(strrchr(found.paths[i], '/'), ".so") ? &so : &other;
        path_list_push(l, found.paths[i]);
    }
    assert_true(so.n >= SAMPLE && other.n >= SAMPLE / 10);
    for (size_t k = 0; k < SAMPLE; k++)
        test_assert_matches_readelf(so.paths[k * (so.n / SAMPLE)]);
    for (size_t k = 0; k < SAMPLE / 10; k++)
        test_assert_matches_readelf(other.paths[k * (other.n / (SAMPLE / 10))]);
    free(so.paths);
    free(other.paths);
}

/* x86_64 ET_DYN/ET_EXEC files are what the loader opens every day: glibc accepts them, and it
 * refuses relocatable objects. The verdict on the first 832 bytes (what glibc reads) equals the
 * verdict on the whole file. */
static void verify_parsed(const char *path, const uint8_t *buf, size_t len, const elf_info *in,
                          void *ctx)
{
    static const elf_host host = {.elf_class = 2, .data = 1, .machine = 62};
    size_t *accepted = ctx;
    const char *why, *why_prefix;
    elf_verdict v = elf_verify(buf, len, &host, &why);
    elf_verdict v_prefix = elf_verify(buf, len < 832 ? len : 832, &host, &why_prefix);
    assert_int_equal(v, v_prefix);
    if (in->elf_class == 2 && in->machine == 62 && (in->type == 2 || in->type == 3)) {
        if (v != ELF_ACCEPT)
            fail_msg("%s: elf_verify refuses it: %s", path, why ? why : "skipped");
        (*accepted)++;
    } else if (in->elf_class == 2 && in->machine == 62 && in->type == 1) {
        assert_int_equal(v, ELF_FATAL);
        assert_string_equal(why, "only ET_DYN and ET_EXEC can be loaded");
    }
}

static void test_verify_real_files(void **state)
{
    size_t accepted = 0;
    sweep_parse_each(verify_parsed, &accepted);
    assert_true(accepted >= SAMPLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_parse),
        cmocka_unit_test(test_sample_matches_readelf),
        cmocka_unit_test(test_verify_real_files),
    };
    return cmocka_run_group_tests(tests, sweep_setup, sweep_teardown);
}
