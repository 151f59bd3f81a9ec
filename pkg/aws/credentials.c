/*
 * Static AWS credentials (from the environment or explicit strings, e.g. a Kubernetes
 * Secret) and endpoint resolution: explicit override > AWS_ENDPOINT_URL_<SERVICE> >
 * AWS_ENDPOINT_URL > the public regional endpoint (the override part on its own for SQS,
 * whose requests go to the queue URL); which region names are valid, and whether an endpoint
 * may be reached over plain HTTP.
 */
#include "aws/private/aws_private.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void np_aws_credentials_clean_up(struct np_aws_credentials *c)
{
    if (!c)
        return;
    free_secret(c->access_key_id);
    free_secret(c->secret_access_key);
    free_secret(c->session_token);
    memset(c, 0, sizeof(*c));
}

/* Credentials go into HTTP headers: no control characters, no spaces. */
static bool printable_token(const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= ' ' || ch == 0x7f)
            return false;
    }
    return true;
}

int np_aws_credentials_set(struct np_aws_credentials *out, const char *access_key_id,
                           const char *secret_access_key, const char *session_token)
{
    memset(out, 0, sizeof(*out));
    if (np_str_is_empty(access_key_id))
        return np_error_set(NP_EINVAL, "AWS credentials: the access key id is missing");
    if (np_str_is_empty(secret_access_key))
        return np_error_set(NP_EINVAL, "AWS credentials: the secret access key is missing");
    if (!printable_token(access_key_id) || !printable_token(secret_access_key) ||
        (session_token && !printable_token(session_token)))
        return np_error_set(NP_EINVAL, "AWS credentials contain whitespace or control "
                                       "characters");
    out->access_key_id = np_strdup(access_key_id);
    out->secret_access_key = np_strdup(secret_access_key);
    out->session_token = np_str_is_empty(session_token) ? NULL : np_strdup(session_token);
    return 0;
}

int np_aws_credentials_copy(struct np_aws_credentials *out, const struct np_aws_credentials *src)
{
    if (!src) {
        memset(out, 0, sizeof(*out));
        return np_error_set(NP_EINVAL, "AWS credentials: none given");
    }
    return np_aws_credentials_set(out, src->access_key_id, src->secret_access_key,
                                  src->session_token);
}

int np_aws_credentials_from_env(struct np_aws_credentials *out)
{
    const char *ak = getenv("AWS_ACCESS_KEY_ID");
    const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
    const char *tok = getenv("AWS_SESSION_TOKEN");
    memset(out, 0, sizeof(*out));
    if (np_str_is_empty(tok))
        tok = getenv("AWS_SECURITY_TOKEN");
    if (np_str_is_empty(ak))
        return np_error_set(NP_EINVAL,
                            "AWS credentials: AWS_ACCESS_KEY_ID is not set in the environment");
    if (np_str_is_empty(sk))
        return np_error_set(NP_EINVAL,
                            "AWS credentials: AWS_SECRET_ACCESS_KEY is not set in the environment");
    return np_aws_credentials_set(out, ak, sk, tok);
}

static bool url_ok(const char *url)
{
    return np_str_has_prefix(url, "https://") || np_str_has_prefix(url, "http://");
}

static bool service_ok(const char *service)
{
    return !np_str_is_empty(service) && strlen(service) <= 48;
}

int np_aws_endpoint_override(char **out, const char *service, const char *override)
{
    char var[96];
    const char *chosen = NULL;
    const char *origin = NULL;
    *out = NULL;
    if (!service_ok(service))
        return np_error_set(NP_EINVAL, "endpoint: invalid service name");
    if (!np_str_is_empty(override)) {
        chosen = override;
        origin = "the configured endpoint";
    } else if (!np_str_eq(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")) {
        size_t n = np_strlcpy(var, "AWS_ENDPOINT_URL_", sizeof(var));
        for (const char *p = service; *p && n + 1 < sizeof(var); p++, n++) {
            char ch = *p;
            if (ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 'a' + 'A');
            else if (ch == '-' || ch == ' ')
                ch = '_';
            var[n] = ch;
        }
        var[n] = '\0';
        const char *svc_env = getenv(var);
        const char *global_env = getenv("AWS_ENDPOINT_URL");
        if (!np_str_is_empty(svc_env)) {
            chosen = svc_env;
            origin = var;
        } else if (!np_str_is_empty(global_env)) {
            chosen = global_env;
            origin = "AWS_ENDPOINT_URL";
        }
    }
    if (!chosen)
        return 0;
    if (!url_ok(chosen))
        return np_error_set(NP_EINVAL, "endpoint from %s is not an http(s) URL: %s", origin,
                            chosen);
    *out = np_strdup(chosen);
    return 0;
}

int np_aws_endpoint_resolve(char **out, const char *service, const char *region,
                            const char *override)
{
    *out = NULL;
    if (!service_ok(service))
        return np_error_set(NP_EINVAL, "endpoint: invalid service name");
    if (np_str_is_empty(region))
        return np_error_set(NP_EINVAL, "endpoint: no region for service %s", service);
    for (const char *p = region; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-';
        if (!ok)
            return np_error_set(NP_EINVAL, "endpoint: invalid region \"%s\"", region);
    }
    int rc = np_aws_endpoint_override(out, service, override);
    if (rc || *out)
        return rc;
    const char *suffix = np_str_has_prefix(region, "cn-") ? "amazonaws.com.cn" : "amazonaws.com";
    *out = np_strdupf("https://%s.%s.%s", service, region, suffix);
    return 0;
}

/* ---------------------------------------------------------------- region names */

static regex_t region_re;
static bool region_re_ok;
static pthread_once_t region_once = PTHREAD_ONCE_INIT;

static void region_re_compile(void)
{
    region_re_ok = regcomp(&region_re, NP_AWS_REGION_PATTERN, REG_EXTENDED | REG_NOSUB) == 0;
}

bool np_aws_region_is_valid(const char *region)
{
    if (np_str_is_empty(region) || strlen(region) > NP_AWS_REGION_MAX_LEN)
        return false;
    pthread_once(&region_once, region_re_compile);
    return region_re_ok && regexec(&region_re, region, 0, NULL, 0) == 0;
}

/* ---------------------------------------------------------------- plain HTTP */

/* Whether a URL host (as libcurl returns it: IPv6 in brackets) is a loopback address. */
static bool host_is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0)
        return true;
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    size_t n = strlen(host);
    if (n < 3 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= INET6_ADDRSTRLEN)
        return false;
    char inner[INET6_ADDRSTRLEN];
    memcpy(inner, host + 1, n - 2);
    inner[n - 2] = '\0';
    struct in6_addr v6;
    return inet_pton(AF_INET6, inner, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

int np_aws_endpoint_check(const char *url, bool allow_insecure)
{
    int rc = 0;
    char *scheme = NULL, *host = NULL;
    CURLU *u = curl_url();
    if (!u)
        return np_error_set(NP_ENOMEM, "endpoint: out of memory");
    if (np_str_is_empty(url) || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = np_error_set(NP_EINVAL, "\"%.200s\" is not a valid URL", url ? url : "");
        goto out;
    }
    if (strcasecmp(scheme, "https") == 0)
        goto out;
    if (strcasecmp(scheme, "http") != 0) {
        rc = np_error_set(NP_EINVAL, "\"%.200s\" is neither https nor http", url);
        goto out;
    }
    if (!allow_insecure && !host_is_loopback(host))
        rc = np_error_set(NP_EDENIED,
                          "\"%.200s\" is plain HTTP to a host that is not loopback (%.100s): "
                          "use https, or set spec.aws.allowInsecureEndpoint: true",
                          url, host);
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}
