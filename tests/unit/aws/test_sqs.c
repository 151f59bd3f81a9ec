/*
 * SQS client tests: ReceiveMessage / DeleteMessage / GetQueueAttributes through the scripted
 * fake network (exact form bodies, queue URL and endpoint-override rebasing, signing scope,
 * timeouts, retries, observer reports, error mapping, cancellation), the SQS XML decoders over
 * recorded moto answers and AWS-shaped documents, and, over loopback sockets, a 20 s long poll
 * canceled from another thread and a receive whose timeout outlasts its wait.
 */
#include "aws_test.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FX "tests/fixtures/aws/"
#define QUEUE "https://sqs.us-east-1.amazonaws.com/123456789012/np-events"

static void clear_env(void)
{
    static const char *const vars[] = {"http_proxy",
                                       "HTTP_PROXY",
                                       "https_proxy",
                                       "HTTPS_PROXY",
                                       "all_proxy",
                                       "ALL_PROXY",
                                       "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_SQS",
                                       "AWS_ENDPOINT_URL_EC2",
                                       "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"};
    for (size_t i = 0; i < NP_ARRAY_LEN(vars); i++)
        unsetenv(vars[i]);
}

/* ---------------------------------------------------------------- calls */

Test(sqs, receive_posts_to_the_queue_url_and_decodes, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_sqs *q = fake_sqs(&f, NULL);
    fake_net_push_file(&f, 200, FX "sqs-receive-message.xml");
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_sqs_receive(q, QUEUE, 10, 20, 30, &msgs, &n), 0, "%s", np_error_message());
    cr_assert_eq(n, 2);
    cr_expect_str_eq(msgs[0].message_id, "bf0cfd60-b9b2-45c3-9914-15e47efba469");
    cr_expect(np_str_has_prefix(msgs[0].receipt_handle, "cjghywmtokokzlimzamrgiyfnalghq"));
    cr_expect_str_eq(msgs[0].body, "{\"note\":\"a & <b>\r\nc\"}", "entities and CR LF decoded");
    cr_expect_eq(msgs[0].receive_count, 1);
    cr_expect_gt(msgs[0].sent_ms, 1700000000000LL);
    cr_expect_str_eq(msgs[1].body, "{\"detail-type\":\"AWS API Call via CloudTrail\"}");
    cr_expect_str_eq(msgs[1].message_id, "e3a0a1be-df17-40d9-8f2f-82fa64f078cf");

    cr_assert_eq(f.n_requests, 1);
    cr_expect_str_eq(f.requests[0].url, QUEUE);
    cr_expect_str_eq(f.requests[0].body,
                     "Action=ReceiveMessage&Version=2012-11-05&MaxNumberOfMessages=10"
                     "&WaitTimeSeconds=20&VisibilityTimeout=30"
                     "&AttributeName.1=ApproximateReceiveCount&AttributeName.2=SentTimestamp"
                     "&MessageSystemAttributeName.1=ApproximateReceiveCount"
                     "&MessageSystemAttributeName.2=SentTimestamp");
    cr_expect_str_eq(fake_header(&f, 0, "Host"), "sqs.us-east-1.amazonaws.com");
    cr_expect(strstr(fake_header(&f, 0, "Authorization"), "/us-east-1/sqs/aws4_request") != NULL,
              "%s", fake_header(&f, 0, "Authorization"));
    cr_expect_eq(f.requests[0].timeout_ms, 30000 + 20000, "the long poll outlasts its wait");
    cr_expect(f.requests[0].cancelable);
    cr_assert_eq(f.n_obs, 1);
    cr_expect_str_eq(f.obs_services[0], "sqs");
    cr_expect_str_eq(f.obs_actions[0], "ReceiveMessage");
    cr_expect_str_eq(f.obs_codes[0], "OK");
    np_aws_sqs_messages_free(msgs, n);
    np_aws_sqs_destroy(q);
    fake_net_clean_up(&f);
}

Test(sqs, empty_receive_with_the_queue_default_visibility, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_sqs *q = fake_sqs(&f, NULL);
    fake_net_push_file(&f, 200, FX "sqs-receive-message-empty.xml");
    struct np_aws_sqs_message *msgs = (struct np_aws_sqs_message *)0x1;
    size_t n = 7;
    cr_assert_eq(np_aws_sqs_receive(q, QUEUE, 1, 0, 0, &msgs, &n), 0, "%s", np_error_message());
    cr_expect_eq(n, 0);
    cr_expect_null(msgs);
    cr_expect_str_eq(f.requests[0].body,
                     "Action=ReceiveMessage&Version=2012-11-05&MaxNumberOfMessages=1"
                     "&WaitTimeSeconds=0"
                     "&AttributeName.1=ApproximateReceiveCount&AttributeName.2=SentTimestamp"
                     "&MessageSystemAttributeName.1=ApproximateReceiveCount"
                     "&MessageSystemAttributeName.2=SentTimestamp");
    cr_expect_eq(f.requests[0].timeout_ms, 30000);
    np_aws_sqs_messages_free(msgs, n);
    np_aws_sqs_destroy(q);
    fake_net_clean_up(&f);
}

Test(sqs, delete_and_check, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_sqs *q = fake_sqs(&f, NULL);
    fake_net_push_file(&f, 200, FX "sqs-delete-message.xml");
    fake_net_push_file(&f, 200, FX "sqs-get-queue-attributes.xml");
    cr_assert_eq(np_aws_sqs_delete(q, QUEUE, "MbZj6w+Jv/wJaBV=="), 0, "%s", np_error_message());
    cr_assert_eq(np_aws_sqs_check(q, QUEUE), 0, "%s", np_error_message());
    cr_assert_eq(f.n_requests, 2);
    cr_expect_str_eq(f.requests[0].body, "Action=DeleteMessage&Version=2012-11-05"
                                         "&ReceiptHandle=MbZj6w%2BJv%2FwJaBV%3D%3D");
    cr_expect_str_eq(f.requests[1].body, "Action=GetQueueAttributes&Version=2012-11-05"
                                         "&AttributeName.1=ApproximateNumberOfMessages");
    cr_expect_eq(f.requests[0].timeout_ms, 30000);
    cr_expect_str_eq(f.obs_actions[0], "DeleteMessage");
    cr_expect_str_eq(f.obs_actions[1], "GetQueueAttributes");
    /* a GetQueueAttributes answer without the attribute does not pass the check */
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 200,
                  "<GetQueueAttributesResponse><GetQueueAttributesResult/>"
                  "</GetQueueAttributesResponse>");
    cr_expect_eq(np_aws_sqs_check(q, QUEUE), NP_EPARSE);
    /* a delete answered with another document is refused */
    fake_net_push_file(&f, 200, FX "sqs-get-queue-attributes.xml");
    cr_expect_eq(np_aws_sqs_delete(q, QUEUE, "h"), NP_EPARSE);
    np_aws_sqs_destroy(q);
    fake_net_clean_up(&f);
}

Test(sqs, missing_queue_is_not_found, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_sqs *q = fake_sqs(&f, NULL);
    fake_net_push_file(&f, 400, FX "error-sqs-non-existent-queue.xml");
    cr_expect_eq(np_aws_sqs_check(q, QUEUE), NP_ENOTFOUND);
    cr_expect_eq(f.n_requests, 1, "not retried");
    cr_expect(np_aws_error_is("AWS.SimpleQueueService.NonExistentQueue"));
    cr_expect_str_eq(np_aws_error_last()->action, "GetQueueAttributes");
    cr_expect(np_str_has_prefix(np_error_message(),
                                "SQS GetQueueAttributes: AWS.SimpleQueueService.NonExistentQueue"),
              "%s", np_error_message());
    cr_expect_str_eq(f.obs_codes[0], "AWS.SimpleQueueService.NonExistentQueue");
    np_aws_sqs_destroy(q);
    fake_net_clean_up(&f);
}

Test(sqs, throttling_and_5xx_are_retried, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_sqs *q = fake_sqs(&f, NULL);
    fake_net_push(&f, NP_AWS_TRANSPORT_OK, 403,
                  "<ErrorResponse><Error><Type>Sender</Type><Code>RequestThrottled</Code>"
                  "<Message>slow down</Message></Error><RequestId>r1</RequestId></ErrorResponse>");
    fake_net_push_file(&f, 500, FX "error-unknown-action-500.html");
    fake_net_push(&f, NP_AWS_TRANSPORT_NETWORK, 0, NULL);
    fake_net_push_file(&f, 200, FX "sqs-receive-message-empty.xml");
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_sqs_receive(q, QUEUE, 10, 5, 0, &msgs, &n), 0, "%s", np_error_message());
    cr_expect_eq(f.n_requests, 4);
    cr_assert_eq(f.n_sleeps, 3);
    cr_expect_eq(f.sleeps[0], 500, "throttling base");
    cr_expect_eq(f.sleeps[1], 200);
    cr_expect_eq(f.sleeps[2], 400);
    const char *codes[] = {"RequestThrottled", "HTTP500", "NetworkError", "OK"};
    for (size_t i = 0; i < 4; i++)
        cr_expect_str_eq(f.obs_codes[i], codes[i]);
    np_aws_sqs_messages_free(msgs, n);
    np_aws_sqs_destroy(q);
    fake_net_clean_up(&f);
}

Test(sqs, bad_arguments_send_nothing, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_sqs *q = fake_sqs(&f, NULL);
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0;
    struct {
        const char *url;
        int max, wait, vis;
    } cases[] = {
        {QUEUE, 0, 0, 0},
        {QUEUE, 11, 0, 0},
        {QUEUE, 1, -1, 0},
        {QUEUE, 1, 21, 0},
        {QUEUE, 1, 0, -1},
        {QUEUE, 1, 0, 43201},
        {NULL, 1, 0, 0},
        {"", 1, 0, 0},
        {"ftp://sqs.us-east-1.amazonaws.com/1/q", 1, 0, 0},
        {"sqs.us-east-1.amazonaws.com/1/q", 1, 0, 0},
        {"https://sqs.us-east-1.amazonaws.com", 1, 0, 0},
        {"https://sqs.us-east-1.amazonaws.com/", 1, 0, 0},
        {"https://sqs.us-east-1.amazonaws.com/1/q?Action=DeleteQueue", 1, 0, 0},
        {"https://user@sqs.us-east-1.amazonaws.com/1/q", 1, 0, 0},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(cases); i++) {
        cr_expect_eq(np_aws_sqs_receive(q, cases[i].url, cases[i].max, cases[i].wait, cases[i].vis,
                                        &msgs, &n),
                     NP_EINVAL, "case %zu", i);
        cr_expect_null(msgs);
    }
    cr_expect_eq(np_aws_sqs_delete(q, QUEUE, ""), NP_EINVAL);
    cr_expect_eq(np_aws_sqs_delete(q, QUEUE, NULL), NP_EINVAL);
    cr_expect_eq(np_aws_sqs_check(q, "not a url"), NP_EINVAL);
    cr_expect_eq(f.n_requests, 0);
    np_aws_sqs_destroy(q);
    fake_net_clean_up(&f);
}

/* ---------------------------------------------------------------- endpoints */

static void expect_rebased(struct np_aws_sqs *q, const char *queue_url, const char *want)
{
    char *url = NULL;
    cr_assert_eq(np_aws_sqs_request_url(q, queue_url, &url), 0, "%s", np_error_message());
    cr_expect_str_eq(url, want);
    free(url);
}

Test(sqs, endpoint_override_keeps_the_queue_path, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_sqs *q = fake_sqs(&f, NULL);
    expect_rebased(q, QUEUE, QUEUE);
    expect_rebased(q, "http://127.0.0.1:4566/000000000000/q",
                   "http://127.0.0.1:4566/000000000000/q");
    np_aws_sqs_destroy(q);

    q = fake_sqs(&f, "http://127.0.0.1:4566");
    expect_rebased(q, QUEUE, "http://127.0.0.1:4566/123456789012/np-events");
    np_aws_sqs_destroy(q);

    q = fake_sqs(&f, "https://vpce-0a1b-x.sqs.eu-west-1.vpce.amazonaws.com/ignored/path");
    expect_rebased(q, "http://localhost:9324/000000000000/q.fifo",
                   "https://vpce-0a1b-x.sqs.eu-west-1.vpce.amazonaws.com/000000000000/q.fifo");
    np_aws_sqs_destroy(q);

    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000", 1);
    q = fake_sqs(&f, NULL);
    expect_rebased(q, QUEUE, "http://127.0.0.1:5000/123456789012/np-events");
    np_aws_sqs_destroy(q);

    setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:6000", 1);
    q = fake_sqs(&f, NULL);
    expect_rebased(q, QUEUE, "http://127.0.0.1:6000/123456789012/np-events");
    np_aws_sqs_destroy(q);

    q = fake_sqs(&f, "http://override:7000");
    expect_rebased(q, QUEUE, "http://override:7000/123456789012/np-events");
    np_aws_sqs_destroy(q);

    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    q = fake_sqs(&f, NULL);
    expect_rebased(q, QUEUE, QUEUE);
    np_aws_sqs_destroy(q);
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

    /* through a call: the rebased URL is what is sent and signed */
    q = fake_sqs(&f, NULL);
    fake_net_push_file(&f, 200, FX "sqs-get-queue-attributes.xml");
    cr_assert_eq(np_aws_sqs_check(q, QUEUE), 0, "%s", np_error_message());
    cr_expect_str_eq(f.requests[0].url, "http://127.0.0.1:6000/123456789012/np-events");
    cr_expect_str_eq(fake_header(&f, 0, "Host"), "127.0.0.1:6000");
    np_aws_sqs_destroy(q);
    fake_net_clean_up(&f);
}

Test(sqs, config_errors, .init = clear_env)
{
    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, "AK", "SK", NULL), 0);
    struct np_aws_sqs *q = NULL;
    cr_expect_eq(np_aws_sqs_new(&q, NULL), NP_EINVAL);
    struct np_aws_sqs_config cfg = {.region = "us-east-1", .credentials = NULL};
    cr_expect_eq(np_aws_sqs_new(&q, &cfg), NP_EINVAL);
    cr_expect_null(q);
    cfg.credentials = &creds;
    cfg.region = "";
    cr_expect_eq(np_aws_sqs_new(&q, &cfg), NP_EINVAL);
    cfg.region = "us-east-1\nX-Injected: 1";
    cr_expect_eq(np_aws_sqs_new(&q, &cfg), NP_EINVAL);
    cfg.region = "us-east-1";
    cfg.endpoint = "ftp://x";
    cr_expect_eq(np_aws_sqs_new(&q, &cfg), NP_EINVAL);
    cfg.endpoint = "http://[bad";
    cr_expect_eq(np_aws_sqs_new(&q, &cfg), NP_EINVAL);
    cfg.endpoint = NULL;
    setenv("AWS_ENDPOINT_URL_SQS", "127.0.0.1:9324", 1);
    cr_expect_eq(np_aws_sqs_new(&q, &cfg), NP_EINVAL);
    cr_expect(strstr(np_error_message(), "AWS_ENDPOINT_URL_SQS") != NULL, "%s", np_error_message());
    unsetenv("AWS_ENDPOINT_URL_SQS");
    setenv("AWS_ENDPOINT_URL_EC2", "not-a-url", 1); /* not SQS's business */
    cr_assert_eq(np_aws_sqs_new(&q, &cfg), 0, "%s", np_error_message());
    cr_expect_not(np_aws_sqs_is_canceled(q));
    np_aws_sqs_destroy(q);
    np_aws_sqs_destroy(NULL);
    np_aws_credentials_clean_up(&creds);
}

/* ---------------------------------------------------------------- cancellation */

Test(sqs, cancel_refuses_calls_until_cleared, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_sqs *q = fake_sqs(&f, NULL);
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0;
    np_aws_sqs_cancel(q);
    cr_expect(np_aws_sqs_is_canceled(q));
    cr_expect_eq(np_aws_sqs_receive(q, QUEUE, 10, 20, 0, &msgs, &n), NP_ECANCELED);
    cr_expect_eq(np_aws_sqs_delete(q, QUEUE, "h"), NP_ECANCELED);
    cr_expect_eq(np_aws_sqs_check(q, QUEUE), NP_ECANCELED);
    cr_expect_eq(f.n_requests, 0, "nothing is sent once canceled");
    cr_expect_str_eq(np_error_message(), "SQS GetQueueAttributes: canceled");
    np_aws_sqs_clear_cancel(q);
    cr_expect_not(np_aws_sqs_is_canceled(q));
    fake_net_push_file(&f, 200, FX "sqs-receive-message-empty.xml");
    cr_expect_eq(np_aws_sqs_receive(q, QUEUE, 10, 20, 0, &msgs, &n), 0, "%s", np_error_message());
    cr_expect_eq(f.n_requests, 1);
    np_aws_sqs_destroy(q);
    fake_net_clean_up(&f);
}

Test(sqs, cancel_during_backoff_stops_retrying, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_sqs *q = fake_sqs(&f, NULL);
    fake_net_push_file(&f, 500, FX "error-unknown-action-500.html");
    fake_net_push_file(&f, 200, FX "sqs-receive-message-empty.xml");
    f.cancel_on_sleep = q;
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0;
    cr_expect_eq(np_aws_sqs_receive(q, QUEUE, 10, 20, 0, &msgs, &n), NP_ECANCELED);
    cr_expect_eq(f.n_requests, 1);
    cr_expect_eq(f.n_sleeps, 1);
    cr_expect_eq(np_aws_error_last()->attempts, 1);
    np_aws_sqs_destroy(q);
    fake_net_clean_up(&f);
}

/* ---------------------------------------------------------------- decoders */

static int decode_file(const char *path, struct np_aws_sqs_message **msgs, size_t *n)
{
    size_t len = 0;
    char *xml = fixture_read(path, &len);
    int rc = np_aws_xml_decode_sqs_messages(xml, len, msgs, n);
    free(xml);
    return rc;
}

Test(sqs_xml, aws_shaped_answer)
{
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0;
    cr_assert_eq(decode_file(FX "crafted/sqs-receive-message-aws.xml", &msgs, &n), 0, "%s",
                 np_error_message());
    cr_assert_eq(n, 1);
    cr_expect_str_eq(msgs[0].message_id, "5fea7756-0ea4-451a-a703-a558b933e274");
    cr_expect(np_str_has_prefix(msgs[0].receipt_handle, "MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+"));
    cr_expect_str_eq(msgs[0].body, "{\"version\":\"0\",\"id\":\"5b7e3c52\",\"detail-type\":\"AWS "
                                   "API Call via CloudTrail\",\"source\":\"aws.ec2\"}");
    cr_expect_eq(msgs[0].receive_count, 3);
    cr_expect_eq(msgs[0].sent_ms, 1722515036000LL);
    np_aws_sqs_messages_free(msgs, n);
}

Test(sqs_xml, refusals)
{
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0;
    /* A bad message is decoded and marked, never a reason to refuse the batch. */
    cr_assert_eq(decode_file(FX "crafted/sqs-receive-message-bad-md5.xml", &msgs, &n), 0, "%s",
                 np_error_message());
    cr_assert_eq(n, 1);
    cr_expect(msgs[0].corrupt, "the body does not match MD5OfBody");
    np_aws_sqs_messages_free(msgs, n);
    const struct {
        const char *xml;
        size_t n; /* messages kept */
    } marked[] = {
        {"<ReceiveMessageResponse><ReceiveMessageResult><Message><MessageId>m</MessageId>"
         "<Body>b</Body></Message></ReceiveMessageResult></ReceiveMessageResponse>",
         0},
        {"<ReceiveMessageResponse><ReceiveMessageResult><Message><MessageId>m</MessageId>"
         "<ReceiptHandle>h</ReceiptHandle></Message></ReceiveMessageResult>"
         "</ReceiveMessageResponse>",
         1},
        {"<ReceiveMessageResponse><ReceiveMessageResult><Message><MessageId>m</MessageId>"
         "<ReceiptHandle>h</ReceiptHandle><Body>b</Body><Attribute><Name>"
         "ApproximateReceiveCount</Name><Value>many</Value></Attribute></Message>"
         "</ReceiveMessageResult></ReceiveMessageResponse>",
         1},
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(marked); i++) {
        cr_expect_eq(
            np_aws_xml_decode_sqs_messages(marked[i].xml, strlen(marked[i].xml), &msgs, &n), 0,
            "case %zu: %s", i, np_error_message());
        cr_expect_eq(n, marked[i].n, "case %zu", i);
        for (size_t j = 0; j < n; j++) {
            cr_expect_not_null(msgs[j].body, "case %zu", i);
            cr_expect_eq(msgs[j].receive_count, 0, "case %zu", i);
        }
        np_aws_sqs_messages_free(msgs, n);
    }
    const char *bad[] = {
        "<DeleteMessageResponse/>",
        "<ReceiveMessageResponse><ReceiveMessageResult><Message>",
    };
    for (size_t i = 0; i < NP_ARRAY_LEN(bad); i++) {
        msgs = (struct np_aws_sqs_message *)0x1;
        cr_expect_eq(np_aws_xml_decode_sqs_messages(bad[i], strlen(bad[i]), &msgs, &n), NP_EPARSE,
                     "case %zu", i);
        cr_expect_eq(msgs, (struct np_aws_sqs_message *)0x1, "outputs untouched on error");
    }
    /* an empty body is a valid message; MD5 of "" */
    const char *empty = "<ReceiveMessageResponse><ReceiveMessageResult><Message><MessageId>m"
                        "</MessageId><ReceiptHandle>h</ReceiptHandle>"
                        "<MD5OfBody>d41d8cd98f00b204e9800998ecf8427e</MD5OfBody><Body></Body>"
                        "</Message></ReceiveMessageResult></ReceiveMessageResponse>";
    cr_assert_eq(np_aws_xml_decode_sqs_messages(empty, strlen(empty), &msgs, &n), 0, "%s",
                 np_error_message());
    cr_assert_eq(n, 1);
    cr_expect_str_eq(msgs[0].body, "");
    cr_expect_eq(msgs[0].receive_count, 0);
    cr_expect_eq(msgs[0].sent_ms, 0);
    np_aws_sqs_messages_free(msgs, n);
}

Test(sqs_xml, queue_attribute)
{
    size_t len = 0;
    char *xml = fixture_read(FX "sqs-get-queue-attributes.xml", &len);
    char *v = NULL;
    cr_assert_eq(np_aws_xml_decode_sqs_attribute(xml, len, "ApproximateNumberOfMessages", &v), 0);
    cr_expect_str_eq(v, "0");
    free(v);
    cr_assert_eq(np_aws_xml_decode_sqs_attribute(xml, len, "QueueArn", &v), 0);
    cr_expect_null(v);
    cr_expect_eq(np_aws_xml_decode_sqs_attribute("<ReceiveMessageResponse/>", 25, "X", &v),
                 NP_EPARSE);
    free(xml);
}

/* ---------------------------------------------------------------- over loopback */

/* A listening socket nobody accepts on: connections complete, requests are never answered. */
static int silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(fd, 8), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

struct obs_rec {
    char codes[8][32];
    int n;
};

static void rec_observe(void *ctx, const struct np_aws_request_info *info)
{
    struct obs_rec *r = ctx;
    if (r->n < 8)
        np_strlcpy(r->codes[r->n++], info->code, sizeof(r->codes[0]));
}

static struct np_aws_sqs *real_sqs(int64_t timeout_ms, int max_attempts, struct obs_rec *r)
{
    struct np_aws_credentials creds;
    cr_assert_eq(np_aws_credentials_set(&creds, "AKIDEXAMPLE", "secret-key", NULL), 0);
    struct np_aws_sqs_config cfg = {.region = "us-east-1",
                                    .credentials = &creds,
                                    .timeout_ms = timeout_ms,
                                    .max_attempts = max_attempts,
                                    .observer = rec_observe,
                                    .observer_ctx = r};
    struct np_aws_sqs *q = NULL;
    cr_assert_eq(np_aws_sqs_new(&q, &cfg), 0, "%s", np_error_message());
    np_aws_credentials_clean_up(&creds);
    return q;
}

struct poll_job {
    struct np_aws_sqs *q;
    const char *url;
    int wait_seconds;
    int rc;
    int64_t took_ms;
};

static void *long_poll(void *arg)
{
    struct poll_job *j = arg;
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0;
    int64_t t0 = np_time_mono_ms();
    j->rc = np_aws_sqs_receive(j->q, j->url, 10, j->wait_seconds, 0, &msgs, &n);
    j->took_ms = np_time_mono_ms() - t0;
    np_aws_sqs_messages_free(msgs, n);
    return NULL;
}

Test(sqs_curl, long_poll_is_canceled_from_another_thread, .init = clear_env)
{
    int port = 0;
    int fd = silent_listener(&port);
    char url[96];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/123456789012/np-events", port);
    struct obs_rec r = {.n = 0};
    struct np_aws_sqs *q = real_sqs(0, 0, &r);
    struct poll_job j = {q, url, 20, 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, long_poll, &j);
    np_sleep_ms(300);
    np_aws_sqs_cancel(q);
    pthread_join(t, NULL);
    cr_expect_eq(j.rc, NP_ECANCELED, "%s", np_error_name(j.rc));
    cr_expect_lt(j.took_ms, 2500, "a 20 s long poll ended %lld ms after it began",
                 (long long)j.took_ms);
    cr_expect_geq(j.took_ms, 250);
    cr_expect_eq(r.n, 1, "one attempt, not retried");
    cr_expect_str_eq(r.codes[0], "Canceled");
    np_aws_sqs_destroy(q);
    close(fd);
}

Test(sqs_curl, receive_timeout_outlasts_the_wait, .init = clear_env)
{
    int port = 0;
    int fd = silent_listener(&port);
    char url[96];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/123456789012/np-events", port);
    struct obs_rec r = {.n = 0};
    struct np_aws_sqs *q = real_sqs(200, 1, &r); /* 200 ms per attempt, no retry */
    struct poll_job j = {q, url, 1, 0, 0};
    long_poll(&j);
    cr_expect_eq(j.rc, NP_EIO, "%s", np_error_name(j.rc));
    cr_expect_geq(j.took_ms, 1100, "the 1 s wait is not cut short by the 200 ms timeout: %lld ms",
                  (long long)j.took_ms);
    cr_expect_lt(j.took_ms, 3000);
    cr_expect_str_eq(r.codes[0], "Timeout");
    np_aws_sqs_destroy(q);
    close(fd);
}

/* One bad message (body not matching MD5OfBody, no receipt handle, a malformed attribute)
 * must not fail the whole batch: before, the receive returned NP_EPARSE and nothing of the
 * batch was handled or deleted, so the consumer looped on it. */
Test(sqs, one_bad_message_never_fails_the_batch, .init = clear_env)
{
    struct fake_net f;
    fake_net_init(&f);
    struct np_aws_sqs *q = fake_sqs(&f, NULL);
    fake_net_push(
        &f, NP_AWS_TRANSPORT_OK, 200,
        "<ReceiveMessageResponse><ReceiveMessageResult>"
        "<Message><MessageId>m1</MessageId><ReceiptHandle>h1</ReceiptHandle>"
        "<MD5OfBody>00000000000000000000000000000000</MD5OfBody><Body>forged</Body>"
        "<Attribute><Name>ApproximateReceiveCount</Name><Value>lots</Value></Attribute></Message>"
        "<Message><MessageId>m2</MessageId><Body>no handle</Body></Message>"
        "<Message><MessageId>m3</MessageId><ReceiptHandle>h3</ReceiptHandle><Body>{}</Body>"
        "<Attribute><Name>ApproximateReceiveCount</Name><Value>7</Value></Attribute></Message>"
        "</ReceiveMessageResult></ReceiveMessageResponse>");
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0;
    cr_assert_eq(np_aws_sqs_receive(q, QUEUE, 10, 0, 0, &msgs, &n), 0, "%s", np_error_message());
    cr_assert_eq(n, 2, "the message without a receipt handle is left out");
    cr_expect_str_eq(msgs[0].message_id, "m1");
    cr_expect(msgs[0].corrupt, "the body does not match MD5OfBody");
    cr_expect_eq(msgs[0].receive_count, 0, "a malformed count is unknown");
    cr_expect_str_eq(msgs[1].receipt_handle, "h3");
    cr_expect_not(msgs[1].corrupt);
    cr_expect_eq(msgs[1].receive_count, 7);
    np_aws_sqs_messages_free(msgs, n);
    np_aws_sqs_destroy(q);
    fake_net_clean_up(&f);
}
