//! Figures of the iii layout: fields and bytes per scope, the biggest scopes and fields. No
//! ages: the layout keeps no records and the engine sets no TTL.

use serde::Serialize;

use crate::adapter::error::Result;
use crate::adapter::layout::IiiState;
use crate::adapter::layout::iii::scope_of;

/// How many of the biggest scopes and fields are kept.
pub const TOP: usize = 10;

/// One scope's size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeSize {
    /// The scope (lossy UTF-8 for display; exact names come from [`IiiState::scopes`]).
    pub scope: String,
    /// Its fields.
    pub fields: u64,
    /// Bytes of its field names and values.
    pub bytes: u64,
    /// The scope's exact bytes (to reach it again; not in the JSON, which has `scope`).
    #[serde(skip)]
    pub scope_bytes: Vec<u8>,
}

/// One field's size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldSize {
    /// Its scope.
    pub scope: String,
    /// The field (the key).
    pub key: String,
    /// Bytes of its value.
    pub bytes: u64,
    /// The scope's exact bytes (not in the JSON).
    #[serde(skip)]
    pub scope_bytes: Vec<u8>,
    /// The field's exact bytes (not in the JSON).
    #[serde(skip)]
    pub key_bytes: Vec<u8>,
}

/// Figures of every scope and stream group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IiiStats {
    /// Scopes (`state:*` hashes).
    pub scopes: u64,
    /// Fields over every scope.
    pub fields: u64,
    /// Bytes of field names and values over every scope.
    pub bytes: u64,
    /// The biggest scopes by bytes, biggest first.
    pub biggest_scopes: Vec<ScopeSize>,
    /// The biggest fields by value bytes, biggest first.
    pub biggest_fields: Vec<FieldSize>,
    /// Stream groups (`stream:*` hashes).
    pub stream_groups: u64,
    /// Items over every stream group.
    pub stream_items: u64,
}

fn keep_top<T>(list: &mut Vec<T>, key: impl Fn(&T) -> u64) {
    list.sort_by_key(|t| std::cmp::Reverse(key(t)));
    list.truncate(TOP);
}

impl IiiState {
    /// Reads every scope's fields once (HSCAN) and every stream group's size (HLEN);
    /// `progress(scopes done, scopes found)` after each scope.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let s = state.iii().stats(|_, _| {}).await?;
    /// println!("{} fields in {} scopes", s.fields, s.scopes);
    /// # Ok(()) }
    /// ```
    pub async fn stats(&self, mut progress: impl FnMut(u64, u64)) -> Result<IiiStats> {
        let keys = self.scan_scopes().collect_all().await?;
        let mut s = IiiStats::default();
        let total = keys.len() as u64;
        // Owned names: a future holding borrowed slices across awaits is not `Send` for every
        // lifetime, which a spawned task (the browser's worker) needs.
        for (i, key) in keys.into_iter().enumerate() {
            let Some(scope) = scope_of(&key).map(<[u8]>::to_vec) else {
                continue;
            };
            let name = String::from_utf8_lossy(&scope).into_owned();
            let mut scan = self.scan_fields(&scope)?;
            let (mut fields, mut bytes) = (0, 0);
            while let Some(page) = scan.next_page().await? {
                for (f, v) in page {
                    fields += 1;
                    bytes += (f.len() + v.len()) as u64;
                    if s.biggest_fields.len() >= TOP * 4 {
                        keep_top(&mut s.biggest_fields, |f| f.bytes);
                    }
                    s.biggest_fields.push(FieldSize {
                        scope: name.clone(),
                        key: String::from_utf8_lossy(&f).into_owned(),
                        bytes: v.len() as u64,
                        scope_bytes: scope.to_vec(),
                        key_bytes: f,
                    });
                }
            }
            s.scopes += 1;
            s.fields += fields;
            s.bytes += bytes;
            s.biggest_scopes.push(ScopeSize {
                scope: name,
                fields,
                bytes,
                scope_bytes: scope,
            });
            if s.biggest_scopes.len() >= TOP * 4 {
                keep_top(&mut s.biggest_scopes, |f| f.bytes);
            }
            progress(i as u64 + 1, total);
        }
        keep_top(&mut s.biggest_fields, |f| f.bytes);
        keep_top(&mut s.biggest_scopes, |f| f.bytes);
        let groups = self.scan_stream_groups().collect_all().await?;
        s.stream_groups = groups.len() as u64;
        s.stream_items = self.field_counts_of_keys(&groups).await?.iter().sum();
        Ok(s)
    }
}
