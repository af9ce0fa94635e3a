/*
 * For unit tests that work with the fixture's PKI: fx() names a file of the
 * fixture folder, wk() one of the test's private work folder, and
 * load_fixture_signer() opens the signer's key, certificate and chain from
 * pki/signer.p12 with its password file. The test defines `fixdir`,
 * `workdir` and setup_fail() before including this header.
 */
#ifndef SIGNGATE_TEST_CHECK_PKI_H
#define SIGNGATE_TEST_CHECK_PKI_H

#include <openssl/bio.h>
#include <openssl/pkcs12.h>

#include "signgate/secret.h"
#include "signgate/util.h"

static const char *fx(const char *rel)
{
	return check_path(fixdir, rel);
}

static const char *wk(const char *rel)
{
	return check_path(workdir, rel);
}

__attribute__((unused)) static void load_fixture_signer(EVP_PKEY **out_key, X509 **out_cert,
							  STACK_OF(X509) * *out_chain)
{
	char *pass = NULL;
	size_t pass_len;
	BIO *bio = BIO_new_file(fx("pki/signer.p12"), "rb");
	PKCS12 *p12 = bio ? d2i_PKCS12_bio(bio, NULL) : NULL;

	if (!p12 || sg_secret_read_file(&pass, &pass_len, fx("pki/signer.pass")) != SG_OK ||
	    !PKCS12_parse(p12, pass, out_key, out_cert, out_chain))
		setup_fail("cannot open pki/signer.p12");
	sg_secret_free(pass);
	PKCS12_free(p12);
	BIO_free(bio);
}

#endif
