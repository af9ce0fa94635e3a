/* The code-signing certificate profile; see include/signgate/lint.h. */
#include "signgate/lint.h"
#include "signgate/cert.h"
#include "signgate/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#define DAY_SECONDS      (24 * 60 * 60)
#define MAX_VALIDITY     460 /* days, CA/B Forum Code Signing BR */
#define RENEW_DAYS       30
#define MIN_RSA_BITS     3072
#define LIFETIME_SIGNING "1.3.6.1.4.1.311.10.3.13"

typedef struct lint_ctx {
	sg_lint_report *r;
	X509 *leaf;
	STACK_OF(X509) * untrusted;
	const char *ca_file, *crl_file;
	EVP_PKEY *key;
	int key_in_token;
	time_t now;
} lint_ctx;

const char *sg_lint_level_name(sg_lint_level level)
{
	switch (level) {
	case SG_LINT_PASS: return "pass";
	case SG_LINT_WARN: return "warn";
	case SG_LINT_FAIL: return "fail";
	}
	return "?";
}

void sg_lint_report_free(sg_lint_report *report)
{
	if (!report)
		return;
	for (size_t i = 0; i < report->n; i++)
		free(report->findings[i].message);
	free(report->findings);
	memset(report, 0, sizeof(*report));
}

const sg_lint_finding *sg_lint_find(const sg_lint_report *report, const char *check)
{
	for (size_t i = 0; i < report->n; i++)
		if (strcmp(report->findings[i].check, check) == 0)
			return &report->findings[i];
	return NULL;
}

__attribute__((format(printf, 4, 5))) static int add(sg_lint_report *r, sg_lint_level level,
						     const char *check, const char *fmt, ...)
{
	sg_lint_finding *f = realloc(r->findings, (r->n + 1) * sizeof(*f));
	char *message = NULL;
	va_list ap;
	int len;

	if (f)
		r->findings = f;
	va_start(ap, fmt);
	/* The whole text: a path or a subject in it is never cut. */
	len = f ? vasprintf(&message, fmt, ap) : -1;
	va_end(ap);
	if (len < 0)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	f += r->n++;
	f->level = level;
	f->message = message;
	snprintf(f->check, sizeof(f->check), "%s", check);
	r->fails += level == SG_LINT_FAIL;
	r->warns += level == SG_LINT_WARN;
	return SG_OK;
}

/* Append `s` to the list in `buf` (", " between items), truncating. */
static void list_add(char *buf, size_t size, const char *s)
{
	size_t len = strlen(buf);

	if (len < size)
		snprintf(buf + len, size - len, "%s%s", len ? ", " : "", s);
}

/* "P-256" and so on for the NIST curves the profile allows, else NULL. */
static const char *nist_curve(const char *group)
{
	if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
		return "P-256";
	if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
		return "P-384";
	if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
		return "P-521";
	return NULL;
}

static int is_rsa(const EVP_PKEY *pkey)
{
	int id = EVP_PKEY_get_base_id(pkey);

	return id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS;
}

/* "RSA 3072 bits", "ECDSA P-256", "ECDSA secp256k1", "ED25519 256 bits". */
static void describe_key(char *buf, size_t size, const EVP_PKEY *pkey)
{
	char group[64] = "";
	size_t len = 0;

	if (is_rsa(pkey)) {
		snprintf(buf, size, "RSA %d bits", EVP_PKEY_get_bits(pkey));
	} else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len))
			snprintf(group, sizeof(group), "(unnamed curve)");
		snprintf(buf, size, "ECDSA %s", nist_curve(group) ? nist_curve(group) : group);
	} else {
		const char *type = EVP_PKEY_get0_type_name(pkey);
		snprintf(buf, size, "%s %d bits", type ? type : "unknown", EVP_PKEY_get_bits(pkey));
	}
	ERR_clear_error();
}

static int check_key(lint_ctx *c)
{
	EVP_PKEY *pub = X509_get0_pubkey(c->leaf);
	char desc[96], group[64] = "";
	size_t len = 0;
	const char *nist;

	if (!pub)
		return add(c->r, SG_LINT_FAIL, "key", "cannot read the certificate's public key");
	describe_key(desc, sizeof(desc), pub);
	if (is_rsa(pub)) {
		if (EVP_PKEY_get_bits(pub) >= MIN_RSA_BITS)
			return add(c->r, SG_LINT_PASS, "key", "%s", desc);
		return add(c->r, SG_LINT_FAIL, "key", "%s: below the %d bits the profile requires",
			   desc, MIN_RSA_BITS);
	}
	if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC)
		return add(c->r, SG_LINT_FAIL, "key",
			   "%s: code signing needs RSA >= %d bits or ECDSA P-256/P-384/P-521", desc,
			   MIN_RSA_BITS);
	EVP_PKEY_get_group_name(pub, group, sizeof(group), &len);
	ERR_clear_error();
	nist = nist_curve(group);
	if (!nist)
		return add(c->r, SG_LINT_FAIL, "key",
			   "%s: only the curves P-256, P-384 and P-521 are allowed", desc);
	if (add(c->r, SG_LINT_PASS, "key", "%s", desc))
		return SG_ERR_NOMEM;
	return add(c->r, SG_LINT_WARN, "key-compat",
		   "%s: App Control signer rules and some verifiers accept RSA only "
		   "(RSA-%d is the default)",
		   desc, MIN_RSA_BITS);
}

static int check_key_match(lint_ctx *c)
{
	EVP_PKEY *pub = X509_get0_pubkey(c->leaf);
	char have[96], want[96];
	int same;

	if (c->key_in_token)
		return add(c->r, SG_LINT_WARN, "key-match",
			   "key in PKCS#11 token: not checked here (signing verifies it)");
	if (!c->key || !pub)
		return SG_OK;
	describe_key(have, sizeof(have), c->key);
	describe_key(want, sizeof(want), pub);
	same = EVP_PKEY_eq(pub, c->key) == 1;
	ERR_clear_error();
	if (same)
		return add(c->r, SG_LINT_PASS, "key-match", "the private key (%s) matches", have);
	return add(c->r, SG_LINT_FAIL, "key-match",
		   "the private key (%s) does not match the certificate's public key (%s)", have,
		   want);
}

static int check_extensions(lint_ctx *c)
{
	if (!(X509_get_extension_flags(c->leaf) & EXFLAG_INVALID))
		return SG_OK;
	return add(c->r, SG_LINT_FAIL, "extensions",
		   "the certificate has invalid or duplicate extensions");
}

static int check_keyusage(lint_ctx *c)
{
	static const char *const names[] = { "digitalSignature", "nonRepudiation",
					     "keyEncipherment",  "dataEncipherment",
					     "keyAgreement",     "keyCertSign",
					     "cRLSign",          "encipherOnly",
					     "decipherOnly" };
	int crit = -1;
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(c->leaf, NID_key_usage, &crit, NULL);
	char has[160] = "";
	int error;

	if (!ku && crit == -1)
		return add(c->r, SG_LINT_FAIL, "keyusage",
			   "no keyUsage extension: critical digitalSignature required");
	if (!ku)
		return add(c->r, SG_LINT_FAIL, "keyusage", "the keyUsage extension cannot be read");
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (ASN1_BIT_STRING_get_bit(ku, i))
			list_add(has, sizeof(has), names[i]);
	if (!has[0])
		snprintf(has, sizeof(has), "no bits");
	if (!ASN1_BIT_STRING_get_bit(ku, 0))
		error = add(c->r, SG_LINT_FAIL, "keyusage",
			    "keyUsage lacks digitalSignature (has %s)", has);
	else if (ASN1_BIT_STRING_get_bit(ku, 5) || ASN1_BIT_STRING_get_bit(ku, 6))
		error = add(c->r, SG_LINT_FAIL, "keyusage",
			    "keyUsage has CA bits keyCertSign/cRLSign (has %s)", has);
	else if (!crit)
		error = add(c->r, SG_LINT_FAIL, "keyusage",
			    "keyUsage %s is not critical: the code-signing profile requires "
			    "it critical (Windows would accept it; the profile does not)",
			    has);
	else
		error = add(c->r, SG_LINT_PASS, "keyusage", "critical, %s", has);
	ASN1_BIT_STRING_free(ku);
	return error;
}

typedef struct eku_scan {
	int present, code, any, server, lifetime;
	char list[200];
} eku_scan;

/* Read the extendedKeyUsage of `leaf` into `s`; -1 when it cannot be read. */
static int scan_eku(eku_scan *s, X509 *leaf)
{
	int crit = -1;
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, &crit, NULL);

	memset(s, 0, sizeof(*s));
	if (!eku)
		return crit == -1 ? 0 : -1;
	s->present = 1;
	for (int i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		ASN1_OBJECT *obj = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(obj);
		char oid[80];

		OBJ_obj2txt(oid, sizeof(oid), obj, 1);
		s->code |= nid == NID_code_sign;
		s->any |= nid == NID_anyExtendedKeyUsage;
		s->server |= nid == NID_server_auth;
		s->lifetime |= strcmp(oid, LIFETIME_SIGNING) == 0;
		list_add(s->list, sizeof(s->list), nid != NID_undef ? OBJ_nid2sn(nid) : oid);
	}
	if (!s->list[0])
		snprintf(s->list, sizeof(s->list), "no purposes");
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return 0;
}

static int check_eku(lint_ctx *c)
{
	sg_lint_report *r = c->r;
	eku_scan s;
	int error;

	if (scan_eku(&s, c->leaf) != 0)
		return add(r, SG_LINT_FAIL, "eku", "the extendedKeyUsage extension cannot be read");
	if (!s.present)
		error = add(
			r, SG_LINT_FAIL, "eku",
			"no extendedKeyUsage extension: codeSigning (1.3.6.1.5.5.7.3.3) required");
	else if (!s.code)
		error = add(r, SG_LINT_FAIL, "eku", "extendedKeyUsage lacks codeSigning (has %s)",
			    s.list);
	else
		error = add(r, SG_LINT_PASS, "eku", "extendedKeyUsage %s", s.list);
	if (!error)
		error = s.any ? add(r, SG_LINT_FAIL, "eku-any",
				    "anyExtendedKeyUsage present: the key would be good for any "
				    "purpose (has %s)",
				    s.list)
			      : add(r, SG_LINT_PASS, "eku-any", "no anyExtendedKeyUsage");
	if (!error)
		error = s.server ? add(r, SG_LINT_FAIL, "eku-server",
				       "serverAuth present: a code-signing certificate must not "
				       "be a TLS server certificate (has %s)",
				       s.list)
				 : add(r, SG_LINT_PASS, "eku-server", "no serverAuth");
	if (!error)
		error = s.lifetime ? add(r, SG_LINT_FAIL, "eku-lifetime",
					 "Lifetime Signing EKU " LIFETIME_SIGNING
					 " present: timestamped signatures die when the "
					 "certificate expires")
				   : add(r, SG_LINT_PASS, "eku-lifetime",
					 "no Lifetime Signing EKU (" LIFETIME_SIGNING ")");
	return error;
}

static int check_constraints(lint_ctx *c)
{
	int crit = -1, error;
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(c->leaf, NID_basic_constraints, &crit, NULL);

	if (!bc && crit == -1)
		return add(c->r, SG_LINT_WARN, "constraints",
			   "no basicConstraints extension: the profile wants CA:FALSE");
	if (!bc)
		return add(c->r, SG_LINT_FAIL, "constraints",
			   "the basicConstraints extension cannot be read");
	if (bc->ca)
		error = add(c->r, SG_LINT_FAIL, "constraints",
			    "basicConstraints CA:TRUE: a CA certificate must not sign code");
	else
		error = add(c->r, SG_LINT_PASS, "constraints", "CA:FALSE%s",
			    crit ? " (critical)" : "");
	BASIC_CONSTRAINTS_free(bc);
	return error;
}

static int asn1_time_t(time_t *out, const ASN1_TIME *t)
{
	struct tm tm;

	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/* Whole days from `from` to `to`, rounded up (a partial day counts). */
static long days_between(time_t from, time_t to)
{
	double d = difftime(to, from);

	return (long)(d / DAY_SECONDS) + (d > 0 && (long)d % DAY_SECONDS ? 1 : 0);
}

/* The leaf's validity window as time_t; -1 when it cannot be read. */
static int leaf_window(time_t *nb, time_t *na, X509 *leaf)
{
	return asn1_time_t(nb, X509_get0_notBefore(leaf)) ||
			       asn1_time_t(na, X509_get0_notAfter(leaf))
		       ? -1
		       : 0;
}

static int check_validity(lint_ctx *c)
{
	char from[32], until[32];
	time_t nb, na;

	sg_asn1_time_iso(from, X509_get0_notBefore(c->leaf));
	sg_asn1_time_iso(until, X509_get0_notAfter(c->leaf));
	if (leaf_window(&nb, &na, c->leaf))
		return add(c->r, SG_LINT_FAIL, "validity", "the validity dates cannot be read");
	if (c->now < nb)
		return add(c->r, SG_LINT_FAIL, "validity", "not valid before %s (in %ld days)",
			   from, days_between(c->now, nb));
	if (c->now > na)
		return add(c->r, SG_LINT_FAIL, "validity", "expired on %s (%ld days ago)", until,
			   days_between(na, c->now));
	return add(c->r, SG_LINT_PASS, "validity", "valid from %s to %s", from, until);
}

static int check_period(lint_ctx *c)
{
	char from[32], until[32];
	time_t nb, na;
	long total;

	if (leaf_window(&nb, &na, c->leaf))
		return SG_OK;
	sg_asn1_time_iso(from, X509_get0_notBefore(c->leaf));
	sg_asn1_time_iso(until, X509_get0_notAfter(c->leaf));
	total = days_between(nb, na);
	if (total > MAX_VALIDITY)
		return add(c->r, SG_LINT_WARN, "max-validity",
			   "%ld days of validity (%s to %s): more than the %d days of the "
			   "CA/B code-signing rules",
			   total, from, until, MAX_VALIDITY);
	return add(c->r, SG_LINT_PASS, "max-validity", "%ld days of validity (<= %d)", total,
		   MAX_VALIDITY);
}

/* Only for a certificate valid now: "validity" reports the others. */
static int check_days_left(lint_ctx *c)
{
	char until[32];
	time_t nb, na;
	long left;

	if (leaf_window(&nb, &na, c->leaf) || c->now < nb || c->now > na)
		return SG_OK;
	sg_asn1_time_iso(until, X509_get0_notAfter(c->leaf));
	left = (long)(difftime(na, c->now) / DAY_SECONDS);
	if (left < RENEW_DAYS)
		return add(c->r, SG_LINT_WARN, "days-left",
			   "%ld days left (expires %s): renew it and export the new thumbprint",
			   left, until);
	return add(c->r, SG_LINT_PASS, "days-left", "%ld days left (until %s)", left, until);
}

static int check_sigalg(lint_ctx *c)
{
	int sig = X509_get_signature_nid(c->leaf), md = NID_undef, pk = NID_undef;
	const char *name = OBJ_nid2ln(sig);

	if (!name)
		name = "an unknown algorithm";
	OBJ_find_sigid_algs(sig, &md, &pk);
	if (md == NID_sha1 || md == NID_md5 || md == NID_md4 || md == NID_md2)
		return add(c->r, SG_LINT_FAIL, "sig-alg",
			   "signed with %s: %s certificate signatures are not trusted", name,
			   OBJ_nid2sn(md));
	return add(c->r, SG_LINT_PASS, "sig-alg", "signed with %s", name);
}

static int check_chain(lint_ctx *c)
{
	int error;

	if (!c->ca_file)
		return add(c->r, SG_LINT_WARN, "chain", "not checked: no trust anchor given");
	error = sg_cert_verify_chain(c->leaf, c->untrusted, c->ca_file, c->crl_file, c->now);
	if (error == SG_OK && c->crl_file)
		return add(c->r, SG_LINT_PASS, "chain", "chains to %s, not revoked (CRLs %s)",
			   c->ca_file, c->crl_file);
	if (error == SG_OK)
		return add(c->r, SG_LINT_PASS, "chain",
			   "chains to %s (no CRL given: revocation not checked)", c->ca_file);
	if (error != SG_ERR_VERIFY)
		return error; /* a trust file that cannot be used: SG_ERR_CONFIG already */
	/* add() copies the message before anything else can set one. */
	error = add(c->r, SG_LINT_FAIL, "chain", "%s", sg_error_last());
	if (error == SG_OK)
		sg_error_clear();
	return error;
}

typedef struct uri_scan {
	int http, other;
	char list[200], first_other[120];
} uri_scan;

/* Count `gn` when it is a URI; printable ASCII only goes into the text. */
static void scan_uri(uri_scan *s, const GENERAL_NAME *gn)
{
	const unsigned char *data;
	char uri[120];
	int len, n = 0;

	if (gn->type != GEN_URI)
		return;
	data = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
	len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
	for (int i = 0; i < len && n < (int)sizeof(uri) - 1; i++)
		uri[n++] = data[i] >= 0x20 && data[i] < 0x7f ? (char)data[i] : '?';
	uri[n] = '\0';
	if (strncasecmp(uri, "http://", 7) == 0) {
		s->http++;
	} else if (!s->other++) {
		snprintf(s->first_other, sizeof(s->first_other), "%s", uri);
	}
	list_add(s->list, sizeof(s->list), uri);
}

static int check_cdp(lint_ctx *c)
{
	STACK_OF(DIST_POINT) *cdps =
		X509_get_ext_d2i(c->leaf, NID_crl_distribution_points, NULL, NULL);
	uri_scan s = { 0 };

	for (int i = 0; i < sk_DIST_POINT_num(cdps); i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(cdps, i);
		if (!dp->distpoint || dp->distpoint->type != 0)
			continue;
		for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++)
			scan_uri(&s, sk_GENERAL_NAME_value(dp->distpoint->name.fullname, j));
	}
	sk_DIST_POINT_pop_free(cdps, DIST_POINT_free);
	if (!s.http && !s.other)
		return add(c->r, SG_LINT_WARN, "cdp",
			   "no CRL distribution point URL: the site server cannot check "
			   "revocation (it fetches CRLs over HTTP with WinHTTP)");
	if (s.other)
		return add(c->r, SG_LINT_WARN, "cdp",
			   "non-HTTP CRL distribution point %s: the site server fetches CRLs "
			   "with WinHTTP; publish them at an http:// URL",
			   s.first_other);
	return add(c->r, SG_LINT_PASS, "cdp", "CRL at %s", s.list);
}

static int check_aia(lint_ctx *c)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(c->leaf, NID_info_access, NULL, NULL);
	uri_scan s = { 0 };

	for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) == NID_ad_ca_issuers)
			scan_uri(&s, ad->location);
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	if (!s.http && !s.other)
		return add(c->r, SG_LINT_WARN, "aia",
			   "no AIA caIssuers URL: Windows cannot fetch a missing issuer "
			   "certificate");
	if (s.other)
		return add(c->r, SG_LINT_WARN, "aia",
			   "non-HTTP AIA caIssuers %s: the site server fetches issuers with "
			   "WinHTTP; publish them at an http:// URL",
			   s.first_other);
	return add(c->r, SG_LINT_PASS, "aia", "issuer at %s", s.list);
}

int sg_lint_cert(sg_lint_report *out, X509 *leaf, STACK_OF(X509) * untrusted, const char *ca_file,
		 const char *crl_file, EVP_PKEY *key, int key_in_token, time_t now)
{
	static int (*const checks[])(lint_ctx *) = {
		check_key,         check_key_match, check_extensions, check_keyusage,  check_eku,
		check_constraints, check_validity,  check_period,     check_days_left, check_sigalg,
		check_chain,       check_cdp,       check_aia,
	};
	lint_ctx c = { out, leaf, untrusted, ca_file, crl_file, key, key_in_token, now };
	int error = SG_OK;

	memset(out, 0, sizeof(*out));
	if (!leaf)
		return sg_error_set(SG_ERR_USAGE, "no certificate to lint");
	/* Parse and cache the extensions once; EXFLAG_INVALID is read from it. */
	X509_check_purpose(leaf, -1, 0);
	for (size_t i = 0; !error && i < sizeof(checks) / sizeof(checks[0]); i++)
		error = checks[i](&c);
	ERR_clear_error();
	return error;
}
