//! Captured webhook bodies, read one at a time: a directory holds one body per `.json` file; a
//! `.json` file is one body; any other file is JSON lines, one body per non-empty line. No body
//! is held in memory past the size limit, however long the line in a hostile file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One captured body, named for messages (`path` or `path:line`).
pub struct Captured {
    pub name: String,
    pub body: Body,
}

pub enum Body {
    Bytes(Vec<u8>),
    /// Longer than the limit: skipped, never read whole.
    TooLarge,
}

/// The files to read, in order: each path as given; a directory's `.json` files by name.
pub fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && is_json(p))
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "{}: no .json files in this directory",
                    path.display()
                ));
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Calls `each` with every body of `file`, in order; `limit` bounds one body's bytes.
pub fn read(
    file: &Path,
    limit: usize,
    mut each: impl FnMut(Captured) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let opened = File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let name = file.display().to_string();
    if is_json(file) {
        let mut body = Vec::new();
        let read = opened.take(limit as u64 + 1).read_to_end(&mut body)?;
        let body = if read > limit {
            Body::TooLarge
        } else {
            Body::Bytes(body)
        };
        return each(Captured { name, body });
    }
    let mut reader = BufReader::new(opened);
    let mut number = 0;
    while let Some(body) = next_line(&mut reader, limit)? {
        number += 1;
        if matches!(&body, Body::Bytes(b) if b.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        each(Captured {
            name: format!("{name}:{number}"),
            body,
        })?;
    }
    Ok(())
}

/// The next line without its newline; `None` at the end. A line past `limit` is consumed
/// without being kept.
fn next_line(reader: &mut impl BufRead, limit: usize) -> std::io::Result<Option<Body>> {
    let mut line = Vec::new();
    let mut too_large = false;
    let mut any = false;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        any = true;
        let (chunk, done) = match buffer.iter().position(|&b| b == b'\n') {
            Some(end) => (&buffer[..end], Some(end + 1)),
            None => (buffer, None),
        };
        if !too_large {
            if line.len() + chunk.len() > limit {
                too_large = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let consumed = done.unwrap_or(buffer.len());
        reader.consume(consumed);
        if done.is_some() {
            break;
        }
    }
    Ok(match (any, too_large) {
        (false, _) => None,
        (true, true) => Some(Body::TooLarge),
        (true, false) => {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            Some(Body::Bytes(line))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], limit: usize) -> Vec<String> {
        let mut reader = std::io::Cursor::new(text.to_vec());
        let mut out = Vec::new();
        while let Some(body) = next_line(&mut reader, limit).unwrap() {
            out.push(match body {
                Body::Bytes(b) => String::from_utf8(b).unwrap(),
                Body::TooLarge => "<too large>".into(),
            });
        }
        out
    }

    #[test]
    fn lines_are_split_bounded_and_crlf_tolerant() {
        assert_eq!(
            lines(b"{}\n{\"a\":1}\r\n\n{}", 100),
            ["{}", "{\"a\":1}", "", "{}"]
        );
        assert_eq!(
            lines(b"{\"long\":\"xxxxxxxxxxxx\"}\n{}\n", 10),
            ["<too large>", "{}"]
        );
        assert!(lines(b"", 10).is_empty());
    }
}
