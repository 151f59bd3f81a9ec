/*
 * Leader election for the controller (--leader-elect): one Lease, held by one process at a
 * time. A standby keeps its informers warm and runs nothing else; the leader runs workers
 * (which start pollers and consumers); every AWS mutation and every Kubernetes write goes
 * through np_controller_may_write, the fence, which closes as soon as the lease is no longer
 * surely ours. A process that loses the lease stops and exits non-zero (the Deployment
 * restarts it as a standby); one that is told to stop releases the lease after its workers.
 */
#include "controller/private/controller_private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_ID "netposture-controller"

bool np_controller_may_write(void *ctx)
{
    struct np_controller *ctl = ctx;
    return !ctl->leader || np_kube_leader_valid(ctl->leader);
}

/* The namespace of the Lease: the flag, else the controller's own. */
static char *lease_namespace(const struct np_controller *ctl)
{
    if (!np_str_is_empty(ctl->opts.leader_election_namespace))
        return np_strdup(ctl->opts.leader_election_namespace);
    return np_strdup(np_controller_own_namespace(ctl));
}

/* holderIdentity: <hostname>_<16 random hex digits>, unique per process. */
static char *holder_identity(void)
{
    char host[256] = "";
    if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
        np_strlcpy(host, "netposture", sizeof(host));
    return np_strdupf("%s_%016llx", host, (unsigned long long)np_rand_below(UINT64_MAX));
}

static void lease_label(struct np_controller *ctl, struct np_buf *l)
{
    np_metrics_labels(l, "lease", ctl->lease_name);
}

static void on_leading(void *ctx, bool leading)
{
    struct np_controller *ctl = ctx;
    struct np_buf l = NP_BUF_INIT;
    lease_label(ctl, &l);
    np_metrics_gauge_set(ctl->metrics, "netposture_leader", np_buf_cstr(&l), leading ? 1 : 0);
    np_buf_clean_up(&l);
    np_log_info(leading ? "leader election: leading" : "leader election: lost the lease",
                "identity", ctl->identity);
    if (!leading) {
        atomic_store(&ctl->lost, true);
        np_controller_stop(ctl);
    }
}

static void on_holder(void *ctx, const char *holder)
{
    struct np_controller *ctl = ctx;
    np_log_info("leader election: lease holder changed", "holder", holder[0] ? holder : "(none)",
                "identity", ctl->identity);
    if (holder[0]) {
        struct np_buf l = NP_BUF_INIT;
        lease_label(ctl, &l);
        np_metrics_counter_add(ctl->metrics, "netposture_leader_transitions_total", np_buf_cstr(&l),
                               1);
        np_buf_clean_up(&l);
    }
}

static int64_t or_default(int64_t v, int64_t def)
{
    return v > 0 ? v : def;
}

int np_controller_leader_init(struct np_controller *ctl, const struct np_kube_config *cfg)
{
    if (!ctl->opts.leader_elect)
        return 0;
    struct np_kube_client_options kopts = {.user_agent = "netposture-controller/leader-election"};
    int rc = np_kube_client_new(&ctl->lease_kube, cfg, &kopts);
    if (rc)
        return rc;
    ctl->identity = holder_identity();
    ctl->lease_name = np_controller_shard_lease_name(
        ctl, ctl->opts.leader_election_id ? ctl->opts.leader_election_id : DEFAULT_ID);
    ctl->lease_namespace = lease_namespace(ctl);
    const char *ns = ctl->lease_namespace;
    struct np_kube_leader_options o = {
        .namespace = ns,
        .name = ctl->lease_name,
        .identity = ctl->identity,
        .lease_duration_ms = or_default(ctl->opts.lease_duration_ms, 15000),
        .renew_deadline_ms = or_default(ctl->opts.renew_deadline_ms, 10000),
        .retry_period_ms = or_default(ctl->opts.retry_period_ms, 2000),
        .on_leading = on_leading,
        .on_holder = on_holder,
        .ctx = ctl,
    };
    rc = np_kube_leader_new_for_client(&ctl->leader, ctl->lease_kube, &o);
    if (rc == 0) {
        struct np_buf l = NP_BUF_INIT;
        lease_label(ctl, &l);
        np_metrics_gauge_set(ctl->metrics, "netposture_leader", np_buf_cstr(&l), 0);
        np_buf_clean_up(&l);
        np_log_info("leader election: standing by", "lease", o.name, "namespace", ns, "identity",
                    ctl->identity);
    }
    return rc;
}

/* A Normal Event on the Lease: who leads now (kubectl describe lease shows the history). */
static void announce_leading(struct np_controller *ctl)
{
    char *uid = np_kube_leader_lease_uid(ctl->leader);
    struct np_kube_object_ref ref = {
        .api_version = "coordination.k8s.io/v1",
        .kind = "Lease",
        .namespace = ctl->lease_namespace,
        .name = ctl->lease_name,
        .uid = uid,
    };
    char *note = np_strdupf("%s became the leader", ctl->identity);
    if (np_kube_recorder_emit(ctl->recorder, &ref, "Normal", "LeaderElected", "Acquire", note) != 0)
        np_log_warn("leader election: cannot record the Event", "error", np_error_message());
    free(note);
    free(uid);
}

int np_controller_leader_acquire(struct np_controller *ctl)
{
    if (!ctl->leader)
        return 0;
    int rc = np_kube_leader_start(ctl->leader);
    while (rc == 0 && !atomic_load(&ctl->stopping)) {
        rc = np_kube_leader_wait(ctl->leader, 500);
        if (rc == NP_ETIMEOUT) {
            rc = 0;
        } else if (rc == 0) {
            announce_leading(ctl);
            return 0;
        }
    }
    return rc ? rc : np_error_set(NP_ECANCELED, "stopped before leading");
}

void np_controller_leader_stop(struct np_controller *ctl)
{
    if (ctl->leader)
        np_kube_leader_stop(ctl->leader, !atomic_load(&ctl->lost));
}

void np_controller_leader_destroy(struct np_controller *ctl)
{
    np_kube_leader_destroy(ctl->leader);
    ctl->leader = NULL;
    np_kube_client_destroy(ctl->lease_kube);
    free(ctl->identity);
    free(ctl->lease_name);
    free(ctl->lease_namespace);
}
