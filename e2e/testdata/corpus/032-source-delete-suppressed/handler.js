// A queue consumer: process each message, then remove it from the source keyspace.
// Its own deletes must not reach OnDelete.
function OnUpdate(doc, meta) {
    processed[meta.id] = {payload: doc.payload};
    delete queue[meta.id];
}

function OnDelete(meta, options) {
    processed["deleted::" + meta.id] = {expired: options.expired};
}
