/*
 * netposture-controller: parses flags, configures logging, blocks SIGTERM/SIGINT for every
 * thread and waits for them in main, then runs the controller until a signal asks it to
 * drain and exit.
 */
#include "controller/controller.h"
#include "core/core.h"

#include <getopt.h>
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
        "  --help\n",
        f);
}

struct signal_ctx {
    struct np_controller *ctl;
    sigset_t set;
};

static void *signal_thread(void *arg)
{
    struct signal_ctx *s = arg;
    int sig = 0;
    if (sigwait(&s->set, &sig) == 0) {
        np_log_info("signal received, draining", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        np_controller_stop(s->ctl);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct np_controller_options opts = {
        .workers = 4,
        .resync_ms = 5 * 60 * 1000,
        .metrics_addr = ":8080",
        .health_addr = ":8081",
    };
    enum np_log_level level = NP_LOG_INFO;
    enum np_log_format format = NP_LOG_JSON;
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
        {"help", no_argument, NULL, '?'},
        {NULL, 0, NULL, 0},
    };
    int c;
    int64_t v;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': opts.kubeconfig = optarg; break;
        case 'n': opts.namespace = optarg[0] ? optarg : NULL; break;
        case 'w':
            if (np_parse_int64(optarg, 1, 64, &v) != 0) {
                fprintf(stderr, "--workers: %s\n", np_error_message());
                return 2;
            }
            opts.workers = (int)v;
            break;
        case 'r':
            if (np_duration_parse(optarg, &v) != 0 || v < 1000) {
                fprintf(stderr,
                        "--resync-interval: need a duration of at least 1s, e.g. 30s or 5m\n");
                return 2;
            }
            opts.resync_ms = v;
            break;
        case 'a': {
            char *end = NULL;
            double f = strtod(optarg, &end);
            if (!end || *end || !(f > 0.0 && f <= 1000.0)) {
                fprintf(stderr, "--aws-rate-scale: need a number in (0, 1000]\n");
                return 2;
            }
            opts.aws_rate_scale = f;
            break;
        }
        case 'l':
            if (np_log_level_parse(optarg, &level) != 0) {
                fprintf(stderr, "--log-level: %s\n", np_error_message());
                return 2;
            }
            break;
        case 'f':
            if (strcmp(optarg, "json") == 0) {
                format = NP_LOG_JSON;
            } else if (strcmp(optarg, "text") == 0) {
                format = NP_LOG_TEXT;
            } else {
                fprintf(stderr, "--log-format: json or text\n");
                return 2;
            }
            break;
        case 'm': opts.metrics_addr = optarg[0] ? optarg : NULL; break;
        case 'h': opts.health_addr = optarg[0] ? optarg : NULL; break;
        default:
            usage(c == '?' && optind > 0 && strcmp(argv[optind - 1], "--help") == 0 ? stdout
                                                                                    : stderr);
            return c == '?' && optind > 0 && strcmp(argv[optind - 1], "--help") == 0 ? 0 : 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    np_log_configure(level, format);

    /* Every thread inherits the blocked set; only the signal thread receives them. */
    struct signal_ctx sctx;
    sigemptyset(&sctx.set);
    sigaddset(&sctx.set, SIGTERM);
    sigaddset(&sctx.set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sctx.set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct np_controller *ctl = NULL;
    if (np_controller_new(&ctl, &opts) != 0) {
        np_log_error("cannot start", "error", np_error_message());
        return 1;
    }
    sctx.ctl = ctl;
    pthread_t sig_thread;
    pthread_create(&sig_thread, NULL, signal_thread, &sctx);
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
