/*
 * A fixture that drives real reconcile passes of SecurityGroupPostures without servers: a
 * struct np_controller assembled by hand (informers created but never started, objects put
 * straight into their stores), a fake Kubernetes API server (tests/unit/kube/fake_apiserver)
 * holding the postures in memory and answering the pass's GET, status and metadata PATCHes
 * and Event writes, the in-memory EC2 of fake_ec2.h behind the AWS transport hook, and the
 * fake clock as ctl->clock. Tests assert on what a pass writes: the status, Events, the EC2
 * state and calls, and struct np_controller_result.
 */
#ifndef NP_TEST_CONTROLLER_FIXTURE_H
#define NP_TEST_CONTROLLER_FIXTURE_H

#include "controller/private/controller_private.h"

#include "../kube/fake_apiserver.h"
#include "../kube/helpers.h"
#include "fake_ec2.h"

#include <json-c/json.h>
#include <pthread.h>

#define FX_NS "shop"
#define FX_REGION "eu-west-1"
/* 2026-12-01T00:00:00Z */
#define FX_START_MS 1796083200000LL

struct fx_event {
    char *name;
    char *type;
    char *reason;
    char *note;
};

struct fx {
    struct fake_server *server;
    struct fake_clock clock;
    struct fake_ec2 *ec2;
    struct np_controller *ctl;
    pthread_mutex_t lock;    /* guards what the API server's threads touch below */
    json_object *objs;       /* "ns/name" -> the server's posture object */
    int64_t rv;              /* the server's last resourceVersion */
    struct fx_event *events; /* every Event written (a series bump counts again) */
    size_t n_events;
    int status_patches; /* PATCHes of the status subresource */
    int64_t account_generation;
};

/*
 * Starts everything with the CloudAccount "default" (region FX_REGION, Environment
 * credentials, an endpoint the hook answers); account_extra is more of its spec as JSON
 * members (",\"adoption\":{...}") or NULL. Waits for the region poller's first poll.
 */
void fx_start(struct fx *fx, const char *account_extra);
/* fx_start in two steps, for tests that seed EC2 before the first poll or whose account
 * refuses the namespace: fx_begin starts everything but the account; fx_account puts the
 * account and, with warm, builds its region and waits for the first poll. */
void fx_begin(struct fx *fx);
void fx_account(struct fx *fx, const char *account_extra, bool warm);
void fx_stop(struct fx *fx);

/* Puts a PostureGuardrail (cluster-scoped) with this spec (JSON) into the informer store. */
void fx_put_guardrail(struct fx *fx, const char *name, const char *spec);
/* Creates the posture FX_NS/name (uid "uid-<name>", generation 1) from its spec (JSON). */
void fx_put_posture(struct fx *fx, const char *name, const char *spec);
/* Replaces its spec (generation + 1). */
void fx_set_spec(struct fx *fx, const char *name, const char *spec);
/* Sets an annotation (value NULL: removes it). */
void fx_set_annotation(struct fx *fx, const char *name, const char *key, const char *value);
/* Adds our finalizer's name to its metadata.finalizers as field manager `manager` would (the
 * managedFields say who added it). */
void fx_add_finalizer(struct fx *fx, const char *name, const char *manager);
/* Deletes it as the API server does: deletionTimestamp while finalizers remain, else gone. */
void fx_delete(struct fx *fx, const char *name);

/*
 * The one call into the controller: one reconcile pass of FX_NS/name (res zeroed first). The
 * object the server holds afterwards goes into the informer store, as the watch would bring.
 * Returns the reconcile's return value.
 */
int fx_reconcile(struct fx *fx, const char *name, struct np_controller_result *res);

/* Tells the controller that the group changed in AWS (as a poll or a CloudTrail event would):
 * the next pass reads it from EC2 instead of the snapshot. */
void fx_notice(struct fx *fx, const char *group_id);
/* Moves the clock. */
void fx_advance(struct fx *fx, int64_t ms);

/* The server's copy of the posture (owned), or NULL when it is gone. */
json_object *fx_get(struct fx *fx, const char *name);
/* The status of condition type of obj ("True", ...) and its reason in *reason; NULL if none. */
const char *fx_cond(json_object *obj, const char *type, const char **reason);
/* The status.drift.items entry of obj with this scope ("ingress", "egress", "tags") and
 * change ("Missing", ...), borrowed, or NULL. */
json_object *fx_drift_item(json_object *obj, const char *scope, const char *change);
/* status.groupId of obj (borrowed), or NULL. */
const char *fx_group_id(json_object *obj);
bool fx_has_finalizer(json_object *obj);

/* How many Events with this reason were written (type checked when not NULL). */
int fx_events(struct fx *fx, const char *reason, const char *type);
/* Every Event so far as "type reason: note" lines (owned), for messages. */
char *fx_event_log(struct fx *fx);

#endif
