/* What the parts of cert export share (lib/crypto/cert_export*.c). */
#ifndef SG_CERT_EXPORT_INTERNAL_H
#define SG_CERT_EXPORT_INTERNAL_H

#include <openssl/x509.h>
#include <stdarg.h>

#include "signgate/cert_export.h"

/*
 * The largest file export writes, and the largest entry of the folder it
 * reads back (--check, the CRL rollback check): one limit, so export never
 * writes a file (a CA's large CRL) that its own check cannot read.
 */
#define EXPORT_FILE_MAX (16u << 20)

/* A CRL as README.txt and --check name it. */
typedef struct export_crl_facts {
	char issuer[300];     /* escaped (sg_export_escape) */
	char this_update[32]; /* "YYYY-MM-DDTHH:MM:SSZ" */
	char next_update[32]; /* "" when the CRL has none */
	char number[80];      /* decimal, "" when it has none */
} export_crl_facts;

void export_crl_facts_of(export_crl_facts *out, const X509_CRL *crl);

/*
 * 1 when `crl` is an older CRL of the issuer of `than`: a lower CRL number
 * when both have one, else an earlier thisUpdate (one order for --check and
 * the rollback check). A rollback: it may not list a certificate revoked
 * since.
 */
int export_crl_older(const X509_CRL *crl, const X509_CRL *than);

/* 1 when `ex` writes a file named `name`. */
int export_writes(const sg_export *ex, const char *name);

/* Append a finding to the array *v of *n (name escaped, reason formatted):
 * the new entry, or NULL when out of memory (nothing appended). */
sg_export_diff *export_diff_vadd(sg_export_diff **v, size_t *n, const char *name,
				 sg_export_status st, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/* The README.txt of `ex` (its files but README.txt built), as CRLF ASCII, newly allocated. */
int export_readme(char **out, size_t *len, const sg_export *ex);

/* The import script of `ex`, as CRLF ASCII, newly allocated. */
int export_script(char **out, size_t *len, const sg_export *ex);

#endif
