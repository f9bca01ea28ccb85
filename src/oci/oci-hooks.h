/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "macro.h"

/* config.json's "hooks" (runtime-spec config.md, POSIX-platform Hooks): each
 * {path, args, env, timeout}, run with the container's state on stdin. When
 * each kind runs, and in which namespaces (runtime.md, Lifecycle):
 *
 *   prestart, createRuntime  create, in the runtime's namespaces, once the
 *                            container's exist (status "creating")
 *   createContainer          create, in the container's namespaces, before
 *                            its root is switched (status "creating", pid 1)
 *   startContainer           start, in the container, just before the
 *                            process is executed (status "created", pid 1)
 *   poststart                start, once the process runs (status "running")
 *   poststop                 delete, once the container is gone
 *
 * A failing hook of the first four fails its verb; a failing poststart or
 * poststop hook is a warning, and the rest still run. */

typedef enum OciHookKind {
        OCI_HOOK_PRESTART,
        OCI_HOOK_CREATE_RUNTIME,
        OCI_HOOK_CREATE_CONTAINER,
        OCI_HOOK_START_CONTAINER,
        OCI_HOOK_POSTSTART,
        OCI_HOOK_POSTSTOP,
        _OCI_HOOK_KIND_MAX,
        _OCI_HOOK_KIND_INVALID = -EINVAL,
} OciHookKind;

typedef struct OciHook {
        char *path;
        char **args; /* argv, args[0] included; NULL: the path alone */
        char **env;  /* NULL: the runtime's own environment */
        int timeout; /* seconds; 0: none */
} OciHook;

typedef struct OciHooks {
        OciHook *hooks[_OCI_HOOK_KIND_MAX];
        size_t n[_OCI_HOOK_KIND_MAX];
        char *json; /* the "hooks" object as text, for the state directory; NULL: none */
} OciHooks;

#define OCI_HOOKS_FILE "hooks.json"

const char *oci_hook_kind_to_string(OciHookKind k) _pure_;
OciHookKind oci_hook_kind_from_string(const char *s) _pure_;

void oci_hooks_done(OciHooks *h);

/* HOOKS is config.json's "hooks" (NULL: none). Errors name the JSON path. */
int oci_hooks_parse(json_object *hooks, OciHooks *ret, char **ret_error);
int oci_hooks_parse_text(const char *text, OciHooks *ret, char **ret_error);

/* Each hook whose path the runtime resolves (all but startContainer's, which
 * is the container's) is an executable file: -errno and the JSON path if not. */
int oci_hooks_check(const OciHooks *h, char **ret_error);

/* Runs hook INDEX of KIND with STATE on its stdin, waits for it (killed after
 * its timeout). Fit for the container's init too: no allocation, the words
 * in ERROR. */
int oci_hook_run(const OciHooks *h, OciHookKind kind, size_t index, const char *state, char *error, size_t size);
/* All hooks of KIND in order, up to the first that fails. */
int oci_hooks_run(const OciHooks *h, OciHookKind kind, const char *state, char *error, size_t size);
