/*
 * Internals of pkg/aws shared between its files and its unit tests: the form encoder, the
 * retry policy (pure decisions plus the shared quota), the client-side token buckets, the XML
 * walker and decoders (pure functions over a byte buffer), the pager, the shared pieces of the
 * typed EC2 operations and the transport seam that tests replace.
 */
#ifndef NP_AWS_PRIVATE_AWS_PRIVATE_H
#define NP_AWS_PRIVATE_AWS_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>

#include "aws/aws.h"

#define NP_AWS_EC2_VERSION "2016-11-15"
#define NP_AWS_STS_VERSION "2011-06-15"
#define NP_AWS_SQS_VERSION "2012-11-05"

/* ---------------------------------------------------------------- form bodies */

/* Starts a Query API body "Action=<action>&Version=<version>" in b (reset first). */
int np_aws_form_begin(struct np_buf *b, const char *action, const char *version);
/* Appends "&key=value", both form-encoded (unreserved bytes kept, space as '+', else %XX). */
int np_aws_form_add(struct np_buf *b, const char *key, const char *value);
/* Same with a printf-formatted key ("IpPermissions.%zu.IpProtocol"). */
int np_aws_form_addf(struct np_buf *b, const char *value, const char *key_fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends Filter.N.Name / Filter.N.Value.M. Returns NP_EINVAL for a filter without a name. */
int np_aws_form_add_filters(struct np_buf *b, const struct np_aws_filter *filters, size_t n);
/*
 * Appends <prefix>Tag.N.Key and <prefix>Tag.N.Value for each tag (a NULL value as ""). Returns
 * NP_EINVAL for a tag without a key.
 */
int np_aws_form_add_tags(struct np_buf *b, const char *prefix, const struct np_aws_tag *tags,
                         size_t n);
/*
 * Appends TagSpecification.1.ResourceType=<resource_type> ("vpc", "security-group", ...) and
 * the tags as TagSpecification.1.Tag.N; nothing when n == 0. Returns NP_EINVAL for a tag
 * without a key.
 */
int np_aws_form_add_tag_spec(struct np_buf *b, const char *resource_type,
                             const struct np_aws_tag *tags, size_t n);
/*
 * Appends each perm, after dropping repeats of the same rule (first wins), as its own
 * IpPermissions.N; descriptions only when with_descriptions. *n_sent (optional) gets the
 * number of IpPermissions written. Returns NP_EINVAL for a perm without protocol or peer.
 */
int np_aws_form_add_perms(struct np_buf *b, const struct np_aws_perm *perms, size_t n,
                          bool with_descriptions, size_t *n_sent);

/* ---------------------------------------------------------------- retries */

/* How a finished attempt failed at the transport level. */
enum np_aws_transport_status {
    NP_AWS_TRANSPORT_OK = 0,   /* a response arrived (any HTTP status) */
    NP_AWS_TRANSPORT_NETWORK,  /* connect/send/receive failure: retryable */
    NP_AWS_TRANSPORT_TIMEOUT,  /* the attempt timed out: retryable at a higher cost */
    NP_AWS_TRANSPORT_FATAL,    /* TLS verification, bad URL, ...: never retried */
    NP_AWS_TRANSPORT_CANCELED, /* the call's cancel flag was raised: never retried */
};

enum np_aws_retry_kind {
    NP_AWS_RETRY_NONE = 0,
    NP_AWS_RETRY_THROTTLE,  /* RequestLimitExceeded, Throttling, ... */
    NP_AWS_RETRY_TRANSIENT, /* 5xx, InternalError, connection errors */
    NP_AWS_RETRY_TIMEOUT,   /* timeouts (cost more quota) */
};

struct np_aws_retry_policy {
    int max_attempts;         /* including the first */
    int64_t base_ms;          /* full-jitter base for transient errors */
    int64_t throttle_base_ms; /* full-jitter base for throttling */
    int64_t cap_ms;           /* largest delay */
    int retry_cost;           /* quota tokens per retry */
    int timeout_retry_cost;   /* quota tokens per retry after a timeout */
    int no_retry_increment;   /* tokens refunded by a first-try success */
};

/* AWS standard mode with a 4-attempt limit and 100 ms / 500 ms bases. */
#define NP_AWS_RETRY_POLICY_DEFAULT                                                                \
    {                                                                                              \
        4, 100, 500, 20000, 5, 10, 1                                                               \
    }
#define NP_AWS_RETRY_QUOTA_CAPACITY 500

/* Whether and how an attempt's outcome is retryable (pure). */
enum np_aws_retry_kind np_aws_retry_classify(enum np_aws_transport_status ts, long http_status,
                                             const char *aws_code);
/* False for creates without ClientToken, whose unknown outcomes must not be retried. */
bool np_aws_action_is_repeatable(const char *action);
/* True for throttling error codes (RequestLimitExceeded, Throttling, ...). */
bool np_aws_code_is_throttling(const char *aws_code);

/*
 * Full-jitter delay before retry number `retry` (1 = the first retry):
 * rand_below(min(base * 2^(retry-1), cap) + 1), base by kind (pure given rand_below).
 */
int64_t np_aws_retry_delay_ms(const struct np_aws_retry_policy *p, enum np_aws_retry_kind kind,
                              int retry, uint64_t (*rand_below)(void *ctx, uint64_t n),
                              void *rand_ctx);

/* The client-wide retry token bucket (thread-safe). */
struct np_aws_retry_quota {
    pthread_mutex_t lock;
    int capacity;
    int available;
};
void np_aws_retry_quota_init(struct np_aws_retry_quota *q, int capacity);
void np_aws_retry_quota_destroy(struct np_aws_retry_quota *q);
/* Takes cost tokens if that many are available. */
bool np_aws_retry_quota_acquire(struct np_aws_retry_quota *q, int cost);
/* Returns tokens, never above capacity. */
void np_aws_retry_quota_release(struct np_aws_retry_quota *q, int amount);
int np_aws_retry_quota_available(struct np_aws_retry_quota *q);

/*
 * The retry decision after failed attempt number `attempt` (1-based) of the given kind: no
 * when the kind is NONE, the attempts are used up, or the quota cannot pay; otherwise takes
 * the cost from the quota, adds it to *taken and returns true.
 */
bool np_aws_retry_decide(const struct np_aws_retry_policy *p, struct np_aws_retry_quota *q,
                         enum np_aws_retry_kind kind, int attempt, int *taken);
/* After a success: refunds no_retry_increment when nothing was taken, else what was taken. */
void np_aws_retry_on_success(const struct np_aws_retry_policy *p, struct np_aws_retry_quota *q,
                             int taken);

/* ---------------------------------------------------------------- JSON protocol */

/*
 * A JSON 1.1 protocol error body ({"__type": "[namespace#]Code", "message": "..."}; "Message"
 * also accepted): *code (required, namespace dropped) and *message (NULL when absent), owned.
 * NP_EPARSE when the body is not such an object.
 */
int np_aws_json_decode_error(const char *body, size_t len, char **code, char **message);
/*
 * A LookupEvents answer ({"Events": [{"EventId", "CloudTrailEvent", ...}], "NextToken"}): *record
 * (owned) gets the CloudTrailEvent text of the event whose EventId is event_id, NULL when none.
 * NP_EPARSE for a malformed answer or a matching event without CloudTrailEvent.
 */
int np_aws_cloudtrail_decode_lookup(const char *body, size_t len, const char *event_id,
                                    char **record);

/* ---------------------------------------------------------------- client-side rate limits */

/*
 * EC2's throttling categories as client-side token buckets. AWS keeps one bucket
 * per action; netposture keeps one per category, which is stricter.
 */
enum np_aws_rate_category {
    NP_AWS_RATE_UNLIMITED = 0, /* non-EC2 services (STS, SQS) */
    NP_AWS_RATE_DESCRIBE,      /* Describe*, List*, Search*, Get*: 100 burst, 20/s */
    NP_AWS_RATE_SG_INGRESS,    /* Authorize/RevokeSecurityGroupIngress: 50 burst, 5/s */
    NP_AWS_RATE_TAGS,          /* CreateTags, DeleteTags: 100 burst, 10/s */
    NP_AWS_RATE_MUTATING,      /* every other EC2 action: 50 burst, 5/s */
    NP_AWS_RATE_LOOKUP_EVENTS, /* CloudTrail LookupEvents: 2 burst, 2/s (per account, region) */
    NP_AWS_RATE_N_CATEGORIES
};

#define NP_AWS_RATE_MAX_WAIT_MS_DEFAULT 1000
#define NP_AWS_RATE_SCALE_MAX 1000.0
#define NP_AWS_RATE_MAX_WAIT_MS_MAX 600000

/* The category of a call (pure): service "ec2" and the action name. */
enum np_aws_rate_category np_aws_rate_category_of(const char *service, const char *action);
/* "describe", "security-group-ingress", "tags", "mutating", "unlimited". */
const char *np_aws_rate_category_name(enum np_aws_rate_category cat);

/* One bucket in micro-tokens; tokens_u goes below zero while callers wait for reserved tokens. */
struct np_aws_token_bucket {
    int64_t capacity_u;
    int64_t rate_u_per_s;
    int64_t tokens_u;
    int64_t last_ms; /* monotonic time of the last refill */
};

struct np_aws_rate_limiter {
    pthread_mutex_t lock;
    const struct np_clock *clock; /* mono_ms only */
    bool disabled;
    int64_t max_wait_ms;
    struct np_aws_token_bucket buckets[NP_AWS_RATE_N_CATEGORIES];
};

/*
 * Starts every bucket full. scale (<= 0: 1.0) multiplies each burst (at least one token) and
 * refill rate; max_wait_ms 0 means NP_AWS_RATE_MAX_WAIT_MS_DEFAULT, < 0 never waiting. clock
 * NULL: the system clock. disabled: every take succeeds at once.
 */
void np_aws_rate_limiter_init(struct np_aws_rate_limiter *rl, const struct np_clock *clock,
                              bool disabled, double scale, int64_t max_wait_ms);
void np_aws_rate_limiter_destroy(struct np_aws_rate_limiter *rl);
/*
 * Takes one token of cat (thread-safe). Returns 0 with *wait_ms = how long the caller must
 * sleep before sending (0: now; the token is reserved either way), or NP_ETHROTTLED without
 * taking anything when the wait would exceed max_wait_ms (*wait_ms then says how long it would
 * have been). UNLIMITED always returns 0 at once. Sets no error message.
 */
int np_aws_rate_limiter_take(struct np_aws_rate_limiter *rl, enum np_aws_rate_category cat,
                             int64_t *wait_ms);
/* The scaled burst and refill rate per second of cat (0, 0 for UNLIMITED). */
void np_aws_rate_limiter_budget(const struct np_aws_rate_limiter *rl, enum np_aws_rate_category cat,
                                double *burst, double *per_s);

/* ---------------------------------------------------------------- XML walker */

#define NP_AWS_XW_MAX_DEPTH 48
#define NP_AWS_XW_NAME_MAX 64

/*
 * The expat walker under every decoder: it keeps the stack of local element names (namespaces
 * ignored), refuses DTDs, collects each element's text, and calls on_start when an element
 * opens and on_end when it closes. depth counts the element itself (the root is 1). A handler
 * that returns non-zero stops the parse with that code. Zero the struct, set root (NULL: any),
 * the handlers and ctx, then call np_aws_xw_parse.
 */
struct np_aws_xw;
typedef int (*np_aws_xw_start_fn)(struct np_aws_xw *w, const char *name);
typedef int (*np_aws_xw_end_fn)(struct np_aws_xw *w, const char *name, const char *text);

struct np_aws_xw {
    void *parser; /* the XML_Parser while parsing */
    char names[NP_AWS_XW_MAX_DEPTH][NP_AWS_XW_NAME_MAX];
    int depth;
    struct np_buf text;
    const char *root;            /* expected root element, NULL: any */
    np_aws_xw_start_fn on_start; /* optional */
    np_aws_xw_end_fn on_end;     /* optional */
    void *ctx;
    int rc;
};

/* Parses len bytes of xml; returns the first handler error, or NP_EPARSE for bad XML. */
int np_aws_xw_parse(struct np_aws_xw *w, const char *xml, size_t len);
/* The name k levels above the current element (0: the current one); "" beyond the root. */
const char *np_aws_xw_up(const struct np_aws_xw *w, int k);
bool np_aws_xw_up_is(const struct np_aws_xw *w, int k, const char *name);
/* The name of the open element at depth d (the root is 1); "" when nothing is open there. */
const char *np_aws_xw_at(const struct np_aws_xw *w, int d);
/* Replaces *dst with a copy of text. */
void np_aws_xml_set_str(char **dst, const char *text);
/*
 * Room for `add` more elements of `elem` bytes after the n of arr (grown only by this function,
 * NULL when n is 0): the capacity doubles, so appending n elements one at a time copies O(n)
 * bytes whatever realloc does (under ASan, and other allocators, realloc always moves). Returns
 * the array to store back; the caller counts the elements.
 */
void *np_aws_xml_append(void *arr, size_t n, size_t add, size_t elem);
/* "true" / "false", else NP_EPARSE naming `what`. */
int np_aws_xml_parse_bool(const char *text, const char *what, bool *out);
/* A decimal integer in [min, max] (within int), else NP_EPARSE naming `what`. */
int np_aws_xml_parse_int(const char *text, const char *what, int64_t min, int64_t max, int *out);

/*
 * One kind of Describe answer: a list of `set` items under `root`, each a struct of `elem`
 * bytes with an owned id and tags at the given offsets. np_aws_xml_decode_list handles
 * nextToken, the item array, each item's tagSet and its required id; everything else below an
 * item goes to the kind's handlers, which get the item being filled and a scratch word zeroed
 * at every item (for the kind's own bookkeeping).
 */
struct np_aws_xml_list {
    const char *root;    /* "DescribeSubnetsResponse" */
    const char *set;     /* "subnetSet" */
    const char *id_name; /* "subnetId": required in every item */
    size_t elem;         /* sizeof an item */
    size_t id_off;       /* offsetof its char *id */
    size_t tags_off;     /* offsetof its struct np_aws_tag *tags */
    size_t n_tags_off;   /* offsetof its size_t n_tags */
    /* an element opens below the item (depth >= 5, tagSet items excepted); optional */
    int (*start)(struct np_aws_xw *w, void *item, unsigned *seen, const char *name);
    /* an element closes below the item (depth >= 4, tagSet excepted); required */
    int (*end)(struct np_aws_xw *w, void *item, unsigned *seen, const char *name, const char *text);
    void (*free_items)(void *items, size_t n); /* frees an array of n items */
};

/* The kinds: DescribeVpcs (xml.c), DescribeSubnets, DescribeRouteTables, DescribeNetworkAcls
 * and DescribeFlowLogs (xml_vpc.c). */
extern const struct np_aws_xml_list np_aws_xml_vpcs;
extern const struct np_aws_xml_list np_aws_xml_subnets;
extern const struct np_aws_xml_list np_aws_xml_route_tables;
extern const struct np_aws_xml_list np_aws_xml_nacls;
extern const struct np_aws_xml_list np_aws_xml_flow_logs;

/*
 * Decodes one page of a kind: *items (an array of *n items of kind->elem bytes, NULL when
 * none; free with kind->free_items) and *next_token (optional; NULL when absent or empty).
 */
int np_aws_xml_decode_list(const struct np_aws_xml_list *kind, const char *xml, size_t len,
                           void **items, size_t *n, char **next_token);

/* ---------------------------------------------------------------- XML decoders */

/*
 * All decoders parse with expat by local element name (namespaces ignored), refuse DTDs,
 * and return NP_EPARSE (with the reason in np_error_message) for malformed XML, an unexpected
 * root element or a malformed value. Outputs are owned by the caller and untouched on error.
 */

/* Error documents: <Response><Errors><Error><Code>… and <ErrorResponse>… (EC2, STS, moto
 * IAM). *code is required in the document; message and request id may come back NULL. */
int np_aws_xml_decode_error(const char *xml, size_t len, char **code, char **message,
                            char **request_id);
/* One DescribeSecurityGroups page, grouped IpPermissions expanded to atomic perms. */
int np_aws_xml_decode_sg_page(const char *xml, size_t len, struct np_aws_sg **sgs, size_t *n,
                              char **next_token);
/*
 * The text of <root>/<name> (parent NULL) or <root>/<parent>/<name>: the id a Create* call
 * answers ("CreateVpcResponse", "vpc", "vpcId"), a DescribeVpcAttribute value. NP_EPARSE when it
 * is absent or empty. *value is owned by the caller.
 */
int np_aws_xml_decode_value(const char *xml, size_t len, const char *root, const char *parent,
                            const char *name, char **value);
/* CreateSecurityGroupResponse/groupId. */
int np_aws_xml_decode_create_sg(const char *xml, size_t len, char **group_id);
/*
 * A CreateFlowLogs or DeleteFlowLogs answer under root: *flow_log_id (optional) gets the first
 * flowLogIdSet item, *n_unsuccessful the number of unsuccessful items, *error_code and
 * *error_message the first one's error (strings NULL when absent; owned by the caller).
 */
int np_aws_xml_decode_flow_logs_result(const char *xml, size_t len, const char *root,
                                       char **flow_log_id, size_t *n_unsuccessful,
                                       char **error_code, char **error_message);
/* One DescribeVpcs page (np_aws_xml_decode_list of np_aws_xml_vpcs). */
int np_aws_xml_decode_vpc_page(const char *xml, size_t len, struct np_aws_vpc **vpcs, size_t *n,
                               char **next_token);
/* GetCallerIdentityResponse/GetCallerIdentityResult/{Account,Arn,UserId}. */
/*
 * The credentials of an STS <action> answer (AssumeRole, AssumeRoleWithWebIdentity): *creds
 * (owned), *expires_ms (epoch ms) and, when arn is not NULL, the AssumedRoleUser's Arn (owned,
 * NULL when absent). NP_EPARSE naming a missing member or a bad Expiration.
 */
int np_aws_xml_decode_sts_credentials(const char *xml, size_t len, const char *action,
                                      struct np_aws_credentials *creds, int64_t *expires_ms,
                                      char **arn);
int np_aws_xml_decode_caller_identity(const char *xml, size_t len, char **account, char **arn,
                                      char **user_id);
/*
 * A mutating call's response under the root `<expected_root>`: *has_return / *ret from
 * <return>, *n_unknown = the items of unknownIpPermissionSet (Revoke*). Outputs optional.
 */
int np_aws_xml_decode_return(const char *xml, size_t len, const char *expected_root, bool *ret,
                             bool *has_return, size_t *n_unknown);

/*
 * SQS ReceiveMessageResponse/ReceiveMessageResult/Message*: MessageId, ReceiptHandle and Body
 * are required; MD5OfBody, when present, must match the body; the ApproximateReceiveCount and
 * SentTimestamp attributes are read when present. *msgs is NULL when *n is 0.
 */
int np_aws_xml_decode_sqs_messages(const char *xml, size_t len, struct np_aws_sqs_message **msgs,
                                   size_t *n);
/*
 * SQS GetQueueAttributesResponse/GetQueueAttributesResult/Attribute{Name,Value}: *value gets
 * the value of the attribute `name` (owned), NULL when absent.
 */
int np_aws_xml_decode_sqs_attribute(const char *xml, size_t len, const char *name, char **value);

/* ---------------------------------------------------------------- pagination */

/* Fetches one page: next_token is NULL for the first page; the page body goes into *body. */
typedef int (*np_aws_page_fetch_fn)(void *ctx, const char *next_token, struct np_buf *body);

/* Bounds of one listing; 0 in a field (or a NULL pointer) means the default: 1000 pages,
 * 512 MiB of response bodies in all. */
struct np_aws_page_limits {
    int max_pages;
    size_t max_bytes;
};

/*
 * Fetches and decodes pages until nextToken is absent or empty, concatenating the results.
 * A listing that does not end is an error, never a loop: more pages or bytes than limits allow
 * gives NP_ENOTSUP; a nextToken seen before in the same listing (a cycle, or the same token
 * again) or longer than 8 KiB gives NP_EPARSE; the message names the action and the page.
 * *out / *n_out are set only on success (owned by the caller).
 */
int np_aws_sg_paginate(struct np_aws_sg **out, size_t *n_out,
                       const struct np_aws_page_limits *limits, np_aws_page_fetch_fn fetch,
                       void *ctx);
int np_aws_vpc_paginate(struct np_aws_vpc **out, size_t *n_out,
                        const struct np_aws_page_limits *limits, np_aws_page_fetch_fn fetch,
                        void *ctx);
/* The same for any list kind: *out is an array of kind->elem-byte items (kind->free_items). */
int np_aws_list_paginate(void **out, size_t *n_out, const struct np_aws_xml_list *kind,
                         const struct np_aws_page_limits *limits, np_aws_page_fetch_fn fetch,
                         void *ctx);

/* ---------------------------------------------------------------- EC2 operation helpers */

/* The response member of a route destination ("destinationCidrBlock", ...; static); the Query
 * parameter is the same with an upper-case first letter. */
const char *np_aws_route_dest_name(enum np_aws_route_dest d);

/*
 * A paginated Describe call: Action, Filter.N, MaxResults=page_size (AWS's bounds for the
 * action), NextToken, decoded as kind. *out / *n_out as np_aws_list_paginate (NULL, 0 on
 * error).
 */
int np_aws_ec2_describe_list(struct np_aws_ec2 *c, const char *action, int page_size,
                             const struct np_aws_xml_list *kind,
                             const struct np_aws_filter *filters, size_t n_filters, void **out,
                             size_t *n_out);
/*
 * Checks a mutating call's answer under <action>Response: <return>false</return> fails it
 * (code "ReturnFalse", NP_EIO); with revoke, a non-empty unknownIpPermissionSet fails it as
 * InvalidPermission.NotFound (NP_ENOTFOUND). No <return> (moto) is success.
 */
int np_aws_ec2_check_return(const char *action, const struct np_buf *body, bool revoke);
/*
 * Sends an EC2 Query call whose 2xx answer check reads inside the call (struct np_aws_call's
 * check: a failure it reports is observed with its code); the body is not kept. Errors as
 * np_aws_call_send, or check's.
 */
int np_aws_ec2_checked_call(struct np_aws_ec2 *c, const char *action, const struct np_buf *form,
                            int (*check)(void *ctx, const char *action, const struct np_buf *body),
                            void *check_ctx);
/*
 * Sends an EC2 call whose answer is only <return> (and, with revoke, unknownIpPermissionSet)
 * and checks it with np_aws_ec2_check_return inside the call, so that a 200 reporting a
 * failure is observed as an error. Errors as np_aws_call_send and np_aws_ec2_check_return.
 */
int np_aws_ec2_return_call(struct np_aws_ec2 *c, const char *action, const struct np_buf *form,
                           bool revoke);

/* ---------------------------------------------------------------- transport and client */

/* One HTTP POST. headers are complete "Name: value" lines. Borrowed. */
struct np_aws_http_request {
    const char *method; /* NULL or "POST" (with body), "GET", "PUT" (with body) */
    const char *url;
    const char *const *headers;
    size_t n_headers;
    const char *body;
    size_t body_len;
    int64_t timeout_ms;        /* the whole attempt */
    const atomic_bool *cancel; /* optional: abort the transfer once it reads true */
};

struct np_aws_http_response {
    enum np_aws_transport_status transport;
    long status;        /* HTTP status when transport == OK */
    struct np_buf body; /* the response body */
    char error[256];    /* the transport error text otherwise */
};

typedef void (*np_aws_transport_fn)(void *ctx, const struct np_aws_http_request *req,
                                    struct np_aws_http_response *resp);

/* Seams for unit tests; any NULL member keeps the production behaviour. */
struct np_aws_test_hooks {
    np_aws_transport_fn transport;                 /* default: libcurl */
    void (*sleep_ms)(void *ctx, int64_t ms);       /* default: np_sleep_ms */
    uint64_t (*rand_below)(void *ctx, uint64_t n); /* default: np_rand_below */
    void *ctx;
};
/* Installs hooks before any call is made (not thread-safe). */
void np_aws_ec2_set_test_hooks(struct np_aws_ec2 *c, const struct np_aws_test_hooks *hooks);

/* Tokens left in the client's retry quota (for tests and debugging). */
int np_aws_ec2_retry_quota_available(struct np_aws_ec2 *c);

enum np_aws_service {
    NP_AWS_SERVICE_EC2 = 0,
    NP_AWS_SERVICE_STS,
    NP_AWS_SERVICE_SQS,
    NP_AWS_SERVICE_CLOUDTRAIL,
    NP_AWS_N_SERVICES
};

/* np_aws_client_new flags. */
enum {
    NP_AWS_CLIENT_ENDPOINTS = 1, /* resolve the EC2 and STS endpoints (np_aws_ec2_new); without,
                                    every call must name its URL (SQS) */
    NP_AWS_CLIENT_ANONYMOUS = 2, /* no credentials needed: calls go unsigned (the STS client of
                                    AssumeRoleWithWebIdentity, the metadata endpoints) */
};

/*
 * Creates the client core shared by the EC2 and SQS clients (configuration, credential
 * provider, connection pool, retry quota, token buckets) with NP_AWS_CLIENT_* flags.
 */
int np_aws_client_new(struct np_aws_ec2 **out, const struct np_aws_ec2_config *cfg, unsigned flags);

/* One plain HTTP exchange through the client's transport (TLS settings, timeouts, test hooks):
 * no signing, no retries (the metadata endpoints). */
void np_aws_client_http(struct np_aws_ec2 *c, const struct np_aws_http_request *req,
                        struct np_aws_http_response *resp);
/* The client's clock, wall time. */
int64_t np_aws_client_now_ms(const struct np_aws_ec2 *c);

/* ---------------------------------------------------------------- credential sources */

/* One fetch: fresh credentials (owned), their expiry (wall ms, 0: never) and, from STS, the
 * assumed role's ARN (owned, may be NULL). */
struct np_aws_fetched {
    struct np_aws_credentials creds;
    int64_t expires_ms;
    char *arn;
};

/* A credential source (sources.c), owned by its provider. */
struct np_aws_source {
    enum np_aws_cred_source kind;    /* never DEFAULT once resolved, unless broken */
    bool from_chain;                 /* picked by the default chain */
    enum np_aws_cred_failure broken; /* != OK: it cannot work; every fetch fails so */
    char *broken_msg;
    struct np_aws_credentials keys;             /* ENVIRONMENT, STATIC */
    char *role_arn, *token_file, *session_name; /* WEB_IDENTITY */
    bool token_from_spec; /* token_file came from the config, not the environment */
    char **token_dirs;
    size_t n_token_dirs;
    char *url;                 /* CONTAINER: the full URI; INSTANCE_METADATA: the base URL */
    struct np_aws_ec2 *client; /* STS (anonymous) or the metadata endpoint's plain client */
};

/* STS AssumeRole parameters (owned by the provider). */
struct np_aws_assume_role {
    char *role_arn, *external_id, *session_name;
    int duration_seconds;
};

/* Resolves cfg->source (the default chain) and prepares the source; no I/O. A source that
 * cannot work is returned broken, not as an error; NP_EINVAL for missing STATIC keys. */
int np_aws_source_init(struct np_aws_source *s, const struct np_aws_provider_config *cfg);
int np_aws_source_fetch(struct np_aws_source *s, struct np_aws_fetched *out,
                        enum np_aws_cred_failure *why);
void np_aws_source_clean_up(struct np_aws_source *s);
/* STS AssumeRole through sts (a client signed with the base credentials). */
int np_aws_fetch_assume_role(struct np_aws_ec2 *sts, const struct np_aws_assume_role *ar,
                             struct np_aws_fetched *out, enum np_aws_cred_failure *why);
/* Parses a container / IMDS credential document (JSON: AccessKeyId, SecretAccessKey, Token,
 * Expiration, optional Code that must be "Success"); at most 64 KiB. NP_EPARSE naming what is
 * wrong. */
int np_aws_parse_credential_document(const char *text, size_t len, struct np_aws_fetched *out);
/* A RoleSessionName from want ("netposture" when empty): [\w+=,.@-]{2,64}, others as '-'. */
void np_aws_session_name(char *out, size_t size, const char *want);
bool np_aws_imds_disabled(void);
const char *np_aws_chain_tried(void);

/* Installs test hooks on every client a provider uses (its STS and metadata clients, and its
 * base provider's), before the first np_aws_provider_get. */
void np_aws_provider_set_test_hooks(struct np_aws_provider *p,
                                    const struct np_aws_test_hooks *hooks);

/* One Query API (or JSON 1.1) call. Borrowed. */
struct np_aws_call {
    enum np_aws_service service; /* signing name, messages, observer, token bucket */
    const char *action;          /* the form body must start with Action=<action> */
    const struct np_buf *form;   /* the body: a Query form, or JSON with json_target */
    const char *json_target;     /* NULL: Query API; else the JSON 1.1 protocol with this
                                    X-Amz-Target ("<prefix>.<Action>"), errors decoded as JSON */
    const char *url;             /* NULL: the client's endpoint for the service */
    int64_t extra_timeout_ms;    /* added to the client's attempt timeout (long polls) */
    const atomic_bool *cancel;   /* optional: checked before and during every attempt */
    /* Optional: reads a 2xx answer for failures its payload reports (unsuccessful items,
     * return=false). Returns 0, or an error set with np_aws_error_record, whose AWS code the
     * observer then reports for the attempt instead of "OK" ("InvalidResponse" for an error
     * without one). */
    int (*check)(void *ctx, const char *action, const struct np_buf *body);
    void *check_ctx;
};

/*
 * Signs and sends one call with retries (and, for EC2, a token from the client-side bucket of
 * the action's category first). On success (2xx) returns 0 with the body in *resp_body;
 * otherwise the mapped NP code, with np_aws_error_last() and np_error_message() set:
 * NP_ECANCELED when the cancel flag was raised, NP_ETHROTTLED with code "ClientThrottled"
 * when the client-side budget is exhausted (nothing sent for that attempt).
 */
int np_aws_call_send(struct np_aws_ec2 *c, const struct np_aws_call *call,
                     struct np_buf *resp_body);
/* np_aws_call_send to the client's own endpoint for svc (EC2 or STS). */
int np_aws_query_call(struct np_aws_ec2 *c, enum np_aws_service svc, const char *action,
                      const struct np_buf *form, struct np_buf *resp_body);

/* Hooks for an SQS client's core (see np_aws_ec2_set_test_hooks). */
void np_aws_sqs_set_test_hooks(struct np_aws_sqs *q, const struct np_aws_test_hooks *hooks);
/* Hooks for a CloudTrail client's core (see np_aws_ec2_set_test_hooks). */
void np_aws_cloudtrail_set_test_hooks(struct np_aws_cloudtrail *ct,
                                      const struct np_aws_test_hooks *hooks);
/*
 * The URL an SQS call for queue_url goes to: queue_url itself, or, when an SQS endpoint
 * override is configured, its path on the override's scheme, host and port. *out is owned.
 * Returns NP_EINVAL for a queue URL that is not http(s) with a path.
 */
int np_aws_sqs_request_url(struct np_aws_sqs *q, const char *queue_url, char **out);

/*
 * The configured endpoint override for a service, without the public default: override >
 * AWS_ENDPOINT_URL_<SERVICE> > AWS_ENDPOINT_URL (the variables skipped when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is "true"). *out (owned) is NULL when none is configured.
 * Returns NP_EINVAL for a chosen URL that is not http:// or https://.
 */
int np_aws_endpoint_override(char **out, const char *service, const char *override);
/* Records a synthesized failure (e.g. a 200 carrying unknownIpPermissionSet) as the last
 * error of this thread and returns np_error_set(code, ...). */
int np_aws_error_record(const char *action, const char *aws_code, const char *message, int np_code);

#endif
