/* fs_windows.c — the static file server's file-system calls on Windows (the
 * OS's part declared in http_fs.c): CreateFileW, GetFileInformationByHandle,
 * ReadFile at an offset, the directory read through its handle.
 *
 * Staying under the root. A request path (UTF-8, already free of ".." and
 * NUL) is refused if it holds '\\' or ':' (an alternate data stream, a drive),
 * then appended to the root's final path, which is in the "\\?\" form: no
 * device names (CON, NUL), no trailing-dot trimming, no length limit. It is
 * opened with FILE_FLAG_OPEN_REPARSE_POINT, and refused if it is one (a
 * symbolic link, a junction: 404, as a link out is on POSIX; unlike POSIX,
 * one that stays inside is refused too, since telling them apart would need
 * following it). A reparse point on the way to it is followed by the system,
 * so the handle's final path (GetFinalPathNameByHandleW) must still lie under
 * the root's final path. The check is on the handle opened, so there is no
 * window between the check and the use.
 *
 * >>fs-windows                                                                   */
#if GN__OS_WINDOWS

/* Win32 errors as the errno values http_fs.c speaks.                           */
GN__PRIVATE int gn__fs_errno_from_win32(DWORD e) {
    switch (e) {
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME: case ERROR_DIRECTORY: case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH: case ERROR_BAD_NET_NAME: return ENOENT;
    case ERROR_ACCESS_DENIED: case ERROR_SHARING_VIOLATION: case ERROR_LOCK_VIOLATION:
    case ERROR_PRIVILEGE_NOT_HELD: return EACCES;
    case ERROR_FILENAME_EXCED_RANGE: return ENAMETOOLONG;
    case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: return ENOMEM;
    case ERROR_CANT_RESOLVE_FILENAME: return ELOOP;
    default: return EIO;
    }
}

/* UTF-8 to a GN_MALLOC'd UTF-16 string, with room for extra more wide chars;
 * NULL (errno value in *err) on failure.                                      */
GN__PRIVATE wchar_t *gn__fs_wide(const char *s, size_t extra, int *err) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) {
        *err = ENOENT;   /* not UTF-8: no such name */
        return NULL;
    }
    wchar_t *w = (wchar_t *)GN_MALLOC(((size_t)n + extra) * sizeof *w);
    if (!w) {
        *err = ENOMEM;
        return NULL;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    return w;
}

/* UTF-16 to a GN_MALLOC'd UTF-8 string, or NULL.                                */
GN__PRIVATE char *gn__fs_utf8(const wchar_t *w, int wn) {
    int n = WideCharToMultiByte(CP_UTF8, 0, w, wn, NULL, 0, NULL, NULL);
    if (n <= 0 && wn != 0) return NULL;
    char *s = (char *)GN_MALLOC((size_t)n + 1);
    if (!s) return NULL;
    if (n > 0) WideCharToMultiByte(CP_UTF8, 0, w, wn, s, n, NULL, NULL);
    s[n] = 0;
    return s;
}

/* The handle's final path ("\\?\C:\dir\file"), GN_MALLOC'd, or NULL.            */
GN__PRIVATE wchar_t *gn__fs_final_path(HANDLE h, DWORD *len) {
    DWORD cap = 512;
    for (;;) {
        wchar_t *w = (wchar_t *)GN_MALLOC(cap * sizeof *w);
        if (!w) return NULL;
        DWORD n = GetFinalPathNameByHandleW(h, w, cap, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
        if (n == 0) {
            GN_FREE(w);
            return NULL;
        }
        if (n < cap) {
            *len = n;
            return w;
        }
        GN_FREE(w);
        cap = n + 1;
    }
}

/* 100 ns ticks since 1601 to Unix seconds.                                     */
GN__PRIVATE int64_t gn__fs_unix_time(FILETIME ft) {
    int64_t t = (int64_t)(((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime);
    return (t - INT64_C(116444736000000000)) / 10000000;
}

GN__PRIVATE HANDLE gn__fs_create(const wchar_t *path, DWORD flags) {
    return CreateFileW(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                       OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | flags, NULL);
}

/* Opens rel under root as the top of this file says. The handle, or
 * INVALID_HANDLE_VALUE with an errno value in *err (EXDEV: it leads out).      */
GN__PRIVATE HANDLE gn__fs_open_beneath(const gn__fs_root *root, const char *rel, int *err) {
    for (const char *p = rel; *p; p++) {
        if (*p == '\\' || *p == ':') {
            *err = ENOENT;
            return INVALID_HANDLE_VALUE;
        }
    }
    size_t rl = strlen(rel);
    char *full = (char *)GN_MALLOC(root->len + rl + 2);
    if (!full) {
        *err = ENOMEM;
        return INVALID_HANDLE_VALUE;
    }
    memcpy(full, root->path, root->len);
    size_t n = root->len;
    if (rl) {
        full[n++] = '\\';
        for (size_t i = 0; i < rl; i++) full[n++] = rel[i] == '/' ? '\\' : rel[i];
        while (n > root->len + 1 && full[n - 1] == '\\') n--;   /* "dir/" names dir */
    } else if (n && full[n - 1] == ':') {
        full[n++] = '\\';   /* "\\?\C:" is the volume; "\\?\C:\" its root directory */
    }
    full[n] = 0;
    wchar_t *w = gn__fs_wide(full, 0, err);
    GN_FREE(full);
    if (!w) return INVALID_HANDLE_VALUE;
    HANDLE h = gn__fs_create(w, FILE_FLAG_OPEN_REPARSE_POINT);
    GN_FREE(w);
    if (h == INVALID_HANDLE_VALUE) {
        *err = gn__fs_errno_from_win32(GetLastError());
        return h;
    }
    BY_HANDLE_FILE_INFORMATION bi;
    DWORD fl = 0;
    wchar_t *fin = NULL;
    int bad = !GetFileInformationByHandle(h, &bi) || (bi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT);
    if (!bad) {
        fin = gn__fs_final_path(h, &fl);
        char *real = fin ? gn__fs_utf8(fin, (int)fl) : NULL;
        bad = !real || strncmp(real, root->path, root->len) != 0 ||
              (real[root->len] != 0 && real[root->len] != '\\');
        GN_FREE(real);
        GN_FREE(fin);
    }
    if (bad) {
        CloseHandle(h);
        *err = EXDEV;
        return INVALID_HANDLE_VALUE;
    }
    return h;
}

GN__PRIVATE int gn__fs_stat_of(HANDLE h, gn__fs_stat *st) {
    BY_HANDLE_FILE_INFORMATION bi;
    if (!GetFileInformationByHandle(h, &bi)) return gn__fs_errno_from_win32(GetLastError());
    if (bi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) st->kind = GN__FS_DIR;
    else st->kind = GetFileType(h) == FILE_TYPE_DISK ? GN__FS_REG : GN__FS_OTHER;
    st->size = (int64_t)(((uint64_t)bi.nFileSizeHigh << 32) | bi.nFileSizeLow);
    st->mtime = gn__fs_unix_time(bi.ftLastWriteTime);
    return 0;
}

/* Reads up to n bytes at off; the count (0 at the end), or -1 with *err.       */
GN__PRIVATE int64_t gn__fs_pread(gn__fs_fd fd, char *buf, size_t n, int64_t off, int *err) {
    HANDLE h = (HANDLE)fd;
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.Offset = (DWORD)(uint64_t)off;
    ov.OffsetHigh = (DWORD)((uint64_t)off >> 32);
    DWORD got = 0;
    if (ReadFile(h, buf, n > (1u << 30) ? (1u << 30) : (DWORD)n, &got, &ov)) return got;
    DWORD e = GetLastError();
    if (e == ERROR_HANDLE_EOF) return 0;
    *err = gn__fs_errno_from_win32(e);
    return -1;
}

GN__PRIVATE GN__OPAQUE void gn__fs_open_run(void *arg) {
    gn__fs_open *o = (gn__fs_open *)arg;
    o->fd = GN__FS_NOFD;
    o->err = 0;
    o->nsniff = 0;
    HANDLE h;
    if (o->root) {
        h = gn__fs_open_beneath(o->root, o->path, &o->err);
    } else {
        wchar_t *w = gn__fs_wide(o->path, 0, &o->err);
        h = w ? gn__fs_create(w, 0) : INVALID_HANDLE_VALUE;
        if (w && h == INVALID_HANDLE_VALUE) o->err = gn__fs_errno_from_win32(GetLastError());
        GN_FREE(w);
    }
    if (h == INVALID_HANDLE_VALUE) return;
    if ((o->err = gn__fs_stat_of(h, &o->st)) != 0) {
        CloseHandle(h);
        return;
    }
    if (o->sniff && o->st.kind == GN__FS_REG) {
        int e = 0;
        o->nsniff = (size_t)gn__fs_pread_full((gn__fs_fd)h, o->sniff, GN__FS_SNIFF, 0, &e);
    }
    o->fd = (gn__fs_fd)h;
}

GN__PRIVATE GN__OPAQUE void gn__fs_close_run(void *arg) {
    CloseHandle((HANDLE)*(gn__fs_fd *)arg);
}

/* Reads the directory through its handle (no second lookup of its name).       */
GN__PRIVATE GN__OPAQUE void gn__fs_list_run(void *arg) {
    gn__fs_list *o = (gn__fs_list *)arg;
    HANDLE h = (HANDLE)o->fd;
    size_t cap = 64 * 1024;
    char *buf = (char *)GN_MALLOC(cap);
    if (!buf) {
        o->err = ENOMEM;
        CloseHandle(h);
        return;
    }
    FILE_INFO_BY_HANDLE_CLASS cls = FileFullDirectoryRestartInfo;
    int stop = 0;
    while (!stop) {
        if (!GetFileInformationByHandleEx(h, cls, buf, (DWORD)cap)) {
            DWORD e = GetLastError();
            if (e != ERROR_NO_MORE_FILES) o->err = gn__fs_errno_from_win32(e);
            break;
        }
        cls = FileFullDirectoryInfo;
        for (char *p = buf; !stop;) {
            FILE_FULL_DIR_INFO *fi = (FILE_FULL_DIR_INFO *)(void *)p;
            char *nm = gn__fs_utf8(fi->FileName, (int)(fi->FileNameLength / sizeof(WCHAR)));
            if (!nm) {
                o->err = ENOMEM;
                stop = 1;
                break;
            }
            stop = gn__fs_list_add(o, nm, (fi->FileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0);
            GN_FREE(nm);
            if (!fi->NextEntryOffset) break;
            p += fi->NextEntryOffset;
        }
    }
    GN_FREE(buf);
    CloseHandle(h);
    gn__fs_list_sort(o);
}

GN__PRIVATE int gn__fs_root_open(gn__fs_root *root, const char *path) {
    gn__fs_open o;
    memset(&o, 0, sizeof o);
    o.path = path;
    gn_blocking(gn__fs_open_run, &o);
    root->fd = o.fd;
    if (o.fd == GN__FS_NOFD) return o.err ? o.err : ENOENT;
    if (o.st.kind != GN__FS_DIR) return ENOTDIR;
    DWORD n = 0;
    wchar_t *fin = gn__fs_final_path((HANDLE)o.fd, &n);
    if (!fin) return ENOENT;
    while (n > 0 && fin[n - 1] == L'\\') n--;   /* "\\?\C:\" names the drive's root */
    root->path = gn__fs_utf8(fin, (int)n);
    GN_FREE(fin);
    if (!root->path) return ENOMEM;
    root->len = strlen(root->path);
    return 0;
}

#endif /* GN__OS_WINDOWS */
