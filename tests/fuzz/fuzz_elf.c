/* elf_verify and elf_parse on arbitrary bytes: no crash, no hang, no leak, no read outside the
 * input. A successful parse is walked fully so every string it returned is touched. */
#include <stdint.h>
#include <string.h>

#include "bundlefs/elf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t touch(const char *s)
{
    return s ? strlen(s) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const elf_host hosts[] = {
        {.elf_class = 2, .data = 1, .machine = 62}, /* x86_64 */
        {.elf_class = 1, .data = 1, .machine = 3},  /* i386 */
        {.elf_class = 2, .data = 2, .machine = 21}, /* ppc64 (big-endian) */
    };
    for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
        const char *why;
        elf_verify(data, size, &hosts[i], &why);
        touch(why);
    }
    arena *a = arena_new();
    elf_info in;
    bf_err err;
    if (elf_parse(data, size, "fuzz.so", a, &in, &err) == BF_OK) {
        size_t n = touch(in.interp) + touch(in.soname) + touch(in.rpath) + touch(in.runpath);
        for (size_t i = 0; i < in.ndeps; i++)
            n += touch(in.deps[i].name);
        for (size_t i = 0; i < in.nverneed; i++) {
            n += touch(in.verneed[i].file);
            for (size_t j = 0; j < in.verneed[i].nversions; j++)
                n += touch(in.verneed[i].versions[j]);
        }
        n += touch(elf_highest_version(&in, "GLIBC_"));
        (void)n;
    }
    arena_free(a);
    return 0;
}
