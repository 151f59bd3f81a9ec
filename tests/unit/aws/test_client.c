/*
 * Client tests without a network: credentials and endpoint resolution from the environment,
 * and every typed operation through the scripted fake transport (exact form bodies, signed
 * headers against the EC2 vector, retries with their delays, observer reports, error mapping,
 * pagination through the client).
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FX "tests/fixtures/aws/"
#define EC2_URL "https://ec2.us-east-1.amazonaws.com"

static void clear_aws_env(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_SECURITY_TOKEN",
                                       "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_EC2",
                                       "AWS_ENDPOINT_URL_STS",
                                       "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                                       "AWS_ENDPOINT_URL_RESOURCE_GROUPS"};
    for (size_t i = 0; i < NP_ARRAY_LEN(vars); i++)
        unsetenv(vars[i]);
}

/* ---------------------------------------------------------------- credentials */

Test(credentials, from_env_and_missing_variables, .init = clear_aws_env)
{
    struct np_aws_credentials c;
    cr_expect_eq(np_aws_credentials_from_env(&c), NP_EINVAL);
    cr_expect(strstr(np_error_message(), "AWS_ACCESS_KEY_ID") != NULL, "%s", np_error_message());
    cr_expect_null(c.access_key_id);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    cr_expect_eq(np_aws_credentials_from_env(&c), NP_EINVAL);
    cr_expect(strstr(np_error_message(), "AWS_SECRET_ACCESS_KEY") != NULL);
    setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t", 1);
    cr_assert_eq(np_aws_credentials_from_env(&c), 0);
    cr_expect_str_eq(c.access_key_id, "AKIDENV");
    cr_expect_str_eq(c.secret_access_key, "s3cr3t");
    cr_expect_null(c.session_token);
    np_aws_credentials_clean_up(&c);
    cr_expect_null(c.secret_access_key);
    setenv("AWS_SECURITY_TOKEN", "legacy", 1);
    cr_assert_eq(np_aws_credentials_from_env(&c), 0);
    cr_expect_str_eq(c.session_token, "legacy");
    np_aws_credentials_clean_up(&c);
    setenv("AWS_SESSION_TOKEN", "tok", 1);
    cr_assert_eq(np_aws_credentials_from_env(&c), 0);
    cr_expect_str_eq(c.session_token, "tok");
    np_aws_credentials_clean_up(&c);
}

Test(credentials, explicit_strings_are_validated)
{
    struct np_aws_credentials c;
    cr_expect_eq(np_aws_credentials_set(&c, "", "s", NULL), NP_EINVAL);
    cr_expect_eq(np_aws_credentials_set(&c, "AK", NULL, NULL), NP_EINVAL);
    cr_expect_eq(np_aws_credentials_set(&c, "AK", "s\r\nX-Injected: 1", NULL), NP_EINVAL);
    cr_expect_eq(np_aws_credentials_set(&c, "AK\n", "s", NULL), NP_EINVAL);
    cr_assert_eq(np_aws_credentials_set(&c, "AK", "s", ""), 0);
    cr_expect_null(c.session_token, "an empty token means none");
    struct np_aws_credentials d;
    cr_assert_eq(np_aws_credentials_copy(&d, &c), 0);
    cr_expect_str_eq(d.secret_access_key, "s");
    cr_expect_neq(d.secret_access_key, c.secret_access_key);
    np_aws_credentials_clean_up(&c);
    np_aws_credentials_clean_up(&d);
    np_aws_credentials_clean_up(&d); /* idempotent */
}

/* ---------------------------------------------------------------- endpoints */

static void expect_endpoint(const char *service, const char *region, const char *override,
                            const char *want)
{
    char *url = NULL;
    cr_assert_eq(np_aws_endpoint_resolve(&url, service, region, override), 0, "%s",
                 np_error_message());
    cr_expect_str_eq(url, want);
    free(url);
}

Test(endpoint, precedence_override_service_global_default, .init = clear_aws_env)
{
    expect_endpoint("ec2", "eu-west-1", NULL, "https://ec2.eu-west-1.amazonaws.com");
    expect_endpoint("sts", "cn-north-1", NULL, "https://sts.cn-north-1.amazonaws.com.cn");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000", 1);
    expect_endpoint("ec2", "eu-west-1", NULL, "http://127.0.0.1:5000");
    expect_endpoint("sts", "eu-west-1", NULL, "http://127.0.0.1:5000");
    setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:6000", 1);
    expect_endpoint("ec2", "eu-west-1", NULL, "http://127.0.0.1:6000");
    expect_endpoint("sts", "eu-west-1", NULL, "http://127.0.0.1:5000");
    expect_endpoint("ec2", "eu-west-1", "https://vpce-1.ec2.eu-west-1.vpce.amazonaws.com",
                    "https://vpce-1.ec2.eu-west-1.vpce.amazonaws.com");
    setenv("AWS_ENDPOINT_URL_RESOURCE_GROUPS", "http://127.0.0.1:7000", 1);
    expect_endpoint("resource-groups", "eu-west-1", NULL, "http://127.0.0.1:7000");
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    expect_endpoint("ec2", "eu-west-1", NULL, "https://ec2.eu-west-1.amazonaws.com");
    expect_endpoint("ec2", "eu-west-1", "http://override:1", "http://override:1");
}

Test(endpoint, invalid_inputs, .init = clear_aws_env)
{
    char *url = (char *)"untouched";
    cr_expect_eq(np_aws_endpoint_resolve(&url, "ec2", "", NULL), NP_EINVAL);
    cr_expect_null(url);
    cr_expect_eq(np_aws_endpoint_resolve(&url, "", "us-east-1", NULL), NP_EINVAL);
    cr_expect_eq(np_aws_endpoint_resolve(&url, "ec2", "us-east-1/../x", NULL), NP_EINVAL);
    cr_expect_eq(np_aws_endpoint_resolve(&url, "ec2", "us-east-1", "ftp://x"), NP_EINVAL);
    setenv("AWS_ENDPOINT_URL_EC2", "127.0.0.1:5000", 1);
    cr_expect_eq(np_aws_endpoint_resolve(&url, "ec2", "us-east-1", NULL), NP_EINVAL);
    cr_expect(strstr(np_error_message(), "AWS_ENDPOINT_URL_EC2") != NULL, "%s", np_error_message());
}

Test(client, config_errors, .init = clear_aws_env)
{
    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, "AK", "SK", NULL), 0);
    struct np_aws_ec2 *c = NULL;
    struct np_aws_ec2_config cfg = {.region = "us-east-1", .credentials = NULL};
    cr_expect_eq(np_aws_ec2_new(&c, &cfg), NP_EINVAL);
    cr_expect_null(c);
    cfg.credentials = &creds;
    cfg.region = NULL;
    cr_expect_eq(np_aws_ec2_new(&c, &cfg), NP_EINVAL);
    cfg.region = "us-east-1";
    cfg.endpoint = "http://[bad";
    cr_expect_eq(np_aws_ec2_new(&c, &cfg), NP_EINVAL);
    cfg.endpoint = "http://h:1/?x=1";
    cr_expect_eq(np_aws_ec2_new(&c, &cfg), NP_EINVAL);
    cfg.endpoint = NULL;
    cr_assert_eq(np_aws_ec2_new(&c, &cfg), 0);
    cr_expect_str_eq(np_aws_ec2_endpoint(c), EC2_URL);
    cr_expect_str_eq(np_aws_ec2_region(c), "us-east-1");
    np_aws_ec2_destroy(c);
    np_aws_credentials_clean_up(&creds);
}

/* ---------------------------------------------------------------- signing end to end */

static char *signed_value(const char *path, const char *name)
{
    char *text = fixture_read(path, NULL);
    size_t nl = strlen(name);
    char *out = NULL;
    for (char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, name, nl) == 0 && p[nl] == ':') {
            char *e = strchr(p, '\n');
            out = np_strndup(p + nl + 1, e ? (size_t)(e - p - nl - 1) : strlen(p + nl + 1));
            break;
        }
    }
    free(text);
    cr_assert_not_null(out, "%s has no %s line", path, name);
    return out;
}

static void check_ec2_vector(const char *dir, const char *token)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = fake_client(&f, EC2_URL, token);
    fake_net_push_file(&f, 200, FX "describe-security-groups.xml");
    const char *vals[] = {"vpc-0123456789abcdef0"};
    struct np_aws_filter filt = {"vpc-id", vals, 1};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_ec2_describe_security_groups(c, &sgs, &n, &filt, 1, NULL, 0), 0, "%s",
                 np_error_message());
    cr_expect_eq(n, 3);
    cr_assert_eq(f.n_requests, 1);

    char path[256];
    snprintf(path, sizeof(path), "%s/request.txt", dir);
    char *req = fixture_read(path, NULL);
    const char *want_body = strstr(req, "\n\n") + 2;
    cr_expect_str_eq(f.requests[0].body, want_body, "the form body the vector signed");
    snprintf(path, sizeof(path), "%s/header-signed-request.txt", dir);
    char *want_auth = signed_value(path, "Authorization");
    char *want_date = signed_value(path, "X-Amz-Date");
    char *want_ct = signed_value(path, "Content-Type");
    cr_expect_str_eq(fake_header(&f, 0, "Authorization"), want_auth);
    cr_expect_str_eq(fake_header(&f, 0, "X-Amz-Date"), want_date);
    cr_expect_str_eq(fake_header(&f, 0, "Content-Type"), want_ct);
    cr_expect_str_eq(fake_header(&f, 0, "Host"), "ec2.us-east-1.amazonaws.com");
    cr_expect_str_eq(f.requests[0].url, EC2_URL);
    if (token) {
        char *want_tok = signed_value(path, "X-Amz-Security-Token");
        cr_expect_str_eq(fake_header(&f, 0, "X-Amz-Security-Token"), want_tok);
        free(want_tok);
    } else {
        cr_expect_null(fake_header(&f, 0, "X-Amz-Security-Token"));
    }
    for (size_t i = 0; i < f.requests[0].n_headers; i++)
        cr_expect_null(strstr(f.requests[0].headers[i], "wJalrXUtnFEMI"), "secret sent");
    free(want_auth);
    free(want_date);
    free(want_ct);
    free(req);
    np_aws_sgs_free(sgs, n);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(client, describe_request_matches_the_ec2_sigv4_vector, .init = clear_aws_env)
{
    check_ec2_vector("tests/fixtures/sigv4/ec2-describe-security-groups", NULL);
}

Test(client, session_token_request_matches_the_ec2_sigv4_vector, .init = clear_aws_env)
{
    check_ec2_vector("tests/fixtures/sigv4/ec2-describe-security-groups-session-token",
                     "FQoGZXIvYXdzEXAMPLETOKEN==");
}

/* ---------------------------------------------------------------- retries */

Test(client, retries_throttling_5xx_and_network_then_succeeds, .init = clear_aws_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = fake_client(&f, EC2_URL, NULL);
    char *throttle = fixture_read(FX "crafted/error-request-limit-exceeded.xml", NULL);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 503, throttle);
    fake_net_push_file(&f, 500, FX "error-unknown-action-500.html");
    fake_net_push(&f, NP_AWS_TRANSPORT_NETWORK, 0, NULL);
    fake_net_push_file(&f, 200, FX "describe-vpcs.xml");
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_ec2_describe_vpcs(c, &vpcs, &n, NULL, 0), 0, "%s", np_error_message());
    cr_expect_eq(n, 2);
    cr_assert_eq(f.n_requests, 4);
    /* full jitter at its ceiling (fake rand returns n-1): throttle 500, then transient 200, 400 */
    cr_assert_eq(f.n_sleeps, 3);
    cr_expect_eq(f.sleeps[0], 500);
    cr_expect_eq(f.sleeps[1], 200);
    cr_expect_eq(f.sleeps[2], 400);
    cr_assert_eq(f.n_obs, 4);
    const char *codes[] = {"RequestLimitExceeded", "HTTP500", "NetworkError", "OK"};
    long statuses[] = {503, 500, 0, 200};
    for (size_t i = 0; i < 4; i++) {
        cr_expect_str_eq(f.obs_codes[i], codes[i]);
        cr_expect_str_eq(f.obs_actions[i], "DescribeVpcs");
        cr_expect_eq(f.obs_status[i], statuses[i]);
        cr_expect_eq(f.obs_attempt[i], (int)i + 1);
        cr_expect_eq(f.obs_duration[i], 7, "duration from the injected monotonic clock");
        cr_expect_str_eq(f.requests[i].body, f.requests[0].body, "same body every attempt");
    }
    /* each attempt is signed afresh with the (advanced) clock */
    cr_expect_str_neq(fake_header(&f, 0, "X-Amz-Date"), fake_header(&f, 3, "X-Amz-Date"));
    cr_expect_str_neq(fake_header(&f, 0, "Authorization"), fake_header(&f, 3, "Authorization"));
    const struct np_aws_error *e = np_aws_error_last();
    cr_expect_str_eq(e->code, "");
    cr_expect_eq(e->attempts, 4);
    cr_expect_eq(e->http_status, 200);
    cr_expect_eq(np_aws_ec2_retry_quota_available(c), 500, "a success refunds what it took");
    free(throttle);
    np_aws_vpcs_free(vpcs, n);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(client, throttling_gives_up_after_four_attempts, .init = clear_aws_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = fake_client(&f, EC2_URL, NULL);
    char *throttle = fixture_read(FX "crafted/error-request-limit-exceeded.xml", NULL);
    for (int i = 0; i < 6; i++)
        fake_net_push(&f, NP_AWS_TRANSPORT_OK, 503, throttle);
    cr_expect_eq(np_aws_ec2_delete_security_group(c, "sg-1"), NP_ETHROTTLED);
    cr_expect_eq(f.n_requests, 4);
    cr_expect_eq(f.n_sleeps, 3);
    cr_expect_eq(f.sleeps[2], 2000);
    const struct np_aws_error *e = np_aws_error_last();
    cr_expect_str_eq(e->code, "RequestLimitExceeded");
    cr_expect_str_eq(e->message, "Request limit exceeded.");
    cr_expect_str_eq(e->action, "DeleteSecurityGroup");
    cr_expect_str_eq(e->request_id, "d3b2c1a0-0000-4000-8000-000000000002");
    cr_expect_eq(e->http_status, 503);
    cr_expect_eq(e->attempts, 4);
    cr_expect(np_aws_error_is("RequestLimitExceeded"));
    cr_expect_eq(np_aws_ec2_retry_quota_available(c), 500 - 3 * 5, "three retries cost 15");
    cr_expect(strstr(np_error_message(), "DeleteSecurityGroup: RequestLimitExceeded") != NULL, "%s",
              np_error_message());
    free(throttle);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(client, client_errors_are_not_retried, .init = clear_aws_env)
{
    struct {
        const char *file;
        long status;
        int want;
        const char *code;
    } cases[] = {
        {FX "error-invalid-permission-duplicate.xml", 400, NP_EEXIST,
         "InvalidPermission.Duplicate"},
        {FX "error-invalid-group-notfound.xml", 400, NP_ENOTFOUND, "InvalidGroup.NotFound"},
        {FX "error-auth-failure.xml", 401, NP_EAUTH, "AuthFailure"},
        {FX "error-sts-signature-does-not-match.xml", 403, NP_EAUTH, "SignatureDoesNotMatch"},
    };
    struct np_aws_perm perm = {.protocol = (char *)"tcp",
                               .has_ports = true,
                               .from_port = 22,
                               .to_port = 22,
                               .peer_kind = NP_AWS_PEER_CIDR4,
                               .peer = (char *)"10.9.0.0/16"};
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct fake_net f;
        fake_net_init(&f);
        struct np_aws_ec2 *c = fake_client(&f, EC2_URL, NULL);
        fake_net_push_file(&f, cases[i].status, cases[i].file);
        cr_expect_eq(np_aws_ec2_authorize_ingress(c, "sg-1", &perm, 1), cases[i].want, "%s",
                     cases[i].file);
        cr_expect_eq(f.n_requests, 1, "%s retried", cases[i].file);
        cr_expect_eq(f.n_sleeps, 0);
        cr_expect(np_aws_error_is(cases[i].code), "%s", np_aws_error_last()->code);
        cr_expect_str_eq(f.obs_codes[0], cases[i].code);
        cr_expect(strstr(np_error_message(), cases[i].code) != NULL, "%s", np_error_message());
        np_aws_ec2_destroy(c);
        fake_net_clean_up(&f);
    }
}

Test(client, fatal_transport_error_is_eio_without_retry, .init = clear_aws_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = fake_client(&f, EC2_URL, NULL);
    fake_net_push(&f, NP_AWS_TRANSPORT_FATAL, 0, NULL);
    char *account = NULL;
    cr_expect_eq(np_aws_sts_get_caller_identity(c, &account, NULL), NP_EIO);
    cr_expect_null(account);
    cr_expect_eq(f.n_requests, 1);
    cr_expect_str_eq(f.obs_codes[0], "NetworkError");
    cr_expect_eq(np_aws_error_last()->http_status, 0);
    cr_expect(strstr(np_error_message(), "cannot reach") != NULL, "%s", np_error_message());
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(client, timeouts_are_retried_and_reported, .init = clear_aws_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = fake_client(&f, EC2_URL, NULL);
    for (int i = 0; i < 4; i++)
        fake_net_push(&f, NP_AWS_TRANSPORT_TIMEOUT, 0, NULL);
    cr_expect_eq(np_aws_ec2_delete_security_group(c, "sg-1"), NP_EIO);
    cr_expect_eq(f.n_requests, 4);
    cr_expect_str_eq(f.obs_codes[3], "Timeout");
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

/* ---------------------------------------------------------------- operations */

struct op_fixture {
    struct fake_net f;
    struct np_aws_ec2 *c;
};

static void op_begin(struct op_fixture *o)
{
    clear_aws_env();
    fake_net_init(&o->f);
    o->c = fake_client(&o->f, "http://127.0.0.1:5000", NULL);
}

static void op_end(struct op_fixture *o)
{
    np_aws_ec2_destroy(o->c);
    fake_net_clean_up(&o->f);
}

Test(ops, authorize_ingress_serialises_atomic_perms_once_each)
{
    struct op_fixture o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "authorize-security-group-ingress.xml");
    struct np_aws_perm perms[] = {
        {(char *)"tcp", true, 443, 443, NP_AWS_PEER_CIDR4, (char *)"10.0.0.0/8", NULL,
         (char *)"https from the VPC"},
        {(char *)"tcp", true, 443, 443, NP_AWS_PEER_CIDR6, (char *)"2001:db8::/32", NULL, NULL},
        {(char *)"TCP", true, 443, 443, NP_AWS_PEER_CIDR4, (char *)"10.0.0.0/8", NULL,
         (char *)"a repeat (dropped)"},
        {(char *)"-1", false, 0, 0, NP_AWS_PEER_PREFIX_LIST, (char *)"pl-63a5400a", NULL, NULL},
        {(char *)"tcp", true, 5432, 5432, NP_AWS_PEER_GROUP, (char *)"sg-web",
         (char *)"123456789012", (char *)"db & web"},
        {(char *)"icmp", true, 3, 4, NP_AWS_PEER_CIDR4, (char *)"0.0.0.0/0", NULL, NULL},
    };
    cr_assert_eq(np_aws_ec2_authorize_ingress(o.c, "sg-0abc", perms, NP_ARRAY_LEN(perms)), 0, "%s",
                 np_error_message());
    cr_assert_eq(o.f.n_requests, 1);
    cr_expect_str_eq(
        o.f.requests[0].body,
        "Action=AuthorizeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-0abc"
        "&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443&IpPermissions.1.ToPort=443"
        "&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8"
        "&IpPermissions.1.IpRanges.1.Description=https+from+the+VPC"
        "&IpPermissions.2.IpProtocol=tcp&IpPermissions.2.FromPort=443&IpPermissions.2.ToPort=443"
        "&IpPermissions.2.Ipv6Ranges.1.CidrIpv6=2001%3Adb8%3A%3A%2F32"
        "&IpPermissions.3.IpProtocol=-1&IpPermissions.3.PrefixListIds.1.PrefixListId=pl-63a5400a"
        "&IpPermissions.4.IpProtocol=tcp&IpPermissions.4.FromPort=5432"
        "&IpPermissions.4.ToPort=5432&IpPermissions.4.Groups.1.GroupId=sg-web"
        "&IpPermissions.4.Groups.1.UserId=123456789012"
        "&IpPermissions.4.Groups.1.Description=db+%26+web"
        "&IpPermissions.5.IpProtocol=icmp&IpPermissions.5.FromPort=3&IpPermissions.5.ToPort=4"
        "&IpPermissions.5.IpRanges.1.CidrIp=0.0.0.0%2F0");
    cr_expect_str_eq(o.f.requests[0].url, "http://127.0.0.1:5000");
    cr_expect_str_eq(fake_header(&o.f, 0, "Host"), "127.0.0.1:5000");
    cr_expect(strstr(fake_header(&o.f, 0, "Authorization"), "/us-east-1/ec2/aws4_request") != NULL);
    op_end(&o);
}

Test(ops, egress_and_revoke_variants)
{
    struct op_fixture o;
    op_begin(&o);
    struct np_aws_perm perm = {(char *)"udp",         true, 53,           53, NP_AWS_PEER_CIDR4,
                               (char *)"10.1.0.2/32", NULL, (char *)"dns"};
    fake_net_push(&o.f, NP_AWS_TRANSPORT_OK, 200,
                  "<AuthorizeSecurityGroupEgressResponse><return>true</return>"
                  "</AuthorizeSecurityGroupEgressResponse>");
    fake_net_push_file(&o.f, 200, FX "revoke-security-group-ingress.xml");
    fake_net_push(&o.f, NP_AWS_TRANSPORT_OK, 200,
                  "<RevokeSecurityGroupEgressResponse><return>true</return>"
                  "</RevokeSecurityGroupEgressResponse>");
    cr_assert_eq(np_aws_ec2_authorize_egress(o.c, "sg-1", &perm, 1), 0, "%s", np_error_message());
    cr_assert_eq(np_aws_ec2_revoke_ingress(o.c, "sg-1", &perm, 1), 0, "%s", np_error_message());
    cr_assert_eq(np_aws_ec2_revoke_egress(o.c, "sg-1", &perm, 1), 0, "%s", np_error_message());
    cr_assert_eq(o.f.n_requests, 3);
    cr_expect(np_str_has_prefix(o.f.requests[0].body, "Action=AuthorizeSecurityGroupEgress&"));
    cr_expect(strstr(o.f.requests[0].body, "IpRanges.1.Description=dns") != NULL);
    cr_expect_str_eq(o.f.requests[1].body,
                     "Action=RevokeSecurityGroupIngress&Version=2016-11-15&GroupId=sg-1"
                     "&IpPermissions.1.IpProtocol=udp&IpPermissions.1.FromPort=53"
                     "&IpPermissions.1.ToPort=53&IpPermissions.1.IpRanges.1.CidrIp=10.1.0.2%2F32"
                     "&IpPermissions.1.IpRanges.1.Description=dns");
    cr_expect(np_str_has_prefix(o.f.requests[2].body, "Action=RevokeSecurityGroupEgress&"));
    cr_expect(strstr(o.f.requests[2].body, "Description=dns") != NULL,
              "revoke sends descriptions (moto matches on them)");
    /* zero perms: nothing is sent */
    cr_expect_eq(np_aws_ec2_revoke_ingress(o.c, "sg-1", NULL, 0), 0);
    cr_expect_eq(o.f.n_requests, 3);
    /* missing group id */
    cr_expect_eq(np_aws_ec2_authorize_ingress(o.c, "", &perm, 1), NP_EINVAL);
    struct np_aws_perm no_peer = {(char *)"tcp", false, 0, 0, NP_AWS_PEER_CIDR4, NULL, NULL, NULL};
    cr_expect_eq(np_aws_ec2_authorize_ingress(o.c, "sg-1", &no_peer, 1), NP_EINVAL);
    cr_expect_eq(o.f.n_requests, 3);
    op_end(&o);
}

Test(ops, revoke_with_unknown_permissions_is_not_found)
{
    struct op_fixture o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "crafted/revoke-unknown-permissions.xml");
    struct np_aws_perm perm = {
        (char *)"tcp", true, 22, 22, NP_AWS_PEER_CIDR4, (char *)"198.51.100.0/24", NULL, NULL};
    cr_expect_eq(np_aws_ec2_revoke_ingress(o.c, "sg-1", &perm, 1), NP_ENOTFOUND);
    cr_expect(np_aws_error_is("InvalidPermission.NotFound"));
    cr_expect(strstr(np_error_message(), "unknownIpPermissionSet") != NULL, "%s",
              np_error_message());
    op_end(&o);
}

Test(ops, update_rule_descriptions_use_ip_permissions)
{
    struct op_fixture o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "update-rule-descriptions-ingress.xml");
    fake_net_push(&o.f, NP_AWS_TRANSPORT_OK, 200,
                  "<UpdateSecurityGroupRuleDescriptionsEgressResponse><return>true</return>"
                  "</UpdateSecurityGroupRuleDescriptionsEgressResponse>");
    struct np_aws_perm perm = {
        (char *)"tcp",   true, 443, 443, NP_AWS_PEER_CIDR4, (char *)"192.168.0.0/16", NULL,
        (char *)"office"};
    cr_assert_eq(np_aws_ec2_update_rule_descriptions_ingress(o.c, "sg-1", &perm, 1), 0, "%s",
                 np_error_message());
    cr_assert_eq(np_aws_ec2_update_rule_descriptions_egress(o.c, "sg-1", &perm, 1), 0, "%s",
                 np_error_message());
    cr_expect_str_eq(
        o.f.requests[0].body,
        "Action=UpdateSecurityGroupRuleDescriptionsIngress&Version=2016-11-15"
        "&GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=443"
        "&IpPermissions.1.ToPort=443&IpPermissions.1.IpRanges.1.CidrIp=192.168.0.0%2F16"
        "&IpPermissions.1.IpRanges.1.Description=office");
    cr_expect(np_str_has_prefix(o.f.requests[1].body,
                                "Action=UpdateSecurityGroupRuleDescriptionsEgress&"));
    op_end(&o);
}

Test(ops, create_security_group_with_tags)
{
    struct op_fixture o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "create-security-group.xml");
    struct np_aws_tag tags[] = {{(char *)"netposture.dev/owner", (char *)"shop/web"},
                                {(char *)"team", (char *)""}};
    char *id = NULL;
    cr_assert_eq(
        np_aws_ec2_create_security_group(o.c, &id, "shop-web", "web tier & more", "vpc-1", tags, 2),
        0, "%s", np_error_message());
    cr_expect_str_eq(id, "sg-d397edf6973abdfda");
    cr_expect_str_eq(o.f.requests[0].body,
                     "Action=CreateSecurityGroup&Version=2016-11-15&GroupName=shop-web"
                     "&GroupDescription=web+tier+%26+more&VpcId=vpc-1"
                     "&TagSpecification.1.ResourceType=security-group"
                     "&TagSpecification.1.Tag.1.Key=netposture.dev%2Fowner"
                     "&TagSpecification.1.Tag.1.Value=shop%2Fweb"
                     "&TagSpecification.1.Tag.2.Key=team&TagSpecification.1.Tag.2.Value=");
    free(id);
    cr_expect_eq(np_aws_ec2_create_security_group(o.c, &id, "x", "", NULL, NULL, 0), NP_EINVAL);
    cr_expect_null(id);
    op_end(&o);
}

/* A create without ClientToken whose outcome is unknown is not repeated (it may exist now). */
Test(ops, creates_without_client_token_are_not_repeated_after_unknown_outcomes)
{
    struct op_fixture o;
    op_begin(&o);
    fake_net_push_file(&o.f, 500, FX "error-unknown-action-500.html");
    char *id = NULL;
    cr_expect_neq(np_aws_ec2_create_security_group(o.c, &id, "web", "web", "vpc-1", NULL, 0), 0);
    cr_expect_null(id);
    cr_expect_eq(o.f.n_requests, 1, "a 500 on CreateSecurityGroup is not retried");
    fake_net_push(&o.f, NP_AWS_TRANSPORT_TIMEOUT, 0, NULL);
    cr_expect_neq(np_aws_ec2_create_vpc(o.c, &id, "10.0.0.0/16", NULL, 0), 0);
    cr_expect_eq(o.f.n_requests, 2, "a timed-out CreateVpc is not retried");
    fake_net_push(&o.f, NP_AWS_TRANSPORT_NETWORK, 0, NULL);
    cr_expect_neq(np_aws_ec2_create_subnet(o.c, &id, "vpc-1", "10.0.1.0/24", NULL, NULL, 0), 0);
    cr_expect_eq(o.f.n_requests, 3, "a CreateSubnet cut off is not retried");
    cr_expect_null(id);
    /* Throttling means AWS refused it: that is still retried. */
    char *throttle = fixture_read(FX "crafted/error-request-limit-exceeded.xml", NULL);
    fake_net_push(&o.f, NP_AWS_TRANSPORT_OK, 503, throttle);
    fake_net_push_file(&o.f, 200, FX "create-security-group.xml");
    cr_expect_eq(np_aws_ec2_create_security_group(o.c, &id, "web", "web", "vpc-1", NULL, 0), 0,
                 "%s", np_error_message());
    cr_expect_eq(o.f.n_requests, 5);
    free(id);
    free(throttle);
    cr_expect(np_aws_action_is_repeatable("DescribeVpcs"));
    cr_expect(np_aws_action_is_repeatable("CreateRouteTable"));
    cr_expect_not(np_aws_action_is_repeatable("CreateVpc"));
    op_end(&o);
}

Test(ops, delete_group_and_dependency_violation)
{
    struct op_fixture o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "delete-security-group.xml");
    fake_net_push(&o.f, NP_AWS_TRANSPORT_OK, 400,
                  "<Response><Errors><Error><Code>DependencyViolation</Code><Message>resource "
                  "sg-1 has a dependent object</Message></Error></Errors><RequestID>r1</RequestID>"
                  "</Response>");
    cr_expect_eq(np_aws_ec2_delete_security_group(o.c, "sg-1"), 0, "%s", np_error_message());
    cr_expect_str_eq(o.f.requests[0].body,
                     "Action=DeleteSecurityGroup&Version=2016-11-15&GroupId=sg-1");
    cr_expect_eq(np_aws_ec2_delete_security_group(o.c, "sg-1"), NP_EDEPENDENCY);
    cr_expect_str_eq(np_aws_error_last()->request_id, "r1");
    cr_expect_eq(np_aws_ec2_delete_security_group(o.c, NULL), NP_EINVAL);
    op_end(&o);
}

Test(ops, tags_create_and_delete)
{
    struct op_fixture o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "create-tags.xml");
    fake_net_push(&o.f, NP_AWS_TRANSPORT_OK, 200, "<DeleteTagsResponse/>");
    struct np_aws_tag tags[] = {{(char *)"team", (char *)"shop"},
                                {(char *)"a b", (char *)"c=d \xc3\xbc~*"}};
    cr_assert_eq(np_aws_ec2_create_tags(o.c, "sg-1", tags, 2), 0, "%s", np_error_message());
    const char *keys[] = {"team", "netposture.dev/uid"};
    cr_assert_eq(np_aws_ec2_delete_tags(o.c, "sg-1", keys, 2), 0, "%s", np_error_message());
    cr_expect_str_eq(o.f.requests[0].body,
                     "Action=CreateTags&Version=2016-11-15&ResourceId.1=sg-1&Tag.1.Key=team"
                     "&Tag.1.Value=shop&Tag.2.Key=a+b&Tag.2.Value=c%3Dd+%C3%BC~%2A");
    cr_expect_str_eq(o.f.requests[1].body,
                     "Action=DeleteTags&Version=2016-11-15&ResourceId.1=sg-1&Tag.1.Key=team"
                     "&Tag.2.Key=netposture.dev%2Fuid");
    /* no keys: never sent (DeleteTags without keys deletes every tag) */
    cr_expect_eq(np_aws_ec2_delete_tags(o.c, "sg-1", NULL, 0), 0);
    cr_expect_eq(np_aws_ec2_create_tags(o.c, "sg-1", NULL, 0), 0);
    cr_expect_eq(o.f.n_requests, 2);
    op_end(&o);
}

Test(ops, describe_groups_paginates_through_the_client)
{
    struct op_fixture o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "crafted/describe-security-groups-page1.xml");
    fake_net_push_file(&o.f, 200, FX "crafted/describe-security-groups-page2.xml");
    const char *owner[] = {"shop/web", "shop/db"};
    struct np_aws_filter filters[] = {{"tag:netposture.dev/owner", owner, 2},
                                      {"vpc-id", (const char *[]){"vpc-1"}, 1}};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_ec2_describe_security_groups(o.c, &sgs, &n, filters, 2, NULL, 0), 0, "%s",
                 np_error_message());
    cr_expect_eq(n, 3);
    cr_assert_eq(o.f.n_requests, 2);
    const char *first = "Action=DescribeSecurityGroups&Version=2016-11-15"
                        "&Filter.1.Name=tag%3Anetposture.dev%2Fowner&Filter.1.Value.1=shop%2Fweb"
                        "&Filter.1.Value.2=shop%2Fdb&Filter.2.Name=vpc-id&Filter.2.Value.1=vpc-1"
                        "&MaxResults=1000";
    cr_expect_str_eq(o.f.requests[0].body, first);
    char *second = np_strdupf("%s&NextToken=np-page-2+token%%2F%%2B%%3D", first);
    cr_expect_str_eq(o.f.requests[1].body, second);
    free(second);
    np_aws_sgs_free(sgs, n);
    op_end(&o);
}

Test(ops, describe_groups_by_id_omits_max_results)
{
    struct op_fixture o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "describe-security-groups.xml");
    const char *ids[] = {"sg-1", "sg-2"};
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_ec2_describe_security_groups(o.c, &sgs, &n, NULL, 0, ids, 2), 0);
    cr_expect_str_eq(o.f.requests[0].body,
                     "Action=DescribeSecurityGroups&Version=2016-11-15&GroupId.1=sg-1"
                     "&GroupId.2=sg-2");
    np_aws_sgs_free(sgs, n);
    /* a failing page returns nothing and leaks nothing */
    fake_net_push_file(&o.f, 200, FX "crafted/describe-security-groups-page1.xml");
    fake_net_push_file(&o.f, 400, FX "error-invalid-group-notfound.xml");
    sgs = (struct np_aws_sg *)0x1;
    cr_expect_eq(np_aws_ec2_describe_security_groups(o.c, &sgs, &n, NULL, 0, NULL, 0),
                 NP_ENOTFOUND);
    cr_expect_null(sgs);
    cr_expect_eq(n, 0);
    op_end(&o);
}

Test(ops, describe_vpcs_with_filter)
{
    struct op_fixture o;
    op_begin(&o);
    fake_net_push_file(&o.f, 200, FX "describe-vpcs.xml");
    struct np_aws_filter f = {"is-default", (const char *[]){"true"}, 1};
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_ec2_describe_vpcs(o.c, &vpcs, &n, &f, 1), 0);
    cr_expect_str_eq(o.f.requests[0].body,
                     "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=is-default"
                     "&Filter.1.Value.1=true&MaxResults=1000");
    cr_expect_eq(n, 2);
    np_aws_vpcs_free(vpcs, n);
    op_end(&o);
}

Test(ops, sts_get_caller_identity_goes_to_sts)
{
    clear_aws_env();
    setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:7777/sts-path", 1);
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2 *c = fake_client(&f, NULL, NULL);
    fake_net_push_file(&f, 200, FX "sts-get-caller-identity.xml");
    char *account = NULL, *arn = NULL;
    cr_assert_eq(np_aws_sts_get_caller_identity(c, &account, &arn), 0, "%s", np_error_message());
    cr_expect_str_eq(account, "123456789012");
    cr_expect_str_eq(arn, "arn:aws:sts::123456789012:user/moto");
    cr_expect_str_eq(f.requests[0].url, "http://127.0.0.1:7777/sts-path");
    cr_expect_str_eq(fake_header(&f, 0, "Host"), "127.0.0.1:7777");
    cr_expect_str_eq(f.requests[0].body, "Action=GetCallerIdentity&Version=2011-06-15");
    cr_expect(strstr(fake_header(&f, 0, "Authorization"), "/us-east-1/sts/aws4_request") != NULL);
    cr_expect_str_eq(f.obs_actions[0], "GetCallerIdentity");
    cr_expect_str_eq(np_aws_ec2_endpoint(c), EC2_URL, "EC2 still resolves on its own");
    free(account);
    free(arn);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(types, sg_dup_is_deep_and_same_rule_ignores_description)
{
    size_t len = 0;
    char *xml = fixture_read(FX "describe-security-groups.xml", &len);
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_xml_decode_sg_page(xml, len, &sgs, &n, NULL), 0);
    struct np_aws_sg *copy = np_aws_sg_dup(&sgs[1]);
    np_aws_sgs_free(sgs, n);
    free(xml);
    cr_expect_str_eq(copy->group_name, "shop-web");
    cr_assert_eq(copy->n_ingress, 5);
    cr_expect_str_eq(copy->ingress[0].description, "https from the VPC");
    cr_expect_str_eq(copy->tags[1].value, "shop/web");
    struct np_aws_perm other;
    np_aws_perm_copy(&other, &copy->ingress[0]);
    free(other.description);
    other.description = np_strdup("changed");
    cr_expect(np_aws_perm_is_same_rule(&other, &copy->ingress[0]));
    other.to_port = 444;
    cr_expect_not(np_aws_perm_is_same_rule(&other, &copy->ingress[0]));
    np_aws_perm_clean_up(&other);
    cr_expect_not(np_aws_perm_is_same_rule(&copy->ingress[0], &copy->ingress[1]));
    np_aws_sg_free(copy);
}

static void expect_same_perms(const struct np_aws_perm *a, const struct np_aws_perm *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cr_expect(np_aws_perm_is_same_rule(&a[i], &b[i]), "perm %zu", i);
        cr_expect(np_str_eq(a[i].description, b[i].description), "perm %zu", i);
        cr_expect_neq((void *)a[i].peer, (void *)b[i].peer);
    }
}

/* A packed copy equals the original field by field (NULLs included), owns every string (the
 * original is freed first) and is released by one free() (ASan would report the rest). */
Test(types, sg_pack_is_one_allocation_equal_to_the_original)
{
    size_t len = 0;
    char *xml = fixture_read(FX "describe-security-groups.xml", &len);
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_xml_decode_sg_page(xml, len, &sgs, &n, NULL), 0);
    free(xml);
    for (size_t i = 0; i < n; i++) {
        struct np_aws_sg *ref = np_aws_sg_dup(&sgs[i]), *packed = np_aws_sg_pack(&sgs[i]);
        np_aws_sgs_free(i + 1 == n ? sgs : NULL, n); /* the last round frees the source */
        cr_expect_str_eq(packed->group_id, ref->group_id);
        cr_expect(np_str_eq(packed->group_name, ref->group_name));
        cr_expect(np_str_eq(packed->description, ref->description));
        cr_expect(np_str_eq(packed->vpc_id, ref->vpc_id));
        cr_expect(np_str_eq(packed->owner_id, ref->owner_id));
        cr_assert_eq(packed->n_tags, ref->n_tags);
        for (size_t t = 0; t < ref->n_tags; t++) {
            cr_expect_str_eq(packed->tags[t].key, ref->tags[t].key);
            cr_expect(np_str_eq(packed->tags[t].value, ref->tags[t].value));
        }
        cr_assert_eq(packed->n_ingress, ref->n_ingress);
        cr_assert_eq(packed->n_egress, ref->n_egress);
        expect_same_perms(packed->ingress, ref->ingress, ref->n_ingress);
        expect_same_perms(packed->egress, ref->egress, ref->n_egress);
        free(packed);
        np_aws_sg_free(ref);
    }
    cr_expect_gt(n, 1);
    cr_expect_null(np_aws_sg_pack(NULL));
}

/* ---------------------------------------------------------------- fencing */

static bool gate_open;

static bool test_gate(void *ctx)
{
    (void)ctx;
    return gate_open;
}

/* The clients call only the actions of pkg/aws/actions.c (what the IAM policy grants): any
 * other is refused before a request is made. */
Test(client, an_action_outside_the_iam_table_is_refused_before_any_request, .init = clear_aws_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2_config base = {.endpoint = EC2_URL};
    struct np_aws_ec2 *c = fake_client_cfg(&f, &base);
    struct np_buf form = NP_BUF_INIT, body = NP_BUF_INIT;
    cr_assert_eq(np_aws_form_begin(&form, "TerminateInstances", "2016-11-15"), 0);
    cr_expect_eq(np_aws_query_call(c, NP_AWS_SERVICE_EC2, "TerminateInstances", &form, &body),
                 NP_EINVAL);
    cr_expect(strstr(np_error_message(), "not an action the IAM policy grants") != NULL, "%s",
              np_error_message());
    cr_expect_eq(f.n_requests, 0, "a request was sent");
    cr_expect(np_aws_action_known("ec2", "DescribeSecurityGroups"));
    cr_expect_not(np_aws_action_known("sqs", "DescribeSecurityGroups"));
    cr_expect_not(np_aws_action_known(NULL, "CreateVpc"));
    np_buf_clean_up(&form);
    np_buf_clean_up(&body);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}

Test(client, a_closed_mutation_gate_sends_no_mutation_but_lets_reads_through, .init = clear_aws_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_ec2_config base = {.endpoint = EC2_URL, .mutation_gate = test_gate};
    struct np_aws_ec2 *c = fake_client_cfg(&f, &base);
    struct np_buf form = NP_BUF_INIT, body = NP_BUF_INIT;
    gate_open = false;
    cr_assert_eq(np_aws_form_begin(&form, "AuthorizeSecurityGroupIngress", "2016-11-15"), 0);
    cr_expect_eq(
        np_aws_query_call(c, NP_AWS_SERVICE_EC2, "AuthorizeSecurityGroupIngress", &form, &body),
        NP_EDENIED);
    cr_expect(strstr(np_error_message(), "leader lease") != NULL, "%s", np_error_message());
    cr_expect_str_eq(np_aws_error_last()->code, "Fenced");
    cr_expect_eq(f.n_requests, 0, "nothing sent while fenced");
    np_buf_clean_up(&form);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "<DescribeSecurityGroupsResponse/>");
    cr_assert_eq(np_aws_form_begin(&form, "DescribeSecurityGroups", "2016-11-15"), 0);
    cr_expect_eq(np_aws_query_call(c, NP_AWS_SERVICE_EC2, "DescribeSecurityGroups", &form, &body),
                 0, "%s", np_error_message());
    cr_expect_eq(f.n_requests, 1, "reads are not fenced");
    np_buf_clean_up(&form);
    gate_open = true;
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "<AuthorizeSecurityGroupIngressResponse/>");
    cr_assert_eq(np_aws_form_begin(&form, "AuthorizeSecurityGroupIngress", "2016-11-15"), 0);
    cr_expect_eq(
        np_aws_query_call(c, NP_AWS_SERVICE_EC2, "AuthorizeSecurityGroupIngress", &form, &body), 0,
        "%s", np_error_message());
    cr_expect_eq(f.n_requests, 2);
    np_buf_clean_up(&form);
    np_buf_clean_up(&body);
    np_aws_ec2_destroy(c);
    fake_net_clean_up(&f);
}
