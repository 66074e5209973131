function OnUpdate(doc, meta) {
    out["update::" + meta.id] = {flags: meta.flags, datatype: meta.datatype};
}

function OnDelete(meta, options) {
    out["delete::" + meta.id] = {flags: meta.flags, datatype: meta.datatype, expiration: meta.expiration};
}
