/*
 * The process_* families of the Prometheus client conventions, read at every scrape: CPU
 * seconds (getrusage), resident memory (/proc/self/statm), open and maximum file descriptors
 * (/proc/self/fd, getrlimit) and the start time (/proc/self/stat's starttime after the boot
 * time of /proc/stat).
 */
#include "http/http.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Resident set size in bytes (0: unknown). */
static double resident_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Entries of /proc/self/fd, less the directory stream reading them. */
static double open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    double n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0;
}

static double max_fds(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 0;
    return (double)rl.rlim_cur;
}

/* The boot time in seconds since the epoch (the btime line of /proc/stat); 0: unknown. */
static double boot_time(void)
{
    char line[256];
    double btime = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "btime %lf", &btime) == 1)
            break;
    fclose(f);
    return btime;
}

/* The process's start in seconds since the epoch: field 22 (starttime, clock ticks after
 * boot) of /proc/self/stat, counted after the command name's closing parenthesis. */
static double start_time(void)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long long ticks = 0;
    /* after ")": state (3), then fields 4..21 skipped, starttime is field 22 */
    if (!p || sscanf(p + 1,
                     " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
                     "%*d %*d %*d %llu",
                     &ticks) != 1)
        return 0;
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? boot_time() + (double)ticks / (double)hz : 0;
}

static void collect(void *ctx, struct np_metrics *m)
{
    (void)ctx;
    np_metrics_gauge_set(m, "process_resident_memory_bytes", NULL, resident_bytes());
    np_metrics_counter_set_total(m, "process_cpu_seconds_total", NULL, cpu_seconds());
    np_metrics_gauge_set(m, "process_open_fds", NULL, open_fds());
    np_metrics_gauge_set(m, "process_max_fds", NULL, max_fds());
    np_metrics_gauge_set(m, "process_start_time_seconds", NULL, start_time());
}

void np_metrics_add_process_collector(struct np_metrics *m)
{
    np_metrics_describe(m, "process_cpu_seconds_total", NP_METRIC_COUNTER,
                        "Total user and system CPU time spent in seconds.", NULL, 0);
    np_metrics_describe(m, "process_resident_memory_bytes", NP_METRIC_GAUGE,
                        "Resident memory size in bytes.", NULL, 0);
    np_metrics_describe(m, "process_open_fds", NP_METRIC_GAUGE, "Number of open file descriptors.",
                        NULL, 0);
    np_metrics_describe(m, "process_max_fds", NP_METRIC_GAUGE,
                        "Maximum number of open file descriptors.", NULL, 0);
    np_metrics_describe(m, "process_start_time_seconds", NP_METRIC_GAUGE,
                        "Start time of the process since unix epoch in seconds.", NULL, 0);
    np_metrics_add_collector(m, collect, NULL);
}
