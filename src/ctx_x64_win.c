/* ctx_x64_win.c — context switch for x86_64, Windows x64 ABI (MinGW-w64, clang).
 *
 * The Windows ABI has more callee-saved state than System V: rbx, rbp, rdi,
 * rsi, r12-r15 and xmm6-xmm15. On top of those the switch carries three fields
 * of the thread's TIB: StackBase (gs:0x08), StackLimit (gs:0x10) and
 * DeallocationStack (gs:0x1478). The system reads them to tell whether an
 * address is on "the" stack: the stack probe of MSVC-built code (__chkstk),
 * exception dispatch (RtlDispatchException rejects a frame outside them as an
 * invalid stack and stops unwinding), GetCurrentThreadStackLimits. So each
 * coroutine runs with its own bounds in the TIB, and g0 gets the thread's back.
 * The MXCSR and x87 control words are not switched, as on System V (see
 * ctx_x64_sysv.c): the floating-point environment belongs to the thread.
 *
 * Why not Fibers (CreateFiber/SwitchToFiber). A fiber owns a stack the system
 * allocates, one reservation of at least 64 KiB each, with no say in its layout:
 * no G struct at its top, no slabs, no pooling, no guard policy shared with the
 * other platforms. Each M would have to become a fiber thread (and back before
 * it exits), and SwitchToFiber does more per switch (fiber-local storage, the
 * floating-point state, the whole TIB stack block) than the runtime needs.
 * This switch is the System V one with a few more registers, so the scheduler
 * does not know which it runs on.
 *
 * The frame, from the saved stack pointer up: xmm6..xmm15 (160 bytes), the TIB
 * fields StackBase, StackLimit, DeallocationStack, r15 r14 r13 r12 rsi rdi rbx
 * rbp, the return address. The xmm stores are unaligned (movups): a fresh
 * frame's return slot sits at the other parity from a real call's, so no
 * single alignment fits both, and movups on aligned data costs nothing.
 *
 * With MSVC the same switch comes as machine code (below the assembly).
 *
 * >>ctx-x64-win                                                                  */
#if GN__CTX_X64_WIN

#if !GN__CC_MSVC

/* gn__ctx_switch_x64_win(void **save_sp, void *load_sp): rcx, rdx. In a COMDAT
 * section (.linkonce discard), the PE way of letting several translation units
 * built with GONET_STATIC each carry a copy.                                     */
__asm__(
    ".section .text$gn__ctx_switch_x64_win,\"xr\"\n"
    ".linkonce discard\n"
    ".p2align 4\n"
    ".globl " GN__ASM_NAME("gn__ctx_switch_x64_win") "\n"
    GN__ASM_TYPE("gn__ctx_switch_x64_win")
    GN__ASM_NAME("gn__ctx_switch_x64_win") ":\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %rdi\n"
    "    pushq %rsi\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    pushq %gs:0x1478\n"
    "    pushq %gs:0x10\n"
    "    pushq %gs:0x08\n"
    "    subq $160, %rsp\n"
    "    movups %xmm6, 0(%rsp)\n"
    "    movups %xmm7, 16(%rsp)\n"
    "    movups %xmm8, 32(%rsp)\n"
    "    movups %xmm9, 48(%rsp)\n"
    "    movups %xmm10, 64(%rsp)\n"
    "    movups %xmm11, 80(%rsp)\n"
    "    movups %xmm12, 96(%rsp)\n"
    "    movups %xmm13, 112(%rsp)\n"
    "    movups %xmm14, 128(%rsp)\n"
    "    movups %xmm15, 144(%rsp)\n"
    "    movq %rsp, (%rcx)\n"
    "    movq %rdx, %rsp\n"
    "    movups 0(%rsp), %xmm6\n"
    "    movups 16(%rsp), %xmm7\n"
    "    movups 32(%rsp), %xmm8\n"
    "    movups 48(%rsp), %xmm9\n"
    "    movups 64(%rsp), %xmm10\n"
    "    movups 80(%rsp), %xmm11\n"
    "    movups 96(%rsp), %xmm12\n"
    "    movups 112(%rsp), %xmm13\n"
    "    movups 128(%rsp), %xmm14\n"
    "    movups 144(%rsp), %xmm15\n"
    "    addq $160, %rsp\n"
    "    popq %gs:0x08\n"
    "    popq %gs:0x10\n"
    "    popq %gs:0x1478\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rsi\n"
    "    popq %rdi\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".text\n");

#ifdef __cplusplus
extern "C"
#endif
void gn__ctx_switch_x64_win(void **save_sp, void *load_sp);

GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) { gn__ctx_switch_x64_win(&from->sp, to->sp); }

#else /* GN__CC_MSVC */
/* cl has no inline assembly for x64, and a .asm file would be a second file to
 * build. So the switch above is here as the bytes the GNU assembler makes of it
 * (x86_64-w64-mingw32-gcc -c, then objdump -d), in the executable .text
 * section, called through a pointer. The code is position-independent: the TIB
 * fields are gs-relative at absolute offsets and nothing else is addressed, so
 * the bytes need no relocation. Each translation unit has its own static copy,
 * which is what GONET_STATIC needs. guard(nocf): a build with Control Flow
 * Guard (/guard:cf) would otherwise refuse the call, the target not being a
 * function the compiler knows. make test-windows-msvc runs this path, forced
 * with GN_CC_MSVC=1 on MinGW-w64, where the section is spelled for ld.          */
#if defined(_MSC_VER)
#  pragma section(".text")
#  define GN__CTX_TEXT __declspec(allocate(".text"))
#  define GN__CTX_NOCFG __declspec(noinline) __declspec(guard(nocf))
#else
#  define GN__CTX_TEXT __attribute__((section(".text$gn__ctx_switch_code")))
#  define GN__CTX_NOCFG
#endif
GN__CTX_TEXT static const unsigned char gn__ctx_switch_code[] = {
    0x55,                                                 /* push %rbp                */
    0x53,                                                 /* push %rbx                */
    0x57,                                                 /* push %rdi                */
    0x56,                                                 /* push %rsi                */
    0x41, 0x54,                                           /* push %r12                */
    0x41, 0x55,                                           /* push %r13                */
    0x41, 0x56,                                           /* push %r14                */
    0x41, 0x57,                                           /* push %r15                */
    0x65, 0xff, 0x34, 0x25, 0x78, 0x14, 0x00, 0x00,       /* push %gs:0x1478          */
    0x65, 0xff, 0x34, 0x25, 0x10, 0x00, 0x00, 0x00,       /* push %gs:0x10            */
    0x65, 0xff, 0x34, 0x25, 0x08, 0x00, 0x00, 0x00,       /* push %gs:0x8             */
    0x48, 0x81, 0xec, 0xa0, 0x00, 0x00, 0x00,             /* sub $0xa0,%rsp           */
    0x0f, 0x11, 0x34, 0x24,                               /* movups %xmm6,(%rsp)      */
    0x0f, 0x11, 0x7c, 0x24, 0x10,                         /* movups %xmm7,0x10(%rsp)  */
    0x44, 0x0f, 0x11, 0x44, 0x24, 0x20,                   /* movups %xmm8,0x20(%rsp)  */
    0x44, 0x0f, 0x11, 0x4c, 0x24, 0x30,                   /* movups %xmm9,0x30(%rsp)  */
    0x44, 0x0f, 0x11, 0x54, 0x24, 0x40,                   /* movups %xmm10,0x40(%rsp) */
    0x44, 0x0f, 0x11, 0x5c, 0x24, 0x50,                   /* movups %xmm11,0x50(%rsp) */
    0x44, 0x0f, 0x11, 0x64, 0x24, 0x60,                   /* movups %xmm12,0x60(%rsp) */
    0x44, 0x0f, 0x11, 0x6c, 0x24, 0x70,                   /* movups %xmm13,0x70(%rsp) */
    0x44, 0x0f, 0x11, 0xb4, 0x24, 0x80, 0x00, 0x00, 0x00, /* movups %xmm14,0x80(%rsp) */
    0x44, 0x0f, 0x11, 0xbc, 0x24, 0x90, 0x00, 0x00, 0x00, /* movups %xmm15,0x90(%rsp) */
    0x48, 0x89, 0x21,                                     /* mov %rsp,(%rcx)          */
    0x48, 0x89, 0xd4,                                     /* mov %rdx,%rsp            */
    0x0f, 0x10, 0x34, 0x24,                               /* movups (%rsp),%xmm6      */
    0x0f, 0x10, 0x7c, 0x24, 0x10,                         /* movups 0x10(%rsp),%xmm7  */
    0x44, 0x0f, 0x10, 0x44, 0x24, 0x20,                   /* movups 0x20(%rsp),%xmm8  */
    0x44, 0x0f, 0x10, 0x4c, 0x24, 0x30,                   /* movups 0x30(%rsp),%xmm9  */
    0x44, 0x0f, 0x10, 0x54, 0x24, 0x40,                   /* movups 0x40(%rsp),%xmm10 */
    0x44, 0x0f, 0x10, 0x5c, 0x24, 0x50,                   /* movups 0x50(%rsp),%xmm11 */
    0x44, 0x0f, 0x10, 0x64, 0x24, 0x60,                   /* movups 0x60(%rsp),%xmm12 */
    0x44, 0x0f, 0x10, 0x6c, 0x24, 0x70,                   /* movups 0x70(%rsp),%xmm13 */
    0x44, 0x0f, 0x10, 0xb4, 0x24, 0x80, 0x00, 0x00, 0x00, /* movups 0x80(%rsp),%xmm14 */
    0x44, 0x0f, 0x10, 0xbc, 0x24, 0x90, 0x00, 0x00, 0x00, /* movups 0x90(%rsp),%xmm15 */
    0x48, 0x81, 0xc4, 0xa0, 0x00, 0x00, 0x00,             /* add $0xa0,%rsp           */
    0x65, 0x8f, 0x04, 0x25, 0x08, 0x00, 0x00, 0x00,       /* pop %gs:0x8              */
    0x65, 0x8f, 0x04, 0x25, 0x10, 0x00, 0x00, 0x00,       /* pop %gs:0x10             */
    0x65, 0x8f, 0x04, 0x25, 0x78, 0x14, 0x00, 0x00,       /* pop %gs:0x1478           */
    0x41, 0x5f,                                           /* pop %r15                 */
    0x41, 0x5e,                                           /* pop %r14                 */
    0x41, 0x5d,                                           /* pop %r13                 */
    0x41, 0x5c,                                           /* pop %r12                 */
    0x5e,                                                 /* pop %rsi                 */
    0x5f,                                                 /* pop %rdi                 */
    0x5b,                                                 /* pop %rbx                 */
    0x5d,                                                 /* pop %rbp                 */
    0xc3,                                                 /* ret                      */
};

GN__PRIVATE GN__CTX_NOCFG void gn__ctx_switch(gn__ctx *from, gn__ctx *to) {
    void (*sw)(void **save_sp, void *load_sp) =
        (void (*)(void **, void *))(uintptr_t)gn__ctx_switch_code;
    sw(&from->sp, to->sp);
}
#endif /* GN__CC_MSVC */

/* Lays out a frame that the switch "returns" into entry from. entry starts as
 * if called: rsp % 16 == 8, a zero return address (the unwinder's end of the
 * chain), and above it the 32 bytes of shadow space the ABI gives every callee.
 * The TIB fields describe the coroutine's stack as the system describes a
 * thread's: StackLimit is the low end of the committed part, which the system
 * lowers as the stack grows (see os_windows.c), and DeallocationStack the
 * bottom of the guard below it, which is how an overflow into the guard
 * becomes EXCEPTION_STACK_OVERFLOW. StackLimit must not claim less than is
 * committed (the unwinder rejects frames below it) nor more (stack probes skip
 * what lies above it), so a stack used before keeps the StackLimit its last
 * coroutine saved in its final switch: the growth stays committed.            */
#define GN__WIN_FRAME_STACKLIMIT 21   /* its slot in a saved frame: above xmm6-15, StackBase */
GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    uintptr_t top = ((uintptr_t)(stack_lo + size)) & ~(uintptr_t)15;
    char *limit = gn__os_stack_limit(stack_lo, (char *)top);
    if (c->sp) {   /* a stack used before: c->sp is its last coroutine's final frame */
        char *grown = (char *)(uintptr_t)((uint64_t *)c->sp)[GN__WIN_FRAME_STACKLIMIT];
        if (grown >= stack_lo && grown < limit) limit = grown;
    }
    uint64_t *sp = (uint64_t *)top;
    sp -= 4;                            /* shadow space                          */
    *--sp = 0;                          /* entry's return address: never used     */
    *--sp = (uint64_t)(uintptr_t)entry; /* where the switch's ret lands           */
    for (int i = 0; i < 8; i++) *--sp = 0;   /* rbp rbx rdi rsi r12 r13 r14 r15  */
    *--sp = (uint64_t)(uintptr_t)(stack_lo - gn__os_guard_size());   /* DeallocationStack */
    *--sp = (uint64_t)(uintptr_t)limit;      /* StackLimit                       */
    *--sp = (uint64_t)top;                   /* StackBase                        */
    sp -= 20;                                /* xmm6-xmm15                       */
    memset(sp, 0, 160);
    c->sp = sp;
}

#endif /* GN__CTX_X64_WIN */
