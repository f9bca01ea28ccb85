/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <dirent.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/* strings and string vectors */
char *startswith(const char *s, const char *prefix) _pure_;
size_t strv_length(char *const *l) _pure_;
int strv_push_dup(char ***l, const char *s);
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s) _pure_;
char *strjoin3(const char *a, const char *b, const char *c);

/* A machine's name: what nspawn and machined accept (a host name of at most
 * 64 characters), and thus also what may be a file name and a link's name. */
bool machine_name_is_valid(const char *name) _pure_;

/* parsing */
int parse_uint(const char *s, unsigned *ret);
int parse_seconds(const char *s, uint64_t *ret_usec);
int parse_boolean(const char *s);

/* paths */
bool path_is_absolute(const char *p) _pure_;
bool path_is_normalized_absolute(const char *p) _pure_;
const char *path_basename_ref(const char *p, size_t *ret_len);

/* files */
int read_fd(int fd, size_t max_size, char **ret);
int read_file_at(int dirfd, const char *path, size_t max_size, char **ret);
int write_file_at(int dirfd, const char *path, const char *contents, mode_t mode);
/* PATH (absolute) and the directories above it that are missing, with MODE. */
int mkdir_p(const char *path, mode_t mode);
int write_string_file(const char *path, const char *contents);
int read_os_release_field(const char *contents, const char *key, char **ret);

/* file descriptors */
int send_fd_with_data(int sock, int fd, const void *data, size_t size);
int send_fds_with_data(int sock, const int *fds, size_t n_fds, const void *data, size_t size);
/* *n_fds: on input the room in fds, on output how many came. */
ssize_t recv_fds_with_data(int sock, int *fds, size_t *n_fds, void *data, size_t size);
ssize_t recv_fd_with_data(int sock, int *ret_fd, void *data, size_t size);
int fd_nonblock(int fd, bool nonblock);
/* Closes every fd from 3 up but those in KEEP (negative ones are ignored;
 * at most 16), or but A and B. */
void close_all_fds_except(const int *keep, size_t n);
/* The same, keeping 3 up to FROM - 1 too (fds passed on as they are). */
void close_all_fds_from_except(int from, const int *keep, size_t n);
/* Clears FD_CLOEXEC of fds 3 up to 3 + N - 1: they go through execve(). */
void fds_pass_on(unsigned n);
void close_all_fds_but(int a, int b);
/* Replaces *RET_ERROR (when RET_ERROR is not NULL) with the formatted
 * message, and returns R: for functions that say why they failed in words. */
int error_set(char **ret_error, int r, const char *fmt, ...) _printf_(3, 4);
/* Every signal to its default disposition, none blocked: before execve(). */
void signals_reset_all(void);

/* 128-bit ids (machine ids) */
typedef struct Id128 {
        uint8_t bytes[16];
} Id128;
int id128_randomize(Id128 *ret);
int id128_from_string(const char *s, Id128 *ret);
void id128_to_hex(const Id128 *id, char ret[static 33]);
void id128_to_uuid(const Id128 *id, char ret[static 37]);
bool id128_is_null(const Id128 *id) _pure_;

uint64_t now_usec(int clock);
