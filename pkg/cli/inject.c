/*
 * netposturectl inject-drift: a game day. One named out-of-band change to the security group a
 * SecurityGroupPosture manages, or to a network ACL or route table of a VPCPosture
 * (inject_vpc.c) — only one carrying that posture's ownership tags, only for a posture labelled
 * netposture.dev/game-day=allowed (or --yes) — then, with --wait, polling AWS until the
 * controller has undone it: the time to remediate, or p50/p99 over --count runs. A change not
 * undone in time is put back by the command itself.
 */
#include "cli/private/cli_private.h"
#include "kube/kube.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GAME_DAY_LABEL "netposture.dev/game-day"
#define GAME_DAY_DESCRIPTION "netposturectl inject-drift (game day)"
#define CHANGED_DESCRIPTION "changed by netposturectl inject-drift (game day)"
#define POLL_MS 100
#define MAX_COUNT 1000

static const char *const KIND_NAMES[] = {"open-port",          "remove-rule", "delete-tag",
                                         "change-description", "nacl-entry",  "route"};

/* ---------------------------------------------------------------- choosing (no I/O) */

int np_cli_drift_kind_parse(const char *s, enum np_cli_drift_kind *out)
{
    for (size_t i = 0; s && i < NP_ARRAY_LEN(KIND_NAMES); i++)
        if (strcmp(KIND_NAMES[i], s) == 0) {
            *out = (enum np_cli_drift_kind)i;
            return 0;
        }
    return np_error_set(NP_EINVAL,
                        "--kind %s: use open-port, remove-rule, delete-tag, change-description, "
                        "nacl-entry or route",
                        s ? s : "");
}

int np_cli_check_owner(const struct np_aws_sg *sg, const char *ns, const char *name,
                       const char *uid)
{
    char *what = np_strdupf("security group %s", sg->group_id);
    int rc = np_cli_check_tags_owner(sg->tags, sg->n_tags, what, ns, name, uid);
    free(what);
    return rc;
}

static bool ruleset_has(const struct np_posture_ruleset *rs, const struct np_posture_rule *r)
{
    for (size_t i = 0; i < rs->n; i++)
        if (np_posture_rule_cmp(&rs->rules[i], r) == 0)
            return true;
    return false;
}

/* Whether a live permission is one of the posture's declared rules. */
static bool is_declared(const struct np_posture_ruleset *want, const struct np_aws_perm *p,
                        bool egress)
{
    struct np_posture_raw_rule raw = np_observe_raw_rule(p, egress);
    struct np_posture_ruleset one = {0};
    np_posture_observed(&one, &raw, 1);
    bool yes = one.n == 1 && ruleset_has(want, &one.rules[0]);
    np_posture_ruleset_clean_up(&one);
    return yes;
}

/* The first live permission (ingress, then egress) that the posture declares. */
static int pick_declared(struct np_cli_injection *out, const struct np_aws_sg *sg,
                         const struct np_posture_ruleset *want)
{
    for (size_t i = 0; i < sg->n_ingress + sg->n_egress; i++) {
        bool eg = i >= sg->n_ingress;
        const struct np_aws_perm *p = eg ? &sg->egress[i - sg->n_ingress] : &sg->ingress[i];
        if (is_declared(want, p, eg)) {
            np_aws_perm_copy(&out->perm, p);
            out->egress = eg;
            return 0;
        }
    }
    return np_error_set(NP_ENOTFOUND, "security group %s holds none of the posture's rules",
                        sg->group_id);
}

/* tcp <port> from 0.0.0.0/0: the round-th of the usual targets the posture does not allow. */
static int pick_port(const struct np_aws_sg *sg, const struct np_posture_ruleset *want, int round)
{
    static const int ports[] = {22, 3389, 23, 445, 3306, 5432, 6379, 27017, 9200, 11211};
    int skip = round;
    for (int i = 0;; i++) {
        int port = i < (int)NP_ARRAY_LEN(ports) ? ports[i] : 20000 + i;
        struct np_aws_perm p = {.protocol = "tcp",
                                .has_ports = true,
                                .from_port = port,
                                .to_port = port,
                                .peer_kind = NP_AWS_PEER_CIDR4,
                                .peer = "0.0.0.0/0"};
        bool present = false;
        for (size_t k = 0; k < sg->n_ingress && !present; k++)
            present = np_aws_perm_is_same_rule(&sg->ingress[k], &p);
        if (!present && !is_declared(want, &p, false) && skip-- == 0)
            return port;
    }
}

static int choose_rule_change(struct np_cli_injection *out, const struct np_aws_sg *sg,
                              const struct np_posture_ruleset *want, int round)
{
    if (out->kind != NP_CLI_DRIFT_OPEN_PORT)
        return pick_declared(out, sg, want);
    int port = pick_port(sg, want, round);
    out->perm = (struct np_aws_perm){.protocol = np_strdup("tcp"),
                                     .has_ports = true,
                                     .from_port = port,
                                     .to_port = port,
                                     .peer_kind = NP_AWS_PEER_CIDR4,
                                     .peer = np_strdup("0.0.0.0/0"),
                                     .description = np_strdup(GAME_DAY_DESCRIPTION)};
    return 0;
}

static int choose_tag(struct np_cli_injection *out, const struct np_aws_sg *sg,
                      const struct np_posture_sg_spec *spec)
{
    for (size_t i = 0; i < spec->n_tags; i++) {
        const char *have = np_aws_tag_get(sg->tags, sg->n_tags, spec->tags[i].key);
        if (np_str_eq(have, spec->tags[i].value)) {
            out->tag_key = np_strdup(spec->tags[i].key);
            out->tag_value = np_strdup(have);
            return 0;
        }
    }
    return np_error_set(NP_ENOTFOUND, "the posture declares no tag that %s carries now",
                        sg->group_id);
}

/* The text of a rule change: "<verb> <direction> <rule>". */
static char *rule_change_text(const char *verb, const struct np_cli_injection *inj)
{
    struct np_posture_raw_rule raw = np_observe_raw_rule(&inj->perm, inj->egress);
    struct np_posture_ruleset one = {0};
    np_posture_observed(&one, &raw, 1);
    char *rule = np_posture_rule_text(&one.rules[0]);
    char *text = np_strdupf("%s %s %s", verb, inj->egress ? "egress" : "ingress", rule);
    free(rule);
    np_posture_ruleset_clean_up(&one);
    return text;
}

static char *injection_text(const struct np_cli_injection *inj)
{
    switch (inj->kind) {
    case NP_CLI_DRIFT_OPEN_PORT: return rule_change_text("authorize", inj);
    case NP_CLI_DRIFT_REMOVE_RULE: return rule_change_text("revoke", inj);
    case NP_CLI_DRIFT_DELETE_TAG: return np_strdupf("tag delete %s", inj->tag_key);
    default: {
        char *rule = rule_change_text("describe", inj);
        char *text = np_strdupf("%s \"%s\"", rule, CHANGED_DESCRIPTION);
        free(rule);
        return text;
    }
    }
}

int np_cli_injection_choose(struct np_cli_injection *out, enum np_cli_drift_kind kind,
                            const struct np_aws_sg *sg, const struct np_posture_sg_spec *spec,
                            int round)
{
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    if (kind == NP_CLI_DRIFT_NACL_ENTRY || kind == NP_CLI_DRIFT_ROUTE)
        return np_error_set(NP_ENOTSUP, "--kind %s changes a VPCPosture's pieces, not a group",
                            KIND_NAMES[kind]);
    out->group_id = np_strdup(sg->group_id);
    struct np_posture_ruleset want = {0};
    int rc = np_posture_desired(&want, spec);
    if (rc == 0)
        rc = kind == NP_CLI_DRIFT_DELETE_TAG ? choose_tag(out, sg, spec)
                                             : choose_rule_change(out, sg, &want, round);
    np_posture_ruleset_clean_up(&want);
    if (rc == 0)
        out->text = injection_text(out);
    else
        np_cli_injection_clean_up(out);
    return rc;
}

void np_cli_injection_clean_up(struct np_cli_injection *inj)
{
    np_aws_perm_clean_up(&inj->perm);
    np_aws_nacl_entry_clean_up(&inj->entry);
    np_aws_route_clean_up(&inj->route);
    free(inj->piece_id);
    free(inj->group_id);
    free(inj->tag_key);
    free(inj->tag_value);
    free(inj->text);
    memset(inj, 0, sizeof(*inj));
}

/* The live permission with the injected rule's identity in its direction, or NULL. */
static const struct np_aws_perm *find_perm(const struct np_cli_injection *inj,
                                           const struct np_aws_sg *sg)
{
    const struct np_aws_perm *perms = inj->egress ? sg->egress : sg->ingress;
    size_t n = inj->egress ? sg->n_egress : sg->n_ingress;
    for (size_t i = 0; i < n; i++)
        if (np_aws_perm_is_same_rule(&perms[i], &inj->perm))
            return &perms[i];
    return NULL;
}

bool np_cli_injection_undone(const struct np_cli_injection *inj, const struct np_aws_sg *sg)
{
    const struct np_aws_perm *p = find_perm(inj, sg);
    switch (inj->kind) {
    case NP_CLI_DRIFT_OPEN_PORT: return p == NULL;
    case NP_CLI_DRIFT_REMOVE_RULE: return p != NULL;
    case NP_CLI_DRIFT_DELETE_TAG:
        return np_str_eq(np_aws_tag_get(sg->tags, sg->n_tags, inj->tag_key), inj->tag_value);
    default:
        return p && np_str_eq(p->description ? p->description : "",
                              inj->perm.description ? inj->perm.description : "");
    }
}

/* ---------------------------------------------------------------- AWS */

static int rule_call(struct np_aws_ec2 *ec2, const struct np_cli_injection *inj, bool add,
                     const struct np_aws_perm *p)
{
    if (add)
        return inj->egress ? np_aws_ec2_authorize_egress(ec2, inj->group_id, p, 1)
                           : np_aws_ec2_authorize_ingress(ec2, inj->group_id, p, 1);
    return inj->egress ? np_aws_ec2_revoke_egress(ec2, inj->group_id, p, 1)
                       : np_aws_ec2_revoke_ingress(ec2, inj->group_id, p, 1);
}

/* Makes the change (forward) or puts it back (!forward). */
static int injection_apply(struct np_aws_ec2 *ec2, const struct np_cli_injection *inj, bool forward)
{
    switch (inj->kind) {
    case NP_CLI_DRIFT_NACL_ENTRY:
    case NP_CLI_DRIFT_ROUTE: return np_cli_piece_change(ec2, inj, forward);
    case NP_CLI_DRIFT_OPEN_PORT: return rule_call(ec2, inj, forward, &inj->perm);
    case NP_CLI_DRIFT_REMOVE_RULE: return rule_call(ec2, inj, !forward, &inj->perm);
    case NP_CLI_DRIFT_DELETE_TAG: {
        if (forward)
            return np_aws_ec2_delete_tags(ec2, inj->group_id, (const char *const *)&inj->tag_key,
                                          1);
        struct np_aws_tag t = {inj->tag_key, inj->tag_value};
        return np_aws_ec2_create_tags(ec2, inj->group_id, &t, 1);
    }
    default: {
        struct np_aws_perm p = inj->perm;
        p.description = forward ? CHANGED_DESCRIPTION : inj->perm.description;
        return inj->egress ? np_aws_ec2_update_rule_descriptions_egress(ec2, inj->group_id, &p, 1)
                           : np_aws_ec2_update_rule_descriptions_ingress(ec2, inj->group_id, &p, 1);
    }
    }
}

/* ---------------------------------------------------------------- a game day */

struct inject_opts {
    struct np_cli_aws_opts aws;
    const char *kubeconfig;
    const char *ns;
    const char *name;
    enum np_cli_drift_kind kind;
    bool have_kind;
    bool wait;
    int64_t timeout_ms;
    int count;
    bool yes;
    enum np_cli_format format;
};

struct game_day {
    const struct inject_opts *o;
    const char *prog;
    json_object *obj;   /* the posture */
    bool vpc;           /* a VPCPosture (nacl-entry, route) */
    const char *vpc_id; /* its status.vpcId (borrowed from obj) */
    struct np_posture_sg_spec *spec;
    struct np_posture_vpc_spec *vspec;
    struct np_aws_ec2 *ec2;
    const char *ns;
    json_object *result; /* {posture, kind, groupId, runs: [{change, seconds|null}]} */
};

/* Reads the changed resource: whether the change is undone. */
static int read_undone(struct game_day *g, const struct np_cli_injection *inj, bool *undone)
{
    if (g->vpc) {
        struct np_cli_piece piece;
        int rc = np_cli_describe_piece(g->ec2, inj->kind, g->vpc_id, inj->piece_id, &piece);
        *undone = rc == 0 && np_cli_piece_undone(inj, &piece);
        np_cli_piece_clean_up(&piece);
        return rc;
    }
    struct np_aws_sg *sg = NULL;
    int rc = np_cli_describe_group(g->ec2, inj->group_id, &sg);
    *undone = rc == 0 && np_cli_injection_undone(inj, sg);
    np_aws_sg_free(sg);
    return rc;
}

/* Polls the resource until the change is undone: *seconds, or NP_ETIMEOUT. */
static int wait_undone(struct game_day *g, const struct np_cli_injection *inj, int64_t since,
                       double *seconds)
{
    int64_t deadline = since + g->o->timeout_ms;
    for (;;) {
        bool undone = false;
        int rc = read_undone(g, inj, &undone);
        int64_t now = np_time_mono_ms();
        if (rc)
            return rc;
        if (undone) {
            *seconds = (double)(now - since) / 1000.0;
            return 0;
        }
        if (now >= deadline)
            return np_error_set(NP_ETIMEOUT, "%s was not undone within %.1fs", inj->text,
                                (double)g->o->timeout_ms / 1000.0);
        np_sleep_ms(POLL_MS);
    }
}

/* The id of the named piece in status.<list>[] (borrowed), or NULL. */
static const char *status_piece_id(json_object *obj, const char *list, const char *name,
                                   const char *id_key)
{
    json_object *items = np_json_path(obj, "status", list, NP_JSON_END);
    for (size_t i = 0; i < np_cli_len(items); i++) {
        json_object *it = json_object_array_get_idx(items, i);
        if (np_str_eq(np_json_path_str(it, "name", NP_JSON_END), name))
            return np_json_path_str(it, id_key, NP_JSON_END);
    }
    return NULL;
}

/* The first network ACL, or the first route table declaring routes, that the posture has. */
static const char *vpc_target(struct game_day *g, const char **name, size_t *rt_index)
{
    const struct np_posture_vpc_spec *s = g->vspec;
    bool acl = g->o->kind == NP_CLI_DRIFT_NACL_ENTRY;
    size_t n = acl ? s->n_network_acls : s->n_route_tables;
    for (size_t i = 0; i < n; i++) {
        *name = acl ? s->network_acls[i].name : s->route_tables[i].name;
        *rt_index = i;
        const char *id = acl ? status_piece_id(g->obj, "networkAcls", *name, "networkAclId")
                             : status_piece_id(g->obj, "routeTables", *name, "routeTableId");
        if (id && (acl || s->route_tables[i].n_routes > 0))
            return id;
    }
    return NULL;
}

/* A VPCPosture's piece: read, checked as the posture's, and the change of this round. */
static int prepare_vpc(struct game_day *g, int round, struct np_cli_injection *inj)
{
    const char *name = NULL;
    size_t index = 0;
    const char *id = vpc_target(g, &name, &index);
    g->vpc_id = np_json_path_str(g->obj, "status", "vpcId", NP_JSON_END);
    if (!id || !g->vpc_id)
        return np_error_set(NP_ENOTFOUND, "%s/%s has no %s yet (status)", g->ns, g->o->name,
                            g->o->kind == NP_CLI_DRIFT_NACL_ENTRY ? "network ACL"
                                                                  : "route table with routes");
    struct np_cli_piece piece;
    int rc = np_cli_describe_piece(g->ec2, g->o->kind, g->vpc_id, id, &piece);
    const struct np_aws_tag *tags = piece.acl ? piece.acl->tags : piece.rt ? piece.rt->tags : NULL;
    size_t nt = piece.acl ? piece.acl->n_tags : piece.rt ? piece.rt->n_tags : 0;
    if (rc == 0)
        rc = np_cli_check_tags_owner(tags, nt, id, g->ns, g->o->name,
                                     np_json_path_str(g->obj, "metadata", "uid", NP_JSON_END));
    if (rc == 0 && piece.acl)
        rc = np_cli_nacl_injection_choose(inj, piece.acl, name, round);
    else if (rc == 0)
        rc = np_cli_route_injection_choose(inj, piece.rt, &g->vspec->route_tables[index]);
    np_cli_piece_clean_up(&piece);
    return rc;
}

/* Reads the group, checks it is the posture's, and picks the change of this round. */
static int prepare(struct game_day *g, int round, struct np_cli_injection *inj)
{
    if (g->vpc)
        return prepare_vpc(g, round, inj);
    const char *gid = np_json_path_str(g->obj, "status", "groupId", NP_JSON_END);
    if (!gid)
        return np_error_set(NP_ENOTFOUND, "%s/%s has no group yet (status.groupId)", g->ns,
                            g->o->name);
    struct np_aws_sg *sg = NULL;
    int rc = np_cli_describe_group(g->ec2, gid, &sg);
    if (rc == 0)
        rc = np_cli_check_owner(sg, g->ns, g->o->name,
                                np_json_path_str(g->obj, "metadata", "uid", NP_JSON_END));
    if (rc == 0)
        rc = np_cli_injection_choose(inj, g->o->kind, sg, g->spec, round);
    np_aws_sg_free(sg);
    return rc;
}

/* One run: inject, and with --wait, time the repair (a timed-out change is put back). */
static int one_run(struct game_day *g, int round)
{
    struct np_cli_injection inj;
    int rc = prepare(g, round, &inj);
    if (rc)
        return rc;
    json_object *run = json_object_new_object();
    np_json_put_str(run, "change", inj.text);
    json_object_array_add(np_json_path(g->result, "runs", NP_JSON_END), run);
    rc = injection_apply(g->ec2, &inj, true);
    int64_t since = np_time_mono_ms();
    if (g->o->format == NP_CLI_TEXT && rc == 0)
        printf("injected on %s: %s\n", g->vpc ? inj.piece_id : inj.group_id, inj.text);
    double seconds = 0;
    if (rc == 0 && g->o->wait)
        rc = wait_undone(g, &inj, since, &seconds);
    if (rc == 0 && g->o->wait) {
        json_object_object_add(run, "seconds", json_object_new_double(seconds));
        if (g->o->format == NP_CLI_TEXT)
            printf("undone after %.3fs\n", seconds);
    } else if (rc == NP_ETIMEOUT) {
        json_object_object_add(run, "seconds", NULL);
        char *why = np_strdup(np_error_message());
        int back = injection_apply(g->ec2, &inj, false);
        np_error_set(rc, "%s; %s", why,
                     back ? "putting it back failed: undo it by hand" : "put back");
        free(why);
    }
    np_cli_injection_clean_up(&inj);
    return rc;
}

/* p (0..1) of the sorted values, nearest rank. */
static double percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p * (double)n);
    return sorted[rank > 0 ? rank - 1 : 0];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* p50 and p99 of the repaired runs into the result. */
static void summarise(json_object *result)
{
    json_object *runs = np_json_path(result, "runs", NP_JSON_END);
    size_t n = 0;
    double *v = np_xcalloc(np_cli_len(runs) + 1, sizeof(*v));
    for (size_t i = 0; i < np_cli_len(runs); i++) {
        json_object *s = np_json_path(json_object_array_get_idx(runs, i), "seconds", NP_JSON_END);
        if (s)
            v[n++] = json_object_get_double(s);
    }
    qsort(v, n, sizeof(*v), cmp_double);
    if (n > 0) {
        json_object_object_add(result, "p50", json_object_new_double(percentile(v, n, 0.50)));
        json_object_object_add(result, "p99", json_object_new_double(percentile(v, n, 0.99)));
    }
    free(v);
}

static int play(struct game_day *g)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < g->o->count; i++)
        rc = one_run(g, i);
    if (g->o->wait)
        summarise(g->result);
    if (g->o->format == NP_CLI_TEXT && g->o->wait && g->o->count > 1 &&
        np_json_path(g->result, "p50", NP_JSON_END))
        printf("time to remediate over %d runs: p50 %.3fs p99 %.3fs\n", g->o->count,
               json_object_get_double(np_json_path(g->result, "p50", NP_JSON_END)),
               json_object_get_double(np_json_path(g->result, "p99", NP_JSON_END)));
    return rc;
}

/* The posture's spec and the AWS client for its region. */
static int parse_and_connect(struct game_day *g)
{
    json_object *spec = np_json_path(g->obj, "spec", NP_JSON_END);
    int rc = g->vpc ? np_posture_vpc_spec_parse(&g->vspec, spec)
                    : np_posture_sg_spec_parse(&g->spec, spec);
    if (rc == 0)
        rc = np_cli_ec2_new(&g->ec2, &g->o->aws, g->vpc ? g->vspec->region : g->spec->region);
    return rc;
}

/* The posture from the cluster, its game-day label, and the AWS client. */
static int set_up(struct game_day *g, struct np_kube_client **kc)
{
    int rc = np_cli_kube_connect(kc, g->o->kubeconfig);
    g->ns = g->o->ns ? g->o->ns : *kc ? np_kube_client_namespace(*kc) : "default";
    g->vpc = g->o->kind == NP_CLI_DRIFT_NACL_ENTRY || g->o->kind == NP_CLI_DRIFT_ROUTE;
    const char *kind = g->vpc ? "VPCPosture" : "SecurityGroupPosture";
    if (rc == 0)
        rc = np_kube_get(*kc, &g->obj, g->vpc ? &np_cli_res_vpcp : &np_cli_res_sgp, g->ns,
                         g->o->name);
    if (rc == NP_ENOTFOUND)
        return np_error_set(rc, "no %s %s/%s (--kind %s)", kind, g->ns, g->o->name,
                            KIND_NAMES[g->o->kind]);
    const char *label =
        rc ? NULL : np_json_path_str(g->obj, "metadata", "labels", GAME_DAY_LABEL, NP_JSON_END);
    if (rc == 0 && !g->o->yes && !np_str_eq(label, "allowed"))
        return np_error_set(NP_EDENIED,
                            "%s/%s is not labelled %s=allowed: label it for game days, or pass "
                            "--yes",
                            g->ns, g->o->name, GAME_DAY_LABEL);
    return rc == 0 ? parse_and_connect(g) : rc;
}

static bool timed_out(json_object *result)
{
    json_object *runs = np_json_path(result, "runs", NP_JSON_END);
    for (size_t i = 0; i < np_cli_len(runs); i++) {
        json_object *run = json_object_array_get_idx(runs, i);
        if (json_object_object_get_ex(run, "seconds", NULL) &&
            !np_json_path(run, "seconds", NP_JSON_END))
            return true;
    }
    return false;
}

static void no_text(FILE *out, json_object *data)
{
    (void)out; /* the text form was printed as the runs went */
    (void)data;
}

static int run_inject(const char *prog, const struct inject_opts *o)
{
    struct game_day g = {.o = o, .prog = prog, .result = json_object_new_object()};
    struct np_kube_client *kc = NULL;
    int rc = set_up(&g, &kc);
    char *posture = np_strdupf("%s/%s", g.ns ? g.ns : "", o->name);
    np_json_put_str(g.result, "posture", posture);
    free(posture);
    np_json_put_str(g.result, "kind", KIND_NAMES[o->kind]);
    json_object_object_add(g.result, "runs", json_object_new_array());
    if (rc == 0)
        rc = play(&g);
    int code;
    if (rc == NP_ETIMEOUT) { /* a finding: the controller did not repair in time */
        fprintf(stderr, "%s inject-drift: %s\n", prog, np_error_message());
        rc = 0;
    }
    struct np_cli_report_ops ops = {o->format, no_text, timed_out};
    code = np_cli_report(prog, "inject-drift", rc, g.result, &ops);
    json_object_put(g.result);
    json_object_put(g.obj);
    np_posture_sg_spec_destroy(g.spec);
    np_posture_vpc_spec_destroy(g.vspec);
    np_aws_ec2_destroy(g.ec2);
    np_kube_client_destroy(kc);
    return code;
}

/* ---------------------------------------------------------------- options */

static const char INJECT_USAGE[] =
    "usage: %s inject-drift -n NAMESPACE NAME --kind KIND [--wait] [--timeout D] [--count K]\n"
    "                       [--yes] [options]\n"
    "\n"
    "A game day: makes one named out-of-band change to the security group a\n"
    "SecurityGroupPosture manages (or a VPCPosture's network ACL or route table), as an\n"
    "intruder or a console click would, and with --wait polls AWS until the controller has\n"
    "undone it and prints the time to remediate. Only a resource carrying the posture's\n"
    "ownership tags (netposture.dev/owner=NS/NAME and its uid) is touched, and only for a\n"
    "posture labelled netposture.dev/game-day=allowed unless --yes.\n"
    "A change not undone within the timeout is put back by this command (exit 1).\n"
    "\n"
    "Kinds: open-port (tcp 22, 3389, ... from 0.0.0.0/0, one the posture does not allow),\n"
    "remove-rule (revoke a declared rule), delete-tag (a declared tag), change-description\n"
    "(of a declared rule) on a SecurityGroupPosture; on a VPCPosture, nacl-entry (an entry\n"
    "allowing tcp 22 from 0.0.0.0/0 in its first network ACL) and route (a declared route\n"
    "deleted from its first route table that declares routes).\n"
    "--count K repeats it and prints p50/p99; open-port opens another port each run, while the\n"
    "other kinds repeat the same change, which the controller reports as Contested (someone\n"
    "fighting it) from the third time within ten minutes.\n"
    "\n"
    "  -n, --namespace NS      the posture's namespace (default: the kubeconfig context's)\n"
    "      --kind KIND         the change to make\n"
    "      --wait              poll until it is undone; print the time to remediate\n"
    "      --timeout D         how long to wait per run (default 60s)\n"
    "      --count K           runs (with --wait; default 1)\n"
    "  -y, --yes               without the game-day label\n"
    "  -o, --output FORMAT     text (as it goes), json or yaml (the runs and p50/p99 at the end)\n"
    "      --region REGION     default: the posture's spec.region, AWS_REGION, AWS_DEFAULT_REGION\n"
    "      --endpoint-url URL  the EC2 endpoint (default: AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL)\n"
    "      --kubeconfig PATH   default $KUBECONFIG, in-cluster, ~/.kube/config\n"
    "\n"
    "Exit status: 0 injected (and undone, with --wait), 1 not undone in time, 2 usage, a\n"
    "refusal (not ours, no label), API or AWS error.\n";

/* One option; returns -1 to go on, else the exit code. */
static int inject_option(const char *prog, int c, struct inject_opts *o)
{
    switch (c) {
    case 'n': o->ns = optarg; return -1;
    case 'K':
        o->have_kind = true;
        if (np_cli_drift_kind_parse(optarg, &o->kind) == 0)
            return -1;
        return np_cli_usage_error(prog, "inject-drift", "%s", np_error_message());
    case 'w': o->wait = true; return -1;
    case 't':
        if (np_duration_parse(optarg, &o->timeout_ms) == 0 && o->timeout_ms > 0)
            return -1;
        return np_cli_usage_error(prog, "inject-drift", "--timeout %s: not a duration", optarg);
    case 'c':
        o->count = (int)strtol(optarg, NULL, 10);
        if (o->count >= 1 && o->count <= MAX_COUNT)
            return -1;
        return np_cli_usage_error(prog, "inject-drift", "--count %s: 1 to 1000", optarg);
    case 'y': o->yes = true; return -1;
    case 'r': o->aws.region = optarg; return -1;
    case 'e': o->aws.endpoint = optarg; return -1;
    case 'k': o->kubeconfig = optarg; return -1;
    case 'h': fprintf(stdout, INJECT_USAGE, prog); return NP_CLI_EXIT_OK;
    case 'o':
        if (np_cli_format_parse(&o->format, optarg) == 0)
            return -1;
        return np_cli_usage_error(prog, "inject-drift", "%s", np_error_message());
    default: return np_cli_usage_error(prog, "inject-drift", "bad option%s", "");
    }
}

int np_cli_cmd_inject_drift(const char *prog, int argc, char **argv)
{
    static const struct option longopts[] = {{"namespace", required_argument, NULL, 'n'},
                                             {"kind", required_argument, NULL, 'K'},
                                             {"wait", no_argument, NULL, 'w'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"count", required_argument, NULL, 'c'},
                                             {"yes", no_argument, NULL, 'y'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"region", required_argument, NULL, 'r'},
                                             {"endpoint-url", required_argument, NULL, 'e'},
                                             {"kubeconfig", required_argument, NULL, 'k'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct inject_opts o = {.timeout_ms = 60000, .count = 1};
    int c, rc = -1;
    optind = 0;
    while (rc < 0 && (c = getopt_long(argc, argv, "n:o:yh", longopts, NULL)) != -1)
        rc = inject_option(prog, c, &o);
    if (rc >= 0)
        return rc;
    if (argc - optind != 1 || !o.have_kind)
        return np_cli_usage_error(prog, "inject-drift", "name the posture and give --kind%s", "");
    if (o.count > 1 && !o.wait)
        return np_cli_usage_error(prog, "inject-drift", "--count needs --wait%s", "");
    o.name = argv[optind];
    return run_inject(prog, &o);
}
