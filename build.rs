//! Build script: link the `ehlo` binary with packed relative relocations where the platform
//! has them, and in release builds on x86_64 Linux with lld, with its hot functions packed
//! together; both make start-up cheaper and the resident set smaller.
//!
//! A position-independent Rust binary carries tens of thousands of relative relocations; as
//! classic RELA entries they are a table of about a megabyte that the dynamic loader reads at
//! every start. `-z pack-relative-relocs` (GNU ld 2.38+, lld; glibc 2.36+ understands the
//! resulting DT_RELR) packs them into a few kilobytes. GNU ld older than 2.38 ignores an
//! unknown `-z` keyword with a warning, so the flag is harmless there.
//!
//! Function ordering: `build/hot-functions.txt` lists the ~3000 functions a one-shot send runs
//! (made by `benches/hot-functions.sh` from callgrind runs). Handed to lld as
//! `--symbol-ordering-file`, it puts them next to each other at the start of `.text`, so a send
//! faults in a few hundred kilobytes of code instead of pages scattered over 7 MB. Names that no
//! longer exist (their hashes change with Cargo.lock and the compiler) are skipped without a
//! warning: a stale list only packs less. GNU ld does not know the option, so it is passed only
//! when a probe link with the same compiler, flags and linker shows the linker is lld (the
//! default of Rust 1.90+ for x86_64-unknown-linux-gnu: `cc -fuse-ld=lld` with the bundled
//! rust-lld); `EHLO_NO_SYMBOL_ORDERING` turns it off.
//!
//! Static unwinder: on Linux with glibc, Rust's standard library asks for `-lgcc_s`, the shared
//! libgcc, for its unwinder (panics, backtraces). Loading that one library costs every start a
//! file open, four mappings, its relocations and symbol lookups, and its constructor
//! (`__cpu_indicator_init`) executes ten `cpuid` instructions, each a trap to the hypervisor in a
//! virtual machine: about 0.14 ms of CPU per start, measured. The same unwinder is in libgcc's
//! static archive `libgcc_eh.a` (what `-static-libgcc` and Rust's own `crt-static` link), so the
//! script puts a `libgcc_s.a` into a directory searched first whose only content is a linker
//! script naming that archive: `-lgcc_s` then links the unwinder into the binary. Only when the
//! C compiler that links (`cc`, or Cargo's `RUSTC_LINKER`) names an existing `libgcc_eh.a`
//! (`-print-file-name`); otherwise the link is as before.
//!
//! The `--attach` media type table: `mime_guess`'s extensions with their first media types,
//! written into `OUT_DIR` as one string and an array of offsets, data without a pointer for the
//! loader to relocate at start (see `mime_table` below and src/cli/mode/mime_type.rs).

// `ehlo_build_script_alone` is set only by tests/cli/build_script.rs (see mime_table), never by
// Cargo, which would otherwise warn of a cfg it does not know.
#![allow(unexpected_cfgs)]

use std::path::Path;
use std::process::{Command, Stdio};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=EHLO_NO_PACKED_RELOCS");
    println!("cargo:rerun-if-env-changed=EHLO_NO_SYMBOL_ORDERING");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" && std::env::var_os("EHLO_NO_PACKED_RELOCS").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    mime_table();
    symbol_ordering();
    if os == "linux" && env == "gnu" {
        static_unwinder();
    }
}

/// Write `$OUT_DIR/mime_types.rs`, the table src/cli/mode/mime_type.rs types an `--attach` file
/// by: `mime_guess`'s first media type for every extension it knows, as one string of
/// `ext type` lines sorted by extension and a `u32` array of where each line starts. Neither
/// holds a pointer, so the loader relocates nothing in them (`mime_guess`'s own table of `&str`s
/// cost some 15 pages of `.data.rel.ro`, copied at every start); `mime_guess` itself is only a
/// build dependency, so its data stay the source, at the version Cargo.lock names.
#[cfg(not(ehlo_build_script_alone))]
fn mime_table() {
    let out_dir = std::env::var_os("OUT_DIR").expect("Cargo sets OUT_DIR for a build script");
    let mut exts: Vec<String> = mime_guess::get_extensions("*", "*")
        .expect("mime_guess's reverse mappings (its default rev-mappings feature)")
        .iter()
        .map(|e| e.to_ascii_lowercase())
        .collect();
    // Sorted as the lookup's `UniCase` compares: for ASCII, byte by byte without case.
    exts.sort();
    exts.dedup();
    let mut table = String::new();
    let mut starts = Vec::new();
    for ext in &exts {
        let media_type = mime_guess::from_ext(ext)
            .first_raw()
            .expect("every extension mime_guess lists has a type");
        assert!(
            ext.is_ascii()
                && !ext.is_empty()
                && !ext.contains([' ', '\n'])
                && !media_type.contains([' ', '\n']),
            "mime_guess's {ext:?} -> {media_type:?} does not fit the table's lines"
        );
        starts.push(u32::try_from(table.len()).expect("the table fits u32 offsets"));
        table.push_str(&format!("{ext} {media_type}\n"));
    }
    let code = format!(
        "/// `ext type` lines, sorted by extension (made by build.rs from mime_guess).\n\
         const MIME_TABLE: &str = {table:?};\n\
         /// Where each line of `MIME_TABLE` starts.\n\
         static MIME_LINES: [u32; {}] = {starts:?};\n",
        starts.len()
    );
    let path = Path::new(&out_dir).join("mime_types.rs");
    std::fs::write(&path, code).expect("write the media type table into OUT_DIR");
}

/// The build script compiled alone, by rustc without Cargo and so without `mime_guess`
/// (tests/cli/build_script.rs, which checks the function list): no media-type table.
#[cfg(ehlo_build_script_alone)]
fn mime_table() {}

/// Link libgcc's unwinder from `libgcc_eh.a` instead of loading `libgcc_s.so.1` at every start
/// (see the top of this file): a `libgcc_s.a` linker script in a search directory of our own,
/// which the linker finds before the system's `libgcc_s.so`.
fn static_unwinder() {
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        return;
    };
    let cc = std::env::var_os("RUSTC_LINKER").unwrap_or_else(|| "cc".into());
    let Ok(out) = Command::new(&cc)
        .arg("-print-file-name=libgcc_eh.a")
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    // A compiler that does not know the file prints the bare name back.
    let archive = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let archive = Path::new(&archive);
    if !out.status.success() || !archive.is_absolute() || !archive.is_file() {
        return;
    }
    let dir = Path::new(&out_dir).join("static-unwinder");
    let script = format!("INPUT(\"{}\")\n", archive.display());
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::write(dir.join("libgcc_s.a"), script).is_err()
    {
        return;
    }
    println!("cargo:rustc-link-search=native={}", dir.display());
}

/// Pass `build/hot-functions.txt` to lld for release builds of x86_64-unknown-linux-gnu.
fn symbol_ordering() {
    // A debug build (and `cargo test`) neither reads the list nor probes the linker, and nor
    // does a build told not to (benches/hot-functions.sh's, which rewrites the list).
    if std::env::var("PROFILE").as_deref() != Ok("release")
        || std::env::var_os("EHLO_NO_SYMBOL_ORDERING").is_some()
    {
        return;
    }
    // The checkout being built, as Cargo tells the script when it runs it: not `env!`, the one
    // it was compiled in. Cargo's fingerprint of a build script leaves the checkout's path out,
    // so a target directory copied or shared between checkouts runs a script compiled in
    // another one; with the path compiled in, it read that checkout's list, and once that
    // checkout was gone it linked without any ordering, saying nothing (a plain send's peak RSS
    // went from 4.5 to 7.5 MiB).
    let Some(root) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return;
    };
    let list = Path::new(&root).join("build/hot-functions.txt");
    println!("cargo:rerun-if-changed={}", list.display());
    let target = std::env::var("TARGET").unwrap_or_default();
    if target != "x86_64-unknown-linux-gnu" {
        return;
    }
    if !list.is_file() {
        println!(
            "cargo:warning=no {}: linking without the function ordering",
            list.display()
        );
        return;
    }
    if !links_with_lld(&target) {
        return;
    }
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
        list.display()
    );
    println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
}

/// Whether rustc links this target through `cc -fuse-ld=lld`: a probe link of an empty program
/// with the flags and linker Cargo gives the real build (RUSTFLAGS / CARGO_ENCODED_RUSTFLAGS,
/// `target.<triple>.linker` or CARGO_TARGET_<TRIPLE>_LINKER, which Cargo hands a build script as
/// RUSTC_LINKER), printing the linker's command line; the last `-fuse-ld=` on it wins. Any other
/// outcome (another linker or flavour, a failed probe) leaves the ordering off.
fn links_with_lld(target: &str) -> bool {
    let (Some(rustc), Some(out_dir)) = (std::env::var_os("RUSTC"), std::env::var_os("OUT_DIR"))
    else {
        return false;
    };
    let mut cmd = Command::new(rustc);
    if let Ok(flags) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        cmd.args(flags.split('\x1f').filter(|f| !f.is_empty()));
    }
    if let Some(linker) = std::env::var_os("RUSTC_LINKER") {
        cmd.arg("-C")
            .arg(format!("linker={}", linker.to_string_lossy()));
    }
    let probe = Path::new(&out_dir).join("linker-probe");
    cmd.args([
        "--target",
        target,
        "--crate-type",
        "bin",
        "--crate-name",
        "linker_probe",
    ])
    .args(["--print", "link-args", "-o"])
    .arg(&probe)
    .arg("-")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let Ok(mut child) = cmd.spawn() else {
        return false;
    };
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = stdin.write_all(b"fn main() {}\n");
    }
    let Ok(out) = child.wait_with_output() else {
        return false;
    };
    let _ = std::fs::remove_file(&probe);
    let line = String::from_utf8_lossy(&out.stdout);
    out.status.success()
        && line
            .split_whitespace()
            .rev()
            .find_map(|a| a.trim_matches('"').strip_prefix("-fuse-ld="))
            == Some("lld")
}
