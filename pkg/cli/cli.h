/*
 * cli: the logic of netposturectl (cmd/netposturectl only wires): YAML documents with their
 * source positions, the offline validation of netposture objects (the CRDs' OpenAPI schemas and
 * their CEL rules ported to C, then pkg/posture's parsers and guardrails), findings and their
 * text/JSON/YAML output, and the cluster commands status and approve.
 */
#ifndef NP_CLI_CLI_H
#define NP_CLI_CLI_H

#include "core/core.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes of every command. */
#define NP_CLI_EXIT_OK 0
#define NP_CLI_EXIT_FINDINGS 1
#define NP_CLI_EXIT_USAGE 2

/* ---------------------------------------------------------------- YAML documents */

/* Where a field starts in its file (1-based). */
struct np_cli_mark {
    char *path; /* "spec.ingress[0].cidrs[1]"; "" for the document itself */
    int line;
    int column;
};

/* One document of a YAML stream as typed JSON (YAML 1.1 scalars as kubectl resolves them),
 * with the position of every mapping key and sequence item. */
struct np_cli_doc {
    json_object *root; /* NULL for an empty document */
    struct np_cli_mark *marks;
    size_t n_marks;
};

struct np_cli_docs {
    struct np_cli_doc *items;
    size_t n;
};

/*
 * Loads every document of a YAML stream. On success *out is owned (np_cli_docs_clean_up).
 * Errors: NP_EPARSE with *line and *column (1-based) of the problem and the message
 * `<problem> (<context>)`; *out then holds the documents before the bad one.
 */
int np_cli_yaml_load(struct np_cli_docs *out, const char *data, size_t len, int *line, int *column);
void np_cli_docs_clean_up(struct np_cli_docs *docs);
/* The mark of the longest recorded prefix of path (at least the document's own); borrowed. */
const struct np_cli_mark *np_cli_doc_mark(const struct np_cli_doc *doc, const char *path);

/* ---------------------------------------------------------------- findings */

enum np_cli_severity { NP_CLI_ERROR = 0, NP_CLI_WARNING };

struct np_cli_finding {
    enum np_cli_severity severity;
    const char *file; /* as named on the command line; "-" for stdin */
    int line;         /* 1-based; 0 when unknown */
    int column;
    const char *kind; /* "SecurityGroupPosture", ...; "" when unknown */
    const char *ns;   /* "" for cluster-scoped kinds */
    const char *name;
    const char *field; /* "spec.ingress[0].cidrs[0]"; "" for the whole object */
    const char *message;
};

struct np_cli_findings {
    struct np_cli_finding *items;
    size_t n;
};

/* Adds a finding (strings copied; NULL counts as ""); the list owns its copies. */
void np_cli_findings_add(struct np_cli_findings *f, const struct np_cli_finding *item);
void np_cli_findings_clean_up(struct np_cli_findings *f);
size_t np_cli_findings_count(const struct np_cli_findings *f, enum np_cli_severity s);
/* `file:line:column: kind ns/name: field: message` (owned), "warning: " before the message for
 * warnings; control characters and invalid UTF-8 in the strings made visible (\n, \x1b, ...),
 * so a finding is always one line. */
char *np_cli_finding_text(const struct np_cli_finding *f);
/* The findings as a JSON array of objects {severity, file, line, column, kind, namespace,
 * name, field, message} (owned). */
json_object *np_cli_findings_json(const struct np_cli_findings *f);

/* ---------------------------------------------------------------- output */

enum np_cli_format { NP_CLI_TEXT = 0, NP_CLI_JSON, NP_CLI_YAML };

/* "text", "json", "yaml" -> *out; NP_EINVAL for anything else. */
int np_cli_format_parse(enum np_cli_format *out, const char *s);
/* Writes v as pretty JSON or as YAML (block style) followed by a newline. Errors: NP_EIO. */
int np_cli_print_data(FILE *out, json_object *v, enum np_cli_format fmt);

/* ---------------------------------------------------------------- schema (CRDs) */

/* The netposture CRDs compiled into the binary: kind -> OpenAPI schema. */
struct np_cli_crd {
    char *kind;
    bool namespaced;
    json_object *schema; /* spec.versions[0].schema.openAPIV3Schema, owned */
};

struct np_cli_crds {
    struct np_cli_crd *items;
    size_t n;
};

/* Loads the embedded CRDs. *out owned (np_cli_crds_clean_up). Errors: NP_EPARSE. */
int np_cli_crds_load(struct np_cli_crds *out);
void np_cli_crds_clean_up(struct np_cli_crds *crds);
/* The CRD of a kind (borrowed), NULL when it is not a netposture kind. */
const struct np_cli_crd *np_cli_crds_find(const struct np_cli_crds *crds, const char *kind);

/* Receives one schema or rule violation: the field path and the message. */
typedef void (*np_cli_report_fn)(void *ctx, const char *field, const char *message);

/*
 * Checks obj against an OpenAPI schema as kube-apiserver does for a custom resource (after
 * pruning nulls and applying defaults, which it does to obj in place): type, properties and
 * unknown fields, required, enum, pattern, bounds, lengths, item counts, list-type set/map
 * duplicates, date-time format, then each x-kubernetes-validations rule through its C port
 * (np_cli_cel_check) on every node whose subtree passed. Transition rules (oldSelf) are
 * skipped: there is no old object offline. Returns the number of violations reported.
 */
size_t np_cli_schema_check(json_object *obj, json_object *schema, np_cli_report_fn report,
                           void *ctx);

/*
 * Evaluates one CEL rule of the CRDs on self through its C port. *holds is the rule's value;
 * *message (owned, or NULL) is its messageExpression's value when it has one.
 * Errors: NP_ENOTSUP when the rule has no port (a CRD rule added without one).
 */
int np_cli_cel_check(const char *rule, const char *message_expression, json_object *self,
                     bool *holds, char **message);
/* Whether a rule compares with the old object (a transition rule, not checked offline). */
bool np_cli_cel_is_transition(const char *rule);

/* ---------------------------------------------------------------- validate */

struct np_cli_validator;

/* A validator over the embedded CRDs. *out owned (np_cli_validator_destroy).
 * Errors: NP_EPARSE (the embedded CRDs). */
int np_cli_validator_new(struct np_cli_validator **out);
void np_cli_validator_destroy(struct np_cli_validator *v);
/*
 * Validates the PostureGuardrails of a file's text and keeps them: later postures are checked
 * against them (Deny: error, Warn: warning; namespaceSelector is not evaluated offline, every
 * guardrail given governs every posture). Findings about the guardrails themselves (and about
 * documents of other kinds, which are refused here) go to out.
 */
void np_cli_validator_add_guardrails(struct np_cli_validator *v, const char *file, const char *data,
                                     size_t len, struct np_cli_findings *out);
/*
 * Validates every document of a file's text: netposture kinds against their CRD schema, the
 * ported CEL rules, the controller's parse of the spec and the guardrails added; documents of
 * other kinds are skipped. default_ns names the namespace of namespaced objects without one.
 */
void np_cli_validate_text(struct np_cli_validator *v, const char *file, const char *data,
                          size_t len, const char *default_ns, struct np_cli_findings *out);

/* ---------------------------------------------------------------- commands */

/* The command line of netposturectl (argv[0] may be netposturectl or kubectl-netposture).
 * Returns the exit code. */
int np_cli_main(int argc, char **argv);

#endif
