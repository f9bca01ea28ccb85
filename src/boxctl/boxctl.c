/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "verbs.h"

static int verb_help(int argc, char *argv[]);
static int verb_version(int argc, char *argv[]);

static const Verb verbs[] = {
        { "boot", verb_boot, "Boot an OS tree with its own init as PID 1" },
        { "run", verb_run, "Run one command in a machine made from an OS tree" },
        { "start", verb_start, "Boot an OS tree in the background" },
        { "stop", verb_stop, "Power a machine off and wait for its end" },
        { "console", verb_console, "Attach to the console of a background machine" },
        { "enable", verb_enable, "Have boxd start a machine of the pool whenever it starts" },
        { "disable", verb_disable, "Have boxd no longer start a machine when it starts" },
        { "list", verb_list_main, "List the running machines the registry knows" },
        { "status", verb_status, "Show the state of machines and their processes" },
        { "show", verb_show, "Show the registry's properties of machines" },
        { "set-property", verb_set_property, "Change the resource limits of a running machine" },
        { "top", verb_top, "Show the running machines by their use of CPU, memory, tasks and IO" },
        { "poweroff", verb_poweroff, "Ask machines to power off" },
        { "reboot", verb_reboot, "Ask machines to reboot" },
        { "terminate", verb_terminate, "Kill machines at once, without a clean shutdown" },
        { "kill", verb_kill, "Send a signal to the processes of machines" },
        { "shell", verb_shell, "Run a shell or a command inside a running machine" },
        { "login", verb_login, "Log in to a running machine on a new terminal of its own" },
        { "copy-to", verb_copy_to, "Copy a file or a tree from the host into a running machine" },
        { "copy-from", verb_copy_from, "Copy a file or a tree out of a running machine" },
        { "bind", verb_bind, "Mount a host directory or file into a running machine" },
        { "list-images", verb_list_images, "List the images of the pool (/var/lib/machines)" },
        { "image-status", verb_image_status, "Show the properties of images of the pool" },
        { "clone", verb_clone, "Copy an image of the pool (a snapshot or reflink where possible)" },
        { "rename", verb_rename, "Rename an image of the pool" },
        { "remove", verb_remove, "Remove images of the pool" },
        { "read-only", verb_read_only, "Mark an image of the pool read-only or writable" },
        { "import-tar", verb_image_helper, "Import a tar archive as an image of the pool" },
        { "export-tar", verb_image_helper, "Export an image of the pool as a tar archive" },
        { "import-raw", verb_image_helper, "Import a disk or file system image as an image of the pool" },
        { "export-raw", verb_image_helper, "Export a disk image of the pool, compressed or sparse" },
        { "import-fs", verb_image_helper, "Copy a directory tree as an image of the pool" },
        { "pull-tar", verb_image_helper, "Download and verify a tar archive as an image of the pool" },
        { "pull-raw", verb_image_helper, "Download and verify a disk image as an image of the pool" },
        { "help", verb_help, "Show this help" },
        { "version", verb_version, "Show the version" },
};

static int verb_help(int argc, char *argv[]) {
        printf("boxctl - boot OS trees as lightweight machines\n\n"
               "Usage: boxctl [--version] [--help] VERB [OPTIONS...] [ARGS...]\n\n"
               "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
        printf("\nRun 'boxctl VERB --help' for the options of a verb.\n"
               "Examples:\n"
               "  boxctl boot ./debian-root\n"
               "  boxctl run ./debian-root -- cat /etc/os-release\n"
               "  boxctl start debian-root --wait=ready\n"
               "  boxctl console debian-root\n"
               "  boxctl stop debian-root\n"
               "  boxctl enable debian-root\n"
               "  boxctl list\n"
               "  boxctl status debian-root\n"
               "  boxctl shell debian-root\n"
               "  boxctl poweroff debian-root\n");
        return 0;
}

static int verb_version(int argc, char *argv[]) {
        printf("boxctl %s\n", PACKAGE_VERSION);
        return 0;
}

int main(int argc, char *argv[]) {
        const char *verb;

        log_parse_environment();
        if (argc < 2) {
                log_error("no verb given; try 'boxctl help'");
                return 1;
        }
        verb = argv[1];
        if (streq(verb, "--help") || streq(verb, "-h"))
                return verb_help(argc - 1, argv + 1);
        if (streq(verb, "--version"))
                return verb_version(argc - 1, argv + 1);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, verb))
                        return verbs[i].run(argc - 1, argv + 1);
        log_error("unknown verb '%s'; try 'boxctl help'", verb);
        return 1;
}
