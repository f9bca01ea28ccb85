#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# pull-tar and pull-raw from a server of the test's own on 127.0.0.1 (HTTP,
# and HTTPS with a self-signed certificate): images that boot and match
# what was served; verification by SHA256SUMS and by a gpg signature made
# with a key generated here (good, tampered, signed by another key); a
# mismatch, a missing SHA256SUMS or line, 404, a refused connection, a bad
# scheme, a redirect to file://, invalid and existing names refused in one
# line with nothing left in the pool; a pull killed midway leaves nothing.
set -euo pipefail
. "${BOXCTL_SRCDIR:?}/tests/lib/common.sh"
sandbox_enter "$@"

pool=$(realpath "$(test_tmpdir)")
export BOXCTL_POOL=$pool
srv=$(test_tmpdir)  # what the server serves
work=$(test_tmpdir) # keys, certificates, port files, logs
# libcurl honours these: the server is on this namespace's loopback, not behind a proxy.
unset http_proxy https_proxy all_proxy HTTPS_PROXY ALL_PROXY

# nothing_hidden (no ".#" entries: downloads, half-made images) and names; fails_with is in common.sh
. "$BOXCTL_SRCDIR/tests/lib/pool.sh"
sha() { sha256sum "$1" | cut -d' ' -f1; }

# serve NAME [ARGS...]: the server on a free port, its URL in $NAME_url
# once it listens (its port file appears only then).
serve() {
        local name=$1 scheme=http pid
        shift
        [[ $* == *--tls* ]] && scheme=https
        python3 "$BOXCTL_SRCDIR/tests/lib/http-server.py" --dir "$srv" --port-file "$work/$name.port" "$@" \
                2>"$work/$name.log" &
        pid=$!
        eval "${name}_pid=$pid"
        cleanup_push server_kill "$pid"
        wait_for 10 test -s "$work/$name.port" || bail_out "the $name server did not start"
        eval "${name}_url=$scheme://127.0.0.1:$(cat "$work/$name.port")"
}
# server_kill PID: at exit, the server unserve did not stop already.
server_kill() { kill "$1" 2>/dev/null || true; }
# unserve NAME: the server is stopped, and gone.
unserve() {
        local pid
        eval "pid=\$${1}_pid"
        kill "$pid"
        wait "$pid" || true
}

# --- what is served ---
busybox=$(fixture_busybox)
# The input is made by GNU tar: test input only, boxctl never runs tar.
tar -C "$busybox" -cJf "$srv/bb.tar.xz" .
truncate -s 16M "$work/disk.raw"
mkfs.ext4 -q -F -L pulled "$work/disk.raw"
cp "$work/disk.raw" "$srv/disk.raw"
zstd -q "$work/disk.raw" -o "$srv/zdisk.raw.zst"
cp "$srv/bb.tar.xz" "$srv/bad.tar.xz"
cp "$srv/bb.tar.xz" "$srv/extra.tar.xz"
# Both of sha256sum's forms: text ("HASH  FILE") and binary ("HASH *FILE").
(cd "$srv" && sha256sum bb.tar.xz && sha256sum -b disk.raw zdisk.raw.zst) >"$srv/SHA256SUMS"
bad_real=$(sha "$srv/bad.tar.xz")
bad_said=$(sha "$srv/disk.raw")
echo "$bad_said  bad.tar.xz" >>"$srv/SHA256SUMS"
mkdir "$srv/nosums"
cp "$srv/bb.tar.xz" "$srv/nosums/bb.tar.xz"

serve http
url=$http_url

# --- pull-tar, pull-raw ---
err=$("$BOXCTL" pull-tar "$url/bb.tar.xz" 2>&1) || true
is "$err" "" "pull-tar URL: no output, no progress without a terminal"
is "$(names)" "bb" "...the image is named after the file, less .tar.xz"
ok "...the tree is the one served" diff -r --no-dereference "$busybox" "$pool/bb"
check "...it runs" "$BOXCTL" run bb --register=no -- /bin/true
check "pull-raw URL" "$BOXCTL" pull-raw -q "$url/disk.raw"
ok "...NAME.raw, the image served" cmp "$pool/disk.raw" "$work/disk.raw"
is "$("$BOXCTL" list-images -o json | jq -r '.[] | select(.name == "disk") | .type')" raw "...listed as a raw image"
check "pull-raw of a zstd-compressed image, with a NAME" "$BOXCTL" pull-raw -q "$url/zdisk.raw.zst" zd
ok "...decompressed" cmp "$pool/zd.raw" "$work/disk.raw"
ok "nothing half-made is left" nothing_hidden

# --- verification ---
fails_with "a checksum mismatch names the file and both sums" "bad.tar.xz: SHA-256 mismatch" \
        "$BOXCTL" pull-tar -q "$url/bad.tar.xz"
ok "...both sums are in that line" bash -c '"$1" pull-tar -q "$2" 2>&1 | grep -q "$3.*$4"' _ \
        "$BOXCTL" "$url/bad.tar.xz" "$bad_said" "$bad_real"
ok "...nothing is left of the download" nothing_hidden
is "$(names)" "bb disk zd" "...and no image was made"
fails_with "no SHA256SUMS beside the file" "$url/nosums/SHA256SUMS: the server answered HTTP 404" \
        "$BOXCTL" pull-tar -q "$url/nosums/bb.tar.xz" nb
fails_with "no line for the file in SHA256SUMS" "$url/SHA256SUMS: has no line for extra.tar.xz" \
        "$BOXCTL" pull-tar -q "$url/extra.tar.xz"
check "--verify=no takes it unchecked" "$BOXCTL" pull-tar -q --verify=no "$url/nosums/bb.tar.xz" nb
ok "...the tree is the one served" diff -r --no-dereference "$busybox" "$pool/nb"
check "remove nb" "$BOXCTL" remove nb

# signatures: a key made here, its public half the keyring gpgv checks with
export GNUPGHOME=$work/gnupg
mkdir -m 0700 "$GNUPGHOME"
gpg_stop() { gpgconf --kill all; wait_for 10 bash -c '! pgrep -f "gpg-agent --homedir $1" >/dev/null' _ "$GNUPGHOME"; }
cleanup_push gpg_stop
gpg_q() { gpg --batch --quiet --pinentry-mode loopback --passphrase '' "$@"; }
gpg_q --quick-gen-key 'boxctl test <signer@example.invalid>' ed25519 sign 1d 2>/dev/null
gpg_q --quick-gen-key 'stranger <stranger@example.invalid>' ed25519 sign 1d 2>/dev/null
gpg_q --export 'signer@example.invalid' >"$work/pubring.gpg"
export BOXCTL_IMPORT_KEYRING=$work/pubring.gpg
for d in signed tampered stranger; do
        mkdir "$srv/$d"
        cp "$srv/bb.tar.xz" "$srv/$d/"
        (cd "$srv/$d" && sha256sum bb.tar.xz >SHA256SUMS)
done
gpg_q -u 'signer@example.invalid' --detach-sign -o "$srv/signed/SHA256SUMS.gpg" "$srv/signed/SHA256SUMS"
cp "$srv/signed/SHA256SUMS.gpg" "$srv/tampered/"
echo "$(sha "$srv/disk.raw")  other.tar.xz" >>"$srv/tampered/SHA256SUMS"
gpg_q -u 'stranger@example.invalid' --detach-sign -o "$srv/stranger/SHA256SUMS.gpg" "$srv/stranger/SHA256SUMS"
gpg_stop
cleanup_pop

check "--verify=signature with a good signature" "$BOXCTL" pull-tar -q --verify=signature "$url/signed/bb.tar.xz" sg
ok "...the tree is the one served" diff -r --no-dereference "$busybox" "$pool/sg"
fails_with "--verify=signature with a tampered SHA256SUMS" "$url/tampered/SHA256SUMS.gpg: does not sign $url/tampered/SHA256SUMS" \
        "$BOXCTL" pull-tar -q --verify=signature "$url/tampered/bb.tar.xz" tp
ok "...gpgv's reason is in that line" bash -c '"$1" pull-tar -q --verify=signature "$2" tp 2>&1 | grep -q "BAD signature"' _ \
        "$BOXCTL" "$url/tampered/bb.tar.xz"
fails_with "--verify=signature signed by a key not in the keyring" "does not sign" \
        "$BOXCTL" pull-tar -q --verify=signature "$url/stranger/bb.tar.xz" st
fails_with "--verify=signature without SHA256SUMS.gpg" "$url/SHA256SUMS.gpg: the server answered HTTP 404" \
        "$BOXCTL" pull-tar -q --verify=signature "$url/bb.tar.xz" ns
fails_with "--verify=signature without the keyring" "$work/nosuch.gpg: cannot read the keyring" \
        env BOXCTL_IMPORT_KEYRING="$work/nosuch.gpg" "$BOXCTL" pull-tar -q --verify=signature "$url/signed/bb.tar.xz" nk
check "--verify=checksum (the default) needs no signature" "$BOXCTL" pull-tar -q "$url/tampered/bb.tar.xz" tp
is "$(names)" "bb disk sg tp zd" "no image was made of what did not verify"
ok "nothing half-made is left" nothing_hidden
check "remove sg tp" "$BOXCTL" remove sg tp

# --- bad input ---
fails_with "pull-tar to an existing name" "bb: the pool $pool holds an image of that name already" \
        "$BOXCTL" pull-tar -q "$url/bb.tar.xz"
fails_with "pull-raw to an existing name (NAME.raw)" "holds an image of that name already" \
        "$BOXCTL" pull-raw -q "$url/disk.raw" bb
fails_with "pull-tar to an invalid name" "../x: not a valid image name" "$BOXCTL" pull-tar -q "$url/bb.tar.xz" ../x
fails_with "a file name that makes no image name" "makes no valid image name" \
        "$BOXCTL" pull-tar -q --verify=no "$url/.hidden.tar"
fails_with "a URL with no file" "$url/: names no file" "$BOXCTL" pull-tar -q "$url/"
fails_with "404" "$url/nosuch.tar: the server answered HTTP 404 (not found)" \
        "$BOXCTL" pull-tar -q --verify=no "$url/nosuch.tar"
fails_with "a refused connection" "http://127.0.0.1:1/x.tar: cannot connect: Connection refused" \
        "$BOXCTL" pull-tar -q --verify=no http://127.0.0.1:1/x.tar
fails_with "ftp://" "ftp://127.0.0.1/x.tar: unsupported scheme 'ftp': only http and https" \
        "$BOXCTL" pull-tar -q ftp://127.0.0.1/x.tar
fails_with "file://" "file:///etc/passwd: unsupported scheme 'file'" "$BOXCTL" pull-raw -q file:///etc/passwd pw
fails_with "not a URL" "not-a-url: not a URL" "$BOXCTL" pull-tar -q not-a-url x
fails_with "a redirect to file://" "redirected to file:///etc/passwd, which is not http or https" \
        "$BOXCTL" pull-raw -q --verify=no "$url/redirect?to=file:///etc/passwd" pw
check "a redirect to http is followed" "$BOXCTL" pull-raw -q --verify=no "$url/redirect?to=$url/disk.raw" rd
ok "...to the image" cmp "$pool/rd.raw" "$work/disk.raw"
check "remove rd" "$BOXCTL" remove rd
fails_with "a tar that is no tar" "refused, nothing imported" "$BOXCTL" pull-tar -q --verify=no "$url/SHA256SUMS" st
fails_with "a raw image that is no image" "refused, nothing imported" \
        "$BOXCTL" pull-raw -q --verify=no "$url/SHA256SUMS" st
fails_with "--verify=maybe" "invalid --verify 'maybe'" "$BOXCTL" pull-tar --verify=maybe "$url/bb.tar.xz"
fails_with "no URL" "usage: boxctl pull-tar" "$BOXCTL" pull-tar
fails_with "too many arguments" "usage: boxctl pull-raw" "$BOXCTL" pull-raw "$url/disk.raw" a b
is "$(names)" "bb disk zd" "no image was made of bad input"
ok "nothing half-made is left" nothing_hidden

# --- progress: one line redrawn on a terminal, none with -q ---
drive() { python3 "$BOXCTL_SRCDIR/tests/lib/pty-drive.py" "$@"; }
check "pull-tar on a terminal" drive --log "$work/pty-progress" timeout:60 -- "$BOXCTL" pull-tar "$url/bb.tar.xz" p1
ok "...draws its progress: bytes of the Content-Length, rate, time left" grep -qE "$(progress_re download)" "$work/pty-progress"
check "pull-raw -q on a terminal" drive --log "$work/pty-quiet" timeout:60 -- "$BOXCTL" pull-raw -q "$url/disk.raw" p2
ok "...draws nothing" test ! -s "$work/pty-quiet"
check "remove p1 p2" "$BOXCTL" remove p1 p2

# --- HTTPS, with a certificate of its own ---
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
serve https --tls "$work/cert.pem" "$work/key.pem"
check "pull-raw over HTTPS, trusting the server's CA (\$BOXCTL_PULL_CA_FILE)" \
        env BOXCTL_PULL_CA_FILE="$work/cert.pem" "$BOXCTL" pull-raw -q "$https_url/disk.raw" tls
ok "...the image served" cmp "$pool/tls.raw" "$work/disk.raw"
fails_with "...not trusting it, refused" "$https_url/SHA256SUMS: SSL certificate problem" \
        "$BOXCTL" pull-raw -q "$https_url/disk.raw" tls2
check "remove tls" "$BOXCTL" remove tls
unserve https

# --- a pull killed midway: its guard removes the download ---
"$BOXCTL" pull-raw -q --verify=no "$url/stall/big.raw" killed 2>/dev/null &
ppid=$!
cleanup_push kill -KILL "$ppid"
ok "a pull under way has its hidden entry, with data in it" wait_for 10 bash -c \
        '[[ -n $(find "$1" -maxdepth 1 -name ".#killed.*" -size +0 -print -quit) ]]' _ "$pool"
kill -KILL "$ppid"
wait "$ppid" || true
cleanup_pop
ok "...killed by SIGKILL, it leaves nothing" wait_for 10 nothing_hidden
is "$(names)" "bb disk zd" "...and no image"

unserve http
leaks_check
