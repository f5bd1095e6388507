//! Build script: link the `ehlo` binary with packed relative relocations where the platform
//! has them, which makes start-up cheaper and the resident set smaller.
//!
//! A position-independent Rust binary carries tens of thousands of relative relocations; as
//! classic RELA entries they are a table of about a megabyte that the dynamic loader reads at
//! every start. `-z pack-relative-relocs` (GNU ld 2.38+, lld; glibc 2.36+ understands the
//! resulting DT_RELR) packs them into a few kilobytes. GNU ld older than 2.38 ignores an
//! unknown `-z` keyword with a warning, so the flag is harmless there.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=EHLO_NO_PACKED_RELOCS");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" && std::env::var_os("EHLO_NO_PACKED_RELOCS").is_none() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
