/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "lock.h"
#include "registry.h"
#include "tap.h"

static pid_t spawn_idle(void) {
        pid_t p = fork();

        if (p == 0) {
                pause();
                _exit(0);
        }
        return p;
}

static void reap(pid_t p) {
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
}

static void test_tables(void) {
        for (int i = 0; i < _MACHINE_CLASS_MAX; i++)
                CHECK(machine_class_from_string(machine_class_to_string(i)) == i);
        for (int i = 0; i < _KILL_WHOM_MAX; i++)
                CHECK(kill_whom_from_string(kill_whom_to_string(i)) == i);
        CHECK(machine_class_from_string("toaster") == _MACHINE_CLASS_INVALID);
        CHECK(kill_whom_from_string("everyone") == _KILL_WHOM_INVALID);
}

static void test_registry(const char *dir) {
        sd_event *e = NULL;
        Registry *r = NULL;
        RegMachine *m = NULL;
        const char *what = NULL;
        pid_t a = spawn_idle(), b = spawn_idle();
        int netif[] = { 3, 7 };
        RegMachineParams p = {
                .name = "alpha", .service = "test", .class = MACHINE_CLASS_CONTAINER,
                .leader = a, .root_directory = "/srv/alpha beta", .netif = netif, .n_netif = 2,
        };
        size_t adopted = 99, dropped = 99;
        char path[512];
        struct stat st;

        CHECK(sd_event_new(&e) >= 0);
        CHECK(registry_new(e, dir, NULL, NULL, &r) == 0);

        /* Bad fields are named. */
        RegMachineParams bad = p;
        bad.name = "a b";
        CHECK(registry_add(r, &bad, &m, &what) == -EINVAL && streq(what, "machine name"));
        bad = p;
        bad.leader = 1;
        CHECK(registry_add(r, &bad, &m, &what) == -EINVAL && streq(what, "leader PID"));
        bad = p;
        bad.root_directory = "relative";
        CHECK(registry_add(r, &bad, &m, &what) == -EINVAL && streq(what, "root directory"));
        bad = p;
        bad.class = _MACHINE_CLASS_INVALID;
        CHECK(registry_add(r, &bad, &m, &what) == -EINVAL && streq(what, "class"));
        bad = p;
        bad.leader = 4000000;
        CHECK(registry_add(r, &bad, &m, &what) == -ESRCH);

        /* A newline in a root directory is refused too: it is a control character. */
        bad = p;
        bad.root_directory = "/srv/with\nnewline";
        CHECK(registry_add(r, &bad, &m, &what) == -EINVAL && streq(what, "root directory"));
        CHECK(r->n_machines == 0);
        CHECK(registry_add(r, &p, &m, &what) == 0);
        CHECK(r->n_machines == 1);
        CHECK(m->leader == a && m->n_netif == 2 && m->netif[1] == 7);
        CHECK_STREQ(m->path, "/org/freedesktop/machine1/machine/alpha");
        snprintf(path, sizeof path, "%s/alpha", dir);
        CHECK(stat(path, &st) == 0);

        RegMachineParams dup = p;
        dup.leader = b;
        CHECK(registry_add(r, &dup, &m, &what) == -EEXIST);
        dup.name = "beta";
        dup.leader = a;
        CHECK(registry_add(r, &dup, &m, &what) == -EADDRINUSE);
        dup.leader = b;
        CHECK(registry_add(r, &dup, &m, &what) == 0);
        CHECK(registry_find_by_pid(r, b) == m);
        CHECK(registry_find(r, "alpha") && registry_find(r, "beta"));
        CHECK(!registry_find(r, "gamma"));
        /* Kept sorted by name. */
        CHECK(streq(r->machines[0]->name, "alpha") && streq(r->machines[1]->name, "beta"));

        /* A new registry (a restarted boxd) adopts both from the state files... */
        r = registry_free(r);
        CHECK(registry_new(e, dir, NULL, NULL, &r) == 0);
        CHECK(registry_load(r, &adopted, &dropped) == 0);
        CHECK(adopted == 2 && dropped == 0);
        m = registry_find(r, "alpha");
        CHECK(m && m->leader == a && streq(m->root_directory, "/srv/alpha beta") && m->n_netif == 2);
        CHECK(m && streq(m->service, "test") && m->class == MACHINE_CLASS_CONTAINER);
        r = registry_free(r);

        /* ...and one whose leader died meanwhile is dropped, with its file. */
        reap(b);
        CHECK(registry_new(e, dir, NULL, NULL, &r) == 0);
        CHECK(registry_load(r, &adopted, &dropped) == 0);
        CHECK(adopted == 1 && dropped == 1);
        snprintf(path, sizeof path, "%s/beta", dir);
        CHECK(stat(path, &st) < 0 && errno == ENOENT);

        /* Removing a machine removes its file. */
        registry_remove(r, registry_find(r, "alpha"));
        snprintf(path, sizeof path, "%s/alpha", dir);
        CHECK(stat(path, &st) < 0 && errno == ENOENT);
        CHECK(r->n_machines == 0);

        registry_free(r);
        sd_event_unref(e);
        reap(a);
}

/* The caller of RegisterMachine is the machine's supervisor: kept across a
 * restart, and known gone once it has exited. */
static void test_supervisor(const char *dir) {
        sd_event *e = NULL;
        Registry *r = NULL;
        RegMachine *m = NULL;
        const char *what = NULL;
        pid_t leader = spawn_idle(), other = spawn_idle();
        RegMachineParams p = {
                .name = "gamma", .service = "test", .class = MACHINE_CLASS_CONTAINER,
                .leader = leader, .root_directory = "/srv/gamma", .supervisor = getpid(),
        };
        size_t adopted = 99, dropped = 99;

        CHECK(sd_event_new(&e) >= 0);
        CHECK(registry_new(e, dir, NULL, NULL, &r) == 0);
        CHECK(registry_add(r, &p, &m, &what) == 0);
        CHECK(m->supervisor == getpid() && m->supervisor_pidfd >= 0);
        CHECK(m->supervises_leader); /* the leader is our child */
        CHECK(!reg_machine_supervisor_gone(m));

        /* Registered by another process, not the leader's parent. */
        RegMachineParams q = p;
        q.name = "delta";
        q.leader = spawn_idle();
        q.supervisor = other;
        CHECK(registry_add(r, &q, &m, &what) == 0);
        CHECK(m->supervisor == other && !m->supervises_leader);
        CHECK(!reg_machine_supervisor_gone(m));
        reap(other);
        CHECK(reg_machine_supervisor_gone(m));

        /* Unknown (an old state file, a caller gone before the call ended): never "gone". */
        RegMachineParams u = p;
        u.name = "epsilon";
        u.leader = spawn_idle();
        u.supervisor = 0;
        CHECK(registry_add(r, &u, &m, &what) == 0);
        CHECK(m->supervisor == 0 && !reg_machine_supervisor_gone(m));

        /* A restarted boxd knows them from the state files. */
        r = registry_free(r);
        CHECK(registry_new(e, dir, NULL, NULL, &r) == 0);
        CHECK(registry_load(r, &adopted, &dropped) == 0);
        CHECK(adopted == 3 && dropped == 0);
        m = registry_find(r, "gamma");
        CHECK(m && m->supervisor == getpid() && m->supervises_leader && !reg_machine_supervisor_gone(m));
        m = registry_find(r, "delta");
        CHECK(m && m->supervisor == other && reg_machine_supervisor_gone(m));
        m = registry_find(r, "epsilon");
        CHECK(m && m->supervisor == 0 && !reg_machine_supervisor_gone(m));

        reap(q.leader);
        reap(u.leader);
        while (r->n_machines > 0)
                registry_remove(r, r->machines[0]);
        registry_free(r);
        sd_event_unref(e);
        reap(leader);
}

/* A lock file nobody holds goes; a held one stays. */
static void test_lock_sweep(const char *dir) {
        char path[512];
        int dfd, held;

        snprintf(path, sizeof path, "%s/tree-1:2-3.lock", dir);
        held = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        CHECK(held >= 0 && flock(held, LOCK_SH) == 0);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dfd >= 0);
        CHECK(lock_file_remove_unheld(dfd, "tree-1:2-3.lock") == 0);
        CHECK(access(path, F_OK) == 0);
        close(held);
        CHECK(lock_file_remove_unheld(dfd, "tree-1:2-3.lock") == 1);
        CHECK(access(path, F_OK) < 0 && errno == ENOENT);
        CHECK(lock_file_remove_unheld(dfd, "tree-1:2-3.lock") == 0);
        close(dfd);
}

static void test_unit_names(void) {
        static const char *const names[] = { "a", "a-b", "deb-12-x", "x.y_z" };
        char *unit, *name;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                unit = cgroup_unit_name(names[i]);
                CHECK(unit && cgroup_unit_to_machine_name(unit, &name) == 0);
                CHECK_STREQ(name, names[i]);
                free(unit);
                free(name);
        }
        CHECK(cgroup_unit_to_machine_name("stress-host.1.scope", &name) == -EINVAL);
        CHECK(cgroup_unit_to_machine_name("machine-.scope", &name) == -EINVAL);
        CHECK(cgroup_unit_to_machine_name("machine-a.slice", &name) == -EINVAL);
}

static void test_pid_facts(void) {
        uint64_t t1 = 0, t2 = 0;
        char *cg = NULL;

        CHECK(pid_starttime(getpid(), &t1) == 0 && t1 > 0);
        CHECK(pid_starttime(getpid(), &t2) == 0 && t1 == t2);
        CHECK(pid_starttime(4000000, &t1) == -ESRCH);
        CHECK(pid_cgroup2_path(getpid(), &cg) == 0 && cg[0] == '/');
        free(cg);
}

int main(void) {
        char dir[] = "/tmp/boxctl-test-registry.XXXXXX";

        if (!mkdtemp(dir))
                return 1;
        test_tables();
        test_registry(dir);
        test_supervisor(dir);
        test_lock_sweep(dir);
        test_unit_names();
        test_pid_facts();
        rmdir(dir);
        return tap_done();
}
