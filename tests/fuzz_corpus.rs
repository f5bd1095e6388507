//! Replays the committed fuzz corpus (`fuzz/corpus/TARGET/*`, minimised crashers included) on
//! stable, through the same entry points the cargo-fuzz targets call, so CI guards every input
//! the fuzzers found interesting without needing nightly.

use std::path::Path;

#[test]
fn every_corpus_input_replays_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut total = 0;
    for (name, target) in ehlo::fuzzing::TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()));
        let mut n = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let r = std::panic::catch_unwind(|| target(&data));
            assert!(r.is_ok(), "{name}: {} panics", path.display());
            n += 1;
        }
        assert!(n > 0, "corpus {name} is empty");
        total += n;
    }
    assert!(total >= ehlo::fuzzing::TARGETS.len());
}
