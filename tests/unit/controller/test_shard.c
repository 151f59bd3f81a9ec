/*
 * Unit tests for sharding (shard.c): the documented hash (FNV-1a-64 of metadata.uid mod N,
 * vectors computed independently of the code), which work a shard takes (its own postures,
 * guardrails on shard 0 only, accounts everywhere), the per-shard queue URL and Lease name,
 * and the netposture_shard_postures count.
 */
#include "fixture.h"

#include "kube/private/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

Test(controller_shard, hash_is_fnv1a64_of_the_uid_mod_n)
{
    /* FNV-1a-64("a") = 0xaf63dc4c8601ec8c; of "" it is the offset basis 0xcbf29ce484222325. */
    cr_expect_eq(np_hash_str("a"), 0xaf63dc4c8601ec8cULL);
    cr_expect_eq(np_controller_shard_of("a", 2), 0);
    cr_expect_eq(np_controller_shard_of("a", 3), 1);
    cr_expect_eq(np_controller_shard_of("a", 16), 12);
    cr_expect_eq(np_controller_shard_of("", 3), 2);
    /* 0xd5683882207f3830 */
    const char *uid = "3f1c9d2e-8b4a-4c61-9e0f-2a7b5c6d8e91";
    cr_expect_eq(np_controller_shard_of(uid, 2), 0);
    cr_expect_eq(np_controller_shard_of(uid, 3), 1);
    cr_expect_eq(np_controller_shard_of("uid-front", 2), 1);
    cr_expect_eq(np_controller_shard_of("uid-web", 2), 0);
    /* One shard, or no uid: shard 0. */
    cr_expect_eq(np_controller_shard_of(uid, 1), 0);
    cr_expect_eq(np_controller_shard_of(NULL, 4), 0);
}

Test(controller_shard, every_uid_lands_in_range_and_shards_share_the_load)
{
    int hits[4] = {0};
    for (int i = 0; i < 4000; i++) {
        char uid[64];
        snprintf(uid, sizeof(uid), "%08x-1111-4222-8333-%012x", i * 2654435761u, i);
        int s = np_controller_shard_of(uid, 4);
        cr_assert(s >= 0 && s < 4, "%s -> %d", uid, s);
        hits[s]++;
    }
    for (int s = 0; s < 4; s++)
        cr_expect(hits[s] > 800 && hits[s] < 1200, "shard %d got %d of 4000", s, hits[s]);
}

static struct np_controller *bare(int count, int index)
{
    struct np_controller *ctl = np_xcalloc(1, sizeof(*ctl));
    ctl->opts.shard_count = count;
    ctl->opts.shard_index = index;
    return ctl;
}

Test(controller_shard, queue_url_names_the_shard_or_refuses_one_queue_for_many)
{
    struct np_controller *one = bare(1, 0), *second = bare(2, 1);
    const char *plain = "https://sqs.eu-west-1.amazonaws.com/123456789012/netposture-events";
    const char *per = "https://sqs.eu-west-1.amazonaws.com/123456789012/netposture-events-{shard}";
    char *u = np_controller_shard_queue_url(one, plain);
    cr_expect_str_eq(u, plain);
    free(u);
    u = np_controller_shard_queue_url(one, per);
    cr_expect_str_eq(u, "https://sqs.eu-west-1.amazonaws.com/123456789012/netposture-events-0");
    free(u);
    u = np_controller_shard_queue_url(second, per);
    cr_expect_str_eq(u, "https://sqs.eu-west-1.amazonaws.com/123456789012/netposture-events-1");
    free(u);
    cr_expect_null(np_controller_shard_queue_url(second, plain),
                   "several shards cannot share one queue (each would delete the others' events)");
    free(one);
    free(second);
}

Test(controller_shard, lease_and_user_agent_name_the_shard)
{
    struct np_controller *one = bare(0, 0), *third = bare(3, 2);
    char *n = np_controller_shard_lease_name(one, "netposture-controller");
    cr_expect_str_eq(n, "netposture-controller");
    free(n);
    n = np_controller_shard_lease_name(third, "netposture-controller");
    cr_expect_str_eq(n, "netposture-controller-2-of-3");
    free(n);
    cr_expect(!np_controller_sharded(one));
    cr_expect(np_controller_sharded(third));
    cr_expect(!np_controller_shard_writes_shared(third));
    free(one);
    free(third);
}

#define SPEC "{\"ingress\":[{\"protocol\":\"tcp\",\"ports\":\"443\",\"cidrs\":[\"10.0.0.0/8\"]}]}"

static size_t queued(struct fx *fx)
{
    return np_kube_workqueue_len(fx->ctl->queue);
}

Test(controller_shard, a_shard_enqueues_only_its_own_postures)
{
    struct fx fx;
    fx_begin(&fx);
    fx.ctl->opts.shard_count = 2;
    fx.ctl->opts.shard_index = 1;
    fx_put_posture(&fx, "web", SPEC);   /* uid-web: shard 0 */
    fx_put_posture(&fx, "front", SPEC); /* uid-front: shard 1 */
    cr_expect(!np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/web"));
    cr_expect_eq(queued(&fx), 0, "another shard's posture was queued");
    cr_expect(np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/front"));
    cr_expect_eq(queued(&fx), 1);
    /* Gone from the cache: taken (its reconcile only forgets it). */
    cr_expect(np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/gone"));
    /* Guardrail status is shard 0's; accounts are verified by every shard. */
    cr_expect(!np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_GUARDRAIL, "deny-ssh"));
    cr_expect(np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_ACCOUNT, "default"));
    fx.ctl->opts.shard_index = 0;
    cr_expect(np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_GUARDRAIL, "deny-ssh"));
    cr_expect(np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/web"));
    cr_expect(!np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/front"));
    fx_stop(&fx);
}

Test(controller_shard, unsharded_takes_everything)
{
    struct fx fx;
    fx_begin(&fx);
    fx_put_posture(&fx, "web", SPEC);
    fx_put_posture(&fx, "front", SPEC);
    cr_expect(np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/web"));
    cr_expect(np_controller_enqueue(fx.ctl, NP_CONTROLLER_WORK_SGP, FX_NS "/front"));
    cr_expect(np_controller_shard_wants(fx.ctl, NP_CONTROLLER_WORK_GUARDRAIL, "deny-ssh"));
    cr_expect_eq(queued(&fx), 2);
    fx_stop(&fx);
}

Test(controller_shard, the_gauge_counts_this_shards_postures)
{
    struct np_controller *ctl = bare(2, 1);
    ctl->metrics = np_metrics_new();
    np_controller_shard_describe(ctl);
    json_object *web = json_tokener_parse("{\"metadata\":{\"uid\":\"uid-web\"}}");
    json_object *front = json_tokener_parse("{\"metadata\":{\"uid\":\"uid-front\"}}");
    json_object *mail = json_tokener_parse("{\"metadata\":{\"uid\":\"uid-mail\"}}");
    np_controller_shard_count_posture(ctl, web, 1);
    np_controller_shard_count_posture(ctl, front, 1);
    np_controller_shard_count_posture(ctl, mail, 1);
    cr_expect_eq(np_metrics_value(ctl->metrics, "netposture_shard_postures", "shard=\"1\""), 2);
    np_controller_shard_count_posture(ctl, front, -1);
    np_controller_shard_count_posture(ctl, web, -1);
    cr_expect_eq(np_metrics_value(ctl->metrics, "netposture_shard_postures", "shard=\"1\""), 1);
    json_object_put(web);
    json_object_put(front);
    json_object_put(mail);
    np_metrics_destroy(ctl->metrics);
    free(ctl);
}

/* ---------------------------------------------------------------- other shards' postures */

#define FULL_SGP                                                                                   \
    "{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":\"SecurityGroupPosture\","               \
    "\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\",\"uid\":\"uid-web\",\"generation\":3,"  \
    "\"resourceVersion\":\"42\",\"labels\":{\"team\":\"shop\"},\"annotations\":{\"a\":\"b\"},"     \
    "\"finalizers\":[\"netposture.dev/finalizer\"]},"                                              \
    "\"spec\":{\"groupName\":\"shop-web\",\"accountRef\":{\"name\":\"prod\"},\"region\":"          \
    "\"eu-west-1\",\"vpcRef\":{\"name\":\"main\"},\"ingress\":[{\"protocol\":\"tcp\","             \
    "\"ports\":\"443\",\"cidrs\":[\"10.0.0.0/8\"]}]},"                                             \
    "\"status\":{\"groupId\":\"sg-1\",\"vpcId\":\"vpc-1\",\"region\":\"eu-west-1\","               \
    "\"accountId\":\"123456789012\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],"    \
    "\"drift\":{\"count\":1,\"items\":[{\"direction\":\"ingress\"}]},\"plan\":{\"steps\":[]}}}"

#define FULL_VPCP                                                                                  \
    "{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":\"VPCPosture\",\"metadata\":{\"name\":"  \
    "\"main\",\"namespace\":\"shop\",\"uid\":\"uid-web\",\"resourceVersion\":\"7\"},\"spec\":"     \
    "{\"cidrBlock\":\"10.0.0.0/16\",\"accountRef\":{\"name\":\"prod\"},\"subnets\":[{\"name\":"    \
    "\"a\"}]},\"status\":{\"vpcId\":\"vpc-1\",\"region\":\"eu-west-1\","                           \
    "\"defaultSecurityGroupId\":"                                                                  \
    "\"sg-d\",\"flowLogIds\":[\"fl-1\"],\"subnets\":[{\"name\":\"a\",\"subnetId\":\"subnet-1\","   \
    "\"cidrBlock\":\"10.0.1.0/24\"}],\"routeTables\":[{\"name\":\"r\",\"routeTableId\":\"rtb-1\"," \
    "\"routes\":[]}],\"networkAcls\":[{\"networkAclId\":\"acl-1\",\"entries\":[]}],\"drift\":{}}}"

static void expect_json(json_object *obj, const char *want)
{
    json_object *w = json_tokener_parse(want);
    cr_assert_not_null(w, "bad test JSON: %s", want);
    cr_expect(json_object_equal(obj, w), "got %s\nwant %s",
              json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN),
              json_object_to_json_string_ext(w, JSON_C_TO_STRING_PLAIN));
    json_object_put(w);
}

Test(controller_shard, a_stub_keeps_what_other_shards_postures_are_read_for)
{
    json_object *sgp = json_tokener_parse(FULL_SGP);
    np_controller_shard_stub(sgp);
    expect_json(sgp, "{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":"
                     "\"SecurityGroupPosture\",\"metadata\":{\"name\":\"web\",\"namespace\":"
                     "\"shop\",\"uid\":\"uid-web\",\"generation\":3,\"resourceVersion\":\"42\"},"
                     "\"spec\":{\"accountRef\":{\"name\":\"prod\"},\"vpcRef\":{\"name\":\"main\"},"
                     "\"region\":\"eu-west-1\"},\"status\":{\"groupId\":\"sg-1\",\"vpcId\":"
                     "\"vpc-1\",\"region\":\"eu-west-1\"}}");
    /* What the readers across shards call still answers the same. */
    cr_expect(np_controller_uses_vpc_posture(sgp, "shop", "main"));
    cr_expect(np_controller_events_posture_uses_account(sgp, "prod"));
    json_object_put(sgp);

    json_object *vpcp = json_tokener_parse(FULL_VPCP);
    np_controller_shard_stub(vpcp);
    expect_json(vpcp,
                "{\"apiVersion\":\"netposture.dev/v1alpha1\",\"kind\":\"VPCPosture\","
                "\"metadata\":{\"name\":\"main\",\"namespace\":\"shop\",\"uid\":\"uid-web\","
                "\"resourceVersion\":\"7\"},\"spec\":{\"accountRef\":{\"name\":\"prod\"}},"
                "\"status\":{\"vpcId\":\"vpc-1\",\"region\":\"eu-west-1\","
                "\"defaultSecurityGroupId\":\"sg-d\",\"flowLogIds\":[\"fl-1\"],\"subnets\":"
                "[{\"subnetId\":\"subnet-1\"}],\"routeTables\":[{\"routeTableId\":\"rtb-1\"}],"
                "\"networkAcls\":[{\"networkAclId\":\"acl-1\"}]}}");
    json_object_put(vpcp);

    /* A posture not reconciled yet: no status, none made up. */
    json_object *fresh = json_tokener_parse("{\"metadata\":{\"name\":\"x\",\"uid\":\"u\"},"
                                            "\"spec\":{\"ingress\":[]}}");
    np_controller_shard_stub(fresh);
    expect_json(fresh, "{\"metadata\":{\"name\":\"x\",\"uid\":\"u\"}}");
    json_object_put(fresh);
}

Test(controller_shard, only_other_shards_postures_become_stubs_and_never_on_shard_0)
{
    struct np_controller *one = bare(1, 0), *first = bare(2, 0), *second = bare(2, 1);
    json_object *web = json_tokener_parse(FULL_SGP); /* uid-web: shard 0 of 2 */
    json_object *want = json_tokener_parse(FULL_SGP);
    np_controller_shard_transform(one, web);
    cr_expect(json_object_equal(web, want), "unsharded: a posture was cut");
    np_controller_shard_transform(first, web);
    cr_expect(json_object_equal(web, want), "shard 0 (guardrails) cut another shard's posture");
    np_controller_shard_transform(second, web);
    cr_expect_null(np_json_path(web, "spec", "ingress", NP_JSON_END),
                   "shard 1 kept shard 0's spec");
    cr_expect_str_eq(np_json_path_str(web, "status", "groupId", NP_JSON_END), "sg-1");
    json_object_put(web);
    json_object_put(want);
    /* Its own posture stays whole. */
    json_object *front = json_tokener_parse(FULL_SGP);
    json_object_object_add(np_json_path(front, "metadata", NP_JSON_END), "uid",
                           json_object_new_string("uid-front")); /* shard 1 of 2 */
    np_controller_shard_transform(second, front);
    cr_expect_not_null(np_json_path(front, "spec", "ingress", NP_JSON_END));
    cr_expect_not_null(np_json_path(front, "status", "drift", NP_JSON_END));
    json_object_put(front);
    free(one);
    free(first);
    free(second);
}

#define WEB_SPEC                                                                                   \
    "{\"groupName\":\"shop-web\",\"description\":\"web\",\"ingress\":[{\"protocol\":\"tcp\","      \
    "\"fromPort\":443,\"toPort\":443,\"cidrs\":[\"10.0.0.0/8\"]}]}"
#define FRONT_SPEC                                                                                 \
    "{\"groupName\":\"shop-front\",\"description\":\"front\",\"ingress\":[{\"protocol\":\"tcp\","  \
    "\"fromPort\":8080,\"toPort\":8080,\"securityGroups\":[{\"name\":\"web\"}]}]}"

/* Stores the cached posture as shard `index` of 2 keeps it (through the informers' transform). */
static void restore_through_transform(struct fx *fx, const char *key)
{
    struct np_kube_store *store = np_kube_informer_store(fx->ctl->sgp_inf);
    json_object *obj = NULL;
    cr_assert_eq(np_kube_store_get(store, &obj, key), 0);
    np_controller_shard_transform(fx->ctl, obj);
    json_object_object_add(np_json_path(obj, "metadata", NP_JSON_END), "resourceVersion",
                           json_object_new_string("999999"));
    cr_assert_eq(np_kube_store_apply(store, NP_KUBE_MODIFIED, obj, NULL), 0);
    json_object_put(obj);
}

Test(controller_shard, a_peer_of_another_shard_is_resolved_from_its_stub)
{
    struct fx fx;
    fx_start(&fx, NULL);
    struct np_controller_result res;
    fx_put_posture(&fx, "web", WEB_SPEC); /* uid-web: shard 0 of 2 */
    cr_assert_eq(fx_reconcile(&fx, "web", &res), 0, "%s", np_error_message());
    json_object *obj = fx_get(&fx, "web");
    char *web = np_strdup(fx_group_id(obj));
    json_object_put(obj);
    cr_assert_not_null(web);
    /* Now shard 1 of 2: web is another shard's, cached as a stub. */
    fx.ctl->opts.shard_count = 2;
    fx.ctl->opts.shard_index = 1;
    restore_through_transform(&fx, FX_NS "/web");
    json_object *stub = NULL;
    cr_assert_eq(np_kube_store_get(np_kube_informer_store(fx.ctl->sgp_inf), &stub, FX_NS "/web"),
                 0);
    cr_assert_null(np_json_path(stub, "spec", "ingress", NP_JSON_END), "not a stub");
    json_object_put(stub);
    fx_put_posture(&fx, "front", FRONT_SPEC); /* uid-front: shard 1 of 2 */
    cr_assert_eq(fx_reconcile(&fx, "front", &res), 0, "%s", np_error_message());
    obj = fx_get(&fx, "front");
    cr_expect_str_eq(fx_cond(obj, "Ready", NULL), "True");
    char *front = np_strdup(fx_group_id(obj));
    json_object_put(obj);
    cr_expect(fake_ec2_has_group_rule(fx.ec2, front, false, "tcp", 8080, 8080, web),
              "the rule does not name the peer's group %s", web);
    free(front);
    free(web);
    fx_stop(&fx);
}

Test(controller_shard, the_snapshot_keeps_only_this_shards_groups)
{
    struct fx fx;
    fx_begin(&fx);
    fx.ctl->opts.shard_count = 2;
    fx.ctl->opts.shard_index = 1;
    const char *theirs = fake_ec2_add_group(fx.ec2, "shop-web", "web", NULL);
    fake_ec2_set_tag(fx.ec2, theirs, NP_POSTURE_TAG_OWNER, FX_NS "/web");
    fake_ec2_set_tag(fx.ec2, theirs, NP_POSTURE_TAG_UID, "uid-web"); /* shard 0 */
    const char *ours = fake_ec2_add_group(fx.ec2, "shop-front", "front", NULL);
    fake_ec2_set_tag(fx.ec2, ours, NP_POSTURE_TAG_OWNER, FX_NS "/front");
    fake_ec2_set_tag(fx.ec2, ours, NP_POSTURE_TAG_UID, "uid-front"); /* shard 1 */
    const char *unknown = fake_ec2_add_group(fx.ec2, "shop-old", "old", NULL);
    fake_ec2_set_tag(fx.ec2, unknown, NP_POSTURE_TAG_OWNER, FX_NS "/old"); /* no uid */
    fx_account(&fx, NULL, true);
    struct np_controller_account_hold use;
    cr_assert_eq(np_controller_account_use(fx.ctl, "default", FX_NS, NULL, &use), 0);
    struct np_aws_sg *sg = NULL;
    cr_expect_eq(np_controller_region_snapshot_get(use.region, theirs, &sg), NP_ENOTFOUND,
                 "another shard's group is in the snapshot");
    np_aws_sg_free(sg);
    cr_expect_eq(np_controller_region_snapshot_get(use.region, ours, &sg), 0);
    np_aws_sg_free(sg);
    cr_expect_eq(np_controller_region_snapshot_get(use.region, unknown, &sg), 0,
                 "a group whose shard is not known was left out");
    np_aws_sg_free(sg);
    np_controller_account_hold_clean_up(&use);
    fx_stop(&fx);
}
