//! What a sandboxed child does between `fork` and `exec`.
//!
//! Everything here runs in `pre_exec`, where only async-signal-safe calls are allowed: no
//! allocation, no locks. The parent prepares a [`Program`] (every path already a C string), and
//! the child only makes system calls with it: namespaces, mounts, loopback up, resource limits,
//! the unprivileged user, and the parent-death signal again (a change of user clears it).

use std::ffi::CString;
use std::io;

/// Open file descriptors a program may hold at once (paths kept visible under a hidden one).
pub const MAX_SLOTS: usize = 16;

/// One step of the mount plan, in order.
#[derive(Debug, Clone)]
pub enum MountStep {
    /// An overlay on `target` (usually over its own lower directory).
    Overlay { target: CString, options: CString },
    /// Remembers a directory by descriptor, before something is mounted over it.
    Open { slot: usize, path: CString },
    /// A fresh tmpfs on `target`.
    Tmpfs { target: CString, options: CString },
    /// Creates a directory (inside a tmpfs); one that exists is fine.
    Mkdir { path: CString },
    /// Binds the directory remembered in `slot` at `target`, read-only if asked.
    BindSlot {
        slot: usize,
        target: CString,
        readonly: bool,
    },
}

/// Whose processes the child's become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Stay who we are (no namespaces needing privilege are asked for, or they are not).
    Same,
    /// Running as root: set up as root, then become `uid`/`gid` (an unprivileged user).
    Switch { uid: u32, gid: u32 },
    /// Not root: a user namespace gives the privilege to set up, mapping us to ourselves; every
    /// capability is dropped before `exec`.
    UserNamespace { uid: u32, gid: u32 },
}

/// A resource limit: `(resource, soft, hard)`.
pub type Rlimit = (libc::__rlimit_resource_t, u64, u64);

/// Everything the child does, prepared by the parent.
#[derive(Debug, Clone)]
pub struct Program {
    pub identity: Identity,
    /// A network namespace of its own, with only the loopback interface, up.
    pub net: bool,
    /// A mount namespace of its own, set up with these steps (none: no mount namespace).
    pub mounts: Vec<MountStep>,
    pub rlimits: Vec<Rlimit>,
    /// The working directory, entered after the mounts (so that it is the mounted view).
    pub chdir: Option<CString>,
    /// `uid_map`, `setgroups` and `gid_map` contents for [`Identity::UserNamespace`].
    pub id_maps: Option<(CString, CString)>,
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl Program {
    /// Runs in the child after `fork`. Only system calls, on data prepared by the parent.
    pub fn run(&self) -> io::Result<()> {
        // SAFETY: every call below is a plain system call on pointers to data owned by `self`
        // (alive for the whole call) or on the stack; none allocates or takes a lock.
        unsafe {
            let mut flags = 0;
            if self.net {
                flags |= libc::CLONE_NEWNET;
            }
            if !self.mounts.is_empty() {
                flags |= libc::CLONE_NEWNS;
            }
            if let Identity::UserNamespace { .. } = self.identity {
                if flags != 0 {
                    flags |= libc::CLONE_NEWUSER;
                }
            }
            if flags != 0 {
                check(libc::unshare(flags))?;
            }
            if flags & libc::CLONE_NEWUSER != 0 {
                if let Some((uid_map, gid_map)) = &self.id_maps {
                    write_file(c"/proc/self/uid_map", uid_map.as_bytes())?;
                    write_file(c"/proc/self/setgroups", b"deny")?;
                    write_file(c"/proc/self/gid_map", gid_map.as_bytes())?;
                }
            }
            if self.net {
                loopback_up()?;
            }
            if !self.mounts.is_empty() {
                // Nothing mounted here may propagate back to the grader's namespace.
                check(libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ))?;
                self.mount_all()?;
            }
            if let Some(dir) = &self.chdir {
                check(libc::chdir(dir.as_ptr()))?;
            }
            for &(resource, soft, hard) in &self.rlimits {
                let limit = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                check(libc::setrlimit(resource, &limit))?;
            }
            // No setuid program (su, sudo, ping) may give the submission privileges back.
            check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
            match self.identity {
                Identity::Same => {}
                Identity::Switch { uid, gid } => {
                    check(libc::setgroups(1, &gid))?;
                    check(libc::setresgid(gid, gid, gid))?;
                    check(libc::setresuid(uid, uid, uid))?;
                }
                Identity::UserNamespace { .. } => {
                    if flags & libc::CLONE_NEWUSER != 0 {
                        drop_capabilities()?;
                    }
                }
            }
        }
        // A change of credentials clears the parent-death signal: ask again.
        crate::procs::die_with_parent()
    }

    unsafe fn mount_all(&self) -> io::Result<()> {
        let mut slots = [-1 as libc::c_int; MAX_SLOTS];
        let result = self.mount_steps(&mut slots);
        for fd in slots {
            if fd >= 0 {
                libc::close(fd);
            }
        }
        result
    }

    unsafe fn mount_steps(&self, slots: &mut [libc::c_int; MAX_SLOTS]) -> io::Result<()> {
        for step in &self.mounts {
            match step {
                MountStep::Overlay { target, options } => check(libc::mount(
                    c"overlay".as_ptr(),
                    target.as_ptr(),
                    c"overlay".as_ptr(),
                    0,
                    options.as_ptr().cast(),
                ))?,
                MountStep::Open { slot, path } => {
                    let fd = libc::open(
                        path.as_ptr(),
                        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
                    );
                    check(fd)?;
                    slots[*slot] = fd;
                }
                MountStep::Tmpfs { target, options } => check(libc::mount(
                    c"tmpfs".as_ptr(),
                    target.as_ptr(),
                    c"tmpfs".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV,
                    options.as_ptr().cast(),
                ))?,
                MountStep::Mkdir { path } => {
                    if libc::mkdir(path.as_ptr(), 0o755) < 0 {
                        let e = io::Error::last_os_error();
                        if e.raw_os_error() != Some(libc::EEXIST) {
                            return Err(e);
                        }
                    }
                }
                MountStep::BindSlot {
                    slot,
                    target,
                    readonly,
                } => {
                    let mut buffer = [0u8; 32];
                    let source = fd_path(slots[*slot], &mut buffer);
                    check(libc::mount(
                        source,
                        target.as_ptr(),
                        std::ptr::null(),
                        libc::MS_BIND | libc::MS_REC,
                        std::ptr::null(),
                    ))?;
                    if *readonly {
                        check(libc::mount(
                            std::ptr::null(),
                            target.as_ptr(),
                            std::ptr::null(),
                            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
                            std::ptr::null(),
                        ))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// `/proc/self/fd/<fd>` written into `buffer` (NUL-terminated), without allocating.
fn fd_path(fd: libc::c_int, buffer: &mut [u8; 32]) -> *const libc::c_char {
    let prefix = b"/proc/self/fd/";
    buffer[..prefix.len()].copy_from_slice(prefix);
    let mut digits = [0u8; 10];
    let mut n = fd.max(0) as u32;
    let mut count = 0;
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..count {
        buffer[prefix.len() + i] = digits[count - 1 - i];
    }
    buffer[prefix.len() + count] = 0;
    buffer.as_ptr().cast()
}

unsafe fn write_file(path: &std::ffi::CStr, bytes: &[u8]) -> io::Result<()> {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    check(fd)?;
    let written = libc::write(fd, bytes.as_ptr().cast(), bytes.len());
    libc::close(fd);
    if written != bytes.len() as isize {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Brings `lo` up in the new network namespace (it starts down): MPI on one node talks over
/// shared memory and loopback.
unsafe fn loopback_up() -> io::Result<()> {
    let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
    check(fd)?;
    let mut request: libc::ifreq = std::mem::zeroed();
    request.ifr_name[0] = b'l' as libc::c_char;
    request.ifr_name[1] = b'o' as libc::c_char;
    let mut result = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request);
    if result == 0 {
        request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        result = libc::ioctl(fd, libc::SIOCSIFFLAGS, &request);
    }
    let error = io::Error::last_os_error();
    libc::close(fd);
    if result < 0 {
        return Err(error);
    }
    Ok(())
}

/// Drops every capability the user namespace gave (effective, permitted, inheritable).
unsafe fn drop_capabilities() -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    if libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_paths_are_written_without_allocating() {
        let mut buffer = [0u8; 32];
        let p = fd_path(123, &mut buffer);
        // SAFETY: fd_path NUL-terminates the buffer it returns.
        let s = unsafe { std::ffi::CStr::from_ptr(p) };
        assert_eq!(s.to_str().unwrap(), "/proc/self/fd/123");
        let p = fd_path(0, &mut buffer);
        let s = unsafe { std::ffi::CStr::from_ptr(p) };
        assert_eq!(s.to_str().unwrap(), "/proc/self/fd/0");
    }
}
