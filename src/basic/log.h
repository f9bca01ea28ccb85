/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <syslog.h>

#include "macro.h"

/* How errors travel (STYLE.md, habits 2, 3 and 13):
 *
 * - Within one process a function returns -errno (an errno we make up too:
 *   -EINVAL, -EBUSY, ...) and its caller logs once, with log_error_errno(r,
 *   "what failed, on which object: %m"), and goes on or returns r. Nobody
 *   logs the same failure twice on its way up.
 * - Library code (libbasic, libcore, libregistry) does not print above debug
 *   level, and never to stdout or stderr directly: the caller that decides
 *   prints. A helper that knows more than errno can say (the verifier's log,
 *   which partition) hands the words out with a ret_error parameter filled by
 *   error_set() (util.h); the caller prints them in its one line.
 * - Where error text must cross a process boundary (the payload to the
 *   supervisor over the sync socket, boxd to a client over the bus) it
 *   travels as errno plus text: error_set() on the sending side, a
 *   sd_bus_error on the bus; the receiving side logs it once.
 *
 * Messages go to stderr prefixed with the program name. */

void log_set_max_level(int level);
int log_get_max_level(void);
void log_set_program(const char *name);
void log_parse_environment(void);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)

/* These return -abs(error), so "return log_error_errno(r, ...)" works. %m prints error. */
#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...) log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, (error), __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "Out of memory.")
