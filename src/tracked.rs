//! Decoding a `serde_json::Value` into a typed value, with the JSON path of the first error
//! (`products[3].prices[0].amount`): the catalog and the actions are refused with the field at fault.
//!
//! `serde_path_to_error` did this by wrapping any deserializer and every visitor generically, which
//! monomorphised the catalog's and the actions' deserializers a second time, wrapped: `Catalog::from_value`
//! alone kept 368 KB of the browser build's 2.8 MB of code (`twiggy dominators`, issue 13). This is one
//! concrete deserializer over `&Value` that keeps the path itself, so each `Deserialize` impl is
//! instantiated once, for it. Paths are written as `serde_path_to_error` writes them (`.` for none,
//! `a.b[2].c`), and messages are serde_json's.

use serde::de::value::BorrowedStrDeserializer;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Error, Map, Value};
use std::cell::RefCell;
use std::fmt::{self, Display};

/// A decoding error: where (`.` when at the top) and what.
#[derive(Debug)]
pub struct PathError {
    pub path: String,
    pub error: Error,
}

impl Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path.as_str() {
            "." => write!(f, "{}", self.error),
            path => write!(f, "{path}: {}", self.error),
        }
    }
}

/// Parses `text` and decodes it as a `T`. Everything the package reads goes through [`from_value`]
/// so that each type's deserializer exists once in the build (a `from_str::<T>` per type would add
/// a second copy, for serde_json's text reader).
pub fn from_str<T: de::DeserializeOwned>(text: &str) -> Result<T, PathError> {
    let value: Value = serde_json::from_str(text).map_err(|error| PathError {
        path: ".".to_string(),
        error,
    })?;
    from_value(&value)
}

/// Decodes `value` as a `T`.
pub fn from_value<'de, T: de::Deserialize<'de>>(value: &'de Value) -> Result<T, PathError> {
    let track = Track::default();
    T::deserialize(Tracked { value, track: &track }).map_err(|error| PathError {
        path: track.failed.into_inner().unwrap_or_else(|| ".".to_string()),
        error,
    })
}

/// One step of a path.
enum Segment<'de> {
    Key(&'de str),
    Index(usize),
}

/// The path to the value being decoded, and the path of the first (innermost) error.
#[derive(Default)]
struct Track<'de> {
    path: RefCell<Vec<Segment<'de>>>,
    failed: RefCell<Option<String>>,
}

impl<'de> Track<'de> {
    /// Runs `f` one step further down; an error keeps the path where it happened.
    fn at<T>(&self, segment: Segment<'de>, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        self.path.borrow_mut().push(segment);
        let result = f();
        if result.is_err() {
            self.fail();
        }
        self.path.borrow_mut().pop();
        result
    }

    fn fail(&self) {
        let mut failed = self.failed.borrow_mut();
        if failed.is_none() {
            *failed = Some(self.to_string());
        }
    }
}

impl Display for Track<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.borrow();
        if path.is_empty() {
            return f.write_str(".");
        }
        for (i, segment) in path.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) if i == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
struct Tracked<'a, 'de> {
    value: &'de Value,
    track: &'a Track<'de>,
}

impl<'de> Tracked<'_, 'de> {
    fn unexpected(&self) -> de::Unexpected<'de> {
        match self.value {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => de::Unexpected::Unsigned(u),
                (None, Some(i), _) => de::Unexpected::Signed(i),
                (None, None, f) => de::Unexpected::Float(f.unwrap_or(f64::NAN)),
            },
            Value::String(s) => de::Unexpected::Str(s),
            Value::Array(_) => de::Unexpected::Seq,
            Value::Object(_) => de::Unexpected::Map,
        }
    }
}

impl<'de> de::Deserializer<'de> for Tracked<'_, 'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => visitor.visit_u64(u),
                (None, Some(i), _) => visitor.visit_i64(i),
                (None, None, Some(f)) => visitor.visit_f64(f),
                (None, None, None) => Err(de::Error::custom("a number out of range")),
            },
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => visit_seq(items, self.track, visitor),
            Value::Object(map) => visit_map(map, self.track, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Object(map) => match (map.len(), map.iter().next()) {
                (1, Some((variant, value))) => visitor.visit_enum(Variant {
                    variant,
                    content: Tracked {
                        value,
                        track: self.track,
                    },
                }),
                _ => Err(de::Error::invalid_value(de::Unexpected::Map, &"map with a single key")),
            },
            _ => Err(de::Error::invalid_type(self.unexpected(), &"string or map")),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct identifier
    }
}

fn visit_seq<'de, V: Visitor<'de>>(items: &'de [Value], track: &Track<'de>, visitor: V) -> Result<V::Value, Error> {
    let mut seq = Seq {
        items: items.iter().enumerate(),
        track,
    };
    let value = visitor.visit_seq(&mut seq)?;
    match seq.items.len() {
        0 => Ok(value),
        left => Err(de::Error::invalid_length(
            items.len() - left,
            &"fewer elements in array",
        )),
    }
}

fn visit_map<'de, V: Visitor<'de>>(
    map: &'de Map<String, Value>,
    track: &Track<'de>,
    visitor: V,
) -> Result<V::Value, Error> {
    let mut access = Entries {
        entries: map.iter(),
        value: None,
        track,
    };
    let value = visitor.visit_map(&mut access)?;
    match access.entries.len() {
        0 => Ok(value),
        left => Err(de::Error::invalid_length(map.len() - left, &"fewer elements in map")),
    }
}

struct Seq<'a, 'de> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    track: &'a Track<'de>,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        let Some((index, value)) = self.items.next() else {
            return Ok(None);
        };
        let track = self.track;
        track.at(Segment::Index(index), || {
            seed.deserialize(Tracked { value, track }).map(Some)
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Entries<'a, 'de> {
    entries: serde_json::map::Iter<'de>,
    /// The key and value of the entry whose key was read last.
    value: Option<(&'de str, &'de Value)>,
    track: &'a Track<'de>,
}

impl<'de> de::MapAccess<'de> for Entries<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some((key, value));
        // An unknown field is an error of its key: its path names the key.
        self.track
            .at(Segment::Key(key), || seed.deserialize(Key(key)).map(Some))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let (key, value) = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value before its key"))?;
        let track = self.track;
        track.at(Segment::Key(key), || seed.deserialize(Tracked { value, track }))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An object's key: a string, or a number written as one (`{"2": ...}` for a map keyed by `u64`), as
/// serde_json reads keys.
struct Key<'de>(&'de str);

macro_rules! parse_key {
    ($($method:ident $visit:ident $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.0.parse::<$ty>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => Err(de::Error::invalid_type(de::Unexpected::Str(self.0), &visitor)),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Key<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    parse_key! {
        deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16, deserialize_i32 visit_i32 i32,
        deserialize_i64 visit_i64 i64, deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16,
        deserialize_u32 visit_u32 u32, deserialize_u64 visit_u64 u64
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self.0.into_deserializer())
    }

    forward_to_deserialize_any! {
        bool i128 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

/// An externally tagged enum: `{"variant": content}`.
struct Variant<'a, 'de> {
    variant: &'de str,
    content: Tracked<'a, 'de>,
}

impl<'a, 'de> de::EnumAccess<'de> for Variant<'a, 'de> {
    type Error = Error;
    type Variant = Content<'a, 'de>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Content<'a, 'de>), Error> {
        // An unknown variant is an error of the enum itself (no step down), as in serde_path_to_error.
        let variant = seed.deserialize(BorrowedStrDeserializer::new(self.variant))?;
        Ok((
            variant,
            Content {
                variant: self.variant,
                content: self.content,
            },
        ))
    }
}

/// The content of an externally tagged variant, decoded one step down (the variant's name).
struct Content<'a, 'de> {
    variant: &'de str,
    content: Tracked<'a, 'de>,
}

impl<'de> de::VariantAccess<'de> for Content<'_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        let track = self.content.track;
        track.at(Segment::Key(self.variant), || {
            de::Deserialize::deserialize(self.content)
        })
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        let track = self.content.track;
        track.at(Segment::Key(self.variant), || seed.deserialize(self.content))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        let track = self.content.track;
        track.at(Segment::Key(self.variant), || {
            de::Deserializer::deserialize_seq(self.content, visitor)
        })
    }

    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        let track = self.content.track;
        track.at(Segment::Key(self.variant), || {
            de::Deserializer::deserialize_map(self.content, visitor)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::from_value;
    use serde::Deserialize;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Shop {
        products: Vec<Product>,
        #[serde(default)]
        tags: BTreeMap<String, u32>,
        #[serde(default)]
        by_number: BTreeMap<u64, String>,
        rule: Option<Rule>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Product {
        id: String,
        price: u32,
        #[serde(default)]
        extra: Option<serde_json::Value>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    enum Rule {
        Always,
        All(Vec<Rule>),
        Min { quantity: u32 },
    }

    /// Our path and message, checked against `serde_path_to_error`'s for the same input.
    fn path_of(value: serde_json::Value) -> (String, String) {
        let e = from_value::<Shop>(&value).unwrap_err();
        let theirs = serde_path_to_error::deserialize::<_, Shop>(value).unwrap_err();
        assert_eq!(e.path, theirs.path().to_string());
        assert_eq!(e.error.to_string(), theirs.inner().to_string());
        (e.path, e.error.to_string())
    }

    #[test]
    fn decodes_what_serde_json_decodes() {
        let value = json!({"products": [{"id": "a", "price": 3, "extra": {"x": [1, null, "y"]}}],
            "tags": {"t": 1}, "byNumber": {"2": "two"}, "rule": {"all": ["always", {"min": {"quantity": 2}}]}});
        let ours: Shop = from_value(&value).unwrap();
        let theirs: Shop = serde_json::from_value(value).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn errors_name_the_path_as_serde_path_to_error_does() {
        let (path, message) = path_of(json!({"products": [{"id": "a", "price": 1}, {"id": "b", "price": "x"}]}));
        assert_eq!(path, "products[1].price");
        assert!(
            message.starts_with("invalid type: string \"x\", expected u32"),
            "{message}"
        );
        let (path, message) = path_of(json!({"products": [{"id": "a", "price": 1, "prise": 2}]}));
        assert_eq!(path, "products[0].prise");
        assert!(message.starts_with("unknown field `prise`"), "{message}");
        assert_eq!(path_of(json!({"products": [], "other": 1})).0, "other");
        assert_eq!(path_of(json!({"products": [{"id": "a"}]})).0, "products[0]");
        assert_eq!(path_of(json!({"products": [], "tags": {"t": -1}})).0, "tags.t");
        assert_eq!(
            path_of(json!({"products": [], "rule": {"all": ["never"]}})).0,
            "rule.all[0]"
        );
        assert_eq!(
            path_of(json!({"products": [], "rule": {"min": {"quantity": true}}})).0,
            "rule.min.quantity"
        );
        // serde_path_to_error writes `byNumber.?` for a key that is not a number.
        let e = from_value::<Shop>(&json!({"products": [], "byNumber": {"x": "y"}})).unwrap_err();
        assert_eq!(e.to_string(), "byNumber.x: invalid type: string \"x\", expected u64");
        assert_eq!(path_of(json!([1])).0, "[0]");
        assert_eq!(path_of(json!(7)).0, ".");
        assert_eq!(path_of(json!({"products": [], "rule": {"nope": {}}})).0, "rule");
        assert_eq!(
            path_of(json!({"products": [], "rule": {"min": 1, "all": []}})).0,
            "rule"
        );
    }
}
