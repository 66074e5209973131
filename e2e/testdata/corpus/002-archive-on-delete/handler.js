// Archive: when an order is deleted, leave a tombstone record behind.
function OnUpdate(doc, meta) {
    live[meta.id] = {status: doc.status};
}

function OnDelete(meta, options) {
    archive["deleted::" + meta.id] = {
        id: meta.id,
        expired: options.expired,
        cas_is_string: typeof meta.cas === "string"
    };
    delete live[meta.id];
}
