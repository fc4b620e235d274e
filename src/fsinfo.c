/*
 * fsinfo.c - the spool's filesystem kind. See fsinfo.h.
 */
#include <stddef.h>
#include <sys/vfs.h>

#include "fsinfo.h"

/* statfs f_type values (linux/magic.h, and the filesystems' own headers
 * for those it lacks). */
static const struct {
	unsigned long magic;
	const char *name;
	int network;
} fs_table[] = {
	{ 0xEF53, "ext4", 0 },          /* ext2, ext3, ext4 */
	{ 0x58465342, "xfs", 0 },
	{ 0x9123683E, "btrfs", 0 },
	{ 0x01021994, "tmpfs", 0 },
	{ 0x2FC12FC1, "zfs", 0 },
	{ 0xF2F52010, "f2fs", 0 },
	{ 0x794C7630, "overlayfs", 0 },
	{ 0x65735546, "fuse", 1 },      /* GlusterFS, MooseFS, sshfs, ... */
	{ 0x6969, "nfs", 1 },
	{ 0x517B, "smb", 1 },
	{ 0xFF534D42, "cifs", 1 },
	{ 0xFE534D42, "smb2", 1 },
	{ 0x00C36400, "ceph", 1 },
	{ 0x5346414F, "afs", 1 },
	{ 0x6B414653, "afs", 1 },
	{ 0x01021997, "9p", 1 },
	{ 0x73757245, "coda", 1 },
	{ 0x564C, "ncp", 1 },
	{ 0x7461636F, "ocfs2", 1 },
	{ 0x01161970, "gfs2", 1 },
	{ 0x0BD00BD0, "lustre", 1 },
	{ 0x47504653, "gpfs", 1 },
	{ 0x20030528, "orangefs", 1 },
	{ 0x013111A8, "ibrix", 1 },
	{ 0xAAD7AAEA, "panfs", 1 },
};

int
fs_classify(unsigned long f_type, const char **name)
{
	for (size_t i = 0; i < sizeof fs_table / sizeof *fs_table; i++) {
		if (fs_table[i].magic == (f_type & 0xFFFFFFFFUL)) {
			if (name != NULL)
				*name = fs_table[i].name;
			return fs_table[i].network;
		}
	}
	if (name != NULL)
		*name = "other";
	return 0;
}

int
fs_probe(int fd, const char **name)
{
	struct statfs st;

	if (fstatfs(fd, &st) == -1)
		return -1;
	return fs_classify((unsigned long)st.f_type, name);
}
