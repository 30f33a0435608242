/* dlopen and dlmopen entries the recorder binds in place of the real ones. Each notes the
 * call, then jumps (not calls) to the real function with the arguments and the return
 * address untouched: the loader finds the caller from that return address, and the
 * caller's RUNPATH and $ORIGIN must stay the caller's. */
#if defined(__x86_64__)
    .text

/* entry NAME, NARGS: saves the NARGS argument registers (2 or 3), passes the return address
 * as one more argument to recorder_note_NAME, restores them and jumps to the real NAME. The
 * pushes keep the stack 16-byte aligned at the call (3 pushes, or 2 and a pad). */
.macro entry name, nargs
    .globl recorder_\name\()_entry
    .hidden recorder_\name\()_entry
    .type recorder_\name\()_entry, @function
recorder_\name\()_entry:
    .cfi_startproc
    endbr64
    push %rdi
    .cfi_adjust_cfa_offset 8
    push %rsi
    .cfi_adjust_cfa_offset 8
    .if \nargs == 3
    push %rdx
    .cfi_adjust_cfa_offset 8
    mov 24(%rsp), %rcx              /* caller's return address */
    .else
    sub $8, %rsp
    .cfi_adjust_cfa_offset 8
    mov 24(%rsp), %rdx              /* caller's return address */
    .endif
    call recorder_note_\name
    .if \nargs == 3
    pop %rdx
    .else
    add $8, %rsp
    .endif
    .cfi_adjust_cfa_offset -8
    pop %rsi
    .cfi_adjust_cfa_offset -8
    pop %rdi
    .cfi_adjust_cfa_offset -8
    jmp *recorder_real_\name(%rip)
    .cfi_endproc
    .size recorder_\name\()_entry, .-recorder_\name\()_entry
.endm

    entry dlopen, 2                 /* dlopen(file, mode) */
    entry dlmopen, 3                /* dlmopen(lmid, file, mode) */

    .section .note.GNU-stack,"",@progbits
#endif
