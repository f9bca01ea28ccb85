/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>

#include "process-util.h"
#include "util.h"

int pid_starttime(pid_t pid, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        char path[64], *p;
        unsigned long long v;
        int r;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        r = read_file_at(AT_FDCWD, path, 4096, &s);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        /* The command name may hold anything, parentheses too: skip past the last ')'. */
        p = strrchr(s, ')');
        if (!p)
                return -EIO;
        /* Field 3 (state) follows; starttime is field 22. */
        p++;
        for (int field = 3; field < 22; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EIO;
        }
        if (sscanf(p, " %llu", &v) != 1)
                return -EIO;
        *ret = v;
        return 0;
}

int pid_cgroup2_path(pid_t pid, char **ret) {
        _cleanup_free_ char *s = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof path, "/proc/%d/cgroup", (int) pid);
        r = read_file_at(AT_FDCWD, path, 64 * 1024, &s);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        for (char *l = s; l && *l;) {
                char *e = strchrnul(l, '\n');
                bool more = *e != '\0';

                *e = '\0';
                if (startswith(l, "0::")) {
                        char *c = strdup(l + 3);

                        if (!c)
                                return -ENOMEM;
                        *ret = c;
                        return 0;
                }
                l = more ? e + 1 : NULL;
        }
        return -ENODATA;
}
