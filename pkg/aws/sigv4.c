/*
 * SigV4 signer: canonical request (normalised path, sorted query, trimmed and merged
 * headers, payload hash), string to sign, derived signing key and the Authorization header,
 * with OpenSSL's SHA-256 and HMAC. Pure: time and credentials come in as arguments.
 */
#include "aws/private/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

int np_aws_uri_encode(struct np_buf *b, const char *s, size_t len, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            rc = np_buf_putc(b, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = np_buf_append(b, esc, 3);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..len) into a new string (invalid escapes are kept literally). */
static char *percent_decode(const char *s, size_t len)
{
    char *out = np_xcalloc(len + 1, 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* Canonical URI: optionally drop "", "." and ".." segments, then encode each byte once. */
static int canonical_uri(struct np_buf *b, const char *path, bool normalize)
{
    if (np_str_is_empty(path))
        path = "/";
    if (!normalize)
        return np_aws_uri_encode(b, path, strlen(path), true);

    size_t len = strlen(path);
    /* segments as (start, length) pairs kept on a stack */
    size_t cap = len / 2 + 2, n = 0;
    size_t *seg_start = np_xcalloc(cap, sizeof(size_t));
    size_t *seg_len = np_xcalloc(cap, sizeof(size_t));
    int rc = 0;
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t sl = j - i;
        if (sl == 0 || (sl == 1 && path[i] == '.')) {
            /* skip */
        } else if (sl == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n > 0)
                n--;
        } else {
            seg_start[n] = i;
            seg_len[n] = sl;
            n++;
        }
        i = j + 1;
    }
    bool trailing = len > 0 && path[len - 1] == '/';
    for (size_t k = 0; k < n && rc == 0; k++) {
        rc = np_buf_putc(b, '/');
        if (rc == 0)
            rc = np_aws_uri_encode(b, path + seg_start[k], seg_len[k], false);
    }
    if (rc == 0 && (n == 0 || trailing))
        rc = np_buf_putc(b, '/');
    free(seg_start);
    free(seg_len);
    return rc;
}

struct kv {
    char *key;
    char *value;
    size_t order;
};

static int kv_cmp(const void *pa, const void *pb)
{
    const struct kv *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c == 0)
        c = strcmp(a->value, b->value);
    return c;
}

static int kv_cmp_key_order(const void *pa, const void *pb)
{
    const struct kv *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c == 0)
        c = a->order < b->order ? -1 : (a->order > b->order ? 1 : 0);
    return c;
}

static void kvs_free(struct kv *kvs, size_t n)
{
    for (size_t i = 0; kvs && i < n; i++) {
        free(kvs[i].key);
        free(kvs[i].value);
    }
    free(kvs);
}

/* Canonical query: pairs decoded, re-encoded, sorted by key then value. */
static int canonical_query(struct np_buf *b, const char *query)
{
    struct kv *kvs = NULL;
    size_t n = 0, cap = 0;
    struct np_buf tmp = NP_BUF_INIT;
    int rc = 0;
    if (np_str_is_empty(query))
        goto out;
    const char *p = query;
    while (*p) {
        const char *amp = strchr(p, '&');
        size_t partlen = amp ? (size_t)(amp - p) : strlen(p);
        if (partlen > 0) {
            const char *eq = memchr(p, '=', partlen);
            size_t klen = eq ? (size_t)(eq - p) : partlen;
            char *k = percent_decode(p, klen);
            char *v = eq ? percent_decode(eq + 1, partlen - klen - 1) : np_strdup("");
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                kvs = np_xrealloc(kvs, cap * sizeof(*kvs));
            }
            np_buf_reset(&tmp);
            rc = np_aws_uri_encode(&tmp, k, strlen(k), false);
            kvs[n].key = rc ? NULL : np_strdup(np_buf_cstr(&tmp));
            np_buf_reset(&tmp);
            if (rc == 0)
                rc = np_aws_uri_encode(&tmp, v, strlen(v), false);
            kvs[n].value = rc ? NULL : np_strdup(np_buf_cstr(&tmp));
            kvs[n].order = n;
            n++;
            free(k);
            free(v);
            if (rc)
                goto out;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    qsort(kvs, n, sizeof(*kvs), kv_cmp);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = np_buf_appendf(b, "%s%s=%s", i ? "&" : "", kvs[i].key, kvs[i].value);
out:
    kvs_free(kvs, n);
    np_buf_clean_up(&tmp);
    return rc;
}

/* Trims and collapses runs of whitespace (including folded lines) into one space. */
static char *normalize_value(const char *v)
{
    size_t len = strlen(v);
    char *out = np_xcalloc(len + 1, 1);
    size_t o = 0;
    bool pending_space = false;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            pending_space = o > 0;
            continue;
        }
        if (pending_space)
            out[o++] = ' ';
        pending_space = false;
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

static bool valid_header_name(const char *s)
{
    if (np_str_is_empty(s))
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= ' ' || c == ':' || c >= 0x7f)
            return false;
    }
    return true;
}

static char *lowercase(const char *s)
{
    char *out = np_strdup(s);
    for (char *p = out; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return out;
}

void np_aws_sha256_hex(char out[65], const void *data, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char empty = 0;
    EVP_Digest(data ? data : &empty, len, md, &mdlen, EVP_sha256(), NULL);
    np_hex_encode(out, md, mdlen);
}

static void hmac_sha256(unsigned char out[32], const void *key, size_t keylen, const char *msg,
                        size_t msglen)
{
    unsigned int outlen = 32;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, msglen, out, &outlen);
}

static int format_amz_date(char out[17], char day[9], int64_t time_ms)
{
    int64_t secs = time_ms / 1000;
    if (time_ms % 1000 < 0)
        secs -= 1;
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
        return np_error_set(NP_EINVAL, "sigv4: signing time %lld is out of range",
                            (long long)time_ms);
    memcpy(day, out, 8);
    day[8] = '\0';
    return 0;
}

static bool input_is_complete(const struct np_aws_sigv4_input *in)
{
    return in && !np_str_is_empty(in->method) && !np_str_is_empty(in->region) &&
           !np_str_is_empty(in->service) && in->credentials &&
           !np_str_is_empty(in->credentials->access_key_id) &&
           !np_str_is_empty(in->credentials->secret_access_key);
}

/* The headers to sign, lowercase and normalised, in hdrs (room for n_headers + 3; *n counts
 * the entries filled, also on error): the caller's, which must include host and none of the
 * ones the signer adds. */
static int caller_headers(struct kv *hdrs, size_t *n, const struct np_aws_sigv4_input *in,
                          bool token, bool sign_sha)
{
    bool have_host = false;
    for (size_t i = 0; i < in->n_headers; i++) {
        const struct np_aws_sigv4_header *h = &in->headers[i];
        if (!valid_header_name(h->name) || !h->value)
            return np_error_set(NP_EINVAL, "sigv4: invalid header name or value");
        char *name = lowercase(h->name);
        if (strcmp(name, "x-amz-date") == 0 || strcmp(name, "authorization") == 0 ||
            (token && strcmp(name, "x-amz-security-token") == 0) ||
            (sign_sha && strcmp(name, "x-amz-content-sha256") == 0)) {
            int rc = np_error_set(NP_EINVAL, "sigv4: header %s is added by the signer", name);
            free(name);
            return rc;
        }
        if (strcmp(name, "host") == 0)
            have_host = true;
        hdrs[*n].key = name;
        hdrs[*n].value = normalize_value(h->value);
        hdrs[*n].order = *n;
        (*n)++;
    }
    if (!have_host)
        return np_error_set(NP_EINVAL, "sigv4: the host header is required");
    return 0;
}

/* Appends the headers the signer adds (the date, and when signed the session token and the
 * payload hash), then sorts by name, keeping the given order among equal names. */
static void signer_headers(struct kv *hdrs, size_t *n, const struct np_aws_sigv4_output *out,
                           const char *sign_token, bool sign_sha)
{
    hdrs[*n] = (struct kv){np_strdup("x-amz-date"), np_strdup(out->amz_date), *n};
    (*n)++;
    if (sign_token) {
        hdrs[*n] = (struct kv){np_strdup("x-amz-security-token"), normalize_value(sign_token), *n};
        (*n)++;
    }
    if (sign_sha) {
        hdrs[*n] = (struct kv){np_strdup("x-amz-content-sha256"), np_strdup(out->payload_hash), *n};
        (*n)++;
    }
    qsort(hdrs, *n, sizeof(*hdrs), kv_cmp_key_order);
}

/* The canonical request: method, URI, query, the headers (repeated names joined with commas),
 * the signed header names (also into *names) and the payload hash. */
static int canonical_request(struct np_buf *creq, struct np_buf *names,
                             const struct np_aws_sigv4_input *in, const struct kv *hdrs, size_t n,
                             const char *payload_hash)
{
    int rc = np_buf_appendf(creq, "%s\n", in->method);
    if (rc == 0)
        rc = canonical_uri(creq, in->path, !(in->flags & NP_AWS_SIGV4_NO_NORMALIZE_PATH));
    if (rc == 0)
        rc = np_buf_putc(creq, '\n');
    if (rc == 0)
        rc = canonical_query(creq, in->query);
    if (rc == 0)
        rc = np_buf_putc(creq, '\n');
    for (size_t i = 0; i < n && rc == 0; i++) {
        bool first = i == 0 || strcmp(hdrs[i - 1].key, hdrs[i].key) != 0;
        bool last = i + 1 == n || strcmp(hdrs[i + 1].key, hdrs[i].key) != 0;
        if (first) {
            rc = np_buf_appendf(creq, "%s:%s", hdrs[i].key, hdrs[i].value);
            if (rc == 0)
                rc = np_buf_appendf(names, "%s%s", names->len ? ";" : "", hdrs[i].key);
        } else {
            rc = np_buf_appendf(creq, ",%s", hdrs[i].value);
        }
        if (rc == 0 && last)
            rc = np_buf_putc(creq, '\n');
    }
    if (rc == 0)
        rc = np_buf_appendf(creq, "\n%s\n%s", np_buf_cstr(names), payload_hash);
    return rc;
}

/* The string to sign: algorithm, date, credential scope and the canonical request's hash. */
static int string_to_sign(struct np_buf *sts, const struct np_aws_sigv4_output *out,
                          const struct np_aws_sigv4_input *in, const char *day,
                          const struct np_buf *creq)
{
    char creq_hash[65];
    np_aws_sha256_hex(creq_hash, creq->data, creq->len);
    return np_buf_appendf(sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", out->amz_date,
                          day, in->region, in->service, creq_hash);
}

/* Derives the signing key from the secret, day, region and service, and signs sts into
 * out->signature; the secret material is wiped. */
static void signature(struct np_aws_sigv4_output *out, const struct np_aws_sigv4_input *in,
                      const char *day, const struct np_buf *sts)
{
    unsigned char k1[32], k2[32], k3[32], k4[32], sig[32];
    size_t key_secret_len = 4 + strlen(in->credentials->secret_access_key);
    char *key_secret = np_xcalloc(key_secret_len + 1, 1);
    memcpy(key_secret, "AWS4", 4);
    memcpy(key_secret + 4, in->credentials->secret_access_key, key_secret_len - 4);
    hmac_sha256(k1, key_secret, key_secret_len, day, strlen(day));
    hmac_sha256(k2, k1, sizeof(k1), in->region, strlen(in->region));
    hmac_sha256(k3, k2, sizeof(k2), in->service, strlen(in->service));
    hmac_sha256(k4, k3, sizeof(k3), "aws4_request", 12);
    hmac_sha256(sig, k4, sizeof(k4), sts->data, sts->len);
    np_hex_encode(out->signature, sig, sizeof(sig));
    OPENSSL_cleanse(key_secret, key_secret_len);
    free(key_secret);
    OPENSSL_cleanse(k1, sizeof(k1));
    OPENSSL_cleanse(k2, sizeof(k2));
    OPENSSL_cleanse(k3, sizeof(k3));
    OPENSSL_cleanse(k4, sizeof(k4));
}

int np_aws_sigv4_sign(struct np_aws_sigv4_output *out, const struct np_aws_sigv4_input *in)
{
    struct kv *hdrs = NULL;
    size_t n_hdrs = 0;
    struct np_buf creq = NP_BUF_INIT;
    struct np_buf sts = NP_BUF_INIT;
    struct np_buf signed_names = NP_BUF_INIT;
    char day[9];
    int rc = 0;

    if (!input_is_complete(in)) {
        rc = np_error_set(NP_EINVAL, "sigv4: method, region, service and credentials are "
                                     "required");
        goto out;
    }
    const struct np_aws_credentials *cr = in->credentials;
    bool token = !np_str_is_empty(cr->session_token);
    bool sign_token = token && !(in->flags & NP_AWS_SIGV4_UNSIGNED_SESSION_TOKEN);
    bool sign_sha = (in->flags & NP_AWS_SIGV4_SIGN_CONTENT_SHA256) != 0;

    rc = format_amz_date(out->amz_date, day, in->time_ms);
    if (rc)
        goto out;
    np_aws_sha256_hex(out->payload_hash, in->body, in->body ? in->body_len : 0);

    /* headers: lowercase names, normalised values, plus the ones the signer adds */
    hdrs = np_xcalloc(in->n_headers + 3, sizeof(*hdrs));
    rc = caller_headers(hdrs, &n_hdrs, in, token, sign_sha);
    if (rc)
        goto out;
    signer_headers(hdrs, &n_hdrs, out, sign_token ? cr->session_token : NULL, sign_sha);
    rc = canonical_request(&creq, &signed_names, in, hdrs, n_hdrs, out->payload_hash);
    if (rc)
        goto out;

    rc = string_to_sign(&sts, out, in, day, &creq);
    if (rc)
        goto out;
    signature(out, in, day, &sts);

    out->authorization = np_strdupf(
        "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
        cr->access_key_id, day, in->region, in->service, np_buf_cstr(&signed_names),
        out->signature);
    out->signed_headers = np_buf_take(&signed_names);
    out->canonical_request = np_buf_take(&creq);
    out->string_to_sign = np_buf_take(&sts);
    out->security_token = token ? cr->session_token : NULL;
out:
    kvs_free(hdrs, n_hdrs);
    np_buf_clean_up(&creq);
    np_buf_clean_up(&sts);
    np_buf_clean_up(&signed_names);
    return rc;
}

void np_aws_sigv4_output_clean_up(struct np_aws_sigv4_output *out)
{
    if (!out)
        return;
    free(out->authorization);
    free(out->signed_headers);
    free(out->canonical_request);
    free(out->string_to_sign);
    memset(out, 0, sizeof(*out));
}
