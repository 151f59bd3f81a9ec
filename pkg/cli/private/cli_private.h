/*
 * cli internals shared by its files: patterns (the CRDs' ECMA/RE2 regular expressions run
 * through POSIX regex), CIDRs as CEL's isCIDR and containsCIDR see them, the embedded CRD texts.
 */
#ifndef NP_CLI_PRIVATE_H
#define NP_CLI_PRIVATE_H

#include "cli/cli.h"

#include <stdint.h>

/* The length of an array; 0 for NULL or anything else (json-c asserts on a non-array). */
static inline size_t np_cli_len(json_object *a)
{
    return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* Whether s matches the pattern (the subset of ECMA-262 / RE2 syntax the CRDs use: anchors,
 * classes with escapes, \s, groups, alternation, counted repetition). *ok is false when the
 * pattern cannot be compiled. */
bool np_cli_pattern_matches(const char *pattern, const char *s, bool *ok);

/* A CIDR as CEL's cidr() parses it (host bits allowed, no zone, no leading zeros). */
struct np_cli_cidr {
    int family; /* 4 or 6 */
    uint8_t addr[16];
    int bits;
};
/* Whether s is a CIDR (CEL isCIDR); fills *out when it is. */
bool np_cli_cidr_parse(const char *s, struct np_cli_cidr *out);
/* CEL cidr(a).containsCIDR(b): same family, a's prefix no longer than b's, b inside a. */
bool np_cli_cidr_contains(const struct np_cli_cidr *a, const struct np_cli_cidr *b);

/* Calls fn(ctx, rule object, rule text) on each x-kubernetes-validations rule of one schema node
 * that can be checked offline (transition rules, which compare with oldSelf, are skipped). */
typedef void (*np_cli_rule_fn)(void *ctx, json_object *rule_obj, const char *rule);
void np_cli_schema_each_rule(json_object *schema, np_cli_rule_fn fn, void *ctx);

/* The embedded CRD texts (build/gen/crds.c, generated from crds/ by hack/embed-crds.sh). */
struct np_cli_embedded {
    const char *name;
    const unsigned char *data;
    size_t len;
};
extern const struct np_cli_embedded np_cli_embedded_crds[];
extern const size_t np_cli_embedded_crds_n;

/* ---------------------------------------------------------------- commands */

/* A subcommand: run(prog, argc, argv) with argv[0] the command's name; returns the exit code. */
struct np_cli_command {
    const char *name;
    const char *summary;
    const char *usage; /* printf format taking the program name */
    int (*run)(const char *prog, int argc, char **argv);
};

/* "kubectl netposture" when argv0's base name starts with kubectl-, else "netposturectl". */
const char *np_cli_prog(const char *argv0);
const struct np_cli_command *np_cli_command_find(const char *name);
void np_cli_usage(FILE *out, const char *prog, const struct np_cli_command *cmd);
/* Prints `prog cmd: <fmt with arg>` and a --help hint on stderr; returns NP_CLI_EXIT_USAGE. */
int np_cli_usage_error(const char *prog, const char *cmd, const char *fmt, const char *arg);
/* Reads a whole file ("-": stdin) into *out (owned, NUL-terminated). Errors: NP_EIO. */
int np_cli_read_input(char **out, size_t *len, const char *path);

int np_cli_cmd_validate(const char *prog, int argc, char **argv);
int np_cli_cmd_status(const char *prog, int argc, char **argv);
int np_cli_cmd_approve(const char *prog, int argc, char **argv);

/* status: one posture object as a row {kind, namespace, name, ready, reason, drifted,
 * contested, mode, plan, drift} (owned); the rows as a table, drift items under each. */
json_object *np_cli_status_row(json_object *obj);
void np_cli_status_table(FILE *out, json_object *rows);
/* approve: the held plan (status.plan) of a posture object: id, reason, one action a line. */
void np_cli_plan_print(FILE *out, json_object *obj);

#endif
