/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "host-limits.h"
#include "macro.h"
#include "util.h"

static unsigned read_unsigned(const char *path) {
        _cleanup_free_ char *s = NULL;

        if (read_file_at(AT_FDCWD, path, 64, &s) < 0)
                return 0;
        return (unsigned) strtoul(s, NULL, 10);
}

int host_limits_inotify_free(unsigned want, unsigned *ret_free, unsigned *ret_limit) {
        int fds[64];
        unsigned n = 0;
        int r = 0;

        want = MIN(want, (unsigned) ELEMENTSOF(fds));
        while (n < want) {
                int fd = inotify_init1(IN_CLOEXEC);

                if (fd < 0) {
                        /* EMFILE is the per-user count of instances (or our own fd limit,
                         * which a supervisor with a handful of fds is far from). */
                        if (errno != EMFILE)
                                r = -errno;
                        break;
                }
                fds[n++] = fd;
        }
        for (unsigned i = 0; i < n; i++)
                safe_close(fds[i]);
        if (r < 0)
                return r;
        *ret_free = n;
        if (ret_limit)
                *ret_limit = read_unsigned("/proc/sys/fs/inotify/max_user_instances");
        return 0;
}

char *host_limits_inotify_message(const char *machine, unsigned need, unsigned free_count, unsigned limit) {
        char *s = NULL;
        char lim[32] = "its limit";
        unsigned suggest = MAX(8192U, 2 * limit);

        if (limit > 0)
                snprintf(lim, sizeof lim, "%u", limit);
        if (asprintf(&s,
                     "machine %s: the host's inotify instances are %s (%u free of fs.inotify.max_user_instances=%s, "
                     "which all machines share, even under -U; a systemd machine needs %u); raise it with "
                     "'sysctl -w fs.inotify.max_user_instances=%u' (boxctl's sysctl.d file 50-boxctl.conf sets 8192)",
                     machine, free_count == 0 ? "used up" : "nearly used up", free_count, lim, need, suggest) < 0)
                return NULL;
        return s;
}
