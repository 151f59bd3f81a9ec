/*
 * Unit tests for the endpoint policy and region names: plain HTTP only to loopback hosts
 * unless allowed, https always; AWS region names by pattern.
 */
#include "aws_test.h"

#include <criterion/criterion.h>

Test(aws_endpoint_check, https_is_always_accepted)
{
    cr_assert_eq(np_aws_endpoint_check("https://ec2.eu-west-1.amazonaws.com", false), 0);
    cr_assert_eq(np_aws_endpoint_check("HTTPS://vpce-1.ec2.example.internal:8443/x", false), 0);
}

Test(aws_endpoint_check, plain_http_only_to_loopback)
{
    static const char *const loopback[] = {
        "http://127.0.0.1:5000", "http://127.8.9.10",  "http://localhost:4566",
        "http://LOCALHOST/",     "http://[::1]:5000/", "http://127.0.0.1:5000/123456789012/q",
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(loopback); i++)
        cr_assert_eq(np_aws_endpoint_check(loopback[i], false), 0, "%s: %s", loopback[i],
                     np_error_message());
    static const char *const remote[] = {
        "http://example.invalid",
        "http://10.0.0.1:5000",
        "http://128.0.0.1",
        "http://[::2]/",
        "http://localhost.example.com/",
        "http://127.0.0.1.example.com",
        "http://[::ffff:10.0.0.1]:80",
        "http://sqs.eu-west-1.amazonaws.com/1/q",
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(remote); i++) {
        cr_assert_eq(np_aws_endpoint_check(remote[i], false), NP_EDENIED, "%s", remote[i]);
        cr_assert_not_null(strstr(np_error_message(), "allowInsecureEndpoint"), "%s",
                           np_error_message());
        /* The account may opt in; TLS is not involved either way. */
        cr_assert_eq(np_aws_endpoint_check(remote[i], true), 0, "%s", remote[i]);
    }
}

Test(aws_endpoint_check, other_schemes_and_garbage_are_invalid)
{
    static const char *const bad[] = {"ftp://127.0.0.1/", "file:///etc/passwd", "", "not a url",
                                      "http://"};
    for (size_t i = 0; i < NP_ARRAY_LEN(bad); i++)
        cr_assert_eq(np_aws_endpoint_check(bad[i], true), NP_EINVAL, "%s", bad[i]);
    cr_assert_eq(np_aws_endpoint_check(NULL, true), NP_EINVAL);
}

Test(aws_region, names_follow_the_aws_pattern)
{
    static const char *const good[] = {"eu-west-1",      "us-east-1",      "us-gov-west-1",
                                       "cn-north-1",     "ap-southeast-5", "us-isob-east-1",
                                       "us-iso-east-1",  "eu-isoe-west-1", "me-central-1",
                                       "ap-northeast-3", "mx-central-1",   "il-central-1"};
    for (size_t i = 0; i < NP_ARRAY_LEN(good); i++)
        cr_assert(np_aws_region_is_valid(good[i]), "%s", good[i]);
    static const char *const bad[] = {
        "",           "eu-west",  "eu-west-1a",       "EU-WEST-1",   "eu-west-1 ",
        "eu_west_1",  "local",    "us-east-123",      "a-b-c-d-e-1", "eu-west-1/..",
        "eu--west-1", "e-west-1", "us-gov-gov-west-1"};
    for (size_t i = 0; i < NP_ARRAY_LEN(bad); i++)
        cr_assert_not(np_aws_region_is_valid(bad[i]), "\"%s\"", bad[i]);
    cr_assert_not(np_aws_region_is_valid(NULL));
}
