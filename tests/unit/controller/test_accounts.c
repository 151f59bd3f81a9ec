/*
 * Unit tests for CloudAccount lifetimes (accounts.c): a slow Secret read does not block other
 * accounts, retired accounts and idle regions are freed by their last release, region names
 * are validated and bounded per account, and plain-HTTP endpoints to non-loopback hosts are
 * refused before anything is contacted. A loopback fake API server serves Secrets and EC2.
 */
#include "controller/private/controller_private.h"
#include "kube/private/store.h"

#include "../kube/fake_apiserver.h"
#include "../kube/helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEADLINE_MS 10000

/* base64("AKIDEXAMPLE"), base64("secret") */
#define SECRET_BODY(name)                                                                          \
    "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"" name "\","              \
    "\"namespace\":\"netposture-system\"},\"data\":{\"accessKeyId\":\"QUtJREVYQU1QTEU=\","         \
    "\"secretAccessKey\":\"c2VjcmV0\"}}"

#define EMPTY_DESCRIBE                                                                             \
    "<DescribeSecurityGroupsResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15\">"           \
    "<requestId>r</requestId><securityGroupInfo/></DescribeSecurityGroupsResponse>"

struct harness {
    struct fake_server *server;
    struct fake_clock clock;
    struct np_controller *ctl;
    /* The Secret "slow" is held until the test releases it. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool release_slow;
    bool slow_in_flight;
    struct waiter slow_started;
    int64_t generation;
};

static void handler(void *ctx, const struct fake_req *req, struct fake_conn *conn)
{
    struct harness *h = ctx;
    if (strcmp(req->method, "GET") == 0 &&
        strcmp(req->path, "/api/v1/namespaces/netposture-system/secrets/slow") == 0) {
        pthread_mutex_lock(&h->lock);
        h->slow_in_flight = true;
        pthread_mutex_unlock(&h->lock);
        waiter_bump(&h->slow_started);
        pthread_mutex_lock(&h->lock);
        while (!h->release_slow && !fake_server_stopping(conn))
            pthread_cond_wait(&h->cond, &h->lock);
        h->slow_in_flight = false;
        pthread_mutex_unlock(&h->lock);
        fake_reply(conn, 200, SECRET_BODY("slow"));
        return;
    }
    if (strcmp(req->method, "GET") == 0 &&
        strcmp(req->path, "/api/v1/namespaces/netposture-system/secrets/fast") == 0) {
        fake_reply(conn, 200, SECRET_BODY("fast"));
        return;
    }
    if (strcmp(req->method, "GET") == 0 &&
        (strcmp(req->path, "/api/v1/namespaces/np-ops/secrets/fast") == 0 ||
         strcmp(req->path, "/api/v1/namespaces/other/secrets/fast") == 0)) {
        fake_reply(conn, 200, SECRET_BODY("fast")); /* refused before it is asked for */
        return;
    }
    if (strcmp(req->method, "POST") == 0 && strcmp(req->path, "/") == 0) {
        fake_reply(conn, 200, EMPTY_DESCRIBE); /* the pollers' DescribeSecurityGroups */
        return;
    }
    fake_reply(conn, 404, "{\"kind\":\"Status\",\"code\":404}");
}

static void harness_start(struct harness *h)
{
    memset(h, 0, sizeof(*h));
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    waiter_init(&h->slow_started);
    fake_clock_init(&h->clock, 1796083200000LL);
    h->server = fake_server_start(handler, h);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
    unsetenv("AWS_ENDPOINT_URL");
    unsetenv("AWS_ENDPOINT_URL_EC2");
    unsetenv("AWS_ENDPOINT_URL_STS");
    unsetenv("AWS_ENDPOINT_URL_SQS");

    struct np_controller *ctl = np_xcalloc(1, sizeof(*ctl));
    ctl->opts.resync_ms = 60 * 1000;
    ctl->opts.workers = 2;
    ctl->clock = &h->clock.clock;
    struct np_kube_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.server = (char *)fake_server_url(h->server);
    struct np_kube_client_options kopts = {.user_agent = "unit", .request_timeout_ms = 30000};
    cr_assert_eq(np_kube_client_new(&ctl->kube, &cfg, &kopts), 0, "%s", np_error_message());
    struct np_kube_workqueue_options qopts = {.base_delay_ms = 1000, .max_delay_ms = 60000};
    cr_assert_eq(np_kube_workqueue_new(&ctl->queue, &qopts), 0);
    ctl->metrics = np_metrics_new();
    struct np_kube_informer_options io;
    memset(&io, 0, sizeof(io));
    io.resource = np_controller_res_accounts;
    cr_assert_eq(np_kube_informer_new(&ctl->acct_inf, ctl->kube, &io), 0); /* never started */
    np_controller_accounts_init(ctl);
    h->ctl = ctl;
}

static void harness_stop(struct harness *h)
{
    struct np_controller *ctl = h->ctl;
    pthread_mutex_lock(&h->lock);
    h->release_slow = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    np_controller_pollers_stop(ctl);
    np_controller_accounts_clean_up(ctl);
    cr_expect_eq(atomic_load(&ctl->accounts_live), 0, "accounts leaked");
    cr_expect_eq(atomic_load(&ctl->regions_live), 0, "regions leaked");
    np_kube_informer_destroy(ctl->acct_inf);
    np_kube_workqueue_shutdown(ctl->queue);
    np_kube_workqueue_destroy(ctl->queue);
    np_metrics_destroy(ctl->metrics);
    np_kube_client_destroy(ctl->kube);
    free(ctl);
    fake_server_stop(h->server);
    waiter_clean_up(&h->slow_started);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
}

/* Puts a CloudAccount into the informer's store. aws is the JSON of spec.aws. */
static void put_account(struct harness *h, const char *name, int64_t generation, const char *aws)
{
    char *text = np_strdupf("{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":\"CloudAccount\","
                            "\"metadata\":{\"name\":\"%s\",\"uid\":\"u-%s\",\"generation\":%lld,"
                            "\"resourceVersion\":\"%lld\"},\"spec\":{\"aws\":%s}}",
                            name, name, (long long)generation, (long long)++h->generation, aws);
    json_object *obj = json_tokener_parse(text);
    cr_assert_not_null(obj, "bad test JSON: %s", text);
    cr_assert_eq(
        np_kube_store_apply(np_kube_informer_store(h->ctl->acct_inf), NP_KUBE_MODIFIED, obj, NULL),
        0);
    json_object_put(obj);
    free(text);
}

/* spec.aws of an account on the fake server (loopback plain HTTP is allowed). */
static char *aws_spec(struct harness *h, const char *region, const char *credentials)
{
    return np_strdupf("{\"region\":\"%s\",\"endpoint\":\"%s\",\"credentials\":%s}", region,
                      fake_server_url(h->server), credentials);
}

static void put_env_account(struct harness *h, const char *name, int64_t generation)
{
    char *aws = aws_spec(h, "eu-west-1", "{\"source\":\"Environment\"}");
    put_account(h, name, generation, aws);
    free(aws);
}

/* ---------------------------------------------------------------- no I/O under the lock */

struct lookup {
    struct harness *h;
    const char *account;
    struct np_controller_account_hold use;
    int rc;
    struct waiter done;
};

static void *lookup_main(void *arg)
{
    struct lookup *l = arg;
    l->rc = np_controller_account_use(l->h->ctl, l->account, "shop", NULL, &l->use);
    waiter_bump(&l->done);
    return NULL;
}

Test(controller_accounts, slow_secret_read_does_not_block_another_account)
{
    struct harness h;
    harness_start(&h);
    char *slow = aws_spec(&h, "eu-west-1",
                          "{\"source\":\"Secret\",\"secretRef\":{\"namespace\":"
                          "\"netposture-system\",\"name\":\"slow\"}}");
    char *fast = aws_spec(&h, "eu-west-1",
                          "{\"source\":\"Secret\",\"secretRef\":{\"namespace\":"
                          "\"netposture-system\",\"name\":\"fast\"}}");
    put_account(&h, "slow", 1, slow);
    put_account(&h, "fast", 1, fast);
    free(slow);
    free(fast);

    struct lookup a = {.h = &h, .account = "slow"}, b = {.h = &h, .account = "fast"};
    waiter_init(&a.done);
    waiter_init(&b.done);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, lookup_main, &a);
    cr_assert_eq(waiter_wait(&h.slow_started, 1, DEADLINE_MS), 1,
                 "the slow Secret GET never reached the server");
    /* While the API server holds the first account's Secret GET, another worker resolves a
     * different account (its own Secret GET included). */
    pthread_create(&tb, NULL, lookup_main, &b);
    int done = waiter_wait(&b.done, 1, DEADLINE_MS);
    pthread_mutex_lock(&h.lock);
    bool still_held = h.slow_in_flight;
    h.release_slow = true;
    pthread_cond_broadcast(&h.cond);
    pthread_mutex_unlock(&h.lock);
    pthread_join(tb, NULL);
    pthread_join(ta, NULL);
    cr_assert_eq(done, 1, "the other account's lookup waited for the slow Secret GET");
    cr_assert(still_held, "the slow GET ended before the other lookup completed");
    cr_assert_eq(b.rc, 0);
    cr_assert_eq(b.use.reason, NP_CONTROLLER_REASON_NONE, "%s", b.use.message);
    cr_assert_eq(a.rc, 0);
    cr_assert_eq(a.use.reason, NP_CONTROLLER_REASON_NONE, "%s", a.use.message);
    cr_assert_not_null(a.use.region);
    np_controller_account_hold_clean_up(&a.use);
    np_controller_account_hold_clean_up(&b.use);
    waiter_clean_up(&a.done);
    waiter_clean_up(&b.done);
    harness_stop(&h);
}

Test(controller_accounts, concurrent_builds_install_one_account)
{
    struct harness h;
    harness_start(&h);
    char *slow = aws_spec(&h, "eu-west-1",
                          "{\"source\":\"Secret\",\"secretRef\":{\"namespace\":"
                          "\"netposture-system\",\"name\":\"slow\"}}");
    put_account(&h, "slow", 1, slow);
    free(slow);
    /* Two workers miss the cache at once and both read the Secret (held by the server until
     * both are in flight): the second to finish uses the first one's account. */
    struct lookup a = {.h = &h, .account = "slow"}, b = {.h = &h, .account = "slow"};
    waiter_init(&a.done);
    waiter_init(&b.done);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, lookup_main, &a);
    pthread_create(&tb, NULL, lookup_main, &b);
    int arrived = waiter_wait(&h.slow_started, 2, DEADLINE_MS);
    pthread_mutex_lock(&h.lock);
    h.release_slow = true;
    pthread_cond_broadcast(&h.cond);
    pthread_mutex_unlock(&h.lock);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert_eq(arrived, 2, "the two Secret reads were not concurrent");
    cr_assert_eq(a.use.reason, NP_CONTROLLER_REASON_NONE, "%s", a.use.message);
    cr_assert_eq(b.use.reason, NP_CONTROLLER_REASON_NONE, "%s", b.use.message);
    cr_assert_eq(a.use.region, b.use.region, "two accounts were installed");
    cr_assert_eq(atomic_load(&h.ctl->accounts_live), 1, "the losing build was not freed");
    cr_assert_eq(atomic_load(&h.ctl->regions_live), 1);
    np_controller_account_hold_clean_up(&a.use);
    np_controller_account_hold_clean_up(&b.use);
    waiter_clean_up(&a.done);
    waiter_clean_up(&b.done);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- lifetimes */

Test(controller_accounts, retired_account_is_freed_by_its_last_release)
{
    struct harness h;
    harness_start(&h);
    struct np_controller *ctl = h.ctl;
    put_env_account(&h, "prod", 1);
    struct np_controller_account_hold first, second;
    cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", NULL, &first), 0);
    cr_assert_eq(first.reason, NP_CONTROLLER_REASON_NONE, "%s", first.message);
    cr_assert_eq(atomic_load(&ctl->accounts_live), 1);

    /* An edit of the CloudAccount: the next use builds a new account and retires the old,
     * which the first holder still uses. */
    put_env_account(&h, "prod", 2);
    cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", NULL, &second), 0);
    cr_assert_eq(second.reason, NP_CONTROLLER_REASON_NONE, "%s", second.message);
    cr_assert_neq(first.region, second.region);
    cr_assert_eq(atomic_load(&ctl->accounts_live), 2);
    cr_assert_eq(atomic_load(&ctl->regions_live), 2);
    cr_assert_not_null(np_controller_region_ec2(first.region),
                       "a held retired region stays usable");

    np_controller_account_hold_clean_up(&first);
    cr_assert_eq(atomic_load(&ctl->accounts_live), 1, "the retired account outlived its holders");
    cr_assert_eq(atomic_load(&ctl->regions_live), 1);

    /* A deleted account goes the same way. */
    np_controller_accounts_invalidate(ctl, "prod");
    cr_assert_eq(atomic_load(&ctl->accounts_live), 1, "freed while still held");
    np_controller_account_hold_clean_up(&second);
    cr_assert_eq(atomic_load(&ctl->accounts_live), 0);
    cr_assert_eq(atomic_load(&ctl->regions_live), 0);
    harness_stop(&h);
}

Test(controller_accounts, idle_region_is_freed_by_its_last_release)
{
    struct harness h;
    harness_start(&h);
    struct np_controller *ctl = h.ctl;
    put_env_account(&h, "prod", 1);
    struct np_controller_account_hold own, other;
    cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", NULL, &own), 0);
    cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", "us-west-2", &other), 0);
    cr_assert_eq(other.reason, NP_CONTROLLER_REASON_NONE, "%s", other.message);
    cr_assert_str_eq(other.region_name, "us-west-2");
    cr_assert_eq(atomic_load(&ctl->regions_live), 2);
    /* Used recently: kept after its release. */
    np_controller_account_hold_clean_up(&other);
    cr_assert_eq(atomic_load(&ctl->regions_live), 2);
    cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", "us-west-2", &other), 0);
    /* Held through the idle window (nothing in its snapshot): its last release frees it and
     * joins its poller; the account's own region stays. */
    fake_clock_advance(&h.clock, 60LL * 60 * 1000);
    np_controller_account_hold_clean_up(&other);
    cr_assert_eq(atomic_load(&ctl->regions_live), 1, "the idle region was kept");
    np_controller_account_hold_clean_up(&own);
    cr_assert_eq(atomic_load(&ctl->regions_live), 1, "the account's own region was freed");
    harness_stop(&h);
}

Test(controller_accounts, edit_that_cannot_be_served_retires_the_old_clients)
{
    struct harness h;
    harness_start(&h);
    struct np_controller *ctl = h.ctl;
    put_env_account(&h, "prod", 1);
    struct np_controller_account_hold use;
    cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", NULL, &use), 0);
    np_controller_account_hold_clean_up(&use);
    cr_assert_eq(atomic_load(&ctl->accounts_live), 1, "cached");
    /* Edited to an endpoint that is refused: the postures are told, and the old account's
     * pollers do not keep serving the abandoned spec. */
    put_account(&h, "prod", 2,
                "{\"region\":\"eu-west-1\",\"endpoint\":\"http://example.invalid\","
                "\"credentials\":{\"source\":\"Environment\"}}");
    cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", NULL, &use), 0);
    cr_assert_str_eq(np_controller_reason_name(use.reason), "InsecureEndpoint");
    cr_assert_not_null(strstr(use.message, "example.invalid"), "%s", use.message);
    np_controller_account_hold_clean_up(&use);
    cr_assert_eq(atomic_load(&ctl->accounts_live), 0, "the old account still runs");
    cr_assert_eq(atomic_load(&ctl->regions_live), 0);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- regions */

Test(controller_accounts, invalid_region_is_refused_without_a_poller)
{
    struct harness h;
    harness_start(&h);
    struct np_controller *ctl = h.ctl;
    put_env_account(&h, "prod", 1);
    static const char *const bad[] = {"eu-west-1a",     "EU-WEST-1",   "eu-west", "local",
                                      "us-east-1/../x", "a-b-c-d-e-1", ""};
    for (size_t i = 0; i < NP_ARRAY_LEN(bad); i++) {
        struct np_controller_account_hold use;
        cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", bad[i], &use), 0);
        cr_assert_str_eq(np_controller_reason_name(use.reason), "InvalidRegion", "region \"%s\"",
                         bad[i]);
        cr_assert_not_null(strstr(use.message, "not an AWS region name"), "%s", use.message);
        cr_assert_null(use.region);
        np_controller_account_hold_clean_up(&use);
    }
    cr_assert_eq(atomic_load(&ctl->regions_live), 0, "a bad region started a poller");
    cr_assert_eq(atomic_load(&ctl->accounts_live), 0);
    harness_stop(&h);
}

Test(controller_accounts, regions_per_account_are_bounded)
{
    struct harness h;
    harness_start(&h);
    struct np_controller *ctl = h.ctl;
    put_env_account(&h, "prod", 1);
    struct np_controller_account_hold uses[NP_CONTROLLER_ACCOUNT_MAX_REGIONS + 1];
    cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", NULL, &uses[0]), 0);
    for (int i = 1; i <= NP_CONTROLLER_ACCOUNT_MAX_REGIONS; i++) {
        char region[32];
        snprintf(region, sizeof(region), "zz-test-%d", i);
        cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", region, &uses[i]), 0);
        cr_assert_eq(uses[i].reason, NP_CONTROLLER_REASON_NONE, "%s: %s", region, uses[i].message);
    }
    struct np_controller_account_hold over;
    cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", "zz-test-99", &over), 0);
    cr_assert_str_eq(np_controller_reason_name(over.reason), "TooManyRegions");
    cr_assert_null(over.region);
    np_controller_account_hold_clean_up(&over);
    /* A region already served is still reachable, and so is the account's own. */
    struct np_controller_account_hold again;
    cr_assert_eq(np_controller_account_use(ctl, "prod", "shop", "zz-test-7", &again), 0);
    cr_assert_eq(again.reason, NP_CONTROLLER_REASON_NONE, "%s", again.message);
    np_controller_account_hold_clean_up(&again);
    cr_assert_eq(atomic_load(&ctl->regions_live), NP_CONTROLLER_ACCOUNT_MAX_REGIONS + 1);
    for (int i = 0; i <= NP_CONTROLLER_ACCOUNT_MAX_REGIONS; i++)
        np_controller_account_hold_clean_up(&uses[i]);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- plain HTTP */

static void expect_insecure(struct harness *h, const char *account, const char *needle)
{
    struct np_controller_account_hold use;
    cr_assert_eq(np_controller_account_use(h->ctl, account, "shop", NULL, &use), 0);
    cr_assert_str_eq(np_controller_reason_name(use.reason), "InsecureEndpoint", "%s",
                     use.message ? use.message : "");
    cr_assert_not_null(strstr(use.message, needle), "%s", use.message);
    cr_assert_not_null(strstr(use.message, "allowInsecureEndpoint"), "%s", use.message);
    cr_assert_null(use.region);
    np_controller_account_hold_clean_up(&use);
    cr_assert_eq(atomic_load(&h->ctl->accounts_live), 0);
    cr_assert_eq(atomic_load(&h->ctl->regions_live), 0);
}

Test(controller_accounts, plain_http_endpoint_is_refused_unless_loopback)
{
    struct harness h;
    harness_start(&h);
    int before = fake_server_count(h.server);
    put_account(&h, "remote", 1,
                "{\"region\":\"eu-west-1\",\"endpoint\":\"http://example.invalid\","
                "\"credentials\":{\"source\":\"Environment\"}}");
    expect_insecure(&h, "remote", "http://example.invalid");
    /* The queue URL is checked as well. */
    char *aws = np_strdupf("{\"region\":\"eu-west-1\",\"endpoint\":\"%s\",\"eventQueueUrl\":"
                           "\"http://example.invalid/123456789012/q\",\"credentials\":"
                           "{\"source\":\"Environment\"}}",
                           fake_server_url(h.server));
    put_account(&h, "queue", 1, aws);
    free(aws);
    expect_insecure(&h, "queue", "eventQueueUrl");
    /* And the environment's endpoint overrides. */
    setenv("AWS_ENDPOINT_URL_EC2", "http://example.invalid:8080", 1);
    put_account(&h, "env", 1,
                "{\"region\":\"eu-west-1\",\"credentials\":{\"source\":\"Environment\"}}");
    expect_insecure(&h, "env", "EC2 endpoint");
    unsetenv("AWS_ENDPOINT_URL_EC2");
    /* Nothing was contacted, not even the Secret-less loopback server. */
    cr_assert_eq(fake_server_count(h.server), before);
    harness_stop(&h);
}

/* ---------------------------------------------------------------- credentials */

/* A posture on an account whose credentials cannot be had: AccountNotReady, nothing started. */
static void expect_not_ready(struct harness *h, const char *account, const char *needle)
{
    struct np_controller_account_hold use;
    cr_assert_eq(np_controller_account_use(h->ctl, account, "shop", NULL, &use), 0);
    cr_assert_str_eq(np_controller_reason_name(use.reason), "AccountNotReady", "%s",
                     use.message ? use.message : "");
    cr_assert_not_null(strstr(use.message, needle), "%s", use.message);
    cr_assert_null(use.region);
    np_controller_account_hold_clean_up(&use);
    cr_assert_eq(atomic_load(&h->ctl->regions_live), 0, "a poller runs without credentials");
}

Test(controller_accounts, missing_credentials_make_postures_account_not_ready)
{
    struct harness h;
    harness_start(&h);
    unsetenv("AWS_ACCESS_KEY_ID");
    put_env_account(&h, "prod", 1);
    expect_not_ready(&h, "prod", "(CredentialsNotFound)");
    expect_not_ready(&h, "prod", "AWS_ACCESS_KEY_ID");
    harness_stop(&h);
}

Test(controller_accounts, web_identity_token_outside_allowed_dirs_is_unreadable)
{
    struct harness h;
    harness_start(&h);
    char dir[] = "/tmp/np-acct-token-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *file = np_strdupf("%s/token", dir);
    FILE *fp = fopen(file, "w");
    cr_assert_not_null(fp);
    fputs("header.payload.sig", fp);
    fclose(fp);
    char *creds = np_strdupf("{\"source\":\"WebIdentity\",\"roleArn\":"
                             "\"arn:aws:iam::111111111111:role/irsa\",\"tokenFile\":\"%s\"}",
                             file);
    char *aws = aws_spec(&h, "eu-west-1", creds);
    put_account(&h, "irsa", 1, aws);
    expect_not_ready(&h, "irsa", "(WebIdentityTokenUnreadable)");
    expect_not_ready(&h, "irsa", "outside the allowed directories");
    unlink(file);
    rmdir(dir);
    free(aws);
    free(creds);
    free(file);
    harness_stop(&h);
}

Test(controller_accounts, every_service_endpoint_is_checked)
{
    struct harness h;
    harness_start(&h);
    char *aws = np_strdupf("{\"region\":\"eu-west-1\",\"endpoint\":\"%s\",\"endpoints\":"
                           "{\"sts\":\"http://sts.example.invalid\"},\"credentials\":"
                           "{\"source\":\"Environment\"}}",
                           fake_server_url(h.server));
    put_account(&h, "sts", 1, aws);
    free(aws);
    expect_insecure(&h, "sts", "STS endpoint");
    aws = np_strdupf("{\"region\":\"eu-west-1\",\"endpoints\":{\"ec2\":\"%s\",\"cloudtrail\":"
                     "\"http://ct.example.invalid\"},\"eventQueueUrl\":\"%s/1/q\","
                     "\"credentials\":{\"source\":\"Environment\"}}",
                     fake_server_url(h.server), fake_server_url(h.server));
    put_account(&h, "trail", 1, aws);
    free(aws);
    expect_insecure(&h, "trail", "CloudTrail endpoint");
    harness_stop(&h);
}

/* Credential Secrets are read from the controller's own namespace only (--controller-namespace
 * or the pod's): a secretRef elsewhere, even to the default netposture-system, is refused
 * before any request, naming the namespace to use. */
Test(controller_accounts, secrets_come_from_the_controllers_namespace_only)
{
    struct harness h;
    harness_start(&h);
    cr_assert_str_eq(np_controller_own_namespace(h.ctl), "netposture-system");
    h.ctl->own_namespace = np_strdup("np-ops");
    const char *refs[] = {"netposture-system", "other"};
    for (size_t i = 0; i < 2; i++) {
        char *creds = np_strdupf("{\"source\":\"Secret\",\"secretRef\":{\"namespace\":"
                                 "\"%s\",\"name\":\"fast\"}}",
                                 refs[i]);
        char *aws = aws_spec(&h, "eu-west-1", creds);
        int before = fake_server_count(h.server);
        put_account(&h, refs[i], 1, aws);
        struct np_controller_account_hold use;
        cr_assert_eq(np_controller_account_use(h.ctl, refs[i], "shop", NULL, &use), 0);
        cr_assert_str_eq(np_controller_reason_name(use.reason), "AccountError", "%s",
                         use.message ? use.message : "");
        cr_assert_not_null(strstr(use.message, "controller's namespace np-ops"), "%s", use.message);
        cr_assert_null(use.region);
        np_controller_account_hold_clean_up(&use);
        cr_assert_eq(fake_server_count(h.server), before, "the Secret in %s was read", refs[i]);
        free(aws);
        free(creds);
    }
    char *aws = aws_spec(&h, "eu-west-1",
                         "{\"source\":\"Secret\",\"secretRef\":{\"namespace\":\"np-ops\","
                         "\"name\":\"fast\"}}");
    put_account(&h, "ops", 1, aws);
    free(aws);
    struct np_controller_account_hold use;
    cr_assert_eq(np_controller_account_use(h.ctl, "ops", "shop", NULL, &use), 0);
    cr_assert_eq(use.reason, NP_CONTROLLER_REASON_NONE, "%s", use.message ? use.message : "");
    np_controller_account_hold_clean_up(&use);
    free(h.ctl->own_namespace);
    h.ctl->own_namespace = NULL;
    harness_stop(&h);
}
