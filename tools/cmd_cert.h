/* signgate cert: what lint and export share (tools/cmd_cert.c, tools/cmd_cert_export.c). */
#ifndef SG_TOOLS_CMD_CERT_H
#define SG_TOOLS_CMD_CERT_H

typedef struct cert_opts {
	const char *verb, *config, *cert, *chain, *ca, *crl, *out_dir, *check_dir;
	const char *expect_thumbprint; /* export: the signer's SHA-1 or SHA-256 (hex) */
	int json, force, allow_older_crl;
} cert_opts;

/* `signgate cert export` with parsed options; returns the exit code. */
int cert_export_run(const cert_opts *o);

#endif
