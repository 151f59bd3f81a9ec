/*
 * Offline validation of netposture objects, document by document: the object's CRD schema and
 * CEL rules (as admission checks them), then the controller's own parse of the spec
 * (np_posture_*_parse: what it would refuse as InvalidSpec), then the guardrails given with
 * --guardrails (np_posture_guardrail_check, np_posture_vpc_guardrail_check). Each finding
 * carries the line and column of the offending field.
 */
#include "cli/private/cli_private.h"
#include "posture/posture.h"

#include <stdlib.h>
#include <string.h>

#define GROUP "netposture.dev/"
#define API_VERSION "netposture.dev/v1alpha1"

struct np_cli_validator {
    struct np_cli_crds crds;
    struct np_posture_guardrail **guardrails;
    size_t n_guardrails;
};

/* One document under validation. */
struct doc {
    struct np_cli_validator *v;
    const char *file;
    const struct np_cli_doc *doc;
    const char *kind;
    const char *ns;
    const char *name;
    struct np_cli_findings *out;
    size_t errors;
};

static void add(struct doc *d, enum np_cli_severity sev, const char *field, const char *msg)
{
    const struct np_cli_mark *m = d->doc ? np_cli_doc_mark(d->doc, field) : NULL;
    struct np_cli_finding f = {
        sev, d->file, m ? m->line : 0, m ? m->column : 0, d->kind, d->ns, d->name, field, msg};
    np_cli_findings_add(d->out, &f);
    d->errors += sev == NP_CLI_ERROR;
}

static void on_violation(void *ctx, const char *field, const char *message)
{
    add(ctx, NP_CLI_ERROR, field, message);
}

/* A message of pkg/posture, `spec.x[0].y: what`: split into its field and the rest. */
static void add_posture_error(struct doc *d, const char *msg)
{
    const char *sep = strstr(msg, ": ");
    if (np_str_has_prefix(msg, "spec") && sep) {
        char *field = np_strndup(msg, (size_t)(sep - msg));
        add(d, NP_CLI_ERROR, field, sep + 2);
        free(field);
    } else {
        add(d, NP_CLI_ERROR, "spec", msg);
    }
}

/* ---------------------------------------------------------------- guardrails */

static char *violation_text(const struct np_posture_guardrail *g,
                            const struct np_posture_guardrail_rule *rule, const char *what)
{
    struct np_buf b;
    np_buf_init(&b);
    np_buf_appendf(&b, "guardrail %s rule %s", g->name, rule->id);
    if (rule->n_references > 0)
        np_buf_appendf(&b, " (%s)", rule->references[0]);
    np_buf_appendf(&b, " forbids %s", what);
    return np_buf_take(&b);
}

static void add_violation(struct doc *d, const struct np_posture_guardrail *g,
                          const struct np_posture_guardrail_rule *rule, const char *field,
                          const char *what)
{
    char *msg = violation_text(g, rule, what);
    add(d, g->enforcement == NP_POSTURE_GUARDRAIL_DENY ? NP_CLI_ERROR : NP_CLI_WARNING, field, msg);
    free(msg);
}

/* Whether declared rule i of a direction expands to the atomic rule r. */
static bool declares(const struct np_posture_sg_spec *spec, enum np_posture_direction dir, size_t i,
                     const struct np_posture_rule *r)
{
    struct np_posture_sg_spec one = *spec;
    bool in = dir == NP_POSTURE_INGRESS;
    one.ingress = in ? &spec->ingress[i] : NULL;
    one.n_ingress = in ? 1 : 0;
    one.egress = in ? NULL : &spec->egress[i];
    one.n_egress = in ? 0 : 1;
    one.egress_omitted = false;
    struct np_posture_ruleset rs = {0};
    bool found = false;
    if (np_posture_desired(&rs, &one) == 0)
        for (size_t k = 0; k < rs.n && !found; k++)
            found = np_posture_rule_cmp(&rs.rules[k], r) == 0;
    np_error_clear();
    np_posture_ruleset_clean_up(&rs);
    return found;
}

/* The field of the declared rule an atomic rule comes from ("spec.ingress[2]"); "spec" for
 * the default egress. */
static char *rule_field(const struct np_posture_sg_spec *spec, const struct np_posture_rule *r)
{
    bool in = r->direction == NP_POSTURE_INGRESS;
    size_t n = in ? spec->n_ingress : spec->n_egress;
    for (size_t i = 0; i < n; i++)
        if (declares(spec, r->direction, i, r))
            return np_strdupf("spec.%s[%zu]", in ? "ingress" : "egress", i);
    return np_strdup("spec");
}

static void check_sg_guardrails(struct doc *d, const struct np_posture_sg_spec *spec)
{
    struct np_posture_ruleset rs = {0};
    if (np_posture_desired(&rs, spec) != 0) {
        add_posture_error(d, np_error_message());
        return;
    }
    struct np_posture_violation *v = NULL;
    size_t n = 0;
    np_posture_guardrail_check(&v, &n, (const struct np_posture_guardrail *const *)d->v->guardrails,
                               d->v->n_guardrails, d->ns, d->name, &rs);
    for (size_t i = 0; i < n; i++) {
        char *text = np_posture_rule_text(v[i].atomic);
        char *what = np_strdupf("%s %s", np_posture_direction_name(v[i].atomic->direction), text);
        char *field = rule_field(spec, v[i].atomic);
        add_violation(d, v[i].guardrail, v[i].rule, field, what);
        free(field);
        free(what);
        free(text);
    }
    free(v);
    np_posture_ruleset_clean_up(&rs);
}

/* The field a VPC violation is about, from its text ("networkAcl/<name> ...", "flowLogs ...",
 * "defaultSecurityGroup ..."). */
static char *vpc_violation_field(const struct np_posture_vpc_spec *spec, const char *what)
{
    if (np_str_has_prefix(what, "networkAcl/")) {
        const char *name = what + strlen("networkAcl/");
        for (size_t i = 0; i < spec->n_network_acls; i++) {
            size_t len = strlen(spec->network_acls[i].name);
            if (strncmp(name, spec->network_acls[i].name, len) == 0 && name[len] == ' ')
                return np_strdupf("spec.networkAcls[%zu]", i);
        }
    }
    if (np_str_has_prefix(what, "flowLogs"))
        return np_strdup("spec.flowLogs");
    if (np_str_has_prefix(what, "defaultSecurityGroup"))
        return np_strdup("spec.defaultSecurityGroup");
    return np_strdup("spec");
}

static void check_vpc_guardrails(struct doc *d, const struct np_posture_vpc_spec *spec)
{
    struct np_posture_vpc_violation *v = NULL;
    size_t n = 0;
    np_posture_vpc_guardrail_check(&v, &n,
                                   (const struct np_posture_guardrail *const *)d->v->guardrails,
                                   d->v->n_guardrails, d->ns, d->name, spec);
    for (size_t i = 0; i < n; i++) {
        char *field = vpc_violation_field(spec, v[i].what);
        add_violation(d, v[i].guardrail, v[i].rule, field, v[i].what);
        free(field);
    }
    np_posture_vpc_violations_free(v, n);
}

/* ---------------------------------------------------------------- semantic checks */

static void check_sgp(struct doc *d, json_object *spec)
{
    struct np_posture_sg_spec *s = NULL;
    if (np_posture_sg_spec_parse(&s, spec) != 0) {
        add_posture_error(d, np_error_message());
        return;
    }
    if (d->v->n_guardrails > 0)
        check_sg_guardrails(d, s);
    np_posture_sg_spec_destroy(s);
}

static void check_vpcp(struct doc *d, json_object *spec)
{
    struct np_posture_vpc_spec *s = NULL;
    if (np_posture_vpc_spec_parse(&s, spec) != 0) {
        add_posture_error(d, np_error_message());
        return;
    }
    if (d->v->n_guardrails > 0)
        check_vpc_guardrails(d, s);
    np_posture_vpc_spec_destroy(s);
}

/* Parses a guardrail as the controller does; *out (owned) when keep and it is valid. */
static void check_guardrail(struct doc *d, json_object *spec, struct np_posture_guardrail **keep)
{
    struct np_posture_guardrail *g = NULL;
    if (np_posture_guardrail_parse(&g, d->name, spec) != 0) {
        add_posture_error(d, np_error_message());
        return;
    }
    if (keep)
        *keep = g;
    else
        np_posture_guardrail_destroy(g);
}

static void check_semantics(struct doc *d, json_object *obj, struct np_posture_guardrail **keep)
{
    json_object *spec = json_object_object_get(obj, "spec");
    np_error_clear();
    if (np_str_eq(d->kind, "SecurityGroupPosture"))
        check_sgp(d, spec);
    else if (np_str_eq(d->kind, "VPCPosture"))
        check_vpcp(d, spec);
    else if (np_str_eq(d->kind, "PostureGuardrail"))
        check_guardrail(d, spec, keep);
    /* CloudAccount: its schema and rules are all the controller checks before using it. */
}

/* ---------------------------------------------------------------- documents */

/* metadata.name as the API server wants it (a DNS subdomain). */
static void check_name(struct doc *d, json_object *obj)
{
    const char *name = np_json_path_str(obj, "metadata", "name", NP_JSON_END);
    if (!name) {
        add(d, NP_CLI_ERROR, "metadata.name", "Required value: name is required");
        return;
    }
    bool ok = true;
    if (strlen(name) > 253 ||
        !np_cli_pattern_matches(
            "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", name, &ok))
        add(d, NP_CLI_ERROR, "metadata.name",
            "Invalid value: a lowercase RFC 1123 subdomain must consist of lower case "
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            "character");
}

/* Validates one netposture object; *keep gets a valid PostureGuardrail when keep is set. */
static void validate_object(struct doc *d, json_object *obj, const struct np_cli_crd *crd,
                            struct np_posture_guardrail **keep)
{
    check_name(d, obj);
    size_t before = d->errors;
    np_cli_schema_check(obj, crd->schema, on_violation, d);
    if (d->errors == before)
        check_semantics(d, obj, keep);
}

/* Identifies a document: *crd when it is a netposture object; false when it is skipped (not
 * netposture's, or reported as unknown). */
static bool identify(struct doc *d, json_object *obj, const char *default_ns,
                     const struct np_cli_crd **crd)
{
    const char *api = np_json_path_str(obj, "apiVersion", NP_JSON_END);
    const char *kind = np_json_path_str(obj, "kind", NP_JSON_END);
    d->kind = kind ? kind : "";
    d->name = np_json_path_str(obj, "metadata", "name", NP_JSON_END);
    d->name = d->name ? d->name : "";
    if (!api || !np_str_has_prefix(api, GROUP))
        return false;
    *crd = np_cli_crds_find(&d->v->crds, kind);
    if (!*crd || !np_str_eq(api, API_VERSION)) {
        char *msg = np_strdupf("no kind \"%s\" is registered for version \"%s\"", d->kind, api);
        add(d, NP_CLI_ERROR, "", msg);
        free(msg);
        return false;
    }
    const char *ns = np_json_path_str(obj, "metadata", "namespace", NP_JSON_END);
    d->ns = !(*crd)->namespaced ? "" : ns ? ns : default_ns ? default_ns : "default";
    return true;
}

/* Validates each document of a file; with keep, valid guardrails are appended to the
 * validator and any other kind is refused. */
static void validate_docs(struct np_cli_validator *v, const char *file,
                          const struct np_cli_docs *docs, const char *default_ns,
                          struct np_cli_findings *out, bool keep)
{
    for (size_t i = 0; i < docs->n; i++) {
        const struct np_cli_doc *doc = &docs->items[i];
        struct doc d = {v, file, doc, "", "", "", out, 0};
        const struct np_cli_crd *crd = NULL;
        if (!doc->root)
            continue;
        if (!json_object_is_type(doc->root, json_type_object)) {
            add(&d, NP_CLI_ERROR, "", "not a Kubernetes object (a YAML mapping)");
            continue;
        }
        bool ours = identify(&d, doc->root, default_ns, &crd);
        if (keep && (!ours || !np_str_eq(crd->kind, "PostureGuardrail"))) {
            if (ours || d.errors == 0)
                add(&d, NP_CLI_ERROR, "", "--guardrails takes PostureGuardrail objects only");
            continue;
        }
        struct np_posture_guardrail *g = NULL;
        if (ours)
            validate_object(&d, doc->root, crd, keep ? &g : NULL);
        if (g) {
            v->guardrails =
                np_xrealloc(v->guardrails, (v->n_guardrails + 1) * sizeof(*v->guardrails));
            v->guardrails[v->n_guardrails++] = g;
        }
    }
}

static void validate_text(struct np_cli_validator *v, const char *file, const char *data,
                          size_t len, const char *default_ns, struct np_cli_findings *out,
                          bool keep)
{
    struct np_cli_docs docs;
    int line = 0, col = 0;
    int rc = np_cli_yaml_load(&docs, data, len, &line, &col);
    validate_docs(v, file, &docs, default_ns, out, keep);
    if (rc) {
        struct np_cli_finding f = {NP_CLI_ERROR,      file, line, col, "", "", "", "",
                                   np_error_message()};
        np_cli_findings_add(out, &f);
    }
    np_cli_docs_clean_up(&docs);
}

/* ---------------------------------------------------------------- entry points */

int np_cli_validator_new(struct np_cli_validator **out)
{
    struct np_cli_validator *v = np_xcalloc(1, sizeof(*v));
    int rc = np_cli_crds_load(&v->crds);
    if (rc) {
        free(v);
        v = NULL;
    }
    *out = v;
    return rc;
}

void np_cli_validator_destroy(struct np_cli_validator *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n_guardrails; i++)
        np_posture_guardrail_destroy(v->guardrails[i]);
    free(v->guardrails);
    np_cli_crds_clean_up(&v->crds);
    free(v);
}

const struct np_posture_guardrail *const *
np_cli_validator_guardrails(const struct np_cli_validator *v, size_t *n)
{
    *n = v->n_guardrails;
    return (const struct np_posture_guardrail *const *)v->guardrails;
}

void np_cli_validator_add_guardrails(struct np_cli_validator *v, const char *file, const char *data,
                                     size_t len, struct np_cli_findings *out)
{
    validate_text(v, file, data, len, NULL, out, true);
}

void np_cli_validate_text(struct np_cli_validator *v, const char *file, const char *data,
                          size_t len, const char *default_ns, struct np_cli_findings *out)
{
    validate_text(v, file, data, len, default_ns, out, false);
}
