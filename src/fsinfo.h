/*
 * fsinfo.h - what kind of filesystem the spool is on.
 *
 * inotify sees only the changes made through this host's own mount: on a
 * network or cluster filesystem (NFS, SMB/CIFS, Ceph, AFS, 9p, OCFS2, GFS2,
 * Lustre, GPFS) or a FUSE one (GlusterFS, MooseFS, sshfs, bindfs...) other
 * hosts' (or the daemon's) changes are never reported, so workers there also
 * rescan the spool (config poll_interval). spool-layout/README.md, "Several
 * hosts".
 */
#ifndef QUEUECTL_FSINFO_H
#define QUEUECTL_FSINFO_H

/*
 * Classify a statfs(2) f_type. Returns 1 for a network, cluster or FUSE
 * filesystem (inotify may miss changes), 0 for a local one; *name (if not
 * NULL) gets a short name: "ext4", "fuse", "nfs", ... or "other". Pure.
 */
int fs_classify(unsigned long f_type, const char **name);

/*
 * fstatfs(2) the file or directory open as fd and classify it. Returns 1
 * or 0 as fs_classify, or -1 with errno set.
 */
int fs_probe(int fd, const char **name);

#endif
