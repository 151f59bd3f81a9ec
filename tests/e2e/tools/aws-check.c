/*
 * aws-check: drives pkg/aws against a real EC2/STS/SQS endpoint (moto in the end-to-end suite):
 * GetCallerIdentity, DescribeVpcs, Create/Authorize/Describe/Revoke/Delete of a tagged group,
 * or the SQS consumer calls on a queue, printing one line per step and exiting non-zero on the
 * first failure.
 */

/*
 * Configured only by the environment: AWS_ENDPOINT_URL[_EC2|_STS|_SQS], AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, [AWS_SESSION_TOKEN], AWS_REGION (or AWS_DEFAULT_REGION),
 * [AWS_CA_BUNDLE] (PEM file for TLS).
 *
 * Usage: aws-check                       the full sequence above
 *        aws-check --expect-auth-failure  succeeds only if DescribeVpcs and GetCallerIdentity
 *                                         are refused as bad credentials (NP_EAUTH)
 *        aws-check --sqs QUEUE_URL        GetQueueAttributes (and NP_ENOTFOUND for a missing
 *                                         queue), then receives and deletes every message until
 *                                         the queue is empty (at least one must have been sent
 *                                         first; bodies that are CloudTrail EC2 events are
 *                                         parsed and summarised), checks that nothing comes
 *                                         back, and cancels a 20 s long poll from another thread
 */
#include "aws/aws.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK_TAG "netposture.dev/aws-check"
#define THREADS 4

static atomic_int requests_total;
static atomic_int requests_failed;

static void observe(void *ctx, const struct np_aws_request_info *info)
{
    (void)ctx;
    atomic_fetch_add(&requests_total, 1);
    if (strcmp(info->code, "OK") != 0)
        atomic_fetch_add(&requests_failed, 1);
}

static int fail(const char *step, int rc)
{
    const struct np_aws_error *e = np_aws_error_last();
    printf("FAIL %s: %s (%s; aws code \"%s\", http %ld)\n", step, np_error_message(),
           np_error_name(rc), e->code, e->http_status);
    return 1;
}

static int expect_auth_failure(struct np_aws_ec2 *ec2)
{
    struct np_aws_vpc *vpcs = NULL;
    size_t n = 0;
    int rc = np_aws_ec2_describe_vpcs(ec2, &vpcs, &n, NULL, 0);
    np_aws_vpcs_free(vpcs, n);
    if (rc != NP_EAUTH) {
        printf("FAIL ec2 DescribeVpcs: expected an authentication failure, got %s (%s)\n",
               np_error_name(rc), np_error_message());
        return 1;
    }
    printf("ok   ec2 DescribeVpcs refused: %s (http %ld)\n", np_aws_error_last()->code,
           np_aws_error_last()->http_status);
    rc = np_aws_sts_get_caller_identity(ec2, NULL, NULL);
    if (rc != NP_EAUTH) {
        printf("FAIL sts GetCallerIdentity: expected an authentication failure, got %s (%s)\n",
               np_error_name(rc), np_error_message());
        return 1;
    }
    printf("ok   sts GetCallerIdentity refused: %s (http %ld)\n", np_aws_error_last()->code,
           np_aws_error_last()->http_status);
    return 0;
}

struct par {
    struct np_aws_ec2 *ec2;
    const struct np_aws_filter *filter;
    int rc;
    size_t found;
};

static void *describe_thread(void *arg)
{
    struct par *p = arg;
    for (int i = 0; i < 5 && p->rc == 0; i++) {
        struct np_aws_sg *sgs = NULL;
        size_t n = 0;
        p->rc = np_aws_ec2_describe_security_groups(p->ec2, &sgs, &n, p->filter, 1, NULL, 0);
        p->found = n;
        np_aws_sgs_free(sgs, n);
    }
    return NULL;
}

/* Looks the test group up by its tag; *sg is NULL when absent. */
static int find_group(struct np_aws_ec2 *ec2, const struct np_aws_filter *f, struct np_aws_sg **sg,
                      size_t *n)
{
    return np_aws_ec2_describe_security_groups(ec2, sg, n, f, 1, NULL, 0);
}

static int run(struct np_aws_ec2 *ec2)
{
    char *account = NULL, *arn = NULL, *vpc_id = NULL, *group_id = NULL;
    char name[96], marker[64], filter_name[96];
    const char *vals[1] = {marker};
    struct np_aws_filter by_tag = {filter_name, vals, 1};
    struct np_aws_vpc *vpcs = NULL;
    struct np_aws_sg *sgs = NULL;
    size_t n_vpcs = 0, n_sgs = 0;
    int failed = 0;
    int rc;

    rc = np_aws_sts_get_caller_identity(ec2, &account, &arn);
    if (rc) {
        failed = fail("sts GetCallerIdentity", rc);
        goto out;
    }
    printf("ok   sts GetCallerIdentity: account %s, %s\n", account, arn);

    const char *yes[] = {"true"};
    struct np_aws_filter is_default = {"is-default", yes, 1};
    rc = np_aws_ec2_describe_vpcs(ec2, &vpcs, &n_vpcs, &is_default, 1);
    if (rc) {
        failed = fail("ec2 DescribeVpcs", rc);
        goto out;
    }
    if (n_vpcs != 1 || !vpcs[0].is_default) {
        printf("FAIL ec2 DescribeVpcs: expected one default VPC, got %zu\n", n_vpcs);
        failed = 1;
        goto out;
    }
    vpc_id = np_strdup(vpcs[0].vpc_id);
    printf("ok   ec2 DescribeVpcs: default VPC %s %s\n", vpc_id, vpcs[0].cidr_block);

    snprintf(marker, sizeof(marker), "%ld-%lld", (long)getpid(), (long long)np_time_now_ms());
    snprintf(name, sizeof(name), "np-aws-check-%s", marker);
    snprintf(filter_name, sizeof(filter_name), "tag:%s", CHECK_TAG);
    struct np_aws_tag tags[] = {{(char *)CHECK_TAG, marker}, {(char *)"team", (char *)"e2e"}};
    rc = np_aws_ec2_create_security_group(ec2, &group_id, name, "netposture aws-check & co", vpc_id,
                                          tags, 2);
    if (rc) {
        failed = fail("ec2 CreateSecurityGroup", rc);
        goto out;
    }
    printf("ok   ec2 CreateSecurityGroup: %s (%s) in %s\n", group_id, name, vpc_id);

    struct np_aws_perm perms[] = {
        {(char *)"tcp", true, 443, 443, NP_AWS_PEER_CIDR4, (char *)"10.0.0.0/8", NULL,
         (char *)"https from the VPC"},
        {(char *)"tcp", true, 443, 443, NP_AWS_PEER_CIDR6, (char *)"2001:db8::/32", NULL, NULL},
        {(char *)"udp", true, 53, 53, NP_AWS_PEER_GROUP, group_id, NULL, (char *)"dns from self"},
        {(char *)"tcp", true, 443, 443, NP_AWS_PEER_CIDR4, (char *)"10.0.0.0/8", NULL,
         (char *)"duplicate, dropped before sending"},
    };
    rc = np_aws_ec2_authorize_ingress(ec2, group_id, perms, NP_ARRAY_LEN(perms));
    if (rc) {
        failed = fail("ec2 AuthorizeSecurityGroupIngress", rc);
        goto out;
    }
    printf("ok   ec2 AuthorizeSecurityGroupIngress: 3 permissions (1 duplicate dropped)\n");

    rc = find_group(ec2, &by_tag, &sgs, &n_sgs);
    if (rc) {
        failed = fail("ec2 DescribeSecurityGroups", rc);
        goto out;
    }
    if (n_sgs != 1 || !np_str_eq(sgs[0].group_id, group_id) || sgs[0].n_ingress != 3) {
        printf("FAIL ec2 DescribeSecurityGroups: expected %s with 3 ingress permissions, got "
               "%zu groups (%zu ingress)\n",
               group_id, n_sgs, n_sgs ? sgs[0].n_ingress : 0);
        failed = 1;
        goto out;
    }
    bool desc_ok = false;
    for (size_t i = 0; i < sgs[0].n_ingress; i++)
        if (np_str_eq(sgs[0].ingress[i].peer, "10.0.0.0/8") &&
            np_str_eq(sgs[0].ingress[i].description, "https from the VPC"))
            desc_ok = true;
    if (!desc_ok || !np_str_eq(sgs[0].description, "netposture aws-check & co")) {
        printf("FAIL ec2 DescribeSecurityGroups: descriptions did not round-trip\n");
        failed = 1;
        goto out;
    }
    printf("ok   ec2 DescribeSecurityGroups (tag filter): %s, %zu ingress, %zu egress, %zu tags\n",
           group_id, sgs[0].n_ingress, sgs[0].n_egress, sgs[0].n_tags);

    struct par par[THREADS];
    pthread_t tids[THREADS];
    for (int i = 0; i < THREADS; i++) {
        par[i] = (struct par){ec2, &by_tag, 0, 0};
        pthread_create(&tids[i], NULL, describe_thread, &par[i]);
    }
    int par_rc = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(tids[i], NULL);
        if (par[i].rc && !par_rc)
            par_rc = par[i].rc;
        else if (par[i].found != 1 && !par_rc)
            par_rc = NP_EIO;
    }
    if (par_rc) {
        printf("FAIL ec2 DescribeSecurityGroups from %d threads: %s\n", THREADS,
               np_error_name(par_rc));
        failed = 1;
        goto out;
    }
    printf("ok   ec2 DescribeSecurityGroups from %d threads at once (%d calls)\n", THREADS,
           THREADS * 5);

    np_aws_sgs_free(sgs, n_sgs);
    sgs = NULL;
    n_sgs = 0;
    rc = np_aws_ec2_revoke_ingress(ec2, group_id, perms, 3);
    if (rc == 0)
        rc = find_group(ec2, &by_tag, &sgs, &n_sgs);
    if (rc) {
        failed = fail("ec2 RevokeSecurityGroupIngress", rc);
        goto out;
    }
    if (n_sgs != 1 || sgs[0].n_ingress != 0) {
        printf("FAIL ec2 RevokeSecurityGroupIngress: %zu ingress permissions remain\n",
               n_sgs ? sgs[0].n_ingress : 0);
        failed = 1;
        goto out;
    }
    printf("ok   ec2 RevokeSecurityGroupIngress: no ingress left\n");
    rc = np_aws_ec2_revoke_ingress(ec2, group_id, perms, 1);
    if (rc != NP_ENOTFOUND) {
        printf("FAIL ec2 RevokeSecurityGroupIngress again: expected ENOTFOUND, got %s\n",
               np_error_name(rc));
        failed = 1;
        goto out;
    }
    printf("ok   ec2 RevokeSecurityGroupIngress again: %s\n", np_aws_error_last()->code);

out:
    if (group_id) {
        np_aws_sgs_free(sgs, n_sgs);
        sgs = NULL;
        n_sgs = 0;
        rc = np_aws_ec2_delete_security_group(ec2, group_id);
        if (rc) {
            failed = fail("ec2 DeleteSecurityGroup", rc);
        } else if (!failed) {
            rc = find_group(ec2, &by_tag, &sgs, &n_sgs);
            if (rc || n_sgs != 0) {
                printf("FAIL ec2 DeleteSecurityGroup: the group is still listed\n");
                failed = 1;
            } else {
                printf("ok   ec2 DeleteSecurityGroup: %s gone\n", group_id);
            }
        }
    }
    np_aws_sgs_free(sgs, n_sgs);
    np_aws_vpcs_free(vpcs, n_vpcs);
    free(account);
    free(arn);
    free(vpc_id);
    free(group_id);
    return failed;
}

/* ---------------------------------------------------------------- SQS */

/* Prints what a message body is: a CloudTrail EC2 event and the resources it names, or why
 * the consumer would drop it. */
static void describe_body(const struct np_aws_sqs_message *m)
{
    struct np_aws_event ev;
    int rc = np_aws_event_parse(m->body, strlen(m->body), &ev);
    if (rc) {
        printf("     message %s: %zu bytes, not an EC2 CloudTrail event (%s: %s)\n", m->message_id,
               strlen(m->body), np_error_name(rc), np_error_message());
        return;
    }
    printf("     message %s: %s by %s, %zu resource%s%s%s\n", m->message_id, ev.event_name,
           ev.actor ? ev.actor : "(no actor)", ev.n_resource_ids, ev.n_resource_ids == 1 ? "" : "s",
           ev.n_resource_ids ? " first " : "", ev.n_resource_ids ? ev.resource_ids[0] : "");
    np_aws_event_clean_up(&ev);
}

struct poll_job {
    struct np_aws_sqs *sqs;
    const char *queue_url;
    int rc;
    int64_t took_ms;
};

static void *long_poll(void *arg)
{
    struct poll_job *j = arg;
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0;
    int64_t t0 = np_time_mono_ms();
    /* The server keeps an aborted long poll open and may still hand it a message sent
     * meanwhile: a 1 s visibility timeout gives such a message back to the queue at once. */
    j->rc = np_aws_sqs_receive(j->sqs, j->queue_url, 10, 20, 1, &msgs, &n);
    j->took_ms = np_time_mono_ms() - t0;
    np_aws_sqs_messages_free(msgs, n);
    return NULL;
}

static int run_sqs(struct np_aws_sqs *sqs, const char *queue_url)
{
    struct np_aws_sqs_message *msgs = NULL;
    size_t n = 0, total = 0;
    char *missing = NULL;
    int failed = 0;

    int rc = np_aws_sqs_check(sqs, queue_url);
    if (rc) {
        failed = fail("sqs GetQueueAttributes", rc);
        goto out;
    }
    printf("ok   sqs GetQueueAttributes: %s is reachable\n", queue_url);

    missing = np_strdupf("%s-np-missing", queue_url);
    rc = np_aws_sqs_check(sqs, missing);
    if (rc != NP_ENOTFOUND) {
        printf("FAIL sqs GetQueueAttributes of a missing queue: expected ENOTFOUND, got %s (%s)\n",
               np_error_name(rc), np_error_message());
        failed = 1;
        goto out;
    }
    printf("ok   sqs GetQueueAttributes of a missing queue: %s\n", np_aws_error_last()->code);

    for (int round = 0; round < 100; round++) {
        rc = np_aws_sqs_receive(sqs, queue_url, 10, round == 0 ? 2 : 1, 30, &msgs, &n);
        if (rc) {
            failed = fail("sqs ReceiveMessage", rc);
            goto out;
        }
        if (n == 0)
            break;
        for (size_t i = 0; i < n; i++) {
            describe_body(&msgs[i]);
            rc = np_aws_sqs_delete(sqs, queue_url, msgs[i].receipt_handle);
            if (rc) {
                failed = fail("sqs DeleteMessage", rc);
                goto out;
            }
        }
        total += n;
        np_aws_sqs_messages_free(msgs, n);
        msgs = NULL;
        n = 0;
    }
    if (total == 0) {
        printf("FAIL sqs ReceiveMessage: the queue was empty (send a message first)\n");
        failed = 1;
        goto out;
    }
    printf("ok   sqs ReceiveMessage + DeleteMessage: %zu message%s\n", total,
           total == 1 ? "" : "s");

    rc = np_aws_sqs_receive(sqs, queue_url, 10, 1, 0, &msgs, &n);
    if (rc || n != 0) {
        printf("FAIL sqs ReceiveMessage after the deletes: %s, %zu messages came back\n",
               np_error_name(rc), n);
        failed = 1;
        goto out;
    }
    printf("ok   sqs ReceiveMessage after the deletes: empty (1 s long poll)\n");

    struct poll_job job = {sqs, queue_url, 0, 0};
    pthread_t tid;
    pthread_create(&tid, NULL, long_poll, &job);
    np_sleep_ms(300);
    np_aws_sqs_cancel(sqs);
    pthread_join(tid, NULL);
    np_aws_sqs_clear_cancel(sqs);
    if (job.rc != NP_ECANCELED || job.took_ms > 3000) {
        printf("FAIL sqs ReceiveMessage canceled: %s after %lld ms (want ECANCELED within 3 s)\n",
               np_error_name(job.rc), (long long)job.took_ms);
        failed = 1;
        goto out;
    }
    rc = np_aws_sqs_check(sqs, queue_url);
    if (rc) {
        failed = fail("sqs GetQueueAttributes after clearing the cancel", rc);
        goto out;
    }
    printf("ok   sqs ReceiveMessage (20 s long poll) canceled from another thread after %lld ms\n",
           (long long)job.took_ms);
out:
    np_aws_sqs_messages_free(msgs, n);
    free(missing);
    return failed;
}

int main(int argc, char **argv)
{
    bool auth_failure = argc == 2 && strcmp(argv[1], "--expect-auth-failure") == 0;
    const char *queue_url = argc == 3 && strcmp(argv[1], "--sqs") == 0 ? argv[2] : NULL;
    struct np_aws_credentials creds = {NULL, NULL, NULL};
    struct np_aws_ec2 *ec2 = NULL;
    struct np_aws_sqs *sqs = NULL;
    int failed = 1;
    if (argc > 1 && !auth_failure && !queue_url) {
        fprintf(stderr, "usage: %s [--expect-auth-failure | --sqs QUEUE_URL]\n", argv[0]);
        return 2;
    }
    const char *region = getenv("AWS_REGION");
    if (np_str_is_empty(region))
        region = getenv("AWS_DEFAULT_REGION");
    int rc = np_aws_credentials_from_env(&creds);
    if (rc) {
        failed = fail("credentials", rc);
        goto out;
    }
    if (queue_url) {
        struct np_aws_sqs_config qcfg = {
            .region = region,
            .credentials = &creds,
            .ca_bundle = getenv("AWS_CA_BUNDLE"),
            .user_agent = "netposture-aws-check",
            .observer = observe,
        };
        rc = np_aws_sqs_new(&sqs, &qcfg);
        if (rc) {
            failed = fail("sqs client", rc);
            goto out;
        }
        printf("ok   sqs client: region %s\n", region);
        failed = run_sqs(sqs, queue_url);
        printf("%s aws-check --sqs: %d requests, %d not OK\n", failed ? "FAIL" : "ok  ",
               atomic_load(&requests_total), atomic_load(&requests_failed));
        goto out;
    }
    struct np_aws_ec2_config cfg = {
        .region = region,
        .credentials = &creds,
        .ca_bundle = getenv("AWS_CA_BUNDLE"),
        .user_agent = "netposture-aws-check",
        .observer = observe,
    };
    rc = np_aws_ec2_new(&ec2, &cfg);
    if (rc) {
        failed = fail("client", rc);
        goto out;
    }
    printf("ok   client: region %s, endpoint %s\n", region, np_aws_ec2_endpoint(ec2));
    failed = auth_failure ? expect_auth_failure(ec2) : run(ec2);
    printf("%s aws-check: %d requests, %d not OK\n", failed ? "FAIL" : "ok  ",
           atomic_load(&requests_total), atomic_load(&requests_failed));
out:
    np_aws_sqs_destroy(sqs);
    np_aws_ec2_destroy(ec2);
    np_aws_credentials_clean_up(&creds);
    return failed ? 1 : 0;
}
