/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* -p/--port=[tcp|udp:]HOSTPORT[:MACHINEPORT]: port_spec_parse(). */
#include <netinet/in.h>

#include "fuzz.h"
#include "port-forward.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        PortSpec p = {}, q = {};
        char again[64];
        int r;

        if (size > 1024)
                return 0;
        s = fuzz_string(data, size);

        r = port_spec_parse(s, &p);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE || r == -EPROTONOSUPPORT);
        if (r < 0)
                return 0;
        FUZZ_CHECK(p.protocol == IPPROTO_TCP || p.protocol == IPPROTO_UDP);
        FUZZ_CHECK(p.host_port >= 1 && p.machine_port >= 1);
        /* What it accepted, written out in full, means the same. */
        snprintf(again, sizeof again, "%s:%u:%u", port_protocol_to_string(p.protocol), p.host_port,
                 p.machine_port);
        FUZZ_CHECK(port_spec_parse(again, &q) == 0);
        FUZZ_CHECK(q.protocol == p.protocol && q.host_port == p.host_port && q.machine_port == p.machine_port);
        return 0;
}
