//! An export item as JSON: every byte string as UTF-8 text when it is, else in a base64
//! field of its own, and the checks that a read item is one thing only.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use super::{ExportData, ExportItem, join, split};

/// The item as it is written in the document: every byte string as UTF-8 text when it is,
/// else in a base64 field of its own.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_id_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name_base64: Option<String>,
    // `"value": null` is the JSON null, not an absent value.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present_raw"
    )]
    value: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    raw_base64: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    redis_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dump_base64: Option<String>,
    #[serde(default)]
    ttl_seconds: Option<u64>,
}

fn present_raw<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

/// Puts bytes in the text field when they are UTF-8, else base64 in the other.
fn text_or_base64(bytes: &[u8]) -> (Option<String>, Option<String>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (Some(s.to_string()), None),
        Err(_) => (None, Some(BASE64.encode(bytes))),
    }
}

impl Serialize for ExportItem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut w = WireItem {
            ttl_seconds: self.ttl_seconds,
            ..WireItem::default()
        };
        match split(&self.name) {
            Some((g, k)) => {
                (w.group_id, w.group_id_base64) = text_or_base64(g);
                (w.key, w.key_base64) = text_or_base64(k);
            }
            None => (w.name, w.name_base64) = text_or_base64(&self.name),
        }
        match &self.data {
            ExportData::Json(v) => w.value = Some(v.clone()),
            ExportData::Text(t) => w.raw = Some(t.clone()),
            ExportData::Bytes(b) => w.raw_base64 = Some(BASE64.encode(b)),
            ExportData::Other { redis_type, dump } => {
                w.redis_type = Some(redis_type.clone());
                w.dump_base64 = Some(BASE64.encode(dump));
            }
        }
        w.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ExportItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let w = WireItem::deserialize(d)?;
        let bytes = |text: Option<String>, b64: Option<String>, field: &str| match (text, b64) {
            (Some(t), None) => Ok(Some(t.into_bytes())),
            (None, Some(b)) => BASE64
                .decode(b.as_bytes())
                .map(Some)
                .map_err(|e| D::Error::custom(format!("{field}Base64 is not base64: {e}"))),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(D::Error::custom(format!(
                "\"{field}\" and \"{field}Base64\" are both given"
            ))),
        };
        let group = bytes(w.group_id, w.group_id_base64, "groupId")?;
        let key = bytes(w.key, w.key_base64, "key")?;
        let name = bytes(w.name, w.name_base64, "name")?;
        let name = match (group, key, name) {
            (Some(g), Some(k), None) => {
                crate::adapter::keys::validate_group(&g)
                    .map_err(|e| D::Error::custom(e.to_string()))?;
                join(&g, &k)
            }
            (None, None, Some(n)) => n,
            _ => {
                return Err(D::Error::custom(
                    "needs \"groupId\" and \"key\" (or their Base64 forms), or \"name\"",
                ));
            }
        };
        let data = match (w.value, w.raw, w.raw_base64, w.redis_type, w.dump_base64) {
            (Some(v), None, None, None, None) => ExportData::Json(v),
            (None, Some(t), None, None, None) => ExportData::Text(t),
            (None, None, Some(b), None, None) => ExportData::Bytes(
                BASE64
                    .decode(b.as_bytes())
                    .map_err(|e| D::Error::custom(format!("rawBase64 is not base64: {e}")))?,
            ),
            (None, None, None, Some(t), Some(b)) => ExportData::Other {
                redis_type: t,
                dump: BASE64
                    .decode(b.as_bytes())
                    .map_err(|e| D::Error::custom(format!("dumpBase64 is not base64: {e}")))?,
            },
            _ => {
                return Err(D::Error::custom(
                    "needs exactly one of \"value\", \"raw\", \"rawBase64\", or \"redisType\" with \"dumpBase64\"",
                ));
            }
        };
        Ok(Self {
            name,
            data,
            ttl_seconds: w.ttl_seconds,
        })
    }
}
