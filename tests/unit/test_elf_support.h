/* Shared by the ELF reader's test programs (test_elf_*.c): files in a temporary directory,
 * command output, and a canonical text form of what a file's dynamic section, program headers
 * and version needs say, produced both from elf_parse and from readelf's output, so a
 * differential check is one string comparison whose failure shows both sides. */
#ifndef TEST_ELF_SUPPORT_H
#define TEST_ELF_SUPPORT_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundlefs/elf.h"

#define TEST_ELF_HELPER __attribute__((unused)) static

/* A growable string. */
typedef struct tbuf {
    char *s;
    size_t n, cap;
} tbuf;

TEST_ELF_HELPER void tbuf_printf(tbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        assert_true(k >= 0);
        if (b->s && (size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        b->cap = (b->cap + (size_t)k + 1) * 2;
        b->s = realloc(b->s, b->cap);
        assert_non_null(b->s);
    }
}

/* Runs a shell command and returns its standard output (caller frees), NULL if it fails. */
TEST_ELF_HELPER char *test_capture(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    tbuf b = {0};
    tbuf_printf(&b, "%s", "");
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, p)) > 0)
        tbuf_printf(&b, "%.*s", (int)got, chunk);
    if (pclose(p) != 0) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* Runs a shell command, failing the test with the command shown if it fails. */
TEST_ELF_HELPER void test_run(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("command failed (status %d): %s", rc, cmd);
}

TEST_ELF_HELPER uint8_t *test_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail_msg("cannot open %s", path);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
    assert_non_null(buf);
    size_t n = 0;
    while (n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        assert_true(r > 0);
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

/* Maps a file read-only (NULL for an empty one): the sweep touches only the pages it reads. */
TEST_ELF_HELPER const uint8_t *test_map_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail_msg("cannot open %s", path);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    *len = (size_t)st.st_size;
    void *p = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    assert_true(p != MAP_FAILED);
    return p;
}

TEST_ELF_HELPER void test_unmap_file(const uint8_t *buf, size_t len)
{
    if (buf)
        munmap((void *)buf, len);
}

TEST_ELF_HELPER void test_write_file(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* A fresh directory under /tmp (removed by test_rmdir). */
TEST_ELF_HELPER char *test_tmpdir(void)
{
    char *d = strdup("/tmp/bundlefs-elf-XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

TEST_ELF_HELPER void test_rmdir(char *dir)
{
    test_run("rm -rf '%s'", dir);
    free(dir);
}

/* Parses path with elf_parse into a fresh arena (caller frees *a), failing on an error. */
TEST_ELF_HELPER elf_info test_parse_path(const char *path, arena **a)
{
    size_t len;
    uint8_t *buf = test_read_file(path, &len);
    *a = arena_new();
    elf_info info;
    bf_err err;
    if (elf_parse(buf, len, path, *a, &info, &err) != BF_OK)
        fail_msg("elf_parse failed: %s", err.msg);
    free(buf);
    return info;
}

/* The canonical form: dependency entries in order, then the single-valued tags, the version
 * needs, the interpreter. */
TEST_ELF_HELPER void test_canon_tail(tbuf *b, const char *soname, const char *rpath,
                                     const char *runpath, uint64_t flags, uint64_t flags_1)
{
    if (soname)
        tbuf_printf(b, "SONAME %s\n", soname);
    if (rpath)
        tbuf_printf(b, "RPATH %s\n", rpath);
    if (runpath)
        tbuf_printf(b, "RUNPATH %s\n", runpath);
    if (flags)
        tbuf_printf(b, "FLAGS 0x%llx\n", (unsigned long long)flags);
    if (flags_1)
        tbuf_printf(b, "FLAGS_1 0x%llx\n", (unsigned long long)flags_1);
}

TEST_ELF_HELPER char *test_canon_info(const elf_info *in)
{
    static const char *const kinds[] = {"?", "NEEDED", "AUXILIARY", "FILTER"};
    tbuf b = {0};
    tbuf_printf(&b, "%s", "");
    if (!in->has_dynamic)
        tbuf_printf(&b, "NODYNAMIC\n");
    for (size_t i = 0; i < in->ndeps; i++)
        tbuf_printf(&b, "%s %s\n", kinds[in->deps[i].kind], in->deps[i].name);
    test_canon_tail(&b, in->soname, in->rpath, in->runpath, in->flags, in->flags_1);
    for (size_t i = 0; i < in->nverneed; i++) {
        tbuf_printf(&b, "VERNEED %s:", in->verneed[i].file);
        for (size_t j = 0; j < in->verneed[i].nversions; j++)
            tbuf_printf(&b, " %s", in->verneed[i].versions[j]);
        tbuf_printf(&b, "\n");
    }
    if (in->interp)
        tbuf_printf(&b, "INTERP %s\n", in->interp);
    return b.s;
}

/* Bit values of the names readelf prints for DT_FLAGS and DT_FLAGS_1 (binutils order). */
TEST_ELF_HELPER uint64_t test_flag_bits(const char *names, bool flags_1)
{
    static const char *const f[] = {"ORIGIN", "SYMBOLIC", "TEXTREL", "BIND_NOW", "STATIC_TLS"};
    static const char *const f1[] = {
        "NOW",      "GLOBAL",     "GROUP",      "NODELETE", "LOADFLTR",   "INITFIRST",
        "NOOPEN",   "ORIGIN",     "DIRECT",     "TRANS",    "INTERPOSE",  "NODEFLIB",
        "NODUMP",   "CONFALT",    "ENDFILTEE",  "DISPRELDNE", "DISPRELPND", "NODIRECT",
        "IGNMULDEF", "NOKSYMS",   "NOHDR",      "EDITED",   "NORELOC",    "SYMINTPOSE",
        "GLOBAUDIT", "SINGLETON", "STUB",       "PIE",      "KMOD",       "WEAKFILTER",
        "NOCOMMON"};
    const char *const *table = flags_1 ? f1 : f;
    size_t n = flags_1 ? sizeof f1 / sizeof *f1 : sizeof f / sizeof *f;
    uint64_t bits = 0;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", names);
    for (char *save, *w = strtok_r(copy, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
        size_t k = 0;
        while (k < n && strcmp(table[k], w) != 0)
            k++;
        if (k == n)
            fail_msg("readelf printed flag name %s, which the test does not know", w);
        bits |= 1ull << k;
    }
    return bits;
}

/* The text between the first '[' and the last ']' of line (a readelf string value). */
TEST_ELF_HELPER char *test_bracketed(const char *line)
{
    const char *l = strchr(line, '['), *r = strrchr(line, ']');
    assert_non_null(l);
    assert_non_null(r);
    return strndup(l + 1, (size_t)(r - l - 1));
}

/* The text after key up to the next double space or end of line. */
TEST_ELF_HELPER char *test_field(const char *line, const char *key)
{
    const char *p = strstr(line, key);
    assert_non_null(p);
    p += strlen(key);
    size_t n = strcspn(p, "\n");
    const char *dbl = strstr(p, "  ");
    if (dbl && (size_t)(dbl - p) < n)
        n = (size_t)(dbl - p);
    return strndup(p, n);
}

/* The canonical form of `readelf -lW -dW -VW path` (last value wins for single tags). */
TEST_ELF_HELPER char *test_canon_readelf(const char *path)
{
    assert_null(strchr(path, '\''));
    char *out = test_capture("readelf -lW -dW -VW '%s' 2>/dev/null", path);
    if (!out)
        fail_msg("readelf failed on %s", path);
    tbuf b = {0}, vn = {0};
    tbuf_printf(&b, "%s", "");
    tbuf_printf(&vn, "%s", "");
    char *soname = NULL, *rpath = NULL, *runpath = NULL, *interp = NULL;
    uint64_t flags = 0, flags_1 = 0;
    bool in_verneed = false, first_file = true;
    char *save;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char **slot = NULL;
        if (strstr(line, "There is no dynamic section in this file"))
            tbuf_printf(&b, "NODYNAMIC\n");
        if (strstr(line, "[Requesting program interpreter: ")) {
            free(interp);
            interp = test_field(line, "[Requesting program interpreter: ");
            interp[strcspn(interp, "]")] = '\0';
        }
        if (line[0] != ' ')
            in_verneed = strstr(line, "Version needs section") != NULL;
        if (in_verneed && strstr(line, "File: ")) {
            char *file = test_field(line, "File: ");
            tbuf_printf(&vn, "%sVERNEED %s:", first_file ? "" : "\n", file);
            first_file = false;
            free(file);
        } else if (in_verneed && strstr(line, "Name: ")) {
            char *name = test_field(line, "Name: ");
            tbuf_printf(&vn, " %s", name);
            free(name);
        }
        if (strncmp(line, " 0x", 3) != 0 || !strchr(line, '('))
            continue;
        uint64_t tag = strtoull(line + 1, NULL, 16);
        const char *dep = NULL;
        switch (tag) {
        case 1: dep = "NEEDED"; break;
        case 0x7ffffffd: dep = "AUXILIARY"; break;
        case 0x7fffffff: dep = "FILTER"; break;
        case 14: slot = &soname; break;
        case 15: slot = &rpath; break;
        case 29: slot = &runpath; break;
        case 30: flags = test_flag_bits(strchr(line, ')') + 1, false); continue;
        case 0x6ffffffb: flags_1 = test_flag_bits(strstr(line, "Flags:") + 6, true); continue;
        default: continue;
        }
        char *val = test_bracketed(line);
        if (dep) {
            tbuf_printf(&b, "%s %s\n", dep, val);
            free(val);
        } else {
            free(*slot);
            *slot = val;
        }
    }
    test_canon_tail(&b, soname, rpath, runpath, flags, flags_1);
    if (!first_file)
        tbuf_printf(&b, "%s\n", vn.s);
    if (interp)
        tbuf_printf(&b, "INTERP %s\n", interp);
    free(soname);
    free(rpath);
    free(runpath);
    free(interp);
    free(vn.s);
    free(out);
    return b.s;
}

/* elf_parse(path) and readelf agree on everything in the canonical form. */
TEST_ELF_HELPER void test_assert_matches_readelf(const char *path)
{
    arena *a;
    elf_info in = test_parse_path(path, &a);
    char *mine = test_canon_info(&in), *theirs = test_canon_readelf(path);
    if (strcmp(mine, theirs) != 0)
        fail_msg("%s: elf_parse and readelf disagree\n--- elf_parse:\n%s--- readelf:\n%s", path,
                 mine, theirs);
    free(mine);
    free(theirs);
    arena_free(a);
}

#endif
