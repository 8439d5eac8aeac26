//! Following the iii layout's changes. A keyspace event on `state:{scope}` (`hset`, `hdel`,
//! `del`, `hexpired`, ...) names the scope, never the field: a [`ScopeTracker`] re-reads the
//! scope and compares it with what it saw last, which tells the fields added, changed and
//! removed.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use crate::adapter::error::{Error, Result};
use crate::adapter::keys::KeySpace;
use crate::adapter::layout::iii::{IiiState, SCOPE_PREFIX, covers_hashes};
use crate::adapter::live::{LiveOptions, LiveSubscription};

impl IiiState {
    /// Follows changes of scope hashes (`__keyspace@{db}__:state:*`). An event names the
    /// scope (`hset`, `hdel`, `del`, ...), never the field: re-read the scope to see what
    /// changed ([`ScopeTracker`]). Needs the notification flags K and h
    /// ([`covers_hashes`]); with `check_setting` the subscription reports a setting that no
    /// longer has them. `buffer`, `reconnect` and `check_setting` of `options` apply;
    /// `trace` and `key` (a 0.x trace and key) are refused, since events cannot be narrowed
    /// to a field: keep the scopes and fields wanted after re-reading.
    ///
    /// ```no_run
    /// use motia_state::live::{LiveMessage, LiveOptions};
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut live = state.iii().subscribe(LiveOptions::default()).await?;
    /// if let LiveMessage::Event(ev) = live.next().await? {
    ///     println!("{} on {}", ev.event, ev.key);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn subscribe(&self, options: LiveOptions) -> Result<LiveSubscription> {
        if options.trace.is_some() || options.key.is_some() {
            return Err(Error::Config {
                name: "LiveOptions".into(),
                reason: "on the iii layout an event names a scope's hash, not a field: \
                         subscribe without trace or key and keep what is wanted after \
                         re-reading the scope"
                    .into(),
            });
        }
        // The 0.x subscription passes on events of keys named like its trace records
        // (`{trace_prefix}{id}`, no `:` needed): with `state:` as both prefixes, a scope is such
        // an id, and the two channel patterns are one.
        let mut scopes = self.adapter().clone();
        scopes.keys = KeySpace::new(SCOPE_PREFIX.to_string());
        scopes.config.key_prefix = SCOPE_PREFIX.into();
        scopes.config.trace_prefix = SCOPE_PREFIX.into();
        let sub = LiveSubscription::open(
            &scopes,
            LiveOptions {
                trace_records: true,
                ..options
            },
        )
        .await?;
        Ok(sub.covered_by(covers_hashes))
    }
}

/// One field found changed by [`ScopeTracker::reread`].
///
/// ```
/// use motia_state::adapter::layout::iii_live::FieldChange;
/// let c = FieldChange { field: b"o-1".to_vec(), value: None };
/// assert!(c.value.is_none()); // removed
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The field (the engine's key), exact bytes.
    pub field: Vec<u8>,
    /// Its value as stored now; `None` when it was removed.
    pub value: Option<Vec<u8>>,
}

/// What was last seen of each scope (field -> a hash of its value), to turn an event on a
/// scope into the fields it changed. Keeps 8 bytes and the name per field, never values.
///
/// ```no_run
/// use motia_state::adapter::layout::iii_live::ScopeTracker;
/// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
/// let iii = state.iii();
/// let mut seen = ScopeTracker::default();
/// seen.reread(&iii, b"orders").await?; // the first read is the baseline
/// // ... an event on state:orders arrives ...
/// for c in seen.reread(&iii, b"orders").await? {
///     println!("{} {}", String::from_utf8_lossy(&c.field), if c.value.is_some() { "set" } else { "del" });
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct ScopeTracker {
    hasher: RandomState,
    scopes: HashMap<Vec<u8>, HashMap<Vec<u8>, u64>>,
}

impl ScopeTracker {
    /// Reads `scope` again (HSCAN pages, never HGETALL) and returns the fields set (new or
    /// changed) in the hash's own order, then the fields removed, sorted. A scope never read
    /// before returns every field. A scope gone returns every field it had, as removed.
    ///
    /// ```no_run
    /// # async fn demo(state: motia_state::RedisStateAdapter) -> motia_state::Result<()> {
    /// let mut seen = motia_state::adapter::layout::iii_live::ScopeTracker::default();
    /// let all = seen.reread(&state.iii(), "carts").await?;
    /// # Ok(()) }
    /// ```
    pub async fn reread(
        &mut self,
        iii: &IiiState,
        scope: impl AsRef<[u8]>,
    ) -> Result<Vec<FieldChange>> {
        let scope = scope.as_ref();
        let mut pages = iii.scan_fields(scope)?;
        let before = self.scopes.get(scope);
        let mut changes = Vec::new();
        let mut after = HashMap::with_capacity(before.map_or(0, HashMap::len));
        while let Some(page) = pages.next_page().await? {
            for (field, value) in page {
                // HSCAN may repeat a field while the hash is rehashed.
                if after.contains_key(&field) {
                    continue;
                }
                let h = self.hasher.hash_one(&value);
                if before.and_then(|b| b.get(&field)) != Some(&h) {
                    changes.push(FieldChange {
                        field: field.clone(),
                        value: Some(value),
                    });
                }
                after.insert(field, h);
            }
        }
        let mut gone: Vec<Vec<u8>> = before
            .map(|b| {
                b.keys()
                    .filter(|k| !after.contains_key(*k))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        gone.sort();
        changes.extend(
            gone.into_iter()
                .map(|field| FieldChange { field, value: None }),
        );
        if after.is_empty() {
            self.scopes.remove(scope);
        } else {
            self.scopes.insert(scope.to_vec(), after);
        }
        Ok(changes)
    }

    /// The scopes seen with fields at their last read.
    ///
    /// ```
    /// let seen = motia_state::adapter::layout::iii_live::ScopeTracker::default();
    /// assert_eq!(seen.scopes().count(), 0);
    /// ```
    pub fn scopes(&self) -> impl Iterator<Item = &[u8]> {
        self.scopes.keys().map(Vec::as_slice)
    }

    /// Fields remembered, over every scope (its memory grows with this).
    ///
    /// ```
    /// let seen = motia_state::adapter::layout::iii_live::ScopeTracker::default();
    /// assert_eq!(seen.fields(), 0);
    /// ```
    pub fn fields(&self) -> usize {
        self.scopes.values().map(HashMap::len).sum()
    }
}
