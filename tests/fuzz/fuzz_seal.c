/*
 * Audit seals (lib/audit_seal.c, lib/audit_seal_offhost.c): the input is a
 * seals file, read as `audit verify` reads the one beside the log and, the
 * same bytes, as an off-host copy (syslog lines with any prefix); when both
 * load, they are merged. Seals verify against
 * tests/fuzz/data/seal-cert.pem, the certificate the seed seals were made
 * with, for a log named audit.log.
 */
#include "fuzz_common.h"
#include "signgate/audit_seal.h"

static char *seals_path, *cert_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	seals_path = fuzz_path("audit.log.seals");
	cert_path = sg_path_join(SG_FUZZ_DATA_DIR, "seal-cert.pem");
	fuzz_require(cert_path != NULL, "out of memory");
	return 0;
}

static void in_order(const sg_audit_seals *s)
{
	for (size_t i = 1; i < s->n; i++)
		fuzz_require(s->seals[i - 1].seq <= s->seals[i].seq, "seals out of seq order");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	sg_audit_seals local, offhost;
	size_t ignored = 0;
	int a, b;

	fuzz_write(seals_path, data, len);
	a = sg_audit_seals_load(&local, seals_path, cert_path);
	if (a == SG_OK)
		in_order(&local);
	sg_error_clear();
	memset(&offhost, 0, sizeof(offhost));
	b = sg_audit_seals_load_offhost(&offhost, seals_path, "audit.log", cert_path, &ignored);
	if (b == SG_OK)
		in_order(&offhost);
	sg_error_clear();
	fuzz_trace("seals file %d (%zu seals), off-host %d (%zu seals, %zu ignored)", a,
		   a == SG_OK ? local.n : 0, b, b == SG_OK ? offhost.n : 0, ignored);
	if (a == SG_OK && b == SG_OK && sg_audit_seals_merge(&local, &offhost) == SG_OK)
		in_order(&local);
	if (a == SG_OK)
		sg_audit_seals_free(&local);
	if (b == SG_OK)
		sg_audit_seals_free(&offhost);
	sg_error_clear();
	return 0;
}
