//! The package's data types — the catalog, the actions, the view — generated from the Rust types
//! (ts-rs derives, present only in test builds) into `ts/data.generated.d.ts`, so that the TypeScript
//! and what the engine reads and writes cannot drift apart; the error types beside them come from
//! src/error/details.rs. `cargo test` fails when either file is stale; `UPDATE_TYPES=1 cargo test --lib
//! typescript` rewrites them.
//!
//! ts-rs writes each declaration on one line, as a `type` with mutable members. Two rewrites make them
//! what a package user wants: inputs (catalog, actions) take `undefined` for an optional member, as
//! `exactOptionalPropertyTypes` requires of an optional field one may leave unset with `x?.y`; views are
//! deeply frozen, so their members are `readonly` and their arrays `ReadonlyArray`. Then one member per
//! line, with its doc comment.
// The derives need the `TS` impls below in every test build; only the native one writes the file.
#![cfg_attr(target_arch = "wasm32", allow(dead_code))]

use crate::cart::{Action, Address, CartStatus, CustomLineKind, Customer, MergeReport, SkippedLine};
use crate::catalog::*;
use crate::money::RoundingMode;
use crate::pricing::{
    CartView, CodeState, CodeView, CustomLineView, DeliveryEstimate, DiscountView, Issue, IssueCode, LineView,
    Severity, ShippingOption, ShippingView, TaxSummary, Totals, UnitDiscount,
};
use ts_rs::{Config, TS};

/// The Rust types whose JSON is a plain string or map get the package's names for them.
macro_rules! named {
    ($ty:ty => $ts:literal) => {
        impl TS for $ty {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(_: &Config) -> String {
                $ts.to_string()
            }
            fn inline(_: &Config) -> String {
                $ts.to_string()
            }
        }
    };
}

/// A line's attributes as actions take them (`Attributes` in ts/wasm_cart.types.d.ts: scalars only).
pub(crate) struct AttributesTs;

named!(AttributesTs => "Attributes");
named!(crate::text::Text => "string");
named!(crate::time::Timestamp => "Rfc3339");
named!(Amount => "DecimalString");

/// Whether a declaration is read by the engine (members take `undefined`) or written by it (read-only).
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Input,
    Output,
}

/// One declaration: its doc comment, then `export type Name = …;`, members one per line.
fn declare<T: TS>(cfg: &Config, role: Role) -> String {
    let decl = T::decl(cfg);
    let (head, body) = decl
        .split_once(" = ")
        .unwrap_or_else(|| panic!("unexpected declaration: {decl}"));
    let body = body.trim_end().trim_end_matches(';');
    let docs = T::docs().map(|d| format!("{}\n", d.trim_end())).unwrap_or_default();
    let ty = format_type(body, role, 0);
    let eq = if ty.starts_with('\n') { " =" } else { " = " };
    format!("{docs}export {head}{eq}{ty};\n")
}

/// A type expression: a union is split into its arms, an object literal into its members.
fn format_type(ty: &str, role: Role, indent: usize) -> String {
    let arms = split_top(ty, '|');
    if arms.len() > 1 {
        let pad = "  ".repeat(indent + 1);
        let parts: Vec<String> = arms.iter().map(|a| format_type(a, role, indent + 1)).collect();
        if parts.iter().map(|p| p.len() + 3).sum::<usize>() <= 100 && parts.iter().all(|p| !p.contains('\n')) {
            return parts.join(" | ");
        }
        return parts.iter().map(|p| format!("\n{pad}| {p}")).collect();
    }
    let ty = ty.trim();
    match ty.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        Some(inner) if !inner.trim_start().starts_with('[') => format_object(inner, role, indent),
        _ => rewrite_arrays(ty, role),
    }
}

/// The members of an object literal: on one line when short and undocumented, else one per line.
fn format_object(inner: &str, role: Role, indent: usize) -> String {
    let members: Vec<(String, String)> = split_top(inner, ',')
        .into_iter()
        .filter(|m| !m.trim().is_empty())
        .map(|m| member(&m, role, indent))
        .collect();
    let short: Vec<&str> = members.iter().map(|(_, m)| m.as_str()).collect();
    let one_line = format!("{{ {} }}", short.join("; "));
    if members.iter().all(|(doc, m)| doc.is_empty() && !m.contains('\n')) && one_line.len() + indent * 2 <= 100 {
        return one_line;
    }
    let pad = "  ".repeat(indent + 1);
    let mut out = String::from("{\n");
    for (doc, m) in &members {
        for line in doc.lines() {
            out.push_str(&format!("{pad}{line}\n"));
        }
        out.push_str(&format!("{pad}{m};\n"));
    }
    out.push_str(&"  ".repeat(indent));
    out.push('}');
    out
}

/// One member (`/** doc */ name?: Type`): its doc comment, re-indented, and the member rewritten for
/// its role.
fn member(text: &str, role: Role, indent: usize) -> (String, String) {
    let text = text.trim();
    let (doc, rest) = match text.find("*/") {
        Some(end) if text.starts_with("/**") => (doc_lines(&text[..end + 2]), text[end + 2..].trim()),
        _ => (String::new(), text),
    };
    let (name, ty) = rest
        .split_once(':')
        .unwrap_or_else(|| panic!("unexpected member: {rest}"));
    let ty = format_type(ty.trim(), role, indent + 1);
    let member = match role {
        Role::Input if name.ends_with('?') => format!("{name}: {ty} | undefined"),
        Role::Input => format!("{name}: {ty}"),
        Role::Output => format!("readonly {name}: {ty}"),
    };
    (doc, member)
}

/// A doc comment as ` * ` lines under `/**`; one short line stays `/** … */`.
fn doc_lines(comment: &str) -> String {
    let body: Vec<&str> = comment
        .trim_start_matches("/**")
        .trim_end_matches("*/")
        .lines()
        .map(|l| l.trim().trim_start_matches('*').trim())
        .filter(|l| !l.is_empty())
        .collect();
    match body.as_slice() {
        [one] if one.len() <= 90 => format!("/** {one} */"),
        lines => {
            let mut out = String::from("/**\n");
            for l in lines {
                out.push_str(&format!(" * {l}\n"));
            }
            out.push_str(" */");
            out
        }
    }
}

/// Views are frozen: their arrays are read-only.
fn rewrite_arrays(ty: &str, role: Role) -> String {
    match role {
        Role::Output => ty.replace("Array<", "ReadonlyArray<"),
        Role::Input => ty.to_string(),
    }
}

/// Splits at `sep` outside brackets, strings and comments.
fn split_top(text: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let (mut depth, mut in_string, mut in_comment) = (0i32, false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let current = parts.last_mut().expect("parts is never empty");
        current.push(c);
        if in_comment {
            if c == '*' && chars.peek() == Some(&'/') {
                current.push('/');
                chars.next();
                in_comment = false;
            }
            continue;
        }
        if in_string {
            in_string = c != '"';
            continue;
        }
        match c {
            '"' => in_string = true,
            '/' if chars.peek() == Some(&'*') => in_comment = true,
            '{' | '[' | '(' | '<' => depth += 1,
            '}' | ']' | ')' | '>' => depth -= 1,
            c if c == sep && depth == 0 => {
                current.pop();
                parts.push(String::new());
            }
            _ => {}
        }
    }
    parts.into_iter().map(|p| p.trim().to_string()).collect()
}

/// Every generated declaration, in the order of the file.
fn generated() -> String {
    use Role::{Input, Output};
    let cfg = Config::new().with_large_int("number");
    let c = &cfg;
    let sections: [(&str, Vec<String>); 3] = [
        (
            "catalog (DESIGN §4–5, docs/PRICING.md)",
            vec![
                declare::<CatalogData>(c, Input),
                declare::<PricingData>(c, Input),
                declare::<Profile>(c, Input),
                declare::<RoundingMode>(c, Input),
                declare::<TaxCalculation>(c, Input),
                declare::<Allocation>(c, Input),
                declare::<ConditionBasis>(c, Input),
                declare::<TaxRoundingTarget>(c, Input),
                declare::<DiscountTax>(c, Input),
                declare::<CurrencySettings>(c, Input),
                declare::<TaxCategory>(c, Input),
                declare::<TaxRate>(c, Input),
                declare::<SubRate>(c, Input),
                declare::<Product>(c, Input),
                declare::<Variant>(c, Input),
                declare::<Price>(c, Input),
                declare::<Match>(c, Input),
                declare::<Rule>(c, Input),
                declare::<ShippingMethod>(c, Input),
                declare::<ShippingTax>(c, Input),
                declare::<DeliveryDays>(c, Input),
                declare::<ShippingRate>(c, Input),
                declare::<ShippingTier>(c, Input),
                declare::<WeightTier>(c, Input),
                declare::<Promotion>(c, Input),
                declare::<Stacking>(c, Input),
                declare::<Conditions>(c, Input),
                declare::<Predicate>(c, Input),
                declare::<Contains>(c, Input),
                declare::<SubtotalOf>(c, Input),
                declare::<Target>(c, Input),
                declare::<Selection>(c, Input),
                declare::<PromotionValue>(c, Input),
                declare::<PercentPer>(c, Input),
                declare::<Distribution>(c, Input),
            ],
        ),
        (
            "actions (DESIGN §6)",
            vec![
                declare::<Action>(c, Input),
                declare::<Address>(c, Input),
                declare::<CustomLineKind>(c, Input),
            ],
        ),
        (
            "the view (DESIGN §7): every amount an integer count of minor units of `currency`",
            vec![
                declare::<CartView>(c, Output),
                declare::<CartStatus>(c, Output),
                declare::<Customer>(c, Output),
                declare::<LineView>(c, Output),
                declare::<DiscountView>(c, Output),
                declare::<UnitDiscount>(c, Output),
                declare::<CustomLineView>(c, Output),
                declare::<CodeView>(c, Output),
                declare::<CodeState>(c, Output),
                declare::<ShippingView>(c, Output),
                declare::<DeliveryEstimate>(c, Output),
                declare::<ShippingOption>(c, Output),
                declare::<Totals>(c, Output),
                declare::<TaxSummary>(c, Output),
                declare::<Issue>(c, Output),
                declare::<IssueCode>(c, Output),
                declare::<Severity>(c, Output),
                declare::<MergeReport>(c, Output),
                declare::<SkippedLine>(c, Output),
            ],
        ),
    ];
    let mut out = String::from(
        "// Generated from the Rust types (src/typescript.rs, ts-rs): `UPDATE_TYPES=1 cargo test --lib typescript`\n\
         // rewrites it. Edit the Rust types and their doc comments, not this file.\n",
    );
    for (title, decls) in sections {
        out.push_str(&format!(
            "\n// ---------------------------------------------------------------- {title}\n"
        ));
        for d in decls {
            out.push('\n');
            out.push_str(&d);
        }
    }
    out
}

/// Fails when `file` (under `ts/`) differs from `want`; with `UPDATE_TYPES` set, writes it instead.
#[cfg(not(target_arch = "wasm32"))]
fn assert_current(file: &str, want: &str) {
    let path = format!("{}/ts/{file}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_TYPES").is_some() {
        std::fs::write(&path, want).unwrap_or_else(|e| panic!("write {path}: {e}"));
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "ts/{file} is stale: run `UPDATE_TYPES=1 cargo test --lib typescript`"
    );
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_generated_data_types_are_current() {
    assert_current("data.generated.d.ts", &generated());
}

/// The error types come from the declared `details` of each code (src/error/details.rs).
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_generated_error_types_are_current() {
    assert_current("errors.generated.d.ts", &crate::error::details::typescript());
}
