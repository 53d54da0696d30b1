/*
 * The ramstack JavaScript runtime's entry: QuickJS with std, os and
 * ramstack:sys, running one ES module.
 *
 *     ramstack-js [--] script.js [args...]   run script.js as an ES module
 *     ramstack-js -e 'source' [args...]      run the source as an ES module
 *     ramstack-js -c script.js out.qbc       compile to bytecode, do not run
 *     ramstack-js out.qbc [args...]          run compiled bytecode
 *
 * scriptArgs is [script, ...args] (as in qjs). The exit status is 1 when the
 * module throws while it is evaluated, otherwise 0 unless the script calls
 * std.exit(). qjs's own main is not used: it sniffs "module or script" from
 * the text, has a REPL and qjscalc compiled in (which need a host qjsc to
 * build, a nuisance when cross-compiling), and offers no way to add a C
 * module; this one always runs a module and registers ramstack:sys.
 *
 * Bytecode skips the parse: a 340 KB bundle starts in ~9 ms instead of ~46 ms
 * on the host (the parse dominates, and an emulated CPU multiplies it). It
 * must come from this same build (same QuickJS version and configuration);
 * the .qbc name, not the content, says which a file is, as a source file may
 * begin with any byte.
 *
 * Unhandled promise rejections are printed (track_rejection): in an init a
 * failure that nobody sees is the worst kind.
 *
 * In the initrd this binary is /init itself: started by the kernel as PID 1
 * under that name, it runs the init's bytecode (RAMSTACK_INIT_BYTECODE),
 * with the kernel's arguments after it in scriptArgs. A shell script in
 * between would cost a process start, and busybox's shell translated anew,
 * which an emulated CPU pays for. The build puts /init first in the
 * archive and the end marker last: a kernel that runs out of RAM while it
 * unpacks has /init whole, and /init says what happened (pid1_incomplete).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* From the build (src/build/quickjs.ts), which takes them from the initrd's own constants. */
#if !defined(RAMSTACK_INIT_BYTECODE) || !defined(RAMSTACK_INITRD_END) || !defined(RAMSTACK_INITRD_RAM_MIB)
#error "RAMSTACK_INIT_BYTECODE, RAMSTACK_INITRD_END and RAMSTACK_INITRD_RAM_MIB come from the build"
#endif

#include "quickjs-libc.h"
#include "quickjs.h"

JSModuleDef *js_init_module_ramstack_sys(JSContext *ctx, const char *module_name);

/* CLOCK_BOOTTIME when main() began, in seconds: sys.startedAt() (PID 1's own
 * start time in /proc is the kernel's, from before it ran /init). */
double ramstack_started_at;

/*
 * Unhandled promise rejections, reported once the jobs queued when they
 * happened have run: `init.boot().catch(...)` attaches its handler just after
 * the async call has already rejected, which QuickJS's own tracker would
 * report as unhandled. What is still unhandled then is printed with its stack.
 */
typedef struct Rejection {
    JSValue promise, reason;
    struct Rejection *next;
} Rejection;
static Rejection *rejections;

static void print_error(JSContext *ctx, JSValueConst e)
{
    const char *text = JS_ToCString(ctx, e), *stack = NULL;
    JSValue st = JS_UNDEFINED;
    if (JS_IsError(ctx, e)) {
        st = JS_GetPropertyStr(ctx, e, "stack");
        if (!JS_IsUndefined(st))
            stack = JS_ToCString(ctx, st);
    }
    fprintf(stderr, "Unhandled promise rejection: %s\n%s", text ? text : "?", stack ? stack : "");
    fflush(stderr);
    if (stack)
        JS_FreeCString(ctx, stack);
    if (text)
        JS_FreeCString(ctx, text);
    JS_FreeValue(ctx, st);
}

static JSValue report_rejections(JSContext *ctx, int argc, JSValueConst *argv)
{
    Rejection *r;
    while ((r = rejections)) {
        rejections = r->next;
        print_error(ctx, r->reason);
        JS_FreeValue(ctx, r->promise);
        JS_FreeValue(ctx, r->reason);
        free(r);
    }
    return JS_UNDEFINED;
}

static void track_rejection(JSContext *ctx, JSValueConst promise, JSValueConst reason, JS_BOOL is_handled,
                            void *opaque)
{
    Rejection **p, *r;
    if (is_handled) {
        for (p = &rejections; *p; p = &(*p)->next) {
            if (JS_VALUE_GET_PTR((*p)->promise) == JS_VALUE_GET_PTR(promise)) {
                r = *p;
                *p = r->next;
                JS_FreeValue(ctx, r->promise);
                JS_FreeValue(ctx, r->reason);
                free(r);
                return;
            }
        }
        return;
    }
    r = malloc(sizeof *r);
    if (!r)
        return;
    r->promise = JS_DupValue(ctx, promise);
    r->reason = JS_DupValue(ctx, reason);
    r->next = rejections;
    rejections = r;
    JS_EnqueueJob(ctx, report_rejections, 0, NULL);
}

/* Also the context of every os.Worker, which should see the same modules. */
static JSContext *new_context(JSRuntime *rt)
{
    JSContext *ctx = JS_NewContext(rt);
    if (!ctx)
        return NULL;
    js_init_module_std(ctx, "std");
    js_init_module_os(ctx, "os");
    js_init_module_ramstack_sys(ctx, "ramstack:sys");
    return ctx;
}

/* Compiles then runs, as qjs does, so import.meta.url is set first. */
static int run_module(JSContext *ctx, const char *src, size_t len, const char *name)
{
    JSValue v = JS_Eval(ctx, src, len, name, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    if (!JS_IsException(v)) {
        js_module_set_import_meta(ctx, v, 1, 1);
        v = JS_EvalFunction(ctx, v);
    }
    if (JS_IsException(v)) {
        js_std_dump_error(ctx);
        return -1;
    }
    JS_FreeValue(ctx, v);
    return 0;
}

/*
 * The kernel drops, without a word, the part of the initrd that does not
 * fit in RAM: without the end marker the init's files may be cut short.
 * Say so, with the RAM there is and the RAM needed, and leave a shell
 * (busybox comes early in the archive); PID 1 must never exit.
 */
static void pid1_incomplete(void)
{
    struct sysinfo si;
    struct utsname u;
    unsigned long long mib = 0;

    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    if (sysinfo(&si) == 0)
        mib = (unsigned long long)si.totalram * si.mem_unit >> 20;
    printf("ramstack: the initrd was not unpacked whole, so the init's files are incomplete (kernel %s); a shell "
           "follows\n",
           uname(&u) == 0 ? u.release : "?");
    printf("ramstack: this machine has %llu MiB of RAM; unpacking the initrd needs about %d MiB\n", mib,
           RAMSTACK_INITRD_RAM_MIB);
    fflush(stdout);
    setenv("PATH", "/bin:/sbin", 1);
    execl("/bin/busybox", "sh", (char *)NULL);
    perror("ramstack: no shell either: /bin/busybox");
    for (;;)
        pause();
}

static void usage(void)
{
    fprintf(stderr, "usage: ramstack-js script.js|script.qbc [args...]\n"
                    "       ramstack-js -e 'module source' [args...]\n"
                    "       ramstack-js -c script.js out.qbc\n");
    exit(2);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Compiles a module to bytecode without running it (-c). */
static int compile_module(JSContext *ctx, const char *in, const char *out)
{
    size_t len, olen;
    uint8_t *buf = js_load_file(ctx, &len, in), *obj;
    JSValue v;
    FILE *f;

    if (!buf) {
        perror(in);
        return 2;
    }
    v = JS_Eval(ctx, (const char *)buf, len, in, JS_EVAL_TYPE_MODULE | JS_EVAL_FLAG_COMPILE_ONLY);
    js_free(ctx, buf);
    if (JS_IsException(v)) {
        js_std_dump_error(ctx);
        return 1;
    }
    obj = JS_WriteObject(ctx, &olen, v, JS_WRITE_OBJ_BYTECODE);
    JS_FreeValue(ctx, v);
    if (!obj) {
        js_std_dump_error(ctx);
        return 1;
    }
    f = fopen(out, "wb");
    if (!f || fwrite(obj, 1, olen, f) != olen || fclose(f) != 0) {
        perror(out);
        return 2;
    }
    js_free(ctx, obj);
    return 0;
}

int main(int argc, char **argv)
{
    JSRuntime *rt;
    JSContext *ctx;
    const char *expr = NULL, *file;
    uint8_t *buf;
    size_t len;
    int i = 1, status, compile = 0;
    struct timespec t;

    clock_gettime(CLOCK_BOOTTIME, &t);
    ramstack_started_at = (double)t.tv_sec + (double)t.tv_nsec / 1e9;

    if (getpid() == 1 && argc >= 1 && !strcmp(argv[0], "/init")) {
        /* argv[0] becomes the bytecode, as if started as `ramstack-js INIT_BYTECODE ARGS...`. */
        if (access(RAMSTACK_INITRD_END, F_OK) != 0)
            pid1_incomplete();
        argv[0] = RAMSTACK_INIT_BYTECODE;
        i = 0;
    } else if (i < argc && !strcmp(argv[i], "-c")) {
        if (argc != 4)
            usage();
        compile = 1;
    } else if (i < argc && !strcmp(argv[i], "-e")) {
        if (i + 1 >= argc)
            usage();
        expr = argv[i + 1];
        i += 2;
    } else if (i < argc && !strcmp(argv[i], "--")) {
        i++;
    }
    if (!expr && i >= argc)
        usage();
    if (!expr && !compile && argv[i][0] == '-' && argv[i][1] != '\0')
        usage();

    rt = JS_NewRuntime();
    if (!rt) {
        fprintf(stderr, "ramstack-js: cannot allocate the JS runtime\n");
        return 2;
    }
    js_std_set_worker_new_context_func(new_context);
    js_std_init_handlers(rt);
    ctx = new_context(rt);
    if (!ctx) {
        fprintf(stderr, "ramstack-js: cannot allocate the JS context\n");
        return 2;
    }
    JS_SetModuleLoaderFunc(rt, NULL, js_module_loader, NULL);
    JS_SetHostPromiseRejectionTracker(rt, track_rejection, NULL);

    if (compile)
        return compile_module(ctx, argv[2], argv[3]);
    if (expr) {
        /* scriptArgs[0] names the source, as a file name would. */
        argv[i - 1] = "<cmdline>";
        js_std_add_helpers(ctx, argc - (i - 1), argv + (i - 1));
        status = run_module(ctx, expr, strlen(expr), "<cmdline>");
    } else {
        file = argv[i];
        js_std_add_helpers(ctx, argc - i, argv + i);
        buf = js_load_file(ctx, &len, file);
        if (!buf) {
            perror(file);
            return 2;
        }
        if (has_suffix(file, ".qbc")) {
            /* Exits with status 1 itself when the module throws. */
            js_std_eval_binary(ctx, buf, len, 0);
            status = 0;
        } else {
            status = run_module(ctx, (const char *)buf, len, file);
        }
        js_free(ctx, buf);
    }
    if (status == 0)
        js_std_loop(ctx);

    js_std_free_handlers(rt);
    JS_FreeContext(ctx);
    JS_FreeRuntime(rt);
    return status == 0 ? 0 : 1;
}
