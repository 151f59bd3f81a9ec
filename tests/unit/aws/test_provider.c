/*
 * Credential providers without a network: the default chain's order, each source's exchange
 * on the fake transport (AssumeRoleWithWebIdentity unsigned with the token file read again at
 * every refresh, the container endpoint's authorization header, IMDSv2's token dance, AssumeRole
 * signed with the base credentials), the credential documents, the refresh schedule on the
 * injected clock, the failure kinds and messages, and that no secret reaches a message.
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIN_MS (60LL * 1000)

static void clear_env(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_SECURITY_TOKEN",
                                       "AWS_ROLE_ARN",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE",
                                       "AWS_ROLE_SESSION_NAME",
                                       "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                       "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                       "AWS_EC2_METADATA_DISABLED",
                                       "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_STS",
                                       "AWS_ENDPOINT_URL_EC2"};
    for (size_t i = 0; i < NP_ARRAY_LEN(vars); i++)
        unsetenv(vars[i]);
}

/* ---------------------------------------------------------------- helpers */

static char tmpdir[64];

static void make_tmpdir(void)
{
    clear_env();
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/np-provider-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    cr_expect_eq(system(cmd), 0);
}

static char *write_file(const char *name, const char *content)
{
    char *path = np_strdupf("%s/%s", tmpdir, name);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs(content, fp);
    fclose(fp);
    return path;
}

/* An STS <action> answer with credentials expiring at wall time exp_ms. */
static char *sts_answer(const char *action, const char *ak, const char *token, int64_t exp_ms)
{
    char when[40];
    np_time_format_rfc3339(when, sizeof(when), exp_ms);
    return np_strdupf("<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><%sResult>"
                      "<Credentials><AccessKeyId>%s</AccessKeyId>"
                      "<SecretAccessKey>SECRET-%s</SecretAccessKey>"
                      "<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>"
                      "<AssumedRoleUser><Arn>arn:aws:sts::111111111111:assumed-role/r/s</Arn>"
                      "<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>"
                      "</%sResult></%sResponse>",
                      action, action, ak, ak, token, when, action, action);
}

static void push_sts(struct fake_net *f, const char *action, const char *ak, const char *token,
                     int64_t exp_ms)
{
    char *body = sts_answer(action, ak, token, exp_ms);
    fake_net_push(f, NP_AWS_TRANSPORT_OK, 200, body);
    free(body);
}

/* A container / IMDS credential document expiring at exp_ms. */
static char *document(const char *ak, int64_t exp_ms)
{
    char when[40];
    np_time_format_rfc3339(when, sizeof(when), exp_ms);
    return np_strdupf("{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"%s\","
                      "\"SecretAccessKey\":\"SECRET-%s\",\"Token\":\"TOKEN-%s\","
                      "\"Expiration\":\"%s\"}",
                      ak, ak, ak, when);
}

static void push_document(struct fake_net *f, const char *ak, int64_t exp_ms)
{
    char *body = document(ak, exp_ms);
    fake_net_push(f, NP_AWS_TRANSPORT_OK, 200, body);
    free(body);
}

/* Gets credentials and checks the access key id. */
static void expect_key(struct np_aws_provider *p, const char *ak)
{
    struct np_aws_credentials c;
    enum np_aws_cred_failure why = NP_AWS_CRED_DENIED;
    cr_assert_eq(np_aws_provider_get(p, &c, &why), 0, "get: %s", np_error_message());
    cr_expect_eq(why, NP_AWS_CRED_OK);
    cr_expect_str_eq(c.access_key_id, ak);
    np_aws_credentials_clean_up(&c);
}

static enum np_aws_cred_failure expect_failure(struct np_aws_provider *p)
{
    struct np_aws_credentials c;
    enum np_aws_cred_failure why = NP_AWS_CRED_OK;
    cr_expect_eq(np_aws_provider_get(p, &c, &why), NP_EAUTH);
    cr_expect_null(c.access_key_id, "nothing handed out on failure");
    return why;
}

static bool body_has(const struct fake_net *f, size_t i, const char *needle)
{
    return i < f->n_requests && strstr(f->requests[i].body, needle) != NULL;
}

/* ---------------------------------------------------------------- the default chain */

static enum np_aws_cred_source chain_source(void)
{
    struct np_aws_provider_config cfg = {.region = "us-east-1"};
    struct np_aws_provider *p = NULL;
    cr_assert_eq(np_aws_provider_new(&p, &cfg), 0);
    struct np_aws_provider_state st;
    np_aws_provider_state(p, &st);
    np_aws_provider_unref(p);
    return st.source;
}

Test(chain, order_is_environment_web_identity_container_imds, .init = clear_env)
{
    cr_expect_eq(chain_source(), NP_AWS_SOURCE_INSTANCE_METADATA, "the last resort");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds", 1);
    cr_expect_eq(chain_source(), NP_AWS_SOURCE_CONTAINER);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::111111111111:role/r", 1);
    cr_expect_eq(chain_source(), NP_AWS_SOURCE_CONTAINER, "web identity needs both variables");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    cr_expect_eq(chain_source(), NP_AWS_SOURCE_WEB_IDENTITY);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
    cr_expect_eq(chain_source(), NP_AWS_SOURCE_ENVIRONMENT, "the environment wins");
}

Test(chain, nothing_configured_says_what_was_tried, .init = clear_env)
{
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    struct np_aws_provider_config cfg = {.region = "us-east-1"};
    struct np_aws_provider *p = NULL;
    cr_assert_eq(np_aws_provider_new(&p, &cfg), 0);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_NOT_FOUND);
    const char *msg = np_error_message();
    cr_expect(strstr(msg, "environment") && strstr(msg, "web identity") &&
                  strstr(msg, "container") && strstr(msg, "AWS_EC2_METADATA_DISABLED"),
              "%s", msg);
    np_aws_provider_unref(p);
}

Test(chain, imds_unreachable_in_the_chain_is_not_found, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9/", 1);
    for (int i = 0; i < 3; i++)
        fake_net_push(&f, NP_AWS_TRANSPORT_NETWORK, 0, NULL);
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_DEFAULT};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_NOT_FOUND);
    cr_expect(strstr(np_error_message(), "default chain") != NULL, "%s", np_error_message());
    cr_expect_eq(f.n_requests, 3, "a bounded retry");
    np_aws_provider_unref(p);
    fake_net_clean_up(&f);
}

Test(chain, explicit_environment_without_keys_is_not_found, .init = clear_env)
{
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_ENVIRONMENT,
                                         .region = "us-east-1"};
    struct np_aws_provider *p = NULL;
    cr_assert_eq(np_aws_provider_new(&p, &cfg), 0);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_NOT_FOUND);
    cr_expect(strstr(np_error_message(), "AWS_ACCESS_KEY_ID") != NULL);
    np_aws_provider_unref(p);
}

Test(chain, source_names_round_trip)
{
    enum np_aws_cred_source s;
    for (int i = NP_AWS_SOURCE_DEFAULT; i <= NP_AWS_SOURCE_INSTANCE_METADATA; i++) {
        cr_assert(np_aws_cred_source_parse(np_aws_cred_source_name(i), &s));
        cr_expect_eq((int)s, i);
    }
    cr_expect(np_aws_cred_source_parse(NULL, &s) && s == NP_AWS_SOURCE_DEFAULT);
    cr_expect_not(np_aws_cred_source_parse("Static", &s));
}

/* ---------------------------------------------------------------- web identity */

Test(web_identity, unsigned_call_with_token_reread_at_refresh, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
    struct fake_net f;
    fake_net_init(&f);
    char *token = write_file("token", "eyJhbGciOiJSUzI1NiJ9.first.sig\n");
    const char *dirs[] = {tmpdir};
    setenv("AWS_ROLE_SESSION_NAME", "from-env", 1);
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_WEB_IDENTITY,
                                         .role_arn = "arn:aws:iam::111111111111:role/irsa",
                                         .token_file = token,
                                         .token_dirs = dirs,
                                         .n_token_dirs = 1,
                                         .session_name = "netposture-prod",
                                         .sts_endpoint = "https://sts.example.test"};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    push_sts(&f, "AssumeRoleWithWebIdentity", "ASIAONE", "tok1", f.wall_ms + 60 * MIN_MS);
    expect_key(p, "ASIAONE");
    cr_assert_eq(f.n_requests, 1);
    cr_expect_str_eq(f.requests[0].url, "https://sts.example.test");
    cr_expect_null(fake_header(&f, 0, "Authorization"), "AssumeRoleWithWebIdentity is unsigned");
    cr_expect(body_has(&f, 0, "Action=AssumeRoleWithWebIdentity"));
    cr_expect(body_has(&f, 0, "WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.first.sig&") ||
              body_has(&f, 0, "WebIdentityToken=eyJhbGciOiJSUzI1NiJ9.first.sig"));
    cr_expect(body_has(&f, 0, "RoleSessionName=from-env"), "%s", f.requests[0].body);
    cr_expect(body_has(&f, 0, "RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Firsa"));
    /* the kubelet rotates the token; the next refresh (15 min before expiry) reads it */
    free(write_file("token", "eyJhbGciOiJSUzI1NiJ9.second.sig"));
    f.wall_ms += 44 * MIN_MS;
    expect_key(p, "ASIAONE");
    cr_expect_eq(f.n_requests, 1, "not due yet");
    f.wall_ms += 2 * MIN_MS;
    push_sts(&f, "AssumeRoleWithWebIdentity", "ASIATWO", "tok2", f.wall_ms + 60 * MIN_MS);
    expect_key(p, "ASIATWO");
    cr_assert_eq(f.n_requests, 2);
    cr_expect(body_has(&f, 1, "second.sig"), "the rotated token is sent");
    np_aws_provider_unref(p);
    free(token);
    fake_net_clean_up(&f);
}

Test(web_identity, token_outside_allowed_dirs_or_missing_is_unreadable, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
    struct fake_net f;
    fake_net_init(&f);
    char *token = write_file("token", "secret-jwt-value");
    const char *dirs[] = {"/var/run/secrets/eks.amazonaws.com/serviceaccount"};
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_WEB_IDENTITY,
                                         .role_arn = "arn:aws:iam::111111111111:role/irsa",
                                         .token_file = token,
                                         .token_dirs = dirs,
                                         .n_token_dirs = 1};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_TOKEN_UNREADABLE);
    cr_expect(strstr(np_error_message(), "outside the allowed directories") != NULL, "%s",
              np_error_message());
    cr_expect(strstr(np_error_message(), "secret-jwt-value") == NULL, "no token in messages");
    cr_expect_eq(f.n_requests, 0, "nothing sent");
    np_aws_provider_unref(p);
    /* the directory of AWS_WEB_IDENTITY_TOKEN_FILE is allowed; a missing file is unreadable */
    char *missing = np_strdupf("%s/gone", tmpdir);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token, 1);
    cfg.token_file = missing;
    p = fake_provider(&f, &cfg);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_TOKEN_UNREADABLE);
    cr_expect(strstr(np_error_message(), "No such file") != NULL, "%s", np_error_message());
    np_aws_provider_unref(p);
    free(missing);
    free(token);
    fake_net_clean_up(&f);
}

Test(web_identity, sts_refusal_is_denied_naming_role_and_code, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
    struct fake_net f;
    fake_net_init(&f);
    char *token = write_file("token", "jwt-that-must-not-leak");
    setenv("AWS_ROLE_ARN", "arn:aws:iam::111111111111:role/env-role", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token, 1);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 403,
                  "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                  "<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message>"
                  "</Error><RequestId>r1</RequestId></ErrorResponse>");
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_WEB_IDENTITY};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_DENIED);
    const char *msg = np_error_message();
    cr_expect(strstr(msg, "env-role") && strstr(msg, "AccessDenied"), "%s", msg);
    cr_expect(strstr(msg, "jwt-that-must-not-leak") == NULL);
    /* backing off: the next get within a second sends nothing */
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_DENIED);
    cr_expect_eq(f.n_requests, 1);
    np_aws_provider_unref(p);
    free(token);
    fake_net_clean_up(&f);
}

/* ---------------------------------------------------------------- container */

Test(container, authorization_from_file_and_document, .init = make_tmpdir, .fini = remove_tmpdir)
{
    struct fake_net f;
    fake_net_init(&f);
    char *auth = write_file("eks-pod-identity-token", "pod-auth-token\n");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", auth, 1);
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_CONTAINER};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    int64_t t0 = f.wall_ms;
    push_document(&f, "ASIAPOD", t0 + 6 * MIN_MS);
    expect_key(p, "ASIAPOD");
    cr_assert_eq(f.n_requests, 1);
    cr_expect_str_eq(f.requests[0].method, "GET");
    cr_expect_str_eq(f.requests[0].url, "http://169.254.170.23/v1/credentials");
    cr_expect_str_eq(fake_header(&f, 0, "Authorization"), "pod-auth-token");
    struct np_aws_provider_state st;
    np_aws_provider_state(p, &st);
    cr_expect_eq(st.source, NP_AWS_SOURCE_CONTAINER);
    cr_expect_eq(st.expires_ms, t0 + 6 * MIN_MS);
    /* a 6-minute life: refreshed at half of it; the token file is read again */
    free(write_file("eks-pod-identity-token", "rotated-auth"));
    f.wall_ms = t0 + 3 * MIN_MS + 1000;
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 401, "{\"message\":\"bad token\"}");
    expect_key(p, "ASIAPOD"); /* the refresh failed: the valid ones are kept */
    cr_assert_eq(f.n_requests, 2);
    cr_expect_str_eq(fake_header(&f, 1, "Authorization"), "rotated-auth");
    np_aws_provider_state(p, &st);
    cr_expect_eq(st.failure, NP_AWS_CRED_INVALID);
    np_aws_provider_unref(p);
    free(auth);
    fake_net_clean_up(&f);
}

Test(container, plain_http_only_to_loopback_or_agents, .init = clear_env)
{
    static const char *const refused[] = {"http://10.0.0.1/creds", "http://169.254.170.3/x",
                                          "http://metadata.example/creds"};
    for (size_t i = 0; i < NP_ARRAY_LEN(refused); i++) {
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused[i], 1);
        struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_CONTAINER,
                                             .region = "us-east-1"};
        struct np_aws_provider *p = NULL;
        cr_assert_eq(np_aws_provider_new(&p, &cfg), 0);
        cr_expect_eq(expect_failure(p), NP_AWS_CRED_INVALID, "%s", refused[i]);
        np_aws_provider_unref(p);
    }
    struct fake_net f;
    fake_net_init(&f);
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "inline", 1);
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_CONTAINER};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    push_document(&f, "ASIAECS", f.wall_ms + 60 * MIN_MS);
    expect_key(p, "ASIAECS");
    cr_expect_str_eq(f.requests[0].url, "http://169.254.170.2/v2/credentials/abc");
    cr_expect_str_eq(fake_header(&f, 0, "Authorization"), "inline");
    np_aws_provider_unref(p);
    fake_net_clean_up(&f);
}

/* ---------------------------------------------------------------- IMDSv2 */

Test(imds, token_then_role_then_credentials, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/", 1);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "imds-session-token");
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "node-role\n");
    push_document(&f, "ASIANODE", f.wall_ms + 60 * MIN_MS);
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_INSTANCE_METADATA};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    expect_key(p, "ASIANODE");
    cr_assert_eq(f.n_requests, 3);
    cr_expect_str_eq(f.requests[0].method, "PUT");
    cr_expect_str_eq(f.requests[0].url, "http://127.0.0.1:1338/latest/api/token");
    cr_expect_str_eq(fake_header(&f, 0, "X-aws-ec2-metadata-token-ttl-seconds"), "21600");
    cr_expect_str_eq(f.requests[1].method, "GET");
    cr_expect_str_eq(f.requests[1].url,
                     "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/");
    cr_expect_str_eq(fake_header(&f, 1, "X-aws-ec2-metadata-token"), "imds-session-token");
    cr_expect_str_eq(f.requests[2].url,
                     "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/node-role");
    cr_expect_str_eq(fake_header(&f, 2, "X-aws-ec2-metadata-token"), "imds-session-token");
    np_aws_provider_unref(p);
    fake_net_clean_up(&f);
}

Test(imds, refused_token_or_bad_role_is_metadata_unavailable, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338", 1);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 403, "");
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_INSTANCE_METADATA};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_METADATA_UNAVAILABLE);
    cr_expect(strstr(np_error_message(), "HTTP 403") != NULL, "%s", np_error_message());
    cr_expect_eq(f.n_requests, 1, "no IMDSv1 fallback");
    np_aws_provider_unref(p);
    f.wall_ms += MIN_MS;
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "t");
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "../../etc/passwd");
    p = fake_provider(&f, &cfg);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_METADATA_UNAVAILABLE);
    cr_expect_eq(f.n_requests, 3, "an unsafe role name is not fetched");
    np_aws_provider_unref(p);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    p = fake_provider(&f, &cfg);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_NOT_FOUND);
    np_aws_provider_unref(p);
    fake_net_clean_up(&f);
}

/* ---------------------------------------------------------------- documents */

Test(document, good_and_bad)
{
    struct np_aws_fetched out;
    const char *good = "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\",\"Token\":\"T\","
                       "\"Expiration\":\"2026-12-03T10:00:00Z\"}";
    cr_assert_eq(np_aws_parse_credential_document(good, strlen(good), &out), 0);
    cr_expect_str_eq(out.creds.session_token, "T");
    int64_t want = 0;
    np_time_parse_rfc3339("2026-12-03T10:00:00Z", &want);
    cr_expect_eq(out.expires_ms, want);
    np_aws_credentials_clean_up(&out.creds);
    static const struct {
        const char *doc, *says;
    } bad[] = {
        {"{\"SecretAccessKey\":\"SK\",\"Token\":\"T\",\"Expiration\":\"2026-12-03T10:00:00Z\"}",
         "no AccessKeyId"},
        {"{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\",\"Token\":\"T\"}", "no Expiration"},
        {"{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\",\"Expiration\":\"x\"}", "no Token"},
        {"{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\",\"Token\":\"T\",\"Expiration\":"
         "\"tomorrow\"}",
         "not an RFC 3339 time"},
        {"{\"Code\":\"Failed\",\"AccessKeyId\":\"AK\"}", "Code \"Failed\""},
        {"[1,2]", "not a JSON object"},
        {"{\"AccessKeyId\":", "not a JSON object"},
        {"{\"AccessKeyId\":7,\"SecretAccessKey\":\"SK\",\"Token\":\"T\",\"Expiration\":"
         "\"2026-12-03T10:00:00Z\"}",
         "no AccessKeyId"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(bad); i++) {
        cr_expect_eq(np_aws_parse_credential_document(bad[i].doc, strlen(bad[i].doc), &out),
                     NP_EPARSE, "%s", bad[i].doc);
        cr_expect(strstr(np_error_message(), bad[i].says) != NULL, "%s: %s", bad[i].doc,
                  np_error_message());
        cr_expect_null(out.creds.access_key_id);
    }
    size_t n = 100 * 1024;
    char *huge = malloc(n + 1);
    memset(huge, ' ', n);
    huge[n] = '\0';
    cr_expect_eq(np_aws_parse_credential_document(huge, n, &out), NP_EPARSE);
    cr_expect(strstr(np_error_message(), "larger than") != NULL);
    free(huge);
}

Test(document, sts_answer_decodes_and_misses_are_named)
{
    struct np_aws_credentials c;
    int64_t exp = 0;
    char *arn = NULL;
    char *xml = sts_answer("AssumeRole", "ASIAX", "tok", 1704164645000LL);
    cr_assert_eq(np_aws_xml_decode_sts_credentials(xml, strlen(xml), "AssumeRole", &c, &exp, &arn),
                 0);
    cr_expect_str_eq(c.access_key_id, "ASIAX");
    cr_expect_str_eq(c.session_token, "tok");
    cr_expect_eq(exp, 1704164645000LL);
    cr_expect_str_eq(arn, "arn:aws:sts::111111111111:assumed-role/r/s");
    np_aws_credentials_clean_up(&c);
    free(arn);
    cr_expect_eq(np_aws_xml_decode_sts_credentials(xml, strlen(xml), "AssumeRoleWithWebIdentity",
                                                   &c, &exp, NULL),
                 NP_EPARSE, "the root must match the action");
    free(xml);
    const char *no_token = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A"
                           "</AccessKeyId><SecretAccessKey>S</SecretAccessKey><Expiration>"
                           "2026-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult>"
                           "</AssumeRoleResponse>";
    cr_expect_eq(
        np_aws_xml_decode_sts_credentials(no_token, strlen(no_token), "AssumeRole", &c, &exp, NULL),
        NP_EPARSE);
    cr_expect(strstr(np_error_message(), "SessionToken") != NULL, "%s", np_error_message());
}

/* ---------------------------------------------------------------- refresh */

Test(refresh, short_lived_credentials_refresh_at_half_life_and_never_sign_expired,
     .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338", 1);
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_INSTANCE_METADATA};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    int64_t t0 = f.wall_ms;
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "t");
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "role");
    push_document(&f, "ASIAA", t0 + 2 * MIN_MS);
    expect_key(p, "ASIAA");
    f.wall_ms = t0 + 59 * 1000;
    expect_key(p, "ASIAA");
    cr_expect_eq(f.n_requests, 3, "not due before half their life");
    /* due at about 60 s: the metadata service is down; the valid ones are used meanwhile */
    f.wall_ms = t0 + 61 * 1000;
    for (int i = 0; i < 3; i++)
        fake_net_push(&f, NP_AWS_TRANSPORT_NETWORK, 0, NULL);
    expect_key(p, "ASIAA");
    cr_expect_eq(f.n_requests, 6);
    f.wall_ms += 500;
    expect_key(p, "ASIAA");
    cr_expect_eq(f.n_requests, 6, "backing off for a second");
    /* within a tenth of their life (12 s) of expiry they are not handed out any more */
    f.wall_ms = t0 + 108 * 1000;
    for (int i = 0; i < 3; i++)
        fake_net_push(&f, NP_AWS_TRANSPORT_NETWORK, 0, NULL);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_EXPIRED);
    cr_expect(strstr(np_error_message(), "could not be refreshed") != NULL, "%s",
              np_error_message());
    /* the service comes back: the next try after the backoff works */
    f.wall_ms += 5000;
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "t");
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "role");
    push_document(&f, "ASIAB", f.wall_ms + 60 * MIN_MS);
    expect_key(p, "ASIAB");
    np_aws_provider_unref(p);
    fake_net_clean_up(&f);
}

Test(refresh, static_keys_never_refresh, .init = clear_env)
{
    struct np_aws_credentials keys;
    cr_assert_eq(np_aws_credentials_set(&keys, "AKIDSTATIC", "s", NULL), 0);
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_STATIC, .credentials = &keys};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    expect_key(p, "AKIDSTATIC");
    f.wall_ms += 1000 * 24 * 60 * MIN_MS;
    expect_key(p, "AKIDSTATIC");
    struct np_aws_provider_state st;
    np_aws_provider_state(p, &st);
    cr_expect_eq(st.expires_ms, 0);
    cr_expect_eq(st.source, NP_AWS_SOURCE_STATIC);
    cr_expect_eq(f.n_requests, 0);
    np_aws_provider_unref(p);
    np_aws_credentials_clean_up(&keys);
    fake_net_clean_up(&f);
}

/* ---------------------------------------------------------------- AssumeRole */

Test(assume_role, signed_with_base_keys_and_used_by_clients, .init = clear_env)
{
    struct np_aws_credentials keys;
    cr_assert_eq(np_aws_credentials_set(&keys, "AKIDBASE", "base-secret", NULL), 0);
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_STATIC,
                                         .credentials = &keys,
                                         .assume_role_arn = "arn:aws:iam::111111111111:role/np",
                                         .external_id = "ext-123",
                                         .session_name = "netposture-prod",
                                         .duration_seconds = 900,
                                         .sts_endpoint = "https://sts.example.test"};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    push_sts(&f, "AssumeRole", "ASIAASSUMED", "assumed-token", f.wall_ms + 15 * MIN_MS);
    /* an EC2 client on the provider signs with the assumed credentials */
    struct np_aws_ec2_config ec = {.region = "us-east-1",
                                   .endpoint = "https://ec2.example.test",
                                   .provider = p,
                                   .clock = &f.clock};
    struct np_aws_ec2 *c = NULL;
    cr_assert_eq(np_aws_ec2_new(&c, &ec), 0, "%s", np_error_message());
    fake_net_attach(&f, c);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200,
                  "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:sts::"
                  "111111111111:assumed-role/np/netposture-prod</Arn><Account>111111111111"
                  "</Account></GetCallerIdentityResult></GetCallerIdentityResponse>");
    char *account = NULL;
    np_aws_provider_unref(p); /* the client keeps its own reference */
    cr_assert_eq(np_aws_sts_get_caller_identity(c, &account, NULL), 0, "%s", np_error_message());
    cr_expect_str_eq(account, "111111111111");
    cr_assert_eq(f.n_requests, 2);
    cr_expect_str_eq(f.requests[0].url, "https://sts.example.test");
    cr_expect(body_has(&f, 0, "Action=AssumeRole&"));
    cr_expect(body_has(&f, 0, "ExternalId=ext-123"));
    cr_expect(body_has(&f, 0, "DurationSeconds=900"));
    cr_expect(body_has(&f, 0, "RoleSessionName=netposture-prod"));
    cr_expect(strstr(fake_header(&f, 0, "Authorization"), "Credential=AKIDBASE/") != NULL);
    cr_expect(strstr(fake_header(&f, 1, "Authorization"), "Credential=ASIAASSUMED/") != NULL);
    cr_expect_str_eq(fake_header(&f, 1, "X-Amz-Security-Token"), "assumed-token");
    free(account);
    np_aws_ec2_destroy(c);
    np_aws_credentials_clean_up(&keys);
    fake_net_clean_up(&f);
}

Test(assume_role, base_failure_is_passed_on_and_refusal_is_denied, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_ENVIRONMENT,
                                         .assume_role_arn = "arn:aws:iam::111111111111:role/np"};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_NOT_FOUND, "no base keys");
    cr_expect_eq(f.n_requests, 0);
    struct np_aws_provider_state st;
    np_aws_provider_state(p, &st);
    cr_expect(st.assumed);
    cr_expect_eq(st.source, NP_AWS_SOURCE_ENVIRONMENT);
    np_aws_provider_unref(p);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 403,
                  "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>"
                  "User is not authorized to perform: sts:AssumeRole</Message></Error>"
                  "</ErrorResponse>");
    p = fake_provider(&f, &cfg);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_DENIED);
    const char *msg = np_error_message();
    cr_expect(strstr(msg, "arn:aws:iam::111111111111:role/np") && strstr(msg, "AccessDenied"), "%s",
              msg);
    cr_expect(strstr(msg, "env-secret") == NULL);
    np_aws_provider_unref(p);
    fake_net_clean_up(&f);
}

Test(assume_role, session_names_are_cleaned)
{
    char out[72];
    np_aws_session_name(out, sizeof(out), "netposture-team a/b");
    cr_expect_str_eq(out, "netposture-team-a-b");
    np_aws_session_name(out, sizeof(out), NULL);
    cr_expect_str_eq(out, "netposture");
    np_aws_session_name(out, sizeof(out), "x");
    cr_expect_str_eq(out, "netposture", "too short");
    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    np_aws_session_name(out, sizeof(out), longname);
    cr_expect_eq(strlen(out), 64);
}

/* ---------------------------------------------------------------- logs */

Test(logs, a_failed_refresh_logs_no_secret, .init = make_tmpdir, .fini = remove_tmpdir)
{
    struct fake_net f;
    fake_net_init(&f);
    char *token = write_file("token", "jwt-secret-in-file");
    char *log = np_strdupf("%s/stderr", tmpdir);
    setenv("AWS_ACCESS_KEY_ID", "AKIDLOG", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret-key", 1);
    setenv("AWS_SESSION_TOKEN", "env-session-token", 1);
    struct np_aws_provider_config cfg = {.source = NP_AWS_SOURCE_WEB_IDENTITY,
                                         .role_arn = "arn:aws:iam::111111111111:role/irsa",
                                         .token_file = token,
                                         .token_dirs = (const char *[]){tmpdir},
                                         .n_token_dirs = 1,
                                         .assume_role_arn = "arn:aws:iam::222222222222:role/x"};
    struct np_aws_provider *p = fake_provider(&f, &cfg);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 400,
                  "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>bad token"
                  "</Message></Error></ErrorResponse>");
    fflush(stderr);
    int saved = dup(2);
    FILE *capture = fopen(log, "w");
    cr_assert_not_null(capture);
    dup2(fileno(capture), 2);
    np_log_configure(NP_LOG_DEBUG, NP_LOG_JSON);
    cr_expect_eq(expect_failure(p), NP_AWS_CRED_DENIED);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(capture);
    size_t len = 0;
    char *text = fixture_read(log, &len);
    cr_expect(strstr(text, "aws credentials refresh failed") != NULL, "%s", text);
    cr_expect(strstr(text, "InvalidIdentityToken") != NULL, "%s", text);
    static const char *const secrets[] = {"jwt-secret-in-file", "env-secret-key",
                                          "env-session-token"};
    for (size_t i = 0; i < NP_ARRAY_LEN(secrets); i++)
        cr_expect(strstr(text, secrets[i]) == NULL, "%s leaked: %s", secrets[i], text);
    free(text);
    free(log);
    free(token);
    np_aws_provider_unref(p);
    fake_net_clean_up(&f);
}
