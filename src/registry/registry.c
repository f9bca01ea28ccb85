/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include "cgroup.h"
#include "init-kind.h"
#include "log.h"
#include "machine1-names.h"
#include "missing-syscall.h"
#include "registry.h"
#include "settings.h"
#include "stale.h"
#include "string-table.h"

static const char *const machine_class_table[_MACHINE_CLASS_MAX] = {
        [MACHINE_CLASS_CONTAINER] = "container",
        [MACHINE_CLASS_VM] = "vm",
};

static const char *const kill_whom_table[_KILL_WHOM_MAX] = {
        [KILL_LEADER] = "leader",
        [KILL_ALL] = "all",
};

DEFINE_STRING_TABLE(kill_whom, KillWhom, kill_whom_table, _KILL_WHOM_MAX)

DEFINE_STRING_TABLE(machine_class, MachineClass, machine_class_table, _MACHINE_CLASS_MAX)

/* ---- machines ---- */

static RegMachine *reg_machine_free(RegMachine *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->leader_watch);
        safe_close(m->leader_pidfd);
        sd_event_source_disable_unref(m->supervisor_watch);
        safe_close(m->supervisor_pidfd);
        free(m->name);
        free(m->service);
        free(m->root_directory);
        free(m->unit);
        free(m->cgroup);
        free(m->netif);
        free(m->path);
        free(m);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(RegMachine *, reg_machine_free)

/* ---- supervisors ---- */

bool reg_machine_supervisor_gone(const RegMachine *m) {
        struct pollfd p = { .fd = m->supervisor_pidfd, .events = POLLIN };

        if (m->supervisor <= 0)
                return false;
        if (m->supervisor_pidfd < 0)
                return true;
        /* A pidfd becomes readable when its process has exited, zombie or not. */
        return poll(&p, 1, 0) > 0;
}

/* Opens a pidfd on the supervisor when it is still the process of that PID
 * and start time; else leaves it -EBADF: gone. */
static void machine_watch_supervisor(RegMachine *m) {
        uint64_t st;

        m->supervisor_pidfd = safe_close(m->supervisor_pidfd);
        if (m->supervisor <= 1)
                return;
        m->supervisor_pidfd = pidfd_open(m->supervisor, 0);
        if (m->supervisor_pidfd < 0)
                return;
        if (pid_starttime(m->supervisor, &st) < 0 || st != m->supervisor_starttime)
                m->supervisor_pidfd = safe_close(m->supervisor_pidfd);
}

/* Field 4 of /proc/PID/stat. */
static pid_t pid_parent(pid_t pid) {
        _cleanup_free_ char *s = NULL;
        char path[64], *p;
        int ppid;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        if (read_file_at(AT_FDCWD, path, 4096, &s) < 0)
                return 0;
        p = strrchr(s, ')'); /* the command name may hold anything */
        if (!p || sscanf(p + 1, " %*c %d", &ppid) != 1)
                return 0;
        return (pid_t) ppid;
}

static int on_supervisor_lost(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RegMachine *m = userdata;

        /* Its leader's exit follows, and with it the removal of what is left. */
        m->supervisor_watch = sd_event_source_disable_unref(m->supervisor_watch);
        log_debug("Supervisor %d of machine %s is gone; killing the machine.", (int) m->supervisor, m->name);
        (void) reg_machine_terminate(m);
        return 0;
}

static int machine_watch_supervisor_exit(RegMachine *m) {
        if (!m->supervises_leader)
                return 0;
        if (m->supervisor_pidfd < 0)
                return reg_machine_terminate(m); /* gone already */
        return sd_event_add_io(m->registry->event, &m->supervisor_watch, m->supervisor_pidfd, EPOLLIN,
                               on_supervisor_lost, m);
}

static void leftovers_remove(const char *name, const char *cgroup) {
        int r = stale_machine_remove(name, cgroup);

        if (r < 0)
                log_debug_errno(r, "Cannot remove what machine %s left: %m", name);
}

typedef struct SupervisorWatch {
        Registry *registry;
        char *name, *cgroup;
        pid_t pid;
        int pidfd;
        sd_event_source *source;
        struct SupervisorWatch *next;
} SupervisorWatch;

static SupervisorWatch *supervisor_watch_free(SupervisorWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->source);
        safe_close(w->pidfd);
        free(w->name);
        free(w->cgroup);
        free(w);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(SupervisorWatch *, supervisor_watch_free)

static int on_supervisor_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        SupervisorWatch *w = userdata;
        Registry *r = w->registry;

        for (SupervisorWatch **p = &r->supervisor_watches; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        /* Gone before it was done with its machine: unless a machine of that
         * name runs again, what it left is ours to remove. */
        if (!registry_find(r, w->name)) {
                log_debug("Supervisor %d of machine %s is gone.", (int) w->pid, w->name);
                leftovers_remove(w->name, w->cgroup);
        }
        supervisor_watch_free(w);
        return 0;
}

static int supervisor_watch_add(Registry *r, const RegMachine *m) {
        _cleanup_(supervisor_watch_freep) SupervisorWatch *w = NULL;
        int q;

        for (SupervisorWatch *i = r->supervisor_watches; i; i = i->next)
                if (i->pid == m->supervisor && streq(i->name, m->name))
                        return 0; /* a reboot before: watched already */
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->registry = r;
        w->pid = m->supervisor;
        w->pidfd = fcntl(m->supervisor_pidfd, F_DUPFD_CLOEXEC, 3);
        if (w->pidfd < 0)
                return -errno;
        w->name = strdup(m->name);
        w->cgroup = strdup(m->cgroup);
        if (!w->name || !w->cgroup)
                return -ENOMEM;
        q = sd_event_add_io(r->event, &w->source, w->pidfd, EPOLLIN, on_supervisor_exit, w);
        if (q < 0)
                return q;
        w->next = r->supervisor_watches;
        r->supervisor_watches = TAKE_PTR(w);
        return 0;
}

static int on_leader_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        RegMachine *m = userdata;
        Registry *r = m->registry;

        /* A pidfd becomes readable when its process has exited. A supervisor
         * that still lives is rebooting the machine or removing it: its
         * business, unless it dies first. */
        log_debug("Leader %d of machine %s is gone.", (int) m->leader, m->name);
        m->abandoned = reg_machine_supervisor_gone(m);
        if (r->on_leader_gone)
                r->on_leader_gone(r, m, r->userdata);
        if (m->abandoned)
                leftovers_remove(m->name, m->cgroup);
        else if (m->supervisor_pidfd >= 0 && supervisor_watch_add(r, m) < 0)
                log_debug("Cannot watch supervisor %d of machine %s.", (int) m->supervisor, m->name);
        registry_remove(r, m);
        return 0;
}

static int machine_watch_leader(RegMachine *m) {
        m->leader_pidfd = pidfd_open(m->leader, 0);
        if (m->leader_pidfd < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        return sd_event_add_io(m->registry->event, &m->leader_watch, m->leader_pidfd, EPOLLIN,
                               on_leader_exit, m);
}

static bool string_is_safe(const char *s, size_t max) {
        if (!s || strlen(s) > max)
                return false;
        for (; *s; s++)
                if ((unsigned char) *s < ' ' || *s == 0x7f)
                        return false;
        return true;
}

static int params_check(const RegMachineParams *p, const char **ret_what) {
        if (!machine_name_is_valid(p->name))
                return *ret_what = "machine name", -EINVAL;
        if (!string_is_safe(strempty(p->service), 256))
                return *ret_what = "service", -EINVAL;
        if (p->class < 0 || p->class >= _MACHINE_CLASS_MAX)
                return *ret_what = "class", -EINVAL;
        if (p->leader <= 1)
                return *ret_what = "leader PID", -EINVAL;
        if (!isempty(p->root_directory) &&
            (!path_is_absolute(p->root_directory) || !string_is_safe(p->root_directory, 4096)))
                return *ret_what = "root directory", -EINVAL;
        for (size_t i = 0; i < p->n_netif; i++)
                if (p->netif[i] <= 0)
                        return *ret_what = "network interface index", -EINVAL;
        return 0;
}

static int machine_path(const char *name, char **ret) {
        return sd_bus_path_encode(MACHINE1_MACHINE_PREFIX, name, ret);
}

static int cmp_machine(const void *a, const void *b) {
        return strcmp((*(RegMachine *const *) a)->name, (*(RegMachine *const *) b)->name);
}

static int registry_insert(Registry *r, RegMachine *m) {
        RegMachine **n = reallocarray(r->machines, r->n_machines + 1, sizeof(RegMachine *));

        if (!n)
                return -ENOMEM;
        r->machines = n;
        r->machines[r->n_machines++] = m;
        qsort(r->machines, r->n_machines, sizeof(RegMachine *), cmp_machine);
        return 0;
}

/* ---- state files ---- */

static void put_escaped(FILE *f, const char *key, const char *v) {
        fprintf(f, "%s=", key);
        for (; v && *v; v++) {
                if (*v == '\\')
                        fputs("\\\\", f);
                else if (*v == '\n')
                        fputs("\\n", f);
                else
                        fputc(*v, f);
        }
        fputc('\n', f);
}

static void unescape_in_place(char *s) {
        char *w = s;

        for (; *s; s++) {
                if (*s == '\\' && s[1] == 'n')
                        *w++ = '\n', s++;
                else if (*s == '\\' && s[1] == '\\')
                        *w++ = '\\', s++;
                else
                        *w++ = *s;
        }
        *w = '\0';
}

static int machine_save(RegMachine *m) {
        _cleanup_free_ char *tmp = NULL, *final = NULL;
        _cleanup_close_ int fd = -EBADF;
        char hex[33];
        FILE *f;

        if (asprintf(&final, "%s/%s", m->registry->state_dir, m->name) < 0 ||
            asprintf(&tmp, "%s/.#%s", m->registry->state_dir, m->name) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        f = fdopen(TAKE_FD(fd), "w");
        if (!f)
                return -errno;
        id128_to_hex(&m->id, hex);
        put_escaped(f, "NAME", m->name);
        fprintf(f, "ID=%s\nCLASS=%s\nLEADER=%d\nLEADER_STARTTIME=%" PRIu64 "\n", hex,
                machine_class_to_string(m->class), (int) m->leader, m->leader_starttime);
        put_escaped(f, "SERVICE", m->service);
        put_escaped(f, "ROOT", m->root_directory);
        put_escaped(f, "UNIT", m->unit);
        put_escaped(f, "CGROUP", m->cgroup);
        fputs("NETIF=", f);
        for (size_t i = 0; i < m->n_netif; i++)
                fprintf(f, "%s%d", i ? " " : "", m->netif[i]);
        fprintf(f, "\nREALTIME=%" PRIu64 "\nMONOTONIC=%" PRIu64 "\nOWNS_CGROUP=%d\n",
                m->timestamp_realtime, m->timestamp_monotonic, m->owns_cgroup);
        fprintf(f, "SUPERVISOR=%d\nSUPERVISOR_STARTTIME=%" PRIu64 "\nSUPERVISES_LEADER=%d\n", (int) m->supervisor,
                m->supervisor_starttime, m->supervises_leader);
        if (fflush(f) != 0 || ferror(f)) {
                fclose(f);
                (void) unlink(tmp);
                return -EIO;
        }
        fclose(f);
        /* Replace atomically: a crash leaves the old file or the new one. */
        if (rename(tmp, final) < 0) {
                int r = -errno;
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

static void machine_unlink(RegMachine *m) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", m->registry->state_dir, m->name) >= 0)
                (void) unlink(p);
}

/* ---- the registry ---- */

/* The machine's cgroup, whoever made it: freeing it leaves the cgroup alone. */
static int machine_cgroup(const RegMachine *m, Cgroup **ret) {
        return cgroup_machine_open(m->cgroup, ret);
}

/* The cgroup CreateMachine made: emptied and removed, as systemd removes a scope. */
static void machine_release_cgroup(RegMachine *m) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;

        if (!m->owns_cgroup || machine_cgroup(m, &cg) < 0)
                return;
        (void) cgroup_machine_destroy(cg, 5 * 1000000ULL);
}

static int machine_create_cgroup(RegMachine *m) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;
        _cleanup_free_ char *procs = NULL;
        char buf[32];
        const char *rel;
        int r;

        r = cgroup_machine_new(m->name, &cg);
        if (r < 0)
                return r;
        procs = strjoin3(cg->path, "/", "cgroup.procs");
        if (!procs)
                return -ENOMEM;
        snprintf(buf, sizeof buf, "%d", (int) m->leader);
        r = write_string_file(procs, buf);
        if (r < 0)
                return r;
        rel = cg->path + strlen(cg->mount);
        m->cgroup = strdup(rel);
        m->unit = strdup(cg->unit);
        if (!m->cgroup || !m->unit)
                return -ENOMEM;
        m->owns_cgroup = true;
        /* From now on the machine owns the cgroup: machine_release_cgroup() removes it. */
        cgroup_machine_disown(cg);
        return 0;
}

int reg_machine_terminate(RegMachine *m) {
        _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;

        if (sys_pidfd_send_signal(m->leader_pidfd, SIGKILL) < 0 && errno != ESRCH)
                return -errno;
        /* Whatever is in its cgroup without being in its PID namespace goes too. */
        if (machine_cgroup(m, &cg) >= 0)
                (void) cgroup_machine_kill(cg, SIGKILL);
        return 0;
}

static InitKind leader_init_kind(const RegMachine *m) {
        _cleanup_close_ int fd = -EBADF;
        char path[64];

        snprintf(path, sizeof path, "/proc/%d/exe", (int) m->leader);
        fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return INIT_UNKNOWN;
        return init_kind_detect(fd);
}

int reg_machine_kill(RegMachine *m, KillWhom whom, int sig) {
        if (whom == KILL_LEADER) {
                InitKind k = leader_init_kind(m);

                if (sig == SIGRTMIN + 4 && (k == INIT_BUSYBOX || k == INIT_SYSVINIT))
                        return init_request_power(k, m->leader, m->leader_pidfd, POWER_OFF);
                if (sig == SIGINT && (k == INIT_BUSYBOX || k == INIT_SYSVINIT))
                        return init_request_power(k, m->leader, m->leader_pidfd, POWER_REBOOT);
                if (sys_pidfd_send_signal(m->leader_pidfd, sig) < 0)
                        return -errno;
                return 0;
        } else {
                _cleanup_(cgroup_machine_freep) Cgroup *cg = NULL;

                if (machine_cgroup(m, &cg) < 0)
                        return -ENOMEDIUM;
                return cgroup_machine_kill(cg, sig) < 0 ? -ESRCH : 0;
        }
}

int registry_new(sd_event *e, const char *state_dir, RegistryRemovedHandler on_leader_gone,
                 void *userdata, Registry **ret) {
        _cleanup_(registry_freep) Registry *r = calloc(1, sizeof(Registry));

        if (!r)
                return -ENOMEM;
        r->event = sd_event_ref(e);
        r->state_dir = strdup(state_dir);
        if (!r->state_dir)
                return -ENOMEM;
        r->on_leader_gone = on_leader_gone;
        r->userdata = userdata;
        if (mkdir(state_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        *ret = TAKE_PTR(r);
        return 0;
}

Registry *registry_free(Registry *r) {
        if (!r)
                return NULL;
        /* Machines stay registered on disk: a restarted boxd adopts them. */
        for (size_t i = 0; i < r->n_machines; i++)
                reg_machine_free(r->machines[i]);
        free(r->machines);
        while (r->supervisor_watches) {
                SupervisorWatch *w = r->supervisor_watches;

                r->supervisor_watches = w->next;
                supervisor_watch_free(w);
        }
        free(r->state_dir);
        sd_event_unref(r->event);
        free(r);
        return NULL;
}

RegMachine *registry_find(Registry *r, const char *name) {
        for (size_t i = 0; i < r->n_machines; i++)
                if (streq(r->machines[i]->name, name))
                        return r->machines[i];
        return NULL;
}

RegMachine *registry_find_by_pid(Registry *r, pid_t pid) {
        for (size_t i = 0; i < r->n_machines; i++)
                if (r->machines[i]->leader == pid)
                        return r->machines[i];
        return NULL;
}

RegMachine *registry_find_by_path(Registry *r, const char *path) {
        for (size_t i = 0; i < r->n_machines; i++)
                if (streq(r->machines[i]->path, path))
                        return r->machines[i];
        return NULL;
}

static int machine_fill_cgroup(RegMachine *m) {
        _cleanup_free_ char *cg = NULL;
        const char *b;
        size_t n;
        int r;

        r = pid_cgroup2_path(m->leader, &cg);
        if (r < 0)
                return r;
        b = path_basename_ref(cg, &n);
        m->unit = strndup(b, n);
        if (!m->unit)
                return -ENOMEM;
        m->cgroup = TAKE_PTR(cg);
        return 0;
}

int registry_add(Registry *r, const RegMachineParams *p, RegMachine **ret, const char **ret_what) {
        _cleanup_(reg_machine_freep) RegMachine *m = NULL;
        int q;

        q = params_check(p, ret_what);
        if (q < 0)
                return q;
        if (registry_find(r, p->name))
                return -EEXIST;
        if (registry_find_by_pid(r, p->leader))
                return -EADDRINUSE;

        m = calloc(1, sizeof(RegMachine));
        if (!m)
                return -ENOMEM;
        m->registry = r;
        m->leader_pidfd = m->supervisor_pidfd = -EBADF;
        m->name = strdup(p->name);
        m->service = strdup(strempty(p->service));
        m->root_directory = strdup(strempty(p->root_directory));
        if (!m->name || !m->service || !m->root_directory)
                return -ENOMEM;
        m->id = p->id;
        m->class = p->class;
        m->leader = p->leader;
        if (p->n_netif > 0) {
                m->netif = calloc(p->n_netif, sizeof(int));
                if (!m->netif)
                        return -ENOMEM;
                memcpy(m->netif, p->netif, p->n_netif * sizeof(int));
                m->n_netif = p->n_netif;
        }
        m->timestamp_realtime = now_usec(CLOCK_REALTIME);
        m->timestamp_monotonic = now_usec(CLOCK_MONOTONIC);

        /* Watch first, then read what we need: a leader that dies in between is
         * then seen by the watch, not missed. */
        q = machine_watch_leader(m);
        if (q < 0)
                return q;
        q = pid_starttime(m->leader, &m->leader_starttime);
        if (q < 0)
                return q;
        /* A caller that exited already is no supervisor. */
        if (p->supervisor > 1 && p->supervisor != p->leader &&
            pid_starttime(p->supervisor, &m->supervisor_starttime) >= 0) {
                m->supervisor = p->supervisor;
                m->supervises_leader = pid_parent(m->leader) == m->supervisor;
                machine_watch_supervisor(m);
                q = machine_watch_supervisor_exit(m);
                if (q < 0)
                        return q;
        }
        q = p->create_cgroup ? machine_create_cgroup(m) : machine_fill_cgroup(m);
        if (q < 0)
                return q;
        q = machine_path(m->name, &m->path);
        if (q >= 0)
                q = machine_save(m);
        if (q >= 0) {
                q = registry_insert(r, m);
                if (q < 0)
                        machine_unlink(m);
        }
        if (q < 0) {
                machine_release_cgroup(m);
                return q;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

void registry_remove(Registry *r, RegMachine *m) {
        for (size_t i = 0; i < r->n_machines; i++)
                if (r->machines[i] == m) {
                        memmove(r->machines + i, r->machines + i + 1,
                                (r->n_machines - i - 1) * sizeof(RegMachine *));
                        r->n_machines--;
                        break;
                }
        machine_unlink(m);
        machine_release_cgroup(m);
        reg_machine_free(m);
}

static int machine_load_one(Registry *r, const char *file, RegMachine **ret) {
        _cleanup_(reg_machine_freep) RegMachine *m = NULL;
        _cleanup_free_ char *s = NULL, *path = NULL;
        uint64_t st;
        int q;

        if (asprintf(&path, "%s/%s", r->state_dir, file) < 0)
                return -ENOMEM;
        q = read_file_at(AT_FDCWD, path, 64 * 1024, &s);
        if (q < 0)
                return q;
        m = calloc(1, sizeof(RegMachine));
        if (!m)
                return -ENOMEM;
        m->registry = r;
        m->leader_pidfd = m->supervisor_pidfd = -EBADF;
        m->class = _MACHINE_CLASS_INVALID;

        for (char *l = s; l && *l;) {
                char *e = strchrnul(l, '\n'), *v;
                bool more = *e != '\0';

                *e = '\0';
                v = strchr(l, '=');
                if (v) {
                        *v++ = '\0';
                        unescape_in_place(v);
                        if (streq(l, "NAME"))
                                m->name = strdup(v);
                        else if (streq(l, "ID"))
                                (void) id128_from_string(v, &m->id);
                        else if (streq(l, "CLASS"))
                                m->class = machine_class_from_string(v);
                        else if (streq(l, "LEADER"))
                                m->leader = (pid_t) atoi(v);
                        else if (streq(l, "LEADER_STARTTIME"))
                                m->leader_starttime = strtoull(v, NULL, 10);
                        else if (streq(l, "SERVICE"))
                                m->service = strdup(v);
                        else if (streq(l, "ROOT"))
                                m->root_directory = strdup(v);
                        else if (streq(l, "UNIT"))
                                m->unit = strdup(v);
                        else if (streq(l, "CGROUP"))
                                m->cgroup = strdup(v);
                        else if (streq(l, "REALTIME"))
                                m->timestamp_realtime = strtoull(v, NULL, 10);
                        else if (streq(l, "MONOTONIC"))
                                m->timestamp_monotonic = strtoull(v, NULL, 10);
                        else if (streq(l, "OWNS_CGROUP"))
                                m->owns_cgroup = streq(v, "1");
                        else if (streq(l, "SUPERVISOR"))
                                m->supervisor = (pid_t) atoi(v);
                        else if (streq(l, "SUPERVISOR_STARTTIME"))
                                m->supervisor_starttime = strtoull(v, NULL, 10);
                        else if (streq(l, "SUPERVISES_LEADER"))
                                m->supervises_leader = streq(v, "1");
                        else if (streq(l, "NETIF"))
                                for (char *w = strtok(v, " "); w; w = strtok(NULL, " ")) {
                                        int *n = reallocarray(m->netif, m->n_netif + 1, sizeof(int));
                                        if (!n)
                                                return -ENOMEM;
                                        m->netif = n;
                                        m->netif[m->n_netif++] = atoi(w);
                                }
                }
                l = more ? e + 1 : NULL;
        }
        if (!m->name || !streq(m->name, file) || !machine_name_is_valid(m->name) || m->leader <= 1 ||
            m->class < 0 || !m->service || !m->root_directory || !m->unit || !m->cgroup)
                return -EBADMSG;

        /* The same PID, and the same process: a PID reused since is not ours. */
        machine_watch_supervisor(m);
        q = machine_watch_leader(m);
        if (q >= 0 && (pid_starttime(m->leader, &st) < 0 || st != m->leader_starttime))
                q = -ESRCH;
        if (q == -ESRCH && reg_machine_supervisor_gone(m))
                /* Ended while boxd was away, and nobody removed what it left. */
                leftovers_remove(m->name, m->cgroup);
        if (q < 0)
                return q;
        /* Adopted; one whose supervisor died while boxd was away is killed now. */
        q = machine_watch_supervisor_exit(m);
        if (q < 0)
                return q;
        q = machine_path(m->name, &m->path);
        if (q < 0)
                return q;
        *ret = TAKE_PTR(m);
        return 0;
}

int registry_load(Registry *r, size_t *ret_adopted, size_t *ret_dropped) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        size_t adopted = 0, dropped = 0;

        d = opendir(r->state_dir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                RegMachine *m = NULL;
                int q;

                if (de->d_name[0] == '.')
                        continue;
                q = machine_load_one(r, de->d_name, &m);
                if (q >= 0 && !registry_find(r, m->name) && registry_insert(r, m) >= 0) {
                        adopted++;
                        continue;
                }
                reg_machine_free(m);
                log_debug_errno(q, "Dropping machine %s: %m", de->d_name);
                (void) unlinkat(dirfd(d), de->d_name, 0);
                dropped++;
        }
        if (ret_adopted)
                *ret_adopted = adopted;
        if (ret_dropped)
                *ret_dropped = dropped;
        return 0;
}
