/* The code-signing trust of one run, read and checked once; see trust.h. */
#include "trust.h"
#include "signgate/cert.h"
#include "signgate/error.h"
#include "signgate/strict.h"
#include "signgate/util.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

/* Larger files are not offline CRLs or anchors of one enterprise CA. */
#define TRUST_FILE_MAX (64u * 1024 * 1024)

/* Public TSAs' roots, for timestamps when no trust.tsa_ca_file is given. */
#define SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

enum { CA, TSA, CRL, N_FILES };

/* How each file is named in messages ("PATH: cannot read the CRLs: ..."). */
static const char *const what_of[N_FILES] = { "the trust anchors", "the timestamp trust anchors",
					      "the CRLs" };

struct sg_trust {
	char *path[N_FILES];     /* as configured; NULL: not given */
	struct stat st[N_FILES]; /* as it was when read */
	int timestamps;          /* sg_trust_files.timestamps */
	X509_STORE *chain, *tsa;
	STACK_OF(X509_CRL) * crls;     /* those of crl_file, for sg_trust_check()'s date check */
	unsigned char *bytes[N_FILES]; /* each file as it was read and checked */
	size_t len[N_FILES];
	/*
	 * A file found changed and still usable by sg_trust_check(), as it was
	 * then: not read and parsed again until it changes once more.
	 */
	pthread_mutex_t lock;
	struct stat seen[N_FILES];
};

/*
 * Open `file`, read one byte and fstat it. A FIFO or device would read here
 * as empty and then block OpenSSL's (and osslsigncode's) open for ever; a
 * folder fails the read.
 */
static int open_regular(int *out, struct stat *st, const char *file, const char *what)
{
	char c;
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), e;
	ssize_t n = fd < 0 ? -1 : read(fd, &c, 1);

	e = errno;
	*out = -1;
	if (n >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
		close(fd);
		return sg_error_set(SG_ERR_CONFIG, "%s: cannot read %s: not a regular file", file,
				    what);
	}
	if (n < 0) {
		if (fd >= 0)
			close(fd);
		return sg_error_set(SG_ERR_CONFIG, "%s: cannot read %s: %s", file, what,
				    strerror(e));
	}
	*out = fd;
	return SG_OK;
}

/* The CRL's validity period must hold now: a stale CRL is the configuration's fault. */
static int crl_out_of_date(const char *file, const X509_CRL *crl)
{
	const ASN1_TIME *last = X509_CRL_get0_lastUpdate(crl),
			*next = X509_CRL_get0_nextUpdate(crl);
	char issuer[256], when[32];

	X509_NAME_oneline(X509_CRL_get_issuer(crl), issuer, sizeof(issuer));
	if (last && X509_cmp_time(last, NULL) > 0) {
		sg_asn1_time_iso(when, last);
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: the CRL of %s is not valid until %s (lastUpdate ahead of "
				    "this host's clock)",
				    file, issuer, when);
	}
	if (next && X509_cmp_time(next, NULL) < 0) {
		sg_asn1_time_iso(when, next);
		return sg_error_set(SG_ERR_CONFIG,
				    "%s: the CRL of %s expired on %s: renew it "
				    "(certs-example/make-pki.sh --renew-crl)",
				    file, issuer, when);
	}
	return SG_OK;
}

/* The one PEM parse of a trust file's bytes: its objects, or NULL (none, or damaged). */
static STACK_OF(X509_INFO) * pem_objects(const unsigned char *data, size_t len)
{
	BIO *bio = len <= INT32_MAX ? BIO_new_mem_buf(data, (int)len) : NULL;
	STACK_OF(X509_INFO) *info = bio ? PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	ERR_clear_error();
	return info;
}

/*
 * The PEM objects of `data` into `store` (NULL: none): the certificates unless `crls` is
 * given, and the CRLs (each within its validity period when `check_dates`),
 * which then are also pushed onto `crls`.
 * `*count` is the number of objects added.
 */
static int parse_into(X509_STORE *store, size_t *count, const unsigned char *data, size_t len,
		      STACK_OF(X509_CRL) * crls, int check_dates, const char *file)
{
	STACK_OF(X509_INFO) *info = pem_objects(data, len);
	int error = SG_OK;

	*count = 0;
	for (int i = 0; info && !error && i < sk_X509_INFO_num(info); i++) {
		X509_INFO *x = sk_X509_INFO_value(info, i);
		if (x->x509 && !crls) {
			if (X509_STORE_add_cert(store, x->x509) != 1)
				error = sg_error_set(SG_ERR_NOMEM, "out of memory");
			(*count)++;
		}
		if (x->crl && !error && check_dates)
			error = crl_out_of_date(file, x->crl);
		if (x->crl && !error) {
			if ((store && X509_STORE_add_crl(store, x->crl) != 1) ||
			    (crls && (!sk_X509_CRL_push(crls, x->crl) || !X509_CRL_up_ref(x->crl))))
				error = sg_error_set(SG_ERR_NOMEM, "out of memory");
			(*count)++;
		}
	}
	if (!info)
		*count = 0;
	sk_X509_INFO_pop_free(info, X509_INFO_free);
	ERR_clear_error();
	return error;
}

/* The certificates and CRLs of `data` onto `certs` and `crls` (new references; NULL: none). */
static int push_objects(STACK_OF(X509) * certs, STACK_OF(X509_CRL) * crls,
			const unsigned char *data, size_t len)
{
	STACK_OF(X509_INFO) *info = pem_objects(data, len);
	int error = SG_OK;

	for (int i = 0; info && !error && i < sk_X509_INFO_num(info); i++) {
		X509_INFO *x = sk_X509_INFO_value(info, i);
		int ok = 1;

		/* A reference is taken only when the push succeeds. */
		if (x->x509 && certs && (ok = sk_X509_push(certs, x->x509) > 0))
			X509_up_ref(x->x509);
		if (ok && x->crl && crls && (ok = sk_X509_CRL_push(crls, x->crl) > 0))
			X509_CRL_up_ref(x->crl);
		if (!ok)
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	sk_X509_INFO_pop_free(info, X509_INFO_free);
	return error;
}

int sg_trust_read_pem(STACK_OF(X509) * certs, STACK_OF(X509_CRL) * crls, const char *path,
		      const char *what, const sg_strict_rule *rule)
{
	unsigned char *data = NULL;
	size_t len = 0;
	struct stat st;
	int fd = -1, error;

	if (rule) {
		/* The very file the rule was checked on, reached through the checked folders. */
		error = sg_strict_open(&fd, path, rule, 0);
		if (error == SG_ERR_IO)
			error = sg_error_set(SG_ERR_CONFIG, "%s: cannot read %s: %s", path, what,
					     strerror(errno));
	} else {
		error = open_regular(&fd, &st, path, what);
	}
	if (error)
		return error;
	/* "the approvers' CA" is "approvers' CA" to sg_read_fd, which says "the". */
	error = sg_read_fd_flags(&data, &len, fd, path, TRUST_FILE_MAX,
				 strncmp(what, "the ", 4) == 0 ? what + 4 : what, SG_READ_CONFIG);
	close(fd);
	if (!error)
		error = push_objects(certs, crls, data, len);
	free(data);
	return error;
}

/* Read file `i` of `t` once: its bytes in `*data` (free them), its stat in t->st[i]. */
static int read_one(unsigned char **data, size_t *len, sg_trust *t, int i)
{
	int fd, error = open_regular(&fd, &t->st[i], t->path[i], what_of[i]);

	*data = NULL;
	*len = 0;
	if (error)
		return error;
	/* "the trust anchors" is "trust anchors" to sg_read_fd, which says "the". */
	error = sg_read_fd(data, len, fd, t->path[i], TRUST_FILE_MAX, what_of[i] + 4);
	close(fd);
	return error;
}

/* The anchors of file `i` (CA or TSA) into `store`; at least one object. */
static int load_anchors(X509_STORE *store, const unsigned char *data, size_t len, const sg_trust *t,
			int i)
{
	size_t n;
	int error = parse_into(store, &n, data, len, NULL, 0, t->path[i]);

	if (!error && n == 0)
		error = sg_error_set(SG_ERR_CONFIG,
				     "%s: cannot load %s (missing, unreadable or not PEM "
				     "certificates)",
				     t->path[i], what_of[i]);
	return error;
}

/* The CRLs into `store` and `crls`: at least one, each within its validity period. */
static int load_crls(X509_STORE *store, STACK_OF(X509_CRL) * crls, const unsigned char *data,
		     size_t len, const sg_trust *t)
{
	size_t n;
	int error = parse_into(store, &n, data, len, crls, 1, t->path[CRL]);

	if (!error && n == 0)
		error = sg_error_set(SG_ERR_CONFIG,
				     "%s: cannot load the CRLs: the file holds no PEM CRL (or a "
				     "damaged one)",
				     t->path[CRL]);
	return error;
}

/* The TSA's revocation is checked where we hold its issuer's CRL, and only there. */
static int tolerate_missing_crl(int ok, X509_STORE_CTX *ctx)
{
	return ok || X509_STORE_CTX_get_error(ctx) == X509_V_ERR_UNABLE_TO_GET_CRL;
}

/* Both stores from the bytes read. */
static int build_stores(sg_trust *t, unsigned char *data[N_FILES], size_t len[N_FILES])
{
	int tsa_from = t->path[TSA] ? TSA : CA, error = SG_OK;

	if (t->path[CA] && !(t->chain = X509_STORE_new()))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (t->path[CA])
		error = load_anchors(t->chain, data[CA], len[CA], t, CA);
	if (t->path[CRL] && !(t->crls = sk_X509_CRL_new_null()))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	if (!error && t->path[CRL])
		error = load_crls(t->chain, t->crls, data[CRL], len[CRL], t);
	if (error || !t->path[tsa_from] || !t->timestamps)
		return error;
	if (!(t->tsa = X509_STORE_new()))
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	error = load_anchors(t->tsa, data[tsa_from], len[tsa_from], t, tsa_from);
	if (!error && !t->path[TSA] && X509_STORE_load_file(t->tsa, SYSTEM_BUNDLE) != 1)
		ERR_clear_error(); /* no bundle: the anchors alone */
	if (!error && t->path[CRL]) {
		for (int i = 0; !error && i < sk_X509_CRL_num(t->crls); i++)
			if (X509_STORE_add_crl(t->tsa, sk_X509_CRL_value(t->crls, i)) != 1)
				error = sg_error_set(SG_ERR_NOMEM, "out of memory");
		X509_STORE_set_flags(t->tsa, X509_V_FLAG_CRL_CHECK);
		X509_STORE_set_verify_cb(t->tsa, tolerate_missing_crl);
	}
	return error;
}

int sg_trust_write_copy(const sg_trust *t, sg_trust_file which, const char *path)
{
	int i = which == SG_TRUST_CA ? CA : which == SG_TRUST_TSA ? TSA : CRL;

	if (!t->path[i])
		return sg_error_set(SG_ERR_CONFIG, "no file of %s given", what_of[i]);
	return sg_write_private(path, t->bytes[i], t->len[i]);
}

int sg_trust_load(sg_trust **out, const sg_trust_files *files)
{
	const char *given[N_FILES] = { files->ca_file, files->tsa_ca_file, files->crl_file };
	unsigned char *data[N_FILES] = { NULL, NULL, NULL };
	size_t len[N_FILES] = { 0, 0, 0 };
	sg_trust *t = calloc(1, sizeof(*t));
	int error = t ? SG_OK : sg_error_set(SG_ERR_NOMEM, "out of memory");

	*out = NULL;
	if (t) {
		t->timestamps = files->timestamps;
		pthread_mutex_init(&t->lock, NULL);
	}
	for (int i = 0; !error && i < N_FILES; i++) {
		if (given[i] && !(t->path[i] = strdup(given[i])))
			error = sg_error_set(SG_ERR_NOMEM, "out of memory");
		if (!error && given[i])
			error = read_one(&data[i], &len[i], t, i);
	}
	if (!error)
		error = build_stores(t, data, len);
	for (int i = 0; i < N_FILES; i++) {
		/* kept for sg_trust_write_copy(): what osslsigncode reads */
		t->bytes[i] = error ? NULL : data[i];
		t->len[i] = len[i];
		t->seen[i] = t->st[i];
		if (error)
			free(data[i]);
	}
	if (error) {
		sg_trust_free(t);
		return error;
	}
	*out = t;
	return SG_OK;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int sg_trust_check(const sg_trust *t)
{
	sg_trust_files files = { t->path[CA], t->path[TSA], t->path[CRL], t->timestamps };
	struct stat st[N_FILES];
	sg_trust *now = NULL;
	int changed = 0, fd, error = SG_OK;
	/* The lock and the record of what was seen change; the trust itself does not. */
	sg_trust *mut = (sg_trust *)t;

	pthread_mutex_lock(&mut->lock);
	for (int i = 0; !error && i < N_FILES; i++) {
		if (!t->path[i])
			continue;
		error = open_regular(&fd, &st[i], t->path[i], what_of[i]);
		if (!error) {
			close(fd);
			changed |= !same_file(&st[i], &t->seen[i]);
		}
	}
	/* A CRL may run out during a long run, as it would between runs. */
	for (int i = 0; !error && t->crls && i < sk_X509_CRL_num(t->crls); i++)
		error = crl_out_of_date(t->path[CRL], sk_X509_CRL_value(t->crls, i));
	/*
	 * A file replaced since: is what is there now still usable? (The run
	 * keeps using its own copies; a usable file is not judged again until
	 * it changes once more.)
	 */
	if (!error && changed && (error = sg_trust_load(&now, &files)) == SG_OK) {
		for (int i = 0; i < N_FILES; i++)
			if (t->path[i])
				mut->seen[i] = st[i];
		sg_trust_free(now);
	}
	pthread_mutex_unlock(&mut->lock);
	return error;
}

X509_STORE *sg_trust_chain_store(const sg_trust *t)
{
	return t->chain;
}

X509_STORE *sg_trust_tsa_store(const sg_trust *t)
{
	return t->tsa;
}

const char *sg_trust_ca_file(const sg_trust *t)
{
	return t->path[CA];
}

const char *sg_trust_tsa_ca_file(const sg_trust *t)
{
	return t->path[TSA];
}

const char *sg_trust_crl_file(const sg_trust *t)
{
	return t->path[CRL];
}

void sg_trust_free(sg_trust *t)
{
	if (!t)
		return;
	X509_STORE_free(t->chain);
	X509_STORE_free(t->tsa);
	sk_X509_CRL_pop_free(t->crls, X509_CRL_free);
	for (int i = 0; i < N_FILES; i++) {
		free(t->bytes[i]);
		free(t->path[i]);
	}
	pthread_mutex_destroy(&t->lock);
	free(t);
}
