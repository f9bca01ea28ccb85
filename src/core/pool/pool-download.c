/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HTTP and HTTPS downloads with libcurl, hashed with OpenSSL's libcrypto
 * (EVP SHA-256) as the bytes arrive: the pool's pull-tar and pull-raw. */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "pool-download.h"
#include "util.h"

static void curl_url_cleanupp(CURLU **u) {
        if (*u)
                curl_url_cleanup(*u);
}
static void curl_easy_cleanupp(CURL **c) {
        if (*c)
                curl_easy_cleanup(*c);
}
static void curl_freep(char **p) {
        if (*p)
                curl_free(*p);
}
static void evp_md_ctx_freep(EVP_MD_CTX **c) {
        if (*c)
                EVP_MD_CTX_free(*c);
}

static int url_parse(const char *url, CURLU **ret) {
        _cleanup_(curl_url_cleanupp) CURLU *u = curl_url();

        if (!u)
                return -ENOMEM;
        /* Only an absolute URL with a scheme: a bare "host/file" is no guess of ours. */
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
                return -EINVAL;
        *ret = TAKE_PTR(u);
        return 0;
}

int download_url_check(const char *url, char **ret_error) {
        _cleanup_(curl_url_cleanupp) CURLU *u = NULL;
        _cleanup_(curl_freep) char *scheme = NULL;

        if (url_parse(url, &u) < 0 || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
                return error_set(ret_error, -EINVAL, "%s: not a URL", url);
        if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
                return error_set(ret_error, -EPROTONOSUPPORT, "%s: unsupported scheme '%s': only http and https", url,
                                 scheme);
        return 0;
}

int download_url_file(const char *url, char **ret) {
        _cleanup_(curl_url_cleanupp) CURLU *u = NULL;
        _cleanup_(curl_freep) char *path = NULL, *decoded = NULL;
        const char *slash;
        char *f;
        int n, r;

        r = url_parse(url, &u);
        if (r < 0)
                return r;
        if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
                return -EINVAL;
        /* Split before decoding: "a%2Fb" is one component, and no name. */
        slash = strrchr(path, '/');
        decoded = curl_easy_unescape(NULL, slash ? slash + 1 : path, 0, &n);
        if (!decoded)
                return -ENOMEM;
        if ((size_t) n != strlen(decoded))
                return -EINVAL; /* a %00 */
        f = strdup(decoded);
        if (!f)
                return -ENOMEM;
        *ret = f;
        return 0;
}

int download_url_sibling(const char *url, const char *file, char **ret) {
        _cleanup_(curl_url_cleanupp) CURLU *u = NULL;
        _cleanup_(curl_freep) char *s = NULL;
        char *copy;
        int r;

        r = url_parse(url, &u);
        if (r < 0)
                return r;
        /* A relative reference, resolved as a browser would (RFC 3986): the
         * query and fragment of URL go, its directory stays. */
        if (curl_url_set(u, CURLUPART_URL, file, CURLU_URLENCODE) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
                return -EINVAL;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

typedef struct Sink {
        Download *d;
        CURL *c;
        EVP_MD_CTX *md;
        size_t allocated;
        int error; /* why the write callback stopped the transfer */
} Sink;

static size_t sink_write(char *buf, size_t size, size_t nmemb, void *userdata) {
        Sink *s = userdata;
        Download *d = s->d;
        size_t n = size * nmemb;

        if (d->fd >= 0) {
                for (size_t done = 0; done < n;) {
                        ssize_t w = write(d->fd, buf + done, n - done);

                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                s->error = -errno;
                                return 0;
                        }
                        done += w;
                }
        } else {
                if (d->size + n > d->max_size) {
                        s->error = -EFBIG;
                        return 0;
                }
                if (d->size + n + 1 > s->allocated) {
                        size_t a = (d->size + n + 1) * 2;
                        char *p = realloc(d->data, a);

                        if (!p) {
                                s->error = -ENOMEM;
                                return 0;
                        }
                        d->data = p;
                        s->allocated = a;
                }
                memcpy(d->data + d->size, buf, n);
                d->data[d->size + n] = '\0';
        }
        if (EVP_DigestUpdate(s->md, buf, n) != 1) {
                s->error = -EIO;
                return 0;
        }
        d->size += n;
        if (d->progress) {
                curl_off_t total = -1;

                /* The body's length when the server said it (Content-Length). */
                (void) curl_easy_getinfo(s->c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &total);
                d->progress(d->size, total >= 0 ? (uint64_t) total : UINT64_MAX, d->userdata);
        }
        return n;
}

static int setup(CURL *c, Download *d, Sink *s, char *errbuf) {
        char agent[64];

        snprintf(agent, sizeof agent, "boxctl/%s", PACKAGE_VERSION);
        if (curl_easy_setopt(c, CURLOPT_URL, d->url) != CURLE_OK ||
            /* Never file://, ftp:// or anything else, not even after a redirect. */
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_USERAGENT, agent) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L) != CURLE_OK ||
            /* A server that stalls: less than a byte a second for a minute ends it. */
            curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink_write) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, s) != CURLE_OK)
                return -EINVAL;
        if (d->ca_file && curl_easy_setopt(c, CURLOPT_CAINFO, d->ca_file) != CURLE_OK)
                return -EINVAL;
        return 0;
}

/* The one line for a failed transfer. */
static int transfer_error(CURL *c, const Download *d, CURLcode cc, const Sink *s, const char *errbuf,
                          char **ret_error) {
        const char *reason = errbuf[0] ? errbuf : curl_easy_strerror(cc);
        char *redirect = NULL;
        long code = 0;

        switch (cc) {
        case CURLE_HTTP_RETURNED_ERROR:
                (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
                return error_set(ret_error, code == 404 || code == 410 ? -ENOENT : -EIO,
                                 "%s: the server answered HTTP %ld%s", d->url, code,
                                 code == 404 ? " (not found)" : "");
        case CURLE_COULDNT_CONNECT:
                /* curl's own text ("Couldn't connect to server") hides the reason. */
                (void) curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &code);
                return error_set(ret_error, code > 0 ? -(int) code : -ECONNREFUSED, "%s: cannot connect: %s", d->url,
                                 code > 0 ? strerror((int) code) : reason);
        case CURLE_UNSUPPORTED_PROTOCOL:
                /* Where the refused redirect led: curl moved there before it refused. */
                (void) curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &redirect);
                if (redirect && !streq(redirect, d->url))
                        return error_set(ret_error, -EPROTONOSUPPORT,
                                         "%s: redirected to %s, which is not http or https", d->url, redirect);
                return error_set(ret_error, -EPROTONOSUPPORT, "%s: %s", d->url, reason);
        case CURLE_WRITE_ERROR:
                if (s->error == -EFBIG)
                        return error_set(ret_error, -EFBIG, "%s: larger than %zu bytes", d->url, d->max_size);
                if (s->error < 0)
                        return error_set(ret_error, s->error, "%s: cannot store it: %s", d->url, strerror(-s->error));
                break;
        default:
                break;
        }
        return error_set(ret_error, -EHOSTUNREACH, "%s: %s", d->url, reason);
}

int download_run(Download *d, char **ret_error) {
        _cleanup_(curl_easy_cleanupp) CURL *c = NULL;
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *md = NULL;
        char errbuf[CURL_ERROR_SIZE] = "";
        unsigned char hash[EVP_MAX_MD_SIZE];
        unsigned hash_len = 0;
        CURLcode cc;
        Sink s;
        int r;

        r = download_url_check(d->url, ret_error);
        if (r < 0)
                return r;
        c = curl_easy_init();
        md = EVP_MD_CTX_new();
        if (!c || !md)
                return -ENOMEM;
        if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
                return -EIO;
        s = (Sink) { .d = d, .c = c, .md = md };
        d->size = 0;
        r = setup(c, d, &s, errbuf);
        if (r < 0)
                return error_set(ret_error, r, "%s: cannot set up the transfer", d->url);
        cc = curl_easy_perform(c);
        if (cc != CURLE_OK)
                return transfer_error(c, d, cc, &s, errbuf, ret_error);
        if (d->fd < 0 && !d->data) {
                d->data = strdup("");
                if (!d->data)
                        return -ENOMEM;
        }
        if (EVP_DigestFinal_ex(md, hash, &hash_len) != 1 || hash_len * 2 != DOWNLOAD_SHA256_LEN)
                return -EIO;
        for (unsigned i = 0; i < hash_len; i++)
                snprintf(d->sha256 + 2 * i, 3, "%02x", hash[i]);
        return 0;
}

void download_done(Download *d) {
        free(d->data);
        d->data = NULL;
}
