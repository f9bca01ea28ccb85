/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci-hooks.h"
#include "util.h"

static const char *const hook_kind_table[_OCI_HOOK_KIND_MAX] = {
        [OCI_HOOK_PRESTART] = "prestart",
        [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
        [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
        [OCI_HOOK_START_CONTAINER] = "startContainer",
        [OCI_HOOK_POSTSTART] = "poststart",
        [OCI_HOOK_POSTSTOP] = "poststop",
};

const char *oci_hook_kind_to_string(OciHookKind k) {
        return k >= 0 && k < _OCI_HOOK_KIND_MAX ? hook_kind_table[k] : NULL;
}

OciHookKind oci_hook_kind_from_string(const char *s) {
        for (int k = 0; s && k < _OCI_HOOK_KIND_MAX; k++)
                if (streq(s, hook_kind_table[k]))
                        return k;
        return _OCI_HOOK_KIND_INVALID;
}

void oci_hooks_done(OciHooks *h) {
        for (int k = 0; k < _OCI_HOOK_KIND_MAX; k++) {
                for (size_t i = 0; i < h->n[k]; i++) {
                        free(h->hooks[k][i].path);
                        strv_freep(&h->hooks[k][i].args);
                        strv_freep(&h->hooks[k][i].env);
                }
                free(h->hooks[k]);
        }
        free(h->json);
        *h = (OciHooks) {};
}

static int parse_strv(json_object *hook, const char *key, const char *where, char ***ret, char **ret_error) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *v;

        if (!json_object_object_get_ex(hook, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, json_type_array))
                return error_set(ret_error, -EINVAL, "%s.%s: not an array", where, key);
        for (size_t i = 0; i < json_object_array_length(v); i++) {
                json_object *e = json_object_array_get_idx(v, i);

                if (!json_object_is_type(e, json_type_string))
                        return error_set(ret_error, -EINVAL, "%s.%s[%zu]: not a string", where, key, i);
                if (strv_push_dup(&l, json_object_get_string(e)) < 0)
                        return -ENOMEM;
        }
        if (!l)
                l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 1;
}

static int parse_hook(json_object *o, const char *where, OciHook *h, char **ret_error) {
        json_object *v;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return error_set(ret_error, -EINVAL, "%s: not an object", where);
        if (!json_object_object_get_ex(o, "path", &v) || !v)
                return error_set(ret_error, -EINVAL, "%s.path: missing", where);
        if (!json_object_is_type(v, json_type_string))
                return error_set(ret_error, -EINVAL, "%s.path: not a string", where);
        if (!path_is_absolute(json_object_get_string(v)))
                return error_set(ret_error, -EINVAL, "%s.path: %s is not an absolute path", where, json_object_get_string(v));
        h->path = strdup(json_object_get_string(v));
        if (!h->path)
                return -ENOMEM;
        r = parse_strv(o, "args", where, &h->args, ret_error);
        if (r >= 0)
                r = parse_strv(o, "env", where, &h->env, ret_error);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(o, "timeout", &v) && v) {
                int64_t t;

                if (!json_object_is_type(v, json_type_int))
                        return error_set(ret_error, -EINVAL, "%s.timeout: not an integer", where);
                t = json_object_get_int64(v);
                /* "Timeout MUST be greater than zero." */
                if (t <= 0 || t > 24 * 3600)
                        return error_set(ret_error, -ERANGE, "%s.timeout: %" PRIi64 " is not a number of seconds above 0 (at most a day)",
                                         where, t);
                h->timeout = (int) t;
        }
        return 0;
}

int oci_hooks_parse(json_object *hooks, OciHooks *ret, char **ret_error) {
        OciHooks h = {};
        int r = 0;

        *ret = (OciHooks) {};
        if (!hooks)
                return 0;
        if (!json_object_is_type(hooks, json_type_object))
                return error_set(ret_error, -EINVAL, "hooks: not an object");
        for (int k = 0; r >= 0 && k < _OCI_HOOK_KIND_MAX; k++) {
                json_object *a;
                size_t n;

                if (!json_object_object_get_ex(hooks, hook_kind_table[k], &a) || !a)
                        continue;
                if (!json_object_is_type(a, json_type_array)) {
                        r = error_set(ret_error, -EINVAL, "hooks.%s: not an array", hook_kind_table[k]);
                        break;
                }
                n = json_object_array_length(a);
                if (n == 0)
                        continue;
                h.hooks[k] = calloc(n, sizeof(OciHook));
                if (!h.hooks[k]) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        char where[64];

                        snprintf(where, sizeof where, "hooks.%s[%zu]", hook_kind_table[k], i);
                        h.n[k]++;
                        r = parse_hook(json_object_array_get_idx(a, i), where, &h.hooks[k][i], ret_error);
                }
        }
        if (r >= 0) {
                h.json = strdup(json_object_to_json_string_ext(hooks, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                if (!h.json)
                        r = -ENOMEM;
        }
        if (r < 0) {
                oci_hooks_done(&h);
                return r;
        }
        *ret = h;
        return 0;
}

int oci_hooks_parse_text(const char *text, OciHooks *ret, char **ret_error) {
        json_object *o = json_tokener_parse(text);
        int r;

        if (!o)
                return error_set(ret_error, -EINVAL, "hooks: not valid JSON");
        r = oci_hooks_parse(o, ret, ret_error);
        json_object_put(o);
        return r;
}

int oci_hooks_check(const OciHooks *h, char **ret_error) {
        for (int k = 0; k < _OCI_HOOK_KIND_MAX; k++) {
                if (k == OCI_HOOK_START_CONTAINER)
                        continue; /* resolved in the container, which does not exist yet */
                for (size_t i = 0; i < h->n[k]; i++) {
                        const char *p = h->hooks[k][i].path;
                        struct stat st;

                        if (stat(p, &st) < 0)
                                return error_set(ret_error, -errno, "hooks.%s[%zu].path: %s: %s", hook_kind_table[k], i, p,
                                                 strerror(errno));
                        if (!S_ISREG(st.st_mode))
                                return error_set(ret_error, -EACCES, "hooks.%s[%zu].path: %s is not a regular file",
                                                 hook_kind_table[k], i, p);
                        if (access(p, X_OK) < 0)
                                return error_set(ret_error, -errno, "hooks.%s[%zu].path: %s is not executable: %s",
                                                 hook_kind_table[k], i, p, strerror(errno));
                }
        }
        return 0;
}

static _noreturn_ void hook_exec(const OciHook *h, int stdin_fd) {
        extern char **environ;
        char *path_only[] = { h->path, NULL };
        sigset_t none;

        /* The runtime's and the init's blocked signals are not the hook's. */
        for (int sig = 1; sig < _NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        if (dup2(stdin_fd, STDIN_FILENO) < 0)
                _exit(126);
        execve(h->path, h->args && h->args[0] ? h->args : path_only, h->env ?: environ);
        fprintf(stderr, "boxctl-oci: hook %s: %s\n", h->path, strerror(errno));
        _exit(127);
}

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feeds STATE to the hook while it runs and waits for its end, up to its timeout. */
static int hook_wait(const OciHook *h, pid_t pid, int pidfd, int pipe_fd, const char *state, int *ret_status) {
        size_t left = strlen(state);
        int64_t deadline = h->timeout > 0 ? now_ms() + (int64_t) h->timeout * 1000 : -1;

        for (;;) {
                struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = pipe_fd, .events = POLLOUT } };
                int64_t wait = deadline < 0 ? -1 : deadline - now_ms();

                if (deadline >= 0 && wait <= 0) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, NULL, 0);
                        return -ETIME;
                }
                if (poll(p, pipe_fd >= 0 ? 2 : 1, (int) (wait < 0 ? -1 : wait > INT32_MAX ? INT32_MAX : wait)) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (pipe_fd >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
                        ssize_t n = write(pipe_fd, state, left);

                        if (n > 0) {
                                state += n;
                                left -= (size_t) n;
                        }
                        /* Written, or the hook does not read it (EPIPE): its stdin ends. */
                        if (left == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                                pipe_fd = safe_close(pipe_fd);
                }
                if (p[0].revents & POLLIN) {
                        safe_close(pipe_fd);
                        if (waitpid(pid, ret_status, 0) < 0)
                                return -errno;
                        return 0;
                }
        }
}

int oci_hook_run(const OciHooks *hs, OciHookKind kind, size_t index, const char *state, char *error, size_t size) {
        const OciHook *h = &hs->hooks[kind][index];
        _cleanup_close_pair_ int p[2] = { -EBADF, -EBADF };
        _cleanup_close_ int pidfd = -EBADF;
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        int status = 0, r;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                goto fail_errno;
        if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0)
                goto fail_errno;
        pid = fork();
        if (pid < 0)
                goto fail_errno;
        if (pid == 0)
                hook_exec(h, p[0]);
        p[0] = safe_close(p[0]);
        pidfd = pidfd_open(pid, 0);
        if (pidfd < 0) {
                r = -errno;
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                snprintf(error, size, "hooks.%s[%zu] (%s): cannot watch it: %s", hook_kind_table[kind], index, h->path, strerror(-r));
                return r;
        }
        /* A hook that does not read its stdin must not kill us with SIGPIPE. */
        (void) sigaction(SIGPIPE, &ign, &old);
        r = hook_wait(h, pid, pidfd, TAKE_FD(p[1]), state, &status);
        (void) sigaction(SIGPIPE, &old, NULL);
        if (r == -ETIME) {
                snprintf(error, size, "hooks.%s[%zu] (%s): timed out after %d s; killed it", hook_kind_table[kind], index, h->path,
                         h->timeout);
                return r;
        }
        if (r < 0) {
                snprintf(error, size, "hooks.%s[%zu] (%s): %s", hook_kind_table[kind], index, h->path, strerror(-r));
                return r;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status))
                snprintf(error, size, "hooks.%s[%zu] (%s): exit status %d", hook_kind_table[kind], index, h->path, WEXITSTATUS(status));
        else
                snprintf(error, size, "hooks.%s[%zu] (%s): killed by signal %d", hook_kind_table[kind], index, h->path,
                         WTERMSIG(status));
        return -EPROTO;

fail_errno:
        r = -errno;
        snprintf(error, size, "hooks.%s[%zu] (%s): cannot run it: %s", hook_kind_table[kind], index, h->path, strerror(-r));
        return r;
}

int oci_hooks_run(const OciHooks *h, OciHookKind kind, const char *state, char *error, size_t size) {
        for (size_t i = 0; i < h->n[kind]; i++) {
                int r = oci_hook_run(h, kind, i, state, error, size);

                if (r < 0)
                        return r;
        }
        return 0;
}
