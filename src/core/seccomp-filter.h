/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* In the payload, before exec: refuse, with EPERM, the few system calls that
 * reach past a machine's namespaces even with the capabilities it keeps.
 * Everything else is allowed; the bounding set does the rest. */
int seccomp_apply_machine_filter(void);
