//! iii stream groups behind the browser's names (see `browser::stream_name`): the index walk
//! of `stream:*` hashes, and an item's read, save and delete through the library's stream
//! functions, so every change is also PUBLISHed on `stream::events` as the engine does.

use motia_state::adapter::layout::streams::{StreamGroup, check_item_id};
use motia_state::{CasOutcome, IiiState};

use crate::browser::action::WriteOutcome;
use crate::browser::stream_name;
use crate::browser::worker::iii_batches::{Batches, Stopped};
use crate::browser::worker::raw_key;

/// Why a TTL is refused on stream items.
pub const NO_TTL: &str = "stream items have no TTL: the iii engine keeps them until deleted";

/// One stream item: its group and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub group: StreamGroup,
    pub id: String,
}

/// The stream item a model name `state:\s{stream}\x3a{group}:{id}` stands for; `None` for a
/// name that is not a stream item's, an error for one the engine could not name (not UTF-8).
pub fn item(shown: &str) -> Option<Result<Item, String>> {
    let rest = shown.strip_prefix(motia_state::adapter::layout::SCOPE_PREFIX)?;
    let (group, id) = rest.split_once(':')?;
    let key = stream_name::redis_key(group)?;
    let Some(group) = StreamGroup::from_key(&key) else {
        return Some(Err(format!(
            "stream group {} is not UTF-8: the engine names its streams in text",
            stream_name::label(group)
        )));
    };
    let raw = raw_key(id);
    Some(
        check_item_id(&raw)
            .map(|id| Item {
                group: group.clone(),
                id: id.to_string(),
            })
            .map_err(|e| e.to_string()),
    )
}

/// Every stream group's items (SCAN stream:* TYPE hash, then HSCAN of each), after the scopes.
pub async fn walk(iii: &IiiState, out: &mut Batches) -> Result<(), Stopped> {
    let mut groups = iii.scan_stream_groups();
    loop {
        let page = match groups.next_page().await {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(()),
            Err(e) => return Err(out.fail(e).await),
        };
        for key in page {
            let (Some(name), Some(group)) =
                (stream_name::group_name(&key), StreamGroup::from_key(&key))
            else {
                continue;
            };
            let items = iii.scan_stream_items(&group);
            let named = |id: &[u8]| {
                let id = motia_state::escape::name(id);
                format!("{}{name}:{id}", motia_state::adapter::layout::SCOPE_PREFIX)
            };
            out.hash(items, named).await?;
        }
    }
}

/// An item's stored text.
pub async fn get(iii: &IiiState, item: &Item) -> Result<Option<Vec<u8>>, String> {
    iii.get_stream_item(&item.group, &item.id)
        .await
        .map_err(|e| e.to_string())
}

/// A save: compare-and-set against the bytes loaded (`None`: a new item), then the engine's
/// `create`/`update` event.
pub async fn save(
    iii: &IiiState,
    item: &Item,
    expected: Option<&[u8]>,
    text: &str,
) -> Result<WriteOutcome, String> {
    match iii
        .compare_and_set_stream_item(&item.group, &item.id, expected, text)
        .await
        .map_err(|e| e.to_string())?
    {
        CasOutcome::Written => Ok(WriteOutcome::Saved),
        CasOutcome::Conflict(now) => Ok(WriteOutcome::Conflict(now)),
    }
}

/// A delete, with the engine's `delete` event; true when the item was there.
pub async fn delete(iii: &IiiState, item: &Item) -> Result<bool, String> {
    iii.delete_stream_item(&item.group, &item.id)
        .await
        .map(|old| old.is_some())
        .map_err(|e| e.to_string())
}
