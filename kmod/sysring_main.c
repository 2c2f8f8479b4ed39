// SPDX-License-Identifier: GPL-2.0
/*
 * sysring.ko — /dev/sysring: system calls in batches, syslets and in-kernel
 * workers for the sysring library. The interface is include/sysring/uapi.h.
 *
 * Permission model. Calls made through the module run with the caller's own
 * credentials, in the caller's context: the module grants no right the
 * caller does not have (an fd of the device handed to another process only
 * lets that process run calls as itself). What the module does take away is
 * the system-call entry path, and with it seccomp filtering, syscall
 * auditing, ptrace syscall tracing and syscall user dispatch. Therefore:
 *   - threads under seccomp (strict or filter) are refused (-EPERM) every
 *     ioctl that runs calls or starts a ring (BATCH, SYSLET, SETUP, WORKER,
 *     WORKER_IDLE, and mmap), checked at the ioctl and before every call, and a ring
 *     refuses every entry once any task sharing its memory has had a filter
 *     (sysring_ring.c: filters are per thread, rings per process); WAIT,
 *     WAKE, CANCEL and DESTROY run no call and stay available, so that a
 *     context can be shut down by a thread that got a filter;
 *   - the device node is 0600 (root only) by default, because on a system
 *     that relies on syscall audit rules the module would let a user's calls
 *     go unrecorded. An administrator who does not rely on audit can load it
 *     with mode=0666 (or chgrp the node and use 0660) to give ordinary users
 *     the fast paths; nothing else changes for them.
 *   - 32-bit (compat and x32) callers get -ENOTTY: there is no compat_ioctl,
 *     their numbers and pointer sizes are not the x86-64 table's.
 *
 * Module lifetime. fops.owner pins the module while any file is open (so
 * rmmod with contexts open fails with EBUSY/EWOULDBLOCK), and every
 * executing ioctl holds a reference on its file: a call in a batch may
 * close the device fd, and we run task work (deferred fput) inside loops,
 * so without that reference release() (and the last module reference) could
 * run under our feet.
 *
 * No nesting. A call run by the module may itself be an ioctl on a
 * /dev/sysring file, which would recurse (a batch that posts itself runs out
 * of stack). The module refuses it with -EDEADLK (sr_nested, in
 * sysring_exec.c).
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "sysring.h"

#include <sysring/syslet.h>

static ushort mode = 0600;
module_param(mode, ushort, 0444);
MODULE_PARM_DESC(mode, "permissions of /dev/sysring (default 0600: root only; see the source)");

/* ---- INFO ---- */

static long sr_info(struct sysring_info __user *u)
{
	struct sysring_info i;
	u32 usize;

	if (get_user(usize, &u->size))
		return -EFAULT;
	if (usize < offsetofend(struct sysring_info, version))
		return -EINVAL;
	memset(&i, 0, sizeof(i));
	i.size = sizeof(i);
	i.version = SYSRING_UAPI_VERSION;
	i.features = SYSRING_FEAT_BATCH | SYSRING_FEAT_SYSLET | SYSRING_FEAT_RING |
		     SYSRING_FEAT_CANCEL | SYSRING_FEAT_SYSLET_CACHED | SYSRING_FEAT_WORKER_IDLE;
	if (IS_ENABLED(CONFIG_SECCOMP))
		i.features |= SYSRING_FEAT_SECCOMP_REFUSED;
	i.nr_syscalls = sr_nr_syscalls;
	i.max_batch = SYSRING_MAX_BATCH;
	i.max_ring_entries = SYSRING_RING_MAX_ENTRIES;
	i.call_size = sizeof(struct sysring_call);
	i.atom_size = sizeof(struct syslet_uatom);
	i.sqe_size = sizeof(struct sysring_sqe);
	i.cqe_size = sizeof(struct sysring_cqe);
	i.syslet_max_atoms = SYSRING_SYSLET_MAX_ATOMS;
	/* A newer caller's larger struct: it learns our size from i.size. */
	if (copy_to_user(u, &i, min_t(size_t, usize, sizeof(i))))
		return -EFAULT;
	return 0;
}

/* ---- the device ---- */

/* The command without its size bits: the struct carries its own size. */
#define SR_CMD(cmd) ((cmd) & ~(_IOC_SIZEMASK << _IOC_SIZESHIFT))

static long sr_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct sr_file *f = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	if (SR_CMD(cmd) == SR_CMD(SYSRING_IOC_INFO))
		return sr_info(uarg);
	if (_IOC_TYPE(cmd) != SYSRING_IOC_MAGIC)
		return -ENOTTY;
	/* A thread under seccomp may not run calls through the module nor
	 * start a ring; it may still wait on, wake, cancel in and destroy one
	 * (none of them runs a call for it, and the ring refuses every entry
	 * once a task of the process has a filter), so that a context it
	 * owns can be shut down. */
	switch (SR_CMD(cmd)) {
	case SR_CMD(SYSRING_IOC_BATCH):
	case SR_CMD(SYSRING_IOC_SYSLET):
	case SR_CMD(SYSRING_IOC_SETUP):
	case SR_CMD(SYSRING_IOC_WORKER):
	case SR_CMD(SYSRING_IOC_WORKER_IDLE):
		if (!sr_policy_ok())
			return -EPERM;
		break;
	}
	if (sr_nested())
		return -EDEADLK;
	get_file(file);

	switch (SR_CMD(cmd)) {
	case SR_CMD(SYSRING_IOC_BATCH):
		ret = sr_ioctl_batch(uarg);
		break;
	case SR_CMD(SYSRING_IOC_SYSLET):
		ret = sr_ioctl_syslet(uarg);
		break;
	case SR_CMD(SYSRING_IOC_SETUP):
		ret = sr_ring_setup(f, uarg);
		break;
	case SR_CMD(SYSRING_IOC_WORKER):
		ret = sr_ring_worker(f, NULL); /* no argument: ioctl(fd, cmd) is fine */
		break;
	case SR_CMD(SYSRING_IOC_WORKER_IDLE):
		ret = sr_ring_worker(f, uarg);
		break;
	case SR_CMD(SYSRING_IOC_WAIT):
		ret = sr_ring_wait(f, uarg);
		break;
	case SR_CMD(SYSRING_IOC_WAKE):
		ret = sr_ring_wake(f, arg);
		break;
	case SR_CMD(SYSRING_IOC_DESTROY):
		ret = sr_ring_destroy(f);
		break;
	case SR_CMD(SYSRING_IOC_CANCEL):
		ret = sr_ring_cancel(f, uarg);
		break;
	default:
		ret = -ENOTTY;
		break;
	}

	/* If a call closed the last fd of this file, the final fput is
	 * deferred to task work, which runs after we have returned. */
	fput(file);
	return ret;
}

static int sr_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (!sr_policy_ok())
		return -EPERM;
	return sr_ring_mmap(file->private_data, vma);
}

static int sr_open(struct inode *inode, struct file *file)
{
	struct sr_file *f = kzalloc(sizeof(*f), GFP_KERNEL_ACCOUNT);

	if (!f)
		return -ENOMEM;
	file->private_data = f;
	return 0;
}

static int sr_release(struct inode *inode, struct file *file)
{
	struct sr_file *f = file->private_data;

	/* No ioctl runs (each holds a file reference) and no mapping exists
	 * (each holds one too): nobody can touch the ring any more. */
	sr_ring_free(f->ring);
	kfree(f);
	return 0;
}

static const struct file_operations sr_fops = {
	.owner = THIS_MODULE,
	.open = sr_open,
	.release = sr_release,
	.unlocked_ioctl = sr_ioctl,
	.mmap = sr_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice sr_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "sysring",
	.fops = &sr_fops,
};

static int __init sr_init(void)
{
	int ret;

	if (mode & ~0777)
		return -EINVAL;
	ret = sr_exec_init();
	if (ret)
		return ret;
	ret = sr_ring_init();
	if (ret)
		return ret;
	sr_misc.mode = mode;
	ret = misc_register(&sr_misc);
	if (ret) {
		sr_ring_exit();
		return ret;
	}
	pr_info("sysring: /dev/sysring ready (uapi %u, mode %04o, %u calls)\n", SYSRING_UAPI_VERSION,
		mode, sr_nr_syscalls);
	return 0;
}

static void __exit sr_exit(void)
{
	misc_deregister(&sr_misc);
	sr_ring_exit();
	/* the RCU callbacks freeing the last rings (module code) */
	rcu_barrier();
}

module_init(sr_init);
module_exit(sr_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sysring: system calls in batches, syslets and in-kernel workers");
MODULE_AUTHOR("sysring");
