/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);

        return strncmp(s, prefix, l) == 0 ? (char *) s + l : NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        if (l)
                while (l[n])
                        n++;
        return n;
}

int strv_push_dup(char ***l, const char *s) {
        size_t n = strv_length(*l);
        _cleanup_free_ char *d = strdup(s);
        char **nl;

        if (!d)
                return -ENOMEM;
        nl = reallocarray(*l, n + 2, sizeof(char *));
        if (!nl)
                return -ENOMEM;
        nl[n] = TAKE_PTR(d);
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

char **strv_copy(char *const *l) {
        _cleanup_strv_free_ char **c = calloc(strv_length(l) + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; l && l[i]; i++) {
                c[i] = strdup(l[i]);
                if (!c[i])
                        return NULL;
        }
        return TAKE_PTR(c);
}

bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

char *strjoin3(const char *a, const char *b, const char *c) {
        char *r;

        if (asprintf(&r, "%s%s%s", strempty(a), strempty(b), strempty(c)) < 0)
                return NULL;
        return r;
}

int parse_uint(const char *s, unsigned *ret) {
        unsigned long v;
        char *end;

        if (isempty(s) || s[0] == '-' || s[0] == '+' || s[0] == ' ')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno > 0)
                return -errno;
        if (*end != '\0')
                return -EINVAL;
        if (v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

/* Accepts "30", "30s", "1.5s", "500ms", "2min". */
int parse_seconds(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                double usec;
        } units[] = {
                { "ms", 1e3 }, { "s", 1e6 }, { "sec", 1e6 }, { "min", 60e6 }, { "", 1e6 },
        };
        double v;
        char *end;

        if (isempty(s) || s[0] == '-' || s[0] == '+')
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        /* Not "v < 0": strtod() takes "nan", and NaN compares false
         * (converting it to an integer below would be undefined). */
        if (errno > 0 || end == s || !(v >= 0))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (streq(end, units[i].suffix)) {
                        double u = v * units[i].usec;

                        if (u > (double) UINT64_MAX / 2)
                                return -ERANGE;
                        *ret_usec = (uint64_t) u;
                        return 0;
                }
        return -EINVAL;
}

int parse_boolean(const char *s) {
        if (streq(s, "1") || streq(s, "yes") || streq(s, "true") || streq(s, "on"))
                return 1;
        if (streq(s, "0") || streq(s, "no") || streq(s, "false") || streq(s, "off"))
                return 0;
        return -EINVAL;
}

bool path_is_absolute(const char *p) {
        return p && p[0] == '/';
}

/* Absolute, no "." or ".." components, no empty components except a lone "/". */
bool path_is_normalized_absolute(const char *p) {
        const char *c;

        if (!path_is_absolute(p))
                return false;
        for (c = p; *c;) {
                const char *e;
                size_t n;

                while (*c == '/')
                        c++;
                if (!*c)
                        break;
                e = strchrnul(c, '/');
                n = (size_t) (e - c);
                if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c = e;
        }
        return true;
}

/* Last component of a path, ignoring trailing slashes; not NUL-terminated. */
const char *path_basename_ref(const char *p, size_t *ret_len) {
        size_t n = strlen(p);
        const char *s;

        while (n > 1 && p[n - 1] == '/')
                n--;
        s = p + n;
        while (s > p && s[-1] != '/')
                s--;
        *ret_len = (size_t) (p + n - s);
        return s;
}

int read_file_at(int dirfd, const char *path, size_t max_size, char **ret) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_fd(fd, max_size, ret);
}

int read_fd(int fd, size_t max_size, char **ret) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;

        for (;;) {
                ssize_t k;

                if (n == allocated) {
                        char *nb;

                        allocated = MIN(MAX(allocated * 2, (size_t) 4096), max_size + 1);
                        nb = realloc(buf, allocated + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                k = read(fd, buf + n, allocated - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max_size)
                        return -EFBIG;
        }
        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        } else
                buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        return (int) MIN(n, (size_t) INT32_MAX);
}

int write_file_at(int dirfd, const char *path, const char *contents, mode_t mode) {
        _cleanup_close_ int fd = -EBADF;
        size_t left = strlen(contents);

        fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        while (left > 0) {
                ssize_t k = write(fd, contents, left);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                contents += k;
                left -= (size_t) k;
        }
        return 0;
}

/* For kernel interface files: one write() of the whole string. */
int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
                if (s)
                        *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (!s)
                        return 0;
                *s = '/';
        }
}

int write_string_file(const char *path, const char *contents) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t k;

        if (fd < 0)
                return -errno;
        k = write(fd, contents, strlen(contents));
        if (k < 0)
                return -errno;
        if ((size_t) k != strlen(contents))
                return -EIO;
        return 0;
}

/* Looks up KEY=VALUE in os-release(5) text, removing one level of quotes. */
int read_os_release_field(const char *contents, const char *key, char **ret) {
        size_t kl = strlen(key);

        for (const char *l = contents; l && *l;) {
                const char *eol = strchrnul(l, '\n');

                if ((size_t) (eol - l) > kl && strneq(l, key, kl) && l[kl] == '=') {
                        const char *v = l + kl + 1;
                        size_t n = (size_t) (eol - v);
                        char *r;

                        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                                v++;
                                n -= 2;
                        }
                        r = strndup(v, n);
                        if (!r)
                                return -ENOMEM;
                        *ret = r;
                        return 0;
                }
                l = *eol ? eol + 1 : NULL;
        }
        return -ENOENT;
}

#define MAX_FDS 64

int send_fds_with_data(int sock, const int *fds, size_t n_fds, const void *data, size_t size) {
        union {
                struct cmsghdr cmsghdr;
                uint8_t buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        } control = {};
        struct iovec iov = { .iov_base = (void *) data, .iov_len = size };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (n_fds > MAX_FDS)
                return -E2BIG;
        if (n_fds > 0) {
                struct cmsghdr *cmsg;

                mh.msg_control = &control;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                cmsg = CMSG_FIRSTHDR(&mh);
                cmsg->cmsg_level = SOL_SOCKET;
                cmsg->cmsg_type = SCM_RIGHTS;
                cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
        }
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

int send_fd_with_data(int sock, int fd, const void *data, size_t size) {
        return send_fds_with_data(sock, &fd, fd >= 0 ? 1 : 0, data, size);
}

ssize_t recv_fds_with_data(int sock, int *fds, size_t *n_fds, void *data, size_t size) {
        union {
                struct cmsghdr cmsghdr;
                uint8_t buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        } control = {};
        struct iovec iov = { .iov_base = data, .iov_len = size };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        size_t max = *n_fds;
        ssize_t n;

        *n_fds = 0;
        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        int got[MAX_FDS];

                        memcpy(got, CMSG_DATA(c), k * sizeof(int));
                        for (size_t i = 0; i < k; i++) {
                                if (*n_fds < max)
                                        fds[(*n_fds)++] = got[i];
                                else
                                        safe_close(got[i]);
                        }
                }
        return n;
}

/* Returns the number of bytes received (0 on EOF); *ret_fd is -EBADF when no fd came. */
ssize_t recv_fd_with_data(int sock, int *ret_fd, void *data, size_t size) {
        size_t n = 1;
        ssize_t k;

        *ret_fd = -EBADF;
        k = recv_fds_with_data(sock, ret_fd, &n, data, size);
        if (n == 0)
                *ret_fd = -EBADF;
        return k;
}

int fd_nonblock(int fd, bool nonblock) {
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0)
                return -errno;
        flags = nonblock ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
        if (fcntl(fd, F_SETFL, flags) < 0)
                return -errno;
        return 0;
}

int id128_randomize(Id128 *ret) {
        Id128 id;

        if (getrandom(&id, sizeof(id), 0) != sizeof(id))
                return -EIO;
        /* Make it a valid v4 UUID, as systemd does for machine ids. */
        id.bytes[6] = (id.bytes[6] & 0x0F) | 0x40;
        id.bytes[8] = (id.bytes[8] & 0x3F) | 0x80;
        *ret = id;
        return 0;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

/* Accepts 32 hex digits, or the UUID form with dashes at 8-4-4-4-12. */
int id128_from_string(const char *s, Id128 *ret) {
        Id128 id;
        size_t i = 0, n = strlen(s);
        bool uuid = n == 36;

        if (n != 32 && !uuid)
                return -EINVAL;
        for (size_t b = 0; b < 16; b++) {
                int hi, lo;

                if (uuid && (b == 4 || b == 6 || b == 8 || b == 10)) {
                        if (s[i] != '-')
                                return -EINVAL;
                        i++;
                }
                hi = unhex(s[i++]);
                lo = unhex(s[i++]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                id.bytes[b] = (uint8_t) (hi << 4 | lo);
        }
        *ret = id;
        return 0;
}

void id128_to_hex(const Id128 *id, char ret[static 33]) {
        for (size_t b = 0; b < 16; b++)
                sprintf(ret + b * 2, "%02x", id->bytes[b]);
}

void id128_to_uuid(const Id128 *id, char ret[static 37]) {
        char *p = ret;

        for (size_t b = 0; b < 16; b++) {
                if (b == 4 || b == 6 || b == 8 || b == 10)
                        *p++ = '-';
                p += sprintf(p, "%02x", id->bytes[b]);
        }
}

bool id128_is_null(const Id128 *id) {
        for (size_t b = 0; b < 16; b++)
                if (id->bytes[b])
                        return false;
        return true;
}

uint64_t now_usec(int clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int cmp_int(const void *a, const void *b) {
        return *(const int *) a - *(const int *) b;
}

void close_all_fds_from_except(int from, const int *keep, size_t n) {
        int sorted[16], next = MAX(from, 3);
        size_t m = 0;

        for (size_t i = 0; i < n && m < ELEMENTSOF(sorted); i++)
                if (keep[i] >= next)
                        sorted[m++] = keep[i];
        qsort(sorted, m, sizeof sorted[0], cmp_int);
        for (size_t i = 0; i < m; i++) {
                if (sorted[i] > next)
                        (void) close_range((unsigned) next, (unsigned) sorted[i] - 1, 0);
                next = sorted[i] + 1;
        }
        (void) close_range((unsigned) next, ~0U, 0);
}

void close_all_fds_except(const int *keep, size_t n) {
        close_all_fds_from_except(3, keep, n);
}

void fds_pass_on(unsigned n) {
        for (unsigned fd = 3; fd < 3 + n; fd++) {
                int flags = fcntl((int) fd, F_GETFD);

                if (flags >= 0 && (flags & FD_CLOEXEC))
                        (void) fcntl((int) fd, F_SETFD, flags & ~FD_CLOEXEC);
        }
}

void close_all_fds_but(int a, int b) {
        int keep[] = { a, b };

        close_all_fds_except(keep, ELEMENTSOF(keep));
}

void signals_reset_all(void) {
        sigset_t none;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

int error_set(char **ret_error, int r, const char *fmt, ...) {
        va_list ap;

        if (ret_error) {
                char *m = NULL;

                va_start(ap, fmt);
                if (vasprintf(&m, fmt, ap) < 0)
                        m = NULL;
                va_end(ap);
                free(*ret_error);
                *ret_error = m;
        }
        return r;
}

/* Hostname rules (RFC 1123 labels), at most 64 characters: HOST_NAME_MAX. */
bool machine_name_is_valid(const char *name) {
        size_t n, label = 0;

        if (isempty(name))
                return false;
        n = strlen(name);
        if (n > 64)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];

                if (c == '.') {
                        if (label == 0 || name[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!isascii(c) || !(isalnum(c) || c == '-'))
                        return false;
                if (c == '-' && label == 0)
                        return false;
                label++;
        }
        return label > 0 && name[n - 1] != '-';
}
