// OnDelete gets no body, so keep a shadow copy on update and move it to the archive on delete.
function OnUpdate(doc, meta) {
    shadow[meta.id] = doc;
}

function OnDelete(meta, options) {
    var last = shadow[meta.id];
    if (last === undefined) return;
    last.archived_because = options.expired ? "expired" : "deleted";
    archive[meta.id] = last;
    delete shadow[meta.id];
}
