/*
 * SigV4 signer tests: every case of the public AWS test suite (aws-c-auth copy) and the EC2
 * Query API vectors under tests/fixtures/sigv4/, read from the files (request, context,
 * expected canonical request, string to sign, signature and Authorization header).
 */
#include "aws/private/sigv4.h"
#include "aws_test.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_DIR "tests/fixtures/sigv4/aws-c-auth"

struct parsed_request {
    char method[16];
    char *path;
    char *query;
    struct np_aws_sigv4_header headers[16];
    char *names[16];
    char *values[16];
    size_t n_headers;
    char *body;
    size_t body_len;
};

static void request_clean_up(struct parsed_request *r)
{
    free(r->path);
    free(r->query);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->body);
}

/* Parses request.txt: "METHOD target HTTP/1.1", "Name:value" lines (folded lines start with
 * whitespace), a blank line, then the body. */
static void request_parse(struct parsed_request *r, const char *text)
{
    memset(r, 0, sizeof(*r));
    const char *eol = strchr(text, '\n');
    cr_assert_not_null(eol);
    const char *sp1 = memchr(text, ' ', (size_t)(eol - text));
    const char *sp2 = eol;
    while (sp2 > sp1 && *sp2 != ' ')
        sp2--;
    cr_assert(sp1 && sp2 > sp1);
    np_strlcpy(r->method, text, (size_t)(sp1 - text) + 1);
    char *target = np_strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
    char *q = strchr(target, '?');
    if (q) {
        r->query = np_strdup(q + 1);
        *q = '\0';
    }
    r->path = target;
    const char *line = eol + 1;
    while (*line && *line != '\n') {
        eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if ((*line == ' ' || *line == '\t') && r->n_headers > 0) {
            char *prev = r->values[r->n_headers - 1];
            char *joined = np_strdupf("%s\n%.*s", prev, (int)len, line);
            free(prev);
            r->values[r->n_headers - 1] = joined;
        } else {
            const char *colon = memchr(line, ':', len);
            cr_assert_not_null(colon);
            cr_assert_lt(r->n_headers, 16);
            r->names[r->n_headers] = np_strndup(line, (size_t)(colon - line));
            r->values[r->n_headers] = np_strndup(colon + 1, len - (size_t)(colon - line) - 1);
            r->n_headers++;
        }
        if (!eol)
            break;
        line = eol + 1;
    }
    const char *body = (*line == '\n') ? line + 1 : line + strlen(line);
    r->body_len = strlen(body);
    r->body = np_strdup(body);
    for (size_t i = 0; i < r->n_headers; i++)
        r->headers[i] = (struct np_aws_sigv4_header){r->names[i], r->values[i]};
}

/* The value of "Name:" in a signed-request file, or NULL. */
static char *signed_line(const char *text, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *e = strchr(p, '\n');
            return np_strndup(p + nl + 1, e ? (size_t)(e - p - nl - 1) : strlen(p + nl + 1));
        }
    }
    return NULL;
}

static bool ctx_bool(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

static const char *json_str(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* Signs one case directory and compares every expected file; returns the failures. */
static int run_case(const char *dir)
{
    char path[512];
    int failures = 0;
    snprintf(path, sizeof(path), "%s/context.json", dir);
    json_object *ctx = json_object_from_file(path);
    cr_assert_not_null(ctx, "%s: unreadable", path);
    json_object *jcreds = NULL;
    cr_assert(json_object_object_get_ex(ctx, "credentials", &jcreds));
    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, json_str(jcreds, "access_key_id"),
                                        json_str(jcreds, "secret_access_key"),
                                        json_str(jcreds, "token")),
                 0);
    int64_t t = 0;
    cr_assert_eq(np_time_parse_rfc3339(json_str(ctx, "timestamp"), &t), 0);

    snprintf(path, sizeof(path), "%s/request.txt", dir);
    char *raw = fixture_read(path, NULL);
    struct parsed_request req;
    request_parse(&req, raw);

    unsigned flags = 0;
    json_object *norm = NULL;
    if (json_object_object_get_ex(ctx, "normalize", &norm) && !json_object_get_boolean(norm))
        flags |= NP_AWS_SIGV4_NO_NORMALIZE_PATH;
    if (ctx_bool(ctx, "sign_body"))
        flags |= NP_AWS_SIGV4_SIGN_CONTENT_SHA256;
    if (ctx_bool(ctx, "omit_session_token"))
        flags |= NP_AWS_SIGV4_UNSIGNED_SESSION_TOKEN;

    struct np_aws_sigv4_input in = {
        .method = req.method,
        .path = req.path,
        .query = req.query,
        .headers = req.headers,
        .n_headers = req.n_headers,
        .body = req.body,
        .body_len = req.body_len,
        .region = json_str(ctx, "region"),
        .service = json_str(ctx, "service"),
        .credentials = &creds,
        .time_ms = t,
        .flags = flags,
    };
    struct np_aws_sigv4_output out;
    memset(&out, 0, sizeof(out));
    int rc = np_aws_sigv4_sign(&out, &in);
    cr_expect_eq(rc, 0, "%s: sign failed: %s", dir, np_error_message());
    if (rc) {
        failures++;
        goto done;
    }

    static const char *const files[] = {"header-canonical-request.txt", "header-string-to-sign.txt",
                                        "header-signature.txt"};
    const char *got[] = {out.canonical_request, out.string_to_sign, out.signature};
    for (size_t i = 0; i < NP_ARRAY_LEN(files); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        char *want = fixture_read_trimmed(path);
        if (strcmp(got[i], want) != 0) {
            failures++;
            cr_expect_fail("%s: %s differs\n--- got:\n%s\n--- want:\n%s", dir, files[i], got[i],
                           want);
        }
        free(want);
    }
    snprintf(path, sizeof(path), "%s/header-signed-request.txt", dir);
    char *signed_req = fixture_read(path, NULL);
    char *want_auth = signed_line(signed_req, "Authorization");
    char *want_date = signed_line(signed_req, "X-Amz-Date");
    char *want_token = signed_line(signed_req, "X-Amz-Security-Token");
    cr_assert_not_null(want_auth, "%s: no Authorization line", dir);
    if (strcmp(want_auth, out.authorization) != 0) {
        failures++;
        cr_expect_fail("%s: Authorization\n got: %s\nwant: %s", dir, out.authorization, want_auth);
    }
    if (!want_date || strcmp(want_date, out.amz_date) != 0) {
        failures++;
        cr_expect_fail("%s: X-Amz-Date got %s", dir, out.amz_date);
    }
    if (!np_str_eq(want_token, out.security_token)) {
        failures++;
        cr_expect_fail("%s: X-Amz-Security-Token got %s want %s", dir,
                       out.security_token ? out.security_token : "(none)",
                       want_token ? want_token : "(none)");
    }
    /* the secret key never appears in what the signer hands out */
    cr_expect_null(strstr(out.authorization, creds.secret_access_key));
    cr_expect_null(strstr(out.canonical_request, creds.secret_access_key));
    cr_expect_null(strstr(out.string_to_sign, creds.secret_access_key));
    free(want_auth);
    free(want_date);
    free(want_token);
    free(signed_req);
done:
    np_aws_sigv4_output_clean_up(&out);
    request_clean_up(&req);
    free(raw);
    np_aws_credentials_clean_up(&creds);
    json_object_put(ctx);
    return failures;
}

Test(sigv4, public_suite_all_cases)
{
    DIR *d = opendir(SUITE_DIR);
    cr_assert_not_null(d, "%s is missing", SUITE_DIR);
    struct dirent *e;
    int cases = 0, failures = 0;
    char dir[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(dir, sizeof(dir), "%s/%s", SUITE_DIR, e->d_name);
        failures += run_case(dir);
        cases++;
    }
    closedir(d);
    /* the copied suite has 38 v4 cases; losing some silently must fail */
    cr_expect_geq(cases, 38, "only %d cases found", cases);
    cr_expect_eq(failures, 0, "%d mismatches over %d cases", failures, cases);
}

Test(sigv4, ec2_query_post_vector)
{
    cr_assert_eq(run_case("tests/fixtures/sigv4/ec2-describe-security-groups"), 0);
}

Test(sigv4, ec2_query_post_vector_with_session_token)
{
    cr_assert_eq(run_case("tests/fixtures/sigv4/ec2-describe-security-groups-session-token"), 0);
}

static struct np_aws_credentials test_creds(void)
{
    struct np_aws_credentials c;
    cr_assert_eq(np_aws_credentials_set(&c, "AKIDEXAMPLE", "secret", NULL), 0);
    return c;
}

Test(sigv4, refuses_missing_host_and_signer_headers)
{
    struct np_aws_credentials creds = test_creds();
    struct np_aws_sigv4_header no_host[] = {{"Content-Type", "text/plain"}};
    struct np_aws_sigv4_input in = {.method = "POST",
                                    .headers = no_host,
                                    .n_headers = 1,
                                    .region = "us-east-1",
                                    .service = "ec2",
                                    .credentials = &creds,
                                    .time_ms = 0};
    struct np_aws_sigv4_output out;
    memset(&out, 0, sizeof(out));
    cr_expect_eq(np_aws_sigv4_sign(&out, &in), NP_EINVAL);
    cr_expect_null(out.authorization);
    np_aws_sigv4_output_clean_up(&out);

    struct np_aws_sigv4_header dated[] = {{"Host", "h"}, {"X-Amz-Date", "20200101T000000Z"}};
    in.headers = dated;
    in.n_headers = 2;
    cr_expect_eq(np_aws_sigv4_sign(&out, &in), NP_EINVAL);
    np_aws_sigv4_output_clean_up(&out);

    struct np_aws_sigv4_header bad_name[] = {{"Host", "h"}, {"Bad Name", "v"}};
    in.headers = bad_name;
    cr_expect_eq(np_aws_sigv4_sign(&out, &in), NP_EINVAL);
    np_aws_sigv4_output_clean_up(&out);

    in.headers = dated;
    in.n_headers = 1; /* host only */
    in.region = NULL;
    cr_expect_eq(np_aws_sigv4_sign(&out, &in), NP_EINVAL);
    np_aws_sigv4_output_clean_up(&out);
    np_aws_credentials_clean_up(&creds);
}

Test(sigv4, signature_depends_on_every_input)
{
    struct np_aws_credentials creds = test_creds();
    struct np_aws_sigv4_header h[] = {{"Host", "ec2.us-east-1.amazonaws.com"}};
    struct np_aws_sigv4_input base = {.method = "POST",
                                      .path = "/",
                                      .headers = h,
                                      .n_headers = 1,
                                      .body = "Action=X",
                                      .body_len = 8,
                                      .region = "us-east-1",
                                      .service = "ec2",
                                      .credentials = &creds,
                                      .time_ms = 1704164645000LL};
    struct np_aws_sigv4_output ref;
    memset(&ref, 0, sizeof(ref));
    cr_assert_eq(np_aws_sigv4_sign(&ref, &base), 0);
    for (int i = 0; i < 5; i++) {
        struct np_aws_sigv4_input in = base;
        switch (i) {
        case 0: in.body_len = 7; break;
        case 1: in.region = "us-west-2"; break;
        case 2: in.service = "sts"; break;
        case 3: in.time_ms += 1000; break;
        case 4: in.method = "GET"; break;
        }
        struct np_aws_sigv4_output out;
        memset(&out, 0, sizeof(out));
        cr_assert_eq(np_aws_sigv4_sign(&out, &in), 0);
        cr_expect_str_neq(out.signature, ref.signature, "variant %d signs the same", i);
        np_aws_sigv4_output_clean_up(&out);
    }
    np_aws_sigv4_output_clean_up(&ref);
    np_aws_credentials_clean_up(&creds);
}
