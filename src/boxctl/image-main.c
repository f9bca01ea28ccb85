/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* boxctl-image: the pool verbs that read or write archives and downloads
 * (import-tar, export-tar, import-raw, export-raw, import-fs, pull-tar,
 * pull-raw). boxctl runs it for them (verb-image-exec.c) with the same
 * arguments, so that boxctl itself links neither libarchive nor libcurl:
 * their dependencies (libxml2, ICU, OpenSSL, GnuTLS, Kerberos, LDAP, ...,
 * some fifty libraries) cost each boxctl about 9 ms of loading before it does
 * anything on this host, and `boxctl run` starts as often as a machine does. */
#include <stdio.h>

#include "log.h"
#include "verbs.h"

static const Verb verbs[] = {
        { "import-tar", verb_import_tar, NULL },
        { "export-tar", verb_export_tar, NULL },
        { "import-raw", verb_import_raw, NULL },
        { "export-raw", verb_export_raw, NULL },
        { "import-fs", verb_import_fs, NULL },
        { "pull-tar", verb_pull_tar, NULL },
        { "pull-raw", verb_pull_raw, NULL },
};

int main(int argc, char *argv[]) {
        log_parse_environment();
        if (argc < 2) {
                log_error("boxctl-image is run by boxctl: use 'boxctl import-tar' and the like");
                return 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, argv[1]))
                        return verbs[i].run(argc - 1, argv + 1);
        log_error("unknown verb '%s' for boxctl-image; try 'boxctl help'", argv[1]);
        return 1;
}
