//! Strict parsing of incoming messages.
//!
//! A message is read in stages, and the first stage that fails decides the
//! error code:
//!
//! 1. **Limits and text** (`-32700` parse error, never an id). The input must
//!    fit in [`ParseOptions::max_size`], be UTF-8, nest arrays and objects at
//!    most [`ParseOptions::max_depth`] levels deep, contain no lone UTF-16
//!    surrogate escape and be exactly one JSON value (no trailing text, `NaN`,
//!    comments or trailing commas). Size and depth are checked on the raw
//!    bytes before serde_json runs, so an oversized or deeply nested input
//!    costs one linear scan and no recursion.
//! 2. **Shape** (`-32600` invalid request). The value must be an object; an
//!    array is a batch, refused unless [`ParseOptions::allow_batch`] is set.
//!    No key may appear twice, compared after unescaping and without any case
//!    or Unicode folding; keys that are not JSON-RPC members (including
//!    near-misses such as `"Method"`) are ignored.
//! 3. **Members** (`-32600`, except positional params). `jsonrpc` is the
//!    string `"2.0"`. `id` is a string or an integer within `i64`; `null` is
//!    accepted only on an error response. `method` is a non-empty string and
//!    excludes `result` and `error`; exactly one of `result` and `error` makes
//!    a response. `params` is an object; an array gets `-32602` invalid
//!    params, `null` or a scalar `-32600`. `error` is an object with an `i32`
//!    `code` and a string `message`.
//!
//! The id in a [`ParseError`] is the message's id whenever that id was present
//! and valid, so the error response can be matched to the request.
//!
//! Params, results and error data are kept as raw JSON text. Their contents
//! are checked for syntax and depth here, and decoded by whoever knows their
//! type. Numbers are checked against the JSON grammar only: a number such as
//! `1e400`, valid JSON but beyond the `f64` range, is no parse error. As an
//! id or an error code it is refused with `-32600`; inside params it is
//! reported by [`decode_params`](crate::decode_params) as `-32602`.
//!
//! # Why size and depth are parse errors
//!
//! An input over a limit is refused before it is read as JSON, so the parser
//! can neither vouch that it is JSON nor read its id. `-32700` with no id
//! states exactly that, whereas `-32600` would claim the input was a JSON
//! value that failed the message rules.

use std::fmt;
use std::str::FromStr;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::{ErrorCode, ErrorObject};
use crate::id::RequestId;
use crate::keys::{Key, SeenKeys, describe_duplicate};
use crate::message::{ErrorResponse, JSONRPC_VERSION, Message, Notification, Request, Response};

/// Default for [`ParseOptions::max_size`]: 4 MiB, the request body limit
/// shared by the official MCP SDKs.
pub const DEFAULT_MAX_SIZE: usize = 4 * 1024 * 1024;

/// Default for [`ParseOptions::max_depth`]: 64 levels, far beyond what any
/// MCP message needs and well inside serde_json's own recursion limit.
pub const DEFAULT_MAX_DEPTH: usize = 64;

/// Limits and switches for [`parse`].
///
/// # Examples
///
/// ```
/// use mcpwire_jsonrpc::ParseOptions;
///
/// // Accept batches, for peers that negotiated the 2025-03-26 revision.
/// let options = ParseOptions { allow_batch: true, ..ParseOptions::default() };
/// assert_eq!(options.max_depth, 64);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseOptions {
    /// Largest accepted input in bytes; larger inputs are a `-32700` parse
    /// error. Defaults to [`DEFAULT_MAX_SIZE`].
    pub max_size: usize,
    /// Deepest accepted nesting of arrays and objects, counted over the whole
    /// input: the message object is level 1 and a batch array adds a level.
    /// Deeper inputs are a `-32700` parse error. Defaults to
    /// [`DEFAULT_MAX_DEPTH`].
    pub max_depth: usize,
    /// Whether a top-level array is read as a batch. Only the `2025-03-26`
    /// MCP revision allowed batches; later revisions removed them. Defaults to
    /// `false`, which makes every array a `-32600` invalid request.
    pub allow_batch: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_size: DEFAULT_MAX_SIZE,
            max_depth: DEFAULT_MAX_DEPTH,
            allow_batch: false,
        }
    }
}

/// What [`parse`] found: one message or a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A single message.
    Single(Message),
    /// A batch, read only when [`ParseOptions::allow_batch`] is set.
    ///
    /// Each element succeeds or fails on its own, in input order, because
    /// JSON-RPC answers an invalid element with its own error response and
    /// still processes the others. An element that is not an object (a
    /// nested array included) fails with `-32600`.
    Batch(Vec<Result<Message, ParseError>>),
}

/// Why an input is not an acceptable message.
///
/// [`code`](Self::code) and [`id`](Self::id) are the code and id the error
/// response should carry; [`to_error_response`](Self::to_error_response)
/// builds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    kind: Kind,
    id: Option<RequestId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    TooLarge { size: usize, limit: usize },
    TooDeep { limit: usize },
    InvalidUtf8,
    LoneSurrogate,
    Syntax(String),
    NotAnObject,
    BatchNotAllowed,
    EmptyBatch,
    Structure(String),
    DuplicateKey(String),
    Version,
    InvalidId,
    NullId,
    InvalidMethod(&'static str),
    MethodWithReply,
    ResultAndError,
    NoMethodOrReply,
    MissingResponseId,
    NullParams,
    PositionalParams,
    ScalarParams,
    ParamsWithoutMethod,
    InvalidErrorObject(String),
}

impl ParseError {
    fn new(kind: Kind, id: Option<RequestId>) -> Self {
        ParseError { kind, id }
    }

    /// The error code for the error response: [`ErrorCode::PARSE_ERROR`] when
    /// the input is not acceptable JSON text, [`ErrorCode::INVALID_PARAMS`]
    /// when the params are an array, and [`ErrorCode::INVALID_REQUEST`]
    /// otherwise.
    pub fn code(&self) -> ErrorCode {
        match self.kind {
            Kind::TooLarge { .. }
            | Kind::TooDeep { .. }
            | Kind::InvalidUtf8
            | Kind::LoneSurrogate
            | Kind::Syntax(_) => ErrorCode::PARSE_ERROR,
            Kind::PositionalParams => ErrorCode::INVALID_PARAMS,
            _ => ErrorCode::INVALID_REQUEST,
        }
    }

    /// The message's id, when it was present and valid.
    pub fn id(&self) -> Option<&RequestId> {
        self.id.as_ref()
    }

    /// Builds the error response to send back, with this error's code, id and
    /// description.
    pub fn to_error_response(&self) -> ErrorResponse {
        ErrorResponse::new(
            self.id.clone(),
            ErrorObject::new(self.code(), self.to_string()),
        )
    }

    /// Returns whether the code is [`ErrorCode::PARSE_ERROR`].
    pub fn is_parse_error(&self) -> bool {
        self.code() == ErrorCode::PARSE_ERROR
    }

    /// Returns whether the code is [`ErrorCode::INVALID_REQUEST`].
    pub fn is_invalid_request(&self) -> bool {
        self.code() == ErrorCode::INVALID_REQUEST
    }

    /// Returns whether the code is [`ErrorCode::INVALID_PARAMS`].
    pub fn is_invalid_params(&self) -> bool {
        self.code() == ErrorCode::INVALID_PARAMS
    }

    /// Returns whether the input exceeded [`ParseOptions::max_size`].
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, Kind::TooLarge { .. })
    }

    /// Returns whether the input exceeded [`ParseOptions::max_depth`].
    pub fn is_too_deep(&self) -> bool {
        matches!(self.kind, Kind::TooDeep { .. })
    }

    /// Returns whether the input was a batch and batches are not allowed.
    pub fn is_batch_rejected(&self) -> bool {
        matches!(self.kind, Kind::BatchNotAllowed)
    }

    /// Returns whether a key appeared twice in the message or its `error`
    /// object.
    pub fn is_duplicate_key(&self) -> bool {
        match &self.kind {
            Kind::DuplicateKey(_) => true,
            Kind::InvalidErrorObject(detail) => detail.starts_with("duplicate key"),
            _ => false,
        }
    }

    /// Returns whether the message has no `method` and is not a valid response: it carries
    /// both `result` and `error`, neither of them, or a malformed `error` object. Such a
    /// message is a broken reply, never a request, so it must not be answered.
    pub fn is_malformed_response(&self) -> bool {
        matches!(
            self.kind,
            Kind::ResultAndError | Kind::NoMethodOrReply | Kind::InvalidErrorObject(_)
        )
    }

    /// Returns whether the `id` member was present but not a valid request id.
    pub fn is_invalid_id(&self) -> bool {
        matches!(self.kind, Kind::InvalidId | Kind::NullId)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every code a parse error can have is named, so the fallback is
        // never shown.
        let prefix = self.code().name().unwrap_or("error");
        write!(f, "{prefix}: ")?;
        match &self.kind {
            Kind::TooLarge { size, limit } => {
                write!(
                    f,
                    "message of {size} bytes exceeds the limit of {limit} bytes"
                )
            }
            Kind::TooDeep { limit } => {
                write!(f, "arrays and objects nest deeper than {limit} levels")
            }
            Kind::InvalidUtf8 => f.write_str("message is not valid utf-8"),
            Kind::LoneSurrogate => f.write_str("string contains a lone utf-16 surrogate escape"),
            Kind::Syntax(detail) | Kind::Structure(detail) | Kind::DuplicateKey(detail) => {
                f.write_str(detail)
            }
            Kind::NotAnObject => f.write_str("message is not a json object"),
            Kind::BatchNotAllowed => f.write_str("batches are not supported"),
            Kind::EmptyBatch => f.write_str("batch is empty"),
            Kind::Version => write!(f, "`jsonrpc` must be the string \"{JSONRPC_VERSION}\""),
            Kind::InvalidId => {
                f.write_str("`id` must be a string or an integer within the i64 range")
            }
            Kind::NullId => f.write_str("`id` must not be null"),
            Kind::InvalidMethod(detail) => f.write_str(detail),
            Kind::MethodWithReply => {
                f.write_str("a message cannot have `method` together with `result` or `error`")
            }
            Kind::ResultAndError => f.write_str("a response cannot have both `result` and `error`"),
            Kind::NoMethodOrReply => f.write_str("message has no `method`, `result` or `error`"),
            Kind::MissingResponseId => f.write_str("a response with `result` must have an `id`"),
            Kind::NullParams => f.write_str("`params` must not be null"),
            Kind::PositionalParams => f.write_str("`params` must be an object, not an array"),
            Kind::ScalarParams => f.write_str("`params` must be an object"),
            Kind::ParamsWithoutMethod => f.write_str("`params` is only allowed with `method`"),
            Kind::InvalidErrorObject(detail) => write!(f, "invalid `error` object: {detail}"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses one message, or a batch when `options` allow it.
///
/// See the [module documentation](mod@crate::parse) for the rules and which
/// error code each broken rule produces.
///
/// # Errors
///
/// Returns a [`ParseError`] for input that is not an acceptable message. In a
/// batch, an element that breaks a message rule fails on its own inside
/// [`Parsed::Batch`]; the whole batch fails only for text-level problems and
/// for an empty batch.
///
/// # Examples
///
/// ```
/// use mcpwire_jsonrpc::{ErrorCode, ParseOptions, Parsed, RequestId, parse};
///
/// let parsed = parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, &ParseOptions::default());
/// assert!(matches!(parsed, Ok(Parsed::Single(_))));
///
/// let error = parse(br#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, &ParseOptions::default())
///     .unwrap_err();
/// assert_eq!(error.code(), ErrorCode::INVALID_REQUEST);
/// assert_eq!(error.id(), Some(&RequestId::Number(1)));
/// ```
pub fn parse(bytes: &[u8], options: &ParseOptions) -> Result<Parsed, ParseError> {
    let text = check_text(bytes, options)?;
    match first_byte(text) {
        Some(b'{') => parse_object(text).map(Parsed::Single),
        Some(b'[') if options.allow_batch => parse_batch(text).map(Parsed::Batch),
        Some(b'[') => Err(ParseError::new(Kind::BatchNotAllowed, None)),
        _ => Err(ParseError::new(Kind::NotAnObject, None)),
    }
}

impl Message {
    /// Checks that [`parse`] with `options` would not refuse this message for
    /// its size or its nesting, without encoding it: a sender checks what it
    /// is about to send, so that it can answer a failure itself instead of
    /// sending what its peer would drop without being able to name the
    /// request it answers.
    ///
    /// The encoded size is counted as the message is written to nothing (the
    /// raw params, result and error data are counted, not copied); the raw
    /// members are scanned for their nesting below the levels around them,
    /// and for the escaped lone surrogates the parser refuses as well.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] carrying the message's id: with
    /// [`is_too_large`](ParseError::is_too_large) or
    /// [`is_too_deep`](ParseError::is_too_deep), or a parse error for a lone
    /// surrogate.
    ///
    /// # Examples
    ///
    /// ```
    /// use mcpwire_jsonrpc::{Message, ParseOptions, Response};
    /// use serde_json::value::RawValue;
    ///
    /// let nested = RawValue::from_string("[[[[1]]]]".to_owned()).unwrap();
    /// let response = Message::from(Response::new(7, nested));
    /// let strict = ParseOptions { max_depth: 4, ..ParseOptions::default() };
    /// assert!(response.check_limits(&strict).unwrap_err().is_too_deep());
    /// assert!(response.check_limits(&ParseOptions::default()).is_ok());
    /// ```
    pub fn check_limits(&self, options: &ParseOptions) -> Result<(), ParseError> {
        let id = self.id().cloned();
        let mut counter = ByteCounter(0);
        serde_json::to_writer(&mut counter, self)
            .expect("a message holds only strings, integers and raw JSON, which always serialize");
        if counter.0 > options.max_size {
            let kind = Kind::TooLarge {
                size: counter.0,
                limit: options.max_size,
            };
            return Err(ParseError::new(kind, id));
        }
        // The message object is the first level; error data sits in the error object.
        let (raw, levels_around) = match self {
            Message::Request(Request { params, .. })
            | Message::Notification(Notification { params, .. }) => (params.as_deref(), 1),
            Message::Response(response) => (Some(&*response.result), 1),
            Message::Error(error) => (error.error.data.as_deref(), 2),
        };
        let too_deep = || {
            let kind = Kind::TooDeep {
                limit: options.max_depth,
            };
            ParseError::new(kind, id.clone())
        };
        let Some(budget) = options.max_depth.checked_sub(levels_around) else {
            return Err(too_deep());
        };
        if let Some(raw) = raw {
            scan(raw.get().as_bytes(), budget).map_err(|error| match error.kind {
                Kind::TooDeep { .. } => too_deep(),
                kind => ParseError::new(kind, id.clone()),
            })?;
        }
        Ok(())
    }
}

/// Counts the bytes written to it and keeps none.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Parses exactly one message; arrays are refused whatever `allow_batch`
/// says.
fn parse_single(bytes: &[u8], options: &ParseOptions) -> Result<Message, ParseError> {
    let text = check_text(bytes, options)?;
    match first_byte(text) {
        Some(b'{') => parse_object(text),
        Some(b'[') => Err(ParseError::new(Kind::BatchNotAllowed, None)),
        _ => Err(ParseError::new(Kind::NotAnObject, None)),
    }
}

impl Message {
    /// Parses one message with the default [`ParseOptions`], which reject
    /// batches.
    ///
    /// # Errors
    ///
    /// Returns a [`ParseError`] whose [`code`](ParseError::code) and
    /// [`id`](ParseError::id) are what the error response should carry.
    pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
        parse_single(bytes, &ParseOptions::default())
    }
}

/// Parses with [`Message::parse`].
impl FromStr for Message {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Message::parse(text.as_bytes())
    }
}

/// Runs the text-level checks and returns the input as a string that is
/// known to hold exactly one JSON value.
fn check_text<'a>(bytes: &'a [u8], options: &ParseOptions) -> Result<&'a str, ParseError> {
    if bytes.len() > options.max_size {
        let kind = Kind::TooLarge {
            size: bytes.len(),
            limit: options.max_size,
        };
        return Err(ParseError::new(kind, None));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| ParseError::new(Kind::InvalidUtf8, None))?;
    scan(bytes, options.max_depth)?;
    // Validating the whole text before looking at its structure makes the
    // code depend on the input alone: text that is not JSON always gets
    // -32700, even when a structural problem comes earlier in it. serde_json
    // skips raw values iteratively, so this pass does not recurse either.
    serde_json::from_str::<&RawValue>(text).map_err(|error| {
        // serde_json's syntax messages quote no input, only positions, so
        // lowercasing them (their one capital word is "EOF") loses nothing.
        ParseError::new(Kind::Syntax(error.to_string().to_lowercase()), None)
    })?;
    Ok(text)
}

/// Checks nesting depth and surrogate escapes in one pass over the bytes.
///
/// serde_json accepts an escaped lone surrogate such as `"\ud800"` inside
/// values it skips rather than decodes, and raw params are skipped; this scan
/// refuses them everywhere. The scan tracks strings exactly as JSON defines
/// them; on text that is not JSON it may stop early or miscount, which is
/// harmless because serde_json rejects such text right after.
fn scan(bytes: &[u8], max_depth: usize) -> Result<(), ParseError> {
    let mut depth = 0_usize;
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => {
                index = scan_string(bytes, index + 1)?;
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return Err(ParseError::new(Kind::TooDeep { limit: max_depth }, None));
                }
            }
            // Saturating keeps stray closers in broken text from hiding real
            // depth that follows them.
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        index += 1;
    }
    Ok(())
}

/// Scans a string whose opening quote is just before `start` and returns the
/// index after its closing quote, or the end of the input when it is
/// unterminated.
fn scan_string(bytes: &[u8], start: usize) -> Result<usize, ParseError> {
    let mut index = start;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => return Ok(index + 1),
            b'\\' if bytes.get(index + 1) == Some(&b'u') => {
                index = scan_unicode_escape(bytes, index)?;
            }
            // Any other escape is two bytes long; skipping both keeps an
            // escaped quote or backslash from ending the string.
            b'\\' => index += 2,
            _ => index += 1,
        }
    }
    Ok(bytes.len())
}

/// Checks the `\uXXXX` escape at `index` and returns the index after it, or
/// after the low half when it is a surrogate pair.
fn scan_unicode_escape(bytes: &[u8], index: usize) -> Result<usize, ParseError> {
    let lone_surrogate = || ParseError::new(Kind::LoneSurrogate, None);
    let Some(unit) = hex_unit(bytes, index + 2) else {
        // Malformed escapes are serde_json's to report.
        return Ok(index + 2);
    };
    match unit {
        0xD800..=0xDBFF => {
            let follows_escape = bytes.get(index + 6..index + 8) == Some(b"\\u");
            match hex_unit(bytes, index + 8) {
                Some(0xDC00..=0xDFFF) if follows_escape => Ok(index + 12),
                _ => Err(lone_surrogate()),
            }
        }
        0xDC00..=0xDFFF => Err(lone_surrogate()),
        _ => Ok(index + 6),
    }
}

/// Reads four hex digits at `start` as a UTF-16 code unit.
fn hex_unit(bytes: &[u8], start: usize) -> Option<u16> {
    let digits = bytes.get(start..start + 4)?;
    digits.iter().try_fold(0_u16, |unit, &digit| {
        let value = char::from(digit).to_digit(16)?;
        let value = u16::try_from(value).expect("a hex digit is below 16");
        Some(unit << 4 | value)
    })
}

fn first_byte(text: &str) -> Option<u8> {
    text.bytes().find(|byte| !byte.is_ascii_whitespace())
}

fn parse_batch(text: &str) -> Result<Vec<Result<Message, ParseError>>, ParseError> {
    let elements: Vec<&RawValue> = serde_json::from_str(text)
        .map_err(|error| ParseError::new(Kind::Structure(error.to_string()), None))?;
    if elements.is_empty() {
        return Err(ParseError::new(Kind::EmptyBatch, None));
    }
    let messages = elements
        .into_iter()
        .map(|element| match first_byte(element.get()) {
            Some(b'{') => parse_object(element.get()),
            _ => Err(ParseError::new(Kind::NotAnObject, None)),
        })
        .collect();
    Ok(messages)
}

/// The members of a message object, still raw, as the visitor found them.
#[derive(Default)]
struct Envelope<'a> {
    jsonrpc: Option<&'a RawValue>,
    id: Option<&'a RawValue>,
    method: Option<&'a RawValue>,
    params: Option<&'a RawValue>,
    result: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
    /// Description of the first repeated key.
    duplicate: Option<String>,
    /// Whether `id` itself was repeated, which makes the id unreadable.
    id_repeated: bool,
}

impl<'de> Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

/// Reads maps only, so a positional array can never fill the members.
struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a json-rpc message object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
        let mut envelope = Envelope::default();
        let mut seen = SeenKeys::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            // A repeat is recorded rather than returned at once so the rest
            // of the object is still read and the id can go in the error.
            if !seen.insert(key.clone()) {
                if envelope.duplicate.is_none() {
                    envelope.duplicate = Some(describe_duplicate(&key));
                }
                envelope.id_repeated |= key == "id";
                continue;
            }
            let slot = match key.as_ref() {
                "jsonrpc" => &mut envelope.jsonrpc,
                "id" => &mut envelope.id,
                "method" => &mut envelope.method,
                "params" => &mut envelope.params,
                "result" => &mut envelope.result,
                "error" => &mut envelope.error,
                _ => continue,
            };
            *slot = Some(value);
        }
        Ok(envelope)
    }
}

/// What the `id` member holds.
enum IdMember {
    Absent,
    Null,
    Valid(RequestId),
    Invalid,
}

/// Parses one message object from text already checked by [`check_text`].
fn parse_object(text: &str) -> Result<Message, ParseError> {
    let envelope: Envelope<'_> = serde_json::from_str(text)
        .map_err(|error| ParseError::new(Kind::Structure(error.to_string()), None))?;

    let id_member = match envelope.id {
        _ if envelope.id_repeated => IdMember::Invalid,
        None => IdMember::Absent,
        Some(raw) if raw.get() == "null" => IdMember::Null,
        Some(raw) => match serde_json::from_str::<RequestId>(raw.get()) {
            Ok(id) => IdMember::Valid(id),
            Err(_) => IdMember::Invalid,
        },
    };
    let readable_id = match &id_member {
        IdMember::Valid(id) => Some(id.clone()),
        _ => None,
    };
    let fail = |kind| Err(ParseError::new(kind, readable_id.clone()));

    if let Some(duplicate) = envelope.duplicate {
        return fail(Kind::DuplicateKey(duplicate));
    }
    if let IdMember::Invalid = id_member {
        return Err(ParseError::new(Kind::InvalidId, None));
    }
    if !is_version(envelope.jsonrpc) {
        return fail(Kind::Version);
    }

    match (envelope.method, envelope.result, envelope.error) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => fail(Kind::MethodWithReply),
        (Some(method), None, None) => {
            // A null id must not turn a request into a notification.
            if let IdMember::Null = id_member {
                return Err(ParseError::new(Kind::NullId, None));
            }
            let method = match decode_method(method) {
                Ok(method) => method,
                Err(kind) => return fail(kind),
            };
            let params = match check_params(envelope.params) {
                Ok(params) => params,
                Err(kind) => return fail(kind),
            };
            match id_member {
                IdMember::Valid(id) => Ok(Message::Request(Request { id, method, params })),
                IdMember::Absent => Ok(Message::Notification(Notification { method, params })),
                IdMember::Null | IdMember::Invalid => Err(ParseError::new(Kind::NullId, None)),
            }
        }
        (None, None, None) => fail(Kind::NoMethodOrReply),
        (None, Some(_), Some(_)) => fail(Kind::ResultAndError),
        (None, _, _) if envelope.params.is_some() => fail(Kind::ParamsWithoutMethod),
        (None, Some(result), None) => match id_member {
            IdMember::Valid(id) => Ok(Message::Response(Response {
                id,
                result: result.to_owned(),
            })),
            IdMember::Absent => fail(Kind::MissingResponseId),
            IdMember::Null | IdMember::Invalid => Err(ParseError::new(Kind::NullId, None)),
        },
        (None, None, Some(error)) => match serde_json::from_str::<ErrorObject>(error.get()) {
            // A missing id and a null id both mean the peer could not read
            // the id of the request it is answering.
            Ok(error) => Ok(Message::Error(ErrorResponse {
                id: readable_id,
                error,
            })),
            Err(error) => fail(Kind::InvalidErrorObject(error.to_string())),
        },
    }
}

fn is_version(raw: Option<&RawValue>) -> bool {
    let Some(raw) = raw else {
        return false;
    };
    // The common spelling needs no decoding; an escaped spelling of the same
    // string is still the same string.
    raw.get() == "\"2.0\""
        || serde_json::from_str::<String>(raw.get()).is_ok_and(|version| version == JSONRPC_VERSION)
}

fn decode_method(raw: &RawValue) -> Result<String, Kind> {
    let method = serde_json::from_str::<String>(raw.get())
        .map_err(|_| Kind::InvalidMethod("`method` must be a string"))?;
    if method.is_empty() {
        return Err(Kind::InvalidMethod("`method` must not be empty"));
    }
    Ok(method)
}

fn check_params(raw: Option<&RawValue>) -> Result<Option<Box<RawValue>>, Kind> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    match raw.get().as_bytes().first() {
        Some(b'{') => Ok(Some(raw.to_owned())),
        Some(b'[') => Err(Kind::PositionalParams),
        _ if raw.get() == "null" => Err(Kind::NullParams),
        _ => Err(Kind::ScalarParams),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_counts_depth_outside_strings_only() {
        assert!(scan(br#"[[["[[[[[[[[[[[["]]]"#, 3).is_ok());
        assert!(scan(br#"[[[[]]]]"#, 3).unwrap_err().is_too_deep());
        // An escaped quote does not end the string, so the brackets after it
        // are still inside.
        assert!(scan(br#"["\"[[[[["]"#, 1).is_ok());
        // An escaped backslash does end the escape, so the quote after it
        // closes the string.
        assert!(scan(br#"["\\",[[]]]"#, 2).unwrap_err().is_too_deep());
    }

    #[test]
    fn scan_accepts_surrogate_pairs() {
        scan(br#""\ud83d\ude00""#, 1).unwrap();
        scan(br#""\uD83D\uDE00""#, 1).unwrap();
        scan(br#""\u00e9\u0041\\ud800""#, 1).unwrap();
    }

    #[test]
    fn scan_rejects_lone_surrogates() {
        for text in [
            r#""\ud800""#,
            r#""\udc00""#,
            r#""\ud800\u0041""#,
            r#""\ud800x""#,
            r#""\ud800\ud800""#,
            r#""\ud800\"#,
        ] {
            let error = scan(text.as_bytes(), 1).unwrap_err();
            assert_eq!(error.kind, Kind::LoneSurrogate, "{text}");
        }
    }

    #[test]
    fn hex_unit_reads_four_digits() {
        assert_eq!(hex_unit(b"00e9", 0), Some(0xE9));
        assert_eq!(hex_unit(b"DBFF", 0), Some(0xDBFF));
        assert_eq!(hex_unit(b"12g4", 0), None);
        assert_eq!(hex_unit(b"123", 0), None);
    }

    #[test]
    fn from_str_parses() {
        let message: Message = r#"{"jsonrpc":"2.0","method":"x"}"#.parse().unwrap();
        assert_eq!(message, Message::from(Notification::new("x", None)));
    }
}
