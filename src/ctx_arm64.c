/* ctx_arm64.c — context switch for aarch64 (AAPCS64: Linux, macOS).
 * Saves the callee-saved set: x19-x28, the frame pointer x29, the link register
 * x30 and the low halves d8-d15 of v8-v15, in a 160-byte frame on the old stack.
 *
 * >>ctx-arm64                                                                    */
#if GN__CTX_ARM64

__asm__(
    ".text\n"
    ".p2align 4\n"
    GN__ASM_WEAK("gn__ctx_switch_a64")
    GN__ASM_HIDE("gn__ctx_switch_a64")
    GN__ASM_TYPE("gn__ctx_switch_a64")
    GN__ASM_NAME("gn__ctx_switch_a64") ":\n"
    "    sub sp, sp, #160\n"
    "    stp x19, x20, [sp, #0]\n"
    "    stp x21, x22, [sp, #16]\n"
    "    stp x23, x24, [sp, #32]\n"
    "    stp x25, x26, [sp, #48]\n"
    "    stp x27, x28, [sp, #64]\n"
    "    stp x29, x30, [sp, #80]\n"
    "    stp d8, d9, [sp, #96]\n"
    "    stp d10, d11, [sp, #112]\n"
    "    stp d12, d13, [sp, #128]\n"
    "    stp d14, d15, [sp, #144]\n"
    "    mov x9, sp\n"
    "    str x9, [x0]\n"
    "    mov sp, x1\n"
    "    ldp x19, x20, [sp, #0]\n"
    "    ldp x21, x22, [sp, #16]\n"
    "    ldp x23, x24, [sp, #32]\n"
    "    ldp x25, x26, [sp, #48]\n"
    "    ldp x27, x28, [sp, #64]\n"
    "    ldp x29, x30, [sp, #80]\n"
    "    ldp d8, d9, [sp, #96]\n"
    "    ldp d10, d11, [sp, #112]\n"
    "    ldp d12, d13, [sp, #128]\n"
    "    ldp d14, d15, [sp, #144]\n"
    "    add sp, sp, #160\n"
    "    ret\n");

extern void gn__ctx_switch_a64(void **save_sp, void *load_sp);

GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) { gn__ctx_switch_a64(&from->sp, to->sp); }

/* A frame whose x30 is entry and x29 zero (the end of the frame chain); the
 * switch's ret branches to entry with sp at the 16-byte aligned top.            */
GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    uintptr_t top = ((uintptr_t)(stack_lo + size)) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 160);
    memset(sp, 0, 160);
    sp[11] = (uint64_t)(uintptr_t)entry;   /* x30 */
    c->sp = sp;
}

#endif /* GN__CTX_ARM64 */
