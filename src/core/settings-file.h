/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Settings files, NAME.box: a machine's options kept beside it, as
 * systemd-nspawn's .nspawn files (systemd.nspawn(5)). An ini file:
 *
 *   [Exec]            Boot= Parameters= Environment= PrivateUsers= Hostname=
 *                     MachineID= SystemCallFilter= NotifyReady= Capability=
 *                     DropCapability= KillTimeoutSec= NoReboot=
 *   [Files]           ReadOnly= Ephemeral= Bind= BindReadOnly=
 *                     TemporaryFileSystem= PrivateUsersOwnership=
 *   [Network]         Private= VirtualEthernet= Bridge= Zone= Port=
 *   [ResourceLimits]  MemoryMax= MemoryHigh= MemorySwapMax= CPUWeight=
 *                     CPUQuota= TasksMax= IOWeight= IOReadBandwidthMax=
 *                     IOWriteBandwidthMax=
 *
 * Each key means what the boot/run/start option of the same meaning does.
 * Lists (Environment=, Bind=, Port=, ...) accumulate, and an empty value
 * empties them; for the other keys the last assignment wins. An unknown
 * section or key is a warning and is ignored (as nspawn does, so that a
 * file written for a newer boxctl still boots); a bad value, or a line
 * that is neither, is an error naming FILE:LINE.
 *
 * Trust: files in the configuration directory (/etc/boxctl) and the
 * runtime directory (/run/boxctl) are the administrator's. A file beside the
 * image (in the pool) came with the image, from wherever the image came
 * from, so keys that would widen the machine's access to the host are
 * ignored there, with one warning naming them: Bind=, BindReadOnly=,
 * Capability=, SystemCallFilter= other than a removal ("~..."),
 * VirtualEthernet=, Bridge=, Zone=, Port=, PrivateUsers= with a fixed range
 * (which could share UIDs with another machine), and CPUWeight= or
 * IOWeight= above the default 100 (a larger share of the host than other
 * machines get). This is the rule that systemd-nspawn's CVE-2026-40226 broke. */

#include <stdbool.h>
#include <stdint.h>

#include "settings.h"

/* --settings=: as systemd-nspawn's. */
typedef enum SettingsMode {
        SETTINGS_MODE_YES,      /* look for the file; the command line wins; trusted by where it is */
        SETTINGS_MODE_NO,       /* read none */
        SETTINGS_MODE_TRUSTED,  /* as yes, every key honoured wherever the file is */
        SETTINGS_MODE_OVERRIDE, /* as yes, but the file wins over the command line */
        _SETTINGS_MODE_MAX,
        _SETTINGS_MODE_INVALID = -EINVAL,
} SettingsMode;

const char *settings_mode_to_string(SettingsMode m) _pure_;
SettingsMode settings_mode_from_string(const char *s) _pure_;

/* What a source of settings can give, each as a whole: a source that gives a
 * list gives all of it (the command line's --bind replaces every Bind= of the
 * file, as nspawn does). The limits go one by one, by CgroupLimits.set. */
typedef enum SettingField {
        SETTING_BOOT,
        SETTING_PARAMETERS,
        SETTING_ENVIRONMENT,
        SETTING_PRIVATE_USERS,
        SETTING_OWNERSHIP,
        SETTING_HOSTNAME,
        SETTING_MACHINE_ID,
        SETTING_SYSCALL_FILTER,
        SETTING_NOTIFY_READY,
        SETTING_CAPABILITY, /* Capability= and DropCapability= */
        SETTING_KILL_TIMEOUT,
        SETTING_NO_REBOOT,
        SETTING_READ_ONLY,
        SETTING_EPHEMERAL,
        SETTING_BINDS, /* Bind= and BindReadOnly= */
        SETTING_TMPFS,
        SETTING_PRIVATE_NETWORK,
        SETTING_NETWORK, /* VirtualEthernet=, Bridge=, Zone=: one choice */
        SETTING_PORTS,
        SETTING_IO_MAX,
        _SETTING_FIELD_MAX,
        _SETTING_FIELD_INVALID = -EINVAL,
} SettingField;

/* What a source gave, beside the values in its Settings. */
typedef struct SettingsGiven {
        uint32_t fields;             /* 1 << SettingField */
        uint64_t cap_keep, cap_drop; /* capabilities added to and taken from the default set */
} SettingsGiven;

static inline bool settings_given(const SettingsGiven *g, SettingField f) {
        return g->fields & (UINT32_C(1) << f);
}

typedef struct SettingsFile {
        char *path;
        bool trusted;
        bool boot;         /* Boot= (the verb says, always: checked, not used) */
        Settings settings; /* the values of the fields given */
        SettingsGiven given;
} SettingsFile;

SettingsFile *settings_file_free(SettingsFile *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(SettingsFile *, settings_file_free);

/* Parses TEXT (SIZE bytes, a NUL among them is an error), the contents of
 * PATH. Not TRUSTED: the keys above are checked and then ignored.
 * *ret_warnings (may be NULL) gets one line for each unknown section or key,
 * and one for the keys ignored as untrusted. On a bad line, -EINVAL and
 * *ret_error: "PATH:LINE: ..." with the key and the reason. */
int settings_file_parse(const char *path, const char *text, size_t size, bool trusted, SettingsFile **ret,
                        char ***ret_warnings, char **ret_error);

/* Reads PATH (a regular file of at most 64 KiB) and parses it as above. */
int settings_file_load(const char *path, bool trusted, SettingsFile **ret, char ***ret_warnings, char **ret_error);

/* Where the settings of machine NAME are: the first of
 * CONFIG_DIR/NAME.box (enabled_config_dir(): /etc/boxctl), RUNTIME_DIR/NAME.box
 * (runtime_dir(): /run/boxctl), both trusted, and BESIDE/NAME.box (BESIDE:
 * the directory that holds the image, may be NULL), not trusted.
 * -ENOENT when there is none. */
int settings_file_find(const char *name, const char *beside, char **ret_path, bool *ret_trusted);

/* Moves the fields F gave into S, those that GIVEN (what S's source gave)
 * does not hold, or all of them when FILE_WINS (--settings=override);
 * GIVEN then holds them too. What F held is F's no longer. */
void settings_file_merge(Settings *s, SettingsGiven *given, SettingsFile *f, bool file_wins);
