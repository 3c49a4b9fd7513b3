/* ctx_x64_sysv.c — context switch for x86_64, System V ABI (Linux, BSD, macOS).
 * Saves only the callee-saved registers rbx, rbp, r12-r15, pushed on the old
 * stack; the stack pointer is all a gn__ctx holds. A switch is one call, six
 * pushes, a store, a load, six pops and a ret.
 * The MXCSR and x87 control words (rounding mode, exception masks) are not
 * switched: like Go, the floating-point environment belongs to the thread, and
 * loading them costs more than the rest of the switch. Code that changes the
 * rounding mode must restore it before its next switch point.
 *
 * >>ctx-x64-sysv                                                                 */
#if GN__CTX_X64_SYSV

/* gn__ctx_switch_x64(void **save_sp, void *load_sp). Weak so that several
 * translation units built with GONET_STATIC can each carry a copy.              */
__asm__(
    ".text\n"
    ".p2align 4\n"
    GN__ASM_WEAK("gn__ctx_switch_x64")
    GN__ASM_HIDE("gn__ctx_switch_x64")
    GN__ASM_TYPE("gn__ctx_switch_x64")
    GN__ASM_NAME("gn__ctx_switch_x64") ":\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n");

extern void gn__ctx_switch_x64(void **save_sp, void *load_sp);

GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) { gn__ctx_switch_x64(&from->sp, to->sp); }

/* Lays out a frame that gn__ctx_switch_x64 "returns" into entry from: the saved
 * registers (zero), entry's address, and a zero return address so that entry
 * starts with rsp % 16 == 8 like any call.                                     */
GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    uintptr_t top = ((uintptr_t)(stack_lo + size)) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)top;
    *--sp = 0;                          /* entry's return address: never used     */
    *--sp = (uint64_t)(uintptr_t)entry; /* where the switch's ret lands           */
    for (int i = 0; i < 6; i++) *--sp = 0;  /* rbp rbx r12 r13 r14 r15          */
    c->sp = sp;
}

#endif /* GN__CTX_X64_SYSV */
