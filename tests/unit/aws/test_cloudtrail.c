/*
 * CloudTrail client tests: the JSON 1.1 LookupEvents request (target, content type, signing
 * scope, body, endpoint override), the answer and error decoders, retries, and the client-side
 * bucket of 2 LookupEvents per second.
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_ID "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a"
#define ANSWER                                                                                     \
    "{\"Events\":[{\"EventId\":\"other\",\"CloudTrailEvent\":\"{}\"},"                             \
    "{\"EventId\":\"" EVENT_ID "\",\"EventName\":\"AuthorizeSecurityGroupIngress\","               \
    "\"EventTime\":1.7e9,\"CloudTrailEvent\":\"{\\\"eventID\\\":\\\"" EVENT_ID "\\\"}\"}]}"

static void clear_env(void)
{
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_CLOUDTRAIL");
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
}

Test(cloudtrail, lookup_by_event_id_in_the_json_protocol, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_cloudtrail *ct = fake_cloudtrail(&f, NULL);
    cr_expect_str_eq(np_aws_cloudtrail_endpoint(ct), "https://cloudtrail.us-east-1.amazonaws.com");
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, ANSWER);
    char *record = NULL;
    cr_assert_eq(np_aws_cloudtrail_lookup_event(ct, EVENT_ID, &record), 0, "%s",
                 np_error_message());
    cr_expect_str_eq(record, "{\"eventID\":\"" EVENT_ID "\"}");
    free(record);

    cr_assert_eq(f.n_requests, 1);
    cr_expect_str_eq(f.requests[0].url, "https://cloudtrail.us-east-1.amazonaws.com");
    cr_expect_str_eq(fake_header(&f, 0, "X-Amz-Target"),
                     "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents");
    cr_expect_str_eq(fake_header(&f, 0, "Content-Type"), "application/x-amz-json-1.1");
    const char *auth = fake_header(&f, 0, "Authorization");
    cr_expect(strstr(auth, "/us-east-1/cloudtrail/aws4_request") != NULL, "%s", auth);
    cr_expect(strstr(auth, "x-amz-target") != NULL, "the target is signed: %s", auth);
    json_object *req = json_tokener_parse(f.requests[0].body);
    cr_assert_not_null(req, "%s", f.requests[0].body);
    json_object *attr =
        json_object_array_get_idx(np_json_path(req, "LookupAttributes", NP_JSON_END), 0);
    cr_expect_str_eq(np_json_path_str(attr, "AttributeKey", NP_JSON_END), "EventId");
    cr_expect_str_eq(np_json_path_str(attr, "AttributeValue", NP_JSON_END), EVENT_ID);
    json_object_put(req);
    cr_expect_str_eq(f.obs_services[0], "cloudtrail");
    cr_expect_str_eq(f.obs_actions[0], "LookupEvents");
    np_aws_cloudtrail_destroy(ct);
    fake_net_clean_up(&f);
}

Test(cloudtrail, an_unknown_event_is_no_record, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_cloudtrail *ct = fake_cloudtrail(&f, NULL);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "{\"Events\":[]}");
    char *record = (char *)1;
    cr_expect_eq(np_aws_cloudtrail_lookup_event(ct, EVENT_ID, &record), 0, "%s",
                 np_error_message());
    cr_expect_null(record);
    np_aws_cloudtrail_destroy(ct);
    fake_net_clean_up(&f);
}

Test(cloudtrail, json_errors_are_decoded_and_throttling_retried, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_cloudtrail *ct = fake_cloudtrail(&f, NULL);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 400,
                  "{\"__type\":\"com.amazonaws.cloudtrail.v20131101#ThrottlingException\","
                  "\"message\":\"Rate exceeded\"}");
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "{\"Events\":[]}");
    char *record = NULL;
    cr_expect_eq(np_aws_cloudtrail_lookup_event(ct, EVENT_ID, &record), 0, "%s",
                 np_error_message());
    cr_expect_eq(f.n_requests, 2, "throttling is retried");
    cr_expect_str_eq(f.obs_codes[0], "ThrottlingException");
    np_aws_cloudtrail_destroy(ct);

    ct = fake_cloudtrail(&f, NULL);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 400,
                  "{\"__type\":\"InvalidLookupAttributesException\",\"Message\":\"bad key\"}");
    cr_expect_eq(np_aws_cloudtrail_lookup_event(ct, EVENT_ID, &record), NP_EINVAL);
    cr_expect_str_eq(np_aws_error_last()->code, "InvalidLookupAttributesException");
    cr_expect_str_eq(np_aws_error_last()->message, "bad key");
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 400,
                  "{\"__type\":\"AccessDeniedException\",\"message\":\"no\"}");
    cr_expect_eq(np_aws_cloudtrail_lookup_event(ct, EVENT_ID, &record), NP_EAUTH);
    cr_expect_eq(np_aws_cloudtrail_lookup_event(ct, "", &record), NP_EINVAL);
    np_aws_cloudtrail_destroy(ct);
    fake_net_clean_up(&f);
}

/* LookupEvents is limited to 2 per second per account and region: a third call in the same
 * instant is refused by the client before anything is sent. */
Test(cloudtrail, two_lookups_per_second, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_cloudtrail *ct = fake_cloudtrail(&f, NULL);
    char *record = NULL;
    for (int i = 0; i < 2; i++) {
        fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "{\"Events\":[]}");
        cr_expect_eq(np_aws_cloudtrail_lookup_event(ct, EVENT_ID, &record), 0, "%s",
                     np_error_message());
    }
    cr_expect_eq(np_aws_cloudtrail_lookup_event(ct, EVENT_ID, &record), NP_ETHROTTLED);
    cr_expect_str_eq(np_aws_error_last()->code, "ClientThrottled");
    cr_expect_eq(f.n_requests, 2, "nothing sent for the third");
    f.mono_ms += 1000; /* a second later the bucket has refilled */
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200, "{\"Events\":[]}");
    cr_expect_eq(np_aws_cloudtrail_lookup_event(ct, EVENT_ID, &record), 0, "%s",
                 np_error_message());
    np_aws_cloudtrail_destroy(ct);
    fake_net_clean_up(&f);
}

Test(cloudtrail, endpoint_override_by_service_name, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000", 1);
    setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", "http://127.0.0.1:6000", 1);
    struct np_aws_cloudtrail *ct = fake_cloudtrail(&f, NULL);
    cr_expect_str_eq(np_aws_cloudtrail_endpoint(ct), "http://127.0.0.1:6000");
    np_aws_cloudtrail_destroy(ct);
    ct = fake_cloudtrail(&f, "http://127.0.0.1:7000");
    cr_expect_str_eq(np_aws_cloudtrail_endpoint(ct), "http://127.0.0.1:7000",
                     "the account's endpoint wins");
    np_aws_cloudtrail_destroy(ct);
    fake_net_clean_up(&f);
}

Test(cloudtrail, answer_decoder_refuses_malformed_answers)
{
    char *record = NULL;
    cr_expect_eq(np_aws_cloudtrail_decode_lookup("[]", 2, EVENT_ID, &record), NP_EPARSE);
    cr_expect_eq(np_aws_cloudtrail_decode_lookup("{\"Events\":{}}", 13, EVENT_ID, &record),
                 NP_EPARSE);
    const char *no_record = "{\"Events\":[{\"EventId\":\"" EVENT_ID "\"}]}";
    cr_expect_eq(np_aws_cloudtrail_decode_lookup(no_record, strlen(no_record), EVENT_ID, &record),
                 NP_EPARSE);
    cr_expect_null(record);
}
