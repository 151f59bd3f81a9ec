/*
 * The event consumer of a CloudAccount with spec.aws.eventQueueUrl: long-polls SQS for
 * EventBridge envelopes of CloudTrail EC2 API calls, turns each into hints for the groups it
 * names (the next reconcile reads them from AWS and attributes new drift to the event's
 * actor) and enqueues their postures at once. Events are hints only; malformed or foreign
 * messages are logged and dropped, events made by the controller's own identity are ignored,
 * and a message is deleted only once handled.
 */
#include "controller/private/controller_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECEIVE_BATCH 10
#define RECEIVE_WAIT_S 20
#define ERROR_BACKOFF_MIN_MS 1000
#define ERROR_BACKOFF_MAX_MS 30000

struct np_consumer {
    struct np_controller *ctl;
    char *account;
    char *queue_url;
    struct np_aws_sqs *sqs;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
    char *identity; /* the controller's own ARN in this account (guarded by lock) */
};

static void count(struct np_consumer *c, const char *result)
{
    struct np_buf l = NP_BUF_INIT;
    np_metrics_labels(&l, "result", result);
    np_metrics_counter_add(c->ctl->metrics, "netposture_events_total", np_buf_cstr(&l), 1);
    np_buf_clean_up(&l);
}

/* Whether the event was made by the controller itself (its repairs come back as events). */
static bool is_own(struct np_consumer *c, const char *actor)
{
    if (!actor)
        return false;
    pthread_mutex_lock(&c->lock);
    bool own = c->identity && strcmp(c->identity, actor) == 0;
    pthread_mutex_unlock(&c->lock);
    return own;
}

/* The first posture of a store whose status names an AWS id, by a kind's predicate. */
struct by_status {
    const char *id;
    bool (*mentions)(json_object *status, const char *id);
    char *key; /* owned */
};

static void find_by_status(void *ctx, const char *key, json_object *obj)
{
    struct by_status *b = ctx;
    if (!b->key && b->mentions(np_json_path(obj, "status", NP_JSON_END), b->id))
        b->key = np_strdup(key);
}

static char *posture_of(struct np_kube_informer *inf, const char *id,
                        bool (*mentions)(json_object *status, const char *id))
{
    struct by_status b = {id, mentions, NULL};
    if (inf)
        np_kube_store_each(np_kube_informer_store(inf), find_by_status, &b);
    return b.key;
}

static bool group_status_mentions(json_object *st, const char *id)
{
    return np_str_eq(np_json_path_str(st, "groupId", NP_JSON_END), id);
}

/* Hints the group's region and enqueues its posture; true when a posture was found. */
static bool hint_group(struct np_consumer *c, const struct np_aws_event *ev, const char *gid)
{
    char *key = np_controller_account_note_event(c->ctl, c->account, ev->region, gid, ev->actor,
                                                 ev->event_name, ev->event_ms);
    if (!key) {
        /* Not in the snapshot yet (created meanwhile, or first poll pending): the status
         * of the posture that manages it says whose it is. */
        key = posture_of(c->ctl->sgp_inf, gid, group_status_mentions);
    }
    if (!key)
        return false;
    np_controller_enqueue(c->ctl, NP_KIND_SGP, key);
    free(key);
    return true;
}

/* ---------------------------------------------------------------- VPC postures */

#define VPC_HINT_TTL_MS (10LL * 60 * 1000)
#define VPC_HINTS_MAX 1024

/* Who last changed something of a VPC posture (its pieces are always read from AWS). */
struct np_vpc_hint {
    char *key;
    char *actor;
    char *event_name;
    int64_t event_ms;
    int64_t noted_ms;
    struct np_vpc_hint *next;
};

static void hint_free(struct np_vpc_hint *h)
{
    free(h->key);
    free(h->actor);
    free(h->event_name);
    free(h);
}

void np_controller_note_vpc_event(struct np_controller *ctl, const char *key, const char *actor,
                                  const char *event_name, int64_t event_ms)
{
    struct np_vpc_hint *h = np_xcalloc(1, sizeof(*h));
    h->key = np_strdup(key);
    h->actor = np_strdup(actor);
    h->event_name = np_strdup(event_name);
    h->event_ms = event_ms;
    h->noted_ms = np_time_mono_ms();
    pthread_mutex_lock(&ctl->hints_lock);
    /* The newest hint of a posture wins; expired ones and the oldest past the cap go. */
    size_t n = 0;
    struct np_vpc_hint **pp = &ctl->vpc_hints;
    while (*pp) {
        struct np_vpc_hint *x = *pp;
        if (np_str_eq(x->key, key) || h->noted_ms - x->noted_ms > VPC_HINT_TTL_MS ||
            n >= VPC_HINTS_MAX - 1) {
            *pp = x->next;
            hint_free(x);
            continue;
        }
        n++;
        pp = &x->next;
    }
    h->next = ctl->vpc_hints;
    ctl->vpc_hints = h;
    pthread_mutex_unlock(&ctl->hints_lock);
}

bool np_controller_take_vpc_event(struct np_controller *ctl, const char *key, char **actor,
                                  char **event_name, int64_t *event_ms)
{
    bool found = false;
    int64_t now = np_time_mono_ms();
    pthread_mutex_lock(&ctl->hints_lock);
    for (struct np_vpc_hint **pp = &ctl->vpc_hints; *pp; pp = &(*pp)->next) {
        struct np_vpc_hint *x = *pp;
        if (!np_str_eq(x->key, key))
            continue;
        *pp = x->next;
        found = now - x->noted_ms <= VPC_HINT_TTL_MS;
        if (found) {
            *actor = x->actor;
            *event_name = x->event_name;
            *event_ms = x->event_ms;
            x->actor = x->event_name = NULL;
        }
        hint_free(x);
        break;
    }
    pthread_mutex_unlock(&ctl->hints_lock);
    return found;
}

void np_controller_vpc_events_clean_up(struct np_controller *ctl)
{
    while (ctl->vpc_hints) {
        struct np_vpc_hint *x = ctl->vpc_hints;
        ctl->vpc_hints = x->next;
        hint_free(x);
    }
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

/* Hints and enqueues the VPC posture managing the resource; true when there is one. */
static bool hint_vpc_piece(struct np_consumer *c, const struct np_aws_event *ev, const char *id)
{
    char *key = posture_of(c->ctl->vpcp_inf, id, vpc_status_mentions);
    if (!key)
        return false;
    np_controller_note_vpc_event(c->ctl, key, ev->actor, ev->event_name, ev->event_ms);
    np_controller_enqueue(c->ctl, NP_KIND_VPCP, key);
    free(key);
    return true;
}

static void handle(struct np_consumer *c, const struct np_aws_sqs_message *m)
{
    struct np_aws_event ev;
    int rc = np_aws_event_parse(m->body, m->body ? strlen(m->body) : 0, &ev);
    if (rc) {
        np_log_warn("dropping an event message that is not a CloudTrail EC2 call", "account",
                    c->account, "messageId", m->message_id, "error", np_error_message());
        count(c, "dropped");
        return;
    }
    /* A call AWS refused changed nothing; our own calls are our repairs coming back. */
    if (ev.error_code || is_own(c, ev.actor)) {
        count(c, "ignored");
        np_aws_event_clean_up(&ev);
        return;
    }
    size_t found = 0;
    for (size_t i = 0; i < ev.n_resource_ids; i++) {
        const char *id = ev.resource_ids[i];
        bool sg = np_str_has_prefix(id, "sg-");
        /* A default security group belongs to a VPC posture, not to a group posture. */
        if ((sg && hint_group(c, &ev, id)) || hint_vpc_piece(c, &ev, id))
            found++;
    }
    count(c, found ? "handled" : "unmanaged");
    np_log_debug("event", "account", c->account, "eventName", ev.event_name, "actor",
                 ev.actor ? ev.actor : "", "postures", found ? "enqueued" : "none");
    np_aws_event_clean_up(&ev);
}

/* Waits up to ms unless stopped; returns true when stopping. */
static bool wait_stop(struct np_consumer *c, int64_t ms)
{
    struct timespec until = np_time_mono_after(ms);
    pthread_mutex_lock(&c->lock);
    while (!c->stop && pthread_cond_timedwait(&c->cond, &c->lock, &until) == 0) {
    }
    bool stop = c->stop;
    pthread_mutex_unlock(&c->lock);
    return stop;
}

static bool stopping(struct np_consumer *c)
{
    pthread_mutex_lock(&c->lock);
    bool stop = c->stop;
    pthread_mutex_unlock(&c->lock);
    return stop;
}

static void *consumer_main(void *arg)
{
    struct np_consumer *c = arg;
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
        for (size_t i = 0; i < n; i++) {
            handle(c, &msgs[i]);
            /* Handled (or dropped for good): delete it, so a bad message never sticks. */
            if (np_aws_sqs_delete(c->sqs, c->queue_url, msgs[i].receipt_handle) != 0)
                np_log_warn("cannot delete an event message", "account", c->account, "messageId",
                            msgs[i].message_id, "error", np_error_message());
        }
        np_aws_sqs_messages_free(msgs, n);
    }
    return NULL;
}

int np_consumer_new(struct np_consumer **out, struct np_controller *ctl, const char *account,
                    const char *queue_url, const struct np_aws_sqs_config *cfg)
{
    *out = NULL;
    struct np_consumer *c = np_xcalloc(1, sizeof(*c));
    c->ctl = ctl;
    c->account = np_strdup(account);
    c->queue_url = np_strdup(queue_url);
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    int rc = np_aws_sqs_new(&c->sqs, cfg);
    if (rc == 0 && pthread_create(&c->thread, NULL, consumer_main, c) != 0)
        rc = np_error_set(NP_EIO, "cannot start the event consumer thread");
    if (rc) {
        np_consumer_destroy(c);
        return rc;
    }
    c->started = true;
    *out = c;
    return 0;
}

void np_consumer_signal_stop(struct np_consumer *c)
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

void np_consumer_join(struct np_consumer *c)
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

void np_consumer_destroy(struct np_consumer *c)
{
    if (!c)
        return;
    np_consumer_signal_stop(c);
    np_consumer_join(c);
    np_aws_sqs_destroy(c->sqs);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c->identity);
    free(c->account);
    free(c->queue_url);
    free(c);
}

void np_consumer_set_identity(struct np_consumer *c, const char *arn)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    free(c->identity);
    c->identity = arn ? np_strdup(arn) : NULL;
    pthread_mutex_unlock(&c->lock);
}

int np_consumer_check(struct np_consumer *c)
{
    return np_aws_sqs_check(c->sqs, c->queue_url);
}
