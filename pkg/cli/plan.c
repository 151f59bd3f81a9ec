/*
 * netposturectl plan: a SecurityGroupPosture (from a file, or from the cluster) against its live
 * group in AWS, nothing changed. The plan is pkg/posture's, built as the controller builds the
 * plan it proposes (the policy in Propose mode: live exceptions tolerate their drift), and its
 * id is np_posture_plan_id over the same text and the same fingerprint of the group, so for a
 * Propose-mode posture it equals status.plan.id.
 */
#include "cli/private/cli_private.h"
#include "kube/kube.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- the plan (no I/O) */

/* The rule AWS puts in every new group: all traffic out to 0.0.0.0/0. */
static void new_group_rules(struct np_posture_ruleset *out)
{
    struct np_posture_raw_rule egress = {
        .egress = true, .protocol = "-1", .peer_kind = NP_POSTURE_PEER_CIDR4, .peer = "0.0.0.0/0"};
    np_posture_observed(out, &egress, 1);
}

static void count_change(struct np_cli_plan *out, enum np_posture_change c)
{
    if (c == NP_POSTURE_MISSING || c == NP_POSTURE_TAG_MISSING)
        out->add++;
    else if (c == NP_POSTURE_EXTRA || c == NP_POSTURE_TAG_EXTRA)
        out->remove++;
    else
        out->change++;
}

int np_cli_plan_select(struct np_cli_plan *out, struct np_posture_delta *sel,
                       const struct np_posture_remediation *rem,
                       const struct np_posture_delta *delta, int64_t now_ms)
{
    struct np_posture_remediation propose = *rem;
    propose.mode = NP_POSTURE_MODE_PROPOSE;
    propose.grace_ms = 0;
    struct np_posture_verdict v = {0};
    int rc = np_posture_policy_decide(&v, &(struct np_posture_policy_input){.remediation = &propose,
                                                                            .delta = delta,
                                                                            .now_ms = now_ms});
    if (rc == 0)
        rc = np_posture_delta_select(sel, delta, &v, NP_POSTURE_ITEM_PROPOSED);
    out->excepted = v.n_excepted;
    for (size_t i = 0; rc == 0 && i < sel->n; i++)
        count_change(out, sel->items[i].change);
    np_posture_verdict_clean_up(&v);
    return rc;
}

/* Prepends a first line (owned) to the plan's lines: the creation of the group or VPC. */
void np_cli_plan_prepend(struct np_cli_plan *out, char *line)
{
    char **lines = np_xcalloc(out->n + 2, sizeof(char *));
    lines[0] = line;
    if (out->lines)
        memcpy(lines + 1, out->lines, (out->n + 1) * sizeof(char *));
    free(out->lines);
    out->lines = lines;
    out->n++;
    out->add++;
}

/* The delta of the group against the desired rules and tags, marked by the guardrails. */
static int sg_delta(struct np_posture_delta *delta, const struct np_posture_sg_spec *spec,
                    const struct np_posture_ruleset *want, const struct np_aws_sg *sg,
                    const struct np_cli_guardrails *gr, const char *ns, const char *name)
{
    struct np_posture_ruleset got = {0};
    size_t n_have = sg ? sg->n_tags : 0;
    struct np_posture_tag *have = np_xcalloc(n_have + 1, sizeof(*have));
    if (sg) {
        np_observe_sg_rules(sg, &got);
        np_observe_tags(have, sg->tags, sg->n_tags);
    } else {
        new_group_rules(&got);
    }
    int rc =
        np_posture_diff(delta, want, &got, spec->tags, spec->n_tags, have, n_have, spec->ownership);
    if (rc == 0 && gr && gr->n > 0)
        rc = np_posture_guardrail_mark(delta, want, &got, spec->ownership, gr->items, gr->n, ns,
                                       name);
    free(have);
    np_posture_ruleset_clean_up(&got);
    return rc;
}

int np_cli_sg_plan_compute(struct np_cli_plan *out, const struct np_posture_sg_spec *spec,
                           const struct np_posture_ruleset *want, const struct np_aws_sg *sg,
                           const struct np_cli_guardrails *gr, const char *ns, const char *name,
                           int64_t now_ms)
{
    memset(out, 0, sizeof(*out));
    struct np_posture_delta delta = {0}, sel = {0};
    struct np_posture_plan plan = {0};
    int rc = sg_delta(&delta, spec, want, sg, gr, ns, name);
    if (rc == 0)
        rc = np_cli_plan_select(out, &sel, &spec->remediation, &delta, now_ms);
    if (rc == 0)
        rc = np_posture_plan_build(&plan, &sel);
    if (rc == 0)
        rc = np_posture_plan_text(&out->lines, &out->n, &plan);
    if (rc == 0 && sg && out->n > 0)
        out->id = np_posture_plan_id(out->lines, np_aws_sg_fingerprint(sg), np_aws_sha256_hex);
    if (rc == 0 && !sg)
        np_cli_plan_prepend(out, np_strdupf("create security group %s", spec->group_name));
    np_posture_plan_clean_up(&plan);
    np_posture_delta_clean_up(&sel);
    np_posture_delta_clean_up(&delta);
    if (rc)
        np_cli_plan_clean_up(out);
    return rc;
}

void np_cli_plan_clean_up(struct np_cli_plan *p)
{
    np_posture_lines_free(p->lines);
    free(p->id);
    memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- one posture */

struct plan_opts {
    struct np_cli_aws_opts aws;
    const char *kubeconfig;
    const char *ns;
    enum np_cli_format format;
    const char **guardrail_files;
    size_t n_guardrail_files;
};

/* Lazily connected cluster, for peers named in a file and for -n NS NAME. */
struct session {
    const struct plan_opts *o;
    struct np_kube_client *kube;
    struct np_aws_ec2 *ec2;
    struct np_cli_validator *guardrails; /* holds those of --guardrails */
    struct np_cli_guardrails gr;
};

static int session_kube(struct session *s, struct np_kube_client **out)
{
    int rc = s->kube ? 0 : np_cli_kube_connect(&s->kube, s->o->kubeconfig);
    *out = s->kube;
    return rc;
}

/* Looks up the group ids of the peer postures the spec names (status.groupId in the cluster). */
static int resolve_peers(struct session *s, const struct np_cli_plan_target *t,
                         const struct np_posture_sg_spec *spec, struct np_posture_ruleset *want)
{
    const char **names = NULL;
    size_t n = 0;
    np_posture_peer_names(&names, &n, spec);
    if (n == 0)
        return 0;
    struct np_kube_client *kc = NULL;
    int rc = session_kube(s, &kc);
    struct np_posture_peer *peers = np_xcalloc(n, sizeof(*peers));
    json_object **objs = np_xcalloc(n, sizeof(*objs));
    for (size_t i = 0; rc == 0 && i < n; i++) {
        peers[i].name = names[i];
        if (np_kube_get(kc, &objs[i], &np_cli_res_sgp, t->ns, names[i]) != 0)
            peers[i].why = "is not in the cluster";
        else
            peers[i].group_id = np_json_path_str(objs[i], "status", "groupId", NP_JSON_END);
    }
    if (rc == 0)
        rc = np_posture_ruleset_resolve(want, spec, &(struct np_posture_peers){peers, n});
    else
        rc = np_error_set(rc, "peers named in the spec need the cluster: %s", np_error_message());
    for (size_t i = 0; i < n; i++)
        json_object_put(objs[i]);
    free(objs);
    free(peers);
    free(names);
    return rc;
}

/* The live group (*sg owned; NULL when the controller would create it). */
static int find_group(struct session *s, const struct np_cli_plan_target *t,
                      const struct np_posture_sg_spec *spec, struct np_aws_sg **sg)
{
    *sg = NULL;
    const char *status_id = np_json_path_str(t->obj, "status", "groupId", NP_JSON_END);
    const char *uid = np_json_path_str(t->obj, "metadata", "uid", NP_JSON_END);
    if (spec->management.policy == NP_POSTURE_MANAGEMENT_ADOPT)
        return np_cli_describe_group(s->ec2, spec->management.group_id, sg);
    if (t->from_cluster && status_id)
        return np_cli_describe_group(s->ec2, status_id, sg);
    int rc;
    if (t->from_cluster && uid) {
        rc = np_cli_find_group_by_tag(s->ec2, NP_POSTURE_TAG_UID, uid, sg);
    } else {
        char *owner = np_strdupf("%s/%s", t->ns, t->name);
        rc = np_cli_find_group_by_tag(s->ec2, NP_POSTURE_TAG_OWNER, owner, sg);
        free(owner);
    }
    return rc == NP_ENOTFOUND ? 0 : rc;
}

json_object *np_cli_plan_json(const struct np_cli_plan_target *t, const char *kind,
                              const char *id_key, const char *resource_id,
                              const struct np_cli_plan *p, const char *region)
{
    json_object *o = json_object_new_object();
    np_json_put_str(o, "kind", kind);
    np_json_put_str(o, "namespace", t->ns);
    np_json_put_str(o, "name", t->name);
    np_json_put_str(o, id_key, resource_id);
    np_json_put_str(o, "region", region);
    json_object_object_add(o, "create", json_object_new_boolean(!resource_id));
    np_json_put_str(o, "id", p->id);
    json_object *acts = json_object_new_array();
    for (size_t i = 0; i < p->n; i++)
        json_object_array_add(acts, json_object_new_string(p->lines[i]));
    json_object_object_add(o, "actions", acts);
    json_object *sum = json_object_new_object();
    json_object_object_add(sum, "add", json_object_new_int64((int64_t)p->add));
    json_object_object_add(sum, "change", json_object_new_int64((int64_t)p->change));
    json_object_object_add(sum, "remove", json_object_new_int64((int64_t)p->remove));
    json_object_object_add(o, "summary", sum);
    json_object_object_add(o, "excepted", json_object_new_int64((int64_t)p->excepted));
    return o;
}

/* "SecurityGroupPosture ns/name: security group sg-1 in eu-west-1" (or "no ... yet"). */
static void plan_heading(FILE *out, json_object *plan)
{
    const char *kind = np_json_path_str(plan, "kind", NP_JSON_END);
    bool vpc = np_str_eq(kind, "VPCPosture");
    const char *id = np_json_path_str(plan, vpc ? "vpcId" : "groupId", NP_JSON_END);
    const char *noun = vpc ? "VPC" : "security group";
    const char *region = np_json_path_str(plan, "region", NP_JSON_END);
    fprintf(out, "%s %s/%s: ", kind, np_json_path_str(plan, "namespace", NP_JSON_END),
            np_json_path_str(plan, "name", NP_JSON_END));
    if (id)
        fprintf(out, "%s %s in %s\n", noun, id, region);
    else
        fprintf(out, "no %s yet in %s\n", noun, region);
}

/* One plan as text: a heading, one indented line per change, the id, and `+A ~C -R`. */
static void plan_text(FILE *out, json_object *plan)
{
    plan_heading(out, plan);
    json_object *acts = np_json_path(plan, "actions", NP_JSON_END);
    for (size_t i = 0; i < np_cli_len(acts); i++)
        fprintf(out, "  %s\n", json_object_get_string(json_object_array_get_idx(acts, i)));
    if (np_cli_len(acts) == 0)
        fprintf(out, "  no changes\n");
    int64_t excepted = np_json_path_int(plan, 0, "excepted", NP_JSON_END);
    if (excepted > 0)
        fprintf(out, "  (%lld drift item(s) tolerated by an exception: not in the plan)\n",
                (long long)excepted);
    const char *id = np_json_path_str(plan, "id", NP_JSON_END);
    if (id)
        fprintf(out, "plan id %s\n", id);
    fprintf(out, "+%lld ~%lld -%lld\n",
            (long long)np_json_path_int(plan, 0, "summary", "add", NP_JSON_END),
            (long long)np_json_path_int(plan, 0, "summary", "change", NP_JSON_END),
            (long long)np_json_path_int(plan, 0, "summary", "remove", NP_JSON_END));
}

int np_cli_guardrail_refusal(const char *guardrail, const char *rule, const char *what)
{
    return np_error_set(NP_EDENIED,
                        "guardrail %s rule %s (Deny) forbids %s; the controller refuses the "
                        "posture (Ready=False GuardrailViolation) and plans nothing",
                        guardrail, rule, what);
}

/* A Deny guardrail forbidding a desired rule (peers not resolved: guardrails judge CIDRs). */
static int sg_guardrails_refuse(const struct np_cli_plan_target *t,
                                const struct np_posture_ruleset *want,
                                const struct np_cli_guardrails *gr)
{
    struct np_posture_violation *v = NULL;
    size_t n = 0;
    int rc = 0;
    if (gr->n > 0)
        np_posture_guardrail_check(&v, &n, gr->items, gr->n, t->ns, t->name, want);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (v[i].guardrail->enforcement == NP_POSTURE_GUARDRAIL_DENY) {
            char *text = np_posture_rule_text(v[i].atomic);
            char *what =
                np_strdupf("%s %s", np_posture_direction_name(v[i].atomic->direction), text);
            rc = np_cli_guardrail_refusal(v[i].guardrail->name, v[i].rule->id, what);
            free(what);
            free(text);
        }
    free(v);
    return rc;
}

/* Plans one SecurityGroupPosture object; appends its plan to plans. */
static int plan_sgp(struct session *s, const struct np_cli_plan_target *t, json_object *plans)
{
    struct np_posture_sg_spec *spec = NULL;
    struct np_posture_ruleset want = {0};
    struct np_aws_sg *sg = NULL;
    struct np_cli_plan p = {0};
    int rc = np_posture_sg_spec_parse(&spec, np_json_path(t->obj, "spec", NP_JSON_END));
    if (rc == 0)
        rc = np_posture_desired(&want, spec);
    if (rc == 0)
        rc = sg_guardrails_refuse(t, &want, &s->gr);
    if (rc == 0)
        rc = resolve_peers(s, t, spec, &want);
    if (rc == 0)
        rc = np_cli_ec2_for(&s->ec2, &s->o->aws, spec->region);
    if (rc == 0)
        rc = find_group(s, t, spec, &sg);
    if (rc == 0)
        rc = np_cli_sg_plan_compute(&p, spec, &want, sg, &s->gr, t->ns, t->name, np_time_now_ms());
    if (rc == 0)
        json_object_array_add(plans, np_cli_plan_json(t, "SecurityGroupPosture", "groupId",
                                                      sg ? sg->group_id : NULL, &p,
                                                      np_aws_ec2_region(s->ec2)));
    else
        rc = np_error_set(rc, "SecurityGroupPosture %s/%s: %s", t->ns, t->name, np_error_message());
    np_cli_plan_clean_up(&p);
    np_aws_sg_free(sg);
    np_posture_ruleset_clean_up(&want);
    np_posture_sg_spec_destroy(spec);
    return rc;
}

/* Plans the object if it is a posture (other kinds are skipped). */
static int plan_object(struct session *s, const struct np_cli_plan_target *t, json_object *plans)
{
    const char *kind = np_json_path_str(t->obj, "kind", NP_JSON_END);
    if (np_str_eq(kind, "VPCPosture"))
        return np_cli_plan_vpcp(&s->ec2, &s->o->aws, t, &s->gr, plans);
    if (np_str_eq(kind, "SecurityGroupPosture"))
        return plan_sgp(s, t, plans);
    return 0;
}

/* ---------------------------------------------------------------- sources */

static int plan_file(struct session *s, const char *path, json_object *plans)
{
    char *data = NULL;
    size_t len = 0;
    struct np_cli_docs docs = {0};
    int line = 0, col = 0;
    int rc = np_cli_read_input(&data, &len, path);
    if (rc == 0 && (rc = np_cli_yaml_load(&docs, data, len, &line, &col)) != 0)
        rc = np_error_set(rc, "%s:%d:%d: %s", path, line, col, np_error_message());
    for (size_t i = 0; rc == 0 && i < docs.n; i++) {
        json_object *obj = docs.items[i].root;
        const char *ns = np_json_path_str(obj, "metadata", "namespace", NP_JSON_END);
        struct np_cli_plan_target t = {obj,
                                       ns         ? ns
                                       : s->o->ns ? s->o->ns
                                                  : "default",
                                       np_json_path_str(obj, "metadata", "name", NP_JSON_END),
                                       false};
        if (!t.name || !json_object_is_type(obj, json_type_object))
            continue;
        rc = plan_object(s, &t, plans);
    }
    if (rc == 0 && np_cli_len(plans) == 0)
        rc = np_error_set(NP_EINVAL, "%s holds no SecurityGroupPosture or VPCPosture", path);
    np_cli_docs_clean_up(&docs);
    free(data);
    return rc;
}

/* Plans the posture of this kind named ns/name in the cluster, if there is one (*found). */
static int plan_cluster_kind(struct session *s, const struct np_kube_resource *res,
                             const char *kind, const char *ns, const char *name, bool *found,
                             json_object *plans)
{
    json_object *obj = NULL;
    int rc = np_kube_get(s->kube, &obj, res, ns, name);
    if (rc == NP_ENOTFOUND) {
        np_error_clear();
        return 0;
    }
    if (rc == 0) {
        *found = true;
        np_json_put_str(obj, "kind", kind);
        struct np_cli_plan_target t = {obj, ns, name, true};
        rc = plan_object(s, &t, plans);
    }
    json_object_put(obj);
    return rc;
}

/* The SecurityGroupPosture and the VPCPosture of that name in the cluster (either or both). */
static int plan_cluster(struct session *s, const char *name, json_object *plans)
{
    struct np_kube_client *kc = NULL;
    bool found = false;
    int rc = session_kube(s, &kc);
    const char *ns = s->o->ns ? s->o->ns : kc ? np_kube_client_namespace(kc) : "default";
    if (rc == 0)
        rc = plan_cluster_kind(s, &np_cli_res_sgp, "SecurityGroupPosture", ns, name, &found, plans);
    if (rc == 0)
        rc = plan_cluster_kind(s, &np_cli_res_vpcp, "VPCPosture", ns, name, &found, plans);
    if (rc == 0 && !found)
        rc = np_error_set(NP_ENOTFOUND, "no SecurityGroupPosture or VPCPosture %s/%s", ns, name);
    return rc;
}

/* Whether the argument names a file ("-", an existing file, or a .yaml/.yml/.json name). */
static bool names_file(const char *arg)
{
    struct stat st;
    size_t n = strlen(arg);
    if (strcmp(arg, "-") == 0 || stat(arg, &st) == 0)
        return true;
    return (n > 5 && strcmp(arg + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(arg + n - 4, ".yml") == 0) ||
           (n > 5 && strcmp(arg + n - 5, ".json") == 0);
}

void np_cli_plan_text(FILE *out, json_object *plans)
{
    for (size_t i = 0; i < np_cli_len(plans); i++)
        plan_text(out, json_object_array_get_idx(plans, i));
}

static bool any_changes(json_object *plans)
{
    for (size_t i = 0; i < np_cli_len(plans); i++)
        if (np_cli_len(np_json_path(json_object_array_get_idx(plans, i), "actions", NP_JSON_END)))
            return true;
    return false;
}

/* Loads the PostureGuardrails of --guardrails (validated as `validate` does: any error in
 * them is an error of the command). */
static int load_guardrails(struct session *s)
{
    const struct plan_opts *o = s->o;
    struct np_cli_findings f = {0};
    int rc = o->n_guardrail_files > 0 ? np_cli_validator_new(&s->guardrails) : 0;
    for (size_t i = 0; rc == 0 && i < o->n_guardrail_files; i++) {
        char *data = NULL;
        size_t len = 0;
        rc = np_cli_read_input(&data, &len, o->guardrail_files[i]);
        if (rc == 0)
            np_cli_validator_add_guardrails(s->guardrails, o->guardrail_files[i], data, len, &f);
        free(data);
    }
    for (size_t i = 0; rc == 0 && i < f.n; i++)
        if (f.items[i].severity == NP_CLI_ERROR) {
            char *text = np_cli_finding_text(&f.items[i]);
            rc = np_error_set(NP_EINVAL, "--guardrails: %s", text);
            free(text);
        }
    if (rc == 0 && s->guardrails)
        s->gr.items = np_cli_validator_guardrails(s->guardrails, &s->gr.n);
    np_cli_findings_clean_up(&f);
    return rc;
}

static int run_plan(const char *prog, const struct plan_opts *o, const char *arg)
{
    struct session s = {.o = o};
    json_object *plans = json_object_new_array();
    int rc = load_guardrails(&s);
    if (rc == 0)
        rc = names_file(arg) ? plan_file(&s, arg, plans) : plan_cluster(&s, arg, plans);
    struct np_cli_report_ops ops = {o->format, np_cli_plan_text, any_changes};
    int code = np_cli_report(prog, "plan", rc, plans, &ops);
    json_object_put(plans);
    np_aws_ec2_destroy(s.ec2);
    np_kube_client_destroy(s.kube);
    np_cli_validator_destroy(s.guardrails);
    free(o->guardrail_files);
    return code;
}

/* ---------------------------------------------------------------- options */

static const char PLAN_USAGE[] =
    "usage: %s plan [options] FILE | -\n"
    "       %s plan [options] -n NAMESPACE NAME\n"
    "\n"
    "Compares SecurityGroupPostures and VPCPostures (every one in FILE, or the one in the\n"
    "cluster) with their live security groups and VPCs in AWS and prints the plan the controller\n"
    "would compute, changing nothing: one line per change (the controller's plan text), the\n"
    "plan id, and a summary `+ADD ~CHANGE -REMOVE`. The plan is what the controller would\n"
    "propose (drift a live exception tolerates is left out); for a Propose-mode posture in the\n"
    "cluster the id equals status.plan.id (pass the PostureGuardrails that govern it with\n"
    "--guardrails: they order the plan). The group or VPC is management.groupId/vpcId (Adopt),\n"
    "else status.groupId/vpcId or the one tagged with the posture's uid (cluster), else the one\n"
    "tagged netposture.dev/owner=NS/NAME; with none, the plan starts with its creation (the\n"
    "controller creates only in Enforce mode). A posture the controller would refuse (a Deny\n"
    "guardrail of --guardrails, an adopted VPC another posture owns) is an error, as there is\n"
    "no plan. Peers named by posture need the cluster.\n"
    "\n"
    "  -o, --output FORMAT     text, json or yaml\n"
    "  -n, --namespace NS      the posture's namespace (FILE: for objects without one)\n"
    "      --region REGION     default: the posture's spec.region, AWS_REGION, AWS_DEFAULT_REGION\n"
    "      --endpoint-url URL  the EC2 endpoint (default: AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL)\n"
    "      --kubeconfig PATH   default $KUBECONFIG, in-cluster, ~/.kube/config\n"
    "      --guardrails FILE   PostureGuardrails governing the postures (repeatable)\n"
    "\n"
    "Credentials: the AWS chain (environment, web identity, container, instance metadata).\n"
    "Exit status: 0 nothing to change, 1 the plan is not empty, 2 usage, I/O or AWS error.\n";

int np_cli_cmd_plan(const char *prog, int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"namespace", required_argument, NULL, 'n'},
                                             {"region", required_argument, NULL, 'r'},
                                             {"endpoint-url", required_argument, NULL, 'e'},
                                             {"kubeconfig", required_argument, NULL, 'k'},
                                             {"guardrails", required_argument, NULL, 'g'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct plan_opts o = {0};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "o:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o.ns = optarg; break;
        case 'r': o.aws.region = optarg; break;
        case 'e': o.aws.endpoint = optarg; break;
        case 'k': o.kubeconfig = optarg; break;
        case 'g':
            o.guardrail_files = np_xrealloc(o.guardrail_files,
                                            (o.n_guardrail_files + 1) * sizeof(*o.guardrail_files));
            o.guardrail_files[o.n_guardrail_files++] = optarg;
            break;
        case 'h':
            free(o.guardrail_files);
            fprintf(stdout, PLAN_USAGE, prog, prog);
            return NP_CLI_EXIT_OK;
        case 'o':
            if (np_cli_format_parse(&o.format, optarg) == 0)
                break;
            free(o.guardrail_files);
            return np_cli_usage_error(prog, "plan", "%s", np_error_message());
        default:
            free(o.guardrail_files);
            return np_cli_usage_error(prog, "plan", "bad option%s", "");
        }
    }
    if (argc - optind != 1) {
        free(o.guardrail_files);
        return np_cli_usage_error(prog, "plan", "give one FILE, or -n NAMESPACE NAME%s", "");
    }
    return run_plan(prog, &o, argv[optind]);
}
