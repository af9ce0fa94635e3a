/*
 * Putting a signature made elsewhere (by the key helper) into a file,
 * without any key (issue 12).
 *
 *  - A PE is signed in place by signgate itself: the private copy is
 *    padded with zeros to a multiple of 8 bytes, a certificate table of one
 *    WIN_CERTIFICATE (revision 0x0200, type PKCS_SIGNED_DATA 0x0002)
 *    holding the DER, itself padded to 8 bytes, is appended, the security
 *    directory entry is set to it and the CheckSum recomputed. An existing
 *    table (the vendor's signature, `replace`) is cut off first.
 *  - Anything else (an MSI, a nested signature) goes through
 *    `osslsigncode attach-signature` run with no key, no secret, a minimal
 *    environment, the configured CAs and CRLs and no network (a network
 *    namespace of its own). Its exit status is not trusted either way: the
 *    caller judges the output with its own checks, and any output is
 *    removed when attaching fails.
 */
#ifndef SIGNGATE_ATTACH_H
#define SIGNGATE_ATTACH_H

#include <stddef.h>

#include "signgate/config.h"
#include "signgate/confine.h"
#include "signgate/format.h"

/*
 * Append the signature `der` to the PE at `path` (a private copy that
 * sg_format_inspect() described in `info`), in place, as above; `name` is
 * for messages. The file ends as exactly the original (without any old
 * table), the padding, and the new table: the bytes `osslsigncode sign`
 * 2.9 writes with the same signature. The file is opened O_NOFOLLOW and
 * must still be the regular file of info->size bytes. Returns SG_OK;
 * SG_ERR_USAGE when `info` is not a PE, `der` is not exactly one DER
 * element, or the table would not fit the format's limits (it must end
 * below 4 GiB); SG_ERR_IO (the file is then in an unknown state: the
 * caller discards it); SG_ERR_NOMEM. Not fsynced: that is the caller's.
 */
int sg_attach_pe(const char *path, const sg_format_info *info, const unsigned char *der,
		 size_t der_len, const char *name);

/*
 * sg_attach_pe() on the copy open (read-write) as `fd`, which stays open:
 * no path is looked up, so a file put at the copy's path by whoever can
 * write its folder is never the one written. `path` names it in messages.
 */
int sg_attach_pe_fd(int fd, const char *path, const sg_format_info *info, const unsigned char *der,
		    size_t der_len, const char *name);

typedef struct sg_attach_request {
	const char *input;   /* the private copy; never changed */
	const char *output;  /* must not exist; removed again on failure */
	const char *workdir; /* private folder for the signature's .der file */
	const unsigned char *der;
	size_t der_len;
	int nest;         /* -nest: add as a nested signature */
	int add_msi_dse;  /* -add-msi-dse: an MSI that carries MsiDigitalSignatureEx */
	const char *name; /* for messages */
	sg_confine_report *confinement; /* out: what the osslsigncode run had; may be NULL */
	/*
	 * The trust files it reads for the check it makes after attaching:
	 * ca_file required, the others may be NULL. A run passes private copies
	 * of the bytes it checked (trust.h), never the configured paths.
	 */
	const char *ca_file, *tsa_ca_file, *crl_file;
} sg_attach_request;

/*
 * Run `osslsigncode attach-signature` for `req` as above (argv: -sigin
 * WORKDIR/sig.der -CAfile ca_file [-CRLfile crl_file -TSA-CRLfile crl_file]
 * [-TSA-CAfile tsa_ca_file] (the request's files) [-nest] [-add-msi-dse] -in INPUT -out DIR/NAME;
 * 600 s), confined (sg_proc_run_confined, offline): it reads INPUT, the
 * signature and the trust files, writes only in DIR, an empty folder made
 * for the run in WORKDIR, at most INPUT's size and a margin (RLIMIT_FSIZE);
 * its output is then moved to OUTPUT. A confinement violation is
 * SG_ERR_TOOL "confinement violation in osslsigncode: REASON". SG_ERR_USAGE when the output exists
 * already (it is left alone). Returns SG_OK when an output was written (still to be judged by the
 * caller); SG_ERR_TOOL (osslsigncode missing, failed without an output, killed, timed out, or no
 * network namespace could be made), SG_ERR_IO, SG_ERR_NOMEM. No output is left on failure.
 */
int sg_attach_osslsigncode(const sg_config *cfg, const sg_attach_request *req);

#endif
