/*
 * arch/x86_64_sysv_elf.S - context switch for x86-64, System V ABI, ELF.
 *
 * The System V psABI makes rbx, rbp, r12-r15, the x87 control word and the
 * control bits of MXCSR callee-saved; everything else may be clobbered by a
 * call, so a switch performed as an ordinary function call only needs to
 * preserve those. The red zone is not a problem: a switch is a call, and the
 * caller's red zone ends at its sp.
 *
 * The saved frame, at the saved sp (16-byte aligned), lowest address first:
 *
 *      +0x00  x87 control word (fnstcw, 16 bits) | pad | MXCSR at +0x04 (32 bits)
 *      +0x08  r15
 *      +0x10  r14
 *      +0x18  r13
 *      +0x20  r12      new context: argument for the entry function
 *      +0x28  rbx      new context: entry function
 *      +0x30  rbp      new context: 0 (ends frame-pointer walks)
 *      +0x38  return address (resume pc; new context: gort_ctx_entry)
 *      +0x40  (caller's frame)
 *
 * arch/context.h mirrors these offsets (kFrame*); core/ static_asserts them
 * and the goroutine dump reads a suspended context's pc and rbp from them.
 *
 * Alignment: at a call the caller's sp is 16-byte aligned, so on entry to a
 * function sp = 8 (mod 16). Six pushes and an 8-byte slot bring it to
 * 0 (mod 16): every saved sp is 16-byte aligned. A new frame is built the same
 * way, so after the final pop of its pc (the jump into gort_ctx_entry)
 * sp = 0 (mod 16), which is the
 * state just before a call instruction: the call to the entry function then
 * enters it with sp = 8 (mod 16), as the ABI requires.
 */

        .text

/* void gort_ctx_switch(void **save_sp, void *new_sp) */
        .globl  gort_ctx_switch
        .hidden gort_ctx_switch
        .type   gort_ctx_switch, @function
        .p2align 4
gort_ctx_switch:
        .cfi_startproc
        pushq   %rbp                    /* callee-saved registers ... */
        .cfi_adjust_cfa_offset 8
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        subq    $8, %rsp                /* ... and the FP control state */
        .cfi_adjust_cfa_offset 8
        stmxcsr 4(%rsp)
        fnstcw  (%rsp)
        movq    %rsp, (%rdi)            /* *save_sp = sp: we are suspended */
        movq    %rsi, %rsp              /* adopt the other context's stack */
        .cfi_endproc
        /* fall through: restore the frame at %rsp and return into it */
gort_ctx_restore:
        .cfi_startproc
        /* Unwind info for a frame being restored: the CFA is the resumed
         * context's sp after its pc is popped, and every pop moves it. */
        .cfi_def_cfa rsp, 0x40
        .cfi_offset rip, -8
        .cfi_offset rbp, -0x10
        .cfi_offset rbx, -0x18
        .cfi_offset r12, -0x20
        .cfi_offset r13, -0x28
        .cfi_offset r14, -0x30
        .cfi_offset r15, -0x38
        fldcw   (%rsp)
        ldmxcsr 4(%rsp)
        addq    $8, %rsp
        .cfi_adjust_cfa_offset -8
        popq    %r15
        .cfi_adjust_cfa_offset -8
        .cfi_same_value r15
        popq    %r14
        .cfi_adjust_cfa_offset -8
        .cfi_same_value r14
        popq    %r13
        .cfi_adjust_cfa_offset -8
        .cfi_same_value r13
        popq    %r12
        .cfi_adjust_cfa_offset -8
        .cfi_same_value r12
        popq    %rbx
        .cfi_adjust_cfa_offset -8
        .cfi_same_value rbx
        popq    %rbp
        .cfi_adjust_cfa_offset -8
        .cfi_same_value rbp
        /* To the resumed context's pc with an indirect jump, not a ret: the
         * return stack buffer holds the return address of *this* context's
         * caller, so a ret would be mispredicted on every switch (measured:
         * it alone made the switch 2x Boost.Context's, which jumps too).
         * rcx is caller-saved and carries nothing into a resumed frame. */
        popq    %rcx
        .cfi_adjust_cfa_offset -8
        .cfi_register rip, rcx
        jmp     *%rcx
        .cfi_endproc
        .size   gort_ctx_switch, .-gort_ctx_switch

/* void gort_ctx_jump(void *sp)  -- seed: gogo */
        .globl  gort_ctx_jump
        .hidden gort_ctx_jump
        .type   gort_ctx_jump, @function
        .p2align 4
gort_ctx_jump:
        .cfi_startproc
        movq    %rdi, %rsp              /* abandon the current stack */
        .cfi_def_cfa rsp, 0x40          /* from here we are the resumed frame */
        .cfi_offset rip, -8
        jmp     gort_ctx_restore
        .cfi_endproc
        .size   gort_ctx_jump, .-gort_ctx_jump

/* void gort_ctx_mcall(void **save_sp, void *stack_top, void (*fn)(void *), void *arg)
 * seed: mcall. Saves like gort_ctx_switch, then calls fn(arg) on stack_top. */
        .globl  gort_ctx_mcall
        .hidden gort_ctx_mcall
        .type   gort_ctx_mcall, @function
        .p2align 4
gort_ctx_mcall:
        .cfi_startproc
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        subq    $8, %rsp
        .cfi_adjust_cfa_offset 8
        stmxcsr 4(%rsp)
        fnstcw  (%rsp)
        movq    %rsp, (%rdi)            /* the caller is now suspended */
        movq    %rsi, %rsp              /* g0's stack, aligned by the caller */
        .cfi_undefined rip              /* nothing to unwind to from here */
        xorl    %ebp, %ebp
        movq    %rcx, %rdi              /* fn(arg) */
        callq   *%rdx
        ud2                             /* fn must not return */
        .cfi_endproc
        .size   gort_ctx_mcall, .-gort_ctx_mcall

/* void gort_ctx_call_on(void *stack_top, void (*fn)(void *), void *arg)
 * seed: systemstack. fn runs on the other stack and returns here. */
        .globl  gort_ctx_call_on
        .hidden gort_ctx_call_on
        .type   gort_ctx_call_on, @function
        .p2align 4
gort_ctx_call_on:
        .cfi_startproc
        pushq   %rbp                    /* sp = 0 mod 16 */
        .cfi_adjust_cfa_offset 8
        .cfi_offset rbp, -16
        movq    %rsp, %rbp              /* remember our stack in rbp ... */
        .cfi_def_cfa_register rbp       /* ... and unwind through it */
        movq    %rdi, %rsp              /* the other stack (16-aligned) */
        movq    %rdx, %rdi
        callq   *%rsi                   /* fn(arg) */
        movq    %rbp, %rsp              /* back to our stack */
        .cfi_def_cfa_register rsp
        popq    %rbp
        .cfi_adjust_cfa_offset -8
        ret
        .cfi_endproc
        .size   gort_ctx_call_on, .-gort_ctx_call_on

/* gort_ctx_entry: first pc of a new context. rbx = fn, r12 = arg. */
        .globl  gort_ctx_entry
        .hidden gort_ctx_entry
        .type   gort_ctx_entry, @function
        .p2align 4
gort_ctx_entry:
        .cfi_startproc
        .cfi_undefined rip              /* outermost frame: unwinders stop */
        movq    %r12, %rdi
        callq   *%rbx                   /* sp = 0 mod 16 here, as at any call */
        ud2                             /* the entry function must not return */
        .cfi_endproc
        .size   gort_ctx_entry, .-gort_ctx_entry

/* void *gort_ctx_current_sp(void) */
        .globl  gort_ctx_current_sp
        .hidden gort_ctx_current_sp
        .type   gort_ctx_current_sp, @function
        .p2align 4
gort_ctx_current_sp:
        .cfi_startproc
        leaq    8(%rsp), %rax           /* the caller's sp before the call */
        ret
        .cfi_endproc
        .size   gort_ctx_current_sp, .-gort_ctx_current_sp

        .section .note.GNU-stack,"",@progbits
