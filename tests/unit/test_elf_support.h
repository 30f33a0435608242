/* Shared by the ELF reader's test programs (test_elf_*.c): a canonical text form of what a
 * file's dynamic section, program headers and version needs say, produced both from elf_parse
 * and from readelf's output, so a differential check is one string comparison whose failure
 * shows both sides. */
#ifndef TEST_ELF_SUPPORT_H
#define TEST_ELF_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundlefs/elf.h"
#include "test_util.h"

#define TEST_ELF_HELPER __attribute__((unused)) static

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
TEST_ELF_HELPER void test_canon_tail(test_buf *b, const char *soname, const char *rpath,
                                     const char *runpath, uint64_t flags, uint64_t flags_1)
{
    if (soname)
        test_buf_printf(b, "SONAME %s\n", soname);
    if (rpath)
        test_buf_printf(b, "RPATH %s\n", rpath);
    if (runpath)
        test_buf_printf(b, "RUNPATH %s\n", runpath);
    if (flags)
        test_buf_printf(b, "FLAGS 0x%llx\n", (unsigned long long)flags);
    if (flags_1)
        test_buf_printf(b, "FLAGS_1 0x%llx\n", (unsigned long long)flags_1);
}

TEST_ELF_HELPER char *test_canon_info(const elf_info *in)
{
    static const char *const kinds[] = {"?", "NEEDED", "AUXILIARY", "FILTER"};
    test_buf b = {0};
    test_buf_printf(&b, "%s", "");
    if (!in->has_dynamic)
        test_buf_printf(&b, "NODYNAMIC\n");
    for (size_t i = 0; i < in->ndeps; i++)
        test_buf_printf(&b, "%s %s\n", kinds[in->deps[i].kind], in->deps[i].name);
    test_canon_tail(&b, in->soname, in->rpath, in->runpath, in->flags, in->flags_1);
    for (size_t i = 0; i < in->nverneed; i++) {
        test_buf_printf(&b, "VERNEED %s:", in->verneed[i].file);
        for (size_t j = 0; j < in->verneed[i].nversions; j++)
            test_buf_printf(&b, " %s", in->verneed[i].versions[j]);
        test_buf_printf(&b, "\n");
    }
    if (in->interp)
        test_buf_printf(&b, "INTERP %s\n", in->interp);
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
    test_buf b = {0}, vn = {0};
    test_buf_printf(&b, "%s", "");
    test_buf_printf(&vn, "%s", "");
    char *soname = NULL, *rpath = NULL, *runpath = NULL, *interp = NULL;
    uint64_t flags = 0, flags_1 = 0;
    bool in_verneed = false, first_file = true;
    char *save;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char **slot = NULL;
        if (strstr(line, "There is no dynamic section in this file"))
            test_buf_printf(&b, "NODYNAMIC\n");
        if (strstr(line, "[Requesting program interpreter: ")) {
            free(interp);
            interp = test_field(line, "[Requesting program interpreter: ");
            interp[strcspn(interp, "]")] = '\0';
        }
        if (line[0] != ' ')
            in_verneed = strstr(line, "Version needs section") != NULL;
        if (in_verneed && strstr(line, "File: ")) {
            char *file = test_field(line, "File: ");
            test_buf_printf(&vn, "%sVERNEED %s:", first_file ? "" : "\n", file);
            first_file = false;
            free(file);
        } else if (in_verneed && strstr(line, "Name: ")) {
            char *name = test_field(line, "Name: ");
            test_buf_printf(&vn, " %s", name);
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
            test_buf_printf(&b, "%s %s\n", dep, val);
            free(val);
        } else {
            free(*slot);
            *slot = val;
        }
    }
    test_canon_tail(&b, soname, rpath, runpath, flags, flags_1);
    if (!first_file)
        test_buf_printf(&b, "%s\n", vn.s);
    if (interp)
        test_buf_printf(&b, "INTERP %s\n", interp);
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
