/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's side of the sync socket: machine_wait_for_payload() reading what
 * the payload sends (errno plus text, READY with the console's pty master)
 * from across a process boundary.
 *
 * The input is a list of messages, each a flags byte (bits 0-1: how many fds
 * to pass along, bit 2: end the list here), a 16-bit little-endian length and
 * that many bytes, sent on a SOCK_SEQPACKET pair as the payload would; then
 * the payload's end is closed. Afterwards no fd may be left open that the
 * decoder did not hand back. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "machine.h"

#define MESSAGES_MAX 8 /* below net.unix.max_dgram_qlen: the sends never block */
#define MESSAGE_MAX 1024

static unsigned count_fds(void) {
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        unsigned n = 0;

        FUZZ_CHECK(d);
        while (readdir(d))
                n++;
        return n;
}

static void send_messages(int sock, const uint8_t *data, size_t size) {
        _cleanup_close_ int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        FUZZ_CHECK(null >= 0);
        for (unsigned i = 0; i < MESSAGES_MAX && size >= 3; i++) {
                int fds[3] = { null, null, null };
                unsigned n_fds = data[0] & 3;
                bool last = data[0] & 4;
                size_t len = MIN((size_t) (data[1] | data[2] << 8), size - 3);

                len = MIN(len, (size_t) MESSAGE_MAX);
                FUZZ_CHECK(send_fds_with_data(sock, fds, n_fds, data + 3, len) == 0);
                data += 3 + len;
                size -= 3 + len;
                if (last)
                        break;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        int pair[2], master = -EBADF;
        unsigned before;
        int r;

        if (size > MESSAGES_MAX * (3 + MESSAGE_MAX))
                return 0;
        before = count_fds();
        FUZZ_CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);
        send_messages(pair[1], data, size);
        safe_close(pair[1]);

        r = machine_wait_for_payload(pair[0], &master, &error);
        safe_close(pair[0]);
        if (r >= 0) {
                FUZZ_CHECK(r == 1);
                FUZZ_CHECK(!error);
        } else if (r != -EBADMSG)
                /* Every failure the payload reports comes with its words. */
                FUZZ_CHECK(error);
        if (master >= 0)
                FUZZ_CHECK(fcntl(master, F_GETFD) == FD_CLOEXEC);
        safe_close(master);
        FUZZ_CHECK(count_fds() == before);
        return 0;
}
