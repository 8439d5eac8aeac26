//! Export and import of the iii layout on the command line: the library's documents
//! ([`IiiDocument`]), the import journalled field by field and refused for a document of the
//! other layout.

use std::path::PathBuf;

use motia_state::adapter::journal::After;
use motia_state::adapter::layout::iii::scope_key;
use motia_state::adapter::layout::iii_export::{IiiDocument, document_layout, layout_words};
use motia_state::{Config, Error, IiiState, Layout, escape};

use crate::browser::format::noun;
use crate::cli::input::{read_input, refuse_if_read_only};
use crate::cli::journal::before_write;
use crate::cli::out::{Failure, Out, Outcome, exit, write_document};
use crate::cli::progress::Progress;
use crate::journal::Planned;

/// Refuses a document of the other layout, before anything is written.
pub(crate) fn check_document(text: &str, target: Layout) -> Outcome {
    let found = document_layout(text);
    if found == target {
        return Ok(());
    }
    Err(Failure::new(
        exit::BAD_INPUT,
        format!(
            "refused: the document holds {} and this connection uses the {} layout ({}); \
             importing across layouts is not supported, nothing was written (give --layout {} \
             to import it as it was exported)",
            layout_words(found),
            target,
            layout_words(target),
            found
        ),
    ))
}

/// Writes `scopes` (all, or the one `--trace` named) as an iii document.
pub(crate) async fn export(iii: &IiiState, scopes: &[Vec<u8>], output: Option<PathBuf>) -> Outcome {
    let mut progress = Progress::new("exporting");
    let doc = iii.export(scopes, |d, t| progress.update(d, t)).await?;
    progress.finish();
    write_document(
        output.as_deref(),
        &doc.to_pretty_string(),
        doc.items.len() as u64,
    )
}

pub(crate) async fn import(
    iii: &IiiState,
    config: &Config,
    file: Option<PathBuf>,
    overwrite: bool,
) -> Outcome {
    let text = read_input(file.as_deref(), "the export document")?;
    let head: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Failure::from(Error::invalid_json(&e)))?;
    if head["format"].as_str() != Some(motia_state::export::FORMAT) {
        return Err(Error::InvalidDocument(format!(
            "expected an object with \"format\": \"{}\"",
            motia_state::export::FORMAT
        ))
        .into());
    }
    check_document(&text, Layout::Iii)?;
    let doc = IiiDocument::parse(&text)?;
    refuse_if_read_only(config, "import")?;
    // Refused before the journal is written: the journal keeps writes that happen.
    let mut existing = 0u64;
    for item in &doc.items {
        if iii.get(&item.scope, &item.key).await?.is_some() {
            existing += 1;
            if !overwrite {
                return Err(Failure::new(
                    exit::BAD_INPUT,
                    format!(
                        "refused: key \"{}\" exists already in scope \"{}\" (and maybe more); \
                         nothing was written (use --overwrite to replace existing keys)",
                        escape::name(&item.key),
                        escape::name(&item.scope)
                    ),
                ));
            }
        }
    }
    let changes = doc
        .items
        .iter()
        .map(|item| {
            Planned::field(
                scope_key(&item.scope),
                item.key.clone(),
                After::Value(item.stored()),
            )
        })
        .collect();
    before_write(iii.adapter(), "import", changes).await?;
    let mut progress = Progress::new("importing");
    let done = iii.import(&doc, true, |d, t| progress.update(d, t)).await?;
    progress.finish();
    let (n, t) = (done.written, done.scopes);
    let mut out = Out::new();
    out.line(&format!(
        "imported {n} {} in {t} {} ({existing} replaced existing {})",
        noun(n, "item", "items"),
        noun(t, "scope", "scopes"),
        noun(existing, "key", "keys"),
    ))?;
    out.done()
}
