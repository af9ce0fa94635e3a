/*
 * sg_forge: build forged or damaged Authenticode files for the tests, with
 * OpenSSL only (no osslsigncode). It reproduces the certificate-swap forgery
 * found in review: a PE signed with an attacker's key whose PKCS#7 carries our
 * public leaf and chain instead of the attacker's certificate, and whose
 * SignerInfo names our leaf by issuer and serial number. The signature value
 * is left alone, so it can only verify under the attacker's key.
 *
 *   sg_forge forge SIGNED.exe LEAF.pem CHAIN.pem OUT.exe
 *       swap the certificates of SIGNED.exe's signature, write it into OUT.exe
 *   sg_forge swap SIG.der LEAF.pem CHAIN.pem OUT.der
 *       the same on a DER PKCS#7 (osslsigncode extract-signature)
 *   sg_forge extract IN.exe OUT.der
 *       the DER PKCS#7 of IN.exe's first certificate-table entry
 *   sg_forge splice IN.exe SIG.der OUT.exe [PAD]
 *       replace IN.exe's certificate table (or add one) with a single entry
 *       holding SIG.der; PAD extra bytes ("PADDING!" repeated) are placed
 *       inside the entry after the DER, where the file digest does not see
 *       them (the MS13-098 / CVE-2013-3900 padding)
 *
 * OUT.exe always receives a correct PE checksum. Exit status: 0 done, 1 failed,
 * 2 usage error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#define WIN_CERT_REVISION_2_0          0x0200
#define WIN_CERT_TYPE_PKCS_SIGNED_DATA 2
#define PE_SECURITY_DIR                4
#define MAX_FILE                       (256u << 20)

struct buf {
	unsigned char *data;
	size_t len;
};

/* Where the fields signgate and Windows look at sit in a PE image. */
struct pe {
	size_t checksum_off; /* OptionalHeader.CheckSum */
	size_t secdir_off;   /* DataDirectory[IMAGE_DIRECTORY_ENTRY_SECURITY] */
	uint32_t cert_off;   /* a file offset, not an RVA */
	uint32_t cert_size;
};

static const char usage_text[] = "usage: sg_forge forge SIGNED.exe LEAF.pem CHAIN.pem OUT.exe\n"
				 "       sg_forge swap SIG.der LEAF.pem CHAIN.pem OUT.der\n"
				 "       sg_forge extract IN.exe OUT.der\n"
				 "       sg_forge splice IN.exe SIG.der OUT.exe [PAD]\n";

__attribute__((format(printf, 1, 2))) static int die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sg_forge: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	ERR_print_errors_fp(stderr);
	return 1;
}

static uint32_t get16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const unsigned char *p)
{
	return get16(p) | get16(p + 2) << 16;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static int read_file(struct buf *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	long size;

	b->data = NULL;
	b->len = 0;
	if (!f)
		return die("cannot open %s", path);
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || (size_t)size > MAX_FILE ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return die("cannot size %s", path);
	}
	b->data = malloc((size_t)size + 1); /* + 1: never malloc(0) */
	if (!b->data || fread(b->data, 1, (size_t)size, f) != (size_t)size) {
		fclose(f);
		return die("cannot read %s", path);
	}
	b->len = (size_t)size;
	fclose(f);
	return 0;
}

static int write_file(const char *path, const unsigned char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len) {
		if (f)
			fclose(f);
		return die("cannot write %s", path);
	}
	if (fclose(f) != 0)
		return die("cannot write %s", path);
	return 0;
}

static int pe_parse(struct pe *pe, const struct buf *b, const char *path)
{
	size_t nt, opt, dirs, ndirs_off;
	uint32_t magic;

	if (b->len < 0x40 || b->data[0] != 'M' || b->data[1] != 'Z')
		return die("%s is not a PE file (no MZ header)", path);
	nt = get32(b->data + 0x3c);
	if (nt > b->len - 24 || memcmp(b->data + nt, "PE\0\0", 4) != 0)
		return die("%s is not a PE file (no PE signature)", path);
	opt = nt + 24;
	if (opt + 2 > b->len)
		return die("%s: truncated optional header", path);
	magic = get16(b->data + opt);
	if (magic == 0x10b) {
		ndirs_off = opt + 92;
		dirs = opt + 96;
	} else if (magic == 0x20b) {
		ndirs_off = opt + 108;
		dirs = opt + 112;
	} else {
		return die("%s: unknown optional header magic", path);
	}
	pe->checksum_off = opt + 64;
	pe->secdir_off = dirs + 8 * PE_SECURITY_DIR;
	if (pe->secdir_off + 8 > b->len || get32(b->data + ndirs_off) <= PE_SECURITY_DIR)
		return die("%s has no certificate table directory entry", path);
	pe->cert_off = get32(b->data + pe->secdir_off);
	pe->cert_size = get32(b->data + pe->secdir_off + 4);
	if ((uint64_t)pe->cert_off + pe->cert_size > b->len)
		return die("%s: certificate table beyond the end of the file", path);
	return 0;
}

/* The PE checksum: 16-bit one's-complement-style sum without the field, plus the length. */
static void pe_set_checksum(unsigned char *d, size_t len, size_t checksum_off)
{
	uint64_t sum = 0;

	put32(d + checksum_off, 0);
	for (size_t i = 0; i < len; i += 2) {
		sum += i + 1 < len ? get16(d + i) : d[i];
		sum = (sum & 0xffff) + (sum >> 16);
	}
	sum = (sum & 0xffff) + (sum >> 16);
	put32(d + checksum_off, (uint32_t)(sum + len));
}

/* The DER PKCS#7 of the first WIN_CERTIFICATE (dwLength may include padding). */
static PKCS7 *pe_signature(const struct buf *b, const struct pe *pe, const char *path)
{
	const unsigned char *p = b->data + pe->cert_off;
	uint32_t len;

	if (pe->cert_off == 0 || pe->cert_size < 8) {
		die("%s has no certificate table", path);
		return NULL;
	}
	len = get32(p);
	if (len < 8 || len > pe->cert_size || get16(p + 4) != WIN_CERT_REVISION_2_0 ||
	    get16(p + 6) != WIN_CERT_TYPE_PKCS_SIGNED_DATA) {
		die("%s: the first certificate entry is not a PKCS#7 SignedData", path);
		return NULL;
	}
	p += 8;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, len - 8);
	if (!p7)
		die("%s: the certificate entry does not hold DER PKCS#7", path);
	return p7;
}

static PKCS7 *read_pkcs7(const char *path)
{
	BIO *bio = BIO_new_file(path, "rb");
	PKCS7 *p7 = bio ? d2i_PKCS7_bio(bio, NULL) : NULL;

	BIO_free(bio);
	if (!p7)
		die("%s is not DER PKCS#7", path);
	return p7;
}

static int pkcs7_der(struct buf *out, PKCS7 *p7)
{
	int len;

	out->data = NULL;
	len = i2d_PKCS7(p7, &out->data);
	if (len <= 0)
		return die("cannot encode the PKCS#7");
	out->len = (size_t)len;
	return 0;
}

/* Every certificate in the PEM file `path` appended to `certs`. */
static int read_certs(STACK_OF(X509) * certs, const char *path)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;
	int n = 0;

	if (!bio)
		return die("cannot open %s", path);
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(certs, x)) {
			X509_free(x);
			break;
		}
		n++;
	}
	BIO_free(bio);
	ERR_clear_error();
	return n > 0 ? 0 : die("no PEM certificate in %s", path);
}

/*
 * The forgery: the certificates become LEAF followed by CHAIN, and the single
 * SignerInfo names LEAF by issuer and serial. Nothing signed changes.
 */
static int swap_certs(PKCS7 *p7, const char *leaf_path, const char *chain_path)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	STACK_OF(PKCS7_SIGNER_INFO) * sis;
	PKCS7_SIGNER_INFO *si;
	X509 *leaf;

	if (!PKCS7_type_is_signed(p7))
		return die("the PKCS#7 is not SignedData");
	sis = PKCS7_get_signer_info(p7);
	if (!sis || sk_PKCS7_SIGNER_INFO_num(sis) != 1)
		return die("the PKCS#7 does not have exactly one SignerInfo");
	si = sk_PKCS7_SIGNER_INFO_value(sis, 0);
	if (!certs || read_certs(certs, leaf_path) || read_certs(certs, chain_path)) {
		sk_X509_pop_free(certs, X509_free);
		return 1;
	}
	leaf = sk_X509_value(certs, 0);
	sk_X509_pop_free(p7->d.sign->cert, X509_free);
	p7->d.sign->cert = certs;
	if (!X509_NAME_set(&si->issuer_and_serial->issuer, X509_get_issuer_name(leaf)))
		return die("cannot set the issuer");
	ASN1_INTEGER_free(si->issuer_and_serial->serial);
	si->issuer_and_serial->serial = ASN1_INTEGER_dup(X509_get_serialNumber(leaf));
	return si->issuer_and_serial->serial ? 0 : die("cannot set the serial");
}

/*
 * A copy of `in` whose certificate table is one entry holding `sig` (plus
 * `pad` junk bytes inside the entry), 8-byte aligned, at the end of the file.
 */
static int splice(const struct buf *in, const struct pe *pe, const struct buf *sig, size_t pad,
		  const char *out_path)
{
	size_t body = pe->cert_off ? pe->cert_off : in->len;
	size_t start = (body + 7) & ~(size_t)7;
	size_t entry = (8 + sig->len + pad + 7) & ~(size_t)7;
	unsigned char *d;
	int rc;

	if (pe->cert_off && (uint64_t)pe->cert_off + pe->cert_size != in->len)
		return die("the certificate table of the input is not at its end");
	if (start + entry > UINT32_MAX)
		return die("the output would exceed 4 GiB");
	d = calloc(1, start + entry);
	if (!d)
		return die("out of memory");
	memcpy(d, in->data, body);
	put32(d + start, (uint32_t)entry);
	d[start + 4] = WIN_CERT_REVISION_2_0 & 0xff;
	d[start + 5] = WIN_CERT_REVISION_2_0 >> 8;
	d[start + 6] = WIN_CERT_TYPE_PKCS_SIGNED_DATA;
	memcpy(d + start + 8, sig->data, sig->len);
	for (size_t i = 0; i < pad; i++)
		d[start + 8 + sig->len + i] = (unsigned char)"PADDING!"[i % 8];
	put32(d + pe->secdir_off, (uint32_t)start);
	put32(d + pe->secdir_off + 4, (uint32_t)entry);
	pe_set_checksum(d, start + entry, pe->checksum_off);
	rc = write_file(out_path, d, start + entry);
	free(d);
	return rc;
}

static int cmd_swap(char **argv)
{
	PKCS7 *p7 = read_pkcs7(argv[0]);
	struct buf der = { 0 };
	int rc = !p7 || swap_certs(p7, argv[1], argv[2]) || pkcs7_der(&der, p7) ||
		 write_file(argv[3], der.data, der.len);

	OPENSSL_free(der.data);
	PKCS7_free(p7);
	return rc;
}

static int cmd_forge(char **argv)
{
	struct buf in;
	struct buf der = { 0 };
	struct pe pe;
	PKCS7 *p7 = NULL;
	int rc = read_file(&in, argv[0]) || pe_parse(&pe, &in, argv[0]) ||
		 !(p7 = pe_signature(&in, &pe, argv[0])) || swap_certs(p7, argv[1], argv[2]) ||
		 pkcs7_der(&der, p7) || splice(&in, &pe, &der, 0, argv[3]);

	OPENSSL_free(der.data);
	PKCS7_free(p7);
	free(in.data);
	return rc;
}

static int cmd_extract(char **argv)
{
	struct buf in;
	struct buf der = { 0 };
	struct pe pe;
	PKCS7 *p7 = NULL;
	int rc = read_file(&in, argv[0]) || pe_parse(&pe, &in, argv[0]) ||
		 !(p7 = pe_signature(&in, &pe, argv[0])) || pkcs7_der(&der, p7) ||
		 write_file(argv[1], der.data, der.len);

	OPENSSL_free(der.data);
	PKCS7_free(p7);
	free(in.data);
	return rc;
}

static int cmd_splice(int argc, char **argv)
{
	struct buf in, sig = { 0 };
	struct pe pe;
	char *end;
	unsigned long pad = 0;
	int rc;

	if (argc == 4) {
		errno = 0;
		pad = strtoul(argv[3], &end, 10);
		if (errno || *end || end == argv[3] || pad > (1u << 20))
			return die("bad PAD: %s", argv[3]);
	}
	rc = read_file(&in, argv[0]) || pe_parse(&pe, &in, argv[0]) || read_file(&sig, argv[1]) ||
	     splice(&in, &pe, &sig, pad, argv[2]);
	free(sig.data);
	free(in.data);
	return rc;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int n = argc - 2;

	if (strcmp(cmd, "forge") == 0 && n == 4)
		return cmd_forge(argv + 2);
	if (strcmp(cmd, "swap") == 0 && n == 4)
		return cmd_swap(argv + 2);
	if (strcmp(cmd, "extract") == 0 && n == 2)
		return cmd_extract(argv + 2);
	if (strcmp(cmd, "splice") == 0 && (n == 3 || n == 4))
		return cmd_splice(n, argv + 2);
	fputs(usage_text, stderr);
	return 2;
}
