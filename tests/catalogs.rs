//! Every catalog file the repository ships (the demo server's, the platform emulators') must load:
//! the catalog model refuses unknown fields, so a stale field name would otherwise surface only when
//! the demo or an emulator test starts.

use std::path::Path;
use wasm_cart::Catalog;

#[test]
fn every_shipped_catalog_loads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["server/catalog", "tests/platforms"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("folder exists") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|x| x == "json") {
                files.push(path);
            }
        }
    }
    assert!(
        files.len() >= 2,
        "expected the demo and emulator catalogs, found {files:?}"
    );
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        if let Err(e) = Catalog::from_json(&text) {
            panic!("{} is refused: {e}", path.display());
        }
    }
}
