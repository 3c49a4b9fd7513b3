/* fs_posix.c — the static file server's file-system calls on POSIX systems
 * (the OS's part declared in http_fs.c): opening beneath the root with
 * openat2(RESOLVE_BENEATH) on Linux or openat(O_RESOLVE_BENEATH) on FreeBSD,
 * else (macOS, OpenBSD, NetBSD, DragonFly, older kernels) realpath and an
 * inode check; fstat, pread, readdir. Each *_run function runs inside
 * gn_blocking, is never inlined into its caller (GN__OPAQUE), and reads errno
 * itself.
 *
 * >>fs-posix                                                                     */
#if GN__OS_POSIX

#include <dirent.h>
#include <sys/stat.h>
#if GN__OS_DARWIN
#  include <sys/param.h>   /* MAXPATHLEN, F_GETPATH's buffer size */
#endif
#if GN__OS_LINUX
#  include <sys/syscall.h>
#endif


/* Set once openat2 has said ENOSYS; tests set it to exercise the other way.      */
static int gn__fs_no_openat2;

GN__PRIVATE void gn__fs_stat_from(const struct stat *st, gn__fs_stat *out) {
    out->kind = S_ISREG(st->st_mode) ? GN__FS_REG : S_ISDIR(st->st_mode) ? GN__FS_DIR : GN__FS_OTHER;
    out->size = (int64_t)st->st_size;
    out->mtime = (int64_t)st->st_mtime;
}

/* Is real (an absolute, resolved path) root or under it?                         */
GN__PRIVATE int gn__fs_under(const gn__fs_root *root, const char *real) {
    if (root->len == 1) return real[0] == '/';
    return strncmp(real, root->path, root->len) == 0 &&
           (real[root->len] == 0 || real[root->len] == '/');
}

/* The check behind openat: root/rel, resolved, must lie under the root. 0 and
 * the resolved file's stat, or an errno (EXDEV: it leads out).                   */
GN__PRIVATE int gn__fs_resolve(const gn__fs_root *root, const char *rel, struct stat *st) {
    size_t rl = strlen(rel);
    char *full = (char *)GN_MALLOC(root->len + rl + 2);
    if (!full) return ENOMEM;
    memcpy(full, root->path, root->len);
    full[root->len] = '/';
    memcpy(full + root->len + 1, rel, rl + 1);
    char *real = realpath(full, NULL);   /* libc's malloc: freed with free()       */
    int err = real ? 0 : errno;
    GN_FREE(full);
    if (!real) return err;
    if (!gn__fs_under(root, real)) err = EXDEV;
    else if (stat(real, st) != 0) err = errno;
    free(real);
    return err;
}

GN__PRIVATE int gn__fs_open_beneath(const gn__fs_root *root, const char *rel, int flags, int *err) {
    int rootfd = (int)root->fd;
    if (!*rel) rel = ".";
#if defined(SYS_openat2)
    if (!gn__load_relaxed(&gn__fs_no_openat2)) {
        struct { uint64_t flags, mode, resolve; } how;
        how.flags = (uint64_t)flags;
        how.mode = 0;
        how.resolve = 0x08 | 0x02;   /* RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS      */
        for (int i = 0; i < 8; i++) {
            long fd = gn__sys_openat2(rootfd, rel, &how, sizeof how);
            if (fd >= 0) return (int)fd;
            int e = errno;
            if (e == EAGAIN || e == EINTR) continue;   /* a rename raced the lookup   */
            if (e == ENOSYS) gn__store_relaxed(&gn__fs_no_openat2, 1);
            if (e == ENOSYS || e == EPERM || e == EXDEV) break;   /* check the long way */
            *err = e;
            return -1;
        }
    }
#endif
#if defined(O_RESOLVE_BENEATH)
    /* FreeBSD 13 on: the kernel refuses a path that leads out, as openat2
     * does (and, like it, an absolute link: the long way below judges those). */
    for (;;) {
        int fd = gn__sys_openat(rootfd, rel, flags | O_RESOLVE_BENEATH);
        if (fd >= 0) return fd;
        int e = errno;
        if (e == EINTR) continue;
#  if defined(ENOTCAPABLE)
        if (e == ENOTCAPABLE) break;
#  endif
        if (e == EXDEV || e == EPERM) break;
        *err = e;
        return -1;
    }
#endif
    /* Resolve first, so that a link leading out is never even opened; then open
     * and make sure it is the inode checked (a swap in between shows).          */
    struct stat want, got;
    int e = gn__fs_resolve(root, rel, &want);
    if (e) {
        *err = e;
        return -1;
    }
    int fd;
    do fd = gn__sys_openat(rootfd, rel, flags); while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (gn__sys_fstat(fd, &got) != 0) {   /* a failed check is that failure, not "outside" */
        *err = errno;
        gn__sys_close(fd);
        return -1;
    }
    if (got.st_dev == want.st_dev && got.st_ino == want.st_ino) return fd;
    gn__sys_close(fd);
    *err = EXDEV;
    return -1;
}

GN__PRIVATE GN__OPAQUE void gn__fs_open_run(void *arg) {
    gn__fs_open *o = (gn__fs_open *)arg;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused later). */
    int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    int fd;
    o->fd = GN__FS_NOFD;
    o->err = 0;
    o->nsniff = 0;
    if (o->root) {
        fd = gn__fs_open_beneath(o->root, o->path, flags, &o->err);
    } else {
        do fd = gn__sys_open(o->path, flags); while (fd < 0 && errno == EINTR);
        if (fd < 0) o->err = errno;
    }
    if (fd < 0) return;
    struct stat st;
    if (gn__sys_fstat(fd, &st) != 0) {
        o->err = errno;
        gn__sys_close(fd);
        return;
    }
    gn__fs_stat_from(&st, &o->st);
    if (o->sniff && S_ISREG(st.st_mode)) {
        int e = 0;
        o->nsniff = (size_t)gn__fs_pread_full(fd, o->sniff, GN__FS_SNIFF, 0, &e);
    }
    o->fd = fd;
}

GN__PRIVATE int64_t gn__fs_pread(gn__fs_fd fd, char *buf, size_t n, int64_t off, int *err) {
    ssize_t k;
    do k = gn__sys_pread((int)fd, buf, n, (off_t)off); while (k < 0 && errno == EINTR);
    if (k < 0) *err = errno;
    return (int64_t)k;
}

GN__PRIVATE GN__OPAQUE void gn__fs_close_run(void *arg) {
    gn__sys_close((int)*(gn__fs_fd *)arg);
}

GN__PRIVATE GN__OPAQUE void gn__fs_list_run(void *arg) {
    gn__fs_list *o = (gn__fs_list *)arg;
    DIR *d = fdopendir((int)o->fd);
    if (!d) {
        o->err = errno;
        gn__sys_close((int)o->fd);
        return;
    }
    struct dirent *de;
    for (;;) {
        errno = 0;
        if (!(de = readdir(d))) {
            if (errno) o->err = errno;
            break;
        }
        const char *nm = de->d_name;
        int isdir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {   /* some file systems do not say           */
            struct stat st;
            isdir = fstatat(dirfd(d), nm, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (gn__fs_list_add(o, nm, isdir)) break;
    }
    closedir(d);
    gn__fs_list_sort(o);
}

/* The resolved path of what fd refers to, in memory from libc's malloc (the
 * caller frees it with free()), or NULL where the system cannot say: Linux
 * through /proc (when mounted), macOS through F_GETPATH; the BSDs have no
 * such call that every release shares.                                      */
GN__PRIVATE char *gn__fs_fd_realpath(int fd) {
#if GN__OS_LINUX
    char link[32];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    return realpath(link, NULL);
#elif defined(F_GETPATH)
    char buf[MAXPATHLEN];
    return fcntl(fd, F_GETPATH, buf) == 0 ? realpath(buf, NULL) : NULL;
#else
    (void)fd;
    return NULL;
#endif
}

GN__PRIVATE int gn__fs_root_open(gn__fs_root *root, const char *path) {
    gn__fs_open o;
    memset(&o, 0, sizeof o);
    o.path = path;
    gn_blocking(gn__fs_open_run, &o);
    root->fd = o.fd;
    if (o.fd == GN__FS_NOFD) return o.err ? o.err : ENOENT;
    if (o.st.kind != GN__FS_DIR) return ENOTDIR;
    /* The real path of the directory opened (not of the name, which could be
     * swapped meanwhile) where the system tells it, else the name's.         */
    char *real = gn__fs_fd_realpath((int)o.fd);
    if (!real || real[0] != '/') {
        free(real);
        real = realpath(path, NULL);
    }
    if (!real) return ENOENT;
    root->path = gn__strdup(real);
    free(real);
    if (!root->path) return ENOMEM;
    root->len = strlen(root->path);
    return 0;
}

#endif /* GN__OS_POSIX */
