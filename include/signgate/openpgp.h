/*
 * Vendor OpenPGP detached signatures (an Apache release's .asc checked
 * against the project's KEYS file, Notepad++'s .sig), verified with gpgv.
 *
 * gpgv runs by absolute path with a private, empty --homedir (a 0700
 * folder removed afterwards) holding a copy of the signature and the
 * keyring in the binary form gpgv reads; nothing else of the user's GnuPG
 * setup is consulted. The verdict comes from gpgv's --status-fd lines, not
 * from its exit status: gpgv exits 0 for a good signature by an expired or
 * revoked key.
 */
#ifndef SIGNGATE_OPENPGP_H
#define SIGNGATE_OPENPGP_H

#include "signgate/config.h"

typedef struct sg_openpgp_result {
	char fingerprint[65]; /* the signing (sub)key's fingerprint, upper-case hex as gpg prints it
			       */
	char primary_fingerprint[65]; /* its primary key's fingerprint */
	char uid[256];                /* the primary user id gpgv reports (GOODSIG), "" if none */
	long long sig_time;           /* signature creation time, Unix seconds */
	char sig_sha256[65]; /* SHA-256 hex of the signature file's bytes, for the record */
} sg_openpgp_result;

/* SG_GPGV_DEFAULT, the default gpgv path, is in signgate/config.h. */

/* The longest signature file accepted; real detached signatures are < 2 KiB. */
#define SG_OPENPGP_SIG_MAX (64 * 1024)

/* The longest keyring file accepted (Apache KEYS files run to a few hundred KiB). */
#define SG_OPENPGP_KEYRING_MAX (16 * 1024 * 1024)

/* How long gpgv may take; it hashes the whole data file. */
#define SG_OPENPGP_TIMEOUT_SEC 300

/*
 * Verify the detached signature `sig_path` (binary or ASCII-armored) over the
 * file `data_path` with the keys of `keyring`, using the gpgv at the absolute
 * path `gpgv` (SG_GPGV_DEFAULT when NULL).
 *
 * `keyring` is a regular file of at most SG_OPENPGP_KEYRING_MAX bytes in one
 * of two forms:
 *   - binary OpenPGP public keys, as `gpg --export` writes them;
 *   - ASCII armor, as `gpg --armor --export` writes it or as an Apache KEYS
 *     file holds it: any number of "BEGIN PGP PUBLIC KEY BLOCK" blocks, each
 *     with one or more keys, with free text around them. signgate decodes
 *     the armor itself (checking each block's CRC-24) since gpgv cannot.
 * It must hold at least one public key and no secret key. A GnuPG keybox
 * (pubring.kbx) is refused with a hint to export the keys instead.
 *
 * `sig_path` must be a regular file of at most SG_OPENPGP_SIG_MAX bytes; it is
 * read once, and the copy gpgv checks is the one whose SHA-256 is reported.
 * `data_path` is passed to gpgv as is: the caller gives a private copy of
 * the bytes it has hashed, named so that messages read well.
 *
 * Exactly one signature is accepted: gpgv must report one VALIDSIG and one
 * GOODSIG (for the same key) and none of BADSIG, ERRSIG, EXPSIG, EXPKEYSIG,
 * REVKEYSIG or NO_PUBKEY; signatures with a SHA-1 or RIPEMD-160 digest and
 * signatures that are not of binary or text documents are refused.
 *
 * Returns SG_OK with `out` filled (it is zeroed on any failure), or:
 *   SG_ERR_VERIFY  bad signature, unknown key, expired or revoked key, weak
 *                  digest, no or several signatures; the message names the
 *                  signature file, the data file and gpgv's reason;
 *   SG_ERR_TOOL    gpgv missing, killed, timed out or saying contradictory things;
 *   SG_ERR_CONFIG  keyring missing, unreadable, not a regular file, larger
 *                  than SG_OPENPGP_KEYRING_MAX, empty or not OpenPGP public keys;
 *   SG_ERR_FORMAT  the signature file is larger than SG_OPENPGP_SIG_MAX: it
 *                  cannot be a detached signature;
 *   SG_ERR_IO      signature or data file missing or not a regular file, a
 *                  read that fails (the keyring's too); the private folder
 *                  could not be made;
 *   SG_ERR_NOMEM, SG_ERR_CRYPTO (hashing).
 */
int sg_openpgp_verify(sg_openpgp_result *out, const char *gpgv, const char *keyring,
		      const char *sig_path, const char *data_path);

#endif
