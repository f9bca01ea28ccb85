/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup-limits.h"
#include "dev-setup.h"
#include "device-filter.h"
#include "macro.h"
#include "oci-hooks.h"
#include "oci-seccomp.h"

/* What a bundle's config.json asks for, of what boxctl-oci maps onto the
 * core (runtime-spec 1.0/1.1, Linux). Unknown fields are ignored, as the spec
 * says; a known field of the wrong type or value is refused with its JSON
 * path ("process.args[0]: not a string"). */

typedef struct OciMount {
        char *destination;
        char *type;
        char *source;
        char **options;
} OciMount;

typedef struct OciRlimit {
        int resource;
        uint64_t soft, hard;
} OciRlimit;

typedef struct OciConfig {
        char *oci_version;
        char *root_path;      /* as written: relative to the bundle, or absolute */
        bool root_readonly;

        bool terminal;
        char **args;
        char **env;
        char *cwd;
        uid_t uid;
        gid_t gid;
        gid_t *additional_gids;
        size_t n_additional_gids;
        bool have_bounding;
        uint64_t bounding; /* 1ULL << CAP_* */
        bool have_process_caps; /* any of the four below given */
        uint64_t effective, permitted, inheritable, ambient;
        OciRlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        bool have_oom_score_adj;
        int oom_score_adj;

        char *hostname;
        OciMount *mounts;
        size_t n_mounts;

        /* linux.namespaces: which ones are listed (new, or joined by path) */
        bool ns_user, ns_network, ns_pid, ns_mount, ns_ipc, ns_uts, ns_cgroup;
        /* those with a path: the entry's index and CLONE_NEW* type */
        struct {
                size_t index;
                int type;
                char *path;
        } ns_paths[8];
        size_t n_ns_paths;
        /* linux.uidMappings/gidMappings: the maps as the kernel takes them,
         * and the range of each that maps container ID 0 */
        bool have_mappings;
        char *uid_map, *gid_map;
        uint32_t uid_host, uid_size, gid_host, gid_size;
        char *cgroups_path;   /* linux.cgroupsPath as written, or NULL */
        char **masked_paths;
        char **readonly_paths;
        char **sysctl;                    /* linux.sysctl: key, value, key, value, ... */
        unsigned long rootfs_propagation; /* linux.rootfsPropagation: MS_SHARED... (| MS_REC); 0: private */
        OciSeccomp seccomp;               /* linux.seccomp, compiled; no insns when absent */
        CgroupLimits limits;  /* linux.resources */
        DeviceNode *devices;  /* linux.devices */
        size_t n_devices;
        DeviceRule *device_rules; /* linux.resources.devices, in order */
        size_t n_device_rules;
        char **unapplied;     /* linux.resources fields left out (said with --debug) */
        char *annotations;    /* the object as JSON text, or NULL */
        bool boot_annotation; /* org.boxctl.boot=true or io.boxctl.machine=boot */
        OciHooks hooks;
} OciConfig;

void oci_config_done(OciConfig *c);

/* Parses TEXT (the contents of config.json). On error *ret_error says where
 * (the JSON path) and what. */
int oci_config_parse(const char *text, OciConfig *ret, char **ret_error);

/* An exec's --process file: a "process" object alone, into RET's process fields. */
int oci_process_parse(const char *text, OciConfig *ret, char **ret_error);

/* A system container: its process is an init, or an annotation says so. */
bool oci_config_wants_boot(const OciConfig *c) _pure_;
