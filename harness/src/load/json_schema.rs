//! The JSON Schema of a matrix file, made from the types that read it
//! ([`super::schema`]) and, for `matrix:`, from the axis table, so that an
//! editor's completion and the loader never disagree on a key. It is looser
//! than load where load's checks need more than a key's shape (a GOARCH
//! against `go tool dist list`, a regex that compiles): those stay load's.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::schema::{Axes, MatrixFile, OneOrMany, Patterns, ProbeRef, Scalar};
use crate::axis::{self, Place};

/// The schema, as `crossprobe schema` prints it and the book publishes it.
pub fn generate() -> Value {
    let settings = schemars::generate::SchemaSettings::draft07();
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<MatrixFile>();
    let obj = schema.ensure_object();
    obj.insert("$id".into(), json!(crate::book::schema_url()));
    obj.insert("title".into(), json!("crossprobe matrix (crossprobe.yaml)"));
    schema.to_value()
}

impl JsonSchema for Scalar {
    fn schema_name() -> Cow<'static, str> {
        "Scalar".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // YAML reads `386` as a number and `true` as a boolean; crossprobe
        // reads both as the text a user wrote.
        json_schema!({
            "description": "A string, number or boolean, read as its text.",
            "type": ["string", "number", "boolean"]
        })
    }
}

impl JsonSchema for OneOrMany {
    fn schema_name() -> Cow<'static, str> {
        "OneOrMany".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let one = g.subschema_for::<Scalar>();
        json_schema!({
            "description": "One value, or a list of them.",
            "anyOf": [one, {"type": "array", "items": one}]
        })
    }
}

impl JsonSchema for ProbeRef {
    fn schema_name() -> Cow<'static, str> {
        "ProbeRef".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let inline = g.subschema_for::<super::schema::InlineProbe>();
        json_schema!({
            "description": "A shipped probe's name (`crossprobe list-probes`), or an inline probe: a mapping with `name:` and one of `source:`, `package:` or `test:`.",
            "anyOf": [{"type": "string"}, inline]
        })
    }
}

impl JsonSchema for Patterns {
    fn schema_name() -> Cow<'static, str> {
        "Patterns".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A package pattern, or a list of them.",
            "anyOf": [
                {"type": "string", "minLength": 1},
                {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
            ]
        })
    }
}

impl JsonSchema for Axes {
    fn schema_name() -> Cow<'static, str> {
        "Axes".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let list = json!({"type": "array", "items": g.subschema_for::<Scalar>()});
        let one_or_many = g.subschema_for::<OneOrMany>().to_value();
        let scalar = g.subschema_for::<Scalar>().to_value();
        let mut props = Map::new();
        let mut required = Vec::new();
        for a in axis::AXES.iter().filter(|a| a.place == Place::Matrix) {
            let mut p = list.as_object().cloned().unwrap_or_default();
            p.insert("description".into(), json!(a.doc));
            match a.default {
                Some(d) => {
                    p.insert("default".into(), json!([d]));
                }
                None => required.push(a.key),
            }
            props.insert(a.key.into(), Value::Object(p));
        }
        props.insert(
            "env".into(),
            json!({
                "description": "Further axes by environment variable: GOARM, GOAMD64, GOMIPS, GODEBUG, ...",
                "type": "object",
                "additionalProperties": list,
            }),
        );
        props.insert(
            "exclude".into(),
            json!({
                "description": "Leave out the cells that match every key of an entry (axis, `probe` or env variable to one value or a list).",
                "type": "array",
                "items": {"type": "object", "additionalProperties": one_or_many},
            }),
        );
        props.insert(
            "include".into(),
            json!({
                "description": "Add cells, or extend the ones that match, as GitHub Actions' matrix include does.",
                "type": "array",
                "items": {"type": "object", "additionalProperties": scalar},
            }),
        );
        json_schema!({
            "description": "The axes whose product makes the cells; each lists its values.",
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_keys_come_from_the_axis_table() {
        let s = generate();
        let props = &s["definitions"]["Axes"]["properties"];
        for k in super::super::schema::matrix_keys() {
            assert!(props.get(*k).is_some(), "no {k} in {props:#}");
        }
        assert_eq!(s["additionalProperties"], json!(false), "{s:#}");
        assert_eq!(s["required"], json!(["probes", "matrix"]), "{s:#}");
        let expect = &s["definitions"]["ExpectEntry"]["properties"];
        assert!(expect.get("match").is_some(), "{expect:#}");
    }
}
