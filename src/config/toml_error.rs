//! Turn serde/toml errors into one line that names the key and suggests the closest valid one.

/// `line L, column C: unknown field `x` (did you mean `y`?); expected one of …`.
pub fn describe(err: &toml::de::Error, text: &str) -> String {
    let msg = err.message().trim().to_string();
    let location = err
        .span()
        .map(|s| {
            let before = &text[..s.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: ")
        })
        .unwrap_or_default();
    let hint = unknown_and_expected(&msg)
        .map(|(unknown, expected)| {
            crate::suggest::hint(&unknown, expected.iter().map(String::as_str))
        })
        .unwrap_or_default();
    format!("{location}{msg}{hint}")
}

/// From "unknown field `x`, expected one of `a`, `b`" (or "unknown variant"), the name and the list.
fn unknown_and_expected(msg: &str) -> Option<(String, Vec<String>)> {
    let rest = msg
        .strip_prefix("unknown field `")
        .or_else(|| msg.strip_prefix("unknown variant `"))?;
    let (unknown, tail) = rest.split_once('`')?;
    let expected = tail
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    Some((unknown.to_string(), expected))
}
