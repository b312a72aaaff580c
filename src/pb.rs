//! Serializing straight into protobuf `Struct` values, and reading them in place.
//!
//! Composed objects are typed Kubernetes objects; the response carries them as protobuf
//! `Struct`s. Going through `serde_json::Value` on the way builds every object twice and
//! drops one copy on every call. [`to_value`] produces the protobuf value directly, with
//! exactly what `serde_json::to_value` followed by the SDK's `json_to_pb` would give:
//! numbers become f64, a number JSON cannot hold (NaN, infinity) becomes null, bytes
//! become a list of numbers, enum variants are externally tagged, and map keys must be
//! strings, integers or booleans.
//!
//! Pure: no I/O.

use std::collections::HashMap;
use std::fmt;

use pbjson_types::value::Kind;
use pbjson_types::{ListValue, Struct, Value};
use serde::Serialize;
use serde::ser;

/// Why a value could not be serialized into a protobuf Struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// `value` as a protobuf Value.
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, Error> {
    value.serialize(ValueSerializer)
}

/// `value`, which must serialize to an object, as a protobuf Struct.
pub fn to_struct<T: Serialize + ?Sized>(value: &T) -> Result<Struct, Error> {
    match to_value(value)?.kind {
        Some(Kind::StructValue(s)) => Ok(s),
        _ => Err(Error("is not an object".into())),
    }
}

/// The value at a JSON pointer (`/spec/template/0/name`) inside `s`, as
/// `serde_json::Value::pointer` finds it in the same object as JSON.
pub fn pointer<'a>(s: &'a Struct, pointer: &str) -> Option<&'a Value> {
    fn unescape(t: &str) -> std::borrow::Cow<'_, str> {
        if t.contains('~') {
            t.replace("~1", "/").replace("~0", "~").into()
        } else {
            t.into()
        }
    }
    let mut tokens = pointer.strip_prefix('/')?.split('/');
    let mut current = s.fields.get(unescape(tokens.next()?).as_ref())?;
    for token in tokens {
        let token = unescape(token);
        current = match current.kind.as_ref()? {
            Kind::StructValue(s) => s.fields.get(token.as_ref())?,
            Kind::ListValue(l) => {
                if token.starts_with('+') || (token.len() > 1 && token.starts_with('0')) {
                    return None;
                }
                l.values.get(token.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(current)
}

/// The string in `v`, if it holds one.
pub fn as_str(v: &Value) -> Option<&str> {
    match v.kind.as_ref()? {
        Kind::StringValue(s) => Some(s),
        _ => None,
    }
}

/// The object in `v`, if it holds one.
pub fn as_struct(v: &Value) -> Option<&Struct> {
    match v.kind.as_ref()? {
        Kind::StructValue(s) => Some(s),
        _ => None,
    }
}

/// The list in `v`, if it holds one.
pub fn as_list(v: &Value) -> Option<&[Value]> {
    match v.kind.as_ref()? {
        Kind::ListValue(l) => Some(&l.values),
        _ => None,
    }
}

/// The number in `v`, if it holds one.
pub fn as_f64(v: &Value) -> Option<f64> {
    match v.kind.as_ref()? {
        Kind::NumberValue(n) => Some(*n),
        _ => None,
    }
}

fn value(kind: Kind) -> Value {
    Value { kind: Some(kind) }
}

fn null() -> Value {
    value(Kind::NullValue(0))
}

fn number(n: f64) -> Value {
    if n.is_finite() {
        value(Kind::NumberValue(n))
    } else {
        null()
    }
}

fn string(s: impl Into<String>) -> Value {
    value(Kind::StringValue(s.into()))
}

fn list(values: Vec<Value>) -> Value {
    value(Kind::ListValue(ListValue { values }))
}

fn object(fields: HashMap<String, Value>) -> Value {
    value(Kind::StructValue(Struct { fields }))
}

/// `{variant: inner}`, serde's external enum tagging.
fn tagged(variant: &str, inner: Value) -> Value {
    object(HashMap::from([(variant.to_owned(), inner)]))
}

struct ValueSerializer;

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = VariantSerializer<SeqSerializer>;
    type SerializeMap = MapSerializer;
    type SerializeStruct = MapSerializer;
    type SerializeStructVariant = VariantSerializer<MapSerializer>;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        Ok(value(Kind::BoolValue(v)))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        Ok(number(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        Ok(number(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        Ok(number(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        Ok(number(v as f64))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Error> {
        // serde_json holds integers as 64 bits.
        if i64::try_from(v).is_ok() || u64::try_from(v).is_ok() {
            Ok(number(v as f64))
        } else {
            Err(Error("number out of range".into()))
        }
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        Ok(number(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        Ok(number(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        Ok(number(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        Ok(number(v as f64))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Error> {
        match u64::try_from(v) {
            Ok(v) => Ok(number(v as f64)),
            Err(_) => Err(Error("number out of range".into())),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        Ok(number(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        Ok(number(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        Ok(string(v))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        Ok(string(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Error> {
        Ok(list(v.iter().map(|b| number((*b).into())).collect()))
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Ok(null())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<Value, Error> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(null())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, Error> {
        Ok(null())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        v: &T,
    ) -> Result<Value, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<Value, Error> {
        Ok(tagged(variant, v.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer, Error> {
        Ok(SeqSerializer(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSerializer, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer<SeqSerializer>, Error> {
        Ok(VariantSerializer {
            variant,
            inner: self.serialize_seq(Some(len))?,
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer, Error> {
        Ok(MapSerializer {
            fields: HashMap::with_capacity(len.unwrap_or(0)),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapSerializer, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSerializer<MapSerializer>, Error> {
        Ok(VariantSerializer {
            variant,
            inner: self.serialize_map(Some(len))?,
        })
    }
}

struct SeqSerializer(Vec<Value>);

impl ser::SerializeSeq for SeqSerializer {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        self.0.push(to_value(v)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(list(self.0))
    }
}

impl ser::SerializeTuple for SeqSerializer {
    type Ok = Value;
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<Value, Error> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for SeqSerializer {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, v)
    }
    fn end(self) -> Result<Value, Error> {
        ser::SerializeSeq::end(self)
    }
}

struct MapSerializer {
    fields: HashMap<String, Value>,
    key: Option<String>,
}

impl ser::SerializeMap for MapSerializer {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value was serialized before its key".into()))?;
        self.fields.insert(key, to_value(v)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(object(self.fields))
    }
}

impl ser::SerializeStruct for MapSerializer {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        self.fields.insert(key.to_owned(), to_value(v)?);
        Ok(())
    }
    fn end(self) -> Result<Value, Error> {
        Ok(object(self.fields))
    }
}

/// A tuple or struct variant: `{variant: [..]}` or `{variant: {..}}`.
struct VariantSerializer<S> {
    variant: &'static str,
    inner: S,
}

impl ser::SerializeTupleVariant for VariantSerializer<SeqSerializer> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(&mut self.inner, v)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(tagged(self.variant, ser::SerializeSeq::end(self.inner)?))
    }
}

impl ser::SerializeStructVariant for VariantSerializer<MapSerializer> {
    type Ok = Value;
    type Error = Error;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        v: &T,
    ) -> Result<(), Error> {
        ser::SerializeStruct::serialize_field(&mut self.inner, key, v)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(tagged(self.variant, ser::SerializeStruct::end(self.inner)?))
    }
}

/// Map keys: strings, and integers, booleans and chars written as strings, as
/// serde_json accepts them.
struct KeySerializer;

fn key_error() -> Error {
    Error("a map key must be a string, an integer or a boolean".into())
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    fn serialize_bool(self, v: bool) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_f64(self, _v: f64) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_none(self) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _v: &T) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit(self) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        v: &T,
    ) -> Result<String, Error> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _v: &T,
    ) -> Result<String, Error> {
        Err(key_error())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(key_error())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, Error> {
        Err(key_error())
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(key_error())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(key_error())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(key_error())
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, Error> {
        Err(key_error())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(key_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use function_sdk_rust::resource::json_to_pb;
    use serde_json::json;
    use std::collections::BTreeMap;

    /// What the JSON route gives: `serde_json::to_value`, then the SDK's `json_to_pb`.
    fn via_json<T: Serialize>(v: &T) -> Value {
        json_to_pb(&serde_json::to_value(v).unwrap())
    }

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { a: Option<bool>, b: Vec<f64> },
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct Wrapper(String);

    #[derive(Serialize)]
    struct Everything {
        small: i8,
        big: u64,
        negative: i64,
        wide: u128,
        float: f32,
        nan: f64,
        infinite: f64,
        ch: char,
        #[serde(with = "serde_bytes_as_seq")]
        bytes: Vec<u8>,
        none: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<String>,
        unit: (),
        unit_struct: Unit,
        newtype: Wrapper,
        tuple: (u8, &'static str),
        shapes: Vec<Shape>,
        int_keys: BTreeMap<i32, &'static str>,
        bool_keys: BTreeMap<bool, u8>,
        #[serde(flatten)]
        flattened: BTreeMap<String, serde_json::Value>,
    }

    mod serde_bytes_as_seq {
        pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }

    #[test]
    fn every_serde_shape_comes_out_as_the_json_route_gives_it() {
        let everything = Everything {
            small: -3,
            big: u64::MAX,
            negative: -(1 << 60),
            wide: 1 << 63,
            float: 0.1,
            nan: f64::NAN,
            infinite: f64::NEG_INFINITY,
            ch: 'x',
            bytes: vec![0, 7, 255],
            none: None,
            skipped: None,
            unit: (),
            unit_struct: Unit,
            newtype: Wrapper("yes".into()),
            tuple: (1, "on"),
            shapes: vec![
                Shape::Unit,
                Shape::Newtype(9),
                Shape::Tuple(-1, "t".into()),
                Shape::Struct {
                    a: Some(true),
                    b: vec![1.5, f64::INFINITY],
                },
            ],
            int_keys: BTreeMap::from([(-1, "minus"), (2, "two")]),
            bool_keys: BTreeMap::from([(true, 1)]),
            flattened: BTreeMap::from([("extra".into(), json!({"k": [null, "0777"]}))]),
        };
        let ours = to_value(&everything).unwrap();
        assert_eq!(ours, via_json(&everything));
        let Some(Kind::StructValue(s)) = &ours.kind else {
            panic!("an object")
        };
        assert_eq!(s.fields["nan"], null());
        assert_eq!(
            s.fields["int_keys"],
            to_value(&json!({"-1": "minus", "2": "two"})).unwrap()
        );
        assert!(!s.fields.contains_key("skipped"));
    }

    #[test]
    fn kubernetes_objects_come_out_as_the_json_route_gives_them() {
        use k8s_openapi::api::batch::v1::{Job, JobSpec};
        use k8s_openapi::api::core::v1::{Container, EnvVar, PodSpec, PodTemplateSpec};
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
        let job = Job {
            metadata: ObjectMeta {
                name: Some("promote".into()),
                labels: Some(BTreeMap::from([("a".into(), "b".into())])),
                ..Default::default()
            },
            spec: Some(JobSpec {
                backoff_limit: Some(2),
                template: PodTemplateSpec {
                    spec: Some(PodSpec {
                        containers: vec![Container {
                            name: "c".into(),
                            env: Some(vec![EnvVar {
                                name: "X".into(),
                                value: Some("no".into()),
                                ..Default::default()
                            }]),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(to_value(&job).unwrap(), via_json(&job));
        let s = to_struct(&job).unwrap();
        assert_eq!(s.fields["apiVersion"], string("batch/v1"));
        assert_eq!(
            pointer(&s, "/spec/template/spec/containers/0/env/0/value").and_then(as_str),
            Some("no")
        );
        assert_eq!(
            pointer(&s, "/spec/backoffLimit").and_then(as_f64),
            Some(2.0)
        );
    }

    #[test]
    fn integers_beyond_64_bits_are_refused_as_serde_json_refuses_them() {
        assert!(serde_json::to_value(1u128 << 64).is_err());
        assert!(to_value(&(1u128 << 64)).is_err());
        assert!(to_value(&(-1i128 << 64)).is_err());
        assert_eq!(to_value(&-1i128).unwrap(), via_json(&-1i128));
    }

    #[test]
    fn a_value_that_is_not_an_object_is_no_struct() {
        assert_eq!(
            to_struct(&[1, 2]).unwrap_err().to_string(),
            "is not an object"
        );
        assert_eq!(
            to_struct("text").unwrap_err().to_string(),
            "is not an object"
        );
    }

    #[test]
    fn unsupported_map_keys_are_refused_as_serde_json_refuses_them() {
        let map = BTreeMap::from([(vec![1], 1)]);
        assert!(serde_json::to_value(&map).is_err());
        assert!(to_value(&map).unwrap_err().to_string().contains("map key"));
    }

    #[test]
    fn pointer_reads_as_serde_json_pointer_reads() {
        let doc = json!({
            "a": {"b/c": [10, {"d~e": "x"}], "": "empty"},
            "list": [[1]],
        });
        let s = to_struct(&doc).unwrap();
        for p in [
            "/a",
            "/a/b~1c",
            "/a/b~1c/0",
            "/a/b~1c/1/d~0e",
            "/a/",
            "/list/0/0",
            "/a/b~1c/01",
            "/a/b~1c/+1",
            "/a/b~1c/2",
            "/missing",
            "/a/b~1c/0/deeper",
            "",
            "a",
        ] {
            assert_eq!(
                pointer(&s, p).cloned(),
                doc.pointer(p).filter(|_| !p.is_empty()).map(json_to_pb),
                "{p:?}"
            );
        }
    }
}
