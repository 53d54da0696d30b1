/*
 * ramstack:sys: the Linux calls ramstack's init and saver need that QuickJS's
 * own `os` and `std` modules do not offer (mounts, loop devices, execve
 * without a fork, durable writes, ownership, nanosecond times, device nodes,
 * xattrs, a console prompt with a timeout, loading a kernel module, and
 * switch_root's clean-up) plus UTF-8 and SHA-256, which the engine lacks and
 * the init would otherwise have to do slowly in JavaScript.
 *
 *     import * as sys from "ramstack:sys";
 *
 * Conventions, so the JavaScript side can stay small:
 *  - A failed call throws an Error whose message names the call, its path(s)
 *    and strerror(errno), e.g. "mount(/dev/sda1, /mnt, ext4): No such device",
 *    with the properties errno (positive, as in C), code ("ENODEV"), syscall
 *    and path: the same shape Node's errors have, so one port can wrap both.
 *  - Constants (MS_*, O_*, S_IF*...) are exported from C rather than written
 *    in JavaScript because some differ between architectures (O_DIRECTORY is
 *    0200000 on x86_64 and 040000 on arm64).
 *  - 64-bit quantities (sizes, inode numbers, seconds) are JavaScript numbers:
 *    exact up to 2^53, which no file size or time here reaches.
 *  - Byte arguments accept an ArrayBuffer, a typed array (a view of one) or a
 *    string (taken as UTF-8); byte results are ArrayBuffers.
 *
 * This file is the whole module: the runtime's main (ramstack_main.c)
 * registers it with js_init_module_ramstack_sys().
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <signal.h>
#include <linux/loop.h>

#include "quickjs.h"

#define countof(a) (sizeof(a) / sizeof((a)[0]))

extern char **environ;

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */

/* Node names errors by their symbol (err.code === "ENOENT") and ramstack's
 * code tests for those names, so the same names are given here. Only the
 * errors these calls can return are listed; others get "E<number>". */
static const char *errno_name(int err)
{
    switch (err) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC)
    E(EBADF) E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(ENOTBLK)
    E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL)
    E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE)
    E(EROFS) E(EMLINK) E(EPIPE) E(ERANGE) E(ENAMETOOLONG) E(ENOSYS)
    E(ENOTEMPTY) E(ELOOP) E(ENODATA) E(EOVERFLOW) E(ENOTSUP) E(EDQUOT)
    E(ESTALE) E(EUCLEAN) E(ETIMEDOUT) E(ECANCELED)
#undef E
    default: return NULL;
    }
}

/* Throws the error for errno as it is now. path2/path3 may be NULL. The
 * message is "call(path, path2, path3): strerror". */
static JSValue throw_errno3(JSContext *ctx, const char *call, const char *path,
                            const char *path2, const char *path3)
{
    int err = errno;
    char msg[1024], code[16];
    const char *name = errno_name(err);
    JSValue e;

    if (!name) {
        snprintf(code, sizeof code, "E%d", err);
        name = code;
    }
    if (path)
        snprintf(msg, sizeof msg, "%s(%s%s%s%s%s): %s", call, path,
                 path2 ? ", " : "", path2 ? path2 : "",
                 path3 ? ", " : "", path3 ? path3 : "", strerror(err));
    else
        snprintf(msg, sizeof msg, "%s: %s", call, strerror(err));
    e = JS_NewError(ctx);
    if (JS_IsException(e))
        return e;
    JS_DefinePropertyValueStr(ctx, e, "message", JS_NewString(ctx, msg),
                              JS_PROP_WRITABLE | JS_PROP_CONFIGURABLE);
    JS_DefinePropertyValueStr(ctx, e, "errno", JS_NewInt32(ctx, err), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, e, "code", JS_NewString(ctx, name), JS_PROP_C_W_E);
    JS_DefinePropertyValueStr(ctx, e, "syscall", JS_NewString(ctx, call), JS_PROP_C_W_E);
    if (path)
        JS_DefinePropertyValueStr(ctx, e, "path", JS_NewString(ctx, path), JS_PROP_C_W_E);
    return JS_Throw(ctx, e);
}

static JSValue throw_errno(JSContext *ctx, const char *call, const char *path)
{
    return throw_errno3(ctx, call, path, NULL, NULL);
}

/* Calls on descriptors name the descriptor, so a message still says which. */
static JSValue throw_errno_fd(JSContext *ctx, const char *call, int fd)
{
    char what[32];
    snprintf(what, sizeof what, "fd %d", fd);
    return throw_errno(ctx, call, what);
}

/* ------------------------------------------------------------------------ */
/* Arguments                                                                */

/* A string argument that may be absent (undefined or null): mount's source,
 * fstype and data are often NULL for the kernel. *s is NULL then. Returns -1
 * with an exception pending on failure. */
static int opt_cstr(JSContext *ctx, JSValueConst v, const char **s)
{
    *s = NULL;
    if (JS_IsUndefined(v) || JS_IsNull(v))
        return 0;
    *s = JS_ToCString(ctx, v);
    return *s ? 0 : -1;
}

static void free_cstr(JSContext *ctx, const char *s)
{
    if (s)
        JS_FreeCString(ctx, s);
}

/* Flags are ORed in JavaScript, where `|` yields a signed 32-bit number:
 * a flag in bit 31 makes it negative. Reading it as uint32 keeps the bits. */
static int get_u32(JSContext *ctx, uint32_t *out, JSValueConst v)
{
    if (JS_IsUndefined(v)) {
        *out = 0;
        return 0;
    }
    return JS_ToUint32(ctx, out, v);
}

static int get_bool(JSContext *ctx, int *out, JSValueConst v)
{
    int b = JS_ToBool(ctx, v);
    if (b < 0)
        return -1;
    *out = b;
    return 0;
}

/* Borrowed bytes from an ArrayBuffer, a typed array or a string (UTF-8). */
typedef struct {
    const uint8_t *p;
    size_t n;
    JSValue hold;       /* the typed array's buffer, kept alive while p is used */
    const char *str;    /* the UTF-8 copy of a string argument */
} Bytes;

static int get_bytes(JSContext *ctx, Bytes *b, JSValueConst v)
{
    size_t off, len, elt, size;
    uint8_t *data;

    b->p = NULL;
    b->n = 0;
    b->hold = JS_UNDEFINED;
    b->str = NULL;
    if (JS_IsString(v)) {
        b->str = JS_ToCStringLen(ctx, &b->n, v);
        if (!b->str)
            return -1;
        b->p = (const uint8_t *)b->str;
        return 0;
    }
    if (JS_IsObject(v)) {
        /* Both getters throw when the object is not of their kind: try the
         * ArrayBuffer first and drop its TypeError before the typed array. */
        data = JS_GetArrayBuffer(ctx, &size, v);
        if (data) {
            b->p = data;
            b->n = size;
            return 0;
        }
        JS_FreeValue(ctx, JS_GetException(ctx));
        b->hold = JS_GetTypedArrayBuffer(ctx, v, &off, &len, &elt);
        if (!JS_IsException(b->hold)) {
            data = JS_GetArrayBuffer(ctx, &size, b->hold);
            if (!data) {
                JS_FreeValue(ctx, b->hold);
                b->hold = JS_UNDEFINED;
                return -1;
            }
            b->p = data + off;
            b->n = len;
            return 0;
        }
        JS_FreeValue(ctx, JS_GetException(ctx));
        b->hold = JS_UNDEFINED;
    }
    JS_ThrowTypeError(ctx, "expected an ArrayBuffer, a typed array or a string");
    return -1;
}

static void free_bytes(JSContext *ctx, Bytes *b)
{
    if (b->str)
        JS_FreeCString(ctx, b->str);
    JS_FreeValue(ctx, b->hold);
}

/* A JavaScript array of strings as a NULL-terminated char * array (execve's
 * argv and envp). An object is taken as an environment: {K: "V"} -> "K=V". */
typedef struct {
    char **v;
    int n;
} StrList;

static void free_strlist(StrList *l)
{
    int i;
    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int strlist_add(JSContext *ctx, StrList *l, const char *a, const char *b)
{
    size_t la = strlen(a), lb = b ? strlen(b) + 1 : 0;
    char *s = malloc(la + lb + 1), **v;
    if (!s)
        goto oom;
    memcpy(s, a, la);
    if (b) {
        s[la] = '=';
        memcpy(s + la + 1, b, lb);
    } else {
        s[la] = '\0';
    }
    v = realloc(l->v, sizeof(char *) * (l->n + 2));
    if (!v) {
        free(s);
        goto oom;
    }
    l->v = v;
    l->v[l->n++] = s;
    l->v[l->n] = NULL;
    return 0;
oom:
    JS_ThrowOutOfMemory(ctx);
    return -1;
}

static int get_strlist(JSContext *ctx, StrList *l, JSValueConst v, const char *what)
{
    uint32_t i, len, plen;
    JSPropertyEnum *props;
    JSValue e;
    const char *s, *k;
    int r;

    l->v = calloc(1, sizeof(char *));
    l->n = 0;
    if (!l->v) {
        JS_ThrowOutOfMemory(ctx);
        return -1;
    }
    if (JS_IsArray(ctx, v) > 0) {
        e = JS_GetPropertyStr(ctx, v, "length");
        r = JS_ToUint32(ctx, &len, e);
        JS_FreeValue(ctx, e);
        if (r)
            goto fail;
        for (i = 0; i < len; i++) {
            e = JS_GetPropertyUint32(ctx, v, i);
            s = JS_IsException(e) ? NULL : JS_ToCString(ctx, e);
            JS_FreeValue(ctx, e);
            if (!s)
                goto fail;
            r = strlist_add(ctx, l, s, NULL);
            JS_FreeCString(ctx, s);
            if (r)
                goto fail;
        }
        return 0;
    }
    if (JS_IsObject(v)) {
        if (JS_GetOwnPropertyNames(ctx, &props, &plen, v,
                                   JS_GPN_STRING_MASK | JS_GPN_ENUM_ONLY))
            goto fail;
        r = 0;
        for (i = 0; i < plen && !r; i++) {
            k = JS_AtomToCString(ctx, props[i].atom);
            e = JS_GetProperty(ctx, v, props[i].atom);
            s = JS_IsException(e) ? NULL : JS_ToCString(ctx, e);
            JS_FreeValue(ctx, e);
            r = (k && s) ? strlist_add(ctx, l, k, s) : -1;
            free_cstr(ctx, k);
            free_cstr(ctx, s);
        }
        for (i = 0; i < plen; i++)
            JS_FreeAtom(ctx, props[i].atom);
        js_free(ctx, props);
        if (r)
            goto fail;
        return 0;
    }
    JS_ThrowTypeError(ctx, "%s: expected an array of strings", what);
fail:
    free_strlist(l);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Mounts                                                                   */

/* mount(source, target, fstype, flags, data): source, fstype and data may be
 * null (a bind or a move needs neither fstype nor data). */
static JSValue js_mount(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *src = NULL, *target = NULL, *fstype = NULL, *data = NULL;
    uint32_t flags;
    JSValue ret = JS_UNDEFINED;

    if (opt_cstr(ctx, argv[0], &src) || !(target = JS_ToCString(ctx, argv[1])) ||
        opt_cstr(ctx, argv[2], &fstype) || get_u32(ctx, &flags, argv[3]) ||
        opt_cstr(ctx, argv[4], &data)) {
        ret = JS_EXCEPTION;
    } else if (mount(src, target, fstype, flags, data) != 0) {
        ret = throw_errno3(ctx, "mount", src ? src : "none", target, fstype);
    }
    free_cstr(ctx, src);
    free_cstr(ctx, target);
    free_cstr(ctx, fstype);
    free_cstr(ctx, data);
    return ret;
}

static JSValue js_umount2(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *target = JS_ToCString(ctx, argv[0]);
    uint32_t flags;
    JSValue ret = JS_UNDEFINED;

    if (!target || get_u32(ctx, &flags, argv[1]))
        ret = JS_EXCEPTION;
    else if (umount2(target, (int)flags) != 0)
        ret = throw_errno(ctx, "umount2", target);
    free_cstr(ctx, target);
    return ret;
}

/* ------------------------------------------------------------------------ */
/* Loop devices                                                             */

/* The node of loop device n. devtmpfs creates /dev/loopN when the kernel adds
 * the device; an initrd with a static /dev does not, so the node is made from
 * the numbers sysfs gives (the minor is not always n: loop.max_part shifts
 * it). */
static int open_loop(int n, int oflags, char *path, size_t pathsz)
{
    char sys[64], buf[32];
    unsigned maj, min;
    int fd, sfd;
    ssize_t r;

    snprintf(path, pathsz, "/dev/loop%d", n);
    fd = open(path, oflags | O_CLOEXEC);
    if (fd >= 0 || errno != ENOENT)
        return fd;
    snprintf(sys, sizeof sys, "/sys/block/loop%d/dev", n);
    sfd = open(sys, O_RDONLY | O_CLOEXEC);
    if (sfd < 0)
        return -1;
    r = read(sfd, buf, sizeof buf - 1);
    close(sfd);
    if (r <= 0)
        return -1;
    buf[r] = '\0';
    if (sscanf(buf, "%u:%u", &maj, &min) != 2) {
        errno = ENOENT;
        return -1;
    }
    if (mknod(path, S_IFBLK | 0660, makedev(maj, min)) != 0 && errno != EEXIST)
        return -1;
    return open(path, oflags | O_CLOEXEC);
}

/* loopAttach(file, {readOnly, autoclear, partScan, offset, sizeLimit})
 *   -> {path: "/dev/loopN", number: N, fd}
 *
 * The returned fd is the loop device, open. With autoclear the kernel detaches
 * the device at its last close, so closing this fd before the mount holds the
 * device would detach it at once: close it after mount(). Without autoclear,
 * close it whenever. */
static JSValue js_loop_attach(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *file = JS_ToCString(ctx, argv[0]);
    JSValueConst opts = argc > 1 ? argv[1] : JS_UNDEFINED;
    int ro = 0, autoclear = 0, partscan = 0, ctl = -1, backing = -1, lfd = -1, n = -1, tries;
    int64_t offset = 0, sizelimit = 0;
    char path[64];
    struct loop_config cfg;
    JSValue v, ret;

    if (!file)
        return JS_EXCEPTION;
    if (JS_IsObject(opts)) {
#define OPT(name, getter, out)                                   \
        v = JS_GetPropertyStr(ctx, opts, name);                  \
        if (!JS_IsUndefined(v) && getter(ctx, out, v)) {         \
            JS_FreeValue(ctx, v);                                \
            goto exception;                                      \
        }                                                        \
        JS_FreeValue(ctx, v);
        OPT("readOnly", get_bool, &ro)
        OPT("autoclear", get_bool, &autoclear)
        OPT("partScan", get_bool, &partscan)
        OPT("offset", JS_ToInt64, &offset)
        OPT("sizeLimit", JS_ToInt64, &sizelimit)
#undef OPT
    }

    backing = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (backing < 0) {
        ret = throw_errno(ctx, "loopAttach: open", file);
        goto done;
    }
    ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) {
        ret = throw_errno(ctx, "loopAttach: open", "/dev/loop-control");
        goto done;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.fd = (uint32_t)backing;
    cfg.info.lo_offset = (uint64_t)offset;
    cfg.info.lo_sizelimit = (uint64_t)sizelimit;
    cfg.info.lo_flags = (ro ? LO_FLAGS_READ_ONLY : 0) | (autoclear ? LO_FLAGS_AUTOCLEAR : 0) |
                        (partscan ? LO_FLAGS_PARTSCAN : 0);
    strncpy((char *)cfg.info.lo_file_name, file, LO_NAME_SIZE - 1);

    /* Another process (udev, a parallel losetup) may take the free device
     * between GET_FREE and the binding: the binding then fails with EBUSY and
     * the next free device is asked for, as losetup does. */
    for (tries = 0; tries < 64; tries++) {
        n = ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) {
            ret = throw_errno(ctx, "loopAttach: LOOP_CTL_GET_FREE", file);
            goto done;
        }
        lfd = open_loop(n, ro ? O_RDONLY : O_RDWR, path, sizeof path);
        if (lfd < 0) {
            ret = throw_errno(ctx, "loopAttach: open", path);
            goto done;
        }
        /* LOOP_CONFIGURE (Linux 5.8) binds the file and sets the flags in one
         * step; the older pair leaves a moment where the device is bound
         * without autoclear or read-only. */
        if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0)
            goto attached;
        if (errno == EINVAL || errno == ENOTTY) {
            if (ioctl(lfd, LOOP_SET_FD, backing) == 0) {
                if (ioctl(lfd, LOOP_SET_STATUS64, &cfg.info) == 0)
                    goto attached;
                ret = throw_errno(ctx, "loopAttach: LOOP_SET_STATUS64", path);
                ioctl(lfd, LOOP_CLR_FD, 0);
                goto done;
            }
        }
        if (errno != EBUSY) {
            ret = throw_errno3(ctx, "loopAttach: LOOP_CONFIGURE", path, file, NULL);
            goto done;
        }
        close(lfd);
        lfd = -1;
    }
    errno = EBUSY;
    ret = throw_errno(ctx, "loopAttach: no free loop device", file);
    goto done;

attached:
    ret = JS_NewObject(ctx);
    JS_SetPropertyStr(ctx, ret, "path", JS_NewString(ctx, path));
    JS_SetPropertyStr(ctx, ret, "number", JS_NewInt32(ctx, n));
    JS_SetPropertyStr(ctx, ret, "fd", JS_NewInt32(ctx, lfd));
    lfd = -1; /* the caller's now */
done:
    /* The loop device keeps its own reference to the backing file. */
    if (backing >= 0)
        close(backing);
    if (ctl >= 0)
        close(ctl);
    if (lfd >= 0)
        close(lfd);
    JS_FreeCString(ctx, file);
    return ret;
exception:
    JS_FreeCString(ctx, file);
    return JS_EXCEPTION;
}

/* loopDetach(path): on a device still mounted or open elsewhere the kernel
 * only marks it autoclear and detaches it at its last close. */
static JSValue js_loop_detach(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    JSValue ret = JS_UNDEFINED;
    int fd;

    if (!path)
        return JS_EXCEPTION;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        ret = throw_errno(ctx, "loopDetach: open", path);
    else if (ioctl(fd, LOOP_CLR_FD, 0) != 0)
        ret = throw_errno(ctx, "loopDetach: LOOP_CLR_FD", path);
    if (fd >= 0)
        close(fd);
    JS_FreeCString(ctx, path);
    return ret;
}

/* loopStatus(path) -> {number, fileName, offset, sizeLimit, readOnly,
 * autoclear, partScan} or null when the device is not bound. fileName is the
 * name given at attach time, cut to 63 bytes by the kernel
 * (/sys/block/loopN/loop/backing_file has the whole path). */
static JSValue js_loop_status(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    struct loop_info64 info;
    JSValue ret;
    int fd;

    if (!path)
        return JS_EXCEPTION;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ret = throw_errno(ctx, "loopStatus: open", path);
    } else if (ioctl(fd, LOOP_GET_STATUS64, &info) != 0) {
        ret = errno == ENXIO ? JS_NULL : throw_errno(ctx, "loopStatus: LOOP_GET_STATUS64", path);
    } else {
        info.lo_file_name[LO_NAME_SIZE - 1] = '\0';
        ret = JS_NewObject(ctx);
        JS_SetPropertyStr(ctx, ret, "number", JS_NewInt64(ctx, info.lo_number));
        JS_SetPropertyStr(ctx, ret, "fileName", JS_NewString(ctx, (char *)info.lo_file_name));
        JS_SetPropertyStr(ctx, ret, "offset", JS_NewInt64(ctx, (int64_t)info.lo_offset));
        JS_SetPropertyStr(ctx, ret, "sizeLimit", JS_NewInt64(ctx, (int64_t)info.lo_sizelimit));
        JS_SetPropertyStr(ctx, ret, "readOnly", JS_NewBool(ctx, !!(info.lo_flags & LO_FLAGS_READ_ONLY)));
        JS_SetPropertyStr(ctx, ret, "autoclear", JS_NewBool(ctx, !!(info.lo_flags & LO_FLAGS_AUTOCLEAR)));
        JS_SetPropertyStr(ctx, ret, "partScan", JS_NewBool(ctx, !!(info.lo_flags & LO_FLAGS_PARTSCAN)));
    }
    if (fd >= 0)
        close(fd);
    JS_FreeCString(ctx, path);
    return ret;
}

/* ------------------------------------------------------------------------ */
/* Processes and the root                                                   */

/* execve(path, argv, envp): the init's hand-over to the system's init, which
 * must become PID 1, hence no fork. envp: an array of "K=V", an object, or
 * undefined for this process's environment. Returns only by throwing.
 * Descriptors without O_CLOEXEC (os.open's) pass to the new program. */
static JSValue js_execve(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    StrList av = { NULL, 0 }, ev = { NULL, 0 };
    int has_env = argc > 2 && !JS_IsUndefined(argv[2]);
    JSValue ret;

    if (!path)
        return JS_EXCEPTION;
    if (get_strlist(ctx, &av, argv[1], "execve argv") ||
        (has_env && get_strlist(ctx, &ev, argv[2], "execve envp"))) {
        ret = JS_EXCEPTION;
        goto done;
    }
    /* std.out and console.log write through stdio buffers, which execve
     * would discard: what the script printed last would never appear. */
    fflush(NULL);
    execve(path, av.v, has_env ? ev.v : environ);
    ret = throw_errno(ctx, "execve", path);
done:
    free_strlist(&av);
    free_strlist(&ev);
    JS_FreeCString(ctx, path);
    return ret;
}

/* Calls taking one path and returning nothing, told apart by magic. */
enum { P_CHROOT, P_CHDIR };

static JSValue js_path_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    static const char *const names[] = { "chroot", "chdir" };
    const char *path = JS_ToCString(ctx, argv[0]);
    JSValue ret = JS_UNDEFINED;
    int r;

    if (!path)
        return JS_EXCEPTION;
    r = magic == P_CHROOT ? chroot(path) : chdir(path);
    if (r != 0)
        ret = throw_errno(ctx, names[magic], path);
    JS_FreeCString(ctx, path);
    return ret;
}

/* reboot(cmd): RB_POWER_OFF, RB_AUTOBOOT, RB_HALT_SYSTEM. The kernel does not
 * sync: call sync() first. Returns only by throwing (EPERM unless PID 1's
 * namespace and CAP_SYS_BOOT). */
static JSValue js_reboot(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint32_t cmd;
    if (JS_ToUint32(ctx, &cmd, argv[0]))
        return JS_EXCEPTION;
    if (reboot((int)cmd) != 0)
        return throw_errno(ctx, "reboot", NULL);
    return JS_UNDEFINED;
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

/* open(path, flags, mode = 0o666) -> fd. os.open would do for most files, but
 * the saver needs O_DIRECTORY (to fsync a directory after a rename) and
 * O_CLOEXEC (so the hand-over does not leak descriptors), whose values os does
 * not export. */
static JSValue js_open(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    uint32_t flags, mode = 0666;
    JSValue ret;
    int fd;

    if (!path)
        return JS_EXCEPTION;
    if (get_u32(ctx, &flags, argv[1]) || (argc > 2 && get_u32(ctx, &mode, argv[2]))) {
        ret = JS_EXCEPTION;
    } else {
        fd = open(path, (int)flags, (mode_t)mode);
        ret = fd < 0 ? throw_errno(ctx, "open", path) : JS_NewInt32(ctx, fd);
    }
    JS_FreeCString(ctx, path);
    return ret;
}

/* Calls taking one descriptor, told apart by magic. */
enum { F_CLOSE, F_FSYNC, F_FDATASYNC, F_SYNCFS };

static JSValue js_fd_call(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int magic)
{
    static const char *const names[] = { "close", "fsync", "fdatasync", "syncfs" };
    int fd, r;

    if (JS_ToInt32(ctx, &fd, argv[0]))
        return JS_EXCEPTION;
    switch (magic) {
    case F_CLOSE: r = close(fd); break;
    case F_FSYNC: r = fsync(fd); break;
    case F_FDATASYNC: r = fdatasync(fd); break;
    default: r = syncfs(fd); break;
    }
    if (r != 0)
        return throw_errno_fd(ctx, names[magic], fd);
    return JS_UNDEFINED;
}

static JSValue js_sync(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    sync();
    return JS_UNDEFINED;
}

/* rereadPartitions(fd): BLKRRPART on a whole disk, after its partition
 * table was rewritten (EBUSY while one of its partitions is in use). */
static JSValue js_reread_partitions(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd;
    if (JS_ToInt32(ctx, &fd, argv[0]))
        return JS_EXCEPTION;
    if (ioctl(fd, BLKRRPART) != 0)
        return throw_errno_fd(ctx, "BLKRRPART", fd);
    return JS_UNDEFINED;
}

/* ext4Resize(fd, blocks): grow the mounted ext4 filesystem FD is a file or
 * directory of to BLOCKS blocks, online, as resize2fs does (the kernel does
 * the work; no program is needed). */
#define RAMSTACK_EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
static JSValue js_ext4_resize(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd;
    int64_t blocks;
    if (JS_ToInt32(ctx, &fd, argv[0]) || JS_ToInt64(ctx, &blocks, argv[1]))
        return JS_EXCEPTION;
    uint64_t n = (uint64_t)blocks;
    if (ioctl(fd, RAMSTACK_EXT4_IOC_RESIZE_FS, &n) != 0)
        return throw_errno_fd(ctx, "EXT4_IOC_RESIZE_FS", fd);
    return JS_UNDEFINED;
}

static JSValue js_ftruncate(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd;
    int64_t len;
    if (JS_ToInt32(ctx, &fd, argv[0]) || JS_ToInt64(ctx, &len, argv[1]))
        return JS_EXCEPTION;
    if (ftruncate(fd, (off_t)len) != 0)
        return throw_errno_fd(ctx, "ftruncate", fd);
    return JS_UNDEFINED;
}

/* fallocate(fd, mode, offset, len): mode 0 reserves blocks (a save file made
 * without holes cannot fail with ENOSPC later); FALLOC_FL_* for the rest. */
static JSValue js_fallocate(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd;
    uint32_t mode;
    int64_t off, len;
    if (JS_ToInt32(ctx, &fd, argv[0]) || get_u32(ctx, &mode, argv[1]) ||
        JS_ToInt64(ctx, &off, argv[2]) || JS_ToInt64(ctx, &len, argv[3]))
        return JS_EXCEPTION;
    if (fallocate(fd, (int)mode, (off_t)off, (off_t)len) != 0)
        return throw_errno_fd(ctx, "fallocate", fd);
    return JS_UNDEFINED;
}

static JSValue js_link(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *from = JS_ToCString(ctx, argv[0]), *to = from ? JS_ToCString(ctx, argv[1]) : NULL;
    JSValue ret = JS_UNDEFINED;
    if (!from || !to)
        ret = JS_EXCEPTION;
    else if (link(from, to) != 0)
        ret = throw_errno3(ctx, "link", from, to, NULL);
    free_cstr(ctx, from);
    free_cstr(ctx, to);
    return ret;
}

static JSValue js_chmod(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    uint32_t mode;
    JSValue ret = JS_UNDEFINED;
    if (!path || JS_ToUint32(ctx, &mode, argv[1]))
        ret = JS_EXCEPTION;
    else if (chmod(path, (mode_t)mode) != 0)
        ret = throw_errno(ctx, "chmod", path);
    free_cstr(ctx, path);
    return ret;
}

static JSValue js_fchmod(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd;
    uint32_t mode;
    if (JS_ToInt32(ctx, &fd, argv[0]) || JS_ToUint32(ctx, &mode, argv[1]))
        return JS_EXCEPTION;
    if (fchmod(fd, (mode_t)mode) != 0)
        return throw_errno_fd(ctx, "fchmod", fd);
    return JS_UNDEFINED;
}

/* chown(path, uid, gid) follows symlinks, lchown(path, uid, gid) does not
 * (the saver copies symlinks' owners). -1 leaves an id unchanged. */
static JSValue js_chown(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int nofollow)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    int32_t uid, gid;
    JSValue ret = JS_UNDEFINED;
    if (!path || JS_ToInt32(ctx, &uid, argv[1]) || JS_ToInt32(ctx, &gid, argv[2]))
        ret = JS_EXCEPTION;
    else if ((nofollow ? lchown(path, (uid_t)uid, (gid_t)gid) : chown(path, (uid_t)uid, (gid_t)gid)) != 0)
        ret = throw_errno(ctx, nofollow ? "lchown" : "chown", path);
    free_cstr(ctx, path);
    return ret;
}

static JSValue js_fchown(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd;
    int32_t uid, gid;
    if (JS_ToInt32(ctx, &fd, argv[0]) || JS_ToInt32(ctx, &uid, argv[1]) || JS_ToInt32(ctx, &gid, argv[2]))
        return JS_EXCEPTION;
    if (fchown(fd, (uid_t)uid, (gid_t)gid) != 0)
        return throw_errno_fd(ctx, "fchown", fd);
    return JS_UNDEFINED;
}

/* utimensat(path, atimeSec, atimeNsec, mtimeSec, mtimeNsec, nofollow): the
 * saver keeps times to the nanosecond (os.utimes takes milliseconds). A nsec
 * of UTIME_NOW or UTIME_OMIT has its usual meaning. */
static JSValue js_utimensat(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    int64_t as, an, ms, mn;
    int nofollow = 0;
    struct timespec ts[2];
    JSValue ret = JS_UNDEFINED;

    if (!path || JS_ToInt64(ctx, &as, argv[1]) || JS_ToInt64(ctx, &an, argv[2]) ||
        JS_ToInt64(ctx, &ms, argv[3]) || JS_ToInt64(ctx, &mn, argv[4]) ||
        (argc > 5 && get_bool(ctx, &nofollow, argv[5]))) {
        ret = JS_EXCEPTION;
    } else {
        ts[0].tv_sec = (time_t)as;
        ts[0].tv_nsec = (long)an;
        ts[1].tv_sec = (time_t)ms;
        ts[1].tv_nsec = (long)mn;
        if (utimensat(AT_FDCWD, path, ts, nofollow ? AT_SYMLINK_NOFOLLOW : 0) != 0)
            ret = throw_errno(ctx, "utimensat", path);
    }
    free_cstr(ctx, path);
    return ret;
}

#define SET_NUM(obj, name, val) JS_SetPropertyStr(ctx, obj, name, JS_NewInt64(ctx, (int64_t)(val)))

/* lstat(path) (magic 1) and stat(path) (magic 0) -> {dev, ino, mode, nlink,
 * uid, gid, rdev, size, blocks, blksize, atimeSec, atimeNsec, mtimeSec,
 * mtimeNsec, ctimeSec, ctimeNsec, devMajor, devMinor, rdevMajor, rdevMinor}.
 * os.lstat gives times in milliseconds and no major/minor, which a whiteout
 * (char device 0:0) check needs. */
static JSValue js_stat(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv, int nofollow)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    struct stat st;
    JSValue o;

    if (!path)
        return JS_EXCEPTION;
    if ((nofollow ? lstat(path, &st) : stat(path, &st)) != 0) {
        o = throw_errno(ctx, nofollow ? "lstat" : "stat", path);
        JS_FreeCString(ctx, path);
        return o;
    }
    JS_FreeCString(ctx, path);
    o = JS_NewObject(ctx);
    SET_NUM(o, "dev", st.st_dev);
    SET_NUM(o, "ino", st.st_ino);
    SET_NUM(o, "mode", st.st_mode);
    SET_NUM(o, "nlink", st.st_nlink);
    SET_NUM(o, "uid", st.st_uid);
    SET_NUM(o, "gid", st.st_gid);
    SET_NUM(o, "rdev", st.st_rdev);
    SET_NUM(o, "size", st.st_size);
    SET_NUM(o, "blocks", st.st_blocks);
    SET_NUM(o, "blksize", st.st_blksize);
    SET_NUM(o, "atimeSec", st.st_atim.tv_sec);
    SET_NUM(o, "atimeNsec", st.st_atim.tv_nsec);
    SET_NUM(o, "mtimeSec", st.st_mtim.tv_sec);
    SET_NUM(o, "mtimeNsec", st.st_mtim.tv_nsec);
    SET_NUM(o, "ctimeSec", st.st_ctim.tv_sec);
    SET_NUM(o, "ctimeNsec", st.st_ctim.tv_nsec);
    SET_NUM(o, "devMajor", major(st.st_dev));
    SET_NUM(o, "devMinor", minor(st.st_dev));
    SET_NUM(o, "rdevMajor", major(st.st_rdev));
    SET_NUM(o, "rdevMinor", minor(st.st_rdev));
    return o;
}

/* finitModule(path, params): load a kernel module from its file, as
 * modprobe's last step does, without starting a modprobe (a process start
 * and a read of the module indexes each time, tenths of a second of an
 * emulated boot). A compressed module (.ko.xz/.zst/.gz) is handed to the
 * kernel to decompress. A module of that name being loaded by another
 * process makes the kernel wait for it to finish, then fail with EEXIST:
 * so a caller that gets EEXIST knows the module is live. */
static JSValue js_finit_module(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    const char *params = NULL;
    JSValue ret = JS_UNDEFINED;
    size_t n;
    int fd, flags = 0;

    if (!path)
        return JS_EXCEPTION;
    if (opt_cstr(ctx, argc > 1 ? argv[1] : JS_UNDEFINED, &params)) {
        JS_FreeCString(ctx, path);
        return JS_EXCEPTION;
    }
    n = strlen(path);
    if ((n > 3 && !strcmp(path + n - 3, ".xz")) || (n > 4 && !strcmp(path + n - 4, ".zst")) ||
        (n > 3 && !strcmp(path + n - 3, ".gz")))
        flags |= 4; /* MODULE_INIT_COMPRESSED_FILE (Linux 5.17) */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || syscall(SYS_finit_module, fd, params ? params : "", flags) != 0)
        ret = throw_errno(ctx, "finit_module", path);
    if (fd >= 0)
        close(fd);
    free_cstr(ctx, params);
    JS_FreeCString(ctx, path);
    return ret;
}

/* One "alias PATTERN MODULE" line of a modules.alias. */
typedef struct {
    const char *pat, *mod;
    size_t patlen, modlen;
} AliasLine;

/* The line from P to END as an alias line; 0 for any other line. */
static int alias_line(const char *p, const char *end, AliasLine *a)
{
    const char *sp, *m, *me;

    if (end - p < 6 || memcmp(p, "alias ", 6) != 0)
        return 0;
    p += 6;
    sp = memchr(p, ' ', (size_t)(end - p));
    if (!sp || sp == p)
        return 0;
    for (m = sp + 1; m < end && (*m == ' ' || *m == '\t');)
        m++;
    for (me = end; me > m && (me[-1] == ' ' || me[-1] == '\t' || me[-1] == '\r');)
        me--;
    if (me == m)
        return 0;
    a->pat = p;
    a->patlen = (size_t)(sp - p);
    a->mod = m;
    a->modlen = (size_t)(me - m);
    return 1;
}

/* The next alias line from *P on (up to END), *P moved past it; 0 at the end. */
static int next_alias_line(const char **p, const char *end, AliasLine *a)
{
    const char *nl;

    while (*p < end) {
        nl = memchr(*p, '\n', (size_t)(end - *p));
        if (!nl)
            nl = end;
        if (alias_line(*p, nl, a)) {
            *p = nl + 1;
            return 1;
        }
        *p = nl + 1;
    }
    return 0;
}

/*
 * aliasMatch(text, alias) -> the modules whose pattern in TEXT (a
 * modules.alias) matches ALIAS as modprobe matches them (fnmatch(3)), in the
 * file's order. The init resolves its devices' aliases here: a thousand
 * patterns parsed and matched in JavaScript cost it 0.1-0.15 s under TCG.
 */
static JSValue js_alias_match(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    size_t len;
    const char *text = JS_ToCStringLen(ctx, &len, argv[0]), *alias, *p;
    AliasLine a;
    char buf[512];
    JSValue arr;
    uint32_t n = 0;

    if (!text)
        return JS_EXCEPTION;
    alias = JS_ToCString(ctx, argv[1]);
    if (!alias) {
        JS_FreeCString(ctx, text);
        return JS_EXCEPTION;
    }
    arr = JS_NewArray(ctx);
    for (p = text; next_alias_line(&p, text + len, &a);) {
        if (a.patlen >= sizeof buf)
            continue;
        /* A literal first character that differs needs no fnmatch (most patterns start "pci:v0000..."). */
        if (*a.pat != '*' && *a.pat != '?' && *a.pat != '[' && *a.pat != '\\' && *a.pat != *alias)
            continue;
        memcpy(buf, a.pat, a.patlen);
        buf[a.patlen] = '\0';
        if (fnmatch(buf, alias, 0) == 0)
            JS_SetPropertyUint32(ctx, arr, n++, JS_NewStringLen(ctx, a.mod, a.modlen));
    }
    JS_FreeCString(ctx, alias);
    JS_FreeCString(ctx, text);
    return arr;
}

/*
 * aliasBuses(text) -> the buses TEXT's patterns name (the text before a
 * pattern's first ':'), each once, in the file's order; "*" for patterns
 * that name none or have a wildcard there.
 */
static JSValue js_alias_buses(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    size_t len, k, i;
    const char *text = JS_ToCStringLen(ctx, &len, argv[0]), *p, *pat, *colon;
    AliasLine a;
    const char *seen[256];
    size_t seenlen[256], nseen = 0;
    JSValue arr;

    if (!text)
        return JS_EXCEPTION;
    arr = JS_NewArray(ctx);
    for (p = text; next_alias_line(&p, text + len, &a);) {
        pat = a.pat;
        colon = memchr(pat, ':', a.patlen);
        k = colon ? (size_t)(colon - pat) : 0;
        if (k == 0 || memchr(pat, '*', k) || memchr(pat, '?', k) || memchr(pat, '[', k)) {
            pat = "*";
            k = 1;
        }
        for (i = 0; i < nseen && !(seenlen[i] == k && memcmp(seen[i], pat, k) == 0); i++)
            ;
        if (i < nseen || nseen == sizeof seen / sizeof *seen)
            continue;
        seen[nseen] = pat;
        seenlen[nseen] = k;
        JS_SetPropertyUint32(ctx, arr, (uint32_t)nseen++, JS_NewStringLen(ctx, pat, k));
    }
    JS_FreeCString(ctx, text);
    return arr;
}

/* removeContents(dir, keep) -> entries left: what busybox switch_root's
 * delete_contents does, so the hand-over frees the initramfs's RAM in
 * milliseconds instead of a port call per entry (0.9 ms each under TCG).
 * Everything DIR holds on DIR's own filesystem is deleted, depth first; a
 * mount below (another st_dev) stays, with its directory, and so do the
 * paths in KEEP (matched by device and inode, so any spelling of a path
 * works; a KEEP path that does not exist keeps nothing). Best effort, as
 * switch_root: what cannot go is counted and left. Throws only when DIR
 * cannot be opened. */
typedef struct {
    dev_t dev;
    ino_t ino;
} DevIno;

typedef struct {
    dev_t dev;
    const DevIno *keep;
    int nkeep;
} RemoveWalk;

static int is_kept(const RemoveWalk *w, const struct stat *st)
{
    int i;
    for (i = 0; i < w->nkeep; i++)
        if (w->keep[i].dev == st->st_dev && w->keep[i].ino == st->st_ino)
            return 1;
    return 0;
}

/* Takes FD (closed here); returns the entries it could not delete. */
static long remove_contents_at(const RemoveWalk *w, int fd)
{
    DIR *d = fdopendir(fd);
    struct dirent *e;
    struct stat st;
    long left = 0;
    int sub;

    if (!d) {
        close(fd);
        return 1;
    }
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            st.st_dev != w->dev || is_kept(w, &st)) {
            left++;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            sub = openat(fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0 || remove_contents_at(w, sub) != 0 ||
                unlinkat(fd, e->d_name, AT_REMOVEDIR) != 0)
                left++;
        } else if (unlinkat(fd, e->d_name, 0) != 0) {
            left++;
        }
    }
    closedir(d);
    return left;
}

static JSValue js_remove_contents(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *dir = JS_ToCString(ctx, argv[0]);
    StrList keep = { 0 };
    DevIno *ids = NULL;
    RemoveWalk w = { 0 };
    struct stat st;
    JSValue ret = JS_EXCEPTION;
    int fd, i;

    if (!dir)
        return JS_EXCEPTION;
    if (get_strlist(ctx, &keep, argv[1], "removeContents's keep"))
        goto done;
    ids = calloc(keep.n + 1, sizeof *ids);
    if (!ids) {
        JS_ThrowOutOfMemory(ctx);
        goto done;
    }
    for (i = 0; i < keep.n; i++)
        if (stat(keep.v[i], &st) == 0)
            ids[w.nkeep++] = (DevIno){ st.st_dev, st.st_ino };
    w.keep = ids;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        ret = throw_errno(ctx, "removeContents", dir);
        if (fd >= 0)
            close(fd);
        goto done;
    }
    w.dev = st.st_dev;
    ret = JS_NewInt64(ctx, remove_contents_at(&w, fd));
done:
    free(ids);
    free_strlist(&keep);
    JS_FreeCString(ctx, dir);
    return ret;
}

/* statfs(path) -> {type, bsize, frsize, blocks, bfree, bavail, files, ffree,
 * namelen, flags}: the saver's free-space check and the probe's "is this
 * overlay/tmpfs" test. Block counts are in frsize units. */
static JSValue js_statfs(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    struct statfs s;
    JSValue o;

    if (!path)
        return JS_EXCEPTION;
    if (statfs(path, &s) != 0) {
        o = throw_errno(ctx, "statfs", path);
        JS_FreeCString(ctx, path);
        return o;
    }
    JS_FreeCString(ctx, path);
    o = JS_NewObject(ctx);
    /* f_type is signed on some ABIs: magic numbers with bit 31 set (e.g.
     * btrfs 0x9123683e) must not come out negative. */
    SET_NUM(o, "type", (uint32_t)s.f_type);
    SET_NUM(o, "bsize", s.f_bsize);
    SET_NUM(o, "frsize", s.f_frsize);
    SET_NUM(o, "blocks", s.f_blocks);
    SET_NUM(o, "bfree", s.f_bfree);
    SET_NUM(o, "bavail", s.f_bavail);
    SET_NUM(o, "files", s.f_files);
    SET_NUM(o, "ffree", s.f_ffree);
    SET_NUM(o, "namelen", s.f_namelen);
    SET_NUM(o, "flags", s.f_flags);
    return o;
}

/* mknod(path, mode, major, minor): overlayfs whiteouts are S_IFCHR 0:0. */
static JSValue js_mknod(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    uint32_t mode, maj, min;
    JSValue ret = JS_UNDEFINED;

    if (!path || JS_ToUint32(ctx, &mode, argv[1]) || get_u32(ctx, &maj, argv[2]) || get_u32(ctx, &min, argv[3]))
        ret = JS_EXCEPTION;
    else if (mknod(path, (mode_t)mode, makedev(maj, min)) != 0)
        ret = throw_errno(ctx, "mknod", path);
    free_cstr(ctx, path);
    return ret;
}

/* ------------------------------------------------------------------------ */
/* Extended attributes, never following symlinks: overlayfs keeps its
 * trusted.overlay.* attributes on the entries themselves, symlinks included. */

/* lgetxattr(path, name, asString = false) -> ArrayBuffer | string | null.
 * null when the entry has no such attribute: the saver asks that of nearly
 * every directory, and an exception per directory would cost. */
static JSValue js_lgetxattr(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]), *name = path ? JS_ToCString(ctx, argv[1]) : NULL;
    int as_string = 0;
    ssize_t n;
    char *buf = NULL;
    JSValue ret;

    if (!path || !name || (argc > 2 && get_bool(ctx, &as_string, argv[2]))) {
        ret = JS_EXCEPTION;
        goto done;
    }
    /* The value may grow between asking its size and reading it: retry. */
    for (;;) {
        n = lgetxattr(path, name, NULL, 0);
        if (n < 0)
            break;
        free(buf);
        buf = malloc(n ? (size_t)n : 1);
        if (!buf) {
            ret = JS_ThrowOutOfMemory(ctx);
            goto done;
        }
        n = lgetxattr(path, name, buf, (size_t)n);
        if (n >= 0 || errno != ERANGE)
            break;
    }
    if (n < 0)
        ret = errno == ENODATA ? JS_NULL : throw_errno3(ctx, "lgetxattr", path, name, NULL);
    else if (as_string)
        ret = JS_NewStringLen(ctx, buf, (size_t)n);
    else
        ret = JS_NewArrayBufferCopy(ctx, (uint8_t *)buf, (size_t)n);
done:
    free(buf);
    free_cstr(ctx, path);
    free_cstr(ctx, name);
    return ret;
}

/* lsetxattr(path, name, value, flags = 0): value bytes or a string; flags
 * XATTR_CREATE or XATTR_REPLACE. */
static JSValue js_lsetxattr(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]), *name = path ? JS_ToCString(ctx, argv[1]) : NULL;
    uint32_t flags = 0;
    Bytes b = { NULL, 0, JS_UNDEFINED, NULL };
    JSValue ret = JS_UNDEFINED;

    if (!path || !name || get_bytes(ctx, &b, argv[2]) || (argc > 3 && get_u32(ctx, &flags, argv[3])))
        ret = JS_EXCEPTION;
    else if (lsetxattr(path, name, b.p, b.n, (int)flags) != 0)
        ret = throw_errno3(ctx, "lsetxattr", path, name, NULL);
    free_bytes(ctx, &b);
    free_cstr(ctx, path);
    free_cstr(ctx, name);
    return ret;
}

/* llistxattr(path) -> string[] (only the namespaces this process may see:
 * trusted.* needs CAP_SYS_ADMIN). */
static JSValue js_llistxattr(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    char *buf = NULL, *p;
    ssize_t n;
    uint32_t i = 0;
    JSValue ret;

    if (!path)
        return JS_EXCEPTION;
    for (;;) {
        n = llistxattr(path, NULL, 0);
        if (n < 0)
            break;
        free(buf);
        buf = malloc(n ? (size_t)n : 1);
        if (!buf) {
            ret = JS_ThrowOutOfMemory(ctx);
            goto done;
        }
        n = llistxattr(path, buf, (size_t)n);
        if (n >= 0 || errno != ERANGE)
            break;
    }
    if (n < 0) {
        ret = throw_errno(ctx, "llistxattr", path);
        goto done;
    }
    ret = JS_NewArray(ctx);
    for (p = buf; p < buf + n; p += strlen(p) + 1)
        JS_SetPropertyUint32(ctx, ret, i++, JS_NewString(ctx, p));
done:
    free(buf);
    JS_FreeCString(ctx, path);
    return ret;
}

static JSValue js_lremovexattr(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]), *name = path ? JS_ToCString(ctx, argv[1]) : NULL;
    JSValue ret = JS_UNDEFINED;
    if (!path || !name)
        ret = JS_EXCEPTION;
    else if (lremovexattr(path, name) != 0)
        ret = throw_errno3(ctx, "lremovexattr", path, name, NULL);
    free_cstr(ctx, path);
    free_cstr(ctx, name);
    return ret;
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                    */

/* Copies src to dst (room for 3 * n bytes), each ill-formed sequence replaced
 * by U+FFFD as TextDecoder does (one per maximal invalid subpart): QuickJS's
 * own decoder accepts surrogates and overlong forms, and a file name or an
 * xattr may hold any bytes. Returns the length written. */
static size_t utf8_sanitize(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t i = 0, o = 0, need, k;
    uint8_t c, lo, hi;

    while (i < n) {
        c = src[i];
        if (c < 0x80) {
            dst[o++] = c;
            i++;
            continue;
        }
        /* The valid second-byte range depends on the first byte (Unicode
         * table 3-7): it rules out overlongs, surrogates and > U+10FFFF. */
        lo = 0x80;
        hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c == 0xE0) { need = 2; lo = 0xA0; }
        else if (c >= 0xE1 && c <= 0xEC) need = 2;
        else if (c == 0xED) { need = 2; hi = 0x9F; }
        else if (c >= 0xEE && c <= 0xEF) need = 2;
        else if (c == 0xF0) { need = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) need = 3;
        else if (c == 0xF4) { need = 3; hi = 0x8F; }
        else need = 0;
        k = 0;
        if (need) {
            for (k = 1; k <= need && i + k < n; k++) {
                uint8_t b = src[i + k];
                if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF))
                    break;
            }
        }
        if (need && k == need + 1) {
            memcpy(dst + o, src + i, need + 1);
            o += need + 1;
            i += need + 1;
        } else {
            dst[o++] = 0xEF;
            dst[o++] = 0xBF;
            dst[o++] = 0xBD;
            i += k ? k : 1;
        }
    }
    return o;
}

/* utf8Decode(bytes) -> string */
static JSValue js_utf8_decode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    Bytes b;
    uint8_t *tmp;
    size_t n;
    JSValue ret;

    if (get_bytes(ctx, &b, argv[0]))
        return JS_EXCEPTION;
    tmp = malloc(b.n * 3 + 1);
    if (!tmp) {
        free_bytes(ctx, &b);
        return JS_ThrowOutOfMemory(ctx);
    }
    n = utf8_sanitize(tmp, b.p, b.n);
    free_bytes(ctx, &b);
    ret = JS_NewStringLen(ctx, (const char *)tmp, n);
    free(tmp);
    return ret;
}

/* utf8Encode(string) -> ArrayBuffer. QuickJS writes a lone surrogate as its
 * 3-byte form (ED A0..BF xx); TextEncoder writes U+FFFD, and so does this. */
static JSValue js_utf8_encode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    size_t n, i;
    const char *s = JS_ToCStringLen(ctx, &n, argv[0]);
    uint8_t *tmp;
    JSValue ret;

    if (!s)
        return JS_EXCEPTION;
    tmp = malloc(n + 1);
    if (!tmp) {
        JS_FreeCString(ctx, s);
        return JS_ThrowOutOfMemory(ctx);
    }
    memcpy(tmp, s, n);
    JS_FreeCString(ctx, s);
    for (i = 0; i + 2 < n; i++) {
        if (tmp[i] == 0xED && tmp[i + 1] >= 0xA0) {
            tmp[i] = 0xEF;
            tmp[i + 1] = 0xBF;
            tmp[i + 2] = 0xBD;
            i += 2;
        }
    }
    ret = JS_NewArrayBufferCopy(ctx, tmp, n);
    free(tmp);
    return ret;
}

/* ------------------------------------------------------------------------ */
/* SHA-256 (FIPS 180-4), for content hashes the saver and the builder agree
 * on; in C because JavaScript's 32-bit arithmetic in an interpreter is ~50x
 * slower. */

typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t fill;
} Sha256;

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(Sha256 *s, const uint8_t *p)
{
    uint32_t w[64], a, b, c, d, e, f, g, h, t1, t2;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (i = 16; i < 64; i++)
        w[i] = w[i - 16] + (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 7] +
               (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10));
    a = s->h[0]; b = s->h[1]; c = s->h[2]; d = s->h[3];
    e = s->h[4]; f = s->h[5]; g = s->h[6]; h = s->h[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    s->h[0] += a; s->h[1] += b; s->h[2] += c; s->h[3] += d;
    s->h[4] += e; s->h[5] += f; s->h[6] += g; s->h[7] += h;
}

static void sha256_init(Sha256 *s)
{
    static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->fill = 0;
}

static void sha256_update(Sha256 *s, const uint8_t *p, size_t n)
{
    size_t take;
    s->len += n;
    while (n > 0) {
        if (s->fill == 0 && n >= 64) {
            sha256_block(s, p);
            p += 64;
            n -= 64;
            continue;
        }
        take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->buf + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill == 64) {
            sha256_block(s, s->buf);
            s->fill = 0;
        }
    }
}

static void sha256_hex(Sha256 *s, char out[65])
{
    uint64_t bits = s->len * 8;
    uint8_t pad[72] = { 0x80 };
    size_t padlen = (s->fill < 56 ? 56 : 120) - s->fill;
    int i;

    for (i = 0; i < 8; i++)
        pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    sha256_update(s, pad, padlen + 8);
    for (i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", (unsigned)(s->h[i / 4] >> (24 - 8 * (i % 4))) & 0xff);
}

/* sha256(bytes | string) -> hex; a string is hashed as its UTF-8 bytes, as
 * Node's hash.update(string) does. */
static JSValue js_sha256(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    Bytes b;
    Sha256 s;
    char hex[65];

    if (get_bytes(ctx, &b, argv[0]))
        return JS_EXCEPTION;
    sha256_init(&s);
    sha256_update(&s, b.p, b.n);
    free_bytes(ctx, &b);
    sha256_hex(&s, hex);
    return JS_NewStringLen(ctx, hex, 64);
}

/* ------------------------------------------------------------------------ */
/* Console                                                                  */

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* readLine(fd, timeoutMs, echo = true, prompt) -> string | null
 *
 * The boot prompts ("password for the save file", "press a key within 5 s")
 * need a wait that ends, which std's blocking getline cannot give, and no
 * echo for passwords. null: the time ran out, or the input ended before
 * anything was read; a negative timeout waits for ever. The line comes back
 * without its "\n" (or "\r\n"), decoded as UTF-8.
 *
 * Bytes are read one at a time so nothing after the newline is consumed: the
 * rest stays in the pipe or the terminal for whoever reads next. With echo
 * off on a terminal, ECHONL still echoes the Enter, so the next output starts
 * on a new line; the terminal's settings are restored before returning, also
 * on a timeout or an error. */
static JSValue js_read_line(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    int fd, echo = 1, restore = 0, r, done = 0, timed_out = 0;
    int64_t timeout, deadline, left;
    struct termios saved, quiet;
    struct pollfd pfd;
    uint8_t *line = NULL, *tmp, c;
    size_t len = 0, cap = 0;
    ssize_t n;
    JSValue ret = JS_UNDEFINED;

    if (JS_ToInt32(ctx, &fd, argv[0]) || JS_ToInt64(ctx, &timeout, argv[1]) ||
        (argc > 2 && !JS_IsUndefined(argv[2]) && get_bool(ctx, &echo, argv[2])))
        return JS_EXCEPTION;
    if (!echo && isatty(fd) && tcgetattr(fd, &saved) == 0) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        if (tcsetattr(fd, TCSANOW, &quiet) == 0)
            restore = 1;
    }
    /* The prompt only once echo is off: what is typed as soon as it shows is not echoed. */
    if (argc > 3 && !JS_IsUndefined(argv[3])) {
        const char *prompt = JS_ToCString(ctx, argv[3]);
        size_t off = 0, plen;
        if (!prompt) {
            ret = JS_EXCEPTION;
            goto out;
        }
        plen = strlen(prompt);
        while (off < plen) {
            n = write(fd, prompt + off, plen - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        JS_FreeCString(ctx, prompt);
    }
    deadline = timeout >= 0 ? now_ms() + timeout : 0;
    while (!done) {
        left = -1;
        if (timeout >= 0) {
            left = deadline - now_ms();
            if (left < 0)
                left = 0;
        }
        pfd.fd = fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            ret = throw_errno_fd(ctx, "readLine: poll", fd);
            goto out;
        }
        if (r == 0) {
            if (timeout >= 0 && now_ms() >= deadline) {
                timed_out = 1;
                break;
            }
            continue;
        }
        n = read(fd, &c, 1);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            ret = throw_errno_fd(ctx, "readLine: read", fd);
            goto out;
        }
        if (n == 0) {
            done = 2; /* end of input */
            break;
        }
        if (c == '\n') {
            done = 1;
            break;
        }
        if (len + 1 > cap) {
            cap = cap ? cap * 2 : 128;
            tmp = realloc(line, cap);
            if (!tmp) {
                ret = JS_ThrowOutOfMemory(ctx);
                goto out;
            }
            line = tmp;
        }
        line[len++] = c;
    }
    if (timed_out || (done == 2 && len == 0)) {
        ret = JS_NULL;
    } else {
        if (len > 0 && line[len - 1] == '\r')
            len--;
        tmp = malloc(len * 3 + 1);
        if (!tmp) {
            ret = JS_ThrowOutOfMemory(ctx);
            goto out;
        }
        ret = JS_NewStringLen(ctx, (const char *)tmp, utf8_sanitize(tmp, line ? line : tmp, len));
        free(tmp);
    }
out:
    if (restore)
        tcsetattr(fd, TCSANOW, &saved);
    free(line);
    return ret;
}

/* A pipe's bytes as they arrive (spawn's stdout and stderr). */
typedef struct {
    uint8_t *p;
    size_t n, cap;
} Buf;

static int buf_read(Buf *b, int fd)
{
    uint8_t *tmp;
    ssize_t n;
    if (b->cap - b->n < 65536) {
        tmp = realloc(b->p, b->cap + 65536 + b->cap / 2);
        if (!tmp)
            return -2;
        b->p = tmp;
        b->cap += 65536 + b->cap / 2;
    }
    n = read(fd, b->p + b->n, b->cap - b->n);
    if (n > 0)
        b->n += (size_t)n;
    return n > 0 ? 1 : n == 0 ? 0 : (errno == EINTR || errno == EAGAIN) ? 1 : -1;
}

static JSValue buf_string(JSContext *ctx, Buf *b)
{
    uint8_t *tmp = malloc(b->n * 3 + 1);
    JSValue s;
    if (!tmp)
        return JS_ThrowOutOfMemory(ctx);
    s = JS_NewStringLen(ctx, (const char *)tmp, utf8_sanitize(tmp, b->p ? b->p : tmp, b->n));
    free(tmp);
    return s;
}

/* spawn(argv, {env, cwd, input, inherit}) -> {status, stdout, stderr}
 *
 * The one way the QuickJS port runs a program, as Node's spawnSync does for
 * the Node port: the program is looked up on PATH; input (a string or bytes)
 * is written to its stdin, which is otherwise /dev/null; stdout and stderr
 * are collected (UTF-8) unless inherit, which gives the program this
 * process's stdio (an interactive shell). status is the exit status, or 128 +
 * the signal that ended it. A program that cannot be started throws (code
 * ENOENT when it does not exist), reported from the child through a pipe
 * closed on exec. The child closes every other descriptor: a lock or a save
 * file this process holds open must not outlive it in a daemon. */
static JSValue js_spawn(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    StrList av = { NULL, 0 }, ev = { NULL, 0 };
    JSValue opts = argc > 1 ? argv[1] : JS_UNDEFINED, v, ret = JS_EXCEPTION;
    const char *cwd = NULL;
    Bytes in = { NULL, 0, JS_UNDEFINED, NULL };
    int inherit = 0, has_env = 0, has_in = 0, in_p[2] = { -1, -1 }, out_p[2] = { -1, -1 }, err_p[2] = { -1, -1 };
    int exec_p[2] = { -1, -1 }, child_errno = 0, status, fd;
    size_t written = 0;
    Buf out = { NULL, 0, 0 }, err = { NULL, 0, 0 };
    pid_t pid;
    ssize_t n;
    void (*old_pipe)(int) = SIG_DFL;

    if (get_strlist(ctx, &av, argv[0], "spawn argv"))
        goto done;
    if (av.n == 0) {
        JS_ThrowTypeError(ctx, "spawn: empty argv");
        goto done;
    }
    if (JS_IsObject(opts)) {
        v = JS_GetPropertyStr(ctx, opts, "env");
        if (!JS_IsUndefined(v)) {
            has_env = 1;
            if (get_strlist(ctx, &ev, v, "spawn env")) {
                JS_FreeValue(ctx, v);
                goto done;
            }
        }
        JS_FreeValue(ctx, v);
        v = JS_GetPropertyStr(ctx, opts, "cwd");
        if (!JS_IsUndefined(v) && !(cwd = JS_ToCString(ctx, v))) {
            JS_FreeValue(ctx, v);
            goto done;
        }
        JS_FreeValue(ctx, v);
        v = JS_GetPropertyStr(ctx, opts, "input");
        if (!JS_IsUndefined(v)) {
            has_in = 1;
            if (get_bytes(ctx, &in, v)) {
                JS_FreeValue(ctx, v);
                goto done;
            }
        }
        JS_FreeValue(ctx, v);
        v = JS_GetPropertyStr(ctx, opts, "inherit");
        inherit = JS_ToBool(ctx, v);
        JS_FreeValue(ctx, v);
    }
    if (pipe2(exec_p, O_CLOEXEC) || (has_in && pipe2(in_p, O_CLOEXEC)) ||
        (!inherit && (pipe2(out_p, O_CLOEXEC) || pipe2(err_p, O_CLOEXEC)))) {
        throw_errno(ctx, "spawn: pipe", av.v[0]);
        goto done;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        throw_errno(ctx, "spawn: fork", av.v[0]);
        goto done;
    }
    if (pid == 0) {
        if (has_in)
            dup2(in_p[0], 0);
        else if (!inherit && (fd = open("/dev/null", O_RDONLY)) >= 0 && fd != 0)
            dup2(fd, 0);
        if (!inherit) {
            dup2(out_p[1], 1);
            dup2(err_p[1], 2);
        }
        for (fd = 3; fd < 1024; fd++)
            if (fd != exec_p[1])
                close(fd);
        signal(SIGPIPE, SIG_DFL);
        if (cwd && chdir(cwd) != 0)
            goto child_fail;
        if (has_env)
            execvpe(av.v[0], av.v, ev.v);
        else
            execvp(av.v[0], av.v);
    child_fail:
        child_errno = errno;
        if (write(exec_p[1], &child_errno, sizeof child_errno) < 0)
            _exit(127);
        _exit(127);
    }
    close(exec_p[1]);
    exec_p[1] = -1;
    /* A program that exits without reading its input must not kill this one. */
    old_pipe = signal(SIGPIPE, SIG_IGN);
    if (has_in) {
        close(in_p[0]);
        in_p[0] = -1;
        fcntl(in_p[1], F_SETFL, O_NONBLOCK);
        if (in.n == 0) {
            close(in_p[1]);
            in_p[1] = -1;
        }
    }
    if (!inherit) {
        close(out_p[1]);
        close(err_p[1]);
        out_p[1] = err_p[1] = -1;
    }
    while (in_p[1] >= 0 || out_p[0] >= 0 || err_p[0] >= 0) {
        struct pollfd pf[3];
        int k = 0, r, i;
        if (in_p[1] >= 0)
            pf[k++] = (struct pollfd){ in_p[1], POLLOUT, 0 };
        if (out_p[0] >= 0)
            pf[k++] = (struct pollfd){ out_p[0], POLLIN, 0 };
        if (err_p[0] >= 0)
            pf[k++] = (struct pollfd){ err_p[0], POLLIN, 0 };
        if (poll(pf, (nfds_t)k, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (i = 0; i < k; i++) {
            if (!pf[i].revents)
                continue;
            if (pf[i].fd == in_p[1]) {
                n = write(in_p[1], in.p + written, in.n - written);
                if (n > 0)
                    written += (size_t)n;
                if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == in.n) {
                    close(in_p[1]);
                    in_p[1] = -1;
                }
                continue;
            }
            r = buf_read(pf[i].fd == out_p[0] ? &out : &err, pf[i].fd);
            if (r == -2) {
                signal(SIGPIPE, old_pipe);
                JS_ThrowOutOfMemory(ctx);
                goto done;
            }
            if (r <= 0) {
                close(pf[i].fd);
                if (pf[i].fd == out_p[0])
                    out_p[0] = -1;
                else
                    err_p[0] = -1;
            }
        }
    }
    signal(SIGPIPE, old_pipe);
    /* The child's exec error, if it got that far. */
    n = read(exec_p[0], &child_errno, sizeof child_errno);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (n == (ssize_t)sizeof child_errno) {
        errno = child_errno;
        throw_errno(ctx, "spawn", av.v[0]);
        goto done;
    }
    ret = JS_NewObject(ctx);
    SET_NUM(ret, "status", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    JS_SetPropertyStr(ctx, ret, "stdout", buf_string(ctx, &out));
    JS_SetPropertyStr(ctx, ret, "stderr", buf_string(ctx, &err));
done:
    for (fd = 0; fd < 2; fd++) {
        if (in_p[fd] >= 0)
            close(in_p[fd]);
        if (out_p[fd] >= 0)
            close(out_p[fd]);
        if (err_p[fd] >= 0)
            close(err_p[fd]);
        if (exec_p[fd] >= 0)
            close(exec_p[fd]);
    }
    free(out.p);
    free(err.p);
    free_bytes(ctx, &in);
    if (cwd)
        JS_FreeCString(ctx, cwd);
    free_strlist(&av);
    free_strlist(&ev);
    return ret;
}

static JSValue js_getpid(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    return JS_NewInt32(ctx, (int32_t)getpid());
}

/* startedAt() -> seconds of CLOCK_BOOTTIME when the runtime's main() began. */
extern double ramstack_started_at;
static JSValue js_started_at(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    return JS_NewFloat64(ctx, ramstack_started_at);
}

/* uptime() -> seconds of CLOCK_BOOTTIME now (what /proc/uptime shows). */
static JSValue js_uptime(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    struct timespec t;
    clock_gettime(CLOCK_BOOTTIME, &t);
    return JS_NewFloat64(ctx, (double)t.tv_sec + (double)t.tv_nsec / 1e9);
}

/* ------------------------------------------------------------------------ */
/* The module                                                               */

#define INT(name) JS_PROP_INT64_DEF(#name, (int64_t)(name), JS_PROP_ENUMERABLE)

static const JSCFunctionListEntry sys_funcs[] = {
    JS_CFUNC_DEF("mount", 5, js_mount),
    JS_CFUNC_DEF("umount2", 2, js_umount2),
    JS_CFUNC_DEF("loopAttach", 2, js_loop_attach),
    JS_CFUNC_DEF("loopDetach", 1, js_loop_detach),
    JS_CFUNC_DEF("loopStatus", 1, js_loop_status),
    JS_CFUNC_DEF("execve", 3, js_execve),
    JS_CFUNC_MAGIC_DEF("chroot", 1, js_path_call, P_CHROOT),
    JS_CFUNC_MAGIC_DEF("chdir", 1, js_path_call, P_CHDIR),
    JS_CFUNC_DEF("reboot", 1, js_reboot),
    JS_CFUNC_DEF("open", 3, js_open),
    JS_CFUNC_MAGIC_DEF("close", 1, js_fd_call, F_CLOSE),
    JS_CFUNC_MAGIC_DEF("fsync", 1, js_fd_call, F_FSYNC),
    JS_CFUNC_MAGIC_DEF("fdatasync", 1, js_fd_call, F_FDATASYNC),
    JS_CFUNC_MAGIC_DEF("syncfs", 1, js_fd_call, F_SYNCFS),
    JS_CFUNC_DEF("sync", 0, js_sync),
    JS_CFUNC_DEF("ftruncate", 2, js_ftruncate),
    JS_CFUNC_DEF("rereadPartitions", 1, js_reread_partitions),
    JS_CFUNC_DEF("ext4Resize", 2, js_ext4_resize),
    JS_CFUNC_DEF("fallocate", 4, js_fallocate),
    JS_CFUNC_DEF("link", 2, js_link),
    JS_CFUNC_DEF("chmod", 2, js_chmod),
    JS_CFUNC_DEF("fchmod", 2, js_fchmod),
    JS_CFUNC_MAGIC_DEF("chown", 3, js_chown, 0),
    JS_CFUNC_MAGIC_DEF("lchown", 3, js_chown, 1),
    JS_CFUNC_DEF("fchown", 3, js_fchown),
    JS_CFUNC_DEF("utimensat", 6, js_utimensat),
    JS_CFUNC_MAGIC_DEF("stat", 1, js_stat, 0),
    JS_CFUNC_MAGIC_DEF("lstat", 1, js_stat, 1),
    JS_CFUNC_DEF("statfs", 1, js_statfs),
    JS_CFUNC_DEF("removeContents", 2, js_remove_contents),
    JS_CFUNC_DEF("finitModule", 2, js_finit_module),
    JS_CFUNC_DEF("aliasMatch", 2, js_alias_match),
    JS_CFUNC_DEF("aliasBuses", 1, js_alias_buses),
    JS_CFUNC_DEF("mknod", 4, js_mknod),
    JS_CFUNC_DEF("lgetxattr", 3, js_lgetxattr),
    JS_CFUNC_DEF("lsetxattr", 4, js_lsetxattr),
    JS_CFUNC_DEF("llistxattr", 1, js_llistxattr),
    JS_CFUNC_DEF("lremovexattr", 2, js_lremovexattr),
    JS_CFUNC_DEF("readLine", 4, js_read_line),
    JS_CFUNC_DEF("utf8Decode", 1, js_utf8_decode),
    JS_CFUNC_DEF("utf8Encode", 1, js_utf8_encode),
    JS_CFUNC_DEF("sha256", 1, js_sha256),
    JS_CFUNC_DEF("spawn", 2, js_spawn),
    JS_CFUNC_DEF("getpid", 0, js_getpid),
    JS_CFUNC_DEF("startedAt", 0, js_started_at),
    JS_CFUNC_DEF("uptime", 0, js_uptime),

    INT(MS_RDONLY), INT(MS_NOSUID), INT(MS_NODEV), INT(MS_NOEXEC), INT(MS_SYNCHRONOUS),
    INT(MS_REMOUNT), INT(MS_MANDLOCK), INT(MS_DIRSYNC), INT(MS_NOATIME), INT(MS_NODIRATIME),
    INT(MS_BIND), INT(MS_MOVE), INT(MS_REC), INT(MS_SILENT), INT(MS_UNBINDABLE),
    INT(MS_PRIVATE), INT(MS_SLAVE), INT(MS_SHARED), INT(MS_RELATIME), INT(MS_STRICTATIME),
    INT(MS_LAZYTIME),
    INT(MNT_FORCE), INT(MNT_DETACH), INT(MNT_EXPIRE), INT(UMOUNT_NOFOLLOW),
    INT(RB_AUTOBOOT), INT(RB_POWER_OFF), INT(RB_HALT_SYSTEM), INT(RB_ENABLE_CAD), INT(RB_DISABLE_CAD),
    INT(O_RDONLY), INT(O_WRONLY), INT(O_RDWR), INT(O_CREAT), INT(O_EXCL), INT(O_TRUNC),
    INT(O_APPEND), INT(O_NONBLOCK), INT(O_NOCTTY), INT(O_DIRECTORY), INT(O_NOFOLLOW),
    INT(O_CLOEXEC), INT(O_SYNC), INT(O_DSYNC), INT(O_PATH), INT(O_NOATIME),
    INT(S_IFMT), INT(S_IFSOCK), INT(S_IFLNK), INT(S_IFREG), INT(S_IFBLK), INT(S_IFDIR),
    INT(S_IFCHR), INT(S_IFIFO),
    INT(XATTR_CREATE), INT(XATTR_REPLACE),
    INT(FALLOC_FL_KEEP_SIZE), INT(FALLOC_FL_PUNCH_HOLE),
    INT(UTIME_NOW), INT(UTIME_OMIT),
};

static int sys_init(JSContext *ctx, JSModuleDef *m)
{
    return JS_SetModuleExportList(ctx, m, sys_funcs, countof(sys_funcs));
}

JSModuleDef *js_init_module_ramstack_sys(JSContext *ctx, const char *module_name)
{
    JSModuleDef *m = JS_NewCModule(ctx, module_name, sys_init);
    if (!m)
        return NULL;
    if (JS_AddModuleExportList(ctx, m, sys_funcs, countof(sys_funcs)) != 0)
        return NULL;
    return m;
}
