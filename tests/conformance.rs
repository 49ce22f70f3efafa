//! Runs every conformance vector (format: `../shared/conformance/README.md`) through the native engine:
//! the shared folder (`$CONFORMANCE_DIR` when set, else `../shared/conformance` beside the checkout) and
//! the project's own `tests/vectors/` (pricing profiles and features, each with its outside `source`).
//! Every failing file is reported with the first JSON path where the view differs from the expectation.

use serde_json::Value;
use std::path::{Path, PathBuf};
use wasm_cart::{price, Action, CartState, Catalog, ErrorCode, NewCart, Timestamp};

fn vector_dir() -> PathBuf {
    match std::env::var_os("CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"),
    }
}

fn vector_files(dir: &Path) -> Vec<PathBuf> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("conformance folder {} cannot be read: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn project_vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

#[test]
fn every_conformance_vector_passes() {
    run_folder(&vector_dir());
}

#[test]
fn every_project_vector_passes() {
    run_folder(&project_vector_dir());
}

/// Every project vector names where its numbers come from (a repository, file and test, or a page).
#[test]
fn every_project_vector_names_its_source() {
    for file in vector_files(&project_vector_dir()) {
        let raw = std::fs::read_to_string(&file).expect("readable");
        let vector: Value = serde_json::from_str(&raw).expect("JSON");
        let source = text(&vector, "source").unwrap_or_default();
        assert!(
            source.len() >= 20,
            "{}: `source` must name the outside origin of its numbers",
            file.display()
        );
    }
}

fn run_folder(dir: &Path) {
    let files = vector_files(dir);
    assert!(!files.is_empty(), "no conformance vector (*.json) in {}", dir.display());
    let failures: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            run_vector(f).err().map(|why| format!("{name}: {why}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} conformance vectors failed:\n  {}",
        failures.len(),
        files.len(),
        failures.join("\n  ")
    );
    println!("{} conformance vectors passed", files.len());
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Runs one vector; `Err` says what differed.
fn run_vector(path: &Path) -> Result<(), String> {
    let raw = std::fs::read_to_string(path).map_err(|e| format!("unreadable: {e}"))?;
    let vector: Value = serde_json::from_str(&raw).map_err(|e| format!("not JSON: {e}"))?;
    let now = text(&vector, "now")
        .and_then(|s| Timestamp::parse_rfc3339(&s))
        .ok_or("missing or bad `now`")?;
    let expect = vector.get("expect").cloned().unwrap_or(Value::Null);
    let expected_error = expect
        .pointer("/error/code")
        .and_then(Value::as_str)
        .map(str::to_string);

    let catalog = match Catalog::from_value(vector.get("catalog").cloned().unwrap_or(Value::Null)) {
        Ok(c) => c,
        Err(e) if e.code == ErrorCode::InvalidCatalog && expected_error.as_deref() == Some("INVALID_CATALOG") => {
            return Ok(())
        }
        Err(e) => return Err(format!("catalog refused: {e}")),
    };
    if expected_error.as_deref() == Some("INVALID_CATALOG") {
        return Err("expected INVALID_CATALOG, the catalog was accepted".into());
    }
    let spec = vector.get("cart").cloned().unwrap_or(Value::Null);
    let new = NewCart {
        id: "cart_conformance".into(),
        currency: text(&spec, "currency").ok_or("cart.currency missing")?,
        country: text(&spec, "country"),
        locale: text(&spec, "locale"),
        customer_group: text(&spec, "customerGroup"),
        ..NewCart::default()
    };
    let mut cart = CartState::new(new, &catalog, now).map_err(|e| format!("cart refused: {e}"))?;

    let steps = vector
        .get("actions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut refusal = None;
    for (i, step) in steps.into_iter().enumerate() {
        let actions = if step.is_array() {
            Action::list_from_value(step)
        } else {
            Action::from_value(step).map(|a| vec![a])
        };
        if let Err(e) = actions.and_then(|a| cart.apply(&catalog, &a, now)) {
            let mismatches = wasm_cart::error::details::mismatches(e.code, &e.details);
            if !mismatches.is_empty() {
                return Err(format!("step {i}: details of an undeclared shape: {mismatches:?}"));
            }
            refusal = Some((i, e));
            break;
        }
    }
    match (&expected_error, &refusal) {
        (None, Some((i, e))) => return Err(format!("step {i} refused unexpectedly: {e}")),
        (Some(code), None) => return Err(format!("expected a refusal with {code}; every step succeeded")),
        (Some(code), Some((i, e))) if e.code.as_str() != code => {
            return Err(format!("expected {code}, step {i} was refused with {e}"))
        }
        _ => {}
    }

    let view = price(&cart, &catalog, now).map_err(|e| format!("pricing failed: {e}"))?;
    let view = serde_json::to_value(view).map_err(|e| e.to_string())?;
    let mut expected = expect;
    if let Some(map) = expected.as_object_mut() {
        map.remove("error");
    }
    partial_match(&expected, &view, "$")
}

/// Objects match when every listed key matches; arrays when lengths agree and elements match in
/// order; scalars exactly. Returns the first differing path.
fn partial_match(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match (expected, actual) {
        (Value::Object(exp), Value::Object(act)) => exp.iter().try_for_each(|(key, e)| {
            let sub = format!("{path}.{key}");
            match act.get(key) {
                Some(a) => partial_match(e, a, &sub),
                None => Err(format!("{sub}: missing, expected {e}")),
            }
        }),
        (Value::Array(exp), Value::Array(act)) => {
            if exp.len() != act.len() {
                return Err(format!(
                    "{path}: expected {} elements, got {}: {actual}",
                    exp.len(),
                    act.len()
                ));
            }
            exp.iter()
                .zip(act)
                .enumerate()
                .try_for_each(|(i, (e, a))| partial_match(e, a, &format!("{path}[{i}]")))
        }
        (e, a) if e == a => Ok(()),
        (e, a) => Err(format!("{path}: expected {e}, got {a}")),
    }
}

#[test]
fn partial_match_reports_the_first_differing_path() {
    let actual = serde_json::json!({"a": [{"b": 1, "c": 2}], "d": "x"});
    assert!(partial_match(&serde_json::json!({"a": [{"b": 1}]}), &actual, "$").is_ok());
    assert_eq!(
        partial_match(&serde_json::json!({"a": [{"c": 3}]}), &actual, "$").unwrap_err(),
        "$.a[0].c: expected 3, got 2"
    );
    assert!(partial_match(&serde_json::json!({"a": []}), &actual, "$")
        .unwrap_err()
        .starts_with("$.a: expected 0"));
    assert!(partial_match(&serde_json::json!({"zz": 1}), &actual, "$")
        .unwrap_err()
        .starts_with("$.zz: missing"));
}
