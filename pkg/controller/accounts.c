/*
 * CloudAccounts: who may use an account (allowedNamespaces), how its credentials and EC2
 * endpoint are built, one EC2 client and snapshot poller per (account, region), and the
 * account's own status (credentials verified with sts:GetCallerIdentity).
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

#define SECRET_NAMESPACE "netposture-system"

struct np_region_entry {
    char *name;
    struct np_region *region;
    struct np_region_entry *next;
};

struct np_account {
    char *name;
    int64_t generation;
    int64_t built_ms; /* when the credentials were built (Secret ones are re-read) */
    char *default_region;
    char *endpoint; /* CloudAccount override, or NULL */
    int64_t resync_ms;
    struct np_aws_credentials creds;
    struct np_region_entry *regions;
    struct np_consumer *consumer; /* when spec.aws.eventQueueUrl is set */
    struct np_account *next;
};

static void account_free(struct np_account *a)
{
    np_consumer_destroy(a->consumer);
    while (a->regions) {
        struct np_region_entry *e = a->regions;
        a->regions = e->next;
        np_region_destroy(e->region);
        free(e->name);
        free(e);
    }
    np_aws_credentials_clean_up(&a->creds);
    free(a->name);
    free(a->default_region);
    free(a->endpoint);
    free(a);
}

void np_controller_accounts_init(struct np_controller *ctl)
{
    pthread_mutex_init(&ctl->accounts_lock, NULL);
}

void np_controller_accounts_clean_up(struct np_controller *ctl)
{
    struct np_account *lists[] = {ctl->accounts, ctl->retired};
    for (size_t i = 0; i < NP_ARRAY_LEN(lists); i++) {
        struct np_account *a = lists[i];
        while (a) {
            struct np_account *next = a->next;
            account_free(a);
            a = next;
        }
    }
    ctl->accounts = ctl->retired = NULL;
    pthread_mutex_destroy(&ctl->accounts_lock);
}

void np_controller_pollers_stop(struct np_controller *ctl)
{
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_account *lists[] = {ctl->accounts, ctl->retired};
    for (size_t i = 0; i < NP_ARRAY_LEN(lists); i++)
        for (struct np_account *a = lists[i]; a; a = a->next) {
            np_consumer_signal_stop(a->consumer);
            for (struct np_region_entry *e = a->regions; e; e = e->next)
                np_region_stop(e->region);
        }
    pthread_mutex_unlock(&ctl->accounts_lock);
    /* Consumers take accounts_lock to find regions: join them without holding it. Accounts
     * are only freed at shutdown, after this. */
    for (size_t i = 0; i < NP_ARRAY_LEN(lists); i++)
        for (struct np_account *a = lists[i]; a; a = a->next)
            np_consumer_join(a->consumer);
}

/* Moves the cached account out of use; its pollers stop, its memory waits for shutdown
 * (workers may still hold its clients). Caller holds accounts_lock. */
static void retire_locked(struct np_controller *ctl, const char *name)
{
    struct np_account **pp = &ctl->accounts;
    while (*pp) {
        if (strcmp((*pp)->name, name) == 0) {
            struct np_account *a = *pp;
            *pp = a->next;
            np_consumer_signal_stop(a->consumer); /* joined at shutdown */
            for (struct np_region_entry *e = a->regions; e; e = e->next)
                np_region_stop(e->region);
            a->next = ctl->retired;
            ctl->retired = a;
            return;
        }
        pp = &(*pp)->next;
    }
}

void np_controller_accounts_invalidate(struct np_controller *ctl, const char *name)
{
    pthread_mutex_lock(&ctl->accounts_lock);
    retire_locked(ctl, name);
    pthread_mutex_unlock(&ctl->accounts_lock);
}

/* Builds the credentials an account's spec asks for. */
static int load_credentials(struct np_controller *ctl, json_object *acct,
                            struct np_aws_credentials *creds)
{
    const char *source =
        np_json_path_str(acct, "spec", "aws", "credentials", "source", NP_JSON_END);
    if (!source || strcmp(source, "Environment") == 0)
        return np_aws_credentials_from_env(creds);
    if (strcmp(source, "Secret") == 0) {
        const char *ns = np_json_path_str(acct, "spec", "aws", "credentials", "secretRef",
                                          "namespace", NP_JSON_END);
        const char *name =
            np_json_path_str(acct, "spec", "aws", "credentials", "secretRef", "name", NP_JSON_END);
        if (!ns || !name)
            return np_error_set(NP_EINVAL, "credentials.secretRef needs namespace and name");
        if (strcmp(ns, SECRET_NAMESPACE) != 0)
            return np_error_set(NP_EDENIED,
                                "credential Secrets must live in the %s namespace (got %s/%s)",
                                SECRET_NAMESPACE, ns, name);
        unsigned char *ak = NULL, *sk = NULL, *tok = NULL;
        size_t akl = 0, skl = 0, tokl = 0;
        int rc = np_kube_secret_get_data(ctl->kube, &ak, &akl, ns, name, "accessKeyId");
        if (rc == 0)
            rc = np_kube_secret_get_data(ctl->kube, &sk, &skl, ns, name, "secretAccessKey");
        if (rc == 0 &&
            np_kube_secret_get_data(ctl->kube, &tok, &tokl, ns, name, "sessionToken") != 0)
            tok = NULL;
        if (rc == 0)
            rc = np_aws_credentials_set(creds, (const char *)ak, (const char *)sk,
                                        (const char *)tok);
        else
            rc = np_error_set(rc, "Secret %s/%s: %s", ns, name, np_error_message());
        unsigned char *bufs[] = {ak, sk, tok};
        size_t lens[] = {akl, skl, tokl};
        for (size_t i = 0; i < 3; i++) {
            if (bufs[i])
                memset(bufs[i], 0, lens[i]);
            free(bufs[i]);
        }
        return rc;
    }
    return np_error_set(NP_EINVAL,
                        "credentials.source %s is not supported by this build (use Environment "
                        "or Secret)",
                        source);
}

static struct np_account *find_locked(struct np_controller *ctl, const char *name)
{
    for (struct np_account *a = ctl->accounts; a; a = a->next)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

/* Returns the cached account, rebuilding it if the spec changed or Secret credentials aged. */
static int account_get_locked(struct np_controller *ctl, json_object *acct, struct np_account **out)
{
    const char *name = np_kube_object_name(acct);
    int64_t gen = np_json_path_int(acct, 0, "metadata", "generation", NP_JSON_END);
    const char *source =
        np_json_path_str(acct, "spec", "aws", "credentials", "source", NP_JSON_END);
    bool from_secret = np_str_eq(source, "Secret");
    int64_t now = np_time_mono_ms();
    struct np_account *a = find_locked(ctl, name);
    if (a && a->generation == gen && (!from_secret || now - a->built_ms < 10 * 60 * 1000)) {
        *out = a;
        return 0;
    }
    if (a && a->generation == gen) {
        /* Secret credentials aged: re-read them, and rebuild the clients only if the Secret
         * was rotated (a rebuild restarts pollers and the event consumer). */
        struct np_aws_credentials fresh = {NULL, NULL, NULL};
        if (load_credentials(ctl, acct, &fresh) == 0 &&
            np_str_eq(fresh.access_key_id, a->creds.access_key_id) &&
            np_str_eq(fresh.secret_access_key, a->creds.secret_access_key) &&
            np_str_eq(fresh.session_token, a->creds.session_token)) {
            np_aws_credentials_clean_up(&fresh);
            a->built_ms = now;
            *out = a;
            return 0;
        }
        np_aws_credentials_clean_up(&fresh);
        np_error_clear();
    }
    if (a)
        retire_locked(ctl, name);
    a = np_xcalloc(1, sizeof(*a));
    a->name = np_strdup(name);
    a->generation = gen;
    a->built_ms = now;
    a->default_region = np_strdup(np_json_path_str(acct, "spec", "aws", "region", NP_JSON_END));
    const char *ep = np_json_path_str(acct, "spec", "aws", "endpoint", NP_JSON_END);
    a->endpoint = np_str_is_empty(ep) ? NULL : np_strdup(ep);
    a->resync_ms = ctl->opts.resync_ms;
    const char *resync = np_json_path_str(acct, "spec", "resyncInterval", NP_JSON_END);
    int64_t ms;
    if (resync && np_duration_parse(resync, &ms) == 0 && ms >= 1000)
        a->resync_ms = ms;
    int rc = load_credentials(ctl, acct, &a->creds);
    const char *queue = np_json_path_str(acct, "spec", "aws", "eventQueueUrl", NP_JSON_END);
    if (rc == 0 && !np_str_is_empty(queue)) {
        struct np_aws_sqs_config qc;
        memset(&qc, 0, sizeof(qc));
        qc.region = a->default_region;
        qc.endpoint = a->endpoint;
        qc.credentials = &a->creds;
        qc.observer = np_controller_aws_observer;
        qc.observer_ctx = ctl;
        rc = np_consumer_new(&a->consumer, ctl, name, queue, &qc);
        /* The account's reconcile tells the new consumer our identity (and checks the queue). */
        if (rc == 0)
            np_controller_enqueue(ctl, NP_KIND_ACCOUNT, name);
    }
    if (rc) {
        account_free(a);
        return rc;
    }
    a->next = ctl->accounts;
    ctl->accounts = a;
    *out = a;
    return 0;
}

static int region_get_locked(struct np_controller *ctl, struct np_account *a, const char *region,
                             struct np_region **out)
{
    for (struct np_region_entry *e = a->regions; e; e = e->next) {
        if (strcmp(e->name, region) == 0) {
            *out = e->region;
            return 0;
        }
    }
    struct np_aws_ec2 *ec2 = NULL;
    struct np_aws_ec2_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.region = region;
    cfg.endpoint = a->endpoint;
    cfg.credentials = &a->creds;
    cfg.observer = np_controller_aws_observer;
    cfg.observer_ctx = ctl;
    cfg.rate_scale = ctl->opts.aws_rate_scale;
    int rc = np_aws_ec2_new(&ec2, &cfg);
    if (rc)
        return rc;
    struct np_region *r = NULL;
    rc = np_region_new(&r, ctl, a->name, region, ec2, a->resync_ms);
    if (rc) {
        np_aws_ec2_destroy(ec2);
        return rc;
    }
    struct np_region_entry *e = np_xcalloc(1, sizeof(*e));
    e->name = np_strdup(region);
    e->region = r;
    e->next = a->regions;
    a->regions = e;
    *out = r;
    return 0;
}

int np_controller_account_region(struct np_controller *ctl, const char *account, const char *region,
                                 struct np_region **out)
{
    *out = NULL;
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_account *a = find_locked(ctl, account);
    const char *name = region ? region : a ? a->default_region : NULL;
    for (struct np_region_entry *e = a ? a->regions : NULL; e && name; e = e->next)
        if (strcmp(e->name, name) == 0)
            *out = e->region;
    pthread_mutex_unlock(&ctl->accounts_lock);
    return *out ? 0 : NP_ENOTFOUND;
}

void np_account_use_clean_up(struct np_account_use *use)
{
    free(use->message);
    memset(use, 0, sizeof(*use));
}

static void deny(struct np_account_use *use, const char *reason, char *message)
{
    use->reason = reason;
    use->message = message;
}

int np_controller_account_use(struct np_controller *ctl, const char *name, const char *ns,
                              const char *region, struct np_account_use *use)
{
    json_object *acct = NULL;
    int rc = 0;
    memset(use, 0, sizeof(*use));
    if (np_kube_store_get(np_kube_informer_store(ctl->acct_inf), &acct, name) != 0) {
        deny(use, "AccountNotFound", np_strdupf("CloudAccount \"%s\" does not exist", name));
        goto out;
    }
    /* A team may only reach accounts that allow its namespace. */
    json_object *selector = np_json_path(acct, "spec", "allowedNamespaces", NP_JSON_END);
    if (selector) {
        bool selected = false;
        rc = np_controller_namespace_selected(ctl, selector, ns, &selected);
        if (rc)
            goto out; /* never decided on labels we do not know: retried with backoff */
        if (!selected) {
            deny(use, "AccountNotAllowed",
                 np_strdupf("CloudAccount \"%s\" does not allow namespace \"%s\" "
                            "(spec.allowedNamespaces)",
                            name, ns));
            goto out;
        }
    }
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_account *a = NULL;
    rc = account_get_locked(ctl, acct, &a);
    if (rc == 0) {
        const char *rn = region ? region : a->default_region;
        rc = region_get_locked(ctl, a, rn, &use->region);
        if (rc == 0)
            use->region_name = np_region_name(use->region);
    }
    pthread_mutex_unlock(&ctl->accounts_lock);
    if (rc) {
        deny(use, "AccountError", np_strdupf("CloudAccount \"%s\": %s", name, np_error_message()));
        rc = 0;
    }
out:
    json_object_put(acct);
    return rc;
}

/* Verifies an account's credentials (sts:GetCallerIdentity) and reports it on its status. */
int np_controller_reconcile_account(struct np_controller *ctl, const char *key,
                                    struct np_result *res)
{
    json_object *acct = NULL;
    json_object *status = NULL;
    char *patch = NULL;
    char *account_id = NULL, *arn = NULL;
    int rc = 0;
    if (np_kube_store_get(np_kube_informer_store(ctl->acct_inf), &acct, key) != 0)
        return 0; /* deleted */
    struct np_condition cond = {"Ready", "True", "CredentialsVerified", ""};
    char *msg = NULL;
    struct np_region *region = NULL;
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_account *a = NULL;
    rc = account_get_locked(ctl, acct, &a);
    if (rc == 0)
        rc = region_get_locked(ctl, a, a->default_region, &region);
    pthread_mutex_unlock(&ctl->accounts_lock);
    if (rc == 0)
        rc = np_aws_sts_get_caller_identity(np_region_ec2(region), &account_id, &arn);
    if (rc == 0 && a->consumer) {
        /* Our own repairs come back as events: the consumer ignores this identity's. */
        np_consumer_set_identity(a->consumer, arn);
        if (np_consumer_check(a->consumer) != 0) {
            cond.reason = "EventQueueUnreachable";
            rc = np_error_set(NP_EIO, "event queue: %s", np_error_message());
        }
    }
    if (rc) {
        cond.status = "False";
        if (!cond.reason || strcmp(cond.reason, "EventQueueUnreachable") != 0)
            cond.reason = rc == NP_EAUTH ? "CredentialsInvalid" : "AccountError";
        msg = np_strdup(np_error_message());
        cond.message = msg;
        res->requeue_after_ms = 60 * 1000;
        rc = 0;
    } else {
        msg = a->consumer ? np_strdupf("verified as %s; consuming events", arn)
                          : np_strdupf("verified as %s", arn);
        cond.message = msg;
    }
    json_object *old_status = np_json_path(acct, "status", NP_JSON_END);
    status = json_object_new_object();
    int64_t gen = np_json_path_int(acct, 0, "metadata", "generation", NP_JSON_END);
    json_object_object_add(status, "observedGeneration", json_object_new_int64(gen));
    if (account_id)
        json_object_object_add(status, "accountId", json_object_new_string(account_id));
    if (arn)
        json_object_object_add(status, "identity", json_object_new_string(arn));
    json_object_object_add(status, "conditions",
                           np_status_conditions(old_status, &cond, 1, gen, np_time_now_ms()));
    if (!np_status_equal(old_status, status, NULL)) {
        patch = np_status_merge_patch(old_status, status);
        rc = np_kube_status_patch(ctl->kube, NULL, &np_res_accounts, NULL, key, patch);
    }
    free(msg);
    free(patch);
    free(account_id);
    free(arn);
    json_object_put(status);
    json_object_put(acct);
    return rc;
}
