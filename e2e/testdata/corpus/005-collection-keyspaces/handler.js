// Inventory items live in a named collection; copy them into a collection of another bucket.
function OnUpdate(doc, meta) {
    warehouse_items[meta.id] = {
        sku: doc.sku,
        from_scope: meta.keyspace.scope_name,
        from_collection: meta.keyspace.collection_name
    };
}
