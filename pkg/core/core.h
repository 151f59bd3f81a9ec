/*
 * core: the basics every netposture module shares — error codes with a thread-local
 * message, JSON-lines logging, growable byte buffers, bounded string helpers, time and
 * durations, and an injectable clock. Depends only on libc and json-c.
 */
#ifndef NP_CORE_CORE_H
#define NP_CORE_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---------------------------------------------------------------- errors */

/* Actions return 0 or one of these negative codes; np_error_message() explains the last one. */
enum np_error {
    NP_OK = 0,
    NP_EINVAL = -1,       /* bad input (spec, argument, config) */
    NP_ENOMEM = -2,       /* allocation failed */
    NP_EIO = -3,          /* transport failure (connect, TLS, read) */
    NP_ENOTFOUND = -4,    /* the object does not exist */
    NP_ECONFLICT = -5,    /* optimistic-lock conflict (409 Conflict) */
    NP_ETHROTTLED = -6,   /* throttled; retry later */
    NP_EAUTH = -7,        /* authentication or authorization failed */
    NP_EPARSE = -8,       /* a response or file could not be decoded */
    NP_ETIMEOUT = -9,     /* a deadline passed */
    NP_EGONE = -10,       /* 410 Gone: resource version expired */
    NP_EAGAIN = -11,      /* transient server error; retry */
    NP_EEXIST = -12,      /* already exists */
    NP_EDEPENDENCY = -13, /* still in use (DependencyViolation) */
    NP_EDENIED = -14,     /* refused by policy (namespace not allowed, guardrail) */
    NP_ECANCELED = -15,   /* shutting down */
    NP_ENOTSUP = -16,     /* well-formed input of a kind this code does not handle */
};

/* Sets the thread-local error message and returns code (for `return np_error_set(...)`). */
int np_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The thread-local message of the last np_error_set on this thread ("" if none). Borrowed. */
const char *np_error_message(void);
/* A short constant name for a code ("EINVAL", ...). */
const char *np_error_name(int code);
/* Clears the thread-local message. */
void np_error_clear(void);

/* ---------------------------------------------------------------- buffers */

/* A growable, always NUL-terminated byte buffer. Zero-initialised is a valid empty buffer. */
struct np_buf {
    char *data;
    size_t len;
    size_t cap;
};

#define NP_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void np_buf_init(struct np_buf *b);
void np_buf_clean_up(struct np_buf *b);
/* Empties the buffer and keeps its memory. */
void np_buf_reset(struct np_buf *b);
int np_buf_reserve(struct np_buf *b, size_t extra);
int np_buf_append(struct np_buf *b, const void *data, size_t len);
int np_buf_puts(struct np_buf *b, const char *s);
int np_buf_putc(struct np_buf *b, char c);
int np_buf_appendf(struct np_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int np_buf_vappendf(struct np_buf *b, const char *fmt, va_list ap);
/* Returns the data (never NULL; "" when empty). Borrowed. */
const char *np_buf_cstr(const struct np_buf *b);
/* Hands the heap string to the caller (caller frees) and leaves the buffer empty. */
char *np_buf_take(struct np_buf *b);
/* Drops the first n bytes. */
void np_buf_consume(struct np_buf *b, size_t n);

/* ---------------------------------------------------------------- strings */

/* strdup that aborts on out-of-memory; NULL in, NULL out. */
char *np_strdup(const char *s);
char *np_strndup(const char *s, size_t n);
/* Allocating printf (aborts on out-of-memory). */
char *np_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copies at most size-1 bytes and always NUL-terminates; returns strlen(src). */
size_t np_strlcpy(char *dst, const char *src, size_t size);
bool np_str_eq(const char *a, const char *b); /* NULL-safe */
/* FNV-1a 64-bit hash of a NUL-terminated string, for in-memory hash maps (not stable storage). */
uint64_t np_hash_str(const char *s);
/* The FNV-1a 64-bit offset basis: the h to start a hash with. */
#define NP_FNV1A64_OFFSET 14695981039346656037ull
/* FNV-1a 64-bit hash of n bytes of data continued from h (NP_FNV1A64_OFFSET to start; a
 * previous result to hash further pieces). The same on every platform and run. */
uint64_t np_fnv1a64(const void *data, size_t n, uint64_t h);
bool np_str_has_prefix(const char *s, const char *prefix);
bool np_str_is_empty(const char *s); /* NULL or "" */
/* Parses a whole base-10 integer within [min,max]. */
int np_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void np_hex_encode(char *out, const unsigned char *in, size_t n);
/* Allocation that aborts on failure (out of memory is not recoverable in a controller). */
void *np_xcalloc(size_t n, size_t size);
void *np_xrealloc(void *p, size_t size);

/* ---------------------------------------------------------------- time */

/* Wall clock in milliseconds since the epoch. */
int64_t np_time_now_ms(void);
/* Monotonic clock in milliseconds. */
int64_t np_time_mono_ms(void);
/* The CLOCK_MONOTONIC time ms from now (negative counts as 0), for pthread_cond_timedwait on
 * a condition variable set to CLOCK_MONOTONIC. */
struct timespec np_time_mono_after(int64_t ms);
/* Formats epoch milliseconds as RFC 3339 UTC ("2026-01-02T03:04:05Z"); out needs 32 bytes. */
void np_time_format_rfc3339(char *out, size_t size, int64_t epoch_ms);
/* Same with microseconds ("...05.123456Z", Kubernetes MicroTime). */
void np_time_format_micro(char *out, size_t size, int64_t epoch_ms);
/* Parses RFC 3339 (Z or ±hh:mm offset, optional fraction) into epoch ms. */
int np_time_parse_rfc3339(const char *s, int64_t *epoch_ms);
/* Parses a Go-style duration ("90s", "5m", "1h30m", "250ms", "0s") into milliseconds. */
int np_duration_parse(const char *s, int64_t *ms);
/* Sleeps for ms milliseconds (restarts on EINTR). */
void np_sleep_ms(int64_t ms);

/* An injectable clock: tests pass a fake; production uses np_clock_system(). */
struct np_clock {
    int64_t (*now_ms)(void *ctx);  /* wall ms */
    int64_t (*mono_ms)(void *ctx); /* monotonic ms */
    void *ctx;
};
const struct np_clock *np_clock_system(void);

/* ---------------------------------------------------------------- random */

/* Uniform random in [0, n) from a thread-safe source (not for cryptography). */
uint64_t np_rand_below(uint64_t n);

/* ---------------------------------------------------------------- logging */

/* NP_LOG_OFF is only a minimum level (nothing is written: netposturectl's default, whose
 * users get the command's own error line); nothing is logged at it. */
enum np_log_level {
    NP_LOG_DEBUG = 0,
    NP_LOG_INFO = 1,
    NP_LOG_WARN = 2,
    NP_LOG_ERROR = 3,
    NP_LOG_OFF = 4
};
enum np_log_format { NP_LOG_JSON = 0, NP_LOG_TEXT = 1 };

void np_log_configure(enum np_log_level min_level, enum np_log_format format);
int np_log_level_parse(const char *s, enum np_log_level *out);
bool np_log_enabled(enum np_log_level level);
/* The lowest level written, changeable at any time from any thread (a signal thread). */
enum np_log_level np_log_level(void);
void np_log_set_level(enum np_log_level level);
const char *np_log_level_name(enum np_log_level level); /* "debug", ..., "off" */
/*
 * Writes one log line to stderr: JSON `{"ts":..,"level":..,"msg":..,"k":"v",...}` or text.
 * The variadic part is key, value string pairs terminated by a NULL key (NP_LOG_END); a NULL
 * value is skipped; NP_LOG_INT(k, v) is a numeric field (a JSON number). The calling thread's
 * context fields (np_log_context_set) come first; an explicit field with one of their keys is
 * left out. The np_log_<level>(msg, k, v, ...) macros add the terminator themselves. Never pass
 * secrets; the values of keys that name one (token, secret, password, authorization, ...) are
 * written as "[redacted]" anyway.
 */
void np_log(enum np_log_level level, const char *msg, ...);
#define NP_LOG_END ((const char *)NULL)
extern const char np_log_int_field[];
#define NP_LOG_INT(k, v) np_log_int_field, (const char *)(k), (int64_t)(v)
/*
 * Fields every line the calling thread writes carries first, until cleared (NULL, 0): n
 * key, value pairs in kv (2n strings, borrowed: they must outlive the context), e.g. a
 * reconcile's id and object.
 */
void np_log_context_set(const char *const *kv, size_t n);
#define np_log_debug(...) np_log(NP_LOG_DEBUG, __VA_ARGS__, NP_LOG_END)
#define np_log_info(...) np_log(NP_LOG_INFO, __VA_ARGS__, NP_LOG_END)
#define np_log_warn(...) np_log(NP_LOG_WARN, __VA_ARGS__, NP_LOG_END)
#define np_log_error(...) np_log(NP_LOG_ERROR, __VA_ARGS__, NP_LOG_END)

/* ---------------------------------------------------------------- json */

struct json_object;

/*
 * Walks obj through the NULL-terminated object keys (NP_JSON_END) and returns the member
 * found, borrowed from obj; NULL when a key is missing or a step is not an object.
 */
struct json_object *np_json_path(struct json_object *obj, ...);
/* The string at the path, or NULL when absent or not a string. Borrowed. */
const char *np_json_path_str(struct json_object *obj, ...);
/* The integer at the path, or def when absent or not an integer. */
int64_t np_json_path_int(struct json_object *obj, int64_t def, ...);
/* Adds the string member k = v to the object obj; nothing when v is NULL. */
void np_json_put_str(struct json_object *obj, const char *k, const char *v);
#define NP_JSON_END ((const char *)NULL)

#define NP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
