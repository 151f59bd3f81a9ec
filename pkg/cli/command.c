/*
 * netposturectl's command line: the table of subcommands, usage and --help, the exit codes
 * (0 fine, 1 findings, 2 usage or I/O error), and the validate command. Installed also as
 * kubectl-netposture, it behaves the same under either name (`kubectl netposture <command>`).
 */
#include "cli/private/cli_private.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUT (64u << 20)

static const struct np_cli_command COMMANDS[] = {
    {"validate", "check posture YAML offline: schema, CEL rules, controller checks, guardrails",
     "usage: %s validate [-o text|json|yaml] [-n NAMESPACE] [--guardrails FILE]... FILE... | -\n"
     "\n"
     "Checks every netposture object (SecurityGroupPosture, VPCPosture, CloudAccount,\n"
     "PostureGuardrail) in the files (multi-document YAML; - reads stdin) as the API server's\n"
     "admission would (CRD schema and its CEL rules; rules comparing with the old object need a\n"
     "cluster and are not checked) and as the controller would (its parse of the spec). With\n"
     "--guardrails, postures are also checked against those PostureGuardrails: Deny is an error,\n"
     "Warn a warning (namespaceSelector is not evaluated offline: each governs every posture).\n"
     "Documents of other kinds are skipped.\n"
     "\n"
     "  -o, --output FORMAT     text (file:line:column: kind ns/name: field: message), json or "
     "yaml\n"
     "  -n, --namespace NS      the namespace of objects without one (default \"default\")\n"
     "      --guardrails FILE   PostureGuardrails to check postures against (repeatable)\n"
     "\n"
     "Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage or unreadable file.\n",
     np_cli_cmd_validate},
    {"status", "list postures: Ready, Drifted, Contested and their drift items (cluster)", NULL,
     np_cli_cmd_status},
    {"approve", "print a posture's held plan and approve it (cluster)", NULL, np_cli_cmd_approve},
    {"plan", "compare postures with live AWS and print the plan, changing nothing", NULL,
     np_cli_cmd_plan},
    {"import", "write postures adopting live security groups (baselining)", NULL,
     np_cli_cmd_import},
    {"inject-drift", "game day: make one named drift and time its repair", NULL,
     np_cli_cmd_inject_drift},
    {"render", "write postures as Terraform HCL (render terraform FILE)", NULL, np_cli_cmd_render},
};

/* ---------------------------------------------------------------- helpers */

const char *np_cli_prog(const char *argv0)
{
    const char *slash = strrchr(argv0, '/');
    const char *base = slash ? slash + 1 : argv0;
    return np_str_has_prefix(base, "kubectl-") ? "kubectl netposture" : "netposturectl";
}

const struct np_cli_command *np_cli_command_find(const char *name)
{
    for (size_t i = 0; name && i < NP_ARRAY_LEN(COMMANDS); i++)
        if (strcmp(COMMANDS[i].name, name) == 0)
            return &COMMANDS[i];
    return NULL;
}

void np_cli_usage(FILE *out, const char *prog, const struct np_cli_command *cmd)
{
    fprintf(out, cmd->usage, prog);
}

int np_cli_usage_error(const char *prog, const char *cmd, const char *fmt, const char *arg)
{
    fprintf(stderr, "%s %s: ", prog, cmd);
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\n(see %s %s --help)\n", prog, cmd);
    return NP_CLI_EXIT_USAGE;
}

int np_cli_read_input(char **out, size_t *len, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return np_error_set(NP_EIO, "cannot open %s: %s", path, strerror(errno));
    struct np_buf b;
    np_buf_init(&b);
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        rc = np_buf_append(&b, chunk, n);
        if (b.len > MAX_INPUT)
            rc = np_error_set(NP_EIO, "%s is larger than %u bytes", path, MAX_INPUT);
    }
    if (rc == 0 && ferror(f))
        rc = np_error_set(NP_EIO, "cannot read %s: %s", path, strerror(errno));
    if (f != stdin)
        fclose(f);
    *len = b.len;
    *out = rc ? NULL : np_buf_take(&b);
    np_buf_clean_up(&b);
    return rc;
}

/* ---------------------------------------------------------------- validate */

struct validate_opts {
    enum np_cli_format format;
    const char *ns;
    const char **guardrails;
    size_t n_guardrails;
};

static int validate_file(struct np_cli_validator *v, const char *path, bool guardrails,
                         const char *ns, struct np_cli_findings *out)
{
    char *data = NULL;
    size_t len = 0;
    int rc = np_cli_read_input(&data, &len, path);
    if (rc) {
        np_cli_print_error("netposturectl", "validate");
        return rc;
    }
    if (guardrails)
        np_cli_validator_add_guardrails(v, path, data, len, out);
    else
        np_cli_validate_text(v, path, data, len, ns, out);
    free(data);
    return 0;
}

static int print_findings(const struct np_cli_findings *f, enum np_cli_format fmt)
{
    if (fmt != NP_CLI_TEXT) {
        json_object *arr = np_cli_findings_json(f);
        int rc = np_cli_print_data(stdout, arr, fmt);
        json_object_put(arr);
        return rc;
    }
    for (size_t i = 0; i < f->n; i++) {
        char *line = np_cli_finding_text(&f->items[i]);
        printf("%s\n", line);
        free(line);
    }
    return 0;
}

static int run_validate(const struct validate_opts *o, char **files, int n_files)
{
    struct np_cli_validator *v = NULL;
    if (np_cli_validator_new(&v) != 0) {
        np_cli_print_error("netposturectl", "validate");
        return NP_CLI_EXIT_USAGE;
    }
    struct np_cli_findings f = {0};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < o->n_guardrails; i++)
        rc = validate_file(v, o->guardrails[i], true, o->ns, &f);
    for (int i = 0; rc == 0 && i < n_files; i++)
        rc = validate_file(v, files[i], false, o->ns, &f);
    if (rc == 0)
        rc = print_findings(&f, o->format);
    size_t errors = np_cli_findings_count(&f, NP_CLI_ERROR);
    if (rc == 0 && o->format == NP_CLI_TEXT)
        fprintf(stderr, "%zu error(s), %zu warning(s)\n", errors,
                np_cli_findings_count(&f, NP_CLI_WARNING));
    np_cli_findings_clean_up(&f);
    np_cli_validator_destroy(v);
    if (rc)
        return NP_CLI_EXIT_USAGE;
    return errors ? NP_CLI_EXIT_FINDINGS : NP_CLI_EXIT_OK;
}

int np_cli_cmd_validate(const char *prog, int argc, char **argv)
{
    static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                             {"namespace", required_argument, NULL, 'n'},
                                             {"guardrails", required_argument, NULL, 'g'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    struct validate_opts o = {NP_CLI_TEXT, NULL, NULL, 0};
    const char *g[64];
    o.guardrails = g;
    int c, rc = -1;
    optind = 0;
    while (rc < 0 && (c = getopt_long(argc, argv, "o:n:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            np_cli_usage(stdout, prog, np_cli_command_find("validate"));
            rc = NP_CLI_EXIT_OK;
        } else if (c == 'o' && np_cli_format_parse(&o.format, optarg) != 0) {
            rc = np_cli_usage_error(prog, "validate", "%s", np_error_message());
        } else if (c == 'n') {
            o.ns = optarg;
        } else if (c == 'g' && o.n_guardrails < NP_ARRAY_LEN(g)) {
            g[o.n_guardrails++] = optarg;
        } else if (c != 'o') {
            rc = np_cli_usage_error(prog, "validate", "bad option%s", "");
        }
    }
    if (rc >= 0)
        return rc;
    if (optind >= argc)
        return np_cli_usage_error(prog, "validate", "no file given (use - for stdin)%s", "");
    return run_validate(&o, argv + optind, argc - optind);
}

/* ---------------------------------------------------------------- main */

static void usage(FILE *out, const char *prog)
{
    fprintf(out, "usage: %s <command> [options]\n\ncommands:\n", prog);
    for (size_t i = 0; i < NP_ARRAY_LEN(COMMANDS); i++)
        fprintf(out, "  %-13s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(out,
            "\nRun `%s <command> --help` for a command's options.\n"
            "Exit status: 0 fine, 1 findings, 2 usage or I/O error.\n",
            prog);
}

int np_cli_main(int argc, char **argv)
{
    const char *prog = np_cli_prog(argc > 0 ? argv[0] : "netposturectl");
    if (argc < 2) {
        usage(stderr, prog);
        return NP_CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout, prog);
        return NP_CLI_EXIT_OK;
    }
    const struct np_cli_command *cmd = np_cli_command_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "%s: unknown command \"%s\"\n", prog, argv[1]);
        usage(stderr, prog);
        return NP_CLI_EXIT_USAGE;
    }
    return cmd->run(prog, argc - 1, argv + 1);
}
