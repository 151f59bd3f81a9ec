/*
 * Logging: one JSON object per line on stderr (or a readable text line), with a level
 * filter that can change while threads log. Lines are written with a single write under a
 * lock so threads never interleave; a thread's context fields (a reconcile's id and object)
 * lead each of its lines; numeric fields are JSON numbers; values of secret-named keys are
 * redacted.
 */
#include "core/core.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static atomic_int min_level = NP_LOG_INFO;
static enum np_log_format log_format = NP_LOG_JSON;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* The calling thread's context fields (np_log_context_set). */
static _Thread_local const char *const *context_kv;
static _Thread_local size_t context_n;

static const char *level_names[] = {"debug", "info", "warn", "error"};

const char np_log_int_field[] = "<int>";

/* Keys whose values are secrets whatever the caller meant (compared without case). */
static const char *const secret_keys[] = {"token",           "sessiontoken", "secret",
                                          "secretkey",       "password",     "authorization",
                                          "secretaccesskey", "credentials",  "bearer"};

void np_log_configure(enum np_log_level level, enum np_log_format format)
{
    np_log_set_level(level);
    log_format = format;
}

int np_log_level_parse(const char *s, enum np_log_level *out)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(level_names); i++) {
        if (np_str_eq(s, level_names[i])) {
            *out = (enum np_log_level)i;
            return 0;
        }
    }
    return np_error_set(NP_EINVAL, "unknown log level \"%.32s\" (debug, info, warn, error)",
                        s ? s : "");
}

bool np_log_enabled(enum np_log_level level)
{
    return (unsigned)level < NP_ARRAY_LEN(level_names) && (int)level >= atomic_load(&min_level);
}

enum np_log_level np_log_level(void)
{
    return (enum np_log_level)atomic_load(&min_level);
}

void np_log_set_level(enum np_log_level level)
{
    if ((unsigned)level <= NP_LOG_OFF)
        atomic_store(&min_level, (int)level);
}

const char *np_log_level_name(enum np_log_level level)
{
    return (unsigned)level < NP_ARRAY_LEN(level_names) ? level_names[level]
           : level == NP_LOG_OFF                       ? "off"
                                                       : "unknown";
}

void np_log_context_set(const char *const *kv, size_t n)
{
    context_kv = n ? kv : NULL;
    context_n = kv ? n : 0;
}

/* Appends s as a JSON string literal (with quotes). */
static void put_json_string(struct np_buf *b, const char *s)
{
    json_object *o = json_object_new_string(s);
    np_buf_puts(b, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

static bool is_secret_key(const char *k)
{
    for (size_t i = 0; i < NP_ARRAY_LEN(secret_keys); i++)
        if (strcasecmp(k, secret_keys[i]) == 0)
            return true;
    return false;
}

/* One field of a line; value NULL: the number n. */
static void put_field(struct np_buf *b, const char *k, const char *v, int64_t n)
{
    bool json = log_format == NP_LOG_JSON;
    if (v && is_secret_key(k))
        v = "[redacted]";
    if (json) {
        np_buf_putc(b, ',');
        put_json_string(b, k);
        np_buf_putc(b, ':');
    } else {
        np_buf_appendf(b, " %s=", k);
    }
    if (!v)
        np_buf_appendf(b, "%lld", (long long)n);
    else if (json)
        put_json_string(b, v);
    else
        np_buf_puts(b, v);
}

static bool in_context(const char *k)
{
    for (size_t i = 0; i < context_n; i++)
        if (np_str_eq(context_kv[2 * i], k))
            return true;
    return false;
}

/* The variadic fields after the context's (a context key given again is left out). */
static void put_fields(struct np_buf *b, va_list ap)
{
    for (size_t i = 0; i < context_n; i++)
        if (context_kv[2 * i + 1])
            put_field(b, context_kv[2 * i], context_kv[2 * i + 1], 0);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        if (k == np_log_int_field) {
            k = va_arg(ap, const char *);
            int64_t n = va_arg(ap, int64_t);
            if (k && !in_context(k))
                put_field(b, k, NULL, n);
            continue;
        }
        const char *v = va_arg(ap, const char *);
        if (v && !in_context(k))
            put_field(b, k, v, 0);
    }
}

static void write_line(const struct np_buf *b)
{
    pthread_mutex_lock(&log_lock);
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(STDERR_FILENO, b->data + off, b->len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    pthread_mutex_unlock(&log_lock);
}

void np_log(enum np_log_level level, const char *msg, ...)
{
    if (!np_log_enabled(level))
        return;
    char ts[40];
    np_time_format_micro(ts, sizeof(ts), np_time_now_ms());
    struct np_buf b = NP_BUF_INIT;
    if (log_format == NP_LOG_JSON) {
        np_buf_appendf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, level_names[level]);
        put_json_string(&b, msg);
    } else {
        np_buf_appendf(&b, "%s %-5s %s", ts, level_names[level], msg);
    }
    va_list ap;
    va_start(ap, msg);
    put_fields(&b, ap);
    va_end(ap);
    np_buf_puts(&b, log_format == NP_LOG_JSON ? "}\n" : "\n");
    write_line(&b);
    np_buf_clean_up(&b);
}
