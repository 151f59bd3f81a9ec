/*
 * The remediation safety policy: per drift item, what the mode, the flapping history, the
 * exceptions, the grace period and the blast radius allow (apply now, wait, only report,
 * propose, tolerate, stop fighting), what is left standing once the due items are applied, and the
 * selection of the items a plan is built from. Pure: the clock comes in as now_ms.
 */
#include "posture/private/posture_private.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *np_posture_item_state_name(enum np_posture_item_state s)
{
    switch (s) {
    case NP_POSTURE_ITEM_APPLY: return "Apply";
    case NP_POSTURE_ITEM_PENDING: return "Pending";
    case NP_POSTURE_ITEM_REPORTED: return "Reported";
    case NP_POSTURE_ITEM_PROPOSED: return "Proposed";
    case NP_POSTURE_ITEM_EXCEPTED: return "Excepted";
    case NP_POSTURE_ITEM_CONTESTED: return "Contested";
    }
    return "Unknown";
}

static size_t effective_limit(int max_changes)
{
    return max_changes > 0 ? (size_t)max_changes : NP_POSTURE_DEFAULT_MAX_CHANGES;
}

/* ---------------------------------------------------------------- what counts */

/* A network ACL entry item: removing or replacing an allow entry, or putting a deny entry in
 * place, can cut traffic; adding an allow entry or removing a deny entry cannot. */
static bool entry_is_subtractive(const struct np_posture_drift *d)
{
    const struct np_posture_vpc_drift *v = d->vpc;
    switch (d->change) {
    case NP_POSTURE_MISSING: return !v->entry.allow;
    case NP_POSTURE_EXTRA: return v->entry.allow;
    case NP_POSTURE_CHANGED: return v->have_entry.allow || !v->entry.allow;
    default: return true;
    }
}

/* A VPC item: see np_posture_drift_is_subtractive. */
static bool vpc_item_is_subtractive(const struct np_posture_drift *d)
{
    switch (d->vpc->item) {
    case NP_POSTURE_VPC_ITEM_PIECE: return d->change != NP_POSTURE_MISSING;
    case NP_POSTURE_VPC_ITEM_TAG:
    case NP_POSTURE_VPC_ITEM_FLOW_LOG: return false;
    case NP_POSTURE_VPC_ITEM_NACL_ENTRY: return entry_is_subtractive(d);
    case NP_POSTURE_VPC_ITEM_ATTRIBUTE:
    case NP_POSTURE_VPC_ITEM_ROUTE:
    case NP_POSTURE_VPC_ITEM_ROUTE_ASSOC:
    case NP_POSTURE_VPC_ITEM_NACL_ASSOC:
    case NP_POSTURE_VPC_ITEM_DEFAULT_SG: return true;
    }
    return true;
}

bool np_posture_drift_is_subtractive(const struct np_posture_drift *d)
{
    if (!d)
        return true;
    if (d->vpc)
        return vpc_item_is_subtractive(d);
    switch (d->change) {
    case NP_POSTURE_MISSING:
    case NP_POSTURE_DESCRIPTION:
    case NP_POSTURE_TAG_MISSING:
    case NP_POSTURE_TAG_CHANGED:
    case NP_POSTURE_TAG_EXTRA: return false;
    case NP_POSTURE_EXTRA:
    case NP_POSTURE_CHANGED: return true;
    }
    return true;
}

/* a + b, saturating instead of overflowing (a far-future grace end stays far in the future). */
static int64_t add_saturating(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

/* A drift item about an atomic rule: security-group rule items, and the VPC items that carry
 * one (the default group's rules, allow entries of network ACLs). */
static bool is_rule_item(const struct np_posture_drift *d)
{
    return d->rule.protocol != NULL &&
           (d->change == NP_POSTURE_MISSING || d->change == NP_POSTURE_EXTRA ||
            d->change == NP_POSTURE_DESCRIPTION);
}

/* ---------------------------------------------------------------- exceptions */

/*
 * Whether the pattern's protocol and ports match the canonical rule r. The pattern's ports are
 * canonicalised with its protocol first (a protocol without ports has -1/-1; ICMP type -1
 * forces code -1), then each given bound must equal the rule's.
 */
static bool match_protocol_ports(const struct np_posture_rule_spec *p,
                                 const struct np_posture_rule *r)
{
    int from = p->from_port, to = p->to_port;
    if (p->protocol) {
        char canon[8];
        if (np_posture_protocol_canonical(p->protocol, canon) != 0 ||
            !np_str_eq(canon, r->protocol))
            return false;
        if (!np_posture_protocol_has_ports(canon)) {
            from = -1;
            to = -1;
        } else if (np_posture_protocol_is_icmp(canon) && p->has_from_port && from == -1) {
            to = -1;
        }
    }
    if (p->has_from_port && from != r->from_port)
        return false;
    if (p->has_to_port && to != r->to_port)
        return false;
    return true;
}

/* Whether one of the pattern CIDRs, canonicalised, is the rule's peer. */
static bool cidr_listed(char *const *cidrs, size_t n, const char *peer, bool ipv6)
{
    for (size_t i = 0; i < n; i++) {
        char *canon = NULL;
        bool eq = np_posture_cidr_canonical(&canon, cidrs[i], ipv6) == 0 && np_str_eq(canon, peer);
        free(canon);
        if (eq)
            return true;
    }
    return false;
}

/* Whether one of the ids (case-insensitive: canonical ids are lowercase) is the peer. */
static bool id_listed(char *const *ids, size_t n, const char *peer)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] && peer && strcasecmp(ids[i], peer) == 0)
            return true;
    return false;
}

/*
 * Whether the pattern's peers match the rule's single peer: no peers at all match any peer;
 * otherwise the peer must be listed under its kind (cidrs, ipv6Cidrs, prefixListIds,
 * securityGroups group ids; a securityGroups name only matches a rule whose peer is that
 * same unresolved name).
 */
static bool match_peer(const struct np_posture_rule_spec *p, const struct np_posture_rule *r)
{
    if (p->n_cidrs + p->n_ipv6_cidrs + p->n_prefix_list_ids + p->n_security_groups == 0)
        return true;
    switch (r->peer_kind) {
    case NP_POSTURE_PEER_CIDR4: return cidr_listed(p->cidrs, p->n_cidrs, r->peer, false);
    case NP_POSTURE_PEER_CIDR6: return cidr_listed(p->ipv6_cidrs, p->n_ipv6_cidrs, r->peer, true);
    case NP_POSTURE_PEER_PREFIX_LIST:
        return id_listed(p->prefix_list_ids, p->n_prefix_list_ids, r->peer);
    case NP_POSTURE_PEER_GROUP:
        for (size_t i = 0; i < p->n_security_groups; i++)
            if (id_listed(&p->security_groups[i].group_id, 1, r->peer))
                return true;
        return false;
    case NP_POSTURE_PEER_GROUP_NAME:
        for (size_t i = 0; i < p->n_security_groups; i++)
            if (p->security_groups[i].name && np_str_eq(p->security_groups[i].name, r->peer))
                return true;
        return false;
    }
    return false;
}

/*
 * Actors: none given match anyone; otherwise a known actor must glob-match one of them, and it
 * must be verified: an actor only an event message claims (anyone who may send to the queue
 * can write one) never makes drift Excepted.
 */
static bool match_actor(const struct np_posture_exception *x, const char *actor, bool verified)
{
    if (x->n_actors == 0)
        return true;
    if (!actor || !verified)
        return false;
    for (size_t i = 0; i < x->n_actors; i++)
        if (x->actors[i] && fnmatch(x->actors[i], actor, 0) == 0)
            return true;
    return false;
}

/*
 * Whether a live exception (no expiry, or expiry > now) matches the rule item d made by h->actor.
 * *until gets the expiry that keeps the item excepted the longest: 0 when a matching exception
 * never expires, else the latest matching expiry.
 */
static bool excepted(const struct np_posture_remediation *rem, const struct np_posture_drift *d,
                     const struct np_posture_item_history *h, int64_t now_ms, int64_t *until)
{
    bool found = false;
    int64_t latest = 0;
    for (size_t i = 0; i < rem->n_exceptions; i++) {
        const struct np_posture_exception *x = &rem->exceptions[i];
        if (x->has_expires && now_ms >= x->expires_ms)
            continue;
        if (x->direction != d->rule.direction || !match_protocol_ports(&x->rule, &d->rule) ||
            !match_peer(&x->rule, &d->rule) || !match_actor(x, h->actor, h->actor_verified))
            continue;
        if (!x->has_expires) {
            *until = 0;
            return true;
        }
        if (!found || x->expires_ms > latest)
            latest = x->expires_ms;
        found = true;
    }
    *until = latest;
    return found;
}

/* ---------------------------------------------------------------- decision */

/*
 * The state of one item, steps 1-5 of the header's order (the blast radius, step 6, needs
 * every item and is applied by the caller). h is never NULL (a zero history when unknown).
 */
static enum np_posture_item_state item_state(const struct np_posture_policy_input *in,
                                             const struct np_posture_drift *d,
                                             const struct np_posture_item_history *h, int threshold,
                                             int64_t *until)
{
    const struct np_posture_remediation *rem = in->remediation;
    *until = 0;
    if (rem->mode == NP_POSTURE_MODE_DETECT)
        return NP_POSTURE_ITEM_REPORTED;
    if (!d->guardrail) {
        int occurrences = h->occurrences > 0 ? h->occurrences : 1;
        if (h->contested || occurrences >= threshold)
            return NP_POSTURE_ITEM_CONTESTED;
        if (is_rule_item(d) && excepted(rem, d, h, in->now_ms, until))
            return NP_POSTURE_ITEM_EXCEPTED;
        /* A zero (or negative) grace period never delays, even for a first_seen in the
         * future (clock skew between the controller's replicas). */
        if (rem->grace_ms > 0) {
            int64_t first = h->first_seen_ms != 0 ? h->first_seen_ms : in->now_ms;
            int64_t due = add_saturating(first, rem->grace_ms);
            if (in->now_ms < due) {
                *until = due;
                return NP_POSTURE_ITEM_PENDING;
            }
        }
    }
    if (rem->mode == NP_POSTURE_MODE_PROPOSE)
        return NP_POSTURE_ITEM_PROPOSED;
    return NP_POSTURE_ITEM_APPLY;
}

/* Counts the states and the earliest re-check time into v. */
static void tally(struct np_posture_verdict *v)
{
    for (size_t i = 0; i < v->n; i++) {
        int64_t at = 0;
        switch (v->states[i]) {
        case NP_POSTURE_ITEM_APPLY: v->n_apply++; break;
        case NP_POSTURE_ITEM_PENDING:
            v->n_pending++;
            at = v->until_ms[i];
            break;
        case NP_POSTURE_ITEM_REPORTED: v->n_reported++; break;
        case NP_POSTURE_ITEM_PROPOSED: v->n_proposed++; break;
        case NP_POSTURE_ITEM_EXCEPTED:
            v->n_excepted++;
            at = v->until_ms[i];
            break;
        case NP_POSTURE_ITEM_CONTESTED: v->n_contested++; break;
        }
        if (at != 0 && (v->next_ms == 0 || at < v->next_ms))
            v->next_ms = at;
    }
}

const char *np_posture_standing_name(enum np_posture_standing s)
{
    switch (s) {
    case NP_POSTURE_STANDING_CONVERGED: return "Converged";
    case NP_POSTURE_STANDING_BLAST_RADIUS: return "BlastRadiusExceeded";
    case NP_POSTURE_STANDING_PROPOSED: return "Proposed";
    case NP_POSTURE_STANDING_REPORTED: return "Reported";
    case NP_POSTURE_STANDING_CONTESTED: return "Contested";
    case NP_POSTURE_STANDING_GRACE: return "GracePeriod";
    }
    return "Unknown";
}

/* What is left once the APPLY items are applied, in the precedence of enum
 * np_posture_standing (blast: the APPLY items were held for the blast radius). */
static enum np_posture_standing standing_of(const struct np_posture_verdict *v, bool blast)
{
    if (blast)
        return NP_POSTURE_STANDING_BLAST_RADIUS;
    if (v->n_proposed > 0)
        return NP_POSTURE_STANDING_PROPOSED;
    if (v->n_reported > 0)
        return NP_POSTURE_STANDING_REPORTED;
    if (v->n_contested > 0)
        return NP_POSTURE_STANDING_CONTESTED;
    if (v->n_pending > 0)
        return NP_POSTURE_STANDING_GRACE;
    return NP_POSTURE_STANDING_CONVERGED;
}

/*
 * Step 6, the blast radius, over the APPLY items: more than the total cap holds them all; else
 * more subtractive ones than the subtractive cap holds those (the others cannot cut traffic
 * and go through). Held items become PROPOSED.
 */
static void hold_blast_radius(struct np_posture_verdict *v, const struct np_posture_delta *delta)
{
    for (size_t i = 0; i < delta->n; i++) {
        if (v->states[i] != NP_POSTURE_ITEM_APPLY)
            continue;
        v->due++;
        if (np_posture_drift_is_subtractive(&delta->items[i]))
            v->due_subtractive++;
    }
    if (v->limit_total > 0 && v->due > v->limit_total)
        v->blast = NP_POSTURE_BLAST_TOTAL;
    else if (v->due_subtractive > v->limit)
        v->blast = NP_POSTURE_BLAST_SUBTRACTIVE;
    else
        return;
    for (size_t i = 0; i < delta->n; i++) {
        if (v->states[i] != NP_POSTURE_ITEM_APPLY)
            continue;
        if (v->blast == NP_POSTURE_BLAST_SUBTRACTIVE &&
            !np_posture_drift_is_subtractive(&delta->items[i]))
            continue;
        v->states[i] = NP_POSTURE_ITEM_PROPOSED;
        v->n_held++;
    }
}

int np_posture_policy_decide(struct np_posture_verdict *out,
                             const struct np_posture_policy_input *in)
{
    memset(out, 0, sizeof(*out));
    if (!in || !in->remediation || !in->delta)
        return np_error_set(NP_EINVAL, "policy: remediation and a delta are required");
    const struct np_posture_remediation *rem = in->remediation;
    out->limit = effective_limit(rem->max_changes.subtractive);
    out->limit_total = rem->max_changes.total > 0 ? (size_t)rem->max_changes.total : 0;

    const struct np_posture_delta *delta = in->delta;
    const struct np_posture_item_history unknown = {0};
    int threshold = in->flap_threshold > 0 ? in->flap_threshold : NP_POSTURE_DEFAULT_FLAP_THRESHOLD;
    out->n = delta->n;
    out->states = np_xcalloc(delta->n ? delta->n : 1, sizeof(*out->states));
    out->until_ms = np_xcalloc(delta->n ? delta->n : 1, sizeof(*out->until_ms));
    for (size_t i = 0; i < delta->n; i++) {
        const struct np_posture_item_history *h = in->history ? &in->history[i] : &unknown;
        out->states[i] = item_state(in, &delta->items[i], h, threshold, &out->until_ms[i]);
    }
    hold_blast_radius(out, delta);
    tally(out);
    out->changes = out->n_apply + out->n_proposed;
    out->standing = standing_of(out, out->blast != NP_POSTURE_BLAST_NONE);
    return 0;
}

enum np_posture_standing np_posture_standing_once_approved(const struct np_posture_verdict *v)
{
    struct np_posture_verdict rest = *v;
    rest.n_proposed = 0;
    return standing_of(&rest, false);
}

void np_posture_verdict_clean_up(struct np_posture_verdict *v)
{
    if (!v)
        return;
    free(v->states);
    free(v->until_ms);
    v->states = NULL;
    v->until_ms = NULL;
    v->n = 0;
}

int np_posture_delta_select(struct np_posture_delta *out, const struct np_posture_delta *delta,
                            const struct np_posture_verdict *v, enum np_posture_item_state state)
{
    memset(out, 0, sizeof(*out));
    /* Only items the verdict has a state for (a verdict without states selects nothing). */
    size_t n = v->states ? (delta->n < v->n ? delta->n : v->n) : 0;
    for (size_t i = 0; i < n; i++) {
        if (v->states[i] != state)
            continue;
        if (!out->items)
            out->items = np_xcalloc(n, sizeof(*out->items));
        np_posture_drift_copy(&out->items[out->n++], &delta->items[i]);
    }
    return 0;
}
