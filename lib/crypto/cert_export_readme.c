/*
 * cert export, part 3: the two texts for Windows, README.txt and
 * import-signgate-trust.ps1 (CRLF line ends, ASCII only). Every subject
 * and issuer is escaped (sg_export_escape) and shown inside quotes, on a
 * line that says what it is: a certificate's name never starts a line, a
 * step or a command. File names are export's own ([A-Za-z0-9._-]).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert_export_internal.h"
#include "signgate/error.h"
#include "signgate/hash.h"

#define NL "\r\n"

static void line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputs(NL, f);
}

static void lines(FILE *f, const char *const *l)
{
	for (; *l; l++)
		line(f, "%s", *l);
}

/* Open a text in memory; finish with text_close(). */
static FILE *text_open(char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	return open_memstream(buf, len);
}

static int text_close(FILE *f, char **buf, size_t *len)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad) {
		free(*buf);
		*buf = NULL;
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	}
	/* Nothing but ASCII leaves here, whatever a certificate says. */
	for (size_t i = 0; i < *len; i++)
		if ((unsigned char)(*buf)[i] > 0x7e ||
		    ((unsigned char)(*buf)[i] < 0x20 && (*buf)[i] != '\r' && (*buf)[i] != '\n'))
			(*buf)[i] = '?';
	return SG_OK;
}

static const char *store_of(sg_export_kind k)
{
	switch (k) {
	case SG_EXPORT_ROOT: return "Cert:\\LocalMachine\\Root";
	case SG_EXPORT_INTERMEDIATE: return "Cert:\\LocalMachine\\CA";
	case SG_EXPORT_SIGNER: return "Cert:\\LocalMachine\\TrustedPublisher";
	default: return NULL;
	}
}

static const char *certutil_store(sg_export_kind k)
{
	switch (k) {
	case SG_EXPORT_ROOT: return "Root";
	case SG_EXPORT_INTERMEDIATE: return "CA";
	case SG_EXPORT_SIGNER: return "TrustedPublisher";
	default: return NULL;
	}
}

/* ---- import-signgate-trust.ps1 ---- */

static const char *const ps1_run[] = {
	"#",
	"# Run it on the ConfigMgr site server, in an elevated PowerShell, from the",
	"# folder that holds the .cer files (README.txt says when it may be signed):",
	"#   powershell.exe -ExecutionPolicy Bypass -File .\\import-signgate-trust.ps1",
	"# It reads every file once, checks its SHA-256 and the certificate's SHA-1",
	"# thumbprint first, imports nothing unless all of them are the certificates",
	"# it was written for, then adds the checked certificates to the stores.",
	"#Requires -RunAsAdministrator",
	"$ErrorActionPreference = 'Stop'",
	NULL,
};

/*
 * Each .cer is read once: its bytes are hashed (SHA-256, against the value
 * export wrote in) and the checked certificate is made from those same
 * bytes, then added to the store as that object. Nothing reads the file
 * again, and a file holding more than the one certificate (a PKCS#7) fails
 * the hash instead of importing all it holds.
 */
static const char *const ps1_funcs[] = {
	"",
	"$checked = @{}",
	"",
	"function Test-Cer([string]$File, [string]$Expected, [string]$Sha256) {",
	"    $path = Join-Path $PSScriptRoot $File",
	"    $bytes = [System.IO.File]::ReadAllBytes($path)",
	"    $hash = (Get-FileHash -Algorithm SHA256 -InputStream "
	"([System.IO.MemoryStream]::new($bytes))).Hash",
	"    if ($hash -ne $Sha256) {",
	"        throw \"$File has SHA-256 $hash, expected $Sha256\"",
	"    }",
	"    $cert = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($bytes)",
	"    if ($cert.Thumbprint -ne $Expected) {",
	"        throw \"$File has thumbprint $($cert.Thumbprint), expected $Expected\"",
	"    }",
	"    $script:checked[$File] = $cert",
	"}",
	"",
	"function Import-Cer([string]$File, [string]$Store) {",
	"    $cert = $script:checked[$File]",
	"    if ($null -eq $cert) { throw \"$File was not checked\" }",
	"    $name = $Store.Split('\\')[-1]",
	"    $s = [System.Security.Cryptography.X509Certificates.X509Store]::new($name, "
	"'LocalMachine')",
	"    $s.Open('ReadWrite')",
	"    try { $s.Add($cert) } finally { $s.Close() }",
	"    Write-Host \"imported $File into $Store\"",
	"}",
	"",
	NULL,
};

int export_script(char **out, size_t *len, const sg_export *ex)
{
	char subject[sizeof(ex->signer.subject) * 4 + 8];
	const char *tp = ex->signer.sha1_thumbprint;
	FILE *f = text_open(out, len);

	if (!f)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	sg_export_escape(subject, sizeof(subject), ex->signer.subject);
	line(f, "# import-signgate-trust.ps1: trust the signgate code-signing certificate.");
	line(f, "# Written by 'signgate cert export'.");
	line(f, "#");
	line(f, "# Signer:     \"%s\"", subject);
	line(f, "# Thumbprint: %s (SHA-1, as certutil and ConfigMgr print it)", tp);
	lines(f, ps1_run);
	line(f, "$thumbprint = '%s'", tp);
	lines(f, ps1_funcs);
	for (size_t i = 0; i < ex->n_files; i++) {
		sg_cert_info info;
		const sg_export_file *e = &ex->files[i];
		char sha256[65];
		if (e->cert && sg_cert_info_from_x509(&info, e->cert) == SG_OK &&
		    sg_sha256_hex(sha256, e->data, e->len) == 0) {
			for (char *c = sha256; *c; c++)
				*c = (char)toupper((unsigned char)*c);
			line(f, "Test-Cer '%s' '%s' '%s'", e->name, info.sha1_thumbprint, sha256);
		}
	}
	line(f, "%s", "");
	for (sg_export_kind k = SG_EXPORT_ROOT; k <= SG_EXPORT_SIGNER; k++)
		for (size_t i = 0; i < ex->n_files; i++)
			if (ex->files[i].kind == k && ex->files[i].cert)
				line(f, "Import-Cer '%s' '%s'", ex->files[i].name, store_of(k));
	line(f, "%s", "");
	line(f, "Write-Host \"Signing certificate thumbprint: $thumbprint\"");
	line(f, "Write-Host 'Next, in the ConfigMgr console: Administration > Security > "
		"Certificates:'");
	line(f, "Write-Host 'allow this thumbprint (unblock it if it is listed as Blocked).'");
	return text_close(f, out, len);
}

/* ---- README.txt ---- */

static void readme_files(FILE *f, const sg_export *ex)
{
	static const char *const what[] = {
		[SG_EXPORT_ROOT] = "root CA: Trusted Root Certification Authorities",
		[SG_EXPORT_INTERMEDIATE] =
			"intermediate CA: Intermediate Certification Authorities",
		[SG_EXPORT_SIGNER] = "the signing certificate: Trusted Publishers",
		[SG_EXPORT_P7B] = "all of the certificates above in one file (PKCS#7, DER)",
		[SG_EXPORT_CRL] = "a CRL (DER)",
		[SG_EXPORT_THUMBPRINT] = "the signing certificate's SHA-1 thumbprint",
		[SG_EXPORT_SCRIPT] = "imports the .cer files on one server (see below)",
		[SG_EXPORT_README] = "this file",
	};

	line(f, "FILES");
	line(f, "%s", "");
	for (size_t i = 0; i < ex->n_files; i++) {
		const sg_export_file *e = &ex->files[i];
		sg_cert_info info;
		export_crl_facts crl;
		char subject[sizeof(info.subject) * 4 + 8];

		line(f, "  %-28s %s", e->name, what[e->kind]);
		if (e->cert && sg_cert_info_from_x509(&info, e->cert) == SG_OK) {
			sg_export_escape(subject, sizeof(subject), info.subject);
			line(f, "  %-28s   subject:    \"%s\"", "", subject);
			line(f, "  %-28s   SHA-1:      %s", "", info.sha1_thumbprint);
			line(f, "  %-28s   valid to:   %s", "", info.not_after);
		}
		if (e->crl) {
			export_crl_facts_of(&crl, e->crl);
			line(f, "  %-28s   issuer:     \"%s\"", "", crl.issuer);
			line(f, "  %-28s   number %s, this update %s, next update %s", "",
			     crl.number[0] ? crl.number : "(none)", crl.this_update,
			     crl.next_update[0] ? crl.next_update : "(none)");
		}
	}
	line(f, "%s", "");
}

static const char *const readme_check[] = {
	"BEFORE YOU IMPORT ANYTHING",
	"",
	"  Compare the root's SHA-1 thumbprint above with the one your PKI team gives",
	"  you by another channel (phone, a signed mail, the PKI's own web page).",
	"  Windows shows it with:   certutil -dump root.cer   (\"Cert Hash(sha1)\")",
	"  These files are public, but whoever can change them before you import",
	"  them decides what your servers trust.",
	"",
	NULL,
};

static void readme_server(FILE *f, const sg_export *ex)
{
	line(f, "1. THE TOP-LEVEL CONFIGMGR SITE SERVER (publishes third-party updates)");
	line(f, "%s", "");
	line(f, "   The sync agent checks the installer's Authenticode signature there: the");
	line(f, "   signer's chain must end in LocalMachine\\Root. Either run the script in an");
	line(f, "   elevated PowerShell, from this folder:");
	line(f, "     powershell.exe -ExecutionPolicy Bypass -File .\\import-signgate-trust.ps1");
	line(f, "   or import each file with certutil (elevated command prompt):");
	for (sg_export_kind k = SG_EXPORT_ROOT; k <= SG_EXPORT_SIGNER; k++)
		for (size_t i = 0; i < ex->n_files; i++)
			if (ex->files[i].kind == k)
				line(f, "     certutil -addstore -f %s %s", certutil_store(k),
				     ex->files[i].name);
	for (size_t i = 0; i < ex->n_files; i++)
		if (ex->files[i].kind == SG_EXPORT_CRL)
			line(f, "     certutil -addstore -f CA %s", ex->files[i].name);
	line(f, "   (LocalMachine\\Root, LocalMachine\\CA, LocalMachine\\TrustedPublisher.)");
	line(f, "   Revocation is checked online through the CRL distribution points of the");
	line(f, "   certificates (WinHTTP): the site server must reach them over HTTP.");
	line(f, "%s", "");
	line(f, "2. THE CONFIGMGR CONSOLE");
	line(f, "%s", "");
	line(f, "   Administration > Security > Certificates: the signing certificate");
	line(f, "   (thumbprint %s) is listed as a third-party", ex->signer.sha1_thumbprint);
	line(f, "   software update content certificate once content signed with it was");
	line(f, "   published. It must not be Blocked: if it is, select it and Unblock it.");
	line(f, "%s", "");
}

static void readme_gpo_intune(FILE *f, const sg_export *ex)
{
	static const char *const gpo[] = {
		"3. CLIENTS THROUGH GROUP POLICY",
		"",
		"   Computer Configuration > Policies > Windows Settings > Security Settings >",
		"   Public Key Policies, then import:",
		NULL,
	};
	static const char *const gpo_where[] = {
		[SG_EXPORT_ROOT] = "Trusted Root Certification Authorities",
		[SG_EXPORT_INTERMEDIATE] = "Intermediate Certification Authorities",
		[SG_EXPORT_SIGNER] = "Trusted Publishers",
	};

	lines(f, gpo);
	for (sg_export_kind k = SG_EXPORT_ROOT; k <= SG_EXPORT_SIGNER; k++)
		for (size_t i = 0; i < ex->n_files; i++)
			if (ex->files[i].kind == k)
				line(f, "     %-28s into  %s", ex->files[i].name, gpo_where[k]);
	line(f, "%s", "");
	line(f, "4. CLIENTS THROUGH INTUNE");
	line(f, "%s", "");
	line(f, "   Devices > Configuration > Create > Windows 10 and later > Templates >");
	line(f, "   Trusted certificate: one profile per .cer file:");
	for (size_t i = 0; i < ex->n_files; i++) {
		const sg_export_file *e = &ex->files[i];
		if (e->kind == SG_EXPORT_ROOT || e->kind == SG_EXPORT_INTERMEDIATE)
			line(f, "     %-28s store: Computer certificate store - %s", e->name,
			     e->kind == SG_EXPORT_ROOT ? "Root" : "Intermediate");
	}
	line(f, "   A trusted-certificate profile offers no Trusted Publishers store: where");
	line(f, "   signer.cer must be there, deploy the import script (Devices > Scripts) or");
	line(f, "   use Group Policy.");
	line(f, "%s", "");
}

static void readme_ds(FILE *f, const sg_export *ex)
{
	line(f, "5. ACTIVE DIRECTORY (certutil -dspublish, as an Enterprise Admin)");
	line(f, "%s", "");
	line(f, "   Every domain member then trusts the CAs through Group Policy refresh:");
	for (size_t i = 0; i < ex->n_files; i++) {
		const sg_export_file *e = &ex->files[i];
		if (e->kind == SG_EXPORT_ROOT)
			line(f, "     certutil -dspublish -f %s RootCA", e->name);
		else if (e->kind == SG_EXPORT_INTERMEDIATE)
			line(f, "     certutil -dspublish -f %s SubCA", e->name);
		else if (e->kind == SG_EXPORT_CRL)
			line(f, "     certutil -dspublish -f %s", e->name);
	}
	line(f, "%s", "");
}

static const char *const readme_signing[] = {
	"SIGNING THE IMPORT SCRIPT",
	"",
	"   Signing import-signgate-trust.ps1 helps once the root is trusted: for a",
	"   renewal (a new signing certificate, a new intermediate) on hosts whose",
	"   PowerShell execution policy is AllSigned, or RemoteSigned for a script",
	"   copied from a share or downloaded. Sign it the ordinary way: approve its",
	"   SHA-256 (signgate policy approve), then signgate sign and signgate verify.",
	"   'signgate cert export --check' counts a signed copy as unchanged.",
	"",
	"   It cannot help the first import: before the root is trusted, Windows",
	"   cannot verify the script's signature. Check the thumbprints out of band",
	"   (above), then run it with -ExecutionPolicy Bypass.",
	"",
	"KEEPING IT CURRENT",
	"",
	"   signgate cert export --check DIR compares this folder with what export",
	"   writes now: a renewed signer, a new CRL, another root (exit 3 when it",
	"   differs). Re-export with --force, and import the files again.",
	NULL,
};

int export_readme(char **out, size_t *len, const sg_export *ex)
{
	char from[sizeof(ex->leaf_named) * 4 + 8], subject[sizeof(ex->signer.subject) * 4 + 8];
	FILE *f = text_open(out, len);

	if (!f)
		return sg_error_set(SG_ERR_NOMEM, "out of memory");
	/* The config key and the file's base name: no path of the signing host. */
	sg_export_escape(from, sizeof(from), ex->leaf_named);
	sg_export_escape(subject, sizeof(subject), ex->signer.subject);
	line(f, "signgate: trusting its code signatures on Windows");
	line(f, "Written by 'signgate cert export'. Names from certificates are shown in quotes,");
	line(f, "as RFC 2253 writes them (a character outside printable ASCII as \\XX in hex);");
	line(f, "a quote inside a name is written \\x22.");
	line(f, "%s", "");
	line(f, "SIGNING CERTIFICATE");
	line(f, "%s", "");
	line(f, "  subject:          \"%s\"", subject);
	line(f, "  SHA-1 thumbprint: %s   (as certutil and ConfigMgr print it)",
	     ex->signer.sha1_thumbprint);
	line(f, "  SHA-256:          %s", ex->signer.sha256);
	line(f, "  valid to:         %s", ex->signer.not_after);
	line(f, "  read from:        \"%s\"", from);
	if (ex->unauthenticated)
		line(f, "  note:             read from a PKCS#12 file without its password (its "
			"MAC unchecked); taken because --expect-thumbprint named it");
	line(f, "%s", "");
	readme_files(f, ex);
	if (ex->roots_left_out > 0)
		line(f,
		     "  Only the root of the signing certificate's chain is here: %d other%s "
		     "of the trust anchors signgate uses %s left out (they are not for Windows "
		     "to trust).",
		     ex->roots_left_out, ex->roots_left_out == 1 ? "" : "s",
		     ex->roots_left_out == 1 ? "is" : "are");
	if (ex->roots_left_out > 0)
		line(f, "%s", "");
	lines(f, readme_check);
	readme_server(f, ex);
	readme_gpo_intune(f, ex);
	readme_ds(f, ex);
	lines(f, readme_signing);
	return text_close(f, out, len);
}
