/*
 * Unit tests for lib/attach_pe.c and lib/attach_ossl.c: signatures attached
 * without a key.
 *
 *   test_attach FIXDIR
 *
 * FIXDIR is the CTest fixture (tests/integration/fixture-setup.sh). A PE
 * signed in place by sg_attach_pe() must be the very file `osslsigncode
 * sign` writes with the same signature (the DER taken from that file with
 * extract-signature); sg_attach_osslsigncode() runs the real osslsigncode,
 * and stand-ins for it that report what they were given and whether they
 * could reach a socket on 127.0.0.1.
 */
#include "attach.h"
#include "signgate/error.h"
#include "signgate/format.h"
#include "proc.h"
#include "signgate/util.h"

#include "check.h"
#include "check_ossl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define STUB32 "/usr/share/nsis/Stubs/lzma-x86-unicode"
#define STUB64 "/usr/share/nsis/Stubs/lzma-amd64-unicode"

/* A path in the work folder, in one of 8 rotating buffers. */
static const char *wpath(const char *name)
{
	return check_path(workdir, name);
}

/* Copy `from` to `to`, with `extra_len` bytes of `extra` appended (an overlay). */
static void copy(const char *from, const char *to, const void *extra, size_t extra_len)
{
	size_t len;
	unsigned char *data = slurp(from, &len);
	unsigned char *all = malloc(len + extra_len + 1);

	if (!all)
		setup_fail("out of memory");
	memcpy(all, data, len);
	if (extra_len)
		memcpy(all + len, extra, extra_len);
	check_write_file(to, all, len + extra_len, 0600);
	free(all);
	free(data);
}

/* osslsigncode sign with the fixture's PKCS#12; `flag` (e.g. "-add-msi-dse") or NULL. */
static void ossl_sign(const char *in, const char *out, const char *flag)
{
	char p12[PATH_MAX], pass[PATH_MAX];
	const char *argv[] = { NULL,     "sign", "-pkcs12", p12,    "-readpass", pass, "-h",
			       "sha256", "-in",  in,        "-out", out,         flag, NULL };

	snprintf(p12, sizeof(p12), "%s", check_path(fixdir, "pki/signer.p12"));
	snprintf(pass, sizeof(pass), "%s", check_path(fixdir, "pki/signer.pass"));
	unlink(out);
	ossl(NULL, 0, argv);
}

/* The DER signature of the signed file `path` (osslsigncode extract-signature). */
static unsigned char *extract_der(const char *path, size_t *len)
{
	char der[PATH_MAX];
	const char *argv[] = { NULL, "extract-signature", "-in", path, "-out", der, NULL };
	unsigned char *data;

	snprintf(der, sizeof(der), "%s", wpath("extracted.der"));
	unlink(der);
	ossl(NULL, 0, argv);
	data = slurp(der, len);
	unlink(der);
	return data;
}

/* osslsigncode verify against the fixture's root and CRLs, offline; its status, its report. */
static int ossl_verify(const char *path, char *report, size_t len)
{
	char ca[PATH_MAX], crl[PATH_MAX];
	const char *argv[] = { osslsigncode, "verify",   "-in", path,          "-CAfile",
			       ca,           "-CRLfile", crl,   "-ignore-cdp", NULL };
	sg_proc_spec spec = { argv, NULL, NULL, 0, 120 };
	sg_proc_result r;
	int status;

	snprintf(ca, sizeof(ca), "%s", check_path(fixdir, "pki/root.pem"));
	snprintf(crl, sizeof(crl), "%s", check_path(fixdir, "pki/crl.pem"));
	if (sg_proc_run(&r, &spec) != SG_OK)
		setup_fail(sg_error_last());
	snprintf(report, len, "%s", r.out);
	status = r.exited ? r.exit_status : -1;
	sg_proc_result_free(&r);
	return status;
}

static void inspect(sg_format_info *info, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || sg_format_inspect(info, fd, path) != SG_OK)
		setup_fail(sg_error_last());
	close(fd);
}

/* sg_attach_pe() on `path` as inspected now. */
static int attach(const char *path, const unsigned char *der, size_t len)
{
	sg_format_info info;

	inspect(&info, path);
	sg_error_clear();
	return sg_attach_pe(path, &info, der, len, "setup.exe");
}

static int same_files(const char *a, const char *b)
{
	size_t la, lb;
	unsigned char *da = slurp(a, &la), *db = slurp(b, &lb);
	int same = la == lb && memcmp(da, db, la) == 0;

	free(da);
	free(db);
	return same;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/*
 * `input` (with `extra` appended) signed by osslsigncode, and the same
 * unsigned file with that signature attached by sg_attach_pe(): byte for
 * byte the same file, which osslsigncode verify accepts.
 */
static void test_pe_as_osslsigncode(const char *label, const char *input, const char *extra,
				    size_t extra_len)
{
	static char report[1 << 16];
	char u[PATH_MAX], s[PATH_MAX], m[PATH_MAX];
	unsigned char *der;
	size_t der_len;
	sg_format_info info;
	uint64_t orig;

	fprintf(stderr, "-- %s\n", label);
	snprintf(u, sizeof(u), "%s", wpath("unsigned.exe"));
	snprintf(s, sizeof(s), "%s", wpath("by-osslsigncode.exe"));
	snprintf(m, sizeof(m), "%s", wpath("by-signgate.exe"));
	copy(input, u, extra, extra_len);
	ossl_sign(u, s, NULL);
	der = extract_der(s, &der_len);
	copy(u, m, NULL, 0);
	orig = file_size(u);
	CHECK_INT(attach(m, der, der_len), SG_OK);
	CHECK(same_files(m, s));
	CHECK_INT(ossl_verify(m, report, sizeof(report)), 0);
	CHECK_CONTAINS(report, "Signature verification: ok");
	inspect(&info, m);
	CHECK_INT(info.has_signature, 1);
	CHECK_INT(info.sig_offset, (orig + 7) & ~(uint64_t)7);
	CHECK_INT(info.sig_size, (8 + der_len + 7) & ~(size_t)7);
	free(der);
	unlink(u);
	unlink(s);
	unlink(m);
}

/* `replace`: a signed input loses its table and receives ours, as osslsigncode sign does it. */
static void test_pe_replace(void)
{
	char v[PATH_MAX], s[PATH_MAX], m[PATH_MAX];
	unsigned char *der;
	size_t der_len;
	sg_format_info before;

	snprintf(v, sizeof(v), "%s", check_path(fixdir, "inst/vendor-signed-hello-setup.exe"));
	snprintf(s, sizeof(s), "%s", wpath("replaced-by-osslsigncode.exe"));
	snprintf(m, sizeof(m), "%s", wpath("replaced-by-signgate.exe"));
	ossl_sign(v, s, NULL);
	der = extract_der(s, &der_len);
	copy(v, m, NULL, 0);
	inspect(&before, m);
	CHECK_INT(before.has_signature, 1);
	CHECK_INT(attach(m, der, der_len), SG_OK);
	CHECK(same_files(m, s));
	/* Twice: the second replaces the first and gives the same file again. */
	CHECK_INT(attach(m, der, der_len), SG_OK);
	CHECK(same_files(m, s));
	free(der);
	unlink(s);
	unlink(m);
}

/* osslsigncode 2.9's pe_calc_checksum, word by word, on the file at `path`. */
static uint32_t reference_checksum(const char *path, uint64_t field)
{
	size_t len;
	unsigned char *d = slurp(path, &len);
	uint32_t sum = 0, off = 0;

	for (; off + 1 < len; off += 2) {
		uint32_t val = (uint32_t)d[off] | (uint32_t)d[off + 1] << 8;
		if (off == field || off == field + 2)
			val = 0;
		sum += val;
		sum = (sum & 0xffff) + (sum >> 16);
		sum &= 0xffff;
	}
	free(d);
	return sum + off;
}

/* The CheckSum agrees with osslsigncode's word-by-word sum for tails of every length. */
static void test_checksum(const unsigned char *der, size_t der_len)
{
	unsigned char tail[41], field[4];
	sg_format_info info;
	const char *m = wpath("checksum.exe");
	uint32_t seed = 12345;
	int fd;

	for (size_t n = 0; n < sizeof(tail); n++) {
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			tail[i] = (unsigned char)(seed >> 16);
		}
		/* All-0xff tails push the sum to the end-around carry. */
		if (n % 5 == 4)
			memset(tail, 0xff, n);
		copy(n % 2 ? STUB64 : STUB32, m, tail, n);
		CHECK_INT(attach(m, der, der_len), SG_OK);
		inspect(&info, m);
		fd = open(m, O_RDONLY | O_CLOEXEC);
		CHECK(fd >= 0 && pread(fd, field, 4, (off_t)info.pe.checksum_offset) == 4);
		if (fd >= 0)
			close(fd);
		CHECK_INT((uint32_t)field[0] | (uint32_t)field[1] << 8 | (uint32_t)field[2] << 16 |
				  (uint32_t)field[3] << 24,
			  reference_checksum(m, info.pe.checksum_offset));
	}
	unlink(m);
}

/* In a child with a file size limit: writing the table fails with EFBIG. */
static int attach_over_limit(const char *path, const unsigned char *der, size_t der_len)
{
	sg_format_info info;
	struct rlimit lim;
	pid_t pid;
	int status = 0, p[2];
	char msg[512];
	ssize_t n;

	inspect(&info, path);
	lim.rlim_cur = lim.rlim_max = info.size;
	if (pipe(p) != 0 || (pid = fork()) < 0)
		setup_fail("fork");
	if (pid == 0) {
		int rc;
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
			_exit(100);
		rc = sg_attach_pe(path, &info, der, der_len, "setup.exe");
		dprintf(p[1], "%s", sg_error_last());
		_exit(10 - rc);
	}
	close(p[1]);
	n = read(p[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &status, 0);
	CHECK_CONTAINS(msg, "setup.exe: attaching the signature to ");
	CHECK_CONTAINS(msg, ": cannot write: File too large");
	return WIFEXITED(status) ? 10 - WEXITSTATUS(status) : 99;
}

static void test_pe_errors(const unsigned char *der, size_t der_len)
{
	char m[PATH_MAX], link[PATH_MAX];
	unsigned char *longer = malloc(der_len + 1);
	sg_format_info info;
	const char *msi = check_path(fixdir, "inst/hello-1.0.msi");

	snprintf(m, sizeof(m), "%s", wpath("errors.exe"));
	snprintf(link, sizeof(link), "%s", wpath("link.exe"));
	copy(STUB32, m, NULL, 0);
	inspect(&info, msi);
	CHECK_INT(sg_attach_pe(msi, &info, der, der_len, "hello.msi"), SG_ERR_USAGE);
	CHECK_STR(sg_error_last(), "hello.msi: not an inspected PE image");

	/* Trailing bytes after the DER would sit in the table, outside every check. */
	memcpy(longer, der, der_len);
	longer[der_len] = 0;
	inspect(&info, m);
	CHECK_INT(sg_attach_pe(m, &info, longer, der_len + 1, "setup.exe"), SG_ERR_USAGE);
	CHECK_STR(sg_error_last(), "setup.exe: the signature to attach is not one DER element");
	CHECK_INT(sg_attach_pe(m, &info, der, der_len - 1, "setup.exe"), SG_ERR_USAGE);
	CHECK_INT(sg_attach_pe(m, &info, NULL, 0, "setup.exe"), SG_ERR_USAGE);

	/* The directory entry holds 32 bits. */
	info.size = UINT32_MAX - 100;
	CHECK_INT(sg_attach_pe(m, &info, der, der_len, "setup.exe"), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "would end beyond 4 GiB, the limit of the PE format");

	/* A link in the copy's place is not followed; a changed file is not signed. */
	inspect(&info, m);
	CHECK(symlink(m, link) == 0);
	CHECK_INT(sg_attach_pe(link, &info, der, der_len, "setup.exe"), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "link.exe to sign it: Too many levels of symbolic links");
	info.size--;
	CHECK_INT(sg_attach_pe(m, &info, der, der_len, "setup.exe"), SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "bytes that was inspected");
	CHECK(same_files(m, STUB32));
	CHECK_INT(attach_over_limit(m, der, der_len), SG_ERR_IO);
	unlink(link);
	unlink(m);
	free(longer);
}

/* A config for sg_attach_osslsigncode (its trust files go into the request): the fixture's root and
 * CRLs, `program` as osslsigncode. */
static sg_config fixture_config(const char *program)
{
	static char ca[PATH_MAX], crl[PATH_MAX];
	sg_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(ca, sizeof(ca), "%s", check_path(fixdir, "pki/root.pem"));
	snprintf(crl, sizeof(crl), "%s", check_path(fixdir, "pki/crl.pem"));
	cfg.osslsigncode = (char *)program;
	cfg.ca_file = ca;
	cfg.crl_file = crl;
	return cfg;
}

static int attach_ossl(const sg_config *cfg, const char *in, const char *out,
		       const unsigned char *der, size_t der_len, int nest, int dse)
{
	sg_attach_request req = {
		in,  out,     workdir, der,          der_len,          nest,
		dse, "hello", NULL,    cfg->ca_file, cfg->tsa_ca_file, cfg->crl_file
	};

	sg_error_clear();
	return sg_attach_osslsigncode(cfg, &req);
}

/* A TCP socket listening on 127.0.0.1; its port in `port`. */
static int listen_loopback(char port[8])
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 8) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		setup_fail("listen on 127.0.0.1");
	snprintf(port, 8, "%u", ntohs(sa.sin_port));
	return fd;
}

/* A stand-in for osslsigncode at `path`: bash running `body` (after "$out" and "$sig" are set). */
static void make_fake(const char *path, const char *body)
{
	char script[4096];
	int n = snprintf(
		script, sizeof(script),
		"#!/bin/bash\n"
		"args=(\"$@\"); out=; sig=; prev=\n"
		"for a in \"$@\"; do\n"
		"  [ \"$prev\" = -out ] && out=$a; [ \"$prev\" = -sigin ] && sig=$a; prev=$a\n"
		"done\n%s\n",
		body);

	check_write_file(path, script, (size_t)n, 0755);
}

/* Run the stand-in `fake` with sg_proc_run (no namespace): 1 when it reached the socket. */
static int probe_online(const char *fake, const char *sig, const char *out)
{
	const char *argv[] = { fake, "-sigin", sig, "-out", out, NULL };
	sg_proc_spec spec = { argv, NULL, NULL, 0, 60 };
	sg_proc_result r;
	unsigned char *got;
	size_t len;
	int online;

	if (sg_proc_run(&r, &spec) != SG_OK)
		setup_fail(sg_error_last());
	sg_proc_result_free(&r);
	got = slurp(out, &len);
	online = len >= 10 && memcmp(got + len - 10, "connected\n", 10) == 0;
	free(got);
	unlink(out);
	return online;
}

/*
 * The -out the stand-in at `out` was given: OUT's name in the empty folder
 * made for the run in the work folder (.confined-XXXXXX), read back from
 * its output; "" when it is not of that form.
 */
static const char *confined_out(const char *out)
{
	static char name[PATH_MAX];
	unsigned char *got;
	size_t len;
	const char *at, *prefix = wpath(".confined-");

	name[0] = '\0';
	got = slurp(out, &len);
	at = got ? strstr((char *)got, "\n-out\n") : NULL;
	if (at && sscanf(at + 6, "%4095[^\n]", name) == 1 &&
	    (strncmp(name, prefix, strlen(prefix)) != 0 ||
	     strcmp(name + strlen(prefix) + 6, "/out.msi") != 0))
		name[0] = '\0';
	free(got);
	return name;
}

/*
 * What osslsigncode is given: exactly the argv below (no key, no password,
 * no URL), a minimal environment, the signature in a private .der file that
 * is gone afterwards, and no network: a stand-in that could reach a socket
 * on 127.0.0.1 without sg_proc_run_offline says so in its output. Its
 * status (1 here) does not count: an output exists, so the answer is SG_OK.
 */
static void test_ossl_argv_and_network(const unsigned char *der, size_t der_len)
{
	char fake[PATH_MAX], body[1024], in[PATH_MAX], out[PATH_MAX], want[8 * PATH_MAX], port[8];
	char tsa_ca[PATH_MAX];
	int lfd = listen_loopback(port);
	sg_config cfg;
	size_t len;
	unsigned char *got;

	snprintf(fake, sizeof(fake), "%s", wpath("fake-osslsigncode"));
	snprintf(in, sizeof(in), "%s", wpath("in.msi"));
	snprintf(out, sizeof(out), "%s", wpath("out.msi"));
	snprintf(tsa_ca, sizeof(tsa_ca), "%s", check_path(fixdir, "pki/tsa-chain.pem"));
	snprintf(body, sizeof(body),
		 "{ printf '%%s\\n' \"${args[@]}\"; stat -c %%a \"$sig\"; cat \"$sig\";\n"
		 "  [ -z \"$SG_TEST_LEAK\" ] && echo clean-env\n"
		 "  (exec 3<>/dev/tcp/127.0.0.1/%s) 2>/dev/null && echo connected || echo offline\n"
		 "} >\"$out\"\nexit 1",
		 port);
	make_fake(fake, body);
	copy(check_path(fixdir, "inst/hello-1.0.msi"), in, NULL, 0);
	setenv("SG_TEST_LEAK", "secret", 1);

	cfg = fixture_config(fake);
	cfg.crl_file = NULL;
	CHECK_INT(attach_ossl(&cfg, in, out, der, der_len, 0, 0), SG_OK);
	snprintf(want, sizeof(want),
		 "attach-signature\n-sigin\n%s\n-CAfile\n%s\n-in\n%s\n-out\n%s\n600\n",
		 wpath("sig.der"), cfg.ca_file, in, confined_out(out));
	got = slurp(out, &len);
	CHECK(len > strlen(want) && memcmp(got, want, strlen(want)) == 0);
	CHECK(len >= strlen(want) + der_len && memcmp(got + strlen(want), der, der_len) == 0);
	CHECK_STR((char *)got + strlen(want) + der_len, "clean-env\noffline\n");
	free(got);
	CHECK(!sg_path_exists(wpath("sig.der")));
	unlink(out);

	cfg = fixture_config(fake);
	cfg.tsa_ca_file = tsa_ca;
	CHECK_INT(attach_ossl(&cfg, in, out, der, der_len, 1, 1), SG_OK);
	snprintf(want, sizeof(want),
		 "attach-signature\n-sigin\n%s\n-CAfile\n%s\n-CRLfile\n%s\n-TSA-CRLfile\n%s\n"
		 "-TSA-CAfile\n%s\n-nest\n-add-msi-dse\n-in\n%s\n-out\n%s\n600\n",
		 wpath("sig.der"), cfg.ca_file, cfg.crl_file, cfg.crl_file, tsa_ca, in,
		 confined_out(out));
	got = slurp(out, &len);
	CHECK(len > strlen(want) && memcmp(got, want, strlen(want)) == 0);
	CHECK_STR((char *)got + strlen(want) + der_len, "clean-env\noffline\n");
	free(got);
	unlink(out);
	unsetenv("SG_TEST_LEAK");

	/* The same stand-in, run as sg_proc_run does it, reaches the socket: the probe works. */
	check_write_file(wpath("probe.der"), der, der_len, 0600);
	CHECK_INT(probe_online(fake, wpath("probe.der"), out), 1);
	unlink(wpath("probe.der"));
	close(lfd);
	unlink(in);
	unlink(fake);
}

/* Failures leave no output, and the .der file is always removed. */
static void test_ossl_failures(const unsigned char *der, size_t der_len)
{
	char fake[PATH_MAX], in[PATH_MAX], out[PATH_MAX];
	sg_config cfg;

	snprintf(fake, sizeof(fake), "%s", wpath("fake-osslsigncode"));
	snprintf(in, sizeof(in), "%s", wpath("in.exe"));
	snprintf(out, sizeof(out), "%s", wpath("out.exe"));
	copy(check_path(fixdir, "inst/hello-setup.exe"), in, NULL, 0);
	cfg = fixture_config(fake);

	make_fake(fake, "echo 'Unable to extract valid signature' >&2; exit 0");
	CHECK_INT(attach_ossl(&cfg, in, out, der, der_len, 0, 0), SG_ERR_TOOL);
	CHECK_STR(sg_error_last(), "hello: osslsigncode attach-signature exited with status 0 and "
				   "wrote no output: Unable to extract valid signature");
	CHECK(!sg_path_exists(out));

	make_fake(fake, ": >\"$out\"; exit 0");
	CHECK_INT(attach_ossl(&cfg, in, out, der, der_len, 0, 0), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "wrote no output: (no message)");
	CHECK(!sg_path_exists(out));

	make_fake(fake, "echo partial >\"$out\"; kill -9 $$");
	CHECK_INT(attach_ossl(&cfg, in, out, der, der_len, 0, 0), SG_ERR_TOOL);
	CHECK_STR(sg_error_last(), "hello: osslsigncode attach-signature killed by signal 9: "
				   "(no message)");
	CHECK(!sg_path_exists(out));

	/* An output that is there already is nobody's to remove. */
	check_write_file(out, "someone's", 9, 0600);
	CHECK_INT(attach_ossl(&cfg, in, out, der, der_len, 0, 0), SG_ERR_USAGE);
	CHECK_CONTAINS(sg_error_last(), "hello: the output ");
	CHECK_CONTAINS(sg_error_last(), "out.exe exists already");
	CHECK_INT(file_size(out), 9);
	unlink(out);

	cfg.osslsigncode = (char *)"/nonexistent/osslsigncode";
	CHECK_INT(attach_ossl(&cfg, in, out, der, der_len, 0, 0), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "hello: /nonexistent/osslsigncode: cannot run");
	CHECK(!sg_path_exists(out));
	CHECK(!sg_path_exists(wpath("sig.der")));
	unlink(in);
	unlink(fake);
}

/* MSI with and without MsiDigitalSignatureEx, through the real osslsigncode. */
static void test_ossl_msi(const char *flag)
{
	static char report[1 << 16];
	char u[PATH_MAX], s[PATH_MAX], m[PATH_MAX];
	sg_config cfg = fixture_config(osslsigncode);
	sg_format_info info;
	unsigned char *der;
	size_t der_len;

	fprintf(stderr, "-- MSI %s\n", flag ? flag : "");
	snprintf(u, sizeof(u), "%s", wpath("unsigned.msi"));
	snprintf(s, sizeof(s), "%s", wpath("by-osslsigncode.msi"));
	snprintf(m, sizeof(m), "%s", wpath("attached.msi"));
	copy(check_path(fixdir, "inst/hello-1.0.msi"), u, NULL, 0);
	ossl_sign(u, s, flag);
	der = extract_der(s, &der_len);
	CHECK_INT(attach_ossl(&cfg, u, m, der, der_len, 0, flag != NULL), SG_OK);
	CHECK_INT(ossl_verify(m, report, sizeof(report)), 0);
	CHECK_CONTAINS(report, "Signature verification: ok");
	inspect(&info, m);
	CHECK_STR(sg_format_name(info.kind), "msi");
	CHECK_INT(info.has_signature, 1);
	CHECK_INT(info.cfb.dse, flag != NULL);
	CHECK(!sg_path_exists(wpath("sig.der")));
	free(der);
	unlink(u);
	unlink(s);
	unlink(m);
}

/*
 * -nest: the vendor's signature stays primary, ours follows as index 1 (PE
 * and MSI). Our signature is made on the unsigned file: its digest is the
 * vendor-signed file's too.
 */
static void test_ossl_nest(const char *unsigned_name, const char *vendor_name, const char *ext)
{
	static char report[1 << 16];
	char name[64], u[PATH_MAX], s[PATH_MAX], out[PATH_MAX];
	sg_config cfg = fixture_config(osslsigncode);
	unsigned char *der;
	size_t der_len;
	const char *ours, *vendor;

	fprintf(stderr, "-- nest onto %s\n", vendor_name);
	snprintf(name, sizeof(name), "nest-unsigned%s", ext);
	snprintf(u, sizeof(u), "%s", wpath(name));
	snprintf(name, sizeof(name), "nest-signed%s", ext);
	snprintf(s, sizeof(s), "%s", wpath(name));
	snprintf(name, sizeof(name), "nested%s", ext);
	snprintf(out, sizeof(out), "%s", wpath(name));
	copy(check_path(fixdir, unsigned_name), u, NULL, 0);
	ossl_sign(u, s, NULL);
	der = extract_der(s, &der_len);
	CHECK_INT(attach_ossl(&cfg, check_path(fixdir, vendor_name), out, der, der_len, 1, 0),
		  SG_OK);
	ossl_verify(out, report, sizeof(report));
	CHECK_CONTAINS(report, "Number of verified signatures: 2");
	ours = strstr(report, "Signature Index: 1");
	vendor = strstr(report, "Subject: /CN=Vendor Test Code Signing");
	CHECK(ours && vendor && vendor < ours);
	CHECK_CONTAINS(ours, "CN=Example Corp Code Signing\n");
	CHECK_CONTAINS(ours, "Signature verification: ok");
	free(der);
	unlink(u);
	unlink(s);
	unlink(out);
}

/*
 * osslsigncode's own check after attaching fails (a CA that is not ours),
 * it exits non-zero and keeps its output: SG_OK, for the caller to judge.
 * An input it cannot sign leaves nothing.
 */
static void test_ossl_judged_later(const unsigned char *der, size_t der_len)
{
	static char report[1 << 16];
	char in[PATH_MAX], out[PATH_MAX];
	sg_config cfg = fixture_config(osslsigncode);

	snprintf(in, sizeof(in), "%s", wpath("for-bogus-ca.exe"));
	snprintf(out, sizeof(out), "%s", wpath("bogus-ca-out.exe"));
	copy(check_path(fixdir, "inst/hello-setup.exe"), in, NULL, 0);
	cfg.ca_file = (char *)check_path(fixdir, "vendor/vendor.pem");
	CHECK_INT(attach_ossl(&cfg, in, out, der, der_len, 0, 0), SG_OK);
	CHECK(file_size(out) > file_size(in));
	CHECK_INT(ossl_verify(out, report, sizeof(report)), 0);
	unlink(out);

	cfg = fixture_config(osslsigncode);
	CHECK_INT(attach_ossl(&cfg, check_path(fixdir, "inst/notes.txt"), out, der, der_len, 0, 0),
		  SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "hello: osslsigncode attach-signature exited with status 1 "
					"and wrote no output: ");
	CHECK(!sg_path_exists(out));
	CHECK(!sg_path_exists(wpath("sig.der")));
	unlink(in);
}

int main(int argc, char **argv)
{
	static const char overlay[] = "an overlay of 29 odd bytes..";
	unsigned char *der;
	size_t der_len;

	if (argc < 2) {
		fprintf(stderr, "usage: test_attach FIXDIR\n");
		return 2;
	}
	fixdir = argv[1];
	if (check_workdir_create(&workdir) != SG_OK)
		setup_fail(sg_error_last());
	alarm(280);
	/* NSIS installers: PE32 with an overlay, 98,702 and 93,681 bytes (not multiples of 8). */
	test_pe_as_osslsigncode("NSIS installer", check_path(fixdir, "inst/hello-setup.exe"), NULL,
				0);
	test_pe_as_osslsigncode("NSIS installer 2", check_path(fixdir, "inst/other-setup.exe"),
				NULL, 0);
	test_pe_as_osslsigncode("PE32 stub", STUB32, NULL, 0);
	test_pe_as_osslsigncode("PE32+ stub", STUB64, NULL, 0);
	test_pe_as_osslsigncode("PE32+ stub with an odd overlay", STUB64, overlay,
				sizeof(overlay) - 1);
	test_pe_replace();
	copy(check_path(fixdir, "inst/hello-setup.exe"), wpath("der-source.exe"), NULL, 0);
	ossl_sign(wpath("der-source.exe"), wpath("der-signed.exe"), NULL);
	der = extract_der(wpath("der-signed.exe"), &der_len);
	test_checksum(der, der_len);
	test_pe_errors(der, der_len);
	test_ossl_argv_and_network(der, der_len);
	test_ossl_failures(der, der_len);
	test_ossl_msi(NULL);
	test_ossl_msi("-add-msi-dse");
	test_ossl_nest("inst/hello-setup.exe", "inst/vendor-signed-hello-setup.exe", ".exe");
	test_ossl_nest("inst/hello-1.0.msi", "inst/vendor-signed-hello-1.0.msi", ".msi");
	test_ossl_judged_later(der, der_len);
	free(der);
	check_workdir_remove(&workdir);
	return check_done();
}
