/*
 * Unit tests for lib/keyhelper_proc.c and lib/keyhelper_child.c: the key
 * helper process, driven directly with the fixture's PKI (PKCS#12, PEM and
 * the SoftHSM2 token):
 *
 *   test_keyhelper_proc FIXDIR
 *
 * A good request comes back as a PKCS#7 that signgate's own check accepts
 * with the digest that was sent; malformed requests are refused and the
 * helper goes on serving; the signature limit holds; a failed start says
 * exactly what sg_signer_load() says; the helper is not dumpable, holds no
 * descriptor but its socket, stdin, stdout on /dev/null and stderr, keeps
 * its secure heap locked, and ends with its parent.
 */
#include "authenticode.h"
#include "signgate/config.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "signgate/keyhelper.h"
#include "signgate/secret.h"
#include "signgate/signer.h"
#include "signgate/util.h"

#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/obj_mac.h>

/* Built with AddressSanitizer (gcc says so with a macro, clang with __has_feature). */
#if defined(__SANITIZE_ADDRESS__)
#define SG_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SG_UNDER_ASAN 1
#endif
#endif
#ifndef SG_UNDER_ASAN
#define SG_UNDER_ASAN 0
#endif

static const char *fixdir;
static char *workdir;

__attribute__((noreturn)) static void setup_fail(const char *what)
{
	fprintf(stderr, "setup failed: %s\n", what);
	check_workdir_remove(&workdir);
	exit(2);
}

#include "check_pki.h"

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0)
		setup_fail(path);
}

/*
 * A config `name` in the work folder: `signing` is the body of its
 * "signing" object; every path is absolute.
 */
static sg_config *config(const char *name, const char *signing)
{
	char json[4096];
	sg_config *cfg = NULL;
	int n = snprintf(json, sizeof(json),
			 "{\"policy\": \"%s/pki/policy/\", \"audit_log\": \"%s/audit.jsonl\",\n"
			 " \"trust\": {\"ca_file\": \"%s/pki/root.pem\", \"crl_file\": "
			 "\"%s/pki/crl.pem\"},\n"
			 " \"signing\": {%s, \"timestamp_urls\": []},\n"
			 " \"osslsigncode\": \"/usr/bin/osslsigncode\"}\n",
			 fixdir, workdir, fixdir, fixdir, signing);

	write_file(wk(name), json, (size_t)n);
	if (sg_config_load(&cfg, wk(name)) != SG_OK)
		setup_fail(sg_error_last());
	return cfg;
}

static sg_config *p12_config(const char *name, const char *pass_file)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "\"pkcs12\": \"%s/pki/signer.p12\", \"password_file\": \"%s\", "
		 "\"certificate\": \"%s/pki/signer.pem\"",
		 fixdir, pass_file, fixdir);
	return config(name, body);
}

static sg_config *pem_config(void)
{
	char body[1024];

	snprintf(body, sizeof(body),
		 "\"cert_chain\": \"%s/pki/signer-chain.pem\", \"key\": \"%s/pki/signer.key\", "
		 "\"password_file\": \"%s/pki/signer.pass\"",
		 fixdir, fixdir, fixdir);
	return config("pem.json", body);
}

static sg_config *fixture_config(const char *rel)
{
	sg_config *cfg = NULL;

	if (sg_config_load(&cfg, fx(rel)) != SG_OK)
		setup_fail(sg_error_last());
	return cfg;
}

/* A digest that differs for each `seed`. */
static sg_keyhelper_request request(int kind, int seed, const char *desc, const char *url)
{
	sg_keyhelper_request r = { .kind = kind, .md_nid = NID_sha256, .digest_len = 32 };

	for (int i = 0; i < 32; i++)
		r.digest[i] = (unsigned char)(seed * 31 + i);
	snprintf(r.description, sizeof(r.description), "%s", desc);
	snprintf(r.url, sizeof(r.url), "%s", url);
	return r;
}

static void hex_upper(char *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02X", p[i]);
}

/* The PKCS#7 passes signgate's own check, signed by `signer_pem`, over `r`'s digest. */
static void check_signature(const unsigned char *der, size_t len, const sg_keyhelper_request *r,
			    const char *signer_pem)
{
	sg_authenticode_opts opts = { 0 };
	sg_authenticode_result res;
	sg_cert_info want;
	char hex[129];

	write_file(wk("sig.der"), der, len);
	opts.ca_file = fx("pki/root.pem");
	opts.crl_file = fx("pki/crl.pem");
	opts.kind = (int)r->kind;
	CHECK_INT(sg_signer_load_certificate(&want, fx(signer_pem)), SG_OK);
	opts.pin_sha256 = want.sha256;
	CHECK_INT(sg_authenticode_check(&res, &opts, wk("sig.der")), SG_OK);
	if (res.reason[0])
		fprintf(stderr, "check: %s\n", res.reason);
	hex_upper(hex, r->digest, r->digest_len);
	CHECK_STR(res.file_digest, hex);
	CHECK_STR(res.signer.sha1_thumbprint, want.sha1_thumbprint);
}

/* Sign two requests (PE with texts, MSI without); the count goes 1, 2. */
static void sign_two(sg_keyhelper *kh, const char *signer_pem)
{
	sg_keyhelper_request pe =
		request(sg_format_by_name("pe"), 1, "Hello Setup", "https://x.test/");
	sg_keyhelper_request msi = request(sg_format_by_name("msi"), 2, "", "");
	unsigned char *der = NULL;
	size_t len = 0;
	unsigned long count = 0;

	CHECK_INT(sg_keyhelper_sign(kh, &pe, &der, &len, &count), SG_OK);
	CHECK_INT(count, 1);
	if (der)
		check_signature(der, len, &pe, signer_pem);
	free(der);
	der = NULL;
	CHECK_INT(sg_keyhelper_sign(kh, &msi, &der, &len, &count), SG_OK);
	CHECK_INT(count, 2);
	if (der)
		check_signature(der, len, &msi, signer_pem);
	free(der);
}

static void check_fds(pid_t pid);
static int ends_soon(pid_t pid);

/* Start, check the reported signer and descriptors, sign two, stop cleanly with the count. */
static void test_sources(void)
{
	static const struct {
		const char *cfg, *signer;
	} cases[] = {
		{ NULL, "pki/signer.pem" }, /* PKCS#12, then PEM */
		{ NULL, "pki/signer.pem" },
		{ "pki/signgate-pkcs11.json", "pki/signer.pem" },
		{ "pki/signgate-pkcs11-ec.json", "pki/signer-ec.pem" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sg_config *cfg = i == 0   ? p12_config("p12.json", fx("pki/signer.pass"))
				 : i == 1 ? pem_config()
					  : fixture_config(cases[i].cfg);
		sg_keyhelper *kh = NULL;
		sg_cert_info want;
		unsigned long count = 99;

		CHECK_INT(sg_keyhelper_start(&kh, cfg, 0), SG_OK);
		if (!kh) {
			fprintf(stderr, "case %zu: %s\n", i, sg_error_last());
			sg_config_free(cfg);
			continue;
		}
		CHECK_INT(sg_signer_load_certificate(&want, fx(cases[i].signer)), SG_OK);
		CHECK_STR(sg_keyhelper_signer(kh)->sha256, want.sha256);
		CHECK(sg_keyhelper_cert(kh) != NULL);
		CHECK_INT(sk_X509_num(sg_keyhelper_chain(kh)), 1);
		check_fds(sg_keyhelper_pid(kh));
		sign_two(kh, cases[i].signer);
		CHECK_INT(sg_keyhelper_stop(kh, &count), SG_OK);
		CHECK_INT(count, 2);
		sg_config_free(cfg);
	}
}

/* Send `len` raw bytes: refused (status 1) with `why`, count unchanged at `count`. */
static void expect_refused(sg_keyhelper *kh, const void *msg, size_t len, unsigned long count,
			   const char *why)
{
	unsigned char *payload = NULL;
	size_t payload_len = 0;
	unsigned long got = 99;
	int status = -1;

	CHECK_INT(sg_keyhelper_exchange_raw(kh, msg, len, &status, &got, &payload, &payload_len),
		  SG_OK);
	CHECK_INT(status, 1);
	CHECK_INT(got, count);
	CHECK_CONTAINS((const char *)payload, why);
	free(payload);
}

/* A well-formed raw request: 44 bytes, texts empty. */
static size_t raw_good(unsigned char *buf)
{
	sg_keyhelper_request r = request(sg_format_by_name("pe"), 3, "", "");
	size_t len = 0;

	sg_keyhelper_request_encode(buf, SG_KEYHELPER_REQUEST_MAX, &len, &r);
	return len;
}

/* Set the description of a raw request to `n` bytes of `c`; the URL empty. */
static size_t raw_text(unsigned char *buf, size_t n, char c)
{
	size_t len = raw_good(buf);

	buf[40] = (unsigned char)(n >> 8);
	buf[41] = (unsigned char)n;
	memset(buf + 42, c, n);
	buf[42 + n] = buf[43 + n] = 0;
	return len + n;
}

static void test_malformed(sg_keyhelper *kh)
{
	static unsigned char buf[64 * 1024];
	size_t len;

	len = raw_good(buf);
	buf[0] = 'X';
	expect_refused(kh, buf, len, 1, "wrong magic");
	len = raw_good(buf);
	buf[4] = 1;
	expect_refused(kh, buf, len, 1, "unknown version 1 (want 2)");
	len = raw_good(buf);
	buf[5] = 99; /* no such row */
	expect_refused(kh, buf, len, 1, "unknown content kind 99");
	len = raw_good(buf);
	buf[6] = 2;
	expect_refused(kh, buf, len, 1, "unknown digest algorithm 2");
	len = raw_good(buf);
	buf[7] = 20;
	expect_refused(kh, buf, len, 1, "a digest length of 20, not 32");
	expect_refused(kh, buf, 30, 1, "a digest length of 20, not 32");
	len = raw_good(buf);
	expect_refused(kh, buf, 30, 1, "30 bytes, a truncated digest (40 needed)");
	expect_refused(kh, buf, len + 1, 1, "45 bytes, not exactly 44 (bytes after the URL)");
	len = raw_text(buf, 1024, 'a');
	expect_refused(kh, buf, len, 1, "a description of 1024 bytes (at most 1023)");
	len = raw_text(buf, 5, '\n');
	expect_refused(kh, buf, len, 1, "the description holds a byte 0x0a at 0");
	len = raw_good(buf);
	memcpy(buf + 42, "\0\6ftp://", 8);
	expect_refused(kh, buf, len + 6, 1, "the URL is not http:// or https://");
	expect_refused(kh, buf, 0, 1, "0 bytes, shorter than its 8-byte header");
	memset(buf, 'A', sizeof(buf));
	expect_refused(kh, buf, SG_KEYHELPER_REQUEST_MAX + 1, 1, "over the maximum of");
	expect_refused(kh, buf, sizeof(buf), 1, "65536 bytes, over the maximum of 2124");
}

/* Malformed requests are refused and the helper keeps serving; the limit holds. */
static void test_refusals(void)
{
	sg_config *cfg = p12_config("p12.json", fx("pki/signer.pass"));
	sg_keyhelper_request r = request(sg_format_by_name("pe"), 4, "", "");
	sg_keyhelper *kh = NULL;
	unsigned char *der = NULL;
	size_t len;
	unsigned long count = 0;

	CHECK_INT(sg_keyhelper_start(&kh, cfg, 2), SG_OK);
	if (!kh)
		goto done;
	CHECK_INT(sg_keyhelper_sign(kh, &r, &der, &len, &count), SG_OK);
	free(der);
	test_malformed(kh);
	/* Still serving: the second signature is the last allowed. */
	r.digest[0] ^= 1;
	CHECK_INT(sg_keyhelper_sign(kh, &r, &der, &len, &count), SG_OK);
	CHECK_INT(count, 2);
	if (der)
		check_signature(der, len, &r, "pki/signer.pem");
	free(der);
	CHECK_INT(sg_keyhelper_sign(kh, &r, &der, &len, &count), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "the limit of 2 signatures for this run is reached");
	CHECK(der == NULL);
	CHECK_INT(count, 2);
	CHECK_INT(sg_keyhelper_stop(kh, &count), SG_OK);
	CHECK_INT(count, 2);
done:
	sg_config_free(cfg);
}

/* Start fails with exactly the code and message of sg_signer_load() on the same config. */
static void expect_start_fails_as_load(sg_config *cfg, int code, const char *why)
{
	sg_keyhelper *kh = (sg_keyhelper *)&kh;
	sg_secret secret = { 0 };
	sg_cert_info info;
	char load_msg[1100];
	int load = sg_secret_obtain(&secret, cfg);

	if (load == SG_OK)
		load = sg_signer_load(&info, cfg, &secret);
	sg_secret_clear(&secret);
	snprintf(load_msg, sizeof(load_msg), "%s", sg_error_last());
	CHECK_INT(load, code);
	CHECK_INT(sg_keyhelper_start(&kh, cfg, 0), code);
	CHECK(kh == NULL);
	CHECK_STR(sg_error_last(), load_msg);
	CHECK_CONTAINS(sg_error_last(), why);
}

static void test_start_failures(void)
{
	sg_config *cfg;
	char body[1024];

	write_file(wk("wrong.pass"), "not-the-password\n", 17);
	cfg = p12_config("wrong.json", wk("wrong.pass"));
	expect_start_fails_as_load(cfg, SG_ERR_CRYPTO,
				   "signer.p12: cannot open the PKCS#12 file: wrong password or "
				   "damaged file");
	sg_config_free(cfg);
	/* "signing.certificate" names another certificate than the key's. */
	snprintf(body, sizeof(body),
		 "\"pkcs12\": \"%s/pki/signer.p12\", \"password_file\": \"%s/pki/signer.pass\", "
		 "\"certificate\": \"%s/pki/signer-ec.pem\"",
		 fixdir, fixdir, fixdir);
	cfg = config("other-cert.json", body);
	expect_start_fails_as_load(cfg, SG_ERR_CONFIG, "is not the certificate of the signing key");
	sg_config_free(cfg);
	/* An unset environment variable. */
	unsetenv("SG_KH_TEST_UNSET");
	snprintf(body, sizeof(body),
		 "\"pkcs12\": \"%s/pki/signer.p12\", \"password_env\": \"SG_KH_TEST_UNSET\"",
		 fixdir);
	cfg = config("unset.json", body);
	expect_start_fails_as_load(cfg, SG_ERR_CONFIG,
				   "the environment variable SG_KH_TEST_UNSET "
				   "(signing.password_env) is not set");
	sg_config_free(cfg);
}

/* A wrong PIN: start fails (today's sg_signer_load() does not log in to the token). */
static void test_wrong_pin(void)
{
	sg_config *cfg = fixture_config("pki/signgate-pkcs11.json");
	sg_keyhelper *kh = NULL;

	write_file(wk("wrong.pin"), "999999", 6);
	free(cfg->secret.file);
	cfg->secret.file = strdup(wk("wrong.pin"));
	CHECK_INT(sg_keyhelper_start(&kh, cfg, 0), SG_ERR_CRYPTO);
	CHECK(kh == NULL);
	CHECK_CONTAINS(sg_error_last(), "pkcs11:token=signgate;object=signer;type=private: cannot "
					"load the signing key from the token");
	/* The token's own words, which libp11 prints on stderr, are in the message. */
	CHECK_CONTAINS(sg_error_last(), "(the token said: Login failed; ");
	sg_config_free(cfg);
}

/* A password in the environment: the helper reads it, signgate forgets it. */
static void test_env_secret(void)
{
	char body[1024], *pass = NULL;
	size_t pass_len;
	sg_config *cfg;
	sg_keyhelper *kh = NULL;

	if (sg_secret_read_file(&pass, &pass_len, fx("pki/signer.pass")) != SG_OK)
		setup_fail(sg_error_last());
	setenv("SG_KH_TEST_PASS", pass, 1);
	sg_secret_free(pass);
	snprintf(body, sizeof(body),
		 "\"pkcs12\": \"%s/pki/signer.p12\", \"password_env\": \"SG_KH_TEST_PASS\"",
		 fixdir);
	cfg = config("env.json", body);
	CHECK_INT(sg_keyhelper_start(&kh, cfg, 0), SG_OK);
	CHECK(getenv("SG_KH_TEST_PASS") == NULL);
	if (kh)
		sign_two(kh, "pki/signer.pem");
	CHECK_INT(sg_keyhelper_stop(kh, NULL), SG_OK);
	sg_config_free(cfg);
}

/* Several threads sign at once: each signature receives its own count, 1..N. */
#define THREADS    4
#define PER_THREAD 8

typedef struct worker {
	sg_keyhelper *kh;
	int id, failed;
	unsigned long counts[PER_THREAD];
} worker;

static void *work(void *arg)
{
	worker *w = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		sg_keyhelper_request r =
			request(sg_format_by_name("pe"), 100 + w->id * PER_THREAD + i, "", "");
		unsigned char *der = NULL;
		size_t len = 0;

		if (sg_keyhelper_sign(w->kh, &r, &der, &len, &w->counts[i]) != SG_OK || len < 100)
			w->failed++;
		free(der);
	}
	return NULL;
}

static void test_threads(void)
{
	sg_config *cfg = p12_config("p12.json", fx("pki/signer.pass"));
	sg_keyhelper *kh = NULL;
	pthread_t t[THREADS];
	worker w[THREADS];
	int seen[THREADS * PER_THREAD + 1] = { 0 };
	unsigned long count = 0;

	CHECK_INT(sg_keyhelper_start(&kh, cfg, 0), SG_OK);
	for (int i = 0; kh && i < THREADS; i++) {
		w[i] = (worker){ .kh = kh, .id = i };
		CHECK_INT(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; kh && i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(w[i].failed, 0);
		for (int j = 0; j < PER_THREAD; j++)
			if (w[i].counts[j] >= 1 && w[i].counts[j] <= THREADS * PER_THREAD)
				seen[w[i].counts[j]]++;
	}
	for (int c = 1; kh && c <= THREADS * PER_THREAD; c++)
		CHECK_INT(seen[c], 1);
	CHECK_INT(sg_keyhelper_stop(kh, &count), SG_OK);
	CHECK_INT(count, THREADS * PER_THREAD);
	sg_config_free(cfg);
}

/* /proc/PID/status "VmRSS:" in kB, or -1. */
static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The helper's memory does not grow with the number of signatures (nor with input: it sees none).
 */
static void test_memory(void)
{
	sg_config *cfg = pem_config();
	sg_keyhelper *kh = NULL;
	unsigned long count = 0;
	long before = -1, after = -1;
	int failed = 0;

	CHECK_INT(sg_keyhelper_start(&kh, cfg, 0), SG_OK);
	for (int i = 0; kh && i < 330; i++) {
		sg_keyhelper_request r =
			request(sg_format_by_name("msi"), i, "Setup", "http://x.test/");
		unsigned char *der = NULL;
		size_t len;

		failed += sg_keyhelper_sign(kh, &r, &der, &len, &count) != SG_OK;
		free(der);
		if (i == 29)
			before = rss_kb(sg_keyhelper_pid(kh));
	}
	if (kh)
		after = rss_kb(sg_keyhelper_pid(kh));
	CHECK_INT(failed, 0);
#if SG_UNDER_ASAN
	/* AddressSanitizer's shadow memory and quarantine are most of the RSS: not measured. */
	fprintf(stderr, "key helper RSS not judged under AddressSanitizer (%ld kB)\n", after);
#else
	CHECK(before > 0 && after > 0 && after - before < 512);
	CHECK(after < 16 * 1024);
#endif
	if (!SG_UNDER_ASAN && (after - before >= 512 || after >= 16 * 1024))
		fprintf(stderr, "key helper RSS: %ld kB after 30 signatures, %ld kB after 330\n",
			before, after);
	CHECK_INT(sg_keyhelper_stop(kh, NULL), SG_OK);
	sg_config_free(cfg);
}

/* A helper that dies: the next request fails, and so does every later one; stop says how. */
static void test_killed(void)
{
	sg_config *cfg = p12_config("p12.json", fx("pki/signer.pass"));
	sg_keyhelper_request r = request(sg_format_by_name("pe"), 7, "", "");
	sg_keyhelper *kh = NULL;
	unsigned char *der = NULL;
	size_t len;
	unsigned long count = 0;

	CHECK_INT(sg_keyhelper_start(&kh, cfg, 0), SG_OK);
	if (!kh)
		goto done;
	CHECK_INT(sg_keyhelper_sign(kh, &r, &der, &len, &count), SG_OK);
	free(der);
	der = NULL;
	kill(sg_keyhelper_pid(kh), SIGKILL);
	CHECK(ends_soon(sg_keyhelper_pid(kh)));
	CHECK_INT(sg_keyhelper_sign(kh, &r, &der, &len, &count), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "cannot send to the key helper: Broken pipe");
	CHECK(der == NULL);
	CHECK_INT(sg_keyhelper_sign(kh, &r, &der, &len, &count), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "the key helper is out of use after an earlier failure");
	CHECK_INT(sg_keyhelper_stop(kh, &count), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "was killed by signal 9");
	CHECK_INT(count, 1);
done:
	sg_config_free(cfg);
}

/* The state letter of /proc/PID/stat, or 0 when the process is gone. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "r")))
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Ended (or a zombie) within 5 s. */
static int ends_soon(pid_t pid)
{
	const struct timespec tick = { 0, 20 * 1000 * 1000 };

	for (int i = 0; i < 250; i++) {
		char st = proc_state(pid);
		if (st == 0 || st == 'Z' || st == 'X')
			return 1;
		nanosleep(&tick, NULL);
	}
	return 0;
}

/* Every descriptor of `pid`: 0 and 2 as inherited, 1 /dev/null, 3 the socket, no other. */
static void check_fds(pid_t pid)
{
	char dir[64], link[PATH_MAX + 64], target[PATH_MAX];
	DIR *d;
	struct dirent *e;
	int saw_socket = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	if (!(d = opendir(dir))) {
		/* Not root: a non-dumpable process's folder is root's. */
		CHECK(errno == EACCES && geteuid() != 0);
		fprintf(stderr, "note: %s: %s (not root): descriptors not listed\n", dir,
			strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		if (strcmp(e->d_name, "0") == 0 || strcmp(e->d_name, "2") == 0)
			continue;
		if (strcmp(e->d_name, "1") == 0) {
			CHECK_STR(target, "/dev/null");
		} else if (strcmp(e->d_name, "3") == 0 && strncmp(target, "socket:", 7) == 0) {
			saw_socket = 1;
		} else {
			fprintf(stderr, "the key helper holds fd %s -> %s\n", e->d_name, target);
			CHECK(!"an unexpected descriptor in the key helper");
		}
	}
	closedir(d);
	CHECK(saw_socket);
}

/* Drop CAP_SYS_PTRACE (root's way past a non-dumpable process). 0 on success. */
static int drop_ptrace_cap(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];

	if (syscall(SYS_capget, &h, c) != 0)
		return -1;
	c[0].effective &= ~(1u << CAP_SYS_PTRACE);
	c[0].permitted &= ~(1u << CAP_SYS_PTRACE);
	c[0].inheritable &= ~(1u << CAP_SYS_PTRACE);
	return syscall(SYS_capset, &h, c) == 0 ? 0 : -1;
}

/*
 * In a child, /proc/PID/mem (ptrace access): this process's opens (it is
 * dumpable: the control), the helper's must not. All three lack
 * CAP_SYS_PTRACE (test_process_capless()), which would open either. Exit 0
 * when so, 7 when even the control fails (Yama's ptrace_scope).
 */
static void check_not_dumpable(pid_t helper)
{
	pid_t self = getpid(), pid = fork();
	int st = 0;

	if (pid == 0) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)self);
		if ((fd = open(path, O_RDONLY)) < 0)
			_exit(7);
		close(fd);
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)helper);
		fd = open(path, O_RDONLY);
		_exit(fd < 0 && errno == EACCES ? 0 : 5);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	if (WEXITSTATUS(st) == 7)
		fprintf(stderr, "note: ptrace access is restricted here (Yama?): the helper's "
				"dumpability is not tested\n");
	else
		CHECK_INT(WEXITSTATUS(st), 0);
}

/* The helper's descriptors (`fds`), or its dumpability. */
static void test_process(int fds)
{
	sg_config *cfg = p12_config("p12.json", fx("pki/signer.pass"));
	sg_keyhelper *kh = NULL;
	/* Descriptors signgate might hold when it starts the helper: they must not pass. */
	int held = open(fx("pki/root.pem"), O_RDONLY), held_cloexec = dup(held);

	CHECK(held >= 0 && held_cloexec >= 0 && fcntl(held_cloexec, F_SETFD, FD_CLOEXEC) == 0);
	CHECK_INT(sg_keyhelper_start(&kh, cfg, 0), SG_OK);
	close(held);
	close(held_cloexec);
	if (kh && fds)
		check_fds(sg_keyhelper_pid(kh));
	else if (kh)
		check_not_dumpable(sg_keyhelper_pid(kh));
	CHECK_INT(sg_keyhelper_stop(kh, NULL), SG_OK);
	sg_config_free(cfg);
}

/*
 * test_process() in a child without CAP_SYS_PTRACE, permitted or
 * effective: a process may read another's memory only when its permitted
 * capabilities include the other's, so the helper (which inherits them)
 * must lack it too for its dumpability to be what decides.
 */
static void test_process_capless(void)
{
	pid_t pid;
	int st = 0;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		if (drop_ptrace_cap() != 0) {
			fprintf(stderr, "cannot drop CAP_SYS_PTRACE: %s\n", strerror(errno));
			_exit(1);
		}
		test_process(0);
		fflush(NULL);
		_exit(check_failed ? 1 : 0);
	}
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	CHECK_INT(WEXITSTATUS(st), 0);
}

/* /proc/PID/status "VmLck:" in kB, or -1. */
static long locked_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * mlock() does not pass over fork(): with this process's secure heap set up
 * already, the helper must still have a locked one of its own.
 */
static void test_locked_heap(void)
{
	sg_config *cfg = pem_config();
	sg_keyhelper *kh = NULL;

	CHECK(locked_kb(getpid()) >= 64);
	CHECK_INT(sg_keyhelper_start(&kh, cfg, 0), SG_OK);
	if (kh)
		CHECK(locked_kb(sg_keyhelper_pid(kh)) >= 64);
	CHECK_INT(sg_keyhelper_stop(kh, NULL), SG_OK);
	sg_config_free(cfg);
}

/*
 * The helper ends when its parent dies, even while another process still
 * holds the parent's end of the socket (so that it sees no end of input).
 */
static void test_parent_death(void)
{
	int fds[2];
	pid_t pids[2] = { 0, 0 }, middle;
	int st;

	if (pipe(fds) != 0)
		setup_fail("pipe");
	middle = fork();
	if (middle == 0) {
		sg_config *cfg = p12_config("death.json", fx("pki/signer.pass"));
		sg_keyhelper *kh = NULL;

		close(fds[0]);
		if (sg_keyhelper_start(&kh, cfg, 0) != SG_OK)
			_exit(1);
		pids[0] = sg_keyhelper_pid(kh);
		pids[1] = fork();
		if (pids[1] == 0) {
			sleep(30); /* holds the socket */
			_exit(0);
		}
		if (write(fds[1], pids, sizeof(pids)) != sizeof(pids))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	CHECK_INT(read(fds[0], pids, sizeof(pids)), sizeof(pids));
	close(fds[0]);
	CHECK(middle > 0 && waitpid(middle, &st, 0) == middle);
	if (pids[0] > 0 && pids[1] > 0) {
		CHECK(ends_soon(pids[0]));
		CHECK(proc_state(pids[1]) != 0);
		kill(pids[1], SIGKILL);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_keyhelper_proc FIXDIR\n");
		return 2;
	}
	/* The configs name absolute paths; the fixture folder is a link. */
	fixdir = realpath(argv[1], NULL);
	if (!fixdir)
		setup_fail(argv[1]);
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());
	/* First, while this process is still dumpable (the control). */
	test_process(1);
	test_process_capless();
	if (sg_secret_protect_process() != SG_OK)
		setup_fail(sg_error_last());
	test_locked_heap();
	test_sources();
	test_refusals();
	test_start_failures();
	test_wrong_pin();
	test_env_secret();
	test_parent_death();
	test_threads();
	test_memory();
	test_killed();
	check_workdir_remove(&workdir);
	return check_done();
}
