/*
 * The one place a posture's conditions are decided: the table of every reason they can
 * carry, and np_controller_pass_conditions, which derives Ready, Reconciling, Stalled, Synced,
 * Drifted, Contested and Compliant from what the pass found and decided (struct
 * np_controller_pass_outcome). The rest of the pass only records facts (np_controller_pass_stop,
 * np_controller_pass_synced, np_controller_pass_aws_failed, the policy's decision).
 */
#include "controller/private/controller_private.h"

#include <stdlib.h>
#include <string.h>

static const char *const reason_names[NP_CONTROLLER_REASON_COUNT] = {
    [NP_CONTROLLER_REASON_NONE] = "Unknown",
    [NP_CONTROLLER_REASON_CONVERGED] = "Converged",
    [NP_CONTROLLER_REASON_PROGRESSING] = "Progressing",
    [NP_CONTROLLER_REASON_BLAST_RADIUS_EXCEEDED] = "BlastRadiusExceeded",
    [NP_CONTROLLER_REASON_PLAN_PROPOSED] = "PlanProposed",
    [NP_CONTROLLER_REASON_DRIFT_DETECTED] = "DriftDetected",
    [NP_CONTROLLER_REASON_CONTESTED] = "Contested",
    [NP_CONTROLLER_REASON_GRACE_PERIOD] = "GracePeriod",
    [NP_CONTROLLER_REASON_INVALID_SPEC] = "InvalidSpec",
    [NP_CONTROLLER_REASON_ACCOUNT_NOT_FOUND] = "AccountNotFound",
    [NP_CONTROLLER_REASON_ACCOUNT_NOT_ALLOWED] = "AccountNotAllowed",
    [NP_CONTROLLER_REASON_ACCOUNT_ERROR] = "AccountError",
    [NP_CONTROLLER_REASON_ACCOUNT_NOT_READY] = "AccountNotReady",
    [NP_CONTROLLER_REASON_INSECURE_ENDPOINT] = "InsecureEndpoint",
    [NP_CONTROLLER_REASON_INVALID_REGION] = "InvalidRegion",
    [NP_CONTROLLER_REASON_TOO_MANY_REGIONS] = "TooManyRegions",
    [NP_CONTROLLER_REASON_NAMESPACE_UNKNOWN] = "NamespaceUnknown",
    [NP_CONTROLLER_REASON_GUARDRAIL_VIOLATION] = "GuardrailViolation",
    [NP_CONTROLLER_REASON_GROUP_NOT_FOUND] = "GroupNotFound",
    [NP_CONTROLLER_REASON_VPC_NOT_FOUND] = "VPCNotFound",
    [NP_CONTROLLER_REASON_PIECE_NOT_FOUND] = "PieceNotFound",
    [NP_CONTROLLER_REASON_VPC_NOT_READY] = "VPCNotReady",
    [NP_CONTROLLER_REASON_PEER_NOT_READY] = "PeerNotReady",
    [NP_CONTROLLER_REASON_ADOPTION_REFUSED] = "AdoptionRefused",
    [NP_CONTROLLER_REASON_ADOPTION_NOT_ALLOWED] = "AdoptionNotAllowed",
    [NP_CONTROLLER_REASON_DELETION_BLOCKED] = "DeletionBlocked",
    [NP_CONTROLLER_REASON_AWS_ERROR] = "AWSError",
    [NP_CONTROLLER_REASON_SYNCED] = "Synced",
    [NP_CONTROLLER_REASON_NO_DRIFT] = "NoDrift",
    [NP_CONTROLLER_REASON_FLAPPING] = "Flapping",
    [NP_CONTROLLER_REASON_NOT_CONTESTED] = "NotContested",
    [NP_CONTROLLER_REASON_COMPLIANT] = "Compliant",
    [NP_CONTROLLER_REASON_GUARDRAIL_WARNING] = "GuardrailWarning",
    [NP_CONTROLLER_REASON_CREDENTIALS_VERIFIED] = "CredentialsVerified",
    [NP_CONTROLLER_REASON_CREDENTIALS_INVALID] = "CredentialsInvalid",
    [NP_CONTROLLER_REASON_CREDENTIALS_NOT_FOUND] = "CredentialsNotFound",
    [NP_CONTROLLER_REASON_WEB_IDENTITY_TOKEN_UNREADABLE] = "WebIdentityTokenUnreadable",
    [NP_CONTROLLER_REASON_ASSUME_ROLE_DENIED] = "AssumeRoleDenied",
    [NP_CONTROLLER_REASON_METADATA_UNAVAILABLE] = "MetadataUnavailable",
    [NP_CONTROLLER_REASON_CREDENTIALS_EXPIRED] = "CredentialsExpired",
    [NP_CONTROLLER_REASON_CREDENTIALS_UNAVAILABLE] = "CredentialsUnavailable",
    [NP_CONTROLLER_REASON_EVENT_QUEUE_UNREACHABLE] = "EventQueueUnreachable",
};

const char *np_controller_reason_name(enum np_controller_reason r)
{
    return (unsigned)r < NP_CONTROLLER_REASON_COUNT && reason_names[r] ? reason_names[r]
                                                                       : "Unknown";
}

/* ---------------------------------------------------------------- recording facts */

void np_controller_pass_stop(struct np_controller_pass *p, enum np_controller_reason reason,
                             char *msg)
{
    p->out.stopped = reason;
    free(p->out.stopped_msg);
    p->out.stopped_msg = msg;
}

void np_controller_pass_synced(struct np_controller_pass *p)
{
    p->out.synced = true;
}

void np_controller_pass_aws_failed(struct np_controller_pass *p, const char *msg)
{
    free(p->out.aws_error);
    p->out.aws_error = np_strdup(msg);
}

void np_controller_pass_progressing(struct np_controller_pass *p, char *msg)
{
    free(p->out.progress_msg);
    p->out.progress_msg = msg;
}

void np_controller_pass_set_compliance(struct np_controller_pass *p,
                                       enum np_controller_reason reason, char *msg)
{
    p->out.compliance = reason;
    free(p->out.compliance_msg);
    p->out.compliance_msg = msg;
}

bool np_controller_pass_converged(const struct np_controller_pass *p)
{
    return np_controller_pass_ready_reason(p) == NP_CONTROLLER_REASON_CONVERGED;
}

void np_controller_pass_outcome_clean_up(struct np_controller_pass_outcome *o)
{
    free(o->stopped_msg);
    free(o->aws_error);
    free(o->progress_msg);
    free(o->compliance_msg);
    free(o->decision.plan_id);
    free(o->decision.contested_text);
    free(o->decision.subject);
    memset(o, 0, sizeof(*o));
}

/* ---------------------------------------------------------------- deciding conditions */

static enum np_controller_reason reason_of_standing(enum np_posture_standing s)
{
    switch (s) {
    case NP_POSTURE_STANDING_CONVERGED: return NP_CONTROLLER_REASON_CONVERGED;
    case NP_POSTURE_STANDING_BLAST_RADIUS: return NP_CONTROLLER_REASON_BLAST_RADIUS_EXCEEDED;
    case NP_POSTURE_STANDING_PROPOSED: return NP_CONTROLLER_REASON_PLAN_PROPOSED;
    case NP_POSTURE_STANDING_REPORTED: return NP_CONTROLLER_REASON_DRIFT_DETECTED;
    case NP_POSTURE_STANDING_CONTESTED: return NP_CONTROLLER_REASON_CONTESTED;
    case NP_POSTURE_STANDING_GRACE: return NP_CONTROLLER_REASON_GRACE_PERIOD;
    }
    return NP_CONTROLLER_REASON_NONE;
}

/*
 * Ready's reason, in this precedence: the pass stopped before deciding; the applied changes
 * are not all verified; what the policy left standing (enum np_posture_standing's order); an
 * AWS call failed; the kind has more to do (pieces just created); converged.
 */
enum np_controller_reason np_controller_pass_ready_reason(const struct np_controller_pass *p)
{
    const struct np_controller_pass_outcome *o = &p->out;
    if (o->stopped != NP_CONTROLLER_REASON_NONE)
        return o->stopped;
    if (o->decided && !o->decision.verified)
        return NP_CONTROLLER_REASON_PROGRESSING;
    if (o->decided && o->decision.standing != NP_POSTURE_STANDING_CONVERGED)
        return reason_of_standing(o->decision.standing);
    if (o->aws_error)
        return NP_CONTROLLER_REASON_AWS_ERROR;
    if (o->decided && o->progress_msg)
        return NP_CONTROLLER_REASON_PROGRESSING;
    return o->decided ? NP_CONTROLLER_REASON_CONVERGED : NP_CONTROLLER_REASON_NONE;
}

char *np_controller_blast_text(const struct np_controller_blast *b)
{
    if (b->cap == NP_POSTURE_BLAST_TOTAL)
        return np_strdupf("held all %zu change(s), over maxChangesPerSync.total %zu (%zu of "
                          "them can reduce reachability)",
                          b->held, b->limit_total, b->held_subtractive);
    if (b->applied == 0)
        return np_strdupf("held %zu change(s) that can reduce reachability, over "
                          "maxChangesPerSync %zu",
                          b->held, b->limit);
    return np_strdupf("held %zu change(s) that can reduce reachability, over "
                      "maxChangesPerSync %zu; %zu that cannot were applied",
                      b->held, b->limit, b->applied);
}

/* The message of a Ready reason the policy's decision explains. */
static char *decision_message(const struct np_controller_pass *p, enum np_controller_reason reason)
{
    const struct np_controller_pass_decision *d = &p->out.decision;
    char next[40] = "";
    if (d->next_ms > 0)
        np_time_format_rfc3339(next, sizeof(next), d->next_ms);
    switch (reason) {
    case NP_CONTROLLER_REASON_PROGRESSING:
        return np_strdupf("%zu change(s) applied, some still differ; retrying", d->n_applied);
    case NP_CONTROLLER_REASON_CONTESTED:
        return np_strdupf("%zu item(s) are contested and no longer repaired; annotate "
                          "netposture.dev/retry-contested=true to try again",
                          d->n_contested);
    case NP_CONTROLLER_REASON_BLAST_RADIUS_EXCEEDED: {
        char *why = np_controller_blast_text(&d->blast);
        char *msg =
            np_strdupf("%s; approve them with the annotation netposture.dev/approve-plan=%s", why,
                       d->plan_id ? d->plan_id : "");
        free(why);
        return msg;
    }
    case NP_CONTROLLER_REASON_PLAN_PROPOSED:
        return np_strdupf("approve the plan with the annotation netposture.dev/approve-plan=%s",
                          d->plan_id ? d->plan_id : "");
    case NP_CONTROLLER_REASON_DRIFT_DETECTED:
        if (d->converging)
            return np_strdupf("%zu difference(s) from the spec not applied; mode Detect reports "
                              "and never repairs",
                              d->n_reported);
        return np_strdupf("%zu drift item(s); mode Detect reports and never repairs",
                          d->n_reported);
    case NP_CONTROLLER_REASON_GRACE_PERIOD:
        return np_strdupf("%zu drift item(s) inside the grace period; the next is repaired at %s",
                          d->n_pending, next);
    default: break;
    }
    if (d->empty)
        return np_strdupf("%s matches the spec", d->subject);
    if (d->n_excepted > 0)
        return np_strdupf("%s matches the spec but for %zu item(s) tolerated by exceptions",
                          d->subject, d->n_excepted);
    return np_strdupf("repaired %zu drift item(s) on %s", d->n_applied, d->subject);
}

static char *ready_message(const struct np_controller_pass *p, enum np_controller_reason reason)
{
    const struct np_controller_pass_outcome *o = &p->out;
    if (reason == NP_CONTROLLER_REASON_NONE)
        return NULL;
    if (o->stopped != NP_CONTROLLER_REASON_NONE)
        return np_strdup(o->stopped_msg);
    if (reason == NP_CONTROLLER_REASON_AWS_ERROR)
        return np_strdup(o->aws_error);
    if (reason == NP_CONTROLLER_REASON_PROGRESSING && o->decision.verified)
        return np_strdup(o->progress_msg);
    return decision_message(p, reason);
}

static void add(struct np_controller_pass_conditions *c, const char *type, const char *status,
                enum np_controller_reason reason, char *msg)
{
    c->owned[c->n] = msg;
    c->items[c->n++] =
        (struct np_controller_condition){type, status, np_controller_reason_name(reason), msg};
}

static void add_decided(const struct np_controller_pass *p, struct np_controller_pass_conditions *c)
{
    const struct np_controller_pass_decision *d = &p->out.decision;
    bool drifted = !d->converging && (d->n_left > 0 || !d->verified);
    char *drift_msg = d->converging   ? NULL
                      : d->n_left > 0 ? np_strdupf("%zu item(s) differ from the spec", d->n_left)
                      : d->empty      ? NULL
                                      : np_strdupf("last repair: %zu item(s)", d->n_applied);
    add(c, "Drifted", drifted ? "True" : "False",
        drifted ? NP_CONTROLLER_REASON_DRIFT_DETECTED : NP_CONTROLLER_REASON_NO_DRIFT, drift_msg);
    bool contested = d->n_contested > 0;
    add(c, "Contested", contested ? "True" : "False",
        contested ? NP_CONTROLLER_REASON_FLAPPING : NP_CONTROLLER_REASON_NOT_CONTESTED,
        contested ? np_strdup(d->contested_text) : NULL);
}

/*
 * kstatus (Flux, `kubectl wait`, Argo CD through its health checks) reads Reconciling and
 * Stalled: Reconciling while the controller is still working towards the spec on its own,
 * Stalled while it cannot go on without a person (a spec, account, adoption or guardrail to
 * fix, a plan to approve, drift that keeps coming back). Neither: Current — converged, or in
 * Detect mode reporting the drift it was told only to report.
 */
enum progress { PROGRESS_CURRENT, PROGRESS_RECONCILING, PROGRESS_STALLED };

static enum progress progress_of(enum np_controller_reason ready)
{
    switch (ready) {
    case NP_CONTROLLER_REASON_CONVERGED:
    case NP_CONTROLLER_REASON_DRIFT_DETECTED: return PROGRESS_CURRENT;
    case NP_CONTROLLER_REASON_INVALID_SPEC:
    case NP_CONTROLLER_REASON_GUARDRAIL_VIOLATION:
    case NP_CONTROLLER_REASON_ACCOUNT_NOT_FOUND:
    case NP_CONTROLLER_REASON_ACCOUNT_NOT_ALLOWED:
    case NP_CONTROLLER_REASON_INSECURE_ENDPOINT:
    case NP_CONTROLLER_REASON_INVALID_REGION:
    case NP_CONTROLLER_REASON_TOO_MANY_REGIONS:
    case NP_CONTROLLER_REASON_GROUP_NOT_FOUND:
    case NP_CONTROLLER_REASON_VPC_NOT_FOUND:
    case NP_CONTROLLER_REASON_PIECE_NOT_FOUND:
    case NP_CONTROLLER_REASON_ADOPTION_REFUSED:
    case NP_CONTROLLER_REASON_ADOPTION_NOT_ALLOWED:
    case NP_CONTROLLER_REASON_PLAN_PROPOSED:
    case NP_CONTROLLER_REASON_BLAST_RADIUS_EXCEEDED:
    case NP_CONTROLLER_REASON_CONTESTED: return PROGRESS_STALLED;
    default: /* Progressing, GracePeriod, waiting on a peer, a VPC or the account, retries */
        return PROGRESS_RECONCILING;
    }
}

static void add_progress(struct np_controller_pass_conditions *c, enum np_controller_reason ready,
                         const char *ready_msg)
{
    enum progress pr = progress_of(ready);
    add(c, "Reconciling", pr == PROGRESS_RECONCILING ? "True" : "False", ready,
        pr == PROGRESS_RECONCILING && ready_msg ? np_strdup(ready_msg) : NULL);
    add(c, "Stalled", pr == PROGRESS_STALLED ? "True" : "False", ready,
        pr == PROGRESS_STALLED && ready_msg ? np_strdup(ready_msg) : NULL);
}

void np_controller_pass_conditions(const struct np_controller_pass *p,
                                   struct np_controller_pass_conditions *c)
{
    const struct np_controller_pass_outcome *o = &p->out;
    memset(c, 0, sizeof(*c));
    enum np_controller_reason ready = np_controller_pass_ready_reason(p);
    const char *status = ready == NP_CONTROLLER_REASON_CONVERGED ? "True"
                         : ready == NP_CONTROLLER_REASON_NONE    ? "Unknown"
                                                                 : "False";
    add(c, "Ready", status, ready, ready_message(p, ready));
    add_progress(c, ready, c->items[0].message);
    if (o->aws_error)
        add(c, "Synced", "False", NP_CONTROLLER_REASON_AWS_ERROR, np_strdup(o->aws_error));
    else if (o->synced || o->decided)
        add(c, "Synced", "True", NP_CONTROLLER_REASON_SYNCED, NULL);
    if (o->decided)
        add_decided(p, c);
    if (o->compliance != NP_CONTROLLER_REASON_NONE)
        add(c, "Compliant", o->compliance == NP_CONTROLLER_REASON_COMPLIANT ? "True" : "False",
            o->compliance, np_strdup(o->compliance_msg));
}

void np_controller_pass_conditions_clean_up(struct np_controller_pass_conditions *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->owned[i]);
    memset(c, 0, sizeof(*c));
}
