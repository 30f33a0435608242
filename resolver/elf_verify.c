/* glibc 2.36 open_verify (elf/dl-load.c): the checks, their order and the messages. The e_ident
 * rules are those of sysdeps/gnu/ldsodefs.h (every Linux port without its own override,
 * x86_64 included). 2.36 no longer looks at the NT_GNU_ABI_TAG note: a library asking for a
 * newer kernel is loaded (checked against the real loader in test_elf_verify). */
#include "elf_internal.h"

#include <string.h>

enum {
    ELF_OSABI_SYSV = 0,
    ELF_OSABI_GNU = 3,
    /* LIBC_ABI_MAX of glibc 2.36 on x86_64 (DEFAULT, UNIQUE, IFUNC, ABSOLUTE); probed against
     * the real loader in test_elf_verify. */
    ELF_LIBC_ABI_MAX = 4,
    ELF_ET_EXEC = 2,
    ELF_ET_DYN = 3,
    ELF_EV_CURRENT = 1,
};

static bool verify_osabi(uint8_t osabi)
{
    return osabi == ELF_OSABI_SYSV || osabi == ELF_OSABI_GNU;
}

static bool verify_abiversion(uint8_t osabi, uint8_t ver)
{
    return ver == 0 || (osabi == ELF_OSABI_GNU && ver < ELF_LIBC_ABI_MAX);
}

/* The message for an e_ident that fails VALID_ELF_HEADER, VALID_ELF_ABIVERSION or the padding
 * test, in glibc's order; NULL means a silent skip for the other class. */
static const char *verify_ident_problem(const uint8_t *id, const elf_host *host)
{
    if (memcmp(id, "\177ELF", 4) != 0)
        return "invalid ELF header";
    if (id[4] != host->elf_class)
        return NULL;
    if (id[5] != host->data)
        return host->data == ELF_DATA_MSB ? "ELF file data encoding not big-endian"
                                          : "ELF file data encoding not little-endian";
    if (id[6] != ELF_EV_CURRENT)
        return "ELF file version ident does not match current one";
    if (!verify_osabi(id[7]))
        return "ELF file OS ABI invalid";
    if (!verify_abiversion(id[7], id[8]))
        return "ELF file ABI version invalid";
    return "nonzero padding in e_ident";
}

static bool verify_ident_ok(const uint8_t *id, const elf_host *host)
{
    static const uint8_t zero_pad[16 - 9];
    return memcmp(id, "\177ELF", 4) == 0 && id[4] == host->elf_class && id[5] == host->data &&
           id[6] == ELF_EV_CURRENT && verify_osabi(id[7]) && verify_abiversion(id[7], id[8]) &&
           memcmp(id + 9, zero_pad, sizeof zero_pad) == 0;
}

elf_verdict elf_verify(const uint8_t *buf, size_t len, const elf_host *host, const char **why)
{
    bool is64 = host->elf_class == ELF_CLASS64;
    /* glibc reads sizeof(ElfW(Ehdr)) of its own class, and its file buffer holds this much. */
    size_t ehsize = is64 ? 64 : 52, filebuf = is64 ? 832 : 512;
    *why = NULL;
    if (len < ehsize) {
        *why = "file too short";
        return ELF_FATAL;
    }
    if (!verify_ident_ok(buf, host)) {
        *why = verify_ident_problem(buf, host);
        return *why ? ELF_FATAL : ELF_SKIP_CLASS;
    }
    /* From here on the file has the host's class and byte order, so the host layout applies. */
    elf_image im = {.buf = buf, .len = len, .is64 = is64, .big = host->data == ELF_DATA_MSB};
    if (elf_rd32(&im, 20) != ELF_EV_CURRENT) {
        *why = "ELF file version does not match current one";
        return ELF_FATAL;
    }
    if (elf_rd16(&im, 18) != host->machine)
        return ELF_SKIP_MACHINE;
    uint16_t type = elf_rd16(&im, 16);
    if (type != ELF_ET_DYN && type != ELF_ET_EXEC) {
        *why = "only ET_DYN and ET_EXEC can be loaded";
        return ELF_FATAL;
    }
    size_t phentsize = is64 ? 56 : 32;
    if (elf_rd16(&im, is64 ? 54 : 42) != phentsize) {
        *why = "ELF file's phentsize not the expected size";
        return ELF_FATAL;
    }
    /* glibc preads a program header table that is not inside its buffer; the read comes up
     * short only if the file ends first, which we can tell only when buf is the whole file. */
    uint64_t phoff = elf_rdaddr(&im, is64 ? 32 : 28);
    uint64_t phsize = (uint64_t)elf_rd16(&im, is64 ? 56 : 44) * phentsize;
    if (len < filebuf && !elf_in_file(&im, phoff, phsize)) {
        *why = "cannot read file data";
        return ELF_FATAL;
    }
    return ELF_ACCEPT;
}
