#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# boxctl-oci: the parts of config.json that runtime-tools' validation suite
# reads back from inside the container (the order of the mounts in
# mountinfo, linux.rootfsPropagation, linux.sysctl, linux.seccomp), each
# checked directly by a payload, and each one's bad input (one line naming
# the JSON path, exit 1 as runc). test-oci.sh has the verbs and the rest.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"
: "${BOXCTL_SYSCALL_PROBE:?}"

. "$BOXCTL_SRCDIR/tests/lib/oci.sh"
stopped() { [[ $(oci state "$1" | jq -r .status) == stopped ]]; }

# The mounts as runtime-tools' generator writes them (its order: /sys last).
base_config='{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["true"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/",
    "capabilities": {"bounding": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"], "effective": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"],
                     "permitted": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]}
  },
  "root": {"path": "rootfs"},
  "hostname": "oci-config",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts"},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue"},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]
  }
}'
# Each bundle's rootfs gets the syscall probe (bundle(), tests/lib/oci.sh).
bundle_rootfs_extra() { cp "$BOXCTL_SYSCALL_PROBE" "$1/usr/bin/syscall-probe"; }
# run_container ID BUNDLE: create (its stdio is the container's), start,
# wait until it stopped, print what it wrote, delete.
run_container() {
        local out=$work/$1.out
        oci create --bundle "$2" "$1" >"$out" 2>&1 </dev/null || { cat "$out"; return 1; }
        oci start "$1"
        wait_for 10 stopped "$1"
        cat "$out"
        oci delete "$1"
}

# --- mounts: the machine's own /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue and /sys in config.json's order ---
order='awk '"'"'$5 ~ /^\/(proc|sys|dev|dev\/pts|dev\/shm|dev\/mqueue)$/ { for (i = 7; $i != "-"; i++); print $5, $(i + 1), $(i + 2) }'"'"' /proc/self/mountinfo'
b=$(bundle order ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$order" '$s')]")
out=$(run_container order "$b")
is "$out" $'/proc proc proc\n/dev tmpfs tmpfs\n/dev/pts devpts devpts\n/dev/shm tmpfs shm\n/dev/mqueue mqueue mqueue\n/sys sysfs sysfs' \
        "mountinfo lists /proc, /dev, /dev/pts, /dev/shm (source shm), /dev/mqueue, /sys in the config's order"
b=$(bundle order2 ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$order" '$s')]
        | .mounts = [.mounts[5], .mounts[4], .mounts[0]]")
out=$(run_container order2 "$b")
is "$out" $'/sys sysfs sysfs\n/dev tmpfs tmpfs\n/dev/pts devpts devpts\n/dev/shm tmpfs shm\n/dev/mqueue mqueue mqueue\n/proc proc proc' \
        "another order: /sys, /dev/mqueue (after the /dev it needs), /proc"
b=$(bundle order3 ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$order" '$s')] | .mounts = []")
out=$(run_container order3 "$b")
is "$out" $'/proc proc proc\n/sys sysfs sysfs\n/dev tmpfs tmpfs\n/dev/pts devpts devpts\n/dev/shm tmpfs shm' \
        "no mounts in config.json: the machine still has its /proc, /sys and /dev (no /dev/mqueue)"

b=$(bundle order4 '.process.args = ["sh", "-c", "awk '"'"'$5 ~ /^\\/(tmp\\/t1|mnt\\/b1|tmp\\/t2|mnt\\/b2)$/ { print $5 }'"'"' /proc/self/mountinfo"]
        | .mounts += [{"destination": "/tmp/t1", "type": "tmpfs", "source": "tmpfs"},
                      {"destination": "/mnt/b1", "source": "/etc", "options": ["bind"]},
                      {"destination": "/tmp/t2", "type": "tmpfs", "source": "tmpfs"},
                      {"destination": "/mnt/b2", "source": "/etc", "options": ["rbind", "ro"]}]')
is "$(run_container order4 "$b")" $'/tmp/t1\n/mnt/b1\n/tmp/t2\n/mnt/b2' \
        "tmpfs and bind mounts in the config's order, a tmpfs in the machine's own /tmp included"

# --- linux.rootfsPropagation: on the container's / (its optional fields in mountinfo) ---
prop='awk '"'"'$5 == "/" { print ($7 ~ /^(shared|master):/ ? substr($7, 1, index($7, ":") - 1) : $7) }'"'"' /proc/self/mountinfo'
# (slave shows nothing: the root had no master to follow; mount_setup() made it private.)
for p in shared unbindable private; do
        b=$(bundle "prop-$p" ".process.args = [\"sh\", \"-c\", $(jq -Rn --arg s "$prop" '$s')] | .linux.rootfsPropagation = \"$p\"")
        want=$p
        [[ $p == private ]] && want=-
        is "$(run_container "prop-$p" "$b")" "$want" "linux.rootfsPropagation $p: the root's propagation in mountinfo is '$want'"
done
for p in runbindable:refused rprivate:bound; do
        b=$(bundle "prop-bind-${p%:*}" ".process.args = [\"sh\", \"-c\", \"mkdir /t && mount --bind / /t 2>/dev/null && echo bound || echo refused\"]
                | .linux.rootfsPropagation = \"${p%:*}\"")
        is "$(run_container "prop-bind-${p%:*}" "$b")" "${p#*:}" "linux.rootfsPropagation ${p%:*}: a bind of / inside is ${p#*:}"
done
b=$(bundle prop-bad '.linux.rootfsPropagation = "sideways"')
fails_with "linux.rootfsPropagation of no such mode" 'linux.rootfsPropagation: "sideways" is not a propagation' \
        oci create --bundle "$b" prop-bad

# --- linux.sysctl: set in the container's own namespaces, never the host's ---
host_shmmni=$(cat /proc/sys/kernel/shmmni) host_domain=$(cat /proc/sys/kernel/domainname)
b=$(bundle sysctl '.process.args = ["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/kernel/domainname /proc/sys/fs/mqueue/msg_max"]
        | .linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmni": "1234", "kernel.domainname": "oci.example", "fs.mqueue.msg_max": "42"}')
is "$(run_container sysctl "$b")" $'1\n1234\noci.example\n42' "linux.sysctl: a net, an IPC, a UTS and an mqueue value, as the container reads them"
is "$(cat /proc/sys/kernel/shmmni) $(cat /proc/sys/kernel/domainname)" "$host_shmmni $host_domain" "linux.sysctl: the host's values are untouched"
b=$(bundle sysctl-bad)
sysctl_refused() { # DESC NEEDLE JQ-FILTER
        jq "$3" <<<"$base_config" >"$b/config.json"
        fails_with "$1" "$2" oci create --bundle "$b" sysctl-bad
}
sysctl_refused "linux.sysctl: a key that is no sysctl name" 'linux.sysctl: "net/ipv4/../x" is not a sysctl name' \
        '.linux.sysctl = {"net/ipv4/../x": "1"}'
sysctl_refused "linux.sysctl: a value that is not a string" 'linux.sysctl.net.ipv4.ip_forward: not a string' \
        '.linux.sysctl = {"net.ipv4.ip_forward": 1}'
sysctl_refused "linux.sysctl: a key of no namespace (the host's)" 'linux.sysctl: sysctl "vm.swappiness" is not in a separate kernel namespace' \
        '.linux.sysctl = {"vm.swappiness": "10"}'
sysctl_refused "linux.sysctl: kernel.hostname (the hostname field's)" 'conflicts with the OCI "hostname" field' \
        '.linux.sysctl = {"kernel.hostname": "x"}'
sysctl_refused "linux.sysctl: a net key without a network namespace" "linux.sysctl: sysctl \"net.ipv4.ip_forward\" is not allowed in the host's network namespace" \
        '.linux.sysctl = {"net.ipv4.ip_forward": "1"} | .linux.namespaces -= [{"type": "network"}]'
sysctl_refused "linux.sysctl: a key this kernel does not have" 'linux.sysctl: cannot set net.ipv4.no_such_key: No such file or directory' \
        '.linux.sysctl = {"net.ipv4.no_such_key": "1"}'
is "$(oci list -q)" "" "the refused creates left no container"

# --- linux.seccomp: compiled with libseccomp, installed on top of the machine's own filter ---
b=$(bundle seccomp '.process.args = ["syscall-probe", "uname", "getpid", "memfd_create", "init_module"]
        | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_AARCH64"],
                            "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO"},
                                         {"names": ["memfd_create"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                                         {"names": ["no_such_call_anywhere"], "action": "SCMP_ACT_ERRNO"},
                                         {"names": ["init_module"], "action": "SCMP_ACT_ALLOW"}]}')
is "$(run_container seccomp "$b")" $'uname EPERM\ngetpid ok\nmemfd_create ENOSYS\ninit_module EPERM' \
        "linux.seccomp: a denied call fails with EPERM, errnoRet is used, others run; an allow does not lift the machine's own refusal"
b=$(bundle seccomp-exec '.process.args = ["sleep", "1000"]
        | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO"}]}')
check "a container with a linux.seccomp profile runs" bash -c '"$1" --root "$2" create --bundle "$3" seccomp-exec </dev/null >/dev/null &&
        "$1" --root "$2" start seccomp-exec' _ "$OCI" "$root" "$b"
is "$(oci exec seccomp-exec syscall-probe uname getpid)" $'uname EPERM\ngetpid ok' \
        "exec: a process run in the container later gets the container's linux.seccomp too"
check "...delete --force" oci delete --force seccomp-exec
b=$(bundle seccomp-args '.process.args = ["syscall-probe", "uname", "getpid"]
        | .linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                            "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
                                         {"names": ["getpid", "execve", "exit_group", "exit", "brk", "arch_prctl", "set_tid_address",
                                                    "write", "writev", "mmap", "munmap", "mprotect", "rt_sigprocmask", "rt_sigaction",
                                                    "clone", "clone3", "fork", "vfork", "wait4", "waitid", "read", "close", "openat",
                                                    "fstat", "newfstatat", "stat", "access", "chdir", "getcwd", "prlimit64", "setgroups",
                                                    "setresuid", "setresgid", "capget", "capset", "prctl", "set_robust_list", "rseq",
                                                    "getrandom", "readlinkat", "ioctl", "lseek", "sigaltstack", "futex", "getppid", "dup2", "dup3",
                                                    "fcntl", "exit_group"], "action": "SCMP_ACT_ALLOW"}]}')
is "$(run_container seccomp-args "$b")" $'uname EPERM\ngetpid ok' \
        "linux.seccomp: an allow-list profile (default errno), with a rule on an argument that does not match"
b=$(bundle seccomp-bad)
seccomp_refused() { # DESC NEEDLE JQ-FILTER
        jq "$3" <<<"$base_config" >"$b/config.json"
        fails_with "$1" "$2" oci create --bundle "$b" seccomp-bad
}
seccomp_refused "linux.seccomp: an action of no such name" 'linux.seccomp.syscalls[0].action: "SCMP_ACT_MAYBE" is not a seccomp action' \
        '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_MAYBE"}]}'
seccomp_refused "linux.seccomp: no defaultAction" 'linux.seccomp.defaultAction: missing or not a string' \
        '.linux.seccomp = {"syscalls": []}'
seccomp_refused "linux.seccomp: an architecture of no such name" 'linux.seccomp.architectures[1]: "SCMP_ARCH_Z80" is not an architecture' \
        '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"]}'
seccomp_refused "linux.seccomp: a comparison of no such name" 'linux.seccomp.syscalls[0].args[0].op: "SCMP_CMP_ABOUT" is not a comparison' \
        '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]}'
seccomp_refused "linux.seccomp: a listener (SCMP_ACT_NOTIFY)" 'SCMP_ACT_NOTIFY (a listener) is not supported' \
        '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["uname"], "action": "SCMP_ACT_NOTIFY"}]}'
is "$(oci list -q)" "" "the refused creates left no container"

# --- mounts in the machine's own /run and /dev (podman's /run/.containerenv,
# Kubernetes' /dev/termination-log and /var/run/secrets), and tmpcopyup ---
# Binds of a directory and a file, read-only and read-write, one through the
# rootfs' /var/run -> /run symlink, a tmpfs in /run, and a tmpfs with
# tmpcopyup over a directory of the rootfs; then, with the container stopped
# and not yet deleted, nothing of them in the rootfs.
hostdir=$work/hostdir hostrw=$work/hostrw
mkdir -p "$hostdir/sub" "$hostrw"
echo dir >"$hostdir/in"
echo file >"$work/hostfile"
echo token >"$work/token"
# Written by the container's root, which is another user with uidMappings.
chmod 0777 "$hostrw"
chmod 0666 "$work/hostfile"
run_mounts='cat /run/x/in /run/x/sub/../in; touch /run/x/w 2>/dev/null && echo x-rw || echo x-ro
cat /dev/y; echo written >/dev/y && echo y-rw
echo guest >/run/rw/out; awk '"'"'$5 == "/run/rw" { print ($7 ~ /^shared:/ ? "rw-shared" : "rw-" $7) }'"'"' /proc/self/mountinfo
cat /var/run/secrets/token /run/secrets/token; { echo t >/run/secrets/token; } 2>/dev/null && echo token-rw || echo token-ro
awk '"'"'$5 ~ /^\/(run\/x|dev\/y|run\/rw|run\/secrets\/token|run\/lock|srv\/data)$/ { print $5, $6 }'"'"' /proc/self/mountinfo
cat /srv/data/a /srv/data/sub/b; readlink /srv/data/link; stat -c "%u:%g %a" /srv/data/a /srv/data/sub; echo new >/srv/data/new
ls -A /run /dev | grep -c "^x$\|^y$\|^secrets$\|^rw$\|^lock$"'
mounts_filter='.process.args = ["sh", "-c", $s]
        | .mounts += [{"destination": "/run/x", "type": "bind", "source": $d, "options": ["rbind", "ro"]},
                      {"destination": "/dev/y", "type": "bind", "source": $f, "options": ["bind", "nosuid", "nodev", "noexec"]},
                      {"destination": "/run/rw", "type": "bind", "source": $rw, "options": ["rbind", "rw", "rshared"]},
                      {"destination": "/var/run/secrets/token", "type": "bind", "source": $t, "options": ["bind", "rro"]},
                      {"destination": "/run/lock", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "size=512k"]},
                      {"destination": "/srv/data", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "tmpcopyup"]}]'
mounts_rootfs() { # ROOTFS: /var/run -> /run, and a directory with content for tmpcopyup
        mkdir -p "$1/var" "$1/srv/data/sub"
        ln -sfn ../run "$1/var/run"
        echo a >"$1/srv/data/a"
        echo b >"$1/srv/data/sub/b"
        ln -sfn a "$1/srv/data/link"
        chown 1000:1001 "$1/srv/data/a"
        chmod 0604 "$1/srv/data/a"
        chmod 0750 "$1/srv/data/sub"
}
mounts_expected=$'dir\ndir\nx-ro\nfile\ny-rw\nrw-shared\ntoken\ntoken\ntoken-ro
/run/x ro,relatime
/dev/y rw,nosuid,nodev,noexec,relatime
/run/rw rw,relatime
/run/secrets/token ro,relatime
/run/lock rw,nosuid,nodev,noexec,relatime
/srv/data rw,nosuid,nodev,relatime
a\nb\na\n1000:1001 604\n0:0 750\n5'
# check_mounts ID BUNDLE DESC: runs it, compares, looks at the rootfs while
# the container is stopped but not deleted, then deletes it.
check_mounts() {
        local out=$work/$1.out rootfs=$2/rootfs
        oci create --bundle "$2" "$1" >"$out" 2>&1 </dev/null || { cat "$out"; return 1; }
        oci start "$1"
        wait_for 10 stopped "$1"
        is "$(sed 's/,relatime.*/,relatime/' "$out")" "$mounts_expected" \
                "$3: binds on /run/x (dir, ro), /dev/y (file, nosuid,nodev,noexec), /run/rw (rshared), /var/run/secrets/token (rro, through /var/run -> /run), a tmpfs on /run/lock, tmpcopyup on /srv/data: content, options, config order"
        is "$(ls -A "$rootfs/run" "$rootfs/dev" | grep -v ':$' | grep -c .)" 0 "$3: no mount point was made in the rootfs' /run or /dev"
        is "$(cat "$rootfs/srv/data/a") $(stat -c '%u:%g %a' "$rootfs/srv/data/a") $(ls -A "$rootfs/srv/data" | paste -sd,)" \
                "a 1000:1001 604 a,link,sub" "$3: the rootfs under the tmpcopyup tmpfs is untouched by the copy and by the write inside"
        is "$(cat "$work/hostfile") $(cat "$hostrw/out") $(ls "$hostdir" | paste -sd,)" "written guest in,sub" \
                "$3: the read-write binds' writes are on the host, nothing written through the read-only one"
        oci delete "$1"
        echo file >"$work/hostfile"
        rm -f "$hostrw/out"
}
b=$(bundle runmounts)
jq --arg s "$run_mounts" --arg d "$hostdir" --arg f "$work/hostfile" --arg rw "$hostrw" --arg t "$work/token" \
        "$mounts_filter" <<<"$base_config" >"$b/config.json"
mounts_rootfs "$b/rootfs"
check_mounts runmounts "$b" "mounts in /run and /dev"
b=$(bundle runmounts-userns)
jq --arg s "$run_mounts" --arg d "$hostdir" --arg f "$work/hostfile" --arg rw "$hostrw" --arg t "$work/token" \
        "$mounts_filter"' | .linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 65536}] | .linux.gidMappings = .linux.uidMappings' \
        <<<"$base_config" >"$b/config.json"
mounts_rootfs "$b/rootfs"
check_mounts runmounts-userns "$b" "the same with a user namespace (uidMappings)"

# idmap on a bind in /run with uidMappings: the host's root owns the file,
# which shows as the container's root through the idmapped bind, as nobody
# through the plain one.
b=$(bundle idmap-run)
jq --arg d "$hostdir" '.process.args = ["sh", "-c", "stat -c %u /run/idm/in /dev/plain/in"]
        | .mounts += [{"destination": "/run/idm", "type": "bind", "source": $d, "options": ["rbind", "idmap"]},
                      {"destination": "/dev/plain", "type": "bind", "source": $d, "options": ["rbind"]}]
        | .linux.namespaces += [{"type": "user"}]
        | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 65536}] | .linux.gidMappings = .linux.uidMappings' \
        <<<"$base_config" >"$b/config.json"
is "$(run_container idmap-run "$b")" $'0\n65534' "a bind with idmap on /run/idm (uidMappings): the host's root is the container's; without, nobody"

# tmpcopyup where the machine has a tmpfs of its own (podman --systemd=always:
# /run and /tmp): the rootfs' own /run and /tmp are what is copied.
for v in plain userns; do
        b=$(bundle "copyup-own-$v")
        mkdir -p "$b/rootfs/run/d"
        echo r >"$b/rootfs/run/d/r"
        echo t >"$b/rootfs/tmp/t"
        filter='.process.args = ["sh", "-c", "cat /run/d/r /tmp/t; stat -c %a /tmp"]
                | .mounts += [{"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "tmpcopyup"]},
                              {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "tmpcopyup"]}]'
        [[ $v == plain ]] || filter+=' | .linux.namespaces += [{"type": "user"}]
                | .linux.uidMappings = [{"containerID": 0, "hostID": 1000000, "size": 65536}] | .linux.gidMappings = .linux.uidMappings'
        jq "$filter" <<<"$base_config" >"$b/config.json"
        is "$(run_container "copyup-own-$v" "$b")" $'r\nt\n1777' "tmpcopyup on /run and /tmp ($v): the rootfs' own /run and /tmp are in the machine's"
done

# A symlink that climbs out of the rootfs is followed inside it (as runc's
# securejoin does): the bind lands in the container, the host path it names
# gets nothing.
escape_target=$work/escape-target
mkdir -p "$escape_target"
b=$(bundle escape)
ln -sfn "../../../../../../../..$escape_target" "$b/rootfs/escape"
mkdir -p "$b/rootfs$escape_target" # where it leads inside the rootfs
jq --arg d "$hostdir" '.process.args = ["sh", "-c", "cat /escape/x/in"]
        | .mounts += [{"destination": "/escape/x", "type": "bind", "source": $d, "options": ["rbind"]}]' <<<"$base_config" >"$b/config.json"
is "$(run_container escape "$b")" dir "a destination through a symlink that climbs out of the rootfs: bound inside the container"
is "$(ls -A "$escape_target" | wc -l)" 0 "...and nothing made or mounted at the host path the symlink names"
ok "...and the mount point made for it in the rootfs is gone after delete" \
        bash -c '[[ -d $1/rootfs$2 && -z $(ls -A "$1/rootfs$2") ]]' _ "$b" "$escape_target"

# Bad input: a bind source that does not exist; a destination through a
# symlink loop. One line, exit 1, nothing left.
b=$(bundle mounts-bad)
jq '.mounts += [{"destination": "/run/x", "type": "bind", "source": "/no/such/source", "options": ["rbind"]}]' <<<"$base_config" >"$b/config.json"
fails_with "a bind source that does not exist" 'mounts[6].source: /no/such/source (bound on /run/x): No such file or directory' \
        oci create --bundle "$b" mounts-bad
ln -sfn loop "$b/rootfs/loop"
jq --arg d "$hostdir" '.mounts += [{"destination": "/loop/x", "type": "bind", "source": $d, "options": ["rbind"]}]' <<<"$base_config" >"$b/config.json"
fails_with "a destination through a symlink loop" 'Too many levels of symbolic links' oci create --bundle "$b" mounts-bad
ok "...nothing left in the rootfs" bash -c '[[ -z $(find "$1/rootfs/run" "$1/rootfs/dev" -mindepth 1) && ! -e $1/rootfs/loop/x ]]' _ "$b"
is "$(oci list -q)" "" "the refused creates left no container"

leaks_check
