// Many small allocations on every core (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    small_pages_only();
    diary::cli::main()
}

/// Memory in pages of 4 KB, not transparent huge pages of 2 MB. mimalloc asks for huge
/// pages where the system allows them on request (`madvise`, the common default), and each
/// first touch of one then has the kernel clear 2 MB. A build allocates in bursts and frees
/// between its steps; on a virtual machine that hands freed memory back to its host, a
/// 20000-pupil school day spent 3.1–5.3 s of system time clearing pages with huge pages,
/// 1.5–1.8 s without (BENCHMARKS.md, "Small pages"). The programs diary runs (git, rsync,
/// Chromium) inherit the setting.
fn small_pages_only() {
    #[cfg(target_os = "linux")]
    {
        // prctl reads its arguments as unsigned longs.
        let (on, unused): (libc::c_ulong, libc::c_ulong) = (1, 0);
        // SAFETY: PR_SET_THP_DISABLE takes integers only and changes nothing but the use of
        // huge pages by this process and the ones it starts; a kernel without it returns an
        // error, which is ignored.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, on, unused, unused, unused);
        }
    }
}
