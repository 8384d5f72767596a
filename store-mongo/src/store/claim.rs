//! Claiming a batch of documents for one claimer without a transaction:
//! the lease-token pattern behind job acquisition and stale journal claims.

use std::collections::HashMap;

use futures::TryStreamExt;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::{doc, Bson, Document};
use mongodb::Collection;

/// One batch claim.
pub(super) struct Claim<'a> {
    /// Where the documents are.
    pub collection: &'a Collection<Document>,
    /// Which documents may be claimed. The claiming update filters on it
    /// again, so a document another claimer took in between is skipped.
    pub claimable: Document,
    /// Candidates are claimed in this order.
    pub order: Document,
    /// At most this many documents.
    pub limit: usize,
    /// The fields the claim sets (a `$set` pipeline stage, so values may
    /// refer to the document's fields before the claim; strings that must
    /// not be read as field paths go through `$literal`).
    pub set: Document,
    /// The field the claim's token goes into.
    pub token_field: &'static str,
    /// What to read back of the claimed documents (`None`: all of them).
    pub projection: Option<Document>,
}

/// The `_id` as a map key (ids are compared by their BSON text).
fn key(id: &Bson) -> String {
    match id {
        Bson::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Claims documents as `claim` says, returning the claimed ones (as read
/// back after the claim) in claim order.
///
/// Three round trips per batch: the candidates' ids in order; one
/// `update_many` that claims those still claimable and marks them with a
/// token of this claim (each document's update is atomic and re-checks the
/// filter, so a document a concurrent claimer took in between is skipped,
/// never claimed twice); and the documents marked with this claim's token.
pub(super) async fn claim_in_order(claim: Claim<'_>) -> mongodb::error::Result<Vec<Document>> {
    if claim.limit == 0 {
        // A find limit of 0 means "no limit" to MongoDB.
        return Ok(Vec::new());
    }
    let candidates: Vec<Document> = claim
        .collection
        .find(claim.claimable.clone())
        .sort(claim.order)
        .limit(i64::try_from(claim.limit).unwrap_or(i64::MAX))
        .projection(doc! { "_id": 1 })
        .await?
        .try_collect()
        .await?;
    let ids: Vec<Bson> = candidates
        .into_iter()
        .filter_map(|mut d| d.remove("_id"))
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let token = ObjectId::new();
    let mut set = claim.set;
    set.insert(claim.token_field, token);
    let mut claimable = claim.claimable;
    claimable.insert("_id", doc! { "$in": ids.clone() });
    claim
        .collection
        .update_many(claimable, vec![doc! { "$set": set }])
        .await?;
    let mut read_back = claim
        .collection
        .find(doc! { "_id": { "$in": ids.clone() }, claim.token_field: token });
    if let Some(projection) = claim.projection {
        read_back = read_back.projection(projection);
    }
    let claimed: Vec<Document> = read_back.await?.try_collect().await?;
    let mut by_id: HashMap<String, Document> = claimed
        .into_iter()
        .filter_map(|d| Some((key(d.get("_id")?), d)))
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(&key(id))).collect())
}
