//! CAR v1 files (the `blocks` of a `#commit` event): a varint-length DAG-CBOR header
//! `{version: 1, roots: [CID]}`, then sections, each a varint length followed by a CID and the
//! block's bytes. Only indexing: blocks are borrowed from the input, CIDs are parsed to find where
//! each block starts, and hashes are not recomputed (see the module doc of `bluesky`).

use super::cbor;
use std::collections::HashMap;
use std::fmt;

/// The most blocks one CAR file may hold (a commit carries its records and the changed MST nodes;
/// relays cap a commit at 200 operations).
pub const MAX_BLOCKS: usize = 10_000;

/// Why a CAR file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CarError {
    /// A varint is malformed or longer than 64 bits.
    Varint,
    /// A length points past the end of the file.
    Truncated,
    /// The header is not `{version: 1, roots: [...]}`.
    Header(String),
    /// A section does not start with a CID.
    Cid,
    /// More than [`MAX_BLOCKS`] blocks.
    TooManyBlocks,
}

impl fmt::Display for CarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CarError::Varint => f.write_str("malformed varint in CAR"),
            CarError::Truncated => f.write_str("truncated CAR"),
            CarError::Header(why) => write!(f, "bad CAR header: {why}"),
            CarError::Cid => f.write_str("malformed CID in CAR"),
            CarError::TooManyBlocks => write!(f, "more than {MAX_BLOCKS} blocks in CAR"),
        }
    }
}

impl std::error::Error for CarError {}

/// The blocks of a CAR file, by CID bytes.
#[derive(Debug, Default)]
pub struct Blocks<'a> {
    by_cid: HashMap<&'a [u8], &'a [u8]>,
}

impl<'a> Blocks<'a> {
    /// Indexes a CAR v1 file.
    pub fn read(car: &'a [u8]) -> Result<Blocks<'a>, CarError> {
        let (header, mut rest) = section(car)?;
        check_header(header)?;
        let mut by_cid = HashMap::new();
        while !rest.is_empty() {
            if by_cid.len() == MAX_BLOCKS {
                return Err(CarError::TooManyBlocks);
            }
            let (body, after) = section(rest)?;
            let cid_len = cid_length(body)?;
            by_cid.insert(&body[..cid_len], &body[cid_len..]);
            rest = after;
        }
        Ok(Blocks { by_cid })
    }

    /// The block whose CID is `cid` (binary, without multibase prefix).
    pub fn get(&self, cid: &[u8]) -> Option<&'a [u8]> {
        self.by_cid.get(cid).copied()
    }

    /// How many blocks the file holds.
    pub fn len(&self) -> usize {
        self.by_cid.len()
    }

    /// Whether the file holds no block.
    pub fn is_empty(&self) -> bool {
        self.by_cid.is_empty()
    }
}

fn check_header(header: &[u8]) -> Result<(), CarError> {
    let value = cbor::decode(header).map_err(|e| CarError::Header(e.to_string()))?;
    if value.get("version").and_then(cbor::Value::as_i64) != Some(1) {
        return Err(CarError::Header("version is not 1".into()));
    }
    if value.get("roots").and_then(cbor::Value::as_array).is_none() {
        return Err(CarError::Header("no roots".into()));
    }
    Ok(())
}

/// One varint-length-prefixed section: its bytes and what follows.
fn section(input: &[u8]) -> Result<(&[u8], &[u8]), CarError> {
    let (len, used) = varint(input)?;
    let rest = &input[used..];
    let len = usize::try_from(len).map_err(|_| CarError::Truncated)?;
    if len > rest.len() {
        return Err(CarError::Truncated);
    }
    Ok(rest.split_at(len))
}

/// An unsigned LEB128 varint (multiformats): its value and how many bytes it took.
pub fn varint(input: &[u8]) -> Result<(u64, usize), CarError> {
    let mut value = 0u64;
    for (i, byte) in input.iter().enumerate().take(10) {
        let bits = u64::from(byte & 0x7f);
        if i == 9 && bits > 1 {
            return Err(CarError::Varint);
        }
        value |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(CarError::Varint)
}

/// How many bytes the CID at the start of `input` takes: CIDv0 (a bare sha2-256 multihash,
/// `0x12 0x20` + 32 bytes) or CIDv1 (version, codec, then a multihash: code, length, digest).
pub fn cid_length(input: &[u8]) -> Result<usize, CarError> {
    if input.starts_with(&[0x12, 0x20]) {
        return if input.len() >= 34 { Ok(34) } else { Err(CarError::Cid) };
    }
    let mut pos = 0;
    let mut next = |input: &[u8]| -> Result<u64, CarError> {
        let (value, used) = varint(input.get(pos..).ok_or(CarError::Cid)?).map_err(|_| CarError::Cid)?;
        pos += used;
        Ok(value)
    };
    if next(input)? != 1 {
        return Err(CarError::Cid);
    }
    let _codec = next(input)?;
    let _hash = next(input)?;
    let digest = usize::try_from(next(input)?).map_err(|_| CarError::Cid)?;
    let end = pos.checked_add(digest).filter(|end| *end <= input.len()).ok_or(CarError::Cid)?;
    Ok(end)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `bafyrei…`-style CIDv1: version 1, dag-cbor (0x71), sha2-256 (0x12), 32 bytes.
    fn cid(fill: u8) -> Vec<u8> {
        [vec![0x01, 0x71, 0x12, 0x20], vec![fill; 32]].concat()
    }

    fn car(blocks: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
        // {"roots": [], "version": 1}
        let header =
            [0xa2, 0x65, b'r', b'o', b'o', b't', b's', 0x80, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 1];
        let mut out = vec![header.len() as u8];
        out.extend_from_slice(&header);
        for (cid, data) in blocks {
            out.push((cid.len() + data.len()) as u8);
            out.extend_from_slice(cid);
            out.extend_from_slice(data);
        }
        out
    }

    #[test]
    fn indexes_blocks_by_cid() {
        let file = car(&[(cid(1), vec![0xf6]), (cid(2), vec![0x01, 0x02])]);
        let blocks = Blocks::read(&file).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks.get(&cid(1)), Some(&[0xf6][..]));
        assert_eq!(blocks.get(&cid(2)), Some(&[0x01, 0x02][..]));
        assert_eq!(blocks.get(&cid(3)), None);
    }

    #[test]
    fn refuses_malformed_files() {
        let good = car(&[(cid(1), vec![0xf6])]);
        assert_eq!(Blocks::read(&good[..good.len() - 1]).unwrap_err(), CarError::Truncated);
        assert_eq!(Blocks::read(&[]).unwrap_err(), CarError::Varint);
        assert_eq!(Blocks::read(&[0xff; 11]).unwrap_err(), CarError::Varint);
        assert!(matches!(Blocks::read(&[0x01, 0xf6]).unwrap_err(), CarError::Header(_)));
        let mut bad_cid = car(&[(vec![0x02, 0x71, 0x12, 0x01, 0x00], vec![])]);
        assert_eq!(Blocks::read(&bad_cid).unwrap_err(), CarError::Cid);
        bad_cid = car(&[(vec![0x01, 0x71, 0x12, 0x20, 0x00], vec![])]);
        assert_eq!(Blocks::read(&bad_cid).unwrap_err(), CarError::Cid, "digest longer than the section");
    }

    #[test]
    fn varints() {
        assert_eq!(varint(&[0x00]), Ok((0, 1)));
        assert_eq!(varint(&[0x7f]), Ok((127, 1)));
        assert_eq!(varint(&[0x80, 0x01]), Ok((128, 2)));
        assert_eq!(varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), Ok((u64::MAX, 10)));
        assert_eq!(varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]), Err(CarError::Varint));
        assert_eq!(varint(&[0x80]), Err(CarError::Varint));
    }
}
