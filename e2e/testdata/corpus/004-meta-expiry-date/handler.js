// Sessions carry an expiry; copy the session with its expiry as seen by the handler.
function OnUpdate(doc, meta) {
    var d = meta.expiry_date;
    sessions_seen[meta.id] = {
        user: doc.user,
        expiration_positive: meta.expiration > 0,
        is_date: d instanceof Date,
        same_instant: d.getTime() === meta.expiration * 1000,
        whole_seconds: d.getTime() % 1000 === 0
    };
}
