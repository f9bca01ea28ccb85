/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What status and list show of a running machine's use of memory, CPU,
 * tasks and IO (verb-usage.c), read by the core (cgroup-usage.h). */

#include "cgroup-usage.h"
#include "verb-machines.h"

/* From the cgroups of MI's leader. Without root, only what cgroup2 counts
 * (the v1 hierarchies must be mounted to be read). */
int machine_usage_read(const MachineInfo *mi, CgroupUsage *ret);
/* ,"memory_current":N,... for a JSON object; null for what is not known. */
void usage_print_json_fields(const CgroupUsage *u);
/* 1023B, 1.0K, 64.0M: a size as systemctl status shows one, in BUF of N bytes. */
const char *usage_format_bytes(char *buf, size_t n, uint64_t v);
/* The status lines: Memory, CPU, Tasks, IO. */
void usage_print_status(const CgroupUsage *u);
/* A JSON string, or null for NULL. */
void usage_print_json_string(const char *s);
