/*
 * A security group as pkg/posture reads it: its permissions as raw observed rules (normalised
 * to the canonical atomic form by np_posture_observed) and its tags.
 */
#include "observe/observe.h"

#include <stdlib.h>

/* pkg/aws and pkg/posture peer kinds are the same values (cast into each other). */
_Static_assert((int)NP_POSTURE_PEER_CIDR4 == (int)NP_AWS_PEER_CIDR4 &&
                   (int)NP_POSTURE_PEER_CIDR6 == (int)NP_AWS_PEER_CIDR6 &&
                   (int)NP_POSTURE_PEER_PREFIX_LIST == (int)NP_AWS_PEER_PREFIX_LIST &&
                   (int)NP_POSTURE_PEER_GROUP == (int)NP_AWS_PEER_GROUP,
               "peer kinds of pkg/posture and pkg/aws");

void np_observe_tags(struct np_posture_tag *out, const struct np_aws_tag *in, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (struct np_posture_tag){in[i].key, in[i].value};
}

struct np_posture_raw_rule np_observe_raw_rule(const struct np_aws_perm *p, bool egress)
{
    return (struct np_posture_raw_rule){.egress = egress,
                                        .protocol = p->protocol,
                                        .has_ports = p->has_ports,
                                        .from_port = p->from_port,
                                        .to_port = p->to_port,
                                        .peer_kind = (enum np_posture_peer_kind)p->peer_kind,
                                        .peer = p->peer,
                                        .description = p->description};
}

void np_observe_sg_rules(const struct np_aws_sg *sg, struct np_posture_ruleset *out)
{
    size_t n = sg->n_ingress + sg->n_egress;
    struct np_posture_raw_rule *raw = np_xcalloc(n ? n : 1, sizeof(*raw));
    for (size_t i = 0; i < n; i++) {
        bool eg = i >= sg->n_ingress;
        raw[i] = np_observe_raw_rule(eg ? &sg->egress[i - sg->n_ingress] : &sg->ingress[i], eg);
    }
    np_posture_observed(out, raw, n);
    free(raw);
}
