/*
 * Runs one command for an exec credential plugin: posix_spawnp with stdin /dev/null, default
 * signal handling, an empty signal mask and a process group of its own; stdout captured up to a
 * bound, the first line of stderr kept for messages, the rest drained; killed (its whole group)
 * on timeout, on too much output or when a cancel token fires.
 */
#include "kube/private/kube_private.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLL_SLICE_MS 200
#define ERR_KEEP 4096

/* The two pipes of a run and what came through them. */
struct run {
    int out_fd, err_fd; /* read ends, -1 once closed */
    pid_t pid;
    char err[ERR_KEEP]; /* the first ERR_KEEP bytes of stderr */
    size_t err_len;
};

void np_kube_exec_result_clean_up(struct np_kube_exec_result *res)
{
    if (res->out.data)
        memset(res->out.data, 0, res->out.cap); /* may hold a credential */
    np_buf_clean_up(&res->out);
    memset(res, 0, sizeof(*res));
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* A pipe whose two ends are closed on exec (the child only gets its dup2 copies). */
static int cloexec_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return np_error_set(NP_EIO, "cannot create a pipe: %s", strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* The child's start: stdin /dev/null, stdout and stderr the pipes, signals as a fresh process
 * has them (the controller blocks SIGTERM/SIGINT and ignores SIGPIPE), its own process group. */
static int spawn(struct run *r, const struct np_kube_exec_spec *spec, int out_w, int err_w)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, defaults;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_w, 1);
    posix_spawn_file_actions_adddup2(&fa, err_w, 2);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGHUP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &defaults);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    int err = posix_spawnp(&r->pid, spec->argv[0], &fa, &at, spec->argv, spec->envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (err == 0)
        return 0;
    r->pid = -1;
    if (err == ENOENT)
        return np_error_set(NP_ENOTFOUND, "executable %s not found", spec->argv[0]);
    return np_error_set(NP_EIO, "cannot run %s: %s", spec->argv[0], strerror(err));
}

/* Kills the child's process group and reaps the child. */
static void kill_and_reap(struct run *r)
{
    if (r->pid <= 0)
        return;
    kill(-r->pid, SIGKILL);
    while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    r->pid = -1;
}

/* Reads what one pipe has: stdout into res->out (NP_EPARSE past the bound), stderr into the
 * run's small buffer (the rest is drained and dropped). Closes the fd at end of file. */
static int drain(struct run *r, int *fd, struct np_kube_exec_result *res, size_t max_stdout)
{
    char chunk[16384];
    ssize_t n = read(*fd, chunk, sizeof(chunk));
    if (n < 0)
        return errno == EINTR || errno == EAGAIN
                   ? 0
                   : np_error_set(NP_EIO, "read: %s", strerror(errno));
    if (n == 0) {
        close_fd(fd);
        return 0;
    }
    if (fd == &r->out_fd) {
        if (res->out.len + (size_t)n > max_stdout)
            return np_error_set(NP_EPARSE, "printed more than %zu bytes", max_stdout);
        np_buf_append(&res->out, chunk, (size_t)n);
    } else if (r->err_len < sizeof(r->err)) {
        size_t keep =
            (size_t)n < sizeof(r->err) - r->err_len ? (size_t)n : sizeof(r->err) - r->err_len;
        memcpy(r->err + r->err_len, chunk, keep);
        r->err_len += keep;
    }
    return 0;
}

/* Why the wait must end now, or 0: the deadline passed or the token fired. */
static int must_stop(const struct np_kube_exec_spec *spec, int64_t deadline)
{
    if (np_kube_cancel_is_fired(spec->cancel))
        return np_error_set(NP_ECANCELED, "canceled");
    if (np_time_mono_ms() >= deadline)
        return np_error_set(NP_ETIMEOUT, "did not finish within %lld ms",
                            (long long)spec->timeout_ms);
    return 0;
}

/* Reads both pipes until both are closed, the deadline passes or the token fires. */
static int pump(struct run *r, const struct np_kube_exec_spec *spec, int64_t deadline,
                struct np_kube_exec_result *res)
{
    while (r->out_fd >= 0 || r->err_fd >= 0) {
        int rc = must_stop(spec, deadline);
        if (rc)
            return rc;
        struct pollfd p[2] = {{r->out_fd, POLLIN, 0}, {r->err_fd, POLLIN, 0}};
        int64_t left = deadline - np_time_mono_ms();
        int wait = left < POLL_SLICE_MS ? (int)(left > 0 ? left : 0) : POLL_SLICE_MS;
        if (poll(p, 2, wait) < 0 && errno != EINTR)
            return np_error_set(NP_EIO, "poll: %s", strerror(errno));
        for (int i = 0; i < 2; i++) {
            int *fd = i == 0 ? &r->out_fd : &r->err_fd;
            if (*fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                rc = drain(r, fd, res, spec->max_stdout);
                if (rc)
                    return rc;
            }
        }
    }
    return 0;
}

/* Waits for the child to exit (its pipes are closed) until the deadline. */
static int reap(struct run *r, const struct np_kube_exec_spec *spec, int64_t deadline,
                struct np_kube_exec_result *res)
{
    for (;;) {
        int status = 0;
        pid_t got = waitpid(r->pid, &status, WNOHANG);
        if (got < 0 && errno != EINTR)
            return np_error_set(NP_EIO, "waitpid: %s", strerror(errno));
        if (got == r->pid) {
            r->pid = -1;
            res->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            return 0;
        }
        int rc = must_stop(spec, deadline);
        if (rc)
            return rc;
        np_sleep_ms(10);
    }
}

/* The first line of what stderr said, printable ASCII only, cut to the field's size. */
static void first_line(char *out, size_t size, const char *err, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < size; i++) {
        if (err[i] == '\n' || err[i] == '\r') {
            if (n > 0)
                break;
            continue;
        }
        out[n++] = (err[i] >= 0x20 && err[i] < 0x7f) ? err[i] : '?';
    }
    out[n] = '\0';
}

int np_kube_exec_run(struct np_kube_exec_result *res, const struct np_kube_exec_spec *spec)
{
    int rc = 0;
    int out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
    struct run r = {.out_fd = -1, .err_fd = -1, .pid = -1};

    memset(res, 0, sizeof(*res));
    res->exit_code = -1;
    int64_t deadline = np_time_mono_ms() + spec->timeout_ms;
    if (np_kube_cancel_is_fired(spec->cancel))
        return np_error_set(NP_ECANCELED, "canceled");
    rc = cloexec_pipe(out_p);
    if (rc == 0)
        rc = cloexec_pipe(err_p);
    if (rc == 0)
        rc = spawn(&r, spec, out_p[1], err_p[1]);
    close_fd(&out_p[1]);
    close_fd(&err_p[1]);
    r.out_fd = out_p[0];
    r.err_fd = err_p[0];
    if (rc)
        goto out;
    rc = pump(&r, spec, deadline, res);
    if (rc == 0)
        rc = reap(&r, spec, deadline, res);
out:
    kill_and_reap(&r);
    close_fd(&r.out_fd);
    close_fd(&r.err_fd);
    first_line(res->err_line, sizeof(res->err_line), r.err, r.err_len);
    memset(r.err, 0, sizeof(r.err));
    return rc;
}
