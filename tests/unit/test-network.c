/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The machine network module, for real: each test runs in a network namespace
 * of its own that plays "the host", with forked children in namespaces of
 * theirs playing the machines. Nothing here touches the real host's network. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "netlink-util.h"
#include "network-guard.h"
#include "network.h"
#include "port-forward.h"
#include "tap.h"
#include "util.h"

static char runtime_dir[] = "/tmp/boxctl-test-network.XXXXXX";
static const char *ping; /* "ping", "busybox ping", or NULL: no ping here */

#define ECHO_TCP_PORT 7000
#define ECHO_UDP_PORT 7001

/* ---- helpers ---- */

static char *mfree_and_null(char *p) {
        free(p);
        return NULL;
}

/* Runs a shell command; its output (with stderr) in *ret_out when asked. */
_printf_(2, 3) static int run(char **ret_out, const char *format, ...) {
        _cleanup_free_ char *cmd = NULL, *out = NULL;
        size_t size = 0, n = 0;
        va_list ap;
        FILE *f;
        int status;

        va_start(ap, format);
        if (vasprintf(&cmd, format, ap) < 0)
                cmd = NULL;
        va_end(ap);
        if (!cmd)
                return -ENOMEM;
        fflush(stdout);
        if (asprintf(&out, "%s 2>&1", cmd) < 0)
                return -ENOMEM;
        f = popen(out, "r");
        out = mfree_and_null(out);
        if (!f)
                return -errno;
        for (;;) {
                char buf[4096];
                size_t k = fread(buf, 1, sizeof buf, f);
                char *p;

                if (k == 0)
                        break;
                p = realloc(out, size + k + 1);
                if (!p)
                        break;
                out = p;
                memcpy(out + n, buf, k);
                n += k;
                size += k;
                out[n] = '\0';
        }
        status = pclose(f);
        if (!out)
                out = strdup("");
        if (ret_out)
                *ret_out = TAKE_PTR(out);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

static bool contains(const char *haystack, const char *needle) {
        return haystack && strstr(haystack, needle);
}

static void comment(const char *what, const char *text) {
        printf("# %s:\n", what);
        for (const char *p = text; p && *p;) {
                size_t n = strcspn(p, "\n");

                printf("#   %.*s\n", (int) n, p);
                p += n;
                if (*p)
                        p++;
        }
}

static const char *ip4(struct in_addr a, char buf[static INET_ADDRSTRLEN]) {
        return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static void usleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int tcp_listen(int family, const char *addr, uint16_t port) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } a = {};
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
        socklen_t len;

        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (family == AF_INET) {
                a.in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(port) };
                inet_pton(AF_INET, addr, &a.in.sin_addr);
                len = sizeof a.in;
        } else {
                a.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(port) };
                inet_pton(AF_INET6, addr, &a.in6.sin6_addr);
                len = sizeof a.in6;
        }
        if (bind(fd, &a.sa, len) < 0 || listen(fd, 16) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

static int udp_bind(const char *addr, uint16_t port) {
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        inet_pton(AF_INET, addr, &a.sin_addr);
        if (bind(fd, (struct sockaddr *) &a, sizeof a) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

/* The echo servers of a machine: TCP (a child per connection, echoing until
 * EOF, then half-closing) and UDP. */
static _noreturn_ void echo_serve(void) {
        int t = tcp_listen(AF_INET, "0.0.0.0", ECHO_TCP_PORT);
        int u = udp_bind("0.0.0.0", ECHO_UDP_PORT);
        struct pollfd p[2] = { { .fd = t, .events = POLLIN }, { .fd = u, .events = POLLIN } };

        if (t < 0 || u < 0)
                _exit(EXIT_FAILURE);
        signal(SIGCHLD, SIG_IGN); /* reaped by the kernel */
        for (;;) {
                if (poll(p, 2, -1) < 0)
                        continue;
                if (p[0].revents) {
                        int c = accept4(t, NULL, NULL, SOCK_CLOEXEC);

                        if (c >= 0 && fork() == 0) {
                                char buf[16384];
                                ssize_t n;

                                prctl(PR_SET_PDEATHSIG, SIGKILL);
                                while ((n = read(c, buf, sizeof buf)) > 0)
                                        for (ssize_t w = 0, k; w < n; w += k) {
                                                k = write(c, buf + w, (size_t) (n - w));
                                                if (k <= 0)
                                                        _exit(EXIT_FAILURE);
                                        }
                                shutdown(c, SHUT_WR);
                                _exit(EXIT_SUCCESS);
                        }
                        if (c >= 0)
                                close(c);
                }
                if (p[1].revents) {
                        char buf[2048];
                        struct sockaddr_storage from;
                        socklen_t len = sizeof from;
                        ssize_t n = recvfrom(u, buf, sizeof buf, 0, (struct sockaddr *) &from, &len);

                        if (n > 0)
                                (void) sendto(u, buf, (size_t) n, 0, (struct sockaddr *) &from, len);
                }
        }
}

/* A "machine": a child in a new network namespace that sleeps (or serves
 * echo); it dies with its parent. */
static pid_t machine_spawn(bool echo) {
        int p[2];
        pid_t pid;
        char c = 0;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                close(p[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(EXIT_FAILURE);
                if (write(p[1], "r", 1) != 1)
                        _exit(EXIT_FAILURE);
                close(p[1]);
                if (echo)
                        echo_serve();
                for (;;)
                        pause();
        }
        close(p[1]);
        if (read(p[0], &c, 1) != 1 || c != 'r') {
                close(p[0]);
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                return -EIO;
        }
        close(p[0]);
        return pid;
}

static void machine_kill(pid_t pid) {
        if (pid > 0) {
                kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
}

static int link_get(pid_t netns_of, const char *name, NetlinkLink *ret) {
        _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
        int r = netns_of > 0 ? netlink_open_in_netns(netns_of, &nl) : netlink_open(&nl);

        return r < 0 ? r : netlink_get_link(nl, 0, name, ret);
}

static bool link_exists(pid_t netns_of, const char *name) {
        NetlinkLink l;

        return link_get(netns_of, name, &l) >= 0;
}

/* Waits up to MS milliseconds for link NAME (in the namespace of NETNS_OF, or
 * ours) to be gone; whether it is. */
static bool link_gone_within(pid_t netns_of, const char *name, unsigned ms) {
        for (unsigned i = 0; i < ms / 50 && link_exists(netns_of, name); i++)
                usleep_ms(50);
        return !link_exists(netns_of, name);
}

/* An IPv6 link-local address of IFINDEX that passed duplicate detection. */
static bool ipv6ll_ready(pid_t netns_of, int ifindex, struct in6_addr *ret) {
        _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
        _cleanup_free_ NetlinkAddress *a = NULL;
        size_t n = 0;

        if ((netns_of > 0 ? netlink_open_in_netns(netns_of, &nl) : netlink_open(&nl)) < 0)
                return false;
        if (netlink_dump_addresses(nl, AF_INET6, &a, &n) < 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (a[i].ifindex == ifindex && IN6_IS_ADDR_LINKLOCAL(&a[i].address.in6) &&
                    !(a[i].flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED))) {
                        if (ret)
                                *ret = a[i].address.in6;
                        return true;
                }
        return false;
}

static bool wait_ipv6ll(pid_t netns_of, int ifindex, struct in6_addr *ret) {
        for (unsigned i = 0; i < 100; i++) {
                if (ipv6ll_ready(netns_of, ifindex, ret))
                        return true;
                usleep_ms(100);
        }
        return false;
}

/* Pings ADDR from the network namespace of PID (0: ours). */
static bool ping_from(pid_t pid, bool v6, const char *addr) {
        _cleanup_free_ char *out = NULL;
        int r;

        if (pid > 0)
                r = run(&out, "nsenter --net=/proc/%d/ns/net %s %s -c 1 -W 2 %s", (int) pid, ping, v6 ? "-6" : "", addr);
        else
                r = run(&out, "%s %s -c 1 -W 2 %s", ping, v6 ? "-6" : "", addr);
        if (r != 0)
                comment("ping failed", out);
        return r == 0;
}

/* Every link of our namespace but lo, as "name name ..." ("" when none). */
static char *stray_links(void) {
        _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
        _cleanup_free_ NetlinkLink *links = NULL;
        size_t n = 0, len = 0;
        char *s = calloc(1, 1024);

        if (!s || netlink_open(&nl) < 0 || netlink_dump_links(nl, &links, &n) < 0)
                return s;
        for (size_t i = 0; i < n; i++)
                if (!streq(links[i].name, "lo") && len + IFNAMSIZ + 1 < 1024)
                        len += (size_t) snprintf(s + len, 1024 - len, "%s ", links[i].name);
        return s;
}

static bool no_children(void) {
        return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

/* Our children but KEEP, found by their parent PID in /proc (this kernel may
 * lack /proc/PID/task/TID/children). */
static unsigned children_other_than(pid_t keep) {
        _cleanup_closedir_ DIR *d = opendir("/proc");
        struct dirent *de;
        unsigned n = 0;

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char path[300], buf[512], *close_paren;
                int fd, ppid;
                ssize_t k;

                if (de->d_name[0] < '1' || de->d_name[0] > '9' || atoi(de->d_name) == keep)
                        continue;
                snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                k = read(fd, buf, sizeof buf - 1);
                close(fd);
                if (k <= 0)
                        continue;
                buf[k] = '\0';
                close_paren = strrchr(buf, ')');
                if (close_paren && sscanf(close_paren + 1, " %*c %d", &ppid) == 1 && ppid == getpid())
                        n++;
        }
        return n;
}

/* Reaps children (orphans given to us as subreaper too) until none is left
 * but KEEP (0: none at all). */
static bool reap_all_but(pid_t keep, unsigned timeout_ms) {
        for (unsigned t = 0; t <= timeout_ms; t += 50) {
                pid_t p;

                while ((p = waitpid(-1, NULL, WNOHANG)) > 0)
                        ;
                if (keep <= 0 && p < 0 && errno == ECHILD)
                        return true;
                if (keep > 0 && children_other_than(keep) == 0)
                        return true;
                usleep_ms(50);
        }
        return false;
}

static bool reap_all(unsigned timeout_ms) {
        return reap_all_but(0, timeout_ms);
}

/* Each test gets a fresh namespace as its host, with lo up. */
static void test_begin(const char *name) {
        _cleanup_mnl_socket_ struct mnl_socket *nl = NULL;
        NetlinkLink lo;

        printf("# %s\n", name);
        if (unshare(CLONE_NEWNET) < 0) {
                printf("Bail out! unshare(CLONE_NEWNET): %m\n");
                exit(EXIT_FAILURE);
        }
        if (netlink_open(&nl) >= 0 && netlink_get_link(nl, 0, "lo", &lo) >= 0)
                (void) netlink_link_set_up(nl, lo.ifindex);
}

/* Nothing left: no link but lo, no process. A retired host end goes with its
 * machine's network namespace, which the kernel frees in the background:
 * give that up to 5 s. */
static void test_end(void) {
        _cleanup_free_ char *links = stray_links();

        for (unsigned i = 0; i < 100 && !isempty(links); i++) {
                usleep_ms(50);
                free(links);
                links = stray_links();
        }

        if (!isempty(links))
                comment("links left", links);
        CHECK(isempty(links));
        CHECK(no_children());
}

static NetworkRequest veth_request(const char *name, const char *pool) {
        NetworkRequest r = { .mode = NETWORK_VETH, .machine_name = name };

        if (pool)
                (void) network_pool_parse(pool, &r.pool);
        return r;
}

/* ---- tests ---- */

static void test_names(void) {
        char a[IFNAMSIZ], b[IFNAMSIZ], c[IFNAMSIZ];
        struct ether_addr h1, h2, g1, z1, other;
        NetworkPool pool;
        char buf[NETWORK_POOL_STRING_MAX];

        CHECK(network_ifname("ve-", "foo", a) == 0);
        CHECK_STREQ(a, "ve-foo");
        CHECK(network_ifname("ve-", "abcdefghijkl", a) == 0); /* exactly 15 */
        CHECK_STREQ(a, "ve-abcdefghijkl");
        CHECK(network_ifname("ve-", "averyveryverylongmachinename", a) == 1);
        CHECK(strlen(a) == IFNAMSIZ - 1);
        CHECK(strncmp(a, "ve-averyve-", 11) == 0);
        CHECK(network_ifname("ve-", "averyveryverylongmachinename", b) == 1);
        CHECK_STREQ(b, a);
        CHECK(network_ifname("ve-", "averyveryverylongmachinename2", c) == 1);
        CHECK(!streq(a, c));
        CHECK(network_ifname("vb-", "averyveryverylongmachinename", c) == 1);
        CHECK(strncmp(c, "vb-averyve-", 11) == 0);
        CHECK(network_ifname("ve-", "", a) == -EINVAL);
        CHECK(network_ifname("ve-", "a/b", a) == -EINVAL);
        CHECK(network_ifname("ve-", "a b", a) == -EINVAL);

        CHECK(network_zone_name_is_valid("test"));
        CHECK(network_zone_name_is_valid("a_b-C9"));
        CHECK(network_zone_name_is_valid("twelve_chars"));
        CHECK(!network_zone_name_is_valid("thirteen_char"));
        CHECK(!network_zone_name_is_valid("bad.zone"));
        CHECK(!network_zone_name_is_valid(""));
        CHECK(!network_zone_name_is_valid(NULL));

        network_mac(NETWORK_MAC_HOST, "alpha", &h1);
        network_mac(NETWORK_MAC_HOST, "alpha", &h2);
        network_mac(NETWORK_MAC_GUEST, "alpha", &g1);
        network_mac(NETWORK_MAC_ZONE, "alpha", &z1);
        network_mac(NETWORK_MAC_HOST, "beta", &other);
        CHECK(memcmp(&h1, &h2, sizeof h1) == 0);
        CHECK(memcmp(&h1, &g1, sizeof h1) != 0);
        CHECK(memcmp(&h1, &z1, sizeof h1) != 0);
        CHECK(memcmp(&h1, &other, sizeof h1) != 0);
        CHECK((h1.ether_addr_octet[0] & 0x03) == 0x02); /* local, unicast */
        CHECK((g1.ether_addr_octet[0] & 0x03) == 0x02);
        CHECK((z1.ether_addr_octet[0] & 0x03) == 0x02);

        CHECK(network_pool_parse("10.133.0.0/16", &pool) == 0);
        CHECK_STREQ(network_pool_format(&pool, buf), "10.133.0.0/16");
        CHECK(network_pool_parse("192.168.7.0/24", &pool) == 0 && pool.prefixlen == 24);
        CHECK(network_pool_parse("10.133.0.0/30", &pool) == 0);
        CHECK(network_pool_parse("10.133.0.0", &pool) == -EINVAL);
        CHECK(network_pool_parse("10.133.0.1/16", &pool) == -EINVAL); /* host bits */
        CHECK(network_pool_parse("10.133.0.0/33", &pool) == -EINVAL);
        CHECK(network_pool_parse("10.133.0.0/31", &pool) == -EINVAL);
        CHECK(network_pool_parse("10.0.0.0/7", &pool) == -EINVAL);
        CHECK(network_pool_parse("127.0.0.0/8", &pool) == -EINVAL);
        CHECK(network_pool_parse("169.254.0.0/16", &pool) == -EINVAL);
        CHECK(network_pool_parse("224.0.0.0/8", &pool) == -EINVAL);
        CHECK(network_pool_parse("10.133.0/16", &pool) == -EINVAL);
        CHECK(network_pool_parse("10.133.0.0/x", &pool) == -EINVAL);
        CHECK(network_pool_parse("10.133.0.0/-16", &pool) == -EINVAL);
        CHECK(network_pool_parse("", &pool) == -EINVAL);

        for (int i = 0; i < _NETWORK_MODE_MAX; i++)
                CHECK(network_mode_from_string(network_mode_to_string(i)) == i);
        CHECK(network_mode_from_string("wifi") == _NETWORK_MODE_INVALID);
}

static void test_port_spec(void) {
        PortSpec s;

        CHECK(port_spec_parse("8080", &s) == 0 && s.protocol == IPPROTO_TCP && s.host_port == 8080 &&
              s.machine_port == 8080);
        CHECK(port_spec_parse("2222:22", &s) == 0 && s.protocol == IPPROTO_TCP && s.host_port == 2222 &&
              s.machine_port == 22);
        CHECK(port_spec_parse("tcp:8080:80", &s) == 0 && s.protocol == IPPROTO_TCP && s.host_port == 8080 &&
              s.machine_port == 80);
        CHECK(port_spec_parse("udp:53", &s) == 0 && s.protocol == IPPROTO_UDP && s.host_port == 53 &&
              s.machine_port == 53);
        CHECK(port_spec_parse("udp:5353:53", &s) == 0 && s.protocol == IPPROTO_UDP && s.machine_port == 53);
        CHECK(port_spec_parse("65535", &s) == 0);
        CHECK(port_spec_parse("0", &s) == -ERANGE);
        CHECK(port_spec_parse("65536", &s) == -ERANGE);
        CHECK(port_spec_parse("80:0", &s) == -ERANGE);
        CHECK(port_spec_parse("tcp:80:70000", &s) == -ERANGE);
        CHECK(port_spec_parse("99999999999999999999", &s) == -ERANGE);
        CHECK(port_spec_parse("sctp:80", &s) == -EPROTONOSUPPORT);
        CHECK(port_spec_parse("TCP:80", &s) == -EPROTONOSUPPORT);
        CHECK(port_spec_parse("tcp:", &s) == -EINVAL);
        CHECK(port_spec_parse("80:", &s) == -EINVAL);
        CHECK(port_spec_parse("tcp:80:90:100", &s) == -EINVAL);
        CHECK(port_spec_parse("http", &s) == -EINVAL);
        CHECK(port_spec_parse("-1", &s) == -EINVAL);
        CHECK(port_spec_parse("+80", &s) == -EINVAL);
        CHECK(port_spec_parse(" 80", &s) == -EINVAL);
        CHECK(port_spec_parse("", &s) == -EINVAL);
        CHECK_STREQ(port_protocol_to_string(IPPROTO_TCP), "tcp");
        CHECK_STREQ(port_protocol_to_string(IPPROTO_UDP), "udp");
}

/* Both ways, over IPv4 and over IPv6 link-local. */
static void pings(pid_t m, const NetworkLink *l, const struct in6_addr *host_ll, const struct in6_addr *guest_ll) {
        char a[INET6_ADDRSTRLEN + IFNAMSIZ + 1];

        if (!ping) {
                printf("ok %u # SKIP no ping here\n", ++tap_n);
                return;
        }
        CHECK(ping_from(0, false, ip4(l->guest_ipv4, a)));
        CHECK(ping_from(m, false, ip4(l->host_ipv4, a)));
        inet_ntop(AF_INET6, guest_ll, a, INET6_ADDRSTRLEN);
        strcat(a, "%");
        strcat(a, l->host_ifname);
        CHECK(ping_from(0, true, a));
        inet_ntop(AF_INET6, host_ll, a, INET6_ADDRSTRLEN);
        strcat(a, "%" NETWORK_GUEST_IFNAME);
        CHECK(ping_from(m, true, a));
}

/* The machine's next start gets the same names, MACs and subnet. */
static void test_veth_again(const NetworkLink *l) {
        NetworkRequest req = veth_request("alpha", NULL);
        NetworkLink again = NETWORK_LINK_NULL;
        _cleanup_free_ char *err = NULL;
        pid_t m = machine_spawn(false);

        CHECK(network_setup_host(&req, m, &again, &err) == 0);
        CHECK_STREQ(again.host_ifname, l->host_ifname);
        CHECK(memcmp(&again.host_mac, &l->host_mac, sizeof again.host_mac) == 0);
        CHECK(memcmp(&again.guest_mac, &l->guest_mac, sizeof again.guest_mac) == 0);
        CHECK(again.guest_ipv4.s_addr == l->guest_ipv4.s_addr);
        CHECK(network_teardown(&again) == 0);
        machine_kill(m);
}

/* A long name: shortened, with the full one as altname. */
static void test_veth_long_name(void) {
        NetworkRequest req = veth_request("averyveryverylongmachinename", NULL);
        NetworkLink l = NETWORK_LINK_NULL;
        _cleanup_free_ char *err = NULL, *out = NULL;
        NetlinkLink hl;
        pid_t m = machine_spawn(false);

        CHECK(network_setup_host(&req, m, &l, &err) == 0);
        CHECK(strlen(l.host_ifname) == IFNAMSIZ - 1 && strncmp(l.host_ifname, "ve-averyve-", 11) == 0);
        CHECK_STREQ(l.host_altname, "ve-averyveryverylongmachinename");
        CHECK(run(&out, "ip -o link show %s", l.host_ifname) == 0 &&
              contains(out, "altname ve-averyveryverylongmachinename"));
        CHECK(link_get(0, "ve-averyveryverylongmachinename", &hl) == 0 && hl.ifindex == l.host_ifindex);
        CHECK(network_setup_guest(m, &l, &err) == 0);
        CHECK(network_teardown(&l) == 0);
        machine_kill(m);
}

static void test_veth(void) {
        NetworkRequest req = veth_request("alpha", NULL);
        NetworkLink l = NETWORK_LINK_NULL;
        _cleanup_free_ char *out = NULL, *err = NULL;
        char host[INET_ADDRSTRLEN], guest[INET_ADDRSTRLEN];
        struct ether_addr mac;
        struct in6_addr host_ll, guest_ll;
        NetlinkLink hl, gl, rl;
        NetworkPool pool;
        char retired[IFNAMSIZ];
        int hi;
        pid_t m;

        test_begin("veth");
        m = machine_spawn(false);
        CHECK(m > 0);
        CHECK(network_setup_host(&req, m, &l, &err) == 0);
        if (err)
                comment("error", err);
        CHECK_STREQ(l.host_ifname, "ve-alpha");
        CHECK_STREQ(l.host_altname, "");
        CHECK(l.host_ifindex > 0 && network_host_ifindex(&l) == l.host_ifindex);
        CHECK(l.has_ipv4 && l.prefixlen == 30);
        network_pool_parse(NETWORK_POOL_DEFAULT, &pool);
        CHECK((ntohl(l.host_ipv4.s_addr) & 0xffff0000) == ntohl(pool.base.s_addr));
        CHECK((ntohl(l.host_ipv4.s_addr) & 3) == 1);
        CHECK(ntohl(l.guest_ipv4.s_addr) == ntohl(l.host_ipv4.s_addr) + 1);
        ip4(l.host_ipv4, host);
        ip4(l.guest_ipv4, guest);
        CHECK(network_setup_guest(m, &l, &err) == 0);
        if (err)
                comment("error", err);

        /* The host end, as the kernel has it. */
        CHECK(link_get(0, "ve-alpha", &hl) == 0);
        network_mac(NETWORK_MAC_HOST, "alpha", &mac);
        CHECK(memcmp(&hl.mac, &mac, sizeof mac) == 0);
        CHECK(hl.flags & IFF_UP);
        CHECK_STREQ(hl.kind, "veth");
        CHECK(startswith(hl.alias, "boxctl "));
        CHECK(run(&out, "ip -o -4 addr show dev ve-alpha") == 0 && contains(out, host) && contains(out, "/30"));
        out = mfree_and_null(out);

        /* The guest end, from inside. */
        CHECK(link_get(m, "host0", &gl) == 0);
        network_mac(NETWORK_MAC_GUEST, "alpha", &mac);
        CHECK(memcmp(&gl.mac, &mac, sizeof mac) == 0);
        CHECK(gl.flags & IFF_UP);
        CHECK(gl.addr_gen_mode == IN6_ADDR_GEN_MODE_EUI64);
        CHECK(run(&out, "nsenter --net=/proc/%d/ns/net ip -o link show lo", (int) m) == 0 && contains(out, "UP"));
        out = mfree_and_null(out);
        CHECK(run(&out, "nsenter --net=/proc/%d/ns/net ip -o -4 addr show dev host0", (int) m) == 0 &&
              contains(out, guest) && contains(out, "/30"));
        out = mfree_and_null(out);
        CHECK(run(&out, "nsenter --net=/proc/%d/ns/net ip -4 route show default", (int) m) == 0 &&
              contains(out, "default via") && contains(out, host) && contains(out, "dev host0"));
        if (!contains(out, host))
                comment("guest routes", out);
        out = mfree_and_null(out);

        /* IPv6 link-local on both ends, by the kernel. */
        CHECK(wait_ipv6ll(0, l.host_ifindex, &host_ll));
        CHECK(wait_ipv6ll(m, gl.ifindex, &guest_ll));

        pings(m, &l, &host_ll, &guest_ll);

        /* Teardown retires the host end: down, without its lease, renamed,
         * so its name and address are free at once; the machine's network
         * namespace takes the pair along when it goes. */
        hi = l.host_ifindex;
        snprintf(retired, sizeof retired, "ve~%x", (unsigned) hi);
        CHECK(network_teardown(&l) == 0);
        CHECK(!link_exists(0, "ve-alpha"));
        CHECK(link_get(0, retired, &rl) == 0 && rl.ifindex == hi && !(rl.flags & IFF_UP));
        CHECK(run(&out, "ip -o -4 addr show dev %s", retired) == 0 && isempty(out));
        out = mfree_and_null(out);
        CHECK(network_teardown(&l) == 0);
        machine_kill(m);
        CHECK(link_gone_within(0, retired, 5000));
        test_veth_again(&l);
        test_veth_long_name();

        /* A machine that is not there. */
        err = mfree_and_null(err);
        req = veth_request("ghost", NULL);
        CHECK(network_setup_host(&req, 999999999, &l, &err) == -ESRCH && err);
        test_end();
}

static bool subnets_overlap(const NetworkLink *a, const NetworkLink *b) {
        uint32_t mask = UINT32_MAX << (32 - MIN(a->prefixlen, b->prefixlen));

        return ((ntohl(a->host_ipv4.s_addr) ^ ntohl(b->host_ipv4.s_addr)) & mask) == 0;
}

/* Several boxctl at once, each in a process of its own: the lock keeps their
 * subnets apart. */
static void test_pool_concurrent(void) {
        enum { N = 4 };
        int res[2], go[2];
        pid_t kids[N];
        uint32_t got[N] = {};
        bool ok = true;

        CHECK(pipe2(res, O_CLOEXEC) == 0 && pipe2(go, O_CLOEXEC) == 0);
        fflush(stdout);
        for (int i = 0; i < N; i++) {
                kids[i] = fork();
                if (kids[i] == 0) {
                        char name[16], *e = NULL, c;
                        NetworkRequest req;
                        NetworkLink l = NETWORK_LINK_NULL;
                        uint32_t a = 0;
                        pid_t m;

                        prctl(PR_SET_PDEATHSIG, SIGKILL);
                        close(res[0]);
                        close(go[1]); /* or the "go" never comes: EOF needs every writer gone */
                        snprintf(name, sizeof name, "conc%d", i);
                        req = veth_request(name, "10.140.0.0/28"); /* room for exactly 4 */
                        m = machine_spawn(false);
                        if (m > 0 && network_setup_host(&req, m, &l, &e) == 0)
                                a = l.guest_ipv4.s_addr;
                        (void) !write(res[1], &a, sizeof a);
                        (void) !read(go[0], &c, 1); /* hold it until all have answered */
                        network_teardown(&l);
                        machine_kill(m);
                        _exit(EXIT_SUCCESS);
                }
        }
        close(res[1]);
        close(go[0]);
        for (int i = 0; i < N; i++)
                if (read(res[0], &got[i], sizeof got[i]) != sizeof got[i] || got[i] == 0)
                        ok = false;
        CHECK(ok);
        for (int i = 0; i < N; i++)
                for (int j = i + 1; j < N; j++)
                        if ((ntohl(got[i]) & ~3u) == (ntohl(got[j]) & ~3u))
                                ok = false;
        CHECK(ok);
        close(go[1]);
        close(res[0]);
        for (int i = 0; i < N; i++)
                waitpid(kids[i], NULL, 0);
}

static void test_pool(void) {
        NetworkRequest req;
        NetworkLink a = NETWORK_LINK_NULL, b = NETWORK_LINK_NULL;
        _cleanup_free_ char *err = NULL, *out = NULL;
        pid_t ma, mb;

        test_begin("pool");
        ma = machine_spawn(false);
        mb = machine_spawn(false);

        /* Two machines, two subnets. */
        req = veth_request("one", NULL);
        CHECK(network_setup_host(&req, ma, &a, &err) == 0);
        req = veth_request("two", NULL);
        CHECK(network_setup_host(&req, mb, &b, &err) == 0);
        CHECK(!subnets_overlap(&a, &b));
        CHECK(network_teardown(&a) == 0 && network_teardown(&b) == 0);

        /* The host's own networks: a link with an address, a route via it. */
        CHECK(run(&out, "ip link add tst0 type veth peer name tst1 && ip addr add 10.210.5.1/24 dev tst0 && "
                        "ip link set tst0 up && ip link set tst1 up && "
                        "ip route add 10.211.0.0/16 via 10.210.5.2 dev tst0") == 0);
        out = mfree_and_null(out);
        req = veth_request("one", "10.211.0.0/16");
        CHECK(network_setup_host(&req, ma, &a, &err) == -EADDRINUSE);
        CHECK(contains(err, "10.211.0.0/16") && contains(err, "tst0") && contains(err, "route"));
        comment("refused", err);
        req = veth_request("one", "10.211.128.0/24"); /* inside the route */
        CHECK(network_setup_host(&req, ma, &a, &err) == -EADDRINUSE && contains(err, "10.211.0.0/16"));
        req = veth_request("one", "10.0.0.0/8"); /* around it */
        CHECK(network_setup_host(&req, ma, &a, &err) == -EADDRINUSE && contains(err, "tst0"));
        req = veth_request("one", "10.210.0.0/16"); /* the link's own subnet */
        CHECK(network_setup_host(&req, ma, &a, &err) == -EADDRINUSE && contains(err, "10.210.5.") && contains(err, "tst0"));
        comment("refused", err);
        CHECK(!link_exists(0, "ve-one"));
        /* A VPN's default in disguise (0.0.0.0/1 + 128.0.0.0/1) is no network. */
        CHECK(run(NULL, "ip route add 0.0.0.0/1 via 10.210.5.2 && ip route add 128.0.0.0/1 via 10.210.5.2") == 0);
        /* A machine whose host end was retired keeps its host0 until it goes:
         * a new machine for each new link, as in real life. */
        machine_kill(ma);
        ma = machine_spawn(false);
        req = veth_request("one", "10.212.0.0/16");
        CHECK(network_setup_host(&req, ma, &a, &err) == 0);
        CHECK((ntohl(a.guest_ipv4.s_addr) >> 16) == ((10u << 8) | 212u));
        CHECK(network_teardown(&a) == 0);
        CHECK(run(NULL, "ip link del tst0") == 0);

        /* Exhausted: a /30 pool holds one machine. */
        err = mfree_and_null(err);
        machine_kill(ma);
        ma = machine_spawn(false);
        machine_kill(mb);
        mb = machine_spawn(false);
        req = veth_request("one", "10.220.0.0/30");
        CHECK(network_setup_host(&req, ma, &a, &err) == 0);
        req = veth_request("two", "10.220.0.0/30");
        CHECK(network_setup_host(&req, mb, &b, &err) == -ENOSPC && contains(err, "exhausted"));
        comment("refused", err);
        CHECK(!link_exists(0, "ve-two"));
        /* The lease is the veth: it goes with the machine's namespace, even
         * with nobody tearing anything down. */
        machine_kill(ma);
        ma = 0;
        CHECK(link_gone_within(0, "ve-one", 5000));
        CHECK(network_setup_host(&req, mb, &b, &err) == 0);
        CHECK(network_teardown(&b) == 0);
        machine_kill(mb);

        test_pool_concurrent();
        test_end();
}

static void test_bridge(void) {
        NetworkRequest req = { .mode = NETWORK_BRIDGE, .machine_name = "beta", .bridge = "br-test" };
        NetworkLink l = NETWORK_LINK_NULL;
        _cleanup_free_ char *err = NULL, *out = NULL;
        NetlinkLink br, port, g;
        pid_t m;

        test_begin("bridge");
        CHECK(run(NULL, "ip link add br-test type bridge && ip link set br-test up") == 0);
        m = machine_spawn(false);
        CHECK(network_setup_host(&req, m, &l, &err) == 0);
        CHECK_STREQ(l.host_ifname, "vb-beta");
        CHECK(!l.has_ipv4);
        CHECK(link_get(0, "br-test", &br) == 0 && link_get(0, "vb-beta", &port) == 0);
        CHECK(port.master == br.ifindex && l.bridge_ifindex == br.ifindex);
        CHECK(port.flags & IFF_UP);
        CHECK(network_setup_guest(m, &l, &err) == 0);
        CHECK(link_get(m, "host0", &g) == 0 && (g.flags & IFF_UP));
        CHECK(run(&out, "nsenter --net=/proc/%d/ns/net ip -o -4 addr show dev host0", (int) m) == 0 && isempty(out));
        CHECK(network_teardown(&l) == 0);
        CHECK(!link_exists(0, "vb-beta"));
        CHECK(link_exists(0, "br-test")); /* not ours */
        /* Retired, the port left the user's bridge at once. */
        out = mfree_and_null(out);
        CHECK(run(&out, "ip -o link show master br-test") == 0 && isempty(out));

        err = mfree_and_null(err);
        req.bridge = "nosuchbr";
        CHECK(network_setup_host(&req, m, &l, &err) == -ENODEV && contains(err, "nosuchbr does not exist"));
        comment("refused", err);
        req.bridge = "lo";
        CHECK(network_setup_host(&req, m, &l, &err) == -EMEDIUMTYPE && contains(err, "lo is not a bridge"));
        comment("refused", err);
        req.bridge = "averyveryveryverylongbridgename";
        CHECK(network_setup_host(&req, m, &l, &err) == -ENODEV);
        CHECK(!link_exists(0, "vb-beta"));
        machine_kill(m);
        CHECK(run(NULL, "ip link del br-test") == 0);
        test_end();
}

static void test_zone(void) {
        NetworkRequest r1 = { .mode = NETWORK_ZONE, .machine_name = "z1", .zone = "test" };
        NetworkRequest r2 = { .mode = NETWORK_ZONE, .machine_name = "z2", .zone = "test" };
        NetworkLink l1 = NETWORK_LINK_NULL, l2 = NETWORK_LINK_NULL;
        _cleanup_free_ char *err = NULL, *out = NULL;
        char a[INET_ADDRSTRLEN];
        NetlinkLink br, p1, p2;
        pid_t m1, m2;

        test_begin("zone");
        m1 = machine_spawn(false);
        m2 = machine_spawn(false);

        r1.zone = "waytoolongzone";
        CHECK(network_setup_host(&r1, m1, &l1, &err) == -EINVAL && contains(err, "zone"));
        r1.zone = "bad.zone";
        CHECK(network_setup_host(&r1, m1, &l1, &err) == -EINVAL);
        r1.zone = "test";

        CHECK(network_setup_host(&r1, m1, &l1, &err) == 0);
        CHECK(link_get(0, "vz-test", &br) == 0 && streq(br.kind, "bridge") && (br.flags & IFF_UP));
        CHECK(network_setup_host(&r2, m2, &l2, &err) == 0);
        CHECK(link_get(0, "vb-z1", &p1) == 0 && p1.master == br.ifindex);
        CHECK(link_get(0, "vb-z2", &p2) == 0 && p2.master == br.ifindex);
        CHECK(l1.has_ipv4 && l1.prefixlen == 24 && l1.host_ipv4.s_addr == l2.host_ipv4.s_addr);
        CHECK(l1.guest_ipv4.s_addr != l2.guest_ipv4.s_addr);
        CHECK(l1.guest_ipv4.s_addr != l1.host_ipv4.s_addr && l2.guest_ipv4.s_addr != l1.host_ipv4.s_addr);
        CHECK(run(&out, "ip -o -4 addr show dev vz-test") == 0 && contains(out, ip4(l1.host_ipv4, a)) &&
              contains(out, "/24"));
        out = mfree_and_null(out);
        CHECK(network_setup_guest(m1, &l1, &err) == 0 && network_setup_guest(m2, &l2, &err) == 0);
        CHECK(run(&out, "nsenter --net=/proc/%d/ns/net ip -4 route show default", (int) m2) == 0 &&
              contains(out, ip4(l1.host_ipv4, a)));
        out = mfree_and_null(out);
        if (ping) {
                CHECK(ping_from(m1, false, ip4(l2.guest_ipv4, a))); /* machine to machine */
                CHECK(ping_from(m2, false, ip4(l1.host_ipv4, a)));  /* machine to host */
                CHECK(ping_from(0, false, ip4(l1.guest_ipv4, a)));  /* host to machine */
        } else
                printf("ok %u # SKIP no ping here\n", ++tap_n);

        /* A third machine restarting with z1's name gets its old address back
         * only once z1 is gone; here it must not take z2's. */
        CHECK(network_teardown(&l1) == 0);
        CHECK(link_exists(0, "vz-test")); /* z2 still uses it */
        CHECK(network_teardown(&l2) == 0);
        CHECK(!link_exists(0, "vz-test"));

        /* A vz- bridge boxctl did not make is left alone. */
        CHECK(run(NULL, "ip link add vz-mine type bridge") == 0);
        CHECK(network_zone_remove_if_empty("mine") == 0);
        CHECK(link_exists(0, "vz-mine"));
        CHECK(run(NULL, "ip link del vz-mine") == 0);
        CHECK(network_zone_remove_if_empty("mine") == -ENODEV);

        machine_kill(m1);
        machine_kill(m2);
        test_end();
}

/* A stand-in for boxctl: a machine in a zone, guarded, then waits to be killed. */
static pid_t fake_boxctl(const char *name, const char *zone) {
        int p[2];
        char c = 0;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                NetworkRequest req = { .mode = NETWORK_ZONE, .machine_name = name, .zone = zone };
                NetworkLink l = NETWORK_LINK_NULL;
                NetworkGuard g = NETWORK_GUARD_NULL;
                char *err = NULL;
                pid_t m;

                close(p[0]);
                m = machine_spawn(false);
                if (m > 0 && network_guard_start(&req, &g) == 0 && network_setup_host(&req, m, &l, &err) == 0 &&
                    network_setup_guest(m, &l, &err) == 0 && network_guard_watch(&g, &l) == 0)
                        c = 'r';
                (void) !write(p[1], &c, 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (pid < 0 || read(p[0], &c, 1) != 1 || c != 'r') {
                close(p[0]);
                if (pid > 0)
                        machine_kill(pid);
                return -EIO;
        }
        close(p[0]);
        return pid;
}

static void test_guard(void) {
        NetworkRequest req = { .mode = NETWORK_ZONE, .machine_name = "g1", .zone = "gz" };
        NetworkRequest veth = veth_request("g0", NULL);
        NetworkGuard g = NETWORK_GUARD_NULL;
        NetworkLink l = NETWORK_LINK_NULL;
        _cleanup_free_ char *err = NULL;
        uint64_t t;
        pid_t m, f1, f2;

        test_begin("guard");
        /* Only zones need one. */
        CHECK(network_guard_start(&veth, &g) == 0 && g.pid == 0);
        CHECK(network_guard_done(&g) == 0);

        /* The normal end: "done" after our own teardown, and it is gone at once. */
        m = machine_spawn(false);
        CHECK(network_guard_start(&req, &g) == 0 && g.pid > 0);
        CHECK(network_setup_host(&req, m, &l, &err) == 0);
        CHECK(network_guard_watch(&g, &l) == 0);
        CHECK(network_teardown(&l) == 0);
        CHECK(!link_exists(0, "vz-gz"));
        t = now_usec(CLOCK_MONOTONIC);
        CHECK(network_guard_done(&g) == 0);
        CHECK(now_usec(CLOCK_MONOTONIC) - t < 500000);
        CHECK(network_guard_done(&g) == 0);
        machine_kill(m);

        /* boxctl SIGKILLed: the guard removes the zone's bridge. */
        f1 = fake_boxctl("g1", "gz");
        CHECK(f1 > 0);
        CHECK(link_exists(0, "vz-gz") && link_exists(0, "vb-g1"));
        kill(f1, SIGKILL);
        waitpid(f1, NULL, 0);
        CHECK(link_gone_within(0, "vz-gz", 10000));
        CHECK(!link_exists(0, "vb-g1"));
        /* The machine (killed by its parent's death) and the guard, both given
         * to us as orphans: all gone. */
        CHECK(reap_all(5000));

        /* Two machines in the zone, one boxctl killed: the bridge stays for the
         * other, and the guard does not linger. */
        f1 = fake_boxctl("g1", "gz");
        f2 = fake_boxctl("g2", "gz");
        CHECK(f1 > 0 && f2 > 0);
        kill(f1, SIGKILL);
        waitpid(f1, NULL, 0);
        CHECK(reap_all_but(f2, 5000)); /* f1's machine and guard are gone */
        CHECK(link_exists(0, "vz-gz") && link_exists(0, "vb-g2"));
        kill(f2, SIGKILL);
        waitpid(f2, NULL, 0);
        CHECK(link_gone_within(0, "vz-gz", 10000));
        CHECK(reap_all(5000));
        test_end();
}

/* ---- port forwarding ---- */

typedef struct ClientResult {
        bool tcp_v4, tcp_v6, tcp_host_addr, bulk, half_close, udp_v4, udp_v6, closed_port;
} ClientResult;

static int tcp_connect(int family, const char *addr, uint16_t port) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } a = {};
        struct timeval tv = { .tv_sec = 5 };
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        socklen_t len;

        if (fd < 0)
                return -errno;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (family == AF_INET) {
                a.in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(port) };
                inet_pton(AF_INET, addr, &a.in.sin_addr);
                len = sizeof a.in;
        } else {
                a.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(port) };
                inet_pton(AF_INET6, addr, &a.in6.sin6_addr);
                len = sizeof a.in6;
        }
        if (connect(fd, &a.sa, len) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

static bool echo_once(int family, const char *addr, uint16_t port) {
        const char msg[] = "hello, machine";
        char buf[sizeof msg] = {};
        int fd = tcp_connect(family, addr, port);
        bool ok;

        if (fd < 0)
                return false;
        ok = write(fd, msg, sizeof msg) == sizeof msg && recv(fd, buf, sizeof buf, MSG_WAITALL) == sizeof msg &&
             memcmp(buf, msg, sizeof msg) == 0;
        close(fd);
        return ok;
}

/* 4 MiB through the proxy and back, written while reading (the buffers on
 * the way hold far less), then a half-close: the echo comes back complete and
 * ends with EOF. */
static void bulk(uint16_t port, ClientResult *res) {
        enum { TOTAL = 4 * 1024 * 1024 };
        size_t sent = 0, got = 0;
        bool match = true, eof = false;
        int fd = tcp_connect(AF_INET, "127.0.0.1", port);
        char buf[65536];

        if (fd < 0)
                return;
        fd_nonblock(fd, true);
        for (unsigned rounds = 0; rounds < 100000 && !eof; rounds++) {
                struct pollfd p = { .fd = fd, .events = POLLIN | (sent < TOTAL ? POLLOUT : 0) };

                if (poll(&p, 1, 5000) <= 0)
                        break;
                if ((p.revents & POLLOUT) && sent < TOTAL) {
                        size_t k = MIN(sizeof buf, (size_t) TOTAL - sent);
                        ssize_t n;

                        for (size_t i = 0; i < k; i++)
                                buf[i] = (char) ((sent + i) * 7 % 251);
                        n = write(fd, buf, k);
                        if (n > 0) {
                                sent += (size_t) n;
                                if (sent == TOTAL)
                                        shutdown(fd, SHUT_WR);
                        }
                }
                if (p.revents & (POLLIN | POLLHUP)) {
                        ssize_t n = read(fd, buf, sizeof buf);

                        if (n == 0)
                                eof = true;
                        for (ssize_t i = 0; i < n; i++)
                                if (buf[i] != (char) ((got + (size_t) i) * 7 % 251))
                                        match = false;
                        if (n > 0)
                                got += (size_t) n;
                }
        }
        close(fd);
        res->bulk = match && got == TOTAL;
        res->half_close = eof && got == TOTAL;
}

static bool udp_echo(int family, const char *addr, uint16_t port) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } a = {};
        struct timeval tv = { .tv_sec = 2 };
        const char msg[] = "datagram";
        char buf[64] = {};
        int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        socklen_t len;
        bool ok = false;

        if (fd < 0)
                return false;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (family == AF_INET) {
                a.in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(port) };
                inet_pton(AF_INET, addr, &a.in.sin_addr);
                len = sizeof a.in;
        } else {
                a.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(port) };
                inet_pton(AF_INET6, addr, &a.in6.sin6_addr);
                len = sizeof a.in6;
        }
        /* connect(): only the answer from the address we wrote to counts. */
        if (connect(fd, &a.sa, len) == 0)
                for (int i = 0; i < 3 && !ok; i++)
                        ok = send(fd, msg, sizeof msg, 0) == sizeof msg && recv(fd, buf, sizeof buf, 0) == sizeof msg &&
                             memcmp(buf, msg, sizeof msg) == 0;
        close(fd);
        return ok;
}

static void client_main(int out, const char *host_addr) {
        ClientResult res = {};
        char buf[1];
        int fd;

        res.tcp_v4 = echo_once(AF_INET, "127.0.0.1", 18080);
        res.tcp_v6 = echo_once(AF_INET6, "::1", 18080);
        res.tcp_host_addr = echo_once(AF_INET, host_addr, 18080);
        bulk(18080, &res);
        res.udp_v4 = udp_echo(AF_INET, "127.0.0.1", 18081);
        res.udp_v6 = udp_echo(AF_INET6, "::1", 18081);
        /* Nothing listens on the machine's port: the proxy's connection is
         * accepted, then closed; no hang. */
        fd = tcp_connect(AF_INET, "127.0.0.1", 18082);
        res.closed_port = fd >= 0 && read(fd, buf, 1) <= 0;
        if (fd >= 0)
                close(fd);
        (void) !write(out, &res, sizeof res);
}

static int on_client_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        *(bool *) userdata = true;
        return sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

/* Runs the loop until every forward is idle, for at most MS. */
static void run_until_idle(sd_event *e, PortForward **f, size_t n, unsigned ms) {
        for (unsigned t = 0; t < ms; t += 10) {
                size_t busy = 0;

                for (size_t i = 0; i < n; i++)
                        busy += port_forward_n_connections(f[i]);
                if (busy == 0)
                        return;
                (void) sd_event_run(e, 10000);
        }
}

/* Taken ports are refused: by a forward of ours, by someone else's TCP
 * listener (on 127.0.0.1 only), by a UDP socket. */
static void test_port_taken(sd_event *e, const PortSpec *ours, struct in_addr guest) {
        PortForward *dup = NULL;
        PortSpec spec;
        int busy;

        CHECK(port_forward_new(e, ours, guest, &dup) == -EADDRINUSE && !dup);
        busy = tcp_listen(AF_INET, "127.0.0.1", 18090);
        CHECK(busy >= 0);
        CHECK(port_spec_parse("18090", &spec) == 0);
        CHECK(port_forward_new(e, &spec, guest, &dup) == -EADDRINUSE && !dup);
        safe_close(busy);
        busy = udp_bind("0.0.0.0", 18091);
        CHECK(busy >= 0);
        CHECK(port_spec_parse("udp:18091", &spec) == 0);
        CHECK(port_forward_new(e, &spec, guest, &dup) == -EADDRINUSE && !dup);
        safe_close(busy);
}

static void test_port_forward(void) {
        NetworkRequest req = veth_request("pf", NULL);
        NetworkLink l = NETWORK_LINK_NULL;
        _cleanup_free_ char *err = NULL;
        PortForward *f[3] = {};
        PortSpec tcp, udp, closed;
        ClientResult res = {};
        sd_event *e = NULL;
        sd_event_source *exit_source = NULL;
        bool client_done = false;
        uint64_t deadline;
        char host[INET_ADDRSTRLEN];
        int p[2], pidfd;
        pid_t m, client;

        test_begin("port forward");
        m = machine_spawn(true);
        CHECK(network_setup_host(&req, m, &l, &err) == 0 && network_setup_guest(m, &l, &err) == 0);
        ip4(l.host_ipv4, host);

        CHECK(sd_event_new(&e) >= 0);
        CHECK(port_spec_parse("tcp:18080:7000", &tcp) == 0);
        CHECK(port_spec_parse("udp:18081:7001", &udp) == 0);
        CHECK(port_spec_parse("18082:7999", &closed) == 0);
        CHECK(port_forward_new(e, &tcp, l.guest_ipv4, &f[0]) == 0);
        CHECK(port_forward_new(e, &udp, l.guest_ipv4, &f[1]) == 0);
        CHECK(port_forward_new(e, &closed, l.guest_ipv4, &f[2]) == 0);
        port_forward_set_udp_idle_timeout(f[1], 300000);

        test_port_taken(e, &tcp, l.guest_ipv4);

        /* The clients run in a child; the proxy in our loop until it is done. */
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        fflush(stdout);
        client = fork();
        if (client == 0) {
                close(p[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                client_main(p[1], host);
                _exit(EXIT_SUCCESS);
        }
        close(p[1]);
        pidfd = (int) syscall(SYS_pidfd_open, client, 0);
        CHECK(pidfd >= 0);
        CHECK(sd_event_add_io(e, &exit_source, pidfd, EPOLLIN, on_client_exit, &client_done) >= 0);
        /* Not sd_event_loop(): after sd_event_exit() a loop takes no new sources. */
        deadline = now_usec(CLOCK_MONOTONIC) + 60 * 1000000ULL;
        while (!client_done && now_usec(CLOCK_MONOTONIC) < deadline)
                (void) sd_event_run(e, 100000);
        CHECK(client_done);
        CHECK(read(p[0], &res, sizeof res) == sizeof res);
        close(p[0]);
        waitpid(client, NULL, 0);
        safe_close(pidfd);

        CHECK(res.tcp_v4);
        CHECK(res.tcp_v6);
        CHECK(res.tcp_host_addr);
        CHECK(res.bulk);
        CHECK(res.half_close);
        CHECK(res.udp_v4);
        CHECK(res.udp_v6);
        CHECK(res.closed_port);

        /* Every connection closed, every UDP session timed out. */
        run_until_idle(e, f, ELEMENTSOF(f), 3000);
        CHECK(port_forward_n_connections(f[0]) == 0);
        CHECK(port_forward_n_connections(f[1]) == 0);
        CHECK(port_forward_n_connections(f[2]) == 0);

        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                f[i] = port_forward_free(f[i]);
        /* Freed: the port is free again. */
        CHECK(port_forward_new(e, &tcp, l.guest_ipv4, &f[0]) == 0);
        f[0] = port_forward_free(f[0]);

        sd_event_source_disable_unref(exit_source);
        sd_event_unref(e);
        CHECK(network_teardown(&l) == 0);
        machine_kill(m);
        CHECK(reap_all(2000));
        test_end();
}

static int run_tests(void) {
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                printf("# no subreaper: %m\n");
        if (run(NULL, "command -v ping") == 0)
                ping = "ping";
        else if (run(NULL, "busybox ping -h 2>&1 | grep -q Usage") == 0)
                ping = "busybox ping";
        if (!ping)
                printf("# neither ping nor busybox found: the ping checks are skipped\n");

        test_names();
        test_port_spec();
        test_veth();
        test_pool();
        test_bridge();
        test_zone();
        test_guard();
        test_port_forward();
        return tap_done();
}

int main(void) {
        pid_t child;
        int status, r;

        /* Lines as they come: a test killed by its timeout still shows how far it got. */
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (geteuid() != 0) {
                printf("1..0 # SKIP needs root (network namespaces, veth, bridges)\n");
                return 0;
        }
        if (!mkdtemp(runtime_dir)) {
                printf("Bail out! mkdtemp: %m\n");
                return 1;
        }
        setenv("BOXCTL_RUNTIME_DIR", runtime_dir, 1);

        /* Everything runs in a child: it alone changes its network namespace,
         * and whatever it leaves behind comes to us as orphans to count. */
        (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
        fflush(stdout);
        child = fork();
        if (child < 0)
                return 1;
        if (child == 0) {
                if (unshare(CLONE_NEWNET) < 0) {
                        printf("1..0 # SKIP cannot make a network namespace: %m\n");
                        fflush(stdout);
                        _exit(0);
                }
                /* exit(), not _exit(): under ASan the leak check runs here. */
                exit(run_tests());
        }
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        r = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        if (!reap_all(3000)) {
                printf("# processes were left behind\n");
                r = 1;
        }
        /* No lock file, no state: the runtime directory is empty again. */
        if (rmdir(runtime_dir) < 0) {
                printf("# %s is not empty: %m\n", runtime_dir);
                r = 1;
        }
        return r;
}
