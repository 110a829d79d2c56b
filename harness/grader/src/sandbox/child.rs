//! What a sandboxed child does between `fork` and `exec`.
//!
//! Everything here runs in `pre_exec`, where only async-signal-safe calls are allowed: no
//! allocation, no locks. The parent prepares a [`Program`] (every path already a C string), and
//! the child only makes system calls with it: namespaces, mounts, loopback up, resource limits,
//! the unprivileged user, and the parent-death signal again (a change of user clears it).

use std::ffi::CString;
use std::io;
use std::sync::atomic::{AtomicI32, Ordering};

/// Paths a program may bind at most (each is opened, as the grader's user, before anything
/// else: a user namespace entered as another user could not walk to a path only root may).
pub const MAX_SLOTS: usize = 64;

/// One step of the mount plan, in order.
#[derive(Debug, Clone)]
pub enum MountStep {
    /// An overlay on `target` (usually over its own lower directory).
    Overlay {
        /// Where the overlay is mounted.
        target: CString,
        /// The overlay's mount data (`lowerdir=...,upperdir=...,workdir=...`).
        options: CString,
    },
    /// A fresh tmpfs on `target`.
    Tmpfs {
        /// Where the tmpfs is mounted.
        target: CString,
        /// The tmpfs's mount data (size, mode).
        options: CString,
    },
    /// Creates a directory (inside a tmpfs); one that exists is fine.
    Mkdir {
        /// The directory to create.
        path: CString,
    },
    /// Creates an empty file (a mount point for a file), if it does not exist.
    Touch {
        /// The file to create.
        path: CString,
    },
    /// A symbolic link at `path` pointing to `target`.
    Symlink {
        /// What the link points to.
        target: CString,
        /// Where the link is created.
        path: CString,
    },
    /// Binds `source` (a path of the host) at `target`, with what is mounted below it if
    /// `recursive`, read-only if asked (keeping the flags the source's mount has locked).
    Bind {
        /// The host path (opened beforehand).
        source: CString,
        /// Where it is seen in the new root.
        target: CString,
        /// Whether the bind is remounted read-only.
        readonly: bool,
        /// Whether the mounts below `source` are bound too.
        recursive: bool,
    },
    /// Binds `source`, a path already inside the new root (not opened beforehand), at `target`.
    BindPath {
        /// The path inside the new root that is bound.
        source: CString,
        /// Where it is seen.
        target: CString,
    },
    /// Sets the mode of `path` (the umask does not apply).
    Chmod {
        /// The file or directory.
        path: CString,
        /// Its new mode (permission bits).
        mode: libc::mode_t,
    },
    /// Detaches the mount at `target` (what was bound from it stays).
    Detach {
        /// The mount point detached.
        target: CString,
    },
    /// Removes the empty directory `path`.
    Rmdir {
        /// The directory removed.
        path: CString,
    },
    /// A fresh `/proc` of the new PID namespace, read-only, at `target`.
    Proc {
        /// Where `/proc` is mounted.
        target: CString,
    },
    /// Remounts the tmpfs at `target` read-only (once everything is mounted in it).
    ReadOnly {
        /// The tmpfs remounted.
        target: CString,
    },
    /// Makes `new_root` the root (pivot_root) and forgets the old one.
    PivotRoot {
        /// The directory that becomes `/`.
        new_root: CString,
    },
}

/// Whose processes the child's become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Stay who we are (no namespaces needing privilege are asked for, or they are not).
    Same,
    /// Running as root: set up as root, then become `uid`/`gid` (an unprivileged user).
    Switch {
        /// The user become.
        uid: u32,
        /// The group become.
        gid: u32,
    },
    /// Not root: a user namespace gives the privilege to set up, mapping us to ourselves; every
    /// capability is dropped before `exec`.
    UserNamespace {
        /// Our own user id, mapped to itself.
        uid: u32,
        /// Our own group id, mapped to itself.
        gid: u32,
    },
    /// Root without the privilege to set up (no `CAP_SYS_ADMIN`, as in a default container):
    /// become `uid`/`gid` first, then a user namespace mapping that user to itself, as for
    /// [`Identity::UserNamespace`].
    SwitchThenUserNamespace {
        /// The user become, then mapped to itself.
        uid: u32,
        /// The group become, then mapped to itself.
        gid: u32,
    },
}

/// A resource limit: `(resource, soft, hard)`.
pub type Rlimit = (libc::__rlimit_resource_t, u64, u64);

/// Everything the child does, prepared by the parent.
#[derive(Debug, Clone)]
pub struct Program {
    /// Whose processes the program's become.
    pub identity: Identity,
    /// A network namespace of its own, with only the loopback interface, up.
    pub net: bool,
    /// A PID namespace of its own, whose init is a process of ours: everything in it dies when
    /// the program (its only child) ends.
    pub pid: bool,
    /// A mount namespace of its own, set up with these steps (none: no mount namespace).
    pub mounts: Vec<MountStep>,
    /// Resource limits set before `exec` (as `setrlimit` takes them).
    pub rlimits: Vec<Rlimit>,
    /// The working directory, entered after the mounts (so that it is the mounted view).
    pub chdir: Option<CString>,
    /// `uid_map`, `setgroups` and `gid_map` contents for the user namespaces.
    pub id_maps: Option<(CString, CString)>,
    /// `cgroup.procs` files the program joins before anything else (the grade's cgroups).
    pub cgroups: Vec<CString>,
    /// The grader's command line in memory (`arg_start`, `arg_end` of `/proc/self/stat`): the
    /// namespace's init, a copy of the grader, blanks it so that `/proc/1/cmdline` shows nothing.
    pub argv_area: Option<(usize, usize)>,
}

fn check(result: libc::c_int) -> io::Result<()> {
    if result < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The process the signals a supervisor receives are passed on to.
static FORWARD_TO: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: libc::c_int) {
    let pid = FORWARD_TO.load(Ordering::Relaxed);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// Signals a supervisor passes on (the grader's stop, a terminal's).
const FORWARDED: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

unsafe fn forward_signals_to(pid: libc::pid_t) {
    // Handlers the grader installed (a SIGCHLD handler writing to a descriptor closed here)
    // must not run in a process that never `exec`s.
    for signal in 1..libc::SIGRTMAX() {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            libc::signal(signal, libc::SIG_DFL);
        }
    }
    FORWARD_TO.store(pid, Ordering::Relaxed);
    for signal in FORWARDED {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = forward as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// `fork` as a plain system call: the C library's runs its fork handlers, which a child of a
/// multi-threaded process (where another thread may have held a lock) must not.
unsafe fn raw_fork() -> libc::pid_t {
    libc::syscall(
        libc::SYS_clone,
        libc::SIGCHLD as libc::c_ulong,
        0usize,
        0usize,
        0usize,
        0usize,
    ) as libc::pid_t
}

/// Closes every descriptor but `keep`.
unsafe fn close_all_but(keep: libc::c_int) {
    if keep > 0 {
        libc::syscall(libc::SYS_close_range, 0u32, (keep - 1) as u32, 0u32);
    }
    libc::syscall(libc::SYS_close_range, (keep + 1) as u32, u32::MAX, 0u32);
}

/// Waits for `pid` (retrying when interrupted by a forwarded signal).
unsafe fn wait_for(pid: libc::pid_t) -> Option<libc::c_int> {
    loop {
        let mut status = 0;
        let r = libc::waitpid(pid, &mut status, 0);
        if r == pid {
            return Some(status);
        }
        if r < 0 && *libc::__errno_location() != libc::EINTR {
            return None;
        }
    }
}

/// Ends this process the way a child with wait status `status` ended.
unsafe fn end_like(status: libc::c_int) -> ! {
    if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::kill(libc::getpid(), signal);
        libc::_exit(128 + signal);
    }
    libc::_exit(if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        1
    })
}

/// The supervisor, outside the PID namespace (the process the grader started and waits for):
/// passes signals on to the namespace's init, then ends the way the program ended.
unsafe fn supervise(init: libc::pid_t, status_pipe: libc::c_int) -> ! {
    close_all_but(status_pipe);
    forward_signals_to(init);
    let mut status: libc::c_int = 0;
    let mut got = 0usize;
    while got < 4 {
        let r = libc::read(
            status_pipe,
            (&mut status as *mut libc::c_int)
                .cast::<u8>()
                .add(got)
                .cast(),
            4 - got,
        );
        if r > 0 {
            got += r as usize;
        } else if r == 0 || *libc::__errno_location() != libc::EINTR {
            break;
        }
    }
    let init_status = wait_for(init).unwrap_or(libc::SIGKILL);
    if got == 4 {
        end_like(status)
    }
    // The init died without telling (killed): so did the program.
    end_like(init_status)
}

/// The namespace's init: reaps every orphan, passes signals on to the program, and when the
/// program ends, writes its status for the supervisor and exits, which kills whatever is left
/// in the namespace.
unsafe fn init(program: libc::pid_t, status_pipe: libc::c_int) -> ! {
    close_all_but(status_pipe);
    forward_signals_to(program);
    let mut status: libc::c_int = libc::SIGKILL;
    loop {
        let mut s = 0;
        let r = libc::waitpid(-1, &mut s, 0);
        if r == program {
            status = s;
            break;
        }
        if r < 0 && *libc::__errno_location() != libc::EINTR {
            break;
        }
    }
    libc::write(status_pipe, (&status as *const libc::c_int).cast(), 4);
    libc::_exit(0)
}

impl Program {
    /// Runs in the child after `fork`. Only system calls, on data prepared by the parent.
    pub fn run(&self) -> io::Result<()> {
        // SAFETY: every call below is a plain system call on pointers to data owned by `self`
        // (alive for the whole call) or on the stack; none allocates or takes a lock.
        unsafe {
            for procs in &self.cgroups {
                write_file(procs, b"0")?;
            }
            let (flags, user_ns) = self.unshare_flags();
            // Root without CAP_SYS_ADMIN: a helper left outside (root, with CAP_SETUID there)
            // maps root and the sandbox user into the new user namespace.
            let mut mapper = None;
            if let (true, Identity::SwitchThenUserNamespace { .. }) = (user_ns, self.identity) {
                mapper = Some(self.start_mapper()?);
            }
            if flags != 0 {
                check(libc::unshare(flags))?;
            }
            self.map_ids(mapper, user_ns)?;
            if user_ns {
                // Entering a user namespace clears the parent-death signal.
                crate::run::procs::die_with_parent()?;
            }
            // The sources of the binds, opened in the new mount namespace before any change of
            // user.
            let mut slots = [-1 as libc::c_int; MAX_SLOTS];
            if !self.mounts.is_empty() {
                self.open_sources(&mut slots)?;
            }
            if self.pid {
                // This process stays outside, as the supervisor; its child is the namespace's
                // init, whose child is the program.
                let mut status_pipe = [-1; 2];
                check(libc::pipe2(status_pipe.as_mut_ptr(), libc::O_CLOEXEC))?;
                let init_pid = raw_fork();
                check(init_pid)?;
                if init_pid > 0 {
                    libc::close(status_pipe[1]);
                    supervise(init_pid, status_pipe[0]);
                }
                libc::close(status_pipe[0]);
                // The init: dies with the supervisor; nothing of it may be read by the program.
                check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0))?;
                check(libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0))?;
                if let Some((start, end)) = self.argv_area {
                    if end > start {
                        std::ptr::write_bytes(start as *mut u8, 0, end - start);
                    }
                }
                self.set_up_namespaces(&slots)?;
                let program = raw_fork();
                check(program)?;
                if program > 0 {
                    init(program, status_pipe[1]);
                }
                libc::close(status_pipe[1]);
                check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0))?;
            } else {
                self.set_up_namespaces(&slots)?;
            }
            self.drop_privileges(flags & libc::CLONE_NEWUSER != 0)?;
        }
        // A change of credentials clears the parent-death signal: ask again.
        if self.pid {
            // SAFETY: prctl is async-signal-safe. The parent (the init) is outside what
            // getppid can see from here, so there is nothing to compare.
            unsafe {
                check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0))?;
            }
            Ok(())
        } else {
            crate::run::procs::die_with_parent()
        }
    }

    /// The namespaces to unshare (`CLONE_NEW*` flags), and whether a user namespace is among
    /// them (only when the identity asks for one and there is any other namespace).
    fn unshare_flags(&self) -> (libc::c_int, bool) {
        let mut flags = 0;
        if self.net {
            flags |= libc::CLONE_NEWNET;
        }
        if !self.mounts.is_empty() {
            flags |= libc::CLONE_NEWNS;
        }
        if self.pid {
            flags |= libc::CLONE_NEWPID;
        }
        let user_ns = matches!(
            self.identity,
            Identity::UserNamespace { .. } | Identity::SwitchThenUserNamespace { .. }
        ) && flags != 0;
        if user_ns {
            flags |= libc::CLONE_NEWUSER;
        }
        (flags, user_ns)
    }

    /// Once the namespaces are unshared: lets the `mapper` (from [`Program::start_mapper`])
    /// write the maps and waits for it, or, in a user namespace without one, writes
    /// [`Program::id_maps`] itself.
    unsafe fn map_ids(
        &self,
        mapper: Option<(libc::pid_t, libc::c_int)>,
        user_ns: bool,
    ) -> io::Result<()> {
        if let Some((helper, go)) = mapper {
            libc::write(go, b"1".as_ptr().cast(), 1);
            libc::close(go);
            let status = wait_for(helper).unwrap_or(1);
            if status != 0 {
                return Err(io::Error::other("cannot map the sandbox user"));
            }
        } else if user_ns {
            if let Some((uid_map, gid_map)) = &self.id_maps {
                write_file(c"/proc/self/uid_map", uid_map.as_bytes())?;
                write_file(c"/proc/self/setgroups", b"deny")?;
                write_file(c"/proc/self/gid_map", gid_map.as_bytes())?;
            }
        }
        Ok(())
    }

    /// Loopback, mounts and the working directory (in the init, so that the program and the
    /// init see the same root).
    unsafe fn set_up_namespaces(&self, slots: &[libc::c_int; MAX_SLOTS]) -> io::Result<()> {
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
            self.mount_all(slots)?;
        }
        if let Some(dir) = &self.chdir {
            check(libc::chdir(dir.as_ptr()))?;
        }
        Ok(())
    }

    /// Limits, no new privileges, the unprivileged user or no capabilities.
    unsafe fn drop_privileges(&self, in_user_ns: bool) -> io::Result<()> {
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
            Identity::SwitchThenUserNamespace { uid, gid } => {
                if in_user_ns {
                    check(libc::setgroups(1, &gid))?;
                    check(libc::setresgid(gid, gid, gid))?;
                    check(libc::setresuid(uid, uid, uid))?;
                    drop_capabilities()?;
                } else {
                    return Err(io::Error::other("no user namespace to switch in"));
                }
            }
            Identity::UserNamespace { .. } => {
                if in_user_ns {
                    drop_capabilities()?;
                }
            }
        }
        Ok(())
    }

    /// Forks the helper that writes this process's uid and gid maps once it has entered its
    /// user namespace (root and the sandbox user, each to itself). Returns the helper and the
    /// descriptor to write one byte to when the namespace exists.
    unsafe fn start_mapper(&self) -> io::Result<(libc::pid_t, libc::c_int)> {
        let Identity::SwitchThenUserNamespace { uid, gid } = self.identity else {
            return Err(io::Error::other("no user to map"));
        };
        let mut go = [-1; 2];
        check(libc::pipe2(go.as_mut_ptr(), libc::O_CLOEXEC))?;
        let parent = libc::getpid();
        let helper = raw_fork();
        check(helper)?;
        if helper > 0 {
            libc::close(go[0]);
            return Ok((helper, go[1]));
        }
        libc::close(go[1]);
        let mut byte = 0u8;
        while libc::read(go[0], (&mut byte as *mut u8).cast(), 1) < 0 {}
        let mut path = [0u8; 64];
        let mut map = [0u8; 64];
        let ok = write_map(parent, b"uid_map", 0, uid, &mut path, &mut map)
            && write_map(parent, b"gid_map", 0, gid, &mut path, &mut map);
        libc::_exit(if ok { 0 } else { 1 })
    }

    /// Opens the source of every bind (as the grader's user, before any change of user).
    unsafe fn open_sources(&self, slots: &mut [libc::c_int; MAX_SLOTS]) -> io::Result<()> {
        let mut next = 0;
        for step in &self.mounts {
            if let MountStep::Bind { source, .. } = step {
                if next >= MAX_SLOTS {
                    return Err(io::Error::other("too many paths to bind"));
                }
                // What an overlay is mounted on is bound once mounted: by path, then.
                let overlaid = self.mounts.iter().any(|m| {
                    matches!(m, MountStep::Overlay { target, .. } if target.as_bytes() == source.as_bytes())
                });
                if !overlaid {
                    let fd = libc::open(source.as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
                    check(fd)?;
                    slots[next] = fd;
                }
                next += 1;
            }
        }
        Ok(())
    }

    unsafe fn mount_all(&self, slots: &[libc::c_int; MAX_SLOTS]) -> io::Result<()> {
        let result = self.mount_steps(slots);
        for &fd in slots {
            if fd >= 0 {
                libc::close(fd);
            }
        }
        result
    }

    unsafe fn mount_steps(&self, slots: &[libc::c_int; MAX_SLOTS]) -> io::Result<()> {
        let mut next_slot = 0;
        for step in &self.mounts {
            match step {
                MountStep::Overlay { target, options } => check(libc::mount(
                    c"overlay".as_ptr(),
                    target.as_ptr(),
                    c"overlay".as_ptr(),
                    0,
                    options.as_ptr().cast(),
                ))?,
                MountStep::Tmpfs { target, options } => check(libc::mount(
                    c"tmpfs".as_ptr(),
                    target.as_ptr(),
                    c"tmpfs".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV,
                    options.as_ptr().cast(),
                ))?,
                MountStep::Mkdir { path } => make_dir(path)?,
                MountStep::Touch { path } => touch(path)?,
                MountStep::Symlink { target, path } => {
                    check(libc::symlink(target.as_ptr(), path.as_ptr()))?
                }
                MountStep::Bind {
                    source,
                    target,
                    readonly,
                    recursive,
                } => {
                    // The source, opened at the start (see `open_sources`), or by path.
                    let mut buffer = [0u8; 32];
                    let fd = slots[next_slot];
                    next_slot += 1;
                    let source = if fd >= 0 {
                        fd_path(fd, &mut buffer)
                    } else {
                        source.as_ptr()
                    };
                    bind(source, target, *readonly, *recursive)?;
                }
                MountStep::BindPath { source, target } => {
                    bind(source.as_ptr(), target, false, false)?
                }
                MountStep::Chmod { path, mode } => check(libc::chmod(path.as_ptr(), *mode))?,
                MountStep::Detach { target } => {
                    check(libc::umount2(target.as_ptr(), libc::MNT_DETACH))?
                }
                MountStep::Rmdir { path } => check(libc::rmdir(path.as_ptr()))?,
                MountStep::Proc { target } => check(libc::mount(
                    c"proc".as_ptr(),
                    target.as_ptr(),
                    c"proc".as_ptr(),
                    libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC | libc::MS_RDONLY,
                    std::ptr::null(),
                ))?,
                MountStep::ReadOnly { target } => check(libc::mount(
                    std::ptr::null(),
                    target.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REMOUNT | libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV,
                    std::ptr::null(),
                ))?,
                MountStep::PivotRoot { new_root } => pivot_root(new_root)?,
            }
        }
        Ok(())
    }
}

/// Creates the directory `path` (mode 0755); one that exists already is fine.
unsafe fn make_dir(path: &CString) -> io::Result<()> {
    if libc::mkdir(path.as_ptr(), 0o755) < 0 {
        let e = io::Error::last_os_error();
        // On a read-only mount, an existing directory may say EROFS.
        let mut st: libc::stat = std::mem::zeroed();
        let exists =
            libc::stat(path.as_ptr(), &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFDIR;
        if !exists {
            return Err(e);
        }
    }
    Ok(())
}

/// Creates the empty file `path` (mode 0644) if it does not exist.
unsafe fn touch(path: &CString) -> io::Result<()> {
    let fd = libc::open(
        path.as_ptr(),
        libc::O_WRONLY | libc::O_CREAT | libc::O_CLOEXEC,
        0o644,
    );
    check(fd)?;
    libc::close(fd);
    Ok(())
}

/// Makes `new_root` the root and detaches the old one (stacked on it by `pivot_root(".", ".")`).
unsafe fn pivot_root(new_root: &CString) -> io::Result<()> {
    check(libc::chdir(new_root.as_ptr()))?;
    check(libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) as libc::c_int)?;
    check(libc::umount2(c".".as_ptr(), libc::MNT_DETACH))?;
    check(libc::chdir(c"/".as_ptr()))?;
    Ok(())
}

/// Binds `source` at `target`; read-only if asked, keeping the flags the kernel will not let a
/// user namespace clear (nosuid, nodev, noexec of the source's mount).
unsafe fn bind(
    source: *const libc::c_char,
    target: &CString,
    readonly: bool,
    recursive: bool,
) -> io::Result<()> {
    let mut flags = libc::MS_BIND;
    if recursive {
        flags |= libc::MS_REC;
    }
    check(libc::mount(
        source,
        target.as_ptr(),
        std::ptr::null(),
        flags,
        std::ptr::null(),
    ))?;
    if readonly {
        let mut st: libc::statvfs = std::mem::zeroed();
        check(libc::statvfs(target.as_ptr(), &mut st))?;
        let mut keep = libc::MS_NOSUID;
        for (st_flag, ms_flag) in [
            (libc::ST_NODEV, libc::MS_NODEV),
            (libc::ST_NOEXEC, libc::MS_NOEXEC),
            (libc::ST_NOATIME, libc::MS_NOATIME),
            (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
            (libc::ST_RELATIME, libc::MS_RELATIME),
        ] {
            if st.f_flag & st_flag != 0 {
                keep |= ms_flag;
            }
        }
        check(libc::mount(
            std::ptr::null(),
            target.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | keep,
            std::ptr::null(),
        ))?;
    }
    Ok(())
}

/// Appends the decimal digits of `n` to `buffer` at `at`; returns the new end.
fn put_number(buffer: &mut [u8], at: usize, mut n: u32) -> usize {
    let mut digits = [0u8; 10];
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
        buffer[at + i] = digits[count - 1 - i];
    }
    at + count
}

/// Writes `/proc/<pid>/<file>` with `0 0 1` and `<id> <id> 1`, without allocating.
unsafe fn write_map(
    pid: libc::pid_t,
    file: &[u8],
    root: u32,
    id: u32,
    path: &mut [u8; 64],
    map: &mut [u8; 64],
) -> bool {
    let prefix = b"/proc/";
    path[..prefix.len()].copy_from_slice(prefix);
    let mut n = put_number(path, prefix.len(), pid as u32);
    path[n] = b'/';
    n += 1;
    path[n..n + file.len()].copy_from_slice(file);
    n += file.len();
    path[n] = 0;
    let mut m = put_number(map, 0, root);
    map[m] = b' ';
    m = put_number(map, m + 1, root);
    map[m..m + 3].copy_from_slice(b" 1\n");
    m += 3;
    m = put_number(map, m, id);
    map[m] = b' ';
    m = put_number(map, m + 1, id);
    map[m..m + 3].copy_from_slice(b" 1\n");
    m += 3;
    let fd = libc::open(path.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC);
    if fd < 0 {
        return false;
    }
    let written = libc::write(fd, map.as_ptr().cast(), m);
    libc::close(fd);
    written == m as isize
}

/// `/proc/self/fd/<fd>` written into `buffer` (NUL-terminated), without allocating.
fn fd_path(fd: libc::c_int, buffer: &mut [u8; 32]) -> *const libc::c_char {
    let prefix = b"/proc/self/fd/";
    buffer[..prefix.len()].copy_from_slice(prefix);
    let end = put_number(buffer, prefix.len(), fd.max(0) as u32);
    buffer[end] = 0;
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
