/*
 * Unit tests for lib/openpgp.c against the real gpgv, with keys made at run
 * time: tests/fixtures/make-openpgp.sh (its path is argv[1]) makes the vendor
 * and the unrelated key and the vendor's signatures; this program makes the
 * rest with gpg in the fixture's GnuPG home (expired and revoked keys, SHA-1,
 * inline and doubled signatures) and fake gpgv scripts for a broken tool.
 * Everything lives in one temporary folder, removed at the end with the
 * gpg-agent that gpg started there.
 */
#include "signgate/error.h"
#include "signgate/hash.h"
#include "signgate/openpgp.h"
#include "proc.h"

#include "check.h"

#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GPG     "/usr/bin/gpg"
#define GPGCONF "/usr/bin/gpgconf"
#define VENDOR  "Test Vendor <vendor@example.invalid>"
#define MANIFEST                                                                                   \
	"7z2408-x64.msi  0b461f0a0eccfc4f39733a80d70fd1210fdd69f600fb6b657e03940a734e5fc1\n"

static char tmp[] = "/tmp/test_openpgp.XXXXXX";
static const char *fix, *home; /* the fixture's folder and its GnuPG home */
static char vendor[65], vendor_sub[65], other[65];
static time_t started;

static void cleanup(void);

static void die(const char *what)
{
	fprintf(stderr, "test_openpgp: %s: %s\n", what, sg_error_last());
	cleanup();
	exit(2);
}

/* Run argv (NULL-terminated) and return its exit status; stdout into `out` when given. */
static int run(char *out, size_t out_size, const char *const *argv)
{
	sg_proc_spec spec = { argv, NULL, NULL, 0, 60 };
	sg_proc_result r;
	int status;

	if (sg_proc_run(&r, &spec) != SG_OK)
		die(argv[0]);
	if (out)
		snprintf(out, out_size, "%s", r.out);
	status = r.exited ? r.exit_status : 128 + r.signo;
	if (status != 0)
		fprintf(stderr, "(%s said: %s)\n", argv[0], r.err);
	sg_proc_result_free(&r);
	return status;
}

/* gpg in the fixture's home, batch mode, no passphrase; the arguments end with NULL. */
static int gpg(const char *first, ...)
{
	const char *argv[40] = { GPG,        "--homedir",    home,    "--batch",
				 "--quiet",  "--no-tty",     "--yes", "--pinentry-mode",
				 "loopback", "--passphrase", "" };
	size_t n = 11;
	va_list ap;

	va_start(ap, first);
	for (const char *a = first; a && n < 39; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return run(NULL, 0, argv);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die(path);
}

/* The bytes of a file (at most size - 1), NUL-terminated; returns the length. */
static size_t read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		die(path);
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static void concat(const char *dest, const char *a, const char *b)
{
	static char buf[2][65536];
	size_t na = read_file(a, buf[0], sizeof(buf[0])), nb = read_file(b, buf[1], sizeof(buf[1]));
	FILE *f = fopen(dest, "wb");

	if (!f || fwrite(buf[0], 1, na, f) != na || fwrite(buf[1], 1, nb, f) != nb || fclose(f))
		die(dest);
}

static const char *in_tmp(const char *name)
{
	return check_path(tmp, name);
}

/* The fingerprints ("fpr" records) gpg --with-colons --list-keys gives for `who`. */
static void listed_fprs(const char *who, char fprs[][65], int max)
{
	const char *argv[] = { GPG,           "--homedir", home, "--batch", "--with-colons",
			       "--list-keys", who,         NULL };
	static char out[16384];
	int n = 0;

	if (run(out, sizeof(out), argv) != 0)
		die("gpg --list-keys");
	for (char *line = strtok(out, "\n"); line && n < max; line = strtok(NULL, "\n"))
		if (strncmp(line, "fpr:", 4) == 0)
			sscanf(line, "fpr:::::::::%64[0-9A-F]:", fprs[n++]);
}

/* The fingerprint of a key made here, found by its e-mail address. */
static void fpr_of(char out[65], const char *who)
{
	char fprs[1][65] = { "" };

	listed_fprs(who, fprs, 1);
	snprintf(out, 65, "%s", fprs[0]);
}

/* Nothing of signgate's private gpgv home may stay behind in TMPDIR. */
static int tmpdir_empty(void)
{
	DIR *d = opendir(in_tmp("t"));
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return d && n == 0;
}

static int verify(sg_openpgp_result *r, const char *keyring, const char *sig, const char *data)
{
	int rc;

	sg_error_clear();
	rc = sg_openpgp_verify(r, NULL, keyring, sig, data);
	CHECK(tmpdir_empty());
	return rc;
}

static void setup(const char *script)
{
	const char *argv[] = { "/bin/bash",        script, in_tmp("o"), in_tmp("manifest.txt"),
			       in_tmp("tool.bin"), NULL };
	unsigned char bin[300];
	char line[256];

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 7);
	write_file(in_tmp("manifest.txt"), MANIFEST, strlen(MANIFEST));
	write_file(in_tmp("tool.bin"), bin, sizeof(bin));
	if (mkdir(in_tmp("t"), 0700) != 0 || setenv("TMPDIR", in_tmp("t"), 1) != 0)
		die("TMPDIR");
	if (run(NULL, 0, argv) != 0)
		die("make-openpgp.sh");
	fix = strdup(in_tmp("o"));
	home = strdup(check_path(fix, "gnupg"));
	read_file(check_path(fix, "fingerprints.txt"), line, sizeof(line));
	if (sscanf(line, "%64s %64s vendor\n%64s", vendor, vendor_sub, other) != 3)
		die("fingerprints.txt");
}

static void test_good(void)
{
	char fprs[2][65] = { "", "" }, sig[1024], hex[65];
	size_t n;
	sg_openpgp_result r;

	/* The fixture's fingerprints are gpg's: primary first, then the signing subkey. */
	listed_fprs("vendor@example.invalid", fprs, 2);
	CHECK_STR(fprs[0], vendor);
	CHECK_STR(fprs[1], vendor_sub);
	CHECK(strcmp(vendor, vendor_sub) != 0);

	/* Binary signature of a binary file, binary keyring. */
	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("tool.bin.sig"),
			 in_tmp("tool.bin")),
		  SG_OK);
	CHECK_STR(r.fingerprint, fprs[1]);
	CHECK_STR(r.primary_fingerprint, fprs[0]);
	CHECK_STR(r.uid, VENDOR);
	CHECK(r.sig_time >= (long long)started - 5 && r.sig_time <= (long long)time(NULL) + 5);
	n = read_file(in_tmp("tool.bin.sig"), sig, sizeof(sig));
	sg_sha256_hex(hex, sig, n);
	CHECK_STR(r.sig_sha256, hex);

	/* Armored signature of a text manifest, the Apache-style KEYS file. */
	CHECK_INT(verify(&r, check_path(fix, "KEYS"), in_tmp("manifest.txt.asc"),
			 in_tmp("manifest.txt")),
		  SG_OK);
	CHECK_STR(r.fingerprint, vendor_sub);
	CHECK_STR(r.primary_fingerprint, vendor);
	CHECK_STR(r.uid, VENDOR);
	n = read_file(in_tmp("manifest.txt.asc"), sig, sizeof(sig));
	sg_sha256_hex(hex, sig, n);
	CHECK_STR(r.sig_sha256, hex);
	CHECK_INT(strlen(r.sig_sha256), 64);

	/* The armored signature with the binary keyring, the binary one with KEYS. */
	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("manifest.txt.asc"),
			 in_tmp("manifest.txt")),
		  SG_OK);
	CHECK_INT(verify(&r, check_path(fix, "KEYS"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_OK);
	CHECK_STR(r.fingerprint, vendor_sub);
}

static void test_keyrings(void)
{
	sg_openpgp_result r;

	/* KEYS style: two armored blocks with prose between them, the vendor second. */
	concat(in_tmp("keys2"), check_path(fix, "other.asc"), check_path(fix, "KEYS"));
	CHECK_INT(verify(&r, in_tmp("keys2"), in_tmp("manifest.txt.asc"), in_tmp("manifest.txt")),
		  SG_OK);
	CHECK_STR(r.fingerprint, vendor_sub);
	CHECK_STR(r.primary_fingerprint, vendor);

	/* Two keys in one armored block, with CRLF line ends. */
	CHECK_INT(gpg("--armor", "--export", "-o", in_tmp("both.asc"), other, vendor, NULL), 0);
	{
		static char text[16384], crlf[32768];
		size_t n = read_file(in_tmp("both.asc"), text, sizeof(text)), m = 0;
		for (size_t i = 0; i < n; i++) {
			if (text[i] == '\n')
				crlf[m++] = '\r';
			crlf[m++] = text[i];
		}
		write_file(in_tmp("both-crlf.asc"), crlf, m);
	}
	CHECK_INT(verify(&r, in_tmp("both-crlf.asc"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_OK);
	CHECK_STR(r.fingerprint, vendor_sub);

	/* Armor headers, and a UTF-8 byte order mark that an editor left in front. */
	CHECK_INT(gpg("--armor", "--comment", "Release key: vendor", "--export", "-o",
		      in_tmp("comment.asc"), vendor, NULL),
		  0);
	{
		static char text[16384], bom[16384 + 3] = "\xEF\xBB\xBF";
		size_t n = read_file(in_tmp("comment.asc"), text, sizeof(text));
		CHECK_CONTAINS(text, "\nComment: Release key: vendor\n");
		memcpy(bom + 3, text, n);
		write_file(in_tmp("bom.asc"), bom, n + 3);
	}
	CHECK_INT(verify(&r, in_tmp("bom.asc"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")), SG_OK);
	CHECK_STR(r.primary_fingerprint, vendor);

	/* Two binary keys one after the other. */
	concat(in_tmp("both.gpg"), check_path(fix, "other.gpg"), check_path(fix, "vendor.gpg"));
	CHECK_INT(verify(&r, in_tmp("both.gpg"), in_tmp("tool.bin.asc"), in_tmp("tool.bin")),
		  SG_OK);
	CHECK_STR(r.primary_fingerprint, vendor);
}

static void test_bad_keyrings(void)
{
	sg_openpgp_result r;
	static char text[16384];
	size_t n;
	char *p;

	CHECK_INT(verify(&r, in_tmp("no-such-keyring"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "no-such-keyring: cannot open the keyring: No such file");
	CHECK_STR(r.fingerprint, "");

	write_file(in_tmp("empty.gpg"), "", 0);
	CHECK_INT(verify(&r, in_tmp("empty.gpg"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "empty.gpg: the keyring is empty");

	CHECK_INT(verify(&r, in_tmp("manifest.txt"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(),
		       "manifest.txt: no \"-----BEGIN PGP PUBLIC KEY BLOCK-----\" in it");

	CHECK_INT(verify(&r, in_tmp("t"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "/t: the keyring is not a regular file");

	/* A keyring too large to be one: the config's fault (exit 2), not an I/O failure. */
	if (truncate(in_tmp("empty.gpg"), SG_OPENPGP_KEYRING_MAX + 1) != 0)
		die("truncate");
	CHECK_INT(verify(&r, in_tmp("empty.gpg"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "empty.gpg: the keyring is larger than 16777216 bytes");
	if (truncate(in_tmp("empty.gpg"), 0) != 0)
		die("truncate");

	CHECK_INT(verify(&r, check_path(home, "pubring.kbx"), in_tmp("tool.bin.sig"),
			 in_tmp("tool.bin")),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "pubring.kbx: a GnuPG keybox");

	CHECK_INT(gpg("--export-secret-keys", "-o", in_tmp("secret.gpg"), vendor, NULL), 0);
	CHECK_INT(verify(&r, in_tmp("secret.gpg"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "secret.gpg: holds a secret key");

	/* A keyring cut short, and an armored one with one character changed. */
	n = read_file(check_path(fix, "vendor.gpg"), text, sizeof(text));
	write_file(in_tmp("cut.gpg"), text, n - 10);
	CHECK_INT(verify(&r, in_tmp("cut.gpg"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "cut.gpg: truncated or malformed OpenPGP packet at byte");

	n = read_file(check_path(fix, "KEYS"), text, sizeof(text));
	p = strstr(text, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n");
	if (!p)
		die("KEYS layout");
	p += strlen("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n") + 10;
	*p = *p == 'A' ? 'B' : 'A';
	write_file(in_tmp("KEYS-crc"), text, n);
	CHECK_INT(verify(&r, in_tmp("KEYS-crc"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "KEYS-crc: armored key block 1 fails its CRC-24 checksum");

	/* A KEYS file that also holds a private key block is refused, not skimmed. */
	CHECK_INT(gpg("--armor", "--export-secret-keys", "-o", in_tmp("secret.asc"), other, NULL),
		  0);
	concat(in_tmp("KEYS-secret"), check_path(fix, "KEYS"), in_tmp("secret.asc"));
	CHECK_INT(verify(&r, in_tmp("KEYS-secret"), in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_ERR_CONFIG);
	CHECK_CONTAINS(sg_error_last(), "KEYS-secret: holds \"-----BEGIN PGP PRIVATE KEY BLOCK");
}

/* The long key id gpgv prints for a v4 fingerprint: its last 16 hex digits. */
static const char *keyid(const char *fpr)
{
	return fpr + strlen(fpr) - 16;
}

static void test_refusals(void)
{
	static char bin[1024], msg[512];
	sg_openpgp_result r;
	size_t n;

	/* One byte of the data changed. */
	n = read_file(in_tmp("tool.bin"), bin, sizeof(bin));
	bin[100] ^= 1;
	write_file(in_tmp("tool-changed.bin"), bin, n);
	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("tool.bin.sig"),
			 in_tmp("tool-changed.bin")),
		  SG_ERR_VERIFY);
	snprintf(msg, sizeof(msg),
		 "tool.bin.sig: OpenPGP signature of %s rejected: bad signature from key %s "
		 "\"" VENDOR "\" (the data or the signature was changed)",
		 in_tmp("tool-changed.bin"), keyid(vendor_sub));
	CHECK_CONTAINS(sg_error_last(), msg);
	CHECK_STR(r.fingerprint, "");
	CHECK_STR(r.sig_sha256, "");

	/* Signed by the other key, which the keyring lacks. */
	CHECK_INT(gpg("-u", other, "--detach-sign", "-o", in_tmp("by-other.sig"),
		      in_tmp("manifest.txt"), NULL),
		  0);
	CHECK_INT(
		verify(&r, check_path(fix, "KEYS"), in_tmp("by-other.sig"), in_tmp("manifest.txt")),
		SG_ERR_VERIFY);
	snprintf(msg, sizeof(msg), "made by key %s, which is not in the keyring %s", keyid(other),
		 check_path(fix, "KEYS"));
	CHECK_CONTAINS(sg_error_last(), msg);
	CHECK_CONTAINS(sg_error_last(), "by-other.sig: OpenPGP signature of ");
	/* ... and is accepted with the other key's keyring. */
	CHECK_INT(verify(&r, check_path(fix, "other.gpg"), in_tmp("by-other.sig"),
			 in_tmp("manifest.txt")),
		  SG_OK);
	CHECK_STR(r.fingerprint, other);
	CHECK_STR(r.primary_fingerprint, other);
	CHECK_STR(r.uid, "Other Signer <other@example.invalid>");

	/* A file that is not a signature, an empty one. */
	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("manifest.txt"),
			 in_tmp("tool.bin")),
		  SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "manifest.txt: OpenPGP signature of ");
	CHECK_CONTAINS(sg_error_last(), "rejected: it holds no OpenPGP signature");
	write_file(in_tmp("empty.sig"), "", 0);
	CHECK_INT(
		verify(&r, check_path(fix, "vendor.gpg"), in_tmp("empty.sig"), in_tmp("tool.bin")),
		SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "rejected: it holds no OpenPGP signature");

	/* A signed message (data inside) is not a detached signature. */
	CHECK_INT(gpg("--sign", "-o", in_tmp("inline.gpg"), in_tmp("tool.bin"), NULL), 0);
	CHECK_INT(
		verify(&r, check_path(fix, "vendor.gpg"), in_tmp("inline.gpg"), in_tmp("tool.bin")),
		SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "rejected: gpgv found no good signature (not a detached "
					"signature)");

	/* Two good signatures in one file: exactly one is accepted. */
	concat(in_tmp("twice.sig"), in_tmp("tool.bin.sig"), in_tmp("tool.bin.sig"));
	CHECK_INT(
		verify(&r, check_path(fix, "vendor.gpg"), in_tmp("twice.sig"), in_tmp("tool.bin")),
		SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(),
		       "rejected: the file holds 2 signatures; signgate accepts exactly one");

	/* SHA-1: gpgv accepts it by default, signgate does not. */
	CHECK_INT(gpg("--digest-algo", "SHA1", "--detach-sign", "-o", in_tmp("sha1.sig"),
		      in_tmp("tool.bin"), NULL),
		  0);
	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("sha1.sig"), in_tmp("tool.bin")),
		  SG_ERR_VERIFY);
	snprintf(msg, sizeof(msg), "rejected: made by key %s with the weak digest SHA-1",
		 keyid(vendor_sub));
	CHECK_CONTAINS(sg_error_last(), msg);

	/* A text-mode signature (class 01) is a document signature too. */
	CHECK_INT(gpg("--textmode", "--detach-sign", "-o", in_tmp("text.sig"),
		      in_tmp("manifest.txt"), NULL),
		  0);
	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("text.sig"),
			 in_tmp("manifest.txt")),
		  SG_OK);
}

/*
 * Keys that gpgv accepts with exit status 0 but reports as expired or
 * revoked: only the status lines tell.
 */
static void test_expired_revoked(void)
{
	char past[32], signed_at[32], fpr[65], path[512], msg[512];
	static char rev[8192];
	sg_openpgp_result r;
	char *begin;
	size_t n;

	/* A key made ten days ago that expired a day later; it signed while valid. */
	snprintf(past, sizeof(past), "%lld!", (long long)started - 10 * 86400);
	snprintf(signed_at, sizeof(signed_at), "%lld!", (long long)started - 10 * 86400 + 60);
	CHECK_INT(gpg("--faked-system-time", past, "--quick-gen-key",
		      "Expired Vendor <expired@example.invalid>", "ed25519", "sign", "1d", NULL),
		  0);
	fpr_of(fpr, "expired@example.invalid");
	CHECK_INT(gpg("--faked-system-time", signed_at, "-u", fpr, "--detach-sign", "-o",
		      in_tmp("expired.sig"), in_tmp("tool.bin"), NULL),
		  0);
	CHECK_INT(gpg("--export", "-o", in_tmp("expired.gpg"), fpr, NULL), 0);
	CHECK_INT(verify(&r, in_tmp("expired.gpg"), in_tmp("expired.sig"), in_tmp("tool.bin")),
		  SG_ERR_VERIFY);
	snprintf(msg, sizeof(msg),
		 "rejected: made by key %s \"Expired Vendor <expired@example.invalid>\", which has "
		 "expired",
		 keyid(fpr));
	CHECK_CONTAINS(sg_error_last(), msg);

	/* A key revoked with the revocation certificate gpg stored when making it. */
	CHECK_INT(gpg("--quick-gen-key", "Revoked Vendor <revoked@example.invalid>", "ed25519",
		      "sign", "never", NULL),
		  0);
	fpr_of(fpr, "revoked@example.invalid");
	CHECK_INT(gpg("-u", fpr, "--detach-sign", "-o", in_tmp("revoked.sig"), in_tmp("tool.bin"),
		      NULL),
		  0);
	snprintf(path, sizeof(path), "%s/openpgp-revocs.d/%s.rev", home, fpr);
	n = read_file(path, rev, sizeof(rev));
	/* gpg guards the stored certificate with a ':' against an accidental import. */
	begin = strstr(rev, ":-----BEGIN PGP PUBLIC KEY BLOCK-----");
	if (!begin)
		die("revocation certificate layout");
	write_file(in_tmp("revoke.asc"), begin + 1, n - (size_t)(begin + 1 - rev));
	CHECK_INT(gpg("--import", in_tmp("revoke.asc"), NULL), 0);
	CHECK_INT(gpg("--export", "-o", in_tmp("revoked.gpg"), fpr, NULL), 0);
	CHECK_INT(verify(&r, in_tmp("revoked.gpg"), in_tmp("revoked.sig"), in_tmp("tool.bin")),
		  SG_ERR_VERIFY);
	snprintf(msg, sizeof(msg),
		 "rejected: made by key %s \"Revoked Vendor <revoked@example.invalid>\", which has "
		 "been revoked",
		 keyid(fpr));
	CHECK_CONTAINS(sg_error_last(), msg);

	/* A user id with a '%' comes back unescaped. */
	CHECK_INT(gpg("--quick-gen-key", "Vendor 100% <pct@example.invalid>", "ed25519", "sign",
		      "never", NULL),
		  0);
	fpr_of(fpr, "pct@example.invalid");
	CHECK_INT(
		gpg("-u", fpr, "--detach-sign", "-o", in_tmp("pct.sig"), in_tmp("tool.bin"), NULL),
		0);
	CHECK_INT(gpg("--export", "-o", in_tmp("pct.gpg"), fpr, NULL), 0);
	CHECK_INT(verify(&r, in_tmp("pct.gpg"), in_tmp("pct.sig"), in_tmp("tool.bin")), SG_OK);
	CHECK_STR(r.uid, "Vendor 100% <pct@example.invalid>");
	CHECK_STR(r.fingerprint, fpr);
}

static void test_files(void)
{
	sg_openpgp_result r;
	static char big[SG_OPENPGP_SIG_MAX + 1];

	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("no-such.sig"),
			 in_tmp("tool.bin")),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(),
		       "no-such.sig: cannot open the signature file: No such file");

	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("t"), in_tmp("tool.bin")),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "/t: the signature file is not a regular file");

	if (mkfifo(in_tmp("fifo.sig"), 0600) != 0)
		die("mkfifo");
	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("fifo.sig"), in_tmp("tool.bin")),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "fifo.sig: the signature file is not a regular file");

	memset(big, 'A', sizeof(big));
	write_file(in_tmp("big.sig"), big, sizeof(big));
	/* Too large to be a detached signature: that file's format, not an I/O failure. */
	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("big.sig"), in_tmp("tool.bin")),
		  SG_ERR_FORMAT);
	CHECK_CONTAINS(sg_error_last(), "big.sig: the signature file is larger than 65536 bytes");

	CHECK_INT(verify(&r, check_path(fix, "vendor.gpg"), in_tmp("tool.bin.sig"),
			 in_tmp("no-such.bin")),
		  SG_ERR_IO);
	CHECK_CONTAINS(sg_error_last(), "no-such.bin: cannot read the signed file: No such file");
}

/* A stand-in gpgv that prints `status` lines and exits with `code`. */
static const char *fake_gpgv(const char *name, const char *status, const char *tail)
{
	static char script[8][1024];
	static int next;
	char *path = script[next++ % 8];
	char text[1024];

	snprintf(path, sizeof(script[0]), "%s/%s", tmp, name);
	snprintf(text, sizeof(text), "#!/bin/sh\nprintf '%%s' '%s'\n%s\n", status, tail);
	write_file(path, text, strlen(text));
	chmod(path, 0700);
	return path;
}

static int verify_with(sg_openpgp_result *r, const char *gpgv)
{
	sg_error_clear();
	return sg_openpgp_verify(r, gpgv, check_path(fix, "vendor.gpg"), in_tmp("tool.bin.sig"),
				 in_tmp("tool.bin"));
}

#define FPR5 "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define FPR4 "0123456789ABCDEF0123456789ABCDEF01234567"

static void test_tool(void)
{
	const char *good =
		"[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 89ABCDEF01234567 A\n"
		"[GNUPG:] VALIDSIG " FPR4 " 2026-01-01 1767225600 0 4 0 22 8 00 " FPR4 "\n";
	sg_openpgp_result r;
	const char *g;

	CHECK_INT(sg_openpgp_verify(&r, "/nonexistent/gpgv", check_path(fix, "vendor.gpg"),
				    in_tmp("tool.bin.sig"), in_tmp("tool.bin")),
		  SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "/nonexistent/gpgv: cannot run: No such file");
	CHECK(tmpdir_empty());
	CHECK_INT(verify_with(&r, "gpgv"), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "gpgv: programs are run by absolute path only");
	CHECK_INT(verify_with(&r, "/bin/true"), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "/bin/true: exited with status 0 but reported no signature "
					"while checking ");

	/* The fake's verdict is judged as gpgv's would be: the good case first. */
	CHECK_INT(verify_with(&r, fake_gpgv("good", good, "exit 0")), SG_OK);
	CHECK_STR(r.fingerprint, FPR4);
	CHECK_INT(r.sig_time, 1767225600);
	CHECK_STR(r.uid, "A");

	g = fake_gpgv("good-exit2", good, "exit 2");
	CHECK_INT(verify_with(&r, g), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "good-exit2: reported a good signature but exited with "
					"status 2");
	g = fake_gpgv("exit3", "", "echo 'gpgv: fatal: out of cheese' >&2; exit 3");
	CHECK_INT(verify_with(&r, g), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "exit3: exited with status 3 while checking ");
	CHECK_CONTAINS(sg_error_last(), ": fatal: out of cheese");
	g = fake_gpgv("killed", "", "kill -9 $$");
	CHECK_INT(verify_with(&r, g), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "killed: killed by signal 9 while checking ");

	g = fake_gpgv("mismatch",
		      "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 1111111111111111 A\n"
		      "[GNUPG:] VALIDSIG " FPR4 " 2026-01-01 1767225600 0 4 0 22 8 00 " FPR4 "\n",
		      "exit 0");
	CHECK_INT(verify_with(&r, g), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "mismatch: GOODSIG names key 1111111111111111 but "
					"VALIDSIG key " FPR4);
	g = fake_gpgv("short",
		      "[GNUPG:] GOODSIG 89ABCDEF01234567 A\n[GNUPG:] VALIDSIG " FPR4 " x\n",
		      "exit 0");
	CHECK_INT(verify_with(&r, g), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "short: unexpected VALIDSIG line for ");
	g = fake_gpgv("lower",
		      "[GNUPG:] GOODSIG 89abcdef01234567 A\n[GNUPG:] VALIDSIG "
		      "0123456789abcdef0123456789abcdef01234567 2026-01-01 1767225600 0 4 0 22 8 "
		      "00\n",
		      "exit 0");
	CHECK_INT(verify_with(&r, g), SG_ERR_TOOL);
	CHECK_CONTAINS(sg_error_last(), "lower: unexpected VALIDSIG line for ");

	/* A standalone signature (class 02) signs no document. */
	g = fake_gpgv("class02",
		      "[GNUPG:] GOODSIG 89ABCDEF01234567 A\n"
		      "[GNUPG:] VALIDSIG " FPR4 " 2026-01-01 1767225600 0 4 0 22 8 02 " FPR4 "\n",
		      "exit 0");
	CHECK_INT(verify_with(&r, g), SG_ERR_VERIFY);
	CHECK_CONTAINS(sg_error_last(), "rejected: signature class 02 is not a document signature");

	/* v5 fingerprint (key id = its first 64 bits), ISO time, no primary field, escaped uid. */
	g = fake_gpgv("v5",
		      "[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG 0123456789ABCDEF Ann%20%25%0Aevil\n"
		      "[GNUPG:] VALIDSIG " FPR5 " 2026-01-01 20260101T000100 0 5 0 22 10 00\n",
		      "exit 0");
	CHECK_INT(verify_with(&r, g), SG_OK);
	CHECK_STR(r.fingerprint, FPR5);
	CHECK_STR(r.primary_fingerprint, FPR5);
	CHECK_INT(r.sig_time, 1767225660);
	CHECK_STR(r.uid, "Ann %?evil");
	CHECK(tmpdir_empty());
}

/* Stop the gpg-agent that gpg started in the fixture's home, remove everything. */
static void cleanup(void)
{
	const char *kill_agent[] = { GPGCONF, "--homedir", home, "--kill", "gpg-agent", NULL };
	const char *rm[] = { "/bin/rm", "-rf", "--", tmp, NULL };
	sg_proc_spec spec = { kill_agent, NULL, NULL, 0, 30 };
	sg_proc_result r;

	/* Not run(): this also serves die(), which must not come back here. */
	if (home && sg_proc_run(&r, &spec) == SG_OK)
		sg_proc_result_free(&r);
	spec.argv = rm;
	if (sg_proc_run(&r, &spec) == SG_OK)
		sg_proc_result_free(&r);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test_openpgp PATH/make-openpgp.sh\n");
		return 2;
	}
	started = time(NULL);
	if (!mkdtemp(tmp))
		return 2;
	setup(argv[1]);
	test_good();
	test_keyrings();
	test_bad_keyrings();
	test_refusals();
	test_expired_revoked();
	test_files();
	test_tool();
	cleanup();
	return check_done();
}
