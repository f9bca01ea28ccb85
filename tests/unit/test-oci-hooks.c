/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* config.json's hooks (oci-hooks.c): the parse and its errors' JSON paths,
 * and the run: exit status, the state on stdin, the timeout, a hook that
 * does not read its stdin. When each kind runs is tested on real containers
 * by tests/integration/test-oci.sh. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "oci-hooks.h"
#include "tap.h"
#include "util.h"

static void test_tables(void) {
        for (int k = 0; k < _OCI_HOOK_KIND_MAX; k++)
                CHECK(oci_hook_kind_from_string(oci_hook_kind_to_string(k)) == k);
        CHECK(oci_hook_kind_from_string("preStart") == _OCI_HOOK_KIND_INVALID);
        CHECK(oci_hook_kind_to_string(_OCI_HOOK_KIND_MAX) == NULL);
}

static int parse(const char *text, OciHooks *h, char **error) {
        free(*error);
        *error = NULL;
        oci_hooks_done(h);
        return oci_hooks_parse_text(text, h, error);
}

static void test_parse(void) {
        OciHooks h = {};
        char *error = NULL;

        CHECK(parse("{\"prestart\": [{\"path\": \"/bin/true\"}, {\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"x\"], "
                    "\"env\": [\"A=b\"], \"timeout\": 5}], \"poststop\": [], \"bogus\": 1}", &h, &error) == 0);
        CHECK(h.n[OCI_HOOK_PRESTART] == 2 && h.n[OCI_HOOK_POSTSTOP] == 0 && h.n[OCI_HOOK_POSTSTART] == 0);
        CHECK_STREQ(h.hooks[OCI_HOOK_PRESTART][1].args[2], "x");
        CHECK_STREQ(h.hooks[OCI_HOOK_PRESTART][1].env[0], "A=b");
        CHECK(h.hooks[OCI_HOOK_PRESTART][1].timeout == 5 && h.hooks[OCI_HOOK_PRESTART][0].timeout == 0);
        CHECK(h.hooks[OCI_HOOK_PRESTART][0].args == NULL && h.json != NULL);

        CHECK(parse("{\"poststart\": [{\"path\": \"bin/true\"}]}", &h, &error) == -EINVAL);
        CHECK_STREQ(error, "hooks.poststart[0].path: bin/true is not an absolute path");
        CHECK(parse("{\"createRuntime\": [{\"args\": []}]}", &h, &error) == -EINVAL);
        CHECK_STREQ(error, "hooks.createRuntime[0].path: missing");
        CHECK(parse("{\"startContainer\": [{\"path\": \"/x\", \"timeout\": 0}]}", &h, &error) == -ERANGE);
        CHECK(error && startswith(error, "hooks.startContainer[0].timeout: 0 is not"));
        CHECK(parse("{\"prestart\": [{\"path\": \"/x\", \"args\": [\"x\", 3]}]}", &h, &error) == -EINVAL);
        CHECK_STREQ(error, "hooks.prestart[0].args[1]: not a string");
        CHECK(parse("{\"prestart\": {\"path\": \"/x\"}}", &h, &error) == -EINVAL);
        CHECK_STREQ(error, "hooks.prestart: not an array");
        CHECK(parse("[]", &h, &error) == -EINVAL);
        CHECK_STREQ(error, "hooks: not an object");

        CHECK(parse("{\"poststop\": [{\"path\": \"/nonexistent/hook\"}], \"startContainer\": [{\"path\": \"/in/the/container\"}]}",
                    &h, &error) == 0);
        CHECK(oci_hooks_check(&h, &error) == -ENOENT);
        CHECK_STREQ(error, "hooks.poststop[0].path: /nonexistent/hook: No such file or directory");
        free(error);
        oci_hooks_done(&h);
}

static int run_one(const char *text, const char *state, char *error, size_t size) {
        OciHooks h = {};
        char *perror = NULL;
        int r = oci_hooks_parse_text(text, &h, &perror);

        if (r >= 0)
                r = oci_hooks_run(&h, OCI_HOOK_PRESTART, state, error, size);
        free(perror);
        oci_hooks_done(&h);
        return r;
}

static void test_run(void) {
        char error[512], dir[] = "/tmp/test-oci-hooks.XXXXXX", text[1024], *out = NULL, *big;
        size_t n = 256 * 1024;

        CHECK(run_one("{\"prestart\": [{\"path\": \"/bin/true\"}]}", "{}", error, sizeof error) == 0);
        CHECK(run_one("{\"prestart\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"exit 4\"]}]}", "{}", error,
                      sizeof error) == -EPROTO);
        CHECK_STREQ(error, "hooks.prestart[0] (/bin/sh): exit status 4");
        CHECK(run_one("{\"prestart\": [{\"path\": \"/bin/sleep\", \"args\": [\"sleep\", \"30\"], \"timeout\": 1}]}", "{}", error,
                      sizeof error) == -ETIME);
        CHECK_STREQ(error, "hooks.prestart[0] (/bin/sleep): timed out after 1 s; killed it");

        /* The state on stdin, and the hook's env in place of ours. */
        CHECK(mkdtemp(dir) != NULL);
        snprintf(text, sizeof text,
                 "{\"prestart\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"cat >%s/in; echo $HOOKVAR >>%s/in\"], "
                 "\"env\": [\"HOOKVAR=set\"]}]}", dir, dir);
        CHECK(run_one(text, "{\"id\":\"x\"}", error, sizeof error) == 0);
        snprintf(text, sizeof text, "%s/in", dir);
        CHECK(read_file_at(AT_FDCWD, text, 4096, &out) >= 0);
        CHECK_STREQ(out, "{\"id\":\"x\"}set\n");
        free(out);
        (void) unlink(text);
        (void) rmdir(dir);

        /* More state than a pipe holds, to a hook that never reads it: it ends, and we neither block nor die of SIGPIPE. */
        big = malloc(n + 1);
        CHECK(big != NULL);
        memset(big, 'x', n);
        big[n] = '\0';
        CHECK(run_one("{\"prestart\": [{\"path\": \"/bin/true\"}]}", big, error, sizeof error) == 0);
        CHECK(run_one("{\"prestart\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"sleep 0.2\"], \"timeout\": 10}]}", big,
                      error, sizeof error) == 0);
        free(big);
}

int main(void) {
        test_tables();
        test_parse();
        test_run();
        return tap_done();
}
