/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static int max_level = LOG_INFO;
static const char *program = "boxctl";

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

void log_set_program(const char *name) {
        program = name;
}

void log_parse_environment(void) {
        const char *e = getenv("BOXCTL_LOG_LEVEL");

        if (!e)
                return;
        if (streq(e, "debug"))
                max_level = LOG_DEBUG;
        else if (streq(e, "info"))
                max_level = LOG_INFO;
        else if (streq(e, "notice"))
                max_level = LOG_NOTICE;
        else if (streq(e, "warning"))
                max_level = LOG_WARNING;
        else if (streq(e, "err") || streq(e, "error"))
                max_level = LOG_ERR;
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;

        if (level > max_level) {
                errno = saved;
                return -error;
        }

        /* %m in the format prints the error we were handed, not whatever errno is now. */
        errno = error;
        fputs(program, stderr);
        fputs(": ", stderr);
        if (max_level >= LOG_DEBUG && level >= LOG_DEBUG)
                fprintf(stderr, "(%s:%d %s) ", file, line, func);
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
        fputc('\n', stderr);

        errno = saved;
        return -error;
}
