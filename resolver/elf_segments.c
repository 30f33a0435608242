/* Program headers and the virtual-address-to-file-offset mapping that dynamic tags need
 * (DT_STRTAB and DT_VERNEED hold addresses, not offsets). */
#include "elf_internal.h"

elf_phdr elf_phdr_at(const elf_image *im, size_t i)
{
    size_t at = (size_t)im->phoff + i * (im->is64 ? 56 : 32);
    elf_phdr ph = {.type = elf_rd32(im, at)};
    if (im->is64) {
        ph.offset = elf_rd64(im, at + 8);
        ph.vaddr = elf_rd64(im, at + 16);
        ph.filesz = elf_rd64(im, at + 32);
    } else {
        ph.offset = elf_rd32(im, at + 4);
        ph.vaddr = elf_rd32(im, at + 8);
        ph.filesz = elf_rd32(im, at + 16);
    }
    return ph;
}

bool elf_vaddr_to_offset(const elf_image *im, uint64_t vaddr, uint64_t *off, uint64_t *avail)
{
    for (size_t i = 0; i < im->phnum; i++) {
        elf_phdr ph = elf_phdr_at(im, i);
        /* Only the file-backed part counts: past p_filesz the loader supplies zeros. */
        if (ph.type != ELF_PT_LOAD || vaddr < ph.vaddr || vaddr - ph.vaddr >= ph.filesz)
            continue;
        uint64_t delta = vaddr - ph.vaddr;
        if (ph.offset > im->len || delta >= im->len - ph.offset)
            return false;
        *off = ph.offset + delta;
        uint64_t in_seg = ph.filesz - delta, in_file = im->len - *off;
        *avail = in_seg < in_file ? in_seg : in_file;
        return true;
    }
    return false;
}
