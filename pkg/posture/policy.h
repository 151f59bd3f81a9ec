/*
 * posture: the remediation safety policy (per drift item: apply, wait, report, propose,
 * tolerate, stop fighting) and what it leaves standing. Include posture/posture.h.
 */
#ifndef NP_POSTURE_POLICY_H
#define NP_POSTURE_POLICY_H

#include "posture/guardrail.h"

/* ---------------------------------------------------------------- policy */

/* What the policy decided for one drift item (the status item's `state` derives from it). */
enum np_posture_item_state {
    NP_POSTURE_ITEM_APPLY = 0, /* repaired in this pass (Authorized/Revoked/Updated/Tagged) */
    NP_POSTURE_ITEM_PENDING,   /* inside the grace period: repaired at until_ms */
    NP_POSTURE_ITEM_REPORTED,  /* Detect mode */
    NP_POSTURE_ITEM_PROPOSED,  /* Propose mode, or Enforce over the blast radius */
    NP_POSTURE_ITEM_EXCEPTED,  /* matches a live exception */
    NP_POSTURE_ITEM_CONTESTED, /* flapping: no longer repaired, still reported */
};

/* "Apply", "Pending", "Reported", "Proposed", "Excepted", "Contested" (static). */
const char *np_posture_item_state_name(enum np_posture_item_state s);

/*
 * What the controller remembers of one drift item across passes (parallel to delta->items;
 * zero means "new, nothing known").
 */
struct np_posture_item_history {
    int64_t first_seen_ms; /* 0: first seen now */
    const char *actor;     /* who made the change (event-driven mode), NULL when unknown */
    int occurrences;       /* times this item appeared as new drift inside the flapping window,
                              this pass included (0 is read as 1) */
    bool contested;        /* it was contested before and not reset since */
    bool actor_verified;   /* the actor was confirmed by a source the sender of the event
                              cannot forge (CloudTrail LookupEvents); an unverified actor is
                              shown but never matches exceptions[].actors */
};

#define NP_POSTURE_DEFAULT_FLAP_THRESHOLD 3
#define NP_POSTURE_DEFAULT_FLAP_WINDOW_MS (10LL * 60 * 1000)

/*
 * What the policy decides from. Zero-initialise it (designated initialisers) and set what
 * you have: fields added later default to "off" at zero.
 */
struct np_posture_policy_input {
    const struct np_posture_remediation *remediation; /* required */
    const struct np_posture_delta *delta;             /* required (may hold no item) */
    const struct np_posture_item_history *history;    /* parallel to delta->items, or NULL */
    int flap_threshold;                               /* 0: NP_POSTURE_DEFAULT_FLAP_THRESHOLD */
    int64_t now_ms; /* the reconcile's wall clock (grace and exception expiry) */
};

/*
 * What keeps a posture from converged once the items due now are applied: the first that
 * holds, in this precedence (the Ready condition's reason derives from it, and nothing else
 * orders them):
 *   BLAST_RADIUS  Enforce items held because there were more than the limit
 *   PROPOSED      items wait for a human to approve the plan (Propose mode)
 *   REPORTED      items are only reported (Detect mode)
 *   CONTESTED     items are no longer repaired (flapping)
 *   GRACE         items wait for their grace period
 *   CONVERGED     nothing is left, or only items tolerated by an exception
 */
enum np_posture_standing {
    NP_POSTURE_STANDING_CONVERGED = 0,
    NP_POSTURE_STANDING_BLAST_RADIUS,
    NP_POSTURE_STANDING_PROPOSED,
    NP_POSTURE_STANDING_REPORTED,
    NP_POSTURE_STANDING_CONTESTED,
    NP_POSTURE_STANDING_GRACE,
};
/* "Converged", "BlastRadiusExceeded", "Proposed", "Reported", "Contested", "GracePeriod". */
const char *np_posture_standing_name(enum np_posture_standing s);

/* ---------------------------------------------------------------- blast radius */

/*
 * Whether repairing the drift item d can reduce reachability: a "subtractive" change, the
 * only kind maxChangesPerSync counts by default. True for:
 *   security groups   Extra (revoke), the default group's rules (revoke);
 *   routes            every change: create, replace, delete (a more specific route can divert
 *                     traffic);
 *   associations      every route table or network ACL association, replacement or
 *                     disassociation;
 *   network ACLs      an entry removed or replaced while it allows, and a deny entry added or
 *                     put in place by a replacement;
 *   attributes        every VPC or subnet attribute change;
 *   anything else     not listed below (when in doubt a change counts).
 * False (never held by the subtractive cap) for: a rule authorized, a description, tags, an
 * allow entry added, a deny entry removed or replaced by an allow entry (traffic it denied
 * falls through to later entries, which at worst deny it too), a flow log, and a subnet,
 * route table or network ACL created (it carries no traffic until associated, which counts).
 */
bool np_posture_drift_is_subtractive(const struct np_posture_drift *d);

/* What the blast radius did with the changes due in an Enforce pass. */
enum np_posture_blast {
    NP_POSTURE_BLAST_NONE = 0,    /* nothing held */
    NP_POSTURE_BLAST_SUBTRACTIVE, /* more subtractive changes than maxChangesPerSync(.subtractive):
                                     those are held, the others applied */
    NP_POSTURE_BLAST_TOTAL,       /* more changes than maxChangesPerSync.total: all are held */
};

/* The policy's verdict. Release with np_posture_verdict_clean_up. */
struct np_posture_verdict {
    enum np_posture_standing standing;
    size_t changes;     /* atomic changes that would be applied (APPLY + PROPOSED items) */
    size_t limit;       /* the effective cap on subtractive changes (maxChangesPerSync) */
    size_t limit_total; /* the cap on all changes (maxChangesPerSync.total); 0: none */
    enum np_posture_blast blast;
    size_t due, due_subtractive; /* Enforce items due in this pass before the blast radius, and
                                    how many of them are subtractive (what the caps compare) */
    size_t n_held;               /* items the blast radius turned PROPOSED */
    /* Per drift item, parallel to delta->items (owned; NULL without a delta): */
    enum np_posture_item_state *states;
    int64_t *until_ms; /* PENDING: when it will be repaired; EXCEPTED: the exception's expiry
                          (0 when it has none); else 0 */
    size_t n;
    size_t n_apply, n_pending, n_reported, n_proposed, n_excepted, n_contested;
    int64_t next_ms; /* the earliest time a PENDING item or an exception expires (0: none):
                        the controller re-checks then */
};

/*
 * Decides, per drift item, in this order:
 *   1. Detect mode: REPORTED (never mutate).
 *   2. Contested: history.contested, or history.occurrences >= flap threshold, and the item
 *      is not guardrail-violating: CONTESTED (a guardrail-violating item keeps being repaired).
 *   3. A live exception (not expired at now_ms; direction and the given criteria of the rule
 *      pattern match the item's atomic rule: protocol, ports as a range that must equal the
 *      item's, cidrs/ipv6Cidrs/prefixListIds/securityGroups ids as the peer; actors, if given,
 *      must glob-match (`*` matches any run of characters) a known and VERIFIED history.actor —
 *      an unknown or unverified actor never matches an exception with actors) and the item is a
 * rule item and not guardrail-violating: EXCEPTED.
 *   4. Grace: not guardrail-violating and now_ms < first_seen + gracePeriod: PENDING until
 *      first_seen + gracePeriod.
 *   5. Propose mode: PROPOSED.
 *   6. Enforce: APPLY; then the blast radius: when the APPLY items are more than
 *      max_changes.total (> 0), all of them become PROPOSED (blast TOTAL); else when the
 *      subtractive ones (np_posture_drift_is_subtractive) are more than
 *      max_changes.subtractive (<= 0 means the default 20), those become PROPOSED and the
 *      others stay APPLY (blast SUBTRACTIVE). Either way the reason is BlastRadiusExceeded.
 * standing: what is left once the APPLY items are applied (see enum np_posture_standing).
 * Errors: NP_EINVAL when remediation or delta is NULL.
 */
int np_posture_policy_decide(struct np_posture_verdict *out,
                             const struct np_posture_policy_input *in);
/* The standing once a human approved and applied the PROPOSED items: they count as applied
 * (neither the blast radius nor the proposal holds anything any more). */
enum np_posture_standing np_posture_standing_once_approved(const struct np_posture_verdict *v);
/* Releases what a verdict owns; safe to call twice. */
void np_posture_verdict_clean_up(struct np_posture_verdict *v);

/*
 * Copies the items of delta whose verdict state is `state` into *out (owned; the caller
 * frees it with np_posture_delta_clean_up), keeping order and the guardrail marks: build the
 * plan to apply (APPLY) or to propose (PROPOSED) from it. Returns 0.
 */
int np_posture_delta_select(struct np_posture_delta *out, const struct np_posture_delta *delta,
                            const struct np_posture_verdict *v, enum np_posture_item_state state);

#endif
