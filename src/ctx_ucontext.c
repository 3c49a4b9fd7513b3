/* ctx_ucontext.c — the portable context switch: POSIX ucontext. Slower (glibc's
 * swapcontext saves the signal mask with a system call) but needs no assembly;
 * selected with GN_CTX_UCONTEXT or on CPUs without a hand-written switch.
 *
 * >>ctx-ucontext                                                                 */
#if GN__CTX_UCONTEXT

GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) { swapcontext(&from->uc, &to->uc); }

GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = stack_lo;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, entry, 0);
}

#endif /* GN__CTX_UCONTEXT */
