/* Reading one candidate file: glibc's open_verify checks and, for a file that passes them, its
 * dynamic information, for the search and for the main program and ld.so alike. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "ldso_internal.h"

/* More than glibc's 832 bytes: the program headers of every file seen so far fit, and the
 * parse takes them from here instead of reading them again. */
enum { LDSO_HEAD_BYTES = 4096 };

void ldso_cand_read(elf_reader *r, arena *a, const host_info *h, const char *path,
                    ldso_cand *c)
{
    memset(c, 0, offsetof(ldso_cand, elf));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        c->open_errno = errno;
        return;
    }
    unsigned char head[LDSO_HEAD_BYTES];
    ssize_t n = pread(fd, head, sizeof head, 0);
    if (n < 0) {
        c->verdict = ELF_FATAL;
        c->why = "cannot read file data";
        c->why_errno = errno;
    } else {
        c->verdict = elf_verify(head, (size_t)n, &h->elf, &c->why);
    }
    if (c->verdict == ELF_ACCEPT && fstat(fd, &c->st) != 0) {
        c->verdict = ELF_FATAL;
        c->why = "cannot stat shared object";
        c->why_errno = errno;
    }
    if (c->verdict == ELF_ACCEPT) {
        bf_err err;
        /* Version needs play no part in finding libraries. */
        c->parsed = elf_parse_fd(r, fd, (uint64_t)c->st.st_size, head, (size_t)n,
                                 ELF_SKIP_VERNEED, path, a, &c->elf, &err) == BF_OK;
        if (!c->parsed)
            c->parse_error = arena_strdup(a, err.msg);
    }
    close(fd);
}
