/*
 * CloudTrail event parser tests over the SQS bodies in tests/fixtures/aws/events/: every
 * fixture with what must come out of it (ids, actor, time, the affected resources and not the
 * peers) or the error it must give, plus fallbacks, limits and hostile input built inline.
 */
#include "aws_test.h"

#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EV "tests/fixtures/aws/events/"

static int parse_file(const char *name, struct np_aws_event *ev)
{
    char path[256];
    snprintf(path, sizeof(path), EV "%s", name);
    size_t len = 0;
    char *body = fixture_read(path, &len);
    int rc = np_aws_event_parse(body, len, ev);
    free(body);
    return rc;
}

static int64_t ms_of(const char *rfc3339)
{
    int64_t ms = 0;
    cr_assert_eq(np_time_parse_rfc3339(rfc3339, &ms), 0, "%s", rfc3339);
    return ms;
}

static void expect_opt(const char *got, const char *want, const char *file, const char *what)
{
    cr_expect(np_str_eq(got, want), "%s: %s is %s, want %s", file, what, got ? got : "(null)",
              want ? want : "(null)");
}

Test(events, every_valid_fixture)
{
    struct {
        const char *file;
        const char *name;
        const char *id;
        const char *time;
        const char *region;
        const char *account;
        const char *actor;
        const char *actor_type;
        const char *error_code;
        const char *ids[4];
    } cases[] = {
        {"authorize-security-group-ingress.json",
         "AuthorizeSecurityGroupIngress",
         "9fd68588-ecbf-4528-a345-199fa6bb0821",
         "2024-08-01T12:23:55Z",
         "eu-west-1",
         "123456789012",
         "arn:aws:iam::123456789012:user/alice",
         "IAMUser",
         NULL,
         {"sg-0e5c3a1b2d4f60789"}},
        {"revoke-security-group-ingress.json",
         "RevokeSecurityGroupIngress",
         "1c4b7d2e-5f60-4718-9a2b-3c4d5e6f7a8b",
         "2024-08-01T12:31:01Z",
         "eu-west-1",
         "123456789012",
         "arn:aws:sts::123456789012:assumed-role/NetworkAdmin/bob@example.com",
         "AssumedRole",
         NULL,
         {"sg-0e5c3a1b2d4f60789"}},
        {"create-tags.json",
         "CreateTags",
         "bb096886-331c-4b12-9a78-73b793e1f383",
         "2024-04-12T19:28:58Z",
         "eu-central-1",
         "222233334444",
         "arn:aws:iam::222233334444:user/dev",
         "IAMUser",
         NULL,
         {"sg-11bbcc2233445566f", "vpc-0a1b2c3d4e5f60718"}},
        {"delete-security-group.json",
         "DeleteSecurityGroup",
         "12ab34cd-1234-4bcd-9234-123456789abc",
         "2024-08-06T15:13:07Z",
         "us-west-1",
         "123456789012",
         "arn:aws:iam::123456789012:user/john.doe",
         "IAMUser",
         NULL,
         {"sg-12345678901234567"}},
        {"create-security-group.json",
         "CreateSecurityGroup",
         "52601748-2659-4ed8-b5fd-c530547b07ec",
         "2024-04-30T23:51:06Z",
         "us-east-1",
         "112233445566",
         "arn:aws:sts::112233445566:assumed-role/Operator/ryan@example.com",
         "AssumedRole",
         NULL,
         {"vpc-a1a044c7", "sg-04d018d184a18f647"}},
        {"modify-security-group-rules.json",
         "ModifySecurityGroupRules",
         "a1b2c3d4-e5f6-4789-8abc-def012345678",
         "2024-09-10T08:02:14Z",
         "eu-west-1",
         "123456789012",
         "arn:aws:iam::123456789012:user/alice",
         "IAMUser",
         NULL,
         {"sg-0e5c3a1b2d4f60789"}},
        {"authorize-egress-unauthorized.json",
         "AuthorizeSecurityGroupEgress",
         "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a",
         "2024-09-11T10:00:00.512Z",
         "eu-west-1",
         "123456789012",
         "arn:aws:sts::123456789012:assumed-role/ci-deploy/ci-deploy",
         "AssumedRole",
         "Client.UnauthorizedOperation",
         {"sg-0e5c3a1b2d4f60789"}},
        {"raw-record-delete-flow-logs.json",
         "DeleteFlowLogs",
         "4f7fcc9c-b68f-4238-800f-0216a167e5e7",
         "2025-06-03T09:31:05Z",
         "ap-southeast-2",
         "438465128930",
         "arn:aws:iam::438465128930:root",
         "Root",
         NULL,
         {"fl-0b99f482856f6f98b"}},
        {"raw-record-delete-tags.json",
         "DeleteTags",
         "f0e1d2c3-b4a5-4697-8879-6a5b4c3d2e1f",
         "2024-05-02T07:00:00Z",
         "us-east-2",
         "444455556666",
         NULL,
         "AWSService",
         NULL,
         {"sg-0fedcba9876543210"}},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        const char *file = cases[i].file;
        struct np_aws_event ev;
        cr_assert_eq(parse_file(file, &ev), 0, "%s: %s", file, np_error_message());
        cr_expect_str_eq(ev.event_name, cases[i].name, "%s", file);
        cr_expect_str_eq(ev.event_id, cases[i].id, "%s", file);
        cr_expect_eq(ev.event_ms, ms_of(cases[i].time), "%s", file);
        cr_expect_str_eq(ev.region, cases[i].region, "%s", file);
        expect_opt(ev.account, cases[i].account, file, "account");
        expect_opt(ev.actor, cases[i].actor, file, "actor");
        expect_opt(ev.actor_type, cases[i].actor_type, file, "actor_type");
        expect_opt(ev.error_code, cases[i].error_code, file, "error_code");
        size_t want_n = 0;
        while (want_n < NP_ARRAY_LEN(cases[i].ids) && cases[i].ids[want_n])
            want_n++;
        cr_expect_eq(ev.n_resource_ids, want_n, "%s: %zu ids", file, ev.n_resource_ids);
        for (size_t k = 0; k < ev.n_resource_ids && k < want_n; k++)
            cr_expect_str_eq(ev.resource_ids[k], cases[i].ids[k], "%s: id %zu", file, k);
        cr_expect_not(ev.resources_truncated);
        np_aws_event_clean_up(&ev);
        np_aws_event_clean_up(&ev); /* twice is fine */
        cr_expect_null(ev.event_name);
    }
}

Test(events, every_refused_fixture)
{
    struct {
        const char *file;
        int want;
        const char *says;
    } cases[] = {
        {"malformed-truncated.json", NP_EPARSE, "malformed JSON"},
        {"malformed-wrong-types.json", NP_EPARSE, "detail.eventName is not a string"},
        {"malformed-detail-not-object.json", NP_EPARSE, "detail is not an object"},
        {"malformed-user-identity-not-object.json", NP_EPARSE, "userIdentity is not an object"},
        {"malformed-request-parameters-string.json", NP_EPARSE,
         "requestParameters is not an object"},
        {"malformed-missing-detail.json", NP_EPARSE, "has no detail"},
        {"malformed-missing-event-time.json", NP_EPARSE, "no eventTime"},
        {"malformed-not-an-object.json", NP_EPARSE, "not a JSON object"},
        {"malformed-unknown-object.json", NP_EPARSE, "neither an EventBridge envelope"},
        {"unsupported-sns-wrapped.json", NP_ENOTSUP, "SNS notification"},
        {"unsupported-s3-api-call.json", NP_ENOTSUP, "source aws.s3 is not aws.ec2"},
        {"unsupported-s3-notification.json", NP_ENOTSUP, "Records"},
        {"unsupported-ec2-state-change.json", NP_ENOTSUP, "EC2 Instance State-change"},
        {"unsupported-iam-record.json", NP_ENOTSUP, "iam.amazonaws.com"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        struct np_aws_event ev;
        memset(&ev, 0x5a, sizeof(ev));
        int rc = parse_file(cases[i].file, &ev);
        cr_expect_eq(rc, cases[i].want, "%s: %s (%s)", cases[i].file, np_error_name(rc),
                     np_error_message());
        cr_expect(strstr(np_error_message(), cases[i].says) != NULL, "%s: \"%s\"", cases[i].file,
                  np_error_message());
        cr_expect_null(ev.event_name, "%s: zeroed on error", cases[i].file);
        cr_expect_null(ev.resource_ids);
        np_aws_event_clean_up(&ev);
    }
}

static int parse_str(const char *s, struct np_aws_event *ev)
{
    return np_aws_event_parse(s, strlen(s), ev);
}

Test(events, envelope_fallbacks_and_record_checks)
{
    struct np_aws_event ev;
    /* time, region, id from the envelope when the record lacks them; account from the
     * envelope first */
    const char *fallback = "{\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":"
                           "\"aws.ec2\",\"id\":\"env-1\",\"time\":\"2024-01-02T03:04:05Z\","
                           "\"region\":\"eu-north-1\",\"account\":\"111111111111\",\"detail\":{"
                           "\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"CreateTags\","
                           "\"recipientAccountId\":\"222222222222\"}}";
    cr_assert_eq(parse_str(fallback, &ev), 0, "%s", np_error_message());
    cr_expect_str_eq(ev.event_id, "env-1");
    cr_expect_str_eq(ev.region, "eu-north-1");
    cr_expect_eq(ev.event_ms, 1704164645000LL);
    cr_expect_str_eq(ev.account, "111111111111");
    cr_expect_null(ev.actor);
    cr_expect_eq(ev.n_resource_ids, 0);
    np_aws_event_clean_up(&ev);

    /* account: recipientAccountId, then userIdentity.accountId */
    const char *rec = "{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"DeleteTags\","
                      "\"eventID\":\"e\",\"eventTime\":\"2024-01-02T03:04:05+01:00\","
                      "\"awsRegion\":\"us-east-1\",\"userIdentity\":{\"accountId\":"
                      "\"333333333333\",\"arn\":null},\"requestParameters\":null,"
                      "\"responseElements\":null}";
    cr_assert_eq(parse_str(rec, &ev), 0, "%s", np_error_message());
    cr_expect_str_eq(ev.account, "333333333333");
    cr_expect_eq(ev.event_ms, 1704164645000LL - 3600 * 1000);
    cr_expect_null(ev.actor);
    np_aws_event_clean_up(&ev);

    struct {
        const char *body;
        int want;
        const char *says;
    } cases[] = {
        {"{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"X\",\"eventID\":\"e\","
         "\"eventTime\":\"yesterday\",\"awsRegion\":\"r\"}",
         NP_EPARSE, "RFC 3339"},
        {"{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"X\",\"eventID\":\"e\","
         "\"eventTime\":\"2024-01-02T03:04:05Z\"}",
         NP_EPARSE, "no awsRegion"},
        {"{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"X\","
         "\"eventTime\":\"2024-01-02T03:04:05Z\",\"awsRegion\":\"r\"}",
         NP_EPARSE, "no eventID"},
        {"{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"\",\"eventID\":\"e\","
         "\"eventTime\":\"2024-01-02T03:04:05Z\",\"awsRegion\":\"r\"}",
         NP_EPARSE, "eventName is empty"},
        {"{\"eventName\":\"X\"}", NP_EPARSE, "has no eventSource"},
        {"{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"X\",\"eventType\":"
         "\"AwsServiceEvent\"}",
         NP_ENOTSUP, "not an API call"},
        {"{\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{}}", NP_EPARSE,
         "has no source"},
        {"{\"source\":\"aws.ec2\",\"detail\":{}}", NP_EPARSE, "has no detail-type"},
        {"{\"detail-type\":7,\"source\":\"aws.ec2\",\"detail\":{}}", NP_EPARSE,
         "detail-type is not a string"},
        {"{\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":\"aws.ec2\",\"detail\":{"
         "\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"X\"},\"time\":5}",
         NP_EPARSE, "time is not a string"},
        {"{\"detail-type\":\"AWS API Call via CloudTrail\",\"source\":\"aws.ec2\",\"detail\":{"
         "\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"X\",\"eventID\":\"e\","
         "\"eventTime\":\"2024-01-02T03:04:05Z\",\"awsRegion\":\"r\","
         "\"userIdentity\":{\"arn\":[]}}}",
         NP_EPARSE, "userIdentity.arn is not a string"},
        {"{\"a\":1} trailing", NP_EPARSE, "trailing data"},
        {"", NP_EPARSE, "empty"},
        {"   ", NP_EPARSE, "malformed JSON"},
        {"{\"a\":1,}", NP_EPARSE, "malformed JSON"},
        {"\"just a string\"", NP_EPARSE, "not a JSON object"},
        {"42", NP_EPARSE, "not a JSON object"},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        int rc = parse_str(cases[i].body, &ev);
        cr_expect_eq(rc, cases[i].want, "case %zu: %s (%s)", i, np_error_name(rc),
                     np_error_message());
        cr_expect(strstr(np_error_message(), cases[i].says) != NULL, "case %zu: \"%s\"", i,
                  np_error_message());
        np_aws_event_clean_up(&ev);
    }
    cr_expect_eq(np_aws_event_parse(NULL, 0, &ev), NP_EPARSE);
    /* trailing whitespace is fine */
    const char *ws = "{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"X\",\"eventID\":"
                     "\"e\",\"eventTime\":\"2024-01-02T03:04:05Z\",\"awsRegion\":\"r\"}\r\n\t ";
    cr_expect_eq(parse_str(ws, &ev), 0, "%s", np_error_message());
    np_aws_event_clean_up(&ev);
}

Test(events, body_is_bounded_by_its_length)
{
    /* the parser reads len bytes only: a valid prefix followed by garbage it must not see */
    const char *rec = "{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"X\",\"eventID\":"
                      "\"e\",\"eventTime\":\"2024-01-02T03:04:05Z\",\"awsRegion\":\"r\"}";
    size_t n = strlen(rec);
    char *buf = np_xcalloc(1, n + 8);
    memcpy(buf, rec, n);
    memcpy(buf + n, "GARBAGE", 7); /* no NUL after the document either */
    struct np_aws_event ev;
    cr_expect_eq(np_aws_event_parse(buf, n, &ev), 0, "%s", np_error_message());
    np_aws_event_clean_up(&ev);
    cr_expect_eq(np_aws_event_parse(buf, n + 7, &ev), NP_EPARSE);
    cr_expect_eq(np_aws_event_parse(buf, n - 1, &ev), NP_EPARSE, "truncated by one byte");
    free(buf);
    /* a NUL inside the body */
    const char nul[] = "{\"eventSource\":\"ec2.amazonaws.com\"\0,\"eventName\":\"X\"}";
    cr_expect_eq(np_aws_event_parse(nul, sizeof(nul) - 1, &ev), NP_EPARSE);
    /* too deep */
    struct np_buf deep = NP_BUF_INIT;
    for (int i = 0; i < 200; i++)
        np_buf_puts(&deep, "{\"a\":");
    np_buf_puts(&deep, "1");
    for (int i = 0; i < 200; i++)
        np_buf_putc(&deep, '}');
    cr_expect_eq(np_aws_event_parse(deep.data, deep.len, &ev), NP_EPARSE);
    np_buf_clean_up(&deep);
}

Test(events, resource_ids_are_filtered_deduplicated_and_capped)
{
    struct np_buf b = NP_BUF_INIT;
    np_buf_puts(&b, "{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"CreateTags\","
                    "\"eventID\":\"e\",\"eventTime\":\"2024-01-02T03:04:05Z\",\"awsRegion\":\"r\","
                    "\"requestParameters\":{\"resourcesSet\":{\"items\":[");
    for (int i = 0; i < 100; i++)
        np_buf_appendf(&b, "%s{\"resourceId\":\"sg-%017x\"},{\"resourceId\":\"sg-%017x\"}",
                       i ? "," : "", i, i);
    np_buf_puts(&b, "]}}}");
    struct np_aws_event ev;
    cr_assert_eq(np_aws_event_parse(b.data, b.len, &ev), 0, "%s", np_error_message());
    cr_expect_eq(ev.n_resource_ids, NP_AWS_EVENT_MAX_RESOURCES);
    cr_expect(ev.resources_truncated);
    cr_expect_str_eq(ev.resource_ids[0], "sg-00000000000000000");
    cr_expect_str_eq(ev.resource_ids[63], "sg-0000000000000003f");
    np_aws_event_clean_up(&ev);
    np_buf_clean_up(&b);

    /* values must be id-shaped and carry their key's prefix; peers and tags never count */
    const char *mixed =
        "{\"eventSource\":\"ec2.amazonaws.com\",\"eventName\":\"X\",\"eventID\":\"e\","
        "\"eventTime\":\"2024-01-02T03:04:05Z\",\"awsRegion\":\"r\",\"requestParameters\":{"
        "\"groupId\":\"vpc-0123\",\"vpcId\":\"vpc-0123\",\"subnetId\":\"subnet-9\","
        "\"routeTableId\":\"rtb-1\",\"networkAclId\":\"acl-2\",\"resourceId\":\"not an id\","
        "\"GroupId\":\"sg-UPPER1\",\"flowLogIds\":[\"fl-1\",\"fl-2\",7],"
        "\"userIdGroupPairs\":[{\"groupId\":\"sg-peer1\"}],"
        "\"tagSet\":{\"items\":[{\"key\":\"resourceId\",\"value\":\"sg-tag\"}]},"
        "\"groupSet\":{\"items\":[{\"groupId\":\"sg-instance\"}]},"
        "\"CreateFlowLogsRequest\":{\"ResourceId\":{\"content\":[\"vpc-0123\",\"subnet-8\"],"
        "\"tag\":1}}},"
        "\"responseElements\":{\"revokedSecurityGroupRuleSet\":{\"items\":[{\"groupId\":"
        "\"sg-0abc\",\"referencedGroupInfo\":{\"groupId\":\"sg-peer2\"}}]},"
        "\"vpc\":{\"vpcId\":\"vpc-new\",\"dhcpOptionsId\":\"dopt-1\"},\"groupId\":"
        "\"sg-0abc\"}}";
    cr_assert_eq(parse_str(mixed, &ev), 0, "%s", np_error_message());
    const char *want[] = {"vpc-0123", "subnet-9", "rtb-1",    "acl-2",   "sg-UPPER1",
                          "fl-1",     "fl-2",     "subnet-8", "sg-0abc", "vpc-new"};
    cr_expect_eq(ev.n_resource_ids, NP_ARRAY_LEN(want), "%zu ids", ev.n_resource_ids);
    for (size_t i = 0; i < ev.n_resource_ids && i < NP_ARRAY_LEN(want); i++)
        cr_expect_str_eq(ev.resource_ids[i], want[i], "id %zu", i);
    np_aws_event_clean_up(&ev);
}

/* ---------------------------------------------------------------- verification */

/* The detail of a fixture's envelope, as CloudTrail would return it (owned text), after an
 * optional edit of one member of the record. */
static char *record_of(const char *body, const char *key, json_object *value)
{
    json_object *root = json_tokener_parse(body);
    cr_assert_not_null(root);
    json_object *detail = np_json_path(root, "detail", NP_JSON_END);
    cr_assert_not_null(detail);
    if (key)
        json_object_object_add(detail, key, value);
    char *out = np_strdup(json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN));
    json_object_put(root);
    return out;
}

static int verify(const char *body, const char *record)
{
    return np_aws_event_verify(body, strlen(body), record, strlen(record));
}

Test(events_verify, the_record_confirms_the_message_or_it_is_forged)
{
    size_t len = 0;
    char *body = fixture_read(EV "authorize-security-group-ingress.json", &len);
    char *rec = record_of(body, NULL, NULL);
    cr_expect_eq(verify(body, rec), 0, "%s", np_error_message());
    free(rec);

    /* Someone else made the change: the message's actor is a lie. */
    json_object *who = json_object_new_object();
    json_object_object_add(who, "arn",
                           json_object_new_string("arn:aws:iam::123456789012:user/eve"));
    rec = record_of(body, "userIdentity", who);
    cr_expect_eq(verify(body, rec), NP_EDENIED);
    cr_expect(strstr(np_error_message(), "userIdentity.arn") != NULL, "%s", np_error_message());
    free(rec);

    /* Another call, another group, another account, another region, a refused call. */
    rec = record_of(body, "eventName", json_object_new_string("DescribeSecurityGroups"));
    cr_expect_eq(verify(body, rec), NP_EDENIED);
    free(rec);
    json_object *params = json_object_new_object();
    json_object_object_add(params, "groupId", json_object_new_string("sg-0000000000000000f"));
    rec = record_of(body, "requestParameters", params);
    cr_expect_eq(verify(body, rec), NP_EDENIED);
    cr_expect(strstr(np_error_message(), "requestParameters") != NULL, "%s", np_error_message());
    free(rec);
    rec = record_of(body, "recipientAccountId", json_object_new_string("999999999999"));
    cr_expect_eq(verify(body, rec), NP_EDENIED);
    free(rec);
    rec = record_of(body, "awsRegion", json_object_new_string("us-west-2"));
    cr_expect_eq(verify(body, rec), NP_EDENIED);
    free(rec);
    rec = record_of(body, "errorCode", json_object_new_string("Client.UnauthorizedOperation"));
    cr_expect_eq(verify(body, rec), NP_EDENIED);
    free(rec);
    rec = record_of(body, "eventSource", json_object_new_string("s3.amazonaws.com"));
    cr_expect_eq(verify(body, rec), NP_EDENIED);
    free(rec);

    /* Not JSON objects. */
    cr_expect_eq(verify(body, "[]"), NP_EPARSE);
    cr_expect_eq(verify("nope", "{}"), NP_EPARSE);
    free(body);
}

/* The envelope's account must be the recorded recipient account too. */
Test(events_verify, the_envelope_account_must_match)
{
    size_t len = 0;
    char *body = fixture_read(EV "authorize-security-group-ingress.json", &len);
    char *rec = record_of(body, NULL, NULL);
    json_object *root = json_tokener_parse(body);
    json_object_object_add(root, "account", json_object_new_string("999999999999"));
    const char *forged = json_object_to_json_string(root);
    cr_expect_eq(verify(forged, rec), NP_EDENIED);
    /* a bare record (no envelope) is compared the same way */
    cr_expect_eq(verify(rec, rec), 0, "%s", np_error_message());
    json_object_put(root);
    free(rec);
    free(body);
}
