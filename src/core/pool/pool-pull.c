/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pull-tar and pull-raw: download (pool-download.c), verify with SHA256SUMS
 * and gpgv as importctl does, then become an image of the pool.
 *
 * The file is downloaded whole into a temporary entry of the pool and
 * verified before libarchive reads a byte of it; then import-tar or
 * import-raw (pool-tar.c, pool-raw.c) make the image of it, with their own
 * temporary entry and guard. Unpacking streamed from the network would
 * parse, and write to disk, what no checksum has vouched for yet (and need a
 * second thread or process to feed the importer's fd). The cost is the
 * download's size once more on disk while it is imported. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pool-download.h"
#include "pool-pull.h"
#include "pool-raw.h"
#include "pool.h"
#include "string-table.h"
#include "util.h"

/* SHA256SUMS and SHA256SUMS.gpg are small: a larger one is not what we asked for. */
#define SUMS_MAX (4U * 1024U * 1024U)

static const char *const pool_verify_table[_POOL_VERIFY_MAX] = {
        [POOL_VERIFY_NO] = "no",
        [POOL_VERIFY_CHECKSUM] = "checksum",
        [POOL_VERIFY_SIGNATURE] = "signature",
};

DEFINE_STRING_TABLE(pool_verify, PoolVerify, pool_verify_table, _POOL_VERIFY_MAX)

const char *pool_pull_keyring(void) {
        const char *e = getenv("BOXCTL_IMPORT_KEYRING");

        return isempty(e) ? "/etc/boxctl/import-pubring.gpg" : e;
}

const char *pool_pull_ca_file(void) {
        const char *e = getenv("BOXCTL_PULL_CA_FILE");

        return isempty(e) ? NULL : e;
}

/* S less SUFFIX when it ends in it (and is longer). */
static bool strip_suffix(char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        if (a <= b || !streq(s + a - b, suffix))
                return false;
        s[a - b] = '\0';
        return true;
}

int pool_pull_name_from_url(const char *url, char **ret) {
        static const char *const compressions[] = { ".gz", ".xz", ".zst", ".bz2" };
        static const char *const kinds[] = { ".tar", ".tgz", ".txz", ".tzst", ".tbz2", ".raw", ".img" };
        _cleanup_free_ char *f = NULL;
        int r;

        r = download_url_file(url, &f);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(compressions); i++)
                if (strip_suffix(f, compressions[i]))
                        break;
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (strip_suffix(f, kinds[i]))
                        break;
        if (!pool_image_name_is_valid(f))
                return -EINVAL;
        *ret = TAKE_PTR(f);
        return 0;
}

static bool is_hex(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!strchr("0123456789abcdefABCDEF", s[i]) || s[i] == '\0')
                        return false;
        return true;
}

int pool_sha256sums_find(const char *sums, const char *file, char ret[static 65]) {
        size_t flen = strlen(file);

        for (const char *l = sums; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                size_t n = strcspn(l, "\n");
                const char *name = l + DOWNLOAD_SHA256_LEN + 2;

                if (n > 0 && l[n - 1] == '\r')
                        n--;
                /* "HASH  FILE" (text mode) or "HASH *FILE" (binary), as sha256sum writes. */
                if (n < DOWNLOAD_SHA256_LEN + 2 || !is_hex(l, DOWNLOAD_SHA256_LEN) ||
                    l[DOWNLOAD_SHA256_LEN] != ' ' || !strchr(" *", l[DOWNLOAD_SHA256_LEN + 1]))
                        continue;
                if ((size_t) (l + n - name) != flen || strncmp(name, file, flen) != 0)
                        continue;
                for (size_t i = 0; i < DOWNLOAD_SHA256_LEN; i++)
                        ret[i] = (char) (l[i] | 0x20); /* lower case: hex digits and a-f only */
                ret[DOWNLOAD_SHA256_LEN] = '\0';
                return 0;
        }
        return -ENOENT;
}

static int memfd_with(const char *name, const char *data, size_t n) {
        _cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC);

        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < n;) {
                ssize_t w = write(fd, data + done, n - done);

                if (w < 0)
                        return -errno;
                done += w;
        }
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static _noreturn_ void gpgv_exec(int data_fd, int sig_fd, int out_fd, const char *keyring) {
        int keep[] = { 3 };

        /* Up and away from 0-3 first, so that no dup2() below overwrites another's source. */
        data_fd = fcntl(data_fd, F_DUPFD, 10);
        sig_fd = fcntl(sig_fd, F_DUPFD, 10);
        out_fd = fcntl(out_fd, F_DUPFD, 10);
        if (data_fd < 0 || sig_fd < 0 || out_fd < 0 || dup2(data_fd, STDIN_FILENO) < 0 ||
            dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0 || dup2(sig_fd, 3) < 0)
                _exit(127);
        close_all_fds_except(keep, ELEMENTSOF(keep));
        signals_reset_all();
        execlp("gpgv", "gpgv", "--keyring", keyring, "--", "/dev/fd/3", "-", (char *) NULL);
        _exit(127);
}

/* The last line gpgv wrote that says something ("BAD signature ...",
 * "Can't check signature: No public key"), into BUF. */
static void gpgv_reason(int out_fd, char *buf, size_t size) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        snprintf(buf, size, "no reason given");
        if (lseek(out_fd, 0, SEEK_SET) < 0 || read_fd(out_fd, 64 * 1024, &text) < 0)
                return;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
                if (!isempty(l))
                        snprintf(buf, size, "%s", l);
}

/* SIG (SHA256SUMS.gpg) signs SUMS with a key of the keyring: what gpgv says. */
static int verify_signature(const Download *sums, const Download *sig, char **ret_error) {
        _cleanup_close_ int data_fd = -EBADF, sig_fd = -EBADF, out_fd = -EBADF;
        const char *keyring = pool_pull_keyring();
        char reason[512];
        int status;
        pid_t pid;

        data_fd = memfd_with("SHA256SUMS", sums->data, sums->size);
        sig_fd = memfd_with("SHA256SUMS.gpg", sig->data, sig->size);
        out_fd = memfd_create("gpgv", MFD_CLOEXEC);
        if (data_fd < 0 || sig_fd < 0 || out_fd < 0)
                return error_set(ret_error, data_fd < 0 ? data_fd : sig_fd < 0 ? sig_fd : -errno,
                                 "cannot hold SHA256SUMS for gpgv: %m");
        pid = fork();
        if (pid < 0)
                return error_set(ret_error, -errno, "cannot run gpgv: %m");
        if (pid == 0)
                gpgv_exec(data_fd, sig_fd, out_fd, keyring);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return error_set(ret_error, -errno, "cannot wait for gpgv: %m");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return error_set(ret_error, -ENOEXEC, "cannot run gpgv (is it installed?) to check %s", sig->url);
        gpgv_reason(out_fd, reason, sizeof reason);
        return error_set(ret_error, -EBADMSG, "%s: does not sign %s with a key of %s: %s", sig->url, sums->url, keyring,
                         reason);
}

/* The SHA-256 that the verified SHA256SUMS beside URL has for FILE. */
static int fetch_expected(const char *url, const char *file, PoolVerify verify, char expected[static 65],
                          char **ret_error) {
        _cleanup_free_ char *sums_url = NULL, *sig_url = NULL;
        Download sums = { .fd = -EBADF, .max_size = SUMS_MAX, .ca_file = pool_pull_ca_file() };
        Download sig = sums;
        int r;

        if (download_url_sibling(url, "SHA256SUMS", &sums_url) < 0 ||
            download_url_sibling(url, "SHA256SUMS.gpg", &sig_url) < 0)
                return error_set(ret_error, -EINVAL, "%s: cannot make the URL of SHA256SUMS beside it", url);
        sums.url = sums_url;
        sig.url = sig_url;
        r = download_run(&sums, ret_error);
        if (r >= 0 && verify == POOL_VERIFY_SIGNATURE) {
                r = download_run(&sig, ret_error);
                if (r >= 0)
                        r = verify_signature(&sums, &sig, ret_error);
        }
        if (r >= 0 && pool_sha256sums_find(sums.data, file, expected) < 0)
                r = error_set(ret_error, -ENOENT, "%s: has no line for %s", sums_url, file);
        download_done(&sums);
        download_done(&sig);
        return r;
}

/* What must hold before anything is downloaded. */
static int pull_check(const char *dir, const char *name, PoolVerify verify, char **ret_error) {
        _cleanup_(pool_image_freep) PoolImage *other = NULL;
        int r;

        if (!pool_image_name_is_valid(name))
                return error_set(ret_error, -EINVAL, "%s: not a valid image name (letters, digits, '-' and '.', at most 64)",
                                 name);
        r = pool_image_find(dir, name, false, &other);
        if (r >= 0)
                return error_set(ret_error, -EEXIST, "%s: the pool %s holds an image of that name already", name,
                                 dir ?: pool_default_dir());
        if (r != -ENOENT)
                return error_set(ret_error, r, "%s: cannot look it up in the pool: %s", name, strerror(-r));
        if (verify == POOL_VERIFY_SIGNATURE && access(pool_pull_keyring(), R_OK) < 0)
                return error_set(ret_error, -errno, "%s: cannot read the keyring that --verify=signature checks with: %m",
                                 pool_pull_keyring());
        return 0;
}

/* The verified download T becomes the image NAME, as import-tar or import-raw make one. */
static int pull_import(const char *dir, PoolPullKind kind, const PoolTemp *t, const char *url, const char *name,
                       const PoolPullSettings *s, char **ret_error) {
        _cleanup_free_ char *error = NULL;
        _cleanup_close_ int fd = openat(t->pool_fd, t->temp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        int r;

        if (fd < 0)
                return error_set(ret_error, -errno, "%s: cannot read the download back: %m", url);
        if (s->phase)
                s->phase(kind == POOL_PULL_TAR ? "unpack" : "import", s->userdata);
        r = (kind == POOL_PULL_TAR ? pool_import_tar : pool_import_raw_fd)(dir, fd, name, s->progress, s->userdata,
                                                                          &error);
        if (r < 0 && error)
                return error_set(ret_error, r, "%s: refused, nothing imported: %s", url, error);
        if (r == -EEXIST)
                return error_set(ret_error, r, "%s: the pool %s holds an image of that name already", name,
                                 dir ?: pool_default_dir());
        if (r < 0)
                return error_set(ret_error, r, "%s: cannot import as %s: %s", url, name, strerror(-r));
        return 0;
}

int pool_pull(const char *dir, PoolPullKind kind, const char *url, const char *name, const PoolPullSettings *s,
              char **ret_error) {
        _cleanup_free_ char *file = NULL, *derived = NULL, *entry = NULL;
        _cleanup_(pool_temp_done) PoolTemp t = POOL_TEMP_NULL;
        _cleanup_close_ int pool_fd = -EBADF, fd = -EBADF;
        char expected[65] = "";
        Download d;
        int r;

        r = download_url_check(url, ret_error);
        if (r < 0)
                return r;
        r = download_url_file(url, &file);
        if (r < 0 || isempty(file))
                return error_set(ret_error, -EINVAL, "%s: names no file", url);
        if (!name) {
                if (pool_pull_name_from_url(url, &derived) < 0)
                        return error_set(ret_error, -EINVAL, "%s: '%s' makes no valid image name; give one as NAME", url,
                                         file);
                name = derived;
        }
        r = pull_check(dir, name, s->verify, ret_error);
        if (r < 0)
                return r;
        if (s->verify != POOL_VERIFY_NO) {
                r = fetch_expected(url, file, s->verify, expected, ret_error);
                if (r < 0)
                        return r;
        }

        /* ".#NAME.download.XXXXXX": hidden, and guarded as an import's. */
        entry = strjoin3(name, ".", "download");
        if (!entry)
                return -ENOMEM;
        r = pool_open(dir, true, &pool_fd);
        if (r >= 0)
                r = pool_temp_make(pool_fd, entry, POOL_TEMP_FILE, &t);
        if (r < 0)
                return error_set(ret_error, r, "%s: cannot make room in the pool %s: %s", name, dir ?: pool_default_dir(),
                                 strerror(-r));
        fd = openat(pool_fd, t.temp, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return error_set(ret_error, -errno, "%s: cannot open %s in the pool: %m", name, t.temp);
        if (s->phase)
                s->phase("download", s->userdata);
        d = (Download) { .url = url, .fd = fd, .ca_file = pool_pull_ca_file(), .progress = s->progress,
                         .userdata = s->userdata };
        r = download_run(&d, ret_error);
        if (r < 0)
                return r;
        if (s->verify != POOL_VERIFY_NO && !streq(expected, d.sha256))
                return error_set(ret_error, -EBADMSG, "%s: SHA-256 mismatch, removed: SHA256SUMS says %s, the download is %s",
                                 file, expected, d.sha256);
        return pull_import(dir, kind, &t, url, name, s, ret_error);
}
