/*
 * CloudAccounts: who may use an account (allowedNamespaces), how its credentials and AWS
 * endpoints are built and checked, one EC2 client and snapshot poller per (account, region)
 * (at most NP_CONTROLLER_ACCOUNT_MAX_REGIONS, valid names only), and the account's own status.
 * Workers hold an account's region through np_controller_account_hold (acquire/release); Secret
 * reads and thread joins happen outside accounts_lock; the last release of a retired account or of
 * an idle region frees it.
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

/* Secret credentials are read again after this long (a rotation rebuilds the clients). */
#define SECRET_MAX_AGE_MS (10LL * 60 * 1000)
/* A region nobody acquired for max(this, 3 resync intervals) and whose snapshot holds no
 * managed group is idle (VPC postures requeue every resync; group postures are enqueued by
 * the poller, which keeps their groups in the snapshot). */
#define REGION_IDLE_MIN_MS (15LL * 60 * 1000)

struct np_controller_region_entry {
    struct np_controller_account *account;
    char *name;
    struct np_controller_region *region;
    /* Guarded by accounts_lock. */
    int refs;            /* holders (np_controller_account_hold) */
    int64_t acquired_ms; /* mono time of the last acquire */
    struct np_controller_region_entry *next;
};

struct np_controller_account {
    /* Set when built, then read-only. */
    char *name;
    int64_t generation;
    char *default_region;
    struct np_controller_endpoints eps; /* the CloudAccount's overrides */
    int64_t resync_ms;
    struct np_aws_provider *provider;        /* shared by every client of the account */
    struct np_aws_credentials secret_keys;   /* source Secret: the keys in use (rotation check) */
    struct np_controller_consumer *consumer; /* when spec.aws.eventQueueUrl is set */
    bool queue_unsharded; /* a queue without {shard} that a sharded controller cannot read */
    /* Guarded by accounts_lock. */
    int64_t built_ms; /* when the credentials were read (Secret ones are re-read) */
    int refs;         /* 1 while cached in ctl->accounts, + 1 per holder */
    bool retired;     /* replaced or deleted: freed by the last release */
    struct np_controller_region_entry *regions;
    size_t n_regions; /* besides default_region */
    struct np_controller_account *next;
};

/* What became unused under the lock, freed (threads joined) after it is released. */
struct reap {
    struct np_controller_account *accounts;
    struct np_controller_region_entry *regions;
};

static void region_entry_free(struct np_controller *ctl, struct np_controller_region_entry *e)
{
    np_controller_region_destroy(e->region); /* joins the poller */
    free(e->name);
    free(e);
    atomic_fetch_sub(&ctl->regions_live, 1);
}

static void account_free(struct np_controller *ctl, struct np_controller_account *a)
{
    if (!a)
        return;
    np_controller_consumer_destroy(a->consumer);
    while (a->regions) {
        struct np_controller_region_entry *e = a->regions;
        a->regions = e->next;
        region_entry_free(ctl, e);
    }
    np_aws_provider_unref(a->provider);
    np_aws_credentials_clean_up(&a->secret_keys);
    free(a->name);
    free(a->default_region);
    np_controller_endpoints_clean_up(&a->eps);
    free(a);
    atomic_fetch_sub(&ctl->accounts_live, 1);
}

/* Frees what was collected under the lock. Caller does NOT hold accounts_lock. */
static void reap_run(struct np_controller *ctl, struct reap *r)
{
    while (r->regions) {
        struct np_controller_region_entry *e = r->regions;
        r->regions = e->next;
        region_entry_free(ctl, e);
    }
    while (r->accounts) {
        struct np_controller_account *a = r->accounts;
        r->accounts = a->next;
        account_free(ctl, a);
    }
}

/* Drops one reference; the last one hands the account to the reaper. Caller holds the lock. */
static void account_unref_locked(struct np_controller_account *a, struct reap *r)
{
    if (--a->refs == 0) {
        a->next = r->accounts;
        r->accounts = a;
    }
}

static bool region_idle_locked(struct np_controller *ctl, struct np_controller_account *a,
                               struct np_controller_region_entry *e, int64_t now)
{
    if (e->refs > 0 || np_str_eq(e->name, a->default_region))
        return false;
    int64_t resync = a->resync_ms > ctl->opts.resync_ms ? a->resync_ms : ctl->opts.resync_ms;
    int64_t idle = 3 * resync > REGION_IDLE_MIN_MS ? 3 * resync : REGION_IDLE_MIN_MS;
    return now - e->acquired_ms >= idle && np_controller_region_snapshot_is_empty(e->region);
}

/* Unlinks the account's idle regions (their pollers told to stop) for the reaper. */
static void sweep_regions_locked(struct np_controller *ctl, struct np_controller_account *a,
                                 int64_t now, struct reap *r)
{
    struct np_controller_region_entry **pp = &a->regions;
    while (*pp) {
        struct np_controller_region_entry *e = *pp;
        if (region_idle_locked(ctl, a, e, now)) {
            *pp = e->next;
            a->n_regions--;
            np_controller_region_signal_stop(e->region);
            e->next = r->regions;
            r->regions = e;
            continue;
        }
        pp = &e->next;
    }
}

void np_controller_accounts_init(struct np_controller *ctl)
{
    pthread_mutex_init(&ctl->accounts_lock, NULL);
    atomic_init(&ctl->accounts_live, 0);
    atomic_init(&ctl->regions_live, 0);
}

void np_controller_accounts_clean_up(struct np_controller *ctl)
{
    /* Workers are gone: every account left is only cached (retired ones were freed by their
     * last release). */
    while (ctl->accounts) {
        struct np_controller_account *a = ctl->accounts;
        ctl->accounts = a->next;
        account_free(ctl, a);
    }
    pthread_mutex_destroy(&ctl->accounts_lock);
}

static void account_release(struct np_controller *ctl, struct np_controller_account *a);

void np_controller_pollers_stop(struct np_controller *ctl)
{
    struct np_controller_account **held = NULL;
    size_t n = 0;
    pthread_mutex_lock(&ctl->accounts_lock);
    for (struct np_controller_account *a = ctl->accounts; a; a = a->next) {
        np_controller_consumer_signal_stop(a->consumer);
        for (struct np_controller_region_entry *e = a->regions; e; e = e->next)
            np_controller_region_signal_stop(e->region);
        held = np_xrealloc(held, (n + 1) * sizeof(*held));
        held[n++] = a;
        a->refs++; /* an account deleted meanwhile (informer thread) stays until joined */
    }
    pthread_mutex_unlock(&ctl->accounts_lock);
    /* Consumers take accounts_lock to hint regions: join them (and the pollers) without it.
     * Called once the workers are joined, so no region is added or swept meanwhile. */
    for (size_t i = 0; i < n; i++) {
        np_controller_consumer_join(held[i]->consumer);
        for (struct np_controller_region_entry *e = held[i]->regions; e; e = e->next)
            np_controller_region_stop(e->region);
    }
    for (size_t i = 0; i < n; i++)
        account_release(ctl, held[i]);
    free(held);
}

static struct np_controller_account *find_locked(struct np_controller *ctl, const char *name)
{
    for (struct np_controller_account *a = ctl->accounts; a; a = a->next)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

/* Takes the account out of the cache: its pollers and consumer are told to stop; holders keep
 * using its clients until they release it. Caller holds accounts_lock. */
static void retire_locked(struct np_controller *ctl, struct np_controller_account *a,
                          struct reap *r)
{
    for (struct np_controller_account **pp = &ctl->accounts; *pp; pp = &(*pp)->next) {
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    }
    a->next = NULL;
    a->retired = true;
    np_controller_consumer_signal_stop(a->consumer);
    for (struct np_controller_region_entry *e = a->regions; e; e = e->next)
        np_controller_region_signal_stop(e->region);
    account_unref_locked(a, r); /* the cache's reference */
}

void np_controller_accounts_invalidate(struct np_controller *ctl, const char *name)
{
    struct reap r = {NULL, NULL};
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_controller_account *a = find_locked(ctl, name);
    if (a)
        retire_locked(ctl, a, &r);
    pthread_mutex_unlock(&ctl->accounts_lock);
    reap_run(ctl, &r);
}

static void account_release(struct np_controller *ctl, struct np_controller_account *a)
{
    struct reap r = {NULL, NULL};
    pthread_mutex_lock(&ctl->accounts_lock);
    account_unref_locked(a, &r);
    pthread_mutex_unlock(&ctl->accounts_lock);
    reap_run(ctl, &r);
}

/*
 * Refuses plain HTTP to a host that is not loopback (unless the account allows it) for every
 * URL the account's clients would use: the EC2 and STS endpoints, with a queue the SQS and
 * CloudTrail ones, as resolved from spec.aws.endpoint(s) or AWS_ENDPOINT_URL*, and the queue
 * URL. No I/O.
 */
static int check_endpoints(const char *region, const struct np_controller_endpoints *eps,
                           const char *queue, bool allow_insecure)
{
    static const char *const services[] = {"ec2", "sts", "sqs", "cloudtrail"};
    static const char *const labels[] = {"EC2", "STS", "SQS", "CloudTrail"};
    const char *overrides[] = {eps->ec2, eps->sts, eps->sqs, eps->cloudtrail};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < NP_ARRAY_LEN(services); i++) {
        if (i >= 2 && np_str_is_empty(queue))
            break;
        char *url = NULL;
        rc = np_aws_endpoint_resolve(&url, services[i], region, overrides[i]);
        if (rc == 0 && (rc = np_aws_endpoint_check(url, allow_insecure)) != 0) {
            char *msg = np_strdup(np_error_message());
            rc = np_error_set(rc, "%s endpoint %s", labels[i], msg);
            free(msg);
        }
        free(url);
    }
    if (rc == 0 && !np_str_is_empty(queue) &&
        (rc = np_aws_endpoint_check(queue, allow_insecure)) != 0) {
        char *msg = np_strdup(np_error_message());
        rc = np_error_set(rc, "spec.aws.eventQueueUrl %s", msg);
        free(msg);
    }
    return rc;
}

/* The region and endpoints of an account's spec, checked before anything is contacted; *why
 * is the condition reason of a refusal. */
static int check_account_spec(json_object *acct, const char *queue, enum np_controller_reason *why)
{
    const char *region = np_json_path_str(acct, "spec", "aws", "region", NP_JSON_END);
    json_object *insecure = np_json_path(acct, "spec", "aws", "allowInsecureEndpoint", NP_JSON_END);
    bool allow_insecure = insecure && json_object_get_boolean(insecure);
    if (!np_aws_region_is_valid(region)) {
        *why = NP_CONTROLLER_REASON_INVALID_REGION;
        return np_error_set(NP_EINVAL,
                            "spec.aws.region \"%.64s\" is not an AWS region name "
                            "such as eu-west-1",
                            region ? region : "");
    }
    struct np_controller_endpoints eps;
    np_controller_endpoints_read(&eps, acct);
    int rc = check_endpoints(region, &eps, queue, allow_insecure);
    np_controller_endpoints_clean_up(&eps);
    if (rc)
        *why = NP_CONTROLLER_REASON_INSECURE_ENDPOINT;
    return rc;
}

/* A new account (not cached, no clients yet) with the spec's region, endpoints and resync. */
static struct np_controller_account *account_new(struct np_controller *ctl, json_object *acct)
{
    struct np_controller_account *a = np_xcalloc(1, sizeof(*a));
    atomic_fetch_add(&ctl->accounts_live, 1);
    a->name = np_strdup(np_kube_object_name(acct));
    a->generation = np_json_path_int(acct, 0, "metadata", "generation", NP_JSON_END);
    a->built_ms = np_controller_mono_ms(ctl);
    a->default_region = np_strdup(np_json_path_str(acct, "spec", "aws", "region", NP_JSON_END));
    np_controller_endpoints_read(&a->eps, acct);
    a->resync_ms = ctl->opts.resync_ms;
    const char *resync = np_json_path_str(acct, "spec", "resyncInterval", NP_JSON_END);
    int64_t ms;
    if (resync && np_duration_parse(resync, &ms) == 0 && ms >= 1000)
        a->resync_ms = ms;
    return a;
}

/* Starts the account's event consumer on queue. */
static int start_consumer(struct np_controller *ctl, struct np_controller_account *a,
                          const char *queue)
{
    struct np_aws_sqs_config qc;
    memset(&qc, 0, sizeof(qc));
    qc.region = a->default_region;
    qc.endpoint = a->eps.sqs;
    qc.provider = a->provider;
    qc.observer = np_controller_aws_observer;
    qc.observer_ctx = ctl;
    return np_controller_consumer_new(&a->consumer, ctl, a->name, queue, &qc, &a->eps);
}

/*
 * Builds an account from its object, outside accounts_lock: checks the region and endpoints
 * (before anything is contacted), makes its credential provider (a Secret is read unless fresh
 * holds its keys already: taken) and starts the event consumer. *why is set to a condition reason
 * for refusals that are not plain errors.
 */
static int account_build(struct np_controller *ctl, json_object *acct,
                         struct np_aws_credentials *fresh, struct np_controller_account **out,
                         enum np_controller_reason *why)
{
    const char *spec_queue = np_json_path_str(acct, "spec", "aws", "eventQueueUrl", NP_JSON_END);
    char *queue =
        np_str_is_empty(spec_queue) ? NULL : np_controller_shard_queue_url(ctl, spec_queue);
    *out = NULL;
    int rc = check_account_spec(acct, queue, why);
    if (rc) {
        free(queue);
        return rc;
    }
    struct np_controller_account *a = account_new(ctl, acct);
    a->queue_unsharded = !np_str_is_empty(spec_queue) && !queue;
    if (a->queue_unsharded)
        np_log_warn("not consuming the event queue: a sharded controller needs one queue per "
                    "shard, named with {shard} in spec.aws.eventQueueUrl",
                    "account", a->name);
    rc = np_controller_credentials_build(ctl, acct, &a->eps, fresh, &a->provider, &a->secret_keys);
    if (rc == 0 && queue)
        rc = start_consumer(ctl, a, queue);
    free(queue);
    if (rc) {
        account_free(ctl, a);
        return rc;
    }
    *out = a;
    return 0;
}

/*
 * The cached account of this object's generation, acquired (*out), when it can be used as it
 * is: true. Secret credentials older than SECRET_MAX_AGE_MS are read again (outside the
 * lock); unchanged, the cached account is used; rotated, false with them in *fresh (a rebuild
 * restarts pollers and consumer).
 */
static bool account_cached(struct np_controller *ctl, json_object *acct, int64_t started,
                           struct np_aws_credentials *fresh, struct np_controller_account **out)
{
    const char *source =
        np_json_path_str(acct, "spec", "aws", "credentials", "source", NP_JSON_END);
    int64_t gen = np_json_path_int(acct, 0, "metadata", "generation", NP_JSON_END);
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_controller_account *a = find_locked(ctl, np_kube_object_name(acct));
    if (!a || a->generation != gen) {
        pthread_mutex_unlock(&ctl->accounts_lock);
        return false;
    }
    a->refs++;
    bool aged = np_str_eq(source, "Secret") && started - a->built_ms >= SECRET_MAX_AGE_MS;
    pthread_mutex_unlock(&ctl->accounts_lock);
    if (aged && !(np_controller_credentials_read_secret(ctl, acct, fresh) == 0 &&
                  np_str_eq(fresh->access_key_id, a->secret_keys.access_key_id) &&
                  np_str_eq(fresh->secret_access_key, a->secret_keys.secret_access_key) &&
                  np_str_eq(fresh->session_token, a->secret_keys.session_token))) {
        np_error_clear();
        account_release(ctl, a);
        return false;
    }
    if (aged) {
        np_aws_credentials_clean_up(fresh);
        pthread_mutex_lock(&ctl->accounts_lock);
        if (a->built_ms < started)
            a->built_ms = started;
        pthread_mutex_unlock(&ctl->accounts_lock);
    }
    *out = a;
    return true;
}

/* A build failed: when the spec moved on, the old clients stop too (retired). Returns rc with
 * the build's message kept. */
static int account_build_failed(struct np_controller *ctl, const char *name, int64_t gen, int rc)
{
    struct reap r = {NULL, NULL};
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_controller_account *cur = find_locked(ctl, name);
    bool retire = cur && cur->generation < gen;
    if (retire)
        retire_locked(ctl, cur, &r);
    pthread_mutex_unlock(&ctl->accounts_lock);
    if (retire) {
        char *msg = np_strdup(np_error_message());
        reap_run(ctl, &r);
        np_error_set(rc, "%s", msg);
        free(msg);
    }
    return rc;
}

/* Installs a built account in the cache (retiring the one it replaces) and acquires it, or
 * acquires the one another worker installed for this (or a newer) spec meanwhile. */
static struct np_controller_account *
account_install(struct np_controller *ctl, struct np_controller_account *built, int64_t started)
{
    struct reap r = {NULL, NULL};
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_controller_account *cur = find_locked(ctl, built->name);
    if (cur && (cur->generation > built->generation ||
                (cur->generation == built->generation && cur->built_ms >= started))) {
        cur->refs++;
        pthread_mutex_unlock(&ctl->accounts_lock);
        account_free(ctl, built);
        return cur;
    }
    if (cur)
        retire_locked(ctl, cur, &r);
    built->refs = 2; /* the cache and this holder */
    built->next = ctl->accounts;
    ctl->accounts = built;
    pthread_mutex_unlock(&ctl->accounts_lock);
    reap_run(ctl, &r);
    /* The account's reconcile tells a new consumer our identity (and checks the queue). */
    if (built->consumer)
        np_controller_enqueue(ctl, NP_CONTROLLER_WORK_ACCOUNT, built->name);
    return built;
}

/*
 * Acquires the cached account of this object (one reference: account_release), building it
 * anew when the spec changed or the Secret was rotated. Network I/O (the Secret) and thread
 * joins happen outside accounts_lock; a concurrent install by another worker is re-checked
 * before ours is installed.
 */
static int account_acquire(struct np_controller *ctl, json_object *acct,
                           struct np_controller_account **out, enum np_controller_reason *why)
{
    struct np_aws_credentials fresh = {NULL, NULL, NULL};
    int64_t started = np_controller_mono_ms(ctl);
    *out = NULL;
    if (account_cached(ctl, acct, started, &fresh, out))
        return 0;
    struct np_controller_account *built = NULL;
    int rc = account_build(ctl, acct, &fresh, &built, why);
    np_aws_credentials_clean_up(&fresh);
    if (rc)
        return account_build_failed(
            ctl, np_kube_object_name(acct),
            np_json_path_int(acct, 0, "metadata", "generation", NP_JSON_END), rc);
    *out = account_install(ctl, built, started);
    return 0;
}

static struct np_controller_region_entry *region_find_locked(struct np_controller_account *a,
                                                             const char *name)
{
    for (struct np_controller_region_entry *e = a->regions; e; e = e->next)
        if (strcmp(e->name, name) == 0)
            return e;
    return NULL;
}

/* The account's own region is always served; tenant-chosen ones are bounded. */
static bool region_bound_reached(struct np_controller_account *a, const char *name)
{
    return !np_str_eq(name, a->default_region) && a->n_regions >= NP_CONTROLLER_ACCOUNT_MAX_REGIONS;
}

static int too_many_regions(struct np_controller_account *a, const char *name,
                            enum np_controller_reason *why)
{
    *why = NP_CONTROLLER_REASON_TOO_MANY_REGIONS;
    return np_error_set(NP_EDENIED,
                        "region %s refused: CloudAccount \"%s\" already serves %d regions, the "
                        "most one account may use",
                        name, a->name, NP_CONTROLLER_ACCOUNT_MAX_REGIONS);
}

/* The region entry of a held account if it has one (acquired: refs and acquired_ms), after
 * sweeping its idle regions; *full when it has none and may have no more. */
static struct np_controller_region_entry *region_lookup(struct np_controller *ctl,
                                                        struct np_controller_account *a,
                                                        const char *name, int64_t now, bool *full)
{
    struct reap r = {NULL, NULL};
    pthread_mutex_lock(&ctl->accounts_lock);
    sweep_regions_locked(ctl, a, now, &r);
    struct np_controller_region_entry *e = region_find_locked(a, name);
    *full = !e && region_bound_reached(a, name);
    if (e) {
        e->refs++;
        e->acquired_ms = now;
    }
    pthread_mutex_unlock(&ctl->accounts_lock);
    reap_run(ctl, &r);
    return e;
}

/* A new region entry (acquired once, not installed): its EC2 client and poller thread. */
static int region_create(struct np_controller *ctl, struct np_controller_account *a,
                         const char *name, int64_t now, struct np_controller_region_entry **out)
{
    struct np_aws_ec2 *ec2 = NULL;
    struct np_aws_ec2_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.region = name;
    cfg.endpoint = a->eps.ec2;
    cfg.sts_endpoint = a->eps.sts;
    cfg.provider = a->provider;
    cfg.mutation_gate = np_controller_may_write;
    cfg.mutation_gate_ctx = ctl;
    cfg.observer = np_controller_aws_observer;
    cfg.observer_ctx = ctl;
    cfg.rate_scale = ctl->opts.aws_rate_scale;
    int rc = np_aws_ec2_new(&ec2, &cfg);
    if (rc)
        return rc;
    if (ctl->ec2_test_seam) /* unit tests only: an in-memory EC2 */
        ctl->ec2_test_seam(ctl->ec2_test_seam_ctx, ec2);
    struct np_controller_region *region = NULL;
    rc = np_controller_region_new(&region, ctl, a->name, name, ec2, a->resync_ms);
    if (rc) {
        np_aws_ec2_destroy(ec2);
        return rc;
    }
    struct np_controller_region_entry *e = np_xcalloc(1, sizeof(*e));
    atomic_fetch_add(&ctl->regions_live, 1);
    e->account = a;
    e->name = np_strdup(name);
    e->region = region;
    e->refs = 1;
    e->acquired_ms = now;
    *out = e;
    return 0;
}

/* Installs a created region entry in its account, or acquires the one another worker
 * installed meanwhile (ours is freed); TooManyRegions when the bound was reached meanwhile. */
static int region_install(struct np_controller *ctl, struct np_controller_region_entry *e,
                          int64_t now, struct np_controller_region_entry **out,
                          enum np_controller_reason *why)
{
    struct np_controller_account *a = e->account;
    bool installed = false;
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_controller_region_entry *cur = region_find_locked(a, e->name);
    if (cur) {
        cur->refs++;
        cur->acquired_ms = now;
    } else if (!region_bound_reached(a, e->name)) {
        if (a->retired)
            np_controller_region_signal_stop(e->region); /* serves the holders only */
        e->next = a->regions;
        a->regions = e;
        if (!np_str_eq(e->name, a->default_region))
            a->n_regions++;
        installed = true;
    }
    pthread_mutex_unlock(&ctl->accounts_lock);
    if (installed) {
        np_controller_region_start(e->region); /* a discarded one never polls */
        *out = e;
        return 0;
    }
    char *name = np_strdup(e->name);
    region_entry_free(ctl, e);
    int rc = 0;
    if (cur)
        *out = cur;
    else
        rc = too_many_regions(a, name, why);
    free(name);
    return rc;
}

/* Acquires region `name` of a held account, creating its client and poller (outside the lock)
 * when it has none yet. Release with region_release. */
static int region_acquire(struct np_controller *ctl, struct np_controller_account *a,
                          const char *name, struct np_controller_region_entry **out,
                          enum np_controller_reason *why)
{
    *out = NULL;
    if (!np_aws_region_is_valid(name)) {
        *why = NP_CONTROLLER_REASON_INVALID_REGION;
        return np_error_set(NP_EINVAL, "\"%.64s\" is not an AWS region name such as eu-west-1",
                            name ? name : "");
    }
    int64_t now = np_controller_mono_ms(ctl);
    bool full = false;
    *out = region_lookup(ctl, a, name, now, &full);
    if (*out)
        return 0;
    if (full)
        return too_many_regions(a, name, why);
    struct np_controller_region_entry *e = NULL;
    int rc = region_create(ctl, a, name, now, &e);
    return rc ? rc : region_install(ctl, e, now, out, why);
}

/* Releases a region and its account: the last release of a retired account frees it, and an
 * idle region is freed (threads joined outside the lock). */
static void region_release(struct np_controller *ctl, struct np_controller_region_entry *e)
{
    struct reap r = {NULL, NULL};
    int64_t now = np_controller_mono_ms(ctl);
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_controller_account *a = e->account;
    e->refs--;
    if (a->refs > 1)
        sweep_regions_locked(ctl, a, now, &r);
    account_unref_locked(a, &r);
    pthread_mutex_unlock(&ctl->accounts_lock);
    reap_run(ctl, &r);
}

char *np_controller_account_note_event(struct np_controller *ctl, const char *account,
                                       const char *region, const char *group_id, const char *actor,
                                       bool actor_verified, const char *event_name,
                                       int64_t event_ms, const struct np_aws_sg *sg)
{
    char *owner = NULL;
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_controller_account *a = find_locked(ctl, account);
    const char *name = region ? region : a ? a->default_region : NULL;
    struct np_controller_region_entry *e = a && name ? region_find_locked(a, name) : NULL;
    /* In-memory only: the region's own lock is taken inside accounts_lock, never the reverse. */
    if (e)
        owner = np_controller_region_note_event(e->region, group_id, actor, actor_verified,
                                                event_name, event_ms, sg);
    pthread_mutex_unlock(&ctl->accounts_lock);
    return owner;
}

bool np_controller_account_park(struct np_controller *ctl, const char *account, const char *region,
                                enum np_controller_work_kind kind, const char *key,
                                const char *group_id)
{
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_controller_account *a = find_locked(ctl, account);
    const char *name = region ? region : a ? a->default_region : NULL;
    struct np_controller_region_entry *e = a && name ? region_find_locked(a, name) : NULL;
    /* In-memory only: the region's own lock is taken inside accounts_lock, never the reverse. */
    bool parked = e && np_controller_region_park(e->region, kind, key, group_id);
    pthread_mutex_unlock(&ctl->accounts_lock);
    return parked;
}

bool np_controller_account_serves_region(struct np_controller *ctl, const char *account,
                                         const char *region)
{
    pthread_mutex_lock(&ctl->accounts_lock);
    struct np_controller_account *a = find_locked(ctl, account);
    bool serves = a && region && region_find_locked(a, region) != NULL;
    pthread_mutex_unlock(&ctl->accounts_lock);
    return serves;
}

void np_controller_account_hold_clean_up(struct np_controller_account_hold *use)
{
    if (use->held)
        region_release(use->ctl, use->held);
    free(use->message);
    memset(use, 0, sizeof(*use));
}

static void deny(struct np_controller_account_hold *use, enum np_controller_reason reason,
                 char *message)
{
    use->reason = reason;
    use->message = message;
}

/*
 * Whether namespace ns may use the account (spec.allowedNamespaces) and the region name is
 * valid: false with use->reason set when not, or with *rc set when the namespace's labels are
 * not known (never decided on labels we do not know: retried with backoff).
 */
static bool account_allows(struct np_controller *ctl, json_object *acct, const char *ns,
                           const char *region, struct np_controller_account_hold *use, int *rc)
{
    const char *name = np_kube_object_name(acct);
    json_object *selector = np_json_path(acct, "spec", "allowedNamespaces", NP_JSON_END);
    if (selector) {
        bool selected = false;
        *rc = np_controller_namespace_selected(ctl, selector, ns, &selected);
        if (*rc)
            return false;
        if (!selected) {
            deny(use, NP_CONTROLLER_REASON_ACCOUNT_NOT_ALLOWED,
                 np_strdupf("CloudAccount \"%s\" does not allow namespace \"%s\" "
                            "(spec.allowedNamespaces)",
                            name, ns));
            return false;
        }
    }
    /* A tenant-chosen region is checked before anything is built for it. */
    if (region && !np_aws_region_is_valid(region)) {
        deny(use, NP_CONTROLLER_REASON_INVALID_REGION,
             np_strdupf("spec.region \"%.64s\" is not an AWS region name such as eu-west-1",
                        region));
        return false;
    }
    return true;
}

/* Whether the account's credentials can be had now (fetched or refreshed when due); *why is
 * the CloudAccount reason when not. */
static int credentials_ready(struct np_controller_account *a, enum np_controller_reason *why)
{
    struct np_aws_credentials probe = {NULL, NULL, NULL};
    enum np_aws_cred_failure failure = NP_AWS_CRED_OK;
    int rc = np_aws_provider_get(a->provider, &probe, &failure);
    np_aws_credentials_clean_up(&probe);
    if (rc)
        *why = np_controller_credentials_reason(failure);
    return rc;
}

/* A posture on an account whose credentials do not work changes nothing: AccountNotReady. */
static void deny_not_ready(struct np_controller_account_hold *use, const char *account,
                           enum np_controller_reason why)
{
    deny(use, NP_CONTROLLER_REASON_ACCOUNT_NOT_READY,
         np_strdupf("CloudAccount \"%s\" is not ready (%s): %s", account,
                    np_controller_reason_name(why), np_error_message()));
}

/* Acquires the account and the region (NULL: its own) for use; a refusal sets its reason. */
static void account_hold(struct np_controller *ctl, json_object *acct, const char *region,
                         struct np_controller_account_hold *use)
{
    struct np_controller_account *a = NULL;
    enum np_controller_reason why = NP_CONTROLLER_REASON_NONE;
    int rc = account_acquire(ctl, acct, &a, &why);
    if (rc == 0 && credentials_ready(a, &why) != 0) {
        deny_not_ready(use, np_kube_object_name(acct), why);
        account_release(ctl, a);
        return;
    }
    if (rc == 0) {
        rc = region_acquire(ctl, a, region ? region : a->default_region, &use->held, &why);
        if (rc == 0) {
            use->region = use->held->region;
            use->region_name = np_controller_region_name(use->region);
        } else {
            account_release(ctl, a);
        }
    }
    if (rc)
        deny(use, why != NP_CONTROLLER_REASON_NONE ? why : NP_CONTROLLER_REASON_ACCOUNT_ERROR,
             np_strdupf("CloudAccount \"%s\": %s", np_kube_object_name(acct), np_error_message()));
}

int np_controller_account_use(struct np_controller *ctl, const char *name, const char *ns,
                              const char *region, struct np_controller_account_hold *use)
{
    json_object *acct = NULL;
    int rc = 0;
    memset(use, 0, sizeof(*use));
    use->ctl = ctl;
    if (np_kube_store_get(np_kube_informer_store(ctl->acct_inf), &acct, name) != 0)
        deny(use, NP_CONTROLLER_REASON_ACCOUNT_NOT_FOUND,
             np_strdupf("CloudAccount \"%s\" does not exist", name));
    else if (account_allows(ctl, acct, ns, region, use, &rc))
        account_hold(ctl, acct, region, use);
    json_object_put(acct);
    return rc;
}

/* What verifying an account found, for its status. */
struct account_report {
    char *account_id, *arn;        /* sts:GetCallerIdentity */
    char source[64];               /* status.credentialSource */
    int64_t expires_ms;            /* of temporary credentials; 0: none */
    int64_t refresh_ms;            /* their next refresh; 0: none */
    bool consuming;                /* an event queue is read */
    bool queue_unsharded;          /* the queue is not read: no {shard} in its URL */
    enum np_controller_reason why; /* of a failure, when not the plain one */
};

static void report_clean_up(struct account_report *r)
{
    free(r->account_id);
    free(r->arn);
}

/* The credential source in use and when its credentials expire. */
static void report_source(struct account_report *r, struct np_controller_account *a)
{
    struct np_aws_provider_state st;
    np_aws_provider_state(a->provider, &st);
    np_controller_credentials_source(r->source, sizeof(r->source), a->provider);
    r->expires_ms = st.expires_ms;
    r->refresh_ms = st.refresh_ms;
}

/* Who the credentials are (sts:GetCallerIdentity) and, with an event queue, that it is
 * reachable; the consumer learns our identity (its own repairs come back as events). */
static int identify(struct np_controller_account *a, struct np_controller_region_entry *held,
                    struct account_report *r)
{
    int rc = np_aws_sts_get_caller_identity(np_controller_region_ec2(held->region), &r->account_id,
                                            &r->arn);
    r->consuming = a->consumer != NULL;
    r->queue_unsharded = a->queue_unsharded;
    if (rc == 0 && a->consumer) {
        np_controller_consumer_set_identity(a->consumer, r->arn);
        if (np_controller_consumer_check(a->consumer) != 0) {
            r->why = NP_CONTROLLER_REASON_EVENT_QUEUE_UNREACHABLE;
            rc = np_error_set(NP_EIO, "event queue: %s", np_error_message());
        }
    }
    return rc;
}

/*
 * Verifies an account: its credentials (fetched or refreshed through the provider, then
 * sts:GetCallerIdentity) and, with an event queue, that the queue is reachable. Returns 0, or
 * an error with r->why the condition reason when it is not the plain one.
 */
static int account_verify(struct np_controller *ctl, json_object *acct, struct account_report *r)
{
    struct np_controller_account *a = NULL;
    struct np_controller_region_entry *held = NULL;
    int rc = account_acquire(ctl, acct, &a, &r->why);
    if (rc)
        return rc;
    rc = credentials_ready(a, &r->why);
    report_source(r, a);
    if (rc == 0)
        rc = region_acquire(ctl, a, a->default_region, &held, &r->why);
    if (rc) {
        account_release(ctl, a);
        return rc;
    }
    rc = identify(a, held, r);
    char *msg = rc ? np_strdup(np_error_message()) : NULL;
    region_release(ctl, held);
    if (rc)
        np_error_set(rc, "%s", msg); /* the release must not change the message reported */
    free(msg);
    return rc;
}

/* Writes the account's status (observedGeneration, accountId, identity, credentialSource,
 * credentialsExpiration, Ready) if changed. */
static int write_account_status(struct np_controller *ctl, json_object *acct, const char *key,
                                const struct np_controller_condition *cond,
                                const struct account_report *r)
{
    json_object *old_status = np_json_path(acct, "status", NP_JSON_END);
    json_object *status = json_object_new_object();
    int64_t gen = np_json_path_int(acct, 0, "metadata", "generation", NP_JSON_END);
    int rc = 0;
    json_object_object_add(status, "observedGeneration", json_object_new_int64(gen));
    if (r->account_id)
        json_object_object_add(status, "accountId", json_object_new_string(r->account_id));
    if (r->arn)
        json_object_object_add(status, "identity", json_object_new_string(r->arn));
    if (r->source[0])
        json_object_object_add(status, "credentialSource", json_object_new_string(r->source));
    if (r->expires_ms > 0) {
        char when[40];
        np_time_format_rfc3339(when, sizeof(when), r->expires_ms);
        json_object_object_add(status, "credentialsExpiration", json_object_new_string(when));
    }
    json_object_object_add(
        status, "conditions",
        np_controller_status_conditions(old_status, cond, 1, gen, np_controller_now_ms(ctl)));
    if (!np_controller_status_equal(old_status, status, NULL)) {
        char *patch = np_controller_status_merge_patch(old_status, status);
        rc = np_kube_status_patch(ctl->kube, NULL, &np_controller_res_accounts, NULL, key, patch);
        free(patch);
    }
    json_object_put(status);
    return rc;
}

/* When to verify a ready account again: when its temporary credentials are due for refresh
 * (the verification refreshes them, and the status shows the new expiry), at least 5 s apart;
 * never for long-term keys. */
static int64_t reverify_after_ms(struct np_controller *ctl, const struct account_report *r)
{
    if (r->refresh_ms <= 0)
        return 0;
    int64_t left = r->refresh_ms - np_controller_now_ms(ctl) + 1000;
    return left > 5000 ? left : 5000;
}

/* Verifies an account's credentials (sts:GetCallerIdentity) and reports it on its status. */
int np_controller_reconcile_account(struct np_controller *ctl, const char *key,
                                    struct np_controller_result *res)
{
    json_object *acct = NULL;
    struct account_report r;
    char *msg = NULL;
    memset(&r, 0, sizeof(r));
    if (np_kube_store_get(np_kube_informer_store(ctl->acct_inf), &acct, key) != 0)
        return 0; /* deleted */
    struct np_controller_condition cond = {
        "Ready", "True", np_controller_reason_name(NP_CONTROLLER_REASON_CREDENTIALS_VERIFIED), ""};
    int rc = account_verify(ctl, acct, &r);
    if (rc) {
        cond.status = "False";
        cond.reason =
            np_controller_reason_name(r.why != NP_CONTROLLER_REASON_NONE ? r.why
                                      : rc == NP_EAUTH ? NP_CONTROLLER_REASON_CREDENTIALS_INVALID
                                                       : NP_CONTROLLER_REASON_ACCOUNT_ERROR);
        msg = np_strdup(np_error_message());
        res->requeue_after_ms = 60 * 1000;
    } else {
        msg = np_strdupf("verified as %s with %s credentials%s", r.arn, r.source,
                         r.consuming ? "; consuming events"
                         : r.queue_unsharded
                             ? "; not consuming events: the controller is sharded and "
                               "spec.aws.eventQueueUrl has no {shard} (one queue per shard)"
                             : "");
        res->requeue_after_ms = reverify_after_ms(ctl, &r);
    }
    cond.message = msg;
    /* Every shard verifies (its consumer learns who we are); shard 0 reports. */
    if (np_controller_shard_writes_shared(ctl))
        rc = write_account_status(ctl, acct, key, &cond, &r);
    free(msg);
    report_clean_up(&r);
    json_object_put(acct);
    return rc;
}
