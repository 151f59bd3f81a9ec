/*
 * The event consumer of a CloudAccount with spec.aws.eventQueueUrl: long-polls SQS for
 * EventBridge envelopes of CloudTrail EC2 API calls and turns each receive batch into hints
 * for the account's postures (one Describe per region for the batch's groups). Events are
 * hints only: an actor counts as verified only when CloudTrail LookupEvents confirms the
 * message, a message CloudTrail contradicts is dropped as forged, and each message is handled
 * on its own, bounded, and deleted once handled (or once it keeps coming back).
 */
#include "controller/private/controller_private.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECEIVE_BATCH 10
#define RECEIVE_WAIT_S 20
#define ERROR_BACKOFF_MIN_MS 1000
#define ERROR_BACKOFF_MAX_MS 30000
#define MAX_TRAIL_REGIONS 8

struct np_controller_consumer {
    struct np_controller *ctl;
    char *account;
    char *queue_url;
    struct np_aws_sqs *sqs;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    char *identity;   /* the controller's own ARN in this account (guarded by lock) */
    char *account_id; /* its AWS account id, from that ARN (guarded by lock) */
    /* what a CloudTrail client needs (copied at creation; used by the consumer thread only) */
    struct np_aws_provider *provider;
    struct np_controller_endpoints eps;
    char *ca_bundle, *user_agent;
    bool insecure;
    /* Per region the account serves (at most MAX_TRAIL_REGIONS): the consumer's own clients,
     * so it never holds the account's region objects across a call. */
    struct {
        char *region;
        struct np_aws_cloudtrail *client;
        struct np_aws_ec2 *ec2; /* the batch Describe of the groups events named */
    } trails[MAX_TRAIL_REGIONS];
    size_t n_trails;
};

static void count_n(struct np_controller_consumer *c, const char *metric, const char *label,
                    const char *value, double n)
{
    struct np_buf l = NP_BUF_INIT;
    if (label)
        np_metrics_labels(&l, label, value);
    np_metrics_counter_add(c->ctl->metrics, metric, np_buf_cstr(&l), n);
    np_buf_clean_up(&l);
}

static void count(struct np_controller_consumer *c, const char *result)
{
    count_n(c, "netposture_events_total", "result", result, 1);
}

/* Whether the event was made by the controller itself (its repairs come back as events). */
static bool is_own(struct np_controller_consumer *c, const char *actor)
{
    if (!actor)
        return false;
    pthread_mutex_lock(&c->lock);
    bool own = c->identity && strcmp(c->identity, actor) == 0;
    pthread_mutex_unlock(&c->lock);
    return own;
}

/* Whether the event names another AWS account than the one whose queue delivered it (only
 * decided once the account's id is known from its credentials). */
static bool is_foreign(struct np_controller_consumer *c, const char *account)
{
    pthread_mutex_lock(&c->lock);
    bool foreign = c->account_id && account && strcmp(c->account_id, account) != 0;
    pthread_mutex_unlock(&c->lock);
    return foreign;
}

bool np_controller_events_posture_uses_account(json_object *obj, const char *account)
{
    const char *ref = np_json_path_str(obj, "spec", "accountRef", "name", NP_JSON_END);
    return np_str_eq(np_str_is_empty(ref) ? "default" : ref, account);
}

/* ---------------------------------------------------------------- CloudTrail verification */

/* The consumer's clients of a region the account uses (created on first use; bounded), or
 * NULL for a region the account does not serve. */
static size_t regional_index(struct np_controller_consumer *c, const char *region)
{
    for (size_t i = 0; i < c->n_trails; i++)
        if (np_str_eq(c->trails[i].region, region))
            return i;
    /* Only regions the account already serves: a message cannot make us open new ones. */
    if (c->n_trails >= MAX_TRAIL_REGIONS ||
        !np_controller_account_serves_region(c->ctl, c->account, region))
        return SIZE_MAX;
    struct np_aws_ec2_config cfg = {
        .region = region,
        .endpoint = c->eps.ec2,
        .sts_endpoint = c->eps.sts,
        .provider = c->provider,
        .ca_bundle = c->ca_bundle,
        .insecure_skip_tls_verify = c->insecure,
        .user_agent = c->user_agent,
        .observer = np_controller_aws_observer,
        .observer_ctx = c->ctl,
    };
    struct np_aws_cloudtrail *ct = NULL;
    struct np_aws_ec2 *ec2 = NULL;
    int rc = np_aws_ec2_new(&ec2, &cfg);
    /* A verification is worth one quick try: an actor it cannot confirm stays unverified. */
    cfg.max_attempts = 1;
    cfg.timeout_ms = 5000;
    cfg.endpoint = c->eps.cloudtrail;
    if (rc != 0 || np_aws_cloudtrail_new(&ct, &cfg) != 0) {
        np_log_warn("cannot create the event clients of a region; actors stay unverified",
                    "account", c->account, "region", region, "error", np_error_message());
        np_aws_cloudtrail_destroy(ct);
        np_aws_ec2_destroy(ec2);
        return SIZE_MAX;
    }
    c->trails[c->n_trails].region = np_strdup(region);
    c->trails[c->n_trails].client = ct;
    c->trails[c->n_trails].ec2 = ec2;
    return c->n_trails++;
}

static struct np_aws_cloudtrail *trail_of(struct np_controller_consumer *c, const char *region)
{
    size_t i = regional_index(c, region);
    return i == SIZE_MAX ? NULL : c->trails[i].client;
}

enum verdict { UNVERIFIED, VERIFIED, FORGED };

/*
 * Looks the event up in CloudTrail by its id: VERIFIED when the record came back and confirms
 * every claim of the message, FORGED when it came back and contradicts it, UNVERIFIED when
 * there is no record (yet) or CloudTrail could not be asked.
 */
static enum verdict verify(struct np_controller_consumer *c, const struct np_aws_sqs_message *m,
                           const struct np_aws_event *ev)
{
    char *record = NULL;
    enum verdict v = UNVERIFIED;
    struct np_aws_cloudtrail *ct = trail_of(c, ev->region);
    if (!ct)
        return UNVERIFIED;
    if (np_aws_cloudtrail_lookup_event(ct, ev->event_id, &record) != 0) {
        np_log_info("cannot look the event up in CloudTrail; its actor stays unverified", "account",
                    c->account, "eventId", ev->event_id, "error", np_error_message());
        return UNVERIFIED;
    }
    if (!record)
        return UNVERIFIED;
    if (np_aws_event_verify(m->body, strlen(m->body), record, strlen(record)) == 0) {
        v = VERIFIED;
    } else {
        v = FORGED;
        np_log_warn("dropping a forged event message: CloudTrail recorded something else",
                    "account", c->account, "messageId", m->message_id, "eventId", ev->event_id,
                    "error", np_error_message());
    }
    free(record);
    return v;
}

/* ---------------------------------------------------------------- one receive batch */

/* A resource an event of the batch names, and what the event says about it. */
struct pending {
    char *id;
    const struct np_aws_event *ev; /* borrowed from the batch */
    bool verified;
    bool done;        /* a posture was found (or it belongs to another account or shard) */
    bool foreign;     /* the group's posture uses another CloudAccount */
    bool other_shard; /* the posture is another shard's (which reads its own queue) */
};

struct batch {
    int verify_actors; /* some posture of the account has exceptions[].actors: -1 not known yet */
    struct np_aws_event ev[RECEIVE_BATCH];
    bool parsed[RECEIVE_BATCH];
    struct pending ids[RECEIVE_BATCH * NP_CONTROLLER_EVENTS_MAX_IDS];
    size_t n_ids;
};

/* The keys of the postures whose status names pending ids, in one walk of a store. */
struct walk {
    struct np_controller_consumer *c;
    struct batch *b;
    bool vpc;
    char *keys[RECEIVE_BATCH * NP_CONTROLLER_EVENTS_MAX_IDS]; /* parallel to b->ids (owned) */
};

static bool group_status_mentions(json_object *st, const char *id)
{
    return np_str_eq(np_json_path_str(st, "groupId", NP_JSON_END), id);
}

/* Whether a VPCPosture's status names the resource id among what it manages. */
static bool vpc_status_mentions(json_object *st, const char *id)
{
    static const char *const singles[] = {"vpcId", "defaultSecurityGroupId"};
    for (size_t i = 0; i < NP_ARRAY_LEN(singles); i++)
        if (np_str_eq(np_json_path_str(st, singles[i], NP_JSON_END), id))
            return true;
    static const char *const lists[][2] = {
        {"subnets", "subnetId"}, {"routeTables", "routeTableId"}, {"networkAcls", "networkAclId"}};
    for (size_t l = 0; l < NP_ARRAY_LEN(lists); l++) {
        json_object *arr = np_json_path(st, lists[l][0], NP_JSON_END);
        size_t n =
            arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
        for (size_t i = 0; i < n; i++)
            if (np_str_eq(
                    np_json_path_str(json_object_array_get_idx(arr, i), lists[l][1], NP_JSON_END),
                    id))
                return true;
    }
    json_object *fl = np_json_path(st, "flowLogIds", NP_JSON_END);
    size_t n = fl && json_object_is_type(fl, json_type_array) ? json_object_array_length(fl) : 0;
    for (size_t i = 0; i < n; i++)
        if (np_str_eq(json_object_get_string(json_object_array_get_idx(fl, i)), id))
            return true;
    return false;
}

static void walk_one(void *ctx, const char *key, json_object *obj)
{
    struct walk *w = ctx;
    /* Only postures of the account whose queue delivered the event. */
    if (!np_controller_events_posture_uses_account(obj, w->c->account))
        return;
    json_object *st = np_json_path(obj, "status", NP_JSON_END);
    if (!st)
        return;
    for (size_t i = 0; i < w->b->n_ids; i++) {
        struct pending *p = &w->b->ids[i];
        if (p->done || w->keys[i])
            continue;
        bool hit = w->vpc ? vpc_status_mentions(st, p->id)
                          : np_str_has_prefix(p->id, "sg-") && group_status_mentions(st, p->id);
        if (hit)
            w->keys[i] = np_strdup(key);
    }
}

/* One walk of a kind's store for every id not yet attributed; fills w->keys. */
static void walk_store(struct walk *w, struct np_kube_informer *inf)
{
    memset(w->keys, 0, sizeof(w->keys));
    if (inf)
        np_kube_store_each(np_kube_informer_store(inf), walk_one, w);
}

static void walk_clean_up(struct walk *w)
{
    for (size_t i = 0; i < w->b->n_ids; i++)
        free(w->keys[i]);
}

/*
 * The groups of the batch in one region: one filtered, paginated Describe (group-id with every
 * id as a value) instead of one per hint; each hint carries the group just read, so the
 * reconcile need not read it again. NULL *sgs when the Describe failed (the reconciles then
 * read the groups themselves).
 */
static void describe_region(struct np_controller_consumer *c, struct np_aws_ec2 *ec2,
                            struct batch *b, const char *region, struct np_aws_sg **sgs, size_t *n)
{
    const char *values[RECEIVE_BATCH * NP_CONTROLLER_EVENTS_MAX_IDS];
    size_t nv = 0;
    *sgs = NULL;
    *n = 0;
    for (size_t i = 0; i < b->n_ids; i++)
        if (np_str_has_prefix(b->ids[i].id, "sg-") && np_str_eq(b->ids[i].ev->region, region))
            values[nv++] = b->ids[i].id;
    if (nv == 0)
        return;
    struct np_aws_filter f = {"group-id", values, nv};
    if (np_aws_ec2_describe_security_groups(ec2, sgs, n, &f, 1, NULL, 0) != 0) {
        np_log_warn("cannot read the groups events named; their reconciles will", "account",
                    c->account, "region", region, "error", np_error_message());
        *sgs = NULL;
        *n = 0;
    }
    count_n(c, "netposture_event_describe_total", NULL, NULL, 1);
}

enum group_owner { OWNER_OURS, OWNER_FOREIGN, OWNER_OTHER_SHARD };

/* Whose the group posture under key is: ours, of another account (or gone), another shard's. */
static enum group_owner group_owner(struct np_controller_consumer *c, const char *key)
{
    json_object *obj = NULL;
    if (!c->ctl->sgp_inf ||
        np_kube_store_get(np_kube_informer_store(c->ctl->sgp_inf), &obj, key) != 0)
        return OWNER_FOREIGN;
    enum group_owner o = !np_controller_events_posture_uses_account(obj, c->account) ? OWNER_FOREIGN
                         : !np_controller_shard_owns(c->ctl, obj) ? OWNER_OTHER_SHARD
                                                                  : OWNER_OURS;
    json_object_put(obj);
    return o;
}

static const struct np_aws_sg *find_sg(const struct np_aws_sg *sgs, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (np_str_eq(sgs[i].group_id, id))
            return &sgs[i];
    return NULL;
}

/* Whether the i-th id of the batch is the first security group of its region. */
static bool first_group_of_region(const struct batch *b, size_t i)
{
    if (!np_str_has_prefix(b->ids[i].id, "sg-"))
        return false;
    for (size_t j = 0; j < i; j++)
        if (np_str_has_prefix(b->ids[j].id, "sg-") &&
            np_str_eq(b->ids[j].ev->region, b->ids[i].ev->region))
            return false;
    return true;
}

/* Hints every group of the region of the batch's i-th id (one Describe for them all);
 * owners[j] gets the owning posture's key from the snapshot when it uses our account. */
static void hint_region(struct np_controller_consumer *c, struct batch *b, size_t i, char **owners)
{
    const char *region = b->ids[i].ev->region;
    size_t k = regional_index(c, region);
    if (k == SIZE_MAX)
        return;
    struct np_aws_sg *sgs = NULL;
    size_t n = 0;
    describe_region(c, c->trails[k].ec2, b, region, &sgs, &n);
    for (size_t j = i; j < b->n_ids; j++) {
        struct pending *q = &b->ids[j];
        if (!np_str_has_prefix(q->id, "sg-") || !np_str_eq(q->ev->region, region))
            continue;
        owners[j] = np_controller_account_note_event(c->ctl, c->account, q->ev->region, q->id,
                                                     q->ev->actor, q->verified, q->ev->event_name,
                                                     q->ev->event_ms, find_sg(sgs, n, q->id));
        /* The snapshot knows groups by their tags; an event only reaches postures of the
         * account whose queue delivered it, and of this shard. */
        enum group_owner o = owners[j] ? group_owner(c, owners[j]) : OWNER_OURS;
        if (o != OWNER_OURS) {
            free(owners[j]);
            owners[j] = NULL;
            q->done = true; /* not ours: no store walk for it either */
            q->foreign = o == OWNER_FOREIGN;
            q->other_shard = o == OWNER_OTHER_SHARD;
        }
    }
    np_aws_sgs_free(sgs, n);
}

/* Hints and enqueues the group postures of every security-group id of the batch. */
static void hint_groups(struct np_controller_consumer *c, struct batch *b)
{
    struct walk w = {.c = c, .b = b, .vpc = false};
    char *owners[RECEIVE_BATCH * NP_CONTROLLER_EVENTS_MAX_IDS] = {NULL};
    bool any = false;
    for (size_t i = 0; i < b->n_ids; i++)
        if (first_group_of_region(b, i))
            hint_region(c, b, i, owners);
    /* Not in the snapshot yet (created meanwhile, or first poll pending): the status of the
     * posture that manages it says whose it is. One walk for all of them. */
    for (size_t i = 0; i < b->n_ids; i++)
        any = any || (np_str_has_prefix(b->ids[i].id, "sg-") && !owners[i] && !b->ids[i].done);
    if (any)
        walk_store(&w, c->ctl->sgp_inf);
    for (size_t i = 0; i < b->n_ids; i++) {
        if (!np_str_has_prefix(b->ids[i].id, "sg-"))
            continue;
        const char *key = owners[i] ? owners[i] : (any ? w.keys[i] : NULL);
        if (key) {
            b->ids[i].other_shard = !np_controller_enqueue(c->ctl, NP_CONTROLLER_WORK_SGP, key);
            b->ids[i].done = true;
        }
        free(owners[i]);
    }
    if (any)
        walk_clean_up(&w);
}

/* Hints and enqueues the VPC postures managing the other ids (a default group included). */
static void hint_vpc_pieces(struct np_controller_consumer *c, struct batch *b)
{
    struct walk w = {.c = c, .b = b, .vpc = true};
    walk_store(&w, c->ctl->vpcp_inf);
    for (size_t i = 0; i < b->n_ids; i++) {
        struct pending *p = &b->ids[i];
        if (!w.keys[i])
            continue;
        p->done = true;
        p->other_shard = !np_controller_shard_wants(c->ctl, NP_CONTROLLER_WORK_VPCP, w.keys[i]);
        if (p->other_shard)
            continue;
        /* The hint first: the reconcile the enqueue starts reads its actor. */
        np_controller_note_vpc_event(c->ctl, w.keys[i], p->ev->actor, p->verified,
                                     p->ev->event_name, p->ev->event_ms);
        np_controller_enqueue(c->ctl, NP_CONTROLLER_WORK_VPCP, w.keys[i]);
    }
    walk_clean_up(&w);
}

/* Whether a posture (in store) on the consumer's account names actors in its exceptions. */
struct actors_wanted {
    struct np_controller_consumer *c;
    bool found;
};

static void find_actor_exceptions(void *ctx, const char *key, json_object *obj)
{
    (void)key;
    struct actors_wanted *w = ctx;
    if (w->found || !np_controller_events_posture_uses_account(obj, w->c->account))
        return;
    json_object *ex = np_json_path(obj, "spec", "remediation", "exceptions", NP_JSON_END);
    size_t n = json_object_is_type(ex, json_type_array) ? json_object_array_length(ex) : 0;
    for (size_t i = 0; i < n && !w->found; i++) {
        json_object *actors = np_json_path(json_object_array_get_idx(ex, i), "actors", NP_JSON_END);
        w->found =
            json_object_is_type(actors, json_type_array) && json_object_array_length(actors) > 0;
    }
}

/*
 * Actors only matter to exceptions[].actors: without one on the account, no LookupEvents call
 * delays the hints (CloudTrail answers at 2 calls/s; the repair must not wait for it).
 */
static bool actor_exceptions_in_use(struct np_controller_consumer *c)
{
    struct actors_wanted w = {c, false};
    struct np_kube_informer *infs[] = {c->ctl->sgp_inf, c->ctl->vpcp_inf};
    for (size_t i = 0; i < NP_ARRAY_LEN(infs) && !w.found; i++)
        if (infs[i])
            np_kube_store_each(np_kube_informer_store(infs[i]), find_actor_exceptions, &w);
    return w.found;
}

/* actor_exceptions_in_use, asked at most once per batch and only for a message whose actor
 * would be verified (the controller's own repairs coming back never walk the stores). */
static bool wants_verification(struct np_controller_consumer *c, struct batch *b)
{
    if (b->verify_actors < 0)
        b->verify_actors = actor_exceptions_in_use(c);
    return b->verify_actors == 1;
}

/* Whether a message is dropped before its actor matters: poison, corrupt or not a CloudTrail
 * EC2 call, refused by AWS, our own, or of another AWS account. Parses it into b->ev[i]. */
static bool drop_early(struct np_controller_consumer *c, struct batch *b, size_t i,
                       const struct np_aws_sqs_message *m)
{
    struct np_aws_event *ev = &b->ev[i];
    if (m->receive_count > NP_CONTROLLER_EVENTS_MAX_RECEIVES) {
        /* Received that often and never deleted: it keeps failing (or crashing) us. */
        np_log_warn("deleting a poison event message", "account", c->account, "messageId",
                    m->message_id);
        count(c, "poison");
        return true;
    }
    if (m->corrupt || np_aws_event_parse(m->body, strlen(m->body), ev) != 0) {
        np_log_warn("dropping an event message that is not a CloudTrail EC2 call", "account",
                    c->account, "messageId", m->message_id, "error",
                    m->corrupt ? "the body does not match MD5OfBody" : np_error_message());
        count(c, "dropped");
        return true;
    }
    b->parsed[i] = true;
    np_controller_metrics_event_delay(c->ctl, ev->event_ms);
    /* A call AWS refused changed nothing; our own calls are our repairs coming back. */
    if (ev->error_code || is_own(c, ev->actor)) {
        count(c, "ignored");
        return true;
    }
    if (is_foreign(c, ev->account)) {
        np_log_warn("dropping an event of another AWS account", "account", c->account, "messageId",
                    m->message_id, "eventAccount", ev->account);
        count(c, "foreign");
        return true;
    }
    return false;
}

/* Adds the event's resource ids (at most NP_CONTROLLER_EVENTS_MAX_IDS; the rest are counted). */
static void add_ids(struct np_controller_consumer *c, struct batch *b, struct np_aws_event *ev,
                    const struct np_aws_sqs_message *m, bool verified)
{
    size_t n = ev->n_resource_ids;
    if (n > NP_CONTROLLER_EVENTS_MAX_IDS || ev->resources_truncated) {
        np_log_warn("an event names too many resources; the rest are ignored", "account",
                    c->account, "messageId", m->message_id);
        count_n(c, "netposture_event_ids_ignored_total", NULL, NULL,
                (double)(n > NP_CONTROLLER_EVENTS_MAX_IDS ? n - NP_CONTROLLER_EVENTS_MAX_IDS : 1));
        n = n > NP_CONTROLLER_EVENTS_MAX_IDS ? NP_CONTROLLER_EVENTS_MAX_IDS : n;
    }
    for (size_t k = 0; k < n; k++)
        b->ids[b->n_ids++] =
            (struct pending){.id = ev->resource_ids[k], .ev = ev, .verified = verified};
}

/*
 * Decides what to do with one message on its own (a bad one never fails the batch): true when
 * it is to be deleted without hints (poison, corrupt, malformed, foreign, forged, ignored).
 * Otherwise its event is parsed into b->ev[i] and its ids (at most NP_CONTROLLER_EVENTS_MAX_IDS)
 * added.
 */
static bool admit(struct np_controller_consumer *c, struct batch *b, size_t i,
                  const struct np_aws_sqs_message *m)
{
    if (drop_early(c, b, i, m))
        return true;
    struct np_aws_event *ev = &b->ev[i];
    bool verified = false;
    if (ev->actor && wants_verification(c, b)) {
        enum verdict v = verify(c, m, ev);
        if (v == FORGED) {
            count(c, "forged");
            return true;
        }
        verified = v == VERIFIED;
        count_n(c, "netposture_event_actors_total", "verified", verified ? "true" : "false", 1);
    }
    add_ids(c, b, ev, m, verified);
    return false;
}

static void handle_batch(struct np_controller_consumer *c, const struct np_aws_sqs_message *msgs,
                         size_t n)
{
    struct batch *b = np_xcalloc(1, sizeof(*b));
    b->verify_actors = -1;
    size_t first_id[RECEIVE_BATCH + 1];
    bool skip[RECEIVE_BATCH] = {false};
    n = n > RECEIVE_BATCH ? RECEIVE_BATCH : n;
    for (size_t i = 0; i < n; i++) {
        first_id[i] = b->n_ids;
        skip[i] = admit(c, b, i, &msgs[i]);
    }
    first_id[n] = b->n_ids;
    hint_groups(c, b);
    hint_vpc_pieces(c, b);
    for (size_t i = 0; i < n; i++) {
        if (!skip[i]) {
            size_t found = 0, others = 0;
            for (size_t k = first_id[i]; k < first_id[i + 1]; k++) {
                found += b->ids[k].done && !b->ids[k].foreign && !b->ids[k].other_shard;
                others += b->ids[k].other_shard;
            }
            count(c, found ? "handled" : others ? "other_shard" : "unmanaged");
            np_log_debug("event", "account", c->account, "eventName", b->ev[i].event_name, "actor",
                         b->ev[i].actor ? b->ev[i].actor : "", "postures",
                         found ? "enqueued" : "none");
        }
        /* Handled (or dropped for good): delete it, so a bad message never sticks. */
        if (np_aws_sqs_delete(c->sqs, c->queue_url, msgs[i].receipt_handle) != 0)
            np_log_warn("cannot delete an event message", "account", c->account, "messageId",
                        msgs[i].message_id, "error", np_error_message());
    }
    for (size_t i = 0; i < n; i++)
        if (b->parsed[i])
            np_aws_event_clean_up(&b->ev[i]);
    free(b);
}

/* ---------------------------------------------------------------- VPC postures */

void np_controller_note_vpc_event(struct np_controller *ctl, const char *key, const char *actor,
                                  bool actor_verified, const char *event_name, int64_t event_ms)
{
    int64_t now = np_controller_mono_ms(ctl);
    pthread_mutex_lock(&ctl->hints_lock);
    np_controller_hint_store_put(&ctl->vpc_hints, key, actor, actor_verified, event_name, event_ms,
                                 NULL, now);
    pthread_mutex_unlock(&ctl->hints_lock);
}

bool np_controller_take_vpc_event(struct np_controller *ctl, const char *key, char **actor,
                                  bool *actor_verified, char **event_name, int64_t *event_ms)
{
    struct np_controller_hint h;
    int64_t now = np_controller_mono_ms(ctl);
    pthread_mutex_lock(&ctl->hints_lock);
    bool found = np_controller_hint_store_take(&ctl->vpc_hints, key, now, &h);
    pthread_mutex_unlock(&ctl->hints_lock);
    if (found) {
        *actor = h.actor;
        *actor_verified = h.actor_verified;
        *event_name = h.event_name;
        *event_ms = h.event_ms;
        h.actor = h.event_name = NULL;
    }
    np_controller_hint_clean_up(&h);
    return found;
}

void np_controller_vpc_events_clean_up(struct np_controller *ctl)
{
    np_controller_hint_store_clean_up(&ctl->vpc_hints);
}

/* Waits up to ms unless stopped; returns true when stopping. */
static bool wait_stop(struct np_controller_consumer *c, int64_t ms)
{
    struct timespec until = np_time_mono_after(ms);
    pthread_mutex_lock(&c->lock);
    while (!c->stop && pthread_cond_timedwait(&c->cond, &c->lock, &until) == 0) {
    }
    bool stop = c->stop;
    pthread_mutex_unlock(&c->lock);
    return stop;
}

static bool stopping(struct np_controller_consumer *c)
{
    pthread_mutex_lock(&c->lock);
    bool stop = c->stop;
    pthread_mutex_unlock(&c->lock);
    return stop;
}

static void *consumer_main(void *arg)
{
    struct np_controller_consumer *c = arg;
    int64_t backoff = ERROR_BACKOFF_MIN_MS;
    np_log_info("consuming events", "account", c->account, "queue", c->queue_url);
    while (!stopping(c)) {
        struct np_aws_sqs_message *msgs = NULL;
        size_t n = 0;
        int rc =
            np_aws_sqs_receive(c->sqs, c->queue_url, RECEIVE_BATCH, RECEIVE_WAIT_S, 0, &msgs, &n);
        if (rc) {
            if (stopping(c))
                break;
            np_log_warn("cannot receive events; retrying", "account", c->account, "error",
                        np_error_message());
            if (wait_stop(c, backoff))
                break;
            backoff = backoff * 2 > ERROR_BACKOFF_MAX_MS ? ERROR_BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        backoff = ERROR_BACKOFF_MIN_MS;
        if (n > 0)
            handle_batch(c, msgs, n);
        np_aws_sqs_messages_free(msgs, n);
    }
    return NULL;
}

int np_controller_consumer_new(struct np_controller_consumer **out, struct np_controller *ctl,
                               const char *account, const char *queue_url,
                               const struct np_aws_sqs_config *cfg,
                               const struct np_controller_endpoints *eps)
{
    *out = NULL;
    struct np_controller_consumer *c = np_xcalloc(1, sizeof(*c));
    c->ctl = ctl;
    c->account = np_strdup(account);
    c->queue_url = np_strdup(queue_url);
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    c->eps.ec2 = eps->ec2 ? np_strdup(eps->ec2) : NULL;
    c->eps.sts = eps->sts ? np_strdup(eps->sts) : NULL;
    c->eps.cloudtrail = eps->cloudtrail ? np_strdup(eps->cloudtrail) : NULL;
    c->ca_bundle = np_str_is_empty(cfg->ca_bundle) ? NULL : np_strdup(cfg->ca_bundle);
    c->user_agent = np_str_is_empty(cfg->user_agent) ? NULL : np_strdup(cfg->user_agent);
    c->insecure = cfg->insecure_skip_tls_verify;
    c->provider = np_aws_provider_ref(cfg->provider);
    int rc = c->provider ? 0 : np_error_set(NP_EINVAL, "event consumer: no credentials");
    if (rc == 0)
        rc = np_aws_sqs_new(&c->sqs, cfg);
    if (rc == 0 && pthread_create(&c->thread, NULL, consumer_main, c) != 0)
        rc = np_error_set(NP_EIO, "cannot start the event consumer thread");
    if (rc) {
        np_controller_consumer_destroy(c);
        return rc;
    }
    c->started = true;
    *out = c;
    return 0;
}

void np_controller_consumer_signal_stop(struct np_controller_consumer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stop = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (c->sqs)
        np_aws_sqs_cancel(c->sqs); /* ends a long poll in flight */
}

void np_controller_consumer_join(struct np_controller_consumer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    bool started = c->started && c->stop;
    c->started = c->started && !started;
    pthread_mutex_unlock(&c->lock);
    if (started)
        pthread_join(c->thread, NULL);
}

void np_controller_consumer_destroy(struct np_controller_consumer *c)
{
    if (!c)
        return;
    np_controller_consumer_signal_stop(c);
    np_controller_consumer_join(c);
    np_aws_sqs_destroy(c->sqs);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    for (size_t i = 0; i < c->n_trails; i++) {
        np_aws_cloudtrail_destroy(c->trails[i].client);
        np_aws_ec2_destroy(c->trails[i].ec2);
        free(c->trails[i].region);
    }
    np_aws_provider_unref(c->provider);
    np_controller_endpoints_clean_up(&c->eps);
    free(c->ca_bundle);
    free(c->user_agent);
    free(c->identity);
    free(c->account_id);
    free(c->account);
    free(c->queue_url);
    free(c);
}

void np_controller_consumer_set_identity(struct np_controller_consumer *c, const char *arn)
{
    if (!c)
        return;
    /* arn:partition:service:region:ACCOUNT:resource */
    char *account_id = NULL;
    const char *p = arn;
    for (int field = 0; p && field < 4; field++) {
        p = strchr(p, ':');
        p = p ? p + 1 : NULL;
    }
    const char *end = p ? strchr(p, ':') : NULL;
    if (end && end > p)
        account_id = np_strndup(p, (size_t)(end - p));
    pthread_mutex_lock(&c->lock);
    free(c->identity);
    free(c->account_id);
    c->identity = arn ? np_strdup(arn) : NULL;
    c->account_id = account_id;
    pthread_mutex_unlock(&c->lock);
}

int np_controller_consumer_check(struct np_controller_consumer *c)
{
    return np_aws_sqs_check(c->sqs, c->queue_url);
}
