/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "macro.h"

/* Which init a machine runs decides how we ask it to power off or reboot:
 * each family listens to different signals. */
typedef enum InitKind {
        INIT_SYSTEMD,  /* SIGRTMIN+4 poweroff, SIGRTMIN+5 reboot (systemd(1), "SIGNALS") */
        INIT_BUSYBOX,  /* SIGUSR2 poweroff, SIGTERM reboot (busybox init/init.c) */
        INIT_SYSVINIT, /* no signal for either: a runlevel request on /run/initctl */
        INIT_STUB,     /* ours, for "run": SIGTERM is forwarded to the command */
        INIT_UNKNOWN,  /* SIGTERM, the one signal most inits take as "stop" */
        _INIT_KIND_MAX,
        _INIT_KIND_INVALID = -EINVAL,
} InitKind;

typedef enum PowerAction {
        POWER_OFF,
        POWER_REBOOT,
        _POWER_ACTION_MAX,
        _POWER_ACTION_INVALID = -EINVAL,
} PowerAction;

const char *init_kind_to_string(InitKind k) _pure_;
InitKind init_kind_from_string(const char *s) _pure_;

/* Looks at an executable (an fd of it, any mode) and says which init it is. */
InitKind init_kind_detect(int fd);

/* The signal that asks an init of this kind for ACTION; 0 when the kind takes
 * no signal for it (sysvinit), -EOPNOTSUPP when it cannot do it at all. */
int init_kind_signal(InitKind k, PowerAction action);

/* Asks init (host PID leader, reachable as pidfd) for ACTION in whatever way its
 * kind understands. */
int init_request_power(InitKind k, pid_t leader, int pidfd, PowerAction action);
