/*
 * Unit tests for the timestamp fetcher (lib/tsa_proc.c) and
 * sg_timestamp_add_fetched: through the confined fetcher a signature receives a
 * token from the fixture's TSA, failures carry the words sg_timestamp_add
 * uses (the URL and the reason), workers ask at once, an index out of
 * range is refused, no URL means no fetcher, and a fetcher killed by
 * SIGSYS is named as a confinement violation:
 *
 *   test_tsa_proc FIXDIR
 */
#include "signgate/authenticode_sign.h"
#include "signgate/config.h"
#include "signgate/error.h"
#include "timestamp.h"
#include "signgate/tsa_proc.h"
#include "signgate/util.h"

#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include <openssl/pkcs7.h>

static const char *fixdir;
static char *workdir;
static EVP_PKEY *key;
static X509 *cert;
static STACK_OF(X509) * chain;

__attribute__((noreturn)) static void setup_fail(const char *what)
{
	fprintf(stderr, "setup failed: %s\n", what);
	exit(2);
}

#include "check_pki.h"

static unsigned char *make_signature(size_t *len)
{
	unsigned char digest[32], *der = NULL;
	sg_authenticode_sign_req req = {
		sg_format_by_name("pe"), NID_sha256, digest, 32, key, cert, chain,
		"fetcher test",          NULL
	};

	memset(digest, 0x3c, sizeof(digest));
	if (sg_authenticode_sign(&der, len, &req) != SG_OK)
		setup_fail(sg_error_last());
	return der;
}

static void fixture_url(char *url, size_t size, const char *port_file)
{
	char port[16] = "";
	FILE *f = fopen(fx(port_file), "r");

	if (!f || !fgets(port, sizeof(port), f))
		setup_fail(port_file);
	fclose(f);
	port[strcspn(port, "\n")] = '\0';
	snprintf(url, size, "http://127.0.0.1:%s/tsr", port);
}

/* The number of unsigned attributes of the DER signature's first SignerInfo, or -1. */
static int unsigned_attrs(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	int n = -1;

	if (p7 && PKCS7_type_is_signed(p7))
		n = sk_X509_ATTRIBUTE_num(
			sk_PKCS7_SIGNER_INFO_value(PKCS7_get_signer_info(p7), 0)->unauth_attr);
	PKCS7_free(p7);
	return n < 0 ? (p7 ? 0 : -1) : n;
}

/* /proc/PID/status has LINE. */
static int status_has(pid_t pid, const char *line)
{
	char path[64], buf[256];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && !found && fgets(buf, sizeof(buf), f))
		found = strcmp(buf, line) == 0;
	if (f)
		fclose(f);
	return found;
}

struct worker {
	sg_tsa *t;
	int error;
	int attrs;
};

static void *stamp_one(void *arg)
{
	struct worker *w = arg;
	size_t len, out_len = 0;
	unsigned char *der = make_signature(&len), *out = NULL;

	w->error = sg_timestamp_add_fetched(&out, &out_len, der, len, w->t, 2, 30);
	w->attrs = out ? unsigned_attrs(out, out_len) : -1;
	free(out);
	OPENSSL_free(der);
	return NULL;
}

static void test_fetcher(void)
{
	char down[64], closed[64] = "http://127.0.0.1:1/tsr", good[64];
	char *urls[] = { down, closed, good, NULL };
	sg_config cfg = { 0 };
	struct worker w[4];
	pthread_t th[4];
	sg_confine_report rep;
	unsigned char *der, *out = NULL;
	size_t len, out_len = 0;
	sg_tsa *t = NULL;

	fixture_url(down, sizeof(down), "tsa-down.port");
	fixture_url(good, sizeof(good), "tsa.port");
	cfg.timestamp_urls = urls;
	cfg.n_timestamp_urls = 3;
	CHECK_INT(sg_tsa_start(&t, &cfg), SG_OK);
	if (!t)
		setup_fail(sg_error_last());
	CHECK(status_has(sg_tsa_pid(t), "NoNewPrivs:\t1\n"));
	if (sg_confine_probe()->seccomp)
		CHECK(status_has(sg_tsa_pid(t), "Seccomp:\t2\n"));
	sg_tsa_confinement(t, &rep);
	CHECK_INT(rep.network, 1);
	CHECK_INT(rep.violation, 0);
	CHECK_INT(rep.landlock_abi, sg_confine_probe()->landlock_abi);

	der = make_signature(&len);
	CHECK_INT(sg_timestamp_add_fetched(&out, &out_len, der, len, t, 0, 10), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), down);
	CHECK_CONTAINS(sg_error_last(), "no usable reply from the TSA: received error (code=500");
	CHECK_INT(sg_timestamp_add_fetched(&out, &out_len, der, len, t, 1, 10), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(),
		       "http://127.0.0.1:1/tsr: the TSA did not answer: cannot connect: "
		       "Connection refused");
	CHECK_INT(sg_timestamp_add_fetched(&out, &out_len, der, len, t, 3, 10), SG_ERR_USAGE);
	CHECK(out == NULL && out_len == 0);
	CHECK_INT(sg_timestamp_add_fetched(&out, &out_len, der, len, t, 2, 30), SG_OK);
	CHECK_INT(unsigned_attrs(out, out_len), 1);
	CHECK(out_len > len);
	free(out);
	out = NULL;

	/* Four workers at once, each on its own answer socket. */
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ t, -100, -1 };
		pthread_create(&th[i], NULL, stamp_one, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK_INT(w[i].error, SG_OK);
		CHECK_INT(w[i].attrs, 1);
	}

	/* Killed as seccomp would kill it: named a violation, and gone. */
	CHECK_INT(sg_tsa_gone(t), 0);
	kill(sg_tsa_pid(t), SIGSYS);
	CHECK_INT(sg_timestamp_add_fetched(&out, &out_len, der, len, t, 2, 30), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(),
		       "no answer: confinement violation in the timestamp fetcher: killed by "
		       "SIGSYS");
	CHECK_INT(sg_tsa_gone(t), 1);
	sg_tsa_confinement(t, &rep);
	CHECK_INT(rep.violation, 1);
	CHECK_STR(rep.reason, "killed by SIGSYS");
	OPENSSL_free(der);
	sg_tsa_stop(t);
}

static void test_no_urls(void)
{
	sg_config cfg = { 0 };
	sg_tsa *t = (sg_tsa *)&cfg;

	CHECK_INT(sg_tsa_start(&t, &cfg), SG_OK);
	CHECK(t == NULL);
	sg_tsa_stop(NULL);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_tsa_proc FIXDIR\n");
		return 2;
	}
	fixdir = argv[1];
	(void)wk; /* check_pki.h's work-folder helper: this test writes nothing */
	load_fixture_signer(&key, &cert, &chain);
	test_no_urls();
	test_fetcher();
	EVP_PKEY_free(key);
	X509_free(cert);
	sk_X509_pop_free(chain, X509_free);
	return check_done();
}
