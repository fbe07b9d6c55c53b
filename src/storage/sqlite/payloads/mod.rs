//! Stored payloads, compressed (issue 19). An email event's `event_data` is either JSON text (the
//! events stored before, kept plain, and payloads that do not shrink) or a zstd frame
//! compressed with one of the dictionaries in `payload_dictionaries`. The frame's header names
//! its dictionary, so every row stays readable whichever dictionary was newest when it was
//! written; the column's CHECK admits nothing else. Smartlead payloads repeat their keys, URLs
//! and wording from one delivery to the next, which is what a dictionary captures: ~1 KiB of
//! JSON becomes a few hundred bytes, and the rows are the larger part of the file.
//!
//! Only `email_events` is compressed: kept events and held deliveries are a small share.

mod dictionaries;
pub mod recompress;
pub mod schema;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;
use zstd::bulk::{Compressor, Decompressor};

use super::StorageError;
use crate::storage::records::PayloadForm;
pub use dictionaries::{newest_version, train};

/// The level new payloads are compressed at: with a dictionary, higher levels save a few
/// percent for several times the CPU of the writer thread.
const LEVEL: i32 = 3;

/// Shorter payloads stay text: a frame's header and a lookup are not worth a few bytes (and
/// the pruned marker stays what `prune` and its readers compare with).
const MIN_COMPRESSED_BYTES: usize = 64;

/// The largest payload a frame may claim to hold (the webhook's body limit is far below): a
/// corrupted header must not make a read allocate gigabytes.
const MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;

/// zstd's frame magic number, as the first four bytes of every stored frame.
pub const FRAME_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// One database file's codec: the dictionary new payloads are written with (the newest, once
/// [`Payloads::adopt_newest`] has looked) and the decoders of every dictionary a read has met.
pub struct Payloads {
    encoder: RwLock<Option<Arc<Encoder>>>,
    decoders: Mutex<HashMap<u32, Arc<Mutex<Decompressor<'static>>>>>,
}

struct Encoder {
    version: i64,
    zstd_id: u32,
    compressor: Mutex<Compressor<'static>>,
}

impl Payloads {
    /// The codec for the database `conn` is open on (at the latest schema). A file without a
    /// dictionary (none trained, schema before compression) stores payloads as JSON text.
    pub fn load(conn: &Connection) -> Result<Self, StorageError> {
        let newest = dictionaries::newest(conn)?;
        Self::with(newest)
    }

    fn with(dictionary: Option<dictionaries::Dictionary>) -> Result<Self, StorageError> {
        let encoder = dictionary.map(Encoder::new).transpose()?.map(Arc::new);
        Ok(Self {
            encoder: RwLock::new(encoder),
            decoders: Mutex::new(HashMap::new()),
        })
    }

    /// Switches to the file's newest dictionary if one was added since (`payloads train`, by
    /// another process): one indexed read per call, for the ingest. A codec writing text (no
    /// dictionaries, or a pass back to text) stays as it is.
    pub fn adopt_newest(&self, conn: &Connection) -> Result<(), StorageError> {
        let Some(current) = self.version() else {
            return Ok(());
        };
        let newest: Option<i64> = conn
            .prepare_cached("SELECT max(version) FROM payload_dictionaries")?
            .query_row([], |row| row.get(0))?;
        if newest.is_some_and(|newest| newest > current) {
            if let Some(dictionary) = dictionaries::newest(conn)? {
                tracing::info!(
                    version = dictionary.version,
                    "compressing new payloads with a newer dictionary"
                );
                *self.encoder.write().unwrap_or_else(|p| p.into_inner()) =
                    Some(Arc::new(Encoder::new(dictionary)?));
            }
        }
        Ok(())
    }

    fn encoder(&self) -> Option<Arc<Encoder>> {
        self.encoder
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The codec that writes `form` (for a recompression pass).
    pub fn for_form(conn: &Connection, form: PayloadForm) -> Result<Self, StorageError> {
        match form {
            PayloadForm::Newest => Self::load(conn),
            PayloadForm::Text => Ok(Self::plain()),
        }
    }

    /// Plain JSON text both ways: for a file at a schema without dictionaries.
    pub fn plain() -> Self {
        Self {
            encoder: RwLock::new(None),
            decoders: Mutex::new(HashMap::new()),
        }
    }

    /// The version of the dictionary new payloads are compressed with, if any.
    pub fn version(&self) -> Option<i64> {
        self.encoder().map(|e| e.version)
    }

    /// Whether `stored` is already what [`Payloads::encode`] writes: a frame of this codec's
    /// dictionary, or text this codec would not compress.
    pub fn is_current(&self, stored: ValueRef<'_>) -> bool {
        match (stored, self.encoder()) {
            (ValueRef::Text(_), None) => true,
            (ValueRef::Text(text), Some(_)) => text.len() < MIN_COMPRESSED_BYTES,
            (ValueRef::Blob(frame), Some(encoder)) => {
                zstd::zstd_safe::get_dict_id_from_frame(frame).map(|id| id.get())
                    == Some(encoder.zstd_id)
            }
            _ => false,
        }
    }

    /// What to store for `json`: its frame when that is smaller, else the text itself.
    pub fn encode(&self, json: &str) -> Result<Value, StorageError> {
        let Some(encoder) = self.encoder() else {
            return Ok(Value::Text(json.to_owned()));
        };
        if json.len() < MIN_COMPRESSED_BYTES {
            return Ok(Value::Text(json.to_owned()));
        }
        let frame = encoder
            .compressor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .compress(json.as_bytes())
            .map_err(codec_error)?;
        Ok(if frame.len() < json.len() {
            Value::Blob(frame)
        } else {
            Value::Text(json.to_owned())
        })
    }

    /// The JSON text of a stored `event_data`, loading the frame's dictionary from `conn` the
    /// first time one is met.
    pub fn decode(&self, conn: &Connection, stored: ValueRef<'_>) -> Result<String, StorageError> {
        let frame = match stored {
            ValueRef::Text(text) => return Ok(String::from_utf8_lossy(text).into_owned()),
            ValueRef::Blob(frame) => frame,
            _ => return Err(unreadable("an event_data that is neither text nor a frame")),
        };
        let id = zstd::zstd_safe::get_dict_id_from_frame(frame)
            .ok_or_else(|| unreadable("a payload frame without a dictionary id"))?
            .get();
        let decoder = self.decoder(conn, id)?;
        let size = zstd::zstd_safe::get_frame_content_size(frame)
            .ok()
            .flatten()
            .filter(|&n| n as usize <= MAX_PAYLOAD_BYTES)
            .ok_or_else(|| unreadable("a payload frame without a plausible size"))?;
        let bytes = decoder
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .decompress(frame, size as usize)
            .map_err(|e| StorageError::Database(Box::new(e)))?;
        String::from_utf8(bytes).map_err(|e| StorageError::Database(Box::new(e)))
    }

    fn decoder(
        &self,
        conn: &Connection,
        id: u32,
    ) -> Result<Arc<Mutex<Decompressor<'static>>>, StorageError> {
        let mut decoders = self
            .decoders
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(decoder) = decoders.get(&id) {
            return Ok(decoder.clone());
        }
        let bytes = dictionaries::by_zstd_id(conn, id)?.ok_or_else(|| {
            unreadable("a payload frame names a dictionary the file does not have")
        })?;
        let decoder = Arc::new(Mutex::new(
            Decompressor::with_dictionary(&bytes).map_err(codec_error)?,
        ));
        decoders.insert(id, decoder.clone());
        Ok(decoder)
    }
}

impl Encoder {
    fn new(dictionary: dictionaries::Dictionary) -> Result<Self, StorageError> {
        Ok(Self {
            version: dictionary.version,
            zstd_id: dictionary.zstd_id,
            compressor: Mutex::new(
                Compressor::with_dictionary(LEVEL, &dictionary.bytes).map_err(codec_error)?,
            ),
        })
    }
}

fn codec_error(err: std::io::Error) -> StorageError {
    StorageError::Database(Box::new(err))
}

/// A payload that cannot be read back. Not [`StorageError::Corrupt`], which stops every write
/// to protect the file's B-trees: one unreadable payload endangers nothing else, and the
/// deliveries must go on being stored. The read that met it fails (a 500, logged).
fn unreadable(what: &'static str) -> StorageError {
    StorageError::Database(what.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_at_latest() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrations::to_latest(&mut conn).unwrap();
        conn
    }

    #[test]
    fn a_payload_is_stored_as_a_frame_and_read_back_as_the_same_text() {
        let conn = file_at_latest();
        let payloads = Payloads::load(&conn).unwrap();
        let json = r#"{"event_type":"EMAIL_SENT","campaign_id":3701245,"to_email":"a@b.example","app_url":"https://app.smartlead.ai/app/master-inbox?leadMap=3871204456"}"#;
        let Value::Blob(frame) = payloads.encode(json).unwrap() else {
            panic!("a payload with the built-in dictionary's words is compressed");
        };
        assert!(frame.len() * 2 < json.len(), "{} bytes", frame.len());
        assert_eq!(frame[..4], FRAME_MAGIC);
        let text = payloads.decode(&conn, ValueRef::Blob(&frame)).unwrap();
        assert_eq!(text, json);
    }

    #[test]
    fn what_does_not_shrink_stays_text() {
        let conn = file_at_latest();
        let payloads = Payloads::load(&conn).unwrap();
        assert_eq!(payloads.encode("{}").unwrap(), Value::Text("{}".into()));
        assert_eq!(payloads.decode(&conn, ValueRef::Text(b"{}")).unwrap(), "{}");
    }

    #[test]
    fn a_frame_naming_an_unknown_dictionary_fails_its_read_without_stopping_writes() {
        let conn = file_at_latest();
        let payloads = Payloads::load(&conn).unwrap();
        let other = zstd::dict::from_samples(
            &(0..200)
                .map(|i| format!(r#"{{"other":{i},"shape":"unlike any payload {i}"}}"#))
                .collect::<Vec<_>>(),
            1024,
        )
        .unwrap();
        let frame = Compressor::with_dictionary(3, &other)
            .unwrap()
            .compress(br#"{"other":7,"shape":"unlike any payload 7"}"#)
            .unwrap();
        let err = payloads.decode(&conn, ValueRef::Blob(&frame)).unwrap_err();
        assert!(matches!(err, StorageError::Database(_)), "{err:?}");
        assert!(err.fault().is_none(), "{err:?}");
        let err = payloads
            .decode(&conn, ValueRef::Blob(&FRAME_MAGIC))
            .unwrap_err();
        assert!(matches!(err, StorageError::Database(_)), "{err:?}");
        assert!(err.fault().is_none(), "{err:?}");
    }
}
