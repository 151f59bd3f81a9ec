/*
 * A drift item's identity (np_posture_drift_same): the same change of the same rule, tag or
 * VPC piece part, compared by structure; descriptions, observed values and "(is ...)" parts
 * are not identity.
 */
#include "posture_test.h"

#include <criterion/criterion.h>
#include <string.h>

TestSuite(posture_drift_identity, .fini = t_leak_check);

static struct np_posture_drift rule_item(enum np_posture_change change, const char *peer,
                                         const char *description)
{
    struct np_posture_drift d;
    memset(&d, 0, sizeof(d));
    d.change = change;
    d.rule = (struct np_posture_rule){
        NP_POSTURE_INGRESS, (char *)"tcp",      22, 22, NP_POSTURE_PEER_CIDR4,
        (char *)peer,       (char *)description};
    return d;
}

Test(posture_drift_identity, security_group_items)
{
    struct np_posture_drift a = rule_item(NP_POSTURE_DESCRIPTION, "10.0.0.0/8", "old");
    struct np_posture_drift b = rule_item(NP_POSTURE_DESCRIPTION, "10.0.0.0/8", "new");
    cr_expect(np_posture_drift_same(&a, &b), "the description is not the rule's identity");
    struct np_posture_drift c = rule_item(NP_POSTURE_DESCRIPTION, "10.0.0.0/16", "old");
    cr_expect_not(np_posture_drift_same(&a, &c), "another peer");
    struct np_posture_drift e = rule_item(NP_POSTURE_EXTRA, "10.0.0.0/8", "old");
    cr_expect_not(np_posture_drift_same(&a, &e), "another change");
    struct np_posture_drift f = a;
    f.rule.direction = NP_POSTURE_EGRESS;
    cr_expect_not(np_posture_drift_same(&a, &f), "another direction");

    struct np_posture_drift t1, t2;
    memset(&t1, 0, sizeof(t1));
    memset(&t2, 0, sizeof(t2));
    t1.change = t2.change = NP_POSTURE_TAG_CHANGED;
    t1.tag = (struct np_posture_tag){(char *)"env", (char *)"prod"};
    t2.tag = (struct np_posture_tag){(char *)"env", (char *)"prod"};
    t1.observed_value = (char *)"dev";
    t2.observed_value = (char *)"test";
    cr_expect(np_posture_drift_same(&t1, &t2), "the observed value is not identity");
    t2.tag.key = (char *)"team";
    cr_expect_not(np_posture_drift_same(&t1, &t2));
    cr_expect_not(np_posture_drift_same(&t1, &a));
}

Test(posture_drift_identity, vpc_items)
{
    struct np_posture_vpc_drift rv1, rv2;
    memset(&rv1, 0, sizeof(rv1));
    memset(&rv2, 0, sizeof(rv2));
    rv1.item = rv2.item = NP_POSTURE_VPC_ITEM_ROUTE;
    rv1.piece_kind = rv2.piece_kind = NP_POSTURE_PIECE_ROUTE_TABLE;
    rv1.piece = rv2.piece = (char *)"routeTable/private";
    rv1.key = rv2.key = (char *)"0.0.0.0/0";
    rv1.have_route.target = (char *)"igw-1";
    rv2.have_route.target = (char *)"igw-2";
    struct np_posture_drift a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.change = b.change = NP_POSTURE_CHANGED;
    a.vpc = &rv1;
    b.vpc = &rv2;
    cr_expect(np_posture_drift_same(&a, &b), "a route still retargeted elsewhere is the same item");
    rv2.key = (char *)"10.0.0.0/8";
    cr_expect_not(np_posture_drift_same(&a, &b), "another destination");
    rv2.key = rv1.key;
    rv2.piece = (char *)"routeTable/public";
    cr_expect_not(np_posture_drift_same(&a, &b), "another table");
    rv2.piece = rv1.piece;
    rv2.item = NP_POSTURE_VPC_ITEM_NACL_ENTRY;
    cr_expect_not(np_posture_drift_same(&a, &b), "another kind of item");

    struct np_posture_drift sg = rule_item(NP_POSTURE_CHANGED, "0.0.0.0/0", NULL);
    cr_expect_not(np_posture_drift_same(&a, &sg), "a VPC item is never a group's item");

    /* The default group's rules: by rule identity. */
    struct np_posture_vpc_drift dv;
    memset(&dv, 0, sizeof(dv));
    dv.item = NP_POSTURE_VPC_ITEM_DEFAULT_SG;
    dv.piece_kind = NP_POSTURE_PIECE_DEFAULT_SG;
    dv.piece = (char *)"defaultSecurityGroup";
    struct np_posture_drift d1 = rule_item(NP_POSTURE_EXTRA, "0.0.0.0/0", NULL);
    struct np_posture_drift d2 = rule_item(NP_POSTURE_EXTRA, "0.0.0.0/0", "x");
    struct np_posture_drift d3 = rule_item(NP_POSTURE_EXTRA, "10.0.0.0/8", NULL);
    d1.vpc = d2.vpc = d3.vpc = &dv;
    cr_expect(np_posture_drift_same(&d1, &d2));
    cr_expect_not(np_posture_drift_same(&d1, &d3));
}
