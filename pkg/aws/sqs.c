/*
 * The SQS client the event consumer long-polls: ReceiveMessage, DeleteMessage and
 * GetQueueAttributes in the Query protocol, POSTed to the queue URL (rebased onto an endpoint
 * override when one is configured) through the shared client core, with a cancel flag that
 * aborts a long poll from another thread.
 */
#include "aws/private/aws_private.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WAIT_SECONDS 20
#define MAX_VISIBILITY_TIMEOUT 43200

struct np_aws_sqs {
    struct np_aws_ec2 *core; /* signing, transport, retries, observer */
    char *override;          /* the SQS endpoint override, NULL when none */
    atomic_bool cancel;
};

int np_aws_sqs_new(struct np_aws_sqs **out, const struct np_aws_sqs_config *cfg)
{
    struct np_aws_sqs *q = NULL;
    int rc = 0;
    *out = NULL;
    if (!cfg)
        return np_error_set(NP_EINVAL, "SQS client: no configuration");
    struct np_aws_ec2_config core_cfg = {
        .region = cfg->region,
        .endpoint = NULL, /* the core has no fixed endpoint: see np_aws_sqs_request_url */
        .credentials = cfg->credentials,
        .provider = cfg->provider,
        .ca_bundle = cfg->ca_bundle,
        .insecure_skip_tls_verify = cfg->insecure_skip_tls_verify,
        .connect_timeout_ms = cfg->connect_timeout_ms,
        .timeout_ms = cfg->timeout_ms,
        .user_agent = cfg->user_agent,
        .max_attempts = cfg->max_attempts,
        .observer = cfg->observer,
        .observer_ctx = cfg->observer_ctx,
        .clock = cfg->clock,
        .no_rate_limit = true, /* SQS is not rate-limited */
    };
    q = np_xcalloc(1, sizeof(*q));
    atomic_init(&q->cancel, false);
    rc = np_aws_client_new(&q->core, &core_cfg, 0);
    if (rc == 0)
        rc = np_aws_endpoint_override(&q->override, "sqs", cfg->endpoint);
    if (rc == 0 && q->override) {
        /* validate it now rather than on the first call */
        char *probe = NULL;
        rc = np_aws_sqs_request_url(q, "https://sqs.invalid/0/probe", &probe);
        free(probe);
    }
    if (rc) {
        np_aws_sqs_destroy(q);
        return rc;
    }
    *out = q;
    return 0;
}

void np_aws_sqs_destroy(struct np_aws_sqs *q)
{
    if (!q)
        return;
    np_aws_ec2_destroy(q->core);
    free(q->override);
    free(q);
}

void np_aws_sqs_set_test_hooks(struct np_aws_sqs *q, const struct np_aws_test_hooks *hooks)
{
    np_aws_ec2_set_test_hooks(q->core, hooks);
}

void np_aws_sqs_cancel(struct np_aws_sqs *q)
{
    atomic_store(&q->cancel, true);
}

void np_aws_sqs_clear_cancel(struct np_aws_sqs *q)
{
    atomic_store(&q->cancel, false);
}

bool np_aws_sqs_is_canceled(struct np_aws_sqs *q)
{
    return atomic_load(&q->cancel);
}

void np_aws_sqs_messages_free(struct np_aws_sqs_message *msgs, size_t n)
{
    if (!msgs)
        return;
    for (size_t i = 0; i < n; i++) {
        free(msgs[i].message_id);
        free(msgs[i].receipt_handle);
        free(msgs[i].body);
    }
    free(msgs);
}

/* ---------------------------------------------------------------- queue URLs */

static bool is_http(const char *scheme)
{
    return scheme && (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
}

int np_aws_sqs_request_url(struct np_aws_sqs *q, const char *queue_url, char **out)
{
    CURLU *u = NULL, *base = NULL;
    char *scheme = NULL, *path = NULL, *query = NULL, *user = NULL, *full = NULL;
    char *b_scheme = NULL, *b_host = NULL, *b_port = NULL;
    int rc = 0;
    *out = NULL;
    if (np_str_is_empty(queue_url))
        return np_error_set(NP_EINVAL, "SQS: a queue URL is required");
    u = curl_url();
    base = curl_url();
    if (!u || !base) {
        rc = np_error_set(NP_ENOMEM, "SQS: out of memory");
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, queue_url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK || !is_http(scheme)) {
        rc = np_error_set(NP_EINVAL, "SQS: queue URL \"%.200s\" is not an http(s) URL", queue_url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        rc = np_error_set(NP_EINVAL, "SQS: queue URL \"%.200s\" may not carry a query or user",
                          queue_url);
        goto out;
    }
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK || !path || strlen(path) < 2) {
        rc = np_error_set(NP_EINVAL, "SQS: queue URL \"%.200s\" has no queue path", queue_url);
        goto out;
    }
    if (q->override) {
        if (curl_url_set(base, CURLUPART_URL, q->override, 0) != CURLUE_OK ||
            curl_url_get(base, CURLUPART_SCHEME, &b_scheme, 0) != CURLUE_OK || !is_http(b_scheme) ||
            curl_url_get(base, CURLUPART_HOST, &b_host, 0) != CURLUE_OK) {
            rc = np_error_set(NP_EINVAL, "SQS: endpoint \"%.200s\" is not a valid http(s) URL",
                              q->override);
            goto out;
        }
        curl_url_get(base, CURLUPART_PORT, &b_port, 0); /* only when explicit */
        if (curl_url_set(u, CURLUPART_SCHEME, b_scheme, 0) != CURLUE_OK ||
            curl_url_set(u, CURLUPART_HOST, b_host, 0) != CURLUE_OK ||
            curl_url_set(u, CURLUPART_PORT, b_port, 0) != CURLUE_OK) {
            rc = np_error_set(NP_EINVAL, "SQS: cannot rebase \"%.200s\" onto \"%.200s\"", queue_url,
                              q->override);
            goto out;
        }
    }
    if (curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
        rc = np_error_set(NP_EINVAL, "SQS: queue URL \"%.200s\" is invalid", queue_url);
        goto out;
    }
    *out = np_strdup(full);
out:
    curl_free(scheme);
    curl_free(path);
    curl_free(query);
    curl_free(user);
    curl_free(full);
    curl_free(b_scheme);
    curl_free(b_host);
    curl_free(b_port);
    curl_url_cleanup(u);
    curl_url_cleanup(base);
    return rc;
}

/* ---------------------------------------------------------------- calls */

static int sqs_call(struct np_aws_sqs *q, const char *queue_url, const char *action,
                    const struct np_buf *form, int64_t extra_timeout_ms, struct np_buf *body)
{
    char *url = NULL;
    int rc = np_aws_sqs_request_url(q, queue_url, &url);
    if (rc == 0) {
        struct np_aws_call call = {
            .service = NP_AWS_SERVICE_SQS,
            .action = action,
            .form = form,
            .url = url,
            .extra_timeout_ms = extra_timeout_ms,
            .cancel = &q->cancel,
        };
        rc = np_aws_call_send(q->core, &call, body);
    }
    free(url);
    return rc;
}

int np_aws_sqs_receive(struct np_aws_sqs *q, const char *queue_url, int max, int wait_seconds,
                       int visibility_timeout, struct np_aws_sqs_message **msgs, size_t *n)
{
    struct np_buf form = NP_BUF_INIT;
    struct np_buf body = NP_BUF_INIT;
    char num[16];
    int rc = 0;
    *msgs = NULL;
    *n = 0;
    if (max < 1 || max > 10)
        return np_error_set(NP_EINVAL, "SQS ReceiveMessage: max must be 1 to 10, not %d", max);
    if (wait_seconds < 0 || wait_seconds > MAX_WAIT_SECONDS)
        return np_error_set(NP_EINVAL, "SQS ReceiveMessage: wait_seconds must be 0 to %d, not %d",
                            MAX_WAIT_SECONDS, wait_seconds);
    if (visibility_timeout < 0 || visibility_timeout > MAX_VISIBILITY_TIMEOUT)
        return np_error_set(NP_EINVAL,
                            "SQS ReceiveMessage: visibility_timeout must be 0 to %d, not %d",
                            MAX_VISIBILITY_TIMEOUT, visibility_timeout);
    rc = np_aws_form_begin(&form, "ReceiveMessage", NP_AWS_SQS_VERSION);
    snprintf(num, sizeof(num), "%d", max);
    if (rc == 0)
        rc = np_aws_form_add(&form, "MaxNumberOfMessages", num);
    snprintf(num, sizeof(num), "%d", wait_seconds);
    if (rc == 0)
        rc = np_aws_form_add(&form, "WaitTimeSeconds", num);
    snprintf(num, sizeof(num), "%d", visibility_timeout);
    if (rc == 0 && visibility_timeout > 0)
        rc = np_aws_form_add(&form, "VisibilityTimeout", num);
    if (rc == 0)
        rc = np_aws_form_add(&form, "AttributeName.1", "ApproximateReceiveCount");
    if (rc == 0)
        rc = np_aws_form_add(&form, "AttributeName.2", "SentTimestamp");
    /* AttributeName is deprecated for MessageSystemAttributeName; AWS takes both */
    if (rc == 0)
        rc = np_aws_form_add(&form, "MessageSystemAttributeName.1", "ApproximateReceiveCount");
    if (rc == 0)
        rc = np_aws_form_add(&form, "MessageSystemAttributeName.2", "SentTimestamp");
    if (rc == 0)
        rc = sqs_call(q, queue_url, "ReceiveMessage", &form, (int64_t)wait_seconds * 1000, &body);
    if (rc == 0)
        rc = np_aws_xml_decode_sqs_messages(body.data, body.len, msgs, n);
    np_buf_clean_up(&form);
    np_buf_clean_up(&body);
    return rc;
}

int np_aws_sqs_delete(struct np_aws_sqs *q, const char *queue_url, const char *receipt_handle)
{
    struct np_buf form = NP_BUF_INIT;
    struct np_buf body = NP_BUF_INIT;
    if (np_str_is_empty(receipt_handle))
        return np_error_set(NP_EINVAL, "SQS DeleteMessage: a receipt handle is required");
    int rc = np_aws_form_begin(&form, "DeleteMessage", NP_AWS_SQS_VERSION);
    if (rc == 0)
        rc = np_aws_form_add(&form, "ReceiptHandle", receipt_handle);
    if (rc == 0)
        rc = sqs_call(q, queue_url, "DeleteMessage", &form, 0, &body);
    if (rc == 0)
        rc = np_aws_xml_decode_return(body.data, body.len, "DeleteMessageResponse", NULL, NULL,
                                      NULL);
    np_buf_clean_up(&form);
    np_buf_clean_up(&body);
    return rc;
}

int np_aws_sqs_check(struct np_aws_sqs *q, const char *queue_url)
{
    struct np_buf form = NP_BUF_INIT;
    struct np_buf body = NP_BUF_INIT;
    char *value = NULL;
    int64_t count = 0;
    int rc = np_aws_form_begin(&form, "GetQueueAttributes", NP_AWS_SQS_VERSION);
    if (rc == 0)
        rc = np_aws_form_add(&form, "AttributeName.1", "ApproximateNumberOfMessages");
    if (rc == 0)
        rc = sqs_call(q, queue_url, "GetQueueAttributes", &form, 0, &body);
    if (rc == 0)
        rc = np_aws_xml_decode_sqs_attribute(body.data, body.len, "ApproximateNumberOfMessages",
                                             &value);
    if (rc == 0 && (!value || np_parse_int64(value, 0, INT64_MAX, &count) != 0))
        rc = np_error_set(NP_EPARSE,
                          "SQS GetQueueAttributes: no numeric ApproximateNumberOfMessages in the "
                          "answer");
    free(value);
    np_buf_clean_up(&form);
    np_buf_clean_up(&body);
    return rc;
}
