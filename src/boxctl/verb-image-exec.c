/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The verbs boxctl leaves to boxctl-image (image-main.c says why): run it
 * with the same arguments. It is looked for as $BOXCTL_IMAGE_HELPER, then
 * beside this boxctl (a build tree), then in the libexec directory boxctl
 * was built for. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "verbs.h"

static int find_helper(char *buf, size_t size) {
        const char *e = getenv("BOXCTL_IMAGE_HELPER");
        char self[PATH_MAX];
        ssize_t n;

        if (e && *e) {
                snprintf(buf, size, "%s", e);
                return access(buf, X_OK) < 0 ? -errno : 0;
        }
        n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
                char *slash;

                self[n] = '\0';
                slash = strrchr(self, '/');
                if (slash && (size_t) (slash - self) + sizeof "/boxctl-image" <= size) {
                        memcpy(buf, self, (size_t) (slash - self));
                        strcpy(buf + (slash - self), "/boxctl-image");
                        if (access(buf, X_OK) >= 0)
                                return 0;
                }
        }
        snprintf(buf, size, "%s/boxctl-image", BOXCTL_LIBEXECDIR);
        return access(buf, X_OK) < 0 ? -errno : 0;
}

int verb_image_helper(int argc, char *argv[]) {
        char path[PATH_MAX];
        char **args;
        int r;

        r = find_helper(path, sizeof path);
        if (r < 0)
                return log_error_errno(r, "%s: cannot run %s, which does it: %m (is boxctl installed whole?)", argv[0],
                                       path), 1;
        args = calloc((size_t) argc + 2, sizeof *args);
        if (!args)
                return log_oom(), 1;
        args[0] = (char *) "boxctl";
        for (int i = 0; i < argc; i++)
                args[i + 1] = argv[i];
        execv(path, args);
        r = -errno;
        free(args);
        return log_error_errno(r, "%s: cannot run %s: %m", argv[0], path), 1;
}
