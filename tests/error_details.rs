//! The package's error types are generated from the declared `details` of each code
//! (src/error/details.rs): `make test` fails when `ts/errors.generated.d.ts` is stale.

const GENERATED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ts/errors.generated.d.ts");

#[test]
fn the_generated_typescript_is_current() {
    let want = wasm_cart::error::details::typescript();
    if std::env::var_os("UPDATE_TYPES").is_some() {
        std::fs::write(GENERATED, &want).expect("write ts/errors.generated.d.ts");
        return;
    }
    let have = std::fs::read_to_string(GENERATED).unwrap_or_default();
    assert!(
        have == want,
        "ts/errors.generated.d.ts is stale: run `UPDATE_TYPES=1 cargo test --test error_details`"
    );
}
