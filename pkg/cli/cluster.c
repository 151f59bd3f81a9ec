/*
 * The commands that need a cluster, reached as the controller reaches it (--kubeconfig, else
 * $KUBECONFIG, in-cluster, ~/.kube/config): status (a table of postures with Ready, Drifted,
 * Contested and their drift items) and approve (prints status.plan, asks, and sets the
 * annotation netposture.dev/approve-plan to that plan's id, refusing when the id moved).
 */
#include "cli/private/cli_private.h"
#include "kube/kube.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define APPROVE_ANNOTATION "netposture.dev/approve-plan"
#define MAX_CONFLICTS 5

const struct np_kube_resource np_cli_res_sgp = {"netposture.dev", "v1alpha1",
                                                "securitygrouppostures", true};
const struct np_kube_resource np_cli_res_vpcp = {"netposture.dev", "v1alpha1", "vpcpostures", true};

struct cluster_opts {
    const char *kubeconfig;
    const char *ns;
    bool all_namespaces;
    enum np_cli_format format;
    const char *plan_id;
    bool yes;
    const char *name;
};

/* ---------------------------------------------------------------- status (pure part) */

/* The status of a condition type ("True", "False", "Unknown"; "" when absent), borrowed. */
static const char *condition(json_object *obj, const char *type, const char **reason)
{
    json_object *conds = np_json_path(obj, "status", "conditions", NP_JSON_END);
    for (size_t i = 0; i < np_cli_len(conds); i++) {
        json_object *c = json_object_array_get_idx(conds, i);
        if (np_str_eq(np_json_path_str(c, "type", NP_JSON_END), type)) {
            if (reason)
                *reason = np_json_path_str(c, "reason", NP_JSON_END);
            return np_json_path_str(c, "status", NP_JSON_END);
        }
    }
    return "";
}

static const char *or_dash(const char *s)
{
    return np_str_is_empty(s) ? "-" : s;
}

/* One posture as the status command shows it (owned). */
json_object *np_cli_status_row(json_object *obj)
{
    const char *reason = NULL;
    json_object *row = json_object_new_object();
    np_json_put_str(row, "kind", np_json_path_str(obj, "kind", NP_JSON_END));
    np_json_put_str(row, "namespace", np_kube_object_namespace(obj));
    np_json_put_str(row, "name", np_kube_object_name(obj));
    np_json_put_str(row, "ready", or_dash(condition(obj, "Ready", &reason)));
    np_json_put_str(row, "reason", or_dash(reason));
    np_json_put_str(row, "drifted", or_dash(condition(obj, "Drifted", NULL)));
    np_json_put_str(row, "contested", or_dash(condition(obj, "Contested", NULL)));
    const char *mode = np_json_path_str(obj, "spec", "remediation", "mode", NP_JSON_END);
    np_json_put_str(row, "mode", mode ? mode : "Enforce");
    np_json_put_str(row, "plan", np_json_path_str(obj, "status", "plan", "id", NP_JSON_END));
    json_object *items = np_json_path(obj, "status", "drift", "items", NP_JSON_END);
    json_object_object_add(row, "drift", items ? json_object_get(items) : json_object_new_array());
    return row;
}

/* prefix, then s made visible (np_cli_visible: the cluster's strings are not trusted). */
static void put(FILE *out, const char *prefix, const char *s)
{
    fputs(prefix, out);
    np_cli_fputs_visible(out, s);
}

static void print_drift_item(FILE *out, json_object *it)
{
    put(out, "    ", or_dash(np_json_path_str(it, "direction", NP_JSON_END)));
    put(out, " ", or_dash(np_json_path_str(it, "change", NP_JSON_END)));
    put(out, " ", or_dash(np_json_path_str(it, "rule", NP_JSON_END)));
    put(out, ": ", or_dash(np_json_path_str(it, "state", NP_JSON_END)));
    const char *actor = np_json_path_str(it, "actor", NP_JSON_END);
    if (actor)
        put(out, ", actor ", actor);
    const char *first = np_json_path_str(it, "firstSeen", NP_JSON_END);
    if (first)
        put(out, ", first seen ", first);
    const char *guardrail = np_json_path_str(it, "guardrail", NP_JSON_END);
    if (guardrail)
        put(out, ", guardrail ", guardrail);
    fputc('\n', out);
}

static const char *const COLUMNS[] = {"kind",   "namespace", "name",      "ready",
                                      "reason", "drifted",   "contested", "mode"};
static const char *const HEADERS[] = {"KIND",   "NAMESPACE", "NAME",      "READY",
                                      "REASON", "DRIFTED",   "CONTESTED", "MODE"};

/* Cell c of a row as the table shows it (owned). */
static char *cell(json_object *row, size_t c)
{
    return np_cli_visible(np_json_path_str(row, COLUMNS[c], NP_JSON_END));
}

static void column_widths(json_object *rows, int *w)
{
    for (size_t c = 0; c < NP_ARRAY_LEN(COLUMNS); c++) {
        w[c] = (int)strlen(HEADERS[c]);
        for (size_t i = 0; i < np_cli_len(rows); i++) {
            char *v = cell(json_object_array_get_idx(rows, i), c);
            if ((int)strlen(v) > w[c])
                w[c] = (int)strlen(v);
            free(v);
        }
    }
}

/* The table: one line per posture, its drift items indented below it. Every string from the
 * cluster is made visible (np_cli_visible) so none can forge a row or reach the terminal. */
void np_cli_status_table(FILE *out, json_object *rows)
{
    int w[NP_ARRAY_LEN(COLUMNS)];
    column_widths(rows, w);
    w[NP_ARRAY_LEN(COLUMNS) - 1] = 0; /* the last column is not padded */
    for (size_t c = 0; c < NP_ARRAY_LEN(COLUMNS); c++)
        fprintf(out, "%-*s%s", w[c], HEADERS[c], c + 1 < NP_ARRAY_LEN(COLUMNS) ? "  " : "\n");
    for (size_t i = 0; i < np_cli_len(rows); i++) {
        json_object *row = json_object_array_get_idx(rows, i);
        for (size_t c = 0; c < NP_ARRAY_LEN(COLUMNS); c++) {
            char *v = cell(row, c);
            fprintf(out, "%-*s%s", w[c], v, c + 1 < NP_ARRAY_LEN(COLUMNS) ? "  " : "\n");
            free(v);
        }
        json_object *drift = np_json_path(row, "drift", NP_JSON_END);
        for (size_t k = 0; k < np_cli_len(drift); k++)
            print_drift_item(out, json_object_array_get_idx(drift, k));
        const char *plan = np_json_path_str(row, "plan", NP_JSON_END);
        if (plan) {
            put(out, "    plan ", plan);
            put(out, " held (approve: kubectl netposture approve -n ",
                np_json_path_str(row, "namespace", NP_JSON_END));
            put(out, " ", np_json_path_str(row, "name", NP_JSON_END));
            fputs(")\n", out);
        }
    }
}

/* ---------------------------------------------------------------- client */

int np_cli_kube_connect(struct np_kube_client **client, const char *kubeconfig)
{
    struct np_kube_config *cfg = NULL;
    int rc = np_kube_config_load(&cfg, kubeconfig);
    if (rc == 0) {
        struct np_kube_client_options o = {.user_agent = "netposturectl"};
        rc = np_kube_client_new(client, cfg, &o);
    }
    np_kube_config_destroy(cfg);
    return rc;
}

/* Appends the rows of one kind (all of ns, or only name) to rows. NP_ENOTFOUND for a name
 * that kind does not have. */
static int collect_kind(struct np_kube_client *kc, const struct np_kube_resource *res,
                        const char *ns, const char *name, json_object *rows)
{
    json_object *items = NULL;
    int rc;
    if (name) {
        json_object *obj = NULL;
        rc = np_kube_get(kc, &obj, res, ns, name);
        if (rc == 0) {
            items = json_object_new_array();
            json_object_array_add(items, obj);
        }
    } else {
        rc = np_kube_list(kc, &items, NULL, res, ns, NULL);
    }
    for (size_t i = 0; rc == 0 && i < np_cli_len(items); i++) {
        json_object *obj = json_object_array_get_idx(items, i);
        if (!np_json_path(obj, "kind", NP_JSON_END)) /* list items carry no kind */
            np_json_put_str(obj, "kind",
                            res == &np_cli_res_sgp ? "SecurityGroupPosture" : "VPCPosture");
        json_object_array_add(rows, np_cli_status_row(obj));
    }
    json_object_put(items);
    return rc;
}

static int collect(struct np_kube_client *kc, const struct cluster_opts *o, json_object *rows)
{
    const char *ns = o->all_namespaces ? NULL : o->ns ? o->ns : np_kube_client_namespace(kc);
    int a = collect_kind(kc, &np_cli_res_sgp, ns, o->name, rows);
    int b = collect_kind(kc, &np_cli_res_vpcp, ns, o->name, rows);
    if (o->name && a == NP_ENOTFOUND && b == NP_ENOTFOUND)
        return np_error_set(NP_ENOTFOUND, "no posture %s in namespace %s", o->name, ns);
    if (a && a != NP_ENOTFOUND)
        return a;
    return b == NP_ENOTFOUND ? 0 : b;
}

static bool any_not_ready(json_object *rows)
{
    for (size_t i = 0; i < np_cli_len(rows); i++)
        if (!np_str_eq(np_json_path_str(json_object_array_get_idx(rows, i), "ready", NP_JSON_END),
                       "True"))
            return true;
    return false;
}

static int run_status(const char *prog, const struct cluster_opts *o)
{
    struct np_kube_client *kc = NULL;
    json_object *rows = json_object_new_array();
    int rc = np_cli_kube_connect(&kc, o->kubeconfig);
    if (rc == 0)
        rc = collect(kc, o, rows);
    struct np_cli_report_ops ops = {o->format, np_cli_status_table, any_not_ready};
    int code = np_cli_report(prog, "status", rc, rows, &ops);
    json_object_put(rows);
    np_kube_client_destroy(kc);
    return code;
}

/* ---------------------------------------------------------------- approve */

/* Finds the posture named o->name: *res its kind, *obj (owned) the object. */
static int find_posture(struct np_kube_client *kc, const char *ns, const char *name,
                        const struct np_kube_resource **res, json_object **obj)
{
    *res = &np_cli_res_sgp;
    int rc = np_kube_get(kc, obj, &np_cli_res_sgp, ns, name);
    if (rc == NP_ENOTFOUND) {
        *res = &np_cli_res_vpcp;
        rc = np_kube_get(kc, obj, &np_cli_res_vpcp, ns, name);
    }
    if (rc == NP_ENOTFOUND)
        return np_error_set(NP_ENOTFOUND, "no SecurityGroupPosture or VPCPosture %s/%s", ns, name);
    return rc;
}

/* The plan as approve prints it (the cluster's strings made visible, as in the table). */
void np_cli_plan_print(FILE *out, json_object *obj)
{
    json_object *plan = np_json_path(obj, "status", "plan", NP_JSON_END);
    put(out, "plan ", np_json_path_str(plan, "id", NP_JSON_END));
    put(out, " of ", np_json_path_str(obj, "kind", NP_JSON_END));
    put(out, " ", np_kube_object_namespace(obj));
    put(out, "/", np_kube_object_name(obj));
    const char *at = np_json_path_str(plan, "computedAt", NP_JSON_END);
    if (at)
        put(out, ", computed ", at);
    fputc('\n', out);
    const char *reason = np_json_path_str(plan, "reason", NP_JSON_END);
    if (reason) {
        put(out, "  ", reason);
        fputc('\n', out);
    }
    json_object *actions = np_json_path(plan, "actions", NP_JSON_END);
    for (size_t i = 0; i < np_cli_len(actions); i++) {
        put(out, "  ", json_object_get_string(json_object_array_get_idx(actions, i)));
        fputc('\n', out);
    }
}

static bool confirmed(const char *id)
{
    char line[64];
    put(stderr, "Approve plan ", id);
    fputs("? [y/N] ", stderr);
    fflush(stderr);
    if (!fgets(line, sizeof(line), stdin))
        return false;
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, "y") == 0 || strcmp(line, "yes") == 0;
}

/* Sets the annotation to id, conditional on the resourceVersion the plan was read at.
 * Errors: NP_ECONFLICT when the object changed since. */
static int annotate(struct np_kube_client *kc, const struct np_kube_resource *res, json_object *obj,
                    const char *id)
{
    json_object *patch = json_object_new_object(), *meta = json_object_new_object();
    json_object *ann = json_object_new_object();
    np_json_put_str(ann, APPROVE_ANNOTATION, id);
    np_json_put_str(meta, "resourceVersion", np_kube_object_resource_version(obj));
    json_object_object_add(meta, "annotations", ann);
    json_object_object_add(patch, "metadata", meta);
    int rc = np_kube_patch(kc, NULL, res, np_kube_object_namespace(obj), np_kube_object_name(obj),
                           NULL, NP_KUBE_PATCH_MERGE,
                           json_object_to_json_string_ext(
                               patch, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(patch);
    return rc;
}

/* Approves the plan id shown (*code set): re-reads on a conflict, refusing when the plan id
 * moved meanwhile. */
static int approve_shown(struct np_kube_client *kc, const struct np_kube_resource *res,
                         json_object **obj, const char *ns, const char *name, const char *id)
{
    int rc = NP_ECONFLICT;
    for (int i = 0; rc == NP_ECONFLICT && i < MAX_CONFLICTS; i++) {
        rc = annotate(kc, res, *obj, id);
        if (rc != NP_ECONFLICT)
            break;
        json_object_put(*obj);
        *obj = NULL;
        int grc = np_kube_get(kc, obj, res, ns, name);
        if (grc)
            return grc;
        const char *now = np_json_path_str(*obj, "status", "plan", "id", NP_JSON_END);
        if (!np_str_eq(now, id))
            return np_error_set(NP_EDENIED,
                                "the plan moved since it was shown: status.plan.id is "
                                "now %s; run approve again",
                                or_dash(now));
    }
    return rc;
}

static int approve_checked(const char *prog, const struct cluster_opts *o,
                           struct np_kube_client *kc, const struct np_kube_resource *res,
                           json_object **obj, const char *ns)
{
    const char *id = np_json_path_str(*obj, "status", "plan", "id", NP_JSON_END);
    if (!np_json_path(*obj, "kind", NP_JSON_END))
        np_json_put_str(*obj, "kind",
                        res == &np_cli_res_sgp ? "SecurityGroupPosture" : "VPCPosture");
    if (!id) {
        fprintf(stderr, "%s approve: %s/%s holds no plan\n", prog, ns, o->name);
        return NP_CLI_EXIT_FINDINGS;
    }
    np_cli_plan_print(stdout, *obj);
    if (o->plan_id && !np_str_eq(o->plan_id, id)) {
        np_error_set(NP_EDENIED, "the plan moved: status.plan.id is %s, not %s", id, o->plan_id);
        np_cli_print_error(prog, "approve");
        return NP_CLI_EXIT_FINDINGS;
    }
    if (!o->yes && (!isatty(STDIN_FILENO) || !confirmed(id))) {
        fprintf(stderr, "%s approve: not approved%s\n", prog,
                isatty(STDIN_FILENO) ? "" : " (stdin is not a terminal: pass --yes)");
        return NP_CLI_EXIT_FINDINGS;
    }
    char *shown = np_strdup(id);
    int rc = approve_shown(kc, res, obj, ns, o->name, shown);
    if (rc == 0) {
        char *v = np_cli_visible(shown);
        printf("approved plan %s (%s=%s)\n", v, APPROVE_ANNOTATION, v);
        free(v);
    } else
        np_cli_print_error(prog, "approve");
    free(shown);
    return rc == 0 ? NP_CLI_EXIT_OK : rc == NP_EDENIED ? NP_CLI_EXIT_FINDINGS : NP_CLI_EXIT_USAGE;
}

static int run_approve(const char *prog, const struct cluster_opts *o)
{
    struct np_kube_client *kc = NULL;
    json_object *obj = NULL;
    const struct np_kube_resource *res = NULL;
    int rc = np_cli_kube_connect(&kc, o->kubeconfig);
    const char *ns = o->ns ? o->ns : kc ? np_kube_client_namespace(kc) : "default";
    if (rc == 0)
        rc = find_posture(kc, ns, o->name, &res, &obj);
    int code = NP_CLI_EXIT_USAGE;
    if (rc)
        np_cli_print_error(prog, "approve");
    else
        code = approve_checked(prog, o, kc, res, &obj, ns);
    json_object_put(obj);
    np_kube_client_destroy(kc);
    return code;
}

/* ---------------------------------------------------------------- options */

static const char STATUS_USAGE[] =
    "usage: %s status [-n NAMESPACE | -A] [NAME] [-o text|json|yaml] [--kubeconfig PATH]\n"
    "\n"
    "Lists SecurityGroupPostures and VPCPostures with Ready (and its reason), Drifted,\n"
    "Contested and the mode, each followed by its drift items (scope, change, rule, state,\n"
    "actor, first seen) and the plan it holds, if any.\n"
    "\n"
    "  -n, --namespace NS      the namespace (default: the kubeconfig context's)\n"
    "  -A, --all-namespaces    every namespace\n"
    "  -o, --output FORMAT     text (a table), json or yaml\n"
    "      --kubeconfig PATH   default $KUBECONFIG, in-cluster, ~/.kube/config\n"
    "\n"
    "Exit status: 0 every posture shown is Ready, 1 one is not, 2 usage or API error.\n";

static const char APPROVE_USAGE[] =
    "usage: %s approve -n NAMESPACE NAME [--plan-id ID] [--yes] [--kubeconfig PATH]\n"
    "\n"
    "Prints the plan the posture holds (status.plan: a Propose-mode plan or one over the\n"
    "blast radius), asks, and sets the annotation netposture.dev/approve-plan to its id: the\n"
    "controller then applies exactly that plan. Refuses when the plan id moved (it differs\n"
    "from --plan-id, or changed between printing and approving).\n"
    "\n"
    "  -n, --namespace NS      the posture's namespace (default: the kubeconfig context's)\n"
    "      --plan-id ID        approve only if status.plan.id is ID\n"
    "  -y, --yes               do not ask\n"
    "      --kubeconfig PATH   default $KUBECONFIG, in-cluster, ~/.kube/config\n"
    "\n"
    "Exit status: 0 approved, 1 nothing approved (no plan, moved, declined), 2 usage or API "
    "error.\n";

static int parse_opts(const char *prog, const char *cmd, const char *usage, int argc, char **argv,
                      struct cluster_opts *o)
{
    static const struct option longopts[] = {{"kubeconfig", required_argument, NULL, 'k'},
                                             {"namespace", required_argument, NULL, 'n'},
                                             {"all-namespaces", no_argument, NULL, 'A'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"plan-id", required_argument, NULL, 'p'},
                                             {"yes", no_argument, NULL, 'y'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "n:Ao:yh", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': o->kubeconfig = optarg; break;
        case 'n': o->ns = optarg; break;
        case 'A': o->all_namespaces = true; break;
        case 'p': o->plan_id = optarg; break;
        case 'y': o->yes = true; break;
        case 'h': fprintf(stdout, usage, prog); return NP_CLI_EXIT_OK;
        case 'o':
            if (np_cli_format_parse(&o->format, optarg) == 0)
                break;
            return np_cli_usage_error(prog, cmd, "%s", np_error_message());
        default: return np_cli_usage_error(prog, cmd, "bad option%s", "");
        }
    }
    if (optind < argc)
        o->name = argv[optind++];
    if (optind < argc)
        return np_cli_usage_error(prog, cmd, "unexpected argument %s", argv[optind]);
    return -1;
}

int np_cli_cmd_status(const char *prog, int argc, char **argv)
{
    struct cluster_opts o = {0};
    int rc = parse_opts(prog, "status", STATUS_USAGE, argc, argv, &o);
    if (rc >= 0)
        return rc;
    return run_status(prog, &o);
}

int np_cli_cmd_approve(const char *prog, int argc, char **argv)
{
    struct cluster_opts o = {0};
    int rc = parse_opts(prog, "approve", APPROVE_USAGE, argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (!o.name)
        return np_cli_usage_error(prog, "approve", "name the posture%s", "");
    if (o.format != NP_CLI_TEXT || o.all_namespaces)
        return np_cli_usage_error(prog, "approve", "-o and -A are not for approve%s", "");
    return run_approve(prog, &o);
}
