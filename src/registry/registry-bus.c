/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "enter.h"
#include "log.h"
#include "machine-copy.h"
#include "machine1-names.h"
#include "netns-addresses.h"
#include "pool.h"
#include "registry-bus.h"
#include "registry-images.h"
#include "tree.h"


/* Privilege is decided here, from the caller's credentials as the bus driver
 * reports them, not only by the bus policy: a permissive policy file must not
 * open the registry to everyone. */
static int check_root(sd_bus_message *m, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                r = sd_bus_creds_get_uid(creds, &uid);
        if (r < 0)
                return r;
        if (uid != 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED,
                                        "Only root may change the machine registry.");
        return 0;
}

int registry_check_root(sd_bus_message *m, sd_bus_error *error) {
        return check_root(m, error);
}

static RegMachine *lookup(Registry *r, const char *name, sd_bus_error *error) {
        RegMachine *m = registry_find(r, name);

        if (!m)
                sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_MACHINE, "No machine '%s' known", name);
        return m;
}

/* ---- per-machine operations, shared by the Manager's by-name methods and the Machine object ---- */

static int reply_addresses(sd_bus_message *msg, RegMachine *m, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ NetAddress *a = NULL;
        size_t n = 0;
        int r;

        r = netns_is_ours(m->leader);
        if (r < 0)
                return r;
        if (r > 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_NOT_SUPPORTED,
                                         "Machine %s does not use private networking", m->name);
        r = netns_get_addresses(m->leader, &a, &n);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(iay)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = sd_bus_message_open_container(reply, 'r', "iay");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "i", a[i].family);
                if (r >= 0)
                        r = sd_bus_message_append_array(reply, 'y', a[i].address.bytes,
                                                        a[i].family == AF_INET ? 4 : 16);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int registry_reply_os_release(sd_bus_message *msg, int root_fd, const char *what, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *text = NULL;
        int r;

        r = tree_read_os_release(root_fd, &text);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s has no os-release", what);
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{ss}");
        if (r < 0)
                return r;
        for (char *l = text; l && *l;) {
                char *e = strchrnul(l, '\n'), *eq;
                bool more = *e != '\0';
                _cleanup_free_ char *v = NULL;

                *e = '\0';
                eq = strchr(l, '=');
                if (eq && l[0] != '#') {
                        const char *val = eq + 1;
                        size_t vl = strlen(val);

                        *eq = '\0';
                        /* One level of quotes, as os-release(5) writes values. */
                        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0])
                                v = strndup(val + 1, vl - 2);
                        else
                                v = strdup(val);
                        if (!v)
                                return -ENOMEM;
                        r = sd_bus_message_append(reply, "{ss}", l, v);
                        if (r < 0)
                                return r;
                }
                l = more ? e + 1 : NULL;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int reply_os_release(sd_bus_message *msg, RegMachine *m, sd_bus_error *error) {
        _cleanup_close_ int root = -EBADF;
        char path[64], what[128];

        snprintf(path, sizeof path, "/proc/%d/root", (int) m->leader);
        root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return -errno;
        snprintf(what, sizeof what, "Machine %s", m->name);
        return registry_reply_os_release(msg, root, what, error);
}

static int machine_uid_shift(RegMachine *m, uint32_t *ret) {
        uint32_t count;

        return machine_read_uid_shift(m->leader, ret, &count);
}

static int do_kill(sd_bus_message *msg, RegMachine *m, const char *who, int32_t sig, sd_bus_error *error) {
        KillWhom whom;
        int r;

        r = check_root(msg, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        whom = isempty(who) ? KILL_ALL : kill_whom_from_string(who);
        if (whom < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid kill target '%s': use leader or all", who);
        if (sig <= 0 || sig >= _NSIG)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid signal %d", (int) sig);
        r = reg_machine_kill(m, whom, sig);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot signal machine %s: %m", m->name);
        return sd_bus_reply_method_return(msg, NULL);
}

static int do_terminate(sd_bus_message *msg, RegMachine *m, sd_bus_error *error) {
        int r = check_root(msg, error);

        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        r = reg_machine_terminate(m);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot terminate machine %s: %m", m->name);
        return sd_bus_reply_method_return(msg, NULL);
}

/* ---- the Manager ---- */

static int method_get_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        m = lookup(userdata, name, error);
        if (!m)
                return -ENOENT;
        return sd_bus_reply_method_return(msg, "o", m->path);
}

static int method_get_machine_by_pid(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Registry *reg = userdata;
        _cleanup_free_ char *cg = NULL;
        RegMachine *m;
        uint32_t pid;
        int r;

        r = sd_bus_message_read(msg, "u", &pid);
        if (r < 0)
                return r;
        if (pid == 0) {
                _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
                pid_t p;

                r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_PID, &creds);
                if (r < 0)
                        return r;
                r = sd_bus_creds_get_pid(creds, &p);
                if (r < 0)
                        return r;
                pid = (uint32_t) p;
        }
        m = registry_find_by_pid(reg, (pid_t) pid);
        /* Otherwise: the machine whose cgroup holds the process. A machine whose
         * leader sits in the root cgroup has no cgroup of its own to go by. */
        if (!m && pid_cgroup2_path((pid_t) pid, &cg) >= 0)
                for (size_t i = 0; i < reg->n_machines && !m; i++) {
                        const char *mcg = reg->machines[i]->cgroup, *rest;

                        if (streq(mcg, "/"))
                                continue;
                        rest = startswith(cg, mcg);
                        if (rest && (*rest == '\0' || *rest == '/'))
                                m = reg->machines[i];
                }
        if (!m)
                return sd_bus_error_setf(error, BUS_ERROR_NO_MACHINE_FOR_PID, "PID %u does not belong to any known machine", pid);
        return sd_bus_reply_method_return(msg, "o", m->path);
}

static int method_list_machines(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Registry *reg = userdata;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssso)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < reg->n_machines; i++) {
                RegMachine *m = reg->machines[i];

                r = sd_bus_message_append(reply, "(ssso)", m->name, machine_class_to_string(m->class),
                                          m->service, m->path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* name, id, service, class, leader, root [, ifindices] [, scope properties] */
static int add_machine(sd_bus_message *msg, Registry *reg, bool with_network, bool create,
                       sd_bus_error *error) {
        const char *name, *service, *class, *root;
        const void *idv = NULL, *ifv = NULL;
        size_t idn = 0, ifn = 0;
        uint32_t leader;
        RegMachineParams p = {};
        RegMachine *m = NULL;
        const char *what = NULL;
        int r;

        r = check_root(msg, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        r = sd_bus_message_read(msg, "s", &name);
        if (r >= 0)
                r = sd_bus_message_read_array(msg, 'y', &idv, &idn);
        if (r >= 0)
                r = sd_bus_message_read(msg, "ssus", &service, &class, &leader, &root);
        if (r >= 0 && with_network)
                r = sd_bus_message_read_array(msg, 'i', &ifv, &ifn);
        if (r < 0)
                return r;
        /* Scope properties (CreateMachine*) ask systemd for unit settings; boxd
         * makes a plain cgroup and takes none of them. */

        if (idn != 0 && idn != sizeof(Id128))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid machine id: %zu bytes, expected 16 or none", idn);
        if (idn == sizeof(Id128))
                memcpy(&p.id, idv, sizeof(Id128));
        p.name = name;
        p.service = service;
        p.class = isempty(class) ? MACHINE_CLASS_CONTAINER : machine_class_from_string(class);
        p.root_directory = root;
        p.netif = ifv;
        p.n_netif = ifn / sizeof(int32_t);
        p.create_cgroup = create;
        if (leader == 0) {
                _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
                pid_t pid;

                r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_PID, &creds);
                if (r >= 0)
                        r = sd_bus_creds_get_pid(creds, &pid);
                if (r < 0)
                        return r;
                leader = (uint32_t) pid;
        }
        p.leader = (pid_t) leader;
        /* The caller supervises the machine (boxctl does): when it and the
         * leader are both gone, what it left is removed. */
        {
                _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
                pid_t pid;

                if (sd_bus_query_sender_creds(msg, SD_BUS_CREDS_PID, &creds) >= 0 &&
                    sd_bus_creds_get_pid(creds, &pid) >= 0)
                        p.supervisor = pid;
        }

        r = registry_add(reg, &p, &m, &what);
        switch (r) {
        case 0:
                break;
        case -EINVAL:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid %s", what);
        case -EEXIST:
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_EXISTS, "Machine '%s' already exists", name);
        case -EADDRINUSE:
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_EXISTS, "Leader PID %u already belongs to machine '%s'",
                                         leader, registry_find_by_pid(reg, (pid_t) leader)->name);
        case -ESRCH:
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Leader PID %u does not exist", leader);
        case -EBUSY:
                return sd_bus_error_setf(error, BUS_ERROR_MACHINE_EXISTS, "A cgroup for machine '%s' is in use", name);
        default:
                return sd_bus_error_set_errnof(error, r, "Cannot register machine '%s': %m", name);
        }
        log_info("Registered machine %s (leader %d, %s).", m->name, (int) m->leader, m->root_directory);
        (void) sd_bus_emit_signal(sd_bus_message_get_bus(msg), MACHINE1_PATH, MACHINE1_MANAGER,
                                  "MachineNew", "so", m->name, m->path);
        return sd_bus_reply_method_return(msg, "o", m->path);
}

static int method_create_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return add_machine(msg, userdata, false, true, error);
}
static int method_create_machine_with_network(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return add_machine(msg, userdata, true, true, error);
}
static int method_register_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return add_machine(msg, userdata, false, false, error);
}
static int method_register_machine_with_network(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return add_machine(msg, userdata, true, false, error);
}

void registry_bus_emit_removed(sd_bus *bus, RegMachine *m) {
        (void) sd_bus_emit_signal(bus, MACHINE1_PATH, MACHINE1_MANAGER, "MachineRemoved", "so", m->name, m->path);
}

static int method_unregister_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Registry *reg = userdata;
        const char *name;
        RegMachine *m;
        int r;

        r = check_root(msg, error);
        if (r < 0 || sd_bus_error_is_set(error))
                return r;
        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        m = lookup(reg, name, error);
        if (!m)
                return -ENOENT;
        log_info("Unregistered machine %s.", m->name);
        registry_bus_emit_removed(sd_bus_message_get_bus(msg), m);
        registry_remove(reg, m);
        return sd_bus_reply_method_return(msg, NULL);
}

#define BY_NAME(msg, reg, m, error)                             \
        do {                                                    \
                const char *_name;                              \
                int _r = sd_bus_message_read(msg, "s", &_name); \
                if (_r < 0)                                     \
                        return _r;                              \
                m = lookup(reg, _name, error);                  \
                if (!m)                                         \
                        return -ENOENT;                         \
        } while (0)

static int method_terminate_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;

        BY_NAME(msg, userdata, m, error);
        return do_terminate(msg, m, error);
}

static int method_kill_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *who;
        int32_t sig;
        RegMachine *m;
        int r;

        BY_NAME(msg, userdata, m, error);
        r = sd_bus_message_read(msg, "si", &who, &sig);
        if (r < 0)
                return r;
        return do_kill(msg, m, who, sig, error);
}

static int on_shell_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        log_debug("A shell in a machine ended (process %d).", (int) si->si_pid);
        sd_event_source_disable_unref(s);
        return 0;
}

static bool env_is_valid(char **env) {
        for (char **e = env; e && *e; e++) {
                const char *eq = strchr(*e, '=');

                if (!eq || eq == *e || strchr(*e, '\n'))
                        return false;
        }
        return true;
}

/* Runs what WHAT asks (ARGV, or PATH, or USER's shell, or login, or nothing
 * with pty_only) on a pty of machine M's own and replies with its master and
 * the pty's name. Where machined asks the machine's own systemd to start it,
 * boxd joins the machine from the host, as "boxctl shell" does, so any init
 * will do. */
static int reply_pty_command(sd_bus_message *msg, RegMachine *m, const EnterRequest *what, sd_bus_error *error) {
        _cleanup_free_ char *cgroup_path = NULL, *why = NULL;
        sd_event_source *watch = NULL; /* unref'd by on_shell_exit() */
        EnterProcess proc;
        int r;

        r = enter_cgroup_path(m->leader, &cgroup_path);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot find the cgroup of machine %s: %m", m->name);

        EnterRequest req = *what;
        req.machine_name = m->name;
        req.leader = m->leader;
        req.cgroup_path = cgroup_path;
        req.term = "vt220"; /* machinectl sends its own TERM in env */
        req.pty = true;
        req.stdio[0] = STDIN_FILENO;
        req.stdio[1] = STDOUT_FILENO;
        req.stdio[2] = STDERR_FILENO;
        req.rlimit_nofile_soft = 1024; /* boxd's own is raised */
        r = machine_enter(&req, &proc, &why);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s", why ?: strerror(-r));
        safe_close(proc.child_pidfd);
        /* boxd reaps the process that waits for the command. */
        r = sd_event_add_child(m->registry->event, &watch, proc.pid, WEXITED, on_shell_exit, NULL);
        if (r < 0) {
                log_warning_errno(r, "Cannot watch the shell of machine %s (process %d): %m", m->name, (int) proc.pid);
                (void) kill(proc.pid, SIGKILL);
                (void) waitpid(proc.pid, NULL, 0);
                safe_close(proc.master);
                return sd_bus_error_set_errnof(error, r, "Cannot watch the shell of machine %s: %m", m->name);
        }
        r = sd_bus_reply_method_return(msg, "hs", proc.master, proc.pty_name);
        safe_close(proc.master);
        return r;
}

/* OpenShell: what machinectl shell calls. Reads (ss as as) after the name. */
static int open_shell(sd_bus_message *msg, RegMachine *m, sd_bus_error *error) {
        _cleanup_strv_free_ char **args = NULL, **env = NULL;
        const char *user, *path;
        int r;

        r = sd_bus_message_read(msg, "ss", &user, &path);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(msg, &args);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(msg, &env);
        if (r < 0)
                return r;
        r = check_root(msg, error);
        if (r != 0)
                return r;
        if (!isempty(path) && path[0] != '/')
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Path %s is not absolute.", path);
        if (isempty(path) && args && args[0])
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Arguments given without a path.");
        if (!env_is_valid(env))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid environment assignment.");
        if (!isempty(user) && (strchr(user, ':') || strchr(user, '\n')))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid user name %s.", user);
        return reply_pty_command(msg, m,
                                 &(EnterRequest) { .user = isempty(user) ? NULL : user,
                                                   .path = isempty(path) ? NULL : path,
                                                   .argv = args,
                                                   .setenv = env },
                                 error);
}

/* OpenLogin: what machinectl login calls. machined starts a getty through
 * the machine's systemd; boxd runs the machine's login(1) on the pty, as
 * "boxctl login" does. */
static int open_login(sd_bus_message *msg, RegMachine *m, sd_bus_error *error) {
        int r;

        r = check_root(msg, error);
        if (r != 0)
                return r;
        return reply_pty_command(msg, m, &(EnterRequest) { .login = true }, error);
}

/* OpenPTY: a new pty of the machine's own, with nothing on it; the caller
 * gets the master and the name the machine knows the pty by. */
static int open_pty(sd_bus_message *msg, RegMachine *m, sd_bus_error *error) {
        int r;

        r = check_root(msg, error);
        if (r != 0)
                return r;
        return reply_pty_command(msg, m, &(EnterRequest) { .pty_only = true }, error);
}

static int method_open_machine_pty(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;

        BY_NAME(msg, userdata, m, error);
        return open_pty(msg, m, error);
}

static int mmethod_open_pty(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return open_pty(msg, userdata, error);
}

static int method_open_machine_login(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;

        BY_NAME(msg, userdata, m, error);
        return open_login(msg, m, error);
}

static int mmethod_open_login(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return open_login(msg, userdata, error);
}

static int method_open_machine_shell(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;

        BY_NAME(msg, userdata, m, error);
        return open_shell(msg, m, error);
}

static int mmethod_open_shell(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return open_shell(msg, userdata, error);
}

static int method_get_machine_addresses(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;

        BY_NAME(msg, userdata, m, error);
        return reply_addresses(msg, m, error);
}

static int method_get_machine_os_release(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;

        BY_NAME(msg, userdata, m, error);
        return reply_os_release(msg, m, error);
}

/* ---- files: CopyTo/CopyFrom and BindMount, what machinectl copy-to,
 * copy-from and bind call ---- */

#define MACHINE_COPY_REPLACE UINT64_C(1) /* machine1's only copy flag */

/* ---- calls answered when a job process ends (copies, clones) ---- */

typedef struct JobCall {
        sd_bus_message *msg;
        int fd;
        const char *enoent_error;
} JobCall;

static int on_job_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        JobCall *call = userdata;
        _cleanup_free_ char *why = NULL;
        int status = si->si_code == CLD_EXITED ? (si->si_status & 0xff) << 8 : si->si_status & 0x7f;
        int r;

        r = machine_job_result(call->fd, status, &why);
        if (r == -ENOENT && call->enoent_error)
                (void) sd_bus_reply_method_errorf(call->msg, call->enoent_error, "%s", why ?: strerror(-r));
        else if (r < 0)
                (void) sd_bus_reply_method_errnof(call->msg, r, "%s", why ?: strerror(-r));
        else
                (void) sd_bus_reply_method_return(call->msg, NULL);
        sd_bus_message_unref(call->msg);
        free(call);
        sd_event_source_disable_unref(s);
        return 0;
}

int registry_reply_at_job_end(Registry *reg, sd_bus_message *msg, pid_t pid, int fd, const char *enoent_error) {
        _cleanup_free_ JobCall *call = NULL;
        sd_event_source *watch = NULL; /* unref'd by on_job_exit() */
        int r;

        call = calloc(1, sizeof *call);
        r = call ? sd_event_add_child(reg->event, &watch, pid, WEXITED, on_job_exit, call) : -ENOMEM;
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                safe_close(fd);
                return r;
        }
        *call = (JobCall) { .msg = sd_bus_message_ref(msg), .fd = fd, .enoent_error = enoent_error };
        TAKE_PTR(call);
        return 1;
}

/* ---- files ---- */

static int do_copy(sd_bus_message *msg, RegMachine *m, bool copy_from, bool with_flags, sd_bus_error *error) {
        const char *src, *dst;
        uint64_t flags = 0;
        pid_t pid;
        int fd, r;

        r = sd_bus_message_read(msg, "ss", &src, &dst);
        if (r >= 0 && with_flags)
                r = sd_bus_message_read(msg, "t", &flags);
        if (r < 0)
                return r;
        r = check_root(msg, error);
        if (r != 0)
                return r;
        if (flags & ~MACHINE_COPY_REPLACE)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown copy flags 0x%" PRIx64,
                                         flags & ~MACHINE_COPY_REPLACE);
        if (!path_is_absolute(src) || (!isempty(dst) && !path_is_absolute(dst)))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Paths must be absolute (%s, %s).", src,
                                         strempty(dst));
        MachineCopy c = {
                .machine_name = m->name,
                .leader = m->leader,
                .copy_from = copy_from,
                .source = src,
                .destination = dst,
                .replace = flags & MACHINE_COPY_REPLACE,
        };
        r = machine_copy_start(&c, &pid, &fd);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot start copying for machine %s: %m", m->name);
        r = registry_reply_at_job_end(m->registry, msg, pid, fd, NULL);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot watch the copy for machine %s: %m", m->name);
        return 1;
}

static int do_bind(sd_bus_message *msg, RegMachine *m, sd_bus_error *error) {
        _cleanup_free_ char *why = NULL;
        const char *src, *dst;
        int read_only, mkdir;
        int r;

        r = sd_bus_message_read(msg, "ssbb", &src, &dst, &read_only, &mkdir);
        if (r < 0)
                return r;
        r = check_root(msg, error);
        if (r != 0)
                return r;
        MachineBind b = {
                .machine_name = m->name,
                .leader = m->leader,
                .source = src,
                .destination = dst,
                .read_only = read_only,
                .mkdir = mkdir,
        };
        /* Short: a fork, a clone of a mount, a move; done while the loop waits. */
        r = machine_bind(&b, &why);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "%s", why ?: strerror(-r));
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_copy_to_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;

        BY_NAME(msg, userdata, m, error);
        return do_copy(msg, m, false, sd_bus_message_has_signature(msg, "ssst"), error);
}

static int method_copy_from_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;

        BY_NAME(msg, userdata, m, error);
        return do_copy(msg, m, true, sd_bus_message_has_signature(msg, "ssst"), error);
}

static int method_bind_mount_machine(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;

        BY_NAME(msg, userdata, m, error);
        return do_bind(msg, m, error);
}

static int method_get_machine_uid_shift(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        RegMachine *m;
        uint32_t shift;
        int r;

        BY_NAME(msg, userdata, m, error);
        r = machine_uid_shift(m, &shift);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot read the UID map of machine %s: %m", m->name);
        return sd_bus_reply_method_return(msg, "u", shift);
}

static int property_pool(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        if (streq(property, "PoolPath"))
                return sd_bus_message_append(reply, "s", pool_default_dir());
        return sd_bus_message_append(reply, "t", UINT64_MAX);
}

/* sd-bus refuses callers without CAP_SYS_ADMIN to methods not marked
 * SD_BUS_VTABLE_UNPRIVILEGED; here every method is open, and privilege is
 * decided by check_root() in those that change something. */
static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("PoolPath", "s", property_pool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("PoolUsage", "t", property_pool, 0, 0),
        SD_BUS_PROPERTY("PoolLimit", "t", property_pool, 0, 0),
        SD_BUS_METHOD_WITH_ARGS("GetMachine", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", machine), method_get_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImage", SD_BUS_ARGS("s", name), SD_BUS_RESULT("o", image), registry_method_get_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachineByPID", SD_BUS_ARGS("u", pid), SD_BUS_RESULT("o", machine), method_get_machine_by_pid, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListMachines", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssso)", machines), method_list_machines, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssbttto)", images), registry_method_list_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveImage", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, registry_method_remove_image,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RenameImage", SD_BUS_ARGS("s", name, "s", new_name), SD_BUS_NO_RESULT,
                                registry_method_rename_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CloneImage", SD_BUS_ARGS("s", name, "s", new_name, "b", read_only), SD_BUS_NO_RESULT,
                                registry_method_clone_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("MarkImageReadOnly", SD_BUS_ARGS("s", name, "b", read_only), SD_BUS_NO_RESULT,
                                registry_method_mark_image_read_only, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImageOSRelease", SD_BUS_ARGS("s", name), SD_BUS_RESULT("a{ss}", fields),
                                registry_method_get_image_os_release, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImageHostname", SD_BUS_ARGS("s", name), SD_BUS_RESULT("s", hostname),
                                registry_method_get_image_hostname, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImageMachineID", SD_BUS_ARGS("s", name), SD_BUS_RESULT("ay", id),
                                registry_method_get_image_machine_id, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateMachine",
                                SD_BUS_ARGS("s", name, "ay", id, "s", service, "s", class, "u", leader, "s", root_directory, "a(sv)", scope_properties),
                                SD_BUS_RESULT("o", path), method_create_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateMachineWithNetwork",
                                SD_BUS_ARGS("s", name, "ay", id, "s", service, "s", class, "u", leader, "s", root_directory, "ai", ifindices, "a(sv)", scope_properties),
                                SD_BUS_RESULT("o", path), method_create_machine_with_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RegisterMachine",
                                SD_BUS_ARGS("s", name, "ay", id, "s", service, "s", class, "u", leader, "s", root_directory),
                                SD_BUS_RESULT("o", path), method_register_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RegisterMachineWithNetwork",
                                SD_BUS_ARGS("s", name, "ay", id, "s", service, "s", class, "u", leader, "s", root_directory, "ai", ifindices),
                                SD_BUS_RESULT("o", path), method_register_machine_with_network, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UnregisterMachine", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_unregister_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("TerminateMachine", SD_BUS_ARGS("s", id), SD_BUS_NO_RESULT, method_terminate_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("KillMachine", SD_BUS_ARGS("s", name, "s", who, "i", signal), SD_BUS_NO_RESULT, method_kill_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachineAddresses", SD_BUS_ARGS("s", name), SD_BUS_RESULT("a(iay)", addresses), method_get_machine_addresses, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachineOSRelease", SD_BUS_ARGS("s", name), SD_BUS_RESULT("a{ss}", fields), method_get_machine_os_release, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMachineUIDShift", SD_BUS_ARGS("s", name), SD_BUS_RESULT("u", shift), method_get_machine_uid_shift, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenMachinePTY", SD_BUS_ARGS("s", name), SD_BUS_RESULT("h", pty, "s", pty_path),
                                method_open_machine_pty, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenMachineLogin", SD_BUS_ARGS("s", name), SD_BUS_RESULT("h", pty, "s", pty_path),
                                method_open_machine_login, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenMachineShell",
                                SD_BUS_ARGS("s", name, "s", user, "s", path, "as", args, "as", environment),
                                SD_BUS_RESULT("h", pty, "s", pty_path), method_open_machine_shell, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyToMachine", SD_BUS_ARGS("s", name, "s", source, "s", destination), SD_BUS_NO_RESULT,
                                method_copy_to_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyFromMachine", SD_BUS_ARGS("s", name, "s", source, "s", destination), SD_BUS_NO_RESULT,
                                method_copy_from_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyToMachineWithFlags", SD_BUS_ARGS("s", name, "s", source, "s", destination, "t", flags),
                                SD_BUS_NO_RESULT, method_copy_to_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyFromMachineWithFlags", SD_BUS_ARGS("s", name, "s", source, "s", destination, "t", flags),
                                SD_BUS_NO_RESULT, method_copy_from_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("BindMountMachine",
                                SD_BUS_ARGS("s", name, "s", source, "s", destination, "b", read_only, "b", mkdir),
                                SD_BUS_NO_RESULT, method_bind_mount_machine, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("MachineNew", SD_BUS_ARGS("s", machine, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("MachineRemoved", SD_BUS_ARGS("s", machine, "o", path), 0),
        SD_BUS_VTABLE_END,
};

/* ---- Machine objects ---- */

static int machine_find(sd_bus *bus, const char *path, const char *interface, void *userdata,
                        void **found, sd_bus_error *error) {
        RegMachine *m = registry_find_by_path(userdata, path);

        if (!m)
                return 0;
        *found = m;
        return 1;
}

static int machine_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
                             sd_bus_error *error) {
        Registry *reg = userdata;
        _cleanup_strv_free_ char **l = calloc(reg->n_machines + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < reg->n_machines; i++) {
                l[i] = strdup(reg->machines[i]->path);
                if (!l[i])
                        return -ENOMEM;
        }
        *nodes = TAKE_PTR(l);
        return 1;
}

static int property_id(sd_bus *bus, const char *path, const char *interface, const char *property,
                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        RegMachine *m = userdata;

        return sd_bus_message_append_array(reply, 'y', &m->id, sizeof(m->id));
}

static int property_class(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        RegMachine *m = userdata;

        return sd_bus_message_append(reply, "s", machine_class_to_string(m->class));
}

static int property_netif(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        RegMachine *m = userdata;

        return sd_bus_message_append_array(reply, 'i', m->netif, m->n_netif * sizeof(int));
}

static int property_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", "running");
}

static int property_leader(sd_bus *bus, const char *path, const char *interface, const char *property,
                           sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        RegMachine *m = userdata;

        return sd_bus_message_append(reply, "u", (uint32_t) m->leader);
}

static int mmethod_terminate(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return do_terminate(msg, userdata, error);
}

static int mmethod_kill(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *who;
        int32_t sig;
        int r = sd_bus_message_read(msg, "si", &who, &sig);

        if (r < 0)
                return r;
        return do_kill(msg, userdata, who, sig, error);
}

static int mmethod_get_addresses(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return reply_addresses(msg, userdata, error);
}

static int mmethod_get_os_release(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return reply_os_release(msg, userdata, error);
}

static int mmethod_get_uid_shift(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        uint32_t shift;
        int r = machine_uid_shift(userdata, &shift);

        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Cannot read the UID map: %m");
        return sd_bus_reply_method_return(msg, "u", shift);
}

static int mmethod_copy_to(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return do_copy(msg, userdata, false, sd_bus_message_has_signature(msg, "sst"), error);
}

static int mmethod_copy_from(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return do_copy(msg, userdata, true, sd_bus_message_has_signature(msg, "sst"), error);
}

static int mmethod_bind_mount(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return do_bind(msg, userdata, error);
}

static const sd_bus_vtable machine_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", NULL, offsetof(RegMachine, name), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Id", "ay", property_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Timestamp", "t", NULL, offsetof(RegMachine, timestamp_realtime), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("TimestampMonotonic", "t", NULL, offsetof(RegMachine, timestamp_monotonic), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Service", "s", NULL, offsetof(RegMachine, service), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Unit", "s", NULL, offsetof(RegMachine, unit), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Leader", "u", property_leader, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Class", "s", property_class, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("RootDirectory", "s", NULL, offsetof(RegMachine, root_directory), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NetworkInterfaces", "ai", property_netif, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_state, 0, 0),
        SD_BUS_METHOD("Terminate", NULL, NULL, mmethod_terminate, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Kill", SD_BUS_ARGS("s", who, "i", signal), SD_BUS_NO_RESULT, mmethod_kill, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetAddresses", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(iay)", addresses), mmethod_get_addresses, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetOSRelease", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{ss}", fields), mmethod_get_os_release, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUIDShift", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", shift), mmethod_get_uid_shift, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenPTY", SD_BUS_NO_ARGS, SD_BUS_RESULT("h", pty, "s", pty_path),
                                mmethod_open_pty, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenLogin", SD_BUS_NO_ARGS, SD_BUS_RESULT("h", pty, "s", pty_path),
                                mmethod_open_login, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("OpenShell", SD_BUS_ARGS("s", user, "s", path, "as", args, "as", environment),
                                SD_BUS_RESULT("h", pty, "s", pty_path), mmethod_open_shell, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyTo", SD_BUS_ARGS("s", source, "s", destination), SD_BUS_NO_RESULT, mmethod_copy_to,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyFrom", SD_BUS_ARGS("s", source, "s", destination), SD_BUS_NO_RESULT, mmethod_copy_from,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyToWithFlags", SD_BUS_ARGS("s", source, "s", destination, "t", flags), SD_BUS_NO_RESULT,
                                mmethod_copy_to, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CopyFromWithFlags", SD_BUS_ARGS("s", source, "s", destination, "t", flags),
                                SD_BUS_NO_RESULT, mmethod_copy_from, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("BindMount", SD_BUS_ARGS("s", source, "s", destination, "b", read_only, "b", mkdir),
                                SD_BUS_NO_RESULT, mmethod_bind_mount, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

int registry_bus_register(sd_bus *bus, Registry *r) {
        int q;

        q = sd_bus_add_object_vtable(bus, NULL, MACHINE1_PATH, MACHINE1_MANAGER, manager_vtable, r);
        if (q < 0)
                return q;
        q = sd_bus_add_fallback_vtable(bus, NULL, MACHINE1_MACHINE_PREFIX, MACHINE1_MACHINE, machine_vtable,
                                       machine_find, r);
        if (q < 0)
                return q;
        q = sd_bus_add_node_enumerator(bus, NULL, MACHINE1_MACHINE_PREFIX, machine_enumerate, r);
        if (q < 0)
                return q;
        return registry_images_register(bus, r);
}
