/*
 * cert export, part 6: whether an export would roll the folder's CRLs back
 * (signgate/cert_export.h). Every entry of the folder is looked at, not only
 * the names export writes: a newer CRL of the same CA under any name makes
 * the CRL export writes a rollback. Entries are opened relative to the
 * folder's descriptor without following a link; only regular files are read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert_export_internal.h"
#include "signgate/error.h"
#include "signgate/util.h"

#define EXPORT_CRL_MAX (1u << 20)

int export_crl_older(const X509_CRL *crl, const X509_CRL *than)
{
	ASN1_INTEGER *a = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	ASN1_INTEGER *b = X509_CRL_get_ext_d2i(than, NID_crl_number, NULL, NULL);
	int older = X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_CRL_get_issuer(than)) == 0 &&
		    ((a && b && ASN1_INTEGER_cmp(a, b) < 0) ||
		     ASN1_TIME_compare(X509_CRL_get0_lastUpdate(crl),
				       X509_CRL_get0_lastUpdate(than)) < 0);

	ASN1_INTEGER_free(a);
	ASN1_INTEGER_free(b);
	ERR_clear_error();
	return older;
}

/* The name export gives a CRL, "crl-*.crl": such an entry must be readable as a CRL. */
static int crl_named(const char *name)
{
	size_t n = strlen(name);

	return n > 8 && strncmp(name, "crl-", 4) == 0 && strcmp(name + n - 4, ".crl") == 0;
}

/* The CRLs of `buf`: one DER CRL (the whole file), or every CRL of a PEM file. */
static STACK_OF(X509_CRL) * crls_of(const unsigned char *buf, size_t len)
{
	STACK_OF(X509_CRL) *out = sk_X509_CRL_new_null();
	const unsigned char *p = buf;
	X509_CRL *crl = out ? d2i_X509_CRL(NULL, &p, (long)len) : NULL;
	BIO *bio;

	if (crl && p == buf + len && sk_X509_CRL_push(out, crl) > 0)
		return out;
	X509_CRL_free(crl);
	bio = out ? BIO_new_mem_buf(buf, (int)len) : NULL;
	while (bio && (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL)
		if (sk_X509_CRL_push(out, crl) <= 0)
			X509_CRL_free(crl);
	BIO_free(bio);
	ERR_clear_error();
	return out;
}

/*
 * The CRLs of the folder's entry `name` into `*out` (none: an empty stack).
 * SG_OK; SG_ERR_CONFIG with why it cannot be read into `why` (a link, not a
 * regular file, unreadable, over 1 MiB): the caller decides whether that
 * matters; SG_ERR_NOMEM.
 */
static int entry_crls(STACK_OF(X509_CRL) * *out, char *why, size_t size, int dfd, const char *dir,
		      const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	unsigned char *buf = NULL;
	size_t len = 0;
	char *path = NULL;
	struct stat st;
	int error = SG_ERR_CONFIG;

	*out = NULL;
	if (fd < 0)
		snprintf(why, size, "%s",
			 errno == ELOOP ? "a symbolic link (never followed)" : strerror(errno));
	else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		snprintf(why, size, "not a regular file (never read)");
	else if (!(path = sg_path_join(dir, name)))
		error = SG_ERR_NOMEM;
	else if (sg_read_fd(&buf, &len, fd, path, EXPORT_CRL_MAX, NULL) != SG_OK)
		snprintf(why, size, "%s", sg_message_without_name(sg_error_last(), path));
	else
		error = (*out = crls_of(buf, len)) ? SG_OK : SG_ERR_NOMEM;
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	sg_error_clear();
	return error == SG_ERR_NOMEM ? sg_error_set(SG_ERR_NOMEM, "out of memory") : error;
}

typedef struct findings {
	sg_export_diff *v;
	size_t n;
} findings;

static int add(findings *f, const char *name, sg_export_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int add(findings *f, const char *name, sg_export_status st, const char *fmt, ...)
{
	sg_export_diff *e;
	va_list ap;

	va_start(ap, fmt);
	e = export_diff_vadd(&f->v, &f->n, name, st, fmt, ap);
	va_end(ap);
	return e ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");
}

/* A newer CRL among `old` than one export writes: the first one found, as a finding. */
static int compare(findings *f, const sg_export *ex, const char *name, STACK_OF(X509_CRL) * old)
{
	for (int i = 0; i < sk_X509_CRL_num(old); i++)
		for (int j = 0; j < sk_X509_CRL_num(ex->crls); j++) {
			X509_CRL *was = sk_X509_CRL_value(old, i),
				 *now = sk_X509_CRL_value(ex->crls, j);
			export_crl_facts a, b;

			if (!export_crl_older(now, was))
				continue;
			export_crl_facts_of(&a, was);
			export_crl_facts_of(&b, now);
			return add(
				f, name, SG_EXPORT_CHANGED,
				"holds a newer CRL of \"%s\" (number %s, this update %s) than the "
				"one export would write (number %s, this update %s)",
				a.issuer, a.number[0] ? a.number : "(none)", a.this_update,
				b.number[0] ? b.number : "(none)", b.this_update);
		}
	return SG_OK;
}

/* One entry of the folder: its CRLs compared, or why a "crl-*.crl" cannot be. */
static int look_at(findings *f, const sg_export *ex, int dfd, const char *dir, const char *name)
{
	STACK_OF(X509_CRL) *old = NULL;
	char why[1000] = "";
	int error = entry_crls(&old, why, sizeof(why), dfd, dir, name);

	if (error == SG_ERR_CONFIG || (!error && sk_X509_CRL_num(old) == 0))
		error = crl_named(name) ? add(f, name, SG_EXPORT_UNSAFE, "cannot be checked: %s",
					      why[0] ? why : "not a DER or PEM CRL")
					: SG_OK;
	else if (!error)
		error = compare(f, ex, name, old);
	sk_X509_CRL_pop_free(old, X509_CRL_free);
	return error;
}

int sg_export_newer_crls(sg_export_diff **out, size_t *n, const sg_export *ex, const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = dfd >= 0 ? dup(dfd) : -1;
	DIR *dh = fd >= 0 ? fdopendir(fd) : NULL;
	findings f = { 0 };
	struct dirent *de;
	int error = SG_OK;

	*out = NULL;
	*n = 0;
	if (!dh) {
		error = sg_error_set(SG_ERR_IO, "%s: cannot open the folder: %s", dir,
				     strerror(errno));
		if (fd >= 0)
			close(fd);
		if (dfd >= 0)
			close(dfd);
		return error;
	}
	while (!error && (de = readdir(dh)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			error = look_at(&f, ex, dfd, dir, de->d_name);
	closedir(dh);
	close(dfd);
	if (error) {
		free(f.v);
		return error;
	}
	*out = f.v;
	*n = f.n;
	return SG_OK;
}

static int written(const sg_export *ex, const char *name)
{
	for (size_t i = 0; i < ex->n_files; i++)
		if (strcmp(ex->files[i].name, name) == 0)
			return 1;
	return 0;
}

int sg_export_check_crl_rollback(const sg_export *ex, const char *dir)
{
	sg_export_diff *d = NULL;
	size_t n = 0;
	char *path;
	int error = sg_export_newer_crls(&d, &n, ex, dir), newer;

	if (error || n == 0) {
		free(d);
		return error;
	}
	newer = d[0].status == SG_EXPORT_CHANGED;
	if (!(path = sg_path_join(dir, d[0].name)))
		error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	else
		error = sg_error_set(
			SG_ERR_CONFIG, "%s: %s; %snothing replaced (%s)%s%s%s", path, d[0].reason,
			newer ? "a rollback, " : "",
			!newer                   ? "remove it, or --allow-older-crl exports anyway"
			: written(ex, d[0].name) ? "--allow-older-crl replaces it"
						 : "--allow-older-crl exports anyway; export "
						   "never removes this file",
			n > 1 ? "; also " : "", n > 1 ? d[1].name : "", n > 2 ? " and more" : "");
	free(path);
	free(d);
	return error;
}
