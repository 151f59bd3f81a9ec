/*
 * AWS Signature Version 4 (header form) as a pure function over an HTTP request: no clock,
 * no I/O, no globals. Used by the Query API client; tested against the public SigV4 suite
 * and an EC2 vector (tests/fixtures/sigv4/).
 */
#ifndef NP_AWS_PRIVATE_SIGV4_H
#define NP_AWS_PRIVATE_SIGV4_H

#include "aws/aws.h"

struct np_aws_sigv4_header {
    const char *name;
    const char *value;
};

/* Do not remove "." / ".." / empty segments from the path (S3 style). */
#define NP_AWS_SIGV4_NO_NORMALIZE_PATH 0x1u
/* Add and sign x-amz-content-sha256 with the payload hash (S3 style; not needed for EC2). */
#define NP_AWS_SIGV4_SIGN_CONTENT_SHA256 0x2u
/* Send X-Amz-Security-Token but leave it out of the signature (legacy STS style). */
#define NP_AWS_SIGV4_UNSIGNED_SESSION_TOKEN 0x4u

/* Everything borrowed. */
struct np_aws_sigv4_input {
    const char *method; /* "POST" */
    const char *path;   /* decoded absolute path ("/"); encoded once by the signer. NULL: "/" */
    const char *query;  /* the query string as sent (percent-encoded, no '?'); NULL: none */
    const struct np_aws_sigv4_header *headers; /* the headers to sign; must include host. */
    size_t n_headers;                          /* x-amz-date / authorization are refused. */
    const void *body;
    size_t body_len;
    const char *region;
    const char *service;
    const struct np_aws_credentials *credentials;
    int64_t time_ms; /* signing time, epoch milliseconds */
    unsigned flags;  /* NP_AWS_SIGV4_* */
};

/*
 * The result. The caller sends X-Amz-Date: amz_date, Authorization: authorization and, when
 * security_token is not NULL, X-Amz-Security-Token: security_token (plus
 * x-amz-content-sha256 with SIGN_CONTENT_SHA256). canonical_request and string_to_sign are
 * kept for tests and debugging; they hold no secret key but may hold the session token, so
 * never log them.
 */
struct np_aws_sigv4_output {
    char amz_date[17];          /* YYYYMMDDTHHMMSSZ */
    char payload_hash[65];      /* hex SHA-256 of the body */
    char signature[65];         /* hex */
    char *authorization;        /* owned */
    char *signed_headers;       /* owned, "content-type;host;x-amz-date" */
    char *canonical_request;    /* owned */
    char *string_to_sign;       /* owned */
    const char *security_token; /* borrowed from the credentials; NULL when none */
};

/*
 * Signs the request described by in. *out must be zeroed; on success the caller owns it
 * (np_aws_sigv4_output_clean_up; also safe after a failure). Returns NP_EINVAL for missing
 * inputs (method, host header, region, service, credentials) or refused headers.
 */
int np_aws_sigv4_sign(struct np_aws_sigv4_output *out, const struct np_aws_sigv4_input *in);
void np_aws_sigv4_output_clean_up(struct np_aws_sigv4_output *out);

/* URI-encodes s (every byte but A-Z a-z 0-9 - _ . ~; '/' too unless keep_slash) onto b. */
int np_aws_uri_encode(struct np_buf *b, const char *s, size_t len, bool keep_slash);

#endif
