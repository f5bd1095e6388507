//! The build script (`build.rs`) run the way Cargo runs it, outside Cargo: which function list a
//! release link is given, whichever checkout the script binary was compiled in.

use std::path::Path;
use std::process::Command;

/// Compile build.rs with `compiled_in` as CARGO_MANIFEST_DIR, as Cargo compiled it in another
/// checkout, into `dir/build-script`.
fn compile_build_script(dir: &Path, compiled_in: &Path) -> std::path::PathBuf {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let bin = dir.join("build-script");
    let out = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "bin",
            "--crate-name",
            "build_script",
            // Without Cargo there is no `mime_guess` to build the media-type table with.
            "--cfg",
            "ehlo_build_script_alone",
        ])
        .arg(Path::new(&root).join("build.rs"))
        .arg("-o")
        .arg(&bin)
        .env("CARGO_MANIFEST_DIR", compiled_in)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

/// Run the script as Cargo runs it for a release build of x86_64-unknown-linux-gnu from the
/// checkout `root`, with the default linker; its stdout.
fn run_build_script(bin: &Path, root: &Path, out_dir: &Path) -> String {
    std::fs::create_dir_all(out_dir).unwrap();
    let out = Command::new(bin)
        .env("CARGO_MANIFEST_DIR", root)
        .env("PROFILE", "release")
        .env("TARGET", "x86_64-unknown-linux-gnu")
        .env("CARGO_CFG_TARGET_OS", "linux")
        .env("CARGO_CFG_TARGET_ENV", "gnu")
        .env("OUT_DIR", out_dir)
        .env(
            "RUSTC",
            std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()),
        )
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTC_LINKER")
        .env_remove("EHLO_NO_SYMBOL_ORDERING")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A target directory copied or shared between checkouts runs a build script compiled in
/// another one (Cargo's fingerprint leaves the checkout's path out). The list must be the
/// checkout's being built: with the path compiled in, the script looked in the old checkout,
/// and once that was gone it linked without any ordering, silently (peak RSS of a plain send
/// 4.5 → 7.5 MiB). The default linker of this target is lld (Rust 1.90+).
#[cfg(all(target_os = "linux", target_env = "gnu", target_arch = "x86_64"))]
#[test]
fn the_function_list_is_the_one_of_the_checkout_being_built() {
    let tmp = tempfile::tempdir().unwrap();
    let gone = tmp.path().join("removed-checkout");
    let bin = compile_build_script(tmp.path(), &gone);
    let checkout = tmp.path().join("checkout");
    std::fs::create_dir_all(checkout.join("build")).unwrap();
    let list = checkout.join("build/hot-functions.txt");
    std::fs::write(&list, "main\n").unwrap();

    let stdout = run_build_script(&bin, &checkout, &tmp.path().join("out"));
    assert!(
        stdout.contains(&format!("cargo:rerun-if-changed={}\n", list.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}\n",
            list.display()
        )),
        "{stdout}"
    );
    assert!(!stdout.contains(&gone.display().to_string()), "{stdout}");
    assert!(!stdout.contains("cargo:warning"), "{stdout}");

    // A checkout without the list links without the ordering, and says so.
    let bare = tmp.path().join("bare-checkout");
    std::fs::create_dir_all(&bare).unwrap();
    let stdout = run_build_script(&bin, &bare, &tmp.path().join("out2"));
    assert!(!stdout.contains("symbol-ordering-file"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "cargo:warning=no {}: linking without the function ordering",
            bare.join("build/hot-functions.txt").display()
        )),
        "{stdout}"
    );
}
