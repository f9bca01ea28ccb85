/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgroup-limits.h"
#include "dev-setup.h"
#include "device-filter.h"
#include "namespace-join.h"
#include "network.h"
#include "port-forward.h"
#include "userns.h"
#include "util.h"

/* What one machine is asked to be. The CLI fills it in; the modules only read it. */

typedef enum StartMode {
        START_BOOT, /* the tree's own init is PID 1 */
        START_RUN,  /* our stub init is PID 1 and runs a command */
        _START_MODE_MAX,
        _START_MODE_INVALID = -EINVAL,
} StartMode;

typedef enum ConsoleMode {
        CONSOLE_INTERACTIVE, /* pty, forwarded both ways, terminal in raw mode */
        CONSOLE_READ_ONLY,   /* pty, only its output is shown */
        CONSOLE_PASSIVE,     /* pty, nothing shown, nothing read */
        CONSOLE_PIPE,        /* no pty: the payload gets our stdin/stdout/stderr */
        CONSOLE_BACKGROUND,  /* pty kept by a detached supervisor, served to "boxctl console" */
        _CONSOLE_MODE_MAX,
        _CONSOLE_MODE_INVALID = -EINVAL,
} ConsoleMode;

typedef enum RegisterMode {
        REGISTER_AUTO, /* when a registry answers on the system bus */
        REGISTER_YES,  /* or fail */
        REGISTER_NO,
        _REGISTER_MODE_MAX,
        _REGISTER_MODE_INVALID = -EINVAL,
} RegisterMode;

/* What a background start waits for before it returns. */
typedef enum StartWait {
        START_WAIT_REGISTERED, /* registered (when that applies) and init executed */
        START_WAIT_READY,      /* and the guest said it is ready (see machine_notify_*) */
        _START_WAIT_MAX,
        _START_WAIT_INVALID = -EINVAL,
} StartWait;

/* The file systems of the machine's own that mount_setup() makes, in this
 * order unless Settings.api_order names another (an OCI config.json's
 * mounts, whose order runtime-tools checks against /proc/self/mountinfo). */
typedef enum ApiMount {
        API_MOUNT_PROC,   /* /proc, and what of it is masked or read-only */
        API_MOUNT_SYS,    /* /sys and its /sys/fs/cgroup */
        API_MOUNT_DEV,    /* /dev, its nodes, /dev/pts, /dev/shm */
        API_MOUNT_MQUEUE, /* /dev/mqueue: only when api_order names it */
        _API_MOUNT_MAX,
        _API_MOUNT_INVALID = -EINVAL,
} ApiMount;

typedef struct BindMount {
        char *source;
        char *destination;
        bool read_only;
        int idmap; /* -1: as the root is (idmapped with a user namespace); 0: never; 1: always */
        unsigned attr_set; /* more MOUNT_ATTR_* (NOSUID, NODEV, NOEXEC) on every mount of the bind */
        /* 0: as made (private, as the machine's mounts are); else MS_SHARED,
         * MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE, on the bind's whole tree
         * when propagation_recursive */
        unsigned long propagation;
        bool propagation_recursive;
} BindMount;

/* How a tmpfs of Settings.tmpfs is made (an OCI config's options). */
typedef struct TmpfsOptions {
        char *data;        /* "size=...,mode=...", as fsconfig() takes them; NULL: none */
        unsigned attr_set; /* MOUNT_ATTR_* (RDONLY, NOSUID, NODEV, NOEXEC) */
        /* The directory it covers, as the tree has it, is copied into it
         * first (crun's tmpcopyup): files, directories, symlinks, with
         * owners, modes, times and xattrs. */
        bool copy_up;
} TmpfsOptions;

typedef struct Settings {
        StartMode start_mode;
        char *root;         /* absolute path of the tree */
        char *machine_name;
        char *hostname;     /* NULL: the machine name */
        char **argv;        /* run: the command; boot: extra arguments for init */
        char **environment; /* K=V set for PID 1 */
        ConsoleMode console_mode;
        RegisterMode register_mode;
        const char *register_service; /* the registry's Service (a static string); NULL: "boxctl" */
        UserNamespaceMode userns_mode;
        uint32_t uid_base, uid_size; /* USERNS_FIXED */
        /* USERNS_FIXED with maps of more than one range (an OCI bundle's):
         * written as given ("CID HID SIZE" lines); uid_base is the host ID
         * of the container's 0. NULL: "0 uid_base uid_size" for both. */
        char *uid_map, *gid_map;
        /* The machine's cgroup (cgroup-path.h: cleaned; absolute, or relative
         * to our own) in every hierarchy; NULL: machine.slice/machine-NAME.scope */
        char *cgroup_path;
        /* Namespaces joined instead of made (namespace-join.h), and those
         * (CLONE_NEWIPC, CLONE_NEWUTS) shared with us rather than made: an
         * OCI bundle's linux.namespaces. The UTS one's host name is left as
         * it is unless hostname is set. */
        NamespaceJoin *ns_join;
        size_t n_ns_join;
        int ns_shared;
        OwnershipMode ownership;
        bool private_network;   /* a network namespace of its own (implied by the modes below) */
        NetworkMode network_mode;
        char *network_bridge;
        char *network_zone;
        NetworkPool network_pool;  /* all zeros: the default */
        PortSpec *ports;
        size_t n_ports;
        bool read_only;
        bool ephemeral;
        bool image;             /* -i: root is a disk image */
        bool no_reboot;
        bool quiet;
        uint64_t capabilities; /* bounding set, a mask of 1ULL << CAP_* */
        uint64_t kill_timeout_usec;
        Id128 machine_id;   /* null: take the tree's, or make one up */
        BindMount *binds;
        size_t n_binds;
        char **tmpfs;       /* destinations */
        size_t *tmpfs_at;   /* NULL, or per tmpfs[i] the index of the bind it comes before (n_binds: after all) */
        /* NULL, or per tmpfs[i] how it is made; NULL: "mode=0755", nosuid, nodev */
        TmpfsOptions *tmpfs_options;
        /* The machine's own /run starts with what the tree has in its /run
         * (an OCI config's tmpfs on /run with tmpcopyup) */
        bool run_copy_up;
        bool binds_in_order; /* mountinfo lists the binds where they were mounted (an OCI config's order) */
        char **syscall_filter; /* --system-call-filter= items: "[~]NAME|@GROUP" */
        /* Tell our own $NOTIFY_SOCKET when the machine runs and when it is
         * ready (boot --notify-ready; always for a background start). */
        bool notify_ready;
        StartWait start_wait;        /* start --wait= */
        uint64_t wait_timeout_usec;  /* start --wait-timeout= */
        CgroupLimits limits;         /* --memory-max= and the like */
        /* An OCI config's linux.resources.devices with runc's defaults
         * (device-filter.h); NULL: boxctl's own policy. Owned. */
        DevicePolicy *device_policy;
        DeviceNode *device_nodes;    /* made in the machine's /dev (dev-setup.h) */
        size_t n_device_nodes;
        bool any_rootfs;             /* an OCI bundle's rootfs: no os-release needed */
        /* Made first, in this order; the others of proc, sys, dev follow as usual. */
        ApiMount api_order[_API_MOUNT_MAX];
        size_t n_api_order;
} Settings;

void settings_done(Settings *s);
int settings_add_bind(Settings *s, const char *spec, bool read_only);
/* Frees every bind mount of S; S has none then. */
void settings_free_binds(Settings *s);
/* Appends the port forward "[tcp|udp:]HOSTPORT[:MACHINEPORT]": port_spec_parse()'s
 * errors, or -ENOMEM. */
int settings_add_port(Settings *s, const char *spec);

const char *start_mode_to_string(StartMode m) _pure_;
StartMode start_mode_from_string(const char *s) _pure_;
const char *register_mode_to_string(RegisterMode m) _pure_;
RegisterMode register_mode_from_string(const char *s) _pure_;
const char *console_mode_to_string(ConsoleMode m) _pure_;
ConsoleMode console_mode_from_string(const char *s) _pure_;
const char *start_wait_to_string(StartWait w) _pure_;
const char *api_mount_to_string(ApiMount m) _pure_;
ApiMount api_mount_from_string(const char *s) _pure_;
StartWait start_wait_from_string(const char *s) _pure_;

char *machine_name_from_path(const char *path);
