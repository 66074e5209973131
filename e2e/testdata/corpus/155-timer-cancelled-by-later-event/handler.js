// Session expiry: a login schedules the session's expiry; a logout (the
// session document deleted) cancels it.
function OnUpdate(doc, meta) {
    createTimer(ExpireSession, new Date(Date.now() + 2000), "session::" + meta.id, {session: meta.id});
}

function OnDelete(meta, options) {
    var cancelled = cancelTimer(ExpireSession, "session::" + meta.id);
    audit["logout::" + meta.id] = {cancelled: cancelled};
}

function ExpireSession(context) {
    audit["expired::" + context.session] = {expired: true};
}
