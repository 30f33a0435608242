/* elf_parse: one pass over the program headers, then the dynamic section if there is one. */
#include "elf_internal.h"

#include <string.h>

static int elf_read_interp(const elf_image *im, const elf_phdr *ph, arena *a, elf_info *out,
                           bf_err *err)
{
    if (!elf_need(im, ph->offset, ph->filesz))
        return elf_corrupt(im, err,
                           "PT_INTERP (offset 0x%llx, %llu bytes) runs past the end of the file "
                           "(%zu bytes)",
                           (unsigned long long)ph->offset, (unsigned long long)ph->filesz,
                           im->len);
    const char *s = (const char *)elf_at(im, ph->offset, ph->filesz);
    const char *nul = memchr(s, '\0', (size_t)ph->filesz);
    if (!nul)
        return elf_corrupt(im, err, "the PT_INTERP string is not NUL-terminated");
    out->interp = arena_strndup(a, s, (size_t)(nul - s));
    return BF_OK;
}

int elf_parse_image(elf_image *imp, arena *a, elf_info *out, bf_err *err)
{
    *out = (elf_info){0};
    elf_image im = *imp;
    if (elf_image_open(&im, out, err) != BF_OK) {
        *out = (elf_info){0};
        return BF_FAIL;
    }
    /* glibc's loader keeps the last non-empty PT_DYNAMIC; the kernel uses the first PT_INTERP. */
    elf_phdr dyn = {0};
    for (size_t i = 0; i < im.phnum; i++) {
        elf_phdr ph = elf_phdr_at(&im, i);
        if (ph.type == ELF_PT_DYNAMIC) {
            if (ph.filesz)
                dyn = ph;
            out->has_dynamic = true;
        } else if (ph.type == ELF_PT_INTERP && !out->interp &&
                   elf_read_interp(&im, &ph, a, out, err) != BF_OK) {
            *out = (elf_info){0};
            return BF_FAIL;
        }
    }
    if (out->has_dynamic && elf_dynamic_read(&im, &dyn, a, out, err) != BF_OK) {
        *out = (elf_info){0};
        return BF_FAIL;
    }
    return BF_OK;
}

int elf_parse(const uint8_t *buf, size_t len, const char *name, arena *a, elf_info *out,
              bf_err *err)
{
    elf_image im = {.buf = buf, .len = len, .name = name};
    return elf_parse_image(&im, a, out, err);
}
