//! Turns one JSON Schema document into one Rust module.
//!
//! The emitter walks the definitions in name order and writes plain data types: structs with
//! public fields for objects, open enums for string enums, zero-sized tags for `const` strings,
//! and unions that read their discriminator before decoding a variant. It also writes the method
//! marker types and the method-keyed result enums that the JSON Schema cannot express.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value};

use super::overrides::{
    Condition, EXTENSION_DIRECTIONS, KEYED_UNIONS, PATCHES, RELAXED, RULE_UNIONS, SKIPS,
    TYPE_OVERRIDES,
};

/// What the emitter needs to know about one input document.
pub(crate) struct ModuleSpec<'a> {
    /// The Rust module name, for example `v2025_11_25`.
    pub(crate) module: &'a str,
    /// Human-readable name of the input, for example `revision 2025-11-25`.
    pub(crate) title: &'a str,
    /// Base address of the schema reference for doc links, if the input has one.
    pub(crate) link_base: Option<String>,
}

/// Generates the Rust source of one module (unformatted).
pub(crate) fn generate(spec: &ModuleSpec<'_>, document: &Value) -> Result<String> {
    let definitions = document
        .get("$defs")
        .or_else(|| document.get("definitions"))
        .and_then(Value::as_object)
        .context("schema has neither `$defs` nor `definitions`")?;
    let mut definitions = definitions.clone();
    for patch in PATCHES
        .iter()
        .filter(|patch| patch.scope.matches(spec.module))
    {
        if let Some(target) = pointer_mut(&mut definitions, patch.pointer) {
            *target = (patch.replacement)();
        }
    }
    for relaxed in RELAXED
        .iter()
        .filter(|relaxed| relaxed.scope.matches(spec.module))
    {
        let every = relaxed.definitions == ["*"];
        let names: Vec<String> = if every {
            definitions.keys().cloned().collect()
        } else {
            relaxed
                .definitions
                .iter()
                .map(|name| (*name).to_owned())
                .collect()
        };
        for definition in names {
            let required = definitions
                .get_mut(&definition)
                .and_then(|schema| schema.get_mut("required"))
                .and_then(Value::as_array_mut);
            match required {
                Some(required) => required.retain(|member| {
                    !member
                        .as_str()
                        .is_some_and(|member| relaxed.members.contains(&member))
                }),
                None if every => {}
                None => bail!("relaxed definition `{definition}` has no required list"),
            }
        }
    }
    let mut generator = Generator::new(spec, definitions);
    generator.run()?;
    Ok(generator.finish())
}

fn pointer_mut<'a>(
    definitions: &'a mut Map<String, Value>,
    pointer: &str,
) -> Option<&'a mut Value> {
    let mut segments = pointer.trim_start_matches('/').splitn(2, '/');
    let first = segments.next()?;
    let root = definitions.get_mut(first)?;
    match segments.next() {
        Some(rest) => root.pointer_mut(&format!("/{rest}")),
        None => Some(root),
    }
}

/// The merged view of an object schema (after following `$ref` and `allOf`).
#[derive(Default, Clone)]
struct ObjectShape {
    properties: BTreeMap<String, Value>,
    required: BTreeSet<String>,
    /// The required members in the order the schema lists them: the constructor's order.
    required_order: Vec<String>,
    open: bool,
    /// `anyOf` parts of an `allOf`, flattened into the struct.
    flattened: Vec<Value>,
}

struct Generator<'a> {
    spec: &'a ModuleSpec<'a>,
    definitions: Map<String, Value>,
    items: String,
    tags: BTreeMap<String, String>,
    tag_idents: HashSet<String>,
    emitted: HashSet<String>,
    type_overrides: HashMap<&'static str, &'static str>,
    /// Field types by struct name and wire key, for the method markers.
    fields: HashMap<String, BTreeMap<String, String>>,
    /// Named types that can be decoded on their own, for `transcode`.
    decodable: BTreeSet<String>,
    /// Canonical JSON of object and union definitions, to reuse a definition for an equal inline schema.
    canonical: HashMap<String, String>,
    /// Method-keyed result enums to emit once the request unions are known.
    deferred_results: Vec<String>,
    /// `Definition.property` for each inline type name, for override lookups.
    locations: HashMap<String, String>,
    /// Names given to inline union variants, which may reuse an equal definition.
    union_variant_hints: HashSet<String>,
}

impl<'a> Generator<'a> {
    fn new(spec: &'a ModuleSpec<'a>, definitions: Map<String, Value>) -> Self {
        let type_overrides = TYPE_OVERRIDES
            .iter()
            .filter(|entry| entry.scope.matches(spec.module))
            .map(|entry| (entry.definition, entry.rust))
            .collect();
        let mut canonical = HashMap::new();
        for (name, schema) in &definitions {
            let reusable = schema.get("properties").is_some()
                || schema.get("anyOf").is_some()
                || schema.get("allOf").is_some();
            if reusable {
                canonical
                    .entry(canonical_json(schema))
                    .or_insert_with(|| name.clone());
            }
        }
        Generator {
            spec,
            definitions,
            items: String::new(),
            tags: BTreeMap::new(),
            tag_idents: HashSet::new(),
            emitted: HashSet::new(),
            type_overrides,
            fields: HashMap::new(),
            decodable: BTreeSet::new(),
            canonical,
            deferred_results: Vec::new(),
            locations: HashMap::new(),
            union_variant_hints: HashSet::new(),
        }
    }

    fn run(&mut self) -> Result<()> {
        let names: Vec<String> = self.definitions.keys().cloned().collect();
        for name in &names {
            if SKIPS.iter().any(|skip| skip.definition == name) {
                continue;
            }
            self.definition(name)?;
        }
        self.methods()?;
        Ok(())
    }

    fn doc_link(&self, name: &str) -> String {
        match &self.spec.link_base {
            Some(base) => format!(
                "/// [`{name}`]({base}#{}) of the MCP schema, {}.\n",
                name.to_lowercase(),
                self.spec.title
            ),
            None => format!("/// `{name}` of the MCP schema, {}.\n", self.spec.title),
        }
    }

    fn definition_schema(&self, name: &str) -> Result<Value> {
        self.definitions
            .get(name)
            .cloned()
            .with_context(|| format!("reference to unknown definition `{name}`"))
    }

    /// Emits the item for a definition once, and returns the Rust name to use for it.
    fn definition(&mut self, name: &str) -> Result<String> {
        if SKIPS.iter().any(|skip| skip.definition == name) {
            bail!("definition `{name}` is skipped but referenced");
        }
        if !self.emitted.insert(name.to_owned()) {
            return Ok(name.to_owned());
        }
        let doc = self.doc_link(name);
        if let Some(rust) = self.type_overrides.get(name).copied() {
            writeln!(self.items, "{doc}pub type {name} = {rust};")?;
            self.decodable.insert(name.to_owned());
            return Ok(name.to_owned());
        }
        if matches!(name, "ServerResult" | "ClientResult") {
            let requests = if name == "ServerResult" {
                "ClientRequest"
            } else {
                "ServerRequest"
            };
            if self.definitions.contains_key(requests) {
                self.deferred_results.push(name.to_owned());
                return Ok(name.to_owned());
            }
        }
        let schema = self.definition_schema(name)?;
        self.named(name, &schema, &doc, Some(name))?;
        Ok(name.to_owned())
    }

    /// Emits a named item for a schema: a struct, enum, union or type alias.
    fn named(
        &mut self,
        name: &str,
        schema: &Value,
        doc: &str,
        location: Option<&str>,
    ) -> Result<()> {
        if let Some(variants) = union_variants(schema) {
            if let Some(values) = const_strings(variants) {
                return self.open_enum(name, &values, doc);
            }
            if let Some(inner) = nullable_inner(variants) {
                let rust = self.ty(inner, name)?;
                writeln!(self.items, "{doc}pub type {name} = Option<{rust}>;")?;
                return Ok(());
            }
            return self.union(name, variants, doc, location.unwrap_or(name));
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let values: Vec<String> = values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            return self.open_enum(name, &values, doc);
        }
        if schema.get("allOf").is_some()
            || (is_object_schema(schema) && schema.get("properties").is_some())
        {
            let shape = self.shape(schema)?;
            return self.structure(name, &shape, doc);
        }
        let rust = self.ty(schema, name)?;
        writeln!(self.items, "{doc}pub type {name} = {rust};")?;
        if !rust.starts_with("tags::") {
            self.decodable.insert(name.to_owned());
        }
        Ok(())
    }

    /// Returns the Rust type expression for a schema, emitting inline items named after `hint`.
    fn ty(&mut self, schema: &Value, hint: &str) -> Result<String> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target = reference.rsplit('/').next().unwrap_or(reference);
            return self.definition(target);
        }
        if let Some(value) = schema.get("const") {
            return Ok(match value {
                Value::String(text) => format!("tags::{}", self.tag(text)),
                Value::Number(number) if number.is_i64() => "i64".to_owned(),
                _ => "::serde_json::Value".to_owned(),
            });
        }
        if let Some(variants) = union_variants(schema) {
            if let Some(inner) = nullable_inner(variants) {
                return Ok(format!("Option<{}>", self.ty(inner, hint)?));
            }
            return self.inline_named(schema, hint);
        }
        if schema.get("enum").is_some() || schema.get("allOf").is_some() {
            return self.inline_named(schema, hint);
        }
        match schema.get("type") {
            Some(Value::Array(kinds)) => {
                let kinds: Vec<&str> = kinds.iter().filter_map(Value::as_str).collect();
                let non_null: Vec<&str> = kinds
                    .iter()
                    .copied()
                    .filter(|kind| *kind != "null")
                    .collect();
                let inner = if non_null.len() == 1 {
                    self.ty(&serde_json::json!({ "type": non_null[0] }), hint)?
                } else {
                    self.inline_named(schema, hint)?
                };
                Ok(if non_null.len() < kinds.len() {
                    format!("Option<{inner}>")
                } else {
                    inner
                })
            }
            Some(Value::String(kind)) => match kind.as_str() {
                "string" => Ok("String".to_owned()),
                "integer" => Ok("i64".to_owned()),
                "number" => Ok("f64".to_owned()),
                "boolean" => Ok("bool".to_owned()),
                "null" => Ok("()".to_owned()),
                "array" => match schema.get("items") {
                    Some(items) => Ok(format!("Vec<{}>", self.ty(items, &format!("{hint}Item"))?)),
                    None => Ok("Vec<::serde_json::Value>".to_owned()),
                },
                "object" => self.object_type(schema, hint),
                other => bail!("unsupported type `{other}` at {hint}"),
            },
            _ if schema.get("properties").is_some() => self.object_type(schema, hint),
            _ => Ok("::serde_json::Value".to_owned()),
        }
    }

    fn object_type(&mut self, schema: &Value, hint: &str) -> Result<String> {
        let has_properties = schema
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|properties| !properties.is_empty());
        if has_properties {
            return self.inline_named(schema, hint);
        }
        match schema.get("additionalProperties") {
            Some(value @ Value::Object(inner)) if !inner.is_empty() => {
                let rust = self.ty(value, &format!("{hint}Value"))?;
                if rust == "::serde_json::Value" {
                    Ok("crate::JsonObject".to_owned())
                } else {
                    Ok(format!("::std::collections::BTreeMap<String, {rust}>"))
                }
            }
            _ => Ok("crate::JsonObject".to_owned()),
        }
    }

    /// Names an inline schema: reuses an equal definition, or emits a new item called `hint`.
    fn inline_named(&mut self, schema: &Value, hint: &str) -> Result<String> {
        // An inline union, or an inline variant of a union, equal to a definition is that
        // definition (the tasks extension spells `WorkingTask` out inside `DetailedTask`). A
        // plain inline object is not: equal shapes can mean different things (`{taskId}`).
        // An inline schema named like a definition and equal to it is that definition too.
        let reusable = union_variants(schema).is_some()
            || self.union_variant_hints.contains(hint)
            || self.definitions.contains_key(hint);
        if reusable && let Some(name) = self.canonical.get(&canonical_json(schema)).cloned() {
            return self.definition(&name);
        }
        if self.definitions.contains_key(hint) {
            bail!("inline schema name `{hint}` collides with a definition");
        }
        if !self.emitted.insert(hint.to_owned()) {
            return Ok(hint.to_owned());
        }
        let location = self
            .locations
            .get(hint)
            .cloned()
            .unwrap_or_else(|| hint.to_owned());
        let doc = format!(
            "/// The inline schema at `{location}` of the MCP schema, {}.\n",
            self.spec.title
        );
        self.named(hint, schema, &doc, Some(&location))?;
        Ok(hint.to_owned())
    }

    fn tag(&mut self, value: &str) -> String {
        if let Some(ident) = self.tags.get(value) {
            return ident.clone();
        }
        let mut ident = if value
            .chars()
            .all(|character| character.is_ascii_digit() || character == '.')
        {
            value.replace('.', "_")
        } else {
            pascal_case(value)
        };
        if ident.is_empty() {
            ident = "Empty".to_owned();
        }
        if ident.starts_with(|first: char| first.is_ascii_digit()) {
            ident = format!("V{ident}");
        }
        let base = ident.clone();
        let mut counter = 2;
        while !self.tag_idents.insert(ident.clone()) {
            ident = format!("{base}{counter}");
            counter += 1;
        }
        self.tags.insert(value.to_owned(), ident.clone());
        ident
    }

    fn open_enum(&mut self, name: &str, values: &[String], doc: &str) -> Result<()> {
        writeln!(self.items, "crate::support::open_enum! {{")?;
        let doc = doc.replace("\n///", "\n    ///");
        writeln!(self.items, "    {doc}    {name} {{")?;
        let mut seen = HashSet::new();
        for value in values {
            let mut variant = pascal_case(value);
            if variant.is_empty() || variant.starts_with(|first: char| first.is_ascii_digit()) {
                variant = format!("V{variant}");
            }
            if variant == "Unknown" || !seen.insert(variant.clone()) {
                bail!("enum value `{value}` of `{name}` has no distinct variant name");
            }
            writeln!(
                self.items,
                "        /// `{value}`.\n        {variant} = {value:?},"
            )?;
        }
        writeln!(self.items, "    }}\n}}")?;
        self.decodable.insert(name.to_owned());
        Ok(())
    }

    /// Merges `$ref` and `allOf` parts into one object shape.
    fn shape(&self, schema: &Value) -> Result<ObjectShape> {
        let mut shape = ObjectShape::default();
        self.merge_into(schema, &mut shape, 0)?;
        Ok(shape)
    }

    fn merge_into(&self, schema: &Value, shape: &mut ObjectShape, depth: usize) -> Result<()> {
        if depth > 16 {
            bail!("allOf/$ref nesting too deep");
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target = reference.rsplit('/').next().unwrap_or(reference);
            return self.merge_into(&self.definition_schema(target)?, shape, depth + 1);
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for part in parts {
                self.merge_into(part, shape, depth + 1)?;
            }
        }
        if union_variants(schema).is_some() {
            shape.flattened.push(schema.clone());
            return Ok(());
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (key, property) in properties {
                shape.properties.insert(key.clone(), property.clone());
            }
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for member in required.iter().filter_map(Value::as_str) {
                if shape.required.insert(member.to_owned()) {
                    shape.required_order.push(member.to_owned());
                }
            }
        }
        match schema.get("additionalProperties") {
            None | Some(Value::Bool(false)) => {}
            Some(_) => shape.open = true,
        }
        Ok(())
    }

    fn structure(&mut self, name: &str, shape: &ObjectShape, doc: &str) -> Result<()> {
        let mut body = String::new();
        let mut defaultable = true;
        let mut field_types = BTreeMap::new();
        let mut used = HashSet::new();
        let mut builder = Builder::default();
        for (key, property) in &shape.properties {
            let mut field = field_ident(key);
            while !used.insert(field.clone()) {
                field.push('_');
            }
            let hint = format!("{name}{}", pascal_case(key));
            self.locations.insert(hint.clone(), format!("{name}.{key}"));
            let rust = self.ty(property, &hint)?;
            let required = shape.required.contains(key);
            let bare = field.trim_start_matches("r#");
            let rename = if bare == key {
                String::new()
            } else {
                format!("rename = {key:?}")
            };
            let (rust, attributes) = if required {
                if !(rust.starts_with("Option<")
                    || rust.starts_with("tags::")
                    || rust.starts_with("Vec<")
                    || rust == "crate::JsonObject")
                {
                    defaultable = false;
                }
                (rust, rename)
            } else {
                let rust = if rust.starts_with("Option<") {
                    rust
                } else {
                    format!("Option<{rust}>")
                };
                let mut attributes =
                    String::from("default, skip_serializing_if = \"Option::is_none\"");
                if !rename.is_empty() {
                    attributes = format!("{rename}, {attributes}");
                }
                (rust, attributes)
            };
            let requirement = if required { "required" } else { "optional" };
            writeln!(body, "/// `{key}` ({requirement}).")?;
            if !attributes.is_empty() {
                writeln!(body, "#[serde({attributes})]")?;
            }
            writeln!(body, "pub {field}: {rust},")?;
            builder.member(key, &field, &rust, required);
            field_types.insert(key.clone(), rust);
        }
        for (index, flattened) in shape.flattened.iter().enumerate() {
            let hint = if index == 0 {
                format!("{name}Variant")
            } else {
                format!("{name}Variant{index}")
            };
            let rust = self.ty(flattened, &hint)?;
            let field = if index == 0 {
                "variant".to_owned()
            } else {
                format!("variant{index}")
            };
            writeln!(
                body,
                "/// The members that select one of the variants.\n#[serde(flatten)]\npub {field}: {rust},"
            )?;
            builder.member("the variant", &field, &rust, true);
            defaultable = false;
        }
        // `_meta` objects are open by definition, and a message (anything with a constant
        // `method`) keeps unknown members so that relaying it loses nothing.
        let meta_like = name.ends_with("MetaObject") || name.ends_with("Meta");
        let message = shape
            .properties
            .get("method")
            .is_some_and(|method| method.get("const").is_some());
        if shape.open || meta_like || message {
            writeln!(
                body,
                "/// Members this revision does not define, kept as received.\n#[serde(flatten)]\npub extra: crate::JsonObject,"
            )?;
            builder
                .defaults
                .push(("extra".to_owned(), "crate::JsonObject::new()"));
        }
        let derives = if defaultable {
            "Clone, Debug, Default, PartialEq, ::serde::Serialize, ::serde::Deserialize"
        } else {
            "Clone, Debug, PartialEq, ::serde::Serialize, ::serde::Deserialize"
        };
        writeln!(
            self.items,
            "{doc}#[derive({derives})]\npub struct {name} {{\n{body}}}"
        )?;
        builder.write(&mut self.items, name, &shape.required_order)?;
        self.fields.insert(name.to_owned(), field_types);
        self.decodable.insert(name.to_owned());
        Ok(())
    }

    fn union(&mut self, name: &str, variants: &[Value], doc: &str, location: &str) -> Result<()> {
        let is_object = |schema: &Value| -> bool {
            schema.get("$ref").is_some()
                || is_object_schema(schema)
                || schema.get("allOf").is_some()
        };
        if variants.iter().all(is_object) {
            return self.object_union(name, variants, doc, location);
        }
        self.kind_union(name, variants, doc)
    }

    /// A union of JSON kinds (string, number, array, object...), decoded by the kind of the value.
    fn kind_union(&mut self, name: &str, variants: &[Value], doc: &str) -> Result<()> {
        let mut kinds: BTreeMap<&'static str, Vec<Value>> = BTreeMap::new();
        for variant in variants {
            let listed: Vec<String> = match variant.get("type") {
                Some(Value::Array(list)) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                Some(Value::String(kind)) => vec![kind.clone()],
                _ => vec!["object".to_owned()],
            };
            for kind in listed {
                let (key, schema) = match kind.as_str() {
                    "string" => ("String", serde_json::json!({"type": "string"})),
                    "integer" => ("Integer", serde_json::json!({"type": "integer"})),
                    "number" => ("Number", serde_json::json!({"type": "number"})),
                    "boolean" => ("Boolean", serde_json::json!({"type": "boolean"})),
                    "array" => ("Array", variant.clone()),
                    "object" => ("Object", variant.clone()),
                    other => bail!("unsupported kind `{other}` in union `{name}`"),
                };
                kinds.entry(key).or_default().push(schema);
            }
        }
        let mut arms = Vec::new();
        for (kind, schemas) in &kinds {
            let rust = if schemas.len() == 1 {
                self.ty(&schemas[0], &format!("{name}{kind}"))?
            } else {
                let merged = serde_json::json!({ "anyOf": schemas });
                self.ty(&merged, &format!("{name}{kind}"))?
            };
            arms.push((*kind, rust));
        }
        let mut body = String::new();
        for (kind, rust) in &arms {
            writeln!(
                body,
                "/// A JSON {} value.\n{kind}({rust}),",
                kind.to_lowercase()
            )?;
        }
        writeln!(
            self.items,
            "{doc}#[derive(Clone, Debug, PartialEq)]\n#[allow(clippy::large_enum_variant)] // Boxing would cost an allocation per decoded message.\npub enum {name} {{\n{body}}}"
        )?;
        self.serialize_impl(
            name,
            arms.iter().map(|(kind, _)| kind.to_string()).collect(),
            false,
        )?;
        let has_integer = kinds.contains_key("Integer");
        let mut matches = String::new();
        for (kind, _) in &arms {
            let pattern = match *kind {
                "String" => "::serde_json::Value::String(_)",
                "Integer" => {
                    "::serde_json::Value::Number(number) if number.is_i64() || number.is_u64()"
                }
                "Number" => "::serde_json::Value::Number(_)",
                "Boolean" => "::serde_json::Value::Bool(_)",
                "Array" => "::serde_json::Value::Array(_)",
                _ => "::serde_json::Value::Object(_)",
            };
            writeln!(
                matches,
                "{pattern} => crate::support::from_value(value).map(Self::{kind}),"
            )?;
        }
        let _ = has_integer;
        self.deserialize_impl(
            name,
            &format!(
                "match &value {{ {matches} other => Err(::serde::de::Error::custom(format_args!(\"`{name}` cannot be {{}}\", crate::support::kind_name(other)))), }}"
            ),
        )?;
        self.decodable.insert(name.to_owned());
        Ok(())
    }

    /// A union of object schemas, decoded by a discriminating member.
    fn object_union(
        &mut self,
        name: &str,
        variants: &[Value],
        doc: &str,
        location: &str,
    ) -> Result<()> {
        let mut members: Vec<(String, ObjectShape)> = Vec::new();
        for (index, variant) in variants.iter().enumerate() {
            let shape = self.shape(variant)?;
            let hint = match discriminating_const(&shape) {
                Some(value) => format!("{name}{}", pascal_case(&value)),
                None => format!("{name}{index}"),
            };
            self.union_variant_hints.insert(hint.clone());
            let rust = self.ty(variant, &hint)?;
            members.push((rust, shape));
        }
        let variant_names: Vec<String> = members.iter().map(|(rust, _)| rust.clone()).collect();
        let decide = if let Some(keyed) = KEYED_UNIONS.iter().find(|entry| {
            entry.scope.matches(self.spec.module)
                && (entry.location == location || entry.location == name)
        }) {
            keyed_decision(name, keyed.key, keyed.arms, keyed.absent)
        } else if let Some(rules) = RULE_UNIONS
            .iter()
            .find(|entry| entry.scope.matches(self.spec.module) && entry.definition == name)
        {
            rule_decision(name, rules.rules, &variant_names)?
        } else if let Some((key, arms, absent)) = find_tag(&members) {
            let arms: Vec<(String, String)> = arms;
            let borrowed: Vec<(&str, &str)> = arms
                .iter()
                .map(|(value, variant)| (value.as_str(), variant.as_str()))
                .collect();
            keyed_decision(name, &key, &borrowed, absent.as_deref())
        } else if let Some(keys) = find_presence_keys(&members) {
            let mut decision = String::new();
            for (key, variant) in keys {
                write!(
                    decision,
                    "if crate::support::has_member(&value, {key:?}) {{ crate::support::from_value(value).map(Self::{variant}) }} else "
                )?;
            }
            decision.push_str("{ Ok(Self::Unknown(value)) }");
            decision
        } else {
            bail!("union `{location}` has no discriminator; add an entry to the override table")
        };
        let mut body = String::new();
        for variant in &variant_names {
            writeln!(body, "/// A [`{variant}`].\n{variant}({variant}),")?;
        }
        body.push_str("/// A value whose discriminator this revision does not define, kept as received.\nUnknown(::serde_json::Value),\n");
        writeln!(
            self.items,
            "{doc}#[derive(Clone, Debug, PartialEq)]\n#[allow(clippy::large_enum_variant)] // Boxing would cost an allocation per decoded message.\npub enum {name} {{\n{body}}}"
        )?;
        self.serialize_impl(name, variant_names, true)?;
        self.deserialize_impl(
            name,
            &format!(
                "if !value.is_object() {{ return Err(::serde::de::Error::custom(format_args!(\"`{name}` must be an object, not {{}}\", crate::support::kind_name(&value)))); }}\n{decide}"
            ),
        )?;
        self.decodable.insert(name.to_owned());
        Ok(())
    }

    fn serialize_impl(&mut self, name: &str, variants: Vec<String>, unknown: bool) -> Result<()> {
        let mut arms = String::new();
        for variant in variants {
            writeln!(
                arms,
                "Self::{variant}(inner) => ::serde::Serialize::serialize(inner, serializer),"
            )?;
        }
        if unknown {
            arms.push_str(
                "Self::Unknown(inner) => ::serde::Serialize::serialize(inner, serializer),\n",
            );
        }
        writeln!(
            self.items,
            "impl ::serde::Serialize for {name} {{ fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {{ match self {{ {arms} }} }} }}"
        )?;
        Ok(())
    }

    fn deserialize_impl(&mut self, name: &str, decision: &str) -> Result<()> {
        writeln!(
            self.items,
            "impl<'de> ::serde::Deserialize<'de> for {name} {{ fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {{ let value = crate::support::deserialize_strict_value(deserializer)?; {decision} }} }}"
        )?;
        Ok(())
    }

    /// Emits the method marker types and the method-keyed result enums.
    fn methods(&mut self) -> Result<()> {
        let mut client_requests = self.union_members("ClientRequest");
        let mut server_requests = self.union_members("ServerRequest");
        let mut client_notifications = self.union_members("ClientNotification");
        let mut server_notifications = self.union_members("ServerNotification");
        for (module, requests, notifications) in EXTENSION_DIRECTIONS {
            if *module == self.spec.module {
                client_requests = requests.iter().map(|name| (*name).to_owned()).collect();
                server_notifications = notifications
                    .iter()
                    .map(|name| (*name).to_owned())
                    .collect();
                server_requests.clear();
                client_notifications.clear();
            }
        }

        let mut markers: BTreeMap<String, Marker> = BTreeMap::new();
        for (definitions, from_client, is_request) in [
            (&client_requests, true, true),
            (&server_requests, false, true),
            (&client_notifications, true, false),
            (&server_notifications, false, false),
        ] {
            for definition in definitions {
                let suffix = if is_request {
                    "Request"
                } else {
                    "Notification"
                };
                let marker_name = definition
                    .strip_suffix(suffix)
                    .unwrap_or(definition)
                    .to_owned();
                if let Some(existing) = markers.get_mut(&marker_name) {
                    if existing.definition != *definition {
                        bail!(
                            "method markers for `{definition}` and `{}` collide",
                            existing.definition
                        );
                    }
                    existing.from_client |= from_client;
                    existing.from_server |= !from_client;
                    continue;
                }
                let marker = self.marker(definition, is_request, from_client)?;
                markers.insert(marker_name, marker);
            }
        }

        let mut methods = String::new();
        for (marker_name, marker) in &markers {
            let direction = match (marker.from_client, marker.from_server) {
                (true, true) => "sent by either side",
                (true, false) => "sent by the client",
                _ => "sent by the server",
            };
            let kind = if marker.is_request {
                "request"
            } else {
                "notification"
            };
            writeln!(
                methods,
                "/// The `{}` {kind}, {direction}; its message is [`{}`].\n#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]\npub struct {marker_name};",
                marker.method, marker.definition
            )?;
            if marker.is_request {
                writeln!(
                    methods,
                    "impl ::mcpwire_jsonrpc::method::RequestMethod for {marker_name} {{ const METHOD: &'static str = {:?}; type Params = {}; type Result = {}; }}",
                    marker.method,
                    marker.params,
                    marker.result.as_deref().unwrap_or("()")
                )?;
            } else {
                writeln!(
                    methods,
                    "impl ::mcpwire_jsonrpc::method::NotificationMethod for {marker_name} {{ const METHOD: &'static str = {:?}; type Params = {}; }}",
                    marker.method, marker.params
                )?;
            }
            if marker.from_client {
                writeln!(methods, "impl crate::FromClient for {marker_name} {{}}")?;
            }
            if marker.from_server {
                writeln!(methods, "impl crate::FromServer for {marker_name} {{}}")?;
            }
        }
        writeln!(
            self.items,
            "/// Marker types for each method of {}, implementing the typed method traits of `mcpwire-jsonrpc` and the direction traits of this crate.\npub mod methods {{ #[allow(unused_imports)] use super::*;\n{methods}}}",
            self.spec.title
        )?;

        let deferred = std::mem::take(&mut self.deferred_results);
        for name in deferred {
            let requests = if name == "ServerResult" {
                &client_requests
            } else {
                &server_requests
            };
            let mut arms: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for definition in requests {
                let marker = markers
                    .values()
                    .find(|marker| marker.definition == *definition)
                    .context("request without marker")?;
                let result = marker.result.clone().context("request without result")?;
                arms.entry(result).or_default().push(marker.method.clone());
            }
            self.result_enum(&name, &arms)?;
        }
        Ok(())
    }

    fn union_members(&self, name: &str) -> Vec<String> {
        self.definitions
            .get(name)
            .and_then(union_variants_owned)
            .map(|variants| {
                variants
                    .iter()
                    .filter_map(|variant| variant.get("$ref").and_then(Value::as_str))
                    .map(|reference| reference.rsplit('/').next().unwrap_or(reference).to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn marker(&mut self, definition: &str, is_request: bool, from_client: bool) -> Result<Marker> {
        self.definition(definition)?;
        let shape = self.shape(&self.definition_schema(definition)?)?;
        let method = shape
            .properties
            .get("method")
            .and_then(|method| method.get("const"))
            .and_then(Value::as_str)
            .with_context(|| format!("`{definition}` has no constant method"))?
            .to_owned();
        let params = self
            .fields
            .get(definition)
            .and_then(|fields| fields.get("params"))
            .cloned()
            .unwrap_or_else(|| "Option<crate::JsonObject>".to_owned());
        let result = if is_request {
            let stem = definition.strip_suffix("Request").unwrap_or(definition);
            let response = format!("{stem}ResultResponse");
            let result = format!("{stem}Result");
            Some(if self.definitions.contains_key(&response) {
                self.definition(&response)?;
                self.fields
                    .get(&response)
                    .and_then(|fields| fields.get("result"))
                    .cloned()
                    .with_context(|| format!("`{response}` has no result"))?
            } else if self.definitions.contains_key(&result) {
                self.definition(&result)?
            } else if self.definitions.contains_key("EmptyResult") {
                self.definition("EmptyResult")?
            } else {
                self.definition("Result")?
            })
        } else {
            None
        };
        Ok(Marker {
            definition: definition.to_owned(),
            method,
            params,
            result,
            is_request,
            from_client,
            from_server: !from_client,
        })
    }

    fn result_enum(&mut self, name: &str, arms: &BTreeMap<String, Vec<String>>) -> Result<()> {
        let doc = self.doc_link(name);
        let sender = if name == "ServerResult" {
            "server"
        } else {
            "client"
        };
        let mut body = String::new();
        let mut decode = String::new();
        for (result, methods) in arms {
            writeln!(body, "/// A [`{result}`].\n{result}({result}),")?;
            let patterns: Vec<String> =
                methods.iter().map(|method| format!("{method:?}")).collect();
            writeln!(
                decode,
                "{} => ::serde_json::from_str(result.get()).map(Self::{result}),",
                patterns.join(" | ")
            )?;
        }
        body.push_str("/// The result of a method this revision does not define, kept as received.\nUnknown(::serde_json::Value),\n");
        writeln!(
            self.items,
            "{doc}///\n/// A result has no discriminator of its own: decode it with [`{name}::decode`] and the method of the request it answers.\n#[derive(Clone, Debug, PartialEq)]\n#[allow(clippy::large_enum_variant)] // Boxing would cost an allocation per decoded message.\npub enum {name} {{\n{body}}}"
        )?;
        let all_methods: Vec<String> = arms
            .values()
            .flatten()
            .map(|method| format!("{method:?}"))
            .collect();
        writeln!(
            self.items,
            "impl {name} {{
                /// The methods whose results [`{name}::decode`] knows.
                pub const METHODS: &'static [&'static str] = &[{}];

                /// Decodes a result sent by the {sender}, given the method of the request it answers.
                ///
                /// # Errors
                ///
                /// Fails when the result does not have the shape of that method's result.
                pub fn decode(method: &str, result: &::serde_json::value::RawValue) -> ::core::result::Result<Self, ::serde_json::Error> {{
                    match method {{ {decode} _ => ::serde_json::from_str(result.get()).map(Self::Unknown), }}
                }}
            }}",
            all_methods.join(", ")
        )?;
        self.serialize_impl(name, arms.keys().cloned().collect(), true)?;
        Ok(())
    }

    fn finish(self) -> String {
        let mut source = String::new();
        source.push_str(&self.items);
        source.push_str("/// Zero-sized types for the constant strings of this schema (`\"jsonrpc\": \"2.0\"`, `\"type\": \"text\"`, method names...).\npub mod tags {\n");
        for (value, ident) in &self.tags {
            let _ = writeln!(
                source,
                "crate::support::const_tag!(\n/// The constant `{value:?}`.\n{ident} = {value:?});"
            );
        }
        source.push_str("}\n");
        source.push_str(
            "/// Decodes `json` as the named type of this module and encodes it again, for golden tests and fuzzing.\n///\n/// Returns `None` for a name this module does not define.\n#[doc(hidden)]\npub fn transcode(type_name: &str, json: &str) -> Option<::core::result::Result<::serde_json::Value, ::serde_json::Error>> {\n    fn run<T: ::serde::de::DeserializeOwned + ::serde::Serialize>(json: &str) -> ::core::result::Result<::serde_json::Value, ::serde_json::Error> {\n        let decoded: T = ::serde_json::from_str(json)?;\n        ::serde_json::to_value(&decoded)\n    }\n    Some(match type_name {\n",
        );
        for name in &self.decodable {
            let _ = writeln!(source, "{name:?} => run::<{name}>(json),");
        }
        source.push_str("_ => return None,\n})\n}\n");
        source
    }
}

/// The constructor and setters of one generated struct: `new` takes the required members
/// (a `String` as `impl Into<String>`) and leaves the optional ones unset, constant tags at
/// their value and unknown members empty; `with_<member>` sets one optional member.
#[derive(Default)]
struct Builder {
    /// `(parameter, type, argument, member key)` of each required member.
    parameters: Vec<(String, String, String, String)>,
    /// `(field, value)` of the members `new` fills by itself.
    defaults: Vec<(String, &'static str)>,
    /// `(member key, field, inner type)` of each optional member.
    setters: Vec<(String, String, String)>,
}

impl Builder {
    fn member(&mut self, key: &str, field: &str, rust: &str, required: bool) {
        if required && rust.starts_with("tags::") {
            self.defaults
                .push((field.to_owned(), "::core::default::Default::default()"));
        } else if required {
            let (parameter_type, argument) = if rust == "String" {
                ("impl Into<String>".to_owned(), format!("{field}.into()"))
            } else {
                (rust.to_owned(), field.to_owned())
            };
            self.parameters
                .push((field.to_owned(), parameter_type, argument, key.to_owned()));
        } else {
            let inner = rust
                .strip_prefix("Option<")
                .and_then(|rest| rest.strip_suffix('>'))
                .unwrap_or(rust);
            self.defaults.push((field.to_owned(), "None"));
            self.setters
                .push((key.to_owned(), field.to_owned(), inner.to_owned()));
        }
    }

    /// Writes the `impl` block; `new` takes the required members in `order` (the schema's
    /// `required` list), then any flattened variant.
    fn write(&mut self, out: &mut String, name: &str, order: &[String]) -> Result<()> {
        self.parameters.sort_by_key(|(_, _, _, key)| {
            order
                .iter()
                .position(|member| member == key)
                .unwrap_or(usize::MAX)
        });
        let parameters: Vec<String> = self
            .parameters
            .iter()
            .map(|(field, ty, _, _)| format!("{field}: {ty}"))
            .collect();
        let mut fields: Vec<String> = self
            .parameters
            .iter()
            .map(|(field, _, argument, _)| {
                if field == argument {
                    field.clone()
                } else {
                    format!("{field}: {argument}")
                }
            })
            .collect();
        fields.extend(
            self.defaults
                .iter()
                .map(|(field, value)| format!("{field}: {value}")),
        );
        let lint = if parameters.len() > 7 {
            "#[allow(clippy::too_many_arguments)]\n"
        } else {
            ""
        };
        writeln!(
            out,
            "impl {name} {{\n/// Builds a `{name}` from its required members; the optional ones are unset.\n#[must_use]\n{lint}pub fn new({}) -> Self {{\nSelf {{ {} }}\n}}",
            parameters.join(", "),
            fields.join(", ")
        )?;
        for (key, field, inner) in &self.setters {
            let bare = field.trim_start_matches("r#");
            let (ty, value) = if inner == "String" {
                ("impl Into<String>", "value.into()")
            } else {
                (inner.as_str(), "value")
            };
            writeln!(
                out,
                "/// Sets `{key}`.\n#[must_use]\npub fn with_{bare}(mut self, value: {ty}) -> Self {{\nself.{field} = Some({value});\nself\n}}"
            )?;
        }
        writeln!(out, "}}")?;
        Ok(())
    }
}

struct Marker {
    definition: String,
    method: String,
    params: String,
    result: Option<String>,
    is_request: bool,
    from_client: bool,
    from_server: bool,
}

fn keyed_decision(name: &str, key: &str, arms: &[(&str, &str)], absent: Option<&str>) -> String {
    let mut decision = format!("match crate::support::str_member(&value, {key:?}) {{\n");
    for (value, variant) in arms {
        let _ = writeln!(
            decision,
            "Some({value:?}) => crate::support::from_value(value).map(Self::{variant}),"
        );
    }
    match absent {
        Some(variant) => {
            let _ = writeln!(
                decision,
                "None if !crate::support::has_member(&value, {key:?}) => crate::support::from_value(value).map(Self::{variant}),"
            );
        }
        None => {
            let _ = writeln!(
                decision,
                "None if !crate::support::has_member(&value, {key:?}) => Err(::serde::de::Error::custom(\"`{name}` needs the member `{key}`\")),"
            );
        }
    }
    decision.push_str("_ => Ok(Self::Unknown(value)),\n}");
    decision
}

fn rule_decision(
    name: &str,
    rules: &[(&[Condition], &str)],
    variants: &[String],
) -> Result<String> {
    let mut decision = String::new();
    let mut used = BTreeSet::new();
    for (conditions, variant) in rules {
        if !variants.iter().any(|candidate| candidate == variant) {
            continue;
        }
        used.insert(*variant);
        let checks: Vec<String> = conditions
            .iter()
            .map(|condition| match condition {
                Condition::Equals(key, values) => {
                    let values: Vec<String> = values.iter().map(|value| format!("Some({value:?})")).collect();
                    format!("matches!(crate::support::str_member(&value, {key:?}), {})", values.join(" | "))
                }
                Condition::Has(key) => format!("crate::support::has_member(&value, {key:?})"),
                Condition::HasNested(key, nested) => format!(
                    "value.get({key:?}).is_some_and(|inner| crate::support::has_member(inner, {nested:?}))"
                ),
            })
            .collect();
        let _ = write!(
            decision,
            "if {} {{ crate::support::from_value(value).map(Self::{variant}) }} else ",
            checks.join(" && ")
        );
    }
    if let Some(missing) = variants
        .iter()
        .find(|variant| !used.contains(variant.as_str()))
    {
        bail!("rule union `{name}` has no rule for `{missing}`");
    }
    decision.push_str("{ Ok(Self::Unknown(value)) }");
    Ok(decision)
}

/// Finds a member that is a constant string in every variant with distinct values; at most one
/// variant may leave it optional, and that variant is chosen when the member is absent.
#[allow(clippy::type_complexity)]
fn find_tag(
    members: &[(String, ObjectShape)],
) -> Option<(String, Vec<(String, String)>, Option<String>)> {
    let first = &members.first()?.1;
    let mut candidates: Vec<&String> = first.properties.keys().collect();
    let preference = ["type", "method", "mode", "status", "kind"];
    candidates.sort_by_key(|key| {
        preference
            .iter()
            .position(|preferred| preferred == key)
            .unwrap_or(usize::MAX)
    });
    'candidates: for key in candidates {
        let mut arms = Vec::new();
        let mut absent = None;
        let mut seen = HashSet::new();
        for (variant, shape) in members {
            let Some(property) = shape.properties.get(key) else {
                continue 'candidates;
            };
            let values: Vec<String> =
                if let Some(value) = property.get("const").and_then(Value::as_str) {
                    vec![value.to_owned()]
                } else if let Some(values) = property.get("enum").and_then(Value::as_array) {
                    values
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                } else {
                    continue 'candidates;
                };
            for value in values {
                if !seen.insert(value.clone()) {
                    continue 'candidates;
                }
                arms.push((value, variant.clone()));
            }
            if !shape.required.contains(key) {
                if absent.is_some() {
                    continue 'candidates;
                }
                absent = Some(variant.clone());
            }
        }
        return Some((key.clone(), arms, absent));
    }
    None
}

/// Finds, for each variant, a required member that no other variant defines.
fn find_presence_keys(members: &[(String, ObjectShape)]) -> Option<Vec<(String, String)>> {
    let mut keys = Vec::new();
    for (index, (variant, shape)) in members.iter().enumerate() {
        let unique = shape.required.iter().find(|key| {
            members.iter().enumerate().all(|(other, (_, other_shape))| {
                other == index || !other_shape.properties.contains_key(*key)
            })
        })?;
        keys.push((unique.clone(), variant.clone()));
    }
    Some(keys)
}

fn discriminating_const(shape: &ObjectShape) -> Option<String> {
    ["type", "method", "mode", "status"].iter().find_map(|key| {
        shape
            .properties
            .get(*key)
            .and_then(|property| property.get("const"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
}

fn union_variants(schema: &Value) -> Option<&Vec<Value>> {
    schema
        .get("anyOf")
        .or_else(|| schema.get("oneOf"))
        .and_then(Value::as_array)
}

fn union_variants_owned(schema: &Value) -> Option<Vec<Value>> {
    union_variants(schema).cloned()
}

fn const_strings(variants: &[Value]) -> Option<Vec<String>> {
    variants
        .iter()
        .map(|variant| {
            variant
                .get("const")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect()
}

fn nullable_inner(variants: &[Value]) -> Option<&Value> {
    if variants.len() != 2 {
        return None;
    }
    let is_null = |schema: &Value| schema.get("type").and_then(Value::as_str) == Some("null");
    match (is_null(&variants[0]), is_null(&variants[1])) {
        (false, true) => Some(&variants[0]),
        (true, false) => Some(&variants[1]),
        _ => None,
    }
}

fn is_object_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
        || (schema.get("type").is_none() && schema.get("properties").is_some())
}

/// Serialises a schema without its prose, so that equal shapes compare equal.
fn canonical_json(schema: &Value) -> String {
    fn strip(schema: &Value) -> Value {
        match schema {
            Value::Object(members) => {
                let mut out = Map::new();
                for (key, value) in members {
                    match key.as_str() {
                        "description" | "$schema" | "title" if !value.is_object() => {}
                        "properties" | "$defs" | "definitions" => {
                            let inner = value
                                .as_object()
                                .map(|map| {
                                    map.iter()
                                        .map(|(name, child)| (name.clone(), strip(child)))
                                        .collect()
                                })
                                .unwrap_or_default();
                            out.insert(key.clone(), Value::Object(inner));
                        }
                        _ => {
                            out.insert(key.clone(), strip(value));
                        }
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    strip(schema).to_string()
}

/// `listChanged` → `ListChanged`, `tools/call` → `ToolsCall`, `date-time` → `DateTime`.
pub(crate) fn pascal_case(text: &str) -> String {
    let mut out = String::new();
    for segment in text.split(|character: char| !character.is_ascii_alphanumeric()) {
        let mut characters = segment.chars();
        if let Some(first) = characters.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(characters);
        }
    }
    out
}

/// `listChanged` → `list_changed`, `_meta` → `meta`, `type` → `r#type`.
pub(crate) fn field_ident(key: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for character in key.chars() {
        if character.is_ascii_uppercase() {
            if previous_lower {
                out.push('_');
            }
            out.push(character.to_ascii_lowercase());
            previous_lower = false;
        } else if character.is_ascii_alphanumeric() {
            out.push(character);
            previous_lower = character.is_ascii_lowercase() || character.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        }
    }
    let out = out.trim_matches('_').to_owned();
    let out = if out.is_empty() {
        "value".to_owned()
    } else {
        out
    };
    const KEYWORDS: &[&str] = &[
        "as", "break", "const", "continue", "else", "enum", "extern", "false", "fn", "for", "if",
        "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
        "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "async",
        "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
        "typeof", "unsized", "virtual", "yield", "try", "gen",
    ];
    if KEYWORDS.contains(&out.as_str()) {
        format!("r#{out}")
    } else if out.starts_with(|first: char| first.is_ascii_digit()) {
        format!("n{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_rust_conventions() {
        assert_eq!(pascal_case("tools/call"), "ToolsCall");
        assert_eq!(pascal_case("date-time"), "DateTime");
        assert_eq!(pascal_case("input_required"), "InputRequired");
        assert_eq!(field_ident("listChanged"), "list_changed");
        assert_eq!(field_ident("_meta"), "meta");
        assert_eq!(field_ident("$schema"), "schema");
        assert_eq!(field_ident("type"), "r#type");
        assert_eq!(
            field_ident("io.modelcontextprotocol/protocolVersion"),
            "io_modelcontextprotocol_protocol_version"
        );
        assert_eq!(field_ident("URL"), "url");
    }

    #[test]
    fn a_union_without_discriminator_is_refused() {
        let document = serde_json::json!({"$defs": {
            "A": {"type": "object", "properties": {"x": {"type": "string"}}},
            "B": {"type": "object", "properties": {"x": {"type": "integer"}}},
            "U": {"anyOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}]}
        }});
        let spec = ModuleSpec {
            module: "test",
            title: "a test",
            link_base: None,
        };
        let error = generate(&spec, &document).expect_err("no discriminator");
        assert!(error.to_string().contains("no discriminator"), "{error}");
    }

    #[test]
    fn a_tagged_union_dispatches_on_its_constant() {
        let document = serde_json::json!({"$defs": {
            "A": {"type": "object", "properties": {"type": {"const": "a", "type": "string"}}, "required": ["type"]},
            "B": {"type": "object", "properties": {"type": {"const": "b", "type": "string"}}, "required": ["type"]},
            "U": {"anyOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}]}
        }});
        let spec = ModuleSpec {
            module: "test",
            title: "a test",
            link_base: None,
        };
        let source = generate(&spec, &document).expect("generates");
        assert!(
            source.contains("Some(\"a\") => crate::support::from_value(value).map(Self::A)"),
            "{source}"
        );
        assert!(
            source.contains("Some(\"b\") => crate::support::from_value(value).map(Self::B)"),
            "{source}"
        );
    }
}
