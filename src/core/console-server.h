/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* A background machine's console, served by its supervisor on a unix socket
 * (RUNTIME_DIR/consoles/NAME, 0600, root only) to "boxctl console".
 *
 * The supervisor keeps the pty master and always drains it into a ring of
 * the last CONSOLE_SCROLLBACK bytes, so the machine never blocks on its
 * console and an attach shows what came before. One client may write (the
 * first read-write one; a second gets "busy" with the holder's PID), any
 * number may read.
 *
 * The protocol, on a SOCK_STREAM connection:
 *   client -> server  a ConsoleHello, then ConsoleFrame-framed input and
 *                     window sizes (read-write clients only)
 *   server -> client  a ConsoleReply, then, when accepted, the scroll-back
 *                     and the console's output as raw bytes until either
 *                     side closes. */

#define CONSOLE_SCROLLBACK (64U * 1024U)
#define CONSOLE_MAGIC UINT32_C(0x62786331) /* "bxc1" */

typedef struct ConsoleHello {
        uint32_t magic;
        uint32_t read_only; /* 0 or 1 */
        uint16_t rows, cols; /* 0: unknown */
} ConsoleHello;

typedef enum ConsoleStatus {
        CONSOLE_STATUS_OK,
        CONSOLE_STATUS_BUSY,     /* pid: the read-write client's */
        CONSOLE_STATUS_REFUSED,  /* a malformed hello */
} ConsoleStatus;

typedef struct ConsoleReply {
        uint32_t magic;
        uint32_t status; /* ConsoleStatus */
        int32_t pid;     /* BUSY: who holds the console read-write */
} ConsoleReply;

typedef enum ConsoleFrameType {
        CONSOLE_FRAME_INPUT = 1, /* bytes typed at the client's terminal */
        CONSOLE_FRAME_WINSIZE,   /* 4 bytes: rows, cols (uint16_t each) */
} ConsoleFrameType;

typedef struct ConsoleFrameHeader {
        uint8_t type;
        uint8_t pad;
        uint16_t len; /* of what follows, at most CONSOLE_FRAME_MAX */
} ConsoleFrameHeader;

#define CONSOLE_FRAME_MAX 4096U

/* RUNTIME_DIR/consoles/NAME, in a new string. */
char *console_socket_path(const char *machine_name);

typedef struct ConsoleServer ConsoleServer;

/* Takes MASTER (not owned: the caller closes it after freeing the server)
 * and listens on console_socket_path(MACHINE_NAME), replacing a stale
 * socket there. */
int console_server_new(sd_event *e, int master, const char *machine_name, ConsoleServer **ret);
/* Reads what the console still holds, drops the clients, removes the socket. */
ConsoleServer *console_server_free(ConsoleServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ConsoleServer *, console_server_free)
