/* elf_parse_fd (pread of just the needed parts into a reused buffer) must give exactly what
 * elf_parse gives on the whole file in memory: for every ELF file under
 * /usr/lib/x86_64-linux-gnu, with and without the head bytes handed in, in one reader used
 * for all of them (so stale bytes of an earlier file would show), and for every truncation of
 * a small real library. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundlefs/elf.h"
#include "test_util.h"

static void same_str(const char *x, const char *y)
{
    if (!x || !y)
        assert_ptr_equal(x, y);
    else
        assert_string_equal(x, y);
}

static void same_info(const elf_info *x, const elf_info *y, bool versions)
{
    assert_int_equal(x->elf_class, y->elf_class);
    assert_int_equal(x->type, y->type);
    assert_int_equal(x->machine, y->machine);
    assert_int_equal(x->has_dynamic, y->has_dynamic);
    same_str(x->interp, y->interp);
    same_str(x->soname, y->soname);
    same_str(x->rpath, y->rpath);
    same_str(x->runpath, y->runpath);
    assert_true(x->flags == y->flags && x->flags_1 == y->flags_1);
    assert_int_equal(x->ndeps, y->ndeps);
    for (size_t i = 0; i < x->ndeps; i++) {
        assert_int_equal(x->deps[i].kind, y->deps[i].kind);
        assert_string_equal(x->deps[i].name, y->deps[i].name);
    }
    if (!versions) {
        assert_int_equal(y->nverneed, 0);
        return;
    }
    assert_int_equal(x->nverneed, y->nverneed);
    for (size_t i = 0; i < x->nverneed; i++) {
        assert_string_equal(x->verneed[i].file, y->verneed[i].file);
        assert_int_equal(x->verneed[i].nversions, y->verneed[i].nversions);
        for (size_t k = 0; k < x->verneed[i].nversions; k++)
            assert_string_equal(x->verneed[i].versions[k], y->verneed[i].versions[k]);
    }
}

/* Parses path both ways; returns whether the file was an ELF file that parsed. */
static bool compare_file(elf_reader *r, arena *a, const char *path, size_t headlen,
                         unsigned skip)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    if (!S_ISREG(st.st_mode) || st.st_size < 4) {
        close(fd);
        return false;
    }
    uint8_t *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    assert_true(map != MAP_FAILED);
    bool elf = memcmp(map, "\177ELF", 4) == 0;
    elf_info mem, viafd;
    bf_err e1 = {{0}}, e2 = {{0}};
    int rc1 = elf_parse(map, (size_t)st.st_size, path, a, &mem, &e1);
    size_t h = headlen < (size_t)st.st_size ? headlen : (size_t)st.st_size;
    int rc2 = elf_parse_fd(r, fd, (uint64_t)st.st_size, headlen ? map : NULL, h, skip, path, a,
                           &viafd, &e2);
    assert_int_equal(rc1, rc2);
    if (rc1 == BF_OK)
        same_info(&mem, &viafd, !(skip & ELF_SKIP_VERNEED));
    else
        assert_string_equal(e1.msg, e2.msg);
    munmap(map, (size_t)st.st_size);
    close(fd);
    return elf && rc1 == BF_OK;
}

static void test_reader_matches_memory_parse(void **state)
{
    (void)state;
    const char *root = "/usr/lib/x86_64-linux-gnu";
    DIR *d = opendir(root);
    assert_non_null(d);
    arena *a = arena_new();
    elf_reader *r = elf_reader_new(a);
    size_t parsed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root, de->d_name);
        /* Three ways through one reader: head given, no head, head shorter than a header. */
        static const size_t heads[] = {4096, 0, 10};
        bool ok = false;
        for (size_t k = 0; k < 3; k++)
            ok |= compare_file(r, a, path, heads[k], k == 2 ? ELF_SKIP_VERNEED : 0);
        parsed += ok;
    }
    closedir(d);
    print_message("elf_parse_fd agreed with elf_parse on %zu ELF files\n", parsed);
    assert_true(parsed > 100);
    arena_free(a);
}

static void test_reader_truncations(void **state)
{
    (void)state;
    size_t size;
    uint8_t *bytes = test_read_file("/usr/lib/x86_64-linux-gnu/libz.so.1", &size);
    char *dir = test_tmpdir("reader");
    char path[256];
    snprintf(path, sizeof path, "%s/cut.so", dir);
    arena *a = arena_new();
    elf_reader *r = elf_reader_new(a);
    /* Every cut near the places a parse reads, and a stride through the rest. */
    for (size_t len = 1; len < size; len += len < 8192 ? 1 : 509) {
        test_write_file(path, bytes, len);
        compare_file(r, a, path, len % 2 ? 4096 : 0, 0);
    }
    test_rmdir(dir);
    free(bytes);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_matches_memory_parse),
        cmocka_unit_test(test_reader_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
