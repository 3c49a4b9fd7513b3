/* ctx_ucontext.c — the portable context switch: POSIX ucontext. Slower (glibc's
 * swapcontext saves the signal mask with a system call) but needs no assembly;
 * selected with GN_CTX_UCONTEXT or on CPUs without a hand-written switch.
 *
 * >>ctx-ucontext                                                                 */
#if GN__CTX_UCONTEXT

/* macOS marks the ucontext calls deprecated (the default there is assembly);
 * a user's -Werror must not turn that into a failed build of their program.
 * OpenBSD has no ucontext at all: there only the assembly switches build.     */
#if defined(__APPLE__) && defined(__clang__)
#  pragma clang diagnostic push
#  pragma clang diagnostic ignored "-Wdeprecated-declarations"
#endif

/* swapcontext restores the signal mask saved with the context, which is the
 * mask of the thread the coroutine last ran on. Coroutines move between
 * threads, and the runtime's threads block the asynchronous signals that the
 * user's thread takes: carried across, that mask would close the user's
 * thread to them, and a signal for the process could find nobody to take it.
 * So the mask stays with the thread, as with the assembly switches; this
 * costs a second system call per switch, here only.                           */
GN__PRIVATE void gn__ctx_switch(gn__ctx *from, gn__ctx *to) {
    pthread_sigmask(SIG_SETMASK, NULL, &to->uc.uc_sigmask);
    swapcontext(&from->uc, &to->uc);
}

GN__PRIVATE void gn__ctx_init(gn__ctx *c, char *stack_lo, size_t size, void (*entry)(void)) {
    getcontext(&c->uc);
    c->uc.uc_stack.ss_sp = stack_lo;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    makecontext(&c->uc, entry, 0);
}

#if defined(__APPLE__) && defined(__clang__)
#  pragma clang diagnostic pop
#endif

#endif /* GN__CTX_UCONTEXT */
