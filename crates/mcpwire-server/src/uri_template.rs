//! Matching URIs against RFC 6570 URI templates, to turn a read of a templated resource into
//! the values of the template's variables.
//!
//! Supported expressions: `{var}` (a value without `/`, `?` or `#`), `{+var}` (reserved
//! expansion: anything up to the next literal), `{#var}` (a fragment), `{/var}` (one path
//! segment), `{.var}` (a label), and `{?a,b}` / `{&a,b}` (query parameters, each optional).
//! Several variables in one simple expression (`{x,y}`) are split on commas. Values are
//! percent-decoded.

use std::collections::BTreeMap;

/// A parsed URI template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UriTemplate {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Expression {
        operator: Option<char>,
        variables: Vec<String>,
    },
}

/// Why a template was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TemplateError(pub(crate) String);

impl UriTemplate {
    pub(crate) fn parse(template: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            match rest.find('{') {
                Some(0) => {
                    let end = rest.find('}').ok_or_else(|| {
                        TemplateError(format!("unclosed expression in {template:?}"))
                    })?;
                    let body = &rest[1..end];
                    let (operator, names) = match body.chars().next() {
                        Some(operator @ ('+' | '#' | '/' | '.' | '?' | '&' | ';')) => {
                            (Some(operator), &body[1..])
                        }
                        _ => (None, body),
                    };
                    if operator == Some(';') {
                        return Err(TemplateError(format!(
                            "path-style parameters are not supported in {template:?}"
                        )));
                    }
                    let variables: Vec<String> = names
                        .split(',')
                        .map(|name| {
                            name.trim_end_matches('*')
                                .split(':')
                                .next()
                                .unwrap_or_default()
                                .to_owned()
                        })
                        .collect();
                    let valid = |name: &String| {
                        !name.is_empty()
                            && name.chars().all(|character| {
                                character.is_ascii_alphanumeric()
                                    || matches!(character, '_' | '.' | '%')
                            })
                    };
                    if !variables.iter().all(valid) {
                        return Err(TemplateError(format!(
                            "invalid variable name in {template:?}"
                        )));
                    }
                    if matches!(parts.last(), Some(Part::Expression { .. }))
                        && !matches!(operator, Some('?' | '&' | '/' | '.' | '#'))
                    {
                        return Err(TemplateError(format!(
                            "two adjacent expressions cannot be told apart in {template:?}"
                        )));
                    }
                    parts.push(Part::Expression {
                        operator,
                        variables,
                    });
                    rest = &rest[end + 1..];
                }
                Some(start) => {
                    parts.push(Part::Literal(rest[..start].to_owned()));
                    rest = &rest[start..];
                }
                None => {
                    parts.push(Part::Literal(rest.to_owned()));
                    rest = "";
                }
            }
        }
        if template.contains('}')
            && !parts
                .iter()
                .any(|part| matches!(part, Part::Expression { .. }))
        {
            return Err(TemplateError(format!(
                "unopened expression in {template:?}"
            )));
        }
        Ok(UriTemplate { parts })
    }

    /// The names of the template's variables, in order.
    pub(crate) fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().flat_map(|part| match part {
            Part::Expression { variables, .. } => {
                variables.iter().map(String::as_str).collect::<Vec<_>>()
            }
            Part::Literal(_) => Vec::new(),
        })
    }

    /// Matches `uri`, returning the value of each variable that appears in it.
    pub(crate) fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        let mut values = BTreeMap::new();
        let mut rest = uri;
        for (index, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(literal) => rest = rest.strip_prefix(literal.as_str())?,
                Part::Expression {
                    operator,
                    variables,
                } => {
                    let next_literal = self.parts[index + 1..].iter().find_map(|part| match part {
                        Part::Literal(literal) => Some(literal.as_str()),
                        Part::Expression { .. } => None,
                    });
                    rest = match_expression(*operator, variables, rest, next_literal, &mut values)?;
                }
            }
        }
        rest.is_empty().then_some(values)
    }
}

fn match_expression<'a>(
    operator: Option<char>,
    variables: &[String],
    input: &'a str,
    next_literal: Option<&str>,
    values: &mut BTreeMap<String, String>,
) -> Option<&'a str> {
    let stop_characters: &[char] = match operator {
        None => &['/', '?', '#'],
        Some('/' | '.') => &['/', '?', '#'],
        Some('+') => &['?', '#'],
        _ => &[],
    };
    match operator {
        Some('?' | '&') => {
            let prefix = if operator == Some('?') { '?' } else { '&' };
            let Some(query) = input.strip_prefix(prefix) else {
                return Some(input);
            };
            let end = query.find('#').unwrap_or(query.len());
            for pair in query[..end].split('&') {
                let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                if variables.iter().any(|variable| variable == name) {
                    values.insert(name.to_owned(), percent_decode(value)?);
                }
            }
            Some(&query[end..])
        }
        _ => {
            let body = match operator {
                Some(symbol @ ('#' | '/' | '.')) => input.strip_prefix(symbol)?,
                _ => input,
            };
            let limit = match next_literal {
                Some(literal) if !literal.is_empty() => body.find(literal).unwrap_or(body.len()),
                _ => body.len(),
            };
            let limit = body[..limit].find(stop_characters).unwrap_or(limit);
            let text = &body[..limit];
            if text.is_empty() {
                return None;
            }
            let pieces: Vec<&str> = if variables.len() > 1 {
                text.splitn(variables.len(), ',').collect()
            } else {
                vec![text]
            };
            for (variable, piece) in variables.iter().zip(pieces) {
                values.insert(variable.clone(), percent_decode(piece)?);
            }
            Some(&body[limit..])
        }
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let high = (*bytes.get(index + 1)? as char).to_digit(16)?;
            let low = (*bytes.get(index + 2)? as char).to_digit(16)?;
            decoded.push(u8::try_from(high * 16 + low).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matched(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
        UriTemplate::parse(template)
            .expect("valid")
            .matches(uri)
            .map(|values| values.into_iter().collect())
    }

    fn pairs(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn simple_variables_match_one_segment() {
        assert_eq!(
            matched("weather://{city}/current", "weather://Oslo/current"),
            pairs(&[("city", "Oslo")])
        );
        assert_eq!(
            matched("weather://{city}/current", "weather://a/b/current"),
            None
        );
        assert_eq!(
            matched("users://{id}", "users://42"),
            pairs(&[("id", "42")])
        );
        assert_eq!(matched("users://{id}", "users://"), None);
        assert_eq!(matched("users://{id}", "other://42"), None);
        assert_eq!(
            matched("docs://{name}", "docs://hello%20world"),
            pairs(&[("name", "hello world")])
        );
        assert_eq!(
            matched("grid://{x,y}", "grid://3,4"),
            pairs(&[("x", "3"), ("y", "4")])
        );
    }

    #[test]
    fn reserved_expansion_takes_slashes() {
        assert_eq!(
            matched("file:///{+path}", "file:///src/main.rs"),
            pairs(&[("path", "src/main.rs")])
        );
        assert_eq!(
            matched("repo://{owner}/{+path}", "repo://me/a/b.txt"),
            pairs(&[("owner", "me"), ("path", "a/b.txt")])
        );
    }

    #[test]
    fn path_fragment_and_query_expressions() {
        assert_eq!(
            matched("api://v1{/resource}", "api://v1/items"),
            pairs(&[("resource", "items")])
        );
        assert_eq!(
            matched("doc://page{#section}", "doc://page#intro"),
            pairs(&[("section", "intro")])
        );
        assert_eq!(
            matched("search://items{?q,limit}", "search://items?q=rust&limit=5"),
            pairs(&[("limit", "5"), ("q", "rust")])
        );
        assert_eq!(
            matched("search://items{?q,limit}", "search://items"),
            pairs(&[])
        );
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!(UriTemplate::parse("x://{unclosed").is_err());
        assert!(UriTemplate::parse("x://{a}{b}").is_err());
        assert!(UriTemplate::parse("x://{bad name}").is_err());
        assert_eq!(
            UriTemplate::parse("x://{a}/{+b}{?c}")
                .expect("valid")
                .variables()
                .collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }
}
