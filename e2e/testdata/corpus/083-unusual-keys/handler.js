// Keys with separators, spaces and non-ASCII characters pass through unchanged.
function OnUpdate(doc, meta) {
    out["copy::" + meta.id] = {id: meta.id, length: meta.id.length};
}
