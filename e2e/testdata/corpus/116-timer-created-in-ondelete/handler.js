// Soft delete with a grace period: deleting a user schedules the purge
// of their data a moment later.
function OnUpdate(doc, meta) {
    profiles[meta.id] = {name: doc.name};
}

function OnDelete(meta, options) {
    createTimer(Purge, new Date(Date.now() + 300), "purge::" + meta.id,
                {user: meta.id, expired: options.expired});
}

function Purge(context) {
    delete profiles[context.user];
    profiles["purged::" + context.user] = {expired: context.expired};
}
