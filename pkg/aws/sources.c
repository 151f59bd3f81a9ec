/*
 * Credential sources behind np_aws_provider: the environment, explicit keys, STS
 * AssumeRoleWithWebIdentity (IRSA: an unsigned call with the token file read again at every
 * fetch), the container endpoint (EKS Pod Identity agent, ECS) and IMDSv2, plus STS AssumeRole
 * on top of any of them, and the resolution of the SDK default chain. Each fetch returns fresh
 * credentials with their expiry, or why there are none (enum np_aws_cred_failure) with a
 * message a human can act on. Tokens and keys are never put in a message or a log line.
 */
#include "aws/private/aws_private.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_MAX_BYTES (16 * 1024)
#define DOCUMENT_MAX_BYTES (64 * 1024)
#define ECS_HOST "http://169.254.170.2"
#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_TOKEN_TTL "21600"
#define METADATA_ATTEMPTS 3
#define METADATA_TIMEOUT_MS 2000
#define SESSION_NAME_MAX 64

static int fail(enum np_aws_cred_failure *why, enum np_aws_cred_failure kind, int code,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(enum np_aws_cred_failure *why, enum np_aws_cred_failure kind, int code,
                const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    *why = kind;
    return np_error_set(code, "%s", msg);
}

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return np_str_is_empty(v) ? NULL : v;
}

/* ---------------------------------------------------------------- session names */

/* STS's RoleSessionName: [\w+=,.@-]{2,64}; other characters become '-'. */
void np_aws_session_name(char *out, size_t size, const char *want)
{
    const char *src = np_str_is_empty(want) ? "netposture" : want;
    size_t n = 0;
    size_t max = size - 1 < SESSION_NAME_MAX ? size - 1 : SESSION_NAME_MAX;
    for (; n < max && src[n]; n++) {
        unsigned char ch = (unsigned char)src[n];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || strchr("_+=,.@-", ch);
        out[n] = ok ? (char)ch : '-';
    }
    out[n] = '\0';
    if (n < 2)
        snprintf(out, size, "netposture");
}

/* ---------------------------------------------------------------- token files */

/* Whether real path `file` lies inside directory `dir` (symlinks of both resolved). */
static bool inside_dir(const char *file, const char *dir)
{
    char real_dir[PATH_MAX];
    if (np_str_is_empty(dir) || !realpath(dir, real_dir))
        return false;
    size_t n = strlen(real_dir);
    return strncmp(file, real_dir, n) == 0 && (file[n] == '/' || real_dir[n - 1] == '/');
}

/* The directory part of path into out ("." when it has none). */
static void dir_of(char *out, size_t size, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, size, ".");
        return;
    }
    size_t n = (size_t)(slash - path);
    snprintf(out, size, "%.*s", (int)(n ? n : 1), path);
}

static bool token_allowed(const struct np_aws_source *s, const char *real)
{
    if (!s->token_from_spec)
        return true; /* the controller's own AWS_WEB_IDENTITY_TOKEN_FILE */
    char env_dir[PATH_MAX];
    const char *env_file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (env_file) {
        dir_of(env_dir, sizeof(env_dir), env_file);
        if (inside_dir(real, env_dir))
            return true;
    }
    for (size_t i = 0; i < s->n_token_dirs; i++)
        if (inside_dir(real, s->token_dirs[i]))
            return true;
    return false;
}

/* Reads a regular file of at most TOKEN_MAX_BYTES into *out (owned, surrounding whitespace
 * trimmed, not empty); errno-style message otherwise. */
static int read_small_file(const char *path, char **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return np_error_set(NP_EIO, "%s", strerror(errno));
    struct stat st;
    char *buf = NULL;
    int rc = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = np_error_set(NP_EIO, "not a regular file");
    else if (st.st_size > TOKEN_MAX_BYTES)
        rc = np_error_set(NP_EIO, "larger than %d bytes", TOKEN_MAX_BYTES);
    if (rc == 0) {
        buf = np_xcalloc(1, TOKEN_MAX_BYTES + 1);
        ssize_t n = read(fd, buf, TOKEN_MAX_BYTES + 1);
        if (n < 0 || n > TOKEN_MAX_BYTES)
            rc = np_error_set(NP_EIO, "%s", n < 0 ? strerror(errno) : "too large");
        else
            buf[n] = '\0';
    }
    close(fd);
    if (rc == 0) {
        char *start = buf;
        while (*start == ' ' || *start == '\n' || *start == '\r' || *start == '\t')
            start++;
        size_t len = strlen(start);
        while (len > 0 && strchr(" \n\r\t", start[len - 1]))
            start[--len] = '\0';
        if (len == 0)
            rc = np_error_set(NP_EIO, "the file is empty");
        else
            *out = np_strdup(start);
    }
    if (buf) {
        OPENSSL_cleanse(buf, TOKEN_MAX_BYTES + 1);
        free(buf);
    }
    return rc;
}

/* The web-identity token, read again at every fetch (the kubelet rotates it). */
static int read_web_token(const struct np_aws_source *s, char **token,
                          enum np_aws_cred_failure *why)
{
    char real[PATH_MAX];
    if (!realpath(s->token_file, real))
        return fail(why, NP_AWS_CRED_TOKEN_UNREADABLE, NP_EAUTH,
                    "web identity token file %s cannot be read: %s", s->token_file,
                    strerror(errno));
    if (!token_allowed(s, real))
        return fail(why, NP_AWS_CRED_TOKEN_UNREADABLE, NP_EDENIED,
                    "web identity token file %s is outside the allowed directories "
                    "(/var/run/secrets/eks.amazonaws.com/serviceaccount, the directory of "
                    "AWS_WEB_IDENTITY_TOKEN_FILE, --web-identity-token-dir)",
                    s->token_file);
    if (read_small_file(real, token) != 0)
        return fail(why, NP_AWS_CRED_TOKEN_UNREADABLE, NP_EAUTH,
                    "web identity token file %s cannot be read: %s", s->token_file,
                    np_error_message());
    return 0;
}

/* ---------------------------------------------------------------- STS */

/* Codes with which STS refuses a role or a token (as opposed to being unavailable). */
static bool sts_refusal(const char *code)
{
    static const char *const refusals[] = {
        "AccessDenied",
        "AccessDeniedException",
        "InvalidIdentityToken",
        "ExpiredToken",
        "ExpiredTokenException",
        "IDPRejectedClaim",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "MalformedPolicyDocument",
        "RegionDisabledException",
        "ValidationError",
        "InvalidParameterValue",
        "UnrecognizedClientException",
        "AuthFailure",
        "InvalidAccessKeyId",
    };
    for (size_t i = 0; code && i < NP_ARRAY_LEN(refusals); i++)
        if (strcmp(code, refusals[i]) == 0)
            return true;
    return false;
}

/* One STS call that answers credentials; the form is wiped afterwards (it may hold a token). */
static int sts_credentials(struct np_aws_ec2 *sts, const char *action, const char *role,
                           struct np_buf *form, struct np_aws_fetched *out,
                           enum np_aws_cred_failure *why)
{
    struct np_buf body = NP_BUF_INIT;
    int rc = np_aws_query_call(sts, NP_AWS_SERVICE_STS, action, form, &body);
    if (form->data)
        OPENSSL_cleanse(form->data, form->len);
    if (rc != 0) {
        const struct np_aws_error *e = np_aws_error_last();
        char *msg = np_strdup(np_error_message());
        if (sts_refusal(e->code))
            rc = fail(why, NP_AWS_CRED_DENIED, NP_EAUTH, "STS %s of role %s refused: %s", action,
                      role, msg);
        else
            rc = fail(why, NP_AWS_CRED_UNAVAILABLE, rc, "STS %s of role %s failed: %s", action,
                      role, msg);
        free(msg);
    } else {
        rc = np_aws_xml_decode_sts_credentials(body.data, body.len, action, &out->creds,
                                               &out->expires_ms, &out->arn);
        if (rc)
            rc = fail(why, NP_AWS_CRED_UNAVAILABLE, rc, "STS %s of role %s: %s", action, role,
                      np_error_message());
    }
    if (body.data)
        OPENSSL_cleanse(body.data, body.len);
    np_buf_clean_up(&body);
    return rc;
}

static int fetch_web_identity(struct np_aws_source *s, struct np_aws_fetched *out,
                              enum np_aws_cred_failure *why)
{
    char *token = NULL;
    int rc = read_web_token(s, &token, why);
    if (rc)
        return rc;
    struct np_buf form = NP_BUF_INIT;
    rc = np_aws_form_begin(&form, "AssumeRoleWithWebIdentity", NP_AWS_STS_VERSION);
    if (rc == 0)
        rc = np_aws_form_add(&form, "RoleArn", s->role_arn);
    if (rc == 0)
        rc = np_aws_form_add(&form, "RoleSessionName", s->session_name);
    if (rc == 0)
        rc = np_aws_form_add(&form, "WebIdentityToken", token);
    wipe_free(token);
    if (rc == 0)
        rc = sts_credentials(s->client, "AssumeRoleWithWebIdentity", s->role_arn, &form, out, why);
    else
        *why = NP_AWS_CRED_INVALID;
    np_buf_clean_up(&form);
    return rc;
}

int np_aws_fetch_assume_role(struct np_aws_ec2 *sts, const struct np_aws_assume_role *ar,
                             struct np_aws_fetched *out, enum np_aws_cred_failure *why)
{
    char duration[16];
    snprintf(duration, sizeof(duration), "%d", ar->duration_seconds);
    struct np_buf form = NP_BUF_INIT;
    int rc = np_aws_form_begin(&form, "AssumeRole", NP_AWS_STS_VERSION);
    if (rc == 0)
        rc = np_aws_form_add(&form, "RoleArn", ar->role_arn);
    if (rc == 0)
        rc = np_aws_form_add(&form, "RoleSessionName", ar->session_name);
    if (rc == 0)
        rc = np_aws_form_add(&form, "DurationSeconds", duration);
    if (rc == 0 && ar->external_id)
        rc = np_aws_form_add(&form, "ExternalId", ar->external_id);
    if (rc == 0)
        rc = sts_credentials(sts, "AssumeRole", ar->role_arn, &form, out, why);
    else
        *why = NP_AWS_CRED_INVALID;
    np_buf_clean_up(&form);
    return rc;
}

/* ---------------------------------------------------------------- credential documents */

static const char *doc_str(json_object *doc, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(doc, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    return np_str_is_empty(s) ? NULL : s;
}

int np_aws_parse_credential_document(const char *text, size_t len, struct np_aws_fetched *out)
{
    memset(out, 0, sizeof(*out));
    if (len > DOCUMENT_MAX_BYTES)
        return np_error_set(NP_EPARSE, "the credential document is larger than %d bytes",
                            DOCUMENT_MAX_BYTES);
    json_tokener *tok = json_tokener_new();
    json_object *doc = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    bool complete = tok && json_tokener_get_error(tok) == json_tokener_success;
    json_tokener_free(tok);
    int rc = 0;
    const char *code = NULL, *ak = NULL, *sk = NULL, *token = NULL, *exp = NULL;
    if (!complete || !json_object_is_type(doc, json_type_object)) {
        rc = np_error_set(NP_EPARSE, "the credential document is not a JSON object");
        goto out;
    }
    code = doc_str(doc, "Code");
    if (code && strcmp(code, "Success") != 0) {
        rc = np_error_set(NP_EPARSE, "the credential document says Code \"%.64s\"", code);
        goto out;
    }
    ak = doc_str(doc, "AccessKeyId");
    sk = doc_str(doc, "SecretAccessKey");
    token = doc_str(doc, "Token");
    exp = doc_str(doc, "Expiration");
    const char *missing = !ak      ? "AccessKeyId"
                          : !sk    ? "SecretAccessKey"
                          : !token ? "Token"
                          : !exp   ? "Expiration"
                                   : NULL;
    if (missing) {
        rc = np_error_set(NP_EPARSE, "the credential document has no %s", missing);
        goto out;
    }
    if (np_time_parse_rfc3339(exp, &out->expires_ms) != 0) {
        rc = np_error_set(NP_EPARSE,
                          "the credential document's Expiration \"%.40s\" is not an "
                          "RFC 3339 time",
                          exp);
        goto out;
    }
    rc = np_aws_credentials_set(&out->creds, ak, sk, token);
out:
    json_object_put(doc);
    return rc;
}

/* ---------------------------------------------------------------- metadata endpoints */

/* One GET/PUT to a metadata endpoint, retried on transport errors and 5xx (bounded). */
static void metadata_http(struct np_aws_ec2 *c, struct np_aws_http_request *req,
                          struct np_aws_http_response *resp)
{
    for (int attempt = 1; attempt <= METADATA_ATTEMPTS; attempt++) {
        np_buf_clean_up(&resp->body);
        memset(resp, 0, sizeof(*resp));
        np_aws_client_http(c, req, resp);
        bool retry = resp->transport == NP_AWS_TRANSPORT_NETWORK ||
                     resp->transport == NP_AWS_TRANSPORT_TIMEOUT ||
                     (resp->transport == NP_AWS_TRANSPORT_OK && resp->status >= 500);
        if (!retry)
            return;
    }
}

/* Why a metadata exchange did not answer 200 (transport error or HTTP status). */
static int metadata_failed(const char *what, const char *url,
                           const struct np_aws_http_response *resp, enum np_aws_cred_failure kind,
                           enum np_aws_cred_failure *why)
{
    if (resp->transport != NP_AWS_TRANSPORT_OK)
        return fail(why, kind, NP_EIO, "%s: cannot reach %s: %s (after %d attempts)", what, url,
                    resp->error, METADATA_ATTEMPTS);
    return fail(why, kind, NP_EIO, "%s: %s answered HTTP %ld", what, url, resp->status);
}

/* Plain HTTP to a container endpoint only to loopback or the documented link-local agents. */
static bool container_host_ok(const char *url)
{
    static const char *const agents[] = {"169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"};
    if (np_aws_endpoint_check(url, false) == 0)
        return true; /* https, or loopback */
    np_error_clear();
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = false;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && strcasecmp(scheme, "http") == 0)
        for (size_t i = 0; i < NP_ARRAY_LEN(agents); i++)
            ok = ok || strcasecmp(host, agents[i]) == 0;
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* The agent's authorization: the token file, read again each time, else the inline token. */
static int container_authorization(char **auth, enum np_aws_cred_failure *why)
{
    const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *inline_token = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    *auth = NULL;
    if (file) {
        if (read_small_file(file, auth) != 0)
            return fail(why, NP_AWS_CRED_TOKEN_UNREADABLE, NP_EAUTH,
                        "container authorization token file %s cannot be read: %s", file,
                        np_error_message());
    } else if (inline_token) {
        *auth = np_strdup(inline_token);
    }
    if (*auth && strpbrk(*auth, "\r\n")) {
        wipe_free(*auth);
        *auth = NULL;
        return fail(why, NP_AWS_CRED_TOKEN_UNREADABLE, NP_EINVAL,
                    "the container authorization token holds a line break");
    }
    return 0;
}

static int fetch_container(struct np_aws_source *s, struct np_aws_fetched *out,
                           enum np_aws_cred_failure *why)
{
    char *auth = NULL;
    int rc = container_authorization(&auth, why);
    if (rc)
        return rc;
    char *line = auth ? np_strdupf("Authorization: %s", auth) : NULL;
    wipe_free(auth);
    const char *headers[] = {"Accept: application/json", line};
    struct np_aws_http_request req = {.method = "GET",
                                      .url = s->url,
                                      .headers = headers,
                                      .n_headers = line ? 2 : 1,
                                      .timeout_ms = METADATA_TIMEOUT_MS};
    struct np_aws_http_response resp;
    memset(&resp, 0, sizeof(resp));
    metadata_http(s->client, &req, &resp);
    wipe_free(line);
    if (resp.transport == NP_AWS_TRANSPORT_OK && (resp.status == 401 || resp.status == 403))
        rc = fail(why, NP_AWS_CRED_INVALID, NP_EAUTH,
                  "container credentials: %s refused the authorization token (HTTP %ld)", s->url,
                  resp.status);
    else if (resp.transport != NP_AWS_TRANSPORT_OK || resp.status != 200)
        rc = metadata_failed("container credentials", s->url, &resp,
                             NP_AWS_CRED_METADATA_UNAVAILABLE, why);
    else if (np_aws_parse_credential_document(resp.body.data, resp.body.len, out) != 0)
        rc = fail(why, NP_AWS_CRED_METADATA_UNAVAILABLE, NP_EPARSE,
                  "container credentials from %s: %s", s->url, np_error_message());
    if (resp.body.data)
        OPENSSL_cleanse(resp.body.data, resp.body.len);
    np_buf_clean_up(&resp.body);
    return rc;
}

/* An IMDS GET of path with the session token into *body (owned); "" path is the base. */
static int imds_get(struct np_aws_source *s, const char *path, const char *token,
                    struct np_buf *body, enum np_aws_cred_failure *why)
{
    char *url = np_strdupf("%s%s", s->url, path);
    char *line = np_strdupf("X-aws-ec2-metadata-token: %s", token);
    const char *headers[] = {line};
    struct np_aws_http_request req = {.method = "GET",
                                      .url = url,
                                      .headers = headers,
                                      .n_headers = 1,
                                      .timeout_ms = METADATA_TIMEOUT_MS};
    struct np_aws_http_response resp;
    memset(&resp, 0, sizeof(resp));
    metadata_http(s->client, &req, &resp);
    wipe_free(line);
    int rc = 0;
    if (resp.transport != NP_AWS_TRANSPORT_OK || resp.status != 200)
        rc =
            metadata_failed("instance metadata", url, &resp, NP_AWS_CRED_METADATA_UNAVAILABLE, why);
    else
        *body = resp.body, memset(&resp.body, 0, sizeof(resp.body));
    np_buf_clean_up(&resp.body);
    free(url);
    return rc;
}

/* IMDSv2 session token (PUT with a TTL; IMDSv1 is never used). */
static int imds_token(struct np_aws_source *s, char **token, enum np_aws_cred_failure *why)
{
    char *url = np_strdupf("%s/latest/api/token", s->url);
    const char *headers[] = {"X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL};
    struct np_aws_http_request req = {.method = "PUT",
                                      .url = url,
                                      .headers = headers,
                                      .n_headers = 1,
                                      .body = "",
                                      .timeout_ms = METADATA_TIMEOUT_MS};
    struct np_aws_http_response resp;
    memset(&resp, 0, sizeof(resp));
    metadata_http(s->client, &req, &resp);
    int rc = 0;
    if (resp.transport != NP_AWS_TRANSPORT_OK || resp.status != 200)
        rc = metadata_failed("instance metadata (IMDSv2 token)", url, &resp,
                             NP_AWS_CRED_METADATA_UNAVAILABLE, why);
    else if (resp.body.len == 0 || resp.body.len > 4096 ||
             memchr(resp.body.data, '\n', resp.body.len) ||
             memchr(resp.body.data, '\r', resp.body.len))
        rc = fail(why, NP_AWS_CRED_METADATA_UNAVAILABLE, NP_EPARSE,
                  "instance metadata: %s answered an unusable token", url);
    else
        *token = np_strndup(resp.body.data, resp.body.len);
    np_buf_clean_up(&resp.body);
    free(url);
    return rc;
}

/* The role name IMDS lists first: [\w+=,.@-]{1,64}, so it is safe in a URL path. */
static int imds_role(const struct np_buf *body, char *role, size_t size,
                     enum np_aws_cred_failure *why)
{
    size_t n = 0;
    while (n < body->len && body->data[n] != '\n' && body->data[n] != '\r')
        n++;
    bool ok = n > 0 && n < size && n <= 64;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char ch = (unsigned char)body->data[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             strchr("_+=,.@-", ch);
    }
    if (!ok)
        return fail(why, NP_AWS_CRED_METADATA_UNAVAILABLE, NP_EPARSE,
                    "instance metadata: no usable role name (is an instance profile attached?)");
    memcpy(role, body->data, n);
    role[n] = '\0';
    return 0;
}

static int fetch_imds(struct np_aws_source *s, struct np_aws_fetched *out,
                      enum np_aws_cred_failure *why)
{
    char *token = NULL;
    char role[72], path[160];
    struct np_buf body = NP_BUF_INIT;
    int rc = imds_token(s, &token, why);
    if (rc == 0)
        rc = imds_get(s, "/latest/meta-data/iam/security-credentials/", token, &body, why);
    if (rc == 0)
        rc = imds_role(&body, role, sizeof(role), why);
    np_buf_clean_up(&body);
    if (rc == 0) {
        snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", role);
        rc = imds_get(s, path, token, &body, why);
    }
    if (rc == 0 && np_aws_parse_credential_document(body.data, body.len, out) != 0)
        rc = fail(why, NP_AWS_CRED_METADATA_UNAVAILABLE, NP_EPARSE, "instance metadata role %s: %s",
                  role, np_error_message());
    if (body.data)
        OPENSSL_cleanse(body.data, body.len);
    np_buf_clean_up(&body);
    wipe_free(token);
    return rc;
}

/* ---------------------------------------------------------------- the sources */

int np_aws_source_fetch(struct np_aws_source *s, struct np_aws_fetched *out,
                        enum np_aws_cred_failure *why)
{
    memset(out, 0, sizeof(*out));
    *why = NP_AWS_CRED_OK;
    if (s->broken != NP_AWS_CRED_OK)
        return fail(why, s->broken, NP_EAUTH, "%s", s->broken_msg);
    switch (s->kind) {
    case NP_AWS_SOURCE_WEB_IDENTITY: return fetch_web_identity(s, out, why);
    case NP_AWS_SOURCE_CONTAINER: return fetch_container(s, out, why);
    case NP_AWS_SOURCE_INSTANCE_METADATA: return fetch_imds(s, out, why);
    default: break;
    }
    int rc = np_aws_credentials_copy(&out->creds, &s->keys);
    if (rc)
        *why = NP_AWS_CRED_INVALID;
    return rc;
}

/* A source that cannot work: every fetch fails with kind and the message. */
static void broken(struct np_aws_source *s, enum np_aws_cred_failure kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void broken(struct np_aws_source *s, enum np_aws_cred_failure kind, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->broken = kind;
    free(s->broken_msg);
    s->broken_msg = np_strdup(msg);
}

/* The first configured entry of the SDK default chain (environment, web identity, container,
 * IMDS), or a broken source naming what was tried. */
static enum np_aws_cred_source chain_pick(struct np_aws_source *s)
{
    s->from_chain = true;
    if (env("AWS_ACCESS_KEY_ID"))
        return NP_AWS_SOURCE_ENVIRONMENT;
    if (env("AWS_ROLE_ARN") && env("AWS_WEB_IDENTITY_TOKEN_FILE"))
        return NP_AWS_SOURCE_WEB_IDENTITY;
    if (env("AWS_CONTAINER_CREDENTIALS_FULL_URI") || env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
        return NP_AWS_SOURCE_CONTAINER;
    if (!np_aws_imds_disabled())
        return NP_AWS_SOURCE_INSTANCE_METADATA;
    broken(s, NP_AWS_CRED_NOT_FOUND, "%s", np_aws_chain_tried());
    return NP_AWS_SOURCE_DEFAULT;
}

bool np_aws_imds_disabled(void)
{
    const char *v = env("AWS_EC2_METADATA_DISABLED");
    return v && strcasecmp(v, "true") == 0;
}

const char *np_aws_chain_tried(void)
{
    return "no credentials in the default chain: environment (AWS_ACCESS_KEY_ID not set), web "
           "identity (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE not set), container "
           "(AWS_CONTAINER_CREDENTIALS_FULL_URI and _RELATIVE_URI not set), instance metadata "
           "(disabled by AWS_EC2_METADATA_DISABLED)";
}

static void init_environment(struct np_aws_source *s)
{
    if (np_aws_credentials_from_env(&s->keys) != 0)
        broken(s, NP_AWS_CRED_NOT_FOUND, "environment credentials: %s", np_error_message());
}

static void init_web_identity(struct np_aws_source *s, const struct np_aws_provider_config *cfg)
{
    const char *role = !np_str_is_empty(cfg->role_arn) ? cfg->role_arn : env("AWS_ROLE_ARN");
    const char *file =
        !np_str_is_empty(cfg->token_file) ? cfg->token_file : env("AWS_WEB_IDENTITY_TOKEN_FILE");
    char name[SESSION_NAME_MAX + 1];
    np_aws_session_name(name, sizeof(name),
                        env("AWS_ROLE_SESSION_NAME") ? env("AWS_ROLE_SESSION_NAME")
                                                     : cfg->session_name);
    s->session_name = np_strdup(name);
    s->token_from_spec = !np_str_is_empty(cfg->token_file);
    s->token_dirs = np_xcalloc(cfg->n_token_dirs + 1, sizeof(char *));
    for (size_t i = 0; i < cfg->n_token_dirs; i++)
        s->token_dirs[s->n_token_dirs++] = np_strdup(cfg->token_dirs[i]);
    if (!role || !file) {
        broken(s, NP_AWS_CRED_NOT_FOUND,
               "web identity: %s is not set (in the CloudAccount's credentials or the "
               "controller's environment)",
               !role ? "the role (credentials.roleArn, AWS_ROLE_ARN)"
                     : "the token file (credentials.tokenFile, AWS_WEB_IDENTITY_TOKEN_FILE)");
        return;
    }
    s->role_arn = np_strdup(role);
    s->token_file = np_strdup(file);
}

static void init_container(struct np_aws_source *s)
{
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if (!full && !rel) {
        broken(s, NP_AWS_CRED_NOT_FOUND,
               "container credentials: neither AWS_CONTAINER_CREDENTIALS_FULL_URI nor "
               "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set (is a Pod Identity association "
               "in place?)");
        return;
    }
    s->url = rel ? np_strdupf("%s%s%s", ECS_HOST, rel[0] == '/' ? "" : "/", rel) : np_strdup(full);
    if (!container_host_ok(s->url))
        broken(s, NP_AWS_CRED_INVALID,
               "container credentials: %s is plain HTTP to a host that is neither loopback nor "
               "a link-local agent (169.254.170.2, 169.254.170.23, fd00:ec2::23)",
               s->url);
}

static void init_imds(struct np_aws_source *s)
{
    const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (np_aws_imds_disabled()) {
        broken(s, NP_AWS_CRED_NOT_FOUND,
               "instance metadata is disabled (AWS_EC2_METADATA_DISABLED=true)");
        return;
    }
    s->url = np_strdup(ep ? ep : IMDS_DEFAULT);
    size_t n = strlen(s->url);
    while (n > 0 && s->url[n - 1] == '/')
        s->url[--n] = '\0';
    if (!np_str_has_prefix(s->url, "http://") && !np_str_has_prefix(s->url, "https://"))
        broken(s, NP_AWS_CRED_INVALID,
               "instance metadata: AWS_EC2_METADATA_SERVICE_ENDPOINT is not an http(s) URL");
}

/* The client a source talks through: anonymous, with the provider's TLS settings. */
static int source_client(struct np_aws_source *s, const struct np_aws_provider_config *cfg,
                         bool sts)
{
    struct np_aws_ec2_config cc = {.region = cfg->region,
                                   .sts_endpoint = cfg->sts_endpoint,
                                   .ca_bundle = cfg->ca_bundle,
                                   .insecure_skip_tls_verify = cfg->insecure_skip_tls_verify,
                                   .observer = sts ? cfg->observer : NULL,
                                   .observer_ctx = cfg->observer_ctx,
                                   .clock = cfg->clock,
                                   .no_rate_limit = true,
                                   .connect_timeout_ms = sts ? 0 : 1000};
    unsigned flags = NP_AWS_CLIENT_ANONYMOUS | (sts ? NP_AWS_CLIENT_ENDPOINTS : 0);
    return np_aws_client_new(&s->client, &cc, flags);
}

int np_aws_source_init(struct np_aws_source *s, const struct np_aws_provider_config *cfg)
{
    memset(s, 0, sizeof(*s));
    s->kind = cfg->source == NP_AWS_SOURCE_DEFAULT ? chain_pick(s) : cfg->source;
    switch (s->kind) {
    case NP_AWS_SOURCE_DEFAULT: return 0; /* broken: nothing configured */
    case NP_AWS_SOURCE_ENVIRONMENT: init_environment(s); return 0;
    case NP_AWS_SOURCE_STATIC: return np_aws_credentials_copy(&s->keys, cfg->credentials);
    case NP_AWS_SOURCE_WEB_IDENTITY: init_web_identity(s, cfg); break;
    case NP_AWS_SOURCE_CONTAINER: init_container(s); break;
    case NP_AWS_SOURCE_INSTANCE_METADATA: init_imds(s); break;
    default: return np_error_set(NP_EINVAL, "credentials: unknown source %d", (int)s->kind);
    }
    if (s->broken != NP_AWS_CRED_OK)
        return 0;
    return source_client(s, cfg, s->kind == NP_AWS_SOURCE_WEB_IDENTITY);
}

void np_aws_source_clean_up(struct np_aws_source *s)
{
    np_aws_credentials_clean_up(&s->keys);
    free(s->role_arn);
    free(s->token_file);
    free(s->session_name);
    for (size_t i = 0; i < s->n_token_dirs; i++)
        free(s->token_dirs[i]);
    free(s->token_dirs);
    free(s->url);
    free(s->broken_msg);
    np_aws_ec2_destroy(s->client);
    memset(s, 0, sizeof(*s));
}
