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
/// 20000-pupil school day spent 4–5 s of its 20 s of CPU clearing pages with huge pages,
/// 1.5 s without (BENCHMARKS.md, "Small pages").
fn small_pages_only() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and changes nothing but this
    // process's use of huge pages; a kernel without it returns an error, which is ignored.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
