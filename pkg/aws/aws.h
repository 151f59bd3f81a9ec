/*
 * aws: netposture's AWS client — credentials, endpoint resolution, a SigV4-signed EC2 Query
 * API client (libcurl, OpenSSL, expat) with standard-mode retries and client-side token
 * buckets, the typed EC2/STS operations the controller needs, an SQS consumer client, and the
 * parser of the CloudTrail events it delivers. Security-group rules travel as ATOMIC
 * permissions (one peer each), exactly as AWS spells them: no canonicalisation happens here.
 */
#ifndef NP_AWS_AWS_H
#define NP_AWS_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ---------------------------------------------------------------- credentials */

/* Static credentials. All strings are owned; session_token is NULL for long-term keys. */
struct np_aws_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
};

/*
 * Fills *out from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (legacy
 * alias AWS_SECURITY_TOKEN). *out must be zeroed or cleaned up; the caller owns the result
 * (np_aws_credentials_clean_up). Returns NP_EINVAL naming the missing variable.
 */
int np_aws_credentials_from_env(struct np_aws_credentials *out);
/*
 * Fills *out with copies of explicit strings (e.g. read from a Kubernetes Secret). An empty
 * or NULL session_token means none. Returns NP_EINVAL when a key is missing or empty, or
 * contains a control character. On error *out is left empty.
 */
int np_aws_credentials_set(struct np_aws_credentials *out, const char *access_key_id,
                           const char *secret_access_key, const char *session_token);
/* Deep copy; same ownership and errors as np_aws_credentials_set. */
int np_aws_credentials_copy(struct np_aws_credentials *out, const struct np_aws_credentials *src);
/* Wipes the secret material and frees the strings; safe on a zeroed struct. */
void np_aws_credentials_clean_up(struct np_aws_credentials *c);

/* ---------------------------------------------------------------- endpoints */

/*
 * The base URL for an AWS service ("ec2", "sts", ...) in a region, in this order:
 * override (e.g. CloudAccount spec.aws.endpoint) > AWS_ENDPOINT_URL_<SERVICE> (upper case,
 * '-' and ' ' as '_') > AWS_ENDPOINT_URL > https://<service>.<region>.amazonaws.com (".com.cn"
 * for cn-* regions). The two variables are skipped when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS
 * is "true". *out is owned by the caller. Returns NP_EINVAL for an empty service or region, or
 * a chosen URL that is not http:// or https://.
 */
int np_aws_endpoint_resolve(char **out, const char *service, const char *region,
                            const char *override);

/*
 * Whether an endpoint or queue URL may be used: https always; plain http only to a loopback
 * host (127.0.0.0/8, ::1, localhost) unless allow_insecure (a CloudAccount's
 * spec.aws.allowInsecureEndpoint). Pure (parses with libcurl's URL API, no I/O).
 * Returns 0, NP_EDENIED for plain HTTP to another host, NP_EINVAL for an unparsable URL or
 * another scheme, with a message naming the URL.
 */
int np_aws_endpoint_check(const char *url, bool allow_insecure);

/*
 * AWS region names: two letters, an optional partition infix (-gov, -iso, -isob, ...), a
 * direction word and a number, e.g. eu-west-1, us-gov-west-1, cn-north-1, ap-southeast-5,
 * us-isob-east-1. The CRDs carry the same pattern.
 */
#define NP_AWS_REGION_PATTERN "^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]{2,16}-[0-9]{1,2}$"
#define NP_AWS_REGION_MAX_LEN 32
/* Whether region matches NP_AWS_REGION_PATTERN (NULL and empty do not). Pure. */
bool np_aws_region_is_valid(const char *region);

/* ---------------------------------------------------------------- errors */

/*
 * What the last AWS call on this thread returned. code is the AWS error code
 * ("InvalidPermission.Duplicate"), "" on success and on transport failures; http_status is 0
 * when no response arrived. Strings longer than the fields are truncated.
 */
struct np_aws_error {
    char action[64];
    char code[128];
    char message[1024];
    char request_id[128];
    long http_status;
    int attempts;
};

/*
 * The outcome of the last np_aws_* request on this thread (borrowed; valid until the next
 * call on this thread). A failed typed operation also leaves "EC2 <Action>: <Code>: <message>
 * (HTTP <status>, request id <id>)" in the thread-local np_error_message().
 */
const struct np_aws_error *np_aws_error_last(void);
/* True when the last call on this thread failed with exactly this AWS error code. */
bool np_aws_error_is(const char *code);
/*
 * Maps an AWS error code and HTTP status to an NP code (pure): throttling (and netposture's own
 * "ClientThrottled") -> NP_ETHROTTLED; AuthFailure, UnauthorizedOperation, InvalidClientTokenId,
 * SignatureDoesNotMatch, AccessDenied, ExpiredToken... -> NP_EAUTH; *.NotFound and SQS's
 * AWS.SimpleQueueService.NonExistentQueue -> NP_ENOTFOUND; *.Duplicate, *AlreadyExists ->
 * NP_EEXIST; DependencyViolation -> NP_EDEPENDENCY; other codes and 4xx -> NP_EINVAL; 5xx and
 * internal errors -> NP_EAGAIN; a 2xx status with no code -> 0.
 */
int np_aws_error_map(const char *code, long http_status);

/* ---------------------------------------------------------------- observer */

/* One HTTP attempt, reported to the observer. All strings are borrowed for the call only. */
struct np_aws_request_info {
    const char *service; /* "ec2", "sts", "sqs" */
    const char *action;  /* "DescribeSecurityGroups", "ReceiveMessage" */
    const char *code;    /* "OK", the AWS error code (also of a 2xx answer whose payload
                            reports a failure: unsuccessful items, return=false,
                            unknownIpPermissionSet), "HTTP<status>" without one,
                            "NetworkError" / "Timeout" / "Canceled" when no response arrived,
                            or "ClientThrottled" when the client-side token bucket refused the
                            attempt (nothing was sent; duration 0) */
    long http_status;    /* 0 when no response arrived */
    int64_t duration_ms; /* of this attempt */
    int attempt;         /* 1-based: above 1, a retry */
    int64_t wait_ms;     /* waited for a client-side token before the attempt was sent */
};

/*
 * Called after every HTTP attempt (retries included) from the calling thread; it must be
 * thread-safe and must not call back into the client.
 */
typedef void (*np_aws_observer_fn)(void *ctx, const struct np_aws_request_info *info);

/* ---------------------------------------------------------------- credential providers */

/*
 * Where a provider's credentials come from (a CloudAccount's spec.aws.credentials.source).
 * DEFAULT is the AWS SDK chain: the first configured of ENVIRONMENT (AWS_ACCESS_KEY_ID set),
 * WEB_IDENTITY (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE set), CONTAINER
 * (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI set) and INSTANCE_METADATA (unless
 * AWS_EC2_METADATA_DISABLED is "true"), decided when the provider is made.
 */
enum np_aws_cred_source {
    NP_AWS_SOURCE_DEFAULT = 0,
    NP_AWS_SOURCE_ENVIRONMENT,
    NP_AWS_SOURCE_STATIC,            /* explicit keys (a Kubernetes Secret) */
    NP_AWS_SOURCE_WEB_IDENTITY,      /* STS AssumeRoleWithWebIdentity (IRSA) */
    NP_AWS_SOURCE_CONTAINER,         /* the EKS Pod Identity agent or the ECS endpoint */
    NP_AWS_SOURCE_INSTANCE_METADATA, /* IMDSv2 */
};
/* "Default", "Environment", "Secret", "WebIdentity", "PodIdentity", "InstanceMetadata". */
const char *np_aws_cred_source_name(enum np_aws_cred_source s);
/* The source of a name above (NULL: DEFAULT); false for any other name. */
bool np_aws_cred_source_parse(const char *name, enum np_aws_cred_source *out);

/* Why a provider has no usable credentials. */
enum np_aws_cred_failure {
    NP_AWS_CRED_OK = 0,
    NP_AWS_CRED_NOT_FOUND,            /* the source (every chain entry) is not configured */
    NP_AWS_CRED_TOKEN_UNREADABLE,     /* the web-identity or agent authorization token file */
    NP_AWS_CRED_DENIED,               /* STS or the agent refused (AccessDenied, a bad token) */
    NP_AWS_CRED_METADATA_UNAVAILABLE, /* IMDS or the container endpoint: unreachable, refused */
    NP_AWS_CRED_EXPIRED,              /* temporary credentials ran out, the refresh failing */
    NP_AWS_CRED_UNAVAILABLE,          /* STS unreachable, or an error that is not a refusal */
    NP_AWS_CRED_INVALID,              /* a bad configuration (URL, host, keys) */
};

/*
 * A provider's settings. Strings are copied. The STS calls (AssumeRoleWithWebIdentity,
 * AssumeRole) go to sts_endpoint > AWS_ENDPOINT_URL_STS > AWS_ENDPOINT_URL >
 * https://sts.<region>.amazonaws.com.
 */
struct np_aws_provider_config {
    enum np_aws_cred_source source;
    const struct np_aws_credentials *credentials; /* STATIC: the keys */
    /* WEB_IDENTITY: the role and token file (NULL: AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE).
     * A token file is read only inside one of token_dirs (symlinks resolved) when n_token_dirs
     * > 0; the directory of AWS_WEB_IDENTITY_TOKEN_FILE is always allowed. */
    const char *role_arn;
    const char *token_file;
    const char *const *token_dirs;
    size_t n_token_dirs;
    /* The session name of the web identity (AWS_ROLE_SESSION_NAME wins) and of assume_role_arn
     * (assume_session_name wins); NULL: "netposture". Cut and cleaned to STS's [\w+=,.@-]{2,64}. */
    const char *session_name;
    /* Optional STS AssumeRole on top of the source. */
    const char *assume_role_arn;
    const char *external_id;
    const char *assume_session_name;
    int duration_seconds; /* 0: 3600 */
    const char *region;   /* required: the STS region */
    const char *sts_endpoint;
    const char *ca_bundle; /* for STS and https metadata endpoints; NULL: the system store */
    bool insecure_skip_tls_verify;
    np_aws_observer_fn observer; /* optional: STS attempts are reported like any AWS call */
    void *observer_ctx;
    const struct np_clock *clock; /* NULL: np_clock_system() */
};

struct np_aws_provider;

/*
 * Makes a provider (no I/O: credentials are fetched at the first np_aws_provider_get). A
 * source that cannot work (not configured, a token file outside token_dirs, a container URL
 * that is neither https nor a documented local address) still gives a provider, whose gets
 * fail with the reason. *out holds one reference (np_aws_provider_unref). NP_EINVAL for a
 * config without region or with STATIC keys missing.
 */
int np_aws_provider_new(struct np_aws_provider **out, const struct np_aws_provider_config *cfg);
struct np_aws_provider *np_aws_provider_ref(struct np_aws_provider *p);
/* Drops a reference; the last one frees the provider. NULL is a no-op. */
void np_aws_provider_unref(struct np_aws_provider *p);

/*
 * Copies the provider's current credentials into *out (caller cleans up). Temporary ones are
 * refreshed before they expire: at expiry - min(15 min, half their life), by one caller at a
 * time (the others keep using the still-valid ones meanwhile; a caller whose credentials are
 * no longer valid waits for the refresh). A failed refresh keeps still-valid credentials,
 * retries after a backoff (1 s doubling to 60 s) and, once they are no longer valid (within
 * min(60 s, a tenth of their life) of expiry), fails with NP_AWS_CRED_EXPIRED: nothing is
 * ever signed with expired credentials. Thread-safe. Errors: NP_EAUTH with *why (optional)
 * and a message naming the source and what to do; no secret is ever in a message.
 */
int np_aws_provider_get(struct np_aws_provider *p, struct np_aws_credentials *out,
                        enum np_aws_cred_failure *why);

/* What a provider is using, for status and metrics. */
struct np_aws_provider_state {
    enum np_aws_cred_source source; /* what DEFAULT resolved to */
    bool assumed;                   /* assume_role_arn on top */
    int64_t expires_ms;             /* wall ms; 0: long-term keys, or none yet */
    int64_t refresh_ms; /* wall ms of the next refresh (a failed one's backoff included); 0: none */
    enum np_aws_cred_failure failure; /* of the last fetch */
};
void np_aws_provider_state(struct np_aws_provider *p, struct np_aws_provider_state *out);

/* ---------------------------------------------------------------- EC2 client */

struct np_aws_ec2;

/*
 * Client settings. Strings and credentials are copied by np_aws_ec2_new (a provider is
 * referenced); clock, observer and observer_ctx are kept and must outlive the client.
 */
struct np_aws_ec2_config {
    const char *region;       /* required */
    const char *endpoint;     /* override for EC2; NULL: resolve */
    const char *sts_endpoint; /* override for STS; NULL: resolve */
    /* Optional fence: an EC2 action that changes something (not Describe*, Get*, List*,
     * Search*) is refused with NP_EDENIED (code "Fenced"), sending nothing, unless it returns
     * true. Leader election: only the lease holder mutates. */
    bool (*mutation_gate)(void *ctx);
    void *mutation_gate_ctx;
    const struct np_aws_credentials *credentials; /* static keys, or: */
    struct np_aws_provider *provider;             /* credentials refreshed as they expire */
    const char *ca_bundle;                        /* PEM file; NULL: the system store */
    bool insecure_skip_tls_verify;                /* false: TLS peer and host verified */
    int64_t connect_timeout_ms;                   /* 0: 5000 */
    int64_t timeout_ms;                           /* whole HTTP attempt, 0: 30000 */
    const char *user_agent;                       /* NULL: "netposture" */
    int max_attempts;                             /* 0: 4 (first try + 3 retries) */
    np_aws_observer_fn observer;                  /* optional */
    void *observer_ctx;
    const struct np_clock *clock; /* NULL: np_clock_system(); signs with its wall time and
                                     paces the token buckets with its monotonic time */
    /* Client-side token buckets (EC2 only; see np_aws_ec2_new). */
    bool no_rate_limit;       /* true: no client-side buckets at all */
    double rate_scale;        /* multiplies every burst and refill rate; 0: 1.0; max 1000 */
    int64_t rate_max_wait_ms; /* longest wait for a token before failing; 0: 1000; < 0: never
                                 wait (fail unless a token is available now); max 600000 */
};

/*
 * Creates a client for one (credentials, region): resolves the EC2 and STS endpoints (see
 * np_aws_endpoint_resolve) and copies everything it needs. The client is thread-safe: any
 * number of threads may call operations on it at once; retries share one retry quota (AWS
 * standard mode: 500 tokens, 5 per retry, 10 per timeout retry).
 *
 * Every EC2 attempt (retries included) first takes a token from the client's bucket for the
 * action's EC2 throttling category, shared by all threads: Describe*, List*, Search*, Get*
 * 100 burst / 20 per second; Authorize/RevokeSecurityGroupIngress 50 / 5; CreateTags and
 * DeleteTags 100 / 10; every other EC2 action 50 / 5 (STS and SQS are not limited). When no
 * token is free the call sleeps until one is, if that is at most rate_max_wait_ms away;
 * otherwise it fails at once with NP_ETHROTTLED and AWS code "ClientThrottled" (reported to the
 * observer and in np_aws_error_last(), the message naming the category) so the caller requeues.
 *
 * *out is owned by the caller (np_aws_ec2_destroy). Returns NP_EINVAL for missing region or
 * credentials, a bad endpoint, or rate settings out of range.
 */
int np_aws_ec2_new(struct np_aws_ec2 **out, const struct np_aws_ec2_config *cfg);
/* Frees the client; no call may be in flight. NULL is a no-op. */
void np_aws_ec2_destroy(struct np_aws_ec2 *c);
/* The client's region and resolved EC2 endpoint (borrowed, live as long as the client). */
const char *np_aws_ec2_region(const struct np_aws_ec2 *c);
const char *np_aws_ec2_endpoint(const struct np_aws_ec2 *c);

/* ---------------------------------------------------------------- actions */

/* An AWS API action the clients call: service is the IAM prefix ("ec2", "sts", "sqs",
 * "cloudtrail"); needs_iam is false for a call IAM does not check on the caller's side. */
struct np_aws_action {
    const char *service;
    const char *action;
    bool needs_iam;
};
/* Every action the clients can call (a call to any other is refused with NP_EINVAL); the IAM
 * policy in manifests/aws/ grants exactly these (tests/unit/aws/test_iam.c). */
extern const struct np_aws_action np_aws_actions[];
extern const size_t np_aws_n_actions;
bool np_aws_action_known(const char *service, const char *action);

/* ---------------------------------------------------------------- types */

struct np_aws_tag {
    char *key;
    char *value;
};

/* A Describe filter: Filter.N.Name / Filter.N.Value.M. Borrowed input. */
struct np_aws_filter {
    const char *name;
    const char *const *values;
    size_t n_values;
};

enum np_aws_peer_kind {
    NP_AWS_PEER_CIDR4 = 0,   /* IpRanges.CidrIp */
    NP_AWS_PEER_CIDR6,       /* Ipv6Ranges.CidrIpv6 */
    NP_AWS_PEER_PREFIX_LIST, /* PrefixListIds.PrefixListId */
    NP_AWS_PEER_GROUP,       /* Groups (UserIdGroupPair).GroupId */
};

/* One atomic security-group permission: one protocol/port range and ONE peer. Owned strings. */
struct np_aws_perm {
    char *protocol; /* as AWS spells it: "tcp", "udp", "icmp", "icmpv6", "-1", or a number */
    bool has_ports; /* FromPort/ToPort present (absent for "-1") */
    int from_port;  /* ICMP: type */
    int to_port;    /* ICMP: code */
    enum np_aws_peer_kind peer_kind;
    char *peer;        /* CIDR, prefix list id or group id */
    char *user_id;     /* GROUP only: the owning account; NULL if not given */
    char *description; /* NULL when none */
};

struct np_aws_sg {
    char *group_id;
    char *group_name;
    char *description;
    char *vpc_id;
    char *owner_id;
    struct np_aws_tag *tags;
    size_t n_tags;
    struct np_aws_perm *ingress; /* atomic, in the order AWS listed them */
    size_t n_ingress;
    struct np_aws_perm *egress;
    size_t n_egress;
};

struct np_aws_vpc {
    char *vpc_id;
    char *cidr_block;
    char *state;
    char *owner_id;
    bool is_default;
    struct np_aws_tag *tags;
    size_t n_tags;
};

/* Lifecycle helpers. *_clean_up frees members of an embedded value; *_free frees a heap value
 * (or an array of n values) and its members. All accept NULL. */
void np_aws_tags_free(struct np_aws_tag *tags, size_t n);
void np_aws_perm_clean_up(struct np_aws_perm *p);
void np_aws_perms_free(struct np_aws_perm *perms, size_t n);
void np_aws_sg_clean_up(struct np_aws_sg *sg);
void np_aws_sg_free(struct np_aws_sg *sg);
void np_aws_sgs_free(struct np_aws_sg *sgs, size_t n);
void np_aws_vpc_clean_up(struct np_aws_vpc *vpc);
void np_aws_vpcs_free(struct np_aws_vpc *vpcs, size_t n);
/* The value of tag key in tags (borrowed), or NULL when absent. */
const char *np_aws_tag_get(const struct np_aws_tag *tags, size_t n, const char *key);
/* Deep copies (abort on out-of-memory like np_strdup). The result is owned by the caller. */
void np_aws_perm_copy(struct np_aws_perm *dst, const struct np_aws_perm *src);
struct np_aws_tag *np_aws_tags_dup(const struct np_aws_tag *tags, size_t n);
struct np_aws_sg *np_aws_sg_dup(const struct np_aws_sg *src);
/* A read-only deep copy in ONE allocation (the struct, its arrays and strings), for groups
 * kept long: a third of np_aws_sg_dup's heap for a typical group. Free it with free(), never
 * with np_aws_sg_free. NULL for NULL. */
struct np_aws_sg *np_aws_sg_pack(const struct np_aws_sg *src);
/* True when two perms have the same protocol, ports, peer kind, peer and user id (the
 * description is not compared). Strings are compared exactly, protocol case-insensitively. */
bool np_aws_perm_is_same_rule(const struct np_aws_perm *a, const struct np_aws_perm *b);

/* ---------------------------------------------------------------- EC2 operations */

/*
 * Every operation below returns 0 or a negative NP code mapped by np_aws_error_map after
 * retries (throttling, 5xx and connection errors are retried), NP_ETHROTTLED ("ClientThrottled")
 * when the client-side budget is exhausted, NP_EIO for transport failures,
 * NP_EPARSE for an undecodable success response, NP_EINVAL for bad arguments. The AWS code
 * and message are in np_aws_error_last() and np_error_message(). Strings passed in are
 * borrowed.
 */

/*
 * DescribeSecurityGroups with filters (AND of filters, OR of values) and optional group ids,
 * following nextToken (MaxResults=1000 when no ids are given; AWS refuses both together).
 * *out (array of *n_out groups, NULL when none) is owned by the caller: np_aws_sgs_free.
 */
int np_aws_ec2_describe_security_groups(struct np_aws_ec2 *c, struct np_aws_sg **out, size_t *n_out,
                                        const struct np_aws_filter *filters, size_t n_filters,
                                        const char *const *group_ids, size_t n_group_ids);
/*
 * CreateSecurityGroup; tags are attached atomically with TagSpecification (security-group).
 * vpc_id may be NULL (default VPC). *group_id is owned by the caller (free).
 * InvalidGroup.Duplicate gives NP_EEXIST.
 */
int np_aws_ec2_create_security_group(struct np_aws_ec2 *c, char **group_id, const char *name,
                                     const char *description, const char *vpc_id,
                                     const struct np_aws_tag *tags, size_t n_tags);
/* DeleteSecurityGroup by id. DependencyViolation gives NP_EDEPENDENCY. */
int np_aws_ec2_delete_security_group(struct np_aws_ec2 *c, const char *group_id);

/*
 * Authorize/Revoke ingress/egress: one call, each atomic perm as its own IpPermissions.N
 * (perms with the same rule, see np_aws_perm_is_same_rule, are sent once: the first wins).
 * n == 0 is a no-op. Descriptions are sent when set, on revoke too: AWS ignores them when
 * matching the rule to revoke, but moto only matches group and prefix-list peers whose
 * description is equal, so pass the perms as Describe returned them.
 * A duplicate gives NP_EEXIST (InvalidPermission.Duplicate), a missing rule NP_ENOTFOUND
 * (InvalidPermission.NotFound; also when AWS answers a revoke with a non-empty
 * unknownIpPermissionSet, reported as code "InvalidPermission.NotFound").
 */
int np_aws_ec2_authorize_ingress(struct np_aws_ec2 *c, const char *group_id,
                                 const struct np_aws_perm *perms, size_t n);
int np_aws_ec2_authorize_egress(struct np_aws_ec2 *c, const char *group_id,
                                const struct np_aws_perm *perms, size_t n);
int np_aws_ec2_revoke_ingress(struct np_aws_ec2 *c, const char *group_id,
                              const struct np_aws_perm *perms, size_t n);
int np_aws_ec2_revoke_egress(struct np_aws_ec2 *c, const char *group_id,
                             const struct np_aws_perm *perms, size_t n);
/*
 * UpdateSecurityGroupRuleDescriptions{Ingress,Egress} in the IpPermissions form: sets the
 * description of each existing rule (a NULL description clears it). n == 0 is a no-op.
 */
int np_aws_ec2_update_rule_descriptions_ingress(struct np_aws_ec2 *c, const char *group_id,
                                                const struct np_aws_perm *perms, size_t n);
int np_aws_ec2_update_rule_descriptions_egress(struct np_aws_ec2 *c, const char *group_id,
                                               const struct np_aws_perm *perms, size_t n);

/* CreateTags (overwrites existing keys). n == 0 is a no-op. */
int np_aws_ec2_create_tags(struct np_aws_ec2 *c, const char *resource_id,
                           const struct np_aws_tag *tags, size_t n);
/* DeleteTags by key, whatever the value. n == 0 is a no-op (AWS would delete ALL tags). */
int np_aws_ec2_delete_tags(struct np_aws_ec2 *c, const char *resource_id, const char *const *keys,
                           size_t n);

/*
 * DescribeVpcs with filters, paginated. *out (array of *n_out, NULL when none) is owned by
 * the caller: np_aws_vpcs_free.
 */
int np_aws_ec2_describe_vpcs(struct np_aws_ec2 *c, struct np_aws_vpc **out, size_t *n_out,
                             const struct np_aws_filter *filters, size_t n_filters);

/* ---------------------------------------------------------------- VPC pieces (vpc.c) */

/*
 * The VPC network pieces a VPCPosture manages. Values are as AWS spells them (no
 * canonicalisation). Every Describe below is paginated (MaxResults at AWS's largest page for
 * the action: 1000, DescribeRouteTables 100; NextToken) through the same pager as
 * DescribeSecurityGroups; filters are AND of filters, OR of values; *out is NULL and *n_out 0
 * when nothing matched and on error. Create calls attach tags atomically with TagSpecification
 * (none when n_tags is 0). Every id out-parameter (char **) is owned by the caller and NULL on
 * error. A missing required string, or a tag without a key, gives NP_EINVAL naming the
 * parameter, and nothing is sent. Errors otherwise as for the EC2 operations above.
 */

/* The two VPC attributes a posture manages (DescribeVpcAttribute / ModifyVpcAttribute). */
enum np_aws_vpc_attribute { NP_AWS_VPC_DNS_SUPPORT = 0, NP_AWS_VPC_DNS_HOSTNAMES };

struct np_aws_subnet {
    char *subnet_id;
    char *vpc_id;
    char *cidr_block;
    char *availability_zone;
    char *state;
    bool map_public_ip_on_launch;
    struct np_aws_tag *tags;
    size_t n_tags;
};

enum np_aws_route_dest {
    NP_AWS_ROUTE_DEST_CIDR4 = 0,   /* destinationCidrBlock / DestinationCidrBlock */
    NP_AWS_ROUTE_DEST_CIDR6,       /* destinationIpv6CidrBlock */
    NP_AWS_ROUTE_DEST_PREFIX_LIST, /* destinationPrefixListId */
};

/*
 * Route targets, in the order the decoder looks for them in a Describe answer (the first
 * present wins: an instance route also names its network interface).
 */
enum np_aws_route_target {
    NP_AWS_ROUTE_GATEWAY = 0,       /* gatewayId: igw-, vgw-, vpce- (gateway endpoints), "local" */
    NP_AWS_ROUTE_NAT_GATEWAY,       /* natGatewayId */
    NP_AWS_ROUTE_TRANSIT_GATEWAY,   /* transitGatewayId */
    NP_AWS_ROUTE_VPC_PEERING,       /* vpcPeeringConnectionId */
    NP_AWS_ROUTE_EGRESS_ONLY_IGW,   /* egressOnlyInternetGatewayId */
    NP_AWS_ROUTE_CARRIER_GATEWAY,   /* carrierGatewayId */
    NP_AWS_ROUTE_LOCAL_GATEWAY,     /* localGatewayId */
    NP_AWS_ROUTE_CORE_NETWORK,      /* coreNetworkArn */
    NP_AWS_ROUTE_INSTANCE,          /* instanceId */
    NP_AWS_ROUTE_NETWORK_INTERFACE, /* networkInterfaceId */
    NP_AWS_ROUTE_TARGET_COUNT
};

/* The response member name of a target ("gatewayId", "natGatewayId", ...; static; NULL outside
 * the enum). The Query parameter is the same with an upper-case first letter ("GatewayId"). */
const char *np_aws_route_target_name(enum np_aws_route_target t);

/* A route as Describe decodes it: the first destination present in the order of enum
 * np_aws_route_dest (a route without one is refused with NP_EPARSE), the first target in the
 * order of enum np_aws_route_target. */
struct np_aws_route {
    enum np_aws_route_dest dest_kind;
    char *destination;
    bool has_target; /* false: a blackhole route whose target is gone, or an unknown kind */
    enum np_aws_route_target target_kind;
    char *target;
    char *origin; /* "CreateRouteTable" (the local route), "CreateRoute",
                     "EnableVgwRoutePropagation"; NULL when absent */
    char *state;  /* "active", "blackhole"; NULL when absent */
};

struct np_aws_rt_assoc {
    char *association_id;
    char *subnet_id; /* NULL for the main association or a gateway association */
    bool main;
};

struct np_aws_route_table {
    char *route_table_id;
    char *vpc_id;
    struct np_aws_route *routes;
    size_t n_routes;
    struct np_aws_rt_assoc *assocs;
    size_t n_assocs;
    struct np_aws_tag *tags;
    size_t n_tags;
};

struct np_aws_nacl_entry {
    int rule_number; /* 32767 is the default "*" entry */
    bool egress;
    char *protocol;  /* "-1", "6", "17", "1", ... as AWS returns it (numbers) */
    bool allow;      /* ruleAction allow (true) or deny */
    char *cidr;      /* cidrBlock, or NULL */
    char *ipv6_cidr; /* ipv6CidrBlock, or NULL */
    bool has_ports;  /* portRange present */
    int from_port;
    int to_port;
    bool has_icmp; /* icmpTypeCode present */
    int icmp_type;
    int icmp_code;
};

struct np_aws_nacl_assoc {
    char *association_id;
    char *subnet_id;
};

struct np_aws_nacl {
    char *network_acl_id;
    char *vpc_id;
    bool is_default;
    struct np_aws_nacl_entry *entries;
    size_t n_entries;
    struct np_aws_nacl_assoc *assocs;
    size_t n_assocs;
    struct np_aws_tag *tags;
    size_t n_tags;
};

struct np_aws_flow_log {
    char *flow_log_id;
    char *resource_id;
    char *traffic_type;         /* ACCEPT | REJECT | ALL */
    char *log_destination_type; /* cloud-watch-logs | s3 | kinesis-data-firehose */
    char *log_destination;      /* the ARN; NULL when AWS gave only logGroupName */
    char *log_group_name;
    char *deliver_logs_permission_arn;
    char *flow_log_status;
    struct np_aws_tag *tags;
    size_t n_tags;
};

/* What CreateFlowLogs needs (borrowed strings). */
struct np_aws_flow_log_spec {
    const char *resource_id;                 /* the VPC (ResourceType=VPC) */
    const char *traffic_type;                /* ACCEPT | REJECT | ALL */
    const char *log_destination_type;        /* cloud-watch-logs | s3 | kinesis-data-firehose; NULL:
                                                AWS's default (cloud-watch-logs) */
    const char *log_destination;             /* the destination ARN */
    const char *deliver_logs_permission_arn; /* NULL unless cloud-watch-logs (required there) */
};

void np_aws_subnets_free(struct np_aws_subnet *s, size_t n);
void np_aws_route_clean_up(struct np_aws_route *r);
void np_aws_route_tables_free(struct np_aws_route_table *t, size_t n);
void np_aws_nacl_entry_clean_up(struct np_aws_nacl_entry *e);
void np_aws_nacls_free(struct np_aws_nacl *a, size_t n);
void np_aws_flow_logs_free(struct np_aws_flow_log *f, size_t n);

/* CreateVpc (tags via TagSpecification "vpc"). *vpc_id is owned by the caller. */
int np_aws_ec2_create_vpc(struct np_aws_ec2 *c, char **vpc_id, const char *cidr_block,
                          const struct np_aws_tag *tags, size_t n_tags);
/* DeleteVpc. DependencyViolation gives NP_EDEPENDENCY, InvalidVpcID.NotFound NP_ENOTFOUND. */
int np_aws_ec2_delete_vpc(struct np_aws_ec2 *c, const char *vpc_id);
/* DescribeVpcAttribute (one attribute per call, as AWS requires). */
int np_aws_ec2_describe_vpc_attribute(struct np_aws_ec2 *c, const char *vpc_id,
                                      enum np_aws_vpc_attribute attr, bool *value);
/* ModifyVpcAttribute (EnableDnsSupport.Value / EnableDnsHostnames.Value). */
int np_aws_ec2_modify_vpc_attribute(struct np_aws_ec2 *c, const char *vpc_id,
                                    enum np_aws_vpc_attribute attr, bool value);

/* DescribeSubnets; *out owned (np_aws_subnets_free). */
int np_aws_ec2_describe_subnets(struct np_aws_ec2 *c, struct np_aws_subnet **out, size_t *n_out,
                                const struct np_aws_filter *filters, size_t n_filters);
/* CreateSubnet (availability_zone may be NULL: AWS picks; tags via "subnet"). */
int np_aws_ec2_create_subnet(struct np_aws_ec2 *c, char **subnet_id, const char *vpc_id,
                             const char *cidr_block, const char *availability_zone,
                             const struct np_aws_tag *tags, size_t n_tags);
int np_aws_ec2_delete_subnet(struct np_aws_ec2 *c, const char *subnet_id);
/* ModifySubnetAttribute MapPublicIpOnLaunch.Value. */
int np_aws_ec2_modify_subnet_map_public_ip(struct np_aws_ec2 *c, const char *subnet_id, bool value);

/* DescribeRouteTables; *out owned (np_aws_route_tables_free). */
int np_aws_ec2_describe_route_tables(struct np_aws_ec2 *c, struct np_aws_route_table **out,
                                     size_t *n_out, const struct np_aws_filter *filters,
                                     size_t n_filters);
/* CreateRouteTable (tags via "route-table"); client_token (may be NULL) makes it idempotent. */
int np_aws_ec2_create_route_table(struct np_aws_ec2 *c, char **route_table_id, const char *vpc_id,
                                  const char *client_token, const struct np_aws_tag *tags,
                                  size_t n_tags);
int np_aws_ec2_delete_route_table(struct np_aws_ec2 *c, const char *route_table_id);
/*
 * CreateRoute / ReplaceRoute with the route's destination and target (has_target, a known
 * dest_kind and target_kind, and both strings required, else NP_EINVAL); origin and state are
 * ignored. ReplaceRoute of a GATEWAY target "local" sends LocalTarget=true (puts the local route
 * back). RouteAlreadyExists gives NP_EEXIST; InvalidRoute.NotFound NP_ENOTFOUND.
 */
int np_aws_ec2_create_route(struct np_aws_ec2 *c, const char *route_table_id,
                            const struct np_aws_route *route);
int np_aws_ec2_replace_route(struct np_aws_ec2 *c, const char *route_table_id,
                             const struct np_aws_route *route);
/* DeleteRoute by destination. InvalidRoute.NotFound gives NP_ENOTFOUND. */
int np_aws_ec2_delete_route(struct np_aws_ec2 *c, const char *route_table_id,
                            enum np_aws_route_dest dest_kind, const char *destination);
/* AssociateRouteTable; *association_id owned (may be NULL to ignore it; NULL on error). */
int np_aws_ec2_associate_route_table(struct np_aws_ec2 *c, const char *route_table_id,
                                     const char *subnet_id, char **association_id);
int np_aws_ec2_disassociate_route_table(struct np_aws_ec2 *c, const char *association_id);
/* ReplaceRouteTableAssociation: moves an existing association to route_table_id;
 * *new_association_id owned (may be NULL to ignore it). */
int np_aws_ec2_replace_route_table_association(struct np_aws_ec2 *c, const char *association_id,
                                               const char *route_table_id,
                                               char **new_association_id);

/* DescribeNetworkAcls; *out owned (np_aws_nacls_free). */
int np_aws_ec2_describe_network_acls(struct np_aws_ec2 *c, struct np_aws_nacl **out, size_t *n_out,
                                     const struct np_aws_filter *filters, size_t n_filters);
/* CreateNetworkAcl (tags via "network-acl"); client_token (may be NULL) makes it idempotent. */
int np_aws_ec2_create_network_acl(struct np_aws_ec2 *c, char **network_acl_id, const char *vpc_id,
                                  const char *client_token, const struct np_aws_tag *tags,
                                  size_t n_tags);
int np_aws_ec2_delete_network_acl(struct np_aws_ec2 *c, const char *network_acl_id);
/*
 * CreateNetworkAclEntry / ReplaceNetworkAclEntry: Protocol, RuleAction, Egress, RuleNumber,
 * CidrBlock or Ipv6CidrBlock, PortRange.From/To when has_ports, Icmp.Type/Code when has_icmp.
 * NP_EINVAL unless the rule number is 1..32766 (32767 is AWS's fixed default entry) and exactly
 * one of cidr and ipv6_cidr is set. NetworkAclEntryAlreadyExists gives NP_EEXIST.
 */
int np_aws_ec2_create_network_acl_entry(struct np_aws_ec2 *c, const char *network_acl_id,
                                        const struct np_aws_nacl_entry *e);
int np_aws_ec2_replace_network_acl_entry(struct np_aws_ec2 *c, const char *network_acl_id,
                                         const struct np_aws_nacl_entry *e);
int np_aws_ec2_delete_network_acl_entry(struct np_aws_ec2 *c, const char *network_acl_id,
                                        int rule_number, bool egress);
/* ReplaceNetworkAclAssociation: moves a subnet's association (by its current association id)
 * to network_acl_id; *new_association_id owned (may be NULL to ignore it). */
int np_aws_ec2_replace_network_acl_association(struct np_aws_ec2 *c, const char *association_id,
                                               const char *network_acl_id,
                                               char **new_association_id);

/* DescribeFlowLogs; *out owned (np_aws_flow_logs_free). Filters: resource-id, tag:... */
int np_aws_ec2_describe_flow_logs(struct np_aws_ec2 *c, struct np_aws_flow_log **out, size_t *n_out,
                                  const struct np_aws_filter *filters, size_t n_filters);
/*
 * CreateFlowLogs for one VPC (tags via "vpc-flow-log"); *flow_log_id owned. resource_id,
 * traffic_type and log_destination are required; a NULL log_destination_type leaves AWS's
 * default (cloud-watch-logs). An answer whose unsuccessful set is not empty fails with
 * NP_EINVAL, its first item's code (np_aws_error_last) and message. FlowLogAlreadyExists gives
 * NP_EEXIST. client_token (may be NULL) makes a repeated call return the first result.
 */
int np_aws_ec2_create_flow_log(struct np_aws_ec2 *c, char **flow_log_id,
                               const struct np_aws_flow_log_spec *spec, const char *client_token,
                               const struct np_aws_tag *tags, size_t n_tags);
/*
 * DeleteFlowLogs (FlowLogId.N); n == 0 is a no-op. An id AWS lists in the answer's unsuccessful
 * set fails the call with that item's code, mapped (InvalidFlowLogId.NotFound: NP_ENOTFOUND, as
 * when the whole call is refused with that code).
 */
int np_aws_ec2_delete_flow_logs(struct np_aws_ec2 *c, const char *const *flow_log_ids, size_t n);

/* ---------------------------------------------------------------- STS */

/*
 * STS GetCallerIdentity against the client's STS endpoint with its credentials: verifies the
 * credentials. *account_id ("123456789012") and *arn are owned by the caller (free); either
 * out pointer may be NULL. Bad credentials give NP_EAUTH.
 */
int np_aws_sts_get_caller_identity(struct np_aws_ec2 *c, char **account_id, char **arn);

/* ---------------------------------------------------------------- SQS */

struct np_aws_sqs;

/* One received message. All strings are owned (np_aws_sqs_messages_free). */
struct np_aws_sqs_message {
    char *message_id;
    char *receipt_handle; /* what np_aws_sqs_delete needs */
    char *body;
    int receive_count; /* ApproximateReceiveCount; 0 when SQS did not say */
    int64_t sent_ms;   /* SentTimestamp, epoch milliseconds; 0 when SQS did not say */
    bool corrupt;      /* the body does not match MD5OfBody: never to be trusted */
};

/* Frees an array of n messages and their strings; NULL is a no-op. */
void np_aws_sqs_messages_free(struct np_aws_sqs_message *msgs, size_t n);

/*
 * SQS client settings: the EC2 client's, without the token buckets (SQS is not rate-limited).
 * Strings and credentials are copied by np_aws_sqs_new; clock, observer and observer_ctx are
 * kept and must outlive the client.
 */
struct np_aws_sqs_config {
    const char *region;   /* required: the queue's region (signing) */
    const char *endpoint; /* override (CloudAccount spec.aws.endpoints.sqs); NULL: see below */
    const struct np_aws_credentials *credentials; /* static keys, or: */
    struct np_aws_provider *provider;             /* (referenced) */
    const char *ca_bundle;                        /* PEM file; NULL: the system store */
    bool insecure_skip_tls_verify;
    int64_t connect_timeout_ms;  /* 0: 5000 */
    int64_t timeout_ms;          /* an attempt, 0: 30000; a receive adds its wait_seconds */
    const char *user_agent;      /* NULL: "netposture" */
    int max_attempts;            /* 0: 4 */
    np_aws_observer_fn observer; /* optional */
    void *observer_ctx;
    const struct np_clock *clock; /* NULL: np_clock_system() */
};

/*
 * Creates an SQS client (Query protocol, Version 2012-11-05, signed for service "sqs" in
 * cfg->region). Requests are POSTed to the queue URL given to each call; when an SQS endpoint
 * override is configured (cfg->endpoint > AWS_ENDPOINT_URL_SQS > AWS_ENDPOINT_URL, the
 * precedence of np_aws_endpoint_resolve) they keep the queue URL's path and use the override's
 * scheme, host and port. Thread-safe like the EC2 client; each attempt is reported to the
 * observer with service "sqs" and its action ("ReceiveMessage", "DeleteMessage",
 * "GetQueueAttributes"), and throttling, 5xx and connection errors are retried the same way
 * (one retry quota per client). *out is owned by the caller (np_aws_sqs_destroy). Returns
 * NP_EINVAL for missing region or credentials or a bad override.
 */
int np_aws_sqs_new(struct np_aws_sqs **out, const struct np_aws_sqs_config *cfg);
/* Frees the client; no call may be in flight. NULL is a no-op. */
void np_aws_sqs_destroy(struct np_aws_sqs *q);

/*
 * ReceiveMessage: up to max (1..10) messages, long-polling up to wait_seconds (0..20) when the
 * queue is empty, hiding them for visibility_timeout seconds (0: the queue's default; at most
 * 43200). The attempt's timeout is the client's timeout plus wait_seconds. *msgs (array of *n,
 * NULL when none arrived) is owned by the caller (np_aws_sqs_messages_free). Returns
 * NP_EINVAL for bad arguments, NP_ENOTFOUND for a missing queue, NP_ECANCELED after
 * np_aws_sqs_cancel, NP_EPARSE for an undecodable answer (or a body whose MD5OfBody does not
 * match), or the other codes of the EC2 operations.
 */
int np_aws_sqs_receive(struct np_aws_sqs *q, const char *queue_url, int max, int wait_seconds,
                       int visibility_timeout, struct np_aws_sqs_message **msgs, size_t *n);
/* DeleteMessage by receipt handle. Same errors as np_aws_sqs_receive. */
int np_aws_sqs_delete(struct np_aws_sqs *q, const char *queue_url, const char *receipt_handle);
/*
 * GetQueueAttributes (ApproximateNumberOfMessages): verifies that the queue exists and these
 * credentials may use it. NP_ENOTFOUND for a missing queue, NP_EAUTH when refused.
 */
int np_aws_sqs_check(struct np_aws_sqs *q, const char *queue_url);

/*
 * Cancels the client from any thread: an attempt in flight (a 20 s long poll included) is
 * aborted within about a second, backoff sleeps end early, and every call returns NP_ECANCELED
 * without sending anything until np_aws_sqs_clear_cancel. For a controller shutdown. SQS keeps
 * an aborted long poll open on its side and may still hand it a message: that message comes
 * back after its visibility timeout (delivery is at least once anyway).
 */
void np_aws_sqs_cancel(struct np_aws_sqs *q);
/* Lets calls through again after np_aws_sqs_cancel. */
void np_aws_sqs_clear_cancel(struct np_aws_sqs *q);
bool np_aws_sqs_is_canceled(struct np_aws_sqs *q);

/* ---------------------------------------------------------------- CloudTrail events */

/* Affected resource ids kept per event; more are dropped (resources_truncated). */
#define NP_AWS_EVENT_MAX_RESOURCES 64

/*
 * An EC2 API call recorded by CloudTrail, as delivered to SQS. A HINT to re-read the resources
 * it names, never a state to apply. All strings are owned (np_aws_event_clean_up).
 */
struct np_aws_event {
    char *event_id;      /* CloudTrail eventID (else the EventBridge id) */
    char *event_name;    /* "AuthorizeSecurityGroupIngress" */
    int64_t event_ms;    /* eventTime (else the envelope's time), epoch milliseconds */
    char *region;        /* awsRegion (else the envelope's region) */
    char *account;       /* envelope account, else recipientAccountId, else userIdentity.accountId;
                            NULL when none is given */
    char *actor;         /* userIdentity.arn (an assumed-role session ARN as is); NULL if absent */
    char *actor_type;    /* userIdentity.type ("IAMUser", "AssumedRole", ...); NULL if absent */
    char *error_code;    /* errorCode of a call AWS refused ("Client.UnauthorizedOperation"), NULL
                            when it succeeded: such a call changed nothing */
    char **resource_ids; /* the EC2 resources the call changed, first seen first, no repeats */
    size_t n_resource_ids;
    bool resources_truncated; /* more than NP_AWS_EVENT_MAX_RESOURCES were named */
};

/*
 * Parses one SQS message body (len bytes; need not be NUL-terminated) into *out: either an
 * EventBridge envelope ({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
 * "detail": {...}, ...}) or a bare CloudTrail record (the detail object on its own). The
 * affected resource ids are collected from requestParameters then responseElements: groupId
 * (also inside a "<Action>Request" wrapper and in securityGroupRuleSet items), vpcId, subnetId,
 * routeTableId, networkAclId, flow log ids, and resourcesSet items' resourceId (CreateTags,
 * DeleteTags); groups named as peers of a rule (ipPermissions, referencedGroupInfo, ...) are
 * not affected resources and are skipped. Values must look like EC2 ids ("sg-0a1b").
 *
 * Pure (no I/O, no clock). *out is overwritten (zeroed on error); the caller owns it on
 * success (np_aws_event_clean_up). Returns NP_EPARSE for malformed JSON, members of the wrong
 * type, or an envelope/record missing a required member (the message names it); NP_ENOTSUP for
 * a well-formed message that is not an EC2 CloudTrail API call (another source, detail-type or
 * eventSource, an S3 notification, an SNS envelope); the caller logs and drops both.
 */
int np_aws_event_parse(const char *body, size_t len, struct np_aws_event *out);
/* Frees the members; safe on a zeroed struct and twice. */
void np_aws_event_clean_up(struct np_aws_event *ev);

/*
 * Checks an event message (body, len: an EventBridge envelope or a bare record, as
 * np_aws_event_parse takes) against the CloudTrail record (record, rec_len) that LookupEvents
 * returned for its event id. Every claim the message makes must be what the record says:
 * eventID, eventName, eventSource, awsRegion, userIdentity.arn, errorCode, requestParameters
 * (deep-equal; absent and null alike), and the account (the record's recipientAccountId equals
 * the message's recipientAccountId and the envelope's account, where given). Pure. Returns 0
 * when the record confirms the message; NP_EDENIED naming the first claim that differs (a
 * forged message); NP_EPARSE when either is not a JSON object.
 */
int np_aws_event_verify(const char *body, size_t len, const char *record, size_t rec_len);

/* ---------------------------------------------------------------- CloudTrail */

struct np_aws_cloudtrail;

/*
 * A CloudTrail client for one (credentials, region) with the EC2 client's settings (cfg; the
 * endpoint is cfg->endpoint > AWS_ENDPOINT_URL_CLOUDTRAIL > AWS_ENDPOINT_URL >
 * https://cloudtrail.<region>.amazonaws.com). Calls use the JSON 1.1 protocol, are signed for
 * "cloudtrail", retried like EC2 calls and paced by a client-side bucket of 2 LookupEvents per
 * second (CloudTrail's limit per account and region; scaled by cfg->rate_scale, off with
 * cfg->no_rate_limit). *out is owned (np_aws_cloudtrail_destroy). NP_EINVAL for a bad config.
 */
int np_aws_cloudtrail_new(struct np_aws_cloudtrail **out, const struct np_aws_ec2_config *cfg);
void np_aws_cloudtrail_destroy(struct np_aws_cloudtrail *ct);
/* The resolved endpoint (borrowed). */
const char *np_aws_cloudtrail_endpoint(const struct np_aws_cloudtrail *ct);
/*
 * LookupEvents with LookupAttributes [{EventId: event_id}]: *record (owned) gets the event's
 * CloudTrailEvent JSON text, or NULL when CloudTrail has no such event (yet: CloudTrail
 * delivers events minutes after the call). Errors as the EC2 operations (NP_ETHROTTLED with
 * "ClientThrottled" when over 2 per second), NP_EPARSE for an undecodable answer.
 */
int np_aws_cloudtrail_lookup_event(struct np_aws_cloudtrail *ct, const char *event_id,
                                   char **record);

#endif
