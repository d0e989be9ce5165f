//! A tiny DAG-CBOR encoder for tests: builds stream messages and CAR files the decoders must read.
#![allow(dead_code)]

/// A value to encode.
#[derive(Debug, Clone, PartialEq)]
pub enum C {
    U(u64),
    N(u64),
    B(Vec<u8>),
    T(String),
    A(Vec<C>),
    M(Vec<(String, C)>),
    Link(Vec<u8>),
    Bool(bool),
    Null,
}

pub fn t(s: &str) -> C {
    C::T(s.to_owned())
}

pub fn m(entries: &[(&str, C)]) -> C {
    C::M(entries.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

fn head(major: u8, n: u64, out: &mut Vec<u8>) {
    let major = major << 5;
    match n {
        0..=23 => out.push(major | n as u8),
        24..=0xff => out.extend([major | 24, n as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((n as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend((n as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend(n.to_be_bytes());
        }
    }
}

pub fn encode_into(value: &C, out: &mut Vec<u8>) {
    match value {
        C::U(n) => head(0, *n, out),
        C::N(n) => head(1, *n, out),
        C::B(b) => {
            head(2, b.len() as u64, out);
            out.extend(b);
        }
        C::T(s) => {
            head(3, s.len() as u64, out);
            out.extend(s.as_bytes());
        }
        C::A(items) => {
            head(4, items.len() as u64, out);
            items.iter().for_each(|i| encode_into(i, out));
        }
        C::M(entries) => {
            head(5, entries.len() as u64, out);
            for (k, v) in entries {
                encode_into(&C::T(k.clone()), out);
                encode_into(v, out);
            }
        }
        C::Link(cid) => {
            head(6, 42, out);
            encode_into(&C::B([vec![0], cid.clone()].concat()), out);
        }
        C::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        C::Null => out.push(0xf6),
    }
}

pub fn encode(value: &C) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(value, &mut out);
    out
}

/// A stream message: header then body.
pub fn frame(header: &C, body: &C) -> Vec<u8> {
    [encode(header), encode(body)].concat()
}

/// A message header `{op: 1, t}`.
pub fn header(kind: &str) -> C {
    m(&[("op", C::U(1)), ("t", t(kind))])
}

/// A CIDv1 (dag-cbor, sha2-256) whose digest is `fill` repeated.
pub fn cid(fill: u8) -> Vec<u8> {
    [vec![0x01, 0x71, 0x12, 0x20], vec![fill; 32]].concat()
}

fn varint(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A CAR v1 file holding `blocks`.
pub fn car(blocks: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let header = encode(&m(&[("roots", C::A(vec![])), ("version", C::U(1))]));
    let mut out = Vec::new();
    varint(header.len(), &mut out);
    out.extend(header);
    for (cid, data) in blocks {
        varint(cid.len() + data.len(), &mut out);
        out.extend(cid);
        out.extend(data);
    }
    out
}

/// A post record.
pub fn post_record(text: &str, langs: &[&str], created_at: &str) -> C {
    m(&[
        ("$type", t("app.bsky.feed.post")),
        ("createdAt", t(created_at)),
        ("langs", C::A(langs.iter().map(|l| t(l)).collect())),
        ("text", t(text)),
    ])
}

/// A `#commit` message of `repo` at `seq` with `ops` (`(action, path, cid)`) and `blocks`.
pub fn commit(seq: u64, repo: &str, ops: &[(&str, &str, Option<Vec<u8>>)], blocks: Vec<u8>) -> Vec<u8> {
    let ops = ops
        .iter()
        .map(|(action, path, cid)| {
            m(&[("action", t(action)), ("cid", cid.clone().map_or(C::Null, C::Link)), ("path", t(path))])
        })
        .collect();
    let body = m(&[
        ("blobs", C::A(vec![])),
        ("blocks", C::B(blocks)),
        ("commit", C::Link(cid(0))),
        ("ops", C::A(ops)),
        ("rebase", C::Bool(false)),
        ("repo", t(repo)),
        ("rev", t("3lfixture2a22")),
        ("seq", C::U(seq)),
        ("since", C::Null),
        ("time", t("2026-01-02T03:04:05.678Z")),
        ("tooBig", C::Bool(false)),
    ]);
    frame(&header("#commit"), &body)
}

/// A `#commit` creating one post `rkey` with `text` and `langs`.
pub fn post_commit(seq: u64, repo: &str, rkey: &str, text: &str, langs: &[&str]) -> Vec<u8> {
    let record = encode(&post_record(text, langs, "2026-01-02T03:04:05.678Z"));
    let id = cid((seq % 251) as u8);
    let path = format!("app.bsky.feed.post/{rkey}");
    commit(seq, repo, &[("create", &path, Some(id.clone()))], car(&[(id, record)]))
}
