#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# boxctl-oci, the OCI runtime with runc's command line: the verbs and the
# container's life (created -> running -> stopped), config.json mapped onto
# the machine, the errors (runc's words, exit 1) of every bad input, and
# nothing left behind by a delete or a failed create. The engine's part
# (a subreaper that creates, starts and waits, as conmon does) is played by
# a few lines of Python.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"
. "$BOXCTL_SRCDIR/tests/lib/oci.sh"

has() { [[ $2 == *"$1"* ]]; } # has NEEDLE HAYSTACK
ended() { [[ $(ps -o stat= -p "$1") != [^Z]* ]]; } # gone, or a zombie
status_of() { oci state "$1" | jq -r .status; }
is_status() { [[ $(status_of "$1") == "$2" ]]; }

# The config bundle() (tests/lib/oci.sh) starts from.
base_config='{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0},
    "args": ["sh", "-c", "echo hello; exit 7"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "cwd": "/"
  },
  "root": {"path": "rootfs"},
  "hostname": "oci-test",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts"},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue"},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "maskedPaths": ["/proc/kcore", "/etc/inittab", "/var"],
    "readonlyPaths": ["/proc/sys"]
  },
  "annotations": {"org.example.test": "yes"}
}'

# run_container ID BUNDLE [tty]: as conmon does it: a subreaper creates
# (with a pid file), checks that the container's init is its child now that
# create has returned, starts, and waits for the init. Prints the container's
# output, then "exit N". With "tty", create gets a console socket, and what
# the container writes is read from the pty master that comes over it, with
# the terminal's name sent alongside.
run_container() {
        python3 - "$OCI" "$root" "$@" <<'EOF'
import array, ctypes, os, socket, subprocess, sys, threading
oci, root, cid, bundle = sys.argv[1:5]
tty = len(sys.argv) > 5
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
pidfile = os.path.join(bundle, "pid")
args = [oci, "--root", root, "create", "--bundle", bundle, "--pid-file", pidfile]
console = []
if tty:
    path = os.path.join(bundle, "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    args += ["--console-socket", path]
    def receive():
        conn, _ = srv.accept()
        fds = array.array("i")
        msg, anc, _, _ = conn.recvmsg(1024, socket.CMSG_SPACE(4))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:4])
        console.append(msg.decode())
        while True:
            try:
                b = os.read(fds[0], 4096)
            except OSError:
                break
            if not b:
                break
            console.append(b.decode(errors="replace"))
    reader = threading.Thread(target=receive)
    reader.start()
subprocess.run(args + [cid], check=True)
pid = int(open(pidfile).read())
ppid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
if ppid != os.getpid():
    sys.exit(f"the init {pid} is a child of {ppid}, not of the caller {os.getpid()}")
sys.stdout.flush()
subprocess.run([oci, "--root", root, "start", cid], check=True)
while True:
    p, st = os.waitpid(-1, 0)
    if p == pid:
        break
if tty:
    reader.join()
    print("name", console[0])
    print("".join(console[1:]).replace("\r", ""), end="")
print("exit", os.waitstatus_to_exitcode(st), flush=True)
EOF
}

# --- the runtime itself ---
out=$(oci --version)
ok "--version names the runtime and the spec: $(tr '\n' ' ' <<<"$out")" has "spec: 1.0.2" "$out"
check "features: JSON with the user namespace and idmap" \
        bash -c '"$1" features | jq -e "(.linux.namespaces | index(\"user\")) and .linux.mountExtensions.idmap.enabled"' _ "$OCI"
check "list: empty with no containers" bash -c '[[ $("$1" --root "$2" list -q) == "" ]]' _ "$OCI" "$root"

# --- the life of a container: created -> running -> stopped ---
b=$(bundle life '.process.args = ["sleep", "1000"]')
snap=$(tree_snapshot "$b/rootfs")
check "create" oci --systemd-cgroup create --bundle "$b" --pid-file "$b/pid" life
is "$(status_of life)" created "state: created"
st=$(oci state life)
pid=$(jq -r .pid <<<"$st")
is "$pid" "$(cat "$b/pid")" "state's pid is the pid file's"
is "$(jq -r '.id + " " + .bundle + " " + .rootfs + " " + .ociVersion' <<<"$st")" "life $b $b/rootfs 1.0.2-dev" \
        "state: id, bundle, rootfs, ociVersion"
check "state: created (RFC 3339) and owner" jq -e '(.created | test("^[0-9-]+T[0-9:.]+Z$")) and .owner == "root"' <<<"$st"
is "$(jq -r '.annotations["org.example.test"]' <<<"$st")" yes "state: the annotations"
ok "the init waits: not yet sleep" bash -c '[[ $(cat /proc/$1/comm) != sleep ]]' _ "$pid"
list=$(oci list)
ok "list shows it: $(tail -1 <<<"$list")" bash -c '[[ $1 =~ life\ +$2\ +created\ +$3 ]]' _ "$list" "$pid" "$b"
is "$(oci list --format json | jq -r '.[0].id + " " + .[0].status')" "life created" "list --format json"
fails_with "create of an existing ID" "already exists" oci create --bundle "$b" life
check "start" oci start life
is "$(status_of life)" running "state: running"
check "the process is the command now" wait_for 10 bash -c '[[ $(ps -o comm= --ppid "$1") == sleep ]]' _ "$pid"
fails_with "start of a running container" "cannot start an already running container" oci start life
check "kill (SIGTERM by default)" oci kill life
check "...and it stops" wait_for 10 is_status life stopped
is "$(oci state life | jq -r .pid)" 0 "state: a stopped container's pid is 0"
fails_with "kill of a stopped container" "container not running" oci kill life KILL
fails_with "start of a stopped container" "cannot start a container that has stopped" oci start life
check "delete" oci delete life
check "delete leaves nothing: state, cgroups" gone life
is "$(tree_snapshot "$b/rootfs")" "$snap" "...and the rootfs as it was"
fails_with "state of a deleted container" "does not exist" oci state life

# kill by number and by name; delete --force of a running one; delete of a created one
b=$(bundle sig '.process.args = ["sleep", "1000"]')
oci create --bundle "$b" sig && oci start sig
check "kill with a signal by name (SIGINT)" oci kill sig SIGINT
check "...and it stops" wait_for 10 is_status sig stopped
check "delete" oci delete sig
oci create --bundle "$b" sig && oci start sig
fails_with "delete of a running container" "is not stopped" oci delete sig
check "kill --all with a signal number (9)" oci kill --all sig 9
check "...and it stops" wait_for 10 is_status sig stopped
check "delete" oci delete sig
oci create --bundle "$b" sig && oci start sig
check "delete --force of a running container" oci delete --force sig
check "...leaves nothing" gone sig
oci create --bundle "$b" sig
check "delete of a created container" oci delete sig
check "...leaves nothing" gone sig
check "delete --force of an unknown ID succeeds, as runc's does" oci delete --force nosuch

# --- exec and ps in a running container ---
b=$(bundle ex '.process.args = ["sleep", "1000"]')
check "create and start" bash -c '"$1" --root "$2" create --bundle "$3" ex </dev/null >/dev/null && "$1" --root "$2" start ex' _ "$OCI" "$root" "$b"
out=$(oci exec ex sh -c 'echo in $(hostname) as $(id -u); exit 5') && rc=0 || rc=$?
is "$out $rc" "in oci-test as 0 5" "exec ARGS: in the container, its stdout and exit status"
echo '{"args": ["sh", "-c", "echo $(id -u):$(id -g) $(id -G) $(pwd) $BAR"], "env": ["PATH=/bin:/sbin", "BAR=baz"], "cwd": "/tmp", "user": {"uid": 7, "gid": 8, "additionalGids": [9]}}' >"$work/proc.json"
is "$(oci exec --process "$work/proc.json" ex)" "7:8 8 9 /tmp baz" "exec --process: args, env, cwd, user (uid, gid, additionalGids)"
echo '{"args": "sh", "cwd": "/"}' >"$work/badproc.json"
fails_with "exec --process with a wrong type" "process.args: not an array" oci exec --process "$work/badproc.json" ex
check "exec --detach --pid-file" oci exec --detach --pid-file "$work/exec.pid" ex sleep 1000
epid=$(cat "$work/exec.pid")
ps_json=$(oci ps --format json ex)
ok "ps --format json lists the init ($pid) and the exec'd sleep: $ps_json" \
        bash -c 'jq -e --argjson p "$1" "index(\$p) != null and length >= 3" <<<"$2" >/dev/null' _ "$(oci state ex | jq .pid)" "$ps_json"
ok "...the exec'd command is in the container's cgroup" bash -c 'grep -q machine-ex.scope /proc/$1/cgroup' _ "$epid"
# --tty without a console socket: a pty of the container's, forwarded to ours
# until the command ends (runc's foreground terminal).
python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" --log "$work/exec-tty.log" timeout:20 \
        'expect:# ' 'send:tty; echo mark-$((6*7))\r' 'expect:mark-42' 'send:exit 4\r' \
        -- "$OCI" --root "$root" exec --tty ex sh >/dev/null 2>&1 && rc=0 || rc=$?
is "$rc" 4 "exec --tty without a console socket: a shell on our terminal, with its exit status"
ok "...on a pty of the container's devpts" grep -q '^/dev/pts/[0-9]' "$work/exec-tty.log"
fails_with "exec --tty --detach without a console socket" "cannot allocate tty if runc will detach" oci exec --tty --detach ex sh
echo from-fd3 >"$work/pf.in"
# (ls's own listing: stdio, fd 3, and the directory it reads as fd 4.)
is "$(bash -c '"$1" --root "$2" exec --preserve-fds 1 ex sh -c "read l <&3; echo \$l; exec ls /proc/self/fd"' _ "$OCI" "$root" 3<"$work/pf.in" | tr '\n' ' ')" \
        "from-fd3 0 1 2 3 4 " "exec --preserve-fds 1: our fd 3 is the command's, and nothing more"
fails_with "exec --preserve-fds with an fd that is not open" "--preserve-fds=2: file descriptor 4 is not open" \
        bash -c '"$1" --root "$2" exec --preserve-fds 2 ex true 3</dev/null 4<&-' _ "$OCI" "$root"
fails_with "exec --preserve-fds that is no number" "--preserve-fds=x: not a number" oci exec --preserve-fds x ex true
check "delete --force" oci delete --force ex
check "...leaves nothing" gone ex
check "...the exec'd processes neither" wait_for 10 ended "$epid"

# --- --preserve-fds: the caller's fds 3.. are the process's, as they are ---
b=$(bundle pf '.process.args = ["sh", "-c", "read l <&3; echo $l >&4; exec sleep 1000"]')
check "create --preserve-fds 2" bash -c '"$1" --root "$2" create --bundle "$3" --preserve-fds 2 pf 3<"$4" 4>"$5" </dev/null >/dev/null' \
        _ "$OCI" "$root" "$b" "$work/pf.in" "$work/pf.out"
check "start" oci start pf
stub=$(oci state pf | jq .pid)
check "...the process read fd 3 and wrote fd 4" wait_for 10 bash -c '[[ $(cat "$1") == from-fd3 ]] && [[ $(ps -o comm= --ppid "$2") == sleep ]]' _ "$work/pf.out" "$stub"
sleeper=$(ps -o pid= --ppid "$stub" | tr -d ' ')
is "$(ls "/proc/$sleeper/fd" | sort -n | tr '\n' ' ')" "0 1 2 3 4 " "...and it has those two beside stdio, nothing more"
is "$(readlink "/proc/$sleeper/fd/3") $(readlink "/proc/$sleeper/fd/4")" "$work/pf.in $work/pf.out" "...the caller's own files"
ok "...the stub init (PID 1) keeps neither" bash -c '! ls -l /proc/$1/fd | grep -qE "pf[.](in|out)"' _ "$stub"
check "delete --force" oci delete --force pf
check "...leaves nothing" gone pf
fails_with "create --preserve-fds with an fd that is not open" "--preserve-fds=1: file descriptor 3 is not open" \
        bash -c '"$1" --root "$2" create --bundle "$3" --preserve-fds 1 pf 3<&-' _ "$OCI" "$root" "$b"
check "...leaves nothing" gone pf

# --- the notify socket (runc's): with $NOTIFY_SOCKET, start waits for the
# process's READY=1 and passes it on with MAINPID (podman --sdnotify=container)
b=$(bundle nt '.process.args = ["sh", "-c", "echo $NOTIFY_SOCKET; /probe notify STATUS=starting && /probe notify READY=1 && exec sleep 1000"]
        | .process.env += ["NOTIFY_SOCKET=/elsewhere"]')
cp "$BOXCTL_PROBE" "$b/rootfs/probe"
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
m = s.recv(4096).decode()
open(sys.argv[2], "w").write(" ".join(m.split()))' "$work/host.notify" "$work/notify.got" &
listener=$!
check "a notify socket of the engine's" wait_for 10 test -S "$work/host.notify"
check "create with \$NOTIFY_SOCKET" bash -c 'NOTIFY_SOCKET=$4 "$1" --root "$2" create --bundle "$3" nt </dev/null >"$3/out"' \
        _ "$OCI" "$root" "$b" "$work/host.notify"
check "start returns once the process said READY=1" oci start nt
check "...which reached the engine" wait "$listener"
is "$(cat "$work/notify.got")" "MAINPID=$(oci state nt | jq .pid) READY=1" "...with the container's MAINPID (its STATUS= before, dropped)"
is "$(head -1 "$b/out")" "/run/notify/notify.sock" "...the process's \$NOTIFY_SOCKET is the runtime's, in place of the config's"
check "delete --force" oci delete --force nt
check "...leaves nothing" gone nt

# --- pause and resume: the scope's cgroup2 freezer (either layout) ---
b=$(bundle pz '.process.args = ["sh", "-c", "while :; do n=$((n + 1)); echo $n >/out/n.new; mv /out/n.new /out/n; sleep 0.05; done"]
        | .mounts += [{"destination": "/out", "type": "bind", "source": "out"}]')
mkdir -p "$b/out" "$b/rootfs/out"
counter() { cat "$b/out/n" 2>/dev/null; }
moves() { local n0; n0=$(counter); wait_for "$1" bash -c '[[ $(cat "$1" 2>/dev/null) != "$2" ]]' _ "$b/out/n" "$n0"; }
scope_events() { cat "$(cgroup2_root)/machine.slice/machine-pz.scope/cgroup.events"; }
oci create --bundle "$b" pz </dev/null >/dev/null
fails_with "resume of a created container" "container not paused" oci resume pz
oci start pz
check "the process runs: its counter moves" moves 10
check "pause" oci pause pz
is "$(status_of pz)" paused "state: paused"
ok "...the scope is frozen (cgroup.events)" bash -c '[[ $1 == *"frozen 1"* ]]' _ "$(scope_events)"
stands_still() { ! moves "$@"; }
ok "...and its counter stands still (1 s)" stands_still 1
is "$(oci list --format json | jq -r '.[] | select(.id == "pz") | .status')" paused "list: paused"
fails_with "pause of a paused container" "container not running" oci pause pz
fails_with "start of a paused container" "cannot start a container in the paused state" oci start pz
fails_with "exec in a paused container" "cannot exec in a paused container" oci exec pz true
fails_with "delete of a paused container" "cannot delete container pz that is not stopped: paused" oci delete pz
check "resume" oci resume pz
is "$(status_of pz)" running "state: running again"
check "...its counter moves again" moves 10
fails_with "resume of a running container" "container not paused" oci resume pz
check "pause again" oci pause pz
check "kill SIGKILL reaches a paused container" oci kill pz KILL
check "...and it stops" wait_for 10 is_status pz stopped
fails_with "pause of a stopped container" "container not running" oci pause pz
fails_with "resume of a stopped container" "container not paused" oci resume pz
check "delete" oci delete pz
check "...leaves nothing" gone pz
oci create --bundle "$b" pz </dev/null >/dev/null && oci start pz && oci pause pz
check "delete --force of a paused container: thawed and killed" oci delete --force pz
check "...leaves nothing" gone pz
fails_with "pause of an unknown ID" "container nosuch does not exist" oci pause nosuch
fails_with "pause without an ID" "requires a container ID" oci pause
fails_with "resume with an unknown option" "unrecognized option" oci resume --bogus pz

# --- config.json onto the machine, under a subreaper (conmon's part) ---
b=$(bundle run)
out=$(run_container run "$b")
is "$out" $'hello\nexit 7' "the process's stdout and exit status reach the engine (and the init was its child)"
check "delete" oci delete run
b=$(bundle caps '.process.user = {"uid": 1000, "gid": 1000}
        | .process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_SYS_ADMIN"],
                                   "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN", "CAP_KILL"],
                                   "inheritable": ["CAP_CHOWN", "CAP_KILL"], "ambient": ["CAP_CHOWN"]}
        | .process.args = ["sh", "-c", "grep -E \"^Cap(Inh|Prm|Eff|Bnd|Amb)\" /proc/self/status | tr -s \"\\t\" \" \""]')
out=$(run_container caps "$b")
is "$out" $'CapInh: 0000000000000021\nCapPrm: 0000000000000001\nCapEff: 0000000000000001\nCapBnd: 00000000002000e1\nCapAmb: 0000000000000001\nexit 0' \
        "process.capabilities: a user's inheritable and ambient sets; what it holds after execve is the ambient one"
check "delete" oci delete caps
# A capability the runtime does not hold (setpriv takes CAP_SYS_RESOURCE from
# its bounding set, whether or not this host's root has it) is refused, as
# runc refuses it, not left out; with a user namespace it is the container's.
printf '#!/bin/sh\nexec setpriv --bounding-set -sys_resource %q "$@"\n' "$OCI" >"$work/oci-nores"
chmod +x "$work/oci-nores"
b=$(bundle capx '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_SYS_RESOURCE"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}')
fails_with "a capability the runtime does not hold" "process.capabilities.bounding: CAP_SYS_RESOURCE cannot be given" \
        "$work/oci-nores" --root "$root" create --bundle "$b" capx
check "...leaves nothing" gone capx
b=$(bundle capu '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_SYS_RESOURCE"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}
        | .linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 3000000, "size": 65536}]
        | .linux.gidMappings = .linux.uidMappings | .process.args = ["sh", "-c", "grep ^CapBnd /proc/self/status | tr -s \"\\t\" \" \""]')
out=$(OCI=$work/oci-nores run_container capu "$b")
is "$out" $'CapBnd: 0000000001000001\nexit 0' "...in a user namespace of its own, the container gets it"
check "delete" oci delete capu
b=$(bundle noos)
rm -f "$b/rootfs/etc/os-release" "$b/rootfs/usr/lib/os-release"
out=$(run_container noos "$b")
is "$out" $'hello\nexit 7' "a rootfs without an os-release (as many images) runs"
check "delete" oci delete noos
b=$(bundle tty '.process.terminal = true | .process.args = ["sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo on-a-terminal; exit 3"]')
out=$(run_container tty "$b" tty)
is "$out" $'name /dev/ptmx\n/dev/console\non-a-terminal\nexit 3' \
        "process.terminal: the pty master comes over the console socket; the process has it as its terminal"
check "delete" oci delete tty
b=$(bundle map '.process.args = ["sh", "-c", "echo $(hostname) $(pwd) $FOO $(id -u):$(id -g):$(id -G | tr \" \" ,) $(cat /data/f) $(ls /scratch | wc -l); touch / 2>/dev/null || echo root-ro; touch /data/x 2>/dev/null || echo bind-ro; wc -c </etc/inittab; ls /var | wc -l; echo x >/proc/sys/kernel/hostname 2>/dev/null || echo sys-ro; touch /tmp/x 2>/dev/null || echo tmp-ro; grep -c mqueue /proc/mounts; ulimit -n"]
        | .process.cwd = "/tmp" | .process.env += ["FOO=bar"]
        | .process.user = {"uid": 1000, "gid": 1001, "additionalGids": [1002]}
        | .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}]
        | .root.readonly = true | .linux.readonlyPaths += ["/tmp"]
        | .mounts += [{"destination": "/data", "type": "bind", "source": "data", "options": ["rbind", "ro"]},
                      {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs"}]')
mkdir -p "$b/data" "$b/rootfs/data" "$b/rootfs/scratch" && echo from-host >"$b/data/f"
out=$(run_container map "$b")
is "$out" $'oci-test /tmp bar 1000:1001:1001,1002 from-host 0\nroot-ro\nbind-ro\n0\n0\nsys-ro\ntmp-ro\n1\n123\nexit 0' \
        "hostname, cwd, env, user and groups, binds, tmpfs, readonly root, maskedPaths, readonlyPaths, mqueue, rlimits"
check "delete" oci delete map

# --- hooks: each kind at its moment, with the state on its stdin ---
# rec KIND DIR: saves its stdin and its mount namespace, and its turn in DIR/order.
mkdir -p "$work/bin"
cat >"$work/bin/rec" <<'EOF'
#!/bin/sh
cat >"$2/$1.json"
readlink /proc/self/ns/mnt >"$2/$1.mnt"
if [ "$1" = poststart ]; then
        ps -o comm= --ppid "$(jq -r .pid "$2/$1.json")" >"$2/poststart.child"
fi
echo "$1" >>"$2/order"
EOF
printf '#!/bin/sh\nexit 3\n' >"$work/bin/fail"
printf '#!/bin/sh\nexec sleep 60\n' >"$work/bin/slow"
printf '#!/bin/sh\necho not executable\n' >"$work/bin/noexec"
chmod 755 "$work/bin/rec" "$work/bin/fail" "$work/bin/slow"
chmod 644 "$work/bin/noexec"
# hook KIND [PATH [ARGS-JSON [TIMEOUT]]]: the jq filter that adds one.
hook() {
        local kind=$1 path=${2:-$work/bin/rec} args=${3:-} to=${4:-}
        [[ -n $args ]] || args="[\"rec\", \"$kind\", \"$work/hk\"]"
        echo ".hooks.$kind += [{\"path\": \"$path\", \"args\": $args${to:+, \"timeout\": $to}}]"
}
b=$(bundle hooks ".process.args = [\"sleep\", \"1000\"]
        | $(hook prestart) | $(hook createRuntime) | $(hook createContainer)
        | $(hook startContainer /rec '["rec", "startContainer", "/hk"]') | $(hook poststart) | $(hook poststop)")
cp "$work/bin/rec" "$b/rootfs/rec"
# The runtime's hooks write to $work/hk, the container's to its /hk: one directory.
mkdir -p "$b/rootfs/hk" && ln -sfn "$b/rootfs/hk" "$work/hk"
check "create with a hook of every kind" oci create --bundle "$b" hk
pid=$(oci state hk | jq -r .pid)
is "$(tr '\n' ' ' <"$work/hk/order")" "prestart createRuntime createContainer " \
        "create ran prestart, createRuntime, createContainer, in that order, and nothing of start's"
is "$(jq -r '.status + " " + (.pid | tostring) + " " + .id + " " + .bundle + " " + .annotations["org.example.test"]' "$work/hk/prestart.json")" \
        "creating $pid hk $b yes" "prestart's stdin: the state (creating, the init's pid, id, bundle, annotations)"
is "$(jq -r '.status + " " + (.pid | tostring)' "$work/hk/createRuntime.json")" "creating $pid" "createRuntime's stdin: the state"
is "$(cat "$work/hk/prestart.mnt")" "$(readlink /proc/self/ns/mnt)" "prestart ran in the runtime's mount namespace"
is "$(cat "$work/hk/createContainer.mnt")" "$(readlink "/proc/$pid/ns/mnt")" "createContainer ran in the container's mount namespace"
is "$(jq -r '.status + " " + (.pid | tostring) + " " + .id' "$work/hk/createContainer.json")" "creating 1 hk" \
        "createContainer's stdin: the state, the init's own pid (1), as runc gives it"
check "start" oci start hk
is "$(tr '\n' ' ' <"$work/hk/order")" "prestart createRuntime createContainer startContainer poststart " \
        "start ran startContainer, then poststart"
is "$(jq -r '.status + " " + .id' "$work/hk/startContainer.json")" "created hk" "startContainer's stdin: the state, from inside the container"
is "$(jq -r '.status + " " + (.pid | tostring)' "$work/hk/poststart.json")" "running $pid" "poststart's stdin: running, the init's pid"
is "$(cat "$work/hk/poststart.child")" sleep "poststart ran once the process was executed (the init's child is sleep)"
check "kill" oci kill hk KILL
check "...and it stops" wait_for 10 is_status hk stopped
ok "poststop has not run before delete" test ! -e "$work/hk/poststop.json"
check "delete" oci delete hk
is "$(jq -r '.status + " " + .id' "$work/hk/poststop.json")" "stopped hk" "delete ran poststop, with the state (stopped)"
check "...leaves nothing" gone hk
rm -f "$work/hk"

# A failing hook: prestart, createRuntime and createContainer fail the create and leave nothing.
for kind in prestart createRuntime createContainer; do
        b=$(bundle hkf "$(hook "$kind" "$work/bin/fail" '["fail"]')")
        fails_with "a failing $kind hook fails create" "hk: hooks.$kind[0] ($work/bin/fail): exit status 3" oci create --bundle "$b" hk
        check "...leaves nothing" gone hk
done
b=$(bundle hkf "$(hook prestart "$work/bin/slow" '["slow"]' 1)")
fails_with "a prestart hook past its timeout is killed and fails create" \
        "hooks.prestart[0] ($work/bin/slow): timed out after 1 s" oci create --bundle "$b" hk
check "...leaves nothing" gone hk
# startContainer fails the start; the container stops, for delete.
b=$(bundle hkf ".process.args = [\"sleep\", \"1000\"] | $(hook startContainer /bin/false '["false"]')")
check "create with a failing startContainer hook" oci create --bundle "$b" hk
fails_with "start fails with it" "hooks.startContainer[0] (/bin/false): exit status 1" oci start hk
check "...and the container stops" wait_for 10 is_status hk stopped
check "delete" oci delete hk
check "...leaves nothing" gone hk
# poststart and poststop failures are warnings; the next hook still runs.
rm -rf "$work/hk" && mkdir -p "$work/hk"
b=$(bundle hkw ".process.args = [\"sleep\", \"1000\"] | $(hook poststart "$work/bin/fail" '["fail"]') | $(hook poststart)
        | $(hook poststop "$work/bin/fail" '["fail"]') | $(hook poststop)")
oci create --bundle "$b" hkw
err=$(oci start hkw 2>&1) && rc=0 || rc=$?
is "$rc $err" "0 boxctl-oci: warning: container hkw: hooks.poststart[0] ($work/bin/fail): exit status 3" \
        "a failing poststart hook: start succeeds, with a warning"
ok "...and the next poststart hook ran" test -e "$work/hk/poststart.json"
err=$(oci delete --force hkw 2>&1) && rc=0 || rc=$?
is "$rc $err" "0 boxctl-oci: warning: container hkw: hooks.poststop[0] ($work/bin/fail): exit status 3" \
        "a failing poststop hook: delete succeeds, with a warning"
ok "...and the next poststop hook ran" test -e "$work/hk/poststop.json"
check "...leaves nothing" gone hkw
# Bad input: a hook path that is not absolute, or not executable.
b=$(bundle hkb "$(hook prestart bin/true '["true"]')")
fails_with "a relative hook path" "config.json: hooks.prestart[0].path: bin/true is not an absolute path" oci create --bundle "$b" hkb
b=$(bundle hkb "$(hook poststop "$work/bin/noexec" '["x"]')")
fails_with "a hook that is not executable" "config.json: hooks.poststop[0].path: $work/bin/noexec is not executable" \
        oci create --bundle "$b" hkb
b=$(bundle hkb '.hooks.poststart = [{"path": "/bin/true", "timeout": 0}]')
fails_with "a timeout of 0" "hooks.poststart[0].timeout: 0 is not a number of seconds above 0" oci create --bundle "$b" hkb
check "...leaves nothing" gone hkb

# --- linux.resources through the core's limits, on the hierarchy that has each controller ---
v1=$(test_tmpdir)
# limit CONTROLLER ID V1-FILE V2-FILE: what was written for container ID
# (v1 hierarchies mounted here: the unified layout hides them).
limit() {
        local c=$1 v=$1
        [[ $c == io ]] && v=blkio
        if grep -qw "$c" "$(cgroup2_root)/cgroup.controllers"; then
                cat "$(cgroup2_root)/machine.slice/machine-$2.scope/$4"
                return
        fi
        if [[ ! -d $v1/$v ]]; then
                mkdir "$v1/$v" && mount -t cgroup -o "$v" cgroup "$v1/$v"
                cleanup_push bash -c "umount '$v1/$v' 2>/dev/null || true"
        fi
        cat "$v1/$v/machine.slice/machine-$2.scope/$3"
}
on_v2() { grep -qw "$1" "$(cgroup2_root)/cgroup.controllers"; }
b=$(bundle res '.process.args = ["sleep", "1000"]
        | .linux.resources = {"memory": {"limit": 67108864, "swap": 100663296, "reservation": 1048576},
                              "cpu": {"shares": 512, "quota": 20000, "period": 100000, "cpus": "0"},
                              "pids": {"limit": 50}, "blockIO": {"weight": 500},
                              "devices": [{"allow": false, "access": "rwm"}]}')
check "create with linux.resources" bash -c '"$1" --root "$2" --debug create --bundle "$3" res </dev/null >/dev/null 2>"$3/debug"' _ "$OCI" "$root" "$b"
is "$(limit memory res memory.limit_in_bytes memory.max)" 67108864 "memory.limit"
is "$(limit memory res memory.memsw.limit_in_bytes memory.swap.max)" "$(on_v2 memory && echo 33554432 || echo 100663296)" \
        "memory.swap (memory plus swap; cgroup2's swap.max is the swap alone)"
is "$(limit cpu res cpu.shares cpu.weight)" "$(on_v2 cpu && echo 50 || echo 512)" "cpu.shares 512 (cgroup2: weight 50)"
if on_v2 cpu; then quota=$(limit cpu res - cpu.max); else quota="$(limit cpu res cpu.cfs_quota_us -) $(limit cpu res cpu.cfs_period_us -)"; fi
is "$quota" "20000 100000" "cpu.quota and cpu.period"
is "$(limit pids res pids.max pids.max)" 50 "pids.limit"
is "$(limit cpuset res cpuset.cpus cpuset.cpus)" 0 "cpu.cpus"
check "delete" oci delete res
check "...leaves nothing" gone res
for d in "$v1"/*; do [[ ! -d $d ]] || umount "$d"; done

# --- system containers: the tree's init as PID 1, the machine interface, listed by boxd ---
bus_start
boxd_start
listed() { "$BOXCTL" list --no-legend | grep -q "^$1 "; }
b=$(bundle sys '.process.args = ["/sbin/init"] | .linux.maskedPaths = ["/proc/kcore"]')
check "create of a system container (process.args[0] is /sbin/init)" \
        bash -c '"$1" --root "$2" create --bundle "$3" sys </dev/null >/dev/null' _ "$OCI" "$root" "$b"
check "...registered with boxd: boxctl list shows it" listed sys
service_of() { "$BOXCTL" list -o json | jq -r --arg n "$1" '.[] | select(.machine == $n) | .service'; }
is "$(service_of sys)" oci "...with service oci (no engine's annotations)"
pid=$(oci state sys | jq -r .pid)
check "start" oci start sys
check "...its PID 1 is the tree's init (busybox), not the stub: its sleep runs" \
        wait_for 20 bash -c '[[ $(readlink /proc/$1/exe) == /bin/busybox && $(ps -o comm= --ppid "$1") == *sleep* ]]' _ "$pid"
ok "...with the machine interface: \$container, container_uuid" \
        bash -c 'tr "\0" "\n" </proc/$1/environ | grep -qx container=boxctl && tr "\0" "\n" </proc/$1/environ | grep -q "^container_uuid="' _ "$pid"
is "$(nsenter -t "$pid" -m cat /run/host/container-manager)" boxctl "...and /run/host"
is "$("$BOXCTL" shell --pipe sys -- sh -c 'echo in $(hostname) pid1=$(cat /proc/1/comm)' 2>/dev/null)" "in oci-test pid1=init" \
        "boxctl shell enters it"
check "kill (SIGTERM): the init's own power-off (busybox: SIGUSR2)" oci kill sys
check "...and it stops" wait_for 30 is_status sys stopped
check "...and boxd no longer lists it" wait_for 10 bash -c "$(declare -f listed); BOXCTL=$BOXCTL; ! listed sys"
check "delete" oci delete sys
check "...leaves nothing" gone sys
b=$(bundle sysann '.process.args = ["sh", "-c", "exit 9"] | .annotations["org.boxctl.boot"] = "true"')
oci create --bundle "$b" sysann </dev/null >/dev/null && oci start sysann
check "the annotation org.boxctl.boot=true boots the tree's init too" \
        wait_for 20 bash -c '[[ $(readlink /proc/$1/exe) == /bin/busybox ]]' _ "$(oci state sysann | jq -r .pid)"
check "...and it is listed" listed sysann
check "delete --force" oci delete --force sysann
check "...leaves nothing" gone sysann
bus_stop
b=$(bundle sysnobus '.process.args = ["/sbin/init"]')
check "with no bus, a system container still runs (not listed)" \
        bash -c '"$1" --root "$2" create --bundle "$3" sysnobus </dev/null >/dev/null && "$1" --root "$2" start sysnobus' _ "$OCI" "$root" "$b"
check "delete --force" oci delete --force sysnobus
check "...leaves nothing" gone sysnobus

# --- bad input: one line, exit 1, nothing left ---
fails_with "a missing bundle" "bundle $work/nosuch" oci create --bundle "$work/nosuch" bad
check "...leaves nothing" gone bad
mkdir -p "$work/empty"
fails_with "a bundle without config.json" "config.json not found" oci create --bundle "$work/empty" bad
b=$(bundle bad)
echo '{"ociVersion": "1.0.2", "process": ' >"$b/config.json"
fails_with "config.json that is not JSON" "not valid JSON" oci create --bundle "$b" bad
bundle bad '.process.args = ["sh", 1]' >/dev/null
fails_with "a wrong type: the JSON path" "process.args[1]: not a string" oci create --bundle "$b" bad
bundle bad '.linux.namespaces += [{"type": "bogus"}]' >/dev/null
fails_with "an unknown namespace type" "linux.namespaces[5].type: bogus is not a namespace type" oci create --bundle "$b" bad
bundle bad '.process.cwd = "tmp"' >/dev/null
fails_with "a relative cwd" "process.cwd: tmp is not an absolute path" oci create --bundle "$b" bad
bundle bad '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 0, "hostID": 4294967000, "size": 65536}] | .linux.gidMappings = .linux.uidMappings' >/dev/null
fails_with "an impossible mapping" "linux.uidMappings[0]: hostID 4294967000 + size 65536 is out of range" oci create --bundle "$b" bad
bundle bad '.mounts += [{"destination": "/x", "type": "nfs", "source": "h:/x"}]' >/dev/null
fails_with "an unsupported mount" "mounts[5]: a nfs mount on /x is not supported" oci create --bundle "$b" bad
bundle bad '.linux.resources.memory = {"limit": 67108864, "swap": 1048576}' >/dev/null
fails_with "memory.swap below memory.limit" "linux.resources.memory.swap: 1048576 is below memory.limit" oci create --bundle "$b" bad
bundle bad '.linux.resources.memory = {"limit": -5}' >/dev/null
fails_with "a negative memory.limit" "linux.resources.memory.limit: -5 is not a limit" oci create --bundle "$b" bad
bundle bad '.linux.resources.pids = {"limit": "50"}' >/dev/null
fails_with "pids.limit of the wrong type" "linux.resources.pids.limit: not an integer" oci create --bundle "$b" bad
bundle bad '.linux.resources.cpu = {"quota": 500, "period": 100000}' >/dev/null
fails_with "a cpu.quota under 1 ms" "linux.resources.cpu.quota: 500 is out of range (1000 µs or more per period" oci create --bundle "$b" bad
bundle bad '.linux.resources.blockIO = {"weight": 5}' >/dev/null
fails_with "a blockIO.weight under 10" "linux.resources.blockIO.weight: 5 is out of range" oci create --bundle "$b" bad
bundle bad '.linux.resources.blockIO = {"throttleReadBpsDevice": [{"major": 4095, "minor": 4095, "rate": 1048576}]}' >/dev/null
fails_with "a throttled device that is not there" "linux.resources.blockIO.throttleReadBpsDevice[0]: device 4095:4095" oci create --bundle "$b" bad
check "...leaves nothing" gone bad
bundle bad '.process.args = ["nosuch-command"]' >/dev/null
fails_with "a command that is not there" 'exec: "nosuch-command": executable file not found in $PATH' oci create --bundle "$b" bad
check "...leaves nothing after the machine was made" gone bad
bundle bad '.process.terminal = true' >/dev/null
fails_with "a terminal without a console socket" "cannot allocate tty" oci create --bundle "$b" bad
touch "$work/not-a-socket"
fails_with "a console socket that is not a socket" "console socket $work/not-a-socket: not a socket" \
        oci create --bundle "$b" --console-socket "$work/not-a-socket" bad
check "...leaves nothing" gone bad
bundle bad >/dev/null
fails_with "an unwritable --root" "cannot make the state directory $work/not-a-socket/bad" \
        "$OCI" --root "$work/not-a-socket" create --bundle "$b" bad
fails_with "an invalid ID" "invalid id format: a/b" oci create --bundle "$b" a/b
for verb in start state kill delete; do
        fails_with "$verb of an unknown ID" "container nosuch does not exist" oci "$verb" nosuch
done
fails_with "an unknown signal" "invalid signal: SIGNOPE" oci kill nosuch SIGNOPE
check "--log-format json: the error as a JSON line in --log" bash -c '
        ! "$1" --root "$2" --log "$3" --log-format json state nosuch 2>/dev/null &&
        tail -1 "$3" | jq -e ".level == \"error\" and (.msg | contains(\"does not exist\")) and (.time | length > 0)"' \
        _ "$OCI" "$root" "$work/log.json"
check "list: empty again" bash -c '[[ $("$1" --root "$2" list -q) == "" ]]' _ "$OCI" "$root"

# --- podman drives it: its own storage in the sandbox (tests/lib/podman.sh) ---
. "$BOXCTL_SRCDIR/tests/lib/podman.sh"
podman_setup
out=$(podman_run -i "$work/run/rootfs" sh -c 'echo hello from $(cat /proc/1/comm); read x; echo got $x; exit 4' <<<"input") && rc=0 || rc=$?
is "$out $rc" $'hello from boxctl-oci\ngot input 4' "podman run --rm -i --rootfs: stdout, stdin and the exit status"
out=$(podman_run --env=FOO=bar --workdir=/tmp "$work/run/rootfs" sh -c 'echo $FOO $(pwd) $(hostname)') && rc=0 || rc=$?
ok "podman run -e, -w: $out" bash -c '[[ $1 =~ ^bar\ /tmp\ [0-9a-f]{12}$ && $2 == 0 ]]' _ "$out" "$rc"
out=$(podman_run --memory=64m --pids-limit=50 "$work/run/rootfs" sh -c 'echo limited') && rc=0 || rc=$?
is "$out $rc" "limited 0" "podman run --memory --pids-limit: linux.resources (with podman's memory.swap) applied"

# A Debian system container: podman's --systemd=always config (tmpfs with
# tmpcopyup on /run, /run/lock, /tmp, /var/log/journal; the host's
# name=systemd bound on /sys/fs/cgroup/systemd, which the machine's own
# cgroup2 replaces; no CAP_SYS_ADMIN) boots systemd to running, listed by boxd.
deb=$(test_tmpdir)/deb
cp -a "$(fixture_debian)" "$deb"
echo marker >"$deb/run/boxctl-marker"
bus_start
boxd_start
cid=$(pm_ run -d "${pm_run_opts[@]}" --systemd=always --rootfs "$deb" /sbin/init)
booted() { [[ $(pm_ exec "$cid" systemctl is-system-running 2>/dev/null) =~ ^(running|degraded)$ ]]; }
t0=$(_now_us)
check "podman run --systemd=always /sbin/init: Debian's systemd reaches running (or degraded)" wait_for 120 booted
diag "booted to $(pm_ exec "$cid" systemctl is-system-running) in $(( ($(_now_us) - t0) / 1000 )) ms after podman run returned"
is "$(pm_ exec "$cid" cat /proc/1/comm)" systemd "podman exec: PID 1 is systemd (no CAP_SYS_ADMIN there: entered with no_new_privs)"
is "$(pm_ exec "$cid" sh -c 'test -f /run/.containerenv && echo containerenv; cat /run/boxctl-marker')" $'containerenv\nmarker' \
        "...podman's bind on /run/.containerenv is there, and the rootfs' /run was copied into the machine's (tmpcopyup)"
check "boxd lists it (boxctl list)" listed "$cid"
is "$(service_of "$cid")" podman "...with service podman (its annotation io.container.manager=libpod)"
check "podman pause" pm_ pause "$cid"
is "$(pm_ inspect -f '{{.State.Status}}' "$cid")" paused "...podman sees it paused"
check "podman unpause" pm_ unpause "$cid"
check "...and it runs on" booted
check "podman stop: systemd powers off (its stop signal, SIGRTMIN+3)" pm_ stop -t 60 "$cid"
is "$(pm_ inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$cid")" "exited 0" "...exited, status 0"
check "...boxd no longer lists it" wait_for 10 bash -c "$(declare -f listed); BOXCTL=$BOXCTL; ! listed $cid"
check "podman rm" pm_ rm "$cid"
bus_stop
ok "...and its containers are deleted: nothing in /run/boxctl-oci" bash -c '[[ -z $(ls -A /run/boxctl-oci 2>/dev/null) ]]'
rm -rf "$pm" "$deb"

# --- containerd drives it: ctr run --runc-binary, under a containerd of the
# test's own (its root, state and socket here; the shim's runtime root is
# /run/containerd/runc/NAMESPACE, in the sandbox's /run) ---
cdd=$(test_tmpdir)
cat >"$cdd/config.toml" <<EOF
version = 2
root = "$cdd/root"
state = "$cdd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$cdd/containerd.sock"
[ttrpc]
  address = "$cdd/containerd.sock.ttrpc"
EOF
containerd --config "$cdd/config.toml" >"$cdd/containerd.log" 2>&1 &
cd_pid=$!
cleanup_push bash -c "kill $cd_pid 2>/dev/null || true"
ctr_() { ctr --address "$cdd/containerd.sock" "$@"; }
task_is() { [[ $(ctr_ task ls | awk -v id="$1" '$1 == id { print $3 }') == "$2" ]]; }
check "containerd answers" wait_for 30 ctr_ version
out=$(ctr_ run --rm --rootfs --runc-binary "$OCI" "$work/run/rootfs" c1 sh -c 'echo hello from ctr; exit 3') && rc=0 || rc=$?
is "$out $rc" "hello from ctr 3" "ctr run --rm --rootfs --runc-binary: stdout and the exit status"
check "ctr run -d: a detached task" ctr_ run -d --rootfs --runc-binary "$OCI" "$work/run/rootfs" c2 sleep 1000
check "...running" wait_for 10 task_is c2 RUNNING
out=$(ctr_ task exec --exec-id e1 c2 sh -c 'echo exec in $(hostname); exit 4') && rc=0 || rc=$?
is "$out $rc" "exec in c2 4" "ctr task exec: stdout and the exit status"
check "ctr task pause" ctr_ task pause c2
check "...paused" task_is c2 PAUSED
check "ctr task resume" ctr_ task resume c2
check "...running" task_is c2 RUNNING
check "ctr task kill" ctr_ task kill c2
check "...stopped" wait_for 10 task_is c2 STOPPED
check "ctr task delete" ctr_ task delete c2
check "ctr container rm" ctr_ container rm c2
bus_start
boxd_start
check "ctr run -d of a system container (/sbin/init)" ctr_ run -d --rootfs --runc-binary "$OCI" "$work/sys/rootfs" c3 /sbin/init
check "...listed by boxd" wait_for 10 listed c3
is "$(service_of c3)" containerd "...with service containerd (the shim keeps its bundle in io.containerd.runtime.v2.task)"
check "ctr task kill: the init powers off" ctr_ task kill c3
check "...stopped" wait_for 30 task_is c3 STOPPED
check "ctr task delete" ctr_ task delete c3
check "ctr container rm" ctr_ container rm c3
bus_stop
ok "nothing left in the shim's runtime root" bash -c '[[ -z $(ls -A /run/containerd/runc/default 2>/dev/null) ]]'
kill "$cd_pid"
check "containerd stops" wait_for 10 bash -c '! kill -0 "$1" 2>/dev/null' _ "$cd_pid"
wait "$cd_pid" 2>/dev/null || true

leaks_check
