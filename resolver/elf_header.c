/* The ELF header as elf_parse reads it: identity fields and the program header table. Unlike
 * elf_verify this accepts any class, byte order, type and machine: the report wants to describe
 * foreign files too. */
#include "elf_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int elf_corrupt(const elf_image *im, bf_err *err, const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *io = elf_read_error(im);
    if (io)
        return err_set(err, "%s: %s", im->name, io);
    return err_set(err, "%s: %s; the file is corrupt or truncated", im->name, what);
}

int elf_image_open(elf_image *im, elf_info *out, bf_err *err)
{
    size_t len = im->len;
    const char *name = im->name;
    if (!elf_need(im, 0, len < 64 ? len : 64) && elf_read_error(im))
        return err_set(err, "%s: %s", name, elf_read_error(im));
    const uint8_t *buf = elf_at(im, 0, len < 64 ? len : 64);
    if (len < 4 || memcmp(buf, "\177ELF", 4) != 0)
        return err_set(err, "%s: not an ELF file (no \\177ELF magic in the first bytes)", name);
    if (len < 16)
        return elf_corrupt(im, err, "%zu bytes are too few for an ELF identification (16 bytes)",
                           len);
    uint8_t cls = buf[4], data = buf[5];
    if (cls != ELF_CLASS32 && cls != ELF_CLASS64)
        return elf_corrupt(im, err, "unknown ELF class %u in e_ident[EI_CLASS]", cls);
    if (data != ELF_DATA_LSB && data != ELF_DATA_MSB)
        return elf_corrupt(im, err, "unknown byte order %u in e_ident[EI_DATA]", data);
    im->is64 = cls == ELF_CLASS64;
    im->big = data == ELF_DATA_MSB;

    size_t ehsize = im->is64 ? 64 : 52;
    if (len < ehsize)
        return elf_corrupt(im, err, "%zu bytes are too few for an ELF%d header (%zu bytes)",
                           len, im->is64 ? 64 : 32, ehsize);
    out->elf_class = cls;
    out->data = data;
    out->osabi = buf[7];
    out->abiversion = buf[8];
    out->type = elf_rd16(im, 16);
    out->machine = elf_rd16(im, 18);

    im->phoff = elf_rdaddr(im, im->is64 ? 32 : 28);
    uint16_t phentsize = elf_rd16(im, im->is64 ? 54 : 42);
    im->phnum = elf_rd16(im, im->is64 ? 56 : 44);
    if (im->phnum == 0)
        return BF_OK;
    size_t want = im->is64 ? 56 : 32;
    if (phentsize != want)
        return elf_corrupt(im, err, "e_phentsize is %u, but an ELF%d program header has %zu bytes",
                           phentsize, im->is64 ? 64 : 32, want);
    if (!elf_need(im, im->phoff, (uint64_t)im->phnum * want))
        return elf_corrupt(im, err,
                           "the program header table (e_phoff 0x%llx, %zu entries) runs past the "
                           "end of the file (%zu bytes)",
                           (unsigned long long)im->phoff, im->phnum, len);
    return BF_OK;
}
