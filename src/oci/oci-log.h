/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* What boxctl-oci tells its engine: one line on stderr for each error, and,
 * with --log FILE, the same in that file, as text or as JSON lines
 * ({"level":"error","msg":...,"time":...}: engines read the last error from
 * it). Only main() and the verbs log; the modules return -errno and words. */

typedef enum OciLogFormat {
        OCI_LOG_TEXT,
        OCI_LOG_JSON,
        _OCI_LOG_FORMAT_MAX,
        _OCI_LOG_FORMAT_INVALID = -EINVAL,
} OciLogFormat;

OciLogFormat oci_log_format_from_string(const char *s) _pure_;
const char *oci_log_format_to_string(OciLogFormat f) _pure_;

/* PATH may be NULL (stderr only). */
int oci_log_open(const char *path, OciLogFormat format, bool debug);
void oci_log_close(void);

/* Returns -abs(error) (or -EINVAL for 0), so "return oci_error(r, ...)" works. */
int oci_error(int error, const char *fmt, ...) _printf_(2, 3);
/* Something that failed and did not stop the verb (a poststart or poststop hook). */
void oci_warn(const char *fmt, ...) _printf_(1, 2);
void oci_debug(const char *fmt, ...) _printf_(1, 2);
