/*
 * Internal: the OLE compound file (MS-CFB) reader that MSI checks share.
 * lib/cfb.c reads it; lib/format_msi.c checks the structure of the Windows
 * Installer formats (MSI, MSP, MSM, MST); lib/msi_digest.c hashes the streams. Every sector number,
 * chain and size is checked before it is used; reads are pread() of at most one sector at a time
 * here.
 */
#ifndef SIGNGATE_LIB_CFB_INTERNAL_H
#define SIGNGATE_LIB_CFB_INTERNAL_H

#include <stdint.h>

#include "format_internal.h"

#define CFB_HEADER_SIZE  512
#define CFB_HEADER_DIFAT 109
#define CFB_MAX_SECTOR   4096
#define CFB_MAXREGSECT   0xfffffffaU
#define CFB_ENDOFCHAIN   0xfffffffeU
#define CFB_FREESECT     0xffffffffU
#define CFB_NOSTREAM     0xffffffffU
#define CFB_DIRENT_SIZE  128
#define CFB_MAX_ENTRIES  (1U << 17)
#define CFB_MINI_SECTOR  64
#define CFB_MINI_CUTOFF  4096
#define CFB_TYPE_STORAGE 1
#define CFB_TYPE_STREAM  2
#define CFB_TYPE_ROOT    5

/* Fields of a 128-byte directory entry */
#define CFB_E_NAME_LEN 0x40
#define CFB_E_TYPE     0x42
#define CFB_E_LEFT     0x44
#define CFB_E_RIGHT    0x48
#define CFB_E_CHILD    0x4c
#define CFB_E_CLSID    0x50
#define CFB_E_STATE    0x60
#define CFB_E_CTIME    0x64
#define CFB_E_MTIME    0x6c
#define CFB_E_START    0x74
#define CFB_E_SIZE     0x78

struct cfb {
	const struct src *s;
	unsigned shift; /* sector size is 1 << shift: 512 or 4096 */
	uint32_t ssz;
	uint32_t nsectors; /* whole sectors after the header sector */
	int v3;            /* major version 3: stream sizes are 32-bit */
	uint32_t nfat;     /* number of FAT sectors */
	uint32_t hdr_difat[CFB_HEADER_DIFAT];
	uint32_t *difat; /* DIFAT sector locations, in chain order */
	uint32_t ndifat;
	uint32_t first_difat;
	uint32_t first_dir;
	uint32_t first_minifat;
	uint32_t nminifat; /* number of miniFAT sectors, as the header says */
	uint32_t *dir;     /* directory sector locations, in chain order */
	uint32_t ndir;
	uint32_t cached;              /* FAT sector held in cache, CFB_FREESECT if none */
	unsigned char root_clsid[16]; /* the root entry's class, as stored */
	unsigned char cache[CFB_MAX_SECTOR];
};

/*
 * Read and check the header, the DIFAT, the FAT and the directory chain of
 * the compound file `s`, and its root entry ("Root Entry", no siblings; its
 * class goes to c->root_clsid, unjudged). `c` is zeroed here; release with sg_cfb_close() whatever
 * this returns. `root_child` receives the root storage's child link.
 * Returns SG_OK, or SG_ERR_FORMAT, SG_ERR_IO, SG_ERR_NOMEM with the last
 * error naming the file.
 */
int sg_cfb_open(struct cfb *c, const struct src *s, uint32_t *root_child);
void sg_cfb_close(struct cfb *c);

/* Number of directory entries the directory chain holds. */
uint32_t sg_cfb_nentries(const struct cfb *c);

/* Read directory entry `id` (any id below sg_cfb_nentries()). */
int sg_cfb_entry(const struct cfb *c, uint32_t id, unsigned char e[CFB_DIRENT_SIZE]);

/*
 * Check a non-root entry: name length and terminator, no NUL inside the
 * name, type storage or stream, size below the file's.
 */
int sg_cfb_entry_check(const struct cfb *c, uint32_t id, const unsigned char *e);

/* The stream size of entry `e` (version 3: the low 32 bits only). */
uint64_t sg_cfb_entry_size(const struct cfb *c, const unsigned char *e);

/* Room for an entry's name as sg_cfb_entry_name() writes it (31 characters, each up to
 * "\xNNNN", and the NUL). */
#define SG_CFB_NAME_TEXT (31 * 6 + 1)

/*
 * The name of `e` for messages: printable ASCII as is, a backslash as "\\",
 * anything else as "\xNN" (or "\xNNNN" above 0xff): "\x05DigitalSignature".
 */
void sg_cfb_entry_name(char out[SG_CFB_NAME_TEXT], const unsigned char *e);

/* Sector `n` as `what` needs it: a regular sector number, wholly inside the file. */
int sg_cfb_sector_check(const struct cfb *c, uint32_t n, const char *what);

/* File offset of sector `n`. */
uint64_t sg_cfb_sector_off(const struct cfb *c, uint32_t n);

/* The FAT entry of sector `n` (the next sector of its chain, unchecked). */
int sg_cfb_fat_next(struct cfb *c, uint32_t n, uint32_t *next);

#endif
