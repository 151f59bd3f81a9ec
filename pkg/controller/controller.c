/*
 * The controller's frame: informers for postures, CloudAccounts and namespaces feed one
 * deduplicating workqueue; N workers reconcile keys; pollers watch AWS; the HTTP servers
 * expose metrics and probes. Start and orderly drain live here; the per-kind logic lives in
 * reconcile_sgp.c, reconcile_vpcp.c, pass.c, accounts.c and poller.c.
 */
#include "controller/private/controller_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct np_kube_resource np_controller_res_sgp = {"netposture.dev", "v1alpha1",
                                                       "securitygrouppostures", true};
const struct np_kube_resource np_controller_res_vpcp = {"netposture.dev", "v1alpha1", "vpcpostures",
                                                        true};
const struct np_kube_resource np_controller_res_accounts = {"netposture.dev", "v1alpha1",
                                                            "cloudaccounts", false};

/* ---------------------------------------------------------------- clock */

int64_t np_controller_now_ms(const struct np_controller *ctl)
{
    return ctl->clock ? ctl->clock->now_ms(ctl->clock->ctx) : np_time_now_ms();
}

int64_t np_controller_mono_ms(const struct np_controller *ctl)
{
    return ctl->clock ? ctl->clock->mono_ms(ctl->clock->ctx) : np_time_mono_ms();
}

/* ---------------------------------------------------------------- queue keys */

static void enqueue_text(struct np_controller *ctl, enum np_controller_work_kind kind,
                         const char *key)
{
    char *text = np_controller_work_item_text(kind, key);
    np_kube_workqueue_add(ctl->queue, text);
    free(text);
}

/* Enqueues an item of this shard (another shard's posture is left to it: false). */
bool np_controller_enqueue(struct np_controller *ctl, enum np_controller_work_kind kind,
                           const char *key)
{
    if (!np_controller_shard_wants(ctl, kind, key))
        return false;
    enqueue_text(ctl, kind, key);
    return true;
}

/* The same with the object at hand (no cache read: callable inside a store walk). */
static void enqueue_obj(struct np_controller *ctl, enum np_controller_work_kind kind,
                        const char *key, json_object *obj)
{
    if (np_controller_shard_wants_obj(ctl, kind, obj))
        enqueue_text(ctl, kind, key);
}

void np_controller_enqueue_after(struct np_controller *ctl, enum np_controller_work_kind kind,
                                 const char *key, int64_t delay_ms)
{
    if (!np_controller_shard_wants(ctl, kind, key))
        return;
    char *text = np_controller_work_item_text(kind, key);
    np_kube_workqueue_add_after(ctl->queue, text, delay_ms);
    free(text);
}

/* Posture changes also requeue the guardrails, whose violation lists they feed. */
static void on_sgp_add(void *ctx, const char *key, json_object *obj)
{
    np_controller_shard_count_posture(ctx, obj, 1);
    enqueue_obj(ctx, NP_CONTROLLER_WORK_SGP, key, obj);
    np_controller_requeue_guardrails(ctx);
}

static void on_sgp_update(void *ctx, const char *key, json_object *old_obj, json_object *new_obj)
{
    (void)old_obj;
    enqueue_obj(ctx, NP_CONTROLLER_WORK_SGP, key, new_obj);
    np_controller_requeue_guardrails(ctx);
}

static void on_sgp_delete(void *ctx, const char *key, json_object *obj)
{
    np_controller_shard_count_posture(ctx, obj, -1);
    enqueue_obj(ctx, NP_CONTROLLER_WORK_SGP, key, obj);
    np_controller_requeue_guardrails(ctx);
}

/*
 * A VPCPosture change requeues it, the guardrails, and the SecurityGroupPostures of its
 * namespace that name it in spec.vpcRef (they wait for its VPC).
 */
struct vpc_users {
    struct np_controller *ctl;
    const char *ns;
    const char *name;
};

bool np_controller_uses_vpc_posture(json_object *sgp, const char *ns, const char *name)
{
    return np_str_eq(np_kube_object_namespace(sgp), ns) &&
           np_str_eq(np_json_path_str(sgp, "spec", "vpcRef", "name", NP_JSON_END), name);
}

static void requeue_vpc_user(void *ctx, const char *key, json_object *obj)
{
    struct vpc_users *u = ctx;
    if (np_controller_uses_vpc_posture(obj, u->ns, u->name))
        enqueue_obj(u->ctl, NP_CONTROLLER_WORK_SGP, key, obj);
}

static void on_vpcp_change(void *ctx, const char *key, json_object *obj)
{
    struct np_controller *ctl = ctx;
    enqueue_obj(ctl, NP_CONTROLLER_WORK_VPCP, key, obj);
    np_controller_requeue_guardrails(ctl);
    struct vpc_users u = {ctl, np_kube_object_namespace(obj), np_kube_object_name(obj)};
    if (u.ns && u.name)
        np_kube_store_each(np_kube_informer_store(ctl->sgp_inf), requeue_vpc_user, &u);
}

static void on_vpcp_add(void *ctx, const char *key, json_object *obj)
{
    np_controller_shard_count_posture(ctx, obj, 1);
    on_vpcp_change(ctx, key, obj);
}

static void on_vpcp_update(void *ctx, const char *key, json_object *old_obj, json_object *new_obj)
{
    (void)old_obj;
    on_vpcp_change(ctx, key, new_obj);
}

static void on_vpcp_delete(void *ctx, const char *key, json_object *obj)
{
    np_controller_shard_count_posture(ctx, obj, -1);
    on_vpcp_change(ctx, key, obj);
}

/* A guardrail change requeues it and every posture (which ones it governs may change). */
static void on_guardrail_change(void *ctx, const char *key, json_object *obj)
{
    (void)obj;
    np_controller_enqueue(ctx, NP_CONTROLLER_WORK_GUARDRAIL, key);
    np_controller_requeue_postures(ctx, NULL, NULL);
}

static void on_guardrail_update(void *ctx, const char *key, json_object *old_obj,
                                json_object *new_obj)
{
    /* Our own status writes change neither the spec nor the labels. */
    if (np_json_path_int(old_obj, 0, "metadata", "generation", NP_JSON_END) ==
            np_json_path_int(new_obj, 0, "metadata", "generation", NP_JSON_END) &&
        np_controller_status_equal(np_json_path(old_obj, "metadata", "labels", NP_JSON_END),
                                   np_json_path(new_obj, "metadata", "labels", NP_JSON_END), NULL))
        return;
    on_guardrail_change(ctx, key, new_obj);
}

struct requeue_match {
    struct np_controller *ctl;
    enum np_controller_work_kind kind; /* the kind of the store walked */
    const char *account;               /* requeue postures using this account, or NULL */
    const char *namespace;             /* requeue postures in this namespace, or NULL */
};

static void requeue_matching(void *ctx, const char *key, json_object *obj)
{
    struct requeue_match *m = ctx;
    if (m->account) {
        const char *ref = np_json_path_str(obj, "spec", "accountRef", "name", NP_JSON_END);
        if (!np_str_eq(ref ? ref : "default", m->account))
            return;
    }
    if (m->namespace && !np_str_eq(np_kube_object_namespace(obj), m->namespace))
        return;
    enqueue_obj(m->ctl, m->kind, key, obj);
}

/* Enqueues every posture matching (account, namespace); NULL matches all. */
void np_controller_requeue_postures(struct np_controller *ctl, const char *account, const char *ns)
{
    struct requeue_match m = {ctl, NP_CONTROLLER_WORK_SGP, account, ns};
    np_kube_store_each(np_kube_informer_store(ctl->sgp_inf), requeue_matching, &m);
    m.kind = NP_CONTROLLER_WORK_VPCP;
    if (ctl->vpcp_inf)
        np_kube_store_each(np_kube_informer_store(ctl->vpcp_inf), requeue_matching, &m);
}

/* Account changes requeue the account and its postures; cached clients are rebuilt lazily
 * when the account's generation moves (status writes do not). */
static void on_account_change(void *ctx, const char *key, json_object *obj)
{
    struct np_controller *ctl = ctx;
    (void)obj;
    np_controller_enqueue(ctl, NP_CONTROLLER_WORK_ACCOUNT, key);
    np_controller_requeue_postures(ctl, key, NULL);
}

static void on_account_delete(void *ctx, const char *key, json_object *obj)
{
    struct np_controller *ctl = ctx;
    (void)obj;
    np_controller_accounts_invalidate(ctl, key);
    np_controller_requeue_postures(ctl, key, NULL);
}

static void on_account_update(void *ctx, const char *key, json_object *old_obj,
                              json_object *new_obj)
{
    (void)old_obj;
    on_account_change(ctx, key, new_obj);
}

static void on_namespace_update(void *ctx, const char *key, json_object *old_obj,
                                json_object *new_obj)
{
    (void)old_obj;
    (void)new_obj;
    /* Labels may now (not) match an account's allowedNamespaces or a guardrail's selector. */
    np_controller_requeue_postures(ctx, NULL, key);
    np_controller_requeue_guardrails(ctx);
}

/* A namespace the cache did not know yet: its postures may have been refused or not governed
 * meanwhile (allowedNamespaces, guardrail selectors). */
static void on_namespace_add(void *ctx, const char *key, json_object *obj)
{
    on_namespace_update(ctx, key, NULL, obj);
}

/* ---------------------------------------------------------------- workers */

/* Counts a finished reconcile: netposture_reconcile_total, errors and its duration. */
static void observe_reconcile(struct np_controller *ctl, enum np_controller_work_kind kind, int rc,
                              const struct np_controller_result *res, double secs)
{
    const char *result = rc != 0 ? "error" : res->requeue_after_ms > 0 ? "requeue" : "success";
    np_controller_metrics_reconcile(ctl, kind, result, secs);
}

/* Reconciles one queue entry and tells the queue what comes next: backoff after an error that
 * retrying may fix, the requested requeue, or nothing. A posture waiting for its region's first
 * poll is parked there instead (the poll's end enqueues it: one pass, after the poll). */
void np_controller_work_on(struct np_controller *ctl, const char *text)
{
    struct np_controller_work_item w;
    if (np_controller_work_item_parse(text, &w) != 0) {
        np_log_error("dropping a malformed work item", "item", text, "error", np_error_message());
        np_kube_workqueue_forget(ctl->queue, text);
        return;
    }
    if (!np_controller_shard_wants(ctl, w.kind, w.key)) {
        np_kube_workqueue_forget(ctl->queue, text); /* recreated under another shard's uid */
        return;
    }
    if (np_controller_work_item_park(ctl, &w)) {
        np_log_debug("parked until its region's first poll", "item", text);
        return;
    }
    int64_t t0 = np_time_mono_ms();
    struct np_controller_result res = {0, false};
    struct np_controller_log_scope scope;
    np_controller_log_scope_begin(&scope, &w);
    int rc = np_controller_work_item_reconcile(ctl, &w, &res);
    observe_reconcile(ctl, w.kind, rc, &res, (double)(np_time_mono_ms() - t0) / 1000.0);
    if (rc != 0 && !res.terminal)
        np_log_warn("reconcile failed; retrying with backoff", "error", np_error_message());
    else
        np_log_debug("reconciled", "result", rc != 0 ? "error" : "done",
                     NP_LOG_INT("requeueAfterMs", res.requeue_after_ms));
    np_controller_log_scope_end(&scope);
    if (rc != 0 && !res.terminal) {
        np_kube_workqueue_add_rate_limited(ctl->queue, text);
        return;
    }
    np_kube_workqueue_forget(ctl->queue, text);
    if (res.requeue_after_ms > 0)
        np_kube_workqueue_add_after(ctl->queue, text, res.requeue_after_ms);
}

static void *worker_main(void *arg)
{
    struct np_controller_worker *self = arg;
    struct np_controller *ctl = self->ctl;
    char *text = NULL;
    while (np_kube_workqueue_get(ctl->queue, &text) == 0) {
        atomic_store(&self->busy_since, (long long)np_controller_mono_ms(ctl));
        np_controller_work_on(ctl, text);
        atomic_store(&self->busy_since, 0);
        np_kube_workqueue_done(ctl->queue, text);
        free(text);
        text = NULL;
    }
    return NULL;
}

/* ---------------------------------------------------------------- probes */

/* Live unless wedged: a worker on one item past NP_CONTROLLER_WEDGED_MS, or the leader lease
 * lost (the process is about to exit). */
bool np_controller_healthz(void *ctx, struct np_buf *msg)
{
    struct np_controller *ctl = ctx;
    if (ctl->leader && np_kube_leader_lost(ctl->leader)) {
        np_buf_puts(msg, "the leader lease was lost");
        return false;
    }
    int64_t now = np_controller_mono_ms(ctl);
    for (int i = 0; i < ctl->opts.workers; i++) {
        long long since = atomic_load(&ctl->worker_state[i].busy_since);
        if (since > 0 && now - since > NP_CONTROLLER_WEDGED_MS) {
            np_buf_appendf(msg, "worker %d has been on one item for %lld s", i,
                           (long long)(now - since) / 1000);
            return false;
        }
    }
    return true;
}

static bool readyz(void *ctx, struct np_buf *msg)
{
    struct np_controller *ctl = ctx;
    if (atomic_load(&ctl->stopping)) {
        np_buf_puts(msg, "shutting down");
        return false;
    }
    if (!ctl->sgp_inf || !np_kube_informer_has_synced(ctl->sgp_inf) || !ctl->vpcp_inf ||
        !np_kube_informer_has_synced(ctl->vpcp_inf) ||
        !np_kube_informer_has_synced(ctl->acct_inf) || !np_kube_informer_has_synced(ctl->ns_inf) ||
        !np_kube_informer_has_synced(ctl->guardrail_inf)) {
        np_buf_puts(msg, "caches not synced");
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- lifecycle */

/* The controller's namespace: the option, else the pod's (service-account mount), else the
 * one manifests/ installs into. */
static char *own_namespace(const char *option)
{
    if (!np_str_is_empty(option))
        return np_strdup(option);
    char buf[256] = "";
    FILE *fp = fopen(SA_NAMESPACE_FILE, "r");
    if (fp) {
        if (!fgets(buf, sizeof(buf), fp))
            buf[0] = '\0';
        fclose(fp);
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return np_strdup(buf[0] ? buf : NP_CONTROLLER_DEFAULT_NAMESPACE);
}

const char *np_controller_own_namespace(const struct np_controller *ctl)
{
    return ctl->own_namespace ? ctl->own_namespace : NP_CONTROLLER_DEFAULT_NAMESPACE;
}

int np_controller_new(struct np_controller **out, const struct np_controller_options *opts)
{
    int rc = 0;
    struct np_kube_config *cfg = NULL;
    struct np_controller *ctl = np_xcalloc(1, sizeof(*ctl));
    ctl->opts = *opts;
    ctl->opts.kubeconfig = np_strdup(opts->kubeconfig);
    ctl->opts.namespace = np_strdup(opts->namespace);
    ctl->opts.metrics_addr = np_strdup(opts->metrics_addr);
    ctl->opts.health_addr = np_strdup(opts->health_addr);
    ctl->own_namespace = own_namespace(opts->controller_namespace);
    if (ctl->opts.workers <= 0)
        ctl->opts.workers = 4;
    if (ctl->opts.resync_ms <= 0)
        ctl->opts.resync_ms = 5 * 60 * 1000;
    if (ctl->opts.shard_count <= 0)
        ctl->opts.shard_count = 1;
    ctl->clock = np_clock_system();
    /* before any thread: /healthz reads it */
    ctl->worker_state = np_xcalloc((size_t)ctl->opts.workers, sizeof(*ctl->worker_state));
    for (int i = 0; i < ctl->opts.workers; i++) {
        ctl->worker_state[i].ctl = ctl;
        atomic_init(&ctl->worker_state[i].busy_since, 0);
    }
    pthread_mutex_init(&ctl->lock, NULL);
    pthread_mutex_init(&ctl->hints_lock, NULL);
    np_controller_reads_init(&ctl->reads);
    pthread_cond_init(&ctl->stop_cond, NULL);
    atomic_init(&ctl->stopping, false);
    atomic_init(&ctl->lost, false);
    atomic_init(&ctl->shard_postures, 0);

    ctl->metrics = np_metrics_new();
    np_controller_metrics_describe(ctl->metrics);
    if (ctl->opts.shard_index < 0 || ctl->opts.shard_index >= ctl->opts.shard_count) {
        rc = np_error_set(NP_EINVAL, "shard index %d is not within 0..%d (shard count %d)",
                          ctl->opts.shard_index, ctl->opts.shard_count - 1, ctl->opts.shard_count);
        goto out;
    }
    rc = np_kube_config_load(&cfg, opts->kubeconfig);
    if (rc)
        goto out;
    /* A shard names itself to the API server (audit logs tell which shard wrote what). */
    char *agent = np_controller_shard_lease_name(ctl, "netposture-controller/shard");
    struct np_kube_client_options kopts = {
        .user_agent = np_controller_sharded(ctl) ? agent : "netposture-controller",
        .write_gate = np_controller_may_write,
        .write_gate_ctx = ctl,
        .observer = np_controller_kube_observer,
        .observer_ctx = ctl};
    rc = np_kube_client_new(&ctl->kube, cfg, &kopts);
    free(agent);
    if (rc)
        goto out;
    rc = np_kube_recorder_new(&ctl->recorder, ctl->kube, NULL);
    if (rc)
        goto out;
    struct np_kube_workqueue_options qopts = {.base_delay_ms = 1000,
                                              .max_delay_ms = 5 * 60 * 1000,
                                              .observer = np_controller_queue_observer(ctl)};
    rc = np_kube_workqueue_new(&ctl->queue, &qopts);
    if (rc)
        goto out;
    np_controller_metrics_start(ctl, opts->version, opts->revision);
    np_controller_shard_describe(ctl);
    np_controller_accounts_init(ctl);
    rc = np_controller_leader_init(ctl, cfg);
out:
    np_kube_config_destroy(cfg);
    if (rc) {
        np_controller_destroy(ctl);
        ctl = NULL;
    }
    *out = ctl;
    return rc;
}

static int start_informer(struct np_controller *ctl, struct np_kube_informer **inf,
                          const struct np_kube_resource *res, const char *ns,
                          struct np_kube_handlers h, bool postures)
{
    struct np_kube_informer_options o;
    memset(&o, 0, sizeof(o));
    o.resource = *res;
    o.namespace = ns;
    o.handlers = h;
    if (postures && np_controller_sharded(ctl)) {
        /* Other shards' postures are kept as stubs (what this shard reads of them). */
        o.transform = np_controller_shard_transform;
        o.transform_ctx = ctl;
    }
    /* List pages arrive with managedFields (dropped after parsing): small pages keep the peak
     * memory of a (re)list of many postures low. */
    o.page_size = 100;
    int rc = np_kube_informer_new(inf, ctl->kube, &o);
    if (rc == 0)
        rc = np_kube_informer_start(*inf);
    return rc;
}

static int start_http_servers(struct np_controller *ctl)
{
    int rc = 0;
    if (ctl->opts.metrics_addr) {
        struct np_http_server_config hc = {ctl->opts.metrics_addr, ctl->metrics, NULL, NULL, ctl};
        rc = np_http_server_start(&ctl->metrics_srv, &hc);
    }
    if (rc == 0 && ctl->opts.health_addr) {
        struct np_http_server_config hc = {ctl->opts.health_addr, NULL, np_controller_healthz,
                                           readyz, ctl};
        rc = np_http_server_start(&ctl->health_srv, &hc);
    }
    return rc;
}

/* Starts the informers, accounts and namespaces first (postures are checked against them). */
static int start_informers(struct np_controller *ctl)
{
    struct np_kube_handlers sgp_h = {on_sgp_add, on_sgp_update, on_sgp_delete, ctl};
    struct np_kube_handlers acct_h = {on_account_change, on_account_update, on_account_delete, ctl};
    struct np_kube_handlers vpcp_h = {on_vpcp_add, on_vpcp_update, on_vpcp_delete, ctl};
    struct np_kube_handlers ns_h = {on_namespace_add, on_namespace_update, NULL, ctl};
    struct np_kube_handlers gr_h = {on_guardrail_change, on_guardrail_update, on_guardrail_change,
                                    ctl};
    int rc = start_informer(ctl, &ctl->acct_inf, &np_controller_res_accounts, NULL, acct_h, false);
    if (rc == 0)
        rc = start_informer(ctl, &ctl->ns_inf, &np_kube_res_namespaces, NULL, ns_h, false);
    if (rc == 0)
        rc = start_informer(ctl, &ctl->guardrail_inf, &np_controller_res_guardrails, NULL, gr_h,
                            false);
    if (rc == 0)
        rc = start_informer(ctl, &ctl->sgp_inf, &np_controller_res_sgp, ctl->opts.namespace, sgp_h,
                            true);
    if (rc == 0)
        rc = start_informer(ctl, &ctl->vpcp_inf, &np_controller_res_vpcp, ctl->opts.namespace,
                            vpcp_h, true);
    return rc;
}

/* Workers wait for every cache: a reconcile must see accounts and namespaces. */
static void wait_caches_synced(struct np_controller *ctl)
{
    struct np_kube_informer *const infs[] = {ctl->acct_inf, ctl->ns_inf, ctl->guardrail_inf,
                                             ctl->sgp_inf, ctl->vpcp_inf};
    size_t synced = 0;
    while (!atomic_load(&ctl->stopping) && synced < NP_ARRAY_LEN(infs))
        if (np_kube_informer_wait_synced(infs[synced], 500) == 0)
            synced++; /* a synced cache stays synced */
}

static int start_workers(struct np_controller *ctl)
{
    np_log_info("caches synced; starting workers", NP_LOG_INT("workers", ctl->opts.workers));
    ctl->workers = np_xcalloc((size_t)ctl->opts.workers, sizeof(pthread_t));
    for (int i = 0; i < ctl->opts.workers; i++) {
        if (pthread_create(&ctl->workers[i], NULL, worker_main, &ctl->worker_state[i]) != 0)
            return np_error_set(NP_EIO, "cannot start worker threads");
        ctl->nworkers++;
    }
    return 0;
}

/* Drain: refuse new keys, let workers finish the key in hand, then stop the sources. */
static void drain(struct np_controller *ctl)
{
    atomic_store(&ctl->stopping, true);
    np_kube_workqueue_shutdown(ctl->queue);
    for (int i = 0; i < ctl->nworkers; i++)
        pthread_join(ctl->workers[i], NULL);
    ctl->nworkers = 0;
    np_controller_pollers_stop(ctl);
    struct np_kube_informer *const infs[] = {ctl->sgp_inf, ctl->vpcp_inf, ctl->acct_inf,
                                             ctl->ns_inf, ctl->guardrail_inf};
    for (size_t i = 0; i < NP_ARRAY_LEN(infs); i++)
        if (infs[i])
            np_kube_informer_stop(infs[i]);
    np_controller_leader_stop(ctl); /* released once nothing of ours writes any more */
}

int np_controller_run(struct np_controller *ctl)
{
    int rc = start_http_servers(ctl);
    if (rc == 0)
        rc = start_informers(ctl);
    if (rc == 0) {
        wait_caches_synced(ctl);
        rc = np_controller_leader_acquire(ctl);
        if (rc == NP_ECANCELED) /* stopped while standing by */
            rc = 0;
        else if (rc == 0)
            rc = start_workers(ctl);
    }
    if (rc == 0) {
        pthread_mutex_lock(&ctl->lock);
        while (!atomic_load(&ctl->stopping))
            pthread_cond_wait(&ctl->stop_cond, &ctl->lock);
        pthread_mutex_unlock(&ctl->lock);
    }
    drain(ctl);
    if (rc == 0 && atomic_load(&ctl->lost))
        rc = np_error_set(NP_EDENIED, "the leader lease was lost");
    return rc;
}

void np_controller_stop(struct np_controller *ctl)
{
    pthread_mutex_lock(&ctl->lock);
    atomic_store(&ctl->stopping, true);
    pthread_cond_broadcast(&ctl->stop_cond);
    pthread_mutex_unlock(&ctl->lock);
    np_kube_workqueue_shutdown(ctl->queue);
}

void np_controller_destroy(struct np_controller *ctl)
{
    if (!ctl)
        return;
    np_controller_pollers_stop(ctl);
    np_http_server_destroy(ctl->metrics_srv);
    np_http_server_destroy(ctl->health_srv);
    np_kube_informer_destroy(ctl->sgp_inf);
    np_kube_informer_destroy(ctl->vpcp_inf);
    np_kube_informer_destroy(ctl->acct_inf);
    np_kube_informer_destroy(ctl->ns_inf);
    np_kube_informer_destroy(ctl->guardrail_inf);
    np_controller_accounts_clean_up(ctl);
    np_kube_recorder_destroy(ctl->recorder);
    np_kube_workqueue_destroy(ctl->queue);
    np_kube_client_destroy(ctl->kube);
    np_controller_leader_destroy(ctl);
    np_metrics_destroy(ctl->metrics);
    free(ctl->workers);
    free(ctl->worker_state);
    free((char *)ctl->opts.kubeconfig);
    free((char *)ctl->opts.namespace);
    free((char *)ctl->opts.metrics_addr);
    free((char *)ctl->opts.health_addr);
    free(ctl->own_namespace);
    np_controller_vpc_events_clean_up(ctl);
    pthread_mutex_destroy(&ctl->hints_lock);
    np_controller_reads_clean_up(&ctl->reads);
    pthread_mutex_destroy(&ctl->lock);
    pthread_cond_destroy(&ctl->stop_cond);
    free(ctl);
}
