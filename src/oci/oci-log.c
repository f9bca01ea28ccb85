/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "oci-log.h"
#include "util.h"

static const char *const format_table[_OCI_LOG_FORMAT_MAX] = {
        [OCI_LOG_TEXT] = "text",
        [OCI_LOG_JSON] = "json",
};

static FILE *log_file;
static OciLogFormat log_format = OCI_LOG_TEXT;
static bool log_debug_on;

OciLogFormat oci_log_format_from_string(const char *s) {
        for (int i = 0; s && i < _OCI_LOG_FORMAT_MAX; i++)
                if (streq(s, format_table[i]))
                        return i;
        return _OCI_LOG_FORMAT_INVALID;
}

const char *oci_log_format_to_string(OciLogFormat f) {
        return f >= 0 && f < _OCI_LOG_FORMAT_MAX ? format_table[f] : NULL;
}

int oci_log_open(const char *path, OciLogFormat format, bool debug) {
        log_format = format;
        log_debug_on = debug;
        if (!path)
                return 0;
        log_file = fopen(path, "ae");
        return log_file ? 0 : -errno;
}

void oci_log_close(void) {
        if (log_file)
                fclose(log_file);
        log_file = NULL;
}

static void log_to_file(const char *level, const char *msg) {
        char stamp[64];
        struct timespec ts;
        struct tm tm;

        if (!log_file)
                return;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(stamp + strlen(stamp), sizeof stamp - strlen(stamp), ".%09ldZ", ts.tv_nsec);
        if (log_format == OCI_LOG_JSON) {
                json_object *o = json_object_new_object();

                json_object_object_add(o, "level", json_object_new_string(level));
                json_object_object_add(o, "msg", json_object_new_string(msg));
                json_object_object_add(o, "time", json_object_new_string(stamp));
                fprintf(log_file, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(o);
        } else
                fprintf(log_file, "time=\"%s\" level=%s msg=\"%s\"\n", stamp, level, msg);
        fflush(log_file);
}

int oci_error(int error, const char *fmt, ...) {
        char msg[2048];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "boxctl-oci: %s\n", msg);
        log_to_file("error", msg);
        if (error == 0)
                return -EINVAL;
        return error < 0 ? error : -error;
}

void oci_warn(const char *fmt, ...) {
        char msg[2048];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "boxctl-oci: warning: %s\n", msg);
        log_to_file("warning", msg);
}

void oci_debug(const char *fmt, ...) {
        char msg[2048];
        va_list ap;

        if (!log_debug_on)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (log_file)
                log_to_file("debug", msg);
        else
                fprintf(stderr, "boxctl-oci: %s\n", msg);
}
