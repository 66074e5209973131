// Keep a copy of every profile, stamped with where it came from.
function OnUpdate(doc, meta) {
    var copy = JSON.parse(JSON.stringify(doc));
    copy.source_id = meta.id;
    copy.copied = true;
    profiles_copy[meta.id] = copy;
}
