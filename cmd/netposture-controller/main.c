/*
 * netposture-controller: parses flags, configures logging, blocks SIGTERM/SIGINT and
 * SIGUSR1/SIGUSR2 for every thread and waits for them on a signal thread, then runs the
 * controller until a signal asks it to drain and exit. SIGUSR1 makes the log one level more
 * verbose, SIGUSR2 one level less, without a restart.
 */
#include "controller/controller.h"
#include "core/core.h"

/* NP_VERSION and NP_REVISION from the build (Makefile: build/gen/version.h). */
#ifdef NP_HAVE_VERSION_H
#include "version.h"
#endif
#ifndef NP_VERSION
#define NP_VERSION "unknown"
#endif
#ifndef NP_REVISION
#define NP_REVISION "unknown"
#endif

#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs(
        "usage: netposture-controller [flags]\n"
        "  --kubeconfig PATH       kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
        "  --namespace NS          only watch postures in NS (default: all namespaces)\n"
        "  --workers N             reconcile workers (default 4)\n"
        "  --resync-interval D     safety-net full read interval, e.g. 30s, 5m (default 5m)\n"
        "  --aws-rate-scale F      scale the client-side EC2 token buckets (default 1 = EC2's\n"
        "                          default limits; 2 for an account with doubled limits)\n"
        "  --log-level L           debug, info, warn, error (default info)\n"
        "  --log-format F          json or text (default json)\n"
        "  --metrics-addr A        Prometheus /metrics listen address (default :8080; \"\" off)\n"
        "  --health-addr A         /healthz and /readyz listen address (default :8081; \"\" off)\n"
        "  --leader-elect          hold a coordination.k8s.io Lease before running (standby\n"
        "                          otherwise); every AWS mutation and write is fenced on it\n"
        "  --controller-namespace NS  the controller's own namespace, where credential Secrets\n"
        "                          live (default: the pod's, else netposture-system)\n"
        "  --leader-election-namespace NS  the Lease's namespace (default: the controller's)\n"
        "  --leader-election-id NAME       the Lease's name (default netposture-controller)\n"
        "  --leader-election-lease-duration D  (default 15s)\n"
        "  --leader-election-renew-deadline D  (default 10s)\n"
        "  --leader-election-retry-period D    (default 2s)\n"
        "  --shard-count N         split the postures between N controllers (default 1)\n"
        "  --shard-index I         this one's shard, 0..N-1 (default 0): it reconciles the\n"
        "                          postures whose FNV-1a-64(metadata.uid) mod N is I; its\n"
        "                          Lease is <leader-election-id>-<I>-of-<N>\n"
        "  --web-identity-token-dir DIR\n"
        "                          a directory CloudAccount credentials.tokenFile may name, "
        "besides\n"
        "                          /var/run/secrets/eks.amazonaws.com/serviceaccount and the one "
        "of\n"
        "                          AWS_WEB_IDENTITY_TOKEN_FILE (repeatable, at most 16)\n"
        "  --help\n",
        f);
}

struct signal_ctx {
    struct np_controller *ctl;
    sigset_t set;
};

/* SIGUSR1: one level more verbose (down to debug); SIGUSR2: one less (up to error). The
 * change is logged at the level that stays visible either way (warn). */
static void shift_log_level(int sig)
{
    enum np_log_level old = np_log_level();
    int next = (int)old + (sig == SIGUSR1 ? -1 : 1);
    if (next < NP_LOG_DEBUG || next > NP_LOG_ERROR)
        next = (int)old;
    np_log_set_level((enum np_log_level)next);
    np_log_warn("log level changed", "signal", sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2", "from",
                np_log_level_name(old), "to", np_log_level_name((enum np_log_level)next));
}

static void *signal_thread(void *arg)
{
    struct signal_ctx *s = arg;
    int sig = 0;
    while (sigwait(&s->set, &sig) == 0) {
        if (sig == SIGUSR1 || sig == SIGUSR2) {
            shift_log_level(sig);
            continue;
        }
        np_log_info("signal received, draining", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        np_controller_stop(s->ctl);
        break;
    }
    return NULL;
}

/* What the flags set: the controller's options and the logging configuration. */
#define MAX_TOKEN_DIRS 16

struct flags {
    struct np_controller_options opts;
    const char *token_dirs[MAX_TOKEN_DIRS];
    enum np_log_level level;
    enum np_log_format format;
};

static const struct option longopts[] = {
    {"kubeconfig", required_argument, NULL, 'k'},
    {"namespace", required_argument, NULL, 'n'},
    {"workers", required_argument, NULL, 'w'},
    {"resync-interval", required_argument, NULL, 'r'},
    {"aws-rate-scale", required_argument, NULL, 'a'},
    {"log-level", required_argument, NULL, 'l'},
    {"log-format", required_argument, NULL, 'f'},
    {"metrics-addr", required_argument, NULL, 'm'},
    {"health-addr", required_argument, NULL, 'h'},
    {"web-identity-token-dir", required_argument, NULL, 't'},
    {"leader-elect", no_argument, NULL, 'L'},
    {"leader-election-namespace", required_argument, NULL, 'N'},
    {"controller-namespace", required_argument, NULL, 'C'},
    {"leader-election-id", required_argument, NULL, 'I'},
    {"leader-election-lease-duration", required_argument, NULL, 'D'},
    {"leader-election-renew-deadline", required_argument, NULL, 'R'},
    {"leader-election-retry-period", required_argument, NULL, 'P'},
    {"shard-count", required_argument, NULL, 'S'},
    {"shard-index", required_argument, NULL, 'i'},
    {"help", no_argument, NULL, '?'},
    {NULL, 0, NULL, 0},
};

/* The flags that take a number or an enumerated word; each says what is wrong on stderr. */
static bool parse_value_flag(struct flags *f, int c, const char *arg)
{
    int64_t v;
    switch (c) {
    case 'w':
        if (np_parse_int64(arg, 1, 64, &v) != 0) {
            fprintf(stderr, "--workers: %s\n", np_error_message());
            return false;
        }
        f->opts.workers = (int)v;
        return true;
    case 'r':
        if (np_duration_parse(arg, &v) != 0 || v < 1000) {
            fprintf(stderr, "--resync-interval: need a duration of at least 1s, e.g. 30s or 5m\n");
            return false;
        }
        f->opts.resync_ms = v;
        return true;
    case 'a': {
        char *end = NULL;
        double scale = strtod(arg, &end);
        if (!end || *end || !(scale > 0.0 && scale <= 1000.0)) {
            fprintf(stderr, "--aws-rate-scale: need a number in (0, 1000]\n");
            return false;
        }
        f->opts.aws_rate_scale = scale;
        return true;
    }
    case 'l':
        if (np_log_level_parse(arg, &f->level) != 0) {
            fprintf(stderr, "--log-level: %s\n", np_error_message());
            return false;
        }
        return true;
    case 'S':
    case 'i':
        if (np_parse_int64(arg, c == 'S' ? 1 : 0, 1023, &v) != 0) {
            fprintf(stderr, "--shard-%s: %s\n", c == 'S' ? "count" : "index", np_error_message());
            return false;
        }
        *(c == 'S' ? &f->opts.shard_count : &f->opts.shard_index) = (int)v;
        return true;
    case 'D':
    case 'R':
    case 'P': {
        int64_t *slot = c == 'D'   ? &f->opts.lease_duration_ms
                        : c == 'R' ? &f->opts.renew_deadline_ms
                                   : &f->opts.retry_period_ms;
        if (np_duration_parse(arg, &v) != 0 || v < 100 || v > 10 * 60 * 1000) {
            fprintf(stderr, "--leader-election-*: need a duration from 100ms to 10m, e.g. 15s\n");
            return false;
        }
        *slot = v;
        return true;
    }
    default: /* 'f' */
        if (strcmp(arg, "json") == 0) {
            f->format = NP_LOG_JSON;
        } else if (strcmp(arg, "text") == 0) {
            f->format = NP_LOG_TEXT;
        } else {
            fprintf(stderr, "--log-format: json or text\n");
            return false;
        }
        return true;
    }
}

/* Reads the command line into *f. Returns -1 to go on, else the exit status (0 after --help,
 * 2 for a bad flag or argument). */
/* A namespace name (an RFC 1123 label), or a message on stderr. */
static bool namespace_flag(const char *flag, const char *arg)
{
    size_t n = strlen(arg);
    bool ok = n >= 1 && n <= 63 && arg[0] != '-' && arg[n - 1] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = (arg[i] >= 'a' && arg[i] <= 'z') || (arg[i] >= '0' && arg[i] <= '9') || arg[i] == '-';
    if (!ok)
        fprintf(stderr,
                "%s: \"%s\" is not a namespace name (lower-case letters, digits and '-', "
                "at most 63)\n",
                flag, arg);
    return ok;
}

static int parse_flags(struct flags *f, int argc, char **argv)
{
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': f->opts.kubeconfig = optarg; break;
        case 'n': f->opts.namespace = optarg[0] ? optarg : NULL; break;
        case 'm': f->opts.metrics_addr = optarg[0] ? optarg : NULL; break;
        case 'h': f->opts.health_addr = optarg[0] ? optarg : NULL; break;
        case 't':
            if (optarg[0] != '/' || f->opts.n_web_identity_token_dirs >= MAX_TOKEN_DIRS) {
                fprintf(stderr, "--web-identity-token-dir: need an absolute path (at most %d)\n",
                        MAX_TOKEN_DIRS);
                return 2;
            }
            f->token_dirs[f->opts.n_web_identity_token_dirs++] = optarg;
            f->opts.web_identity_token_dirs = f->token_dirs;
            break;
        case 'L': f->opts.leader_elect = true; break;
        case 'N':
            if (!namespace_flag("--leader-election-namespace", optarg))
                return 2;
            f->opts.leader_election_namespace = optarg;
            break;
        case 'C':
            if (!namespace_flag("--controller-namespace", optarg))
                return 2;
            f->opts.controller_namespace = optarg;
            break;
        case 'I': f->opts.leader_election_id = optarg; break;
        case 'S':
        case 'i':
        case 'D':
        case 'R':
        case 'P':
        case 'w':
        case 'r':
        case 'a':
        case 'l':
        case 'f':
            if (!parse_value_flag(f, c, optarg))
                return 2;
            break;
        default: {
            bool help = c == '?' && optind > 0 && strcmp(argv[optind - 1], "--help") == 0;
            usage(help ? stdout : stderr);
            return help ? 0 : 2;
        }
        }
    }
    int shards = f->opts.shard_count > 0 ? f->opts.shard_count : 1;
    if (f->opts.shard_index >= shards) {
        fprintf(stderr, "--shard-index: need 0..%d for --shard-count %d\n", shards - 1, shards);
        return 2;
    }
    if (optind < argc) {
        fprintf(stderr, "unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Blocks SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 before any thread starts (every thread inherits
 * the blocked set; only the signal thread receives them) and ignores SIGPIPE. */
static void block_signals(struct signal_ctx *sctx)
{
    sigemptyset(&sctx->set);
    sigaddset(&sctx->set, SIGTERM);
    sigaddset(&sctx->set, SIGINT);
    sigaddset(&sctx->set, SIGUSR1);
    sigaddset(&sctx->set, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &sctx->set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Runs the controller with a signal thread that stops it; returns the exit status. */
static int run(const struct np_controller_options *opts, struct signal_ctx *sctx)
{
    struct np_controller *ctl = NULL;
    if (np_controller_new(&ctl, opts) != 0) {
        np_log_error("cannot start", "error", np_error_message());
        return 1;
    }
    sctx->ctl = ctl;
    pthread_t sig_thread;
    pthread_create(&sig_thread, NULL, signal_thread, sctx);
    int rc = np_controller_run(ctl);
    if (rc != 0)
        np_log_error("controller failed", "error", np_error_message());
    /* Wake the signal thread if the controller stopped on its own. */
    pthread_kill(sig_thread, SIGTERM);
    pthread_join(sig_thread, NULL);
    np_controller_destroy(ctl);
    np_log_info("stopped");
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    /* glibc gives each thread that allocates its own arena (up to 8 per core); the informer,
     * poller and worker threads hand objects to each other, so each arena keeps the high
     * water of its bursts. Two arenas hold the workers' contention low and measured 16 % less
     * RSS at 2,000 postures (bench/run.sh scale phase). */
    mallopt(M_ARENA_MAX, 2);
    struct flags f = {
        .opts =
            {
                .workers = 4,
                .resync_ms = 5 * 60 * 1000,
                .metrics_addr = ":8080",
                .health_addr = ":8081",
                .version = NP_VERSION,
                .revision = NP_REVISION,
            },
        .level = NP_LOG_INFO,
        .format = NP_LOG_JSON,
    };
    int status = parse_flags(&f, argc, argv);
    if (status >= 0)
        return status;
    np_log_configure(f.level, f.format);
    struct signal_ctx sctx;
    block_signals(&sctx);
    return run(&f.opts, &sctx);
}
