//! The line protocol: one request per line, one answer per request.
//!
//! | request | answer |
//! |---|---|
//! | `SET key value...` | `OK` (the value is the rest of the line, spaces and all) |
//! | `GET key` | `VALUE value` |
//! | `DEL key` | `OK` (a dictionary goes with everything beneath it) |
//! | `MV source dest` | `OK` |
//! | `LIST [dir]` | one `ENTRY name value` or `ENTRY name dictionary` line per entry, then `END` |
//! | `QUIT` | `BYE`, then the connection closes |
//!
//! Any failure is `ERR kind: message`, the kind being [`mirage_types::ErrorKind`]'s
//! (`ERR NotFound: unknown key: a`), so a client can act on it.

use mirage_types::{Entry, KvError, KvRw};

/// One parsed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<'a> {
    /// `SET key value`.
    Set(&'a str, &'a str),
    /// `GET key`.
    Get(&'a str),
    /// `DEL key`.
    Del(&'a str),
    /// `MV source dest`.
    Mv(&'a str, &'a str),
    /// `LIST [dir]` (the root when absent).
    List(&'a str),
    /// `QUIT`.
    Quit,
}

impl<'a> Request<'a> {
    /// Parses a line (without its newline); the error is the answer to send.
    pub fn parse(line: &'a str) -> Result<Request<'a>, String> {
        let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
        let one = |rest: &'a str| match rest.split_whitespace().collect::<Vec<_>>()[..] {
            [key] => Ok(key),
            _ => Err(format!("ERR InvalidInput: {command} takes one key")),
        };
        match command {
            "SET" => match rest.split_once(' ') {
                Some((key, value)) if !key.is_empty() => Ok(Request::Set(key, value)),
                _ => Err("ERR InvalidInput: SET takes a key and a value".into()),
            },
            "GET" => one(rest).map(Request::Get),
            "DEL" => one(rest).map(Request::Del),
            "MV" => match rest.split_whitespace().collect::<Vec<_>>()[..] {
                [source, dest] => Ok(Request::Mv(source, dest)),
                _ => Err("ERR InvalidInput: MV takes a source and a destination".into()),
            },
            "LIST" => match rest.split_whitespace().collect::<Vec<_>>()[..] {
                [] => Ok(Request::List("/")),
                [dir] => Ok(Request::List(dir)),
                _ => Err("ERR InvalidInput: LIST takes at most one key".into()),
            },
            "QUIT" => Ok(Request::Quit),
            other => Err(format!(
                "ERR InvalidInput: unknown command {other:?} (SET, GET, DEL, MV, LIST, QUIT)"
            )),
        }
    }
}

fn error_line(error: &KvError) -> String {
    format!("ERR {}: {error}", error.kind())
}

/// Carries out `request` on `store`: the answer's lines.
pub async fn answer<K: KvRw>(store: &K, request: &Request<'_>) -> Vec<String> {
    let result = match request {
        Request::Set(key, value) => store
            .set(key, value.as_bytes())
            .await
            .map(|()| vec!["OK".into()]),
        Request::Get(key) => store
            .get(key)
            .await
            .map(|value| vec![format!("VALUE {}", String::from_utf8_lossy(&value))]),
        Request::Del(key) => store.remove(key).await.map(|()| vec!["OK".into()]),
        Request::Mv(source, dest) => store.rename(source, dest).await.map(|()| vec!["OK".into()]),
        Request::List(dir) => store.list(dir).await.map(|entries| {
            let mut lines: Vec<String> = entries
                .into_iter()
                .map(|(name, entry)| {
                    let kind = match entry {
                        Entry::Value => "value",
                        Entry::Dictionary => "dictionary",
                    };
                    format!("ENTRY {name} {kind}")
                })
                .collect();
            lines.push("END".into());
            lines
        }),
        Request::Quit => Ok(vec!["BYE".into()]),
    };
    result.unwrap_or_else(|error| vec![error_line(&error)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_bad_ones_are_answered() {
        assert_eq!(Request::parse("SET a b c"), Ok(Request::Set("a", "b c")));
        assert_eq!(Request::parse("GET a/b"), Ok(Request::Get("a/b")));
        assert_eq!(Request::parse("MV a b"), Ok(Request::Mv("a", "b")));
        assert_eq!(Request::parse("LIST"), Ok(Request::List("/")));
        assert_eq!(Request::parse("QUIT"), Ok(Request::Quit));
        for bad in ["SET a", "GET", "GET a b", "MV a", "LIST a b", "PUT a b", ""] {
            assert!(
                Request::parse(bad)
                    .unwrap_err()
                    .starts_with("ERR InvalidInput"),
                "{bad}"
            );
        }
    }
}
