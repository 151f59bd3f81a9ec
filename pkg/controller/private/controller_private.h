/*
 * Internals shared by the controller's files: the controller struct, accounts and their
 * per-region AWS clients and snapshot pollers, per-posture memory, and status helpers.
 */
#ifndef NP_CONTROLLER_PRIVATE_H
#define NP_CONTROLLER_PRIVATE_H

#include "aws/aws.h"
#include "controller/controller.h"
#include "core/core.h"
#include "http/http.h"
#include "kube/kube.h"
#include "observe/observe.h"
#include "posture/posture.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* The ownership tags are pkg/posture's (NP_POSTURE_TAG_OWNER, NP_POSTURE_TAG_UID) and
 * pkg/observe's piece tag (NP_OBSERVE_TAG_PIECE); pkg/observe maps AWS tags to posture tags. */
static inline void np_controller_tags_to_aws(struct np_aws_tag *out,
                                             const struct np_posture_tag *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (struct np_aws_tag){in[i].key, in[i].value};
}

extern const struct np_kube_resource np_controller_res_sgp;
extern const struct np_kube_resource np_controller_res_vpcp;
extern const struct np_kube_resource np_controller_res_accounts;
extern const struct np_kube_resource np_controller_res_guardrails;

/*
 * Every reason a posture's conditions can carry (README "Conditions and reasons"); names in
 * conditions.c's table. Ready=True is only Converged.
 */
enum np_controller_reason {
    NP_CONTROLLER_REASON_NONE = 0, /* "Unknown": nothing decided */
    /* Ready, from the policy's decision */
    NP_CONTROLLER_REASON_CONVERGED,
    NP_CONTROLLER_REASON_PROGRESSING,
    NP_CONTROLLER_REASON_BLAST_RADIUS_EXCEEDED,
    NP_CONTROLLER_REASON_PLAN_PROPOSED,
    NP_CONTROLLER_REASON_DRIFT_DETECTED, /* also Drifted=True */
    NP_CONTROLLER_REASON_CONTESTED,
    NP_CONTROLLER_REASON_GRACE_PERIOD,
    /* Ready=False: the pass stopped before deciding */
    NP_CONTROLLER_REASON_INVALID_SPEC,
    NP_CONTROLLER_REASON_ACCOUNT_NOT_FOUND,
    NP_CONTROLLER_REASON_ACCOUNT_NOT_ALLOWED,
    NP_CONTROLLER_REASON_ACCOUNT_ERROR,
    NP_CONTROLLER_REASON_ACCOUNT_NOT_READY, /* its credentials do not work: nothing changed */
    NP_CONTROLLER_REASON_INSECURE_ENDPOINT,
    NP_CONTROLLER_REASON_INVALID_REGION,
    NP_CONTROLLER_REASON_TOO_MANY_REGIONS,
    NP_CONTROLLER_REASON_NAMESPACE_UNKNOWN,
    NP_CONTROLLER_REASON_GUARDRAIL_VIOLATION, /* also Compliant=False under a Deny guardrail */
    NP_CONTROLLER_REASON_GROUP_NOT_FOUND,
    NP_CONTROLLER_REASON_VPC_NOT_FOUND,
    NP_CONTROLLER_REASON_PIECE_NOT_FOUND,
    NP_CONTROLLER_REASON_VPC_NOT_READY,
    NP_CONTROLLER_REASON_PEER_NOT_READY,
    NP_CONTROLLER_REASON_ADOPTION_REFUSED,
    NP_CONTROLLER_REASON_ADOPTION_NOT_ALLOWED,
    NP_CONTROLLER_REASON_DELETION_BLOCKED,
    NP_CONTROLLER_REASON_AWS_ERROR, /* also Synced=False */
    /* the other conditions */
    NP_CONTROLLER_REASON_SYNCED,
    NP_CONTROLLER_REASON_NO_DRIFT,
    NP_CONTROLLER_REASON_FLAPPING,
    NP_CONTROLLER_REASON_NOT_CONTESTED,
    NP_CONTROLLER_REASON_COMPLIANT,
    NP_CONTROLLER_REASON_GUARDRAIL_WARNING,
    /* CloudAccount's Ready (besides the account reasons above) */
    NP_CONTROLLER_REASON_CREDENTIALS_VERIFIED,
    NP_CONTROLLER_REASON_CREDENTIALS_INVALID,
    NP_CONTROLLER_REASON_CREDENTIALS_NOT_FOUND,
    NP_CONTROLLER_REASON_WEB_IDENTITY_TOKEN_UNREADABLE,
    NP_CONTROLLER_REASON_ASSUME_ROLE_DENIED,
    NP_CONTROLLER_REASON_METADATA_UNAVAILABLE,
    NP_CONTROLLER_REASON_CREDENTIALS_EXPIRED,
    NP_CONTROLLER_REASON_CREDENTIALS_UNAVAILABLE,
    NP_CONTROLLER_REASON_EVENT_QUEUE_UNREACHABLE,
    NP_CONTROLLER_REASON_COUNT
};
/* The reason's name as written to conditions ("Converged"); "Unknown" for NONE. */
const char *np_controller_reason_name(enum np_controller_reason r);

/* What a reconcile asks of the workqueue besides success or failure. */
struct np_controller_result {
    int64_t requeue_after_ms; /* > 0: look again after this long */
    bool terminal;            /* an error that retrying cannot fix (bad spec): no backoff */
};

/* The kinds of object the workers reconcile (the dispatch table in workitem.c). */
enum np_controller_work_kind {
    NP_CONTROLLER_WORK_SGP = 0,   /* SecurityGroupPosture */
    NP_CONTROLLER_WORK_VPCP,      /* VPCPosture */
    NP_CONTROLLER_WORK_ACCOUNT,   /* CloudAccount */
    NP_CONTROLLER_WORK_GUARDRAIL, /* PostureGuardrail */
    NP_CONTROLLER_WORK_KIND_COUNT
};

/*
 * One item of the workqueue: which kind and which object (its informer store key: "ns/name",
 * or "name" for cluster-scoped kinds). The queue holds its text form "<token>:<key>" (it
 * deduplicates strings); np_controller_work_item_parse reads it back through the table of kinds.
 */
struct np_controller_work_item {
    enum np_controller_work_kind kind;
    const char *key; /* borrowed from the text it was parsed from */
};
/* The queue text of an item (owned). */
char *np_controller_work_item_text(enum np_controller_work_kind kind, const char *key);
/* Parses queue text; NP_EINVAL for an unknown kind or an empty key. */
int np_controller_work_item_parse(const char *text, struct np_controller_work_item *out);
/* The Kubernetes kind of a work kind ("SecurityGroupPosture"), for metrics and logs. */
const char *np_controller_work_kind_name(enum np_controller_work_kind kind);
/*
 * The log fields of one reconcile, which every line its worker writes meanwhile carries: a
 * fresh reconcileID (16 hex digits), the kind, the object's namespace (when it has one) and
 * name.
 */
struct np_controller_log_scope {
    char id[17];
    char *ns, *name;
    const char *kv[8];
};
void np_controller_log_scope_begin(struct np_controller_log_scope *s,
                                   const struct np_controller_work_item *w);
void np_controller_log_scope_end(struct np_controller_log_scope *s);
/* Runs the reconcile of the item's kind. */
int np_controller_work_item_reconcile(struct np_controller *ctl,
                                      const struct np_controller_work_item *w,
                                      struct np_controller_result *res);
/*
 * Whether the item's pass would only wait for its region's first poll: true when it was
 * parked in the region instead (the poll's end enqueues it again), so no pass runs now.
 */
bool np_controller_work_item_park(struct np_controller *ctl,
                                  const struct np_controller_work_item *w);
/* One queue entry, as a worker handles it between get and done: parked, or reconciled (and
 * counted in netposture_reconcile_total) with the queue told what comes next. */
void np_controller_work_on(struct np_controller *ctl, const char *text);

struct np_controller_account;
struct np_controller_region;

/* ---------------------------------------------------------------- hints.c */

/* What a CloudTrail event said about an object, for the next reconcile of its owner (owned). */
struct np_controller_hint {
    char *actor;          /* NULL when unknown */
    bool actor_verified;  /* CloudTrail LookupEvents confirmed the actor */
    char *event_name;     /* the API call, e.g. AuthorizeSecurityGroupIngress; NULL when unknown */
    int64_t event_ms;     /* the event's time */
    struct np_aws_sg *sg; /* a security group as read for the hint, or NULL */
};
void np_controller_hint_clean_up(struct np_controller_hint *h);

/* Hints expire after this long; a store keeps at most this many (the oldest go first). */
#define NP_CONTROLLER_HINT_TTL_MS (10LL * 60 * 1000)
#define NP_CONTROLLER_HINTS_MAX 4096

/* Hints by key (a group id, a posture key). Zero-initialise; the caller locks. */
struct np_controller_hint_entry;
struct np_controller_hint_store {
    struct np_controller_hint_entry *head; /* newest first */
    size_t n;
};
/* Records the hint for key (strings and sg copied; now_ms monotonic), replacing the key's
 * older one; expired hints and, past NP_CONTROLLER_HINTS_MAX, the oldest are dropped. */
void np_controller_hint_store_put(struct np_controller_hint_store *s, const char *key,
                                  const char *actor, bool actor_verified, const char *event_name,
                                  int64_t event_ms, const struct np_aws_sg *sg, int64_t now_ms);
/* Takes the hint of key: true with *out (owned: np_controller_hint_clean_up) when one has not
 * expired. */
bool np_controller_hint_store_take(struct np_controller_hint_store *s, const char *key,
                                   int64_t now_ms, struct np_controller_hint *out);
void np_controller_hint_store_clean_up(struct np_controller_hint_store *s);

/* A reconcile worker's thread argument and heartbeat. */
struct np_controller_worker {
    struct np_controller *ctl;
    atomic_llong busy_since; /* mono ms when it took its current item; 0: idle */
};

/* A worker on one item for longer than this makes /healthz fail: the process is wedged. */
#define NP_CONTROLLER_WEDGED_MS (10LL * 60 * 1000)

/* reads.c: when each posture's AWS objects were last read by a pass (wall ms), for the
 * time-to-detect bound of kinds no poller watches; guarded by lock. */
struct np_controller_read;
struct np_controller_reads {
    pthread_mutex_t lock;
    struct np_controller_read **buckets;
};
void np_controller_reads_init(struct np_controller_reads *r);
void np_controller_reads_clean_up(struct np_controller_reads *r);
/* Records a read of the posture (kind, key "<ns>/<name>") at at_ms; returns the read before
 * it (0: none). */
int64_t np_controller_reads_swap(struct np_controller_reads *r, const char *kind, const char *key,
                                 int64_t at_ms);
/* Drops what is known of a posture (it is gone). */
void np_controller_reads_forget(struct np_controller_reads *r, const char *kind, const char *key);

struct np_controller {
    struct np_controller_options opts;
    const struct np_clock *clock;
    struct np_kube_client *kube;
    struct np_kube_recorder *recorder;
    struct np_kube_workqueue *queue;
    struct np_kube_informer *sgp_inf;
    struct np_kube_informer *vpcp_inf;
    struct np_kube_informer *acct_inf;
    struct np_kube_informer *ns_inf;
    struct np_kube_informer *guardrail_inf;
    struct np_metrics *metrics;
    struct np_http_server *metrics_srv;
    struct np_http_server *health_srv;
    pthread_t *workers;
    int nworkers;
    /* Per worker: mono ms since it holds its current item, 0 when idle (/healthz). */
    struct np_controller_worker *worker_state;
    pthread_mutex_t lock;
    pthread_cond_t stop_cond;
    atomic_bool stopping;

    /* leader.c: the elector (NULL without --leader-elect) and its own client (unfenced). */
    struct np_kube_leader *leader;
    struct np_kube_client *lease_kube;
    char *identity;        /* holderIdentity: <hostname>_<random> */
    atomic_bool lost;      /* the lease was lost: stop, exit non-zero */
    char *lease_name;      /* --leader-election-id, with -<I>-of-<N> when sharded */
    char *lease_namespace; /* --leader-election-namespace, else own_namespace */
    char *own_namespace; /* --controller-namespace, else the pod's (np_controller_own_namespace) */

    /* shard.c: postures of this shard in the caches (netposture_shard_postures). */
    atomic_int shard_postures;

    /* accounts.c: CloudAccount name -> clients and pollers; guarded by accounts_lock, which
     * is never held across network I/O or a thread join. Replaced (retired) accounts live on
     * only through their holders' references. */
    pthread_mutex_t accounts_lock;
    struct np_controller_account *accounts;
    atomic_int accounts_live; /* accounts built and not yet freed, retired ones included */
    atomic_int regions_live;  /* region clients (and pollers) not yet freed */
    /* poller.c: regions whose first poll has not ended (nor failed, nor been stopped): while
     * none, a worker parks nothing and reads no object to decide it. */
    atomic_int first_polls;

    /* events.c: CloudTrail hints for VPC postures; guarded by hints_lock. */
    pthread_mutex_t hints_lock;
    struct np_controller_hint_store vpc_hints;

    struct np_controller_reads reads;

    /* TEST ONLY (NULL in production): called with every EC2 client a region builds, before its
     * first call; unit tests install the AWS transport hooks there so a reconcile talks to an
     * in-memory EC2 (tests/unit/controller/fake_ec2.h). */
    void (*ec2_test_seam)(void *ctx, struct np_aws_ec2 *ec2);
    void *ec2_test_seam_ctx;
};

/* controller.c */
#define SA_NAMESPACE_FILE "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
#define NP_CONTROLLER_DEFAULT_NAMESPACE "netposture-system"
/* The controller's namespace: credential Secrets must live there; the Lease's by default. */
const char *np_controller_own_namespace(const struct np_controller *ctl);
/* The controller's clock (ctl->clock, injected by tests): wall and monotonic milliseconds. */
int64_t np_controller_now_ms(const struct np_controller *ctl);
int64_t np_controller_mono_ms(const struct np_controller *ctl);
/* Enqueues (now) an item of this shard; false when it is another shard's posture. */
bool np_controller_enqueue(struct np_controller *ctl, enum np_controller_work_kind kind,
                           const char *key);
/* Enqueues after delay_ms (batching: the queue keeps one entry per item). */
void np_controller_enqueue_after(struct np_controller *ctl, enum np_controller_work_kind kind,
                                 const char *key, int64_t delay_ms);
void np_controller_requeue_postures(struct np_controller *ctl, const char *account, const char *ns);

/* ---------------------------------------------------------------- shard.c */

/* The shard of a posture: FNV-1a-64 of its metadata.uid mod count (0 with count <= 1). */
int np_controller_shard_of(const char *uid, int count);
bool np_controller_sharded(const struct np_controller *ctl);
/* Whether this process's shard owns the posture (always, unsharded). */
bool np_controller_shard_owns(const struct np_controller *ctl, json_object *posture);
/* Whether this process writes CloudAccount and PostureGuardrail status (shard 0). */
bool np_controller_shard_writes_shared(const struct np_controller *ctl);
/*
 * Cuts a posture object down to the stub a shard keeps of another shard's postures: metadata
 * (name, namespace, uid, generation, resourceVersion, creation and deletion timestamps),
 * spec.accountRef, spec.vpcRef, spec.region, and of the status only the ids other postures and
 * the event consumer read (groupId, vpcId, region, defaultSecurityGroupId, flowLogIds, and the
 * ids of subnets, routeTables and networkAcls).
 */
void np_controller_shard_stub(json_object *posture);
/*
 * The posture informers' transform (struct np_kube_informer_options.transform, ctx the
 * controller): another shard's posture is stored as its stub, except on shard 0, which writes
 * every guardrail's status (their violations read every posture's spec and drift).
 */
void np_controller_shard_transform(void *ctx, json_object *posture);
/* Whether this shard works on a work item (obj: the object, or NULL when unknown). Postures:
 * their shard's; guardrails: shard 0's; accounts: every shard's. */
bool np_controller_shard_wants_obj(const struct np_controller *ctl,
                                   enum np_controller_work_kind kind, json_object *obj);
/* The same, reading a posture from the cache (must not be called under a store walk). */
bool np_controller_shard_wants(const struct np_controller *ctl, enum np_controller_work_kind kind,
                               const char *key);
/* This shard's event queue: url with {shard} replaced by the shard index (owned); NULL when
 * the controller is sharded and url has no {shard} (one queue cannot serve several shards). */
char *np_controller_shard_queue_url(const struct np_controller *ctl, const char *url);
/* The Lease name for --leader-election-id id: id, or id-<I>-of-<N> when sharded (owned). */
char *np_controller_shard_lease_name(const struct np_controller *ctl, const char *id);
/* Counts a posture that entered (+1) or left (-1) the cache when it is this shard's. */
void np_controller_shard_count_posture(struct np_controller *ctl, json_object *posture, int delta);
void np_controller_shard_describe(struct np_controller *ctl);

/* ---------------------------------------------------------------- accounts.c */

/*
 * Regions one CloudAccount serves besides its own spec.aws.region: each is an EC2 client and
 * a poller thread, and postures choose them, so they are bounded; a posture asking for one
 * more gets Ready=False TooManyRegions. Regions no posture used for a while are freed.
 */
#define NP_CONTROLLER_ACCOUNT_MAX_REGIONS 32

struct np_controller_region_entry;

/* Why a posture cannot use an account (a condition reason), or NULL when it can. */
struct np_controller_account_hold {
    struct np_controller_region
        *region;             /* held (with its account) until np_controller_account_hold_clean_up */
    const char *region_name; /* borrowed, as long as region */
    enum np_controller_reason reason; /* NONE when usable; else AccountNotFound, AccountNotAllowed,
                              AccountError, InsecureEndpoint, InvalidRegion, TooManyRegions */
    char *message;                    /* owned; clean up with np_controller_account_hold_clean_up */
    struct np_controller *ctl;
    struct np_controller_region_entry
        *held; /* the reference np_controller_account_hold_clean_up releases */
};

/* ---------------------------------------------------------------- credentials.c */

/* A CloudAccount's endpoint overrides (owned; NULL: resolved from AWS_ENDPOINT_URL_<SVC>,
 * AWS_ENDPOINT_URL, then the regional endpoint). spec.aws.endpoint is EC2's. */
struct np_controller_endpoints {
    char *ec2, *sts, *sqs, *cloudtrail;
};
void np_controller_endpoints_read(struct np_controller_endpoints *e, json_object *acct);
void np_controller_endpoints_clean_up(struct np_controller_endpoints *e);

/* The keys of the Secret spec.aws.credentials.secretRef names (network I/O). */
int np_controller_credentials_read_secret(struct np_controller *ctl, json_object *acct,
                                          struct np_aws_credentials *creds);
/*
 * The credential provider an account's spec asks for (source, WebIdentity role and token file,
 * assumeRoleArn with externalId, sessionName and durationSeconds), its STS calls going to
 * eps->sts. Secret keys are read (network I/O) unless fresh holds them already; the keys used
 * are copied to *secret_keys (Secret source only, for rotation checks). No AWS call is made.
 */
int np_controller_credentials_build(struct np_controller *ctl, json_object *acct,
                                    const struct np_controller_endpoints *eps,
                                    struct np_aws_credentials *fresh, struct np_aws_provider **out,
                                    struct np_aws_credentials *secret_keys);
/* The CloudAccount Ready reason of a credential failure. */
enum np_controller_reason np_controller_credentials_reason(enum np_aws_cred_failure f);
/* "WebIdentity", "Environment+AssumeRole", ...: status.credentialSource. */
void np_controller_credentials_source(char *out, size_t size, struct np_aws_provider *p);

/* /healthz: false (msg says why) when a worker is stuck on one item past NP_CONTROLLER_WEDGED_MS
 * or the leader lease was lost. */
bool np_controller_healthz(void *ctx, struct np_buf *msg);

/* ---------------------------------------------------------------- leader.c */

/* With opts.leader_elect: the elector on its own client of cfg (no I/O yet). */
int np_controller_leader_init(struct np_controller *ctl, const struct np_kube_config *cfg);
/* The fence (a write_gate / mutation_gate): true without leader election, else while the lease
 * is valid. */
bool np_controller_may_write(void *ctx);
/* Starts the elector and waits until this process leads (0) or is stopping (NP_ECANCELED). */
int np_controller_leader_acquire(struct np_controller *ctl);
/* Stops the elector after the workers: releases the lease unless it was lost. */
void np_controller_leader_stop(struct np_controller *ctl);
void np_controller_leader_destroy(struct np_controller *ctl);

void np_controller_accounts_init(struct np_controller *ctl);
void np_controller_accounts_clean_up(struct np_controller *ctl);
void np_controller_accounts_invalidate(struct np_controller *ctl, const char *name);
/*
 * Resolves the account `name` for a posture in namespace ns and the region (NULL: the
 * account's region): checks allowedNamespaces and the region name, builds credentials and
 * the EC2 client (refusing plain-HTTP endpoints to non-loopback hosts unless the account
 * allows them), and starts the region's snapshot poller. Returns 0 with use->region held
 * (acquired: np_controller_account_hold_clean_up releases it), or 0 with use->reason/message set
 * when the posture may not use it (a condition, not an error). Never holds accounts_lock across the
 * Secret read or a thread join.
 */
/*
 * Parks a work item in the region (NULL: the account's default) of a cached account while its
 * first poll runs (np_controller_region_park); false when the account or region is not built
 * yet or no first poll runs. Builds nothing.
 */
bool np_controller_account_park(struct np_controller *ctl, const char *account, const char *region,
                                enum np_controller_work_kind kind, const char *key,
                                const char *group_id);
int np_controller_account_use(struct np_controller *ctl, const char *name, const char *ns,
                              const char *region, struct np_controller_account_hold *use);
void np_controller_account_hold_clean_up(struct np_controller_account_hold *use);
int np_controller_reconcile_account(struct np_controller *ctl, const char *key,
                                    struct np_controller_result *res);

/* np_controller_region_note_event on the region client of an account if it exists already (NULL
 * region: the account's own); never creates one. Returns the owning posture's key (owned) or NULL.
 */
char *np_controller_account_note_event(struct np_controller *ctl, const char *account,
                                       const char *region, const char *group_id, const char *actor,
                                       bool actor_verified, const char *event_name,
                                       int64_t event_ms, const struct np_aws_sg *sg);
/* Whether the account (by CloudAccount name) already has a client for region. */
bool np_controller_account_serves_region(struct np_controller *ctl, const char *account,
                                         const char *region);

/* ---------------------------------------------------------------- events.c */

struct np_controller_consumer;
/* Starts the SQS event consumer of an account (a thread long-polling queue_url). */
int np_controller_consumer_new(struct np_controller_consumer **out, struct np_controller *ctl,
                               const char *account, const char *queue_url,
                               const struct np_aws_sqs_config *cfg,
                               const struct np_controller_endpoints *eps);
/* Asks the consumer to stop and cancels a long poll in flight; does not wait. NULL: no-op. */
void np_controller_consumer_signal_stop(struct np_controller_consumer *c);
/* Waits for a stopped consumer's thread. NULL: no-op; idempotent. */
void np_controller_consumer_join(struct np_controller_consumer *c);
/* Stops, joins and frees. NULL: no-op. */
void np_controller_consumer_destroy(struct np_controller_consumer *c);
/* The controller's own ARN in the account: its events are ignored. */
void np_controller_consumer_set_identity(struct np_controller_consumer *c, const char *arn);
/* Checks that the queue is reachable (GetQueueAttributes). */
int np_controller_consumer_check(struct np_controller_consumer *c);
/* Records who changed a VPC posture's pieces (an event's actor, call and time), for its next
 * reconcile; hints expire after NP_CONTROLLER_HINT_TTL_MS. */
void np_controller_note_vpc_event(struct np_controller *ctl, const char *key, const char *actor,
                                  bool actor_verified, const char *event_name, int64_t event_ms);
/* Takes the hint of a VPC posture: true with *actor, *event_name (owned, may be NULL) set. */
bool np_controller_take_vpc_event(struct np_controller *ctl, const char *key, char **actor,
                                  bool *actor_verified, char **event_name, int64_t *event_ms);
/* Resource ids of one event message that are acted on; the rest are ignored and counted. */
#define NP_CONTROLLER_EVENTS_MAX_IDS 16
/* A message received more often than this without being deleted is deleted unhandled. */
#define NP_CONTROLLER_EVENTS_MAX_RECEIVES 5
/* Whether a posture object uses the CloudAccount (spec.accountRef.name, default "default"). */
bool np_controller_events_posture_uses_account(json_object *obj, const char *account);
void np_controller_vpc_events_clean_up(struct np_controller *ctl);

/* ---------------------------------------------------------------- poller.c */

/* The EC2 client of a region (borrowed). */
struct np_aws_ec2 *np_controller_region_ec2(struct np_controller_region *r);
/*
 * The snapshot's copy of a group (owned, np_aws_sg_free) if the poller has seen it.
 * Returns NP_ENOTFOUND when not in the snapshot, NP_EAGAIN before the first poll.
 */
int np_controller_region_snapshot_get(struct np_controller_region *r, const char *group_id,
                                      struct np_aws_sg **out);
/*
 * Whether the first poll is still under way (not done, not failed): reconciles of postures
 * whose group it will bring wait for it instead of each calling Describe (the poll enqueues
 * every owner it finds).
 */
bool np_controller_region_first_poll_running(struct np_controller_region *r);
/*
 * Parks a work item while the region's first poll runs: true when parked (the poll's end, or
 * failure, or the poller's stop, enqueues it again, unless that poll enqueued it already as the
 * owner of group_id, the group its pass waits for, or NULL), false when no first poll runs (the
 * caller goes on). Atomic with the poll's end: an item is never parked after its release.
 */
bool np_controller_region_park(struct np_controller_region *r, enum np_controller_work_kind kind,
                               const char *key, const char *group_id);
/* Finds a group by its netposture.dev/uid tag in the snapshot. Same codes. */
int np_controller_region_snapshot_find_uid(struct np_controller_region *r, const char *uid,
                                           struct np_aws_sg **out);
/* Records a group just read after a mutation (copied) so the poller sees no change. */
void np_controller_region_snapshot_put(struct np_controller_region *r, const struct np_aws_sg *sg);
void np_controller_region_snapshot_remove(struct np_controller_region *r, const char *group_id);
/*
 * When the snapshot's copy of a group was read (a poll's start, or a reconcile's read; wall ms)
 * into *seen_ms, and when its content before that was last read into *before_ms (0: never).
 * False when the snapshot does not hold the group.
 */
bool np_controller_region_snapshot_reads(struct np_controller_region *r, const char *group_id,
                                         int64_t *seen_ms, int64_t *before_ms);
/*
 * Records a CloudTrail event's hint that a group changed (actor may be NULL, actor_verified
 * when CloudTrail confirmed it; event_ms is the event's time; sg, when given, the group as just
 * read for the hint, copied): the next reconcile of its posture uses that copy (else reads the
 * group from AWS) instead of the snapshot and attributes new drift to the actor. Returns the
 * owning posture's key ("ns/name", owned) from the snapshot's ownership tag, or NULL when the
 * snapshot does not know the group. Hints expire after NP_CONTROLLER_HINT_TTL_MS.
 */
char *np_controller_region_note_event(struct np_controller_region *r, const char *group_id,
                                      const char *actor, bool actor_verified,
                                      const char *event_name, int64_t event_ms,
                                      const struct np_aws_sg *sg);
/* Takes the hint for a group: true with *actor, *event_name and *sg (owned, may be NULL),
 * *actor_verified and *event_ms set. */
bool np_controller_region_take_event(struct np_controller_region *r, const char *group_id,
                                     char **actor, bool *actor_verified, char **event_name,
                                     int64_t *event_ms, struct np_aws_sg **sg);
/* The account's resync interval for this region (the safety-net full read). */
int64_t np_controller_region_resync_ms(struct np_controller_region *r);
/* The default VPC of the region, cached (owned copy). */
int np_controller_region_default_vpc(struct np_controller_region *r, char **vpc_id);
/* A region and its poller thread, which waits for np_controller_region_start (or a stop) before
 * its first poll. */
int np_controller_region_new(struct np_controller_region **out, struct np_controller *ctl,
                             const char *account, const char *region, struct np_aws_ec2 *ec2,
                             int64_t resync_ms);
/* Lets the poller start polling: once the region is installed where workers find it. */
void np_controller_region_start(struct np_controller_region *r);
/* Stops the poller thread (joins it); the snapshot stays readable. Idempotent. */
void np_controller_region_stop(struct np_controller_region *r);
/* Asks the poller thread to stop without waiting for it (safe under a lock). */
void np_controller_region_signal_stop(struct np_controller_region *r);
/* Whether the snapshot holds no group (also before the first poll). */
bool np_controller_region_snapshot_is_empty(struct np_controller_region *r);
void np_controller_region_destroy(struct np_controller_region *r);
const char *np_controller_region_name(struct np_controller_region *r);
void np_controller_pollers_stop(struct np_controller *ctl);

/* ---------------------------------------------------------------- metrics.c */

/* Declares every family the controller exports (process_* included). */
void np_controller_metrics_describe(struct np_metrics *m);
/* Sets netposture_build_info and adds the scrape-time collector (queue, managed objects). */
void np_controller_metrics_start(struct np_controller *ctl, const char *version,
                                 const char *revision);
/* Every AWS attempt: requests (by code), duration, client-side wait, AWS throttling, retries. */
void np_controller_aws_observer(void *ctx, const struct np_aws_request_info *info);
/* The workqueue's observer: adds, queue and work durations, retries. */
struct np_kube_workqueue_observer np_controller_queue_observer(struct np_controller *ctl);
/* Every Kubernetes API request: count by verb and code, latency by verb. */
void np_controller_kube_observer(void *ctx, const char *method, long status, int64_t duration_ms);
/* A finished reconcile (result: success, error, requeue). */
void np_controller_metrics_reconcile(struct np_controller *ctl, enum np_controller_work_kind kind,
                                     const char *result, double secs);
/* A CloudTrail event received: its delay from eventTime (wall ms; <= 0: unknown, ignored). */
void np_controller_metrics_event_delay(struct np_controller *ctl, int64_t event_ms);
/* How a drift item was detected: by a read of AWS (a poll, or a pass's own), which bounds the
 * change from the read before; or by a CloudTrail event, whose eventTime is the change's. */
enum np_controller_detection { NP_CONTROLLER_DETECTED_BY_POLL, NP_CONTROLLER_DETECTED_BY_EVENT };
/* "poll", "event" (the `source` label). */
const char *np_controller_detection_name(enum np_controller_detection d);
/* A new drift item of a posture of kind: its time-to-detect (seconds; < 0: unknown, not
 * observed). */
void np_controller_metrics_drift_detected(struct np_controller *ctl, const char *kind,
                                          enum np_controller_detection source, double secs);
/* A drift item's repair verified: its time-to-remediate from detection (seconds). */
void np_controller_metrics_drift_remediated(struct np_controller *ctl, const char *kind,
                                            enum np_controller_detection source, double secs);
/* A posture's Ready and unresolved drift items (kind: its Kubernetes kind). */
void np_controller_metrics_posture(struct np_controller *ctl, const char *kind, const char *ns,
                                   const char *name, bool ready, int64_t drift_items);
/* The posture with this store key is gone: its series are removed. */
void np_controller_metrics_posture_gone(struct np_controller *ctl, const char *kind,
                                        const char *key);

/* ---------------------------------------------------------------- pass.c */

/* Parsed guardrails (owned). */
struct np_controller_guardrail_set {
    struct np_posture_guardrail **items;
    size_t n;
};

/*
 * One reconcile pass of a posture of any kind (SecurityGroupPosture, VPCPosture): what it
 * learns and decides, turned into status, Events and metrics at the end. A kind's context
 * embeds it as its FIRST member, so hooks get the pass and cast it back.
 */
struct np_controller_pass_kind;

/* What the blast radius (maxChangesPerSync) held in a pass, for messages and Events. */
struct np_controller_blast {
    enum np_posture_blast cap; /* which cap held (NONE: nothing held) */
    size_t held;               /* changes held for approval */
    size_t held_subtractive;   /* of which can reduce reachability */
    size_t applied;            /* changes that went through in the same pass */
    size_t limit;              /* maxChangesPerSync(.subtractive) */
    size_t limit_total;        /* maxChangesPerSync.total (0: none) */
};
/* Why the blast radius held changes, without the approval hint (owned), e.g. "held 25
 * change(s) that can reduce reachability, over maxChangesPerSync 20; 3 that cannot were
 * applied". */
char *np_controller_blast_text(const struct np_controller_blast *b);

/* What the policy decided in a pass (np_controller_pass_decide), for the conditions. */
struct np_controller_pass_decision {
    enum np_posture_standing standing; /* what is left once the due items are applied */
    bool verified;                     /* every applied change was read back from AWS */
    bool empty;                        /* there was no drift at all */
    bool converging; /* the differences are a new spec's (generation never converged), not drift */
    size_t n_left;   /* items that still differ (not applied) */
    size_t n_applied, n_excepted, n_contested, n_reported, n_pending;
    size_t changes;                   /* changes applied or proposed */
    struct np_controller_blast blast; /* what the blast radius held, and why */
    int64_t next_ms;      /* the next item due (grace end or exception expiry), 0: none */
    char *plan_id;        /* the plan waiting for approval (owned), or NULL */
    char *contested_text; /* the first contested item, for the Contested message (owned) */
    char *subject;        /* "security group sg-0123" (owned) */
};

/* What a pass found and decided: np_controller_pass_conditions derives every condition from it. */
struct np_controller_pass_outcome {
    enum np_controller_reason
        stopped;       /* the pass stopped before deciding: Ready=False, this reason */
    char *stopped_msg; /* (owned) */
    bool synced;       /* AWS was read in this pass (Synced=True unless aws_error) */
    char *aws_error;   /* an AWS call failed: Synced=False AWSError (owned) */
    bool decided;      /* the policy decided every drift item (Drifted, Contested) */
    struct np_controller_pass_decision decision;
    char *progress_msg; /* the kind has more to do next pass (Progressing) (owned) */
    enum np_controller_reason
        compliance;       /* Compliant's reason when guardrails were checked, else NONE */
    char *compliance_msg; /* (owned) */
};

struct np_controller_pass {
    struct np_controller *ctl;
    const struct np_controller_pass_kind *kind;
    const char *key;
    char *ns;
    char *name;
    json_object *obj; /* owned copy from the store */
    json_object *old_status;
    const char *uid;
    int64_t generation;
    int64_t now;
    struct np_kube_object_ref ref;
    struct np_controller_account_hold use;
    struct np_controller_pass_outcome out; /* the conditions derive from it (conditions.c) */
    /* Drift and actions. */
    json_object *drift_items; /* array (owned) */
    int drift_count;          /* items that differ now */
    bool diffed;              /* the drift was computed in this pass (else keep the old list) */
    bool remediated;          /* a plan was applied (drift repaired or the spec converged) */
    json_object *plan;        /* status.plan (owned) or NULL */
    struct np_controller_guardrail_set guardrails; /* the governing guardrails (owned) */
    bool deleting;                                 /* metadata.deletionTimestamp is set */
    bool retry_requested; /* the netposture.dev/retry-contested annotation is set */
    bool reset_contested; /* spec changed or retry-contested annotation: forget flapping */
    bool spec_changed;    /* this generation was never converged: differences are the spec */
    bool deferred; /* parked until the region's first poll ends: no status write, no requeue */
    bool finalizer_claimed;    /* our finalizer was added or claimed in this pass */
    bool consume_approval;     /* an approved plan was applied: drop the annotation */
    char *event_actor;         /* from a CloudTrail event hint, or NULL */
    bool event_actor_verified; /* CloudTrail LookupEvents confirmed the actor */
    char *event_name;          /* the hint's API call, or NULL */
    int64_t event_ms;          /* the hint's event time, 0 without one */
    /* The instants that bound when a new drift item appeared (wall ms): the read of AWS this
     * pass diffs (a poll's, or the pass's own) and the read of the same objects before it. */
    int64_t read_ms;        /* 0 until the kind or np_controller_pass_decide knows it */
    int64_t read_before_ms; /* 0: unknown (the first read since the controller started) */
};

/* What differs between the posture kinds; every hook gets the pass of that kind. */
struct np_controller_pass_kind {
    const char *kind;                   /* "SecurityGroupPosture" */
    const struct np_kube_resource *res; /* its API resource */
    const char *scope_key;              /* status drift item member of the scope: "direction" */
    const char *text_key;               /* ... and of the item text: "rule" */
    const char *id_key;                 /* the status id of the main AWS object: "groupId" */
    const char *const *status_keys;     /* status ids kept when a pass did not look (NULL-ended) */
    size_t ctx_size; /* sizeof the kind's context (embeds struct np_controller_pass) */
    struct np_kube_informer *(*informer)(struct np_controller *ctl);
    /* Parses the spec (NP_EINVAL with a message naming the field when invalid). */
    int (*parse)(struct np_controller_pass *p, json_object *spec);
    const char *(*account)(struct np_controller_pass *p); /* the spec's account (NULL: "default") */
    const char *(*region)(
        struct np_controller_pass *p); /* the spec's region (NULL: the account's) */
    int (*converge)(struct np_controller_pass *p, struct np_controller_result *res);
    int (*deletion)(struct np_controller_pass *p, struct np_controller_result *res);
    /* Puts the status ids of what was observed in this pass into st; false when it has none
     * (the old ones are kept). */
    bool (*put_ids)(struct np_controller_pass *p, json_object *st);
    void (*clean_up)(struct np_controller_pass *p); /* frees the kind's members (not the pass's) */
};

/* How a kind plans and applies the items the policy selected. */
struct np_controller_pass_plan_ops {
    const char *subject;  /* "security group sg-0123", "VPC vpc-0abc", for messages */
    uint64_t observed_fp; /* fingerprint of the observed state, part of the plan id */
    /* The fingerprint of the state read back by ops->residual (residual is its delta), for the
     * id of a plan proposed after this pass applied other items: the next pass computes
     * observed_fp from that same state, so the id stays the same. */
    uint64_t (*residual_fp)(struct np_controller_pass *p, const struct np_posture_delta *residual);
    /* Builds the plan of the selected items and its text (one line per change). */
    int (*build)(struct np_controller_pass *p, const struct np_posture_delta *sel, void **plan,
                 char ***lines);
    int (*apply)(struct np_controller_pass *p, void *plan); /* stops at the first failure */
    void (*free_plan)(void *plan);
    /* Reads AWS again after a repair and recomputes the delta (verification). */
    int (*residual)(struct np_controller_pass *p, struct np_posture_delta *out);
    /* "<guardrail>/<rule>" of a guardrail-marked item (owned), or NULL. */
    char *(*guardrail_of)(struct np_controller_pass *p, const struct np_posture_drift *d);
    /* Whether the hinting event's API call can have caused this item. */
    bool (*event_explains)(const char *event_name, const struct np_posture_drift *d);
};

/* Runs one reconcile of key for a kind: get, parse, account, deletion or converge, status,
 * consumed annotations. */
int np_controller_pass_reconcile(struct np_controller *ctl,
                                 const struct np_controller_pass_kind *kind, const char *key,
                                 struct np_controller_result *res);
void np_controller_pass_emit(struct np_controller_pass *p, const char *type, const char *reason,
                             const char *action, const char *note);
/* Adds the finalizer before the first AWS mutation (idempotent). */
int np_controller_pass_ensure_finalizer(struct np_controller_pass *p);
/* The reason of the old status's condition of this type (NULL when absent). */
const char *np_controller_pass_old_condition_reason(struct np_controller_pass *p, const char *type);
/*
 * Our ownership tags for an AWS object: owner (<ns>/<name>, *owner owned by the caller), uid,
 * and the piece tag when piece is not NULL. Returns how many were put in tags.
 */
size_t np_controller_pass_ownership_tags(struct np_controller_pass *p, char **owner,
                                         const char *piece, struct np_aws_tag tags[3]);
/* Whether an object's ownership tags name another posture (owner set and not us). */
/*
 * An EC2 ClientToken (owned) for creating piece: the same for every retry of one create, so a
 * repeated call after an unknown outcome returns the first result instead of a second object;
 * a new one once the piece had an id (previous: the id it had, NULL for none), so a piece
 * deleted out of band is created anew.
 */
char *np_controller_pass_client_token(struct np_controller_pass *p, const char *piece,
                                      const char *previous);
/* Whether CloudAccount.spec.adoption of the posture's account refuses adopting the resource
 * (id, tags): then Ready=False AdoptionNotAllowed is set and true returned; nothing may be
 * changed on it. */
bool np_controller_pass_adoption_refused(struct np_controller_pass *p, const char *id,
                                         const struct np_aws_tag *tags, size_t n,
                                         struct np_controller_result *res);
/*
 * The main AWS object of a posture kind (a security group, a VPC) as the find-or-create ladder
 * sees it. The hooks keep the object in the kind's context.
 */
struct np_controller_pass_object_ops {
    const char *noun;                    /* "security group", "VPC": messages */
    enum np_controller_reason not_found; /* the Ready reason when there is none: GroupNotFound */
    /* The uid lookup runs before the status id (it also finds duplicates: the VPC). */
    bool uid_first;
    /* Reads the object by id into the context. NP_ENOTFOUND when it does not exist; with
     * may_defer, NP_EAGAIN with p->deferred set to wait (the pass is parked in the region, whose
     * first poll brings it). */
    int (*read)(struct np_controller_pass *p, const char *id, bool may_defer);
    /* Finds the object carrying our uid tag (status_id: the one to keep when several do).
     * NP_ENOTFOUND when none does. */
    int (*find_by_uid)(struct np_controller_pass *p, const char *status_id, bool enforce);
    /* The object found (its id, NULL when none) and its tags (tags, n may be NULL). */
    const char *(*found)(struct np_controller_pass *p, const struct np_aws_tag **tags, size_t *n);
    void (*forget)(struct np_controller_pass *p); /* drops the object found: not ours */
    /* Creates it in Enforce mode (finalizer first): 0 with it found, or 0 with Ready set. */
    int (*create)(struct np_controller_pass *p, struct np_controller_result *res);
    /* After an accepted adoption, in Enforce mode (NULL: nothing to do). */
    int (*adopted)(struct np_controller_pass *p);
};
/*
 * Finds the posture's object, the same ladder for every kind: adopt_id when not NULL (the
 * Adopt policy: it must exist, be no other posture's and be admitted by the account); else
 * ours by the status id and the uid tag; else created when mode is Enforce. Returns 0 with the
 * object found, or 0 without it and Ready (and the requeue) set when the pass cannot proceed:
 * a condition, not an error; p->deferred while the region's first poll runs.
 */
int np_controller_pass_find_or_create(struct np_controller_pass *p,
                                      const struct np_controller_pass_object_ops *ops,
                                      const char *adopt_id, enum np_posture_mode mode,
                                      struct np_controller_result *res);
/* Our ownership tags (with the piece tag when piece is not NULL) then the user tags: an array
 * of borrowed strings (free it and *owner), *n entries. */
struct np_aws_tag *np_controller_pass_tags_with_ownership(struct np_controller_pass *p,
                                                          char **owner, const char *piece,
                                                          const struct np_posture_tag *user,
                                                          size_t n_user, size_t *n);
/* Why the CloudAccount named account refuses adopting (id, tags) in *why (owned), or NULL. */
int np_controller_adoption_check(struct np_controller *ctl, const char *account, const char *id,
                                 const struct np_aws_tag *tags, size_t n, char **why);
bool np_controller_pass_owned_by_other(struct np_controller_pass *p, const struct np_aws_tag *tags,
                                       size_t n, const char **other);
/* Whether deletion keeps the AWS objects: Retain, or unset and adopted. */
bool np_controller_pass_retains(enum np_posture_management_policy policy,
                                enum np_posture_deletion deletion);
/* Ready=False DeletionBlocked with msg (taken), a Warning Event on entering it, retry in 15 s.
 * Returns 0. */
int np_controller_pass_deletion_blocked(struct np_controller_pass *p, char *msg,
                                        struct np_controller_result *res);
/* Ready=False DeletionBlocked because no account can be used to clean up `what`. */
void np_controller_pass_deletion_no_account(struct np_controller_pass *p, const char *what,
                                            struct np_controller_result *res);
/* The guardrails governing the posture into p->guardrails. When its namespace's labels cannot
 * be read, *unknown: Ready=False NamespaceUnknown and a short requeue, nothing applied. */
int np_controller_pass_guardrails_for(struct np_controller_pass *p,
                                      struct np_controller_result *res, bool *unknown);
void np_controller_pass_count_metric(struct np_controller_pass *p, const char *family,
                                     const char *k2, const char *v2);
/*
 * The policy half of converge, shared by the kinds: with the delta of this pass, recalls each
 * item's history from the old status, lets the policy decide, applies what is due, publishes
 * or (when approved) applies the proposed plan, verifies through ops->residual, reports every
 * item (status, Events, metrics) and sets Ready, Drifted and Contested. An empty delta
 * converges. Returns 0 or the first AWS error.
 */
int np_controller_pass_decide(struct np_controller_pass *p, const struct np_posture_delta *delta,
                              const struct np_posture_remediation *remediation,
                              const struct np_controller_pass_plan_ops *ops,
                              struct np_controller_result *res);
/* Violations of a posture's declared state, collected for the Compliant message: the first
 * three of Deny and of Warn guardrails as text. Zero-initialise it. */
struct np_controller_pass_violations {
    size_t n, n_deny;
    struct np_buf deny, warn;
    size_t shown_deny, shown_warn;
};
/* Adds one violation: guardrail g's rule forbids <what>. */
void np_controller_pass_violation_add(struct np_controller_pass_violations *v,
                                      const struct np_posture_guardrail *g,
                                      const struct np_posture_guardrail_rule *rule,
                                      const char *what);
/* Sets Compliant (and Ready=False GuardrailViolation under Deny) from the violations (the
 * message names the Deny ones when there are any) and releases v. Returns true when the
 * posture must not be applied. */
bool np_controller_pass_guardrail_verdict(struct np_controller_pass *p,
                                          struct np_controller_pass_violations *v);

/* ---------------------------------------------------------------- reconcile_sgp.c */

int np_controller_reconcile_sgp(struct np_controller *ctl, const char *key,
                                struct np_controller_result *res);
/* The park hook of the kind (np_controller_work_item_park): a posture whose pass would defer to
 * its region's first poll (converging, its group known from status.groupId, not adopting one
 * by id) is parked in that region without a pass. */
bool np_controller_park_sgp(struct np_controller *ctl, const char *key);
/* An AWS permission for a canonical rule (strings borrowed from the rule). */
struct np_aws_perm np_controller_perm_of(const struct np_posture_rule *r);

/* ---------------------------------------------------------------- reconcile_vpcp.c */

/* Whether a SecurityGroupPosture object names the VPCPosture ns/name in spec.vpcRef. */
bool np_controller_uses_vpc_posture(json_object *sgp, const char *ns, const char *name);

int np_controller_reconcile_vpcp(struct np_controller *ctl, const char *key,
                                 struct np_controller_result *res);
/*
 * The VPC of the VPCPosture ns/name for a SecurityGroupPosture in account/region: *vpc_id
 * (owned) and 0, or NP_EAGAIN with *why (owned) saying what is missing (the posture does not
 * exist, has no VPC yet, or lives in another account or region).
 */
int np_controller_vpc_of(struct np_controller *ctl, const char *ns, const char *name,
                         const char *account, const char *region, char **vpc_id, char **why);

/* ---------------------------------------------------------------- guardrails.c */

/* The valid guardrails whose namespaceSelector selects namespace ns. Returns 0. */
int np_controller_guardrails_for(struct np_controller *ctl, const char *ns,
                                 struct np_controller_guardrail_set *out);
void np_controller_guardrail_set_clean_up(struct np_controller_guardrail_set *s);
int np_controller_reconcile_guardrail(struct np_controller *ctl, const char *key,
                                      struct np_controller_result *res);
/* Enqueues every guardrail, batched (their violation lists depend on the postures). */
void np_controller_requeue_guardrails(struct np_controller *ctl);

/* ---------------------------------------------------------------- conditions.c */

/*
 * Records what a pass found; np_controller_pass_conditions decides the conditions from it. msg
 * arguments are taken (owned by the pass afterwards).
 */
/* The pass stopped before deciding: Ready=False with reason. */
void np_controller_pass_stop(struct np_controller_pass *p, enum np_controller_reason reason,
                             char *msg);
/* AWS was read in this pass: Synced=True (unless an AWS call failed). */
void np_controller_pass_synced(struct np_controller_pass *p);
/* An AWS call failed (msg copied): Synced=False AWSError, and Ready unless decided otherwise. */
void np_controller_pass_aws_failed(struct np_controller_pass *p, const char *msg);
/* The kind has more to do in the next pass (pieces just created): Progressing, not Converged. */
void np_controller_pass_progressing(struct np_controller_pass *p, char *msg);
/* The guardrail check's result: Compliant / GuardrailViolation / GuardrailWarning. */
void np_controller_pass_set_compliance(struct np_controller_pass *p,
                                       enum np_controller_reason reason, char *msg);
/* Ready's reason from the outcome so far (NP_CONTROLLER_REASON_NONE: nothing decided). */
enum np_controller_reason np_controller_pass_ready_reason(const struct np_controller_pass *p);
/* Whether Ready would be True Converged. */
bool np_controller_pass_converged(const struct np_controller_pass *p);
void np_controller_pass_outcome_clean_up(struct np_controller_pass_outcome *o);

struct np_controller_condition {
    const char *type;
    const char *status; /* "True", "False", "Unknown" */
    const char *reason;
    const char *message;
};

/* Every condition of a posture, derived once from the pass's outcome. */
struct np_controller_pass_conditions {
    struct np_controller_condition items[7];
    char *owned[7];
    size_t n;
};
void np_controller_pass_conditions(const struct np_controller_pass *p,
                                   struct np_controller_pass_conditions *out);
void np_controller_pass_conditions_clean_up(struct np_controller_pass_conditions *c);

/* ---------------------------------------------------------------- status.c */

/* A conditions array (owned) keeping each condition's lastTransitionTime from old_status
 * while its status is unchanged. */
json_object *np_controller_status_conditions(json_object *old_status,
                                             const struct np_controller_condition *conds, size_t n,
                                             int64_t generation, int64_t now_ms);
/* Deep equality of two status objects, ignoring one top-level key (NULL: none). */
bool np_controller_status_equal(json_object *a, json_object *b, const char *ignored_key);

/* Longest condition message and drift-item actor written to status (bytes, marker included). */
#define NP_CONTROLLER_STATUS_MESSAGE_MAX 2048
#define NP_CONTROLLER_STATUS_ACTOR_MAX 512
#define NP_CONTROLLER_STATUS_TRUNCATED "...[truncated]"
/*
 * A copy of s (owned; NULL for NULL) of at most max bytes: longer text is cut at a UTF-8
 * character boundary and ends with NP_CONTROLLER_STATUS_TRUNCATED. max must exceed the marker's
 * length.
 */
char *np_controller_status_bounded(const char *s, size_t max);
/* {"status": new} with null for members of old that new lacks (owned text). */
char *np_controller_status_merge_patch(json_object *old_status, json_object *new_status);

/* ---------------------------------------------------------------- selector.c */

/* Evaluates a label selector (NULL: matches everything) against labels (may be NULL). */
int np_controller_selector_matches(json_object *selector, json_object *labels, bool *matches);
/* Whether namespace ns matches selector (NULL: everything), in *selected. Its labels come
 * from the namespace cache, else from a GET; never guessed: NP_EAGAIN when they cannot be
 * read (requeue). A malformed selector matches nothing. */
int np_controller_namespace_selected(struct np_controller *ctl, json_object *selector,
                                     const char *ns, bool *selected);
/* The Namespace object ns (owned): from the cache, else a GET; NP_EAGAIN when unreadable. */
int np_controller_namespace_get(struct np_controller *ctl, const char *ns, json_object **out);

#endif
