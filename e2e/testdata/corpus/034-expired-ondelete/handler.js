// Session expiry audit: when a session document expires, record it.
function OnUpdate(doc, meta) {
    audit["seen::" + meta.id] = {user: doc.user};
}

function OnDelete(meta, options) {
    audit["gone::" + meta.id] = {expired: options.expired};
}
