/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pull-tar and pull-raw's parsing (pool-pull.c, pool-download.c): the image
 * name a URL gives, SHA256SUMS lines, the URLs beside a file, the schemes
 * refused, and --verify's table. The downloads themselves are driven by
 * tests/integration/test-pull.sh against a server of its own. */
#include <stdlib.h>

#include "pool-download.h"
#include "pool-pull.h"
#include "tap.h"
#include "util.h"

static void test_tables(void) {
        for (int i = 0; i < _POOL_VERIFY_MAX; i++)
                CHECK(pool_verify_from_string(pool_verify_to_string(i)) == i);
        CHECK(pool_verify_from_string("yes") == _POOL_VERIFY_INVALID);
        CHECK(pool_verify_from_string("") == _POOL_VERIFY_INVALID);
        CHECK(pool_verify_from_string(NULL) == _POOL_VERIFY_INVALID);
}

static const char *name_of(const char *url) {
        static char *last;

        free(last);
        last = NULL;
        return pool_pull_name_from_url(url, &last) < 0 ? "(invalid)" : last;
}

static void test_name_from_url(void) {
        CHECK_STREQ(name_of("https://example.com/images/debian-12.tar.xz"), "debian-12");
        CHECK_STREQ(name_of("https://example.com/debian.tar"), "debian");
        CHECK_STREQ(name_of("https://example.com/fedora.raw.zst"), "fedora");
        CHECK_STREQ(name_of("https://example.com/fedora.raw"), "fedora");
        CHECK_STREQ(name_of("https://example.com/disk.img.gz"), "disk");
        CHECK_STREQ(name_of("https://example.com/alpine.tgz"), "alpine");
        CHECK_STREQ(name_of("https://example.com/v1.2/arch?token=x#y"), "arch");
        CHECK_STREQ(name_of("https://example.com/a%2Db.tar"), "a-b");
        CHECK_STREQ(name_of("https://example.com/only.tar.bz2"), "only");
        /* One compression and one kind: what is left is the name, dots and all. */
        CHECK_STREQ(name_of("https://example.com/ubuntu-24.04.tar.gz"), "ubuntu-24.04");
        CHECK_STREQ(name_of("https://example.com/x.tar.tar"), "x.tar");
        CHECK_STREQ(name_of("https://example.com/"), "(invalid)");
        CHECK_STREQ(name_of("https://example.com/.hidden.tar"), "(invalid)");
        CHECK_STREQ(name_of("https://example.com/a%2Fb.tar"), "(invalid)");
        CHECK_STREQ(name_of("https://example.com/.tar"), "(invalid)");
        CHECK_STREQ(name_of("https://example.com/a%00b.tar"), "(invalid)");
        CHECK_STREQ(name_of("not a url"), "(invalid)");
        name_of("https://example.com/x"); /* frees the last */
}

static void test_sums(void) {
        const char *h1 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        const char *h2 = "60303AE22B998861BCE3B28F33EEC1BE758A213C86C93C076DBE9F558C11C752";
        _cleanup_free_ char *sums = NULL;
        char h[65];

        CHECK(asprintf(&sums,
                       "# a comment\n"
                       "%s  debian.tar.xz\n"
                       "%s *fedora.raw\r\n"
                       "%s  spaced name.tar\n"
                       "tooshort  x.tar\n"
                       "%s\tbad-separator.tar\n"
                       "%s  last-without-newline.tar",
                       h1, h2, h1, h1, h2) > 0);
        CHECK(pool_sha256sums_find(sums, "debian.tar.xz", h) == 0);
        CHECK_STREQ(h, h1);
        CHECK(pool_sha256sums_find(sums, "fedora.raw", h) == 0);
        CHECK_STREQ(h, "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752");
        CHECK(pool_sha256sums_find(sums, "spaced name.tar", h) == 0);
        CHECK(pool_sha256sums_find(sums, "last-without-newline.tar", h) == 0);
        CHECK_STREQ(h, "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752");
        CHECK(pool_sha256sums_find(sums, "debian.tar", h) == -ENOENT);
        CHECK(pool_sha256sums_find(sums, "ebian.tar.xz", h) == -ENOENT);
        CHECK(pool_sha256sums_find(sums, "x.tar", h) == -ENOENT);
        CHECK(pool_sha256sums_find(sums, "bad-separator.tar", h) == -ENOENT);
        CHECK(pool_sha256sums_find("", "x", h) == -ENOENT);
}

static void test_urls(void) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *f = NULL;

        CHECK(download_url_sibling("https://example.com/d/x.tar?token=1#frag", "SHA256SUMS", &a) == 0);
        CHECK_STREQ(a, "https://example.com/d/SHA256SUMS");
        CHECK(download_url_sibling("http://example.com:8080/x.raw", "SHA256SUMS.gpg", &b) == 0);
        CHECK_STREQ(b, "http://example.com:8080/SHA256SUMS.gpg");
        CHECK(download_url_sibling("http://example.com/a/b/", "SHA256SUMS", &c) == 0);
        CHECK_STREQ(c, "http://example.com/a/b/SHA256SUMS");
        CHECK(download_url_file("http://example.com/a/b%20c.tar", &f) == 0);
        CHECK_STREQ(f, "b c.tar");
        CHECK(download_url_check("http://example.com/x", NULL) == 0);
        CHECK(download_url_check("HTTPS://example.com/x", NULL) == 0);
        CHECK(download_url_check("ftp://example.com/x", NULL) == -EPROTONOSUPPORT);
        CHECK(download_url_check("file:///etc/passwd", NULL) == -EPROTONOSUPPORT);
        CHECK(download_url_check("scp://host/x", NULL) == -EPROTONOSUPPORT);
        CHECK(download_url_check("/etc/passwd", NULL) == -EINVAL);
        CHECK(download_url_check("", NULL) == -EINVAL);
}

int main(void) {
        test_tables();
        test_name_from_url();
        test_sums();
        test_urls();
        return tap_done();
}
