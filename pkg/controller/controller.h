/*
 * controller: joins the Kubernetes side (informers, workqueue, status, Events) and the AWS
 * side (EC2 clients, snapshot pollers) around the pure posture logic. The only module that
 * knows both; cmd/netposture-controller only parses flags and calls this.
 */
#ifndef NP_CONTROLLER_CONTROLLER_H
#define NP_CONTROLLER_CONTROLLER_H

#include "core/core.h"

#include <stdint.h>

struct np_controller_options {
    const char *kubeconfig;   /* NULL: $KUBECONFIG, in-cluster, ~/.kube/config */
    const char *namespace;    /* NULL: all namespaces */
    int workers;              /* reconcile workers; default 4 */
    int64_t resync_ms;        /* poller interval unless a CloudAccount sets one; default 5 min */
    double aws_rate_scale;    /* scales the EC2 client token buckets; 0: 1.0 */
    const char *metrics_addr; /* NULL: no metrics server */
    const char *health_addr;  /* NULL: no health server */
    /* Directories a CloudAccount's credentials.tokenFile may be read from, besides
     * /var/run/secrets/eks.amazonaws.com/serviceaccount and the directory of
     * AWS_WEB_IDENTITY_TOKEN_FILE (borrowed: must outlive the controller). */
    const char *const *web_identity_token_dirs;
    size_t n_web_identity_token_dirs;
    /* Leader election on a coordination.k8s.io/v1 Lease: only the holder runs workers,
     * pollers and consumers, and every AWS mutation and Kubernetes write is fenced on it. */
    bool leader_elect;
    /* The controller's own namespace: credential Secrets live there, and the Lease by default.
     * NULL: the pod's namespace (service-account mount), else netposture-system. */
    const char *controller_namespace;
    const char *leader_election_namespace; /* NULL: the controller's namespace */
    const char *leader_election_id;        /* the Lease's name; NULL: netposture-controller */
    int64_t lease_duration_ms;             /* 0: 15 s */
    int64_t renew_deadline_ms;             /* 0: 10 s */
    int64_t retry_period_ms;               /* 0: 2 s */
    /* Sharding: this process reconciles the postures whose FNV-1a-64(metadata.uid) mod
     * shard_count is shard_index (pkg/controller/shard.c); its Lease is <id>-<I>-of-<N>.
     * 0 / 0: one shard. */
    int shard_count;
    int shard_index;
    /* netposture_build_info{version,revision}; NULL: "unknown". */
    const char *version;
    const char *revision;
};

struct np_controller;

/* Creates the controller (connects nothing yet). Errors: NP_EINVAL (bad options, config). */
int np_controller_new(struct np_controller **out, const struct np_controller_options *opts);

/*
 * Starts informers, pollers, workers and the HTTP servers, then blocks until
 * np_controller_stop() is called; drains the workers and returns. Errors: NP_EIO (cannot
 * listen), NP_EAUTH/NP_EIO (the API server is unreachable at start).
 */
int np_controller_run(struct np_controller *ctl);

/* Asks a running controller to stop (thread-safe; not async-signal-safe). */
void np_controller_stop(struct np_controller *ctl);

void np_controller_destroy(struct np_controller *ctl);

#endif
